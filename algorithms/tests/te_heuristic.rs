//! The min-MLU heuristic against the exact LP, and the two baselines.

mod te_common;

use edgeflow_algorithms::te::heuristic::{ecmp, min_mlu, shortest};
use edgeflow_algorithms::te::{lp, mlu, Demand, Network, TeError};
use te_common::*;

/// MLU of the heuristic and of the LP on one instance.
fn both(net: &Network, ds: &[Demand]) -> (f64, f64) {
    let h = min_mlu(net, ds).unwrap();
    assert!(h.fits(ds, 1e-9), "heuristic split is a valid split");
    let l = lp::min_mlu(net, ds).unwrap();
    (mlu(net, ds, &h), mlu(net, ds, &l))
}

#[test]
fn parallel_links_with_background_match_the_lp() {
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let ds = demands(&g, &[(n[0], n[1], 10.0)], 2);
    let net = Network::new(vec![10.0, 10.0, 30.0, 30.0], vec![2.0, 0.0, 0.0, 0.0]).unwrap();
    let (h, l) = both(&net, &ds);
    // (2 + 10a) / 10 = 10(1 - a) / 30: a = 0.1, MLU 0.3.
    assert!((l - 0.3).abs() < 1e-6);
    assert!(h >= l - 1e-9 && h <= l * 1.001, "heuristic {h} vs LP {l}");
}

#[test]
fn competing_demands_on_a_triangle_match_the_lp() {
    let (g, n) = graph(3, &[(0, 2), (0, 1), (1, 2)]);
    let net = Network::new(vec![10.0; 6], vec![0.0; 6]).unwrap();
    let ds = demands(&g, &[(n[0], n[2], 12.0), (n[1], n[2], 12.0)], 2);
    let (h, l) = both(&net, &ds);
    assert!(h <= l * 1.001, "heuristic {h} vs LP {l}");
}

#[test]
fn within_five_percent_of_the_lp_on_random_fat_trees() {
    let mut worst: f64 = 1.0;
    for seed in 0..6 {
        let (k, share) = if seed < 4 { (4, 0.7) } else { (6, 0.3) };
        let (net, ds) = fat_tree_instance(k, 4, share, seed);
        let (h, l) = both(&net, &ds);
        assert!(h >= l - 1e-6, "LP is optimal: heuristic {h} vs LP {l}");
        assert!(h <= 1.05 * l, "seed {seed}: heuristic {h} vs LP {l}");
        worst = worst.max(h / l);
    }
    println!("worst heuristic / LP: {worst:.4}");
}

#[test]
fn heuristic_never_does_worse_than_ecmp() {
    for seed in 10..14 {
        let (net, ds) = fat_tree_instance(4, 4, 0.8, seed);
        let h = mlu(&net, &ds, &min_mlu(&net, &ds).unwrap());
        assert!(h <= mlu(&net, &ds, &ecmp(&ds)) + 1e-12);
    }
}

#[test]
fn ecmp_splits_evenly_over_equal_cost_paths_only() {
    let (g, _, edge) = fat_tree(4);
    let ds = demands(&g, &[(edge[0], edge[4], 1.0), (edge[0], edge[1], 1.0)], 5);
    let s = ecmp(&ds);
    assert_eq!(s.weights[0], [0.25, 0.25, 0.25, 0.25, 0.0]);
    assert_eq!(s.weights[1].iter().filter(|w| **w == 0.5).count(), 2);
    assert!(s.fits(&ds, 1e-12));
}

#[test]
fn shortest_puts_everything_on_the_first_path() {
    let (g, _, edge) = fat_tree(4);
    let ds = demands(&g, &[(edge[0], edge[4], 1.0)], 3);
    assert_eq!(shortest(&ds).weights, vec![vec![1.0, 0.0, 0.0]]);
}

#[test]
fn invalid_input_is_an_error() {
    let (net, mut ds) = fat_tree_instance(4, 2, 0.2, 3);
    ds[0].paths.clear();
    assert_eq!(min_mlu(&net, &ds), Err(TeError::NoPaths { demand: 0 }));
    assert_eq!(min_mlu(&net, &[]).unwrap().weights.len(), 0);
}
