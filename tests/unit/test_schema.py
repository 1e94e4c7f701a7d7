# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The strict schema: for every schema code, a document that triggers it (code
and path asserted) and a close neighbour that parses; canonical forms; the
"unsupported: <path>" contract."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List, Tuple

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import schema
from ansible_collections.hostnet.nm.plugins.module_utils.schema import CODES, parse_document


def addr(ip: str, extra: str = ", prefix-length: 24", family: int = 4) -> str:
    """A document with one address on eth1 (``extra`` completes the address entry)."""
    return "interfaces: [{name: eth1, ipv%d: {enabled: true, address: [{ip: '%s'%s}]}}]" % (family, ip, extra)


def route(extra: str) -> str:
    """A document with one route (eth1)."""
    return "routes: {config: [{next-hop-interface: eth1, %s}]}" % extra


MACSEC_KEY = "00112233445566778899aabbccddeeff"  # 16 bytes in hex: a valid MKA CAK, and a valid CKN

# (code, path, document that triggers it, neighbour that parses)
SCHEMA_CASES: List[Tuple[str, str, str, str]] = [
    ("BRIDGE_VLAN_INVALID", "interfaces[0].bridge.port[0].vlan",
     "interfaces: [{name: br42, type: linux-bridge, bridge: {port: [{name: eth1, vlan: {mode: access}}]}}]",
     "interfaces: [{name: br42, type: linux-bridge, bridge: {port: [{name: eth1, vlan: {mode: access, tag: 867}}]}}]"),
    ("BRIDGE_VLAN_INVALID", "interfaces[0].bridge.port[0].vlan.trunk-tags[0].id-range",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: eth1, vlan: {mode: trunk, "
     "trunk-tags: [{id-range: {min: 600, max: 500}}]}}]}}]",
     "interfaces: [{name: br0, type: linux-bridge, bridge: {port: [{name: eth1, vlan: {mode: trunk, "
     "trunk-tags: [{id-range: {min: 500, max: 600}}]}}]}}]"),
    ("TYPE_MISMATCH", "interfaces", "interfaces: {name: eth1}", "interfaces: [{name: eth1}]"),
    ("TYPE_MISMATCH", "interfaces[0].ipv4.enabled",
     "interfaces: [{name: eth1, ipv4: {enabled: 'yes'}}]", "interfaces: [{name: eth1, ipv4: {enabled: true}}]"),
    ("VALUE_OUT_OF_RANGE", "routes.config[0].metric",
     route("destination: 198.19.0.0/24, metric: -1"), route("destination: 198.19.0.0/24, metric: 0")),
    ("EMPTY_VALUE", "interfaces[0].name", "interfaces: [{name: ''}]", "interfaces: [{name: eth1}]"),
    ("BAD_VALUE", "interfaces[0].state", "interfaces: [{name: eth1, state: upp}]",
     "interfaces: [{name: eth1, state: up}]"),
    ("UNKNOWN_KEY", "interfaces[0].ipv4.enabeld", "interfaces: [{name: eth1, ipv4: {enabeld: true}}]",
     "interfaces: [{name: eth1, ipv4: {enabled: true}}]"),
    ("MISSING_KEY", "interfaces[0].name", "interfaces: [{type: ethernet}]",
     "interfaces: [{name: eth1, type: ethernet}]"),
    ("UNSUPPORTED", "interfaces[0].type", "interfaces: [{name: disp0, type: dispatch}]",
     "interfaces: [{name: br0, type: linux-bridge}]"),
    ("UNSUPPORTED", "interfaces[0].ovs-db", "interfaces: [{name: eth1, ovs-db: {external_ids: {}}}]",
     "interfaces: [{name: eth1}]"),
    ("BAD_ADDRESS", "interfaces[0].ipv4.address[0].ip", addr("198.18.1.300"), addr("198.18.1.30")),
    # issue 15 item 8: the IP options' value syntax (NetworkManager's ipv4.dhcp-client-id, ipv6.dhcp-duid, token)
    ("DHCP_CLIENT_ID_INVALID", "interfaces[0].ipv4.dhcp-client-id",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, dhcp-client-id: '01:zz:00'}}]",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, dhcp-client-id: '01:AA:00'}}]"),
    ("DHCP_DUID_INVALID", "interfaces[0].ipv6.dhcp-duid",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, dhcp-duid: uuid}}]",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, dhcp-duid: stable-uuid}}]"),
    ("DHCP_DUID_INVALID", "interfaces[0].ipv6.dhcp-duid",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, dhcp-duid: '00:01'}}]",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, dhcp-duid: '00:01:aa'}}]"),
    ("IPV6_TOKEN_INVALID", "interfaces[0].ipv6.token",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, token: '2001:db8::fac1'}}]",
     "interfaces: [{name: eth2, ipv6: {enabled: true, dhcp: true, autoconf: true, token: '::fac1'}}]"),
    ("ROUTE_TABLE_INVALID", "interfaces[0].ipv4.auto-route-table-id",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, auto-route-table-id: -1}}]",
     "interfaces: [{name: eth2, ipv4: {enabled: true, dhcp: true, auto-route-table-id: 4294967295}}]"),
    ("BAD_VALUE", "interfaces[0].ipv6.addr-gen-mode", "interfaces: [{name: eth2, ipv6: {addr-gen-mode: eui-64}}]",
     "interfaces: [{name: eth2, ipv6: {addr-gen-mode: STABLE-PRIVACY}}]"),
    ("UNSUPPORTED", "interfaces[0].ipv4.token", "interfaces: [{name: eth2, ipv4: {token: '::1'}}]",
     "interfaces: [{name: eth2, ipv6: {token: '::1'}}]"),
    ("UNSUPPORTED", "interfaces[0].ipv6.dhcp-client-id", "interfaces: [{name: eth2, ipv6: {dhcp-client-id: ll}}]",
     "interfaces: [{name: eth2, ipv4: {dhcp-client-id: ll}}]"),
    ("ADDRESS_WITH_PREFIX", "routes.config[0].next-hop-address",
     route("destination: 0.0.0.0/0, next-hop-address: 198.18.1.1/24"),
     route("destination: 0.0.0.0/0, next-hop-address: 198.18.1.1")),
    ("ADDRESS_FAMILY_MISMATCH", "interfaces[0].ipv4.address[0].ip",
     addr("2001:db8::5", ", prefix-length: 64"), addr("2001:db8::5", ", prefix-length: 64", family=6)),
    ("ADDRESS_PREFIX_IN_IP", "interfaces[0].ipv4.address[0].ip", addr("198.18.1.5\\24", ""), addr("198.18.1.5")),
    ("ADDRESS_PREFIX_IN_IP", "interfaces[0].ipv4.address[0].ip", addr("198.18.1.5/24", ""), addr("198.18.1.5")),
    ("ADDRESS_PREFIX_MISSING", "interfaces[0].ipv4.address[0].prefix-length", addr("198.18.1.5", ""),
     addr("198.18.1.5")),
    ("PREFIX_OUT_OF_RANGE", "interfaces[0].ipv4.address[0].prefix-length", addr("198.18.1.5", ", prefix-length: 33"),
     addr("198.18.1.5", ", prefix-length: 32")),
    ("PREFIX_OUT_OF_RANGE", "interfaces[0].ipv6.address[0].prefix-length",
     addr("2001:db8::5", ", prefix-length: 129", family=6), addr("2001:db8::5", ", prefix-length: 128", family=6)),
    ("BAD_PREFIX", "routes.config[0].destination", route("destination: '198.19.0.0\\24'"),
     route("destination: 198.19.0.0/24")),
    ("BAD_NETWORK", "routes.config[0].destination", route("destination: default"), route("destination: 0.0.0.0/0")),
    ("ROUTE_DESTINATION_HOST_BITS", "routes.config[0].destination", route("destination: 198.19.0.1/24"),
     route("destination: 198.19.0.1/32")),
    ("MAC_INVALID", "interfaces[0].mac-address", "interfaces: [{name: eth1, mac-address: '02:00:00:00:00'}]",
     "interfaces: [{name: eth1, mac-address: '02-00-00-00-00-0a'}]"),
    ("MAC_INVALID", "interfaces[0].mac-address", "interfaces: [{name: eth1, mac-address: 10:20:30:40:50:59}]",
     "interfaces: [{name: eth1, mac-address: '10:20:30:40:50:59'}]"),
    ("MTU_OUT_OF_RANGE", "interfaces[0].mtu", "interfaces: [{name: eth1, mtu: 40}]",
     "interfaces: [{name: eth1, mtu: 68}]"),
    ("VLAN_ID_OUT_OF_RANGE", "interfaces[0].vlan.id",
     "interfaces: [{name: v0, type: vlan, vlan: {base-iface: eth1, id: 0}}]",
     "interfaces: [{name: v0, type: vlan, vlan: {base-iface: eth1, id: 1}}]"),
    ("VLAN_ID_OUT_OF_RANGE", "interfaces[0].vlan.id",
     "interfaces: [{name: v0, type: vlan, vlan: {base-iface: eth1, id: 4095}}]",
     "interfaces: [{name: v0, type: vlan, vlan: {base-iface: eth1, id: 4094}}]"),
    ("VXLAN_ID_OUT_OF_RANGE", "interfaces[0].vxlan.id",
     "interfaces: [{name: vx0, type: vxlan, vxlan: {id: 0, remote: 198.18.1.2}}]",
     "interfaces: [{name: vx0, type: vxlan, vxlan: {id: 1, remote: 198.18.1.2}}]"),
    ("VXLAN_ID_OUT_OF_RANGE", "interfaces[0].vxlan.id",
     "interfaces: [{name: vx0, type: vxlan, vxlan: {id: 16777216, remote: 198.18.1.2}}]",
     "interfaces: [{name: vx0, type: vxlan, vxlan: {id: 16777215, remote: 198.18.1.2}}]"),
    ("VXLAN_ADDRESS_FAMILY_MISMATCH", "interfaces[0].vxlan.local",
     "interfaces: [{name: vx0, type: vxlan, vxlan: {id: 7, remote: 198.18.1.2, local: '2001:db8::1'}}]",
     "interfaces: [{name: vx0, type: vxlan, vxlan: {id: 7, remote: '2001:db8::2', local: '2001:db8::1'}}]"),
    ("MACVLAN_PROMISCUOUS_OFF", "interfaces[0].mac-vlan.promiscuous",
     "interfaces: [{name: mv0, type: mac-vlan, mac-vlan: {base-iface: eth1, mode: bridge, promiscuous: false}}]",
     "interfaces: [{name: mv0, type: mac-vlan, mac-vlan: {base-iface: eth1, mode: passthru, promiscuous: false}}]"),
    ("MACVLAN_PROMISCUOUS_OFF", "interfaces[0].mac-vtap.promiscuous",
     "interfaces: [{name: mvt0, type: mac-vtap, mac-vtap: {base-iface: eth1, mode: vepa, promiscuous: false}}]",
     "interfaces: [{name: mvt0, type: mac-vtap, mac-vtap: {base-iface: eth1, mode: vepa, promiscuous: true}}]"),
    ("IPVLAN_PRIVATE_AND_VEPA", "interfaces[0].ipvlan.vepa",
     "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: eth1, private: true, vepa: true}}]",
     "interfaces: [{name: ipv0, type: ipvlan, ipvlan: {base-iface: eth1, private: true, vepa: false}}]"),
    ("HSR_MULTICAST_SPEC_OUT_OF_RANGE", "interfaces[0].hsr.multicast-spec",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2, multicast-spec: 256}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2, multicast-spec: 255}}]"),
    ("MISSING_KEY", "interfaces[0].hsr.port2", "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}]"),
    ("UNSUPPORTED", "interfaces[0].hsr.interlink",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2, interlink: eth3}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2}}]"),
    ("BAD_VALUE", "interfaces[0].hsr.protocol",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2, protocol: prp1}}]",
     "interfaces: [{name: hsr0, type: hsr, hsr: {port1: eth1, port2: eth2, protocol: hsr-2010}}]"),
    ("MACSEC_PORT_OUT_OF_RANGE", "interfaces[0].macsec.port",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, port: 65535}}]",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, port: 65534}}]"),
    ("MACSEC_MKA_KEYS_PAIR", "interfaces[0].macsec.mka-ckn",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-cak: 00112233445566778899aabbccddeeff}}]",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-cak: 00112233445566778899aabbccddeeff, mka-ckn: 'ab'}}]"),
    ("MACSEC_MKA_KEYS_PAIR", "interfaces[0].macsec.mka-cak",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-ckn: 'ab'}}]",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-ckn: 'ab', mka-cak: '<hidden>'}}]"),
    ("MACSEC_CAK_FORMAT", "interfaces[0].macsec.mka-cak",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-cak: %s0, mka-ckn: 'ab'}}]" % MACSEC_KEY,
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-cak: %s%s, mka-ckn: 'ab'}}]"
     % (MACSEC_KEY, MACSEC_KEY)),
    ("MACSEC_CKN_FORMAT", "interfaces[0].macsec.mka-ckn",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-cak: 00112233445566778899aabbccddeeff, mka-ckn: 'abc'}}]",
     "interfaces: [{name: ms0, type: macsec, macsec: {base-iface: eth1, mka-cak: %s, mka-ckn: %s%s}}]"
     % ((MACSEC_KEY,) * 3)),
    ("ROUTE_TABLE_INVALID", "route-rules.config[0].route-table", "route-rules: {config: [{route-table: 0}]}",
     "route-rules: {config: [{route-table: 254}]}"),
    ("ROUTE_MTU_INVALID", "routes.config[0].mtu", "routes: {config: [{destination: 198.19.0.0/24, mtu: 60}]}",
     "routes: {config: [{destination: 198.19.0.0/24, mtu: 1400}]}"),
    ("ROUTE_WEIGHT_INVALID", "routes.config[0].weight",
     "routes: {config: [{destination: 198.19.0.0/24, weight: 257}]}",
     "routes: {config: [{destination: 198.19.0.0/24, weight: 256}]}"),
    ("ROUTE_RULE_PRIORITY_INVALID", "route-rules.config[0].priority", "route-rules: {config: [{priority: -1}]}",
     "route-rules: {config: [{priority: 0}]}"),
    ("DNS_SERVER_INVALID", "dns-resolver.config.server[0]", "dns-resolver: {config: {server: [dns.example]}}",
     "dns-resolver: {config: {server: [198.18.0.53]}}"),
    ("DNS_SERVER_INVALID", "dns-resolver.config.server[0]", "dns-resolver: {config: {server: ['198.18.0.53%eth1']}}",
     "dns-resolver: {config: {server: ['fe80::53%eth1']}}"),
    # hostile input (RC-xx of issue 20): bounded and coded before the schema walks the document
    ("BAD_NUMBER", "interfaces[0].mtu", "interfaces: [{name: eth1, mtu: '0100'}]",
     "interfaces: [{name: eth1, mtu: '100'}]"),
    ("BAD_NUMBER", "interfaces[0].ipv4.address[0].prefix-length", addr("198.18.1.5", ", prefix-length: '024'"),
     addr("198.18.1.5", ", prefix-length: ' 24 '")),
    ("VALUE_OUT_OF_RANGE", "routes.config[0].metric", route("destination: 0.0.0.0/0, metric: '%s'" % ("9" * 30)),
     route("destination: 0.0.0.0/0, metric: '0x2328'")),
    ("STRING_INVALID", "interfaces[0].name", 'interfaces: [{name: "eth\\0"}]', "interfaces: [{name: eth0}]"),
    ("STRING_INVALID", "routes.config[0].next-hop-interface", route('destination: 0.0.0.0/0, next-hop-interface: "e\\x01"'),
     route("destination: 0.0.0.0/0")),
    ("STRING_INVALID", 'interfaces[0]["ipv4\\u007f"]', 'interfaces: [{name: eth1, "ipv4\\x7f": {}}]',
     "interfaces: [{name: eth1, ipv4: {}}]"),
    ("VALUE_TOO_LONG", "interfaces[0].mtu", "interfaces: [{name: eth1, mtu: '%s'}]" % ("9" * 5000),
     "interfaces: [{name: eth1, mtu: 9000}]"),
    ("VALUE_TOO_LONG", "interfaces[0].name", "interfaces: [{name: %s}]" % ("e" * 4097),
     "interfaces: [{name: %s}]" % ("e" * 4096)),
    ("HOSTNAME_INVALID", "hostname.config", "hostname: {config: web_01.example.org}",
     "hostname: {config: web-01.example.org}"),
    ("HOSTNAME_INVALID", "hostname.config", "hostname: {config: web-01.}", "hostname: {config: web-01}"),
    ("HOSTNAME_INVALID", "hostname.running", "hostname: {running: a..b}", "hostname: {running: a.b}"),
    ("HOSTNAME_INVALID", "hostname.running", "hostname: {running: -web}", "hostname: {running: web}"),
    ("HOSTNAME_INVALID", "hostname.running", "hostname: {running: web-}", "hostname: {running: w-eb}"),
    ("HOSTNAME_INVALID", "hostname.config", "hostname: {config: %s}" % ("a" * 64),
     "hostname: {config: %s.%s}" % ("a" * 31, "b" * 32)),
    ("HOSTNAME_TOO_LONG", "hostname.running", "hostname: {running: %s.%s}" % ("a" * 32, "b" * 32),
     "hostname: {running: %s.%s}" % ("a" * 32, "b" * 31)),
    ("EMPTY_VALUE", "hostname.running", "hostname: {running: ''}", "hostname: {config: ''}"),
    ("TYPE_MISMATCH", "hostname.config", "hostname: {config: [a]}", "hostname: {config: '1a'}"),
    ("UNKNOWN_KEY", "hostname.static", "hostname: {static: a}", "hostname: {running: a, config: b}"),
    ("DOCUMENT_TOO_DEEP", "interfaces" + "[0]" * 19, "interfaces: " + "[" * 30 + "]" * 30, "interfaces: []"),
    ("DOCUMENT_TOO_LARGE", "", "a0: &a0 [" + ", ".join(["eth1"] * 10) + "]\n" + "".join(
        "a%d: &a%d [%s]\n" % (k, k, ", ".join(["*a%d" % (k - 1)] * 10)) for k in range(1, 7)), "interfaces: []"),
]
#: codes no document can trigger: BAD_FORMAT belongs to Str(pattern=...), which no key uses today
UNREACHABLE = {"BAD_FORMAT"}


