//! `edgeflow te-eval`: weighted multipath routing replayed on a demand
//! series, scored against the best possible split.
//!
//! **Topology.** Node-link JSON (as networkx's `node_link_data` writes it):
//! `{"nodes": [{"id": ...}], "links": [{"source": ..., "target": ...,
//! "capacity": bit/s}]}`; ids are strings or numbers, `edges` is accepted
//! for `links`, other keys are ignored. A link carries its capacity in
//! each direction unless the top level says `"directed": true`. Paths are
//! the `--paths` shortest by hop count (Yen's algorithm), found once.
//!
//! **Demands.** A CSV as `forecast-eval` reads it (header row, a timestamp
//! column, empty cell = missing), one column per pair named `SRC->DST`
//! with node ids, in bit/s.
//!
//! **Replay.** The first `train_frac` of the rows are warm-up: each pair's
//! forecasting selection (the controller's per-link selection, one step
//! ahead) is fitted on them and nothing is scored. At every later step the
//! method splits each pair over its paths for that step's forecast (or, with
//! `oracle`, for the true demands), the selection then sees the true value,
//! and the step scores `MLU of the true demands on that split / least MLU
//! of the true demands` over the same paths (the LP). A step with no
//! traffic scores 1. A missing cell is a missing sample to the forecaster;
//! as a true demand it counts as the pair's last value seen (0 before any),
//! since a gap in measurement is not a pause in traffic.

use crate::forecast_cli::{CsvError, Table};
use edgeflow_algorithms::forecast::{Forecaster, Selector, SelectorConfig};
use edgeflow_algorithms::te::series::MatrixConfig;
use edgeflow_algorithms::te::{self, heuristic, lp, Demand, Network, Searcher, Split, TeError};
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Why a topology or demand series cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum TeEvalError {
    /// The topology is not node-link JSON.
    #[error("topology: {0}")]
    Json(#[from] serde_json::Error),
    /// Two nodes with one id.
    #[error("topology: node {0:?} appears twice")]
    DuplicateNode(String),
    /// A link whose end is not among the nodes.
    #[error("topology: link {link} ends at unknown node {node:?}")]
    UnknownLinkEnd {
        /// Position of the link in the list.
        link: usize,
        /// The id.
        node: String,
    },
    /// A capacity that is not a positive finite number.
    #[error("topology: link {link} ({from} -> {to}): capacity {value} is not a positive number")]
    BadCapacity {
        /// Position of the link in the list.
        link: usize,
        /// Its source id.
        from: String,
        /// Its target id.
        to: String,
        /// The capacity given.
        value: f64,
    },
    /// A demand column not named `SRC->DST`.
    #[error("demand column {0:?} is not named SRC->DST")]
    BadColumn(String),
    /// A demand column naming a node the topology lacks.
    #[error("demand column {column:?}: no node {node:?} in the topology")]
    UnknownNode {
        /// The column name.
        column: String,
        /// The id.
        node: String,
    },
    /// Two columns for one pair.
    #[error("demand column {0:?} appears twice")]
    DuplicatePair(String),
    /// A pair whose destination cannot be reached.
    #[error("demand column {0:?}: no path in the topology")]
    NoPath(String),
    /// A negative rate.
    #[error("demand column {column:?} at time {time}: negative rate {value}")]
    NegativeRate {
        /// The column name.
        column: String,
        /// The row's timestamp.
        time: f64,
        /// The rate.
        value: f64,
    },
    /// The CSV itself is malformed or too short.
    #[error(transparent)]
    Csv(#[from] CsvError),
    /// The routing library refused the problem.
    #[error(transparent)]
    Te(#[from] TeError),
}

/// A node id: networkx writes numbers or strings.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(serde_json::Number),
}

impl Id {
    fn into_string(self) -> String {
        match self {
            Id::Text(s) => s,
            Id::Number(n) => n.to_string(),
        }
    }
}

#[derive(serde::Deserialize)]
struct NodeLink {
    #[serde(default)]
    directed: bool,
    nodes: Vec<JsonNode>,
    #[serde(alias = "edges")]
    links: Vec<JsonLink>,
}

#[derive(serde::Deserialize)]
struct JsonNode {
    id: Id,
}

#[derive(serde::Deserialize)]
struct JsonLink {
    source: Id,
    target: Id,
    capacity: f64,
}

/// A topology: the directed graph of node ids and each edge's capacity.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Nodes weighted by their id; one edge per link direction.
    pub graph: StableDiGraph<String, ()>,
    /// Capacity per edge index, bit/s.
    pub capacity: Vec<f64>,
    index: HashMap<String, NodeIndex>,
}

impl Topology {
    /// Parses node-link JSON (see the module doc).
    pub fn parse(text: &str) -> Result<Topology, TeEvalError> {
        let doc: NodeLink = serde_json::from_str(text)?;
        let mut graph = StableDiGraph::new();
        let mut index = HashMap::new();
        for node in doc.nodes {
            let id = node.id.into_string();
            if index.contains_key(&id) {
                return Err(TeEvalError::DuplicateNode(id));
            }
            index.insert(id.clone(), graph.add_node(id));
        }
        let mut capacity = Vec::new();
        for (i, link) in doc.links.into_iter().enumerate() {
            let (source, target) = (link.source.into_string(), link.target.into_string());
            let end = |node: &String| {
                index
                    .get(node)
                    .copied()
                    .ok_or_else(|| TeEvalError::UnknownLinkEnd {
                        link: i,
                        node: node.clone(),
                    })
            };
            let (a, b) = (end(&source)?, end(&target)?);
            if !(link.capacity.is_finite() && link.capacity > 0.0) {
                return Err(TeEvalError::BadCapacity {
                    link: i,
                    from: source,
                    to: target,
                    value: link.capacity,
                });
            }
            graph.add_edge(a, b, ());
            capacity.push(link.capacity);
            if !doc.directed {
                graph.add_edge(b, a, ());
                capacity.push(link.capacity);
            }
        }
        Ok(Topology {
            graph,
            capacity,
            index,
        })
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }
}

/// How each step's demands are split over their paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// The exact minimum-MLU LP.
    Lp,
    /// The fast minimum-MLU heuristic.
    Heuristic,
    /// Equal split over the cheapest of the paths.
    Ecmp,
    /// Everything on the shortest path.
    Shortest,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Lp => "lp",
            Method::Heuristic => "heuristic",
            Method::Ecmp => "ecmp",
            Method::Shortest => "shortest",
        }
    }

    fn split(self, net: &Network, demands: &[Demand]) -> Result<Split, TeError> {
        match self {
            Method::Lp => lp::min_mlu(net, demands),
            Method::Heuristic => heuristic::min_mlu(net, demands),
            Method::Ecmp => Ok(heuristic::ecmp(demands)),
            Method::Shortest => Ok(heuristic::shortest(demands)),
        }
    }
}

