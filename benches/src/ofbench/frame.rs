//! The header fields of a frame that an emulated flow table matches on and
//! that actions rewrite (path-setup mode only; the throughput mode never
//! looks inside a frame).
//!
//! Every field the table supports is read into a `u64`, so a match is a
//! list of (field, value, mask) triples and a lookup key is a short array
//! of masked values. A field whose prerequisite the frame lacks (an IPv4
//! address of an LLDP frame, the PCP of an untagged frame) is absent and
//! matches nothing.

use edgeflow_proto::ofp::{Oxm, OFPVID_PRESENT};
use edgeflow_proto::packet::{ethertype, ip_proto, ETHERNET_HEADER_LEN, VLAN_TAG_LEN};

/// The fields an emulated table can match; anything else makes its flow
/// entry unsupported (kept, counted, never matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// OXM in_port.
    InPort,
    /// OXM metadata.
    Metadata,
    /// OXM eth_dst.
    EthDst,
    /// OXM eth_src.
    EthSrc,
    /// OXM eth_type (after any VLAN tag).
    EthType,
    /// OXM vlan_vid with OFPVID_PRESENT (0: untagged).
    VlanVid,
    /// OXM vlan_pcp.
    VlanPcp,
    /// OXM ip_proto.
    IpProto,
    /// OXM ipv4_src.
    Ipv4Src,
    /// OXM ipv4_dst.
    Ipv4Dst,
    /// OXM udp_src.
    UdpSrc,
    /// OXM udp_dst.
    UdpDst,
    /// OXM tcp_src.
    TcpSrc,
    /// OXM tcp_dst.
    TcpDst,
}

const MAC_MASK: u64 = (1 << 48) - 1;

fn mac(m: &edgeflow_proto::MacAddr) -> u64 {
    m.to_u64() & MAC_MASK
}

fn v4(a: &std::net::Ipv4Addr) -> u64 {
    u64::from(u32::from(*a))
}

/// One OXM as (field, value, mask), the value already masked; None for an
/// OXM the emulated table does not support.
pub fn from_oxm(oxm: &Oxm) -> Option<(Field, u64, u64)> {
    let full = |w: u32| if w == 64 { u64::MAX } else { (1 << w) - 1 };
    let (f, v, m) = match oxm {
        Oxm::InPort(p) => (Field::InPort, u64::from(*p), full(32)),
        Oxm::Metadata(v, m) => (Field::Metadata, *v, m.unwrap_or(u64::MAX)),
        Oxm::EthDst(a, m) => (Field::EthDst, mac(a), m.as_ref().map_or(MAC_MASK, mac)),
        Oxm::EthSrc(a, m) => (Field::EthSrc, mac(a), m.as_ref().map_or(MAC_MASK, mac)),
        Oxm::EthType(t) => (Field::EthType, u64::from(*t), full(16)),
        Oxm::VlanVid(v, m) => (
            Field::VlanVid,
            u64::from(*v),
            u64::from(m.unwrap_or(0x1fff)),
        ),
        Oxm::VlanPcp(p) => (Field::VlanPcp, u64::from(*p), full(8)),
        Oxm::IpProto(p) => (Field::IpProto, u64::from(*p), full(8)),
        Oxm::Ipv4Src(a, m) => (Field::Ipv4Src, v4(a), m.as_ref().map_or(full(32), v4)),
        Oxm::Ipv4Dst(a, m) => (Field::Ipv4Dst, v4(a), m.as_ref().map_or(full(32), v4)),
        Oxm::UdpSrc(p, m) => (Field::UdpSrc, u64::from(*p), m.map_or(full(16), u64::from)),
        Oxm::UdpDst(p, m) => (Field::UdpDst, u64::from(*p), m.map_or(full(16), u64::from)),
        Oxm::TcpSrc(p, m) => (Field::TcpSrc, u64::from(*p), m.map_or(full(16), u64::from)),
        Oxm::TcpDst(p, m) => (Field::TcpDst, u64::from(*p), m.map_or(full(16), u64::from)),
        _ => return None,
    };
    Some((f, v & m, m))
}

/// The fields of one frame entering a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fields {
    /// Ingress port.
    pub in_port: u32,
    /// Pipeline metadata.
    pub metadata: u64,
    /// Destination MAC (48 bits).
    pub eth_dst: u64,
    /// Source MAC.
    pub eth_src: u64,
    /// Ethertype after a VLAN tag; None for a frame shorter than a header.
    pub eth_type: Option<u16>,
    /// VLAN TCI of the outer tag, if tagged.
    pub tci: Option<u16>,
    /// IPv4 protocol, source and destination.
    pub ipv4: Option<(u8, u32, u32)>,
    /// Source and destination port of UDP or TCP.
    pub l4: Option<(u16, u16)>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn mac_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 6)
        .map_or(0, |m| m.iter().fold(0, |a, &x| a << 8 | u64::from(x)))
}

