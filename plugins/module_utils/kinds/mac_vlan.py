# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC-VLAN: a device with its own MAC address on a base interface (``mac-vlan: {base-iface, mode,
promiscuous}``); MAC-VTAP (:mod:`.mac_vtap`) is the same device with a tap character device."""

from __future__ import annotations

import operator
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..nodes import Bool, Enum, Obj, Str, Unsupported, join
from .base import Iface, Settings, Stacked, changed_props, live_diff

#: the kernel's macvlan modes, in the order of NetworkManager's ``macvlan.mode`` numbers (1..5)
MODES = ("vepa", "bridge", "private", "passthru", "source")


def _check(section: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """MACVLAN_PROMISCUOUS_OFF: ``promiscuous: false`` in a mode other than
    ``passthru`` (NetworkManager refuses the profile, nm-setting-macvlan.c:
    only the one device of passthru mode may keep its base out of
    promiscuous mode)."""
    if section.get("promiscuous") is False and section.get("mode", "passthru") != "passthru":
        problems.append(Problem("MACVLAN_PROMISCUOUS_OFF", join(path, "promiscuous"), "promiscuous: false is only "
                                "possible in mode passthru, not %s" % section["mode"],
                                "remove promiscuous (or set it to true), or use mode: passthru"))


def section_schema() -> Obj:
    """The schema of a ``mac-vlan`` (or ``mac-vtap``) section."""
    return Obj({
        "base-iface": Str(what="an interface name"),
        "mode": Enum(*MODES),
        "promiscuous": Bool(),
        "accept-all-mac": Unsupported("nmstate's other name for promiscuous", "write promiscuous instead"),
    }, required=("base-iface", "mode"), check=_check)


#: model key -> (property of org.freedesktop.NetworkManager.Device.Macvlan, its canonical form)
_LIVE: Dict[str, Tuple[str, Callable[[Any], Any]]] = {
    "base-iface": ("Parent", str), "mode": ("Mode", str), "promiscuous": ("NoPromisc", operator.not_)}


class MacVlan(Stacked):
    """nmstate ``type: mac-vlan``: NetworkManager's ``macvlan`` profile with
    ``tap: false``. NetworkManager reports the promiscuous flag as
    ``promiscuous`` (default true) and the device's as ``NoPromisc``."""

    type = "mac-vlan"
    section = "mac-vlan"
    schema = section_schema()
    schema_codes = {"MACVLAN_PROMISCUOUS_OFF": "promiscuous: false on a MAC-VLAN or MAC-VTAP outside passthru mode"}
    nm_type = "macvlan"
    nm_properties = {"macvlan": {"parent": "string", "mode": "uint32", "promiscuous": "boolean",
                                 "tap": "boolean"}}
    device_types: Tuple[int, ...] = (18,)  # NM_DEVICE_TYPE_MACVLAN (a MAC-VTAP device too: its profile tells them apart)
    device_iface = "org.freedesktop.NetworkManager.Device.Macvlan"
    #: NetworkManager's ``macvlan.tap``
    tap = False

    def claims(self, settings: Mapping[str, Mapping[str, Any]]) -> bool:
        return bool(settings.get("macvlan", {}).get("tap", False)) == self.tap

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        sec = settings.get("macvlan", {})
        mode = int(sec.get("mode", 0))
        out: Dict[str, Any] = {"base-iface": str(sec.get("parent", "")),
                               "promiscuous": bool(sec.get("promiscuous", True))}
        if 1 <= mode <= len(MODES):
            out["mode"] = MODES[mode - 1]
        return {self.section or "": out}

    def _props(self, iface: Iface) -> Dict[str, Any]:
        sec = self.section_of(iface)
        props: Dict[str, Any] = {"tap": self.tap} if sec else {}
        if "base-iface" in sec:
            props["parent"] = sec["base-iface"]
        if "mode" in sec:
            props["mode"] = MODES.index(sec["mode"]) + 1
        if "promiscuous" in sec:
            props["promiscuous"] = sec["promiscuous"]
        return props

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        props = changed_props(self._props(current), self._props(target), new)
        return {"macvlan": props} if props else {}

    def live_mismatches(self, target: Iface, device: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        return live_diff(self.section or "", self.section_of(target), device.get("kind") or {}, _LIVE)


KIND = MacVlan()
