"""Fat-tree link failover: outage seen by a 10 ms ping between pods when the
link it uses goes down.  Measures Open vSwitch's own RSTP (no controller) as a
baseline, then edgeflow, in the same test.

outage = lost pings x 10 ms.  edgeflow must stay <= 100 ms and pingall must be
lossless afterwards.  Both figures are printed and appended to
results/failover.jsonl.
"""

import harness
import topos

SRC, DST = "h011", "h322"   # pod 0 -> pod 3
MAX_OUTAGE_MS = 100


def test_fattree_failover(nets, edgeflow_factory, baseline_only):
    result = {"test": "failover", "topo": "fattree4", "src": SRC, "dst": DST}
    try:
        # ---- baseline: OVS RSTP, standalone, no controller ----------------
        net = nets.build(topos.FatTreeTopo(), controller=False, rstp=True)
        loss, secs = harness.wait_rstp_converged(net, timeout=90)
        assert loss == 0, "RSTP fabric did not converge (pingall %.1f%% loss)" % loss
        result["rstp_converge_s"] = round(secs, 1)
        rstp = harness.measure_failover(net, SRC, DST, label="[rstp] ")
        result["rstp"] = rstp
        result["rstp_outage_ms"] = rstp["outage_ms"]
        print("\n[rstp] failover outage: %s ms (cut %s)" % (rstp["outage_ms"], rstp["cut"]))
        nets.stop(net)

        if baseline_only:
            return

        # ---- edgeflow ------------------------------------------------------
        ctl = edgeflow_factory()
        net = nets.build_discovered(topos.FatTreeTopo())
        ef = harness.measure_failover(net, SRC, DST, label="[edgeflow] ")
        result["edgeflow"] = ef
        result["edgeflow_outage_ms"] = ef["outage_ms"]
        print("[edgeflow] failover outage: %s ms (cut %s)" % (ef["outage_ms"], ef["cut"]))
        after = harness.pingall(net)
        result["edgeflow_pingall_after_loss"] = after
        assert ctl.alive(), "edgeflow exited"
        assert ef["outage_ms"] is not None and ef["outage_ms"] <= MAX_OUTAGE_MS, \
            "edgeflow failover outage %s ms > %s ms" % (ef["outage_ms"], MAX_OUTAGE_MS)
        assert after == 0, "pingall after failover lost %.1f%%" % after
    finally:
        print("failover: rstp %s ms, edgeflow %s ms" % (result.get("rstp_outage_ms"),
                                                        result.get("edgeflow_outage_ms")))
        harness.record("failover.jsonl", result)
