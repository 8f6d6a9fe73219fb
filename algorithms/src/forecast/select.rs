//! Per-link model selection by rolling-origin error.
//!
//! A [`Selector`] runs every candidate model on one series. Each round it
//! stores each model's forecasts for steps 1..=H; when the sample they were
//! aimed at arrives it scores them, keeping per model and per step an
//! exponentially weighted mean absolute error (a memory of about a day at
//! 5-minute steps). Step k of a prediction comes from the model (or the
//! ensemble, itself scored the same way) with the least error at step k.
//! [`Selector::selected`] names the choice at the horizon of interest.
//!
//! The ensemble is the plain mean of the [`ENSEMBLE_SIZE`] best-scored
//! models at each step. Equal weights over a few good models beat weights
//! estimated from the scores (inverse squared error over every model, tried
//! first): scores of similar models differ by less than their noise, so
//! estimated weights mostly add variance, and a poor model never gets a say.
//!
//! Refits: `fit(history)` fits every model on the older two thirds of the
//! history and then rolls through the rest, online, scoring as it goes: a
//! rolling-origin backtest that seeds the scores; then every model is fitted
//! again on the whole history (so a refit costs two fits). The selector keeps the
//! last `history` samples in a ring so that a caller can refit on a schedule
//! off the event loop: take [`Selector::history`] (a copy), build and fit a
//! new selector on a worker, then feed it the samples that arrived meanwhile
//! and swap it in. [`Selector::refit_due`] says when the schedule asks for it.

use super::smoothing::{Holt, Reverting};
use super::{
    clean, Arima, ArimaConfig, Forecast, Forecaster, Gru, GruConfig, HoltWinters, LastValue,
    MovingAverage, Ring, SeasonalAdjust, SeasonalNaive, Seasonality,
};

/// Models averaged by the ensemble candidate: the best-scored few, equally weighted.
pub const ENSEMBLE_SIZE: usize = 3;

/// Which candidates a selector runs and how it scores them.
#[derive(Clone, Copy, Debug)]
pub struct SelectorConfig {
    /// Steps scored and selected separately (1..=horizon); later steps use the last.
    pub horizon: usize,
    /// The step whose best model [`Selector::selected`] reports.
    pub horizon_of_interest: usize,
    /// Season length in samples (288: one day of 5-minute samples).
    pub period: usize,
    /// Weight of the newest absolute error in the scores.
    pub decay: f64,
    /// Samples kept for refits.
    pub history: usize,
    /// Rounds between scheduled refits.
    pub refit_every: usize,
    /// Run the GRU (costliest fit) among the candidates.
    pub gru: bool,
    /// Offer the ensemble (mean of the best-scored models) as a candidate.
    pub ensemble: bool,
}

impl Default for SelectorConfig {
    fn default() -> Self {
        SelectorConfig {
            horizon: 3,
            horizon_of_interest: 3,
            period: 288,
            decay: 0.003,
            history: 864,
            refit_every: 288,
            gru: true,
            ensemble: true,
        }
    }
}

/// Runs candidate forecasters on one series and predicts with the best lately.
pub struct Selector {
    cfg: SelectorConfig,
    models: Vec<Box<dyn Forecaster>>,
    /// Per candidate (models, then the ensemble) and step: EW mean absolute error.
    score: Vec<Vec<f64>>,
    /// Per candidate and step: number of scored errors (saturating).
    scored: Vec<Vec<u32>>,
    /// Forecast means of the last `horizon` rounds, newest last: [round][candidate][step].
    pending: Vec<Vec<Vec<f64>>>,
    history: Ring,
    since_fit: usize,
}

