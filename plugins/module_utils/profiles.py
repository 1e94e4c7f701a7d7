# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager profile settings <-> the model, as plain Python values.

Settings are NM's ``a{sa{sv}}`` as plain dicts (``settings["ipv4"]["method"]``),
without D-Bus types: :mod:`.nm.settings` turns them into D-Bus values. Reading
(:func:`iface_from_profile`, :func:`routes_from_profile`,
:func:`dns_from_profile`) tolerates every property NM may report; writing
(:func:`build_settings`) starts from the profile's own settings and changes
only the properties whose model value changed, so that NM keys we do not
model survive and a no-op writes nothing. Property names and defaults follow
NetworkManager's settings reference (nm-settings-dbus(5)).
"""

from __future__ import annotations

import copy
import fnmatch
import ipaddress
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from . import kinds, model
from .nmconst import FLAG_EXTERNAL, FLAG_NM_GENERATED, FLAG_VOLATILE
from .ops import Settings

#: one interface, one route, one rule of the model (see :mod:`.model`)
Iface = Dict[str, Any]
Route = Dict[str, Any]
Rule = Dict[str, Any]
RouteKey = Tuple[Any, ...]

#: the ownership mark, in the profile's ``user.data`` (NM keeps it with the profile and ignores it; its keys must
#: look like a dotted DNS name, nm-settings(5) "user" setting)
OWNER_KEY = "org.hostnet.nm.owner"
OWNER_IFACE_KEY = "org.hostnet.nm.interface"
OWNER = "hostnet.nm"
#: ``user.data`` key nm-initrd-generator sets on the profiles it writes at boot
ORIGIN_KEY = "org.freedesktop.NetworkManager.origin"
#: NM's bounds of ``connection.autoconnect-priority``
AUTOCONNECT_PRIORITY_MAX = 999

#: deprecated forms NM still reports; sending them makes NM ignore the new ones
DEPRECATED = {"ipv4": ("addresses", "routes"), "ipv6": ("addresses", "routes"),
              "802-3-ethernet": ("cloned-mac-address",), "bridge": ("mac-address",)}
#: the properties that hold a family's DNS configuration
DNS_PROPERTIES = ("dns", "dns-priority", "dns-search", "dns-options")
AF = {4: 2, 6: 10}  # AF_INET, AF_INET6: NM's routing-rule "family"
#: a routing rule's numeric selectors: ``{model key: NetworkManager's routing-rules item key}``
RULE_ATTRIBUTES = {"fwmark": "fwmark", "fwmask": "fwmask", "suppress-prefix-length": "suppress-prefixlength"}


# ------------------------------------------------------------------ reading

def ipv4_dns_from_nm(values: List[int]) -> List[str]:
    """``ipv4.dns`` (``au``, addresses in network byte order) as strings."""
    return [str(ipaddress.IPv4Address(int(v).to_bytes(4, sys.byteorder))) for v in values]


def ipv4_dns_to_nm(servers: List[str]) -> List[int]:
    """Strings as ``ipv4.dns`` values (uint32 in network byte order)."""
    return [int.from_bytes(ipaddress.IPv4Address(s).packed, sys.byteorder) for s in servers]


def mac_text(value: Any) -> Optional[str]:
    """A MAC from settings (``ay`` bytes or a string) in canonical form, or
    ``None`` for NM's keywords (``preserve``, ``permanent``, ``random``...)."""
    if isinstance(value, (bytes, bytearray, list)):
        raw = bytes(value)
        return ":".join("%02X" % b for b in raw) if len(raw) == 6 else None
    if isinstance(value, str) and value.count(":") == 5:
        return value.upper()
    return None


def _ip_section(sec: Dict[str, Any], family: int) -> Dict[str, Any]:
    method = sec.get("method", "auto")
    if method in ("disabled", "ignore"):
        return {"enabled": False}
    out: Dict[str, Any] = {"enabled": True}
    if family == 4:
        out["dhcp"] = method == "auto"
        dynamic = out["dhcp"]
    else:
        out["dhcp"] = method in ("auto", "dhcp")
        out["autoconf"] = method == "auto"
        dynamic = out["dhcp"] or out["autoconf"]
    out["address"] = [{"ip": str(ipaddress.ip_address(a["address"])), "prefix-length": int(a["prefix"])}
                      for a in sec.get("address-data", [])]
    if dynamic:
        out["auto-dns"] = not sec.get("ignore-auto-dns", False)
        out["auto-gateway"] = not sec.get("never-default", False)
        out["auto-routes"] = not sec.get("ignore-auto-routes", False)
    out.update(_options_from_nm(sec, family))
    model.canonical_ip_options(out, family)
    return out


