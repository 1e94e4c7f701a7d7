# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VLAN: an IEEE 802.1Q VLAN device on a base interface (``vlan: {base-iface, id}``)."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, TypedDict, cast

from ..errors import Problem
from ..nodes import Int, Obj, Str
from ..rulebook import Doc, Rule, ipath, present, register, report
from .base import Iface, Settings, Stacked

TYPE = "vlan"
#: the ``vlan`` section (canonical: both keys present)
VlanConfig = TypedDict("VlanConfig", {"base-iface": str, "id": int})
DEFAULT_MTU = 1500  # Ethernet (and NetworkManager's default for a new software device)

SCHEMA = Obj({"base-iface": Str(what="an interface name"),
              "id": Int(1, 4094, "(IEEE 802.1Q reserves 0 and 4095)", code="VLAN_ID_OUT_OF_RANGE")},
             required=("base-iface", "id"), unsupported=["protocol", "registration-protocol", "reorder-headers",
                                                         "loose-binding"])


RULES: List[Rule] = []


@register(RULES, "VLAN_DUPLICATE", "VLAN_MTU_ABOVE_BASE")
def _vlans(doc: Doc, problems: List[Problem]) -> None:
    """VLANs.

    VLAN_DUPLICATE: two VLANs with the same base and id
    VLAN_MTU_ABOVE_BASE: a VLAN's MTU above its base's (a base without ``mtu`` counts as 1500)

    Source: the kernel's 8021q driver refuses a second VLAN device for the
    same (base, id) and an MTU above the base device's (vlan_dev_change_mtu).
    When the base is in the document without ``mtu``, its MTU is whatever the
    host has (1500 for a new device), so the VLAN's MTU is checked against
    1500 and the hint asks to state the base's MTU."""
    by_name = present(doc)
    seen: Dict[Tuple[str, int], str] = {}
    for name, (i, iface) in by_name.items():
        vlan = iface.get("vlan")
        if iface.get("type") not in (None, TYPE) or not isinstance(vlan, dict):
            continue
        key = (vlan["base-iface"], vlan["id"])
        if key in seen:
            report(problems, "VLAN_DUPLICATE", ipath(i, "vlan", "id"), "VLAN %d on %s is already defined as %s"
                   % (key[1], key[0], seen[key]), "use another id, or merge the two entries")
        seen.setdefault(key, name)
        base = by_name.get(vlan["base-iface"])
        if "mtu" in iface and base is not None:
            _check_mtu(i, name, iface, base, problems)


def _check_mtu(i: int, name: str, iface: Dict[str, Any], base: Tuple[int, Dict[str, Any]],
               problems: List[Problem]) -> None:
    """VLAN_MTU_ABOVE_BASE for the VLAN ``name`` (``interfaces[i]``) on ``base`` (``(index, interface)``)."""
    base_mtu = base[1].get("mtu", DEFAULT_MTU)
    if iface["mtu"] > base_mtu:
        base_name = base[1]["name"]
        report(problems, "VLAN_MTU_ABOVE_BASE", ipath(i, "mtu"), "%s asks for MTU %d, above the MTU %d of its "
               "base %s (interfaces[%d]%s)" % (name, iface["mtu"], base_mtu, base_name, base[0],
                                               "" if "mtu" in base[1] else ", no mtu given"),
               "set mtu: %d (or more) on %s, or lower the MTU of %s" % (iface["mtu"], base_name, name))


class Vlan(Stacked):
    """nmstate ``type: vlan``. It is stacked on its base (``base-iface``),
    which must exist first; NetworkManager creates and deletes the device."""

    type = TYPE
    section = "vlan"
    schema = SCHEMA
    schema_codes = {"VLAN_ID_OUT_OF_RANGE": "a VLAN id outside 1..4094 (IEEE 802.1Q reserves 0 and 4095)"}
    nm_type = "vlan"
    device_types = (11,)  # NM_DEVICE_TYPE_VLAN
    rules = tuple(RULES)
    nm_properties = {"vlan": {"parent": "string", "id": "uint32"}}

    def config(self, iface: Iface) -> VlanConfig:
        """The interface's ``vlan`` section (``{}`` when it has none)."""
        return cast(VlanConfig, self.section_of(iface))

    def name_hint(self, name: str) -> str:
        """Names like ``eth1.100`` or ``vlan100`` are usually meant as VLANs."""
        return "; for a VLAN use type: vlan with vlan.base-iface and vlan.id" if "." in name or \
            name.startswith("vlan") else ""

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        vlan = settings.get("vlan", {})
        return {"vlan": {"base-iface": vlan.get("parent", ""), "id": int(vlan.get("id", 0))}}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        vlan = self.section_of(target)
        return {"vlan": {"parent": vlan.get("base-iface", ""), "id": vlan.get("id", 0)}}


KIND = Vlan()
