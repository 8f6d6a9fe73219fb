//! Actions (OF1.3 §7.2.5). Every action's length is a multiple of 8;
//! experimenter and unknown actions keep their raw bytes.

use super::oxm::Oxm;
use super::wire::{emit_into, hex, pad8, parse_item, Fixed, Reader, Result, TlvItem, Writer};
use super::DecodeError;

/// OFPAT_* action type numbers.
pub mod typ {
    /// Output to switch port.
    pub const OUTPUT: u16 = 0;
    /// Copy TTL outwards.
    pub const COPY_TTL_OUT: u16 = 11;
    /// Copy TTL inwards.
    pub const COPY_TTL_IN: u16 = 12;
    /// MPLS TTL.
    pub const SET_MPLS_TTL: u16 = 15;
    /// Decrement MPLS TTL.
    pub const DEC_MPLS_TTL: u16 = 16;
    /// Push a new VLAN tag.
    pub const PUSH_VLAN: u16 = 17;
    /// Pop the outer VLAN tag.
    pub const POP_VLAN: u16 = 18;
    /// Push a new MPLS tag.
    pub const PUSH_MPLS: u16 = 19;
    /// Pop the outer MPLS tag.
    pub const POP_MPLS: u16 = 20;
    /// Set queue id when outputting to a port.
    pub const SET_QUEUE: u16 = 21;
    /// Apply group.
    pub const GROUP: u16 = 22;
    /// IP TTL.
    pub const SET_NW_TTL: u16 = 23;
    /// Decrement IP TTL.
    pub const DEC_NW_TTL: u16 = 24;
    /// Set a header field using OXM TLV format.
    pub const SET_FIELD: u16 = 25;
    /// Push a new PBB service tag.
    pub const PUSH_PBB: u16 = 26;
    /// Pop the outer PBB service tag.
    pub const POP_PBB: u16 = 27;
    /// Experimenter action.
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// One action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Action {
    /// Output to a port; `max_len` bytes go to the controller for CONTROLLER.
    Output {
        /// Output port.
        port: u32,
        /// Max bytes sent to the controller.
        max_len: u16,
    },
    /// Copy TTL outwards.
    CopyTtlOut,
    /// Copy TTL inwards.
    CopyTtlIn,
    /// Set MPLS TTL.
    SetMplsTtl(u8),
    /// Decrement MPLS TTL.
    DecMplsTtl,
    /// Push a VLAN tag with this ethertype.
    PushVlan(u16),
    /// Pop the outer VLAN tag.
    PopVlan,
    /// Push an MPLS tag with this ethertype.
    PushMpls(u16),
    /// Pop the outer MPLS tag, setting this ethertype.
    PopMpls(u16),
    /// Set the output queue.
    SetQueue(u32),
    /// Apply a group.
    Group(u32),
    /// Set IP TTL.
    SetNwTtl(u8),
    /// Decrement IP TTL.
    DecNwTtl,
    /// Set a header field.
    SetField(Oxm),
    /// Push a PBB service tag with this ethertype.
    PushPbb(u16),
    /// Pop the outer PBB service tag.
    PopPbb,
    /// Experimenter action (e.g. Nicira): `data` is everything after the
    /// experimenter id, including any subtype and padding.
    Experimenter {
        /// Experimenter id (0x2320 for Nicira).
        experimenter: u32,
        /// Raw bytes after the experimenter id.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
    /// An action type this codec does not know; `data` follows the 4-byte header.
    Unknown {
        /// Action type.
        typ: u16,
        /// Raw bytes after type and length.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

impl Action {
    /// Output to a port with `max_len` = 0 (or no buffering limit for CONTROLLER).
    pub fn output(port: u32) -> Action {
        let max_len = if port == super::port::CONTROLLER {
            super::CML_NO_BUFFER
        } else {
            0
        };
        Action::Output { port, max_len }
    }

    /// The OFPAT_* type number.
    pub fn typ(&self) -> u16 {
        use Action::*;
        match self {
            Output { .. } => typ::OUTPUT,
            CopyTtlOut => typ::COPY_TTL_OUT,
            CopyTtlIn => typ::COPY_TTL_IN,
            SetMplsTtl(_) => typ::SET_MPLS_TTL,
            DecMplsTtl => typ::DEC_MPLS_TTL,
            PushVlan(_) => typ::PUSH_VLAN,
            PopVlan => typ::POP_VLAN,
            PushMpls(_) => typ::PUSH_MPLS,
            PopMpls(_) => typ::POP_MPLS,
            SetQueue(_) => typ::SET_QUEUE,
            Group(_) => typ::GROUP,
            SetNwTtl(_) => typ::SET_NW_TTL,
            DecNwTtl => typ::DEC_NW_TTL,
            SetField(_) => typ::SET_FIELD,
            PushPbb(_) => typ::PUSH_PBB,
            PopPbb => typ::POP_PBB,
            Experimenter { .. } => typ::EXPERIMENTER,
            Unknown { typ, .. } => *typ,
        }
    }

    /// Encoded length (a multiple of 8).
    pub fn buffer_len(&self) -> usize {
        use Action::*;
        match self {
            Output { .. } => 16,
            SetField(oxm) => pad8(4 + oxm.buffer_len()),
            Experimenter { data, .. } => pad8(8 + data.len()),
            Unknown { data, .. } => pad8(4 + data.len()),
            _ => 8,
        }
    }

    /// Parses one action from the front of `buf`, returning it and the rest.
    pub fn parse(buf: &[u8]) -> Result<(Action, &[u8])> {
        parse_item(buf)
    }

    /// Writes the action into `buf[..buffer_len()]`.
    pub fn emit(&self, buf: &mut [u8]) {
        emit_into(buf, |w| self.write(w));
    }
}

impl TlvItem for Action {
    const ERROR: DecodeError = DecodeError::BadAction;

    fn typ(&self) -> u16 {
        Action::typ(self)
    }

    fn buffer_len(&self) -> usize {
        Action::buffer_len(self)
    }

    fn from_body(t: u16, body: &[u8]) -> Result<Action> {
        let mut r = Reader::new(body);
        // Fixed-size actions must have exactly their size.
        let fixed = |n: usize| Self::fixed_len(body, n);
        let a = match t {
            typ::OUTPUT => {
                fixed(16)?;
                let port = r.u32()?;
                let max_len = r.u16()?;
                Action::Output { port, max_len }
            }
            typ::COPY_TTL_OUT => fixed(8).map(|_| Action::CopyTtlOut)?,
            typ::COPY_TTL_IN => fixed(8).map(|_| Action::CopyTtlIn)?,
            typ::SET_MPLS_TTL => fixed(8).and_then(|_| r.u8()).map(Action::SetMplsTtl)?,
            typ::DEC_MPLS_TTL => fixed(8).map(|_| Action::DecMplsTtl)?,
            typ::PUSH_VLAN => fixed(8).and_then(|_| r.u16()).map(Action::PushVlan)?,
            typ::POP_VLAN => fixed(8).map(|_| Action::PopVlan)?,
            typ::PUSH_MPLS => fixed(8).and_then(|_| r.u16()).map(Action::PushMpls)?,
            typ::POP_MPLS => fixed(8).and_then(|_| r.u16()).map(Action::PopMpls)?,
            typ::SET_QUEUE => fixed(8).and_then(|_| r.u32()).map(Action::SetQueue)?,
            typ::GROUP => fixed(8).and_then(|_| r.u32()).map(Action::Group)?,
            typ::SET_NW_TTL => fixed(8).and_then(|_| r.u8()).map(Action::SetNwTtl)?,
            typ::DEC_NW_TTL => fixed(8).map(|_| Action::DecNwTtl)?,
            typ::PUSH_PBB => fixed(8).and_then(|_| r.u16()).map(Action::PushPbb)?,
            typ::POP_PBB => fixed(8).map(|_| Action::PopPbb)?,
            typ::SET_FIELD => {
                let (oxm, _pad) = Oxm::parse(body)?;
                // The padding must be exactly what aligns the OXM to 8.
                if pad8(4 + oxm.buffer_len()) != body.len() + 4 {
                    return Err(DecodeError::BadAction);
                }
                Action::SetField(oxm)
            }
            typ::EXPERIMENTER => {
                let experimenter = r.u32()?;
                Action::Experimenter {
                    experimenter,
                    data: r.rest().to_vec(),
                }
            }
            other => Action::Unknown {
                typ: other,
                data: body.to_vec(),
            },
        };
        Ok(a)
    }

    fn write_body(&self, w: &mut Writer) {
        use Action::*;
        match self {
            Output { port, max_len } => w.put(Fixed::<6>::new().u32(*port).u16(*max_len).done()),
            SetMplsTtl(v) | SetNwTtl(v) => w.u8(*v),
            PushVlan(e) | PushMpls(e) | PopMpls(e) | PushPbb(e) => w.u16(*e),
            SetQueue(v) | Group(v) => w.u32(*v),
            SetField(oxm) => oxm.write(w),
            Experimenter { experimenter, data } => {
                w.u32(*experimenter);
                w.put(data);
            }
            Unknown { data, .. } => w.put(data),
            CopyTtlOut | CopyTtlIn | DecMplsTtl | PopVlan | DecNwTtl | PopPbb => {}
        }
    }
}