/// Fresh instances of the selection's default candidates for `cfg` (the
/// GRU only when `cfg.gru`), for a selector or for comparing them one by one.
pub fn default_models(cfg: &SelectorConfig) -> Vec<Box<dyn Forecaster>> {
    // Seasonal profiles are averaged over an hour either side (of a daily
    // cycle): a few days hold too few samples of each phase for a sharper curve.
    let profile_smoothing = (cfg.period / 24).max(1);
    let mut models: Vec<Box<dyn Forecaster>> = vec![
        Box::new(LastValue::new()),
        Box::new(MovingAverage::new(3)),
        Box::new(SeasonalNaive::new(cfg.period)),
        Box::new(Holt::new()),
        Box::new(HoltWinters::new(cfg.period)),
        Box::new(Arima::new(ArimaConfig::default())),
        Box::new(SeasonalAdjust::new(
            "sa_holt",
            cfg.period,
            profile_smoothing,
            Seasonality::Multiplicative,
            Box::new(Holt::new()),
        )),
        Box::new(SeasonalAdjust::new(
            "sa_reverting",
            cfg.period,
            profile_smoothing,
            Seasonality::Multiplicative,
            Box::new(Reverting::new(cfg.horizon)),
        )),
    ];
    if cfg.gru {
        models.push(Box::new(Gru::new(GruConfig {
            period: cfg.period,
            horizon: cfg.horizon,
            ..GruConfig::default()
        })));
    }
    models
}

impl Selector {
    /// A selector with the default candidate set for `cfg`.
    pub fn new(cfg: SelectorConfig) -> Selector {
        let cfg = SelectorConfig {
            horizon: cfg.horizon.max(1),
            horizon_of_interest: cfg.horizon_of_interest.clamp(1, cfg.horizon.max(1)),
            period: cfg.period.max(2),
            ..cfg
        };
        let models = default_models(&cfg);
        Selector::with_models(cfg, models)
    }

    /// A selector over the given candidates (at least one).
    pub fn with_models(cfg: SelectorConfig, models: Vec<Box<dyn Forecaster>>) -> Selector {
        assert!(!models.is_empty(), "a selector needs at least one model");
        let cands = models.len() + usize::from(cfg.ensemble);
        Selector {
            score: vec![vec![0.0; cfg.horizon]; cands],
            scored: vec![vec![0; cfg.horizon]; cands],
            pending: Vec::with_capacity(cfg.horizon),
            history: Ring::new(cfg.history),
            since_fit: 0,
            models,
            cfg,
        }
    }

    /// Candidate names in score order (the ensemble last, as "ensemble").
    pub fn candidates(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.models.iter().map(|m| m.name()).collect();
        if self.cfg.ensemble {
            v.push("ensemble");
        }
        v
    }

    /// Current scores (EW mean absolute error) of each candidate at step `k` (1-based).
    pub fn scores(&self, k: usize) -> Vec<f64> {
        let j = k.clamp(1, self.cfg.horizon) - 1;
        self.score.iter().map(|s| s[j]).collect()
    }

    /// Index of the best candidate at step `k` (1-based); unscored candidates rank last.
    fn best(&self, k: usize) -> usize {
        let j = k.clamp(1, self.cfg.horizon) - 1;
        let mut best = 0;
        let mut best_s = f64::INFINITY;
        for (i, s) in self.score.iter().enumerate() {
            let v = if self.scored[i][j] == 0 {
                f64::INFINITY
            } else {
                s[j]
            };
            if v < best_s {
                best_s = v;
                best = i;
            }
        }
        best
    }

