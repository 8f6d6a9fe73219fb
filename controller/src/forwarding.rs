//! Forwarding policy: proxy ARP, loop-free flooding, shortest-path unicast.
//!
//! * Broadcast and multicast from a host reach the controller (table-miss).
//!   An ARP request for a known address is answered by the controller
//!   (proxy ARP); anything else is flooded along a spanning tree of the
//!   discovered links: the controller sends it out of the ingress switch's
//!   tree and edge ports, and every switch holds flood flows that forward
//!   group-addressed frames arriving on a tree port to its other tree ports
//!   and its edge ports, and drop those arriving on a link that is not on
//!   the tree. No frame can circle, whatever loops the fabric has.
//! * Unicast between two known hosts on different switches enters, at the
//!   ingress switch, the group that spreads traffic over weighted paths to
//!   the egress switch (its spreading table, then the select group or, for
//!   UDP, a path; [`crate::multipath`]); the ingress flow is
//!   matched on the MAC pair and the host port. Without multipath (turned
//!   off, or path tags ran out) a pair gets flows on every switch of one
//!   shortest path, both directions; among equal-cost paths the choice
//!   follows where the hosts sit ([`Forwarding::spread`]), so host pairs
//!   spread over every link of a fat-tree. The first packet is delivered
//!   straight to the destination port, so it never races the flows being
//!   installed.
//! * When links go away, groups replace the paths that used them and
//!   single-path pairs move to another shortest path, at once.
//!
//! Everything here is a function of the topology and host tables that
//! returns messages through an [`Outbox`]; nothing here sends.

use crate::hosts::{HostTable, Learned};
use crate::multipath::{self, Multipath, MultipathConfig, DELIVERY_TABLE};
use crate::outbox::Outbox;
use crate::placement::Installed;
use crate::session::flow_mod_defaults;
use crate::topology::{Link, PortRef, Topology};
use ahash::{AHashMap as HashMap, AHashSet as HashSet};
use edgeflow_proto::ofp::{
    self, Action, FlowMod, FlowModCommand, FlowRemoved, FlowRemovedReason, Instruction, Match,
    Message, Oxm, PacketOut,
};
use edgeflow_proto::packet::{arp_frame, ethertype, ArpOp, ArpRepr, PacketSummary, L3};
use edgeflow_proto::MacAddr;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Instant;

/// Cookie of the LLDP-to-controller flow.
pub const COOKIE_LLDP: u64 = 0x0200_0000_0000_0000;
/// Cookie of flood flows.
pub const COOKIE_FLOOD: u64 = 0x0300_0000_0000_0000;
/// Cookie of host-pair path flows.
pub const COOKIE_PATH: u64 = 0x0400_0000_0000_0000;
/// Mask selecting the kind byte of a cookie.
pub(crate) const COOKIE_KIND_MASK: u64 = 0xff00_0000_0000_0000;

const PRIORITY_LLDP: u16 = 0xffff;
/// Placement routes (IP pairs) win over host-pair flows (MAC pairs).
const PRIORITY_ROUTE: u16 = 1500;
const PRIORITY_PATH: u16 = 1000;
const PRIORITY_FLOOD: u16 = 100;
/// OFPFF_SEND_FLOW_REM: tell the controller when the flow expires.
const FLAG_SEND_FLOW_REM: u16 = 1;
/// The group bit of an Ethernet address, as a match mask.
const GROUP_BIT: MacAddr = MacAddr([1, 0, 0, 0, 0, 0]);

/// Frames for unknown hosts one host port may have flooded at once
/// (`burst`), and per second after that (`per_s`). Each costs a PACKET_OUT
/// to every switch with hosts: a host sending to addresses nobody has, at
/// line rate, would otherwise keep the controller writing to the whole
/// fabric. Hosts that answer ARP are learned, so what this holds back is
/// traffic no host would have taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodLimit {
    /// Frames at once.
    pub burst: f64,
    /// Frames per second after the burst.
    pub per_s: f64,
}

impl Default for FloodLimit {
    fn default() -> Self {
        FloodLimit {
            burst: 32.0,
            per_s: 16.0,
        }
    }
}

/// A token bucket: tokens left, and when it was last topped up.
#[derive(Debug, Clone, Copy)]
struct Budget {
    tokens: f64,
    at: Instant,
}

impl Budget {
    /// Takes a token if there is one, after adding those `limit` earned
    /// since `at`.
    fn take(&mut self, limit: FloodLimit, now: Instant) -> bool {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() * limit.per_s;
        self.tokens = (self.tokens + earned).min(limit.burst);
        self.at = now;
        let ok = self.tokens >= 1.0;
        if ok {
            self.tokens -= 1.0;
        }
        ok
    }
}

