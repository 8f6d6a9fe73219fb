//! A simulated OpenFlow 1.3 fabric driven by a virtual clock.
//!
//! Simulated switches answer the handshake, keep flow tables (priority,
//! match on in_port / metadata / Ethernet addresses with masks / ethertype /
//! VLAN id / IPv4 addresses / IP protocol / UDP source port with a mask,
//! apply-actions with output, VLAN push/set/pop and groups, write-metadata,
//! goto-table), select groups (a hash of the frame picks among the live
//! buckets by weight; like Open vSwitch's, the hash leaves out UDP ports),
//! and fast-failover groups (the first bucket whose watched port is up),
//! and turn a PACKET_OUT or a forwarded frame into frames on
//! their ports; a frame on a linked port arrives at the neighbour, a frame on a
//! host port lands in that host's inbox. Tests ask forwarding questions
//! (did h2 get it? how many copies? did the controller see it?) instead of
//! comparing bytes.

#![allow(dead_code)]

use edgeflow_controller::controller::{ConnId, Controller, ControllerConfig};
use edgeflow_controller::discovery::DiscoveryConfig;
use edgeflow_controller::forwarding::ForwardingConfig;
use edgeflow_controller::multipath::MultipathConfig;
use edgeflow_controller::session::SessionConfig;
use edgeflow_controller::stats::StatsConfig;
use edgeflow_proto::ofp::{
    self, Action, Bucket, FlowModCommand, GroupModCommand, GroupType, Hello, Instruction, Message,
    MultipartReply, MultipartReplyBody, MultipartRequestBody, OfpMsg, Oxm, PacketIn,
    PacketInReason, Port, PortReason, PortStatus, SwitchFeatures,
};
use edgeflow_proto::packet::{arp_frame, ArpOp, ArpRepr, EthernetRepr, Ipv4Repr};
use edgeflow_proto::MacAddr;
use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// A switch port as (dpid, port number).
pub type PortAt = (u64, u32);

/// A frame is dropped after this many switch hops: only a loop gets there.
const HOP_LIMIT: usize = 64;

/// The controller settings the simulations use.
pub fn config() -> ControllerConfig {
    ControllerConfig {
        session: SessionConfig::default(),
        discovery: DiscoveryConfig {
            probe_interval: Duration::from_secs(1),
            link_timeout: Duration::from_millis(3500),
            key: b"test key".to_vec(),
        },
        forwarding: ForwardingConfig {
            idle_timeout: 60,
            multipath: Some(MultipathConfig::default()),
            unknown_flood: Default::default(),
        },
        stats: StatsConfig {
            interval: Duration::from_secs(1),
            speed_overrides: Default::default(),
            default_speed: Some(10_000_000),
        },
        host_idle: Duration::from_secs(300),
    }
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub table: u8,
    pub priority: u16,
    pub cookie: u64,
    pub fields: Vec<Oxm>,
    pub actions: Vec<Action>,
    /// Metadata written (value, mask).
    pub metadata: Option<(u64, u64)>,
    pub goto: Option<u8>,
    pub packets: u64,
}

#[derive(Debug)]
pub struct SimSwitch {
    pub dpid: u64,
    pub conn: ConnId,
    pub ports: Vec<Port>,
    pub flows: Vec<Flow>,
    /// Groups' buckets by id.
    pub groups: BTreeMap<u32, Vec<Bucket>>,
    /// Groups' types by id.
    pub group_types: BTreeMap<u32, GroupType>,
    /// Bytes each bucket of a group forwarded.
    pub bucket_bytes: BTreeMap<u32, Vec<u64>>,
    inbuf: Vec<u8>,
    /// PACKET_INs this switch sent.
    pub packet_ins: u64,
    /// Per port: (rx packets, rx bytes, tx packets, tx bytes).
    pub counters: BTreeMap<u32, (u64, u64, u64, u64)>,
    /// Group statistics requests go unanswered.
    pub mute_group_stats: bool,
    /// Group statistics report the bucket counters as they were at the
    /// previous request: Open vSwitch credits groups when it revalidates its
    /// datapath flows, after its port counters have moved.
    pub late_group_stats: bool,
    /// The bucket counters at the last group statistics request.
    bucket_bytes_then: BTreeMap<u32, Vec<u64>>,
    /// Group statistics come in two parts (the first flagged MORE), as
    /// Open vSwitch splits a long reply, every other group in each.
    pub split_group_stats: bool,
}

impl SimSwitch {
    /// A switch with ports 1..=`ports` on connection `conn`, nothing installed.
    fn new(dpid: u64, conn: ConnId, ports: u32) -> SimSwitch {
        SimSwitch {
            dpid,
            conn,
            ports: (1..=ports).map(port).collect(),
            flows: Vec::new(),
            groups: BTreeMap::new(),
            group_types: BTreeMap::new(),
            bucket_bytes: BTreeMap::new(),
            inbuf: Vec::new(),
            packet_ins: 0,
            counters: BTreeMap::new(),
            mute_group_stats: false,
            late_group_stats: false,
            bucket_bytes_then: BTreeMap::new(),
            split_group_stats: false,
        }
    }
}

