"""Helpers for the edgeflow end-to-end tests on real Open vSwitch (userspace
datapath) inside Mininet.

Runs only under Debian's ``/usr/bin/python3`` (where Mininet is installed),
as root.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from functools import partial

from mininet.link import TCLink, Link
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController

import topos

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS_DIR = os.path.join(HERE, "results")

# Ports edgeflow listens on for the tests (127.0.0.1 only).  Override when
# something else on the machine already uses the defaults.
OF_PORT = int(os.environ.get("EDGEFLOW_OF_PORT", "6653"))
API_PORT = int(os.environ.get("EDGEFLOW_API_PORT", "8080"))
API_URL = "http://127.0.0.1:%d" % API_PORT


def log(msg):
    print("[harness %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def sh(cmd, timeout=60, check=False):
    """Run a shell command in the root namespace; return CompletedProcess."""
    p = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (p.returncode, cmd, p.stdout))
    return p


# --------------------------------------------------------------------------
# Open vSwitch / Mininet lifecycle

def ovs_running():
    try:
        return sh("ovs-vsctl --timeout=5 show", timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ensure_ovs():
    """Start ovsdb-server + ovs-vswitchd if they are not running."""
    if ovs_running():
        return
    os.makedirs("/var/run/openvswitch", exist_ok=True)
    p = sh("/usr/share/openvswitch/scripts/ovs-ctl start --system-id=random", timeout=120)
    if not ovs_running():
        raise RuntimeError("could not start Open vSwitch:\n" + p.stdout)


def mn_clean():
    """``mn -c``: remove leftover bridges, veths, namespaces' processes."""
    sh("mn -c", timeout=180)
    # mn -c does not know our iperf3/ping helpers started in host shells; they
    # die with the namespaces' shells, but be thorough about stale servers.
    sh("ovs-vsctl --timeout=10 list-br | xargs -r -n1 ovs-vsctl --timeout=10 --if-exists del-br",
       timeout=60)


class EdgeflowController(RemoteController):
    """RemoteController without Mininet's ``echo A | telnet`` reachability
    probe (the harness already waits for edgeflow to listen; that probe was
    seen to hang Mininet's shell read once)."""

    def checkListening(self):
        return


def build_net(topo, controller=True, rstp=False, start=True):
    """Build (and start) a Mininet net of userspace-datapath OVS switches
    speaking OpenFlow 1.3.

    controller=True: every switch connects to a RemoteController at
        127.0.0.1:6653 (fail_mode=secure, so nothing forwards without it).
    controller=False: no controller; fail_mode=standalone (the switch acts as
        a learning switch, "NORMAL"); with rstp=True, Open vSwitch's RSTP is
        enabled on every bridge.
    """
    setLogLevel(os.environ.get("MN_LOGLEVEL", "warning"))
    kw = dict(datapath="user", protocols="OpenFlow13",
              failMode="secure" if controller else "standalone")
    if rstp and not controller:
        switch = partial(RstpOVSSwitch, rstpPriorities=rstp_priorities(topo), **kw)
    else:
        switch = partial(OVSSwitch, **kw)
    link = TCLink if getattr(topo, "bw", None) else Link
    net = Mininet(topo=topo, switch=switch, link=link, controller=None,
                  autoSetMacs=True, build=False, waitConnected=False)
    if controller:
        net.addController(EdgeflowController("c0", ip="127.0.0.1", port=OF_PORT))
    net.build()
    if start:
        net.start()
        disable_offloads(net)
    return net


class RstpOVSSwitch(OVSSwitch):
    """OVSSwitch whose bridge is created with Open vSwitch's RSTP enabled
    (``rstp_enable=true`` in the same ovs-vsctl transaction that creates the
    bridge, so the looped fabric never forwards before RSTP runs).  Only
    meaningful with fail_mode=standalone and no controller."""

    def __init__(self, name, rstpPriorities=None, **params):
        self.rstpPriority = (rstpPriorities or {}).get(name)
        OVSSwitch.__init__(self, name, **params)

    def bridgeOpts(self):
        opts = OVSSwitch.bridgeOpts(self) + " rstp_enable=true"
        if self.rstpPriority is not None:
            opts += " other_config:rstp-priority=%d" % self.rstpPriority
        return opts


