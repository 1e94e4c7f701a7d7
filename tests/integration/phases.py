"""Stop, kill or disturb a running apply from outside, at the phase a test chooses.

The shipped module has no test hooks. A test starts the apply in a thread
(:class:`Background`), and :class:`Stepper` finds the module's process through
hostnet.nm's own files in that lab host (the host lock and the checkpoint
ledger, which name the PID), checks in ``/proc`` that it is a Python process
in that host's network namespace, and then runs it in short slices
(SIGCONT ... SIGSTOP) until the sign of the phase shows while it is stopped.
The test then acts on that PID: SIGKILL, or a NetworkManager restart before
SIGCONT. Nothing is ever signalled by name.

Signs, read from outside the host (its files are under the lab's state dir):
``checkpoint``: the ledger names a checkpoint being applied; ``write``: a
profile file changed (on disk or in NM's run dir); ``activate`` and
``verify``: a predicate of the test (a device has the new address; every
device is activated).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

LEDGER = "run/hostnet-nm/checkpoint.json"
LOCK = "run/hostnet-nm.lock"
# (a host of another NetworkManager version, HNLAB_NM, keeps its /etc in fs.upper/etc)
PROFILE_DIRS = ("etc.upper/NetworkManager/system-connections", "fs.upper/etc/NetworkManager/system-connections",
                "run/NetworkManager/system-connections")


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something true (returned), else
    AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(step)


class Background:
    """``runner.apply(...)`` in a thread; :meth:`result` joins it."""

    def __init__(self, runner: Any, host: str, document: Dict[str, Any], **kwargs: Any) -> None:
        self.out: Dict[str, Any] = {}
        self.thread = threading.Thread(target=lambda: self.out.update(runner.apply(host, document, **kwargs)))
        self.thread.start()

    def result(self, timeout: float = 300) -> Dict[str, Any]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the apply did not end within %s s" % timeout
        return self.out


class Stepper:
    """The module process of one apply on ``host`` of ``lab``, held at a phase."""

    def __init__(self, lab: Any, host: str) -> None:
        self.lab, self.host = lab, host
        self.root = Path(lab.state_dir(host))
        self.netns = os.stat(lab.netns(host)).st_ino
        self.profiles_at_start = self.profile_files()
        self.old = {self._pid_in(LOCK), self._pid_in(LEDGER)}  # earlier runs' PIDs, still in those files
        self.pid = 0

    # -- signs
    def profile_files(self) -> Dict[str, Tuple[float, int]]:
        """``{path: (mtime, size)}`` of the host's profile files."""
        out = {}
        for sub in PROFILE_DIRS:
            folder = self.root / sub
            for entry in (os.scandir(folder) if folder.is_dir() else ()):
                st = entry.stat(follow_symlinks=False)
                out[entry.path] = (st.st_mtime, st.st_size)
        return out

    def ledger(self) -> Dict[str, Any]:
        try:
            return json.loads((self.root / LEDGER).read_text())
        except (OSError, ValueError):
            return {}

    def sign(self, phase: str, predicate: Optional[Callable[[], bool]] = None) -> bool:
        """Whether ``phase`` has begun (see the module doc)."""
        if phase == "checkpoint":
            return self.ledger().get("state") == "applying"
        if phase == "write":
            return self.profile_files() != self.profiles_at_start
        assert predicate is not None, "phase %s needs a predicate" % phase
        return predicate()

    # -- the process
    def _pid_in(self, name: str) -> int:
        try:
            text = (self.root / name).read_text()
        except OSError:
            return 0
        if name == LEDGER:
            try:
                return int(json.loads(text).get("pid", 0))
            except ValueError:
                return 0
        return int(text.strip() or 0) if text.strip().isdigit() else 0

    def _ours(self, pid: int) -> bool:
        """A live Python process in this host's network namespace, not an earlier run."""
        if not pid or pid in self.old:
            return False
        try:
            cmd = Path("/proc/%d/cmdline" % pid).read_bytes()
            return b"python" in cmd and os.stat("/proc/%d/ns/net" % pid).st_ino == self.netns
        except OSError:
            return False

    def find(self, timeout: float = 60) -> int:
        """Wait for the module's PID (from the lock file or the ledger) and
        stop it there. Returns the PID."""
        def found() -> int:
            return next((p for p in (self._pid_in(LOCK), self._pid_in(LEDGER)) if self._ours(p)), 0)
        self.pid = wait_for(found, timeout, "the module's process in %s" % self.host, step=0.005)
        os.kill(self.pid, signal.SIGSTOP)
        return self.pid

    def adopt(self, pid: int) -> int:
        """Hold ``pid``, a process of this host known to the test (a running
        agent), instead of waiting for a new one. Returns the PID."""
        self.old.discard(pid)
        assert self._ours(pid), "%d is not a Python process of %s" % (pid, self.host)
        self.pid = pid
        os.kill(pid, signal.SIGSTOP)
        return pid

    def mark(self) -> None:
        """Take the profile files as they are now as the start (for the ``write`` sign)."""
        self.profiles_at_start = self.profile_files()

    def alive(self) -> bool:
        try:
            stat = Path("/proc/%d/stat" % self.pid).read_text()
        except OSError:
            return False
        return stat.rpartition(")")[2].split()[0] != "Z"

    def hold_at(self, phase: str, predicate: Optional[Callable[[], bool]] = None, timeout: float = 60,
                step: float = 0.02) -> int:
        """Let the module run in ``step``-second slices until ``phase`` has
        begun; it is then stopped (SIGSTOP). Returns its PID.
        AssertionError when it ends first or ``timeout`` passes."""
        if not self.pid:
            self.find()
        deadline = time.monotonic() + timeout
        while not self.sign(phase, predicate):
            assert self.alive(), "the module ended before the %s phase" % phase
            assert time.monotonic() < deadline, "no %s phase within %s s" % (phase, timeout)
            os.kill(self.pid, signal.SIGCONT)
            time.sleep(step)
            if self.alive():
                os.kill(self.pid, signal.SIGSTOP)
        return self.pid

    def kill(self) -> None:
        """SIGKILL the held module."""
        os.kill(self.pid, signal.SIGKILL)
        wait_for(lambda: not self.alive(), 10, "module %d to die" % self.pid)

    def resume(self) -> None:
        """Let the held module go on."""
        if self.alive():
            os.kill(self.pid, signal.SIGCONT)

    def stall(self, seconds: float) -> None:
        """Keep it stopped ``seconds`` longer, then let it go on (a slow apply)."""
        time.sleep(seconds)
        self.resume()
