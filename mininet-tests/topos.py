"""Mininet topologies for the edgeflow end-to-end tests.

Every switch gets an explicit, unique 16-hex-digit dpid (Mininet derives a
dpid from the digits in the switch name, which collides for names such as
``c1``/``a11``).  Switch names are kept short so that interface names
(``<switch>-eth<N>``) stay within Linux's 15-character limit.

Every topology takes ``bw`` (Mbit/s).  When it is given, every link (host and
inter-switch) is a ``TCLink`` with that bandwidth (htb shaping; no netem, so no
delay/loss parameters).  Build the net with ``link=TCLink`` for the limit to
take effect (``harness.build_net`` does this when ``topo.bw`` is set).
"""

from mininet.topo import Topo


def dpid_str(n):
    """A dpid as the 16-hex-digit string that both Mininet and the edgeflow
    REST API use."""
    return "%016x" % n


class _BaseTopo(Topo):
    """Common helpers: link options from ``bw`` and a record of roles."""

    #: short name used in test ids
    label = "base"

    def __init__(self, bw=None, **kwargs):
        self.bw = bw
        # switch name -> role ("core", "agg", "edge", ...); pod for fat-tree
        self.role = {}
        self.pod = {}
        Topo.__init__(self, bw=bw, **kwargs)

    def _lopts(self):
        return {"bw": self.bw} if self.bw else {}

    def sw(self, name, num, role="switch", pod=None):
        self.role[name] = role
        if pod is not None:
            self.pod[name] = pod
        return self.addSwitch(name, dpid=dpid_str(num))

    def host(self, name, pod=None):
        if pod is not None:
            self.pod[name] = pod
        return self.addHost(name)

    def link(self, a, b):
        return self.addLink(a, b, **self._lopts())


class LinearTopo(_BaseTopo):
    """s1 - s2 - s3 - s4, one host (h1..h4) on each switch."""

    label = "linear4"

    def build(self, bw=None, n=4, **_kwargs):
        prev = None
        for i in range(1, n + 1):
            s = self.sw("s%d" % i, i)
            h = self.host("h%d" % i)
            self.link(h, s)
            if prev is not None:
                self.link(prev, s)
            prev = s

    #: two hosts at the ends of the line
    distant_pair = ("h1", "h4")


class TreeTopo(_BaseTopo):
    """Binary tree of depth 3: s1 root; s2,s3; s4..s7 leaves; two hosts on
    each leaf (h1..h8).  Switches are numbered breadth-first (dpid = number).
    """

    label = "tree3x2"

    def build(self, bw=None, depth=3, fanout=2, **_kwargs):
        self._snum = 0
        self._hnum = 0
        self._add_tree(depth, fanout)

    def _add_tree(self, depth, fanout):
        # breadth-first numbering so that s1 is the root, s2/s3 the next level
        levels = [[]]
        self._snum += 1
        root = self.sw("s%d" % self._snum, self._snum)
        levels[0].append(root)
        for _ in range(1, depth):
            nxt = []
            for parent in levels[-1]:
                for _ in range(fanout):
                    self._snum += 1
                    s = self.sw("s%d" % self._snum, self._snum)
                    self.link(parent, s)
                    nxt.append(s)
            levels.append(nxt)
        for leaf in levels[-1]:
            for _ in range(fanout):
                self._hnum += 1
                h = self.host("h%d" % self._hnum)
                self.link(leaf, h)

    distant_pair = ("h1", "h8")


class FatTreeTopo(_BaseTopo):
    """k=4 fat-tree: 4 core (c1..c4), 4 pods of 2 aggregation (a<p>1, a<p>2)
    and 2 edge switches (e<p>1, e<p>2), 2 hosts per edge switch
    (h<p><e><n>, e.g. h012 = pod 0, edge 1, host 2) -> 20 switches, 16 hosts.

    Wiring: every edge switch links both aggregation switches of its pod;
    aggregation switch j (1 or 2) of every pod links cores 2j-1 and 2j.
    Between hosts of different pods there are 4 equal-cost paths.

    dpids: core 0x0c0i, aggregation 0x0a<p><j>, edge 0x0e<p><j>.
    """

    label = "fattree4"
    K = 4

    def build(self, bw=None, **_kwargs):
        k = self.K
        half = k // 2
        cores = [self.sw("c%d" % i, 0x0C00 + i, "core") for i in range(1, half * half + 1)]
        self.cores = cores
        for p in range(k):
            aggs = [self.sw("a%d%d" % (p, j), 0x0A00 + p * 16 + j, "agg", p)
                    for j in range(1, half + 1)]
            edges = [self.sw("e%d%d" % (p, j), 0x0E00 + p * 16 + j, "edge", p)
                     for j in range(1, half + 1)]
            # hosts first so that host ports are the low port numbers
            for ei, e in enumerate(edges, start=1):
                for n in range(1, half + 1):
                    h = self.host("h%d%d%d" % (p, ei, n), pod=p)
                    self.link(e, h)
            for e in edges:
                for a in aggs:
                    self.link(e, a)
            for j, a in enumerate(aggs):
                for c in cores[j * half:(j + 1) * half]:
                    self.link(a, c)

    distant_pair = ("h011", "h322")

    def hosts_in_pod(self, p):
        return sorted(h for h in self.hosts() if self.pod.get(h) == p)


