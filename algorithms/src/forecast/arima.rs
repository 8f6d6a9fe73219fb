//! ARIMA(p, d, q) fitted per series, updated online between fits.
//!
//! Fitting (`fit`, meant to run off the event loop on a schedule):
//! 1. difference the history `d` times (`d` ≤ `max_d`) and remove the mean
//!    (the mean of the differences is the drift when `d` ≥ 1);
//! 2. Hannan–Rissanen: fit a long AR(m) by least squares and take its
//!    residuals as estimates of the innovations; then regress the series on
//!    `p` own lags and `q` lagged innovations (ordinary least squares by
//!    linfa-linear, see `linalg`);
//! 3. keep the (p, d, q) of least AIC = n·ln σ² + 2(p + q + 1), computed on
//!    one common stretch of the original series so that differing `d`
//!    compete fairly (one-step errors of a differenced model are errors on
//!    the original scale); candidates whose AR part is not stationary or
//!    whose MA part is not invertible are skipped.
//!
//! Between fits `update` keeps the last `d` raw samples, `p` differences and
//! `q` innovations (all in fixed rings), so an update costs O(p + q + d).
//! Intervals come from the ψ-weights of φ(B)(1 − B)^d and the innovation
//! variance (re-estimated online). Before the first fit the model is
//! ARIMA(0, 1, 0), the random walk.

use super::linalg::lstsq;
use super::{clean, ErrVar, Forecast, Forecaster, Ring};
use ndarray::{Array1, Array2};

/// The grid of orders tried by `fit`.
#[derive(Clone, Copy, Debug)]
pub struct ArimaConfig {
    /// Largest AR order tried.
    pub max_p: usize,
    /// Largest differencing order tried.
    pub max_d: usize,
    /// Largest MA order tried.
    pub max_q: usize,
}

impl Default for ArimaConfig {
    fn default() -> Self {
        ArimaConfig {
            max_p: 3,
            max_d: 1,
            max_q: 2,
        }
    }
}

/// An ARIMA(p, d, q) model with its online state.
#[derive(Clone, Debug)]
pub struct Arima {
    cfg: ArimaConfig,
    d: usize,
    mu: f64,
    phi: Vec<f64>,
    theta: Vec<f64>,
    /// Last d+1 raw samples (to difference new ones and integrate forecasts).
    raw: Ring,
    /// Last max(p, 1) differenced samples, minus `mu`.
    w: Ring,
    /// Last max(q, 1) innovations.
    e: Ring,
    err: ErrVar,
}

/// Coefficients c_i of (1 − B)^d: Δ^d x_t = Σ c_i x_{t−i}.
fn diff_coeffs(d: usize) -> Vec<f64> {
    let mut c = vec![1.0];
    for _ in 0..d {
        let mut n = vec![0.0; c.len() + 1];
        for (i, v) in c.iter().enumerate() {
            n[i] += v;
            n[i + 1] -= v;
        }
        c = n;
    }
    c
}

/// Difference `xs` d times.
fn difference(xs: &[f64], d: usize) -> Vec<f64> {
    let mut w = xs.to_vec();
    for _ in 0..d {
        w = w.windows(2).map(|p| p[1] - p[0]).collect();
    }
    w
}

/// Whether 1/(1 − Σ a_i B^i) has a decaying impulse response (a stationary AR).
fn stable(a: &[f64]) -> bool {
    let mut r = vec![0.0; 200];
    r[0] = 1.0;
    for j in 1..r.len() {
        r[j] = a
            .iter()
            .enumerate()
            .filter(|(i, _)| *i < j)
            .map(|(i, c)| c * r[j - 1 - i])
            .sum();
    }
    r[150..].iter().all(|v| v.abs() < 0.5) && r.iter().all(|v| v.is_finite())
}

/// One fitted candidate: coefficients, mean, and the score on the common stretch.
struct Candidate {
    d: usize,
    mu: f64,
    phi: Vec<f64>,
    theta: Vec<f64>,
    aic: f64,
    sigma2: f64,
}

impl Arima {
    /// An unfitted model (a random walk) that will search `cfg` when fitted.
    pub fn new(cfg: ArimaConfig) -> Arima {
        Arima::with_coefficients(cfg, 1, 0.0, Vec::new(), Vec::new())
    }

    /// A model with given order and coefficients (x differenced `d` times has mean `mu`).
    pub fn with_coefficients(
        cfg: ArimaConfig,
        d: usize,
        mu: f64,
        phi: Vec<f64>,
        theta: Vec<f64>,
    ) -> Arima {
        Arima {
            cfg,
            d,
            mu,
            raw: Ring::new(d + 1),
            w: Ring::new(phi.len().max(1)),
            e: Ring::new(theta.len().max(1)),
            phi,
            theta,
            err: ErrVar::new(),
        }
    }

