"""The probes against a real network: two throw-away network namespaces of
our own joined by a veth, dnsmasq in the peer, the probes run in the first.

    hnprobe-<pid>-a  va 198.18.200.2/24 2001:db8:200::2/64
        |  default via 198.18.200.1 metric 426 and via 198.18.200.3 (nobody) metric 500,
        |  default via 198.18.200.9 in table 100 (not the main table),
        |  ::/0 via fe80::1%va metric 100 and via 2001:db8:200::1 metric 1024
    hnprobe-<pid>-b  vb 198.18.200.1/24 2001:db8:200::1/64 fe80::1/64, dnsmasq (REFUSED outside ok.probe.test)
    hnprobe-<pid>-c  lo only: no default route at all

Nothing here touches the root netns (links are made with ``ip -n``); the
namespaces and dnsmasq are removed in the fixture's teardown, also when a
test fails. Needs root, ``ip`` and ``dnsmasq``; independent of the lab
fixtures in conftest.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import probes

SBIN = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
IP = shutil.which("ip", path=SBIN)
DNSMASQ = shutil.which("dnsmasq", path=SBIN)

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(not IP or not DNSMASQ, reason="needs ip (iproute2) and dnsmasq"),
]

PREFIX = "hnprobe-%d" % os.getpid()
NS_A, NS_B, NS_C = PREFIX + "-a", PREFIX + "-b", PREFIX + "-c"
NOBODY = "198.18.200.253"  # in the subnet, nothing answers there

# Runs in a netns: reads a request on stdin, prints the results as JSON.
HELPER = textwrap.dedent("""
    import importlib, json, sys, time
    probes = importlib.import_module(sys.argv[1])
    req = json.load(sys.stdin)
    spec = probes.ProbeSpec.from_option(req.get("verify"))
    gws = probes.read_default_gateways() if req.get("gateways") is None else [tuple(g) for g in req["gateways"]]
    ctrl = probes.controller_address(req["environ"]) if "environ" in req else None
    start = time.monotonic()
    results = probes.run_probes(spec, req.get("servers", []), gws, ctrl)
    elapsed = time.monotonic() - start
    sock, raw = probes.icmp_socket(4)
    sock.close()
    json.dump({"results": results, "elapsed": elapsed, "gateways": gws, "budget": spec.budget(),
               "controller": ctrl, "raw_icmp": raw}, sys.stdout)
""")


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=30)


def in_ns(ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh(IP, "netns", "exec", ns, *args, check=check)  # type: ignore[arg-type]


class Pair:
    """The namespaces, and a way to run the probes in them."""

    def __init__(self, helper: Path) -> None:
        self.helper = helper
        self.dnsmasq: "subprocess.Popen[bytes] | None" = None

    def run(self, ns: str = NS_A, **request: Any) -> Dict[str, Any]:
        """Run :func:`probes.run_probes` inside ``ns``; results by name, plus the rest."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        proc = subprocess.run([IP, "netns", "exec", ns, sys.executable, str(self.helper), probes.__name__],
                              input=json.dumps(request), capture_output=True, text=True, timeout=60, env=env)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        out["by_name"] = {r["name"]: r for r in out["results"]}
        return out


