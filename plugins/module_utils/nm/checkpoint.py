# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager checkpoints, and the ledger that tells ours from others'.

NM does not label checkpoints, so each run records the one it creates in
``/run/hostnet-nm/checkpoint.json`` (tmpfs: gone at reboot, like the
checkpoint). :func:`resolve_existing` uses it before a new apply: a
checkpoint left by a killed run of ours is rolled back, one that waited for a
confirmation that never came is rolled back, one created by
``hostnet.nm.checkpoint`` for a group of tasks is joined, and one that is not
ours is reported and never touched.

A change waiting for its confirmation still owns the host: until the
controller commits it or its rollback window ends, :func:`resolve_existing`
raises :class:`PendingConfirmation` (the next run waits for it or is
refused), so no run ever rolls back or commits another run's change.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import ConflictError
from .dbus import NM_PATH, PROPS, Bus, Call, Variant
from .version import NmVersion, read_version

NM_IFACE = "org.freedesktop.NetworkManager"
# NMCheckpointCreateFlags: remove profiles and devices created after the checkpoint on rollback
CP_DELETE_NEW_CONNECTIONS, CP_DISCONNECT_NEW_DEVICES = 0x2, 0x4
# ... and global DNS set over D-Bus (GlobalDnsConfiguration) is part of it (NM >= 1.48)
CP_TRACK_INTERNAL_GLOBAL_DNS = 0x20
# NMSettingsUpdate2Flags: keep the profile in memory only (its keyfile is deleted), leave the device as it is
UPDATE_IN_MEMORY_ONLY, UPDATE_NO_REAPPLY = 0x8, 0x40
CONNECTION_IFACE = NM_IFACE + ".Settings.Connection"
LEDGER = "/run/hostnet-nm/checkpoint.json"

APPLYING, PENDING, GROUP = "applying", "pending-confirm", "group"
#: seconds after a pending change's window ends before we roll back a checkpoint NM still has (NM's own timer
#: fires first; this covers a clock step or a stalled NM)
EXPIRY_GRACE = 5
#: the window of a pending change recorded without a rollback timeout (``0``: NM never rolls back)
DEFAULT_WINDOW = 60


class PendingConfirmation(ConflictError):
    """Another run's verified change waits for its confirmation from the
    controller: the host stays held until it is committed or its rollback
    window ends. ``until`` is that end (``time.time()`` seconds)."""

    def __init__(self, record: Dict[str, Any], until: float) -> None:
        super().__init__("another hostnet.nm run's change (checkpoint %s, apply %s) is waiting for its confirmation "
                         "from the controller for at most %d s more; nothing was changed. Run again once it is "
                         "confirmed or NetworkManager has rolled it back (with network_state, set lock_timeout "
                         "to wait for it)"
                         % (record["path"], record.get("apply_id") or "?", max(0, round(until - time.time()))),
                         {"pending_checkpoint": record["path"]})
        self.until = until


