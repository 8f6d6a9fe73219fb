//! Port statistics: polling schedule and counters turned into rates, sans-IO.
//!
//! Every switch is asked for OFPMP_PORT_STATS once per interval, all in one
//! round. The rounds count from the first switch's connection, as the LLDP
//! probe rounds do, so with equal intervals (the default) a switch's request
//! leaves in the same write as its probes and one wake-up serves both; the
//! rates of one round also describe one moment of the whole fabric.
//! (Spread over the interval, every request and reply was a wake-up of its
//! own: polling 1,000 switches cost a saturated controller 14-18 % of its
//! answers, against a median of 5-8 % in one round; see BENCHMARKS.md.)
//! A reply
//! (possibly several multipart parts) is compared with the switch's previous
//! one: deltas over the switch's own elapsed time (the ports' duration
//! fields, falling back to the controller's clock) give bit/s, packet/s,
//! drops and errors per second, and utilisation against the port speed.
//! A counter that went backwards (the switch restarted, the port was
//! re-created) starts a new baseline instead of producing a negative or
//! absurd rate.

use crate::timers::Period;
use crate::topology::PortRef;
use ahash::AHashMap as HashMap;
use edgeflow_proto::ofp::PortStats;
use std::time::{Duration, Instant};

pub use edgeflow_api::model::PortRates;

/// Polling settings.
#[derive(Debug, Clone)]
pub struct StatsConfig {
    /// Interval between two polls of one switch.
    pub interval: Duration,
    /// Port speeds in bit/s that override what the switch reports (Open
    /// vSwitch's userspace ports report 10 Gbit/s whatever a shaper allows).
    pub speed_overrides: HashMap<PortRef, u64>,
    /// Speed in bit/s of every port without an override, instead of what the
    /// switch reports.
    pub default_speed: Option<u64>,
}

/// The counters of a port at one poll that its rates are made of.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    /// The port's own clock: seconds since it was added.
    duration: f64,
    rx_bytes: u64,
    tx_bytes: u64,
    rx_packets: u64,
    tx_packets: u64,
    rx_dropped: u64,
    tx_dropped: u64,
    rx_errors: u64,
    tx_errors: u64,
}

impl Sample {
    fn new(at: Instant, s: &PortStats) -> Sample {
        Sample {
            at,
            duration: f64::from(s.duration_sec) + f64::from(s.duration_nsec) * 1e-9,
            rx_bytes: s.rx_bytes,
            tx_bytes: s.tx_bytes,
            rx_packets: s.rx_packets,
            tx_packets: s.tx_packets,
            rx_dropped: s.rx_dropped,
            tx_dropped: s.tx_dropped,
            rx_errors: s.rx_errors,
            tx_errors: s.tx_errors,
        }
    }
}

/// A byte counter as read at a time: the rate over a window of any length
/// is the difference of two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// When the reply carrying it arrived.
    pub at: Instant,
    /// Bytes counted.
    pub bytes: u64,
}

impl Counter {
    /// Bit/s from `start` to this reading; None when no time passed or the
    /// counter went backwards (reset).
    pub fn rate_since(&self, start: &Counter) -> Option<f64> {
        let dt = self.at.saturating_duration_since(start.at).as_secs_f64();
        let bytes = self.bytes.checked_sub(start.bytes)?;
        (dt > 0.0).then(|| bytes as f64 * 8.0 / dt)
    }
}

/// Elapsed time between two samples: the switch's own clock (the port's
/// duration) when it advanced, else the controller's.
fn elapsed(prev: &Sample, cur: &Sample) -> Option<f64> {
    let switch_dt = cur.duration - prev.duration;
    let local_dt = cur.at.saturating_duration_since(prev.at).as_secs_f64();
    let dt = if switch_dt > 0.0 { switch_dt } else { local_dt };
    (dt > 0.0).then_some(dt)
}

