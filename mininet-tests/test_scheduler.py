"""The scheduler side, end to end on Open vSwitch: a script that does what a
Kubernetes scheduler with edgeflow as its extender does, against a running
Mininet fat-tree (every link 10 Mbit/s; each host stands for a node whose pod
IP is the host's IP).

1. registers every host as a node (PUT /api/v1/nodes/<name>);
2. asks filter and prioritize as kube-scheduler does (full v1.Pod bodies,
   Go field names, nodeCacheCapable);
3. posts a placement batch and checks, with ovs-ofctl, that the IP-pair
   flows (cookie kind 0x06) and the select group appear on the pods'
   switches and carry the pods' traffic; re-posting changes nothing;
4. deletes the batch and checks that its flows are gone.
"""

import os
import re
import tempfile
import time

import harness
import topos

BW = 10


def pod(name, annotations):
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "shop", "uid": "uid-" + name,
                     "labels": {"app": name}, "annotations": annotations},
        "spec": {"containers": [{"name": name, "image": "nginx:1.27",
                                 "resources": {"requests": {"cpu": "100m"}}}],
                 "schedulerName": "default-scheduler"},
        "status": {"phase": "Pending"},
    }


def placement_flows(net, switch):
    out = net.get(switch).cmd("ovs-ofctl -O OpenFlow13 dump-flows %s" % switch)
    return [l for l in out.splitlines() if "cookie=0x6" in l]


def packets(flow_line):
    return int(re.search(r"n_packets=(\d+)", flow_line).group(1))


def groups(net, switch):
    out = net.get(switch).cmd("ovs-ofctl -O OpenFlow13 dump-groups %s" % switch)
    return [l for l in out.splitlines() if "group_id=" in l]


def test_scheduler_extender_and_placements(nets, edgeflow_factory):
    cfg = os.path.join(tempfile.mkdtemp(prefix="edgeflow-cfg-"), "edgeflow.toml")
    with open(cfg, "w") as f:
        f.write("port_speed_mbps = %d\n" % BW)
    ctl = edgeflow_factory(["--config", cfg])
    net = nets.build_discovered(topos.FatTreeTopo(bw=BW))
    hosts = sorted(h.name for h in net.hosts)

    # 1. nodes
    for h in hosts:
        status, body = harness.api_request("PUT", "/api/v1/nodes/node-" + h,
                                           {"name": "node-" + h, "ips": [net.get(h).IP()]})
        assert status == 200, body
        assert body["attachment"] is not None, "node-%s not located: %s" % (h, body)
    names = ["node-" + h for h in hosts]

    # 2. filter: 50 Mbit/s fits no 10 Mbit/s access link; 5 Mbit/s fits all
    status, body = harness.api_request("POST", "/api/v1/scheduler/filter", {
        "Pod": pod("big", {"edgeflow.io/bandwidth": "50M"}), "Nodes": None, "NodeNames": names})
    assert status == 200, body
    assert body["NodeNames"] == [] and sorted(body["FailedNodes"]) == names, body
    status, body = harness.api_request("POST", "/api/v1/scheduler/filter", {
        "Pod": pod("small", {"edgeflow.io/bandwidth": "5M"}), "Nodes": None, "NodeNames": names})
    assert status == 200 and body["NodeNames"] == names and body["Error"] == "", body

    # 3. a placement: db on h311's node, web on h011's, web -> db 5 Mbit/s
    batch = {"id": "shop-1", "pods": [
        {"name": "db", "namespace": "shop", "node": "node-h311", "ip": net.get("h311").IP(),
         "labels": {"app": "db"}},
        {"name": "web", "namespace": "shop", "node": "node-h011", "ip": net.get("h011").IP(),
         "traffic": [{"to": "db", "bps": 5e6}]}]}
    status, body = harness.api_request("POST", "/api/v1/placements", batch)
    assert status == 201, body
    assert body["state"] == "installed", body
    route = body["routes"][0]
    assert route["group_id"] is not None, route
    status, again = harness.api_request("POST", "/api/v1/placements", batch)
    assert status == 200 and again["id"] == "shop-1", again
    print("\n[scheduler] placement route %s -> %s via group %d" % (route["src_ip"], route["dst_ip"],
                                                                 route["group_id"]))

    # prioritize: a pod talking to app=db prefers db's node, then its switch, then far nodes
    status, body = harness.api_request("POST", "/api/v1/scheduler/prioritize", {
        "Pod": pod("api", {"edgeflow.io/peers": "app=db"}), "NodeNames": names})
    assert status == 200, body
    score = {h["Host"]: h["Score"] for h in body}
    print("[scheduler] prioritize: %s" % score)
    assert score["node-h311"] == 10, score
    assert score["node-h312"] > score["node-h011"], score

    flows = placement_flows(net, "e01")
    print("[scheduler] e01 placement flows: %s" % flows)
    # into the group's spreading table, which hands frames to the group
    assert len(flows) == 1, flows
    assert "write_metadata:%#x,goto_table:2" % route["group_id"] in flows[0], flows
    assert any("group_id=%d," % route["group_id"] in g for g in groups(net, "e01"))
    # the pods' traffic takes the placement flow
    before = packets(flows[0])
    out = net.get("h011").cmd("ping -c 3 -i 0.2 -W 1 %s" % net.get("h311").IP())
    assert " 0% packet loss" in out, out
    # (Open vSwitch updates flow counters every few hundred milliseconds)
    deadline = time.time() + 5
    while packets(placement_flows(net, "e01")[0]) < before + 3 and time.time() < deadline:
        time.sleep(0.2)
    after = packets(placement_flows(net, "e01")[0])
    assert after >= before + 3, (before, after)

    # 4. withdraw
    status, body = harness.api_request("DELETE", "/api/v1/placements/shop-1")
    assert status == 200, body
    assert placement_flows(net, "e01") == [], placement_flows(net, "e01")
    status, body = harness.api_request("GET", "/api/v1/placements/shop-1")
    assert status == 404 and "error" in body, body
    assert ctl.alive()
