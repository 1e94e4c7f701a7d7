# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager connection settings <-> the model, without D-Bus.

Settings are NM's ``a{sa{sv}}`` as plain dicts (``settings["ipv4"]["method"]``).
Reading (:func:`iface_from_profile`, :func:`routes_from_profile`,
:func:`dns_from_profile`) tolerates every property NM may report; writing
(:func:`build_settings`) starts from the profile's own settings and changes
only the properties whose model value changed, so that NM keys we do not
model survive and a no-op writes nothing. Property names, types and defaults
follow NetworkManager's D-Bus settings reference (nm-settings-dbus(5)).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import sys
import uuid as uuidlib
from typing import Any, Dict, List, Optional, Tuple

from .. import kinds, model
from ..kinds.bond import bond_option
from ..nmconst import FLAG_EXTERNAL, FLAG_NM_GENERATED, FLAG_VOLATILE
from .dbus import Variant, unwrap

NM_TYPES = {k.type: k.nm_type for k in kinds.KINDS}
MODEL_TYPES = {v: k for k, v in NM_TYPES.items()}
#: NMDeviceType values -> model types (a veth device is an ethernet interface to the user)
DEVICE_TYPES = {n: k.type for k in kinds.KINDS for n in k.device_types}
PORT_TYPES = {k.type: k.port_type for k in kinds.KINDS if k.port_type}

#: bridge options: model key -> (NM property, D-Bus signature, NM default)
BRIDGE_OPTIONS = {
    "mac-ageing-time": ("ageing-time", "u", 300),
    "multicast-snooping": ("multicast-snooping", "b", True),
    "group-forward-mask": ("group-forward-mask", "u", 0),
    "vlan-protocol": ("vlan-protocol", "s", "802.1Q"),
}
STP_OPTIONS = {
    "enabled": ("stp", "b", True),
    "priority": ("priority", "u", 32768),
    "forward-delay": ("forward-delay", "u", 15),
    "hello-time": ("hello-time", "u", 2),
    "max-age": ("max-age", "u", 20),
}
PORT_OPTIONS = {
    "stp-priority": ("priority", "u", 32),
    "stp-path-cost": ("path-cost", "u", 100),
    "stp-hairpin-mode": ("hairpin-mode", "b", False),
}
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
    return out


def _options(sec: Dict[str, Any], table: Dict[str, Tuple[str, str, Any]]) -> Dict[str, Any]:
    return {key: sec.get(prop, default) for key, (prop, _sig, default) in table.items()}


def is_port(settings: Dict[str, Any]) -> bool:
    """Whether the profile is a port of a bridge, bond or VRF."""
    return bool(settings.get("connection", {}).get("master"))


#: ``connection.slave-type`` values of the controllers whose ports keep their IP configuration (a VRF's)
IP_PORT_TYPES = tuple(k.port_type for k in kinds.KINDS if k.port_type and k.ports_keep_ip)


def port_keeps_ip(settings: Dict[str, Any]) -> bool:
    """Whether the profile is a port that keeps its IP configuration,
    routes, rules and DNS (a VRF's port)."""
    return settings.get("connection", {}).get("slave-type") in IP_PORT_TYPES


def l3_profile(settings: Dict[str, Any]) -> bool:
    """Whether the profile holds IP configuration: not a bridge's or bond's port."""
    return not is_port(settings) or port_keeps_ip(settings)


