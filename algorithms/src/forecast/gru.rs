//! A small GRU recurrent forecaster, written directly on ndarray.
//!
//! Why not candle or linfa: linfa has no recurrent networks at all. candle
//! has them, but pulls a tensor runtime (half, gemm, safetensors, …) into a
//! crate that must stay pure and quick to build, and its per-op dispatch
//! dominates at this size: a cell of 8–16 units is a few hundred multiply-adds
//! per step, so plain ndarray with a hand-written backward pass is both
//! faster and fully deterministic (fixed operation order, our own seeded
//! initialisation).
//!
//! Model: the series is standardised with the training mean and standard
//! deviation (two numbers, so no scaler object is needed). At each step the
//! cell reads `[z_t, z_t − z_{t−1}, z_{t+1−P} − z_{t−P}]` (the last input is
//! the change one season ago, zero without a period) and a linear head
//! predicts directly `z_{t+k} − z_t` for k = 1..=`horizon`; steps beyond the
//! head's horizon repeat its last step.
//!
//! Training: truncated backpropagation through time over consecutive chunks
//! of `chunk` steps (hidden state carried across chunks, gradients not),
//! Adam, gradient-norm clipping at 5. Cost is bounded: at most `max_train`
//! samples × `epochs` steps, each about 3·H·(I + H) multiply-adds forward
//! and twice that backward (H = 8, defaults: 1152 × 15 ≈ 17k steps, a few
//! ms in release). Online, an update is one cell step (O(H²)) and a
//! prediction one head product.
//!
//! Intervals: per-horizon residual standard deviations measured on the
//! training series, rescaled by the ratio of recent online one-step error
//! to the training one-step error.

use super::synth::SplitMix64;
use super::{clean, ErrVar, Forecast, Forecaster, Ring};
use ndarray::{s, Array1, Array2};

/// Inputs per step.
const INPUTS: usize = 3;

/// Size and training budget of the GRU.
#[derive(Clone, Copy, Debug)]
pub struct GruConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Steps predicted directly by the head.
    pub horizon: usize,
    /// Season length in samples for the seasonal input (0: none).
    pub period: usize,
    /// Truncated-BPTT chunk length.
    pub chunk: usize,
    /// Passes over the training series.
    pub epochs: usize,
    /// Most recent samples used for training.
    pub max_train: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seed of the weight initialisation.
    pub seed: u64,
}

impl Default for GruConfig {
    fn default() -> Self {
        GruConfig {
            hidden: 8,
            horizon: 6,
            period: 0,
            chunk: 24,
            epochs: 15,
            max_train: 1152,
            learning_rate: 0.01,
            seed: 1,
        }
    }
}

/// The trainable weights: gates stacked as [reset; update; candidate].
#[derive(Clone, Debug)]
struct Net {
    w: Array2<f64>,  // 3H × I
    u: Array2<f64>,  // 3H × H
    b: Array1<f64>,  // 3H
    wo: Array2<f64>, // K × H
    bo: Array1<f64>, // K
}

/// What one forward step keeps for the backward pass.
struct Step {
    x: Array1<f64>,
    h_prev: Array1<f64>,
    r: Array1<f64>,
    u: Array1<f64>,
    c: Array1<f64>,
    h: Array1<f64>,
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

impl Net {
    fn new(cfg: &GruConfig) -> Net {
        let (h, k) = (cfg.hidden, cfg.horizon);
        let mut rng = SplitMix64::new(cfg.seed);
        let scale = 1.0 / (h as f64).sqrt();
        let mut rnd = |r: usize, c: usize| {
            Array2::from_shape_fn((r, c), |_| scale * (2.0 * rng.uniform() - 1.0))
        };
        Net {
            w: rnd(3 * h, INPUTS),
            u: rnd(3 * h, h),
            b: Array1::zeros(3 * h),
            wo: rnd(k, h) * 0.1,
            bo: Array1::zeros(k),
        }
    }

    fn hidden(&self) -> usize {
        self.u.ncols()
    }

    fn step(&self, x: &Array1<f64>, h_prev: &Array1<f64>) -> Step {
        let n = self.hidden();
        let wx = self.w.dot(x) + &self.b;
        let uh = self.u.slice(s![..2 * n, ..]).dot(h_prev);
        let r = (&wx.slice(s![..n]) + &uh.slice(s![..n])).mapv(sigmoid);
        let u = (&wx.slice(s![n..2 * n]) + &uh.slice(s![n..])).mapv(sigmoid);
        let rh = &r * h_prev;
        let c = (&wx.slice(s![2 * n..]) + &self.u.slice(s![2 * n.., ..]).dot(&rh)).mapv(f64::tanh);
        let h = &((1.0 - &u) * h_prev) + &(&u * &c);
        Step {
            x: x.clone(),
            h_prev: h_prev.clone(),
            r,
            u,
            c,
            h,
        }
    }

