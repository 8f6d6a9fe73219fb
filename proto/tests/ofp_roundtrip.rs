//! Property tests: for arbitrary messages, parse(emit(x)) == x and the
//! encoding frames to exactly its own length.

use edgeflow_proto::ofp::*;
use edgeflow_proto::MacAddr;
use proptest::collection::vec;
use proptest::prelude::*;
use std::net::{Ipv4Addr, Ipv6Addr};

fn mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<[u8; 4]>().prop_map(Ipv4Addr::from)
}

fn v6() -> impl Strategy<Value = Ipv6Addr> {
    any::<[u8; 16]>().prop_map(Ipv6Addr::from)
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// Byte strings whose length is `8 * n + rem`, as aligned TLV bodies need.
fn aligned_bytes(rem: usize) -> impl Strategy<Value = Vec<u8>> {
    (0usize..3).prop_flat_map(move |n| vec(any::<u8>(), 8 * n + rem))
}

fn raw_oxm() -> impl Strategy<Value = Oxm> {
    prop_oneof![
        // NXM and other non-basic, non-experimenter classes.
        (0u16..0x8000, 0u8..128, any::<bool>(), bytes(24)).prop_map(
            |(class, field, has_mask, value)| {
                Oxm::Raw {
                    class,
                    field,
                    has_mask,
                    value,
                }
            }
        ),
        // Basic-class fields this codec does not name.
        (40u8..128, any::<bool>(), bytes(24)).prop_map(|(field, has_mask, value)| Oxm::Raw {
            class: OFPXMC_OPENFLOW_BASIC,
            field,
            has_mask,
            value
        }),
        // Experimenter class: the value starts with a 4-byte experimenter id.
        (0u8..128, any::<bool>(), vec(any::<u8>(), 4..24)).prop_map(|(field, has_mask, value)| {
            Oxm::Raw {
                class: OFPXMC_EXPERIMENTER,
                field,
                has_mask,
                value,
            }
        }),
    ]
}

fn oxm() -> impl Strategy<Value = Oxm> {
    let m64 = || proptest::option::of(any::<u64>());
    let m16 = || proptest::option::of(any::<u16>());
    prop_oneof![
        any::<u32>().prop_map(Oxm::InPort),
        any::<u32>().prop_map(Oxm::InPhyPort),
        (any::<u64>(), m64()).prop_map(|(v, m)| Oxm::Metadata(v, m)),
        (mac(), proptest::option::of(mac())).prop_map(|(v, m)| Oxm::EthDst(v, m)),
        (mac(), proptest::option::of(mac())).prop_map(|(v, m)| Oxm::EthSrc(v, m)),
        any::<u16>().prop_map(Oxm::EthType),
        (any::<u16>(), proptest::option::of(any::<u16>())).prop_map(|(v, m)| Oxm::VlanVid(v, m)),
        any::<u8>().prop_map(Oxm::VlanPcp),
        any::<u8>().prop_map(Oxm::IpDscp),
        any::<u8>().prop_map(Oxm::IpEcn),
        any::<u8>().prop_map(Oxm::IpProto),
        (v4(), proptest::option::of(v4())).prop_map(|(v, m)| Oxm::Ipv4Src(v, m)),
        (v4(), proptest::option::of(v4())).prop_map(|(v, m)| Oxm::Ipv4Dst(v, m)),
        (any::<u16>(), m16()).prop_map(|(v, m)| Oxm::TcpSrc(v, m)),
        (any::<u16>(), m16()).prop_map(|(v, m)| Oxm::TcpDst(v, m)),
        (any::<u16>(), m16()).prop_map(|(v, m)| Oxm::UdpSrc(v, m)),
        (any::<u16>(), m16()).prop_map(|(v, m)| Oxm::UdpDst(v, m)),
        (any::<u16>(), m16()).prop_map(|(v, m)| Oxm::SctpSrc(v, m)),
        (any::<u16>(), m16()).prop_map(|(v, m)| Oxm::SctpDst(v, m)),
        any::<u8>().prop_map(Oxm::Icmpv4Type),
        any::<u8>().prop_map(Oxm::Icmpv4Code),
        any::<u16>().prop_map(Oxm::ArpOp),
        (v4(), proptest::option::of(v4())).prop_map(|(v, m)| Oxm::ArpSpa(v, m)),
        (v4(), proptest::option::of(v4())).prop_map(|(v, m)| Oxm::ArpTpa(v, m)),
        (mac(), proptest::option::of(mac())).prop_map(|(v, m)| Oxm::ArpSha(v, m)),
        (mac(), proptest::option::of(mac())).prop_map(|(v, m)| Oxm::ArpTha(v, m)),
        (v6(), proptest::option::of(v6())).prop_map(|(v, m)| Oxm::Ipv6Src(v, m)),
        (v6(), proptest::option::of(v6())).prop_map(|(v, m)| Oxm::Ipv6Dst(v, m)),
        (any::<u32>(), proptest::option::of(any::<u32>())).prop_map(|(v, m)| Oxm::Ipv6Flabel(v, m)),
        any::<u8>().prop_map(Oxm::Icmpv6Type),
        any::<u8>().prop_map(Oxm::Icmpv6Code),
        v6().prop_map(Oxm::Ipv6NdTarget),
        mac().prop_map(Oxm::Ipv6NdSll),
        mac().prop_map(Oxm::Ipv6NdTll),
        any::<u32>().prop_map(Oxm::MplsLabel),
        any::<u8>().prop_map(Oxm::MplsTc),
        any::<u8>().prop_map(Oxm::MplsBos),
        (0u32..1 << 24, proptest::option::of(0u32..1 << 24)).prop_map(|(v, m)| Oxm::PbbIsid(v, m)),
        (any::<u64>(), m64()).prop_map(|(v, m)| Oxm::TunnelId(v, m)),
        (any::<u16>(), proptest::option::of(any::<u16>())).prop_map(|(v, m)| Oxm::Ipv6Exthdr(v, m)),
        raw_oxm(),
    ]
}

fn match_() -> impl Strategy<Value = Match> {
    vec(oxm(), 0..6).prop_map(|fields| Match { fields })
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (any::<u32>(), any::<u16>()).prop_map(|(port, max_len)| Action::Output { port, max_len }),
        Just(Action::CopyTtlOut),
        Just(Action::CopyTtlIn),
        any::<u8>().prop_map(Action::SetMplsTtl),
        Just(Action::DecMplsTtl),
        any::<u16>().prop_map(Action::PushVlan),
        Just(Action::PopVlan),
        any::<u16>().prop_map(Action::PushMpls),
        any::<u16>().prop_map(Action::PopMpls),
        any::<u32>().prop_map(Action::SetQueue),
        any::<u32>().prop_map(Action::Group),
        any::<u8>().prop_map(Action::SetNwTtl),
        Just(Action::DecNwTtl),
        oxm().prop_map(Action::SetField),
        any::<u16>().prop_map(Action::PushPbb),
        Just(Action::PopPbb),
        (any::<u32>(), aligned_bytes(0))
            .prop_map(|(experimenter, data)| Action::Experimenter { experimenter, data }),
        (28u16..0xffff, aligned_bytes(4)).prop_map(|(typ, data)| Action::Unknown { typ, data }),
    ]
}

