//! Honest baselines: last value, moving average, seasonal naive.
//!
//! Each keeps an exponentially weighted variance of its own one-step errors
//! and widens it with the horizon as its implied model says (random walk for
//! last value and seasonal naive, roughly flat for the moving average).

use super::{clean, ErrVar, Forecast, Forecaster, Ring};

/// Predicts the last observed value for every step (a random walk).
#[derive(Clone, Debug)]
pub struct LastValue {
    last: Option<f64>,
    err: ErrVar,
}

impl LastValue {
    /// A last-value forecaster with no samples yet.
    pub fn new() -> LastValue {
        LastValue {
            last: None,
            err: ErrVar::new(),
        }
    }
}

impl Default for LastValue {
    fn default() -> Self {
        Self::new()
    }
}

impl Forecaster for LastValue {
    fn name(&self) -> &'static str {
        "last_value"
    }

    fn update(&mut self, x: Option<f64>) {
        // A missing sample keeps the last value: that is this model's forecast.
        if let Some(x) = clean(x) {
            if let Some(l) = self.last {
                self.err.push(x - l);
            }
            self.last = Some(x);
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        let Some(l) = self.last else {
            return Vec::new();
        };
        let s = self.err.var().sqrt();
        (1..=h)
            .map(|k| Forecast::with_sd(l, s * (k as f64).sqrt()))
            .collect()
    }
}

/// Predicts the mean of the last `window` samples for every step.
#[derive(Clone, Debug)]
pub struct MovingAverage {
    ring: Ring,
    sum: f64,
    err: ErrVar,
    window: usize,
    pushes: usize,
}

impl MovingAverage {
    /// A moving average over `window` (≥ 1) samples.
    pub fn new(window: usize) -> MovingAverage {
        let window = window.max(1);
        MovingAverage {
            ring: Ring::new(window),
            sum: 0.0,
            err: ErrVar::new(),
            window,
            pushes: 0,
        }
    }

    fn mean(&self) -> Option<f64> {
        (self.ring.len() > 0).then(|| self.sum / self.ring.len() as f64)
    }
}

impl Forecaster for MovingAverage {
    fn name(&self) -> &'static str {
        "moving_avg"
    }

    fn update(&mut self, x: Option<f64>) {
        let m = self.mean();
        let x = match (clean(x), m) {
            (Some(x), m) => {
                if let Some(m) = m {
                    self.err.push(x - m);
                }
                x
            }
            // Impute the current mean: the forecast itself.
            (None, Some(m)) => m,
            (None, None) => return,
        };
        let dropped = if self.ring.is_full() {
            self.ring.back(self.window - 1).unwrap_or(0.0)
        } else {
            0.0
        };
        self.ring.push(x);
        self.sum += x - dropped;
        // Re-sum once per window so rounding never accumulates.
        self.pushes += 1;
        if self.pushes.is_multiple_of(self.window) {
            self.sum = self.ring.to_vec().iter().sum();
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        let Some(m) = self.mean() else {
            return Vec::new();
        };
        let s = self.err.var().sqrt();
        // The level drifts while we hold it: grow the spread slowly with h.
        (1..=h)
            .map(|k| Forecast::with_sd(m, s * (1.0 + (k - 1) as f64 / self.window as f64).sqrt()))
            .collect()
    }

    fn heap_bytes(&self) -> usize {
        self.ring.heap_bytes()
    }
}

/// Predicts the value one period earlier (`x[t+k-period]`), last value until a period is seen.
#[derive(Clone, Debug)]
pub struct SeasonalNaive {
    ring: Ring,
    period: usize,
    err: ErrVar,
}

impl SeasonalNaive {
    /// A seasonal naive forecaster for a season of `period` (≥ 1) samples.
    pub fn new(period: usize) -> SeasonalNaive {
        let period = period.max(1);
        SeasonalNaive {
            ring: Ring::new(period),
            period,
            err: ErrVar::new(),
        }
    }

    /// Forecast of the sample `k` (≥ 1) steps ahead.
    fn point(&self, k: usize) -> Option<f64> {
        if self.ring.is_full() {
            // x[t+k - p*ceil(k/p)], i.e. back (p*ceil(k/p) - k) from the newest.
            let back = self.period * k.div_ceil(self.period) - k;
            self.ring.back(back)
        } else {
            self.ring.back(0)
        }
    }
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> &'static str {
        "seasonal_naive"
    }

    fn update(&mut self, x: Option<f64>) {
        let f = self.point(1);
        match (clean(x), f) {
            (Some(x), f) => {
                if let Some(f) = f {
                    self.err.push(x - f);
                }
                self.ring.push(x);
            }
            (None, Some(f)) => self.ring.push(f),
            (None, None) => {}
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        let s = self.err.var().sqrt();
        let seasonal = self.ring.is_full();
        (1..=h)
            .map_while(|k| {
                let m = self.point(k)?;
                let steps = if seasonal { k.div_ceil(self.period) } else { k };
                Some(Forecast::with_sd(m, s * (steps as f64).sqrt()))
            })
            .collect()
    }

    fn heap_bytes(&self) -> usize {
        self.ring.heap_bytes()
    }
}
