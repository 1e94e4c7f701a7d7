# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semantic validation of a desired-state document: rules with stable codes.

Runs on the controller (action plugin, before any host is contacted) and
again on the host. Every rule sees the whole canonical document and appends
:class:`~.errors.Problem` objects; :func:`validate` runs the schema and every
rule and returns all findings at once. Each rule is registered with
:func:`rule` under its codes; docs/validation.md lists them (a unit test
keeps that list equal to :func:`codes`).

The controller cannot see the host, so a rule only judges what the
document itself says: an interface, address or route the document does not
mention is left to the host-side checks in :mod:`.plan`.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, cast

from . import kinds, model, rulebook
from .errors import InvalidStateError, Problem, Severity, shown
from .model import Dns, Family, IpConfig, family_of
from .nodes import join
from .options import CODES as OPTION_CODES
from .rulebook import Rule, RuleCheck, register, severity
from .schema import CODES as SCHEMA_CODES
from .schema import parse_document

RULES: List[Rule] = []
#: codes reported as warnings (they never block an apply); every other code is an error
WARNING_CODES = rulebook.WARNING_CODES
# the walkers every rule shares (:mod:`.rulebook`), also for the callers of this module
interfaces, ipath, present, report = rulebook.interfaces, rulebook.ipath, rulebook.present, rulebook.report


def rule(*codes: str, warnings: Iterable[str] = ()) -> Callable[[RuleCheck], RuleCheck]:
    """Register a rule function of this module under the codes it may
    report; those in ``warnings`` are reported with severity ``warning``
    (:func:`.rulebook.register` into :data:`RULES`)."""
    return register(RULES, *codes, warnings=warnings)


def codes() -> List[Tuple[str, Severity, str]]:
    """Every code validation can report, as ``(code, severity, summary)``
    sorted by code: the schema's, and each rule's from the ``CODE: summary``
    paragraph of its docstring. docs/validation.md carries this table."""
    out: Dict[str, Tuple[Severity, str]] = {code: ("error", text)
                                            for code, text in dict(SCHEMA_CODES, **OPTION_CODES).items()}
    out["INTERNAL_RULE_ERROR"] = ("error", "a rule failed on the document (a bug: please report it)")
    for rule_codes, func in RULES:
        summaries = dict(re.findall(r"^\s*([A-Z0-9_]+): (.+(?:\n[ \t]*[^A-Z\s].*)*)", func.__doc__ or "", re.M))
        for code in rule_codes:
            text = " ".join(summaries.get(code, (func.__doc__ or code).strip().split("\n")[0]).split())
            out[code] = (severity(code), text.replace("``", "`"))
    return [(code, out[code][0], out[code][1]) for code in sorted(out)]


def validate(document: Any) -> Tuple[Dict[str, Any], List[Problem], List[Problem]]:
    """Schema plus every semantic rule.

    Returns ``(canonical document, errors, warnings)``; never raises on bad
    input (a rule that crashes is reported as ``INTERNAL_RULE_ERROR``)."""
    doc, problems = parse_document(document)
    for rule_codes, func in RULES:
        try:
            func(doc, problems)
        except Exception as exc:  # a rule must never turn bad input into a traceback
            problems.append(Problem("INTERNAL_RULE_ERROR", "", "rule %s failed on this document: %s: %s" % (
                rule_codes[0], type(exc).__name__, exc), "please report this; the other checks still ran"))
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    return doc, errors, warnings


def check(document: Any) -> Tuple[Dict[str, Any], List[Problem]]:
    """:func:`validate`, raising on errors.

    Returns ``(canonical document, warnings)``.

    Raises:
        InvalidStateError: with every error found.
    """
    doc, errors, warnings = validate(document)
    if errors:
        raise InvalidStateError(errors, warnings)
    return doc, warnings


# ------------------------------------------------------------------ helpers

def entries(doc: Dict[str, Any], section: str,
            absent: Optional[bool] = False) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """``(path, entry)`` for the parsed entries of ``routes`` or ``route-rules``:
    the ones to add (``absent=False``), the ``state: absent`` ones (``True``)
    or all (``None``)."""
    for j, entry in enumerate((doc.get(section) or {}).get("config") or []):
        if entry is not None and (absent is None or (entry.get("state") == "absent") == absent):
            yield "%s.config[%d]" % (section, j), entry


def ip_sections(iface: Mapping[str, Any]) -> Iterator[Tuple[Family, str, IpConfig]]:
    """``(family, "ipv4"/"ipv6", section)`` for the IP sections an interface gives."""
    families: Tuple[Family, ...] = (4, 6)
    for fam in families:
        sec = iface.get("ipv%d" % fam)
        if isinstance(sec, dict):
            yield fam, "ipv%d" % fam, cast(IpConfig, sec)


def addresses(doc: Dict[str, Any]) -> Iterator[Tuple[str, str, Any]]:
    """``(path, interface name, ipaddress interface)`` for every static
    address that takes effect: interfaces not absent, family not disabled;
    not the addresses the kernel gives the interface's kind itself (the
    loopback's 127.0.0.1/8)."""
    for i, iface in interfaces(doc):
        if iface.get("state") == "absent":
            continue
        kind = kinds.of(iface)
        for _fam, key, sec in ip_sections(iface):
            if sec.get("enabled") is not False:
                for j, addr in enumerate(sec.get("address", [])):
                    if kind is not None and kind.is_implicit(addr):
                        continue
                    yield ipath(i, key, "address", j), iface["name"], ipaddress.ip_interface(
                        "%s/%d" % (addr["ip"], addr["prefix-length"]))


def ports(iface: Dict[str, Any]) -> List[Tuple[str, str]]:
    """``(path suffix, port name)`` of an interface's ports (a bridge's, a
    bond's, a VRF's, and those the kernel binds to it: an HSR's), read from
    the sections the document gives (the type may be omitted)."""
    return [(keys_path(keys), port) for keys, port in kinds.section_port_refs(iface)
            + kinds.section_kernel_port_refs(iface)]


def keys_path(keys: Iterable[Any]) -> str:
    """A key path below an interface as a path suffix: ``("bridge", "port", 0, "name")`` -> ``bridge.port[0].name``."""
    path = ""
    for key in keys:
        path = join(path, key)
    return path


def controllers(doc: Dict[str, Any]) -> Dict[str, Tuple[str, str]]:
    """``{port name: (controller name, path of the port entry)}``; the first
    controller listing a port wins."""
    out: Dict[str, Tuple[str, str]] = {}
    for name, (i, iface) in present(doc).items():
        for suffix, port in ports(iface):
            out.setdefault(port, (name, "%s.%s" % (ipath(i), suffix)))
    return out


def ip_port(by_name: Dict[str, Tuple[int, Dict[str, Any]]], controller: str) -> bool:
    """Whether the ports of ``controller`` (in :func:`.rulebook.present`'s
    ``by_name``) keep their IP configuration (a VRF's ports do)."""
    kind = kinds.of(by_name.get(controller, (-1, {}))[1])
    return kind is not None and kind.ports_keep_ip


def is_default(destination: str) -> bool:
    """Whether a destination is a default route (``0.0.0.0/0``, ``::/0``)."""
    return destination.endswith("/0")


# ---------------------------------------------------------- interface rules

IFNAMSIZ = 16  # kernel: names are at most IFNAMSIZ - 1 = 15 bytes


