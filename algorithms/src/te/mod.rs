//! Traffic engineering: k shortest paths per demand, splits of each demand
//! over its paths that minimise the maximum link utilisation (MLU), and the
//! quantisation of split ratios into select-group bucket weights.
//!
//! Links are the directed edges of the topology graph, identified by
//! `EdgeIndex::index()`; capacities, loads and rates share one unit (say
//! Mbit/s). A [`Network`] holds the capacity and the forecast background
//! load of each edge, a [`Demand`] the rate between two switches and its
//! candidate paths, a [`Split`] the fraction of each demand on each path.
//!
//! **Headroom.** The forecast background is multiplied by the network's
//! headroom factor (≥ 1, default 1) wherever loads are computed, so a factor
//! of 1.2 plans for background 20 % above the forecast. Evaluate a plan
//! against the real background with a second `Network` at headroom 1.

pub mod heuristic;
pub mod ksp;
pub mod lp;
pub mod quantize;
pub mod series;

pub use ksp::{k_shortest_paths, Path, Searcher};
use petgraph::stable_graph::NodeIndex;

/// Why a traffic-engineering problem could not be set up or solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TeError {
    /// Capacity and background vectors differ in length.
    #[error("{capacity} capacities but {background} background loads")]
    LengthMismatch {
        /// Length of the capacity vector.
        capacity: usize,
        /// Length of the background vector.
        background: usize,
    },
    /// A capacity is negative or not finite.
    #[error("edge {edge}: capacity {value} is not a finite non-negative number")]
    BadCapacity {
        /// The edge index.
        edge: usize,
        /// The offending value.
        value: f64,
    },
    /// A background load is negative or not finite.
    #[error("edge {edge}: background {value} is not a finite non-negative number")]
    BadBackground {
        /// The edge index.
        edge: usize,
        /// The offending value.
        value: f64,
    },
    /// The headroom factor is below 1 or not finite.
    #[error("headroom {0} is not a finite factor of at least 1")]
    BadHeadroom(f64),
    /// A demand's rate is negative or not finite.
    #[error("demand {demand}: rate {rate} is not a finite non-negative number")]
    BadRate {
        /// The demand's position in the list.
        demand: usize,
        /// The offending rate.
        rate: f64,
    },
    /// A demand with a positive rate has no path.
    #[error("demand {demand} has no path")]
    NoPaths {
        /// The demand's position in the list.
        demand: usize,
    },
    /// A path uses an edge the network has no capacity for.
    #[error("demand {demand}: edge {edge} is unknown or has zero capacity")]
    UnknownEdge {
        /// The demand's position in the list.
        demand: usize,
        /// The edge index.
        edge: usize,
    },
    /// The weight or bucket inputs are unusable (quantisation).
    #[error("bad split ratios: {0}")]
    BadRatios(&'static str),
    /// The LP solver failed.
    #[error("LP solver: {0}")]
    Solver(String),
}

/// Link capacities and forecast background load per directed edge index.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    capacity: Vec<f64>,
    background: Vec<f64>,
    headroom: f64,
}

