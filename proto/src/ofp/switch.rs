//! Switch-level messages: features, configuration, role, async config,
//! table mod and experimenter messages.

use super::wire::{enum_with_unknown, hex, Reader, Result, Writer};

/// OFPC_* capability bits of `SwitchFeatures::capabilities`.
pub mod capabilities {
    /// Flow statistics.
    pub const FLOW_STATS: u32 = 1 << 0;
    /// Table statistics.
    pub const TABLE_STATS: u32 = 1 << 1;
    /// Port statistics.
    pub const PORT_STATS: u32 = 1 << 2;
    /// Group statistics.
    pub const GROUP_STATS: u32 = 1 << 3;
    /// Can reassemble IP fragments.
    pub const IP_REASM: u32 = 1 << 5;
    /// Queue statistics.
    pub const QUEUE_STATS: u32 = 1 << 6;
    /// Switch will block looping ports.
    pub const PORT_BLOCKED: u32 = 1 << 8;
}

/// OFPT_FEATURES_REPLY body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SwitchFeatures {
    /// Datapath unique id.
    pub datapath_id: u64,
    /// Max packets buffered at once.
    pub n_buffers: u32,
    /// Number of tables supported.
    pub n_tables: u8,
    /// Auxiliary connection id (0 for the main connection).
    pub auxiliary_id: u8,
    /// OFPC_* bitmap.
    pub capabilities: u32,
    /// Reserved.
    pub reserved: u32,
}

impl SwitchFeatures {
    /// Encoded body length.
    pub const LEN: usize = 24;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let datapath_id = r.u64()?;
        let n_buffers = r.u32()?;
        let n_tables = r.u8()?;
        let auxiliary_id = r.u8()?;
        r.skip(2)?;
        let capabilities = r.u32()?;
        let reserved = r.u32()?;
        Ok(SwitchFeatures {
            datapath_id,
            n_buffers,
            n_tables,
            auxiliary_id,
            capabilities,
            reserved,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u64(self.datapath_id);
        w.u32(self.n_buffers);
        w.u8(self.n_tables);
        w.u8(self.auxiliary_id);
        w.zeros(2);
        w.u32(self.capabilities);
        w.u32(self.reserved);
    }
}

/// OFPT_GET_CONFIG_REPLY / OFPT_SET_CONFIG body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SwitchConfig {
    /// OFPC_FRAG_* flags.
    pub flags: u16,
    /// Max bytes of a new flow's packet sent to the controller.
    pub miss_send_len: u16,
}

impl SwitchConfig {
    /// Encoded body length.
    pub const LEN: usize = 4;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        Ok(SwitchConfig {
            flags: r.u16()?,
            miss_send_len: r.u16()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u16(self.flags);
        w.u16(self.miss_send_len);
    }
}

enum_with_unknown! {
    /// OFPCR_ROLE_* controller roles.
    pub enum ControllerRole(u32) {
        /// Don't change the current role.
        NoChange = 0,
        /// Default role, full access.
        Equal = 1,
        /// Full access, at most one master.
        Master = 2,
        /// Read-only access.
        Slave = 3,
    }
}

/// OFPT_ROLE_REQUEST / OFPT_ROLE_REPLY body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RoleMsg {
    /// The role.
    pub role: ControllerRole,
    /// Master election generation id.
    pub generation_id: u64,
}

impl RoleMsg {
    /// Encoded body length.
    pub const LEN: usize = 16;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let role = ControllerRole::from(r.u32()?);
        r.skip(4)?;
        Ok(RoleMsg {
            role,
            generation_id: r.u64()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.role.into());
        w.zeros(4);
        w.u64(self.generation_id);
    }
}

/// OFPT_GET_ASYNC_REPLY / OFPT_SET_ASYNC body: [master/equal, slave] masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AsyncConfig {
    /// OFPR_* bitmasks for PACKET_IN.
    pub packet_in_mask: [u32; 2],
    /// OFPPR_* bitmasks for PORT_STATUS.
    pub port_status_mask: [u32; 2],
    /// OFPRR_* bitmasks for FLOW_REMOVED.
    pub flow_removed_mask: [u32; 2],
}

impl AsyncConfig {
    /// Encoded body length.
    pub const LEN: usize = 24;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        Ok(AsyncConfig {
            packet_in_mask: [r.u32()?, r.u32()?],
            port_status_mask: [r.u32()?, r.u32()?],
            flow_removed_mask: [r.u32()?, r.u32()?],
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        for v in self
            .packet_in_mask
            .iter()
            .chain(&self.port_status_mask)
            .chain(&self.flow_removed_mask)
        {
            w.u32(*v);
        }
    }
}

/// OFPT_EXPERIMENTER body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Experimenter {
    /// Experimenter id.
    pub experimenter: u32,
    /// Experimenter-defined type.
    pub exp_type: u32,
    /// Experimenter-defined payload.
    #[serde(serialize_with = "hex::serialize")]
    pub data: Vec<u8>,
}

impl Experimenter {
    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let experimenter = r.u32()?;
        let exp_type = r.u32()?;
        Ok(Experimenter {
            experimenter,
            exp_type,
            data: r.rest().to_vec(),
        })
    }

    /// Encoded body length.
    pub fn buffer_len(&self) -> usize {
        8 + self.data.len()
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.experimenter);
        w.u32(self.exp_type);
        w.put(&self.data);
    }
}

/// OFPT_TABLE_MOD body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TableMod {
    /// Table id, or `table::ALL`.
    pub table_id: u8,
    /// OFPTC_* config bits.
    pub config: u32,
}

impl TableMod {
    /// Encoded body length.
    pub const LEN: usize = 8;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let table_id = r.u8()?;
        r.skip(3)?;
        Ok(TableMod {
            table_id,
            config: r.u32()?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.table_id);
        w.zeros(3);
        w.u32(self.config);
    }
}
