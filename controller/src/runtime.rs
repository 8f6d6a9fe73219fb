//! The tokio shell around the sans-IO [`Controller`]: a listener, one small
//! task per connection, one task that writes, and one for the controller's
//! timer and the API's commands, all on one thread. A connection's task
//! hands what it reads straight to the controller (no copy, no channel).
//! A read that completed one message is answered at once, by its own task
//! (no other task is woken for it): the switch is waiting. A read of
//! several (the switch sends faster than it is answered) leaves its output
//! to the writing task, which runs once every connection with input has
//! handled its own and writes what all of it caused: a burst of reads from
//! many switches becomes one burst of writes, one per switch. (Writing
//! after every read cost 13 % of the throughput of switches with 64
//! PACKET_INs in flight; deferring single messages as well cost switches
//! that send one at a time about 10 % at p99.) The controller never waits
//! on a socket. The API's writes arrive as commands; what they change is
//! stored by the record writer thread before the API answers.

use crate::controller::{ConnId, Controller};
use crate::forecasting::Forecasts;
use crate::history::Round;
use crate::placement::PlacementError;
use crate::storage::{Record, RecordWrite, StorageError};
use crate::topology::PortRef;
use ahash::AHashMap as HashMap;
use axum::http::StatusCode;
use bytes::Bytes;
use edgeflow_api::{model, ApiError, Command};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::time::Instant;
use tracing::{info, warn};

/// How often the counters for the API are refreshed.
const STATS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Batches waiting to be written to one switch; a switch that stops reading
/// while this many are queued is dropped rather than let memory grow.
const WRITE_QUEUE: usize = 1024;

/// Bytes read per socket read.
const READ_CHUNK: usize = 16 * 1024;

/// How long a connection the controller closed may take to write what was
/// queued for it.
const CLOSE_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);

/// A connection's writing. Bytes go straight into the socket when nothing
/// is queued and the socket takes them (the usual case); otherwise, or for
/// what the socket did not take, through the queue of the connection's
/// writer task, which keeps the order.
struct Writer {
    socket: Arc<OwnedWriteHalf>,
    queue: mpsc::Sender<Bytes>,
    /// Buffers handed to the writer task and not yet written.
    queued: Arc<AtomicUsize>,
}

