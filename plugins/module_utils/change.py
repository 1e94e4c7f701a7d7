# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changes the host, once :mod:`.transaction` has a plan that changes
something:

    checkpoint -> write -> activate -> wait -> verify -> probes
    -> commit (or leave it pending for the controller), or roll back

and the ``hostnet.nm.checkpoint`` module's commit and rollback. Imported only
when there is something to apply: a run that changes nothing never loads
the writer, the checkpoint, the restore or the probes.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any, Dict, List, Optional, Tuple

from . import model, options as bounds, probes
from .errors import (ConflictError, DependencyError, HostnetError, InvalidStateError, NmError, VerificationError,
                     shown)
from .files import read_json, read_text, write_json
from .nm import hostname as nm_hostname, kernel, reader
from .nm.checkpoint import Checkpoint
from .nm.dbus import Bus
from .nm.ledger import (APPLYING, GROUP, PENDING, ledger_clear, ledger_defer_hostname, ledger_read, ledger_write,
                        resolve_existing)
from .nm.restore import as_json, forget, host_view, load, repair, save, settle
from .nm.writer import Writer
from .nmconst import FLAG_UNSAVED
from .plan import Plan
from .snapshot import Snapshot
from .transaction import HostLock, Options, Timer
from .verify import mismatches, resolv_conf_servers, restore_differences

#: seconds a confirmation waits for the lock (a waiting run takes it for a moment now and then)
CONFIRM_LOCK_WAIT = 10
LAST_RESULT = "/run/hostnet-nm/last-result.json"
#: the state before a change that waits for its confirmation (to restore it if NetworkManager loses the checkpoint)
BEFORE = "/run/hostnet-nm/before.json"
#: how long a rollback waits for the host to be back before repairing it (seconds)
RESTORE_PATIENCE = 10.0
#: how long a commit of the hostnet.nm.checkpoint module waits for the host to report the host name (seconds)
HOSTNAME_PATIENCE = 10.0


def _probe(options: Options, timer: Timer) -> List[Dict[str, Any]]:
    """Run the probes against what the host has right now."""
    if not options.probes_enabled:
        return []
    controller = probes.controller_address(options.environ) if options.probes.controller else None
    out = probes.run_probes(options.probes, resolv_conf_servers(read_text(options.resolv_conf)),
                            probes.read_default_gateways(), controller)
    timer.lap("probe")
    return out


class Undo:
    """What a rollback needs: the ``checkpoint`` (ours or a joined group's),
    the snapshot read ``before`` the apply and its :func:`~.nm.restore.host_view`
    (``view``), and ``window_end`` (monotonic seconds) when NetworkManager's
    own rollback timer fires (infinite for a group's checkpoint)."""

    def __init__(self, checkpoint: Checkpoint, before: Snapshot, view: Dict[str, Any],
                 timeout: int) -> None:
        self.checkpoint, self.before, self.view = checkpoint, before, view
        self.window_end = time.monotonic() + timeout
        self.kernel_rules: List[Dict[str, Any]] = []  # rules removed with ip rule (no checkpoint covers them)
        self.committed = False  # our checkpoint was committed (what no checkpoint covers may follow)

    @property
    def group(self) -> bool:
        """Whether the checkpoint is a group's (``hostnet.nm.checkpoint``): its owner holds its window
        and commits it."""
        return self.window_end == float("inf")

    def restart_window(self, timeout: int) -> None:
        """NM's window restarted at ``timeout`` seconds from now."""
        self.checkpoint.adjust(timeout)
        self.window_end = time.monotonic() + timeout

    def keep_window(self, timeout: int) -> bool:
        """Between writes: once less than half of NetworkManager's window
        is left, restart it at ``timeout`` seconds, so that a long apply (many
        profiles) never writes outside its checkpoint; a run that dies stops
        doing so and NetworkManager rolls back ``timeout`` seconds after its
        last write. ``False`` when the checkpoint is gone by then (its
        window ran out while this run could not write, or NetworkManager
        lost it): nothing more may be written."""
        if self.window_end == float("inf") or self.window_end - time.monotonic() >= timeout / 2:
            return True
        if not self.checkpoint.exists():
            return False
        self.restart_window(timeout)
        return True

    def vanished(self) -> str:
        """Why the checkpoint is gone although nobody here committed or
        rolled it back: its window ran out, or NetworkManager lost it."""
        if time.monotonic() >= self.window_end - 1:
            return "rolled back by timeout: NetworkManager's checkpoint expired before the commit (raise " \
                   "rollback_timeout for slow activations)"
        return "NetworkManager lost the checkpoint before its window ended (NetworkManager restarted or crashed, " \
               "or another tool removed it), so it could not roll the change back"


