# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The model of a host's network state, in nmstate's schema.

A *state* is a plain mapping in canonical form (see :mod:`.schema`)::

    {"interfaces": {name: iface, ...},          # keyed by name here
     "routes": [route, ...],                    # canonical routes, see route_key()
     "route-rules": [rule, ...],
     "dns-resolver": {"server": [...], "search": [...], "options": [...]}}

The desired-state *document* is the same with ``interfaces`` as a list and
sections wrapped in ``config``; :func:`from_document` and :func:`to_document`
convert. :func:`merge` computes the target state: what the document does not
mention stays as it is (nmstate's semantics).
"""

from __future__ import annotations

import copy
import ipaddress
import re
from typing import Any, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, TypedDict

# ----------------------------------------------------------------- the types
# TypedDicts in functional syntax: nmstate's keys have hyphens. ``total=False``: a document gives
# any subset of keys; the canonical forms below say which are always present.

#: an interface's ``state``
IfaceState = Literal["up", "down", "absent"]
#: an IP address family
Family = Literal[4, 6]

#: one static address of an ``ipv4``/``ipv6`` section (``prefix-length``: bits)
Address = TypedDict("Address", {"ip": str, "prefix-length": int})
#: an interface's ``ipv4`` or ``ipv6`` section (``autoconf``, ``dhcp-duid``, ``addr-gen-mode``, ``token``: IPv6
#: only; ``dhcp-client-id``: IPv4 only); the IP options are left out at NetworkManager's default
#: (:data:`IP_OPTION_DEFAULTS`)
IpConfig = TypedDict("IpConfig", {
    "enabled": bool, "dhcp": bool, "autoconf": bool, "address": List[Address],
    "auto-dns": bool, "auto-gateway": bool, "auto-routes": bool, "auto-route-table-id": int,
    "auto-route-metric": int, "dhcp-client-id": str, "dhcp-duid": str, "dhcp-send-hostname": bool,
    "dhcp-custom-hostname": str, "addr-gen-mode": str, "token": str}, total=False)
#: an interface: the keys every kind shares. Each kind's own section (``bridge``, ``vlan``...) sits
#: under its key too; kinds/ types and reads it (a TypedDict cannot leave its keys open, and the model
#: names no kind)
Interface = TypedDict("Interface", {
    "name": str, "type": str, "state": IfaceState, "mtu": int, "mac-address": str,
    "ipv4": IpConfig, "ipv6": IpConfig}, total=False)
#: a route (canonical: ``table-id`` always present, see :func:`canonical_route`); ``metric`` unset:
#: NetworkManager's per-device default
Route = TypedDict("Route", {
    "destination": str, "next-hop-interface": str, "next-hop-address": str, "metric": int,
    "table-id": int, "on-link": bool, "state": Literal["absent"], "source": str, "mtu": int, "cwnd": int,
    "initcwnd": int, "initrwnd": int, "lock-cwnd": bool, "weight": int,
    "route-type": Literal["blackhole", "unreachable", "prohibit"]}, total=False)
#: a route's ``route-type`` (nmstate's, NetworkManager's route attribute ``type``): routes that drop what they
#: match and have no next hop (RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT of include/uapi/linux/rtnetlink.h)
ROUTE_TYPES = ("blackhole", "unreachable", "prohibit")
#: a ``route-type`` route as the kernel has it: ``(destination, route-type, metric, table)``
TypedRoute = Tuple[str, str, int, int]
#: the attributes of a route beyond its identity (:func:`route_key`), as NetworkManager's ``route-data``
#: item keys (nm-settings-dbus(5)): ``{model key: NetworkManager key}``
ROUTE_ATTRIBUTES = {"source": "src", "mtu": "mtu", "cwnd": "cwnd", "initcwnd": "initcwnd", "initrwnd": "initrwnd",
                    "lock-cwnd": "lock-cwnd", "weight": "weight"}
#: a routing rule's action other than "to a table" (FR_ACT_* of include/uapi/linux/fib_rules.h)
RULE_ACTIONS = {"blackhole": 6, "unreachable": 7, "prohibit": 8}
#: a routing rule (canonical: ``route-table`` always present, see :func:`canonical_rule`)
RouteRule = TypedDict("RouteRule", {
    "ip-from": str, "ip-to": str, "priority": int, "route-table": int, "family": Literal["ipv4", "ipv6"],
    "iif": str, "state": Literal["absent"], "fwmark": int, "fwmask": int,
    "action": Literal["blackhole", "unreachable", "prohibit"], "suppress-prefix-length": int}, total=False)
#: the static DNS configuration (``dns-resolver.config``): servers, search domains, resolver options
Dns = TypedDict("Dns", {"server": List[str], "search": List[str], "options": List[str]}, total=False)
#: a host's whole state (interfaces keyed by name; each as :data:`Interface` plus its kind's section)
State = TypedDict("State", {
    "interfaces": Dict[str, Dict[str, Any]], "routes": List[Route], "route-rules": List[RouteRule],
    "dns-resolver": Dns})

MAIN_TABLE = 254  # the kernel's main routing table (RT_TABLE_MAIN)
FWMASK_ALL = 0xFFFFFFFF  # a rule's fwmask when only fwmark is given (kernel: fib_nl2rule)
IPV6_DEFAULT_METRIC = 1024  # the kernel stores an IPv6 route metric of 0 as 1024 (IP6_RT_PRIO_USER)

#: how one section of an interface merges: ``(current section, desired section) -> merged section``
SectionMerge = Callable[[Dict[str, Any], Dict[str, Any]], Dict[str, Any]]


#: the IP options that act only with DHCP (IPv4) or DHCP/autoconf (IPv6): nmstate drops them otherwise
DYNAMIC_OPTIONS = ("auto-route-table-id", "auto-route-metric", "dhcp-client-id", "dhcp-duid", "dhcp-send-hostname",
                   "dhcp-custom-hostname")
#: the value of an IP option that means NetworkManager's default (nm-settings-dbus(5)): the canonical form
#: leaves such a key out (``None``: the option has no value of that meaning to write)
IP_OPTION_DEFAULTS: Dict[str, Any] = {"auto-route-table-id": 0, "auto-route-metric": None, "dhcp-client-id": None,
                                      "dhcp-duid": None, "dhcp-send-hostname": True, "dhcp-custom-hostname": "",
                                      "addr-gen-mode": "default", "token": "::"}
#: ``addr-gen-mode`` words and NetworkManager's ``ipv6.addr-gen-mode`` numbers (NMSettingIP6ConfigAddrGenMode;
#: ``default`` and ``default-or-eui64`` take NetworkManager.conf's global default, else stable-privacy / eui64)
ADDR_GEN_MODES = {"eui64": 0, "stable-privacy": 1, "default-or-eui64": 2, "default": 3}
#: nmstate's DHCPv4 client id words and NetworkManager's (``ll``: the MAC address, type 1; ``iaid+duid``: RFC 4361)
CLIENT_ID_WORDS = {"ll": "mac", "iaid+duid": "duid"}
#: NetworkManager's ``ipv6.dhcp-duid`` words (nm-settings-dbus(5)); any other DUID is hex bytes
DUID_WORDS = ("lease", "llt", "ll", "stable-llt", "stable-ll", "stable-uuid")
#: a DUID's length in bytes: its 2-byte type and at most 128 bytes (RFC 8415 §11.1; NetworkManager refuses others)
DUID_BYTES = (3, 130)
_HEX_BYTES = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*")


def hex_bytes(text: str) -> Optional[int]:
    """The number of bytes of ``text`` written as colon-separated hex pairs
    (``01:aa:bb`` is 3), or ``None`` when it is not written so."""
    return text.count(":") + 1 if _HEX_BYTES.fullmatch(text) else None


def canonical_client_id(text: str) -> str:
    """A DHCPv4 client id (``dhcp-client-id``) in canonical form: nmstate's
    words (``ll``, ``iaid+duid``, either case; NetworkManager's ``mac`` and
    ``duid`` mean the same), hex bytes in lower case (binary, the first byte
    the type, RFC 2132 §9.14), any other text as it is (NetworkManager sends
    it with type 0: ``perm-mac``, ``ipv6-duid``, ``stable`` are its words).

    Raises:
        ValueError: empty, or with a ``:`` but not hex pairs of at least 2 bytes."""
    word = text.lower()
    for ours, nm in CLIENT_ID_WORDS.items():
        if word in (ours, nm):
            return ours
    if ":" in text:
        if (hex_bytes(text) or 0) < 2:
            raise ValueError("%r is neither a word nor hex bytes of at least 2 (type and value, such as "
                             "01:02:00:00:00:00:01)" % text)
        return word
    if not text:
        raise ValueError("an empty client id")
    return text


def canonical_duid(text: str) -> str:
    """A DHCPv6 DUID (``dhcp-duid``) in canonical form: one of
    NetworkManager's words (:data:`DUID_WORDS`, either case) or hex bytes in
    lower case, :data:`DUID_BYTES` long.

    Raises:
        ValueError: anything else (nmstate's ``en`` and ``uuid`` included:
            NetworkManager has no such words)."""
    word = text.lower()
    if word in DUID_WORDS:
        return word
    count = hex_bytes(text)
    if count is None or not DUID_BYTES[0] <= count <= DUID_BYTES[1]:
        raise ValueError("%r is neither one of %s nor %d to %d hex bytes (2 of type, then the value)"
                         % (text, ", ".join(DUID_WORDS), DUID_BYTES[0], DUID_BYTES[1]))
    return word


def canonical_addr_gen_mode(text: str) -> str:
    """An ``addr-gen-mode`` word (:data:`ADDR_GEN_MODES`) in lower case (nmstate also takes ``EUI64``...).

    Raises:
        ValueError: not one of them."""
    if text.lower() not in ADDR_GEN_MODES:
        raise ValueError("the modes are %s" % ", ".join(ADDR_GEN_MODES))
    return text.lower()


def canonical_token(text: str) -> str:
    """An IPv6 token (``token``: the interface identifier SLAAC uses, the
    last 64 bits) in canonical form: compressed (``::fac1``; nmstate's
    ``::0.0.250.193`` is the same), ``::`` for none (also ``""``).

    Raises:
        ValueError: not an IPv6 address, or with any of its first 64 bits set."""
    addr = ipaddress.IPv6Address(text.strip() or "::")
    if int(addr) >> 64:
        raise ValueError("%s sets bits of the first 64 (the prefix): a token is the last 64 bits only, "
                         "such as ::fac1" % text)
    return str(addr)


def is_dynamic(ip: Mapping[str, Any], family: int) -> bool:
    """Whether an enabled ``ipv4``/``ipv6`` section asks for DHCP (IPv6: or
    autoconf), where :data:`DYNAMIC_OPTIONS` act."""
    return bool(ip.get("enabled")) and bool(ip.get("dhcp") or (family == 6 and ip.get("autoconf")))


def auto_table(ip: Mapping[str, Any], family: int) -> Optional[int]:
    """The table NetworkManager puts a dynamic section's routes in (the
    lease's, the router advertisement's, the prefix routes) when it names
    one (``auto-route-table-id``), else ``None``."""
    table = ip.get("auto-route-table-id")
    return int(table) if table and is_dynamic(ip, family) and ip.get("auto-routes") is not False else None


def canonical_ip_options(ip: Dict[str, Any], family: int) -> None:
    """The IP options of an enabled section in canonical form, in place, the
    same for the document's target and the host's side: a value that means
    NetworkManager's default left out (:data:`IP_OPTION_DEFAULTS`), the
    :data:`DYNAMIC_OPTIONS` left out without DHCP/autoconf, and
    ``dhcp-custom-hostname`` without ``dhcp-send-hostname`` (nmstate drops
    them; NetworkManager would not use them)."""
    for key, default in IP_OPTION_DEFAULTS.items():
        if key in ip and (ip[key] == default or (key in DYNAMIC_OPTIONS and not is_dynamic(ip, family))):
            del ip[key]
    if ip.get("dhcp-send-hostname") is False:
        ip.pop("dhcp-custom-hostname", None)


def family_of(text: str) -> Family:
    """4 or 6 for a canonical address or network literal (``%scope`` and
    ``/prefix`` allowed): IPv6 literals, and only they, contain a colon."""
    return 6 if ":" in text else 4


def canonical_route(route: Mapping[str, Any]) -> Dict[str, Any]:
    """A route (:data:`Route`) in canonical form: ``table-id`` always present (254 when
    unset), no ``next-hop-address`` for on-link routes (``0.0.0.0``/``::``
    dropped), an IPv6 metric of 0 written as the kernel's 1024, ``state``
    dropped. Unset metric stays unset (NetworkManager picks the device's)."""
    out = {k: v for k, v in route.items() if k != "state"}
    out.setdefault("table-id", MAIN_TABLE)
    if out.get("table-id") == 0:
        out["table-id"] = MAIN_TABLE  # NM: 0 means "the connection's table", main by default
    nh = out.get("next-hop-address")
    if nh is not None and ipaddress.ip_address(nh).is_unspecified:
        del out["next-hop-address"]
    if "destination" in out and family_of(out["destination"]) == 6 and out.get("metric") == 0:
        out["metric"] = IPV6_DEFAULT_METRIC
    for flag in ("on-link", "lock-cwnd"):
        if out.get(flag) is False:
            del out[flag]
    return out


def route_key(route: Mapping[str, Any]) -> Tuple[Any, ...]:
    """The identity of a canonical route, for comparison and sorting. A
    ``route-type`` route's interface is not part of it: the kernel ties such
    a route to no device (an IPv6 one shows on ``lo``), whichever profile holds it."""
    typed = route.get("route-type", "")
    return (family_of(route["destination"]), route["destination"],
            "" if typed else route.get("next-hop-interface", ""), route.get("next-hop-address", ""),
            route.get("table-id", MAIN_TABLE), -1 if route.get("metric") is None else route["metric"],
            bool(route.get("on-link")), typed)


def document_route(route: Mapping[str, Any]) -> Dict[str, Any]:
    """A canonical route as nmstate writes it in a document: an IPv4
    ``route-type`` route without ``next-hop-interface`` (the kernel gives it
    no device; an IPv6 one keeps the interface that the kernel shows, ``lo``)."""
    out = dict(route)
    if out.get("route-type") and family_of(out["destination"]) == 4:
        out.pop("next-hop-interface", None)
    return out


def route_matches(pattern: Mapping[str, Any], route: Mapping[str, Any]) -> bool:
    """Whether ``route`` matches an ``absent`` entry: every key the entry gives
    must be equal (nmstate's wildcard semantics); unset keys match anything."""
    for key, value in pattern.items():
        if key == "state":
            continue
        have = route.get(key)
        if key == "table-id" and have is None:
            have = MAIN_TABLE
        if key == "next-hop-address" and value is not None and ipaddress.ip_address(value).is_unspecified:
            value = None
        if key == "metric" and "destination" in route and family_of(route["destination"]) == 6 and value == 0:
            value = IPV6_DEFAULT_METRIC
        if have != value:
            return False
    return True


def rule_key(rule: Mapping[str, Any]) -> Tuple[Any, ...]:
    """Identity of a canonical route rule."""
    return (rule.get("family", ""), rule.get("priority", -1), rule.get("ip-from", ""), rule.get("ip-to", ""),
            rule.get("route-table", MAIN_TABLE), rule.get("iif", ""), rule.get("fwmark", 0), rule.get("fwmask", 0),
            rule.get("action", ""), rule.get("suppress-prefix-length", -1))


def canonical_rule(rule: Mapping[str, Any]) -> Dict[str, Any]:
    """A route rule (:data:`RouteRule`) in canonical form: ``family`` derived from its prefixes (IPv4
    without any),
    ``route-table`` 254 when unset, ``state`` dropped, nmstate's alias ``suppress_prefixlength``
    written ``suppress-prefix-length``, a zero ``fwmark``/``fwmask`` pair dropped and a mark without a mask
    masked with ``0xffffffff`` (the kernel's default, fib_nl2rule)."""
    out = {k: v for k, v in rule.items() if k != "state"}
    if "suppress_prefixlength" in out:
        out.setdefault("suppress-prefix-length", out.pop("suppress_prefixlength"))
    if out.get("fwmark") or out.get("fwmask"):
        out.setdefault("fwmark", 0)
        out.setdefault("fwmask", FWMASK_ALL if out["fwmark"] else 0)
    else:
        out.pop("fwmark", None)
        out.pop("fwmask", None)
    for key in ("ip-from", "ip-to"):
        if key in out:
            out.setdefault("family", "ipv%d" % family_of(out[key]))
    out.setdefault("family", "ipv4")  # nmstate: a rule with neither prefix nor family is IPv4
    out.setdefault("route-table", MAIN_TABLE)
    return out


def empty_state() -> Dict[str, Any]:
    """A state (:data:`State`) with nothing in it."""
    return {"interfaces": {}, "routes": [], "route-rules": [],
            "dns-resolver": {"server": [], "search": [], "options": []}}


def from_document(doc: Dict[str, Any], sections: Mapping[str, SectionMerge]) -> Dict[str, Any]:
    """The canonical parsed document (from :func:`schema.parse_document`) as
    the partial state used by :func:`merge`: interfaces keyed by name (a later
    entry of the same name updates the earlier one, see :func:`merge_iface`),
    route and rule lists, DNS config. Sections the document does not mention
    are absent. Callers use :func:`.kinds.from_document`, which knows the
    ``sections``."""
    out: Dict[str, Any] = {}
    if "interfaces" in doc:
        ifaces: Dict[str, Any] = {}
        for iface in doc["interfaces"] or []:
            if iface is None:
                continue
            ifaces[iface["name"]] = merge_iface(ifaces.get(iface["name"], {}), iface, sections)
        out["interfaces"] = ifaces
    if "routes" in doc:
        out["routes"] = list(doc["routes"].get("config", []) or [])
    if "route-rules" in doc:
        out["route-rules"] = list(doc["route-rules"].get("config", []) or [])
    if "dns-resolver" in doc:
        out["dns-resolver"] = dict(doc["dns-resolver"].get("config", {}) or {})
    if "hostname" in doc:
        out["hostname"] = dict(doc["hostname"] or {})
    return out


def to_document(state: Dict[str, Any], only: Optional[Iterable[str]] = None) -> Dict[str, Any]:
    """A state as an nmstate document (what ``network_state_info`` returns).

    ``only`` limits the interfaces to those names (for diffs). Interfaces
    are sorted by name, routes by :func:`route_key`.
    """
    names = sorted(state.get("interfaces", {}) if only is None else only)
    doc: Dict[str, Any] = {
        "interfaces": [state["interfaces"][n] for n in names if n in state.get("interfaces", {})],
    }
    if "routes" in state:
        doc["routes"] = {"config": [document_route(r) for r in sorted(state["routes"], key=route_key)]}
    if "route-rules" in state:
        doc["route-rules"] = {"config": sorted(state["route-rules"], key=rule_key)}
    if "dns-resolver" in state:
        doc["dns-resolver"] = {"config": state["dns-resolver"]}
    return doc


def without_no_effect(state: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of ``state`` without the options that have no effect, so that
    ``network_state_info``'s output fed back is a silent no-op (validation
    warns OPTION_NO_EFFECT about them): a bridge's STP timers and priority
    while STP is off (NetworkManager keeps them; merged from the host, they
    compare equal)."""
    out = copy.deepcopy(state)
    for iface in out.get("interfaces", {}).values():
        options = (iface.get("bridge") or {}).get("options") or {}
        if (options.get("stp") or {}).get("enabled") is False:
            options["stp"] = {"enabled": False}
    return out


def merge_iface(current: Mapping[str, Any], desired: Mapping[str, Any],
                sections: Mapping[str, SectionMerge]) -> Dict[str, Any]:
    """``desired`` over ``current`` for one interface: scalar keys replace,
    a key of ``sections`` whose value is a mapping merges with its function
    (ipv4/ipv6 key by key, :func:`merge_flat`; each kind's section as the
    kind says, :meth:`.kinds.base.Kind.merge_section`), lists (addresses,
    ports) replace whole."""
    # each value copied once: what ``desired`` replaces is not copied first (None keeps the key's place)
    out = {key: None if key in desired and not (key in sections and isinstance(desired[key], dict))
           else copy.deepcopy(value) for key, value in current.items()}
    for key, value in desired.items():
        if key in sections and isinstance(value, dict):
            have = out.get(key)
            out[key] = sections[key](have if isinstance(have, dict) else {}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge_flat(current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
    """A section merged one level deep: the keys ``desired`` gives replace
    those of ``current``, the others stay (nmstate's merge)."""
    out = dict(current)
    for key, value in desired.items():
        out[key] = copy.deepcopy(value)
    return out


def merge(current: Dict[str, Any], desired: Dict[str, Any], sections: Mapping[str, SectionMerge]) -> Dict[str, Any]:
    """The target state: ``desired`` (from :func:`from_document`) applied to
    ``current`` (a full state); callers use :func:`.kinds.merge`, which knows
    the ``sections`` (see :func:`merge_iface`).

    - interfaces: merged by name; ``state: absent`` keeps the entry (the plan
      deletes it); a new interface starts from ``new_interface()``;
    - routes: every non-absent desired route is added unless an equal one
      exists; ``state: absent`` entries remove every matching route;
    - route rules: same as routes;
    - DNS: each given key (server, search, options) replaces the current
      list; ``config: {}`` clears all three (nmstate).
    """
    named = desired.get("interfaces", {})
    # a copy of current, each interface copied once: merge_iface copies those the document names
    target = {key: value if key == "interfaces" else copy.deepcopy(value) for key, value in current.items()}
    target["interfaces"] = {n: i if n in named else copy.deepcopy(i) for n, i in current["interfaces"].items()}
    for name, iface in named.items():
        base = current["interfaces"].get(name) or new_interface(name, iface.get("type"))
        target["interfaces"][name] = merge_iface(base, iface, sections)
    # removing an interface, or disabling a family on it, also removes the routes through it
    gone = {n for n, i in target["interfaces"].items() if i.get("state") == "absent"}
    routes = [r for r in target["routes"] if r.get("next-hop-interface") not in gone and _family_enabled(
        target["interfaces"].get(r.get("next-hop-interface", ""), {}), family_of(r["destination"]))]
    target["routes"] = _merge_entries(routes, desired.get("routes", []), canonical_route, route_key)
    target["route-rules"] = _merge_entries(target["route-rules"], desired.get("route-rules", []), canonical_rule,
                                           rule_key)
    if "dns-resolver" in desired:
        dns = desired["dns-resolver"]
        if not dns:
            target["dns-resolver"] = {"server": [], "search": [], "options": []}
        else:
            target["dns-resolver"] = dict(target["dns-resolver"], **dns)
    return target


def _merge_entries(current: List[Dict[str, Any]], desired: List[Dict[str, Any]],
                   canonical: Any, key: Any) -> List[Dict[str, Any]]:
    """Routes or rules: every ``state: absent`` entry removes what it matches
    (a pattern), then every other entry is added unless an equal one exists."""
    absent = [e for e in desired if e.get("state") == "absent"]  # few: a scan of every entry per entry is quadratic
    out = [r for r in current if not any(route_matches(e, r) for e in absent)] if absent else list(current)
    have = {key(r) for r in out}
    for entry in desired:
        if entry.get("state") != "absent":
            item = canonical(entry)
            if key(item) not in have:
                out.append(item)
                have.add(key(item))
    return sorted(out, key=key)


def _family_enabled(iface: Dict[str, Any], family: int) -> bool:
    # interfaces without a section (not modelled yet) keep their routes
    return (iface.get("ipv%d" % family) or {"enabled": True}).get("enabled", True) is not False


def new_interface(name: str, iface_type: Optional[str]) -> Interface:
    """The state a newly created profile starts from: up, IPv4 and IPv6
    disabled (nmstate's default for a new interface)."""
    out: Interface = {"name": name, "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False}}
    if iface_type:
        out["type"] = iface_type
    return out
