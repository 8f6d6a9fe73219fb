//! LLDP (IEEE 802.1AB) data units: the mandatory chassis ID, port ID and TTL
//! TLVs, organizationally specific TLVs, and any others kept raw.
//!
//! Length limits: a TLV value is at most 511 bytes (9-bit length), a chassis or
//! port ID at most 255 bytes after its subtype, and org-specific info at most
//! 507 bytes. The fields are public, so the limits are enforced in two places:
//! the checked constructors ([`ChassisId::local`], [`PortId::local`],
//! [`PortId::interface_name`], [`OrgTlv::new`]) and [`LldpRepr::validate`]
//! reject values that are too long, and `emit` truncates any that slip through
//! so the length fields it writes are always correct.

use super::{
    be16, ethertype, put16, EthernetRepr, PacketError, ETHERNET_HEADER_LEN, ETHERNET_MIN_FRAME_LEN,
};
use crate::MacAddr;

/// TLV type codes.
pub mod tlv_type {
    /// End of LLDPDU.
    pub const END: u8 = 0;
    /// Chassis ID (mandatory, first).
    pub const CHASSIS_ID: u8 = 1;
    /// Port ID (mandatory, second).
    pub const PORT_ID: u8 = 2;
    /// Time to live (mandatory, third).
    pub const TTL: u8 = 3;
    /// Port description.
    pub const PORT_DESCRIPTION: u8 = 4;
    /// System name.
    pub const SYSTEM_NAME: u8 = 5;
    /// System description.
    pub const SYSTEM_DESCRIPTION: u8 = 6;
    /// System capabilities.
    pub const SYSTEM_CAPABILITIES: u8 = 7;
    /// Management address.
    pub const MANAGEMENT_ADDRESS: u8 = 8;
    /// Organizationally specific.
    pub const ORG_SPECIFIC: u8 = 127;
}

/// Chassis ID subtypes with their own [`ChassisId`] variant.
pub mod chassis_subtype {
    /// MAC address.
    pub const MAC: u8 = 4;
    /// Locally assigned.
    pub const LOCAL: u8 = 7;
}

/// Port ID subtypes with their own [`PortId`] variant.
pub mod port_subtype {
    /// MAC address.
    pub const MAC: u8 = 3;
    /// Interface name.
    pub const INTERFACE_NAME: u8 = 5;
    /// Locally assigned.
    pub const LOCAL: u8 = 7;
}

/// Largest TLV value (9-bit length field).
pub const MAX_TLV_LEN: usize = 511;
/// Largest chassis or port ID, not counting the subtype byte.
pub const MAX_ID_LEN: usize = 255;
/// Largest org-specific information string (511 minus OUI and subtype).
pub const MAX_ORG_INFO_LEN: usize = MAX_TLV_LEN - ORG_HEADER_LEN;
const TLV_HEADER_LEN: usize = 2;
const TYPE_SHIFT: u16 = 9;
const LENGTH_MASK: u16 = 0x01ff;
const TTL_LEN: usize = 2;
const ORG_HEADER_LEN: usize = 4;
const MAC_LEN: usize = 6;

/// Iterator over the `(type, value)` TLVs of an LLDPDU; stops at the End TLV
/// or the end of the buffer, whichever comes first, and yields `Truncated`
/// (then stops) for a TLV that runs past the buffer.
#[derive(Debug, Clone)]
pub struct LldpTlvs<'a> {
    rest: &'a [u8],
}

impl<'a> LldpTlvs<'a> {
    /// Iterates over the TLVs in `lldpdu`.
    pub fn new(lldpdu: &'a [u8]) -> LldpTlvs<'a> {
        LldpTlvs { rest: lldpdu }
    }
}

impl<'a> Iterator for LldpTlvs<'a> {
    type Item = Result<(u8, &'a [u8]), PacketError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rest {
            // End of buffer without End TLV, or a single zero padding byte.
            [] | [0] => return None,
            [_] => {
                self.rest = &[];
                return Some(Err(PacketError::Truncated));
            }
            _ => {}
        }
        let header = be16(self.rest, 0);
        let ty = (header >> TYPE_SHIFT) as u8;
        if ty == tlv_type::END {
            // Whatever follows End is Ethernet padding.
            self.rest = &[];
            return None;
        }
        let end = TLV_HEADER_LEN + usize::from(header & LENGTH_MASK);
        match self.rest.get(TLV_HEADER_LEN..end) {
            Some(value) => {
                self.rest = &self.rest[end..];
                Some(Ok((ty, value)))
            }
            None => {
                self.rest = &[];
                Some(Err(PacketError::Truncated))
            }
        }
    }
}

