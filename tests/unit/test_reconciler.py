"""The reconciler's pure parts (back-off, fight-loop detection, debounce, drift classification) and
the agent's decisions, with apply() replaced by canned results (no D-Bus)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import reconciler
from ansible_collections.hostnet.nm.plugins.module_utils.reconciler import (Agent, Backoff, Debounce, FightGuard,
                                                                            classify, load_config)
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import NM_PATH
from ansible_collections.hostnet.nm.plugins.module_utils.nm.signals import Signal

PLAN = [{"op": "reapply", "interface": "eth1", "disruption": "reapply", "reason": "live state differs"}]


# ------------------------------------------------------------------ classification
@pytest.mark.parametrize("result, outcome", [
    ({"changed": False}, "in-sync"),
    ({"changed": True, "check_mode": True}, "drifted"),
    ({"changed": True}, "healed"),
    ({"failed": True, "rolled_back": True, "error_kind": "verification"}, "rolled-back"),
    ({"failed": True, "error_kind": "conflict"}, "busy"),
    ({"failed": True, "error_kind": "invalid"}, "invalid"),
    ({"failed": True, "validation_errors": [{"code": "BAD_ADDRESS"}]}, "invalid"),  # the action plugin's
    ({"failed": True, "error_kind": "dependency"}, "error"),
    ({"failed": True, "error_kind": "backend", "changed": True}, "error"),
])
def test_classify(result, outcome):
    assert classify(result) == outcome


# ------------------------------------------------------------------ back-off
def test_backoff_doubles_up_to_its_cap_and_resets():
    backoff = Backoff(2, 10)
    assert backoff.wait(0) == 0
    assert [backoff.failed(0) for _attempt in range(5)] == [2, 4, 8, 10, 10]
    assert backoff.wait(3) == 7 and backoff.wait(20) == 0
    backoff.reset()
    assert backoff.failures == 0 and backoff.wait(0) == 0 and backoff.failed(100) == 2


# ------------------------------------------------------------------ fight loops
def test_fight_guard_allows_max_heals_per_window_then_holds():
    guard = FightGuard(max_heals=3, window=60, hold=100)
    for now in (0, 10, 20):
        assert guard.allow(now)
        guard.record(now)
    assert not guard.allow(30)  # a fourth drift within 60 s: something undoes the state
    assert guard.wait(30) == 100
    assert not guard.allow(129)
    assert guard.allow(130)  # the hold is over: counting starts afresh


def test_fight_guard_forgets_heals_older_than_the_window():
    guard = FightGuard(max_heals=2, window=60, hold=100)
    guard.record(0)
    guard.record(30)
    assert guard.allow(61)  # the heal at 0 left the window


# ------------------------------------------------------------------ debounce
def test_debounce_waits_for_quiet_but_not_beyond_its_limit():
    burst = Debounce(quiet=0.3, limit=1.0)
    assert burst.due == float("inf")
    burst.signal(10.0)
    assert burst.due == pytest.approx(10.3)
    burst.signal(10.2)
    assert burst.due == pytest.approx(10.5)
    for t in (10.4, 10.6, 10.8):
        burst.signal(t)
    assert burst.due == pytest.approx(11.0)  # a storm of signals: checked 1 s after the first anyway
    burst.clear()
    assert burst.due == float("inf") and burst.first is None


# ------------------------------------------------------------------ settings and status
def test_config_defaults_file_and_unknown_keys(tmp_path):
    path = tmp_path / "reconciler.json"
    assert load_config(str(path))["interval"] == 60.0
    path.write_text(json.dumps({"interval": 5, "max_heals": 2}))
    config = load_config(str(path))
    assert (config["interval"], config["max_heals"], config["hold"]) == (5, 2, 900.0)
    path.write_text(json.dumps({"intervall": 5}))
    with pytest.raises(ValueError, match="unknown setting intervall"):
        load_config(str(path))


def test_status_of_a_dead_agent_is_not_running(tmp_path):
    path = tmp_path / "status.json"
    assert reconciler.status(str(path)) is None
    path.write_text(json.dumps({"pid": os.getpid(), "state": "watching"}))
    assert reconciler.status(str(path))["running"] is True
    path.write_text(json.dumps({"pid": 2 ** 22 + 12345, "state": "watching"}))
    assert reconciler.status(str(path))["running"] is False


# ------------------------------------------------------------------ the agent's decisions
class Clock:
    """Replaces time.monotonic in the reconciler module."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """An agent whose apply() answers from ``agent.answers`` (check mode: ``check``, heal: ``heal``)
    and records its calls in ``agent.calls``."""
    doc = tmp_path / "desired-state.json"
    doc.write_text(json.dumps({"interfaces": []}))
    config = load_config(str(tmp_path / "none.json"), {
        "desired_state": str(doc), "pause_file": str(tmp_path / "paused"), "status_file": str(tmp_path / "s.json"),
        "pid_file": str(tmp_path / "pid"), "log_file": str(tmp_path / "log" / "reconciler.log"),
        "backoff_base": 2, "backoff_max": 8, "max_heals": 2, "heal_window": 60, "hold": 100, "settle": 30})
    clock = Clock()
    monkeypatch.setattr(reconciler.time, "monotonic", clock)
    the_agent = Agent(config, environ={"SSH_CONNECTION": "1 2 3 4", "LANG": "C.UTF-8"})
    the_agent.clock = clock
    the_agent.calls = []
    the_agent.answers = {"check": {"changed": True, "plan": PLAN}, "heal": {"changed": True, "plan": PLAN}}

    def fake_apply(check):
        the_agent.calls.append("check" if check else "heal")
        return dict(the_agent.answers["check" if check else "heal"], check_mode=check)

    monkeypatch.setattr(the_agent, "_apply", fake_apply)
    assert the_agent.reload()
    return the_agent


def log_events(agent):
    with open(agent.config["log_file"]) as handle:
        return [line.split("] ", 1)[1].split(":", 1)[0] for line in handle]


def test_the_agent_has_no_controller(agent):
    assert "SSH_CONNECTION" not in agent.environ and agent.environ["LANG"] == "C.UTF-8"


def test_drift_is_logged_and_healed(agent):
    assert agent.cycle(agent.clock.now) == 60.0
    assert agent.calls == ["check", "heal"]
    assert log_events(agent) == ["document", "drift", "heal"]
    assert agent.status["state"] == "watching" and agent.status["counts"]["heals"] == 1
    assert agent.status["last_heal"]["outcome"] == "healed"
    with open(agent.config["status_file"]) as handle:
        assert json.load(handle)["last_drift"]["plan"] == PLAN


def test_in_sync_means_no_heal(agent):
    agent.answers["check"] = {"changed": False}
    agent.cycle(agent.clock.now)
    assert agent.calls == ["check"] and agent.status["message"] == "in sync"


def test_a_failed_heal_backs_off_exponentially_without_a_tight_loop(agent):
    agent.answers["heal"] = {"failed": True, "rolled_back": True, "error_kind": "verification",
                             "rollback_reason": "probe failed: icmp:198.18.1.1", "restored": True}
    delays = []
    for _attempt in range(4):
        delays.append(agent.cycle(agent.clock.now))
        assert agent.cycle(agent.clock.now) == delays[-1]  # checked again at once (a signal): no new heal
        agent.clock.now += delays[-1]
    assert delays == [2, 4, 8, 8]
    assert agent.calls.count("heal") == 4
    assert agent.status["state"] == "backing-off" and "icmp:198.18.1.1" in agent.status["message"]
    assert agent.status["last_heal"]["outcome"] == "rolled-back"
    agent.answers["heal"] = {"changed": True, "plan": PLAN}
    agent.cycle(agent.clock.now)
    assert agent.backoff.failures == 0 and agent.status["state"] == "watching"


def test_a_state_that_keeps_being_undone_is_held_and_reported(agent):
    for _heal in range(2):
        agent.cycle(agent.clock.now)
        agent.clock.now += 5
    assert agent.calls.count("heal") == 2
    hold = agent.cycle(agent.clock.now)  # drifted a third time within the window
    assert agent.calls.count("heal") == 2 and hold == 60.0
    assert agent.status["state"] == "held" and "keeps undoing" in agent.status["message"]
    assert log_events(agent).count("fight") == 1
    agent.clock.now += 100
    agent.cycle(agent.clock.now)
    assert agent.calls.count("heal") == 3


def test_busy_host_is_retried_soon_and_not_counted(agent):
    agent.answers["heal"] = {"failed": True, "error_kind": "conflict", "msg": "lock held by pid 7"}
    assert agent.cycle(agent.clock.now) == 2.0
    assert agent.backoff.failures == 0 and agent.status["state"] == "deferred"


def test_invalid_document_is_reported_once_and_never_applied(agent):
    agent.answers["check"] = {"failed": True, "error_kind": "invalid", "msg": "1 error(s) in the desired state"}
    agent.cycle(agent.clock.now)
    agent.cycle(agent.clock.now)
    assert agent.calls == ["check", "check"]
    assert log_events(agent).count("invalid") == 1 and agent.status["state"] == "invalid"


def test_another_tools_checkpoint_defers_heals_until_it_settled(agent):
    agent.own.add("/org/freedesktop/NetworkManager/Checkpoint/1")
    agent.note([Signal(NM_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                       {"Checkpoints": ["/org/freedesktop/NetworkManager/Checkpoint/1"]})], agent.clock.now)
    assert agent.settle_until == 0.0  # our own
    agent.note([Signal(NM_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                       {"Checkpoints": ["/org/freedesktop/NetworkManager/Checkpoint/9"]})], agent.clock.now)
    assert agent.cycle(agent.clock.now) == 30.0
    assert agent.calls == ["check"] and agent.status["state"] == "deferred"
    agent.clock.now += 30
    agent.cycle(agent.clock.now)
    assert agent.calls[-1] == "heal"


def test_a_new_document_resets_backoff_hold_and_settle(agent, tmp_path):
    agent.backoff.failed(agent.clock.now)
    agent.settle_until = agent.clock.now + 30
    (tmp_path / "desired-state.json").write_text(json.dumps({"interfaces": [{"name": "eth1", "state": "up"}]}))
    assert agent.reload()
    assert agent.backoff.failures == 0 and agent.settle_until == 0.0
    assert agent.document == {"interfaces": [{"name": "eth1", "state": "up"}]}
    assert not agent.reload()


def test_pause_file_stops_checks_and_is_logged(agent, tmp_path):
    (tmp_path / "paused").write_text("")
    assert agent.paused() and agent.status["state"] == "paused"
    os.unlink(tmp_path / "paused")
    assert not agent.paused() and agent.status["state"] == "watching"
    assert log_events(agent)[-2:] == ["pause", "resume"]


class Signals:
    """A watcher that always has one more signal (a host that never stops changing)."""

    def wait(self, timeout):
        return [Signal("/org/freedesktop/NetworkManager/Devices/2", "org.freedesktop.DBus.Properties",
                       "PropertiesChanged", {"State": 100})]


def test_signals_during_the_check_postpone_the_heal_but_not_for_ever(agent):
    agent.watcher = Signals()
    agent.cycle(agent.clock.now)
    assert agent.calls == ["check"]  # NM was still busy: look again once it is quiet
    assert agent.burst.due == pytest.approx(agent.clock.now + 0.3)
    agent.clock.now += 0.3
    agent.cycle(agent.clock.now)
    assert agent.calls == ["check", "check"]
    agent.clock.now += agent.config["debounce_max"]
    agent.cycle(agent.clock.now)
    assert agent.calls[-1] == "heal"  # the debounce limit is over: healed although it still changes