impl Network {
    /// Checks that both vectors have one finite, non-negative entry per edge
    /// index (zero capacity marks an edge that no path may use).
    pub fn new(capacity: Vec<f64>, background: Vec<f64>) -> Result<Self, TeError> {
        if capacity.len() != background.len() {
            return Err(TeError::LengthMismatch {
                capacity: capacity.len(),
                background: background.len(),
            });
        }
        for (edge, &value) in capacity.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(TeError::BadCapacity { edge, value });
            }
        }
        for (edge, &value) in background.iter().enumerate() {
            if !(value.is_finite() && value >= 0.0) {
                return Err(TeError::BadBackground { edge, value });
            }
        }
        Ok(Network {
            capacity,
            background,
            headroom: 1.0,
        })
    }

    /// The same network planning for background `factor` times the forecast.
    pub fn with_headroom(mut self, factor: f64) -> Result<Self, TeError> {
        if !(factor.is_finite() && factor >= 1.0) {
            return Err(TeError::BadHeadroom(factor));
        }
        self.headroom = factor;
        Ok(self)
    }

    /// Capacity per edge index.
    pub fn capacity(&self) -> &[f64] {
        &self.capacity
    }

    /// Forecast background load per edge index (before headroom).
    pub fn background(&self) -> &[f64] {
        &self.background
    }

    /// The headroom factor applied to the background.
    pub fn headroom(&self) -> f64 {
        self.headroom
    }

    /// Background times headroom on edge index `e` (0 beyond the vector).
    pub fn planned_background(&self, e: usize) -> f64 {
        self.background.get(e).map_or(0.0, |b| b * self.headroom)
    }

    /// Number of edge indices covered.
    pub fn len(&self) -> usize {
        self.capacity.len()
    }

    /// True when the network covers no edge.
    pub fn is_empty(&self) -> bool {
        self.capacity.is_empty()
    }

    /// Checks the demands against the network: finite non-negative rates,
    /// at least one path per positive demand, every edge with a capacity.
    pub fn check(&self, demands: &[Demand]) -> Result<(), TeError> {
        for (i, d) in demands.iter().enumerate() {
            if !(d.rate.is_finite() && d.rate >= 0.0) {
                return Err(TeError::BadRate {
                    demand: i,
                    rate: d.rate,
                });
            }
            if d.paths.is_empty() && d.rate > 0.0 {
                return Err(TeError::NoPaths { demand: i });
            }
            for p in &d.paths {
                for e in &p.edges {
                    if self.capacity.get(e.index()).is_none_or(|&c| c <= 0.0) {
                        return Err(TeError::UnknownEdge {
                            demand: i,
                            edge: e.index(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Traffic from one switch (or host group) to another, with its candidate paths.
#[derive(Clone, Debug, PartialEq)]
pub struct Demand {
    /// Where the traffic enters the fabric.
    pub src: NodeIndex,
    /// Where it leaves.
    pub dst: NodeIndex,
    /// Rate, in the unit of the capacities.
    pub rate: f64,
    /// Candidate paths, usually from [`k_shortest_paths`], best first.
    pub paths: Vec<Path>,
}

/// The fraction of each demand on each of its paths; each row sums to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    /// `weights[d][p]`: fraction of demand `d` on its path `p`.
    pub weights: Vec<Vec<f64>>,
}

impl Split {
    /// True when there is one row per demand, one non-negative weight per
    /// path, and every row with paths sums to 1 within `tol`.
    pub fn fits(&self, demands: &[Demand], tol: f64) -> bool {
        self.weights.len() == demands.len()
            && self.weights.iter().zip(demands).all(|(w, d)| {
                w.len() == d.paths.len()
                    && w.iter().all(|x| *x >= -tol)
                    && (w.is_empty() || (w.iter().sum::<f64>() - 1.0).abs() <= tol)
            })
    }
}

/// Load per edge index: planned background plus every demand's share on
/// every path crossing the edge. Weights past a demand's paths are ignored.
pub fn link_loads(net: &Network, demands: &[Demand], split: &Split) -> Vec<f64> {
    let mut load: Vec<f64> = (0..net.len()).map(|e| net.planned_background(e)).collect();
    for (d, w) in demands.iter().zip(&split.weights) {
        for (p, x) in d.paths.iter().zip(w) {
            for e in &p.edges {
                if let Some(l) = load.get_mut(e.index()) {
                    *l += d.rate * x;
                }
            }
        }
    }
    load
}

/// Load over capacity per edge index (0 where the capacity is 0).
pub fn utilisation(net: &Network, loads: &[f64]) -> Vec<f64> {
    loads
        .iter()
        .zip(&net.capacity)
        .map(|(l, c)| if *c > 0.0 { l / c } else { 0.0 })
        .collect()
}

/// The maximum link utilisation of a split (0 for an empty network).
pub fn mlu(net: &Network, demands: &[Demand], split: &Split) -> f64 {
    utilisation(net, &link_loads(net, demands, split))
        .into_iter()
        .fold(0.0, f64::max)
}

/// Each edge of demand `d`'s paths with the load it gains when the demand
/// moves from its `current` split to `proposed` (an edge on two paths comes
/// twice).
fn shifts<'a>(
    d: &'a Demand,
    current: &'a [f64],
    proposed: &'a [f64],
) -> impl Iterator<Item = (usize, f64)> + 'a {
    d.paths
        .iter()
        .zip(current.iter().zip(proposed))
        .flat_map(move |(p, (c, n))| p.edges.iter().map(move |e| (e.index(), d.rate * (n - c))))
}

/// How much moving demand `d` from its `current` split to `proposed` (its
/// fraction per path) lowers the highest utilisation among the edges of its
/// paths, the edges loaded as in `loads` (from [`link_loads`], with
/// `current` for this demand). Positive is better; edges outside `loads` or
/// without capacity are left out.
pub fn bottleneck_gain(
    net: &Network,
    loads: &[f64],
    d: &Demand,
    current: &[f64],
    proposed: &[f64],
) -> f64 {
    // (edge, its load after the move), each edge once.
    let mut moved: Vec<(usize, f64)> = Vec::new();
    for (e, shift) in shifts(d, current, proposed) {
        let Some(&load) = loads.get(e) else { continue };
        match moved.iter_mut().find(|(k, _)| *k == e) {
            Some((_, m)) => *m += shift,
            None => moved.push((e, load + shift)),
        }
    }
    let (mut before, mut after) = (0.0f64, 0.0f64);
    for (e, m) in moved {
        if let Some(&c) = net.capacity.get(e).filter(|&&c| c > 0.0) {
            before = before.max(loads[e] / c);
            after = after.max(m / c);
        }
    }
    before - after
}

/// Which demands take their `proposed` split rather than keeping their
/// `current` one, with the gain of each that does. Demands are judged one at
/// a time, the largest [`bottleneck_gain`] first, against the loads of the
/// current splits and of the proposals taken before; a proposal is taken
/// when it lowers its demand's bottleneck by more than nothing and by at
/// least `min_gain` — or by more than nothing alone when the proposals
/// together lower the network's maximum utilisation by `min_gain`, so that
/// many demands too small to matter one by one can relieve a link
/// together.
pub fn take_splits(
    net: &Network,
    demands: &[Demand],
    current: &Split,
    proposed: &Split,
    min_gain: f64,
) -> Vec<Option<f64>> {
    let together = mlu(net, demands, current) - mlu(net, demands, proposed);
    let min_gain = if together >= min_gain { 0.0 } else { min_gain };
    let mut loads = link_loads(net, demands, current);
    let gain = |loads: &[f64], i: usize| {
        bottleneck_gain(
            net,
            loads,
            &demands[i],
            &current.weights[i],
            &proposed.weights[i],
        )
    };
    let mut order: Vec<(usize, f64)> = (0..demands.len()).map(|i| (i, gain(&loads, i))).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut taken = vec![None; demands.len()];
    for (i, _) in order {
        let g = gain(&loads, i);
        if g > 0.0 && g >= min_gain {
            for (e, shift) in shifts(&demands[i], &current.weights[i], &proposed.weights[i]) {
                if let Some(l) = loads.get_mut(e) {
                    *l += shift;
                }
            }
            taken[i] = Some(g);
        }
    }
    taken
}