def iface_from_profile(settings: Dict[str, Any], device: Optional[Dict[str, Any]], active: bool) -> Dict[str, Any]:
    """One interface of the model from its profile and (if any) its device.

    ``device`` is the reader's device record (``mtu``, ``mac`` live values)
    or ``None``. ``mtu`` and ``mac-address`` are the profile's when it sets
    them, else the device's live ones (NM's ``0``/unset mean "keep"), so a
    document that restates the live value is a no-op. Ports are filled in by
    the reader (they live in the ports' profiles)."""
    con = settings.get("connection", {})
    nm_type = con.get("type", "")
    iface: Dict[str, Any] = {"name": con.get("interface-name", ""), "type": MODEL_TYPES.get(nm_type, nm_type),
                             "state": "up" if active else "down"}
    eth = settings.get("802-3-ethernet", {})
    mtu = eth.get("mtu") or (device or {}).get("mtu")
    if mtu:
        iface["mtu"] = int(mtu)
    mac = mac_text(eth.get("assigned-mac-address")) or mac_text(eth.get("cloned-mac-address")) or \
        (device or {}).get("mac")
    if mac:
        iface["mac-address"] = mac
    if is_port(settings) and not port_keeps_ip(settings):
        iface["ipv4"], iface["ipv6"] = {"enabled": False}, {"enabled": False}
    else:
        iface["ipv4"] = _ip_section(settings.get("ipv4", {"method": "disabled"}), 4)
        iface["ipv6"] = _ip_section(settings.get("ipv6", {"method": "disabled"}), 6)
    if iface["type"] == "linux-bridge":
        br = settings.get("bridge", {})
        options = _options(br, BRIDGE_OPTIONS)
        options["vlan-protocol"] = options["vlan-protocol"].replace("Q", "q")
        options["stp"] = _options(br, STP_OPTIONS)
        iface["bridge"] = {"options": options, "port": []}
    elif iface["type"] == "bond":
        opts = {k: bond_option(k, str(v)) for k, v in settings.get("bond", {}).get("options", {}).items()}
        mode = opts.pop("mode", "balance-rr")
        iface["link-aggregation"] = {"mode": mode, "options": opts, "port": []}
    elif iface["type"] == "vlan":
        vlan = settings.get("vlan", {})
        iface["vlan"] = {"base-iface": vlan.get("parent", ""), "id": int(vlan.get("id", 0))}
    elif iface["type"] == "veth":
        iface["veth"] = {"peer": settings.get("veth", {}).get("peer", "")}
    kind = kinds.find(iface["type"])
    if kind is not None:
        iface.update(kind.from_nm(settings))
    return iface


def port_entry(settings: Dict[str, Any]) -> Dict[str, Any]:
    """A bridge's ``port`` entry from the port's own profile."""
    entry = {"name": settings.get("connection", {}).get("interface-name", "")}
    entry.update(_options(settings.get("bridge-port", {}), PORT_OPTIONS))
    vlans = settings.get("bridge-port", {}).get("vlans", [])
    if vlans:
        entry["vlan"] = port_vlan_from_nm(vlans)
    return entry


def port_vlan_from_nm(vlans: List[Dict[str, Any]]) -> Dict[str, Any]:
    """``bridge-port.vlans`` (``[{vid-start, vid-end, pvid, untagged}]``) as
    nmstate's port ``vlan``: one PVID+untagged VLAN alone is an access port,
    anything else a trunk (the PVID+untagged one is its native VLAN)."""
    native = [v for v in vlans if v.get("pvid") and v.get("untagged")]
    tagged = [v for v in vlans if not (v.get("pvid") and v.get("untagged"))]
    if len(native) == 1 and not tagged and native[0]["vid-start"] == native[0]["vid-end"]:
        return {"mode": "access", "tag": int(native[0]["vid-start"])}
    out: Dict[str, Any] = {"mode": "trunk", "trunk-tags": [
        {"id": int(v["vid-start"])} if v["vid-start"] == v["vid-end"] else
        {"id-range": {"min": int(v["vid-start"]), "max": int(v["vid-end"])}}
        for v in sorted(tagged, key=lambda v: v["vid-start"])]}
    if native:
        out.update({"tag": int(native[0]["vid-start"]), "enable-native": True})
    return out


def port_vlan_to_nm(vlan: Dict[str, Any]) -> List[Dict[str, Variant]]:
    """nmstate's port ``vlan`` as ``bridge-port.vlans`` (``aa{sv}``)."""
    def item(start: int, end: int, native: bool) -> Dict[str, Variant]:
        return {"vid-start": Variant("q", start), "vid-end": Variant("q", end), "pvid": Variant("b", native),
                "untagged": Variant("b", native)}
    if vlan.get("mode", "access" if "trunk-tags" not in vlan else "trunk") == "access":
        return [item(vlan["tag"], vlan["tag"], True)]
    out = [item(t["id"], t["id"], False) if "id" in t else item(t["id-range"]["min"], t["id-range"]["max"], False)
           for t in vlan.get("trunk-tags", [])]
    if vlan.get("enable-native") and "tag" in vlan:
        out.append(item(vlan["tag"], vlan["tag"], True))
    return out


