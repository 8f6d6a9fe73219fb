//! OFPT_MULTIPART_REQUEST / OFPT_MULTIPART_REPLY.

use super::oxm::Match;
use super::ports::{read_ports, Port};
use super::stats::*;
use super::wire::{hex, Reader, Result, Writer};
use super::DecodeError;

/// OFPMP_* multipart type numbers.
pub mod mp_type {
    /// Switch description.
    pub const DESC: u16 = 0;
    /// Individual flow statistics.
    pub const FLOW: u16 = 1;
    /// Aggregate flow statistics.
    pub const AGGREGATE: u16 = 2;
    /// Flow table statistics.
    pub const TABLE: u16 = 3;
    /// Port statistics.
    pub const PORT_STATS: u16 = 4;
    /// Queue statistics.
    pub const QUEUE: u16 = 5;
    /// Group counter statistics.
    pub const GROUP: u16 = 6;
    /// Group description.
    pub const GROUP_DESC: u16 = 7;
    /// Group features.
    pub const GROUP_FEATURES: u16 = 8;
    /// Meter statistics.
    pub const METER: u16 = 9;
    /// Meter configuration.
    pub const METER_CONFIG: u16 = 10;
    /// Meter features.
    pub const METER_FEATURES: u16 = 11;
    /// Table features.
    pub const TABLE_FEATURES: u16 = 12;
    /// Port description.
    pub const PORT_DESC: u16 = 13;
    /// Experimenter extension.
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE: more messages follow.
pub const OFPMPF_MORE: u16 = 1;

/// Length of the multipart header after the OpenFlow header.
const MP_HEADER_LEN: usize = 8;

/// The multipart header (type, flags, 4 pad bytes) around a typed body; the
/// same code for requests and replies, which differ only in their body enum.
macro_rules! multipart_message {
    ($msg:ident, $body:ident, $new_doc:literal) => {
        impl $msg {
            #[doc = $new_doc]
            pub fn new(body: $body) -> $msg {
                $msg { flags: 0, body }
            }

            /// Encoded body length (after the OpenFlow header).
            pub fn buffer_len(&self) -> usize {
                MP_HEADER_LEN + self.body.buffer_len()
            }

            pub(crate) fn read(r: &mut Reader) -> Result<Self> {
                let typ = r.u16()?;
                let flags = r.u16()?;
                r.skip(4)?;
                let body = $body::read(typ, r).map_err(|e| bad_body(typ, e))?;
                Ok($msg { flags, body })
            }

            pub(crate) fn write(&self, w: &mut Writer) {
                w.u16(self.body.typ());
                w.u16(self.flags);
                w.zeros(4);
                self.body.write(w);
            }
        }
    };
}

/// `ofp_flow_stats_request` (also used for aggregate requests).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowStatsRequest {
    /// Table id or `table::ALL`.
    pub table_id: u8,
    /// Output port filter or `port::ANY`.
    pub out_port: u32,
    /// Output group filter or `group::ANY`.
    pub out_group: u32,
    /// Cookie filter.
    pub cookie: u64,
    /// Cookie mask (0 = no restriction).
    pub cookie_mask: u64,
    /// Match filter.
    pub match_: Match,
}

