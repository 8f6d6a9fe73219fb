//! Weighted multipath between edge switches: an OpenFlow select group at the
//! ingress switch, VLAN path tags through the fabric.
//!
//! For traffic from hosts on switch S to hosts on switch D the controller
//! computes up to k loopless paths (Yen; none more than one hop longer than
//! the shortest) and gives each a path tag. S holds, per path, a
//! fast-failover group that pushes a VLAN header carrying the path's tag and
//! sends the frame out of the path's first link (while that is down, onto
//! the next path instead), and one select group for D with a
//! bucket per path that hands the frame to the path's group. Traffic for D
//! enters at [`SPREAD_TABLE`] (see [`entry`]): UDP goes to a path by the low
//! bits of its source port, in [`SPREAD_SLOTS`] slots (a flow each for IPv4
//! and IPv6) handed out to the paths in proportion to their weights, the
//! rest to the select group. (Open vSwitch's select groups hash TCP and
//! SCTP ports but not UDP's: all of a host pair's UDP, a VXLAN or Geneve
//! overlay between two nodes, QUIC, would take one path. Choosing the
//! hashed fields needs OpenFlow 1.5. A later fragment of a datagram carries
//! no ports, Open vSwitch reads 0: it takes slot 0's path.) The
//! path groups' buckets count each path's traffic, both kinds, and keep counting
//! when the select group's weights change (Open vSwitch clears a group's
//! counters when it is modified). Every later switch of the path forwards on the tag alone (one
//! flow per path and switch, shared by every host pair between S and D); D
//! pops the tag and hands the frame to [`DELIVERY_TABLE`], where one flow per
//! local host delivers it. So:
//! * a path is installed once for all host pairs between its ends;
//! * a frame's path is fixed at the ingress, where the switch hashes each
//!   flow's addresses and ports onto one bucket: a TCP connection stays on
//!   one path and is not reordered;
//! * changing the split is one GROUP_MOD MODIFY at the ingress, and the
//!   spreading flows of the slots that change paths, and touches no other
//!   switch; a path that loses a link is replaced in place.
//!
//! Why VLAN tags: MPLS would give 2^20 tags, but Open vSwitch's pop_mpls
//! needs the payload's ethertype, which the egress switch cannot know
//! without a label per payload type; popping a VLAN header needs nothing.
//! Per-hop select groups need no tag at all but cannot pin a flow to one of
//! the k paths (each hop would hash again). 12-bit VLAN ids bound the paths
//! installed at once to 4094; when they run out, a pair of switches falls
//! back to one shortest path with per-hop flows (see the forwarding module).
//!
//! The select group's bucket for a path watches the path's first port, so
//! the ingress switch itself skips a path whose first link went down. UDP,
//! whose flows name a path, goes through the path's group, which then sends
//! it on the next path whose first port is up; the controller moves the
//! slots when it hears of the failure. Any other failure (a later link of
//! the path, including the far end of another switch's first link) is
//! repaired as soon as the controller hears of it (PORT_STATUS or a missing
//! LLDP probe). When links appear, groups whose best paths changed take
//! them. A group that no
//! flow or placement route uses and that carried nothing for
//! [`IDLE_PERIODS`] rebalancing periods is removed and its tags freed.
//!
//! **Weights** start as an equal split over the shortest of the paths. Every
//! rebalancing period they are recomputed to minimise the maximum link
//! utilisation ([`heuristic::min_mlu`]): each group's demand is what its
//! paths carried (the path groups' statistics, polled with the port statistics) or
//! what placements expect between the two switches, whichever is larger, and
//! a link's background is its measured rate minus the traffic of the groups
//! crossing it and the error of their counters, no more than it was in the
//! previous period; where the link's forecast is above its rate, that rise
//! adds in the share of the link's traffic that no group carried over about
//! one forecast step (a forecast is of the whole link, the groups' own
//! traffic included: a forecast made while they were busy would otherwise
//! read as background once they went quiet, for the rest of its step).
//! Rates are measured over the whole period, the counters' error is taken
//! as half a second of the groups' traffic, and the background must last
//! two periods, because Open vSwitch credits a group's counters up to about
//! half a second after its ports' (longer when it is busy): over a short
//! window a transfer that starts or speeds up looks like traffic no group
//! carries.
//! A group's new weights go to the switch only when, by this model, they
//! lower the highest utilisation among the group's links by at least
//! [`MultipathConfig::min_gain`] against keeping its weights, the groups
//! judged one at a time, largest gain first, each against the weights of the
//! others as they stand ([`te::take_splits`]): changing weights moves
//! connections between paths, and measurement noise (or a demand too small
//! to matter) must not churn the groups. Groups too small to move their
//! busiest link by that much alone take their new weights together when,
//! together, they lower the fabric's highest utilisation by as much.

use crate::forwarding::COOKIE_KIND_MASK;
use crate::outbox::Outbox;
use crate::session::{self, flow_mod_defaults};
use crate::stats::Counter;
use crate::topology::{Link, PortRef, Topology};
use edgeflow_algorithms::te::{self, heuristic, quantize, Demand, Network, Path, Split};
use edgeflow_proto::ofp::{
    self, Action, Bucket, FlowMod, FlowModCommand, GroupMod, GroupModCommand, GroupStats,
    GroupType, Instruction, Match, Message, Oxm, OFPVID_PRESENT,
};
use edgeflow_proto::packet::{ethertype, ip_proto};
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};
use tracing::{debug, info, trace, warn};

