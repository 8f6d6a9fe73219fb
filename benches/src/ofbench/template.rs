//! Prebuilt messages patched in place: the emulator's PACKET_IN, the ceiling
//! controller's PACKET_OUT, and a checked view of the frame a PACKET_OUT
//! carries. Nothing here allocates per packet.
//!
//! Every frame the emulator sends is Ethernet + IPv4 + UDP whose payload
//! starts with a [`Tag`]: a magic number, the sending switch and a sequence
//! number. A controller that answers with a PACKET_OUT carrying the frame
//! (as edgeflow, ovs-testcontroller and os-ken do when the switch did not
//! buffer the packet) gives the tag back, which is how answers are matched
//! to requests whatever their xid and however many messages answer.

use edgeflow_proto::ofp::{
    self, Action, FlowMod, Instruction, Match, Message, OfpMsg, Oxm, PacketIn, PacketInReason,
    PacketOut,
};
use edgeflow_proto::packet::{
    ethertype, EthernetRepr, Ipv4Repr, UdpRepr, ETHERNET_HEADER_LEN, IPV4_HEADER_LEN,
    UDP_HEADER_LEN,
};
use edgeflow_proto::MacAddr;
use std::net::Ipv4Addr;

/// Offsets into OpenFlow 1.3 messages that the hot paths read or patch.
mod field {
    /// `ofp_header.length`.
    pub const LENGTH: usize = 2;
    /// `ofp_header.xid`.
    pub const XID: usize = 4;
    /// PACKET_IN: the match starts after buffer_id, total_len, reason, table_id and cookie.
    pub const PACKET_IN_MATCH: usize = 24;
    /// PACKET_IN: the value of the first OXM (IN_PORT in our template).
    pub const PACKET_IN_IN_PORT: usize = PACKET_IN_MATCH + 8;
    /// PACKET_OUT: `actions_len`.
    pub const PACKET_OUT_ACTIONS_LEN: usize = 16;
    /// PACKET_OUT: the first action (after 6 bytes of padding).
    pub const PACKET_OUT_ACTIONS: usize = 24;
    /// `ofp_match.length` (relative to the match).
    pub const MATCH_LENGTH: usize = 2;
}

/// Bytes of IPv4 + UDP headers before the tag.
const L4_PAYLOAD: usize = ETHERNET_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN;
/// Frame length of every emulated packet (Ethernet minimum plus the FCS's room).
pub const FRAME_LEN: usize = 64;
/// UDP ports of the emulated traffic.
const UDP_PORT: u16 = 9;

/// What identifies one emulated packet inside its frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// Index of the switch that sent the PACKET_IN.
    pub switch: u32,
    /// The switch's sequence number of the packet.
    pub seq: u32,
}

impl Tag {
    /// "EFB1": marks a frame the emulator made.
    const MAGIC: u32 = 0x4546_4231;
    /// Encoded length.
    const LEN: usize = 12;

    fn write(&self, buf: &mut [u8]) {
        buf[0..4].copy_from_slice(&Self::MAGIC.to_be_bytes());
        buf[4..8].copy_from_slice(&self.switch.to_be_bytes());
        buf[8..12].copy_from_slice(&self.seq.to_be_bytes());
    }

    /// The tag of an emulated frame; None for any other frame.
    pub fn read(frame: &[u8]) -> Option<Tag> {
        let t = frame.get(L4_PAYLOAD..L4_PAYLOAD + Self::LEN)?;
        let word = |i: usize| u32::from_be_bytes([t[i], t[i + 1], t[i + 2], t[i + 3]]);
        (word(0) == Self::MAGIC).then(|| Tag {
            switch: word(4),
            seq: word(8),
        })
    }
}

/// One emulated host: its MAC and IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// Ethernet address.
    pub mac: MacAddr,
    /// IPv4 address.
    pub ip: Ipv4Addr,
}

impl Host {
    /// Host `host` of switch `switch`: locally administered MAC
    /// 02:ss:ss:ss:hh:hh and address 10.s.s.h (unique for 2^16 switches of
    /// up to 255 hosts).
    pub fn new(switch: u32, host: u16) -> Host {
        let s = switch.to_be_bytes();
        let h = host.to_be_bytes();
        Host {
            mac: MacAddr([2, s[1], s[2], s[3], h[0], h[1]]),
            ip: Ipv4Addr::new(10, s[2], s[3], host.min(255) as u8),
        }
    }
}