def run(bus: Bus, snap: Snapshot, plan: Plan, options: Options, timer: Timer,
        result: Dict[str, Any], group: Optional[Checkpoint] = None) -> None:
    """Apply ``plan`` inside a checkpoint (``group``'s when one is joined),
    verify and probe it, then commit (or leave it pending with ``confirm``);
    on any failure roll back and compare the host with ``snap``. Fills
    ``result`` (see :func:`.transaction.apply`). The plan's host name is
    written after the commit, never inside the checkpoint's window (see
    :func:`_finish`); a plan of only a host name makes no checkpoint.

    Raises:
        ConflictError: no checkpoint could be created (nothing changed).
        VerificationError: activation, verification or a probe failed, or the
            checkpoint vanished; the change was rolled back. Also: the host
            does not report the host name written after the commit.
        NmError: NetworkManager or the kernel refused the host name (after the commit).
        HostnetError: another failure, after the rollback.
    """
    if not plan.network_changed:  # only the host name: no checkpoint covers it, so none is made
        _hostname_only(bus, plan, options, result, group)
        return
    baseline = _probe(options, timer)
    undo = _open_checkpoint(bus, snap, options, result, group)
    try:
        _apply_and_judge(bus, snap, plan, options, timer, result, undo, baseline)
    except HostnetError as exc:
        if "rollback_reason" not in result:
            _rollback(bus, undo, options, result, exc.message, [])
            exc.message = _outcome(result)
        result.update({k: v for k, v in exc.result.items() if k not in result})
        exc.result = result
        raise
    except Exception:
        _rollback(bus, undo, options, result, "internal error", [])
        raise
    if undo.committed and plan.hostname is not None:  # outside the rollback's reach: the network change stays
        set_hostname(bus, dict(plan.hostname.after), options.verify_timeout, result, committed=True)


def _open_checkpoint(bus: Bus, snap: Snapshot, options: Options, result: Dict[str, Any],
                     group: Optional[Checkpoint]) -> Undo:
    """Join ``group``, or create our checkpoint and record it in the ledger."""
    view = host_view(snap, read_text(options.resolv_conf))
    if group is not None:
        result["checkpoint"] = group.path
        result["warnings"].append("joined the group checkpoint %s (commit it with hostnet.nm.checkpoint)"
                                  % group.path)
        undo = Undo(group, snap, view, 0)
        undo.window_end = float("inf")  # the group's owner holds its window
        return undo
    try:
        checkpoint = Checkpoint.create(bus, options.rollback_timeout, snap.nm,
                                       [p.path for p in snap.profiles if p.flags & FLAG_UNSAVED])
    except NmError as exc:
        raise ConflictError("cannot create a NetworkManager checkpoint, nothing was changed: %s. Another tool "
                            "may hold one (nmcli/nmstate); see the Checkpoints property" % exc.message, result)
    ledger_write(checkpoint, APPLYING, options.rollback_timeout, options.apply_id)
    result["checkpoint"] = checkpoint.path
    return Undo(checkpoint, snap, view, options.rollback_timeout)


def _apply_and_judge(bus: Bus, snap: Snapshot, plan: Plan, options: Options, timer: Timer,
                     result: Dict[str, Any], undo: Undo, baseline: List[Dict[str, Any]]) -> None:
    """Write, wait, verify and probe; roll back when any of it fails, else
    commit (see :func:`run`)."""
    failed = _write(bus, snap, plan, options, timer, result, undo)
    problems = _verify(bus, plan, options) if not failed else []
    timer.lap("verify")
    reason = ""
    if failed:
        reason = "; ".join("%s: %s" % kv for kv in sorted(failed.items()))
    elif problems:
        reason = "verification failed: " + mismatch_summary(problems)
    else:
        reason = _probe_after(plan, options, timer, result, baseline)
    if reason:
        _rollback(bus, undo, options, result, reason, problems)
        raise VerificationError(_outcome(result), result)
    if not undo.checkpoint.exists():
        raise _gone(bus, undo, options, result)
    _finish(undo, plan, options, timer, result)


