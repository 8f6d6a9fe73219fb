"""pytest fixtures for the edgeflow end-to-end tests (Mininet + Open vSwitch
userspace datapath).

Run as root with Debian's interpreter:  /usr/bin/python3 -m pytest -v mininet-tests

Options / environment:
  --baseline-only      run only the controller-less Open vSwitch RSTP halves
                       (failover / capacity baselines); skip everything that
                       needs edgeflow.
  EDGEFLOW_BIN         controller binary (default <repo>/target/release/edgeflow)
  EDGEFLOW_ARGS        extra flags for ``edgeflow run`` (e.g. "--lldp-interval-ms 500")
  MN_LOGLEVEL          Mininet log level (default "warning")
"""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import topos  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--baseline-only", action="store_true", default=False,
                     help="only run the controller-less RSTP baselines; skip edgeflow parts")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(request):
    for when in ("setup", "call"):
        rep = getattr(request.node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


@pytest.fixture(scope="session", autouse=True)
def ovs():
    if os.geteuid() != 0:
        pytest.exit("the Mininet tests must run as root", returncode=2)
    harness.ensure_ovs()
    yield


@pytest.fixture(autouse=True)
def clean_mininet(ovs):
    """Every test starts and ends with ``mn -c``."""
    harness.mn_clean()
    yield
    harness.mn_clean()


@pytest.fixture
def baseline_only(request):
    return request.config.getoption("--baseline-only")


@pytest.fixture
def edgeflow_factory(request, clean_mininet):
    """Returns start() -> harness.Edgeflow.  The process is stopped after
    the test; its log tail is printed when the test failed."""
    started = []

    def start(extra_args=()):
        if request.config.getoption("--baseline-only"):
            pytest.skip("--baseline-only: edgeflow part skipped")
        ctl = harness.Edgeflow(extra_args)
        started.append(ctl)
        ctl.start()
        return ctl

    yield start
    for ctl in started:
        died = ctl.proc is not None and ctl.proc.poll() is not None
        ctl.stop()
        if _failed(request) or died:
            print("\n----- edgeflow log tail (%s)%s -----\n%s----- end of edgeflow log -----"
                  % (ctl.logpath, " [process had exited with %s]" % ctl.proc.returncode
                     if died else "", ctl.tail()))
        elif not os.environ.get("EDGEFLOW_KEEP_LOGS"):
            ctl.cleanup()


@pytest.fixture
def edgeflow(edgeflow_factory):
    """A running edgeflow controller (OpenFlow on 127.0.0.1:6653, REST API on
    127.0.0.1:8080)."""
    return edgeflow_factory()


class Nets:
    """Builds Mininet nets and guarantees they are stopped."""

    def __init__(self, request):
        self.request = request
        self.nets = []

    def build(self, topo, controller=True, rstp=False):
        net = harness.build_net(topo, controller=controller, rstp=rstp)
        self.nets.append(net)
        return net

    def build_discovered(self, topo, pingall=True, label="[edgeflow] "):
        """Build ``topo`` under the running edgeflow and wait until the
        controller reports exactly its links and, with ``pingall``, until a
        pingall is lossless (so the controller knows every host)."""
        net = self.build(topo, controller=True)
        expected = topos.expected_links(net)
        ok, tj, _ = harness.wait_links(expected, timeout=30)
        assert ok, "links not discovered:\n" + harness.describe_link_diff(expected, tj)
        if pingall:
            loss, _ = harness.wait_pingall(net, timeout=20, label=label)
            assert loss == 0, "%spingall lost %.1f%%" % (label, loss)
        return net

    def stop(self, net):
        if net in self.nets:
            self.nets.remove(net)
            harness.stop_net(net)
        harness.mn_clean()

    def dump_state(self, net):
        """Save flows/groups/ports of every switch for a failed test."""
        os.makedirs(harness.RESULTS_DIR, exist_ok=True)
        path = os.path.join(harness.RESULTS_DIR, "%s-%s-switches.txt"
                            % (time.strftime("%Y%m%d-%H%M%S"),
                               self.request.node.name.replace("/", "_")[:80]))
        with open(path, "w") as f:
            for s in net.switches:
                for what in ("dump-flows", "dump-groups", "dump-ports-desc"):
                    out = harness.sh("ovs-ofctl -O OpenFlow13 %s %s" % (what, s.name)).stdout
                    f.write("### %s %s (dpid %s)\n%s\n" % (what, s.name, s.dpid, out))
        print("\nswitch state saved to %s" % path)


@pytest.fixture
def nets(request, edgeflow_factory):
    # depends on edgeflow_factory so that nets are stopped before the
    # controller is.
    n = Nets(request)
    yield n
    failed = _failed(request)
    for net in list(n.nets):
        if failed:
            try:
                n.dump_state(net)
            except Exception as e:  # noqa: BLE001
                print("could not dump switch state: %r" % e)
        harness.stop_net(net)
