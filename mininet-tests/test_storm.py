"""No broadcast storm: on the looped fat-tree under edgeflow, an idle fabric
receives only the controller's discovery probes and a little host chatter.

Bound on the packets received by all switch ports together in a 5 s idle
window (rx_packets deltas from ``ovs-ofctl dump-ports``, LOCAL left out):
  * LLDP: the controller sends one probe out of every port per interval; on
    an inter-switch port it is received once, by the peer's port.  The
    fat-tree has 32 links = 64 inter-switch ports, so with the default 1 s
    interval that is 64 pkt/s -> 320 packets in 5 s.  Probes sent out of
    host ports are received by hosts, not by switch ports.  OpenFlow
    echo/keepalives travel on the TCP control channel, not through the ports.
    Allow 3x that (timer jitter, a probe burst at a re-probe): 960.
  * host chatter: idle Mininet hosts still send the odd IPv6 router
    solicitation / MLD report (exponential back-off from 4 s) or an ARP
    re-probe.  A flooded multicast is received once per spanning-tree link
    plus the ingress port, i.e. by n_switches (20) ports.  Allow 1 such
    packet per host per second: 16 * 1 * 5 * 20 = 1600.  (Measured with
    edgeflow: ~840 packets in the window in total, LLDP included; the rest
    is flooded IPv6 router solicitations / MLD reports from the hosts.)
  -> bound 2560 packets in 5 s with the default interval (scaled if
     EDGEFLOW_ARGS sets --lldp-interval-ms).
A storm (a broadcast looping over the 4 core paths) gives thousands of
packets per second per port, i.e. >100000 in the window: far above the bound.
"""

import re
import time

import harness
import topos

WINDOW = 5.0


def lldp_interval_s(ctl):
    args = ctl.args
    for i, a in enumerate(args):
        m = re.match(r"--lldp-interval-ms(?:=(\d+))?$", a)
        if m:
            v = m.group(1) or (args[i + 1] if i + 1 < len(args) else "1000")
            return int(v) / 1000.0
    return 1.0


def test_no_broadcast_storm(edgeflow, nets):
    net = nets.build_discovered(topos.FatTreeTopo())
    time.sleep(3)  # let the pingall traffic drain

    isw = topos.inter_switch_ports(net)
    n_isw_ports = sum(len(v) for v in isw.values())
    n_host_ports = len(net.hosts)
    interval = lldp_interval_s(edgeflow)
    lldp_expected = n_isw_ports * WINDOW / interval
    bound = 3 * lldp_expected + 1.0 * n_host_ports * WINDOW * len(net.switches)

    before = harness.all_port_counters(net)
    t0 = time.time()
    time.sleep(WINDOW)
    after = harness.all_port_counters(net)
    elapsed = time.time() - t0
    delta = harness.counter_delta(before, after, "rx_packets")
    total = sum(delta.values())
    top = sorted(delta.items(), key=lambda kv: -kv[1])[:8]
    print("\n[storm] %d rx packets on all switch ports in %.1fs idle window "
          "(%d inter-switch ports, LLDP every %.2fs -> ~%d expected; bound %d); busiest: %s"
          % (total, elapsed, n_isw_ports, interval, lldp_expected, bound, top))
    harness.record("storm.jsonl", {"test": "storm", "rx_packets": total,
                                   "window_s": round(elapsed, 2), "bound": bound,
                                   "lldp_expected": lldp_expected})
    assert edgeflow.alive(), "edgeflow exited"
    assert total <= bound, "idle fabric received %d packets in %.1fs (bound %d): storm?" % (
        total, elapsed, bound)
