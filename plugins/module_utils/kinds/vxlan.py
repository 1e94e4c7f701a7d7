# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VXLAN: a virtual Layer 2 network over UDP (RFC 7348), ``vxlan: {id, base-iface, remote, local,
destination-port, learning}``."""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..nodes import Bool, Int, IpAddress, Obj, Str, join
from .base import Iface, Settings, Stacked, changed_props, live_diff

#: the VXLAN network identifier is 24 bits (RFC 7348 section 5)
MAX_VNI = 2 ** 24 - 1
#: the Linux kernel's (and NetworkManager's) default UDP port; IANA's is 4789
DEFAULT_PORT = 8472


def _check(section: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """VXLAN_ADDRESS_FAMILY_MISMATCH: ``local`` and ``remote`` of two IP
    families (the kernel's vxlan driver and NetworkManager refuse it: the
    tunnel runs over one family)."""
    local, remote = section.get("local"), section.get("remote")
    if local and remote and ipaddress.ip_address(local).version != ipaddress.ip_address(remote).version:
        problems.append(Problem("VXLAN_ADDRESS_FAMILY_MISMATCH", join(path, "local"), "local %s and remote %s are "
                                "of different IP families" % (local, remote),
                                "use a local address of the remote's family (or leave local out)"))


SCHEMA = Obj({
    "id": Int(1, MAX_VNI, "(a 24-bit VXLAN network identifier, RFC 7348)", code="VXLAN_ID_OUT_OF_RANGE"),
    "base-iface": Str(what="an interface name"),
    "remote": IpAddress(),
    "local": IpAddress(),
    "destination-port": Int(1, 65535),
    "learning": Bool(),
}, required=("id",), check=_check)

#: model key -> NetworkManager's ``vxlan`` property (nm-settings-dbus(5))
_PROPS = {"id": "id", "base-iface": "parent", "remote": "remote", "local": "local",
          "destination-port": "destination-port", "learning": "learning"}
#: model key -> (property of org.freedesktop.NetworkManager.Device.Vxlan, its canonical form)
_LIVE = {"id": ("Id", int), "base-iface": ("Parent", str), "remote": ("Group", str), "local": ("Local", str),
         "destination-port": ("DstPort", int), "learning": ("Learning", bool)}


def _address(text: Any) -> str:
    """An address as NetworkManager holds it (text), canonical (``""`` for none)."""
    return str(ipaddress.ip_address(text)) if text else ""


class Vxlan(Stacked):
    """nmstate ``type: vxlan``. ``base-iface`` is optional (the kernel then
    picks the underlay by route); when given, the VXLAN is stacked on it.

    NetworkManager leaves ``destination-port`` and ``learning`` out of a
    profile at their defaults (8472, true): reading fills them in, so the
    host's state always states them."""

    type = "vxlan"
    section = "vxlan"
    schema = SCHEMA
    schema_codes = {"VXLAN_ID_OUT_OF_RANGE": "a VXLAN id outside 1..16777215 (a 24-bit identifier, RFC 7348)",
                    "VXLAN_ADDRESS_FAMILY_MISMATCH": "a VXLAN's local and remote addresses of different IP families"}
    nm_type = "vxlan"
    nm_properties = {"vxlan": {"id": "uint32", "parent": "string", "remote": "string", "local": "string",
                               "destination-port": "uint32", "learning": "boolean"}}
    device_types = (19,)  # NM_DEVICE_TYPE_VXLAN
    device_iface = "org.freedesktop.NetworkManager.Device.Vxlan"

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        sec = settings.get("vxlan", {})
        out: Dict[str, Any] = {"id": int(sec.get("id", 0)),
                               "destination-port": int(sec.get("destination-port", DEFAULT_PORT)),
                               "learning": bool(sec.get("learning", True))}
        for key in ("remote", "local"):
            if sec.get(key):
                out[key] = _address(sec[key])
        if sec.get("parent"):
            out["base-iface"] = str(sec["parent"])
        return {"vxlan": out}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        want = {_PROPS[k]: v for k, v in self.section_of(target).items() if k in _PROPS}
        have = {_PROPS[k]: v for k, v in self.section_of(current).items() if k in _PROPS}
        props = changed_props(have, want, new)
        return {"vxlan": props} if props else {}

    def live_mismatches(self, target: Iface, device: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        live = dict(device.get("kind") or {})
        for prop in ("Group", "Local"):
            if prop in live:
                live[prop] = _address(live[prop])
        return live_diff("vxlan", self.section_of(target), live, _LIVE)


KIND = Vxlan()
