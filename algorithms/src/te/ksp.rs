//! Yen's k loopless shortest paths on a directed graph with link costs.
//!
//! Every spur search is an A* search whose heuristic is the exact distance
//! to the destination in the full graph (one reverse Dijkstra per
//! destination, kept by a [`Searcher`] for all its sources).
//! Removing edges and nodes only lengthens distances, so the heuristic stays
//! admissible and consistent, and on fabrics with many near-shortest paths
//! (fat-trees) each spur search walks almost straight to the destination.

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeIndexable, EdgeRef, IntoEdgeReferences, NodeIndexable};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

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
fn pick(candidates: &[(Vec<usize>, f64)], used: &[bool]) -> Option<usize> {
    let best = candidates.iter().map(|p| p.1).min_by(f64::total_cmp)?;
    let shared = |p: &[usize]| p.iter().filter(|e| used[**e]).count();
    candidates
        .iter()
        .enumerate()
        .filter(|(_, p)| p.1 <= best + TIE * best.abs())
        .min_by(|(_, a), (_, b)| shared(&a.0).cmp(&shared(&b.0)).then_with(|| a.0.cmp(&b.0)))
        .map(|(i, _)| i)
}

/// A heap entry: smallest key first, then the largest distance travelled
/// (so A* on equal-cost ties runs straight to the goal), then the smallest
/// node index.
#[derive(PartialEq)]
struct Entry(f64, f64, usize);

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then(self.1.total_cmp(&other.1))
            .then(other.2.cmp(&self.2))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A graph's usable edges and their costs, with the scratch space of a
/// search: built once, it serves k-shortest-path searches between any two
/// nodes. The exact distances to a destination, which guide every search
/// towards it, are computed at its first search and kept (8 bytes a node
/// for each destination searched): routing many pairs pays for the edges
/// once and for each destination's distances once.
#[derive(Debug)]
pub struct Searcher {
    present: Vec<bool>,
    /// Outgoing usable edges per node: (edge index, target, cost), by edge index.
    out: Vec<Vec<(usize, usize, f64)>>,
    /// Incoming usable edges per node: (source, cost).
    inc: Vec<Vec<(usize, f64)>>,
    /// Source node of each edge index.
    tail: Vec<usize>,
    /// Cost per edge index (0 for unusable edges, which are never walked).
    cost: Vec<f64>,
    banned_edge: Vec<bool>,
    banned_node: Vec<bool>,
    dist: Vec<f64>,
    pred: Vec<Option<usize>>,
    touched: Vec<usize>,
    /// By destination node.
    distances: HashMap<usize, Distances>,
}

/// The exact distance of every node to one destination.
#[derive(Debug)]
struct Distances {
    dst: usize,
    /// Infinite for nodes that cannot reach the destination.
    to: Vec<f64>,
}

impl Searcher {
    /// Takes the graph's edges; `cost` as for [`k_shortest_paths`].
    pub fn new<N, E>(g: &StableDiGraph<N, E>, cost: impl Fn(EdgeIndex) -> f64) -> Self {
        let (n, m) = (g.node_bound(), g.edge_bound());
        let mut s = Searcher {
            present: (0..n).map(|i| g.contains_node(NodeIndex::new(i))).collect(),
            out: vec![Vec::new(); n],
            inc: vec![Vec::new(); n],
            tail: vec![0; m],
            cost: vec![0.0; m],
            banned_edge: vec![false; m],
            banned_node: vec![false; n],
            dist: vec![f64::INFINITY; n],
            pred: vec![None; n],
            touched: Vec::new(),
            distances: HashMap::new(),
        };
        for e in g.edge_references() {
            let c = cost(e.id());
            // Negative costs would break Dijkstra; treat them like NaN.
            if c.is_finite() && c >= 0.0 {
                let (a, b, i) = (e.source().index(), e.target().index(), e.id().index());
                s.out[a].push((i, b, c));
                s.inc[b].push((a, c));
                s.tail[i] = a;
                s.cost[i] = c;
            }
        }
        for o in &mut s.out {
            o.sort_unstable_by_key(|x| x.0);
        }
        s
    }

    /// The exact distance of every node to node `dst` (a reverse Dijkstra).
    fn distances_to(&self, dst: usize) -> Distances {
        let mut to = vec![f64::INFINITY; self.present.len()];
        let mut heap = BinaryHeap::from([Entry(0.0, 0.0, dst)]);
        to[dst] = 0.0;
        while let Some(Entry(d, _, v)) = heap.pop() {
            if d > to[v] {
                continue;
            }
            for &(u, c) in &self.inc[v] {
                if d + c < to[u] {
                    to[u] = d + c;
                    heap.push(Entry(d + c, 0.0, u));
                }
            }
        }
        Distances { dst, to }
    }