impl Writer {
    /// Ends the connection's reading: its pending read returns as at the
    /// end of the stream (the switch may never send again), while what is
    /// queued is still written.
    fn stop_reading(&self) {
        let stream: &TcpStream = self.socket.as_ref().as_ref();
        let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Read);
    }

    /// Sends bytes; false if the switch is not reading (the queue is full).
    fn send(&self, mut bytes: Bytes) -> bool {
        if self.queued.load(Ordering::Acquire) == 0 {
            match self.socket.try_write(&bytes) {
                Ok(n) if n == bytes.len() => return true,
                Ok(n) => {
                    let _ = bytes.split_to(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                // The reader sees the connection fail and reports it.
                Err(_) => return true,
            }
        }
        self.queued.fetch_add(1, Ordering::AcqRel);
        match self.queue.try_send(bytes) {
            Ok(()) => true,
            Err(e) => {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                !matches!(e, mpsc::error::TrySendError::Full(_))
            }
        }
    }
}

type DumpReply = oneshot::Sender<Result<model::SwitchDump, ApiError>>;

/// The controller with its connections' writers, shared by the tasks of
/// the one runtime thread (borrowed only between awaits).
struct Core {
    controller: Controller,
    /// Looked up for every write: hashed with aHash, not SipHash.
    writers: HashMap<ConnId, Writer>,
    /// Switch dumps asked for by the API, by token.
    dumps: HashMap<u64, DumpReply>,
    /// The newest switch dump's token.
    dump_token: u64,
    /// The [`Controller::version`] of the newest snapshot for the API.
    published: u64,
    /// Wakes the task that writes what the connections' input caused.
    flush_wanted: Rc<Notify>,
    /// Wakes the event loop when input changed the topology or brought a
    /// timer forward.
    changed: Rc<Notify>,
    /// When the event loop is next woken for the controller's timers.
    wake_at: Option<std::time::Instant>,
    /// Keeps the thread awake after input, if configured.
    busy: Option<BusyPoll>,
}

/// Busy polling: after input, the thread keeps polling its sockets (the
/// runtime's I/O driver, without a timeout) instead of sleeping, for
/// `window`. A task that yields keeps the runtime from parking: with a task
/// ready, tokio polls for I/O and timers without blocking.
struct BusyPoll {
    window: std::time::Duration,
    /// When input last came.
    last_input: std::time::Instant,
    /// Wakes the polling task after it slept.
    input: Rc<Notify>,
}

impl BusyPoll {
    fn input(&mut self, now: std::time::Instant) {
        self.last_input = now;
        self.input.notify_one();
    }
}

/// Yields while input came within the window, sleeps until input otherwise.
async fn busy_poll(core: Rc<RefCell<Core>>, input: Rc<Notify>) {
    loop {
        let polling = core
            .borrow()
            .busy
            .as_ref()
            .is_some_and(|b| b.last_input.elapsed() < b.window);
        if polling {
            tokio::task::yield_now().await;
        } else {
            input.notified().await;
        }
    }
}

impl Core {
    /// Writes what input caused, and wakes the event loop if the input
    /// changed the topology or brought a timer forward.
    fn flush_input(&mut self) {
        self.flush();
        let earlier = match (self.controller.poll_timeout(), self.wake_at) {
            (Some(t), Some(w)) => t < w,
            (Some(_), None) => true,
            _ => false,
        };
        if self.controller.version() != self.published || earlier {
            self.changed.notify_one();
        }
    }

    /// Writes what the controller queued, ends the connections it closed
    /// and answers the switch dumps it finished.
    fn flush(&mut self) {
        // Closing a connection can reroute traffic, which queues messages
        // for other switches: repeat until both queues are empty.
        loop {
            let mut stalled = Vec::new();
            while let Some((conn, bytes)) = self.controller.poll_transmit() {
                if let Some(w) = self.writers.get(&conn) {
                    if !w.send(bytes) {
                        stalled.push(conn);
                    }
                }
            }
            // The controller logged its own reasons for closing.
            let closed = self.controller.poll_close().map(|(conn, _reason)| conn);
            if closed.is_none() && stalled.is_empty() {
                break;
            }
            for conn in &stalled {
                warn!(conn, "switch is not reading its connection; dropping it");
            }
            for conn in stalled.into_iter().chain(closed) {
                // Dropping the writer ends the connection once its queue is written.
                if let Some(w) = self.writers.remove(&conn) {
                    w.stop_reading();
                }
                self.controller.handle_disconnect(conn);
            }
        }
        while let Some((token, answer)) = self.controller.poll_switch_dump() {
            if let Some(reply) = self.dumps.remove(&token) {
                let _ = reply.send(answer.map_err(|e| ApiError::new(StatusCode::BAD_GATEWAY, e)));
            }
        }
    }

    /// Answers the API's request for a switch's tables (when they arrive).
    fn switch_dump(&mut self, dpid: u64, reply: DumpReply) {
        self.dump_token += 1;
        let token = self.dump_token;
        if self
            .controller
            .request_switch_dump(dpid, token, std::time::Instant::now())
        {
            self.dumps.insert(token, reply);
        } else {
            let msg = format!("switch {dpid:016x} is not connected");
            let _ = reply.send(Err(ApiError::new(StatusCode::NOT_FOUND, msg)));
        }
    }
}

/// Where the runtime publishes what the controller knows.
pub struct Outputs {
    /// Topology snapshots for the API.
    pub snapshots: watch::Sender<Arc<model::Topology>>,
    /// Counters for the API.
    pub stats: watch::Sender<model::ControllerStats>,
    /// Port-rate rounds for the history writer.
    pub history: std::sync::mpsc::SyncSender<Round>,
    /// Port-rate rounds for the forecaster.
    pub forecaster: std::sync::mpsc::SyncSender<Round>,
    /// The forecaster's newest forecasts.
    pub forecasts: watch::Receiver<Arc<Forecasts>>,
    /// Writes from the API.
    pub commands: mpsc::Receiver<Command>,
    /// Where records the API changed are stored.
    pub records: std::sync::mpsc::Sender<RecordWrite>,
}

/// Accepts switches and runs the controller until `shutdown` resolves;
/// `busy_poll` is how long the thread polls instead of sleeping after input
/// (zero: it sleeps at once).
pub async fn run(
    listener: TcpListener,
    controller: Controller,
    outputs: Outputs,
    busy_poll: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::task::LocalSet::new()
        .run_until(event_loop(
            listener, controller, outputs, busy_poll, shutdown,
        ))
        .await
}

async fn event_loop(
    listener: TcpListener,
    controller: Controller,
    outputs: Outputs,
    busy_poll_window: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let Outputs {
        snapshots,
        stats,
        history,
        forecaster,
        mut forecasts,
        mut commands,
        records,
    } = outputs;
    snapshots.send_replace(Arc::new(controller.view()));
    // Input wakes this loop when it changed the topology or brought a timer
    // forward.
    let changed = Rc::new(Notify::new());
    let core = Rc::new(RefCell::new(Core {
        published: controller.version(),
        controller,
        writers: HashMap::new(),
        dumps: HashMap::new(),
        dump_token: 0,
        flush_wanted: Rc::new(Notify::new()),
        changed: Rc::clone(&changed),
        wake_at: None,
        busy: (!busy_poll_window.is_zero()).then(|| BusyPoll {
            window: busy_poll_window,
            last_input: std::time::Instant::now(),
            input: Rc::new(Notify::new()),
        }),
    }));
    // Writes, once the connections with input have all handled theirs
    // (they were woken first and run first), what that input caused.
    let flusher = {
        let core = Rc::clone(&core);
        let wanted = Rc::clone(&core.borrow().flush_wanted);
        tokio::task::spawn_local(async move {
            loop {
                wanted.notified().await;
                core.borrow_mut().flush_input();
            }
        })
    };
    let accept = tokio::task::spawn_local(accept_loop(listener, Rc::clone(&core)));
    let busy = {
        let input = core.borrow().busy.as_ref().map(|b| Rc::clone(&b.input));
        input.map(|input| tokio::task::spawn_local(busy_poll(Rc::clone(&core), input)))
    };
    let mut stats_at = Instant::now();
    let mut rates_published = core.borrow().controller.rates_version();
    tokio::pin!(shutdown);
    loop {
        let deadline = {
            let mut core = core.borrow_mut();
            let tick = (stats_at + STATS_INTERVAL).into_std();
            let at = core.controller.poll_timeout().map_or(tick, |t| t.min(tick));
            core.wake_at = Some(at);
            Instant::from_std(at)
        };
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep_until(deadline) => {
                core.borrow_mut().controller.handle_timeout(std::time::Instant::now());
            }
            Some(cmd) = commands.recv() => {
                let mut core = core.borrow_mut();
                match cmd {
                    Command::SwitchDump(dpid, reply) => core.switch_dump(dpid, reply),
                    cmd => command(&mut core.controller, &records, cmd),
                }
            }
            _ = changed.notified() => {}
        }
        let mut guard = core.borrow_mut();
        let core = &mut *guard;
        core.flush();
        let controller = &mut core.controller;
        // Rates change with every poll: the snapshot follows them at most
        // once per interval, topology changes at once.
        let tick = stats_at.elapsed() >= STATS_INTERVAL;
        let rates_changed = tick && controller.rates_version() != rates_published;
        let forecasts_changed = tick && forecasts.has_changed().unwrap_or(false);
        if controller.version() != core.published || rates_changed || forecasts_changed {
            core.published = controller.version();
            rates_published = controller.rates_version();
            let mut view = controller.view();
            let newest = forecasts.borrow_and_update().clone();
            add_forecasts(&mut view, &newest);
            controller.set_forecasts(newest);
            if rates_changed {
                log_load(&view);
            }
            snapshots.send_replace(Arc::new(view));
        }
        if tick {
            stats_at = Instant::now();
            stats.send_if_modified(|s| {
                let fresh = controller.stats();
                std::mem::replace(s, fresh) != fresh
            });
            let rates = controller.poll_rates();
            if !rates.is_empty() {
                let unix_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                let full = |r: Result<(), std::sync::mpsc::TrySendError<Round>>, name: &str| {
                    if let Err(std::sync::mpsc::TrySendError::Full(_)) = r {
                        warn!(
                            consumer = name,
                            "falling behind: a round of port rates is dropped"
                        );
                    }
                };
                // Forecasts are of link directions: host and idle ports
                // would each cost a forecaster (~22 KB) for nothing.
                let topo = controller.topology();
                let links: Vec<_> = rates
                    .iter()
                    .filter(|(p, _)| topo.is_link_port(*p))
                    .cloned()
                    .collect();
                full(forecaster.try_send((unix_ms, links)), "forecaster");
                full(history.try_send((unix_ms, rates)), "history writer");
            }
        }
    }
    accept.abort();
    flusher.abort();
    if let Some(busy) = busy {
        busy.abort();
    }
    info!("controller stopped");
}

