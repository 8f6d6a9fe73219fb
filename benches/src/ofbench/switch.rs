//! One emulated OpenFlow 1.3 switch as a sans-IO state machine: bytes from
//! the controller in, bytes to the controller out (one buffer per batch, so
//! everything one read produces leaves in one write).
//!
//! It answers what a switch must (HELLO, FEATURES, PORT_DESC, DESC,
//! PORT_STATS, BARRIER, ECHO, GET_CONFIG, ROLE), swallows configuration
//! (SET_CONFIG, FLOW_MOD, GROUP_MOD), and sorts PACKET_OUTs: one carrying a
//! frame it sent answers that packet; an LLDP one is counted apart and,
//! on a link port, handed to the caller to deliver at the far end.
//!
//! In path-setup mode ([`Switch::enable_paths`]) FLOW_MODs, GROUP_MODs and
//! PACKET_OUTs go to the switch's emulated data plane instead
//! ([`super::datapath`]), and the window holds end-to-end path setups
//! ([`super::setups`]); the throughput mode's per-packet path only pays for
//! one check that this mode is off.

use super::datapath::{Datapath, Wire};
use super::setups::Setups;
use super::template::{append, packet_out_data, set_xid, Host, PacketInTemplate, Tag};
use super::window::{Answer, Window};
use edgeflow_proto::ofp::{
    self, bad_request, msg_type, Action, Counter, Desc, ErrorMsg, ErrorType, GroupStats, Hello,
    Match, Message, MultipartReply, MultipartReplyBody, MultipartRequestBody, OfpMsg, Oxm,
    PacketIn, PacketInReason, SwitchConfig, SwitchFeatures,
};
use edgeflow_proto::packet::ethertype;
use hdrhistogram::Histogram;
use std::time::{Duration, Instant};

/// Sequence numbers of learning frames: outside the window's range.
const LEARNING_SEQ: u32 = 1 << 31;
/// Latencies above this are clamped in the histogram.
const MAX_LATENCY: Duration = Duration::from_secs(10);

/// What a switch is and does.
#[derive(Debug, Clone)]
pub struct SwitchSpec {
    /// Switch number; the datapath id is this plus one.
    pub index: u32,
    /// Ports 1..=this.
    pub ports: u32,
    /// The first host port; hosts sit on this and the following ports.
    pub first_host_port: u32,
    /// Number of hosts (0: the switch sends no PACKET_INs of its own).
    pub hosts: u16,
    /// Outstanding PACKET_INs at a time once loading.
    pub window: u32,
}

counters! {
    /// Counters of one switch; only what happens while counting is counted.
    #[derive(Debug, Clone, Default)]
    pub struct Counters {
        /// PACKET_INs answered (each once).
        pub answered: u64,
        /// PACKET_INs sent (window traffic, while counting).
        pub sent: u64,
        /// PACKET_OUTs carrying a frame already answered, or one of another switch.
        pub stale: u64,
        /// LLDP PACKET_OUTs.
        pub lldp_out: u64,
        /// Other PACKET_OUTs (frames this emulator did not make).
        pub other_out: u64,
        /// FLOW_MODs.
        pub flow_mods: u64,
        /// GROUP_MODs (counted in path-setup mode only).
        pub group_mods: u64,
        /// PORT_STATS requests answered.
        pub port_stats: u64,
        /// Packets given up as lost (unanswered for a second, or their slot reused).
        pub lost: u64,
    }
}

/// A frame the controller sent out of a port (an LLDP probe on a link port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    /// The port.
    pub port: u32,
    /// The frame.
    pub frame: Vec<u8>,
}

/// The path-setup mode of a switch: its data plane, and its setups if it
/// has hosts.
#[derive(Debug)]
pub struct PathMode {
    /// Flow tables and frame handling.
    pub datapath: Datapath,
    /// Setups this switch starts (None for a switch without hosts).
    pub setups: Option<Setups>,
}

/// One emulated switch.
#[derive(Debug)]
pub struct Switch {
    spec: SwitchSpec,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    template: PacketInTemplate,
    port_desc: Vec<u8>,
    port_stats: Vec<u8>,
    window: Window,
    next_pair: u64,
    next_xid: u32,
    features_sent: bool,
    counting: bool,
    /// Counters.
    pub counters: Counters,
    /// Answer latencies while counting, in nanoseconds.
    pub latency: Histogram<u64>,
    /// LLDP frames sent out of link ports, for the caller to deliver.
    pub emitted: Vec<Emitted>,
    /// A protocol error that ended the session.
    pub error: Option<String>,
    /// Path-setup mode, if on.
    pub path: Option<Box<PathMode>>,
}

