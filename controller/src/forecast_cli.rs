//! `edgeflow forecast-eval` and `edgeflow forecast`: the forecasting
//! library run on a CSV of link loads.
//!
//! The CSV has a header row; the first column is a timestamp (seconds, or
//! RFC 3339 such as `2026-11-25T10:00:00Z`), every other column one series;
//! an empty cell is a missing value. Fields are plain (no quoting).

use edgeflow_algorithms::forecast::{
    default_models, evaluate, EvalConfig, Forecast, Forecaster, ModelScore, Selector,
    SelectorConfig,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A CSV that cannot be read as series.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CsvError {
    /// No header, or a header with only the timestamp column.
    #[error("the CSV needs a header row with a timestamp column and at least one series")]
    NoSeries,
    /// A row with the wrong number of fields.
    #[error("line {line}: {found} fields, the header has {expected}")]
    Width {
        /// 1-based line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields on the line.
        found: usize,
    },
    /// A timestamp that is neither seconds nor RFC 3339.
    #[error("line {line}: timestamp {text:?} is neither seconds nor RFC 3339")]
    Timestamp {
        /// 1-based line number.
        line: usize,
        /// The field.
        text: String,
    },
    /// A value that is not a number.
    #[error("line {line}, column {column:?}: {text:?} is not a number")]
    Value {
        /// 1-based line number.
        line: usize,
        /// Column name.
        column: String,
        /// The field.
        text: String,
    },
    /// Timestamps that do not increase.
    #[error("line {line}: timestamps must increase")]
    Order {
        /// 1-based line number.
        line: usize,
    },
    /// Too few rows to train and then evaluate anything.
    #[error("{0} rows are too few")]
    TooShort(usize),
}

/// Series read from a CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Series names from the header.
    pub names: Vec<String>,
    /// Timestamps, seconds.
    pub times: Vec<f64>,
    /// One vector per series; missing values are NaN.
    pub series: Vec<Vec<f64>>,
}

impl Table {
    /// Parses the CSV text.
    pub fn parse(text: &str) -> Result<Table, CsvError> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines.next().ok_or(CsvError::NoSeries)?;
        let names: Vec<String> = header
            .split(',')
            .skip(1)
            .map(|s| s.trim().to_string())
            .collect();
        if names.is_empty() {
            return Err(CsvError::NoSeries);
        }
        let mut table = Table {
            series: vec![Vec::new(); names.len()],
            names,
            times: Vec::new(),
        };
        for (i, line) in lines {
            let line_no = i + 1;
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != table.names.len() + 1 {
                return Err(CsvError::Width {
                    line: line_no,
                    expected: table.names.len() + 1,
                    found: fields.len(),
                });
            }
            let t = parse_time(fields[0]).ok_or_else(|| CsvError::Timestamp {
                line: line_no,
                text: fields[0].to_string(),
            })?;
            if table.times.last().is_some_and(|&last| t <= last) {
                return Err(CsvError::Order { line: line_no });
            }
            table.times.push(t);
            for (j, f) in fields[1..].iter().enumerate() {
                let v = if f.is_empty() {
                    f64::NAN
                } else {
                    f.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| CsvError::Value {
                            line: line_no,
                            column: table.names[j].clone(),
                            text: f.to_string(),
                        })?
                };
                table.series[j].push(v);
            }
        }
        Ok(table)
    }

    /// The seasonal period to model: `given`, else samples per day (from
    /// the median spacing of the timestamps), at most half of `rows` (a
    /// cycle must be seen twice to be learnt), at least 2.
    pub fn period(&self, given: Option<usize>, rows: usize) -> usize {
        given
            .unwrap_or_else(|| self.daily_period().min(rows / 2))
            .max(2)
    }

    /// Samples per day, from the median spacing of the timestamps (the
    /// seasonal period of the daily cycle), at least 2.
    pub fn daily_period(&self) -> usize {
        let mut gaps: Vec<f64> = self.times.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort_by(f64::total_cmp);
        let gap = gaps.get(gaps.len() / 2).copied().unwrap_or(86_400.0);
        ((86_400.0 / gap).round() as usize).max(2)
    }
}

/// Seconds since the Unix epoch from a number of seconds or an RFC 3339 time.
fn parse_time(s: &str) -> Option<f64> {
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        frac = format!("0.{}", &r[..digits]).parse().ok()?;
        rest = &r[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (oh, om) = (
                rest[1..3].parse::<i64>().ok()?,
                rest[4..6].parse::<i64>().ok()?,
            );
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset) as f64 + frac)
}

/// A forecaster that adds the time spent fitting and predicting to shared counters.
struct Timed {
    inner: Box<dyn Forecaster>,
    fit_ns: Arc<AtomicU64>,
    predict_ns: Arc<AtomicU64>,
}