/// Forwarding settings.
#[derive(Debug, Clone, Copy)]
pub struct ForwardingConfig {
    /// Idle timeout of path flows, in seconds.
    pub idle_timeout: u16,
    /// Weighted multipath between switches; None forwards each pair on one path.
    pub multipath: Option<MultipathConfig>,
    /// Flooding of frames for unknown hosts, per host port.
    pub unknown_flood: FloodLimit,
}

/// Where a hop sends a pair's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Via {
    /// Out of a port.
    Port(u32),
    /// Into a multipath group (its spreading table, see [`multipath::entry`]).
    Group(u32),
}

/// One switch's part of a path: where the traffic leaves it, and at the
/// ingress switch also the host port it must come from (so that a host that
/// moves to another port misses the flow and is learned again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Hop {
    dpid: u64,
    in_port: Option<u32>,
    out: Via,
}

impl Hop {
    /// The match of this hop's flow for traffic from `src` to `dst`.
    fn flow_match(&self, src: MacAddr, dst: MacAddr) -> Match {
        let mut fields = Vec::with_capacity(3);
        if let Some(p) = self.in_port {
            fields.push(Oxm::InPort(p));
        }
        fields.extend([Oxm::EthSrc(src, None), Oxm::EthDst(dst, None)]);
        Match { fields }
    }
}

/// A path's hops from host port `from` to host port `to`, through the
/// switches and out ports between them; an iterator, so that the PACKET_IN
/// of a pair whose path is unchanged builds nothing.
fn hops(
    from: PortRef,
    through: impl Iterator<Item = (u64, u32)> + Clone,
    to: PortRef,
) -> impl Iterator<Item = Hop> + Clone {
    through
        .chain(std::iter::once((to.dpid, to.port)))
        .enumerate()
        .map(move |(i, (dpid, out_port))| Hop {
            dpid,
            in_port: (i == 0).then_some(from.port),
            out: Via::Port(out_port),
        })
}

/// The flood ports of one switch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct FloodPlan {
    /// Link ports on the spanning tree.
    tree: Vec<u32>,
    /// Link ports off the tree: group-addressed frames arriving there are dropped.
    blocked: Vec<u32>,
    /// Ports to hosts.
    edge: Vec<u32>,
}

/// Counters for operators.
#[derive(Debug, Default, Clone, Copy)]
pub struct ForwardingStats {
    /// ARP requests answered by the controller.
    pub proxy_arp: u64,
    /// Frames flooded along the tree.
    pub flooded: u64,
    /// Host-pair paths installed (each direction counts once).
    pub paths_installed: u64,
    /// Paths moved after a link failure.
    pub paths_rerouted: u64,
    /// PACKET_INs whose payload could not be parsed.
    pub unparsable: u64,
    /// Frames for unknown hosts not flooded: their host port was over its
    /// flooding rate.
    pub floods_limited: u64,
}

/// Forwarding state: the flood plan installed on each switch and the path of
/// each host pair.
#[derive(Debug)]
pub struct Forwarding {
    config: ForwardingConfig,
    flood: HashMap<u64, FloodPlan>,
    paths: HashMap<(MacAddr, MacAddr), Vec<Hop>>,
    multipath: Option<Multipath>,
    /// Where each host's delivery flow (multipath egress) sends its frames.
    delivery: HashMap<MacAddr, PortRef>,
    /// What each host port may still flood for unknown hosts.
    flood_budgets: HashMap<PortRef, Budget>,
    /// Counters.
    pub stats: ForwardingStats,
}

/// A stable hash of a host pair.
fn pair_hash(a: MacAddr, b: MacAddr) -> u64 {
    splitmix64(splitmix64(a.to_u64()) ^ b.to_u64())
}

/// A fast, well-mixed 64-bit hash (SplitMix64 finaliser).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn output(port: u32) -> Action {
    Action::Output { port, max_len: 0 }
}

fn packet_out(in_port: u32, actions: Vec<Action>, data: Vec<u8>) -> Message {
    Message::PacketOut(PacketOut {
        buffer_id: ofp::NO_BUFFER,
        in_port,
        actions,
        data,
    })
}

impl Forwarding {
    /// Empty forwarding state.
    pub fn new(config: ForwardingConfig) -> Forwarding {
        Forwarding {
            config,
            flood: HashMap::new(),
            paths: HashMap::new(),
            multipath: config.multipath.map(Multipath::new),
            delivery: HashMap::new(),
            flood_budgets: HashMap::new(),
            stats: ForwardingStats::default(),
        }
    }

    /// The hosts whose traffic flows carry (their pairs' flows are
    /// installed and have not idled out).
    pub fn active_hosts(&self) -> HashSet<MacAddr> {
        self.paths.keys().flat_map(|&(s, d)| [s, d]).collect()
    }

