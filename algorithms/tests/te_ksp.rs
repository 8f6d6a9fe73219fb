//! Yen's k shortest paths against known answers and a brute-force search.

mod te_common;

use edgeflow_algorithms::te::{k_shortest_paths, Path, Searcher};
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use proptest::prelude::*;
use std::collections::HashSet;
use te_common::*;

fn unit(_: EdgeIndex) -> f64 {
    1.0
}

/// Wikipedia's example for Yen's algorithm: C D E F G H are nodes 0..6.
fn yen_example() -> (StableDiGraph<usize, ()>, Vec<NodeIndex>, Vec<f64>) {
    let arcs = [
        (0, 1, 3.0), // C-D
        (0, 2, 2.0), // C-E
        (1, 3, 4.0), // D-F
        (2, 1, 1.0), // E-D
        (2, 3, 2.0), // E-F
        (2, 4, 3.0), // E-G
        (3, 4, 2.0), // F-G
        (3, 5, 1.0), // F-H
        (4, 5, 2.0), // G-H
    ];
    let (g, n) = digraph(6, &arcs.map(|(a, b, _)| (a, b)));
    (g, n, arcs.map(|a| a.2).to_vec())
}

#[test]
fn yen_example_gives_known_paths_in_cost_order() {
    let (g, n, w) = yen_example();
    let paths = k_shortest_paths(&g, n[0], n[5], 10, |e| w[e.index()]);
    let got: Vec<(Vec<usize>, f64)> = paths
        .iter()
        .map(|p| (nodes_of(&g, n[0], &p.edges), p.cost))
        .collect();
    let want = vec![
        (vec![0, 2, 3, 5], 5.0),
        (vec![0, 2, 4, 5], 7.0),
        // Three paths cost 8; ties go by edge indices along the path.
        (vec![0, 1, 3, 5], 8.0),
        (vec![0, 2, 1, 3, 5], 8.0),
        (vec![0, 2, 3, 4, 5], 8.0),
        (vec![0, 1, 3, 4, 5], 11.0),
        (vec![0, 2, 1, 3, 4, 5], 11.0),
    ];
    assert_eq!(got, want);
}

#[test]
fn fat_tree_has_four_equal_cost_inter_pod_paths_then_longer_ones() {
    let (g, _, edge) = fat_tree(4);
    let paths = k_shortest_paths(&g, edge[0], edge[4], 6, unit);
    assert_eq!(paths.len(), 6);
    let costs: Vec<f64> = paths.iter().map(|p| p.cost).collect();
    assert_eq!(costs, [4.0, 4.0, 4.0, 4.0, 6.0, 6.0]);
    let cores: HashSet<usize> = paths[..4]
        .iter()
        .map(|p| nodes_of(&g, edge[0], &p.edges)[2])
        .collect();
    assert_eq!(cores.len(), 4, "the four shortest paths use the four cores");
    let mut uplinks: Vec<usize> = paths[..4].iter().map(|p| p.edges[0].index()).collect();
    uplinks.sort_unstable();
    uplinks.dedup();
    assert_eq!(uplinks.len(), 2, "equal-cost ties prefer disjoint paths");
    for p in &paths {
        assert_loopless(&g, edge[0], edge[4], &p.edges);
    }
    // Within a pod: two 2-hop paths through either aggregation switch.
    let intra = k_shortest_paths(&g, edge[0], edge[1], 2, unit);
    assert_eq!(intra.iter().map(|p| p.cost).collect::<Vec<_>>(), [2.0, 2.0]);
}

#[test]
fn four_paths_on_an_8_ary_fat_tree_spread_over_uplinks_and_cores() {
    let (g, _, edge) = fat_tree(8);
    let paths = k_shortest_paths(&g, edge[0], edge[31], 4, unit);
    let hops: Vec<Vec<usize>> = paths
        .iter()
        .map(|p| nodes_of(&g, edge[0], &p.edges))
        .collect();
    let distinct = |i: usize| hops.iter().map(|h| h[i]).collect::<HashSet<_>>().len();
    assert_eq!(paths.iter().map(|p| p.cost).collect::<Vec<_>>(), [4.0; 4]);
    assert_eq!(
        distinct(1),
        4,
        "four aggregation switches upstream: {hops:?}"
    );
    assert_eq!(distinct(2), 4, "four cores");
    assert_eq!(distinct(3), 4, "four aggregation switches downstream");
}

#[test]
fn unreachable_destination_gives_no_paths() {
    let (g, n) = graph(3, &[(0, 1)]);
    assert!(k_shortest_paths(&g, n[0], n[2], 3, unit).is_empty());
    // A one-way arc cannot be walked backwards.
    let (g, n) = digraph(2, &[(0, 1)]);
    assert!(k_shortest_paths(&g, n[1], n[0], 3, unit).is_empty());
}

#[test]
fn k_larger_than_the_number_of_paths_returns_them_all() {
    // A square: exactly two loopless paths between opposite corners.
    let (g, n) = graph(4, &[(0, 1), (1, 2), (2, 3), (3, 0)]);
    let paths = k_shortest_paths(&g, n[0], n[2], 50, unit);
    assert_eq!(paths.len(), 2);
    assert!(k_shortest_paths(&g, n[0], n[2], 0, unit).is_empty());
}

