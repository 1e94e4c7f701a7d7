# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One apply, as a transaction:

    validate -> read -> plan -> (check mode stops here) -> lock -> checkpoint
    -> write -> activate -> wait -> verify -> commit, or roll back

This module is the way in and the no-op path (options, lock, read, plan);
what changes the host (checkpoint, write, verify, probes, commit or roll
back) is :mod:`.change`, imported only when the plan changes something.

Importable without Ansible: :func:`apply` takes plain data and returns the
task result as a dict; failures raise a :class:`~.errors.HostnetError`
whose ``result`` holds what happened.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Dict, List, Literal, Mapping, Optional, Tuple, TypeVar

from . import kinds, options as bounds, validation
from .hostname import problems_on_host
from .errors import ConflictError, DependencyError, InvalidStateError, Problem
from .model import TypedRoute
from .files import read_text
from .nm import config, kernel, reader
from .nm.dbus import Bus
from .nm.ledger import PendingConfirmation, resolve_existing
from .plan import Plan, add_live_repairs, keep_external, live_ops, make_plan, name_flushed_routes, plan_hostname
from .probe_spec import ProbeSpec, parse_ssh_connection
from .snapshot import Snapshot

LOCK_PATH = "/run/hostnet-nm.lock"
T = TypeVar("T")
RESOLV_CONF = "/etc/resolv.conf"


@dataclass
class Options:
    """Knobs of one apply (module options, all times in seconds).

    ``rollback_timeout``: NM rolls the checkpoint back by itself after this
    long without a commit; ``wait_timeout``: bound on activation;
    ``verify_timeout``: how long verification retries (carrier, DHCP,
    autoconf); ``lock_timeout``: how long to wait for another run on the host;
    ``persistent``: keyfiles on disk, or memory-only profiles;
    ``bus_address`` and ``resolv_conf``: where the host's system bus and
    resolver file are (the defaults on the host itself); ``verify``: the
    probe options (see :class:`~.probe_spec.ProbeSpec`, plus ``enabled``; the
    probes run by default), parsed into ``probes`` and ``probes_enabled``;
    ``confirm``: leave the checkpoint pending for the controller to commit
    over a fresh connection; ``allow_management_change``: accept a change
    that moves the address the controller's SSH session uses;
    ``environ``: the module's environment (``SSH_CONNECTION``; default
    this process's); ``prune``: remove the profiles of ours on interfaces the
    document does not name (see :func:`.plan.make_plan`); ``allow_route_flush``:
    accept a change that removes routes NetworkManager did not create (a
    re-activation, or a reapply that removes them), else refused with
    FOREIGN_ROUTES_FLUSHED. ``apply_id`` ties
    a confirmation to this apply (new for each).

    Numbers may come as numeric text (templated values): the timeouts are
    checked against :mod:`.options` and converted on construction.

    Raises:
        InvalidStateError: a timeout is outside its bounds (:mod:`.options`)
            or a probe option is invalid (the path names it).
    """

    check_mode: bool = False
    rollback_timeout: int = 60
    wait_timeout: float = 30
    verify_timeout: float = 10
    lock_timeout: float = 0
    persistent: bool = True
    bus_address: Optional[str] = None
    resolv_conf: str = RESOLV_CONF
    verify: Optional[Dict[str, Any]] = None
    confirm: bool = False
    allow_management_change: bool = False
    environ: Dict[str, str] = field(default_factory=lambda: dict(os.environ))
    prune: bool = False
    allow_route_flush: bool = False
    probes_enabled: bool = field(init=False, default=True)
    probes: ProbeSpec = field(init=False, default_factory=ProbeSpec)
    apply_id: str = field(init=False, default="")

    def __post_init__(self) -> None:
        times, problems = bounds.parse({"rollback_timeout": self.rollback_timeout, "wait_timeout": self.wait_timeout,
                                        "verify_timeout": self.verify_timeout, "lock_timeout": self.lock_timeout})
        if problems:
            raise InvalidStateError(problems)
        self.rollback_timeout = int(times["rollback_timeout"])
        self.wait_timeout = float(times["wait_timeout"])
        self.verify_timeout = float(times["verify_timeout"])
        self.lock_timeout = float(times["lock_timeout"])
        self.probes_enabled, self.probes = parse_verify(self.verify)
        self.environ = dict(self.environ)
        self.apply_id = os.urandom(16).hex()  # 128 random bits, as uuid4 (without importing uuid and platform)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], **fixed: Any) -> "Options":
        """The options from a module's (or the reconciler's) parameters:
        the keys that name an option are taken, the others left; ``fixed``
        overrides them. Raises as the class does."""
        names = {f.name for f in fields(cls) if f.init}
        values = {k: v for k, v in params.items() if k in names}
        values.update(fixed)
        return cls(**values)