def _write(bus: Bus, snap: Snapshot, plan: Plan, options: Options, timer: Timer,
           result: Dict[str, Any], undo: Undo) -> Dict[str, str]:
    """Run the plan's operations (never a write outside the checkpoint) and
    wait for the activations; returns ``{interface: problem}`` of those that
    failed. Our checkpoint's window then restarts to cover verification."""
    def guard() -> None:  # before each write: never one outside the checkpoint
        if not undo.keep_window(options.rollback_timeout):
            raise _gone(bus, undo, options, result)

    writer = Writer(bus, snap, options.persistent, guard, options.allow_route_flush)
    writer.run(plan.ops)
    _remove_kernel_rules(plan, undo)
    timer.lap("write")
    failed = writer.wait(options.wait_timeout)
    failed.update(_converge(bus, writer, plan, options))
    timer.lap("activate")
    if not undo.checkpoint.exists():
        raise _gone(bus, undo, options, result)
    if not undo.group:
        undo.restart_window(options.rollback_timeout)  # the window covers verification, not only the writes
    return failed


def _remove_kernel_rules(plan: Plan, undo: Undo) -> None:
    """Remove the routing rules no profile holds that the document makes
    absent (``ip rule del``: NetworkManager has no call for them), each
    recorded in ``undo`` once gone, for a rollback to add back.

    Raises:
        NmError: the kernel refused (the caller rolls back).
    """
    for rule in plan.kernel_rules_removed:
        try:
            kernel.change_rule("del", rule)
        except (DependencyError, subprocess.CalledProcessError) as exc:
            raise NmError("cannot remove routing rule %s (no NetworkManager profile holds it): %s" % (
                " ".join(kernel.rule_argv(rule)[3:]), getattr(exc, "stderr", "") or exc))
        undo.kernel_rules.append(rule)


def _restore_kernel_rules(undo: Undo, result: Dict[str, Any]) -> None:
    """A rollback: add back the rules :func:`_remove_kernel_rules` removed
    (NetworkManager's checkpoint does not cover them)."""
    for rule in undo.kernel_rules:
        try:
            kernel.change_rule("add", rule)
        except (DependencyError, subprocess.CalledProcessError) as exc:
            result["rollback_error"] = "cannot add back routing rule %s: %s" % (
                " ".join(kernel.rule_argv(rule)[3:]), getattr(exc, "stderr", "") or exc)
    undo.kernel_rules = []


def _probe_after(plan: Plan, options: Options, timer: Timer, result: Dict[str, Any],
                 baseline: List[Dict[str, Any]]) -> str:
    """Probe the changed host; ``result["probes"]`` gets the outcomes. Returns
    why the change must go (a probe that passed before fails now), or ``""``."""
    after = _probe(options, timer)
    if not plan.target["dns-resolver"]["server"]:
        # the document leaves the host without a name server: that is no failure of the change
        after = [p for p in after if not (p["kind"] == "dns" and not p["target"])]
    result["probes"], blocking = probes.compare_with_baseline(baseline, after)
    if not blocking:
        return ""
    return "probe failed: " + "; ".join("%s (%s)" % (p["name"], p["detail"]) for p in blocking)


def _finish(undo: Undo, plan: Plan, options: Options, timer: Timer, result: Dict[str, Any]) -> None:
    """The change verified: a group's checkpoint is left to its owner; with
    ``confirm`` ours waits for the controller (the state before is kept for
    a restore); else it is committed. The plan's host name is written only
    after the commit: by whoever commits the group's or the pending
    checkpoint (the ledger holds it), else by :func:`run` once committed."""
    after = dict(plan.hostname.after) if plan.hostname is not None else {}
    if undo.group:
        _defer_hostname(after, result)
        return
    if options.confirm:
        save(BEFORE, undo.before, undo.view)
        ledger_write(undo.checkpoint, PENDING, options.rollback_timeout, options.apply_id, hostname=after)
        result.update(confirm_pending=True, apply_id=options.apply_id)
        if after:
            result["hostname_pending"] = after
        return
    undo.checkpoint.commit()
    undo.committed = True
    ledger_clear()
    timer.lap("commit")


