#!/usr/bin/python3
"""How Open vSwitch spreads connections over the buckets of edgeflow's
select group: the two-site topology of test_multipath.py (sA and sB joined
by four paths, every group bucket weighted 25), 4 host pairs x 32
connections at 40 kbit/s each (far below the links' 10 Mbit/s, so nothing
is lost), alternately TCP and UDP; prints the share of sA's group bytes
each bucket forwarded.

Open vSwitch hashes the addresses, the protocol and, for TCP and SCTP only,
the ports: UDP flows of one host pair all take the same bucket.

Run as root from the repository root with the release binary built:

    /usr/bin/python3 mininet-tests/tools/bucket_shares.py [--rounds N]
"""

import argparse
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import harness  # noqa: E402
import topos  # noqa: E402
import test_multipath as tm  # noqa: E402


def bucket_bytes(net, group_id):
    out = net.get("sA").cmd("ovs-ofctl -O OpenFlow13 dump-group-stats sA")
    line = next(l for l in out.splitlines() if "group_id=%d," % group_id in l)
    return [int(b) for b in re.findall(r"bucket\d+:packet_count=\d+,byte_count=(\d+)", line)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4, help="transfers, alternately TCP and UDP")
    args = ap.parse_args()
    harness.ensure_ovs()
    harness.mn_clean()
    cfg = os.path.join(tempfile.mkdtemp(prefix="edgeflow-cfg-"), "edgeflow.toml")
    with open(cfg, "w") as f:
        f.write("port_speed_mbps = %d\n" % tm.BW)
    ctl = harness.Edgeflow(["--config", cfg])
    net = None
    try:
        ctl.start()
        net = harness.build_net(topos.TwoSitesTopo(bw=tm.BW), controller=True)
        ok, _, _ = harness.wait_links(topos.expected_links(net), timeout=30)
        assert ok, "links not discovered"
        loss, _ = harness.wait_pingall(net, timeout=30)
        assert loss == 0, "pingall lost %.1f%%" % loss
        group_id, _ = tm.site_group()
        for r in range(args.rounds):
            udp = r % 2 == 1
            extra = ("-u", "-b", "40k") if udp else ("-b", "40k")
            before = bucket_bytes(net, group_id)
            harness.iperf3_parallel(net, tm.site_pairs(), duration=4, streams=32, extra=extra)
            d = [b - a for a, b in zip(before, bucket_bytes(net, group_id))]
            print("%s: bucket shares %s %%" % ("UDP" if udp else "TCP",
                                              [round(100 * x / max(sum(d), 1), 1) for x in d]),
                  flush=True)
    finally:
        if net is not None:
            harness.stop_net(net)
        ctl.stop()
        harness.mn_clean()


if __name__ == "__main__":
    main()