impl Switch {
    /// A switch about to connect; its HELLO is queued.
    pub fn new(spec: SwitchSpec, now: Instant) -> Switch {
        let (ports, stats) = (
            crate::ports(spec.index + 1, spec.ports),
            crate::port_stats(spec.ports),
        );
        let reply = |body| {
            OfpMsg::new(
                0,
                Message::MultipartReply(MultipartReply { flags: 0, body }),
            )
            .to_vec()
        };
        let mut s = Switch {
            window: Window::new(spec.window, now),
            port_desc: reply(MultipartReplyBody::PortDesc(ports)),
            port_stats: reply(MultipartReplyBody::PortStats(stats)),
            spec,
            inbuf: Vec::with_capacity(64 * 1024),
            out: Vec::with_capacity(64 * 1024),
            template: PacketInTemplate::new(),
            next_pair: 0,
            next_xid: 1,
            features_sent: false,
            counting: false,
            counters: Counters::default(),
            latency: Histogram::new_with_max(MAX_LATENCY.as_nanos() as u64, 3)
                .expect("valid histogram bounds"),
            emitted: Vec::new(),
            error: None,
            path: None,
        };
        s.send(0, Message::Hello(Hello::standard()));
        s
    }

    /// Datapath id.
    pub fn dpid(&self) -> u64 {
        u64::from(self.spec.index) + 1
    }

    /// True once the switch has answered FEATURES_REQUEST.
    pub fn features_sent(&self) -> bool {
        self.features_sent
    }

    /// Bytes queued for the controller.
    pub fn transmit(&self) -> &[u8] {
        &self.out
    }

    /// Forgets the bytes queued for the controller (they were written).
    pub fn transmitted(&mut self) {
        self.out.clear();
    }

    fn send(&mut self, xid: u32, body: Message) {
        append(&mut self.out, &OfpMsg::new(xid, body));
    }

    /// Starts or stops counting answers, latencies and CPU.
    pub fn set_counting(&mut self, on: bool) {
        self.counting = on;
        if let Some(s) = self.path.as_mut().and_then(|p| p.setups.as_mut()) {
            s.set_counting(on);
        }
    }

    /// Switches to path-setup mode.
    pub fn enable_paths(&mut self, datapath: Datapath, setups: Option<Setups>) {
        self.path = Some(Box::new(PathMode { datapath, setups }));
    }

    /// A message from another switch: a frame arriving over a link, or a
    /// report on a frame this switch started.
    pub fn wire(&mut self, now: Instant, w: Wire) {
        let Some(p) = self.path.as_deref_mut() else {
            if let Wire::Frame { port, frame, .. } = w {
                self.inject(port, frame);
            }
            return;
        };
        match w {
            Wire::Frame { port, frame, trace } => {
                p.datapath.receive(now, port, frame, trace, &mut self.out)
            }
            Wire::Report(r) => {
                let probe = p.setups.as_mut().and_then(|s| s.report(&r));
                if let Some((port, frame, trace)) = probe {
                    p.datapath.receive(now, port, frame, trace, &mut self.out);
                }
            }
        }
    }

    fn host(&self, h: u16) -> Host {
        Host::new(self.spec.index, h)
    }

