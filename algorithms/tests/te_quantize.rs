//! Quantisation of split ratios into select-group bucket weights.

use edgeflow_algorithms::te::quantize::{assign_slots, quantize, quantize_split, Buckets};
use edgeflow_algorithms::te::{Split, TeError};
use proptest::prelude::*;

fn weights(r: &[f64], total: u16) -> Vec<u16> {
    quantize(r, total).unwrap().weights
}

#[test]
fn exact_ratios_have_no_error() {
    let b = quantize(&[0.5, 0.25, 0.25], 100).unwrap();
    assert_eq!(
        b,
        Buckets {
            weights: vec![50, 25, 25],
            max_error: 0.0,
            dropped: 0
        }
    );
}

#[test]
fn thirds_go_by_largest_remainder_ties_to_the_first_path() {
    let b = quantize(&[1.0, 1.0, 1.0], 100).unwrap();
    assert_eq!(b.weights, [34, 33, 33]);
    assert!((b.max_error - (0.34 - 1.0 / 3.0)).abs() < 1e-12);
}

#[test]
fn a_ratio_above_half_a_bucket_keeps_a_bucket() {
    // 0.6 buckets rounds up to 1 even though its remainder is the smaller.
    assert_eq!(weights(&[0.006, 0.994], 100), [1, 99]);
    // 0.4 buckets may round to 0.
    assert_eq!(weights(&[0.004, 0.996], 100), [0, 100]);
}

#[test]
fn minimums_that_cannot_fit_are_dropped_and_counted() {
    // Four paths of 0.6 buckets and one of 7.6 in 10: keeping all four
    // minimums would leave the big path 6 buckets, off by more than 1.
    let b = quantize(&[0.06, 0.06, 0.06, 0.06, 0.76], 10).unwrap();
    assert_eq!(b.weights.iter().map(|&w| u32::from(w)).sum::<u32>(), 10);
    assert_eq!(b.dropped, 1);
    assert!(b.max_error < 0.1);
}

#[test]
fn ratios_are_normalised_and_bad_ones_rejected() {
    assert_eq!(weights(&[2.0, 6.0], 8), [2, 6]);
    assert!(quantize(&[], 100).unwrap().weights.is_empty());
    assert!(matches!(quantize(&[0.5], 0), Err(TeError::BadRatios(_))));
    assert!(matches!(
        quantize(&[0.0, 0.0], 10),
        Err(TeError::BadRatios(_))
    ));
    assert!(matches!(
        quantize(&[-0.1, 1.1], 10),
        Err(TeError::BadRatios(_))
    ));
    assert!(matches!(
        quantize(&[f64::NAN], 10),
        Err(TeError::BadRatios(_))
    ));
}

#[test]
fn a_whole_split_quantises_row_by_row() {
    let split = Split {
        weights: vec![vec![1.0], vec![0.25, 0.75]],
    };
    let q = quantize_split(&split, 4).unwrap();
    assert_eq!(q[0].weights, [4]);
    assert_eq!(q[1].weights, [1, 3]);
}

proptest! {
    #[test]
    fn weights_sum_to_the_total_with_error_below_one_bucket(
        ratios in proptest::collection::vec(0.0f64..1.0, 1..17),
        zeros in proptest::collection::vec(any::<bool>(), 17),
        total in 1u16..1000,
    ) {
        // Some exact zeros, as optimal splits have many.
        let mut ratios = ratios;
        for (r, z) in ratios.iter_mut().zip(&zeros) {
            if *z {
                *r = 0.0;
            }
        }
        prop_assume!(ratios.iter().sum::<f64>() > 0.0);
        let b = quantize(&ratios, total).unwrap();
        let w = f64::from(total);
        prop_assert_eq!(b.weights.iter().map(|&x| u32::from(x)).sum::<u32>(), u32::from(total));
        prop_assert!(b.max_error < 1.0 / w + 1e-12, "error {} at W {}", b.max_error, total);
        let sum: f64 = ratios.iter().sum();
        let mut err: f64 = 0.0;
        let mut dropped = 0;
        for (q, r) in b.weights.iter().zip(&ratios) {
            err = err.max((f64::from(*q) / w - r / sum).abs());
            prop_assert!(*r > 0.0 || *q == 0, "no buckets for a zero ratio");
            if *q == 0 && r / sum > 0.5 / w {
                dropped += 1;
            }
        }
        prop_assert!((err - b.max_error).abs() < 1e-12);
        prop_assert_eq!(dropped, b.dropped);
        // With few paths for the total nothing needs dropping.
        if ratios.len() <= 2 {
            prop_assert_eq!(b.dropped, 0);
        }
    }
}

#[test]
fn slots_are_handed_out_in_path_order_when_new() {
    assert_eq!(assign_slots(&[2, 0, 3, 1], &[]), [0, 0, 2, 2, 2, 3]);
}

#[test]
fn slots_keep_their_paths_and_only_the_surplus_moves() {
    // Path 0 goes from 3 slots to 1, path 1 from 1 to 3: two slots move,
    // the second and third of path 0's.
    let old = [0, 1, 0, 0];
    assert_eq!(assign_slots(&[1, 3], &old), [0, 1, 1, 1]);
    // Paths that lost all their slots, or a path list that shrank.
    assert_eq!(assign_slots(&[0, 2], &[0, 1]), [1, 1]);
    assert_eq!(assign_slots(&[2], &[1, 0]), [0, 0]);
}

proptest! {
    #[test]
    fn each_path_gets_its_count_and_moves_are_minimal(
        old_counts in prop::collection::vec(0u16..6, 1..6),
        new_raw in prop::collection::vec(0u16..6, 1..6),
    ) {
        let total: u16 = old_counts.iter().sum();
        prop_assume!(total > 0);
        // New counts over as many paths, summing to the same total.
        let mut new = vec![0u16; old_counts.len()];
        for (i, &r) in new_raw.iter().enumerate() {
            new[i % old_counts.len()] += r;
        }
        let sum: u16 = new.iter().sum();
        prop_assume!(sum > 0);
        let mut scaled = quantize(&new.iter().map(|&x| f64::from(x)).collect::<Vec<_>>(), total)
            .unwrap()
            .weights;
        scaled.truncate(old_counts.len());
        let old = assign_slots(&old_counts, &[]);
        let slots = assign_slots(&scaled, &old);
        for (path, &count) in scaled.iter().enumerate() {
            prop_assert_eq!(slots.iter().filter(|&&p| p == path).count(), usize::from(count));
        }
        let moved = slots.iter().zip(&old).filter(|(a, b)| a != b).count();
        let least: usize = old_counts
            .iter()
            .zip(&scaled)
            .map(|(&o, &n)| usize::from(o.saturating_sub(n)))
            .sum();
        prop_assert_eq!(moved, least);
    }
}
