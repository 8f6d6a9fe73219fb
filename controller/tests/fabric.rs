//! The controller against simulated switches on a virtual clock.

mod sim;

use edgeflow_algorithms::forecast::Forecast;
use edgeflow_controller::forwarding::{FloodLimit, COOKIE_PATH};
use edgeflow_controller::multipath::{COOKIE_TAG, DELIVERY_TABLE, SPREAD_TABLE};
use edgeflow_controller::placement::COOKIE_PLACEMENT;
use edgeflow_controller::session;
use edgeflow_controller::topology::PortRef;
use edgeflow_proto::ofp::{self, ErrorType, Hello, HelloElem, Message};
use sim::{fat_tree, two_sites, Net};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Every host resolves and reaches every other host, as `pingall` does.
fn pingall(net: &mut Net) {
    let n = net.hosts.len();
    for a in 0..n {
        for b in 0..n {
            if a == b {
                continue;
            }
            net.clear_inboxes();
            let req = net.arp_request(a, b);
            net.host_sends(a, req);
            if net.hosts[b]
                .inbox
                .iter()
                .any(|f| f == &net.arp_request(a, b))
            {
                let reply = net.arp_reply(b, a);
                net.host_sends(b, reply);
            }
            assert_eq!(
                net.unicast_received(a),
                1,
                "{} answers {}",
                net.hosts[b].name,
                net.hosts[a].name
            );
            let ip = net.ip_frame(a, b);
            net.host_sends(a, ip);
            assert_eq!(
                net.unicast_received(b),
                1,
                "{} -> {}",
                net.hosts[a].name,
                net.hosts[b].name
            );
        }
    }
}

/// Hosts `a` and `b` send each other `n` IP frames, taking turns.
fn exchange(net: &mut Net, a: usize, b: usize, n: usize) {
    for _ in 0..n {
        let f = net.ip_frame(a, b);
        net.host_sends(a, f);
        let f = net.ip_frame(b, a);
        net.host_sends(b, f);
    }
}

#[test]
fn handshake_installs_table_miss_and_lldp_flows() {
    let mut net = Net::new(&[(1, 2)], &[], &[(1, 1)]);
    net.start();
    let sw = &net.switches[&1];
    assert!(
        sw.flows
            .iter()
            .any(|f| f.priority == 0 && f.fields.is_empty()),
        "table-miss: {:?}",
        sw.flows
    );
    assert!(
        sw.flows.iter().any(|f| f.priority == 0xffff),
        "LLDP to controller"
    );
    let received = &net.received[&1];
    let first_barrier = received
        .iter()
        .position(|m| matches!(m, Message::BarrierRequest))
        .unwrap();
    let first_flow_add = received
        .iter()
        .position(|m| matches!(m, Message::FlowMod(f) if f.priority == 0))
        .unwrap();
    assert!(
        first_flow_add < first_barrier,
        "the barrier confirms the table-miss entry"
    );
    assert_eq!(net.ctrl.topology().switches().len(), 1);
}

#[test]
fn fat_tree_links_are_all_discovered() {
    let mut net = fat_tree();
    net.start();
    // 32 physical links, each once per direction.
    assert_eq!(net.ctrl.topology().links().len(), 64);
    for l in net.ctrl.topology().links() {
        assert_eq!(
            net.links.get(&(l.src.dpid, l.src.port)),
            Some(&(l.dst.dpid, l.dst.port))
        );
    }
}

#[test]
fn pingall_on_fat_tree_without_loops() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    assert_eq!(net.looped, 0, "a frame circled");
    assert_eq!(net.ctrl.hosts().len(), 16);
}

#[test]
fn flood_reaches_each_host_once() {
    let mut net = fat_tree();
    net.start();
    net.clear_inboxes();
    let req = net.arp_request(0, 5);
    net.host_sends(0, req);
    for (i, h) in net.hosts.iter().enumerate().skip(1) {
        assert_eq!(h.inbox.len(), 1, "host {i} got {} copies", h.inbox.len());
    }
    assert!(net.hosts[0].inbox.is_empty(), "no echo back to the sender");
    assert_eq!(net.looped, 0);
}

#[test]
fn a_host_port_floods_frames_for_unknown_hosts_at_a_bounded_rate() {
    // Each frame for an unknown host costs a PACKET_OUT to every switch
    // with hosts: a host spraying them gets 32 flooded at once, then 16 a
    // second; the rest are dropped and counted.
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let spray = |net: &mut Net, n: u16| {
        net.clear_inboxes();
        for i in 0..n {
            let mut f = net.ip_frame(0, 1);
            f[..6].copy_from_slice(&[0x02, 0, 0, 0x77, (i >> 8) as u8, i as u8]);
            net.host_sends(0, f);
        }
        net.hosts[1].inbox.len()
    };
    assert_eq!(spray(&mut net, 100), 32);
    assert_eq!(net.ctrl.stats().floods_limited, 68);
    net.advance(Duration::from_secs(1));
    assert_eq!(spray(&mut net, 100), 16);
    assert_eq!(net.ctrl.stats().floods_limited, 68 + 84);
    // Another host's port has its own budget, and known hosts are not held
    // back at all.
    net.clear_inboxes();
    let mut f = net.ip_frame(2, 1);
    f[..6].copy_from_slice(&[0x02, 0, 0, 0x77, 0, 1]);
    net.host_sends(2, f);
    assert_eq!(net.hosts[1].inbox.len(), 1);
    let known = net.ip_frame(0, 1);
    net.host_sends(0, known);
    assert_eq!(net.hosts[1].inbox.len(), 2);
    // The limit is a setting.
    let mut net = fat_tree().with_config(|c| {
        c.forwarding.unknown_flood = FloodLimit {
            burst: 4.0,
            per_s: 2.0,
        }
    });
    net.start();
    pingall(&mut net);
    assert_eq!(spray(&mut net, 10), 4);
    net.advance(Duration::from_secs(1));
    assert_eq!(spray(&mut net, 10), 2);
}

/// `frame` with an 802.1Q tag of VLAN `vid` after its addresses.
fn tagged(frame: &[u8], vid: u16) -> Vec<u8> {
    let mut f = frame[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00]);
    f.extend_from_slice(&vid.to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    f
}

#[test]
fn a_vlans_arp_is_answered_by_its_hosts_not_by_proxy() {
    // The host table knows no VLANs. An ARP request on VLAN 10 for an
    // address the controller knows (untagged) is not answered untagged
    // from that table, which the asking VLAN interface would drop (and
    // which could name another VLAN's host): it goes to the hosts, tagged.
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    net.clear_inboxes();
    let before = net.ctrl.stats().proxy_arp;
    let req = tagged(&net.arp_request(0, 5), 10);
    net.host_sends(0, req.clone());
    assert_eq!(net.ctrl.stats().proxy_arp, before, "answered by proxy");
    assert!(net.hosts[0].inbox.is_empty(), "{:?}", net.hosts[0].inbox);
    assert_eq!(net.hosts[5].inbox, vec![req]);
    // A tagged frame teaches no address: host 2 claiming host 5's address
    // on VLAN 10 leaves the untagged binding alone.
    let mut claim = tagged(&net.arp_request(2, 0), 10);
    let at = 14 + 4 + 14; // Ethernet and tag, then the ARP sender's address
    claim[at..at + 4].copy_from_slice(&net.hosts[5].ip.octets());
    net.host_sends(2, claim);
    let ip = std::net::IpAddr::V4(net.hosts[5].ip);
    assert_eq!(net.ctrl.hosts().mac_of(&ip), Some(net.hosts[5].mac));
}

#[test]
fn known_target_is_answered_by_proxy_arp() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    net.clear_inboxes();
    let forwarded = net.forwarded;
    let req = net.arp_request(0, 15);
    net.host_sends(0, req);
    assert_eq!(net.hosts[0].inbox.len(), 1, "the reply");
    assert!(
        net.hosts[15].inbox.is_empty(),
        "the request was not flooded"
    );
    assert_eq!(net.forwarded, forwarded, "nothing crossed a link");
}

#[test]
fn installed_paths_carry_traffic_without_the_controller() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let before = net.packet_ins();
    exchange(&mut net, 0, 15, 3);
    assert_eq!(net.packet_ins(), before);
    assert_eq!(net.unicast_received(15), 3 + 1);
}

#[test]
fn a_forwarded_frame_leaves_after_the_flows_of_its_path() {
    for multipath in [true, false] {
        let mut net = fat_tree();
        if !multipath {
            net = net.single_path();
        }
        net.start();
        pingall(&mut net);
        expire_pair_flows(&mut net);
        net.written.clear();
        net.clear_inboxes();
        let f = net.ip_frame(0, 15);
        net.host_sends(0, f.clone());
        assert_eq!(net.unicast_received(15), 1);
        let last_mod = net
            .written
            .iter()
            .rposition(|(_, _, m)| matches!(m, Message::FlowMod(_) | Message::GroupMod(_)));
        let frame_out = net
            .written
            .iter()
            .position(|(_, _, m)| matches!(m, Message::PacketOut(po) if po.data == f));
        assert!(last_mod.is_some(), "the path is installed again");
        assert!(
            frame_out > last_mod,
            "multipath {multipath}: the frame left at {frame_out:?}, a flow change at {last_mod:?}"
        );
        // The next frame rides the flows.
        let before = net.packet_ins();
        let f = net.ip_frame(0, 15);
        net.host_sends(0, f);
        assert_eq!(net.packet_ins(), before);
    }
}

