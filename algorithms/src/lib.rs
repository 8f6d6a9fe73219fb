//! Pure algorithms for edgeflow: path computation now; forecasting and
//! traffic engineering later. Nothing here does I/O or reads a clock.

pub mod paths;