    /// The groups that host-pair flows send into.
    pub fn group_refs(&self) -> impl Iterator<Item = u32> + '_ {
        self.paths.values().flatten().filter_map(|h| match h.out {
            Via::Group(g) => Some(g),
            Via::Port(_) => None,
        })
    }

    /// The multipath groups, when multipath is on.
    pub fn multipath(&self) -> Option<&Multipath> {
        self.multipath.as_ref()
    }

    /// The multipath groups, to feed statistics and rebalancing.
    pub fn multipath_mut(&mut self) -> Option<&mut Multipath> {
        self.multipath.as_mut()
    }

    /// Number of host-pair paths (one per direction) currently installed.
    pub fn path_count(&self) -> usize {
        self.paths.len()
    }

    /// The flows a switch gets when it becomes ready: LLDP to the
    /// controller, and again the flows of every pair whose path crosses it
    /// (a switch that reconnects comes back with an empty table).
    pub fn switch_ready(
        &mut self,
        dpid: u64,
        topo: &Topology,
        hosts: &HostTable,
        out: &mut Outbox,
    ) {
        self.flood.remove(&dpid);
        if let Some(mp) = self.multipath.as_mut() {
            mp.switch_reset(dpid, out);
        }
        let through = self.pairs_through(dpid);
        for k in &through {
            self.paths.remove(k);
        }
        for (&mac, &at) in self.delivery.iter().filter(|(_, at)| at.dpid == dpid) {
            out.push(dpid, delivery_flow(mac, at.port));
        }
        out.push(
            dpid,
            Message::FlowMod(FlowMod {
                cookie: COOKIE_LLDP,
                priority: PRIORITY_LLDP,
                match_: Match {
                    fields: vec![Oxm::EthType(ethertype::LLDP)],
                },
                instructions: vec![Instruction::ApplyActions(vec![Action::Output {
                    port: ofp::port::CONTROLLER,
                    max_len: ofp::CML_NO_BUFFER,
                }])],
                ..flow_mod_defaults()
            }),
        );
        self.reroute(through, topo, hosts, out);
    }

    /// The directed pairs whose paths cross switch `dpid`.
    fn pairs_through(&self, dpid: u64) -> Vec<(MacAddr, MacAddr)> {
        self.paths
            .iter()
            .filter(|(_, hops)| hops.iter().any(|h| h.dpid == dpid))
            .map(|(k, _)| *k)
            .collect()
    }

    /// A switch left: its flood plan and the paths through it are gone;
    /// paths that crossed it move elsewhere.
    pub fn switch_gone(&mut self, dpid: u64, topo: &Topology, hosts: &HostTable, out: &mut Outbox) {
        self.flood.remove(&dpid);
        if let Some(mp) = self.multipath.as_mut() {
            mp.switch_reset(dpid, out);
        }
        self.delivery.retain(|_, at| at.dpid != dpid);
        self.flood_budgets.retain(|at, _| at.dpid != dpid);
        let affected = self.pairs_through(dpid);
        self.reroute(affected, topo, hosts, out);
    }

    /// Brings every switch's flood flows in line with the current spanning
    /// tree and edge ports; only switches whose plan changed get messages.
    pub fn refresh_flooding(&mut self, topo: &Topology, out: &mut Outbox) {
        let tree = topo.tree_ports();
        for &dpid in topo.switches().keys() {
            let (tree_ports, blocked): (Vec<u32>, Vec<u32>) = topo
                .link_ports(dpid)
                .into_iter()
                .partition(|&port| tree.contains(&PortRef { dpid, port }));
            let plan = FloodPlan {
                tree: tree_ports,
                blocked,
                edge: topo.edge_ports(dpid),
            };
            if self.flood.get(&dpid) == Some(&plan) {
                continue;
            }
            out.push(
                dpid,
                Message::FlowMod(FlowMod {
                    cookie: COOKIE_FLOOD,
                    cookie_mask: COOKIE_KIND_MASK,
                    table_id: ofp::table::ALL,
                    command: FlowModCommand::Delete,
                    ..flow_mod_defaults()
                }),
            );
            for &port in plan.tree.iter().chain(&plan.blocked) {
                let actions = if plan.tree.contains(&port) {
                    plan.tree
                        .iter()
                        .chain(&plan.edge)
                        .filter(|&&p| p != port)
                        .map(|&p| output(p))
                        .collect()
                } else {
                    Vec::new()
                };
                out.push(
                    dpid,
                    Message::FlowMod(FlowMod {
                        cookie: COOKIE_FLOOD,
                        priority: PRIORITY_FLOOD,
                        match_: Match {
                            fields: vec![
                                Oxm::InPort(port),
                                Oxm::EthDst(GROUP_BIT, Some(GROUP_BIT)),
                            ],
                        },
                        instructions: vec![Instruction::ApplyActions(actions)],
                        ..flow_mod_defaults()
                    }),
                );
            }
            self.flood.insert(dpid, plan);
        }
        self.flood
            .retain(|dpid, _| topo.switches().contains_key(dpid));
    }

    /// Handles a frame that is not LLDP, parsed as `pkt`, that entered at
    /// `at`; returns true if the host table changed (a new host, address or
    /// location).
    #[allow(clippy::too_many_arguments)]
    pub fn packet_in(
        &mut self,
        topo: &Topology,
        hosts: &mut HostTable,
        at: PortRef,
        pkt: PacketSummary,
        data: Vec<u8>,
        now: Instant,
        out: &mut Outbox,
    ) -> bool {
        let (dpid, in_port) = (at.dpid, at.port);
        let mut hosts_changed = false;
        let edge = topo.switches().contains_key(&dpid) && !topo.is_link_port(at);
        let (src, dst) = (pkt.eth.src, pkt.eth.dst);
        // The host table knows no VLANs: a host's addresses are learned, and
        // ARP answered for it, from untagged frames only. A tagged frame (a
        // host's VLAN interface) teaches where its MAC is; its ARP goes to
        // the VLAN's hosts, which answer in their VLAN.
        let untagged = pkt.eth.vlan.is_none();
        if edge && !src.is_multicast() {
            let src_ip = match &pkt.l3 {
                _ if !untagged => None,
                L3::Arp(a) => Some(IpAddr::V4(a.spa)),
                L3::Ipv4 { src, .. } => Some(IpAddr::V4(*src)),
                L3::Ipv6 { src, .. } if !src.is_unicast_link_local() => Some(IpAddr::V6(*src)),
                _ => None,
            };
            match hosts.learn(src, src_ip, at, now) {
                Learned::Known | Learned::Refused => {}
                Learned::New => hosts_changed = true,
                Learned::Moved { .. } => {
                    hosts_changed = true;
                    self.host_moved(src, topo, out);
                }
            }
        }
        if dst.is_multicast() {
            // Group-addressed frames from a link port were already flooded by
            // the flood flows; sending them on again could loop.
            if !edge {
                return hosts_changed;
            }
            if let L3::Arp(arp) = &pkt.l3 {
                if untagged
                    && arp.op == ArpOp::Request
                    && self.proxy_arp(hosts, dpid, in_port, arp, out)
                {
                    return hosts_changed;
                }
            }
            self.flood(topo, dpid, in_port, data, out);
            return hosts_changed;
        }
        let Some(dst_host) = hosts.get(&dst) else {
            if edge {
                let limit = self.config.unknown_flood;
                let budget = self.flood_budgets.entry(at).or_insert(Budget {
                    tokens: limit.burst,
                    at: now,
                });
                if budget.take(limit, now) {
                    self.flood_unknown_unicast(dpid, in_port, &data, out);
                } else {
                    self.stats.floods_limited += 1;
                }
            }
            return hosts_changed;
        };
        let dst_at = dst_host.at;
        if let Some(src_host) = hosts.get(&src) {
            // A PACKET_IN for a known pair means its flows are missing
            // somewhere (expired, or wiped by a reconnecting switch): send
            // them again even if the path is unchanged.
            let src_at = src_host.at;
            self.install_pair(topo, src, src_at, dst, dst_at, Some((src, dst)), out);
        }
        // A frame that reached a switch of its path before the path's flow
        // there (each switch applies its batch on its own), or after it was
        // lost, still carries the path's tag, which the host must not see;
        // the flow is sent again.
        let tagged = !edge
            && pkt.eth.vlan.is_some_and(|v| {
                self.multipath
                    .as_ref()
                    .is_some_and(|m| m.restore_path_flow(at, v.vid, dst_at.dpid, out))
            });
        let deliver = if tagged {
            vec![Action::PopVlan, output(dst_at.port)]
        } else {
            vec![output(dst_at.port)]
        };
        out.push_after_flows(
            dst_at.dpid,
            packet_out(ofp::port::CONTROLLER, deliver, data),
        );
        hosts_changed
    }

    /// Answers an ARP request for a known address; false if it is unknown.
    fn proxy_arp(
        &mut self,
        hosts: &HostTable,
        dpid: u64,
        in_port: u32,
        req: &ArpRepr,
        out: &mut Outbox,
    ) -> bool {
        let Some(target) = hosts.mac_of(&IpAddr::V4(req.tpa)) else {
            return false;
        };
        if target == req.sha {
            return false; // a host probing its own address (duplicate address detection)
        }
        let reply = ArpRepr {
            op: ArpOp::Reply,
            sha: target,
            spa: req.tpa,
            tha: req.sha,
            tpa: req.spa,
        };
        let frame = arp_frame(target, req.sha, &reply);
        out.push(
            dpid,
            packet_out(ofp::port::CONTROLLER, vec![output(in_port)], frame),
        );
        self.stats.proxy_arp += 1;
        true
    }

    /// Sends a frame that entered at `dpid`/`in_port` out of the switch's
    /// tree and edge ports; the flood flows carry it on from there.
    fn flood(&mut self, topo: &Topology, dpid: u64, in_port: u32, data: Vec<u8>, out: &mut Outbox) {
        let Some(plan) = self.flood.get(&dpid) else {
            return;
        };
        let actions: Vec<Action> = plan
            .tree
            .iter()
            .chain(&plan.edge)
            .filter(|&&p| p != in_port)
            .map(|&p| output(p))
            .collect();
        if actions.is_empty() || !topo.switches().contains_key(&dpid) {
            return;
        }
        out.push(dpid, packet_out(in_port, actions, data));
        self.stats.flooded += 1;
    }

    /// Delivers a frame for an unknown host straight to every edge port but
    /// the one it came from. Flood flows only carry group-addressed frames,
    /// so a unicast frame is not sent across links where it would miss.
    fn flood_unknown_unicast(&mut self, dpid: u64, in_port: u32, data: &[u8], out: &mut Outbox) {
        for (&sw, plan) in &self.flood {
            let actions: Vec<Action> = plan
                .edge
                .iter()
                .filter(|&&p| !(sw == dpid && p == in_port))
                .map(|&p| output(p))
                .collect();
            if !actions.is_empty() {
                out.push(
                    sw,
                    packet_out(ofp::port::CONTROLLER, actions, data.to_vec()),
                );
            }
        }
        self.stats.flooded += 1;
    }

    /// How a pair starting at `from` chooses among equal-cost next hops: at
    /// the first hop by the host's rank among its switch's edge ports, at the
    /// second by its switch's rank, further on by a hash of the pair. So the
    /// hosts of one switch leave by different uplinks and the switches of one
    /// pod by different cores (deterministic spreading in the manner of
    /// Al-Fares et al.'s two-level fat-tree routing), where a hash alone
    /// often stacks two busy hosts on one uplink.
    fn spread<'a>(
        &'a self,
        topo: &'a Topology,
        from: PortRef,
        a: MacAddr,
        b: MacAddr,
    ) -> impl FnMut(usize, usize) -> usize + 'a {
        let plan = self.flood.get(&from.dpid);
        let port_rank = move || {
            plan.and_then(|plan| plan.edge.iter().position(|&p| p == from.port))
                .unwrap_or(0)
        };
        // The ranks cost a scan each: computed only for hops with a choice.
        let switch_rank = move || topo.switches().range(..from.dpid).count();
        let hash = pair_hash(a, b);
        move |hop, n| {
            if n == 1 {
                return 0;
            }
            let digit = match hop {
                0 => port_rank() as u64,
                1 => switch_rank() as u64,
                _ => hash.rotate_left(8 * hop as u32),
            };
            (digit % n as u64) as usize
        }
    }

    /// Installs the flows of both directions between two hosts. A direction
    /// whose path is unchanged gets no messages, unless it is `refresh`, the
    /// direction whose flows are known to be missing (its traffic reached
    /// the controller): a PACKET_IN says nothing of the other direction.
    #[allow(clippy::too_many_arguments)]
    fn install_pair(
        &mut self,
        topo: &Topology,
        a: MacAddr,
        a_at: PortRef,
        b: MacAddr,
        b_at: PortRef,
        refresh: Option<(MacAddr, MacAddr)>,
        out: &mut Outbox,
    ) -> bool {
        // Both directions follow one path, chosen from the lower address's side.
        let ((a, a_at), (b, b_at)) = if a < b {
            ((a, a_at), (b, b_at))
        } else {
            ((b, b_at), (a, a_at))
        };
        if self.install_multipath(topo, (a, a_at), (b, b_at), refresh, out) {
            return true;
        }
        let links = if a_at.dpid == b_at.dpid {
            Vec::new()
        } else {
            let Some(links) = topo.path(a_at.dpid, b_at.dpid, self.spread(topo, a_at, a, b)) else {
                return false;
            };
            links
        };
        let there = links.iter().map(|l| (l.src.dpid, l.src.port));
        let back = links.iter().rev().map(|l| (l.dst.dpid, l.dst.port));
        self.install_direction(a, b, hops(a_at, there, b_at), refresh == Some((a, b)), out);
        self.install_direction(b, a, hops(b_at, back, a_at), refresh == Some((b, a)), out);
        true
    }

    /// Installs both directions between hosts on different switches through
    /// their switches' select groups; false if multipath is off or has no
    /// group for them (the same switch, no path, or tags ran out).
    fn install_multipath(
        &mut self,
        topo: &Topology,
        (a, a_at): (MacAddr, PortRef),
        (b, b_at): (MacAddr, PortRef),
        refresh: Option<(MacAddr, MacAddr)>,
        out: &mut Outbox,
    ) -> bool {
        let Some(mp) = self.multipath.as_mut() else {
            return false;
        };
        if a_at.dpid == b_at.dpid {
            return false;
        }
        let (Some(there), Some(back)) = (
            mp.group_for(topo, a_at.dpid, b_at.dpid, out),
            mp.group_for(topo, b_at.dpid, a_at.dpid, out),
        ) else {
            return false;
        };
        for (mac, at) in [(a, a_at), (b, b_at)] {
            let missing = refresh.is_some_and(|(_, dst)| dst == mac);
            self.deliver(mac, at, missing, out);
        }
        for (src, src_at, dst, group) in [(a, a_at, b, there), (b, b_at, a, back)] {
            let hop = Hop {
                dpid: src_at.dpid,
                in_port: Some(src_at.port),
                out: Via::Group(group),
            };
            self.install_direction(
                src,
                dst,
                std::iter::once(hop),
                refresh == Some((src, dst)),
                out,
            );
        }
        true
    }

    /// Installs the delivery flow of a host at `at` unless it is there
    /// already (or unless `force`: it is known to be missing).
    fn deliver(&mut self, mac: MacAddr, at: PortRef, force: bool, out: &mut Outbox) {
        if force || self.delivery.get(&mac) != Some(&at) {
            out.push(at.dpid, delivery_flow(mac, at.port));
            self.delivery.insert(mac, at);
        }
    }

    /// Installs one direction's flows, removing those of an older path that
    /// the new one no longer crosses.
    fn install_direction(
        &mut self,
        src: MacAddr,
        dst: MacAddr,
        hops: impl Iterator<Item = Hop> + Clone,
        refresh: bool,
        out: &mut Outbox,
    ) {
        let old = self.paths.get(&(src, dst));
        let unchanged = old.is_some_and(|old| old.iter().copied().eq(hops.clone()));
        if unchanged && !refresh {
            return;
        }
        if let Some(old) = old.filter(|_| !unchanged) {
            // Flows of the old path that the new one does not overwrite.
            let kept: HashSet<(u64, Option<u32>)> =
                hops.clone().map(|h| (h.dpid, h.in_port)).collect();
            for h in old.iter().filter(|h| !kept.contains(&(h.dpid, h.in_port))) {
                out.push(h.dpid, delete_flow(h.flow_match(src, dst)));
            }
            self.stats.paths_rerouted += 1;
        }
        for (i, h) in hops.clone().enumerate() {
            out.push(
                h.dpid,
                Message::FlowMod(FlowMod {
                    cookie: COOKIE_PATH,
                    idle_timeout: self.config.idle_timeout,
                    priority: PRIORITY_PATH,
                    // The ingress flow reports its expiry, which ends the pair's record.
                    flags: if i == 0 { FLAG_SEND_FLOW_REM } else { 0 },
                    match_: h.flow_match(src, dst),
                    instructions: match h.out {
                        Via::Port(p) => vec![Instruction::ApplyActions(vec![output(p)])],
                        Via::Group(g) => multipath::entry(g),
                    },
                    ..flow_mod_defaults()
                }),
            );
        }
        self.stats.paths_installed += 1;
        if !unchanged {
            self.paths.insert((src, dst), hops.collect());
        }
    }

    /// Links disappeared: every pair whose path used one moves to another
    /// path (or loses its flows if its hosts are now unreachable).
    pub fn links_removed(
        &mut self,
        removed: &[Link],
        topo: &Topology,
        hosts: &HostTable,
        out: &mut Outbox,
    ) {
        if removed.is_empty() {
            return;
        }
        let dead: HashSet<(u64, Via)> = removed
            .iter()
            .flat_map(|l| {
                [
                    (l.src.dpid, Via::Port(l.src.port)),
                    (l.dst.dpid, Via::Port(l.dst.port)),
                ]
            })
            .chain(self.multipath.as_mut().into_iter().flat_map(|mp| {
                mp.links_removed(removed, topo, out)
                    .into_iter()
                    .map(|(dpid, id)| (dpid, Via::Group(id)))
            }))
            .collect();
        self.reroute_dead(dead, topo, hosts, out);
    }

    /// Links appeared: groups take their new best paths.
    pub fn links_added(&mut self, topo: &Topology, hosts: &HostTable, out: &mut Outbox) {
        let Some(mp) = self.multipath.as_mut() else {
            return;
        };
        let dead: HashSet<(u64, Via)> = mp
            .links_added(topo, out)
            .into_iter()
            .map(|(dpid, id)| (dpid, Via::Group(id)))
            .collect();
        self.reroute_dead(dead, topo, hosts, out);
    }

    /// Moves every pair whose path sends out of a dead port or into a removed group.
    fn reroute_dead(
        &mut self,
        dead: HashSet<(u64, Via)>,
        topo: &Topology,
        hosts: &HostTable,
        out: &mut Outbox,
    ) {
        if dead.is_empty() {
            return;
        }
        let affected: Vec<_> = self
            .paths
            .iter()
            .filter(|(_, hops)| hops.iter().any(|h| dead.contains(&(h.dpid, h.out))))
            .map(|(k, _)| *k)
            .collect();
        self.reroute(affected, topo, hosts, out);
    }

    fn reroute(
        &mut self,
        pairs: Vec<(MacAddr, MacAddr)>,
        topo: &Topology,
        hosts: &HostTable,
        out: &mut Outbox,
    ) {
        // Both directions of a pair move together; visit each pair once.
        let unordered: BTreeSet<(MacAddr, MacAddr)> = pairs
            .into_iter()
            .map(|(a, b)| if a < b { (a, b) } else { (b, a) })
            .collect();
        for (a, b) in unordered {
            let placed = match (hosts.get(&a), hosts.get(&b)) {
                (Some(ha), Some(hb)) => self.install_pair(topo, a, ha.at, b, hb.at, None, out),
                _ => false,
            };
            if !placed {
                for (s, d) in [(a, b), (b, a)] {
                    if let Some(hops) = self.paths.remove(&(s, d)) {
                        for h in hops {
                            out.push(h.dpid, delete_flow(h.flow_match(s, d)));
                        }
                    }
                }
            }
        }
    }

    /// Installs a placement route: a flow at the source host's port, matched
    /// on the IP pair, into the multipath group towards the destination's
    /// switch (or to the destination's port on the same switch), carrying
    /// `cookie`. Errs with the reason when it cannot be installed yet.
    pub fn install_route(
        &mut self,
        topo: &Topology,
        hosts: &HostTable,
        (src, dst): (IpAddr, IpAddr),
        cookie: u64,
        out: &mut Outbox,
    ) -> Result<Installed, String> {
        let locate = |ip: &IpAddr, what: &str| {
            hosts
                .mac_of(ip)
                .and_then(|mac| hosts.get(&mac))
                .map(|h| (h.mac, h.at))
                .ok_or_else(|| format!("{what} {ip} has not been seen on the network yet"))
        };
        let (_, src_at) = locate(&src, "source")?;
        let (dst_mac, dst_at) = locate(&dst, "destination")?;
        let match_ = route_match(src_at.port, src, dst)
            .ok_or_else(|| format!("{src} and {dst} are of different IP versions"))?;
        let (instructions, group) = if src_at.dpid == dst_at.dpid {
            (
                vec![Instruction::ApplyActions(vec![output(dst_at.port)])],
                None,
            )
        } else {
            let mp = self
                .multipath
                .as_mut()
                .ok_or("routes between switches need multipath (multipath = true)")?;
            let g = mp
                .group_for(topo, src_at.dpid, dst_at.dpid, out)
                .ok_or_else(|| {
                    format!("no path from {:016x} to {:016x}", src_at.dpid, dst_at.dpid)
                })?;
            self.deliver(dst_mac, dst_at, true, out);
            (multipath::entry(g), Some(g))
        };
        out.push(
            src_at.dpid,
            Message::FlowMod(FlowMod {
                cookie,
                priority: PRIORITY_ROUTE,
                match_,
                instructions,
                ..flow_mod_defaults()
            }),
        );
        Ok(Installed {
            ingress: src_at,
            egress: dst_at.dpid,
            deliver: dst_at,
            group,
        })
    }

    /// Whether an installed route still matches the network: both hosts
    /// where they were, and the same group between their switches.
    pub fn route_current(
        &self,
        hosts: &HostTable,
        (src, dst): (IpAddr, IpAddr),
        i: &Installed,
    ) -> bool {
        let at = |ip: &IpAddr| hosts.mac_of(ip).and_then(|m| hosts.get(&m)).map(|h| h.at);
        at(&src) == Some(i.ingress)
            && at(&dst) == Some(i.deliver)
            && (i.ingress.dpid == i.egress
                || self
                    .multipath()
                    .and_then(|m| m.group_id(i.ingress.dpid, i.egress))
                    == i.group)
    }

    /// Removes an installed route's flow from its ingress switch.
    pub fn remove_route(
        &self,
        (src, dst): (IpAddr, IpAddr),
        i: &Installed,
        cookie: u64,
        out: &mut Outbox,
    ) {
        if let Some(match_) = route_match(i.ingress.port, src, dst) {
            out.push(
                i.ingress.dpid,
                Message::FlowMod(FlowMod {
                    cookie,
                    cookie_mask: u64::MAX,
                    command: FlowModCommand::DeleteStrict,
                    priority: PRIORITY_ROUTE,
                    match_,
                    ..flow_mod_defaults()
                }),
            );
        }
    }

    /// Removes every flow carrying exactly `cookie` from every switch.
    pub fn remove_cookie(&self, cookie: u64, topo: &Topology, out: &mut Outbox) {
        for &dpid in topo.switches().keys() {
            out.push(
                dpid,
                Message::FlowMod(FlowMod {
                    cookie,
                    cookie_mask: u64::MAX,
                    table_id: ofp::table::ALL,
                    command: FlowModCommand::Delete,
                    ..flow_mod_defaults()
                }),
            );
        }
    }

    /// Hosts that turned out not to be hosts (learned on what is now known
    /// to be a link port): their flows go, as for a host that moved.
    pub fn forget_hosts(&mut self, macs: &[MacAddr], topo: &Topology, out: &mut Outbox) {
        for &mac in macs {
            self.host_moved(mac, topo, out);
        }
    }

    /// A host moved: the flows to and from it point at the old place.
    fn host_moved(&mut self, mac: MacAddr, topo: &Topology, out: &mut Outbox) {
        self.paths.retain(|(s, d), _| *s != mac && *d != mac);
        self.delivery.remove(&mac);
        for &dpid in topo.switches().keys() {
            for fields in [vec![Oxm::EthDst(mac, None)], vec![Oxm::EthSrc(mac, None)]] {
                out.push(
                    dpid,
                    Message::FlowMod(FlowMod {
                        cookie: COOKIE_PATH,
                        cookie_mask: COOKIE_KIND_MASK,
                        table_id: ofp::table::ALL,
                        command: FlowModCommand::Delete,
                        match_: Match { fields },
                        ..flow_mod_defaults()
                    }),
                );
            }
        }
    }

    /// A flow expired: if it was the ingress flow of a pair, the pair is
    /// idle. Removals the controller asked for are not expiries: the pair
    /// may already have been installed again.
    pub fn flow_removed(&mut self, dpid: u64, fr: &FlowRemoved) {
        let expired = matches!(
            fr.reason,
            FlowRemovedReason::IdleTimeout | FlowRemovedReason::HardTimeout
        );
        if !expired || fr.cookie & COOKIE_KIND_MASK != COOKIE_PATH {
            return;
        }
        let (mut src, mut dst) = (None, None);
        for f in &fr.match_.fields {
            match f {
                Oxm::EthSrc(m, None) => src = Some(*m),
                Oxm::EthDst(m, None) => dst = Some(*m),
                _ => {}
            }
        }
        if let (Some(s), Some(d)) = (src, dst) {
            if self
                .paths
                .get(&(s, d))
                .and_then(|h| h.first())
                .map(|h| h.dpid)
                == Some(dpid)
            {
                self.paths.remove(&(s, d));
            }
        }
    }
}