fn actions() -> impl Strategy<Value = Vec<Action>> {
    vec(action(), 0..5)
}

fn instruction() -> impl Strategy<Value = Instruction> {
    prop_oneof![
        any::<u8>().prop_map(Instruction::GotoTable),
        (any::<u64>(), any::<u64>())
            .prop_map(|(metadata, mask)| Instruction::WriteMetadata { metadata, mask }),
        actions().prop_map(Instruction::WriteActions),
        actions().prop_map(Instruction::ApplyActions),
        Just(Instruction::ClearActions),
        any::<u32>().prop_map(Instruction::Meter),
        (any::<u32>(), aligned_bytes(0))
            .prop_map(|(experimenter, data)| Instruction::Experimenter { experimenter, data }),
        (7u16..0xffff, aligned_bytes(4)).prop_map(|(typ, data)| Instruction::Unknown { typ, data }),
    ]
}

prop_compose! {
    fn flow_mod()(
        ids in (any::<u64>(), any::<u64>(), any::<u8>(), any::<u8>()),
        times in (any::<u16>(), any::<u16>(), any::<u16>()),
        targets in (any::<u32>(), any::<u32>(), any::<u32>(), any::<u16>()),
        match_ in match_(),
        instructions in vec(instruction(), 0..4),
    ) -> FlowMod {
        FlowMod {
            cookie: ids.0, cookie_mask: ids.1, table_id: ids.2, command: FlowModCommand::from(ids.3),
            idle_timeout: times.0, hard_timeout: times.1, priority: times.2,
            buffer_id: targets.0, out_port: targets.1, out_group: targets.2, flags: targets.3,
            match_, instructions,
        }
    }
}

