//! Network facts for scheduling, computed from one topology snapshot: the
//! bandwidth a node can still use, and hops, bandwidth and a latency
//! estimate between two nodes; from them the extender's filter and scores.
//!
//! * A node is where the host using one of its IPs is attached. Its
//!   available bandwidth is the smaller of its access port's spare capacity
//!   (speed minus the busier direction) and the spare capacity of its
//!   switch's uplinks together; "forecast" uses each uplink's next-step
//!   forecast where there is one.
//! * Between two switches the paths are those of the select group between
//!   them (or one shortest path); their bandwidth is filled greedily, each
//!   path taking its bottleneck's spare capacity and using it up on its
//!   links, so shared links are not counted twice.
//! * Latency is estimated as hops times a per-hop figure (this kernel has
//!   no delay to measure; see [`PER_HOP_LATENCY_US`]).

use crate::model::{End, LinkView, Topology};
use std::collections::{HashMap, VecDeque};

/// Estimated one-way latency per switch hop (store-and-forward of a
/// 1500-byte frame at 1 Gbit/s is 12 µs; a software switch adds some tens).
pub const PER_HOP_LATENCY_US: f64 = 50.0;

/// What a node, or the path between two nodes, can carry.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Capacity {
    /// Spare bandwidth now, bit/s (None when a speed is unknown).
    pub available_bps: Option<f64>,
    /// Spare bandwidth by the forecasts, bit/s.
    pub forecast_available_bps: Option<f64>,
}

impl Capacity {
    /// The smaller of now and the forecast.
    pub fn worst(&self) -> Option<f64> {
        min_known(self.available_bps, self.forecast_available_bps)
    }
}

/// The smaller of two bandwidths, ignoring an unknown one.
fn min_known(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Facts about the way between two nodes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PairFacts {
    /// Switch hops between their switches (0 on one switch).
    pub hops: usize,
    /// Bandwidth between them.
    pub capacity: Capacity,
    /// Estimated one-way latency, microseconds.
    pub latency_us_estimate: f64,
}

/// One snapshot indexed for queries.
pub struct Index<'a> {
    topo: &'a Topology,
    /// Links by their source end.
    by_src: HashMap<(u64, u32), &'a LinkView>,
    /// Outgoing links per switch.
    out: HashMap<u64, Vec<&'a LinkView>>,
    /// Node name to attachment.
    nodes: HashMap<&'a str, End>,
    /// Hosts by the port they are attached to.
    hosts: HashMap<(u64, u32), &'a crate::model::HostView>,
}

fn spare(l: &LinkView, forecast: bool) -> Option<f64> {
    let load = if forecast {
        l.forecast
            .as_ref()
            .and_then(|f| f.first())
            .map(|f| f.mean)
            .or(l.tx_bps)
    } else {
        l.tx_bps
    };
    Some((l.capacity_bps? - load.unwrap_or(0.0)).max(0.0))
}

impl<'a> Index<'a> {
    /// Indexes a snapshot.
    pub fn new(topo: &'a Topology) -> Index<'a> {
        let mut by_src = HashMap::new();
        let mut out: HashMap<u64, Vec<&LinkView>> = HashMap::new();
        for l in &topo.links {
            by_src.insert((l.src.dpid.0, l.src.port_no), l);
            out.entry(l.src.dpid.0).or_default().push(l);
        }
        let nodes = topo
            .nodes
            .iter()
            .filter_map(|n| Some((n.name.as_str(), n.attachment?)))
            .collect();
        let hosts = topo
            .hosts
            .iter()
            .map(|h| ((h.dpid.0, h.port_no), h))
            .collect();
        Index {
            topo,
            by_src,
            out,
            nodes,
            hosts,
        }
    }

    /// Where a node is attached, if known.
    pub fn attachment(&self, node: &str) -> Option<End> {
        self.nodes.get(node).copied()
    }

    /// Spare bandwidth at a node (access port and its switch's uplinks).
    pub fn node_capacity(&self, at: End) -> Capacity {
        let access = self.hosts.get(&(at.dpid.0, at.port_no)).and_then(|h| {
            let busy = h.tx_bps.unwrap_or(0.0).max(h.rx_bps.unwrap_or(0.0));
            Some((h.speed_bps? - busy).max(0.0))
        });
        let uplinks = self.out.get(&at.dpid.0);
        let uplink = |forecast: bool| -> Option<f64> {
            uplinks.map(|ls| ls.iter().map(|l| spare(l, forecast)).sum::<Option<f64>>())?
        };
        Capacity {
            available_bps: min_known(access, uplink(false)),
            forecast_available_bps: min_known(access, uplink(true)),
        }
    }

    /// The links of the paths from switch `a` to switch `b`: the group's,
    /// else one shortest path; none if `b` is unreachable.
    fn paths(&self, a: u64, b: u64) -> Vec<Vec<&'a LinkView>> {
        if let Some(g) = self
            .topo
            .groups
            .iter()
            .find(|g| g.src.0 == a && g.dst.0 == b)
        {
            let paths: Vec<Vec<&LinkView>> = g
                .paths
                .iter()
                .filter(|p| p.weight > 0)
                .filter_map(|p| {
                    p.hops
                        .iter()
                        .map(|h| self.by_src.get(&(h.dpid.0, h.port_no)).copied())
                        .collect()
                })
                .collect();
            if !paths.is_empty() {
                return paths;
            }
        }
        self.shortest(a, b).into_iter().collect()
    }

