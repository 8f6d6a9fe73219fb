//! A seeded generator of realistic link-load series, for tests and benchmarks.
//!
//! The load at sample `t` (taken every `interval_s` seconds) is
//!
//! ```text
//! load = clip( mean(t) · (1 + wander(t) + noise(t)) + flows(t) + bursts(t) + flash(t), 0, capacity )
//! mean(t) = base · (1 + trend_per_week · weeks) · weekday(t) · (1 + daily_amplitude · shape(hour))
//! ```
//!
//! - `shape` is a daily curve with a trough before dawn and a peak at
//!   `peak_hour` (two harmonics, scaled to lie in [-1, 1]);
//! - `weekday` is 1 on weekdays and `weekend_factor` on Saturday and Sunday;
//! - `wander` is an AR(1) process (slow, correlated deviations from the mean)
//!   and `noise` is white, both as fractions of the mean;
//! - `flows` are `flows` independent on/off elephant flows of `flow_rate`
//!   each, switching with geometric on and off times;
//! - `bursts` arrive as a Poisson process and last a geometric number of
//!   samples with an exponentially distributed size;
//! - `flash` crowds arrive rarely, rise linearly to a peak, then decay
//!   exponentially.
//!
//! The same configuration and seed always give the same series (the PRNG is
//! the SplitMix64 below, fixed here so that no dependency upgrade changes it).

use std::f64::consts::{PI, TAU};

/// SplitMix64: a tiny, fast, well-mixed 64-bit PRNG; deterministic for a seed.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }
}

/// Parameters of one synthetic link-load series (units: whatever `base` is in, e.g. Mbit/s).
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Seconds between samples.
    pub interval_s: f64,
    /// Hour of day (0–24) of the first sample; day 0 is a Monday.
    pub start_hour: f64,
    /// Mean load before cycles and events.
    pub base: f64,
    /// Link capacity: loads are clipped to [0, capacity].
    pub capacity: f64,
    /// Daily swing as a fraction of the mean (0.5: peak 1.5×, trough 0.5×).
    pub daily_amplitude: f64,
    /// Hour of the daily peak.
    pub peak_hour: f64,
    /// Load factor on Saturday and Sunday.
    pub weekend_factor: f64,
    /// Fractional growth of the mean per week.
    pub trend_per_week: f64,
    /// Standard deviation of the slow AR(1) wander, as a fraction of the mean.
    pub wander_sd: f64,
    /// AR(1) coefficient of the wander per sample.
    pub wander_phi: f64,
    /// Standard deviation of white noise, as a fraction of the mean.
    pub noise_sd: f64,
    /// Number of on/off elephant flows.
    pub flows: usize,
    /// Rate of one elephant flow while on.
    pub flow_rate: f64,
    /// Mean on-time of a flow, in samples.
    pub flow_on_samples: f64,
    /// Mean off-time of a flow, in samples.
    pub flow_off_samples: f64,
    /// Mean number of bursts per day.
    pub bursts_per_day: f64,
    /// Mean burst length in samples.
    pub burst_samples: f64,
    /// Mean burst size, as a fraction of `base`.
    pub burst_size: f64,
    /// Mean number of flash crowds per week.
    pub flash_per_week: f64,
    /// Flash-crowd peak, as a fraction of `base`.
    pub flash_peak: f64,
    /// Samples for a flash crowd to reach its peak.
    pub flash_rise_samples: f64,
    /// Time constant of the flash-crowd decay, in samples.
    pub flash_decay_samples: f64,
}

impl Default for LoadConfig {
    /// A busy 1 Gbit/s edge uplink sampled every 5 minutes (loads in Mbit/s).
    fn default() -> Self {
        LoadConfig {
            seed: 1,
            interval_s: 300.0,
            start_hour: 0.0,
            base: 350.0,
            capacity: 1000.0,
            daily_amplitude: 0.6,
            peak_hour: 20.5,
            weekend_factor: 0.75,
            trend_per_week: 0.02,
            wander_sd: 0.06,
            wander_phi: 0.95,
            noise_sd: 0.05,
            flows: 3,
            flow_rate: 30.0,
            flow_on_samples: 12.0,
            flow_off_samples: 48.0,
            bursts_per_day: 8.0,
            burst_samples: 1.5,
            burst_size: 0.15,
            flash_per_week: 1.0,
            flash_peak: 0.6,
            flash_rise_samples: 3.0,
            flash_decay_samples: 12.0,
        }
    }
}

