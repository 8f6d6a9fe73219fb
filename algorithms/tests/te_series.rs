//! The seeded traffic-matrix series generator.

use edgeflow_algorithms::forecast::LoadConfig;
use edgeflow_algorithms::te::series::MatrixConfig;

/// A template with only the daily and weekly cycles: no randomness in time.
fn smooth() -> LoadConfig {
    LoadConfig {
        trend_per_week: 0.0,
        wander_sd: 0.0,
        noise_sd: 0.0,
        flows: 0,
        bursts_per_day: 0.0,
        flash_per_week: 0.0,
        ..LoadConfig::default()
    }
}

#[test]
fn same_seed_same_matrix_other_seed_other_matrix() {
    let cfg = MatrixConfig {
        nodes: 5,
        ..MatrixConfig::default()
    };
    let a = cfg.generate(100);
    assert_eq!(a, cfg.generate(100));
    assert_eq!(a.pairs.len(), 20);
    assert!(a.pairs.iter().all(|(i, j)| i != j && *i < 5 && *j < 5));
    assert!(a
        .rates
        .iter()
        .all(|r| r.len() == 100 && r.iter().all(|x| x.is_finite() && *x >= 0.0)));
    let b = MatrixConfig { seed: 2, ..cfg }.generate(100);
    assert_ne!(a.rates, b.rates);
}

#[test]
fn pair_means_over_a_weekday_sum_to_the_total() {
    let cfg = MatrixConfig::default();
    let day = cfg.pair.samples_per_day();
    let m = cfg.generate(day);
    let sum: f64 = m
        .rates
        .iter()
        .map(|r| r.iter().sum::<f64>() / day as f64)
        .sum();
    // Elephant flows and bursts come on top of the cycles' mean.
    assert!(
        sum > 0.95 * cfg.total && sum < 1.2 * cfg.total,
        "{sum} against {}",
        cfg.total
    );
}

#[test]
fn gravity_masses_make_some_pairs_much_bigger_than_others() {
    let m = MatrixConfig::default().generate(288);
    let means: Vec<f64> = m.rates.iter().map(|r| r.iter().sum::<f64>()).collect();
    let max = means.iter().copied().fold(0.0, f64::max);
    let min = means.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(max > 10.0 * min, "max {max}, min {min}");
}

#[test]
fn time_zones_change_the_shape_of_the_matrix_over_the_day() {
    // Over one weekday, the largest ratio of a pair's biggest share of the
    // total to its smallest.
    let share_range = |spread: f64| {
        let m = MatrixConfig {
            nodes: 6,
            peak_spread_h: spread,
            pair: smooth(),
            ..MatrixConfig::default()
        }
        .generate(288);
        let totals: Vec<f64> = (0..288)
            .map(|t| m.rates.iter().map(|r| r[t]).sum())
            .collect();
        m.rates
            .iter()
            .map(|r| {
                let shares = r.iter().zip(&totals).map(|(x, total)| x / total);
                let lo = shares.clone().fold(f64::INFINITY, f64::min);
                shares.fold(0.0, f64::max) / lo
            })
            .fold(0.0, f64::max)
    };
    assert!((share_range(0.0) - 1.0).abs() < 1e-9);
    assert!(share_range(6.0) > 1.2);
}
