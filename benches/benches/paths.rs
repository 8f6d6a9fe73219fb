//! All-pairs routing between the edge switches of k-ary fat-trees: one
//! equal-cost shortest path per ordered pair with edgeflow's
//! `shortest_path_by`, next to petgraph's Dijkstra from every edge switch
//! (distances only, no path), the obvious library alternative.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use edgeflow_algorithms::paths::shortest_path_by;
use edgeflow_benches::fat_tree;
use petgraph::algo::dijkstra;

fn all_pairs(c: &mut Criterion) {
    let mut g = c.benchmark_group("all_pairs_fat_tree");
    g.sample_size(10);
    for k in [4usize, 8, 16] {
        let (graph, edges) = fat_tree(k);
        g.bench_with_input(
            BenchmarkId::new("edgeflow shortest_path_by", k),
            &k,
            |b, _| {
                b.iter(|| {
                    let mut hops = 0;
                    for (i, &s) in edges.iter().enumerate() {
                        for (j, &d) in edges.iter().enumerate() {
                            if s != d {
                                let p = shortest_path_by(&graph, s, d, |hop, n| (i + j + hop) % n);
                                hops += p.map_or(0, |p| p.len());
                            }
                        }
                    }
                    black_box(hops)
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("petgraph dijkstra per source", k),
            &k,
            |b, _| {
                b.iter(|| {
                    let mut reached = 0;
                    for &s in &edges {
                        reached += dijkstra(&graph, s, None, |_| 1u32).len();
                    }
                    black_box(reached)
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, all_pairs);
criterion_main!(benches);
