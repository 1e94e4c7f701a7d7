"""Probes: the pure parts (packets, /proc parsing, SSH_CONNECTION, the
option, baseline comparison). The network side is in
tests/integration/test_probes_netns.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import probes
from ansible_collections.hostnet.nm.plugins.module_utils.files import read_text
from ansible_collections.hostnet.nm.plugins.module_utils.probes import Controller, ProbeSpec
from ansible_collections.hostnet.nm.plugins.module_utils.verify import resolv_conf_servers


# ---------------------------------------------------------------- ICMP
def test_inet_checksum_rfc1071_example() -> None:
    # RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, whose complement is 220d
    assert probes.inet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    assert probes.inet_checksum(b"\x01") == 0xFEFF  # an odd byte is padded with zero
    assert probes.inet_checksum(b"") == 0xFFFF


def test_echo_request_ipv4_bytes() -> None:
    # 0800 + 0000 + 1234 + 0001 = 1a35 -> e5ca; with "abcd" (6162 + 6364): defb -> 2104
    assert probes.echo_request(4, 0x1234, 1, b"") == bytes.fromhex("0800e5ca12340001")
    packet = probes.echo_request(4, 0x1234, 1, b"abcd")
    assert packet == bytes.fromhex("0800210412340001") + b"abcd"
    assert probes.inet_checksum(packet) == 0  # a correct checksum sums to zero


def test_echo_request_ipv6_leaves_the_checksum_to_the_kernel() -> None:
    assert probes.echo_request(6, 0xBEEF, 7, b"xy") == bytes.fromhex("80000000beef0007") + b"xy"


def test_parse_echo_reply() -> None:
    # 0000 + 1234 + 0001 + 6162 + 6364 = d6fb -> 2904
    reply = bytes.fromhex("0000290412340001") + b"abcd"
    assert probes.parse_echo_reply(reply, 4) == (0x1234, 1, b"abcd")
    ip_header = bytes.fromhex("4500002000004000400100000a0000010a000002")  # IHL 5: 20 bytes
    assert probes.parse_echo_reply(ip_header + reply, 4, ip_header=True) == (0x1234, 1, b"abcd")
    assert probes.parse_echo_reply(bytes.fromhex("0000290512340001") + b"abcd", 4) is None  # bad checksum
    assert probes.parse_echo_reply(probes.echo_request(4, 0x1234, 1, b"abcd"), 4) is None  # a request
    assert probes.parse_echo_reply(bytes.fromhex("030100000000"), 4) is None  # short, unreachable
    assert probes.parse_echo_reply(bytes.fromhex("81000000beef0007") + b"xy", 6) == (0xBEEF, 7, b"xy")
    assert probes.parse_echo_reply(bytes.fromhex("88000000") + bytes(20), 6) is None  # neighbour advert


# ---------------------------------------------------------------- DNS
QUESTION_WWW_A = bytes.fromhex("03777777036c616204746573740000010001")


def test_dns_query_bytes() -> None:
    assert probes.dns_query(0x1234, "www.lab.test", probes.DNS_TYPE_A) == \
        bytes.fromhex("123401000001000000000000") + QUESTION_WWW_A
    assert probes.dns_query(0x1234, "www.lab.test.", 1) == probes.dns_query(0x1234, "www.lab.test", 1)
    assert probes.dns_query(0xABCD, ".", probes.DNS_TYPE_NS) == bytes.fromhex("abcd01000001000000000000" + "0000020001")


@pytest.mark.parametrize("name", ["a..b", "-" * 64 + ".test", "ä.test", ("a" * 63 + ".") * 4 + "test"])
def test_encode_dns_name_rejects(name: str) -> None:
    with pytest.raises(ValueError, match="is not a valid DNS name"):
        probes.encode_dns_name(name)


def test_parse_dns_reply_refused_nxdomain_and_answer() -> None:
    refused = bytes.fromhex("123481850001000000000000") + QUESTION_WWW_A
    assert probes.parse_dns_reply(refused) == {"id": 0x1234, "rcode": 5, "rcode_name": "REFUSED",
                                               "question": ("www.lab.test", 1), "answers": [],
                                               "truncated": False}
    nxdomain = bytes.fromhex("beef81830001000000000000") + QUESTION_WWW_A
    assert probes.parse_dns_reply(nxdomain)["rcode_name"] == "NXDOMAIN"
    # one A record, its name a pointer to the question (offset 12): 198.18.200.10, TTL 60
    answer = bytes.fromhex("c00c000100010000003c0004c612c80a")
    ok = probes.parse_dns_reply(bytes.fromhex("123481800001000100000000") + QUESTION_WWW_A + answer)
    assert (ok["rcode_name"], ok["question"], ok["answers"]) == ("NOERROR", ("www.lab.test", 1), [1])
    formerr = probes.parse_dns_reply(bytes.fromhex("123480010000000000000000"))  # no question section
    assert (formerr["rcode_name"], formerr["question"]) == ("FORMERR", None)


@pytest.mark.parametrize("data, why", [
    (bytes.fromhex("1234818500"), "shorter than a DNS header"),
    (bytes.fromhex("123401000001000000000000") + QUESTION_WWW_A, "not a response"),
    (bytes.fromhex("123481800001000000000000") + QUESTION_WWW_A[:-3], "question runs past the end"),
    (bytes.fromhex("123481800001000100000000") + QUESTION_WWW_A + bytes.fromhex("c00c0001000100"),
     "answer runs past the end"),
    (bytes.fromhex("123481800001000100000000") + QUESTION_WWW_A + bytes.fromhex("c00c000100010000003c0004c6"),
     "answer data runs past the end"),
    (bytes.fromhex("123481800001000000000000c00c00010001"), "bad compression pointer"),  # points at itself
])
def test_parse_dns_reply_malformed(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        probes.parse_dns_reply(data)


# ---------------------------------------------------------------- /proc
# IPv4 addresses are 32-bit words in host byte order: 198.18.21.1 = c6 12 15 01 -> "011512C6" on x86
PROC_ROUTE = """\
Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
br21\t00000000\t011512C6\t0003\t0\t0\t426\t00000000\t0\t0\t0
br21\t001512C6\t00000000\t0001\t0\t0\t426\t00FFFFFF\t0\t0\t0
eth1\t00000000\t010112C6\t0003\t0\t0\t100\t00000000\t0\t0\t0
*\t00000000\t00000000\t0201\t0\t0\t9999\t00000000\t0\t0\t0
ppp0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0
eth2\t000012C6\t010212C6\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0
"""

# dest plen src splen next-hop metric refcnt use flags dev; metric 0x64 = 100
PROC_IPV6_ROUTE = """\
00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8003700000000000000000001 00000064 00000001 00000000 00000003     eth1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe80000000000000020000fffe003701 0000001e 00000001 00000000 00000003     eth1
20010db8003700000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth1
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
"""


def test_parse_proc_route_little_endian() -> None:
    # the on-link 198.18.21.0/24, the unreachable default, the next-hop-less ppp0 and 198.18.0.0/16 are not defaults
    assert probes.parse_proc_route(PROC_ROUTE, "little") == [("198.18.21.1", "br21", 426), ("198.18.1.1", "eth1", 100)]


def test_parse_proc_route_big_endian_host() -> None:
    text = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n" \
           "br21\t00000000\tC6121501\t0003\t0\t0\t426\t00000000\n"
    assert probes.parse_proc_route(text, "big") == [("198.18.21.1", "br21", 426)]


def test_parse_proc_ipv6_route() -> None:
    assert probes.parse_proc_ipv6_route(PROC_IPV6_ROUTE) == [("2001:db8:37::1", "eth1", 100),
                                                             ("fe80::200:ff:fe00:3701", "eth1", 30)]


def _proc(tmp_path: Path, **files: str) -> str:
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


def test_read_default_gateways(tmp_path: Path) -> None:
    if probes.sys.byteorder != "little":
        pytest.skip("the fixture is written for a little-endian host")
    proc = _proc(tmp_path, net__route=PROC_ROUTE, net__ipv6_route=PROC_IPV6_ROUTE)
    # BC-21: every default of table 254, any metric, several candidates; IPv4 first, lowest metric first
    assert probes.read_default_gateways(proc) == [("198.18.1.1", "eth1"), ("198.18.21.1", "br21"),
                                                  ("fe80::200:ff:fe00:3701", "eth1"), ("2001:db8:37::1", "eth1")]


def test_read_default_gateways_none_is_immediate(tmp_path: Path) -> None:
    header = PROC_ROUTE.splitlines()[0] + "\n"
    start = time.monotonic()
    assert probes.read_default_gateways(_proc(tmp_path, net__route=header, net__ipv6_route="")) == []
    assert probes.read_default_gateways(str(tmp_path / "missing")) == []
    assert time.monotonic() - start < 0.1


def test_gateways_from_route_data() -> None:
    routes = [
        {"destination": "0.0.0.0/0", "next-hop-interface": "br21", "next-hop-address": "198.18.21.1",
         "metric": 426, "table-id": 254},
        {"destination": "0.0.0.0/0", "next-hop-interface": "eth9", "next-hop-address": "198.18.9.1",
         "table-id": 100},                                                            # not the main table
        {"destination": "198.18.0.0/16", "next-hop-interface": "eth1", "next-hop-address": "198.18.1.254"},
        {"destination": "0.0.0.0/0", "next-hop-interface": "eth1", "next-hop-address": "198.18.1.1",
         "metric": 100, "table-id": 0},                                               # 0 = main
        {"destination": "0.0.0.0/0", "next-hop-interface": "eth2", "next-hop-address": "198.18.2.1",
         "state": "absent"},
        {"destination": "0.0.0.0/0", "next-hop-interface": "ppp0"},                   # no next hop
        # BC-37: two IPv6 defaults with the same metric, one via a link-local address
        {"destination": "::/0", "next-hop-interface": "eth1", "next-hop-address": "2001:db8:37::1", "metric": 100},
        {"destination": "::/0", "next-hop-interface": "eth1", "next-hop-address": "fe80::200:ff:fe00:3701",
         "metric": 100, "table-id": 254},
        {"destination": "::/0", "next-hop-interface": "eth1", "next-hop-address": "2001:db8:37::1", "metric": 100},
    ]
    assert probes.default_gateways(routes) == [("198.18.1.1", "eth1"), ("198.18.21.1", "br21"),
                                               ("2001:db8:37::1", "eth1"), ("fe80::200:ff:fe00:3701", "eth1")]
    assert probes.gateways(routes) == ["198.18.1.1", "198.18.21.1", "2001:db8:37::1", "fe80::200:ff:fe00:3701%eth1"]
    assert probes.gateways([]) == []


def test_resolv_conf_servers(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# Generated by NetworkManager\nsearch lab.test\nnameserver 198.18.1.1\n"
                    "; nameserver 192.0.2.9\nnameserver fe80::53%eth1\noptions timeout:1\nnameserver 2001:db8::53\n")
    assert resolv_conf_servers(read_text(str(conf))) == ["198.18.1.1", "fe80::53%eth1", "2001:db8::53"]
    assert resolv_conf_servers(read_text(str(tmp_path / "missing"))) == []


def test_parse_proc_arp_and_neighbour_check(tmp_path: Path) -> None:
    arp = ("IP address       HW type     Flags       HW address            Mask     Device\n"
           "198.18.1.1       0x1         0x2         52:54:00:12:34:56     *        eth1\n"
           "198.18.1.7       0x1         0x0         00:00:00:00:00:00     *        eth1\n"
           "198.18.2.1       0x1         0x6         52:54:00:ab:cd:ef     *        eth2\n")
    assert probes.parse_proc_arp(arp) == {("198.18.1.1", "eth1"): "52:54:00:12:34:56",
                                          ("198.18.2.1", "eth2"): "52:54:00:ab:cd:ef"}
    proc = _proc(tmp_path, net__arp=arp)
    assert probes.neighbour_check("198.18.1.1", "eth1", proc) == "52:54:00:12:34:56 on eth1"
    assert probes.neighbour_check("198.18.1.1", "eth2", proc) is None   # another link
    assert probes.neighbour_check("198.18.1.7", "", proc) is None       # incomplete
    assert probes.neighbour_check("198.18.2.1", "", proc) == "52:54:00:ab:cd:ef on eth2"


FIB_TRIE = """\
Main:
  +-- 0.0.0.0/0 2 0 2
     +-- 198.18.200.0/24 2 0 2
        +-- 198.18.200.0/30 2 0 2
           |-- 198.18.200.0
              /24 link UNICAST
           |-- 198.18.200.2
              /32 host LOCAL
        |-- 198.18.200.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 2 0 2
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
"""
# address ifindex prefix scope flags name; flags 0x40 tentative, 0x08 DAD failed, 0x80 permanent
IF_INET6 = """\
20010db8020000000000000000000002 02 40 00 80       va
20010db8020000000000000000000003 02 40 00 c0       va
20010db8020000000000000000000004 02 40 00 88       va
fe800000000000000000000000000002 02 40 20 80       va
"""


def test_local_address_from_proc(tmp_path: Path) -> None:
    proc = _proc(tmp_path, net__fib_trie=FIB_TRIE, net__if_inet6=IF_INET6)
    assert probes.local_address("198.18.200.2", proc)
    assert probes.local_address("127.0.0.53", proc)             # all of 127.0.0.0/8 is local
    assert not probes.local_address("198.18.200.0", proc)        # the subnet, not an address
    assert not probes.local_address("198.18.200.255", proc)      # broadcast
    assert probes.local_address("2001:db8:200::2", proc)
    assert not probes.local_address("2001:db8:200::3", proc)     # tentative
    assert not probes.local_address("2001:db8:200::4", proc)     # DAD failed
    assert probes.local_address("fe80::2%va", proc)
    assert not probes.local_address("2001:db8:200::9", proc)


# ---------------------------------------------------------------- controller
@pytest.mark.parametrize("value, expected", [
    ("198.18.0.254 51234 198.18.0.11 22", Controller("198.18.0.254", "198.18.0.11", 22)),
    ("2001:db8::fe 51234 2001:db8::11 2222", Controller("2001:db8::fe", "2001:db8::11", 2222)),
    ("::ffff:198.18.0.254 51234 ::ffff:198.18.0.11 22", Controller("198.18.0.254", "198.18.0.11", 22)),
    ("fe80::fe%mgmt0 51234 fe80::11%mgmt0 22", Controller("fe80::fe%mgmt0", "fe80::11%mgmt0", 22)),
    ("198.18.0.254 51234 22", None),                 # SSH_CLIENT's shape, no server address
    ("host.example 51234 198.18.0.11 22", None),
    ("198.18.0.254 51234 198.18.0.11 0", None),
    ("", None),
])
def test_parse_ssh_connection(value: str, expected: object) -> None:
    assert probes.parse_ssh_connection(value) == expected


def test_controller_address_from_the_environment_or_a_parent(tmp_path: Path) -> None:
    session = "198.18.0.254 51234 198.18.0.11 22"
    assert probes.controller_address({"SSH_CONNECTION": session}) == ("198.18.0.254", "198.18.0.11", 22)
    # become: sudo dropped the variable; the login shell two levels up still has it
    proc = _proc(tmp_path, **{"300__status": "Name:\tpython3\nPPid:\t200\n",
                              "200__status": "Name:\tsudo\nPPid:\t100\n",
                              "200__environ": "HOME=/root\0",
                              "100__status": "Name:\tsh\nPPid:\t1\n",
                              "100__environ": "USER=ops\0SSH_CONNECTION=%s\0SHELL=/bin/sh\0" % session})
    assert probes.controller_address({}, proc=proc, pid=300) == Controller("198.18.0.254", "198.18.0.11", 22)
    assert probes.controller_address({}, proc=proc, pid=100) is None  # a local run: no session above us
    (tmp_path / "100" / "status").write_text("PPid:\t300\n")            # a cycle ends too
    (tmp_path / "100" / "environ").write_text("USER=ops\0")
    assert probes.controller_address({}, proc=proc, pid=300) is None


# ---------------------------------------------------------------- option
def test_spec_defaults() -> None:
    spec = ProbeSpec.from_option(None)
    assert spec.as_dict() == {"gateway": True, "dns": True, "dns_names": [], "targets": [], "controller": True,
                              "timeout": 2.0, "interval": 0.5, "attempts": 3}
    assert spec.budget() == pytest.approx(3 * 2.0 + 2 * 0.5)
    assert ProbeSpec.from_option({}).as_dict() == spec.as_dict()


def test_spec_parses_templated_values_and_canonical_hosts() -> None:
    spec = ProbeSpec.from_option({"gateway": "no", "dns": "yes", "controller": False, "timeout": "1.5",
                                  "attempts": "2", "interval": 0, "dns_names": [" www.lab.test "],
                                  "targets": [{"host": "2001:DB8::0001", "port": "443"},
                                              {"host": "fe80::1%eth1", "timeout": 4},
                                              {"host": "198.18.1.1", "port": None}]})
    assert (spec.gateway, spec.dns, spec.controller) == (False, True, False)
    assert (spec.timeout, spec.attempts, spec.interval, spec.dns_names) == (1.5, 2, 0.0, ["www.lab.test"])
    assert spec.targets == [{"host": "2001:db8::1", "port": 443, "timeout": 1.5},
                            {"host": "fe80::1%eth1", "port": None, "timeout": 4.0},
                            {"host": "198.18.1.1", "port": None, "timeout": 1.5}]
    assert spec.budget() == pytest.approx(2 * 4.0)  # the slowest target sets the bound


@pytest.mark.parametrize("option, message", [
    ("all", "verify: expected a mapping of probe settings, got 'all'"),
    ({"gateways": True}, "verify.gateways: unknown key; expected one of gateway, dns, dns_names, targets, "
                         "controller, timeout, interval, attempts"),
    ({"gateway": "maybe"}, "verify.gateway: expected a boolean, got 'maybe'"),
    ({"dns": 1}, "verify.dns: expected a boolean, got 1"),
    ({"timeout": 0}, "verify.timeout: 0 is out of range, expected more than 0 to 60"),
    ({"timeout": "soon"}, "verify.timeout: expected a number of seconds, got 'soon'"),
    ({"timeout": True}, "verify.timeout: expected a number of seconds, got True"),
    ({"interval": -1}, "verify.interval: -1 is out of range, expected 0 to 60"),
    ({"attempts": 0}, "verify.attempts: 0 is out of range, expected 1 to 20"),
    ({"attempts": 2.5}, "verify.attempts: expected a whole number, got 2.5"),
    ({"dns_names": "www.lab.test"}, "verify.dns_names: expected a list, got 'www.lab.test'"),
    ({"dns_names": ["ok.test", ""]}, "verify.dns_names[1]: expected a host name, got ''"),
    ({"dns_names": ["a..b"]}, "verify.dns_names[0]: 'a..b' is not a valid DNS name (label '')"),
    ({"targets": {"host": "198.18.1.1"}}, "verify.targets: expected a list"),
    ({"targets": ["198.18.1.1"]}, "verify.targets[0]: expected a mapping with host, port and timeout"),
    ({"targets": [{"port": 22}]}, "verify.targets[0].host: required (an IPv4 or IPv6 address)"),
    ({"targets": [{"host": "198.18.1.1"}, {"host": "gw.lab.test"}]},
     "verify.targets[1].host: expected an IPv4 or IPv6 address (host names are not resolved), got 'gw.lab.test'"),
    ({"targets": [{"host": "fe80::1"}]},
     "verify.targets[0].host: link-local address fe80::1 needs its interface, e.g. fe80::1%eth1"),
    ({"targets": [{"host": "198.18.1.1%eth1"}]},
     "verify.targets[0].host: '198.18.1.1%eth1': an %interface goes only with an IPv6 link-local address"),
    ({"targets": [{"host": "198.18.1.1", "port": 70000}]},
     "verify.targets[0].port: 70000 is out of range, expected 1 to 65535"),
    ({"targets": [{"host": "198.18.1.1", "port": True}]}, "verify.targets[0].port: expected a whole number"),
    ({"targets": [{"host": "198.18.1.1", "timeout": 0}]}, "verify.targets[0].timeout: 0 is out of range"),
    ({"targets": [{"host": "198.18.1.1", "proto": "udp"}]},
     "verify.targets[0].proto: unknown key; expected host, port, timeout"),
])
def test_spec_errors_name_the_key(option: object, message: str) -> None:
    with pytest.raises(ValueError) as err:
        ProbeSpec.from_option(option)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)


# ---------------------------------------------------------------- planning and running without a network
def test_probe_names_are_unique_and_stable() -> None:
    spec = ProbeSpec.from_option({"dns_names": ["www.lab.test"], "targets": [
        {"host": "2001:db8::1", "port": 443}, {"host": "198.18.1.1"}, {"host": "198.18.1.1"}]})
    planned = probes.plan_probes(spec, ["198.18.1.1", "fe80::53%eth1"],
                                 [("198.18.1.1", "eth1"), ("fe80::1", "eth1")],
                                 Controller("198.18.0.254", "198.18.0.11", 22))
    assert [(p.name, p.kind, p.target) for p in planned] == [
        ("gateway:198.18.1.1", "gateway", "198.18.1.1"),
        ("gateway:fe80::1%eth1", "gateway", "fe80::1%eth1"),
        ("dns:www.lab.test@198.18.1.1", "dns", "198.18.1.1"),
        ("dns:www.lab.test@fe80::53%eth1", "dns", "fe80::53%eth1"),
        ("tcp:[2001:db8::1]:443", "tcp", "[2001:db8::1]:443"),
        ("icmp:198.18.1.1", "icmp", "198.18.1.1"),
        ("controller-address:198.18.0.11", "controller", "198.18.0.11"),
        ("controller-route:198.18.0.254", "controller", "198.18.0.254"),
        ("controller-echo:198.18.0.254", "controller", "198.18.0.254"),
    ]


def test_nothing_to_probe_fails_fast_with_the_reason() -> None:
    # BC-21: no default route is a clear, immediate failure, never a loop
    start = time.monotonic()
    results = probes.run_probes(ProbeSpec.from_option({"timeout": 5, "attempts": 5}), [], [], None)
    assert time.monotonic() - start < 0.05
    assert results == [
        {"name": "gateway:ipv4", "kind": "gateway", "target": "", "ok": False, "latency": None,
         "detail": "no IPv4 default route in table 254", "attempts": 0},
        {"name": "gateway:ipv6", "kind": "gateway", "target": "", "ok": False, "latency": None,
         "detail": "no IPv6 default route in table 254", "attempts": 0},
        {"name": "dns", "kind": "dns", "target": "", "ok": False, "latency": None,
         "detail": "no name server configured", "attempts": 0},
    ]  # and no controller probes: not over SSH
    assert probes.run_probes(ProbeSpec.from_option({"gateway": False, "dns": False}), [], [], None) == []


# ---------------------------------------------------------------- baseline
def _r(name: str, ok: bool) -> dict:
    return {"name": name, "kind": name.split(":")[0], "target": "", "ok": ok, "latency": None, "detail": "",
            "attempts": 1}


def test_compare_with_baseline() -> None:
    before = [_r("gateway:198.18.1.1", True), _r("gateway:ipv6", False), _r("dns:198.18.1.53", False),
              _r("tcp:198.18.1.1:443", True), _r("icmp:198.18.1.9", True)]
    after = [_r("gateway:198.18.1.1", False),   # passed before: blocks
             _r("gateway:ipv6", False),         # failed before too: reported, does not block
             _r("dns:198.18.1.53", True),       # fixed by the change
             _r("tcp:198.18.1.1:443", True),
             _r("gateway:198.18.2.1", False),   # new and failing: blocks
             _r("dns:198.18.2.53", True)]       # new and fine
    results, blocking = probes.compare_with_baseline(before, after)
    assert [(r["name"], r["ok"], r["baseline"]) for r in results] == [
        ("gateway:198.18.1.1", False, "ok"), ("gateway:ipv6", False, "failed"), ("dns:198.18.1.53", True, "failed"),
        ("tcp:198.18.1.1:443", True, "ok"), ("gateway:198.18.2.1", False, "new"), ("dns:198.18.2.53", True, "new")]
    assert [r["name"] for r in blocking] == ["gateway:198.18.1.1", "gateway:198.18.2.1"]
    assert "baseline" not in after[0]  # the inputs are left alone
    assert probes.compare_with_baseline([], []) == ([], [])