def routes_from_profile(settings: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], List[Tuple[Any, ...]]]:
    """The profile's static routes as canonical model routes, and the keys of
    those that are the profile's ``gateway`` field (kept there on write, so a
    gateway set outside hostnet.nm survives)."""
    name = settings.get("connection", {}).get("interface-name", "")
    routes, gateways = [], []
    for family, sec_name in ((4, "ipv4"), (6, "ipv6")):
        sec = settings.get(sec_name, {})
        table = sec.get("route-table") or model.MAIN_TABLE
        for r in sec.get("route-data", []):
            route = {"destination": "%s/%d" % (ipaddress.ip_address(r["dest"]), int(r["prefix"])),
                     "next-hop-interface": name, "table-id": int(r.get("table", table) or table)}
            if r.get("next-hop"):
                route["next-hop-address"] = str(ipaddress.ip_address(r["next-hop"]))
            if r.get("metric") is not None and int(r["metric"]) >= 0:
                route["metric"] = int(r["metric"])
            if r.get("onlink"):
                route["on-link"] = True
            routes.append(model.canonical_route(route))
        if sec.get("gateway"):
            route = {"destination": "0.0.0.0/0" if family == 4 else "::/0", "next-hop-interface": name,
                     "next-hop-address": str(ipaddress.ip_address(sec["gateway"])), "table-id": table}
            if sec.get("route-metric", -1) not in (-1, None):
                route["metric"] = int(sec["route-metric"])
            route = model.canonical_route(route)
            routes.append(route)
            gateways.append(model.route_key(route))
    return routes, gateways


AF = {4: 2, 6: 10}  # AF_INET, AF_INET6: NM's routing-rule "family"