def _hostname_only(bus: Bus, plan: Plan, options: Options, result: Dict[str, Any],
                   group: Optional[Checkpoint]) -> None:
    """A plan that changes only the host name: within a group it waits for
    the group's commit, else it is written now (there is no network change
    to wait for, and nothing a checkpoint would cover)."""
    after = dict(plan.hostname.after) if plan.hostname is not None else {}
    if group is not None:
        result["checkpoint"] = group.path
        _defer_hostname(after, result)
    else:
        set_hostname(bus, after, options.verify_timeout, result, committed=False)


def _defer_hostname(after: Dict[str, str], result: Dict[str, Any]) -> None:
    """Leave ``after`` to the commit of the group checkpoint (recorded with it)."""
    if after:
        ledger_defer_hostname(after)
        result["hostname_pending"] = after
        result["warnings"].append("the host name is written when the group checkpoint is committed "
                                  "(hostnet.nm.checkpoint state=commit), never if it is rolled back")


def set_hostname(bus: Bus, after: Dict[str, str], timeout: float, result: Dict[str, Any], committed: bool) -> None:
    """Write the host name ``after`` (:func:`.nm.hostname.write`) and put what
    the host reports into ``result["hostname"]``; ``committed``: a network
    change was committed just before (the failure's message says so: it stays).

    Raises:
        NmError, VerificationError: the host did not take the name (the
            exception's ``result`` is ``result``).
    """
    try:
        result["hostname"] = nm_hostname.write(bus, after, timeout)
    except HostnetError as exc:
        if committed:
            exc.message = "the network change was committed, but the host name was not set: %s" % exc.message
        result.update({k: v for k, v in exc.result.items() if k not in result})
        exc.result = result
        raise


def _gone(bus: Bus, undo: Undo, options: Options, result: Dict[str, Any]) -> VerificationError:
    """The checkpoint vanished before the commit: put the host back and say
    what happened, never report success."""
    _rollback(bus, undo, options, result, undo.vanished(), [])
    return VerificationError(_outcome(result), result)


def _outcome(result: Dict[str, Any]) -> str:
    """The task's message after a rollback: why, and whether the host is back."""
    reason = result["rollback_reason"]
    if result.get("rolled_back"):
        return "the change was rolled back: %s" % reason
    if result.get("restored"):
        return "nothing was changed: %s" % reason
    return "the change could NOT be fully rolled back (%s); what differs from before the apply: %s" % (
        reason, "; ".join("%s: before %r, now %r" % (d["what"], d["before"], d["now"])
                          for d in result.get("differences", [])[:10]) or result.get("rollback_error", "?"))


def detach(lock: HostLock, bus: Bus, snap: Snapshot, plan: Plan, options: Options, timer: Timer,
           result: Dict[str, Any], group: Optional[Checkpoint]) -> None:
    """The change moves the controller's own address: this SSH session will
    die with it, so return now and apply from a detached child process that
    leaves the checkpoint pending. The controller reconnects to the new
    address and commits (``hostnet.nm.checkpoint``); if it cannot within
    ``rollback_timeout``, NetworkManager restores the old address by itself.
    The child writes its result to ``/run/hostnet-nm/last-result.json``."""
    result.update(detached=True, confirm_pending=True, result_file=LAST_RESULT, apply_id=options.apply_id)
    pid = os.fork()
    if pid:
        lock.hand_over()  # the child keeps the lock
        return
    try:  # the child: no Ansible, no stdout, its own session
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        time.sleep(1.0)  # let the parent's answer reach the controller before the address moves
        move = result["management_move"]
        conn = options.environ.get("SSH_CONNECTION", "").split()
        if move.get("new") and len(conn) == 4:
            # the controller will come back on the new address: that is the one to probe
            options.environ["SSH_CONNECTION"] = " ".join(conn[:2] + [move["new"], conn[3]])
        child_bus = Bus(options.bus_address)
        outcome: Dict[str, Any] = dict(result, detached=False)
        try:
            run(child_bus, reader.read_snapshot(child_bus), plan, options, timer, outcome, group)
        except HostnetError as exc:
            outcome = dict(exc.result, failed=True, msg=exc.message)
        except Exception as exc:  # the child has no one to tell but the result file
            outcome = dict(outcome, failed=True, msg="internal error: %s: %s" % (type(exc).__name__, exc))
        outcome.update(writes=child_bus.writes, apply_id=options.apply_id)
        write_json(LAST_RESULT, outcome)
    finally:
        os._exit(0)