prop_compose! {
    fn packet_in()(
        buffer_id in any::<u32>(), total_len in any::<u16>(), reason in any::<u8>(), table_id in any::<u8>(),
        cookie in any::<u64>(), match_ in match_(), data in bytes(200),
    ) -> PacketIn {
        PacketIn { buffer_id, total_len, reason: PacketInReason::from(reason), table_id, cookie, match_, data }
    }
}

prop_compose! {
    fn packet_out()(buffer_id in any::<u32>(), in_port in any::<u32>(), actions in actions(), data in bytes(200))
        -> PacketOut {
        PacketOut { buffer_id, in_port, actions, data }
    }
}

prop_compose! {
    fn bucket()(weight in any::<u16>(), watch_port in any::<u32>(), watch_group in any::<u32>(), actions in actions())
        -> Bucket {
        Bucket { weight, watch_port, watch_group, actions }
    }
}

prop_compose! {
    fn group_mod()(command in any::<u16>(), t in any::<u8>(), group_id in any::<u32>(), buckets in vec(bucket(), 0..4))
        -> GroupMod {
        GroupMod { command: GroupModCommand::from(command), group_type: GroupType::from(t), group_id, buckets }
    }
}

prop_compose! {
    fn port_desc()(
        port_no in any::<u32>(), hw_addr in mac(), name in "[a-zA-Z0-9._-]{0,16}",
        v in any::<[u32; 8]>(),
    ) -> Port {
        Port {
            port_no, hw_addr, name, config: v[0], state: v[1], curr: v[2], advertised: v[3],
            supported: v[4], peer: v[5], curr_speed: v[6], max_speed: v[7],
        }
    }
}

prop_compose! {
    fn port_stats()(port_no in any::<u32>(), c in any::<[u64; 12]>(), d in any::<(u32, u32)>()) -> PortStats {
        PortStats {
            port_no, rx_packets: c[0], tx_packets: c[1], rx_bytes: c[2], tx_bytes: c[3], rx_dropped: c[4],
            tx_dropped: c[5], rx_errors: c[6], tx_errors: c[7], rx_frame_err: c[8], rx_over_err: c[9],
            rx_crc_err: c[10], collisions: c[11], duration_sec: d.0, duration_nsec: d.1,
        }
    }
}

fn meter_band() -> impl Strategy<Value = MeterBand> {
    prop_oneof![
        (any::<u32>(), any::<u32>())
            .prop_map(|(rate, burst_size)| MeterBand::Drop { rate, burst_size }),
        (any::<u32>(), any::<u32>(), any::<u8>()).prop_map(|(rate, burst_size, prec_level)| {
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            }
        }),
        (any::<u32>(), any::<u32>(), any::<u32>(), aligned_bytes(0)).prop_map(
            |(rate, burst_size, experimenter, data)| MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                data
            }
        ),
        (3u16..0xffff, aligned_bytes(4)).prop_map(|(typ, data)| MeterBand::Unknown { typ, data }),
    ]
}

fn flow_stats_request() -> impl Strategy<Value = FlowStatsRequest> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        match_(),
    )
        .prop_map(
            |(table_id, out_port, out_group, cookie, cookie_mask, match_)| FlowStatsRequest {
                table_id,
                out_port,
                out_group,
                cookie,
                cookie_mask,
                match_,
            },
        )
}

