//! Multipart reply records (`ofp_*_stats`, descriptions and features).
//!
//! Fixed-size records are read back to back; variable-size ones start with
//! their own length, which is checked against its minimum and the buffer.

use super::groups::{buckets_len, read_buckets, Bucket, GroupType};
use super::instruction::Instruction;
use super::meter::MeterBand;
use super::oxm::Match;
use super::wire::{hex, list_len, parse_list, write_list, Reader, Result, Writer};
use super::DecodeError;

/// Reads a record whose u16 length sits at `len_at` bytes into the record;
/// returns a reader over the whole record (length field included).
pub(crate) fn record<'a>(r: &mut Reader<'a>, len_at: usize, min: usize) -> Result<Reader<'a>> {
    let mut peek = r.clone();
    peek.skip(len_at)?;
    let len = usize::from(peek.u16()?);
    if len < min || len > r.remaining() {
        return Err(DecodeError::BadLength);
    }
    r.sub(len)
}

/// Reads records with `f` until `r` is empty.
pub(crate) fn read_all<'a, T>(
    r: &mut Reader<'a>,
    mut f: impl FnMut(&mut Reader<'a>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(f(r)?);
    }
    Ok(out)
}

/// `ofp_desc`: switch description strings.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Desc {
    /// Manufacturer description.
    pub mfr_desc: String,
    /// Hardware description.
    pub hw_desc: String,
    /// Software description.
    pub sw_desc: String,
    /// Serial number.
    pub serial_num: String,
    /// Human readable description of datapath.
    pub dp_desc: String,
}

const DESC_STR_LEN: usize = 256;
const SERIAL_NUM_LEN: usize = 32;

impl Desc {
    /// Encoded length.
    pub const LEN: usize = 4 * DESC_STR_LEN + SERIAL_NUM_LEN;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        Ok(Desc {
            mfr_desc: r.fixed_str(DESC_STR_LEN)?,
            hw_desc: r.fixed_str(DESC_STR_LEN)?,
            sw_desc: r.fixed_str(DESC_STR_LEN)?,
            serial_num: r.fixed_str(SERIAL_NUM_LEN)?,
            dp_desc: r.fixed_str(DESC_STR_LEN)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.fixed_str(&self.mfr_desc, DESC_STR_LEN);
        w.fixed_str(&self.hw_desc, DESC_STR_LEN);
        w.fixed_str(&self.sw_desc, DESC_STR_LEN);
        w.fixed_str(&self.serial_num, SERIAL_NUM_LEN);
        w.fixed_str(&self.dp_desc, DESC_STR_LEN);
    }
}

/// `ofp_flow_stats`: one flow entry in a flow stats reply.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowStats {
    /// Table the flow came from.
    pub table_id: u8,
    /// Time flow has been alive, seconds.
    pub duration_sec: u32,
    /// Time alive beyond duration_sec, nanoseconds.
    pub duration_nsec: u32,
    /// Priority.
    pub priority: u16,
    /// Idle timeout.
    pub idle_timeout: u16,
    /// Hard timeout.
    pub hard_timeout: u16,
    /// OFPFF_* flags.
    pub flags: u16,
    /// Cookie.
    pub cookie: u64,
    /// Packets in flow.
    pub packet_count: u64,
    /// Bytes in flow.
    pub byte_count: u64,
    /// Match.
    pub match_: Match,
    /// Instructions.
    pub instructions: Vec<Instruction>,
}

impl FlowStats {
    const HEADER_LEN: usize = 48;

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN + self.match_.buffer_len() + list_len(&self.instructions)
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 0, Self::HEADER_LEN + 8)?;
        r.skip(2)?;
        let table_id = r.u8()?;
        r.skip(1)?;
        let duration_sec = r.u32()?;
        let duration_nsec = r.u32()?;
        let priority = r.u16()?;
        let idle_timeout = r.u16()?;
        let hard_timeout = r.u16()?;
        let flags = r.u16()?;
        r.skip(4)?;
        let cookie = r.u64()?;
        let packet_count = r.u64()?;
        let byte_count = r.u64()?;
        let match_ = Match::read(&mut r)?;
        let instructions = parse_list(r.rest())?;
        Ok(FlowStats {
            table_id,
            duration_sec,
            duration_nsec,
            priority,
            idle_timeout,
            hard_timeout,
            flags,
            cookie,
            packet_count,
            byte_count,
            match_,
            instructions,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.buffer_len() as u16);
        w.u8(self.table_id);
        w.zeros(1);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        w.u16(self.priority);
        w.u16(self.idle_timeout);
        w.u16(self.hard_timeout);
        w.u16(self.flags);
        w.zeros(4);
        w.u64(self.cookie);
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        self.match_.write(w);
        write_list(&self.instructions, w);
    }
}