class EdgeCloudTopo(_BaseTopo):
    """Edge-cloud shape: two cloud core switches (k1, k2) linked to each
    other, four edge sites.  Site i has two switches, x<i>a and x<i>b, linked
    to each other; x<i>a links core k1 and x<i>b links core k2, so each site
    is dual-homed (one uplink per site switch).  One host on each site switch:
    h<i>a on x<i>a and h<i>b on x<i>b (two hosts per site, 8 hosts).

    Loops: k1-k2 plus every site's a-b link close a cycle through both
    cores, so flooding must be restricted to a spanning tree, and between two
    sites there are two equal-cost paths (via k1 or via k2) for some pairs.

    dpids: cores 0x0c01/0x0c02, site switches 0x05<i>a / 0x05<i>b.
    """

    label = "edgecloud"

    def build(self, bw=None, sites=4, **_kwargs):
        k1 = self.sw("k1", 0x0C01, "core")
        k2 = self.sw("k2", 0x0C02, "core")
        self.link(k1, k2)
        for i in range(1, sites + 1):
            a = self.sw("x%da" % i, 0x0500 + i * 16 + 0xA, "site", i)
            b = self.sw("x%db" % i, 0x0500 + i * 16 + 0xB, "site", i)
            self.link(self.host("h%da" % i, pod=i), a)
            self.link(self.host("h%db" % i, pod=i), b)
            self.link(a, b)
            self.link(a, k1)
            self.link(b, k2)

    distant_pair = ("h1a", "h4b")


class TwoSitesTopo(_BaseTopo):
    """Two sites joined by four link-disjoint paths: sA - m<i> - sB for
    i = 1..4.  Hosts hA1..hA4 on sA, hB1..hB4 on sB; bgA on m1 and bgB on
    sB make background traffic over the m1 path only.

    dpids: sA 0x0a01, sB 0x0a02, m<i> 0x0b0<i>.
    """

    label = "twosites"

    def build(self, bw=None, **_kwargs):
        sa = self.sw("sA", 0x0A01, "site")
        sb = self.sw("sB", 0x0A02, "site")
        for i in range(1, 5):
            m = self.sw("m%d" % i, 0x0B00 + i, "middle")
            self.link(sa, m)
            self.link(m, sb)
            self.link(self.host("hA%d" % i), sa)
            self.link(self.host("hB%d" % i), sb)
        self.link(self.host("bgA"), "m1")
        self.link(self.host("bgB"), sb)


TOPOS = {
    "linear4": LinearTopo,
    "tree3x2": TreeTopo,
    "fattree4": FatTreeTopo,
    "edgecloud": EdgeCloudTopo,
}


def switch_dpid(node):
    """16-hex-digit dpid of a running Mininet switch."""
    return dpid_str(int(node.dpid, 16))


def expected_links(net):
    """The real inter-switch links of a running Mininet net, as a set of
    ``frozenset({(dpid, port_no), (dpid, port_no)})`` (undirected; one entry
    per physical link).  Port numbers come from the running net
    (``node.ports[intf]``, which Mininet also passes to OVS as
    ``ofport_request``)."""
    switches = set(net.switches)
    links = set()
    for link in net.links:
        i1, i2 = link.intf1, link.intf2
        n1, n2 = i1.node, i2.node
        if n1 in switches and n2 in switches:
            links.add(frozenset({(switch_dpid(n1), n1.ports[i1]),
                                 (switch_dpid(n2), n2.ports[i2])}))
    return links


def inter_switch_ports(net):
    """{switch name: [port_no, ...]} for every port that faces another
    switch."""
    switches = set(net.switches)
    out = {s.name: [] for s in net.switches}
    for link in net.links:
        i1, i2 = link.intf1, link.intf2
        if i1.node in switches and i2.node in switches:
            out[i1.node.name].append(i1.node.ports[i1])
            out[i2.node.name].append(i2.node.ports[i2])
    return out


def port_peer(net):
    """{(switch name, port_no): (peer node name, peer port_no)} for every
    switch port in the net."""
    peer = {}
    for link in net.links:
        i1, i2 = link.intf1, link.intf2
        n1, n2 = i1.node, i2.node
        peer[(n1.name, n1.ports[i1])] = (n2.name, n2.ports[i2])
        peer[(n2.name, n2.ports[i2])] = (n1.name, n1.ports[i1])
    return peer
