//! Maps decoded messages onto os-ken's JSON (`to_jsondict`) shape, for the
//! golden test. Parts the codec keeps raw (Nicira action bodies, table
//! feature properties, ONF flow-monitor requests) are decoded here as far as
//! needed to compare them.

use edgeflow_proto::ofp::*;
use serde_json::{json, Map, Value};

/// Marks an object as checked only on the keys it has (raw bodies).
pub const PARTIAL: &str = "__partial__";
/// Class name standing for any os-ken Nicira action class.
pub const ANY_NX: &str = "NX*";

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |a, x| (a << 8) | u64::from(*x))
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

pub fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn obj(name: &str, v: Value) -> Value {
    json!({ name: v })
}

// ---------- OXM ----------

/// Names of non-basic OXMs that appear in the corpus: (class, field) -> name, is_ip.
fn raw_oxm_name(class: u16, field: u8) -> Option<(String, bool)> {
    match (class, field) {
        (0x0001, 0..=15) => Some((format!("reg{field}"), false)),
        (0x0001, 31) => Some(("tun_ipv4_src".into(), true)),
        (0x0001, 32) => Some(("tun_ipv4_dst".into(), true)),
        (0x0001, 33) => Some(("pkt_mark".into(), false)),
        (0x0001, 37) => Some(("conj_id".into(), false)),
        (0x0001, 105) => Some(("ct_state".into(), false)),
        (0x0001, 106) => Some(("ct_zone".into(), false)),
        (0x0001, 107) => Some(("ct_mark".into(), false)),
        _ => None,
    }
}

fn oxm_json(o: &Oxm) -> Value {
    fn v<T: ToString>(x: T) -> Value {
        json!(x.to_string())
    }
    let (name, value, mask): (String, Value, Value) = match o {
        Oxm::Raw {
            class: OFPXMC_EXPERIMENTER,
            value,
            ..
        } if value.len() >= 6 && u32_at(value, 0) == 0x4f4e_4600 && u16_at(value, 4) == 2560 => {
            ("pbb_uca".into(), json!(be(&value[6..])), Value::Null)
        }
        Oxm::Raw {
            class,
            field,
            has_mask,
            value,
        } => {
            let (name, is_ip) = raw_oxm_name(*class, *field)
                .unwrap_or_else(|| panic!("unnamed raw OXM class {class:#x} field {field}"));
            let n = if *has_mask {
                value.len() / 2
            } else {
                value.len()
            };
            let conv = |b: &[u8]| {
                if is_ip {
                    v(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]))
                } else {
                    json!(be(b))
                }
            };
            let mask = if *has_mask {
                conv(&value[n..])
            } else {
                Value::Null
            };
            (name, conv(&value[..n]), mask)
        }
        other => {
            let name = other.name().unwrap().to_string();
            let (val, mask) = match other {
                Oxm::InPort(x) | Oxm::InPhyPort(x) | Oxm::MplsLabel(x) => (json!(x), None),
                Oxm::Metadata(x, m) | Oxm::TunnelId(x, m) => (json!(x), m.map(|m| json!(m))),
                Oxm::EthDst(x, m) | Oxm::EthSrc(x, m) | Oxm::ArpSha(x, m) | Oxm::ArpTha(x, m) => {
                    (v(x), m.map(v))
                }
                Oxm::Ipv6NdSll(x) | Oxm::Ipv6NdTll(x) => (v(x), None),
                Oxm::EthType(x) | Oxm::ArpOp(x) => (json!(x), None),
                Oxm::VlanVid(x, m)
                | Oxm::Ipv6Exthdr(x, m)
                | Oxm::TcpSrc(x, m)
                | Oxm::TcpDst(x, m)
                | Oxm::UdpSrc(x, m)
                | Oxm::UdpDst(x, m)
                | Oxm::SctpSrc(x, m)
                | Oxm::SctpDst(x, m) => (json!(x), m.map(|m| json!(m))),
                Oxm::VlanPcp(x)
                | Oxm::IpDscp(x)
                | Oxm::IpEcn(x)
                | Oxm::IpProto(x)
                | Oxm::Icmpv4Type(x)
                | Oxm::Icmpv4Code(x)
                | Oxm::Icmpv6Type(x)
                | Oxm::Icmpv6Code(x)
                | Oxm::MplsTc(x)
                | Oxm::MplsBos(x) => (json!(x), None),
                Oxm::Ipv4Src(x, m) | Oxm::Ipv4Dst(x, m) | Oxm::ArpSpa(x, m) | Oxm::ArpTpa(x, m) => {
                    (v(x), m.map(v))
                }
                Oxm::Ipv6Src(x, m) | Oxm::Ipv6Dst(x, m) => (v(x), m.map(v)),
                Oxm::Ipv6NdTarget(x) => (v(x), None),
                Oxm::Ipv6Flabel(x, m) | Oxm::PbbIsid(x, m) => (json!(x), m.map(|m| json!(m))),
                Oxm::Raw { .. } => unreachable!(),
            };
            (name, val, mask.unwrap_or(Value::Null))
        }
    };
    obj(
        "OXMTlv",
        json!({"field": name, "mask": mask, "value": value}),
    )
}

