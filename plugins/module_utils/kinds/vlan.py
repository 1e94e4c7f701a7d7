# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""VLAN: an IEEE 802.1Q VLAN device on a base interface (``vlan: {base-iface, id}``)."""

from __future__ import annotations

from typing import List, Optional, Tuple

from ..nodes import Int, Obj, Str
from .base import Iface, KeyPath, Kind

SCHEMA = Obj({"base-iface": Str(what="an interface name"),
              "id": Int(1, 4094, "(IEEE 802.1Q reserves 0 and 4095)", code="VLAN_ID_OUT_OF_RANGE")},
             required=("base-iface", "id"), unsupported=["protocol", "registration-protocol", "reorder-headers",
                                                         "loose-binding"])


class Vlan(Kind):
    """nmstate ``type: vlan``. It is stacked on its base (``base-iface``),
    which must exist first; NetworkManager creates and deletes the device."""

    type = "vlan"
    section = "vlan"
    schema = SCHEMA
    schema_codes = {"VLAN_ID_OUT_OF_RANGE": "a VLAN id outside 1..4094 (IEEE 802.1Q reserves 0 and 4095)"}
    nm_type = "vlan"
    device_types = (11,)  # NM_DEVICE_TYPE_VLAN
    software = True

    def parent(self, iface: Iface) -> Optional[str]:
        base = self.section_of(iface).get("base-iface")
        return base if isinstance(base, str) else None

    def name_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        base = self.parent(iface)
        return [(("vlan", "base-iface"), base)] if base is not None else []


KIND = Vlan()
