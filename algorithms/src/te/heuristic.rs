//! A fast minimum-MLU heuristic, and the baselines it is compared against:
//! ECMP and the single shortest path.
//!
//! The heuristic minimises a smooth stand-in for the MLU, the log-sum-exp
//! potential `Φ = ln(Σ_e exp(β·u_e)) / β`, which lies within `ln(m)/β` of
//! the maximum of the `m` utilisations `u_e`. It starts from ECMP and sweeps
//! the demands in order; for each it moves flow from its dearest used path
//! to its cheapest one, where a path's price is the potential's gradient,
//! `Σ_{e∈path} exp(β·u_e) / capacity_e`, by the exact amount that minimises
//! Φ along that line (a one-dimensional convex search over the few edges
//! of the two paths). Φ is convex and every move decreases it, so the
//! sweeps converge to its minimum; β grows in stages (each started from the
//! last) so that early stages spread load broadly and the last one tracks
//! the true maximum closely. The best split seen, by true MLU, is returned.

use super::{Demand, Network, Split, TeError};

/// Relative tolerance under which two path costs count as equal.
const EQUAL_COST: f64 = 1e-9;

/// Settings of [`min_mlu_with`]; the defaults suit fabrics up to thousands of links.
#[derive(Clone, Debug, PartialEq)]
pub struct HeuristicConfig {
    /// β per stage, in units of 1 / (current MLU).
    pub betas: Vec<f64>,
    /// Most sweeps over the demands per stage.
    pub max_sweeps: usize,
    /// A stage ends when a sweep lowers Φ by less than this fraction of the MLU.
    pub tolerance: f64,
}

impl Default for HeuristicConfig {
    fn default() -> Self {
        HeuristicConfig {
            betas: vec![16.0, 64.0, 256.0, 1024.0, 4096.0],
            max_sweeps: 40,
            tolerance: 1e-5,
        }
    }
}

/// A demand being optimised: its rate, paths as edge indices, and weights.
struct Free {
    index: usize,
    rate: f64,
    paths: Vec<Vec<usize>>,
    x: Vec<f64>,
}

/// Loads, the potential's per-edge terms, and the demands being moved.
struct State<'a> {
    cap: &'a [f64],
    /// Current utilisation per edge index.
    u: Vec<f64>,
    /// `exp(β·(u − reference))` per edge index on some free path, else 0.
    w: Vec<f64>,
    /// Whether a free demand's path crosses the edge.
    used: Vec<bool>,
    beta: f64,
    reference: f64,
}

impl State<'_> {
    /// Recomputes the reference (the current MLU over used edges) and the
    /// exponentials; returns Φ.
    fn rebase(&mut self, beta: f64) -> f64 {
        self.beta = beta;
        self.reference = self.max_used();
        let mut sum = 0.0;
        for e in 0..self.u.len() {
            if self.used[e] {
                self.w[e] = (beta * (self.u[e] - self.reference)).exp();
                sum += self.w[e];
            }
        }
        self.reference + sum.ln() / beta
    }

    /// The largest utilisation over edges some free path crosses.
    fn max_used(&self) -> f64 {
        (0..self.u.len())
            .filter(|&e| self.used[e])
            .map(|e| self.u[e])
            .fold(0.0, f64::max)
    }

    /// The gradient of Φ along a path, up to a common positive factor.
    fn price(&self, path: &[usize]) -> f64 {
        path.iter().map(|&e| self.w[e] / self.cap[e]).sum()
    }

    /// Adds `delta` load to edge `e`.
    fn shift(&mut self, e: usize, delta: f64) {
        self.u[e] += delta / self.cap[e];
        self.w[e] = (self.beta * (self.u[e] - self.reference)).exp();
    }

    /// Moves as much of `d`'s flow from path `from` to path `to` as lowers Φ
    /// most; returns the fraction moved.
    fn balance(&mut self, d: &mut Free, from: usize, to: usize) -> f64 {
        let (r, b) = (d.rate, self.beta);
        // Edges only on `to` gain load, edges only on `from` lose it.
        let gain: Vec<(f64, f64)> = d.paths[to]
            .iter()
            .filter(|e| !d.paths[from].contains(e))
            .map(|&e| (self.w[e], b * r / self.cap[e]))
            .collect();
        let lose: Vec<(f64, f64)> = d.paths[from]
            .iter()
            .filter(|e| !d.paths[to].contains(e))
            .map(|&e| (self.w[e], b * r / self.cap[e]))
            .collect();
        // dΦ/dt and d²Φ/dt² up to a positive factor; Φ is convex in t.
        let slope = |t: f64| -> (f64, f64) {
            let (mut d1, mut d2) = (0.0, 0.0);
            for (w, k) in &gain {
                let g = w * k * (k * t).exp();
                d1 += g;
                d2 += g * k;
            }
            for (w, k) in &lose {
                let g = w * k * (-k * t).exp();
                d1 -= g;
                d2 += g * k;
            }
            (d1, d2)
        };
        let (mut lo, mut hi) = (0.0, d.x[from]);
        let t = if slope(hi).0 <= 0.0 {
            hi
        } else {
            // Newton's method kept inside a shrinking bracket; it falls back
            // to bisection where a step leaves the bracket or overflows.
            let mut t = 0.0;
            for _ in 0..60 {
                let (d1, d2) = slope(t);
                if d1 <= 0.0 {
                    lo = t;
                } else {
                    hi = t;
                }
                let newton = t - d1 / d2;
                let next = if newton.is_finite() && newton > lo && newton < hi {
                    newton
                } else {
                    0.5 * (lo + hi)
                };
                if (next - t).abs() <= 1e-12 * (1.0 + t) || hi - lo <= 1e-12 {
                    t = next;
                    break;
                }
                t = next;
            }
            // Stay on the side where Φ is still decreasing.
            t.min(hi).max(lo)
        };
        if t > 0.0 {
            d.x[from] -= t;
            d.x[to] += t;
            for &e in &d.paths[to] {
                if !d.paths[from].contains(&e) {
                    self.shift(e, r * t);
                }
            }
            for &e in &d.paths[from] {
                if !d.paths[to].contains(&e) {
                    self.shift(e, -r * t);
                }
            }
        }
        t
    }
}

