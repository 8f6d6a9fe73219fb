//! The JSON shapes the API serves.

use serde::{Serialize, Serializer};

/// A datapath id, shown as 16 hex digits (as `ovs-ofctl` and Mininet print it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dpid(pub u64);

impl Serialize for Dpid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:016x}", self.0))
    }
}

/// Switches, links and hosts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Topology {
    /// False until the controller has published its first snapshot.
    #[serde(skip)]
    pub ready: bool,
    /// Connected switches that finished the handshake.
    pub switches: Vec<Switch>,
    /// Directed inter-switch links (each physical link once per direction).
    pub links: Vec<LinkView>,
    /// Hosts learned at edge ports.
    pub hosts: Vec<HostView>,
    /// Weighted multipath select groups, one per (ingress, egress) switch pair in use.
    pub groups: Vec<GroupView>,
}

/// The select group on an ingress switch that spreads traffic for an egress switch.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    /// The ingress switch, which holds the group.
    pub src: Dpid,
    /// The egress switch.
    pub dst: Dpid,
    /// The OpenFlow group id.
    pub group_id: u32,
    /// One entry per bucket, in bucket order.
    pub paths: Vec<WeightedPath>,
}

/// One path of a group.
#[derive(Debug, Clone, Serialize)]
pub struct WeightedPath {
    /// The path tag (VLAN id) the bucket pushes.
    pub tag: u16,
    /// Where the path leaves each switch, from the ingress on.
    pub hops: Vec<End>,
    /// The bucket weight (the weights of a group sum to 100).
    pub weight: u16,
    /// What the bucket carried over the last polling interval, bit/s.
    pub rate_bps: f64,
}

/// One switch.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    /// Datapath id.
    pub dpid: Dpid,
    /// Its ports.
    pub ports: Vec<PortView>,
}

/// One switch port.
#[derive(Debug, Clone, Serialize)]
pub struct PortView {
    /// OpenFlow port number.
    pub port_no: u32,
    /// Interface name.
    pub name: String,
    /// MAC address.
    pub hw_addr: String,
    /// Administratively and physically up.
    pub up: bool,
    /// Current speed the switch reports, kbit/s.
    pub curr_speed_kbps: u32,
}

/// One end of a link.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct End {
    /// Switch.
    pub dpid: Dpid,
    /// Port on it.
    pub port_no: u32,
}

/// A directed link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    /// Where traffic leaves.
    pub src: End,
    /// Where it arrives.
    pub dst: End,
    /// Bits per second the source port sent over the last polling interval.
    pub tx_bps: Option<f64>,
    /// That rate over the port's speed (configured or reported).
    pub utilization: Option<f64>,
    /// Predicted load (bit/s) for the next forecast intervals, 80 % interval.
    pub forecast: Option<Vec<ForecastStep>>,
}

/// One predicted step of a link's load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForecastStep {
    /// Steps ahead, from 1.
    pub step: usize,
    /// Predicted bit/s.
    pub mean: f64,
    /// Lower end of the 80 % interval.
    pub lower: f64,
    /// Upper end of the 80 % interval.
    pub upper: f64,
}

/// A host.
#[derive(Debug, Clone, Serialize)]
pub struct HostView {
    /// MAC address.
    pub mac: String,
    /// IP addresses it used.
    pub ips: Vec<String>,
    /// Switch it is attached to.
    pub dpid: Dpid,
    /// Port it is attached to.
    pub port_no: u32,
}

/// Controller counters, refreshed at most once a second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ControllerStats {
    /// Switches that finished the handshake.
    pub switches: usize,
    /// Directed inter-switch links.
    pub links: usize,
    /// Hosts known.
    pub hosts: usize,
    /// Host-pair paths installed now (one per direction).
    pub paths: usize,
    /// PACKET_INs received.
    pub packet_in: u64,
    /// Switch sessions closed on a protocol error or timeout.
    pub sessions_failed: u64,
    /// LLDP frames received that this controller did not send.
    pub lldp_foreign: u64,
    /// LLDP frames that could not be parsed.
    pub lldp_malformed: u64,
    /// ARP requests answered by the controller.
    pub proxy_arp: u64,
    /// Frames flooded.
    pub flooded: u64,
    /// Host-pair paths installed since start (one per direction).
    pub paths_installed: u64,
    /// Paths moved off failed links or switches.
    pub paths_rerouted: u64,
    /// PACKET_INs whose frame could not be parsed.
    pub unparsable: u64,
    /// Multipath groups whose weights rebalancing changed.
    pub groups_reweighted: u64,
    /// Multipath groups whose paths were replaced after a link went away.
    pub groups_repaired: u64,
    /// Switch pairs forwarded on one path because path tags ran out.
    pub multipath_exhausted: u64,
}
