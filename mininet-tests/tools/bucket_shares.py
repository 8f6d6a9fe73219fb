#!/usr/bin/python3
"""How edgeflow's multipath spreads connections over the paths: the
two-site topology of test_multipath.py (sA and sB joined by four paths,
every path weighted 25), 4 host pairs x 32 connections at 40 kbit/s each
(far below the links' 10 Mbit/s, so nothing is lost), alternately TCP and
UDP; prints the share of the bytes of sA's group for sB each path carried
(the counters of the paths' groups, which both kinds cross).

TCP is spread by the select group: Open vSwitch hashes the addresses, the
protocol and, for TCP and SCTP only, the ports. UDP is spread by
edgeflow's flows on the low bits of the source port (through the select
group, all UDP flows of one host pair would take the same path).

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


def path_bytes(net, group_id):
    """Bytes each path group of sA's select group `group_id` forwarded, in
    bucket order."""
    paths = [g for _, g in tm.select_buckets(net, group_id)[0]]
    stats = net.get("sA").cmd("ovs-ofctl -O OpenFlow13 dump-group-stats sA")
    counted = {int(i): int(b) for i, b in re.findall(
        r"group_id=(\d+),duration=[^,]*,ref_count=\d+,packet_count=\d+,byte_count=(\d+)", stats)}
    return [counted[p] for p in paths]


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
            before = path_bytes(net, group_id)
            harness.iperf3_parallel(net, tm.site_pairs(), duration=4, streams=32, extra=extra)
            d = [b - a for a, b in zip(before, path_bytes(net, group_id))]
            print("%s: path shares %s %%" % ("UDP" if udp else "TCP",
                                              [round(100 * x / max(sum(d), 1), 1) for x in d]),
                  flush=True)
    finally:
        if net is not None:
            harness.stop_net(net)
        ctl.stop()
        harness.mn_clean()


if __name__ == "__main__":
    main()
