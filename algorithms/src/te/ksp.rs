//! Yen's k loopless shortest paths on a directed graph with link costs.
//!
//! Every spur search is an A* search whose heuristic is the exact distance
//! to the destination in the full graph (one reverse Dijkstra per call).
//! Removing edges and nodes only lengthens distances, so the heuristic stays
//! admissible and consistent, and on fabrics with many near-shortest paths
//! (fat-trees) each spur search walks almost straight to the destination.

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeIndexable, EdgeRef, NodeIndexable};
use petgraph::Direction;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};

/// A loopless path as its edges in order, with its total cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The edges from source to destination; empty when source = destination.
    pub edges: Vec<EdgeIndex>,
    /// The sum of the edge costs.
    pub cost: f64,
}

/// Relative difference under which two path costs count as a tie.
const TIE: f64 = 1e-9;

/// The candidate to take next: the cheapest; among ties, the one sharing the
/// fewest edges with the paths already found (`used`), then the smallest edge
/// indices. Preferring disjoint paths matters on fat-trees, where the first
/// k of many equal-cost paths by index alone would all leave through the
/// same uplink.
fn pick(candidates: &[Path], used: &[bool]) -> Option<usize> {
    let best = candidates.iter().map(|p| p.cost).min_by(f64::total_cmp)?;
    let shared = |p: &Path| p.edges.iter().filter(|e| used[e.index()]).count();
    candidates
        .iter()
        .enumerate()
        .filter(|(_, p)| p.cost <= best + TIE * best.abs())
        .min_by(|(_, a), (_, b)| {
            shared(a).cmp(&shared(b)).then_with(|| {
                let ia = a.edges.iter().map(|e| e.index());
                ia.cmp(b.edges.iter().map(|e| e.index()))
            })
        })
        .map(|(i, _)| i)
}

/// A heap entry: smallest key first, then smallest node index.
#[derive(PartialEq)]
struct Entry(f64, usize);

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Search state reused across the spur searches of one call.
struct Search<'g, N, E> {
    g: &'g StableDiGraph<N, E>,
    /// Cost per edge index; `None` for edges that may not be used.
    cost: Vec<Option<f64>>,
    /// Exact distance from each node to the destination (infinite if none).
    to_dst: Vec<f64>,
    banned_edge: Vec<bool>,
    banned_node: Vec<bool>,
    dist: Vec<f64>,
    pred: Vec<Option<EdgeIndex>>,
    touched: Vec<usize>,
}

impl<'g, N, E> Search<'g, N, E> {
    fn new(g: &'g StableDiGraph<N, E>, dst: NodeIndex, cost: impl Fn(EdgeIndex) -> f64) -> Self {
        let mut costs = vec![None; g.edge_bound()];
        for e in g.edge_indices() {
            let c = cost(e);
            // Negative costs would break Dijkstra; treat them like NaN.
            if c.is_finite() && c >= 0.0 {
                costs[e.index()] = Some(c);
            }
        }
        let n = g.node_bound();
        let mut s = Search {
            g,
            cost: costs,
            to_dst: vec![f64::INFINITY; n],
            banned_edge: vec![false; g.edge_bound()],
            banned_node: vec![false; n],
            dist: vec![f64::INFINITY; n],
            pred: vec![None; n],
            touched: Vec::new(),
        };
        s.reverse_dijkstra(dst);
        s
    }

    /// Fills `to_dst` with exact distances to `dst` over incoming edges.
    fn reverse_dijkstra(&mut self, dst: NodeIndex) {
        let mut heap = BinaryHeap::new();
        self.to_dst[dst.index()] = 0.0;
        heap.push(Entry(0.0, dst.index()));
        while let Some(Entry(d, v)) = heap.pop() {
            if d > self.to_dst[v] {
                continue;
            }
            for e in self
                .g
                .edges_directed(NodeIndex::new(v), Direction::Incoming)
            {
                if let Some(c) = self.cost[e.id().index()] {
                    let u = e.source().index();
                    if d + c < self.to_dst[u] {
                        self.to_dst[u] = d + c;
                        heap.push(Entry(d + c, u));
                    }
                }
            }
        }
    }

