//! Forecasting of per-link load series: one [`Forecaster`] interface and its
//! implementations, a seeded synthetic load generator, per-link model
//! selection and a rolling-origin evaluation.
//!
//! The contract every forecaster keeps:
//! - `update` takes one sample per polling round; `None`, NaN and infinities
//!   count as a missing sample and never panic (models impute their own
//!   one-step forecast so seasonal phase and lags stay aligned);
//! - `predict(h)` returns steps `1..=h` with an **80 % central prediction
//!   interval** ([`Z80`] standard deviations each side of the mean);
//! - memory per instance is bounded: series state lives in fixed-size rings
//!   whose length is set at construction (see [`Forecaster::heap_bytes`]);
//! - nothing reads a clock or does I/O; `fit` is the only costly call and is
//!   meant to run off the event loop (see [`select::Selector`]).

pub mod arima;
pub mod baseline;
pub mod decompose;
pub mod eval;
pub mod gru;
mod linalg;
pub mod select;
pub mod smoothing;
pub mod synth;

pub use arima::{Arima, ArimaConfig};
pub use baseline::{LastValue, MovingAverage, SeasonalNaive};
pub use decompose::{SeasonalAdjust, Seasonality};
pub use eval::{evaluate, ErrorSums, EvalConfig, ModelScore};
pub use gru::{Gru, GruConfig};
pub use select::{default_models, Selector, SelectorConfig};
pub use smoothing::{Holt, HoltWinters, Reverting};
pub use synth::{LoadConfig, SplitMix64};

/// Standard-normal quantile of 0.9: intervals are mean ± `Z80`·σ (80 %).
pub const Z80: f64 = 1.281_551_565_544_600_4;

/// One step of a forecast: the mean and an 80 % prediction interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Forecast {
    /// Point forecast.
    pub mean: f64,
    /// Lower end of the 80 % interval.
    pub lower: f64,
    /// Upper end of the 80 % interval.
    pub upper: f64,
}

impl Forecast {
    /// A forecast `mean ± Z80·sd` (a non-finite or negative `sd` gives a zero-width interval).
    pub fn with_sd(mean: f64, sd: f64) -> Forecast {
        let sd = if sd.is_finite() && sd > 0.0 { sd } else { 0.0 };
        Forecast {
            mean,
            lower: mean - Z80 * sd,
            upper: mean + Z80 * sd,
        }
    }
}

/// A one-series forecaster: fed one sample per round, asked for `h` steps ahead.
pub trait Forecaster: Send {
    /// Short stable name (used for selection reports).
    fn name(&self) -> &'static str;
    /// Feed the next sample; `None` or a non-finite value is a missing sample.
    fn update(&mut self, x: Option<f64>);
    /// Forecasts for steps `1..=h` after the last sample (empty before any sample).
    fn predict(&self, h: usize) -> Vec<Forecast>;
    /// Batch (re)fit on a history, oldest first, replacing the state; default replays `update`.
    fn fit(&mut self, history: &[f64]) {
        for &x in history {
            self.update(Some(x));
        }
    }
    /// Heap bytes held by this instance (bounded by construction).
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// A sample as the models see it: non-finite values become missing.
pub(crate) fn clean(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// Fixed-capacity ring of the most recent samples (oldest dropped first).
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    buf: Vec<f64>,
    cap: usize,
    head: usize,
}

impl Ring {
    /// An empty ring holding at most `cap` (≥ 1) values.
    pub(crate) fn new(cap: usize) -> Ring {
        let cap = cap.max(1);
        Ring {
            buf: Vec::with_capacity(cap),
            cap,
            head: 0,
        }
    }

    /// Append, dropping the oldest value when full.
    pub(crate) fn push(&mut self, x: f64) {
        if self.buf.len() < self.cap {
            self.buf.push(x);
        } else {
            self.buf[self.head] = x;
            self.head = (self.head + 1) % self.cap;
        }
    }

    /// Number of values held.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether the ring is full.
    pub(crate) fn is_full(&self) -> bool {
        self.buf.len() == self.cap
    }

    /// The value `k` steps back (0 = newest), if held.
    pub(crate) fn back(&self, k: usize) -> Option<f64> {
        let n = self.buf.len();
        if k >= n {
            return None;
        }
        let newest = if n < self.cap {
            n - 1
        } else {
            (self.head + self.cap - 1) % self.cap
        };
        Some(self.buf[(newest + self.cap - k) % self.cap])
    }

    /// The held values, oldest first.
    pub(crate) fn to_vec(&self) -> Vec<f64> {
        let n = self.buf.len();
        let start = if n < self.cap { 0 } else { self.head };
        (0..n).map(|i| self.buf[(start + i) % self.cap]).collect()
    }

    /// Heap bytes reserved.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity() * std::mem::size_of::<f64>()
    }
}

/// Exponentially weighted mean of squared one-step errors: the σ² behind intervals.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ErrVar {
    var: f64,
    n: u32,
}

impl ErrVar {
    /// Weight of the newest squared error once warmed up.
    const ALPHA: f64 = 0.02;

    /// No errors seen yet.
    pub(crate) fn new() -> ErrVar {
        ErrVar { var: 0.0, n: 0 }
    }

    /// Start from a known variance (after a fit).
    pub(crate) fn from_var(var: f64, n: u32) -> ErrVar {
        ErrVar {
            var: if var.is_finite() { var.max(0.0) } else { 0.0 },
            n,
        }
    }

    /// Record one one-step error.
    pub(crate) fn push(&mut self, e: f64) {
        if !e.is_finite() {
            return;
        }
        self.n = self.n.saturating_add(1);
        // Plain mean while few errors are known, then exponential forgetting.
        let w = (1.0 / self.n as f64).max(Self::ALPHA);
        self.var += w * (e * e - self.var);
    }

    /// Current variance estimate.
    pub(crate) fn var(&self) -> f64 {
        self.var
    }
}
