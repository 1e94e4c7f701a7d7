"""Hostile input through ansible-playbook against real NetworkManager lab hosts
(issue 20, items 2, 6 and 8; cases RC-12 and RC-13): names D-Bus or the
kernel would refuse and bad timeouts are refused on the controller with a
code, the host untouched; a secret under bond options is never printed, nor
passed on any process's command line."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import List, Set

import pytest

pytestmark = pytest.mark.lab

#: unique per run: other labs on this machine may use the case's canary on their command lines
CANARY = "S3cr3t-Canary-12-%s" % secrets.token_hex(4)


def refused_on_the_controller(result):
    """The task failed in the action plugin: nothing ran on the host."""
    assert result["status"] == "failed", result
    assert result["changed"] is False
    assert "no host was contacted" in result["msg"]
    assert "invocation" not in result  # the module never ran
    return {(e["code"], e["path"]) for e in result["validation_errors"]}


NAMES = {"non-ascii": ("ethé1", "INTERFACE_NAME_INVALID"), "nul": ("eth\x001", "STRING_INVALID"),
         "escape": ("eth\x1b1", "STRING_INVALID"), "nbsp": ("eth\u00a01", "INTERFACE_NAME_INVALID")}


def test_a_name_the_kernel_or_dbus_refuses_never_reaches_the_host(lab, lab_host, runner, view):
    """A non-ASCII or NUL name used to hang the module on the host with the lock held (the bus
    dropped the connection); now the controller refuses it, wherever the name is written."""
    before = view.snapshot()
    tasks = []
    for label, (name, _code) in NAMES.items():
        doc = {"interfaces": [{"name": name, "type": "linux-bridge", "state": "up"},
                              {"name": "br1", "type": "linux-bridge", "bridge": {"port": [{"name": name}]}}],
               "routes": {"config": [{"destination": "198.19.0.0/24", "next-hop-interface": name}]}}
        tasks.append({"name": label, "hostnet.nm.network_state": {"desired_state": doc}, "ignore_errors": True})
    play = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": tasks}])
    for label, (_name, code) in NAMES.items():
        found = refused_on_the_controller(play.task(label))
        assert {(code, "interfaces[0].name"), (code, "interfaces[1].bridge.port[0].name"),
                (code, "routes.config[0].next-hop-interface")} <= found, label
    assert view.snapshot() == before
    after = runner.apply(lab_host, {"interfaces": [{"name": "eth1", "state": "up"}]})
    assert after["status"] == "ok", after  # no lock left behind: the next run applies


def test_invalid_timeouts_are_refused_with_changed_false(lab, lab_host, runner, view):
    """Item 6: 0 would turn NetworkManager's rollback off; -1 and 2**32 overflow its uint32."""
    before = view.snapshot()
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "mtu": 1400}]}
    tasks = [{"name": "rt %s" % value, "hostnet.nm.network_state": {"desired_state": doc, "rollback_timeout": value},
              "ignore_errors": True} for value in (0, -1, 2 ** 32, 4)]
    tasks += [{"name": "lock", "hostnet.nm.network_state": {"desired_state": doc, "lock_timeout": -1},
               "ignore_errors": True},
              {"name": "checkpoint", "hostnet.nm.checkpoint": {"state": "create", "rollback_timeout": 0},
               "ignore_errors": True}]
    play = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": tasks}])
    for value in (0, -1, 2 ** 32, 4):
        assert refused_on_the_controller(play.task("rt %s" % value)) == {("OPTION_OUT_OF_RANGE", "rollback_timeout")}
    assert refused_on_the_controller(play.task("lock")) == {("OPTION_OUT_OF_RANGE", "lock_timeout")}
    checkpoint = play.task("checkpoint")  # no action plugin: refused by the module, before any D-Bus call
    assert checkpoint["status"] == "failed" and checkpoint["changed"] is False
    assert checkpoint["validation_errors"][0]["code"] == "OPTION_OUT_OF_RANGE"
    assert view.snapshot() == before


class ArgvWatch:
    """Samples every process's command line on the machine (the lab hosts' processes
    included: they share its PID namespace) while a run goes on."""

    def __init__(self, needle: str) -> None:
        self.needle = needle.encode()
        self.hits: Set[str] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        argv = Path("/proc", pid, "cmdline").read_bytes()
                    except OSError:
                        continue
                    if self.needle in argv:
                        self.hits.add(argv.replace(b"\0", b" ").decode(errors="replace")[:200])
            self.samples += 1
            self._stop.wait(0.02)

    def __enter__(self) -> "ArgvWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_rc12_rc13_a_secret_under_bond_options_is_never_printed(lab, lab_host, runner, view, tmp_path):
    """RC-12: with --diff -vvv, in check mode and in a real apply (NetworkManager refuses the
    option and the change rolls back), the secret is in no output, result, warning or error.
    RC-13: no process's command line carries it during the run. The secret comes from a vars
    file, as from a vault: a literal in the task would be shown by Ansible itself, which quotes
    the playbook's source lines around a failed task."""
    before = view.snapshot()
    secrets = tmp_path / "secrets.yml"
    secrets.write_text("bond_secret: %s\n" % CANARY)
    doc = {"interfaces": [{"name": "bond9", "type": "bond", "state": "up", "ipv4": {"enabled": False},
                           "ipv6": {"enabled": False},
                           "link-aggregation": {"mode": "active-backup", "options": {
                               "miimon": "100", "password": "{{ bond_secret }}"}}}]}
    tasks = [{"name": "check", "hostnet.nm.network_state": {"desired_state": doc}, "check_mode": True},
             {"name": "apply", "hostnet.nm.network_state": {"desired_state": doc, "rollback_timeout": 20},
              "ignore_errors": True}]
    with ArgvWatch(CANARY) as watch:
        play = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": tasks}], "--diff", "-vvv",
                           "-e", "@%s" % secrets)
    assert watch.samples > 10 and watch.hits == set()
    check = play.task("check")
    assert check["status"] == "ok" and check["changed"] is True
    assert "password: <hidden>" in check["diff"]["after"]
    assert play.task("apply")["status"] in ("ok", "failed")
    assert "<hidden>" in play.stdout
    leaks: List[str] = [line for line in play.stdout.splitlines() if CANARY in line]
    assert leaks == [], leaks[:3]
    assert CANARY not in repr(play.tasks)
    assert view.snapshot() == before
