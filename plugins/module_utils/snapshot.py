# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What NetworkManager has, as read at one moment, in plain data.

:func:`.nm.reader.read_snapshot` fills a :class:`Snapshot` over D-Bus; the
plan reads it without knowing D-Bus (unit tests build one by hand). Which
profile configures which interface (:func:`bind_by_mac`,
:func:`choose_profiles`) is decided here, as NetworkManager decides it.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, FrozenSet, List, Optional, Tuple, TypedDict

from . import kinds, model, profiles
from .nmversion import NmVersion
from .ops import Settings

MULTI_CONNECT_SINGLE = (0, 1)  # connection.multi-connect: default / single


class _DeviceRequired(TypedDict):
    path: str
    nm_type: int
    type: Optional[str]
    managed: bool
    state: int
    mtu: int
    mac: Optional[str]
    active: str
    ip4config: str
    ip6config: str
    real: bool


class Device(_DeviceRequired, total=False):
    """One realized device: D-Bus ``path``, NM's DeviceType ``nm_type``, the
    model ``type`` (``None``: a kind hostnet.nm does not manage), ``managed``,
    NMDeviceState ``state``, live ``mtu`` (bytes) and ``mac`` (upper case),
    its active connection ``active`` (path or ``"/"``), its ``ip4config`` and
    ``ip6config`` paths, ``real``, ``perm_mac`` (the permanent MAC) and ``ifindex`` (the
    kernel's interface index: a new one means the device was re-created); for
    a kind with a D-Bus interface of its own, ``kind``: that interface's
    properties (:attr:`.kinds.base.Kind.device_iface`)."""

    perm_mac: Optional[str]
    kind: Dict[str, Any]
    ifindex: int


class Profile:
    """One connection profile: ``path``, ``raw`` settings (as the reader got
    them, sent back on update: only :mod:`.nm` looks at them), ``settings``
    (plain), ``iface`` (interface-name or the device it is active on),
    ``uuid``, ``active`` (active-connection path or ``""``), ``bound``
    (``True`` if bound to the interface by name), ``mac_bound`` (``True`` if
    bound by MAC address alone to the device ``iface``), ``model_settings``
    (``settings`` with the device's name as ``interface-name`` when the
    profile names none: what the model is read from; ``settings`` stays as
    NetworkManager has it), ``origin`` (who made it,
    :func:`.profiles.origin_of`) and ``owner`` (``ours``, ``foreign`` or
    ``generated``).

    ``settings`` defaults to a copy of ``raw`` (plain data); ``props`` are
    the profile's D-Bus properties (``Flags``, ``Filename``, ``VersionId``)."""

    __slots__ = ("path", "raw", "settings", "iface", "uuid", "active", "bound", "flags", "filename", "version_id",
                 "mac_bound", "model_settings", "origin", "owner")

    def __init__(self, path: str, raw: Settings, props: Dict[str, Any], settings: Optional[Settings] = None) -> None:
        self.path = path
        self.raw = raw
        self.settings: Settings = settings if settings is not None else copy.deepcopy(raw)
        con = self.settings.get("connection", {})
        self.uuid: str = con.get("uuid", "")
        self.iface: str = con.get("interface-name", "")
        self.bound = bool(self.iface)
        self.mac_bound = False  # bound by MAC address alone, to the device ``iface`` (see :func:`bind_by_mac`)
        self.model_settings = self.settings  # ``settings`` as the model reads them (interface-name filled in)
        self.active = ""
        self.flags = int(props.get("Flags", 0))
        self.filename: str = props.get("Filename", "")
        self.version_id = int(props.get("VersionId", 0))  # bumped by NM on every change (NM >= 1.44; 0 before)
        self.origin = profiles.origin_of(self.settings, self.flags)
        self.owner = profiles.owner_class(self.origin)

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

    @property
    def model_type(self) -> Optional[str]:
        """The model type of the profile (its ``connection.type``, :func:`.kinds.by_profile`; ``None``: a kind
        hostnet.nm does not manage)."""
        kind = kinds.by_profile(self.settings)
        return kind.type if kind else None

    @property
    def mac_address(self) -> Optional[str]:
        """The permanent MAC the profile is bound to (``802-3-ethernet.mac-address``), or ``None``."""
        return profiles.mac_text(self.settings.get("802-3-ethernet", {}).get("mac-address"))

    def allows(self, name: str) -> bool:
        """Whether ``match.interface-name`` lets the profile apply to interface ``name``."""
        return profiles.match_allows(list(self.settings.get("match", {}).get("interface-name", [])), name)

    def fits(self, name: str, dev: Optional[Device]) -> bool:
        """Whether NM could activate this profile on interface ``name``
        (device record ``dev`` or ``None``): bound to it by name, or unbound
        (no ``interface-name``) with a matching ``mac-address`` (or none),
        of a type the device takes, and not excluded by
        ``match.interface-name``."""
        if self.bound:  # interface-name as NM has it (a MAC-bound profile is only named after its device)
            return self.iface == name
        if dev is None or not profiles.device_takes(dev["type"], self.settings):
            return False
        mac = self.mac_address
        if mac and mac != (dev.get("perm_mac") or dev.get("mac")):
            return False
        return self.allows(name)

    def as_dict(self) -> Dict[str, Any]:
        """For results: ``{uuid, id, interface, owner, origin, active, autoconnect}``."""
        return {"uuid": self.uuid, "id": self.id, "interface": self.interface,
                "owner": self.owner, "origin": self.origin, "active": bool(self.active),
                "autoconnect": self.autoconnect}

    @property
    def interface(self) -> str:
        """The interface the profile is for: its ``interface-name`` (or
        device), else the one our mark records (``""`` when neither)."""
        return self.iface or profiles.marked_interface(self.settings)

    @property
    def multi_connect(self) -> bool:
        """Whether NM may activate this profile on several devices at once."""
        return int(self.settings.get("connection", {}).get("multi-connect", 0)) not in MULTI_CONNECT_SINGLE

    @property
    def timestamp(self) -> int:
        """When the profile was last activated (seconds since the epoch, 0 never)."""
        return int(self.settings.get("connection", {}).get("timestamp", 0))

    @property
    def controller(self) -> str:
        """``connection.master`` as the model reads it (a name or a UUID; ``""``: not a port)."""
        return str(self.model_settings.get("connection", {}).get("master") or "")


