# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verification: does the live state (not only the saved profiles) match
the target? Pure functions over plain data, so they are unit-tested
without NetworkManager; :func:`mismatches` lists every difference."""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from . import kinds, model
from .model import TypedRoute
from .nmconst import DEVICE_ACTIVATED
from .redact import is_secret

LIVE_KEYS = ("mtu", "mac-address")  # reported from the device when the profile does not set them


def is_subset(want: Any, have: Any) -> bool:
    """Whether ``have`` has everything ``want`` states: mappings are
    compared on ``want``'s keys, recursively; lists and scalars must be
    equal (lists of mappings element by element, in order). A secret
    (:func:`~.redact.is_secret`: a MACsec ``mka-cak``) is compared only as
    set or not: NetworkManager never hands it back to a reader."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and (bool(v) == bool(have[k]) if is_secret(k) else is_subset(v, have[k]))
            for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(
            is_subset(w, h) for w, h in zip(want, have))
    return bool(want == have)


def _static_only(ip: Dict[str, Any]) -> bool:
    return bool(ip.get("enabled")) and not ip.get("dhcp") and not ip.get("autoconf")


#: one difference: ``{"what": path, "desired": value, "actual": value}``
Mismatch = Dict[str, Any]


def mismatches(target: Dict[str, Any], saved: Dict[str, Any], live: Dict[str, Dict[str, Any]],
               profiles: Iterable[str], names: Iterable[str], check_routes: bool,
               dns_servers: Optional[List[str]], want_dns: bool,
               gone_routes: Iterable[Dict[str, Any]] = (),
               desired: Optional[Dict[str, Any]] = None,
               typed: Optional[List[TypedRoute]] = None) -> List[Mismatch]:
    """Every difference between ``target`` and what the host has.

    ``saved``: the model re-read from NM's profiles; ``live``: from
    :func:`~.nm.reader.live_state`; ``profiles``: interfaces that have a
    profile now; ``names``: the interfaces to check;
    ``dns_servers``: name servers in the order the resolver uses them
    (``None`` when unknown); ``want_dns``: whether DNS is part of the change;
    ``gone_routes``: routes the change removes (they must be gone live);
    ``desired``: the document's interfaces by name — ``mtu`` and
    ``mac-address`` are checked only where it states them (else they are
    live values the kernel may change: a bond gives its ports its MAC);
    ``typed``: the kernel's ``route-type`` routes (:func:`~.nm.kernel.typed_routes`;
    ``None``: not read, those routes are not checked live).
    Each mismatch is ``{"what": path, "desired": value, "actual": value}``.
    """
    out: List[Mismatch] = []
    ctrl = kinds.controllers(target)
    have_profile = set(profiles)
    for name in sorted(names):
        if name in target["interfaces"]:
            out += _iface_mismatches(name, target["interfaces"][name], saved["interfaces"].get(name),
                                     live.get(name), name in have_profile,
                                     name in ctrl and not kinds.keeps_ip(target, name, ctrl), (desired or {}).get(name, {}))
    if check_routes:
        out += _route_mismatches(target, live, typed)
    have_rules = {model.rule_key(r) for r in saved.get("route-rules", [])}
    out += [_mismatch("route-rules[priority %s]" % rule.get("priority"), rule, "not in any profile")
            for rule in target.get("route-rules", []) if model.rule_key(rule) not in have_rules]
    out += [_mismatch("routes[%s] (live)" % route_label(route), "absent", "still in the kernel")
            for route in gone_routes if _still_live(route, live, typed)]
    if want_dns and dns_servers is not None:
        out += _dns_mismatches(target["dns-resolver"]["server"], dns_servers)
    return out


def route_label(route: Mapping[str, Any]) -> str:
    """A route in a mismatch's ``what``: ``198.19.0.0/24 via eth1``, ``198.51.100.0/24 blackhole``."""
    return "%s %s" % (route["destination"], route["route-type"]) if route.get("route-type") else \
        "%s via %s" % (route["destination"], route.get("next-hop-interface"))


def _still_live(route: Dict[str, Any], live: Dict[str, Dict[str, Any]], typed: Optional[List[TypedRoute]]) -> bool:
    if route.get("route-type"):
        return typed is not None and _typed_live(route, typed)
    dev = live.get(route.get("next-hop-interface", ""))
    return dev is not None and any(_route_live(route, r) for r in dev["routes"])


