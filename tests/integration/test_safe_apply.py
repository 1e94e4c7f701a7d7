"""Safe apply against lab hosts: checkpoints, probes, rollback, confirmed
commit, the controller's own address, killed runs and concurrent runs
(issue: safe apply, and the CASES.md cases BC-16, BC-18, BC-19, BC-21)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from phases import Background, Stepper

pytestmark = pytest.mark.lab


def eth1(lab, host, address=None, prefix=24):
    return {"name": "eth1", "type": "ethernet", "state": "up",
            "ipv4": {"enabled": True, "dhcp": False,
                     "address": [{"ip": address or lab.data_ip(host, 1), "prefix-length": prefix}]}}


def base_state(lab, host):
    """eth1 with a default route via the lab router and the router as DNS server."""
    return {"interfaces": [eth1(lab, host)],
            "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1",
                                   "next-hop-interface": "eth1"}]},
            "dns-resolver": {"config": {"server": ["198.18.1.1"], "search": ["lab.test"]}}}


def ok(result):
    assert result["status"] == "ok", result.get("msg", result)
    return result


def stable(view):
    """What a rollback must restore exactly."""
    snap = view.snapshot()
    snap["profiles"] = [{k: v for k, v in p.items() if k != "timestamp"} for p in snap["profiles"]]
    return snap


@pytest.mark.nm_versions
def test_dns_server_that_does_not_exist_is_rolled_back(lab, lab_host, runner, view):
    ok(runner.apply(lab_host, base_state(lab, lab_host)))
    resolv = view.resolv_conf()
    before = stable(view)
    result = runner.apply(lab_host, {"dns-resolver": {"config": {"server": ["198.18.1.253"]}}},
                          module_args={"rollback_timeout": 30})
    assert result["status"] == "failed" and result["rolled_back"] is True
    assert "dns:198.18.1.253" in result["rollback_reason"]
    probe = next(p for p in result["probes"] if p["target"] == "198.18.1.253")
    assert probe["ok"] is False and probe["baseline"] == "new"
    assert result["restored"] is True
    assert view.resolv_conf() == resolv  # byte-identical
    assert view.checkpoints() == "ao 0"  # BC-16: nothing leaked
    assert stable(view) == before
    ok(runner.apply(lab_host, base_state(lab, lab_host)))  # an immediate valid run succeeds


def test_removing_the_route_to_the_gateway_is_rolled_back(lab, lab_host, runner, view):
    ok(runner.apply(lab_host, base_state(lab, lab_host)))
    result = runner.apply(lab_host, {"routes": {"config": [{"destination": "0.0.0.0/0", "state": "absent"}]}})
    assert result["status"] == "failed" and result["rolled_back"] is True
    assert "gateway" in result["rollback_reason"]
    assert view.routes("default")[0]["gateway"] == "198.18.1.1"
    assert view.checkpoints() == "ao 0"


def test_a_probe_that_failed_before_does_not_block(lab, lab_host, runner, view):
    # the lab host has no default route at first: the gateway probe fails before and after
    result = ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]},
                             module_args={"verify": {"targets": [{"host": "198.18.1.1"}]}}))
    gateway = [p for p in result["probes"] if p["kind"] == "gateway"]
    assert gateway and all(p["baseline"] == "failed" for p in gateway)
    assert "no IPv4 default route" in gateway[0]["detail"] or "default route" in gateway[0]["detail"]
    target = next(p for p in result["probes"] if p["target"] == "198.18.1.1")
    assert target["ok"] is True


def test_gateway_found_in_main_table_with_any_metric(lab, lab_host, runner, view):
    # BC-21: the only default route is on a bridge, metric 426; the probe finds and pings it
    state = {"interfaces": [{"name": "br21", "type": "linux-bridge", "state": "up",
                             "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "eth1"}]},
                             "ipv4": {"enabled": True, "dhcp": False,
                                      "address": [{"ip": lab.data_ip(lab_host, 1), "prefix-length": 24}]}}],
             "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1",
                                    "next-hop-interface": "br21", "metric": 426}]}}
    start = time.monotonic()
    result = ok(runner.apply(lab_host, state))
    gateway = next(p for p in result["probes"] if p["kind"] == "gateway")
    assert gateway["target"].startswith("198.18.1.1") and gateway["ok"] is True
    assert time.monotonic() - start < 60


def stalled(lab, host, phase, seconds, predicate=None):
    """A :class:`Stepper` for an apply about to start on ``host``; :meth:`run` holds the module at
    ``phase`` for ``seconds`` (a slow apply), always letting it go on."""
    stepper = Stepper(lab, host)

    def run():
        try:
            stepper.hold_at(phase, predicate)
            stepper.stall(seconds)
        finally:
            stepper.resume()
    return run


def test_checkpoint_window_is_extended_while_activation_is_slow(lab, lab_host, runner, view):
    # BC-18: a slow activation outlasts the first window; the window restarts before verification
    want = [lab.data_ip(lab_host, 1) + "/24"]
    hold = stalled(lab, lab_host, "activate", 4, lambda: view.addresses("eth1") == want)
    apply = Background(runner, lab_host, {"interfaces": [eth1(lab, lab_host)]}, module_args={"rollback_timeout": 6})
    hold()
    result = ok(apply.result())
    assert result["confirmed"] is True
    time.sleep(3)  # past the first window: still applied
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]


def test_checkpoint_that_expires_first_is_reported_as_rolled_back(lab, lab_host, runner, view):
    # BC-18: if NM rolled back first, say so, never success
    before = stable(view)
    hold = stalled(lab, lab_host, "write", 7)
    apply = Background(runner, lab_host, {"interfaces": [eth1(lab, lab_host)]}, module_args={"rollback_timeout": 5})
    hold()
    result = apply.result()
    assert result["status"] == "failed"
    assert "rolled back by timeout" in result["msg"]
    assert result["rolled_back"] is True and result["restored"] is True
    assert stable(view) == before


@pytest.mark.parametrize("phase", ["checkpoint", "write", "activate", "verify"])
def test_killed_module_leaves_the_host_as_it_was(lab, lab_host, runner, view, phase):
    ok(runner.apply(lab_host, base_state(lab, lab_host)))
    before = stable(view)
    changed = bigger_change(lab, lab_host)
    kill_at(lab, lab_host, view, phase, changed, runner, 5)
    deadline = time.monotonic() + 15
    while stable(view) != before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stable(view) == before, phase  # NM's own timer restored everything
    assert "br9" not in view.links()
    # issue 20: a killed run is invisible to the next; the same document applies, and back again
    assert ok(runner.apply(lab_host, changed))["changed"] is True
    assert view.addresses("eth1") == ["198.18.1.99/24"] and "br9" in view.links()
    ok(runner.apply(lab_host, base_state(lab, lab_host)))


def bigger_change(lab, host):
    """The base state with eth1 moved to .99 and a new bridge br9."""
    changed = base_state(lab, host)
    changed["interfaces"] = [eth1(lab, host, "198.18.1.99"),
                             {"name": "br9", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
                              "ipv6": {"enabled": False}, "bridge": {"options": {"stp": {"enabled": False}}}}]
    return changed


def without_loopback(view):
    """:func:`stable` without NetworkManager's own loopback profile (a new UUID at each start)."""
    snap = stable(view)
    snap["profiles"] = [p for p in snap["profiles"] if p["type"] != "loopback"]
    snap["active"] = [line for line in snap["active"].splitlines() if line.split(":")[2:3] != ["lo"]]
    return snap