def parse(text: str) -> List[Tuple[str, str]]:
    return [(p.code, p.path) for p in parse_document(yaml.safe_load(text))[1]]


@pytest.mark.parametrize("code,path,bad,good", SCHEMA_CASES, ids=["%s@%s" % c[:2] for c in SCHEMA_CASES])
def test_schema_code_triggers_with_path(code, path, bad, good):
    assert (code, path) in parse(bad)


@pytest.mark.parametrize("code,path,bad,good", SCHEMA_CASES, ids=["%s@%s" % c[:2] for c in SCHEMA_CASES])
def test_schema_neighbour_parses(code, path, bad, good):
    assert parse(good) == []


def test_every_schema_code_has_a_case():
    assert set(CODES) - {c[0] for c in SCHEMA_CASES} == UNREACHABLE


def test_every_code_the_schema_source_uses_is_registered():
    source = Path(schema.__file__).read_text()
    used = set(re.findall(r'Problem\("([A-Z0-9_]+)"', source)) | set(re.findall(r'code="([A-Z0-9_]+)"', source))
    assert used - set(CODES) == set()


def test_did_you_mean():
    problems = parse_document({"interfaces": [{"name": "eth1", "ipv4": {"adress": []}}]})[1]
    assert problems[0].hint == "did you mean 'address'?"
    problems = parse_document({"interfaces": [{"name": "eth1", "state": "upp"}]})[1]
    assert problems[0].hint == "did you mean 'up'?"


