//! Split ratios to the integer bucket weights of an OpenFlow select group.
//!
//! The weights of one group sum to a chosen total `W` (say 100), so a path's
//! share of the traffic is `weight / W`. The rule:
//! 1. scale the ratios (normalised to sum to 1) by `W`; every path gets the
//!    integer part, except that a path whose scaled ratio lies in (0.5, 1)
//!    gets 1, so no path with a ratio above 0.5/W loses all its traffic;
//! 2. if those minimums overshoot `W` (many small paths next to big ones),
//!    the smallest such paths give theirs up first, each counted in
//!    [`Buckets::dropped`];
//! 3. the buckets left are handed out one each by largest remainder (ties to
//!    the lower path index).
//!
//! Every weight then differs from its scaled ratio by less than 1, so the
//! absolute error of each ratio is below 1/W, and the weights sum to W.

use super::{Split, TeError};

/// Bucket weights for one demand's paths, with the rounding error made.
#[derive(Clone, Debug, PartialEq)]
pub struct Buckets {
    /// Weight per path, in path order; they sum to the requested total.
    pub weights: Vec<u16>,
    /// Largest `|weight / total − ratio|` over the paths (below 1 / total).
    pub max_error: f64,
    /// Paths with a ratio above 0.5 / total that still got weight 0.
    pub dropped: usize,
}

/// Quantises one demand's ratios (any non-negative scale) to weights summing
/// to `total`. An empty list gives no weights.
pub fn quantize(ratios: &[f64], total: u16) -> Result<Buckets, TeError> {
    if total == 0 {
        return Err(TeError::BadRatios("the bucket total is 0"));
    }
    if ratios.iter().any(|r| !(r.is_finite() && *r >= 0.0)) {
        return Err(TeError::BadRatios("a ratio is negative or not finite"));
    }
    if ratios.is_empty() {
        return Ok(Buckets {
            weights: Vec::new(),
            max_error: 0.0,
            dropped: 0,
        });
    }
    let sum: f64 = ratios.iter().sum();
    if !(sum > 0.0 && sum.is_finite()) {
        return Err(TeError::BadRatios("the ratios sum to 0 or overflow"));
    }
    let w = f64::from(total);
    let ratios: Vec<f64> = ratios.iter().map(|r| r / sum).collect();
    let scaled: Vec<f64> = ratios.iter().map(|r| r * w).collect();
    let mut weight: Vec<i64> = scaled.iter().map(|t| t.floor() as i64).collect();
    let mut lifted: Vec<usize> = (0..scaled.len())
        .filter(|&i| scaled[i] > 0.5 && weight[i] == 0)
        .collect();
    for &i in &lifted {
        weight[i] = 1;
    }
    // Give minimums back, smallest ratio first, until they fit in the total.
    lifted.sort_by(|&a, &b| scaled[a].total_cmp(&scaled[b]).then(b.cmp(&a)));
    let mut lifted = lifted.into_iter();
    let mut left = i64::from(total) - weight.iter().sum::<i64>();
    while left < 0 {
        let Some(i) = lifted.next() else { break };
        weight[i] = 0;
        left += 1;
    }
    let kept: Vec<usize> = lifted.collect();
    let mut order: Vec<usize> = (0..scaled.len()).filter(|i| !kept.contains(i)).collect();
    let rem = |i: usize| scaled[i] - weight[i] as f64;
    order.sort_by(|&a, &b| rem(b).total_cmp(&rem(a)).then(a.cmp(&b)));
    // `left` never exceeds the number of paths (the remainders sum to it
    // and each is below 1); the cycle only guards against round-off.
    for &i in order.iter().cycle().take(left.max(0) as usize) {
        weight[i] += 1;
    }
    let weights: Vec<u16> = weight
        .iter()
        .map(|&x| u16::try_from(x).unwrap_or(total))
        .collect();
    let max_error = weights
        .iter()
        .zip(&ratios)
        .map(|(&q, r)| (f64::from(q) / w - r).abs())
        .fold(0.0, f64::max);
    let dropped = weights
        .iter()
        .zip(&scaled)
        .filter(|(&q, &t)| q == 0 && t > 0.5)
        .count();
    Ok(Buckets {
        weights,
        max_error,
        dropped,
    })
}

/// Quantises every demand's row of a split; see [`quantize`].
pub fn quantize_split(split: &Split, total: u16) -> Result<Vec<Buckets>, TeError> {
    split.weights.iter().map(|r| quantize(r, total)).collect()
}

/// Hands `counts.iter().sum()` slots to paths, path `i` getting `counts[i]`
/// of them, moving as few as possible from `old` (the path of each slot
/// before; an empty or differently sized `old` assigns afresh): a slot
/// keeps its path while that path has slots left to take, and the slots
/// freed go to the paths that gained, in path order. Used where flows,
/// not a select group, split traffic over paths: every slot that moves
/// moves the connections hashed onto it.
pub fn assign_slots(counts: &[u16], old: &[usize]) -> Vec<usize> {
    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
    let mut left: Vec<usize> = counts.iter().map(|&c| usize::from(c)).collect();
    let mut slots: Vec<Option<usize>> = vec![None; total];
    if old.len() == total {
        for (slot, &path) in slots.iter_mut().zip(old) {
            if let Some(l) = left.get_mut(path).filter(|l| **l > 0) {
                *l -= 1;
                *slot = Some(path);
            }
        }
    }
    let mut gaining = left
        .iter()
        .enumerate()
        .flat_map(|(path, &n)| std::iter::repeat_n(path, n));
    slots
        .into_iter()
        .map(|s| s.or_else(|| gaining.next()).unwrap_or(0))
        .collect()
}
