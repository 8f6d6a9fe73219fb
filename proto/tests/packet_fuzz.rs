//! Fuzz targets: the packet decoders never panic on any input, and whatever
//! they accept re-encodes to something that decodes to the same value. Under
//! plain `cargo test` bolero runs a short random pass; `cargo bolero test`
//! runs them as real fuzz targets.

mod packet_common;

use edgeflow_proto::packet::{
    ArpRepr, EthernetRepr, Ipv4Repr, Ipv6Repr, LldpRepr, PacketSummary, TcpRepr, UdpRepr, L3,
};

/// Decodes `frame` with every decoder; checks round trips of what decodes.
fn decode_all(frame: &[u8]) {
    if let Ok(s) = PacketSummary::parse(frame) {
        let (eth, payload) = EthernetRepr::parse(frame).expect("summary implies Ethernet");
        assert_eq!(s.eth, eth);
        if s.l3 == L3::Lldp {
            lldp_round_trip(payload);
        }
    }
    lldp_round_trip(frame);
    let _ = ArpRepr::parse(frame);
    let _ = Ipv4Repr::parse(frame);
    let _ = Ipv4Repr::parse_captured(frame);
    let _ = Ipv4Repr::checksum_ok(frame);
    let _ = Ipv6Repr::parse(frame);
    let _ = TcpRepr::parse(frame);
    let _ = UdpRepr::parse(frame);
}

/// If `lldpdu` decodes, its encoding decodes to the same value.
fn lldp_round_trip(lldpdu: &[u8]) {
    if let Ok(l) = LldpRepr::parse(lldpdu) {
        assert_eq!(l.validate(), Ok(()), "{l:?}");
        let mut buf = vec![0u8; l.buffer_len()];
        l.emit(&mut buf);
        assert_eq!(LldpRepr::parse(&buf).as_ref(), Ok(&l));
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    bolero::check!()
        .with_iterations(2000)
        .for_each(|bytes: &[u8]| decode_all(bytes));
}

#[test]
fn mutated_golden_frames_never_panic() {
    let frames = packet_common::all_frames();
    // Pick a golden frame, overwrite bytes at an offset, cut it: reaches the
    // inner decoders far more often than random bytes do.
    bolero::check!()
        .with_type::<(u8, u8, u8, Vec<u8>)>()
        .with_iterations(4000)
        .for_each(|(which, at, cut, patch)| {
            let (_, golden) = &frames[usize::from(*which) % frames.len()];
            let mut frame = golden.clone();
            let at = usize::from(*at) % frame.len();
            for (b, p) in frame[at..].iter_mut().zip(patch) {
                *b = *p;
            }
            frame.truncate(frame.len() - usize::from(*cut) % 8);
            decode_all(&frame);
            decode_all(&frame[14.min(frame.len())..]);
        });
}
