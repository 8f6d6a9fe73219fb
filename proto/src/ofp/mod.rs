//! OpenFlow 1.3 messages.
//!
//! Every message is a plain struct (smoltcp's `Repr` pattern) with a checked
//! parse and an `emit` that computes every length field itself.
//!
//! Contract: parsing checks lengths before every read, so it never panics on
//! any input; it rejects length fields below their minimum or beyond the
//! buffer, and trailing bytes where the spec has none. `emit` into a buffer
//! of at least `buffer_len()` bytes never panics. Unknown enum values,
//! unknown TLVs and experimenter parts keep their raw bytes and round-trip.
//! Encodings longer than 65535 bytes do not fit a u16 length field; callers
//! keep messages (e.g. PACKET_OUT data) under that limit.

#![warn(missing_docs)]

mod action;
mod error;
mod flow;
mod groups;
mod hello;
mod instruction;
mod meter;
mod multipart;
mod oxm;
mod ports;
mod queue;
mod stats;
mod switch;
mod wire;

pub use action::{typ as action_type, Action};
pub use error::{bad_action, bad_request, group_mod_failed, DecodeError, ErrorMsg, ErrorType};
pub use flow::{
    flow_flags, FlowMod, FlowModCommand, FlowRemoved, FlowRemovedReason, PacketIn, PacketInReason,
    PacketOut,
};
pub use groups::{group, Bucket, GroupMod, GroupModCommand, GroupType};
pub use hello::{Hello, HelloElem, OFPHET_VERSIONBITMAP};
pub use instruction::{typ as instruction_type, Instruction};
pub use meter::{band_type, meter_flags, MeterBand, MeterMod, MeterModCommand};
pub use multipart::{
    mp_type, FlowStatsRequest, MultipartReply, MultipartReplyBody, MultipartRequest,
    MultipartRequestBody, OFPMPF_MORE,
};
pub use oxm::{
    Match, Oxm, OxmFieldInfo, OFPMT_OXM, OFPVID_PRESENT, OFPXMC_EXPERIMENTER,
    OFPXMC_OPENFLOW_BASIC, OXM_FIELDS,
};
pub use ports::{port, Port, PortMod, PortReason, PortStatus, OFPPC_PORT_DOWN, OFPPS_LINK_DOWN};
pub use queue::{PacketQueue, QueueGetConfigReply, QueueGetConfigRequest, QueueProp};
pub use stats::{
    AggregateStats, Counter, Desc, FlowStats, GroupDesc, GroupFeatures, GroupStats, MeterConfig,
    MeterFeatures, MeterStats, PortStats, QueueStats, TableFeatures, TableStats,
};
pub use switch::{
    capabilities, AsyncConfig, ControllerRole, Experimenter, RoleMsg, SwitchConfig, SwitchFeatures,
    TableMod,
};

use wire::{hex, Fixed, Reader, Writer};

/// The OpenFlow version this codec speaks (1.3).
pub const OFP_VERSION: u8 = 4;
/// Length of `ofp_header`.
pub const HEADER_LEN: usize = 8;
/// Largest version byte the framer accepts (OpenFlow 1.5 is 6).
pub const MAX_FRAMED_VERSION: u8 = 6;
/// No buffered packet (`buffer_id`).
pub const NO_BUFFER: u32 = 0xffff_ffff;
/// `max_len` asking the switch to send the whole packet, unbuffered.
pub const CML_NO_BUFFER: u16 = 0xffff;

/// Reserved table numbers.
pub mod table {
    /// Last usable table number.
    pub const MAX: u8 = 0xfe;
    /// Wildcard table for flow deletes and stats requests.
    pub const ALL: u8 = 0xff;
}

/// Length of the first complete frame in `buf`: `Ok(None)` if more bytes are
/// needed. Accepts version bytes 1..=6 so HELLOs of other versions can be
/// framed and refused; rejects version 0 or >6 and lengths below 8.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(&version) = buf.first() else {
        return Ok(None);
    };
    if version == 0 || version > MAX_FRAMED_VERSION {
        return Err(DecodeError::BadVersion(version));
    }
    let Some(len) = buf.get(2..4) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if len < HEADER_LEN {
        return Err(DecodeError::BadLength);
    }
    Ok((buf.len() >= len).then_some(len))
}