    /// A* from `from` to the destination of `to` avoiding banned edges and
    /// nodes; the edge indices and the cost of the path, or `None` if there
    /// is none.
    fn spur(&mut self, from: usize, to: &Distances) -> Option<(Vec<usize>, f64)> {
        for &v in &self.touched {
            self.dist[v] = f64::INFINITY;
            self.pred[v] = None;
        }
        self.touched.clear();
        let h = &to.to;
        if !h[from].is_finite() {
            return None;
        }
        self.dist[from] = 0.0;
        self.touched.push(from);
        let mut heap = BinaryHeap::from([Entry(h[from], 0.0, from)]);
        let mut done = false;
        while let Some(Entry(f, _, v)) = heap.pop() {
            if f > self.dist[v] + h[v] {
                continue;
            }
            if v == to.dst {
                done = true;
                break;
            }
            for &(e, w, c) in &self.out[v] {
                if self.banned_edge[e] || self.banned_node[w] || !h[w].is_finite() {
                    continue;
                }
                let nd = self.dist[v] + c;
                if nd < self.dist[w] {
                    if self.dist[w].is_infinite() {
                        self.touched.push(w);
                    }
                    self.dist[w] = nd;
                    self.pred[w] = Some(e);
                    heap.push(Entry(nd + h[w], nd, w));
                }
            }
        }
        if !done {
            return None;
        }
        let mut edges = Vec::new();
        let mut at = to.dst;
        while let Some(e) = self.pred[at] {
            edges.push(e);
            at = self.tail[e];
        }
        edges.reverse();
        Some((edges, self.dist[to.dst]))
    }

    /// Up to `k` loopless paths from `src` to `dst`; see [`k_shortest_paths`].
    pub fn k_shortest(&mut self, src: NodeIndex, dst: NodeIndex, k: usize) -> Vec<Path> {
        let (s, d) = (src.index(), dst.index());
        let present = |v: usize| self.present.get(v).copied().unwrap_or(false);
        if k == 0 || !present(s) || !present(d) {
            return Vec::new();
        }
        if s == d {
            return vec![Path {
                edges: Vec::new(),
                cost: 0.0,
            }];
        }
        // Out of the cache while the search borrows the rest of the searcher.
        let to = match self.distances.remove(&d) {
            Some(to) => to,
            None => self.distances_to(d),
        };
        let paths = self.yen(s, &to, k);
        self.distances.insert(d, to);
        paths
    }

    /// Yen's algorithm from node `s` towards the destination of `to`.
    fn yen(&mut self, s: usize, to: &Distances, k: usize) -> Vec<Path> {
        let Some(first) = self.spur(s, to) else {
            return Vec::new();
        };
        let mut found: Vec<(Vec<usize>, f64)> = vec![first];
        let mut candidates: Vec<(Vec<usize>, f64)> = Vec::new();
        let mut seen: HashSet<Vec<usize>> = HashSet::from([found[0].0.clone()]);
        let mut used = vec![false; self.cost.len()];
        for &e in &found[0].0 {
            used[e] = true;
        }
        while found.len() < k {
            let last = found[found.len() - 1].0.clone();
            let mut root_cost = 0.0;
            let mut spur_node = s;
            for i in 0..last.len() {
                let root = &last[..i];
                // Ban the next edge of every found path sharing this root, and
                // the root's nodes, so the spur path differs and stays loopless.
                for (p, _) in &found {
                    if p.len() > i && p[..i] == *root {
                        self.banned_edge[p[i]] = true;
                    }
                }
                if let Some((edges, c)) = self.spur(spur_node, to) {
                    let mut full = root.to_vec();
                    full.extend(edges);
                    if seen.insert(full.clone()) {
                        candidates.push((full, root_cost + c));
                    }
                }
                for (p, _) in &found {
                    if p.len() > i && p[..i] == *root {
                        self.banned_edge[p[i]] = false;
                    }
                }
                self.banned_node[spur_node] = true;
                root_cost += self.cost[last[i]];
                spur_node = self.out[spur_node]
                    .iter()
                    .find(|x| x.0 == last[i])
                    .map_or(spur_node, |x| x.1);
            }
            for &e in &last {
                self.banned_node[self.tail[e]] = false;
            }
            let Some(best) = pick(&candidates, &used) else {
                break;
            };
            let p = candidates.swap_remove(best);
            for &e in &p.0 {
                used[e] = true;
            }
            found.push(p);
        }
        found
            .into_iter()
            .map(|(edges, cost)| Path {
                edges: edges.into_iter().map(EdgeIndex::new).collect(),
                cost,
            })
            .collect()
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
/// when `src == dst`. For many pairs in one graph, reuse a [`Searcher`].
pub fn k_shortest_paths<N, E>(
    g: &StableDiGraph<N, E>,
    src: NodeIndex,
    dst: NodeIndex,
    k: usize,
    cost: impl Fn(EdgeIndex) -> f64,
) -> Vec<Path> {
    Searcher::new(g, cost).k_shortest(src, dst, k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_heap_pops_smallest_key_then_farthest_then_smallest_node() {
        let mut h = BinaryHeap::from([
            Entry(2.0, 0.0, 0),
            Entry(1.0, 0.0, 5),
            Entry(1.0, 0.0, 3),
            Entry(1.0, 1.0, 7),
        ]);
        let order: Vec<usize> = std::iter::from_fn(|| h.pop().map(|e| e.2)).collect();
        assert_eq!(order, [7, 3, 5, 0]);
    }
}
