# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linux bridge: a software bridge with ports, STP and 802.1Q port VLANs (``bridge: {options, port}``)."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Tuple, TypedDict, cast

from ..errors import Problem
from ..nodes import Bool, Enum, Int, ListOf, Obj, Str
from .base import Iface, KeyPath, Kind

STP = Obj({
    "enabled": Bool(),
    "forward-delay": Int(2, 30, "seconds"),
    "hello-time": Int(1, 10, "seconds"),
    "max-age": Int(6, 40, "seconds"),
    "priority": Int(0, 65535),
})

_BRIDGE_OPTIONS = Obj({
    "stp": STP,
    "mac-ageing-time": Int(0, 1000000, "seconds"),
    "multicast-snooping": Bool(),
    "group-forward-mask": Int(0, 65535),
    "vlan-protocol": Enum("802.1q", "802.1ad"),
}, unsupported=["group-addr", "hash-max", "multicast-router", "multicast-last-member-count",
                "multicast-last-member-interval", "multicast-membership-interval", "multicast-querier",
                "multicast-querier-interval", "multicast-query-interval", "multicast-query-response-interval",
                "multicast-query-use-ifaddr", "multicast-startup-query-count", "multicast-startup-query-interval",
                "vlan-default-pvid", "gc-timer", "hello-timer", "group-fwd-mask", "hash-elasticity"])


def _check_port_vlan(vlan: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """IEEE 802.1Q port modes as nmstate writes them: an access port has one
    untagged VLAN (``tag``); a trunk port carries ``trunk-tags`` and, with
    ``enable-native``, ``tag`` untagged as its native VLAN."""
    mode = vlan.get("mode", "trunk" if vlan.get("trunk-tags") else "access")
    if mode == "access" and ("trunk-tags" in vlan or "tag" not in vlan):
        problems.append(Problem("BRIDGE_VLAN_INVALID", path, "an access port takes exactly one tag and no trunk-tags",
                                "write mode: access with tag: <vlan id>, or mode: trunk"))
    if mode == "trunk" and not vlan.get("trunk-tags"):
        problems.append(Problem("BRIDGE_VLAN_INVALID", path, "a trunk port needs trunk-tags",
                                "list the VLANs the port carries under trunk-tags"))
    if vlan.get("enable-native") and "tag" not in vlan:
        problems.append(Problem("BRIDGE_VLAN_INVALID", path, "enable-native needs tag (the native VLAN)",
                                "add tag: <native vlan id>"))
    for i, entry in enumerate(vlan.get("trunk-tags", [])):
        rng = entry.get("id-range")
        if ("id" in entry) == (rng is not None):
            problems.append(Problem("BRIDGE_VLAN_INVALID", "%s.trunk-tags[%d]" % (path, i),
                                    "give either id or id-range", "write id: 101 or id-range: {min: 500, max: 599}"))
        elif rng is not None and rng["min"] > rng["max"]:
            problems.append(Problem("BRIDGE_VLAN_INVALID", "%s.trunk-tags[%d].id-range" % (path, i),
                                    "min %d is above max %d" % (rng["min"], rng["max"]), "swap them"))


_VLAN_RANGE = Obj({"min": Int(1, 4094), "max": Int(1, 4094)}, required=("min", "max"))
_PORT_VLAN = Obj({
    "mode": Enum("access", "trunk"),
    "tag": Int(1, 4094),
    "trunk-tags": ListOf(Obj({"id": Int(1, 4094), "id-range": _VLAN_RANGE})),
    "enable-native": Bool(),
}, check=_check_port_vlan)

_BRIDGE_PORT = Obj({
    "name": Str(what="an interface name"),
    "stp-priority": Int(0, 63),
    "stp-path-cost": Int(1, 65535),
    "stp-hairpin-mode": Bool(),
    "vlan": _PORT_VLAN,
}, required=("name",))

_BRIDGE = Obj({"options": _BRIDGE_OPTIONS, "port": ListOf(_BRIDGE_PORT)})


#: the STP keys that do nothing while STP is off
STP_TIMERS = ("forward-delay", "hello-time", "max-age", "priority")
#: one entry of ``bridge.port`` (``vlan``: the port's 802.1Q settings, see :func:`_check_port_vlan`)
BridgePort = TypedDict("BridgePort", {"name": str, "stp-priority": int, "stp-path-cost": int,
                                      "stp-hairpin-mode": bool, "vlan": Dict[str, Any]}, total=False)
#: the ``bridge`` section (``options``: the bridge's and its STP's options, see :data:`_BRIDGE_OPTIONS`)
BridgeConfig = TypedDict("BridgeConfig", {"options": Dict[str, Any], "port": List[BridgePort]}, total=False)


class LinuxBridge(Kind):
    """nmstate ``type: linux-bridge``: a controller whose ports are listed
    with their options in ``bridge.port``; NetworkManager creates and
    deletes the device, and its ports' profiles get ``port-type: bridge``."""

    type = "linux-bridge"
    section = "bridge"
    schema = _BRIDGE
    schema_codes = {"BRIDGE_VLAN_INVALID": "a bridge port's VLAN settings do not form an 802.1Q access or trunk port"}
    nm_type = "bridge"
    device_types = (13,)  # NM_DEVICE_TYPE_BRIDGE
    software = True
    port_type = "bridge"

    def config(self, iface: Iface) -> BridgeConfig:
        """The interface's ``bridge`` section (``{}`` when it has none)."""
        return cast(BridgeConfig, self.section_of(iface))

    def port_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        return [(("bridge", "port", k, "name"), p["name"]) for k, p in enumerate(self.config(iface).get("port", []))]

    def no_effect(self, iface: Iface) -> List[Tuple[KeyPath, str, str]]:
        """STP timers and priority while STP is disabled (the kernel keeps them unused)."""
        stp = (self.section_of(iface).get("options") or {}).get("stp") or {}
        if stp.get("enabled") is not False:
            return []
        return [(("bridge", "options", "stp", k), "stp.%s has no effect while STP is disabled" % k,
                 "remove it, or enable STP") for k in STP_TIMERS if k in stp]

    def merge_section(self, current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
        """nmstate's merge of a bridge: ``options`` key by key (and
        ``options.stp`` key by key), a port entry keeps the port options it
        does not restate; the port list itself replaces the host's."""
        out = dict(current)
        for key, value in desired.items():
            if key == "options" and isinstance(out.get("options"), dict):
                out["options"] = _merge_options(out["options"], value)
            elif key == "port":
                old = {p["name"]: p for p in current.get("port", [])}
                out["port"] = [dict(old.get(p["name"], {}), **p) for p in value]
            else:
                out[key] = copy.deepcopy(value)
        return out


def _merge_options(current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
    opts = dict(current)
    for key, value in desired.items():
        if key == "stp" and isinstance(opts.get("stp"), dict):
            opts["stp"] = dict(opts["stp"], **value)
        else:
            opts[key] = value
    return opts


KIND = LinuxBridge()