def test_unsupported_type_is_refused_at_its_type_only():
    doc = {"interfaces": [{"name": "ovs-br0", "type": "ovs-bridge",
                           "bridge": {"options": {"fail-mode": "", "rstp": False}, "port": [{"name": "eth1"}]}}]}
    problems = parse_document(doc)[1]
    assert [(p.code, p.path) for p in problems] == [("UNSUPPORTED", "interfaces[0].type")]
    assert problems[0].message.startswith("unsupported: interfaces[0].type")


def test_unsupported_key_message_names_the_path():
    problems = parse_document({"routes": {"config": [{"destination": "198.19.0.0/24", "quickack": True}]}})[1]
    assert problems[0].message.startswith("unsupported: routes.config[0].quickack")


def test_canonical_forms():
    doc, problems = parse_document({"interfaces": [{
        "name": 10, "mac-address": "02-00-00-aa-bb-cc", "mtu": "9000",
        "ipv6": {"address": [{"ip": "2001:DB8:0:0::0010", "prefix-length": "64"}]},
        "link-aggregation": {"options": {"miimon": 100, "use_carrier": True}}}],
        "dns-resolver": {"config": {"server": ["FE80::0053%eth1"]}}})
    assert problems == []
    iface = doc["interfaces"][0]
    assert iface["name"] == "10" and iface["mac-address"] == "02:00:00:AA:BB:CC" and iface["mtu"] == 9000
    assert iface["ipv6"]["address"] == [{"ip": "2001:db8::10", "prefix-length": 64}]
    assert iface["link-aggregation"]["options"] == {"miimon": "100", "use_carrier": "1"}
    assert doc["dns-resolver"]["config"]["server"] == ["fe80::53%eth1"]