/// OFPT_* message type numbers.
pub mod msg_type {
    #![allow(missing_docs)]
    pub const HELLO: u8 = 0;
    pub const ERROR: u8 = 1;
    pub const ECHO_REQUEST: u8 = 2;
    pub const ECHO_REPLY: u8 = 3;
    pub const EXPERIMENTER: u8 = 4;
    pub const FEATURES_REQUEST: u8 = 5;
    pub const FEATURES_REPLY: u8 = 6;
    pub const GET_CONFIG_REQUEST: u8 = 7;
    pub const GET_CONFIG_REPLY: u8 = 8;
    pub const SET_CONFIG: u8 = 9;
    pub const PACKET_IN: u8 = 10;
    pub const FLOW_REMOVED: u8 = 11;
    pub const PORT_STATUS: u8 = 12;
    pub const PACKET_OUT: u8 = 13;
    pub const FLOW_MOD: u8 = 14;
    pub const GROUP_MOD: u8 = 15;
    pub const PORT_MOD: u8 = 16;
    pub const TABLE_MOD: u8 = 17;
    pub const MULTIPART_REQUEST: u8 = 18;
    pub const MULTIPART_REPLY: u8 = 19;
    pub const BARRIER_REQUEST: u8 = 20;
    pub const BARRIER_REPLY: u8 = 21;
    pub const QUEUE_GET_CONFIG_REQUEST: u8 = 22;
    pub const QUEUE_GET_CONFIG_REPLY: u8 = 23;
    pub const ROLE_REQUEST: u8 = 24;
    pub const ROLE_REPLY: u8 = 25;
    pub const GET_ASYNC_REQUEST: u8 = 26;
    pub const GET_ASYNC_REPLY: u8 = 27;
    pub const SET_ASYNC: u8 = 28;
    pub const METER_MOD: u8 = 29;
}

/// One message: the xid plus its body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OfpMsg {
    /// Transaction id.
    pub xid: u32,
    /// The message.
    pub body: Message,
}

