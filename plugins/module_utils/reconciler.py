# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reconciler agent (role ``hostnet.nm.reconciler``): put the declared
network state back when it drifts, through the same transaction as every
apply.

The host keeps its rendered desired state in ``/etc/hostnet-nm/desired-state.json``.
The agent waits for NetworkManager's D-Bus signals (:mod:`.nm.signals`) and,
as a safety net, for a slow timer; then it checks (:func:`.transaction.apply`
in check mode: zero writes) and, when the host drifted, heals
(:func:`.transaction.apply` with ``confirm=False``: checkpoint, write,
verify, probes, commit or roll back). What the document does not name is
never read as drift nor touched: that is ``apply``'s semantics.

It does not fight: a heal that fails backs off exponentially
(:class:`Backoff`); more than ``max_heals`` successful heals in
``heal_window`` seconds means something keeps undoing the state, and the
agent holds off for ``hold`` seconds (:class:`FightGuard`). It defers while
another tool's checkpoint is open and for ``settle`` seconds after (a
controller's apply that the stored document does not know yet), and does
nothing while the pause file exists. Every drift and heal is logged (the log
file and stderr); the last results are in the status file, which
``hostnet.nm.network_state_info`` returns as ``reconciler``.

Run as ``hostnet-nm-reconciler run|start|stop|status|pause|resume`` (see
:func:`main`); the pure parts (:class:`Backoff`, :class:`FightGuard`,
:func:`classify`) have no D-Bus.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Set

from . import options as bounds
from .errors import HostnetError
from .files import process_alive, read_json, write_atomic, write_json
from .nm.ledger import APPLYING, ledger_read
from .nmconst import NM_PATH
from .reconciler_status import BUSY, DRIFTED, HEALED, IN_SYNC, STATUS_FILE, classify, status
from .redact import redact, scrub, secret_values
from .transaction import Options, apply

CONFIG = "/etc/hostnet-nm/reconciler.json"
#: Config keys and their defaults (seconds where a time)
DEFAULTS: Dict[str, Any] = {
    "desired_state": "/etc/hostnet-nm/desired-state.json",
    "pause_file": "/etc/hostnet-nm/paused",
    "status_file": STATUS_FILE,
    "pid_file": "/run/hostnet-nm/reconciler.pid",
    "log_file": "/var/log/hostnet-nm/reconciler.log",
    "bus_address": None,
    "interval": 60.0,        # the safety-net check, without any signal
    "debounce": 0.3,         # check once signals stopped for this long...
    "debounce_max": 1.5,     # ...or this long after the first one
    "backoff_base": 2.0,     # first delay after a failed heal, doubled each time...
    "backoff_max": 300.0,    # ...up to this
    "max_heals": 5,          # successful heals allowed per heal_window...
    "heal_window": 600.0,
    "hold": 900.0,           # ...then no heal for this long
    "settle": 30.0,          # after another tool's checkpoint is gone
    "rollback_timeout": 30,
    "wait_timeout": 30,
    "verify_timeout": 10,
    "persistent": True,
    "verify": {},
}
#: seconds between looks at the pause file and the document when no signal comes
POLL = 1.0


class Backoff:
    """Delays after failed heals: ``base``, ``2*base``, ``4*base``... capped
    at ``cap`` seconds; a success resets it. Times are ``time.monotonic()``
    seconds passed in by the caller."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap = float(base), float(cap)
        self.failures = 0
        self.until = 0.0

    def failed(self, now: float) -> float:
        """Count a failure at ``now``; returns the delay before the next try."""
        self.failures += 1
        delay = min(self.cap, self.base * 2.0 ** (self.failures - 1))
        self.until = now + delay
        return delay

    def reset(self) -> None:
        """A heal worked (or the drift went away): no delay."""
        self.failures, self.until = 0, 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next try is allowed (0: now)."""
        return max(0.0, self.until - now)


