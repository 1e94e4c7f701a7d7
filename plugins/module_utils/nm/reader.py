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
import subprocess
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple

from .. import kinds, model
from ..errors import DependencyError
from ..nmconst import (AC_ACTIVATED, AC_ACTIVATING, ACTIVE_IFACE, CONNECTION_IFACE, DEVICE_IFACE, IP_CONFIG_IFACES,
                       NM_IFACE, OBJECT_MANAGER_IFACE, OBJECT_MANAGER_PATH, SETTINGS_IFACE, SETTINGS_PATH, WIRED_IFACE)
from . import settings as nms
from .dbus import NM_PATH, Bus, Call, unwrap
from . import kernel, support
from .version import DBUS_EXPORT_CAP, NmVersion

MULTI_CONNECT_SINGLE = (0, 1)  # default / single


class Profile:
    """One connection profile: ``path``, ``raw`` settings (library variants,
    sent back on update), ``settings`` (plain), ``iface`` (interface-name or
    the device it is active on), ``uuid``, ``active`` (active-connection
    path or ``""``), ``bound`` (``True`` if bound to the interface by name),
    ``mac_bound`` (``True`` if bound by MAC address alone to the device ``iface``),
    ``model_settings`` (``settings`` with the device's name as ``interface-name``
    when the profile names none: what the model is read from; ``settings``
    stays as NetworkManager has it), ``origin`` (who made it,
    :func:`.settings.origin_of`) and ``owner`` (``ours``, ``foreign`` or
    ``generated``)."""

    __slots__ = ("path", "raw", "settings", "iface", "uuid", "active", "bound", "flags", "filename", "version_id",
                 "mac_bound", "model_settings", "origin", "owner")

    def __init__(self, path: str, raw: Dict[str, Any], props: Dict[str, Any]) -> None:
        self.path = path
        self.raw = raw
        self.settings = unwrap(raw)
        con = self.settings.get("connection", {})
        self.uuid = con.get("uuid", "")
        self.iface = con.get("interface-name", "")
        self.bound = bool(self.iface)
        self.mac_bound = False  # bound by MAC address alone, to the device ``iface`` (see :func:`_bind_by_mac`)
        self.model_settings = self.settings  # ``settings`` as the model reads them (interface-name filled in)
        self.active = ""
        self.flags = int(props.get("Flags", 0))
        self.filename = props.get("Filename", "")
        self.version_id = int(props.get("VersionId", 0))  # bumped by NM on every change (NM >= 1.44; 0 before)
        self.origin = nms.origin_of(self.settings, self.flags)
        self.owner = nms.owner_class(self.origin)

    @property
    def id(self) -> str:
        """The profile's ``connection.id`` (not unique: never used to find it)."""
        return str(self.settings.get("connection", {}).get("id", ""))

    @property
    def autoconnect(self) -> bool:
        """Whether NM may activate the profile by itself."""
        return bool(self.settings.get("connection", {}).get("autoconnect", True))

    @property
    def priority(self) -> int:
        """``connection.autoconnect-priority`` (NM picks the highest first)."""
        return int(self.settings.get("connection", {}).get("autoconnect-priority", 0) or 0)

    def fits(self, name: str, dev: Optional[Dict[str, Any]]) -> bool:
        """Whether NM could activate this profile on interface ``name``
        (device record ``dev`` or ``None``): bound to it by name, or unbound
        (no ``interface-name``) with a matching ``mac-address`` (or none),
        of a type the device takes, and not excluded by
        ``match.interface-name``."""
        con = self.settings.get("connection", {})
        if self.bound:  # interface-name as NM has it (a MAC-bound profile is only named after its device)
            return self.iface == name
        if dev is None or nms.MODEL_TYPES.get(con.get("type", "")) not in (dev["type"], "veth"):
            return False
        mac = nms.mac_text(self.settings.get("802-3-ethernet", {}).get("mac-address"))
        if mac and mac != (dev.get("perm_mac") or dev.get("mac")):
            return False
        return nms.match_allows(list(self.settings.get("match", {}).get("interface-name", [])), name)

    def as_dict(self) -> Dict[str, Any]:
        """For results: ``{uuid, id, interface, owner, origin, active, autoconnect}``."""
        return {"uuid": self.uuid, "id": self.id, "interface": self.iface or nms.marked_interface(self.settings),
                "owner": self.owner, "origin": self.origin, "active": bool(self.active),
                "autoconnect": self.autoconnect}

    @property
    def multi_connect(self) -> bool:
        """Whether NM may activate this profile on several devices at once."""
        return int(self.settings.get("connection", {}).get("multi-connect", 0)) not in MULTI_CONNECT_SINGLE

    @property
    def timestamp(self) -> int:
        """When the profile was last activated (seconds since the epoch, 0 never)."""
        return int(self.settings.get("connection", {}).get("timestamp", 0))