fn match_json(m: &Match) -> Value {
    obj(
        "OFPMatch",
        json!({
            "length": m.unpadded_len(),
            "oxm_fields": m.fields.iter().map(oxm_json).collect::<Vec<_>>(),
            "type": 1,
        }),
    )
}

// ---------- actions and instructions ----------

fn action_json(a: &Action) -> Value {
    let len = a.buffer_len();
    let t = a.typ();
    let simple = |name: &str| obj(name, json!({"len": len, "type": t}));
    let with = |name: &str, k: &str, v: Value| obj(name, json!({"len": len, "type": t, k: v}));
    match a {
        Action::Output { port, max_len } => obj(
            "OFPActionOutput",
            json!({"len": len, "max_len": max_len, "port": port, "type": t}),
        ),
        Action::CopyTtlOut => simple("OFPActionCopyTtlOut"),
        Action::CopyTtlIn => simple("OFPActionCopyTtlIn"),
        Action::SetMplsTtl(x) => with("OFPActionSetMplsTtl", "mpls_ttl", json!(x)),
        Action::DecMplsTtl => simple("OFPActionDecMplsTtl"),
        Action::PushVlan(e) => with("OFPActionPushVlan", "ethertype", json!(e)),
        Action::PopVlan => simple("OFPActionPopVlan"),
        Action::PushMpls(e) => with("OFPActionPushMpls", "ethertype", json!(e)),
        Action::PopMpls(e) => with("OFPActionPopMpls", "ethertype", json!(e)),
        Action::SetQueue(q) => with("OFPActionSetQueue", "queue_id", json!(q)),
        Action::Group(g) => with("OFPActionGroup", "group_id", json!(g)),
        Action::SetNwTtl(x) => with("OFPActionSetNwTtl", "nw_ttl", json!(x)),
        Action::DecNwTtl => simple("OFPActionDecNwTtl"),
        Action::SetField(o) => with("OFPActionSetField", "field", oxm_json(o)),
        Action::PushPbb(e) => with("OFPActionPushPbb", "ethertype", json!(e)),
        Action::PopPbb => simple("OFPActionPopPbb"),
        Action::Experimenter { experimenter, data } if *experimenter == 0x2320 => {
            // Nicira: raw here; check the header fields os-ken decodes.
            assert!(data.len() >= 2, "Nicira action without subtype");
            obj(
                ANY_NX,
                json!({PARTIAL: true, "experimenter": experimenter, "len": len, "type": t,
                       "subtype": u16_at(data, 0)}),
            )
        }
        Action::Experimenter { experimenter, data } => obj(
            "OFPActionExperimenterUnknown",
            json!({"data": b64(data), "experimenter": experimenter, "len": len, "type": t}),
        ),
        Action::Unknown { typ, data } => obj(
            "OFPActionUnknown",
            json!({"data": b64(data), "len": len, "type": typ}),
        ),
    }
}

fn actions_json(a: &[Action]) -> Value {
    Value::Array(a.iter().map(action_json).collect())
}

