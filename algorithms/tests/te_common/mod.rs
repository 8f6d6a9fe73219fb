//! Topologies shared by the traffic-engineering tests.
#![allow(dead_code)]

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};

/// An undirected graph given as node pairs, each link as two directed edges
/// (edge `2i` is `a -> b` of link `i`, edge `2i + 1` is `b -> a`).
pub fn graph(n: usize, links: &[(usize, usize)]) -> (StableDiGraph<usize, ()>, Vec<NodeIndex>) {
    let mut g = StableDiGraph::new();
    let nodes: Vec<_> = (0..n).map(|i| g.add_node(i)).collect();
    for &(a, b) in links {
        g.add_edge(nodes[a], nodes[b], ());
        g.add_edge(nodes[b], nodes[a], ());
    }
    (g, nodes)
}

/// A directed graph from `(a, b)` arcs, edge `i` being arc `i`.
pub fn digraph(n: usize, arcs: &[(usize, usize)]) -> (StableDiGraph<usize, ()>, Vec<NodeIndex>) {
    let mut g = StableDiGraph::new();
    let nodes: Vec<_> = (0..n).map(|i| g.add_node(i)).collect();
    for &(a, b) in arcs {
        g.add_edge(nodes[a], nodes[b], ());
    }
    (g, nodes)
}

/// The k-ary fat-tree: (k/2)² cores, then k pods of k/2 aggregation and k/2
/// edge switches. Returns the graph, all nodes and the edge switches.
pub fn fat_tree(k: usize) -> (StableDiGraph<usize, ()>, Vec<NodeIndex>, Vec<NodeIndex>) {
    let h = k / 2;
    let cores = h * h;
    let agg0 = cores;
    let edge0 = cores + k * h;
    let mut links = Vec::new();
    for pod in 0..k {
        for a in 0..h {
            let agg = agg0 + pod * h + a;
            for c in 0..h {
                links.push((a * h + c, agg));
            }
            for e in 0..h {
                links.push((agg, edge0 + pod * h + e));
            }
        }
    }
    let (g, nodes) = graph(edge0 + k * h, &links);
    let edges = nodes[edge0..].to_vec();
    (g, nodes, edges)
}

/// The nodes a path visits, starting at `src`, as node weights.
pub fn nodes_of(g: &StableDiGraph<usize, ()>, src: NodeIndex, path: &[EdgeIndex]) -> Vec<usize> {
    let mut out = vec![g[src]];
    for e in path {
        out.push(g[g.edge_endpoints(*e).unwrap().1]);
    }
    out
}

/// Asserts that `path` is connected from `src` to `dst` and visits no node twice.
pub fn assert_loopless(
    g: &StableDiGraph<usize, ()>,
    src: NodeIndex,
    dst: NodeIndex,
    path: &[EdgeIndex],
) {
    let mut at = src;
    for e in path {
        let (a, b) = g.edge_endpoints(*e).unwrap();
        assert_eq!(a, at, "path is connected");
        at = b;
    }
    assert_eq!(at, dst, "path ends at the destination");
    let nodes = nodes_of(g, src, path);
    let mut sorted = nodes.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        nodes.len(),
        "no node visited twice: {nodes:?}"
    );
}

use edgeflow_algorithms::forecast::SplitMix64;
use edgeflow_algorithms::te::{Demand, Network, Searcher};

/// Demands between `pairs` with `k` hop-count paths each.
pub fn demands(
    g: &StableDiGraph<usize, ()>,
    pairs: &[(NodeIndex, NodeIndex, f64)],
    k: usize,
) -> Vec<Demand> {
    let mut searcher = Searcher::new(g, |_| 1.0);
    pairs
        .iter()
        .map(|&(src, dst, rate)| Demand {
            src,
            dst,
            rate,
            paths: searcher.k_shortest(src, dst, k),
        })
        .collect()
}

/// A random instance on the k-ary fat-tree with `paths` paths per demand:
/// capacity 10 per edge (some links 40 % slower), random background up to
/// 3, and heavy-tailed demands between a random `share` of edge-switch
/// pairs, a few of them hot spots.
pub fn fat_tree_instance(k: usize, paths: usize, share: f64, seed: u64) -> (Network, Vec<Demand>) {
    let (g, _, edge) = fat_tree(k);
    let mut rng = SplitMix64::new(seed);
    let m = g.edge_count();
    let capacity: Vec<f64> = (0..m)
        .map(|_| if rng.chance(0.1) { 6.0 } else { 10.0 })
        .collect();
    let background: Vec<f64> = (0..m).map(|_| 3.0 * rng.uniform()).collect();
    // Mean demand chosen so an edge switch sends about an eighth of its uplink
    // capacity: loaded but mostly below 1, as a fabric under TE would be.
    let scale = 10.0 * (k / 2) as f64 / 8.0 / (share * (edge.len() - 1) as f64).max(1.0);
    let mut pairs = Vec::new();
    for &s in &edge {
        for &t in &edge {
            if s != t && rng.chance(share) {
                let hot = if rng.chance(0.05) { 8.0 } else { 1.0 };
                pairs.push((s, t, hot * scale * rng.exp(1.0)));
            }
        }
    }
    let ds = demands(&g, &pairs, paths);
    (Network::new(capacity, background).unwrap(), ds)
}
