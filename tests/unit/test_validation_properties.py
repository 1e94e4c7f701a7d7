# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests of the schema and the rules.

Valid documents are generated (interfaces with addresses in 198.18.0.0/15 and
2001:db8::/32, a bond with a VLAN, routes, DNS) and then mutated (keys
dropped, values replaced by values of any type, random nesting). Whatever the
input, :func:`validate` never raises and reports well-formed problems; valid
documents have no errors and their canonical form is a fixed point that
survives a YAML round trip."""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hostnet.nm.plugins.module_utils import validation
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODE = re.compile(r"^[A-Z0-9_]+$")

# ----------------------------------------------------------------- strategies

labels = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
domains = st.lists(labels, min_size=1, max_size=3).map(lambda ls: ".".join(ls + ["example"]))


@st.composite
def ip_section(draw, family: int, k: int) -> Dict[str, Any]:
    """An ipv4/ipv6 section of interface number ``k``: static addresses in its
    own subnet (198.18.k.0/24, 2001:db8:k::/64), DHCP, or disabled."""
    kind = draw(st.sampled_from(["static", "static", "dynamic", "off"]))
    if kind == "off":
        return {"enabled": False}
    if kind == "dynamic":
        sec = {"enabled": True, "dhcp": True}
        if family == 6:
            sec["autoconf"] = draw(st.booleans())
        sec.update(draw(st.fixed_dictionaries({}, optional={"auto-dns": st.booleans(),
                                                            "auto-gateway": st.booleans()})))
        return sec
    hosts = draw(st.lists(st.integers(2, 254), min_size=1, max_size=3, unique=True))
    net = "198.18.%d.%%d" % k if family == 4 else "2001:db8:%x::%%x" % k
    sec = {"enabled": True, "dhcp": False,
           "address": [{"ip": net % h, "prefix-length": 24 if family == 4 else 64} for h in hosts]}
    if family == 6:
        sec["autoconf"] = False
    return sec


@st.composite
def ethernet(draw, k: int) -> Dict[str, Any]:
    iface: Dict[str, Any] = {"name": "eth%d" % k, "type": "ethernet",
                             "state": draw(st.sampled_from(["up", "up", "down"]))}
    for fam in (4, 6):
        if draw(st.booleans()):
            iface["ipv%d" % fam] = draw(ip_section(fam, k))
    if draw(st.booleans()):
        iface["mtu"] = draw(st.integers(1280, 9000))
    if draw(st.booleans()):
        iface["mac-address"] = draw(st.sampled_from(["02:00:00:00:00:%02x", "02:00:00:00:00:%02X"])) % k
    return iface


@st.composite
def bond_stack(draw) -> List[Dict[str, Any]]:
    """bond0 over eth10/eth11 and a VLAN on it (with its own subnet 198.19.0.0/24)."""
    mode = draw(st.sampled_from(["active-backup", "802.3ad", "balance-rr"]))
    options = {"miimon": draw(st.integers(0, 1000))}
    if mode == "802.3ad":
        options["lacp_rate"] = draw(st.sampled_from(["slow", "fast", 1]))
    vid = draw(st.integers(1, 4094))
    mtu = draw(st.integers(1280, 9000))
    return [
        {"name": "bond0", "type": "bond", "state": "up", "mtu": mtu,
         "link-aggregation": {"mode": mode, "options": options, "port": ["eth10", "eth11"]}},
        {"name": "eth10", "type": "ethernet", "ipv4": {"enabled": False}},
        {"name": "bond0.%d" % vid, "type": "vlan", "mtu": draw(st.integers(1280, mtu)),
         "vlan": {"base-iface": "bond0", "id": vid},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.19.0.5", "prefix-length": 24}]}},
    ]


def gateway(family: int, k: int) -> str:
    """A next hop in interface ``k``'s subnet (host 1: never one of its addresses)."""
    return "198.18.%d.1" % k if family == 4 else "2001:db8:%x::1" % k