@pytest.mark.parametrize("phase", ["checkpoint", "write", "activate", "verify"])
def test_networkmanager_restarted_mid_apply_leaves_the_host_as_it_was(lab, lab_host, runner, view, phase):
    # issue 20: a checkpoint lives in NetworkManager's memory; a restart loses it and the profiles written stay
    ok(runner.apply(lab_host, base_state(lab, lab_host)))
    before = without_loopback(view)
    changed = bigger_change(lab, lab_host)
    stepper = Stepper(lab, lab_host)
    apply = Background(runner, lab_host, changed, module_args={"rollback_timeout": 60})
    try:
        stepper.hold_at(phase, phase_sign(lab, lab_host, view, phase))
        lab.restart_nm(lab_host)
    finally:
        stepper.resume()
    result = apply.result()
    assert result["status"] == "failed"
    assert "lost the checkpoint" in result["msg"], result
    assert without_loopback(view) == before, result  # at return: keyfiles, addresses, routes, resolv.conf
    assert result["restored"] is True, result.get("differences")
    # truthful: rolled back only when something had to be undone (by hostnet.nm: NM had no checkpoint left)
    assert result["rolled_back"] is bool(result.get("repairs")), result
    assert view.checkpoints() == "ao 0"
    assert ok(runner.apply(lab_host, changed))["changed"] is True


def phase_sign(lab, host, view, phase):
    """The sign, read from outside, that the apply of the killed-module tests reached ``phase``
    (checkpoint and write have their own in :class:`Stepper`)."""
    if phase == "activate":
        return lambda: view.addresses("eth1") == ["198.18.1.99/24"]
    if phase == "verify":  # every device activated: the module verifies and probes now
        return lambda: view.addresses("eth1") == ["198.18.1.99/24"] and "br9" in view.links() and \
            view.device_state("br9").startswith("100") and view.device_state("eth1").startswith("100")
    return None


