//! OXM match fields (OF1.3 §7.2.3) and `ofp_match`.
//!
//! The OpenFlow-basic field list is ONE table (`oxm_table!` below): field
//! number, name, value width and maskability. Parsing, emitting, names and
//! `OXM_FIELDS` all follow from it. Other classes (NXM, experimenter) and
//! unknown basic fields stay raw and round-trip byte-exact.

use super::wire::{emit_into, hex, pad8, Fixed, Reader, Result, Writer};
use super::DecodeError;
use crate::MacAddr;
use std::net::{Ipv4Addr, Ipv6Addr};

/// OXM class of the OpenFlow basic fields.
pub const OFPXMC_OPENFLOW_BASIC: u16 = 0x8000;
/// OXM class of experimenter fields (value starts with the experimenter id).
pub const OFPXMC_EXPERIMENTER: u16 = 0xffff;
/// `ofp_match.type` for OXM matches.
pub const OFPMT_OXM: u16 = 1;
/// The VLAN_VID bit meaning "a VLAN tag is present".
pub const OFPVID_PRESENT: u16 = 0x1000;

/// One OXM TLV. The TCP, UDP and SCTP ports carry a mask as Open vSwitch
/// allows (OpenFlow 1.3 does not mask ports).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Oxm {
    /// Switch input port.
    InPort(u32),
    /// Switch physical input port.
    InPhyPort(u32),
    /// Metadata passed between tables.
    Metadata(u64, Option<u64>),
    /// Ethernet destination address.
    EthDst(MacAddr, Option<MacAddr>),
    /// Ethernet source address.
    EthSrc(MacAddr, Option<MacAddr>),
    /// Ethernet frame type.
    EthType(u16),
    /// VLAN id, raw including OFPVID_PRESENT (0x1000).
    VlanVid(u16, Option<u16>),
    /// VLAN priority.
    VlanPcp(u8),
    /// IP DSCP (6 bits).
    IpDscp(u8),
    /// IP ECN (2 bits).
    IpEcn(u8),
    /// IP protocol.
    IpProto(u8),
    /// IPv4 source address.
    Ipv4Src(Ipv4Addr, Option<Ipv4Addr>),
    /// IPv4 destination address.
    Ipv4Dst(Ipv4Addr, Option<Ipv4Addr>),
    /// TCP source port, with a mask.
    TcpSrc(u16, Option<u16>),
    /// TCP destination port, with a mask.
    TcpDst(u16, Option<u16>),
    /// UDP source port, with a mask.
    UdpSrc(u16, Option<u16>),
    /// UDP destination port, with a mask.
    UdpDst(u16, Option<u16>),
    /// SCTP source port, with a mask.
    SctpSrc(u16, Option<u16>),
    /// SCTP destination port, with a mask.
    SctpDst(u16, Option<u16>),
    /// ICMPv4 type.
    Icmpv4Type(u8),
    /// ICMPv4 code.
    Icmpv4Code(u8),
    /// ARP opcode.
    ArpOp(u16),
    /// ARP source IPv4 address.
    ArpSpa(Ipv4Addr, Option<Ipv4Addr>),
    /// ARP target IPv4 address.
    ArpTpa(Ipv4Addr, Option<Ipv4Addr>),
    /// ARP source hardware address.
    ArpSha(MacAddr, Option<MacAddr>),
    /// ARP target hardware address.
    ArpTha(MacAddr, Option<MacAddr>),
    /// IPv6 source address.
    Ipv6Src(Ipv6Addr, Option<Ipv6Addr>),
    /// IPv6 destination address.
    Ipv6Dst(Ipv6Addr, Option<Ipv6Addr>),
    /// IPv6 flow label (20 bits).
    Ipv6Flabel(u32, Option<u32>),
    /// ICMPv6 type.
    Icmpv6Type(u8),
    /// ICMPv6 code.
    Icmpv6Code(u8),
    /// Target address for IPv6 neighbour discovery.
    Ipv6NdTarget(Ipv6Addr),
    /// Source link-layer address for ND.
    Ipv6NdSll(MacAddr),
    /// Target link-layer address for ND.
    Ipv6NdTll(MacAddr),
    /// MPLS label (20 bits).
    MplsLabel(u32),
    /// MPLS traffic class.
    MplsTc(u8),
    /// MPLS bottom-of-stack bit.
    MplsBos(u8),
    /// PBB I-SID (24 bits on the wire).
    PbbIsid(u32, Option<u32>),
    /// Logical port metadata (tunnel id).
    TunnelId(u64, Option<u64>),
    /// IPv6 extension header pseudo-field.
    Ipv6Exthdr(u16, Option<u16>),
    /// Any other class, an unknown basic field, or a basic field with a mask
    /// OpenFlow 1.3 does not define, kept raw. For the experimenter
    /// class `value` starts with the experimenter id; with `has_mask` it holds
    /// value and mask back to back, as on the wire.
    Raw {
        /// OXM class.
        class: u16,
        /// Field number (7 bits).
        field: u8,
        /// The hasmask bit.
        has_mask: bool,
        /// Payload after the 4-byte OXM header.
        #[serde(serialize_with = "hex::serialize")]
        value: Vec<u8>,
    },
}

