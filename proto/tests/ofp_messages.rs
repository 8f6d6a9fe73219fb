//! Byte-level tests for the messages the controller handles most: exact
//! decodings, re-encoding, every truncation and malformed length fields.

use edgeflow_proto::ofp::*;
use edgeflow_proto::MacAddr;
use std::net::Ipv4Addr;

/// Bytes from a hex listing (whitespace ignored).
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

const ETH_FRAME: &str = "ffffffffffff 000000000001 0806";

fn hello_bytes() -> Vec<u8> {
    hex("04 00 0010 00000001  0001 0008 00000010")
}

fn features_reply_bytes() -> Vec<u8> {
    hex("04 06 0020 00000002
         0000000000000001 00000100 fe 00 0000 0000004f 00000000")
}

fn packet_in_bytes() -> Vec<u8> {
    hex(&format!(
        "04 0a 0038 0000002a
         ffffffff 002a 00 00 0000000000000000
         0001 000c 80000004 00000003 00000000
         0000 {ETH_FRAME}"
    ))
}

fn flow_mod_bytes() -> Vec<u8> {
    hex("04 0e 0068 00000003
         0000000000000064 0000000000000000 00 00 000a 0000 0064 ffffffff ffffffff ffffffff 0001 0000
         0001 0016 80000a02 0800 80001908 0a000000 ffffff00 0000
         0004 0018 00000000 0000 0010 00000002 0000 000000000000
         0001 0008 01 000000")
}

fn packet_out_bytes() -> Vec<u8> {
    hex(&format!(
        "04 0d 0036 00000004
         ffffffff fffffffd 0010 000000000000
         0000 0010 fffffffb 0000 000000000000
         {ETH_FRAME}"
    ))
}

fn port_status_bytes() -> Vec<u8> {
    hex("04 0c 0050 00000005
         02 00000000000000
         00000001 00000000 000000000001 0000 73312d6574683100 0000000000000000
         00000000 00000001 00000840 00000000 00000000 00000000 00989680 00000000")
}

fn port_stats_reply_bytes() -> Vec<u8> {
    let mut s = String::from("04 13 0080 00000006  0004 0000 00000000  00000001 00000000");
    for i in 1..=12u64 {
        s.push_str(&format!(" {i:016x}"));
    }
    s.push_str(" 00000005 00000006");
    hex(&s)
}

fn eth_frame() -> Vec<u8> {
    hex(ETH_FRAME)
}

fn port1() -> Port {
    Port {
        port_no: 1,
        hw_addr: MacAddr([0, 0, 0, 0, 0, 1]),
        name: "s1-eth1".into(),
        config: 0,
        state: OFPPS_LINK_DOWN,
        curr: 0x840,
        advertised: 0,
        supported: 0,
        peer: 0,
        curr_speed: 10_000_000,
        max_speed: 0,
    }
}

/// Every (bytes, expected value) pair of this file.
fn cases() -> Vec<(&'static str, Vec<u8>, OfpMsg)> {
    vec![
        (
            "hello",
            hello_bytes(),
            OfpMsg::new(1, Message::Hello(Hello::standard())),
        ),
        (
            "features_reply",
            features_reply_bytes(),
            OfpMsg::new(
                2,
                Message::FeaturesReply(SwitchFeatures {
                    datapath_id: 1,
                    n_buffers: 256,
                    n_tables: 254,
                    auxiliary_id: 0,
                    capabilities: 0x4f,
                    reserved: 0,
                }),
            ),
        ),
        (
            "packet_in",
            packet_in_bytes(),
            OfpMsg::new(
                42,
                Message::PacketIn(PacketIn {
                    buffer_id: NO_BUFFER,
                    total_len: 42,
                    reason: PacketInReason::NoMatch,
                    table_id: 0,
                    cookie: 0,
                    match_: Match::new().with(Oxm::InPort(3)),
                    data: eth_frame(),
                }),
            ),
        ),
        (
            "flow_mod",
            flow_mod_bytes(),
            OfpMsg::new(
                3,
                Message::FlowMod(FlowMod {
                    cookie: 100,
                    idle_timeout: 10,
                    flags: flow_flags::SEND_FLOW_REM,
                    ..FlowMod::add(
                        100,
                        Match::new().with(Oxm::EthType(0x0800)).with(Oxm::Ipv4Dst(
                            Ipv4Addr::new(10, 0, 0, 0),
                            Some(Ipv4Addr::new(255, 255, 255, 0)),
                        )),
                        vec![
                            Instruction::ApplyActions(vec![Action::output(2)]),
                            Instruction::GotoTable(1),
                        ],
                    )
                }),
            ),
        ),
        (
            "packet_out",
            packet_out_bytes(),
            OfpMsg::new(
                4,
                Message::PacketOut(PacketOut {
                    buffer_id: NO_BUFFER,
                    in_port: port::CONTROLLER,
                    actions: vec![Action::output(port::FLOOD)],
                    data: eth_frame(),
                }),
            ),
        ),
        (
            "port_status",
            port_status_bytes(),
            OfpMsg::new(
                5,
                Message::PortStatus(PortStatus {
                    reason: PortReason::Modify,
                    desc: port1(),
                }),
            ),
        ),
        (
            "port_stats_reply",
            port_stats_reply_bytes(),
            OfpMsg::new(
                6,
                Message::MultipartReply(MultipartReply::new(MultipartReplyBody::PortStats(vec![
                    PortStats {
                        port_no: 1,
                        rx_packets: 1,
                        tx_packets: 2,
                        rx_bytes: 3,
                        tx_bytes: 4,
                        rx_dropped: 5,
                        tx_dropped: 6,
                        rx_errors: 7,
                        tx_errors: 8,
                        rx_frame_err: 9,
                        rx_over_err: 10,
                        rx_crc_err: 11,
                        collisions: 12,
                        duration_sec: 5,
                        duration_nsec: 6,
                    },
                ]))),
            ),
        ),
    ]
}

#[test]
fn hot_messages_decode_to_expected_values_and_reencode_exactly() {
    for (name, bytes, expected) in cases() {
        assert_eq!(frame_len(&bytes), Ok(Some(bytes.len())), "{name}");
        let got = OfpMsg::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected, "{name}");
        assert_eq!(expected.buffer_len(), bytes.len(), "{name}");
        assert_eq!(expected.to_vec(), bytes, "{name}");
        assert_eq!(
            expected.body.name().to_lowercase(),
            name.replace("port_stats_reply", "multipart_reply")
        );
    }
}

#[test]
fn every_prefix_of_a_hot_message_is_rejected_or_needs_more_bytes() {
    for (name, bytes, _) in cases() {
        for cut in 0..bytes.len() {
            let prefix = &bytes[..cut];
            assert_eq!(frame_len(prefix), Ok(None), "{name} cut at {cut}");
            assert!(OfpMsg::parse(prefix).is_err(), "{name} cut at {cut} parsed");
        }
    }
}

/// Length of the fixed (non-payload) part of each case: a frame whose
/// header length is patched to end inside it must be rejected.
fn structured_len(name: &str, total: usize) -> usize {
    match name {
        "packet_in" | "packet_out" => total - 14,
        _ => total,
    }
}

/// Cut points that end a TLV list or record array exactly: a shorter
/// list is still a valid message there.
fn list_boundaries(name: &str) -> &'static [usize] {
    match name {
        "hello" => &[8],
        "flow_mod" => &[72, 96],
        "port_stats_reply" => &[16],
        _ => &[],
    }
}

#[test]
fn truncated_bodies_with_consistent_header_length_are_rejected() {
    for (name, bytes, _) in cases() {
        for cut in 8..structured_len(name, bytes.len()) {
            let mut b = bytes[..cut].to_vec();
            b[2..4].copy_from_slice(&(cut as u16).to_be_bytes());
            if list_boundaries(name).contains(&cut) {
                continue;
            }
            assert!(
                OfpMsg::parse(&b).is_err(),
                "{name} truncated to {cut} parsed as {:?}",
                OfpMsg::parse(&b)
            );
        }
    }
}

#[test]
fn header_length_below_minimum_is_rejected() {
    let mut b = packet_in_bytes();
    for len in 0..8u16 {
        b[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(frame_len(&b), Err(DecodeError::BadLength));
        assert_eq!(OfpMsg::parse(&b), Err(DecodeError::BadLength));
    }
}

#[test]
fn header_length_beyond_buffer_and_trailing_bytes_are_rejected() {
    let mut b = flow_mod_bytes();
    let n = b.len();
    b[2..4].copy_from_slice(&((n + 1) as u16).to_be_bytes());
    assert_eq!(OfpMsg::parse(&b), Err(DecodeError::Truncated));
    assert_eq!(frame_len(&b), Ok(None));
    b[2..4].copy_from_slice(&((n - 1) as u16).to_be_bytes());
    assert_eq!(OfpMsg::parse(&b), Err(DecodeError::TrailingBytes));
    assert_eq!(frame_len(&b), Ok(Some(n - 1)));
}

#[test]
fn trailing_garbage_after_fixed_size_bodies_is_rejected() {
    for bytes in [features_reply_bytes(), port_status_bytes()] {
        let mut b = bytes.clone();
        b.extend_from_slice(&[0; 8]);
        let len = b.len() as u16;
        b[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(OfpMsg::parse(&b), Err(DecodeError::TrailingBytes));
    }
}

#[test]
fn match_length_below_header_is_rejected() {
    let mut b = packet_in_bytes();
    // ofp_match.length sits at offset 8 + 16 + 2.
    b[26..28].copy_from_slice(&2u16.to_be_bytes());
    assert_eq!(OfpMsg::parse(&b), Err(DecodeError::BadLength));
}

#[test]
fn match_of_standard_type_is_rejected_as_bad_match() {
    let mut b = packet_in_bytes();
    b[24..26].copy_from_slice(&0u16.to_be_bytes());
    let e = OfpMsg::parse(&b).unwrap_err();
    assert_eq!(e, DecodeError::BadMatchType(0));
    assert_eq!(e.ofp_error(), (ErrorType::BadMatch, 0));
}

#[test]
fn oxm_with_wrong_width_is_rejected() {
    let mut b = packet_in_bytes();
    // IN_PORT claims 3 bytes of payload instead of 4.
    b[31] = 3;
    assert_eq!(OfpMsg::parse(&b), Err(DecodeError::BadOxm));
}

#[test]
fn mask_on_a_non_maskable_field_of_the_wrong_width_is_rejected() {
    let mut b = packet_in_bytes();
    b[30] |= 1; // hasmask on IN_PORT, length 4: a 2-byte value and mask
    assert_eq!(OfpMsg::parse(&b), Err(DecodeError::BadOxm));
}

#[test]
fn a_mask_open_vswitch_allows_on_a_non_maskable_field_decodes_raw_and_round_trips() {
    // A flow-stats reply as Open vSwitch 3.1 sent it (captured) for
    // `ipv6,icmp6,icmp_type=135,nd_target=fe80::/64,actions=drop`:
    // eth_type, ip_proto, icmpv6_type, then IPV6_ND_TARGET (field 31) with
    // a mask, which OpenFlow 1.3 does not define; no instructions.
    let b = hex("04 13 0078 00000007 0001 0000 00000000
         0068 00 00 00000001 1f2c58c0 0007 0000 0000 0000 00000000
         0000000000000000 0000000000000000 0000000000000000
         0001 0038 80000a02 86dd 80001401 3a 80003a01 87
         80003f20 fe800000000000000000000000000000 ffffffffffffffff0000000000000000");
    let msg = OfpMsg::parse(&b).expect("decodes");
    let Message::MultipartReply(reply) = &msg.body else {
        panic!("{msg:?}")
    };
    let text = format!("{reply:?}");
    assert!(
        text.contains("Raw { class: 32768, field: 31, has_mask: true"),
        "{text}"
    );
    assert_eq!(msg.to_vec(), b);
}

#[test]
fn action_lengths_that_are_zero_short_or_misaligned_are_rejected() {
    // The output action's length is at offset 8 + 16 + 2 in the PACKET_OUT.
    for bad in [0u16, 4, 8, 12, 17, 24] {
        let mut b = packet_out_bytes();
        b[26..28].copy_from_slice(&bad.to_be_bytes());
        let e = OfpMsg::parse(&b).unwrap_err();
        assert_eq!(e, DecodeError::BadAction, "action len {bad}");
        assert_eq!(e.ofp_error(), (ErrorType::BadAction, 1));
    }
}

#[test]
fn packet_out_actions_len_beyond_body_is_rejected() {
    let mut b = packet_out_bytes();
    b[16..18].copy_from_slice(&0x100u16.to_be_bytes());
    assert_eq!(OfpMsg::parse(&b), Err(DecodeError::BadLength));
}

#[test]
fn instruction_length_beyond_message_is_rejected() {
    let mut b = flow_mod_bytes();
    // APPLY_ACTIONS length at 8 + 40 + 24 + 2.
    b[74..76].copy_from_slice(&0x40u16.to_be_bytes());
    let e = OfpMsg::parse(&b).unwrap_err();
    assert_eq!(e, DecodeError::BadInstruction);
    assert_eq!(e.ofp_error(), (ErrorType::BadInstruction, 7));
}

#[test]
fn port_stats_body_not_a_multiple_of_the_record_is_rejected() {
    let mut b = port_stats_reply_bytes();
    b.truncate(b.len() - 8);
    let len = b.len() as u16;
    b[2..4].copy_from_slice(&len.to_be_bytes());
    let e = OfpMsg::parse(&b).unwrap_err();
    assert_eq!(e, DecodeError::BadMultipart(4));
    assert_eq!(e.ofp_error(), (ErrorType::BadRequest, bad_request::BAD_LEN));
}

#[test]
fn wrong_version_is_rejected_except_for_hello() {
    let mut b = features_reply_bytes();
    b[0] = 1;
    let e = OfpMsg::parse(&b).unwrap_err();
    assert_eq!(e, DecodeError::BadVersion(1));
    assert_eq!(
        e.ofp_error(),
        (ErrorType::BadRequest, bad_request::BAD_VERSION)
    );

    // An OpenFlow 1.0 HELLO: header only.
    let hello10 = hex("01 00 0008 00000007");
    assert_eq!(frame_len(&hello10), Ok(Some(8)));
    let msg = OfpMsg::parse(&hello10).unwrap();
    let Message::Hello(h) = &msg.body else {
        panic!("not a hello")
    };
    assert_eq!(h.version, 1);
    assert_eq!(h.negotiate(), Some(1));
    assert!(!h.supports(4));
    assert_eq!(msg.to_vec(), hello10);
}

#[test]
fn framer_rejects_version_zero_and_above_six() {
    for v in [0u8, 7, 0xff] {
        let mut b = hello_bytes();
        b[0] = v;
        assert_eq!(frame_len(&b), Err(DecodeError::BadVersion(v)));
    }
    let mut b = hello_bytes();
    b[0] = 6;
    assert_eq!(frame_len(&b), Ok(Some(16)));
}

#[test]
fn unknown_message_type_is_bad_type() {
    let mut b = hex("04 00 0008 00000001");
    b[1] = 30;
    let e = OfpMsg::parse(&b).unwrap_err();
    assert_eq!(e, DecodeError::BadType(30));
    assert_eq!(
        e.ofp_error(),
        (ErrorType::BadRequest, bad_request::BAD_TYPE)
    );
}

#[test]
fn hello_bitmap_negotiation_follows_of13_rules() {
    let ours = Hello::standard();
    assert!(ours.supports(4) && !ours.supports(1));
    assert_eq!(ours.negotiate(), Some(4));
    // A peer supporting 1.0 and 1.5 only: no common version.
    let peer = Hello {
        version: 6,
        elements: vec![HelloElem::VersionBitmap(vec![(1 << 1) | (1 << 6)])],
    };
    assert_eq!(peer.negotiate(), None);
    // Without a bitmap, the lower header version wins.
    let peer = Hello {
        version: 5,
        elements: vec![],
    };
    assert_eq!(peer.negotiate(), Some(4));
}

#[test]
fn frames_back_to_back_split_correctly() {
    let mut stream = Vec::new();
    for (_, b, _) in cases() {
        stream.extend_from_slice(&b);
    }
    let mut rest = &stream[..];
    let mut n = 0;
    while let Some(len) = frame_len(rest).unwrap() {
        OfpMsg::parse(&rest[..len]).unwrap();
        rest = &rest[len..];
        n += 1;
    }
    assert!(rest.is_empty());
    assert_eq!(n, cases().len());
}

#[test]
fn emit_to_appends_without_disturbing_existing_bytes() {
    let mut out = bytes::BytesMut::from(&b"xy"[..]);
    let msg = OfpMsg::parse(&flow_mod_bytes()).unwrap();
    msg.emit_to(&mut out);
    msg.emit_to(&mut out);
    assert_eq!(&out[..2], b"xy");
    assert_eq!(&out[2..2 + 104], &flow_mod_bytes()[..]);
    assert_eq!(&out[106..], &flow_mod_bytes()[..]);
}

#[test]
fn emit_writes_zero_padding_over_a_dirty_buffer() {
    let msg = OfpMsg::parse(&flow_mod_bytes()).unwrap();
    let mut buf = vec![0xaa; msg.buffer_len()];
    msg.emit(&mut buf);
    assert_eq!(buf, flow_mod_bytes());
}

#[test]
fn packet_in_in_port_and_port_liveness_helpers() {
    let Message::PacketIn(pi) = OfpMsg::parse(&packet_in_bytes()).unwrap().body else {
        panic!()
    };
    assert_eq!(pi.in_port(), Some(3));
    let mut p = port1();
    assert!(!p.is_up(), "link down");
    p.state = 0;
    assert!(p.is_up());
    p.config = OFPPC_PORT_DOWN;
    assert!(!p.is_up(), "admin down");
}

#[test]
fn experimenter_error_round_trips_and_exposes_its_id() {
    let b = hex("04 01 0015 00000009  ffff 0007 000003e7 6461746121");
    let msg = OfpMsg::parse(&b).unwrap();
    let Message::Error(e) = &msg.body else {
        panic!()
    };
    assert_eq!(e.typ, ErrorType::Experimenter);
    assert_eq!(e.code, 7);
    assert_eq!(e.experimenter_parts(), Some((999, &b"data!"[..])));
    assert_eq!(msg.to_vec(), b);
}

#[test]
fn messages_serialize_to_json() {
    let msg = OfpMsg::parse(&packet_in_bytes()).unwrap();
    let v = serde_json::to_value(&msg).unwrap();
    assert_eq!(v["xid"], 42);
    assert_eq!(v["body"]["PacketIn"]["match_"]["fields"][0]["InPort"], 3);
    assert_eq!(
        v["body"]["PacketIn"]["data"],
        "ffffffffffff0000000000010806"
    );
}

#[test]
fn masked_l4_ports_decode_as_open_vswitch_sends_them() {
    // A match of udp and udp_src=0x3/0xf, as `ovs-ofctl -O OpenFlow13
    // dump-flows` shows a flow an operator added: OpenFlow 1.3 does not mask
    // ports, Open vSwitch does, and its dumps must not close the session.
    let bytes = hex("0001 0011 \
         8000 1401 11 \
         8000 1f04 0003 000f \
         0000 0000 0000 00");
    let (m, rest) = Match::parse(&bytes).unwrap();
    assert!(rest.is_empty());
    assert_eq!(m.fields, vec![Oxm::IpProto(17), Oxm::UdpSrc(3, Some(0xf))]);
    let mut again = vec![0u8; m.buffer_len()];
    m.emit(&mut again);
    assert_eq!(again, bytes);
}