fn port(no: u32) -> Port {
    Port {
        port_no: no,
        hw_addr: MacAddr([0x0a, 0, 0, 0, (no >> 8) as u8, no as u8]),
        name: format!("eth{no}"),
        config: 0,
        state: 0,
        curr: 0,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: 10_000_000,
        max_speed: 0,
    }
}

/// The VLAN id of a tagged frame, with OFPVID_PRESENT set as OpenFlow matches it.
fn vlan_vid(frame: &[u8]) -> Option<u16> {
    (frame.get(12..14)? == [0x81, 0x00])
        .then(|| {
            frame
                .get(14..16)
                .map(|b| ofp::OFPVID_PRESENT | (u16::from_be_bytes([b[0], b[1]]) & 0xfff))
        })
        .flatten()
}

/// Where an untagged IPv4 frame's UDP header starts, if it carries UDP.
fn udp_at(frame: &[u8]) -> Option<usize> {
    let ip = frame.get(14..)?;
    (frame.get(12..14)? == [0x08, 0x00] && *ip.get(9)? == 17)
        .then(|| 14 + usize::from(ip[0] & 0x0f) * 4)
}

/// A stable hash of a frame's bytes (FNV-1a), for bucket selection; UDP
/// ports are left out, as Open vSwitch 3.1 leaves them out.
fn frame_hash(frame: &[u8]) -> u64 {
    let ports = udp_at(frame).map_or(0..0, |at| at..at + 4);
    frame
        .iter()
        .enumerate()
        .filter(|(i, _)| !ports.contains(i))
        .fold(0xcbf2_9ce4_8422_2325, |h, (_, &b)| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

fn field_matches(f: &Oxm, in_port: u32, metadata: u64, eth: &EthernetRepr, frame: &[u8]) -> bool {
    let masked = |v: MacAddr, want: MacAddr, mask: Option<MacAddr>| {
        let m = mask.unwrap_or(MacAddr::BROADCAST).0;
        (0..6).all(|i| v.0[i] & m[i] == want.0[i] & m[i])
    };
    match f {
        Oxm::InPort(p) => *p == in_port,
        Oxm::Metadata(want, mask) => {
            let m = mask.unwrap_or(u64::MAX);
            metadata & m == want & m
        }
        Oxm::IpProto(p) => match eth.ethertype {
            0x0800 => frame.get(23) == Some(p),
            0x86dd => frame.get(20) == Some(p),
            _ => false,
        },
        Oxm::UdpSrc(want, mask) => udp_at(frame)
            .and_then(|at| frame.get(at..at + 2))
            .is_some_and(|b| {
                let m = mask.unwrap_or(u16::MAX);
                u16::from_be_bytes([b[0], b[1]]) & m == want & m
            }),
        Oxm::EthDst(want, mask) => masked(eth.dst, *want, *mask),
        Oxm::EthSrc(want, mask) => masked(eth.src, *want, *mask),
        Oxm::EthType(t) => *t == eth.ethertype,
        Oxm::VlanVid(want, None) => vlan_vid(frame) == Some(*want),
        Oxm::Ipv4Src(want, None) => {
            eth.ethertype == 0x0800 && frame.get(26..30) == Some(&want.octets())
        }
        Oxm::Ipv4Dst(want, None) => {
            eth.ethertype == 0x0800 && frame.get(30..34) == Some(&want.octets())
        }
        other => panic!("the simulated switch does not match on {other:?}"),
    }
}

impl SimSwitch {
    fn lookup(
        &mut self,
        table: u8,
        in_port: u32,
        metadata: u64,
        frame: &[u8],
    ) -> Option<&mut Flow> {
        let (eth, _) = EthernetRepr::parse(frame).ok()?;
        self.flows
            .iter_mut()
            .filter(|f| {
                f.table == table
                    && f.fields
                        .iter()
                        .all(|x| field_matches(x, in_port, metadata, &eth, frame))
            })
            .max_by_key(|f| f.priority)
    }

    /// The bucket a group gives this frame (counted): a fast-failover
    /// group's first live one, a select group's by [`SimSwitch::pick`].
    fn select(&mut self, group: u32, frame: &[u8]) -> Option<Bucket> {
        let buckets = self.groups.get(&group)?;
        let i = match self.group_types.get(&group) {
            Some(GroupType::FastFailover) => {
                (0..buckets.len()).find(|&i| self.live(buckets[i].watch_port))?
            }
            Some(GroupType::Select) => self.pick(buckets, frame)?,
            other => panic!("the simulated switch does not apply {other:?} groups"),
        };
        let (bucket, n) = (buckets.get(i)?.clone(), buckets.len());
        let bytes = self.bucket_bytes.entry(group).or_default();
        bytes.resize(n, 0);
        bytes[i] += frame.len() as u64;
        Some(bucket)
    }

    /// The select bucket for this frame: by a hash of the frame, weighted,
    /// among buckets whose watched port is up.
    fn pick(&self, buckets: &[Bucket], frame: &[u8]) -> Option<usize> {
        let live: Vec<usize> = (0..buckets.len())
            .filter(|&i| buckets[i].weight > 0 && self.live(buckets[i].watch_port))
            .collect();
        let total: u64 = live.iter().map(|&i| u64::from(buckets[i].weight)).sum();
        if total == 0 {
            return None;
        }
        let mut pick = frame_hash(frame) % total;
        for i in live {
            let w = u64::from(buckets[i].weight);
            if pick < w {
                return Some(i);
            }
            pick -= w;
        }
        None
    }

    /// Whether a bucket watching `port` is live: the port is up (or is not
    /// one of the switch's, as `ANY`).
    fn live(&self, port: u32) -> bool {
        self.ports
            .iter()
            .find(|p| p.port_no == port)
            .is_none_or(|p| p.state & 1 == 0)
    }

    /// Panics, as Open vSwitch would refuse the message, when `actions`
    /// name a group the switch does not hold.
    fn check_groups_exist(&self, actions: &[Action]) {
        for a in actions {
            if let Action::Group(g) = a {
                assert!(self.groups.contains_key(g), "group {g} does not exist");
            }
        }
    }

    fn apply_group_mod(&mut self, gm: &ofp::GroupMod) {
        for b in &gm.buckets {
            self.check_groups_exist(&b.actions);
        }
        match gm.command {
            GroupModCommand::Add if gm.group_id == ofp::group::ALL => {
                panic!("ADD of group ALL")
            }
            GroupModCommand::Delete if gm.group_id == ofp::group::ALL => {
                self.groups.clear();
                self.group_types.clear();
                self.bucket_bytes.clear();
                self.flows
                    .retain(|f| !f.actions.iter().any(|a| matches!(a, Action::Group(_))));
            }
            // Open vSwitch refuses an ADD of a group it holds (GROUP_EXISTS)
            // and clears a group's counters when it is modified.
            GroupModCommand::Add | GroupModCommand::Modify => {
                assert!(
                    gm.command == GroupModCommand::Modify
                        || !self.groups.contains_key(&gm.group_id),
                    "group {} exists",
                    gm.group_id
                );
                self.groups.insert(gm.group_id, gm.buckets.clone());
                self.group_types.insert(gm.group_id, gm.group_type);
                self.bucket_bytes.remove(&gm.group_id);
            }
            // Open vSwitch deletes the flows that send into a deleted group.
            GroupModCommand::Delete => {
                self.groups.remove(&gm.group_id);
                self.group_types.remove(&gm.group_id);
                self.bucket_bytes.remove(&gm.group_id);
                let into = Action::Group(gm.group_id);
                self.flows.retain(|f| !f.actions.contains(&into));
            }
            other => panic!("unexpected group-mod command {other:?}"),
        }
    }

    fn apply_flow_mod(&mut self, fm: &ofp::FlowMod) {
        let actions: Vec<Action> = fm
            .instructions
            .iter()
            .flat_map(|i| match i {
                Instruction::ApplyActions(a) => a.clone(),
                _ => Vec::new(),
            })
            .collect();
        let goto = fm.instructions.iter().find_map(|i| match i {
            Instruction::GotoTable(t) => Some(*t),
            _ => None,
        });
        let metadata = fm.instructions.iter().find_map(|i| match i {
            Instruction::WriteMetadata { metadata, mask } => Some((*metadata, *mask)),
            _ => None,
        });
        if fm.command == FlowModCommand::Add {
            self.check_groups_exist(&actions);
        }
        let selected = |f: &Flow| {
            f.cookie & fm.cookie_mask == fm.cookie & fm.cookie_mask
                && (fm.table_id == ofp::table::ALL || fm.table_id == f.table)
        };
        match fm.command {
            FlowModCommand::Add => {
                self.flows.retain(|f| {
                    !(f.table == fm.table_id
                        && f.priority == fm.priority
                        && f.fields == fm.match_.fields)
                });
                self.flows.push(Flow {
                    table: fm.table_id,
                    priority: fm.priority,
                    cookie: fm.cookie,
                    fields: fm.match_.fields.clone(),
                    actions,
                    metadata,
                    goto,
                    packets: 0,
                });
            }
            FlowModCommand::Delete => self.flows.retain(|f| {
                !(selected(f) && fm.match_.fields.iter().all(|x| f.fields.contains(x)))
            }),
            FlowModCommand::DeleteStrict => self.flows.retain(|f| {
                !(selected(f) && f.priority == fm.priority && f.fields == fm.match_.fields)
            }),
            other => panic!("unexpected flow-mod command {other:?}"),
        }
    }
}

/// A frame leaving a switch port.
#[derive(Debug, Clone)]
struct Emission {
    dpid: u64,
    port: u32,
    frame: Vec<u8>,
    hops: usize,
}

#[derive(Debug, Clone)]
pub struct SimHost {
    pub name: String,
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub at: (u64, u32),
    pub inbox: Vec<Vec<u8>>,
}

pub struct Net {
    pub ctrl: Controller,
    pub now: Instant,
    started: Instant,
    pub switches: BTreeMap<u64, SimSwitch>,
    by_conn: BTreeMap<ConnId, u64>,
    /// Port to port, both directions, for links that are up.
    pub links: BTreeMap<(u64, u32), (u64, u32)>,
    pub hosts: Vec<SimHost>,
    /// Frames that hit the hop limit (a loop).
    pub looped: usize,
    /// Total frames forwarded by switches (a storm shows here).
    pub forwarded: usize,
    to_controller: VecDeque<(ConnId, Vec<u8>)>,
    /// Messages the controller sent, per switch, in order.
    pub received: BTreeMap<u64, Vec<Message>>,
    /// Messages the controller sent, in the order they were written to
    /// the connections: the number of the write, the switch, the message.
    pub written: Vec<(usize, u64, Message)>,
    writes: usize,
    /// The table and metadata of the frame the switch is forwarding, which
    /// its PACKET_IN reports (the metadata when not zero, as Open vSwitch).
    pipeline: (u8, u64),
}

impl Net {
    /// Switches with `ports[i]` ports each (dpids 1..), links between
    /// `(dpid, port)` pairs, and hosts at given ports; nothing connected yet.
    pub fn new(ports: &[(u64, u32)], links: &[(PortAt, PortAt)], hosts: &[(u64, u32)]) -> Net {
        let now = Instant::now();
        let mut net = Net {
            ctrl: Controller::new(config()),
            now,
            started: now,
            switches: BTreeMap::new(),
            by_conn: BTreeMap::new(),
            links: BTreeMap::new(),
            hosts: Vec::new(),
            looped: 0,
            forwarded: 0,
            to_controller: VecDeque::new(),
            received: BTreeMap::new(),
            written: Vec::new(),
            writes: 0,
            pipeline: (0, 0),
        };
        for (i, &(dpid, n)) in ports.iter().enumerate() {
            net.switches
                .insert(dpid, SimSwitch::new(dpid, 100 + i as u64, n));
            net.by_conn.insert(100 + i as u64, dpid);
        }
        for &(a, b) in links {
            net.links.insert(a, b);
            net.links.insert(b, a);
        }
        for (i, &at) in hosts.iter().enumerate() {
            let n = i as u8 + 1;
            net.hosts.push(SimHost {
                name: format!("h{n}"),
                mac: MacAddr([0, 0, 0, 0, 0, n]),
                ip: Ipv4Addr::new(10, 0, 0, n),
                at,
                inbox: Vec::new(),
            });
        }
        net
    }

    /// The same network under a controller that forwards each host pair on
    /// one shortest path (multipath off).
    pub fn single_path(self) -> Net {
        self.with_config(|c| c.forwarding.multipath = None)
    }

    /// The same network under a controller with `edit` made to the
    /// simulations' settings.
    pub fn with_config(mut self, edit: impl FnOnce(&mut ControllerConfig)) -> Net {
        let mut c = config();
        edit(&mut c);
        self.ctrl = Controller::new(c);
        self
    }

    /// Connects every switch and runs until the handshakes and the first probe round are done.
    pub fn start(&mut self) {
        let conns: Vec<(ConnId, u64)> = self.by_conn.iter().map(|(c, d)| (*c, *d)).collect();
        for (conn, _) in &conns {
            self.ctrl.handle_connect(*conn, self.now);
            self.switch_says(*conn, 0, Message::Hello(Hello::standard()));
        }
        self.drive();
        self.advance(Duration::from_millis(1));
    }

    /// Sends a message from a switch's side of its connection.
    pub fn switch_says(&mut self, conn: ConnId, xid: u32, body: Message) {
        self.to_controller
            .push_back((conn, OfpMsg { xid, body }.to_vec()));
    }

    /// A switch's one-part multipart reply.
    fn switch_replies(&mut self, conn: ConnId, xid: u32, body: MultipartReplyBody) {
        self.switch_says(
            conn,
            xid,
            Message::MultipartReply(MultipartReply { flags: 0, body }),
        );
    }

    /// Raw bytes from a switch.
    pub fn switch_sends_bytes(&mut self, conn: ConnId, bytes: Vec<u8>) {
        self.to_controller.push_back((conn, bytes));
    }

    /// Moves the clock and runs the controller's timers.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.ctrl.handle_timeout(self.now);
        self.drive();
    }

    /// Exchanges messages until nobody has anything to say.
    pub fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            while let Some((conn, bytes)) = self.to_controller.pop_front() {
                self.ctrl.handle_bytes(conn, self.now, &bytes);
                progress = true;
            }
            while let Some((conn, bytes)) = self.ctrl.poll_transmit() {
                self.switch_receives(conn, &bytes);
                progress = true;
            }
            while let Some((conn, _)) = self.ctrl.poll_close() {
                self.ctrl.handle_disconnect(conn);
                if let Some(dpid) = self.by_conn.remove(&conn) {
                    self.switches.remove(&dpid);
                }
                progress = true;
            }
            if !progress {
                return;
            }
        }
        panic!("the controller and the switches never went quiet");
    }

    fn switch_receives(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(&dpid) = self.by_conn.get(&conn) else {
            return;
        };
        let Some(sw) = self.switches.get_mut(&dpid) else {
            return;
        };
        sw.inbuf.extend_from_slice(bytes);
        self.writes += 1;
        let mut msgs = Vec::new();
        while let Some(len) = ofp::frame_len(&sw.inbuf).expect("controller sent a bad frame") {
            let frame: Vec<u8> = sw.inbuf.drain(..len).collect();
            msgs.push(OfpMsg::parse(&frame).expect("controller sent a malformed message"));
        }
        for msg in msgs {
            self.received
                .entry(dpid)
                .or_default()
                .push(msg.body.clone());
            self.written.push((self.writes, dpid, msg.body.clone()));
            self.switch_handles(dpid, conn, msg);
        }
    }

    fn switch_handles(&mut self, dpid: u64, conn: ConnId, msg: OfpMsg) {
        let sw = self.switches.get_mut(&dpid).expect("switch exists");
        let datapath_id = sw.dpid;
        match msg.body {
            Message::FeaturesRequest => self.switch_says(
                conn,
                msg.xid,
                Message::FeaturesReply(SwitchFeatures {
                    datapath_id,
                    n_buffers: 0,
                    n_tables: 254,
                    auxiliary_id: 0,
                    capabilities: 0,
                    reserved: 0,
                }),
            ),
            Message::MultipartRequest(r) if r.body == MultipartRequestBody::PortDesc => {
                let ports = sw.ports.clone();
                self.switch_replies(conn, msg.xid, MultipartReplyBody::PortDesc(ports))
            }
            Message::MultipartRequest(r)
                if matches!(r.body, MultipartRequestBody::PortStats { .. }) =>
            {
                let secs = self.now.saturating_duration_since(self.started);
                let stats = sw
                    .ports
                    .iter()
                    .map(|p| {
                        let (rxp, rxb, txp, txb) =
                            sw.counters.get(&p.port_no).copied().unwrap_or_default();
                        ofp::PortStats {
                            port_no: p.port_no,
                            rx_packets: rxp,
                            tx_packets: txp,
                            rx_bytes: rxb,
                            tx_bytes: txb,
                            rx_dropped: 0,
                            tx_dropped: 0,
                            rx_errors: 0,
                            tx_errors: 0,
                            rx_frame_err: 0,
                            rx_over_err: 0,
                            rx_crc_err: 0,
                            collisions: 0,
                            duration_sec: secs.as_secs() as u32,
                            duration_nsec: secs.subsec_nanos(),
                        }
                    })
                    .collect();
                self.switch_replies(conn, msg.xid, MultipartReplyBody::PortStats(stats))
            }
            Message::MultipartRequest(r)
                if matches!(r.body, MultipartRequestBody::Group { .. }) && !sw.mute_group_stats =>
            {
                let now = sw.bucket_bytes.clone();
                let counted = if sw.late_group_stats {
                    std::mem::replace(&mut sw.bucket_bytes_then, now)
                } else {
                    now
                };
                let stats = sw
                    .groups
                    .iter()
                    .map(|(&group_id, buckets)| {
                        let bytes = counted.get(&group_id);
                        ofp::GroupStats {
                            group_id,
                            ref_count: 0,
                            packet_count: 0,
                            byte_count: bytes.map_or(0, |b| b.iter().sum()),
                            duration_sec: 0,
                            duration_nsec: 0,
                            bucket_stats: (0..buckets.len())
                                .map(|i| ofp::Counter {
                                    packet_count: 0,
                                    byte_count: bytes.and_then(|b| b.get(i)).copied().unwrap_or(0),
                                })
                                .collect(),
                        }
                    })
                    .collect::<Vec<_>>();
                if sw.split_group_stats && stats.len() > 1 {
                    // Every other group in each part: any group's path
                    // groups straddle the two.
                    let (first, second): (Vec<_>, Vec<_>) =
                        stats.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
                    let first = first.into_iter().map(|(_, s)| s).collect();
                    let second = second.into_iter().map(|(_, s)| s).collect();
                    let more = Message::MultipartReply(MultipartReply {
                        flags: edgeflow_controller::session::MULTIPART_REPLY_MORE,
                        body: MultipartReplyBody::Group(first),
                    });
                    self.switch_says(conn, msg.xid, more);
                    self.switch_replies(conn, msg.xid, MultipartReplyBody::Group(second))
                } else {
                    self.switch_replies(conn, msg.xid, MultipartReplyBody::Group(stats))
                }
            }
            Message::MultipartRequest(r) if matches!(r.body, MultipartRequestBody::Flow(_)) => {
                let flows = sw
                    .flows
                    .iter()
                    .map(|f| ofp::FlowStats {
                        table_id: f.table,
                        duration_sec: 0,
                        duration_nsec: 0,
                        priority: f.priority,
                        idle_timeout: 0,
                        hard_timeout: 0,
                        flags: 0,
                        cookie: f.cookie,
                        packet_count: f.packets,
                        byte_count: 0,
                        match_: ofp::Match {
                            fields: f.fields.clone(),
                        },
                        instructions: std::iter::once(Instruction::ApplyActions(f.actions.clone()))
                            .chain(
                                f.metadata
                                    .map(|(metadata, mask)| Instruction::WriteMetadata {
                                        metadata,
                                        mask,
                                    }),
                            )
                            .chain(f.goto.map(Instruction::GotoTable))
                            .collect(),
                    })
                    .collect();
                self.switch_replies(conn, msg.xid, MultipartReplyBody::Flow(flows))
            }
            Message::MultipartRequest(r) if r.body == MultipartRequestBody::GroupDesc => {
                let groups = sw
                    .groups
                    .iter()
                    .map(|(&group_id, buckets)| ofp::GroupDesc {
                        group_type: sw.group_types[&group_id],
                        group_id,
                        buckets: buckets.clone(),
                    })
                    .collect();
                self.switch_replies(conn, msg.xid, MultipartReplyBody::GroupDesc(groups))
            }
            Message::BarrierRequest => self.switch_says(conn, msg.xid, Message::BarrierReply),
            Message::EchoRequest(d) => self.switch_says(conn, msg.xid, Message::EchoReply(d)),
            Message::FlowMod(fm) => sw.apply_flow_mod(&fm),
            Message::GroupMod(gm) => sw.apply_group_mod(&gm),
            Message::PacketOut(po) => {
                let in_port = po.in_port;
                let (out, _) = self.apply_actions(dpid, in_port, &po.actions, &po.data, 0);
                self.carry(out);
            }
            _ => {}
        }
    }

    /// Where a switch's actions send a frame; the frame as the actions
    /// left it comes back for a following table.
    fn apply_actions(
        &mut self,
        dpid: u64,
        in_port: u32,
        actions: &[Action],
        frame: &[u8],
        hops: usize,
    ) -> (Vec<Emission>, Vec<u8>) {
        let mut out = Vec::new();
        let mut frame = frame.to_vec();
        for a in actions {
            match a {
                Action::Output { port, .. } => {
                    if *port == ofp::port::CONTROLLER {
                        self.packet_in(dpid, in_port, &frame);
                    } else if *port == in_port {
                        // Like Open vSwitch, never send a frame back where it came from.
                        continue;
                    } else {
                        assert!(
                            *port <= ofp::port::MAX,
                            "unexpected reserved port {port:#x}"
                        );
                        out.push(Emission {
                            dpid,
                            port: *port,
                            frame: frame.clone(),
                            hops,
                        });
                    }
                }
                Action::PushVlan(tpid) => {
                    let tag = [tpid.to_be_bytes(), [0, 0]].concat();
                    frame.splice(12..12, tag);
                }
                Action::SetField(Oxm::VlanVid(vid, None)) => {
                    assert!(
                        vlan_vid(&frame).is_some(),
                        "VLAN id set on an untagged frame"
                    );
                    frame[14..16].copy_from_slice(&(vid & 0xfff).to_be_bytes());
                }
                Action::PopVlan => {
                    assert!(
                        vlan_vid(&frame).is_some(),
                        "VLAN popped from an untagged frame"
                    );
                    frame.drain(12..16);
                }
                Action::Group(g) => {
                    let sw = self.switches.get_mut(&dpid).expect("switch exists");
                    if let Some(b) = sw.select(*g, &frame) {
                        out.extend(
                            self.apply_actions(dpid, in_port, &b.actions, &frame, hops)
                                .0,
                        );
                    }
                }
                other => panic!("the simulated switch does not apply {other:?}"),
            }
        }
        (out, frame)
    }

    fn packet_in(&mut self, dpid: u64, in_port: u32, frame: &[u8]) {
        let sw = self.switches.get_mut(&dpid).expect("switch exists");
        sw.packet_ins += 1;
        let conn = sw.conn;
        self.switch_says(
            conn,
            0,
            Message::PacketIn(PacketIn {
                buffer_id: ofp::NO_BUFFER,
                total_len: frame.len() as u16,
                reason: PacketInReason::NoMatch,
                table_id: self.pipeline.0,
                cookie: 0,
                match_: match self.pipeline.1 {
                    0 => ofp::Match::new().with(Oxm::InPort(in_port)),
                    m => ofp::Match::new()
                        .with(Oxm::InPort(in_port))
                        .with(Oxm::Metadata(m, None)),
                },
                data: frame.to_vec(),
            }),
        );
    }

    /// Delivers emitted frames across links and into hosts, forwarding
    /// through flow tables, until all are consumed.
    fn carry(&mut self, initial: Vec<Emission>) {
        let mut queue: VecDeque<Emission> = initial.into();
        while let Some(e) = queue.pop_front() {
            if let Some(sw) = self.switches.get_mut(&e.dpid) {
                let c = sw.counters.entry(e.port).or_default();
                c.2 += 1;
                c.3 += e.frame.len() as u64;
            }
            if let Some(h) = self.hosts.iter_mut().find(|h| h.at == (e.dpid, e.port)) {
                h.inbox.push(e.frame);
                continue;
            }
            let Some(&(nd, np)) = self.links.get(&(e.dpid, e.port)) else {
                continue;
            };
            if e.hops >= HOP_LIMIT {
                self.looped += 1;
                continue;
            }
            self.forwarded += 1;
            if let Some(sw) = self.switches.get_mut(&nd) {
                let c = sw.counters.entry(np).or_default();
                c.0 += 1;
                c.1 += e.frame.len() as u64;
            }
            queue.extend(self.switch_forwards(nd, np, &e.frame, e.hops + 1));
        }
    }

    fn switch_forwards(
        &mut self,
        dpid: u64,
        in_port: u32,
        frame: &[u8],
        hops: usize,
    ) -> Vec<Emission> {
        let mut out = Vec::new();
        let mut frame = frame.to_vec();
        let mut table = 0;
        let mut metadata = 0u64;
        loop {
            let Some(sw) = self.switches.get_mut(&dpid) else {
                return out;
            };
            let Some(flow) = sw.lookup(table, in_port, metadata, &frame) else {
                return out;
            };
            flow.packets += 1;
            if let Some((value, mask)) = flow.metadata {
                metadata = (metadata & !mask) | (value & mask);
            }
            let (actions, goto) = (flow.actions.clone(), flow.goto);
            self.pipeline = (table, metadata);
            let (emitted, left) = self.apply_actions(dpid, in_port, &actions, &frame, hops);
            self.pipeline = (0, 0);
            out.extend(emitted);
            match goto {
                Some(t) if t > table => (table, frame) = (t, left),
                _ => return out,
            }
        }
    }

    /// A host sends a frame; returns after the network is quiet again.
    pub fn host_sends(&mut self, host: usize, frame: Vec<u8>) {
        let (dpid, port) = self.hosts[host].at;
        let out = self.switch_forwards(dpid, port, &frame, 0);
        self.carry(out);
        self.drive();
        // Replies and packet-outs can cause more forwarding; drive() handled them.
    }

    /// An ARP request from host `from` for host `to`'s address.
    pub fn arp_request(&self, from: usize, to: usize) -> Vec<u8> {
        let (f, t) = (&self.hosts[from], &self.hosts[to]);
        arp_frame(
            f.mac,
            MacAddr::BROADCAST,
            &ArpRepr {
                op: ArpOp::Request,
                sha: f.mac,
                spa: f.ip,
                tha: MacAddr::default(),
                tpa: t.ip,
            },
        )
    }

    /// The ARP reply host `from` sends to host `to`, which asked for it.
    pub fn arp_reply(&self, from: usize, to: usize) -> Vec<u8> {
        let (f, t) = (&self.hosts[from], &self.hosts[to]);
        arp_frame(
            f.mac,
            t.mac,
            &ArpRepr {
                op: ArpOp::Reply,
                sha: f.mac,
                spa: f.ip,
                tha: t.mac,
                tpa: t.ip,
            },
        )
    }

    /// A minimal IPv4 frame (protocol 253, experimental) from one host to another.
    pub fn ip_frame(&self, from: usize, to: usize) -> Vec<u8> {
        self.ip_frame_of(from, to, 4)
    }

    /// An IP frame between two hosts with `payload` bytes of payload (at
    /// least 4).
    pub fn ip_frame_of(&self, from: usize, to: usize, payload: u16) -> Vec<u8> {
        self.ipv4_frame(from, to, 253, payload.max(4))
    }

    /// An IPv4 frame of protocol `proto` between two hosts, its `payload`
    /// bytes zero.
    fn ipv4_frame(&self, from: usize, to: usize, proto: u8, payload: u16) -> Vec<u8> {
        let (f, t) = (&self.hosts[from], &self.hosts[to]);
        let eth = EthernetRepr {
            dst: t.mac,
            src: f.mac,
            vlan: None,
            ethertype: 0x0800,
        };
        let ip = Ipv4Repr::new(f.ip, t.ip, proto, payload);
        let mut buf = vec![0u8; eth.buffer_len() + ip.buffer_len() + usize::from(payload)];
        eth.emit(&mut buf);
        ip.emit(&mut buf[eth.buffer_len()..]);
        buf
    }

    /// An IP frame between two hosts whose payload starts with `flow`:
    /// frames of different flows hash apart in a select group.
    pub fn flow_frame(&self, from: usize, to: usize, flow: u16) -> Vec<u8> {
        self.flow_frame_of(from, to, flow, 4)
    }

    /// [`Net::flow_frame`] with `payload` bytes of payload (at least 4).
    pub fn flow_frame_of(&self, from: usize, to: usize, flow: u16, payload: u16) -> Vec<u8> {
        let mut f = self.ip_frame_of(from, to, payload);
        let at = f.len() - usize::from(payload.max(4));
        f[at..at + 2].copy_from_slice(&flow.to_be_bytes());
        f
    }

    /// A UDP datagram between two hosts from source port `sport` to port
    /// 4789 (VXLAN's), with `payload` bytes of payload.
    pub fn udp_frame_of(&self, from: usize, to: usize, sport: u16, payload: u16) -> Vec<u8> {
        let mut buf = self.ipv4_frame(from, to, 17, 8 + payload);
        let udp = buf.len() - 8 - usize::from(payload);
        buf[udp..udp + 2].copy_from_slice(&sport.to_be_bytes());
        buf[udp + 2..udp + 4].copy_from_slice(&4789u16.to_be_bytes());
        buf[udp + 4..udp + 6].copy_from_slice(&(8 + payload).to_be_bytes());
        buf
    }

    /// Bytes each path group of switch `dpid`'s select group `group` carried,
    /// in bucket order.
    pub fn path_bytes(&self, dpid: u64, group: u32) -> Vec<u64> {
        let sw = &self.switches[&dpid];
        sw.groups[&group]
            .iter()
            .map(|b| match b.actions[..] {
                [Action::Group(p)] => sw.bucket_bytes.get(&p).map_or(0, |c| c.iter().sum()),
                _ => panic!("a bucket that hands to no path group: {b:?}"),
            })
            .collect()
    }

    /// Sets every flow's packet counter to zero.
    pub fn reset_flow_counters(&mut self) {
        for sw in self.switches.values_mut() {
            for f in &mut sw.flows {
                f.packets = 0;
            }
        }
    }

    /// Cuts the link at port `a`: both ends go down and their switches
    /// tell the controller.
    pub fn cut(&mut self, a: (u64, u32)) {
        for (dpid, port_no) in self.cut_unheard(a) {
            let sw = &self.switches[&dpid];
            let conn = sw.conn;
            let desc = sw.ports.iter().find(|p| p.port_no == port_no);
            let desc = desc.expect("port exists").clone();
            self.switch_says(
                conn,
                0,
                Message::PortStatus(PortStatus {
                    reason: PortReason::Modify,
                    desc,
                }),
            );
        }
        self.drive();
    }

    /// Cuts the link at port `a` before the controller hears of it: both
    /// ends go down, their PORT_STATUS not yet sent. Returns the two ends.
    pub fn cut_unheard(&mut self, a: (u64, u32)) -> [(u64, u32); 2] {
        let b = self.links.remove(&a).expect("link exists");
        self.links.remove(&b);
        for (dpid, port_no) in [a, b] {
            let sw = self.switches.get_mut(&dpid).expect("switch exists");
            let p = sw
                .ports
                .iter_mut()
                .find(|p| p.port_no == port_no)
                .expect("port exists");
            p.state |= 1; // OFPPS_LINK_DOWN
        }
        [a, b]
    }

    /// The switch drops its connection and connects again (a new connection
    /// id) with an empty flow table, as Open vSwitch does after an inactivity
    /// probe fails, before the controller has noticed the old one is dead.
    pub fn reconnect(&mut self, dpid: u64) {
        let sw = self.switches.get_mut(&dpid).expect("switch exists");
        let conn = sw.conn + 1000;
        sw.conn = conn;
        sw.flows.clear();
        sw.groups.clear();
        sw.bucket_bytes.clear();
        sw.inbuf.clear();
        self.by_conn.retain(|_, d| *d != dpid);
        self.by_conn.insert(conn, dpid);
        self.ctrl.handle_connect(conn, self.now);
        self.switch_says(conn, 0, Message::Hello(Hello::standard()));
        self.drive();
    }

    /// Connects a second switch, `key` in `switches`, with `ports` ports and
    /// no links or hosts, that reports the datapath id of switch `of` (a
    /// cloned VM); returns its connection.
    pub fn connect_twin(&mut self, of: u64, key: u64, ports: u32) -> ConnId {
        let conn = 500 + key;
        self.switches.insert(key, SimSwitch::new(of, conn, ports));
        self.by_conn.insert(conn, key);
        self.ctrl.handle_connect(conn, self.now);
        self.switch_says(conn, 0, Message::Hello(Hello::standard()));
        self.drive();
        conn
    }

    /// Moves a host to another port.
    pub fn move_host(&mut self, host: usize, to: PortAt) {
        self.hosts[host].at = to;
    }

    /// Total PACKET_INs sent by all switches.
    pub fn packet_ins(&self) -> u64 {
        self.switches.values().map(|s| s.packet_ins).sum()
    }

    /// Empties every host's inbox.
    pub fn clear_inboxes(&mut self) {
        for h in &mut self.hosts {
            h.inbox.clear();
        }
    }

    /// Frames in a host's inbox whose destination is that host's MAC (not floods).
    pub fn unicast_received(&self, host: usize) -> usize {
        let mac = self.hosts[host].mac;
        self.hosts[host]
            .inbox
            .iter()
            .filter(|f| EthernetRepr::parse(f).is_ok_and(|(e, _)| e.dst == mac))
            .count()
    }
}

