//! Ethernet II header with an optional single 802.1Q / 802.1ad tag.

use super::{be16, ethertype, put16, PacketError};
use crate::MacAddr;

/// Byte offsets in an Ethernet header.
mod field {
    use core::ops::Range;
    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    /// EtherType of an untagged frame, or the TPID of a tagged one.
    pub const ETHERTYPE: usize = 12;
    /// Tag control information (PCP, DEI, VID) of a tagged frame.
    pub const TCI: usize = 14;
    /// EtherType after the tag.
    pub const INNER_ETHERTYPE: usize = 16;
}

/// Length of an untagged Ethernet header.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Extra length of one VLAN tag.
pub const VLAN_TAG_LEN: usize = 4;
/// Minimum Ethernet frame length without the FCS; shorter frames are padded.
pub const ETHERNET_MIN_FRAME_LEN: usize = 60;

const PCP_SHIFT: u16 = 13;
const DEI_BIT: u16 = 1 << 12;
const VID_MASK: u16 = 0x0fff;

/// One VLAN tag. `emit` keeps only the low 3 bits of `pcp` and 12 bits of `vid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct VlanTag {
    /// Tag protocol identifier: [`ethertype::VLAN`] or [`ethertype::QINQ`].
    pub tpid: u16,
    /// Priority code point (0..=7).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (0..=4095).
    pub vid: u16,
}

impl VlanTag {
    /// An 802.1Q tag with priority 0 for `vid` (masked to 12 bits).
    pub fn new(vid: u16) -> VlanTag {
        VlanTag {
            tpid: ethertype::VLAN,
            pcp: 0,
            dei: false,
            vid: vid & VID_MASK,
        }
    }

    /// Decodes the 16-bit tag control information.
    pub fn from_tci(tpid: u16, tci: u16) -> VlanTag {
        VlanTag {
            tpid,
            pcp: (tci >> PCP_SHIFT) as u8,
            dei: tci & DEI_BIT != 0,
            vid: tci & VID_MASK,
        }
    }

    /// Encodes the 16-bit tag control information.
    pub fn tci(&self) -> u16 {
        (u16::from(self.pcp & 7) << PCP_SHIFT)
            | if self.dei { DEI_BIT } else { 0 }
            | (self.vid & VID_MASK)
    }
}

/// True for EtherTypes that announce a VLAN tag.
fn is_tpid(t: u16) -> bool {
    t == ethertype::VLAN || t == ethertype::QINQ
}

/// An Ethernet header. Only the outermost tag is decoded; for a double-tagged
/// frame `ethertype` is the inner TPID and the payload starts at the inner tag.
/// EtherType values below 0x0600 (802.3 lengths) are reported as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct EthernetRepr {
    /// Destination address.
    pub dst: MacAddr,
    /// Source address.
    pub src: MacAddr,
    /// The outer VLAN tag, if any.
    pub vlan: Option<VlanTag>,
    /// EtherType of the payload (after the tag).
    pub ethertype: u16,
}

impl EthernetRepr {
    /// Decodes the header and returns it with the payload (which may include padding).
    pub fn parse(frame: &[u8]) -> Result<(EthernetRepr, &[u8]), PacketError> {
        if frame.len() < ETHERNET_HEADER_LEN {
            return Err(PacketError::Truncated);
        }
        let dst = MacAddr::from_slice(&frame[field::DST]).ok_or(PacketError::Truncated)?;
        let src = MacAddr::from_slice(&frame[field::SRC]).ok_or(PacketError::Truncated)?;
        let outer = be16(frame, field::ETHERTYPE);
        if !is_tpid(outer) {
            let repr = EthernetRepr {
                dst,
                src,
                vlan: None,
                ethertype: outer,
            };
            return Ok((repr, &frame[ETHERNET_HEADER_LEN..]));
        }
        if frame.len() < ETHERNET_HEADER_LEN + VLAN_TAG_LEN {
            return Err(PacketError::Truncated);
        }
        let vlan = Some(VlanTag::from_tci(outer, be16(frame, field::TCI)));
        let repr = EthernetRepr {
            dst,
            src,
            vlan,
            ethertype: be16(frame, field::INNER_ETHERTYPE),
        };
        Ok((repr, &frame[ETHERNET_HEADER_LEN + VLAN_TAG_LEN..]))
    }

    /// Header length: 14, or 18 with a VLAN tag.
    pub fn buffer_len(&self) -> usize {
        ETHERNET_HEADER_LEN + if self.vlan.is_some() { VLAN_TAG_LEN } else { 0 }
    }

    /// Writes the header (not the payload) into `buf[..self.buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        buf[field::DST].copy_from_slice(&self.dst.0);
        buf[field::SRC].copy_from_slice(&self.src.0);
        match self.vlan {
            None => put16(buf, field::ETHERTYPE, self.ethertype),
            Some(tag) => {
                put16(buf, field::ETHERTYPE, tag.tpid);
                put16(buf, field::TCI, tag.tci());
                put16(buf, field::INNER_ETHERTYPE, self.ethertype);
            }
        }
    }
}