def test_invalid_parts_are_salvaged_with_their_indexes():
    doc, problems = parse_document({"interfaces": [{"name": "eth1", "mtu": 1}, {"name": "eth2"}],
                                    "routes": {"config": [{"destination": "bad"}, {"destination": "0.0.0.0/0"}]}})
    assert [p.path for p in problems] == ["interfaces[0].mtu", "routes.config[0].destination"]
    assert doc["interfaces"] == [None, {"name": "eth2"}]
    assert doc["routes"]["config"] == [None, {"destination": "0.0.0.0/0"}]


@pytest.mark.parametrize("value", [None, [], "text", 3, {"interfaces": None}, {"interfaces": [None, 1]}])
def test_garbage_never_raises(value):
    _doc, problems = parse_document(value)
    assert all(re.fullmatch(r"[A-Z0-9_]+", p.code) for p in problems)


# ------------------------------------------------------------ the JSON Schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "docs" / "desired-state.schema.json"
VALID_DOCS = [
    "interfaces: [{name: eth1, type: ethernet, state: up, mtu: 9000, mac-address: '02:00:00:00:00:0a', ipv4: "
    "{enabled: true, dhcp: false, address: [{ip: 198.18.1.5, prefix-length: 24}]}}]\n"
    "routes: {config: [{destination: 0.0.0.0/0, next-hop-interface: eth1, next-hop-address: 198.18.1.1}]}",
    "interfaces: [{name: bond0, type: bond, link-aggregation: {mode: 802.3ad, options: {miimon: 100, "
    "lacp_rate: fast}, port: [eth1, eth2]}}, {name: bond0.10, type: vlan, vlan: {base-iface: bond0, id: 10}}]",
    "dns-resolver: {config: {server: ['fe80::53%eth1', 198.18.0.53], search: [corp.example], options: [rotate]}}",
    "route-rules: {config: [{ip-from: 198.18.0.0/24, priority: 100, route-table: 254}]}",
]