#[test]
fn a_switchs_probes_and_its_statistics_request_leave_in_one_write() {
    let mut net = fat_tree();
    net.start();
    for _ in 0..3 {
        net.written.clear();
        // A second in steps: requests spread over it would leave alone.
        for _ in 0..100 {
            net.advance(Duration::from_millis(10));
        }
        let writes = |dpid: u64, what: fn(&Message) -> bool| -> BTreeSet<usize> {
            net.written
                .iter()
                .filter(|(_, d, m)| *d == dpid && what(m))
                .map(|(w, _, _)| *w)
                .collect()
        };
        for &dpid in net.switches.keys() {
            let polls = writes(dpid, |m| {
                matches!(m, Message::MultipartRequest(r)
                    if matches!(r.body, ofp::MultipartRequestBody::PortStats { .. }))
            });
            let probes = writes(dpid, |m| matches!(m, Message::PacketOut(_)));
            assert_eq!(polls.len(), 1, "switch {dpid}: one poll a round");
            assert_eq!(
                polls, probes,
                "switch {dpid}: polled and probed in one write"
            );
        }
    }
}

#[test]
fn a_read_reports_how_many_messages_it_completed() {
    // The runtime answers a read of one message at once and batches reads of more.
    let mut net = fat_tree();
    net.start();
    let conn = net.switches[&21].conn;
    let barrier = |xid| {
        ofp::OfpMsg {
            xid,
            body: Message::BarrierReply,
        }
        .to_vec()
    };
    let mut bytes = [barrier(1), barrier(2), barrier(3)].concat();
    let tail = bytes.split_off(bytes.len() - 5);
    let now = std::time::Instant::now();
    assert_eq!(net.ctrl.handle_bytes(conn, now, &bytes), 2);
    assert_eq!(net.ctrl.handle_bytes(conn, now, &tail), 1);
    assert_eq!(net.ctrl.handle_bytes(conn, now, &[]), 0);
    assert_eq!(
        net.ctrl.handle_bytes(999, now, &barrier(4)),
        0,
        "no such connection"
    );
    // A port going down leaves the flood flows to recompute once output is
    // taken: the runtime lets such a read wait for the batched write.
    assert!(!net.ctrl.recompute_pending());
    let link = *net.links.keys().find(|(d, _)| *d == 21).unwrap();
    let sw = net.switches.get_mut(&21).unwrap();
    let port = sw.ports.iter_mut().find(|p| p.port_no == link.1).unwrap();
    port.state |= 1; // OFPPS_LINK_DOWN
    let down = ofp::OfpMsg {
        xid: 0,
        body: Message::PortStatus(ofp::PortStatus {
            reason: ofp::PortReason::Modify,
            desc: port.clone(),
        }),
    };
    assert_eq!(net.ctrl.handle_bytes(conn, now, &down.to_vec()), 1);
    assert!(net.ctrl.recompute_pending());
    while net.ctrl.poll_transmit().is_some() {}
    assert!(!net.ctrl.recompute_pending());
}

#[test]
fn the_api_snapshot_describes_the_switches_again_only_after_a_change() {
    let mut net = fat_tree();
    net.start();
    let before = net.ctrl.view().switches;
    // Polling rounds bring new rates (from the second on), not new ports.
    net.advance(Duration::from_secs(1));
    net.advance(Duration::from_secs(1));
    let polled = net.ctrl.view();
    assert!(
        polled.links.iter().any(|l| l.tx_bps.is_some()),
        "rates arrived"
    );
    assert!(std::sync::Arc::ptr_eq(&before, &polled.switches));
    let link = *net.links.keys().find(|(d, _)| *d == 21).unwrap();
    net.cut(link);
    let after = net.ctrl.view().switches;
    assert!(!std::sync::Arc::ptr_eq(&before, &after));
    let port = after
        .iter()
        .find(|s| s.dpid.0 == 21)
        .and_then(|s| s.ports.iter().find(|p| p.port_no == link.1))
        .unwrap();
    assert!(!port.up, "the snapshot shows the port down");
}

#[test]
fn a_packet_in_between_hosts_of_one_switch_is_answered_in_one_write() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    expire_pair_flows(&mut net);
    net.written.clear();
    let f = net.ip_frame(0, 1);
    net.host_sends(0, f);
    let edge = net.hosts[0].at.0;
    assert_eq!(net.hosts[1].at.0, edge);
    let answer: Vec<_> = net.written.iter().filter(|(_, d, _)| *d == edge).collect();
    assert!(answer
        .iter()
        .any(|(_, _, m)| matches!(m, Message::FlowMod(_))));
    assert!(answer
        .iter()
        .any(|(_, _, m)| matches!(m, Message::PacketOut(_))));
    assert!(
        answer.iter().all(|(w, _, _)| *w == answer[0].0),
        "{answer:?}"
    );
}

#[test]
fn single_path_host_pairs_spread_over_all_cores() {
    let mut net = fat_tree().single_path();
    net.start();
    pingall(&mut net);
    // Which cores carry path flows.
    let used: BTreeSet<u64> = (1..=4u64)
        .filter(|c| {
            net.switches[c]
                .flows
                .iter()
                .any(|f| f.priority == 1000 && f.packets > 0)
        })
        .collect();
    assert_eq!(used.len(), 4, "cores used: {used:?}");
}

#[test]
fn single_path_cut_link_moves_traffic_at_once() {
    let mut net = fat_tree().single_path();
    net.start();
    pingall(&mut net);
    // Find an aggregation-core link that carries h1 -> h16 and cut it.
    let f = net.ip_frame(0, 15);
    net.host_sends(0, f);
    let core = (1..=4u64)
        .find(|c| {
            net.switches[c].flows.iter().any(|f| {
                f.packets > 0
                    && f.fields
                        .iter()
                        .any(|x| *x == edgeflow_proto::ofp::Oxm::EthDst(net.hosts[15].mac, None))
            })
        })
        .expect("h1 -> h16 crosses a core");
    let pod_of_h1 = 1u32; // core port p leads to pod p; h1 is in pod 0
    net.cut((core, pod_of_h1));
    net.clear_inboxes();
    let before = net.packet_ins();
    let f = net.ip_frame(0, 15);
    net.host_sends(0, f);
    assert_eq!(net.unicast_received(15), 1, "delivered over another path");
    assert_eq!(
        net.packet_ins(),
        before,
        "by flows already in place, not by the controller"
    );
    let f = net.ip_frame(15, 0);
    net.host_sends(15, f);
    assert_eq!(net.unicast_received(0), 1, "and back");
    assert_eq!(net.looped, 0);
}

#[test]
fn links_expire_when_probes_stop() {
    let mut net = Net::new(&[(1, 2), (2, 2)], &[((1, 1), (2, 1))], &[]);
    net.start();
    assert_eq!(net.ctrl.topology().links().len(), 2);
    // The cable is pulled without any port going down (a broken middlebox).
    net.links.clear();
    for _ in 0..5 {
        net.advance(Duration::from_secs(1));
    }
    assert!(net.ctrl.topology().links().is_empty());
}

#[test]
fn malformed_message_closes_only_that_switch() {
    let mut net = Net::new(&[(1, 2), (2, 2)], &[((1, 1), (2, 1))], &[]);
    net.start();
    let conn = net.switches[&1].conn;
    // A FLOW_REMOVED whose length field (8) is too short for its type.
    net.switch_sends_bytes(conn, vec![4, 11, 0, 8, 0, 0, 0, 9]);
    net.drive();
    assert!(!net.switches.contains_key(&1), "the session was closed");
    assert_eq!(
        net.ctrl
            .topology()
            .switches()
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![2]
    );
    let errors: Vec<_> = net.received[&1]
        .iter()
        .filter(|m| matches!(m, Message::Error(_)))
        .collect();
    assert_eq!(errors.len(), 1, "the switch was told why");
}