def _dns_mismatches(servers: List[str], resolver: List[str]) -> List[Mismatch]:
    """The resolver must use ``servers`` first, in order (scopes aside)."""
    want = [s.split("%")[0] for s in servers]
    have = [s.split("%")[0] for s in resolver]
    return [_mismatch("dns-resolver.config.server (live)", want, have)] if have[:len(want)] != want else []


def _mismatch(what: str, desired: Any, actual: Any) -> Mismatch:
    return {"what": what, "desired": desired, "actual": actual}


def _iface_mismatches(name: str, t_if: Dict[str, Any], s_if: Optional[Dict[str, Any]],
                      dev: Optional[Dict[str, Any]], has_profile: bool, is_port: bool,
                      stated: Dict[str, Any]) -> List[Mismatch]:
    """One interface's differences: its profile (``s_if``, the saved model;
    only the keys the target has, ``mtu`` and ``mac-address`` only where the
    document ``stated`` them), its device's state and its live addresses
    (``dev``, not for a port without IP: ``is_port``)."""
    where = "interfaces[%s]" % name
    if t_if.get("state") == "absent":
        kind = kinds.of(t_if)
        builtin = kind is not None and kind.builtin is not None  # NM shows lo's default profile
        return [_mismatch(where + ".state", "absent", "a profile for %s is still there" % name)] \
            if has_profile and not builtin else []
    if s_if is None:
        return [_mismatch(where, "present", "missing")]
    out = _state_mismatches(where, t_if, s_if, dev)
    out += [_mismatch("%s.%s" % (where, key), want, s_if.get(key)) for key, want in t_if.items()
            if key != "state" and (key not in LIVE_KEYS or key in stated) and not is_subset(want, s_if.get(key))]
    if t_if.get("state") == "up" and dev is not None and not is_port:
        out += [_mismatch("%s.%s (live)" % (where, what), want, have) for what, want, have in _kind_live(t_if, dev)]
        out += _address_mismatches(where, t_if, dev)
        out += _ip_option_mismatches(where, t_if, dev)
    return out


def _ip_option_mismatches(where: str, t_if: Dict[str, Any], dev: Dict[str, Any]) -> List[Mismatch]:
    """What the kernel shows of a dynamic family's IP options, once it has
    a lease or a SLAAC address (before that there is nothing to see, and
    nothing is reported): the prefix route of such an address in the
    ``auto-route-table-id`` table with the ``auto-route-metric`` metric
    (NetworkManager puts every route of the profile there, prefix routes
    included), and an address whose last 64 bits are the IPv6 ``token``.
    ``dev`` as :func:`~.nm.reader.live_state` gives it."""
    out = []
    for fam in (4, 6):
        ip = t_if.get("ipv%d" % fam, {})
        static = {"%s/%d" % (a["ip"], a["prefix-length"]) for a in ip.get("address", [])}
        leased = [ipaddress.ip_interface(a) for a in dev["addresses"] if model.family_of(a) == fam and a not in static]
        if model.is_dynamic(ip, fam) and leased:
            out += _auto_route_mismatch("%s.ipv%d.auto-route-table-id (live)" % (where, fam), ip, fam, leased, dev)
            out += _token_mismatch("%s.ipv6.token (live)" % where, ip, leased)
    return out


def _auto_route_mismatch(what: str, ip: Dict[str, Any], fam: int, leased: List[Any],
                         dev: Dict[str, Any]) -> List[Mismatch]:
    """The leased addresses' prefix routes must be in the named table with the named metric."""
    if "auto-route-table-id" not in ip and "auto-route-metric" not in ip:
        return []
    want = {"table": ip.get("auto-route-table-id", model.MAIN_TABLE), "metric": ip.get("auto-route-metric")}
    if fam == 6 and want["metric"] == 0:
        want["metric"] = model.IPV6_DEFAULT_METRIC
    nets = {str(a.network) for a in leased}
    routes = [r for r in dev["routes"] if r[0] in nets]
    if any(r[3] == want["table"] and want["metric"] in (None, r[2]) for r in routes):
        return []
    return [_mismatch(what, want, ["%s metric %d table %d" % (r[0], r[2], r[3]) for r in routes])]


