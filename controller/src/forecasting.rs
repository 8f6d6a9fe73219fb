//! Forecasts of every link direction's load, on a thread of their own.
//!
//! The polled rates of a link direction (what its source port transmits)
//! are averaged over forecast intervals (default 5 minutes); each closed
//! interval updates that direction's [`Selector`], which predicts the next
//! steps with the model that has predicted this link best lately. The
//! newest forecasts are published for the API and logged once per interval.
//!
//! Refits never hold up an interval's updates and forecasts. A link whose
//! selector is due for a refit joins a queue; every polling round hands the
//! head of the queue out as [`RefitJob`]s (a copy of the history) to refit
//! workers, at most `max_refits_in_flight` at a time, so a fleet that became
//! due at once is refitted one after another, as fast as the workers go
//! (one worker: 10,000 links in about 15 minutes at 70-100 ms a refit,
//! every link once a day by default). Meanwhile the old selector goes on
//! predicting and the link's new samples are kept; when the fitted selector
//! comes back it is fed those samples and swapped in. A refit that has not
//! come back after `history` intervals is given up (and its late result
//! ignored), so the kept samples stay bounded.
//!
//! Memory per link: its selector (22 KB with every model, the daily period
//! of 288 and 864 samples of history; a test in the algorithms crate bounds
//! it at 32 KB), two accumulators and at most one place in the refit queue.
//! Only the links being refitted (at most
//! `max_refits_in_flight`) hold more: a copy of the history (6.9 KB), the
//! new selector (22 KB) and the samples since the hand-out (at most
//! `history` of them, 16 B each).

use crate::history::Round;
use crate::topology::PortRef;
use edgeflow_algorithms::forecast::{Forecast, Forecaster, Selector, SelectorConfig};
use std::collections::{HashMap, VecDeque};
use std::sync::{mpsc, Arc, Mutex};
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
    /// Refits handed out and not yet back, at most (jobs are topped up once
    /// per polling round, so this is also the most handed out per round).
    pub max_refits_in_flight: usize,
    /// Threads that run refits.
    pub refit_workers: usize,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            interval: Duration::from_secs(300),
            horizon: 3,
            period: 288,
            min_history: 12,
            max_refits_in_flight: 16,
            refit_workers: 1,
        }
    }
}

/// The newest forecast of each link direction, by its source port.
pub type Forecasts = HashMap<PortRef, Vec<Forecast>>;

/// One link's refit, to run off the forecasting thread.
pub struct RefitJob {
    port: PortRef,
    id: u64,
    config: SelectorConfig,
    history: Vec<f64>,
}

impl RefitJob {
    /// Fits a fresh selector on the history (the costly part: tens of ms).
    pub fn run(self) -> Refit {
        let mut selector = Selector::new(self.config);
        selector.fit(&self.history);
        Refit {
            port: self.port,
            id: self.id,
            selector,
        }
    }
}

/// A finished refit, to hand back with [`LinkForecaster::install`].
pub struct Refit {
    port: PortRef,
    id: u64,
    selector: Selector,
}

/// A refit handed out: its id and the samples that arrived since.
struct InFlight {
    id: u64,
    missed: Vec<Option<f64>>,
}

struct Link {
    selector: Selector,
    fitted: bool,
    /// Waiting in the refit queue.
    queued: bool,
    refit: Option<InFlight>,
    sum: f64,
    count: u32,
}