#: the IP options of the model and the NetworkManager property of each (``dhcp-custom-hostname``: see
#: :func:`_write_hostname`), both families unless the schema refuses it in one
IP_OPTIONS = {"auto-route-table-id": "route-table", "auto-route-metric": "route-metric",
              "dhcp-client-id": "dhcp-client-id", "dhcp-duid": "dhcp-duid", "dhcp-send-hostname": "dhcp-send-hostname",
              "dhcp-custom-hostname": "dhcp-hostname", "addr-gen-mode": "addr-gen-mode", "token": "token"}
#: ``ipv6.addr-gen-mode`` numbers and their words
_GEN_MODE_WORDS = {v: k for k, v in model.ADDR_GEN_MODES.items()}


def _options_from_nm(sec: Dict[str, Any], family: int) -> Dict[str, Any]:
    """The IP options of an enabled family's settings, before
    :func:`.model.canonical_ip_options` (NetworkManager's defaults where it
    leaves a property out; ``addr-gen-mode`` 3, ``default``, on D-Bus)."""
    out: Dict[str, Any] = {
        "auto-route-table-id": int(sec.get("route-table", 0) or 0),
        "dhcp-send-hostname": bool(sec.get("dhcp-send-hostname", True)),
        "dhcp-custom-hostname": sec.get("dhcp-fqdn") or sec.get("dhcp-hostname") or ""}
    if int(sec.get("route-metric", -1)) >= 0:
        out["auto-route-metric"] = int(sec["route-metric"])
    for key, form in (("dhcp-client-id", model.canonical_client_id), ("dhcp-duid", model.canonical_duid),
                      ("token", model.canonical_token)):
        if sec.get(key):
            out[key] = _tolerant(form, str(sec[key]))
    if family == 6:
        out["addr-gen-mode"] = _GEN_MODE_WORDS.get(int(sec.get("addr-gen-mode", 3)), str(sec.get("addr-gen-mode")))
    return out


def _tolerant(form: Any, text: str) -> str:
    """``form(text)``, or ``text`` as it is when NetworkManager holds a value our schema would refuse."""
    try:
        return str(form(text))
    except ValueError:
        return text


def device_takes(device_type: Optional[str], settings: Settings) -> bool:
    """Whether a device of model type ``device_type`` can take a profile with
    ``settings`` (its ``connection.type``; a veth device is an ethernet one)."""
    kind = kinds.by_profile(settings)
    return kind is not None and (kind.type == device_type or kind.reported_as is not None)


def is_port(settings: Settings) -> bool:
    """Whether the profile is a port of a bridge, bond or VRF."""
    return bool(settings.get("connection", {}).get("master"))


#: ``connection.slave-type`` values of the controllers whose ports keep their IP configuration (a VRF's)
IP_PORT_TYPES = tuple(k.port_type for k in kinds.KINDS if k.port_type and k.ports_keep_ip)


def port_keeps_ip(settings: Settings) -> bool:
    """Whether the profile is a port that keeps its IP configuration,
    routes, rules and DNS (a VRF's port)."""
    return settings.get("connection", {}).get("slave-type") in IP_PORT_TYPES


def l3_profile(settings: Settings) -> bool:
    """Whether the profile holds IP configuration: not a bridge's or bond's port."""
    return not is_port(settings) or port_keeps_ip(settings)


def _link_from_profile(iface: Iface, settings: Settings, device: Optional[Mapping[str, Any]]) -> None:
    """``mtu`` and ``mac-address``: the profile's when it sets them, else the
    device's live ones (NM's ``0``/unset mean "keep")."""
    eth = settings.get("802-3-ethernet", {})
    mtu = eth.get("mtu") or (device or {}).get("mtu")
    if mtu:
        iface["mtu"] = int(mtu)
    mac = mac_text(eth.get("assigned-mac-address")) or mac_text(eth.get("cloned-mac-address")) or \
        (device or {}).get("mac")
    if mac:
        iface["mac-address"] = mac


