//! The network as the controller knows it: switches with their ports, and
//! the directed inter-switch links discovered by LLDP, as a petgraph graph.
//!
//! Each physical link is two directed edges, one per direction, each learned
//! from the probe that crossed it. A port with no link attached is an edge
//! port (where hosts live). The topology holds no clock; link ages are
//! stamped with the `now` given to it.

use ahash::AHashMap as HashMap;
use edgeflow_algorithms::paths;
use edgeflow_algorithms::te::Searcher;
use edgeflow_proto::ofp::Port;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// A switch port: datapath id and port number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRef {
    /// Datapath id of the switch.
    pub dpid: u64,
    /// OpenFlow port number.
    pub port: u32,
}

/// A directed link: a probe sent out of `src` arrived at `dst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    /// Where the traffic leaves.
    pub src: PortRef,
    /// Where it arrives.
    pub dst: PortRef,
}

/// Edge weight of the graph: the link and when a probe last confirmed it.
#[derive(Debug, Clone)]
pub struct LinkState {
    /// The two ends.
    pub link: Link,
    /// Last time a probe crossed it.
    pub last_seen: Instant,
}

/// What the controller knows about one switch.
#[derive(Debug, Clone)]
pub struct SwitchInfo {
    /// Ports by number, as last described by the switch.
    pub ports: BTreeMap<u32, Port>,
    /// Graph node of this switch.
    node: NodeIndex,
}

/// Switches, ports and links.
#[derive(Debug, Default)]
pub struct Topology {
    graph: StableDiGraph<u64, LinkState>,
    /// Hop distances to each destination switch asked for since the graph
    /// last changed: a path costs a walk, not a search of the whole fabric.
    hops: RefCell<HashMap<NodeIndex, Vec<Option<u32>>>>,
    /// The k-shortest-path searcher over the graph (with the distances to
    /// each destination searched), kept as `hops` is: a group for a new
    /// pair of switches then costs only its own searches.
    ksp: RefCell<Option<Searcher>>,
    switches: BTreeMap<u64, SwitchInfo>,
    /// Directed links by their source port (a port sends to one place).
    by_src: HashMap<PortRef, EdgeIndex>,
    /// Directed links by their destination port.
    by_dst: HashMap<PortRef, EdgeIndex>,
}

impl Topology {
    /// Adds a switch (or replaces its port list if it reconnected).
    pub fn add_switch(&mut self, dpid: u64, ports: Vec<Port>) {
        let ports = ports.into_iter().map(|p| (p.port_no, p)).collect();
        match self.switches.get_mut(&dpid) {
            Some(sw) => sw.ports = ports,
            None => {
                let node = self.graph.add_node(dpid);
                self.graph_changed();
                self.switches.insert(dpid, SwitchInfo { ports, node });
            }
        }
    }

    /// Removes a switch and its links; returns the links removed.
    pub fn remove_switch(&mut self, dpid: u64) -> Vec<Link> {
        let Some(sw) = self.switches.remove(&dpid) else {
            return Vec::new();
        };
        let removed = self.links_where(|l| l.src.dpid == dpid || l.dst.dpid == dpid);
        for l in &removed {
            self.forget(l);
        }
        self.graph.remove_node(sw.node);
        self.graph_changed();
        removed
    }

    /// Records a port's new description; returns the links removed because it is down.
    pub fn update_port(&mut self, dpid: u64, port: Port) -> Vec<Link> {
        let up = port.is_up();
        let port_no = port.port_no;
        if let Some(sw) = self.switches.get_mut(&dpid) {
            sw.ports.insert(port_no, port);
        }
        if up {
            Vec::new()
        } else {
            self.remove_port_links(PortRef {
                dpid,
                port: port_no,
            })
        }
    }

    /// Forgets a deleted port; returns the links removed with it.
    pub fn delete_port(&mut self, dpid: u64, port_no: u32) -> Vec<Link> {
        if let Some(sw) = self.switches.get_mut(&dpid) {
            sw.ports.remove(&port_no);
        }
        self.remove_port_links(PortRef {
            dpid,
            port: port_no,
        })
    }

    fn remove_port_links(&mut self, p: PortRef) -> Vec<Link> {
        let removed = self.links_where(|l| l.src == p || l.dst == p);
        for l in &removed {
            self.forget(l);
        }
        removed
    }

