//! Small dense least squares for the AR/ARMA regressions.
//!
//! The systems here have at most a dozen unknowns and are solved thousands
//! of times per refit round, so the normal equations XᵀX β = Xᵀy are formed
//! with ndarray and solved by a Cholesky factorisation written out below,
//! with a tiny ridge so that a constant or collinear lag never fails the
//! solve. linfa-linear would do the same arithmetic through a `Dataset`, a
//! fitted-model object and linfa-linalg, and add argmin to the build; for
//! k ≤ 12 that is overhead without benefit (linfa stays the tool for
//! scaling and clustering across links).

use ndarray::{Array1, Array2};

/// Least-squares β minimising |Xβ − y|² + ridge·tr(XᵀX)/k·|β|²; `None` if not solvable.
pub(crate) fn lstsq(x: &Array2<f64>, y: &Array1<f64>, ridge: f64) -> Option<Array1<f64>> {
    let k = x.ncols();
    if k == 0 || x.nrows() < k {
        return None;
    }
    let mut a = x.t().dot(x);
    let b = x.t().dot(y);
    let scale = (0..k).map(|i| a[[i, i]]).sum::<f64>() / k as f64;
    let lambda = ridge * scale.max(1e-12);
    for i in 0..k {
        a[[i, i]] += lambda;
    }
    solve_spd(a, b)
}

/// Solve A x = b for symmetric positive definite A by Cholesky.
fn solve_spd(mut a: Array2<f64>, mut b: Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    // In-place lower-triangular factor L with A = L Lᵀ.
    for j in 0..n {
        let mut d = a[[j, j]];
        for k in 0..j {
            d -= a[[j, k]] * a[[j, k]];
        }
        if d.is_nan() || d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[[j, j]] = d;
        for i in j + 1..n {
            let mut s = a[[i, j]];
            for k in 0..j {
                s -= a[[i, k]] * a[[j, k]];
            }
            a[[i, j]] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[[i, k]] * b[k];
        }
        b[i] = s / a[[i, i]];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[[k, i]] * b[k];
        }
        b[i] = s / a[[i, i]];
    }
    b.iter().all(|v| v.is_finite()).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn recovers_exact_coefficients() {
        let x = array![[1.0, 2.0], [3.0, 1.0], [0.5, -1.0], [2.0, 2.0]];
        let beta = array![1.5, -0.5];
        let y = x.dot(&beta);
        let got = lstsq(&x, &y, 1e-12).unwrap();
        assert!(
            (got[0] - 1.5).abs() < 1e-6 && (got[1] + 0.5).abs() < 1e-6,
            "{got}"
        );
    }

    #[test]
    fn collinear_columns_still_solve_with_ridge() {
        let x = array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]];
        let y = array![2.0, 4.0, 6.0];
        let got = lstsq(&x, &y, 1e-8).unwrap();
        assert!((got[0] + got[1] - 2.0).abs() < 1e-4, "{got}");
    }
}
