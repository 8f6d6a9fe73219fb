//! Flow-related messages: PACKET_IN, PACKET_OUT, FLOW_MOD, FLOW_REMOVED.

use super::action::Action;
use super::instruction::Instruction;
use super::oxm::Match;
use super::wire::{
    enum_with_unknown, hex, list_len, parse_list, write_list, Fixed, Reader, Result, Writer,
};
use super::DecodeError;

enum_with_unknown! {
    /// OFPR_* reasons a packet was sent to the controller.
    pub enum PacketInReason(u8) {
        /// No matching flow (table-miss flow entry).
        NoMatch = 0,
        /// Action explicitly output to controller.
        Action = 1,
        /// Packet has invalid TTL.
        InvalidTtl = 2,
    }
}

/// OFPT_PACKET_IN body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PacketIn {
    /// Buffer id on the switch, or `NO_BUFFER`.
    pub buffer_id: u32,
    /// Full length of the frame.
    pub total_len: u16,
    /// Why the packet is being sent.
    pub reason: PacketInReason,
    /// Id of the table that was looked up.
    pub table_id: u8,
    /// Cookie of the flow entry that was looked up.
    pub cookie: u64,
    /// Packet metadata (IN_PORT and friends).
    pub match_: Match,
    /// The frame (possibly truncated to miss_send_len / max_len).
    #[serde(serialize_with = "hex::serialize")]
    pub data: Vec<u8>,
}

impl PacketIn {
    /// The ingress port from the IN_PORT OXM.
    pub fn in_port(&self) -> Option<u32> {
        self.match_.in_port()
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let buffer_id = r.u32()?;
        let total_len = r.u16()?;
        let reason = PacketInReason::from(r.u8()?);
        let table_id = r.u8()?;
        let cookie = r.u64()?;
        let match_ = Match::read(r)?;
        r.skip(2)?;
        Ok(PacketIn {
            buffer_id,
            total_len,
            reason,
            table_id,
            cookie,
            match_,
            data: r.rest().to_vec(),
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        16 + self.match_.buffer_len() + 2 + self.data.len()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.buffer_id);
        w.u16(self.total_len);
        w.u8(self.reason.into());
        w.u8(self.table_id);
        w.u64(self.cookie);
        self.match_.write(w);
        w.zeros(2);
        w.put(&self.data);
    }
}

/// OFPT_PACKET_OUT body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PacketOut {
    /// Buffer id on the switch, or `NO_BUFFER` when `data` carries the frame.
    pub buffer_id: u32,
    /// Input port for the packet (or `port::CONTROLLER`).
    pub in_port: u32,
    /// Actions to apply.
    pub actions: Vec<Action>,
    /// The frame, if `buffer_id` is `NO_BUFFER`.
    #[serde(serialize_with = "hex::serialize")]
    pub data: Vec<u8>,
}

impl PacketOut {
    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let buffer_id = r.u32()?;
        let in_port = r.u32()?;
        let actions_len = usize::from(r.u16()?);
        r.skip(6)?;
        let actions = r.bytes(actions_len).map_err(|_| DecodeError::BadLength)?;
        Ok(PacketOut {
            buffer_id,
            in_port,
            actions: parse_list(actions)?,
            data: r.rest().to_vec(),
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        16 + list_len(&self.actions) + self.data.len()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let start = w.pos();
        let mut fixed = Fixed::<16>::new();
        // The actions' length and the padding are zeros until patched below.
        fixed.u32(self.buffer_id).u32(self.in_port).zeros(8);
        w.put(fixed.done());
        let actions = w.pos();
        write_list(&self.actions, w);
        // The actions' length follows buffer_id and in_port.
        w.patch_len16(start + 8, actions);
        w.put(&self.data);
    }
}

enum_with_unknown! {
    /// OFPFC_* flow mod commands.
    pub enum FlowModCommand(u8) {
        /// New flow.
        Add = 0,
        /// Modify all matching flows.
        Modify = 1,
        /// Modify entry strictly matching wildcards and priority.
        ModifyStrict = 2,
        /// Delete all matching flows.
        Delete = 3,
        /// Delete entry strictly matching wildcards and priority.
        DeleteStrict = 4,
    }
}

/// OFPFF_* flow mod flags.
pub mod flow_flags {
    /// Send flow removed message when flow expires or is deleted.
    pub const SEND_FLOW_REM: u16 = 1 << 0;
    /// Check for overlapping entries first.
    pub const CHECK_OVERLAP: u16 = 1 << 1;
    /// Reset flow packet and byte counts.
    pub const RESET_COUNTS: u16 = 1 << 2;
    /// Don't keep track of packet count.
    pub const NO_PKT_COUNTS: u16 = 1 << 3;
    /// Don't keep track of byte count.
    pub const NO_BYT_COUNTS: u16 = 1 << 4;
}

/// OFPT_FLOW_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowMod {
    /// Opaque controller-issued identifier.
    pub cookie: u64,
    /// Mask restricting cookie bits for modify/delete.
    pub cookie_mask: u64,
    /// Table id (or `table::ALL` for delete).
    pub table_id: u8,
    /// Command.
    pub command: FlowModCommand,
    /// Idle time before discarding (seconds).
    pub idle_timeout: u16,
    /// Max time before discarding (seconds).
    pub hard_timeout: u16,
    /// Priority level.
    pub priority: u16,
    /// Buffered packet to apply to, or `NO_BUFFER`.
    pub buffer_id: u32,
    /// For delete: output port filter (`port::ANY` for none).
    pub out_port: u32,
    /// For delete: output group filter (`group::ANY` for none).
    pub out_group: u32,
    /// OFPFF_* flags.
    pub flags: u16,
    /// Fields to match.
    pub match_: Match,
    /// Instruction set.
    pub instructions: Vec<Instruction>,
}

