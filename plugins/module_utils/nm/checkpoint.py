# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager checkpoints: create, adjust, commit, roll back (with what
NM < 1.48 does not restore itself). Which checkpoint is ours is told by the
ledger (:mod:`.ledger`). Imported only when there is something to apply.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

from ..nmconst import (CONNECTION_IFACE, CP_DELETE_NEW_CONNECTIONS, CP_DISCONNECT_NEW_DEVICES,
                       CP_TRACK_INTERNAL_GLOBAL_DNS, NM_IFACE, NM_PATH, SETTINGS_SIG, UPDATE_IN_MEMORY_ONLY,
                       UPDATE_NO_REAPPLY)
from ..nmversion import NmVersion
from .dbus import PROPS, Bus, Call, Variant
from .version import read_version


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
        """The checkpoint of a ledger record (:func:`.ledger.ledger_read`)."""
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
        results: Dict[str, int] = self.bus.call(Call(NM_PATH, NM_IFACE, "CheckpointRollback", "o", [self.path],
                                                     write=True))[0]
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
        self.bus.gather([Call(p, CONNECTION_IFACE, "Update2", SETTINGS_SIG + "ua{sv}",
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