/// `ofp_aggregate_stats_reply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AggregateStats {
    /// Packets in flows.
    pub packet_count: u64,
    /// Bytes in flows.
    pub byte_count: u64,
    /// Number of flows.
    pub flow_count: u32,
}

impl AggregateStats {
    /// Encoded length.
    pub const LEN: usize = 24;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let s = AggregateStats {
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            flow_count: r.u32()?,
        };
        r.skip(4)?;
        Ok(s)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        w.u32(self.flow_count);
        w.zeros(4);
    }
}

/// `ofp_table_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableStats {
    /// Table id.
    pub table_id: u8,
    /// Active entries.
    pub active_count: u32,
    /// Packets looked up in table.
    pub lookup_count: u64,
    /// Packets that hit table.
    pub matched_count: u64,
}

impl TableStats {
    /// Encoded length.
    pub const LEN: usize = 24;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let table_id = r.u8()?;
        r.skip(3)?;
        Ok(TableStats {
            table_id,
            active_count: r.u32()?,
            lookup_count: r.u64()?,
            matched_count: r.u64()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.table_id);
        w.zeros(3);
        w.u32(self.active_count);
        w.u64(self.lookup_count);
        w.u64(self.matched_count);
    }
}

/// `ofp_port_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PortStats {
    /// Port number.
    pub port_no: u32,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets dropped by RX.
    pub rx_dropped: u64,
    /// Packets dropped by TX.
    pub tx_dropped: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Frame alignment errors.
    pub rx_frame_err: u64,
    /// Packets with RX overrun.
    pub rx_over_err: u64,
    /// CRC errors.
    pub rx_crc_err: u64,
    /// Collisions.
    pub collisions: u64,
    /// Time port has been alive, seconds.
    pub duration_sec: u32,
    /// Time alive beyond duration_sec, nanoseconds.
    pub duration_nsec: u32,
}

impl PortStats {
    /// Encoded length.
    pub const LEN: usize = 112;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let port_no = r.u32()?;
        r.skip(4)?;
        Ok(PortStats {
            port_no,
            rx_packets: r.u64()?,
            tx_packets: r.u64()?,
            rx_bytes: r.u64()?,
            tx_bytes: r.u64()?,
            rx_dropped: r.u64()?,
            tx_dropped: r.u64()?,
            rx_errors: r.u64()?,
            tx_errors: r.u64()?,
            rx_frame_err: r.u64()?,
            rx_over_err: r.u64()?,
            rx_crc_err: r.u64()?,
            collisions: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.port_no);
        w.zeros(4);
        for v in [
            self.rx_packets,
            self.tx_packets,
            self.rx_bytes,
            self.tx_bytes,
            self.rx_dropped,
            self.tx_dropped,
            self.rx_errors,
            self.tx_errors,
            self.rx_frame_err,
            self.rx_over_err,
            self.rx_crc_err,
            self.collisions,
        ] {
            w.u64(v);
        }
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
    }
}

/// `ofp_queue_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Port number.
    pub port_no: u32,
    /// Queue id.
    pub queue_id: u32,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Packets dropped due to overrun.
    pub tx_errors: u64,
    /// Time queue has been alive, seconds.
    pub duration_sec: u32,
    /// Time alive beyond duration_sec, nanoseconds.
    pub duration_nsec: u32,
}