def kill_at(lab, host, view, phase, document, runner, rollback_timeout):
    """Apply ``document`` and SIGKILL the module at ``phase`` (from outside, by its PID);
    returns the task result."""
    stepper = Stepper(lab, host)
    apply = Background(runner, host, document, module_args={"rollback_timeout": rollback_timeout})
    try:
        stepper.hold_at(phase, phase_sign(lab, host, view, phase))
        stepper.kill()
    finally:
        stepper.resume()
    result = apply.result()
    assert result["status"] == "failed"
    return result


def test_stale_checkpoint_of_a_killed_run_does_not_block_the_next_run(lab, lab_host, runner, view):
    ok(runner.apply(lab_host, base_state(lab, lab_host)))
    kill_at(lab, lab_host, view, "write", {"interfaces": [eth1(lab, lab_host, "198.18.1.98")]}, runner, 120)
    assert view.checkpoints() != "ao 0"  # still pending: NM would wait 120 s
    result = ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host, "198.18.1.97")]}))
    assert any("killed run" in w for w in result.get("warnings", [])), result.get("warnings")
    assert view.addresses("eth1") == ["198.18.1.97/24"]
    assert view.checkpoints() == "ao 0"


def test_foreign_checkpoint_is_reported_and_never_destroyed(lab, lab_host, runner, view):
    path = lab.busctl(lab_host, "call", "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
                      "org.freedesktop.NetworkManager", "CheckpointCreate", "aouu", "0", "60", "0").split()[-1]
    path = path.strip('"')
    result = runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]})
    assert result["status"] == "failed" and "not created by hostnet.nm" in result["msg"]
    assert path in view.checkpoints()
    assert view.addresses("eth1") == []
    lab.busctl(lab_host, "call", "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
               "org.freedesktop.NetworkManager", "CheckpointDestroy", "o", path)


def test_two_runs_never_interleave(lab, lab_host, runner, view):
    stepper = Stepper(lab, lab_host)
    slow = Background(runner, lab_host, {"interfaces": [eth1(lab, lab_host)]})
    try:
        stepper.hold_at("write")  # the slow run holds the host now
        second = runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host, "198.18.1.96")]})
    finally:
        stepper.resume()
    assert ok(slow.result())["changed"] is True
    assert second["status"] == "failed"
    assert "another hostnet.nm run is applying" in second["msg"]
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]
    # with lock_timeout the second run queues instead
    stepper = Stepper(lab, lab_host)
    slow = Background(runner, lab_host, {"interfaces": [eth1(lab, lab_host, "198.18.1.95")]})
    try:
        stepper.hold_at("write")
        queued = Background(runner, lab_host, {"interfaces": [eth1(lab, lab_host, "198.18.1.96")]},
                            module_args={"lock_timeout": 60})
        time.sleep(3)  # the second run waits for the lock meanwhile
    finally:
        stepper.resume()
    assert ok(slow.result())["changed"] is True  # the queued run waited for its confirmation, undid nothing
    assert ok(queued.result())["changed"] is True and view.addresses("eth1") == ["198.18.1.96/24"]


def test_group_checkpoint_spans_several_tasks(lab, lab_host, runner, view):
    plays = [{"hosts": lab_host, "gather_facts": False, "tasks": [
        {"name": "open", "hostnet.nm.checkpoint": {"state": "create", "rollback_timeout": 60}},
        {"name": "first", "hostnet.nm.network_state": {"desired_state": {"interfaces": [eth1(lab, lab_host)]}}},
        {"name": "second", "hostnet.nm.network_state": {"desired_state": {"interfaces": [
            {"name": "eth2", "type": "ethernet", "state": "up",
             "ipv4": {"enabled": True, "dhcp": False,
                      "address": [{"ip": "198.18.2.50", "prefix-length": 24}]}}]}}},
        {"name": "rollback", "hostnet.nm.checkpoint": {"state": "rollback"}}]}]
    out = runner.play(plays)
    assert out.rc == 0, out.stdout[-3000:]
    assert out.task("first")["checkpoint"] == out.task("open")["checkpoint"]
    time.sleep(1)
    assert view.addresses("eth1") == [] and view.addresses("eth2") == []  # both undone together
    assert view.checkpoints() == "ao 0"


MANAGED_SSH_PORT = 2222


@pytest.fixture
def managed_ssh(lab, lab_host):
    """A second sshd in the host, on every address (the lab's own sshd listens
    on mgmt0 only), so a session can run over the NM-managed eth1. Stopped
    by its PID afterwards."""
    pidfile = "/run/sshd-hostnet-test.pid"
    lab.run(lab_host, "/usr/sbin/sshd", "-o", "ListenAddress=0.0.0.0:%d" % MANAGED_SSH_PORT,
            "-o", "PidFile=" + pidfile)
    yield MANAGED_SSH_PORT
    lab.run(lab_host, "sh", "-c", 'kill "$(cat %s)"' % pidfile, check=False)


