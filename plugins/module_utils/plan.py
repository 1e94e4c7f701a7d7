# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Current state + desired state -> the target state and the ordered
operations that reach it, each with its disruption class.

The plan is pure: it reads a :class:`~.snapshot.Snapshot` (plain data) and
writes nothing. Its operations (create, update, delete, deactivate,
activate, reapply, in the order they run) and their disruption classes are
:mod:`.ops`'s.
"""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from . import kinds, model, profiles, validation
from .hostname import HostName, HostNameChange
from .errors import InvalidStateError, Problem
from .ops import Op
from .profiles import Iface, PortOf, ProfileChange, ProfileRoutes, Rule
from .rulebook import ipath
from .snapshot import Profile, ProfileIndex, Snapshot, foreign_rules
from .verify import live_drift

State = Dict[str, Any]


#: the ownership findings of a plan, each a list of profiles (:meth:`.snapshot.Profile.as_dict`):
#: ``pruned`` ours, no longer named (deleted with ``prune``); ``prunable`` the same without ``prune``;
#: ``deleted`` removed for ``state: absent`` or as a second profile of ours; ``blocked`` not ours, able to
#: activate on an interface the document manages: kept, blocked on that device only;
#: ``foreign_kept`` not ours, on an interface the document does not name (never pruned)
PROFILE_FINDINGS = ("pruned", "prunable", "deleted", "blocked", "foreign_kept")


class Plan:
    """The result of :func:`make_plan`: ``ops`` (ordered), ``current``,
    ``desired`` (the document's partial state) and ``target`` states, ``changed`` (bool), ``diff`` (``{"before": doc,
    "after": doc}`` limited to what changes), ``warnings``, ``dns_owner`` (the interface whose profile gets the
    DNS configuration, ``""`` when it is cleared, ``None`` when no profile's DNS changes), ``profiles``
    (ownership findings, see :data:`PROFILE_FINDINGS`), ``hostname`` (the host name's change, written
    once the network change is committed; see :func:`plan_hostname`)."""

    def __init__(self) -> None:
        self.ops: List[Op] = []
        self.current: Dict[str, Any] = {}
        self.target: Dict[str, Any] = {}
        self.desired: Dict[str, Any] = {}
        self.diff: Dict[str, Any] = {"before": {}, "after": {}}
        self.warnings: List[str] = []
        self.dns_owner: Optional[str] = None  # interface that gets the DNS configuration, "" none, None unchanged
        self.profiles: Dict[str, List[Dict[str, Any]]] = {k: [] for k in PROFILE_FINDINGS}
        self.pruned: Set[str] = set()
        #: routing rules no profile holds (``ip rule``, another daemon) that ``state: absent`` entries remove
        self.kernel_rules_removed: List[Dict[str, Any]] = []
        self.hostname: Optional[HostNameChange] = None

    @property
    def changed(self) -> bool:
        """Whether applying the plan changes anything."""
        return bool(self.network_changed or self.hostname)

    @property
    def network_changed(self) -> bool:
        """Whether the plan changes the network (what a checkpoint covers), not only the host name."""
        return bool(self.ops or self.kernel_rules_removed)


def _normalize(iface: Iface, warnings: List[str]) -> None:
    """Drop keys that have no effect for the chosen method (NM ignores them,
    and comparing them would report a change on every run)."""
    for fam in ("ipv4", "ipv6"):
        ip = iface.get(fam)
        if not isinstance(ip, dict):
            continue
        if not ip.get("enabled", False):
            dropped = [k for k in ip if k != "enabled"]
            if [k for k in dropped if ip[k] not in ([], False)]:
                warnings.append("interfaces %s: %s disabled, ignoring %s" % (iface["name"], fam, ", ".join(dropped)))
            iface[fam] = {"enabled": False}
            continue
        _normalize_auto(iface["name"], fam, ip, warnings)
        model.canonical_ip_options(ip, 4 if fam == "ipv4" else 6)
        ip.setdefault("address", [])
        ip.setdefault("dhcp", False)
        if fam == "ipv6":
            ip.setdefault("autoconf", False)


AUTO_KEYS = ("auto-dns", "auto-gateway", "auto-routes")


def _normalize_auto(name: str, fam: str, ip: Dict[str, Any], warnings: List[str]) -> None:
    """``auto-*`` keys: on by default with DHCP or autoconf, dropped (with a
    warning when set to false) without them."""
    if ip.get("dhcp") or ip.get("autoconf"):
        for key in AUTO_KEYS:
            ip.setdefault(key, True)
        return
    for key in AUTO_KEYS:
        if ip.pop(key, None) is False:
            warnings.append("interfaces %s: %s.%s has no effect without dhcp/autoconf; ignored" % (name, fam, key))


def make_plan(snap: Snapshot, current: Dict[str, Any], desired: Dict[str, Any], prune: bool = False) -> Plan:
    """Plan the change from ``current`` (the model of ``snap``) to
    ``desired`` (a partial state from :func:`.kinds.from_document`).

    ``prune``: profiles of ours (see :func:`.profiles.origin_of`) on
    interfaces the document does not name are removed, as if the document
    said ``state: absent`` for them; profiles we did not make never are.

    Raises:
        InvalidStateError: what only the host can tell is wrong (an interface
            that does not exist and has no type, a port that does not exist,
            an unmanaged interface, DNS that no interface can hold, several
            profiles of others claiming one interface...).
    """
    plan = Plan()
    problems: List[Problem] = []
    desired = copy.deepcopy(desired)
    by_iface = ProfileIndex(snap.profiles)
    _prune(plan, snap, by_iface, current, desired, prune)
    _check_ambiguous(snap, desired, problems)
    _rule_priorities(desired.get("route-rules", []), current["route-rules"])
    if prune:
        _prune_entries(snap, current, desired)
    # a veth the document creates brings its peer: the peer's own entry names a device to be
    peers = {p for i in desired.get("interfaces", {}).values() if i.get("state") != "absent"
             for k in kinds.KINDS if k.section in i for p in k.peers(i)}
    for index, (name, iface) in enumerate(desired.get("interfaces", {}).items()):
        _resolve_type(name, "interfaces[%d]" % index, iface, snap, current, problems, name in peers)
    target = kinds.merge(current, desired)
    for name in desired.get("interfaces", {}):
        _normalize(target["interfaces"][name], plan.warnings)
    _settle_ports(desired, target, problems)
    _gone_with_old_pairs(current, desired, target, problems, plan.warnings)
    _check_kinds(snap, desired, target, problems)
    _check_kernel_ports(desired, target, problems)
    _bridge_mtus(desired, target, plan.warnings)
    dns_owner = _dns_assignment(snap, current, target, problems)
    _check_routes(desired, target, problems)
    _check_next_hops(desired, target, held_addresses(snap, desired, target), problems)
    _check_macs(desired, target, snap, problems)
    _check_ip_methods(desired, target, problems)
    rule_owner = _rule_assignment(snap, desired, target, problems)
    plan.kernel_rules_removed = _foreign_rules(snap, desired, plan.warnings)
    if problems:
        raise InvalidStateError(problems)
    plan.current, plan.target, plan.desired, plan.dns_owner = current, target, desired, dns_owner
    _build_ops(plan, snap, by_iface, dns_owner, rule_owner)
    _build_diff(plan, dns_owner is not None)
    return plan


def _settle_ports(desired: State, target: State, problems: List[Problem]) -> None:
    """Ports have no IP configuration, and a port whose state the document
    does not give follows its controller (up, or down: a port's activation
    brings its controller up); a port that does not exist is PORT_MISSING,
    one stated up under a controller that is down PORT_CONTROLLER_DOWN."""
    ctrl = kinds.controllers(target)
    for port, controller in ctrl.items():
        if port not in target["interfaces"]:
            problems.append(Problem("PORT_MISSING", _port_path(desired, target, controller, port),
                                    "port %s of %s does not exist on this host" % (port, controller),
                                    "add %s to interfaces with its type, or remove it from the port list" % port))
            continue
        iface = target["interfaces"][port]
        if not kinds.keeps_ip(target, port, ctrl):
            iface["ipv4"], iface["ipv6"] = {"enabled": False}, {"enabled": False}
        if "state" not in desired.get("interfaces", {}).get(port, {}) and iface.get("state") != "absent":
            # a port's activation brings its controller up (NetworkManager): a controller that is down keeps
            # its ports down
            iface["state"] = "down" if target["interfaces"][controller].get("state") == "down" else "up"
        elif iface.get("state") == "up" and target["interfaces"][controller].get("state") == "down":
            problems.append(Problem("PORT_CONTROLLER_DOWN", "interfaces[%d].state" % list(desired["interfaces"]).index(
                port), "%s is up, but its controller %s is down: activating a port brings its controller up" % (
                    port, controller), "make %s down too, or bring %s up" % (port, controller)))


def _gone_with_old_pairs(current: State, desired: State, target: State, problems: List[Problem],
                         warnings: List[str]) -> None:
    """A re-created device (:meth:`.kinds.base.Kind.recreates`) that
    leaves a peer (a veth's old peer) takes it along: the kernel deletes
    both ends of a pair. The old peer, when the document does not name it,
    is down in the target (its profile stays, with no device to activate
    on); named ``up`` as a kind NetworkManager does not create
    (``ethernet``), it is ``PEER_GOES_WITH_PAIR``."""
    names = list(desired.get("interfaces", {}))
    for name in names:
        c_if, t_if = current["interfaces"].get(name), target["interfaces"].get(name, {})
        kind = kinds.of(t_if)
        if c_if is None or kind is None or t_if.get("state") == "absent" or not kind.recreates(c_if, t_if):
            continue
        for old in set(kind.peers(c_if)) - set(kind.peers(t_if)):
            o_if = target["interfaces"].get(old)
            if o_if is None or o_if.get("state") != "up":
                continue
            if old not in names:
                o_if["state"] = "down"
                warnings.append("interfaces %s: the new peer replaces %s, which the kernel deletes with the old "
                                "pair: its profile stays, down (state: absent removes it)" % (name, old))
            elif not getattr(kinds.of(o_if), "software", False):
                problems.append(Problem(
                    "PEER_GOES_WITH_PAIR", "interfaces[%d].state" % names.index(old),
                    "%s is up, but %s gets a new peer: the kernel deletes the old pair, %s with it, and "
                    "NetworkManager cannot create an interface of type %s" % (old, name, old, o_if.get("type")),
                    "give %s state: down or absent, or keep %s as the peer of %s" % (old, old, name)))


def _check_kinds(snap: Snapshot, desired: Dict[str, Any], target: Dict[str, Any], problems: List[Problem]) -> None:
    """What the host decides about each interface the document keeps or
    creates: its kind needs a newer NetworkManager (``KIND_NEEDS_NEWER_NM``:
    the kind's ``nm_needs``), its section lacks a key it needs to be created
    (``MISSING_KEY``: :meth:`.kinds.base.Kind.missing_keys`), or it is stacked on a base that is neither on
    the host nor in the document, or that the document removes
    (``BASE_IFACE_MISSING``)."""
    for index, (name, iface) in enumerate(desired.get("interfaces", {}).items()):
        t_if = target["interfaces"].get(name, {})
        kind = kinds.of(t_if)
        if kind is None or iface.get("state") == "absent":
            continue
        need = kind.nm_needs(t_if)
        if need and snap.version and not snap.nm.at_least(*need[0]):  # no version: offline keyfiles
            (major, minor), keys, what = need
            problems.append(Problem("KIND_NEEDS_NEWER_NM", ipath(index, *keys), "%s %s, which NetworkManager "
                                    "supports since %d.%d; this host runs %s" % (
                                        name, what, major, minor, snap.version),
                                    "upgrade NetworkManager on this host to %d.%d or newer, or leave %s out of this "
                                    "host's document" % (major, minor, name)))
        for key in kind.missing_keys(t_if):
            problems.append(Problem("MISSING_KEY", ipath(index, kind.section, key),
                                    "%s has no %s.%s, and this host has no %s profile to take it from: a new %s "
                                    "needs it" % (name, kind.section, key, kind.type, kind.type),
                                    "add %s: {%s: ...} to the interface" % (kind.section, key)))
        for keys, base in kind.lower_refs(t_if):
            if target["interfaces"].get(base, {}).get("state") == "absent" \
                    or (base not in target["interfaces"] and base not in snap.devices):
                problems.append(Problem("BASE_IFACE_MISSING", ipath(index, *keys), "%s is stacked on %s, which is %s" % (
                    name, base, "removed by this document" if base in target["interfaces"]
                    else "not on this host nor in the document"),
                    "check the name (ip link), or add %s to interfaces with its type" % base))


def _check_kernel_ports(desired: State, target: State, problems: List[Problem]) -> None:
    """An interface the document makes a kernel port (an HSR's ``port1`` or
    ``port2``: :meth:`.kinds.base.Kind.kernel_port_refs`) that is, with the
    host's interfaces, also a port of a bridge, bond or VRF, or another
    interface's kernel port: ``PORT_MULTIPLE_CONTROLLERS`` (the kernel gives a
    device one master; validation finds those the document alone shows)."""
    wanted = [(index, name, keys, port) for index, name in enumerate(desired.get("interfaces", {}))
              for keys, port in _kernel_ports(target["interfaces"].get(name, {}))]
    if not wanted:
        return
    owners: Dict[str, Set[str]] = {port: {ctrl} for port, ctrl in kinds.controllers(target).items()}
    for name, iface in target["interfaces"].items():
        for _keys, port in _kernel_ports(iface):
            owners.setdefault(port, set()).add(name)
    for index, name, keys, port in wanted:
        others = sorted(owners.get(port, set()) - {name})
        if others:
            problems.append(Problem("PORT_MULTIPLE_CONTROLLERS", ipath(index, *keys), "%s is already a port of %s on "
                                    "this host" % (port, " and ".join(others)),
                                    "take %s out of %s first, or choose another port" % (port, others[0])))


def _kernel_ports(iface: Iface) -> List[Tuple[Tuple[Any, ...], str]]:
    """The kernel ports of an interface that is not ``state: absent`` (:meth:`.kinds.base.Kind.kernel_port_refs`)."""
    kind = kinds.of(iface)
    return kind.kernel_port_refs(iface) if kind is not None and iface.get("state") != "absent" else []


def _bridge_mtus(desired: Dict[str, Any], target: Dict[str, Any], warnings: List[str]) -> None:
    """Say which MTU a bridge will have when the document does not state it
    but touches the bridge or its ports: the kernel gives a bridge whose MTU
    was never set the smallest MTU of its ports, and a bridge's MTU does not
    propagate down to its ports."""
    named = desired.get("interfaces", {})
    for name, iface in sorted(target["interfaces"].items()):
        kind = kinds.of(iface)
        ports = [p for p in kinds.ports_of(iface) if p in target["interfaces"]]
        if not (kind and kind.mtu_from_ports) or iface.get("state") == "absent" or "mtu" in named.get(name, {}) \
                or not ports or not ({name} | set(ports)) & set(named):
            continue
        mtus = {p: target["interfaces"][p].get("mtu") for p in ports}
        if None in mtus.values() or (len(set(mtus.values())) == 1 and iface.get("mtu") in mtus.values()):
            continue
        warnings.append("interfaces %s: mtu not stated; the kernel gives the bridge the smallest MTU of its ports, "
                        "%d (%s): state mtu on %s and its ports to choose it" % (
                            name, min(mtus.values()), ", ".join("%s %d" % kv for kv in sorted(mtus.items())), name))


def _named(current: State, desired: State) -> Set[str]:
    """Interfaces the document names or needs: its interfaces, their ports
    (the document's port list, else the current one), VLAN bases and the
    interfaces of its routes."""
    names = set(desired.get("interfaces", {}))
    for name, iface in desired.get("interfaces", {}).items():
        have = current["interfaces"].get(name, {})
        stated = dict(iface, type=iface.get("type", have.get("type")))
        names.update(kinds.ports_of(stated) + kinds.ports_of(have))  # ports it keeps and ports it releases
        names.update(kinds.lowers_of(stated) + kinds.lowers_of(have))
    names.update(r.get("next-hop-interface", "") for r in desired.get("routes", []))
    return names


def _prune(plan: Plan, snap: Snapshot, index: ProfileIndex, current: State, desired: State, prune: bool) -> None:
    """Find the profiles of ours on interfaces the document does not name;
    with ``prune``, make those interfaces ``state: absent`` in ``desired`` (in
    place). Profiles of others there are only listed."""
    named = _named(current, desired)
    for prof in snap.profiles:
        name = prof.interface
        if not name or name in named or not snap.managed(name):
            continue
        if prof.owner != "ours":
            plan.profiles["foreign_kept"].append(prof.as_dict())
        else:
            _prune_ours(plan, index, prof, desired, prune)


def _prune_ours(plan: Plan, index: ProfileIndex, prof: Profile, desired: State, prune: bool) -> None:
    """A profile of ours on an interface the document does not name: pruned
    (its interface made absent in ``desired``) unless profiles of others are
    bound there too (then only listed, with a warning)."""
    name = prof.interface
    shared = [p for p in index.on(name) if p.owner != "ours" and p.bound and p.iface == name]
    plan.profiles["pruned" if prune and not shared else "prunable"].append(prof.as_dict())
    if prune and shared:
        plan.warnings.append("prune: %s keeps profile %r (uuid %s): profiles not made by hostnet.nm are "
                             "bound to %s too (%s); remove it with state: absent" % (
                                 name, prof.id, prof.uuid, name, ", ".join(repr(p.id) for p in shared)))
    elif prune:
        desired.setdefault("interfaces", {})[name] = {"name": name, "state": "absent"}
        plan.pruned.add(name)


def _check_ambiguous(snap: Snapshot, desired: Dict[str, Any], problems: List[Problem]) -> None:
    """PROFILE_AMBIGUOUS: an interface of the document has no active profile
    and no profile of ours, but several profiles of others bound to it by
    name: which one to take over cannot be told (ids may be equal, and are
    never used to find a profile)."""
    for index, (name, iface) in enumerate(desired.get("interfaces", {}).items()):
        prof = snap.chosen.get(name)
        if iface.get("state") == "absent" or prof is None or prof.active or prof.owner == "ours":
            continue
        claims = [prof] + [p for p in snap.extra.get(name, []) if not p.active]
        if len(claims) > 1:
            listed = ", ".join("%r (uuid %s)" % (p.id, p.uuid) for p in claims)
            problems.append(Problem(
                "PROFILE_AMBIGUOUS", "interfaces[%d]" % index, "%d profiles not made by hostnet.nm are bound to %s "
                "and none is active: %s" % (len(claims), name, listed),
                "activate the one to keep (nmcli connection up uuid <uuid>) or delete the others by uuid"))


def _port_path(desired: Dict[str, Any], target: Dict[str, Any], controller: str, port: str) -> str:
    """The document path of ``port`` in ``controller``'s port list (its
    position among the document's interfaces, as validation reports it)."""
    names = list(desired.get("interfaces", {}))
    if controller not in names:
        return "interfaces"
    iface = target["interfaces"][controller]
    kind = kinds.of(iface)
    keys = next((keys for keys, name in (kind.port_refs(iface) if kind else []) if name == port), ())
    return "interfaces[%d]" % names.index(controller) + "".join(
        "[%d]" % k if isinstance(k, int) else ".%s" % k for k in keys)


def _resolve_type(name: str, path: str, iface: Iface, snap: Snapshot, current: State,
                  problems: List[Problem], peer: bool = False) -> None:
    """Give an interface of the document (at ``path``) its type in place:
    the host's when the document gives none; an existing veth is configured
    as the ethernet it is to NetworkManager. Unmanaged interfaces, new ones
    without a type and ethernets that do not exist (nor are the ``peer`` of
    a veth the document creates) are problems."""
    if not snap.managed(name):
        problems.append(Problem("INTERFACE_UNMANAGED", path, "%s is not managed by NetworkManager on this host"
                                % name, "hostnet.nm leaves unmanaged interfaces alone: remove it from the document"))
        return
    have = current["interfaces"].get(name)
    exists = name in snap.devices or bool(have)
    if exists:
        _as_reported(iface, have)
    kind = kinds.find(iface.get("type"))
    if "type" in iface:
        if kind is not None and not kind.software and not (exists or peer) and iface.get("state") != "absent":
            problems.append(_not_found(name, path, iface["type"]))
    elif have:
        iface["type"] = have["type"]
    elif iface.get("state") != "absent":
        problems.append(Problem("INTERFACE_TYPE_REQUIRED", path, "%s does not exist on this host and has no type"
                                % name, "add type (%s)%s"
                                % (", ".join(kinds.TYPES), " - it looks like a VLAN: type: vlan with vlan.base-iface "
                                   "and vlan.id" if "." in name else "")))


def _as_reported(iface: Iface, have: Optional[Iface]) -> None:
    """An existing device of a kind NetworkManager reports as another (a
    veth: ethernet), named without the kind's section, is configured as
    what the host has (in place)."""
    kind = kinds.find(iface.get("type"))
    if kind is not None and kind.reported_as and kind.section not in iface:
        iface["type"] = (have or {}).get("type", kind.reported_as)


def _not_found(name: str, path: str, type_name: str) -> Problem:
    return Problem("INTERFACE_NOT_FOUND", path, "there is no %s device %s on this host" % (type_name, name),
                   "check the name (ip link)%s" % "".join(k.name_hint(name) for k in kinds.KINDS))


def _check_routes(desired: Dict[str, Any], target: Dict[str, Any], problems: List[Problem]) -> None:
    """Routes the document adds must go through an interface the host has
    (or the document creates) that is not a port."""
    ctrl = kinds.controllers(target)
    for index, route in enumerate(desired.get("routes", [])):
        name = route.get("next-hop-interface")
        if route.get("state") == "absent" or not name:
            continue  # validation requires the interface; absent entries are patterns
        typed = route.get("route-type")
        path = "routes.config[%d].%s" % (index, "route-type" if typed else "next-hop-interface")
        iface = target["interfaces"].get(name)
        if iface is None or iface.get("state") == "absent":
            problems.append(Problem("ROUTE_INTERFACE_MISSING", path, "route to %s uses %s, which is not on this "
                                    "host nor in the document" % (route.get("destination"), name),
                                    "NetworkManager keeps %s routes in the profile of %s, which it does not manage "
                                    "here: leave the route out of this host's document" % (typed, name) if typed
                                    else "add the interface or fix next-hop-interface"))
        elif name in ctrl and not kinds.keeps_ip(target, name, ctrl):
            problems.append(Problem("ROUTE_VIA_PORT", path, "route to %s uses %s, a port of %s" % (
                route.get("destination"), name, ctrl[name]), "route through %s instead" % ctrl[name]))


def held_addresses(snap: Snapshot, desired: Dict[str, Any], target: Dict[str, Any]) -> Dict[Any, str]:
    """``{ipaddress: interface}``: the addresses the host will hold after the
    change: the target's static addresses, and the live ones (DHCP,
    autoconf, addresses of unmanaged devices) of interfaces the document
    does not name."""
    out: Dict[Any, str] = {}
    for name, dev in snap.devices.items():
        if name in desired.get("interfaces", {}):
            continue
        for path in (dev.get("ip4config", "/"), dev.get("ip6config", "/")):
            for a in snap.ip_configs.get(path, {}).get("AddressData", []):
                out.setdefault(ipaddress.ip_address(a["address"]), name)
    for name, iface in target["interfaces"].items():
        if iface.get("state") == "absent":
            continue
        for fam in (4, 6):
            sec = iface.get("ipv%d" % fam) or {}
            for a in sec.get("address", []) if sec.get("enabled") else []:
                out[ipaddress.ip_address(a["ip"])] = name
    return out


def _check_next_hops(desired: Dict[str, Any], target: Dict[str, Any], held: Dict[Any, str],
                     problems: List[Problem]) -> None:
    """A route the document adds must not go through an address of this host
    (the kernel refuses a local gateway), also one the document does not
    name (a DHCP lease, another interface's address)."""
    for index, route in enumerate(desired.get("routes", [])):
        nh = route.get("next-hop-address")
        if route.get("state") == "absent" or not nh or ipaddress.ip_address(nh).is_unspecified:
            continue
        owner = held.get(ipaddress.ip_address(nh))
        if owner is not None:
            problems.append(Problem("ROUTE_NEXT_HOP_IS_LOCAL", "routes.config[%d].next-hop-address" % index,
                                    "next hop %s is an address this host holds (on %s)" % (nh, owner),
                                    "use the address of the router"))


def _macs_after(target: State, snap: Snapshot) -> Dict[str, str]:
    """``{interface: MAC}`` the host's devices will have after the change."""
    macs = {n: str(d["mac"]) for n, d in snap.devices.items() if d.get("mac") and d.get("real", True)}
    for name, iface in target["interfaces"].items():
        if iface.get("state") == "absent":
            macs.pop(name, None)
        elif iface.get("mac-address"):
            macs[name] = iface["mac-address"]
    return macs


def _check_macs(desired: State, target: State, snap: Snapshot, problems: List[Problem]) -> None:
    """A MAC address the document gives an interface must not be another
    device's (two NICs with one MAC: switches flap between their ports),
    unless the two are stacked (a bond or bridge and its ports, a VLAN and
    its base share one by design). A MAC the interface has already is not
    judged (a ``network_state_info`` output fed back restates it)."""
    macs = _macs_after(target, snap)
    stack = _stacks(target)
    for index, (name, iface) in enumerate(desired.get("interfaces", {}).items()):
        mac = iface.get("mac-address")
        dev = snap.devices.get(name)
        if not mac or iface.get("state") == "absent" or (dev is not None and dev.get("mac") == mac):
            continue  # (a MAC the interface has already is restated, not applied)
        others = sorted(n for n, m in macs.items() if m == mac and n != name and stack(n) != stack(name))
        if others:
            problems.append(Problem("MAC_DUPLICATE", "interfaces[%d].mac-address" % index,
                                    "%s is the MAC address of %s on this host" % (mac, ", ".join(others)),
                                    "give each interface its own MAC address"))


def _stacks(state: State) -> Callable[[str], str]:
    """A function giving each interface name the representative of its
    stack: ports join their controller, a VLAN its base (union-find: an
    interface may have both, a VLAN that is a bridge port)."""
    parent: Dict[str, str] = {}

    def find(name: str) -> str:
        while parent.get(name, name) != name:
            name = parent[name]
        return name

    links = list(kinds.controllers(state).items())
    links += [(n, lower) for n, i in state["interfaces"].items() for lower in kinds.lowers_of(i)]
    for a, b in links:
        parent[find(a)] = find(b)
    return find


def _check_token(index: int, name: str, stated: Dict[str, Any], ipv6: Dict[str, Any],
                 problems: List[Problem]) -> None:
    """A token needs ``addr-gen-mode: eui64`` (NetworkManager refuses it with
    any other mode): a document that gives a token without a mode gets
    eui64 (as nmstate writes it); one that names another mode while the
    profile keeps its token is IPV6_TOKEN_NEEDS_EUI64."""
    if "token" not in ipv6 or ipv6.get("addr-gen-mode") == "eui64":
        return
    if "addr-gen-mode" in stated:
        problems.append(Problem("IPV6_TOKEN_NEEDS_EUI64", "interfaces[%d].ipv6.addr-gen-mode" % index,
                                "%s keeps its IPv6 token %s, which NetworkManager uses only with addr-gen-mode eui64"
                                % (name, ipv6["token"]), validation.TOKEN_HINT))
    else:
        ipv6["addr-gen-mode"] = "eui64"


def _check_ip_methods(desired: Dict[str, Any], target: Dict[str, Any], problems: List[Problem]) -> None:
    """IP methods NetworkManager cannot configure, once the document is
    merged with the host (a document that gives only some of the keys):
    SLAAC without DHCPv6, static IPv4 without an address (see
    :func:`.validation._ip_methods`), a token without eui64 (:func:`_check_token`). Ports are left out (no IP)."""
    ctrl = kinds.controllers(target)
    for index, name in enumerate(desired.get("interfaces", {})):
        iface = target["interfaces"].get(name, {})
        if (name in ctrl and not kinds.keeps_ip(target, name, ctrl)) or iface.get("state") == "absent":
            continue
        if validation.autoconf_without_dhcp(iface.get("ipv6") or {}):
            problems.append(Problem("IPV6_AUTOCONF_WITHOUT_DHCP", "interfaces[%d].ipv6" % index,
                                    "%s would use SLAAC without DHCPv6, which NetworkManager cannot configure"
                                    % name, validation.AUTOCONF_HINT))
        _check_token(index, name, desired["interfaces"][name].get("ipv6") or {}, iface.get("ipv6") or {}, problems)
        if validation.static_without_address(iface.get("ipv4") or {}) and not kinds.implicit_addresses(iface):
            problems.append(Problem("IPV4_STATIC_WITHOUT_ADDRESS", "interfaces[%d].ipv4" % index,
                                    "%s would have IPv4 enabled without DHCP and without an address, which "
                                    "NetworkManager refuses" % name, validation.STATIC_HINT))


FIRST_RULE_PRIORITY = 30000  # where rules without a priority start (below the kernel's 32766 main rule)


def _rule_priorities(desired: List[Dict[str, Any]], current: List[Dict[str, Any]]) -> None:
    """Give desired rules without ``priority`` one, in place: the priority of
    an equal rule the host has, else the next free one from 30000 (NM needs a
    priority; a fixed choice keeps re-runs idempotent)."""
    used = {r.get("priority") for r in current} | {r.get("priority") for r in desired}
    for rule in desired:
        if rule.get("state") == "absent" or "priority" in rule:
            continue
        same = model.canonical_rule(rule)
        match = next((r for r in current if {k: v for k, v in r.items() if k != "priority"} == same), None)
        if match is not None:
            rule["priority"] = match["priority"]
        else:
            prio = FIRST_RULE_PRIORITY
            while prio in used:
                prio += 1
            rule["priority"] = prio
            used.add(prio)


RuleKey = Tuple[Any, ...]
DEFAULT_DESTINATIONS = ("0.0.0.0/0", "::/0")


def _rule_assignment(snap: Snapshot, desired: State, target: State, problems: List[Problem]) -> Dict[RuleKey, str]:
    """``{rule key: interface}``: which profile holds each target rule. NM keeps
    rules in a profile and installs them while it is active, so a rule stays
    where it is, and a new one goes to an up interface with routes in its
    table (any up interface of its family for the main table)."""
    ctrl = kinds.controllers(target)
    up = [n for n, i in sorted(target["interfaces"].items()) if i.get("state") == "up" and n not in ctrl]
    owner: Dict[RuleKey, str] = {}
    kernel_only = {model.rule_key(r) for r in foreign_rules(snap)}
    for index, entry in enumerate(desired.get("route-rules", [])):
        rule = model.canonical_rule(entry)
        key = model.rule_key(rule)
        # a rule the kernel has already: a profile holding it would make NM add a second one
        if entry.get("state") == "absent" or key in kernel_only:
            continue
        holder = _rule_holder(snap, target, up, rule)
        if holder:
            owner[key] = holder
        else:
            problems.append(_no_rule_holder(index, rule))
    for rule in target["route-rules"]:
        key = model.rule_key(rule)
        if key not in owner and key in snap.rule_holders:
            owner[key] = snap.rule_holders[key]
    return owner


def _rule_holder(snap: Snapshot, target: State, up: List[str], rule: Rule) -> str:
    """The interface whose profile is to hold ``rule`` (``""``: none can):
    the one holding it now if it still can, else the first of ``up`` with
    the rule's family enabled and routes in its table, its own or its
    lease's (``auto-route-table-id``; for the main table: with a default
    route, else any)."""
    fam = _rule_family(rule)
    enabled = [n for n in up if (target["interfaces"][n].get("ipv%d" % fam) or {}).get("enabled")]
    held = snap.rule_holders.get(model.rule_key(rule))
    if held in enabled:
        return str(held)
    table = rule["route-table"]
    tabled = _table_fillers(target, enabled, table, fam)
    defaults = _route_holders(target, lambda r: r["destination"] in DEFAULT_DESTINATIONS)
    choice = [n for n in enabled if n in tabled] or (
        ([n for n in enabled if n in defaults] or enabled) if table == model.MAIN_TABLE else [])
    return choice[0] if choice else ""


def _table_fillers(target: State, names: List[str], table: int, fam: int) -> Set[str]:
    """The interfaces with routes of family ``fam`` in ``table``: static ones,
    or those of a lease (``auto-route-table-id``) among ``names``."""
    static = _route_holders(target, lambda r: r.get("table-id") == table and model.family_of(r["destination"]) == fam)
    return static | {n for n in names if model.auto_table(target["interfaces"][n]["ipv%d" % fam], fam) == table}


def _route_holders(state: State, which: Callable[[Dict[str, Any]], bool]) -> Set[str]:
    """The interfaces of the state's routes that ``which`` selects."""
    return {r.get("next-hop-interface", "") for r in state["routes"] if which(r)}


def _rule_family(rule: Rule) -> int:
    return int(str(rule.get("family", "ipv4"))[-1])


def _no_rule_holder(index: int, rule: Rule) -> Problem:
    fam, table = _rule_family(rule), rule["route-table"]
    return Problem("ROUTE_RULE_NO_HOLDER", "route-rules.config[%d]" % index,
                   "no interface that is up with IPv%d enabled has routes in table %d, so "
                   "NetworkManager has no profile to keep this rule in" % (fam, table),
                   "add a route with table-id %d through an interface that is up, or use the "
                   "main table" % table)


def _foreign_rules(snap: Snapshot, desired: Dict[str, Any], warnings: List[str]) -> List[Dict[str, Any]]:
    """Rules no profile holds (added with ``ip rule`` or by another daemon).
    One the document adds is in the kernel already: nothing is added
    (NetworkManager would add a second, equal rule); a warning says that no
    profile keeps it. Those an absent entry matches are returned: the
    transaction removes them from the kernel itself (NetworkManager cannot),
    and puts them back if it rolls back."""
    foreign = foreign_rules(snap)
    gone: List[Dict[str, Any]] = []
    for index, entry in enumerate(desired.get("route-rules", [])):
        if entry.get("state") == "absent":
            gone += [r for r in foreign if model.route_matches(entry, r) and r not in gone]
            continue
        if any(model.rule_key(r) == model.rule_key(model.canonical_rule(entry)) for r in foreign):
            warnings.append("route-rules.config[%d] is in the kernel already, added outside NetworkManager: left as "
                            "it is, and no profile keeps it across a reboot" % index)
    return gone


def _prune_entries(snap: Snapshot, current: Dict[str, Any], desired: Dict[str, Any]) -> None:
    """``prune``: the routes and routing rules kept in profiles of ours that
    the document does not list go, as if it listed each with ``state:
    absent`` (added to ``desired`` in place); those of profiles of others,
    and rules no profile holds, stay."""
    def ours(name: Optional[str]) -> bool:
        prof = snap.chosen.get(name or "")
        return prof is not None and prof.owner == "ours"

    for section, key, holder in (("routes", model.route_key, lambda r: r.get("next-hop-interface")),
                                 ("route-rules", model.rule_key, lambda r: snap.rule_holders.get(model.rule_key(r)))):
        canonical = model.canonical_route if section == "routes" else model.canonical_rule
        listed = {key(canonical(e)) for e in desired.get(section, []) if e.get("state") != "absent"}
        dropped = [dict(e, state="absent") for e in current[section] if key(e) not in listed and ours(holder(e))]
        if dropped:
            desired[section] = list(desired.get(section, [])) + dropped


def _holder_ok(iface: Iface, families: Set[int]) -> bool:
    return iface.get("state") == "up" and all(iface.get("ipv%d" % f, {}).get("enabled") for f in families)


def _any_family(iface: Iface) -> bool:
    return any(iface.get("ipv%d" % f, {}).get("enabled") for f in (4, 6))


def _holds_any(dns: Dict[str, Any]) -> bool:
    return bool(dns["server"] or dns["search"] or dns["options"])


def _dns_assignment(snap: Snapshot, current: State, target: State, problems: List[Problem]) -> Optional[str]:
    """Choose the interface whose profile holds the static DNS, or ``None``
    when DNS does not change (``""``: it is cleared). NM writes a profile's
    DNS only while it is active, so the holder must be up with each server's
    family enabled."""
    dns = target["dns-resolver"]
    unchanged = dns == current["dns-resolver"]
    if not _holds_any(dns):
        return None if unchanged else ""
    lost = _lost_holders(snap, target) if unchanged else []
    if unchanged and not lost:
        return None
    scopes = sorted({s.split("%")[1] for s in dns["server"] if "%" in s})
    if len(scopes) > 1:
        problems.append(Problem("DNS_SCOPE_CONFLICT", "dns-resolver.config.server", "link-local name servers are "
                                "scoped to several interfaces (%s); NetworkManager keeps them on one" %
                                ", ".join(scopes), "use one scope interface, or global addresses"))
        return None
    families: Set[int] = {model.family_of(s) for s in dns["server"]}
    good = _dns_candidates(target, families, scopes[0] if scopes else "")
    if not good:
        problems.append(_no_dns_holder(dns, families, scopes, lost))
        return None
    holders = set(dns_holders_of(snap))
    gateways = {r["next-hop-interface"] for r in target["routes"] if r["destination"] in DEFAULT_DESTINATIONS}
    good.sort(key=lambda n: (n not in holders, n not in gateways,
                             target["interfaces"][n].get("ipv4", {}).get("dhcp", True), n))
    return good[0]


def _dns_candidates(target: State, families: Set[int], scope: str) -> List[str]:
    """Interfaces that can hold DNS with servers of ``families`` (and the
    link-local ``scope`` interface, if any): up, not a port, each family enabled."""
    ctrl = kinds.controllers(target)
    return [n for n, i in sorted(target["interfaces"].items())
            if n not in ctrl and (not scope or n == scope) and _any_family(i) and _holder_ok(i, families)
            and not _builtin(i)]


def _builtin(iface: Iface) -> bool:
    """Whether ``iface`` is the interface the kernel always has (``lo``): it
    never gets the DNS configuration (that stays on a real link, as before
    the loopback kind existed, or is refused with DNS_NO_HOLDER)."""
    kind = kinds.of(iface)
    return kind is not None and kind.builtin is not None


def _no_dns_holder(dns: Dict[str, Any], families: Set[int], scopes: List[str], lost: List[str]) -> Problem:
    why = ("; the document takes %s away from the DNS configuration it holds (%s)" % (
        " and ".join(lost), ", ".join(dns["server"] + dns["search"]))) if lost else ""
    return Problem("DNS_NO_HOLDER", "dns-resolver.config", "no interface that is up with IPv%s "
                   "enabled can hold the DNS configuration%s%s" % (
                       "/".join(str(f) for f in sorted(families)) or "4 or IPv6",
                       " (scope %s)" % scopes[0] if scopes else "", why),
                   "NetworkManager stores DNS in an active profile: bring up an interface with "
                   "an address of that family in the same document%s" % (
                       ", keep %s, or clear the DNS with dns-resolver: {config: {}}"
                       % " and ".join(lost) if lost else ""))


def _lost_holders(snap: Snapshot, target: State) -> List[str]:
    """Interfaces whose profile holds static DNS now but cannot after the
    change (removed, down, made a port, or the servers' family disabled):
    their DNS configuration must move, as nmstate moves it, since the
    document does not mention it."""
    ctrl = kinds.controllers(target)
    out = []
    for name in dns_holders_of(snap):
        servers = profiles.dns_from_profile(snap.chosen[name].model_settings)["server"]
        fams: Set[int] = {model.family_of(s) for s in servers}
        iface = target["interfaces"].get(name)
        if iface is None or name in ctrl or not _holder_ok(iface, fams) or not _any_family(iface):
            out.append(name)
    return sorted(out)


def dns_holders_of(snap: Snapshot) -> List[str]:
    """Names of interfaces whose profile holds static DNS now."""
    return [name for name, prof in snap.chosen.items() if profiles.holds_dns(prof.model_settings)]


def _routes_by_iface(state: State) -> Dict[str, List[Dict[str, Any]]]:
    """``{interface: [its routes, in state order]}``."""
    out: Dict[str, List[Dict[str, Any]]] = {}
    for route in state["routes"]:
        out.setdefault(route.get("next-hop-interface", ""), []).append(route)
    return out


def _port_info(state: State, ctrls: Dict[str, str], name: str) -> Optional[PortOf]:
    """Where ``name`` is a port in ``state`` (``ctrls``: ``kinds.controllers(state)``), or ``None``."""
    ctrl = ctrls.get(name)
    if not ctrl:
        return None
    cif = state["interfaces"][ctrl]
    kind = kinds.get(cif["type"])
    entry = next((p for p in kind.section_of(cif).get("port", []) if isinstance(p, dict) and p.get("name") == name),
                 {"name": name})
    return PortOf(ctrl, cif["type"], entry)


NO_DNS: Dict[str, List[str]] = {"server": [], "search": [], "options": []}


@dataclass
class _Ops:
    """The operations of a plan as they are found, by the group they run in."""

    updates: List[Op] = field(default_factory=list)
    deletes: List[Op] = field(default_factory=list)
    downs: List[Op] = field(default_factory=list)
    activations: List[Op] = field(default_factory=list)


@dataclass
class _Build:
    """What every interface's operations are planned from (each computed once:
    most are O(interfaces))."""

    plan: Plan
    snap: Snapshot
    index: ProfileIndex
    dns_owner: Optional[str]
    desired_names: Set[str]
    rules_now: Dict[str, List[RuleKey]]
    rules_then: Dict[str, List[Rule]]
    dns_holders: Set[str]
    ctrl_t: Dict[str, str]
    ctrl_c: Dict[str, str]
    routes_t: Dict[str, List[Dict[str, Any]]]
    routes_c: Dict[str, List[Dict[str, Any]]]
    ops: _Ops = field(default_factory=_Ops)

    @classmethod
    def of(cls, plan: Plan, snap: Snapshot, index: ProfileIndex, dns_owner: Optional[str],
           rule_owner: Dict[RuleKey, str]) -> "_Build":
        """The context for ``plan``'s current and target states."""
        rules_now: Dict[str, List[RuleKey]] = {}
        for key, name in snap.rule_holders.items():
            rules_now.setdefault(name, []).append(key)
        rules_then: Dict[str, List[Rule]] = {}
        for rule in plan.target["route-rules"]:
            rules_then.setdefault(rule_owner.get(model.rule_key(rule), ""), []).append(rule)
        return cls(plan, snap, index, dns_owner, set(plan.desired.get("interfaces", {})), rules_now, rules_then,
                   set(dns_holders_of(snap)) if dns_owner is not None else set(),
                   kinds.controllers(plan.target), kinds.controllers(plan.current),
                   _routes_by_iface(plan.target), _routes_by_iface(plan.current))

    def change(self, name: str) -> ProfileChange:
        """What ``name``'s profile must say: its model now and in the target,
        and the ports, routes, DNS and rules it holds where they change."""
        cur, tgt = self.plan.current, self.plan.target
        routes = None
        if self.routes_t.get(name, []) != self.routes_c.get(name, []):
            routes = ProfileRoutes(list(self.routes_t.get(name, [])), set(self.snap.gateways.get(name, [])))
        dns = None
        if self.dns_owner is not None and (name == self.dns_owner or name in self.dns_holders):
            dns = tgt["dns-resolver"] if name == self.dns_owner else NO_DNS
        rules = None
        if sorted(self.rules_now.get(name, [])) != sorted(model.rule_key(r) for r in self.rules_then.get(name, [])):
            rules = self.rules_then.get(name, [])
        return ProfileChange(cur["interfaces"].get(name) or {"name": name}, tgt["interfaces"][name],
                             _port_info(tgt, self.ctrl_t, name), _port_info(cur, self.ctrl_c, name),
                             routes, dns, rules)

    def stale_table(self, name: str, change: ProfileChange) -> bool:
        """Whether the change drops a route from a table other than main
        where NM syncs only the main table on Reapply (before 1.52): that
        needs a re-activation."""
        if change.routes is None or self.snap.nm.syncs_route_tables:
            return False
        kept = {model.route_key(t) for t in self.routes_t.get(name, [])}
        return any(r.get("table-id") != model.MAIN_TABLE for r in self.routes_c.get(name, [])
                   if model.route_key(r) not in kept)


def _build_ops(plan: Plan, snap: Snapshot, index: ProfileIndex, dns_owner: Optional[str],
               rule_owner: Dict[RuleKey, str]) -> None:
    """The plan's operations, in the order they run: profile writes, deletes,
    deactivations, activations; deletes and deactivations of what sits on
    another (ports, VLANs) before it."""
    build = _Build.of(plan, snap, index, dns_owner, rule_owner)
    names = kinds.dependency_order(plan.target, plan.target["interfaces"].keys())
    for name in names:
        if plan.target["interfaces"][name].get("state") == "absent":
            _absent_ops(plan, snap, index, name, build.ops)
        else:
            _iface_ops(build, name)
    order = {n: i for i, n in enumerate(names)}
    ops = build.ops
    ops.deletes.sort(key=lambda o: -order.get(o.iface, 0))  # ports and VLANs before what they sit on
    ops.downs.sort(key=lambda o: -order.get(o.iface, 0))
    plan.ops = ops.updates + ops.deletes + ops.downs + ops.activations


def _iface_ops(build: _Build, name: str) -> None:
    """The operations for one interface that stays (up or down)."""
    snap, ops = build.snap, build.ops
    change = build.change(name)
    t_if = change.target
    c_if: Optional[Iface] = build.plan.current["interfaces"].get(name)
    prof: Optional[Profile] = snap.chosen.get(name)
    if prof is not None and prof.model_type != t_if["type"]:
        ops.deletes.append(Op("delete", name, prof.path, disruption="remove", reason="type changes to %s"
                              % t_if["type"]))
        prof, c_if = None, None
        change.current = {"name": name}
    moved = change.port != change.current_port
    if c_if == t_if and not moved and (change.routes, change.dns, change.rules) == (None, None, None) and (
            name not in build.desired_names or prof is None):
        return  # nothing it depends on changes (a device without a profile that stays down)
    if name in build.desired_names or (change.port and change.port.controller in build.desired_names):
        _block_rivals(build.plan, snap, build.index, name, ops)
    written = _dirty(c_if, change, prof, _builtin_default(build.plan, prof, name))
    if written:
        prof = _write_op(build, name, prof, c_if, change)
    for extra in snap.extra.get(name, []):
        if extra.owner == "ours":
            ops.deletes.append(Op("delete", name, extra.path, disruption="none",
                                  reason="a second profile of ours for %s that could win at boot" % name))
            build.plan.profiles["deleted"].append(extra.as_dict())
    _state_ops(build, name, prof, written, change)


def _dirty(c_if: Optional[Iface], change: ProfileChange, prof: Optional[Profile], builtin: bool) -> bool:
    """Whether the profile must be written: the interface, its routes, DNS,
    rules or controller change, it has no profile (or one not bound to it),
    or its autoconnect does not follow the target's state (``builtin``:
    NetworkManager's own profile of ``lo``, which never autoconnects for
    its own sake)."""
    if c_if is None or prof is None or _without_state(c_if) != _without_state(change.target):
        return True
    if (change.routes, change.dns, change.rules) != (None, None, None) or change.port != change.current_port:
        return True
    return not (prof.bound or prof.mac_bound) or (
        prof.autoconnect != (change.target.get("state") == "up") and not builtin)


def _write_op(build: _Build, name: str, prof: Optional[Profile], c_if: Optional[Iface],
              change: ProfileChange) -> Optional[Profile]:
    """Add the ``update`` (or ``create``) of ``name``'s profile; returns the
    profile updated, ``None`` when a new one is created (a multi-connect
    profile serves other devices as it is: a profile of its own is made)."""
    change.adopt = prof is not None and not prof.multi_connect and not prof.mac_bound  # bind an unbound profile
    new = profiles.build_settings(prof.settings if prof else None, change)
    if prof is not None and not prof.multi_connect:
        build.ops.updates.append(Op("update", name, prof.path, new, reason=_why(c_if, change)))
        return prof
    build.ops.updates.append(Op("create", name, settings=new, reason="new profile for %s" % name))
    return None


def _moved(change: ProfileChange) -> bool:
    """Whether the interface changes controller (or stops or starts being a port)."""
    def ctrl(port: Optional[PortOf]) -> Optional[str]:
        return port.controller if port else None
    return ctrl(change.port) != ctrl(change.current_port)


def _activation(build: _Build, name: str, change: ProfileChange, active: bool, stale_table: bool) -> Op:
    """The ``activate`` of ``name``: a re-activation when it is active; one
    that waits for its device when the device appears during the apply (a
    hardware kind's device that is not there yet: a veth peer)."""
    port, kind = change.port, kinds.of(change.target)
    why = " as a port of %s" % port.controller if port else " to drop routes from other tables" if stale_table else ""
    return Op("activate", name, disruption="reactivate" if active else "none", reason="bring %s up%s" % (name, why),
              awaits_device=name not in build.snap.devices and not (kind and kind.software))


def _state_ops(build: _Build, name: str, prof: Optional[Profile], written: bool, change: ProfileChange) -> None:
    """Bring the interface up (activate, or reapply a written profile
    without a link flap) or take it down, as its target state says."""
    ops, up, path = build.ops, change.target.get("state") == "up", prof.path if prof else ""
    active = prof is not None and bool(prof.active)
    stale_table = build.stale_table(name, change)
    recreate = active and written and _recreate_op(build, name, prof, change)
    if up and (not active or (written and _relinks(change, stale_table, recreate))):
        ops.activations.append(_activation(build, name, change, active, stale_table))
    elif up and written:
        ops.updates[-1].disruption = "reapply"
        ops.activations.append(Op("reapply", name, path, disruption="reapply", reason="apply the updated profile live"))
    elif change.target.get("state") == "down" and active and not recreate:
        ops.downs.append(Op("deactivate", name, path, disruption="remove", reason="state: down"))


def _relinks(change: ProfileChange, stale_table: bool, recreate: bool) -> bool:
    """Whether a written profile needs a re-activation, not a reapply: the
    interface changes controller, drops a route NM only drops so, or its
    device is re-created."""
    return _moved(change) or stale_table or recreate


def _recreate_op(build: _Build, name: str, prof: Optional[Profile], change: ProfileChange) -> bool:
    """When the change re-creates the device (:func:`_recreates`), take it
    down first (NetworkManager refuses the new settings on the old device);
    returns whether it does."""
    if not _recreates(change):
        return False
    build.ops.downs.append(Op("deactivate", name, prof.path if prof else "", disruption="reactivate",
                              reason="NetworkManager re-creates %s for this change" % name))
    return True


def _recreates(change: ProfileChange) -> bool:
    """Whether the change re-creates the device (:meth:`.kinds.base.Kind.recreates`)."""
    kind = kinds.of(change.target)
    return kind is not None and kind.recreates(change.current, change.target)


def _absent_ops(plan: Plan, snap: Snapshot, index: ProfileIndex, name: str, ops: _Ops) -> None:
    """``state: absent``: the profiles bound to ``name`` by name are deleted
    (only ours when ``name`` is pruned), and no other profile is left able
    to activate there (see :func:`_block_rivals`)."""
    pruned = name in plan.pruned
    for prof in index.on(name):  # prof.interface is prof.iface when bound by name
        if _builtin_default(plan, prof, name):
            continue  # NetworkManager's own profile of lo: the default that absent returns to
        if prof.owner == "ours" and prof.interface == name or (
                not pruned and prof.bound and prof.iface == name):
            ops.deletes.append(Op("delete", name, prof.path, disruption="remove",
                                  reason="prune: not in the document" if pruned else "state: absent"))
            if not pruned:
                plan.profiles["deleted"].append(prof.as_dict())
    if not pruned:
        _block_rivals(plan, snap, index, name, ops, unbound_only=True)


def _builtin_default(plan: Plan, prof: Optional[Profile], name: str) -> bool:
    """Whether ``prof`` is NetworkManager's external profile of an interface
    the kernel always has (``lo``): it stands for the default configuration,
    and is never deleted nor made to autoconnect for its own sake."""
    return prof is not None and kinds.builtin_default(name, prof.origin)


def _rival(snap: Snapshot, name: str, prof: Profile, unbound_only: bool) -> bool:
    """Whether ``prof`` could activate on ``name`` by itself though the
    document's own profile is meant to (see :func:`_block_rivals`)."""
    if prof.owner == "ours" or (not unbound_only and (prof is snap.chosen.get(name) or prof.multi_connect)):
        return False
    if unbound_only and prof.bound and prof.iface == name:
        return False  # deleted by state: absent
    return (prof.autoconnect or bool(prof.active)) and prof.fits(name, snap.devices.get(name))


def _block_rivals(plan: Plan, snap: Snapshot, index: ProfileIndex, name: str, ops: _Ops,
                  unbound_only: bool = False) -> None:
    """Exactly one profile can activate on an interface the document
    manages: every profile not made by hostnet.nm that NM could activate
    there by itself (a second profile bound to it, one bound by MAC or not
    bound at all, NM's auto-default or boot-time profiles) is blocked on
    this device only (:func:`.profiles.blocked_on`), and deactivated when
    it is active there; never deleted, it may serve other devices. The
    document's own profile (``snap.chosen``) is not a rival, nor, unless the
    interface is made absent, a multi-connect profile (it serves other
    devices as it is)."""
    for prof in index.may_fit(name):
        if not _rival(snap, name, prof, unbound_only):
            continue
        ops.updates.append(Op("update", name, prof.path, profiles.blocked_on(prof.settings, name),
                              reason="block %r (uuid %s, not made by hostnet.nm) on %s" % (prof.id, prof.uuid, name)))
        plan.profiles["blocked"].append(prof.as_dict())
        plan.warnings.append("interfaces %s: profile %r (uuid %s, %s) could also activate on it: kept, blocked on %s "
                             "only" % (name, prof.id, prof.uuid, prof.origin, name))
        if prof.active:
            ops.downs.append(Op("deactivate", name, prof.path, disruption="remove", reason="blocked on %s" % name))


def _without_state(iface: Iface) -> Iface:
    return {k: v for k, v in iface.items() if k != "state"}


def _why(c_if: Optional[Iface], change: ProfileChange) -> str:
    """The reason of a profile update: the keys that change."""
    t_if = change.target
    parts = [k for k in sorted(set(c_if) | set(t_if)) if c_if.get(k) != t_if.get(k) and k != "state"] if c_if else []
    for what, value in (("routes", change.routes), ("dns", change.dns), ("route-rules", change.rules)):
        if value is not None:
            parts.append(what)
    if change.port != change.current_port:
        parts.append("controller")
    return "changes: %s" % ", ".join(parts) if parts else "profile settings"


def _changed_entries(before: List[Dict[str, Any]], after: List[Dict[str, Any]],
                     key: Callable[[Dict[str, Any]], Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """``({"config": entries only before}, {"config": entries only after})`` of two route or rule lists."""
    old, new = {key(r) for r in before}, {key(r) for r in after}
    return ({"config": [r for r in before if key(r) not in new]},
            {"config": [r for r in after if key(r) not in old]})


def _build_diff(plan: Plan, dns_changed: bool) -> None:
    """``plan.diff``: before and after of what the operations touch, the
    routes and rules that change, and DNS when it changes."""
    cur, tgt = plan.current, plan.target
    touched = sorted({op.iface for op in plan.ops})
    before: Dict[str, Any] = {"interfaces": [cur["interfaces"][n] for n in touched if n in cur["interfaces"]]}
    after: Dict[str, Any] = {"interfaces": [_shown(tgt["interfaces"][n]) for n in touched]}
    for section, key in (("routes", model.route_key), ("route-rules", model.rule_key)):
        if cur[section] != tgt[section]:
            before[section], after[section] = _changed_entries(cur[section], tgt[section], key)
    for side in (before, after):
        if "routes" in side:
            side["routes"]["config"] = [model.document_route(r) for r in side["routes"]["config"]]
    if dns_changed:
        before["dns-resolver"] = {"config": cur["dns-resolver"]}
        after["dns-resolver"] = {"config": tgt["dns-resolver"]}
    plan.diff = {"before": before, "after": after}


def plan_hostname(plan: Plan, current: HostName) -> None:
    """The host name's change (``plan.hostname``) from ``current`` (the host's
    ``{"config", "running"}``) to the document's ``hostname`` section, and
    its part of the diff (only the keys that change)."""
    plan.hostname = HostNameChange.of(current, plan.desired.get("hostname") or {})
    if plan.hostname is not None:
        plan.diff["before"]["hostname"] = dict(plan.hostname.before)
        plan.diff["after"]["hostname"] = dict(plan.hostname.after)


def add_live_repairs(plan: Plan, snap: Snapshot, live: Dict[str, Dict[str, Any]],
                     typed: Optional[List[model.TypedRoute]] = None) -> None:
    """Profiles right, kernel wrong: for each interface of the document
    whose live addresses or routes no longer match (see
    :func:`.verify.live_drift`; ``typed``: the kernel's ``route-type``
    routes, ``None`` when not read), add a ``reapply`` of its unchanged profile
    (NM puts the addresses and routes back without a link flap) and show the
    live values in the diff (``before``: what the kernel has)."""
    drift = live_drift(plan.desired, plan.target, live, {op.iface for op in plan.ops}, typed)
    for name in sorted(drift):
        prof = snap.chosen.get(name)
        if prof is None:
            continue
        found = drift[name]
        plan.ops.append(Op("reapply", name, prof.path, disruption="reapply", reason="live state differs from the "
                           "profile: " + "; ".join("%s: desired %s, live %s" % (m["what"], _brief(m["desired"]),
                                                                                _brief(m["actual"]))
                                                   for m in found)))
        before = copy.deepcopy(plan.current["interfaces"][name])
        for fam in (4, 6):
            if any(".ipv%d." % fam in m["what"] for m in found):
                before["ipv%d" % fam]["address"] = [_address(a) for a in live[name]["addresses"]
                                                    if model.family_of(a) == fam]
        plan.diff["before"].setdefault("interfaces", []).append(before)
        plan.diff["after"].setdefault("interfaces", []).append(_shown(plan.target["interfaces"][name]))
        missing = [model.document_route(m["desired"]) for m in found if m["what"].startswith("routes[")]
        if missing:
            plan.diff["after"].setdefault("routes", {"config": []})["config"].extend(missing)
            plan.diff["before"].setdefault("routes", {"config": []})


#: protocols of the routes an activation puts back itself (the kernel's prefix routes, DHCP, router advertisements)
RESTORED_PROTOCOLS = ("kernel", "dhcp", "ra")
#: protocols of the main-table routes of others that a Reapply without PRESERVE_EXTERNAL_IP removes
#: (``ip route add`` makes ``boot``; seen on NetworkManager 1.42: ``bgp`` and other daemons' protocols stay)
PRUNED_PROTOCOLS = ("boot", "static")


def reactivated(plan: Plan) -> List[str]:
    """Interfaces the plan takes down and up again (their routes are flushed)."""
    return sorted({op.iface for op in plan.ops if op.kind == "activate" and op.disruption == "reactivate"})


def live_ops(plan: Plan) -> List[str]:
    """Interfaces the plan re-activates or reapplies: a re-activation
    flushes their routes, a reapply may prune some."""
    return sorted({op.iface for op in plan.ops if (op.kind, op.disruption) in (
        ("activate", "reactivate"), ("reapply", "reapply"))})


def keep_external(plan: Plan, snap: Snapshot, live: Dict[str, Dict[str, Any]]) -> None:
    """Each ``reapply`` keeps what NetworkManager did not configure
    (``Op.keep_external``) where NetworkManager can
    (:attr:`~.nm.version.NmVersion.reapply_keeps_external`), unless the device has addresses
    that neither its profile nor a family the document makes static-only
    (or disables) holds: the document's address list replaces the live one.
    ``live``: :func:`~.nm.reader.live_state` of the document's interfaces.
    Nor does the reapply of a profile that holds ``route-type`` routes:
    NetworkManager 1.52 then drops its IPv6 ones when its IPv4 routes
    change, and does not put them back (seen in the lab)."""
    typed = {r.get("next-hop-interface") for r in plan.current["routes"] + plan.target["routes"] if r.get("route-type")}
    for op in plan.ops:
        if op.kind != "reapply":
            continue
        t_if, dev = plan.target["interfaces"].get(op.iface), live.get(op.iface)
        op.keep_external = snap.nm.reapply_keeps_external and op.iface not in typed and not (
            t_if is not None and dev is not None and
            _foreign_addresses(t_if, plan.current["interfaces"].get(op.iface, {}), dev["addresses"]))


def _foreign_addresses(t_if: Dict[str, Any], c_if: Dict[str, Any], addresses: List[str]) -> List[str]:
    """``addresses`` (live, ``ip/prefix``) of ``t_if``'s static-only or
    disabled families that neither ``t_if`` nor ``c_if`` (the profile
    before the change: NetworkManager's own) holds."""
    out = []
    for fam in (4, 6):
        ip = t_if.get("ipv%d" % fam) or {}
        if ip.get("enabled") and (ip.get("dhcp") or ip.get("autoconf")):
            continue  # a dynamic family: the lease's addresses are NetworkManager's own
        held = {"%s/%d" % (a["ip"], a["prefix-length"]) for i in (t_if, c_if)
                for a in (i.get("ipv%d" % fam) or {}).get("address", [])}
        out += [a for a in addresses if model.family_of(a) == fam and a not in held]
    return out


def name_flushed_routes(plan: Plan, routes: Dict[str, List[Dict[str, Any]]]) -> Dict[str, List[str]]:
    """Say which routes of others the plan takes away for good:
    a re-activation drops every route through the device and NetworkManager
    puts back only those of its profile; a reapply that may not keep
    external addresses (see :func:`keep_external`) prunes the main table's
    routes of protocol ``boot`` and ``static``. ``routes``:
    :func:`~.nm.kernel.device_routes` of :func:`live_ops` interfaces. Routes
    of another daemon or of ``ip route`` (any table) are named in the
    operation's reason and a warning; a reapply's ``collateral`` lists
    what a re-activation of it would remove.

    Returns ``{interface: ["<dst> via <gw> table <n> (proto <p>)", ...]}``
    of the routes the plan removes."""
    flushed: Dict[str, List[str]] = {}
    for op in plan.ops:
        if op.iface not in routes or (op.kind, op.disruption) not in (("activate", "reactivate"),
                                                                      ("reapply", "reapply")):
            continue
        foreign = _routes_of_others(plan, routes[op.iface])
        if op.kind == "reapply":
            op.collateral = [_route_text(r) for r in foreign]
            foreign = [] if op.keep_external else [r for r in foreign if r["table-id"] == model.MAIN_TABLE and
                                                   r["protocol"] in PRUNED_PROTOCOLS]
        lost = [_route_text(r) for r in foreign]
        if lost:
            op.reason += "; flushes routes NetworkManager does not restore: " + ", ".join(lost)
            plan.warnings.append("interfaces %s: %s removes routes NetworkManager does not manage, which it will not "
                                 "put back: %s" % (op.iface, "re-activating it" if op.kind == "activate" else
                                                   "replacing its addresses", ", ".join(lost)))
            flushed[op.iface] = lost
    return flushed


def _routes_of_others(plan: Plan, routes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The kernel's ``routes`` (:func:`~.nm.kernel.device_routes` shape) that neither a profile
    (before or after the change) nor an activation itself puts there."""
    ours = {(r["destination"], r.get("next-hop-address", ""), r.get("table-id", model.MAIN_TABLE))
            for r in plan.current["routes"] + plan.target["routes"]}  # the profiles' routes: kept or removed on purpose
    return [r for r in routes if r["protocol"] not in RESTORED_PROTOCOLS and
            (r["destination"], r.get("next-hop-address", ""), r["table-id"]) not in ours]


def _route_text(route: Dict[str, Any]) -> str:
    return "%s via %s table %d (proto %s)" % (route["destination"], route.get("next-hop-address", "on-link"),
                                              route["table-id"], route["protocol"])


def _address(text: str) -> Dict[str, Any]:
    ip, _sep, prefix = text.partition("/")
    return {"ip": ip, "prefix-length": int(prefix)}


def _brief(value: Any) -> str:
    if isinstance(value, dict):
        return "%s via %s" % (value.get("destination"), value.get("next-hop-address") or "on-link")
    return str(value)


def _shown(iface: Dict[str, Any]) -> Dict[str, Any]:
    return {"name": iface["name"], "state": "absent"} if iface.get("state") == "absent" else iface