#[test]
fn same_source_and_destination_is_the_empty_path() {
    let (g, n) = graph(2, &[(0, 1)]);
    let want = vec![Path {
        edges: vec![],
        cost: 0.0,
    }];
    assert_eq!(k_shortest_paths(&g, n[0], n[0], 4, unit), want);
}

#[test]
fn non_finite_and_negative_costs_remove_the_edge() {
    // Two parallel links; the cheap one has a NaN cost in one direction.
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let w = [f64::NAN, 1.0, 2.0, 2.0];
    let paths = k_shortest_paths(&g, n[0], n[1], 5, |e| w[e.index()]);
    assert_eq!(paths.len(), 1);
    assert_eq!(paths[0].edges, vec![EdgeIndex::new(2)]);
    let w = [-1.0, 1.0, f64::INFINITY, 2.0];
    assert!(k_shortest_paths(&g, n[0], n[1], 5, |e| w[e.index()]).is_empty());
}

#[test]
fn parallel_links_are_distinct_paths() {
    let (g, n) = graph(3, &[(0, 1), (0, 1), (1, 2)]);
    let paths = k_shortest_paths(&g, n[0], n[2], 5, unit);
    assert_eq!(paths.len(), 2);
    assert_ne!(paths[0].edges, paths[1].edges);
}

#[test]
fn removed_nodes_and_edges_are_skipped() {
    let (mut g, n) = graph(4, &[(0, 1), (1, 3), (0, 2), (2, 3)]);
    g.remove_node(n[1]);
    let paths = k_shortest_paths(&g, n[0], n[3], 3, unit);
    assert_eq!(paths.len(), 1);
    assert_eq!(nodes_of(&g, n[0], &paths[0].edges), [0, 2, 3]);
}

/// Every loopless path's cost from `src` to `dst`, by depth-first search.
fn all_path_costs(
    g: &StableDiGraph<usize, ()>,
    src: NodeIndex,
    dst: NodeIndex,
    w: &[f64],
) -> Vec<f64> {
    use petgraph::visit::EdgeRef;
    fn go(
        g: &StableDiGraph<usize, ()>,
        at: NodeIndex,
        dst: NodeIndex,
        w: &[f64],
        seen: &mut Vec<NodeIndex>,
        cost: f64,
        out: &mut Vec<f64>,
    ) {
        if at == dst {
            out.push(cost);
            return;
        }
        for e in g.edges(at) {
            if !seen.contains(&e.target()) {
                seen.push(e.target());
                go(g, e.target(), dst, w, seen, cost + w[e.id().index()], out);
                seen.pop();
            }
        }
    }
    let mut out = Vec::new();
    go(g, src, dst, w, &mut vec![src], 0.0, &mut out);
    out.sort_by(f64::total_cmp);
    out
}

/// A 7-node graph of proptest's arcs (from, to, cost; loops left out), and
/// the arcs' costs by edge index.
fn weighted(arcs: Vec<(usize, usize, u8)>) -> (StableDiGraph<usize, ()>, Vec<NodeIndex>, Vec<f64>) {
    let arcs: Vec<_> = arcs.into_iter().filter(|a| a.0 != a.1).collect();
    let (g, n) = digraph(7, &arcs.iter().map(|a| (a.0, a.1)).collect::<Vec<_>>());
    let w = arcs.iter().map(|a| f64::from(a.2)).collect();
    (g, n, w)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn matches_brute_force_on_random_graphs(
        arcs in proptest::collection::vec((0usize..7, 0usize..7, 1u8..6), 4..18),
        k in 1usize..8,
    ) {
        let (g, n, w) = weighted(arcs);
        let paths = k_shortest_paths(&g, n[0], n[6], k, |e| w[e.index()]);
        let want = all_path_costs(&g, n[0], n[6], &w);
        let got: Vec<f64> = paths.iter().map(|p| p.cost).collect();
        prop_assert_eq!(&got[..], &want[..want.len().min(k)]);
        let distinct: HashSet<_> = paths.iter().map(|p| p.edges.clone()).collect();
        prop_assert_eq!(distinct.len(), paths.len());
        for p in &paths {
            assert_loopless(&g, n[0], n[6], &p.edges);
        }
    }

    #[test]
    fn one_searcher_serves_every_pair_as_a_fresh_search_would(
        arcs in proptest::collection::vec((0usize..7, 0usize..7, 1u8..6), 4..18),
        k in 1usize..5,
    ) {
        let (g, n, w) = weighted(arcs);
        let mut searcher = Searcher::new(&g, |e| w[e.index()]);
        // Every pair twice, the second time with every destination's
        // distances kept.
        for _ in 0..2 {
            for &dst in &n {
                for &src in &n {
                    let fresh = k_shortest_paths(&g, src, dst, k, |e| w[e.index()]);
                    prop_assert_eq!(searcher.k_shortest(src, dst, k), fresh);
                }
            }
        }
    }
}
