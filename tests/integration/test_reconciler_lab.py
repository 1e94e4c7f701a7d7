"""The reconciler agent (role hostnet.nm.reconciler) on a lab host: it puts a deleted address and a
hand-edited profile back within seconds, leaves what the document does not name alone, leaves the
host as it was when killed mid-heal, rolls back and backs off when a heal fails its probes, holds
off when something keeps undoing the state, and pauses for maintenance.

The agent runs as a plain process in the lab (no systemd). Every agent a test starts is stopped by
the fixtures, also when the test fails."""

from __future__ import annotations

import json
import time

import pytest

from ansible_run import Runner
from hostview import HostView
from phases import Stepper
from reconciler_agent import Agent, document, install_play, wait_for

pytestmark = pytest.mark.lab
HOST = "h1"


@pytest.fixture(scope="module")
def installed(lab):
    """The role run once on h1 (fresh): ``(play result, Agent)``; the agent it started is stopped
    at the end of the module."""
    lab.reset(HOST)
    agent = Agent(lab, HOST)
    try:
        yield Runner(lab).play(install_play(HOST, document(lab, HOST))), agent
    finally:
        agent.stop()


@pytest.fixture
def agent(lab, installed):
    """h1 without an agent running, reset to pristine, and the installed agent to configure and
    start (stopped after the test)."""
    handle = installed[1]
    handle.stop()
    lab.reset(HOST)
    try:
        yield handle
    finally:
        handle.stop()


def live_addresses(lab, dev="eth1"):
    return HostView(lab, HOST).addresses(dev)


def profile_of(lab, dev="eth1"):
    return lab.run(HOST, "nmcli", "-g", "GENERAL.CONNECTION", "device", "show", dev).stdout.strip()


def declared(lab):
    return "%s/24" % lab.data_ip(HOST, 1)


def host_state(lab):
    """What "as it was" compares: eth1's profile settings and live addresses, checkpoints."""
    view = HostView(lab, HOST)
    return {"profile": view.profile_fields(profile_of(lab) or "eth1", "ipv4.addresses", "ipv4.method"),
            "live": view.addresses("eth1"), "checkpoints": view.checkpoints()}


def edit_profile_by_hand(lab, address="198.18.1.99/24"):
    name = profile_of(lab)
    lab.run(HOST, "nmcli", "connection", "modify", name, "ipv4.addresses", address)
    lab.run(HOST, "nmcli", "connection", "up", name)


def test_the_role_installs_a_running_agent_and_a_rerun_changes_nothing(lab, installed):
    result, agent = installed
    assert result.rc == 0, result.stdout[-3000:]
    status = wait_for(lambda: (agent.status().get("last_check") or {}).get("result") == "in-sync" and agent.status(),
                      30, "the agent to find the host in sync")
    assert status["pid"] == agent.pid() and status["state"] == "watching"
    assert live_addresses(lab) == [declared(lab)]  # the new document was applied by the agent
    modes = lab.run(HOST, "stat", "-c", "%a %U %n", "/etc/hostnet-nm", "/etc/hostnet-nm/desired-state.json",
                    "/etc/hostnet-nm/reconciler.json").stdout.split("\n")
    assert modes[:3] == ["700 root /etc/hostnet-nm", "600 root /etc/hostnet-nm/desired-state.json",
                         "600 root /etc/hostnet-nm/reconciler.json"]
    assert "desired_state" not in result.stdout  # the document stays out of the output (no_log)
    again = Runner(lab).play(install_play(HOST, document(lab, HOST)))
    assert again.rc == 0 and [t["task"] for t in again.tasks if t["result"].get("changed")] == []
    assert agent.status()["pid"] == status["pid"]  # not restarted


def test_a_deleted_address_is_back_within_5_s_and_info_shows_the_heal(lab, agent):
    agent.configure(document(lab, HOST))
    agent.start()  # its first heal applies the new document to the pristine host
    start = time.monotonic()
    lab.run(HOST, "ip", "addr", "del", declared(lab), "dev", "eth1")
    wait_for(lambda: live_addresses(lab) == [declared(lab)], 5, "the address to come back")
    print("\naddress back after %.2f s" % (time.monotonic() - start))
    wait_for(lambda: agent.status().get("counts", {}).get("heals") == 2, 5, "the heal's status")
    assert "198.19.5.0/24" in lab.run(HOST, "ip", "route").stdout  # the route through it is back too
    assert len(agent.events("drift")) == 2 and len(agent.events("heal")) == 2
    assert "ipv4.address (live)" in agent.events("drift")[1] and "reapply eth1" in agent.events("heal")[1]
    info = Runner(lab).play([{"hosts": HOST, "gather_facts": False,
                              "tasks": [{"name": "info", "hostnet.nm.network_state_info": {}}]}]).task("info", HOST)
    assert info["reconciler"]["running"] is True and info["reconciler"]["last_heal"]["outcome"] == "healed"
    assert info["reconciler"]["counts"]["heals"] == 2


def test_pause_for_maintenance(lab, agent):
    agent.configure(document(lab, HOST))
    agent.start()
    agent.command("pause")
    wait_for(lambda: agent.status().get("state") == "paused", 5, "the agent to pause")
    lab.run(HOST, "ip", "addr", "del", declared(lab), "dev", "eth1")
    time.sleep(3)
    assert live_addresses(lab) == [] and len(agent.events("heal")) == 1  # the first apply only
    agent.command("resume")
    wait_for(lambda: live_addresses(lab) == [declared(lab)], 5, "the heal after resume")


