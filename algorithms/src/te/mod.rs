//! Traffic engineering: k shortest paths per demand, splits of each demand
//! over its paths that minimise the maximum link utilisation (MLU), and the
//! quantisation of split ratios into select-group bucket weights.

pub mod ksp;

pub use ksp::{k_shortest_paths, Path};
