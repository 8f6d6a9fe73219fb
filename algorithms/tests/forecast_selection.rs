//! Selection on realistic 5-minute link loads, measured honestly against last value.

use edgeflow_algorithms::forecast::*;

const DAY: usize = 288;

/// Only the baseline and the selection (which runs every model inside) keep the test fast.
fn candidates() -> Vec<Box<dyn Forecaster>> {
    vec![
        Box::new(LastValue::new()),
        Box::new(Selector::new(SelectorConfig::default())),
    ]
}

fn scores(series: &[f64], h: usize) -> Vec<ModelScore> {
    let cfg = EvalConfig {
        train: 3 * DAY,
        horizon: h,
        refit_every: None,
        history: 3 * DAY,
    };
    let s = evaluate(series, candidates(), &cfg);
    for m in &s {
        eprintln!(
            "h={h} {:>15} nmae {:.4} rmse {:8.2} mdape {:.4} cover80 {:.2} n {}",
            m.name, m.nmae, m.rmse, m.median_ape, m.coverage, m.n
        );
    }
    s
}

fn nmae(s: &[ModelScore], name: &str) -> f64 {
    s.iter().find(|m| m.name == name).unwrap().nmae
}

#[test]
fn selection_beats_last_value_on_realistic_five_minute_loads() {
    let series = LoadConfig::default().generate(6 * DAY);
    let s3 = scores(&series, 3);
    let s1 = scores(&series, 1);
    let (sel3, last3) = (nmae(&s3, "selected"), nmae(&s3, "last_value"));
    let (sel1, last1) = (nmae(&s1, "selected"), nmae(&s1, "last_value"));
    assert!(sel3 <= 0.9 * last3, "h=3: selection {sel3} last {last3}");
    assert!(sel1 <= last1, "h=1: selection {sel1} last {last1}");
}
