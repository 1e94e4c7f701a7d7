# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVLAN: devices that share their base's MAC address and are told apart by IP address
(``ipvlan: {base-iface, mode, private, vepa}``); NetworkManager has them since 1.52."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..nodes import Bool, Enum, Obj, Str, join
from ..rulebook import Doc, Rule, interfaces, ipath, present, register, report
from .base import Iface, Settings, Stacked, changed_props, live_diff

TYPE = "ipvlan"
#: the kernel's ipvlan modes, in the order of NetworkManager's ``ipvlan.mode`` numbers (1..3)
MODES = ("l2", "l3", "l3s")
#: the kernel's default mode (drivers/net/ipvlan), and nmstate's
DEFAULT_MODE = "l3"
#: modes in which the device neither resolves neighbours nor receives broadcast and multicast
LAYER3_MODES = ("l3", "l3s")


def _check(section: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """IPVLAN_PRIVATE_AND_VEPA: ``private`` and ``vepa`` both true (the kernel's
    ipvlan driver takes one of the two flags; NetworkManager and nmstate refuse both)."""
    if section.get("private") is True and section.get("vepa") is True:
        problems.append(Problem("IPVLAN_PRIVATE_AND_VEPA", join(path, "vepa"), "private and vepa cannot both be "
                                "true", "keep one of them (private: no traffic between the IPVLANs of a base; "
                                "vepa: that traffic goes through the switch)"))


SCHEMA = Obj({
    "base-iface": Str(what="an interface name"),
    "mode": Enum(*MODES),
    "private": Bool(),
    "vepa": Bool(),
}, required=("base-iface",), check=_check)

RULES: List[Rule] = []


@register(RULES, "IPVLAN_L3_GATEWAY")
def _l3_gateways(doc: Doc, problems: List[Problem]) -> None:
    """IPVLANs in a layer 3 mode with a gateway.

    IPVLAN_L3_GATEWAY: a route with a ``next-hop-address`` through an IPVLAN in mode l3 or l3s, or DHCP on one

    Judged where the document states the mode (the host's IPVLAN may be in l2).

    Source: the kernel's ipvlan driver (Documentation/networking/ipvlan.rst):
    in l3 and l3s mode the device does no ARP or neighbour discovery and
    receives no broadcast or multicast, so a next hop is never resolved on it
    and DHCP gets no answer; routes through it are device routes, and the
    base interface routes the packets."""
    layer3 = _layer3(doc)
    for i, iface in interfaces(doc):
        if iface["name"] in layer3 and (iface.get("ipv4") or {}).get("dhcp") is True:
            report(problems, "IPVLAN_L3_GATEWAY", ipath(i, "ipv4", "dhcp"), "%s is an IPVLAN in a layer 3 mode: "
                   "DHCP gets no answer on it" % iface["name"], "use static addresses, or mode: l2")
    for k, route in enumerate((doc.get("routes") or {}).get("config") or []):
        name = (route or {}).get("next-hop-interface")
        if name in layer3 and route.get("next-hop-address") and route.get("state") != "absent":
            report(problems, "IPVLAN_L3_GATEWAY", "routes.config[%d].next-hop-address" % k, "route to %s goes "
                   "through %s via %s, but an IPVLAN in a layer 3 mode resolves no next hop"
                   % (route.get("destination"), name, route["next-hop-address"]),
                   "leave next-hop-address out (a device route through %s), or use mode: l2" % name)


def _layer3(doc: Doc) -> List[str]:
    """Names of the document's IPVLANs whose stated mode is l3 or l3s."""
    return [name for name, (_i, iface) in present(doc).items()
            if iface.get("type") == TYPE and (iface.get(TYPE) or {}).get("mode") in LAYER3_MODES]


#: model key -> (property of org.freedesktop.NetworkManager.Device.Ipvlan, its canonical form)
_LIVE = {"base-iface": ("Parent", str), "mode": ("Mode", str), "private": ("Private", bool), "vepa": ("Vepa", bool)}


class Ipvlan(Stacked):
    """nmstate ``type: ipvlan``; NetworkManager's ``ipvlan`` setting exists
    since 1.52 (:attr:`min_nm`), so on an older host the plan refuses it
    before anything changes. A new IPVLAN without ``mode`` gets the kernel's
    default, l3."""

    type = TYPE
    section = TYPE
    schema = SCHEMA
    schema_codes = {"IPVLAN_PRIVATE_AND_VEPA": "an IPVLAN with both private and vepa true"}
    rules = tuple(RULES)
    nm_type = TYPE
    nm_properties = {"ipvlan": {"parent": "string", "mode": "uint32", "private": "boolean", "vepa": "boolean"}}
    device_types = (34,)  # NM_DEVICE_TYPE_IPVLAN
    device_iface = "org.freedesktop.NetworkManager.Device.Ipvlan"
    min_nm = (1, 52)

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        sec = settings.get("ipvlan", {})
        mode = int(sec.get("mode", 0))
        out: Dict[str, Any] = {"base-iface": str(sec.get("parent", "")), "private": bool(sec.get("private", False)),
                               "vepa": bool(sec.get("vepa", False))}
        if 1 <= mode <= len(MODES):
            out["mode"] = MODES[mode - 1]
        return {TYPE: out}

    def _props(self, iface: Iface, new: bool) -> Dict[str, Any]:
        sec = dict(self.section_of(iface))
        if new:
            sec.setdefault("mode", DEFAULT_MODE)
        props = {"parent": sec.get("base-iface"), "mode": MODES.index(sec["mode"]) + 1 if "mode" in sec else None,
                 "private": sec.get("private"), "vepa": sec.get("vepa")}
        return {k: v for k, v in props.items() if v is not None}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        props = changed_props(self._props(current, False), self._props(target, new), new)
        return {TYPE: props} if props else {}

    def live_mismatches(self, target: Iface, device: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        return live_diff(TYPE, self.section_of(target), device.get("kind") or {}, _LIVE)


KIND = Ipvlan()
