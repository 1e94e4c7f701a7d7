# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Putting a host back to the state read before an apply, and proving it.

A NetworkManager checkpoint lives in NetworkManager's memory: a restart or a
crash of NetworkManager loses it, and the profiles already written stay (NM
loads them from disk again). A rollback NM does make may also leave the live
state different from before (a profile kept in memory written to disk by NM
before 1.48, a device re-activated with another route metric), and it returns
before the devices are back. So after every rollback the transaction:

1. waits until the devices active before are activated again and their IPv6
   addresses are past duplicate address detection (:func:`settle`);
2. compares a :func:`host_view` with the one taken before the apply
   (:func:`~..verify.restore_differences`);
3. repairs what differs over D-Bus (:func:`repair`): profiles re-added,
   updated (settings and storage) or deleted, devices created by the apply
   deleted, devices re-activated or disconnected as they were; live routes or
   addresses that differ under an unchanged profile are re-applied.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .. import kinds
from ..errors import NmError
from ..files import write_json
from ..nmconst import (ADD_IN_MEMORY, ADD_TO_DISK, CONNECTION_IFACE, DEVICE_ACTIVATED, DEVICE_DEACTIVATING,
                       DEVICE_DISCONNECTED, DEVICE_IFACE, FLAG_EXTERNAL, FLAG_NM_GENERATED, FLAG_UNSAVED, NM_IFACE,
                       NM_PATH, SETTINGS_IFACE, SETTINGS_PATH, SETTINGS_SIG, UPDATE_IN_MEMORY_ONLY, UPDATE_TO_DISK)
from ..snapshot import Profile, Snapshot
from ..verify import default_winners, resolv_conf_servers, tentative_addresses
from .dbus import Bus, Call, Variant
from .settings import sendable
from .writer import await_device, await_gone
from .reader import current_state, live_state, profile_from_dbus, read_snapshot

IF_INET6 = "/proc/net/if_inet6"


def _plain(prof: Profile) -> Dict[str, Any]:
    """A profile's settings without what NM changes on its own (the last
    activation's timestamp)."""
    settings = {k: dict(v) for k, v in prof.settings.items()}
    settings.get("connection", {}).pop("timestamp", None)
    return settings


def _kept(snap: Snapshot) -> List[Profile]:
    """The profiles to restore: all but those NetworkManager generates itself."""
    return [p for p in snap.profiles if not p.flags & (FLAG_NM_GENERATED | FLAG_EXTERNAL)]


def _storage(prof: Profile) -> str:
    return "memory" if prof.flags & FLAG_UNSAVED else "disk"


def _active_uuids(snap: Snapshot) -> Dict[str, str]:
    """``{device name: uuid of the profile active (or activating) on it}``."""
    by_path = {d["path"]: name for name, d in snap.devices.items()}
    out: Dict[str, str] = {}
    for prof in _kept(snap):
        if prof.active:
            for dev in snap.active.get(prof.active, {}).get("devices", []):
                if dev in by_path:
                    out[by_path[dev]] = prof.uuid
    return out


def host_view(snap: Snapshot, resolv_conf: str) -> Dict[str, Any]:
    """What must be equal before an apply and after its rollback, from
    ``snap`` and the text of resolv.conf: ``{"profiles": {uuid: {"id",
    "settings", "storage"}}, "active": {device: uuid}, "addresses": {device:
    [ip/prefix]}, "routes": {device: [(destination, next hop, metric,
    table)]}, "rules": [...], "dns": {"server", "search"}, "default": {"ipv4":
    winner, "ipv6": winner}}`` (see :func:`~..verify.restore_differences`)."""
    live = live_state(snap)
    search: List[str] = []
    for line in resolv_conf.splitlines():
        if line.split()[:1] == ["search"]:
            search = line.split()[1:]
    return {
        "profiles": {p.uuid: {"id": p.settings.get("connection", {}).get("id", p.uuid), "settings": _plain(p),
                              "storage": _storage(p)} for p in _kept(snap)},
        "active": _active_uuids(snap),
        "addresses": {n: sorted(d["addresses"]) for n, d in live.items() if d["addresses"]},
        "routes": {n: sorted(d["routes"]) for n, d in live.items() if d["routes"]},
        "rules": current_state(snap)["route-rules"],
        "dns": {"server": resolv_conf_servers(resolv_conf), "search": search},
        "default": {"ipv%d" % fam: winner for fam, winner in default_winners(live).items()},
    }