#[test]
fn other_versions_get_hello_failed() {
    let mut net = Net::new(&[(1, 2)], &[], &[]);
    let conn = net.switches[&1].conn;
    net.ctrl.handle_connect(conn, net.now);
    net.switch_says(
        conn,
        0,
        Message::Hello(Hello {
            version: 1,
            elements: vec![],
        }),
    );
    net.drive();
    let errs: Vec<_> = net.received[&1]
        .iter()
        .filter_map(|m| match m {
            Message::Error(e) => Some(e.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].typ, ErrorType::HelloFailed);
    assert!(!net.switches.contains_key(&1), "session closed");
    // A bitmap that includes 1.3 is accepted even from a higher version.
    let mut net = Net::new(&[(1, 2)], &[], &[]);
    let conn = net.switches[&1].conn;
    net.ctrl.handle_connect(conn, net.now);
    net.switch_says(
        conn,
        0,
        Message::Hello(Hello {
            version: 6,
            elements: vec![HelloElem::VersionBitmap(vec![(1 << 4) | (1 << 6)])],
        }),
    );
    net.drive();
    assert_eq!(net.ctrl.topology().switches().len(), 1);
}

#[test]
fn silent_switch_is_dropped_after_echo_timeout() {
    let mut net = Net::new(&[(1, 2), (2, 2)], &[((1, 1), (2, 1))], &[]);
    net.start();
    // Switch 2 answers echoes in drive(); make switch 1 deaf by removing it from the sim.
    net.switches.remove(&1);
    for _ in 0..20 {
        net.advance(Duration::from_secs(1));
    }
    assert_eq!(
        net.ctrl
            .topology()
            .switches()
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        vec![2]
    );
}

#[test]
fn foreign_lldp_is_ignored_and_counted() {
    let mut net = Net::new(&[(1, 2)], &[], &[(1, 1)]);
    net.start();
    // An LLDP frame from a host (no edgeflow signature).
    let lldp = edgeflow_proto::packet::LldpRepr {
        chassis_id: edgeflow_proto::packet::ChassisId::Local(b"dpid:0000000000000009".to_vec()),
        port_id: edgeflow_proto::packet::PortId::Local(vec![0, 0, 0, 1]),
        ttl: 120,
        org: vec![],
        other: vec![],
    };
    let frame = lldp.to_frame(net.hosts[0].mac);
    net.host_sends(0, frame);
    assert!(net.ctrl.topology().links().is_empty());
    assert_eq!(net.ctrl.discovery().foreign, 1);
}

#[test]
fn host_moving_to_another_port_of_its_switch_is_followed() {
    // Two switches; h1 on s1 port 1 (port 3 free), h2 on s2 port 1.
    let mut net = Net::new(&[(1, 3), (2, 2)], &[((1, 2), (2, 2))], &[(1, 1), (2, 1)]);
    net.start();
    pingall(&mut net);
    net.move_host(0, (1, 3));
    net.clear_inboxes();
    // The moved host talks first; its frames must not ride the old flows silently.
    let f = net.ip_frame(0, 1);
    net.host_sends(0, f);
    assert_eq!(net.unicast_received(1), 1);
    let f = net.ip_frame(1, 0);
    net.host_sends(1, f);
    assert_eq!(net.unicast_received(0), 1, "the reply reaches the new port");
    assert_eq!(net.ctrl.hosts().get(&net.hosts[0].mac).unwrap().at.port, 3);
}

#[test]
fn a_switch_whose_tables_someone_cleared_is_started_over() {
    // `ovs-ofctl del-flows` on edge 21 takes its table-miss, discovery,
    // flood and path flows: no PACKET_IN would ever tell the controller.
    // Open vSwitch reports the table-miss flow's removal (the controller
    // asked for it), and the controller closes the connection, so that the
    // switch connects again and is set up anew.
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let sw = net.switches.get_mut(&21).unwrap();
    sw.flows.clear();
    let conn = sw.conn;
    let removed = |cookie, duration_sec| {
        Message::FlowRemoved(ofp::FlowRemoved {
            cookie,
            priority: 0,
            reason: ofp::FlowRemovedReason::Delete,
            table_id: 0,
            duration_sec,
            duration_nsec: 0,
            idle_timeout: 0,
            hard_timeout: 0,
            packet_count: 0,
            byte_count: 0,
            match_: ofp::Match::new(),
        })
    };
    // A path flow's removal alone is an ordinary event; so is the removal
    // of a table-miss flow that lived longer than the session: an earlier
    // session's, which this one's handshake deleted (a restarted
    // controller's first session with a switch).
    net.switch_says(conn, 0, removed(COOKIE_PATH, 0));
    net.switch_says(conn, 0, removed(session::COOKIE_BASE, 3600));
    net.drive();
    assert!(net.switches.contains_key(&21));
    net.switch_says(conn, 0, removed(session::COOKIE_BASE, 0));
    net.drive();
    assert!(!net.switches.contains_key(&21), "the connection was closed");
    assert_eq!(net.switches.len(), 19);
}

#[test]
fn a_switch_whose_groups_someone_deleted_is_started_over() {
    // `ovs-ofctl del-groups` on edge 21 leaves its table-miss flow: the
    // first sign is the switch refusing a flow (or a MODIFY) that names one
    // of the controller's groups, which the controller never does to a
    // switch whose groups are its own. It starts the switch over.
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let conn = net.switches[&21].conn;
    let error = |typ, code| {
        Message::Error(ofp::ErrorMsg {
            typ,
            code,
            data: Vec::new(),
        })
    };
    // Other errors are logged only.
    net.switch_says(conn, 0, error(ErrorType::BadRequest, 1));
    net.drive();
    assert!(net.switches.contains_key(&21));
    net.switch_says(
        conn,
        0,
        error(ErrorType::BadAction, ofp::bad_action::BAD_OUT_GROUP),
    );
    net.drive();
    assert!(!net.switches.contains_key(&21), "the connection was closed");
    let conn = net.switches[&22].conn;
    net.switch_says(
        conn,
        0,
        error(
            ErrorType::GroupModFailed,
            ofp::group_mod_failed::UNKNOWN_GROUP,
        ),
    );
    net.drive();
    assert!(!net.switches.contains_key(&22), "the connection was closed");
}

#[test]
fn switch_reconnecting_gets_its_path_flows_back() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    // Reconnect the edge switch of h1 before the controller notices the old
    // session died: the old connection does not answer the probe, and the
    // new one takes over when it runs out.
    net.reconnect(21);
    net.advance(Duration::from_secs(1));
    let before = net.packet_ins();
    net.clear_inboxes();
    let f = net.ip_frame(0, 15);
    net.host_sends(0, f);
    assert_eq!(net.unicast_received(15), 1);
    assert_eq!(
        net.packet_ins(),
        before,
        "flows were reinstalled with the handshake"
    );
}

#[test]
fn a_second_switch_with_a_connected_datapath_id_is_refused() {
    // A cloned VM's switch brings the datapath id of switch 1. Replacing
    // the connected switch would drop it, and it would come back and drop
    // the clone in turn, for as long as both run.
    let mut net = two_sites();
    net.start();
    pingall(&mut net);
    let ports = net.ctrl.topology().switches()[&1].ports.len();
    net.connect_twin(1, 99, 2);
    assert!(
        net.switches.contains_key(&99),
        "held while switch 1 is probed"
    );
    // A third with the same id meanwhile is refused at once.
    net.connect_twin(1, 98, 3);
    assert!(!net.switches.contains_key(&98));
    net.advance(Duration::from_secs(1));
    assert!(!net.switches.contains_key(&99), "the clone was refused");
    assert!(
        net.switches.contains_key(&1),
        "switch 1 kept its connection"
    );
    assert_eq!(net.ctrl.stats().duplicate_datapaths, 2);
    assert_eq!(net.ctrl.topology().switches()[&1].ports.len(), ports);
    pingall(&mut net);
}

#[test]
fn a_held_switch_that_leaves_is_forgotten() {
    let mut net = two_sites();
    net.start();
    pingall(&mut net);
    let twin = net.connect_twin(1, 99, 2);
    net.ctrl.handle_disconnect(twin);
    net.advance(Duration::from_secs(1));
    assert_eq!(net.ctrl.topology().switches()[&1].ports.len(), 5);
    assert_eq!(net.ctrl.stats().duplicate_datapaths, 0);
    assert!(net.ctrl.poll_timeout().is_some_and(|t| t > net.now));
    pingall(&mut net);
}

#[test]
fn a_held_switch_takes_over_when_the_connected_one_leaves() {
    let mut net = two_sites();
    net.start();
    pingall(&mut net);
    let conn = net.switches[&1].conn;
    let twin = net.connect_twin(1, 99, 2);
    // While held, the newcomer loses its port 2.
    let desc = net.switches[&99].ports[1].clone();
    let body = Message::PortStatus(ofp::PortStatus {
        reason: ofp::PortReason::Delete,
        desc,
    });
    net.switch_says(twin, 0, body);
    net.drive();
    // Switch 1's connection closes during the probe: the held one is
    // switch 1 at once, with its own ports as they are now.
    net.ctrl.handle_disconnect(conn);
    net.drive();
    let ports = &net.ctrl.topology().switches()[&1].ports;
    assert_eq!(ports.keys().copied().collect::<Vec<_>>(), vec![1]);
    net.advance(Duration::from_secs(1));
    assert!(net.switches.contains_key(&99));
    assert_eq!(net.ctrl.stats().duplicate_datapaths, 0);
}

#[test]
fn silent_connection_does_not_spin_the_timer() {
    let mut net = Net::new(&[(1, 2)], &[], &[]);
    let conn = net.switches[&1].conn;
    net.ctrl.handle_connect(conn, net.now);
    // The peer never says HELLO. After the echo is sent, the next wake-up
    // must lie in the future, or the runtime would busy-loop.
    for step in 0..12 {
        net.now += Duration::from_secs(1);
        net.ctrl.handle_timeout(net.now);
        while net.ctrl.poll_transmit().is_some() {}
        if net.ctrl.poll_close().is_some() {
            assert!(step >= 9, "closed only after the handshake timeout");
            return;
        }
        let next = net.ctrl.poll_timeout().expect("a timer is pending");
        assert!(
            next > net.now,
            "step {step}: wake-up {next:?} not after now"
        );
    }
    panic!("the silent connection was never closed");
}

