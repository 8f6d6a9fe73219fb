//! The controller as one sans-IO state machine over all switch connections.
//!
//! The runtime hands it connection events, bytes and the time; it answers
//! with bytes to write per connection ([`Controller::poll_transmit`]),
//! connections to close ([`Controller::poll_close`]) and when to wake it
//! next ([`Controller::poll_timeout`]). Sessions do the protocol; discovery,
//! hosts and forwarding are policies whose messages go through one
//! [`Outbox`] per step. Tests drive it with simulated switches on a virtual
//! clock; the tokio runtime is a thin shell around it.

use crate::discovery::{Discovery, DiscoveryConfig};
use crate::dump::{self, Dumps};
use crate::forecasting::Forecasts;
use crate::forwarding::{Forwarding, ForwardingConfig};
use crate::hosts::HostTable;
use crate::multipath::{self, LinkLoad};
use crate::outbox::{Out, Outbox};
use crate::placement::{PlacementError, Placements, StoredBatch};
use crate::session::{
    self, Session, SessionConfig, SessionEvent, COOKIE_BASE, MULTIPART_REPLY_MORE,
};
use crate::stats::{Monitor, PortRates, StatsConfig};
use crate::timers::Timers;
use crate::topology::{Link, PortRef, Topology};
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use edgeflow_api::model;
use edgeflow_proto::ofp::{
    self, ErrorMsg, ErrorType, FlowRemovedReason, Message, MultipartReply, MultipartReplyBody,
    MultipartRequest, MultipartRequestBody, OfpMsg, PacketIn, Port, PortReason,
};
use edgeflow_proto::packet::{PacketSummary, L3};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// The speed a port reports, in bit/s (OpenFlow gives kbit/s).
fn reported_speed(p: &Port) -> Option<u64> {
    (p.curr_speed > 0).then(|| u64::from(p.curr_speed) * 1000)
}

/// Whether the switch refused a message for naming a group it does not hold.
fn group_missing(e: &ErrorMsg) -> bool {
    matches!(
        (e.typ, e.code),
        (ErrorType::BadAction, ofp::bad_action::BAD_OUT_GROUP)
            | (
                ErrorType::GroupModFailed,
                ofp::group_mod_failed::UNKNOWN_GROUP
            )
    )
}

/// Identifies one switch connection.
pub type ConnId = u64;

/// Everything the controller core needs to know.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Per-session keepalive.
    pub session: SessionConfig,
    /// LLDP probing.
    pub discovery: DiscoveryConfig,
    /// Path flows.
    pub forwarding: ForwardingConfig,
    /// Port statistics polling.
    pub stats: StatsConfig,
    /// Hosts silent this long, with no flow carrying their traffic, are forgotten.
    pub host_idle: std::time::Duration,
}

/// How often hosts are checked for aging.
const HOST_CHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a connected switch has to answer a probe when another
/// connection brings its datapath id: an answer means a second switch with
/// the same id (a cloned VM, a copied configuration), which is refused;
/// silence, a connection that died without closing, which the newcomer
/// replaces.
const DUPLICATE_PROBE: Duration = Duration::from_secs(1);

/// A switch that finished its handshake with the datapath id of a switch
/// connected already, held apart while the other is probed.
#[derive(Debug)]
struct Contest {
    newcomer: ConnId,
    ports: Vec<Port>,
    /// When the connected switch's probe runs out.
    deadline: Instant,
    /// Its reads then ([`Session::reads`]): one more is its answer.
    reads: u64,
}

/// Counters for operators.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    /// PACKET_INs received.
    pub packet_in: u64,
    /// FLOW_MODs sent.
    pub flow_mods: u64,
    /// Sessions the controller closed: a protocol error or timeout, a
    /// switch started over, replaced by its new connection, or refused.
    pub sessions_failed: u64,
    /// Switches refused because a switch with the same datapath id was
    /// connected and answering.
    pub duplicate_datapaths: u64,
}

/// The controller core.
#[derive(Debug)]
pub struct Controller {
    config: ControllerConfig,
    sessions: HashMap<ConnId, Session>,
    /// When each session's [`Session::handle_timeout`] is next due.
    session_timers: Timers<ConnId>,
    by_dpid: HashMap<u64, ConnId>,
    /// Newcomers held while the switch connected with their datapath id is
    /// probed, by that id.
    contests: HashMap<u64, Contest>,
    topo: Topology,
    discovery: Discovery,
    hosts: HostTable,
    forwarding: Forwarding,
    monitor: Monitor,
    /// Rates of the polls completed since the last [`Controller::poll_rates`].
    rates: Vec<(PortRef, PortRates)>,
    /// Bumped whenever a poll brings new rates.
    rates_version: u64,
    /// The newest link-load forecasts, for rebalancing.
    forecasts: Arc<Forecasts>,
    /// Kubernetes nodes and placement batches.
    placements: Placements,
    /// The [`Controller::version`] placements were last applied at.
    placements_applied: u64,
    /// Flow and group tables being fetched for the API.
    dumps: Dumps,
    /// The topology changed since the flood flows were last brought in line.
    flooding_stale: bool,
    /// Links appeared since the groups' paths were last recomputed.
    links_added: bool,
    /// When hosts are next checked for aging.
    next_host_check: Option<Instant>,
    /// Connections with bytes waiting to be written.
    pending: Vec<ConnId>,
    /// An emptied outbox, whose buffers the next step reuses.
    spare: Outbox,
    /// Frames to send once the flow changes before them are written.
    after_flows: Vec<(u64, Message)>,
    /// Connections those frames go to: their bytes wait for the frames.
    held: ahash::AHashSet<ConnId>,
    closing: VecDeque<(ConnId, String)>,
    /// Bumped whenever switches, links or hosts change.
    version: u64,
    /// The switches' part of the API's snapshot, with the version it shows.
    switch_views: RefCell<Option<(u64, Arc<Vec<model::Switch>>)>>,
    /// Counters.
    pub counters: Counters,
}

