"""Run ansible-playbook against lab hosts and collect real task results.

``Runner(lab).apply(host, desired_state, check=False)`` writes a one-task
playbook, runs ``ansible-playbook`` over SSH with the lab inventory and returns
the task's result dict (with ``status``: ok/failed/unreachable).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = ROOT / ".venv" / "bin" / "ansible-playbook"


def control_path_env(lab: Any) -> Dict[str, str]:
    """The lab's own directory for ssh ControlMaster sockets (``/run/<prefix>/cp``), as the
    environment ansible-playbook needs: ssh's ControlPath hashes user@address:port, and every lab
    uses the same addresses, so a shared ``~/.ansible/cp`` would reuse another lab's connection.
    ``{}`` for a harness without a state dir (the kernel guest names its own ControlPath)."""
    root = getattr(lab, "root", None)
    return {"ANSIBLE_SSH_CONTROL_PATH_DIR": str(Path(root) / "cp")} if root else {}


class PlayResult:
    """Results of one ansible-playbook run: ``rc``, ``stdout``, ``tasks``
    (list of ``{host, task, status, result}``)."""

    def __init__(self, rc: int, stdout: str, tasks: List[Dict[str, Any]]) -> None:
        self.rc, self.stdout, self.tasks = rc, stdout, tasks

    def task(self, name: Optional[str] = None, host: Optional[str] = None) -> Dict[str, Any]:
        """The result of the (last) task called ``name`` on ``host``, with ``status``."""
        for item in reversed(self.tasks):
            if (name is None or item["task"] == name) and (host is None or item["host"] == host):
                return dict(item["result"], status=item["status"])
        raise AssertionError("no result for task %r on %r; ansible output:\n%s" % (name, host, self.stdout[-3000:]))


class Runner:
    """Drives ansible-playbook against a lab (``tests/lab/lab.py``)."""

    def __init__(self, lab: Any, inventory: Optional[str] = None) -> None:
        self.lab = lab
        self.inventory = inventory or lab.inventory

    def play(self, plays: List[Dict[str, Any]], *args: str, env: Optional[Dict[str, str]] = None,
             inventory: Optional[str] = None) -> PlayResult:
        """Run ``plays`` (a playbook as data) with extra CLI ``args``."""
        with tempfile.TemporaryDirectory(prefix="hostnet-play-") as tmp:
            proc = self.spawn(Path(tmp), plays, *args, env=env, inventory=inventory)
            try:
                stdout, _ = proc.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)   # the group this run started, nothing else
                raise
            return self.results(Path(tmp), proc.returncode, stdout)

    def spawn(self, tmp: Path, plays: List[Dict[str, Any]], *args: str, env: Optional[Dict[str, str]] = None,
              inventory: Optional[str] = None) -> subprocess.Popen:
        """Start ansible-playbook on ``plays`` in its own process group, its files in ``tmp``; returns
        the process (``results(tmp, ...)`` reads the task results afterwards)."""
        book = tmp / "play.yml"
        book.write_text(yaml.safe_dump(plays, sort_keys=False))
        environ = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                       ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build" / "collections"),
                       ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="hostnet_results", HOSTNET_RESULTS=str(tmp / "results.jsonl"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0", **control_path_env(self.lab))
        environ.update(env or {})
        return subprocess.Popen([str(ANSIBLE_PLAYBOOK), "-i", inventory or self.inventory, str(book), *args],
                                env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)

    @staticmethod
    def results(tmp: Path, rc: int, stdout: str) -> PlayResult:
        """The results of a run started by :meth:`spawn` in ``tmp``."""
        path = tmp / "results.jsonl"
        tasks = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        return PlayResult(rc, stdout, tasks)

    def apply(self, host: str, desired_state: Dict[str, Any], *args: str, module_args: Optional[Dict[str, Any]] = None,
              env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
        """Apply ``desired_state`` to ``host`` with hostnet.nm.network_state;
        returns the task result (``status`` ok or failed)."""
        task_args = dict(module_args or {}, desired_state=desired_state)
        play = {"hosts": host, "gather_facts": False,
                "tasks": [{"name": "apply", "hostnet.nm.network_state": task_args}]}
        if env:
            play["environment"] = env
        return self.play([play], *args).task("apply", host)

    def round_trip(self, host: str, desired_state: Dict[str, Any]) -> PlayResult:
        """One play on ``host``: tasks ``check`` (check mode, diff), ``apply``,
        ``rerun``, ``info`` (network_state_info) and ``info fed back`` (its
        document applied again), the usual proof of a kind or feature."""
        def apply(name: str, state: Any, **keywords: Any) -> Dict[str, Any]:
            return dict({"name": name, "hostnet.nm.network_state": {"desired_state": state}}, **keywords)
        return self.play([{"hosts": host, "gather_facts": False, "tasks": [
            apply("check", desired_state, check_mode=True, diff=True), apply("apply", desired_state),
            apply("rerun", desired_state), {"name": "info", "hostnet.nm.network_state_info": {}, "register": "info"},
            apply("info fed back", "{{ info.network_state }}")]}])

    def info(self, host: str) -> Dict[str, Any]:
        """``network_state_info`` of ``host`` (the ``network_state`` document)."""
        play = {"hosts": host, "gather_facts": False,
                "tasks": [{"name": "info", "hostnet.nm.network_state_info": {}}]}
        result = self.play([play]).task("info", host)
        assert result["status"] == "ok", result
        return result["network_state"]
