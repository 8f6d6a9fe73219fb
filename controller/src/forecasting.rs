//! Forecasts of every link direction's load, on a thread of their own.
//!
//! The polled rates of a link direction (what its source port transmits)
//! are averaged over forecast intervals (default 5 minutes); each closed
//! interval updates that direction's [`Selector`], which predicts the next
//! steps with the model that has predicted this link best lately. Models are
//! refitted on the selector's schedule on this thread, never on the event
//! loop. The newest forecasts are published for the API and logged once per
//! interval.

use crate::history::Round;
use crate::topology::PortRef;
use edgeflow_algorithms::forecast::{Forecast, Forecaster, Selector, SelectorConfig};
use std::collections::HashMap;
use std::sync::{mpsc, Arc};
use std::time::Duration;
use tokio::sync::watch;
use tracing::info;

/// Forecast settings.
#[derive(Debug, Clone, Copy)]
pub struct ForecastConfig {
    /// Length of one forecast step (the rates are averaged over it).
    pub interval: Duration,
    /// Steps predicted.
    pub horizon: usize,
    /// Steps in a seasonal cycle (288 five-minute steps make a day).
    pub period: usize,
    /// Steps seen before the first fit.
    pub min_history: usize,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            interval: Duration::from_secs(300),
            horizon: 3,
            period: 288,
            min_history: 12,
        }
    }
}

/// The newest forecast of each link direction, by its source port.
pub type Forecasts = HashMap<PortRef, Vec<Forecast>>;

struct Link {
    selector: Selector,
    fitted: bool,
    sum: f64,
    count: u32,
}

/// Turns polling rounds into per-link forecasts (sans-IO; the thread below drives it).
pub struct LinkForecaster {
    config: ForecastConfig,
    selector: SelectorConfig,
    bucket: Option<u64>,
    links: HashMap<PortRef, Link>,
}

impl LinkForecaster {
    /// No links yet.
    pub fn new(config: ForecastConfig) -> LinkForecaster {
        let selector = SelectorConfig {
            horizon: config.horizon.max(1),
            horizon_of_interest: config.horizon.max(1),
            period: config.period.max(2),
            history: 3 * config.period.max(2),
            refit_every: config.period.max(2),
            ..SelectorConfig::default()
        };
        LinkForecaster {
            config,
            selector,
            bucket: None,
            links: HashMap::new(),
        }
    }

    /// Adds one polling round taken at `unix_ms`. When it begins a new
    /// interval, the previous interval's averages update the models and the
    /// forecasts of every link are returned.
    pub fn add_round(
        &mut self,
        unix_ms: u64,
        rates: &[(PortRef, crate::stats::PortRates)],
    ) -> Option<Forecasts> {
        let step = self.config.interval.as_millis().max(1) as u64;
        let bucket = unix_ms / step;
        let closed = self.bucket.is_some_and(|b| b != bucket);
        let out = closed.then(|| self.close_interval());
        self.bucket = Some(bucket);
        for (port, r) in rates {
            let cfg = self.selector;
            let link = self.links.entry(*port).or_insert_with(|| Link {
                selector: Selector::new(cfg),
                fitted: false,
                sum: 0.0,
                count: 0,
            });
            link.sum += r.tx_bps;
            link.count += 1;
        }
        out
    }

    fn close_interval(&mut self) -> Forecasts {
        let mut out = HashMap::with_capacity(self.links.len());
        for (port, link) in &mut self.links {
            // An interval without a sample of this link is a missing value.
            let mean = (link.count > 0).then(|| link.sum / f64::from(link.count));
            link.selector.update(mean);
            link.sum = 0.0;
            link.count = 0;
            let seen = link.selector.history().len();
            if (!link.fitted && seen >= self.config.min_history)
                || (link.fitted && link.selector.refit_due())
            {
                let history = link.selector.history();
                link.selector.fit(&history);
                link.fitted = true;
            }
            out.insert(*port, link.selector.predict(self.config.horizon.max(1)));
        }
        out
    }
}

/// Starts the forecasting thread: rounds sent to the returned channel feed
/// it; the newest forecasts appear on the returned watch.
pub fn spawn(config: ForecastConfig) -> (mpsc::Sender<Round>, watch::Receiver<Arc<Forecasts>>) {
    let (tx, rx) = mpsc::channel::<Round>();
    let (out, out_rx) = watch::channel(Arc::new(Forecasts::new()));
    std::thread::Builder::new()
        .name("edgeflow-forecast".into())
        .spawn(move || {
            let mut f = LinkForecaster::new(config);
            for (unix_ms, rates) in rx {
                if let Some(forecasts) = f.add_round(unix_ms, &rates) {
                    log_round(&forecasts);
                    out.send_replace(Arc::new(forecasts));
                }
            }
        })
        .expect("spawning the forecasting thread");
    (tx, out_rx)
}

/// One line per forecast interval: the link predicted to be busiest.
fn log_round(forecasts: &Forecasts) {
    let last = |f: &Vec<Forecast>| f.last().map_or(0.0, |x| x.mean);
    if let Some((p, f)) = forecasts
        .iter()
        .max_by(|a, b| last(a.1).total_cmp(&last(b.1)))
    {
        info!(
            links = forecasts.len(),
            busiest = format!("{:016x}:{}", p.dpid, p.port),
            next_mbps = f.first().map(|x| format!("{:.2}", x.mean / 1e6)),
            last_step_mbps = format!("{:.2}", last(f) / 1e6),
            "link load forecast"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::PortRates;

    fn rates(tx: f64) -> PortRates {
        PortRates {
            rx_bps: 0.0,
            tx_bps: tx,
            rx_pps: 0.0,
            tx_pps: 0.0,
            drops_ps: 0.0,
            errors_ps: 0.0,
            speed_bps: None,
        }
    }

    #[test]
    fn intervals_average_polls_and_forecast_each_link() {
        let cfg = ForecastConfig {
            interval: Duration::from_secs(10),
            horizon: 3,
            period: 6,
            min_history: 4,
        };
        let mut f = LinkForecaster::new(cfg);
        let (a, b) = (PortRef { dpid: 1, port: 1 }, PortRef { dpid: 2, port: 1 });
        let mut last = None;
        // 40 intervals of 10 one-second polls: a carries 5 Mbit/s, b alternates 1 and 3 within each interval.
        for s in 0..400u64 {
            let b_rate = if s % 2 == 0 { 1e6 } else { 3e6 };
            if let Some(out) = f.add_round(s * 1000, &[(a, rates(5e6)), (b, rates(b_rate))]) {
                last = Some(out);
            }
        }
        let out = last.expect("forecasts once intervals close");
        assert_eq!(out.len(), 2);
        for (port, want) in [(a, 5e6), (b, 2e6)] {
            let fc = &out[&port];
            assert_eq!(fc.len(), 3);
            for step in fc {
                assert!((step.mean - want).abs() < 0.05 * want, "{port:?}: {step:?}");
                assert!(step.lower <= step.mean && step.mean <= step.upper);
            }
        }
    }

    #[test]
    fn no_forecast_before_an_interval_closes() {
        let mut f = LinkForecaster::new(ForecastConfig::default());
        let p = PortRef { dpid: 1, port: 1 };
        assert!(f.add_round(0, &[(p, rates(1.0))]).is_none());
        assert!(f.add_round(299_999, &[(p, rates(1.0))]).is_none());
        assert!(f.add_round(300_000, &[(p, rates(1.0))]).is_some());
    }
}