def test_schema_file_is_current(gen_schema_tool):
    assert SCHEMA_FILE.read_text() == gen_schema_tool.schema_text(), "run: python tests/tools/gen_schema.py"


def walk(node):
    """Every sub-schema of a JSON Schema."""
    yield node
    for key in ("properties",):
        for sub in node.get(key, {}).values():
            yield from walk(sub)
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            yield from walk(node[key])
    for sub in node.get("anyOf", []):
        yield from walk(sub)


def test_schema_structure():
    doc = json.loads(SCHEMA_FILE.read_text())
    assert doc["$schema"].startswith("https://json-schema.org/draft/2020-12")
    assert set(doc["properties"]) >= {"interfaces", "routes", "route-rules", "dns-resolver"}
    known = {"type", "properties", "additionalProperties", "required", "items", "enum", "minimum", "maximum",
             "pattern", "minLength", "format", "anyOf", "not", "description", "$schema", "title"}
    for node in walk(doc):
        assert isinstance(node, dict) and set(node) <= known, node
        if "pattern" in node:
            re.compile(node["pattern"])
    iface = doc["properties"]["interfaces"]["items"]
    assert iface["required"] == ["name"] and iface["additionalProperties"] is False
    assert iface["properties"]["type"]["enum"] == list(schema.SUPPORTED_TYPES)


