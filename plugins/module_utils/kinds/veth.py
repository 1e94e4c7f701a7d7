# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""veth: a virtual Ethernet pair NetworkManager creates; ``veth.peer`` names the other end."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, TypedDict, cast

from ..nodes import Obj, Str
from .base import Iface, KeyPath, Kind, Settings

#: the ``veth`` section
VethConfig = TypedDict("VethConfig", {"peer": str})

SCHEMA = Obj({"peer": Str(what="an interface name")}, required=("peer",))


class Veth(Kind):
    """nmstate ``type: veth`` with ``veth: {peer: <name>}``.

    NetworkManager creates both ends when it activates the profile (the
    peer under the name given) and reports the device as ethernet, so no
    ``NMDeviceType`` maps back to this kind."""

    type = "veth"
    section = "veth"
    schema = SCHEMA
    nm_type = "veth"
    software = True
    reported_as = "ethernet"
    nm_properties = {"veth": {"peer": "string"}}

    def name_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        sec = cast(VethConfig, self.section_of(iface))
        return [(("veth", "peer"), sec["peer"])] if "peer" in sec else []

    def peers(self, iface: Iface) -> List[str]:
        peer = self.section_of(iface).get("peer")
        return [peer] if isinstance(peer, str) else []

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        return {"veth": {"peer": settings.get("veth", {}).get("peer", "")}}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        peer = self.section_of(target).get("peer")
        return {"veth": {"peer": peer}} if peer else {}

    def recreates(self, current: Iface, target: Iface) -> bool:
        """A new peer: the kernel cannot move one end of a pair to another
        peer (``IFLA_VETH_PEER`` is read only at creation), so the pair is
        deleted and created again, and the old peer goes with it."""
        old, new = self.section_of(current).get("peer"), self.section_of(target).get("peer")
        return bool(old) and bool(new) and old != new


KIND = Veth()
