//! The JSON shapes the API serves.

use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// A datapath id, shown as 16 hex digits (as `ovs-ofctl` and Mininet print it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, ToSchema)]
#[schema(value_type = String, example = "000000000000000a")]
pub struct Dpid(pub u64);

impl Serialize for Dpid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:016x}", self.0))
    }
}

/// Switches, links and hosts.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Topology {
    /// False until the controller has published its first snapshot.
    #[serde(skip)]
    pub ready: bool,
    /// Connected switches that finished the handshake (shared between
    /// snapshots until a switch or port changes).
    #[schema(value_type = Vec<Switch>)]
    pub switches: Arc<Vec<Switch>>,
    /// Directed inter-switch links (each physical link once per direction).
    pub links: Vec<LinkView>,
    /// Hosts learned at edge ports.
    pub hosts: Vec<HostView>,
    /// Weighted multipath select groups, one per (ingress, egress) switch pair in use.
    pub groups: Vec<GroupView>,
    /// Kubernetes nodes registered with the controller.
    pub nodes: Vec<NodeView>,
    /// Placement batches (scheduling results) and what they installed
    /// (served at `/api/v1/placements`, not with the topology).
    #[serde(skip)]
    pub placements: Vec<PlacementView>,
}

/// The select group on an ingress switch that spreads traffic for an egress switch.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Switch {
    /// Datapath id.
    pub dpid: Dpid,
    /// Its ports.
    pub ports: Vec<PortView>,
}

/// One switch port.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct End {
    /// Switch.
    pub dpid: Dpid,
    /// Port on it.
    pub port_no: u32,
}

/// A directed link.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkView {
    /// Where traffic leaves.
    pub src: End,
    /// Where it arrives.
    pub dst: End,
    /// Bits per second the source port sent over the last polling interval.
    pub tx_bps: Option<f64>,
    /// That rate over the port's speed (configured or reported).
    pub utilization: Option<f64>,
    /// The port's speed (configured or reported), bit/s.
    pub capacity_bps: Option<f64>,
    /// Predicted load (bit/s) for the next forecast intervals, 80 % interval.
    pub forecast: Option<Vec<ForecastStep>>,
}

/// One predicted step of a link's load.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HostView {
    /// MAC address.
    pub mac: String,
    /// IP addresses it used.
    pub ips: Vec<String>,
    /// Switch it is attached to.
    pub dpid: Dpid,
    /// Port it is attached to.
    pub port_no: u32,
    /// Bits per second the host sent into its port over the last polling interval.
    pub tx_bps: Option<f64>,
    /// Bits per second its port sent to the host.
    pub rx_bps: Option<f64>,
    /// Speed of its port (configured or reported), bit/s.
    pub speed_bps: Option<f64>,
}

/// Controller counters, refreshed at most once a second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
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
    /// Switch sessions the controller closed: a protocol error or timeout, a
    /// switch started over, replaced by its new connection, or refused.
    pub sessions_failed: u64,
    /// Switches refused because a switch with the same datapath id was
    /// connected and answering.
    pub duplicate_datapaths: u64,
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
    /// Frames for unknown hosts not flooded: their host port sent more
    /// than `unknown_flood_per_s` a second (after a burst of
    /// `unknown_flood_burst`; 16 and 32 by default).
    pub floods_limited: u64,
    /// FLOW_MODs sent to switches.
    pub flow_mods: u64,
    /// How late the latest statistics requests left after their scheduled time, milliseconds.
    pub stats_poll_lag_ms: u64,
    /// Multipath groups whose weights rebalancing changed.
    pub groups_reweighted: u64,
    /// Multipath groups whose paths were replaced after a link went away.
    pub groups_repaired: u64,
    /// Switch pairs forwarded on one path because path tags ran out.
    pub multipath_exhausted: u64,
}

/// A Kubernetes node as registered: its name and the IP addresses it uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// The node's name, as kube-scheduler knows it.
    pub name: String,
    /// Its IP addresses (at least one).
    pub ips: Vec<String>,
}

/// A registered node and where the controller found it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NodeView {
    /// The node's name.
    pub name: String,
    /// Its IP addresses.
    pub ips: Vec<String>,
    /// The switch port of the host that uses one of its IPs, once learned.
    pub attachment: Option<End>,
}

/// A batch of scheduling results: pods placed on nodes, with their expected traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementBatch {
    /// Identifies the batch; posting the same id again changes nothing.
    pub id: String,
    /// The pods placed.
    pub pods: Vec<PodPlacement>,
}