#[test]
fn probe_rounds_run_while_switches_chat() {
    // A switch that keeps talking (echo requests every few seconds) must not
    // push the probe timer away: the controller wants to wake within one
    // probe interval of the first connection.
    let mut net = Net::new(&[(1, 2)], &[], &[]);
    let conn = net.switches[&1].conn;
    net.ctrl.handle_connect(conn, net.now);
    let next = net.ctrl.poll_timeout().expect("a timer is pending");
    assert!(
        next <= net.now + Duration::from_secs(1),
        "{:?}",
        next - net.now
    );
}

#[test]
fn probes_reaching_a_switch_during_its_handshake_are_not_lost() {
    // s1 becomes ready first and probes at once; s2 is still in its
    // handshake when s1's probe arrives: the link s1 -> s2 must still be
    // known without waiting for the next probe round.
    let mut net = Net::new(&[(1, 2), (2, 2)], &[((1, 1), (2, 1))], &[]);
    let (c1, c2) = (net.switches[&1].conn, net.switches[&2].conn);
    net.ctrl.handle_connect(c1, net.now);
    net.switch_says(c1, 0, Message::Hello(Hello::standard()));
    net.drive();
    net.ctrl.handle_connect(c2, net.now);
    net.switch_says(c2, 0, Message::Hello(Hello::standard()));
    net.drive();
    assert_eq!(net.ctrl.topology().links().len(), 2);
}

