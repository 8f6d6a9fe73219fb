//! One polling round of forecasting: every link gets its new sample and a
//! 3-step forecast. The per-link cost of the full selection (every model,
//! GRU included), of the selection without the GRU, and of last value (the
//! floor: nothing cheaper predicts anything) is measured on 100 links and
//! reported per round of 100; multiply by 100 for the 10,000-link goal
//! (50 ms per round on one core). Fitting is excluded: it runs off the
//! event loop on a schedule.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use edgeflow_algorithms::forecast::{Forecaster, LastValue, LoadConfig, Selector, SelectorConfig};

const LINKS: usize = 100;

/// Makes one link's forecaster.
type Make = fn() -> Box<dyn Forecaster>;
const DAY: usize = 288;

fn fleet(make: Make) -> (Vec<Box<dyn Forecaster>>, Vec<Vec<f64>>) {
    let mut models = Vec::with_capacity(LINKS);
    let mut futures = Vec::with_capacity(LINKS);
    for seed in 0..LINKS as u64 {
        let series = LoadConfig {
            seed,
            ..LoadConfig::default()
        }
        .generate(3 * DAY);
        let mut m = make();
        m.fit(&series[..2 * DAY]);
        models.push(m);
        futures.push(series[2 * DAY..].to_vec());
    }
    (models, futures)
}

fn round(c: &mut Criterion) {
    let mut g = c.benchmark_group("forecast_round_100_links");
    g.sample_size(20);
    let kinds: [(&str, Make); 3] = [
        ("last_value (floor)", || Box::new(LastValue::new())),
        ("selection without GRU", || {
            Box::new(Selector::new(SelectorConfig {
                gru: false,
                ..SelectorConfig::default()
            }))
        }),
        ("selection, every model", || {
            Box::new(Selector::new(SelectorConfig::default()))
        }),
    ];
    for (name, make) in kinds {
        let (mut models, futures) = fleet(make);
        let mut t = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                let i = t % DAY;
                t += 1;
                let mut acc = 0.0;
                for (m, s) in models.iter_mut().zip(&futures) {
                    m.update(Some(s[i]));
                    acc += m.predict(3)[2].mean;
                }
                black_box(acc)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, round);
criterion_main!(benches);