impl FlowMod {
    /// An ADD for `match_` with these instructions; everything else default
    /// (table 0, no timeouts, NO_BUFFER, ANY out_port/out_group).
    pub fn add(priority: u16, match_: Match, instructions: Vec<Instruction>) -> FlowMod {
        FlowMod {
            cookie: 0,
            cookie_mask: 0,
            table_id: 0,
            command: FlowModCommand::Add,
            idle_timeout: 0,
            hard_timeout: 0,
            priority,
            buffer_id: super::NO_BUFFER,
            out_port: super::port::ANY,
            out_group: super::group::ANY,
            flags: 0,
            match_,
            instructions,
        }
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let cookie = r.u64()?;
        let cookie_mask = r.u64()?;
        let table_id = r.u8()?;
        let command = FlowModCommand::from(r.u8()?);
        let idle_timeout = r.u16()?;
        let hard_timeout = r.u16()?;
        let priority = r.u16()?;
        let buffer_id = r.u32()?;
        let out_port = r.u32()?;
        let out_group = r.u32()?;
        let flags = r.u16()?;
        r.skip(2)?;
        let match_ = Match::read(r)?;
        let instructions = parse_list(r.rest())?;
        Ok(FlowMod {
            cookie,
            cookie_mask,
            table_id,
            command,
            idle_timeout,
            hard_timeout,
            priority,
            buffer_id,
            out_port,
            out_group,
            flags,
            match_,
            instructions,
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        40 + self.match_.buffer_len() + list_len(&self.instructions)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        let mut fixed = Fixed::<40>::new();
        fixed
            .u64(self.cookie)
            .u64(self.cookie_mask)
            .u8(self.table_id)
            .u8(self.command.into())
            .u16(self.idle_timeout)
            .u16(self.hard_timeout)
            .u16(self.priority)
            .u32(self.buffer_id)
            .u32(self.out_port)
            .u32(self.out_group)
            .u16(self.flags)
            .zeros(2);
        w.put(fixed.done());
        self.match_.write(w);
        write_list(&self.instructions, w);
    }
}

enum_with_unknown! {
    /// OFPRR_* reasons a flow was removed.
    pub enum FlowRemovedReason(u8) {
        /// Flow idle time exceeded idle_timeout.
        IdleTimeout = 0,
        /// Time exceeded hard_timeout.
        HardTimeout = 1,
        /// Evicted by a DELETE flow mod.
        Delete = 2,
        /// Group was removed.
        GroupDelete = 3,
    }
}

/// OFPT_FLOW_REMOVED body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FlowRemoved {
    /// Cookie of the removed flow.
    pub cookie: u64,
    /// Its priority.
    pub priority: u16,
    /// Why it was removed.
    pub reason: FlowRemovedReason,
    /// Its table.
    pub table_id: u8,
    /// Time it was alive, seconds part.
    pub duration_sec: u32,
    /// Time it was alive beyond duration_sec, nanoseconds.
    pub duration_nsec: u32,
    /// Idle timeout from the original flow mod.
    pub idle_timeout: u16,
    /// Hard timeout from the original flow mod.
    pub hard_timeout: u16,
    /// Packets matched.
    pub packet_count: u64,
    /// Bytes matched.
    pub byte_count: u64,
    /// Its match.
    pub match_: Match,
}

impl FlowRemoved {
    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let f = FlowRemoved {
            cookie: r.u64()?,
            priority: r.u16()?,
            reason: FlowRemovedReason::from(r.u8()?),
            table_id: r.u8()?,
            duration_sec: r.u32()?,
            duration_nsec: r.u32()?,
            idle_timeout: r.u16()?,
            hard_timeout: r.u16()?,
            packet_count: r.u64()?,
            byte_count: r.u64()?,
            match_: Match::read(r)?,
        };
        r.finish()?;
        Ok(f)
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        40 + self.match_.buffer_len()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u64(self.cookie);
        w.u16(self.priority);
        w.u8(self.reason.into());
        w.u8(self.table_id);
        w.u32(self.duration_sec);
        w.u32(self.duration_nsec);
        w.u16(self.idle_timeout);
        w.u16(self.hard_timeout);
        w.u64(self.packet_count);
        w.u64(self.byte_count);
        self.match_.write(w);
    }
}