impl Forecaster for Timed {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn update(&mut self, x: Option<f64>) {
        let t = Instant::now();
        self.inner.update(x);
        self.predict_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
    fn predict(&self, h: usize) -> Vec<Forecast> {
        let t = Instant::now();
        let f = self.inner.predict(h);
        self.predict_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        f
    }
    fn fit(&mut self, history: &[f64]) {
        let t = Instant::now();
        self.inner.fit(history);
        self.fit_ns
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
    fn heap_bytes(&self) -> usize {
        self.inner.heap_bytes()
    }
}

/// One model's scores pooled over every series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelReport {
    /// Model name (`selected` is the per-series selection).
    pub name: String,
    /// Σ|error| / Σ|actual| over all series.
    pub nmae: f64,
    /// Root mean squared error over all scored forecasts.
    pub rmse: f64,
    /// Median over series of the median absolute percentage error.
    pub median_mape: f64,
    /// Time spent fitting, all series, milliseconds.
    pub fit_ms: f64,
    /// Time spent updating and predicting, all series, milliseconds.
    pub predict_ms: f64,
}

/// The evaluation of every model at one horizon.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalReport {
    /// Steps ahead scored.
    pub horizon: usize,
    /// Number of series.
    pub series: usize,
    /// One entry per model, the selection (`selected`) last.
    pub models: Vec<ModelReport>,
}

fn selector_config(period: usize, horizon: usize, history: usize) -> SelectorConfig {
    SelectorConfig {
        horizon,
        horizon_of_interest: horizon,
        period,
        history: history.max(2 * period),
        ..SelectorConfig::default()
    }
}

/// Rolling-origin evaluation: each model is fitted on the first
/// `train_frac` of the rows of each series, then predicts every later
/// point `horizon` steps ahead seeing only the past.
pub fn evaluate_table(
    table: &Table,
    horizon: usize,
    train_frac: f64,
    period: Option<usize>,
) -> Result<EvalReport, CsvError> {
    let rows = table.times.len();
    let train = ((rows as f64) * train_frac.clamp(0.0, 1.0)).round() as usize;
    if train < 2 || train + horizon > rows {
        return Err(CsvError::TooShort(rows));
    }
    let horizon = horizon.max(1);
    let cfg = selector_config(table.period(period, train), horizon, train);
    let eval = EvalConfig {
        train,
        horizon,
        refit_every: None,
        history: train,
    };
    let names: Vec<&'static str> = default_models(&cfg).iter().map(|m| m.name()).collect();
    let mut models = Vec::new();
    for idx in 0..=names.len() {
        let (fit_ns, predict_ns) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut scores: Vec<ModelScore> = Vec::new();
        for series in &table.series {
            let inner: Box<dyn Forecaster> = match default_models(&cfg).into_iter().nth(idx) {
                Some(m) => m,
                None => Box::new(Selector::new(cfg)),
            };
            let timed = Timed {
                inner,
                fit_ns: fit_ns.clone(),
                predict_ns: predict_ns.clone(),
            };
            scores.extend(evaluate(series, vec![Box::new(timed)], &eval));
        }
        models.push(pool(&scores, &fit_ns, &predict_ns));
    }
    Ok(EvalReport {
        horizon,
        series: table.series.len(),
        models,
    })
}

fn pool(scores: &[ModelScore], fit_ns: &AtomicU64, predict_ns: &AtomicU64) -> ModelReport {
    let sum = |f: fn(&ModelScore) -> f64| scores.iter().map(f).sum::<f64>();
    let (abs, act, sq) = (
        sum(|s| s.sums.abs_error),
        sum(|s| s.sums.abs_actual),
        sum(|s| s.sums.sq_error),
    );
    let n: usize = scores.iter().map(|s| s.n).sum();
    let mut mapes: Vec<f64> = scores
        .iter()
        .map(|s| s.median_ape)
        .filter(|v| v.is_finite())
        .collect();
    mapes.sort_by(f64::total_cmp);
    ModelReport {
        name: scores.first().map_or("", |s| s.name).to_string(),
        nmae: if act > 0.0 { abs / act } else { f64::NAN },
        rmse: if n > 0 {
            (sq / n as f64).sqrt()
        } else {
            f64::NAN
        },
        median_mape: mapes.get(mapes.len() / 2).copied().unwrap_or(f64::NAN),
        fit_ms: fit_ns.load(Ordering::Relaxed) as f64 / 1e6,
        predict_ms: predict_ns.load(Ordering::Relaxed) as f64 / 1e6,
    }
}

/// A human-readable table of a report.
pub fn render(report: &EvalReport) -> String {
    let mut out = format!(
        "horizon {} steps, {} series\n{:<16} {:>8} {:>12} {:>12} {:>10} {:>11}\n",
        report.horizon,
        report.series,
        "model",
        "nmae",
        "rmse",
        "median_mape",
        "fit_ms",
        "predict_ms"
    );
    for m in &report.models {
        out.push_str(&format!(
            "{:<16} {:>8.4} {:>12.4} {:>12.4} {:>10.1} {:>11.1}\n",
            m.name, m.nmae, m.rmse, m.median_mape, m.fit_ms, m.predict_ms
        ));
    }
    out
}