/// The table where a frame that lost its path tag finds its host.
pub const DELIVERY_TABLE: u8 = 1;
/// The table where traffic for a group is spread over its paths.
pub const SPREAD_TABLE: u8 = 2;
/// Cookie of path-tag flows.
pub const COOKIE_TAG: u64 = 0x0500_0000_0000_0000;
/// Cookie of spreading flows.
pub const COOKIE_SPREAD: u64 = 0x0700_0000_0000_0000;
/// UDP traffic is spread in this many slots, by the low bits of the source
/// port: a path's share is a multiple of 1/16.
pub const SPREAD_SLOTS: u16 = 16;
/// A slot's flow wins over the group's flow for the rest of its traffic.
const PRIORITY_SPREAD: u16 = 20;
const PRIORITY_SPREAD_REST: u16 = 10;
/// Tag flows win over host-pair flows, which a tagged frame could also match.
const PRIORITY_TAG: u16 = 2000;
/// A group's paths are at most this many hops longer than its shortest: a
/// detour through the far side of the fabric costs more capacity than it
/// frees (and a demand that has only one short path keeps it).
const MAX_EXTRA_HOPS: usize = 1;
/// Rebalancing periods a group stays while nothing uses it.
const IDLE_PERIODS: u32 = 3;
/// Rebalancing periods after which a group's rates, not refreshed by its
/// switch's statistics, are forgotten.
const STALE_PERIODS: u32 = 2;
/// How long after its ports a switch usually credits a group's counters:
/// Open vSwitch credits them when it revalidates its datapath flows, every
/// half second at most when not busy (`other_config:max-revalidator`). Not
/// a bound: a busy switch has been seen not to credit them for a whole
/// 2-s period (the two-period rule covers that); a heuristic allowance.
const GROUP_COUNTER_LAG: Duration = Duration::from_millis(500);
/// VLAN ids usable as path tags (0 and 4095 are reserved).
const MAX_TAG: u32 = 4094;

/// Multipath settings.
#[derive(Debug, Clone, Copy)]
pub struct MultipathConfig {
    /// Paths per pair of edge switches (the k of Yen's k shortest paths).
    pub paths: usize,
    /// Interval between two recomputations of the weights.
    pub rebalance: Duration,
    /// Factor (at least 1) on the planned background load: room for error.
    pub headroom: f64,
    /// Sum of the bucket weights of a group.
    pub bucket_total: u16,
    /// A group takes new weights only when they lower the highest
    /// utilisation among its links by at least this (0.1: 10 % of the
    /// link's capacity), or when all new weights together lower the highest
    /// utilisation of the fabric by as much, so noise in the measured load
    /// does not churn it.
    pub min_gain: f64,
    /// The forecasts' step: a link's foreign share (how much of a forecast
    /// rise counts as background) is measured over about as long.
    pub forecast_step: Duration,
    /// The first group id this instance takes (ids then count up, and are
    /// not reused until the id space runs out; at most `CANARY_GROUP - 1`).
    /// Open vSwitch keeps a select group's recirculation state, and the
    /// datapath flows that continue from it, for seconds after the group is
    /// deleted, and shares that state between translations that are alike:
    /// a restarted controller that took its predecessor's ids again (the
    /// same group, the same metadata) had new pairs' frames continue into
    /// the old state's cached drops. `edgeflow run` draws it at random at
    /// each start.
    pub first_group_id: u32,
}

impl Default for MultipathConfig {
    fn default() -> Self {
        MultipathConfig {
            paths: 4,
            rebalance: Duration::from_secs(10),
            headroom: 1.0,
            bucket_total: 100,
            min_gain: 0.1,
            forecast_step: Duration::from_secs(300),
            first_group_id: 1,
        }
    }
}

/// One path of a group: its tag, the fast-failover group on the ingress that
/// puts frames on it, and its links.
#[derive(Debug, Clone, PartialEq)]
struct TagPath {
    tag: u16,
    group: u32,
    links: Vec<Link>,
}

impl TagPath {
    /// The switches after the ingress with the flow each holds for this
    /// path, matched on the tag and the port the path enters by (a tagged
    /// frame from anywhere else, a host's own VLAN for one, is not taken
    /// onto the path): transit switches forward, the egress pops the tag.
    fn hops(&self) -> Vec<(u64, Match, Vec<Instruction>)> {
        let tag_match = |in_port: u32| Match {
            fields: vec![
                Oxm::InPort(in_port),
                Oxm::VlanVid(OFPVID_PRESENT | self.tag, None),
            ],
        };
        let mut hops: Vec<(u64, Match, Vec<Instruction>)> = self
            .links
            .windows(2)
            .map(|w| {
                (
                    w[1].src.dpid,
                    tag_match(w[0].dst.port),
                    vec![Instruction::ApplyActions(vec![Action::Output {
                        port: w[1].src.port,
                        max_len: 0,
                    }])],
                )
            })
            .collect();
        if let Some(last) = self.links.last() {
            hops.push((
                last.dst.dpid,
                tag_match(last.dst.port),
                vec![
                    Instruction::ApplyActions(vec![Action::PopVlan]),
                    Instruction::GotoTable(DELIVERY_TABLE),
                ],
            ));
        }
        hops
    }

    /// Installs the path's flows after the ingress (on `only` that switch).
    fn install(&self, only: Option<u64>, out: &mut Outbox) {
        for (dpid, match_, instructions) in self.hops() {
            if only.is_none_or(|d| d == dpid) {
                out.push(
                    dpid,
                    Message::FlowMod(FlowMod {
                        cookie: COOKIE_TAG,
                        priority: PRIORITY_TAG,
                        match_,
                        instructions,
                        ..flow_mod_defaults()
                    }),
                );
            }
        }
    }

    /// Removes the path's flows after the ingress.
    fn uninstall(&self, out: &mut Outbox) {
        for (dpid, match_, _) in self.hops() {
            out.push(
                dpid,
                Message::FlowMod(FlowMod {
                    cookie: COOKIE_TAG,
                    cookie_mask: COOKIE_KIND_MASK,
                    command: FlowModCommand::DeleteStrict,
                    priority: PRIORITY_TAG,
                    match_,
                    ..flow_mod_defaults()
                }),
            );
        }
    }

    /// The select group's bucket for this path: it watches the path's
    /// first port and hands the frame to the path's group.
    fn bucket(&self, weight: u16) -> Bucket {
        Bucket {
            weight,
            watch_port: self.links[0].src.port,
            watch_group: ofp::group::ANY,
            actions: vec![Action::Group(self.group)],
        }
    }

    /// The path's fast-failover bucket: while its first port is up, tag
    /// the frame and send it out of that port.
    fn failover_bucket(&self) -> Bucket {
        let first = self.links[0].src.port;
        Bucket {
            weight: 0,
            watch_port: first,
            watch_group: ofp::group::ANY,
            actions: vec![
                Action::PushVlan(ethertype::VLAN),
                Action::SetField(Oxm::VlanVid(OFPVID_PRESENT | self.tag, None)),
                Action::Output {
                    port: first,
                    max_len: 0,
                },
            ],
        }
    }
}