def _token_mismatch(what: str, ip: Dict[str, Any], leased: List[Any]) -> List[Mismatch]:
    """One SLAAC address (a /64 not written statically) must end with the token, when there is one."""
    token = int(ipaddress.IPv6Address(ip.get("token", "::")))
    slaac = [a for a in leased if a.version == 6 and a.network.prefixlen == 64]
    if not token or not slaac or any(int(a.ip) & (2 ** 64 - 1) == token for a in slaac):
        return []
    return [_mismatch(what, ip["token"], sorted(str(a) for a in slaac))]


def _state_mismatches(where: str, t_if: Dict[str, Any], s_if: Dict[str, Any],
                      dev: Optional[Dict[str, Any]]) -> List[Mismatch]:
    """An interface to be up must have its device activated; one to be down no active profile."""
    if t_if.get("state") == "up" and (dev is None or dev["state"] != DEVICE_ACTIVATED):
        return [_mismatch(where + ".state", "up", "device state %s" % (dev or {}).get("state", "missing"))]
    if t_if.get("state") == "down" and s_if.get("state") == "up":
        return [_mismatch(where + ".state", "down", "up")]
    return []


def _address_mismatches(where: str, t_if: Dict[str, Any], dev: Dict[str, Any]) -> List[Mismatch]:
    out = []
    for fam in (4, 6):
        wrong = _live_addresses(t_if.get("ipv%d" % fam, {}), dev, fam, kinds.implicit_addresses(t_if))
        if wrong:
            out.append(_mismatch("%s.ipv%d.address (live)" % (where, fam), *wrong))
    return out


def _route_mismatches(target: Dict[str, Any], live: Dict[str, Dict[str, Any]],
                      typed: Optional[List[TypedRoute]]) -> List[Mismatch]:
    """The target's routes through (or held by) up interfaces that the kernel does not have."""
    out = []
    for route in target["routes"]:
        dev = live.get(route.get("next-hop-interface", ""))
        t_if = target["interfaces"].get(route.get("next-hop-interface", ""), {})
        if dev is None or t_if.get("state") != "up":
            continue
        seen = _route_seen(route, dev, typed)
        if seen is not None:
            out.append(_mismatch("routes[%s] (live)" % route_label(route), route, seen))
    return out


def _route_seen(route: Dict[str, Any], dev: Dict[str, Any], typed: Optional[List[TypedRoute]]) -> Optional[str]:
    """``None`` when the kernel has ``route`` (through ``dev``, or for a ``route-type`` route in
    ``typed``; unknown ``typed`` counts as had), else what it has instead (:func:`seen_routes`)."""
    if route.get("route-type"):
        return None if typed is None or _typed_live(route, typed) else seen_typed(route, typed)
    return None if any(_route_live(route, r) for r in dev["routes"]) else seen_routes(route, dev)


def _typed_live(want: Mapping[str, Any], typed: List[TypedRoute]) -> bool:
    """Whether the kernel's ``typed`` routes hold ``want`` (a canonical ``route-type`` route)."""
    return any(dest == want["destination"] and kind == want["route-type"]
               and table == want.get("table-id", model.MAIN_TABLE) and want.get("metric") in (None, metric)
               for dest, kind, metric, table in typed)


def seen_typed(want: Mapping[str, Any], typed: List[TypedRoute]) -> str:
    """What the kernel has instead of the ``route-type`` route ``want``, for a verification message."""
    same = ["%s %s metric %d table %d" % (kind, dest, metric, table) for dest, kind, metric, table in typed
            if dest == want["destination"]]
    return "not in the kernel; it has: %s" % "; ".join(same) if same else \
        "not in the kernel (no blackhole, unreachable or prohibit route to %s)" % want["destination"]


def _kind_live(t_if: Dict[str, Any], dev: Dict[str, Any]) -> List[Tuple[str, Any, Any]]:
    """The interface kind's own live checks (:meth:`.kinds.base.Kind.live_mismatches`)."""
    kind = kinds.of(t_if)
    return kind.live_mismatches(t_if, dev) if kind else []


