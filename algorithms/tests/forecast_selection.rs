//! Selection on realistic 5-minute link loads, measured honestly against last value.

use edgeflow_algorithms::forecast::*;

const DAY: usize = 288;

/// Generator seeds the goal is asserted on (BENCHMARKS.md reports them and more).
const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;

/// NMAE of last value and of the selection (which runs every model inside) at step `h`:
/// 3 days train, the next 3 days are predicted in rolling origin.
fn last_and_selected(series: &[f64], h: usize) -> (f64, f64) {
    let cfg = EvalConfig {
        train: 3 * DAY,
        horizon: h,
        refit_every: None,
        history: 3 * DAY,
    };
    let models: Vec<Box<dyn Forecaster>> = vec![
        Box::new(LastValue::new()),
        Box::new(Selector::new(SelectorConfig::default())),
    ];
    let s = evaluate(series, models, &cfg);
    (s[0].nmae, s[1].nmae)
}

#[test]
fn selection_beats_last_value_by_ten_percent_at_three_steps_on_every_seed() {
    let mut misses = Vec::new();
    for seed in SEEDS {
        let series = LoadConfig::default().with_seed(seed).generate(6 * DAY);
        for h in [1, 3] {
            let (last, sel) = last_and_selected(&series, h);
            let gain = 1.0 - sel / last;
            eprintln!(
                "seed {seed} h={h}: last value {last:.4} selected {sel:.4} gain {:.1} %",
                100.0 * gain
            );
            let goal = if h == 3 { 0.10 } else { 0.0 };
            // A NaN gain is a miss too.
            if gain.is_nan() || gain < goal {
                misses.push(format!("seed {seed} h={h}: gain {:.1} %", 100.0 * gain));
            }
        }
    }
    assert!(misses.is_empty(), "goal missed: {misses:?}");
}