/// A PACKET_IN encoded once by the codec; [`PacketInTemplate::patch`]
/// rewrites xid, in_port, the frame's addresses and its tag in place.
#[derive(Debug, Clone)]
pub struct PacketInTemplate {
    bytes: Vec<u8>,
    data_at: usize,
}

impl Default for PacketInTemplate {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketInTemplate {
    /// A table-miss PACKET_IN (no buffer) with a [`FRAME_LEN`]-byte frame.
    pub fn new() -> PacketInTemplate {
        let msg = OfpMsg::new(
            0,
            Message::PacketIn(PacketIn {
                buffer_id: ofp::NO_BUFFER,
                total_len: FRAME_LEN as u16,
                reason: PacketInReason::NoMatch,
                table_id: 0,
                cookie: 0,
                match_: Match::new().with(Oxm::InPort(1)),
                data: vec![0; FRAME_LEN],
            }),
        );
        let bytes = msg.to_vec();
        let data_at = bytes.len() - FRAME_LEN;
        PacketInTemplate { bytes, data_at }
    }

    /// Encoded length of every message made from this template.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Never empty; for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Patches the template for a frame from `src` to `dst` entering at
    /// `in_port`, tagged `tag`, and returns the message's bytes.
    pub fn patch(&mut self, xid: u32, in_port: u32, src: Host, dst: Host, tag: Tag) -> &[u8] {
        let b = &mut self.bytes;
        b[field::XID..field::XID + 4].copy_from_slice(&xid.to_be_bytes());
        b[field::PACKET_IN_IN_PORT..field::PACKET_IN_IN_PORT + 4]
            .copy_from_slice(&in_port.to_be_bytes());
        let frame = &mut b[self.data_at..];
        EthernetRepr {
            dst: dst.mac,
            src: src.mac,
            vlan: None,
            ethertype: ethertype::IPV4,
        }
        .emit(frame);
        let ip_payload = (FRAME_LEN - ETHERNET_HEADER_LEN - IPV4_HEADER_LEN) as u16;
        Ipv4Repr::new(
            src.ip,
            dst.ip,
            edgeflow_proto::packet::ip_proto::UDP,
            ip_payload,
        )
        .emit(&mut frame[ETHERNET_HEADER_LEN..]);
        UdpRepr {
            src_port: UDP_PORT,
            dst_port: UDP_PORT,
            payload_len: ip_payload - UDP_HEADER_LEN as u16,
        }
        .emit(&mut frame[ETHERNET_HEADER_LEN + IPV4_HEADER_LEN..]);
        tag.write(&mut frame[L4_PAYLOAD..]);
        &self.bytes
    }
}

/// Appends the encoding of `msg` to `out`.
pub fn append(out: &mut Vec<u8>, msg: &OfpMsg) {
    let start = out.len();
    out.resize(start + msg.buffer_len(), 0);
    msg.emit(&mut out[start..]);
}

/// Sets the xid of an encoded message in place.
pub fn set_xid(msg: &mut [u8], xid: u32) {
    msg[field::XID..field::XID + 4].copy_from_slice(&xid.to_be_bytes());
}

/// The frame a PACKET_OUT carries; None if `msg` (one whole frame) is too
/// short for its actions.
pub fn packet_out_data(msg: &[u8]) -> Option<&[u8]> {
    let len = msg.get(field::PACKET_OUT_ACTIONS_LEN..field::PACKET_OUT_ACTIONS_LEN + 2)?;
    let actions_len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    msg.get(field::PACKET_OUT_ACTIONS + actions_len..)
}

/// The frame a PACKET_IN carries and its IN_PORT, if the match's first OXM is
/// IN_PORT (as every switch sends it); None if `msg` is too short.
pub fn packet_in_data(msg: &[u8]) -> Option<(u32, &[u8])> {
    let m = msg.get(field::PACKET_IN_MATCH..)?;
    let match_len = usize::from(u16::from_be_bytes([
        *m.get(field::MATCH_LENGTH)?,
        *m.get(field::MATCH_LENGTH + 1)?,
    ]));
    let in_port = msg.get(field::PACKET_IN_IN_PORT..field::PACKET_IN_IN_PORT + 4)?;
    let in_port = u32::from_be_bytes([in_port[0], in_port[1], in_port[2], in_port[3]]);
    // The match is padded to 8 bytes, then 2 bytes of padding precede the frame.
    let data_at = field::PACKET_IN_MATCH + match_len.div_ceil(8) * 8 + 2;
    Some((in_port, msg.get(data_at..)?))
}

/// The ceiling controller's answer: a PACKET_OUT (no buffer, from the
/// controller, one output action) whose frame is appended per packet.
#[derive(Debug, Clone)]
pub struct PacketOutTemplate {
    head: Vec<u8>,
}

impl Default for PacketOutTemplate {
    fn default() -> Self {
        Self::new()
    }
}

impl PacketOutTemplate {
    /// The header and action part, encoded once by the codec.
    pub fn new() -> PacketOutTemplate {
        let msg = OfpMsg::new(
            0,
            Message::PacketOut(PacketOut {
                buffer_id: ofp::NO_BUFFER,
                in_port: ofp::port::CONTROLLER,
                actions: vec![Action::Output {
                    port: 1,
                    max_len: 0,
                }],
                data: Vec::new(),
            }),
        );
        PacketOutTemplate { head: msg.to_vec() }
    }