/// How one OXM value is laid out on the wire.
trait OxmKind {
    type T: Copy;
    const LEN: usize;
    fn read(b: &[u8]) -> Self::T;
    fn write(v: Self::T, w: &mut Writer);
}

macro_rules! kind {
    ($name:ident, $t:ty, $len:expr, |$b:ident| $read:expr, |$v:ident, $w:ident| $write:expr) => {
        struct $name;
        impl OxmKind for $name {
            type T = $t;
            const LEN: usize = $len;
            fn read($b: &[u8]) -> $t {
                $read
            }
            fn write($v: $t, $w: &mut Writer) {
                $write
            }
        }
    };
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    a
}

kind!(K8, u8, 1, |b| b[0], |v, w| w.u8(v));
kind!(K16, u16, 2, |b| u16::from_be_bytes(arr(b)), |v, w| w.u16(v));
kind!(
    K24,
    u32,
    3,
    |b| u32::from_be_bytes([0, b[0], b[1], b[2]]),
    |v, w| w.put(&v.to_be_bytes()[1..])
);
kind!(K32, u32, 4, |b| u32::from_be_bytes(arr(b)), |v, w| w.u32(v));
kind!(K64, u64, 8, |b| u64::from_be_bytes(arr(b)), |v, w| w.u64(v));
kind!(KMac, MacAddr, 6, |b| MacAddr(arr(b)), |v, w| w.mac(v));
kind!(KV4, Ipv4Addr, 4, |b| Ipv4Addr::from(arr::<4>(b)), |v, w| w
    .put(&v.octets()));
kind!(
    KV6,
    Ipv6Addr,
    16,
    |b| Ipv6Addr::from(arr::<16>(b)),
    |v, w| w.put(&v.octets())
);

/// Static description of one OpenFlow-basic OXM field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OxmFieldInfo {
    /// OXM field number in class 0x8000.
    pub field: u8,
    /// Lower-case name as os-ken and ovs-ofctl print it.
    pub name: &'static str,
    /// Value width in bytes (without mask).
    pub width: usize,
    /// Whether the field may carry a mask.
    pub maskable: bool,
}