def test_a_hand_edited_profile_is_back_to_the_declared_values(lab, agent):
    agent.configure(document(lab, HOST))
    agent.start()
    start = time.monotonic()
    edit_profile_by_hand(lab)
    # usually well under a second (bench/drift_heal.py); the admin's "up" may race the first heal
    wait_for(lambda: host_state(lab)["profile"]["ipv4.addresses"] == declared(lab)
             and live_addresses(lab) == [declared(lab)], 10, "the declared profile and address")
    print("\nprofile back after %.2f s" % (time.monotonic() - start))


def test_an_interface_the_document_does_not_name_stays_as_the_admin_left_it(lab, agent):
    agent.configure(document(lab, HOST))
    agent.start()
    lab.run(HOST, "nmcli", "connection", "add", "type", "ethernet", "ifname", "eth2", "con-name", "admin-eth2",
            "ipv4.method", "manual", "ipv4.addresses", "198.18.2.77/24", "ipv6.method", "disabled")
    lab.run(HOST, "nmcli", "connection", "up", "admin-eth2")
    lab.run(HOST, "nmcli", "connection", "modify", "admin-eth2", "ipv4.addresses", "198.18.2.78/24")
    # a drift of eth1 too, so that the agent certainly checked and healed after the eth2 changes
    lab.run(HOST, "ip", "addr", "del", declared(lab), "dev", "eth1")
    wait_for(lambda: live_addresses(lab) == [declared(lab)], 5, "eth1's heal")
    wait_for(lambda: agent.status().get("state") == "watching", 5, "the heal to end")
    view = HostView(lab, HOST)
    assert view.profile_fields("admin-eth2", "ipv4.addresses")["ipv4.addresses"] == "198.18.2.78/24"
    assert view.addresses("eth2") == ["198.18.2.77/24"]  # modified but not re-applied: the admin's business
    assert "eth2" not in agent.log()


@pytest.mark.parametrize("phase", ["checkpoint", "write", "activate"])
def test_an_agent_killed_mid_heal_leaves_the_host_as_it_was(lab, agent, phase):
    agent.configure(document(lab, HOST))
    stepper = Stepper(lab, HOST)
    stepper.adopt(agent.start())  # an agent in sync, stopped (SIGSTOP) from here
    try:
        edit_profile_by_hand(lab)  # the drift, while the agent is stopped
        as_it_was = host_state(lab)
        assert as_it_was["live"] == ["198.18.1.99/24"]
        stepper.mark()
        # the heal is held at the phase and killed from here, by its PID
        stepper.hold_at(phase, lambda: live_addresses(lab) == [declared(lab)])
        stepper.kill()
    finally:
        stepper.resume()
    # NetworkManager rolls the heal back when its checkpoint's window (8 s) closes
    wait_for(lambda: host_state(lab) == as_it_was, 20, "the host as it was: %s" % as_it_was, step=0.2)
    agent.start()  # a new agent heals, after resolving what the dead one left
    assert host_state(lab)["profile"]["ipv4.addresses"] == declared(lab)


def test_a_heal_that_fails_its_probes_is_rolled_back_and_retried_with_backoff(lab, agent):
    blackhole = ["ip", "route", "add", "blackhole", "%s/32" % lab.data_ip(HOST, 1)]
    agent.configure(document(lab, HOST), verify={"gateway": False, "dns": False, "targets": [{"host": "198.18.1.1"}],
                                                 "timeout": 0.5, "attempts": 2, "interval": 0.2})
    agent.start()  # the declared state passes its probe: the router answers
    agent.stop()
    agent.clear_log()
    lab.run("sw", *blackhole)  # from now on the router's answers to the declared address are lost
    try:
        edit_profile_by_hand(lab)  # the drift: from .99, the router still answers
        agent.start(in_sync=False)
        time.sleep(16)
        failures = agent.events("heal-failed")
        status = agent.status()
        state = host_state(lab)
    finally:
        agent.stop()
        lab.run("sw", "ip", "route", "del", "blackhole", "%s/32" % lab.data_ip(HOST, 1))
    # attempts at about 0, 2, 6 and 14 s (back-off 2, 4, 8 s, plus each heal's own time): no tight loop
    assert 2 <= len(failures) <= 4, agent.log()
    assert all("rolled-back" in line and "icmp:198.18.1.1" in line for line in failures)
    assert status["state"] == "backing-off" and status["last_heal"]["outcome"] == "rolled-back"
    assert status["last_heal"]["restored"] is True and agent.events("heal") == []
    assert state["live"] == ["198.18.1.99/24"] and state["profile"]["ipv4.addresses"] == "198.18.1.99/24"
    assert state["checkpoints"].endswith("0")  # busctl: 'ao 0'
    stamps = [time.mktime(time.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%SZ")) for line in failures]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert gaps == sorted(gaps) and gaps[0] >= 2, failures


def test_a_state_that_keeps_being_undone_is_held_and_reported(lab, agent):
    agent.configure(document(lab, HOST), max_heals=3, heal_window=120, hold=60)
    agent.start()
    for n in (1, 2):
        lab.run(HOST, "ip", "addr", "del", declared(lab), "dev", "eth1")
        wait_for(lambda: live_addresses(lab) == [declared(lab)], 5, "heal %d" % n)
        wait_for(lambda: agent.status().get("state") == "watching", 5, "the end of heal %d" % n)
    lab.run(HOST, "ip", "addr", "del", declared(lab), "dev", "eth1")
    wait_for(lambda: agent.status().get("state") == "held", 5, "the agent to hold off")
    time.sleep(2)
    assert live_addresses(lab) == [] and len(agent.events("heal")) == 3  # the first apply, then 2 heals
    assert len(agent.events("fight")) == 1 and "keeps undoing" in agent.status()["message"]
    assert json.loads(json.dumps(agent.status()))["next_attempt"]
