//! Inputs shared by edgeflow's benchmarks: typical OpenFlow messages and
//! fat-tree graphs; and the OpenFlow switch emulator and ceiling controller
//! ([`ofbench`]).

pub mod ofbench;

use edgeflow_proto::ofp::{
    self, Action, FlowMod, Instruction, Match, Message, MultipartReply, MultipartReplyBody, OfpMsg,
    Oxm, PacketIn, PacketInReason, Port, PortStats,
};
use edgeflow_proto::MacAddr;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};

/// A PACKET_IN carrying a 98-byte ICMP echo frame, as Open vSwitch sends a table miss.
pub fn packet_in() -> OfpMsg {
    let mut frame = vec![0u8; 98];
    frame[..6].copy_from_slice(&[0, 0, 0, 0, 0, 2]);
    frame[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 1]);
    frame[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    OfpMsg {
        xid: 0,
        body: Message::PacketIn(PacketIn {
            buffer_id: ofp::NO_BUFFER,
            total_len: 98,
            reason: PacketInReason::NoMatch,
            table_id: 0,
            cookie: 0,
            match_: Match::new().with(Oxm::InPort(3)),
            data: frame,
        }),
    }
}

/// A FLOW_MOD as edgeflow installs for a host pair: in_port, eth_src, eth_dst, one output.
pub fn flow_mod() -> OfpMsg {
    let m = Match::new()
        .with(Oxm::InPort(1))
        .with(Oxm::EthSrc(MacAddr([0, 0, 0, 0, 0, 1]), None))
        .with(Oxm::EthDst(MacAddr([0, 0, 0, 0, 0, 2]), None));
    let mut fm = FlowMod::add(
        1000,
        m,
        vec![Instruction::ApplyActions(vec![Action::Output {
            port: 2,
            max_len: 0,
        }])],
    );
    fm.idle_timeout = 60;
    fm.cookie = 0x0400_0000_0000_0000;
    OfpMsg {
        xid: 7,
        body: Message::FlowMod(fm),
    }
}

/// Counters of ports 1..=n, as a busy switch reports them.
pub fn port_stats(n: u32) -> Vec<PortStats> {
    (1..=n)
        .map(|p| PortStats {
            port_no: p,
            rx_packets: 1_000_000 + u64::from(p),
            tx_packets: 2_000_000,
            rx_bytes: 1_500_000_000,
            tx_bytes: 3_000_000_000,
            rx_dropped: 1,
            tx_dropped: 2,
            rx_errors: 0,
            tx_errors: 0,
            rx_frame_err: 0,
            rx_over_err: 0,
            rx_crc_err: 0,
            collisions: 0,
            duration_sec: 3600,
            duration_nsec: 500,
        })
        .collect()
}

/// Descriptions of ports 1..=n of switch `switch` (numbered from 1): up, 10 Gbit/s.
pub fn ports(switch: u32, n: u32) -> Vec<Port> {
    (1..=n)
        .map(|p| Port {
            port_no: p,
            hw_addr: MacAddr([
                2,
                0,
                (switch >> 16) as u8,
                (switch >> 8) as u8,
                switch as u8,
                p as u8,
            ]),
            name: format!("s{switch}-eth{p}"),
            config: 0,
            state: 4,
            curr: 0x2840,
            advertised: 0,
            supported: 0,
            peer: 0,
            curr_speed: 10_000_000,
            max_speed: 0,
        })
        .collect()
}

/// A PORT_STATS reply for a 48-port switch.
pub fn port_stats_reply() -> OfpMsg {
    OfpMsg {
        xid: 9,
        body: Message::MultipartReply(MultipartReply {
            flags: 0,
            body: MultipartReplyBody::PortStats(port_stats(48)),
        }),
    }
}

/// A PORT_DESC reply for a 48-port switch.
pub fn port_desc_reply() -> OfpMsg {
    OfpMsg {
        xid: 3,
        body: Message::MultipartReply(MultipartReply {
            flags: 0,
            body: MultipartReplyBody::PortDesc(ports(1, 48)),
        }),
    }
}

/// A k-ary fat-tree (k even): (k/2)^2 cores, k pods of k/2 aggregation and
/// k/2 edge switches; each link as two directed edges. Returns the graph and
/// the edge switches.
pub fn fat_tree(k: usize) -> (StableDiGraph<u64, ()>, Vec<NodeIndex>) {
    let half = k / 2;
    let mut g = StableDiGraph::new();
    let mut id = 0u64;
    let mut node = |g: &mut StableDiGraph<u64, ()>| {
        id += 1;
        g.add_node(id)
    };
    let cores: Vec<_> = (0..half * half).map(|_| node(&mut g)).collect();
    let mut edges = Vec::new();
    let link = |g: &mut StableDiGraph<u64, ()>, a, b| {
        g.add_edge(a, b, ());
        g.add_edge(b, a, ());
    };
    for _pod in 0..k {
        let aggs: Vec<_> = (0..half).map(|_| node(&mut g)).collect();
        let edge_sw: Vec<_> = (0..half).map(|_| node(&mut g)).collect();
        for (i, &a) in aggs.iter().enumerate() {
            for c in 0..half {
                link(&mut g, a, cores[i * half + c]);
            }
            for &e in &edge_sw {
                link(&mut g, a, e);
            }
        }
        edges.extend(edge_sw);
    }
    (g, edges)
}
