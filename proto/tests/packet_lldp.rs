//! LLDP golden vectors (Faucet- and Ryu-style beacons), TLV edge cases and length limits.

mod packet_common;

use edgeflow_proto::packet::lldp::{tlv_type, MAX_ORG_INFO_LEN, MAX_TLV_LEN};
use edgeflow_proto::packet::{
    ChassisId, LldpRepr, LldpTlvs, OrgTlv, PacketError, PacketSummary, PortId, L3,
};
use edgeflow_proto::MacAddr;
use packet_common::*;

const FAUCET_MAC: MacAddr = MacAddr([0x0e, 0, 0, 0, 0, 1]);

fn faucet_repr() -> LldpRepr {
    LldpRepr {
        chassis_id: ChassisId::Mac(FAUCET_MAC),
        port_id: PortId::Local(b"3".to_vec()),
        ttl: 120,
        org: vec![
            OrgTlv {
                oui: [0x0e, 0, 0],
                subtype: 1,
                info: vec![0, 0, 0, 0, 0, 0, 0, 1],
            },
            OrgTlv {
                oui: [0x0e, 0, 0],
                subtype: 2,
                info: vec![3],
            },
        ],
        other: vec![
            (tlv_type::PORT_DESCRIPTION, b"faucet-1 port 3".to_vec()),
            (tlv_type::SYSTEM_NAME, b"faucet-1".to_vec()),
        ],
    }
}

#[test]
fn faucet_beacon_decodes_and_rebuilds_byte_exact() {
    let frame = hex(LLDP_FAUCET);
    let s = PacketSummary::parse(&frame).unwrap();
    assert_eq!(s.l3, L3::Lldp);
    assert_eq!(s.eth.dst, MacAddr::LLDP_MULTICAST);
    let repr = LldpRepr::parse(&frame[14..]).unwrap();
    assert_eq!(repr, faucet_repr());
    assert_eq!(repr.buffer_len(), frame.len() - 14);
    assert_eq!(repr.to_frame(FAUCET_MAC), frame);
}

#[test]
fn ryu_beacon_decodes_and_rebuilds_byte_exact_with_padding() {
    let frame = hex(LLDP_RYU);
    let repr = LldpRepr::parse(&frame[14..]).unwrap();
    assert_eq!(
        repr.chassis_id,
        ChassisId::Local(b"dpid:0000000000000001".to_vec())
    );
    assert_eq!(
        repr.port_id,
        PortId::Other {
            subtype: 2,
            id: vec![0, 0, 0, 2]
        }
    );
    assert_eq!(repr.ttl, 120);
    assert!(repr.org.is_empty() && repr.other.is_empty());
    // 14 + 40-byte LLDPDU is below the minimum, so to_frame pads to 60 like the capture.
    assert_eq!(repr.to_frame(MacAddr([0, 0, 0, 0, 0, 2])), frame);
}

#[test]
fn truncation_is_an_error_except_at_a_tlv_boundary_after_ttl() {
    let lldpdu = hex(LLDP_FAUCET)[14..].to_vec();
    let full = faucet_repr();
    // Cuts that end exactly after a whole TLV (End missing) are valid LLDPDUs;
    // 66 leaves a single zero byte of the End TLV, which counts as padding.
    let boundaries = [17, 34, 44, 58, 65, 66, 67];
    for n in 0..lldpdu.len() {
        match LldpRepr::parse(&lldpdu[..n]) {
            Ok(r) => {
                assert!(boundaries.contains(&n), "cut at {n} parsed: {r:?}");
                assert_eq!(
                    (&r.chassis_id, &r.port_id, r.ttl),
                    (&full.chassis_id, &full.port_id, full.ttl)
                );
                assert!(
                    full.other.starts_with(&r.other) && full.org.starts_with(&r.org),
                    "cut at {n}"
                );
            }
            Err(e) => assert!(!boundaries.contains(&n), "cut at {n}: {e}"),
        }
    }
}

#[test]
fn mandatory_tlvs_must_come_first_in_order() {
    let lldpdu = hex(LLDP_FAUCET)[14..].to_vec();
    // Swap chassis (9 bytes) and port (4 bytes) TLVs.
    let mut swapped = lldpdu[9..13].to_vec();
    swapped.extend_from_slice(&lldpdu[..9]);
    swapped.extend_from_slice(&lldpdu[13..]);
    assert!(matches!(
        LldpRepr::parse(&swapped),
        Err(PacketError::Malformed(_))
    ));
    // Drop the TTL TLV.
    let mut no_ttl = lldpdu[..13].to_vec();
    no_ttl.extend_from_slice(&lldpdu[17..]);
    assert!(matches!(
        LldpRepr::parse(&no_ttl),
        Err(PacketError::Malformed(_))
    ));
    assert_eq!(LldpRepr::parse(&[]), Err(PacketError::Truncated));
    assert_eq!(LldpRepr::parse(&[0, 0]), Err(PacketError::Truncated));
}

