//! Each forecaster on series whose right answer is known.

use edgeflow_algorithms::forecast::*;

fn feed(m: &mut dyn Forecaster, xs: &[f64]) {
    for &x in xs {
        m.update(Some(x));
    }
}

fn assert_close(a: f64, b: f64, tol: f64, what: &str) {
    assert!((a - b).abs() <= tol, "{what}: {a} vs {b} (tol {tol})");
}

/// A clean daily-like cycle: period 24, no noise.
fn seasonal(n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| {
            100.0
                + 30.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin()
                + if t % 24 == 5 { 20.0 } else { 0.0 }
        })
        .collect()
}

#[test]
fn empty_models_predict_nothing() {
    let models: Vec<Box<dyn Forecaster>> = vec![
        Box::new(LastValue::new()),
        Box::new(MovingAverage::new(4)),
        Box::new(SeasonalNaive::new(24)),
        Box::new(Holt::new()),
        Box::new(HoltWinters::new(24)),
    ];
    for m in models {
        assert!(m.predict(3).is_empty(), "{}", m.name());
    }
}

#[test]
fn every_model_predicts_a_constant_series_exactly() {
    let xs = vec![42.0; 100];
    let mut models: Vec<Box<dyn Forecaster>> = vec![
        Box::new(LastValue::new()),
        Box::new(MovingAverage::new(5)),
        Box::new(SeasonalNaive::new(24)),
        Box::new(Holt::new()),
        Box::new(HoltWinters::new(24)),
    ];
    for m in &mut models {
        m.fit(&xs);
        let f = m.predict(3);
        assert_eq!(f.len(), 3, "{}", m.name());
        for s in f {
            assert_close(s.mean, 42.0, 1e-9, m.name());
            assert!(
                s.upper - s.lower < 1e-6,
                "{} interval should be tight",
                m.name()
            );
        }
    }
}

#[test]
fn last_value_and_moving_average_follow_their_definitions() {
    let mut lv = LastValue::new();
    let mut ma = MovingAverage::new(3);
    feed(&mut lv, &[1.0, 2.0, 6.0]);
    feed(&mut ma, &[100.0, 1.0, 2.0, 6.0]);
    assert_eq!(lv.predict(2)[1].mean, 6.0);
    assert_close(
        ma.predict(1)[0].mean,
        3.0,
        1e-12,
        "moving average of last 3",
    );
}

#[test]
fn holt_extrapolates_a_linear_trend() {
    let xs: Vec<f64> = (0..200).map(|t| 10.0 + 2.5 * t as f64).collect();
    let mut m = Holt::new();
    m.fit(&xs);
    let f = m.predict(3);
    for (k, s) in f.iter().enumerate() {
        let want = 10.0 + 2.5 * (200 + k) as f64;
        assert_close(s.mean, want, 0.05, "holt on a line");
    }
}

#[test]
fn seasonal_naive_and_holt_winters_nail_a_pure_season() {
    let xs = seasonal(24 * 6);
    let truth = seasonal(24 * 6 + 30);
    let mut sn = SeasonalNaive::new(24);
    feed(&mut sn, &xs);
    let mut hw = HoltWinters::new(24);
    hw.fit(&xs);
    for m in [&sn as &dyn Forecaster, &hw] {
        let f = m.predict(30);
        for (k, s) in f.iter().enumerate() {
            assert_close(s.mean, truth[xs.len() + k], 0.5, m.name());
        }
    }
}

#[test]
fn holt_winters_beats_holt_on_a_season() {
    let xs = seasonal(24 * 6);
    let truth = seasonal(24 * 6 + 3);
    let mut hw = HoltWinters::new(24);
    hw.fit(&xs);
    let mut h = Holt::new();
    h.fit(&xs);
    let err = |m: &dyn Forecaster| {
        m.predict(3)
            .iter()
            .enumerate()
            .map(|(k, s)| (s.mean - truth[xs.len() + k]).abs())
            .sum::<f64>()
    };
    assert!(err(&hw) * 5.0 < err(&h), "hw {} holt {}", err(&hw), err(&h));
}

#[test]
fn seasonal_naive_before_a_full_period_repeats_last_value() {
    let mut sn = SeasonalNaive::new(24);
    feed(&mut sn, &[3.0, 4.0]);
    assert_eq!(sn.predict(2)[1].mean, 4.0);
}