impl QueueStats {
    /// Encoded length.
    pub const LEN: usize = 40;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        Ok(QueueStats {
            port_no: r.u32()?,
            queue_id: r.u32()?,
            tx_bytes: r.u64()?,
            tx_packets: r.u64()?,
            tx_errors: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.port_no);
        w.u32(self.queue_id);
        w.u64(self.tx_bytes);
        w.u64(self.tx_packets);
        w.u64(self.tx_errors);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
    }
}

/// `ofp_bucket_counter` / `ofp_meter_band_stats`: packet and byte counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counter {
    /// Packets counted.
    pub packet_count: u64,
    /// Bytes counted.
    pub byte_count: u64,
}

impl Counter {
    fn read(r: &mut Reader) -> Result<Self> {
        Ok(Counter {
            packet_count: r.u64()?,
            byte_count: r.u64()?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.u64(self.packet_count);
        w.u64(self.byte_count);
    }
}

fn read_counters(r: &mut Reader) -> Result<Vec<Counter>> {
    if !r.remaining().is_multiple_of(16) {
        return Err(DecodeError::BadLength);
    }
    read_all(r, Counter::read)
}

/// `ofp_group_stats`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupStats {
    /// Group id.
    pub group_id: u32,
    /// Flows or groups forwarding to this group.
    pub ref_count: u32,
    /// Packets processed by group.
    pub packet_count: u64,
    /// Bytes processed by group.
    pub byte_count: u64,
    /// Time group has been alive, seconds.
    pub duration_sec: u32,
    /// Time alive beyond duration_sec, nanoseconds.
    pub duration_nsec: u32,
    /// Per-bucket counters.
    pub bucket_stats: Vec<Counter>,
}

impl GroupStats {
    const HEADER_LEN: usize = 40;

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN + 16 * self.bucket_stats.len()
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 0, Self::HEADER_LEN)?;
        r.skip(4)?;
        let group_id = r.u32()?;
        let ref_count = r.u32()?;
        r.skip(4)?;
        Ok(GroupStats {
            group_id,
            ref_count,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            bucket_stats: read_counters(&mut r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.buffer_len() as u16);
        w.zeros(2);
        w.u32(self.group_id);
        w.u32(self.ref_count);
        w.zeros(4);
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        for c in &self.bucket_stats {
            c.write(w);
        }
    }
}

/// `ofp_group_desc`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupDesc {
    /// Group type.
    pub group_type: GroupType,
    /// Group id.
    pub group_id: u32,
    /// Buckets.
    pub buckets: Vec<Bucket>,
}

impl GroupDesc {
    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        8 + buckets_len(&self.buckets)
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 0, 8)?;
        r.skip(2)?;
        let group_type = GroupType::from(r.u8()?);
        r.skip(1)?;
        let group_id = r.u32()?;
        Ok(GroupDesc {
            group_type,
            group_id,
            buckets: read_buckets(&mut r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.buffer_len() as u16);
        w.u8(self.group_type.into());
        w.zeros(1);
        w.u32(self.group_id);
        for b in &self.buckets {
            b.write(w);
        }
    }
}

/// `ofp_group_features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GroupFeatures {
    /// Bitmap of OFPGT_* values supported.
    pub types: u32,
    /// OFPGFC_* capability bitmap.
    pub capabilities: u32,
    /// Maximum number of groups for each type.
    pub max_groups: [u32; 4],
    /// Bitmaps of OFPAT_* values supported, per group type.
    pub actions: [u32; 4],
}

impl GroupFeatures {
    /// Encoded length.
    pub const LEN: usize = 40;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        Ok(GroupFeatures {
            types: r.u32()?,
            capabilities: r.u32()?,
            max_groups: [r.u32()?, r.u32()?, r.u32()?, r.u32()?],
            actions: [r.u32()?, r.u32()?, r.u32()?, r.u32()?],
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.types);
        w.u32(self.capabilities);
        for v in self.max_groups.iter().chain(&self.actions) {
            w.u32(*v);
        }
    }
}

/// `ofp_meter_stats`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeterStats {
    /// Meter id.
    pub meter_id: u32,
    /// Flows bound to meter.
    pub flow_count: u32,
    /// Packets in input.
    pub packet_in_count: u64,
    /// Bytes in input.
    pub byte_in_count: u64,
    /// Time meter has been alive, seconds.
    pub duration_sec: u32,
    /// Time alive beyond duration_sec, nanoseconds.
    pub duration_nsec: u32,
    /// Per-band counters.
    pub band_stats: Vec<Counter>,
}

