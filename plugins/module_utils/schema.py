# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired-state schema: nmstate's YAML keys, strict.

One table of node types describes every key we accept. The same table
parses a document into its canonical form (MAC letter case, compressed IPv6,
integers for numbers), reports unknown keys with a "did you mean", refuses
known nmstate features we do not support yet as ``unsupported: <path>``, and
exports a JSON Schema for editors (:func:`json_schema`).

Parsing never raises on bad input: it appends :class:`Problem` objects to a
list, so that every error of a document is reported at once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Dict, List, Optional, Tuple

from . import hostname, kinds, model
from .kinds import refused
from .errors import Problem, shown
from .nodes import (INVALID, MAX_KEY, REFUSED, Bool, DnsServer, Enum, Formed, Int, IpAddress, IpNetwork, ListOf, Mac,
                    Node, Obj, Str, Unsupported, join)
from .model import ROUTE_TYPES
from .redact import MASK, is_secret

#: Bounds checked by :func:`screen` before the schema walks a document (it recurses, and messages
#: quote values). nmstate's deepest key is 9 levels down (a trunk tag's id-range.min).
MAX_DEPTH = 20
#: values in all, counted each time they are reached (so a YAML alias counts every time it is used)
MAX_NODES = 200000
#: characters of one string (nmstate's longest value, a search domain, has 253); of one key: nodes.MAX_KEY
MAX_TEXT = 4096
#: characters of all strings together
MAX_TOTAL_TEXT = 8 * 1024 * 1024
#: bits of an integer: no value of the schema exceeds 64 bits (NetworkManager's largest are uint64)
MAX_INT_BITS = 64

#: every code the schema reports, with what it means (docs/validation.md lists them)
CODES = {
    "TYPE_MISMATCH": "a value of the wrong type (a list where a mapping belongs, text for a number...)",
    "VALUE_OUT_OF_RANGE": "a number outside the range the kernel or NetworkManager accepts",
    "EMPTY_VALUE": "an empty string where a name or value is needed",
    "BAD_FORMAT": "a string that does not have the expected form",
    "BAD_VALUE": "a value that is not one of the allowed words",
    "UNKNOWN_KEY": "a key that is neither ours nor nmstate's (typo), with a suggestion",
    "MISSING_KEY": "a required key is missing",
    "UNSUPPORTED": "a valid nmstate key or value that hostnet.nm does not support yet",
    "BAD_ADDRESS": "not an IP address",
    "ADDRESS_WITH_PREFIX": "an address that must stand alone carries a /prefix",
    "ADDRESS_FAMILY_MISMATCH": "an IPv6 address in the ipv4 section or the other way round",
    "ADDRESS_PREFIX_IN_IP": "an interface address written as ip/prefix (or ip\\prefix) inside ip",
    "ADDRESS_PREFIX_MISSING": "an interface address without prefix-length",
    "PREFIX_OUT_OF_RANGE": "prefix-length above 32 (IPv4) or 128 (IPv6), or negative",
    "BAD_PREFIX": "a network written with a backslash before the prefix",
    "BAD_NETWORK": "not an IP network (address/prefix)",
    "ROUTE_DESTINATION_HOST_BITS": "a route destination with host bits set",
    "MAC_INVALID": "not a MAC address",
    "MTU_OUT_OF_RANGE": "an MTU outside 68..65535",
    "ROUTE_TABLE_INVALID": "a route table id outside the kernel's range",
    "ROUTE_RULE_PRIORITY_INVALID": "a route rule priority outside 0..4294967295",
    "ROUTE_MTU_INVALID": "a route mtu below 68 bytes (the IPv4 minimum, RFC 791)",
    "ROUTE_WEIGHT_INVALID": "an ECMP route weight outside 1..256",
    "DNS_SERVER_INVALID": "a name server that is not an IP address, or a bad %scope",
    "BAD_NUMBER": "a number written as text with a leading zero (YAML 1.1 reads an unquoted 0100 as octal 64)",
    "STRING_INVALID": "a string (value or key) with a NUL, a control character or a lone surrogate: D-Bus carries "
                      "only valid UTF-8 without NUL",
    "VALUE_TOO_LONG": "a string longer than 4096 characters (a key: 256)",
    "DOCUMENT_TOO_DEEP": "lists and mappings nested more than 20 levels deep",
    "DHCP_CLIENT_ID_INVALID": "a DHCPv4 client id with a ':' that is not hex bytes (at least 2), or empty",
    "DHCP_DUID_INVALID": "a DHCPv6 DUID that is neither one of NetworkManager's words nor 3 to 130 hex bytes",
    "IPV6_TOKEN_INVALID": "an IPv6 token that is not an IPv6 address or sets any of the first 64 bits",
    "DOCUMENT_TOO_LARGE": "more than 200,000 values in all (a YAML alias counts each time it is used) or more than "
                          "8 MiB of text; nothing else is checked",
}

