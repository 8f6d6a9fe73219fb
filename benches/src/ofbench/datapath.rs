//! The data plane of one emulated switch in path-setup mode: it applies the
//! controller's FLOW_MODs and GROUP_MODs to its [`Tables`], executes
//! PACKET_OUTs, runs frames arriving from links or hosts through its
//! pipeline, and says where every copy went: to a linked switch (a
//! [`Wire::Frame`] for the caller to carry), to the controller (a PACKET_IN
//! appended to the switch's output), to a host port, or nowhere.
//!
//! **Following a setup's frames.** Every emulated frame carries a tag naming
//! the switch that started it and its sequence number ([`Tag`]). Whatever
//! a switch does with a tagged frame it reports to that switch in one
//! [`Report`]: host ports reached (with the frame as it left), PACKET_INs
//! sent, copies dropped, copies that exceeded the hop limit.
//!
//! **Loops and storms.** A copy that has crossed [`MAX_HOPS`] links is not
//! carried further (a loop). Every frame tree (one injected frame, or one
//! PACKET_OUT) holds [`CREDIT`] units of credit; a switch splits a copy's
//! credit among the copies it makes, so a tree never has more than that many
//! copies at once: copies beyond a copy's credit are cut and counted
//! (`truncated`). Copies that end (a host, the controller, a drop, the hop
//! limit) send their credit back in the report. For the probe frame of a
//! setup (`credited`), the starting switch knows the frame's fate is
//! complete when all credit is back: only then can it say that no copy
//! reached the controller.

use super::fabric::End;
use super::pipeline::{self, Emit, Execution};
use super::table::Tables;
use super::template::{append, Tag};
use edgeflow_proto::ofp::{
    self, msg_type, ErrorMsg, Match, Message, OfpMsg, Oxm, PacketIn, PacketInReason,
};
use std::time::Instant;

/// Links a copy may cross before it counts as looping.
pub const MAX_HOPS: u8 = 64;
/// Credit of one frame tree: the most copies it can have.
pub const CREDIT: u32 = 1024;

/// What travels with a copy of a frame between switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trace {
    /// Links crossed so far.
    pub hops: u8,
    /// The copy's share of its tree's credit (at least 1).
    pub credit: u32,
    /// Whether the starting switch waits for the credit to come back.
    pub credited: bool,
}

impl Trace {
    /// A new frame tree.
    pub fn new(credited: bool) -> Trace {
        Trace {
            hops: 0,
            credit: CREDIT,
            credited,
        }
    }
}

/// What became of one tagged frame at one switch, for the switch that
/// started the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The frame's tag.
    pub tag: Tag,
    /// Whether the credit counts (the tree of a setup's probe frame).
    pub credited: bool,
    /// Credit given back by copies that ended here.
    pub credit: u32,
    /// When.
    pub at: Instant,
    /// The switch reporting.
    pub switch: u32,
    /// Host ports of that switch reached, with the frame as it left.
    pub to_hosts: Vec<(u32, Vec<u8>)>,
    /// PACKET_INs sent.
    pub packet_ins: u32,
    /// The table of the first of them.
    pub packet_in_table: Option<u8>,
    /// Copies dropped (no output, unconnected port, bad group, ...).
    pub drops: u32,
    /// Copies stopped at the hop limit.
    pub loops: u32,
    /// Copies cut for lack of credit.
    pub truncated: u32,
}

impl Report {
    /// A report of nothing yet for the frame tagged `tag` at `switch`.
    pub fn new(tag: Tag, switch: u32, credited: bool, credit: u32, at: Instant) -> Report {
        Report {
            tag,
            credited,
            credit,
            at,
            switch,
            to_hosts: Vec::new(),
            packet_ins: 0,
            packet_in_table: None,
            drops: 0,
            loops: 0,
            truncated: 0,
        }
    }
}

/// A message between emulated switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// A frame arriving at `port` from a link.
    Frame {
        /// The port it arrives at.
        port: u32,
        /// The frame.
        frame: Vec<u8>,
        /// Its hops and credit.
        trace: Trace,
    },
    /// What happened to a frame this switch started.
    Report(Report),
}

