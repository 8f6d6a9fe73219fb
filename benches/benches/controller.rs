//! The controller's own work per PACKET_IN, without sockets or a runtime:
//! emulated switches (ofswitchbench's state machine) connect to the sans-IO
//! controller in memory and learn their hosts, then each records windows of
//! PACKET_INs between its hosts, as `ofswitchbench --switches 16` sends
//! them. An iteration hands every switch one recorded window and takes all
//! that the controller sends (a FLOW_MOD and a PACKET_OUT per PACKET_IN).
//! Beside it, the ceiling's work on the same bytes: framing each message and
//! answering it with one PACKET_OUT from a template (`ceiling`'s loop).
//!
//! Beside those, one polling round at fabric scale: 1,000 switches' PORT_STATS
//! replies of 48 ports each, as the controller reads them once a second, and
//! the history writer's work for that round (its rows committed to a redb
//! file, the minute averages summed, written and expired once a minute).
//!
//! Window 64 is the throughput run's read (many PACKET_INs per read, one
//! write per switch after); window 1 the latency run's (one PACKET_IN per
//! read, answered at once).
//!
//! With `EDGEFLOW_ROUNDS=n` it runs n rounds (window `EDGEFLOW_WINDOW`,
//! default 64) and no criterion:
//! under `valgrind --tool=callgrind`, the difference between two values of
//! n gives instructions per PACKET_IN, repeatable on a noisy machine.

use criterion::{black_box, Criterion, Throughput};
use edgeflow_benches::ofbench::switch::{Switch, SwitchSpec};
use edgeflow_benches::ofbench::template::{packet_in_data, PacketOutTemplate};
use edgeflow_controller::config::Config;
use edgeflow_controller::controller::{ConnId, Controller};
use edgeflow_controller::history::{Retention, Writer};
use edgeflow_controller::storage::Store;
use edgeflow_proto::ofp::{self, Message, MultipartRequest, MultipartRequestBody, OfpMsg};
use std::time::Instant;

/// The allocator of the `edgeflow` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SWITCHES: u32 = 16;
const HOSTS: u16 = 16;
/// Windows recorded per switch: enough to go round every host pair
/// (16 x 15) a few times, as the emulator does.
const ROUNDS: usize = 15;

/// Hands each switch's queued bytes to the controller and the controller's
/// to the switches until neither has anything to say.
fn pump(c: &mut Controller, switches: &mut [Switch], now: Instant) {
    loop {
        let mut quiet = true;
        for (i, sw) in switches.iter_mut().enumerate() {
            if !sw.transmit().is_empty() {
                c.handle_bytes(i as ConnId + 1, now, sw.transmit());
                sw.transmitted();
                quiet = false;
            }
        }
        while let Some((conn, bytes)) = c.poll_transmit() {
            switches[conn as usize - 1].handle_bytes(now, &bytes);
            quiet = false;
        }
        if quiet {
            return;
        }
    }
}

/// A controller with the default configuration and `specs`' switches,
/// connected and past their handshakes.
fn connected(specs: impl Iterator<Item = SwitchSpec>, now: Instant) -> (Controller, Vec<Switch>) {
    let config = Config::default()
        .controller_config(b"bench key")
        .expect("the default configuration is valid");
    let mut c = Controller::new(config);
    let mut switches: Vec<Switch> = specs.map(|spec| Switch::new(spec, now)).collect();
    for i in 0..switches.len() {
        c.handle_connect(i as ConnId + 1, now);
    }
    pump(&mut c, &mut switches, now);
    assert!(switches.iter().all(Switch::features_sent));
    (c, switches)
}

/// A controller with 16 switches whose hosts it knows, and per switch
/// `ROUNDS` recorded windows of `window` PACKET_INs.
fn setup(window: u32) -> (Controller, Vec<Vec<Vec<u8>>>) {
    let now = Instant::now();
    let specs = (0..SWITCHES).map(|index| SwitchSpec {
        index,
        ports: u32::from(HOSTS),
        first_host_port: 1,
        hosts: HOSTS,
        window,
    });
    let (mut c, mut switches) = connected(specs, now);
    switches.iter_mut().for_each(Switch::learn_hosts);
    pump(&mut c, &mut switches, now);
    assert_eq!(c.hosts().len(), (SWITCHES * u32::from(HOSTS)) as usize);
    let mut recorded = vec![Vec::new(); switches.len()];
    for _ in 0..ROUNDS {
        for (sw, rec) in switches.iter_mut().zip(&mut recorded) {
            sw.fill_window(now);
            rec.push(sw.transmit().to_vec());
            sw.transmitted();
            // Answered by the controller: the window has room again.
            c.handle_bytes(sw.dpid() as ConnId, now, rec.last().expect("pushed"));
        }
        while let Some((conn, bytes)) = c.poll_transmit() {
            switches[conn as usize - 1].handle_bytes(now, &bytes);
        }
    }
    (c, recorded)
}

/// `ceiling`'s answer to one read: every PACKET_IN gets one PACKET_OUT.
fn ceiling(read: &[u8], answer: &PacketOutTemplate, out: &mut Vec<u8>) {
    let mut at = 0;
    while let Ok(Some(len)) = ofp::frame_len(&read[at..]) {
        let msg = &read[at..at + len];
        let xid = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
        if let Some((in_port, frame)) = packet_in_data(msg) {
            answer.append(out, xid, in_port, frame);
        }
        at += len;
    }
}

