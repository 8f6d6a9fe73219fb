//! Golden-vector tests: decode real frames, check fields, re-encode byte-exact,
//! and check that every truncation is an error rather than a panic.

mod packet_common;

use std::net::{Ipv4Addr, Ipv6Addr};

use edgeflow_proto::packet::{
    arp_frame, ethertype, fill_l4_checksum_v4, fill_l4_checksum_v6, ip_proto, l4_checksum_v4,
    ArpOp, ArpRepr, EthernetRepr, Ipv4Repr, Ipv6Repr, PacketError, PacketSummary, TcpFlags,
    TcpPorts, TcpRepr, UdpRepr, VlanTag, L3,
};
use edgeflow_proto::MacAddr;
use packet_common::*;

const H1: MacAddr = MacAddr([0, 0, 0, 0, 0, 1]);
const H2: MacAddr = MacAddr([0, 0, 0, 0, 0, 2]);

#[test]
fn arp_request_decodes_and_rebuilds_byte_exact() {
    let frame = hex(ARP_REQUEST);
    let s = PacketSummary::parse(&frame).unwrap();
    let sender = MacAddr([0x00, 0x07, 0x0d, 0xaf, 0xf4, 0x54]);
    assert_eq!(
        s.eth,
        EthernetRepr {
            dst: MacAddr::BROADCAST,
            src: sender,
            vlan: None,
            ethertype: ethertype::ARP
        }
    );
    let arp = ArpRepr {
        op: ArpOp::Request,
        sha: sender,
        spa: Ipv4Addr::new(24, 166, 172, 1),
        tha: MacAddr([0; 6]),
        tpa: Ipv4Addr::new(24, 166, 173, 159),
    };
    assert_eq!(s.l3, L3::Arp(arp.clone()));
    assert_eq!(arp_frame(sender, MacAddr::BROADCAST, &arp), frame);
}

#[test]
fn arp_reply_decodes_and_reencodes_byte_exact() {
    let frame = hex(ARP_REPLY);
    let (eth, payload) = EthernetRepr::parse(&frame).unwrap();
    let arp = ArpRepr::parse(payload).unwrap();
    assert_eq!(arp.op, ArpOp::Reply);
    assert_eq!(
        (arp.sha, arp.spa, arp.tha, arp.tpa),
        (
            H2,
            Ipv4Addr::new(10, 0, 0, 2),
            H1,
            Ipv4Addr::new(10, 0, 0, 1)
        )
    );
    let mut out = vec![0u8; eth.buffer_len() + arp.buffer_len()];
    eth.emit(&mut out);
    arp.emit(&mut out[eth.buffer_len()..]);
    assert_eq!(out, frame);
    // arp_frame pads to the Ethernet minimum with zeros.
    let built = arp_frame(H2, H1, &arp);
    assert_eq!(built.len(), 60);
    assert_eq!(&built[..42], &frame[..]);
    assert!(built[42..].iter().all(|b| *b == 0));
}

#[test]
fn arp_reply_to_request_swaps_sender_and_target() {
    let request = ArpRepr {
        op: ArpOp::Request,
        sha: H1,
        spa: Ipv4Addr::new(10, 0, 0, 1),
        tha: MacAddr([0; 6]),
        tpa: Ipv4Addr::new(10, 0, 0, 2),
    };
    let frame = hex(ARP_REPLY);
    assert_eq!(request.reply(H2), ArpRepr::parse(&frame[14..]).unwrap());
}

#[test]
fn arp_truncations_are_errors() {
    for frame in [hex(ARP_REQUEST), hex(ARP_REPLY)] {
        for n in 0..42 {
            assert!(PacketSummary::parse(&frame[..n]).is_err(), "cut at {n}");
        }
        for n in 0..28 {
            assert_eq!(
                ArpRepr::parse(&frame[14..14 + n]),
                Err(PacketError::Truncated),
                "cut at {n}"
            );
        }
    }
}