def rstp_priorities(topo):
    """Bridge priorities a sensible operator would configure: the first core
    switch is the root bridge, the other cores the next candidates, then the
    aggregation layer; everything else keeps the default 32768.  Without
    this the root is whichever bridge has the lowest (random) MAC address,
    e.g. an edge switch, and the baseline figures vary from run to run."""
    role = getattr(topo, "role", {})
    cores = sorted(n for n, r in role.items() if r == "core")
    prio = {}
    for n, r in role.items():
        if r == "core":
            prio[n] = 4096 if n == cores[0] else 8192
        elif r == "agg":
            prio[n] = 16384
    return prio


def disable_offloads(net):
    """Offloads off on every veth (hosts' and switches'); userspace OVS does
    not fix up partial checksums / TSO segments, so TCP stalls otherwise."""
    opts = "tx off rx off tso off gso off gro off"
    for h in net.hosts:
        cmd = "; ".join("ethtool -K %s %s >/dev/null 2>&1" % (i.name, opts)
                        for i in h.intfList() if i.name != "lo")
        if cmd:
            h.cmd(cmd)
    ifs = [i.name for s in net.switches for i in s.intfList() if i.name != "lo"
           and s.ports.get(i, 0) > 0]
    script = "\n".join("ethtool -K %s %s >/dev/null 2>&1" % (i, opts) for i in ifs)
    if script:
        subprocess.run(["sh", "-c", script], timeout=120)


def stop_net(net):
    try:
        net.stop()
    except Exception as e:  # noqa: BLE001 - best effort teardown
        log("net.stop() failed: %r" % e)


# --------------------------------------------------------------------------
# edgeflow process

def edgeflow_bin():
    return os.environ.get("EDGEFLOW_BIN", os.path.join(REPO, "target", "release", "edgeflow"))