class Snapshot:
    """What NetworkManager has, as read at one moment.

    ``devices``: ``{name: Device}`` (every realized device, managed or not;
    NM's unrealized placeholders are left out); ``profiles``: every
    :class:`Profile`; ``chosen``: ``{name: Profile}``, the profile that
    configures each interface; ``extra``: ``{name: [Profile]}`` other
    profiles bound to the same interface (they could win at the next boot);
    ``active``: ``{path: {connection, state, devices}}``; ``checkpoints``:
    checkpoint object paths; ``version``: NM's ``Version`` text; ``nm``: the
    :class:`~.nmversion.NmVersion` (release and capabilities);
    ``ip_configs``: ``{IP4Config or IP6Config path: properties}``;
    ``kernel_rules``: the kernel's routing rules (see :func:`.nm.kernel.rules`),
    also those no profile holds; ``gateways``: ``{name: [route key]}`` the
    routes each profile keeps in its ``gateway`` field; ``rule_holders``:
    ``{rule key: interface whose profile holds it}`` (both filled by
    :func:`.nm.reader.current_state`); ``features``: the refused kinds'
    prerequisites the host has (:func:`.nm.support.features`);
    ``hostname``: the static host name NetworkManager reports (its
    ``Settings.Hostname``, ``""`` when none) and ``hostname_writable``
    whether it can save one (``Settings.CanModify``).
    """

    def __init__(self) -> None:
        self.devices: Dict[str, Device] = {}
        self.profiles: List[Profile] = []
        self.chosen: Dict[str, Profile] = {}
        self.extra: Dict[str, List[Profile]] = {}
        self.active: Dict[str, Dict[str, Any]] = {}
        self.checkpoints: List[str] = []
        self.version = ""
        self.nm = NmVersion((0, 0, 0))
        self.gateways: Dict[str, List[Tuple[Any, ...]]] = {}
        self.rule_holders: Dict[Tuple[Any, ...], str] = {}
        self.ip_configs: Dict[str, Dict[str, Any]] = {}
        self.kernel_rules: List[Dict[str, Any]] = []
        self.features: FrozenSet[str] = frozenset()  # refused kinds' prerequisites the host has (nm.support)
        self.hostname = ""
        self.hostname_writable = True

    def managed(self, name: str) -> bool:
        """Whether NM manages the interface, or could create it: no device
        yet, or only the placeholder NM keeps for a software device whose
        profile is down (not real, reported unmanaged)."""
        dev = self.devices.get(name)
        return dev is None or bool(dev["managed"]) or not dev["real"]


