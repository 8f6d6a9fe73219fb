//! Configuration: a TOML file, overridden by command-line flags, checked
//! before any port is bound.

use crate::controller::ControllerConfig;
use crate::discovery::DiscoveryConfig;
use crate::forecasting::ForecastConfig;
use crate::forwarding::{FloodLimit, ForwardingConfig};
use crate::history::Retention;
use crate::multipath::MultipathConfig;
use crate::session::SessionConfig;
use crate::stats::StatsConfig;
use crate::topology::PortRef;
use edgeflow_api::model::Node;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings of `edgeflow run`, as the file spells them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where switches connect.
    pub listen: SocketAddr,
    /// Where the REST API listens.
    pub api_listen: SocketAddr,
    /// Interval between LLDP probe rounds, milliseconds.
    pub lldp_interval_ms: u64,
    /// A link unconfirmed for this long is removed, milliseconds.
    pub link_timeout_ms: u64,
    /// Echo a switch quiet for this long, milliseconds.
    pub echo_interval_ms: u64,
    /// Drop a switch quiet for this long, milliseconds.
    pub echo_timeout_ms: u64,
    /// Idle timeout of host-pair flows, seconds.
    pub flow_idle_timeout_s: u16,
    /// Hosts silent this long, seconds, with no flow carrying their traffic, are forgotten.
    pub host_idle_timeout_s: u64,
    /// Key signing LLDP probes (hex). When absent, a random key is made once
    /// and kept in the state database.
    pub lldp_key: Option<String>,
    /// The state database (redb) file.
    pub state: PathBuf,
    /// Interval between two port-statistics polls of a switch, milliseconds.
    pub stats_interval_ms: u64,
    /// Speed of every switch port in Mbit/s for utilisation, instead of what
    /// the switches report (Open vSwitch's userspace ports report 10 Gbit/s
    /// whatever a traffic shaper allows).
    pub port_speed_mbps: Option<f64>,
    /// Speeds of single ports, overriding both.
    pub port_speeds: Vec<PortSpeed>,
    /// Length of one forecast step, seconds (link loads are averaged over it).
    pub forecast_interval_s: u64,
    /// Forecast steps predicted.
    pub forecast_horizon: usize,
    /// Forecast steps in a seasonal cycle (288 five-minute steps make a day).
    pub forecast_period: usize,
    /// How long every poll's rates are kept at least, seconds (they expire
    /// 10 minutes at a time, so up to 10 minutes more).
    pub history_poll_retention_s: u64,
    /// How long minute averages of the rates are kept at least, seconds
    /// (they expire a day at a time).
    pub history_minute_retention_s: u64,
    /// Spread traffic between switches over weighted paths (select groups);
    /// false forwards each host pair on one shortest path.
    pub multipath: bool,
    /// Paths per pair of switches (at most 16).
    pub multipath_paths: usize,
    /// Interval between two recomputations of the path weights, milliseconds.
    pub rebalance_interval_ms: u64,
    /// Factor (at least 1) on the planned background load when weighting paths.
    pub rebalance_headroom: f64,
    /// A group's path weights change only when that lowers the highest
    /// utilisation among its links by at least this much (0 to 1; 0.1 is 10
    /// % of a link's capacity).
    pub rebalance_min_gain: f64,
    /// Bearer token the API requires (the environment variable
    /// `EDGEFLOW_API_TOKEN` overrides it); none: the API is open.
    pub api_token: Option<String>,
    /// Largest API request body, bytes.
    pub api_body_limit_bytes: usize,
    /// Kubernetes nodes known from the start (more can be registered through the API).
    pub nodes: Vec<Node>,
    /// After input from a switch, the controller's thread keeps polling its
    /// sockets for this long, microseconds, instead of going to sleep: what
    /// arrives meanwhile is read at once, without the wake-up of a sleeping
    /// thread (tens of microseconds on a virtual machine). It costs CPU:
    /// up to a whole core while switches send more often than this. 0: off.
    pub busy_poll_us: u64,
    /// Frames for unknown hosts one host port may have flooded at once.
    pub unknown_flood_burst: u32,
    /// Frames for unknown hosts one host port may have flooded per second
    /// after its burst.
    pub unknown_flood_per_s: f64,
}