fn multipart_request() -> impl Strategy<Value = MultipartRequest> {
    use MultipartRequestBody as B;
    let body = prop_oneof![
        Just(B::Desc),
        flow_stats_request().prop_map(B::Flow),
        flow_stats_request().prop_map(B::Aggregate),
        Just(B::Table),
        any::<u32>().prop_map(|port_no| B::PortStats { port_no }),
        (any::<u32>(), any::<u32>()).prop_map(|(port_no, queue_id)| B::Queue { port_no, queue_id }),
        any::<u32>().prop_map(|group_id| B::Group { group_id }),
        Just(B::GroupDesc),
        Just(B::GroupFeatures),
        any::<u32>().prop_map(|meter_id| B::Meter { meter_id }),
        any::<u32>().prop_map(|meter_id| B::MeterConfig { meter_id }),
        Just(B::MeterFeatures),
        Just(B::PortDesc),
        (any::<u32>(), any::<u32>(), bytes(40)).prop_map(|(experimenter, exp_type, data)| {
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            }
        }),
        (14u16..0xffff, bytes(40)).prop_map(|(typ, data)| B::Unknown { typ, data }),
    ];
    (any::<u16>(), body).prop_map(|(flags, body)| MultipartRequest { flags, body })
}

fn multipart_reply() -> impl Strategy<Value = MultipartReply> {
    use MultipartReplyBody as B;
    let body = prop_oneof![
        vec(port_stats(), 0..4).prop_map(B::PortStats),
        vec(port_desc(), 0..4).prop_map(B::PortDesc),
        vec(
            (any::<u8>(), any::<u32>(), any::<u64>(), any::<u64>()).prop_map(
                |(table_id, a, l, m)| TableStats {
                    table_id,
                    active_count: a,
                    lookup_count: l,
                    matched_count: m
                }
            ),
            0..3
        )
        .prop_map(B::Table),
        vec(
            (any::<u16>(), any::<u32>(), vec(meter_band(), 0..3)).prop_map(
                |(flags, meter_id, bands)| MeterConfig {
                    flags,
                    meter_id,
                    bands
                }
            ),
            0..3
        )
        .prop_map(B::MeterConfig),
        vec(
            (any::<u8>(), any::<u32>(), vec(bucket(), 0..3)).prop_map(|(t, group_id, buckets)| {
                GroupDesc {
                    group_type: GroupType::from(t),
                    group_id,
                    buckets,
                }
            }),
            0..3
        )
        .prop_map(B::GroupDesc),
        (any::<u32>(), any::<u32>(), bytes(40)).prop_map(|(experimenter, exp_type, data)| {
            B::Experimenter {
                experimenter,
                exp_type,
                data,
            }
        }),
    ];
    (any::<u16>(), body).prop_map(|(flags, body)| MultipartReply { flags, body })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        flow_mod().prop_map(Message::FlowMod),
        packet_in().prop_map(Message::PacketIn),
        packet_out().prop_map(Message::PacketOut),
        group_mod().prop_map(Message::GroupMod),
        multipart_request().prop_map(Message::MultipartRequest),
        multipart_reply().prop_map(Message::MultipartReply),
        (
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            vec(meter_band(), 0..4)
        )
            .prop_map(|(c, flags, meter_id, bands)| {
                Message::MeterMod(MeterMod {
                    command: MeterModCommand::from(c),
                    flags,
                    meter_id,
                    bands,
                })
            }),
        (any::<u8>(), port_desc()).prop_map(|(r, desc)| Message::PortStatus(PortStatus {
            reason: PortReason::from(r),
            desc
        })),
        (0u16..0xffff, any::<u16>(), bytes(64)).prop_map(|(t, code, data)| Message::Error(
            ErrorMsg {
                typ: ErrorType::from(t),
                code,
                data
            }
        )),
        bytes(64).prop_map(Message::EchoRequest),
        bytes(64).prop_map(Message::EchoReply),
        vec(
            prop_oneof![
                vec(any::<u32>(), 0..3).prop_map(HelloElem::VersionBitmap),
                (2u16..100, bytes(12)).prop_map(|(typ, data)| HelloElem::Unknown { typ, data }),
            ],
            0..3
        )
        .prop_map(|elements| Message::Hello(Hello {
            version: OFP_VERSION,
            elements
        })),
        (any::<u32>(), any::<u64>()).prop_map(|(r, generation_id)| Message::RoleRequest(RoleMsg {
            role: ControllerRole::from(r),
            generation_id
        })),
        any::<[u32; 6]>().prop_map(|m| Message::SetAsync(AsyncConfig {
            packet_in_mask: [m[0], m[1]],
            port_status_mask: [m[2], m[3]],
            flow_removed_mask: [m[4], m[5]],
        })),
        (
            any::<u64>(),
            any::<u32>(),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(
                |(datapath_id, n_buffers, n_tables, auxiliary_id, capabilities, reserved)| {
                    Message::FeaturesReply(SwitchFeatures {
                        datapath_id,
                        n_buffers,
                        n_tables,
                        auxiliary_id,
                        capabilities,
                        reserved,
                    })
                }
            ),
        Just(Message::BarrierRequest),
        Just(Message::FeaturesRequest),
    ]
}

