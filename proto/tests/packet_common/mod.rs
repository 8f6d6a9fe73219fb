//! Golden frames shared by the packet tests. Checksums and dissection were
//! verified with tshark (`ip/tcp/udp.check_checksum`), independently of this crate.

#![allow(dead_code)]

/// ARP request modelled on Wireshark's arp-storm sample, zero-padded to 60 bytes.
pub const ARP_REQUEST: &str = "\
    ff ff ff ff ff ff 00 07 0d af f4 54 08 06 00 01 \
    08 00 06 04 00 01 00 07 0d af f4 54 18 a6 ac 01 \
    00 00 00 00 00 00 18 a6 ad 9f 00 00 00 00 00 00 \
    00 00 00 00 00 00 00 00 00 00 00 00";

/// ARP reply h2 -> h1 as a Mininet host sends it (42 bytes, unpadded).
pub const ARP_REPLY: &str = "\
    00 00 00 00 00 01 00 00 00 00 00 02 08 06 00 01 \
    08 00 06 04 00 02 00 00 00 00 00 02 0a 00 00 02 \
    00 00 00 00 00 01 0a 00 00 01";

/// IPv4/TCP SYN 10.0.0.1:45678 -> 10.0.0.2:80 with MSS, SACK-permitted, timestamp, NOP and window-scale options.
pub const IPV4_TCP: &str = "\
    00 00 00 00 00 02 00 00 00 00 00 01 08 00 45 00 \
    00 3c 1c 46 40 00 40 06 0a 74 0a 00 00 01 0a 00 \
    00 02 b2 6e 00 50 1a 2b 3c 4d 00 00 00 00 a0 02 \
    fa f0 8d 09 00 00 02 04 05 b4 04 02 08 0a 00 19 \
    a2 b3 00 00 00 00 01 03 03 07";

/// IPv6/ICMPv6 echo request 2001:db8::1 -> 2001:db8::2, traffic class 0xb8, flow label 0x12345.
pub const IPV6_ICMPV6: &str = "\
    33 33 00 00 00 02 00 00 00 00 00 01 86 dd 6b 81 \
    23 45 00 10 3a 40 20 01 0d b8 00 00 00 00 00 00 \
    00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 \
    00 00 00 00 00 02 80 00 6f 5d 12 34 00 01 65 64 \
    67 65 66 6c 6f 77";

/// 802.1Q (VID 100, PCP 5) IPv4/UDP DNS query 192.168.100.10:53000 -> 192.168.100.1:53.
pub const VLAN_UDP: &str = "\
    00 00 00 00 00 01 00 00 00 00 00 0a 81 00 a0 64 \
    08 00 45 00 00 39 00 01 00 00 40 11 31 57 c0 a8 \
    64 0a c0 a8 64 01 cf 08 00 35 00 25 6b ce ab cd \
    01 00 00 01 00 00 00 00 00 00 07 65 78 61 6d 70 \
    6c 65 03 63 6f 6d 00 00 01 00 01";

/// Faucet-style LLDP: chassis MAC, local port id "3", TTL 120, port description, system name, two org TLVs, End.
pub const LLDP_FAUCET: &str = "\
    01 80 c2 00 00 0e 0e 00 00 00 00 01 88 cc 02 07 \
    04 0e 00 00 00 00 01 04 02 07 33 06 02 00 78 08 \
    0f 66 61 75 63 65 74 2d 31 20 70 6f 72 74 20 33 \
    0a 08 66 61 75 63 65 74 2d 31 fe 0c 0e 00 00 01 \
    00 00 00 00 00 00 00 01 fe 05 0e 00 00 02 03 00 \
    00";

/// Ryu-style LLDP: chassis "dpid:..." (locally assigned), port component id (u32 2), TTL 120, End, zero padding.
pub const LLDP_RYU: &str = "\
    01 80 c2 00 00 0e 00 00 00 00 00 02 88 cc 02 16 \
    07 64 70 69 64 3a 30 30 30 30 30 30 30 30 30 30 \
    30 30 30 30 30 31 04 05 02 00 00 00 02 06 02 00 \
    78 00 00 00 00 00 00 00 00 00 00 00";

/// Decodes a whitespace-separated hex string.
pub fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("test vector is hex"))
        .collect()
}

/// Every golden frame, for tests that run over all of them.
pub fn all_frames() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("ARP_REQUEST", ARP_REQUEST),
        ("ARP_REPLY", ARP_REPLY),
        ("IPV4_TCP", IPV4_TCP),
        ("IPV6_ICMPV6", IPV6_ICMPV6),
        ("VLAN_UDP", VLAN_UDP),
        ("LLDP_FAUCET", LLDP_FAUCET),
        ("LLDP_RYU", LLDP_RYU),
    ]
    .into_iter()
    .map(|(n, h)| (n, hex(h)))
    .collect()
}