#[test]
fn arp_other_than_ethernet_ipv4_is_rejected() {
    let frame = hex(ARP_REPLY);
    for (at, value) in [(14, 6u8), (16, 0x86), (18, 8), (19, 16)] {
        let mut bad = frame.clone();
        bad[at] = value;
        assert!(
            matches!(ArpRepr::parse(&bad[14..]), Err(PacketError::Unsupported(_))),
            "byte {at}"
        );
        assert!(PacketSummary::parse(&bad).is_err(), "byte {at}");
    }
}

#[test]
fn arp_unknown_opcode_round_trips() {
    let mut frame = hex(ARP_REPLY);
    frame[21] = 9; // RARP-ish opcode 9
    let arp = ArpRepr::parse(&frame[14..]).unwrap();
    assert_eq!(arp.op, ArpOp::Unknown(9));
    let mut out = [0u8; 28];
    arp.emit(&mut out);
    assert_eq!(&out[..], &frame[14..]);
}

#[test]
fn ipv4_tcp_decodes_and_reencodes_byte_exact() {
    let frame = hex(IPV4_TCP);
    let (src, dst) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let s = PacketSummary::parse(&frame).unwrap();
    assert_eq!(
        s.l3,
        L3::Ipv4 {
            src,
            dst,
            protocol: ip_proto::TCP,
            src_port: Some(45678),
            dst_port: Some(80)
        }
    );

    let (eth, l3) = EthernetRepr::parse(&frame).unwrap();
    assert!(Ipv4Repr::checksum_ok(l3));
    let (ip, seg) = Ipv4Repr::parse(l3).unwrap();
    let expected_ip = Ipv4Repr {
        src,
        dst,
        protocol: ip_proto::TCP,
        ttl: 64,
        dscp_ecn: 0,
        payload_len: 40,
        ident: 0x1c46,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    };
    assert_eq!(ip, expected_ip);
    assert_eq!(
        l4_checksum_v4(src, dst, ip_proto::TCP, seg),
        0,
        "TCP checksum verifies"
    );
    let (tcp, payload) = TcpRepr::parse(seg).unwrap();
    assert!(payload.is_empty());
    assert_eq!(
        (tcp.src_port, tcp.dst_port, tcp.seq, tcp.ack),
        (45678, 80, 0x1a2b_3c4d, 0)
    );
    assert_eq!(
        (tcp.flags, tcp.window, tcp.options.len()),
        (TcpFlags::SYN, 64240, 20)
    );
    assert_eq!(
        TcpPorts::parse(seg).unwrap(),
        TcpPorts {
            src_port: 45678,
            dst_port: 80,
            flags: TcpFlags::SYN
        }
    );

    let mut out = vec![0u8; frame.len()];
    eth.emit(&mut out);
    ip.emit(&mut out[14..]);
    tcp.emit(&mut out[34..]);
    fill_l4_checksum_v4(&mut out[34..], src, dst, ip_proto::TCP).unwrap();
    assert_eq!(out, frame);
}

#[test]
fn ipv4_tcp_truncations_are_errors_or_lose_only_ports() {
    let frame = hex(IPV4_TCP);
    let full = PacketSummary::parse(&frame).unwrap();
    for n in 0..frame.len() {
        let cut = &frame[..n];
        if n >= 14 {
            assert!(Ipv4Repr::parse(&cut[14..]).is_err(), "IPv4 cut at {n}");
        }
        if n >= 34 {
            assert!(TcpRepr::parse(&cut[34..]).is_err(), "TCP cut at {n}");
        }
        // A PACKET_IN may be cut by max_len: headers must be whole, ports need 4 bytes.
        match (n, PacketSummary::parse(cut)) {
            (0..34, r) => assert!(r.is_err(), "summary cut at {n}"),
            (
                34..38,
                Ok(PacketSummary {
                    l3:
                        L3::Ipv4 {
                            src_port: None,
                            dst_port: None,
                            ..
                        },
                    ..
                }),
            ) => {}
            (38.., Ok(s)) => assert_eq!(s, full, "summary cut at {n}"),
            (_, r) => panic!("summary cut at {n}: {r:?}"),
        }
    }
}

