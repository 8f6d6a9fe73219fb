//! IPv4 header (RFC 791).

use std::net::Ipv4Addr;

use super::{be16, checksum::internet_checksum, put16, PacketError};

/// Byte offsets in an IPv4 header.
mod field {
    use core::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Largest payload that fits the 16-bit total length with a 20-byte header.
const MAX_PAYLOAD_LEN: u16 = u16::MAX - IPV4_HEADER_LEN as u16;
const DONT_FRAG: u16 = 0x4000;
const MORE_FRAGS: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// An IPv4 header. Options are skipped on parse and never emitted (emit writes
/// IHL 5); the reserved flag bit is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Ipv4Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Payload protocol (see [`super::ip_proto`]).
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// The DSCP (high 6 bits) and ECN (low 2 bits) byte.
    pub dscp_ecn: u8,
    /// Payload length in bytes; emit clamps it to 65515.
    pub payload_len: u16,
    /// Identification, for fragment reassembly.
    pub ident: u16,
    /// The don't-fragment flag.
    pub dont_frag: bool,
    /// The more-fragments flag.
    pub more_frags: bool,
    /// Fragment offset in 8-byte units (13 bits; emit masks it).
    pub frag_offset: u16,
}

impl Ipv4Repr {
    /// A header with TTL 64 and no flags, for building packets.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, payload_len: u16) -> Ipv4Repr {
        Ipv4Repr {
            src,
            dst,
            protocol,
            ttl: 64,
            dscp_ecn: 0,
            payload_len,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }

    /// Decodes the header and returns it with exactly `total length - header length`
    /// payload bytes (Ethernet padding dropped); a shorter buffer is `Truncated`.
    /// The header checksum is not required to be valid; see [`Ipv4Repr::checksum_ok`].
    pub fn parse(packet: &[u8]) -> Result<(Ipv4Repr, &[u8]), PacketError> {
        let (repr, header_len) = Self::parse_header(packet)?;
        let end = header_len + usize::from(repr.payload_len);
        let payload = packet.get(header_len..end).ok_or(PacketError::Truncated)?;
        Ok((repr, payload))
    }

    /// Like [`Ipv4Repr::parse`] but accepts a capture cut short after the header
    /// (a PACKET_IN limited by `max_len`); the payload is whatever was captured.
    pub fn parse_captured(packet: &[u8]) -> Result<(Ipv4Repr, &[u8]), PacketError> {
        let (repr, header_len) = Self::parse_header(packet)?;
        let end = (header_len + usize::from(repr.payload_len)).min(packet.len());
        Ok((repr, &packet[header_len..end]))
    }

    /// Checks the fixed header and options are present; returns the repr and header length.
    fn parse_header(packet: &[u8]) -> Result<(Ipv4Repr, usize), PacketError> {
        if packet.len() < IPV4_HEADER_LEN {
            return Err(PacketError::Truncated);
        }
        if packet[field::VER_IHL] >> 4 != 4 {
            return Err(PacketError::Malformed("IPv4 version is not 4"));
        }
        let header_len = usize::from(packet[field::VER_IHL] & 0x0f) * 4;
        if header_len < IPV4_HEADER_LEN {
            return Err(PacketError::Malformed("IPv4 IHL below 5"));
        }
        if packet.len() < header_len {
            return Err(PacketError::Truncated);
        }
        let total_len = usize::from(be16(packet, field::TOTAL_LEN));
        if total_len < header_len {
            return Err(PacketError::Malformed(
                "IPv4 total length below header length",
            ));
        }
        let flags = be16(packet, field::FLAGS_FRAG);
        let ip = |r: core::ops::Range<usize>| {
            Ipv4Addr::new(
                packet[r.start],
                packet[r.start + 1],
                packet[r.start + 2],
                packet[r.start + 3],
            )
        };
        let repr = Ipv4Repr {
            src: ip(field::SRC),
            dst: ip(field::DST),
            protocol: packet[field::PROTOCOL],
            ttl: packet[field::TTL],
            dscp_ecn: packet[field::DSCP_ECN],
            // total_len >= header_len >= 20 was checked, and both fit in u16.
            payload_len: (total_len - header_len) as u16,
            ident: be16(packet, field::IDENT),
            dont_frag: flags & DONT_FRAG != 0,
            more_frags: flags & MORE_FRAGS != 0,
            frag_offset: flags & FRAG_OFFSET_MASK,
        };
        Ok((repr, header_len))
    }

    /// True when the header (including options) of `packet` has a correct checksum.
    pub fn checksum_ok(packet: &[u8]) -> bool {
        let Some(&ver_ihl) = packet.first() else {
            return false;
        };
        let header_len = usize::from(ver_ihl & 0x0f) * 4;
        header_len >= IPV4_HEADER_LEN
            && packet
                .get(..header_len)
                .is_some_and(|h| internet_checksum(h) == 0)
    }

    /// True when this is the first (or only) fragment, so L4 ports are present.
    pub fn is_first_fragment(&self) -> bool {
        self.frag_offset == 0
    }

    /// Always 20: options are not emitted.
    pub fn buffer_len(&self) -> usize {
        IPV4_HEADER_LEN
    }

    /// Writes the 20-byte header, with total length and checksum computed.
    pub fn emit(&self, buf: &mut [u8]) {
        let header = &mut buf[..IPV4_HEADER_LEN];
        header[field::VER_IHL] = 0x45;
        header[field::DSCP_ECN] = self.dscp_ecn;
        put16(
            header,
            field::TOTAL_LEN,
            self.payload_len.min(MAX_PAYLOAD_LEN) + IPV4_HEADER_LEN as u16,
        );
        put16(header, field::IDENT, self.ident);
        let flags = if self.dont_frag { DONT_FRAG } else { 0 }
            | if self.more_frags { MORE_FRAGS } else { 0 };
        put16(
            header,
            field::FLAGS_FRAG,
            flags | (self.frag_offset & FRAG_OFFSET_MASK),
        );
        header[field::TTL] = self.ttl;
        header[field::PROTOCOL] = self.protocol;
        put16(header, field::CHECKSUM, 0);
        header[field::SRC].copy_from_slice(&self.src.octets());
        header[field::DST].copy_from_slice(&self.dst.octets());
        let c = internet_checksum(header);
        put16(header, field::CHECKSUM, c);
    }
}