/// The 4-ary fat-tree: cores 1-4, aggregation 11-18, edge 21-28, hosts two per edge switch.
/// Edge ports 1-2 go to hosts, 3-4 to aggregation; aggregation ports 1-2 to edge, 3-4 to cores;
/// core port p goes to pod p.
pub fn fat_tree() -> Net {
    let mut ports = Vec::new();
    let mut links = Vec::new();
    let mut hosts = Vec::new();
    for c in 1..=4 {
        ports.push((c, 4));
    }
    for pod in 0..4u64 {
        for a in 0..2u64 {
            let agg = 11 + pod * 2 + a;
            ports.push((agg, 4));
            for c in 0..2u64 {
                let core = 1 + a * 2 + c;
                links.push(((agg, 3 + c as u32), (core, 1 + pod as u32)));
            }
            for e in 0..2u64 {
                links.push(((agg, 1 + e as u32), (21 + pod * 2 + e, 3 + a as u32)));
            }
        }
        for e in 0..2u64 {
            let edge = 21 + pod * 2 + e;
            ports.push((edge, 4));
            hosts.push((edge, 1));
            hosts.push((edge, 2));
        }
    }
    Net::new(&ports, &links, &hosts)
}

/// Two sites joined by four link-disjoint paths, as `test_multipath` on Open
/// vSwitch: site switches 1 and 6, middle switches 2-5; site port i goes to
/// middle switch i + 1 (its port 1 on site 1's side, 2 on site 6's), and a
/// host sits on port 5 of each site.
pub fn two_sites() -> Net {
    let mut ports = vec![(1, 5), (6, 5)];
    let mut links = Vec::new();
    for i in 1..=4u32 {
        let m = u64::from(i) + 1;
        ports.push((m, 2));
        links.push(((1, i), (m, 1)));
        links.push(((m, 2), (6, i)));
    }
    Net::new(&ports, &links, &[(1, 5), (6, 5)])
}