#[test]
fn ipv4_corruption_is_detected() {
    let frame = hex(IPV4_TCP);
    let mut bad = frame.clone();
    bad[14 + 8] = 63; // TTL changed without fixing the checksum
    assert!(!Ipv4Repr::checksum_ok(&bad[14..]));
    bad[14] = 0x55; // version 5
    assert!(matches!(
        PacketSummary::parse(&bad),
        Err(PacketError::Malformed(_))
    ));
    let mut bad = frame.clone();
    bad[14] = 0x44; // IHL 4
    assert!(matches!(
        Ipv4Repr::parse(&bad[14..]),
        Err(PacketError::Malformed(_))
    ));
    let mut bad = frame.clone();
    bad[17] = 19; // total length below the header
    assert!(matches!(
        PacketSummary::parse(&bad),
        Err(PacketError::Malformed(_))
    ));
    let mut bad = frame;
    bad[35] ^= 1; // TCP source port
    assert_ne!(
        l4_checksum_v4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            ip_proto::TCP,
            &bad[34..]
        ),
        0
    );
}

#[test]
fn ipv4_later_fragment_has_no_ports() {
    let mut frame = hex(IPV4_TCP);
    frame[14 + 7] = 0x10; // fragment offset 16
    let s = PacketSummary::parse(&frame).unwrap();
    assert!(matches!(
        s.l3,
        L3::Ipv4 {
            src_port: None,
            dst_port: None,
            ..
        }
    ));
}

#[test]
fn ipv6_icmpv6_decodes_and_reencodes_byte_exact() {
    let frame = hex(IPV6_ICMPV6);
    let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let s = PacketSummary::parse(&frame).unwrap();
    assert_eq!(s.eth.dst, MacAddr([0x33, 0x33, 0, 0, 0, 2]));
    assert_eq!(
        s.l3,
        L3::Ipv6 {
            src,
            dst,
            next_header: ip_proto::ICMPV6
        }
    );

    let (eth, l3) = EthernetRepr::parse(&frame).unwrap();
    let (ip, icmp) = Ipv6Repr::parse(l3).unwrap();
    let expected = Ipv6Repr {
        src,
        dst,
        next_header: ip_proto::ICMPV6,
        hop_limit: 64,
        payload_len: 16,
        traffic_class: 0xb8,
        flow_label: 0x12345,
    };
    assert_eq!(ip, expected);
    assert_eq!(&icmp[..2], &[128, 0], "echo request");

    let mut out = vec![0u8; frame.len()];
    eth.emit(&mut out);
    ip.emit(&mut out[14..]);
    out[54..].copy_from_slice(icmp);
    out[56..58].fill(0);
    fill_l4_checksum_v6(&mut out[54..], src, dst, ip_proto::ICMPV6).unwrap();
    assert_eq!(out, frame);
}

#[test]
fn ipv6_truncations_are_errors() {
    let frame = hex(IPV6_ICMPV6);
    for n in 14..frame.len() {
        assert_eq!(
            Ipv6Repr::parse(&frame[14..n]).map(|_| ()),
            Err(PacketError::Truncated),
            "cut at {n}"
        );
    }
    for n in 0..54 {
        assert!(
            PacketSummary::parse(&frame[..n]).is_err(),
            "summary cut at {n}"
        );
    }
    let mut bad = frame;
    bad[14] = 0x4b; // version 4 under the IPv6 EtherType
    assert!(matches!(
        PacketSummary::parse(&bad),
        Err(PacketError::Malformed(_))
    ));
}

