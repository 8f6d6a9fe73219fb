//! Pure algorithms for edgeflow: path computation, link-load forecasting;
//! traffic engineering later. Nothing here does I/O or reads a clock.

pub mod forecast;
pub mod paths;
