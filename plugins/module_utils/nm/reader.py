# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a host's state from NetworkManager over D-Bus, in batches.

:func:`read_snapshot` asks for everything in two calls' time, whatever the
number of profiles: NetworkManager's ObjectManager (every object's
properties), then one wave of concurrent ``GetSettings`` calls.
:func:`current_state` turns a snapshot into the model; :func:`live_state`
gives what the kernel had at that moment (addresses, routes) for
verification.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from .. import kinds, model, profiles
from ..errors import DependencyError
from ..nmconst import (AC_ACTIVATED, AC_ACTIVATING, ACTIVE_IFACE, CONNECTION_IFACE, DEVICE_IFACE, IP_CONFIG_IFACES,
                       NM_IFACE, NM_PATH, OBJECT_MANAGER_IFACE, OBJECT_MANAGER_PATH, SETTINGS_IFACE, SETTINGS_PATH,
                       WIRED_IFACE)
from ..nmversion import DBUS_EXPORT_CAP, NmVersion
from ..ops import Settings
from ..snapshot import Device, Profile, Snapshot, bind_by_mac, choose_profiles, foreign_rules
from . import kernel, support
from .dbus import Bus, Call, unwrap


def profile_from_dbus(path: str, raw: Settings, props: Dict[str, Any],
                      plain: Callable[[Any], Any] = unwrap) -> Profile:
    """A :class:`~..snapshot.Profile` from its D-Bus settings as read
    (``GetSettings``, kept as ``raw`` to send back) and its D-Bus properties;
    ``plain`` unwraps the settings (:attr:`.dbus.Bus.plain` for a reply of the bus)."""
    return Profile(path, raw, props, settings=plain(raw))


def read_snapshot(bus: Bus) -> Snapshot:
    """Read devices, profiles, active connections, IP configurations and
    checkpoints: NetworkManager's ObjectManager gives every object's
    properties in one reply (one consistent moment), then one wave asks for
    every profile's settings.

    Raises:
        NmError: NetworkManager is not on the bus or refused a call.
        DependencyError: NetworkManager is older than the oldest supported.
    """
    snap = Snapshot()
    objects = bus.call(Call(OBJECT_MANAGER_PATH, OBJECT_MANAGER_IFACE, "GetManagedObjects"))[0]
    root = objects.get(NM_PATH, {}).get(NM_IFACE, {})
    snap.version = root.get("Version", "")
    snap.nm = NmVersion.parse(snap.version, root.get("VersionInfo", []))
    snap.nm.check_supported()
    snap.checkpoints = list(root.get("Checkpoints", []))
    settings = objects.get(SETTINGS_PATH, {}).get(SETTINGS_IFACE, {})
    connections = list(settings.get("Connections", []))
    snap.hostname, snap.hostname_writable = str(settings.get("Hostname", "")), bool(settings.get("CanModify", True))
    snap.ip_configs = {p: ifaces[i] for p, ifaces in objects.items() for i in IP_CONFIG_IFACES if i in ifaces}
    snap.kernel_rules = _kernel_rules()
    # settings are not properties: one call per profile, all in one wave
    raws = bus.gather([Call(p, CONNECTION_IFACE, "GetSettings") for p in connections], return_errors=True, raw=True)
    devices = list(root.get("AllDevices", root.get("Devices", [])))
    snap.features = support.features(root, [objects.get(p, {}).get(DEVICE_IFACE, {}) for p in devices])
    _read_devices(snap, objects, devices)
    _read_actives(snap, objects, list(root.get("ActiveConnections", [])))
    _read_profiles(snap, objects, connections, raws, bus.plain)
    bind_by_mac(snap)
    choose_profiles(snap)
    return snap


def _kernel_rules() -> List[Dict[str, Any]]:
    try:
        return kernel.rules()
    except (DependencyError, OSError, subprocess.SubprocessError, ValueError):
        return []  # no iproute2 here: only the profiles' rules are known


