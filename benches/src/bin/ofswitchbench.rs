//! ofswitchbench: emulated OpenFlow 1.3 switches against a controller
//! (cbench-style). Switches connect, answer the handshake, let the
//! controller learn their hosts, then keep a window of PACKET_INs between
//! known hosts outstanding and count each one answered once. With a fabric
//! topology, LLDP sent out of a link port comes back as a PACKET_IN at the
//! far end, and the time until the controller's API shows every link is
//! measured. See BENCHMARKS.md for what it measures and how.
//!
//! With `--setups` (path-setup mode) every switch emulates a data plane
//! with flow and group tables that follow the controller's messages, and
//! the window holds end-to-end path setups between hosts on different
//! switches instead of PACKET_INs: setups per second, their latency, and
//! the PACKET_INs, FLOW_MODs and GROUP_MODs each took (see the `setups`,
//! `datapath` and `pipeline` modules).

use anyhow::{bail, Context, Result};
use clap::Parser;
use edgeflow_benches::ofbench::api;
use edgeflow_benches::ofbench::fabric::Fabric;
use edgeflow_benches::ofbench::procfs;
use edgeflow_benches::ofbench::run::{Emulator, PathTotals, PathsConfig, Phase, Totals};
use edgeflow_benches::ofbench::setups::Failure;
use edgeflow_benches::ofbench::switch::SwitchSpec;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "OpenFlow 1.3 switch emulator: PACKET_IN load, latency and fabric discovery")]
struct Args {
    /// The controller's OpenFlow address.
    #[arg(long, default_value = "127.0.0.1:16653")]
    controller: SocketAddr,
    /// Switches, when no --topology is given (no links between them).
    #[arg(long, default_value_t = 16)]
    switches: usize,
    /// Links between switches: fat-tree:K or rrg:N:D (random D-regular graph on N switches).
    #[arg(long)]
    topology: Option<String>,
    /// Seed of the random regular graph.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Hosts per loading switch (at least 2).
    #[arg(long, default_value_t = 16)]
    hosts: u16,
    /// Switches that send PACKET_INs (the first ones with hosts); default all of them.
    #[arg(long)]
    load_switches: Option<usize>,
    /// Outstanding PACKET_INs per loading switch (1: latency mode).
    #[arg(long, default_value_t = 64)]
    window: u32,
    /// Ports per switch (raised to the links plus hosts if fewer).
    #[arg(long, default_value_t = 0)]
    ports: u32,
    /// Seconds counted.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds of load before counting starts.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Milliseconds to wait after the handshakes and after the learning frames.
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
    /// Worker threads (each a current-thread runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The controller's REST API (host:port): wait until it shows every link.
    #[arg(long)]
    api: Option<String>,
    /// The controller's process id, for its CPU time and memory.
    #[arg(long)]
    pid: Option<u32>,
    /// A name for this run in the output.
    #[arg(long, default_value = "")]
    label: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Path-setup mode: emulated flow tables, and --window concurrent
    /// setups of new host pairs per switch with hosts.
    #[arg(long)]
    setups: bool,
}

fn fabric(args: &Args) -> Result<Fabric> {
    let Some(t) = &args.topology else {
        return Ok(Fabric::isolated(args.switches));
    };
    let parts: Vec<&str> = t.split(':').collect();
    let num = |s: &str| {
        s.parse::<usize>()
            .with_context(|| format!("bad number in --topology {t}"))
    };
    match parts.as_slice() {
        ["fat-tree", k] => Fabric::fat_tree(num(k)?),
        ["rrg", n, d] => Fabric::random_regular(num(n)?, num(d)?, args.seed),
        _ => bail!("--topology is fat-tree:K or rrg:N:D, not {t}"),
    }
}

fn specs(args: &Args, fabric: &Fabric) -> Vec<SwitchSpec> {
    let mut loading = args.load_switches.unwrap_or(usize::MAX);
    (0..fabric.len() as u32)
        .map(|s| {
            let links = fabric.link_ports(s);
            let hosts = if fabric.has_hosts(s) && loading > 0 && args.hosts >= 2 {
                loading -= 1;
                args.hosts
            } else {
                0
            };
            SwitchSpec {
                index: s,
                ports: args.ports.max(links + u32::from(hosts)),
                first_host_port: links + 1,
                hosts,
                window: args.window,
            }
        })
        .collect()
}