/// True for the TPIDs of a VLAN tag.
fn is_tpid(t: u16) -> bool {
    t == ethertype::VLAN || t == ethertype::QINQ
}

impl Fields {
    /// Reads the fields of `frame` entering at `in_port` with `metadata`.
    pub fn parse(frame: &[u8], in_port: u32, metadata: u64) -> Fields {
        let mut f = Fields {
            in_port,
            metadata,
            eth_dst: mac_at(frame, 0),
            eth_src: mac_at(frame, 6),
            ..Fields::default()
        };
        let Some(mut t) = be16(frame, 12) else {
            return f;
        };
        let mut l3 = ETHERNET_HEADER_LEN;
        if is_tpid(t) {
            f.tci = be16(frame, 14);
            let Some(inner) = be16(frame, 16) else {
                return f;
            };
            t = inner;
            l3 += VLAN_TAG_LEN;
        }
        f.eth_type = Some(t);
        if t != ethertype::IPV4 {
            return f;
        }
        let (Some(&vihl), Some(&proto), Some(src), Some(dst)) = (
            frame.get(l3),
            frame.get(l3 + 9),
            be32(frame, l3 + 12),
            be32(frame, l3 + 16),
        ) else {
            return f;
        };
        f.ipv4 = Some((proto, src, dst));
        let l4 = l3 + usize::from(vihl & 0x0f) * 4;
        if proto == ip_proto::UDP || proto == ip_proto::TCP {
            if let (Some(s), Some(d)) = (be16(frame, l4), be16(frame, l4 + 2)) {
                f.l4 = Some((s, d));
            }
        }
        f
    }

    /// The value of `field`, if the frame has it.
    pub fn get(&self, field: Field) -> Option<u64> {
        let l4 = |proto: u8, i: usize| match (self.ipv4, self.l4) {
            (Some((p, ..)), Some((s, d))) if p == proto => Some(u64::from([s, d][i])),
            _ => None,
        };
        match field {
            Field::InPort => Some(u64::from(self.in_port)),
            Field::Metadata => Some(self.metadata),
            Field::EthDst => Some(self.eth_dst),
            Field::EthSrc => Some(self.eth_src),
            Field::EthType => self.eth_type.map(u64::from),
            // OFPVID_NONE (0) for an untagged frame, as OpenFlow 1.3 matches it.
            Field::VlanVid => Some(
                self.tci
                    .map_or(0, |t| u64::from(OFPVID_PRESENT | (t & 0x0fff))),
            ),
            Field::VlanPcp => self.tci.map(|t| u64::from(t >> 13)),
            Field::IpProto => self.ipv4.map(|(p, ..)| u64::from(p)),
            Field::Ipv4Src => self.ipv4.map(|(_, s, _)| u64::from(s)),
            Field::Ipv4Dst => self.ipv4.map(|(.., d)| u64::from(d)),
            Field::UdpSrc => l4(ip_proto::UDP, 0),
            Field::UdpDst => l4(ip_proto::UDP, 1),
            Field::TcpSrc => l4(ip_proto::TCP, 0),
            Field::TcpDst => l4(ip_proto::TCP, 1),
        }
    }