/// The selection's forecasts for the next `horizon` steps of every series,
/// as CSV: `series,step,mean,lower,upper,model` (80 % interval).
pub fn forecast_table(table: &Table, horizon: usize, period: Option<usize>) -> String {
    let horizon = horizon.max(1);
    let rows = table.times.len();
    let cfg = selector_config(table.period(period, rows * 2 / 3), horizon, rows);
    let mut out = String::from("series,step,mean,lower,upper,model\n");
    for (name, series) in table.names.iter().zip(&table.series) {
        let mut sel = Selector::new(cfg);
        // Fit on the older part, then run through the rest so that the
        // selection has scored every candidate on recent data.
        let fit_len = series.len() * 2 / 3;
        sel.fit(&series[..fit_len]);
        for &x in &series[fit_len..] {
            sel.update(Some(x));
        }
        for (k, f) in sel.predict(horizon).iter().enumerate() {
            out.push_str(&format!(
                "{name},{},{},{},{},{}\n",
                k + 1,
                f.mean,
                f.lower,
                f.upper,
                sel.selected_for(k + 1)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_rfc3339_times_and_missing_cells() {
        let t = Table::parse(
            "time,a,b\n2026-11-25T10:00:00Z,1,2\n2026-11-25T10:05:00Z,,3\n2026-11-25T11:10:00+01:00,4.5,5\n",
        )
        .unwrap();
        assert_eq!(t.names, vec!["a", "b"]);
        assert_eq!(t.times[1] - t.times[0], 300.0);
        assert_eq!(t.times[2] - t.times[1], 300.0, "offsets are applied");
        assert!(t.series[0][1].is_nan());
        assert_eq!(t.series[1], vec![2.0, 3.0, 5.0]);
        assert_eq!(t.daily_period(), 288);
        assert_eq!(parse_time("1970-01-02T00:00:00.5Z"), Some(86_400.5));
    }

    #[test]
    fn bad_csv_names_the_problem() {
        assert_eq!(Table::parse(""), Err(CsvError::NoSeries));
        assert_eq!(Table::parse("t\n1\n"), Err(CsvError::NoSeries));
        assert!(matches!(
            Table::parse("t,a\n1,2,3\n"),
            Err(CsvError::Width { line: 2, .. })
        ));
        assert!(matches!(
            Table::parse("t,a\nyesterday,2\n"),
            Err(CsvError::Timestamp { line: 2, .. })
        ));
        assert!(matches!(
            Table::parse("t,a\n1,x\n"),
            Err(CsvError::Value { line: 2, .. })
        ));
        assert!(matches!(
            Table::parse("t,a\n1,inf\n"),
            Err(CsvError::Value { .. })
        ));
        assert!(matches!(
            Table::parse("t,a\n2,1\n1,1\n"),
            Err(CsvError::Order { line: 3 })
        ));
        assert!(parse_time("2026-13-01T00:00:00Z").is_none());
        assert!(
            parse_time("2026-01-01T00:00:00").is_none(),
            "an offset is required"
        );
    }

    #[test]
    fn evaluation_scores_every_model_and_the_selection() {
        // Two series with a strong cycle of period 8 (a "day" of 8 samples).
        let rows: Vec<String> = (0..160)
            .map(|i| {
                let phase = (i % 8) as f64;
                format!(
                    "{},{},{}",
                    i * 10_800,
                    100.0 + 50.0 * phase,
                    20.0 + (i % 3) as f64
                )
            })
            .collect();
        let table = Table::parse(&format!("t,x,y\n{}\n", rows.join("\n"))).unwrap();
        assert_eq!(table.daily_period(), 8);
        let report = evaluate_table(&table, 2, 0.6, None).unwrap();
        assert_eq!(report.series, 2);
        let names: Vec<&str> = report.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"last_value"));
        assert_eq!(names.last(), Some(&"selected"));
        let nmae = |n: &str| report.models.iter().find(|m| m.name == n).unwrap().nmae;
        assert!(
            nmae("seasonal_naive") < 0.5 * nmae("last_value"),
            "{report:?}"
        );
        assert!(nmae("selected") < nmae("last_value"), "{report:?}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["horizon"], 2);
        assert!(json["models"][0]["fit_ms"].is_number());
        assert!(render(&report).contains("selected"));
        assert_eq!(
            evaluate_table(&table, 200, 0.6, None).unwrap_err(),
            CsvError::TooShort(160)
        );
        // One-second samples would mean a period of 86,400: capped by what was seen.
        assert_eq!(table.period(None, 10), 5);
        assert_eq!(table.period(Some(4), 10), 4);
    }

    #[test]
    fn forecast_prints_each_step_of_each_series() {
        let rows: Vec<String> = (0..60)
            .map(|i| format!("{},{},{}", i * 300, i, 5))
            .collect();
        let table = Table::parse(&format!("t,up,flat\n{}\n", rows.join("\n"))).unwrap();
        let csv = forecast_table(&table, 3, None);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "series,step,mean,lower,upper,model");
        assert_eq!(lines.len(), 1 + 2 * 3);
        let flat: Vec<f64> = lines[4..]
            .iter()
            .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
            .collect();
        assert!(flat.iter().all(|v| (v - 5.0).abs() < 0.5), "{csv}");
    }
}