def managed_inventory(lab, host, address, port, tmp_path: Path) -> str:
    """An inventory that reaches ``host`` through its NM-managed eth1 (not mgmt0)."""
    path = tmp_path / "inventory-eth1.ini"
    path.write_text("[lab]\n%s ansible_host=%s ansible_port=%d\n\n[lab:vars]\nansible_user=root\n"
                    "ansible_python_interpreter=/usr/bin/python3\nansible_ssh_common_args=-F %s\n"
                    % (host, address, port, lab.ssh_config))
    return str(path)


def test_controller_address_change_without_opt_in_is_refused(lab, lab_host, runner, view, tmp_path, managed_ssh):
    # BC-19: a change that moves the session's own address needs an explicit opt-in
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]}))
    inv = managed_inventory(lab, lab_host, lab.data_ip(lab_host, 1), managed_ssh, tmp_path)
    play = [{"hosts": lab_host, "gather_facts": False, "tasks": [{"name": "move", "hostnet.nm.network_state": {
        "desired_state": {"interfaces": [eth1(lab, lab_host, "198.18.1.33")]}}}]}]
    result = runner.play(play, inventory=inv).task("move")
    assert result["status"] == "failed" and "MANAGEMENT_ADDRESS_CHANGE" in str(result.get("validation_errors"))
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]


@pytest.mark.nm_versions
def test_controller_reconnects_to_the_new_address_and_confirms(lab, lab_host, runner, view, tmp_path, managed_ssh):
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]}))
    inv = managed_inventory(lab, lab_host, lab.data_ip(lab_host, 1), managed_ssh, tmp_path)
    play = [{"hosts": lab_host, "gather_facts": False, "tasks": [{"name": "move", "hostnet.nm.network_state": {
        "allow_management_change": True, "rollback_timeout": 30,
        "desired_state": {"interfaces": [eth1(lab, lab_host, "198.18.1.33")]}}}]}]
    result = runner.play(play, inventory=inv).task("move")
    assert result["status"] == "ok", result.get("msg")
    assert result["confirmed"] is True and result["management_move"]["new"] == "198.18.1.33"
    time.sleep(2)
    assert view.addresses("eth1") == ["198.18.1.33/24"] and view.checkpoints() == "ao 0"


def test_cut_session_comes_back_at_the_old_address(lab, lab_host, runner, view, tmp_path, managed_ssh):
    # issue acceptance: the session runs over eth1; moving eth1 to an unreachable subnet cuts it
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]}))
    old = lab.data_ip(lab_host, 1)
    inv = managed_inventory(lab, lab_host, old, managed_ssh, tmp_path)
    play = [{"hosts": lab_host, "gather_facts": False, "tasks": [{"name": "move", "hostnet.nm.network_state": {
        "allow_management_change": True, "rollback_timeout": 15,
        "desired_state": {"interfaces": [eth1(lab, lab_host, "198.18.9.33")]}}}]}]
    start = time.monotonic()
    result = runner.play(play, inventory=inv).task("move")
    assert result["status"] == "failed"
    assert "not confirmed" in result["msg"] and old in result["msg"]
    deadline = start + 40
    while view.addresses("eth1") != [old + "/24"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert view.addresses("eth1") == [old + "/24"]
    again = runner.play([{"hosts": lab_host, "gather_facts": False,
                          "tasks": [{"name": "ping", "ansible.builtin.ping": {}}]}], inventory=inv)
    assert again.task("ping")["status"] == "ok"  # the next play reaches the host


def test_dispatcher_scripts_are_refused_before_anything_changes(lab, lab_host, runner, view):
    """RC-11: NetworkManager's checkpoint does not cover dispatcher scripts (files), so a rollback
    would leave them: ``dispatch`` is refused on the controller with its path, and nothing changes."""
    ok(runner.apply(lab_host, base_state(lab, lab_host)))
    before = stable(view)
    scripts = view.run("ls", "-A", "/etc/NetworkManager/dispatcher.d")
    rc11 = {"interfaces": [dict(eth1(lab, lab_host, "198.18.1.11"), dispatch={
        "post-activation": "logger hostnet-test up eth1\n", "post-deactivation": "logger hostnet-test down eth1\n"})]}
    result = runner.apply(lab_host, rc11)
    assert result["status"] == "failed" and result["changed"] is False
    codes = {(e["code"], e["path"]) for e in result["validation_errors"]}
    assert ("UNSUPPORTED", "interfaces[0].dispatch") in codes, result["validation_errors"]
    assert "no host was contacted" in result["msg"]
    assert stable(view) == before
    assert view.run("ls", "-A", "/etc/NetworkManager/dispatcher.d") == scripts
