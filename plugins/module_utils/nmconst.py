# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager's names and numbers, each defined once: D-Bus object
paths and interfaces, device and activation states, profile flags and the
flags of its methods. Values from NetworkManager's D-Bus API reference
(``nm-dbus-interface.h``). Plain data for every layer: the live checks
compare device states too.
"""

from __future__ import annotations

# -- D-Bus names
NM_BUS = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
NM_IFACE = "org.freedesktop.NetworkManager"
SETTINGS_PATH = NM_PATH + "/Settings"
SETTINGS_IFACE = NM_IFACE + ".Settings"
CONNECTION_IFACE = SETTINGS_IFACE + ".Connection"
DEVICE_IFACE = NM_IFACE + ".Device"
WIRED_IFACE = DEVICE_IFACE + ".Wired"
ACTIVE_IFACE = NM_IFACE + ".Connection.Active"
IP_CONFIG_IFACES = (NM_IFACE + ".IP4Config", NM_IFACE + ".IP6Config")
OBJECT_MANAGER_PATH = "/org/freedesktop"   # NM's org.freedesktop.DBus.ObjectManager root
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"
#: the D-Bus signature of a profile's settings
SETTINGS_SIG = "a{sa{sv}}"

# -- NMDeviceState: between "disconnected" and "activated" a device is still changing
DEVICE_UNMANAGED = 10
DEVICE_DISCONNECTED = 30
DEVICE_ACTIVATED = 100
DEVICE_DEACTIVATING = 110

# -- NMActiveConnectionState
AC_ACTIVATING, AC_ACTIVATED, AC_DEACTIVATING, AC_DEACTIVATED = 1, 2, 3, 4

# -- NMSettingsConnectionFlags: UNSAVED = the profile lives in memory only; NM_GENERATED and EXTERNAL = NM made
# it itself for a device configured outside it (loopback, for one), with a new UUID after each restart
FLAG_UNSAVED, FLAG_NM_GENERATED, FLAG_VOLATILE, FLAG_EXTERNAL = 0x1, 0x2, 0x4, 0x8

# -- NMSettingsAddConnection2Flags
ADD_TO_DISK, ADD_IN_MEMORY, ADD_BLOCK_AUTOCONNECT = 0x1, 0x2, 0x20
# -- NMSettingsUpdate2Flags
UPDATE_TO_DISK, UPDATE_IN_MEMORY, UPDATE_IN_MEMORY_ONLY, UPDATE_BLOCK_AUTOCONNECT, UPDATE_NO_REAPPLY = \
    0x1, 0x2, 0x8, 0x20, 0x40

# -- NMCheckpointCreateFlags: remove profiles and devices created after the checkpoint on rollback, and
# (NM >= 1.48) cover global DNS set over D-Bus (GlobalDnsConfiguration)
CP_DELETE_NEW_CONNECTIONS, CP_DISCONNECT_NEW_DEVICES, CP_TRACK_INTERNAL_GLOBAL_DNS = 0x2, 0x4, 0x20