#[test]
fn vlan_udp_decodes_and_reencodes_byte_exact() {
    let frame = hex(VLAN_UDP);
    let (src, dst) = (
        Ipv4Addr::new(192, 168, 100, 10),
        Ipv4Addr::new(192, 168, 100, 1),
    );
    let s = PacketSummary::parse(&frame).unwrap();
    let tag = VlanTag {
        tpid: ethertype::VLAN,
        pcp: 5,
        dei: false,
        vid: 100,
    };
    assert_eq!(s.eth.vlan, Some(tag));
    assert_eq!(s.eth.ethertype, ethertype::IPV4);
    assert_eq!(
        s.l3,
        L3::Ipv4 {
            src,
            dst,
            protocol: ip_proto::UDP,
            src_port: Some(53000),
            dst_port: Some(53)
        }
    );

    let (eth, l3) = EthernetRepr::parse(&frame).unwrap();
    assert_eq!(eth.buffer_len(), 18);
    let (ip, dgram) = Ipv4Repr::parse(l3).unwrap();
    let (udp, payload) = UdpRepr::parse(dgram).unwrap();
    assert_eq!(
        udp,
        UdpRepr {
            src_port: 53000,
            dst_port: 53,
            payload_len: 29
        }
    );
    assert_eq!(payload.len(), 29);

    let mut out = vec![0u8; frame.len()];
    eth.emit(&mut out);
    ip.emit(&mut out[18..]);
    udp.emit(&mut out[38..]);
    out[46..].copy_from_slice(payload);
    fill_l4_checksum_v4(&mut out[38..], src, dst, ip_proto::UDP).unwrap();
    assert_eq!(out, frame);
}

#[test]
fn vlan_udp_truncations_are_errors() {
    let frame = hex(VLAN_UDP);
    for n in 0..18 {
        assert_eq!(
            EthernetRepr::parse(&frame[..n]).map(|_| ()),
            Err(PacketError::Truncated),
            "cut at {n}"
        );
    }
    for n in 0..38 {
        assert!(
            PacketSummary::parse(&frame[..n]).is_err(),
            "summary cut at {n}"
        );
    }
    for n in 38..frame.len() {
        assert!(UdpRepr::parse(&frame[38..n]).is_err(), "UDP cut at {n}");
        assert!(Ipv4Repr::parse(&frame[18..n]).is_err(), "IPv4 cut at {n}");
    }
    let mut bad = frame;
    bad[43] = 7; // UDP length 7
    assert!(matches!(
        UdpRepr::parse(&bad[38..]),
        Err(PacketError::Malformed(_))
    ));
}

#[test]
fn qinq_outer_tag_is_decoded_and_inner_left_in_payload() {
    let inner = hex(VLAN_UDP);
    let mut frame = inner[..12].to_vec();
    frame.extend_from_slice(&[0x88, 0xa8, 0x00, 0x07]); // S-tag VID 7
    frame.extend_from_slice(&inner[12..]);
    let (eth, payload) = EthernetRepr::parse(&frame).unwrap();
    assert_eq!(
        eth.vlan,
        Some(VlanTag {
            tpid: ethertype::QINQ,
            pcp: 0,
            dei: false,
            vid: 7
        })
    );
    assert_eq!(eth.ethertype, ethertype::VLAN);
    assert_eq!(payload, &inner[14..]);
    assert_eq!(PacketSummary::parse(&frame).unwrap().l3, L3::Other);
}

#[test]
fn unknown_ethertype_is_other_and_lldp_is_lldp() {
    let mut frame = hex(IPV4_TCP);
    frame[12..14].copy_from_slice(&ethertype::MPLS.to_be_bytes());
    assert_eq!(PacketSummary::parse(&frame).unwrap().l3, L3::Other);
    assert_eq!(
        PacketSummary::parse(&hex(LLDP_FAUCET)).unwrap().l3,
        L3::Lldp
    );
    assert_eq!(PacketSummary::parse(&hex(LLDP_RYU)).unwrap().l3, L3::Lldp);
}

#[test]
fn summary_is_serializable() {
    let s = PacketSummary::parse(&hex(ARP_REPLY)).unwrap();
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("00:00:00:00:00:02"), "{json}");
}
