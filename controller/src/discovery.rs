//! Link discovery by LLDP, sans-IO.
//!
//! Every probe interval the controller sends, out of every physical port of
//! every ready switch, an LLDP frame naming the switch (chassis id
//! `dpid:<16 hex digits>`, locally assigned) and the port (port id, locally
//! assigned, the port number as 4 bytes), plus an organisational TLV with a
//! keyed signature (HMAC-SHA256 over chassis and port ids, truncated), so
//! that LLDP this controller did not send (from hosts, other controllers,
//! or a forged frame) is recognised, ignored and counted. A probe that comes
//! back as a PACKET_IN is a directed link; links not confirmed within the
//! timeout expire.

use crate::timers::Period;
use crate::topology::{Link, PortRef};
use ahash::AHashMap as HashMap;
use bytes::Bytes;
use edgeflow_proto::ofp::{self, Action, Message, OfpMsg, PacketOut};
use edgeflow_proto::packet::{ChassisId, LldpRepr, OrgTlv, PortId};
use edgeflow_proto::MacAddr;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, Instant};

/// Organisationally unique identifier of edgeflow's TLV (a locally administered value).
const EDGEFLOW_OUI: [u8; 3] = [0x02, 0xed, 0x6f];
/// Subtype of the signature TLV.
const SIGNATURE_SUBTYPE: u8 = 1;
/// Bytes of the HMAC kept in the signature.
const SIGNATURE_LEN: usize = 16;
/// Time-to-live advertised in probes, in seconds.
const PROBE_TTL: u16 = 120;
/// Prefix of the chassis id of our probes.
const CHASSIS_PREFIX: &str = "dpid:";

/// Discovery settings.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// Interval between probe rounds.
    pub probe_interval: Duration,
    /// A link not confirmed for this long is removed.
    pub link_timeout: Duration,
    /// Key of the probe signature.
    pub key: Vec<u8>,
}

/// Why an LLDP frame was not taken as a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Not a parsable LLDPDU.
    Malformed,
    /// No signature, or one this controller did not make.
    Foreign,
}

/// Probe builder and verifier plus the probe timer.
#[derive(Debug)]
pub struct Discovery {
    config: DiscoveryConfig,
    probes: Period,
    /// Each port's probe, an encoded PACKET_OUT, with the MAC address it was
    /// built for: a probe never changes, and a fabric of 1,000 switches x 48
    /// ports sends 48,000 a second, each costing a keyed hash to build and
    /// (measured: 14-20 ms a round) encoding.
    frames: HashMap<u64, HashMap<u32, (MacAddr, Bytes)>>,
    /// LLDP frames received that this controller did not send.
    pub foreign: u64,
    /// LLDP frames that could not be parsed.
    pub malformed: u64,
}

impl Discovery {
    /// A discovery with no probe round scheduled yet.
    pub fn new(config: DiscoveryConfig) -> Discovery {
        Discovery {
            probes: Period::new(config.probe_interval),
            config,
            frames: HashMap::new(),
            foreign: 0,
            malformed: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// Starts the probe rounds if they are not running: the first comes
    /// one interval after the first switch connects.
    pub fn start(&mut self, now: Instant) {
        self.probes.start(now);
    }

    /// True when a probe round is due; schedules the next one.
    pub fn probe_due(&mut self, now: Instant) -> bool {
        self.probes.due(now).is_some()
    }

    /// When the next probe round is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.probes.next()
    }

    /// The keyed MAC over a probe's chassis and port ids.
    fn mac(&self, chassis: &[u8], port: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.config.key)
            .expect("HMAC accepts keys of any length");
        mac.update(&(chassis.len() as u32).to_be_bytes());
        mac.update(chassis);
        mac.update(port);
        mac
    }

    fn signature(&self, chassis: &[u8], port: &[u8]) -> [u8; SIGNATURE_LEN] {
        let full = self.mac(chassis, port).finalize().into_bytes();
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(&full[..SIGNATURE_LEN]);
        out
    }

