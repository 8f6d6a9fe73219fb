"""Fat-tree capacity: every link 10 Mbit/s (htb), 8 simultaneous TCP
transfers between host pairs in different pods (pod 0 -> pod 2 and
pod 1 -> pod 3, every host in exactly one pair).

Under Open vSwitch's RSTP (no controller) the redundant links are blocked, so
all traffic leaving a pod shares one 10 Mbit/s uplink (~20 Mbit/s aggregate).
With the 4 core paths used the fabric can carry up to 80 Mbit/s; edgeflow
must reach at least 2x the RSTP aggregate.  Both figures are printed and
appended to results/capacity.jsonl.

Eight long transfers are the pattern where hashing connections over paths
(multipath select groups, the default) collides by chance and where placing
each host pair on its own path by host position wins, so edgeflow runs here
with ``multipath = false``; test_multipath.py measures the groups.
"""

import os
import tempfile
import time

import harness
import topos

BW = 10
DURATION = 10
MIN_RATIO = 2.0


def pairs():
    # h<pod><edge><n>: pod 0 -> pod 2, pod 1 -> pod 3
    return [("h%d%d%d" % (p, e, n), "h%d%d%d" % (p + 2, e, n))
            for p in (0, 1) for e in (1, 2) for n in (1, 2)]


def run_transfers(net):
    """The 8 parallel transfers, plus how many Mbit/s each inter-switch
    link direction carried meanwhile (from dump-ports tx_bytes), to see how
    the flows were spread."""
    isw = topos.inter_switch_ports(net)
    peer = topos.port_peer(net)
    before = harness.all_port_counters(net)
    t0 = time.time()
    rates = harness.iperf3_parallel(net, pairs(), duration=DURATION)
    after = harness.all_port_counters(net)
    secs = time.time() - t0
    d = harness.counter_delta(before, after, "tx_bytes")
    links = {}
    for (sw, port), b in d.items():
        if port in isw.get(sw, ()):
            mbps = b * 8 / secs / 1e6
            if mbps >= 0.5:
                links["%s->%s" % (sw, peer[(sw, port)][0])] = round(mbps, 1)
    return rates, dict(sorted(links.items(), key=lambda kv: -kv[1]))


def test_fattree_capacity(nets, edgeflow_factory, baseline_only):
    result = {"test": "capacity", "topo": "fattree4", "bw_mbps": BW, "duration_s": DURATION,
              "pairs": pairs()}
    try:
        # ---- baseline: OVS RSTP, standalone, no controller ----------------
        net = nets.build(topos.FatTreeTopo(bw=BW), controller=False, rstp=True)
        loss, _ = harness.wait_rstp_converged(net, timeout=90)
        assert loss == 0, "RSTP fabric did not converge (pingall %.1f%% loss)" % loss
        rates, used = run_transfers(net)
        rstp_total = sum(r or 0 for r in rates)
        result["rstp_mbps"] = [r and round(r, 2) for r in rates]
        result["rstp_link_mbps"] = used
        result["rstp_total_mbps"] = round(rstp_total, 2)
        print("\n[rstp] aggregate %.1f Mbit/s  (per pair %s)"
              % (rstp_total, ["%.1f" % (r or 0) for r in rates]))
        assert rstp_total > 0, "RSTP baseline carried nothing"
        nets.stop(net)

        if baseline_only:
            return

        # ---- edgeflow ------------------------------------------------------
        cfg = os.path.join(tempfile.mkdtemp(prefix="edgeflow-cfg-"), "edgeflow.toml")
        with open(cfg, "w") as f:
            f.write("multipath = false\n")
        ctl = edgeflow_factory(["--config", cfg])
        net = nets.build_discovered(topos.FatTreeTopo(bw=BW))
        rates, used = run_transfers(net)
        ef_total = sum(r or 0 for r in rates)
        result["edgeflow_mbps"] = [r and round(r, 2) for r in rates]
        result["edgeflow_link_mbps"] = used
        print("[edgeflow] inter-switch link load (Mbit/s, average over the run): %s" % used)
        result["edgeflow_total_mbps"] = round(ef_total, 2)
        result["ratio"] = round(ef_total / rstp_total, 2)
        print("[edgeflow] aggregate %.1f Mbit/s  (per pair %s); ratio %.2f"
              % (ef_total, ["%.1f" % (r or 0) for r in rates], ef_total / rstp_total))
        assert ctl.alive(), "edgeflow exited"
        assert all(r for r in rates), "some transfers failed under edgeflow: %s" % rates
        assert ef_total >= MIN_RATIO * rstp_total, \
            "edgeflow aggregate %.1f Mbit/s < %.1f x RSTP %.1f Mbit/s" % (
                ef_total, MIN_RATIO, rstp_total)
    finally:
        print("capacity: rstp %s Mbit/s, edgeflow %s Mbit/s" % (
            result.get("rstp_total_mbps"), result.get("edgeflow_total_mbps")))
        harness.record("capacity.jsonl", result)
