# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VRF: the kernel's Virtual Routing and Forwarding device
(``vrf: {route-table-id, port}``).

A VRF binds its ports to one routing table: routes through its ports (and
through the VRF) belong in that table, and the kernel's l3mdev rule sends
the ports' traffic there. Unlike a bridge's or a bond's, a VRF's ports keep
their own addresses, routes and rules (Documentation/networking/vrf.rst).
NetworkManager: ``connection.type: vrf`` with ``vrf.table``; a port's profile
has ``connection.master`` the VRF and ``connection.slave-type: vrf``
(NMDeviceType 31).
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..nodes import Int, ListOf, Obj, Str, join
from ..rulebook import Doc, Rule, ipath, present, register, report
from .base import Iface, KeyPath, Kind, Settings

TYPE = "vrf"
#: tables the kernel reserves (include/uapi/linux/rtnetlink.h: RT_TABLE_DEFAULT, RT_TABLE_MAIN, RT_TABLE_LOCAL)
RESERVED_TABLES = {253: "default", 254: "main", 255: "local"}
#: the MTU of a new VRF device: IP6_MAX_MTU, 65535 plus the IPv6 header (drivers/net/vrf.c, vrf_setup)
DEFAULT_MTU = 65575

SCHEMA = Obj({
    "route-table-id": Int(1, 4294967295, "(table 0 is the kernel's unspec)", code="ROUTE_TABLE_INVALID"),
    "port": ListOf(Str(what="an interface name")),
}, required=("route-table-id",))

RULES: List[Rule] = []


def vrfs(doc: Doc) -> Dict[str, Tuple[int, Dict[str, Any]]]:
    """``{name: (index, vrf section)}`` of the VRFs the document keeps or creates."""
    return {name: (i, iface["vrf"]) for name, (i, iface) in present(doc).items()
            if iface.get("type") in (None, TYPE) and isinstance(iface.get("vrf"), dict)}


@register(RULES, "VRF_TABLE_RESERVED", "VRF_TABLE_DUPLICATE")
def _tables(doc: Doc, problems: List[Problem]) -> None:
    """VRF tables.

    VRF_TABLE_RESERVED: a VRF on the kernel's default, main or local table (253, 254, 255)
    VRF_TABLE_DUPLICATE: two VRFs on the same route table

    Source: the kernel's VRF driver binds one table to one VRF device (a
    second VRF device on the same table is refused, drivers/net/vrf.c), and
    the reserved tables hold the host's own routes (include/uapi/linux/rtnetlink.h)."""
    seen: Dict[int, str] = {}
    for name, (i, sec) in vrfs(doc).items():
        table = sec["route-table-id"]
        path = ipath(i, "vrf", "route-table-id")
        if table in RESERVED_TABLES:
            report(problems, "VRF_TABLE_RESERVED", path, "table %d is the kernel's %s table" % (
                table, RESERVED_TABLES[table]), "give the VRF a table of its own (1-252, 256 and above)")
        elif table in seen:
            report(problems, "VRF_TABLE_DUPLICATE", path, "table %d is already the table of VRF %s" % (
                table, seen[table]), "give each VRF its own table")
        seen.setdefault(table, name)


def _routes_through_interfaces(doc: Doc) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """``(path, route)`` of the routes the document adds through an
    interface (not those with a ``route-type``: they go through none)."""
    for j, route in enumerate((doc.get("routes") or {}).get("config") or []):
        if route is not None and route.get("state") != "absent" and not route.get("route-type"):
            yield "routes.config[%d]" % j, route


@register(RULES, "VRF_TABLE_IN_USE", "VRF_ROUTE_TABLE")
def _routes(doc: Doc, problems: List[Problem]) -> None:
    """Routes and VRF tables.

    VRF_TABLE_IN_USE: a route in a VRF's table through an interface outside that VRF
    VRF_ROUTE_TABLE: a route through a VRF or its port in another table than the VRF's

    Source: the kernel looks up the traffic of a VRF's ports in the VRF's
    table only (l3mdev rule), and NetworkManager puts the routes of a VRF's
    ports into that table: a route elsewhere is never used, and a table
    shared with interfaces outside the VRF leaks routes between them. A
    ``route-type`` route (an unreachable default that ends the VRF's lookup,
    as the kernel's VRF documentation advises) goes through no interface:
    it leaks nothing."""
    members: Dict[str, Tuple[str, int]] = {}
    by_table: Dict[int, str] = {}
    for name, (_i, sec) in vrfs(doc).items():
        by_table.setdefault(sec["route-table-id"], name)
        for member in [name] + list(sec.get("port", [])):
            members.setdefault(member, (name, sec["route-table-id"]))
    for path, route in _routes_through_interfaces(doc):
        table = route.get("table-id") or 254
        via = route.get("next-hop-interface")
        owner = members.get(via or "")
        if owner is not None and table != owner[1]:
            report(problems, "VRF_ROUTE_TABLE", join(path, "table-id"), "%s is in VRF %s, whose table is %d, not %d"
                   % (via, owner[0], owner[1], table), "write table-id: %d" % owner[1])
        elif owner is None and table in by_table:
            report(problems, "VRF_TABLE_IN_USE", join(path, "table-id"), "table %d belongs to VRF %s, and %s is not "
                   "in it" % (table, by_table[table], via or "this route's interface"),
                   "route through %s or one of its ports, or use another table" % by_table[table])


class Vrf(Kind):
    """nmstate ``type: vrf``: a controller whose ports keep their IP
    configuration; NetworkManager creates and deletes the device."""

    type = TYPE
    section = "vrf"
    schema = SCHEMA
    nm_type = "vrf"
    device_types = (31,)  # NM_DEVICE_TYPE_VRF
    software = True
    port_type = "vrf"
    ports_keep_ip = True
    nm_properties = {"vrf": {"table": "uint32"}}
    rules = tuple(RULES)

    def port_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        return [(("vrf", "port", k), p) for k, p in enumerate(self.section_of(iface).get("port", []))
                if isinstance(p, str)]

    def canonical(self, iface: Dict[str, Any]) -> None:
        """Ports in name order (the kernel keeps no order among them), and
        without the MTU the kernel gives every VRF device (:data:`DEFAULT_MTU`,
        above what an MTU of the schema can be: never written, and the
        default is what a VRF without ``mtu`` gets)."""
        if iface.get("mtu") == DEFAULT_MTU:
            del iface["mtu"]
        sec = iface.get("vrf")
        if isinstance(sec, dict) and isinstance(sec.get("port"), list):
            sec["port"] = sorted(sec["port"])

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        return {"vrf": {"route-table-id": int(settings.get("vrf", {}).get("table", 0)), "port": []}}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        table: Optional[int] = self.section_of(target).get("route-table-id")
        if table is None or (not new and table == self.section_of(current).get("route-table-id")):
            return {}
        return {"vrf": {"table": table}}


KIND = Vrf()
