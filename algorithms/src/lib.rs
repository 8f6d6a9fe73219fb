//! Pure algorithms for edgeflow: path computation, link-load forecasting and
//! traffic engineering. Nothing here does I/O or reads a clock.

pub mod forecast;
pub mod paths;
pub mod te;
