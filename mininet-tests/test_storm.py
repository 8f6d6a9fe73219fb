"""No broadcast storm: on the looped fat-tree under edgeflow, an idle fabric
receives only the controller's discovery probes and a little host chatter.
And no storm of floods from one host: frames for unknown hosts are flooded
at a bounded rate per host port (the second test).

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

import os
import re
import subprocess
import tempfile
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


SPRAY = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
src = bytes.fromhex(sys.argv[2].replace(":", ""))
for i in range(int(sys.argv[3])):
    s.send(bytes([2, 0, 0, 0x77, i >> 8, i & 255]) + src + b"\\x88\\xb5" + bytes(46))
"""

# Counts the frames of EtherType 0x88b5 (the spray's) received on an
# interface for some seconds.
COUNT = """
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88B5))
s.bind((sys.argv[1], 0))
s.settimeout(0.1)
n, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        s.recv(2048)
        n += 1
    except socket.timeout:
        pass
print(n)
"""


def test_frames_for_unknown_hosts_are_flooded_at_a_bounded_rate(edgeflow, nets):
    """h1 sends 500 frames, each to a different address no host has, as fast
    as it can. Each one the controller floods costs a PACKET_OUT to every
    switch with hosts, so a host port gets 32 flooded at once and 16 a
    second after that: h2 receives about 32 of them, and the controller
    counts the rest that reach it as held back (``floods_limited``)."""
    net = nets.build_discovered(topos.LinearTopo())
    h1, h2 = net.get("h1"), net.get("h2")
    scripts = tempfile.mkdtemp(prefix="spray-")
    for name, text in (("spray.py", SPRAY), ("count.py", COUNT)):
        with open(os.path.join(scripts, name), "w") as f:
            f.write(text)
    stats = harness.api_get("/api/v1/stats")
    limited_before, pi_before = stats["floods_limited"], stats["packet_in"]
    counter = h2.popen(["/usr/bin/python3", os.path.join(scripts, "count.py"),
                        str(h2.defaultIntf()), "2.5"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    t0 = time.time()
    h1.cmd("/usr/bin/python3 %s %s %s 500"
           % (os.path.join(scripts, "spray.py"), h1.defaultIntf(), h1.MAC()))
    elapsed = time.time() - t0
    received = int(counter.communicate(timeout=10)[0].strip())
    time.sleep(1.5)  # the API's counters are refreshed every second
    stats = harness.api_get("/api/v1/stats")
    limited = stats["floods_limited"] - limited_before
    packet_ins = stats["packet_in"] - pi_before
    # The burst and the rate over the spray (and its last frames' way).
    bound = 32 + 16 * (elapsed + 0.2)
    print("\n[storm] 500 frames for unknown hosts in %.2fs: h2 received %d (bound %d), "
          "%d held back; %d PACKET_INs" % (elapsed, received, bound, limited, packet_ins))
    harness.record("storm.jsonl", {"test": "unknown_unicast", "sent": 500, "received": received,
                                   "held_back": limited, "spray_s": round(elapsed, 2)})
    assert received <= bound, "h2 received %d of 500 (bound %d)" % (received, bound)
    # Open vSwitch itself drops part of such a burst on its way up (288 of
    # 500 reached edgeflow on 2026-11-26); what reaches edgeflow beyond the
    # burst is held back and counted.
    assert limited > 0 and received + limited <= 500, (received, limited)
    assert harness.pingall(net) == 0, "the fabric still forwards"
    assert edgeflow.alive(), "edgeflow exited"
