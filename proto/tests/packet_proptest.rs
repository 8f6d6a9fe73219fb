//! Property tests: `parse(emit(x)) == x` for the packet `Repr` types, and
//! byte-exact re-encoding of whatever arbitrary bytes decode to.

use std::net::{Ipv4Addr, Ipv6Addr};

use edgeflow_proto::packet::lldp::{
    chassis_subtype, port_subtype, MAX_ID_LEN, MAX_ORG_INFO_LEN, MAX_TLV_LEN,
};
use edgeflow_proto::packet::{
    arp_frame, ethertype, ArpOp, ArpRepr, ChassisId, EthernetRepr, Ipv4Repr, Ipv6Repr, LldpRepr,
    OrgTlv, PacketSummary, PortId, TcpFlags, TcpRepr, UdpRepr, VlanTag, L3,
};
use edgeflow_proto::MacAddr;
use proptest::collection::vec;
use proptest::prelude::*;

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn vlan() -> impl Strategy<Value = VlanTag> {
    (
        prop_oneof![Just(ethertype::VLAN), Just(ethertype::QINQ)],
        0u8..8,
        any::<bool>(),
        0u16..4096,
    )
        .prop_map(|(tpid, pcp, dei, vid)| VlanTag {
            tpid,
            pcp,
            dei,
            vid,
        })
}

fn ethernet() -> impl Strategy<Value = EthernetRepr> {
    (mac(), mac(), proptest::option::of(vlan()), any::<u16>())
        .prop_map(|(dst, src, vlan, ethertype)| EthernetRepr {
            dst,
            src,
            vlan,
            ethertype,
        })
        // Without a tag, a TPID EtherType would announce one.
        .prop_filter("untagged TPID", |e| {
            e.vlan.is_some() || (e.ethertype != ethertype::VLAN && e.ethertype != ethertype::QINQ)
        })
}

fn arp() -> impl Strategy<Value = ArpRepr> {
    (any::<u16>(), mac(), ipv4(), mac(), ipv4()).prop_map(|(op, sha, spa, tha, tpa)| ArpRepr {
        op: ArpOp::from(op),
        sha,
        spa,
        tha,
        tpa,
    })
}

fn id() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 1..=MAX_ID_LEN)
}

fn chassis_id() -> impl Strategy<Value = ChassisId> {
    prop_oneof![
        mac().prop_map(ChassisId::Mac),
        id().prop_map(ChassisId::Local),
        (
            any::<u8>().prop_filter("own variant", |s| ![
                chassis_subtype::MAC,
                chassis_subtype::LOCAL
            ]
            .contains(s)),
            id()
        )
            .prop_map(|(subtype, id)| ChassisId::Other { subtype, id }),
    ]
}

fn port_id() -> impl Strategy<Value = PortId> {
    let known = [
        port_subtype::MAC,
        port_subtype::INTERFACE_NAME,
        port_subtype::LOCAL,
    ];
    prop_oneof![
        mac().prop_map(PortId::Mac),
        id().prop_map(PortId::Local),
        id().prop_map(PortId::InterfaceName),
        (
            any::<u8>().prop_filter("own variant", move |s| !known.contains(s)),
            id()
        )
            .prop_map(|(subtype, id)| PortId::Other { subtype, id }),
    ]
}

fn lldp() -> impl Strategy<Value = LldpRepr> {
    let org = (
        any::<[u8; 3]>(),
        any::<u8>(),
        vec(any::<u8>(), 0..=MAX_ORG_INFO_LEN),
    )
        .prop_map(|(oui, subtype, info)| OrgTlv { oui, subtype, info });
    let other = (1u8..127, vec(any::<u8>(), 0..=MAX_TLV_LEN));
    (
        chassis_id(),
        port_id(),
        any::<u16>(),
        vec(org, 0..4),
        vec(other, 0..4),
    )
        .prop_map(|(chassis_id, port_id, ttl, org, other)| LldpRepr {
            chassis_id,
            port_id,
            ttl,
            org,
            other,
        })
}

fn ipv4_repr() -> impl Strategy<Value = Ipv4Repr> {
    let addrs = (ipv4(), ipv4(), any::<u8>(), any::<u8>(), any::<u8>());
    let rest = (
        0u16..=65515,
        any::<u16>(),
        any::<bool>(),
        any::<bool>(),
        0u16..0x2000,
    );
    (addrs, rest).prop_map(
        |(
            (src, dst, protocol, ttl, dscp_ecn),
            (payload_len, ident, dont_frag, more_frags, frag_offset),
        )| Ipv4Repr {
            src,
            dst,
            protocol,
            ttl,
            dscp_ecn,
            payload_len,
            ident,
            dont_frag,
            more_frags,
            frag_offset,
        },
    )
}

fn ipv6_repr() -> impl Strategy<Value = Ipv6Repr> {
    let addr = || any::<[u8; 16]>().prop_map(Ipv6Addr::from);
    (
        addr(),
        addr(),
        any::<u8>(),
        any::<u8>(),
        any::<u16>(),
        any::<u8>(),
        0u32..1 << 20,
    )
        .prop_map(
            |(src, dst, next_header, hop_limit, payload_len, traffic_class, flow_label)| Ipv6Repr {
                src,
                dst,
                next_header,
                hop_limit,
                payload_len,
                traffic_class,
                flow_label,
            },
        )
}