/// Bytes each of `paths` carried, from their groups' bucket counters
/// (`counted`, by group id): bucket k of path i's group sends on path
/// i + k (mod the number of paths), so what a path's group moved onto
/// another path while its first link was down counts for that other path.
/// None if a path's group is missing, or has another number of buckets (a
/// MODIFY on its way).
fn path_bytes(paths: &[TagPath], counted: &HashMap<u32, &[ofp::Counter]>) -> Option<Vec<u64>> {
    let n = paths.len();
    let mut bytes = vec![0; n];
    for (i, p) in paths.iter().enumerate() {
        let buckets = counted.get(&p.group).filter(|b| b.len() == n)?;
        for (k, b) in buckets.iter().enumerate() {
            bytes[(i + k) % n] += b.byte_count;
        }
    }
    Some(bytes)
}

/// A DELETE of group `group_id`.
fn group_delete(group_type: GroupType, group_id: u32) -> Message {
    Message::GroupMod(GroupMod {
        command: GroupModCommand::Delete,
        group_type,
        group_id,
        buckets: Vec::new(),
    })
}

/// The instructions that send a frame into group `id`'s spreading (for a
/// flow on the group's ingress switch).
pub fn entry(id: u32) -> Vec<Instruction> {
    vec![
        Instruction::WriteMetadata {
            metadata: u64::from(id),
            mask: u64::MAX,
        },
        Instruction::GotoTable(SPREAD_TABLE),
    ]
}

/// The spreading flow of group `id` for UDP over `ethertype` whose source
/// port's low bits are `slot`, sending to path group `to`.
fn slot_flow(id: u32, ethertype: u16, slot: u16, to: u32) -> FlowMod {
    FlowMod {
        table_id: SPREAD_TABLE,
        cookie: COOKIE_SPREAD,
        priority: PRIORITY_SPREAD,
        match_: Match {
            fields: vec![
                Oxm::Metadata(u64::from(id), None),
                Oxm::EthType(ethertype),
                Oxm::IpProto(ip_proto::UDP),
                Oxm::UdpSrc(slot, Some(SPREAD_SLOTS - 1)),
            ],
        },
        instructions: vec![Instruction::ApplyActions(vec![Action::Group(to)])],
        ..flow_mod_defaults()
    }
}

/// The select group of one (ingress, egress) pair of switches.
#[derive(Debug)]
struct Group {
    id: u32,
    paths: Vec<TagPath>,
    weights: Vec<u16>,
    /// The path (index) each UDP slot goes to, in proportion to the weights.
    slots: Vec<usize>,
    /// Byte counters per path (its group's) at the last statistics reply,
    /// and when.
    counted: Option<(Instant, Vec<u64>)>,
    /// Bytes per path since the group was made, summed from the counters'
    /// increments (across restarts of the counters), and when they were
    /// last counted.
    carried: (Option<Instant>, Vec<u64>),
    /// `carried` as it was at the last rebalancing: the start of the window
    /// the next one measures.
    mark: (Option<Instant>, Vec<u64>),
    /// Measured rate per path, bit/s.
    rates: Vec<f64>,
    /// Rebalancing periods in a row without a flow using the group or traffic through it.
    idle: u32,
}

impl Group {
    /// Rate per path since the last rebalancing, bit/s; the latest poll's
    /// for a path without such a window.
    fn window_rates(&self) -> Vec<f64> {
        let ((Some(t0), start), (Some(t1), end)) = (&self.mark, &self.carried) else {
            return self.rates.clone();
        };
        let counter = |at: Instant, bytes: u64| Counter { at, bytes };
        end.iter()
            .zip(start)
            .zip(&self.rates)
            .map(|((&e, &s), &r)| counter(*t1, e).rate_since(&counter(*t0, s)).unwrap_or(r))
            .collect()
    }

    /// The path each slot should go to for the current weights, moving as
    /// few slots as possible from `old`.
    fn slots_for(weights: &[u16], old: &[usize]) -> Vec<usize> {
        let ratios: Vec<f64> = weights.iter().map(|&w| f64::from(w)).collect();
        let counts = quantize::quantize(&ratios, SPREAD_SLOTS)
            .map(|b| b.weights)
            .unwrap_or_else(|_| vec![SPREAD_SLOTS]);
        quantize::assign_slots(&counts, old)
    }

    /// Installs all the group's spreading flows: its slots', and the one for
    /// the rest of its traffic.
    fn spread(&self, src: u64, out: &mut Outbox) {
        out.push(
            src,
            Message::FlowMod(FlowMod {
                table_id: SPREAD_TABLE,
                cookie: COOKIE_SPREAD,
                priority: PRIORITY_SPREAD_REST,
                match_: Match {
                    fields: vec![Oxm::Metadata(u64::from(self.id), None)],
                },
                instructions: vec![Instruction::ApplyActions(vec![Action::Group(self.id)])],
                ..flow_mod_defaults()
            }),
        );
        self.spread_slots(0..self.slots.len(), src, out);
    }

    /// Installs the spreading flows of `slots`.
    fn spread_slots(&self, slots: impl IntoIterator<Item = usize>, src: u64, out: &mut Outbox) {
        for slot in slots {
            let to = self.paths[self.slots[slot]].group;
            for ethertype in [ethertype::IPV4, ethertype::IPV6] {
                let flow = slot_flow(self.id, ethertype, slot as u16, to);
                out.push(src, Message::FlowMod(flow));
            }
        }
    }

    /// The ADD or MODIFY of path `i`'s group on the ingress: a
    /// fast-failover group that puts frames on path `i`, or, while its first
    /// port is down, on the next path whose first port is up (in the order
    /// of the paths, from `i` on). So UDP, whose spreading flows name a
    /// path, leaves a dead first link at once, in the switch, as the select
    /// group's other traffic does, until the controller moves its slots.
    fn path_group_mod(&self, i: usize, command: GroupModCommand) -> Message {
        let n = self.paths.len();
        Message::GroupMod(GroupMod {
            command,
            group_type: GroupType::FastFailover,
            group_id: self.paths[i].group,
            buckets: (0..n)
                .map(|k| self.paths[(i + k) % n].failover_bucket())
                .collect(),
        })
    }

