//! IPv6 fixed header (RFC 8200). Extension headers are left in the payload.

use std::net::Ipv6Addr;

use super::{be16, be32, put16, put32, PacketError};

/// Byte offsets in an IPv6 header.
mod field {
    use core::ops::Range;
    /// Version (4 bits), traffic class (8), flow label (20).
    pub const VER_TC_FLOW: usize = 0;
    pub const PAYLOAD_LEN: usize = 4;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
}

/// Length of the IPv6 fixed header.
pub const IPV6_HEADER_LEN: usize = 40;
const FLOW_LABEL_MASK: u32 = 0x000f_ffff;

/// An IPv6 fixed header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Ipv6Repr {
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Protocol or extension header that follows (see [`super::ip_proto`]).
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Payload length in bytes, extension headers included.
    pub payload_len: u16,
    /// Traffic class (DSCP and ECN).
    pub traffic_class: u8,
    /// Flow label (20 bits; emit masks it).
    pub flow_label: u32,
}

impl Ipv6Repr {
    /// Decodes the header and returns it with exactly `payload_len` payload bytes;
    /// a shorter buffer is `Truncated`.
    pub fn parse(packet: &[u8]) -> Result<(Ipv6Repr, &[u8]), PacketError> {
        let repr = Self::parse_header(packet)?;
        let end = IPV6_HEADER_LEN + usize::from(repr.payload_len);
        let payload = packet
            .get(IPV6_HEADER_LEN..end)
            .ok_or(PacketError::Truncated)?;
        Ok((repr, payload))
    }

    /// Like [`Ipv6Repr::parse`] but accepts a capture cut short after the header.
    pub fn parse_captured(packet: &[u8]) -> Result<(Ipv6Repr, &[u8]), PacketError> {
        let repr = Self::parse_header(packet)?;
        let end = (IPV6_HEADER_LEN + usize::from(repr.payload_len)).min(packet.len());
        Ok((repr, &packet[IPV6_HEADER_LEN..end]))
    }

    /// Decodes the fixed header.
    fn parse_header(packet: &[u8]) -> Result<Ipv6Repr, PacketError> {
        if packet.len() < IPV6_HEADER_LEN {
            return Err(PacketError::Truncated);
        }
        let first = be32(packet, field::VER_TC_FLOW);
        if first >> 28 != 6 {
            return Err(PacketError::Malformed("IPv6 version is not 6"));
        }
        let addr = |r: core::ops::Range<usize>| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&packet[r]);
            Ipv6Addr::from(a)
        };
        Ok(Ipv6Repr {
            src: addr(field::SRC),
            dst: addr(field::DST),
            next_header: packet[field::NEXT_HEADER],
            hop_limit: packet[field::HOP_LIMIT],
            payload_len: be16(packet, field::PAYLOAD_LEN),
            traffic_class: (first >> 20) as u8,
            flow_label: first & FLOW_LABEL_MASK,
        })
    }

    /// Always 40.
    pub fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Writes the 40-byte header.
    pub fn emit(&self, buf: &mut [u8]) {
        let first = (6u32 << 28)
            | (u32::from(self.traffic_class) << 20)
            | (self.flow_label & FLOW_LABEL_MASK);
        put32(buf, field::VER_TC_FLOW, first);
        put16(buf, field::PAYLOAD_LEN, self.payload_len);
        buf[field::NEXT_HEADER] = self.next_header;
        buf[field::HOP_LIMIT] = self.hop_limit;
        buf[field::SRC].copy_from_slice(&self.src.octets());
        buf[field::DST].copy_from_slice(&self.dst.octets());
    }
}
