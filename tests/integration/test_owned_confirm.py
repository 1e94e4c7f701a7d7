"""Confirmation is owned (issue 20, items 3 and 5; CASES-2 RC-35), on a lab host's real
NetworkManager through ansible-playbook.

- A change that waits for its confirmation still holds the host: a second run waits
  (``lock_timeout``) or is refused with a clear message; it never rolls back or commits the first
  run's change. Two runs at several offsets; a sampler reads the host's addresses all along: the
  host only ever moves forward (before -> first run's state -> second run's state), and each result
  says what happened.
- A killed ansible-playbook (SIGKILL, or Ctrl-C's SIGINT) between the module's return and the
  confirmation commits nothing: NetworkManager reverts when the window ends.
- Two-step commit (RC-35): the checkpoint's path comes back in the structured result; a commit
  from a new connection finds it by that path; a foreign checkpoint is reported, not destroyed.

``hold_confirm.sh`` (an ssh ProxyCommand) holds the confirmation's fresh connection while the
host's ledger says a change is pending, until the test releases it (or for a few seconds), so the
test acts exactly inside that window however long its own ansible-playbook takes to start.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

pytestmark = pytest.mark.lab

HERE = Path(__file__).resolve().parent
#: rollback window of the killed runs (seconds): the test waits it out
KILL_WINDOW = 20
#: seconds the held connection waits before connecting, unless the test releases it sooner
HOLD = 4
#: the bound of a hold that the test releases itself (well inside the default 60 s window)
LONG_HOLD = 40


def doc(lab, host: str, last: int) -> Dict[str, Any]:
    """eth1 with one static address, 198.18.1.<last>/24."""
    return {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up",
                            "ipv4": {"enabled": True, "dhcp": False,
                                     "address": [{"ip": "198.18.1.%d" % last, "prefix-length": 24}]}}]}


def ok(result: Dict[str, Any]) -> Dict[str, Any]:
    assert result["status"] == "ok", result.get("msg", result)
    return result


def play(host: str, desired: Dict[str, Any], **module_args: Any) -> List[Dict[str, Any]]:
    return [{"hosts": host, "gather_facts": False,
             "tasks": [{"name": "apply", "hostnet.nm.network_state": dict(module_args, desired_state=desired)}]}]


def held_args(lab, host: str, flag: Path, hold: int = HOLD) -> str:
    """``-e`` JSON: ssh through hold_confirm.sh, which touches ``flag`` while a change on ``host``
    waits for its confirmation, and waits until :func:`release` (at most ``hold`` s)."""
    ledger = lab.state_dir(host) / "run" / "hostnet-nm" / "checkpoint.json"
    proxy = "%s %s %s %s %d nsenter --net=%s nc %%h %%p" % (HERE / "hold_confirm.sh", ledger, flag,
                                                            released(flag), hold, lab.netns("sw"))
    return json.dumps({"ansible_ssh_common_args": "-F %s -o %s" % (lab.ssh_config,
                                                                   shlex.quote("ProxyCommand=" + proxy))})


def released(flag: Path) -> Path:
    """The file that ends the hold of :func:`held_args`' connection."""
    return flag.with_name(flag.name + ".release")


def wait_for(path: Path, proc, bound: float = 120) -> None:
    deadline = time.monotonic() + bound
    while not path.exists():
        assert proc.poll() is None, "ansible-playbook ended before the confirmation window: %s" % (
            proc.stdout.read()[-3000:])
        assert time.monotonic() < deadline, "the change never reached its confirmation window"
        time.sleep(0.05)


class Sampler:
    """Reads eth1's addresses in a thread until stopped: ``samples`` is ``[[address/prefix...]]``."""

    def __init__(self, view) -> None:
        self.view, self.samples, self._stop = view, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.view.addresses("eth1"))
            time.sleep(0.05)

    def stop(self) -> List[List[str]]:
        self._stop.set()
        self._thread.join()
        self.samples.append(self.view.addresses("eth1"))
        return self.samples