def parse_verify(verify: Optional[Mapping[str, Any]]) -> Tuple[bool, ProbeSpec]:
    """``(probes enabled, probe spec)`` from the ``verify`` option
    (``enabled`` plus :class:`~.probe_spec.ProbeSpec`'s keys; ``None``: the
    defaults, probes on).

    Raises:
        InvalidStateError: ``VERIFY_OPTION_INVALID`` at the invalid key's path.
    """
    rest = dict(verify or {})
    enabled = rest.pop("enabled", True) not in (False, "false", "no")
    try:
        return enabled, ProbeSpec.from_option(rest)
    except ValueError as exc:
        path, _sep, message = str(exc).partition(": ")
        raise InvalidStateError([Problem("VERIFY_OPTION_INVALID", path, message or str(exc),
                                         "see the verify option in ansible-doc hostnet.nm.network_state")])


#: the phases a run's ``timings`` report (seconds each)
Phase = Literal["read", "plan", "probe", "write", "activate", "verify", "commit"]


class Timer:
    """Wall time per phase, in seconds: ``timings`` is ``{phase: seconds}``."""

    def __init__(self) -> None:
        self.timings: Dict[str, float] = {}
        self._start = time.monotonic()

    def lap(self, phase: Phase) -> None:
        """Close ``phase`` (time since the previous lap)."""
        now = time.monotonic()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self._start, 4)
        self._start = now


class HostLock:
    """An exclusive lock on the host (``flock`` on ``/run/hostnet-nm.lock``),
    so two runs never interleave: :meth:`acquire` waits up to ``timeout``
    seconds. The ``flock`` covers one process; a change that waits for its
    confirmation after the module returned holds the host through its
    checkpoint ledger (:class:`~.nm.ledger.PendingConfirmation`), which
    :meth:`acquire` waits for in the same way.

    Raises:
        ConflictError: another run holds it beyond ``timeout`` seconds.
    """

    def __init__(self, timeout: float, path: str = LOCK_PATH) -> None:
        self.timeout, self.path, self.fd = timeout, path, -1

    def acquire(self, check: Optional[Callable[[], T]] = None) -> Optional[T]:
        """Take the lock, then run ``check`` under it and return its value:
        while ``check`` raises :class:`~.nm.ledger.PendingConfirmation`
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
                                    % (self.path, read_text(self.path).strip() or "?"))
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


def apply(document: Dict[str, Any], options: Options) -> Dict[str, Any]:
    """Validate, plan and (unless check mode) apply ``document``.

    Returns the task result: ``changed``, ``diff`` (``{"before": doc,
    "after": doc}``), ``plan``, ``timings``, ``warnings``, ``writes`` (D-Bus
    write calls made), ``rolled_back``, ``probes``; with ``confirm`` also
    ``checkpoint`` and ``confirm_pending`` (the controller commits); when the
    change moves the controller's address, ``management_move`` and
    ``detached`` (the apply continues in the background, see
    :func:`.change.detach`).

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
    try:
        group = None
        if not options.check_mode:
            # before reading: a stale rollback changes the state
            group, notes = lock.acquire(lambda: resolve_existing(bus)) or (None, [])
            result["warnings"] += notes
        snap, plan = _read_and_plan(bus, desired, options, timer, result)
        move = management_move(plan, options.environ)
        if move:
            result["management_move"] = move
            _refuse_management_move(move, options)
        _check_global_dns(desired_doc)
        if options.check_mode or not plan.changed:
            return result
        from . import change  # what writes: loaded only when there is something to apply
        if move and options.confirm:
            change.detach(lock, bus, snap, plan, options, timer, result, group)
        else:
            change.run(bus, snap, plan, options, timer, result, group)
        return result
    finally:
        lock.release()
        result["writes"] = bus.writes
        bus.close()