class Debounce:
    """When to check after signals: ``quiet`` seconds after the last one
    (an activation sends a burst: look once it settled), but no later than
    ``limit`` seconds after the first. ``due`` is a ``time.monotonic()``
    time, infinite when no signal is pending."""

    def __init__(self, quiet: float, limit: float) -> None:
        self.quiet, self.limit = float(quiet), float(limit)
        self.first: Optional[float] = None
        self.due = float("inf")

    def signal(self, now: float) -> None:
        """Signals arrived at ``now``."""
        if self.first is None:
            self.first = now
        self.due = min(self.first + self.limit, now + self.quiet)

    def clear(self) -> None:
        """The check ran: nothing pending."""
        self.first, self.due = None, float("inf")


class FightGuard:
    """No fight loops: at most ``max_heals`` successful heals within
    ``window`` seconds. When the state drifts again after that many, something
    keeps undoing it (another tool, a script, a person): :meth:`allow` says no
    and holds for ``hold`` seconds, then starts counting afresh."""

    def __init__(self, max_heals: int, window: float, hold: float) -> None:
        self.max_heals, self.window, self.hold = int(max_heals), float(window), float(hold)
        self.heals: List[float] = []
        self.held_until = 0.0

    def record(self, now: float) -> None:
        """A successful heal at ``now``."""
        self.heals.append(now)

    def allow(self, now: float) -> bool:
        """Whether a heal may run at ``now``; False starts (or continues) a hold."""
        if now < self.held_until:
            return False
        self.heals = [t for t in self.heals if now - t < self.window]
        if len(self.heals) < self.max_heals:
            return True
        self.held_until = now + self.hold
        self.heals = []
        return False

    def wait(self, now: float) -> float:
        """Seconds left in the hold (0: not held)."""
        return max(0.0, self.held_until - now)