#: the codes the interface kinds' sections report (a bridge port's VLANs, a VLAN id...)
for _kind in kinds.KINDS:
    CODES.update(_kind.schema_codes)
CODES.update(hostname.CODES)

#: nmstate interface types we manage (:data:`.kinds.TYPES`); other nmstate types are refused as unsupported.
SUPPORTED_TYPES = kinds.TYPES
#: interface types we refuse (:mod:`.kinds.refused`: each with its reason, or as not supported yet).
UNSUPPORTED_TYPES = refused.TYPES


def _refused_keys(where: refused.Where) -> Dict[str, Node]:
    """The refused keys at ``where`` (:func:`.kinds.refused.keys`), each refused with its reason and hint."""
    return {key: Unsupported(r.why, r.hint) for key, r in refused.keys(where).items()}


#: what no string of the document may contain: NUL and other C0/C1 control characters, lone surrogates
_BAD_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(text: str, hidden: bool = False) -> Optional[str]:
    """Why a string cannot go to NetworkManager, or ``None``; ``hidden``:
    the string is a secret's value, never quoted (not even escaped).

    Source: the D-Bus specification (a string is valid UTF-8 and contains no
    NUL; a lone surrogate has no UTF-8 form, and the bus drops a connection
    that sends one), the kernel and NetworkManager (names and values are C
    strings that end at NUL); control characters are never part of a name,
    address or option, and would corrupt the keyfile's line format."""
    if len(text) > MAX_TEXT:
        return None  # reported as VALUE_TOO_LONG
    bad = _BAD_CHAR.search(text)
    if bad is None:
        return None
    char = bad.group(0)
    what = ("a NUL character" if char == "\0" else "a lone surrogate (not valid UTF-8)"
            if "\ud800" <= char <= "\udfff" else "a control character")
    return "%s contains %s, U+%04X at position %d" % (MASK if hidden else shown(text), what, ord(char), bad.start())


def under_secret(path: str) -> bool:
    """Whether a document path passes through a key that names a secret
    (:func:`~.redact.is_secret`), e.g. ``interfaces[0].link-aggregation.options.password``."""
    return any(is_secret(part) for part in _PATH_PARTS.split(path) if part)


#: what separates the keys of a document path (``.``, ``[0]``, ``["a b"]``)
_PATH_PARTS = re.compile(r'[.\[\]"]+')


def screen(doc: Any) -> Tuple[Any, List[Problem]]:
    """Bound a document before the schema walks it, without recursion.

    Returns ``(copy, problems)``: a copy of ``doc`` in which every value
    refused here is :data:`REFUSED` (a mapping key refused here is left
    out), and the problems: ``DOCUMENT_TOO_DEEP`` (nesting beyond
    :data:`MAX_DEPTH`), ``VALUE_TOO_LONG`` (a string beyond :data:`MAX_TEXT`,
    a key beyond :data:`MAX_KEY` characters), ``STRING_INVALID`` (see
    :func:`text_problem`; every string value and key), ``VALUE_OUT_OF_RANGE``
    (an integer beyond :data:`MAX_INT_BITS` bits). Beyond :data:`MAX_NODES`
    values or :data:`MAX_TOTAL_TEXT` characters the copy is ``{}`` and
    the only problem is ``DOCUMENT_TOO_LARGE``: an alias bomb or a huge
    document is refused as a whole, before anything expands it."""
    problems: List[Problem] = []
    holder: Dict[Any, Any] = {}
    stack: list[Tuple[Any, Any, Any, str, int]] = [(doc, holder, "doc", "", 0)]
    nodes = text = 0
    while stack:
        value, parent, slot, path, depth = stack.pop()
        nodes += 1
        if isinstance(value, str):
            text += len(value)
        if nodes > MAX_NODES or text > MAX_TOTAL_TEXT:
            return {}, [Problem("DOCUMENT_TOO_LARGE", "", "the document has more than %d values or %d characters "
                                "of text (YAML aliases count each time they are used); nothing else was checked"
                                % (MAX_NODES, MAX_TOTAL_TEXT), "split the state, or remove repeated aliases")]
        parent[slot] = _screened(value, path, depth, problems, stack)
    return holder["doc"], problems


