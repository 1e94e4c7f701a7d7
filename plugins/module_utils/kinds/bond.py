# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bond: the kernel's bonding driver (``link-aggregation: {mode, options, port}``).

Holds the bond options' canonical forms: the kernel reports some options by
number or by name, some options belong to some modes only, and the two link
monitors exclude each other (Documentation/networking/bonding.rst).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Literal, Mapping, Optional, Tuple, TypedDict, cast

from ..errors import Problem
from ..nodes import Enum, ListOf, Obj, Scalar, Str, join
from ..rulebook import Doc, Rule, interfaces, ipath, register, report
from .base import Iface, KeyPath, Kind, Settings

#: a bond's ``mode`` (the kernel's names)
Mode = Literal["balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"]
#: the ``link-aggregation`` section: option values are text, as the kernel reports them
BondConfig = TypedDict("BondConfig", {"mode": Mode, "options": Dict[str, str], "port": List[str]}, total=False)

MODES: Tuple[Mode, ...] = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")

SCHEMA = Obj({
    "mode": Enum(*MODES),
    "options": Obj({}, free_keys=Scalar()),
    "port": ListOf(Str(what="an interface name")),
}, unsupported=["ports-config", "slaves", "ports"])

#: bond options the kernel reports by number or by name (Documentation/networking/bonding.rst):
#: index = the number, value = the name, which is the canonical form
OPTION_NAMES = {
    "lacp_rate": ["slow", "fast"],
    "ad_select": ["stable", "bandwidth", "count"],
    "xmit_hash_policy": ["layer2", "layer3+4", "layer2+3", "encap2+3", "encap3+4", "vlan+srcmac"],
    "arp_validate": ["none", "active", "backup", "all", "filter", "filter_active", "filter_backup"],
    "fail_over_mac": ["none", "active", "follow"],
    "primary_reselect": ["always", "better", "failure"],
    "arp_all_targets": ["any", "all"],
}

#: bond options limited to some modes: option -> modes that accept it
#: (kernel drivers/net/bonding/bond_options.c "unsuppmodes"; NetworkManager's nm-setting-bond.c)
OPTION_MODES = {
    "lacp_rate": ("802.3ad",), "ad_select": ("802.3ad",), "ad_actor_sys_prio": ("802.3ad",),
    "ad_actor_system": ("802.3ad",), "ad_user_port_key": ("802.3ad",), "lacp_active": ("802.3ad",),
    "primary": ("active-backup", "balance-tlb", "balance-alb"),
    "active_slave": ("active-backup", "balance-tlb", "balance-alb"),
    "packets_per_slave": ("balance-rr",),
    "tlb_dynamic_lb": ("balance-tlb", "balance-alb"),
    "arp_interval": ("balance-rr", "active-backup", "balance-xor", "broadcast"),
    "arp_validate": ("balance-rr", "active-backup", "balance-xor", "broadcast"),
}
#: the bond's two link monitors exclude each other (Documentation/networking/bonding.rst): the switch
#: that turns each on, and the options that belong to it
MONITORS = {
    "miimon": ("miimon", "updelay", "downdelay"),
    "arp_interval": ("arp_interval", "arp_ip_target", "arp_validate", "arp_all_targets", "arp_missed_max",
                     "ns_ip6_target"),
}


def bond_option(key: str, value: str) -> str:
    """A bond option value in canonical form: the kernel's name for numeric
    enumerations (``lacp_rate: 1`` -> ``fast``), else the text as is."""
    names = OPTION_NAMES.get(key)
    if names and value.isdigit() and int(value) < len(names):
        return names[int(value)]
    return value


def bond_option_off(key: str, value: str) -> bool:
    """Whether a bond option value is the kernel's "off"/default (then no mode conflicts with it)."""
    names = OPTION_NAMES.get(key)
    return value.strip() in ("", "0", "none") or bool(names and bond_option(key, value) == names[0])


def _monitors_on(options: Mapping[str, str], stated: Mapping[str, str]) -> List[str]:
    """The link monitors ``options`` turn on; when both are, the one the
    document states (it wins over the host's)."""
    on = [switch for switch in MONITORS if not bond_option_off(switch, options.get(switch, "0"))]
    if len(on) > 1:
        on = [switch for switch in on if switch in stated] or on
    return on


def bond_options(current: Mapping[str, str], desired: Optional[Mapping[str, Any]],
                 mode: Optional[str]) -> Dict[str, str]:
    """The bond options after a change: ``desired`` over ``current``, then
    without the host's options that the new choice excludes (options the
    document states are kept, validation judges them): the other link
    monitor's options when one monitor is on, a monitor's options when it
    is off, and options the (new) ``mode`` does not take. NetworkManager
    refuses a profile that keeps them (``arp_ip_target`` with ``miimon``)."""
    stated = {k: bond_option(k, str(v)) for k, v in (desired or {}).items()}
    out = dict(current or {}, **stated)
    on = _monitors_on(out, stated)
    excluded = {key for switch, keys in MONITORS.items() if switch not in on for key in keys}
    excluded.update(key for key in out if mode and mode not in OPTION_MODES.get(key, (mode,)))
    return {key: value for key, value in out.items() if key in stated or key not in excluded}


