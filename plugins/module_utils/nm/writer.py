# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes to NetworkManager: profiles, activation, checkpoints.

Every mutating call is made with ``write=True`` so :class:`~.dbus.Bus`
counts it; nothing here decides *what* to do (that is :mod:`..plan`).
"""

from __future__ import annotations

import itertools
import time
from typing import Any, Callable, Dict, List, Optional, Set

from ..errors import ConflictError, NmError
from ..ops import Op, OpKind
from ..nmconst import (AC_ACTIVATED, AC_DEACTIVATED, ACTIVE_IFACE, ADD_BLOCK_AUTOCONNECT, ADD_IN_MEMORY, ADD_TO_DISK,
                       CONNECTION_IFACE, DEVICE_IFACE, DEVICE_UNMANAGED, NM_IFACE, NM_PATH, SETTINGS_IFACE, SETTINGS_PATH,
                       SETTINGS_SIG)
from .dbus import Bus, Call, Variant, unwrap
from ..snapshot import Profile, Snapshot
from .settings import to_dbus
INCOMPATIBLE = "org.freedesktop.NetworkManager.Device.IncompatibleConnection"
NOT_ACTIVE = "org.freedesktop.NetworkManager.ConnectionNotActive"
DEVICE_NOT_ACTIVE = "org.freedesktop.NetworkManager.Device.NotActive"
#: NMDeviceReapplyFlags: keep the addresses and routes NetworkManager did not configure (NetworkManager 1.42+)
REAPPLY_PRESERVE_EXTERNAL_IP = 0x1
# Update2 with a version-id that is no longer the profile's (NM >= 1.44)
VERSION_ID_MISMATCH = "org.freedesktop.NetworkManager.Settings.VersionIdMismatch"


#: creates or activations sent together between two calls of the writer's ``guard`` (one wave of Bus.gather)
GUARDED_BATCH = 64


class Writer:
    """Runs plan operations against NM over ``bus``.

    ``persistent``: profiles go to disk (keyfiles) or stay in memory.
    ``guard``: called before each write or batch of writes (the transaction
    keeps its checkpoint's window open there, or raises to stop writing).
    ``log``: what was done, one line per call, for the task result.
    ``allow_route_flush``: a reapply NetworkManager refuses may fall back to a
    re-activation that removes routes of others (``Op.collateral``).
    """

    def __init__(self, bus: Bus, snap: Snapshot, persistent: bool = True,
                 guard: Optional[Callable[[], None]] = None, allow_route_flush: bool = False) -> None:
        self.bus = bus
        self.allow_route_flush = allow_route_flush
        self.guard = guard or (lambda: None)
        self.snap = snap
        # the same bits in AddConnection2's and Update2's flags
        self.flags = (ADD_TO_DISK if persistent else ADD_IN_MEMORY) | ADD_BLOCK_AUTOCONNECT
        self.profiles: Dict[str, str] = {n: p.path for n, p in snap.chosen.items()}
        self.by_path: Dict[str, Profile] = {p.path: p for p in snap.profiles}
        self.pending: Dict[str, str] = {}  # iface -> active connection path to wait for
        self.recreated: Set[str] = set()  # software devices deleted to be created anew (see _await_gone)
        self.log: List[str] = []

    # -- profiles
    def run(self, ops: List[Op]) -> None:
        """Run ``ops`` in order (see :mod:`..plan` for their meaning); a run of
        creates or of activations is sent at once.

        Raises:
            NmError: NM refused a call; the caller rolls back.
        """
        batched: Dict[OpKind, Callable[[List[Op]], None]] = {
            "create": self._many_create, "update": self._many_update, "delete": self._many_delete,
            "activate": self._many_activate}
        single: Dict[OpKind, Callable[[Op], None]] = {"deactivate": self._deactivate, "reapply": self._reapply}
        for kind, group in itertools.groupby(ops, key=lambda op: op.kind):
            batch = list(group)
            if kind in batched:
                # independent of each other: sent together (NM takes one connection's calls in order),
                # so hundreds of profiles cost NM's time, not hundreds of round trips one after another
                # (deleting an active profile answers only once its device is down)
                for start in range(0, len(batch), GUARDED_BATCH):
                    self.guard()
                    batched[kind](batch[start:start + GUARDED_BATCH])
            else:
                for op in batch:
                    self.guard()
                    single[kind](op)
            self.log += ["%s %s" % (op.kind, op.iface) for op in batch]

    def _many_create(self, ops: List[Op]) -> None:
        replies = self.bus.gather([Call(SETTINGS_PATH, SETTINGS_IFACE, "AddConnection2", SETTINGS_SIG + "ua{sv}",
                                        [to_dbus(op.settings or {}), self.flags, {}], write=True) for op in ops])
        for op, (path, _result) in zip(ops, replies):
            self.profiles[op.iface] = path

    def _many_update(self, ops: List[Op]) -> None:
        """Rewrite the profiles, unless someone changed one since the snapshot was read: NM
        checks the ``version-id`` it had then (NM >= 1.44); before, the profiles are read
        again and compared just before the writes, all of them before any is written.

        Raises:
            ConflictError: a profile changed meanwhile (it was not overwritten).
            NmError: NM refused an update.
        """
        found = [(op, self.by_path.get(op.profile)) for op in ops]
        versioned = self.snap.nm.update_takes_version_id
        unversioned = [(op, prof) for op, prof in found if prof is not None and not (versioned and prof.version_id)]
        now = self.bus.gather([Call(op.profile, CONNECTION_IFACE, "GetSettings") for op, _prof in unversioned])
        for (op, prof), (settings,) in zip(unversioned, now):
            if _comparable(settings) != _comparable(prof.settings):
                raise self._changed_meanwhile(op)
        replies = self.bus.gather([self._update2(op, prof, versioned) for op, prof in found], return_errors=True)
        for op, reply in zip(ops, replies):
            if isinstance(reply, NmError):
                raise self._changed_meanwhile(op) if reply.dbus_error == VERSION_ID_MISMATCH else reply

    def _update2(self, op: Op, prof: Optional[Profile], versioned: bool) -> Call:
        """The ``Update2`` call of ``op``, with the profile's ``version-id`` when NM checks it."""
        args: Dict[str, Variant] = {}
        if prof is not None and versioned and prof.version_id:
            args["version-id"] = Variant("t", prof.version_id)
        return Call(op.profile, CONNECTION_IFACE, "Update2", SETTINGS_SIG + "ua{sv}",
                    [to_dbus(op.settings or {}, prof.raw if prof else None), self.flags, args], write=True)

    def _changed_meanwhile(self, op: Op) -> ConflictError:
        return ConflictError("the profile of %s (%s) was changed by someone else after hostnet.nm read it; it was "
                             "not overwritten and the change was rolled back. Run again to plan against its new "
                             "content" % (op.iface, op.profile))

    def _many_delete(self, ops: List[Op]) -> None:
        """Delete the profiles; one that vanished meanwhile is gone, as asked.

        Raises:
            NmError: NM refused a deletion.
        """
        replies = self.bus.gather([Call(op.profile, CONNECTION_IFACE, "Delete", write=True) for op in ops],
                                  return_errors=True)
        for op, reply in zip(ops, replies):
            if isinstance(reply, NmError) and "UnknownMethod" not in reply.dbus_error \
                    and "UnknownObject" not in reply.dbus_error:
                raise reply
            if self.profiles.get(op.iface) == op.profile:
                del self.profiles[op.iface]

    def _deactivate(self, op: Op) -> None:
        dev = self.snap.devices.get(op.iface)
        ac = dev["active"] if dev else "/"
        if ac in ("", "/"):
            return
        try:
            self.bus.call(Call(NM_PATH, NM_IFACE, "DeactivateConnection", "o", [ac], write=True))
        except NmError as exc:
            if exc.dbus_error != NOT_ACTIVE:
                raise
        if op.disruption == "reactivate" and dev is not None:
            self._await_gone(op.iface, dev["path"])

    def _await_gone(self, iface: str, path: str, timeout: float = 20.0) -> None:
        """Wait until NetworkManager has deleted the software device
        ``iface`` that a deactivation re-creates (:func:`await_gone`). Its
        next activation then lets NetworkManager create the device anew (no
        device path)."""
        await_gone(self.bus, path, timeout)
        self.recreated.add(iface)

    def _many_activate(self, ops: List[Op]) -> None:
        now = [op for op in ops if not op.awaits_device]
        replies = self.bus.gather([self._activation(op.iface) for op in now])
        for op, (ac,) in zip(now, replies):
            self.pending[op.iface] = ac
        for op in ops:
            if op.awaits_device:
                self.pending[op.iface] = self.bus.call(self._activation(op.iface, await_device(self.bus, op.iface)))[0]

    def _activation(self, iface: str, device: str = "") -> Call:
        dev = self.snap.devices.get(iface)
        device = device or (dev["path"] if dev and dev["real"] and iface not in self.recreated else "/")
        return Call(NM_PATH, NM_IFACE, "ActivateConnection", "ooo", [self.profiles[iface], device, "/"], write=True)

    def activate(self, iface: str) -> str:
        """Activate the interface's profile; returns the active-connection path
        (recorded for :meth:`wait`)."""
        ac = str(self.bus.call(self._activation(iface))[0])
        self.pending[iface] = ac
        return ac

    def _reapply(self, op: Op) -> None:
        dev = self.snap.devices.get(op.iface)
        if dev is None:
            self.activate(op.iface)
            return
        flags = REAPPLY_PRESERVE_EXTERNAL_IP if op.keep_external else 0
        try:
            self.bus.call(Call(dev["path"], DEVICE_IFACE, "Reapply", SETTINGS_SIG + "tu", [{}, 0, flags], write=True))
        except NmError as exc:
            if exc.dbus_error not in (INCOMPATIBLE, DEVICE_NOT_ACTIVE):
                raise
            if op.collateral and not self.allow_route_flush:
                raise NmError("NetworkManager cannot apply the change to %s live (%s), and re-activating it would "
                              "remove routes NetworkManager did not create: %s; set allow_route_flush: true to allow "
                              "that" % (op.iface, exc.message, ", ".join(op.collateral)), exc.dbus_error)
            # NM cannot apply this change live (or the device is between activations, e.g. someone ran
            # "nmcli connection up" a moment ago): re-activate (a short link flap)
            op.disruption = "reactivate"
            self.log.append("reapply refused for %s (%s): re-activating" % (op.iface, exc.message))
            self.activate(op.iface)

    # -- waiting
    def wait(self, timeout: float) -> Dict[str, str]:
        """Wait until every activation started here is activated or failed.

        Returns ``{iface: problem}`` for those that failed or did not finish
        within ``timeout`` seconds (empty when all are up)."""
        deadline = time.monotonic() + timeout
        pending = dict(self.pending)
        failed: Dict[str, str] = {}
        # Ask about the oldest pending activation only (NM works on all of them meanwhile) and move on as soon
        # as it is done: a few calls per poll instead of one per activation, which for hundreds of profiles
        # would keep NM busy answering instead of activating.
        while pending:
            name = next(iter(pending))
            if self._settled(name, pending, failed):
                continue
            if time.monotonic() > deadline:
                for name in list(pending):           # a last look at each, to tell failed from slow
                    if not self._settled(name, pending, failed):
                        failed[name] = "not activated within %.0f s" % timeout
                        del pending[name]
                break
            time.sleep(0.05)
        self.pending.clear()
        return failed

    def _settled(self, name: str, pending: Dict[str, str], failed: Dict[str, str]) -> bool:
        """Whether the activation of ``name`` is over (then it leaves ``pending``,
        and enters ``failed`` if NM deactivated it)."""
        try:
            state = int(self.bus.get(pending[name], ACTIVE_IFACE, "State"))
        except NmError:
            state = AC_DEACTIVATED   # the active connection is gone: NM gave it up
        if state == AC_ACTIVATED:
            del pending[name]
        elif state == AC_DEACTIVATED:
            failed[name] = "activation failed (NetworkManager deactivated it; see its log)"
            del pending[name]
        return name not in pending


def _comparable(settings: Dict[str, Any]) -> Dict[str, Any]:
    """Settings as plain values without ``connection.timestamp`` (NM moves it on
    activation, it is no edit)."""
    plain = unwrap(settings)
    con = dict(plain.get("connection", {}))
    con.pop("timestamp", None)
    return dict(plain, connection=con)


def await_device(bus: Bus, iface: str, timeout: float = 20.0) -> str:
    """The path of device ``iface`` once NetworkManager manages it: a veth
    peer appears with its veth, and shows as unmanaged for a moment before
    NM takes it (activating it then fails). Polls the device's state
    (bounded by ``timeout`` seconds); returns ``"/"`` when it never came, so
    the activation reports NM's own error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            path = str(bus.call(Call(NM_PATH, NM_IFACE, "GetDeviceByIpIface", "s", [iface]))[0])
            if int(bus.get(path, DEVICE_IFACE, "State")) > DEVICE_UNMANAGED:
                return path
        except NmError:
            pass  # not there yet
        if time.monotonic() > deadline:
            return "/"
        time.sleep(0.05)


def await_gone(bus: Bus, path: str, timeout: float = 20.0) -> None:
    """Wait (at most ``timeout`` seconds) until the device at ``path`` is gone
    or no longer real: NetworkManager took its deletion in."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not bus.get(path, DEVICE_IFACE, "Real"):
                return
        except NmError:
            return  # the device object is gone
        time.sleep(0.05)