@st.composite
def documents(draw) -> Dict[str, Any]:
    count = draw(st.integers(1, 4))
    ifaces = [draw(ethernet(k)) for k in range(1, count + 1)]
    if draw(st.booleans()):
        ifaces += draw(bond_stack())
    doc: Dict[str, Any] = {"interfaces": draw(st.permutations(ifaces))}
    routes = []
    for k, iface in enumerate(ifaces[:count], start=1):
        for fam in (4, 6):
            sec = iface.get("ipv%d" % fam, {})
            if not sec.get("address") or not draw(st.booleans()):
                continue
            for d in draw(st.lists(st.integers(1, 200), max_size=2, unique=True)):
                dest = "198.19.%d.0/24" % (d + 10 * k) if fam == 4 else "2001:db8:%x:%x::/64" % (0x100 + k, d)
                route = {"destination": dest, "next-hop-interface": iface["name"],
                         "next-hop-address": gateway(fam, k)}
                route.update(draw(st.fixed_dictionaries({}, optional={
                    "metric": st.integers(0, 5000), "table-id": st.sampled_from([0, 100, 254])})))
                routes.append(route)
    if routes or draw(st.booleans()):
        doc["routes"] = {"config": routes}
    tables = sorted({r.get("table-id", 254) for r in routes} - {0})
    if tables and draw(st.booleans()):
        doc["route-rules"] = {"config": [{"ip-from": "198.18.%d.0/24" % draw(st.integers(1, 250)),
                                          "priority": draw(st.integers(0, 32765)),
                                          "route-table": draw(st.sampled_from(tables))}]}
    if draw(st.booleans()):
        servers = draw(st.lists(st.sampled_from(["198.18.0.53", "198.18.0.54", "2001:db8::53", "2001:db8::54"]),
                                max_size=3, unique=True))
        first6 = bool(servers) and ":" in servers[0]
        servers.sort(key=lambda s: (":" in s) != first6)  # one block per family, as NetworkManager writes them
        doc["dns-resolver"] = {"config": {"server": servers, "search": draw(st.lists(domains, max_size=3)),
                                          "options": draw(st.lists(st.sampled_from(["rotate", "ndots:2",
                                                                                    "timeout:1"]), max_size=2,
                                                                   unique=True))}}
    return doc


junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 40), 2 ** 40), st.floats(allow_nan=True),
              st.text(max_size=20), st.sampled_from(["", "eth1", "198.18.1.1", "fe80::1%eth1", "::/0", "up",
                                                     "absent", "0x30", "24", "198.18.1.5\\24"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.text(max_size=12), st.sampled_from(
                                ["name", "type", "ipv4", "address", "ip", "state", "port", "config"])),
                                inner, max_size=3)),
    max_leaves=8)


def places(node: Any, path: tuple = ()) -> List[tuple]:
    """The path of every value inside a document."""
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out += places(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += places(value, path + (i,))
    return out


@st.composite
def mutated(draw) -> Any:
    """A valid document with one to three mutations: a value dropped, replaced
    by junk or by another value of the document, nested, an entry copied, a
    key added."""
    doc = copy.deepcopy(draw(documents()))
    for _round in range(draw(st.integers(1, 3))):
        spots = places(doc)
        path = draw(st.sampled_from(spots))
        if not path:
            doc = draw(st.one_of(junk, st.just(doc)))
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["drop", "replace", "borrow", "nest", "copy", "add"]))
        if action == "drop":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(junk)
        elif action == "borrow":
            other = draw(st.sampled_from(spots))
            value: Any = doc
            for key in other:
                value = value[key]
            parent[path[-1]] = copy.deepcopy(value)
        elif action == "copy" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif action == "nest":
            parent[path[-1]] = draw(st.sampled_from([[parent[path[-1]]], {"x": parent[path[-1]]}]))
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(max_size=12))] = draw(junk)
        elif isinstance(parent[path[-1]], list):
            parent[path[-1]].append(draw(junk))
    return doc


# ----------------------------------------------------------------- properties

def well_formed(problems) -> None:
    for p in problems:
        assert CODE.match(p.code), p
        assert isinstance(p.path, str) and isinstance(p.message, str) and p.message, p
        assert p.severity in ("error", "warning"), p
        assert p.code != "INTERNAL_RULE_ERROR", p


def json_schema_checker():
    """A validator for docs/desired-state.schema.json, or None without the jsonschema package."""
    try:
        import jsonschema
    except ImportError:  # optional: the structure tests in test_schema.py still run
        return None
    body = json.loads((Path(__file__).resolve().parents[2] / "docs" / "desired-state.schema.json").read_text())
    return jsonschema.Draft202012Validator(body)


CHECKER = json_schema_checker()
LAB4, LAB6 = ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32")


@SETTINGS
@given(documents())
def test_generated_documents(doc):
    """Valid (no errors, addresses in the lab ranges, matches the JSON Schema);
    the canonical form is a fixed point and survives a YAML round trip."""
    canonical, errors, warnings = validation.validate(doc)
    assert errors == [], [str(e) for e in errors]
    well_formed(warnings)
    assert parse_document(doc) == (canonical, [])
    assert parse_document(canonical) == (canonical, [])
    assert parse_document(yaml.safe_load(yaml.safe_dump(canonical))) == (canonical, [])
    assert validation.validate(canonical)[1] == []
    for _path, _name, addr in validation.addresses(canonical):
        assert addr.ip in (LAB4 if addr.version == 4 else LAB6)
    if CHECKER is not None:
        assert list(CHECKER.iter_errors(doc)) == []


@SETTINGS
@given(mutated())
def test_mutated_documents_never_raise(doc):
    canonical, errors, warnings = validation.validate(doc)
    assert isinstance(canonical, dict)
    well_formed(errors + warnings)
    try:
        validation.check(doc)
    except InvalidStateError as exc:
        assert [p.as_dict() for p in exc.problems] == [p.as_dict() for p in errors]


@SETTINGS
@given(junk)
def test_any_value_never_raises(value):
    _canonical, errors, warnings = validation.validate(value)
    well_formed(errors + warnings)