#: every bond option the kernel documents (Documentation/networking/bonding.rst) plus NetworkManager's balance-slb
OPTIONS = set(OPTION_MODES) | {
    "all_slaves_active", "arp_all_targets", "arp_ip_target", "arp_missed_max", "coupled_control", "downdelay",
    "fail_over_mac", "lp_interval", "miimon", "min_links", "ns_ip6_target", "num_grat_arp", "num_unsol_na",
    "peer_notif_delay", "primary_reselect", "resend_igmp", "updelay", "use_carrier", "xmit_hash_policy",
    "balance_slb",
}

RULES: List[Rule] = []


@register(RULES, "BOND_MODE_REQUIRED", "BOND_OPTION_MODE_MISMATCH", "BOND_MONITOR_CONFLICT", "BOND_OPTION_UNKNOWN",
          warnings=("BOND_OPTION_UNKNOWN",))
def _bonds(doc: Doc, problems: List[Problem]) -> None:
    """Bond modes and options.

    BOND_MODE_REQUIRED: ``link-aggregation`` with ``port`` but no ``mode``
    BOND_OPTION_MODE_MISMATCH: a bond option the bond's mode does not take
    BOND_MONITOR_CONFLICT: both ``miimon`` and ``arp_interval`` non-zero
    BOND_OPTION_UNKNOWN: a bond option name this tool does not know (passed on as is)

    Source: the kernel's bonding driver (Documentation/networking/bonding.rst:
    ARP and MII monitoring exclude each other; mode-specific options) and
    NetworkManager, which refuses those profiles. ``link-aggregation`` with
    ``port`` needs ``mode``: the controller cannot tell a new bond from an
    existing one, and a new bond without a mode would silently be
    balance-rr. Unknown option names are only a warning: vendor kernels add
    options."""
    for i, iface in interfaces(doc):
        section = iface.get("link-aggregation")
        if not isinstance(section, dict):
            continue
        path, mode = ipath(i, "link-aggregation"), section.get("mode")
        if mode is None and "port" in section:
            report(problems, "BOND_MODE_REQUIRED", join(path, "mode"), "bond %s lists ports but no mode"
                   % iface["name"], "add link-aggregation.mode (e.g. active-backup or 802.3ad)")
        _check_options(iface["name"], section.get("options") or {}, mode, join(path, "options"), problems)


def _check_options(name: str, options: Mapping[str, str], mode: Optional[str], path: str,
                   problems: List[Problem]) -> None:
    """The option rules of :func:`_bonds` for one bond's ``options`` (at ``path``)."""
    for key, value in options.items():
        where = join(path, key)
        if key not in OPTIONS:
            report(problems, "BOND_OPTION_UNKNOWN", where, "%s is not a bond option this tool knows; it is "
                   "passed to NetworkManager as is" % key, "check the spelling (bond options use '_')")
        elif mode and mode not in OPTION_MODES.get(key, (mode,)) and not bond_option_off(key, value):
            report(problems, "BOND_OPTION_MODE_MISMATCH", where, "%s=%s is not valid in mode %s (only in %s)"
                   % (key, value, mode, ", ".join(OPTION_MODES[key])), "remove %s or change the mode" % key)
    if not bond_option_off("miimon", str(options.get("miimon", "0"))) \
            and not bond_option_off("arp_interval", str(options.get("arp_interval", "0"))):
        report(problems, "BOND_MONITOR_CONFLICT", join(path, "arp_interval"), "bond %s sets both miimon=%s and "
               "arp_interval=%s" % (name, options["miimon"], options["arp_interval"]),
               "use one link monitor: set the other to 0 or remove it")


class Bond(Kind):
    """nmstate ``type: bond``: a controller whose ports are listed by name in
    ``link-aggregation.port``; NetworkManager creates and deletes the device,
    and its ports' profiles get ``port-type: bond``."""

    type = "bond"
    section = "link-aggregation"
    schema = SCHEMA
    nm_type = "bond"
    device_types = (10,)  # NM_DEVICE_TYPE_BOND
    software = True
    port_type = "bond"
    nm_properties = {"bond": {"options": "dict of string to string"}}

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        """``bond.options`` (a string map with the ``mode``) in canonical form (:func:`bond_option`)."""
        opts = {k: bond_option(k, str(v)) for k, v in settings.get("bond", {}).get("options", {}).items()}
        mode = opts.pop("mode", "balance-rr")
        return {"link-aggregation": {"mode": mode, "options": opts, "port": []}}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        """``bond.options`` with the ``mode``, whole, when the section changes."""
        agg = self.section_of(target)
        if agg == self.section_of(current) and not new:
            return {}
        opts = dict(agg.get("options") or {})
        opts["mode"] = agg.get("mode", "balance-rr")
        return {"bond": {"options": opts}}
    keyfile_dicts = {("bond", "options"): "bond"}
    rules = tuple(RULES)

    def config(self, iface: Iface) -> BondConfig:
        """The interface's ``link-aggregation`` section (``{}`` when it has none)."""
        return cast(BondConfig, self.section_of(iface))

    def port_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        return [(("link-aggregation", "port", k), p) for k, p in enumerate(self.config(iface).get("port", []))]

    def merge_section(self, current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
        """Keys replace, except ``options``: they merge one by one (an option
        only the host has is kept: a vendor kernel's extra), except those the
        new monitor or mode excludes (:func:`bond_options`)."""
        out = dict(current)
        for key, value in desired.items():
            if key != "options":
                out[key] = copy.deepcopy(value)
        if "options" in desired or "mode" in desired:
            out["options"] = bond_options(current.get("options") or {}, desired.get("options") or {}, out.get("mode"))
        return out


KIND = Bond()