    /// The order (p, d, q).
    pub fn order(&self) -> (usize, usize, usize) {
        (self.phi.len(), self.d, self.theta.len())
    }

    /// AR coefficients φ_1..φ_p.
    pub fn ar(&self) -> &[f64] {
        &self.phi
    }

    /// MA coefficients θ_1..θ_q.
    pub fn ma(&self) -> &[f64] {
        &self.theta
    }

    /// Mean of the differenced series (drift when d ≥ 1).
    pub fn mean(&self) -> f64 {
        self.mu
    }

    /// Forecast of the next differenced value minus `mu`, given the state.
    fn next_w(&self, w: &[f64], e: &[f64]) -> f64 {
        // `w` and `e` are newest first.
        let ar: f64 = self.phi.iter().zip(w).map(|(a, v)| a * v).sum();
        let ma: f64 = self.theta.iter().zip(e).map(|(b, v)| b * v).sum();
        ar + ma
    }

    fn recent(ring: &Ring, n: usize) -> Vec<f64> {
        (0..n).map(|k| ring.back(k).unwrap_or(0.0)).collect()
    }

    /// Point forecasts for steps 1..=h (empty until d+1 samples... or one for d = 0).
    fn means(&self, h: usize) -> Vec<f64> {
        if self.raw.len() < self.d.max(1) {
            return Vec::new();
        }
        let c = diff_coeffs(self.d);
        let mut w = Self::recent(&self.w, self.phi.len());
        let mut e = Self::recent(&self.e, self.theta.len());
        let mut x = Self::recent(&self.raw, self.d);
        let mut out = Vec::with_capacity(h);
        for _ in 0..h {
            let z = self.next_w(&w, &e);
            // x_t = w_t − Σ_{i≥1} c_i x_{t−i}
            let xt = z + self.mu - c[1..].iter().zip(&x).map(|(ci, xi)| ci * xi).sum::<f64>();
            out.push(xt);
            if !w.is_empty() {
                w.rotate_right(1);
                w[0] = z;
            }
            if !e.is_empty() {
                e.rotate_right(1);
                e[0] = 0.0;
            }
            if !x.is_empty() {
                x.rotate_right(1);
                x[0] = xt;
            }
        }
        out
    }

    /// ψ-weights ψ_0..ψ_{h−1} of θ(B)/(φ(B)(1 − B)^d).
    fn psi(&self, h: usize) -> Vec<f64> {
        // φ*(B) = φ(B)(1 − B)^d as "x_t = Σ a_i x_{t−i} + …" coefficients a_i.
        let mut poly = vec![1.0];
        poly.extend(self.phi.iter().map(|v| -v));
        for _ in 0..self.d {
            let mut n = vec![0.0; poly.len() + 1];
            for (i, v) in poly.iter().enumerate() {
                n[i] += v;
                n[i + 1] -= v;
            }
            poly = n;
        }
        let a: Vec<f64> = poly[1..].iter().map(|v| -v).collect();
        let mut psi = vec![0.0; h];
        for j in 0..h {
            let mut v = if j == 0 {
                1.0
            } else {
                self.theta.get(j - 1).copied().unwrap_or(0.0)
            };
            for (i, ai) in a.iter().enumerate() {
                if i < j {
                    v += ai * psi[j - 1 - i];
                }
            }
            psi[j] = v;
        }
        psi
    }

    fn push_sample(&mut self, x: f64, learn: bool) {
        if self.raw.len() < self.d {
            self.raw.push(x);
            return;
        }
        let c = diff_coeffs(self.d);
        let prev = Self::recent(&self.raw, self.d);
        let wt = x + c[1..]
            .iter()
            .zip(&prev)
            .map(|(ci, xi)| ci * xi)
            .sum::<f64>()
            - self.mu;
        let w = Self::recent(&self.w, self.phi.len());
        let e = Self::recent(&self.e, self.theta.len());
        let innov = if learn { wt - self.next_w(&w, &e) } else { 0.0 };
        if learn && self.raw.len() >= self.d.max(1) {
            self.err.push(innov);
        }
        self.raw.push(x);
        self.w.push(wt);
        self.e.push(innov);
    }

