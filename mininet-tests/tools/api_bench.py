#!/usr/bin/python3
"""Benchmarks of the scheduler API on a running fabric: the 4-ary fat-tree
(20 switches, 16 hosts, every host registered as a node) under edgeflow.

1. Placement batches of 1,000 pods (pod IPs are the hosts' addresses, so
   every route resolves; each pod sends to the next one): the time from
   POST to the answer, which comes once the batch is validated, its 1,000
   routes installed (flows and groups sent) and the batch stored in redb;
   each batch but the last is then deleted (timed too), since an address
   pair belongs to one batch.
2. Latency of GET /api/v1/topology and POST /api/v1/scheduler/prioritize
   (a kube-scheduler request for all 16 nodes) at a constant 1,000 requests/s
   for 10 s each, with oha (`cargo install oha`), corrected for coordinated
   omission.

Run as root from the repository root with the release binary built:

    /usr/bin/python3 mininet-tests/tools/api_bench.py [--oha PATH] [--out FILE.json]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import harness  # noqa: E402
import topos  # noqa: E402

PODS = 1000
BATCHES = 5


def batch(i, hosts, net):
    pods = []
    for p in range(PODS):
        h = hosts[p % len(hosts)]
        pods.append({"name": "p%d" % p, "namespace": "bench", "node": "node-" + h,
                     "ip": net.get(h).IP(), "labels": {"app": "a%d" % (p % 10)},
                     "traffic": [{"to": "p%d" % ((p + 1) % PODS), "bps": 1e5}]})
    return {"id": "bench-%d" % i, "pods": pods}


def oha(binary, url, extra=()):
    out = subprocess.run([binary, "-z", "10s", "-q", "1000", "--latency-correction",
                          "--no-tui", "--output-format", "json", *extra, url],
                         capture_output=True, text=True, timeout=120)
    j = json.loads(out.stdout)
    pct = j["latencyPercentiles"]
    return {"requests_per_s": round(j["summary"]["requestsPerSec"], 1),
            "success_rate": j["summary"]["successRate"],
            "p50_ms": round(pct["p50"] * 1000, 3), "p99_ms": round(pct["p99"] * 1000, 3),
            "p999_ms": round(pct.get("p99.9", pct["p99"]) * 1000, 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--oha", default=os.path.expanduser("~/.cargo/bin/oha"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    harness.mn_clean()
    ctl = harness.Edgeflow(["--port-speed-mbps", "10"])
    ctl.start()
    net = None
    result = {}
    try:
        net = harness.build_net(topos.FatTreeTopo(bw=10), controller=True)
        ok, _, _ = harness.wait_links(topos.expected_links(net), timeout=30)
        assert ok, "links not discovered"
        loss, _ = harness.wait_pingall(net, timeout=30)
        assert loss == 0
        hosts = sorted(h.name for h in net.hosts)
        for h in hosts:
            status, _ = harness.api_request("PUT", "/api/v1/nodes/node-" + h,
                                            {"name": "node-" + h, "ips": [net.get(h).IP()]})
            assert status == 200
        times, deletes = [], []
        for i in range(BATCHES):
            body = batch(i, hosts, net)
            t0 = time.perf_counter()
            status, view = harness.api_request("POST", "/api/v1/placements", body, timeout=30)
            times.append((time.perf_counter() - t0) * 1000)
            assert status == 201, view
            assert view["state"] == "installed", view["state"]
            if i + 1 < BATCHES:
                # An address pair belongs to one batch: withdraw before the next.
                t0 = time.perf_counter()
                status, _ = harness.api_request("DELETE", "/api/v1/placements/" + body["id"])
                deletes.append((time.perf_counter() - t0) * 1000)
                assert status == 200
        for name, ms in (("placement_1000_pods_ms", times), ("delete_1000_pods_ms", deletes)):
            result[name] = {"median": round(statistics.median(ms), 1), "max": round(max(ms), 1),
                            "all": [round(t, 1) for t in ms]}
            print("%s: median %.1f ms, max %.1f ms" % (name, statistics.median(ms), max(ms)))
        if os.access(args.oha, os.X_OK):
            url = harness.API_URL
            result["topology"] = oha(args.oha, url + "/api/v1/topology")
            body = json.dumps({"Pod": {"metadata": {"name": "x", "namespace": "bench",
                                                    "annotations": {"edgeflow.io/peers": "app=a1",
                                                                    "edgeflow.io/bandwidth": "1M"}}},
                               "NodeNames": ["node-" + h for h in hosts]})
            result["prioritize"] = oha(args.oha, url + "/api/v1/scheduler/prioritize",
                                       ["-m", "POST", "-H", "Content-Type: application/json",
                                        "-d", body])
            for k in ("topology", "prioritize"):
                print("%s at 1,000 req/s: %s" % (k, result[k]))
        else:
            print("oha not found at %s: latency part skipped (cargo install oha)" % args.oha)
        stats = harness.api_get("/api/v1/stats")
        result["switches"] = stats and stats["switches"]
    finally:
        if net is not None:
            harness.stop_net(net)
        ctl.stop()
        harness.mn_clean()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
