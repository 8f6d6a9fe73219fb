//! Seasonal adjustment around any forecaster: subtract a smooth daily
//! profile, forecast the remainder with the inner model, add the profile back.
//!
//! Holt-Winters learns its seasonal terms one noisy sample at a time; on
//! 5-minute loads that noise costs more than the cycle gains. Here the
//! profile is the per-phase mean over the fitted history, smoothed over
//! neighbouring phases (a circular moving average of `2·smooth + 1` taps),
//! so a few days already give a clean curve. The profile is fixed between
//! fits (refits renew it); the inner model is updated online as usual.

use super::{clean, Forecast, Forecaster};

/// A forecaster on the seasonally adjusted series.
pub struct SeasonalAdjust {
    name: &'static str,
    period: usize,
    smooth: usize,
    profile: Vec<f64>,
    inner: Box<dyn Forecaster>,
    /// Samples seen since the fit started; the phase of the next sample is `t % period`.
    t: u64,
}

impl SeasonalAdjust {
    /// Wrap `inner`, reporting as `name`, with a season of `period` samples smoothed ±`smooth` phases.
    pub fn new(
        name: &'static str,
        period: usize,
        smooth: usize,
        inner: Box<dyn Forecaster>,
    ) -> SeasonalAdjust {
        let period = period.max(1);
        SeasonalAdjust {
            name,
            period,
            smooth,
            profile: vec![0.0; period],
            inner,
            t: 0,
        }
    }

    /// The seasonal profile by phase (zero before a fit).
    pub fn profile(&self) -> &[f64] {
        &self.profile
    }

    fn phase(&self, ahead: u64) -> usize {
        ((self.t + ahead) % self.period as u64) as usize
    }
}

impl Forecaster for SeasonalAdjust {
    fn name(&self) -> &'static str {
        self.name
    }

    fn update(&mut self, x: Option<f64>) {
        let s = self.profile[self.phase(0)];
        self.inner.update(clean(x).map(|v| v - s));
        self.t = self.t.wrapping_add(1);
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        self.inner
            .predict(h)
            .into_iter()
            .enumerate()
            .map(|(k, f)| {
                let s = self.profile[self.phase(k as u64)];
                Forecast {
                    mean: f.mean + s,
                    lower: f.lower + s,
                    upper: f.upper + s,
                }
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let p = self.period;
        let mut sum = vec![0.0; p];
        let mut cnt = vec![0usize; p];
        for (t, x) in history.iter().enumerate() {
            if x.is_finite() {
                sum[t % p] += x;
                cnt[t % p] += 1;
            }
        }
        // Only a profile with every phase seen at least twice is worth using.
        let raw: Option<Vec<f64>> = (cnt.iter().all(|&c| c >= 2) && p > 1)
            .then(|| sum.iter().zip(&cnt).map(|(s, &c)| s / c as f64).collect());
        self.profile = match raw {
            Some(raw) => {
                let w = self.smooth.min(p / 2);
                let mut sm: Vec<f64> = (0..p)
                    .map(|i| {
                        (0..=2 * w).map(|j| raw[(i + p + j - w) % p]).sum::<f64>()
                            / (2 * w + 1) as f64
                    })
                    .collect();
                let mean = sm.iter().sum::<f64>() / p as f64;
                sm.iter_mut().for_each(|v| *v -= mean);
                sm
            }
            None => vec![0.0; p],
        };
        self.t = 0;
        let adjusted: Vec<f64> = history
            .iter()
            .enumerate()
            .map(|(t, x)| x - self.profile[t % p])
            .collect();
        self.inner.fit(&adjusted);
        self.t = history.len() as u64;
    }

    fn heap_bytes(&self) -> usize {
        self.profile.capacity() * std::mem::size_of::<f64>() + self.inner.heap_bytes()
    }
}
