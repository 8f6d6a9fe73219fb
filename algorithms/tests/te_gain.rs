//! `bottleneck_gain`: what moving one demand's split buys on its own links.

mod te_common;

use edgeflow_algorithms::te::{bottleneck_gain, link_loads, Network, Split};
use te_common::*;

#[test]
fn moving_off_a_loaded_link_gains_its_utilisation_drop() {
    // Two parallel links of 10; 4 of background on the first; demand 10.
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let ds = demands(&g, &[(n[0], n[1], 10.0)], 2);
    let net = Network::new(vec![10.0; 4], vec![4.0, 0.0, 0.0, 0.0]).unwrap();
    let first = ds[0].paths[0].edges[0].index();
    let bg_first = if first == 0 { [0.3, 0.7] } else { [0.7, 0.3] };
    let proposed = Split {
        weights: vec![bg_first.to_vec()],
    };
    let loads = link_loads(&net, &ds, &proposed);
    let gain = bottleneck_gain(&net, &loads, &ds[0], &[0.5, 0.5], &proposed.weights[0]);
    // Half and half: 4 + 5 = 9 on the loaded link (0.9); proposed: 7 on both (0.7).
    assert!((gain - 0.2).abs() < 1e-9, "gain {gain}");
    // The reverse move loses as much.
    let back = Split {
        weights: vec![vec![0.5, 0.5]],
    };
    let loads = link_loads(&net, &ds, &back);
    let loss = bottleneck_gain(&net, &loads, &ds[0], &proposed.weights[0], &[0.5, 0.5]);
    assert!((loss + 0.2).abs() < 1e-9, "loss {loss}");
}

#[test]
fn a_small_demand_gains_little_whatever_its_split() {
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let ds = demands(&g, &[(n[0], n[1], 0.2)], 2);
    let net = Network::new(vec![10.0; 4], vec![0.5, 0.0, 0.0, 0.0]).unwrap();
    let proposed = Split {
        weights: vec![vec![0.0, 1.0]],
    };
    let loads = link_loads(&net, &ds, &proposed);
    let gain = bottleneck_gain(&net, &loads, &ds[0], &[0.5, 0.5], &proposed.weights[0]);
    assert!(gain.abs() <= 0.02, "gain {gain}");
}

#[test]
fn identical_splits_gain_nothing() {
    let (g, n) = graph(3, &[(0, 2), (0, 1), (1, 2)]);
    let ds = demands(&g, &[(n[0], n[2], 12.0)], 2);
    let net = Network::new(vec![10.0; 6], vec![1.0; 6]).unwrap();
    let split = Split {
        weights: vec![vec![0.6, 0.4]],
    };
    let loads = link_loads(&net, &ds, &split);
    assert_eq!(
        bottleneck_gain(&net, &loads, &ds[0], &[0.6, 0.4], &[0.6, 0.4]),
        0.0
    );
}