/// An OpenFlow 1.3 message body, by type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Message {
    /// OFPT_HELLO.
    Hello(Hello),
    /// OFPT_ERROR.
    Error(ErrorMsg),
    /// OFPT_ECHO_REQUEST with arbitrary payload.
    EchoRequest(#[serde(serialize_with = "hex::serialize")] Vec<u8>),
    /// OFPT_ECHO_REPLY with the request's payload.
    EchoReply(#[serde(serialize_with = "hex::serialize")] Vec<u8>),
    /// OFPT_EXPERIMENTER.
    Experimenter(Experimenter),
    /// OFPT_FEATURES_REQUEST.
    FeaturesRequest,
    /// OFPT_FEATURES_REPLY.
    FeaturesReply(SwitchFeatures),
    /// OFPT_GET_CONFIG_REQUEST.
    GetConfigRequest,
    /// OFPT_GET_CONFIG_REPLY.
    GetConfigReply(SwitchConfig),
    /// OFPT_SET_CONFIG.
    SetConfig(SwitchConfig),
    /// OFPT_PACKET_IN.
    PacketIn(PacketIn),
    /// OFPT_FLOW_REMOVED.
    FlowRemoved(FlowRemoved),
    /// OFPT_PORT_STATUS.
    PortStatus(PortStatus),
    /// OFPT_PACKET_OUT.
    PacketOut(PacketOut),
    /// OFPT_FLOW_MOD.
    FlowMod(FlowMod),
    /// OFPT_GROUP_MOD.
    GroupMod(GroupMod),
    /// OFPT_PORT_MOD.
    PortMod(PortMod),
    /// OFPT_TABLE_MOD.
    TableMod(TableMod),
    /// OFPT_MULTIPART_REQUEST.
    MultipartRequest(MultipartRequest),
    /// OFPT_MULTIPART_REPLY.
    MultipartReply(MultipartReply),
    /// OFPT_BARRIER_REQUEST.
    BarrierRequest,
    /// OFPT_BARRIER_REPLY.
    BarrierReply,
    /// OFPT_QUEUE_GET_CONFIG_REQUEST.
    QueueGetConfigRequest(QueueGetConfigRequest),
    /// OFPT_QUEUE_GET_CONFIG_REPLY.
    QueueGetConfigReply(QueueGetConfigReply),
    /// OFPT_ROLE_REQUEST.
    RoleRequest(RoleMsg),
    /// OFPT_ROLE_REPLY.
    RoleReply(RoleMsg),
    /// OFPT_GET_ASYNC_REQUEST.
    GetAsyncRequest,
    /// OFPT_GET_ASYNC_REPLY.
    GetAsyncReply(AsyncConfig),
    /// OFPT_SET_ASYNC.
    SetAsync(AsyncConfig),
    /// OFPT_METER_MOD.
    MeterMod(MeterMod),
}

impl Message {
    /// The OFPT_* type number.
    pub fn msg_type(&self) -> u8 {
        use msg_type as t;
        use Message::*;
        match self {
            Hello(_) => t::HELLO,
            Error(_) => t::ERROR,
            EchoRequest(_) => t::ECHO_REQUEST,
            EchoReply(_) => t::ECHO_REPLY,
            Experimenter(_) => t::EXPERIMENTER,
            FeaturesRequest => t::FEATURES_REQUEST,
            FeaturesReply(_) => t::FEATURES_REPLY,
            GetConfigRequest => t::GET_CONFIG_REQUEST,
            GetConfigReply(_) => t::GET_CONFIG_REPLY,
            SetConfig(_) => t::SET_CONFIG,
            PacketIn(_) => t::PACKET_IN,
            FlowRemoved(_) => t::FLOW_REMOVED,
            PortStatus(_) => t::PORT_STATUS,
            PacketOut(_) => t::PACKET_OUT,
            FlowMod(_) => t::FLOW_MOD,
            GroupMod(_) => t::GROUP_MOD,
            PortMod(_) => t::PORT_MOD,
            TableMod(_) => t::TABLE_MOD,
            MultipartRequest(_) => t::MULTIPART_REQUEST,
            MultipartReply(_) => t::MULTIPART_REPLY,
            BarrierRequest => t::BARRIER_REQUEST,
            BarrierReply => t::BARRIER_REPLY,
            QueueGetConfigRequest(_) => t::QUEUE_GET_CONFIG_REQUEST,
            QueueGetConfigReply(_) => t::QUEUE_GET_CONFIG_REPLY,
            RoleRequest(_) => t::ROLE_REQUEST,
            RoleReply(_) => t::ROLE_REPLY,
            GetAsyncRequest => t::GET_ASYNC_REQUEST,
            GetAsyncReply(_) => t::GET_ASYNC_REPLY,
            SetAsync(_) => t::SET_ASYNC,
            MeterMod(_) => t::METER_MOD,
        }
    }

    /// The OFPT_* name without prefix, e.g. "PACKET_IN", for logs.
    pub fn name(&self) -> &'static str {
        const NAMES: [&str; 30] = [
            "HELLO",
            "ERROR",
            "ECHO_REQUEST",
            "ECHO_REPLY",
            "EXPERIMENTER",
            "FEATURES_REQUEST",
            "FEATURES_REPLY",
            "GET_CONFIG_REQUEST",
            "GET_CONFIG_REPLY",
            "SET_CONFIG",
            "PACKET_IN",
            "FLOW_REMOVED",
            "PORT_STATUS",
            "PACKET_OUT",
            "FLOW_MOD",
            "GROUP_MOD",
            "PORT_MOD",
            "TABLE_MOD",
            "MULTIPART_REQUEST",
            "MULTIPART_REPLY",
            "BARRIER_REQUEST",
            "BARRIER_REPLY",
            "QUEUE_GET_CONFIG_REQUEST",
            "QUEUE_GET_CONFIG_REPLY",
            "ROLE_REQUEST",
            "ROLE_REPLY",
            "GET_ASYNC_REQUEST",
            "GET_ASYNC_REPLY",
            "SET_ASYNC",
            "METER_MOD",
        ];
        NAMES
            .get(usize::from(self.msg_type()))
            .copied()
            .unwrap_or("UNKNOWN")
    }

    /// Encoded length of the body (after the 8-byte header).
    pub fn body_len(&self) -> usize {
        use Message::*;
        match self {
            Hello(h) => h.buffer_len(),
            Error(e) => e.buffer_len(),
            EchoRequest(d) | EchoReply(d) => d.len(),
            Experimenter(e) => e.buffer_len(),
            FeaturesRequest | GetConfigRequest | BarrierRequest | BarrierReply
            | GetAsyncRequest => 0,
            FeaturesReply(_) => SwitchFeatures::LEN,
            GetConfigReply(_) | SetConfig(_) => SwitchConfig::LEN,
            PacketIn(p) => p.buffer_len(),
            FlowRemoved(f) => f.buffer_len(),
            PortStatus(_) => self::PortStatus::LEN,
            PacketOut(p) => p.buffer_len(),
            FlowMod(f) => f.buffer_len(),
            GroupMod(g) => g.buffer_len(),
            PortMod(_) => self::PortMod::LEN,
            TableMod(_) => self::TableMod::LEN,
            MultipartRequest(m) => m.buffer_len(),
            MultipartReply(m) => m.buffer_len(),
            QueueGetConfigRequest(_) => self::QueueGetConfigRequest::LEN,
            QueueGetConfigReply(q) => q.buffer_len(),
            RoleRequest(_) | RoleReply(_) => RoleMsg::LEN,
            GetAsyncReply(_) | SetAsync(_) => AsyncConfig::LEN,
            MeterMod(m) => m.buffer_len(),
        }
    }

    fn read(typ: u8, version: u8, r: &mut Reader) -> Result<Message, DecodeError> {
        use msg_type as t;
        let m = match typ {
            t::HELLO => Message::Hello(Hello::read(version, r)?),
            t::ERROR => Message::Error(ErrorMsg::read(r)?),
            t::ECHO_REQUEST => Message::EchoRequest(r.rest().to_vec()),
            t::ECHO_REPLY => Message::EchoReply(r.rest().to_vec()),
            t::EXPERIMENTER => Message::Experimenter(Experimenter::read(r)?),
            t::FEATURES_REQUEST => Message::FeaturesRequest,
            t::FEATURES_REPLY => Message::FeaturesReply(SwitchFeatures::read(r)?),
            t::GET_CONFIG_REQUEST => Message::GetConfigRequest,
            t::GET_CONFIG_REPLY => Message::GetConfigReply(SwitchConfig::read(r)?),
            t::SET_CONFIG => Message::SetConfig(SwitchConfig::read(r)?),
            t::PACKET_IN => Message::PacketIn(PacketIn::read(r)?),
            t::FLOW_REMOVED => Message::FlowRemoved(FlowRemoved::read(r)?),
            t::PORT_STATUS => Message::PortStatus(PortStatus::read(r)?),
            t::PACKET_OUT => Message::PacketOut(PacketOut::read(r)?),
            t::FLOW_MOD => Message::FlowMod(FlowMod::read(r)?),
            t::GROUP_MOD => Message::GroupMod(GroupMod::read(r)?),
            t::PORT_MOD => Message::PortMod(PortMod::read(r)?),
            t::TABLE_MOD => Message::TableMod(TableMod::read(r)?),
            t::MULTIPART_REQUEST => Message::MultipartRequest(MultipartRequest::read(r)?),
            t::MULTIPART_REPLY => Message::MultipartReply(MultipartReply::read(r)?),
            t::BARRIER_REQUEST => Message::BarrierRequest,
            t::BARRIER_REPLY => Message::BarrierReply,
            t::QUEUE_GET_CONFIG_REQUEST => {
                Message::QueueGetConfigRequest(QueueGetConfigRequest::read(r)?)
            }
            t::QUEUE_GET_CONFIG_REPLY => {
                Message::QueueGetConfigReply(QueueGetConfigReply::read(r)?)
            }
            t::ROLE_REQUEST => Message::RoleRequest(RoleMsg::read(r)?),
            t::ROLE_REPLY => Message::RoleReply(RoleMsg::read(r)?),
            t::GET_ASYNC_REQUEST => Message::GetAsyncRequest,
            t::GET_ASYNC_REPLY => Message::GetAsyncReply(AsyncConfig::read(r)?),
            t::SET_ASYNC => Message::SetAsync(AsyncConfig::read(r)?),
            t::METER_MOD => Message::MeterMod(MeterMod::read(r)?),
            other => return Err(DecodeError::BadType(other)),
        };
        r.finish()?;
        Ok(m)
    }

    fn write(&self, w: &mut Writer) {
        use Message::*;
        match self {
            Hello(h) => h.write(w),
            Error(e) => e.write(w),
            EchoRequest(d) | EchoReply(d) => w.put(d),
            Experimenter(e) => e.write(w),
            FeaturesRequest | GetConfigRequest | BarrierRequest | BarrierReply
            | GetAsyncRequest => {}
            FeaturesReply(f) => f.write(w),
            GetConfigReply(c) | SetConfig(c) => c.write(w),
            PacketIn(p) => p.write(w),
            FlowRemoved(f) => f.write(w),
            PortStatus(p) => p.write(w),
            PacketOut(p) => p.write(w),
            FlowMod(f) => f.write(w),
            GroupMod(g) => g.write(w),
            PortMod(p) => p.write(w),
            TableMod(t) => t.write(w),
            MultipartRequest(m) => m.write(w),
            MultipartReply(m) => m.write(w),
            QueueGetConfigRequest(q) => q.write(w),
            QueueGetConfigReply(q) => q.write(w),
            RoleRequest(r) | RoleReply(r) => r.write(w),
            GetAsyncReply(a) | SetAsync(a) => a.write(w),
            MeterMod(m) => m.write(w),
        }
    }
}

