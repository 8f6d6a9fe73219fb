#!/usr/bin/python3
"""Record link-load traces from a real run: a 4-ary fat-tree of 10 Mbit/s
links under edgeflow, eight host pairs in different pods sending iperf3
traffic whose rate follows a seeded pattern (a slow cycle, a trend, random
bursts and on/off pauses), while the controller's API is read once a second.

Writes a CSV for `edgeflow forecast-eval`: a header row, then one row per
second: unix time, then the transmitted bit/s of every aggregation-to-core
link direction (the ones the transfers load), named ``a01->c1`` etc.

Run as root from the repository root with the release binary built:

    /usr/bin/python3 mininet-tests/tools/record_trace.py --seconds 600 \\
        --out mininet-tests/traces/fattree-iperf.csv
"""

import argparse
import math
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import harness  # noqa: E402
import topos  # noqa: E402

BW = 10
PAIRS = [("h%d%d%d" % (p, e, n), "h%d%d%d" % (p + 2, e, n))
         for p in (0, 1) for e in (1, 2) for n in (1, 2)]


def schedule(seed, seconds, step=5):
    """Rates in Mbit/s, one per `step` seconds: cycle + trend + bursts + pauses."""
    rng = random.Random(seed)
    phase = rng.uniform(0, 2 * math.pi)
    rates, on = [], True
    for i in range(0, seconds, step):
        cycle = 4.0 + 3.0 * math.sin(2 * math.pi * i / 120.0 + phase)
        trend = 1.5 * i / max(seconds, 1)
        if rng.random() < 0.05:
            on = not on
        burst = 4.0 if rng.random() < 0.08 else 0.0
        r = (cycle + trend + burst + rng.gauss(0, 0.4)) if on else 0.0
        rates.append(max(0.0, min(float(BW), r)))
    return rates


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    step = 5

    harness.mn_clean()
    workdir = tempfile.mkdtemp(prefix="edgeflow-trace-")
    ctl = harness.Edgeflow(["--port-speed-mbps", str(BW)])
    ctl.start()
    net = None
    try:
        net = harness.build_net(topos.FatTreeTopo(bw=BW), controller=True)
        expected = topos.expected_links(net)
        ok, _, _ = harness.wait_links(expected, timeout=30)
        assert ok, "links not discovered"
        loss, _ = harness.wait_pingall(net, timeout=20)
        assert loss == 0, "pingall lost %.1f%%" % loss
        by_dpid = {topos.switch_dpid(s): s.name for s in net.switches}
        for i, (src, dst) in enumerate(PAIRS):
            port = 5401 + i
            server, client = net.get(dst), net.get(src)
            server.cmd("iperf3 -s -D -p %d >/dev/null 2>&1" % port)
            rates = schedule(args.seed * 100 + i, args.seconds, step)
            # The schedule goes into a script: a command line that long
            # would overrun the host shell's terminal line buffer.
            script = os.path.join(workdir, "load-%s.sh" % src)
            with open(script, "w") as f:
                for r in rates:
                    f.write(("iperf3 -c %s -p %d -b %.2fM -t %d >/dev/null 2>&1\n"
                             % (server.IP(), port, r, step)) if r > 0.05 else "sleep %d\n" % step)
            client.cmd("bash %s >/dev/null 2>&1 &" % script)
        columns, rows = None, []
        t_end = time.time() + args.seconds
        while time.time() < t_end:
            t0 = time.time()
            topo = harness.api_get("/api/v1/topology", quiet=True) or {"links": []}
            loads = {}
            for link in topo["links"]:
                a = by_dpid.get(topos.dpid_str(int(link["src"]["dpid"], 16)), "?")
                b = by_dpid.get(topos.dpid_str(int(link["dst"]["dpid"], 16)), "?")
                if a.startswith("a") and b.startswith("c"):
                    loads["%s->%s" % (a, b)] = link.get("tx_bps")
            if columns is None and loads:
                columns = sorted(loads)
            if columns:
                rows.append([int(t0)] + [loads.get(c) for c in columns])
            time.sleep(max(0.0, 1.0 - (time.time() - t0)))
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            f.write("time," + ",".join(columns or []) + "\n")
            for r in rows:
                f.write(",".join("" if v is None else ("%d" % v if isinstance(v, int) else "%.0f" % v)
                                 for v in r) + "\n")
        print("wrote %d rows x %d links to %s" % (len(rows), len(columns or []), args.out))
    finally:
        if net is not None:
            for h in net.hosts:
                h.cmd("pkill iperf3 >/dev/null 2>&1")
            harness.stop_net(net)
        ctl.stop()
        harness.mn_clean()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
