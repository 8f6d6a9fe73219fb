//! Meters: OFPT_METER_MOD and meter bands.

use super::wire::{
    enum_with_unknown, hex, list_len, pad8, parse_list, write_list, Reader, Result, TlvItem, Writer,
};
use super::DecodeError;

enum_with_unknown! {
    /// OFPMC_* meter mod commands.
    pub enum MeterModCommand(u16) {
        /// New meter.
        Add = 0,
        /// Modify specified meter.
        Modify = 1,
        /// Delete specified meter.
        Delete = 2,
    }
}

/// OFPMBT_* band type numbers.
pub mod band_type {
    /// Drop packet.
    pub const DROP: u16 = 1;
    /// Remark DSCP in the IP header.
    pub const DSCP_REMARK: u16 = 2;
    /// Experimenter meter band.
    pub const EXPERIMENTER: u16 = 0xffff;
}

/// One meter band.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum MeterBand {
    /// Drop packets above the rate.
    Drop {
        /// Rate for this band.
        rate: u32,
        /// Size of bursts.
        burst_size: u32,
    },
    /// Raise drop precedence of packets above the rate.
    DscpRemark {
        /// Rate for this band.
        rate: u32,
        /// Size of bursts.
        burst_size: u32,
        /// Number of drop-precedence levels to add.
        prec_level: u8,
    },
    /// Experimenter band; `data` follows the experimenter id.
    Experimenter {
        /// Rate for this band.
        rate: u32,
        /// Size of bursts.
        burst_size: u32,
        /// Experimenter id.
        experimenter: u32,
        /// Raw bytes after the experimenter id.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
    /// Unknown band type; `data` follows the 4-byte type/length header.
    Unknown {
        /// Band type.
        typ: u16,
        /// Raw bytes after type and length.
        #[serde(serialize_with = "hex::serialize")]
        data: Vec<u8>,
    },
}

impl MeterBand {
    /// The OFPMBT_* type number.
    pub fn typ(&self) -> u16 {
        match self {
            MeterBand::Drop { .. } => band_type::DROP,
            MeterBand::DscpRemark { .. } => band_type::DSCP_REMARK,
            MeterBand::Experimenter { .. } => band_type::EXPERIMENTER,
            MeterBand::Unknown { typ, .. } => *typ,
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        match self {
            MeterBand::Drop { .. } | MeterBand::DscpRemark { .. } => 16,
            MeterBand::Experimenter { data, .. } => pad8(16 + data.len()),
            MeterBand::Unknown { data, .. } => pad8(4 + data.len()),
        }
    }
}

impl TlvItem for MeterBand {
    const ERROR: DecodeError = DecodeError::BadMeterBand;

    fn typ(&self) -> u16 {
        MeterBand::typ(self)
    }

    fn buffer_len(&self) -> usize {
        MeterBand::buffer_len(self)
    }

    fn from_body(t: u16, body: &[u8]) -> Result<MeterBand> {
        let mut r = Reader::new(body);
        let bad = |_| DecodeError::BadMeterBand;
        let band = match t {
            band_type::DROP | band_type::DSCP_REMARK if body.len() != 12 => {
                return Err(DecodeError::BadMeterBand)
            }
            band_type::DROP => MeterBand::Drop {
                rate: r.u32()?,
                burst_size: r.u32()?,
            },
            band_type::DSCP_REMARK => MeterBand::DscpRemark {
                rate: r.u32()?,
                burst_size: r.u32()?,
                prec_level: r.u8()?,
            },
            band_type::EXPERIMENTER => MeterBand::Experimenter {
                rate: r.u32().map_err(bad)?,
                burst_size: r.u32().map_err(bad)?,
                experimenter: r.u32().map_err(bad)?,
                data: r.rest().to_vec(),
            },
            other => MeterBand::Unknown {
                typ: other,
                data: body.to_vec(),
            },
        };
        Ok(band)
    }

    fn write_body(&self, w: &mut Writer) {
        match self {
            MeterBand::Drop { rate, burst_size } => {
                w.u32(*rate);
                w.u32(*burst_size);
                w.zeros(4);
            }
            MeterBand::DscpRemark {
                rate,
                burst_size,
                prec_level,
            } => {
                w.u32(*rate);
                w.u32(*burst_size);
                w.u8(*prec_level);
                w.zeros(3);
            }
            MeterBand::Experimenter {
                rate,
                burst_size,
                experimenter,
                data,
            } => {
                w.u32(*rate);
                w.u32(*burst_size);
                w.u32(*experimenter);
                w.put(data);
            }
            MeterBand::Unknown { data, .. } => w.put(data),
        }
    }
}

/// OFPMF_* meter flags.
pub mod meter_flags {
    /// Rate value in kb/s.
    pub const KBPS: u16 = 1 << 0;
    /// Rate value in packets/s.
    pub const PKTPS: u16 = 1 << 1;
    /// Do burst size.
    pub const BURST: u16 = 1 << 2;
    /// Collect statistics.
    pub const STATS: u16 = 1 << 3;
}

/// OFPT_METER_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeterMod {
    /// Command.
    pub command: MeterModCommand,
    /// OFPMF_* flags.
    pub flags: u16,
    /// Meter instance.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

impl MeterMod {
    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let command = MeterModCommand::from(r.u16()?);
        let flags = r.u16()?;
        let meter_id = r.u32()?;
        Ok(MeterMod {
            command,
            flags,
            meter_id,
            bands: parse_list(r.rest())?,
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        8 + list_len(&self.bands)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.command.into());
        w.u16(self.flags);
        w.u32(self.meter_id);
        write_list(&self.bands, w);
    }
}
