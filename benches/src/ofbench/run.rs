//! The I/O around emulated switches: worker threads, each with a
//! current-thread tokio runtime running one task per switch. A task wakes
//! when its socket has bytes, when a frame arrives from a linked switch, or
//! when the phase changes; everything one wake-up produces leaves in one
//! write.

use super::fabric::Fabric;
use super::switch::{Counters, Switch, SwitchSpec};
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

/// A frame delivered over a link: the far end's port and the frame.
type Delivery = (u32, Vec<u8>);

/// Shared between the caller and the switch tasks.
struct Shared {
    controller: SocketAddr,
    fabric: Fabric,
    phase: watch::Sender<Phase>,
    /// Switches that have answered FEATURES_REQUEST.
    ready: AtomicUsize,
    links: Vec<mpsc::UnboundedSender<Delivery>>,
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
}

/// Running emulated switches.
pub struct Emulator {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<Vec<Result<Switch>>>>,
}

impl Emulator {
    /// Starts one switch per spec (spec `i` is switch `i` of `fabric`),
    /// spread over `threads` worker threads.
    pub fn start(
        controller: SocketAddr,
        fabric: Fabric,
        specs: Vec<SwitchSpec>,
        threads: usize,
    ) -> Result<Emulator> {
        let (links, mut inboxes): (Vec<_>, Vec<_>) =
            specs.iter().map(|_| mpsc::unbounded_channel()).unzip();
        let shared = Arc::new(Shared {
            controller,
            fabric,
            phase: watch::channel(Phase::Connect).0,
            ready: AtomicUsize::new(0),
            links,
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
    mut inbox: mpsc::UnboundedReceiver<Delivery>,
    shared: Arc<Shared>,
) -> Result<Switch> {
    let index = spec.index;
    let mut phases = shared.phase.subscribe();
    let mut stream = TcpStream::connect(shared.controller)
        .await
        .with_context(|| format!("switch {index}: connecting to {}", shared.controller))?;
    stream.set_nodelay(true)?;
    let mut sw = Switch::new(spec, Instant::now());
    let mut buf = vec![0u8; READ_CHUNK];
    let mut phase = Phase::Connect;
    let mut counted_ready = false;
    let mut expiry = tokio::time::interval(LOSS_TIMEOUT / 2);
    loop {
        for e in sw.emitted.drain(..) {
            if let Some(far) = shared.fabric.peer(index, e.port) {
                // A closed inbox means that switch is gone: the frame is lost, as on a cut link.
                let _ = shared.links[far.switch as usize].send((far.port, e.frame));
            }
        }
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
            Some((port, frame)) = inbox.recv() => {
                sw.inject(port, frame);
                while let Ok((port, frame)) = inbox.try_recv() {
                    sw.inject(port, frame);
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
