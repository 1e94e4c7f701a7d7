# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Profile settings as D-Bus values: the one place where the plain
settings of :mod:`..profiles` get their D-Bus types.

:func:`to_dbus` gives each property NetworkManager's type (nm-settings-dbus(5))
from :data:`SIGNATURES`; a property the plain settings leave as the profile
has it keeps the very D-Bus value read (its type included), so properties
hostnet.nm does not model go back unchanged.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from .. import profiles
from ..ops import Settings
from ..profiles import ProfileChange
from .dbus import Variant, unwrap

#: D-Bus settings: ``{setting: {property: Variant or the library's variant}}``
DbusSettings = Dict[str, Dict[str, Any]]

#: the items of ``aa{sv}`` properties: property -> {item key: signature}
ITEM_SIGNATURES = {
    "address-data": {"address": "s", "prefix": "u"},
    "route-data": {"dest": "s", "prefix": "u", "table": "u", "next-hop": "s", "metric": "u", "onlink": "b",
                   "src": "s", "mtu": "u", "cwnd": "u", "initcwnd": "u", "initrwnd": "u", "lock-cwnd": "b",
                   "weight": "u"},
    "routing-rules": {"family": "i", "table": "u", "priority": "u", "from": "s", "from-len": "y", "to": "s",
                      "to-len": "y", "iifname": "s", "fwmark": "u", "fwmask": "u", "action": "y",
                      "suppress-prefixlength": "i"},
    "vlans": {"vid-start": "q", "vid-end": "q", "pvid": "b", "untagged": "b"},
}
_IP = {"method": "s", "address-data": "aa{sv}", "ignore-auto-dns": "b", "never-default": "b",
       "ignore-auto-routes": "b", "route-data": "aa{sv}", "gateway": "s", "dns-priority": "i", "dns-search": "as",
       "dns-options": "as", "routing-rules": "aa{sv}"}
#: NetworkManager's D-Bus type of every property hostnet.nm writes: ``{setting: {property: signature}}``
SIGNATURES = {
    "connection": {"id": "s", "uuid": "s", "type": "s", "interface-name": "s", "autoconnect": "b", "master": "s",
                   "slave-type": "s"},
    "user": {"data": "a{ss}"},
    "match": {"interface-name": "as"},
    "802-3-ethernet": {"mtu": "u", "assigned-mac-address": "s"},
    "ipv4": dict(_IP, dns="au"),
    "ipv6": dict(_IP, dns="aay"),
    "bridge": {"ageing-time": "u", "multicast-snooping": "b", "group-forward-mask": "u", "vlan-protocol": "s",
               "vlan-filtering": "b", "vlan-default-pvid": "u", "stp": "b", "priority": "u", "forward-delay": "u",
               "hello-time": "u", "max-age": "u"},
    "bridge-port": {"priority": "u", "path-cost": "u", "hairpin-mode": "b", "vlans": "aa{sv}"},
    "bond": {"options": "a{ss}"},
    "vlan": {"parent": "s", "id": "u"},
    "veth": {"peer": "s"},
    "vrf": {"table": "u"},
    "vxlan": {"id": "u", "parent": "s", "remote": "s", "local": "s", "destination-port": "u", "learning": "b"},
    "macvlan": {"parent": "s", "mode": "u", "promiscuous": "b", "tap": "b"},
    "ipvlan": {"parent": "s", "mode": "u", "private": "b", "vepa": "b"},
}


def variant(setting: str, prop: str, value: Any) -> Variant:
    """``value`` of property ``setting.prop`` with its D-Bus type.

    Raises:
        KeyError: hostnet.nm does not write that property (a bug: every
            property the plain settings change is in :data:`SIGNATURES`).
    """
    signature = SIGNATURES[setting][prop]
    if signature == "aa{sv}":
        items = ITEM_SIGNATURES[prop]
        value = [{k: Variant(items[k], v) for k, v in item.items()} for item in value]
    return Variant(signature, value)


def to_dbus(settings: Settings, base: Optional[DbusSettings] = None) -> DbusSettings:
    """Plain ``settings`` (:mod:`..profiles`) as D-Bus settings: a property
    whose value is the one in ``base`` (the profile's D-Bus settings as read,
    or ``None``) keeps ``base``'s value as it is; any other gets its type
    from :data:`SIGNATURES` (see :func:`variant`)."""
    out: DbusSettings = {}
    for setting, props in settings.items():
        had = (base or {}).get(setting, {})
        out[setting] = {prop: had[prop] if prop in had and unwrap(had[prop]) == value
                        else variant(setting, prop, value) for prop, value in props.items()}
    return out


def build_settings(old: Optional[DbusSettings], change: ProfileChange) -> DbusSettings:
    """:func:`..profiles.build_settings` for D-Bus: ``old`` is the profile's
    D-Bus settings as read (``None`` for a new profile); returns the settings
    to send (``Variant`` for what changed, ``old``'s own values for what stays)."""
    plain = None if old is None else unwrap(old)
    return to_dbus(profiles.build_settings(plain, change), old)


def blocked_on(old: DbusSettings, name: str) -> DbusSettings:
    """:func:`..profiles.blocked_on` for D-Bus: ``old`` as read, the result to send."""
    return to_dbus(profiles.blocked_on(unwrap(old), name), old)


def sendable(settings: DbusSettings) -> DbusSettings:
    """:func:`..profiles.sendable` of D-Bus settings as read (``GetSettings``):
    the values that stay keep their D-Bus types."""
    return profiles.sendable(settings)
