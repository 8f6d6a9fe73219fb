//! Golden corpus: os-ken's OpenFlow 1.3 parser test vectors.
//!
//! For every `.packet` file: frame and decode every message, map the decoded
//! value onto os-ken's JSON shape and compare it with `json/<name>.json`
//! (values of every field, match, action and counter), then re-encode and
//! require the original bytes. Parts this codec keeps raw (Nicira action
//! bodies, table-feature properties, ONF flow-monitor requests) are decoded
//! here, in the test, as far as needed to check them against the JSON.

mod ofp_osken;

use edgeflow_proto::ofp::*;
use ofp_osken::{msg_json, ANY_NX, PARTIAL};
use serde_json::Value;
use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/os-ken-of13");
    assert!(
        dir.join("packet").is_dir() && dir.join("json").is_dir(),
        "golden corpus missing at {}: the checkout must have shared/golden/os-ken-of13 beside it",
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

/// Structural comparison; objects must have the same keys, except
/// PARTIAL ones (only their own keys are checked) and the ANY_NX class.
fn compare(path: &str, ours: &Value, exp: &Value, errs: &mut Vec<String>) {
    match (ours, exp) {
        (Value::Object(o), Value::Object(e)) => {
            if o.len() == 1 && e.len() == 1 {
                let (ok, ov) = o.iter().next().unwrap();
                let (ek, ev) = e.iter().next().unwrap();
                if ok == ANY_NX && ek.starts_with("NX") {
                    return compare(&format!("{path}/{ek}"), ov, ev, errs);
                }
            }
            let partial = o.contains_key(PARTIAL);
            for (k, ov) in o {
                if k == PARTIAL {
                    continue;
                }
                match e.get(k) {
                    Some(ev) => compare(&format!("{path}/{k}"), ov, ev, errs),
                    None => errs.push(format!("{path}/{k}: missing in os-ken JSON (ours {ov})")),
                }
            }
            if !partial {
                for k in e.keys().filter(|k| !o.contains_key(*k)) {
                    errs.push(format!("{path}/{k}: not produced by our mapping"));
                }
            }
        }
        (Value::Array(o), Value::Array(e)) => {
            if o.len() != e.len() {
                errs.push(format!("{path}: {} items, os-ken has {}", o.len(), e.len()));
            }
            for (i, (ov, ev)) in o.iter().zip(e).enumerate() {
                compare(&format!("{path}[{i}]"), ov, ev, errs);
            }
        }
        (o, e) if o == e => {}
        (o, e) => errs.push(format!("{path}: ours {o}, os-ken {e}")),
    }
}

fn packet_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("packet"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "packet"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 80,
        "expected the full corpus, found {} files",
        files.len()
    );
    files
}

#[test]
fn every_golden_message_decodes_and_reencodes_byte_exact() {
    let mut failures = Vec::new();
    let mut n = 0;
    for path in packet_files() {
        let bytes = std::fs::read(&path).unwrap();
        for frame in frames(&bytes) {
            n += 1;
            match OfpMsg::parse(frame) {
                Ok(msg) => {
                    if msg.to_vec() != frame {
                        failures.push(format!("{}: re-encoding differs", path.display()));
                    }
                    let mut buf = bytes::BytesMut::from(&b"prefix"[..]);
                    msg.emit_to(&mut buf);
                    if &buf[6..] != frame {
                        failures.push(format!("{}: emit_to differs", path.display()));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(n >= 87, "only {n} messages in the corpus");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_golden_message_matches_os_ken_json() {
    let dir = corpus_dir();
    let mut errs = Vec::new();
    for path in packet_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let json_path = dir.join("json").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&json_path)
            .unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
        let expected: Value = serde_json::from_str(&text).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let frames = frames(&bytes);
        assert_eq!(frames.len(), 1, "{name}: one message per file expected");
        let msg = OfpMsg::parse(frames[0]).unwrap_or_else(|e| panic!("{name}: {e}"));
        compare(&name, &msg_json(&msg), &expected, &mut errs);
    }
    assert!(
        errs.is_empty(),
        "{} mismatches:\n{}",
        errs.len(),
        errs.join("\n")
    );
}

#[test]
fn flow_mod_with_experimenter_set_field_keeps_it_raw() {
    let bytes = std::fs::read(corpus_dir().join("packet/4-2-ofp_flow_mod.packet")).unwrap();
    let msg = OfpMsg::parse(&bytes).unwrap();
    let Message::FlowMod(fm) = &msg.body else {
        panic!("not a flow mod")
    };
    let Instruction::ApplyActions(actions) = &fm.instructions[1] else {
        panic!("second instruction is not APPLY_ACTIONS")
    };
    let Action::SetField(oxm) = &actions[1] else {
        panic!("not a set_field")
    };
    assert_eq!(
        oxm,
        &Oxm::Raw {
            class: OFPXMC_EXPERIMENTER,
            field: 0,
            has_mask: false,
            value: vec![0x4f, 0x4e, 0x46, 0x00, 0x0a, 0x00, 0x01],
        }
    );
    assert_eq!(oxm.experimenter(), Some(0x4f4e_4600));
    assert_eq!(msg.to_vec(), bytes);
}

#[test]
fn nicira_actions_decode_as_raw_experimenter_actions() {
    let mut seen = 0;
    for path in packet_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("ovs-ofctl-of13-action") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let msg = OfpMsg::parse(&bytes).unwrap();
        let Message::FlowMod(fm) = &msg.body else {
            panic!("{name}: not a flow mod")
        };
        let nx = fm
            .instructions
            .iter()
            .flat_map(|i| match i {
                Instruction::ApplyActions(a) | Instruction::WriteActions(a) => a.as_slice(),
                _ => &[],
            })
            .filter(|a| {
                matches!(
                    a,
                    Action::Experimenter {
                        experimenter: 0x2320,
                        ..
                    }
                )
            })
            .count();
        assert!(nx > 0, "{name}: no Nicira action decoded");
        seen += 1;
    }
    assert!(seen >= 15, "only {seen} ovs-ofctl action files");
}