fn instruction_json(i: &Instruction) -> Value {
    let len = i.buffer_len();
    let t = i.typ();
    match i {
        Instruction::GotoTable(tid) => obj(
            "OFPInstructionGotoTable",
            json!({"len": len, "table_id": tid, "type": t}),
        ),
        Instruction::WriteMetadata { metadata, mask } => obj(
            "OFPInstructionWriteMetadata",
            json!({"len": len, "metadata": metadata, "metadata_mask": mask, "type": t}),
        ),
        Instruction::WriteActions(a) | Instruction::ApplyActions(a) => obj(
            "OFPInstructionActions",
            json!({"actions": actions_json(a), "len": len, "type": t}),
        ),
        Instruction::ClearActions => obj(
            "OFPInstructionActions",
            json!({"actions": [], "len": len, "type": t}),
        ),
        Instruction::Meter(m) => obj(
            "OFPInstructionMeter",
            json!({"len": len, "meter_id": m, "type": t}),
        ),
        Instruction::Experimenter { experimenter, data } => obj(
            "OFPInstructionExperimenter",
            json!({"data": b64(data), "experimenter": experimenter, "len": len, "type": t}),
        ),
        Instruction::Unknown { typ, data } => obj(
            "OFPInstructionUnknown",
            json!({"data": b64(data), "len": len, "type": typ}),
        ),
    }
}

fn instructions_json(i: &[Instruction]) -> Value {
    Value::Array(i.iter().map(instruction_json).collect())
}

// ---------- structures ----------

fn port_json(p: &Port) -> Value {
    obj(
        "OFPPort",
        json!({
            "advertised": p.advertised, "config": p.config, "curr": p.curr, "curr_speed": p.curr_speed,
            "hw_addr": p.hw_addr.to_string(), "max_speed": p.max_speed, "name": p.name, "peer": p.peer,
            "port_no": p.port_no, "state": p.state, "supported": p.supported,
        }),
    )
}

fn bucket_json(b: &Bucket) -> Value {
    obj(
        "OFPBucket",
        json!({
            "actions": actions_json(&b.actions), "len": b.buffer_len(), "watch_group": b.watch_group,
            "watch_port": b.watch_port, "weight": b.weight,
        }),
    )
}

fn band_json(b: &MeterBand) -> Value {
    let len = b.buffer_len();
    match b {
        MeterBand::Drop { rate, burst_size } => obj(
            "OFPMeterBandDrop",
            json!({"burst_size": burst_size, "len": len, "rate": rate, "type": 1}),
        ),
        MeterBand::DscpRemark {
            rate,
            burst_size,
            prec_level,
        } => obj(
            "OFPMeterBandDscpRemark",
            json!({"burst_size": burst_size, "len": len, "prec_level": prec_level, "rate": rate, "type": 2}),
        ),
        MeterBand::Experimenter {
            rate,
            burst_size,
            experimenter,
            data,
        } => {
            assert!(data.is_empty(), "os-ken drops experimenter band data");
            obj(
                "OFPMeterBandExperimenter",
                json!({"burst_size": burst_size, "experimenter": experimenter, "len": len, "rate": rate, "type": 0xffff}),
            )
        }
        MeterBand::Unknown { typ, data } => obj(
            "OFPMeterBandUnknown",
            json!({"data": b64(data), "type": typ}),
        ),
    }
}