/// Splits a chassis or port ID value into subtype and a 1..=255 byte ID.
fn split_id(value: &[u8]) -> Result<(u8, &[u8]), PacketError> {
    match value {
        [_] | [] => Err(PacketError::Malformed("LLDP ID is empty")),
        [subtype, id @ ..] if id.len() <= MAX_ID_LEN => Ok((*subtype, id)),
        _ => Err(PacketError::Malformed("LLDP ID longer than 255 bytes")),
    }
}

/// Checks an ID length for the checked constructors and `validate`.
fn check_id(id: &[u8]) -> Result<(), PacketError> {
    match id.len() {
        0 => Err(PacketError::Malformed("LLDP ID is empty")),
        n if n > MAX_ID_LEN => Err(PacketError::Malformed("LLDP ID longer than 255 bytes")),
        _ => Ok(()),
    }
}

/// The first `max` bytes of `b`: how emit enforces the length limits.
fn clamp(b: &[u8], max: usize) -> &[u8] {
    &b[..b.len().min(max)]
}

/// Chassis ID TLV (type 1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ChassisId {
    /// Subtype 4: a MAC address.
    Mac(MacAddr),
    /// Subtype 7: a locally assigned string.
    Local(Vec<u8>),
    /// Any other subtype, kept raw.
    Other {
        /// Subtype code.
        subtype: u8,
        /// Raw ID bytes.
        id: Vec<u8>,
    },
}

impl ChassisId {
    /// A locally assigned ID of 1..=255 bytes.
    pub fn local(id: impl Into<Vec<u8>>) -> Result<ChassisId, PacketError> {
        let id = id.into();
        check_id(&id)?;
        Ok(ChassisId::Local(id))
    }

    /// Decodes the TLV value.
    fn parse(value: &[u8]) -> Result<ChassisId, PacketError> {
        let (subtype, id) = split_id(value)?;
        Ok(match subtype {
            chassis_subtype::MAC => ChassisId::Mac(mac_id(id)?),
            chassis_subtype::LOCAL => ChassisId::Local(id.to_vec()),
            _ => ChassisId::Other {
                subtype,
                id: id.to_vec(),
            },
        })
    }

    /// Subtype code and ID bytes.
    fn parts(&self) -> (u8, &[u8]) {
        match self {
            ChassisId::Mac(m) => (chassis_subtype::MAC, &m.0),
            ChassisId::Local(id) => (chassis_subtype::LOCAL, id),
            ChassisId::Other { subtype, id } => (*subtype, id),
        }
    }

    /// Checks the ID length, and that `Other` does not use a subtype with its own variant.
    fn validate(&self) -> Result<(), PacketError> {
        if let ChassisId::Other {
            subtype: chassis_subtype::MAC | chassis_subtype::LOCAL,
            ..
        } = self
        {
            return Err(PacketError::Malformed(
                "ChassisId::Other with a known subtype",
            ));
        }
        check_id(self.parts().1)
    }
}

/// Port ID TLV (type 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum PortId {
    /// Subtype 7: a locally assigned string.
    Local(Vec<u8>),
    /// Subtype 5: an interface name.
    InterfaceName(Vec<u8>),
    /// Subtype 3: a MAC address.
    Mac(MacAddr),
    /// Any other subtype, kept raw.
    Other {
        /// Subtype code.
        subtype: u8,
        /// Raw ID bytes.
        id: Vec<u8>,
    },
}

impl PortId {
    /// A locally assigned ID of 1..=255 bytes.
    pub fn local(id: impl Into<Vec<u8>>) -> Result<PortId, PacketError> {
        let id = id.into();
        check_id(&id)?;
        Ok(PortId::Local(id))
    }

    /// An interface name of 1..=255 bytes.
    pub fn interface_name(name: impl Into<Vec<u8>>) -> Result<PortId, PacketError> {
        let name = name.into();
        check_id(&name)?;
        Ok(PortId::InterfaceName(name))
    }

    /// Decodes the TLV value.
    fn parse(value: &[u8]) -> Result<PortId, PacketError> {
        let (subtype, id) = split_id(value)?;
        Ok(match subtype {
            port_subtype::MAC => PortId::Mac(mac_id(id)?),
            port_subtype::INTERFACE_NAME => PortId::InterfaceName(id.to_vec()),
            port_subtype::LOCAL => PortId::Local(id.to_vec()),
            _ => PortId::Other {
                subtype,
                id: id.to_vec(),
            },
        })
    }