def rules_from_profile(settings: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The profile's ``ipv4/ipv6.routing-rules`` as canonical model rules."""
    out = []
    for family in (4, 6):
        for r in settings.get("ipv%d" % family, {}).get("routing-rules", []):
            rule: Dict[str, Any] = {"family": "ipv%d" % family, "route-table": int(r.get("table", model.MAIN_TABLE))}
            if r.get("priority") is not None:
                rule["priority"] = int(r["priority"])
            for key, nm_key in (("ip-from", "from"), ("ip-to", "to")):
                if r.get(nm_key):
                    rule[key] = str(ipaddress.ip_network("%s/%d" % (r[nm_key], int(r.get(nm_key + "-len", 0)))))
            if r.get("iifname"):
                rule["iif"] = r["iifname"]
            out.append(model.canonical_rule(rule))
    return out


def _rules_to_nm(rules: List[Dict[str, Any]], family: int) -> List[Dict[str, Variant]]:
    out = []
    for rule in rules:
        if rule.get("family") != "ipv%d" % family:
            continue
        item = {"family": Variant("i", AF[family]), "table": Variant("u", rule["route-table"])}
        if "priority" in rule:
            item["priority"] = Variant("u", rule["priority"])
        for key, nm_key in (("ip-from", "from"), ("ip-to", "to")):
            if key in rule:
                net = ipaddress.ip_network(rule[key])
                item[nm_key] = Variant("s", str(net.network_address))
                item[nm_key + "-len"] = Variant("y", net.prefixlen)
        if "iif" in rule:
            item["iifname"] = Variant("s", rule["iif"])
        out.append(item)
    return out


def dns_from_profile(settings: Dict[str, Any]) -> Dict[str, Any]:
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


def _unique(items: List[str]) -> List[str]:
    seen: set = set()
    return [i for i in items if not (i in seen or seen.add(i))]


def origin_of(settings: Dict[str, Any], flags: int) -> str:
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


def marked_interface(settings: Dict[str, Any]) -> str:
    """The interface name our mark records (``""`` when none)."""
    return (settings.get("user", {}).get("data", {}) or {}).get(OWNER_IFACE_KEY, "")


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

def mark(settings: Dict[str, Any], name: str) -> None:
    """Put our ownership mark (collection, interface ``name``) into
    ``settings`` (in place), keeping any other ``user.data`` key."""
    user = dict(settings.get("user", {}))
    data = dict(unwrap(user.get("data", {})) or {})
    data.update({OWNER_KEY: OWNER, OWNER_IFACE_KEY: name})
    user["data"] = Variant("a{ss}", data)
    settings["user"] = user


def blocked_on(old: Dict[str, Any], name: str) -> Dict[str, Any]:
    """``old`` (raw settings of a profile we did not make) changed so that it
    can no longer activate on interface ``name`` by itself, and nowhere else
    changed: ``autoconnect`` off when it is bound to ``name`` by
    ``interface-name``, else ``!name`` added to ``match.interface-name``."""
    out: Dict[str, Dict[str, Any]] = {k: dict(v) for k, v in old.items()}
    if unwrap(out.get("connection", {}).get("interface-name")) == name:
        out["connection"]["autoconnect"] = Variant("b", False)
    else:
        match = out.setdefault("match", {})
        match["interface-name"] = Variant("as", list(unwrap(match.get("interface-name", [])) or []) + ["!" + name])
    return out


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


def _write_ip(sec: Dict[str, Any], ip: Dict[str, Any], family: int) -> None:
    sec["method"] = Variant("s", _ip_method(ip, family))
    sec["address-data"] = Variant("aa{sv}", [{"address": Variant("s", a["ip"]),
                                              "prefix": Variant("u", a["prefix-length"])}
                                             for a in (ip.get("address", []) if ip.get("enabled") else [])])
    for key, prop in (("auto-dns", "ignore-auto-dns"), ("auto-gateway", "never-default"),
                      ("auto-routes", "ignore-auto-routes")):
        if key in ip:
            sec[prop] = Variant("b", not ip[key])
    if not ip.get("enabled"):
        # NM refuses a gateway or DNS without a method that uses them
        for prop in ("gateway", "dns", "dns-search", "dns-options", "route-data"):
            sec.pop(prop, None)


def _write_routes(sec: Dict[str, Any], routes: List[Dict[str, Any]], gateway: Optional[Dict[str, Any]]) -> None:
    data = []
    for r in routes:
        net = ipaddress.ip_network(r["destination"])
        item = {"dest": Variant("s", str(net.network_address)), "prefix": Variant("u", net.prefixlen),
                "table": Variant("u", r.get("table-id", model.MAIN_TABLE))}
        if r.get("next-hop-address"):
            item["next-hop"] = Variant("s", r["next-hop-address"])
        if r.get("metric") is not None:
            item["metric"] = Variant("u", r["metric"])
        if r.get("on-link"):
            item["onlink"] = Variant("b", True)
        data.append(item)
    sec["route-data"] = Variant("aa{sv}", data)
    if gateway:
        sec["gateway"] = Variant("s", gateway["next-hop-address"])
    else:
        sec.pop("gateway", None)


def _write_dns(settings: Dict[str, Any], dns: Dict[str, Any]) -> None:
    s4 = [s for s in dns["server"] if model.family_of(s) == 4]
    s6 = [s.split("%")[0] for s in dns["server"] if model.family_of(s) == 6]
    first6 = bool(dns["server"]) and model.family_of(dns["server"][0]) == 6
    # search domains and options are per profile in resolv.conf: keep them on one family
    named_family = 4 if sec_has_v4(settings) else 6
    for family, sec_name, servers in ((4, "ipv4", s4), (6, "ipv6", s6)):
        sec = settings.setdefault(sec_name, {})
        # NM >= 1.41 reports the servers twice (dns and dns-data): the one sent back would win (NM merges them)
        sec.pop("dns-data", None)
        if _method_of(sec) in ("disabled", "ignore", None):
            for prop in ("dns", "dns-priority", "dns-search", "dns-options"):
                sec.pop(prop, None)  # NM does not allow DNS on a disabled family
            continue
        if family == 4:
            sec["dns"] = Variant("au", ipv4_dns_to_nm(servers))
        else:
            sec["dns"] = Variant("aay", [ipaddress.IPv6Address(s).packed for s in servers])
        # the family listed first gets the lower (stronger) priority
        prio = 0
        if dns["server"] or dns["search"] or dns["options"]:
            prio = 40 if (family == 6) == first6 else 50
        sec["dns-priority"] = Variant("i", prio)
        sec["dns-search"] = Variant("as", dns["search"] if family == named_family else [])
        sec["dns-options"] = Variant("as", dns["options"] if family == named_family else [])


def _method_of(sec: Dict[str, Any]) -> Optional[str]:
    method = sec.get("method")
    return getattr(method, "value", method)


def sec_has_v4(settings: Dict[str, Any]) -> bool:
    """Whether the settings enable IPv4 (so search domains go on ipv4)."""
    return _method_of(settings.get("ipv4", {})) not in ("disabled", "ignore", None)


def sendable(settings: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """A copy of a profile's settings as read (``GetSettings``), fit to send
    back: without the deprecated duplicates NM reports (:data:`DEPRECATED`),
    which would make NM ignore the current forms (a route's table, for one),
    and without the last activation's ``timestamp`` (NM keeps it in its own
    timestamps file; sent back, it lands in the keyfile)."""
    out: Dict[str, Dict[str, Any]] = {k: dict(v) for k, v in settings.items()}
    out.get("connection", {}).pop("timestamp", None)
    for sec_name, keys in DEPRECATED.items():
        for key in keys:
            out.get(sec_name, {}).pop(key, None)
    return out


def new_profile(name: str, iface_type: str) -> Dict[str, Any]:
    """The skeleton settings of a new profile for interface ``name``."""
    return {"connection": {"id": Variant("s", name), "uuid": Variant("s", str(uuidlib.uuid4())),
                           "type": Variant("s", NM_TYPES[iface_type]), "interface-name": Variant("s", name)}}


def build_settings(old: Optional[Dict[str, Any]], cur: Dict[str, Any], tgt: Dict[str, Any],
                   port: Optional[Tuple[str, str, Dict[str, Any]]], cur_port: Optional[Tuple[str, str, Dict[str, Any]]],
                   routes: Optional[Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]],
                   dns: Optional[Dict[str, Any]], rules: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """New settings for one profile: ``old`` (raw settings as read, or
    ``None`` for a new profile) with the changes from ``cur`` to ``tgt``
    (model interfaces) applied.

    ``port``/``cur_port``: ``(controller name, controller type, port entry)``
    in the target and now, or ``None``; ``routes``: ``(routes4, routes6)`` to
    write (each route list may hold one route marked as the gateway by the
    caller via ``"_gateway": True``), or ``None`` to keep; ``dns``: the static
    DNS this profile holds, or ``None`` to keep; ``rules``: the routing
    rules this profile holds, or ``None`` to keep.

    Returns the settings dict to send (``Variant`` for what changed, the
    library's own variants for what stays). Deprecated duplicates NM reports
    (``ipv4.addresses``...) are dropped so NM reads the current forms."""
    out = sendable(old or new_profile(tgt["name"], tgt["type"]))
    con = out.setdefault("connection", {})
    con["autoconnect"] = Variant("b", tgt.get("state", "up") == "up")
    mark(out, tgt["name"])
    nm_type = NM_TYPES[tgt["type"]]
    if tgt.get("mtu") != cur.get("mtu") and tgt.get("mtu") is not None:
        out.setdefault("802-3-ethernet", {})["mtu"] = Variant("u", tgt["mtu"])
    if tgt.get("mac-address") != cur.get("mac-address") and tgt.get("mac-address"):
        out.setdefault("802-3-ethernet", {})["assigned-mac-address"] = Variant("s", tgt["mac-address"])
    if port:
        ctrl, ctrl_type, entry = port
        con["master"] = Variant("s", ctrl)
        con["slave-type"] = Variant("s", PORT_TYPES[ctrl_type])
        if not kinds.get(ctrl_type).ports_keep_ip:
            out.pop("ipv4", None)
            out.pop("ipv6", None)
        if ctrl_type == "linux-bridge":
            sec = out.setdefault("bridge-port", {})
            for key, (prop, sig, _default) in PORT_OPTIONS.items():
                if key in entry:
                    sec[prop] = Variant(sig, entry[key])
            sec["vlans"] = Variant("aa{sv}", port_vlan_to_nm(entry["vlan"]) if entry.get("vlan") else [])
        else:
            out.pop("bridge-port", None)
    else:
        con.pop("master", None)
        con.pop("slave-type", None)
        out.pop("bridge-port", None)
    if not port or kinds.get(port[1]).ports_keep_ip:
        for family in (4, 6):
            key = "ipv%d" % family
            if tgt.get(key) != cur.get(key) or cur_port or old is None:
                _write_ip(out.setdefault(key, {}), tgt.get(key, {"enabled": False}), family)
        if routes is not None:
            for family, family_routes in zip((4, 6), routes):
                sec = out.setdefault("ipv%d" % family, {})
                gateway = next((r for r in family_routes if r.get("_gateway")), None)
                _write_routes(sec, [r for r in family_routes if not r.get("_gateway")], gateway)
        if dns is not None:
            _write_dns(out, dns)
        if rules is not None:
            for family in (4, 6):
                sec = out.setdefault("ipv%d" % family, {})
                if _method_of(sec) in ("disabled", "ignore", None):
                    sec.pop("routing-rules", None)
                else:
                    sec["routing-rules"] = Variant("aa{sv}", _rules_to_nm(rules, family))
    if nm_type == "bridge":
        options = (tgt.get("bridge") or {}).get("options", {})
        cur_options = (cur.get("bridge") or {}).get("options", {})
        sec = out.setdefault("bridge", {})
        for key, (prop, sig, _default) in BRIDGE_OPTIONS.items():
            if key in options and options[key] != cur_options.get(key):
                sec[prop] = Variant(sig, options[key].replace("q", "Q") if key == "vlan-protocol" else options[key])
        # VLAN filtering only when a port asks for VLANs (never because a VLAN sits on top)
        filtering = any(p.get("vlan") for p in (tgt.get("bridge") or {}).get("port", []))
        if filtering or "vlan-filtering" in sec:
            sec["vlan-filtering"] = Variant("b", filtering)
            # no implicit VLAN 1 on every port: a port carries exactly the VLANs it names
            sec["vlan-default-pvid"] = Variant("u", 0 if filtering else 1)
        stp, cur_stp = options.get("stp", {}), cur_options.get("stp", {})
        for key, (prop, sig, _default) in STP_OPTIONS.items():
            if key in stp and stp[key] != cur_stp.get(key):
                sec[prop] = Variant(sig, stp[key])
    elif nm_type == "bond":
        agg = tgt.get("link-aggregation") or {}
        if agg != (cur.get("link-aggregation") or {}) or old is None:
            opts = {k: Variant("s", v) for k, v in (agg.get("options") or {}).items()}
            opts["mode"] = Variant("s", agg.get("mode", "balance-rr"))
            out["bond"] = {"options": Variant("a{ss}", {k: v.value for k, v in opts.items()})}
    elif nm_type == "vlan":
        vlan = tgt.get("vlan") or {}
        out["vlan"] = dict(out.get("vlan", {}), parent=Variant("s", vlan.get("base-iface", "")),
                           id=Variant("u", vlan.get("id", 0)))
    elif nm_type == "veth" and (tgt.get("veth") or {}).get("peer"):
        out["veth"] = dict(out.get("veth", {}), peer=Variant("s", tgt["veth"]["peer"]))
    for setting, props in kinds.get(tgt["type"]).to_nm(cur, tgt, old is None).items():
        sec = out.setdefault(setting, {})
        for prop, value in props.items():
            sec[prop] = kind_variant(setting, prop, value)
    return out


#: D-Bus types of the properties the kinds' :meth:`~..kinds.base.Kind.to_nm` write, and of the items of
#: their ``aa{sv}`` ones (nm-settings-dbus(5))
KIND_SIGNATURES = {("vrf", "table"): "u", ("ipv4", "method"): "s", ("ipv6", "method"): "s",
                   ("ipv4", "address-data"): "aa{sv}", ("ipv6", "address-data"): "aa{sv}"}
ITEM_SIGNATURES = {"address-data": {"address": "s", "prefix": "u"}}


def kind_variant(setting: str, prop: str, value: Any) -> Variant:
    """A plain value a kind gives for ``setting.prop`` with its D-Bus type.

    Raises:
        KeyError: a property missing from :data:`KIND_SIGNATURES` (a bug)."""
    signature = KIND_SIGNATURES[(setting, prop)]
    if signature == "aa{sv}":
        items = ITEM_SIGNATURES[prop]
        value = [{k: Variant(items[k], v) for k, v in item.items()} for item in value]
    return Variant(signature, value)