def assert_forward(samples: List[List[str]], states: List[List[str]]) -> None:
    """Every sample is one of ``states`` (before, first run, second run), or on the way from one to
    the next (NetworkManager replaces addresses one by one: a sample may hold a part of both, or
    none), and the host only moves forward through them: a change is never undone by the other run.
    A sample that fits more than one step (no address at all) says nothing about the order."""
    places = [_places(s, states) for s in samples]
    assert [] not in places, "a sample in no document's state: %s" % samples[places.index([])]
    order = [p[0] for p in places if len(p) == 1]
    assert order == sorted(order), "the host went back: %s" % samples


def _places(sample: List[str], states: List[List[str]]) -> List[float]:
    """Where ``sample`` can be: ``[i]`` when it is ``states[i]``, else ``i + 0.5`` for each ``i``
    where it is a part of ``states[i]`` and ``states[i + 1]`` together."""
    if sample in states:
        return [float(states.index(sample))]
    return [i + 0.5 for i in range(len(states) - 1) if set(sample) <= set(states[i]) | set(states[i + 1])]


def two_runs(lab, host, runner, view, tmp: Path, offset: Optional[float], lock_timeout: int,
             ) -> Tuple[Dict[str, Any], Dict[str, Any], List[List[str]]]:
    """Run A (.51) and, ``offset`` s later, B (.52) with ``lock_timeout``; ``offset=None`` starts
    B exactly when A's change waits for its confirmation: a refused B (``lock_timeout=0``) then
    decides while A's confirmation is held, however long its start takes. Returns (A's result, B's
    result, samples)."""
    ok(runner.apply(host, doc(lab, host, 50)))   # the state before, confirmed
    flag = tmp / "pending"
    refused = offset is None and lock_timeout == 0
    first_args = ("-e", held_args(lab, host, flag, LONG_HOLD if refused else HOLD)) if offset is None else ()
    out: Dict[str, Any] = {}
    sampler = Sampler(view)
    first = runner.spawn(_dir(tmp, "a"), play(host, doc(lab, host, 51), lock_timeout=lock_timeout), *first_args)
    if offset is None:
        wait_for(flag, first)
    else:
        time.sleep(offset)
    # its own ControlPath: never the first run's ssh master (held or not)
    second = threading.Thread(target=lambda: out.update(b=runner.play(
        play(host, doc(lab, host, 52), lock_timeout=lock_timeout),
        env={"ANSIBLE_SSH_CONTROL_PATH_DIR": str(short_dir(lab))}).task("apply", host)))
    second.start()
    if refused:
        second.join(300)
        released(flag).touch()   # B has decided: A's confirmation may go ahead
    stdout, _ = first.communicate(timeout=300)
    second.join(300)
    samples = sampler.stop()
    return runner.results(tmp / "a", first.returncode, stdout).task("apply", host), out["b"], samples


def short_dir(lab) -> Path:
    """A fresh directory under the lab's state dir: ssh's ControlPath is a unix socket, whose
    path may not exceed 107 bytes, and pytest's tmp_path below make test's TMPDIR can be longer."""
    return Path(tempfile.mkdtemp(prefix="cp", dir=str(lab.root)))


def _dir(tmp: Path, name: str) -> Path:
    path = tmp / name
    path.mkdir(exist_ok=True)
    return path


def addr(last: int) -> List[str]:
    return ["198.18.1.%d/24" % last]


@pytest.mark.parametrize("offset", [None, 0, 1, 2.5, 5], ids=["in-window", "0s", "1s", "2.5s", "5s"])
def test_second_run_waits_for_the_first_runs_confirmation(lab, lab_host, runner, view, tmp_path, offset):
    a, b, samples = two_runs(lab, lab_host, runner, view, tmp_path, offset, lock_timeout=90)
    ok(a), ok(b)
    assert a["changed"] and a["confirmed"] is True and a["rolled_back"] is False, a
    assert b["changed"] and b["confirmed"] is True and b["rolled_back"] is False, b
    # whichever got the host first: the other one's "before" is its confirmed state, never the old one
    a_first = "198.18.1.51" in b["diff"]["before"]
    assert a_first != ("198.18.1.52" in a["diff"]["before"]), (a["diff"], b["diff"])
    if offset is None:
        assert a_first, "B started while A's change waited for its confirmation"
    order = [addr(50), addr(51), addr(52)] if a_first else [addr(50), addr(52), addr(51)]
    assert_forward(samples, order)
    assert view.addresses("eth1") == order[-1]
    assert view.checkpoints() == "ao 0"


