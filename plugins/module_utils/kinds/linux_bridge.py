# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Linux bridge: a software bridge with ports, STP and 802.1Q port VLANs (``bridge: {options, port}``)."""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Optional, Tuple, TypedDict, cast

from ..errors import Problem
from ..nodes import Bool, Enum, Int, ListOf, Obj, Str
from .base import Iface, KeyPath, Kind, Settings

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
    port_settings = ("bridge-port",)
    nm_properties = {
        "bridge": {"ageing-time": "uint32", "multicast-snooping": "boolean", "group-forward-mask": "uint32",
                   "vlan-protocol": "string", "vlan-filtering": "boolean", "vlan-default-pvid": "uint32",
                   "stp": "boolean", "priority": "uint32", "forward-delay": "uint32", "hello-time": "uint32",
                   "max-age": "uint32"},
        "bridge-port": {"priority": "uint32", "path-cost": "uint32", "hairpin-mode": "boolean",
                        "vlans": "array of vardict"},
    }
    nm_records = {"vlans": {"vid-start": "uint16", "vid-end": "uint16", "pvid": "boolean", "untagged": "boolean"}}
    mtu_from_ports = True

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        br = settings.get("bridge", {})
        options = _options_from_nm(br, BRIDGE_OPTIONS)
        options["vlan-protocol"] = options["vlan-protocol"].replace("Q", "q")
        options["stp"] = _options_from_nm(br, STP_OPTIONS)
        return {"bridge": {"options": options, "port": []}}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        """Changed bridge and STP options; VLAN filtering only when a port
        asks for VLANs (never because a VLAN sits on top), then without the
        implicit VLAN 1 on every port: a port carries exactly the VLANs it
        names."""
        bridge = self.section_of(target)
        options = bridge.get("options", {})
        cur_options = self.section_of(current).get("options", {})
        sec = _changed(BRIDGE_OPTIONS, options, cur_options)
        if "vlan-protocol" in sec:
            sec["vlan-protocol"] = sec["vlan-protocol"].replace("q", "Q")
        filtering = any(p.get("vlan") for p in bridge.get("port", []))
        if filtering or "vlan-filtering" in (old or {}).get("bridge", {}):
            sec["vlan-filtering"] = filtering
            sec["vlan-default-pvid"] = 0 if filtering else 1
        sec.update(_changed(STP_OPTIONS, options.get("stp", {}), cur_options.get("stp", {})))
        return {"bridge": sec}

    def port_to_nm(self, entry: Mapping[str, Any]) -> Settings:
        sec = {prop: entry[key] for key, (prop, _default) in PORT_OPTIONS.items() if key in entry}
        sec["vlans"] = port_vlan_to_nm(entry["vlan"]) if entry.get("vlan") else []
        return {"bridge-port": sec}

    def port_from_nm(self, name: str, settings: Mapping[str, Mapping[str, Any]]) -> Any:
        return port_entry(settings)

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


# ---------------------------------------------------------------- NetworkManager (plain values)

#: bridge options: model key -> (NM ``bridge`` property, NM default) (nm-settings-dbus(5))
BRIDGE_OPTIONS = {
    "mac-ageing-time": ("ageing-time", 300),
    "multicast-snooping": ("multicast-snooping", True),
    "group-forward-mask": ("group-forward-mask", 0),
    "vlan-protocol": ("vlan-protocol", "802.1Q"),
}
STP_OPTIONS = {
    "enabled": ("stp", True),
    "priority": ("priority", 32768),
    "forward-delay": ("forward-delay", 15),
    "hello-time": ("hello-time", 2),
    "max-age": ("max-age", 20),
}
#: port options: model key -> (NM ``bridge-port`` property, NM default)
PORT_OPTIONS = {
    "stp-priority": ("priority", 32),
    "stp-path-cost": ("path-cost", 100),
    "stp-hairpin-mode": ("hairpin-mode", False),
}


def _options_from_nm(sec: Mapping[str, Any], table: Mapping[str, Tuple[str, Any]]) -> Dict[str, Any]:
    return {key: sec.get(prop, default) for key, (prop, default) in table.items()}


def _changed(table: Mapping[str, Tuple[str, Any]], want: Mapping[str, Any], have: Mapping[str, Any]) -> Dict[str, Any]:
    """``{NM property: value}`` of the options ``want`` gives that differ from ``have``."""
    return {prop: want[key] for key, (prop, _default) in table.items() if key in want and want[key] != have.get(key)}


def port_entry(settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
    """A bridge's ``port`` entry from the port's own profile settings."""
    entry: Dict[str, Any] = {"name": settings.get("connection", {}).get("interface-name", "")}
    entry.update(_options_from_nm(settings.get("bridge-port", {}), PORT_OPTIONS))
    vlans = settings.get("bridge-port", {}).get("vlans", [])
    if vlans:
        entry["vlan"] = port_vlan_from_nm(vlans)
    return entry


def _vid_range(v: Mapping[str, Any]) -> Dict[str, Any]:
    if v["vid-start"] == v["vid-end"]:
        return {"id": int(v["vid-start"])}
    return {"id-range": {"min": int(v["vid-start"]), "max": int(v["vid-end"])}}


def port_vlan_from_nm(vlans: List[Mapping[str, Any]]) -> Dict[str, Any]:
    """``bridge-port.vlans`` (``[{vid-start, vid-end, pvid, untagged}]``) as
    nmstate's port ``vlan``: one PVID+untagged VLAN alone is an access port,
    anything else a trunk (the PVID+untagged one is its native VLAN)."""
    native = [v for v in vlans if v.get("pvid") and v.get("untagged")]
    tagged = [v for v in vlans if not (v.get("pvid") and v.get("untagged"))]
    if len(native) == 1 and not tagged and native[0]["vid-start"] == native[0]["vid-end"]:
        return {"mode": "access", "tag": int(native[0]["vid-start"])}
    out: Dict[str, Any] = {"mode": "trunk",
                           "trunk-tags": [_vid_range(v) for v in sorted(tagged, key=lambda v: v["vid-start"])]}
    if native:
        out.update({"tag": int(native[0]["vid-start"]), "enable-native": True})
    return out


def port_vlan_to_nm(vlan: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """nmstate's port ``vlan`` as ``bridge-port.vlans`` items
    (``{vid-start, vid-end, pvid, untagged}``, IEEE 802.1Q VLAN ids)."""
    def item(start: int, end: int, native: bool) -> Dict[str, Any]:
        return {"vid-start": start, "vid-end": end, "pvid": native, "untagged": native}
    if vlan.get("mode", "access" if "trunk-tags" not in vlan else "trunk") == "access":
        return [item(vlan["tag"], vlan["tag"], True)]
    out = [item(t["id"], t["id"], False) if "id" in t else item(t["id-range"]["min"], t["id-range"]["max"], False)
           for t in vlan.get("trunk-tags", [])]
    if vlan.get("enable-native") and "tag" in vlan:
        out.append(item(vlan["tag"], vlan["tag"], True))
    return out