/// Rates between two samples of one port, or None when a counter went
/// backwards (a reset) or no time passed.
fn rates(p: &Sample, c: &Sample, speed_bps: Option<u64>) -> Option<PortRates> {
    let d = |a: u64, b: u64| b.checked_sub(a).map(|x| x as f64);
    let dt = elapsed(p, c)?;
    let rx_bytes = d(p.rx_bytes, c.rx_bytes)?;
    let tx_bytes = d(p.tx_bytes, c.tx_bytes)?;
    let rx_packets = d(p.rx_packets, c.rx_packets)?;
    let tx_packets = d(p.tx_packets, c.tx_packets)?;
    let drops = d(p.rx_dropped, c.rx_dropped)? + d(p.tx_dropped, c.tx_dropped)?;
    let errors = d(p.rx_errors, c.rx_errors)? + d(p.tx_errors, c.tx_errors)?;
    let (rx_bps, tx_bps) = (rx_bytes * 8.0 / dt, tx_bytes * 8.0 / dt);
    Some(PortRates {
        rx_bps,
        tx_bps,
        rx_pps: rx_packets / dt,
        tx_pps: tx_packets / dt,
        drops_ps: drops / dt,
        errors_ps: errors / dt,
        speed_bps: speed_bps.filter(|&s| s > 0).map(|s| s as f64),
    })
}

/// A port's counters at the last poll and the rates since the one before.
#[derive(Debug, Clone, Copy)]
struct PortState {
    /// The reply of the switch that brought `last`.
    reply: u64,
    last: Sample,
    rates: Option<PortRates>,
}

/// Values by port number for one switch, in a vector sorted by number: a
/// switch's 48 ports lie together in a few kilobytes, where a hash table's
/// slots were each a cache miss once a fabric's 48,000 ports outgrew the
/// cache. Ports are looked for by binary search; new ones are added in a
/// batch (one sort), since inserting each in place would cost a switch that
/// lists thousands of new ports in reverse order quadratic time.
#[derive(Debug, Clone)]
pub struct ByPort<T>(Vec<(u32, T)>);

impl<T> Default for ByPort<T> {
    fn default() -> Self {
        ByPort(Vec::new())
    }
}

impl<T> ByPort<T> {
    fn at(&self, port: u32) -> Result<usize, usize> {
        self.0.binary_search_by_key(&port, |(p, _)| *p)
    }

    /// The value of a port.
    pub fn get(&self, port: u32) -> Option<&T> {
        self.at(port).ok().map(|i| &self.0[i].1)
    }

    /// The value of a port, to change.
    pub fn get_mut(&mut self, port: u32) -> Option<&mut T> {
        self.at(port).ok().map(|i| &mut self.0[i].1)
    }

    /// Forgets a port.
    pub fn remove(&mut self, port: u32) {
        if let Ok(i) = self.at(port) {
            self.0.remove(i);
        }
    }

    /// Adds ports not there yet, emptying `new`; of a port given twice, the
    /// first value counts.
    pub fn add(&mut self, new: &mut Vec<(u32, T)>) {
        if !new.is_empty() {
            self.0.append(new);
            // Stable: a port already there, then the first of `new`, stays.
            self.0.sort_by_key(|(p, _)| *p);
            self.0.dedup_by_key(|(p, _)| *p);
        }
    }

    /// Keeps the ports `keep` says to, by number, changing them as it goes.
    pub fn retain(&mut self, mut keep: impl FnMut(u32, &mut T) -> bool) {
        self.0.retain_mut(|(p, v)| keep(*p, v));
    }

    /// No ports.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One switch's ports: kept together, so that a reply of 48 ports touches
/// one small table instead of 48 places in a fabric-wide one, and a switch
/// that leaves is forgotten at once.
#[derive(Debug, Default)]
struct SwitchPorts {
    /// Parts of a multipart reply still to come.
    partial: Vec<PortStats>,
    /// Complete replies so far.
    replies: u64,
    ports: ByPort<PortState>,
}

/// A port's speed in bit/s: configured for it, else configured for every
/// port, else what the switch `reported`.
fn speed_bps(
    config: &StatsConfig,
    port: PortRef,
    reported: impl FnOnce() -> Option<u64>,
) -> Option<u64> {
    config
        .speed_overrides
        .get(&port)
        .copied()
        .or(config.default_speed)
        .or_else(reported)
}

/// Polling schedule, partial replies, previous samples and current rates.
#[derive(Debug)]
pub struct Monitor {
    config: StatsConfig,
    rounds: Period,
    /// The switches polled, by datapath id.
    switches: HashMap<u64, SwitchPorts>,
    /// How late the latest round's requests left after their scheduled time.
    lag: Duration,
}

impl Monitor {
    /// A monitor polling no switch yet.
    pub fn new(config: StatsConfig) -> Monitor {
        Monitor {
            rounds: Period::new(config.interval),
            config,
            switches: HashMap::new(),
            lag: Duration::ZERO,
        }
    }