/// Settings of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// Candidate paths per pair.
    pub paths: usize,
    /// How demands are split.
    pub method: Method,
    /// Route the true demands instead of forecasts.
    pub oracle: bool,
    /// Share of the rows used as warm-up (forecaster training), not scored.
    pub train_frac: f64,
    /// Seasonal period in samples for the forecasters (default: a day).
    pub period: Option<usize>,
}

/// The scores of one evaluation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TeReport {
    /// The method.
    pub method: Method,
    /// Whether the true demands were routed.
    pub oracle: bool,
    /// Candidate paths per pair (at most).
    pub paths: usize,
    /// Number of pairs.
    pub pairs: usize,
    /// Warm-up rows, not scored.
    pub train_steps: usize,
    /// Steps scored.
    pub steps: usize,
    /// Mean of MLU / optimum over the steps.
    pub mean: f64,
    /// 95th percentile (nearest rank) of MLU / optimum.
    pub p95: f64,
    /// Largest MLU / optimum.
    pub max: f64,
    /// Mean of the optimal MLU over the steps (how loaded the network is).
    pub optimum_mlu_mean: f64,
    /// Mean time to compute one step's split, milliseconds.
    pub compute_ms_mean: f64,
    /// Longest time to compute one step's split, milliseconds.
    pub compute_ms_max: f64,
    /// Mean time to forecast one step's demands, milliseconds (0 with oracle).
    pub forecast_ms_mean: f64,
    /// Empty cells in the demand CSV.
    pub missing_cells: usize,
}

