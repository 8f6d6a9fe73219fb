//! The exact min-MLU LP on instances whose optimum is known by hand.

mod te_common;

use edgeflow_algorithms::te::heuristic::ecmp;
use edgeflow_algorithms::te::lp::min_mlu;
use edgeflow_algorithms::te::{mlu, Demand, Network, Path, Split, TeError};
use petgraph::stable_graph::EdgeIndex;
use te_common::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// Two switches joined by two links; one demand of `rate` from 0 to 1.
/// Edges 0 and 2 are the two links' forward directions.
fn parallel(cap: [f64; 2], bg: [f64; 2], rate: f64) -> (Network, Vec<Demand>) {
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let net = Network::new(
        vec![cap[0], cap[0], cap[1], cap[1]],
        vec![bg[0], 0.0, bg[1], 0.0],
    );
    (net.unwrap(), demands(&g, &[(n[0], n[1], rate)], 4))
}

/// Weight on edge 0's path (the first link).
fn on_first_link(d: &Demand, s: &[f64]) -> f64 {
    d.paths
        .iter()
        .zip(s)
        .filter(|(p, _)| p.edges == [EdgeIndex::new(0)])
        .map(|(_, w)| w)
        .sum()
}

#[test]
fn equal_parallel_links_split_evenly() {
    let (net, ds) = parallel([10.0, 10.0], [0.0, 0.0], 10.0);
    let s = min_mlu(&net, &ds).unwrap();
    assert!(s.fits(&ds, 1e-9));
    assert!(close(on_first_link(&ds[0], &s.weights[0]), 0.5), "{s:?}");
    assert!(close(mlu(&net, &ds, &s), 0.5));
}

#[test]
fn asymmetric_capacities_split_in_proportion() {
    let (net, ds) = parallel([10.0, 30.0], [0.0, 0.0], 20.0);
    let s = min_mlu(&net, &ds).unwrap();
    assert!(close(on_first_link(&ds[0], &s.weights[0]), 0.25), "{s:?}");
    assert!(close(mlu(&net, &ds, &s), 0.5));
}

#[test]
fn background_moves_weight_to_the_other_path() {
    // 4 + 10a = 10(1 - a) on equal links: a = 0.3, MLU 0.7.
    let (net, ds) = parallel([10.0, 10.0], [4.0, 0.0], 10.0);
    let s = min_mlu(&net, &ds).unwrap();
    assert!(close(on_first_link(&ds[0], &s.weights[0]), 0.3), "{s:?}");
    assert!(close(mlu(&net, &ds, &s), 0.7));
}

#[test]
fn headroom_scales_the_background_it_plans_for() {
    // Background 4 planned at 1.5 × = 6: 6 + 10a = 10(1 - a), a = 0.2.
    let (net, ds) = parallel([10.0, 10.0], [4.0, 0.0], 10.0);
    let net = net.with_headroom(1.5).unwrap();
    let s = min_mlu(&net, &ds).unwrap();
    assert!(close(on_first_link(&ds[0], &s.weights[0]), 0.2), "{s:?}");
    assert!(close(mlu(&net, &ds, &s), 0.8));
    assert!(matches!(
        Network::new(vec![1.0], vec![0.0])
            .unwrap()
            .with_headroom(0.9),
        Err(TeError::BadHeadroom(_))
    ));
}

#[test]
fn competing_demands_share_the_fabric() {
    // A triangle: 0 -> 2 directly or via 1; 1 -> 2 directly or via 0.
    let (g, n) = graph(3, &[(0, 2), (0, 1), (1, 2)]);
    let net = Network::new(vec![10.0; 6], vec![0.0; 6]).unwrap();
    let ds = demands(&g, &[(n[0], n[2], 12.0), (n[1], n[2], 12.0)], 2);
    let s = min_mlu(&net, &ds).unwrap();
    // 24 units into node 2 over two links of 10: 1.2 at best.
    assert!(close(mlu(&net, &ds, &s), 1.2), "{s:?}");
}

#[test]
fn lp_beats_or_ties_ecmp_on_a_fat_tree() {
    let (net, ds) = fat_tree_instance(4, 4, 0.5, 7);
    let s = min_mlu(&net, &ds).unwrap();
    assert!(s.fits(&ds, 1e-9));
    let (opt, base) = (mlu(&net, &ds, &s), mlu(&net, &ds, &ecmp(&ds)));
    assert!(opt <= base + 1e-9, "LP {opt} vs ECMP {base}");
}

#[test]
fn empty_and_trivial_inputs_need_no_solver() {
    let net = Network::new(vec![10.0; 4], vec![0.0; 4]).unwrap();
    assert_eq!(min_mlu(&net, &[]).unwrap(), Split { weights: vec![] });
    // A zero-rate demand with no path is fine; it has nothing to route.
    let (g, n) = graph(2, &[(0, 1)]);
    let mut ds = demands(&g, &[(n[0], n[1], 0.0)], 2);
    ds[0].paths.clear();
    assert_eq!(min_mlu(&net, &ds).unwrap().weights, vec![Vec::<f64>::new()]);
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let (net, ds) = parallel([10.0, 10.0], [0.0, 0.0], 10.0);
    let mut no_path = ds.clone();
    no_path[0].paths.clear();
    assert_eq!(min_mlu(&net, &no_path), Err(TeError::NoPaths { demand: 0 }));
    let mut bad_rate = ds.clone();
    bad_rate[0].rate = f64::NAN;
    assert!(matches!(
        min_mlu(&net, &bad_rate),
        Err(TeError::BadRate { .. })
    ));
    let mut far_edge = ds.clone();
    far_edge[0].paths.push(Path {
        edges: vec![EdgeIndex::new(99)],
        cost: 1.0,
    });
    assert_eq!(
        min_mlu(&net, &far_edge),
        Err(TeError::UnknownEdge {
            demand: 0,
            edge: 99
        })
    );
    let zero = Network::new(vec![0.0, 10.0, 10.0, 10.0], vec![0.0; 4]).unwrap();
    assert_eq!(
        min_mlu(&zero, &ds),
        Err(TeError::UnknownEdge { demand: 0, edge: 0 })
    );
    assert!(matches!(
        Network::new(vec![1.0], vec![]),
        Err(TeError::LengthMismatch { .. })
    ));
    assert!(matches!(
        Network::new(vec![f64::INFINITY], vec![0.0]),
        Err(TeError::BadCapacity { .. })
    ));
    assert!(matches!(
        Network::new(vec![1.0], vec![-1.0]),
        Err(TeError::BadBackground { .. })
    ));
}
