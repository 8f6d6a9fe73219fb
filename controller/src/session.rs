//! One switch's OpenFlow 1.3 session as a sans-IO state machine.
//!
//! The session owns framing, version negotiation, the handshake (features,
//! port descriptions, switch config, a clean flow and group table, the
//! table-miss entry and a barrier that confirms it) and liveness (echo). It
//! has no socket and no clock: bytes come in through [`Session::handle_bytes`],
//! time through the `now` arguments, and what it wants to send accumulates in
//! one buffer drained by [`Session::take_transmit`], so everything one read
//! produces leaves in one write. Everything else the switch says after the
//! handshake is handed to the controller as [`SessionEvent::Message`].

use crate::multipath;
use bytes::{Bytes, BytesMut};
use edgeflow_proto::ofp::{
    self, Action, ErrorMsg, ErrorType, FlowMod, FlowModCommand, GroupMod, GroupModCommand,
    GroupType, Hello, Instruction, Match, Message, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, OfpMsg, Port, PortStatus, SwitchConfig, SwitchFeatures,
};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tracing::warn;

/// OFPMPF_REPLY_MORE: more parts of this multipart reply follow.
pub const MULTIPART_REPLY_MORE: u16 = 1;
/// OFPHFC_INCOMPATIBLE, the HELLO_FAILED code for no common version.
const HELLO_FAILED_INCOMPATIBLE: u16 = 0;
/// How much of an offending message an OFPT_ERROR echoes back (the spec asks for at least 64 bytes).
const ERROR_DATA_LEN: usize = 64;
/// Cookie of the flows the session itself installs (the table-miss entries
/// and the canary).
pub const COOKIE_BASE: u64 = 0x0100_0000_0000_0000;
/// The canary group: empty, named by a flow in [`CANARY_TABLE`] that no
/// frame reaches. Nothing of the controller's deletes either, so when the
/// switch reports that flow removed, someone deleted the switch's groups.
/// (Group ids for paths are handed out below it.)
pub const CANARY_GROUP: u32 = ofp::group::MAX;
/// A table no frame is sent to, holding the canary's flow.
pub const CANARY_TABLE: u8 = 3;

/// `ports` as a PORT_STATUS leaves them: the port's newest description, or
/// none once it was deleted.
pub fn apply_port_status(ports: &mut Vec<Port>, ps: PortStatus) {
    ports.retain(|p| p.port_no != ps.desc.port_no);
    if ps.reason != ofp::PortReason::Delete {
        ports.push(ps.desc);
    }
}

/// Timing of the keepalive.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    /// Send an echo request after this long without hearing from the switch.
    pub echo_interval: Duration,
    /// Close the session after this long without hearing from the switch.
    pub echo_timeout: Duration,
    /// Close the session if the handshake has not finished within this time.
    pub handshake_timeout: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            echo_interval: Duration::from_secs(5),
            echo_timeout: Duration::from_secs(15),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// What a session reports to the controller.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The handshake finished: the switch's features and ports are known and
    /// its table holds only the table-miss entry.
    Ready {
        /// FEATURES_REPLY contents (datapath id and capabilities).
        features: SwitchFeatures,
        /// Port descriptions from the PORT_DESC multipart reply.
        ports: Vec<Port>,
    },
    /// A message from a ready switch that the session does not handle itself.
    Message(OfpMsg),
    /// The session is over; the controller should drop the connection.
    Closed(String),
}

#[derive(Debug)]
enum State {
    /// Our HELLO is sent; waiting for the switch's.
    AwaitHello,
    /// Waiting for FEATURES_REPLY.
    AwaitFeatures,
    /// Waiting for the port descriptions and the handshake barrier.
    Configuring {
        features: SwitchFeatures,
        ports: Vec<Port>,
        ports_done: bool,
        barrier_xid: u32,
        barrier_done: bool,
    },
    Ready,
    Closed,
}