fn api_error(e: PlacementError) -> ApiError {
    let status = match e {
        PlacementError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        PlacementError::Conflict(_) | PlacementError::Overlap { .. } => StatusCode::CONFLICT,
        PlacementError::NotFound(_) => StatusCode::NOT_FOUND,
    };
    ApiError::new(status, e.to_string())
}

fn storage_error(e: StorageError) -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// Stores a record, then answers with `answer` (or the storage error).
fn store_then<T: Send + 'static>(
    records: &std::sync::mpsc::Sender<RecordWrite>,
    (kind, key, value): (Record, String, Option<Vec<u8>>),
    reply: oneshot::Sender<Result<T, ApiError>>,
    answer: Result<T, ApiError>,
) {
    let done = Box::new(move |r: Result<(), StorageError>| {
        let _ = reply.send(r.map_err(storage_error).and(answer));
    });
    if let Err(e) = records.send(RecordWrite {
        kind,
        key,
        value,
        done,
    }) {
        // The writer thread is gone: answer from here.
        (e.0.done)(Err(StorageError::unavailable()));
    }
}

fn json(v: &impl serde::Serialize) -> Option<Vec<u8>> {
    serde_json::to_vec(v).ok()
}

/// Applies one API write to the controller and has it stored.
fn command(
    controller: &mut Controller,
    records: &std::sync::mpsc::Sender<RecordWrite>,
    cmd: Command,
) {
    match cmd {
        Command::PutNode(node, reply) => match controller.put_node(&node) {
            Ok(view) => store_then(
                records,
                (Record::Node, node.name.clone(), json(&node)),
                reply,
                Ok(view),
            ),
            Err(e) => drop(reply.send(Err(api_error(e)))),
        },
        Command::DeleteNode(name, reply) => {
            let answer = controller.delete_node(&name).map_err(api_error);
            store_then(records, (Record::Node, name, None), reply, answer)
        }
        // A batch seen again is stored again, and deleting an unknown batch
        // deletes its record anyway: a client retrying after a failed store
        // leaves memory and disk agreeing.
        Command::PutPlacement(batch, reply) => match controller.put_placement(batch) {
            Ok((created, view)) => {
                let stored = controller.stored_placement(&view.id).and_then(json);
                let key = view.id.clone();
                let status = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                store_then(
                    records,
                    (Record::Placement, key, stored),
                    reply,
                    Ok((status, view)),
                )
            }
            Err(e) => drop(reply.send(Err(api_error(e)))),
        },
        Command::DeletePlacement(id, reply) => match controller.delete_placement(&id) {
            Ok(view) => store_then(records, (Record::Placement, id, None), reply, Ok(view)),
            Err(e) => store_then(
                records,
                (Record::Placement, id, None),
                reply,
                Err(api_error(e)),
            ),
        },
        Command::SwitchDump(..) => unreachable!("switch dumps are answered by the event loop"),
    }
}