    /// The candidate that predicts the horizon of interest now.
    pub fn selected(&self) -> &'static str {
        self.candidates()[self.best(self.cfg.horizon_of_interest)]
    }

    /// The candidate that predicts step `k` now.
    pub fn selected_for(&self, k: usize) -> &'static str {
        self.candidates()[self.best(k)]
    }

    /// The samples kept for refits, oldest first.
    pub fn history(&self) -> Vec<f64> {
        self.history.to_vec()
    }

    /// Number of samples kept for refits.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Whether `refit_every` rounds have passed since the last fit.
    pub fn refit_due(&self) -> bool {
        self.since_fit >= self.cfg.refit_every
    }

    /// Ensemble weights at step index `j`: equal over the [`ENSEMBLE_SIZE`]
    /// best-scored models (over every model until any is scored).
    fn ensemble_weights(&self, j: usize) -> Vec<f64> {
        let n = self.models.len();
        let mut ranked: Vec<usize> = (0..n).filter(|&i| self.scored[i][j] > 0).collect();
        if ranked.is_empty() {
            return vec![1.0 / n as f64; n];
        }
        ranked.sort_by(|&a, &b| self.score[a][j].total_cmp(&self.score[b][j]));
        ranked.truncate(ENSEMBLE_SIZE);
        let mut w = vec![0.0; n];
        for &i in &ranked {
            w[i] = 1.0 / ranked.len() as f64;
        }
        w
    }

    /// Every candidate's forecasts for steps 1..=h (`None` where a model has none yet).
    fn all_forecasts(&self, h: usize) -> Vec<Vec<Option<Forecast>>> {
        let mut out: Vec<Vec<Option<Forecast>>> = self
            .models
            .iter()
            .map(|m| {
                let mut f: Vec<Option<Forecast>> = m.predict(h).into_iter().map(Some).collect();
                f.resize(h, None);
                f
            })
            .collect();
        if self.cfg.ensemble {
            let ens = (0..h)
                .map(|k| {
                    let w = self.ensemble_weights(k.min(self.cfg.horizon - 1));
                    let (mut m, mut lo, mut hi, mut tw) = (0.0, 0.0, 0.0, 0.0);
                    for (i, f) in out.iter().enumerate() {
                        if let Some(f) = f[k] {
                            m += w[i] * f.mean;
                            lo += w[i] * f.lower;
                            hi += w[i] * f.upper;
                            tw += w[i];
                        }
                    }
                    (tw > 0.0).then(|| Forecast {
                        mean: m / tw,
                        lower: lo / tw,
                        upper: hi / tw,
                    })
                })
                .collect();
            out.push(ens);
        }
        out
    }

    /// Score pending forecasts against the sample just arrived.
    fn score_sample(&mut self, x: f64) {
        let h = self.cfg.horizon;
        let n = self.pending.len();
        for (age, round) in self.pending.iter().enumerate() {
            // The newest round (age n−1) forecast this sample at step 1.
            let j = n - 1 - age;
            if j >= h {
                continue;
            }
            for (i, f) in round.iter().enumerate() {
                let e = (x - f[j]).abs();
                if !e.is_finite() {
                    continue;
                }
                let c = &mut self.scored[i][j];
                *c = c.saturating_add(1);
                let w = (1.0 / *c as f64).max(self.cfg.decay);
                self.score[i][j] += w * (e - self.score[i][j]);
            }
        }
    }

    /// Advance every model by one sample and record this round's forecasts.
    fn step(&mut self, x: Option<f64>) {
        let x = clean(x);
        if let Some(v) = x {
            self.score_sample(v);
        }
        for m in &mut self.models {
            m.update(x);
        }
        let h = self.cfg.horizon;
        let round: Vec<Vec<f64>> = self
            .all_forecasts(h)
            .into_iter()
            .map(|f| {
                f.into_iter()
                    .map(|s| s.map_or(f64::NAN, |s| s.mean))
                    .collect()
            })
            .collect();
        if self.pending.len() == h {
            self.pending.remove(0);
        }
        self.pending.push(round);
    }
}

impl Forecaster for Selector {
    fn name(&self) -> &'static str {
        "selected"
    }

    fn update(&mut self, x: Option<f64>) {
        self.step(x);
        // Missing samples are kept as gaps (NaN) so a refit sees true spacing.
        self.history.push(clean(x).unwrap_or(f64::NAN));
        self.since_fit = self.since_fit.saturating_add(1);
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        let all = self.all_forecasts(h);
        (1..=h)
            .map_while(|k| {
                let pick = self.best(k);
                all[pick][k - 1].or_else(|| all.iter().find_map(|f| f[k - 1]))
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let mut fresh = Selector::with_models(self.cfg, std::mem::take(&mut self.models));
        let n = history.len();
        let split = if n >= 3 * self.cfg.period {
            n - n / 3
        } else {
            n * 2 / 3
        };
        let (train, test) = history.split_at(split);
        for m in &mut fresh.models {
            m.fit(train);
        }
        for &x in test {
            fresh.update(Some(x));
        }
        // Scores came from the backtest; the models now learn from everything.
        for m in &mut fresh.models {
            m.fit(history);
        }
        fresh.pending.clear();
        // The ring holds what was fitted as well, for the next refit.
        fresh.history = Ring::new(self.cfg.history);
        for &x in &history[n.saturating_sub(self.cfg.history)..] {
            fresh.history.push(x);
        }
        fresh.since_fit = 0;
        *self = fresh;
    }

    fn heap_bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        let cands = self.score.len();
        let h = self.cfg.horizon;
        self.models.iter().map(|m| m.heap_bytes()).sum::<usize>()
            + self.history.heap_bytes()
            + cands * h * (f + 4)
            + h * cands * h * f
    }
}
