# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""veth: a virtual Ethernet pair NetworkManager creates; ``veth.peer`` names the other end."""

from __future__ import annotations

from typing import List, Tuple, TypedDict, cast

from ..nodes import Obj, Str
from .base import Iface, KeyPath, Kind

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

    def name_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        sec = cast(VethConfig, self.section_of(iface))
        return [(("veth", "peer"), sec["peer"])] if "peer" in sec else []


KIND = Veth()