impl MeterStats {
    const HEADER_LEN: usize = 40;

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN + 16 * self.band_stats.len()
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 4, Self::HEADER_LEN)?;
        let meter_id = r.u32()?;
        r.skip(8)?;
        Ok(MeterStats {
            meter_id,
            flow_count: r.u32()?,
            packet_in_count: r.u64()?,
            byte_in_count: r.u64()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            band_stats: read_counters(&mut r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.meter_id);
        w.u16(self.buffer_len() as u16);
        w.zeros(6);
        w.u32(self.flow_count);
        w.u64(self.packet_in_count);
        w.u64(self.byte_in_count);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        for c in &self.band_stats {
            c.write(w);
        }
    }
}

/// `ofp_meter_config`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeterConfig {
    /// OFPMF_* flags.
    pub flags: u16,
    /// Meter id.
    pub meter_id: u32,
    /// Bands.
    pub bands: Vec<MeterBand>,
}

impl MeterConfig {
    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        8 + list_len(&self.bands)
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 0, 8)?;
        r.skip(2)?;
        let flags = r.u16()?;
        let meter_id = r.u32()?;
        Ok(MeterConfig {
            flags,
            meter_id,
            bands: parse_list(r.rest())?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.buffer_len() as u16);
        w.u16(self.flags);
        w.u32(self.meter_id);
        write_list(&self.bands, w);
    }
}

/// `ofp_meter_features`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct MeterFeatures {
    /// Maximum number of meters.
    pub max_meter: u32,
    /// Bitmap of OFPMBT_* values supported.
    pub band_types: u32,
    /// Bitmap of OFPMF_* flags supported.
    pub capabilities: u32,
    /// Maximum bands per meter.
    pub max_bands: u8,
    /// Maximum color value.
    pub max_color: u8,
}

impl MeterFeatures {
    /// Encoded length.
    pub const LEN: usize = 16;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let f = MeterFeatures {
            max_meter: r.u32()?,
            band_types: r.u32()?,
            capabilities: r.u32()?,
            max_bands: r.u8()?,
            max_color: r.u8()?,
        };
        r.skip(2)?;
        Ok(f)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.max_meter);
        w.u32(self.band_types);
        w.u32(self.capabilities);
        w.u8(self.max_bands);
        w.u8(self.max_color);
        w.zeros(2);
    }
}

/// `ofp_table_features`; the property list is kept as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableFeatures {
    /// Table id.
    pub table_id: u8,
    /// Table name (at most 32 bytes on the wire).
    pub name: String,
    /// Bits of metadata the table can match.
    pub metadata_match: u64,
    /// Bits of metadata the table can write.
    pub metadata_write: u64,
    /// OFPTC_* config bits.
    pub config: u32,
    /// Max number of entries supported.
    pub max_entries: u32,
    /// Raw `ofp_table_feature_prop_*` list.
    #[serde(serialize_with = "hex::serialize")]
    pub properties: Vec<u8>,
}

const TABLE_NAME_LEN: usize = 32;

impl TableFeatures {
    const HEADER_LEN: usize = 64;

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        Self::HEADER_LEN + self.properties.len()
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let mut r = record(r, 0, Self::HEADER_LEN)?;
        r.skip(2)?;
        let table_id = r.u8()?;
        r.skip(5)?;
        Ok(TableFeatures {
            table_id,
            name: r.fixed_str(TABLE_NAME_LEN)?,
            metadata_match: r.u64()?,
            metadata_write: r.u64()?,
            config: r.u32()?,
            max_entries: r.u32()?,
            properties: r.rest().to_vec(),
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.buffer_len() as u16);
        w.u8(self.table_id);
        w.zeros(5);
        w.fixed_str(&self.name, TABLE_NAME_LEN);
        w.u64(self.metadata_match);
        w.u64(self.metadata_write);
        w.u32(self.config);
        w.u32(self.max_entries);
        w.put(&self.properties);
    }
}
