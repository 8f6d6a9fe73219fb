//! The I/O around emulated switches: worker threads, each with a
//! current-thread tokio runtime running one task per switch. A task wakes
//! when its socket has bytes, when a frame arrives from a linked switch, or
//! when the phase changes; everything one wake-up produces leaves in one
//! write.
//!
//! In path-setup mode frames between switches and reports on them travel
//! the same channels; before a switch handles a frame from a link it reads
//! whatever its controller connection holds (straight from the socket, not
//! waiting for the runtime to notice), so a frame meets every flow the
//! controller had sent that switch by the time it arrived, as on a switch
//! that applies FLOW_MODs as they come.

use super::datapath::{Datapath, DatapathCounters, Trace, Wire};
use super::fabric::Fabric;
use super::setups::{PairSpace, SetupCounters, Setups};
use super::switch::{Counters, Switch, SwitchSpec};
use super::table::TableCounters;
use anyhow::{bail, Context, Result};
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

/// Packets unanswered this long are given up (so a controller that drops
/// some cannot stall a window for good).
const LOSS_TIMEOUT: Duration = Duration::from_secs(1);
/// Bytes read per socket read.
const READ_CHUNK: usize = 64 * 1024;

/// What every switch does, in order; the caller moves all of them on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Connect and answer the handshake.
    Connect,
    /// Send one frame from every host so the controller learns them.
    Learn,
    /// Keep the window full, not counting.
    Load,
    /// Keep the window full and count.
    Measure,
    /// Stop counting and disconnect.
    Stop,
}

/// What the path-setup mode needs beyond the switch specs.
#[derive(Debug, Clone, Copy)]
pub struct PathsConfig {
    /// Seed of each switch's pair order.
    pub seed: u64,
}

/// Shared between the caller and the switch tasks.
struct Shared {
    controller: SocketAddr,
    fabric: Fabric,
    phase: watch::Sender<Phase>,
    /// Switches that have answered FEATURES_REQUEST.
    ready: AtomicUsize,
    links: Vec<mpsc::UnboundedSender<Wire>>,
    /// Path-setup mode: which switches pick pairs among which hosts.
    paths: Option<PairSpace>,
}

/// What the switches counted, summed.
#[derive(Debug)]
pub struct Totals {
    /// Counters of every switch.
    pub counters: Counters,
    /// Answer latencies of every switch, in nanoseconds.
    pub latency: Histogram<u64>,
    /// Switches that failed, with why.
    pub errors: Vec<String>,
    /// Path-setup results, in that mode.
    pub paths: Option<PathTotals>,
}

/// What the switches of a path-setup run counted, summed.
#[derive(Debug)]
pub struct PathTotals {
    /// Setups.
    pub setups: SetupCounters,
    /// Data planes.
    pub datapath: DatapathCounters,
    /// Tables (for the whole run, not only the counted seconds).
    pub tables: TableCounters,
    /// Flow entries on all switches at the end.
    pub flow_entries: usize,
    /// Groups on all switches at the end.
    pub groups: usize,
    /// First PACKET_IN to first delivery, ns.
    pub first_latency: Histogram<u64>,
    /// First PACKET_IN to the probe's delivery, ns.
    pub setup_latency: Histogram<u64>,
    /// A few failed setups, described.
    pub examples: Vec<String>,
}

impl PathTotals {
    fn new() -> Result<PathTotals> {
        Ok(PathTotals {
            setups: SetupCounters::default(),
            datapath: DatapathCounters::default(),
            tables: TableCounters::default(),
            flow_entries: 0,
            groups: 0,
            first_latency: Histogram::new(3)?,
            setup_latency: Histogram::new(3)?,
            examples: Vec::new(),
        })
    }

    fn add(&mut self, p: &super::switch::PathMode) -> Result<()> {
        let dp = &p.datapath;
        self.datapath.add(&dp.counters);
        self.tables.add(&dp.tables.counters);
        self.flow_entries += dp.tables.total();
        self.groups += dp.tables.groups();
        if let Some(s) = &p.setups {
            self.setups.add(&s.counters);
            self.first_latency.add(&s.first_latency)?;
            self.setup_latency.add(&s.setup_latency)?;
            self.examples.extend(
                s.examples
                    .iter()
                    .take(10 - self.examples.len().min(10))
                    .cloned(),
            );
        }
        Ok(())
    }
}

/// Running emulated switches.
pub struct Emulator {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<Vec<Result<Switch>>>>,
}