def settled(before: Snapshot, now: Snapshot, tentative: Dict[str, List[str]]) -> bool:
    """Whether the devices are back at rest: each device activated in
    ``before`` is activated in ``now``, none is between states, and none of
    them still has a tentative IPv6 address (``tentative``, from
    :func:`~..verify.tentative_addresses`)."""
    for name, dev in now.devices.items():
        was = before.devices.get(name)
        if was is not None and was["state"] == DEVICE_ACTIVATED and dev["state"] != DEVICE_ACTIVATED:
            return False
        if DEVICE_DISCONNECTED < dev["state"] < DEVICE_ACTIVATED or dev["state"] == DEVICE_DEACTIVATING:
            return False
        if dev["state"] == DEVICE_ACTIVATED and tentative.get(name):
            return False
    return True


def settle(bus: Bus, before: Snapshot, timeout: float, read_file: Callable[[str], str]) -> Snapshot:
    """Wait up to ``timeout`` seconds until :func:`settled`; returns the last
    snapshot read. ``read_file(path)`` reads a host file (``""`` when
    missing). Raises :class:`~..errors.NmError` when NM cannot be read."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            now = read_snapshot(bus)
        except NmError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)  # NetworkManager is starting again
            continue
        if settled(before, now, tentative_addresses(read_file(IF_INET6))) or time.monotonic() >= deadline:
            return now
        time.sleep(0.2)


def repair(bus: Bus, before: Snapshot, now: Snapshot, live_only: bool = False) -> List[str]:
    """Make NetworkManager's profiles and activations those of ``before``
    again, over D-Bus; returns what was done, one line per call.

    Profiles missing now are added again (with their old UUID, settings and
    storage), changed ones updated, new ones deleted (NM removes the software
    devices it made for them); software devices that did not exist before
    are deleted; devices are activated with, or disconnected from, the
    profile they had; a device whose profile is unchanged but whose live
    addresses or routes differ is re-applied (no link flap). With
    ``live_only`` only that last step runs.

    Raises:
        NmError: NetworkManager refused a call.
    """
    log: List[str] = []
    old = {p.uuid: p for p in _kept(before)}
    touched: Set[str] = set()
    if not live_only:
        touched = _restore_profiles(bus, log, old, {p.uuid: p for p in _kept(now)})
        _delete_new_devices(bus, log, before, now)
    current = read_snapshot(bus)
    if live_only:
        _reapply_live(bus, log, before, current)
    else:
        _restore_activations(bus, log, old, before, current, touched)
    return log


def _restore_profiles(bus: Bus, log: List[str], old: Dict[str, Profile], new: Dict[str, Profile]) -> Set[str]:
    """Profiles made since deleted, missing ones added again, changed ones
    updated (settings and storage); returns the UUIDs added or updated."""
    touched = set()
    for uuid, prof in new.items():
        if uuid not in old:
            _call(bus, log, "delete profile %s" % uuid, Call(prof.path, CONNECTION_IFACE, "Delete", write=True))
    for uuid, prof in old.items():
        if uuid not in new:
            flags = ADD_IN_MEMORY if _storage(prof) == "memory" else ADD_TO_DISK
            _call(bus, log, "add profile %s" % uuid, Call(SETTINGS_PATH, SETTINGS_IFACE, "AddConnection2",
                                                          SETTINGS_SIG + "ua{sv}", [sendable(prof.raw), flags, {}],
                                                          write=True))
            touched.add(uuid)
        elif _plain(prof) != _plain(new[uuid]) or _storage(prof) != _storage(new[uuid]):
            flags = UPDATE_IN_MEMORY_ONLY if _storage(prof) == "memory" else UPDATE_TO_DISK
            _call(bus, log, "update profile %s" % uuid, Call(new[uuid].path, CONNECTION_IFACE, "Update2",
                                                             SETTINGS_SIG + "ua{sv}", [sendable(prof.raw), flags, {}],
                                                             write=True))
            touched.add(uuid)
    return touched


def _delete_new_devices(bus: Bus, log: List[str], before: Snapshot, now: Snapshot) -> None:
    """Software devices that did not exist before (the apply created them),
    and those it re-created (:func:`recreated`): NetworkManager from 1.44
    re-activates the old profile on the new device as it is (a veth with
    the new peer), 1.42 leaves it; deleted, the activation that follows
    creates the device as the old profile says."""
    again = recreated(before, now)
    for name, dev in now.devices.items():
        kind = kinds.find(dev["type"])
        delete = Call(dev["path"], DEVICE_IFACE, "Delete", write=True)
        if name not in before.devices and dev["real"] and kind is not None and kind.software:
            _call(bus, log, "delete device %s" % name, delete)
        elif name in again:
            _call(bus, log, "delete re-created device %s" % name, delete)
            await_gone(bus, dev["path"])


def recreated(before: Snapshot, now: Snapshot) -> List[str]:
    """Devices of a software kind (by the profile active on them before)
    that are there before and now under another interface index: deleted
    and created again since (a veth's new peer, a VXLAN's new id)."""
    active = _active_uuids(before)
    software = {p.uuid for p in _kept(before) if getattr(kinds.by_profile(p.settings), "software", False)}
    out = []
    for name, dev in now.devices.items():
        was = before.devices.get(name)
        if was is not None and dev["real"] and active.get(name) in software and \
                0 != was.get("ifindex", 0) != dev.get("ifindex", 0) != 0:
            out.append(name)
    return out


def _restore_activations(bus: Bus, log: List[str], old: Dict[str, Profile], before: Snapshot, current: Snapshot,
                         touched: Set[str]) -> None:
    """Each device activated with the profile it had (again, when that
    profile was restored), ports after their controllers, a device that
    another one brings (a veth's peer) once it is there; devices active now
    that were not before disconnected."""
    want, have = _active_uuids(before), _active_uuids(current)
    paths = {p.uuid: p.path for p in _kept(current)}

    def brought(name: str) -> bool:  # no device now, and NM does not create one for this profile
        dev = current.devices.get(name)
        return not (dev and dev["real"]) and not getattr(kinds.by_profile(old[want[name]].settings), "software",
                                                         False)
    order = sorted(want, key=lambda n: (bool(old[want[n]].settings.get("connection", {}).get("master")), brought(n)))
    for name in order:
        uuid = want[name]
        dev = current.devices.get(name)
        if uuid in paths and (have.get(name) != uuid or uuid in touched):
            device = await_device(bus, name) if brought(name) else dev["path"] if dev and dev["real"] else "/"
            _call(bus, log, "activate %s on %s" % (uuid, name), Call(NM_PATH, NM_IFACE, "ActivateConnection", "ooo",
                                                                     [paths[uuid], device, "/"], write=True))
    for name, dev in current.devices.items():
        if name in have and name not in want and dev["real"]:
            _call(bus, log, "disconnect %s" % name, Call(dev["path"], DEVICE_IFACE, "Disconnect", write=True))


def _reapply_live(bus: Bus, log: List[str], before: Snapshot, current: Snapshot) -> None:
    """A device with the profile it had whose live addresses or routes
    differ: re-applied (no link flap). When NetworkManager gave its routes
    another default metric (:func:`bumped_metrics`), the re-apply carries
    the old one in the applied connection (the profile is not changed)."""
    want, have = _active_uuids(before), _active_uuids(current)
    was, is_ = live_state(before), live_state(current)
    for name in sorted(set(want) & set(have)):
        old_live, new_live = was.get(name), is_.get(name)
        if want[name] == have[name] and old_live and new_live and \
                (sorted(old_live["routes"]) != sorted(new_live["routes"]) or
                 sorted(old_live["addresses"]) != sorted(new_live["addresses"])):
            path = current.devices[name]["path"]
            metrics = bumped_metrics(old_live["routes"], new_live["routes"])
            settings: Dict[str, Any] = {}
            version = 0
            if metrics:
                settings, version = bus.gather([Call(path, DEVICE_IFACE, "GetAppliedConnection", "u", [0])],
                                               raw=True)[0]
                for family, metric in metrics.items():
                    settings.setdefault(family, {})["route-metric"] = Variant("x", metric)
                settings = sendable(settings)
            what = "reapply %s%s" % (name, "".join(" (%s.route-metric %d)" % m for m in sorted(metrics.items())))
            _call(bus, log, what, Call(path, DEVICE_IFACE, "Reapply", SETTINGS_SIG + "tu", [settings, version, 0],
                                       write=True))


def bumped_metrics(before: List[Any], now: List[Any]) -> Dict[str, int]:
    """``{"ipv4"|"ipv6": metric}``: the metric the routes of a device had
    before (``[(destination, next hop, metric, table)]``, from
    :func:`..nm.reader.live_state`) where every route that is back with
    another metric had that one metric. NetworkManager (to 1.42 at least)
    keeps a range of default metrics per interface index and gives a device
    that a rollback re-activated or re-created the next free one (100 ->
    103): a route whose metric the profile sets is never moved so.
    ``{}`` when nothing moved, or not in one step per family."""
    old = {(r[0], r[1], r[3]): r[2] for r in before}
    moved: Dict[str, Set[int]] = {}
    for dest, hop, metric, table in now:
        was = old.get((dest, hop, table))
        if was is not None and was != metric:
            moved.setdefault("ipv6" if ":" in dest else "ipv4", set()).add(was)
    return {family: values.pop() for family, values in moved.items() if len(values) == 1}


def _call(bus: Bus, log: List[str], what: str, call: Call) -> Optional[List[Any]]:
    """Make ``call`` and log ``what``; a profile or device that vanished
    meanwhile (or a device NM no longer calls its own) is what was wanted:
    its error is logged, not raised."""
    try:
        out = bus.call(call)
    except NmError as exc:
        if "UnknownObject" in exc.dbus_error or "UnknownMethod" in exc.dbus_error or "NotSoftware" in exc.dbus_error:
            log.append("%s: already gone" % what)
            return None
        raise
    log.append(what)
    return out


# ------------------------------------------------------------------ kept on disk while a change waits

def _encode(value: Any) -> Any:
    """A D-Bus value (with the library's variants or ours) as JSON data that
    keeps every signature: ``{"~v": signature, "~d": value}``, bytes as
    ``{"~b": hex}``."""
    if hasattr(value, "signature") and hasattr(value, "value") and not isinstance(value, (bytes, str)):
        return {"~v": value.signature, "~d": _encode(value.value)}
    if isinstance(value, bytes):
        return {"~b": value.hex()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    """:func:`_encode` undone, with :class:`~.dbus.Variant` for the variants."""
    if isinstance(value, dict):
        if "~v" in value:
            return Variant(value["~v"], _decode(value["~d"]))
        if "~b" in value:
            return bytes.fromhex(value["~b"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def save(path: str, before: Snapshot, view: Dict[str, Any]) -> None:
    """Keep what a restore needs (the snapshot's devices, activations, IP
    configurations and profiles with their settings and signatures, and the
    :func:`host_view`) in ``path``, root-only: the confirmation from the
    controller runs in another process, and NetworkManager may lose the
    checkpoint meanwhile."""
    data = {"devices": before.devices, "active": before.active, "ip_configs": before.ip_configs,
            "profiles": [{"path": p.path, "raw": _encode(p.raw), "flags": p.flags, "active": p.active}
                         for p in before.profiles], "view": view}
    write_json(path, _encode(data))


def load(path: str) -> Optional[Tuple[Snapshot, Dict[str, Any]]]:
    """``(snapshot, view)`` kept by :func:`save`, or ``None``. The view is
    compared as JSON data (lists, not tuples): compare it with
    :func:`as_json` of a new one."""
    try:
        with open(path) as handle:
            data = _decode(json.load(handle))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    snap = Snapshot()
    snap.devices, snap.active, snap.ip_configs = data["devices"], data["active"], data["ip_configs"]
    for item in data["profiles"]:
        prof = profile_from_dbus(item["path"], item["raw"], {"Flags": item["flags"]})
        prof.active = item["active"]
        snap.profiles.append(prof)
    return snap, data["view"]


def as_json(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists; int keys strings)."""
    return json.loads(json.dumps(value, default=str))


def forget(path: str) -> None:
    """Drop what :func:`save` kept."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