/// Decodes raw `ofp_table_feature_prop_*` bytes into os-ken's shape.
fn table_props_json(mut b: &[u8]) -> Value {
    let mut out = Vec::new();
    while !b.is_empty() {
        let typ = u16_at(b, 0);
        let len = usize::from(u16_at(b, 2));
        let body = &b[4..len];
        let v = match typ {
            0 | 1 => {
                let ids: Vec<Value> = body
                    .chunks(4)
                    .map(|c| {
                        obj(
                            "OFPInstructionId",
                            json!({"len": u16_at(c, 2), "type": u16_at(c, 0)}),
                        )
                    })
                    .collect();
                obj(
                    "OFPTableFeaturePropInstructions",
                    json!({"instruction_ids": ids, "length": len, "type": typ}),
                )
            }
            2 | 3 => obj(
                "OFPTableFeaturePropNextTables",
                json!({"length": len, "table_ids": body.to_vec(), "type": typ}),
            ),
            4..=7 => {
                let ids: Vec<Value> = body
                    .chunks(4)
                    .map(|c| {
                        obj(
                            "OFPActionId",
                            json!({"len": u16_at(c, 2), "type": u16_at(c, 0)}),
                        )
                    })
                    .collect();
                obj(
                    "OFPTableFeaturePropActions",
                    json!({"action_ids": ids, "length": len, "type": typ}),
                )
            }
            8 | 10 | 12 | 13 | 14 | 15 => {
                let ids: Vec<Value> = body
                    .chunks(4)
                    .map(|c| {
                        assert_eq!(u16_at(c, 0), OFPXMC_OPENFLOW_BASIC);
                        let field = c[2] >> 1;
                        let info = OXM_FIELDS
                            .iter()
                            .find(|f| f.field == field)
                            .expect("oxm id");
                        obj(
                            "OFPOxmId",
                            json!({"hasmask": c[2] & 1, "length": c[3], "type": info.name}),
                        )
                    })
                    .collect();
                obj(
                    "OFPTableFeaturePropOxm",
                    json!({"length": len, "oxm_ids": ids, "type": typ}),
                )
            }
            0xfffe | 0xffff => {
                let data: Vec<u32> = body[8..].chunks(4).map(|c| u32_at(c, 0)).collect();
                obj(
                    "OFPTableFeaturePropExperimenter",
                    json!({"data": data, "exp_type": u32_at(body, 4), "experimenter": u32_at(body, 0),
                           "length": len, "type": typ}),
                )
            }
            other => panic!("table feature property type {other} not in corpus mapping"),
        };
        out.push(v);
        b = &b[((len + 7) & !7).min(b.len())..];
    }
    Value::Array(out)
}

fn table_features_json(t: &TableFeatures) -> Value {
    obj(
        "OFPTableFeaturesStats",
        json!({
            "config": t.config, "length": t.buffer_len(), "max_entries": t.max_entries, "table_id": t.table_id,
            "metadata_match": t.metadata_match, "metadata_write": t.metadata_write, "name": t.name,
            "properties": table_props_json(&t.properties),
        }),
    )
}

fn flow_stats_req_fields(f: &FlowStatsRequest, m: &mut Map<String, Value>) {
    m.insert("cookie".into(), json!(f.cookie));
    m.insert("cookie_mask".into(), json!(f.cookie_mask));
    m.insert("match".into(), match_json(&f.match_));
    m.insert("out_group".into(), json!(f.out_group));
    m.insert("out_port".into(), json!(f.out_port));
    m.insert("table_id".into(), json!(f.table_id));
}

/// ONF flow monitor request (experimenter multipart 0x4f4e4600 / 1870):
/// decoded here from the raw body to check it.
fn onf_flow_monitor_json(mut data: &[u8]) -> Value {
    let mut out = Vec::new();
    while !data.is_empty() {
        let match_len = usize::from(u16_at(data, 6));
        let oxms = &data[16..16 + match_len];
        let mut fields = Vec::new();
        let mut rest = oxms;
        while !rest.is_empty() {
            let (o, r) = Oxm::parse(rest).expect("flow monitor OXM");
            fields.push(oxm_json(&o));
            rest = r;
        }
        out.push(obj(
            "ONFFlowMonitorRequest",
            json!({
                "flags": u16_at(data, 4), "id": u32_at(data, 0),
                "match": obj("OFPMatch", json!({"length": match_len + 4, "oxm_fields": fields, "type": 1})),
                "match_len": match_len, "out_port": u32_at(data, 8), "table_id": data[12],
            }),
        ));
        data = &data[16 + ((match_len + 7) & !7)..];
    }
    Value::Array(out)
}

