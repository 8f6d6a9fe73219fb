//! Port-rate history: every poll's rates for a while, minute averages for
//! longer, in the state database, written by a thread of its own so that
//! storage never stalls the event loop.

use crate::stats::{ByPort, PortRates};
use crate::storage::{Resolution, Store};
use crate::topology::PortRef;
use ahash::AHashMap as HashMap;
use std::sync::mpsc;
use std::time::Duration;
use tracing::warn;

/// How long each resolution is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Every poll's rates.
    pub polls: Duration,
    /// Minute averages.
    pub minutes: Duration,
}

const MINUTE_MS: u64 = 60_000;

/// Averages rates per port over wall-clock minutes.
#[derive(Debug, Default)]
pub struct Downsampler {
    minute: Option<u64>,
    /// Per switch, its ports' sums and counts: one lookup per switch in a
    /// round, not per port. Kept from minute to minute, zeroed.
    sums: HashMap<u64, ByPort<(PortRates, u32)>>,
}

impl Downsampler {
    /// Adds one round taken at `unix_ms`; when it starts a new minute,
    /// returns the previous minute's start and its per-port averages.
    pub fn add(
        &mut self,
        unix_ms: u64,
        rates: &[(PortRef, PortRates)],
    ) -> Option<(u64, Vec<(PortRef, PortRates)>)> {
        let minute = unix_ms - unix_ms % MINUTE_MS;
        let done = match self.minute {
            Some(m) if m != minute => Some((m, self.averages())),
            _ => None,
        };
        self.minute = Some(minute);
        let mut added = Vec::new();
        for switch in rates.chunk_by(|a, b| a.0.dpid == b.0.dpid) {
            let sums = self.sums.entry(switch[0].0.dpid).or_default();
            for (p, r) in switch {
                match sums.get_mut(p.port) {
                    Some((sum, n)) => {
                        sum.rx_bps += r.rx_bps;
                        sum.tx_bps += r.tx_bps;
                        sum.rx_pps += r.rx_pps;
                        sum.tx_pps += r.tx_pps;
                        sum.drops_ps += r.drops_ps;
                        sum.errors_ps += r.errors_ps;
                        // The newest known speed stands for the minute.
                        sum.speed_bps = r.speed_bps.or(sum.speed_bps);
                        *n += 1;
                    }
                    None => added.push((p.port, (*r, 1))),
                }
            }
            sums.add(&mut added);
        }
        done
    }

    /// The averages of the ports seen since the last call, sorted; their
    /// sums start again from zero, and ports not seen are forgotten.
    fn averages(&mut self) -> Vec<(PortRef, PortRates)> {
        let mut out = Vec::new();
        for (&dpid, ports) in &mut self.sums {
            ports.retain(|port, (s, n)| {
                if *n == 0 {
                    return false;
                }
                let k = f64::from(*n);
                let avg = PortRates {
                    rx_bps: s.rx_bps / k,
                    tx_bps: s.tx_bps / k,
                    rx_pps: s.rx_pps / k,
                    tx_pps: s.tx_pps / k,
                    drops_ps: s.drops_ps / k,
                    errors_ps: s.errors_ps / k,
                    speed_bps: s.speed_bps,
                };
                out.push((PortRef { dpid, port }, avg));
                (*s, *n) = (PortRates::ZERO, 0);
                true
            });
        }
        self.sums.retain(|_, ports| !ports.is_empty());
        out.sort_by_key(|(p, _)| *p);
        out
    }
}

/// One polling round for the writer: wall-clock time and rates.
pub type Round = (u64, Vec<(PortRef, PortRates)>);

/// Rounds waiting for a consumer thread (history writer, forecaster) at
/// most: a consumer that falls behind loses rounds (the runtime counts them)
/// instead of the queue growing without bound.
pub const ROUNDS_QUEUED: usize = 4;

/// What the writer thread does with each round.
pub struct Writer {
    store: std::sync::Arc<Store>,
    retention: Retention,
    down: Downsampler,
}

impl Writer {
    /// A writer into `store`.
    pub fn new(store: std::sync::Arc<Store>, retention: Retention) -> Writer {
        Writer {
            store,
            retention,
            down: Downsampler::default(),
        }
    }

    /// Stores one round taken at `unix_ms`; when it starts a new minute,
    /// also the last minute's averages, and expires old rows. Failures are
    /// logged: the next round tries again.
    pub fn round(&mut self, unix_ms: u64, rates: &[(PortRef, PortRates)]) {
        let store = &self.store;
        if let Err(e) = store.append_rates(Resolution::Poll, unix_ms, rates) {
            warn!(error = %e, "storing port rates failed");
        }
        if let Some((minute, avg)) = self.down.add(unix_ms, rates) {
            let keep = |d: Duration| unix_ms.saturating_sub(d.as_millis() as u64);
            let result = store
                .append_rates(Resolution::Minute, minute, &avg)
                .and_then(|()| store.expire_rates(Resolution::Poll, keep(self.retention.polls)))
                .and_then(|()| {
                    store.expire_rates(Resolution::Minute, keep(self.retention.minutes))
                });
            if let Err(e) = result {
                warn!(error = %e, "maintaining the rate history failed");
            }
        }
    }
}

