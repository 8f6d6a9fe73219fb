//! `/metrics` in the Prometheus text format: the controller's counters and
//! a histogram of API request latency kept with atomics (no lock on the
//! request path).

use crate::model::ControllerStats;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds.
const BOUNDS: [f64; 10] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1.0,
];

/// A latency histogram (cumulative on output, as Prometheus wants it).
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Records one request.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BOUNDS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(
            d.as_nanos().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }
}

/// The metrics page.
pub fn render(stats: &ControllerStats, api_latency: &Histogram) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    metric(
        "edgeflow_switches",
        "gauge",
        "Switches connected and ready.",
        stats.switches as f64,
    );
    metric(
        "edgeflow_links",
        "gauge",
        "Directed inter-switch links.",
        stats.links as f64,
    );
    metric(
        "edgeflow_hosts",
        "gauge",
        "Hosts known.",
        stats.hosts as f64,
    );
    metric(
        "edgeflow_packet_in_total",
        "counter",
        "PACKET_INs received.",
        stats.packet_in as f64,
    );
    metric(
        "edgeflow_flow_mods_total",
        "counter",
        "FLOW_MODs sent.",
        stats.flow_mods as f64,
    );
    metric(
        "edgeflow_stats_poll_lag_seconds",
        "gauge",
        "How late the latest statistics requests left after their scheduled time.",
        stats.stats_poll_lag_ms as f64 / 1000.0,
    );
    metric(
        "edgeflow_sessions_failed_total",
        "counter",
        "Switch sessions the controller closed (an error, a timeout, a switch started over, replaced or refused).",
        stats.sessions_failed as f64,
    );
    metric(
        "edgeflow_duplicate_datapaths_total",
        "counter",
        "Switches refused: a switch with the same datapath id was connected and answering.",
        stats.duplicate_datapaths as f64,
    );
    metric(
        "edgeflow_floods_limited_total",
        "counter",
        "Frames for unknown hosts not flooded: their host port was over its flooding rate.",
        stats.floods_limited as f64,
    );
    metric(
        "edgeflow_groups_reweighted_total",
        "counter",
        "Multipath groups reweighted by rebalancing.",
        stats.groups_reweighted as f64,
    );
    let name = "edgeflow_api_request_duration_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} API request latency.\n# TYPE {name} histogram"
    );
    let mut cumulative = 0;
    for (bound, bucket) in BOUNDS.iter().zip(&api_latency.buckets) {
        cumulative += bucket.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
    }
    let count = api_latency.count.load(Ordering::Relaxed);
    let sum = api_latency.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
    let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(5));
        let text = render(&ControllerStats::default(), &h);
        assert!(text.contains("edgeflow_api_request_duration_seconds_bucket{le=\"0.0001\"} 1\n"));
        assert!(text.contains("edgeflow_api_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("edgeflow_api_request_duration_seconds_bucket{le=\"1\"} 2\n"));
        assert!(text.contains("edgeflow_api_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("edgeflow_api_request_duration_seconds_count 3\n"));
        assert!(
            text.contains("# TYPE edgeflow_packet_in_total counter\nedgeflow_packet_in_total 0\n")
        );
    }
}
