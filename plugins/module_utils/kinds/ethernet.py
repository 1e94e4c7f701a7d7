# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ethernet: a device the hardware (or a veth pair) brings; no section of its own."""

from __future__ import annotations

from .base import Kind


class Ethernet(Kind):
    """nmstate ``type: ethernet``.

    NetworkManager reports a veth device as ethernet too (``NMDeviceType``
    20, NM_DEVICE_TYPE_VETH): to the user an existing veth end is an
    ethernet interface unless the document names its peer."""

    type = "ethernet"
    # nmstate's ethernet section (speed, duplex, auto-negotiation, sr-iov) is refused by the schema's
    # _ETHERNET node: sr-iov with its reason from .refused
    nm_type = "802-3-ethernet"
    device_types = (1, 20)  # NM_DEVICE_TYPE_ETHERNET, NM_DEVICE_TYPE_VETH
    keyfile_type = "ethernet"


KIND = Ethernet()