def _device(path: str, props: Dict[str, Any], wired: Dict[str, Any], index: int) -> Device:
    nm_type = int(props.get("DeviceType", 0))
    return {"perm_mac": (wired.get("PermHwAddress") or props.get("HwAddress") or "").upper() or None,
            "path": path, "nm_type": nm_type, "type": _device_kind(nm_type),
            "managed": bool(props.get("Managed")), "state": int(props.get("State", 0)),
            "mtu": int(props.get("Mtu", 0)), "mac": (props.get("HwAddress") or "").upper() or None,
            "active": props.get("ActiveConnection", "/"), "ip4config": props.get("Ip4Config", "/"),
            "ip6config": props.get("Ip6Config", "/"), "real": bool(props.get("Real", True)),
            "ifindex": index}


def _device_kind(nm_type: int) -> Optional[str]:
    kind = kinds.by_device_type(nm_type)
    return kind.type if kind else None


def _read_devices(snap: Snapshot, objects: Dict[str, Any], paths: List[str]) -> None:
    indexes = kernel.ifindexes()
    for path in paths:
        props = objects.get(path, {}).get(DEVICE_IFACE, {})
        if not props or not props.get("Real", True):
            # an unrealized device: NM's placeholder for a software device that has a profile but no kernel link
            # (after "down", or a rolled-back creation). It is no device yet, and never "unmanaged": the profile
            # decides, as for an interface that does not exist
            continue
        name = props["Interface"]
        snap.devices[name] = _device(path, props, objects.get(path, {}).get(WIRED_IFACE, {}), indexes.get(name, 0))
    _kind_properties(snap, objects)


#: properties of a kind's device interface that name another device by its object path
DEVICE_REFS = frozenset({"Parent", "Port1", "Port2"})


def _kind_properties(snap: Snapshot, objects: Dict[str, Any]) -> None:
    """Give each device of a kind with a D-Bus interface of its own
    (:attr:`.kinds.base.Kind.device_iface`) that interface's properties as
    ``"kind"`` (for the kind's live checks), the devices it names by object
    path (``Parent``, an HSR's ``Port1`` and ``Port2``) by their interface
    names (``""`` for none)."""
    by_path = {d["path"]: name for name, d in snap.devices.items()}
    for dev in snap.devices.values():
        kind = kinds.by_device_type(dev["nm_type"])
        if kind is not None and kind.device_iface is not None:
            props = dict(objects.get(dev["path"], {}).get(kind.device_iface, {}))
            for key in DEVICE_REFS & set(props):
                props[key] = by_path.get(props[key], "")
            dev["kind"] = props


def _read_actives(snap: Snapshot, objects: Dict[str, Any], paths: List[str]) -> None:
    for path in paths:
        props = objects.get(path, {}).get(ACTIVE_IFACE, {})
        if props:
            snap.active[path] = {"connection": props.get("Connection", "/"), "state": int(props.get("State", 0)),
                                 "devices": list(props.get("Devices", []))}


def _read_profiles(snap: Snapshot, objects: Dict[str, Any], paths: List[str], raws: List[Any],
                   plain: Callable[[Any], Any]) -> None:
    by_path = {d["path"]: name for name, d in snap.devices.items()}
    live: Dict[str, List[str]] = {}   # profile path -> its active connections (a lookup, not a scan per profile)
    for ac_path, ac in snap.active.items():
        if ac["state"] in (AC_ACTIVATING, AC_ACTIVATED):
            live.setdefault(ac["connection"], []).append(ac_path)
    for path, raw in zip(paths, raws):
        if isinstance(raw, Exception):
            continue  # deleted while we read
        prof = profile_from_dbus(path, raw[0], objects.get(path, {}).get(CONNECTION_IFACE, {}), plain)
        for ac_path in live.get(path, []):
            prof.active = ac_path
            devs = snap.active[ac_path]["devices"]
            if not prof.iface and devs:
                prof.iface = by_path.get(devs[0], "")
        snap.profiles.append(prof)