/// One pod of a placement batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PodPlacement {
    /// Pod name.
    pub name: String,
    /// Namespace.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// The node it was placed on.
    pub node: String,
    /// The pod's IP address.
    pub ip: String,
    /// Pod labels (for `edgeflow.io/peers` selectors).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Expected traffic to other pods or addresses.
    #[serde(default)]
    pub traffic: Vec<Traffic>,
}

fn default_namespace() -> String {
    "default".into()
}

/// Expected traffic from a pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Traffic {
    /// A pod of the same batch (`name` or `namespace/name`), or an IP address.
    pub to: String,
    /// Expected rate, bit/s.
    pub bps: f64,
}

/// A placement batch and what it installed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlacementView {
    /// The batch id.
    pub id: String,
    /// `installed` (every route), `partial`, or `pending` (none yet: hosts not learned).
    pub state: String,
    /// The batch as posted.
    pub pods: Vec<PodPlacement>,
    /// One route per traffic entry.
    pub routes: Vec<RouteView>,
}

/// The flows installed for one expected traffic entry.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RouteView {
    /// Source pod (`namespace/name`).
    pub from: String,
    /// Destination as given.
    pub to: String,
    /// Source and destination IP addresses.
    pub src_ip: String,
    /// Destination IP address.
    pub dst_ip: Option<String>,
    /// Expected rate, bit/s.
    pub bps: f64,
    /// The ingress switch port, once the source host is known.
    pub ingress: Option<End>,
    /// The egress switch, once the destination host is known.
    pub egress: Option<Dpid>,
    /// The select group the traffic enters (None on a single switch).
    pub group_id: Option<u32>,
    /// Whether its flows are on the switches.
    pub installed: bool,
    /// Why not, when not.
    pub reason: Option<String>,
}

/// What a switch holds, as it reports it (flow and group tables).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SwitchDump {
    /// The switch.
    pub dpid: Dpid,
    /// Its flow entries in every table, with counters (OFPMP_FLOW).
    #[schema(value_type = Vec<Object>)]
    pub flows: Vec<serde_json::Value>,
    /// Its groups (OFPMP_GROUP_DESC).
    #[schema(value_type = Vec<Object>)]
    pub groups: Vec<serde_json::Value>,
}

/// The resolution of a port's rate history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HistoryResolution {
    /// Every poll's rates (kept `history_poll_retention_s`, and up to 10 minutes more).
    #[default]
    Poll,
    /// Minute averages (kept `history_minute_retention_s`, and up to a day more).
    Minute,
}

/// Rates of one port over one polling interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PortRates {
    /// Received bits per second.
    pub rx_bps: f64,
    /// Transmitted bits per second.
    pub tx_bps: f64,
    /// Received packets per second.
    pub rx_pps: f64,
    /// Transmitted packets per second.
    pub tx_pps: f64,
    /// Packets dropped per second, both directions.
    pub drops_ps: f64,
    /// Errors per second, both directions.
    pub errors_ps: f64,
    /// The port speed in bit/s (configured, else reported), when known.
    pub speed_bps: Option<f64>,
}

impl PortRates {
    /// An idle port of unknown speed.
    pub const ZERO: PortRates = PortRates {
        rx_bps: 0.0,
        tx_bps: 0.0,
        rx_pps: 0.0,
        tx_pps: 0.0,
        drops_ps: 0.0,
        errors_ps: 0.0,
        speed_bps: None,
    };

    /// The busier direction's rate over the port speed.
    pub fn utilization(&self) -> Option<f64> {
        self.speed_bps.map(|s| self.rx_bps.max(self.tx_bps) / s)
    }

    /// The transmitted rate over the port speed: the load of the link
    /// direction that leaves through this port.
    pub fn tx_utilization(&self) -> Option<f64> {
        self.speed_bps.map(|s| self.tx_bps / s)
    }
}

/// A port's rates over one polling interval or one minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct RateSample {
    /// When: the poll's time, or the minute's start (unix milliseconds).
    pub unix_ms: u64,
    /// The rates.
    #[serde(flatten)]
    pub rates: PortRates,
}

/// A port's stored rates over a window of time, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortHistory {
    /// Switch.
    pub dpid: Dpid,
    /// Port.
    pub port_no: u32,
    /// Every poll's rates or minute averages.
    pub resolution: HistoryResolution,
    /// Window start, unix milliseconds (inclusive).
    pub from: u64,
    /// Window end, unix milliseconds (exclusive).
    pub to: u64,
    /// The samples in the window.
    pub samples: Vec<RateSample>,
}