    /// Appends a PACKET_OUT of `frame` out of `port` to `out`.
    pub fn append(&self, out: &mut Vec<u8>, xid: u32, port: u32, frame: &[u8]) {
        let start = out.len();
        out.extend_from_slice(&self.head);
        out.extend_from_slice(frame);
        let msg = &mut out[start..];
        let len = msg.len() as u16;
        msg[field::LENGTH..field::LENGTH + 2].copy_from_slice(&len.to_be_bytes());
        set_xid(msg, xid);
        // The output action's port follows its type and length.
        let port_at = field::PACKET_OUT_ACTIONS + 4;
        msg[port_at..port_at + 4].copy_from_slice(&port.to_be_bytes());
    }
}

/// A learning switch's flow for one frame, as the ceiling's `--flow-mod`
/// mode sends it before each PACKET_OUT: matched on the in_port and the
/// frame's Ethernet addresses, out of one port.
#[derive(Debug, Clone)]
pub struct FlowModTemplate {
    msg: Vec<u8>,
    in_port_at: usize,
    src_at: usize,
    dst_at: usize,
    out_port_at: usize,
}

impl Default for FlowModTemplate {
    fn default() -> Self {
        Self::new()
    }
}

impl FlowModTemplate {
    /// Encoded once by the codec; the patched fields are found by their
    /// (distinct) placeholder values.
    pub fn new() -> FlowModTemplate {
        let (in_port, out_port) = (0xa1a2_a3a4, 0xb1b2_b3b4);
        let (src, dst) = (
            MacAddr([0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6]),
            MacAddr([0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6]),
        );
        let msg = OfpMsg::new(
            0,
            Message::FlowMod(FlowMod {
                idle_timeout: 60,
                ..FlowMod::add(
                    1000,
                    Match::new()
                        .with(Oxm::InPort(in_port))
                        .with(Oxm::EthSrc(src, None))
                        .with(Oxm::EthDst(dst, None)),
                    vec![Instruction::ApplyActions(vec![Action::Output {
                        port: out_port,
                        max_len: 0,
                    }])],
                )
            }),
        )
        .to_vec();
        let find = |v: &[u8]| {
            msg.windows(v.len())
                .position(|w| w == v)
                .expect("the placeholder is in the encoding")
        };
        FlowModTemplate {
            in_port_at: find(&u32::to_be_bytes(in_port)),
            src_at: find(&src.0),
            dst_at: find(&dst.0),
            out_port_at: find(&u32::to_be_bytes(out_port)),
            msg,
        }
    }