class Checkpoint:
    """An NM checkpoint covering all devices (empty device list), created with
    ``DELETE_NEW_CONNECTIONS | DISCONNECT_NEW_DEVICES`` so that profiles and
    devices created after it are removed on rollback, and on NM >= 1.48 with
    ``TRACK_INTERNAL_GLOBAL_DNS`` so that global DNS set over D-Bus is too. On
    older NM, :meth:`rollback` puts ``GlobalDnsConfiguration`` back itself
    (``global_dns``: its plain value at creation, kept in the ledger for a
    rollback by another run); NM's own rollback on timeout cannot. NM itself rolls back when ``timeout`` seconds pass without a
    commit (a dead module, a cut SSH session); 0 means never."""

    def __init__(self, bus: Bus, path: str, global_dns: Any = None, in_memory: Sequence[str] = ()) -> None:
        self.bus = bus
        self.path = path
        self.global_dns = global_dns
        self.in_memory = list(in_memory)

    @classmethod
    def create(cls, bus: Bus, timeout: int, nm: Optional[NmVersion] = None,
               in_memory: Sequence[str] = ()) -> "Checkpoint":
        """Create one; ``nm``: the running NetworkManager (read when not given);
        ``in_memory``: paths of the profiles that live in memory only (their
        ``Unsaved`` flag), which a rollback of NM < 1.48 writes to disk.
        Raises :class:`~..errors.NmError` (e.g. a device is already in another
        checkpoint)."""
        nm = nm or read_version(bus)
        flags = CP_DELETE_NEW_CONNECTIONS | CP_DISCONNECT_NEW_DEVICES
        global_dns = None
        if nm.checkpoint_tracks_global_dns:
            flags |= CP_TRACK_INTERNAL_GLOBAL_DNS
        else:
            global_dns = bus.get(NM_PATH, NM_IFACE, "GlobalDnsConfiguration")
        path = bus.call(Call(NM_PATH, NM_IFACE, "CheckpointCreate", "aouu", [[], int(timeout), flags],
                             write=True))[0]
        return cls(bus, path, global_dns, [] if nm.checkpoint_keeps_memory_profiles else in_memory)

    @classmethod
    def recorded(cls, bus: Bus, record: Dict[str, Any]) -> "Checkpoint":
        """The checkpoint of a ledger record (:func:`ledger_read`)."""
        return cls(bus, record["path"], record.get("global_dns"), record.get("in_memory") or ())

    def exists(self) -> bool:
        """Whether NM still has it (it is gone after a commit, a rollback, or
        NM's own rollback on timeout)."""
        return self.path in self.bus.get(NM_PATH, NM_IFACE, "Checkpoints")

    def adjust(self, timeout: int) -> None:
        """Restart its rollback timer at ``timeout`` seconds from now."""
        self.bus.call(Call(NM_PATH, NM_IFACE, "CheckpointAdjustRollbackTimeout", "ou", [self.path, int(timeout)],
                           write=True))

    def commit(self) -> None:
        """Keep the changes: destroy the checkpoint."""
        self.bus.call(Call(NM_PATH, NM_IFACE, "CheckpointDestroy", "o", [self.path], write=True))

    def rollback(self) -> Dict[str, int]:
        """Restore the state at creation. Returns ``{device path: result}``
        (0 = success, NMRollbackResult)."""
        results = self.bus.call(Call(NM_PATH, NM_IFACE, "CheckpointRollback", "o", [self.path], write=True))[0]
        self._back_global_dns()
        self._back_to_memory()
        return results

    def _back_global_dns(self) -> None:
        """Global DNS as it was at creation (NM < 1.48: the checkpoint does not cover it)."""
        if self.global_dns is None or self.global_dns == self.bus.get(NM_PATH, NM_IFACE, "GlobalDnsConfiguration"):
            return
        self.bus.call(Call(NM_PATH, PROPS, "Set", "ssv",
                           [NM_IFACE, "GlobalDnsConfiguration", global_dns_variant(self.global_dns)], write=True))

    def _back_to_memory(self) -> None:
        """Profiles that were in memory only and that the rollback wrote to disk go
        back to memory, their keyfile deleted (NM < 1.48)."""
        saved = [p for p, unsaved in zip(self.in_memory, self.bus.gather(
            [Call(p, PROPS, "Get", "ss", [CONNECTION_IFACE, "Unsaved"]) for p in self.in_memory],
            return_errors=True)) if unsaved == [False]]  # (an error: the profile is gone, as before)
        if not saved:
            return
        raws = self.bus.gather([Call(p, CONNECTION_IFACE, "GetSettings") for p in saved], raw=True)
        self.bus.gather([Call(p, CONNECTION_IFACE, "Update2", "a{sa{sv}}ua{sv}",
                              [raw[0], UPDATE_IN_MEMORY_ONLY | UPDATE_NO_REAPPLY, {}], write=True)
                         for p, raw in zip(saved, raws)])


def global_dns_variant(config: Dict[str, Any]) -> Variant:
    """``GlobalDnsConfiguration`` (plain: ``{"searches": [...], "options": [...],
    "domains": {name: {"servers": [...], "options": [...]}}}``) with its D-Bus
    signatures, to set it back."""
    def strings(section: Dict[str, Any]) -> Dict[str, Variant]:
        return {k: Variant("as", list(v)) for k, v in section.items() if k != "domains"}
    out: Dict[str, Variant] = strings(config)
    if "domains" in config:
        out["domains"] = Variant("a{sv}", {name: Variant("a{sv}", strings(dom))
                                           for name, dom in config["domains"].items()})
    return Variant("a{sv}", out)