    /// Fit every (p, q) for one d on the common stretch starting at original index `start`.
    fn fit_d(&self, xs: &[f64], d: usize, start: usize, long: usize, out: &mut Vec<Candidate>) {
        let w = difference(xs, d);
        if w.len() < start + 10 {
            return;
        }
        let mu = w.iter().sum::<f64>() / w.len() as f64;
        let z: Vec<f64> = w.iter().map(|v| v - mu).collect();
        // Long AR for innovation estimates (index t of z ↔ original t + d).
        let mut ehat = vec![0.0; z.len()];
        if self.cfg.max_q > 0 {
            let rows = z.len() - long;
            let xm = Array2::from_shape_fn((rows, long), |(r, c)| z[long + r - 1 - c]);
            let y = Array1::from_iter(z[long..].iter().copied());
            let Some(a) = lstsq(&xm, &y) else {
                return;
            };
            for t in long..z.len() {
                ehat[t] = z[t] - (0..long).map(|i| a[i] * z[t - 1 - i]).sum::<f64>();
            }
        }
        // Rows: z indices from t0 (original index `start`) to the end.
        let t0 = start - d;
        let rows = z.len() - t0;
        for p in 0..=self.cfg.max_p {
            for q in 0..=self.cfg.max_q {
                let k = p + q;
                let (phi, theta, sse) = if k == 0 {
                    (
                        Vec::new(),
                        Vec::new(),
                        z[t0..].iter().map(|v| v * v).sum::<f64>(),
                    )
                } else {
                    let xm = Array2::from_shape_fn((rows, k), |(r, c)| {
                        let t = t0 + r;
                        if c < p {
                            z[t - 1 - c]
                        } else {
                            ehat[t - 1 - (c - p)]
                        }
                    });
                    let y = Array1::from_iter(z[t0..].iter().copied());
                    let Some(b) = lstsq(&xm, &y) else {
                        continue;
                    };
                    let resid = &y - &xm.dot(&b);
                    let sse = resid.iter().map(|v| v * v).sum::<f64>();
                    (
                        b.iter().take(p).copied().collect(),
                        b.iter().skip(p).copied().collect(),
                        sse,
                    )
                };
                // Stationary AR part and invertible MA part (θ(B) = 1 + Σ θ_j B^j).
                let neg_theta: Vec<f64> = theta.iter().map(|v: &f64| -v).collect();
                if !stable(&phi) || !stable(&neg_theta) {
                    continue;
                }
                let sigma2 = (sse / rows as f64).max(1e-300);
                let aic = rows as f64 * sigma2.ln() + 2.0 * (k + 1) as f64;
                out.push(Candidate {
                    d,
                    mu,
                    phi,
                    theta,
                    aic,
                    sigma2,
                });
            }
        }
    }
}

impl Forecaster for Arima {
    fn name(&self) -> &'static str {
        "arima"
    }

    fn update(&mut self, x: Option<f64>) {
        match clean(x) {
            Some(x) => self.push_sample(x, true),
            None => {
                if let Some(&f) = self.means(1).first() {
                    self.push_sample(f, false);
                }
            }
        }
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        let means = self.means(h);
        let psi = self.psi(h);
        let s2 = self.err.var();
        let mut acc = 0.0;
        means
            .iter()
            .zip(&psi)
            .map(|(&m, &p)| {
                acc += p * p;
                Forecast::with_sd(m, (s2 * acc).sqrt())
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let xs: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
        let long = (xs.len() / 10)
            .clamp(4, 20)
            .max(self.cfg.max_p + self.cfg.max_q);
        // The common stretch starts where every candidate has all its regressors.
        let start = long + self.cfg.max_q + self.cfg.max_d + self.cfg.max_p;
        let mut cands = Vec::new();
        for d in 0..=self.cfg.max_d {
            self.fit_d(&xs, d, start, long, &mut cands);
        }
        let Some(best) = cands.into_iter().min_by(|a, b| a.aic.total_cmp(&b.aic)) else {
            // Too short to fit: keep a random walk over the samples.
            *self = Arima::new(self.cfg);
            for &x in &xs {
                self.push_sample(x, true);
            }
            return;
        };
        *self = Arima::with_coefficients(self.cfg, best.d, best.mu, best.phi, best.theta);
        // Replay to build the online state (exact recursive innovations);
        // the interval variance starts from the fit's σ² and then follows recent errors.
        for &x in &xs {
            self.push_sample(x, true);
        }
        let recent = self.err.var();
        self.err = ErrVar::from_var(0.5 * (recent + best.sigma2), 50);
    }

    fn heap_bytes(&self) -> usize {
        self.raw.heap_bytes()
            + self.w.heap_bytes()
            + self.e.heap_bytes()
            + (self.phi.capacity() + self.theta.capacity()) * std::mem::size_of::<f64>()
    }
}
