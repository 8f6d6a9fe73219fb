//! Seasonal adjustment around any forecaster: remove a smooth daily profile,
//! forecast the remainder with the inner model, put the profile back.
//!
//! Holt-Winters learns its seasonal terms one noisy sample at a time; on
//! 5-minute loads that noise costs more than the cycle gains. Here the
//! profile is estimated once per fit from every cycle in the history, so a
//! few days already give a clean curve. The profile is fixed between fits
//! (refits renew it); the inner model is updated online as usual.
//!
//! Two ways to remove it ([`Seasonality`]):
//! - additive: `x − s(phase)`, `s` the per-phase mean minus the overall mean;
//! - multiplicative: `x / s(phase)`, `s` the per-phase mean of each sample's
//!   ratio to the mean of its own cycle, normalised to average 1. Link load
//!   scales with the number of users, so a quieter day (a weekend, a
//!   holiday) has the same shape at a lower level: the ratio series keeps
//!   one level for the inner model to track, where an additive profile
//!   would be too deep on quiet days and too shallow on busy ones.
//!
//! Either profile is smoothed over neighbouring phases with a trimmed mean
//! (`2·smooth + 1` phases of every cycle, the highest and lowest tenth
//! dropped), so a burst or a flash crowd in the history does not print
//! itself into the curve.

use super::{clean, Forecast, Forecaster};

/// How the seasonal profile is removed and put back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seasonality {
    /// `x − s(phase)`.
    Additive,
    /// `x / s(phase)` (falls back to additive when the series has no positive level).
    Multiplicative,
}

/// A forecaster on the seasonally adjusted series.
pub struct SeasonalAdjust {
    name: &'static str,
    period: usize,
    smooth: usize,
    mode: Seasonality,
    /// Additive offsets, or multiplicative factors, by phase.
    profile: Vec<f64>,
    /// Whether `profile` holds factors (multiplicative mode with a usable profile).
    factors: bool,
    inner: Box<dyn Forecaster>,
    /// Samples seen since the fit started; the phase of the next sample is `t % period`.
    t: u64,
}

/// `x` with the profile at `phase` removed (divided out if `factors`, else subtracted).
fn adjust(profile: &[f64], factors: bool, x: f64, phase: usize) -> f64 {
    if factors {
        x / profile[phase]
    } else {
        x - profile[phase]
    }
}