fn tcp_repr() -> impl Strategy<Value = TcpRepr> {
    let ports = (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>());
    let rest = (
        0u16..0x200,
        any::<u16>(),
        any::<u16>(),
        (0usize..=10).prop_flat_map(|n| vec(any::<u8>(), n * 4)),
    );
    (ports, rest).prop_map(
        |((src_port, dst_port, seq, ack), (flags, window, urgent, options))| TcpRepr {
            src_port,
            dst_port,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            urgent,
            options,
        },
    )
}

proptest! {
    #[test]
    fn ethernet_round_trips(e in ethernet(), payload in vec(any::<u8>(), 0..64)) {
        let mut buf = vec![0u8; e.buffer_len()];
        e.emit(&mut buf);
        buf.extend_from_slice(&payload);
        let (back, rest) = EthernetRepr::parse(&buf).unwrap();
        prop_assert_eq!(back, e);
        prop_assert_eq!(rest, &payload[..]);
    }

    #[test]
    fn arp_round_trips(a in arp()) {
        let mut buf = vec![0u8; a.buffer_len()];
        a.emit(&mut buf);
        prop_assert_eq!(ArpRepr::parse(&buf).unwrap(), a);
    }

    #[test]
    fn arp_frame_summarizes_to_its_inputs(src in mac(), dst in mac(), a in arp()) {
        let s = PacketSummary::parse(&arp_frame(src, dst, &a)).unwrap();
        prop_assert_eq!(s.eth, EthernetRepr { dst, src, vlan: None, ethertype: ethertype::ARP });
        prop_assert_eq!(s.l3, L3::Arp(a));
    }

    #[test]
    fn lldp_round_trips(l in lldp(), src in mac()) {
        prop_assert_eq!(l.validate(), Ok(()));
        let mut buf = vec![0u8; l.buffer_len()];
        l.emit(&mut buf);
        prop_assert_eq!(LldpRepr::parse(&buf).unwrap(), l.clone());
        let frame = l.to_frame(src);
        prop_assert!(frame.len() >= 60);
        prop_assert_eq!(PacketSummary::parse(&frame).unwrap().l3, L3::Lldp);
        prop_assert_eq!(LldpRepr::parse(&frame[14..]).unwrap(), l);
    }

    #[test]
    fn ipv4_round_trips_with_valid_checksum(ip in ipv4_repr()) {
        let mut buf = vec![0u8; ip.buffer_len() + usize::from(ip.payload_len)];
        ip.emit(&mut buf);
        prop_assert!(Ipv4Repr::checksum_ok(&buf));
        let (back, payload) = Ipv4Repr::parse(&buf).unwrap();
        prop_assert_eq!(payload.len(), usize::from(ip.payload_len));
        prop_assert_eq!(back, ip);
    }

    #[test]
    fn ipv6_round_trips(ip in ipv6_repr()) {
        let mut buf = vec![0u8; ip.buffer_len() + usize::from(ip.payload_len)];
        ip.emit(&mut buf);
        prop_assert_eq!(Ipv6Repr::parse(&buf).unwrap().0, ip);
    }

    #[test]
    fn tcp_round_trips(t in tcp_repr()) {
        let mut buf = vec![0u8; t.buffer_len()];
        t.emit(&mut buf);
        prop_assert_eq!(TcpRepr::parse(&buf).unwrap().0, t);
    }

    #[test]
    fn udp_round_trips(src_port: u16, dst_port: u16, payload_len in 0u16..=65527) {
        let u = UdpRepr { src_port, dst_port, payload_len };
        let mut buf = vec![0u8; u.buffer_len() + usize::from(payload_len)];
        u.emit(&mut buf);
        prop_assert_eq!(UdpRepr::parse(&buf).unwrap().0, u);
    }

    #[test]
    fn decoded_headers_reencode_byte_exact(bytes in vec(any::<u8>(), 40..80)) {
        if let Ok((e, _)) = EthernetRepr::parse(&bytes) {
            let mut out = vec![0u8; e.buffer_len()];
            e.emit(&mut out);
            prop_assert_eq!(&out[..], &bytes[..e.buffer_len()]);
        }
        if let Ok(a) = ArpRepr::parse(&bytes) {
            let mut out = [0u8; 28];
            a.emit(&mut out);
            prop_assert_eq!(&out[..], &bytes[..28]);
        }
    }

    #[test]
    fn arp_with_valid_header_decodes_byte_exact(mut bytes in vec(any::<u8>(), 28)) {
        bytes[..6].copy_from_slice(&[0, 1, 8, 0, 6, 4]);
        let a = ArpRepr::parse(&bytes).unwrap();
        let mut out = [0u8; 28];
        a.emit(&mut out);
        prop_assert_eq!(&out[..], &bytes[..]);
    }
}