def _converge(bus: Bus, writer: Writer, plan: Plan, options: Options) -> Dict[str, str]:
    """Second pass: activate what should be up but is not (ports that went
    down with a re-activated controller), then wait for them."""
    snap = reader.read_snapshot(bus)
    writer.snap = snap
    for name, iface in plan.target["interfaces"].items():
        prof = snap.chosen.get(name)
        if iface.get("state") == "up" and prof is not None and not prof.active:
            writer.profiles[name] = prof.path
            writer.activate(name)
    return writer.wait(options.wait_timeout)


def _verify(bus: Bus, plan: Plan, options: Options) -> List[Dict[str, Any]]:
    """Compare the live state with the target until it matches or
    ``verify_timeout`` passes; returns the last list of mismatches."""
    names = {op.iface for op in plan.ops}
    want_dns = plan.dns_owner is not None  # DNS changes, or moves to another profile
    check_routes = plan.current["routes"] != plan.target["routes"] or bool(names)
    kept = {model.route_key(r) for r in plan.target["routes"]}
    gone = [r for r in plan.current["routes"] if model.route_key(r) not in kept]
    deadline = time.monotonic() + options.verify_timeout
    while True:
        snap = reader.read_snapshot(bus)
        saved = reader.current_state(snap)
        live = reader.live_state(snap)
        servers = resolv_conf_servers(read_text(options.resolv_conf)) if want_dns else None
        typed = reader.typed_routes(plan.target["routes"], gone) if check_routes else None
        problems = mismatches(plan.target, saved, live, snap.chosen.keys(), names, check_routes, servers, want_dns,
                              gone, plan.desired.get("interfaces", {}), typed)
        if not problems or time.monotonic() >= deadline:
            return problems
        time.sleep(0.2)


#: mismatches quoted in a failed run's message; the result's ``mismatches`` holds them all
SHOWN_MISMATCHES = 5


def mismatch_summary(problems: List[Dict[str, Any]]) -> str:
    """The first :data:`SHOWN_MISMATCHES` of ``problems`` (``[{"what",
    "desired", "actual"}]``) for a message, values quoted short
    (:func:`~.errors.shown`), and how many more the result lists."""
    parts = ["%s: desired %s, actual %s" % (p["what"], shown(p["desired"]), shown(p["actual"]))
             for p in problems[:SHOWN_MISMATCHES]]
    if len(problems) > SHOWN_MISMATCHES:
        parts.append("and %d more (the result's mismatches lists them)" % (len(problems) - SHOWN_MISMATCHES))
    return "; ".join(parts)


