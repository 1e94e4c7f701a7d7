"""D-Bus faults on a lab host's real system bus and NetworkManager, with the host's own Python and
both D-Bus libraries (issue 20 item 2, host half; CASES-2 RC-28).

- A string the bus refuses (a NUL, a lone surrogate standing for a byte that is not UTF-8) reaches
  the module's D-Bus seam: dbus-daemon drops the connection. The run ends within a bound with an
  ``NmError`` (no traceback), the change is rolled back through a new connection, and the host's
  lock is free. (The controller refuses such names first; the test goes around validation.)
- NetworkManager stops answering: the call ends at its timeout.
- RC-28: NetworkManager just restarted: a run waits for its startup to complete and then reads
  the whole state, never a part; NetworkManager not running: a clear "not ready" error within the
  bound.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lab import Lab

pytestmark = pytest.mark.lab

COLLECTIONS = Path(__file__).resolve().parents[2] / "build" / "collections"
LIBRARIES = ["dbus_fast", "dbus_next"]

PRELUDE = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
from ansible_collections.hostnet.nm.plugins.module_utils import info, transaction, validation
from ansible_collections.hostnet.nm.plugins.module_utils.errors import HostnetError
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import NM_PATH, Bus, Call
from ansible_collections.hostnet.nm.plugins.module_utils.transaction import HostLock, Options
def report(**kw):
    print(json.dumps(kw, default=str))
'''

# a bridge whose name the bus refuses, applied through transaction.apply (the module's core)
BAD_NAME = PRELUDE + r'''
bad = json.loads(sys.argv[2])
good = {"interfaces": [{"name": "brx0", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
                        "ipv6": {"enabled": False}, "bridge": {"options": {"stp": {"enabled": False}}}}]}
real = validation.check
def around(document):
    doc, warnings = real(good)
    doc["interfaces"][0]["name"] = bad
    return doc, warnings
validation.check = around
start = time.monotonic()
try:
    transaction.apply(good, Options(verify={"enabled": False}, confirm=False, rollback_timeout=60))
    report(failed=False)
except HostnetError as exc:
    seconds = time.monotonic() - start
    free = HostLock(0)
    free.acquire()          # raises if the run still held the host's lock
    free.release()
    report(failed=True, type=type(exc).__name__, kind=exc.kind, msg=exc.message, seconds=seconds,
           rolled_back=exc.result.get("rolled_back"), restored=exc.result.get("restored"),
           library=Bus(ready_timeout=0).library)
'''

# one call while NetworkManager is stopped (SIGSTOP, by the lab's PID of it)
FROZEN = PRELUDE + r'''
import os, signal
bus = Bus(timeout=2)
pid = int(sys.argv[2])
os.kill(pid, signal.SIGSTOP)
start = time.monotonic()
try:
    bus.get(NM_PATH, "org.freedesktop.NetworkManager", "Version")
    report(failed=False)
except HostnetError as exc:
    report(failed=True, type=type(exc).__name__, msg=exc.message, seconds=time.monotonic() - start)
finally:
    os.kill(pid, signal.SIGCONT)
'''

SHOW = PRELUDE + r'''
start = time.monotonic()
print("began", flush=True)  # the test restarts NetworkManager only once the run is under way
try:
    report(failed=False, state=info.describe()["network_state"], seconds=time.monotonic() - start)
except HostnetError as exc:
    report(failed=True, type=type(exc).__name__, msg=exc.message, seconds=time.monotonic() - start)
'''

NOT_RUNNING = PRELUDE + r'''
start = time.monotonic()
try:
    Bus(ready_timeout=2)
    report(failed=False)
except HostnetError as exc:
    report(failed=True, type=type(exc).__name__, msg=exc.message, seconds=time.monotonic() - start)
'''


def in_host(lab: Lab, host: str, script: str, library: str, *args: str, timeout: float = 90) -> dict:
    proc = lab.run(host, "env", "HOSTNET_NM_DBUS_LIBRARY=%s" % library, "/usr/bin/python3", "-B", "-c", script,
                   lab.collection_in(host, COLLECTIONS), *args, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]    # a hang fails at the timeout, a traceback here
    return json.loads(proc.stdout.strip().splitlines()[-1])


def nm_pid(lab: Lab, host: str) -> int:
    return int((lab.state_dir(host) / "pids" / "nm.pid").read_text())


def stop_nm(lab: Lab, host: str) -> None:
    """Stop the host's NetworkManager (the lab started it; its PID from the lab's pidfile)."""
    pid = nm_pid(lab, host)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while Path("/proc/%d" % pid).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("name", ["br\u0000x", "br\udcffx"], ids=["NUL", "not-UTF-8"])
def test_string_the_bus_refuses_ends_the_run_and_frees_the_lock(lab, lab_host, view, library, name):
    before = view.snapshot()
    out = in_host(lab, lab_host, BAD_NAME, library, json.dumps(name))
    assert out["failed"] is True and out["library"] == library
    assert out["type"] == "NmError" and "D-Bus" in out["msg"], out
    assert out["seconds"] < 20, out                  # well within one call's timeout: no hang
    assert out["rolled_back"] is True and out["restored"] is True, out
    assert view.checkpoints() == "ao 0"
    assert "brx0" not in view.links()
    assert view.snapshot() == before


@pytest.mark.parametrize("library", LIBRARIES)
def test_call_ends_at_its_timeout_when_networkmanager_does_not_answer(lab, lab_host, library):
    pid = nm_pid(lab, lab_host)
    try:
        out = in_host(lab, lab_host, FROZEN, library, str(pid))
    finally:
        os.kill(pid, signal.SIGCONT)
    assert out["failed"] is True and out["type"] == "NmError", out
    assert "did not answer" in out["msg"] and "within 2 s" in out["msg"], out
    assert 1.5 <= out["seconds"] < 10, out


def test_run_right_after_a_networkmanager_restart_waits_for_its_startup(lab, lab_host):
    """RC-28: NetworkManager's D-Bus name and tree appear while it starts: a run waits for the
    end of its startup and then reads everything, never a part."""
    whole = in_host(lab, lab_host, SHOW, "dbus_fast")
    assert whole["failed"] is False
    for _ in range(3):
        stop_nm(lab, lab_host)
        run = subprocess.Popen(lab.enter_argv(lab_host) + [
            "/usr/bin/python3", "-B", "-c", SHOW, lab.collection_in(lab_host, COLLECTIONS)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # the run is under way while NetworkManager is stopped (a condition, not a sleep: under
            # load the interpreter's start alone can take longer than any fixed delay)
            assert run.stdout.readline().strip() == "began", run.stderr.read()[-3000:]
            lab.restart_nm(lab_host)         # starts it again (it is not running)
            stdout, stderr = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
        out = json.loads(stdout.strip().splitlines()[-1])
        assert out["failed"] is False, out
        # it began while NetworkManager was stopped and read the whole state: it waited for the startup
        assert out["state"] == whole["state"], (out, stderr[-3000:])


def test_networkmanager_not_running_is_a_clear_error_within_the_bound(lab, lab_host):
    stop_nm(lab, lab_host)
    try:
        out = in_host(lab, lab_host, NOT_RUNNING, "dbus_next")
    finally:
        lab.restart_nm(lab_host)
    assert out["failed"] is True and out["type"] == "DependencyError", out
    assert "not ready" in out["msg"] and "NetworkManager is not running" in out["msg"], out
    assert 1.5 <= out["seconds"] < 10, out
