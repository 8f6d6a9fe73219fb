//! The `edgeflow` binary: `run` the controller, or `ofp-print` a capture.

use clap::{Parser, Subcommand};
use edgeflow_controller::config::Config;
use edgeflow_controller::controller::Controller;
use edgeflow_controller::forecast_cli;
use edgeflow_controller::storage::{spawn_record_writer, Record, Store};
use edgeflow_controller::te_cli;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tracing::{error, info, warn};

/// The largest first group id drawn at a start: half the id space stays
/// above it.
const MAX_FIRST_GROUP_ID: u32 = edgeflow_proto::ofp::group::MAX / 2;

/// mimalloc instead of glibc's malloc: handling a PACKET_IN allocates a few
/// small buffers (the frame, matches, actions), and glibc's malloc and free
/// took a fifth of the controller's time under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "edgeflow",
    version,
    about = "OpenFlow 1.3 SDN controller for edge-cloud Kubernetes clusters"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller: switches connect over TCP, the REST API serves state.
    Run {
        /// TOML configuration file; flags override its values.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Address switches connect to [default 0.0.0.0:6653].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Address of the REST API [default 127.0.0.1:8080].
        #[arg(long)]
        api_listen: Option<SocketAddr>,
        /// Interval between LLDP probe rounds, milliseconds [default 1000].
        #[arg(long)]
        lldp_interval_ms: Option<u64>,
        /// Remove links unconfirmed for this long, milliseconds [default 3500].
        #[arg(long)]
        link_timeout_ms: Option<u64>,
        /// State database file [default /var/lib/edgeflow/state.redb].
        #[arg(long)]
        state: Option<PathBuf>,
        /// Speed of every switch port in Mbit/s for utilisation, instead of
        /// what the switches report.
        #[arg(long)]
        port_speed_mbps: Option<f64>,
        /// Length of one forecast step, seconds [default 300].
        #[arg(long)]
        forecast_interval_s: Option<u64>,
    },
    /// Score every forecasting model on a CSV of link loads (rolling origin).
    ForecastEval {
        /// CSV: header row; a timestamp column (seconds or RFC 3339), then one column per series.
        #[arg(long)]
        input: PathBuf,
        /// Steps ahead to score.
        #[arg(long)]
        horizon: usize,
        /// Share of the rows used for the first fit; the rest is predicted.
        #[arg(long, default_value_t = 0.5)]
        train_frac: f64,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Seasonal period in samples [default: a day of samples, at most half the training rows].
        #[arg(long)]
        period: Option<usize>,
    },
    /// Forecast the next steps of every series of a CSV with the selected model, as CSV.
    Forecast {
        /// CSV as for forecast-eval.
        #[arg(long)]
        input: PathBuf,
        /// Steps ahead to forecast.
        #[arg(long)]
        horizon: usize,
        /// Seasonal period in samples [default: a day of samples, at most a third of the rows].
        #[arg(long)]
        period: Option<usize>,
    },
    /// Replay weighted multipath routing on a demand series; score MLU against the optimum.
    TeEval(te_cli::TeEvalArgs),
    /// Decode a file of concatenated binary OpenFlow 1.3 messages, one JSON line each.
    OfpPrint {
        /// The file.
        file: PathBuf,
        /// Exit non-zero if re-encoding any message differs from its bytes.
        #[arg(long)]
        roundtrip: bool,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::Run {
            config,
            listen,
            api_listen,
            lldp_interval_ms,
            link_timeout_ms,
            state,
            port_speed_mbps,
            forecast_interval_s,
        } => {
            let mut cfg = match config {
                Some(path) => match Config::from_file(&path) {
                    Ok(c) => c,
                    Err(e) => return fail(&e.to_string()),
                },
                None => Config::default(),
            };
            cfg.listen = listen.unwrap_or(cfg.listen);
            cfg.api_listen = api_listen.unwrap_or(cfg.api_listen);
            cfg.lldp_interval_ms = lldp_interval_ms.unwrap_or(cfg.lldp_interval_ms);
            cfg.link_timeout_ms = link_timeout_ms.unwrap_or(cfg.link_timeout_ms);
            cfg.state = state.unwrap_or(cfg.state);
            cfg.port_speed_mbps = port_speed_mbps.or(cfg.port_speed_mbps);
            cfg.forecast_interval_s = forecast_interval_s.unwrap_or(cfg.forecast_interval_s);
            run(cfg)
        }
        Command::OfpPrint { file, roundtrip } => ofp_print(&file, roundtrip),
        Command::TeEval(args) => te_cli::run(&args),
        Command::ForecastEval {
            input,
            horizon,
            train_frac,
            json,
            period,
        } => read_table(&input).and_then(|table| {
            let report = forecast_cli::evaluate_table(&table, horizon, train_frac, period)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print!("{}", forecast_cli::render(&report));
            }
            Ok(())
        }),
        Command::Forecast {
            input,
            horizon,
            period,
        } => read_table(&input).map(|table| {
            print!("{}", forecast_cli::forecast_table(&table, horizon, period));
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(msg: &str) -> ExitCode {
    error!("{msg}");
    eprintln!("edgeflow: {msg}");
    ExitCode::FAILURE
}

fn read_table(path: &std::path::Path) -> Result<forecast_cli::Table, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(forecast_cli::Table::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn ofp_print(file: &std::path::Path, roundtrip: bool) -> Result<(), Box<dyn std::error::Error>> {
    let data = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    edgeflow_controller::ofp_print::print(&data, roundtrip, &mut out)?;
    Ok(())
}

fn run(cfg: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Everything is checked before any port is bound.
    cfg.validate()?;
    let store = Arc::new(Store::open(&cfg.state)?);
    let stored_key = store.lldp_key(|| rand::random::<[u8; 32]>().to_vec())?;
    let mut controller_config = cfg.controller_config(&stored_key)?;
    if let Some(mp) = &mut controller_config.forwarding.multipath {
        // Not the group ids of the instance before (see the field's doc).
        mp.first_group_id = rand::random_range(1..=MAX_FIRST_GROUP_ID);
    }
    let mut controller = Controller::new(controller_config);
    restore_records(&mut controller, &store, &cfg)?;
    let api_config = cfg.api_config(std::env::var("EDGEFLOW_API_TOKEN").ok());
    let forecast_config = cfg.forecast_config();
    let retention = cfg.retention();
    let busy_poll_us = cfg.busy_poll_us;
    // Both ports are bound (and refused with a clear message) before anything starts.
    let listener = listen(cfg.listen)
        .map_err(|e| format!("cannot listen for switches on {}: {e}", cfg.listen))?;
    let api_listener = listen(cfg.api_listen)
        .map_err(|e| format!("cannot listen for the API on {}: {e}", cfg.api_listen))?;
    info!(switches = %cfg.listen, api = %cfg.api_listen, "edgeflow listening");
    let (snapshots, snapshot_rx) = tokio::sync::watch::channel(Arc::new(Default::default()));
    let (stats, stats_rx) = tokio::sync::watch::channel(Default::default());
    let (commands_tx, commands) = tokio::sync::mpsc::channel(256);
    let app = edgeflow_api::router(
        edgeflow_api::ApiState::new(snapshot_rx, stats_rx, commands_tx).with_history(store.clone()),
        api_config,
    );
    // The API has a thread and runtime of its own: its requests never wait
    // behind a burst of switch traffic, and the switch side never pays for
    // waking threads across cores.
    std::thread::Builder::new()
        .name("edgeflow-api".into())
        .spawn(move || {
            let served = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
                .and_then(|rt| {
                    rt.block_on(async move {
                        let l = tokio::net::TcpListener::from_std(api_listener)
                            .map_err(|e| e.to_string())?;
                        axum::serve(l, app).await.map_err(|e| e.to_string())
                    })
                });
            if let Err(e) = served {
                error!(error = %e, "API server failed");
            }
        })?;
    // The controller and its switch connections share one thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let (forecaster, forecasts) = edgeflow_controller::forecasting::spawn(forecast_config);
        let outputs = edgeflow_controller::runtime::Outputs {
            snapshots,
            stats,
            history: edgeflow_controller::history::spawn_writer(store.clone(), retention),
            forecaster,
            forecasts,
            commands,
            records: spawn_record_writer(store),
        };
        let busy_poll = std::time::Duration::from_micros(busy_poll_us);
        edgeflow_controller::runtime::run(
            listener,
            controller,
            outputs,
            busy_poll,
            shutdown_signal(),
        )
        .await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// A non-blocking listening socket with a backlog for a fabric's worth of
/// switches connecting at once (the standard library's is 128).
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Loads the nodes of the configuration, then the nodes and placement
/// batches stored by the API (a stored node replaces a configured one).
fn restore_records(
    controller: &mut Controller,
    store: &Store,
    cfg: &Config,
) -> Result<(), Box<dyn std::error::Error>> {
    for node in &cfg.nodes {
        controller.put_node(node)?;
    }
    for (name, value) in store.records(Record::Node)? {
        match serde_json::from_slice(&value) {
            Ok(node) => controller.put_node(&node).map(drop)?,
            Err(e) => warn!(node = name, error = %e, "ignoring an unreadable stored node"),
        }
    }
    for (id, value) in store.records(Record::Placement)? {
        match serde_json::from_slice(&value) {
            Ok(batch) => {
                if let Err(e) = controller.restore_placement(batch) {
                    warn!(placement = id, error = %e, "ignoring a stored placement that is no longer valid");
                }
            }
            Err(e) => warn!(placement = id, error = %e, "ignoring an unreadable stored placement"),
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    info!("shutting down");
}