class Edgeflow:
    """The controller under test, running as a child process with its
    stderr/stdout in a log file.

    ``EDGEFLOW_ARGS`` (env) adds extra command-line flags, e.g.
    ``--lldp-interval-ms 500``.
    """

    def __init__(self, extra_args=()):
        self.bin = edgeflow_bin()
        # not /tmp/*.log: ``mn -c`` deletes those
        self.workdir = tempfile.mkdtemp(prefix="edgeflow-e2e-")
        self.logpath = os.path.join(self.workdir, "edgeflow.log")
        self.logfile = open(self.logpath, "wb")
        self.args = [self.bin, "run", "--listen", "127.0.0.1:%d" % OF_PORT,
                     "--api-listen", "127.0.0.1:%d" % API_PORT]
        if _supports_flag(self.bin, "--state"):
            # a fresh state database per run, not /var/lib/edgeflow
            self.args += ["--state", os.path.join(self.workdir, "state.redb")]
        self.args += list(extra_args)
        self.args += shlex.split(os.environ.get("EDGEFLOW_ARGS", ""))
        self.proc = None

    def start(self, timeout=15):
        if not os.access(self.bin, os.X_OK):
            raise RuntimeError("edgeflow binary not found at %s (set EDGEFLOW_BIN or run "
                               "cargo build --release)" % self.bin)
        wait_port_free(OF_PORT)
        wait_port_free(API_PORT)
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        env.setdefault("RUST_BACKTRACE", "1")
        log("starting %s (log %s)" % (" ".join(self.args), self.logpath))
        self.proc = subprocess.Popen(self.args, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("edgeflow exited with %s at startup:\n%s"
                                   % (self.proc.returncode, self.tail()))
            if port_listening(OF_PORT) and api_get("/api/v1/topology", quiet=True) is not None:
                return self
            time.sleep(0.2)
        raise RuntimeError("edgeflow did not listen on %d / answer the API on %d within %ss:\n%s"
                           % (OF_PORT, API_PORT, timeout, self.tail()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.logfile.flush()

    def cleanup(self):
        """Remove the log and state (call after a passing test)."""
        shutil.rmtree(self.workdir, ignore_errors=True)

    def tail(self, n=80):
        try:
            self.logfile.flush()
            with open(self.logpath, errors="replace") as f:
                lines = f.readlines()
            return "".join(lines[-n:])
        except OSError as e:
            return "(no log: %s)" % e


_HELP_CACHE = {}


def _supports_flag(binary, flag):
    """Whether ``binary run --help`` lists ``flag``."""
    if binary not in _HELP_CACHE:
        try:
            p = subprocess.run([binary, "run", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=10)
            _HELP_CACHE[binary] = p.stdout
        except (OSError, subprocess.TimeoutExpired):
            _HELP_CACHE[binary] = ""
    return flag in _HELP_CACHE[binary]


def port_listening(port):
    out = sh("ss -Hltn 'sport = :%d'" % port, timeout=10).stdout
    return bool(out.strip())


def wait_port_free(port, timeout=15):
    deadline = time.time() + timeout
    while port_listening(port):
        if time.time() > deadline:
            raise RuntimeError(
                "127.0.0.1:%d is still in use by another process (not started by this test); "
                "stop it or set EDGEFLOW_OF_PORT / EDGEFLOW_API_PORT:\n%s"
                % (port, sh("ss -ltnp 'sport = :%d'" % port).stdout))
        time.sleep(0.2)


def api_get(path, quiet=False, timeout=3):
    try:
        with urllib.request.urlopen(API_URL + path, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except (urllib.error.URLError, OSError, ValueError) as e:
        if not quiet:
            log("GET %s failed: %r" % (path, e))
        return None


def api_request(method, path, body=None, timeout=5):
    """(status, decoded JSON) of a request to the controller's API; HTTP
    errors are returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(API_URL + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, text


def reported_links(topo_json):
    """Links of the controller's topology JSON as (undirected set, directed
    list).  Each inter-switch link must appear once per direction."""
    directed = []
    for l in topo_json.get("links", []):
        src = (topos.dpid_str(int(str(l["src"]["dpid"]), 16)), int(l["src"]["port_no"]))
        dst = (topos.dpid_str(int(str(l["dst"]["dpid"]), 16)), int(l["dst"]["port_no"]))
        directed.append((src, dst))
    return {frozenset(d) for d in directed}, directed


def wait_links(expected, timeout=30):
    """Poll the REST topology until the reported links equal ``expected``
    (set of frozensets of (dpid, port)) with both directions present.
    Returns (ok, last topology JSON, seconds waited)."""
    t0 = time.time()
    last = None
    while True:
        topo = api_get("/api/v1/topology", quiet=True)
        if topo is not None:
            last = topo
            undirected, directed = reported_links(topo)
            if undirected == expected and len(directed) == 2 * len(expected) \
                    and len(set(directed)) == len(directed):
                return True, topo, time.time() - t0
        if time.time() - t0 > timeout:
            return False, last, time.time() - t0
        time.sleep(0.5)


def describe_link_diff(expected, topo_json):
    if topo_json is None:
        return "no topology answer from the API"
    undirected, directed = reported_links(topo_json)
    fmt = lambda s: sorted(tuple(sorted(x)) for x in s)  # noqa: E731
    want_dir = set()
    for l in expected:
        a, b = sorted(l)
        want_dir |= {(a, b), (b, a)}
    got_dir = set(directed)
    dups = len(directed) - len(got_dir)
    return ("expected %d links (%d directed), reported %d undirected / %d directed "
            "(%d duplicates)\nmissing: %s\nextra: %s\nmissing directions: %s"
            % (len(expected), len(want_dir), len(undirected), len(directed), dups,
               fmt(expected - undirected), fmt(undirected - expected),
               sorted(want_dir - got_dir)[:20]))


# --------------------------------------------------------------------------
# traffic

def pingall(net, timeout=1, quiet=False):
    """Every host pings every other host once (``ping -c1 -W<timeout>``).
    Each host works through its targets one after the other, all hosts at
    the same time (Mininet's pingAll is fully sequential: 240 pings of up to
    1 s each on the fat-tree when things are broken).  Returns the loss in
    percent and prints the failed pairs."""
    hosts = net.hosts
    for h in hosts:
        targets = " ".join(o.IP() for o in hosts if o is not h)
        h.sendCmd("for ip in %s; do if ping -n -c1 -W%d $ip >/dev/null 2>&1; "
                  "then echo OK $ip; else echo FAIL $ip; fi; done" % (targets, timeout))
    sent = ok = 0
    failed = []
    ip2name = {h.IP(): h.name for h in hosts}
    for h in hosts:
        out = h.waitOutput()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("OK", "FAIL"):
                sent += 1
                if parts[0] == "OK":
                    ok += 1
                else:
                    failed.append((h.name, ip2name.get(parts[1], parts[1])))
    expected = len(hosts) * (len(hosts) - 1)
    if sent != expected:
        log("pingall: expected %d results, parsed %d" % (expected, sent))
    loss = 100.0 * (expected - ok) / expected if expected else 0.0
    if not quiet:
        log("pingall: %d/%d received, %.1f%% loss%s" % (
            ok, expected, loss, "; failed (first 10): %s" % failed[:10] if failed else ""))
    return loss


def wait_pingall(net, timeout=60, label=""):
    """Repeat pingall until 0% loss; returns (loss, seconds)."""
    t0 = time.time()
    while True:
        loss = pingall(net)
        if loss == 0 or time.time() - t0 > timeout:
            log("%spingall %.1f%% loss after %.1fs" % (label, loss, time.time() - t0))
            return loss, time.time() - t0
        time.sleep(1)


def iperf3_start_server(server, port):
    server.cmd("iperf3 -s -1 -D -p %d >/dev/null 2>&1" % port)


def iperf3_wait_server(server, port, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.cmd("ss -Hltn 'sport = :%d'" % port).strip():
            return True
        time.sleep(0.1)
    return False


def _parse_iperf3(text):
    try:
        j = json.loads(text)
    except ValueError:
        return None, "unparsable iperf3 output: %r" % text[-500:]
    if "error" in j:
        return None, j["error"]
    end = j.get("end", {})
    rec = end.get("sum_received") or end.get("sum") or {}
    bps = rec.get("bits_per_second")
    if bps is None:
        return None, "no sum_received in iperf3 output"
    return bps / 1e6, None


def iperf3(net, client, server, duration=5, port=5201):
    """TCP transfer client -> server for ``duration`` s; returns Mbit/s as
    measured by the receiver (raises on failure)."""
    c, s = net.get(client), net.get(server)
    iperf3_start_server(s, port)
    if not iperf3_wait_server(s, port):
        raise RuntimeError("iperf3 server on %s:%d did not start" % (server, port))
    out = c.cmd("timeout %d iperf3 -c %s -p %d -t %d -J --connect-timeout 3000"
                % (duration + 20, s.IP(), port, duration))
    mbps, err = _parse_iperf3(out)
    s.cmd("pkill -f 'iperf3 -s -1 -D -p %d' >/dev/null 2>&1" % port)
    if err:
        raise RuntimeError("iperf3 %s -> %s failed: %s" % (client, server, err))
    return mbps


def iperf3_parallel(net, pairs, duration=10, base_port=5301, streams=1, extra=()):
    """Run simultaneous transfers, one per (client, server) pair, each
    with its own server port and ``streams`` parallel TCP connections
    (``extra``: more iperf3 client flags, e.g. ``("-u", "-b", "8M")``).
    Returns list of Mbit/s (None for a failed transfer) in pair order."""
    tmp = tempfile.mkdtemp(prefix="iperf3-")
    jobs = []
    for i, (cn, sn) in enumerate(pairs):
        port = base_port + i
        iperf3_start_server(net.get(sn), port)
    for i, (cn, sn) in enumerate(pairs):
        if not iperf3_wait_server(net.get(sn), base_port + i):
            raise RuntimeError("iperf3 server on %s:%d did not start" % (sn, base_port + i))
    for i, (cn, sn) in enumerate(pairs):
        c, s = net.get(cn), net.get(sn)
        out = os.path.join(tmp, "%d.json" % i)
        # popen in the host's namespace; bounded by timeout(1)
        p = c.popen(["timeout", str(duration + 30), "iperf3", "-c", s.IP(), "-p",
                     str(base_port + i), "-t", str(duration), "-P", str(streams), "-J",
                     "--connect-timeout", "3000"] + list(extra),
                    stdout=open(out, "w"), stderr=subprocess.STDOUT)
        jobs.append((p, out, cn, sn))
    results = []
    for p, out, cn, sn in jobs:
        try:
            p.wait(timeout=duration + 45)
        except subprocess.TimeoutExpired:
            p.kill()
        with open(out) as f:
            mbps, err = _parse_iperf3(f.read())
        if err:
            log("iperf3 %s -> %s failed: %s" % (cn, sn, err))
        results.append(mbps)
    shutil.rmtree(tmp, ignore_errors=True)
    for i, (cn, sn) in enumerate(pairs):
        net.get(sn).cmd("pkill -f 'iperf3 -s -1 -D -p %d' >/dev/null 2>&1" % (base_port + i))
    return results


# --------------------------------------------------------------------------
# port counters

_PORT_RE = re.compile(r"port\s+\"?(\w+)\"?:\s+rx pkts=(\d+), bytes=(\d+).*?"
                      r"tx pkts=(\d+), bytes=(\d+)", re.S)


def dump_ports(switch):
    """{port_no: {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"}} from
    ``ovs-ofctl -O OpenFlow13 dump-ports`` (the LOCAL port is left out)."""
    name = switch if isinstance(switch, str) else switch.name
    out = sh("ovs-ofctl -O OpenFlow13 --no-names dump-ports %s" % name, timeout=20).stdout
    res = {}
    for m in _PORT_RE.finditer(out):
        port = m.group(1)
        if not port.isdigit():
            continue
        res[int(port)] = {"rx_packets": int(m.group(2)), "rx_bytes": int(m.group(3)),
                          "tx_packets": int(m.group(4)), "tx_bytes": int(m.group(5))}
    return res


def all_port_counters(net):
    return {s.name: dump_ports(s) for s in net.switches}


def counter_delta(before, after, key):
    out = {}
    for sw, ports in after.items():
        for p, c in ports.items():
            b = before.get(sw, {}).get(p)
            if b is not None:
                out[(sw, p)] = c[key] - b[key]
    return out


def dump_flows(switch):
    return sh("ovs-ofctl -O OpenFlow13 dump-flows %s" % switch, timeout=20).stdout


# --------------------------------------------------------------------------
# failover measurement

PING_INTERVAL = 0.01


def _parse_ping(out):
    seqs = [int(m) for m in re.findall(r"icmp_seq=(\d+)", out)]
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    tx, rx = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return seqs, tx, rx


def find_used_link(net, src, dst, pkt_rate=100, window=1.0, prefer=("core",)):
    """While a 10 ms ping src->dst runs, find the inter-switch links it uses
    from per-port tx counter deltas.  Returns a list of
    (switch_a, switch_b, packets) for links carrying >= half the expected
    packets, the ones touching a switch whose role is in ``prefer`` first."""
    topo = net.topo
    peer = topos.port_peer(net)
    isw = topos.inter_switch_ports(net)
    snames = set(isw)
    b = all_port_counters(net)
    time.sleep(window)
    a = all_port_counters(net)
    d = counter_delta(b, a, "tx_packets")
    used = {}
    for (sw, port), n in d.items():
        if port not in isw.get(sw, ()):
            continue
        other, _ = peer[(sw, port)]
        if other not in snames:
            continue
        if n >= 0.5 * pkt_rate * window:
            key = tuple(sorted((sw, other)))
            used[key] = max(used.get(key, 0), n)
    role = getattr(topo, "role", {})
    ranked = sorted(used.items(), key=lambda kv: (
        not any(role.get(x) in prefer for x in kv[0]), -kv[1], kv[0]))
    return [(k[0], k[1], n) for k, n in ranked]


def measure_failover(net, src, dst, pre=2.0, post=2.5, label=""):
    """Ping src->dst every 10 ms; after ``pre`` s find a link the ping uses
    (preferring a core link), take it down, keep pinging ``post`` s.
    Returns dict with outage_ms = lost pings x 10 ms, the link cut, counts."""
    h1, h2 = net.get(src), net.get(dst)
    # warm up ARP / learning / flow setup
    h1.cmd("ping -c 3 -i 0.2 -W 1 %s" % h2.IP())
    count = int((pre + post) / PING_INTERVAL)
    outf = tempfile.NamedTemporaryFile(prefix="ping-", suffix=".txt", delete=False).name
    p = h1.popen(["ping", "-n", "-i", str(PING_INTERVAL), "-c", str(count), "-W", "1", h2.IP()],
                 stdout=open(outf, "w"), stderr=subprocess.STDOUT)
    t0 = time.time()
    time.sleep(0.3)
    used = find_used_link(net, src, dst, window=1.0)
    if not used:
        p.kill()
        raise AssertionError("%scould not find an inter-switch link carrying the ping %s->%s"
                             % (label, src, dst))
    a, b, n = used[0]
    wait = pre - (time.time() - t0)
    if wait > 0:
        time.sleep(wait)
    log("%scutting %s<->%s (carried %d pkts/s of the ping); links used: %s"
        % (label, a, b, n, used))
    t_cut = time.time()
    net.configLinkStatus(a, b, "down")
    try:
        p.wait(timeout=pre + post + 30)
    except subprocess.TimeoutExpired:
        p.kill()
    with open(outf) as f:
        out = f.read()
    os.unlink(outf)
    seqs, tx, rx = _parse_ping(out)
    lost = (tx - rx) if tx is not None else None
    # longest gap in the replied sequence numbers (after the cut)
    seqs_sorted = sorted(set(seqs))
    max_gap = 0
    for x, y in zip(seqs_sorted, seqs_sorted[1:]):
        max_gap = max(max_gap, y - x - 1)
    res = {
        "src": src, "dst": dst, "cut": [a, b], "cut_at_s": round(t_cut - t0, 3),
        "transmitted": tx, "received": rx, "lost": lost,
        "outage_ms": None if lost is None else lost * PING_INTERVAL * 1000,
        "max_gap_ms": max_gap * PING_INTERVAL * 1000, "used_links": [list(u) for u in used],
    }
    log("%sfailover: %s" % (label, res))
    return res


def wait_rstp_converged(net, timeout=90):
    """RSTP baseline: poll until pingall has 0% loss."""
    loss, secs = wait_pingall(net, timeout=timeout, label="[rstp] ")
    return loss, secs


def record(name, data):
    os.makedirs(RESULTS_DIR, exist_ok=True)
    data = dict(data)
    data.setdefault("time", time.strftime("%Y-%m-%dT%H:%M:%S"))
    with open(os.path.join(RESULTS_DIR, name), "a") as f:
        f.write(json.dumps(data, sort_keys=True) + "\n")