    /// The PACKET_OUT that sends a probe out of `port` of switch `dpid`,
    /// with the port's MAC address as source.
    pub fn probe(&mut self, dpid: u64, port: u32, hw_addr: MacAddr) -> Bytes {
        let cached = self.frames.get(&dpid).and_then(|ports| ports.get(&port));
        match cached {
            Some((mac, probe)) if *mac == hw_addr => probe.clone(),
            _ => {
                let packet_out = Message::PacketOut(PacketOut {
                    buffer_id: ofp::NO_BUFFER,
                    in_port: ofp::port::CONTROLLER,
                    actions: vec![Action::Output { port, max_len: 0 }],
                    data: self.frame(dpid, port, hw_addr),
                });
                let probe = Bytes::from(OfpMsg::new(0, packet_out).to_vec());
                let ports = self.frames.entry(dpid).or_default();
                ports.insert(port, (hw_addr, probe.clone()));
                probe
            }
        }
    }

    /// Forgets the probes of a switch that left.
    pub fn switch_gone(&mut self, dpid: u64) {
        self.frames.remove(&dpid);
    }

    /// Forgets the probe of a port that was deleted (ports of edge nodes
    /// come and go with their pods, each under a new number).
    pub fn port_gone(&mut self, at: PortRef) {
        if let Some(ports) = self.frames.get_mut(&at.dpid) {
            ports.remove(&at.port);
        }
    }

    /// The LLDP frame of a probe out of `port` of switch `dpid`.
    fn frame(&self, dpid: u64, port: u32, hw_addr: MacAddr) -> Vec<u8> {
        let chassis = format!("{CHASSIS_PREFIX}{dpid:016x}").into_bytes();
        let port_id = port.to_be_bytes().to_vec();
        let sig = self.signature(&chassis, &port_id);
        let lldp = LldpRepr {
            chassis_id: ChassisId::Local(chassis),
            port_id: PortId::Local(port_id),
            ttl: PROBE_TTL,
            org: vec![OrgTlv {
                oui: EDGEFLOW_OUI,
                subtype: SIGNATURE_SUBTYPE,
                info: sig.to_vec(),
            }],
            other: Vec::new(),
        };
        lldp.to_frame(hw_addr)
    }

    /// Reads an LLDPDU (the Ethernet payload) received at `at`: the directed
    /// link it proves, or why it proves none (counted).
    pub fn receive(&mut self, lldpdu: &[u8], at: PortRef) -> Result<Link, Rejected> {
        let result = self.verify(lldpdu, at);
        match result {
            Err(Rejected::Malformed) => self.malformed += 1,
            Err(Rejected::Foreign) => self.foreign += 1,
            Ok(_) => {}
        }
        result
    }