#[test]
fn single_path_cross_pod_pairs_of_distinct_hosts_get_disjoint_links() {
    // Every host of pods 0 and 1 sends to its twin in pods 2 and 3 (the
    // capacity test's pattern): with one pair per host, no link in either
    // direction may carry two pairs, or they would share its capacity.
    let mut net = fat_tree().single_path();
    net.start();
    pingall(&mut net);
    let pairs: Vec<(usize, usize)> = (0..8).map(|i| (i, i + 8)).collect();
    let mut used: std::collections::BTreeMap<(u64, u32), Vec<(usize, usize)>> = Default::default();
    for &(a, b) in &pairs {
        for (src, dst) in [(a, b), (b, a)] {
            let (sm, dm) = (net.hosts[src].mac, net.hosts[dst].mac);
            for sw in net.switches.values() {
                for f in &sw.flows {
                    let on_pair = f
                        .fields
                        .contains(&edgeflow_proto::ofp::Oxm::EthSrc(sm, None))
                        && f.fields
                            .contains(&edgeflow_proto::ofp::Oxm::EthDst(dm, None));
                    if on_pair {
                        for a in &f.actions {
                            if let edgeflow_proto::ofp::Action::Output { port, .. } = a {
                                if net.links.contains_key(&(sw.dpid, *port)) {
                                    used.entry((sw.dpid, *port)).or_default().push((src, dst));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let shared: Vec<_> = used.iter().filter(|(_, p)| p.len() > 1).collect();
    assert!(
        shared.is_empty(),
        "links carrying several pairs: {shared:?}"
    );
    assert_eq!(used.len(), 8 * 2 * 4, "each pair crosses 4 links each way");
}

#[test]
fn polled_counters_become_link_rates() {
    let mut net = Net::new(&[(1, 2), (2, 2)], &[((1, 2), (2, 2))], &[(1, 1), (2, 1)]);
    net.start();
    pingall(&mut net);
    net.advance(Duration::from_secs(1));
    net.ctrl.poll_rates();
    // 100 frames of 38 bytes from h1 to h2 within the next second.
    for _ in 0..100 {
        let f = net.ip_frame(0, 1);
        net.host_sends(0, f);
    }
    net.advance(Duration::from_secs(1));
    let link = net
        .ctrl
        .view()
        .links
        .into_iter()
        .find(|l| l.src.dpid.0 == 1)
        .unwrap();
    let bps = link.tx_bps.expect("rates after two polls");
    // Each frame crosses the link with its 4-byte path tag; plus one LLDP
    // probe (under 100 bytes) per second.
    let data = 100.0 * (38.0 + 4.0) * 8.0;
    assert!(bps >= data && bps < data + 800.0, "{bps}");
    assert!((link.utilization.unwrap() - bps / 10e6).abs() < 1e-9);
    assert!(
        !net.ctrl.poll_rates().is_empty(),
        "rates are handed on for the history"
    );
}

/// The cores whose path-tag flows carried frames since the counters were reset.
fn cores_carrying_tags(net: &Net) -> BTreeSet<u64> {
    (1..=4u64)
        .filter(|c| {
            net.switches[c]
                .flows
                .iter()
                .any(|f| f.cookie == COOKIE_TAG && f.packets > 0)
        })
        .collect()
}

/// The controller's view of the select group from edge 21 (h1's switch)
/// to edge 28 (h16's).
fn group_21_to_28(net: &Net) -> edgeflow_api::model::GroupView {
    net.ctrl
        .view()
        .groups
        .into_iter()
        .find(|g| g.src.0 == 21 && g.dst.0 == 28)
        .expect("a group from edge 21 to edge 28")
}

#[test]
fn cross_pod_traffic_enters_a_group_of_four_tagged_paths() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    // h1 (edge 21) to h16 (edge 28): 4 equal-cost paths, one bucket each.
    let groups = &net.switches[&21].groups;
    let to_28 = group_21_to_28(&net);
    let buckets = &groups[&to_28.group_id];
    assert_eq!(buckets.len(), 4);
    assert!(buckets.iter().all(|b| b.weight == 25), "{buckets:?}");
    let hops: BTreeSet<u64> = to_28.paths.iter().map(|p| p.hops[2].dpid.0).collect();
    assert_eq!(hops.len(), 4, "the paths cross four different cores");
    // Many flows between the two hosts spread over every core.
    net.reset_flow_counters();
    net.clear_inboxes();
    for flow in 0..64 {
        let f = net.flow_frame(0, 15, flow);
        net.host_sends(0, f);
    }
    assert_eq!(net.unicast_received(15), 64);
    assert_eq!(cores_carrying_tags(&net).len(), 4);
    // Tags never reach a host.
    assert!(net.hosts[15]
        .inbox
        .iter()
        .all(|f| f[12..14] != [0x81, 0x00]));
}

#[test]
fn udp_flows_spread_over_the_paths_by_source_port() {
    // The sim's select groups hash UDP without its ports, as Open vSwitch's
    // do: through the group alone, all of a host pair's UDP (a VXLAN tunnel
    // between two nodes) would take one path.
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let g = group_21_to_28(&net).group_id;
    let before = net.path_bytes(21, g);
    net.clear_inboxes();
    for sport in 40_000..40_064 {
        let f = net.udp_frame_of(0, 15, sport, 100);
        net.host_sends(0, f);
    }
    assert_eq!(net.unicast_received(15), 64);
    assert_eq!(cores_carrying_tags(&net).len(), 4);
    // Equal weights: 4 of the 16 slots per path, 16 of the 64 ports each.
    let frame = net.udp_frame_of(0, 15, 0, 100).len() as u64;
    let frames_since = |net: &Net, before: &[u64]| -> Vec<u64> {
        let now = net.path_bytes(21, g);
        now.iter()
            .zip(before)
            .map(|(a, b)| (a - b) / frame)
            .collect()
    };
    assert_eq!(frames_since(&net, &before), [16, 16, 16, 16]);
    // Ports whose low bits agree take the same path, whatever else the
    // datagrams hold (the select group would hash them apart).
    let again = net.path_bytes(21, g);
    for (i, sport) in [40_005, 40_021, 40_037, 40_053].into_iter().enumerate() {
        for payload in [100, 200 + i as u16] {
            let f = net.udp_frame_of(0, 15, sport, payload);
            net.host_sends(0, f);
        }
    }
    let moved = frames_since(&net, &again);
    assert_eq!(moved.iter().filter(|&&n| n > 0).count(), 1, "{moved:?}");
    // The path groups' counters are the group's rates: UDP is measured.
    for _ in 0..3 {
        for sport in 40_000..40_064 {
            let f = net.udp_frame_of(0, 15, sport, 1000);
            net.host_sends(0, f);
        }
        net.advance(Duration::from_secs(1));
    }
    let view = group_21_to_28(&net);
    assert!(view.paths.iter().all(|p| p.rate_bps > 0.0), "{view:?}");
}

#[test]
fn group_statistics_in_parts_measure_every_group() {
    // Switch 21 answers in two parts, which splits its groups' path groups
    // between them (Open vSwitch lists groups in no particular order): the
    // parts count together.
    let mut net = fat_tree();
    net.switches.get_mut(&21).unwrap().split_group_stats = true;
    net.start();
    pingall(&mut net);
    for _ in 0..3 {
        for flow in 0..64 {
            let f = net.flow_frame_of(0, 15, flow, 1000);
            net.host_sends(0, f);
        }
        net.advance(Duration::from_secs(1));
    }
    for g in net.ctrl.view().groups.iter().filter(|g| g.src.0 == 21) {
        let carried = g.dst.0 == 28;
        assert!(
            g.paths.iter().all(|p| (p.rate_bps > 0.0) == carried),
            "{g:?}"
        );
    }
}

#[test]
fn cut_link_moves_a_groups_traffic_at_once() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    net.reset_flow_counters();
    let f = net.ip_frame(0, 15);
    net.host_sends(0, f);
    let core = *cores_carrying_tags(&net)
        .first()
        .expect("h1 -> h16 crosses a core");
    let pod_of_h1 = 1u32; // core port p leads to pod p; h1 is in pod 0
    net.cut((core, pod_of_h1));
    net.clear_inboxes();
    let before = net.packet_ins();
    exchange(&mut net, 0, 15, 3);
    assert_eq!(net.unicast_received(15), 3, "delivered over another path");
    assert_eq!(net.unicast_received(0), 3, "and back");
    assert_eq!(net.packet_ins(), before, "by flows and groups in place");
    assert_eq!(net.looped, 0);
    // UDP, whose flows name paths, was moved off the dead link too.
    net.clear_inboxes();
    for sport in 40_000..40_064 {
        let f = net.udp_frame_of(0, 15, sport, 100);
        net.host_sends(0, f);
    }
    assert_eq!(net.unicast_received(15), 64);
    assert_eq!(net.packet_ins(), before);
    let stats = net.ctrl.stats();
    assert!(stats.groups_repaired > 0);
    // No group keeps a path over the dead link.
    for g in net.ctrl.view().groups {
        for p in &g.paths {
            assert!(
                !p.hops
                    .iter()
                    .any(|h| h.dpid.0 == core && h.port_no == pod_of_h1),
                "{g:?}"
            );
        }
    }
}

/// One second of traffic from host 0 to host 15 through the group of switch
/// 21 for 28: `frames` frames of `payload` bytes spread over 64 flows, and
/// `background` bytes that no group carries sent out of `hot` (a switch
/// and port).
fn second_with_background(
    net: &mut Net,
    frames: u16,
    payload: u16,
    hot: (u64, u32),
    background: u64,
) {
    for flow in 0..frames {
        let f = net.flow_frame_of(0, 15, flow % 64, payload);
        net.host_sends(0, f);
    }
    let c = net
        .switches
        .get_mut(&hot.0)
        .unwrap()
        .counters
        .entry(hot.1)
        .or_default();
    c.3 += background;
    net.advance(Duration::from_secs(1));
}

#[test]
fn background_load_on_a_path_moves_the_groups_weight_away() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    // Load the core-to-pod-3 link of the group's first path with 8 Mbit/s
    // that no group carries (the sim's links are 10 Mbit/s), while the group
    // carries 7.4 Mbit/s: a quarter of it on that link makes it the busiest
    // by 1.85 Mbit/s, which no other path needs to carry.
    let hot = group_21_to_28(&net).paths[0].hops[2];
    let (core, port) = (hot.dpid.0, hot.port_no);
    for _ in 0..25 {
        second_with_background(&mut net, 640, 1400, (core, port), 1_000_000);
    }
    let g = group_21_to_28(&net);
    let weight = |p: &edgeflow_api::model::WeightedPath| p.weight;
    let hot_weight = g
        .paths
        .iter()
        .find(|p| p.hops[2].dpid.0 == core)
        .map(weight)
        .unwrap();
    let others: Vec<u16> = g
        .paths
        .iter()
        .filter(|p| p.hops[2].dpid.0 != core)
        .map(weight)
        .collect();
    assert!(
        others.iter().all(|&w| w > hot_weight) && hot_weight < 25,
        "hot path {hot_weight}, others {others:?}"
    );
    assert!(
        g.paths.iter().all(|p| p.rate_bps > 0.0 || p.weight == 0),
        "{g:?}"
    );
    assert!(net.ctrl.stats().groups_reweighted > 0);
    // The switch holds what the controller computed.
    let buckets = &net.switches[&21].groups[&g.group_id];
    let on_switch: Vec<u16> = buckets.iter().map(|b| b.weight).collect();
    assert_eq!(on_switch, g.paths.iter().map(weight).collect::<Vec<_>>());
    // And UDP's slots follow the weights, each path's share within a slot.
    let slots = udp_slots(&net, 21, g.group_id);
    assert_eq!(slots.iter().sum::<usize>(), 16, "{slots:?}");
    for (n, p) in slots.iter().zip(&g.paths) {
        let share = f64::from(p.weight) / 100.0;
        assert!(
            (*n as f64 / 16.0 - share).abs() < 1.0 / 16.0,
            "{slots:?} {g:?}"
        );
    }
}

/// UDP slots per path (in bucket order) of switch `dpid`'s group `group`:
/// its spreading flows for IPv4 and for IPv6, which must agree.
fn udp_slots(net: &Net, dpid: u64, group: u32) -> Vec<usize> {
    let sw = &net.switches[&dpid];
    let path_groups: Vec<ofp::Action> = sw.groups[&group]
        .iter()
        .map(|b| b.actions[0].clone())
        .collect();
    let count = |ethertype: u16| -> Vec<usize> {
        path_groups
            .iter()
            .map(|to| {
                sw.flows
                    .iter()
                    .filter(|f| f.table == SPREAD_TABLE)
                    .filter(|f| {
                        f.fields
                            .contains(&ofp::Oxm::Metadata(u64::from(group), None))
                    })
                    .filter(|f| f.fields.contains(&ofp::Oxm::EthType(ethertype)))
                    .filter(|f| f.actions == [to.clone()])
                    .count()
            })
            .collect()
    };
    let v4 = count(0x0800);
    assert_eq!(v4, count(0x86dd));
    v4
}

#[test]
fn background_in_one_period_only_does_not_move_the_weights() {
    // The 8 Mbit/s that move the weights above, for 4 s, at every phase
    // against the 10-s rebalancing periods: background counts only as far
    // as it was there in the previous period too (a transfer that starts
    // shows as traffic no group carries until its group's counters catch
    // up), so a burst inside one period counts for nothing and one across a
    // boundary for its smaller part. Counted whole, it moves the weights at
    // half the phases.
    for offset in 0..10 {
        let mut net = fat_tree();
        net.start();
        pingall(&mut net);
        let hot = group_21_to_28(&net).paths[0].hops[2];
        for second in 0..35 {
            let burst = (offset..offset + 4).contains(&second);
            let background = if burst { 1_000_000 } else { 0 };
            second_with_background(&mut net, 640, 1400, (hot.dpid.0, hot.port_no), background);
        }
        assert_weights_never_moved(&net);
    }
}

#[test]
fn a_groups_rates_outlast_the_counters_a_modify_clears() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    // Background moves the weights (a MODIFY, which clears the switch's
    // bucket counters); the group goes on carrying 7.4 Mbit/s all along.
    let hot = group_21_to_28(&net).paths[0].hops[2];
    let mut carried = Vec::new();
    for _ in 0..25 {
        second_with_background(&mut net, 640, 1400, (hot.dpid.0, hot.port_no), 1_000_000);
        if net.ctrl.stats().groups_reweighted > 0 {
            let g = group_21_to_28(&net);
            carried.push(g.paths.iter().map(|p| p.rate_bps).sum::<f64>());
        }
    }
    assert!(
        carried.len() > 3,
        "the weights moved early enough: {carried:?}"
    );
    assert!(
        carried.iter().all(|r| (6e6..8e6).contains(r)),
        "measured after the MODIFY, Mbit/s: {carried:?}"
    );
}

#[test]
fn a_little_background_does_not_churn_the_weights() {
    // 2.5 Mbit/s on a core link of the group's first path, under a group
    // carrying 30 kbit/s (as the ACKs of a transfer) and one carrying 7.4
    // Mbit/s. With the second, that link is the group's busiest (2.5 + 1.85
    // Mbit/s against 3.7 on each first hop). The weights could shift, but no
    // split would lower the busiest link of either group by 10 % of its
    // capacity.
    for (frames, payload) in [(64, 4), (640, 1400)] {
        let mut net = fat_tree();
        net.start();
        pingall(&mut net);
        let hot = group_21_to_28(&net).paths[0].hops[2];
        for _ in 0..25 {
            second_with_background(
                &mut net,
                frames,
                payload,
                (hot.dpid.0, hot.port_no),
                312_500,
            );
        }
        let g = group_21_to_28(&net);
        assert!(g.paths.iter().all(|p| p.rate_bps > 0.0), "{g:?}");
        assert_weights_never_moved(&net);
    }
}

/// The group of switch 21 for 28 kept its equal weights all along.
fn assert_weights_never_moved(net: &Net) {
    let g = group_21_to_28(net);
    assert!(g.paths.iter().all(|p| p.weight == 25), "{g:?}");
    assert_eq!(net.ctrl.stats().groups_reweighted, 0);
}

#[test]
fn group_counters_that_trail_the_ports_are_not_mistaken_for_background() {
    let mut net = fat_tree();
    net.switches.get_mut(&21).unwrap().late_group_stats = true;
    net.start();
    pingall(&mut net);
    // One transfer at 4.5 Mbit/s for a second, then 9 for two, and again:
    // when it speeds up, its path's ports count 9 while the group, one poll
    // late, counts 4.5: over that poll it looks like 4.5 Mbit/s of
    // background on the path. Rebalancing every 10 s meets every phase of
    // the 3-s cycle.
    for second in 0..40 {
        let frames = if second % 3 == 0 { 392 } else { 784 };
        for _ in 0..frames {
            let f = net.flow_frame_of(0, 15, 7, 1400);
            net.host_sends(0, f);
        }
        net.advance(Duration::from_secs(1));
    }
    let g = group_21_to_28(&net);
    assert!(g.paths.iter().any(|p| p.rate_bps > 4e6), "{g:?}");
    assert_weights_never_moved(&net);
}

#[test]
fn group_counters_that_trail_the_ports_at_every_rebalancing_average_out() {
    // A transfer at 4.5 Mbit/s that runs at 9 for the one second before
    // each rebalancing (every 10 s; the offset sweeps the phase): in the
    // poll a rebalancing reads, the ports count 9 and the group, one poll
    // late, 4.5, in every period, so waiting a period does not help. Over
    // the whole period, ports and group count the same bytes.
    for offset in 0..10 {
        let mut net = fat_tree();
        net.switches.get_mut(&21).unwrap().late_group_stats = true;
        net.start();
        pingall(&mut net);
        for second in 0..45 {
            let frames = if (second + offset) % 10 == 9 {
                784
            } else {
                392
            };
            for _ in 0..frames {
                let f = net.flow_frame_of(0, 15, 7, 1400);
                net.host_sends(0, f);
            }
            net.advance(Duration::from_secs(1));
        }
        assert_weights_never_moved(&net);
    }
}

#[test]
fn udp_leaves_a_dead_first_link_in_the_switch() {
    // The spreading flows name paths; each path's group on the ingress is
    // a fast-failover group, so when a path's first link goes down its UDP
    // takes the next path at once, before the controller hears of it (or
    // while it cannot be reached), as the select group's other traffic does.
    let mut net = two_sites();
    net.start();
    pingall(&mut net);
    let datagrams_through = |net: &mut Net| {
        net.clear_inboxes();
        for sport in 0..64 {
            let f = net.udp_frame_of(0, 1, 40_000 + sport, 100);
            net.host_sends(0, f);
        }
        net.hosts[1].inbox.len()
    };
    assert_eq!(datagrams_through(&mut net), 64);
    let before = net.packet_ins();
    net.cut_unheard((1, 1));
    assert_eq!(
        datagrams_through(&mut net),
        64,
        "the m1 path's slots were lost"
    );
    assert_eq!(net.packet_ins(), before, "the switch moved them alone");
    // Measured where they went: on the next path, none on the dead one (a
    // path group's backup bucket counts for the path it sends on).
    for _ in 0..3 {
        datagrams_through(&mut net);
        net.advance(Duration::from_secs(1));
    }
    let g = site_group(&net);
    let rates: Vec<f64> = g.paths.iter().map(|p| p.rate_bps).collect();
    assert_eq!(g.paths[0].hops[0].port_no, 1, "{g:?}");
    assert!(
        rates[0] == 0.0 && rates[1] > 1.5 * rates[2] && rates[1] > 1.5 * rates[3],
        "{rates:?}"
    );
}

/// Two sites after a pingall, with the flows `lost` picks gone from switch
/// `dpid` (a batch the switch has not applied yet): host 0's frame for host
/// 1 goes up to the controller and reaches host 1. Returns the net and the
/// frame.
fn frame_ahead_of_its_flows(dpid: u64, lost: impl Fn(&sim::Flow) -> bool) -> (Net, Vec<u8>) {
    let mut net = two_sites();
    net.start();
    pingall(&mut net);
    net.switches
        .get_mut(&dpid)
        .unwrap()
        .flows
        .retain(|f| !lost(f));
    net.clear_inboxes();
    let before = net.packet_ins();
    let frame = net.ip_frame(0, 1);
    net.host_sends(0, frame.clone());
    assert!(
        net.packet_ins() > before,
        "the frame went up to the controller"
    );
    assert_eq!(net.hosts[1].inbox, vec![frame.clone()]);
    (net, frame)
}

/// The next frame finds the flows the controller sent again.
fn next_frame_finds_the_flows(mut net: Net, frame: Vec<u8>) {
    let before = net.packet_ins();
    net.host_sends(0, frame.clone());
    assert_eq!(net.packet_ins(), before);
    assert_eq!(net.hosts[1].inbox, vec![frame.clone(), frame]);
}

#[test]
fn a_frame_ahead_of_its_paths_flows_reaches_its_host_untagged() {
    // Each switch applies its batch on its own: a frame can reach the far
    // end of its path before the flow there that pops the path's tag (seen
    // on Open vSwitch: the first ping from a site's hosts to a host on a
    // middle switch, now and then), or after it was lost. The switch sends
    // it up still tagged; the controller delivers it without the tag and
    // sends the flow again.
    let (net, frame) = frame_ahead_of_its_flows(6, |f| f.cookie == COOKIE_TAG);
    next_frame_finds_the_flows(net, frame);
}

#[test]
fn a_frame_ahead_of_its_delivery_flow_reaches_its_host() {
    // The egress switch pops the path's tag and looks for the host in the
    // delivery table. A frame that got there before the host's delivery
    // flow went nowhere: the table had no miss flow. It comes up to the
    // controller, which delivers it and sends the flow again.
    let (net, frame) =
        frame_ahead_of_its_flows(6, |f| f.table == DELIVERY_TABLE && f.cookie == COOKIE_PATH);
    next_frame_finds_the_flows(net, frame);
}

#[test]
fn a_frame_ahead_of_its_spreading_flows_reaches_its_host() {
    // The same at the ingress: the host pair's flow sends the frame to the
    // spreading table before the group's spreading flows are there. Its
    // PACKET_IN names the table and the group (the metadata): the group's
    // spreading flows are sent again.
    let (net, frame) = frame_ahead_of_its_flows(1, |f| {
        f.table == SPREAD_TABLE && f.cookie != session::COOKIE_BASE
    });
    next_frame_finds_the_flows(net, frame);
}

/// Two sites rebalanced every 2 s and polled every 0.5 s, as
/// `test_multipath` on Open vSwitch, the site's group counters half a
/// second (one poll) behind its ports.
fn two_sites_late_counters() -> Net {
    let mut net = two_sites().with_config(|c| {
        c.stats.interval = Duration::from_millis(500);
        let mp = c.forwarding.multipath.as_mut().unwrap();
        mp.rebalance = Duration::from_secs(2);
        mp.min_gain = 0.05;
    });
    net.switches.get_mut(&1).unwrap().late_group_stats = true;
    net.start();
    pingall(&mut net);
    net
}

/// The site's group for the other site.
fn site_group(net: &Net) -> edgeflow_api::model::GroupView {
    let groups = net.ctrl.view().groups;
    groups.into_iter().find(|g| g.src.0 == 1).unwrap()
}

/// 16 flows (payload markers for `flow_frame_of`) that the site's group
/// sends on each of its four paths.
fn flows_by_path(net: &mut Net) -> Vec<Vec<u16>> {
    let group = site_group(net).group_id;
    let mut by_path: Vec<Vec<u16>> = vec![Vec::new(); 4];
    for flow in 0..256u16 {
        let before = net.path_bytes(1, group);
        let f = net.flow_frame_of(0, 1, flow, 1400);
        net.host_sends(0, f);
        let after = net.path_bytes(1, group);
        let p = (0..4).find(|&p| after[p] > before[p]).unwrap();
        if by_path[p].len() < 16 {
            by_path[p].push(flow);
        }
    }
    assert!(by_path.iter().all(|f| f.len() == 16), "{by_path:?}");
    by_path
}

/// Half a second of traffic: `mbps[p]` Mbit/s on each path p, in frames of
/// 1,454 bytes.
fn half_second_of(net: &mut Net, by_path: &[Vec<u16>], mbps: [f64; 4]) {
    for (flows, rate) in by_path.iter().zip(mbps) {
        let frames = (rate * 1e6 * 0.5 / 8.0 / 1454.0) as usize;
        for i in 0..frames {
            let f = net.flow_frame_of(0, 1, flows[i % 16], 1400);
            net.host_sends(0, f);
        }
    }
    net.advance(Duration::from_millis(500));
}

/// `half_second_of`, with `background` Mbit/s more that no group carries on
/// the m1 path's second link (m1's port 2, towards sB).
fn half_second_with_m1_background(
    net: &mut Net,
    by_path: &[Vec<u16>],
    mbps: [f64; 4],
    background: f64,
) {
    let c = net
        .switches
        .get_mut(&2)
        .unwrap()
        .counters
        .entry(2)
        .or_default();
    c.3 += (background * 1e6 * 0.5 / 8.0) as u64;
    half_second_of(net, by_path, mbps);
}

#[test]
fn a_path_that_speeds_up_period_after_period_is_not_mistaken_for_background() {
    // Four paths of 10 Mbit/s. Three carry 9 Mbit/s throughout; the
    // connections of the fourth speed up from 0 to 10 Mbit/s over two
    // periods. In each of them the path's ports count what its group
    // counts half a second later: traffic no group carries, in two
    // periods in a row, that is none.
    let mut net = two_sites_late_counters();
    let by_path = flows_by_path(&mut net);
    for half_second in 0..40usize {
        let ramp = match half_second / 4 {
            0..=4 => 0.0,
            5 => 5.0,
            _ => 10.0,
        };
        half_second_of(&mut net, &by_path, [ramp, 9.0, 9.0, 9.0]);
    }
    let g = site_group(&net);
    assert!(g.paths.iter().all(|p| p.weight == 25), "{g:?}");
}

#[test]
fn background_on_a_path_moves_its_weight_despite_late_counters() {
    // The allowance for late counters above must not hide real background:
    // the same two sites, 7.5 Mbit/s on each path, and 4 Mbit/s more that no
    // group carries on the m1 path's second link.
    let mut net = two_sites_late_counters();
    let by_path = flows_by_path(&mut net);
    for _ in 0..20 {
        half_second_with_m1_background(&mut net, &by_path, [7.5; 4], 4.0);
    }
    let g = site_group(&net);
    let via_m1 = |p: &edgeflow_api::model::WeightedPath| p.hops.iter().any(|h| h.dpid.0 == 2);
    let hot = g.paths.iter().find(|p| via_m1(p)).unwrap().weight;
    assert!(
        g.paths
            .iter()
            .filter(|p| !via_m1(p))
            .all(|p| p.weight > hot),
        "{g:?}"
    );
}

/// Publishes a forecast of `mbps` for every link of the site group's path
/// through m1 (switch 2), as the forecasting thread does when an interval
/// closes.
fn forecast_m1_path(net: &mut Net, mbps: f64) {
    let g = site_group(net);
    let path = g
        .paths
        .iter()
        .find(|p| p.hops.iter().any(|h| h.dpid.0 == 2))
        .unwrap();
    let forecast = Forecast {
        mean: mbps * 1e6,
        lower: mbps * 1e6,
        upper: mbps * 1e6,
    };
    let forecasts = path
        .hops
        .iter()
        .map(|h| {
            let at = PortRef {
                dpid: h.dpid.0,
                port: h.port_no,
            };
            (at, vec![forecast])
        })
        .collect();
    net.ctrl.set_forecasts(Arc::new(forecasts));
}

/// The weight of the site group's path through m1.
fn m1_weight(net: &Net) -> u16 {
    let g = site_group(net);
    let via_m1 = |p: &&edgeflow_api::model::WeightedPath| p.hops.iter().any(|h| h.dpid.0 == 2);
    g.paths.iter().find(via_m1).unwrap().weight
}

#[test]
fn a_forecast_of_the_groups_own_traffic_is_not_background() {
    // A forecast is of a link's whole traffic. One made while the groups
    // kept the m1 path full stays up for its interval (5 minutes by
    // default) after their transfers ended: what the groups themselves
    // carried must not come back as background (seen on Open vSwitch: the
    // m2 path's weight went to 0 after the capacity draws, when a forecast
    // interval had closed during them).
    let mut net = two_sites_late_counters();
    let by_path = flows_by_path(&mut net);
    for _ in 0..40 {
        half_second_of(&mut net, &by_path, [9.0; 4]);
    }
    forecast_m1_path(&mut net, 9.9);
    // A little foreign traffic goes on: the share of the link's traffic no
    // group carried is measured over about a forecast step, not over the
    // last period (in which it was more than a quarter).
    for _ in 0..16 {
        half_second_with_m1_background(&mut net, &by_path, [1.0; 4], 0.4);
    }
    let g = site_group(&net);
    assert!(g.paths.iter().all(|p| p.weight == 25), "{g:?}");
}

#[test]
fn a_forecast_rise_of_foreign_traffic_is_made_room_for() {
    // m1's second link carries 4 Mbit/s that no group does, beside the
    // group's 4 on each path: half its traffic is foreign. A forecast of
    // 10 Mbit/s for it takes half the rise as more background, and the m1
    // path's weight falls further than for the measured background alone.
    let weight = |forecast: bool| {
        let mut net = two_sites_late_counters();
        let by_path = flows_by_path(&mut net);
        if forecast {
            forecast_m1_path(&mut net, 10.0);
        }
        for _ in 0..16 {
            half_second_with_m1_background(&mut net, &by_path, [4.0; 4], 4.0);
        }
        m1_weight(&net)
    };
    let (measured, forecast) = (weight(false), weight(true));
    assert!(
        measured < 25,
        "the measured background alone moves it: {measured}"
    );
    assert!(forecast < measured, "{forecast} against {measured}");
}

#[test]
fn a_groups_rates_are_forgotten_when_its_switch_stops_reporting_them() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let carried = |net: &Net| -> f64 { group_21_to_28(net).paths.iter().map(|p| p.rate_bps).sum() };
    let traffic = |net: &mut Net, seconds: u64| {
        for _ in 0..seconds {
            for flow in 0..16 {
                let f = net.flow_frame(0, 15, flow);
                net.host_sends(0, f);
            }
            net.advance(Duration::from_secs(1));
        }
    };
    traffic(&mut net, 3);
    assert!(carried(&net) > 0.0);
    // The ingress switch goes on forwarding but stops answering.
    net.switches.get_mut(&21).unwrap().mute_group_stats = true;
    traffic(&mut net, 35);
    assert_eq!(carried(&net), 0.0, "the last rates are not kept for ever");
}

/// Flows on a switch whose cookie is of the placement kind.
fn placement_flows(net: &Net, dpid: u64) -> Vec<sim::Flow> {
    net.switches[&dpid]
        .flows
        .iter()
        .filter(|f| f.cookie & 0xff00_0000_0000_0000 == COOKIE_PLACEMENT)
        .cloned()
        .collect()
}

#[test]
fn a_placement_routes_its_traffic_into_groups_until_deleted() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    let batch: edgeflow_api::model::PlacementBatch = serde_json::from_value(serde_json::json!({
        "id": "b1",
        "pods": [
            {"name": "web", "node": "n1", "ip": "10.0.0.1", "labels": {"app": "web"},
             "traffic": [{"to": "db", "bps": 5e6}, {"to": "10.0.0.99", "bps": 1e6}]},
            {"name": "db", "node": "n16", "ip": "10.0.0.16", "traffic": [{"to": "web", "bps": 2e6}]}
        ]
    }))
    .unwrap();
    let (created, view) = net.ctrl.put_placement(batch.clone()).unwrap();
    net.drive();
    assert!(created);
    assert_eq!(view.state, "partial", "10.0.0.99 is nowhere: {view:?}");
    let web_db = &view.routes[0];
    assert!(web_db.installed && web_db.group_id.is_some(), "{web_db:?}");
    assert!(view.routes[1]
        .reason
        .as_ref()
        .unwrap()
        .contains("10.0.0.99"));
    // One IP-pair flow at each pod's switch, into its group's spreading.
    for edge in [21, 28] {
        let flows = placement_flows(&net, edge);
        assert_eq!(flows.len(), 1, "edge {edge}: {flows:?}");
        assert_eq!(flows[0].goto, Some(SPREAD_TABLE), "{flows:?}");
        assert!(flows[0].actions.is_empty() && flows[0].metadata.is_some());
    }
    let into = placement_flows(&net, 21)[0].metadata.map(|(m, _)| m as u32);
    assert_eq!(into, web_db.group_id);
    // The pods' traffic takes those flows, with no PACKET_IN.
    net.reset_flow_counters();
    let before = net.packet_ins();
    net.clear_inboxes();
    exchange(&mut net, 0, 15, 2);
    assert_eq!(net.unicast_received(15), 2);
    assert_eq!(net.packet_ins(), before);
    assert_eq!(placement_flows(&net, 21)[0].packets, 2);
    // The same batch again changes nothing; other content under its id conflicts.
    assert!(!net.ctrl.put_placement(batch.clone()).unwrap().0);
    let mut other = batch;
    other.pods[0].node = "n2".into();
    assert!(net.ctrl.put_placement(other).is_err());
    // The flows come back after their switch reconnects (and the old
    // connection fails its probe).
    net.reconnect(21);
    net.advance(Duration::from_secs(1));
    assert_eq!(placement_flows(&net, 21).len(), 1);
    // Withdrawn: its flows are gone everywhere.
    let view = net.ctrl.delete_placement("b1").unwrap();
    net.drive();
    assert_eq!(view.id, "b1");
    assert!(net
        .switches
        .keys()
        .all(|&d| placement_flows(&net, d).is_empty()));
    assert!(net.ctrl.delete_placement("b1").is_err());
}

#[test]
fn a_switch_dump_returns_what_the_switch_holds() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    // A flow an operator added, with a port under a mask as Open vSwitch
    // allows: its entry decodes like any other.
    net.switches.get_mut(&21).unwrap().flows.push(sim::Flow {
        table: 0,
        priority: 5,
        cookie: 0,
        fields: vec![
            ofp::Oxm::EthType(0x0800),
            ofp::Oxm::IpProto(17),
            ofp::Oxm::UdpSrc(3, Some(0xf)),
        ],
        actions: Vec::new(),
        metadata: None,
        goto: None,
        packets: 0,
    });
    assert!(net.ctrl.request_switch_dump(21, 7, net.now));
    net.drive();
    let (token, dump) = net.ctrl.poll_switch_dump().expect("answered");
    let dump = dump.unwrap();
    assert_eq!(token, 7);
    assert_eq!(dump.flows.len(), net.switches[&21].flows.len());
    assert!(
        dump.flows
            .iter()
            .any(|f| f["match_"]["fields"][2]["UdpSrc"] == serde_json::json!([3, 15])),
        "the operator's flow is in the dump"
    );
    assert_eq!(dump.groups.len(), net.switches[&21].groups.len());
    // Select groups whose buckets hand frames to the paths' fast-failover
    // groups, and the session's canary.
    let of_type = |t: &str| dump.groups.iter().filter(|g| g["group_type"] == t).count();
    assert!(of_type("Select") > 0, "{:?}", dump.groups);
    assert_eq!(of_type("All"), 1, "{:?}", dump.groups);
    assert_eq!(
        of_type("FastFailover"),
        dump.groups.len() - of_type("Select") - 1,
        "{:?}",
        dump.groups
    );
    assert!(net.ctrl.poll_switch_dump().is_none());
    // A switch that is not there, or that leaves before answering.
    assert!(!net.ctrl.request_switch_dump(99, 8, net.now));
    assert!(net.ctrl.request_switch_dump(22, 9, net.now));
    let conn = net.switches[&22].conn;
    net.ctrl.handle_disconnect(conn);
    let (token, dump) = net.ctrl.poll_switch_dump().expect("answered");
    assert_eq!(token, 9);
    assert!(dump.unwrap_err().contains("disconnected"));
}

#[test]
fn groups_take_links_that_appear_later() {
    // s1 and s2 joined through s3; a second way through s4 is cabled later.
    let mut net = Net::new(
        &[(1, 4), (2, 4), (3, 2), (4, 2)],
        &[((1, 2), (3, 1)), ((3, 2), (2, 2))],
        &[(1, 1), (2, 1)],
    );
    net.start();
    pingall(&mut net);
    let paths = |net: &Net| {
        net.ctrl
            .view()
            .groups
            .into_iter()
            .find(|g| g.src.0 == 1 && g.dst.0 == 2)
            .expect("a group from s1 to s2")
            .paths
            .len()
    };
    assert_eq!(paths(&net), 1);
    for (a, b) in [((1, 3), (4, 1)), ((4, 2), (2, 3))] {
        net.links.insert(a, b);
        net.links.insert(b, a);
    }
    net.advance(Duration::from_secs(2));
    assert_eq!(paths(&net), 2, "the new way is a second path");
    assert_eq!(net.switches[&1].groups.values().next().unwrap().len(), 2);
    net.clear_inboxes();
    for flow in 0..32 {
        let f = net.flow_frame(0, 1, flow);
        net.host_sends(0, f);
    }
    assert_eq!(net.unicast_received(1), 32);
    assert_eq!(net.looped, 0);
}

#[test]
fn a_placement_route_follows_its_destination_when_it_moves() {
    // s1 - s2 - s3 in a line; web on s1, db on s2, then db moves to s3.
    let mut net = Net::new(
        &[(1, 4), (2, 4), (3, 4)],
        &[((1, 3), (2, 3)), ((2, 4), (3, 3))],
        &[(1, 1), (2, 1)],
    );
    net.start();
    pingall(&mut net);
    let batch: edgeflow_api::model::PlacementBatch = serde_json::from_value(serde_json::json!({
        "id": "b1",
        "pods": [
            {"name": "web", "node": "n1", "ip": "10.0.0.1", "traffic": [{"to": "db", "bps": 1e6}]},
            {"name": "db", "node": "n2", "ip": "10.0.0.2"}
        ]
    }))
    .unwrap();
    assert_eq!(net.ctrl.put_placement(batch).unwrap().1.state, "installed");
    net.drive();
    // db's host moves to another switch and speaks there.
    net.move_host(1, (3, 1));
    let f = net.ip_frame(1, 0);
    net.host_sends(1, f);
    net.clear_inboxes();
    let before = net.packet_ins();
    let f = net.ip_frame(0, 1);
    net.host_sends(0, f);
    assert_eq!(net.unicast_received(1), 1, "delivered at its new switch");
    assert_eq!(
        net.packet_ins(),
        before,
        "by the route's flows, not the controller"
    );
    assert_eq!(placement_flows(&net, 1).len(), 1);
}

/// Every pair's ingress flow idles out: the switches drop them and report
/// it, as Open vSwitch does after the idle timeout.
fn expire_pair_flows(net: &mut Net) {
    let expired: Vec<(u64, ofp::FlowRemoved)> = net
        .switches
        .values()
        .flat_map(|sw| {
            sw.flows
                .iter()
                .filter(|f| f.cookie == COOKIE_PATH && f.table == 0)
                .map(|f| {
                    (
                        sw.conn,
                        ofp::FlowRemoved {
                            cookie: f.cookie,
                            priority: f.priority,
                            reason: ofp::FlowRemovedReason::IdleTimeout,
                            table_id: 0,
                            duration_sec: 60,
                            duration_nsec: 0,
                            idle_timeout: 60,
                            hard_timeout: 0,
                            packet_count: 1,
                            byte_count: 64,
                            match_: ofp::Match {
                                fields: f.fields.clone(),
                            },
                        },
                    )
                })
        })
        .collect();
    for (conn, fr) in expired {
        net.switch_says(conn, 0, Message::FlowRemoved(fr));
    }
    for sw in net.switches.values_mut() {
        sw.flows
            .retain(|f| !(f.cookie == COOKIE_PATH && f.table == 0));
    }
    net.drive();
}

#[test]
fn groups_nobody_uses_are_removed_and_their_tags_freed() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    assert!(!net.ctrl.view().groups.is_empty());
    expire_pair_flows(&mut net);
    assert_eq!(net.ctrl.stats().paths, 0, "every pair idled out");
    for _ in 0..45 {
        net.advance(Duration::from_secs(1));
    }
    assert!(net.ctrl.view().groups.is_empty(), "unused groups removed");
    // What is left is each switch's canary.
    let canary = [session::CANARY_GROUP];
    assert!(net
        .switches
        .values()
        .all(|sw| sw.groups.keys().eq(canary.iter())));
    // (and each table's miss flow).
    assert!(net.switches.values().all(|sw| sw
        .flows
        .iter()
        .all(|f| f.cookie == session::COOKIE_BASE
            || f.cookie != COOKIE_TAG && f.table != SPREAD_TABLE)));
    // Traffic brings them back.
    pingall(&mut net);
    assert!(!net.ctrl.view().groups.is_empty());
}

