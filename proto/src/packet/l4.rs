//! TCP and UDP headers. Checksums are filled separately with
//! [`super::fill_l4_checksum_v4`] / [`super::fill_l4_checksum_v6`] because they
//! cover the pseudo-header and the payload.

use super::{be16, be32, put16, put32, PacketError};

/// Byte offsets in a TCP header.
mod tcp {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    /// Data offset (high 4 bits), reserved (3), NS flag (low bit).
    pub const OFFSET_NS: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// Byte offsets in a UDP header.
mod udp {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// Length of a TCP header without options.
pub const TCP_HEADER_LEN: usize = 20;
/// Largest TCP header: data offset 15.
const TCP_MAX_HEADER_LEN: usize = 60;
/// Length of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;

/// TCP flag bits (the 9 defined bits; the 3 reserved bits are dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: TcpFlags = TcpFlags(0x001);
    /// Synchronize sequence numbers.
    pub const SYN: TcpFlags = TcpFlags(0x002);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x004);
    /// Push function.
    pub const PSH: TcpFlags = TcpFlags(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: TcpFlags = TcpFlags(0x010);
    /// Urgent pointer field is significant.
    pub const URG: TcpFlags = TcpFlags(0x020);
    /// ECN echo.
    pub const ECE: TcpFlags = TcpFlags(0x040);
    /// Congestion window reduced.
    pub const CWR: TcpFlags = TcpFlags(0x080);
    /// ECN nonce (historic).
    pub const NS: TcpFlags = TcpFlags(0x100);
    const MASK: u16 = 0x1ff;

    /// True when every bit of `other` is set.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

/// Reads the 9 flag bits of a TCP header of at least 14 bytes.
fn read_flags(seg: &[u8]) -> TcpFlags {
    TcpFlags((u16::from(seg[tcp::OFFSET_NS] & 1) << 8) | u16::from(seg[tcp::FLAGS]))
}

/// Ports and flags of a TCP segment, read without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TcpPorts {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Flag bits.
    pub flags: TcpFlags,
}

impl TcpPorts {
    /// Reads ports and flags from the first 14 bytes of a TCP segment.
    pub fn parse(segment: &[u8]) -> Result<TcpPorts, PacketError> {
        if segment.len() < tcp::FLAGS + 1 {
            return Err(PacketError::Truncated);
        }
        Ok(TcpPorts {
            src_port: be16(segment, tcp::SRC_PORT),
            dst_port: be16(segment, tcp::DST_PORT),
            flags: read_flags(segment),
        })
    }
}

/// A TCP header with its raw options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flag bits.
    pub flags: TcpFlags,
    /// Receive window.
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Raw option bytes; emit zero-pads them to 4 bytes and drops any past 40.
    pub options: Vec<u8>,
}

impl TcpRepr {
    /// Decodes a segment, returning the header and the payload after the options.
    pub fn parse(segment: &[u8]) -> Result<(TcpRepr, &[u8]), PacketError> {
        if segment.len() < TCP_HEADER_LEN {
            return Err(PacketError::Truncated);
        }
        let header_len = usize::from(segment[tcp::OFFSET_NS] >> 4) * 4;
        if header_len < TCP_HEADER_LEN {
            return Err(PacketError::Malformed("TCP data offset below 5"));
        }
        if segment.len() < header_len {
            return Err(PacketError::Truncated);
        }
        let repr = TcpRepr {
            src_port: be16(segment, tcp::SRC_PORT),
            dst_port: be16(segment, tcp::DST_PORT),
            seq: be32(segment, tcp::SEQ),
            ack: be32(segment, tcp::ACK),
            flags: read_flags(segment),
            window: be16(segment, tcp::WINDOW),
            urgent: be16(segment, tcp::URGENT),
            options: segment[TCP_HEADER_LEN..header_len].to_vec(),
        };
        Ok((repr, &segment[header_len..]))
    }

    /// Header length: 20 plus the options padded to 4 bytes, at most 60.
    pub fn buffer_len(&self) -> usize {
        (TCP_HEADER_LEN + self.options.len().next_multiple_of(4)).min(TCP_MAX_HEADER_LEN)
    }

    /// Writes the header with a zero checksum (fill it once the payload is in place).
    pub fn emit(&self, buf: &mut [u8]) {
        let len = self.buffer_len();
        let header = &mut buf[..len];
        put16(header, tcp::SRC_PORT, self.src_port);
        put16(header, tcp::DST_PORT, self.dst_port);
        put32(header, tcp::SEQ, self.seq);
        put32(header, tcp::ACK, self.ack);
        let flags = self.flags.0 & TcpFlags::MASK;
        header[tcp::OFFSET_NS] = ((len / 4) as u8) << 4 | (flags >> 8) as u8;
        header[tcp::FLAGS] = flags as u8;
        put16(header, tcp::WINDOW, self.window);
        put16(header, tcp::CHECKSUM, 0);
        put16(header, tcp::URGENT, self.urgent);
        let opts = &mut header[TCP_HEADER_LEN..];
        let n = self.options.len().min(opts.len());
        opts[..n].copy_from_slice(&self.options[..n]);
        opts[n..].fill(0);
    }
}

/// A UDP header; the length field is computed from `payload_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload length in bytes; emit clamps it to 65527.
    pub payload_len: u16,
}

impl UdpRepr {
    /// Decodes a datagram, returning the header and exactly `length - 8` payload bytes.
    pub fn parse(datagram: &[u8]) -> Result<(UdpRepr, &[u8]), PacketError> {
        if datagram.len() < UDP_HEADER_LEN {
            return Err(PacketError::Truncated);
        }
        let length = usize::from(be16(datagram, udp::LENGTH));
        if length < UDP_HEADER_LEN {
            return Err(PacketError::Malformed("UDP length below 8"));
        }
        let payload = datagram
            .get(UDP_HEADER_LEN..length)
            .ok_or(PacketError::Truncated)?;
        let repr = UdpRepr {
            src_port: be16(datagram, udp::SRC_PORT),
            dst_port: be16(datagram, udp::DST_PORT),
            payload_len: (length - UDP_HEADER_LEN) as u16,
        };
        Ok((repr, payload))
    }

    /// Always 8.
    pub fn buffer_len(&self) -> usize {
        UDP_HEADER_LEN
    }

    /// Writes the header with a zero ("none") checksum.
    pub fn emit(&self, buf: &mut [u8]) {
        const MAX_PAYLOAD: u16 = u16::MAX - UDP_HEADER_LEN as u16;
        put16(buf, udp::SRC_PORT, self.src_port);
        put16(buf, udp::DST_PORT, self.dst_port);
        put16(
            buf,
            udp::LENGTH,
            self.payload_len.min(MAX_PAYLOAD) + UDP_HEADER_LEN as u16,
        );
        put16(buf, udp::CHECKSUM, 0);
    }
}
