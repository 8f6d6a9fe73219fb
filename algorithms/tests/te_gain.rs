//! `bottleneck_gain` and `take_splits`: what moving one demand's split buys
//! on its own links, and which proposals are taken.

mod te_common;

use edgeflow_algorithms::te::{bottleneck_gain, link_loads, take_splits, Demand, Network, Split};
use te_common::*;

#[test]
fn moving_off_a_loaded_link_gains_its_utilisation_drop() {
    // Two parallel links of 10; 4 of background on the first; demand 10.
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let ds = demands(&g, &[(n[0], n[1], 10.0)], 2);
    let net = Network::new(vec![10.0; 4], vec![4.0, 0.0, 0.0, 0.0]).unwrap();
    let first = ds[0].paths[0].edges[0].index();
    let off_loaded = if first == 0 { [0.3, 0.7] } else { [0.7, 0.3] };
    let half = Split {
        weights: vec![vec![0.5, 0.5]],
    };
    let loads = link_loads(&net, &ds, &half);
    let gain = bottleneck_gain(&net, &loads, &ds[0], &[0.5, 0.5], &off_loaded);
    // Half and half: 4 + 5 = 9 on the loaded link (0.9); proposed: 7 on both (0.7).
    assert!((gain - 0.2).abs() < 1e-9, "gain {gain}");
    // The reverse move loses as much.
    let moved = Split {
        weights: vec![off_loaded.to_vec()],
    };
    let loads = link_loads(&net, &ds, &moved);
    let loss = bottleneck_gain(&net, &loads, &ds[0], &off_loaded, &[0.5, 0.5]);
    assert!((loss + 0.2).abs() < 1e-9, "loss {loss}");
}

#[test]
fn a_small_demand_gains_little_whatever_its_split() {
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let ds = demands(&g, &[(n[0], n[1], 0.2)], 2);
    let net = Network::new(vec![10.0; 4], vec![0.5, 0.0, 0.0, 0.0]).unwrap();
    let half = Split {
        weights: vec![vec![0.5, 0.5]],
    };
    let loads = link_loads(&net, &ds, &half);
    for proposed in [[0.0, 1.0], [1.0, 0.0]] {
        let gain = bottleneck_gain(&net, &loads, &ds[0], &[0.5, 0.5], &proposed);
        assert!(gain.abs() <= 0.02, "gain {gain}");
    }
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

/// Demands of `rates` between the ends of two parallel links (edges 0 and
/// 2 in that direction), with the split that keeps a demand on edge 0 and
/// the one that moves it to edge 2.
fn on_two_links(rates: &[f64]) -> (Vec<Demand>, [f64; 2], [f64; 2]) {
    let (g, n) = graph(2, &[(0, 1), (0, 1)]);
    let pairs: Vec<_> = rates.iter().map(|&r| (n[0], n[1], r)).collect();
    let ds = demands(&g, &pairs, 2);
    if ds[0].paths[0].edges[0].index() == 0 {
        (ds, [1.0, 0.0], [0.0, 1.0])
    } else {
        (ds, [0.0, 1.0], [1.0, 0.0])
    }
}

#[test]
fn a_proposal_is_judged_with_the_proposals_taken_before_it() {
    // Two demands of 4 on the first of two parallel links (2 of background
    // there, 4 on the second). Either alone gains by moving to the second
    // link; both together would overload it, so only one moves.
    let (ds, stay, go) = on_two_links(&[4.0, 4.0]);
    let net = Network::new(vec![10.0; 4], vec![2.0, 0.0, 4.0, 0.0]).unwrap();
    let current = Split {
        weights: vec![stay.to_vec(), stay.to_vec()],
    };
    let proposed = Split {
        weights: vec![go.to_vec(), go.to_vec()],
    };
    let taken = take_splits(&net, &ds, &current, &proposed, 0.1);
    assert_eq!(taken.iter().filter(|t| t.is_some()).count(), 1, "{taken:?}");
    let gain = taken.iter().flatten().next().unwrap();
    // 10 on the first link (1.0) becomes 6 and 8 (0.8).
    assert!((gain - 0.2).abs() < 1e-9, "gain {gain}");
    // Nothing is taken that gains nothing, whatever the threshold.
    assert_eq!(
        take_splits(&net, &ds, &current, &current, 0.0),
        vec![None, None]
    );
}

#[test]
fn small_demands_relieve_an_overloaded_link_together() {
    // Twenty demands of 0.5 on the first of two parallel links of 10, which
    // also carries 5 of background (150 %). Moving one lowers that link by
    // 0.05 only; moving half of them brings both links to 1.0.
    let (ds, stay, go) = on_two_links(&[0.5; 20]);
    let net = Network::new(vec![10.0; 4], vec![5.0, 0.0, 0.0, 0.0]).unwrap();
    let current = Split {
        weights: vec![stay.to_vec(); 20],
    };
    let proposed = Split {
        weights: (0..20)
            .map(|i| if i < 10 { go } else { stay }.to_vec())
            .collect(),
    };
    let taken = take_splits(&net, &ds, &current, &proposed, 0.1);
    assert_eq!(
        taken.iter().filter(|t| t.is_some()).count(),
        10,
        "{taken:?}"
    );
    // One alone, against the same threshold, is not taken.
    let one = Split {
        weights: (0..20)
            .map(|i| if i == 0 { go } else { stay }.to_vec())
            .collect(),
    };
    let taken = take_splits(&net, &ds, &current, &one, 0.1);
    assert!(taken.iter().all(Option::is_none), "{taken:?}");
}
