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
import os
import time
from typing import Any, Callable, Dict, List, Optional

from . import model, validation
from .errors import ConflictError, HostnetError, NmError, VerificationError
from .nm import reader
from .nm.dbus import Bus
from .nm.writer import Checkpoint, Writer
from .plan import Plan, make_plan
from .verify import mismatches, resolv_conf_servers

LOCK_PATH = "/run/hostnet-nm.lock"
RESOLV_CONF = "/etc/resolv.conf"


class Options:
    """Knobs of one apply (module options, all times in seconds).

    ``rollback_timeout``: NM rolls the checkpoint back by itself after this
    long without a commit; ``wait_timeout``: bound on activation;
    ``verify_timeout``: how long verification retries (carrier, DHCP,
    autoconf); ``lock_timeout``: how long to wait for another run on the host;
    ``persistent``: keyfiles on disk, or memory-only profiles;
    ``bus_address`` and ``resolv_conf``: where the host's system bus and
    resolver file are (the defaults on the host itself).
    """

    def __init__(self, check_mode: bool = False, rollback_timeout: int = 60, wait_timeout: float = 30,
                 verify_timeout: float = 10, lock_timeout: float = 0, persistent: bool = True,
                 bus_address: Optional[str] = None, resolv_conf: str = RESOLV_CONF) -> None:
        self.check_mode = check_mode
        self.rollback_timeout = int(rollback_timeout)
        self.wait_timeout = float(wait_timeout)
        self.verify_timeout = float(verify_timeout)
        self.lock_timeout = float(lock_timeout)
        self.persistent = persistent
        self.bus_address = bus_address
        self.resolv_conf = resolv_conf


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
    so two runs never interleave.

    Raises:
        ConflictError: another run holds it beyond ``timeout`` seconds.
    """

    def __init__(self, timeout: float, path: str = LOCK_PATH) -> None:
        self.timeout, self.path, self.fd = timeout, path, -1

    def __enter__(self) -> "HostLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.ftruncate(self.fd, 0)
                os.write(self.fd, str(os.getpid()).encode())
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    raise ConflictError("another hostnet.nm run is applying on this host (lock %s held by pid %s);"
                                        " try again when it has finished" % (self.path, _read(self.path).strip()))
                time.sleep(0.2)

    def __exit__(self, *exc: Any) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def show(bus_address: Optional[str] = None) -> Dict[str, Any]:
    """The host's current state as an nmstate document (``network_state_info``)."""
    bus = Bus(bus_address)
    try:
        snap = reader.read_snapshot(bus)
        return model.to_document(reader.current_state(snap))
    finally:
        bus.close()


def apply(document: Dict[str, Any], options: Options) -> Dict[str, Any]:
    """Validate, plan and (unless check mode) apply ``document``.

    Returns the task result: ``changed``, ``diff`` (``{"before": doc,
    "after": doc}``), ``plan``, ``timings``, ``warnings``, ``writes`` (D-Bus
    write calls made), ``rolled_back``.

    Raises:
        InvalidStateError: the document is invalid (nothing touched).
        ConflictError: another run holds the host.
        VerificationError: the change did not verify and was rolled back.
        NmError, DependencyError: NM or the D-Bus library failed.
    """
    timer = Timer()
    desired_doc, warnings = validation.check(document)
    desired = model.from_document(desired_doc)
    bus = Bus(options.bus_address)
    result: Dict[str, Any] = {"changed": False, "rolled_back": False, "timings": timer.timings,
                              "warnings": [str(w) for w in warnings]}
    try:
        snap = reader.read_snapshot(bus)
        current = reader.current_state(snap)
        timer.lap("read")
        plan = make_plan(snap, current, desired)
        timer.lap("plan")
        result.update(changed=plan.changed, diff=plan.diff, plan=[op.as_dict() for op in plan.ops])
        result["warnings"] += plan.warnings
        if options.check_mode or not plan.changed:
            return result
        with HostLock(options.lock_timeout):
            _transaction(bus, snap, plan, options, timer, result)
        return result
    finally:
        result["writes"] = bus.writes
        bus.close()


def _transaction(bus: Bus, snap: reader.Snapshot, plan: Plan, options: Options, timer: Timer,
                 result: Dict[str, Any]) -> None:
    try:
        checkpoint = Checkpoint.create(bus, options.rollback_timeout)
    except NmError as exc:
        raise ConflictError("cannot create a NetworkManager checkpoint, nothing was changed: %s. Another tool may "
                            "hold one (nmcli/nmstate); see the Checkpoints property" % exc.message, result)
    result["checkpoint"] = checkpoint.path
    try:
        writer = Writer(bus, snap, options.persistent)
        writer.run(plan.ops)
        timer.lap("write")
        failed = writer.wait(options.wait_timeout)
        failed.update(_converge(bus, writer, plan, options))
        timer.lap("activate")
        checkpoint.adjust(options.rollback_timeout)  # the window covers verification, not only the writes
        problems = _verify(bus, plan, options) if not failed else []
        timer.lap("verify")
        if failed or problems:
            reason = "; ".join("%s: %s" % kv for kv in sorted(failed.items())) or \
                "verification failed: " + "; ".join("%s: desired %r, actual %r" % (p["what"], p["desired"],
                                                                                    p["actual"]) for p in problems)
            _rollback(checkpoint, result, reason, problems)
            raise VerificationError("the change was rolled back: %s" % reason, result)
        if not checkpoint.exists():
            result["rolled_back"] = True
            result["rollback_reason"] = "rolled back by timeout: NetworkManager's checkpoint expired after %d s " \
                                        "before the commit" % options.rollback_timeout
            raise VerificationError(result["rollback_reason"], result)
        checkpoint.commit()
        timer.lap("commit")
    except HostnetError as exc:
        if not result.get("rolled_back"):
            _rollback(checkpoint, result, exc.message, [])
        result.update({k: v for k, v in exc.result.items() if k not in result})
        exc.result = result
        raise
    except Exception:
        _rollback(checkpoint, result, "internal error", [])
        raise


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
    want_dns = plan.current["dns-resolver"] != plan.target["dns-resolver"]
    check_routes = plan.current["routes"] != plan.target["routes"] or bool(names)
    kept = {model.route_key(r) for r in plan.target["routes"]}
    gone = [r for r in plan.current["routes"] if model.route_key(r) not in kept]
    deadline = time.monotonic() + options.verify_timeout
    while True:
        snap = reader.read_snapshot(bus)
        saved = reader.current_state(snap)
        live = reader.read_live(bus, snap)
        servers = resolv_conf_servers(_read(options.resolv_conf)) if want_dns else None
        problems = mismatches(plan.target, saved, live, snap.chosen.keys(), names, check_routes, servers, want_dns,
                              gone)
        if not problems or time.monotonic() >= deadline:
            return problems
        time.sleep(0.2)


def _rollback(checkpoint: Checkpoint, result: Dict[str, Any], reason: str, problems: List[Dict[str, Any]]) -> None:
    try:
        if checkpoint.exists():
            checkpoint.rollback()
        result["rolled_back"] = True
    except HostnetError as exc:
        result["rollback_error"] = exc.message
    result["rollback_reason"] = reason
    if problems:
        result["mismatches"] = problems