# ------------------------------------------------------------------ ledger

def ledger_read(path: str = LEDGER) -> Optional[Dict[str, Any]]:
    """The recorded checkpoint: ``{"path", "state", "pid", "created",
    "timeout", "apply_id"}`` or ``None``."""
    try:
        with open(path) as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) and data.get("path") else None
    except (OSError, ValueError):
        return None


def ledger_write(checkpoint: Any, state: str, timeout: int, apply_id: str = "", path: str = LEDGER) -> None:
    """Record ``checkpoint`` (a :class:`Checkpoint`) as ours, in ``state`` (applying,
    pending-confirm or group), for the apply ``apply_id``, with what its rollback
    restores itself on NM < 1.48 (global DNS, in-memory profiles), so that another
    run can roll it back. Written atomically, root-only."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = "%s.%d" % (path, os.getpid())
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump({"path": checkpoint.path, "state": state, "pid": os.getpid(), "created": time.time(),
                   "timeout": int(timeout), "apply_id": apply_id, "global_dns": checkpoint.global_dns,
                   "in_memory": checkpoint.in_memory}, handle)
    os.replace(tmp, path)


def ledger_clear(path: str = LEDGER) -> None:
    """Forget the recorded checkpoint."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def pending_until(record: Dict[str, Any]) -> float:
    """When the window of a change recorded as pending ends (``time.time()``
    seconds): NM rolls it back by then unless the controller commits it."""
    return float(record.get("created", 0)) + (int(record.get("timeout") or 0) or DEFAULT_WINDOW) + EXPIRY_GRACE


def resolve_existing(bus: Bus, ledger: str = LEDGER) -> Tuple[Optional[Checkpoint], List[str]]:
    """Deal with checkpoints found before a new apply (call it under the
    host lock).

    Returns ``(group checkpoint to join or None, notes for the result)``.

    Raises:
        PendingConfirmation: another run's change waits for its confirmation
            and its window has not ended (retry, or give up).
        ConflictError: a checkpoint that is not ours exists (it is reported
            with its timeout, never destroyed), or ours is still being
            applied by a live process.
    """
    notes: List[str] = []
    record = ledger_read(ledger)
    present = list(bus.get(NM_PATH, NM_IFACE, "Checkpoints"))
    if record and record["path"] not in present:
        if record.get("state") == PENDING:
            notes.append("the previous change (checkpoint %s) was never confirmed: NetworkManager rolled it back "
                         "when its %s s window expired" % (record["path"], record.get("timeout")))
        elif record.get("state") == APPLYING:
            notes.append("a previous run (pid %s) died during its apply; NetworkManager rolled its change back"
                         % record.get("pid"))
        ledger_clear(ledger)
        record = None
    for path in present:
        if record is None or path != record["path"]:
            raise ConflictError("NetworkManager checkpoint %s was not created by hostnet.nm (another tool, such as "
                                "nmstate or nmcli, is changing this host); nothing was changed. Wait for its owner "
                                "to commit it or for its rollback timeout to expire" % path,
                                {"foreign_checkpoints": present})
        state = record.get("state")
        if state == GROUP:
            return Checkpoint.recorded(bus, record), notes
        if state == APPLYING and record.get("pid") != os.getpid() and _alive(int(record.get("pid", 0))):
            raise ConflictError("checkpoint %s belongs to a hostnet.nm run that is still applying (pid %s)"
                                % (path, record.get("pid")))
        if state == PENDING and time.time() < pending_until(record):
            raise PendingConfirmation(record, pending_until(record))
        Checkpoint.recorded(bus, record).rollback()
        ledger_clear(ledger)
        notes.append("rolled back checkpoint %s left by %s" % (
            path, "a killed run (pid %s)" % record.get("pid") if state == APPLYING
            else "a change that was never confirmed"))
    return None, notes