def _live_addresses(ip: Dict[str, Any], dev: Dict[str, Any], fam: int,
                    implicit: Tuple[str, ...] = ()) -> Optional[Tuple[List[str], List[str]]]:
    """``(desired, live)`` sorted ``ip/prefix`` lists when the device's live
    addresses of family ``fam`` do not match the target section ``ip`` (a
    static-only or disabled family must match exactly; a dynamic one must
    hold at least the static addresses), else ``None``; the ``implicit``
    addresses of the kind (``"ip/prefix"``) are left out of the live ones."""
    # link-local addresses are left out on both sides: the live view drops them (the kernel makes its own)
    want = {"%s/%d" % (a["ip"], a["prefix-length"]) for a in ip.get("address", [])
            if not ipaddress.ip_address(a["ip"]).is_link_local} if ip.get("enabled") else set()
    have = {a for a in dev["addresses"] if model.family_of(a) == fam and a not in implicit}
    wrong = (have != want) if (_static_only(ip) or not ip.get("enabled")) else not want <= have
    return (sorted(want), sorted(have)) if wrong else None


def live_drift(desired: Dict[str, Any], target: Dict[str, Any], live: Dict[str, Dict[str, Any]],
               skip: Iterable[str] = (), typed: Optional[List[TypedRoute]] = None) -> Dict[str, List[Dict[str, Any]]]:
    """Where the kernel no longer has what the profiles say, for what the
    document names (an address deleted with ``ip addr del``, a route flushed
    by hand): ``{interface: [{"what", "desired", "actual"}]}``.

    ``desired``: the document's partial state (:func:`model.from_document`);
    ``target``: the plan's target; ``live``: :func:`~.nm.reader.live_state`;
    ``skip``: interfaces the plan already rewrites; ``typed``: the kernel's
    ``route-type`` routes (``None``: not read, not checked). Checked: the interfaces
    of the document that are up in the target, activated (a device still
    activating is not drift) and not ports, in the IP families the document
    states; and the document's routes (not ``state: absent``) through such
    interfaces. Nothing else: what the document does not name is never
    drift."""
    skip = set(skip)
    ctrl = kinds.controllers(target)
    out: Dict[str, List[Dict[str, Any]]] = {}

    def steady(name: str) -> bool:
        dev = live.get(name)
        return (name not in skip and (name not in ctrl or kinds.keeps_ip(target, name, ctrl)) and dev is not None
                and dev["state"] == DEVICE_ACTIVATED
                and target["interfaces"].get(name, {}).get("state") == "up")

    for name, d_if in desired.get("interfaces", {}).items():
        if not steady(name):
            continue
        for fam in (4, 6):
            key = "ipv%d" % fam
            t_if = target["interfaces"][name]
            if key not in d_if:
                continue
            wrong = _live_addresses(t_if.get(key, {}), live[name], fam, kinds.implicit_addresses(t_if))
            if wrong:
                out.setdefault(name, []).append({"what": "interfaces[%s].%s.address (live)" % (name, key),
                                                 "desired": wrong[0], "actual": wrong[1]})
    for entry in desired.get("routes", []):
        name = entry.get("next-hop-interface", "")
        if entry.get("state") == "absent" or not steady(name):
            continue
        route = model.canonical_route(entry)
        seen = _route_seen(route, live[name], typed)
        if seen is not None:
            out.setdefault(name, []).append({"what": "routes[%s] (live)" % route_label(route),
                                             "desired": route, "actual": seen})
    return out


#: what NetworkManager adds to a default route's metric while the connectivity check of that family fails
#: (NetworkManager's default-route metric penalty, src/core/devices/nm-device.c)
CONNECTIVITY_PENALTY = 20000


def live_metrics(route: Dict[str, Any]) -> Tuple[int, ...]:
    """The metrics a route with an explicit ``metric`` may have in the
    kernel: the one written, and for a default route also that plus
    NetworkManager's connectivity penalty (NM lowers the preference of a
    device whose connectivity check fails, and restores it when it passes)."""
    metric = int(route["metric"])
    return (metric, metric + CONNECTIVITY_PENALTY) if route["destination"].endswith("/0") else (metric,)


def _route_live(want: Dict[str, Any], have: Tuple[str, str, int, int]) -> bool:
    dest, nh, metric, table = have
    if dest != want["destination"] or table != want.get("table-id", model.MAIN_TABLE):
        return False
    # an ECMP hop (weight) is one nexthop of a multipath route, which NetworkManager exports with one next hop
    if not want.get("weight") and (want.get("next-hop-address") or "") != (str(ipaddress.ip_address(nh)) if nh else ""):
        return False
    return want.get("metric") is None or metric in live_metrics(want)