    fn push_packet_in(&mut self, src: u16, dst: u16, seq: u32) {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1);
        let tag = Tag {
            switch: self.spec.index,
            seq,
        };
        let (s, d) = (self.host(src), self.host(dst));
        let in_port = self.spec.first_host_port + u32::from(src);
        let msg = self.template.patch(xid, in_port, s, d, tag);
        self.out.extend_from_slice(msg);
    }

    /// Queues one frame from every host (to the next host) so that the
    /// controller learns where each one is.
    pub fn learn_hosts(&mut self) {
        let n = self.spec.hosts;
        for h in 0..n {
            self.push_packet_in(h, (h + 1) % n, LEARNING_SEQ | u32::from(h));
        }
    }

    /// The host pair of the `n`-th packet: every ordered pair of distinct
    /// hosts in turn.
    pub fn pair(hosts: u16, n: u64) -> (u16, u16) {
        let h = u64::from(hosts);
        let src = n % h;
        let dst = (src + 1 + (n / h) % (h - 1)) % h;
        (src as u16, dst as u16)
    }

    /// Fills the window with new PACKET_INs between known hosts (in
    /// path-setup mode: with new setups).
    pub fn fill_window(&mut self, now: Instant) {
        if let Some(p) = self.path.as_deref_mut() {
            let Some(setups) = p.setups.as_mut() else {
                return;
            };
            while let Some((port, frame, trace)) = setups.start(now) {
                p.datapath.receive(now, port, frame, trace, &mut self.out);
            }
            return;
        }
        if self.spec.hosts < 2 {
            return;
        }
        for _ in 0..self.window.room() {
            let (seq, lost) = self.window.send(now);
            let (src, dst) = Self::pair(self.spec.hosts, self.next_pair);
            self.next_pair += 1;
            self.push_packet_in(src, dst, seq);
            if self.counting {
                self.counters.sent += 1;
                self.counters.lost += u64::from(lost);
            }
        }
    }

    /// Gives up packets unanswered for `timeout` and refills the window.
    pub fn expire(&mut self, now: Instant, timeout: Duration) {
        if let Some(s) = self.path.as_mut().and_then(|p| p.setups.as_mut()) {
            return s.expire(now, timeout);
        }
        let lost = self.window.expire(now, timeout);
        if self.counting {
            self.counters.lost += u64::from(lost);
        }
    }

    /// A frame arriving from a link at `port`: sent to the controller as a
    /// PACKET_IN (as a switch's LLDP-to-controller flow would).
    pub fn inject(&mut self, port: u32, frame: Vec<u8>) {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1);
        self.send(
            xid,
            Message::PacketIn(PacketIn {
                buffer_id: ofp::NO_BUFFER,
                total_len: frame.len() as u16,
                reason: PacketInReason::Action,
                table_id: 0,
                cookie: 0,
                match_: Match::new().with(Oxm::InPort(port)),
                data: frame,
            }),
        );
    }

    /// Bytes read from the controller at `now`.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        // Taken out of self (no allocation) so frames can be borrowed from it.
        let mut inbuf = std::mem::take(&mut self.inbuf);
        inbuf.extend_from_slice(data);
        let mut at = 0;
        loop {
            match ofp::frame_len(&inbuf[at..]) {
                Ok(Some(len)) => {
                    self.handle_frame(now, &inbuf[at..at + len]);
                    at += len;
                }
                Ok(None) => break,
                Err(e) => {
                    self.error = Some(format!("bad frame from the controller: {e}"));
                    at = inbuf.len();
                    break;
                }
            }
        }
        inbuf.drain(..at);
        self.inbuf = inbuf;
    }

    fn handle_frame(&mut self, now: Instant, msg: &[u8]) {
        if let Some(p) = self.path.as_deref_mut() {
            let c = u64::from(self.counting);
            match msg[1] {
                msg_type::FLOW_MOD => self.counters.flow_mods += c,
                msg_type::GROUP_MOD => self.counters.group_mods += c,
                msg_type::PACKET_OUT => match packet_out_data(msg) {
                    Some(f) if f.get(12..14) == Some(&ethertype::LLDP.to_be_bytes()[..]) => {
                        self.counters.lldp_out += c
                    }
                    _ => self.counters.other_out += c,
                },
                _ => {}
            }
            if p.datapath.controller_message(now, msg, &mut self.out) {
                return;
            }
        }
        match msg[1] {
            msg_type::PACKET_OUT => self.packet_out(now, msg),
            msg_type::FLOW_MOD => self.counters.flow_mods += u64::from(self.counting),
            msg_type::MULTIPART_REQUEST => self.multipart(msg),
            _ => self.control(msg),
        }
    }

    fn packet_out(&mut self, now: Instant, msg: &[u8]) {
        let Some(frame) = packet_out_data(msg) else {
            return;
        };
        if let Some(tag) = Tag::read(frame) {
            let answer = if tag.switch == self.spec.index {
                self.window.answer(tag.seq, now)
            } else {
                Answer::Stale
            };
            if !self.counting {
                return;
            }
            match answer {
                Answer::First(latency) => {
                    self.counters.answered += 1;
                    self.latency.saturating_record(latency.as_nanos() as u64);
                }
                Answer::Stale => self.counters.stale += 1,
            }
            return;
        }
        let lldp = frame.get(12..14) == Some(&ethertype::LLDP.to_be_bytes()[..]);
        if !lldp {
            self.counters.other_out += u64::from(self.counting);
            return;
        }
        self.counters.lldp_out += u64::from(self.counting);
        if let Ok(OfpMsg {
            body: Message::PacketOut(po),
            ..
        }) = OfpMsg::parse(msg)
        {
            for a in &po.actions {
                if let Action::Output { port, .. } = *a {
                    if port >= 1 && port <= self.spec.ports {
                        self.emitted.push(Emitted {
                            port,
                            frame: po.data.clone(),
                        });
                    }
                }
            }
        }
    }

    fn multipart(&mut self, msg: &[u8]) {
        let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
        let Ok(OfpMsg {
            body: Message::MultipartRequest(req),
            ..
        }) = OfpMsg::parse(msg)
        else {
            return;
        };
        let prebuilt = match req.body {
            MultipartRequestBody::PortStats { .. } => {
                self.counters.port_stats += u64::from(self.counting);
                &mut self.port_stats
            }
            MultipartRequestBody::PortDesc => &mut self.port_desc,
            MultipartRequestBody::Desc => {
                let desc = Desc {
                    mfr_desc: "edgeflow".into(),
                    hw_desc: "ofswitchbench".into(),
                    sw_desc: "emulated switch".into(),
                    serial_num: String::new(),
                    dp_desc: format!("switch {}", self.spec.index),
                };
                let body = MultipartReplyBody::Desc(Box::new(desc));
                return self.send(
                    xid,
                    Message::MultipartReply(MultipartReply { flags: 0, body }),
                );
            }
            // Groups exist in path-setup mode only; their counters are not
            // kept (zero), the list is what the switch holds.
            MultipartRequestBody::Group { group_id } => {
                let zero = Counter {
                    packet_count: 0,
                    byte_count: 0,
                };
                let stats = self.path.as_ref().map_or_else(Vec::new, |p| {
                    p.datapath
                        .tables
                        .group_list()
                        .into_iter()
                        .filter(|(id, _)| group_id == ofp::group::ALL || *id == group_id)
                        .map(|(id, g)| GroupStats {
                            group_id: id,
                            ref_count: 0,
                            packet_count: 0,
                            byte_count: 0,
                            duration_sec: 0,
                            duration_nsec: 0,
                            bucket_stats: vec![zero; g.buckets.len()],
                        })
                        .collect()
                });
                let body = MultipartReplyBody::Group(stats);
                return self.send(
                    xid,
                    Message::MultipartReply(MultipartReply { flags: 0, body }),
                );
            }
            _ => return self.refuse(xid, bad_request::BAD_MULTIPART, msg),
        };
        set_xid(prebuilt, xid);
        self.out.extend_from_slice(prebuilt);
    }

    fn refuse(&mut self, xid: u32, code: u16, msg: &[u8]) {
        let data = msg[..msg.len().min(64)].to_vec();
        self.send(
            xid,
            Message::Error(ErrorMsg {
                typ: ErrorType::BadRequest,
                code,
                data,
            }),
        );
    }

    /// Everything that is neither traffic nor a multipart request.
    fn control(&mut self, msg: &[u8]) {
        let parsed = match OfpMsg::parse(msg) {
            Ok(m) => m,
            Err(e) => {
                self.error = Some(format!("malformed message from the controller: {e}"));
                return;
            }
        };
        let xid = parsed.xid;
        match parsed.body {
            Message::Hello(h) if !h.supports(ofp::OFP_VERSION) => {
                self.error = Some(format!("controller offers no OpenFlow 1.3 (hello {h:?})"));
            }
            Message::EchoRequest(data) => self.send(xid, Message::EchoReply(data)),
            Message::FeaturesRequest => {
                self.send(
                    xid,
                    Message::FeaturesReply(SwitchFeatures {
                        datapath_id: self.dpid(),
                        n_buffers: 0,
                        n_tables: 254,
                        auxiliary_id: 0,
                        capabilities: ofp::capabilities::FLOW_STATS | ofp::capabilities::PORT_STATS,
                        reserved: 0,
                    }),
                );
                self.features_sent = true;
            }
            Message::GetConfigRequest => self.send(
                xid,
                Message::GetConfigReply(SwitchConfig {
                    flags: 0,
                    miss_send_len: ofp::CML_NO_BUFFER,
                }),
            ),
            Message::BarrierRequest => self.send(xid, Message::BarrierReply),
            Message::RoleRequest(r) => self.send(xid, Message::RoleReply(r)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofbench::template::FRAME_LEN;
    use edgeflow_proto::ofp::{FlowMod, MultipartRequest, PacketOut};

    fn spec(window: u32) -> SwitchSpec {
        SwitchSpec {
            index: 3,
            ports: 8,
            first_host_port: 1,
            hosts: 4,
            window,
        }
    }

    /// The messages queued for the controller, decoded, and the queue emptied.
    fn drain(s: &mut Switch) -> Vec<OfpMsg> {
        let mut msgs = Vec::new();
        let mut buf = s.transmit();
        while let Ok(Some(len)) = ofp::frame_len(buf) {
            msgs.push(OfpMsg::parse(&buf[..len]).unwrap());
            buf = &buf[len..];
        }
        s.transmitted();
        msgs
    }

    fn bytes(msg: Message) -> Vec<u8> {
        OfpMsg::new(77, msg).to_vec()
    }

    fn answer_to(pi: &OfpMsg) -> Vec<u8> {
        let Message::PacketIn(pi) = &pi.body else {
            panic!("not a PACKET_IN")
        };
        bytes(Message::PacketOut(PacketOut {
            buffer_id: ofp::NO_BUFFER,
            in_port: ofp::port::CONTROLLER,
            actions: vec![Action::Output {
                port: 2,
                max_len: 0,
            }],
            data: pi.data.clone(),
        }))
    }

    #[test]
    fn handshake_answers_hello_features_port_desc_and_barrier() {
        let now = Instant::now();
        let mut s = Switch::new(spec(1), now);
        assert!(matches!(drain(&mut s)[0].body, Message::Hello(_)));
        let mut input = bytes(Message::Hello(Hello::standard()));
        input.extend(bytes(Message::FeaturesRequest));
        input.extend(bytes(Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::PortDesc,
        })));
        input.extend(bytes(Message::BarrierRequest));
        // Split mid-message: framing must carry the rest over.
        s.handle_bytes(now, &input[..13]);
        s.handle_bytes(now, &input[13..]);
        let out = drain(&mut s);
        assert!(s.features_sent());
        assert!(
            matches!(out[0].body, Message::FeaturesReply(f) if f.datapath_id == 4),
            "{out:?}"
        );
        let Message::MultipartReply(MultipartReply {
            body: MultipartReplyBody::PortDesc(ports),
            ..
        }) = &out[1].body
        else {
            panic!("{out:?}")
        };
        assert_eq!(ports.len(), 8);
        assert_eq!(out[1].xid, 77);
        assert_eq!(out[2].body, Message::BarrierReply);
        assert!(s.error.is_none());
    }

    #[test]
    fn a_packet_in_answered_by_flow_mod_and_packet_out_counts_once() {
        let now = Instant::now();
        let mut s = Switch::new(spec(2), now);
        drain(&mut s);
        s.set_counting(true);
        s.fill_window(now);
        let sent = drain(&mut s);
        assert_eq!(sent.len(), 2);
        let mut input = bytes(Message::FlowMod(FlowMod::add(1, Match::new(), vec![])));
        input.extend(answer_to(&sent[0]));
        input.extend(answer_to(&sent[0])); // a second PACKET_OUT of the same frame
        s.handle_bytes(now + Duration::from_micros(50), &input);
        assert_eq!(s.counters.answered, 1);
        assert_eq!(s.counters.stale, 1);
        assert_eq!(s.counters.flow_mods, 1);
        assert_eq!(s.latency.len(), 1);
        assert!(s.latency.max() >= 49_000);
        // One slot freed: refilling sends exactly one packet.
        s.fill_window(now);
        assert_eq!(drain(&mut s).len(), 1);
    }

    #[test]
    fn answers_to_learning_frames_and_other_switches_do_not_count() {
        let now = Instant::now();
        let mut s = Switch::new(spec(4), now);
        drain(&mut s);
        s.learn_hosts();
        let learning = drain(&mut s);
        assert_eq!(learning.len(), 4);
        s.set_counting(true);
        let mut other = Switch::new(
            SwitchSpec {
                index: 9,
                ..spec(1)
            },
            now,
        );
        drain(&mut other);
        other.fill_window(now);
        let foreign = drain(&mut other);
        let mut input = answer_to(&learning[0]);
        input.extend(answer_to(&foreign[0]));
        s.handle_bytes(now, &input);
        assert_eq!(s.counters.answered, 0);
        assert_eq!(s.counters.stale, 2);
    }

    #[test]
    fn lldp_out_of_a_port_is_counted_apart_and_emitted() {
        let now = Instant::now();
        let mut s = Switch::new(spec(1), now);
        drain(&mut s);
        let mut lldp = vec![0u8; FRAME_LEN];
        lldp[12..14].copy_from_slice(&ethertype::LLDP.to_be_bytes());
        let po = |port| {
            bytes(Message::PacketOut(PacketOut {
                buffer_id: ofp::NO_BUFFER,
                in_port: ofp::port::CONTROLLER,
                actions: vec![Action::Output { port, max_len: 0 }],
                data: lldp.clone(),
            }))
        };
        s.set_counting(true);
        let mut input = po(5);
        input.extend(po(ofp::port::FLOOD));
        s.handle_bytes(now, &input);
        assert_eq!(s.counters.lldp_out, 2);
        assert_eq!(s.counters.answered, 0);
        assert_eq!(
            s.emitted,
            vec![Emitted {
                port: 5,
                frame: lldp.clone()
            }]
        );
        s.inject(2, lldp.clone());
        let Message::PacketIn(pi) = &drain(&mut s)[0].body else {
            panic!("not a PACKET_IN")
        };
        assert_eq!((pi.in_port(), &pi.data), (Some(2), &lldp));
    }

    #[test]
    fn port_stats_answer_every_port_with_the_request_xid_and_count_while_counting() {
        let now = Instant::now();
        let mut s = Switch::new(spec(1), now);
        drain(&mut s);
        let req = bytes(Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::PortStats {
                port_no: ofp::port::ANY,
            },
        }));
        s.handle_bytes(now, &req);
        s.set_counting(true);
        s.handle_bytes(now, &req);
        let out = drain(&mut s);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].xid, 77);
        assert!(matches!(
            &out[0].body,
            Message::MultipartReply(MultipartReply { body: MultipartReplyBody::PortStats(p), .. }) if p.len() == 8
        ));
        assert_eq!(s.counters.port_stats, 1);
    }

    #[test]
    fn group_stats_list_the_groups_the_switch_holds() {
        use edgeflow_proto::ofp::{Bucket, GroupMod, GroupModCommand, GroupType};
        let now = Instant::now();
        let req = |group_id| {
            bytes(Message::MultipartRequest(MultipartRequest {
                flags: 0,
                body: MultipartRequestBody::Group { group_id },
            }))
        };
        let listed = |s: &mut Switch, group_id| -> Vec<(u32, usize)> {
            s.handle_bytes(now, &req(group_id));
            match drain(s).pop().map(|m| m.body) {
                Some(Message::MultipartReply(MultipartReply {
                    body: MultipartReplyBody::Group(g),
                    ..
                })) => g
                    .iter()
                    .map(|g| (g.group_id, g.bucket_stats.len()))
                    .collect(),
                other => panic!("not a group stats reply: {other:?}"),
            }
        };
        // Without tables there are no groups, and no error either.
        let mut plain = Switch::new(spec(1), now);
        drain(&mut plain);
        assert!(listed(&mut plain, ofp::group::ALL).is_empty());

        let mut s = Switch::new(spec(1), now);
        s.enable_paths(Datapath::new(0, 3, Vec::new(), 1..3, 1), None);
        drain(&mut s);
        for (id, buckets) in [(9, 3), (4, 2)] {
            let gm = GroupMod {
                command: GroupModCommand::Add,
                group_type: GroupType::Select,
                group_id: id,
                buckets: vec![Bucket::new(vec![Action::output(1)]); buckets],
            };
            s.handle_bytes(now, &bytes(Message::GroupMod(gm)));
        }
        drain(&mut s);
        assert_eq!(listed(&mut s, ofp::group::ALL), vec![(4, 2), (9, 3)]);
        assert_eq!(listed(&mut s, 9), vec![(9, 3)]);
        assert!(listed(&mut s, 5).is_empty());
    }

    #[test]
    fn host_pairs_cycle_through_every_ordered_pair() {
        let pairs: std::collections::HashSet<_> = (0..12).map(|n| Switch::pair(4, n)).collect();
        assert_eq!(pairs.len(), 12);
        assert!(pairs.iter().all(|(a, b)| a != b && *a < 4 && *b < 4));
    }
}
