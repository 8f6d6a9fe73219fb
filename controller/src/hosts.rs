//! Hosts learned from ARP and IP packets that arrive on edge ports.

use crate::topology::PortRef;
use ahash::AHashMap as HashMap;
use edgeflow_proto::MacAddr;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Instant;

/// One host: where it is attached and which addresses it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its MAC address.
    pub mac: MacAddr,
    /// IP addresses seen as its source address.
    pub ips: BTreeSet<IpAddr>,
    /// The edge port it is attached to.
    pub at: PortRef,
    /// When a packet from it was last seen.
    pub last_seen: Instant,
}

/// What learning a packet's source changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    /// Nothing new.
    Known,
    /// A host seen for the first time (or a new address of a known host).
    New,
    /// The host appeared at another port: it moved from `from`.
    Moved {
        /// Where it was before.
        from: PortRef,
    },
    /// A new host on a port that already has [`MAX_HOSTS_PER_PORT`]: not learned.
    Refused,
}

/// Most hosts learned on one edge port (a node with many pods behind a
/// bridge has hundreds; a host inventing source addresses has more).
pub const MAX_HOSTS_PER_PORT: usize = 4096;
/// Most IP addresses kept for one host.
pub const MAX_IPS_PER_HOST: usize = 64;

/// The host table, indexed by MAC and by IP address.
#[derive(Debug, Default)]
pub struct HostTable {
    /// Hashed, not ordered: every PACKET_IN looks up two or three hosts.
    by_mac: HashMap<MacAddr, Host>,
    by_ip: HashMap<IpAddr, MacAddr>,
    /// Hosts per edge port.
    per_port: HashMap<PortRef, usize>,
}

impl HostTable {
    /// Records that `mac` (with source address `ip`, if any) sent a packet
    /// that entered the network at edge port `at`.
    pub fn learn(
        &mut self,
        mac: MacAddr,
        ip: Option<IpAddr>,
        at: PortRef,
        now: Instant,
    ) -> Learned {
        // The usual case: a known host, on its port, with a known address
        // (an address in a host's set is the host's in by_ip too).
        if let Some(h) = self.by_mac.get_mut(&mac) {
            let ip_known =
                ip.is_none_or(|ip| ip.is_unspecified() || ip.is_multicast() || h.ips.contains(&ip));
            if h.at == at && ip_known {
                h.last_seen = now;
                return Learned::Known;
            }
        }
        let known = self.by_mac.get(&mac);
        if known.is_none()
            && self
                .per_port
                .get(&at)
                .is_some_and(|&n| n >= MAX_HOSTS_PER_PORT)
        {
            return Learned::Refused;
        }
        let room = known.is_none_or(|h| h.ips.len() < MAX_IPS_PER_HOST);
        let ip = ip.filter(|ip| !ip.is_unspecified() && !ip.is_multicast());
        let ip = ip.filter(|ip| room || known.is_some_and(|h| h.ips.contains(ip)));
        if let Some(ip) = ip.filter(|ip| self.by_ip.get(ip) != Some(&mac)) {
            // An address belongs to one host at a time (the newest claim wins).
            if let Some(old) = self.by_ip.insert(ip, mac) {
                if old != mac {
                    if let Some(h) = self.by_mac.get_mut(&old) {
                        h.ips.remove(&ip);
                    }
                }
            }
        }
        match self.by_mac.get_mut(&mac) {
            Some(h) => {
                h.last_seen = now;
                let new_ip = ip.is_some_and(|ip| h.ips.insert(ip));
                if h.at != at {
                    let from = std::mem::replace(&mut h.at, at);
                    self.count(from, false);
                    self.count(at, true);
                    Learned::Moved { from }
                } else if new_ip {
                    Learned::New
                } else {
                    Learned::Known
                }
            }
            None => {
                self.count(at, true);
                self.by_mac.insert(
                    mac,
                    Host {
                        mac,
                        ips: ip.into_iter().collect(),
                        at,
                        last_seen: now,
                    },
                );
                Learned::New
            }
        }
    }

    /// The host with this MAC address.
    pub fn get(&self, mac: &MacAddr) -> Option<&Host> {
        self.by_mac.get(mac)
    }

