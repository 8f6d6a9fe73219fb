//! Weighted multipath on k-ary fat-trees, every ordered pair of edge
//! switches a demand with 4 candidate paths: finding the paths (Yen's
//! algorithm, the edges set up once, one reverse search per destination),
//! then splitting them to minimise the maximum link utilisation with the
//! fast heuristic and with the exact LP (good_lp + microlp). On this uniform, non-blocking
//! instance ECMP is already optimal: the benchmark measures time, the
//! te tests measure quality on instances where the split matters.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use edgeflow_algorithms::te::{self, heuristic, lp, Demand, Network, Searcher};
use edgeflow_benches::fat_tree;
use petgraph::stable_graph::StableDiGraph;
use petgraph::visit::EdgeIndexable;

const PATHS: usize = 4;

fn demands(g: &StableDiGraph<u64, ()>, edges: &[petgraph::stable_graph::NodeIndex]) -> Vec<Demand> {
    let mut out = Vec::new();
    let mut searcher = Searcher::new(g, |_| 1.0);
    for (j, &dst) in edges.iter().enumerate() {
        let to = searcher.distances_to(dst);
        for (i, &src) in edges.iter().enumerate() {
            if src != dst {
                // Uneven, deterministic rates: some pairs talk much more.
                let rate = 1.0 + ((i * 7 + j * 13) % 10) as f64;
                out.push(Demand {
                    src,
                    dst,
                    rate,
                    paths: searcher.k_shortest(src, &to, PATHS),
                });
            }
        }
    }
    out
}

fn te_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("te_fat_tree_all_pairs");
    g.sample_size(10);
    for k in [4usize, 8, 16] {
        let (graph, edges) = fat_tree(k);
        let net = Network::new(
            vec![1000.0; graph.edge_bound()],
            vec![0.0; graph.edge_bound()],
        )
        .unwrap();
        g.bench_with_input(
            BenchmarkId::new("k shortest paths (4 per pair)", k),
            &k,
            |b, _| b.iter(|| black_box(demands(&graph, &edges).len())),
        );
        let ds = demands(&graph, &edges);
        g.bench_with_input(BenchmarkId::new("heuristic split", k), &k, |b, _| {
            b.iter(|| black_box(heuristic::min_mlu(&net, &ds).unwrap()))
        });
        if k <= 8 {
            g.bench_with_input(BenchmarkId::new("exact LP split", k), &k, |b, _| {
                b.iter(|| black_box(lp::min_mlu(&net, &ds).unwrap()))
            });
            let h = te::mlu(&net, &ds, &heuristic::min_mlu(&net, &ds).unwrap());
            let l = te::mlu(&net, &ds, &lp::min_mlu(&net, &ds).unwrap());
            let e = te::mlu(&net, &ds, &heuristic::ecmp(&ds));
            println!("k={k}: MLU heuristic/LP {:.5}, ECMP/LP {:.3}", h / l, e / l);
        }
    }
    g.finish();
}

criterion_group!(benches, te_bench);
criterion_main!(benches);