macro_rules! oxm_table {
    ($( $variant:ident = $field:literal, $name:literal, $kind:ident, $m:ident; )*) => {
        /// Every OpenFlow-basic field this codec names, in field-number order.
        pub const OXM_FIELDS: &[OxmFieldInfo] = &[
            $( OxmFieldInfo { field: $field, name: $name, width: <$kind as OxmKind>::LEN, maskable: oxm_table!(@maskable $m) }, )*
        ];

        impl Oxm {
            /// (class, field, has_mask) of this TLV.
            pub fn header(&self) -> (u16, u8, bool) {
                match self {
                    $( oxm_table!(@pat $m $variant _v m) => (OFPXMC_OPENFLOW_BASIC, $field, oxm_table!(@hasmask $m m)), )*
                    Oxm::Raw { class, field, has_mask, .. } => (*class, *field, *has_mask),
                }
            }

            /// Field name (os-ken spelling) for basic fields; None for raw ones.
            pub fn name(&self) -> Option<&'static str> {
                match self {
                    $( oxm_table!(@pat $m $variant _v _m) => Some($name), )*
                    Oxm::Raw { .. } => None,
                }
            }

            /// Length of the payload after the 4-byte OXM header.
            pub fn payload_len(&self) -> usize {
                match self {
                    $( oxm_table!(@pat $m $variant _v m) => <$kind as OxmKind>::LEN * (1 + usize::from(oxm_table!(@hasmask $m m))), )*
                    Oxm::Raw { value, .. } => value.len(),
                }
            }

            /// Writes the TLV, header and payload, in one match on the field.
            pub(crate) fn write(&self, w: &mut Writer) {
                match self {
                    $( oxm_table!(@pat $m $variant v m) => {
                        let has_mask = oxm_table!(@hasmask $m m);
                        let len = <$kind as OxmKind>::LEN * (1 + usize::from(has_mask));
                        w.u32(oxm_header(OFPXMC_OPENFLOW_BASIC, $field, has_mask, len));
                        <$kind as OxmKind>::write(*v, w);
                        oxm_table!(@writemask $m $kind m w);
                    } )*
                    Oxm::Raw { class, field, has_mask, value } => {
                        w.u32(oxm_header(*class, *field, *has_mask, value.len()));
                        w.put(value);
                    }
                }
            }

            /// Decodes a basic-class payload; None if the field number is unknown.
            fn parse_basic(field: u8, has_mask: bool, p: &[u8]) -> Option<Result<Oxm>> {
                match field {
                    $( $field => Some(oxm_table!(@build $m $variant $kind field has_mask p)), )*
                    _ => None,
                }
            }
        }
    };
    (@maskable mask) => { true };
    (@maskable nomask) => { false };
    (@pat mask $variant:ident $v:tt $mm:tt) => { Oxm::$variant($v, $mm) };
    (@pat nomask $variant:ident $v:tt $mm:tt) => { Oxm::$variant($v) };
    (@hasmask mask $mm:ident) => { $mm.is_some() };
    (@hasmask nomask $mm:ident) => { false };
    (@writemask mask $kind:ident $mm:ident $w:ident) => {
        if let Some(mask) = $mm { <$kind as OxmKind>::write(*mask, $w) }
    };
    (@writemask nomask $kind:ident $mm:ident $w:ident) => {};
    (@build mask $variant:ident $kind:ident $f:ident $hm:ident $p:ident) => {{
        let n = <$kind as OxmKind>::LEN;
        if $p.len() != n * (1 + usize::from($hm)) {
            Err(DecodeError::BadOxm)
        } else {
            let mask = if $hm { Some(<$kind as OxmKind>::read(&$p[n..])) } else { None };
            Ok(Oxm::$variant(<$kind as OxmKind>::read($p), mask))
        }
    }};
    (@build nomask $variant:ident $kind:ident $f:ident $hm:ident $p:ident) => {{
        if $hm && $p.len() == 2 * <$kind as OxmKind>::LEN {
            // A mask OpenFlow 1.3 does not define but a switch accepts
            // (Open vSwitch masks the neighbour-discovery fields, say): kept
            // raw, so that a table holding such a flow still decodes.
            Ok(Oxm::Raw {
                class: OFPXMC_OPENFLOW_BASIC,
                field: $f,
                has_mask: true,
                value: $p.to_vec(),
            })
        } else if $hm || $p.len() != <$kind as OxmKind>::LEN {
            Err(DecodeError::BadOxm)
        } else {
            Ok(Oxm::$variant(<$kind as OxmKind>::read($p)))
        }
    }};
}