counters! {
    /// Counters of one switch's data plane.
    #[derive(Debug, Clone, Default)]
    pub struct DatapathCounters {
        /// PACKET_OUTs executed.
        pub packet_outs: u64,
        /// PACKET_INs sent from the pipeline or a PACKET_OUT.
        pub packet_ins: u64,
        /// Table misses (no entry hit) sent to the controller.
        pub misses: u64,
        /// FLOOD / ALL outputs.
        pub floods: u64,
        /// Copies dropped.
        pub drops: u64,
        /// Copies stopped at the hop limit.
        pub loops: u64,
        /// Copies cut for lack of credit.
        pub truncated: u64,
        /// Actions skipped as unsupported.
        pub unsupported_actions: u64,
    }
}

/// One switch's data plane.
#[derive(Debug)]
pub struct Datapath {
    index: u32,
    ports: u32,
    /// Far ends of link ports 1..=len.
    links: Vec<End>,
    hosts: std::ops::Range<u32>,
    switches: u32,
    next_xid: u32,
    /// Flow and group tables.
    pub tables: Tables,
    /// Counters.
    pub counters: DatapathCounters,
    /// Messages for other switches (or this one): (switch, message).
    pub sends: Vec<(u32, Wire)>,
}

/// The tag of an emulated frame, tagged with a VLAN header or not.
pub fn tag_of(frame: &[u8]) -> Option<Tag> {
    Tag::read(frame.get(super::frame::vlan_shift(frame)..)?)
}

impl Datapath {
    /// Switch `index` of `switches`, ports 1..=`ports`, link ports leading
    /// to `links`, hosts on ports `hosts`.
    pub fn new(
        index: u32,
        ports: u32,
        links: Vec<End>,
        hosts: std::ops::Range<u32>,
        switches: u32,
    ) -> Datapath {
        Datapath {
            index,
            ports,
            links,
            hosts,
            switches,
            next_xid: 0x4000_0000,
            tables: Tables::new(),
            counters: DatapathCounters::default(),
            sends: Vec::new(),
        }
    }