/// Daily shape in [-1, 1]: peak at `peak_hour`, a trough in the early morning.
fn daily_shape(hour: f64, peak_hour: f64) -> f64 {
    let a = (hour - peak_hour) * TAU / 24.0;
    // The second harmonic sharpens the evening peak and flattens the night.
    (a.cos() + 0.35 * (2.0 * a).cos()) / 1.35
}

impl LoadConfig {
    /// This configuration with another seed.
    pub fn with_seed(&self, seed: u64) -> LoadConfig {
        LoadConfig {
            seed,
            ..self.clone()
        }
    }

    /// Samples per day at this interval.
    pub fn samples_per_day(&self) -> usize {
        (86_400.0 / self.interval_s).round().max(1.0) as usize
    }

    /// The expected load at sample `t`, before wander, noise and events.
    pub fn mean_at(&self, t: usize) -> f64 {
        let hours = self.start_hour + t as f64 * self.interval_s / 3600.0;
        let day = (hours / 24.0).floor() as i64;
        let hour = hours - day as f64 * 24.0;
        let weekday = if day.rem_euclid(7) >= 5 {
            self.weekend_factor
        } else {
            1.0
        };
        let growth = 1.0 + self.trend_per_week * hours / (24.0 * 7.0);
        self.base
            * growth
            * weekday
            * (1.0 + self.daily_amplitude * daily_shape(hour, self.peak_hour))
    }

    /// Generate `n` samples: non-negative, at most `capacity`, deterministic for the seed.
    pub fn generate(&self, n: usize) -> Vec<f64> {
        let mut rng = SplitMix64::new(self.seed ^ 0x005E_ED0F_ED6E_F10E);
        let per_sample = |per_day: f64| per_day * self.interval_s / 86_400.0;
        let burst_p = per_sample(self.bursts_per_day);
        let flash_p = per_sample(self.flash_per_week / 7.0);
        // Stationary start for the wander; flows start on with their duty cycle.
        let innov = self.wander_sd * (1.0 - self.wander_phi * self.wander_phi).max(0.0).sqrt();
        let mut wander = self.wander_sd * rng.normal();
        let duty = self.flow_on_samples / (self.flow_on_samples + self.flow_off_samples);
        let mut on: Vec<bool> = (0..self.flows).map(|_| rng.chance(duty)).collect();
        let mut bursts: Vec<(f64, u32)> = Vec::new(); // (size, samples left)
        let mut flashes: Vec<(f64, f64)> = Vec::new(); // (age in samples, peak)
        let mut out = Vec::with_capacity(n);
        for t in 0..n {
            wander = self.wander_phi * wander + innov * rng.normal();
            let mut x = self.mean_at(t) * (1.0 + wander + self.noise_sd * rng.normal());
            for f in on.iter_mut() {
                let mean_stay = if *f {
                    self.flow_on_samples
                } else {
                    self.flow_off_samples
                };
                if rng.chance(1.0 / mean_stay.max(1.0)) {
                    *f = !*f;
                }
                if *f {
                    x += self.flow_rate;
                }
            }
            if rng.chance(burst_p) {
                let len = 1 + rng.exp(self.burst_samples - 1.0).max(0.0).round() as u32;
                bursts.push((rng.exp(self.burst_size * self.base), len));
            }
            for b in bursts.iter_mut() {
                x += b.0;
                b.1 -= 1;
            }
            bursts.retain(|b| b.1 > 0);
            if rng.chance(flash_p) {
                flashes.push((0.0, self.flash_peak * self.base * (0.5 + rng.uniform())));
            }
            for f in flashes.iter_mut() {
                f.0 += 1.0;
                let rise = self.flash_rise_samples.max(1.0);
                x += if f.0 <= rise {
                    f.1 * (0.5 - 0.5 * (PI * f.0 / rise).cos())
                } else {
                    f.1 * (-(f.0 - rise) / self.flash_decay_samples.max(1.0)).exp()
                };
            }
            flashes.retain(|f| {
                f.1 * (-(f.0 - self.flash_rise_samples) / self.flash_decay_samples.max(1.0)).exp()
                    > 1e-3 * self.base
            });
            out.push(x.clamp(0.0, self.capacity.max(0.0)));
        }
        out
    }
}
