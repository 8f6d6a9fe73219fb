#!/usr/bin/python3
"""Stand-in for edgeflow, to check the harness itself without the real
controller: ovs-testcontroller (an L2 learning switch, OpenFlow 1.3) plus a
REST API whose /api/v1/topology is computed from Open vSwitch and the veth
peers (the ground truth, both directions of every link).

Only meaningful on the loop-free topologies (a learning switch floods
forever on the looped fat-tree / edge-cloud):

    EDGEFLOW_BIN=mininet-tests/tools/fake_edgeflow.py \
        /usr/bin/python3 -m pytest -v mininet-tests/test_basic.py -k "linear4 or tree3x2"

FAKE_DROP=1 drops one directed link from the answer (to see a failure report).
"""
import http.server, json, subprocess, sys, os, signal
args = sys.argv[1:]
api = args[args.index("--api-listen") + 1]
host, port = api.rsplit(":", 1)
os.makedirs("/var/run/openvswitch", exist_ok=True)
tc = subprocess.Popen(["ovs-testcontroller", "-O", "OpenFlow13", "ptcp:6653:127.0.0.1"])
def topo():
    brs = subprocess.run(["ovs-vsctl", "list-br"], capture_output=True, text=True).stdout.split()
    intfs = json.loads(subprocess.run(["ovs-vsctl", "--format=json", "--columns=name,ofport", "list", "Interface"], capture_output=True, text=True).stdout)
    ofport = {r[0]: r[1] for r in intfs["data"]}
    switches, owner = [], {}
    for b in brs:
        dp = subprocess.run(["ovs-vsctl", "get", "Bridge", b, "datapath_id"], capture_output=True, text=True).stdout.strip().strip('"')
        ports = []
        for p in subprocess.run(["ovs-vsctl", "list-ports", b], capture_output=True, text=True).stdout.split():
            ports.append({"port_no": ofport.get(p), "name": p, "hw_addr": "", "up": True}); owner[p] = (dp, ofport.get(p))
        switches.append({"dpid": dp, "ports": ports})
    idx = {}
    for p in owner:
        try: idx[int(open("/sys/class/net/%s/ifindex" % p).read())] = p
        except OSError: pass
    links = []
    for p in owner:
        try: peer = idx.get(int(open("/sys/class/net/%s/iflink" % p).read()))
        except OSError: continue
        if peer:
            links.append({"src": {"dpid": owner[p][0], "port_no": owner[p][1]}, "dst": {"dpid": owner[peer][0], "port_no": owner[peer][1]}})
    if os.environ.get("FAKE_DROP"):
        links = links[1:]
    return {"switches": switches, "links": links, "hosts": []}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = json.dumps(topo()).encode(); self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(b)
    def log_message(self, *a): sys.stderr.write("api: " + (a[0] % a[1:]) + "\n")
def bye(*_): tc.terminate(); sys.exit(0)
signal.signal(signal.SIGTERM, bye)
print("fake edgeflow up", file=sys.stderr, flush=True)
http.server.ThreadingHTTPServer((host, int(port)), H).serve_forever()
