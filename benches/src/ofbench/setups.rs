//! End-to-end path setups started by one ingress switch (path-setup mode).
//!
//! A setup is a new pair of hosts on different edge switches. Its first
//! frame (IPv4/UDP, tagged like every emulated frame) enters the ingress
//! switch's pipeline from the source host's port; whatever the controller
//! does with it (PACKET_OUTs, flows, hop-by-hop PACKET_INs), the setup waits
//! until a copy leaves by the destination host's port. Then the second
//! frame of the pair enters the ingress pipeline the same way, as the probe:
//! the setup is complete when all of the probe's copies have ended
//! ([`super::datapath`]'s credit) and one reached the destination host,
//! unchanged, with no PACKET_IN on the way: flows for the pair are then on
//! every switch of its path. A setup fails if a frame reaches the host
//! altered, a copy loops, the pair causes more than [`MAX_PACKET_INS`]
//! PACKET_INs, the probe misses anywhere or goes nowhere, or the first
//! frame is not delivered within the timeout.
//!
//! Pairs: the ingress walks its (destination switch, source host,
//! destination host) combinations in a seeded pseudo-random order (an affine
//! permutation), one destination switch after another. A pair is started
//! only by one of its two ends (fixed by the parity of the hosts' ids), so
//! no pair, in either direction, is set up twice in a run.

use super::datapath::{Report, Trace, CREDIT};
use super::template::{packet_in_data, Host, PacketInTemplate, Tag};
use hdrhistogram::Histogram;
use rand::{rngs::StdRng, Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sequence-number bit of a setup's second frame.
pub const SECOND: u32 = 1 << 30;
/// Setup sequence numbers stay below [`SECOND`].
const SEQ_MASK: u32 = SECOND - 1;
/// More PACKET_INs than this for one pair: the controller is looping.
pub const MAX_PACKET_INS: u32 = 64;
/// Latencies above this are clamped in the histograms.
const MAX_LATENCY: Duration = Duration::from_secs(10);
/// Failure descriptions kept per switch, for the report.
const EXAMPLES: usize = 3;

/// Why a setup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The first frame did not reach the destination host in time.
    FirstTimeout,
    /// The probe's copies did not all end in time.
    ProbeTimeout,
    /// A copy of either frame crossed too many links.
    Loop,
    /// Too many PACKET_INs for the pair.
    ControllerLoop,
    /// A frame reached the destination host changed (a VLAN tag left on it, ...).
    Altered,
    /// The probe caused a PACKET_IN: a flow was missing on the path.
    ProbeMissed,
    /// The probe never reached the destination host (dropped or misdirected).
    ProbeLost,
}

impl Failure {
    /// Every failure, in report order.
    pub const ALL: [Failure; 7] = [
        Failure::FirstTimeout,
        Failure::ProbeTimeout,
        Failure::Loop,
        Failure::ControllerLoop,
        Failure::Altered,
        Failure::ProbeMissed,
        Failure::ProbeLost,
    ];

    /// A short name for output.
    pub fn name(self) -> &'static str {
        match self {
            Failure::FirstTimeout => "first_frame_not_delivered",
            Failure::ProbeTimeout => "probe_unfinished",
            Failure::Loop => "loop",
            Failure::ControllerLoop => "controller_loop",
            Failure::Altered => "delivered_altered",
            Failure::ProbeMissed => "probe_packet_in",
            Failure::ProbeLost => "probe_not_delivered",
        }
    }
}

counters! {
    /// Counters of the setups of one switch (while counting).
    #[derive(Debug, Clone, Default)]
    pub struct SetupCounters {
        /// Setups started.
        pub started: u64,
        /// Setups complete.
        pub completed: u64,
        /// Failed setups, by [`Failure::ALL`] index.
        pub failed: [u64; 7],
        /// PACKET_INs caused by completed setups (both frames, every switch).
        pub packet_ins: u64,
        /// Copies that reached another host than the destination.
        pub misdelivered: u64,
        /// Pairs ran out (the ingress stopped starting setups).
        pub exhausted: u64,
    }
}

