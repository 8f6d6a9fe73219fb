//! The tokio shell around the sans-IO [`Controller`]: a listener, one small
//! task per connection that only moves bytes, and one task that owns the
//! controller and its timer. The controller never waits on a socket.

use crate::controller::{ConnId, Controller};
use bytes::Bytes;
use edgeflow_api::model;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{info, warn, Instrument};

/// How often the counters for the API are refreshed.
const STATS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Bytes read per socket read.
const READ_CHUNK: usize = 64 * 1024;

enum Event {
    Connected(ConnId, mpsc::UnboundedSender<Bytes>),
    Data(ConnId, Bytes),
    Disconnected(ConnId),
}

/// Accepts switches and runs the controller until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    mut controller: Controller,
    snapshots: watch::Sender<Arc<model::Topology>>,
    stats: watch::Sender<model::ControllerStats>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let (events_tx, mut events) = mpsc::channel::<Event>(4096);
    let accept = tokio::spawn(accept_loop(listener, events_tx));
    let mut writers: HashMap<ConnId, mpsc::UnboundedSender<Bytes>> = HashMap::new();
    snapshots.send_replace(Arc::new(controller.view()));
    let mut published = controller.version();
    let mut stats_at = Instant::now();
    tokio::pin!(shutdown);
    loop {
        let deadline = controller
            .poll_timeout()
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(3600));
        tokio::select! {
            _ = &mut shutdown => break,
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                handle(&mut controller, &mut writers, ev);
                // Take whatever else is already queued before writing, so one
                // burst of reads becomes one write per connection.
                while let Ok(ev) = events.try_recv() {
                    handle(&mut controller, &mut writers, ev);
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                controller.handle_timeout(std::time::Instant::now());
            }
        }
        // Closing a connection can reroute traffic, which queues messages
        // for other switches: repeat until both queues are empty.
        loop {
            while let Some((conn, bytes)) = controller.poll_transmit() {
                if let Some(w) = writers.get(&conn) {
                    let _ = w.send(bytes);
                }
            }
            let Some((conn, _reason)) = controller.poll_close() else {
                break;
            };
            // Dropping the writer ends the connection once its queue is written.
            writers.remove(&conn);
            controller.handle_disconnect(conn);
        }
        if controller.version() != published {
            published = controller.version();
            snapshots.send_replace(Arc::new(controller.view()));
        }
        if stats_at.elapsed() >= STATS_INTERVAL {
            stats_at = Instant::now();
            stats.send_if_modified(|s| {
                let fresh = controller.stats();
                std::mem::replace(s, fresh) != fresh
            });
        }
    }
    accept.abort();
    info!("controller stopped");
}

fn handle(
    controller: &mut Controller,
    writers: &mut HashMap<ConnId, mpsc::UnboundedSender<Bytes>>,
    ev: Event,
) {
    let now = std::time::Instant::now();
    match ev {
        Event::Connected(conn, w) => {
            writers.insert(conn, w);
            controller.handle_connect(conn, now);
        }
        Event::Data(conn, bytes) => controller.handle_bytes(conn, now, &bytes),
        Event::Disconnected(conn) => {
            writers.remove(&conn);
            controller.handle_disconnect(conn);
        }
    }
}

async fn accept_loop(listener: TcpListener, events: mpsc::Sender<Event>) {
    let mut next_id: ConnId = 1;
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let conn = next_id;
                next_id += 1;
                let span = tracing::info_span!("switch", conn, %peer);
                tokio::spawn(connection(conn, stream, events.clone()).instrument(span));
            }
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Moves bytes between one socket and the controller task.
async fn connection(conn: ConnId, stream: TcpStream, events: mpsc::Sender<Event>) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    if events.send(Event::Connected(conn, tx)).await.is_err() {
        return;
    }
    info!("switch connected");
    let writer = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match rd.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if events
                    .send(Event::Data(conn, Bytes::copy_from_slice(&buf[..n])))
                    .await
                    .is_err()
                {
                    break;
                }
                if writer.is_finished() {
                    break;
                }
            }
        }
    }
    writer.abort();
    let _ = events.send(Event::Disconnected(conn)).await;
    info!("switch disconnected");
}