/// Mean of `v` without its highest and lowest tenth (`v` is reordered).
fn trimmed_mean(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let cut = v.len() / 10;
    let kept = &v[cut..v.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

impl SeasonalAdjust {
    /// Wrap `inner`, reporting as `name`, with a season of `period` samples smoothed ±`smooth` phases.
    pub fn new(
        name: &'static str,
        period: usize,
        smooth: usize,
        mode: Seasonality,
        inner: Box<dyn Forecaster>,
    ) -> SeasonalAdjust {
        let period = period.max(1);
        SeasonalAdjust {
            name,
            period,
            smooth,
            mode,
            profile: vec![0.0; period],
            factors: false,
            inner,
            t: 0,
        }
    }

    /// The seasonal profile by phase: offsets, or factors in multiplicative mode (zero before a fit).
    pub fn profile(&self) -> &[f64] {
        &self.profile
    }

    fn phase(&self, ahead: u64) -> usize {
        ((self.t + ahead) % self.period as u64) as usize
    }

    /// Removes the profile at `phase` from `x`.
    fn adjust(&self, x: f64, phase: usize) -> f64 {
        adjust(&self.profile, self.factors, x, phase)
    }

    /// Puts the profile at `phase` back into an adjusted value.
    fn restore(&self, y: f64, phase: usize) -> f64 {
        if self.factors {
            y * self.profile[phase]
        } else {
            y + self.profile[phase]
        }
    }

    /// The profile of `history` for this mode, and whether it holds factors
    /// (`None` unless every phase was seen in `min_cycles` cycles).
    fn estimate(&self, history: &[f64], min_cycles: usize) -> Option<(Vec<f64>, bool)> {
        match self.mode {
            Seasonality::Multiplicative => self.factors(history, min_cycles).map(|f| (f, true)),
            Seasonality::Additive => None,
        }
        .or_else(|| self.offsets(history, min_cycles).map(|o| (o, false)))
    }

    /// Per-phase trimmed means of `values` (by history index), smoothed ±`smooth` phases;
    /// `None` unless every phase was seen in at least `min_cycles` (≥ 1) cycles.
    fn smoothed_profile(&self, values: &[f64], min_cycles: usize) -> Option<Vec<f64>> {
        let p = self.period;
        let mut cnt = vec![0usize; p];
        for (t, v) in values.iter().enumerate() {
            if v.is_finite() {
                cnt[t % p] += 1;
            }
        }
        if p < 2 || cnt.iter().any(|&c| c < min_cycles.max(1)) {
            return None;
        }
        let w = self.smooth.min((p - 1) / 2);
        let mut window = Vec::new();
        let profile = (0..p)
            .map(|i| {
                window.clear();
                for j in 0..=2 * w {
                    let phase = (i + p + j - w) % p;
                    window.extend(
                        values
                            .iter()
                            .skip(phase)
                            .step_by(p)
                            .filter(|v| v.is_finite()),
                    );
                }
                trimmed_mean(&mut window)
            })
            .collect();
        Some(profile)
    }

    /// Additive offsets (averaging zero) estimated from `history`.
    fn offsets(&self, history: &[f64], min_cycles: usize) -> Option<Vec<f64>> {
        let mut s = self.smoothed_profile(history, min_cycles)?;
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        s.iter_mut().for_each(|v| *v -= mean);
        Some(s)
    }

    /// Multiplicative factors (averaging one) estimated from `history`: each
    /// sample is divided by the mean of its whole cycle, so days of different
    /// levels contribute the same shape.
    fn factors(&self, history: &[f64], min_cycles: usize) -> Option<Vec<f64>> {
        let p = self.period;
        let ratios: Vec<f64> = history
            .chunks(p)
            .filter(|c| c.len() == p)
            .flat_map(|cycle| {
                let seen: Vec<f64> = cycle.iter().copied().filter(|v| v.is_finite()).collect();
                let level = seen.iter().sum::<f64>() / seen.len().max(1) as f64;
                // A cycle missing half its samples or without load says nothing about the shape.
                let usable = 2 * seen.len() >= p && level > 0.0;
                cycle
                    .iter()
                    .map(move |&v| if usable { v / level } else { f64::NAN })
            })
            .collect();
        let mut s = self.smoothed_profile(&ratios, min_cycles)?;
        let mean = s.iter().sum::<f64>() / p as f64;
        // Factors near zero would blow the adjusted series up: a profile that deep is not a shape to divide by.
        let floor = 0.05 * mean;
        let usable = mean > 0.0 && s.iter().all(|&v| v >= floor);
        if !usable {
            return None;
        }
        s.iter_mut().for_each(|v| *v /= mean);
        Some(s)
    }
}

impl Forecaster for SeasonalAdjust {
    fn name(&self) -> &'static str {
        self.name
    }

    fn update(&mut self, x: Option<f64>) {
        let y = clean(x).map(|v| self.adjust(v, self.phase(0)));
        self.inner.update(y);
        self.t = self.t.wrapping_add(1);
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        self.inner
            .predict(h)
            .into_iter()
            .enumerate()
            .map(|(k, f)| {
                let phase = self.phase(k as u64);
                Forecast {
                    mean: self.restore(f.mean, phase),
                    lower: self.restore(f.lower, phase),
                    upper: self.restore(f.upper, phase),
                }
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let p = self.period;
        (self.profile, self.factors) = self
            .estimate(history, 2)
            .unwrap_or_else(|| (vec![0.0; p], false));
        // The inner model learns from each cycle adjusted by the profile of
        // the other cycles: adjusted by a profile that has seen it, a cycle
        // looks calmer than the future will (with three days, a third of
        // every slow deviation is in the profile), and the inner model's
        // parameters would be fitted to that calm.
        let mut adjusted = Vec::with_capacity(history.len());
        let mut others = history.to_vec();
        for (c, cycle) in history.chunks(p).enumerate() {
            let range = c * p..c * p + cycle.len();
            others[range.clone()].fill(f64::NAN);
            let held_out = self
                .estimate(&others, 1)
                .filter(|(_, factors)| *factors == self.factors);
            others[range.clone()].copy_from_slice(cycle);
            let (profile, factors) = held_out
                .as_ref()
                .map_or((&self.profile, self.factors), |(s, f)| (s, *f));
            adjusted.extend(range.map(|t| adjust(profile, factors, history[t], t % p)));
        }
        self.inner.fit(&adjusted);
        self.t = history.len() as u64;
    }

    fn heap_bytes(&self) -> usize {
        self.profile.capacity() * std::mem::size_of::<f64>() + self.inner.heap_bytes()
    }
}
