//! Queue configuration: OFPT_QUEUE_GET_CONFIG_REQUEST / _REPLY.

use super::stats::{read_all, record};
use super::wire::{hex, split_tlvs, Reader, Result, TlvAlign, Writer};
use super::DecodeError;

/// OFPT_QUEUE_GET_CONFIG_REQUEST body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct QueueGetConfigRequest {
    /// Port to query (`port::ANY` for all).
    pub port: u32,
}

impl QueueGetConfigRequest {
    /// Encoded body length.
    pub const LEN: usize = 8;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let port = r.u32()?;
        r.skip(4)?;
        Ok(QueueGetConfigRequest { port })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.port);
        w.zeros(4);
    }
}

/// A queue property (`ofp_queue_prop_*`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum QueueProp {
    /// Minimum rate in 1/10 of a percent.
    MinRate(u16),
    /// Maximum rate in 1/10 of a percent.
    MaxRate(u16),
    /// Experimenter property; `data` follows experimenter id and padding.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Raw payload.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
    /// Unknown property, raw bytes after the 8-byte property header.
    Unknown {
        /// Property type.
        typ: u16,
        /// Raw payload.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

const OFPQT_MIN_RATE: u16 = 1;
const OFPQT_MAX_RATE: u16 = 2;
const OFPQT_EXPERIMENTER: u16 = 0xffff;

impl QueueProp {
    fn typ(&self) -> u16 {
        match self {
            QueueProp::MinRate(_) => OFPQT_MIN_RATE,
            QueueProp::MaxRate(_) => OFPQT_MAX_RATE,
            QueueProp::Experimenter { .. } => OFPQT_EXPERIMENTER,
            QueueProp::Unknown { typ, .. } => *typ,
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        match self {
            QueueProp::MinRate(_) | QueueProp::MaxRate(_) => 16,
            QueueProp::Experimenter { data, .. } => 16 + data.len(),
            QueueProp::Unknown { data, .. } => 8 + data.len(),
        }
    }

    fn from_body(typ: u16, body: &[u8]) -> Result<QueueProp> {
        // body starts after type/len: 4 bytes of header padding first.
        let mut r = Reader::new(body);
        r.skip(4)?;
        let prop = match typ {
            OFPQT_MIN_RATE | OFPQT_MAX_RATE => {
                if body.len() != 12 {
                    return Err(DecodeError::BadLength);
                }
                let rate = r.u16()?;
                if typ == OFPQT_MIN_RATE {
                    QueueProp::MinRate(rate)
                } else {
                    QueueProp::MaxRate(rate)
                }
            }
            OFPQT_EXPERIMENTER => {
                let experimenter = r.u32()?;
                r.skip(4)?;
                QueueProp::Experimenter {
                    experimenter,
                    data: r.rest().to_vec(),
                }
            }
            other => QueueProp::Unknown {
                typ: other,
                data: r.rest().to_vec(),
            },
        };
        Ok(prop)
    }

    fn write(&self, w: &mut Writer) {
        w.u16(self.typ());
        w.u16(self.buffer_len() as u16);
        w.zeros(4);
        match self {
            QueueProp::MinRate(rate) | QueueProp::MaxRate(rate) => {
                w.u16(*rate);
                w.zeros(6);
            }
            QueueProp::Experimenter { experimenter, data } => {
                w.u32(*experimenter);
                w.zeros(4);
                w.put(data);
            }
            QueueProp::Unknown { data, .. } => w.put(data),
        }
    }
}

/// `ofp_packet_queue`: one queue and its properties.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PacketQueue {
    /// Queue id.
    pub queue_id: u32,
    /// Port this queue is attached to.
    pub port: u32,
    /// Properties.
    pub properties: Vec<QueueProp>,
}

impl PacketQueue {
    const HEADER_LEN: usize = 16;

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN
            + self
                .properties
                .iter()
                .map(QueueProp::buffer_len)
                .sum::<usize>()
    }

    fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 8, Self::HEADER_LEN)?;
        let queue_id = r.u32()?;
        let port = r.u32()?;
        r.skip(8)?;
        let properties = split_tlvs(r.rest(), 8, TlvAlign::Unaligned)?
            .iter()
            .map(|t| QueueProp::from_body(t.typ, t.body()))
            .collect::<Result<Vec<_>>>()?;
        Ok(PacketQueue {
            queue_id,
            port,
            properties,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u32(self.queue_id);
        w.u32(self.port);
        w.u16(self.buffer_len() as u16);
        w.zeros(6);
        for p in &self.properties {
            p.write(w);
        }
    }
}

/// OFPT_QUEUE_GET_CONFIG_REPLY body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueGetConfigReply {
    /// Port that was queried.
    pub port: u32,
    /// Its queues.
    pub queues: Vec<PacketQueue>,
}

impl QueueGetConfigReply {
    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        8 + self
            .queues
            .iter()
            .map(PacketQueue::buffer_len)
            .sum::<usize>()
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let port = r.u32()?;
        r.skip(4)?;
        Ok(QueueGetConfigReply {
            port,
            queues: read_all(r, PacketQueue::read)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.port);
        w.zeros(4);
        for q in &self.queues {
            q.write(w);
        }
    }
}
