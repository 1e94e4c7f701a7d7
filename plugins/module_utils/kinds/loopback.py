# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Loopback: the kernel's ``lo``, with extra addresses (``type: loopback``).

Routed (BGP, anycast) designs put service addresses on the loopback. The
kernel always gives ``lo`` ``127.0.0.1/8`` and ``::1/128``: they are the
kind's implicit addresses, accepted in a document (nmstate reports them)
and left out of the model on both sides. NetworkManager (1.42 and later)
configures ``lo`` through a profile of ``connection.type: loopback``
(NMDeviceType 32); without one it shows an external profile of the same
type that stands for the default. ``state: absent`` deletes our profile,
which puts ``lo`` back to that default (as nmstate does).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..rulebook import Doc, Rule, interfaces, ipath, register, report
from .base import Iface, Kind, Settings

TYPE = "loopback"
NAME = "lo"  # the kernel's one loopback device (net/core/dev.c, loopback_net_init)
IMPLICIT = ("127.0.0.1/8", "::1/128")

RULES: List[Rule] = []


@register(RULES, "LOOPBACK_NAME", "LOOPBACK_STATE", "LOOPBACK_IP", "LOOPBACK_LINK_KEY")
def _loopback(doc: Doc, problems: List[Problem]) -> None:
    """The loopback.

    LOOPBACK_NAME: type: loopback on an interface not named lo, or lo with another type
    LOOPBACK_STATE: the loopback with state: down
    LOOPBACK_IP: the loopback with IPv4 or IPv6 disabled, or with DHCP or autoconf
    LOOPBACK_LINK_KEY: mtu or mac-address on the loopback

    Source: the kernel has one loopback device, lo, always up, with
    127.0.0.1/8 and ::1/128 (drivers/net/loopback.c); local services need
    it, and it has no link to learn addresses from. nmstate refuses the same
    IP settings on it; its MTU and (all-zero) MAC are not managed here."""
    for i, iface in interfaces(doc):
        is_type, is_name = iface.get("type") == TYPE, iface["name"] == NAME
        if is_type != is_name and (is_type or iface.get("type") is not None):
            report(problems, "LOOPBACK_NAME", ipath(i, "type" if is_name else "name"),
                   "%s is %s" % (iface["name"], "the loopback, not %s" % iface.get("type") if is_name
                                 else "not the loopback (the kernel's only loopback device is lo)"),
                   "write name: lo with type: loopback; for another interface that holds addresses use type: dummy")
        if not is_type and not (is_name and iface.get("type") is None):
            continue
        if iface.get("state") == "down":
            report(problems, "LOOPBACK_STATE", ipath(i, "state"), "lo cannot be taken down (local services need it)",
                   "use state: up; state: absent puts lo back to its default addresses")
        _check_ip(i, iface, problems)
        for key in ("mtu", "mac-address"):
            if key in iface:
                report(problems, "LOOPBACK_LINK_KEY", ipath(i, key), "the loopback's %s is not managed by hostnet.nm"
                       % key, "remove %s from lo" % key)


def _check_ip(i: int, iface: Mapping[str, Any], problems: List[Problem]) -> None:
    """LOOPBACK_IP for ``interfaces[i]``."""
    for key in ("ipv4", "ipv6"):
        sec = iface.get(key) or {}
        if sec.get("enabled") is False:
            report(problems, "LOOPBACK_IP", ipath(i, key, "enabled"), "%s cannot be disabled on lo (the kernel keeps "
                   "%s)" % (key, IMPLICIT[key == "ipv6"]), "write %s.enabled: true, or leave %s out" % (key, key))
        for flag in ("dhcp", "autoconf"):
            if sec.get(flag) is True:
                report(problems, "LOOPBACK_IP", ipath(i, key, flag), "lo has no link for %s" % flag,
                       "write %s: false and list the addresses under %s.address" % (flag, key))


class Loopback(Kind):
    """nmstate ``type: loopback`` (only ``lo``): static addresses beside the
    implicit ones; the kernel creates it, NetworkManager never deletes it."""

    type = TYPE
    nm_type = "loopback"
    device_types = (32,)  # NM_DEVICE_TYPE_LOOPBACK (NetworkManager 1.42)
    builtin = NAME
    implicit_addresses = IMPLICIT
    holds_typed_routes = True
    rules = tuple(RULES)

    def canonical(self, iface: Dict[str, Any]) -> None:
        """Without the implicit addresses; ``mtu`` and ``mac-address`` are
        left out (the loopback's are fixed and not managed), and a family
        without its key reads as enabled without DHCP (it cannot be else)."""
        super().canonical(iface)
        iface.pop("mtu", None)
        iface.pop("mac-address", None)

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        """Static addresses with the implicit ones first: NetworkManager's
        ``manual`` method wants at least one address, and its own profile of
        ``lo`` lists them so."""
        out: Settings = {}
        for family, key in ((4, "ipv4"), (6, "ipv6")):
            extra = [(a["ip"], a["prefix-length"]) for a in (target.get(key) or {}).get("address", [])]
            implicit = IMPLICIT[family == 6].split("/")
            addresses: List[Tuple[str, int]] = [(implicit[0], int(implicit[1]))] + extra
            out[key] = {"method": "manual", "address-data": [{"address": a, "prefix": p} for a, p in addresses]}
        return out


KIND = Loopback()