impl OfpMsg {
    /// A message with this xid.
    pub fn new(xid: u32, body: Message) -> OfpMsg {
        OfpMsg { xid, body }
    }

    /// Parses exactly one frame: `buf.len()` must equal the header's length
    /// field. The version must be 4, except HELLO which parses at any version
    /// (`Hello.version` records it).
    pub fn parse(buf: &[u8]) -> Result<OfpMsg, DecodeError> {
        let mut r = Reader::new(buf);
        let version = r.u8()?;
        let typ = r.u8()?;
        let len = usize::from(r.u16()?);
        let xid = r.u32()?;
        if len < HEADER_LEN {
            return Err(DecodeError::BadLength);
        }
        if len > buf.len() {
            return Err(DecodeError::Truncated);
        }
        if len < buf.len() {
            return Err(DecodeError::TrailingBytes);
        }
        if version != OFP_VERSION && typ != msg_type::HELLO {
            return Err(DecodeError::BadVersion(version));
        }
        let body = Message::read(typ, version, &mut r)?;
        Ok(OfpMsg { xid, body })
    }

    /// The header's version byte: `Hello.version` for HELLO, else 4.
    pub fn version(&self) -> u8 {
        match &self.body {
            Message::Hello(h) => h.version,
            _ => OFP_VERSION,
        }
    }