def name_refs(doc: Dict[str, Any]) -> Iterator[Tuple[str, str]]:
    """``(path, name)`` for every interface name the document writes: the
    interfaces' names, VLAN bases, ports, veth peers (created by
    NetworkManager under that name), route interfaces, rule ``iif`` values and DNS scopes."""
    for i, iface in interfaces(doc):
        yield ipath(i, "name"), iface["name"]
        for keys, name in kinds.name_refs(iface):
            yield ipath(i, *keys), name
    for path, route in entries(doc, "routes", None):
        if "next-hop-interface" in route:
            yield join(path, "next-hop-interface"), route["next-hop-interface"]
    for path, rule in entries(doc, "route-rules", None):
        if "iif" in rule:
            yield join(path, "iif"), rule["iif"]
    for j, server in enumerate(dns_config(doc).get("server", [])):
        if "%" in server:
            yield "dns-resolver.config.server[%d]" % j, server.split("%", 1)[1]


#: characters the kernel, NetworkManager or udev refuse in an interface name: white space and
#: control characters, anything beyond ASCII, '/', ':' and '%'
_IFNAME_BAD = re.compile(r"[^\x21-\x7e]|[/:%]")


@rule("INTERFACE_NAME_INVALID")
def _interface_names(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Interface names the kernel or NetworkManager refuse.

    INTERFACE_NAME_INVALID: an interface name over 15 bytes, ``.`` or ``..``, or with a character other than
    printable ASCII, or with ``/``, ``:`` or ``%``

    Source: the kernel's dev_valid_name() (IFNAMSIZ 16 with the final NUL;
    no ``/``, ``:`` or white space, where the kernel counts the byte 0xA0
    of many UTF-8 letters as white space) and dev_prep_valid_name() (a
    ``%`` makes the name a template such as ``eth%d``); NetworkManager
    refuses such a profile; udev's ifname_valid() accepts only ASCII 33-126.
    Checked wherever the document names an interface, VLAN bases and veth
    peers included."""
    for path, name in name_refs(doc):
        size = len(name.encode("utf-8", "backslashreplace"))
        bad = _IFNAME_BAD.search(name)
        if size > IFNAMSIZ - 1:
            report(problems, "INTERFACE_NAME_INVALID", path, "%s is %d bytes; the kernel allows at most 15"
                   % (shown(name), size), "use a name of at most 15 bytes")
        elif name in (".", "..") or bad:
            report(problems, "INTERFACE_NAME_INVALID", path, "%s is not a valid interface name%s" % (
                shown(name), " (%r, U+%04X)" % (bad.group(0), ord(bad.group(0))) if bad else ""),
                "printable ASCII without white space, '/', ':' or '%', and not '.' or '..'")


@rule("INTERFACE_DUPLICATE")
def _duplicates(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Interface names given twice.

    INTERFACE_DUPLICATE: the same interface name in two entries

    Source: one kernel device per name; two entries would make the result
    depend on their order."""
    seen: Dict[str, int] = {}
    for i, iface in interfaces(doc):
        if iface["name"] in seen:
            report(problems, "INTERFACE_DUPLICATE", ipath(i, "name"), "%s is already defined at interfaces[%d]"
                   % (iface["name"], seen[iface["name"]]), "merge the two entries into one")
        seen.setdefault(iface["name"], i)