    fn head(&self, h: &Array1<f64>) -> Array1<f64> {
        self.wo.dot(h) + &self.bo
    }

    fn zeros_like(&self) -> Net {
        Net {
            w: Array2::zeros(self.w.raw_dim()),
            u: Array2::zeros(self.u.raw_dim()),
            b: Array1::zeros(self.b.raw_dim()),
            wo: Array2::zeros(self.wo.raw_dim()),
            bo: Array1::zeros(self.bo.raw_dim()),
        }
    }

    fn params_mut(&mut self) -> [&mut [f64]; 5] {
        [
            self.w.as_slice_mut().expect("standard layout"),
            self.u.as_slice_mut().expect("standard layout"),
            self.b.as_slice_mut().expect("standard layout"),
            self.wo.as_slice_mut().expect("standard layout"),
            self.bo.as_slice_mut().expect("standard layout"),
        ]
    }

    /// Accumulate gradients of one step; returns dL/dh_prev.
    fn backward(&self, st: &Step, dh: &Array1<f64>, g: &mut Net) -> Array1<f64> {
        let n = self.hidden();
        let dc = dh * &st.u;
        let du = dh * &(&st.c - &st.h_prev);
        let mut dh_prev = dh * &(1.0 - &st.u);
        let dac = &dc * &(1.0 - &st.c * &st.c);
        let dau = &du * &(&st.u * &(1.0 - &st.u));
        let rh = &st.r * &st.h_prev;
        let uc = self.u.slice(s![2 * n.., ..]);
        let drh = uc.t().dot(&dac);
        let dr = &drh * &st.h_prev;
        dh_prev += &(&drh * &st.r);
        let dar = &dr * &(&st.r * &(1.0 - &st.r));
        let mut da = Array1::zeros(3 * n);
        da.slice_mut(s![..n]).assign(&dar);
        da.slice_mut(s![n..2 * n]).assign(&dau);
        da.slice_mut(s![2 * n..]).assign(&dac);
        let outer = |a: &Array1<f64>, b: &Array1<f64>| {
            a.view()
                .insert_axis(ndarray::Axis(1))
                .dot(&b.view().insert_axis(ndarray::Axis(0)))
        };
        g.w += &outer(&da, &st.x);
        g.b += &da;
        let dgates = da.slice(s![..2 * n]).to_owned();
        {
            let mut gu = g.u.slice_mut(s![..2 * n, ..]);
            gu += &outer(&dgates, &st.h_prev);
        }
        {
            let mut gu = g.u.slice_mut(s![2 * n.., ..]);
            gu += &outer(&dac, &rh);
        }
        dh_prev += &self.u.slice(s![..2 * n, ..]).t().dot(&dgates);
        dh_prev
    }
}

/// Adam optimiser state for a `Net`.
struct Adam {
    m: Net,
    v: Net,
    t: i32,
}

impl Adam {
    fn step(&mut self, net: &mut Net, g: &mut Net, lr: f64) {
        // Clip the global gradient norm so that bursts in the data cannot blow up a step.
        let norm: f64 = g
            .params_mut()
            .iter()
            .flat_map(|p| p.iter())
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        let clip = if norm > 5.0 { 5.0 / norm } else { 1.0 };
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        for (((p, g), m), v) in net
            .params_mut()
            .into_iter()
            .zip(g.params_mut())
            .zip(self.m.params_mut())
            .zip(self.v.params_mut())
        {
            for i in 0..p.len() {
                let gi = g[i] * clip;
                m[i] = b1 * m[i] + (1.0 - b1) * gi;
                v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                p[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + 1e-8);
                g[i] = 0.0;
            }
        }
    }
}

/// A GRU forecaster; a last-value forecaster until first fitted.
#[derive(Clone, Debug)]
pub struct Gru {
    cfg: GruConfig,
    net: Option<Net>,
    mean: f64,
    sd: f64,
    h: Array1<f64>,
    /// Last period+1 scaled samples (or 2 without a period).
    z: Ring,
    /// Training residual sd per head step, in scaled units.
    train_sd: Vec<f64>,
    train_var1: f64,
    err: ErrVar,
    pending1: Option<f64>,
}

impl Gru {
    /// An untrained GRU with configuration `cfg`.
    pub fn new(cfg: GruConfig) -> Gru {
        let cfg = GruConfig {
            hidden: cfg.hidden.max(1),
            horizon: cfg.horizon.max(1),
            chunk: cfg.chunk.max(1),
            ..cfg
        };
        Gru {
            net: None,
            mean: 0.0,
            sd: 1.0,
            h: Array1::zeros(cfg.hidden),
            z: Ring::new(cfg.period.max(1) + 1),
            train_sd: Vec::new(),
            train_var1: 0.0,
            err: ErrVar::new(),
            pending1: None,
            cfg,
        }
    }

