//! Shortest paths with equal-cost spreading, and spanning trees, on a
//! petgraph directed graph whose edges are the two directions of each link.
//!
//! Paths are lists of edge indices rather than nodes so that parallel links
//! between the same two switches stay distinct.

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, NodeIndexable};
use petgraph::Direction;
use std::collections::VecDeque;

/// Hop distances from every node to `dst` (None where `dst` is unreachable),
/// indexed by node index: a breadth-first search over incoming edges.
pub fn hops_to<N, E>(g: &StableDiGraph<N, E>, dst: NodeIndex) -> Vec<Option<u32>> {
    let mut dist = vec![None; g.node_bound()];
    let mut queue = VecDeque::new();
    dist[dst.index()] = Some(0);
    queue.push_back((dst, 0));
    while let Some((n, d)) = queue.pop_front() {
        for e in g.edges_directed(n, Direction::Incoming) {
            let s = e.source().index();
            if dist[s].is_none() {
                dist[s] = Some(d + 1);
                queue.push_back((e.source(), d + 1));
            }
        }
    }
    dist
}

/// One shortest path (fewest hops) from `src` to `dst`. Wherever several
/// next hops lie on shortest paths, `choose(hop, n)` picks one of the `n`
/// (taken modulo `n`; `hop` counts from 0 at `src`; the candidates are in
/// edge-index order), so callers decide how traffic spreads over
/// equal-cost paths: by a hash, or by where the hosts sit.
///
/// Returns the edges in order; an empty list when `src == dst`; `None` when
/// `dst` is unreachable. O(V + E).
pub fn shortest_path_by<N, E>(
    g: &StableDiGraph<N, E>,
    src: NodeIndex,
    dst: NodeIndex,
    choose: impl FnMut(usize, usize) -> usize,
) -> Option<Vec<EdgeIndex>> {
    if !g.contains_node(src) || !g.contains_node(dst) {
        return None;
    }
    walk_shortest(g, src, &hops_to(g, dst), choose)
}

/// [`shortest_path_by`] with the distances to the destination already
/// known (from [`hops_to`], which callers may keep while the graph does not
/// change). O(path length x degree).
pub fn walk_shortest<N, E>(
    g: &StableDiGraph<N, E>,
    src: NodeIndex,
    dist: &[Option<u32>],
    mut choose: impl FnMut(usize, usize) -> usize,
) -> Option<Vec<EdgeIndex>> {
    let mut left = (*dist.get(src.index())?)?;
    let mut path = Vec::with_capacity(left as usize);
    let mut at = src;
    while left > 0 {
        let mut next: Vec<(EdgeIndex, NodeIndex)> = g
            .edges_directed(at, Direction::Outgoing)
            .filter(|e| dist[e.target().index()] == Some(left - 1))
            .map(|e| (e.id(), e.target()))
            .collect();
        next.sort_by_key(|(id, _)| id.index());
        let (id, t) = next[choose(path.len(), next.len()) % next.len()];
        path.push(id);
        at = t;
        left -= 1;
    }
    Some(path)
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

    /// Picks branches from the digits of `x`, lowest digit at the first hop.
    fn digits(mut x: usize) -> impl FnMut(usize, usize) -> usize {
        move |_, n| {
            let d = x % n;
            x /= n;
            d
        }
    }

    #[test]
    fn choices_reach_every_core_of_a_fat_tree() {
        let (g, n) = fat_tree();
        let mut first_hops = HashSet::new();
        let mut cores = HashSet::new();
        for x in 0..4 {
            let p = shortest_path_by(&g, n[12], n[14], digits(x)).unwrap();
            let hops = nodes_of(&g, n[12], &p);
            assert_eq!(hops.len(), 5, "edge-agg-core-agg-edge: {hops:?}");
            assert_eq!(*hops.last().unwrap(), 14);
            first_hops.insert(hops[1]);
            cores.insert(hops[2]);
        }
        assert_eq!(cores.len(), 4, "four choices use four cores");
        assert_eq!(first_hops.len(), 2);
        // Within a pod there are two paths, through either aggregation switch.
        let aggs: HashSet<usize> = (0..2)
            .map(|x| {
                nodes_of(
                    &g,
                    n[12],
                    &shortest_path_by(&g, n[12], n[13], digits(x)).unwrap(),
                )[1]
            })
            .collect();
        assert_eq!(aggs.len(), 2);
    }

    #[test]
    fn every_choice_gives_a_connected_shortest_path() {
        let (g, n) = fat_tree();
        for x in 0..50usize {
            let p = shortest_path_by(&g, n[19], n[12], |hop, k| {
                x.wrapping_mul(31).wrapping_add(hop * 7) % k
            })
            .unwrap();
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
        assert_eq!(shortest_path_by(&g, n[0], n[0], digits(7)), Some(vec![]));
        assert_eq!(shortest_path_by(&g, n[0], n[2], digits(7)), None);
    }

    #[test]
    fn parallel_links_are_distinct_choices() {
        let (g, n) = graph(2, &[(0, 1), (0, 1)]);
        let a = shortest_path_by(&g, n[0], n[1], digits(0)).unwrap();
        let b = shortest_path_by(&g, n[0], n[1], digits(1)).unwrap();
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