def test_second_run_without_lock_timeout_is_refused_and_undoes_nothing(lab, lab_host, runner, view, tmp_path):
    a, b, samples = two_runs(lab, lab_host, runner, view, tmp_path, None, lock_timeout=0)
    ok(a)
    assert a["confirmed"] is True and a["rolled_back"] is False
    assert b["status"] == "failed" and b["changed"] is False
    assert "is waiting for its confirmation" in b["msg"] and "set lock_timeout" in b["msg"], b["msg"]
    assert_forward(samples, [addr(50), addr(51)])
    assert view.addresses("eth1") == addr(51)
    assert view.checkpoints() == "ao 0"


def stable(view) -> Dict[str, Any]:
    snap = view.snapshot()
    snap["profiles"] = [{k: v for k, v in p.items() if k != "timestamp"} for p in snap["profiles"]]
    return snap


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_killed_playbook_commits_nothing(lab, lab_host, runner, view, tmp_path, signum):
    ok(runner.apply(lab_host, doc(lab, lab_host, 50)))
    before = stable(view)
    flag = tmp_path / "pending"
    proc = runner.spawn(tmp_path, play(lab_host, doc(lab, lab_host, 53), rollback_timeout=KILL_WINDOW),
                        "-e", held_args(lab, lab_host, flag))
    try:
        wait_for(flag, proc)      # the module returned; the confirmation's connection is held
        assert view.addresses("eth1") == addr(53)
        os.kill(proc.pid, signum)   # ansible-playbook, started by this test
        killed_at = time.monotonic()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)   # the process group this test started
    # a surviving worker would commit HOLD s after the flag, long before NetworkManager's window ends
    deadline = killed_at + KILL_WINDOW + 20
    while stable(view) != before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stable(view) == before    # NetworkManager reverted: nothing was committed
    assert view.addresses("eth1") == addr(50)
    assert ok(runner.apply(lab_host, doc(lab, lab_host, 50)))["changed"] is False   # the next run goes ahead


def test_two_step_commit_finds_its_checkpoint_by_path_and_spares_a_foreign_one(lab, lab_host, runner, view):
    """RC-35: apply inside a group checkpoint, then commit from a new ansible-playbook run (a new
    SSH connection) by the path in the structured result; a foreign checkpoint is reported."""
    opened = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        {"name": "open", "hostnet.nm.checkpoint": {"state": "create", "rollback_timeout": 60}},
        {"name": "apply", "hostnet.nm.network_state": {"desired_state": doc(lab, lab_host, 54)}}]}])
    assert opened.rc == 0, opened.stdout[-3000:]
    path = opened.task("open")["checkpoint"]
    assert path.startswith("/org/freedesktop/NetworkManager/Checkpoint/")
    assert opened.task("apply")["checkpoint"] == path
    # a foreign checkpoint (ALLOW_OVERLAPPING, 0x8), as another tool would make
    foreign = view.run("busctl", "call", "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
                       "org.freedesktop.NetworkManager", "CheckpointCreate", "aouu", "0", "60", "8"
                       ).split()[-1].strip('"')
    try:
        commit = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
            {"name": "foreign", "hostnet.nm.checkpoint": {"state": "commit", "checkpoint": foreign},
             "ignore_errors": True},
            {"name": "ours", "hostnet.nm.checkpoint": {"state": "commit", "checkpoint": path}}]}])
        refused = commit.task("foreign")
        assert refused["status"] == "failed" and foreign in refused["msg"] and "not touching it" in refused["msg"]
        assert commit.task("ours")["status"] == "ok" and commit.task("ours")["state"] == "commit"
        assert foreign in view.checkpoints() and path not in view.checkpoints()
        assert view.addresses("eth1") == addr(54)
    finally:
        view.run("busctl", "call", "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
                 "org.freedesktop.NetworkManager", "CheckpointDestroy", "o", foreign)
    assert view.addresses("eth1") == addr(54)   # committed: destroying the foreign one keeps it
