//! How emulated switches are wired: which port of which switch each link
//! port leads to, and which switches have host ports.
//!
//! Switches are numbered 0..n (datapath id = number + 1). On every switch
//! the link ports come first (1..=degree, in the order the links were made),
//! then its host ports, then unconnected ports up to the port count.

use anyhow::{bail, Result};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use std::collections::HashSet;

/// One end of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct End {
    /// Switch number.
    pub switch: u32,
    /// Port number on it.
    pub port: u32,
}

/// The wiring of a fabric of emulated switches.
#[derive(Debug, Clone)]
pub struct Fabric {
    /// Per switch, per link port (index port - 1), the far end.
    peers: Vec<Vec<End>>,
    /// Per switch, whether hosts sit on it.
    edge: Vec<bool>,
}

impl Fabric {
    /// `n` switches with no links, every one with hosts.
    pub fn isolated(n: usize) -> Fabric {
        Fabric {
            peers: vec![Vec::new(); n],
            edge: vec![true; n],
        }
    }

    /// Switches wired by `links` (pairs of switch numbers), hosts on `edge`.
    fn from_links(n: usize, links: &[(u32, u32)], edge: Vec<bool>) -> Fabric {
        let mut peers: Vec<Vec<End>> = vec![Vec::new(); n];
        for &(a, b) in links {
            let pa = peers[a as usize].len() as u32 + 1;
            let pb = peers[b as usize].len() as u32 + 1;
            peers[a as usize].push(End {
                switch: b,
                port: pb,
            });
            peers[b as usize].push(End {
                switch: a,
                port: pa,
            });
        }
        Fabric { peers, edge }
    }

    /// A k-ary fat-tree (the benches' [`crate::fat_tree`]); hosts on the edge layer.
    pub fn fat_tree(k: usize) -> Result<Fabric> {
        if k < 2 || !k.is_multiple_of(2) {
            bail!("a fat-tree needs an even k of at least 2, not {k}");
        }
        let (g, edges): (StableDiGraph<u64, ()>, Vec<NodeIndex>) = crate::fat_tree(k);
        let links: Vec<(u32, u32)> = (&g)
            .edge_references()
            .filter(|e| e.source() < e.target())
            .map(|e| (e.source().index() as u32, e.target().index() as u32))
            .collect();
        let mut edge = vec![false; g.node_count()];
        for e in edges {
            edge[e.index()] = true;
        }
        Ok(Fabric::from_links(g.node_count(), &links, edge))
    }

    /// A random `d`-regular graph on `n` switches (configuration model,
    /// redrawn until it has no loops or parallel links); hosts everywhere.
    pub fn random_regular(n: usize, d: usize, seed: u64) -> Result<Fabric> {
        if d >= n || !(n * d).is_multiple_of(2) {
            bail!("no {d}-regular graph on {n} switches");
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut stubs: Vec<u32> = (0..n as u32)
            .flat_map(|s| std::iter::repeat_n(s, d))
            .collect();
        for _ in 0..100_000 {
            stubs.shuffle(&mut rng);
            let mut seen = HashSet::with_capacity(n * d / 2);
            let links: Vec<(u32, u32)> = stubs
                .chunks(2)
                .map(|p| (p[0].min(p[1]), p[0].max(p[1])))
                .collect();
            if links.iter().all(|&(a, b)| a != b && seen.insert((a, b))) {
                return Ok(Fabric::from_links(n, &links, vec![true; n]));
            }
        }
        bail!("found no simple {d}-regular graph on {n} switches")
    }

    /// Number of switches.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// True for a fabric of no switches.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Link ports of switch `s` (ports 1..=this).
    pub fn link_ports(&self, s: u32) -> u32 {
        self.peers[s as usize].len() as u32
    }

    /// Whether hosts sit on switch `s`.
    pub fn has_hosts(&self, s: u32) -> bool {
        self.edge[s as usize]
    }

    /// The far end of port `port` of switch `s`, if it is a link port.
    pub fn peer(&self, s: u32, port: u32) -> Option<End> {
        let i = usize::try_from(port.checked_sub(1)?).ok()?;
        self.peers.get(s as usize)?.get(i).copied()
    }

    /// Links counted once per direction, as the controller reports them.
    pub fn directed_links(&self) -> usize {
        self.peers.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every link port leads to a port that leads back.
    fn assert_symmetric(f: &Fabric) {
        for s in 0..f.len() as u32 {
            for p in 1..=f.link_ports(s) {
                let far = f.peer(s, p).unwrap();
                assert_eq!(
                    f.peer(far.switch, far.port),
                    Some(End { switch: s, port: p })
                );
            }
        }
    }

    #[test]
    fn fat_tree_has_its_switches_links_and_edge_layer() {
        let f = Fabric::fat_tree(4).unwrap();
        assert_eq!(f.len(), 20);
        // k^3/4 = 16 links between layers... times two: k^3/2 directed.
        assert_eq!(f.directed_links(), 2 * (16 + 16));
        assert_eq!((0..20).filter(|&s| f.has_hosts(s)).count(), 8);
        assert!((0..20).all(|s| f.link_ports(s) == 2 || f.link_ports(s) == 4));
        assert_symmetric(&f);
    }

    #[test]
    fn random_regular_graph_is_simple_and_regular() {
        let f = Fabric::random_regular(100, 4, 1).unwrap();
        assert_eq!(f.directed_links(), 400);
        let mut pairs = HashSet::new();
        for s in 0..100 {
            assert_eq!(f.link_ports(s), 4);
            for p in 1..=4 {
                let far = f.peer(s, p).unwrap();
                assert_ne!(far.switch, s, "loop");
                assert!(pairs.insert((s, far.switch)), "parallel link");
            }
        }
        assert_symmetric(&f);
    }

    #[test]
    fn ports_beyond_the_links_lead_nowhere() {
        let f = Fabric::random_regular(10, 3, 2).unwrap();
        assert_eq!(f.peer(0, 0), None);
        assert_eq!(f.peer(0, 4), None);
        assert_eq!(Fabric::isolated(2).peer(1, 1), None);
    }

    #[test]
    fn impossible_regular_graphs_are_refused() {
        assert!(Fabric::random_regular(5, 3, 1).is_err());
        assert!(Fabric::random_regular(4, 4, 1).is_err());
        assert!(Fabric::fat_tree(3).is_err());
    }
}
