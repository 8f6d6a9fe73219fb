//! Instructions (OF1.3 §7.2.4); lengths are multiples of 8.

use super::action::Action;
use super::wire::{
    emit_into, hex, list_len, pad8, parse_item, parse_list, write_list, Reader, Result, TlvItem,
    Writer,
};
use super::DecodeError;

/// OFPIT_* instruction type numbers.
pub mod typ {
    /// Go to a later table.
    pub const GOTO_TABLE: u16 = 1;
    /// Write metadata under a mask.
    pub const WRITE_METADATA: u16 = 2;
    /// Merge actions into the action set.
    pub const WRITE_ACTIONS: u16 = 3;
    /// Apply actions immediately.
    pub const APPLY_ACTIONS: u16 = 4;
    /// Clear the action set.
    pub const CLEAR_ACTIONS: u16 = 5;
    /// Apply a meter.
    pub const METER: u16 = 6;
    /// Experimenter instruction.
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Instruction {
    /// Continue in this table.
    GotoTable(u8),
    /// Write metadata under a mask.
    WriteMetadata {
        /// Metadata value.
        metadata: u64,
        /// Bits of metadata to write.
        mask: u64,
    },
    /// Merge these actions into the action set.
    WriteActions(Vec<Action>),
    /// Apply these actions now.
    ApplyActions(Vec<Action>),
    /// Clear the action set.
    ClearActions,
    /// Apply this meter.
    Meter(u32),
    /// Experimenter instruction with raw data after the experimenter id.
    Experimenter {
        /// Experimenter id.
        experimenter: u32,
        /// Raw bytes after the experimenter id.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
    /// Unknown instruction type with raw data after the 4-byte header.
    Unknown {
        /// Instruction type.
        typ: u16,
        /// Raw bytes after type and length.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

impl Instruction {
    /// The OFPIT_* type number.
    pub fn typ(&self) -> u16 {
        use Instruction::*;
        match self {
            GotoTable(_) => typ::GOTO_TABLE,
            WriteMetadata { .. } => typ::WRITE_METADATA,
            WriteActions(_) => typ::WRITE_ACTIONS,
            ApplyActions(_) => typ::APPLY_ACTIONS,
            ClearActions => typ::CLEAR_ACTIONS,
            Meter(_) => typ::METER,
            Experimenter { .. } => typ::EXPERIMENTER,
            Unknown { typ, .. } => *typ,
        }
    }

    /// Encoded length (a multiple of 8).
    pub fn buffer_len(&self) -> usize {
        use Instruction::*;
        match self {
            GotoTable(_) | ClearActions | Meter(_) => 8,
            WriteMetadata { .. } => 24,
            WriteActions(a) | ApplyActions(a) => 8 + list_len(a),
            Experimenter { data, .. } => pad8(8 + data.len()),
            Unknown { data, .. } => pad8(4 + data.len()),
        }
    }

    /// Parses one instruction from the front of `buf`, returning it and the rest.
    pub fn parse(buf: &[u8]) -> Result<(Instruction, &[u8])> {
        parse_item(buf)
    }

    /// Writes the instruction into `buf[..buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        emit_into(buf, |w| self.write(w));
    }
}

impl TlvItem for Instruction {
    const ERROR: DecodeError = DecodeError::BadInstruction;

    fn typ(&self) -> u16 {
        Instruction::typ(self)
    }

    fn buffer_len(&self) -> usize {
        Instruction::buffer_len(self)
    }

    fn from_body(t: u16, body: &[u8]) -> Result<Instruction> {
        let mut r = Reader::new(body);
        let fixed = |n: usize| Self::fixed_len(body, n);
        Ok(match t {
            typ::GOTO_TABLE => fixed(8).and_then(|_| r.u8()).map(Instruction::GotoTable)?,
            typ::WRITE_METADATA => {
                fixed(24)?;
                r.skip(4)?;
                let metadata = r.u64()?;
                let mask = r.u64()?;
                Instruction::WriteMetadata { metadata, mask }
            }
            typ::WRITE_ACTIONS => Instruction::WriteActions(parse_list(&body[4..])?),
            typ::APPLY_ACTIONS => Instruction::ApplyActions(parse_list(&body[4..])?),
            typ::CLEAR_ACTIONS => fixed(8).map(|_| Instruction::ClearActions)?,
            typ::METER => fixed(8).and_then(|_| r.u32()).map(Instruction::Meter)?,
            typ::EXPERIMENTER => {
                let experimenter = r.u32()?;
                Instruction::Experimenter {
                    experimenter,
                    data: r.rest().to_vec(),
                }
            }
            other => Instruction::Unknown {
                typ: other,
                data: body.to_vec(),
            },
        })
    }

    fn write_body(&self, w: &mut Writer) {
        use Instruction::*;
        match self {
            GotoTable(t) => w.u8(*t),
            WriteMetadata { metadata, mask } => {
                w.zeros(4);
                w.u64(*metadata);
                w.u64(*mask);
            }
            WriteActions(a) | ApplyActions(a) => {
                w.zeros(4);
                write_list(a, w);
            }
            Meter(m) => w.u32(*m),
            Experimenter { experimenter, data } => {
                w.u32(*experimenter);
                w.put(data);
            }
            Unknown { data, .. } => w.put(data),
            ClearActions => {}
        }
    }
}
