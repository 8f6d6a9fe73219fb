//! ARP for IPv4 over Ethernet (RFC 826).

use std::net::Ipv4Addr;

use super::{be16, ethertype, put16, PacketError};
use crate::MacAddr;

/// Byte offsets in an Ethernet/IPv4 ARP packet.
mod field {
    use core::ops::Range;
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const ARP_LEN: usize = 28;
const HTYPE_ETHERNET: u16 = 1;
const HLEN_ETHERNET: u8 = 6;
const PLEN_IPV4: u8 = 4;

/// ARP operation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ArpOp {
    /// Who has `tpa`? (1)
    Request,
    /// `spa` is at `sha`. (2)
    Reply,
    /// Any other code, kept so it round-trips.
    Unknown(u16),
}

impl From<u16> for ArpOp {
    fn from(v: u16) -> ArpOp {
        match v {
            1 => ArpOp::Request,
            2 => ArpOp::Reply,
            n => ArpOp::Unknown(n),
        }
    }
}

impl From<ArpOp> for u16 {
    fn from(op: ArpOp) -> u16 {
        match op {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
            ArpOp::Unknown(n) => n,
        }
    }
}

/// An Ethernet/IPv4 ARP packet (htype 1, ptype 0x0800, hlen 6, plen 4).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ArpRepr {
    /// Operation.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sha: MacAddr,
    /// Sender protocol address.
    pub spa: Ipv4Addr,
    /// Target hardware address.
    pub tha: MacAddr,
    /// Target protocol address.
    pub tpa: Ipv4Addr,
}

impl ArpRepr {
    /// Decodes an ARP packet; bytes after the first 28 (Ethernet padding) are ignored.
    pub fn parse(buf: &[u8]) -> Result<ArpRepr, PacketError> {
        if buf.len() < ARP_LEN {
            return Err(PacketError::Truncated);
        }
        if be16(buf, field::HTYPE) != HTYPE_ETHERNET
            || be16(buf, field::PTYPE) != ethertype::IPV4
            || buf[field::HLEN] != HLEN_ETHERNET
            || buf[field::PLEN] != PLEN_IPV4
        {
            return Err(PacketError::Unsupported(
                "ARP for other than IPv4 over Ethernet",
            ));
        }
        let ip = |r: core::ops::Range<usize>| {
            Ipv4Addr::new(
                buf[r.start],
                buf[r.start + 1],
                buf[r.start + 2],
                buf[r.start + 3],
            )
        };
        Ok(ArpRepr {
            op: ArpOp::from(be16(buf, field::OPER)),
            sha: MacAddr::from_slice(&buf[field::SHA]).ok_or(PacketError::Truncated)?,
            spa: ip(field::SPA),
            tha: MacAddr::from_slice(&buf[field::THA]).ok_or(PacketError::Truncated)?,
            tpa: ip(field::TPA),
        })
    }

    /// Always 28.
    pub fn buffer_len(&self) -> usize {
        ARP_LEN
    }

    /// Writes the packet into `buf[..28]`.
    pub fn emit(&self, buf: &mut [u8]) {
        put16(buf, field::HTYPE, HTYPE_ETHERNET);
        put16(buf, field::PTYPE, ethertype::IPV4);
        buf[field::HLEN] = HLEN_ETHERNET;
        buf[field::PLEN] = PLEN_IPV4;
        put16(buf, field::OPER, self.op.into());
        buf[field::SHA].copy_from_slice(&self.sha.0);
        buf[field::SPA].copy_from_slice(&self.spa.octets());
        buf[field::THA].copy_from_slice(&self.tha.0);
        buf[field::TPA].copy_from_slice(&self.tpa.octets());
    }

    /// The reply that answers this request with `mac` as the owner of `tpa` (proxy ARP).
    pub fn reply(&self, mac: MacAddr) -> ArpRepr {
        ArpRepr {
            op: ArpOp::Reply,
            sha: mac,
            spa: self.tpa,
            tha: self.sha,
            tpa: self.spa,
        }
    }

    /// True when the sender announces its own address (`spa == tpa`).
    pub fn is_gratuitous(&self) -> bool {
        self.spa == self.tpa
    }
}