def test_documents_against_the_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    body = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(body)
    checker = jsonschema.Draft202012Validator(body)
    for text in VALID_DOCS:
        doc = yaml.safe_load(text)
        assert parse_document(doc)[1] == []
        assert list(checker.iter_errors(doc)) == []
    for bad in ("interfaces: [{name: eth1, ipv4: {enabeld: true}}]", "interfaces: [{type: ethernet}]",
                "interfaces: [{name: eth1, mtu: 40}]", "interfaces: [{name: disp0, type: dispatch}]",
                "interfaces: [{name: eth1, ovs-db: {}}]"):
        assert list(checker.iter_errors(yaml.safe_load(bad))), bad


def test_a_key_that_is_a_path_separator_is_quoted_in_its_path():
    """A top-level key "." found by the fuzzer: its path must not read as a separator."""
    from ansible_collections.hostnet.nm.plugins.module_utils.schema import join
    assert join("", ".") == '["."]'
    assert join("interfaces[0]", "a.b") == 'interfaces[0]["a.b"]'
    assert join("interfaces[0]", "prefix-length") == "interfaces[0].prefix-length"


@pytest.mark.parametrize("family,key,value,canonical", [
    # issue 15 item 8: one canonical form for nmstate's words, NetworkManager's and letter case
    (4, "dhcp-client-id", "LL", "ll"), (4, "dhcp-client-id", "mac", "ll"), (4, "dhcp-client-id", "duid", "iaid+duid"),
    (4, "dhcp-client-id", "IAID+DUID", "iaid+duid"), (4, "dhcp-client-id", "01:AA:bb", "01:aa:bb"),
    (4, "dhcp-client-id", "perm-mac", "perm-mac"), (6, "dhcp-duid", "LLT", "llt"),
    (6, "dhcp-duid", "00:04:AB:CD", "00:04:ab:cd"), (6, "token", "::0.0.250.193", "::fac1"), (6, "token", "", "::"),
    (6, "addr-gen-mode", "stable-privacy", "stable-privacy"), (6, "addr-gen-mode", "EUI64", "eui64"), (4, "dhcp-custom-hostname", "", ""),
])
def test_ip_options_canonical_forms(family, key, value, canonical):
    doc, problems = parse_document({"interfaces": [{"name": "eth2", "ipv%d" % family: {key: value}}]})
    assert problems == [] and doc["interfaces"][0]["ipv%d" % family][key] == canonical
