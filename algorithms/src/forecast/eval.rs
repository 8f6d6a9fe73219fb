//! Rolling-origin evaluation of forecasters on one series.
//!
//! Each model is fitted on the training prefix; then at every origin t
//! (after seeing samples 0..t) it predicts `horizon` steps, the step-h
//! forecast is compared with sample t + h − 1, and the model is updated with
//! sample t. Optionally the model is refitted every `refit_every` origins on
//! the last `history` samples, as a deployment would. Non-finite samples
//! reach the models as missing and are not scored.

use super::Forecaster;

/// How to run the evaluation.
#[derive(Clone, Copy, Debug)]
pub struct EvalConfig {
    /// Samples used for the first fit; scoring starts after them.
    pub train: usize,
    /// Step ahead that is scored (≥ 1).
    pub horizon: usize,
    /// Refit every this many origins (None: fit once).
    pub refit_every: Option<usize>,
    /// Samples a refit sees (the most recent).
    pub history: usize,
}

/// Errors of one model at the evaluated horizon.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelScore {
    /// Model name.
    pub name: &'static str,
    /// Σ|error| / Σ|actual|.
    pub nmae: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Median of |error| / |actual| over non-zero actuals.
    pub median_ape: f64,
    /// Share of actuals inside the 80 % interval.
    pub coverage: f64,
    /// Number of scored forecasts.
    pub n: usize,
    /// Σ|error|, Σ|actual| and Σerror², so scores of several series can be pooled.
    pub sums: ErrorSums,
}

/// Error sums of scored forecasts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ErrorSums {
    /// Σ|error|.
    pub abs_error: f64,
    /// Σ|actual|.
    pub abs_actual: f64,
    /// Σerror².
    pub sq_error: f64,
}

/// Rolling-origin scores of each model on `series` (models are consumed: fitting changes them).
pub fn evaluate(
    series: &[f64],
    models: Vec<Box<dyn Forecaster>>,
    cfg: &EvalConfig,
) -> Vec<ModelScore> {
    models
        .into_iter()
        .map(|m| evaluate_one(series, m, cfg))
        .collect()
}

fn evaluate_one(series: &[f64], mut m: Box<dyn Forecaster>, cfg: &EvalConfig) -> ModelScore {
    let h = cfg.horizon.max(1);
    let train = cfg.train.min(series.len());
    m.fit(&series[..train]);
    let (mut abs, mut act, mut sq, mut inside) = (0.0, 0.0, 0.0, 0usize);
    let mut apes = Vec::new();
    let mut n = 0usize;
    for t in train..series.len() {
        if let Some(every) = cfg.refit_every {
            if every > 0 && t > train && (t - train).is_multiple_of(every) {
                m.fit(&series[t.saturating_sub(cfg.history)..t]);
            }
        }
        if let (Some(f), Some(&y)) = (m.predict(h).get(h - 1), series.get(t + h - 1)) {
            let e = y - f.mean;
            if y.is_finite() && e.is_finite() {
                abs += e.abs();
                act += y.abs();
                sq += e * e;
                if y != 0.0 {
                    apes.push(e.abs() / y.abs());
                }
                inside += usize::from(f.lower <= y && y <= f.upper);
                n += 1;
            }
        }
        m.update(Some(series[t]));
    }
    apes.sort_by(f64::total_cmp);
    let nan_if_empty = |v: f64| if n == 0 { f64::NAN } else { v };
    ModelScore {
        name: m.name(),
        nmae: if act > 0.0 { abs / act } else { f64::NAN },
        rmse: nan_if_empty((sq / n.max(1) as f64).sqrt()),
        median_ape: apes.get(apes.len() / 2).copied().unwrap_or(f64::NAN),
        coverage: nan_if_empty(inside as f64 / n.max(1) as f64),
        n,
        sums: ErrorSums {
            abs_error: abs,
            abs_actual: act,
            sq_error: sq,
        },
    }
}
