#!/usr/bin/python3
"""Runs OpenFlow controllers one after another under the same emulated load
(ofswitchbench) and prints a table with ratios; see BENCHMARKS.md.

  benches/peers/run.py peers  [--duration S] [--switches N] [--window W]
      the ceiling, the ceiling answering with a FLOW_MOD too (a learning
      switch's answer at no cost), edgeflow, ovs-testcontroller and os-ken:
      throughput (window W per switch) and latency (window 1), 16 switches
      by default.
  benches/peers/run.py fabric [--sizes 100,300,1000] [--degree 4]
      edgeflow only: time until its API shows every link of a random regular
      fabric, its RSS; then, at the largest size it discovered, PACKET_IN latency and the
      controller's CPU with port-stats polling every second and with polling
      off (one poll an hour), --polling-runs alternating runs of each (default 3),
      with the medians of their ratios; then end-to-end path setups per second
      (ofswitchbench --setups) on --setups-topology (default fat-tree:8;
      "largest": the largest random regular fabric discovered; "none": skip),
      with multipath on (the default) and with multipath = false.

  benches/peers/run.py latency [--counts 1,4,16] [--busy-poll-us 50] [--rounds 1]
      PACKET_IN latency at window 1 as the number of switches grows: the
      floor (ceiling --flow-mod), edgeflow as configured by default, edgeflow
      with busy_poll_us (0: left out), and ovs-testcontroller; with --rounds
      N they take turns N times (each round starting with the next one),
      and the medians and ranges of edgeflow's p99 over the floor's and
      ovs-testcontroller's, and of the floor's over ovs-testcontroller's,
      follow.

Options for trying it beside other runs: --ports OF,API (default 16653,18080)
and --edgeflow PATH (default target/release/edgeflow).

Run from the repository root, as root (ovs-testcontroller wants
/var/run/openvswitch). Controllers listen on 127.0.0.1:16653 and edgeflow's
API on 127.0.0.1:18080, away from the default ports.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time

OF_ADDR = ("127.0.0.1", 16653)
API = "127.0.0.1:18080"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release")
BENCH = os.path.join(BIN, "ofswitchbench")
EDGEFLOW = os.path.join(BIN, "edgeflow")


def build():
    subprocess.run(
        ["cargo", "build", "--release", "-p", "edgeflow-benches", "--bins",
         "-p", "edgeflow-controller", "--bin", "edgeflow"],
        cwd=ROOT, check=True)


def wait_listening(port, timeout=20.0):
    """Waits until something listens on TCP `port` (read from /proc, without
    connecting: a probe connection would look like a switch)."""
    want = ":%04X" % port
    deadline = time.time() + timeout
    while time.time() < deadline:
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return
        time.sleep(0.05)
    raise RuntimeError("nothing listens on port %d" % port)


class Controller:
    """One controller process, started fresh and stopped after its runs."""

    def __init__(self, name, argv, workdir, env=None):
        self.name, self.argv, self.workdir, self.env = name, argv, workdir, env
        self.proc = None

    def __enter__(self):
        log = open(os.path.join(self.workdir, self.name + ".log"), "w")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=ROOT, env=self.env)
        wait_listening(OF_ADDR[1])
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # Let the port be reusable before the next controller binds it.
        time.sleep(0.5)


def edgeflow(workdir, extra_config=""):
    state = tempfile.mkdtemp(dir=workdir)
    config = os.path.join(state, "edgeflow.toml")
    with open(config, "w") as f:
        f.write(extra_config)
    argv = [EDGEFLOW, "run", "--config", config,
            "--listen", "%s:%d" % OF_ADDR, "--api-listen", API,
            "--state", os.path.join(state, "state.redb")]
    # The default log level, as a user runs it.
    env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    return Controller("edgeflow", argv, workdir, env)


def peers(workdir):
    os.makedirs("/var/run/openvswitch", exist_ok=True)
    return [
        Controller("ceiling", [os.path.join(BIN, "ceiling"), "--listen", "%s:%d" % OF_ADDR],
                   workdir),
        Controller("ceiling --flow-mod",
                   [os.path.join(BIN, "ceiling"), "--listen", "%s:%d" % OF_ADDR, "--flow-mod"],
                   workdir),
        edgeflow(workdir),
        Controller("ovs-testcontroller",
                   ["ovs-testcontroller", "-O", "OpenFlow13",
                    "--unixctl=" + os.path.join(workdir, "otc.ctl"),
                    "ptcp:%d:%s" % (OF_ADDR[1], OF_ADDR[0])], workdir),
        Controller("os-ken",
                   ["/usr/bin/python3", shutil.which("osken-manager") or "osken-manager",
                    "--ofp-listen-host", OF_ADDR[0], "--ofp-tcp-listen-port", str(OF_ADDR[1]),
                    os.path.join(ROOT, "benches", "peers", "osken_learning_switch.py")],
                   workdir),
    ]


def bench(pid, *args):
    argv = [BENCH, "--controller", "%s:%d" % OF_ADDR, "--pid", str(pid), "--json"]
    argv += [str(a) for a in args]
    print("$", " ".join(argv[:1] + argv[5:]), file=sys.stderr)
    out = subprocess.run(argv, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def fmt_rate(x):
    return "{:,.0f}".format(x)


def run_peers(args, workdir):
    results = {}
    for c in peers(workdir):
        with c:
            tput = bench(c.proc.pid, "--switches", args.switches, "--window", args.window,
                         "--duration", args.duration, "--label", c.name)
        with c:
            lat = bench(c.proc.pid, "--switches", args.switches, "--window", 1,
                        "--duration", args.duration, "--label", c.name)
        results[c.name] = (tput, lat)
        print(json.dumps({"controller": c.name, "throughput": tput, "latency": lat}),
              file=sys.stderr)
    ceiling = results["ceiling"][0]["answered_per_s"]
    ef_t, ef_l = results["edgeflow"]
    print("\n%d switches x %d hosts; throughput: window %d per switch; latency: window 1; "
          "%.0f s counted each\n" % (args.switches, 16, args.window, args.duration))
    print("| controller | answered/s | % of ceiling | edgeflow / it | controller CPU "
          "| latency p50 | p99 | p99.9 | edgeflow p99 / its p99 | emulator ns/answer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (t, l) in results.items():
        rate = t["answered_per_s"]
        print("| %s | %s | %.2f %% | %s | %.0f %% | %.0f µs | %.0f µs | %.0f µs | %s | %.0f |" % (
            name, fmt_rate(rate), 100 * rate / ceiling,
            "%.1fx" % (ef_t["answered_per_s"] / rate) if rate else "-",
            100 * (t["controller_cores"] or 0),
            l["latency_us"]["p50"], l["latency_us"]["p99"], l["latency_us"]["p999"],
            "%.2f" % (ef_l["latency_us"]["p99"] / l["latency_us"]["p99"]),
            t["emulator_cpu_ns_per_answer"] or 0))
    print("\nanswers per PACKET_IN (throughput run): " + ", ".join(
        "%s %.1f FLOW_MODs" % (n, t["flow_mods"] / max(t["answered"], 1))
        for n, (t, _) in results.items()))


def run_latency(args, workdir):
    """Window-1 latency at each switch count, every controller fresh for
    each run; with --rounds N the controllers take turns N times, each
    round starting with the next one, and the medians of edgeflow's p99
    over the others' follow."""
    wanted = {"ceiling --flow-mod", "edgeflow", "ovs-testcontroller"}
    controllers = [c for c in peers(workdir) if c.name in wanted]
    if args.busy_poll_us:
        busy = edgeflow(workdir, "busy_poll_us = %d\n" % args.busy_poll_us)
        busy.name = "edgeflow, busy_poll_us = %d" % args.busy_poll_us
        controllers.insert(2, busy)
    print("window 1, 16 hosts per switch, %.0f s counted each\n" % args.duration)
    print("| switches | controller | answered/s | controller CPU | latency p50 | p99 | p99.9 "
          "| emulator ns/answer |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for n in (int(x) for x in args.counts.split(",")):
        for round_no in range(args.rounds):
            p99 = {}
            # Each round starts with the next controller, so that none always
            # runs first (or last) as the machine warms or gets busier.
            k = round_no % len(controllers)
            for c in controllers[k:] + controllers[:k]:
                with c:
                    r = bench(c.proc.pid, "--switches", n, "--window", 1,
                              "--duration", args.duration, "--label", c.name)
                lat = r["latency_us"]
                p99[c.name] = lat["p99"]
                print("| %d | %s | %s | %.0f %% | %.1f µs | %.1f µs | %.1f µs | %.0f |" % (
                    n, c.name, fmt_rate(r["answered_per_s"]),
                    100 * (r["controller_cores"] or 0), lat["p50"], lat["p99"], lat["p999"],
                    r["emulator_cpu_ns_per_answer"] or 0), flush=True)
            for other in ("ovs-testcontroller", "ceiling --flow-mod"):
                ratios.setdefault((n, other), []).append(p99["edgeflow"] / p99[other])
            ratios.setdefault((n, "floor over ovs-testcontroller"), []).append(
                p99["ceiling --flow-mod"] / p99["ovs-testcontroller"])
    if args.rounds > 1:
        print("\n| switches | p99 ratio | rounds | median | range | rounds at most 0.5 |")
        print("|---:|---|---:|---:|---:|---:|")
        for (n, what), rs in ratios.items():
            name = what if what.startswith("floor") else "edgeflow over " + what
            print("| %d | %s | %d | %.2f | %.2f-%.2f | %d |" % (
                n, name, len(rs), statistics.median(rs), min(rs), max(rs),
                sum(r <= 0.5 for r in rs)))


def run_setups(args, workdir, topology):
    """Path setups per second on `topology`, multipath on and off."""
    print("\n%s, %d hosts per edge switch, %d setups at a time per edge switch, %.0f s counted; "
          "latency from the first PACKET_IN to the delivery of the pair's second frame "
          "(first frame: to its own delivery):\n"
          % (topology, args.setups_hosts, args.setups_window, args.duration))
    print("| fabric | multipath | setups/s | latency p50 | p99 | first frame p50 "
          "| PACKET_INs / setup | FLOW_MODs / setup | GROUP_MODs / setup | failed |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, config in (("on", ""), ("off", "multipath = false\n")):
        with edgeflow(workdir, config) as c:
            r = bench(c.proc.pid, "--topology", topology, "--setups", "--hosts",
                      args.setups_hosts, "--window", args.setups_window,
                      "--duration", args.duration, "--api", API)
        p = r["setups"]
        print("| %s | %s | %s | %.0f µs | %.0f µs | %.0f µs | %.2f | %.2f | %.2f | %d of %d%s |" % (
            topology, label, fmt_rate(p["completed_per_s"]),
            p["latency_to_probe_delivery_us"]["p50"], p["latency_to_probe_delivery_us"]["p99"],
            p["latency_to_first_delivery_us"]["p50"], p["packet_ins_per_setup"] or 0,
            p["flow_mods_per_setup"] or 0, p["group_mods_per_setup"] or 0,
            p["failed"], p["started"],
            "" if not p["failed"] else " (" + ", ".join(
                "%s %d" % (k, v) for k, v in p["failed_by"].items() if v) + ")"))
        for e in p["failure_examples"][:3]:
            print("failed: " + e, file=sys.stderr)


def run_fabric(args, workdir):
    sizes = [int(s) for s in args.sizes.split(",")]
    print("| switches | directed links | handshakes done | discovered after "
          "| RSS when discovered | RSS after %.0f s more |" % args.duration)
    print("|---:|---:|---:|---:|---:|---:|")
    discovered = []
    for n in sizes:
        with edgeflow(workdir) as c:
            try:
                r = bench(c.proc.pid, "--topology", "rrg:%d:%d" % (n, args.degree), "--ports",
                          48, "--load-switches", 0, "--duration", args.duration, "--api", API)
            except subprocess.CalledProcessError:
                print("| %d | %d | | not discovered within 60 s | | |" % (n, n * args.degree))
                continue
        discovered.append(n)
        print("| %d | %d | %.2f s | %.2f s | %.0f MB | %.0f MB |" % (
            n, r["directed_links"], r["handshake_s"], r["discovery_s"],
            r["controller_rss_mb_discovered"], r["controller_rss_mb_end"]))
    if not discovered:
        return
    n = discovered[-1]
    if not args.skip_polling:
        run_polling(args, workdir, n)
    topology = args.setups_topology
    if topology == "largest":
        topology = "rrg:%d:%d" % (n, args.degree)
    if topology != "none":
        run_setups(args, workdir, topology)


def run_polling(args, workdir, n):
    """Alternates runs with polling every second and polling off, since one
    run on this shared machine moves by 10-20 %; prints each pair and the
    medians of the polled-over-unpolled ratios."""
    print("\n%d switches x 48 ports, 16 of them sending PACKET_INs with window 1, "
          "%d alternating runs each:\n" % (n, args.polling_runs))
    print("| run | port-stats polling | controller CPU | PORT_STATS replies/s | answered/s "
          "| latency p50 | p99 |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    ratios = {"answered/s": [], "p50": [], "p99": []}
    for run in range(1, args.polling_runs + 1):
        pair = {}
        for label, interval in (("every 1 s", 1000), ("off (1 h)", 3_600_000)):
            with edgeflow(workdir, "stats_interval_ms = %d\n" % interval) as c:
                r = bench(c.proc.pid, "--topology", "rrg:%d:%d" % (n, args.degree), "--ports",
                          48, "--load-switches", 16, "--window", 1, "--duration", args.duration,
                          "--api", API)
            pair[label] = r
            print("| %d | %s | %.0f %% | %.0f | %s | %.0f µs | %.0f µs |" % (
                run, label, 100 * (r["controller_cores"] or 0),
                r["port_stats_replies"] / r["seconds"], fmt_rate(r["answered_per_s"]),
                r["latency_us"]["p50"], r["latency_us"]["p99"]))
        on, off = pair["every 1 s"], pair["off (1 h)"]
        ratios["answered/s"].append(on["answered_per_s"] / off["answered_per_s"])
        for q in ("p50", "p99"):
            ratios[q].append(on["latency_us"][q] / off["latency_us"][q])
    print("\npolled over unpolled, median (range): " + ", ".join(
        "%s %.2f (%.2f-%.2f)" % (k, statistics.median(v), min(v), max(v))
        for k, v in ratios.items()))


def main():
    global OF_ADDR, API, EDGEFLOW
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["peers", "fabric", "latency"])
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--switches", type=int, default=16)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--sizes", default="100,300,1000")
    p.add_argument("--degree", type=int, default=4)
    p.add_argument("--setups-topology", default="fat-tree:8")
    p.add_argument("--setups-hosts", type=int, default=64)
    p.add_argument("--setups-window", type=int, default=4)
    p.add_argument("--skip-polling", action="store_true",
                   help="fabric: leave out the polling comparison")
    p.add_argument("--polling-runs", type=int, default=3,
                   help="fabric: alternating runs of the polling comparison")
    p.add_argument("--counts", default="1,4,16",
                   help="latency: switch counts")
    p.add_argument("--busy-poll-us", type=int, default=50,
                   help="latency: busy_poll_us of the second edgeflow (0: no second one)")
    p.add_argument("--rounds", type=int, default=1,
                   help="latency: turns each controller takes at each count (at least 1)")
    p.add_argument("--ports", default="16653,18080")
    p.add_argument("--edgeflow", default=EDGEFLOW)
    p.add_argument("--no-build", action="store_true")
    args = p.parse_args()
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    of_port, api_port = (int(x) for x in args.ports.split(","))
    OF_ADDR = ("127.0.0.1", of_port)
    API = "127.0.0.1:%d" % api_port
    EDGEFLOW = args.edgeflow
    if not args.no_build:
        build()
    workdir = tempfile.mkdtemp(prefix="ofbench-")
    print("logs in " + workdir, file=sys.stderr)
    if args.what == "peers":
        run_peers(args, workdir)
    elif args.what == "latency":
        run_latency(args, workdir)
    else:
        run_fabric(args, workdir)


if __name__ == "__main__":
    main()