fn roundtrip(msg: &OfpMsg) -> Result<(), TestCaseError> {
    let bytes = msg.to_vec();
    prop_assert_eq!(bytes.len(), msg.buffer_len());
    prop_assert_eq!(frame_len(&bytes), Ok(Some(bytes.len())));
    let back = OfpMsg::parse(&bytes).map_err(|e| TestCaseError::fail(format!("{e}: {msg:?}")))?;
    prop_assert_eq!(&back, msg);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn oxm_roundtrips(o in oxm()) {
        let mut buf = vec![0u8; o.buffer_len()];
        o.emit(&mut buf);
        let (back, rest) = Oxm::parse(&buf).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, o);
    }

    #[test]
    fn action_roundtrips(a in action()) {
        prop_assert_eq!(a.buffer_len() % 8, 0);
        let mut buf = vec![0u8; a.buffer_len()];
        a.emit(&mut buf);
        let (back, rest) = Action::parse(&buf).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, a);
    }

    #[test]
    fn instruction_roundtrips(i in instruction()) {
        prop_assert_eq!(i.buffer_len() % 8, 0);
        let mut buf = vec![0u8; i.buffer_len()];
        i.emit(&mut buf);
        let (back, rest) = Instruction::parse(&buf).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, i);
    }

    #[test]
    fn match_roundtrips_and_pads_to_8(m in match_()) {
        prop_assert_eq!(m.buffer_len() % 8, 0);
        let mut buf = vec![0xffu8; m.buffer_len()];
        m.emit(&mut buf);
        prop_assert!(buf[m.unpadded_len()..].iter().all(|b| *b == 0));
        let (back, rest) = Match::parse(&buf).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, m);
    }

    #[test]
    fn flow_mod_roundtrips(xid in any::<u32>(), f in flow_mod()) {
        roundtrip(&OfpMsg::new(xid, Message::FlowMod(f)))?;
    }

    #[test]
    fn packet_in_roundtrips(xid in any::<u32>(), p in packet_in()) {
        roundtrip(&OfpMsg::new(xid, Message::PacketIn(p)))?;
    }

    #[test]
    fn packet_out_roundtrips(xid in any::<u32>(), p in packet_out()) {
        roundtrip(&OfpMsg::new(xid, Message::PacketOut(p)))?;
    }

    #[test]
    fn group_mod_roundtrips(xid in any::<u32>(), g in group_mod()) {
        roundtrip(&OfpMsg::new(xid, Message::GroupMod(g)))?;
    }

    #[test]
    fn port_stats_and_port_desc_replies_roundtrip(
        xid in any::<u32>(), flags in any::<u16>(), stats in vec(port_stats(), 0..5), ports in vec(port_desc(), 0..5),
    ) {
        roundtrip(&OfpMsg::new(xid, Message::MultipartReply(MultipartReply {
            flags, body: MultipartReplyBody::PortStats(stats),
        })))?;
        roundtrip(&OfpMsg::new(xid, Message::MultipartReply(MultipartReply {
            flags, body: MultipartReplyBody::PortDesc(ports),
        })))?;
    }

    #[test]
    fn any_message_roundtrips(xid in any::<u32>(), body in message()) {
        roundtrip(&OfpMsg::new(xid, body))?;
    }
}