oxm_table! {
    InPort = 0, "in_port", K32, nomask;
    InPhyPort = 1, "in_phy_port", K32, nomask;
    Metadata = 2, "metadata", K64, mask;
    EthDst = 3, "eth_dst", KMac, mask;
    EthSrc = 4, "eth_src", KMac, mask;
    EthType = 5, "eth_type", K16, nomask;
    VlanVid = 6, "vlan_vid", K16, mask;
    VlanPcp = 7, "vlan_pcp", K8, nomask;
    IpDscp = 8, "ip_dscp", K8, nomask;
    IpEcn = 9, "ip_ecn", K8, nomask;
    IpProto = 10, "ip_proto", K8, nomask;
    Ipv4Src = 11, "ipv4_src", KV4, mask;
    Ipv4Dst = 12, "ipv4_dst", KV4, mask;
    TcpSrc = 13, "tcp_src", K16, mask;
    TcpDst = 14, "tcp_dst", K16, mask;
    UdpSrc = 15, "udp_src", K16, mask;
    UdpDst = 16, "udp_dst", K16, mask;
    SctpSrc = 17, "sctp_src", K16, mask;
    SctpDst = 18, "sctp_dst", K16, mask;
    Icmpv4Type = 19, "icmpv4_type", K8, nomask;
    Icmpv4Code = 20, "icmpv4_code", K8, nomask;
    ArpOp = 21, "arp_op", K16, nomask;
    ArpSpa = 22, "arp_spa", KV4, mask;
    ArpTpa = 23, "arp_tpa", KV4, mask;
    ArpSha = 24, "arp_sha", KMac, mask;
    ArpTha = 25, "arp_tha", KMac, mask;
    Ipv6Src = 26, "ipv6_src", KV6, mask;
    Ipv6Dst = 27, "ipv6_dst", KV6, mask;
    Ipv6Flabel = 28, "ipv6_flabel", K32, mask;
    Icmpv6Type = 29, "icmpv6_type", K8, nomask;
    Icmpv6Code = 30, "icmpv6_code", K8, nomask;
    Ipv6NdTarget = 31, "ipv6_nd_target", KV6, nomask;
    Ipv6NdSll = 32, "ipv6_nd_sll", KMac, nomask;
    Ipv6NdTll = 33, "ipv6_nd_tll", KMac, nomask;
    MplsLabel = 34, "mpls_label", K32, nomask;
    MplsTc = 35, "mpls_tc", K8, nomask;
    MplsBos = 36, "mpls_bos", K8, nomask;
    PbbIsid = 37, "pbb_isid", K24, mask;
    TunnelId = 38, "tunnel_id", K64, mask;
    Ipv6Exthdr = 39, "ipv6_exthdr", K16, mask;
}

/// Size of the OXM TLV header.
pub const OXM_HEADER_LEN: usize = 4;

/// An OXM TLV header: class, 7-bit field, hasmask bit, payload length (a
/// raw payload over 255 bytes cannot be encoded; the length wraps).
fn oxm_header(class: u16, field: u8, has_mask: bool, len: usize) -> u32 {
    let field = ((field & 0x7f) << 1) | u8::from(has_mask);
    (u32::from(class) << 16) | (u32::from(field) << 8) | u32::from(len as u8)
}

impl Oxm {
    /// Parses one OXM TLV from the front of `buf`, returning it and the rest.
    pub fn parse(buf: &[u8]) -> Result<(Oxm, &[u8])> {
        let mut r = Reader::new(buf);
        let class = r.u16()?;
        let fm = r.u8()?;
        let len = r.u8()?;
        let payload = r.bytes(usize::from(len))?;
        let (field, has_mask) = (fm >> 1, fm & 1 == 1);
        let oxm = match class {
            OFPXMC_OPENFLOW_BASIC => Oxm::parse_basic(field, has_mask, payload),
            _ => None,
        };
        let oxm = match oxm {
            Some(res) => res?,
            None => {
                // Experimenter OXMs must at least carry their experimenter id.
                if class == OFPXMC_EXPERIMENTER && payload.len() < 4 {
                    return Err(DecodeError::BadOxm);
                }
                Oxm::Raw {
                    class,
                    field,
                    has_mask,
                    value: payload.to_vec(),
                }
            }
        };
        Ok((oxm, r.rest()))
    }