/// Turns polling rounds into per-link forecasts (sans-IO; the thread below drives it).
pub struct LinkForecaster {
    config: ForecastConfig,
    selector: SelectorConfig,
    bucket: Option<u64>,
    links: HashMap<PortRef, Link>,
    /// Links with a refit out (handed out, neither back nor given up).
    in_flight: usize,
    next_id: u64,
    /// Links due for a refit, oldest first (each at most once).
    due: VecDeque<PortRef>,
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
            in_flight: 0,
            next_id: 0,
            due: VecDeque::new(),
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
                queued: false,
                refit: None,
                sum: 0.0,
                count: 0,
            });
            link.sum += r.tx_bps;
            link.count += 1;
        }
        out
    }

    /// Refits to run now, off this thread (each comes back through
    /// [`Self::install`]): the longest-waiting due links, as far as
    /// `max_refits_in_flight` allows.
    pub fn take_refit_jobs(&mut self) -> Vec<RefitJob> {
        let mut jobs = Vec::new();
        while self.in_flight < self.config.max_refits_in_flight.max(1) {
            let Some(port) = self.due.pop_front() else {
                break;
            };
            let Some(link) = self.links.get_mut(&port) else {
                continue;
            };
            link.queued = false;
            self.next_id += 1;
            self.in_flight += 1;
            link.refit = Some(InFlight {
                id: self.next_id,
                missed: Vec::new(),
            });
            jobs.push(RefitJob {
                port,
                id: self.next_id,
                config: self.selector,
                history: link.selector.history(),
            });
        }
        jobs
    }

    /// Swaps a finished refit in, after feeding it the samples that arrived
    /// while it ran; a refit that was given up is dropped.
    pub fn install(&mut self, refit: Refit) {
        let Some(link) = self.links.get_mut(&refit.port) else {
            return;
        };
        let Some(missed) = link.refit.take_if(|r| r.id == refit.id) else {
            return;
        };
        self.in_flight -= 1;
        let mut selector = refit.selector;
        for x in missed.missed {
            selector.update(x);
        }
        link.selector = selector;
        link.fitted = true;
    }

    fn close_interval(&mut self) -> Forecasts {
        let horizon = self.config.horizon.max(1);
        let mut out = HashMap::with_capacity(self.links.len());
        for (port, link) in &mut self.links {
            // An interval without a sample of this link is a missing value.
            let mean = (link.count > 0).then(|| link.sum / f64::from(link.count));
            link.selector.update(mean);
            link.sum = 0.0;
            link.count = 0;
            if let Some(r) = &mut link.refit {
                r.missed.push(mean);
                if r.missed.len() >= self.selector.history {
                    // Given up: the slot is free, the link due again, a late result will not match.
                    link.refit = None;
                    self.in_flight -= 1;
                }
            }
            let due = if link.fitted {
                link.selector.refit_due()
            } else {
                link.selector.history_len() >= self.config.min_history
            };
            if due && link.refit.is_none() && !link.queued {
                link.queued = true;
                self.due.push_back(*port);
            }
            out.insert(*port, link.selector.predict(horizon));
        }
        out
    }
}

