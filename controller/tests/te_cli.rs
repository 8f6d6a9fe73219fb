//! `edgeflow te-eval` as a user runs it: routing replayed on demand series.

use edgeflow_algorithms::te::series::MatrixConfig;
use edgeflow_controller::te_cli::{synthetic_demands, Topology};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Five nodes with numeric ids: a ring 1-2-3-4 with a thin chord 1-3 and a
/// spur 5 off 4, so shortest paths crowd the chord and splitting pays.
const RING: &str = r#"{"nodes": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}],
  "links": [
    {"source": 1, "target": 2, "capacity": 1e9},
    {"source": 2, "target": 3, "capacity": 1e9},
    {"source": 3, "target": 4, "capacity": 1e9},
    {"source": 4, "target": 1, "capacity": 1e9},
    {"source": 1, "target": 3, "capacity": 2e8},
    {"source": 4, "target": 5, "capacity": 4e9}
  ]}"#;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("edgeflow-te-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, text: &str) -> PathBuf {
    let path = dir().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Four days of hourly demands between every pair of `topology`'s nodes.
fn demands(name: &str, topology: &str) -> PathBuf {
    let topo = Topology::parse(topology).unwrap();
    let mut cfg = MatrixConfig {
        total: 3e9,
        ..MatrixConfig::default()
    };
    cfg.pair.interval_s = 3600.0;
    write(name, &synthetic_demands(&topo, &cfg, 96))
}

fn te_eval(topology: &Path, demands: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgeflow"))
        .arg("te-eval")
        .arg("--topology")
        .arg(topology)
        .arg("--demands")
        .arg(demands)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `te-eval --json` with `args`; it must succeed.
fn te_eval_json(topology: &Path, demands: &Path, args: &[&str]) -> Value {
    let out = te_eval(topology, demands, &[&["--json"], args].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn oracle_lp_is_optimal_and_the_baselines_are_not() {
    let topo = write("ring.json", RING);
    let csv = demands("ring.csv", RING);
    let lp = te_eval_json(&topo, &csv, &["--oracle", "--method", "lp"]);
    for key in ["steps", "mean", "p95", "max", "compute_ms_mean"] {
        assert!(v_is_number(&lp, key), "{key} missing in {lp}");
    }
    assert_eq!(lp["pairs"], 20);
    assert_eq!(lp["steps"], 48, "the first half of 96 rows is warm-up");
    assert_eq!(lp["method"], "lp");
    assert!((num(&lp, "mean") - 1.0).abs() < 1e-6, "{lp}");
    assert!((num(&lp, "max") - 1.0).abs() < 1e-6, "{lp}");
    assert!(num(&lp, "optimum_mlu_mean") > 0.0);
    let ecmp = te_eval_json(&topo, &csv, &["--oracle", "--method", "ecmp"]);
    let shortest = te_eval_json(&topo, &csv, &["--oracle", "--method", "shortest"]);
    // The chord carries every shortest path across the ring: both baselines
    // overload it where the LP spreads.
    assert!(num(&ecmp, "mean") > 1.1, "{ecmp}");
    assert!(num(&shortest, "mean") > 1.1, "{shortest}");
    for v in [&ecmp, &shortest] {
        assert!(num(v, "p95") <= num(v, "max") && num(v, "mean") <= num(v, "max"));
        assert_eq!(v["steps"], lp["steps"]);
    }
}

fn v_is_number(v: &Value, key: &str) -> bool {
    v.get(key).is_some_and(Value::is_number)
}

#[test]
fn forecast_routing_scores_at_least_the_optimum_and_lp_beats_ecmp() {
    let topo = write("ring-f.json", RING);
    let csv = demands("ring-f.csv", RING);
    let lp = te_eval_json(&topo, &csv, &["--method", "lp", "--train-frac", "0.75"]);
    let ecmp = te_eval_json(&topo, &csv, &["--method", "ecmp", "--train-frac", "0.75"]);
    assert_eq!(lp["oracle"], false);
    assert_eq!(lp["steps"], 24);
    assert!(num(&lp, "mean") >= 1.0 - 1e-9, "{lp}");
    assert!(num(&lp, "mean") < num(&ecmp, "mean"), "{lp} {ecmp}");
    assert!(num(&lp, "forecast_ms_mean") > 0.0, "{lp}");
}

#[test]
fn missing_cells_count_and_do_not_stop_the_replay() {
    let topo = write(
        "line.json",
        r#"{"nodes": [{"id": "a"}, {"id": "b"}], "edges": [{"source": "a", "target": "b", "capacity": 10}]}"#,
    );
    let mut csv = String::from("time,a->b,b->a\n");
    for t in 0..12 {
        let gap = if t == 8 { String::new() } else { "4".into() };
        csv.push_str(&format!("{},{gap},{}\n", t * 300, 2 + t % 2));
    }
    let csv = write("line.csv", &csv);
    let v = te_eval_json(&topo, &csv, &["--oracle"]);
    assert_eq!(v["missing_cells"], 1);
    assert_eq!(v["steps"], 6);
    assert!((num(&v, "optimum_mlu_mean") - 0.4).abs() < 1e-9, "{v}");
}

/// Runs te-eval on the given files and returns its stderr; it must fail cleanly.
fn failure(topology: &str, demands: &str) -> String {
    let out = te_eval(&write("t.json", topology), &write("d.csv", demands), &[]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

const PAIR: &str = r#"{"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b", "capacity": 10}]}"#;
const CSV: &str = "t,a->b\n0,1\n300,1\n600,1\n900,1\n";

#[test]
fn bad_input_fails_with_a_message_naming_the_problem() {
    let cases = [
        ("{\"nodes\": [", CSV, "topology: EOF"),
        (
            r#"{"nodes": [{"id": "a"}], "links": [{"source": "a", "target": "z", "capacity": 1}]}"#,
            CSV,
            "unknown node \"z\"",
        ),
        (
            r#"{"nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b", "capacity": -5}]}"#,
            CSV,
            "capacity -5 is not a positive number",
        ),
        (
            r#"{"nodes": [{"id": "a"}, {"id": "a"}], "links": []}"#,
            CSV,
            "node \"a\" appears twice",
        ),
        (
            PAIR,
            "t,a->z\n0,1\n300,1\n",
            "no node \"z\" in the topology",
        ),
        (PAIR, "t,ab\n0,1\n300,1\n", "not named SRC->DST"),
        (PAIR, "t,a->b,a->b\n0,1,1\n300,1,1\n", "appears twice"),
        (PAIR, "t,a->b\n0,1\n300,-2\n600,1\n", "negative rate -2"),
        (PAIR, "t,a->b\n0,1\n", "too few"),
        (PAIR, "t,a->b\n0,1\n300,x\n", "line 3"),
        (
            r#"{"directed": true, "nodes": [{"id": "a"}, {"id": "b"}], "links": [{"source": "a", "target": "b", "capacity": 10}]}"#,
            "t,b->a\n0,1\n300,1\n600,1\n",
            "\"b->a\": no path",
        ),
    ];
    for (topology, demands, expected) in cases {
        let err = failure(topology, demands);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
    }
}

#[test]
fn a_missing_file_is_named() {
    let out = te_eval(Path::new("/nonexistent/t.json"), &write("ok.csv", CSV), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/t.json"));
}

#[test]
fn the_committed_abilene_topology_routes_its_example_demands() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/abilene.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let topo = Topology::parse(&text).unwrap();
    assert_eq!(topo.graph.node_count(), 11);
    assert_eq!(topo.graph.edge_count(), 28, "14 links, both directions");
    let csv = demands("abilene.csv", &text);
    let lp = te_eval_json(&path, &csv, &["--oracle"]);
    let ecmp = te_eval_json(&path, &csv, &["--oracle", "--method", "ecmp"]);
    assert_eq!(lp["pairs"], 110);
    assert!((num(&lp, "mean") - 1.0).abs() < 1e-6, "{lp}");
    assert!(num(&ecmp, "mean") > num(&lp, "mean"), "{ecmp}");
}
