//! Decoding and encoding the messages on the controller's hot paths,
//! each next to a plain copy of the same bytes (the ceiling: no codec can
//! beat touching every byte once).

use bytes::BytesMut;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use edgeflow_benches::{flow_mod, packet_in, port_desc_reply, port_stats_reply};
use edgeflow_proto::ofp::OfpMsg;

fn decode(c: &mut Criterion) {
    for (name, msg) in [
        ("packet_in", packet_in()),
        ("port_stats_reply_48", port_stats_reply()),
        ("port_desc_reply_48", port_desc_reply()),
        ("flow_mod", flow_mod()),
    ] {
        let bytes = msg.to_vec();
        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("copy (ceiling)", |b| {
            b.iter(|| black_box(bytes.as_slice()).to_vec())
        });
        g.bench_function("edgeflow", |b| {
            b.iter(|| OfpMsg::parse(black_box(&bytes)).unwrap())
        });
        g.finish();
    }
}

fn encode(c: &mut Criterion) {
    for (name, msg) in [("flow_mod", flow_mod()), ("packet_in", packet_in())] {
        let len = msg.buffer_len();
        let bytes = msg.to_vec();
        let mut g = c.benchmark_group(format!("encode/{name}"));
        g.throughput(Throughput::Bytes(len as u64));
        let mut out = BytesMut::with_capacity(1 << 16);
        g.bench_function("copy (ceiling)", |b| {
            b.iter(|| {
                out.clear();
                out.extend_from_slice(black_box(&bytes));
            })
        });
        g.bench_function("edgeflow emit_to", |b| {
            b.iter(|| {
                out.clear();
                black_box(&msg).emit_to(&mut out);
            })
        });
        g.finish();
    }
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
