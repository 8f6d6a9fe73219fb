//! Exponential smoothing: Holt (damped additive trend) and additive
//! Holt-Winters (damped trend plus one seasonal cycle).
//!
//! `fit` chooses the smoothing parameters by minimising the one-step squared
//! error over the history: a coarse grid first, then a compass search that
//! halves its step (cheap, derivative-free, and bounded to (0, 1)). Before any
//! `fit` the models run with textbook defaults. Intervals use the ETS(A,Ad,·)
//! variance formula with the one-step σ² tracked online.

use super::{clean, ErrVar, Forecast, Forecaster};

/// Minimise `f` over the box `lo..hi` by compass search from `x0`.
fn compass<const N: usize>(
    f: &mut dyn FnMut(&[f64; N]) -> f64,
    x0: [f64; N],
    lo: [f64; N],
    hi: [f64; N],
) -> [f64; N] {
    let mut x = x0;
    let mut fx = f(&x);
    let mut step = 0.1;
    while step > 0.004 {
        let mut improved = false;
        for i in 0..N {
            for dir in [-1.0, 1.0] {
                let mut y = x;
                y[i] = (y[i] + dir * step).clamp(lo[i], hi[i]);
                if y[i] == x[i] {
                    continue;
                }
                let fy = f(&y);
                if fy < fx {
                    x = y;
                    fx = fy;
                    improved = true;
                }
            }
        }
        if !improved {
            step /= 2.0;
        }
    }
    x
}

/// Minimise `f` over the box `lo..hi`: the best point of the `grid` (every
/// combination of the listed values), then a compass search from it.
fn grid_then_compass<const N: usize>(
    f: &mut dyn FnMut(&[f64; N]) -> f64,
    grid: [&[f64]; N],
    lo: [f64; N],
    hi: [f64; N],
) -> [f64; N] {
    let mut best = ([0.0; N], f64::INFINITY);
    let mut idx = [0usize; N];
    'points: loop {
        let x: [f64; N] = std::array::from_fn(|i| grid[i][idx[i]]);
        let v = f(&x);
        if v < best.1 {
            best = (x, v);
        }
        // Next combination, the last parameter turning fastest.
        for i in (0..N).rev() {
            idx[i] += 1;
            if idx[i] < grid[i].len() {
                continue 'points;
            }
            idx[i] = 0;
        }
        break;
    }
    compass(f, best.0, lo, hi)
}

/// Sum of φ^1..φ^k (damped trend multiplier for step k).
fn damp_sum(phi: f64, k: usize) -> f64 {
    let mut s = 0.0;
    let mut p = 1.0;
    for _ in 0..k {
        p *= phi;
        s += p;
    }
    s
}

/// Holt's linear method with a damped trend (φ = 1 is the classic method).
#[derive(Clone, Debug)]
pub struct Holt {
    alpha: f64,
    beta: f64,
    phi: f64,
    level: f64,
    trend: f64,
    seen: u8,
    err: ErrVar,
}

impl Holt {
    /// Holt with defaults α = 0.5, β = 0.1, φ = 0.98 until `fit` is called.
    pub fn new() -> Holt {
        Holt::with_params(0.5, 0.1, 0.98)
    }

    /// Holt with fixed parameters (clamped to [0, 1]).
    pub fn with_params(alpha: f64, beta: f64, phi: f64) -> Holt {
        Holt {
            alpha: alpha.clamp(0.0, 1.0),
            beta: beta.clamp(0.0, 1.0),
            phi: phi.clamp(0.0, 1.0),
            level: 0.0,
            trend: 0.0,
            seen: 0,
            err: ErrVar::new(),
        }
    }

    /// The smoothing parameters (α, β, φ).
    pub fn params(&self) -> (f64, f64, f64) {
        (self.alpha, self.beta, self.phi)
    }

    fn step(&mut self, x: f64) {
        match self.seen {
            0 => {
                self.level = x;
                self.seen = 1;
            }
            1 => {
                self.trend = x - self.level;
                self.level = x;
                self.seen = 2;
            }
            _ => {
                let f = self.level + self.phi * self.trend;
                self.err.push(x - f);
                let l = self.alpha * x + (1.0 - self.alpha) * f;
                self.trend =
                    self.beta * (l - self.level) + (1.0 - self.beta) * self.phi * self.trend;
                self.level = l;
            }
        }
    }