fn mp_request_json(r: &MultipartRequest) -> Value {
    use MultipartRequestBody as B;
    let mut m = Map::new();
    m.insert("flags".into(), json!(r.flags));
    m.insert("type".into(), json!(r.body.typ()));
    let name = match &r.body {
        B::Desc => "OFPDescStatsRequest",
        B::Flow(f) => {
            flow_stats_req_fields(f, &mut m);
            "OFPFlowStatsRequest"
        }
        B::Aggregate(f) => {
            flow_stats_req_fields(f, &mut m);
            "OFPAggregateStatsRequest"
        }
        B::Table => "OFPTableStatsRequest",
        B::PortStats { port_no } => {
            m.insert("port_no".into(), json!(port_no));
            "OFPPortStatsRequest"
        }
        B::Queue { port_no, queue_id } => {
            m.insert("port_no".into(), json!(port_no));
            m.insert("queue_id".into(), json!(queue_id));
            "OFPQueueStatsRequest"
        }
        B::Group { group_id } => {
            m.insert("group_id".into(), json!(group_id));
            "OFPGroupStatsRequest"
        }
        B::GroupDesc => "OFPGroupDescStatsRequest",
        B::GroupFeatures => "OFPGroupFeaturesStatsRequest",
        B::Meter { meter_id } => {
            m.insert("meter_id".into(), json!(meter_id));
            "OFPMeterStatsRequest"
        }
        B::MeterConfig { meter_id } => {
            m.insert("meter_id".into(), json!(meter_id));
            "OFPMeterConfigStatsRequest"
        }
        B::MeterFeatures => "OFPMeterFeaturesStatsRequest",
        B::TableFeatures(t) => {
            m.insert("body".into(), t.iter().map(table_features_json).collect());
            "OFPTableFeaturesStatsRequest"
        }
        B::PortDesc => "OFPPortDescStatsRequest",
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => {
            m.insert("experimenter".into(), json!(experimenter));
            m.insert("exp_type".into(), json!(exp_type));
            if (*experimenter, *exp_type) == (0x4f4e_4600, 1870) {
                m.insert("body".into(), onf_flow_monitor_json(data));
                "ONFFlowMonitorStatsRequest"
            } else {
                m.insert("data".into(), json!(b64(data)));
                "OFPExperimenterStatsRequest"
            }
        }
        B::Unknown { .. } => panic!("unknown multipart request in corpus"),
    };
    obj(name, Value::Object(m))
}

