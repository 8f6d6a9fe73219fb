//! One-pass decoding of a PACKET_IN payload, and whole-frame builders.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{
    ethertype, ip_proto, ArpRepr, EthernetRepr, Ipv4Repr, Ipv6Repr, PacketError,
    ETHERNET_MIN_FRAME_LEN,
};
use crate::MacAddr;

/// What follows the Ethernet header, as far as the controller cares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum L3 {
    /// An Ethernet/IPv4 ARP packet.
    Arp(ArpRepr),
    /// IPv4; ports are present for the first fragment of TCP, UDP and SCTP when captured.
    Ipv4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
        /// Payload protocol.
        protocol: u8,
        /// L4 source port, if any.
        src_port: Option<u16>,
        /// L4 destination port, if any.
        dst_port: Option<u16>,
    },
    /// IPv6 (extension headers are not walked).
    Ipv6 {
        /// Source address.
        src: Ipv6Addr,
        /// Destination address.
        dst: Ipv6Addr,
        /// Next header after the fixed header.
        next_header: u8,
    },
    /// LLDP; parse the payload with [`super::LldpRepr::parse`].
    Lldp,
    /// Any other EtherType (including a second VLAN tag).
    Other,
}

/// Everything the controller needs from one PACKET_IN payload, parsed in one pass, zero allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PacketSummary {
    /// The Ethernet header.
    pub eth: EthernetRepr,
    /// The network layer.
    pub l3: L3,
}

impl PacketSummary {
    /// Decodes a frame. A bad header of a known EtherType is an error; an unknown
    /// EtherType is [`L3::Other`]. IP headers must be complete, but the IP payload
    /// may be cut short (PACKET_IN `max_len`); ports are `None` if not captured.
    pub fn parse(frame: &[u8]) -> Result<PacketSummary, PacketError> {
        let (eth, payload) = EthernetRepr::parse(frame)?;
        let l3 = match eth.ethertype {
            ethertype::ARP => L3::Arp(ArpRepr::parse(payload)?),
            ethertype::IPV4 => {
                let (ip, l4) = Ipv4Repr::parse_captured(payload)?;
                let ports = if ip.is_first_fragment() {
                    ports(ip.protocol, l4)
                } else {
                    None
                };
                L3::Ipv4 {
                    src: ip.src,
                    dst: ip.dst,
                    protocol: ip.protocol,
                    src_port: ports.map(|p| p.0),
                    dst_port: ports.map(|p| p.1),
                }
            }
            ethertype::IPV6 => {
                let (ip, _) = Ipv6Repr::parse_captured(payload)?;
                L3::Ipv6 {
                    src: ip.src,
                    dst: ip.dst,
                    next_header: ip.next_header,
                }
            }
            ethertype::LLDP => L3::Lldp,
            _ => L3::Other,
        };
        Ok(PacketSummary { eth, l3 })
    }
}

/// Source and destination port of a TCP, UDP or SCTP header, if the first 4 bytes are there.
fn ports(protocol: u8, l4: &[u8]) -> Option<(u16, u16)> {
    match (protocol, l4) {
        (ip_proto::TCP | ip_proto::UDP | ip_proto::SCTP, [a, b, c, d, ..]) => {
            Some((u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d])))
        }
        _ => None,
    }
}

/// Builds an untagged Ethernet+ARP frame (e.g. a proxy-ARP reply), zero-padded to 60 bytes.
pub fn arp_frame(eth_src: MacAddr, eth_dst: MacAddr, arp: &ArpRepr) -> Vec<u8> {
    let eth = EthernetRepr {
        dst: eth_dst,
        src: eth_src,
        vlan: None,
        ethertype: ethertype::ARP,
    };
    let header_len = eth.buffer_len();
    let mut frame = vec![0u8; (header_len + arp.buffer_len()).max(ETHERNET_MIN_FRAME_LEN)];
    eth.emit(&mut frame);
    arp.emit(&mut frame[header_len..]);
    frame
}