    /// The group's ADD or MODIFY.
    fn message(&self, command: GroupModCommand) -> Message {
        Message::GroupMod(GroupMod {
            command,
            group_type: GroupType::Select,
            group_id: self.id,
            buckets: self
                .paths
                .iter()
                .zip(&self.weights)
                .map(|(p, &w)| p.bucket(w))
                .collect(),
        })
    }

    fn uses(&self, link: &Link) -> bool {
        self.paths.iter().any(|p| p.links.contains(link))
    }
}

/// Numbers handed out from a first one to a maximum, and taken back for
/// reuse, oldest returned first: a tag just freed (its flows' deletes
/// perhaps still on their way to the switches) is the last to be used
/// again. With `fresh_first` (group ids, of which there are billions)
/// numbers never used go first: a flow that still names a removed group (a
/// placement route until it is moved, a statistics reply on its way) never
/// reaches another.
#[derive(Debug)]
struct Pool {
    next: u32,
    max: u32,
    free: VecDeque<u32>,
    fresh_first: bool,
}

impl Pool {
    /// Numbers from `first` to `max`.
    fn new(first: u32, max: u32, fresh_first: bool) -> Pool {
        Pool {
            next: first,
            max,
            free: VecDeque::new(),
            fresh_first,
        }
    }

    fn take(&mut self) -> Option<u32> {
        let n = self.next;
        let fresh = (n <= self.max).then_some(n);
        let taken = if self.fresh_first {
            fresh.or_else(|| self.free.pop_front())
        } else {
            self.free.pop_front().or(fresh)
        };
        if taken.is_some() && taken == fresh {
            self.next += 1;
        }
        taken
    }

    fn give(&mut self, n: u32) {
        self.free.push_back(n);
    }
}

/// Counters for operators.
#[derive(Debug, Default, Clone, Copy)]
pub struct MultipathStats {
    /// Groups whose weights were changed by rebalancing.
    pub reweighted: u64,
    /// Groups whose paths were replaced after links went away.
    pub repaired: u64,
    /// Pairs of switches that got a single path because tags or group ids ran out.
    pub exhausted: u64,
}

/// One path of a group, for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct PathView {
    /// The path tag (VLAN id).
    pub tag: u16,
    /// The links followed.
    pub links: Vec<Link>,
    /// The bucket weight.
    pub weight: u16,
    /// Measured rate, bit/s (0 before the second statistics reply).
    pub rate_bps: f64,
}

/// One select group, for the API.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupView {
    /// The ingress switch, which holds the group.
    pub src: u64,
    /// The egress switch.
    pub dst: u64,
    /// The group id.
    pub group_id: u32,
    /// Its paths.
    pub paths: Vec<PathView>,
}

/// What rebalancing needs to know of one direction of a link.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkLoad {
    /// Bytes sent into it, as of the latest statistics reply.
    pub sent: Option<Counter>,
    /// The latest measured rate, bit/s: used until there is a window.
    pub rate: Option<f64>,
    /// The forecast rate, bit/s.
    pub forecast: Option<f64>,
}

/// A link's traffic over a rebalancing period, bit/s.
#[derive(Debug, Clone, Copy, Default)]
struct LinkMeasure {
    /// What the groups crossing it carried, by their counters.
    managed: f64,
    /// What it carried beyond that and the counters' error.
    unmanaged: f64,
    /// Its lasting background and its rate, each summed over the periods
    /// with weights that fall by e every forecast step: their ratio is the
    /// share of its traffic that no group carried over about the time a
    /// forecast averages.
    foreign: f64,
    carried: f64,
}

/// The groups and path tags installed in the fabric.
#[derive(Debug)]
pub struct Multipath {
    config: MultipathConfig,
    /// By (ingress, egress): a switch's own groups are one range.
    groups: BTreeMap<(u64, u64), Group>,
    tags: Pool,
    group_ids: Pool,
    next_rebalance: Option<Instant>,
    /// Bumped whenever a group is added, changed or removed.
    version: u64,
    /// Expected rate per (ingress, egress) from placements, bit/s.
    planned: BTreeMap<(u64, u64), f64>,
    /// The bytes each link had sent at the last rebalancing.
    link_marks: HashMap<Link, Counter>,
    /// Each link's traffic, as measured at the last rebalancing.
    link_measures: HashMap<Link, LinkMeasure>,
    /// Parts of a group-statistics reply, by switch, until its last part.
    partial: HashMap<u64, Vec<GroupStats>>,
    /// Pairs of switches refused a group because tags or group ids ran out:
    /// not searched for paths again (every new host pair between them would
    /// search) until a tag or id is freed or the links change.
    refused: HashSet<(u64, u64)>,
    /// Counters.
    pub stats: MultipathStats,
}

impl Multipath {
    /// No groups yet.
    pub fn new(config: MultipathConfig) -> Multipath {
        Multipath {
            config,
            groups: BTreeMap::new(),
            tags: Pool::new(1, MAX_TAG, false),
            // Not 0: the spreading table matches a group's id in the metadata,
            // which is 0 in a frame until a flow writes it.
            group_ids: Pool::new(
                config.first_group_id.max(1),
                session::CANARY_GROUP - 1,
                true,
            ),
            next_rebalance: None,
            version: 0,
            planned: BTreeMap::new(),
            link_marks: HashMap::new(),
            link_measures: HashMap::new(),
            partial: HashMap::new(),
            refused: HashSet::new(),
            stats: MultipathStats::default(),
        }
    }

    /// The group on `src` that spreads traffic for `dst` over the paths
    /// between them, installed (paths, then group) if new. None when `dst`
    /// is unreachable or tags ran out.
    pub fn group_for(
        &mut self,
        topo: &Topology,
        src: u64,
        dst: u64,
        out: &mut Outbox,
    ) -> Option<u32> {
        if let Some(g) = self.groups.get(&(src, dst)) {
            return Some(g.id);
        }
        if self.refused.contains(&(src, dst)) {
            return self.refuse(src, dst);
        }
        let links = self.paths_between(topo, src, dst);
        if links.is_empty() {
            return None;
        }
        let Some(id) = self.group_ids.take() else {
            return self.refuse(src, dst);
        };
        let Some((paths, _)) = self.retag(links, &[]) else {
            self.group_ids.give(id);
            return self.refuse(src, dst);
        };
        let group = self.new_group(id, paths, &[]);
        for (i, p) in group.paths.iter().enumerate() {
            p.install(None, out);
            out.push(src, group.path_group_mod(i, GroupModCommand::Add));
        }
        out.push(src, group.message(GroupModCommand::Add));
        group.spread(src, out);
        self.groups.insert((src, dst), group);
        self.version += 1;
        Some(id)
    }

