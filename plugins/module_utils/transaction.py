# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One apply, as a transaction:

    validate -> read -> plan -> (check mode stops here) -> lock -> checkpoint
    -> write -> activate -> wait -> verify -> commit, or roll back

Importable without Ansible: :func:`apply` and :func:`show` take plain data
and return the task result as a dict; failures raise a
:class:`~.errors.HostnetError` whose ``result`` holds what happened.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple, TypeVar

from . import kinds, model, options as bounds, probes, validation
from .kinds import refused
from .errors import (ConflictError, DependencyError, HostnetError, InvalidStateError, NmError, Problem,
                     VerificationError, shown)
from .nm import config, kernel, reader
from .nm.checkpoint import (APPLYING, GROUP, PENDING, Checkpoint, PendingConfirmation, ledger_clear, ledger_read,
                            ledger_write, resolve_existing)
from .nm.dbus import Bus
from .nm.restore import as_json, forget, host_view, load, repair, save, settle
from .nm.writer import Writer
from .plan import Plan, add_live_repairs, make_plan, name_flushed_routes, reactivated
from .verify import mismatches, resolv_conf_servers, restore_differences

LOCK_PATH = "/run/hostnet-nm.lock"
#: seconds a confirmation waits for the lock (a waiting run takes it for a moment now and then)
CONFIRM_LOCK_WAIT = 10
T = TypeVar("T")
RESOLV_CONF = "/etc/resolv.conf"
LAST_RESULT = "/run/hostnet-nm/last-result.json"
#: the state before a change that waits for its confirmation (to restore it if NetworkManager loses the checkpoint)
BEFORE = "/run/hostnet-nm/before.json"
#: how long a rollback waits for the host to be back before repairing it (seconds)
RESTORE_PATIENCE = 10.0


class Options:
    """Knobs of one apply (module options, all times in seconds).

    ``rollback_timeout``: NM rolls the checkpoint back by itself after this
    long without a commit; ``wait_timeout``: bound on activation;
    ``verify_timeout``: how long verification retries (carrier, DHCP,
    autoconf); ``lock_timeout``: how long to wait for another run on the host;
    ``persistent``: keyfiles on disk, or memory-only profiles;
    ``bus_address`` and ``resolv_conf``: where the host's system bus and
    resolver file are (the defaults on the host itself); ``verify``: the
    probe options (see :class:`~.probes.ProbeSpec`, plus ``enabled``; the
    probes run by default);
    ``confirm``: leave the checkpoint pending for the controller to commit
    over a fresh connection; ``allow_management_change``: accept a change
    that moves the address the controller's SSH session uses;
    ``environ``: the module's environment (``SSH_CONNECTION``);
    ``prune``: remove the profiles of ours on interfaces the document does
    not name (see :func:`.plan.make_plan`).

    Raises:
        InvalidStateError: a timeout is outside its bounds (:mod:`.options`)
            or a probe option is invalid (the path names it).
    """

    def __init__(self, check_mode: bool = False, rollback_timeout: int = 60, wait_timeout: float = 30,
                 verify_timeout: float = 10, lock_timeout: float = 0, persistent: bool = True,
                 bus_address: Optional[str] = None, resolv_conf: str = RESOLV_CONF,
                 verify: Optional[Dict[str, Any]] = None, confirm: bool = False,
                 allow_management_change: bool = False, environ: Optional[Dict[str, str]] = None,
                 prune: bool = False) -> None:
        times, problems = bounds.parse({"rollback_timeout": rollback_timeout, "wait_timeout": wait_timeout,
                                        "verify_timeout": verify_timeout, "lock_timeout": lock_timeout})
        if problems:
            raise InvalidStateError(problems)
        self.check_mode = check_mode
        self.rollback_timeout = int(times["rollback_timeout"])
        self.wait_timeout = float(times["wait_timeout"])
        self.verify_timeout = float(times["verify_timeout"])
        self.lock_timeout = float(times["lock_timeout"])
        self.persistent = persistent
        self.bus_address = bus_address
        self.resolv_conf = resolv_conf
        verify = dict(verify or {})
        self.probes_enabled = verify.pop("enabled", True) not in (False, "false", "no")
        try:
            self.probes = probes.ProbeSpec.from_option(verify)
        except ValueError as exc:
            path, _sep, message = str(exc).partition(": ")
            raise InvalidStateError([Problem("VERIFY_OPTION_INVALID", path, message or str(exc),
                                             "see the verify option in ansible-doc hostnet.nm.network_state")])
        self.confirm = confirm
        self.allow_management_change = allow_management_change
        self.environ = dict(os.environ if environ is None else environ)
        self.apply_id = uuid.uuid4().hex  # ties a confirmation to this apply
        self.prune = prune


