# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which of the refused kinds' prerequisites this host has
(:data:`..kinds.refused.Feature`), from what NetworkManager already gives
with the snapshot's one ``GetManagedObjects`` reply, plus NetworkManager's
VPN plugin files for IPsec.

- ``ovs``, ``team``: the manager's ``Capabilities`` property lists
  ``NM_CAPABILITY_OVS`` (2, NetworkManager 1.24+) or ``NM_CAPABILITY_TEAM``
  (1) when that device plugin is loaded (package NetworkManager-ovs,
  NetworkManager-team). Without the plugin NetworkManager still accepts an
  ``ovs-bridge`` profile (libnm knows the setting) and only fails to
  activate it, so creating one tells nothing: the capability does.
- ``infiniband``: a device of type ``NM_DEVICE_TYPE_INFINIBAND`` (9).
- ``sriov``: a device whose ``Capabilities`` has ``NM_DEVICE_CAP_SRIOV`` (0x8).
- ``ipsec``: a VPN plugin description (``*.name`` in NetworkManager's VPN
  directories) for the libreswan service.

Source: NetworkManager's D-Bus API reference (NMCapability, NMDeviceType,
NMDeviceCapabilities) and ``nm_vpn_plugin_info_list_load()``'s directories.
"""

from __future__ import annotations

import glob
import os
from typing import Any, FrozenSet, Iterable, Mapping, Set, Tuple

from ..kinds.refused import Feature

NM_CAPABILITY_TEAM = 1
NM_CAPABILITY_OVS = 2
NM_DEVICE_TYPE_INFINIBAND = 9
NM_DEVICE_CAP_SRIOV = 0x8
#: where NetworkManager reads VPN plugin descriptions ($libdir-independent "lib", then /etc)
VPN_PLUGIN_DIRS: Tuple[str, ...] = ("/usr/lib/NetworkManager/VPN", "/etc/NetworkManager/VPN")
LIBRESWAN_SERVICE = "org.freedesktop.NetworkManager.libreswan"


def features(manager: Mapping[str, Any], devices: Iterable[Mapping[str, Any]],
             vpn_dirs: Iterable[str] = VPN_PLUGIN_DIRS) -> FrozenSet[Feature]:
    """The host's :data:`Feature` names.

    ``manager``: the properties of ``org.freedesktop.NetworkManager``
    (``Capabilities``: a list of NMCapability numbers); ``devices``: each
    device's ``org.freedesktop.NetworkManager.Device`` properties
    (``DeviceType``, ``Capabilities``); ``vpn_dirs``: the VPN plugin
    directories to look in."""
    found: Set[Feature] = set()
    caps = {int(c) for c in manager.get("Capabilities", [])}
    if NM_CAPABILITY_OVS in caps:
        found.add("ovs")
    if NM_CAPABILITY_TEAM in caps:
        found.add("team")
    for dev in devices:
        if int(dev.get("DeviceType", 0)) == NM_DEVICE_TYPE_INFINIBAND:
            found.add("infiniband")
        if int(dev.get("Capabilities", 0)) & NM_DEVICE_CAP_SRIOV:
            found.add("sriov")
    if any(_names_service(path, LIBRESWAN_SERVICE) for d in vpn_dirs for path in sorted(glob.glob(
            os.path.join(d, "*.name")))):
        found.add("ipsec")
    return frozenset(found)


def _names_service(path: str, service: str) -> bool:
    """Whether the VPN plugin description at ``path`` is for D-Bus ``service``
    (its ``service=`` line); an unreadable file is not."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            pairs = [line.partition("=") for line in handle]
    except OSError:
        return False
    return any(key.strip() == "service" and sep and value.strip() == service for key, sep, value in pairs)