class ProfileIndex:
    """The profiles of a snapshot by interface, built once per plan: the
    plan asks for the profiles of every interface it touches, and a scan of
    every profile per interface grows with the square of their number.

    :meth:`on` gives the profiles whose :attr:`Profile.interface` is a name,
    :meth:`may_fit` those NetworkManager could activate there by itself
    (see :meth:`Profile.fits`); both in the snapshot's order."""

    def __init__(self, profiles: List[Profile]) -> None:
        self._on: Dict[str, List[Profile]] = {}
        self._bound: Dict[str, List[Tuple[int, Profile]]] = {}
        self._unbound: List[Tuple[int, Profile]] = []
        for pos, prof in enumerate(profiles):
            self._on.setdefault(prof.interface, []).append(prof)
            if prof.bound:
                self._bound.setdefault(prof.iface, []).append((pos, prof))
            else:
                self._unbound.append((pos, prof))

    def on(self, name: str) -> List[Profile]:
        """Profiles whose :attr:`Profile.interface` is ``name`` (bound to it,
        or marked by us as its own)."""
        return self._on.get(name, [])

    def may_fit(self, name: str) -> List[Profile]:
        """Profiles that may fit ``name`` (:meth:`Profile.fits` decides):
        those bound to it by name and every profile bound by no name."""
        return [prof for _pos, prof in sorted(self._bound.get(name, []) + self._unbound, key=lambda t: t[0])]


def bind_by_mac(snap: Snapshot) -> None:
    """Profiles without ``interface-name`` that name a MAC address
    (``802-3-ethernet.mac-address``) belong to the device with that
    permanent MAC, as NetworkManager matches them: give them that device's
    name (also in their ``model_settings``, so that the model names the
    interface and its routes), and mark them ``mac_bound``."""
    by_mac = {d["perm_mac"]: name for name, d in snap.devices.items() if d.get("perm_mac") and d["real"]}
    for prof in snap.profiles:
        if prof.bound:
            continue
        mac = prof.mac_address
        name = prof.iface or by_mac.get(mac or "", "")
        if not prof.active and not prof.allows(name):
            continue  # blocked on that device (match.interface-name "!name")
        if mac and by_mac.get(mac) == name:
            prof.mac_bound = True
        if name:
            prof.iface = name
            con = dict(prof.settings.get("connection", {}), **{"interface-name": name})
            prof.model_settings = dict(prof.settings, connection=con)


def choose_profiles(snap: Snapshot) -> None:
    """Pick the profile that configures each interface: the active one, else
    one bound by name (ours first, then autoconnect, then the most recently
    used); the others bound by name go to ``snap.extra``."""
    candidates: Dict[str, List[Profile]] = {}
    for prof in snap.profiles:
        if prof.iface and prof.model_type:
            candidates.setdefault(prof.iface, []).append(prof)
    for name, profs in candidates.items():
        profs.sort(key=lambda p: (not p.active, p.owner != "ours", not p.autoconnect, -p.timestamp, p.path))
        snap.chosen[name] = profs[0]
        snap.extra[name] = [p for p in profs[1:] if p.bound and not p.multi_connect]


def foreign_rules(snap: Snapshot) -> List[Dict[str, Any]]:
    """The kernel's routing rules that no profile holds (added with ``ip
    rule`` or by another daemon), as canonical model rules; rules with
    selectors the model does not hold (``iif``, ``fwmark``...) are left out.
    Call after :func:`.nm.reader.current_state` has filled ``snap.rule_holders``."""
    out = []
    for rule in snap.kernel_rules:
        canon = model.canonical_rule(rule)
        if model.rule_key(canon) not in snap.rule_holders:
            out.append(canon)
    return out