    fn verify(&self, lldpdu: &[u8], at: PortRef) -> Result<Link, Rejected> {
        let lldp = LldpRepr::parse(lldpdu).map_err(|_| Rejected::Malformed)?;
        let (ChassisId::Local(chassis), PortId::Local(port_id)) = (&lldp.chassis_id, &lldp.port_id)
        else {
            return Err(Rejected::Foreign);
        };
        let sig = lldp
            .org
            .iter()
            .find(|t| t.oui == EDGEFLOW_OUI && t.subtype == SIGNATURE_SUBTYPE)
            .ok_or(Rejected::Foreign)?;
        if sig.info.len() != SIGNATURE_LEN {
            return Err(Rejected::Foreign);
        }
        // Constant-time comparison through the HMAC verifier.
        self.mac(chassis, port_id)
            .verify_truncated_left(&sig.info)
            .map_err(|_| Rejected::Foreign)?;
        let dpid = std::str::from_utf8(chassis)
            .ok()
            .and_then(|s| s.strip_prefix(CHASSIS_PREFIX))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or(Rejected::Malformed)?;
        let port: [u8; 4] = port_id
            .as_slice()
            .try_into()
            .map_err(|_| Rejected::Malformed)?;
        Ok(Link {
            src: PortRef {
                dpid,
                port: u32::from_be_bytes(port),
            },
            dst: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflow_proto::packet::EthernetRepr;

    fn discovery(key: &[u8]) -> Discovery {
        Discovery::new(DiscoveryConfig {
            probe_interval: Duration::from_secs(1),
            link_timeout: Duration::from_secs(3),
            key: key.to_vec(),
        })
    }

    /// The probe's PACKET_OUT.
    fn packet_out(probe: &[u8]) -> PacketOut {
        let Message::PacketOut(po) = OfpMsg::parse(probe).unwrap().body else {
            panic!("not a packet-out")
        };
        po
    }

    fn lldpdu_of(probe: &[u8]) -> Vec<u8> {
        let po = packet_out(probe);
        let (eth, payload) = EthernetRepr::parse(&po.data).unwrap();
        assert_eq!(eth.dst, MacAddr::LLDP_MULTICAST);
        payload.to_vec()
    }

    #[test]
    fn own_probe_is_a_link() {
        let mut d = discovery(b"k1");
        let probe = d.probe(0xabc, 7, MacAddr([2, 0, 0, 0, 0, 1]));
        let actions = packet_out(&probe).actions;
        assert_eq!(
            actions,
            vec![Action::Output {
                port: 7,
                max_len: 0
            }]
        );
        let at = PortRef { dpid: 5, port: 2 };
        let link = d.receive(&lldpdu_of(&probe), at).unwrap();
        assert_eq!(
            link.src,
            PortRef {
                dpid: 0xabc,
                port: 7
            }
        );
        assert_eq!(link.dst, at);
    }

    #[test]
    fn probes_are_kept_per_port_until_its_address_changes_or_the_switch_leaves() {
        let mut d = discovery(b"k1");
        let (a, b) = (MacAddr([2, 0, 0, 0, 0, 1]), MacAddr([2, 0, 0, 0, 0, 2]));
        let first = d.probe(1, 7, a);
        assert_eq!(d.probe(1, 7, a), first);
        let moved = d.probe(1, 7, b);
        let po = packet_out(&moved);
        assert_eq!(EthernetRepr::parse(&po.data).unwrap().0.src, b);
        assert_ne!(moved, first);
        // Every cached probe is still a valid one of its port.
        let at = PortRef { dpid: 2, port: 1 };
        let pdu = lldpdu_of(&d.probe(1, 7, b));
        let link = d.receive(&pdu, at).unwrap();
        assert_eq!(link.src, PortRef { dpid: 1, port: 7 });
        d.port_gone(PortRef { dpid: 1, port: 7 });
        assert!(d.frames[&1].is_empty());
        d.switch_gone(1);
        assert!(d.frames.is_empty());
        assert_eq!(d.probe(1, 7, a), first);
    }

    #[test]
    fn probe_of_another_key_is_foreign_and_counted() {
        let mut other = discovery(b"other");
        let mut d = discovery(b"k1");
        let probe = other.probe(1, 1, MacAddr::default());
        let at = PortRef { dpid: 2, port: 1 };
        assert_eq!(d.receive(&lldpdu_of(&probe), at), Err(Rejected::Foreign));
        assert_eq!(d.foreign, 1);
    }

    #[test]
    fn tampered_port_is_foreign() {
        let mut d = discovery(b"k1");
        let mut pdu = lldpdu_of(&d.probe(1, 1, MacAddr::default()));
        // The port id TLV follows the chassis TLV (2 + 1 + 21 bytes); flip its last byte.
        let chassis_tlv = 2 + 1 + "dpid:0000000000000001".len();
        pdu[chassis_tlv + 2 + 4] ^= 1;
        assert_eq!(
            d.receive(&pdu, PortRef { dpid: 2, port: 1 }),
            Err(Rejected::Foreign)
        );
    }

    #[test]
    fn garbage_is_malformed() {
        let mut d = discovery(b"k1");
        assert_eq!(
            d.receive(&[0xff, 0xff, 0x00], PortRef { dpid: 2, port: 1 }),
            Err(Rejected::Malformed)
        );
        assert_eq!(d.malformed, 1);
    }

    #[test]
    fn probe_rounds_start_with_the_first_switch_and_keep_their_phase() {
        let mut d = discovery(b"k");
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert!(!d.probe_due(t0), "no switch yet");
        d.start(t0);
        assert!(!d.probe_due(t0 + ms(999)));
        assert!(d.probe_due(t0 + ms(1030)));
        // The round after a late one is still at its phase.
        assert_eq!(d.poll_timeout(), Some(t0 + ms(2000)));
        assert!(!d.probe_due(t0 + ms(1999)));
        assert!(d.probe_due(t0 + ms(2000)));
    }
}