impl Controller {
    /// A controller with no switches.
    pub fn new(config: ControllerConfig) -> Controller {
        Controller {
            discovery: Discovery::new(config.discovery.clone()),
            forwarding: Forwarding::new(config.forwarding),
            monitor: Monitor::new(config.stats.clone()),
            rates: Vec::new(),
            rates_version: 0,
            forecasts: Arc::default(),
            placements: Placements::default(),
            placements_applied: 0,
            dumps: Dumps::default(),
            flooding_stale: false,
            links_added: false,
            next_host_check: None,
            config,
            sessions: HashMap::new(),
            session_timers: Timers::default(),
            by_dpid: HashMap::new(),
            contests: HashMap::new(),
            topo: Topology::default(),
            hosts: HostTable::default(),
            pending: Vec::new(),
            spare: Outbox::default(),
            after_flows: Vec::new(),
            held: Default::default(),
            closing: VecDeque::new(),
            version: 0,
            switch_views: RefCell::default(),
            counters: Counters::default(),
        }
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// The host table.
    pub fn hosts(&self) -> &HostTable {
        &self.hosts
    }

    /// Discovery counters and settings.
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// Forwarding state and counters.
    pub fn forwarding(&self) -> &Forwarding {
        &self.forwarding
    }

    /// Changes whenever switches, links, hosts or multipath groups change.
    pub fn version(&self) -> u64 {
        let groups = self.forwarding.multipath().map_or(0, |m| m.version());
        self.version.wrapping_add(groups)
    }

    /// New link-load forecasts (from the forecasting thread).
    pub fn set_forecasts(&mut self, forecasts: Arc<Forecasts>) {
        self.forecasts = forecasts;
    }

    /// Asks switch `dpid` for its flow and group tables; the answer comes
    /// from [`Controller::poll_switch_dump`] with `token`. False if the
    /// switch is not connected and ready.
    pub fn request_switch_dump(&mut self, dpid: u64, token: u64, now: Instant) -> bool {
        let Some(&conn) = self.by_dpid.get(&dpid) else {
            return false;
        };
        let Some(s) = self.sessions.get_mut(&conn).filter(|s| s.is_ready()) else {
            return false;
        };
        let [flows, groups] = dump::requests();
        let (flow_xid, group_xid) = (s.send(flows), s.send(groups));
        self.dumps.start(now, token, dpid, (flow_xid, group_xid));
        self.pending.push(conn);
        true
    }

    /// A finished switch dump (or why it failed), with its request's token.
    pub fn poll_switch_dump(&mut self) -> Option<dump::Answer> {
        self.dumps.poll()
    }

    /// A switch connected.
    pub fn handle_connect(&mut self, conn: ConnId, now: Instant) {
        self.sessions
            .insert(conn, Session::new(self.config.session, now));
        self.reschedule(conn);
        // Probe and poll rounds count from the same instant: with one
        // interval they come due together, and a switch's probes and its
        // statistics request leave in one write.
        self.discovery.start(now);
        self.monitor.start(now);
        self.pending.push(conn);
    }

    /// Bytes arrived from a switch; returns how many of its messages they
    /// completed for the controller (the session answers echoes itself).
    pub fn handle_bytes(&mut self, conn: ConnId, now: Instant, data: &[u8]) -> usize {
        let Some(s) = self.sessions.get_mut(&conn) else {
            return 0;
        };
        s.handle_bytes(now, data);
        let messages = self.process_events(conn, now);
        self.reschedule(conn);
        messages
    }

    /// Brings a session's deadline in line with its state. Only an earlier
    /// deadline is set at once: every message received moves the keepalive
    /// later, and a deadline that comes up early finds nothing to do and is
    /// set again then (once per echo interval, not once per read).
    fn reschedule(&mut self, conn: ConnId) {
        match self.sessions.get(&conn).and_then(Session::poll_timeout) {
            Some(at) => {
                if self
                    .session_timers
                    .deadline(conn)
                    .is_none_or(|set| at < set)
                {
                    self.session_timers.set(conn, at);
                }
            }
            None => self.session_timers.cancel(conn),
        }
    }

    /// The connection is gone (closed by the switch, or after poll_close).
    pub fn handle_disconnect(&mut self, conn: ConnId) {
        self.session_timers.cancel(conn);
        if let Some(mut s) = self.sessions.remove(&conn) {
            if !s.is_closed() {
                s.close("connection closed".into());
            }
            self.switch_gone(conn, &s);
        }
    }

    /// Timers: sessions, probe and polling rounds, rebalancing, dumps.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((conn, _)) = self.session_timers.pop_due(now) {
            if let Some(s) = self.sessions.get_mut(&conn) {
                s.handle_timeout(now);
                self.process_events(conn, now);
                self.reschedule(conn);
            }
        }
        self.settle_contests(now);
        if self.discovery.probe_due(now) {
            let mut out = self.outbox();
            let dpids: Vec<u64> = self.topo.switches().keys().copied().collect();
            for dpid in dpids {
                self.probe_switch(dpid, &mut out);
            }
            let expired = self
                .topo
                .expire_links(now, self.discovery.config().link_timeout);
            if !expired.is_empty() {
                info!(count = expired.len(), "links expired without probes");
                self.topology_changed(&expired, &mut out);
            }
            self.flush(out);
        }
        let due = self.monitor.due(now);
        if !due.is_empty() {
            let mut out = self.outbox();
            let multipath = self.forwarding.multipath();
            for dpid in due {
                out.push(
                    dpid,
                    Message::MultipartRequest(MultipartRequest {
                        flags: 0,
                        body: MultipartRequestBody::PortStats {
                            port_no: ofp::port::ANY,
                        },
                    }),
                );
                if multipath.is_some_and(|m| m.has_groups(dpid)) {
                    out.push(
                        dpid,
                        Message::MultipartRequest(MultipartRequest {
                            flags: 0,
                            body: MultipartRequestBody::Group {
                                group_id: ofp::group::ALL,
                            },
                        }),
                    );
                }
            }
            self.flush(out);
        }
        self.rebalance(now);
        self.expire_hosts(now);
        self.dumps.expire(now);
        self.apply_placements();
    }

    /// Forgets, once per [`HOST_CHECK`], the hosts silent for the host idle
    /// timeout whose traffic no flow and no placement route carries; their
    /// remaining flows are removed.
    fn expire_hosts(&mut self, now: Instant) {
        if self.next_host_check.is_some_and(|t| now < t) {
            return;
        }
        self.next_host_check = Some(now + HOST_CHECK);
        let mut active = self.forwarding.active_hosts();
        active.extend(
            self.placements
                .route_ips()
                .filter_map(|ip| self.hosts.mac_of(&ip)),
        );
        let gone = self
            .hosts
            .expire(now, self.config.host_idle, |m| active.contains(m));
        if gone.is_empty() {
            return;
        }
        debug!(count = gone.len(), "hosts aged out");
        let mut out = self.outbox();
        self.forwarding.forget_hosts(&gone, &self.topo, &mut out);
        self.flush(out);
        self.version += 1;
    }

    /// Recomputes the multipath weights when a rebalancing period has
    /// passed, from each link's rate over the period and its forecast for
    /// the next step: a burst now is not forgotten for a forecast of calmer
    /// averages, and of a rise the forecast sees coming, the part that no
    /// group would carry is made room for (see
    /// [`Multipath::rebalance`](crate::multipath::Multipath::rebalance)).
    fn rebalance(&mut self, now: Instant) {
        if !self
            .forwarding
            .multipath()
            .is_some_and(|m| m.rebalance_due(now))
        {
            return;
        }
        let referenced: std::collections::HashSet<u32> = self
            .forwarding
            .group_refs()
            .chain(self.placements.group_refs())
            .collect();
        let mut out = self.outbox();
        let Some(mp) = self.forwarding.multipath_mut() else {
            return;
        };
        let (monitor, forecasts) = (&self.monitor, &self.forecasts);
        let load = |l: Link| LinkLoad {
            sent: monitor.sent(l.src),
            rate: monitor.rates(l.src).map(|r| r.tx_bps),
            forecast: forecasts
                .get(&l.src)
                .and_then(|f| f.first())
                .map(|f| f.mean),
        };
        let capacity = |l: Link| monitor.rates(l.src).and_then(|r| r.speed_bps);
        mp.rebalance(now, &referenced, load, capacity, &mut out);
        self.flush(out);
    }

    /// When [`Controller::handle_timeout`] should next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.session_timers
            .next()
            .into_iter()
            .chain(self.discovery.poll_timeout())
            .chain(self.monitor.poll_timeout())
            .chain(self.forwarding.multipath().and_then(|m| m.poll_timeout()))
            .chain(self.dumps.poll_timeout())
            .chain(self.contests.values().map(|c| c.deadline))
            .min()
    }

    /// Port rates measured since the last call (for the history store).
    pub fn poll_rates(&mut self) -> Vec<(PortRef, PortRates)> {
        // The next round is as large: allocated once, not grown by doubling
        // (48,000 ports' rates are 4 MB).
        let next = Vec::with_capacity(self.rates.len());
        std::mem::replace(&mut self.rates, next)
    }

    /// Changes whenever a poll brings new rates.
    pub fn rates_version(&self) -> u64 {
        self.rates_version
    }

    /// The latest rates of a port.
    pub fn port_rates(&self, port: PortRef) -> Option<&PortRates> {
        self.monitor.rates(port)
    }

    /// Bytes to write to a connection.
    ///
    /// Flooding (and the groups' paths, when links appeared) follow topology
    /// changes here, once for all the changes since the last call: a fabric
    /// coming up discovers thousands of links in a burst, and the spanning
    /// tree is recomputed once per burst rather than once per link.
    pub fn poll_transmit(&mut self) -> Option<(ConnId, Bytes)> {
        if std::mem::take(&mut self.flooding_stale) {
            let mut out = self.outbox();
            self.forwarding.refresh_flooding(&self.topo, &mut out);
            if std::mem::take(&mut self.links_added) {
                self.forwarding
                    .links_added(&self.topo, &self.hosts, &mut out);
            }
            self.flush(out);
        }
        loop {
            while let Some(conn) = self.pending.pop() {
                // A switch with a frame to come takes its flow changes in
                // the same write as the frame, after the other switches'.
                if self.held.contains(&conn) {
                    continue;
                }
                if let Some(bytes) = self
                    .sessions
                    .get_mut(&conn)
                    .and_then(Session::take_transmit)
                {
                    return Some((conn, bytes));
                }
            }
            if self.after_flows.is_empty() && self.held.is_empty() {
                return None;
            }
            // Every other flow change is taken: now the frames, and whatever
            // their connections held back (also when a frame found its
            // switch gone or on another connection meanwhile).
            for (dpid, msg) in std::mem::take(&mut self.after_flows) {
                self.send_batch(dpid, [Out::Msg(msg)]);
            }
            self.pending.extend(self.held.drain());
        }
    }

    /// True while topology changes wait for the flood flows and groups to
    /// follow them, which happens once, when output is next taken: a caller
    /// that can take more input first lets a burst of changes be handled
    /// at once.
    pub fn recompute_pending(&self) -> bool {
        self.flooding_stale
    }

    /// A connection to close (after writing what poll_transmit gave for it), with the reason.
    pub fn poll_close(&mut self) -> Option<(ConnId, String)> {
        self.closing.pop_front()
    }

    /// Handles what a session has for the controller; returns the number
    /// of switch messages among it.
    fn process_events(&mut self, conn: ConnId, now: Instant) -> usize {
        let mut out = self.outbox();
        let mut messages = 0;
        while let Some(s) = self.sessions.get_mut(&conn) {
            let Some(ev) = s.poll_event() else {
                break;
            };
            let dpid = s.dpid();
            match ev {
                SessionEvent::Ready { features, ports } => {
                    self.switch_ready(conn, features.datapath_id, ports, now, &mut out)
                }
                SessionEvent::Message(msg) => {
                    messages += 1;
                    // A switch held in a contest for its datapath id speaks
                    // for nothing yet.
                    let in_contest = !self.contests.is_empty()
                        && self.contests.values().any(|c| c.newcomer == conn);
                    if in_contest {
                        self.contest_message(conn, msg.body);
                    } else if let Some(dpid) = dpid {
                        self.handle_message(dpid, msg, now, &mut out);
                    }
                }
                SessionEvent::Closed(reason) => {
                    warn!(conn, dpid = dpid.map(|d| format!("{d:016x}")), %reason, "closing switch session");
                    self.counters.sessions_failed += 1;
                    self.closing.push_back((conn, reason));
                }
            }
        }
        self.flush(out);
        self.apply_placements();
        // Replies the session made itself (echo, handshake) wait in its buffer too.
        self.pending.push(conn);
        messages
    }

    /// A switch finished its handshake. If a switch with its datapath id
    /// is connected and ready, that one is probed first (see
    /// [`DUPLICATE_PROBE`]) and this one held until it is known which stays.
    fn switch_ready(
        &mut self,
        conn: ConnId,
        dpid: u64,
        ports: Vec<Port>,
        now: Instant,
        out: &mut Outbox,
    ) {
        let Some(old) = self.by_dpid.get(&dpid).copied().filter(|&old| old != conn) else {
            return self.take_datapath(conn, dpid, ports, out);
        };
        if self.contests.contains_key(&dpid) {
            // Yet another connection with this id while one is held: two
            // switches besides the connected one claim it.
            return self.refuse(dpid, conn, "another connection with it is held", now);
        }
        let Some(s) = self.sessions.get_mut(&old).filter(|s| s.is_ready()) else {
            return self.take_datapath(conn, dpid, ports, out);
        };
        s.send(Message::EchoRequest(Vec::new()));
        self.pending.push(old);
        let contest = Contest {
            newcomer: conn,
            ports,
            deadline: now + DUPLICATE_PROBE,
            reads: s.reads(),
        };
        self.contests.insert(dpid, contest);
        warn!(
            conn,
            dpid = format!("{dpid:016x}"),
            connected = old,
            "a switch with this datapath id is connected already; probing it"
        );
    }

    /// Each held newcomer whose probe has run out: refused if the connected
    /// switch answered, else it replaces that one.
    fn settle_contests(&mut self, now: Instant) {
        let due: Vec<(u64, Contest)> = self.contests.extract_if(|_, c| now >= c.deadline).collect();
        for (dpid, c) in due {
            let answered = self
                .by_dpid
                .get(&dpid)
                .and_then(|old| self.sessions.get(old))
                .is_some_and(|s| s.is_ready() && s.reads() > c.reads);
            let alive = self
                .sessions
                .get(&c.newcomer)
                .is_some_and(Session::is_ready);
            if answered {
                self.refuse(dpid, c.newcomer, "its connection answers", now);
            } else if alive {
                let mut out = self.outbox();
                self.take_datapath(c.newcomer, dpid, c.ports, &mut out);
                self.flush(out);
            }
        }
    }

    /// A message from a held newcomer: its port changes are kept for when it
    /// takes over; the rest waits for nothing.
    fn contest_message(&mut self, conn: ConnId, msg: Message) {
        let Message::PortStatus(ps) = msg else {
            return;
        };
        if let Some(c) = self.contests.values_mut().find(|c| c.newcomer == conn) {
            session::apply_port_status(&mut c.ports, ps);
        }
    }

    /// Closes a newcomer that brought the datapath id of a connected switch,
    /// saying `why` it cannot have it.
    fn refuse(&mut self, dpid: u64, conn: ConnId, why: &str, now: Instant) {
        self.counters.duplicate_datapaths += 1;
        if let Some(s) = self.sessions.get_mut(&conn) {
            s.close(format!(
                "another switch has datapath id {dpid:016x} ({why}): refused"
            ));
            self.process_events(conn, now);
        }
    }

    /// `conn` becomes switch `dpid`, replacing an earlier connection of it.
    fn take_datapath(&mut self, conn: ConnId, dpid: u64, ports: Vec<Port>, out: &mut Outbox) {
        if let Some(old) = self.by_dpid.insert(dpid, conn) {
            if old != conn {
                if let Some(s) = self.sessions.get_mut(&old) {
                    s.close(format!(
                        "datapath {dpid:016x} reconnected on another connection"
                    ));
                }
                self.closing
                    .push_back((old, "replaced by a new connection".into()));
            }
        }
        info!(
            conn,
            dpid = format!("{dpid:016x}"),
            ports = ports.len(),
            "switch ready"
        );
        self.topo.add_switch(dpid, ports);
        self.monitor.switch_ready(dpid);
        self.forwarding
            .switch_ready(dpid, &self.topo, &self.hosts, out);
        self.reinstall_placements(dpid);
        self.probe_switch(dpid, out);
        self.flooding_stale = true;
        self.version += 1;
    }

    /// Cleans up after a session that ended.
    fn switch_gone(&mut self, conn: ConnId, s: &Session) {
        let Some(dpid) = s.dpid() else { return };
        if self.by_dpid.get(&dpid) != Some(&conn) {
            // A newer connection of the same switch owns the state, or this
            // one was held apart.
            self.contests.retain(|_, c| c.newcomer != conn);
            return;
        }
        self.by_dpid.remove(&dpid);
        self.dumps.switch_gone(dpid);
        info!(dpid = format!("{dpid:016x}"), "switch left");
        let mut out = self.outbox();
        let removed = self.topo.remove_switch(dpid);
        self.monitor.switch_gone(dpid);
        self.discovery.switch_gone(dpid);
        self.hosts.remove_where(|at| at.dpid == dpid);
        self.forwarding
            .switch_gone(dpid, &self.topo, &self.hosts, &mut out);
        self.topology_changed(&removed, &mut out);
        // A newcomer held for this datapath id takes it at once.
        if let Some(c) = self.contests.remove(&dpid) {
            self.take_datapath(c.newcomer, dpid, c.ports, &mut out);
        }
        self.flush(out);
    }

    /// The switch's tables no longer hold what the controller installed:
    /// its connection is closed, and the switch connects again and is set
    /// up anew (a clean table, then everything it should hold).
    fn start_over(&mut self, dpid: u64, why: &str) {
        let session = self
            .by_dpid
            .get(&dpid)
            .and_then(|c| self.sessions.get_mut(c));
        if let Some(s) = session {
            s.close(format!("{why}; starting it over"));
        }
    }

    fn probe_switch(&mut self, dpid: u64, out: &mut Outbox) {
        let Some(sw) = self.topo.switches().get(&dpid) else {
            return;
        };
        for p in sw.ports.values() {
            if p.port_no <= ofp::port::MAX && p.is_up() {
                out.push_encoded(dpid, self.discovery.probe(dpid, p.port_no, p.hw_addr));
            }
        }
    }

    fn handle_message(&mut self, dpid: u64, msg: OfpMsg, now: Instant, out: &mut Outbox) {
        if let Message::MultipartReply(r) = &msg.body {
            let more = r.flags & MULTIPART_REPLY_MORE != 0;
            if self.dumps.reply(dpid, msg.xid, more, &r.body) {
                return;
            }
        }
        match msg.body {
            Message::PacketIn(pi) => self.packet_in(dpid, pi, now, out),
            Message::PortStatus(ps) => {
                let port_no = ps.desc.port_no;
                let up = ps.desc.is_up();
                let removed = match ps.reason {
                    PortReason::Delete => {
                        let at = PortRef {
                            dpid,
                            port: port_no,
                        };
                        self.discovery.port_gone(at);
                        self.monitor.port_gone(at);
                        self.topo.delete_port(dpid, port_no)
                    }
                    _ => self.topo.update_port(dpid, ps.desc.clone()),
                };
                info!(dpid = format!("{dpid:016x}"), port = port_no, up, reason = ?ps.reason, links_removed = removed.len(), "port status");
                self.topology_changed(&removed, out);
                if up && ps.reason != PortReason::Delete {
                    // Probe at once so a link that came back is found within milliseconds.
                    self.probe_port(
                        PortRef {
                            dpid,
                            port: port_no,
                        },
                        out,
                    );
                }
            }
            Message::FlowRemoved(fr) if fr.cookie == COOKIE_BASE => {
                // Nothing of ours removes this session's table-miss flow or
                // canary: someone cleared the switch's flows (`ovs-ofctl
                // del-flows`) or groups (`del-groups`, which takes the flows
                // into them), and with them its discovery, flooding or paths.
                // One that lived longer than this session was an earlier
                // session's, which this one's handshake deleted (Open vSwitch
                // may report that after the handshake's barrier).
                let lived = Duration::new(fr.duration_sec.into(), fr.duration_nsec);
                let session = self.by_dpid.get(&dpid).and_then(|c| self.sessions.get(c));
                if session.is_some_and(|s| lived <= s.age(now)) {
                    let what = if fr.reason == FlowRemovedReason::GroupDelete {
                        "groups"
                    } else {
                        "flows"
                    };
                    self.start_over(dpid, &format!("its {what} were deleted by someone else"));
                }
            }
            Message::Error(e) if group_missing(&e) => {
                // The controller never names a group it has not added or has
                // deleted (the simulated switches refuse that too): someone
                // deleted the switch's groups (`ovs-ofctl del-groups`), and
                // the flows that sent into them.
                warn!(dpid = format!("{dpid:016x}"), xid = msg.xid, error = ?e, "switch reported an error");
                self.start_over(dpid, "its groups were deleted by someone else");
            }
            Message::FlowRemoved(fr) => self.forwarding.flow_removed(dpid, &fr),
            Message::MultipartReply(MultipartReply {
                flags,
                body: MultipartReplyBody::PortStats(stats),
            }) => {
                let ports = self.topo.switches().get(&dpid).map(|sw| &sw.ports);
                let speed = |port: u32| reported_speed(ports?.get(&port)?);
                let more = flags & MULTIPART_REPLY_MORE != 0;
                if let Some(fresh) = self.monitor.reply(dpid, now, more, stats, speed) {
                    if !fresh.is_empty() {
                        self.rates.extend(fresh);
                        self.rates_version += 1;
                    }
                }
            }
            Message::MultipartReply(MultipartReply {
                flags,
                body: MultipartReplyBody::Group(stats),
            }) => {
                if let Some(mp) = self.forwarding.multipath_mut() {
                    let more = flags & MULTIPART_REPLY_MORE != 0;
                    mp.group_stats(dpid, now, more, stats);
                }
            }
            Message::Error(_) if self.dumps.error(dpid, msg.xid) => {}
            Message::Error(e) => {
                warn!(dpid = format!("{dpid:016x}"), xid = msg.xid, error = ?e, "switch reported an error")
            }
            other => debug!(
                dpid = format!("{dpid:016x}"),
                kind = other.name(),
                "ignored message"
            ),
        }
    }

    fn packet_in(&mut self, dpid: u64, pi: PacketIn, now: Instant, out: &mut Outbox) {
        self.counters.packet_in += 1;
        let Some(in_port) = pi.in_port() else { return };
        let at = PortRef {
            dpid,
            port: in_port,
        };
        if pi.table_id == multipath::SPREAD_TABLE {
            let group = pi.match_.metadata().and_then(|m| u32::try_from(m).ok());
            if let (Some(m), Some(id)) = (self.forwarding.multipath(), group) {
                m.restore_spreading(dpid, id, out);
            }
        }
        // The frame is parsed once, here, for discovery and forwarding alike.
        let Ok(pkt) = PacketSummary::parse(&pi.data) else {
            self.forwarding.stats.unparsable += 1;
            return;
        };
        if pkt.l3 != L3::Lldp {
            let (topo, hosts) = (&self.topo, &mut self.hosts);
            if self
                .forwarding
                .packet_in(topo, hosts, at, pkt, pi.data, now, out)
            {
                self.version += 1;
            }
            return;
        }
        let payload = pi.data.get(pkt.eth.buffer_len()..).unwrap_or_default();
        let Ok(link) = self.discovery.receive(payload, at) else {
            return;
        };
        let mut replaced = Vec::new();
        if self.topo.observe_link(link, now, &mut replaced) {
            info!(
                src = format!("{:016x}:{}", link.src.dpid, link.src.port),
                dst = format!("{:016x}:{}", link.dst.dpid, link.dst.port),
                "link discovered"
            );
            // Hosts seemingly learned at what is now known to be a link port were not hosts.
            let gone = self.hosts.remove_where(|p| p == link.src || p == link.dst);
            if !gone.is_empty() {
                debug!(count = gone.len(), "forgot hosts learned on a link port");
                self.forwarding.forget_hosts(&gone, &self.topo, out);
            }
            self.topology_changed(&replaced, out);
            self.links_added = true;
            // The reverse direction is proven by a probe the other way; send
            // it now rather than at the next round (the neighbour may have
            // become ready after its own first probes went out).
            let reverse = Link {
                src: link.dst,
                dst: link.src,
            };
            if !self.topo.has_link(reverse) {
                self.probe_port(link.dst, out);
            }
        }
    }

    /// A port's speed in bit/s (configured, else reported), before any poll.
    fn speed_bps(&self, port: PortRef) -> Option<f64> {
        let reported = || {
            let p = self
                .topo
                .switches()
                .get(&port.dpid)?
                .ports
                .get(&port.port)?;
            reported_speed(p)
        };
        self.monitor.speed_bps(port, reported).map(|s| s as f64)
    }

    /// Sends one probe out of a port, if the port is known.
    fn probe_port(&mut self, at: PortRef, out: &mut Outbox) {
        let sw = self.topo.switches().get(&at.dpid);
        if let Some(p) = sw.and_then(|sw| sw.ports.get(&at.port)) {
            out.push_encoded(at.dpid, self.discovery.probe(at.dpid, at.port, p.hw_addr));
        }
    }

    /// Installs the placement routes that are not installed yet, when hosts
    /// or the topology changed since the last time (a route waits for both
    /// its hosts to be seen), and tells the groups the expected demands.
    fn apply_placements(&mut self) {
        if self.placements_applied == self.version() {
            return;
        }
        let mut out = self.outbox();
        let (topo, hosts, fwd) = (&self.topo, &self.hosts, &mut self.forwarding);
        for (cookie, route) in self.placements.routes_mut() {
            let ips = (route.src, route.dst);
            if let Ok(old) = &route.state {
                if fwd.route_current(hosts, ips, old) {
                    continue;
                }
                fwd.remove_route(ips, old, cookie, &mut out);
            }
            route.state = fwd.install_route(topo, hosts, ips, cookie, &mut out);
        }
        let demands = self.placements.demands();
        if let Some(mp) = self.forwarding.multipath_mut() {
            mp.set_planned(demands);
        }
        self.flush(out);
        self.placements_applied = self.version();
    }

    /// Switch `dpid` lost its tables: the routes with flows on it (their
    /// source's flow, their destination's delivery flow) are installed again
    /// at the next apply.
    fn reinstall_placements(&mut self, dpid: u64) {
        for (_, route) in self.placements.routes_mut() {
            if route
                .state
                .as_ref()
                .is_ok_and(|i| i.ingress.dpid == dpid || i.egress == dpid)
            {
                route.state = Err("being installed again".into());
            }
        }
    }

    /// Registers (or replaces) a Kubernetes node.
    pub fn put_node(&mut self, node: &model::Node) -> Result<model::NodeView, PlacementError> {
        self.placements.put_node(node)?;
        self.version += 1;
        let view = self.node_views().into_iter().find(|n| n.name == node.name);
        view.ok_or_else(|| PlacementError::NotFound(format!("node {:?}", node.name)))
    }

    /// Forgets a Kubernetes node.
    pub fn delete_node(&mut self, name: &str) -> Result<(), PlacementError> {
        self.placements.delete_node(name)?;
        self.version += 1;
        Ok(())
    }

    /// Applies a placement batch: true and its view if it is new (store
    /// it), false if the same batch was already there.
    pub fn put_placement(
        &mut self,
        batch: model::PlacementBatch,
    ) -> Result<(bool, model::PlacementView), PlacementError> {
        let id = batch.id.clone();
        let created = self.placements.put(batch)?;
        self.version += 1;
        self.apply_placements();
        let view = self.placements.view(&id);
        view.map(|v| (created, v))
            .ok_or(PlacementError::NotFound(format!("placement {id:?}")))
    }

    /// Restores a stored placement batch at start.
    pub fn restore_placement(&mut self, stored: StoredBatch) -> Result<(), PlacementError> {
        self.placements.restore(stored)?;
        self.version += 1;
        Ok(())
    }

    /// The stored form of a placement batch, to persist.
    pub fn stored_placement(&self, id: &str) -> Option<&StoredBatch> {
        self.placements.stored(id)
    }

    /// Withdraws a placement batch and removes its flows from every switch.
    pub fn delete_placement(&mut self, id: &str) -> Result<model::PlacementView, PlacementError> {
        let (view, cookie) = self.placements.remove(id)?;
        let mut out = self.outbox();
        self.forwarding.remove_cookie(cookie, &self.topo, &mut out);
        self.flush(out);
        self.version += 1;
        self.apply_placements();
        Ok(view)
    }

    fn node_views(&self) -> Vec<model::NodeView> {
        let hosts = &self.hosts;
        self.placements
            .node_views(|ip| hosts.mac_of(ip).and_then(|m| hosts.get(&m)).map(|h| h.at))
    }

    /// After links or ports changed: pairs whose paths used a `removed`
    /// link move, and flooding follows the new spanning tree.
    fn topology_changed(&mut self, removed: &[Link], out: &mut Outbox) {
        self.forwarding
            .links_removed(removed, &self.topo, &self.hosts, out);
        self.flooding_stale = true;
        self.version += 1;
    }

    /// An empty outbox for one step, with the buffers the last step left
    /// ([`Controller::flush`] gives them back).
    fn outbox(&mut self) -> Outbox {
        std::mem::take(&mut self.spare)
    }

    /// Sends every batch to its switch's session; the frames that follow
    /// flow changes wait until everything else is taken for writing.
    fn flush(&mut self, mut out: Outbox) {
        let after_flows = out.finish(|dpid, msgs| self.send_batch(dpid, msgs));
        for (dpid, msg) in after_flows {
            if let Some(&conn) = self.by_dpid.get(&dpid) {
                self.held.insert(conn);
            }
            self.after_flows.push((dpid, msg));
        }
        self.spare = out;
    }

    fn send_batch(&mut self, dpid: u64, msgs: impl IntoIterator<Item = Out>) {
        let Some(&conn) = self.by_dpid.get(&dpid) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&conn) else {
            return;
        };
        if !s.is_ready() {
            return;
        }
        for m in msgs {
            match m {
                Out::Msg(m) => {
                    if matches!(m, Message::FlowMod(_)) {
                        self.counters.flow_mods += 1;
                    }
                    s.send(m);
                }
                Out::Encoded(bytes) => {
                    s.send_encoded(&bytes);
                }
            }
        }
        self.pending.push(conn);
    }

    /// The counters for the API.
    pub fn stats(&self) -> model::ControllerStats {
        let f = &self.forwarding.stats;
        let m = self
            .forwarding
            .multipath()
            .map(|m| m.stats)
            .unwrap_or_default();
        model::ControllerStats {
            switches: self.topo.switches().len(),
            links: self.topo.links().len(),
            hosts: self.hosts.len(),
            paths: self.forwarding.path_count(),
            packet_in: self.counters.packet_in,
            sessions_failed: self.counters.sessions_failed,
            duplicate_datapaths: self.counters.duplicate_datapaths,
            lldp_foreign: self.discovery.foreign,
            lldp_malformed: self.discovery.malformed,
            proxy_arp: f.proxy_arp,
            flooded: f.flooded,
            paths_installed: f.paths_installed,
            paths_rerouted: f.paths_rerouted,
            unparsable: f.unparsable,
            floods_limited: f.floods_limited,
            flow_mods: self.counters.flow_mods,
            stats_poll_lag_ms: self.monitor.lag().as_millis() as u64,
            groups_reweighted: m.reweighted,
            groups_repaired: m.repaired,
            multipath_exhausted: m.exhausted,
        }
    }

    /// The switches and their ports, for the API.
    fn describe_switches(&self) -> Vec<model::Switch> {
        self.topo
            .switches()
            .iter()
            .map(|(&dpid, sw)| model::Switch {
                dpid: model::Dpid(dpid),
                ports: sw
                    .ports
                    .values()
                    .map(|p| model::PortView {
                        port_no: p.port_no,
                        name: p.name.clone(),
                        hw_addr: p.hw_addr.to_string(),
                        up: p.is_up(),
                        curr_speed_kbps: p.curr_speed,
                    })
                    .collect(),
            })
            .collect()
    }

    /// A snapshot of switches, links and hosts for the API. The switches'
    /// ports are described again only after something changed (at 1,000
    /// switches x 48 ports that takes 13-16 ms, a stall every polling
    /// round if done for every new set of rates).
    pub fn view(&self) -> model::Topology {
        let switches = {
            let mut cached = self.switch_views.borrow_mut();
            match &*cached {
                Some((version, views)) if *version == self.version => Arc::clone(views),
                _ => {
                    let views = Arc::new(self.describe_switches());
                    *cached = Some((self.version, Arc::clone(&views)));
                    views
                }
            }
        };
        let end = |p: PortRef| model::End {
            dpid: model::Dpid(p.dpid),
            port_no: p.port,
        };
        let links = self
            .topo
            .links()
            .into_iter()
            .map(|l| {
                // A direction's load is what its source port transmits.
                let rates = self.monitor.rates(l.src);
                model::LinkView {
                    src: end(l.src),
                    dst: end(l.dst),
                    tx_bps: rates.map(|r| r.tx_bps),
                    utilization: rates.and_then(PortRates::tx_utilization),
                    capacity_bps: self.speed_bps(l.src),
                    forecast: None,
                }
            })
            .collect();
        let hosts = self
            .hosts
            .iter()
            .map(|h| {
                // The host port's tx is what the host receives, its rx what it sends.
                let rates = self.monitor.rates(h.at);
                model::HostView {
                    mac: h.mac.to_string(),
                    ips: h.ips.iter().map(|ip| ip.to_string()).collect(),
                    dpid: model::Dpid(h.at.dpid),
                    port_no: h.at.port,
                    tx_bps: rates.map(|r| r.rx_bps),
                    rx_bps: rates.map(|r| r.tx_bps),
                    speed_bps: self.speed_bps(h.at),
                }
            })
            .collect();
        let groups = self
            .forwarding
            .multipath()
            .map(|m| m.view())
            .unwrap_or_default()
            .into_iter()
            .map(|g| model::GroupView {
                src: model::Dpid(g.src),
                dst: model::Dpid(g.dst),
                group_id: g.group_id,
                paths: g
                    .paths
                    .into_iter()
                    .map(|p| model::WeightedPath {
                        tag: p.tag,
                        hops: p.links.iter().map(|l| end(l.src)).collect(),
                        weight: p.weight,
                        rate_bps: p.rate_bps,
                    })
                    .collect(),
            })
            .collect();
        model::Topology {
            ready: true,
            switches,
            links,
            hosts,
            groups,
            nodes: self.node_views(),
            placements: self.placements.views(),
        }
    }
}
