//! The `edgeflow` binary as a user runs it.

use std::path::PathBuf;
use std::process::Command;

fn edgeflow() -> Command {
    Command::new(env!("CARGO_BIN_EXE_edgeflow"))
}

fn corpus() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/os-ken-of13/packet");
    assert!(dir.is_dir(), "golden corpus missing at {}", dir.display());
    dir
}

#[test]
fn ofp_print_round_trips_the_whole_golden_corpus() {
    let mut files = 0;
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let out = edgeflow()
            .arg("ofp-print")
            .arg("--roundtrip")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.lines().count() >= 1);
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
            assert!(v.get("xid").is_some() && v.get("body").is_some(), "{line}");
        }
        files += 1;
    }
    assert!(files > 50, "only {files} corpus files");
}

#[test]
fn ofp_print_fails_on_truncated_input() {
    let src = corpus().join("4-2-ofp_flow_mod.packet");
    let bytes = std::fs::read(src).unwrap();
    let dir = std::env::temp_dir().join(format!("edgeflow-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = dir.join("cut.packet");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let out = edgeflow().arg("ofp-print").arg(&cut).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("message 0"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn run_rejects_bad_config_before_binding() {
    let out = edgeflow()
        .args([
            "run",
            "--listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .args(["--lldp-interval-ms", "5000", "--link-timeout-ms", "1000"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("link_timeout_ms"));
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgeflow-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `forecast-eval --json` on `input` with `args`; it must succeed.
fn forecast_eval_json(input: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = edgeflow()
        .args(["forecast-eval", "--json", "--input"])
        .arg(input)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn forecast_eval_prints_one_json_object_with_every_model() {
    // A cycle of 12 samples a day (two-hour spacing) over 12 days, with a missing cell.
    let mut csv = String::from("time,link_a,link_b\n");
    for i in 0..144u64 {
        let b = if i == 50 {
            String::new()
        } else {
            (10 + i % 12).to_string()
        };
        csv.push_str(&format!("{},{},{}\n", i * 7200, 100 + (i % 12) * 10, b));
    }
    let path = temp_file("loads.csv", &csv);
    let v = forecast_eval_json(&path, &["--horizon", "3", "--train-frac", "0.5"]);
    assert_eq!(v["horizon"], 3);
    assert_eq!(v["series"], 2);
    let models = v["models"].as_array().unwrap();
    for m in models {
        for key in [
            "name",
            "nmae",
            "rmse",
            "median_mape",
            "fit_ms",
            "predict_ms",
        ] {
            assert!(m.get(key).is_some(), "{key} missing in {m}");
        }
    }
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"last_value") && names.contains(&"selected"),
        "{names:?}"
    );
    let out = edgeflow()
        .args(["forecast", "--horizon", "2", "--input"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().count(),
        1 + 2 * 2
    );
}

#[test]
fn forecast_eval_rejects_a_malformed_csv_with_the_line() {
    let path = temp_file("bad.csv", "time,a\n0,1\n300,abc\n");
    let out = edgeflow()
        .args(["forecast-eval", "--horizon", "1", "--input"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"));
}

#[test]
fn forecast_eval_on_a_recorded_mininet_trace_keeps_the_selection_near_its_best_baseline() {
    // 360 one-second samples of the 16 aggregation-to-core link directions of a
    // fat-tree under edgeflow (mininet-tests/tools/record_trace.py).
    let trace =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mininet-tests/traces/fattree-iperf.csv");
    let v = forecast_eval_json(&trace, &["--horizon", "3", "--period", "60"]);
    assert_eq!(v["series"], 16);
    let nmae = |name: &str| {
        v["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()["nmae"]
            .as_f64()
            .unwrap()
    };
    // Step changes every 5 s make last value hard to beat here; the
    // selection must at least not fall far behind it.
    assert!(nmae("selected") <= 1.1 * nmae("last_value"), "{v}");
}