def _read_and_plan(bus: Bus, desired: Dict[str, Any], options: Options, timer: Timer,
                   result: Dict[str, Any]) -> Tuple[Snapshot, Plan]:
    """Read the host and plan ``desired`` against it; the plan's findings go
    into ``result`` (``changed``, ``diff``, ``plan``, ``profiles``,
    ``warnings``)."""
    snap = reader.read_snapshot(bus)
    current = reader.current_state(snap)
    live = reader.live_state(snap, set(desired.get("interfaces", {})) | {
        r.get("next-hop-interface", "") for r in desired.get("routes", [])})
    typed = _typed_routes(desired, result)
    timer.lap("read")
    plan = make_plan(snap, current, desired, prune=options.prune)
    add_live_repairs(plan, snap, live, typed)  # the kernel lost what the profiles still say
    keep_external(plan, snap, live)
    if "hostname" in desired:
        _plan_hostname(plan, snap, options)
    flushed = _flushed_routes(plan)
    timer.lap("plan")
    result.update(changed=plan.changed, diff=plan.diff, plan=[op.as_dict() for op in plan.ops],
                  profiles=plan.profiles)
    if plan.hostname is not None:
        result["plan"].append(plan.hostname.as_op())
    result["warnings"] += plan.warnings
    if flushed and not options.allow_route_flush:
        raise InvalidStateError([_flush_problem(plan, flushed)])
    return snap, plan


def _typed_routes(desired: Dict[str, Any], result: Dict[str, Any]) -> Optional[List[TypedRoute]]:
    """The kernel's ``route-type`` routes when the document has such routes
    (:func:`.nm.reader.typed_routes`), for the live check of a re-run;
    ``None`` (not checked, with a warning) when iproute2 is missing."""
    try:
        return reader.typed_routes(desired.get("routes", []))
    except DependencyError as exc:
        result["warnings"].append("blackhole, unreachable and prohibit routes are not checked live: %s" % exc.message)
        return None


def _plan_hostname(plan: Plan, snap: Snapshot, options: Options) -> None:
    """The host name's part of the plan (:func:`.plan.plan_hostname`).

    Raises:
        InvalidStateError: the host cannot take the change
            (:func:`.hostname.problems_on_host`); nothing was touched."""
    plan_hostname(plan, reader.host_name(snap))
    if plan.hostname is not None:
        problems = problems_on_host(plan.hostname.after, options.persistent, snap.hostname_writable)
        if problems:
            raise InvalidStateError(problems)


def _flushed_routes(plan: Plan) -> Dict[str, List[str]]:
    """Routes of others (another daemon, ``ip route``) that the plan's
    re-activations and reapplies remove (:func:`.plan.name_flushed_routes`)."""
    if not live_ops(plan):
        return {}
    try:
        return name_flushed_routes(plan, kernel.device_routes(live_ops(plan)))
    except DependencyError as exc:
        plan.warnings.append("cannot tell which foreign routes a re-activation removes: %s" % exc.message)
        return {}


def _flush_problem(plan: Plan, flushed: Dict[str, List[str]]) -> Problem:
    """FOREIGN_ROUTES_FLUSHED for the first interface of ``flushed``, naming every route."""
    name = sorted(flushed)[0]
    names = list(plan.desired.get("interfaces", {}))
    return Problem("FOREIGN_ROUTES_FLUSHED", "interfaces[%d]" % names.index(name) if name in names else "routes",
                   "this change re-activates %s or replaces its addresses, which removes routes NetworkManager did "
                   "not create and will not put back: %s" % (name, "; ".join(
                       "%s: %s" % (n, ", ".join(r)) for n, r in sorted(flushed.items()))),
                   "set allow_route_flush: true to let them go (re-add them afterwards, or let their daemon do it); "
                   "NetworkManager 1.52+ reapplies without removing them")


def _refuse_management_move(move: Dict[str, Any], options: Options) -> None:
    """Refuse a change that takes the SSH session's address away unless
    ``allow_management_change`` is set. Raises :class:`InvalidStateError`."""
    if options.allow_management_change:
        return
    raise InvalidStateError([Problem(
        "MANAGEMENT_ADDRESS_CHANGE", "interfaces[%s]" % move["interface"],
        "this change removes %s from %s, the address this SSH session uses" % (move["old"], move["interface"]),
        "set allow_management_change: true (with confirm: true the controller reconnects to %s and "
        "confirms, else NetworkManager restores %s after rollback_timeout)" % (
            move.get("new") or "the new address", move["old"]))])


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
    conn = parse_ssh_connection(environ.get("SSH_CONNECTION", ""))
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
