//! The GRU learns simple dynamics, deterministically.

use edgeflow_algorithms::forecast::*;

fn wave(n: usize) -> Vec<f64> {
    (0..n)
        .map(|t| 50.0 + 20.0 * (t as f64 * std::f64::consts::TAU / 24.0).sin())
        .collect()
}

fn h3_abs_error(m: &mut dyn Forecaster, xs: &[f64], from: usize) -> f64 {
    let mut total = 0.0;
    for t in from..xs.len() - 3 {
        m.update(Some(xs[t]));
        total += (m.predict(3)[2].mean - xs[t + 3]).abs();
    }
    total
}

#[test]
fn gru_beats_last_value_on_a_wave() {
    let xs = wave(480);
    let cfg = GruConfig {
        epochs: 30,
        ..GruConfig::default()
    };
    let mut g = Gru::new(cfg);
    g.fit(&xs[..400]);
    assert!(g.is_trained());
    let mut lv = LastValue::new();
    lv.fit(&xs[..400]);
    let eg = h3_abs_error(&mut g, &xs, 400);
    let el = h3_abs_error(&mut lv, &xs, 400);
    assert!(eg < 0.5 * el, "gru {eg} last {el}");
}

#[test]
fn gru_training_is_deterministic_for_a_seed() {
    let xs = wave(200);
    let cfg = GruConfig {
        epochs: 3,
        ..GruConfig::default()
    };
    let mut a = Gru::new(cfg);
    let mut b = Gru::new(cfg);
    a.fit(&xs);
    b.fit(&xs);
    assert_eq!(a.predict(4), b.predict(4));
    let mut c = Gru::new(GruConfig { seed: 9, ..cfg });
    c.fit(&xs);
    assert_ne!(a.predict(4), c.predict(4));
}

#[test]
fn untrained_gru_is_last_value() {
    let mut g = Gru::new(GruConfig::default());
    g.update(Some(3.0));
    g.update(Some(5.0));
    assert_eq!(g.predict(2)[1].mean, 5.0);
}