def _screened(value: Any, path: str, depth: int, problems: List[Problem],
              stack: list[Tuple[Any, Any, Any, str, int]]) -> Any:
    """One value of :func:`screen`: its copy (children pushed on ``stack``) or :data:`REFUSED`."""
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        problems.append(Problem("DOCUMENT_TOO_DEEP", path, "lists and mappings are nested more than %d levels deep "
                                "here" % MAX_DEPTH, "no key of the schema is that deep: check the indentation"))
        return REFUSED
    if isinstance(value, dict):
        out: Dict[Any, Any] = {}
        children = []
        for key, item in value.items():
            why = _string_problem(key, path, problems, MAX_KEY, "a key") if isinstance(key, str) else False
            if not why:
                out[key] = None  # keeps the document's order; filled when the item is popped
                children.append((item, out, key, join(path, key), depth + 1))
        stack.extend(reversed(children))  # popped in the document's order, so are the problems
        return out
    if isinstance(value, list):
        items: list[Any] = [None] * len(value)
        stack.extend((value[i], items, i, join(path, i), depth + 1) for i in reversed(range(len(value))))
        return items
    if isinstance(value, str) and _string_problem(value, path, problems, MAX_TEXT, "a string"):
        return REFUSED
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        problems.append(Problem("VALUE_OUT_OF_RANGE", path, "%s is out of range (no value here exceeds %d bits)"
                                % (shown(value), MAX_INT_BITS), "write a number the option takes"))
        return REFUSED
    return value


def _string_problem(text: str, path: str, problems: List[Problem], limit: int, what: str) -> bool:
    """Report a string (value or key) that is too long or has characters no
    string may carry; ``True`` when it did."""
    if len(text) > limit:
        problems.append(Problem("VALUE_TOO_LONG", path, "%s of %d characters; at most %d are accepted"
                                % (what, len(text), limit), "shorten it (no valid value is that long)"))
        return True
    why = text_problem(text, False)
    if why and what == "a string" and under_secret(path):  # asked only of a bad string: most strings are fine
        why = text_problem(text, True)
    if why:
        problems.append(Problem("STRING_INVALID", path if what == "a string" else join(path, text),
                                why, "remove the character (names, addresses and options are printable text)"))
    return bool(why)


# --------------------------------------------------------------------- checks

