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

from .. import kinds, profiles
from ..ops import Settings
from ..profiles import ProfileChange
from .dbus import Variant, unwrap

#: D-Bus settings: ``{setting: {property: Variant or the library's variant}}``
DbusSettings = Dict[str, Dict[str, Any]]

#: D-Bus signatures of NetworkManager's property types (nm-settings-dbus(5)), as the kinds name them
NM_TYPE_SIGNATURES = {"boolean": "b", "uint16": "q", "uint32": "u", "int32": "i", "string": "s",
                      "dict of string to string": "a{ss}", "array of vardict": "aa{sv}"}

#: the fields of ``aa{sv}`` properties: property -> {field: signature}
ITEM_SIGNATURES = dict({
    "address-data": {"address": "s", "prefix": "u"},
    "route-data": {"dest": "s", "prefix": "u", "table": "u", "next-hop": "s", "metric": "u", "onlink": "b",
                   "src": "s", "mtu": "u", "cwnd": "u", "initcwnd": "u", "initrwnd": "u", "lock-cwnd": "b",
                   "weight": "u", "type": "s"},
    "routing-rules": {"family": "i", "table": "u", "priority": "u", "from": "s", "from-len": "y", "to": "s",
                      "to-len": "y", "iifname": "s", "fwmark": "u", "fwmask": "u", "action": "y",
                      "suppress-prefixlength": "i"},
}, **{prop: {field: NM_TYPE_SIGNATURES[t] for field, t in fields.items()}
      for k in kinds.KINDS for prop, fields in k.nm_records.items()})
_IP = {"method": "s", "address-data": "aa{sv}", "ignore-auto-dns": "b", "never-default": "b",
       "ignore-auto-routes": "b", "route-data": "aa{sv}", "gateway": "s", "dns-priority": "i", "dns-search": "as",
       "dns-options": "as", "routing-rules": "aa{sv}", "route-table": "u", "route-metric": "x",
       "dhcp-send-hostname": "b", "dhcp-hostname": "s"}
#: NetworkManager's D-Bus type of every property hostnet.nm writes: ``{setting: {property: signature}}``
SIGNATURES = dict({
    "connection": {"id": "s", "uuid": "s", "type": "s", "interface-name": "s", "autoconnect": "b", "master": "s",
                   "slave-type": "s"},
    "user": {"data": "a{ss}"},
    "match": {"interface-name": "as"},
    "802-3-ethernet": {"mtu": "u", "assigned-mac-address": "s"},
    "ipv4": dict(_IP, dns="au", **{"dhcp-client-id": "s", "dhcp-fqdn": "s"}),
    "ipv6": dict(_IP, dns="aay", **{"dhcp-duid": "s", "addr-gen-mode": "i", "token": "s"}),
}, **{setting: {prop: NM_TYPE_SIGNATURES[t] for prop, t in props.items()}
      for k in kinds.KINDS for setting, props in k.nm_properties.items()})


def variant(setting: str, prop: str, value: Any, before: Any = None) -> Variant:
    """``value`` of property ``setting.prop`` with its D-Bus type. The fields
    of an ``aa{sv}`` property's items take theirs from :data:`ITEM_SIGNATURES`,
    or else from the same field in ``before`` (the property's D-Bus value as
    read): a route attribute hostnet.nm does not model (``tos``, ``scope``,
    ``quickack``...) goes back as NetworkManager gave it. A field typed by
    neither is left out.

    Raises:
        KeyError: hostnet.nm does not write that property (a bug: every
            property the plain settings change is in :data:`SIGNATURES`).
    """
    signature = SIGNATURES[setting][prop]
    if signature == "aa{sv}":
        items = dict(field_signatures(before), **ITEM_SIGNATURES[prop])
        value = [{k: Variant(items[k], v) for k, v in item.items() if k in items} for item in value]
    return Variant(signature, value)


def field_signatures(value: Any) -> Dict[str, str]:
    """``{field: signature}`` of the items of an ``aa{sv}`` D-Bus value as read
    (a ``Variant`` or its list of ``{field: Variant}``; anything else: none)."""
    items = getattr(value, "value", value)
    if not isinstance(items, list):
        return {}
    return {k: v.signature for item in items if isinstance(item, dict) for k, v in item.items()
            if isinstance(getattr(v, "signature", None), str)}


def to_dbus(settings: Settings, base: Optional[DbusSettings] = None) -> DbusSettings:
    """Plain ``settings`` (:mod:`..profiles`) as D-Bus settings: a property
    whose value is the one in ``base`` (the profile's D-Bus settings as read,
    or ``None``) keeps ``base``'s value as it is; any other gets its type
    from :data:`SIGNATURES` (see :func:`variant`). A value that is a D-Bus
    value already (a variant) goes as it is."""
    out: DbusSettings = {}
    for setting, props in settings.items():
        had = (base or {}).get(setting, {})
        out[setting] = {prop: _typed(setting, prop, value, had) for prop, value in props.items()}
    return out


def _typed(setting: str, prop: str, value: Any, had: Dict[str, Any]) -> Any:
    if hasattr(value, "signature"):
        return value  # a D-Bus value already
    if prop in had and unwrap(had[prop]) == value:
        return had[prop]
    return variant(setting, prop, value, had.get(prop))


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
