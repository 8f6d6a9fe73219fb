//! Writes a seeded, realistic demand series for every ordered pair of a
//! topology's nodes, as `edgeflow te-eval --demands` reads it (see
//! `edgeflow_algorithms::te::series` for the model):
//!
//! `cargo run --release -p edgeflow-controller --example te_demands -- \
//!     --topology controller/tests/data/abilene.json --days 7 > demands.csv`

use clap::Parser;
use edgeflow_algorithms::te::series::MatrixConfig;
use edgeflow_controller::te_cli::{synthetic_demands, Topology};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
struct Args {
    /// Node-link JSON topology, as for te-eval.
    #[arg(long)]
    topology: PathBuf,
    /// Days of samples.
    #[arg(long, default_value_t = 7.0)]
    days: f64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 300.0)]
    interval_s: f64,
    /// Sum of the pairs' mean rates, bit/s.
    #[arg(long, default_value_t = 40e9)]
    total: f64,
    /// Standard deviation of each pair's white noise, as a fraction of its mean.
    #[arg(long, default_value_t = MatrixConfig::default().pair.noise_sd)]
    noise_sd: f64,
    /// PRNG seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let topo = match std::fs::read_to_string(&args.topology)
        .map_err(|e| e.to_string())
        .and_then(|text| Topology::parse(&text).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            eprintln!("te_demands: {}: {e}", args.topology.display());
            return ExitCode::FAILURE;
        }
    };
    let mut cfg = MatrixConfig {
        seed: args.seed,
        total: args.total,
        ..MatrixConfig::default()
    };
    cfg.pair.interval_s = args.interval_s;
    cfg.pair.noise_sd = args.noise_sd;
    let steps = (args.days * 86_400.0 / args.interval_s).round() as usize;
    print!("{}", synthetic_demands(&topo, &cfg, steps));
    ExitCode::SUCCESS
}