    /// Records that a probe crossed `link` at `now`. Returns true if the link
    /// is new. A port links to one neighbour at a time: a probe that shows a
    /// port now reaches somewhere else replaces the old link (also returned
    /// through `replaced`).
    pub fn observe_link(&mut self, link: Link, now: Instant, replaced: &mut Vec<Link>) -> bool {
        let (Some(src), Some(dst)) = (
            self.switches.get(&link.src.dpid).map(|s| s.node),
            self.switches.get(&link.dst.dpid).map(|s| s.node),
        ) else {
            return false;
        };
        if let Some(&e) = self.by_src.get(&link.src) {
            if self.graph[e].link == link {
                self.graph[e].last_seen = now;
                return false;
            }
        }
        let stale = self.links_where(|l| l.src == link.src || l.dst == link.dst);
        for l in &stale {
            self.forget(l);
        }
        replaced.extend(stale);
        self.graph_changed();
        let e = self.graph.add_edge(
            src,
            dst,
            LinkState {
                link,
                last_seen: now,
            },
        );
        self.by_src.insert(link.src, e);
        self.by_dst.insert(link.dst, e);
        true
    }

    /// Removes links not confirmed within `timeout` before `now`; returns them.
    pub fn expire_links(&mut self, now: Instant, timeout: Duration) -> Vec<Link> {
        let stale: Vec<Link> = self
            .graph
            .edge_weights()
            .filter(|s| now.saturating_duration_since(s.last_seen) > timeout)
            .map(|s| s.link)
            .collect();
        for l in &stale {
            self.forget(l);
        }
        stale
    }

    fn links_where(&self, f: impl Fn(&Link) -> bool) -> Vec<Link> {
        self.graph
            .edge_weights()
            .map(|s| s.link)
            .filter(|l| f(l))
            .collect()
    }

    /// Switches or links came or went: what was computed from the graph
    /// is computed again when next asked for.
    fn graph_changed(&mut self) {
        self.hops.get_mut().clear();
        *self.ksp.get_mut() = None;
    }

    fn forget(&mut self, l: &Link) {
        if let Some(e) = self.by_src.remove(&l.src) {
            self.graph.remove_edge(e);
            self.graph_changed();
        }
        self.by_dst.remove(&l.dst);
    }

    /// The switches by datapath id.
    pub fn switches(&self) -> &BTreeMap<u64, SwitchInfo> {
        &self.switches
    }

    /// All directed links, sorted.
    pub fn links(&self) -> Vec<Link> {
        let mut v: Vec<Link> = self.graph.edge_weights().map(|s| s.link).collect();
        v.sort();
        v
    }

    /// True if this directed link is known.
    pub fn has_link(&self, l: Link) -> bool {
        self.by_src
            .get(&l.src)
            .is_some_and(|&e| self.graph[e].link == l)
    }

    /// True if the port has a link attached in either direction.
    pub fn is_link_port(&self, p: PortRef) -> bool {
        self.by_src.contains_key(&p) || self.by_dst.contains_key(&p)
    }

    /// Physical, up ports of a switch with no link attached: where hosts are.
    pub fn edge_ports(&self, dpid: u64) -> Vec<u32> {
        self.switches.get(&dpid).map_or_else(Vec::new, |sw| {
            sw.ports
                .values()
                .filter(|p| p.port_no <= edgeflow_proto::ofp::port::MAX && p.is_up())
                .map(|p| p.port_no)
                .filter(|&port| !self.is_link_port(PortRef { dpid, port }))
                .collect()
        })
    }

    /// Physical ports of a switch that have a link attached.
    pub fn link_ports(&self, dpid: u64) -> Vec<u32> {
        self.switches.get(&dpid).map_or_else(Vec::new, |sw| {
            sw.ports
                .keys()
                .copied()
                .filter(|&port| self.is_link_port(PortRef { dpid, port }))
                .collect()
        })
    }

    /// A shortest path from switch `src` to switch `dst` as the directed links
    /// to follow; `choose(hop, n)` picks among equal-cost next hops (see
    /// [`paths::shortest_path_by`]).
    pub fn path(
        &self,
        src: u64,
        dst: u64,
        choose: impl FnMut(usize, usize) -> usize,
    ) -> Option<Vec<Link>> {
        let s = self.switches.get(&src)?.node;
        let d = self.switches.get(&dst)?.node;
        let mut hops = self.hops.borrow_mut();
        let dist = hops
            .entry(d)
            .or_insert_with(|| paths::hops_to(&self.graph, d));
        let edges = paths::walk_shortest(&self.graph, s, dist, choose)?;
        Some(edges.into_iter().map(|e| self.graph[e].link).collect())
    }

    /// Up to `k` loopless paths from switch `src` to switch `dst`, shortest
    /// (by hop count) first, as the directed links to follow; among equally
    /// short ones, paths sharing fewer links with those already found first.
    pub fn k_paths(&self, src: u64, dst: u64, k: usize) -> Vec<Vec<Link>> {
        let (Some(s), Some(d)) = (self.switches.get(&src), self.switches.get(&dst)) else {
            return Vec::new();
        };
        self.ksp
            .borrow_mut()
            .get_or_insert_with(|| Searcher::new(&self.graph, |_| 1.0))
            .k_shortest(s.node, d.node, k)
            .into_iter()
            .map(|p| p.edges.into_iter().map(|e| self.graph[e].link).collect())
            .collect()
    }