    /// The MAC address that last used this IP address.
    pub fn mac_of(&self, ip: &IpAddr) -> Option<MacAddr> {
        self.by_ip.get(ip).copied()
    }

    /// Forgets the hosts attached where `at` holds (a switch that left, a
    /// port found to be an inter-switch link); returns their MACs.
    pub fn remove_where(&mut self, at: impl Fn(PortRef) -> bool) -> Vec<MacAddr> {
        let gone: Vec<MacAddr> = self
            .by_mac
            .values()
            .filter(|h| at(h.at))
            .map(|h| h.mac)
            .collect();
        self.remove(&gone);
        gone
    }

    /// Forgets the hosts not seen for `idle` (their last packet to the
    /// controller is that old) unless `active(mac)` says flows still carry
    /// their traffic (a host whose flows are installed stops reaching the
    /// controller); returns their MACs.
    pub fn expire(
        &mut self,
        now: Instant,
        idle: std::time::Duration,
        active: impl Fn(&MacAddr) -> bool,
    ) -> Vec<MacAddr> {
        let gone: Vec<MacAddr> = self
            .by_mac
            .values()
            .filter(|h| now.saturating_duration_since(h.last_seen) >= idle && !active(&h.mac))
            .map(|h| h.mac)
            .collect();
        self.remove(&gone);
        gone
    }

