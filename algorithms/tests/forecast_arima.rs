//! ARIMA recovers known processes and forecasts them sensibly.

use edgeflow_algorithms::forecast::*;

/// x_t = c + φ x_{t−1} + e_t with Gaussian e of sd `sd`.
fn ar1(n: usize, phi: f64, c: f64, sd: f64, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    let mut x = c / (1.0 - phi);
    (0..n)
        .map(|_| {
            x = c + phi * x + sd * rng.normal();
            x
        })
        .collect()
}

#[test]
fn recovers_phi_of_an_ar1() {
    let xs = ar1(1500, 0.7, 30.0, 1.0, 7);
    let mut m = Arima::new(ArimaConfig::default());
    m.fit(&xs);
    let (p, d, q) = m.order();
    assert_eq!(d, 0, "order {:?}", m.order());
    assert!(p >= 1, "order {:?}", m.order());
    // When AIC adds terms the first AR coefficient still carries φ.
    if (p, q) == (1, 0) {
        assert!((m.ar()[0] - 0.7).abs() < 0.06, "phi {:?}", m.ar());
    }
    let mut strict = Arima::new(ArimaConfig {
        max_p: 1,
        max_d: 0,
        max_q: 0,
    });
    strict.fit(&xs);
    assert!((strict.ar()[0] - 0.7).abs() < 0.05, "phi {:?}", strict.ar());
    assert!(
        (strict.mean() - 100.0).abs() < 1.5,
        "mean {}",
        strict.mean()
    );
}

#[test]
fn forecasts_of_an_ar1_decay_towards_the_mean() {
    let mut m = Arima::with_coefficients(ArimaConfig::default(), 0, 10.0, vec![0.5], vec![]);
    m.update(Some(18.0));
    let f = m.predict(3);
    assert!((f[0].mean - 14.0).abs() < 1e-9, "{:?}", f);
    assert!((f[1].mean - 12.0).abs() < 1e-9);
    assert!((f[2].mean - 11.0).abs() < 1e-9);
}

#[test]
fn random_walk_with_drift_is_differenced_once() {
    let mut rng = SplitMix64::new(3);
    let mut x = 0.0;
    let xs: Vec<f64> = (0..1000)
        .map(|_| {
            x += 0.5 + rng.normal();
            x
        })
        .collect();
    let mut m = Arima::new(ArimaConfig::default());
    m.fit(&xs);
    assert_eq!(m.order().1, 1, "order {:?}", m.order());
    let f = m.predict(4);
    let last = *xs.last().unwrap();
    assert!(
        (f[3].mean - (last + 2.0)).abs() < 1.0,
        "{:?} last {last}",
        f
    );
    // Interval widths grow like a random walk's.
    let w = |k: usize| f[k].upper - f[k].lower;
    assert!(w(3) > 1.7 * w(0) && w(3) < 2.3 * w(0), "{} {}", w(0), w(3));
}

#[test]
fn ma1_is_identified_and_theta_recovered() {
    let mut rng = SplitMix64::new(11);
    let mut prev = 0.0;
    let xs: Vec<f64> = (0..2000)
        .map(|_| {
            let e = rng.normal();
            let x = 5.0 + e + 0.6 * prev;
            prev = e;
            x
        })
        .collect();
    let mut m = Arima::new(ArimaConfig {
        max_p: 0,
        max_d: 0,
        max_q: 1,
    });
    m.fit(&xs);
    assert_eq!(m.order(), (0, 0, 1));
    assert!((m.ma()[0] - 0.6).abs() < 0.08, "theta {:?}", m.ma());
}

#[test]
fn online_updates_track_the_series_between_fits() {
    let xs = ar1(1200, 0.8, 10.0, 1.0, 5);
    let mut m = Arima::new(ArimaConfig::default());
    m.fit(&xs[..600]);
    let (mut se_m, mut se_mean) = (0.0, 0.0);
    for w in xs[600..].windows(2) {
        m.update(Some(w[0]));
        let f = m.predict(1)[0].mean;
        se_m += (w[1] - f).powi(2);
        se_mean += (w[1] - 50.0).powi(2);
    }
    // One-step MSE of AR(1) with φ=.8 is σ² = 1; the unconditional variance is 2.8.
    assert!(se_m < 0.5 * se_mean, "{se_m} vs {se_mean}");
}
