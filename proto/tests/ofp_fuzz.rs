//! Fuzz targets (bolero). Under plain `cargo test` each runs a bounded
//! number of random inputs; under `cargo bolero test` they fuzz for real.
//!
//! Property: decoding any bytes never panics, and whatever decodes
//! re-encodes to bytes that decode to the same value.

use edgeflow_proto::ofp::{frame_len, OfpMsg};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Decodes `bytes` every way the controller would and checks the
/// re-encoding of anything that decodes; returns whether it decoded.
fn check(bytes: &[u8]) -> bool {
    let _ = frame_len(bytes);
    let decoded = OfpMsg::parse(bytes);
    if let Ok(msg) = &decoded {
        let again = msg.to_vec();
        assert_eq!(again.len(), msg.buffer_len());
        match OfpMsg::parse(&again) {
            Ok(back) => assert_eq!(&back, msg, "re-encoding changed the value"),
            Err(e) => panic!("re-encoding of {msg:?} does not decode: {e}"),
        }
    }
    decoded.is_ok()
}

/// Forces a plausible header (version 4, a known type, the buffer's own
/// length) so random bodies reach the message parsers.
fn with_header(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 8 || bytes.len() > usize::from(u16::MAX) {
        return None;
    }
    let mut b = bytes.to_vec();
    b[0] = 4;
    b[1] %= 30;
    let len = b.len() as u16;
    b[2..4].copy_from_slice(&len.to_be_bytes());
    Some(b)
}

/// Valid messages to mutate: the golden corpus frames if present, plus a
/// few built-in ones so the target also works without the corpus.
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out = vec![
            // HELLO with a version bitmap.
            vec![4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 16],
            // PACKET_IN with IN_PORT and a short frame.
            vec![
                4, 10, 0, 38, 0, 0, 0, 2, 255, 255, 255, 255, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 1, 0, 12, 128, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb,
            ],
        ];
        for s in &mut out {
            let len = s.len() as u16;
            s[2..4].copy_from_slice(&len.to_be_bytes());
        }
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/golden/os-ken-of13/packet");
        if let Ok(entries) = std::fs::read_dir(dir) {
            let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                let Ok(b) = std::fs::read(&p) else { continue };
                let mut rest = &b[..];
                while let Ok(Some(n)) = frame_len(rest) {
                    out.push(rest[..n].to_vec());
                    rest = &rest[n..];
                }
            }
        }
        out
    })
}

/// Applies byte-directed mutations to a seed: the first two input bytes
/// pick the seed, the next one an optional truncation, then each
/// (offset, value) triple overwrites one byte.
fn mutate(input: &[u8]) -> Option<Vec<u8>> {
    let seeds = seeds();
    let (&a, rest) = input.split_first()?;
    let (&b, rest) = rest.split_first()?;
    let (&cut, rest) = rest.split_first()?;
    let mut m = seeds[usize::from(u16::from_be_bytes([a, b])) % seeds.len()].clone();
    for op in rest.chunks_exact(3) {
        let at = usize::from(u16::from_be_bytes([op[0], op[1]])) % m.len();
        m[at] = op[2];
    }
    if cut < 32 && m.len() > 8 {
        let keep = 8 + usize::from(cut) * (m.len() - 8) / 32;
        m.truncate(keep);
    }
    with_header(&m)
}

#[test]
fn arbitrary_bytes_never_panic_and_decoded_values_roundtrip() {
    bolero::check!()
        .with_iterations(20_000)
        .with_max_len(512)
        .for_each(|bytes: &[u8]| {
            check(bytes);
            if let Some(b) = with_header(bytes) {
                check(&b);
            }
        });
}

#[test]
fn mutated_valid_messages_never_panic_and_decoded_values_roundtrip() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    static DECODED: AtomicUsize = AtomicUsize::new(0);
    bolero::check!()
        .with_iterations(20_000)
        .with_max_len(64)
        .for_each(|bytes: &[u8]| {
            if let Some(m) = mutate(bytes) {
                RUNS.fetch_add(1, Ordering::Relaxed);
                if check(&m) {
                    DECODED.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    let (runs, decoded) = (
        RUNS.load(Ordering::Relaxed),
        DECODED.load(Ordering::Relaxed),
    );
    eprintln!("mutated inputs: {runs}, decoded: {decoded}");
    // The round-trip half of the property must actually be exercised.
    assert!(
        decoded * 20 >= runs,
        "only {decoded} of {runs} mutated inputs decoded"
    );
}

#[test]
fn mutation_seeds_are_valid_messages() {
    for s in seeds() {
        let msg = OfpMsg::parse(s).unwrap_or_else(|e| panic!("seed does not decode: {e}"));
        assert_eq!(&msg.to_vec(), s);
    }
}