/// One demand per CSV column, with its paths.
fn pair_demands(topo: &Topology, table: &Table, k: usize) -> Result<Vec<Demand>, TeEvalError> {
    let mut seen = HashMap::new();
    let mut ends = Vec::new();
    for name in &table.names {
        let (src, dst) = name
            .split_once("->")
            .ok_or_else(|| TeEvalError::BadColumn(name.clone()))?;
        let node = |id: &str| {
            topo.node(id.trim())
                .ok_or_else(|| TeEvalError::UnknownNode {
                    column: name.clone(),
                    node: id.trim().to_string(),
                })
        };
        let (src, dst) = (node(src)?, node(dst)?);
        if src == dst {
            return Err(TeEvalError::BadColumn(name.clone()));
        }
        if seen.insert((src, dst), ()).is_some() {
            return Err(TeEvalError::DuplicatePair(name.clone()));
        }
        ends.push((src, dst));
    }
    // One search set-up serves all pairs (and keeps each destination's
    // distances).
    let mut searcher = Searcher::new(&topo.graph, |_| 1.0);
    ends.iter()
        .zip(&table.names)
        .map(|(&(src, dst), name)| {
            let paths = searcher.k_shortest(src, dst, k);
            if paths.is_empty() {
                return Err(TeEvalError::NoPath(name.clone()));
            }
            Ok(Demand {
                src,
                dst,
                rate: 0.0,
                paths,
            })
        })
        .collect()
}

/// Replays the demand series over the topology (see the module doc).
pub fn evaluate(
    topo: &Topology,
    table: &Table,
    opts: &EvalOptions,
) -> Result<TeReport, TeEvalError> {
    for (name, series) in table.names.iter().zip(&table.series) {
        if let Some((t, &value)) = series.iter().enumerate().find(|(_, v)| **v < 0.0) {
            return Err(TeEvalError::NegativeRate {
                column: name.clone(),
                time: table.times[t],
                value,
            });
        }
    }
    let net = Network::new(topo.capacity.clone(), vec![0.0; topo.capacity.len()])?;
    let mut truth = pair_demands(topo, table, opts.paths.max(1))?;
    let mut planned = truth.clone();
    let rows = table.times.len();
    let train = ((rows as f64) * opts.train_frac.clamp(0.0, 1.0)).round() as usize;
    if train < 2 || train >= rows {
        return Err(CsvError::TooShort(rows).into());
    }
    let period = table.period(opts.period, train);
    let cfg = SelectorConfig {
        horizon: 1,
        horizon_of_interest: 1,
        period,
        history: train.max(2 * period),
        ..SelectorConfig::default()
    };
    let mut forecasters: Vec<Selector> = Vec::new();
    if !opts.oracle {
        for series in &table.series {
            let mut sel = Selector::new(cfg);
            sel.fit(&series[..train]);
            forecasters.push(sel);
        }
    }
    // The last value seen of each pair stands in for a missing true value.
    let mut last: Vec<f64> = table
        .series
        .iter()
        .map(|s| {
            s[..train]
                .iter()
                .rev()
                .find(|v| !v.is_nan())
                .map_or(0.0, |v| *v)
        })
        .collect();
    let (mut ratios, mut optima, mut compute, mut forecast) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for t in train..rows {
        if !opts.oracle {
            let start = Instant::now();
            for ((d, sel), fallback) in planned.iter_mut().zip(&forecasters).zip(&last) {
                let mean = sel.predict(1).first().map(|f| f.mean);
                d.rate = mean.filter(|m| m.is_finite()).unwrap_or(*fallback).max(0.0);
            }
            forecast.push(start.elapsed().as_secs_f64() * 1e3);
        }
        for ((d, series), last) in truth.iter_mut().zip(&table.series).zip(&mut last) {
            if !series[t].is_nan() {
                *last = series[t];
            }
            d.rate = *last;
        }
        let routed = if opts.oracle { &truth } else { &planned };
        let start = Instant::now();
        let split = opts.method.split(&net, routed)?;
        compute.push(start.elapsed().as_secs_f64() * 1e3);
        let optimum = te::mlu(&net, &truth, &lp::min_mlu(&net, &truth)?);
        let achieved = te::mlu(&net, &truth, &split);
        ratios.push(if optimum > 0.0 {
            achieved / optimum
        } else {
            1.0
        });
        optima.push(optimum);
        for (sel, series) in forecasters.iter_mut().zip(&table.series) {
            sel.update(Some(series[t]));
        }
    }
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let mut sorted = ratios.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(TeReport {
        method: opts.method,
        oracle: opts.oracle,
        paths: opts.paths.max(1),
        pairs: truth.len(),
        train_steps: train,
        steps: ratios.len(),
        mean: mean(&ratios),
        p95: sorted[(sorted.len() * 95).div_ceil(100) - 1],
        max: sorted[sorted.len() - 1],
        optimum_mlu_mean: mean(&optima),
        compute_ms_mean: mean(&compute),
        compute_ms_max: compute.iter().copied().fold(0.0, f64::max),
        forecast_ms_mean: mean(&forecast),
        missing_cells: table.series.iter().flatten().filter(|v| v.is_nan()).count(),
    })
}