    /// Counts a host in (`true`) or out of a port.
    fn count(&mut self, at: PortRef, arrives: bool) {
        let n = self.per_port.entry(at).or_default();
        if arrives {
            *n += 1;
        } else {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_port.remove(&at);
            }
        }
    }

    fn remove(&mut self, macs: &[MacAddr]) {
        for mac in macs {
            if let Some(h) = self.by_mac.remove(mac) {
                self.count(h.at, false);
                for ip in h.ips {
                    // The address may have passed to another host since.
                    if self.by_ip.get(&ip) == Some(mac) {
                        self.by_ip.remove(&ip);
                    }
                }
            }
        }
    }

    /// All hosts, ordered by MAC.
    pub fn iter(&self) -> impl Iterator<Item = &Host> {
        let mut all: Vec<&Host> = self.by_mac.values().collect();
        all.sort_unstable_by_key(|h| h.mac);
        all.into_iter()
    }

    /// Number of hosts.
    pub fn len(&self) -> usize {
        self.by_mac.len()
    }

    /// True if no host is known.
    pub fn is_empty(&self) -> bool {
        self.by_mac.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: MacAddr = MacAddr([0, 0, 0, 0, 0, 0xa]);
    const B: MacAddr = MacAddr([0, 0, 0, 0, 0, 0xb]);

    fn at(dpid: u64, port: u32) -> PortRef {
        PortRef { dpid, port }
    }

    #[test]
    fn learns_and_follows_a_move() {
        let now = Instant::now();
        let mut t = HostTable::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(t.learn(A, Some(ip), at(1, 1), now), Learned::New);
        assert_eq!(t.learn(A, Some(ip), at(1, 1), now), Learned::Known);
        assert_eq!(t.mac_of(&ip), Some(A));
        assert_eq!(
            t.learn(A, None, at(2, 3), now),
            Learned::Moved { from: at(1, 1) }
        );
        assert_eq!(t.get(&A).unwrap().at, at(2, 3));
        assert_eq!(t.get(&A).unwrap().ips.len(), 1);
    }

    #[test]
    fn a_known_host_is_refreshed_and_still_learns_new_addresses() {
        let t0 = Instant::now();
        let later = t0 + std::time::Duration::from_secs(100);
        let mut t = HostTable::default();
        let (ip1, ip2): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        t.learn(A, Some(ip1), at(1, 1), t0);
        assert_eq!(t.learn(A, Some(ip1), at(1, 1), later), Learned::Known);
        assert_eq!(t.get(&A).unwrap().last_seen, later);
        assert_eq!(t.learn(A, None, at(1, 1), later), Learned::Known);
        assert_eq!(t.learn(A, Some(ip2), at(1, 1), later), Learned::New);
        assert_eq!(t.mac_of(&ip2), Some(A));
        // An address another host took back is learned again.
        t.learn(B, Some(ip1), at(1, 2), later);
        assert_eq!(t.learn(A, Some(ip1), at(1, 1), later), Learned::New);
        assert_eq!(t.mac_of(&ip1), Some(A));
        // Iteration stays ordered by MAC.
        let macs: Vec<MacAddr> = t.iter().map(|h| h.mac).collect();
        assert_eq!(macs, vec![A, B]);
    }

    #[test]
    fn an_address_moves_to_its_newest_owner() {
        let now = Instant::now();
        let mut t = HostTable::default();
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        t.learn(A, Some(ip), at(1, 1), now);
        t.learn(B, Some(ip), at(1, 2), now);
        assert_eq!(t.mac_of(&ip), Some(B));
        assert!(t.get(&A).unwrap().ips.is_empty());
    }

    #[test]
    fn unspecified_source_address_is_not_recorded() {
        let mut t = HostTable::default();
        t.learn(
            A,
            Some("0.0.0.0".parse().unwrap()),
            at(1, 1),
            Instant::now(),
        );
        assert!(t.get(&A).unwrap().ips.is_empty());
    }

    #[test]
    fn leaving_switch_takes_its_hosts() {
        let now = Instant::now();
        let mut t = HostTable::default();
        t.learn(A, Some("10.0.0.1".parse().unwrap()), at(1, 1), now);
        t.learn(B, None, at(2, 1), now);
        assert_eq!(t.remove_where(|p| p.dpid == 1), vec![A]);
        assert_eq!(t.len(), 1);
        assert_eq!(t.mac_of(&"10.0.0.1".parse().unwrap()), None);
    }

    #[test]
    fn silent_hosts_expire_and_an_address_that_moved_stays_with_its_new_host() {
        let t0 = Instant::now();
        let mut t = HostTable::default();
        let (a, b) = (MacAddr([0, 0, 0, 0, 0, 1]), MacAddr([0, 0, 0, 0, 0, 2]));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let at = PortRef { dpid: 1, port: 1 };
        t.learn(a, Some(ip), at, t0);
        let later = t0 + std::time::Duration::from_secs(200);
        t.learn(b, Some(ip), PortRef { dpid: 1, port: 2 }, later);
        let idle = std::time::Duration::from_secs(300);
        assert!(t.expire(t0 + idle, idle, |_| false) == vec![a]);
        assert_eq!(t.mac_of(&ip), Some(b), "b's address survives a's expiry");
        assert!(
            t.expire(later + idle, idle, |m| *m == b).is_empty(),
            "b is active"
        );
        assert_eq!(t.expire(later + idle, idle, |_| false), vec![b]);
        assert!(t.is_empty() && t.mac_of(&ip).is_none());
    }

    #[test]
    fn a_port_and_a_host_learn_only_so_many_addresses() {
        let now = Instant::now();
        let mut t = HostTable::default();
        let port = PortRef { dpid: 1, port: 1 };
        let mac = |n: usize| MacAddr([2, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8, 0]);
        for n in 0..MAX_HOSTS_PER_PORT {
            assert_eq!(t.learn(mac(n), None, port, now), Learned::New);
        }
        let extra = mac(MAX_HOSTS_PER_PORT);
        assert_eq!(t.learn(extra, None, port, now), Learned::Refused);
        assert!(t.get(&extra).is_none());
        let other = PortRef { dpid: 1, port: 2 };
        assert_eq!(
            t.learn(extra, None, other, now),
            Learned::New,
            "another port has room"
        );
        // A host that moves away makes room.
        assert_eq!(
            t.learn(mac(0), None, other, now),
            Learned::Moved { from: port }
        );
        assert_eq!(
            t.learn(mac(MAX_HOSTS_PER_PORT + 1), None, port, now),
            Learned::New
        );
        // Addresses per host are capped; known ones still refresh.
        let a = MacAddr([4, 0, 0, 0, 0, 1]);
        let p3 = PortRef { dpid: 1, port: 3 };
        for n in 0..MAX_IPS_PER_HOST + 10 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a01_0000 + n as u32));
            t.learn(a, Some(ip), p3, now);
        }
        assert_eq!(t.get(&a).unwrap().ips.len(), MAX_IPS_PER_HOST);
        let beyond = IpAddr::V4(std::net::Ipv4Addr::from(
            0x0a01_0000 + MAX_IPS_PER_HOST as u32,
        ));
        assert_eq!(t.mac_of(&beyond), None);
    }
}