/// One switch connection's protocol state.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    state: State,
    inbuf: BytesMut,
    out: BytesMut,
    next_xid: u32,
    started: Instant,
    last_rx: Instant,
    reads: u64,
    echo_outstanding: bool,
    dpid: Option<u64>,
    events: VecDeque<SessionEvent>,
}

impl Session {
    /// A new session on a fresh connection; our HELLO is queued at once.
    pub fn new(config: SessionConfig, now: Instant) -> Session {
        let mut s = Session {
            config,
            state: State::AwaitHello,
            inbuf: BytesMut::new(),
            out: BytesMut::with_capacity(4096),
            next_xid: 1,
            started: now,
            last_rx: now,
            reads: 0,
            echo_outstanding: false,
            dpid: None,
            events: VecDeque::new(),
        };
        s.send(Message::Hello(Hello::standard()));
        s
    }

    /// The datapath id, once FEATURES_REPLY has arrived.
    pub fn dpid(&self) -> Option<u64> {
        self.dpid
    }

    /// True once the handshake has finished and until the session closes.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready)
    }

    /// How many times the switch has sent something (reads handed in).
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// How long ago the session began (its connection was made).
    pub fn age(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    /// True once the session has ended.
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Queues a message with a fresh transaction id and returns that id. A
    /// message too long for the 16-bit length field (a PACKET_OUT carrying a
    /// jumbo frame) is dropped with a warning rather than corrupting the stream.
    pub fn send(&mut self, body: Message) -> u32 {
        let xid = self.take_xid();
        let msg = OfpMsg { xid, body };
        let start = self.out.len();
        let len = msg.emit_to(&mut self.out);
        if len > usize::from(u16::MAX) {
            self.out.truncate(start);
            warn!(dpid = ?self.dpid, kind = msg.body.name(), len, "message too long for OpenFlow, dropped");
        }
        xid
    }

    /// Queues a message encoded beforehand (an LLDP probe is the same every
    /// round) under a new transaction id, written over the one it carries.
    pub fn send_encoded(&mut self, encoded: &[u8]) -> u32 {
        let xid = self.take_xid();
        let start = self.out.len();
        self.out.extend_from_slice(encoded);
        if let Some(field) = self.out.get_mut(start + 4..start + 8) {
            field.copy_from_slice(&xid.to_be_bytes());
        }
        xid
    }

    /// The next transaction id (never 0).
    fn take_xid(&mut self) -> u32 {
        let xid = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1).max(1);
        xid
    }

    /// Queues a message with a given transaction id (replies echo the request's).
    fn reply(&mut self, xid: u32, body: Message) {
        OfpMsg { xid, body }.emit_to(&mut self.out);
    }

    /// Everything queued for the switch since the last call, as one buffer.
    pub fn take_transmit(&mut self) -> Option<Bytes> {
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// The next event for the controller.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// Bytes read from the switch.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.last_rx = now;
        self.reads += 1;
        self.echo_outstanding = false;
        // Whole messages are parsed where they were read; only a trailing
        // part of one waits in the session's buffer for the rest.
        if self.inbuf.is_empty() {
            let used = self.frames(data);
            if !self.is_closed() {
                self.inbuf.extend_from_slice(&data[used..]);
            }
        } else {
            self.inbuf.extend_from_slice(data);
            let mut buf = std::mem::take(&mut self.inbuf);
            let used = self.frames(&buf);
            let _ = buf.split_to(used);
            self.inbuf = buf;
        }
    }

    /// Handles the whole messages at the start of `buf`; returns the bytes
    /// they took (a message error closes the session).
    fn frames(&mut self, buf: &[u8]) -> usize {
        let mut at = 0;
        while !self.is_closed() {
            let rest = &buf[at..];
            let len = match ofp::frame_len(rest) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => {
                    let (typ, code) = e.ofp_error();
                    let data = rest[..rest.len().min(ERROR_DATA_LEN)].to_vec();
                    self.fail(0, typ, code, data, format!("bad frame: {e}"));
                    break;
                }
            };
            let frame = &rest[..len];
            at += len;
            match OfpMsg::parse(frame) {
                Ok(msg) => self.handle_message(msg),
                Err(e) => {
                    let xid = frame
                        .get(4..8)
                        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                    let (typ, code) = e.ofp_error();
                    let data = frame[..frame.len().min(ERROR_DATA_LEN)].to_vec();
                    self.fail(xid, typ, code, data, format!("malformed message: {e}"));
                }
            }
        }
        at
    }

    /// Timers: sends an echo request when the switch has been quiet, closes
    /// the session when it stays quiet or the handshake takes too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_closed() {
            return;
        }
        let quiet = now.saturating_duration_since(self.last_rx);
        if !self.is_ready()
            && now.saturating_duration_since(self.started) >= self.config.handshake_timeout
        {
            self.close("handshake timed out".into());
        } else if quiet >= self.config.echo_timeout {
            self.close(format!("no message from the switch for {quiet:?}"));
        } else if quiet >= self.config.echo_interval && !self.echo_outstanding {
            self.echo_outstanding = true;
            self.send(Message::EchoRequest(Vec::new()));
        }
    }

    /// When [`Session::handle_timeout`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let liveness = if self.echo_outstanding {
            self.last_rx + self.config.echo_timeout
        } else {
            self.last_rx + self.config.echo_interval
        };
        match self.state {
            State::Closed => None,
            State::Ready => Some(liveness),
            _ => Some(liveness.min(self.started + self.config.handshake_timeout)),
        }
    }

    /// Ends the session with a reason for the log.
    pub fn close(&mut self, reason: String) {
        if !self.is_closed() {
            self.state = State::Closed;
            self.events.push_back(SessionEvent::Closed(reason));
        }
    }

    /// Answers a protocol violation with an OFPT_ERROR and closes.
    fn fail(&mut self, xid: u32, typ: ErrorType, code: u16, data: Vec<u8>, reason: String) {
        self.reply(xid, Message::Error(ErrorMsg { typ, code, data }));
        self.close(reason);
    }

    fn handle_message(&mut self, msg: OfpMsg) {
        match msg.body {
            Message::EchoRequest(data) => return self.reply(msg.xid, Message::EchoReply(data)),
            Message::EchoReply(_) => return,
            _ => {}
        }
        // Each handler below sets the next state itself; the placeholder is
        // not Closed so that a handler's close() still reports the reason.
        match std::mem::replace(&mut self.state, State::AwaitHello) {
            State::AwaitHello => self.on_hello(msg),
            State::AwaitFeatures => self.on_features(msg),
            State::Configuring {
                features,
                ports,
                ports_done,
                barrier_xid,
                barrier_done,
            } => self.on_configuring(msg, features, ports, ports_done, barrier_xid, barrier_done),
            State::Ready => {
                self.state = State::Ready;
                self.events.push_back(SessionEvent::Message(msg));
            }
            State::Closed => {}
        }
    }

    fn on_hello(&mut self, msg: OfpMsg) {
        match msg.body {
            Message::Hello(h) if h.supports(ofp::OFP_VERSION) => {
                self.state = State::AwaitFeatures;
                self.send(Message::FeaturesRequest);
            }
            Message::Hello(h) => {
                let text = format!(
                    "edgeflow supports OpenFlow 1.3 (version 0x04) only; the switch offers version 0x{:02x}",
                    h.version
                );
                self.fail(
                    msg.xid,
                    ErrorType::HelloFailed,
                    HELLO_FAILED_INCOMPATIBLE,
                    text.into_bytes(),
                    format!(
                        "no common OpenFlow version (switch hello version {})",
                        h.version
                    ),
                );
            }
            other => self.close(format!("expected HELLO, got {}", other.name())),
        }
    }

    fn on_features(&mut self, msg: OfpMsg) {
        match msg.body {
            Message::FeaturesReply(features) => {
                self.dpid = Some(features.datapath_id);
                let barrier_xid = self.configure();
                self.state = State::Configuring {
                    features,
                    ports: Vec::new(),
                    ports_done: false,
                    barrier_xid,
                    barrier_done: false,
                };
            }
            Message::Error(e) => self.close(format!("switch error during handshake: {e:?}")),
            // A switch may send PORT_STATUS or others early; nothing to act on yet.
            _ => self.state = State::AwaitFeatures,
        }
    }

    /// Sends the configuration part of the handshake; returns the barrier's xid.
    fn configure(&mut self) -> u32 {
        self.send(Message::SetConfig(SwitchConfig {
            flags: 0,
            miss_send_len: ofp::CML_NO_BUFFER,
        }));
        self.send(Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::PortDesc,
        }));
        // Start from a clean slate: flows and groups of an earlier controller
        // (or an earlier run of this one) would fight with ours.
        self.send(Message::FlowMod(FlowMod {
            table_id: ofp::table::ALL,
            command: FlowModCommand::Delete,
            ..flow_mod_defaults()
        }));
        self.send(Message::GroupMod(GroupMod {
            command: GroupModCommand::Delete,
            group_type: GroupType::All,
            group_id: ofp::group::ALL,
            buckets: Vec::new(),
        }));
        // Every table that frames go through sends what it misses to the
        // controller. In table 0 that is how a new flow is seen; in the
        // later ones it is a frame that came before the flows it needs (each
        // switch applies its batch on its own: a path's egress may get the
        // frame before its delivery flow), which the switch would drop and
        // the controller delivers. Table 0's flow and the canary ask to be
        // reported when removed: only someone else clearing the switch's
        // flows or groups removes them.
        for table_id in [0, multipath::DELIVERY_TABLE, multipath::SPREAD_TABLE] {
            let report = if table_id == 0 {
                ofp::flow_flags::SEND_FLOW_REM
            } else {
                0
            };
            self.send(Message::FlowMod(FlowMod {
                table_id,
                cookie: COOKIE_BASE,
                priority: 0,
                flags: report,
                instructions: vec![Instruction::ApplyActions(vec![Action::Output {
                    port: ofp::port::CONTROLLER,
                    max_len: ofp::CML_NO_BUFFER,
                }])],
                ..flow_mod_defaults()
            }));
        }
        self.send(Message::GroupMod(GroupMod {
            command: GroupModCommand::Add,
            group_type: GroupType::All,
            group_id: CANARY_GROUP,
            buckets: Vec::new(),
        }));
        self.send(Message::FlowMod(FlowMod {
            table_id: CANARY_TABLE,
            cookie: COOKIE_BASE,
            priority: 0,
            flags: ofp::flow_flags::SEND_FLOW_REM,
            instructions: vec![Instruction::ApplyActions(vec![Action::Group(CANARY_GROUP)])],
            ..flow_mod_defaults()
        }));
        self.send(Message::BarrierRequest)
    }

    fn on_configuring(
        &mut self,
        msg: OfpMsg,
        features: SwitchFeatures,
        mut ports: Vec<Port>,
        mut ports_done: bool,
        barrier_xid: u32,
        mut barrier_done: bool,
    ) {
        match msg.body {
            Message::MultipartReply(r) => {
                if let MultipartReplyBody::PortDesc(p) = r.body {
                    ports.extend(p);
                    ports_done = r.flags & MULTIPART_REPLY_MORE == 0;
                }
            }
            Message::BarrierReply if msg.xid == barrier_xid => barrier_done = true,
            // A change during the handshake: keep the newest description.
            Message::PortStatus(ps) => apply_port_status(&mut ports, ps),
            Message::Error(e) => {
                return self.close(format!("switch refused the handshake configuration: {e:?}"))
            }
            _ => {}
        }
        if ports_done && barrier_done {
            self.state = State::Ready;
            ports.sort_by_key(|p| p.port_no);
            self.events
                .push_back(SessionEvent::Ready { features, ports });
        } else {
            self.state = State::Configuring {
                features,
                ports,
                ports_done,
                barrier_xid,
                barrier_done,
            };
        }
    }
}