fn mp_reply_json(r: &MultipartReply) -> Value {
    use MultipartReplyBody as B;
    let list = |v: Vec<Value>| Value::Array(v);
    let (name, body) = match &r.body {
        B::Desc(d) => (
            "OFPDescStatsReply",
            obj(
                "OFPDescStats",
                json!({"dp_desc": d.dp_desc, "hw_desc": d.hw_desc, "mfr_desc": d.mfr_desc,
                       "serial_num": d.serial_num, "sw_desc": d.sw_desc}),
            ),
        ),
        B::Flow(v) => (
            "OFPFlowStatsReply",
            list(
                v.iter()
                    .map(|f| {
                        obj(
                            "OFPFlowStats",
                            json!({
                                "byte_count": f.byte_count, "cookie": f.cookie, "duration_nsec": f.duration_nsec,
                                "duration_sec": f.duration_sec, "flags": f.flags, "hard_timeout": f.hard_timeout,
                                "idle_timeout": f.idle_timeout, "instructions": instructions_json(&f.instructions),
                                "length": f.buffer_len(), "match": match_json(&f.match_),
                                "packet_count": f.packet_count, "priority": f.priority, "table_id": f.table_id,
                            }),
                        )
                    })
                    .collect(),
            ),
        ),
        B::Aggregate(a) => (
            "OFPAggregateStatsReply",
            obj(
                "OFPAggregateStats",
                json!({"byte_count": a.byte_count, "flow_count": a.flow_count, "packet_count": a.packet_count}),
            ),
        ),
        B::Table(v) => (
            "OFPTableStatsReply",
            list(
                v.iter()
                    .map(|t| {
                        obj(
                            "OFPTableStats",
                            json!({"active_count": t.active_count, "lookup_count": t.lookup_count,
                                   "matched_count": t.matched_count, "table_id": t.table_id}),
                        )
                    })
                    .collect(),
            ),
        ),
        B::PortStats(v) => (
            "OFPPortStatsReply",
            list(
                v.iter()
                    .map(|p| {
                        obj(
                            "OFPPortStats",
                            json!({
                                "collisions": p.collisions, "duration_nsec": p.duration_nsec,
                                "duration_sec": p.duration_sec, "port_no": p.port_no, "rx_bytes": p.rx_bytes,
                                "rx_crc_err": p.rx_crc_err, "rx_dropped": p.rx_dropped, "rx_errors": p.rx_errors,
                                "rx_frame_err": p.rx_frame_err, "rx_over_err": p.rx_over_err,
                                "rx_packets": p.rx_packets, "tx_bytes": p.tx_bytes, "tx_dropped": p.tx_dropped,
                                "tx_errors": p.tx_errors, "tx_packets": p.tx_packets,
                            }),
                        )
                    })
                    .collect(),
            ),
        ),
        B::Queue(v) => (
            "OFPQueueStatsReply",
            list(
                v.iter()
                    .map(|q| {
                        obj(
                            "OFPQueueStats",
                            json!({"duration_nsec": q.duration_nsec, "duration_sec": q.duration_sec,
                                   "port_no": q.port_no, "queue_id": q.queue_id, "tx_bytes": q.tx_bytes,
                                   "tx_errors": q.tx_errors, "tx_packets": q.tx_packets}),
                        )
                    })
                    .collect(),
            ),
        ),
        B::Group(v) => (
            "OFPGroupStatsReply",
            list(
                v.iter()
                    .map(|g| {
                        let buckets: Vec<Value> = g
                            .bucket_stats
                            .iter()
                            .map(|c| {
                                obj(
                                    "OFPBucketCounter",
                                    json!({"byte_count": c.byte_count, "packet_count": c.packet_count}),
                                )
                            })
                            .collect();
                        obj(
                            "OFPGroupStats",
                            json!({"bucket_stats": buckets, "byte_count": g.byte_count,
                                   "duration_nsec": g.duration_nsec, "duration_sec": g.duration_sec,
                                   "group_id": g.group_id, "length": g.buffer_len(),
                                   "packet_count": g.packet_count, "ref_count": g.ref_count}),
                        )
                    })
                    .collect(),
            ),
        ),
        B::GroupDesc(v) => (
            "OFPGroupDescStatsReply",
            list(
                v.iter()
                    .map(|g| {
                        obj(
                            "OFPGroupDescStats",
                            json!({"buckets": g.buckets.iter().map(bucket_json).collect::<Vec<_>>(),
                                   "group_id": g.group_id, "length": g.buffer_len(),
                                   "type": u8::from(g.group_type)}),
                        )
                    })
                    .collect(),
            ),
        ),
        B::GroupFeatures(g) => (
            "OFPGroupFeaturesStatsReply",
            obj(
                "OFPGroupFeaturesStats",
                json!({"actions": g.actions, "capabilities": g.capabilities,
                       "max_groups": g.max_groups, "types": g.types}),
            ),
        ),
        B::Meter(v) => (
            "OFPMeterStatsReply",
            list(
                v.iter()
                    .map(|s| {
                        let bands: Vec<Value> = s
                            .band_stats
                            .iter()
                            .map(|c| {
                                obj(
                                    "OFPMeterBandStats",
                                    json!({"byte_band_count": c.byte_count, "packet_band_count": c.packet_count}),
                                )
                            })
                            .collect();
                        obj(
                            "OFPMeterStats",
                            json!({"band_stats": bands, "byte_in_count": s.byte_in_count,
                                   "duration_nsec": s.duration_nsec, "duration_sec": s.duration_sec,
                                   "flow_count": s.flow_count, "len": s.buffer_len(), "meter_id": s.meter_id,
                                   "packet_in_count": s.packet_in_count}),
                        )
                    })
                    .collect(),
            ),
        ),
        B::MeterConfig(v) => (
            "OFPMeterConfigStatsReply",
            list(
                v.iter()
                    .map(|c| {
                        obj(
                            "OFPMeterConfigStats",
                            json!({"bands": c.bands.iter().map(band_json).collect::<Vec<_>>(),
                                   "flags": c.flags, "length": c.buffer_len(), "meter_id": c.meter_id}),
                        )
                    })
                    .collect(),
            ),
        ),
        B::MeterFeatures(f) => (
            "OFPMeterFeaturesStatsReply",
            list(vec![obj(
                "OFPMeterFeaturesStats",
                json!({"band_types": f.band_types, "capabilities": f.capabilities,
                       "max_bands": f.max_bands, "max_color": f.max_color, "max_meter": f.max_meter}),
            )]),
        ),
        B::TableFeatures(v) => (
            "OFPTableFeaturesStatsReply",
            list(v.iter().map(table_features_json).collect()),
        ),
        B::PortDesc(v) => ("OFPPortDescStatsReply", list(v.iter().map(port_json).collect())),
        B::Experimenter {
            experimenter,
            exp_type,
            data,
        } => (
            "OFPExperimenterStatsReply",
            obj(
                "OFPExperimenterMultipart",
                json!({"data": b64(data), "exp_type": exp_type, "experimenter": experimenter}),
            ),
        ),
        B::Unknown { .. } => panic!("unknown multipart reply in corpus"),
    };
    obj(
        name,
        json!({"body": body, "flags": r.flags, "type": r.body.typ()}),
    )
}