class Snapshot:
    """What NetworkManager has, as read at one moment.

    ``devices``: ``{name: {path, type, nm_type, managed, state, mtu, mac,
    active, ip4config, ip6config, real}}`` (every realized device, managed or
    not; NM's unrealized placeholders are left out);
    ``profiles``: every :class:`Profile`; ``chosen``: ``{name: Profile}``,
    the profile that configures each interface; ``extra``: ``{name: [Profile]}``
    other profiles bound to the same interface (they could win at the next
    boot); ``active``: ``{path: {connection, state, devices}}``;
    ``checkpoints``: checkpoint object paths; ``version``: NM's ``Version`` text;
    ``nm``: the :class:`~.version.NmVersion` (release and capabilities);
    ``ip_configs``: ``{IP4Config or IP6Config path: properties}``;
    ``kernel_rules``: the kernel's routing rules (see :func:`.kernel.rules`), also
    those no profile holds.
    """

    def __init__(self) -> None:
        self.devices: Dict[str, Dict[str, Any]] = {}
        self.profiles: List[Profile] = []
        self.chosen: Dict[str, Profile] = {}
        self.extra: Dict[str, List[Profile]] = {}
        self.active: Dict[str, Dict[str, Any]] = {}
        self.checkpoints: List[str] = []
        self.version = ""
        self.nm = NmVersion((0, 0, 0))
        self.gateways: Dict[str, List[Tuple[Any, ...]]] = {}
        self.rule_holders: Dict[Tuple[Any, ...], str] = {}  # rule key -> interface whose profile holds it
        self.ip_configs: Dict[str, Dict[str, Any]] = {}  # IP4Config/IP6Config path -> its properties
        self.kernel_rules: List[Dict[str, Any]] = []  # the kernel's routing rules (kernel.rules)
        self.features: FrozenSet[str] = frozenset()  # refused kinds' prerequisites the host has (support.features)

    def managed(self, name: str) -> bool:
        """Whether NM manages the interface, or could create it: no device
        yet, or only the placeholder NM keeps for a software device whose
        profile is down (not real, reported unmanaged)."""
        dev = self.devices.get(name)
        return dev is None or bool(dev["managed"]) or not dev["real"]


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
    devices = list(root.get("AllDevices", root.get("Devices", [])))
    connections = list(objects.get(SETTINGS_PATH, {}).get(SETTINGS_IFACE, {}).get("Connections", []))
    actives = list(root.get("ActiveConnections", []))
    dev_props = [objects.get(p, {}).get(DEVICE_IFACE, {}) for p in devices]
    snap.features = support.features(root, dev_props)
    ac_props = [objects.get(p, {}).get(ACTIVE_IFACE, {}) for p in actives]
    con_props = [objects.get(p, {}).get(CONNECTION_IFACE, {}) for p in connections]
    snap.ip_configs = {p: ifaces[i] for p, ifaces in objects.items() for i in IP_CONFIG_IFACES if i in ifaces}
    try:
        snap.kernel_rules = kernel.rules()
    except (DependencyError, OSError, subprocess.SubprocessError, ValueError):
        snap.kernel_rules = []  # no iproute2 here: only the profiles' rules are known
    # settings are not properties: one call per profile, all in one wave
    raws = bus.gather([Call(p, CONNECTION_IFACE, "GetSettings") for p in connections], return_errors=True, raw=True)
    for path, props in zip(devices, dev_props):
        if not props or not props.get("Real", True):
            # an unrealized device: NM's placeholder for a software device that has a profile but no kernel link
            # (after "down", or a rolled-back creation). It is no device yet, and never "unmanaged": the profile
            # decides, as for an interface that does not exist
            continue
        wired = objects.get(path, {}).get(WIRED_IFACE, {})
        snap.devices[props["Interface"]] = {
            "perm_mac": (wired.get("PermHwAddress") or props.get("HwAddress") or "").upper() or None,
            "path": path, "nm_type": int(props.get("DeviceType", 0)),
            "type": nms.DEVICE_TYPES.get(int(props.get("DeviceType", 0))),
            "managed": bool(props.get("Managed")), "state": int(props.get("State", 0)),
            "mtu": int(props.get("Mtu", 0)), "mac": (props.get("HwAddress") or "").upper() or None,
            "active": props.get("ActiveConnection", "/"), "ip4config": props.get("Ip4Config", "/"),
            "ip6config": props.get("Ip6Config", "/"), "real": bool(props.get("Real", True)),
        }
    for path, props in zip(actives, ac_props):
        if props:
            snap.active[path] = {"connection": props.get("Connection", "/"), "state": int(props.get("State", 0)),
                                 "devices": list(props.get("Devices", []))}
    by_path = {d["path"]: name for name, d in snap.devices.items()}
    live: Dict[str, List[str]] = {}   # profile path -> its active connections (a lookup, not a scan per profile)
    for ac_path, ac in snap.active.items():
        if ac["state"] in (AC_ACTIVATING, AC_ACTIVATED):
            live.setdefault(ac["connection"], []).append(ac_path)
    for path, raw, props in zip(connections, raws, con_props):
        if isinstance(raw, Exception):
            continue  # deleted while we read
        prof = Profile(path, raw[0], props)
        for ac_path in live.get(path, []):
            prof.active = ac_path
            devs = snap.active[ac_path]["devices"]
            if not prof.iface and devs:
                prof.iface = by_path.get(devs[0], "")
        snap.profiles.append(prof)
    _bind_by_mac(snap)
    _choose(snap)
    return snap