    /// Encoded length including the 4-byte header.
    pub fn buffer_len(&self) -> usize {
        OXM_HEADER_LEN + self.payload_len()
    }

    /// Writes the TLV into `buf[..buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        emit_into(buf, |w| self.write(w));
    }

    /// For experimenter-class OXMs: the experimenter id inside the value.
    pub fn experimenter(&self) -> Option<u32> {
        match self {
            Oxm::Raw {
                class: OFPXMC_EXPERIMENTER,
                value,
                ..
            } => {
                let b = value.get(..4)?;
                Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => None,
        }
    }
}

/// Parses back-to-back OXM TLVs filling all of `buf`.
pub(crate) fn parse_oxm_list(mut buf: &[u8]) -> Result<Vec<Oxm>> {
    // Sized by a walk over the headers: one allocation, not one per growth
    // (capped: a hostile list of empty TLVs grows as it parses instead).
    let mut count = 0;
    let mut rest = buf;
    while let Some(&len) = rest.get(3) {
        count += 1;
        rest = rest
            .get(OXM_HEADER_LEN + usize::from(len)..)
            .unwrap_or_default();
    }
    let mut out = Vec::with_capacity(count.min(64));
    while !buf.is_empty() {
        let (oxm, rest) = Oxm::parse(buf)?;
        out.push(oxm);
        buf = rest;
    }
    Ok(out)
}

/// `ofp_match` of type OFPMT_OXM: a list of OXM fields, padded to 8 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Match {
    /// The fields, in wire order.
    pub fields: Vec<Oxm>,
}

/// Length of the `ofp_match` header (type, length).
pub const MATCH_HEADER_LEN: usize = 4;

impl Match {
    /// An empty (match-everything) match.
    pub fn new() -> Match {
        Match::default()
    }

    /// Builder: appends a field.
    pub fn with(mut self, oxm: Oxm) -> Match {
        self.fields.push(oxm);
        self
    }

    /// The IN_PORT field, if present.
    pub fn in_port(&self) -> Option<u32> {
        self.fields.iter().find_map(|f| match f {
            Oxm::InPort(p) => Some(*p),
            _ => None,
        })
    }

    /// The METADATA field (unmasked), if present.
    pub fn metadata(&self) -> Option<u64> {
        self.fields.iter().find_map(|f| match f {
            Oxm::Metadata(m, None) => Some(*m),
            _ => None,
        })
    }

    /// Value of the `ofp_match.length` field (header + OXMs, without padding).
    pub fn unpadded_len(&self) -> usize {
        MATCH_HEADER_LEN + self.fields.iter().map(Oxm::buffer_len).sum::<usize>()
    }

    /// Encoded length including padding to 8 bytes.
    pub fn buffer_len(&self) -> usize {
        pad8(self.unpadded_len())
    }

    /// Parses a match from the front of `buf` (consuming its padding),
    /// returning it and the rest.
    pub fn parse(buf: &[u8]) -> Result<(Match, &[u8])> {
        let mut r = Reader::new(buf);
        let m = Match::read(&mut r)?;
        Ok((m, r.rest()))
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Match> {
        let typ = r.u16()?;
        let len = usize::from(r.u16()?);
        if typ != OFPMT_OXM {
            return Err(DecodeError::BadMatchType(typ));
        }
        if len < MATCH_HEADER_LEN {
            return Err(DecodeError::BadLength);
        }
        let oxms = r.bytes(len - MATCH_HEADER_LEN)?;
        r.skip(pad8(len) - len)?;
        Ok(Match {
            fields: parse_oxm_list(oxms)?,
        })
    }

    /// Writes the match (with zero padding) into `buf[..buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        emit_into(buf, |w| self.write(w));
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.pos();
        // Type and a length placeholder, patched once the fields are written.
        w.put(Fixed::<4>::new().u16(OFPMT_OXM).zeros(2).done());
        for f in &self.fields {
            f.write(w);
        }
        // The length excludes the padding.
        w.patch_len16(start + 2, start);
        w.pad_to8_from(start);
    }
}
