//! Golden corpus: os-ken's OpenFlow 1.3 parser test vectors.

use edgeflow_proto::ofp::{frame_len, OfpMsg};
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/os-ken-of13");
    assert!(
        dir.join("packet").is_dir(),
        "golden corpus missing at {}: the checkout must have shared/ beside it",
        dir.display()
    );
    dir
}

/// Splits a .packet file into frames, failing on any framing error.
fn frames(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = frame_len(rest)
            .expect("framing error")
            .expect("incomplete frame at end of file");
        out.push(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

#[test]
fn every_golden_message_decodes_and_reencodes_byte_exact() {
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("packet"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        for frame in frames(&bytes) {
            match OfpMsg::parse(frame) {
                Ok(msg) => {
                    if msg.to_vec() != frame {
                        failures.push(format!("{}: re-encoding differs", path.display()));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
