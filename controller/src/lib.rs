//! The edgeflow controller: sans-IO switch sessions, LLDP discovery, host
//! tracking and forwarding policy, with a thin tokio runtime on top.

pub mod config;
pub mod controller;
pub mod discovery;
pub mod dump;
pub mod forecast_cli;
pub mod forecasting;
pub mod forwarding;
pub mod history;
pub mod hosts;
pub mod multipath;
pub mod ofp_print;
pub mod outbox;
pub mod placement;
pub mod priority;
pub mod runtime;
pub mod session;
pub mod stats;
pub mod storage;
pub mod te_cli;
pub mod timers;
pub mod topology;
