//! Decode errors and the OFPT_ERROR message.

use super::wire::{enum_with_unknown, hex, Reader, Result, Writer};

/// Why a buffer did not decode; each maps to an OFPT_ERROR type and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The buffer ended before the structure did.
    #[error("truncated OpenFlow data")]
    Truncated,
    /// A length field is below its minimum, beyond the buffer or misaligned.
    #[error("bad length field")]
    BadLength,
    /// The header carries a version we do not speak.
    #[error("unsupported OpenFlow version {0}")]
    BadVersion(u8),
    /// Unknown message type.
    #[error("unknown message type {0}")]
    BadType(u8),
    /// A multipart body of the given type is malformed.
    #[error("malformed multipart body of type {0}")]
    BadMultipart(u16),
    /// A match of a type other than OFPMT_OXM.
    #[error("unsupported match type {0}")]
    BadMatchType(u16),
    /// An OXM TLV whose length does not fit its field.
    #[error("bad OXM field length")]
    BadOxm,
    /// An action whose length does not fit its type.
    #[error("bad action length")]
    BadAction,
    /// An instruction whose length does not fit its type.
    #[error("bad instruction length")]
    BadInstruction,
    /// A meter band whose length does not fit its type.
    #[error("bad meter band length")]
    BadMeterBand,
    /// Bytes after the end of a structure that has no trailing data.
    #[error("trailing bytes after message")]
    TrailingBytes,
}

/// OFPBRC_* codes used by `DecodeError::ofp_error`.
pub mod bad_request {
    /// ofp_header.version not supported.
    pub const BAD_VERSION: u16 = 0;
    /// ofp_header.type not supported.
    pub const BAD_TYPE: u16 = 1;
    /// ofp_multipart_request.type not supported.
    pub const BAD_MULTIPART: u16 = 2;
    /// Wrong request length for type.
    pub const BAD_LEN: u16 = 6;
}

/// OFPBAC_* codes the controller acts on.
pub mod bad_action {
    /// An action names a group the switch does not hold.
    pub const BAD_OUT_GROUP: u16 = 9;
}

/// OFPGMFC_* codes the controller acts on.
pub mod group_mod_failed {
    /// A MODIFY or a bucket's chained group names a group the switch does
    /// not hold.
    pub const UNKNOWN_GROUP: u16 = 8;
}

impl DecodeError {
    /// The OFPT_ERROR (type, code) to answer a switch with.
    pub fn ofp_error(&self) -> (ErrorType, u16) {
        use DecodeError::*;
        match self {
            Truncated | BadLength | TrailingBytes => (ErrorType::BadRequest, bad_request::BAD_LEN),
            BadVersion(_) => (ErrorType::BadRequest, bad_request::BAD_VERSION),
            BadType(_) => (ErrorType::BadRequest, bad_request::BAD_TYPE),
            // A malformed body of a known multipart type is a length problem.
            BadMultipart(_) => (ErrorType::BadRequest, bad_request::BAD_LEN),
            // OFPBMC_BAD_TYPE, OFPBMC_BAD_LEN
            BadMatchType(_) => (ErrorType::BadMatch, 0),
            BadOxm => (ErrorType::BadMatch, 1),
            // OFPBAC_BAD_LEN
            BadAction => (ErrorType::BadAction, 1),
            // OFPBIC_BAD_LEN
            BadInstruction => (ErrorType::BadInstruction, 7),
            // OFPMMFC_BAD_BAND
            BadMeterBand => (ErrorType::MeterModFailed, 8),
        }
    }
}

enum_with_unknown! {
    /// OFPET_* error types.
    pub enum ErrorType(u16) {
        /// Hello protocol failed.
        HelloFailed = 0,
        /// Request was not understood.
        BadRequest = 1,
        /// Error in action description.
        BadAction = 2,
        /// Error in instruction list.
        BadInstruction = 3,
        /// Error in match.
        BadMatch = 4,
        /// Problem modifying flow entry.
        FlowModFailed = 5,
        /// Problem modifying group entry.
        GroupModFailed = 6,
        /// Port mod request failed.
        PortModFailed = 7,
        /// Table mod request failed.
        TableModFailed = 8,
        /// Queue operation failed.
        QueueOpFailed = 9,
        /// Switch config request failed.
        SwitchConfigFailed = 10,
        /// Controller role request failed.
        RoleRequestFailed = 11,
        /// Error in meter.
        MeterModFailed = 12,
        /// Setting table features failed.
        TableFeaturesFailed = 13,
        /// Experimenter error: `code` is exp_code, `data` starts with the experimenter id.
        Experimenter = 0xffff,
    }
}

/// OFPT_ERROR. For `ErrorType::Experimenter` the wire layout is
/// type, exp_code, experimenter, data: `code` holds exp_code and `data`
/// starts with the 4-byte experimenter id (see `experimenter()`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErrorMsg {
    /// Error type.
    pub typ: ErrorType,
    /// Error code (exp_code for experimenter errors).
    pub code: u16,
    /// At least 64 bytes of the failed request, or experimenter id + data.
    #[serde(serialize_with = "hex::serialize")]
    pub data: Vec<u8>,
}

impl ErrorMsg {
    /// Builds an error answering `request` (its first 64 bytes are quoted).
    pub fn new(typ: ErrorType, code: u16, request: &[u8]) -> ErrorMsg {
        ErrorMsg {
            typ,
            code,
            data: request[..request.len().min(64)].to_vec(),
        }
    }

    /// Builds an experimenter error.
    pub fn experimenter(experimenter: u32, exp_code: u16, data: &[u8]) -> ErrorMsg {
        let mut d = experimenter.to_be_bytes().to_vec();
        d.extend_from_slice(data);
        ErrorMsg {
            typ: ErrorType::Experimenter,
            code: exp_code,
            data: d,
        }
    }

    /// For experimenter errors: the experimenter id and the data after it.
    pub fn experimenter_parts(&self) -> Option<(u32, &[u8])> {
        if self.typ != ErrorType::Experimenter {
            return None;
        }
        let id = self.data.get(..4)?;
        Some((
            u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            &self.data[4..],
        ))
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let typ = ErrorType::from(r.u16()?);
        let code = r.u16()?;
        if typ == ErrorType::Experimenter && r.remaining() < 4 {
            return Err(DecodeError::Truncated);
        }
        Ok(ErrorMsg {
            typ,
            code,
            data: r.rest().to_vec(),
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.typ.into());
        w.u16(self.code);
        w.put(&self.data);
    }
}
