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

#[test]
fn reverting_forecast_decays_from_the_newest_level_to_the_slow_one() {
    // α = 1: the fast level is the newest sample; β = 0.1 over a long constant run: the slow level is 10.
    let mut m = Reverting::with_params(3, [1.0, 0.1, 0.5]);
    feed(&mut m, &[10.0; 200]);
    m.update(Some(20.0));
    let slow = 10.0 + 0.1 * 10.0;
    let f = m.predict(3);
    for (k, step) in f.iter().enumerate() {
        let want = slow + 0.5f64.powi(k as i32 + 1) * (20.0 - slow);
        assert_close(step.mean, want, 1e-9, "step");
    }
    // A missing sample moves the fast level along its forecast.
    m.update(None);
    assert_close(m.predict(1)[0].mean, f[1].mean, 1e-9, "after a gap");
}

#[test]
fn reverting_fit_keeps_a_level_shift_from_being_reverted_for_good() {
    let mut xs = vec![100.0; 300];
    xs.extend(vec![60.0; 200]);
    let mut m = Reverting::new(3);
    m.fit(&xs);
    assert!(m.params()[1] >= 0.01, "{:?}", m.params());
    assert_close(m.predict(3)[2].mean, 60.0, 0.5, "settled at the new level");
}

/// Days of one shape at different levels: `level · (1 + 0.5·sin)`.
fn scaled_days(levels: &[f64], p: usize) -> Vec<f64> {
    levels
        .iter()
        .flat_map(|l| {
            (0..p)
                .map(move |t| l * (1.0 + 0.5 * (t as f64 * std::f64::consts::TAU / p as f64).sin()))
        })
        .collect()
}

#[test]
fn multiplicative_profile_is_the_daily_shape_whatever_the_day_level() {
    let p = 24;
    let xs = scaled_days(&[100.0, 140.0, 70.0], p);
    let mut m = SeasonalAdjust::new(
        "sa",
        p,
        0,
        Seasonality::Multiplicative,
        Box::new(LastValue::new()),
    );
    m.fit(&xs);
    for (t, s) in m.profile().iter().enumerate() {
        let want = 1.0 + 0.5 * (t as f64 * std::f64::consts::TAU / p as f64).sin();
        assert_close(*s, want, 1e-9, "factor");
    }
    // On a day at yet another level, last value on the adjusted series follows the shape exactly.
    let next = scaled_days(&[50.0], p);
    for (t, &x) in next.iter().enumerate().take(p - 3) {
        m.update(Some(x));
        for (k, f) in m.predict(3).iter().enumerate() {
            assert_close(f.mean, next[t + 1 + k], 1e-9, "forecast");
        }
    }
}

/// Always predicts the same value.
struct Constant(f64);

impl Forecaster for Constant {
    fn name(&self) -> &'static str {
        "constant"
    }
    fn update(&mut self, _: Option<f64>) {}
    fn predict(&self, h: usize) -> Vec<Forecast> {
        vec![Forecast::with_sd(self.0, 0.0); h]
    }
}

#[test]
fn ensemble_is_the_mean_of_the_three_best_models() {
    let models: Vec<Box<dyn Forecaster>> = [9.0, 11.5, 12.0, 30.0]
        .into_iter()
        .map(|c| Box::new(Constant(c)) as Box<dyn Forecaster>)
        .collect();
    let mut sel = Selector::with_models(
        SelectorConfig {
            gru: false,
            ..SelectorConfig::default()
        },
        models,
    );
    feed(&mut sel, &[10.0; 200]);
    // Errors 1, 1.5, 2 and 20: the ensemble of the first three (error 0.83) beats each.
    assert_eq!(sel.selected(), "ensemble");
    assert_close(
        sel.predict(3)[2].mean,
        (9.0 + 11.5 + 12.0) / 3.0,
        1e-9,
        "ensemble",
    );
}