    /// Whether `fit` has trained the network.
    pub fn is_trained(&self) -> bool {
        self.net.is_some()
    }

    /// Cell input for the newest sample in `z` (newest first accessor).
    fn input(cfg: &GruConfig, z: &dyn Fn(usize) -> Option<f64>) -> Array1<f64> {
        let z0 = z(0).unwrap_or(0.0);
        let dz = z(1).map_or(0.0, |z1| z0 - z1);
        let season = if cfg.period > 0 {
            match (z(cfg.period - 1), z(cfg.period)) {
                (Some(a), Some(b)) => a - b,
                _ => 0.0,
            }
        } else {
            0.0
        };
        Array1::from(vec![z0, dz, season])
    }

    fn scaled(&self, x: f64) -> f64 {
        (x - self.mean) / self.sd
    }

    fn train(&mut self, zs: &[f64]) {
        let cfg = self.cfg;
        let k = cfg.horizon;
        let mut net = Net::new(&cfg);
        let mut grad = net.zeros_like();
        let mut adam = Adam {
            m: net.zeros_like(),
            v: net.zeros_like(),
            t: 0,
        };
        let inputs: Vec<Array1<f64>> = (0..zs.len())
            .map(|t| Self::input(&cfg, &|back| t.checked_sub(back).map(|i| zs[i])))
            .collect();
        let n = zs.len();
        for _ in 0..cfg.epochs {
            let mut h = Array1::zeros(cfg.hidden);
            let mut start = 0;
            while start < n.saturating_sub(1) {
                let end = (start + cfg.chunk).min(n - 1);
                let mut steps = Vec::with_capacity(end - start);
                for x in &inputs[start..end] {
                    let st = net.step(x, &h);
                    h = st.h.clone();
                    steps.push(st);
                }
                let mut dh = Array1::zeros(cfg.hidden);
                let mut count = 0usize;
                for (i, st) in steps.iter().enumerate().rev() {
                    let t = start + i;
                    let y = net.head(&st.h);
                    let mut dy = Array1::zeros(k);
                    for j in 0..k.min(n - 1 - t) {
                        dy[j] = y[j] - (zs[t + 1 + j] - zs[t]);
                        count += 1;
                    }
                    grad.wo += &dy
                        .view()
                        .insert_axis(ndarray::Axis(1))
                        .dot(&st.h.view().insert_axis(ndarray::Axis(0)));
                    grad.bo += &dy;
                    dh += &net.wo.t().dot(&dy);
                    dh = net.backward(st, &dh, &mut grad);
                }
                let inv = 1.0 / count.max(1) as f64;
                for p in grad.params_mut() {
                    p.iter_mut().for_each(|v| *v *= inv);
                }
                adam.step(&mut net, &mut grad, cfg.learning_rate);
                start = end;
            }
        }
        // In-sample residual spread per head step, and the final hidden state.
        let mut h = Array1::zeros(cfg.hidden);
        let mut sse = vec![0.0; k];
        let mut cnt = vec![0usize; k];
        for (t, x) in inputs.iter().enumerate() {
            h = net.step(x, &h).h;
            let y = net.head(&h);
            for j in 0..k.min(n - 1 - t) {
                sse[j] += (y[j] - (zs[t + 1 + j] - zs[t])).powi(2);
                cnt[j] += 1;
            }
        }
        self.train_sd = sse
            .iter()
            .zip(&cnt)
            .map(|(s, c)| (s / (*c).max(1) as f64).sqrt())
            .collect();
        self.train_var1 = self.train_sd[0].powi(2);
        self.h = h;
        self.net = Some(net);
    }

    fn push(&mut self, x: f64) {
        let z = self.scaled(x);
        self.z.push(z);
        if let Some(net) = &self.net {
            let inp = Self::input(&self.cfg, &|b| self.z.back(b));
            self.h = net.step(&inp, &self.h).h;
        }
    }
}

impl Forecaster for Gru {
    fn name(&self) -> &'static str {
        "gru"
    }

    fn update(&mut self, x: Option<f64>) {
        match clean(x) {
            Some(x) => {
                if let Some(p) = self.pending1 {
                    self.err.push(x - p);
                }
                self.push(x);
            }
            None => {
                if let Some(f) = self.predict(1).first() {
                    self.push(f.mean);
                }
            }
        }
        self.pending1 = self.predict(1).first().map(|f| f.mean);
    }