def iface_from_profile(settings: Settings, device: Optional[Mapping[str, Any]], active: bool) -> Iface:
    """One interface of the model from its profile and (if any) its device.

    ``device`` is the reader's device record (``mtu``, ``mac`` live values)
    or ``None``. ``mtu`` and ``mac-address`` are the profile's when it sets
    them, else the device's live ones (NM's ``0``/unset mean "keep"), so a
    document that restates the live value is a no-op. Ports are filled in by
    the reader (they live in the ports' profiles)."""
    con = settings.get("connection", {})
    nm_type = con.get("type", "")
    kind = kinds.by_profile(settings)
    iface: Iface = {"name": con.get("interface-name", ""), "type": kind.type if kind else nm_type,
                    "state": "up" if active else "down"}
    _link_from_profile(iface, settings, device)
    if not l3_profile(settings):
        iface["ipv4"], iface["ipv6"] = {"enabled": False}, {"enabled": False}
    else:
        iface["ipv4"] = _ip_section(settings.get("ipv4", {"method": "disabled"}), 4)
        iface["ipv6"] = _ip_section(settings.get("ipv6", {"method": "disabled"}), 6)
    if kind is not None:
        iface.update(kind.from_nm(settings))
    return iface


def add_port(controller: Iface, name: str, settings: Settings) -> None:
    """Put port ``name`` (its profile's ``settings``) into ``controller``'s
    port list (:meth:`.kinds.base.Kind.port_from_nm`: a bridge's entry with
    the port's options, a bond's port name)."""
    kind = kinds.of(controller)
    if kind is not None and kind.controller and kind.section:
        controller.setdefault(kind.section, {}).setdefault("port", []).append(kind.port_from_nm(name, settings))


def sort_ports(iface: Iface) -> None:
    """An interface's port list in name order (in place)."""
    kind = kinds.of(iface)
    if kind is not None and kind.controller and "port" in kind.section_of(iface):
        kind.section_of(iface)["port"].sort(key=lambda p: p["name"] if isinstance(p, dict) else p)


def _route_from_nm(r: Dict[str, Any], name: str, table: int) -> Route:
    route: Route = {"destination": "%s/%d" % (ipaddress.ip_address(r["dest"]), int(r["prefix"])),
                    "next-hop-interface": name, "table-id": int(r.get("table", table) or table)}
    if r.get("next-hop"):
        route["next-hop-address"] = str(ipaddress.ip_address(r["next-hop"]))
    if r.get("metric") is not None and int(r["metric"]) >= 0:
        route["metric"] = int(r["metric"])
    if r.get("onlink"):
        route["on-link"] = True
    for key, nm_key in model.ROUTE_ATTRIBUTES.items():
        if r.get(nm_key) not in (None, 0, False, ""):
            route[key] = r[nm_key]
    if r.get("type") in model.ROUTE_TYPES:
        route["route-type"] = r["type"]
    return model.canonical_route(route)


def _gateway_route(sec: Dict[str, Any], family: int, name: str, table: int) -> Route:
    route: Route = {"destination": "0.0.0.0/0" if family == 4 else "::/0", "next-hop-interface": name,
                    "next-hop-address": str(ipaddress.ip_address(sec["gateway"])), "table-id": table}
    if sec.get("route-metric", -1) not in (-1, None):
        route["metric"] = int(sec["route-metric"])
    return model.canonical_route(route)


def modelled_route(item: Mapping[str, Any]) -> bool:
    """Whether a ``route-data`` item is a route of the model: unicast or a
    ``route-type`` (:data:`.model.ROUTE_TYPES`). NetworkManager's ``local``
    and ``throw`` routes (nmstate has neither) are not: they stay in their
    profile as they are, never reported, verified or rewritten."""
    return item.get("type") in (None, "unicast") + model.ROUTE_TYPES


def routes_from_profile(settings: Settings) -> Tuple[List[Route], List[RouteKey]]:
    """The profile's static routes as canonical model routes (:func:`modelled_route`), and the keys of
    those that are the profile's ``gateway`` field (kept there on write, so a
    gateway set outside hostnet.nm survives)."""
    name = settings.get("connection", {}).get("interface-name", "")
    routes: List[Route] = []
    gateways: List[RouteKey] = []
    for family, sec_name in ((4, "ipv4"), (6, "ipv6")):
        sec = settings.get(sec_name, {})
        table = sec.get("route-table") or model.MAIN_TABLE
        routes.extend(_route_from_nm(r, name, table) for r in sec.get("route-data", []) if modelled_route(r))
        if sec.get("gateway"):
            route = _gateway_route(sec, family, name, table)
            routes.append(route)
            gateways.append(model.route_key(route))
    return routes, gateways


