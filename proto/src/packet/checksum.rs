//! The Internet checksum (RFC 1071) and L4 pseudo-header checksums.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{ip_proto, put16, PacketError};

/// Adds `data` as big-endian 16-bit words (odd tail padded with zero) to `sum`.
fn sum_words(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for w in &mut chunks {
        sum = fold_once(sum + u32::from(u16::from_be_bytes([w[0], w[1]])));
    }
    if let [last] = chunks.remainder() {
        sum = fold_once(sum + (u32::from(*last) << 8));
    }
    sum
}

/// Folds the carry back in, keeping the sum below 2^17 so additions never overflow.
fn fold_once(sum: u32) -> u32 {
    (sum & 0xffff) + (sum >> 16)
}

/// Folds a running sum to 16 bits and complements it.
fn finish(sum: u32) -> u16 {
    !(fold_once(fold_once(sum)) as u16)
}

/// The Internet checksum of `data`: 0 when `data` already contains a correct checksum.
pub fn internet_checksum(data: &[u8]) -> u16 {
    finish(sum_words(0, data))
}

/// Checksum over the IPv4 pseudo-header and `segment` as it stands: with the
/// checksum field zeroed it is the value to store; over a correct segment it is 0.
pub fn l4_checksum_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> u16 {
    let mut sum = sum_words(0, &src.octets());
    sum = sum_words(sum, &dst.octets());
    sum += u32::from(protocol);
    // Segments longer than 64 KiB cannot be in IPv4; their length wraps like on the wire.
    sum += segment.len() as u32 & 0xffff;
    finish(sum_words(sum, segment))
}

/// Checksum over the IPv6 pseudo-header and `segment`, with the same convention as [`l4_checksum_v4`].
pub fn l4_checksum_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, segment: &[u8]) -> u16 {
    let mut sum = sum_words(0, &src.octets());
    sum = sum_words(sum, &dst.octets());
    let len = segment.len() as u32;
    sum = fold_once(sum + (len >> 16) + (len & 0xffff));
    sum += u32::from(next_header);
    finish(sum_words(sum, segment))
}

/// Where the checksum sits in a TCP, UDP or ICMPv6 header.
fn checksum_offset(protocol: u8) -> Result<usize, PacketError> {
    match protocol {
        ip_proto::TCP => Ok(16),
        ip_proto::UDP => Ok(6),
        ip_proto::ICMPV6 => Ok(2),
        _ => Err(PacketError::Unsupported(
            "no pseudo-header checksum for this protocol",
        )),
    }
}

/// Zeroes, computes and stores the checksum of a whole TCP, UDP or ICMPv6 `segment`.
fn fill(
    segment: &mut [u8],
    protocol: u8,
    compute: impl Fn(&[u8]) -> u16,
) -> Result<(), PacketError> {
    let at = checksum_offset(protocol)?;
    if segment.len() < at + 2 {
        return Err(PacketError::Truncated);
    }
    put16(segment, at, 0);
    let mut c = compute(segment);
    // In UDP a zero checksum means "none", so a computed zero is sent as all ones.
    if c == 0 && protocol == ip_proto::UDP {
        c = 0xffff;
    }
    put16(segment, at, c);
    Ok(())
}

/// Fills the checksum of a TCP or UDP `segment` (header and payload) carried in IPv4.
pub fn fill_l4_checksum_v4(
    segment: &mut [u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
) -> Result<(), PacketError> {
    fill(segment, protocol, |s| l4_checksum_v4(src, dst, protocol, s))
}

/// Fills the checksum of a TCP, UDP or ICMPv6 `segment` carried in IPv6.
pub fn fill_l4_checksum_v6(
    segment: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    protocol: u8,
) -> Result<(), PacketError> {
    fill(segment, protocol, |s| l4_checksum_v6(src, dst, protocol, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example_sums_to_expected() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }

    #[test]
    fn udp_computed_zero_is_sent_as_all_ones() {
        let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let mut dgram = [0x30, 0x39, 0x00, 0x35, 0x00, 0x0a, 0, 0, 0, 0];
        // Choose the payload word that makes the ones' complement sum 0xffff.
        let c = l4_checksum_v4(src, dst, ip_proto::UDP, &dgram);
        dgram[8..].copy_from_slice(&c.to_be_bytes());
        fill_l4_checksum_v4(&mut dgram, src, dst, ip_proto::UDP).unwrap();
        assert_eq!(&dgram[6..8], &[0xff, 0xff]);
        assert_eq!(l4_checksum_v4(src, dst, ip_proto::UDP, &dgram), 0);
    }

    #[test]
    fn fill_rejects_unknown_protocol_and_short_segment() {
        let ip = Ipv4Addr::LOCALHOST;
        assert!(fill_l4_checksum_v4(&mut [0; 20], ip, ip, ip_proto::ICMP).is_err());
        assert_eq!(
            fill_l4_checksum_v4(&mut [0; 17], ip, ip, ip_proto::TCP),
            Err(PacketError::Truncated)
        );
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(internet_checksum(&[0x12]), internet_checksum(&[0x12, 0x00]));
    }
}