def _controller_names(snap: Snapshot) -> Dict[str, str]:
    """``{uuid or interface name: interface name}``: what a port's
    ``connection.master`` may name (NM takes either), the first profile winning."""
    out: Dict[str, str] = {}
    for prof in snap.profiles:
        if prof.iface:
            for key in (prof.uuid, prof.iface):
                out.setdefault(key, prof.iface)
    return out


def _unprofiled(name: str, dev: Device) -> Dict[str, Any]:
    """A managed device without a profile, as the model has it: down, no IP."""
    iface: Dict[str, Any] = {"name": name, "type": dev["type"], "state": "down",
                             "ipv4": {"enabled": False}, "ipv6": {"enabled": False}}
    if dev["mtu"]:
        iface["mtu"] = dev["mtu"]
    if dev["mac"]:
        iface["mac-address"] = dev["mac"]
    return iface


def _read_l3(snap: Snapshot, state: Dict[str, Any], name: str, prof: Profile) -> Optional[Dict[str, Any]]:
    """The routes and rules of a profile that is not a port into ``state``
    (and ``snap.gateways``, ``snap.rule_holders``); returns its static DNS,
    or ``None`` when it holds none."""
    routes, gateways = profiles.routes_from_profile(prof.model_settings)
    state["routes"].extend(routes)
    snap.gateways[name] = gateways
    for rule in profiles.rules_from_profile(prof.model_settings):
        if model.rule_key(rule) not in snap.rule_holders:
            state["route-rules"].append(rule)
            snap.rule_holders[model.rule_key(rule)] = name
    dns = profiles.dns_from_profile(prof.model_settings)
    return dns if dns["server"] or dns["search"] or dns["options"] else None


def _add_ports(snap: Snapshot, ifaces: Dict[str, Any]) -> None:
    """Each port into its controller's port list (bridge ports with their options)."""
    ctrl_names = _controller_names(snap)
    for name, prof in snap.chosen.items():
        master = prof.controller
        if not master or name not in ifaces:
            continue
        ctrl = ifaces.get(ctrl_names.get(master, master))
        if ctrl is not None:
            profiles.add_port(ctrl, name, prof.model_settings)
    for iface in ifaces.values():
        profiles.sort_ports(iface)
        kinds.canonical(iface)


def _merge_dns(state: Dict[str, Any], parts: List[Tuple[int, str, Dict[str, Any]]]) -> None:
    """The profiles' DNS, strongest ``dns-priority`` first, as one resolver configuration."""
    for _prio, _name, dns in sorted(parts, key=lambda t: (t[0], t[1])):
        for key in ("server", "search", "options"):
            state["dns-resolver"][key] += [v for v in dns[key] if v not in state["dns-resolver"][key]]


def current_state(snap: Snapshot) -> Dict[str, Any]:
    """The model of what the host has, from a snapshot: every interface NM
    manages (unmanaged ones and loopback are left out, with their routes),
    static routes and DNS from the chosen profiles."""
    state = model.empty_state()
    ifaces = state["interfaces"]
    for name, dev in snap.devices.items():
        if dev["managed"] and dev["type"] is not None and name not in snap.chosen:
            ifaces[name] = _unprofiled(name, dev)
    dns_parts = []
    for name, prof in snap.chosen.items():
        if not snap.managed(name):
            continue
        found = snap.devices.get(name)
        device = found if found is not None and found["real"] else None
        ifaces[name] = profiles.iface_from_profile(prof.model_settings, device, bool(prof.active))
        dns = _read_l3(snap, state, name, prof) if profiles.l3_profile(prof.model_settings) else None
        if dns is not None:
            dns_parts.append((dns["priority"], name, dns))
    for rule in foreign_rules(snap):
        if rule not in state["route-rules"]:
            state["route-rules"].append(rule)
    _add_ports(snap, ifaces)
    state["routes"].sort(key=model.route_key)
    state["route-rules"].sort(key=model.rule_key)
    _merge_dns(state, dns_parts)
    return state