def _rule_from_nm(r: Dict[str, Any], family: int) -> Rule:
    rule: Rule = {"family": "ipv%d" % family, "route-table": int(r.get("table", model.MAIN_TABLE))}
    if r.get("priority") is not None:
        rule["priority"] = int(r["priority"])
    for key, nm_key in (("ip-from", "from"), ("ip-to", "to")):
        if r.get(nm_key):
            rule[key] = str(ipaddress.ip_network("%s/%d" % (r[nm_key], int(r.get(nm_key + "-len", 0)))))
    if r.get("iifname"):
        rule["iif"] = r["iifname"]
    for key, nm_key in RULE_ATTRIBUTES.items():
        if r.get(nm_key) is not None:
            rule[key] = int(r[nm_key])
    if rule.get("suppress-prefix-length", -1) < 0:
        rule.pop("suppress-prefix-length", None)  # NM: -1 is unset
    action = {v: k for k, v in model.RULE_ACTIONS.items()}.get(int(r.get("action", 1)))
    if action:
        rule["action"] = action
    return model.canonical_rule(rule)


def rules_from_profile(settings: Settings) -> List[Rule]:
    """The profile's ``ipv4/ipv6.routing-rules`` as canonical model rules."""
    return [_rule_from_nm(r, family) for family in (4, 6)
            for r in settings.get("ipv%d" % family, {}).get("routing-rules", [])]


def _rules_to_nm(rules: List[Rule], family: int) -> List[Dict[str, Any]]:
    out = []
    for rule in rules:
        if rule.get("family") != "ipv%d" % family:
            continue
        item = {"family": AF[family], "table": rule["route-table"]}
        if "priority" in rule:
            item["priority"] = rule["priority"]
        for key, nm_key in (("ip-from", "from"), ("ip-to", "to")):
            if key in rule:
                net = ipaddress.ip_network(rule[key])
                item[nm_key] = str(net.network_address)
                item[nm_key + "-len"] = net.prefixlen
        if "iif" in rule:
            item["iifname"] = rule["iif"]
        for key, nm_key in RULE_ATTRIBUTES.items():
            if key in rule:
                item[nm_key] = rule[key]
        if "action" in rule:
            item["action"] = model.RULE_ACTIONS[rule["action"]]
        out.append(item)
    return out


def dns_from_profile(settings: Settings) -> Dict[str, Any]:
    """The profile's static DNS: ``{"server": [...], "search": [...],
    "options": [...], "priority": int}`` with servers in the order NM writes
    them (the family with the lower ``dns-priority`` first, IPv4 on a tie).
    IPv6 link-local servers get ``%<interface>`` (NM scopes them to the
    profile's interface)."""
    name = settings.get("connection", {}).get("interface-name", "")
    v4, v6 = settings.get("ipv4", {}), settings.get("ipv6", {})
    s4 = ipv4_dns_from_nm(v4.get("dns", []))
    s6 = []
    for raw in v6.get("dns", []):
        addr = ipaddress.IPv6Address(bytes(raw))
        s6.append("%s%%%s" % (addr, name) if addr.is_link_local else str(addr))
    p4, p6 = int(v4.get("dns-priority", 0) or 0), int(v6.get("dns-priority", 0) or 0)
    servers = s6 + s4 if (p6 or 100) < (p4 or 100) else s4 + s6
    search = _unique(list(v4.get("dns-search", [])) + list(v6.get("dns-search", [])))
    options = _unique(list(v4.get("dns-options", [])) + list(v6.get("dns-options", [])))
    return {"server": servers, "search": search, "options": options,
            "priority": min(p or 100 for p in (p4, p6))}


def holds_dns(settings: Settings) -> bool:
    """Whether the profile holds static DNS (servers, search domains or options)."""
    dns = dns_from_profile(settings)
    return bool(dns["server"] or dns["search"] or dns["options"])