impl FlowStatsRequest {
    /// A request for every flow in every table.
    pub fn all() -> FlowStatsRequest {
        FlowStatsRequest {
            table_id: super::table::ALL,
            out_port: super::port::ANY,
            out_group: super::group::ANY,
            cookie: 0,
            cookie_mask: 0,
            match_: Match::new(),
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        32 + self.match_.buffer_len()
    }

    fn read(r: &mut Reader) -> Result<Self> {
        let table_id = r.u8()?;
        r.skip(3)?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        r.skip(4)?;
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let match_ = Match::read(r)?;
        r.finish()?;
        Ok(FlowStatsRequest {
            table_id,
            out_port,
            out_group,
            cookie,
            cookie_mask,
            match_,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u8(self.table_id);
        w.zeros(3);
        w.u32(self.out_port);
        w.u32(self.out_group);
        w.zeros(4);
        w.u64(self.cookie);
        w.u64(self.cookie_mask);
        self.match_.write(w);
    }
}

/// OFPT_MULTIPART_REQUEST.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MultipartRequest {
    /// OFPMPF_REQ_* flags.
    pub flags: u16,
    /// The typed request body.
    pub body: MultipartRequestBody,
}

/// The body of a multipart request, by type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum MultipartRequestBody {
    /// Switch description.
    Desc,
    /// Individual flow statistics.
    Flow(FlowStatsRequest),
    /// Aggregate flow statistics.
    Aggregate(FlowStatsRequest),
    /// Flow table statistics.
    Table,
    /// Port statistics for one port or `port::ANY`.
    PortStats {
        /// Port number.
        port_no: u32,
    },
    /// Queue statistics.
    Queue {
        /// Port number or `port::ANY`.
        port_no: u32,
        /// Queue id or OFPQ_ALL.
        queue_id: u32,
    },
    /// Group statistics.
    Group {
        /// Group id or `group::ALL`.
        group_id: u32,
    },
    /// Group descriptions.
    GroupDesc,
    /// Group features.
    GroupFeatures,
    /// Meter statistics.
    Meter {
        /// Meter id or OFPM_ALL.
        meter_id: u32,
    },
    /// Meter configuration.
    MeterConfig {
        /// Meter id or OFPM_ALL.
        meter_id: u32,
    },
    /// Meter features.
    MeterFeatures,
    /// Table features (empty to query, non-empty to set).
    TableFeatures(Vec<TableFeatures>),
    /// Port descriptions.
    PortDesc,
    /// Experimenter request.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter-defined type.
        exp_type: u32,
        /// Raw payload.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
    /// Unknown multipart type, raw.
    Unknown {
        /// Multipart type.
        typ: u16,
        /// Raw body.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

/// Reads a (u32, pad 4) request body.
fn read_id_pad(r: &mut Reader) -> Result<u32> {
    let id = r.u32()?;
    r.skip(4)?;
    Ok(id)
}

impl MultipartRequestBody {
    /// The OFPMP_* type number.
    pub fn typ(&self) -> u16 {
        use MultipartRequestBody::*;
        match self {
            Desc => mp_type::DESC,
            Flow(_) => mp_type::FLOW,
            Aggregate(_) => mp_type::AGGREGATE,
            Table => mp_type::TABLE,
            PortStats { .. } => mp_type::PORT_STATS,
            Queue { .. } => mp_type::QUEUE,
            Group { .. } => mp_type::GROUP,
            GroupDesc => mp_type::GROUP_DESC,
            GroupFeatures => mp_type::GROUP_FEATURES,
            Meter { .. } => mp_type::METER,
            MeterConfig { .. } => mp_type::METER_CONFIG,
            MeterFeatures => mp_type::METER_FEATURES,
            TableFeatures(_) => mp_type::TABLE_FEATURES,
            PortDesc => mp_type::PORT_DESC,
            Experimenter { .. } => mp_type::EXPERIMENTER,
            Unknown { typ, .. } => *typ,
        }
    }

    fn buffer_len(&self) -> usize {
        use MultipartRequestBody::*;
        match self {
            Desc | Table | GroupDesc | GroupFeatures | MeterFeatures | PortDesc => 0,
            Flow(f) | Aggregate(f) => f.buffer_len(),
            PortStats { .. } | Queue { .. } | Group { .. } | Meter { .. } | MeterConfig { .. } => 8,
            TableFeatures(t) => t.iter().map(super::TableFeatures::buffer_len).sum(),
            Experimenter { data, .. } => 8 + data.len(),
            Unknown { data, .. } => data.len(),
        }
    }

    fn read(typ: u16, r: &mut Reader) -> Result<Self> {
        use MultipartRequestBody as B;
        let body = match typ {
            mp_type::DESC => B::Desc,
            mp_type::FLOW => B::Flow(FlowStatsRequest::read(r)?),
            mp_type::AGGREGATE => B::Aggregate(FlowStatsRequest::read(r)?),
            mp_type::TABLE => B::Table,
            mp_type::PORT_STATS => B::PortStats {
                port_no: read_id_pad(r)?,
            },
            mp_type::QUEUE => B::Queue {
                port_no: r.u32()?,
                queue_id: r.u32()?,
            },
            mp_type::GROUP => B::Group {
                group_id: read_id_pad(r)?,
            },
            mp_type::GROUP_DESC => B::GroupDesc,
            mp_type::GROUP_FEATURES => B::GroupFeatures,
            mp_type::METER => B::Meter {
                meter_id: read_id_pad(r)?,
            },
            mp_type::METER_CONFIG => B::MeterConfig {
                meter_id: read_id_pad(r)?,
            },
            mp_type::METER_FEATURES => B::MeterFeatures,
            mp_type::TABLE_FEATURES => B::TableFeatures(read_all(r, TableFeatures::read)?),
            mp_type::PORT_DESC => B::PortDesc,
            mp_type::EXPERIMENTER => B::Experimenter {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest().to_vec(),
            },
            other => B::Unknown {
                typ: other,
                data: r.rest().to_vec(),
            },
        };
        r.finish()?;
        Ok(body)
    }

    fn write(&self, w: &mut Writer) {
        use MultipartRequestBody::*;
        match self {
            Desc | Table | GroupDesc | GroupFeatures | MeterFeatures | PortDesc => {}
            Flow(f) | Aggregate(f) => f.write(w),
            PortStats { port_no: id }
            | Group { group_id: id }
            | Meter { meter_id: id }
            | MeterConfig { meter_id: id } => {
                w.u32(*id);
                w.zeros(4);
            }
            Queue { port_no, queue_id } => {
                w.u32(*port_no);
                w.u32(*queue_id);
            }
            TableFeatures(t) => t.iter().for_each(|f| f.write(w)),
            Experimenter {
                experimenter,
                exp_type,
                data,
            } => {
                w.u32(*experimenter);
                w.u32(*exp_type);
                w.put(data);
            }
            Unknown { data, .. } => w.put(data),
        }
    }
}

multipart_message!(
    MultipartRequest,
    MultipartRequestBody,
    "A request with no flags."
);

/// Length problems inside a multipart body report the multipart type.
fn bad_body(typ: u16, e: DecodeError) -> DecodeError {
    match e {
        DecodeError::Truncated | DecodeError::BadLength | DecodeError::TrailingBytes => {
            DecodeError::BadMultipart(typ)
        }
        other => other,
    }
}

/// OFPT_MULTIPART_REPLY.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MultipartReply {
    /// OFPMPF_REPLY_* flags.
    pub flags: u16,
    /// The typed reply body.
    pub body: MultipartReplyBody,
}

/// The body of a multipart reply, by type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum MultipartReplyBody {
    /// Switch description (boxed: five strings would make every message
    /// larger, and messages are moved on the PACKET_IN path).
    Desc(Box<Desc>),
    /// Flow statistics.
    Flow(Vec<FlowStats>),
    /// Aggregate flow statistics.
    Aggregate(AggregateStats),
    /// Table statistics.
    Table(Vec<TableStats>),
    /// Port statistics.
    PortStats(Vec<PortStats>),
    /// Queue statistics.
    Queue(Vec<QueueStats>),
    /// Group statistics.
    Group(Vec<GroupStats>),
    /// Group descriptions.
    GroupDesc(Vec<GroupDesc>),
    /// Group features.
    GroupFeatures(GroupFeatures),
    /// Meter statistics.
    Meter(Vec<MeterStats>),
    /// Meter configurations.
    MeterConfig(Vec<MeterConfig>),
    /// Meter features.
    MeterFeatures(MeterFeatures),
    /// Table features.
    TableFeatures(Vec<TableFeatures>),
    /// Port descriptions.
    PortDesc(Vec<Port>),
    /// Experimenter reply.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Experimenter-defined type.
        exp_type: u32,
        /// Raw payload.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
    /// Unknown multipart type, raw.
    Unknown {
        /// Multipart type.
        typ: u16,
        /// Raw body.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

fn read_fixed<'a, T>(
    r: &mut Reader<'a>,
    len: usize,
    f: impl FnMut(&mut Reader<'a>) -> Result<T>,
) -> Result<Vec<T>> {
    if !r.remaining().is_multiple_of(len) {
        return Err(DecodeError::BadLength);
    }
    read_all(r, f)
}

impl MultipartReplyBody {
    /// The OFPMP_* type number.
    pub fn typ(&self) -> u16 {
        use MultipartReplyBody::*;
        match self {
            Desc(_) => mp_type::DESC,
            Flow(_) => mp_type::FLOW,
            Aggregate(_) => mp_type::AGGREGATE,
            Table(_) => mp_type::TABLE,
            PortStats(_) => mp_type::PORT_STATS,
            Queue(_) => mp_type::QUEUE,
            Group(_) => mp_type::GROUP,
            GroupDesc(_) => mp_type::GROUP_DESC,
            GroupFeatures(_) => mp_type::GROUP_FEATURES,
            Meter(_) => mp_type::METER,
            MeterConfig(_) => mp_type::METER_CONFIG,
            MeterFeatures(_) => mp_type::METER_FEATURES,
            TableFeatures(_) => mp_type::TABLE_FEATURES,
            PortDesc(_) => mp_type::PORT_DESC,
            Experimenter { .. } => mp_type::EXPERIMENTER,
            Unknown { typ, .. } => *typ,
        }
    }

    fn buffer_len(&self) -> usize {
        use MultipartReplyBody::*;
        match self {
            Desc(_) => super::Desc::LEN,
            Flow(v) => v.iter().map(FlowStats::buffer_len).sum(),
            Aggregate(_) => AggregateStats::LEN,
            Table(v) => v.len() * TableStats::LEN,
            PortStats(v) => v.len() * super::PortStats::LEN,
            Queue(v) => v.len() * QueueStats::LEN,
            Group(v) => v.iter().map(GroupStats::buffer_len).sum(),
            GroupDesc(v) => v.iter().map(super::GroupDesc::buffer_len).sum(),
            GroupFeatures(_) => super::GroupFeatures::LEN,
            Meter(v) => v.iter().map(MeterStats::buffer_len).sum(),
            MeterConfig(v) => v.iter().map(super::MeterConfig::buffer_len).sum(),
            MeterFeatures(_) => super::MeterFeatures::LEN,
            TableFeatures(v) => v.iter().map(super::TableFeatures::buffer_len).sum(),
            PortDesc(v) => v.len() * Port::LEN,
            Experimenter { data, .. } => 8 + data.len(),
            Unknown { data, .. } => data.len(),
        }
    }

    fn read(typ: u16, r: &mut Reader) -> Result<Self> {
        use MultipartReplyBody as B;
        let body = match typ {
            mp_type::DESC => B::Desc(Box::new(Desc::read(r)?)),
            mp_type::FLOW => B::Flow(read_all(r, FlowStats::read)?),
            mp_type::AGGREGATE => B::Aggregate(AggregateStats::read(r)?),
            mp_type::TABLE => B::Table(read_fixed(r, TableStats::LEN, TableStats::read)?),
            mp_type::PORT_STATS => B::PortStats(read_fixed(r, PortStats::LEN, PortStats::read)?),
            mp_type::QUEUE => B::Queue(read_fixed(r, QueueStats::LEN, QueueStats::read)?),
            mp_type::GROUP => B::Group(read_all(r, GroupStats::read)?),
            mp_type::GROUP_DESC => B::GroupDesc(read_all(r, GroupDesc::read)?),
            mp_type::GROUP_FEATURES => B::GroupFeatures(GroupFeatures::read(r)?),
            mp_type::METER => B::Meter(read_all(r, MeterStats::read)?),
            mp_type::METER_CONFIG => B::MeterConfig(read_all(r, MeterConfig::read)?),
            mp_type::METER_FEATURES => B::MeterFeatures(MeterFeatures::read(r)?),
            mp_type::TABLE_FEATURES => B::TableFeatures(read_all(r, TableFeatures::read)?),
            mp_type::PORT_DESC => B::PortDesc(read_ports(r)?),
            mp_type::EXPERIMENTER => B::Experimenter {
                experimenter: r.u32()?,
                exp_type: r.u32()?,
                data: r.rest().to_vec(),
            },
            other => B::Unknown {
                typ: other,
                data: r.rest().to_vec(),
            },
        };
        r.finish()?;
        Ok(body)
    }

    fn write(&self, w: &mut Writer) {
        use MultipartReplyBody::*;
        match self {
            Desc(d) => d.write(w),
            Flow(v) => v.iter().for_each(|x| x.write(w)),
            Aggregate(a) => a.write(w),
            Table(v) => v.iter().for_each(|x| x.write(w)),
            PortStats(v) => v.iter().for_each(|x| x.write(w)),
            Queue(v) => v.iter().for_each(|x| x.write(w)),
            Group(v) => v.iter().for_each(|x| x.write(w)),
            GroupDesc(v) => v.iter().for_each(|x| x.write(w)),
            GroupFeatures(g) => g.write(w),
            Meter(v) => v.iter().for_each(|x| x.write(w)),
            MeterConfig(v) => v.iter().for_each(|x| x.write(w)),
            MeterFeatures(m) => m.write(w),
            TableFeatures(v) => v.iter().for_each(|x| x.write(w)),
            PortDesc(v) => v.iter().for_each(|x| x.write(w)),
            Experimenter {
                experimenter,
                exp_type,
                data,
            } => {
                w.u32(*experimenter);
                w.u32(*exp_type);
                w.put(data);
            }
            Unknown { data, .. } => w.put(data),
        }
    }
}

multipart_message!(MultipartReply, MultipartReplyBody, "A reply with no flags.");