/// The speed of one switch port, for utilisation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpeed {
    /// Datapath id as 16 hex digits (as the API shows it).
    pub dpid: String,
    /// Port number.
    pub port: u32,
    /// Speed in Mbit/s.
    pub mbps: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "0.0.0.0:6653".parse().expect("valid address"),
            api_listen: "127.0.0.1:8080".parse().expect("valid address"),
            lldp_interval_ms: 1000,
            link_timeout_ms: 3500,
            echo_interval_ms: 5000,
            echo_timeout_ms: 15000,
            flow_idle_timeout_s: 60,
            host_idle_timeout_s: 300,
            lldp_key: None,
            state: PathBuf::from("/var/lib/edgeflow/state.redb"),
            stats_interval_ms: 1000,
            port_speed_mbps: None,
            port_speeds: Vec::new(),
            forecast_interval_s: 300,
            forecast_horizon: 3,
            forecast_period: 288,
            history_poll_retention_s: 3600,
            history_minute_retention_s: 7 * 24 * 3600,
            multipath: true,
            multipath_paths: 4,
            rebalance_interval_ms: 10_000,
            rebalance_headroom: 1.0,
            rebalance_min_gain: 0.1,
            api_token: None,
            api_body_limit_bytes: 4 << 20,
            nodes: Vec::new(),
            busy_poll_us: 0,
            unknown_flood_burst: 32,
            unknown_flood_per_s: 16.0,
        }
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for these settings.
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.display().to_string(),
            source: Box::new(source),
        })
    }

    /// Checks that the values can work together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.into()));
        if self.lldp_interval_ms == 0 {
            return bad("lldp_interval_ms must be positive");
        }
        if self.link_timeout_ms <= self.lldp_interval_ms {
            return bad("link_timeout_ms must exceed lldp_interval_ms");
        }
        if self.echo_interval_ms == 0 || self.echo_timeout_ms <= self.echo_interval_ms {
            return bad("echo_timeout_ms must exceed echo_interval_ms, which must be positive");
        }
        if self
            .lldp_key
            .as_deref()
            .is_some_and(|k| decode_hex(k).is_none())
        {
            return bad("lldp_key must be an even number of hex digits");
        }
        if self.host_idle_timeout_s == 0 {
            return bad("host_idle_timeout_s must be positive");
        }
        if self.flow_idle_timeout_s == 0 {
            return bad("flow_idle_timeout_s must be positive (idle pairs' flows must expire)");
        }
        if self.forecast_interval_s == 0 || self.forecast_horizon == 0 || self.forecast_period < 2 {
            return bad("forecast_interval_s and forecast_horizon must be positive, forecast_period at least 2");
        }
        if !(1..=16).contains(&self.multipath_paths) || self.rebalance_interval_ms == 0 {
            return bad("multipath_paths must be 1 to 16 and rebalance_interval_ms positive");
        }
        if !(self.rebalance_headroom.is_finite() && self.rebalance_headroom >= 1.0) {
            return bad("rebalance_headroom must be a number of at least 1");
        }
        if !(0.0..=1.0).contains(&self.rebalance_min_gain) {
            return bad("rebalance_min_gain must be a number from 0 to 1");
        }
        if self.api_body_limit_bytes < 1024 {
            return bad("api_body_limit_bytes must be at least 1024");
        }
        if self.api_token.as_deref() == Some("") {
            return bad("api_token must not be empty (leave it out for an open API)");
        }
        if let Some(n) = self.nodes.iter().find(|n| {
            n.ips.is_empty()
                || n.ips
                    .iter()
                    .any(|ip| ip.parse::<std::net::IpAddr>().is_err())
        }) {
            return Err(ConfigError::Invalid(format!(
                "nodes: {:?} needs IP addresses, one per entry of ips",
                n.name
            )));
        }
        if self.stats_interval_ms == 0 {
            return bad("stats_interval_ms must be positive");
        }
        if self.busy_poll_us > 1_000_000 {
            return bad("busy_poll_us must be at most 1000000 (a second)");
        }
        if self.unknown_flood_burst == 0
            || !(self.unknown_flood_per_s.is_finite() && self.unknown_flood_per_s >= 0.0)
        {
            return bad(
                "unknown_flood_burst must be at least 1 and unknown_flood_per_s a number of at least 0",
            );
        }
        let speed_ok = |m: f64| m.is_finite() && m > 0.0;
        if self.port_speed_mbps.is_some_and(|m| !speed_ok(m))
            || self.port_speeds.iter().any(|p| !speed_ok(p.mbps))
        {
            return bad("port speeds must be positive numbers of Mbit/s");
        }
        if let Some(p) = self
            .port_speeds
            .iter()
            .find(|p| u64::from_str_radix(&p.dpid, 16).is_err())
        {
            return Err(ConfigError::Invalid(format!(
                "port_speeds: dpid {:?} is not hex",
                p.dpid
            )));
        }
        Ok(())
    }

    /// The API's settings; `env_token` (from `EDGEFLOW_API_TOKEN`) wins over the file's.
    pub fn api_config(&self, env_token: Option<String>) -> edgeflow_api::ApiConfig {
        edgeflow_api::ApiConfig {
            token: env_token
                .filter(|t| !t.is_empty())
                .or_else(|| self.api_token.clone()),
            body_limit: self.api_body_limit_bytes,
        }
    }

    /// How long the rate history is kept.
    pub fn retention(&self) -> Retention {
        Retention {
            polls: Duration::from_secs(self.history_poll_retention_s),
            minutes: Duration::from_secs(self.history_minute_retention_s),
        }
    }

    /// The forecaster's settings.
    pub fn forecast_config(&self) -> ForecastConfig {
        ForecastConfig {
            interval: Duration::from_secs(self.forecast_interval_s),
            horizon: self.forecast_horizon,
            period: self.forecast_period,
            ..ForecastConfig::default()
        }
    }

    /// The controller's settings; the LLDP key is the configured one, else `stored_key`.
    pub fn controller_config(&self, stored_key: &[u8]) -> Result<ControllerConfig, ConfigError> {
        self.validate()?;
        let key = match &self.lldp_key {
            Some(hex) => decode_hex(hex).unwrap_or_default(),
            None => stored_key.to_vec(),
        };
        Ok(ControllerConfig {
            host_idle: Duration::from_secs(self.host_idle_timeout_s),
            session: SessionConfig {
                echo_interval: Duration::from_millis(self.echo_interval_ms),
                echo_timeout: Duration::from_millis(self.echo_timeout_ms),
                ..SessionConfig::default()
            },
            discovery: DiscoveryConfig {
                probe_interval: Duration::from_millis(self.lldp_interval_ms),
                link_timeout: Duration::from_millis(self.link_timeout_ms),
                key,
            },
            forwarding: ForwardingConfig {
                idle_timeout: self.flow_idle_timeout_s,
                unknown_flood: FloodLimit {
                    burst: f64::from(self.unknown_flood_burst),
                    per_s: self.unknown_flood_per_s,
                },
                multipath: self.multipath.then(|| MultipathConfig {
                    paths: self.multipath_paths,
                    rebalance: Duration::from_millis(self.rebalance_interval_ms),
                    headroom: self.rebalance_headroom,
                    min_gain: self.rebalance_min_gain,
                    forecast_step: Duration::from_secs(self.forecast_interval_s),
                    ..MultipathConfig::default()
                }),
            },
            stats: StatsConfig {
                interval: Duration::from_millis(self.stats_interval_ms),
                speed_overrides: self
                    .port_speeds
                    .iter()
                    .filter_map(|p| {
                        let dpid = u64::from_str_radix(&p.dpid, 16).ok()?;
                        Some((PortRef { dpid, port: p.port }, mbps_to_bps(p.mbps)))
                    })
                    .collect(),
                default_speed: self.port_speed_mbps.map(mbps_to_bps),
            },
        })
    }
}