/// The flow of a multipath egress switch that hands frames for a local host
/// (their path tag popped) to its port. It lives as long as the host stays.
fn delivery_flow(mac: MacAddr, port: u32) -> Message {
    Message::FlowMod(FlowMod {
        cookie: COOKIE_PATH,
        table_id: DELIVERY_TABLE,
        priority: PRIORITY_PATH,
        match_: Match {
            fields: vec![Oxm::EthDst(mac, None)],
        },
        instructions: vec![Instruction::ApplyActions(vec![output(port)])],
        ..flow_mod_defaults()
    })
}

/// The match of a placement route's flow: the host port and the IP pair;
/// None if the addresses are of different versions.
fn route_match(in_port: u32, src: IpAddr, dst: IpAddr) -> Option<Match> {
    let (ethertype, ips) = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (
            ethertype::IPV4,
            [Oxm::Ipv4Src(s, None), Oxm::Ipv4Dst(d, None)],
        ),
        (IpAddr::V6(s), IpAddr::V6(d)) => (
            ethertype::IPV6,
            [Oxm::Ipv6Src(s, None), Oxm::Ipv6Dst(d, None)],
        ),
        _ => return None,
    };
    let mut fields = vec![Oxm::InPort(in_port), Oxm::EthType(ethertype)];
    fields.extend(ips);
    Some(Match { fields })
}

/// Removes one path flow (exactly this match) from a switch.
fn delete_flow(match_: Match) -> Message {
    Message::FlowMod(FlowMod {
        cookie: COOKIE_PATH,
        cookie_mask: COOKIE_KIND_MASK,
        command: FlowModCommand::DeleteStrict,
        priority: PRIORITY_PATH,
        match_,
        ..flow_mod_defaults()
    })
}