    /// Encoded length including the header.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.body.body_len()
    }

    /// Writes the message into `buf[..buffer_len()]`, computing every length
    /// field. Panics only if `buf.len() < buffer_len()`.
    pub fn emit(&self, buf: &mut [u8]) {
        let mut b = bytes::BytesMut::with_capacity(buf.len());
        let len = self.emit_to(&mut b);
        buf[..len].copy_from_slice(&b);
    }

    /// The encoding as a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut b = bytes::BytesMut::new();
        self.emit_to(&mut b);
        Vec::from(b)
    }

    /// Appends the encoding to `out` in one pass (each length field is
    /// filled in once what it covers is written); returns its length.
    pub fn emit_to(&self, out: &mut bytes::BytesMut) -> usize {
        let start = out.len();
        let mut w = Writer::new(out);
        // The header; its length (at 2) is patched once the body is written.
        let mut header = Fixed::<8>::new();
        header
            .u8(self.version())
            .u8(self.body.msg_type())
            .zeros(2)
            .u32(self.xid);
        w.put(header.done());
        self.body.write(&mut w);
        w.patch_len16(start + 2, start);
        let written = w.pos() - start;
        debug_assert_eq!(
            written,
            self.buffer_len(),
            "buffer_len and emit disagree for {:?}",
            self.body.msg_type()
        );
        written
    }
}
