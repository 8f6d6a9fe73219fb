//! Groups: OFPT_GROUP_MOD and buckets.

use super::action::Action;
use super::wire::{enum_with_unknown, list_len, parse_list, write_list, Reader, Result, Writer};
use super::DecodeError;

/// Reserved group numbers (OFPG_*).
pub mod group {
    /// Last usable group number.
    pub const MAX: u32 = 0xffff_ff00;
    /// All groups, for group delete and stats requests.
    pub const ALL: u32 = 0xffff_fffc;
    /// Wildcard group in flow stats requests; "no group".
    pub const ANY: u32 = 0xffff_ffff;
}

enum_with_unknown! {
    /// OFPGC_* group mod commands.
    pub enum GroupModCommand(u16) {
        /// New group.
        Add = 0,
        /// Modify all matching groups.
        Modify = 1,
        /// Delete all matching groups.
        Delete = 2,
    }
}

enum_with_unknown! {
    /// OFPGT_* group types.
    pub enum GroupType(u8) {
        /// All (multicast/broadcast) group.
        All = 0,
        /// Select group.
        Select = 1,
        /// Indirect group.
        Indirect = 2,
        /// Fast failover group.
        FastFailover = 3,
    }
}

/// `ofp_bucket`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Bucket {
    /// Relative weight (select groups).
    pub weight: u16,
    /// Port whose liveness decides the bucket (fast failover).
    pub watch_port: u32,
    /// Group whose liveness decides the bucket (fast failover).
    pub watch_group: u32,
    /// Actions of this bucket.
    pub actions: Vec<Action>,
}

/// Length of `ofp_bucket` without actions.
pub const BUCKET_HEADER_LEN: usize = 16;

impl Bucket {
    /// A bucket with the given actions, weight 0, no watch port/group.
    pub fn new(actions: Vec<Action>) -> Bucket {
        Bucket {
            weight: 0,
            watch_port: super::port::ANY,
            watch_group: group::ANY,
            actions,
        }
    }

    /// Encoded length.
    pub fn buffer_len(&self) -> usize {
        BUCKET_HEADER_LEN + list_len(&self.actions)
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Bucket> {
        let len = usize::from(r.u16()?);
        if len < BUCKET_HEADER_LEN || len > r.remaining() + 2 {
            return Err(DecodeError::BadLength);
        }
        let mut b = r.sub(len - 2)?;
        let weight = b.u16()?;
        let watch_port = b.u32()?;
        let watch_group = b.u32()?;
        b.skip(4)?;
        Ok(Bucket {
            weight,
            watch_port,
            watch_group,
            actions: parse_list(b.rest())?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.buffer_len() as u16);
        w.u16(self.weight);
        w.u32(self.watch_port);
        w.u32(self.watch_group);
        w.zeros(4);
        write_list(&self.actions, w);
    }
}

/// Parses buckets filling all of `r`.
pub(crate) fn read_buckets(r: &mut Reader) -> Result<Vec<Bucket>> {
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(Bucket::read(r)?);
    }
    Ok(out)
}

/// Total encoded length of a bucket list.
pub(crate) fn buckets_len(b: &[Bucket]) -> usize {
    b.iter().map(Bucket::buffer_len).sum()
}

/// OFPT_GROUP_MOD body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupMod {
    /// Command.
    pub command: GroupModCommand,
    /// Group type.
    pub group_type: GroupType,
    /// Group id.
    pub group_id: u32,
    /// Buckets (empty for delete).
    pub buckets: Vec<Bucket>,
}

impl GroupMod {
    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let command = GroupModCommand::from(r.u16()?);
        let group_type = GroupType::from(r.u8()?);
        r.skip(1)?;
        let group_id = r.u32()?;
        Ok(GroupMod {
            command,
            group_type,
            group_id,
            buckets: read_buckets(r)?,
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        8 + buckets_len(&self.buckets)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.command.into());
        w.u8(self.group_type.into());
        w.zeros(1);
        w.u32(self.group_id);
        for b in &self.buckets {
            b.write(w);
        }
    }
}
