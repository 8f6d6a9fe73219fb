//! Shortest paths with equal-cost spreading, and spanning trees, on a
//! petgraph directed graph whose edges are the two directions of each link.
//!
//! Paths are lists of edge indices rather than nodes so that parallel links
//! between the same two switches stay distinct.

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, NodeIndexable};
use petgraph::Direction;
use std::collections::VecDeque;

/// Hop distances from `src` to every node (None where unreachable), indexed by node index.
fn hop_distances<N, E>(g: &StableDiGraph<N, E>, src: NodeIndex) -> Vec<Option<u32>> {
    let mut dist = vec![None; g.node_bound()];
    let mut queue = VecDeque::new();
    dist[src.index()] = Some(0);
    queue.push_back(src);
    while let Some(n) = queue.pop_front() {
        let d = dist[n.index()].unwrap_or(0);
        for e in g.edges_directed(n, Direction::Outgoing) {
            let t = e.target().index();
            if dist[t].is_none() {
                dist[t] = Some(d + 1);
                queue.push_back(e.target());
            }
        }
    }
    dist
}

/// Number of distinct shortest paths from each node to `dst` (saturating),
/// given hop distances from the source; zero for nodes off every shortest path.
fn shortest_path_counts<N, E>(
    g: &StableDiGraph<N, E>,
    dist: &[Option<u32>],
    dst: NodeIndex,
) -> Vec<u64> {
    let mut count = vec![0u64; g.node_bound()];
    count[dst.index()] = 1;
    // Visit nodes from the farthest (the destination) back towards the source.
    let mut order: Vec<NodeIndex> = g
        .node_indices()
        .filter(|n| matches!((dist[n.index()], dist[dst.index()]), (Some(d), Some(dd)) if d < dd))
        .collect();
    order.sort_by_key(|n| std::cmp::Reverse(dist[n.index()]));
    for n in order {
        let d = dist[n.index()].unwrap_or(0);
        count[n.index()] = g
            .edges_directed(n, Direction::Outgoing)
            .filter(|e| dist[e.target().index()] == Some(d + 1))
            .fold(0u64, |acc, e| acc.saturating_add(count[e.target().index()]));
    }
    count
}

/// One shortest path (fewest hops) from `src` to `dst`, chosen among all
/// equal-cost shortest paths by `selector` (for example a hash of the host
/// pair), so that different selectors spread over the paths evenly.
///
/// Returns the edges in order; an empty list when `src == dst`; `None` when
/// `dst` is unreachable. Runs in O(V + E) without enumerating the paths.
pub fn ecmp_path<N, E>(
    g: &StableDiGraph<N, E>,
    src: NodeIndex,
    dst: NodeIndex,
    selector: u64,
) -> Option<Vec<EdgeIndex>> {
    if !g.contains_node(src) || !g.contains_node(dst) {
        return None;
    }
    let dist = hop_distances(g, src);
    dist[dst.index()]?;
    let count = shortest_path_counts(g, &dist, dst);
    let mut pick = selector % count[src.index()].max(1);
    let mut path = Vec::new();
    let mut at = src;
    while at != dst {
        let d = dist[at.index()].unwrap_or(0);
        // Edges in a stable order so the same selector gives the same path.
        let mut next: Vec<_> = g
            .edges_directed(at, Direction::Outgoing)
            .filter(|e| dist[e.target().index()] == Some(d + 1) && count[e.target().index()] > 0)
            .map(|e| (e.id(), e.target()))
            .collect();
        next.sort_by_key(|(id, _)| id.index());
        let mut chosen = None;
        for (id, t) in next {
            let c = count[t.index()];
            if pick < c {
                chosen = Some((id, t));
                break;
            }
            pick -= c;
        }
        let (id, t) = chosen?;
        path.push(id);
        at = t;
    }
    Some(path)
}

/// Number of equal-cost shortest paths from `src` to `dst` (saturating at u64::MAX).
pub fn shortest_path_count<N, E>(g: &StableDiGraph<N, E>, src: NodeIndex, dst: NodeIndex) -> u64 {
    if !g.contains_node(src) || !g.contains_node(dst) {
        return 0;
    }
    let dist = hop_distances(g, src);
    if dist[dst.index()].is_none() {
        return 0;
    }
    shortest_path_counts(g, &dist, dst)[src.index()]
}