    /// Appends the flow for `frame` arriving at `in_port`, out of `out_port`.
    pub fn append(&self, out: &mut Vec<u8>, xid: u32, in_port: u32, out_port: u32, frame: &[u8]) {
        let start = out.len();
        out.extend_from_slice(&self.msg);
        let msg = &mut out[start..];
        set_xid(msg, xid);
        msg[self.in_port_at..self.in_port_at + 4].copy_from_slice(&in_port.to_be_bytes());
        msg[self.out_port_at..self.out_port_at + 4].copy_from_slice(&out_port.to_be_bytes());
        if let (Some(dst), Some(src)) = (frame.get(0..6), frame.get(6..12)) {
            msg[self.dst_at..self.dst_at + 6].copy_from_slice(dst);
            msg[self.src_at..self.src_at + 6].copy_from_slice(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgeflow_proto::packet::{PacketSummary, L3};

    #[test]
    fn patched_packet_in_decodes_to_the_patched_fields() {
        let mut t = PacketInTemplate::new();
        let (src, dst) = (Host::new(7, 1), Host::new(7, 2));
        let tag = Tag { switch: 7, seq: 41 };
        let bytes = t.patch(99, 3, src, dst, tag).to_vec();
        let msg = OfpMsg::parse(&bytes).unwrap();
        assert_eq!(msg.xid, 99);
        let Message::PacketIn(pi) = msg.body else {
            panic!("not a PACKET_IN")
        };
        assert_eq!(pi.in_port(), Some(3));
        let pkt = PacketSummary::parse(&pi.data).unwrap();
        assert_eq!((pkt.eth.src, pkt.eth.dst), (src.mac, dst.mac));
        assert!(matches!(pkt.l3, L3::Ipv4 { src: s, dst: d, .. } if s == src.ip && d == dst.ip));
        assert!(Ipv4Repr::checksum_ok(&pi.data[ETHERNET_HEADER_LEN..]));
        assert_eq!(Tag::read(&pi.data), Some(tag));
        assert_eq!(packet_in_data(&bytes), Some((3, &pi.data[..])));
    }

    #[test]
    fn repatching_leaves_no_trace_of_the_previous_packet() {
        let mut t = PacketInTemplate::new();
        t.patch(
            1,
            5,
            Host::new(1, 4),
            Host::new(1, 9),
            Tag { switch: 1, seq: 1 },
        );
        let again = t
            .patch(
                2,
                2,
                Host::new(3, 1),
                Host::new(3, 2),
                Tag { switch: 3, seq: 2 },
            )
            .to_vec();
        let mut fresh = PacketInTemplate::new();
        let expect = fresh.patch(
            2,
            2,
            Host::new(3, 1),
            Host::new(3, 2),
            Tag { switch: 3, seq: 2 },
        );
        assert_eq!(again, expect);
    }

    #[test]
    fn packet_out_view_finds_the_frame_the_codec_encoded() {
        let frame: Vec<u8> = (0..FRAME_LEN as u8).collect();
        let msg = OfpMsg::new(
            5,
            Message::PacketOut(PacketOut {
                buffer_id: ofp::NO_BUFFER,
                in_port: ofp::port::CONTROLLER,
                actions: vec![
                    Action::Output {
                        port: 2,
                        max_len: 0,
                    },
                    Action::Output {
                        port: 3,
                        max_len: 0,
                    },
                ],
                data: frame.clone(),
            }),
        )
        .to_vec();
        assert_eq!(packet_out_data(&msg), Some(&frame[..]));
        assert_eq!(packet_out_data(&msg[..20]), None);
    }

    #[test]
    fn ceiling_packet_out_decodes_with_the_frame_and_port() {
        let t = PacketOutTemplate::new();
        let mut out = vec![0xaa];
        let frame = [7u8; FRAME_LEN];
        t.append(&mut out, 12, 4, &frame);
        let msg = OfpMsg::parse(&out[1..]).unwrap();
        assert_eq!(msg.xid, 12);
        let Message::PacketOut(po) = msg.body else {
            panic!("not a PACKET_OUT")
        };
        assert_eq!(
            po.actions,
            vec![Action::Output {
                port: 4,
                max_len: 0
            }]
        );
        assert_eq!(po.data, frame);
    }

    #[test]
    fn frames_of_other_origin_carry_no_tag() {
        let lldp = [0u8; FRAME_LEN];
        assert_eq!(Tag::read(&lldp), None);
        assert_eq!(Tag::read(&[0u8; 10]), None);
    }

    #[test]
    fn ceiling_flow_mod_matches_the_frame_and_outputs_to_the_port() {
        let t = FlowModTemplate::new();
        let mut out = vec![0xaa];
        let (src, dst) = (Host::new(7, 1), Host::new(7, 2));
        let mut frame = [0u8; FRAME_LEN];
        frame[0..6].copy_from_slice(&dst.mac.0);
        frame[6..12].copy_from_slice(&src.mac.0);
        t.append(&mut out, 12, 4, 9, &frame);
        let msg = OfpMsg::parse(&out[1..]).unwrap();
        assert_eq!(msg.xid, 12);
        let Message::FlowMod(fm) = msg.body else {
            panic!("not a FLOW_MOD")
        };
        assert_eq!(
            fm.match_.fields,
            vec![
                Oxm::InPort(4),
                Oxm::EthSrc(src.mac, None),
                Oxm::EthDst(dst.mac, None)
            ]
        );
        assert_eq!(
            fm.instructions,
            vec![Instruction::ApplyActions(vec![Action::Output {
                port: 9,
                max_len: 0
            }])]
        );
    }
}