/// Puts each link direction's newest forecast into the snapshot.
fn add_forecasts(view: &mut model::Topology, forecasts: &Forecasts) {
    for link in &mut view.links {
        let src = PortRef {
            dpid: link.src.dpid.0,
            port: link.src.port_no,
        };
        link.forecast = forecasts.get(&src).map(|steps| {
            steps
                .iter()
                .enumerate()
                .map(|(i, f)| model::ForecastStep {
                    step: i + 1,
                    mean: f.mean,
                    lower: f.lower,
                    upper: f.upper,
                })
                .collect()
        });
    }
}

/// One line per polling round: how loaded the fabric is.
fn log_load(view: &model::Topology) {
    let measured: Vec<_> = view.links.iter().filter(|l| l.tx_bps.is_some()).collect();
    let busiest = measured.iter().max_by(|a, b| {
        a.tx_bps
            .partial_cmp(&b.tx_bps)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if let Some(l) = busiest {
        info!(
            links = measured.len(),
            busiest = format!(
                "{:016x}:{}->{:016x}:{}",
                l.src.dpid.0, l.src.port_no, l.dst.dpid.0, l.dst.port_no
            ),
            mbps = format!("{:.2}", l.tx_bps.unwrap_or(0.0) / 1e6),
            utilization = l.utilization.map(|u| format!("{:.1}%", u * 100.0)),
            "link load"
        );
    }
}

async fn accept_loop(listener: TcpListener, core: Rc<RefCell<Core>>) {
    let mut next_id: ConnId = 1;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let conn = next_id;
                next_id += 1;
                // No span around the task: entering one on every poll cost
                // about a twentieth of a PACKET_IN's work at the default log
                // level. The controller's own messages name the connection.
                let task = connection(conn, peer, stream, Rc::clone(&core));
                tokio::task::spawn_local(task);
            }
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Runs one switch connection: what it reads goes to the controller at
/// once; what follows is written at once after a read of one message, by
/// the writing task after more.
async fn connection(
    conn: ConnId,
    peer: std::net::SocketAddr,
    stream: TcpStream,
    core: Rc<RefCell<Core>>,
) {
    let _ = stream.set_nodelay(true);
    let (mut rd, wr) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Bytes>(WRITE_QUEUE);
    let socket = Arc::new(wr);
    let queued = Arc::new(AtomicUsize::new(0));
    let w = Writer {
        socket: Arc::clone(&socket),
        queue: tx,
        queued: Arc::clone(&queued),
    };
    // Hands input to the controller and has what follows from it written.
    let step = |input: &mut dyn FnMut(&mut Controller)| {
        let mut core = core.borrow_mut();
        input(&mut core.controller);
        core.flush_wanted.notify_one();
    };
    core.borrow_mut().writers.insert(conn, w);
    step(&mut |c| c.handle_connect(conn, std::time::Instant::now()));
    info!(conn, %peer, "switch connected");
    // Writes what could not be written at once, in order; the write side
    // closes when the last handle to it is dropped.
    let mut writer = tokio::task::spawn_local(async move {
        while let Some(mut bytes) = rx.recv().await {
            while !bytes.is_empty() {
                if socket.writable().await.is_err() {
                    return;
                }
                match socket.try_write(&bytes) {
                    Ok(n) => {
                        let _ = bytes.split_to(n);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => return,
                }
            }
            queued.fetch_sub(1, Ordering::AcqRel);
        }
    });
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let mut core = core.borrow_mut();
                let now = std::time::Instant::now();
                if let Some(busy) = &mut core.busy {
                    busy.input(now);
                }
                let messages = core.controller.handle_bytes(conn, now, &buf[..n]);
                // A burst of topology changes is recomputed once, by the
                // writing task, not after each of its reads.
                if messages <= 1 && !core.controller.recompute_pending() {
                    core.flush_input();
                } else {
                    core.flush_wanted.notify_one();
                }
                if writer.is_finished() {
                    break;
                }
            }
        }
    }
    if !core.borrow().writers.contains_key(&conn) {
        // The controller closed the connection: what it queued last (an
        // error for the switch, say) is written before the socket closes.
        let _ = tokio::time::timeout(CLOSE_DRAIN, &mut writer).await;
    }
    writer.abort();
    core.borrow_mut().writers.remove(&conn);
    step(&mut |c| c.handle_disconnect(conn));
    info!(conn, %peer, "switch disconnected");
}