def load_config(path: str = CONFIG, overrides: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """:data:`DEFAULTS` updated from the JSON file at ``path`` (a missing
    file means the defaults) and ``overrides``.

    Raises:
        ValueError: the file is not a JSON object, has an unknown key, or a
            timeout outside its bounds (:mod:`.options`).
    """
    config = dict(DEFAULTS)
    data = read_json(path) if os.path.exists(path) else {}
    if not isinstance(data, dict):
        raise ValueError("%s: expected a JSON object of reconciler settings" % path)
    data.update(overrides or {})
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ValueError("%s: unknown setting %s; expected one of %s" % (path, unknown[0], ", ".join(DEFAULTS)))
    config.update(data)
    problems = bounds.check(config)
    if problems:
        raise ValueError("%s: %s" % (path, "; ".join(str(p) for p in problems)))
    return config


def _iso(stamp: Optional[float]) -> Optional[str]:
    return None if stamp is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _summary(plan: Sequence[Dict[str, Any]]) -> str:
    return "; ".join("%s %s (%s)" % (op.get("op"), op.get("interface"), op.get("reason")) for op in plan) or "-"


class Agent:
    """One agent: :meth:`run` loops until SIGTERM/SIGINT. ``config`` comes
    from :func:`load_config`; ``environ`` is what the transaction sees
    (SSH variables left out: the agent has no controller)."""

    def __init__(self, config: Dict[str, Any], environ: Optional[Dict[str, str]] = None) -> None:
        self.config = config
        env = os.environ if environ is None else environ
        self.environ = {k: v for k, v in env.items() if not k.startswith("SSH_")}
        self.backoff = Backoff(config["backoff_base"], config["backoff_max"])
        self.guard = FightGuard(config["max_heals"], config["heal_window"], config["hold"])
        self.document: Optional[Dict[str, Any]] = None
        self.doc_stamp: Any = None
        self.own: Set[str] = set()     # checkpoints our heals made
        self.settle_until = 0.0
        self.drift_logged = ""          # the drift last logged (not again while it lasts)
        self.stopping = False
        self.watcher: Any = None        # the signal source, while :meth:`run` runs
        self.drift_since: Optional[float] = None  # when the drift being healed was first seen
        self.burst = Debounce(config["debounce"], config["debounce_max"])
        self.status: Dict[str, Any] = {
            "pid": os.getpid(), "started": _iso(time.time()), "state": "starting", "message": "",
            "document": config["desired_state"], "counts": {"checks": 0, "drifts": 0, "heals": 0, "failures": 0},
            "last_check": None, "last_drift": None, "last_heal": None, "next_attempt": None}

    # -- output
    def log(self, event: str, text: str) -> None:
        """One line to stderr and the log file (``<UTC time> <event>: <text>``)."""
        text = scrub(text, secret_values(self.document))
        line = "%s hostnet-nm-reconciler[%d] %s: %s\n" % (_iso(time.time()), os.getpid(), event, text)
        sys.stderr.write(line)
        sys.stderr.flush()
        path = self.config["log_file"]
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as handle:
                handle.write(line)
        except OSError as exc:
            sys.stderr.write("cannot write the log %s: %s\n" % (path, exc))

    def set_state(self, state: str, message: str = "", retry_in: Optional[float] = None) -> None:
        """Record the agent's state in the status file (atomic, root only)."""
        self.status.update(state=state, message=message, updated=_iso(time.time()),
                           next_attempt=_iso(time.time() + retry_in) if retry_in else None)
        try:
            write_json(self.config["status_file"], self.status)
        except OSError as exc:
            sys.stderr.write("cannot write the status %s: %s\n" % (self.config["status_file"], exc))

    # -- inputs
    def reload(self) -> bool:
        """Re-read the document when its file changed; True when it did (or
        vanished). A document that cannot be read is logged and kept out."""
        path = self.config["desired_state"]
        try:
            st = os.stat(path)
            stamp: Any = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self.doc_stamp:
            return False
        self.doc_stamp = stamp
        self.document = read_json(path) if stamp else None
        if self.document is None or not isinstance(self.document, dict):
            self.document = None
            self.log("document", "no readable desired state at %s: nothing to reconcile" % path)
        else:
            self.log("document", "loaded %s" % path)
        self.backoff.reset()
        self.guard = FightGuard(self.config["max_heals"], self.config["heal_window"], self.config["hold"])
        self.settle_until = 0.0  # a new declaration ends the wait after another tool's change
        self.drift_logged = ""
        return True

    def note(self, signals: Sequence[Any], now: float) -> None:
        """Look at a batch of signals for checkpoints that are not ours
        (another tool or a controller's apply is changing the host)."""
        for sig in signals:
            if sig.path == NM_PATH and "Checkpoints" in sig.changed:
                if set(sig.changed["Checkpoints"]) - self.own:
                    self.settle_until = now + float(self.config["settle"])

    # -- the work
    def _apply(self, check: bool) -> Dict[str, Any]:
        """One ``apply`` of the document (check mode, or a heal); failures
        come back as results with ``failed``, ``msg`` and ``error_kind``."""
        cfg = self.config
        try:
            options = Options.from_params(cfg, check_mode=check, verify=dict(cfg["verify"] or {}, controller=False),
                                          confirm=False, environ=self.environ)
            result = apply(self.document or {}, options)
        except HostnetError as exc:
            result = dict(exc.result, failed=True, msg=exc.message, error_kind=exc.kind)
        except Exception as exc:  # the agent must outlive a bug: report it, back off, go on
            result = {"failed": True, "msg": "internal error: %s: %s" % (type(exc).__name__, exc),
                      "error_kind": "internal"}
        if result.get("checkpoint"):
            self.own.add(result["checkpoint"])
        result["check_mode"] = check
        redacted: Dict[str, Any] = redact(result, secret_values(self.document))  # the status file and the log quote it
        return redacted

    def cycle(self, now: float) -> float:
        """Check, and heal when the host drifted and nothing holds us back.
        Returns the seconds until the next check is due (the timer's
        ``interval``, or sooner to retry)."""
        interval = float(self.config["interval"])
        if self.document is None:
            self.set_state("idle", "no desired state to reconcile")
            return interval
        checked = self._apply(check=True)
        outcome = classify(checked)
        self.status["counts"]["checks"] += 1
        self.status["last_check"] = {"at": _iso(time.time()), "result": outcome,
                                     "msg": checked.get("msg", "")}
        if outcome != DRIFTED:
            return self._not_drifted(outcome, checked, interval)
        self._drift(checked)
        wait = self.backoff.wait(now)
        if wait:
            self.set_state("backing-off", "drifted; next heal in %.0f s after %d failed heal(s): %s" % (
                wait, self.backoff.failures, (self.status["last_heal"] or {}).get("reason", "")), wait)
            return min(wait, interval)
        if self.settle_until > now:
            wait = self.settle_until - now
            self.set_state("deferred", "drifted; another tool's checkpoint was open: no heal for %.0f s" % wait, wait)
            return min(wait, interval)
        if self.changing(now):
            return interval  # the burst's debounce brings the next check
        if not self.guard.allow(now):
            hold = self.guard.wait(now)
            msg = ("the state was healed %d times in %.0f s and drifted again: something keeps undoing it; "
                   "no heal for %.0f s" % (self.guard.max_heals, self.guard.window, hold))
            if self.status["state"] != "held":
                self.log("fight", msg)
            self.set_state("held", msg, hold)
            return min(hold, interval)
        return self._heal(interval)

    def changing(self, now: float) -> bool:
        """Whether NetworkManager sent signals while we checked: the host is still changing (someone
        is at work, or NM has not finished taking in a change: a heal now could race it). The
        signals start a new debounce; the check runs again once they stop."""
        if self.drift_since is None:
            self.drift_since = now
        if now - self.drift_since >= self.burst.limit:
            return False  # a host that never stops changing is healed anyway, after the debounce limit
        signals = self.watcher.wait(0) if self.watcher is not None else []
        if signals:
            self.note(signals, now)
            self.burst.signal(now)
        return bool(signals)

    def _not_drifted(self, outcome: str, checked: Dict[str, Any], interval: float) -> float:
        """Record a check that found no drift (in sync, busy, invalid, error); returns the seconds
        to the next check. A failure is logged once while its message stays the same."""
        if outcome == IN_SYNC:
            self.drift_logged, self.drift_since = "", None
            self.set_state("watching", "in sync")
            return interval
        msg = checked.get("msg", "")
        if outcome == BUSY:
            self.set_state("deferred", "busy: %s" % msg, 2.0)
            return 2.0
        if self.status["message"] != msg:
            self.log(outcome, msg)
        self.set_state(outcome, msg)
        return interval

    def _drift(self, checked: Dict[str, Any]) -> None:
        """Record and log a drift (its plan and diff), once while it stays the same."""
        plan = checked.get("plan") or []
        text = _summary(plan)
        if text != self.drift_logged:
            self.drift_logged = text
            self.status["counts"]["drifts"] += 1
            self.status["last_drift"] = {"at": _iso(time.time()), "plan": plan, "diff": checked.get("diff")}
            self.log("drift", text)

    def _heal(self, interval: float) -> float:
        """One heal (the transaction, not in check mode), recorded and logged; returns the seconds
        to the next check: ``interval`` after a heal, the back-off delay after a failure, 2 s when
        another run holds the host."""
        self.set_state("healing", self.drift_logged)
        start = time.monotonic()
        result = self._apply(check=False)
        outcome = classify(result)
        seconds = round(time.monotonic() - start, 3)
        record: Dict[str, Any] = {
            "at": _iso(time.time()), "outcome": outcome, "seconds": seconds, "plan": result.get("plan") or [],
            "timings": result.get("timings") or {}, "probes": result.get("probes") or [],
            "reason": result.get("rollback_reason") or result.get("msg") or "", "warnings": result.get("warnings")}
        if outcome == BUSY:
            self.set_state("deferred", "busy: %s" % record["reason"], 2.0)
            return 2.0
        self.drift_logged, self.drift_since = "", None
        if outcome == IN_SYNC:  # it came back by itself between the check and the heal
            self.set_state("watching", "in sync")
            return interval
        self.status["last_heal"] = record
        if outcome == HEALED:
            self.guard.record(time.monotonic())
            self.backoff.reset()
            self.status["counts"]["heals"] += 1
            self.log("heal", "healed in %.2f s: %s" % (seconds, _summary(record["plan"])))
            self.set_state("watching", "healed")
            return interval
        delay = self.backoff.failed(time.monotonic())
        self.status["counts"]["failures"] += 1
        record["restored"] = result.get("restored")
        self.log("heal-failed", "%s after %.2f s, next try in %.0f s: %s%s" % (
            outcome, seconds, delay, record["reason"],
            "" if record["restored"] in (None, True) else " (not restored: %s)" % record["restored"]))
        self.set_state("backing-off", "%s: %s" % (outcome, record["reason"]), delay)
        return delay

    def run(self, watcher_factory: Any = None) -> int:
        """The loop: wait for signals (or the timer), check, heal. Returns
        the exit status (0 after SIGTERM/SIGINT). ``watcher_factory``
        makes the signal source (default :class:`~.nm.signals.Watcher`)."""
        from .nm.signals import Watcher  # the D-Bus library is needed from here on
        factory = watcher_factory or (lambda: Watcher(self.config["bus_address"]))
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self._adopt_killed_heal()
        self.log("start", "watching NetworkManager; document %s" % self.config["desired_state"])
        timer, retry = 0.0, 1.0
        while not self.stopping:
            if self.watcher is None:
                self.watcher, retry = self._connect(factory, retry)
                timer = 0.0  # blind until now: check at once
                continue
            timer = self._step(timer)
        if self.watcher is not None:
            self.watcher.close()
        self.log("stop", "stopped")
        self.set_state("stopped")
        return 0

    def _adopt_killed_heal(self) -> None:
        """A checkpoint a killed agent left while healing is ours: the next heal resolves it (rolls it
        back) instead of waiting for it."""
        record = ledger_read()
        pid = int((record or {}).get("pid") or 0)
        if record and record.get("state") == APPLYING and not (pid > 0 and process_alive(pid)):
            self.own.add(record["path"])

    def _step(self, timer: float) -> float:
        """One turn of :meth:`run`: wait for signals until the next check is due (at most
        :data:`POLL` seconds), then check when it is. ``timer`` and the result: when the next
        timed check is due (``time.monotonic()`` seconds)."""
        burst = self.burst
        try:
            signals = self.watcher.wait(min(POLL, max(0.0, min(timer, burst.due) - time.monotonic())))
        except Exception as exc:  # the bus went away (dbus restart): reconnect
            self.log("error", "lost the D-Bus connection: %s" % exc)
            self.watcher = None
            time.sleep(POLL)
            return timer
        now = time.monotonic()
        if signals:
            self.note(signals, now)
            burst.signal(now)
        if self.reload():
            timer = now
        if self.paused():
            timer = now + POLL  # look again then; check once the pause ends
            burst.clear()
        elif now >= min(timer, burst.due):
            burst.clear()
            timer = time.monotonic() + self.cycle(now)
        return timer

    def _connect(self, factory: Any, retry: float) -> Any:
        """``(watcher or None, next retry delay)``; sleeps ``retry`` seconds on failure."""
        try:
            return factory(), 1.0
        except HostnetError as exc:
            self.log("error", "%s; retrying in %.0f s" % (exc.message, retry))
            self.set_state("error", exc.message, retry)
            time.sleep(retry)
            return None, min(retry * 2, 60.0)

    def paused(self) -> bool:
        """Whether the pause file exists (logged when that changes)."""
        path = self.config["pause_file"]
        if os.path.exists(path):
            if self.status["state"] != "paused":
                self.log("pause", "paused: %s exists" % path)
                self.set_state("paused", "paused by %s" % path)
            return True
        if self.status["state"] == "paused":
            self.log("resume", "resumed: %s is gone" % path)
            self.set_state("watching", "resumed")
        return False

    def _stop(self, signum: int, _frame: Any) -> None:
        self.stopping = True


# ------------------------------------------------------------------ command line

def _say(text: str, error: bool = False) -> None:
    """One line for the person at the command line (stdout, or stderr with ``error``)."""
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _started(pid: int) -> str:
    """When process ``pid`` started (``/proc/<pid>/stat`` field 22, clock ticks since boot), ``""``
    when it does not exist: a PID and this identify one process, even after PIDs wrap."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _pid(config: Dict[str, Any]) -> int:
    """The running agent's PID from the pid file (``PID STARTTIME``), or 0."""
    try:
        with open(config["pid_file"]) as handle:
            pid, _sep, started = handle.read().strip().partition(" ")
        pid_n = int(pid or 0)
    except (OSError, ValueError):
        return 0
    now = _started(pid_n) if pid_n > 0 else ""
    return pid_n if now and now == (started or now) else 0


def _start(config: Dict[str, Any]) -> int:
    """Start the agent detached (no systemd): double fork, new session,
    stdio to /dev/null (the log file has everything), PID in the pid file.
    Prints ``started (pid N)`` or ``already running (pid N)``."""
    running = _pid(config)
    if running:
        _say("already running (pid %d)" % running)
        return 0
    from .nm.dbus import library_name
    library_name()  # fail here, in front of the caller, when the D-Bus library is missing
    if os.fork():
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid = _pid(config)
            if pid:
                _say("started (pid %d)" % pid)
                return 0
            time.sleep(0.05)
        _say("the agent did not start; see %s" % config["log_file"], error=True)
        return 1
    os.setsid()
    if os.fork():
        os._exit(0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    code = 1
    try:
        write_atomic(config["pid_file"], "%d %s\n" % (os.getpid(), _started(os.getpid())))
        code = Agent(config).run()
        os.unlink(config["pid_file"])
    finally:
        os._exit(code)


def _stop(config: Dict[str, Any]) -> int:
    """SIGTERM the running agent and wait up to 10 s for it to exit."""
    pid = _pid(config)
    if not pid:
        _say("not running")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if process_alive(pid):
        _say("pid %d did not stop within 10 s" % pid, error=True)
        return 1
    _say("stopped (pid %d)" % pid)
    return 0


def main(argv: Optional[Sequence[str]] = None, config_path: str = CONFIG) -> int:
    """``hostnet-nm-reconciler [--config PATH] COMMAND``:

    ``run`` (in the foreground: systemd, tests), ``start`` (detached, with the
    pid file), ``stop``, ``restart``, ``status`` (the status as JSON; exit 0 when running,
    3 when not), ``pause`` / ``resume`` (create / remove the pause file).
    Returns the exit status.
    """
    parser = argparse.ArgumentParser(prog="hostnet-nm-reconciler", description="The hostnet.nm reconciler agent")
    parser.add_argument("--config", default=config_path, help="settings file (JSON), default %(default)s")
    parser.add_argument("command", choices=("run", "start", "stop", "restart", "status", "pause", "resume"))
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ValueError as exc:
        _say("hostnet-nm-reconciler: %s" % exc, error=True)
        return 2
    if args.command == "run":
        return Agent(config).run()
    if args.command == "start":
        return _start(config)
    if args.command == "stop":
        return _stop(config)
    if args.command == "restart":
        return _stop(config) or _start(config)
    if args.command == "status":
        data = status(config["status_file"])
        _say(json.dumps(data, indent=2, sort_keys=True))
        return 0 if data and data["running"] else 3
    if args.command == "pause":
        os.makedirs(os.path.dirname(config["pause_file"]), mode=0o700, exist_ok=True)
        with open(config["pause_file"], "a"):
            pass
        _say("paused (%s)" % config["pause_file"])
        return 0
    try:
        os.unlink(config["pause_file"])
    except FileNotFoundError:
        pass
    _say("resumed")
    return 0