    /// No group for `src` to `dst`: tags or group ids ran out (see `refused`).
    fn refuse(&mut self, src: u64, dst: u64) -> Option<u32> {
        self.refused.insert((src, dst));
        self.stats.exhausted += 1;
        None
    }

    /// Up to k paths from `src` to `dst`, none more than [`MAX_EXTRA_HOPS`]
    /// longer than the shortest.
    fn paths_between(&self, topo: &Topology, src: u64, dst: u64) -> Vec<Vec<Link>> {
        let mut paths = topo.k_paths(src, dst, self.config.paths);
        let shortest = paths.first().map_or(0, Vec::len);
        paths.retain(|p| p.len() <= shortest + MAX_EXTRA_HOPS);
        paths
    }

    /// A group with an equal split over its shortest paths; its UDP slots
    /// move as little as they can from `old_slots` (indices into `paths`).
    fn new_group(&self, id: u32, paths: Vec<TagPath>, old_slots: &[usize]) -> Group {
        let shortest = paths.iter().map(|p| p.links.len()).min().unwrap_or(0);
        let ratios: Vec<f64> = paths
            .iter()
            .map(|p| if p.links.len() == shortest { 1.0 } else { 0.0 })
            .collect();
        let weights = quantize::quantize(&ratios, self.config.bucket_total)
            .map(|b| b.weights)
            .unwrap_or_else(|_| vec![1; paths.len()]);
        let n = paths.len();
        Group {
            id,
            rates: vec![0.0; n],
            paths,
            slots: Group::slots_for(&weights, old_slots),
            weights,
            counted: None,
            carried: (None, vec![0; n]),
            mark: (None, vec![0; n]),
            idle: 0,
        }
    }

    /// Tags `links`, reusing the tag (and path group) of an `old` path with
    /// the same links. Returns all tagged paths and those that are new;
    /// None (with nothing taken) when tags or group ids ran out.
    fn retag(
        &mut self,
        links: Vec<Vec<Link>>,
        old: &[TagPath],
    ) -> Option<(Vec<TagPath>, Vec<TagPath>)> {
        let mut paths = Vec::with_capacity(links.len());
        let mut fresh: Vec<TagPath> = Vec::new();
        for links in links {
            if let Some(p) = old.iter().find(|p| p.links == links) {
                paths.push(p.clone());
                continue;
            }
            let taken = self.tags.take().map(|tag| (tag, self.group_ids.take()));
            let Some((tag, Some(group))) = taken else {
                if let Some((tag, None)) = taken {
                    self.tags.give(tag);
                }
                for p in &fresh {
                    self.tags.give(u32::from(p.tag));
                    self.group_ids.give(p.group);
                }
                return None;
            };
            let p = TagPath {
                tag: tag as u16,
                group,
                links,
            };
            fresh.push(p.clone());
            paths.push(p);
        }
        Some((paths, fresh))
    }

    /// Removes a group's spreading flows, the group, its paths' groups and
    /// its paths from the switches.
    fn remove(&mut self, src: u64, group: &Group, out: &mut Outbox) {
        self.version += 1;
        out.push(
            src,
            Message::FlowMod(FlowMod {
                table_id: SPREAD_TABLE,
                cookie: COOKIE_SPREAD,
                cookie_mask: COOKIE_KIND_MASK,
                command: FlowModCommand::Delete,
                match_: Match {
                    fields: vec![Oxm::Metadata(u64::from(group.id), None)],
                },
                ..flow_mod_defaults()
            }),
        );
        out.push(src, group_delete(GroupType::Select, group.id));
        for p in &group.paths {
            self.drop_path(p, out);
        }
        self.group_ids.give(group.id);
        self.refused.clear();
    }

    /// Removes a path no group uses any more: its group on the ingress, its
    /// flows after it; frees its tag and group id.
    fn drop_path(&mut self, p: &TagPath, out: &mut Outbox) {
        out.push(
            p.links[0].src.dpid,
            group_delete(GroupType::FastFailover, p.group),
        );
        p.uninstall(out);
        self.tags.give(u32::from(p.tag));
        self.group_ids.give(p.group);
        self.refused.clear();
    }

    /// Links went away: every group with a path over one gets the paths that
    /// remain (MODIFY in place). Returns the groups removed because their
    /// egress became unreachable, as (ingress, group id): their host pairs
    /// must move.
    pub fn links_removed(
        &mut self,
        removed: &[Link],
        topo: &Topology,
        out: &mut Outbox,
    ) -> Vec<(u64, u32)> {
        let hit: Vec<(u64, u64)> = self
            .groups
            .iter()
            .filter(|(_, g)| removed.iter().any(|l| g.uses(l)))
            .map(|(k, _)| *k)
            .collect();
        self.repath(hit, topo, out)
    }

    /// Links appeared: every group whose best paths changed gets them (a
    /// group made while the fabric was still being discovered, or while a
    /// link was down, would otherwise keep its detours). Returns the groups
    /// removed, as [`Multipath::links_removed`] does.
    pub fn links_added(&mut self, topo: &Topology, out: &mut Outbox) -> Vec<(u64, u32)> {
        let all: Vec<(u64, u64)> = self.groups.keys().copied().collect();
        self.repath(all, topo, out)
    }