    fn predict(&self, h: usize) -> Vec<Forecast> {
        let Some(z0) = self.z.back(0) else {
            return Vec::new();
        };
        let last = z0 * self.sd + self.mean;
        let Some(net) = &self.net else {
            let s = self.err.var().sqrt();
            return (1..=h)
                .map(|k| Forecast::with_sd(last, s * (k as f64).sqrt()))
                .collect();
        };
        let y = net.head(&self.h);
        let k_max = self.cfg.horizon;
        // Recent one-step error relative to training: widen (or narrow) every step alike.
        let ratio = if self.train_var1 > 0.0 && self.err.var() > 0.0 {
            (self.err.var() / (self.train_var1 * self.sd * self.sd))
                .sqrt()
                .clamp(0.5, 4.0)
        } else {
            1.0
        };
        (1..=h)
            .map(|k| {
                let j = k.min(k_max) - 1;
                let extra = (k as f64 / k_max as f64).max(1.0).sqrt();
                let sd = self.train_sd[j] * self.sd * ratio * extra;
                Forecast::with_sd(last + y[j] * self.sd, sd)
            })
            .collect()
    }

    fn fit(&mut self, history: &[f64]) {
        let xs: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
        let xs = &xs[xs.len().saturating_sub(self.cfg.max_train)..];
        let mut fresh = Gru::new(self.cfg);
        if xs.len() >= 2 * self.cfg.horizon + 2 {
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let var = xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            fresh.mean = mean;
            fresh.sd = if var.sqrt() > 1e-9 * mean.abs().max(1.0) {
                var.sqrt()
            } else {
                1.0
            };
            let zs: Vec<f64> = xs.iter().map(|&x| fresh.scaled(x)).collect();
            fresh.train(&zs);
            for &z in &zs[zs.len().saturating_sub(fresh.cfg.period + 1)..] {
                fresh.z.push(z);
            }
            fresh.err = ErrVar::from_var(fresh.train_var1 * fresh.sd * fresh.sd, 50);
        } else {
            for &x in xs {
                fresh.update(Some(x));
            }
        }
        fresh.pending1 = fresh.predict(1).first().map(|f| f.mean);
        *self = fresh;
    }

    fn heap_bytes(&self) -> usize {
        let f = std::mem::size_of::<f64>();
        let net = self.net.as_ref().map_or(0, |n| {
            (n.w.len() + n.u.len() + n.b.len() + n.wo.len() + n.bo.len()) * f
        });
        net + self.h.len() * f + self.z.heap_bytes() + self.train_sd.capacity() * f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written backward pass matches finite differences.
    #[test]
    fn backward_matches_numeric_gradient() {
        let cfg = GruConfig {
            hidden: 4,
            horizon: 2,
            ..GruConfig::default()
        };
        let net = Net::new(&cfg);
        let xs: Vec<Array1<f64>> = (0..5)
            .map(|t| Array1::from(vec![0.3 * t as f64, -0.2, 0.1 * t as f64]))
            .collect();
        let loss = |net: &Net| {
            let mut h = Array1::zeros(4);
            let mut l = 0.0;
            for x in &xs {
                h = net.step(x, &h).h;
                l += net.head(&h).sum();
            }
            l
        };
        let mut g = net.zeros_like();
        let mut h = Array1::zeros(4);
        let steps: Vec<Step> = xs
            .iter()
            .map(|x| {
                let st = net.step(x, &h);
                h = st.h.clone();
                st
            })
            .collect();
        let mut dh = Array1::zeros(4);
        for st in steps.iter().rev() {
            dh += &net.wo.t().dot(&Array1::ones(2));
            dh = net.backward(st, &dh, &mut g);
        }
        for (i, j) in [(0usize, 0usize), (5, 2), (9, 1)] {
            let mut p = net.clone();
            p.w[[i, j]] += 1e-6;
            let num = (loss(&p) - loss(&net)) / 1e-6;
            assert!(
                (num - g.w[[i, j]]).abs() < 1e-4,
                "w[{i},{j}] {num} vs {}",
                g.w[[i, j]]
            );
        }
        for (i, j) in [(1usize, 3usize), (6, 0), (10, 2)] {
            let mut p = net.clone();
            p.u[[i, j]] += 1e-6;
            let num = (loss(&p) - loss(&net)) / 1e-6;
            assert!(
                (num - g.u[[i, j]]).abs() < 1e-4,
                "u[{i},{j}] {num} vs {}",
                g.u[[i, j]]
            );
        }
    }
}