fn mbps_to_bps(mbps: f64) -> u64 {
    (mbps * 1e6).round() as u64
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_override_defaults() {
        let c: Config =
            toml::from_str("listen = \"127.0.0.1:7000\"\nlldp_interval_ms = 250\n").unwrap();
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.lldp_interval_ms, 250);
        assert_eq!(c.api_listen.port(), 8080);
        let c: Config = toml::from_str(
            "unknown_flood_burst = 4
unknown_flood_per_s = 0.5
",
        )
        .unwrap();
        let limit = c.controller_config(b"k").unwrap().forwarding.unknown_flood;
        assert_eq!(
            limit,
            FloodLimit {
                burst: 4.0,
                per_s: 0.5
            }
        );
    }

    #[test]
    fn port_speeds_become_overrides() {
        let c: Config = toml::from_str(
            "port_speed_mbps = 10\n[[port_speeds]]\ndpid = \"00000000000000a1\"\nport = 3\nmbps = 2.5\n",
        )
        .unwrap();
        let cc = c.controller_config(b"k").unwrap();
        assert_eq!(cc.stats.default_speed, Some(10_000_000));
        assert_eq!(
            cc.stats.speed_overrides[&PortRef {
                dpid: 0xa1,
                port: 3
            }],
            2_500_000
        );
        let bad: Config =
            toml::from_str("[[port_speeds]]\ndpid = \"xyz\"\nport = 3\nmbps = 1\n").unwrap();
        assert!(bad.controller_config(b"k").is_err());
        let zero = Config {
            flow_idle_timeout_s: 0,
            ..Config::default()
        };
        assert!(zero.validate().is_err());
        for bad in [
            Config {
                multipath_paths: 0,
                ..Config::default()
            },
            Config {
                rebalance_headroom: 0.5,
                ..Config::default()
            },
            Config {
                rebalance_min_gain: f64::NAN,
                ..Config::default()
            },
            Config {
                rebalance_min_gain: 1.5,
                ..Config::default()
            },
            Config {
                busy_poll_us: 1_000_001,
                ..Config::default()
            },
            Config {
                unknown_flood_burst: 0,
                ..Config::default()
            },
            Config {
                unknown_flood_per_s: f64::NAN,
                ..Config::default()
            },
            Config {
                unknown_flood_per_s: -1.0,
                ..Config::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }

    #[test]
    fn nodes_and_the_api_token_come_from_the_file_or_the_environment() {
        let c: Config = toml::from_str(
            "api_token = \"file\"\n[[nodes]]\nname = \"n1\"\nips = [\"10.0.0.1\"]\n",
        )
        .unwrap();
        assert!(c.validate().is_ok());
        assert_eq!(c.nodes[0].ips, ["10.0.0.1"]);
        assert_eq!(c.api_config(None).token.as_deref(), Some("file"));
        assert_eq!(
            c.api_config(Some("env".into())).token.as_deref(),
            Some("env")
        );
        let bad: Config =
            toml::from_str("[[nodes]]\nname = \"n1\"\nips = [\"not-an-ip\"]\n").unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Config>("lisen = \"127.0.0.1:7000\"").is_err());
    }

    #[test]
    fn inconsistent_timers_are_rejected() {
        let c = Config {
            lldp_interval_ms: 2000,
            link_timeout_ms: 1000,
            ..Config::default()
        };
        assert!(c.controller_config(b"k").is_err());
        let c = Config {
            lldp_key: Some("xyz".into()),
            ..Config::default()
        };
        assert!(c.controller_config(b"k").is_err());
        assert!(Config::default().controller_config(b"k").is_ok());
    }
}