    /// A* from `from` to `dst` avoiding banned edges and nodes; the edges and
    /// the cost of the path, or `None` if `dst` cannot be reached.
    fn spur(&mut self, from: NodeIndex, dst: NodeIndex) -> Option<(Vec<EdgeIndex>, f64)> {
        for &v in &self.touched {
            self.dist[v] = f64::INFINITY;
            self.pred[v] = None;
        }
        self.touched.clear();
        let (s, t) = (from.index(), dst.index());
        if !self.to_dst[s].is_finite() {
            return None;
        }
        self.dist[s] = 0.0;
        self.touched.push(s);
        let mut heap = BinaryHeap::from([Entry(self.to_dst[s], s)]);
        let mut done = false;
        while let Some(Entry(f, v)) = heap.pop() {
            if f > self.dist[v] + self.to_dst[v] {
                continue;
            }
            if v == t {
                done = true;
                break;
            }
            // Edges in index order so ties resolve the same way every run.
            let mut out: Vec<_> = self
                .g
                .edges_directed(NodeIndex::new(v), Direction::Outgoing)
                .map(|e| (e.id(), e.target().index()))
                .collect();
            out.sort_unstable_by_key(|(e, _)| e.index());
            for (e, w) in out {
                let Some(c) = self.cost[e.index()] else {
                    continue;
                };
                if self.banned_edge[e.index()] || self.banned_node[w] || !self.to_dst[w].is_finite()
                {
                    continue;
                }
                let nd = self.dist[v] + c;
                if nd < self.dist[w] {
                    if self.dist[w].is_infinite() {
                        self.touched.push(w);
                    }
                    self.dist[w] = nd;
                    self.pred[w] = Some(e);
                    heap.push(Entry(nd + self.to_dst[w], w));
                }
            }
        }
        if !done {
            return None;
        }
        let mut edges = Vec::new();
        let mut at = t;
        while let Some(e) = self.pred[at] {
            edges.push(e);
            at = self.g.edge_endpoints(e)?.0.index();
        }
        edges.reverse();
        Some((edges, self.dist[t]))
    }
}

/// Up to `k` loopless paths from `src` to `dst` in order of increasing cost
/// (Yen's algorithm). Costs within 1e-9 (relative) tie; ties go to the path
/// sharing the fewest edges with those already chosen, then to the smallest
/// edge indices along the path, so the result is the same on every run.
///
/// `cost(e)` gives each edge's cost; edges with a negative or non-finite
/// cost are left out. Returns fewer than `k` paths when there are fewer,
/// none when `dst` is unreachable or `k` is 0, and the single empty path
/// when `src == dst`.
pub fn k_shortest_paths<N, E>(
    g: &StableDiGraph<N, E>,
    src: NodeIndex,
    dst: NodeIndex,
    k: usize,
    cost: impl Fn(EdgeIndex) -> f64,
) -> Vec<Path> {
    if k == 0 || !g.contains_node(src) || !g.contains_node(dst) {
        return Vec::new();
    }
    if src == dst {
        return vec![Path {
            edges: Vec::new(),
            cost: 0.0,
        }];
    }
    let mut s = Search::new(g, dst, cost);
    let Some((edges, c)) = s.spur(src, dst) else {
        return Vec::new();
    };
    let mut found = vec![Path { edges, cost: c }];
    let mut candidates: Vec<Path> = Vec::new();
    let mut seen: HashSet<Vec<EdgeIndex>> = HashSet::from([found[0].edges.clone()]);
    let mut used = vec![false; g.edge_bound()];
    for e in &found[0].edges {
        used[e.index()] = true;
    }
    while found.len() < k {
        let last = found.last().cloned().unwrap_or_else(|| unreachable!());
        let mut root_cost = 0.0;
        let mut spur_node = src;
        for i in 0..last.edges.len() {
            let root = &last.edges[..i];
            // Ban the next edge of every found path sharing this root, and the
            // root's nodes, so the spur path differs and stays loopless.
            for p in &found {
                if p.edges.len() > i && p.edges[..i] == *root {
                    s.banned_edge[p.edges[i].index()] = true;
                }
            }
            if let Some((edges, c)) = s.spur(spur_node, dst) {
                let mut full = root.to_vec();
                full.extend(edges);
                if seen.insert(full.clone()) {
                    candidates.push(Path {
                        edges: full,
                        cost: root_cost + c,
                    });
                }
            }
            for p in &found {
                if p.edges.len() > i && p.edges[..i] == *root {
                    s.banned_edge[p.edges[i].index()] = false;
                }
            }
            s.banned_node[spur_node.index()] = true;
            let e = last.edges[i];
            root_cost += s.cost[e.index()].unwrap_or(0.0);
            spur_node = g.edge_endpoints(e).map_or(spur_node, |(_, b)| b);
        }
        for p in &last.edges {
            if let Some((a, _)) = g.edge_endpoints(*p) {
                s.banned_node[a.index()] = false;
            }
        }
        let Some(best) = pick(&candidates, &used) else {
            break;
        };
        let p = candidates.swap_remove(best);
        for e in &p.edges {
            used[e.index()] = true;
        }
        found.push(p);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_heap_pops_smallest_key_then_smallest_node() {
        let mut h = BinaryHeap::from([Entry(2.0, 0), Entry(1.0, 5), Entry(1.0, 3)]);
        assert_eq!(h.pop().map(|e| e.1), Some(3));
        assert_eq!(h.pop().map(|e| e.1), Some(5));
        assert_eq!(h.pop().map(|e| e.1), Some(0));
    }
}