    /// Gives the groups in `keys` their current best paths where these
    /// changed: new paths' flows first, then the group (MODIFY in place),
    /// then the flows of paths no longer used. Returns the groups removed
    /// because their egress is unreachable or tags ran out.
    fn repath(
        &mut self,
        keys: Vec<(u64, u64)>,
        topo: &Topology,
        out: &mut Outbox,
    ) -> Vec<(u64, u32)> {
        // Other links may need fewer tags (or reach a refused pair's egress
        // at all).
        self.refused.clear();
        let mut gone = Vec::new();
        for (src, dst) in keys {
            let Some(old) = self.groups.remove(&(src, dst)) else {
                continue;
            };
            let links = self.paths_between(topo, src, dst);
            if links.iter().eq(old.paths.iter().map(|p| &p.links)) {
                self.groups.insert((src, dst), old);
                continue;
            }
            let retagged = (!links.is_empty())
                .then(|| self.retag(links, &old.paths))
                .flatten();
            let Some((paths, fresh)) = retagged else {
                self.remove(src, &old, out);
                gone.push((src, old.id));
                continue;
            };
            // The slots of paths that stay keep them where the weights allow.
            let old_slots: Vec<usize> = old
                .slots
                .iter()
                .map(|&i| {
                    let kept = paths.iter().position(|p| p.tag == old.paths[i].tag);
                    kept.unwrap_or(usize::MAX)
                })
                .collect();
            let group = self.new_group(old.id, paths, &old_slots);
            // New paths' flows and groups; the paths that stay fail over to
            // the new set.
            for (i, p) in group.paths.iter().enumerate() {
                let command = if fresh.contains(p) {
                    p.install(None, out);
                    GroupModCommand::Add
                } else {
                    GroupModCommand::Modify
                };
                out.push(src, group.path_group_mod(i, command));
            }
            out.push(src, group.message(GroupModCommand::Modify));
            group.spread(src, out);
            for p in old.paths.iter().filter(|p| !group.paths.contains(p)) {
                self.drop_path(p, out);
            }
            self.stats.repaired += 1;
            self.version += 1;
            self.groups.insert((src, dst), group);
        }
        gone
    }

    /// Switch `dpid` lost its tables (it reconnected) or left: its own groups
    /// are forgotten (their paths removed elsewhere; its host pairs get them
    /// again when reinstalled), and the tag flows it holds for other groups'
    /// paths are installed again.
    pub fn switch_reset(&mut self, dpid: u64, out: &mut Outbox) {
        self.partial.remove(&dpid);
        let own: Vec<(u64, u64)> = self.own(dpid).map(|(k, _)| *k).collect();
        for key in own {
            if let Some(g) = self.groups.remove(&key) {
                self.remove(key.0, &g, out);
            }
        }
        for g in self.groups.values() {
            for p in &g.paths {
                p.install(Some(dpid), out);
            }
        }
    }

    /// The group on `src` for `dst`, if there is one.
    pub fn group_id(&self, src: u64, dst: u64) -> Option<u32> {
        self.groups.get(&(src, dst)).map(|g| g.id)
    }

    /// The groups switch `dpid` holds.
    fn own(&self, dpid: u64) -> impl Iterator<Item = (&(u64, u64), &Group)> {
        self.groups.range((dpid, 0)..=(dpid, u64::MAX))
    }

    /// Whether `dpid` holds groups whose statistics are wanted.
    pub fn has_groups(&self, dpid: u64) -> bool {
        self.own(dpid).next().is_some()
    }

    /// A group-statistics reply from `dpid` (`more`: a part, more to come;
    /// the parts are kept until the last, since a group's path groups may
    /// be listed in different parts): the byte counters of each group's
    /// path groups become its rates per path. A counter below its last
    /// value started again from zero (the switch restarted it).
    pub fn group_stats(&mut self, dpid: u64, now: Instant, more: bool, stats: Vec<GroupStats>) {
        if more {
            self.partial.entry(dpid).or_default().extend(stats);
            return;
        }
        let parts = self.partial.remove(&dpid).unwrap_or_default();
        let counted: HashMap<u32, &[ofp::Counter]> = parts
            .iter()
            .chain(&stats)
            .map(|s| (s.group_id, s.bucket_stats.as_slice()))
            .collect();
        for (_, g) in self.groups.range_mut((dpid, 0)..=(dpid, u64::MAX)) {
            let Some(bytes) = path_bytes(&g.paths, &counted) else {
                continue;
            };
            if let Some((then, prev)) = &g.counted {
                let sent: Vec<u64> = bytes
                    .iter()
                    .zip(prev)
                    .map(|(b, p)| b.checked_sub(*p).unwrap_or(*b))
                    .collect();
                let dt = now.saturating_duration_since(*then).as_secs_f64();
                if dt > 0.0 {
                    g.rates = sent.iter().map(|&d| d as f64 * 8.0 / dt).collect();
                }
                for (total, d) in g.carried.1.iter_mut().zip(&sent) {
                    *total += d;
                }
            }
            g.carried.0 = Some(now);
            if g.counted.is_none() {
                // A new baseline: the next window starts here, not before
                // the time that went uncounted.
                g.mark = g.carried.clone();
            }
            g.counted = Some((now, bytes));
        }
    }

    /// The rates placements expect between pairs of switches: a group's
    /// demand is the larger of this and what it carried.
    pub fn set_planned(&mut self, planned: BTreeMap<(u64, u64), f64>) {
        self.planned = planned;
    }