/// Starts the forecasting thread and its refit workers: rounds sent to the
/// returned channel feed it; the newest forecasts appear on the returned watch.
pub fn spawn(config: ForecastConfig) -> (mpsc::SyncSender<Round>, watch::Receiver<Arc<Forecasts>>) {
    let (tx, rx) = mpsc::sync_channel::<Round>(crate::history::ROUNDS_QUEUED);
    let (out, out_rx) = watch::channel(Arc::new(Forecasts::new()));
    let (job_tx, job_rx) = mpsc::channel::<RefitJob>();
    let (done_tx, done_rx) = mpsc::channel::<Refit>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    for i in 0..config.refit_workers.max(1) {
        let (jobs, done) = (Arc::clone(&job_rx), done_tx.clone());
        std::thread::Builder::new()
            .name(format!("edgeflow-refit-{i}"))
            .spawn(move || {
                crate::priority::background();
                loop {
                    // The lock is held only while waiting for a job, never while fitting.
                    let job = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    if done.send(job.run()).is_err() {
                        return;
                    }
                }
            })
            .expect("spawning a refit worker");
    }
    std::thread::Builder::new()
        .name("edgeflow-forecast".into())
        .spawn(move || {
            crate::priority::background();
            let mut f = LinkForecaster::new(config);
            for (unix_ms, rates) in rx {
                for refit in done_rx.try_iter() {
                    f.install(refit);
                }
                if let Some(forecasts) = f.add_round(unix_ms, &rates) {
                    log_round(&forecasts);
                    out.send_replace(Arc::new(forecasts));
                }
                for job in f.take_refit_jobs() {
                    // Workers only stop when this sender is dropped.
                    let _ = job_tx.send(job);
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
            tx_bps: tx,
            ..PortRates::ZERO
        }
    }

    /// One round, as the forecasting thread does it, with refits run at once.
    fn round_refitting_inline(
        f: &mut LinkForecaster,
        unix_ms: u64,
        rates: &[(PortRef, PortRates)],
    ) -> Option<Forecasts> {
        let out = f.add_round(unix_ms, rates);
        for job in f.take_refit_jobs() {
            f.install(job.run());
        }
        out
    }

    fn small(max_refits_in_flight: usize) -> ForecastConfig {
        ForecastConfig {
            interval: Duration::from_secs(10),
            horizon: 3,
            period: 6,
            min_history: 4,
            max_refits_in_flight,
            ..ForecastConfig::default()
        }
    }

    #[test]
    fn intervals_average_polls_and_forecast_each_link() {
        let mut f = LinkForecaster::new(small(4));
        let (a, b) = (PortRef { dpid: 1, port: 1 }, PortRef { dpid: 2, port: 1 });
        let mut last = None;
        // 40 intervals of 10 one-second polls: a carries 5 Mbit/s, b alternates 1 and 3 within each interval.
        for s in 0..400u64 {
            let b_rate = if s % 2 == 0 { 1e6 } else { 3e6 };
            let rates = [(a, rates(5e6)), (b, rates(b_rate))];
            if let Some(out) = round_refitting_inline(&mut f, s * 1000, &rates) {
                last = Some(out);
            }
        }
        assert!(f.links.values().all(|l| l.fitted));
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

    /// Closes interval `i` (one poll per interval) for three links.
    fn interval(f: &mut LinkForecaster, ports: &[PortRef], i: u64) -> Option<Forecasts> {
        let rates: Vec<_> = ports
            .iter()
            .map(|p| (*p, rates(1e6 + (i % 6) as f64 * 1e5)))
            .collect();
        f.add_round(i * 10_000, &rates)
    }

    #[test]
    fn refits_are_bounded_and_forecasts_go_on_while_they_run() {
        let mut f = LinkForecaster::new(small(1));
        let ports: Vec<PortRef> = (1..=3).map(|d| PortRef { dpid: d, port: 1 }).collect();
        for i in 0..=4 {
            interval(&mut f, &ports, i);
        }
        // Every link is due after 4 samples; one refit may be out at a time.
        let mut jobs = f.take_refit_jobs();
        assert_eq!(jobs.len(), 1);
        assert_eq!(f.due.len(), 2);
        // While it runs, every interval still forecasts every link and hands out nothing more.
        for i in 5..=7 {
            let out = interval(&mut f, &ports, i).expect("an interval closed");
            assert_eq!(out.len(), 3);
            assert!(f.take_refit_jobs().is_empty());
        }
        assert_eq!(f.due.len(), 2, "a link is queued once");
        let refit = jobs.pop().expect("one job").run();
        let port = refit.port;
        f.install(refit);
        let link = &f.links[&port];
        assert!(link.fitted && link.refit.is_none());
        // The swapped-in selector was fed the 3 samples it missed: all 7 closed intervals are in its history.
        assert_eq!(link.selector.history().len(), 7);
        // The slot is free again: the next round hands out another link.
        let next = f.take_refit_jobs();
        assert_eq!(next.len(), 1);
        assert_ne!(next[0].port, port);
    }

    #[test]
    fn a_refit_that_never_returns_is_given_up_and_its_late_result_ignored() {
        let mut f = LinkForecaster::new(small(1));
        let p = [PortRef { dpid: 1, port: 1 }];
        for i in 0..=4 {
            interval(&mut f, &p, i);
        }
        let late = f.take_refit_jobs().pop().expect("a job");
        // When the kept samples reach the history length (3 periods of 6) the
        // refit is given up and the link, due again, gets a new one.
        for i in 5..=4 + 17 {
            interval(&mut f, &p, i);
            assert!(f.take_refit_jobs().is_empty());
        }
        interval(&mut f, &p, 22);
        let fresh = f.take_refit_jobs().pop().expect("handed out again");
        f.install(late.run());
        assert!(!f.links[&p[0]].fitted, "a stale refit is not swapped in");
        f.install(fresh.run());
        assert!(f.links[&p[0]].fitted);
        assert_eq!(f.in_flight, 0);
    }
}