fn queue_prop_json(p: &QueueProp) -> Value {
    let len = p.buffer_len();
    match p {
        QueueProp::MinRate(r) => obj(
            "OFPQueuePropMinRate",
            json!({"len": len, "property": 1, "rate": r}),
        ),
        QueueProp::MaxRate(r) => obj(
            "OFPQueuePropMaxRate",
            json!({"len": len, "property": 2, "rate": r}),
        ),
        QueueProp::Experimenter { experimenter, data } => obj(
            "OFPQueuePropExperimenter",
            json!({"data": data, "experimenter": experimenter, "len": len, "property": 0xffff}),
        ),
        QueueProp::Unknown { typ, data } => obj(
            "OFPQueuePropUnknown",
            json!({"data": data, "len": len, "property": typ}),
        ),
    }
}

fn async_json(name: &str, a: &AsyncConfig) -> Value {
    obj(
        name,
        json!({"flow_removed_mask": a.flow_removed_mask, "packet_in_mask": a.packet_in_mask,
               "port_status_mask": a.port_status_mask}),
    )
}

/// Maps a decoded message onto os-ken's JSON (`to_jsondict`) shape.
pub fn msg_json(m: &OfpMsg) -> Value {
    match &m.body {
        Message::Hello(h) => {
            let elems: Vec<Value> = h
                .elements
                .iter()
                .map(|e| match e {
                    HelloElem::VersionBitmap(words) => {
                        let versions: Vec<u32> = (0..32 * words.len() as u32)
                            .filter(|v| words[(*v / 32) as usize] & (1 << (v % 32)) != 0)
                            .collect();
                        obj(
                            "OFPHelloElemVersionBitmap",
                            json!({"length": 4 + 4 * words.len(), "type": 1, "versions": versions}),
                        )
                    }
                    HelloElem::Unknown { typ, data } => obj(
                        "OFPHelloElemUnknown",
                        json!({"type": typ, "data": b64(data)}),
                    ),
                })
                .collect();
            obj("OFPHello", json!({"elements": elems}))
        }
        Message::Error(e) => match e.experimenter_parts() {
            Some((exp, data)) => obj(
                "OFPErrorMsg",
                json!({"code": null, "data": b64(data), "exp_type": e.code, "experimenter": exp,
                       "type": u16::from(e.typ)}),
            ),
            None => obj(
                "OFPErrorMsg",
                json!({"code": e.code, "data": b64(&e.data), "type": u16::from(e.typ)}),
            ),
        },
        Message::EchoRequest(d) => obj("OFPEchoRequest", json!({"data": b64(d)})),
        Message::EchoReply(d) => obj("OFPEchoReply", json!({"data": b64(d)})),
        Message::Experimenter(e) => obj(
            "OFPExperimenter",
            json!({"data": b64(&e.data), "exp_type": e.exp_type, "experimenter": e.experimenter}),
        ),
        Message::FeaturesRequest => obj("OFPFeaturesRequest", json!({})),
        Message::FeaturesReply(f) => obj(
            "OFPSwitchFeatures",
            json!({"auxiliary_id": f.auxiliary_id, "capabilities": f.capabilities,
                   "datapath_id": f.datapath_id, "n_buffers": f.n_buffers, "n_tables": f.n_tables}),
        ),
        Message::GetConfigRequest => obj("OFPGetConfigRequest", json!({})),
        Message::GetConfigReply(c) => obj(
            "OFPGetConfigReply",
            json!({"flags": c.flags, "miss_send_len": c.miss_send_len}),
        ),
        Message::SetConfig(c) => obj(
            "OFPSetConfig",
            json!({"flags": c.flags, "miss_send_len": c.miss_send_len}),
        ),
        Message::PacketIn(p) => obj(
            "OFPPacketIn",
            json!({"buffer_id": p.buffer_id, "cookie": p.cookie, "data": b64(&p.data),
                   "match": match_json(&p.match_), "reason": u8::from(p.reason), "table_id": p.table_id,
                   "total_len": p.total_len}),
        ),
        Message::FlowRemoved(f) => obj(
            "OFPFlowRemoved",
            json!({"byte_count": f.byte_count, "cookie": f.cookie, "duration_nsec": f.duration_nsec,
                   "duration_sec": f.duration_sec, "hard_timeout": f.hard_timeout,
                   "idle_timeout": f.idle_timeout, "match": match_json(&f.match_),
                   "packet_count": f.packet_count, "priority": f.priority, "reason": u8::from(f.reason),
                   "table_id": f.table_id}),
        ),
        Message::PortStatus(p) => obj(
            "OFPPortStatus",
            json!({"desc": port_json(&p.desc), "reason": u8::from(p.reason)}),
        ),
        Message::PacketOut(p) => obj(
            "OFPPacketOut",
            json!({"actions": actions_json(&p.actions),
                   "actions_len": p.actions.iter().map(Action::buffer_len).sum::<usize>(),
                   "buffer_id": p.buffer_id, "data": b64(&p.data), "in_port": p.in_port}),
        ),
        Message::FlowMod(f) => obj(
            "OFPFlowMod",
            json!({"buffer_id": f.buffer_id, "command": u8::from(f.command), "cookie": f.cookie,
                   "cookie_mask": f.cookie_mask, "flags": f.flags, "hard_timeout": f.hard_timeout,
                   "idle_timeout": f.idle_timeout, "instructions": instructions_json(&f.instructions),
                   "match": match_json(&f.match_), "out_group": f.out_group, "out_port": f.out_port,
                   "priority": f.priority, "table_id": f.table_id}),
        ),
        Message::GroupMod(g) => obj(
            "OFPGroupMod",
            json!({"buckets": g.buckets.iter().map(bucket_json).collect::<Vec<_>>(),
                   "command": u16::from(g.command), "group_id": g.group_id, "type": u8::from(g.group_type)}),
        ),
        Message::PortMod(p) => obj(
            "OFPPortMod",
            json!({"advertise": p.advertise, "config": p.config, "hw_addr": p.hw_addr.to_string(),
                   "mask": p.mask, "port_no": p.port_no}),
        ),
        Message::TableMod(t) => obj(
            "OFPTableMod",
            json!({"config": t.config, "table_id": t.table_id}),
        ),
        Message::MultipartRequest(r) => mp_request_json(r),
        Message::MultipartReply(r) => mp_reply_json(r),
        Message::BarrierRequest => obj("OFPBarrierRequest", json!({})),
        Message::BarrierReply => obj("OFPBarrierReply", json!({})),
        Message::QueueGetConfigRequest(q) => {
            obj("OFPQueueGetConfigRequest", json!({"port": q.port}))
        }
        Message::QueueGetConfigReply(q) => {
            let queues: Vec<Value> = q
                .queues
                .iter()
                .map(|pq| {
                    obj(
                        "OFPPacketQueue",
                        json!({"len": pq.buffer_len(), "port": pq.port, "queue_id": pq.queue_id,
                               "properties": pq.properties.iter().map(queue_prop_json).collect::<Vec<_>>()}),
                    )
                })
                .collect();
            obj(
                "OFPQueueGetConfigReply",
                json!({"port": q.port, "queues": queues}),
            )
        }
        Message::RoleRequest(r) => obj(
            "OFPRoleRequest",
            json!({"generation_id": r.generation_id, "role": u32::from(r.role)}),
        ),
        Message::RoleReply(r) => obj(
            "OFPRoleReply",
            json!({"generation_id": r.generation_id, "role": u32::from(r.role)}),
        ),
        Message::GetAsyncRequest => obj("OFPGetAsyncRequest", json!({})),
        Message::GetAsyncReply(a) => async_json("OFPGetAsyncReply", a),
        Message::SetAsync(a) => async_json("OFPSetAsync", a),
        Message::MeterMod(m) => obj(
            "OFPMeterMod",
            json!({"bands": m.bands.iter().map(band_json).collect::<Vec<_>>(),
                   "command": u16::from(m.command), "flags": m.flags, "meter_id": m.meter_id}),
        ),
    }
}