    /// The ports of each switch on a spanning tree of the links, rooted at the
    /// lowest datapath id of each connected part: flooding along these ports
    /// reaches every switch exactly once.
    pub fn tree_ports(&self) -> BTreeSet<PortRef> {
        let rev = |e: EdgeIndex| {
            let l = self.graph[e].link;
            self.by_src
                .get(&l.dst)
                .copied()
                .filter(|&b| self.graph[b].link.dst == l.src)
        };
        paths::spanning_tree(&self.graph, |dpid| *dpid, rev)
            .into_iter()
            .map(|e| self.graph[e].link.src)
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use edgeflow_proto::MacAddr;

    pub(crate) fn port(no: u32) -> Port {
        Port {
            port_no: no,
            hw_addr: MacAddr([0, 0, 0, 0, 0, no as u8]),
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

    fn pr(dpid: u64, port: u32) -> PortRef {
        PortRef { dpid, port }
    }

    fn both(t: &mut Topology, a: PortRef, b: PortRef, now: Instant) {
        let mut r = Vec::new();
        t.observe_link(Link { src: a, dst: b }, now, &mut r);
        t.observe_link(Link { src: b, dst: a }, now, &mut r);
        assert!(r.is_empty());
    }

    /// `n` switches, each linked to every other: switch a's port b leads
    /// to switch b's port a.
    pub(crate) fn mesh(n: u64, now: Instant) -> Topology {
        let mut t = Topology::default();
        for d in 1..=n {
            t.add_switch(d, (1..=n as u32).map(port).collect());
        }
        for a in 1..=n {
            for b in a + 1..=n {
                both(&mut t, pr(a, b as u32), pr(b, a as u32), now);
            }
        }
        t
    }

    /// Three switches in a triangle, each with one host port (port 3).
    fn triangle(now: Instant) -> Topology {
        let mut t = Topology::default();
        for d in 1..=3 {
            t.add_switch(d, vec![port(1), port(2), port(3)]);
        }
        both(&mut t, pr(1, 1), pr(2, 2), now);
        both(&mut t, pr(2, 1), pr(3, 2), now);
        both(&mut t, pr(3, 1), pr(1, 2), now);
        t
    }

    #[test]
    fn edge_ports_exclude_link_ports() {
        let t = triangle(Instant::now());
        assert_eq!(t.edge_ports(1), vec![3]);
        assert_eq!(t.link_ports(1), vec![1, 2]);
        assert_eq!(t.links().len(), 6);
    }

    #[test]
    fn spanning_tree_of_triangle_drops_one_link() {
        let t = triangle(Instant::now());
        let tree = t.tree_ports();
        assert_eq!(tree.len(), 4, "two links, both ends: {tree:?}");
    }

    #[test]
    fn port_down_removes_both_directions() {
        let mut t = triangle(Instant::now());
        let mut p = port(1);
        p.state = 1; // OFPPS_LINK_DOWN
        let removed = t.update_port(1, p);
        assert_eq!(removed.len(), 2);
        assert_eq!(t.links().len(), 4);
        // The path from 1 to 2 now goes around through 3.
        let path = t.path(1, 2, |_, _| 0).unwrap();
        assert_eq!(path.len(), 2);
        assert_eq!(path[0].dst.dpid, 3);
    }

    #[test]
    fn links_expire_without_probes() {
        let t0 = Instant::now();
        let mut t = triangle(t0);
        let mut r = Vec::new();
        let later = t0 + Duration::from_secs(2);
        t.observe_link(
            Link {
                src: pr(1, 1),
                dst: pr(2, 2),
            },
            later,
            &mut r,
        );
        let gone = t.expire_links(t0 + Duration::from_secs(4), Duration::from_secs(3));
        assert_eq!(gone.len(), 5);
        assert_eq!(
            t.links(),
            vec![Link {
                src: pr(1, 1),
                dst: pr(2, 2)
            }]
        );
    }

    #[test]
    fn recabled_port_replaces_old_link() {
        let now = Instant::now();
        let mut t = triangle(now);
        let mut r = Vec::new();
        assert!(t.observe_link(
            Link {
                src: pr(1, 1),
                dst: pr(3, 3)
            },
            now,
            &mut r
        ));
        assert_eq!(
            r,
            vec![Link {
                src: pr(1, 1),
                dst: pr(2, 2)
            }]
        );
    }

    #[test]
    fn removing_a_switch_removes_its_links() {
        let mut t = triangle(Instant::now());
        assert_eq!(t.remove_switch(2).len(), 4);
        assert_eq!(t.links().len(), 2);
        assert!(t.path(1, 2, |_, _| 0).is_none());
    }
}