    /// A hash of the addresses and ports, the way a switch spreads flows
    /// over a select group's buckets (FNV-1a, stable across runs).
    pub fn flow_hash(&self) -> u64 {
        let (proto, src, dst) = self.ipv4.unwrap_or_default();
        let (sp, dp) = self.l4.unwrap_or_default();
        let words = [
            self.eth_src,
            self.eth_dst,
            u64::from(self.eth_type.unwrap_or(0)),
            u64::from(proto),
            u64::from(src) << 32 | u64::from(dst),
            u64::from(sp) << 16 | u64::from(dp),
        ];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for w in words {
            for b in w.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        // FNV's low bits mix poorly and the bucket is taken modulo a small
        // weight: finish with SplitMix64's mixer.
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^ (h >> 31)
    }
}

/// Pushes a VLAN tag with TPID `tpid`; its TCI is the outer tag's, or 0.
pub fn push_vlan(frame: &mut Vec<u8>, tpid: u16) {
    if frame.len() < ETHERNET_HEADER_LEN {
        return;
    }
    let tci = be16(frame, 12)
        .filter(|&t| is_tpid(t))
        .and_then(|_| be16(frame, 14))
        .unwrap_or(0);
    let mut tag = [0u8; VLAN_TAG_LEN];
    tag[..2].copy_from_slice(&tpid.to_be_bytes());
    tag[2..].copy_from_slice(&tci.to_be_bytes());
    frame.splice(12..12, tag);
}

/// Pops the outer VLAN tag; false if the frame had none.
pub fn pop_vlan(frame: &mut Vec<u8>) -> bool {
    if !be16(frame, 12).is_some_and(is_tpid) || frame.len() < ETHERNET_HEADER_LEN + VLAN_TAG_LEN {
        return false;
    }
    frame.drain(12..12 + VLAN_TAG_LEN);
    true
}

/// Applies a set-field action; false if the emulator does not support the
/// field or the frame lacks it (a VLAN field of an untagged frame).
pub fn set_field(frame: &mut [u8], oxm: &Oxm) -> bool {
    let tagged = be16(frame, 12).is_some_and(is_tpid) && frame.len() >= 16;
    match oxm {
        Oxm::EthDst(m, None) if frame.len() >= 6 => frame[..6].copy_from_slice(&m.0),
        Oxm::EthSrc(m, None) if frame.len() >= 12 => frame[6..12].copy_from_slice(&m.0),
        Oxm::VlanVid(v, None) if tagged => {
            let tci = (be16(frame, 14).unwrap_or(0) & 0xf000) | (v & 0x0fff);
            frame[14..16].copy_from_slice(&tci.to_be_bytes());
        }
        Oxm::VlanPcp(p) if tagged => {
            let tci = (be16(frame, 14).unwrap_or(0) & 0x1fff) | (u16::from(*p & 7) << 13);
            frame[14..16].copy_from_slice(&tci.to_be_bytes());
        }
        _ => return false,
    }
    true
}

/// Number of VLAN tags in front of the ethertype (0 or 1 as far as the
/// emulator cares), so the payload of a tagged frame can be found.
pub fn vlan_shift(frame: &[u8]) -> usize {
    if be16(frame, 12).is_some_and(is_tpid) {
        VLAN_TAG_LEN
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ofbench::template::packet_in_data;
    use crate::ofbench::template::{Host, PacketInTemplate, Tag};

    fn frame() -> Vec<u8> {
        let mut t = PacketInTemplate::new();
        let msg = t.patch(
            1,
            1,
            Host::new(1, 2),
            Host::new(3, 4),
            Tag { switch: 1, seq: 5 },
        );
        packet_in_data(msg).unwrap().1.to_vec()
    }

    #[test]
    fn fields_of_an_ipv4_udp_frame_are_read() {
        let f = Fields::parse(&frame(), 7, 0);
        assert_eq!(f.get(Field::InPort), Some(7));
        assert_eq!(f.get(Field::EthSrc), Some(mac(&Host::new(1, 2).mac)));
        assert_eq!(f.get(Field::EthType), Some(0x0800));
        assert_eq!(f.get(Field::VlanVid), Some(0));
        assert_eq!(f.get(Field::VlanPcp), None);
        assert_eq!(f.get(Field::Ipv4Dst), Some(v4(&Host::new(3, 4).ip)));
        assert_eq!(f.get(Field::UdpDst), Some(9));
        assert_eq!(f.get(Field::TcpDst), None);
    }

    #[test]
    fn push_set_and_pop_vlan_round_trip() {
        let plain = frame();
        let mut f = plain.clone();
        push_vlan(&mut f, ethertype::VLAN);
        assert!(set_field(&mut f, &Oxm::VlanVid(OFPVID_PRESENT | 42, None)));
        let fields = Fields::parse(&f, 1, 0);
        assert_eq!(
            fields.get(Field::VlanVid),
            Some(u64::from(OFPVID_PRESENT | 42))
        );
        assert_eq!(fields.get(Field::EthType), Some(0x0800));
        assert_eq!(fields.get(Field::UdpSrc), Some(9));
        assert_eq!(Tag::read(&f[vlan_shift(&f)..]), Tag::read(&plain));
        assert!(pop_vlan(&mut f));
        assert_eq!(f, plain);
        assert!(!pop_vlan(&mut f));
        assert!(!set_field(&mut f, &Oxm::VlanVid(OFPVID_PRESENT | 1, None)));
    }
}
