# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ledger that tells our NetworkManager checkpoints from others'.

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

import os
import time
from typing import TYPE_CHECKING, Any, Dict, List, Literal, Optional, Tuple

from ..errors import ConflictError
from ..files import process_alive, read_json, write_json
from ..nmconst import NM_IFACE, NM_PATH
from .dbus import Bus

if TYPE_CHECKING:  # the checkpoint code is imported when there is something to apply
    from .checkpoint import Checkpoint

LEDGER = "/run/hostnet-nm/checkpoint.json"

#: what a recorded checkpoint is for: a run applying now, a verified change waiting for the controller's
#: confirmation, a group of tasks (``hostnet.nm.checkpoint``)
LedgerState = Literal["applying", "pending-confirm", "group"]
APPLYING: LedgerState = "applying"
PENDING: LedgerState = "pending-confirm"
GROUP: LedgerState = "group"
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


def ledger_read(path: str = LEDGER) -> Optional[Dict[str, Any]]:
    """The recorded checkpoint: ``{"path", "state", "pid", "created",
    "timeout", "apply_id"}`` or ``None``."""
    data = read_json(path)
    return data if isinstance(data, dict) and data.get("path") else None


def ledger_write(checkpoint: Checkpoint, state: LedgerState, timeout: int, apply_id: str = "",
                 path: str = LEDGER, hostname: Optional[Dict[str, str]] = None) -> None:
    """Record ``checkpoint`` (a :class:`Checkpoint`) as ours, in ``state`` (applying,
    pending-confirm or group), for the apply ``apply_id``, with what its rollback
    restores itself on NM < 1.48 (global DNS, in-memory profiles), so that another
    run can roll it back, and the host name (``{"config", "running"}``, the keys
    that change) to write once the checkpoint is committed: a checkpoint that is
    rolled back or expires never writes it. Written atomically, root-only."""
    write_json(path, {"path": checkpoint.path, "state": state, "pid": os.getpid(), "created": time.time(),
                      "timeout": int(timeout), "apply_id": apply_id, "global_dns": checkpoint.global_dns,
                      "in_memory": checkpoint.in_memory, "hostname": dict(hostname or {})})


def ledger_defer_hostname(hostname: Dict[str, str], path: str = LEDGER) -> None:
    """Add ``hostname`` (``{"config", "running"}``) to the recorded checkpoint's
    host name to write at its commit (a task of a group: a later task's keys
    win). Nothing recorded: nothing to do (the caller holds a checkpoint)."""
    record = ledger_read(path)
    if record is not None:
        record["hostname"] = dict(record.get("hostname") or {}, **hostname)
        write_json(path, record)


def ledger_clear(path: str = LEDGER) -> None:
    """Forget the recorded checkpoint."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


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
            return _recorded(bus, record), notes
        if state == APPLYING and record.get("pid") != os.getpid() and process_alive(int(record.get("pid", 0))):
            raise ConflictError("checkpoint %s belongs to a hostnet.nm run that is still applying (pid %s)"
                                % (path, record.get("pid")))
        if state == PENDING and time.time() < pending_until(record):
            raise PendingConfirmation(record, pending_until(record))
        _recorded(bus, record).rollback()
        ledger_clear(ledger)
        notes.append("rolled back checkpoint %s left by %s" % (
            path, "a killed run (pid %s)" % record.get("pid") if state == APPLYING
            else "a change that was never confirmed"))
    return None, notes


def _recorded(bus: Bus, record: Dict[str, Any]) -> Checkpoint:
    """The checkpoint of ``record``: the checkpoint code is imported here, when one is found, not on the
    no-op path."""
    from . import checkpoint
    return checkpoint.Checkpoint.recorded(bus, record)