def _rollback(bus: Bus, undo: Undo, options: Options, result: Dict[str, Any], reason: str,
              problems: List[Dict[str, Any]]) -> None:
    """Roll back through the checkpoint when NetworkManager still has it,
    then wait for the devices and compare the host with the state before the
    apply; repair what differs (:func:`~.nm.restore.repair`). When the bus
    closed our connection (a message it refused), a new one does it.

    Sets ``rolled_back`` (true only when something was undone and the host
    compared equal), ``rollback_reason``, ``restored``, ``changed`` (false
    when the host compared equal: nothing of the change is left) and, when the host
    is not back, ``differences`` (``[{"what", "before", "now"}]``) and
    ``repairs`` (the D-Bus calls made to put it back)."""
    if bus.lost:
        try:
            bus = bus.reopen()
        except HostnetError as exc:
            result.update(rollback_error=exc.message, rollback_reason=reason, restored=False)
            return
        undo.checkpoint = Checkpoint(bus, undo.checkpoint.path, undo.checkpoint.global_dns, undo.checkpoint.in_memory)
    undone = False
    try:
        if _checkpoint_exists(undo.checkpoint, options.wait_timeout):
            undo.checkpoint.rollback()
            undone = True
        elif reason.startswith("rolled back by timeout"):
            undone = True  # NetworkManager's own timer did it
        elif not reason.startswith("NetworkManager lost"):
            reason = "%s; and %s" % (reason, undo.vanished())
    except HostnetError as exc:
        result["rollback_error"] = exc.message
    ledger_clear()
    _restore_kernel_rules(undo, result)
    result["rollback_reason"] = reason
    if problems:
        result["mismatches"] = problems
    repairs: List[str] = []
    try:
        diffs = _compare(bus, undo, options, RESTORE_PATIENCE)
        for live_only in (False, True):
            if diffs:
                repairs += repair(bus, undo.before, reader.read_snapshot(bus), live_only=live_only)
                diffs = _compare(bus, undo, options, options.wait_timeout)
    except HostnetError as exc:
        result["rollback_error"] = exc.message
        diffs = [{"what": "host", "before": "as read before the apply", "now": "unknown: %s" % exc.message}]
    if repairs:
        result["repairs"] = repairs
    result["restored"] = not diffs
    result["changed"] = bool(diffs)  # what is true of the host: a change undone to the last detail is none
    result["rolled_back"] = bool(undone or repairs) and not diffs
    if diffs:
        result["differences"] = diffs