def _bind_by_mac(snap: Snapshot) -> None:
    """Profiles without ``interface-name`` that name a MAC address
    (``802-3-ethernet.mac-address``) belong to the device with that
    permanent MAC, as NetworkManager matches them: give them that device's
    name (also in their ``model_settings``, so that the model names the
    interface and its routes), and mark them ``mac_bound``."""
    by_mac = {d["perm_mac"]: name for name, d in snap.devices.items() if d["perm_mac"] and d["real"]}
    for prof in snap.profiles:
        if prof.bound:
            continue
        mac = nms.mac_text(prof.settings.get("802-3-ethernet", {}).get("mac-address"))
        name = prof.iface or by_mac.get(mac or "", "")
        if not prof.active and not nms.match_allows(list(prof.settings.get("match", {}).get("interface-name", [])),
                                                    name):
            continue  # blocked on that device (match.interface-name "!name")
        if mac and by_mac.get(mac) == name:
            prof.mac_bound = True
        if name:
            prof.iface = name
            con = dict(prof.settings.get("connection", {}), **{"interface-name": name})
            prof.model_settings = dict(prof.settings, connection=con)


def _choose(snap: Snapshot) -> None:
    """Pick the profile that configures each interface: the active one, else
    one bound by name (ours first, then autoconnect, then the most recently
    used)."""
    candidates: Dict[str, List[Profile]] = {}
    for prof in snap.profiles:
        if prof.iface and nms.MODEL_TYPES.get(prof.settings.get("connection", {}).get("type", "")):
            candidates.setdefault(prof.iface, []).append(prof)
    for name, profs in candidates.items():
        profs.sort(key=lambda p: (not p.active, p.owner != "ours", not p.autoconnect, -p.timestamp, p.path))
        snap.chosen[name] = profs[0]
        snap.extra[name] = [p for p in profs[1:] if p.bound and not p.multi_connect]


def _controller_names(snap: Snapshot) -> Dict[str, str]:
    """``{uuid or interface name: interface name}``: what a port's
    ``connection.master`` may name (NM takes either), the first profile winning."""
    out: Dict[str, str] = {}
    for prof in snap.profiles:
        if prof.iface:
            for key in (prof.uuid, prof.iface):
                out.setdefault(key, prof.iface)
    return out