class Timer:
    """Wall time per phase, in seconds: ``timings`` is ``{phase: seconds}``."""

    def __init__(self) -> None:
        self.timings: Dict[str, float] = {}
        self._start = time.monotonic()

    def lap(self, phase: str) -> None:
        """Close ``phase`` (time since the previous lap)."""
        now = time.monotonic()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self._start, 4)
        self._start = now


class HostLock:
    """An exclusive lock on the host (``flock`` on ``/run/hostnet-nm.lock``),
    so two runs never interleave: :meth:`acquire` waits up to ``timeout``
    seconds. The ``flock`` covers one process; a change that waits for its
    confirmation after the module returned holds the host through its
    checkpoint ledger (:class:`~.nm.checkpoint.PendingConfirmation`), which
    :meth:`acquire` waits for in the same way.

    Raises:
        ConflictError: another run holds it beyond ``timeout`` seconds.
    """

    def __init__(self, timeout: float, path: str = LOCK_PATH) -> None:
        self.timeout, self.path, self.fd = timeout, path, -1

    def acquire(self, check: Optional[Callable[[], T]] = None) -> Optional[T]:
        """Take the lock, then run ``check`` under it and return its value:
        while ``check`` raises :class:`~.nm.checkpoint.PendingConfirmation`
        the lock is let go and taken again (another run's change still owns
        the host), until ``timeout`` seconds have passed. See the class doc."""
        deadline = time.monotonic() + self.timeout
        while True:
            busy = self._try()
            if not busy and check is not None:
                try:
                    return check()
                except PendingConfirmation as exc:
                    self.release()
                    busy = exc
            if not busy:
                return None
            if time.monotonic() >= deadline:
                self.release()
                if isinstance(busy, PendingConfirmation):
                    raise busy
                raise ConflictError("another hostnet.nm run is applying on this host (lock %s held by pid %s);"
                                    " try again when it has finished, or set lock_timeout"
                                    % (self.path, probes.read_text(self.path).strip() or "?"))
            time.sleep(0.2)

    def _try(self) -> Optional[Exception]:
        """One attempt: ``None`` when taken, else why not."""
        if self.fd < 0:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            return exc
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())
        return None

    def release(self) -> None:
        """Drop the lock (no-op when not held)."""
        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1

    def hand_over(self) -> None:
        """Close our descriptor without unlocking: a forked child that shares
        it keeps the lock until it exits."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def describe(bus_address: Optional[str] = None) -> Dict[str, Any]:
    """For ``network_state_info``: ``{"network_state": document, "profiles": [profile, ...],
    "networkmanager": {"version", "features", "refused_kinds"}}``: the current state, every profile
    with who made it (:meth:`.nm.reader.Profile.as_dict`), and NetworkManager's version with what
    the host has of the refused kinds (:func:`.kinds.refused.host_notes`)."""
    bus = Bus(bus_address)
    try:
        snap = reader.read_snapshot(bus)
        return {"network_state": model.to_document(reader.current_state(snap)),
                "profiles": [p.as_dict() for p in snap.profiles],
                "networkmanager": {"version": snap.version, "features": sorted(snap.features),
                                   "refused_kinds": refused.host_notes(snap.features)}}
    finally:
        bus.close()


def apply(document: Dict[str, Any], options: Options) -> Dict[str, Any]:
    """Validate, plan and (unless check mode) apply ``document``.

    Returns the task result: ``changed``, ``diff`` (``{"before": doc,
    "after": doc}``), ``plan``, ``timings``, ``warnings``, ``writes`` (D-Bus
    write calls made), ``rolled_back``, ``probes``; with ``confirm`` also
    ``checkpoint`` and ``confirm_pending`` (the controller commits); when the
    change moves the controller's address, ``management_move`` and
    ``detached`` (the apply continues in the background, see
    :func:`_detach`).

    Raises:
        InvalidStateError: the document is invalid (nothing touched).
        ConflictError: another run or tool holds the host.
        VerificationError: the change did not verify, or a probe failed;
            it was rolled back.
        NmError, DependencyError: NM or the D-Bus library failed.
    """
    timer = Timer()
    desired_doc, warnings = validation.check(document)
    desired = kinds.from_document(desired_doc)
    bus = Bus(options.bus_address)
    result: Dict[str, Any] = {"changed": False, "rolled_back": False, "timings": timer.timings,
                              "warnings": [str(w) for w in warnings], "probes": []}
    lock = HostLock(options.lock_timeout)
    group: Optional[Checkpoint] = None
    try:
        if not options.check_mode:
            # before reading: a stale rollback changes the state
            resolved: Optional[Tuple[Optional[Checkpoint], List[str]]] = lock.acquire(lambda: resolve_existing(bus))
            group, notes = resolved or (None, [])
            result["warnings"] += notes
        snap = reader.read_snapshot(bus)
        current = reader.current_state(snap)
        live = reader.live_state(snap, set(desired.get("interfaces", {})) | {
            r.get("next-hop-interface", "") for r in desired.get("routes", [])})
        timer.lap("read")
        plan = make_plan(snap, current, desired, prune=options.prune)
        add_live_repairs(plan, snap, live)  # the kernel lost what the profiles still say
        if reactivated(plan):
            try:  # another daemon's routes through a re-activated device: say they go
                name_flushed_routes(plan, kernel.device_routes(reactivated(plan)))
            except DependencyError as exc:
                plan.warnings.append("cannot tell which foreign routes a re-activation removes: %s" % exc.message)
        timer.lap("plan")
        result.update(changed=plan.changed, diff=plan.diff, plan=[op.as_dict() for op in plan.ops],
                      profiles=plan.profiles)
        result["warnings"] += plan.warnings
        move = management_move(plan, options.environ)
        if move:
            result["management_move"] = move
            if not options.allow_management_change:
                raise InvalidStateError([Problem(
                    "MANAGEMENT_ADDRESS_CHANGE", "interfaces[%s]" % move["interface"],
                    "this change removes %s from %s, the address this SSH session uses" % (
                        move["old"], move["interface"]),
                    "set allow_management_change: true (with confirm: true the controller reconnects to %s and "
                    "confirms, else NetworkManager restores %s after rollback_timeout)" % (
                        move.get("new") or "the new address", move["old"]))])
        _check_global_dns(desired_doc)
        if options.check_mode or not plan.changed:
            return result
        if move and options.confirm:
            _detach(lock, bus, snap, plan, options, timer, result, group)
            return result
        _transaction(bus, snap, plan, options, timer, result, group)
        return result
    finally:
        lock.release()
        result["writes"] = bus.writes
        bus.close()


def _check_global_dns(document: Dict[str, Any], root: str = "/") -> None:
    """Refuse a ``dns-resolver`` section while NetworkManager's configuration files
    set global DNS: it would override the profiles' DNS, and NetworkManager does not
    let D-Bus change it. Raises :class:`InvalidStateError` (nothing touched)."""
    files = config.global_dns_files(root) if "dns-resolver" in document else []
    if files:
        raise InvalidStateError([Problem(
            "DNS_GLOBAL_CONFIGURED", "dns-resolver",
            "NetworkManager's configuration sets global DNS in %s, which overrides the name servers "
            "this document writes into profiles" % ", ".join(files),
            "remove the [global-dns] and [global-dns-domain-*] sections from %s and reload NetworkManager "
            "(nmcli general reload), or leave dns-resolver out of the document" % ", ".join(files))])


def management_move(plan: Plan, environ: Dict[str, str]) -> Optional[Dict[str, Any]]:
    """Whether the plan takes away the address the controller's SSH session
    came in on (``SSH_CONNECTION``'s server address). Returns ``{"interface",
    "old", "new"}`` (``new`` is the interface's first target address of the
    same family, or ``None``) or ``None``."""
    conn = probes.parse_ssh_connection(environ.get("SSH_CONNECTION", ""))
    if conn is None:
        return None
    for name, iface in plan.current["interfaces"].items():
        for fam in (4, 6):
            have = [a["ip"] for a in (iface.get("ipv%d" % fam) or {}).get("address", [])]
            if conn.server not in have:
                continue
            tgt = plan.target["interfaces"].get(name, {})
            kept = tgt.get("state") == "up" and name not in kinds.controllers(plan.target)
            left = [a["ip"] for a in (tgt.get("ipv%d" % fam) or {}).get("address", [])] if kept else []
            if conn.server in left:
                return None
            return {"interface": name, "old": conn.server, "new": left[0] if left else None}
    return None


def _probe(options: Options, result: Dict[str, Any], timer: Timer) -> List[Dict[str, Any]]:
    """Run the probes against what the host has right now."""
    if not options.probes_enabled:
        return []
    controller = probes.controller_address(options.environ) if options.probes.controller else None
    out = probes.run_probes(options.probes, probes.resolv_conf_servers(options.resolv_conf),
                            probes.read_default_gateways(), controller)
    timer.lap("probe")
    return out


class Undo:
    """What a rollback needs: the ``checkpoint`` (ours or a joined group's),
    the snapshot read ``before`` the apply and its :func:`~.nm.restore.host_view`
    (``view``), and ``window_end`` (monotonic seconds) when NetworkManager's
    own rollback timer fires."""

    def __init__(self, checkpoint: Checkpoint, before: reader.Snapshot, view: Dict[str, Any],
                 timeout: int) -> None:
        self.checkpoint, self.before, self.view = checkpoint, before, view
        self.window_end = time.monotonic() + timeout

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


def _transaction(bus: Bus, snap: reader.Snapshot, plan: Plan, options: Options, timer: Timer,
                 result: Dict[str, Any], group: Optional[Checkpoint] = None) -> None:
    baseline = _probe(options, result, timer)
    view = host_view(snap, probes.read_text(options.resolv_conf))
    if group is not None:
        checkpoint = group
        result["checkpoint"] = group.path
        result["warnings"].append("joined the group checkpoint %s (commit it with hostnet.nm.checkpoint)"
                                  % group.path)
    else:
        try:
            checkpoint = Checkpoint.create(bus, options.rollback_timeout, snap.nm,
                                           [p.path for p in snap.profiles if p.flags & reader.PROFILE_UNSAVED])
        except NmError as exc:
            raise ConflictError("cannot create a NetworkManager checkpoint, nothing was changed: %s. Another tool "
                                "may hold one (nmcli/nmstate); see the Checkpoints property" % exc.message, result)
        ledger_write(checkpoint, APPLYING, options.rollback_timeout, options.apply_id)
        result["checkpoint"] = checkpoint.path
    undo = Undo(checkpoint, snap, view, options.rollback_timeout if group is None else 0)
    if group is not None:
        undo.window_end = float("inf")  # the group's owner holds its window
    try:
        def guard() -> None:  # before each write: never one outside the checkpoint
            if not undo.keep_window(options.rollback_timeout):
                raise _gone(bus, undo, options, result)

        writer = Writer(bus, snap, options.persistent, guard)
        writer.run(plan.ops)
        timer.lap("write")
        failed = writer.wait(options.wait_timeout)
        failed.update(_converge(bus, writer, plan, options))
        timer.lap("activate")
        if not checkpoint.exists():
            raise _gone(bus, undo, options, result)
        if group is None:
            undo.restart_window(options.rollback_timeout)  # the window covers verification, not only the writes
        problems = _verify(bus, plan, options) if not failed else []
        timer.lap("verify")
        reason = ""
        if failed:
            reason = "; ".join("%s: %s" % kv for kv in sorted(failed.items()))
        elif problems:
            reason = "verification failed: " + mismatch_summary(problems)
        else:
            after = _probe(options, result, timer)
            if not plan.target["dns-resolver"]["server"]:
                # the document leaves the host without a name server: that is no failure of the change
                after = [p for p in after if not (p["kind"] == "dns" and not p["target"])]
            result["probes"], blocking = probes.compare_with_baseline(baseline, after)
            if blocking:
                reason = "probe failed: " + "; ".join("%s (%s)" % (p["name"], p["detail"]) for p in blocking)
        if reason:
            _rollback(bus, undo, options, result, reason, problems)
            raise VerificationError(_outcome(result), result)
        if not checkpoint.exists():
            raise _gone(bus, undo, options, result)
        if group is not None:
            return
        if options.confirm:
            save(BEFORE, undo.before, undo.view)
            ledger_write(checkpoint, PENDING, options.rollback_timeout, options.apply_id)
            result.update(confirm_pending=True, apply_id=options.apply_id)
            return
        checkpoint.commit()
        ledger_clear()
        timer.lap("commit")
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


def _detach(lock: "HostLock", bus: Bus, snap: reader.Snapshot, plan: Plan, options: Options, timer: Timer,
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
            _transaction(child_bus, reader.read_snapshot(child_bus), plan, options, timer, outcome, group)
        except HostnetError as exc:
            outcome = dict(exc.result, failed=True, msg=exc.message)
        except Exception as exc:  # the child has no one to tell but the result file
            outcome = dict(outcome, failed=True, msg="internal error: %s: %s" % (type(exc).__name__, exc))
        outcome.update(writes=child_bus.writes, apply_id=options.apply_id)
        _write_json(LAST_RESULT, outcome)
    finally:
        os._exit(0)


def _write_json(path: str, data: Dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(data, handle, default=str)
    os.replace(tmp, path)


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
        servers = resolv_conf_servers(probes.read_text(options.resolv_conf)) if want_dns else None
        problems = mismatches(plan.target, saved, live, snap.chosen.keys(), names, check_routes, servers, want_dns,
                              gone, plan.desired.get("interfaces", {}))
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
    compared equal), ``rollback_reason``, ``restored`` and, when the host
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
        now = settle(bus, undo.before, max(1.0, deadline - time.monotonic()), probes.read_text)
        diffs = restore_differences(as_json(undo.view), as_json(host_view(now, probes.read_text(options.resolv_conf))))
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
    lock = HostLock(0)
    try:
        if state == "create":
            group, notes = lock.acquire(lambda: resolve_existing(bus)) or (None, [])
            if group is not None:
                return {"changed": False, "checkpoint": group.path, "state": GROUP, "warnings": notes}
            cp = Checkpoint.create(bus, rollback_timeout)
            ledger_write(cp, GROUP, rollback_timeout)
            return {"changed": True, "checkpoint": cp.path, "state": GROUP, "warnings": notes}
        _wait_for_pending(apply_id, wait)
        # under the lock: a run waiting for this change takes it now and then, and must never see it half done
        lock = HostLock(CONFIRM_LOCK_WAIT)
        lock.acquire()
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
        if state == "commit":
            cp.commit()
        else:
            cp.rollback()
        ledger_clear()
        forget(BEFORE)
        return {"changed": True, "checkpoint": cp.path, "state": state, "apply_result": last}
    finally:
        lock.release()
        bus.close()


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
        last = _read_json(LAST_RESULT)
        if last and apply_id and last.get("apply_id") != apply_id:
            last = None
        if (record and record["state"] != APPLYING) or (last and last.get("failed")) or \
                time.monotonic() >= deadline:
            return record, last
        time.sleep(0.2)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