@rule("INTERFACE_SECTION_MISMATCH")
def _section_types(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Type-specific sections on interfaces of another type.

    INTERFACE_SECTION_MISMATCH: a ``bridge``, ``link-aggregation``, ``vlan`` or ``veth`` section on an
    interface of another type

    Source: NetworkManager keeps one type per profile; the section would be
    silently ignored."""
    for i, iface in interfaces(doc):
        for kind in kinds.KINDS:
            section, wanted = kind.section, kind.type
            if section and section in iface and iface.get("type") not in (None, wanted):
                report(problems, "INTERFACE_SECTION_MISMATCH", ipath(i, section), "%s is of type %s; %s belongs to "
                       "type %s" % (iface["name"], iface["type"], section, wanted),
                       "set type: %s, or remove %s" % (wanted, section))


def stacks(doc: Dict[str, Any]) -> Callable[[str], str]:
    """A function giving each name the representative of its stack: names
    joined by port/controller or VLAN/base links share one."""
    parent: Dict[str, str] = {}

    def find(name: str) -> str:
        while parent.get(name, name) != name:
            name = parent[name]
        return name

    links = [(port, ctrl) for port, (ctrl, _path) in controllers(doc).items()]
    links += [(name, lower) for name, (_i, iface) in present(doc).items() for lower in kinds.lowers_of(iface)]
    for a, b in links:
        parent[find(a)] = find(b)
    return find


@rule("MAC_DUPLICATE")
def _macs(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """MAC addresses used twice.

    MAC_DUPLICATE: two interfaces (not stacked on each other) with the same MAC address, in either letter case

    Source: IEEE 802 (a MAC is unique on its link); switches flap between
    the ports. Stacked interfaces (a bond and its ports, a VLAN and its base)
    may share one: the kernel gives them the same MAC itself."""
    stack = stacks(doc)
    seen: Dict[str, Tuple[int, str]] = {}
    for name, (i, iface) in present(doc).items():
        mac = iface.get("mac-address")
        if not mac:
            continue
        if mac in seen and stack(seen[mac][1]) != stack(name):
            report(problems, "MAC_DUPLICATE", ipath(i, "mac-address"), "%s is also the MAC address of %s "
                   "(interfaces[%d])" % (mac, seen[mac][1], seen[mac][0]), "give each interface its own MAC address")
        seen.setdefault(mac, (i, name))


@rule("IPV6_MTU_TOO_SMALL")
def _ipv6_mtu(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """MTUs too small for IPv6.

    IPV6_MTU_TOO_SMALL: IPv6 enabled on an interface whose MTU is below 1280

    Source: RFC 8200 section 5 (every link carries at least 1280 bytes);
    the kernel removes IPv6 from such a device."""
    for i, iface in interfaces(doc):
        if iface.get("mtu", 1280) < 1280 and (iface.get("ipv6") or {}).get("enabled") is True:
            report(problems, "IPV6_MTU_TOO_SMALL", ipath(i, "mtu"), "%s has MTU %d with IPv6 enabled; IPv6 needs "
                   "at least 1280" % (iface["name"], iface["mtu"]), "raise mtu to 1280 or more, or disable ipv6")


# ------------------------------------------------------------ address rules

@rule("ADDRESS_IS_NETWORK", "ADDRESS_IS_BROADCAST", "ADDRESS_NOT_UNICAST")
def _address_values(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Interface addresses that cannot be a host's.

    ADDRESS_IS_NETWORK: an IPv4 address equal to its subnet's network address
    ADDRESS_IS_BROADCAST: an IPv4 address equal to its subnet's broadcast address
    ADDRESS_NOT_UNICAST: a multicast, loopback or unspecified address on an interface

    Source: RFC 919/RFC 922 (network and broadcast addresses of an IPv4
    subnet, except /31 and /32, RFC 3021); NetworkManager refuses 0.0.0.0,
    ::, multicast and loopback addresses on an interface."""
    for path, _name, addr in addresses(doc):
        ip, net = addr.ip, addr.network
        if ip.is_multicast or ip.is_unspecified or ip.is_loopback:
            report(problems, "ADDRESS_NOT_UNICAST", path, "%s is a %s address" % (ip, "multicast" if ip.is_multicast
                   else "loopback" if ip.is_loopback else "unspecified"), "use a unicast host address")
        elif net.version == 4 and net.prefixlen < 31 and ip == net.network_address:
            report(problems, "ADDRESS_IS_NETWORK", path, "%s is the network address of %s" % (ip, net),
                   "use a host address inside %s" % net)
        elif net.version == 4 and net.prefixlen < 31 and ip == net.broadcast_address:
            report(problems, "ADDRESS_IS_BROADCAST", path, "%s is the broadcast address of %s" % (ip, net),
                   "use a host address inside %s" % net)


@rule("ADDRESS_DUPLICATE", "ADDRESS_SUBNET_OVERLAP")
def _address_conflicts(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Addresses and subnets that collide.

    ADDRESS_DUPLICATE: the same address twice, on one interface or on two
    ADDRESS_SUBNET_OVERLAP: overlapping subnets on two different interfaces

    Source: the kernel installs one prefix route per subnet, so a subnet on
    two interfaces makes traffic leave by whichever was configured first
    (RFC 1122 3.3.1: one directly connected network per interface). Not
    judged: link-local addresses (every link has fe80::/64; the same
    link-local address on two links is fine) and host prefixes (/32,
    /128), which add no subnet route."""
    seen: Dict[Any, Tuple[str, str]] = {}
    nets = _Subnets()
    for path, name, addr in addresses(doc):
        first = seen.get(addr.ip)
        if first and not (addr.ip.is_link_local and first[1] != name):
            report(problems, "ADDRESS_DUPLICATE", path, "%s is already configured at %s (%s)" % (
                addr.ip, first[0], first[1]), "remove one of the two")
            continue
        seen.setdefault(addr.ip, (path, name))
        if addr.ip.is_link_local or addr.network.prefixlen == addr.max_prefixlen:
            continue
        clash = nets.first_overlap(addr.network, name)
        if clash:
            report(problems, "ADDRESS_SUBNET_OVERLAP", path, "%s (%s) overlaps %s on %s (%s)" % (
                addr.with_prefixlen, name, clash[0], clash[2], clash[1]),
                "put each subnet on one interface; for a second address on the other link use a /%d"
                % addr.max_prefixlen)
        nets.add(addr.network, path, name)


class _Subnets:
    """The subnets of a document seen so far, ``(network, path, interface)``
    in document order, and the first of them that overlaps a new one, found
    without comparing every pair: two CIDR subnets overlap when one holds
    the other, so the candidates are the new subnet's supernets (one lookup
    per prefix length seen) and the subnets inside it (a range of the sorted
    first addresses of each longer prefix length)."""

    def __init__(self) -> None:
        self.entries: List[Tuple[Any, str, str]] = []
        self._at: Dict[Tuple[int, int, int], List[int]] = {}  # (version, prefix length, first address) -> entries
        self._starts: Dict[Tuple[int, int], List[int]] = {}   # (version, prefix length) -> first addresses, sorted

    def add(self, net: Any, path: str, name: str) -> None:
        """Add ``net`` (an ``ipaddress`` network) at ``path`` on interface ``name``."""
        key = (net.version, net.prefixlen, int(net.network_address))
        if key not in self._at:
            bisect.insort(self._starts.setdefault((net.version, net.prefixlen), []), key[2])
        self._at.setdefault(key, []).append(len(self.entries))
        self.entries.append((net, path, name))

    def first_overlap(self, net: Any, name: str) -> Optional[Tuple[Any, str, str]]:
        """The first subnet added that overlaps ``net`` on an interface other than ``name``, or ``None``."""
        first, last = int(net.network_address), int(net.broadcast_address)
        found: List[int] = []
        for (version, plen), starts in self._starts.items():
            if version != net.version:
                continue
            if plen <= net.prefixlen:  # a subnet holding ours starts at our first address cut to its length
                host_bits = net.max_prefixlen - plen
                found += self._at.get((version, plen, first >> host_bits << host_bits), [])
            else:  # subnets inside ours start within it
                for start in starts[bisect.bisect_left(starts, first):bisect.bisect_right(starts, last)]:
                    found += self._at[(version, plen, start)]
        return next((self.entries[i] for i in sorted(found) if self.entries[i][2] != name), None)


# ---------------------------------------------------- bond, bridge and VLAN

# the kinds' own rules (a bond's options, a VLAN's id and MTU...) run here, in the kinds' order
RULES.extend(kind_rule for kind in kinds.KINDS for kind_rule in kind.rules)


@rule("PORT_MULTIPLE_CONTROLLERS", "PORT_HAS_IP", "CONTROLLER_CYCLE")
def _ports(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Ports and controllers.

    PORT_MULTIPLE_CONTROLLERS: a port listed by two controllers, or twice by one
    PORT_HAS_IP: a port of a bridge, bond or HSR with IPv4 or IPv6 enabled
    CONTROLLER_CYCLE: controllers, ports and VLAN bases that form a loop

    Source: the kernel enslaves a device to one master, and a bridge's,
    bond's or HSR's port's addresses are not used (NetworkManager disables IP
    on a bridge's or bond's ports; the HSR driver takes every frame a port
    receives, net/hsr/hsr_slave.c; a VRF's ports keep theirs,
    Documentation/networking/vrf.rst); a loop
    (a bridge that is a port of its own VLAN) can never be created."""
    owner: Dict[str, Tuple[str, str]] = {}
    edges: Dict[str, List[str]] = {}
    by_name = present(doc)
    for name, (i, iface) in by_name.items():
        for suffix, port in ports(iface):
            where = "%s.%s" % (ipath(i), suffix)
            if port in owner:
                report(problems, "PORT_MULTIPLE_CONTROLLERS", where, "%s is already a port of %s (%s)" % (
                    port, owner[port][0], owner[port][1]), "list each port under one controller, once")
                continue
            owner[port] = (name, where)
            edges.setdefault(name, []).append(port)
        edges.setdefault(name, [])
        edges[name] += [lower for lower in kinds.lowers_of(iface) if lower not in edges[name]]
    for port, (ctrl, _where) in owner.items():
        if ip_port(by_name, ctrl):
            continue
        k, iface = by_name.get(port, (-1, {}))
        for _fam, key, sec in ip_sections(iface):
            if sec.get("enabled") is True:
                report(problems, "PORT_HAS_IP", ipath(k, key, "enabled"), "%s is a port of %s but has %s enabled"
                       % (port, ctrl, key), "put the IP configuration on %s and set %s.enabled: false on %s"
                       % (ctrl, key, port))
    for cycle in _cycles(edges):
        first = min(cycle, key=lambda n: by_name[n][0] if n in by_name else -1)
        report(problems, "CONTROLLER_CYCLE", ipath(by_name[first][0]), "interfaces form a loop: %s" % " -> ".join(
            cycle[cycle.index(first):] + cycle[:cycle.index(first)] + [first]),
            "a controller cannot be a port or VLAN base of itself, directly or through others")


def _cycles(edges: Dict[str, List[str]]) -> List[List[str]]:
    """The loops of a directed graph, each found once (depth-first search)."""
    state: Dict[str, int] = {}  # 1 on the current path, 2 done
    found: List[List[str]] = []

    def visit(node: str, path: List[str]) -> None:
        state[node] = 1
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [node] if nxt in path else [node])
            elif nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for node in list(edges):
        if node not in state:
            visit(node, [])
    return found


# ------------------------------------------------------------ route rules

@rule("ROUTE_DESTINATION_REQUIRED", "ROUTE_INTERFACE_REQUIRED", "ROUTE_LINK_LOCAL_NEEDS_INTERFACE",
      "ROUTE_FAMILY_MISMATCH", "ROUTE_ABSENT_MATCHES_ALL", "ROUTE_RULE_ABSENT_MATCHES_ALL")