/// A human-readable summary of a report.
pub fn render(r: &TeReport) -> String {
    format!(
        "{} on {} ({} paths per pair), {} pairs, {} warm-up steps, {} steps scored\n\
         MLU / optimum: mean {:.4}, p95 {:.4}, max {:.4} (optimal MLU mean {:.4})\n\
         split {:.2} ms per step (max {:.2}), forecast {:.2} ms per step, {} missing cells\n",
        r.method.name(),
        if r.oracle {
            "true demands"
        } else {
            "forecasts"
        },
        r.paths,
        r.pairs,
        r.train_steps,
        r.steps,
        r.mean,
        r.p95,
        r.max,
        r.optimum_mlu_mean,
        r.compute_ms_mean,
        r.compute_ms_max,
        r.forecast_ms_mean,
        r.missing_cells
    )
}

/// The arguments of `edgeflow te-eval`.
#[derive(Debug, clap::Args)]
pub struct TeEvalArgs {
    /// Node-link JSON: nodes with ids, links with source, target and capacity (bit/s).
    #[arg(long)]
    pub topology: PathBuf,
    /// CSV: header row; a timestamp column, then one column per pair named SRC->DST, bit/s.
    #[arg(long)]
    pub demands: PathBuf,
    /// Candidate paths per pair (the k shortest by hop count).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub paths: u16,
    /// How each step's demands are split over the paths.
    #[arg(long, value_enum, default_value_t = Method::Lp)]
    pub method: Method,
    /// Route the true demands instead of their forecasts.
    #[arg(long)]
    pub oracle: bool,
    /// Share of the rows used to train the forecasters; only later rows are scored.
    #[arg(long, default_value_t = 0.5)]
    pub train_frac: f64,
    /// Seasonal period in samples [default: a day of samples, at most half the training rows].
    #[arg(long)]
    pub period: Option<usize>,
    /// Print one JSON object instead of a summary.
    #[arg(long)]
    pub json: bool,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Runs `edgeflow te-eval` and prints its report.
pub fn run(args: &TeEvalArgs) -> Result<(), Box<dyn std::error::Error>> {
    let topo = Topology::parse(&read(&args.topology)?)
        .map_err(|e| format!("{}: {e}", args.topology.display()))?;
    let table = Table::parse(&read(&args.demands)?)
        .map_err(|e| format!("{}: {e}", args.demands.display()))?;
    let opts = EvalOptions {
        paths: args.paths.into(),
        method: args.method,
        oracle: args.oracle,
        train_frac: args.train_frac,
        period: args.period,
    };
    let report = evaluate(&topo, &table, &opts)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", render(&report));
    }
    Ok(())
}

/// A demand CSV for every ordered pair of the topology's nodes from the
/// seeded traffic-matrix generator: `steps` rows `interval_s` apart from
/// time 0 (a Monday, midnight), columns `SRC->DST`, whole bit/s.
pub fn synthetic_demands(topo: &Topology, cfg: &MatrixConfig, steps: usize) -> String {
    let ids: Vec<&str> = topo.graph.node_weights().map(String::as_str).collect();
    let series = MatrixConfig {
        nodes: ids.len(),
        ..cfg.clone()
    }
    .generate(steps);
    let mut out = String::from("time");
    for &(i, j) in &series.pairs {
        out.push_str(&format!(",{}->{}", ids[i], ids[j]));
    }
    out.push('\n');
    for t in 0..steps {
        out.push_str(&format!("{}", t as f64 * cfg.pair.interval_s));
        for rates in &series.rates {
            out.push_str(&format!(",{:.0}", rates[t]));
        }
        out.push('\n');
    }
    out
}
