//! A seeded generator of traffic-matrix series: realistic demands between
//! every ordered pair of nodes, sample by sample, for evaluating traffic
//! engineering on forecasts.
//!
//! - **Gravity model.** Node `i` has a mass `m_i`, lognormal with spread
//!   `mass_sigma` (a few big sites source and sink most traffic, as in
//!   backbone matrices); pair `(i, j)` has the mean rate
//!   `total · m_i · m_j / Σ_{a≠b} m_a · m_b`, so the pairs' means sum to `total`.
//! - **Time.** Each pair's series comes from the link-load generator
//!   ([`LoadConfig::generate`]) with the `pair` template's daily and weekly
//!   cycles, trend, wander, noise, on/off elephant flows, bursts and flash
//!   crowds, scaled to the pair's mean (the template's `base` and
//!   `flow_rate` scale together; the other sizes are fractions of `base`)
//!   and never clipped.
//! - **Time zones.** Each node has a peak-hour offset, uniform in
//!   `±peak_spread_h / 2`; a pair peaks at the template's peak hour plus the
//!   mean of its two ends' offsets, so the matrix changes shape over the day
//!   instead of only scaling, which is what makes routing on it hard.
//!
//! The same configuration always gives the same series: masses, offsets and
//! each pair's seed come from one [`SplitMix64`] seeded with `seed`.

use crate::forecast::{LoadConfig, SplitMix64};

/// Parameters of a traffic-matrix series.
#[derive(Clone, Debug)]
pub struct MatrixConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Number of nodes; every ordered pair of distinct nodes is a demand.
    pub nodes: usize,
    /// Sum of the pairs' mean rates, in the unit of the rates.
    pub total: f64,
    /// Standard deviation of the log of the node masses.
    pub mass_sigma: f64,
    /// Width, in hours, of the range of the nodes' peak-hour offsets.
    pub peak_spread_h: f64,
    /// Cycles and events of every pair; its `seed`, `base`, `capacity`
    /// and `peak_hour` are set per pair as described in the module doc.
    pub pair: LoadConfig,
}

impl Default for MatrixConfig {
    /// An 11-node backbone (Abilene's size) carrying 40 Gbit/s on average
    /// (rates in bit/s), 5-minute samples, nodes spread over three hours of
    /// time zones.
    fn default() -> Self {
        MatrixConfig {
            seed: 1,
            nodes: 11,
            total: 40e9,
            mass_sigma: 0.8,
            peak_spread_h: 3.0,
            pair: LoadConfig::default(),
        }
    }
}

/// Rate series of every ordered pair of distinct nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSeries {
    /// `(source, destination)` node numbers, by source then destination.
    pub pairs: Vec<(usize, usize)>,
    /// `rates[p][t]`: the rate of pair `p` at sample `t`, non-negative.
    pub rates: Vec<Vec<f64>>,
}

impl MatrixConfig {
    /// `n` samples of every pair's rate; deterministic for the configuration.
    pub fn generate(&self, n: usize) -> MatrixSeries {
        let mut rng = SplitMix64::new(self.seed);
        let mass: Vec<f64> = (0..self.nodes)
            .map(|_| (self.mass_sigma * rng.normal()).exp())
            .collect();
        let offset: Vec<f64> = (0..self.nodes)
            .map(|_| (rng.uniform() - 0.5) * self.peak_spread_h)
            .collect();
        let pairs: Vec<(usize, usize)> = (0..self.nodes)
            .flat_map(|i| {
                (0..self.nodes)
                    .filter(move |&j| j != i)
                    .map(move |j| (i, j))
            })
            .collect();
        let gravity: f64 = pairs.iter().map(|&(i, j)| mass[i] * mass[j]).sum();
        let rates = pairs
            .iter()
            .map(|&(i, j)| {
                let base = self.total * mass[i] * mass[j] / gravity;
                let scale = if self.pair.base > 0.0 {
                    base / self.pair.base
                } else {
                    0.0
                };
                LoadConfig {
                    seed: rng.next_u64(),
                    base,
                    capacity: f64::INFINITY,
                    flow_rate: self.pair.flow_rate * scale,
                    peak_hour: self.pair.peak_hour + (offset[i] + offset[j]) / 2.0,
                    ..self.pair.clone()
                }
                .generate(n)
            })
            .collect();
        MatrixSeries { pairs, rates }
    }
}