def _route_entries(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """The shape of route entries.

    ROUTE_DESTINATION_REQUIRED: a route to add without ``destination``
    ROUTE_INTERFACE_REQUIRED: a route to add without ``next-hop-interface``
    ROUTE_LINK_LOCAL_NEEDS_INTERFACE: an IPv6 link-local next hop without ``next-hop-interface``
    ROUTE_FAMILY_MISMATCH: a next hop of the other family than the destination
    ROUTE_ABSENT_MATCHES_ALL: a ``state: absent`` route with no other key (it would remove every route)
    ROUTE_RULE_ABSENT_MATCHES_ALL: a ``state: absent`` routing rule with no other key

    Source: NetworkManager stores a route in the profile of its interface
    (so it needs ``next-hop-interface``; an IPv6 link-local next hop is
    meaningless without one, RFC 4291 2.5.6) and a route's gateway has the
    family of its destination. An absent entry with no key would remove
    every route (or rule) of the host, the kernel's own included."""
    for path, route in entries(doc, "routes"):
        nh = route.get("next-hop-address")
        hop = ipaddress.ip_address(nh) if nh else None
        if "destination" not in route:
            report(problems, "ROUTE_DESTINATION_REQUIRED", join(path, "destination"), "the route has no destination",
                   "add destination, e.g. 0.0.0.0/0 for a default route")
        elif hop and hop.version != family_of(route["destination"]) and not hop.is_unspecified:
            report(problems, "ROUTE_FAMILY_MISMATCH", join(path, "next-hop-address"), "next hop %s is IPv%d but "
                   "destination %s is IPv%d" % (nh, hop.version, route["destination"],
                                                family_of(route["destination"])), "use a next hop of the same family")
        if "next-hop-interface" in route or route.get("route-type"):
            continue  # a route-type route is held by lo's profile (see _route_types)
        if hop and hop.is_link_local:
            report(problems, "ROUTE_LINK_LOCAL_NEEDS_INTERFACE", join(path, "next-hop-interface"), "link-local next "
                   "hop %s needs next-hop-interface: the same address exists on every link" % nh,
                   "add next-hop-interface naming the link of %s" % nh)
        else:
            report(problems, "ROUTE_INTERFACE_REQUIRED", join(path, "next-hop-interface"), "the route to %s has no "
                   "next-hop-interface" % route.get("destination", "?"), "add next-hop-interface (NetworkManager keeps routes in the "
                   "profile of their interface)")
    for section, code, example in (("routes", "ROUTE_ABSENT_MATCHES_ALL", "next-hop-interface: eth1"),
                                   ("route-rules", "ROUTE_RULE_ABSENT_MATCHES_ALL", "priority: 100")):
        for path, entry in entries(doc, section, absent=True):
            if len(entry) == 1:
                report(problems, code, path, "state: absent with no other key would remove every entry of %s"
                       % section, "add the keys that select what to remove (e.g. %s)" % example)


def on_link_nets(doc: Dict[str, Any]) -> Dict[Tuple[str, int], List[Any]]:
    """``{(interface, family): [subnet, ...]}``: the subnets through which an
    interface of the document reaches next hops: its static addresses and
    the document's direct routes (no next hop) on it. An interface whose
    section (or address list) is not in the document, or that uses DHCP or
    autoconf, has no entry: only the host knows its subnets."""
    out: Dict[Tuple[str, int], List[Any]] = {}
    for name, (_i, iface) in present(doc).items():
        for fam, _key, sec in ip_sections(iface):
            if "address" in sec and not (sec.get("dhcp") or sec.get("autoconf") or sec.get("enabled") is False):
                out[(name, fam)] = [ipaddress.ip_interface("%s/%d" % (a["ip"], a["prefix-length"])).network
                                    for a in sec["address"]]
    for _path, route in entries(doc, "routes"):
        key = (route.get("next-hop-interface", ""), family_of(route.get("destination", "0.0.0.0")))
        if key in out and "destination" in route and not route.get("next-hop-address"):
            out[key].append(ipaddress.ip_network(route["destination"]))
    return out


@rule("ROUTE_NEXT_HOP_OFF_LINK", "ROUTE_NEXT_HOP_IS_LOCAL", "ROUTE_FAMILY_DISABLED", "ROUTE_VIA_PORT",
      "ROUTE_INTERFACE_ABSENT")
def _next_hops(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Next hops and the interfaces routes go through.

    ROUTE_NEXT_HOP_OFF_LINK: a next hop in no subnet of its interface (unless ``on-link: true``)
    ROUTE_NEXT_HOP_IS_LOCAL: a next hop equal to one of the document's own addresses
    ROUTE_FAMILY_DISABLED: a route through an interface whose address family is disabled
    ROUTE_VIA_PORT: a route through a port of a bond or bridge (a VRF's ports route)
    ROUTE_INTERFACE_ABSENT: a route to add through an interface the document removes

    Source: the kernel refuses a gateway it cannot reach directly ("Nexthop
    has invalid gateway", unless the route is ``on-link``) and one that is a
    local address; a port has no IP configuration of its own. Judged only
    when the document gives the interface's static addresses: with DHCP or
    autoconf, or an interface the document does not mention, the host
    decides. IPv6 link-local next hops are always on link (RFC 4861)."""
    view = _RouteView(doc)
    for path, route in entries(doc, "routes"):
        nh = route.get("next-hop-address")
        if nh and ipaddress.ip_address(nh).is_unspecified:
            nh = None
        _route_interface(view, path, route, family_of(route.get("destination") or nh or "0.0.0.0"), problems)
        if nh:
            _next_hop(view, path, route, ipaddress.ip_address(nh), problems)


class _RouteView:
    """What :func:`_next_hops` looks up in a document, computed once."""

    def __init__(self, doc: Dict[str, Any]) -> None:
        self.by_name, self.ctrl, self.subnets = present(doc), controllers(doc), on_link_nets(doc)
        self.addresses = list(addresses(doc))
        self.own = {addr.ip: (path, name) for path, name, addr in self.addresses}
        self.absent = {i["name"] for _k, i in interfaces(doc) if i.get("state") == "absent"} - set(self.by_name)


def route_interface(route: Mapping[str, Any]) -> Optional[str]:
    """The interface whose profile holds a route: its ``next-hop-interface``;
    for a ``route-type`` route without one, :data:`.kinds.TYPED_ROUTE_HOLDER` (``lo``)."""
    return route.get("next-hop-interface") or (kinds.TYPED_ROUTE_HOLDER if route.get("route-type") else None)


def _route_interface(view: _RouteView, path: str, route: Dict[str, Any], fam: int, problems: List[Problem]) -> None:
    """ROUTE_INTERFACE_ABSENT, ROUTE_VIA_PORT, ROUTE_FAMILY_DISABLED for one route (see :func:`_next_hops`)."""
    name = route_interface(route)
    where = join(path, "next-hop-interface" if "next-hop-interface" in route else "route-type")
    if name in view.absent:
        report(problems, "ROUTE_INTERFACE_ABSENT", where, "the route %s %s, which the document removes (state: "
               "absent)" % ("is held by the profile of" if route.get("route-type") else "uses", name),
               "keep %s, or remove the route" % name if route.get("route-type") else
               "route through another interface, or keep %s" % name)
    elif name in view.ctrl and not ip_port(view.by_name, view.ctrl[name][0]):
        report(problems, "ROUTE_VIA_PORT", where, "the route uses %s, a port of %s" % (name, view.ctrl[name][0]),
               "route through %s instead" % view.ctrl[name][0])
    elif name in view.by_name and (view.by_name[name][1].get("ipv%d" % fam) or {}).get("enabled") is False:
        report(problems, "ROUTE_FAMILY_DISABLED", where, "IPv%d route via %s, which has ipv%d disabled "
               "(interfaces[%d].ipv%d.enabled)" % (fam, name, fam, view.by_name[name][0], fam),
               "enable ipv%d on %s or route through another interface" % (fam, name))


def _next_hop(view: _RouteView, path: str, route: Dict[str, Any], ip: Any, problems: List[Problem]) -> None:
    """ROUTE_NEXT_HOP_IS_LOCAL and ROUTE_NEXT_HOP_OFF_LINK for one route's next hop ``ip`` (see :func:`_next_hops`)."""
    name = route.get("next-hop-interface")
    if ip in view.own:
        report(problems, "ROUTE_NEXT_HOP_IS_LOCAL", join(path, "next-hop-address"), "next hop %s is an address "
               "of this host (%s, %s)" % (ip, view.own[ip][0], view.own[ip][1]), "use the address of the router")
        return
    nets = view.subnets.get((name or "", ip.version))
    if nets is None or name in view.ctrl or route.get("on-link") or ip.is_link_local or any(ip in n for n in nets):
        return
    elsewhere = [n for _p, n, a in view.addresses if ip in a.network and n != name]
    report(problems, "ROUTE_NEXT_HOP_OFF_LINK", join(path, "next-hop-address"), "next hop %s is in no subnet "
           "of %s (%s)" % (ip, name, ", ".join(str(n) for n in nets) or "no addresses"),
           "use next-hop-interface: %s" % elsewhere[0] if elsewhere else
           "add an address in the next hop's subnet to %s, or set on-link: true if the router is "
           "reachable directly" % name)


#: route tables the kernel reserves (include/uapi/linux/rtnetlink.h)
TABLE_DEFAULT, TABLE_MAIN, TABLE_LOCAL = 253, 254, 255


def table_of(route: Mapping[str, Any]) -> int:
    """A route's table in canonical form (unset and 0 are main, 254)."""
    return int(model.canonical_route(route)["table-id"])


@rule("ROUTE_TABLE_LOCAL", "ROUTE_TABLE_DEFAULT", warnings=("ROUTE_TABLE_DEFAULT",))
def _route_tables(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Route tables the kernel reserves.

    ROUTE_TABLE_LOCAL: a route in the kernel's local table (255)
    ROUTE_TABLE_DEFAULT: a route in the kernel's ``default`` table (253)

    Source: include/uapi/linux/rtnetlink.h (RT_TABLE_DEFAULT 253,
    RT_TABLE_MAIN 254, RT_TABLE_LOCAL 255): the kernel fills the local table
    itself; the default table is consulted after main and is rarely meant.
    Table 0 means main (NetworkManager: the profile's table)."""
    for path, route in entries(doc, "routes"):
        table = route.get("table-id")
        if table == TABLE_LOCAL:
            report(problems, "ROUTE_TABLE_LOCAL", join(path, "table-id"), "table 255 is the kernel's local table",
                   "use main (254) or a table of your own (1-252, 256 and above)")
        elif table == TABLE_DEFAULT:
            report(problems, "ROUTE_TABLE_DEFAULT", join(path, "table-id"), "table 253 is the kernel's 'default' "
                   "table, looked up only after main", "use main (254) unless you mean the default table")


def route_identity(route: Mapping[str, Any]) -> Tuple[Any, ...]:
    """What makes two routes the same: destination, next hop, interface
    (:func:`route_interface`), table, metric and ``route-type``, in canonical form."""
    canon = model.canonical_route(route)
    return (canon.get("destination"), canon.get("next-hop-address"), route_interface(canon),
            canon["table-id"], canon.get("metric"), canon.get("route-type"))


@rule("ROUTE_DUPLICATE", "ROUTE_DEFAULT_CONFLICT")
def _route_conflicts(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Routes that collide.

    ROUTE_DUPLICATE: the same route twice (destination, next hop, interface, table, metric)
    ROUTE_DEFAULT_CONFLICT: two default routes with the same metric on different interfaces

    Source: the kernel keeps one route per (destination, table, metric) and
    next hop; with two equal default routes on two links the egress depends
    on which was added first. Several next hops on one interface with the
    same metric are valid (IPv6 global plus link-local router)."""
    seen: Dict[Tuple[Any, ...], str] = {}
    defaults: Dict[Tuple[Any, ...], Tuple[str, str]] = {}
    for path, route in entries(doc, "routes"):
        if "destination" not in route:
            continue
        key = route_identity(route)
        if key in seen:
            report(problems, "ROUTE_DUPLICATE", path, "the same route as %s" % seen[key], "remove one of the two")
            continue
        seen[key] = path
        name = route.get("next-hop-interface")
        if not is_default(route["destination"]) or route.get("metric") is None or not name:
            continue  # NetworkManager gives each device's default route its own metric
        dkey = (route["destination"], key[3], key[4])
        other = defaults.setdefault(dkey, (path, name))
        if other[1] != name:
            report(problems, "ROUTE_DEFAULT_CONFLICT", join(path, "metric"), "default route via %s has metric %s, "
                   "like the default route via %s (%s)" % (name, key[4], other[1], other[0]),
                   "give one of them a different metric (the lower one wins)")


@rule("ROUTE_WEIGHT_WITHOUT_ECMP", "ROUTE_WEIGHT_IPV6", "ROUTE_SOURCE_FAMILY_MISMATCH")
def _route_attributes(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Route attributes that need other routes or a family.

    ROUTE_WEIGHT_WITHOUT_ECMP: a route ``weight`` without an ECMP peer (another weighted route to the same destination, table and metric)
    ROUTE_WEIGHT_IPV6: a ``weight`` on an IPv6 route
    ROUTE_SOURCE_FAMILY_MISMATCH: a route ``source`` of the other family than its destination

    Source: NetworkManager merges IPv4 routes that carry a ``weight`` and
    share destination, table and metric into one multipath route (nexthop
    weights, RTA_MULTIPATH); a weighted route alone is a plain route, the
    weight has no effect. NetworkManager has no IPv6 multipath routes (nor has
    nmstate). The kernel refuses a preferred source of the other family."""
    peers: Dict[Tuple[Any, ...], List[str]] = {}
    for path, route in entries(doc, "routes"):
        dest = route.get("destination")
        if dest is None:
            continue
        src = route.get("source")
        if src and family_of(src) != family_of(dest):
            report(problems, "ROUTE_SOURCE_FAMILY_MISMATCH", join(path, "source"), "source %s is IPv%d but destination "
                   "%s is IPv%d" % (src, family_of(src), dest, family_of(dest)), "use a source of the same family")
        if "weight" not in route or route.get("route-type"):
            continue  # a route-type route has no next hop to weigh (ROUTE_TYPE_ATTRIBUTE)
        if family_of(dest) == 6:
            report(problems, "ROUTE_WEIGHT_IPV6", join(path, "weight"), "weight on IPv6 route %s: NetworkManager "
                   "makes multipath (ECMP) routes for IPv4 only" % dest, "remove weight (IPv6 routes to the same "
                   "destination and metric through several next hops are used together by the kernel anyway)")
            continue
        canon = model.canonical_route(route)
        peers.setdefault((dest, canon["table-id"], canon.get("metric")), []).append(path)
    for (dest, _table, _metric), paths in peers.items():
        if len(paths) == 1:
            report(problems, "ROUTE_WEIGHT_WITHOUT_ECMP", join(paths[0], "weight"), "route to %s has a weight but no "
                   "other weighted route to %s with the same table and metric: there is no multipath route to "
                   "weigh" % (dest, dest), "add the other next hops of the ECMP route with a weight each, or remove "
                   "weight")


#: IPv4's "this network" (RFC 1122 3.2.1.3, RFC 6890): a source only, never a destination
THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
#: the least MTU of an IPv6 link, in bytes (RFC 8200 section 5)
IPV6_MIN_MTU = 1280


@rule("ROUTE_DESTINATION_RESERVED", "ROUTE_MTU_BELOW_IPV6_MINIMUM")
def _route_limits(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Route values their family does not allow.

    ROUTE_DESTINATION_RESERVED: a route to addresses inside 0.0.0.0/8 (IPv4's "this network");
      a default route, a wider prefix such as 0.0.0.0/1, and a `route-type` route are fine
    ROUTE_MTU_BELOW_IPV6_MINIMUM: an IPv6 route `mtu` below 1280 bytes

    Source: RFC 1122 (3.2.1.3) and RFC 6890 reserve 0.0.0.0/8 as "this
    network", an address a host may use as a source but never send to, and
    nmstate refuses such routes; a blackhole route to it, as bogon filters
    have, sends nothing there. RFC 8200 (section 5): every IPv6 link carries
    at least 1280 bytes, so a smaller path MTU cannot hold."""
    for path, route in entries(doc, "routes"):
        dest = route.get("destination")
        if dest is None:
            continue
        network = ipaddress.ip_network(dest, strict=False)
        if isinstance(network, ipaddress.IPv4Network) and network.prefixlen >= THIS_NETWORK.prefixlen \
                and network.subnet_of(THIS_NETWORK) and not route.get("route-type"):
            report(problems, "ROUTE_DESTINATION_RESERVED", join(path, "destination"), "%s is inside 0.0.0.0/8, "
                   "IPv4's \"this network\", which is never a destination (RFC 1122, RFC 6890)" % dest,
                   "route the real destination network, or make it a blackhole route (route-type: blackhole) "
                   "to drop traffic to it")
        mtu = route.get("mtu")
        if network.version == 6 and isinstance(mtu, int) and mtu < IPV6_MIN_MTU:
            report(problems, "ROUTE_MTU_BELOW_IPV6_MINIMUM", join(path, "mtu"), "mtu %d on IPv6 route %s: an IPv6 "
                   "path carries at least %d bytes (RFC 8200)" % (mtu, dest, IPV6_MIN_MTU),
                   "use an mtu of %d or more, or remove mtu" % IPV6_MIN_MTU)


#: keys of a route that describe its next hop: a ``route-type`` route has none (see :func:`_route_types`)
NEXT_HOP_KEYS = ("weight", "on-link")


@rule("ROUTE_TYPE_NEXT_HOP", "ROUTE_TYPE_ATTRIBUTE", "ROUTE_TYPE_CONFLICT")
def _route_types(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Routes with a ``route-type`` (blackhole, unreachable, prohibit).

    ROUTE_TYPE_NEXT_HOP: a ``route-type`` route with ``next-hop-address``, or with a ``next-hop-interface`` other
    than ``lo`` (whose profile holds it)
    ROUTE_TYPE_ATTRIBUTE: a ``route-type`` route with ``weight`` or ``on-link`` (they describe a next hop)
    ROUTE_TYPE_CONFLICT: a ``route-type`` route and another route of another type to the same destination with the
    same table and metric

    Source: the kernel's RTN_BLACKHOLE, RTN_UNREACHABLE and RTN_PROHIBIT
    routes drop what they match and have no next hop (an IPv6 one is shown
    on ``lo``); NetworkManager refuses a next hop on them and keeps them in
    the profile that lists them, ``lo``'s for nmstate and hostnet.nm. The
    kernel keeps one route per destination, table and metric (fib_table_insert,
    fib6_add_rt2node): of two of different types only the first one
    added takes effect. A route without ``metric`` takes its interface's default."""
    seen: Dict[Tuple[Any, ...], Tuple[str, Optional[str]]] = {}
    for path, route in entries(doc, "routes"):
        if "destination" not in route:
            continue
        kind = route.get("route-type")
        if kind:
            _typed_route(path, route, kind, problems)
        canon = model.canonical_route(route)
        key = (canon["destination"], canon["table-id"], canon.get("metric", route_interface(route)))
        other = seen.setdefault(key, (path, kind))
        if other[1] != kind and (kind or other[1]):
            report(problems, "ROUTE_TYPE_CONFLICT", path, "route to %s (%s) has the destination, table and metric of "
                   "%s (%s): the kernel keeps only one of them" % (
                       canon["destination"], kind or "unicast", other[0], other[1] or "unicast"),
                   "give one of them another metric (the lower one wins), or remove one")


def _typed_route(path: str, route: Dict[str, Any], kind: str, problems: List[Problem]) -> None:
    """ROUTE_TYPE_NEXT_HOP and ROUTE_TYPE_ATTRIBUTE for one ``route-type`` route (see :func:`_route_types`)."""
    nh = route.get("next-hop-address")
    if nh and not ipaddress.ip_address(nh).is_unspecified:
        report(problems, "ROUTE_TYPE_NEXT_HOP", join(path, "next-hop-address"), "a %s route has no next hop, but "
               "next-hop-address is %s" % (kind, nh), "remove next-hop-address, or remove route-type to route "
               "through %s" % nh)
    name = route.get("next-hop-interface")
    if name is not None and name != kinds.TYPED_ROUTE_HOLDER:
        report(problems, "ROUTE_TYPE_NEXT_HOP", join(path, "next-hop-interface"), "a %s route goes through no "
               "interface, but next-hop-interface is %s" % (kind, name), "remove next-hop-interface (%s's profile "
               "holds the route), or remove route-type to route through %s" % (kinds.TYPED_ROUTE_HOLDER, name))
    for key in NEXT_HOP_KEYS:
        if route.get(key):
            report(problems, "ROUTE_TYPE_ATTRIBUTE", join(path, key), "%s describes a next hop, and a %s route has "
                   "none" % (key, kind), "remove %s" % key)


def _filled_tables(doc: Dict[str, Any]) -> set[int]:
    """The tables the document puts routes in: its routes', and the leases' (``auto-route-table-id``)."""
    tables = {table_of(r) for _p, r in entries(doc, "routes") if "destination" in r}
    return tables | {t for _i, iface in interfaces(doc) for fam, _k, sec in ip_sections(iface)
                     for t in [model.auto_table(sec, fam)] if t is not None}


@rule("ROUTE_RULE_FAMILY_MISMATCH", "ROUTE_RULE_TABLE_EMPTY")
def _route_rules(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Routing rules.

    ROUTE_RULE_FAMILY_MISMATCH: a routing rule whose ``ip-from``, ``ip-to`` and ``family`` disagree
    ROUTE_RULE_TABLE_EMPTY: a rule to a table with no route in the document nor its auto-route-table-id (not main, local)

    Source: the kernel's fib rules are per family (RTM_NEWRULE with one
    family). A rule to a table with no route sends the traffic to the next
    rule, usually silently; the table's routes must be in the same document
    (the kernel fills main 254 and local 255 itself), as nmstate requires."""
    rules = list(entries(doc, "route-rules"))
    tables = _filled_tables(doc) if rules else set()
    for path, rr in rules:
        fams: List[Tuple[str, int]] = [(k, family_of(rr[k])) for k in ("ip-from", "ip-to") if k in rr]
        if "family" in rr:
            fams.append(("family", int(rr["family"][-1])))
        odd = next((k for k, f in fams if f != fams[0][1]), None)
        if odd:
            report(problems, "ROUTE_RULE_FAMILY_MISMATCH", join(path, odd), "%s is IPv%d but %s is IPv%d" % (
                odd, dict(fams)[odd], fams[0][0], fams[0][1]), "use one address family in a rule")
        table = rr.get("route-table", TABLE_MAIN)
        if table not in tables | {TABLE_MAIN, TABLE_LOCAL} and "action" not in rr:
            report(problems, "ROUTE_RULE_TABLE_EMPTY", join(path, "route-table"), "the rule sends traffic to table "
                   "%d, which has no route in this document" % table,
                   "add a route with table-id %d to routes.config, or point the rule at a table that has routes"
                   % table)


# -------------------------------------------------------------- DNS rules

#: resolv.conf options NetworkManager accepts (nm-utils.c, _nm_utils_dns_option_descs; glibc resolv.conf(5))
DNS_OPTIONS = {"ndots": True, "timeout": True, "attempts": True, "debug": False, "rotate": False,
               "no-check-names": False, "inet6": False, "ip6-bytestring": False, "ip6-dotint": False,
               "no-ip6-dotint": False, "edns0": False, "single-request": False, "single-request-reopen": False,
               "no-tld-query": False, "use-vc": False, "no-reload": False, "trust-ad": False, "no-aaaa": False,
               "_no-add-edns0": False, "_no-add-trust-ad": False}
MAXNS = 3  # glibc resolv.h: the resolver uses the first three servers
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN_RE = re.compile(r"~\.|~?%s(\.%s)*\.?" % (_LABEL, _LABEL))
_HOSTNAME_RE = re.compile(r"%s(\.%s)*\.?" % (_LABEL, _LABEL))


def dns_config(doc: Dict[str, Any]) -> Dns:
    """The document's ``dns-resolver.config`` (empty when not given)."""
    return cast(Dns, (doc.get("dns-resolver") or {}).get("config") or {})


@rule("DNS_LINK_LOCAL_NO_SCOPE", "DNS_SCOPE_UNKNOWN", "DNS_SCOPE_CONFLICT", "DNS_TOO_MANY_SERVERS",
      warnings=("DNS_SCOPE_UNKNOWN", "DNS_TOO_MANY_SERVERS"))
def _dns_servers(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Name servers.

    DNS_LINK_LOCAL_NO_SCOPE: a link-local name server without ``%iface``
    DNS_SCOPE_UNKNOWN: a name server's scope names an interface the document does not list
    DNS_SCOPE_CONFLICT: link-local name servers scoped to two different interfaces
    DNS_TOO_MANY_SERVERS: more than three name servers (the resolver uses three)

    Source: RFC 4007 (a link-local address means something only with its
    zone); NetworkManager keeps scoped servers in one profile, so one scope
    interface; glibc's resolver uses the first MAXNS = 3 servers. A scope
    interface the document does not mention is a warning: only the host
    knows it."""
    names = {i["name"] for _k, i in interfaces(doc)}
    scopes: Dict[str, str] = {}
    for j, server in enumerate(dns_config(doc).get("server", [])):
        path = "dns-resolver.config.server[%d]" % j
        addr, _sep, scope = server.partition("%")
        if not scope:
            if ipaddress.ip_address(addr).is_link_local:
                report(problems, "DNS_LINK_LOCAL_NO_SCOPE", path, "link-local name server %s has no interface" % addr,
                       "write %s%%<interface>, e.g. %s%%eth1" % (addr, addr))
            continue
        if scope not in names:
            report(problems, "DNS_SCOPE_UNKNOWN", path, "scope interface %s is not in this document; only the host "
                   "can check it" % scope, "add %s to interfaces, or check the name" % scope)
        first = next(iter(scopes.items()), None)
        if first and first[0] != scope:
            report(problems, "DNS_SCOPE_CONFLICT", path, "%s is scoped to %s but %s is scoped to %s; NetworkManager "
                   "keeps scoped servers on one interface" % (server, scope, first[1], first[0]),
                   "use one scope interface, or global addresses")
        scopes.setdefault(scope, path)
    if len(dns_config(doc).get("server", [])) > MAXNS:
        report(problems, "DNS_TOO_MANY_SERVERS", "dns-resolver.config.server[%d]" % MAXNS, "%d name servers; the "
               "resolver uses only the first %d" % (len(dns_config(doc)["server"]), MAXNS),
               "keep the three you want first")


@rule("DNS_FAMILY_INTERLEAVED")
def _dns_order(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Name server orders NetworkManager cannot write.

    DNS_FAMILY_INTERLEAVED: name servers of one family on both sides of the other family's (v4, v6, v4)

    Source: NetworkManager keeps IPv4 and IPv6 name servers in separate
    lists of a profile (``ipv4.dns``, ``ipv6.dns``) and writes each list as
    one block, ordered by ``dns-priority``; an interleaved order would come
    out regrouped and fail verification."""
    servers = dns_config(doc).get("server", [])
    fams = [family_of(s.split("%")[0]) for s in servers]
    for j in range(2, len(fams)):
        if fams[j] != fams[j - 1] and fams[j] in fams[:j - 1]:
            grouped = [s for s in servers if family_of(s.split("%")[0]) == fams[0]] + \
                [s for s in servers if family_of(s.split("%")[0]) != fams[0]]
            report(problems, "DNS_FAMILY_INTERLEAVED", "dns-resolver.config.server[%d]" % j, "IPv%d server %s "
                   "comes after an IPv%d server that follows IPv%d ones; NetworkManager writes each family's "
                   "servers as one block" % (fams[j], servers[j], fams[j - 1], fams[j]),
                   "group the servers by family, e.g. [%s]" % ", ".join(grouped))
            return


@rule("DNS_SEARCH_INVALID", "DNS_OPTION_UNKNOWN")
def _dns_search_options(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Search domains and resolver options.

    DNS_SEARCH_INVALID: a search domain that is not a domain name
    DNS_OPTION_UNKNOWN: a resolver option NetworkManager refuses

    Source: RFC 1123 2.1 (labels of letters, digits and hyphens, 1-63
    characters, at most 253 in all); NetworkManager's list of resolv.conf
    options (glibc resolv.conf(5)). A leading ``~`` (NetworkManager's
    routing-only domain) is accepted."""
    for j, domain in enumerate(dns_config(doc).get("search", [])):
        if len(domain.lstrip("~").rstrip(".")) > 253 or not _DOMAIN_RE.fullmatch(domain):
            report(problems, "DNS_SEARCH_INVALID", "dns-resolver.config.search[%d]" % j, "%s is not a domain name"
                   % shown(domain), "letters, digits and '-' in dot-separated labels of 1-63 characters, 253 at most")
    for j, option in enumerate(dns_config(doc).get("options", [])):
        name, colon, value = option.partition(":")
        if name not in DNS_OPTIONS or DNS_OPTIONS[name] != bool(colon) or (colon and not value.isdigit()):
            known = ", ".join(k + (":N" if v else "") for k, v in sorted(DNS_OPTIONS.items()))
            report(problems, "DNS_OPTION_UNKNOWN", "dns-resolver.config.options[%d]" % j, "%s is not a resolver "
                   "option NetworkManager accepts" % shown(option), "one of: %s" % known)


def autoconf_without_dhcp(ipv6: Mapping[str, Any]) -> bool:
    """Whether an ``ipv6`` section asks for SLAAC without DHCPv6
    (``autoconf: true, dhcp: false``), which NetworkManager cannot do: its
    ``auto`` method runs DHCPv6 whenever the router's advertisement asks for
    it, so the profile reads back as ``dhcp: true``."""
    return ipv6.get("enabled") is not False and ipv6.get("autoconf") is True and ipv6.get("dhcp") is False


def static_without_address(ipv4: Mapping[str, Any]) -> bool:
    """Whether an ``ipv4`` section is enabled without DHCP and with an empty
    address list: NetworkManager refuses ``ipv4.method: manual`` without
    addresses ("this property cannot be empty")."""
    return ipv4.get("enabled") is True and ipv4.get("dhcp") is False and ipv4.get("address") == []


STATIC_HINT = "add an address, set dhcp: true, or set enabled: false"


AUTOCONF_HINT = "set dhcp: true as well (NetworkManager's autoconf runs DHCPv6 when the router asks for it), " \
    "or autoconf: false"


@rule("IPV6_AUTOCONF_WITHOUT_DHCP", "IPV4_STATIC_WITHOUT_ADDRESS")
def _ip_methods(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """IP methods NetworkManager has no equivalent for.

    IPV6_AUTOCONF_WITHOUT_DHCP: IPv6 ``autoconf: true`` with ``dhcp: false`` (SLAAC only)
    IPV4_STATIC_WITHOUT_ADDRESS: IPv4 enabled without DHCP and with ``address: []`` (not on the loopback)

    Source: NetworkManager's ``ipv6.method`` has ``auto`` (SLAAC, plus DHCPv6
    when the router advertisement asks for it), ``dhcp`` (DHCPv6 only) and
    ``manual``, but no SLAAC-only method (nmstate refuses the same
    combination); its ``ipv4.method: manual`` needs at least one address.
    The host checks both again on the merged state (a document that gives
    only some of the keys)."""
    for i, iface in interfaces(doc):
        if autoconf_without_dhcp(iface.get("ipv6") or {}):
            report(problems, "IPV6_AUTOCONF_WITHOUT_DHCP", ipath(i, "ipv6", "dhcp"), "%s: SLAAC without DHCPv6 "
                   "cannot be configured through NetworkManager" % iface["name"], AUTOCONF_HINT)
        if static_without_address(iface.get("ipv4") or {}) and not kinds.implicit_addresses(iface):
            report(problems, "IPV4_STATIC_WITHOUT_ADDRESS", ipath(i, "ipv4", "address"), "%s: IPv4 is enabled "
                   "without DHCP and without an address, which NetworkManager refuses" % iface["name"], STATIC_HINT)


TOKEN_HINT = "set addr-gen-mode: eui64 (or leave it out: a token then gets eui64), or remove the token with token: ''"


@rule("IPV6_TOKEN_WITHOUT_AUTOCONF", "IPV6_TOKEN_NEEDS_EUI64", "DHCP_HOSTNAME_INVALID")
def _ip_options(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """IP options NetworkManager refuses or cannot use.

    IPV6_TOKEN_WITHOUT_AUTOCONF: an IPv6 ``token`` with ``autoconf: false`` (only SLAAC uses it)
    IPV6_TOKEN_NEEDS_EUI64: an IPv6 ``token`` with an ``addr-gen-mode`` other than ``eui64``
    DHCP_HOSTNAME_INVALID: a ``dhcp-custom-hostname`` that is not a host name or FQDN

    Source: the token is the interface identifier of the addresses SLAAC
    forms (draft-chown-6man-tokenised-ipv6-identifiers); NetworkManager
    refuses it with any mode but eui64 ("only makes sense with EUI64 address
    generation mode"), nmstate refuses it with autoconf off. The DHCP host
    name is a DNS name (RFC 2132 option 12, RFC 4702/4704: labels of 1-63
    letters, digits and '-', 253 characters at most)."""
    for i, iface in interfaces(doc):
        v6 = iface.get("ipv6") or {}
        if v6.get("token", "::") != "::" and v6.get("enabled") is not False:
            if v6.get("autoconf") is False:
                report(problems, "IPV6_TOKEN_WITHOUT_AUTOCONF", ipath(i, "ipv6", "token"), "%s: token %s is used "
                       "only by SLAAC, and autoconf is off" % (iface["name"], v6["token"]),
                       "set autoconf: true (and dhcp: true), or remove the token with token: ''")
            if v6.get("addr-gen-mode", "eui64") != "eui64":
                report(problems, "IPV6_TOKEN_NEEDS_EUI64", ipath(i, "ipv6", "addr-gen-mode"), "%s: token %s needs "
                       "addr-gen-mode eui64, not %s" % (iface["name"], v6["token"], v6["addr-gen-mode"]), TOKEN_HINT)
        for _fam, key, sec in ip_sections(iface):
            name = sec.get("dhcp-custom-hostname", "")
            if name and (len(name.rstrip(".")) > 253 or not _HOSTNAME_RE.fullmatch(name)):
                report(problems, "DHCP_HOSTNAME_INVALID", ipath(i, key, "dhcp-custom-hostname"), "%s is not a host "
                       "name or FQDN" % shown(name), "letters, digits and '-' in dot-separated labels of 1-63 "
                       "characters, 253 at most; '' for none")


# ------------------------------------------------------- options with no effect

OFF_KEYS = ("dhcp", "autoconf", "address")  # keys that merely restate "off" when false or empty


@rule("HOSTNAME_RUNNING_DIFFERS", warnings=("HOSTNAME_RUNNING_DIFFERS",))
def _hostname_pair(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """The host name's two keys.

    HOSTNAME_RUNNING_DIFFERS: ``running`` differs from a static name (``config``) the document sets

    Source: NetworkManager sets the running host name to the static one when it takes a new static
    name (and at its start), so such a running name lasts only until then (nmstate allows it)."""
    names = doc.get("hostname") or {}
    if names.get("config") and names.get("running") and names["config"] != names["running"]:
        report(problems, "HOSTNAME_RUNNING_DIFFERS", "hostname.running", "running name %s differs from the static "
               "name %s: NetworkManager puts the static name back as the running one when it restarts or takes "
               "a new static name" % (shown(names["running"]), shown(names["config"])),
               "write the same name for both, or leave running out")


@rule("OPTION_NO_EFFECT", warnings=("OPTION_NO_EFFECT",))
def _no_effect(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Keys that have no effect.

    OPTION_NO_EFFECT: IP settings on a disabled family, ``auto-*`` and DHCP options without DHCP/autoconf, STP timers with STP off

    Source: NetworkManager ignores them for the chosen method (it keeps its
    own value, so comparing them would report a change on every run); the plan
    drops them."""
    for i, iface in interfaces(doc):
        for _fam, key, sec in ip_sections(iface):
            for k, why in _ip_no_effect(key, sec):
                report(problems, "OPTION_NO_EFFECT", ipath(i, key, k), "%s: %s has no effect (%s)" % (
                    iface["name"], k, why), "remove %s.%s" % (key, k))
        for kind in kinds.KINDS:
            for keys, message, hint in kind.no_effect(iface) if kind.section in iface else []:
                report(problems, "OPTION_NO_EFFECT", ipath(i, *keys), "%s: %s" % (iface["name"], message), hint)


def _ip_no_effect(key: str, sec: IpConfig) -> List[Tuple[str, str]]:
    """``(key, why)`` of the keys of an ``ipv4``/``ipv6`` section that have no effect."""
    if sec.get("enabled") is False:
        return [(k, "%s is disabled" % key) for k, v in sec.items()
                if k != "enabled" and not (v in ([], False) and k in OFF_KEYS)]
    out = []
    given: Mapping[str, Any] = sec
    if sec.get("dhcp") is False and (key == "ipv4" or sec.get("autoconf") is False):
        out = [(k, "%s uses neither DHCP nor autoconf" % key) for k in ("auto-dns", "auto-gateway", "auto-routes")
               + model.DYNAMIC_OPTIONS if k in given and given[k] != model.IP_OPTION_DEFAULTS.get(k)]
    if sec.get("dhcp-send-hostname") is False and sec.get("dhcp-custom-hostname"):
        out.append(("dhcp-custom-hostname", "dhcp-send-hostname is false"))
    return out
