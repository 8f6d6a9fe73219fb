//! Ports: `ofp_port`, OFPT_PORT_STATUS, OFPT_PORT_MOD and reserved port numbers.

use super::wire::{emit_into, enum_with_unknown, Reader, Result, Writer};
use crate::MacAddr;

/// Reserved port numbers (OFPP_*).
pub mod port {
    /// Maximum number of physical and logical switch ports.
    pub const MAX: u32 = 0xffff_ff00;
    /// Send the packet out the input port.
    pub const IN_PORT: u32 = 0xffff_fff8;
    /// Submit the packet to the first flow table (packet-out only).
    pub const TABLE: u32 = 0xffff_fff9;
    /// Forward using non-OpenFlow pipeline.
    pub const NORMAL: u32 = 0xffff_fffa;
    /// Flood using non-OpenFlow pipeline.
    pub const FLOOD: u32 = 0xffff_fffb;
    /// All standard ports except the input port.
    pub const ALL: u32 = 0xffff_fffc;
    /// Send to the controller.
    pub const CONTROLLER: u32 = 0xffff_fffd;
    /// The local openflow "port".
    pub const LOCAL: u32 = 0xffff_fffe;
    /// Wildcard port in requests; "no port".
    pub const ANY: u32 = 0xffff_ffff;
}

/// OFPPC_PORT_DOWN: port is administratively down.
pub const OFPPC_PORT_DOWN: u32 = 1;
/// OFPPS_LINK_DOWN: no physical link present.
pub const OFPPS_LINK_DOWN: u32 = 1;

/// `ofp_port`: a port description (64 bytes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Port {
    /// Port number.
    pub port_no: u32,
    /// Hardware address.
    pub hw_addr: MacAddr,
    /// Name (at most 16 bytes on the wire, NUL-padded).
    pub name: String,
    /// OFPPC_* bits.
    pub config: u32,
    /// OFPPS_* bits.
    pub state: u32,
    /// Current features (OFPPF_*).
    pub curr: u32,
    /// Features being advertised.
    pub advertised: u32,
    /// Features supported.
    pub supported: u32,
    /// Features advertised by the peer.
    pub peer: u32,
    /// Current bitrate in kbps.
    pub curr_speed: u32,
    /// Max bitrate in kbps.
    pub max_speed: u32,
}

/// Length of the name field in `ofp_port`.
pub const PORT_NAME_LEN: usize = 16;

impl Port {
    /// Encoded length.
    pub const LEN: usize = 64;

    /// True if the port is neither administratively down nor link-down.
    pub fn is_up(&self) -> bool {
        self.config & OFPPC_PORT_DOWN == 0 && self.state & OFPPS_LINK_DOWN == 0
    }

    /// Parses one port from the front of `buf`, returning it and the rest.
    pub fn parse(buf: &[u8]) -> Result<(Port, &[u8])> {
        let mut r = Reader::new(buf);
        let p = Port::read(&mut r)?;
        Ok((p, r.rest()))
    }

    pub(crate) fn read(r: &mut Reader) -> Result<Port> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = r.mac()?;
        r.skip(2)?;
        let name = r.fixed_str(PORT_NAME_LEN)?;
        Ok(Port {
            port_no,
            hw_addr,
            name,
            config: r.u32()?,
            state: r.u32()?,
            curr: r.u32()?,
            advertised: r.u32()?,
            supported: r.u32()?,
            peer: r.u32()?,
            curr_speed: r.u32()?,
            max_speed: r.u32()?,
        })
    }

    /// Writes the port into `buf[..Port::LEN]`.
    pub fn emit(&self, buf: &mut [u8]) {
        emit_into(buf, |w| self.write(w));
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.port_no);
        w.zeros(4);
        w.mac(self.hw_addr);
        w.zeros(2);
        w.fixed_str(&self.name, PORT_NAME_LEN);
        for v in [
            self.config,
            self.state,
            self.curr,
            self.advertised,
            self.supported,
            self.peer,
            self.curr_speed,
            self.max_speed,
        ] {
            w.u32(v);
        }
    }
}

/// Parses an array of ports filling all of `r`.
pub(crate) fn read_ports(r: &mut Reader) -> Result<Vec<Port>> {
    if !r.remaining().is_multiple_of(Port::LEN) {
        return Err(super::DecodeError::BadLength);
    }
    let mut out = Vec::with_capacity(r.remaining() / Port::LEN);
    while !r.is_empty() {
        out.push(Port::read(r)?);
    }
    Ok(out)
}

enum_with_unknown! {
    /// OFPPR_* reasons for a port status message.
    pub enum PortReason(u8) {
        /// The port was added.
        Add = 0,
        /// The port was removed.
        Delete = 1,
        /// Some attribute of the port has changed.
        Modify = 2,
    }
}

/// OFPT_PORT_STATUS body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortStatus {
    /// Why this message was sent.
    pub reason: PortReason,
    /// The port's description.
    pub desc: Port,
}

impl PortStatus {
    /// Encoded body length.
    pub const LEN: usize = 8 + Port::LEN;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let reason = PortReason::from(r.u8()?);
        r.skip(7)?;
        Ok(PortStatus {
            reason,
            desc: Port::read(r)?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.reason.into());
        w.zeros(7);
        self.desc.write(w);
    }
}

/// OFPT_PORT_MOD body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PortMod {
    /// Port number.
    pub port_no: u32,
    /// Must match the port's hardware address.
    pub hw_addr: MacAddr,
    /// OFPPC_* bits to set.
    pub config: u32,
    /// OFPPC_* bits to change.
    pub mask: u32,
    /// OFPPF_* features to advertise (0 = no change).
    pub advertise: u32,
}

impl PortMod {
    /// Encoded body length.
    pub const LEN: usize = 32;

    pub(crate) fn read(r: &mut Reader) -> Result<Self> {
        let port_no = r.u32()?;
        r.skip(4)?;
        let hw_addr = r.mac()?;
        r.skip(2)?;
        let config = r.u32()?;
        let mask = r.u32()?;
        let advertise = r.u32()?;
        r.skip(4)?;
        Ok(PortMod {
            port_no,
            hw_addr,
            config,
            mask,
            advertise,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.port_no);
        w.zeros(4);
        w.mac(self.hw_addr);
        w.zeros(2);
        w.u32(self.config);
        w.u32(self.mask);
        w.u32(self.advertise);
        w.zeros(4);
    }
}