/// CPU time of this process and of the controller, at one moment.
struct CpuMark {
    own: Duration,
    controller: Option<Duration>,
    at: Instant,
}

fn cpu_mark(pid: Option<u32>) -> CpuMark {
    CpuMark {
        own: procfs::own_cpu(),
        controller: pid.and_then(|p| procfs::cpu_of(p).ok()),
        at: Instant::now(),
    }
}

/// Waits until the API shows every switch and link; returns when that was.
fn wait_discovered(api_addr: &str, fabric: &Fabric, timeout: Duration) -> Result<Instant> {
    let start = Instant::now();
    let want = fabric.directed_links();
    loop {
        let seen = api::topology_counts(api_addr);
        if let Ok(c) = &seen {
            if c.switches >= fabric.len() && c.links >= want {
                return Ok(Instant::now());
            }
        }
        if start.elapsed() > timeout {
            bail!("fabric not discovered within {timeout:?}: last seen {seen:?}, want {} switches and {want} links", fabric.len());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    let fabric = fabric(&args)?;
    let specs = specs(&args, &fabric);
    let n = fabric.len();
    let loading = specs.iter().filter(|s| s.hosts > 0).count();
    let settle = Duration::from_millis(args.settle_ms);
    let start = Instant::now();
    if args.setups && !(2..=255).contains(&args.hosts) {
        bail!("--setups wants 2 to 255 --hosts (their IPv4 addresses end in the host number)");
    }
    let paths = args.setups.then_some(PathsConfig { seed: args.seed });
    let emu = Emulator::start(args.controller, fabric.clone(), specs, args.threads, paths)?;
    emu.wait_ready(n, Duration::from_secs(60))?;
    let handshake_s = start.elapsed().as_secs_f64();
    let mut discovery_s = None;
    let mut rss_discovered = None;
    if let Some(addr) = &args.api {
        let at = wait_discovered(addr, &fabric, Duration::from_secs(60))?;
        discovery_s = Some((at - start).as_secs_f64());
        rss_discovered = args.pid.and_then(|p| procfs::rss_of(p).ok());
    }
    if loading > 0 {
        std::thread::sleep(settle);
        emu.set_phase(Phase::Learn);
        std::thread::sleep(settle);
        emu.set_phase(Phase::Load);
        std::thread::sleep(Duration::from_secs_f64(args.warmup));
    }
    let before = cpu_mark(args.pid);
    emu.set_phase(Phase::Measure);
    std::thread::sleep(Duration::from_secs_f64(args.duration));
    let after = cpu_mark(args.pid);
    let rss_end = args.pid.and_then(|p| procfs::rss_of(p).ok());
    let totals = emu.finish()?;
    let report = Report {
        args: &args,
        switches: n,
        loading,
        handshake_s,
        discovery_s,
        rss_discovered,
        rss_end,
        before,
        after,
        totals,
    };
    if args.json {
        println!("{}", report.json());
    } else {
        report.print();
    }
    if !report.totals.errors.is_empty() {
        bail!("{} switches failed", report.totals.errors.len());
    }
    Ok(())
}

struct Report<'a> {
    args: &'a Args,
    switches: usize,
    loading: usize,
    handshake_s: f64,
    discovery_s: Option<f64>,
    rss_discovered: Option<u64>,
    rss_end: Option<u64>,
    before: CpuMark,
    after: CpuMark,
    totals: Totals,
}

impl Report<'_> {
    fn seconds(&self) -> f64 {
        (self.after.at - self.before.at).as_secs_f64()
    }

    fn answered_per_s(&self) -> f64 {
        self.totals.counters.answered as f64 / self.seconds()
    }

    /// Latency quantile in microseconds.
    fn latency_us(&self, q: f64) -> f64 {
        self.totals.latency.value_at_quantile(q) as f64 / 1e3
    }

    /// This process's CPU per answered PACKET_IN, in nanoseconds.
    fn own_cpu_ns(&self) -> Option<f64> {
        let answered = self.totals.counters.answered;
        (answered > 0)
            .then(|| (self.after.own - self.before.own).as_nanos() as f64 / answered as f64)
    }

    /// The controller's CPU over the counted seconds, in cores.
    fn controller_cores(&self) -> Option<f64> {
        let (a, b) = (self.after.controller?, self.before.controller?);
        Some((a - b).as_secs_f64() / self.seconds())
    }

    fn json(&self) -> serde_json::Value {
        let c = &self.totals.counters;
        let mb = |b: Option<u64>| b.map(|b| b as f64 / (1024.0 * 1024.0));
        serde_json::json!({
            "label": self.args.label,
            "switches": self.switches,
            "loading_switches": self.loading,
            "hosts_per_switch": self.args.hosts,
            "window": self.args.window,
            "seconds": self.seconds(),
            "answered": c.answered,
            "answered_per_s": self.answered_per_s(),
            "sent": c.sent,
            "lost": c.lost,
            "stale_answers": c.stale,
            "flow_mods": c.flow_mods,
            "lldp_packet_outs": c.lldp_out,
            "other_packet_outs": c.other_out,
            "port_stats_replies": c.port_stats,
            "latency_us": {
                "p50": self.latency_us(0.5),
                "p90": self.latency_us(0.9),
                "p99": self.latency_us(0.99),
                "p999": self.latency_us(0.999),
                "max": self.totals.latency.max() as f64 / 1e3,
            },
            "emulator_cpu_ns_per_answer": self.own_cpu_ns(),
            "controller_cores": self.controller_cores(),
            "handshake_s": self.handshake_s,
            "discovery_s": self.discovery_s,
            "directed_links": self.discovery_s.map(|_| self.totals_links()),
            "controller_rss_mb_discovered": mb(self.rss_discovered),
            "controller_rss_mb_end": mb(self.rss_end),
            "errors": self.totals.errors,
            "setups": self.totals.paths.as_ref().map(|p| self.paths_json(p)),
        })
    }

    fn paths_json(&self, p: &PathTotals) -> serde_json::Value {
        let s = &p.setups;
        let c = &self.totals.counters;
        let per = |x: u64| (s.completed > 0).then(|| x as f64 / s.completed as f64);
        let us = |h: &hdrhistogram::Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
        let lat = |h: &hdrhistogram::Histogram<u64>| {
            serde_json::json!({
                "p50": us(h, 0.5), "p90": us(h, 0.9), "p99": us(h, 0.99),
                "p999": us(h, 0.999), "max": h.max() as f64 / 1e3,
            })
        };
        let failed: serde_json::Map<String, serde_json::Value> = Failure::ALL
            .iter()
            .zip(s.failed)
            .map(|(f, n)| (f.name().to_string(), n.into()))
            .collect();
        serde_json::json!({
            "started": s.started,
            "completed": s.completed,
            "completed_per_s": s.completed as f64 / self.seconds(),
            "failed": s.failed_total(),
            "failed_by": failed,
            "packet_ins_per_setup": per(s.packet_ins),
            "flow_mods_per_setup": per(c.flow_mods),
            "group_mods_per_setup": per(c.group_mods),
            "latency_to_probe_delivery_us": lat(&p.setup_latency),
            "latency_to_first_delivery_us": lat(&p.first_latency),
            "misdelivered_copies": s.misdelivered,
            "pairs_exhausted_switches": s.exhausted,
            "flow_entries_at_end": p.flow_entries,
            "groups_at_end": p.groups,
            "unsupported_matches": p.tables.unsupported_matches,
            "refused_mods": p.tables.refused,
            "flow_mods_whole_run": p.tables.flow_mods,
            "group_mods_whole_run": p.tables.group_mods,
            "table_misses": p.datapath.misses,
            "floods": p.datapath.floods,
            "dropped_copies": p.datapath.drops,
            "looped_copies": p.datapath.loops,
            "truncated_copies": p.datapath.truncated,
            "unsupported_actions": p.datapath.unsupported_actions,
            "failure_examples": p.examples,
        })
    }

    fn print_paths(&self, p: &PathTotals) {
        let s = &p.setups;
        let c = &self.totals.counters;
        let per = |x: u64| x as f64 / s.completed.max(1) as f64;
        let us = |h: &hdrhistogram::Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e3;
        println!(
            "path setups: {} complete = {:.0}/s ({} started, {} failed); per complete setup {:.2} PACKET_INs, {:.2} FLOW_MODs, {:.2} GROUP_MODs",
            s.completed,
            s.completed as f64 / self.seconds(),
            s.started,
            s.failed_total(),
            per(s.packet_ins),
            per(c.flow_mods),
            per(c.group_mods)
        );
        for (name, h) in [
            (
                "setup latency (first PACKET_IN to the probe's delivery)",
                &p.setup_latency,
            ),
            (
                "first frame (first PACKET_IN to its delivery)",
                &p.first_latency,
            ),
        ] {
            println!(
                "{name} us: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
                us(h, 0.5),
                us(h, 0.9),
                us(h, 0.99),
                us(h, 0.999),
                h.max() as f64 / 1e3
            );
        }
        let failed: Vec<String> = Failure::ALL
            .iter()
            .zip(s.failed)
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| format!("{} {n}", f.name()))
            .collect();
        if !failed.is_empty() {
            println!("failed setups: {}", failed.join(", "));
        }
        println!(
            "data plane: {} FLOW_MODs and {} GROUP_MODs in the whole run, {} flow entries and {} groups at the end, {} table misses, {} floods, {} copies dropped, {} looped, {} cut, {} copies to other hosts, {} unsupported matches, {} unsupported actions, {} mods refused{}",
            p.tables.flow_mods,
            p.tables.group_mods,
            p.flow_entries,
            p.groups,
            p.datapath.misses,
            p.datapath.floods,
            p.datapath.drops,
            p.datapath.loops,
            p.datapath.truncated,
            s.misdelivered,
            p.tables.unsupported_matches,
            p.datapath.unsupported_actions,
            p.tables.refused,
            if s.exhausted > 0 { format!("; {} switches ran out of new pairs", s.exhausted) } else { String::new() }
        );
        for e in &p.examples {
            println!("failed: {e}");
        }
    }

    fn totals_links(&self) -> usize {
        fabric(self.args).map_or(0, |f| f.directed_links())
    }

    fn print(&self) {
        let c = &self.totals.counters;
        println!(
            "{} switches ({} loading, {} hosts each, window {}), {:.1} s counted",
            self.switches,
            self.loading,
            self.args.hosts,
            self.args.window,
            self.seconds()
        );
        println!("handshakes done after {:.3} s", self.handshake_s);
        if let Some(d) = self.discovery_s {
            println!(
                "fabric discovered ({} directed links) after {d:.3} s",
                self.totals_links()
            );
        }
        println!(
            "answered {} PACKET_INs = {:.0}/s ({} sent, {} lost, {} stale answers, {} FLOW_MODs, {} LLDP and {} other PACKET_OUTs, {} PORT_STATS replies)",
            c.answered, self.answered_per_s(), c.sent, c.lost, c.stale, c.flow_mods, c.lldp_out, c.other_out, c.port_stats
        );
        println!(
            "latency us: p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            self.latency_us(0.5),
            self.latency_us(0.9),
            self.latency_us(0.99),
            self.latency_us(0.999),
            self.totals.latency.max() as f64 / 1e3
        );
        if let Some(ns) = self.own_cpu_ns() {
            println!("emulator CPU per answered PACKET_IN: {ns:.0} ns");
        }
        if let Some(cores) = self.controller_cores() {
            println!("controller CPU: {:.1} % of a core", cores * 100.0);
        }
        let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
        if let Some(r) = self.rss_discovered {
            println!("controller RSS when discovered: {:.1} MB", mb(r));
        }
        if let Some(r) = self.rss_end {
            println!("controller RSS at the end: {:.1} MB", mb(r));
        }
        if let Some(p) = &self.totals.paths {
            self.print_paths(p);
        }
        for e in &self.totals.errors {
            println!("error: {e}");
        }
    }
}