def _checkpoint_exists(checkpoint: Checkpoint, timeout: float) -> bool:
    """Whether NM still has ``checkpoint``; waits up to ``timeout`` seconds
    for a NetworkManager that is restarting to answer."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return checkpoint.exists()
        except NmError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def _compare(bus: Bus, undo: Undo, options: Options, patience: float) -> List[Dict[str, Any]]:
    """Differences between the host now (once its devices settled) and before
    the apply, retried for up to ``patience`` seconds while only the live
    state differs (NM re-activates and rewrites resolv.conf after a rollback
    returns); a profile that differs ends the wait at once."""
    deadline = time.monotonic() + patience
    while True:
        now = settle(bus, undo.before, max(1.0, deadline - time.monotonic()), read_text)
        diffs = restore_differences(as_json(undo.view), as_json(host_view(now, read_text(options.resolv_conf))))
        if not diffs or time.monotonic() >= deadline or any(d["what"].startswith("profile") for d in diffs):
            return diffs
        time.sleep(0.3)


def checkpoint_action(state: str, path: str = "auto", rollback_timeout: int = 60, wait: float = 0,
                      apply_id: str = "", bus_address: Optional[str] = None) -> Dict[str, Any]:
    """``hostnet.nm.checkpoint``: ``create`` a group checkpoint (later
    network_state runs join it), or ``commit`` / ``rollback`` one.

    ``path`` ``"auto"`` means the checkpoint hostnet.nm recorded on this host
    (a group, or a change waiting for confirmation). ``apply_id`` ties the
    call to one apply; with ``wait`` (seconds) it waits for a detached apply
    (one that moved the controller's address) to reach its pending state.

    Returns ``{"changed", "checkpoint", "state", "apply_result"}``.

    Raises:
        InvalidStateError: ``rollback_timeout`` or ``wait`` is outside its
            bounds (:mod:`.options`); nothing was touched.
        ConflictError: nothing of ours to commit or roll back, or a checkpoint
            that is not ours was named.
        VerificationError: the apply failed and rolled back, or the
            checkpoint expired (NM rolled back) before the commit.
    """
    problems = bounds.check({"rollback_timeout": rollback_timeout, "wait": wait})
    if problems:
        raise InvalidStateError(problems)
    bus = Bus(bus_address)
    try:
        if state == "create":
            return _create_group(bus, rollback_timeout)
        return _settle_pending(bus, state, path, apply_id, wait)
    finally:
        bus.close()


def _create_group(bus: Bus, rollback_timeout: int) -> Dict[str, Any]:
    """Create a group checkpoint, or return the one already recorded."""
    lock = HostLock(0)
    try:
        group, notes = lock.acquire(lambda: resolve_existing(bus)) or (None, [])
        if group is not None:
            return {"changed": False, "checkpoint": group.path, "state": GROUP, "warnings": notes}
        cp = Checkpoint.create(bus, rollback_timeout)
        ledger_write(cp, GROUP, rollback_timeout)
        return {"changed": True, "checkpoint": cp.path, "state": GROUP, "warnings": notes}
    finally:
        lock.release()


def _settle_pending(bus: Bus, state: str, path: str, apply_id: str, wait: float) -> Dict[str, Any]:
    """Commit or roll back the recorded checkpoint (see :func:`checkpoint_action`)."""
    _wait_for_pending(apply_id, wait)
    # under the lock: a run waiting for this change takes it now and then, and must never see it half done
    lock = HostLock(CONFIRM_LOCK_WAIT)
    try:
        lock.acquire()
        cp, record, last = _pending_checkpoint(bus, path, apply_id)
        if state == "commit":
            cp.commit()
        else:
            cp.rollback()
        ledger_clear()
        forget(BEFORE)
        out = {"changed": True, "checkpoint": cp.path, "state": state, "apply_result": last}
        if state == "commit" and record.get("hostname"):  # never before the commit: no checkpoint covers it
            set_hostname(bus, record["hostname"], HOSTNAME_PATIENCE, out, committed=True)
        return out
    finally:
        lock.release()


def _pending_checkpoint(bus: Bus, path: str, apply_id: str) -> Tuple[Checkpoint, Dict[str, Any], Any]:
    """``(checkpoint, its ledger record, last detached result or None)`` of the change waiting for its
    confirmation.

    Raises:
        VerificationError: the apply failed and rolled back, or NetworkManager no longer has the
            checkpoint (the host was put back as it was before).
        ConflictError: nothing is pending, or ``path`` names a checkpoint that is not ours.
    """
    record, last = _wait_for_pending(apply_id, 0)
    if record is None:
        if last and last.get("failed"):
            raise VerificationError("the change was rolled back on the host: %s" % (
                last.get("rollback_reason") or last.get("msg")), {"apply_result": last})
        raise ConflictError("no pending hostnet.nm checkpoint on this host: it was committed, rolled back, or "
                            "expired (NetworkManager rolls back after rollback_timeout)", {"apply_result": last})
    if path not in ("auto", record["path"]):
        raise ConflictError("checkpoint %s is not the one hostnet.nm recorded (%s); not touching it"
                            % (path, record["path"]))
    cp = Checkpoint.recorded(bus, record)
    if not cp.exists():
        ledger_clear()
        _lost_while_pending(bus, cp, record, last)
        raise VerificationError("checkpoint %s expired: NetworkManager already rolled the change back" % cp.path,
                                {"apply_result": last})
    return cp, record, last


def _lost_while_pending(bus: Bus, cp: Checkpoint, record: Dict[str, Any], last: Any) -> None:
    """The pending checkpoint is gone before its window ended: NetworkManager
    lost it (a restart or crash) and the change stays. Put the host back to
    the state kept before the apply and raise what happened (returns when
    the window had ended: NetworkManager rolled back)."""
    saved = load(BEFORE)
    forget(BEFORE)
    if time.time() >= float(record.get("created", 0)) + int(record.get("timeout", 0)) - 1:
        return
    reason = "NetworkManager lost the checkpoint %s while the change waited for its confirmation (NetworkManager " \
             "restarted or crashed), so it could not roll the change back" % cp.path
    result: Dict[str, Any] = {"apply_result": last, "rolled_back": False}
    if saved is None:
        raise VerificationError("%s; the state before the apply was not kept, the change is still on the host"
                                % reason, dict(result, rollback_reason=reason, restored=False))
    options = Options(bus_address=bus.address)
    _rollback(bus, Undo(cp, saved[0], saved[1], 0), options, result, reason, [])
    raise VerificationError(_outcome(result), result)


def _wait_for_pending(apply_id: str, wait: float) -> Any:
    """``(ledger record or None, last detached result or None)`` once the
    apply ``apply_id`` (any, when empty) is no longer applying, or after
    ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        record = ledger_read()
        if record and apply_id and record.get("apply_id") not in (apply_id, ""):
            record = None  # a different apply's checkpoint
        last = read_json(LAST_RESULT)
        if last and apply_id and last.get("apply_id") != apply_id:
            last = None
        if (record and record["state"] != APPLYING) or (last and last.get("failed")) or \
                time.monotonic() >= deadline:
            return record, last
        time.sleep(0.2)