#[test]
fn bad_tlv_contents_are_malformed() {
    let chassis_mac5 = [0x02, 0x06, 4, 1, 2, 3, 4, 5];
    let port = [0x04, 0x02, 7, b'1'];
    let ttl = [0x06, 0x02, 0, 120];
    let cases: [(&str, Vec<u8>); 4] = [
        (
            "5-byte MAC chassis",
            [&chassis_mac5[..], &port, &ttl].concat(),
        ),
        (
            "empty port id",
            [&hex(LLDP_FAUCET)[14..23], &[0x04, 0x01, 7][..], &ttl].concat(),
        ),
        (
            "3-byte TTL",
            [&hex(LLDP_FAUCET)[14..27], &[0x06, 0x03, 0, 0, 120][..]].concat(),
        ),
        (
            "3-byte org TLV",
            [&hex(LLDP_FAUCET)[14..31], &[0xfe, 0x03, 1, 2, 3][..]].concat(),
        ),
    ];
    for (what, bytes) in cases {
        assert!(
            matches!(LldpRepr::parse(&bytes), Err(PacketError::Malformed(_))),
            "{what}"
        );
    }
}

#[test]
fn anything_after_end_is_ignored_as_padding() {
    let mut lldpdu = hex(LLDP_FAUCET)[14..].to_vec();
    lldpdu.extend_from_slice(&[0; 20]);
    assert_eq!(LldpRepr::parse(&lldpdu).unwrap(), faucet_repr());
    lldpdu.extend_from_slice(&[0xde, 0xad]);
    assert_eq!(LldpRepr::parse(&lldpdu).unwrap(), faucet_repr());
}

#[test]
fn tlv_iterator_yields_raw_tlvs_and_stops_at_end() {
    let lldpdu = hex(LLDP_FAUCET)[14..].to_vec();
    let types: Vec<u8> = LldpTlvs::new(&lldpdu).map(|t| t.unwrap().0).collect();
    assert_eq!(types, [1, 2, 3, 4, 5, 127, 127]);
    let mut it = LldpTlvs::new(&lldpdu[..20]);
    assert_eq!(it.by_ref().filter(Result::is_ok).count(), 3);
    assert_eq!(
        LldpTlvs::new(&lldpdu[..20]).last(),
        Some(Err(PacketError::Truncated))
    );
}

#[test]
fn checked_constructors_enforce_length_limits() {
    assert!(ChassisId::local(Vec::new()).is_err());
    assert!(ChassisId::local(vec![b'x'; 256]).is_err());
    assert_eq!(
        ChassisId::local(vec![b'x'; 255]).unwrap(),
        ChassisId::Local(vec![b'x'; 255])
    );
    assert!(PortId::local(vec![b'x'; 256]).is_err());
    assert!(PortId::interface_name("").is_err());
    assert!(PortId::interface_name("eth0").is_ok());
    assert!(OrgTlv::new([0, 0x26, 0xe1], 1, vec![0; MAX_ORG_INFO_LEN + 1]).is_err());
    assert!(OrgTlv::new([0, 0x26, 0xe1], 1, vec![0; MAX_ORG_INFO_LEN]).is_ok());
}

#[test]
fn validate_reports_what_emit_would_truncate_or_skip() {
    let ok = faucet_repr();
    assert_eq!(ok.validate(), Ok(()));
    let mut long = ok.clone();
    long.other
        .push((tlv_type::SYSTEM_DESCRIPTION, vec![b'd'; MAX_TLV_LEN + 1]));
    assert!(long.validate().is_err());
    let mut bad_type = ok.clone();
    bad_type.other.push((0, vec![1]));
    assert!(bad_type.validate().is_err());
    let mut shadow = ok;
    shadow.chassis_id = ChassisId::Other {
        subtype: 4,
        id: vec![1; 6],
    };
    assert!(shadow.validate().is_err());
}

#[test]
fn emit_truncates_overlong_values_so_lengths_stay_correct() {
    let mut repr = faucet_repr();
    repr.chassis_id = ChassisId::Local(vec![b'c'; 300]);
    repr.org[0].info = vec![7; 600];
    repr.other
        .push((tlv_type::SYSTEM_DESCRIPTION, vec![b'd'; 600]));
    repr.other.push((127, vec![1, 2, 3])); // not representable in `other`: skipped
    let mut buf = vec![0u8; repr.buffer_len()];
    repr.emit(&mut buf);
    let back = LldpRepr::parse(&buf).unwrap();
    assert_eq!(back.chassis_id, ChassisId::Local(vec![b'c'; 255]));
    assert_eq!(back.org[0].info.len(), MAX_ORG_INFO_LEN);
    assert_eq!(back.other.len(), 3);
    assert_eq!(back.other[2].1.len(), MAX_TLV_LEN);
    assert_eq!(back.validate(), Ok(()));
}
