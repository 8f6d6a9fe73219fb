//! Properties on random instances: the LP is optimal, the heuristic stays
//! within 5 % of it on fat-tree-like fabrics, quantised weights sum to W.

mod te_common;

use edgeflow_algorithms::te::heuristic::{self, ecmp, shortest};
use edgeflow_algorithms::te::quantize::quantize_split;
use edgeflow_algorithms::te::{lp, mlu, Demand, Network};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeIndexable;
use proptest::prelude::*;
use te_common::*;

/// LP, heuristic, ECMP and shortest-path MLU on one instance.
fn compare(net: &Network, ds: &[Demand]) -> (f64, f64, f64, f64) {
    let l = lp::min_mlu(net, ds).unwrap();
    let h = heuristic::min_mlu(net, ds).unwrap();
    assert!(l.fits(ds, 1e-9) && h.fits(ds, 1e-9));
    (
        mlu(net, ds, &l),
        mlu(net, ds, &h),
        mlu(net, ds, &ecmp(ds)),
        mlu(net, ds, &shortest(ds)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn lp_is_optimal_on_random_small_instances(
        links in proptest::collection::vec((0usize..6, 0usize..6, 1.0f64..20.0, 0.0f64..5.0), 5..14),
        pairs in proptest::collection::vec((0usize..6, 0usize..6, 0.0f64..15.0), 1..6),
        k in 1usize..5,
    ) {
        let links: Vec<_> = links.into_iter().filter(|l| l.0 != l.1).collect();
        let (g, n) = graph(6, &links.iter().map(|l| (l.0, l.1)).collect::<Vec<_>>());
        let capacity: Vec<f64> = links.iter().flat_map(|l| [l.2, l.2]).collect();
        let background: Vec<f64> = links.iter().flat_map(|l| [l.3, 0.5 * l.3]).collect();
        let net = Network::new(capacity, background).unwrap();
        let pairs: Vec<(NodeIndex, NodeIndex, f64)> = pairs
            .iter()
            .filter(|p| p.0 != p.1)
            .map(|p| (n[p.0], n[p.1], p.2))
            .collect();
        let ds: Vec<Demand> = demands(&g, &pairs, k)
            .into_iter()
            .filter(|d| !d.paths.is_empty())
            .collect();
        let (l, h, e, s) = compare(&net, &ds);
        prop_assert!(h >= l - 1e-6, "heuristic {} below LP {}", h, l);
        prop_assert!(l <= e + 1e-9 && l <= s + 1e-9, "LP {} vs ECMP {} / shortest {}", l, e, s);
        prop_assert!(h <= e + 1e-9, "heuristic {} worse than its ECMP start {}", h, e);
        prop_assert!(h <= 1.05 * l + 1e-9, "heuristic {} vs LP {}", h, l);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn heuristic_within_five_percent_on_fat_tree_like_fabrics(
        seed in any::<u64>(),
        paths in 2usize..=4,
        share in 0.2f64..1.0,
        failures in proptest::collection::vec(0usize..32, 0..4),
    ) {
        // A 4-ary fat-tree with random capacities, background, demands and
        // up to three failed links (both directions removed).
        let (mut g, _, _) = fat_tree(4);
        for f in &failures {
            let e = EdgeIndex::new(2 * f);
            if g.remove_edge(e).is_some() {
                g.remove_edge(EdgeIndex::new(2 * f + 1));
            }
        }
        let (net0, ds0) = fat_tree_instance(4, paths, share, seed);
        let pairs: Vec<_> = ds0.iter().map(|d| (d.src, d.dst, d.rate)).collect();
        let ds: Vec<Demand> = demands(&g, &pairs, paths)
            .into_iter()
            .filter(|d| !d.paths.is_empty())
            .collect();
        let m = g.edge_bound();
        let net = Network::new(net0.capacity()[..m].to_vec(), net0.background()[..m].to_vec())
            .unwrap()
            .with_headroom(1.2)
            .unwrap();
        let (l, h, _, _) = compare(&net, &ds);
        prop_assert!(h >= l - 1e-6, "heuristic {} below LP {}", h, l);
        prop_assert!(h <= 1.05 * l, "heuristic {} vs LP {}", h, l);
        let split = heuristic::min_mlu(&net, &ds).unwrap();
        for b in quantize_split(&split, 100).unwrap() {
            if !b.weights.is_empty() {
                prop_assert_eq!(b.weights.iter().map(|&w| u32::from(w)).sum::<u32>(), 100);
                prop_assert!(b.max_error < 0.01);
            }
        }
    }
}