/// Equal split over each demand's paths whose cost equals its cheapest one
/// (on symmetric fabrics such as fat-trees this is what hop-by-hop ECMP
/// hashing gives on average).
pub fn ecmp(demands: &[Demand]) -> Split {
    let weights = demands
        .iter()
        .map(|d| {
            let best = d.paths.iter().map(|p| p.cost).fold(f64::INFINITY, f64::min);
            let tied: Vec<bool> = d
                .paths
                .iter()
                .map(|p| p.cost <= best + EQUAL_COST * best.abs().max(1.0))
                .collect();
            let n = tied.iter().filter(|t| **t).count() as f64;
            tied.into_iter()
                .map(|t| if t { 1.0 / n } else { 0.0 })
                .collect()
        })
        .collect();
    Split { weights }
}

/// Everything on each demand's first path (the shortest, from k_shortest_paths).
pub fn shortest(demands: &[Demand]) -> Split {
    let weights = demands
        .iter()
        .map(|d| {
            (0..d.paths.len())
                .map(|p| if p == 0 { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    Split { weights }
}

/// The split with (near) least MLU by the default [`HeuristicConfig`].
pub fn min_mlu(net: &Network, demands: &[Demand]) -> Result<Split, TeError> {
    min_mlu_with(net, demands, &HeuristicConfig::default())
}

/// The split with (near) least MLU; errors on invalid input (see
/// [`Network::check`]). Demands with one path or zero rate stay on ECMP.
pub fn min_mlu_with(
    net: &Network,
    demands: &[Demand],
    config: &HeuristicConfig,
) -> Result<Split, TeError> {
    net.check(demands)?;
    let mut split = ecmp(demands);
    let cap = net.capacity();
    let mut load: Vec<f64> = (0..net.len()).map(|e| net.planned_background(e)).collect();
    let mut used = vec![false; net.len()];
    let mut free = Vec::new();
    for (i, (d, x)) in demands.iter().zip(&split.weights).enumerate() {
        for (p, w) in d.paths.iter().zip(x) {
            for e in &p.edges {
                load[e.index()] += d.rate * w;
            }
        }
        if d.rate > 0.0 && d.paths.len() > 1 {
            let paths: Vec<Vec<usize>> = d
                .paths
                .iter()
                .map(|p| p.edges.iter().map(|e| e.index()).collect())
                .collect();
            for e in paths.iter().flatten() {
                used[*e] = true;
            }
            free.push(Free {
                index: i,
                rate: d.rate,
                paths,
                x: x.clone(),
            });
        }
    }
    if free.is_empty() {
        return Ok(split);
    }
    let u = load
        .iter()
        .zip(cap)
        .map(|(l, c)| if *c > 0.0 { l / c } else { 0.0 })
        .collect();
    let mut st = State {
        cap,
        u,
        w: vec![0.0; net.len()],
        used,
        beta: 1.0,
        reference: 0.0,
    };
    let mut best_mlu = st.max_used();
    let mut best: Vec<Vec<f64>> = free.iter().map(|d| d.x.clone()).collect();
    for &scale in &config.betas {
        let beta = scale / best_mlu.max(1e-9);
        let mut phi = st.rebase(beta);
        for _ in 0..config.max_sweeps {
            for d in free.iter_mut() {
                sweep_demand(&mut st, d);
            }
            let next = st.rebase(beta);
            let done = phi - next < config.tolerance * best_mlu;
            phi = next;
            let now = st.max_used();
            if now < best_mlu {
                best_mlu = now;
                for (b, d) in best.iter_mut().zip(&free) {
                    b.clone_from(&d.x);
                }
            }
            if done {
                break;
            }
        }
    }
    for (d, x) in free.iter().zip(best) {
        let total: f64 = x.iter().sum();
        split.weights[d.index] = x.into_iter().map(|v| v.max(0.0) / total).collect();
    }
    Ok(split)
}

/// Moves one demand's flow from its dearest used paths to its cheapest,
/// at most once per path.
fn sweep_demand(st: &mut State, d: &mut Free) {
    for _ in 0..d.paths.len() {
        let prices: Vec<f64> = d.paths.iter().map(|p| st.price(p)).collect();
        let cheapest = argmin(&prices, |_| true);
        let dearest = argmin(&prices.iter().map(|p| -p).collect::<Vec<_>>(), |p| {
            d.x[p] > 0.0
        });
        let (Some(to), Some(from)) = (cheapest, dearest) else {
            return;
        };
        if prices[from] - prices[to] <= 1e-9 * prices[from] {
            return;
        }
        if st.balance(d, from, to) <= 0.0 {
            return;
        }
    }
}

/// Index of the smallest value among those `keep` accepts (first on ties).
fn argmin(values: &[f64], keep: impl Fn(usize) -> bool) -> Option<usize> {
    (0..values.len())
        .filter(|&i| keep(i))
        .min_by(|&a, &b| values[a].total_cmp(&values[b]))
}