/// Starts the writer thread; rounds sent to the returned channel are
/// stored, minute averages kept, and old rows expired once a minute.
pub fn spawn_writer(store: std::sync::Arc<Store>, retention: Retention) -> mpsc::SyncSender<Round> {
    let (tx, rx) = mpsc::sync_channel::<Round>(ROUNDS_QUEUED);
    std::thread::Builder::new()
        .name("edgeflow-history".into())
        .spawn(move || {
            crate::priority::background();
            let mut writer = Writer::new(store, retention);
            for (unix_ms, rates) in rx {
                writer.round(unix_ms, &rates);
            }
        })
        .expect("spawning the history thread");
    tx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: f64, u: Option<f64>) -> PortRates {
        PortRates {
            rx_bps: x,
            tx_bps: x,
            rx_pps: x,
            tx_pps: x,
            drops_ps: 0.0,
            errors_ps: 0.0,
            speed_bps: u,
        }
    }

    #[test]
    fn minutes_are_averaged_when_the_next_begins() {
        let p = PortRef { dpid: 1, port: 1 };
        let mut d = Downsampler::default();
        assert!(d.add(60_000, &[(p, r(10.0, Some(1e6)))]).is_none());
        assert!(d.add(61_000, &[(p, r(20.0, None))]).is_none());
        assert!(d.add(119_999, &[(p, r(30.0, Some(1e7)))]).is_none());
        let (minute, avg) = d.add(120_000, &[(p, r(99.0, None))]).unwrap();
        assert_eq!(minute, 60_000);
        assert_eq!(avg.len(), 1);
        assert_eq!(avg[0].1.rx_bps, 20.0);
        assert_eq!(avg[0].1.speed_bps, Some(1e7), "the newest speed");
    }

    #[test]
    fn ports_are_averaged_whatever_order_rounds_list_them_in() {
        let port = |dpid, port| PortRef { dpid, port };
        let (a, b, c) = (port(2, 1), port(2, 2), port(3, 1));
        let mut d = Downsampler::default();
        // Switch 2's ports split by switch 3's in the round.
        d.add(
            0,
            &[(a, r(1.0, None)), (c, r(5.0, None)), (b, r(10.0, None))],
        );
        // Switch 2's ports the other way round.
        d.add(
            1_000,
            &[(c, r(7.0, None)), (b, r(30.0, None)), (a, r(3.0, None))],
        );
        // A port seen from the third round on.
        let new = port(2, 9);
        d.add(2_000, &[(new, r(4.0, None)), (a, r(2.0, None))]);
        let (_, avg) = d.add(60_000, &[(a, r(8.0, None))]).unwrap();
        let rx: Vec<_> = avg.iter().map(|(p, r)| (*p, r.rx_bps)).collect();
        assert_eq!(rx, vec![(a, 2.0), (b, 20.0), (new, 4.0), (c, 6.0)]);
        // Sums start afresh; ports not seen in a minute are left out.
        let (_, avg) = d.add(120_000, &[]).unwrap();
        assert_eq!(avg, vec![(a, r(8.0, None))]);
        assert!(d.add(180_000, &[]).unwrap().1.is_empty());
    }

    #[test]
    fn writer_stores_rounds_and_minutes() {
        let dir = std::env::temp_dir().join(format!("edgeflow-writer-{}", std::process::id()));
        let path = dir.join("state.redb");
        let p = PortRef { dpid: 7, port: 3 };
        {
            let retention = Retention {
                polls: Duration::from_secs(3600),
                minutes: Duration::from_secs(7 * 24 * 3600),
            };
            let tx = spawn_writer(std::sync::Arc::new(Store::open(&path).unwrap()), retention);
            for s in 0..70u64 {
                tx.send((1_000_000_000 + s * 1000, vec![(p, r(s as f64, None))]))
                    .unwrap();
            }
            drop(tx);
            // The thread owns the store; wait until it has released the file.
            let mut tries = 0;
            while Store::open(&path).is_err() && tries < 200 {
                std::thread::sleep(Duration::from_millis(10));
                tries += 1;
            }
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store
                .rate_history(Resolution::Poll, p, 0..u64::MAX)
                .unwrap()
                .len(),
            70
        );
        let minutes = store
            .rate_history(Resolution::Minute, p, 0..u64::MAX)
            .unwrap();
        assert_eq!(minutes.len(), 1, "one full minute closed");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