    /// Handles a FLOW_MOD, GROUP_MOD or PACKET_OUT (`msg`, one whole
    /// message); answers go to `out`. False for any other message.
    pub fn controller_message(&mut self, now: Instant, msg: &[u8], out: &mut Vec<u8>) -> bool {
        if !matches!(
            msg[1],
            msg_type::FLOW_MOD | msg_type::GROUP_MOD | msg_type::PACKET_OUT
        ) {
            return false;
        }
        let Ok(parsed) = OfpMsg::parse(msg) else {
            // Left to the switch's own handling, which reports malformed messages.
            return false;
        };
        let refused = match &parsed.body {
            Message::FlowMod(fm) => self.tables.flow_mod(fm),
            Message::GroupMod(gm) => self.tables.group_mod(gm),
            Message::PacketOut(po) => {
                self.counters.packet_outs += 1;
                let exec = pipeline::packet_out(
                    &self.tables,
                    self.ports,
                    po.in_port,
                    &po.actions,
                    po.data.clone(),
                );
                self.dispatch(now, po.in_port, &po.data, exec, Trace::new(false), out);
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err((typ, code)) = refused {
            let data = msg[..msg.len().min(64)].to_vec();
            append(
                out,
                &OfpMsg::new(parsed.xid, Message::Error(ErrorMsg { typ, code, data })),
            );
        }
        true
    }

    /// A frame arriving at `port` (from a link, or from a host) with `trace`.
    pub fn receive(
        &mut self,
        now: Instant,
        port: u32,
        frame: Vec<u8>,
        trace: Trace,
        out: &mut Vec<u8>,
    ) {
        let tag_frame = frame.clone();
        let exec = pipeline::receive(&self.tables, self.ports, port, frame);
        self.dispatch(now, port, &tag_frame, exec, trace, out);
    }

    /// Sends every copy where it goes and reports to the frame's starter.
    fn dispatch(
        &mut self,
        now: Instant,
        in_port: u32,
        original: &[u8],
        exec: Execution,
        trace: Trace,
        out: &mut Vec<u8>,
    ) {
        let c = &mut self.counters;
        c.misses += u64::from(exec.misses);
        c.floods += u64::from(exec.floods);
        c.unsupported_actions += u64::from(exec.unsupported);
        let tag = tag_of(original);
        let untagged = Tag { switch: 0, seq: 0 };
        let mut rep = Report::new(tag.unwrap_or(untagged), self.index, trace.credited, 0, now);
        let credit = trace.credit.max(1);
        let keep = exec.emits.len().min(credit as usize).max(1);
        let share = credit / keep as u32;
        let mut first_share = share + credit % keep as u32;
        for (i, e) in exec.emits.into_iter().enumerate() {
            if i >= keep {
                rep.truncated += 1;
                continue;
            }
            let share = std::mem::replace(&mut first_share, share);
            match e {
                Emit::Port { port, frame } => {
                    let link = port
                        .checked_sub(1)
                        .and_then(|i| self.links.get(i as usize).copied());
                    if let Some(far) = link {
                        if trace.hops >= MAX_HOPS {
                            rep.loops += 1;
                            rep.credit += share;
                            continue;
                        }
                        let trace = Trace {
                            hops: trace.hops + 1,
                            credit: share,
                            credited: trace.credited,
                        };
                        self.sends.push((
                            far.switch,
                            Wire::Frame {
                                port: far.port,
                                frame,
                                trace,
                            },
                        ));
                        continue;
                    }
                    if self.hosts.contains(&port) {
                        rep.to_hosts.push((port, frame));
                    } else {
                        rep.drops += 1;
                    }
                    rep.credit += share;
                }
                Emit::Controller {
                    reason,
                    table_id,
                    cookie,
                    max_len,
                    frame,
                } => {
                    self.packet_in(in_port, reason, table_id, cookie, max_len, frame, out);
                    rep.packet_ins += 1;
                    rep.packet_in_table.get_or_insert(table_id);
                    rep.credit += share;
                }
                Emit::Drop(_) => {
                    rep.drops += 1;
                    rep.credit += share;
                }
            }
        }
        let c = &mut self.counters;
        c.packet_ins += u64::from(rep.packet_ins);
        c.drops += u64::from(rep.drops);
        c.loops += u64::from(rep.loops);
        c.truncated += u64::from(rep.truncated);
        if tag.is_some_and(|t| t.switch < self.switches) {
            self.sends.push((rep.tag.switch, Wire::Report(rep)));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn packet_in(
        &mut self,
        in_port: u32,
        reason: PacketInReason,
        table_id: u8,
        cookie: u64,
        max_len: u16,
        mut frame: Vec<u8>,
        out: &mut Vec<u8>,
    ) {
        let total_len = frame.len() as u16;
        if max_len != ofp::CML_NO_BUFFER {
            frame.truncate(usize::from(max_len));
        }
        self.next_xid = self.next_xid.wrapping_add(1);
        append(
            out,
            &OfpMsg::new(
                self.next_xid,
                Message::PacketIn(PacketIn {
                    buffer_id: ofp::NO_BUFFER,
                    total_len,
                    reason,
                    table_id,
                    cookie,
                    match_: Match::new().with(Oxm::InPort(in_port)),
                    data: frame,
                }),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofbench::template::{packet_in_data, Host, PacketInTemplate};
    use edgeflow_proto::ofp::{Action, FlowMod, Instruction, PacketOut};

    fn frame(seq: u32) -> Vec<u8> {
        let mut t = PacketInTemplate::new();
        let msg = t.patch(
            1,
            1,
            Host::new(0, 0),
            Host::new(1, 0),
            Tag { switch: 0, seq },
        );
        packet_in_data(msg).unwrap().1.to_vec()
    }

    fn out_to(dp: &mut Datapath, in_port: Option<u32>, port: u32) {
        let m = in_port.map_or(Match::new(), |p| Match::new().with(Oxm::InPort(p)));
        let fm = FlowMod::add(
            10,
            m,
            vec![Instruction::ApplyActions(vec![Action::output(port)])],
        );
        let mut out = Vec::new();
        assert!(dp.controller_message(
            Instant::now(),
            &OfpMsg::new(1, Message::FlowMod(fm)).to_vec(),
            &mut out
        ));
        assert!(out.is_empty());
    }

    /// Switch 0 (port 1 to switch 1 port 1, host on port 2) and switch 1
    /// (port 1 to switch 0, host on port 2).
    fn pair() -> [Datapath; 2] {
        let dp = |i, far| {
            Datapath::new(
                i,
                3,
                vec![End {
                    switch: far,
                    port: 1,
                }],
                2..3,
                2,
            )
        };
        [dp(0, 1), dp(1, 0)]
    }

    /// Carries every frame between the two switches until none is left;
    /// returns the reports to switch 0 and the bytes sent to the controller.
    fn carry(sw: &mut [Datapath; 2]) -> (Vec<Report>, Vec<u8>) {
        let (mut reports, mut out) = (Vec::new(), Vec::new());
        let now = Instant::now();
        loop {
            let sends: Vec<(u32, Wire)> = sw.iter_mut().flat_map(|d| d.sends.drain(..)).collect();
            if sends.is_empty() {
                return (reports, out);
            }
            for (to, w) in sends {
                match w {
                    Wire::Frame { port, frame, trace } => {
                        sw[to as usize].receive(now, port, frame, trace, &mut out)
                    }
                    Wire::Report(r) => reports.push(r),
                }
            }
        }
    }

    #[test]
    fn a_frame_crosses_two_switches_to_the_host_and_all_credit_comes_back() {
        let mut sw = pair();
        out_to(&mut sw[0], Some(2), 1);
        out_to(&mut sw[1], Some(1), 2);
        let f = frame(7);
        let mut out = Vec::new();
        sw[0].receive(Instant::now(), 2, f.clone(), Trace::new(true), &mut out);
        let (reports, to_controller) = carry(&mut sw);
        assert!(out.is_empty() && to_controller.is_empty());
        assert_eq!(reports.iter().map(|r| r.credit).sum::<u32>(), CREDIT);
        let delivered: Vec<_> = reports
            .iter()
            .flat_map(|r| r.to_hosts.iter().map(move |h| (r.switch, h)))
            .collect();
        assert_eq!(delivered, vec![(1, &(2, f))]);
    }

    #[test]
    fn a_loop_is_stopped_at_the_hop_limit() {
        let mut sw = pair();
        out_to(&mut sw[0], Some(2), 1);
        out_to(&mut sw[0], Some(1), ofp::port::IN_PORT);
        out_to(&mut sw[1], None, ofp::port::IN_PORT);
        let mut out = Vec::new();
        sw[0].receive(Instant::now(), 2, frame(3), Trace::new(true), &mut out);
        let (reports, _) = carry(&mut sw);
        assert_eq!(reports.iter().map(|r| r.loops).sum::<u32>(), 1);
        assert_eq!(reports.iter().map(|r| r.credit).sum::<u32>(), CREDIT);
        assert!(reports.iter().all(|r| r.to_hosts.is_empty()));
    }

    #[test]
    fn a_flood_storm_is_bounded_by_credit() {
        // Two switches flooding to each other over two parallel links.
        let dp = |i, far| {
            Datapath::new(
                i,
                3,
                vec![
                    End {
                        switch: far,
                        port: 1,
                    },
                    End {
                        switch: far,
                        port: 2,
                    },
                ],
                3..4,
                2,
            )
        };
        let mut sw = [dp(0, 1), dp(1, 0)];
        out_to(&mut sw[0], None, ofp::port::FLOOD);
        out_to(&mut sw[1], None, ofp::port::FLOOD);
        let mut out = Vec::new();
        sw[0].receive(Instant::now(), 3, frame(1), Trace::new(true), &mut out);
        let (reports, _) = carry(&mut sw);
        assert_eq!(reports.iter().map(|r| r.credit).sum::<u32>(), CREDIT);
        assert!(sw[0].counters.floods + sw[1].counters.floods > 1);
        let hosts: usize = reports.iter().map(|r| r.to_hosts.len()).sum();
        assert!(hosts <= CREDIT as usize, "{hosts}");
    }

    #[test]
    fn a_miss_becomes_a_packet_in_and_a_packet_out_is_executed() {
        let mut sw = pair();
        let mut out = Vec::new();
        sw[1].receive(Instant::now(), 1, frame(5), Trace::new(false), &mut out);
        let msg = OfpMsg::parse(&out).unwrap();
        let Message::PacketIn(pi) = msg.body else {
            panic!()
        };
        assert_eq!(
            (pi.reason, pi.in_port(), pi.table_id),
            (PacketInReason::NoMatch, Some(1), 0)
        );
        let po = OfpMsg::new(
            3,
            Message::PacketOut(PacketOut {
                buffer_id: ofp::NO_BUFFER,
                in_port: ofp::port::CONTROLLER,
                actions: vec![Action::output(2)],
                data: pi.data.clone(),
            }),
        );
        let mut out = Vec::new();
        sw[1].controller_message(Instant::now(), &po.to_vec(), &mut out);
        let (reports, _) = carry(&mut sw);
        assert_eq!(reports.len(), 2, "the miss, then the delivery");
        assert_eq!(reports[1].to_hosts, vec![(2, pi.data)]);
        assert!(!reports[1].credited);
    }
}