    /// One-step SSE of a parameter set over `xs` (state left as after `xs`).
    fn sse(params: [f64; 3], xs: &[f64]) -> f64 {
        let mut m = Holt::with_params(params[0], params[1], params[2]);
        let mut sse = 0.0;
        for &x in xs {
            if m.seen >= 2 {
                let e = x - (m.level + m.phi * m.trend);
                sse += e * e;
            }
            m.step(x);
        }
        sse
    }
}

impl Default for Holt {
    fn default() -> Self {
        Self::new()
    }
}

impl Forecaster for Holt {
    fn name(&self) -> &'static str {
        "holt"
    }

    fn update(&mut self, x: Option<f64>) {
        match clean(x) {
            Some(x) => self.step(x),
            // Missing: move along the trend without learning.
            None if self.seen >= 2 => {
                self.level += self.phi * self.trend;
                self.trend *= self.phi;
            }
            None => {}
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        if self.seen == 0 {
            return Vec::new();
        }
        let s2 = self.err.var();
        let mut acc = 0.0;
        (1..=h)
            .map(|k| {
                let m = self.level + damp_sum(self.phi, k) * self.trend;
                let sd = (s2 * (1.0 + acc)).sqrt();
                let c = self.alpha * (1.0 + self.beta * damp_sum(self.phi, k));
                acc += c * c;
                Forecast::with_sd(m, sd)
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let xs: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
        let p = grid_then_compass(
            &mut |p: &[f64; 3]| Holt::sse(*p, &xs),
            [
                &[0.1, 0.3, 0.5, 0.7, 0.9],
                &[0.01, 0.05, 0.2],
                &[0.8, 0.9, 0.98, 1.0],
            ],
            [0.01, 0.0, 0.7],
            [1.0, 1.0, 1.0],
        );
        *self = Holt::with_params(p[0], p[1], p[2]);
        for &x in &xs {
            self.step(x);
        }
    }
}

/// Additive Holt-Winters: level, damped trend and one seasonal cycle of `period` samples.
#[derive(Clone, Debug)]
pub struct HoltWinters {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    period: usize,
    level: f64,
    trend: f64,
    /// Seasonal terms by phase (t mod period); raw samples during the first season.
    season: Vec<f64>,
    /// Samples seen (saturating); the phase of the next sample is `t % period`.
    t: u64,
    err: ErrVar,
}

impl HoltWinters {
    /// Holt-Winters with defaults α = 0.3, β = 0.02, γ = 0.2, φ = 0.98 until `fit`.
    pub fn new(period: usize) -> HoltWinters {
        HoltWinters::with_params(period, [0.3, 0.02, 0.2, 0.98])
    }

    /// Holt-Winters with fixed parameters `[α, β, γ, φ]` (clamped to [0, 1]).
    pub fn with_params(period: usize, p: [f64; 4]) -> HoltWinters {
        let period = period.max(2);
        HoltWinters {
            alpha: p[0].clamp(0.0, 1.0),
            beta: p[1].clamp(0.0, 1.0),
            gamma: p[2].clamp(0.0, 1.0),
            phi: p[3].clamp(0.0, 1.0),
            period,
            level: 0.0,
            trend: 0.0,
            season: vec![0.0; period],
            t: 0,
            err: ErrVar::new(),
        }
    }

    /// The parameters `[α, β, γ, φ]`.
    pub fn params(&self) -> [f64; 4] {
        [self.alpha, self.beta, self.gamma, self.phi]
    }

    fn phase(&self, ahead: u64) -> usize {
        ((self.t + ahead) % self.period as u64) as usize
    }

    fn warm(&self) -> bool {
        self.t >= self.period as u64
    }

    /// One-step forecast (after warm-up).
    fn one_step(&self) -> f64 {
        self.level + self.phi * self.trend + self.season[self.phase(0)]
    }

    fn step(&mut self, x: f64) {
        let m = self.period;
        if !self.warm() {
            // First season: keep raw samples, then split into level + seasonal.
            let i = self.phase(0);
            self.season[i] = x;
            self.t += 1;
            if self.warm() {
                let mean = self.season.iter().sum::<f64>() / m as f64;
                self.level = mean;
                self.trend = 0.0;
                for s in &mut self.season {
                    *s -= mean;
                }
            }
            return;
        }
        let i = self.phase(0);
        let f = self.one_step();
        self.err.push(x - f);
        let s_old = self.season[i];
        let l =
            self.alpha * (x - s_old) + (1.0 - self.alpha) * (self.level + self.phi * self.trend);
        self.trend = self.beta * (l - self.level) + (1.0 - self.beta) * self.phi * self.trend;
        self.season[i] = self.gamma * (x - l) + (1.0 - self.gamma) * s_old;
        self.level = l;
        self.t = self.t.saturating_add(1);
    }

    fn sse(period: usize, p: [f64; 4], xs: &[f64]) -> f64 {
        let mut m = HoltWinters::with_params(period, p);
        let mut sse = 0.0;
        for &x in xs {
            if m.warm() {
                let e = x - m.one_step();
                sse += e * e;
            }
            m.step(x);
        }
        sse
    }
}

impl Forecaster for HoltWinters {
    fn name(&self) -> &'static str {
        "holt_winters"
    }

    fn update(&mut self, x: Option<f64>) {
        match clean(x) {
            Some(x) => self.step(x),
            None if self.warm() => {
                // Impute the forecast, keeping the phase, without learning from it.
                let f = self.one_step();
                let e = self.err;
                self.step(f);
                self.err = e;
            }
            // Before a full season there is nothing to impute from: repeat the last sample.
            None if self.t > 0 => {
                let last = self.season[self.phase(self.period as u64 - 1)];
                self.step(last);
            }
            None => {}
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        if self.t == 0 {
            return Vec::new();
        }
        if !self.warm() {
            // Not a full season yet: last value with no interval knowledge.
            let last = self.season[self.phase(self.period as u64 - 1)];
            return vec![Forecast::with_sd(last, 0.0); h];
        }
        let s2 = self.err.var();
        let mut acc = 0.0;
        (1..=h)
            .map(|k| {
                let m = self.level
                    + damp_sum(self.phi, k) * self.trend
                    + self.season[self.phase(k as u64 - 1)];
                let sd = (s2 * (1.0 + acc)).sqrt();
                let seasonal = if k % self.period == 0 {
                    self.gamma
                } else {
                    0.0
                };
                let c = self.alpha * (1.0 + self.beta * damp_sum(self.phi, k)) + seasonal;
                acc += c * c;
                Forecast::with_sd(m, sd)
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let xs: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
        let period = self.period;
        let p = grid_then_compass(
            &mut |p: &[f64; 4]| HoltWinters::sse(period, *p, &xs),
            [
                &[0.1, 0.3, 0.6, 0.9],
                &[0.0, 0.02, 0.1],
                &[0.05, 0.2, 0.5],
                &[0.9, 0.98],
            ],
            [0.01, 0.0, 0.0, 0.7],
            [1.0, 1.0, 1.0, 1.0],
        );
        *self = HoltWinters::with_params(period, p);
        for &x in &xs {
            self.step(x);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.season.capacity() * std::mem::size_of::<f64>()
    }
}

/// Two-speed smoothing: a fast level tracks where the series is now, a slow
/// level where it settles, and the forecast decays from the first to the
/// second (`slow + φ^k·(fast − slow)`).
///
/// It suits a seasonally adjusted load: what is left is a local mean plus
/// deviations (a flow that turns on, a crowd, a slow wander) that persist
/// for a while and then fade, which a trend model (Holt) extrapolates
/// instead. `fit` minimises the absolute errors of the forecasts of steps
/// 1..=`horizon` (NMAE is what the forecasts are judged by, and absolute
/// errors keep one burst from dominating the fit). The slow level keeps a
/// memory of at most about 100 steps (β ≥ 0.01): with β = 0 it would be the
/// mean of the whole history, a fixed mean that a quieter weekend or a
/// reroute moves away from for good, and a few days of history rarely show
/// such a shift, so a fit would happily choose it.
#[derive(Clone, Debug)]
pub struct Reverting {
    alpha: f64,
    beta: f64,
    phi: f64,
    horizon: usize,
    fast: f64,
    slow: f64,
    /// Samples learned from (saturating): the slow level averages plainly until 1/β of them.
    n: u32,
    err: ErrVar,
}

impl Reverting {
    /// Smallest β `fit` considers (see the type's doc).
    const MIN_BETA: f64 = 0.01;

    /// Defaults α = 0.5, β = 0.01, φ = 0.95 until `fit`, which targets steps 1..=`horizon`.
    pub fn new(horizon: usize) -> Reverting {
        Reverting::with_params(horizon, [0.5, 0.01, 0.95])
    }

    /// Fixed parameters `[α, β, φ]` (clamped to [0, 1]): fast and slow smoothing, reversion per step.
    pub fn with_params(horizon: usize, p: [f64; 3]) -> Reverting {
        Reverting {
            alpha: p[0].clamp(0.0, 1.0),
            beta: p[1].clamp(0.0, 1.0),
            phi: p[2].clamp(0.0, 1.0),
            horizon: horizon.max(1),
            fast: 0.0,
            slow: 0.0,
            n: 0,
            err: ErrVar::new(),
        }
    }

    /// The parameters `[α, β, φ]`.
    pub fn params(&self) -> [f64; 3] {
        [self.alpha, self.beta, self.phi]
    }

    fn point(&self, k: usize) -> f64 {
        self.slow + self.phi.powi(k as i32) * (self.fast - self.slow)
    }

    fn step(&mut self, x: f64) {
        if self.n == 0 {
            self.fast = x;
            self.slow = x;
        } else {
            self.err.push(x - self.point(1));
            self.fast += self.alpha * (x - self.fast);
            let w = (1.0 / f64::from(self.n.saturating_add(1))).max(self.beta);
            self.slow += w * (x - self.slow);
        }
        self.n = self.n.saturating_add(1);
    }

    /// Sum of absolute errors of the step 1..=horizon forecasts of a parameter set over `xs`.
    fn loss(horizon: usize, p: [f64; 3], xs: &[f64]) -> f64 {
        let mut m = Reverting::with_params(horizon, p);
        let mut loss = 0.0;
        for (t, &x) in xs.iter().enumerate() {
            if m.n > 0 {
                for (k, y) in (1..=horizon).zip(&xs[t..]) {
                    loss += (y - m.point(k)).abs();
                }
            }
            m.step(x);
        }
        loss
    }
}

impl Forecaster for Reverting {
    fn name(&self) -> &'static str {
        "reverting"
    }

    fn update(&mut self, x: Option<f64>) {
        match clean(x) {
            Some(x) => self.step(x),
            // Missing: the fast level follows its own forecast, nothing is learned.
            None if self.n > 0 => self.fast = self.point(1),
            None => {}
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        if self.n == 0 {
            return Vec::new();
        }
        let s2 = self.err.var();
        let mut acc = 0.0;
        (1..=h)
            .map(|k| {
                let sd = (s2 * (1.0 + acc)).sqrt();
                // The share of one shock that the step-(k+1) forecast still carries.
                let pk = self.phi.powi(k as i32);
                let c = self.alpha * pk + self.beta * (1.0 - pk);
                acc += c * c;
                Forecast::with_sd(self.point(k), sd)
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let xs: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
        let h = self.horizon;
        let p = grid_then_compass(
            &mut |p: &[f64; 3]| Reverting::loss(h, *p, &xs),
            [
                &[0.1, 0.3, 0.5, 0.7, 0.9],
                &[Self::MIN_BETA, 0.02, 0.05],
                &[0.8, 0.9, 0.95, 1.0],
            ],
            [0.01, Self::MIN_BETA, 0.5],
            [1.0, 0.2, 1.0],
        );
        *self = Reverting::with_params(h, p);
        for &x in &xs {
            self.step(x);
        }
    }
}
