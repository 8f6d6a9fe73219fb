"""A host that moves: h1 on s1 of the line s1 - s2 - s3 - s4 goes away and
comes back on s4 with the same MAC and IP addresses, as a live-migrated VM
(KubeVirt's, QEMU's) does, announcing itself with QEMU's RARP frame. The
hosts that talked to it reach it at once at its new place: the controller
learns the move from the announcement and moves the paths.
"""

import os
import tempfile

import harness
import topos

# QEMU's self-announcement after a migration: a broadcast RARP request
# (EtherType 0x8035, opcode 3) naming the VM's MAC address.
ANNOUNCE = """
import socket, sys
intf, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((intf, 0))
rarp = bytes.fromhex("0001080006040003") + mac + bytes(4) + mac + bytes(4)
s.send(b"\\xff" * 6 + mac + b"\\x80\\x35" + rarp + bytes(18))
"""


class MoveTopo(topos.LinearTopo):
    """The line of four switches, and a spare host hm on s4 to move h1 to."""

    def build(self, **kw):
        super().build(**kw)
        self.link(self.host("hm"), "s4")


def test_a_migrated_host_is_reached_at_its_new_place(edgeflow, nets):
    net = nets.build_discovered(MoveTopo())
    h1, h2, h3, hm = (net.get(n) for n in ("h1", "h2", "h3", "hm"))
    mac, ip = h1.MAC(), h1.IP()
    before = harness.pingall(net, quiet=True)
    # h1 leaves s1; hm takes its addresses on s4 and announces itself.
    h1.cmd("ip link set %s down" % h1.defaultIntf())
    intf = hm.defaultIntf()
    hm.cmd("ip link set {i} down; ip link set {i} address {mac}; ip addr flush dev {i}; "
           "ip addr add {ip}/8 dev {i}; ip link set {i} up".format(i=intf, mac=mac, ip=ip))
    script = os.path.join(tempfile.mkdtemp(prefix="announce-"), "announce.py")
    with open(script, "w") as f:
        f.write(ANNOUNCE)
    hm.cmd("/usr/bin/python3 %s %s %s" % (script, intf, mac))
    out = {h.name: h.cmd("ping -n -c5 -i0.2 -W1 %s" % ip) for h in (h2, h3)}
    at = next((h for h in harness.api_get("/api/v1/topology")["hosts"] if h["mac"] == mac), None)
    print("\n[mobility] before the move pingall lost %.1f%%; after it, h1's MAC is at %s"
          % (before, at and (at["dpid"], at["port_no"])))
    summary = {n: next((l for l in t.splitlines() if "packets transmitted" in l), t.strip())
               for n, t in out.items()}
    for name, line in summary.items():
        print("[mobility] %s -> %s: %s" % (name, ip, line))
    harness.record("mobility.jsonl", {"test": "migration", "at": at and at["dpid"],
                                      "pings": summary})
    assert at is not None and int(at["dpid"], 16) == 4, at
    for name, text in out.items():
        assert " 0% packet loss" in text, "%s lost pings to the moved host:\n%s" % (name, text)
    assert edgeflow.alive(), "edgeflow exited"
