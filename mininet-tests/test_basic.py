"""Controller-mode basics on every topology: link discovery, pingall,
a TCP transfer between two distant hosts."""

import pytest

import harness
import topos

TOPO_NAMES = list(topos.TOPOS)

# seconds to wait for the reported links to equal the real ones (the fat-tree
# has 32 inter-switch links, 64 directions, to discover)
LINK_TIMEOUT = {"fattree4": 30, "linear4": 30, "tree3x2": 30, "edgecloud": 30}


def _start(nets, name, bw=None):
    topo = topos.TOPOS[name](bw=bw)
    net = nets.build(topo, controller=True)
    return topo, net


def _wait_links(net, name):
    expected = topos.expected_links(net)
    ok, topo_json, secs = harness.wait_links(expected, timeout=LINK_TIMEOUT[name])
    print("\n[%s] links: expected %d, discovered in %.1fs: %s"
          % (name, len(expected), secs, ok))
    assert ok, "[%s] reported links != real links after %ss\n%s" % (
        name, LINK_TIMEOUT[name], harness.describe_link_diff(expected, topo_json))
    return expected, topo_json


@pytest.mark.parametrize("name", TOPO_NAMES)
def test_links_reported(name, edgeflow, nets):
    topo, net = _start(nets, name)
    expected, topo_json = _wait_links(net, name)
    # every switch reported, with its dpid
    want = {topos.switch_dpid(s) for s in net.switches}
    got = {topos.dpid_str(int(str(s["dpid"]), 16)) for s in topo_json.get("switches", [])}
    assert got == want, "switches: missing %s extra %s" % (sorted(want - got), sorted(got - want))
    undirected, directed = harness.reported_links(topo_json)
    assert len(directed) == 2 * len(expected)
    assert undirected == expected
    assert edgeflow.alive(), "edgeflow exited"


@pytest.mark.parametrize("name", TOPO_NAMES)
def test_pingall(name, edgeflow, nets):
    topo, net = _start(nets, name)
    _wait_links(net, name)
    # First round: hosts are unknown to the controller; it has to discover
    # them (proxy ARP / flooding on the spanning tree) and set up every
    # path while the pings wait, one second each. No first ping may be
    # lost: a first packet lost is a connection's SYN resent a second
    # later. (Until 2026-11-26 a frame that reached the end of its path
    # before the flow popping the path's tag went to its host still tagged:
    # 2-5 of 240 first pings lost on the fat-tree, in most runs.)
    first = harness.pingall(net)
    second = harness.pingall(net)
    print("[%s] pingall loss: first %.1f%%, second %.1f%%" % (name, first, second))
    assert first == 0, "[%s] first pingall lost %.1f%%" % (name, first)
    assert second == 0, "[%s] pingall lost %.1f%% (first round %.1f%%)" % (name, second, first)
    assert edgeflow.alive(), "edgeflow exited"


@pytest.mark.parametrize("name", TOPO_NAMES)
def test_iperf_distant_hosts(name, edgeflow, nets):
    topo, net = _start(nets, name)
    _wait_links(net, name)
    harness.pingall(net)  # let the controller learn where the hosts are
    src, dst = topo.distant_pair
    mbps = harness.iperf3(net, src, dst, duration=5)
    print("[%s] iperf3 %s -> %s: %.1f Mbit/s" % (name, src, dst, mbps))
    assert mbps > 0
    assert edgeflow.alive(), "edgeflow exited"