impl SetupCounters {
    /// Failed setups of every kind.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }
}

/// What a switch needs to know to choose pairs.
#[derive(Debug, Clone)]
pub struct PairSpace {
    /// Switches with hosts, in order.
    pub edge: Arc<Vec<u32>>,
    /// Hosts per edge switch (on ports first_host_port..).
    pub hosts: u16,
    /// Each edge switch's first host port, by switch number.
    pub first_host_port: Arc<Vec<u32>>,
    /// Seed of the pair order.
    pub seed: u64,
}

#[derive(Debug, Clone)]
struct Setup {
    seq: u32,
    in_port: u32,
    dst_switch: u32,
    dst_port: u32,
    frames: [Vec<u8>; 2],
    started: Instant,
    first: Option<Instant>,
    probe_delivered: Option<Instant>,
    probe_credit: u32,
    probe_packet_in: Option<(u32, u8)>,
    packet_ins: u32,
}

/// The setups of one ingress switch.
#[derive(Debug)]
pub struct Setups {
    me: u32,
    space: PairSpace,
    /// Position of this switch in `space.edge`.
    my_pos: usize,
    /// Combinations: (edge - 1) * hosts * hosts.
    combos: u64,
    mul: u64,
    add: u64,
    next_combo: u64,
    slots: Vec<Option<Setup>>,
    window: u32,
    outstanding: u32,
    next_seq: u32,
    template: PacketInTemplate,
    counting: bool,
    /// Counters.
    pub counters: SetupCounters,
    /// First PACKET_IN to first delivery, ns (completed setups).
    pub first_latency: Histogram<u64>,
    /// First PACKET_IN to the probe's delivery, ns (completed setups).
    pub setup_latency: Histogram<u64>,
    /// A few failures, described.
    pub examples: Vec<String>,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A frame from `src` to `dst` tagged `tag`.
fn make_frame(t: &mut PacketInTemplate, src: Host, dst: Host, tag: Tag) -> Vec<u8> {
    let msg = t.patch(0, 0, src, dst, tag);
    packet_in_data(msg)
        .expect("the template holds a frame")
        .1
        .to_vec()
}

impl Setups {
    /// The setups of switch `me` (one of `space.edge`), at most `window` at once.
    pub fn new(me: u32, space: PairSpace, window: u32) -> Setups {
        let my_pos = space.edge.iter().position(|&s| s == me).unwrap_or(0);
        let h = u64::from(space.hosts);
        let combos = (space.edge.len().saturating_sub(1) as u64) * h * h;
        let mut rng =
            StdRng::seed_from_u64(space.seed ^ u64::from(me).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut mul = 1;
        if combos > 1 {
            loop {
                mul = rng.random_range(1..combos);
                if gcd(mul, combos) == 1 {
                    break;
                }
            }
        }
        let add = if combos > 0 {
            rng.random_range(0..combos)
        } else {
            0
        };
        let window = window.max(1);
        let hist =
            || Histogram::new_with_max(MAX_LATENCY.as_nanos() as u64, 3).expect("valid bounds");
        Setups {
            me,
            space,
            my_pos,
            combos,
            mul,
            add,
            next_combo: 0,
            slots: vec![None; (2 * window as usize).next_power_of_two()],
            window,
            outstanding: 0,
            next_seq: 0,
            template: PacketInTemplate::new(),
            counting: false,
            counters: SetupCounters::default(),
            first_latency: hist(),
            setup_latency: hist(),
            examples: Vec::new(),
        }
    }

    /// Starts or stops counting.
    pub fn set_counting(&mut self, on: bool) {
        self.counting = on;
    }

    /// Setups that may be started now.
    pub fn room(&self) -> u32 {
        self.window.saturating_sub(self.outstanding)
    }

    /// Global id of host `h` of switch `s`.
    fn gid(s: u32, h: u16) -> u64 {
        u64::from(s) << 16 | u64::from(h)
    }

    /// The next pair this switch owns: (source host, destination switch, destination host).
    fn next_pair(&mut self) -> Option<(u16, u32, u16)> {
        let h = u64::from(self.space.hosts);
        let others = self.space.edge.len() as u64 - 1;
        while self.next_combo < self.combos {
            let c = (self.next_combo.wrapping_mul(self.mul) % self.combos + self.add) % self.combos;
            self.next_combo += 1;
            let d = (c % others) as usize;
            let rest = c / others;
            let (src, dst) = ((rest % h) as u16, (rest / h) as u16);
            let dst_switch = self.space.edge[(self.my_pos + 1 + d) % self.space.edge.len()];
            let (a, b) = (Self::gid(self.me, src), Self::gid(dst_switch, dst));
            let owner = if (a + b) % 2 == 0 { a.min(b) } else { a.max(b) };
            if owner == a {
                return Some((src, dst_switch, dst));
            }
        }
        None
    }

    /// Starts a setup: the port and frame to run through this switch's
    /// pipeline (as a frame from the source host), or None when the window
    /// is full or the pairs ran out.
    pub fn start(&mut self, now: Instant) -> Option<(u32, Vec<u8>, Trace)> {
        if self.room() == 0 {
            return None;
        }
        let Some((src, dst_switch, dst)) = self.next_pair() else {
            self.counters.exhausted = 1;
            return None;
        };
        // Skip sequence numbers whose slot a slow setup still holds (there
        // are twice as many slots as the window: one is free).
        let (seq, i) = loop {
            let seq = self.next_seq;
            self.next_seq = (self.next_seq + 1) & SEQ_MASK;
            let i = seq as usize & (self.slots.len() - 1);
            if self.slots[i].is_none() {
                break (seq, i);
            }
        };
        let (s, d) = (Host::new(self.me, src), Host::new(dst_switch, dst));
        let tag = |seq| Tag {
            switch: self.me,
            seq,
        };
        let frames = [
            make_frame(&mut self.template, s, d, tag(seq)),
            make_frame(&mut self.template, s, d, tag(seq | SECOND)),
        ];
        let first_port = |sw: u32| self.space.first_host_port[sw as usize];
        let setup = Setup {
            seq,
            in_port: first_port(self.me) + u32::from(src),
            dst_switch,
            dst_port: first_port(dst_switch) + u32::from(dst),
            frames,
            started: now,
            first: None,
            probe_delivered: None,
            probe_credit: 0,
            probe_packet_in: None,
            packet_ins: 0,
        };
        let start = (setup.in_port, setup.frames[0].clone(), Trace::new(false));
        self.slots[i] = Some(setup);
        self.outstanding += 1;
        self.counters.started += u64::from(self.counting);
        Some(start)
    }

    fn slot_of(&self, seq: u32) -> Option<usize> {
        let i = (seq & SEQ_MASK) as usize & (self.slots.len() - 1);
        let s = self.slots[i].as_ref()?;
        (s.seq == seq & SEQ_MASK && seq & !(SEQ_MASK | SECOND) == 0).then_some(i)
    }

    fn fail(&mut self, i: usize, why: Failure) {
        let Some(s) = self.slots[i].take() else {
            return;
        };
        self.outstanding -= 1;
        if !self.counting {
            return;
        }
        let at = Failure::ALL.iter().position(|&f| f == why).unwrap_or(0);
        self.counters.failed[at] += 1;
        if self.examples.len() < EXAMPLES {
            let mut text = format!(
                "{}: switch {} port {} -> switch {} port {} (seq {})",
                why.name(),
                self.me,
                s.in_port,
                s.dst_switch,
                s.dst_port,
                s.seq
            );
            if let Some((sw, table)) = s.probe_packet_in {
                text +=
                    &format!(", probe sent to the controller by switch {sw} from table {table}");
            }
            self.examples.push(text);
        }
    }

    /// What happened to a frame of one of this switch's setups elsewhere;
    /// returns the probe to run through this switch's pipeline when the
    /// first frame has just been delivered.
    pub fn report(&mut self, r: &Report) -> Option<(u32, Vec<u8>, Trace)> {
        let i = self.slot_of(r.tag.seq)?;
        let probe = r.tag.seq & SECOND != 0;
        let s = self.slots[i].as_mut().expect("slot_of checked");
        s.packet_ins += r.packet_ins;
        if probe && r.credited && r.packet_ins > 0 && s.probe_packet_in.is_none() {
            s.probe_packet_in = Some((r.switch, r.packet_in_table.unwrap_or(0)));
        }
        let mut reached = false;
        let mut altered = false;
        for (port, frame) in &r.to_hosts {
            if r.switch == s.dst_switch && *port == s.dst_port {
                reached = true;
                altered |= *frame != s.frames[usize::from(probe)];
            } else {
                self.counters.misdelivered += u64::from(self.counting);
            }
        }
        if altered {
            self.fail(i, Failure::Altered);
            return None;
        }
        if r.loops > 0 {
            self.fail(i, Failure::Loop);
            return None;
        }
        if s.packet_ins > MAX_PACKET_INS {
            self.fail(i, Failure::ControllerLoop);
            return None;
        }
        if !probe {
            if !reached || s.first.is_some() {
                return None;
            }
            s.first = Some(r.at);
            return Some((s.in_port, s.frames[1].clone(), Trace::new(true)));
        }
        if !r.credited {
            return None; // copies the controller sent after the probe missed
        }
        if reached && s.probe_delivered.is_none() {
            s.probe_delivered = Some(r.at);
        }
        s.probe_credit += r.credit;
        if s.probe_credit < CREDIT {
            return None;
        }
        let why = if s.probe_packet_in.is_some() {
            Some(Failure::ProbeMissed)
        } else if s.probe_delivered.is_none() {
            Some(Failure::ProbeLost)
        } else {
            None
        };
        if let Some(why) = why {
            self.fail(i, why);
            return None;
        }
        let s = self.slots[i].take().expect("checked above");
        self.outstanding -= 1;
        if self.counting {
            let ns = |t: Instant| t.saturating_duration_since(s.started).as_nanos() as u64;
            self.counters.completed += 1;
            self.counters.packet_ins += u64::from(s.packet_ins);
            self.first_latency
                .saturating_record(ns(s.first.unwrap_or(s.started)));
            self.setup_latency
                .saturating_record(ns(s.probe_delivered.unwrap_or(s.started)));
        }
        None
    }

    /// Gives up setups older than `timeout`.
    pub fn expire(&mut self, now: Instant, timeout: Duration) {
        for i in 0..self.slots.len() {
            let Some(s) = &self.slots[i] else { continue };
            if now.saturating_duration_since(s.started) >= timeout {
                let why = if s.first.is_none() {
                    Failure::FirstTimeout
                } else {
                    Failure::ProbeTimeout
                };
                self.fail(i, why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn space(edge: Vec<u32>, hosts: u16) -> PairSpace {
        let n = edge.iter().max().map_or(0, |m| m + 1) as usize;
        PairSpace {
            edge: Arc::new(edge),
            hosts,
            first_host_port: Arc::new(vec![3; n]),
            seed: 1,
        }
    }

    fn report(tag: Tag, switch: u32, credited: bool, credit: u32) -> Report {
        Report::new(tag, switch, credited, credit, Instant::now())
    }

    #[test]
    fn every_unordered_pair_across_switches_is_started_exactly_once() {
        let sp = space(vec![0, 2, 5], 3);
        let mut seen = HashSet::new();
        let mut dst_switches = HashSet::new();
        for &me in sp.edge.iter() {
            let mut s = Setups::new(me, sp.clone(), 1);
            while let Some((src, dsw, dst)) = s.next_pair() {
                assert_ne!(dsw, me);
                dst_switches.insert((me, dsw));
                let (a, b) = ((me, src), (dsw, dst));
                assert!(seen.insert((a.min(b), a.max(b))), "{a:?} {b:?} twice");
            }
        }
        // 3 switches x 3 hosts: 27 host pairs on different switches.
        assert_eq!(seen.len(), 27);
        assert!(dst_switches.len() >= 5);
    }

    #[test]
    fn a_setup_counts_only_once_both_frames_got_through() {
        let sp = space(vec![0, 1], 2);
        let mut s = Setups::new(0, sp, 4);
        s.set_counting(true);
        let (in_port, first, trace) = s.start(Instant::now()).unwrap();
        assert!(!trace.credited);
        let tag = Tag::read(&first).unwrap();
        let slot = s.slots[s.slot_of(tag.seq).unwrap()].clone().unwrap();
        assert_eq!(in_port, slot.in_port);
        // The ingress misses: a PACKET_IN, reported by itself.
        let mut miss = report(tag, 0, false, CREDIT);
        miss.packet_ins = 1;
        assert!(s.report(&miss).is_none());
        // The controller's PACKET_OUT reaches the destination host.
        let mut delivered = report(tag, slot.dst_switch, false, CREDIT);
        delivered.to_hosts = vec![(slot.dst_port, first.clone())];
        let (_, probe, trace) = s.report(&delivered).unwrap();
        assert!(trace.credited);
        assert_eq!(s.counters.completed, 0, "not before the probe");
        let ptag = Tag::read(&probe).unwrap();
        assert_eq!(ptag.seq, tag.seq | SECOND);
        // The probe: half the credit crosses the ingress, half reaches the host.
        assert!(s.report(&report(ptag, 0, true, CREDIT / 2)).is_none());
        let mut end = report(ptag, slot.dst_switch, true, CREDIT / 2);
        end.to_hosts = vec![(slot.dst_port, probe)];
        assert!(s.report(&end).is_none());
        assert_eq!(s.counters.completed, 1);
        assert_eq!(s.counters.packet_ins, 1);
        assert_eq!(s.counters.failed_total(), 0);
        assert_eq!(s.setup_latency.len(), 1);
        assert_eq!(s.room(), 4);
    }

    #[test]
    fn a_probe_that_misses_fails_the_setup_even_if_the_controller_delivers_it() {
        let sp = space(vec![0, 1], 2);
        let mut s = Setups::new(0, sp, 1);
        s.set_counting(true);
        let (_, first, _) = s.start(Instant::now()).unwrap();
        let tag = Tag::read(&first).unwrap();
        let slot = s.slots[s.slot_of(tag.seq).unwrap()].clone().unwrap();
        let mut delivered = report(tag, slot.dst_switch, false, 0);
        delivered.to_hosts = vec![(slot.dst_port, first)];
        let (_, probe, _) = s.report(&delivered).unwrap();
        let ptag = Tag::read(&probe).unwrap();
        // The egress switch misses in table 1; the controller then delivers the probe itself.
        let mut miss = report(ptag, slot.dst_switch, true, CREDIT);
        miss.packet_ins = 1;
        miss.packet_in_table = Some(1);
        let mut by_controller = report(ptag, slot.dst_switch, false, CREDIT);
        by_controller.to_hosts = vec![(slot.dst_port, probe)];
        s.report(&by_controller);
        s.report(&miss);
        assert_eq!(s.counters.completed, 0);
        assert_eq!(s.counters.failed[5], 1);
        assert!(s.examples[0].contains("table 1"), "{:?}", s.examples);
    }

    #[test]
    fn an_undelivered_first_frame_times_out() {
        let mut s = Setups::new(0, space(vec![0, 1], 2), 1);
        s.set_counting(true);
        let t0 = Instant::now();
        s.start(t0).unwrap();
        assert!(s.start(t0).is_none(), "window full");
        s.expire(t0 + Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!(s.counters.failed[0], 1);
        assert_eq!(s.room(), 1);
    }
}