    /// Subtype code and ID bytes.
    fn parts(&self) -> (u8, &[u8]) {
        match self {
            PortId::Local(id) => (port_subtype::LOCAL, id),
            PortId::InterfaceName(id) => (port_subtype::INTERFACE_NAME, id),
            PortId::Mac(m) => (port_subtype::MAC, &m.0),
            PortId::Other { subtype, id } => (*subtype, id),
        }
    }

    /// Checks the ID length, and that `Other` does not use a subtype with its own variant.
    fn validate(&self) -> Result<(), PacketError> {
        if let PortId::Other {
            subtype: port_subtype::MAC | port_subtype::INTERFACE_NAME | port_subtype::LOCAL,
            ..
        } = self
        {
            return Err(PacketError::Malformed("PortId::Other with a known subtype"));
        }
        check_id(self.parts().1)
    }
}

/// A MAC-address ID must be exactly six bytes.
fn mac_id(id: &[u8]) -> Result<MacAddr, PacketError> {
    match id.len() {
        MAC_LEN => MacAddr::from_slice(id).ok_or(PacketError::Truncated),
        _ => Err(PacketError::Malformed("LLDP MAC ID is not 6 bytes")),
    }
}

/// Organizationally specific TLV (type 127).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct OrgTlv {
    /// Organizationally unique identifier.
    pub oui: [u8; 3],
    /// Organization-defined subtype.
    pub subtype: u8,
    /// Information string, at most 507 bytes.
    pub info: Vec<u8>,
}

impl OrgTlv {
    /// An org-specific TLV whose info fits (at most 507 bytes).
    pub fn new(oui: [u8; 3], subtype: u8, info: impl Into<Vec<u8>>) -> Result<OrgTlv, PacketError> {
        let info = info.into();
        if info.len() > MAX_ORG_INFO_LEN {
            return Err(PacketError::Malformed(
                "LLDP org-specific info longer than 507 bytes",
            ));
        }
        Ok(OrgTlv { oui, subtype, info })
    }

    /// Decodes the TLV value.
    fn parse(value: &[u8]) -> Result<OrgTlv, PacketError> {
        match value {
            [a, b, c, subtype, info @ ..] => Ok(OrgTlv {
                oui: [*a, *b, *c],
                subtype: *subtype,
                info: info.to_vec(),
            }),
            _ => Err(PacketError::Malformed(
                "LLDP org-specific TLV shorter than 4 bytes",
            )),
        }
    }
}

/// True for TLV types that can be emitted from [`LldpRepr::other`].
fn is_other_type(ty: u8) -> bool {
    ty != tlv_type::END && ty < tlv_type::ORG_SPECIFIC
}

/// An LLDPDU. On emit the mandatory TLVs come first, then `other` in order,
/// then `org` in order, then End.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct LldpRepr {
    /// Chassis ID.
    pub chassis_id: ChassisId,
    /// Port ID.
    pub port_id: PortId,
    /// Seconds the receiver may keep this information.
    pub ttl: u16,
    /// Organizationally specific TLVs.
    pub org: Vec<OrgTlv>,
    /// Other TLVs as `(type, value)`, e.g. port description (4) and system name (5).
    /// Emit skips entries of type 0 or 127 and above, which cannot be represented here.
    pub other: Vec<(u8, Vec<u8>)>,
}

impl LldpRepr {
    /// An LLDPDU with just the mandatory TLVs.
    pub fn new(chassis_id: ChassisId, port_id: PortId, ttl: u16) -> LldpRepr {
        LldpRepr {
            chassis_id,
            port_id,
            ttl,
            org: Vec::new(),
            other: Vec::new(),
        }
    }