impl Emulator {
    /// Starts one switch per spec (spec `i` is switch `i` of `fabric`),
    /// spread over `threads` worker threads; with `paths`, in path-setup
    /// mode (the switches with at least two hosts start setups).
    pub fn start(
        controller: SocketAddr,
        fabric: Fabric,
        specs: Vec<SwitchSpec>,
        threads: usize,
        paths: Option<PathsConfig>,
    ) -> Result<Emulator> {
        let paths = paths.map(|c| {
            let edge: Vec<u32> = specs
                .iter()
                .filter(|s| s.hosts >= 2)
                .map(|s| s.index)
                .collect();
            PairSpace {
                hosts: specs
                    .iter()
                    .map(|s| s.hosts)
                    .filter(|&h| h >= 2)
                    .min()
                    .unwrap_or(0),
                edge: Arc::new(edge),
                first_host_port: Arc::new(specs.iter().map(|s| s.first_host_port).collect()),
                seed: c.seed,
            }
        });
        let (links, mut inboxes): (Vec<_>, Vec<_>) =
            specs.iter().map(|_| mpsc::unbounded_channel()).unzip();
        let shared = Arc::new(Shared {
            controller,
            fabric,
            phase: watch::channel(Phase::Connect).0,
            ready: AtomicUsize::new(0),
            links,
            paths,
        });
        let threads = threads.max(1);
        let mut per_thread: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, spec) in specs.into_iter().enumerate().rev() {
            let inbox = inboxes.pop().expect("one inbox per switch");
            per_thread[i % threads].push((spec, inbox));
        }
        let mut workers = Vec::new();
        for (t, switches) in per_thread.into_iter().enumerate() {
            let shared = shared.clone();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let worker = std::thread::Builder::new()
                .name(format!("switches-{t}"))
                .spawn(move || {
                    rt.block_on(async move {
                        let tasks: Vec<_> = switches
                            .into_iter()
                            .map(|(spec, inbox)| {
                                tokio::spawn(run_switch(spec, inbox, shared.clone()))
                            })
                            .collect();
                        let mut done = Vec::new();
                        for t in tasks {
                            done.push(t.await.unwrap_or_else(|e| Err(e.into())));
                        }
                        done
                    })
                })?;
            workers.push(worker);
        }
        Ok(Emulator { shared, workers })
    }

    /// Moves every switch on to `phase`.
    pub fn set_phase(&self, phase: Phase) {
        self.shared.phase.send_replace(phase);
    }

    /// Switches that have answered FEATURES_REQUEST so far.
    pub fn ready(&self) -> usize {
        self.shared.ready.load(Ordering::Relaxed)
    }

    /// Waits until `n` switches are ready, at most `timeout`.
    pub fn wait_ready(&self, n: usize, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        while self.ready() < n {
            if start.elapsed() > timeout {
                bail!(
                    "only {} of {n} switches finished the handshake within {timeout:?}",
                    self.ready()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Stops every switch and sums what they counted.
    pub fn finish(self) -> Result<Totals> {
        self.set_phase(Phase::Stop);
        let mut totals = Totals {
            counters: Counters::default(),
            latency: Histogram::new(3)?,
            errors: Vec::new(),
            paths: None,
        };
        for w in self.workers {
            let done = w
                .join()
                .map_err(|_| anyhow::anyhow!("a switch thread panicked"))?;
            for sw in done {
                match sw {
                    Ok(sw) => {
                        totals.counters.add(&sw.counters);
                        totals.latency.add(&sw.latency)?;
                        if let Some(p) = &sw.path {
                            if totals.paths.is_none() {
                                totals.paths = Some(PathTotals::new()?);
                            }
                            totals.paths.as_mut().expect("just set").add(p)?;
                        }
                    }
                    Err(e) => totals.errors.push(format!("{e:#}")),
                }
            }
        }
        Ok(totals)
    }
}

/// One switch's connection, until the phase is [`Phase::Stop`].
async fn run_switch(
    spec: SwitchSpec,
    mut inbox: mpsc::UnboundedReceiver<Wire>,
    shared: Arc<Shared>,
) -> Result<Switch> {
    let index = spec.index;
    let mut phases = shared.phase.subscribe();
    let mut stream = TcpStream::connect(shared.controller)
        .await
        .with_context(|| format!("switch {index}: connecting to {}", shared.controller))?;
    stream.set_nodelay(true)?;
    let paths = shared.paths.clone();
    let mut sw = Switch::new(spec.clone(), Instant::now());
    if let Some(space) = paths.clone() {
        let links = (1..=shared.fabric.link_ports(index))
            .filter_map(|p| shared.fabric.peer(index, p))
            .collect();
        let hosts = spec.first_host_port..spec.first_host_port + u32::from(spec.hosts);
        let n = shared.fabric.len() as u32;
        let datapath = Datapath::new(index, spec.ports, links, hosts, n);
        let setups = (spec.hosts >= 2).then(|| Setups::new(index, space, spec.window));
        sw.enable_paths(datapath, setups);
    }
    let mut buf = vec![0u8; READ_CHUNK];
    let mut phase = Phase::Connect;
    let mut counted_ready = false;
    let mut expiry = tokio::time::interval(LOSS_TIMEOUT / 2);
    loop {
        for e in sw.emitted.drain(..) {
            if let Some(far) = shared.fabric.peer(index, e.port) {
                // A closed inbox means that switch is gone: the frame is lost, as on a cut link.
                let _ = shared.links[far.switch as usize].send(Wire::Frame {
                    port: far.port,
                    frame: e.frame,
                    trace: Trace::new(false),
                });
            }
        }
        send_wires(&mut sw, index, &shared);
        if !sw.transmit().is_empty() {
            stream
                .write_all(sw.transmit())
                .await
                .with_context(|| format!("switch {index}: writing"))?;
            sw.transmitted();
        }
        if let Some(e) = sw.error.take() {
            bail!("switch {index}: {e}");
        }
        if !counted_ready && sw.features_sent() {
            counted_ready = true;
            shared.ready.fetch_add(1, Ordering::Relaxed);
        }
        let loading = (Phase::Load..Phase::Stop).contains(&phase);
        tokio::select! {
            n = stream.read(&mut buf) => {
                let n = n.with_context(|| format!("switch {index}: reading"))?;
                if n == 0 {
                    bail!("switch {index}: the controller closed the connection");
                }
                let now = Instant::now();
                sw.handle_bytes(now, &buf[..n]);
                if loading {
                    sw.fill_window(now);
                }
            }
            Some(w) = inbox.recv() => {
                if paths.is_some() {
                    read_ready(&stream, &mut buf, &mut sw)
                        .with_context(|| format!("switch {index}: reading"))?;
                }
                let now = Instant::now();
                sw.wire(now, w);
                while let Ok(w) = inbox.try_recv() {
                    sw.wire(now, w);
                }
                if loading {
                    sw.fill_window(now);
                }
            }
            changed = phases.changed() => {
                changed?;
                let next = *phases.borrow_and_update();
                enter(&mut sw, phase, next);
                phase = next;
                if phase == Phase::Stop {
                    return Ok(sw);
                }
            }
            _ = expiry.tick(), if loading => {
                let now = Instant::now();
                sw.expire(now, LOSS_TIMEOUT);
                sw.fill_window(now);
            }
        }
    }
}

/// Sends what a switch's data plane has for other switches; what it has for
/// itself (reports on its own frames) it handles at once.
fn send_wires(sw: &mut Switch, index: u32, shared: &Shared) {
    loop {
        let Some(p) = sw.path.as_deref_mut() else {
            return;
        };
        if p.datapath.sends.is_empty() {
            return;
        }
        let sends = std::mem::take(&mut p.datapath.sends);
        let now = Instant::now();
        for (to, w) in sends {
            if to == index {
                sw.wire(now, w);
            } else if let Some(link) = shared.links.get(to as usize) {
                // A closed inbox means that switch is gone: the frame is lost.
                let _ = link.send(w);
            }
        }
    }
}

/// Reads and handles whatever the controller connection holds now, with a
/// non-blocking receive straight from the socket.
fn read_ready(stream: &TcpStream, buf: &mut [u8], sw: &mut Switch) -> Result<()> {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    loop {
        // SAFETY: `buf` is valid for writes of its length and `fd` is the
        // open socket `stream` owns; MSG_DONTWAIT never blocks.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n > 0 {
            sw.handle_bytes(Instant::now(), &buf[..n as usize]);
            continue;
        }
        if n == 0 {
            bail!("the controller closed the connection");
        }
        let e = std::io::Error::last_os_error();
        match e.kind() {
            std::io::ErrorKind::WouldBlock => return Ok(()),
            std::io::ErrorKind::Interrupted => continue,
            _ => return Err(e.into()),
        }
    }
}

/// What a switch does on moving from phase `from` to `to` (phases may be skipped).
fn enter(sw: &mut Switch, from: Phase, to: Phase) {
    if from < Phase::Learn && to >= Phase::Learn {
        sw.learn_hosts();
    }
    if from < Phase::Load && (Phase::Load..Phase::Stop).contains(&to) {
        sw.fill_window(Instant::now());
    }
    sw.set_counting(to == Phase::Measure);
}
