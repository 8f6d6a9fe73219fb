"""Port-statistics monitoring on real switches: while a TCP transfer runs
across a linear fabric of 10 Mbit/s links, the controller's API reports the
transfer's rate and utilisation on each link it crosses (data direction),
and only the acknowledgements' trickle the other way; the stored history of
a link's port holds the transfer's polls."""

import threading
import time

import harness
import topos

BW = 10


def _links_by_name(net, topo_json):
    """{(src switch name, dst switch name): link json} for the reported links."""
    by_dpid = {topos.switch_dpid(s): s.name for s in net.switches}
    out = {}
    for link in topo_json["links"]:
        src = by_dpid[topos.dpid_str(int(link["src"]["dpid"], 16))]
        dst = by_dpid[topos.dpid_str(int(link["dst"]["dpid"], 16))]
        out[(src, dst)] = link
    return out


def test_link_rates_follow_a_transfer(edgeflow_factory, nets):
    ctl = edgeflow_factory(["--port-speed-mbps", str(BW), "--forecast-interval-s", "1"])
    topo = topos.TOPOS["linear4"](bw=BW)
    net = nets.build_discovered(topo)
    result = {}
    transfer = threading.Thread(
        target=lambda: result.update(mbps=harness.iperf3(net, "h1", "h4", duration=8)))
    transfer.start()
    time.sleep(5)  # the transfer is in full flow; rates are polled every second
    links = _links_by_name(net, harness.api_get("/api/v1/topology"))
    transfer.join()
    print("\n[monitoring] iperf3 h1 -> h4: %.1f Mbit/s" % result.get("mbps", 0))
    for (a, b), link in sorted(links.items()):
        print("[monitoring] %s->%s: %s bit/s, utilisation %s, forecast %s"
              % (a, b, link.get("tx_bps"), link.get("utilization"),
                 [round(s["mean"]) for s in link.get("forecast") or []]))
    for a, b in [("s1", "s2"), ("s2", "s3"), ("s3", "s4")]:
        fwd, back = links[(a, b)], links[(b, a)]
        assert fwd["tx_bps"] is not None, "%s->%s has no rate" % (a, b)
        assert 0.5 * BW * 1e6 < fwd["tx_bps"] < 1.2 * BW * 1e6, (a, b, fwd)
        assert abs(fwd["utilization"] - fwd["tx_bps"] / (BW * 1e6)) < 1e-6
        assert back["tx_bps"] < 0.2 * fwd["tx_bps"], "acks only: %s" % back
        assert abs(back["utilization"] - back["tx_bps"] / (BW * 1e6)) < 1e-6, \
            "a direction's utilisation is its own load: %s" % back
        # One-second forecast steps here (300 s by default): each link
        # direction has a forecast of the next 3 steps with its interval.
        steps = fwd["forecast"]
        assert steps and [s["step"] for s in steps] == [1, 2, 3], fwd
        assert all(s["lower"] <= s["mean"] <= s["upper"] for s in steps), steps
    # The stored history has the transfer's polls on the first link's port.
    src = links[("s1", "s2")]["src"]
    hist = harness.api_get("/api/v1/switches/%s/ports/%d/history?from=%d" % (
        src["dpid"], src["port_no"], int((time.time() - 30) * 1000)))
    busy = [s["tx_bps"] for s in hist["samples"] if s["tx_bps"] > 0.5 * BW * 1e6]
    print("[monitoring] stored polls of s1->s2: %d, %d of them busy"
          % (len(hist["samples"]), len(busy)))
    assert len(busy) >= 3, hist
    stats = harness.api_get("/api/v1/stats")
    assert stats["switches"] == 4 and stats["links"] == 6, stats
    assert ctl.alive(), "edgeflow exited"