    /// Decodes the LLDPDU that follows the Ethernet header. Chassis ID, port ID
    /// and TTL must come first, in that order. Ends at the End TLV (anything after
    /// it is ignored as padding) or at the end of the buffer.
    pub fn parse(lldpdu: &[u8]) -> Result<LldpRepr, PacketError> {
        let mut tlvs = LldpTlvs::new(lldpdu);
        let mut mandatory = |ty: u8, what: &'static str| match tlvs.next() {
            Some(Ok((t, value))) if t == ty => Ok(value),
            Some(Ok(_)) => Err(PacketError::Malformed(what)),
            Some(Err(e)) => Err(e),
            None => Err(PacketError::Truncated),
        };
        let chassis_id = ChassisId::parse(mandatory(
            tlv_type::CHASSIS_ID,
            "LLDP first TLV is not Chassis ID",
        )?)?;
        let port_id = PortId::parse(mandatory(
            tlv_type::PORT_ID,
            "LLDP second TLV is not Port ID",
        )?)?;
        let ttl = match mandatory(tlv_type::TTL, "LLDP third TLV is not TTL")? {
            [a, b] => u16::from_be_bytes([*a, *b]),
            _ => return Err(PacketError::Malformed("LLDP TTL is not 2 bytes")),
        };
        let mut repr = LldpRepr::new(chassis_id, port_id, ttl);
        for tlv in tlvs {
            match tlv? {
                (tlv_type::ORG_SPECIFIC, value) => repr.org.push(OrgTlv::parse(value)?),
                (ty, value) => repr.other.push((ty, value.to_vec())),
            }
        }
        Ok(repr)
    }

    /// Checks every length limit and type code, so that `emit` loses nothing
    /// and `parse(emit(self)) == self`.
    pub fn validate(&self) -> Result<(), PacketError> {
        self.chassis_id.validate()?;
        self.port_id.validate()?;
        for org in &self.org {
            if org.info.len() > MAX_ORG_INFO_LEN {
                return Err(PacketError::Malformed(
                    "LLDP org-specific info longer than 507 bytes",
                ));
            }
        }
        for (ty, value) in &self.other {
            if !is_other_type(*ty) {
                return Err(PacketError::Malformed("LLDP TLV type 0 or 127+ in other"));
            }
            if value.len() > MAX_TLV_LEN {
                return Err(PacketError::Malformed("LLDP TLV longer than 511 bytes"));
            }
        }
        Ok(())
    }

    /// Encoded length, End TLV included.
    pub fn buffer_len(&self) -> usize {
        let id = |(_, id): (u8, &[u8])| TLV_HEADER_LEN + 1 + id.len().min(MAX_ID_LEN);
        let other: usize = self
            .other
            .iter()
            .filter(|(ty, _)| is_other_type(*ty))
            .map(|(_, v)| TLV_HEADER_LEN + v.len().min(MAX_TLV_LEN))
            .sum();
        let org: usize = self
            .org
            .iter()
            .map(|o| TLV_HEADER_LEN + ORG_HEADER_LEN + o.info.len().min(MAX_ORG_INFO_LEN))
            .sum();
        id(self.chassis_id.parts())
            + id(self.port_id.parts())
            + TLV_HEADER_LEN
            + TTL_LEN
            + other
            + org
            + TLV_HEADER_LEN
    }

    /// Writes the LLDPDU, End TLV included, into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut w = TlvWriter { buf, at: 0 };
        let (subtype, id) = self.chassis_id.parts();
        w.tlv(tlv_type::CHASSIS_ID, &[&[subtype], clamp(id, MAX_ID_LEN)]);
        let (subtype, id) = self.port_id.parts();
        w.tlv(tlv_type::PORT_ID, &[&[subtype], clamp(id, MAX_ID_LEN)]);
        w.tlv(tlv_type::TTL, &[&self.ttl.to_be_bytes()]);
        for (ty, value) in self.other.iter().filter(|(ty, _)| is_other_type(*ty)) {
            w.tlv(*ty, &[clamp(value, MAX_TLV_LEN)]);
        }
        for o in &self.org {
            w.tlv(
                tlv_type::ORG_SPECIFIC,
                &[&o.oui, &[o.subtype], clamp(&o.info, MAX_ORG_INFO_LEN)],
            );
        }
        w.tlv(tlv_type::END, &[]);
    }

    /// The whole Ethernet frame to 01:80:c2:00:00:0e with EtherType 0x88cc, zero-padded to 60 bytes.
    pub fn to_frame(&self, src: MacAddr) -> Vec<u8> {
        let eth = EthernetRepr {
            dst: MacAddr::LLDP_MULTICAST,
            src,
            vlan: None,
            ethertype: ethertype::LLDP,
        };
        let len = ETHERNET_HEADER_LEN + self.buffer_len();
        let mut frame = vec![0u8; len.max(ETHERNET_MIN_FRAME_LEN)];
        eth.emit(&mut frame);
        self.emit(&mut frame[ETHERNET_HEADER_LEN..]);
        frame
    }
}

/// Appends TLVs to a buffer; callers pass values already clamped to 511 bytes.
struct TlvWriter<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl TlvWriter<'_> {
    /// Writes one TLV whose value is the concatenation of `parts`.
    fn tlv(&mut self, ty: u8, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        put16(
            self.buf,
            self.at,
            (u16::from(ty) << TYPE_SHIFT) | (len as u16 & LENGTH_MASK),
        );
        self.at += TLV_HEADER_LEN;
        for p in parts {
            self.buf[self.at..self.at + p.len()].copy_from_slice(p);
            self.at += p.len();
        }
    }
}