/// The controller's answer to one recorded window of every switch; returns
/// the bytes it sent.
fn edgeflow_round(
    c: &mut Controller,
    recorded: &[Vec<Vec<u8>>],
    round: usize,
    now: Instant,
) -> usize {
    let mut sent = 0;
    for (i, rec) in recorded.iter().enumerate() {
        let messages = c.handle_bytes(i as ConnId + 1, now, &rec[round]);
        // A read of one message is answered at once (as the runtime does);
        // reads of more after all of them.
        if messages <= 1 {
            while let Some((_, bytes)) = c.poll_transmit() {
                sent += bytes.len();
            }
        }
    }
    while let Some((_, bytes)) = c.poll_transmit() {
        sent += bytes.len();
    }
    black_box(sent)
}

fn packet_in(c: &mut Criterion) {
    for window in [64u32, 1] {
        let (mut controller, recorded) = setup(window);
        let per_round = u64::from(SWITCHES * window);
        let mut g = c.benchmark_group(format!("packet_in/16_switches_window_{window}"));
        g.throughput(Throughput::Elements(per_round));
        let answer = PacketOutTemplate::new();
        let mut out = Vec::with_capacity(1 << 16);
        let mut round = 0;
        g.bench_function("ceiling (one PACKET_OUT per PACKET_IN)", |b| {
            b.iter(|| {
                round = (round + 1) % ROUNDS;
                for rec in &recorded {
                    out.clear();
                    ceiling(&rec[round], &answer, &mut out);
                    black_box(&out);
                }
            })
        });
        let now = Instant::now();
        g.bench_function("edgeflow", |b| {
            b.iter(|| {
                round = (round + 1) % ROUNDS;
                edgeflow_round(&mut controller, &recorded, round, now)
            })
        });
        g.finish();
    }
}

/// A controller with `n` switches of 48 ports, and each switch's reply to
/// a PORT_STATS request.
fn polled(n: u32) -> (Controller, Vec<Vec<u8>>) {
    let now = Instant::now();
    let specs = (0..n).map(|index| SwitchSpec {
        index,
        ports: 48,
        first_host_port: 1,
        hosts: 0,
        window: 0,
    });
    let (c, mut switches) = connected(specs, now);
    let request = OfpMsg::new(
        7,
        Message::MultipartRequest(MultipartRequest {
            flags: 0,
            body: MultipartRequestBody::PortStats {
                port_no: ofp::port::ANY,
            },
        }),
    )
    .to_vec();
    let replies = switches
        .iter_mut()
        .map(|sw| {
            sw.handle_bytes(now, &request);
            let reply = sw.transmit().to_vec();
            sw.transmitted();
            reply
        })
        .collect();
    (c, replies)
}

fn polling(c: &mut Criterion) {
    let (mut controller, replies) = polled(1000);
    let mut g = c.benchmark_group("port_stats/1000_switches_48_ports");
    g.throughput(Throughput::Elements(replies.len() as u64 * 48));
    g.sample_size(20);
    let mut now = Instant::now();
    g.bench_function("edgeflow (one round)", |b| {
        b.iter(|| {
            now += std::time::Duration::from_secs(1);
            for (i, reply) in replies.iter().enumerate() {
                controller.handle_bytes(i as ConnId + 1, now, reply);
            }
            black_box(controller.poll_rates().len())
        })
    });
    // Two polls make a round of rates, whichever benchmarks ran before.
    let mut round = Vec::new();
    for _ in 0..2 {
        now += std::time::Duration::from_secs(1);
        for (i, reply) in replies.iter().enumerate() {
            controller.handle_bytes(i as ConnId + 1, now, reply);
        }
        round = controller.poll_rates();
    }
    assert_eq!(round.len(), replies.len() * 48);
    // The emulated switches' counters stand still; in the fabric run 92 %
    // of the ports are idle, so one port in 12 gets traffic here.
    for (i, (_, r)) in round.iter_mut().enumerate().filter(|(i, _)| i % 12 == 0) {
        let x = 1e6 + i as f64;
        (r.rx_bps, r.tx_bps, r.rx_pps, r.tx_pps) = (x, 2.0 * x, x / 800.0, x / 400.0);
    }
    let dir = std::env::temp_dir().join(format!("edgeflow-bench-{}", std::process::id()));
    let store = Store::open(&dir.join("state.redb")).expect("a state file in the temp dir");
    // Every round's rows, a minute's averages and expiry once a minute, as
    // the writer thread does; polls are kept 5 minutes rather than an hour,
    // so that the file stays small (either way a 10-minute table is dropped
    // every 10 minutes).
    let retention = Retention {
        polls: std::time::Duration::from_secs(300),
        minutes: std::time::Duration::from_secs(7 * 24 * 3600),
    };
    let mut writer = Writer::new(std::sync::Arc::new(store), retention);
    let mut unix_ms = 0;
    g.bench_function("history writer (one round)", |b| {
        b.iter(|| {
            unix_ms += 1000;
            writer.round(unix_ms, black_box(&round));
        })
    });
    g.finish();
    drop(writer);
    let _ = std::fs::remove_dir_all(dir);
}

fn main() {
    if let Some(n) = std::env::var("EDGEFLOW_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        let window = std::env::var("EDGEFLOW_WINDOW").map_or(Ok(64), |w| w.parse());
        let (mut controller, recorded) = setup(window.expect("EDGEFLOW_WINDOW is a number"));
        let now = Instant::now();
        for r in 0..n {
            edgeflow_round(&mut controller, &recorded, r % ROUNDS, now);
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    packet_in(&mut c);
    polling(&mut c);
    c.final_summary();
}