def host_name(snap: Snapshot) -> Dict[str, str]:
    """``{"config", "running"}``: the static host name NetworkManager reported
    in ``snap`` (``""`` when none) and the kernel's running one
    (``gethostname(2)``, the host's UTS namespace)."""
    return {"config": snap.hostname, "running": socket.gethostname()}


def live_state(snap: Snapshot, only: Optional[Iterable[str]] = None) -> Dict[str, Dict[str, Any]]:
    """What each managed device (of ``only``, when given) had when ``snap``
    was read, from NM's view of the kernel: ``{name: {"state":
    NMDeviceState, "addresses": ["ip/prefix", ...], "routes": [(destination,
    next hop or "", metric, table)], "active": path}}``. Link-local IPv6
    addresses are left out. Read a fresh snapshot for a fresh view.

    Where NM cuts its D-Bus export short (NM >= 1.46: at most 100 addresses
    or routes per IP configuration), that device's addresses and routes are
    read from the kernel instead (:mod:`.kernel`).

    Raises:
        DependencyError: the kernel must be read and iproute2 is missing.
    """
    wanted = None if only is None else set(only)
    names = [n for n, d in snap.devices.items() if d["managed"] and (wanted is None or n in wanted)]
    out: Dict[str, Dict[str, Any]] = {}
    capped: List[str] = []
    for name in names:
        dev = snap.devices[name]
        addresses, routes = _exported_ip(snap, dev)
        out[name] = {"state": dev["state"], "addresses": addresses, "routes": routes, "active": dev["active"]}
        if "kind" in dev:
            out[name]["kind"] = dev["kind"]  # the kind's own device properties (:func:`_kind_properties`)
        if snap.nm.caps_ip_export and _capped(snap, dev):
            capped.append(name)
    if capped:
        for name, seen in kernel.addresses_and_routes(capped).items():
            out[name].update(seen)
    return out


def _exported_ip(snap: Snapshot, dev: Device) -> Tuple[List[str], List[Tuple[str, str, int, int]]]:
    """A device's addresses (without IPv6 link-local ones) and routes as NM exports them."""
    addresses: List[str] = []
    routes: List[Tuple[str, str, int, int]] = []
    for props in (snap.ip_configs.get(dev["ip4config"], {}), snap.ip_configs.get(dev["ip6config"], {})):
        for a in props.get("AddressData", []):
            ip = ipaddress.ip_address(a["address"])
            if not (ip.version == 6 and ip.is_link_local):
                addresses.append("%s/%d" % (ip, a["prefix"]))
        for r in props.get("RouteData", []):
            routes.append(("%s/%d" % (ipaddress.ip_address(r["dest"]), r["prefix"]), r.get("next-hop", ""),
                           int(r.get("metric", 0)), int(r.get("table", model.MAIN_TABLE))))
    return addresses, routes


def typed_routes(*route_lists: Iterable[Mapping[str, Any]]) -> Optional[List[model.TypedRoute]]:
    """The kernel's ``route-type`` routes (:func:`.kernel.typed_routes`) when
    a route of ``route_lists`` has a ``route-type``, else ``None`` (nothing
    read: a document without them costs no command).

    Raises:
        DependencyError: iproute2 is missing.
    """
    if not any(r.get("route-type") for routes in route_lists for r in routes):
        return None
    return kernel.typed_routes()


def _capped(snap: Snapshot, dev: Device) -> bool:
    """Whether NM's export of the device's IP configurations may be cut short."""
    return any(len(snap.ip_configs.get(path, {}).get(prop, [])) >= DBUS_EXPORT_CAP
               for path in (dev["ip4config"], dev["ip6config"]) for prop in ("AddressData", "RouteData"))