    /// A shortest path by hops (BFS), as links.
    fn shortest(&self, a: u64, b: u64) -> Option<Vec<&'a LinkView>> {
        let mut prev: HashMap<u64, &LinkView> = HashMap::new();
        let mut queue = VecDeque::from([a]);
        let mut seen = std::collections::HashSet::from([a]);
        while let Some(s) = queue.pop_front() {
            if s == b {
                let mut path = Vec::new();
                let mut at = b;
                while at != a {
                    let l = prev[&at];
                    path.push(l);
                    at = l.src.dpid.0;
                }
                path.reverse();
                return Some(path);
            }
            for l in self.out.get(&s).into_iter().flatten() {
                if seen.insert(l.dst.dpid.0) {
                    prev.insert(l.dst.dpid.0, l);
                    queue.push_back(l.dst.dpid.0);
                }
            }
        }
        None
    }

    /// Hops, bandwidth and latency between two attachments; None when no
    /// path joins their switches.
    pub fn pair(&self, a: End, b: End) -> Option<PairFacts> {
        let (na, nb) = (self.node_capacity(a), self.node_capacity(b));
        let ends = |f: fn(&Capacity) -> Option<f64>| min_known(f(&na), f(&nb));
        if a.dpid == b.dpid {
            return Some(PairFacts {
                hops: 0,
                capacity: Capacity {
                    available_bps: ends(|c| c.available_bps),
                    forecast_available_bps: ends(|c| c.forecast_available_bps),
                },
                latency_us_estimate: PER_HOP_LATENCY_US,
            });
        }
        let paths = self.paths(a.dpid.0, b.dpid.0);
        let hops = paths.iter().map(Vec::len).min()?;
        let fabric = |forecast: bool| -> Option<f64> {
            let mut left: HashMap<(u64, u32), f64> = HashMap::new();
            let mut total = 0.0;
            for p in &paths {
                let mut bottleneck = f64::INFINITY;
                for l in p {
                    let key = (l.src.dpid.0, l.src.port_no);
                    let s = *left.entry(key).or_insert(spare(l, forecast)?);
                    bottleneck = bottleneck.min(s);
                }
                for l in p {
                    *left.get_mut(&(l.src.dpid.0, l.src.port_no))? -= bottleneck;
                }
                total += bottleneck;
            }
            Some(total)
        };
        Some(PairFacts {
            hops,
            capacity: Capacity {
                available_bps: min_known(fabric(false), ends(|c| c.available_bps)),
                forecast_available_bps: min_known(fabric(true), ends(|c| c.forecast_available_bps)),
            },
            latency_us_estimate: (hops + 1) as f64 * PER_HOP_LATENCY_US,
        })
    }
}

/// How well a node suits a pod that talks to peers on `peer_nodes` and needs
/// `need` bit/s (a reference of 10 Mbit/s when it declares none), from 0 to
/// 1: per peer, the mean of a bandwidth term `bw / (bw + need)` and a
/// distance term `1 / (1 + hops)`, 1 on the peer's own node; averaged over
/// the peers. Without peers only the node's own bandwidth counts. A node the
/// controller has not located scores 0.
pub fn affinity(index: &Index, node: &str, peer_nodes: &[String], need: Option<f64>) -> f64 {
    let need = need.unwrap_or(10e6).max(1.0);
    let Some(at) = index.attachment(node) else {
        return 0.0;
    };
    let bw_term = |bw: Option<f64>| bw.map_or(0.5, |b| b / (b + need));
    if peer_nodes.is_empty() {
        return bw_term(index.node_capacity(at).worst());
    }
    // Many peer pods share few nodes: each node is scored once, weighted by its pods.
    let mut per_node: HashMap<&str, usize> = HashMap::new();
    for peer in peer_nodes {
        *per_node.entry(peer.as_str()).or_default() += 1;
    }
    let score = |peer: &str| {
        if peer == node {
            return 1.0;
        }
        let Some(pat) = index.attachment(peer) else {
            return 0.0;
        };
        index.pair(at, pat).map_or(0.0, |f| {
            0.5 * bw_term(f.capacity.worst()) + 0.5 / (1.0 + f.hops as f64)
        })
    };
    let total: f64 = per_node
        .iter()
        .map(|(peer, &n)| n as f64 * score(peer))
        .sum();
    total / peer_nodes.len() as f64
}