def current_state(snap: Snapshot) -> Dict[str, Any]:
    """The model of what the host has, from a snapshot: every interface NM
    manages (unmanaged ones and loopback are left out, with their routes),
    static routes and DNS from the chosen profiles."""
    state = model.empty_state()
    ifaces = state["interfaces"]
    for name, dev in snap.devices.items():
        if not dev["managed"] or dev["type"] is None or name in snap.chosen:
            continue
        iface: Dict[str, Any] = {"name": name, "type": dev["type"], "state": "down",
                                 "ipv4": {"enabled": False}, "ipv6": {"enabled": False}}
        if dev["mtu"]:
            iface["mtu"] = dev["mtu"]
        if dev["mac"]:
            iface["mac-address"] = dev["mac"]
        ifaces[name] = iface
    dns_parts = []
    for name, prof in snap.chosen.items():
        dev = snap.devices.get(name)
        if not snap.managed(name):
            continue
        ifaces[name] = nms.iface_from_profile(prof.model_settings, dev if dev and dev["real"] else None,
                                              bool(prof.active))
        if not nms.l3_profile(prof.model_settings):
            continue
        routes, gateways = nms.routes_from_profile(prof.model_settings)
        state["routes"].extend(routes)
        snap.gateways[name] = gateways
        for rule in nms.rules_from_profile(prof.model_settings):
            if model.rule_key(rule) not in snap.rule_holders:
                state["route-rules"].append(rule)
                snap.rule_holders[model.rule_key(rule)] = name
        dns = nms.dns_from_profile(prof.model_settings)
        if dns["server"] or dns["search"] or dns["options"]:
            dns_parts.append((dns["priority"], name, dns))
    for rule in foreign_rules(snap):
        if rule not in state["route-rules"]:
            state["route-rules"].append(rule)
    ctrl_names = _controller_names(snap)
    for name, prof in snap.chosen.items():
        master = prof.model_settings.get("connection", {}).get("master")
        if not master or name not in ifaces:
            continue
        ctrl = ifaces.get(ctrl_names.get(master, master))
        if ctrl is None:
            continue
        if ctrl["type"] == "linux-bridge":
            ctrl.setdefault("bridge", {"options": {}, "port": []})["port"].append(nms.port_entry(prof.model_settings))
        elif ctrl["type"] == "bond":
            ctrl.setdefault("link-aggregation", {"port": []})["port"].append(name)
        elif "vrf" in ctrl:
            ctrl["vrf"]["port"].append(name)
    for iface in ifaces.values():
        if "bridge" in iface:
            iface["bridge"]["port"].sort(key=lambda p: p["name"])
        elif "link-aggregation" in iface:
            iface["link-aggregation"]["port"].sort()
        kinds.canonical(iface)
    state["routes"].sort(key=model.route_key)
    state["route-rules"].sort(key=model.rule_key)
    dns_parts.sort(key=lambda t: (t[0], t[1]))
    for _prio, _name, dns in dns_parts:
        for key in ("server", "search", "options"):
            state["dns-resolver"][key] += [v for v in dns[key] if v not in state["dns-resolver"][key]]
    return state


def foreign_rules(snap: Snapshot) -> List[Dict[str, Any]]:
    """The kernel's routing rules that no profile holds (added with ``ip
    rule`` or by another daemon), as canonical model rules; rules with
    selectors the model does not hold (``iif``, ``fwmark``...) are left out.
    Call after :func:`current_state` has filled ``snap.rule_holders``."""
    out = []
    for rule in snap.kernel_rules:
        canon = model.canonical_rule(rule)
        if model.rule_key(canon) not in snap.rule_holders:
            out.append(canon)
    return out


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
        addresses: List[str] = []
        routes: List[Tuple[str, str, int, int]] = []
        dev = snap.devices[name]
        for props in (snap.ip_configs.get(dev["ip4config"], {}), snap.ip_configs.get(dev["ip6config"], {})):
            for a in props.get("AddressData", []):
                ip = ipaddress.ip_address(a["address"])
                if not (ip.version == 6 and ip.is_link_local):
                    addresses.append("%s/%d" % (ip, a["prefix"]))
            for r in props.get("RouteData", []):
                routes.append(("%s/%d" % (ipaddress.ip_address(r["dest"]), r["prefix"]), r.get("next-hop", ""),
                               int(r.get("metric", 0)), int(r.get("table", model.MAIN_TABLE))))
        out[name] = {"state": dev["state"], "addresses": addresses, "routes": routes, "active": dev["active"]}
        if snap.nm.caps_ip_export and _capped(snap, dev):
            capped.append(name)
    if capped:
        for name, seen in kernel.addresses_and_routes(capped).items():
            out[name].update(seen)
    return out


def _capped(snap: Snapshot, dev: Dict[str, Any]) -> bool:
    """Whether NM's export of the device's IP configurations may be cut short."""
    return any(len(snap.ip_configs.get(dev[key], {}).get(prop, [])) >= DBUS_EXPORT_CAP
               for key in ("ip4config", "ip6config") for prop in ("AddressData", "RouteData"))