def _unique(items: List[str]) -> List[str]:
    out: List[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def origin_of(settings: Settings, flags: int) -> str:
    """Who made a profile: ``"hostnet.nm"`` (our mark), ``"external"``
    (NM's profile for a device configured outside NM), ``"initrd"``
    (nm-initrd-generator at boot), ``"auto-default"`` (NM's generated
    "Wired connection N"), ``"volatile"`` (in memory, deleted when it goes
    down), or ``"user"`` (anyone else). From the profile's flags and
    ``user.data`` (NM's D-Bus API), never from its name."""
    data = settings.get("user", {}).get("data", {}) or {}
    if data.get(OWNER_KEY) == OWNER:
        return OWNER
    if flags & FLAG_EXTERNAL:
        return "external"
    if data.get(ORIGIN_KEY) == "nm-initrd-generator":
        return "initrd"
    if flags & FLAG_NM_GENERATED:
        return "auto-default"
    if flags & FLAG_VOLATILE:
        return "volatile"
    return "user"


def owner_class(origin: str) -> str:
    """``"ours"``, ``"generated"`` (NetworkManager made it) or ``"foreign"``
    for an :func:`origin_of` value."""
    if origin == OWNER:
        return "ours"
    return "foreign" if origin == "user" else "generated"


def marked_interface(settings: Settings) -> str:
    """The interface name our mark records (``""`` when none)."""
    return str((settings.get("user", {}).get("data", {}) or {}).get(OWNER_IFACE_KEY, ""))


def match_allows(patterns: List[str], name: str) -> bool:
    """Whether ``match.interface-name`` lets a profile apply to ``name``:
    shell patterns; ``&`` marks a mandatory element, ``|`` (the default) an
    optional one, ``!`` inverts and makes it mandatory; all mandatory must
    match and, when there are optional ones, one of them (nm-settings(5))."""
    optional: List[bool] = []
    for pattern in patterns:
        mandatory = pattern.startswith("&")
        pattern = pattern[1:] if pattern[:1] in ("&", "|") else pattern
        inverted = pattern.startswith("!")
        hit = fnmatch.fnmatchcase(name, pattern[1:] if inverted else pattern) != inverted
        if mandatory or inverted:
            if not hit:
                return False
        else:
            optional.append(hit)
    return not optional or any(optional)


# ------------------------------------------------------------------ writing

def mark(settings: Settings, name: str) -> None:
    """Put our ownership mark (collection, interface ``name``) into
    ``settings`` (in place), keeping any other ``user.data`` key."""
    user = dict(settings.get("user", {}))
    data = dict(user.get("data", {}) or {})
    data.update({OWNER_KEY: OWNER, OWNER_IFACE_KEY: name})
    user["data"] = data
    settings["user"] = user


def blocked_on(old: Settings, name: str) -> Settings:
    """``old`` (settings of a profile we did not make) changed so that it
    can no longer activate on interface ``name`` by itself, and nowhere else
    changed: ``autoconnect`` off when it is bound to ``name`` by
    ``interface-name``, else ``!name`` added to ``match.interface-name``."""
    out: Settings = {k: dict(v) for k, v in old.items()}
    if out.get("connection", {}).get("interface-name") == name:
        out["connection"]["autoconnect"] = False
    else:
        match = out.setdefault("match", {})
        match["interface-name"] = list(match.get("interface-name", []) or []) + ["!" + name]
    return out


def sendable(settings: Settings) -> Settings:
    """A copy of a profile's settings as read, fit to send back: without the
    deprecated duplicates NM reports (:data:`DEPRECATED`), which would make
    NM ignore the current forms (a route's table, for one), and without the
    last activation's ``timestamp`` (NM keeps it in its own timestamps file;
    sent back, it lands in the keyfile). Works on plain settings and on
    D-Bus ones alike (it only drops keys)."""
    out: Settings = {k: dict(v) for k, v in settings.items()}
    out.get("connection", {}).pop("timestamp", None)
    for sec_name, keys in DEPRECATED.items():
        for key in keys:
            out.get(sec_name, {}).pop(key, None)
    return out


def new_profile(name: str, iface_type: str) -> Settings:
    """The skeleton settings of a new profile for interface ``name``."""
    import uuid  # here: only a new profile needs it, a run that changes nothing does not import it (nor platform)
    return {"connection": {"id": name, "uuid": str(uuid.uuid4()), "type": kinds.get(iface_type).nm_type,
                           "interface-name": name}}


def _ip_method(ip: Dict[str, Any], family: int) -> str:
    if not ip.get("enabled", False):
        return "disabled"
    if family == 4:
        return "auto" if ip.get("dhcp") else "manual"
    if ip.get("autoconf"):
        return "auto"
    if ip.get("dhcp"):
        return "dhcp"
    return "manual" if ip.get("address") else "link-local"


def _write_options(sec: Dict[str, Any], ip: Dict[str, Any], cur: Dict[str, Any], family: int) -> None:
    """The IP options (:data:`IP_OPTIONS`) whose canonical value differs
    between the target section ``ip`` and the current ``cur``: set, or left
    out of the settings (NetworkManager's default) when the target has none.
    Options unchanged keep the profile's value, also one our model does not
    show (a ``route-table`` on a static profile)."""
    for key, prop in IP_OPTIONS.items():
        if ip.get(key) == cur.get(key):
            continue
        if key == "dhcp-custom-hostname":
            _write_hostname(sec, ip.get(key, ""), family)
        elif key in ip:
            value = ip[key]
            sec[prop] = model.ADDR_GEN_MODES[value] if key == "addr-gen-mode" else \
                model.CLIENT_ID_WORDS.get(value, value) if key == "dhcp-client-id" else value
        else:
            sec.pop(prop, None)


def _write_hostname(sec: Dict[str, Any], name: str, family: int) -> None:
    """``dhcp-custom-hostname``: an IPv4 name with a dot is sent as an FQDN
    (``ipv4.dhcp-fqdn``, RFC 4702), any other in ``dhcp-hostname`` (RFC 2132
    option 12; IPv6: RFC 4704, NetworkManager has only ``dhcp-hostname``);
    the two properties exclude each other (NetworkManager)."""
    fqdn = family == 4 and "." in name
    for prop, value in (("dhcp-fqdn", name if fqdn else ""), ("dhcp-hostname", "" if fqdn else name)):
        if value:
            sec[prop] = value
        else:
            sec.pop(prop, None)


def _write_ip(sec: Dict[str, Any], ip: Dict[str, Any], family: int, cur: Dict[str, Any]) -> None:
    sec["method"] = _ip_method(ip, family)
    _write_options(sec, ip, cur, family)
    sec["address-data"] = [{"address": a["ip"], "prefix": a["prefix-length"]}
                           for a in (ip.get("address", []) if ip.get("enabled") else [])]
    for key, prop in (("auto-dns", "ignore-auto-dns"), ("auto-gateway", "never-default"),
                      ("auto-routes", "ignore-auto-routes")):
        if key in ip:
            sec[prop] = not ip[key]
    if not ip.get("enabled"):
        # NM refuses a gateway or DNS without a method that uses them
        for prop in ("gateway", "dns", "dns-search", "dns-options", "route-data"):
            sec.pop(prop, None)


def _route_to_nm(r: Route) -> Dict[str, Any]:
    net = ipaddress.ip_network(r["destination"])
    item = {"dest": str(net.network_address), "prefix": net.prefixlen, "table": r.get("table-id", model.MAIN_TABLE)}
    if r.get("next-hop-address"):
        item["next-hop"] = r["next-hop-address"]
    if r.get("metric") is not None:
        item["metric"] = r["metric"]
    if r.get("on-link"):
        item["onlink"] = True
    for key, nm_key in model.ROUTE_ATTRIBUTES.items():
        if key in r:
            item[nm_key] = r[key]
    if r.get("route-type"):
        item["type"] = r["route-type"]  # NetworkManager's route attribute (nm-settings-dbus(5), since 1.36)
    return item


@dataclass
class ProfileRoutes:
    """The static routes one profile holds, both families (canonical model
    routes); those whose :func:`.model.route_key` is in ``gateways`` are kept
    in the family's ``gateway`` field (where the profile has them now: a
    gateway set outside hostnet.nm stays one), the others in ``route-data``."""

    routes: List[Route]
    gateways: Set[RouteKey] = field(default_factory=set)

    def of_family(self, family: int) -> Tuple[List[Route], Optional[Route]]:
        """``(route-data routes, gateway route or None)`` of IP ``family`` (4 or 6)."""
        mine = [r for r in self.routes if model.family_of(r["destination"]) == family]
        gateway = next((r for r in mine if model.route_key(r) in self.gateways), None)
        return [r for r in mine if model.route_key(r) not in self.gateways], gateway


#: the ``route-data`` attributes the model holds (:func:`_route_to_nm`); any other a route has
#: (``tos``, ``scope``, ``quickack``, ``advmss``..., set with nmcli or another tool) stays as it is
MODELLED_ROUTE_DATA = frozenset({"dest", "prefix", "table", "next-hop", "metric", "onlink", "type"}
                                | set(model.ROUTE_ATTRIBUTES.values()))


def route_identity(item: Mapping[str, Any]) -> Tuple[Any, ...]:
    """What makes a ``route-data`` item the same route (NetworkManager's
    defaults filled in): destination, prefix length, next hop, metric, table and type."""
    return (item.get("dest"), int(item.get("prefix", 0)), item.get("next-hop") or "",
            item.get("metric", -1), int(item.get("table") or model.MAIN_TABLE), item.get("type") or "unicast")


def _write_routes(sec: Dict[str, Any], routes: List[Route], gateway: Optional[Route]) -> None:
    kept = [r for r in sec.get("route-data", []) if not modelled_route(r)]  # NetworkManager's own, as they are
    unmodelled = {route_identity(r): {k: v for k, v in r.items() if k not in MODELLED_ROUTE_DATA}
                  for r in sec.get("route-data", []) if modelled_route(r)}
    written = [_route_to_nm(r) for r in routes]
    sec["route-data"] = [dict(unmodelled.get(route_identity(item), {}), **item) for item in written] + kept
    if gateway:
        sec["gateway"] = gateway["next-hop-address"]
    else:
        sec.pop("gateway", None)


def _family_enabled(sec: Dict[str, Any]) -> bool:
    return sec.get("method") not in ("disabled", "ignore", None)


def sec_has_v4(settings: Settings) -> bool:
    """Whether the settings enable IPv4 (so search domains go on ipv4)."""
    return _family_enabled(settings.get("ipv4", {}))


def _write_dns(settings: Settings, dns: Dict[str, Any]) -> None:
    """The static DNS ``{"server", "search", "options"}`` into the ipv4 and
    ipv6 sections (NM keeps DNS per family, and none on a disabled one)."""
    first = model.family_of(dns["server"][0]) if dns["server"] else 4
    holds = bool(dns["server"] or dns["search"] or dns["options"])
    # search domains and options are per profile in resolv.conf: keep them on one family
    named_family = 4 if sec_has_v4(settings) else 6
    for family in (4, 6):
        sec = settings.setdefault("ipv%d" % family, {})
        # NM >= 1.41 reports the servers twice (dns and dns-data): the one sent back would win (NM merges them)
        sec.pop("dns-data", None)
        if not _family_enabled(sec):
            for prop in DNS_PROPERTIES:
                sec.pop(prop, None)  # NM does not allow DNS on a disabled family
            continue
        named = family == named_family
        sec.update({"dns": _dns_servers_to_nm(dns["server"], family),
                    # the family listed first gets the lower (stronger) priority
                    "dns-priority": (40 if family == first else 50) if holds else 0,
                    "dns-search": list(dns["search"]) if named else [],
                    "dns-options": list(dns["options"]) if named else []})


def _dns_servers_to_nm(servers: List[str], family: int) -> List[Any]:
    """``ipv4.dns`` (uint32 values) or ``ipv6.dns`` (16-byte values) of the servers of that family."""
    mine = [s.split("%")[0] for s in servers if model.family_of(s) == family]
    return ipv4_dns_to_nm(mine) if family == 4 else [ipaddress.IPv6Address(s).packed for s in mine]


def _write_rules(settings: Settings, rules: List[Rule]) -> None:
    for family in (4, 6):
        sec = settings.setdefault("ipv%d" % family, {})
        if _family_enabled(sec):
            sec["routing-rules"] = _rules_to_nm(rules, family)
        else:
            sec.pop("routing-rules", None)


@dataclass(frozen=True)
class PortOf:
    """Where an interface is a port: its ``controller``'s name and type, and
    its ``entry`` in the controller's port list (a bridge port's options and
    VLANs; ``{"name": port}`` for a bond port)."""

    controller: str
    controller_type: str
    entry: Dict[str, Any]


@dataclass
class ProfileChange:
    """What one profile's settings must say: the interface ``current`` (the
    model now; ``{"name": name}`` when it has no profile) and ``target``;
    ``port``/``current_port``: where it is a port in the target and now
    (``None``: not a port); ``routes``: the static routes it holds, or
    ``None`` to keep them; ``dns``: the static DNS it holds (``{"server",
    "search", "options"}``), or ``None`` to keep it; ``rules``: the routing
    rules it holds, or ``None`` to keep them; ``adopt``: bind the profile to
    the interface by name (a profile bound by MAC address alone)."""

    current: Iface
    target: Iface
    port: Optional[PortOf] = None
    current_port: Optional[PortOf] = None
    routes: Optional[ProfileRoutes] = None
    dns: Optional[Dict[str, List[str]]] = None
    rules: Optional[List[Rule]] = None
    adopt: bool = False


def _write_link(out: Settings, change: ProfileChange) -> None:
    cur, tgt = change.current, change.target
    if tgt.get("mtu") != cur.get("mtu") and tgt.get("mtu") is not None:
        out.setdefault("802-3-ethernet", {})["mtu"] = tgt["mtu"]
    if tgt.get("mac-address") != cur.get("mac-address") and tgt.get("mac-address"):
        out.setdefault("802-3-ethernet", {})["assigned-mac-address"] = tgt["mac-address"]


#: settings a port's profile gets from its controller's kind (``bridge-port``)
PORT_SETTINGS = tuple(sec for k in kinds.KINDS for sec in k.port_settings)


def _merge(out: Settings, settings: Settings) -> None:
    """``settings`` into ``out``, property by property."""
    for section, props in settings.items():
        out.setdefault(section, {}).update(props)


def _write_port(out: Settings, port: PortOf) -> None:
    kind = kinds.get(port.controller_type)
    con = out["connection"]
    con["master"] = port.controller
    con["slave-type"] = kind.port_type
    if not kind.ports_keep_ip:
        out.pop("ipv4", None)
        out.pop("ipv6", None)
    for section in PORT_SETTINGS:
        if section not in kind.port_settings:
            out.pop(section, None)
    _merge(out, kind.port_to_nm(port.entry))


def _clear_port(out: Settings) -> None:
    """No controller: the port settings go."""
    out["connection"].pop("master", None)
    out["connection"].pop("slave-type", None)
    for section in PORT_SETTINGS:
        out.pop(section, None)


def _write_l3(out: Settings, change: ProfileChange, new: bool) -> None:
    """IP configuration, routes, DNS and rules of a profile that is not a
    port, or a port that keeps them (a VRF's)."""
    cur, tgt = change.current, change.target
    for family in (4, 6):
        key = "ipv%d" % family
        if tgt.get(key) != cur.get(key) or change.current_port or new:
            _write_ip(out.setdefault(key, {}), tgt.get(key, {"enabled": False}), family, cur.get(key) or {})
    if change.routes is not None:
        for family in (4, 6):
            _write_routes(out.setdefault("ipv%d" % family, {}), *change.routes.of_family(family))
    if change.dns is not None:
        _write_dns(out, change.dns)
    if change.rules is not None:
        _write_rules(out, change.rules)


def build_settings(old: Optional[Settings], change: ProfileChange) -> Settings:
    """New settings for one profile: ``old`` (its plain settings as read, or
    ``None`` for a new profile) with ``change`` applied (see
    :class:`ProfileChange`). The result is plain; deprecated duplicates NM
    reports (``ipv4.addresses``...) are dropped so NM reads the current forms
    (:func:`sendable`)."""
    tgt = change.target
    out = sendable(copy.deepcopy(old) if old is not None else new_profile(tgt["name"], tgt["type"]))
    con = out.setdefault("connection", {})
    con["autoconnect"] = tgt.get("state", "up") == "up"
    if change.adopt:
        con["interface-name"] = tgt["name"]
    mark(out, tgt["name"])
    _write_link(out, change)
    if change.port:
        _write_port(out, change.port)
    else:
        _clear_port(out)
    if not change.port or kinds.get(change.port.controller_type).ports_keep_ip:
        _write_l3(out, change, old is None)
    _merge(out, kinds.get(tgt["type"]).to_nm(change.current, tgt, old is None, old))
    return out