    /// Starts the polling rounds, unless they are running: the first comes
    /// one interval from `now`.
    pub fn start(&mut self, now: Instant) {
        self.rounds.start(now);
    }

    /// Polls a switch from the next round on.
    pub fn switch_ready(&mut self, dpid: u64) {
        self.switches.entry(dpid).or_default().partial.clear();
    }

    /// Stops polling a switch and forgets its samples.
    pub fn switch_gone(&mut self, dpid: u64) {
        self.switches.remove(&dpid);
    }

    /// Forgets the samples of a port that was deleted.
    pub fn port_gone(&mut self, at: PortRef) {
        if let Some(sw) = self.switches.get_mut(&at.dpid) {
            sw.ports.remove(at.port);
        }
    }

    /// The switches to poll now, in order: every one, when a round is due.
    pub fn due(&mut self, now: Instant) -> Vec<u64> {
        let Some(late) = self.rounds.due(now) else {
            return Vec::new();
        };
        let mut due: Vec<u64> = self.switches.keys().copied().collect();
        if !due.is_empty() {
            self.lag = late;
        }
        due.sort_unstable();
        due
    }

    /// How late the latest round left after its scheduled time (the event
    /// loop was busy, or its timer late).
    pub fn lag(&self) -> Duration {
        self.lag
    }

    /// A port's speed in bit/s: configured for it, else configured for
    /// every port, else what the switch `reported`.
    pub fn speed_bps(&self, port: PortRef, reported: impl FnOnce() -> Option<u64>) -> Option<u64> {
        speed_bps(&self.config, port, reported)
    }

    /// When the next round is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.rounds.next()
    }

    /// One part of a PORT_STATS reply; `more` is the REPLY_MORE flag. When
    /// the reply is complete, returns the new rates of the switch's ports
    /// (ports seen for the first time, or reset, have none yet).
    pub fn reply(
        &mut self,
        dpid: u64,
        now: Instant,
        more: bool,
        stats: Vec<PortStats>,
        speed_bps_of: impl Fn(u32) -> Option<u64>,
    ) -> Option<Vec<(PortRef, PortRates)>> {
        let Monitor {
            config, switches, ..
        } = self;
        // A late reply from a switch that left starts nothing.
        let sw = switches.get_mut(&dpid)?;
        if more {
            sw.partial.extend(stats);
            return None;
        }
        // The usual reply comes in one part and is not copied aside.
        let parts = std::mem::take(&mut sw.partial);
        let all = parts.into_iter().chain(stats);
        let mut fresh = Vec::with_capacity(all.size_hint().0);
        let mut added = Vec::new();
        sw.replies += 1;
        for stats in all {
            let port = PortRef {
                dpid,
                port: stats.port_no,
            };
            let cur = Sample::new(now, &stats);
            match sw.ports.get_mut(stats.port_no) {
                // Of a port listed twice in a reply, the first copy counts.
                Some(st) if st.reply == sw.replies => {}
                Some(st) => {
                    let speed = speed_bps(config, port, || speed_bps_of(stats.port_no));
                    st.rates = rates(&st.last, &cur, speed);
                    st.last = cur;
                    st.reply = sw.replies;
                    fresh.extend(st.rates.map(|r| (port, r)));
                }
                None => added.push((
                    stats.port_no,
                    PortState {
                        reply: sw.replies,
                        last: cur,
                        rates: None,
                    },
                )),
            }
        }
        sw.ports.add(&mut added);
        Some(fresh)
    }

    /// The latest rates of a port.
    pub fn rates(&self, port: PortRef) -> Option<&PortRates> {
        let sw = self.switches.get(&port.dpid)?;
        sw.ports.get(port.port)?.rates.as_ref()
    }