/// A FLOW_MOD with the neutral values (ADD in table 0, no buffer, any port
/// and group); callers override what matters.
pub fn flow_mod_defaults() -> FlowMod {
    FlowMod::add(0, Match::new(), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflow_proto::ofp::{PacketOut, NO_BUFFER};

    fn packet_out(data_len: usize) -> Message {
        Message::PacketOut(PacketOut {
            buffer_id: NO_BUFFER,
            in_port: 1,
            actions: Vec::new(),
            data: vec![0; data_len],
        })
    }

    #[test]
    fn an_encoded_message_is_sent_under_a_new_xid_each_time() {
        let mut s = Session::new(SessionConfig::default(), Instant::now());
        let _ = s.take_transmit();
        let encoded = OfpMsg::new(0, packet_out(60)).to_vec();
        let xids = [s.send_encoded(&encoded), s.send_encoded(&encoded)];
        assert_ne!(xids[0], xids[1]);
        let bytes = s.take_transmit().expect("both messages");
        let (first, second) = bytes.split_at(encoded.len());
        for (part, xid) in [(first, xids[0]), (second, xids[1])] {
            let msg = OfpMsg::parse(part).unwrap();
            assert_eq!((msg.xid, &msg.body), (xid, &packet_out(60)));
        }
    }

    #[test]
    fn a_message_too_long_for_openflow_is_dropped_and_the_stream_stays_whole() {
        let mut s = Session::new(SessionConfig::default(), Instant::now());
        let _ = s.take_transmit();
        s.send(packet_out(70_000));
        let ok = s.send(packet_out(10));
        let bytes = s.take_transmit().expect("the short message");
        let msg = OfpMsg::parse(&bytes).expect("one whole message");
        assert_eq!(msg.xid, ok);
        assert_eq!(msg.buffer_len(), bytes.len());
    }

    /// The echo replies in what a session sent.
    fn echo_replies(bytes: &[u8]) -> Vec<(u32, Vec<u8>)> {
        let mut at = 0;
        let mut found = Vec::new();
        while at < bytes.len() {
            let len = ofp::frame_len(&bytes[at..])
                .unwrap()
                .expect("whole messages");
            let msg = OfpMsg::parse(&bytes[at..at + len]).expect("a valid message");
            at += len;
            if let Message::EchoReply(data) = msg.body {
                found.push((msg.xid, data));
            }
        }
        found
    }

    #[test]
    fn messages_split_anywhere_across_reads_are_each_handled_once() {
        let mut stream = Vec::new();
        for (xid, body) in [
            (1, Message::Hello(ofp::Hello::standard())),
            (7, Message::EchoRequest(b"ab".to_vec())),
            (8, Message::EchoRequest(Vec::new())),
        ] {
            stream.extend_from_slice(&OfpMsg::new(xid, body).to_vec());
        }
        let want = vec![(7, b"ab".to_vec()), (8, Vec::new())];
        for a in 0..=stream.len() {
            for b in a..=stream.len() {
                let mut s = Session::new(SessionConfig::default(), Instant::now());
                let mut sent = Vec::new();
                for part in [&stream[..a], &stream[a..b], &stream[b..]] {
                    s.handle_bytes(Instant::now(), part);
                    sent.extend_from_slice(&s.take_transmit().unwrap_or_default());
                }
                assert!(!s.is_closed(), "cut at {a} and {b}");
                assert_eq!(echo_replies(&sent), want, "cut at {a} and {b}");
            }
        }
    }
}