#[test]
fn group_ids_start_at_the_configured_id_and_are_not_taken_again() {
    // Open vSwitch keeps a select group's recirculation state for seconds
    // after the group goes, and shares it with any later translation alike:
    // a group id taken again (by a restarted controller, which starts at
    // another id each time) could send a new pair into the old state.
    const FIRST: u32 = 5_000_000;
    let mut net = fat_tree().with_config(|c| {
        if let Some(mp) = &mut c.forwarding.multipath {
            mp.first_group_id = FIRST;
        }
    });
    net.start();
    pingall(&mut net);
    let ids = |net: &Net| -> BTreeSet<u32> {
        net.switches
            .values()
            .flat_map(|sw| sw.groups.keys().copied())
            .filter(|&id| id != session::CANARY_GROUP)
            .collect()
    };
    let first = ids(&net);
    assert!(!first.is_empty());
    assert!(first.iter().all(|&id| id >= FIRST), "{first:?}");
    // Unused groups go; the pairs' next frames bring new ones, not the old ids.
    expire_pair_flows(&mut net);
    for _ in 0..45 {
        net.advance(Duration::from_secs(1));
    }
    assert!(ids(&net).is_empty());
    pingall(&mut net);
    let again = ids(&net);
    assert!(!again.is_empty());
    assert!(again.is_disjoint(&first), "{first:?} then {again:?}");
}

#[test]
fn silent_hosts_age_out_unless_flows_carry_their_traffic() {
    let mut net = fat_tree();
    net.start();
    pingall(&mut net);
    // Flows still carry every pair: nobody is forgotten.
    for _ in 0..31 {
        net.advance(Duration::from_secs(10));
    }
    assert_eq!(net.ctrl.stats().hosts, 16);
    expire_pair_flows(&mut net);
    for _ in 0..31 {
        net.advance(Duration::from_secs(10));
    }
    assert_eq!(
        net.ctrl.stats().hosts,
        0,
        "silent and without flows for 5 minutes"
    );
    assert!(
        net.switches.values().all(|sw| sw
            .flows
            .iter()
            .all(|f| f.table != 1 || f.cookie == session::COOKIE_BASE)),
        "their delivery flows are gone"
    );
    pingall(&mut net);
    assert_eq!(
        net.ctrl.stats().hosts,
        16,
        "and they come back when they speak"
    );
}