    /// Changes whenever a group is added, changed or removed.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// When the weights are next recomputed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_rebalance.filter(|_| !self.groups.is_empty())
    }

    /// Starts every group's next measuring window at its latest counters.
    fn mark_group_windows(&mut self) {
        for g in self.groups.values_mut() {
            g.mark = g.carried.clone();
        }
    }

    /// Whether [`Multipath::rebalance`] has work to do at `now`.
    pub fn rebalance_due(&self, now: Instant) -> bool {
        self.next_rebalance.is_none_or(|t| now >= t)
    }

    /// Removes the groups that no flow has used (`referenced` holds the ids
    /// flows point at) and that carried nothing for [`IDLE_PERIODS`]
    /// rebalancing periods, freeing their tags for other pairs of switches.
    fn collect_unused(&mut self, referenced: &HashSet<u32>, out: &mut Outbox) {
        let mut unused = Vec::new();
        for (key, g) in self.groups.iter_mut() {
            if referenced.contains(&g.id) || g.rates.iter().any(|&r| r > 0.0) {
                g.idle = 0;
            } else {
                g.idle += 1;
                if g.idle >= IDLE_PERIODS {
                    unused.push(*key);
                }
            }
        }
        for key in unused {
            if let Some(g) = self.groups.remove(&key) {
                debug!(
                    src = format!("{:016x}", key.0),
                    dst = format!("{:016x}", key.1),
                    "removing an unused group"
                );
                self.remove(key.0, &g, out);
            }
        }
    }

    /// Forgets the rates of groups whose switch has not answered a
    /// statistics request for [`STALE_PERIODS`] rebalancing periods: a
    /// switch that stopped answering (or a group it no longer reports) must
    /// not keep steering the weights with its last load.
    fn forget_stale_rates(&mut self, now: Instant) {
        let Some(oldest) = now.checked_sub(self.config.rebalance * STALE_PERIODS) else {
            return;
        };
        for g in self.groups.values_mut() {
            if g.counted.as_ref().is_some_and(|(at, _)| *at < oldest) {
                g.counted = None;
                g.rates.iter_mut().for_each(|r| *r = 0.0);
            }
        }
    }

    /// Every rebalancing period: removes unused groups (see
    /// [`Multipath::collect_unused`]), then recomputes the weights from what
    /// `load(l)` says of each link and `capacity(l)` (bit/s); groups crossing
    /// a link of unknown capacity keep their weights. Rates are measured
    /// over the whole period, links' and groups' alike: a switch credits a
    /// group's counters later than its ports', so over one poll a transfer
    /// that starts or moves shows as traffic the groups do not carry.
    pub fn rebalance(
        &mut self,
        now: Instant,
        referenced: &HashSet<u32>,
        load: impl Fn(Link) -> LinkLoad,
        capacity: impl Fn(Link) -> Option<f64>,
        out: &mut Outbox,
    ) {
        match self.next_rebalance {
            Some(t) if now < t => return,
            None => {
                // The first period's windows start now.
                self.next_rebalance = Some(now + self.config.rebalance);
                self.mark_group_windows();
                let links = self
                    .groups
                    .values()
                    .flat_map(|g| &g.paths)
                    .flat_map(|p| &p.links);
                self.link_marks = links.filter_map(|l| Some((*l, load(*l).sent?))).collect();
                return;
            }
            _ => {}
        }
        self.next_rebalance = Some(now + self.config.rebalance);
        self.forget_stale_rates(now);
        self.collect_unused(referenced, out);
        let keys: Vec<(u64, u64)> = self.groups.keys().copied().collect();
        let mut index: HashMap<Link, usize> = HashMap::new();
        let mut cap = Vec::new();
        let mut measured = Vec::new();
        let mut forecast = Vec::new();
        let mut managed = Vec::new();
        let mut demands = Vec::new();
        let mut planned_keys = Vec::new();
        let mut marks = HashMap::new();
        let mut edge_links = Vec::new();
        for key in keys {
            let g = &self.groups[&key];
            let links = g.paths.iter().flat_map(|p| &p.links);
            if links.clone().any(|l| capacity(*l).is_none_or(|c| c <= 0.0)) {
                continue;
            }
            let rates = g.window_rates();
            let mut paths = Vec::with_capacity(g.paths.len());
            for (p, rate) in g.paths.iter().zip(&rates) {
                let edges = p
                    .links
                    .iter()
                    .map(|l| {
                        let e = *index.entry(*l).or_insert_with(|| {
                            let link = load(*l);
                            let rate = match (link.sent, self.link_marks.get(l)) {
                                (Some(end), Some(start)) => end.rate_since(start).or(link.rate),
                                _ => link.rate,
                            };
                            marks.extend(link.sent.map(|c| (*l, c)));
                            edge_links.push(*l);
                            cap.push(capacity(*l).unwrap_or(0.0));
                            measured.push(rate.unwrap_or(0.0));
                            forecast.push(link.forecast.unwrap_or(0.0));
                            managed.push(0.0);
                            cap.len() - 1
                        });
                        managed[e] += rate;
                        EdgeIndex::new(e)
                    })
                    .collect::<Vec<_>>();
                paths.push(Path {
                    cost: edges.len() as f64,
                    edges,
                });
            }
            demands.push(Demand {
                src: NodeIndex::new(0),
                dst: NodeIndex::new(0),
                rate: rates
                    .iter()
                    .sum::<f64>()
                    .max(self.planned.get(&key).copied().unwrap_or(0.0)),
                paths,
            });
            planned_keys.push(key);
        }
        self.link_marks = marks;
        self.mark_group_windows();
        // Traffic no group carries: what the link carried beyond its groups'
        // traffic and the error of their counters, and only as far as it
        // was there in the previous period too. The switch credits groups
        // up to GROUP_COUNTER_LAG after its ports, so over a period a
        // group's traffic reads up to that share of the period short (a
        // transfer that starts or speeds up), and longer when the switch
        // is busy: such a shortfall rarely lasts two periods.
        let lag = (GROUP_COUNTER_LAG.as_secs_f64() / self.config.rebalance.as_secs_f64()).min(1.0);
        let before: Vec<LinkMeasure> = edge_links
            .iter()
            .map(|l| self.link_measures.get(l).copied().unwrap_or_default())
            .collect();
        // A forecast is of the link's whole traffic, the groups' own
        // included (a forecast made while they were busy stays up for its
        // step after they went quiet): of a rise it sees coming, the share
        // no group carried over about a step counts as background.
        let keep = (-self.config.rebalance.as_secs_f64()
            / self
                .config
                .forecast_step
                .as_secs_f64()
                .max(f64::MIN_POSITIVE))
        .exp();
        let mut background = Vec::with_capacity(edge_links.len());
        let mut measures = Vec::with_capacity(edge_links.len());
        for (i, l) in edge_links.iter().enumerate() {
            let (rate, m, b) = (measured[i], managed[i], before[i]);
            let unmanaged = (rate - m - lag * m.max(b.managed)).max(0.0);
            let lasting = unmanaged.min(b.unmanaged);
            let foreign = keep * b.foreign + lasting;
            let carried = keep * b.carried + rate;
            let foreign_share = if carried > 0.0 {
                foreign / carried
            } else {
                0.0
            };
            let rise = (forecast[i] - rate).max(0.0);
            background.push(lasting + foreign_share * rise);
            trace!(
                link = format!("{:016x}:{}", l.src.dpid, l.src.port),
                measured_mbps = rate / 1e6,
                managed_mbps = m / 1e6,
                unmanaged_mbps = unmanaged / 1e6,
                forecast_mbps = forecast[i] / 1e6,
                foreign_share,
                background_mbps = background[i] / 1e6,
                "rebalancing period"
            );
            measures.push(LinkMeasure {
                managed: m,
                unmanaged,
                foreign,
                carried,
            });
        }
        self.link_measures = edge_links.into_iter().zip(measures).collect();
        let solved = Network::new(cap, background)
            .and_then(|n| n.with_headroom(self.config.headroom))
            .and_then(|net| heuristic::min_mlu(&net, &demands).map(|split| (net, split)));
        let (net, split) = match solved {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "rebalancing failed; weights unchanged");
                return;
            }
        };
        // The weights as the switches would hold them, then which groups
        // take them (see `te::take_splits`).
        let total = self.config.bucket_total;
        let fraction = |w: &[u16]| -> Vec<f64> {
            let sum: f64 = w.iter().map(|&x| f64::from(x)).sum();
            w.iter().map(|&x| f64::from(x) / sum.max(1.0)).collect()
        };
        let proposed: Vec<Option<Vec<u16>>> = split
            .weights
            .iter()
            .map(|ratios| quantize::quantize(ratios, total).ok().map(|b| b.weights))
            .collect();
        let current: Vec<Vec<f64>> = planned_keys
            .iter()
            .map(|key| fraction(&self.groups[key].weights))
            .collect();
        let installed = Split {
            weights: proposed
                .iter()
                .zip(&current)
                .map(|(p, c)| p.as_deref().map_or_else(|| c.clone(), fraction))
                .collect(),
        };
        let current = Split { weights: current };
        let taken = te::take_splits(&net, &demands, &current, &installed, self.config.min_gain);
        let mut changed = 0;
        for (i, (key, weights)) in planned_keys.iter().zip(proposed).enumerate() {
            let (Some(weights), Some(gain)) = (weights, taken[i]) else {
                continue;
            };
            let g = self.groups.get_mut(key).expect("planned groups exist");
            if weights != g.weights {
                let d = &demands[i];
                // The background each path crosses at its busiest link, Mbit/s.
                let background: Vec<String> = d
                    .paths
                    .iter()
                    .map(|p| {
                        let b = p.edges.iter().map(|e| net.background()[e.index()]);
                        format!("{:.2}", b.fold(0.0, f64::max) / 1e6)
                    })
                    .collect();
                debug!(
                    src = format!("{:016x}", key.0),
                    dst = format!("{:016x}", key.1),
                    ?weights,
                    gain,
                    demand_mbps = d.rate / 1e6,
                    ?background,
                    "reweighting"
                );
                g.weights = weights;
                out.push(key.0, g.message(GroupModCommand::Modify));
                let old = std::mem::take(&mut g.slots);
                g.slots = Group::slots_for(&g.weights, &old);
                let moved = (0..old.len()).filter(|&i| g.slots[i] != old[i]);
                g.spread_slots(moved, key.0, out);
                changed += 1;
            }
        }
        if changed > 0 {
            self.stats.reweighted += changed;
            self.version += 1;
            info!(
                groups = changed,
                of = planned_keys.len(),
                "rebalanced multipath weights"
            );
        }
    }

    /// A frame tagged `vid`, bound for switch `egress`, came up to the
    /// controller from `at`. If it travels on a path (that tag, entering
    /// `at`'s switch at `at`, ending at `egress`), the path's flow on that
    /// switch is sent again (it was late, or lost) and true is returned: the
    /// frame still carries the path's tag. A host's own VLAN is left alone.
    pub fn restore_path_flow(&self, at: PortRef, vid: u16, egress: u64, out: &mut Outbox) -> bool {
        let path = self
            .groups
            .iter()
            .filter(|((_, dst), _)| *dst == egress)
            .flat_map(|(_, g)| &g.paths)
            .find(|p| p.tag == vid && p.links.iter().any(|l| l.dst == at));
        if let Some(p) = path {
            p.install(Some(at.dpid), out);
        }
        path.is_some()
    }

    /// A frame that group `id` of switch `src` sent to the spreading table
    /// found no flow there: the group's spreading flows are sent again
    /// (they were late, or lost).
    pub fn restore_spreading(&self, src: u64, id: u32, out: &mut Outbox) {
        if let Some((_, g)) = self.own(src).find(|(_, g)| g.id == id) {
            g.spread(src, out);
        }
    }

    /// The groups, sorted by (ingress, egress), for the API.
    pub fn view(&self) -> Vec<GroupView> {
        self.groups
            .iter()
            .map(|(&(src, dst), g)| GroupView {
                src,
                dst,
                group_id: g.id,
                paths: g
                    .paths
                    .iter()
                    .zip(&g.weights)
                    .zip(&g.rates)
                    .map(|((p, &weight), &rate_bps)| PathView {
                        tag: p.tag,
                        links: p.links.clone(),
                        weight,
                        rate_bps,
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::tests::mesh;

    #[test]
    fn a_pair_refused_for_want_of_tags_gets_its_group_once_tags_are_freed() {
        // 33 switches, each pair with 4 paths of at most two hops: 1,056
        // groups would take 4,224 tags.
        let topo = mesh(33, Instant::now());
        let mut mp = Multipath::new(MultipathConfig::default());
        let mut out = Outbox::default();
        let pairs =
            (1..=33u64).flat_map(|a| (1..=33).filter(move |&b| b != a).map(move |b| (a, b)));
        let mut refused = None;
        for (a, b) in pairs {
            if mp.group_for(&topo, a, b, &mut out).is_none() {
                refused = Some((a, b));
                break;
            }
        }
        let (a, b) = refused.expect("the tags run out");
        assert!(a > 1, "switch 1's groups are not the ones refused");
        assert!(mp.group_for(&topo, a, b, &mut out).is_none());
        assert_eq!(mp.stats.exhausted, 2);
        // Switch 1 reconnects: its groups go, and their tags with them.
        mp.switch_reset(1, &mut out);
        assert!(mp.group_for(&topo, a, b, &mut out).is_some());
    }
}
