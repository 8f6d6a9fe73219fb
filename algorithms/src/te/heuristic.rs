//! A fast minimum-MLU heuristic, and the baselines it is compared against:
//! ECMP and the single shortest path.

use super::{Demand, Split};

/// Relative tolerance under which two path costs count as equal.
const EQUAL_COST: f64 = 1e-9;

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
