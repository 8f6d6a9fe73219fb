//! The synthetic link-load generator: deterministic, bounded, and shaped like real traffic.

use edgeflow_algorithms::forecast::LoadConfig;

#[test]
fn same_seed_gives_the_same_series_and_another_seed_does_not() {
    let c = LoadConfig::default();
    let a = c.generate(2000);
    assert_eq!(a, c.generate(2000));
    assert_ne!(a, c.with_seed(2).generate(2000));
}

#[test]
fn loads_are_finite_non_negative_and_within_capacity() {
    let c = LoadConfig {
        noise_sd: 0.8,
        ..LoadConfig::default()
    };
    for x in c.generate(5000) {
        assert!(x.is_finite() && (0.0..=c.capacity).contains(&x), "{x}");
    }
}

#[test]
fn daily_peak_exceeds_night_and_weekends_are_quieter() {
    let c = LoadConfig::default();
    let per_day = c.samples_per_day();
    assert_eq!(per_day, 288);
    let xs = c.generate(per_day * 7);
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    // Hour 20-21 against hour 4-5, averaged over the weekdays.
    let at = |h: usize| -> f64 {
        (0..5)
            .map(|d| mean(&xs[d * per_day + h * 12..d * per_day + (h + 1) * 12]))
            .sum::<f64>()
            / 5.0
    };
    assert!(at(20) > 2.0 * at(4), "peak {} night {}", at(20), at(4));
    let weekday = mean(&xs[..5 * per_day]);
    let weekend = mean(&xs[5 * per_day..]);
    assert!(
        weekend < 0.9 * weekday,
        "weekend {weekend} weekday {weekday}"
    );
}

#[test]
fn series_has_short_term_structure_beyond_the_cycle() {
    // Bursts, flows and noise: consecutive differences are not negligible.
    let xs = LoadConfig::default().generate(2000);
    let mad = xs.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / 1999.0;
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!(
        mad > 0.02 * mean && mad < 0.3 * mean,
        "mad {mad} mean {mean}"
    );
}