    /// The bytes a port has sent, as of its switch's latest reply.
    pub fn sent(&self, port: PortRef) -> Option<Counter> {
        let last = &self.switches.get(&port.dpid)?.ports.get(port.port)?.last;
        Some(Counter {
            at: last.at,
            bytes: last.tx_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(port_no: u32, secs: u32, bytes: u64, packets: u64) -> PortStats {
        PortStats {
            port_no,
            rx_packets: packets,
            tx_packets: packets / 2,
            rx_bytes: bytes,
            tx_bytes: bytes / 2,
            rx_dropped: 0,
            tx_dropped: 0,
            rx_errors: 0,
            tx_errors: 0,
            rx_frame_err: 0,
            rx_over_err: 0,
            rx_crc_err: 0,
            collisions: 0,
            duration_sec: secs,
            duration_nsec: 0,
        }
    }

    /// A monitor polling switch 1.
    fn monitor() -> Monitor {
        let mut m = Monitor::new(StatsConfig {
            interval: Duration::from_secs(1),
            speed_overrides: HashMap::from([(PortRef { dpid: 1, port: 2 }, 10_000_000)]),
            default_speed: None,
        });
        m.switch_ready(1);
        m
    }

    #[test]
    fn rates_from_two_polls_use_the_switch_clock() {
        let mut m = monitor();
        let t0 = Instant::now();
        assert_eq!(
            m.reply(1, t0, false, vec![stats(1, 10, 1000, 10)], |_| Some(
                1_000_000
            )),
            Some(vec![])
        );
        // The reply arrives 1.5 s later by our clock, but the switch measured 2 s.
        let r = m
            .reply(
                1,
                t0 + Duration::from_millis(1500),
                false,
                vec![stats(1, 12, 251_000, 110)],
                |_| Some(1_000_000),
            )
            .unwrap();
        assert_eq!(r.len(), 1);
        let r = r[0].1;
        assert_eq!(r.rx_bps, 250_000.0 * 8.0 / 2.0);
        assert_eq!(r.rx_pps, 50.0);
        assert_eq!(r.utilization(), Some(1.0));
        assert_eq!(r.tx_utilization(), Some(0.5));
    }

    #[test]
    fn ports_in_any_order_keep_their_own_samples() {
        let mut m = monitor();
        let t0 = Instant::now();
        // Port p carries p bytes a second. First listed backwards, with a
        // new port listed twice (the second copy is wrong and ignored).
        let first: Vec<_> = (1..=6)
            .rev()
            .map(|p| stats(p, 1, 0, 0))
            .chain([stats(3, 1, 1000, 0)])
            .collect();
        assert_eq!(m.reply(1, t0, false, first, |_| None), Some(vec![]));
        // Then in another order, a known port listed twice, one left out.
        let second: Vec<_> = [4, 1, 6, 3, 2]
            .map(|p| stats(p, 2, u64::from(p), 0))
            .into_iter()
            .chain([stats(4, 2, 999, 0)])
            .collect();
        let r = m.reply(1, t0, false, second, |_| None).unwrap();
        let rx: Vec<_> = r.iter().map(|(p, r)| (p.port, r.rx_bps)).collect();
        assert_eq!(
            rx,
            vec![(4, 32.0), (1, 8.0), (6, 48.0), (3, 24.0), (2, 16.0)]
        );
        for p in [1, 2, 3, 4, 6] {
            let port = PortRef { dpid: 1, port: p };
            assert_eq!(m.rates(port).unwrap().rx_bps, f64::from(p * 8));
        }
        assert!(
            m.rates(PortRef { dpid: 1, port: 5 }).is_none(),
            "no second sample"
        );
    }

    #[test]
    fn counter_reset_gives_no_rate_then_recovers() {
        let mut m = monitor();
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        m.reply(
            1,
            at(0),
            false,
            vec![stats(1, 100, 5_000_000, 5000)],
            |_| None,
        );
        // The switch restarted: counters and duration start from zero.
        let r = m
            .reply(1, at(1), false, vec![stats(1, 1, 1000, 10)], |_| None)
            .unwrap();
        assert!(r.is_empty(), "no negative or absurd rate: {r:?}");
        assert!(m.rates(PortRef { dpid: 1, port: 1 }).is_none());
        let r = m
            .reply(1, at(2), false, vec![stats(1, 2, 2000, 20)], |_| None)
            .unwrap();
        assert_eq!(r[0].1.rx_bps, 8000.0);
        assert_eq!(r[0].1.utilization(), None, "no speed known");
    }

    #[test]
    fn multipart_replies_are_joined_and_speed_overrides_apply() {
        let mut m = monitor();
        let t0 = Instant::now();
        m.reply(1, t0, true, vec![stats(1, 1, 0, 0)], |_| Some(1));
        m.reply(1, t0, false, vec![stats(2, 1, 0, 0)], |_| Some(1));
        assert!(m
            .reply(1, t0, true, vec![stats(1, 2, 125, 1)], |_| Some(1))
            .is_none());
        let r = m
            .reply(1, t0, false, vec![stats(2, 2, 1_250_000, 1)], |_| Some(1))
            .unwrap();
        assert_eq!(r.len(), 2);
        let p2 = r.iter().find(|(p, _)| p.port == 2).unwrap().1;
        assert_eq!(
            p2.utilization(),
            Some(1.0),
            "10 Mbit/s override, not the reported speed"
        );
    }

    #[test]
    fn a_round_polls_every_switch_ready_and_keeps_its_phase() {
        let mut m = monitor();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        m.start(t0);
        for dpid in (1..=100).rev() {
            m.switch_ready(dpid);
        }
        assert!(m.due(t0 + ms(999)).is_empty());
        assert_eq!(m.due(t0 + ms(1000)), (1..=100).collect::<Vec<u64>>());
        // Nothing is due twice within one interval.
        assert!(m.due(t0 + ms(1000)).is_empty());
        m.switch_gone(7);
        m.switch_ready(101);
        // Late: every switch once, the lag noted, the phase kept.
        let due = m.due(t0 + ms(2250));
        assert_eq!(due.len(), 100);
        assert!(!due.contains(&7) && due.contains(&101));
        assert_eq!(m.lag(), ms(250));
        assert_eq!(m.poll_timeout(), Some(t0 + ms(3000)));
    }

    #[test]
    fn a_reply_from_a_switch_not_polled_is_ignored() {
        let mut m = monitor();
        let t0 = Instant::now();
        let two_replies = |m: &mut Monitor, dpid| {
            m.reply(dpid, t0, false, vec![stats(1, 1, 0, 0)], |_| None);
            m.reply(dpid, t0, false, vec![stats(1, 2, 8, 1)], |_| None)
        };
        assert_eq!(
            two_replies(&mut m, 1).map(|r| r.len()),
            Some(1),
            "polled: a rate"
        );
        assert_eq!(two_replies(&mut m, 9), None, "never polled");
        m.switch_ready(9);
        m.switch_gone(9);
        assert_eq!(two_replies(&mut m, 9), None, "left");
        assert!(!m.switches.contains_key(&9));
    }

    #[test]
    fn leaving_switch_is_forgotten() {
        let mut m = monitor();
        let t0 = Instant::now();
        m.start(t0);
        m.reply(1, t0, false, vec![stats(1, 1, 0, 0)], |_| None);
        m.reply(1, t0, false, vec![stats(1, 2, 8, 1)], |_| None);
        assert!(m.rates(PortRef { dpid: 1, port: 1 }).is_some());
        m.port_gone(PortRef { dpid: 1, port: 1 });
        assert!(m.rates(PortRef { dpid: 1, port: 1 }).is_none());
        m.reply(1, t0, false, vec![stats(1, 3, 16, 2)], |_| None);
        m.reply(1, t0, false, vec![stats(1, 4, 24, 3)], |_| None);
        assert!(m.rates(PortRef { dpid: 1, port: 1 }).is_some());
        m.switch_gone(1);
        assert!(m.rates(PortRef { dpid: 1, port: 1 }).is_none());
        assert!(m.due(t0 + Duration::from_secs(5)).is_empty());
    }
}
