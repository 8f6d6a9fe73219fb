//! Bad input never panics, intervals are calibrated, memory stays bounded, selection picks sensibly.

use edgeflow_algorithms::forecast::*;

fn small_selector(period: usize) -> Selector {
    Selector::new(SelectorConfig {
        period,
        history: 4 * period,
        ..SelectorConfig::default()
    })
}

fn all_models(period: usize) -> Vec<Box<dyn Forecaster>> {
    vec![
        Box::new(LastValue::new()),
        Box::new(MovingAverage::new(3)),
        Box::new(SeasonalNaive::new(period)),
        Box::new(Holt::new()),
        Box::new(HoltWinters::new(period)),
        Box::new(Arima::new(ArimaConfig::default())),
        Box::new(Gru::new(GruConfig {
            period,
            epochs: 2,
            ..GruConfig::default()
        })),
        Box::new(SeasonalAdjust::new(
            "sa_holt",
            period,
            2,
            Seasonality::Additive,
            Box::new(Holt::new()),
        )),
        Box::new(SeasonalAdjust::new(
            "sa_reverting",
            period,
            2,
            Seasonality::Multiplicative,
            Box::new(Reverting::new(3)),
        )),
        Box::new(small_selector(period)),
    ]
}

fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..n).map(|_| 100.0 + 10.0 * rng.normal()).collect()
}

#[test]
fn nan_inf_and_missing_samples_never_panic_and_forecasts_stay_finite() {
    let mut hist = noise(120, 1);
    hist[10] = f64::NAN;
    hist[50] = f64::INFINITY;
    hist[51] = f64::NEG_INFINITY;
    for mut m in all_models(12) {
        m.fit(&hist);
        for x in [
            Some(f64::NAN),
            None,
            Some(f64::INFINITY),
            Some(101.0),
            None,
            Some(99.0),
        ] {
            m.update(x);
            for f in m.predict(4) {
                assert!(
                    f.mean.is_finite() && f.lower.is_finite() && f.upper.is_finite(),
                    "{}: {f:?}",
                    m.name()
                );
                assert!(
                    f.lower <= f.mean && f.mean <= f.upper,
                    "{}: {f:?}",
                    m.name()
                );
            }
        }
        assert_eq!(m.predict(4).len(), 4, "{}", m.name());
    }
}

#[test]
fn only_missing_samples_and_empty_fits_do_not_panic() {
    for mut m in all_models(12) {
        m.fit(&[]);
        m.fit(&[f64::NAN; 30]);
        for _ in 0..40 {
            m.update(None);
        }
        assert!(
            m.predict(3).iter().all(|f| f.mean.is_finite()),
            "{}",
            m.name()
        );
    }
}

#[test]
fn intervals_cover_about_eighty_percent_of_noise() {
    let series = noise(1400, 4);
    let cfg = EvalConfig {
        train: 400,
        horizon: 1,
        refit_every: None,
        history: 400,
    };
    let models: Vec<Box<dyn Forecaster>> = vec![
        Box::new(LastValue::new()),
        Box::new(MovingAverage::new(10)),
        Box::new(Holt::new()),
        Box::new(Arima::new(ArimaConfig::default())),
    ];
    for s in evaluate(&series, models, &cfg) {
        assert!(
            (0.72..=0.88).contains(&s.coverage),
            "{} covers {}",
            s.name,
            s.coverage
        );
    }
}

#[test]
fn selector_memory_is_bounded_and_does_not_grow() {
    let c = LoadConfig::default();
    let xs = c.generate(288 * 4);
    let mut sel = Selector::new(SelectorConfig {
        gru: false,
        ..SelectorConfig::default()
    });
    sel.fit(&xs[..288 * 3]);
    let after_fit = sel.heap_bytes();
    for &x in &xs[288 * 3..] {
        sel.update(Some(x));
    }
    assert_eq!(sel.heap_bytes(), after_fit);
    // History ring (864) + three daily profiles/seasons (288 each) + seasonal naive (288), in f64.
    assert!(after_fit < 24 * 1024, "{after_fit} bytes");
}

#[test]
fn selector_picks_a_seasonal_model_on_a_pure_season() {
    let p = 24;
    let xs: Vec<f64> = (0..p * 10)
        .map(|t| 100.0 + 40.0 * (t as f64 * std::f64::consts::TAU / p as f64).sin())
        .collect();
    let mut sel = Selector::new(SelectorConfig {
        period: p,
        history: 6 * p,
        gru: false,
        ensemble: false,
        ..SelectorConfig::default()
    });
    sel.fit(&xs[..6 * p]);
    for &x in &xs[6 * p..] {
        sel.update(Some(x));
    }
    let pick = sel.selected();
    assert!(
        ["seasonal_naive", "holt_winters", "sa_holt", "sa_reverting"].contains(&pick),
        "picked {pick}; scores {:?} {:?}",
        sel.candidates(),
        sel.scores(3)
    );
    let f = sel.predict(3)[2].mean;
    let want = xs[xs.len() - 1 + 3 - p];
    assert!((f - want).abs() < 1.0, "{f} vs {want}");
}

#[test]
fn selector_refit_is_due_on_schedule_and_keeps_history() {
    let mut sel = Selector::new(SelectorConfig {
        period: 12,
        history: 48,
        refit_every: 10,
        gru: false,
        ..SelectorConfig::default()
    });
    for (i, x) in noise(9, 2).into_iter().enumerate() {
        sel.update(Some(x));
        assert!(!sel.refit_due(), "due after {i}");
    }
    sel.update(None);
    assert!(sel.refit_due());
    let h = sel.history();
    assert_eq!(h.len(), 10);
    assert!(h[9].is_nan(), "a missing sample is kept as a gap");
    sel.fit(&h);
    assert!(!sel.refit_due());
}

#[test]
fn per_link_memory_figure_with_every_model() {
    let xs = LoadConfig::default().generate(288 * 3);
    let mut sel = Selector::new(SelectorConfig::default());
    sel.fit(&xs);
    let bytes = sel.heap_bytes() + std::mem::size_of::<Selector>();
    eprintln!("selector with GRU, period 288, history 864: {bytes} bytes");
    assert!(bytes < 32 * 1024, "{bytes} bytes");
}
