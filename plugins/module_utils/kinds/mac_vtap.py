# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MAC-VTAP: a MAC-VLAN with a tap character device for a VM (``mac-vtap: {base-iface, mode, promiscuous}``)."""

from __future__ import annotations

from typing import Tuple

from .mac_vlan import MacVlan, section_schema


class MacVtap(MacVlan):
    """nmstate ``type: mac-vtap``: NetworkManager's ``macvlan`` profile with
    ``tap: true``. Its device is a MAC-VLAN device to NetworkManager (with
    ``Tap``), so no ``NMDeviceType`` of its own maps back to this kind; the
    profile does (:meth:`claims`)."""

    type = "mac-vtap"
    section = "mac-vtap"
    schema = section_schema()
    schema_codes = {}
    device_types: Tuple[int, ...] = ()
    tap = True


KIND = MacVtap()
