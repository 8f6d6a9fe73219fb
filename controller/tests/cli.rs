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
