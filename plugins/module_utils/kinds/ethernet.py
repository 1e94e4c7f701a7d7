# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ethernet: a device the hardware (or a veth pair) brings; no section of its own."""

from __future__ import annotations

from typing import Any, Dict, List

from ..errors import Problem
from ..nodes import Obj, Unsupported
from . import refused
from .base import Kind


def _refuse_whole(section: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """A section whose every key is refused is refused when empty too: it must not reach the model."""
    Unsupported().parse(section, path, problems)


#: nmstate's ethernet section: all of it refused, SR-IOV with its reason (:mod:`.refused`)
SECTION_SCHEMA = Obj({key: Unsupported(r.why, r.hint) for key, r in refused.keys("ethernet").items()},
                     unsupported=["auto-negotiation", "speed", "duplex"], check=_refuse_whole)


class Ethernet(Kind):
    """nmstate ``type: ethernet``.

    NetworkManager reports a veth device as ethernet too (``NMDeviceType``
    20, NM_DEVICE_TYPE_VETH): to the user an existing veth end is an
    ethernet interface unless the document names its peer."""

    type = "ethernet"
    # nmstate's ethernet section (speed, duplex, auto-negotiation, sr-iov): refused, see SECTION_SCHEMA
    interface_fields = {"ethernet": SECTION_SCHEMA}
    nm_type = "802-3-ethernet"
    device_types = (1, 20)  # NM_DEVICE_TYPE_ETHERNET, NM_DEVICE_TYPE_VETH
    keyfile_type = "ethernet"


KIND = Ethernet()