def _check_address(addr: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    ip = ipaddress.ip_address(addr["ip"])
    limit = 32 if ip.version == 4 else 128
    if addr["prefix-length"] > limit:
        problems.append(Problem("PREFIX_OUT_OF_RANGE", join(path, "prefix-length"),
                                "prefix-length %d is above %d for IPv%d address %s" % (
                                    addr["prefix-length"], limit, ip.version, ip),
                                "use 0..%d" % limit))


def _prefix_node() -> Node:
    return Int(0, 128, code="PREFIX_OUT_OF_RANGE")


class _AddressNode(Obj):
    """``{ip, prefix-length}``; a prefix written inside ``ip`` (``198.18.1.5/24``
    or ``198.18.1.5\\24``) gets a hint, and a missing prefix is an error
    rather than a silent /32."""

    def __init__(self, family: int) -> None:
        super().__init__({"ip": IpAddress(family), "prefix-length": _prefix_node()},
                         required=("ip", "prefix-length"), check=_check_address,
                         unsupported=["valid-life-time", "preferred-life-time", "mptcp-flags"])

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if isinstance(value, dict) and isinstance(value.get("ip"), str) and "prefix-length" not in value:
            m = re.fullmatch(r"\s*([^/\\]+)[/\\](\d+)\s*", value["ip"])
            if m:
                problems.append(Problem("ADDRESS_PREFIX_IN_IP", join(path, "ip"),
                                        "%s puts the prefix inside ip" % shown(value["ip"]),
                                        "write ip: %s and prefix-length: %s" % (m.group(1), m.group(2))))
                return INVALID
            problems.append(Problem("ADDRESS_PREFIX_MISSING", join(path, "prefix-length"),
                                    "address %s has no prefix-length (it would silently become a host address)"
                                    % shown(value["ip"]), "add prefix-length, e.g. 24 for IPv4 or 64 for IPv6"))
            return INVALID
        return super().parse(value, path, problems)


#: IP options of one family only, refused in the other's section with the reason and what to do instead
_OTHER_FAMILY = {
    4: {"autoconf": ("IPv4 has no stateless autoconfiguration", "remove it, or set it under ipv6"),
        "dhcp-duid": ("NetworkManager has no DUID for DHCPv4; ipv6.dhcp-duid is the host's DUID",
                      "set dhcp-duid under ipv6, and dhcp-client-id: ipv6-duid here to send it in DHCPv4"),
        "addr-gen-mode": ("address generation modes are IPv6's (RFC 4862)", "remove it, or set it under ipv6"),
        "token": ("tokens are IPv6 interface identifiers", "remove it, or set it under ipv6")},
    6: {"dhcp-client-id": ("the client id is DHCPv4's (RFC 2132); DHCPv6 identifies the host by its DUID",
                           "set dhcp-duid here, or dhcp-client-id under ipv4")},
}


def _ip_section(family: int) -> Obj:
    fields: Dict[str, Node] = {
        "enabled": Bool(),
        "dhcp": Bool(),
        "address": ListOf(_AddressNode(family)),
        "auto-dns": Bool(),
        "auto-gateway": Bool(),
        "auto-routes": Bool(),
        "auto-route-table-id": Int(0, 4294967295, "(0: the main table, or NetworkManager.conf's default)",
                                   code="ROUTE_TABLE_INVALID"),
        "auto-route-metric": Int(0, 4294967295),
        "dhcp-send-hostname": Bool(),
        "dhcp-custom-hostname": Str(what="a host name or FQDN (empty: none)", allow_empty=True),
    }
    if family == 4:
        fields["dhcp-client-id"] = Formed(
            model.canonical_client_id, "a DHCPv4 client id", "DHCP_CLIENT_ID_INVALID",
            "write ll (the MAC address), iaid+duid (RFC 4361), hex bytes such as 01:02:00:00:00:00:01 "
            "(type first), or a text id")
    else:
        fields["autoconf"] = Bool()
        fields["dhcp-duid"] = Formed(model.canonical_duid, "a DHCPv6 DUID", "DHCP_DUID_INVALID",
                                     "write ll, llt, stable-ll, stable-llt, stable-uuid, lease, or hex bytes such as "
                                     "00:04:... (for nmstate's uuid, use stable-uuid)")
        fields["addr-gen-mode"] = Formed(model.canonical_addr_gen_mode, "an IPv6 address generation mode", "BAD_VALUE",
                                         "write one of: %s" % ", ".join(model.ADDR_GEN_MODES))
        fields["token"] = Formed(model.canonical_token, "an IPv6 token", "IPV6_TOKEN_INVALID",
                                 "write the last 64 bits as an IPv6 address, such as ::fac1 (empty or :: for none)")
    fields.update({key: Unsupported(*why) for key, why in _OTHER_FAMILY[family].items()})
    return Obj(fields, unsupported=["allow-extra-address", "dhcp-timeout", "map-to-dns", "dns",
                                    "dhcp-send-hostname-v2"])


class _TypeNode(Enum):
    def __init__(self) -> None:
        super().__init__(*SUPPORTED_TYPES, unsupported=UNSUPPORTED_TYPES,
                         reasons={t: (r.why, r.hint) for t in UNSUPPORTED_TYPES for r in [refused.for_type(t)] if r})


class _InterfaceNode(Obj):
    """An interface. One of a type we do not support yet is refused at its
    ``type`` alone: its type-specific keys (an OVS bridge's ``fail-mode``...)
    are not ours to judge, so they are neither parsed nor reported."""

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if isinstance(value, dict) and isinstance(value.get("type"), str) and value["type"] in UNSUPPORTED_TYPES:
            return self.fields["type"].parse(value["type"], join(path, "type"), problems)
        return super().parse(value, path, problems)


INTERFACE = _InterfaceNode({
    "name": Str(what="an interface name"),
    "type": _TypeNode(),
    "state": Enum("up", "down", "absent", unsupported=("ignore",)),
    "mtu": Int(68, 65535, "bytes", code="MTU_OUT_OF_RANGE"),
    "mac-address": Mac(),
    "ipv4": _ip_section(4),
    "ipv6": _ip_section(6),
    **{k.section: k.schema for k in kinds.KINDS if k.section and k.schema},
    **{key: node for k in kinds.KINDS for key, node in k.interface_fields.items()},
    **_refused_keys("interface"),
}, required=("name",), unsupported=[
    "lldp", "ethtool", "dispatch", "wait-ip", "accept-all-mac-addresses", "copy-mac-from",
    "controller", "profile-name", "identifier", "permanent-mac-address", "min-mtu", "max-mtu",
    "mptcp",
    "loopback", "ovs-bridge", "bond-port", "alt-names", "match",
    "description",
])

ROUTE = Obj({
    "destination": IpNetwork(),
    "next-hop-interface": Str(what="an interface name"),
    "next-hop-address": IpAddress(),
    "metric": Int(0, 4294967295),
    "table-id": Int(0, 4294967295, code="ROUTE_TABLE_INVALID"),
    "state": Enum("absent"),
    "on-link": Bool(),
    "source": IpAddress(),
    "mtu": Int(68, 4294967295, "bytes", code="ROUTE_MTU_INVALID"),
    "cwnd": Int(1, 4294967295, "packets"),
    "initcwnd": Int(1, 4294967295, "packets"),
    "initrwnd": Int(1, 4294967295, "packets"),
    "lock-cwnd": Bool(),
    "weight": Int(1, 256, code="ROUTE_WEIGHT_INVALID"),
    "route-type": Enum(*ROUTE_TYPES),
}, unsupported=["quickack", "advmss", "vrf-name"])

ROUTE_RULE = Obj({
    "ip-from": IpNetwork(),
    "ip-to": IpNetwork(),
    "priority": Int(0, 4294967295, code="ROUTE_RULE_PRIORITY_INVALID"),
    "route-table": Int(1, 4294967295, code="ROUTE_TABLE_INVALID"),
    "family": Enum("ipv4", "ipv6"),
    "iif": Str(what="an interface name"),
    "state": Enum("absent"),
    "fwmark": Int(0, 4294967295),
    "fwmask": Int(0, 4294967295),
    "action": Enum("blackhole", "unreachable", "prohibit"),
    "suppress-prefix-length": Int(0, 128, code="PREFIX_OUT_OF_RANGE"),
    "suppress_prefixlength": Int(0, 128, code="PREFIX_OUT_OF_RANGE"),  # nmstate's alias of the key above
}, unsupported=["ipproto", "source-port", "destination-port"])

_DNS_CONFIG = Obj({
    "server": ListOf(DnsServer()),
    "search": ListOf(Str(what="a domain name")),
    "options": ListOf(Str(what="a resolver option")),
})

DOCUMENT = Obj({
    "interfaces": ListOf(INTERFACE),
    "routes": Obj({"config": ListOf(ROUTE)}, unsupported=["running"]),
    "route-rules": Obj({"config": ListOf(ROUTE_RULE)}, unsupported=["running"]),
    "dns-resolver": Obj({"config": _DNS_CONFIG}, unsupported=["running"]),
    "hostname": hostname.SCHEMA,
    **_refused_keys("document"),
}, unsupported=["hostname-config", "dispatch"])


def parse_document(doc: Any) -> Tuple[Dict[str, Any], List[Problem]]:
    """Parse a desired-state document (a mapping as loaded from YAML), after
    :func:`screen` bounded it.

    Returns ``(canonical, problems)``: ``canonical`` holds every key that
    parsed (bad ones are left out), ``problems`` every schema error, each
    with its path. The caller decides to stop when ``problems`` has errors.
    """
    doc, problems = screen({} if doc is None else doc)
    if doc is REFUSED or any(p.code == "DOCUMENT_TOO_LARGE" for p in problems):
        return {}, problems
    out = DOCUMENT.parse(doc, "", problems)
    if out is INVALID:
        # keep what parsed, for the semantic rules that can still run
        out = _salvage(doc, problems)
    return out, problems


def _salvage(doc: Any, problems: List[Problem]) -> Dict[str, Any]:
    """Best-effort canonical form of the valid parts of an invalid document,
    so semantic rules still run and all errors come at once. Invalid list
    items become ``None`` so that indexes keep matching the document."""
    if not isinstance(doc, dict):
        return {}
    scratch: List[Problem] = []
    out: Dict[str, Any] = {}
    ifaces = doc.get("interfaces")
    if isinstance(ifaces, list):
        out["interfaces"] = [_or_none(INTERFACE.parse(i, "", scratch)) for i in ifaces]
    for key, node in (("routes", ROUTE), ("route-rules", ROUTE_RULE)):
        sec = doc.get(key)
        if isinstance(sec, dict) and isinstance(sec.get("config"), list):
            out[key] = {"config": [_or_none(node.parse(r, "", scratch)) for r in sec["config"]]}
    dns = DOCUMENT.fields["dns-resolver"].parse(doc.get("dns-resolver"), "", scratch) if "dns-resolver" in doc else None
    if isinstance(dns, dict):
        out["dns-resolver"] = dns
    return out


def _or_none(value: Any) -> Any:
    # invalid list items stay as None so that indexes (and paths) keep their meaning
    return None if value is INVALID else value


def json_schema() -> Dict[str, Any]:
    """The JSON Schema of the desired-state document, generated from the same
    table the parser uses (published as docs/desired-state.schema.json)."""
    out = DOCUMENT.json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "hostnet.nm desired state (nmstate-compatible subset)"
    return out
