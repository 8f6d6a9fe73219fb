//! The exact minimum-MLU split as a linear program, solved by good_lp with
//! the pure-Rust microlp simplex solver.
//!
//! Variables: `x[d][p] ≥ 0` with `Σ_p x[d][p] = 1` for each demand with a
//! positive rate and more than one path, and `u`; for every edge some such
//! path crosses, `(background + Σ rate·x) / capacity ≤ u`; minimise `u`.
//! Demands with a single path or a zero rate are fixed, not variables.
//! Edges that carry only background bound the MLU from below whatever the
//! split, so they are left out. Among optimal splits the solver returns
//! whichever vertex it reaches: off the bottleneck, traffic may take longer
//! paths than it needs.

use super::heuristic::ecmp;
use super::{Demand, Network, Split, TeError};
use good_lp::{microlp, variable, Expression, ProblemVariables, Solution, SolverModel, Variable};

/// The split of `demands` over their paths with the least MLU on `net`.
///
/// Errors on invalid input (see [`Network::check`]) or if the solver fails;
/// an empty demand list gives an empty split.
pub fn min_mlu(net: &Network, demands: &[Demand]) -> Result<Split, TeError> {
    net.check(demands)?;
    let mut split = ecmp(demands);
    let free: Vec<usize> = (0..demands.len())
        .filter(|&d| demands[d].rate > 0.0 && demands[d].paths.len() > 1)
        .collect();
    if free.is_empty() {
        return Ok(split);
    }
    let mut vars = ProblemVariables::new();
    let u = vars.add(variable().min(0.0));
    let x: Vec<Vec<Variable>> = free
        .iter()
        .map(|&d| {
            (0..demands[d].paths.len())
                .map(|_| vars.add(variable().min(0.0).max(1.0)))
                .collect()
        })
        .collect();
    // Per edge: the fixed load (background, fixed demands) and the terms.
    let mut fixed = vec![0.0; net.len()];
    let mut terms: Vec<Expression> = vec![Expression::from(0.0); net.len()];
    let mut used = vec![false; net.len()];
    for (d, demand) in demands.iter().enumerate() {
        if free.binary_search(&d).is_ok() {
            continue;
        }
        for (p, w) in demand.paths.iter().zip(&split.weights[d]) {
            for e in &p.edges {
                fixed[e.index()] += demand.rate * w;
            }
        }
    }
    for (xs, &d) in x.iter().zip(&free) {
        let demand = &demands[d];
        for (p, &xv) in demand.paths.iter().zip(xs) {
            for e in &p.edges {
                terms[e.index()].add_mul(demand.rate, xv);
                used[e.index()] = true;
            }
        }
    }
    let mut model = vars.minimise(u).using(microlp);
    for xs in &x {
        let sum: Expression = xs.iter().sum();
        model.add_constraint(sum.eq(1.0));
    }
    for (e, expr) in terms.into_iter().enumerate() {
        if !used[e] {
            continue;
        }
        let cap = net.capacity()[e];
        let base = (net.planned_background(e) + fixed[e]) / cap;
        // Scaled by 1/capacity so every row is in utilisation units.
        model.add_constraint((expr * (1.0 / cap) - u).leq(-base));
    }
    let solution = model
        .solve()
        .map_err(|err| TeError::Solver(err.to_string()))?;
    for (xs, &d) in x.iter().zip(&free) {
        // Clamp solver round-off and renormalise so each row sums to 1.
        let row: Vec<f64> = xs.iter().map(|&v| solution.value(v).max(0.0)).collect();
        let total: f64 = row.iter().sum();
        if !(total.is_finite() && total > 0.0) {
            return Err(TeError::Solver(format!(
                "demand {d}: no flow in the solution"
            )));
        }
        split.weights[d] = row.into_iter().map(|v| v / total).collect();
    }
    Ok(split)
}