def seen_routes(want: Dict[str, Any], dev: Dict[str, Any]) -> str:
    """What the kernel has instead of ``want`` on its device, for a
    verification message: the routes to the same destination (any table)
    with next hop, metric and table, or that there is none."""
    same = ["%s via %s metric %d table %d" % (dest, nh or "on-link", metric, table)
            for dest, nh, metric, table in dev["routes"] if dest == want["destination"]]
    if not same:
        return "not in the kernel (no route to %s on this device)" % want["destination"]
    return "not in the kernel; the device has: %s" % "; ".join(same)


def resolv_conf_servers(text: str) -> List[str]:
    """``nameserver`` entries of a resolv.conf, in order."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            out.append(parts[1])
    return out


# ------------------------------------------------------------------ after a rollback

#: IFA_F_TENTATIVE and IFA_F_DADFAILED (linux/if_addr.h): an IPv6 address not yet usable
IFA_F_TENTATIVE, IFA_F_DADFAILED = 0x40, 0x08


def tentative_addresses(if_inet6: str) -> Dict[str, List[str]]:
    """IPv6 addresses still in duplicate address detection (RFC 4862 §5.4),
    from the text of ``/proc/net/if_inet6`` (the kernel's: 32 hex digits,
    ifindex, prefix length, scope, flags, name per line): ``{interface:
    ["address", ...]}``."""
    out: Dict[str, List[str]] = {}
    for line in if_inet6.splitlines():
        parts = line.split()
        if len(parts) < 6:
            continue
        if int(parts[4], 16) & IFA_F_TENTATIVE:
            out.setdefault(parts[5], []).append(str(ipaddress.IPv6Address(bytes.fromhex(parts[0]))))
    return out


def default_winners(live: Dict[str, Dict[str, Any]]) -> Dict[int, Optional[Tuple[str, str, int]]]:
    """Which default route the kernel uses per IP family (the lowest metric
    in the main table, as the kernel's route lookup picks it):
    ``{4: (interface, next hop, metric) or None, 6: ...}``; ``live`` as
    :func:`~.nm.reader.live_state` gives it."""
    best: Dict[int, Optional[Tuple[str, str, int]]] = {4: None, 6: None}
    for name in sorted(live):
        for dest, nh, metric, table in live[name]["routes"]:
            fam = model.family_of(dest)
            if table != model.MAIN_TABLE or dest not in ("0.0.0.0/0", "::/0"):
                continue
            now = best[fam]
            if now is None or metric < now[2]:
                best[fam] = (name, nh, metric)
    return best


def restore_differences(before: Dict[str, Any], now: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Every difference between two views of a host taken by
    :func:`~.nm.restore.host_view` (before an apply, and after its rollback):
    ``[{"what": path, "before": value, "now": value}]``, empty when the host
    is back. Compared: each profile's settings (without NM's activation
    timestamp) and storage (disk or memory), which profile is active on each
    device, each device's live addresses and routes (destination, next hop,
    metric, table), the rules, the resolver's servers and search list, and
    which default route wins per family."""
    out: List[Dict[str, Any]] = []

    def cmp(what: str, old: Any, new: Any) -> None:
        if old != new:
            out.append({"what": what, "before": old, "now": new})

    for uuid in sorted(set(before["profiles"]) | set(now["profiles"])):
        old, new = before["profiles"].get(uuid), now["profiles"].get(uuid)
        name = (old or new)["id"]
        if old is None or new is None:
            cmp("profile %s (%s)" % (name, uuid), "present" if old else "absent", "present" if new else "absent")
            continue
        cmp("profile %s (%s).storage" % (name, uuid), old["storage"], new["storage"])
        for section in sorted(set(old["settings"]) | set(new["settings"])):
            cmp("profile %s (%s).%s" % (name, uuid, section), old["settings"].get(section),
                new["settings"].get(section))
    for key in ("active", "addresses", "routes"):
        for dev in sorted(set(before[key]) | set(now[key])):
            cmp("interfaces[%s].%s (live)" % (dev, key), before[key].get(dev), now[key].get(dev))
    cmp("route-rules", before["rules"], now["rules"])
    cmp("dns-resolver (resolv.conf)", before["dns"], now["dns"])
    for fam in ("ipv4", "ipv6"):
        cmp("default route %s (winner)" % fam, before["default"][fam], now["default"][fam])
    return out
