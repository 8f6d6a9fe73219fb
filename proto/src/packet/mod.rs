//! Packet headers: Ethernet, VLAN, ARP, IPv4, IPv6, TCP/UDP and LLDP.
//!
//! Each header has a plain `Repr` struct with `parse`, `buffer_len` and `emit`
//! (smoltcp `wire` style). The contract:
//!
//! - `parse` checks every length before reading, so it never panics on any
//!   input; it returns [`PacketError`] instead.
//! - `emit` writes exactly `buffer_len()` bytes and never panics when given a
//!   buffer at least that long (a shorter buffer is a caller bug and panics).
//! - Length fields are computed on emit from the data, never copied from a
//!   field the caller could get wrong. Checksums are computed on emit where the
//!   header alone determines them (IPv4); L4 checksums need the pseudo-header
//!   and payload, so they are filled by the helpers in this module.
//! - Wire enums have an `Unknown(n)` variant so unknown codes round-trip.
//!
//! [`PacketSummary::parse`] reads everything the controller needs from one
//! PACKET_IN payload in a single pass without allocating.

mod arp;
mod checksum;
mod ethernet;
mod ipv4;
mod ipv6;
mod l4;
pub mod lldp;
mod summary;

pub use arp::{ArpOp, ArpRepr, ARP_LEN};
pub use checksum::{
    fill_l4_checksum_v4, fill_l4_checksum_v6, internet_checksum, l4_checksum_v4, l4_checksum_v6,
};
pub use ethernet::{
    EthernetRepr, VlanTag, ETHERNET_HEADER_LEN, ETHERNET_MIN_FRAME_LEN, VLAN_TAG_LEN,
};
pub use ipv4::{Ipv4Repr, IPV4_HEADER_LEN};
pub use ipv6::{Ipv6Repr, IPV6_HEADER_LEN};
pub use l4::{TcpFlags, TcpPorts, TcpRepr, UdpRepr, TCP_HEADER_LEN, UDP_HEADER_LEN};
pub use lldp::{ChassisId, LldpRepr, LldpTlvs, OrgTlv, PortId};
pub use summary::{arp_frame, PacketSummary, L3};

/// EtherType values the controller cares about.
pub mod ethertype {
    /// Internet Protocol version 4.
    pub const IPV4: u16 = 0x0800;
    /// Address Resolution Protocol.
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad service VLAN tag (Q-in-Q).
    pub const QINQ: u16 = 0x88a8;
    /// Internet Protocol version 6.
    pub const IPV6: u16 = 0x86dd;
    /// Link Layer Discovery Protocol.
    pub const LLDP: u16 = 0x88cc;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
}

/// IP protocol numbers (IPv4 `protocol`, IPv6 `next_header`).
pub mod ip_proto {
    /// Internet Control Message Protocol.
    pub const ICMP: u8 = 1;
    /// Transmission Control Protocol.
    pub const TCP: u8 = 6;
    /// User Datagram Protocol.
    pub const UDP: u8 = 17;
    /// ICMP for IPv6.
    pub const ICMPV6: u8 = 58;
    /// Stream Control Transmission Protocol.
    pub const SCTP: u8 = 132;
}

/// Why a packet could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The buffer ends before the header (or a length field) says it should.
    #[error("packet truncated")]
    Truncated,
    /// A field has a value the format forbids.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// A valid packet of a kind this codec does not handle (e.g. non-Ethernet ARP).
    #[error("unsupported packet: {0}")]
    Unsupported(&'static str),
}

/// Reads a big-endian u16 at `at`; callers check the length first.
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads a big-endian u32 at `at`; callers check the length first.
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Writes a big-endian u16 at `at`.
fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// Writes a big-endian u32 at `at`.
fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}