/// A breadth-first spanning forest: for each connected component, a tree
/// rooted at its smallest node (by `key`). Returns the tree edges in both
/// directions (the edge and its reverse `rev(edge)`), so a switch floods on
/// exactly the ports whose outgoing edge is in the set.
pub fn spanning_tree<N, E, K: Ord>(
    g: &StableDiGraph<N, E>,
    key: impl Fn(&N) -> K,
    rev: impl Fn(EdgeIndex) -> Option<EdgeIndex>,
) -> Vec<EdgeIndex> {
    let mut roots: Vec<NodeIndex> = g.node_indices().collect();
    roots.sort_by(|a, b| key(&g[*a]).cmp(&key(&g[*b])));
    let mut seen = vec![false; g.node_bound()];
    let mut tree = Vec::new();
    for root in roots {
        if seen[root.index()] {
            continue;
        }
        seen[root.index()] = true;
        let mut queue = VecDeque::from([root]);
        while let Some(n) = queue.pop_front() {
            let mut out: Vec<_> = g
                .edges_directed(n, Direction::Outgoing)
                .map(|e| (e.id(), e.target()))
                .collect();
            out.sort_by_key(|(id, _)| id.index());
            for (id, t) in out {
                if seen[t.index()] {
                    continue;
                }
                // A link only joins the tree if both of its directions exist.
                if let Some(back) = rev(id) {
                    seen[t.index()] = true;
                    tree.push(id);
                    tree.push(back);
                    queue.push_back(t);
                }
            }
        }
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// An undirected graph given as node pairs, each link as two directed edges.
    fn graph(n: usize, links: &[(usize, usize)]) -> (StableDiGraph<usize, ()>, Vec<NodeIndex>) {
        let mut g = StableDiGraph::new();
        let nodes: Vec<_> = (0..n).map(|i| g.add_node(i)).collect();
        for &(a, b) in links {
            g.add_edge(nodes[a], nodes[b], ());
            g.add_edge(nodes[b], nodes[a], ());
        }
        (g, nodes)
    }

    fn rev_of(g: &StableDiGraph<usize, ()>) -> impl Fn(EdgeIndex) -> Option<EdgeIndex> + '_ {
        move |e| {
            let (a, b) = g.edge_endpoints(e)?;
            g.find_edge(b, a)
        }
    }

    fn nodes_of(g: &StableDiGraph<usize, ()>, src: NodeIndex, path: &[EdgeIndex]) -> Vec<usize> {
        let mut out = vec![g[src]];
        for e in path {
            out.push(g[g.edge_endpoints(*e).unwrap().1]);
        }
        out
    }

    /// The 4-ary fat-tree: 4 cores (0-3), 8 aggregation (4-11), 8 edge (12-19).
    fn fat_tree() -> (StableDiGraph<usize, ()>, Vec<NodeIndex>) {
        let mut links = Vec::new();
        for pod in 0..4 {
            for a in 0..2 {
                let agg = 4 + pod * 2 + a;
                for c in 0..2 {
                    links.push((a * 2 + c, agg));
                }
                for e in 0..2 {
                    links.push((agg, 12 + pod * 2 + e));
                }
            }
        }
        graph(20, &links)
    }

    #[test]
    fn fat_tree_has_four_paths_between_pods_and_selectors_use_all() {
        let (g, n) = fat_tree();
        assert_eq!(shortest_path_count(&g, n[12], n[14]), 4);
        assert_eq!(shortest_path_count(&g, n[12], n[13]), 2);
        let mut cores = HashSet::new();
        for s in 0..4 {
            let p = ecmp_path(&g, n[12], n[14], s).unwrap();
            let hops = nodes_of(&g, n[12], &p);
            assert_eq!(hops.len(), 5, "edge-agg-core-agg-edge: {hops:?}");
            assert_eq!(*hops.last().unwrap(), 14);
            cores.insert(hops[2]);
        }
        assert_eq!(cores.len(), 4, "four selectors use four different cores");
    }

    #[test]
    fn every_path_is_connected_and_shortest() {
        let (g, n) = fat_tree();
        for s in 0..50u64 {
            let p = ecmp_path(&g, n[19], n[12], s.wrapping_mul(0x9e37_79b9_7f4a_7c15)).unwrap();
            assert_eq!(p.len(), 4);
            let mut at = n[19];
            for e in &p {
                let (a, b) = g.edge_endpoints(*e).unwrap();
                assert_eq!(a, at);
                at = b;
            }
            assert_eq!(at, n[12]);
        }
    }

    #[test]
    fn same_node_and_unreachable() {
        let (g, n) = graph(3, &[(0, 1)]);
        assert_eq!(ecmp_path(&g, n[0], n[0], 7), Some(vec![]));
        assert_eq!(ecmp_path(&g, n[0], n[2], 7), None);
        assert_eq!(shortest_path_count(&g, n[0], n[2]), 0);
    }

    #[test]
    fn parallel_links_are_distinct_paths() {
        let (g, n) = graph(2, &[(0, 1), (0, 1)]);
        assert_eq!(shortest_path_count(&g, n[0], n[1]), 2);
        let a = ecmp_path(&g, n[0], n[1], 0).unwrap();
        let b = ecmp_path(&g, n[0], n[1], 1).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn spanning_tree_of_fat_tree_spans_without_cycles() {
        let (g, _) = fat_tree();
        let tree = spanning_tree(&g, |n| *n, rev_of(&g));
        // A tree over 20 nodes has 19 links, each in both directions.
        assert_eq!(tree.len(), 38);
        // Union-find over the undirected tree links: no link closes a cycle.
        let mut parent: HashMap<usize, usize> = (0..20).map(|i| (i, i)).collect();
        fn find(p: &mut HashMap<usize, usize>, x: usize) -> usize {
            let up = p[&x];
            if up == x {
                x
            } else {
                let r = find(p, up);
                p.insert(x, r);
                r
            }
        }
        let mut joined = 0;
        for e in &tree {
            let (a, b) = g.edge_endpoints(*e).unwrap();
            let (ra, rb) = (find(&mut parent, g[a]), find(&mut parent, g[b]));
            if ra != rb {
                parent.insert(ra, rb);
                joined += 1;
            }
        }
        assert_eq!(joined, 19);
    }

    #[test]
    fn spanning_forest_covers_each_component() {
        let (g, _) = graph(5, &[(0, 1), (1, 2), (2, 0), (3, 4)]);
        let tree = spanning_tree(&g, |n| *n, rev_of(&g));
        assert_eq!(
            tree.len(),
            6,
            "2 links in the triangle, 1 in the pair, both directions"
        );
    }
}