def _sysctl(ns: str, *settings: str) -> None:
    in_ns(ns, "sysctl", "-qw", *settings)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("probes")
    helper = tmp / "probe_helper.py"
    helper.write_text(HELPER)
    made: List[str] = []
    the_pair = Pair(helper)
    try:
        for ns in (NS_A, NS_B, NS_C):
            sh(IP, "netns", "add", ns)  # type: ignore[arg-type]
            made.append(ns)
            # no duplicate address detection: addresses are usable at once
            _sysctl(ns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
            sh(IP, "-n", ns, "link", "set", "lo", "up")  # type: ignore[arg-type]
        sh(IP, "-n", NS_A, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", NS_B)  # type: ignore
        for ns, dev, addrs in ((NS_A, "va", ["198.18.200.2/24", "2001:db8:200::2/64"]),
                               (NS_B, "vb", ["198.18.200.1/24", "2001:db8:200::1/64", "fe80::1/64"])):
            for addr in addrs:
                sh(IP, "-n", ns, "addr", "add", addr, "dev", dev, "nodad")  # type: ignore[arg-type]
            sh(IP, "-n", ns, "link", "set", dev, "up")  # type: ignore[arg-type]
        for route in (["default", "via", "198.18.200.1", "metric", "426"],
                      ["default", "via", "198.18.200.3", "metric", "500"],
                      ["default", "via", "198.18.200.9", "table", "100"],
                      ["-6", "default", "via", "fe80::1", "dev", "va", "metric", "100"],
                      ["-6", "default", "via", "2001:db8:200::1", "metric", "1024"]):
            family = [route.pop(0)] if route[0] == "-6" else []
            sh(IP, *family, "-n", NS_A, "route", "add", *route)  # type: ignore[arg-type]
        for ns, dev in ((NS_A, "va"), (NS_B, "vb")):
            _wait_up(ns, dev)
        log = open(tmp / "dnsmasq.log", "wb")
        the_pair.dnsmasq = subprocess.Popen(
            [IP, "netns", "exec", NS_B, DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",  # type: ignore
             "--conf-file=/dev/null", "--port=53", "--interface=vb", "--bind-interfaces", "--log-queries",
             "--log-facility=-", "--address=/ok.probe.test/198.18.200.10"],
            stdout=log, stderr=subprocess.STDOUT)
        _wait_listening(the_pair.dnsmasq.pid, tmp / "dnsmasq.log")
        yield the_pair
    finally:
        if the_pair.dnsmasq is not None:  # `ip netns exec` execs, so this PID is dnsmasq's own
            the_pair.dnsmasq.terminate()
            try:
                the_pair.dnsmasq.wait(10)
            except subprocess.TimeoutExpired:
                the_pair.dnsmasq.kill()
                the_pair.dnsmasq.wait(10)
        for ns in made:
            sh(IP, "netns", "del", ns, check=False)  # type: ignore[arg-type]
        left = [ns for ns in made if os.path.exists("/run/netns/" + ns)]
        assert not left, "namespaces left behind: %s" % left


def _wait_up(ns: str, dev: str) -> None:
    """Until ``dev`` has carrier and a link-local address: the kernel's
    linkwatch reports a new veth's carrier up to 1 s late, and packets
    sent before that are lost (the first neighbour solicitation with them)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        link = sh(IP, "-n", ns, "-o", "link", "show", "dev", dev).stdout  # type: ignore[arg-type]
        addrs = sh(IP, "-n", ns, "-o", "-6", "addr", "show", "dev", dev, "scope", "link").stdout  # type: ignore
        if "state UP" in link and "NO-CARRIER" not in link and "fe80::" in addrs and "tentative" not in addrs:
            return
        time.sleep(0.05)
    raise AssertionError("%s in %s did not come up: %s" % (dev, ns, link))


def _wait_listening(pid: int, log: Path) -> None:
    """Until dnsmasq (``pid``) has UDP port 53 open in its netns (its /proc/PID/net/udp)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            table = Path("/proc/%d/net/udp" % pid).read_text() + Path("/proc/%d/net/udp6" % pid).read_text()
        except OSError:
            table = ""
        if any(line.split()[1].endswith(":0035") for line in table.splitlines()[1:] if len(line.split()) > 1):
            return
        time.sleep(0.05)
    raise AssertionError("dnsmasq did not start: %s" % log.read_text())


FAST = {"timeout": 0.5, "interval": 0.1, "attempts": 2}


def test_gateway_discovery_finds_every_default_of_the_main_table(pair: Pair) -> None:
    # BC-21: metric 426, several candidates, both families; table 100 is not the main table
    out = pair.run(verify={"dns": False, "controller": False, **FAST})
    assert [tuple(g) for g in out["gateways"]] == [("198.18.200.1", "va"), ("198.18.200.3", "va"),
                                                   ("fe80::1", "va"), ("2001:db8:200::1", "va")]
    got = out["by_name"]
    assert set(got) == {"gateway:198.18.200.1", "gateway:198.18.200.3", "gateway:fe80::1%va",
                        "gateway:2001:db8:200::1"}
    for name in ("gateway:198.18.200.1", "gateway:fe80::1%va", "gateway:2001:db8:200::1"):
        assert got[name]["ok"], got[name]
        assert got[name]["detail"].startswith("echo reply from"), got[name]
        assert got[name]["attempts"] == 1 and 0 < got[name]["latency"] < 0.5, got[name]
    dead = got["gateway:198.18.200.3"]
    assert not dead["ok"] and dead["attempts"] == 2 and dead["latency"] is None
    assert "no echo reply from 198.18.200.3" in dead["detail"] and "no complete neighbour entry" in dead["detail"]
    assert out["elapsed"] < out["budget"] + 0.3 and out["budget"] == pytest.approx(1.1)


@pytest.mark.parametrize("group_range, raw", [("1 0", True), ("0 2147483647", False)])
def test_icmp_works_with_a_raw_and_with_a_ping_socket(pair: Pair, group_range: str, raw: bool) -> None:
    _sysctl(NS_A, "net.ipv4.ping_group_range=" + group_range)
    try:
        out = pair.run(verify={"gateway": False, "dns": False, "controller": False, **FAST,
                               "targets": [{"host": "198.18.200.1"}, {"host": "2001:db8:200::1"},
                                           {"host": "fe80::1%va"}, {"host": NOBODY}]})
    finally:
        _sysctl(NS_A, "net.ipv4.ping_group_range=1 0")
    assert out["raw_icmp"] is raw
    got = out["by_name"]
    assert all(got["icmp:" + h]["ok"] for h in ("198.18.200.1", "2001:db8:200::1", "fe80::1%va")), got
    assert got["icmp:" + NOBODY]["ok"] is False and got["icmp:" + NOBODY]["kind"] == "icmp"


def test_gateway_that_drops_echo_answers_by_its_neighbour_entry(pair: Pair) -> None:
    _sysctl(NS_B, "net.ipv4.icmp_echo_ignore_all=1", "net.ipv6.icmp.echo_ignore_all=1")
    try:
        out = pair.run(verify={"dns": False, "controller": False, **FAST},
                       gateways=[["198.18.200.1", "va"], ["2001:db8:200::1", "va"]])
    finally:
        _sysctl(NS_B, "net.ipv4.icmp_echo_ignore_all=0", "net.ipv6.icmp.echo_ignore_all=0")
    v4, v6 = out["by_name"]["gateway:198.18.200.1"], out["by_name"]["gateway:2001:db8:200::1"]
    assert v4["ok"] and "neighbour entry complete" in v4["detail"] and " on va" in v4["detail"], v4
    assert v4["latency"] is None
    # no neighbour file for IPv6: echo only
    assert not v6["ok"] and "no echo reply" in v6["detail"], v6


def test_no_default_route_fails_fast(pair: Pair) -> None:
    start = time.monotonic()
    out = pair.run(ns=NS_C, verify={"dns": False, "controller": False})
    wall = time.monotonic() - start
    assert out["gateways"] == []
    got = out["by_name"]
    assert set(got) == {"gateway:ipv4", "gateway:ipv6"}
    assert got["gateway:ipv4"]["ok"] is False and got["gateway:ipv4"]["attempts"] == 0
    assert got["gateway:ipv4"]["detail"] == "no IPv4 default route in table 254"
    assert got["gateway:ipv6"]["detail"] == "no IPv6 default route in table 254"
    assert out["elapsed"] < 0.05
    assert wall < 1.0  # including Python's start in the netns


def test_dns_server_alive_even_when_refusing(pair: Pair) -> None:
    servers = ["198.18.200.1", "2001:db8:200::1", "fe80::1%va"]
    out = pair.run(verify={"gateway": False, "controller": False, **FAST}, servers=servers)
    for server in servers:
        r = out["by_name"]["dns:" + server]
        assert r["ok"] and r["kind"] == "dns" and r["target"] == server, r
        assert "answered (REFUSED)" in r["detail"], r  # dnsmasq without upstream refuses the root
        assert r["attempts"] == 1


def test_dns_server_that_does_not_exist_fails_within_the_bound(pair: Pair) -> None:
    out = pair.run(verify={"gateway": False, "controller": False, **FAST}, servers=[NOBODY, "198.18.200.1"])
    dead = out["by_name"]["dns:" + NOBODY]
    assert not dead["ok"] and dead["attempts"] == 2
    assert dead["detail"] == "no reply from %s within 0.5s" % NOBODY
    assert out["by_name"]["dns:198.18.200.1"]["ok"]
    # concurrent: both servers in one bound, attempts x timeout + interval
    assert 1.0 <= out["elapsed"] < out["budget"] + 0.3


def test_dns_names_resolve_only_with_an_answer(pair: Pair) -> None:
    out = pair.run(verify={"gateway": False, "controller": False, **FAST,
                           "dns_names": ["ok.probe.test", "elsewhere.example"]},
                   servers=["198.18.200.1", "2001:db8:200::1"])
    got = out["by_name"]
    for server in ("198.18.200.1", "2001:db8:200::1"):
        good, bad = got["dns:ok.probe.test@" + server], got["dns:elsewhere.example@" + server]
        assert good["ok"] and "resolved ok.probe.test" in good["detail"], good
        assert not bad["ok"] and bad["detail"] == "%s did not resolve elsewhere.example: REFUSED" % server, bad
    assert "dns:" + "198.18.200.1" not in got  # with names, no separate liveness probe


def test_tcp_open_and_closed_port(pair: Pair) -> None:
    out = pair.run(verify={"gateway": False, "dns": False, "controller": False, **FAST,
                           "targets": [{"host": "198.18.200.1", "port": 53},
                                       {"host": "2001:db8:200::1", "port": 53},
                                       {"host": "198.18.200.1", "port": 9},
                                       {"host": NOBODY, "port": 53, "timeout": 0.3}]})
    got = out["by_name"]
    for name in ("tcp:198.18.200.1:53", "tcp:[2001:db8:200::1]:53"):
        assert got[name]["ok"] and got[name]["kind"] == "tcp" and got[name]["latency"] < 0.5, got[name]
    closed = got["tcp:198.18.200.1:9"]
    assert not closed["ok"] and closed["detail"] == "connect to 198.18.200.1:9: Connection refused", closed
    silent = got["tcp:%s:53" % NOBODY]
    assert not silent["ok"] and silent["detail"] == "no answer from %s:53 within 0.3s" % NOBODY
    assert out["elapsed"] < out["budget"] + 0.3


@pytest.mark.parametrize("client, server", [("198.18.200.1", "198.18.200.2"),
                                            ("2001:db8:200::1", "2001:db8:200::2")])
def test_controller_reachable(pair: Pair, client: str, server: str) -> None:
    out = pair.run(verify={"gateway": False, "dns": False, **FAST},
                   environ={"SSH_CONNECTION": "%s 50022 %s 22" % (client, server)})
    assert out["controller"] == [client, server, 22]
    got = out["by_name"]
    assert set(got) == {"controller-address:" + server, "controller-route:" + client, "controller-echo:" + client}
    assert all(r["ok"] and r["kind"] == "controller" for r in got.values()), got
    assert got["controller-route:" + client]["detail"] == "route to the controller %s from %s" % (client, server)


@pytest.mark.parametrize("client, server, prefix", [("198.18.200.1", "198.18.200.20", 24),
                                                    ("2001:db8:200::1", "2001:db8:200::20", 64)])
@pytest.mark.parametrize("nonlocal_bind", ["0", "1"])
def test_controller_address_gone_blocks_against_the_baseline(pair: Pair, client: str, server: str, prefix: int,
                                                             nonlocal_bind: str) -> None:
    # with ip_nonlocal_bind on, bind() succeeds for any address: the probe reads /proc instead
    _sysctl(NS_A, "net.ipv4.ip_nonlocal_bind=" + nonlocal_bind, "net.ipv6.ip_nonlocal_bind=" + nonlocal_bind)
    spec = {"gateway": False, "dns": False, **FAST}
    session = {"SSH_CONNECTION": "%s 50022 %s 22" % (client, server)}
    address = "%s/%d" % (server, prefix)
    try:
        sh(IP, "-n", NS_A, "addr", "add", address, "dev", "va", "nodad")  # type: ignore[arg-type]
        try:
            before = pair.run(verify=spec, environ=session)
        finally:  # the change under test: the address the session came in on is gone
            sh(IP, "-n", NS_A, "addr", "del", address, "dev", "va")  # type: ignore[arg-type]
        after = pair.run(verify=spec, environ=session)
    finally:
        _sysctl(NS_A, "net.ipv4.ip_nonlocal_bind=0", "net.ipv6.ip_nonlocal_bind=0")
    assert all(r["ok"] for r in before["results"]), before["results"]
    results, blocking = probes.compare_with_baseline(before["results"], after["results"])
    assert [r["name"] for r in blocking] == ["controller-address:" + server]
    gone = blocking[0]
    assert gone["baseline"] == "ok" and gone["ok"] is False and gone["attempts"] == 2
    if nonlocal_bind == "0":
        assert gone["detail"] == "the SSH session's address %s is not configured on this host " \
                                 "(or still tentative)" % server
    else:
        assert gone["detail"] == "%s is not configured on this host (ip_nonlocal_bind is on: checked /proc)" \
            % server
    # the controller itself is still there, reached from the host's other address
    by_name = {r["name"]: r for r in results}
    mine = "198.18.200.2" if ":" not in client else "2001:db8:200::2"
    assert by_name["controller-route:" + client]["detail"] == "route to the controller %s from %s" % (client, mine)
    assert by_name["controller-echo:" + client]["detail"].startswith("echo reply from " + client)


def test_controller_without_route(pair: Pair) -> None:
    out = pair.run(ns=NS_C, verify={"gateway": False, "dns": False, **FAST},
                   environ={"SSH_CONNECTION": "198.18.200.1 50022 127.0.0.1 22"})
    got = out["by_name"]
    assert got["controller-address:127.0.0.1"]["ok"]
    route = got["controller-route:198.18.200.1"]
    assert not route["ok"] and route["detail"] == "no usable route to the controller 198.18.200.1: " \
                                                  "Network is unreachable", route
    echo = got["controller-echo:198.18.200.1"]
    assert not echo["ok"] and "Network is unreachable" in echo["detail"], echo
    assert out["elapsed"] < out["budget"]  # failures without a route are immediate, only the interval waits


def test_many_silent_probes_take_one_bound_not_many(pair: Pair) -> None:
    silent = ["198.18.200.%d" % i for i in range(240, 248)]
    out = pair.run(verify={"gateway": False, "controller": False, **FAST,
                           "targets": [{"host": h} for h in silent] + [{"host": NOBODY, "port": 22}]},
                   servers=[NOBODY, "2001:db8:200::253"])
    assert len(out["results"]) == 11 and not any(r["ok"] for r in out["results"])
    assert all(r["attempts"] == 2 for r in out["results"])
    # 11 probes of 2 x 0.5 s + 0.1 s each: concurrently about 1.1 s, one after another 12 s
    assert out["budget"] == pytest.approx(1.1)
    assert 1.0 <= out["elapsed"] < out["budget"] + 0.3
