//! Weighted multipath on k-ary fat-trees, every ordered pair of edge
//! switches a demand with 4 candidate paths: finding the paths (Yen's
//! algorithm, the edges set up once, one reverse search per destination),
//! then splitting them to minimise the maximum link utilisation with the
//! fast heuristic and with the exact LP (good_lp + microlp). On this
//! uniform, non-blocking instance ECMP is already optimal: the benchmark
//! measures time, the te tests measure quality on instances where the split
//! matters. Then the paths of every ordered pair of a random 4-regular
//! fabric (`ofswitchbench --topology rrg:100:4`), with one searcher for all
//! pairs as the controller keeps it, and with a search set up for each pair
//! as the controller did until session 12.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use edgeflow_algorithms::te::{self, heuristic, k_shortest_paths, lp, Demand, Network, Searcher};
use edgeflow_benches::fat_tree;
use edgeflow_benches::ofbench::fabric::Fabric;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::EdgeIndexable;

const PATHS: usize = 4;

fn demands(g: &StableDiGraph<u64, ()>, edges: &[NodeIndex]) -> Vec<Demand> {
    let mut out = Vec::new();
    let mut searcher = Searcher::new(g, |_| 1.0);
    for (j, &dst) in edges.iter().enumerate() {
        for (i, &src) in edges.iter().enumerate() {
            if src != dst {
                // Uneven, deterministic rates: some pairs talk much more.
                let rate = 1.0 + ((i * 7 + j * 13) % 10) as f64;
                out.push(Demand {
                    src,
                    dst,
                    rate,
                    paths: searcher.k_shortest(src, dst, PATHS),
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

/// The random regular fabric `ofswitchbench --topology rrg:N:D` wires.
fn random_regular(n: usize, d: usize) -> (StableDiGraph<u64, ()>, Vec<NodeIndex>) {
    let fabric = Fabric::random_regular(n, d, 1).expect("a random regular graph");
    let mut g = StableDiGraph::new();
    let nodes: Vec<_> = (0..n as u64).map(|s| g.add_node(s)).collect();
    for s in 0..n as u32 {
        for far in (1..=fabric.link_ports(s)).filter_map(|p| fabric.peer(s, p)) {
            g.add_edge(nodes[s as usize], nodes[far.switch as usize], ());
        }
    }
    (g, nodes)
}

fn ksp_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ksp_rrg_100_4_all_pairs");
    g.sample_size(10);
    let (graph, nodes) = random_regular(100, 4);
    let pairs: Vec<(NodeIndex, NodeIndex)> = nodes
        .iter()
        .flat_map(|&s| nodes.iter().filter(move |&&d| d != s).map(move |&d| (s, d)))
        .collect();
    g.bench_function("one searcher", |b| {
        b.iter(|| {
            let mut searcher = Searcher::new(&graph, |_| 1.0);
            let paths = pairs
                .iter()
                .map(|&(s, d)| searcher.k_shortest(s, d, PATHS).len());
            black_box(paths.sum::<usize>())
        })
    });
    g.bench_function("a search set up per pair", |b| {
        b.iter(|| {
            let paths = pairs
                .iter()
                .map(|&(s, d)| k_shortest_paths(&graph, s, d, PATHS, |_| 1.0).len());
            black_box(paths.sum::<usize>())
        })
    });
    g.finish();
}

criterion_group!(benches, te_bench, ksp_bench);
criterion_main!(benches);
