"""The loopback (``type: loopback``) against a real NetworkManager lab host:
extra addresses on ``lo`` with check mode and diff, apply, the re-run with
zero writes, the ``network_state_info`` round trip, and ``state: absent``
back to the default (issue 15, item 1). Routes without a next hop held by
lo's profile (item 8). The host name (item 7): check mode, apply, re-run,
round trip, and that a rolled-back or never-confirmed change leaves the old
name (it is written only once the network change is committed)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

pytestmark = pytest.mark.lab

EXTRA4, EXTRA6 = "198.18.99.11", "2001:db8:99::11"


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result
    return result


def loopback(state="up"):
    if state == "absent":
        return {"name": "lo", "type": "loopback", "state": "absent"}
    return {"name": "lo", "type": "loopback", "state": state,
            "ipv4": {"enabled": True, "dhcp": False, "address": [
                {"ip": "127.0.0.1", "prefix-length": 8}, {"ip": EXTRA4, "prefix-length": 32}]},
            "ipv6": {"enabled": True, "dhcp": False, "autoconf": False, "address": [
                {"ip": EXTRA6, "prefix-length": 128}]}}


def apply_task(name, desired_state, **keywords):
    return dict({"name": name, "hostnet.nm.network_state": {"desired_state": desired_state}}, **keywords)


def test_loopback_addresses_apply_rerun_round_trip_and_absent(lab, lab_host, runner, view):
    """One play (each ansible-playbook run costs seconds): the fresh host's
    info fed back, check mode, apply, re-run, info fed back; then the live
    state; then a second play with ``state: absent`` twice."""
    doc = {"interfaces": [loopback()]}
    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        {"name": "fresh", "hostnet.nm.network_state_info": {}, "register": "fresh"},
        apply_task("fresh fed back", "{{ fresh.network_state }}"),
        apply_task("check", doc, check_mode=True, diff=True),
        apply_task("apply", doc),
        apply_task("rerun", doc),
        {"name": "info", "hostnet.nm.network_state_info": {}, "register": "info"},
        apply_task("info fed back", "{{ info.network_state }}"),
    ]}])
    # lo as the kernel made it (NetworkManager's own external profile) is the default: not listed,
    # and feeding the fresh host's state back changes nothing
    assert "lo" not in [i["name"] for i in run.task("fresh", lab_host)["network_state"]["interfaces"]]
    assert ok(run.task("fresh fed back", lab_host), changed=False)["writes"] == 0
    check = ok(run.task("check", lab_host), changed=True)
    assert check["writes"] == 0 and EXTRA4 in str(check["diff"])
    first = ok(run.task("apply", lab_host), changed=True)
    assert first["writes"] > 0 and not first["rolled_back"]
    second = ok(run.task("rerun", lab_host), changed=False)
    assert second["writes"] == 0 and second["plan"] == []
    lo = next(i for i in run.task("info", lab_host)["network_state"]["interfaces"] if i["name"] == "lo")
    assert [a["ip"] for a in lo["ipv4"]["address"]] == [EXTRA4]
    assert [a["ip"] for a in lo["ipv6"]["address"]] == [EXTRA6]
    assert ok(run.task("info fed back", lab_host), changed=False)["writes"] == 0
    assert view.addresses("lo") == [EXTRA4 + "/32"]
    assert view.addresses("lo", 6) == [EXTRA6 + "/128"]
    assert "127.0.0.1/8" in view.run("ip", "-4", "-o", "addr", "show", "dev", "lo")  # the kernel's own stays

    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        apply_task("absent", {"interfaces": [loopback("absent")]}),
        apply_task("absent again", {"interfaces": [loopback("absent")]})]}])
    gone = ok(run.task("absent", lab_host), changed=True)
    assert not gone["rolled_back"]
    assert ok(run.task("absent again", lab_host), changed=False)["writes"] == 0
    assert view.addresses("lo") == [] and view.addresses("lo", 6) == []
    assert "127.0.0.1/8" in view.run("ip", "-4", "-o", "addr", "show", "dev", "lo")


# issue 15 item 8: routes without a next hop, held by lo's profile as nmstate keeps them
TYPED = [{"destination": "198.19.77.0/24", "route-type": "blackhole"},
         {"destination": "198.19.78.0/24", "route-type": "prohibit", "metric": 500, "table-id": 100},
         {"destination": "2001:db8:77::/48", "route-type": "unreachable", "next-hop-interface": "lo"}]


def kernel_typed(view):
    """``{(destination, type, table)}`` of the host's blackhole, unreachable and prohibit routes."""
    found = set()
    for family in (4, 6):
        for r in json.loads(view.run("ip", "-json", "-%d" % family, "route", "show", "table", "all")):
            if r.get("type") in ("blackhole", "unreachable", "prohibit"):
                dst = r["dst"] if "/" in r["dst"] else r["dst"] + ("/32" if family == 4 else "/128")
                found.add((dst, r["type"], str(r.get("table", "main"))))
    return found


@pytest.mark.nm_versions  # NetworkManager 1.52's reapply with PRESERVE_EXTERNAL_IP drops IPv6 ones
def test_route_types_apply_rerun_round_trip_and_absent(lab, lab_host, runner, view):
    """Blackhole, prohibit (table 100, metric 500) and IPv6 unreachable routes
    on a fresh host: check mode and diff, apply, re-run with zero writes, the
    info round trip (written as nmstate writes them), the kernel's route
    types; then the blackhole deleted behind NetworkManager's back is put
    back by a re-run (a reapply, verified against the kernel), and removed with
    ``state: absent`` (and again: no change); lo's own addresses untouched
    throughout."""
    run = runner.round_trip(lab_host, {"routes": {"config": TYPED}})
    check = ok(run.task("check", lab_host), changed=True)
    assert check["writes"] == 0 and [op["interface"] for op in check["plan"]] == ["lo", "lo"]
    assert "198.19.77.0/24" in str(check["diff"]) and "route-type: prohibit" in check["diff"]["after"]
    first = ok(run.task("apply", lab_host), changed=True)
    assert first["writes"] > 0 and not first["rolled_back"]
    second = ok(run.task("rerun", lab_host), changed=False)
    assert second["writes"] == 0 and second["plan"] == []
    routes = run.task("info", lab_host)["network_state"]["routes"]["config"]
    typed = [r for r in routes if "route-type" in r]
    assert {"destination": "198.19.77.0/24", "route-type": "blackhole", "table-id": 254} in typed
    assert {"destination": "198.19.78.0/24", "route-type": "prohibit", "metric": 500, "table-id": 100} in typed
    assert {"destination": "2001:db8:77::/48", "route-type": "unreachable", "next-hop-interface": "lo",
            "table-id": 254} in typed
    assert ok(run.task("info fed back", lab_host), changed=False)["writes"] == 0
    assert kernel_typed(view) == {("198.19.77.0/24", "blackhole", "main"), ("198.19.78.0/24", "prohibit", "100"),
                                  ("2001:db8:77::/48", "unreachable", "main")}
    assert view.addresses("lo") == [] and view.addresses("lo", 6) == []
    assert "127.0.0.1/8" in view.run("ip", "-4", "-o", "addr", "show", "dev", "lo")

    view.run("ip", "route", "del", "blackhole", "198.19.77.0/24")  # drift: the kernel lost it, the profile has it
    gone = {"routes": {"config": [{"destination": "198.19.77.0/24", "route-type": "blackhole", "state": "absent"}]}}
    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        apply_task("repair", {"routes": {"config": TYPED[:1]}}),
        apply_task("absent", gone), apply_task("absent again", gone)]}])
    repair = ok(run.task("repair", lab_host), changed=True)
    assert [(op["op"], op["interface"]) for op in repair["plan"]] == [("reapply", "lo")]
    assert "198.19.77.0/24 blackhole" in repair["plan"][0]["reason"] and not repair["rolled_back"]
    assert not ok(run.task("absent", lab_host), changed=True)["rolled_back"]
    assert ok(run.task("absent again", lab_host), changed=False)["writes"] == 0
    assert kernel_typed(view) == {("198.19.78.0/24", "prohibit", "100"), ("2001:db8:77::/48", "unreachable", "main")}
    assert "127.0.0.1/8" in view.run("ip", "-4", "-o", "addr", "show", "dev", "lo")


# ------------------------------------------------------------------ host name (issue 15, item 7)
# Every name change below happens inside the lab host's own UTS namespace (the module runs under
# the host's sshd; NetworkManager runs there too): each test checks this machine's name stays.

NAME1, NAME2 = "web-01.lab.test", "web-02"


def host_names(lab, host):
    """``(static, running)`` as the lab host has them: /etc/hostname and the kernel's (uname)."""
    out = lab.run(host, "sh", "-c", "cat /etc/hostname; echo ---; uname -n").stdout
    static, _sep, running = out.partition("---\n")
    return static.strip(), running.strip()


def eth1(lab, host, dns=None):
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": lab.data_ip(host, 1), "prefix-length": 24}]}}]}
    if dns:
        doc["dns-resolver"] = {"config": {"server": [dns]}}
    return doc


@pytest.fixture
def machine_name():
    """This machine's host name, which no test may change."""
    import socket
    before = socket.gethostname()
    yield before
    assert socket.gethostname() == before, "a host name change reached this machine"


@pytest.mark.nm_versions  # NetworkManager's SaveHostname and its Hostname property, on every version
def test_hostname_check_apply_rerun_running_and_round_trip(lab, lab_host, runner, machine_name):
    """Only the host name: check mode and diff write nothing; the apply writes it at once (no
    checkpoint: no network change) and verifies it; the re-run and the info fed back write
    nothing; ``running`` alone sets the kernel's name; ``config: ""`` removes the static name."""
    assert host_names(lab, lab_host) == (lab_host, lab_host)
    static = {"hostname": {"config": NAME1}}
    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        apply_task("check", static, check_mode=True, diff=True),
        apply_task("apply", static),
        apply_task("rerun", static),
        apply_task("running", {"hostname": {"running": NAME2, "config": NAME1}}),
        {"name": "memory only", "ignore_errors": True, "hostnet.nm.network_state": {
            "desired_state": {"hostname": {"config": "web-09"}}, "persistent": False}},
        {"name": "info", "hostnet.nm.network_state_info": {}, "register": "info"},
        apply_task("info fed back", "{{ info.network_state }}"),
    ]}])
    check = ok(run.task("check", lab_host), changed=True)
    assert check["writes"] == 0 and check["plan"] == [{
        "op": "hostname", "interface": "", "disruption": "none",
        "reason": "config 'h1' -> 'web-01.lab.test'; written once the network change is committed"}]
    assert "hostname:\n  config: h1\n" in check["diff"]["before"]
    assert "hostname:\n  config: web-01.lab.test\n" in check["diff"]["after"]
    first = ok(run.task("apply", lab_host), changed=True)
    assert first["writes"] == 1 and "checkpoint" not in first  # SaveHostname only, no checkpoint
    assert first["hostname"] == {"config": NAME1, "running": NAME1}  # NetworkManager sets the running name too
    assert ok(run.task("rerun", lab_host), changed=False)["writes"] == 0
    running = ok(run.task("running", lab_host), changed=True)
    assert running["writes"] == 0 and running["hostname"] == {"config": NAME1, "running": NAME2}  # sethostname only
    memory = run.task("memory only", lab_host)  # refused on the host before anything changes
    assert memory["status"] == "failed" and "HOSTNAME_NOT_PERSISTENT" in str(memory.get("validation_errors"))
    assert run.task("info", lab_host)["network_state"]["hostname"] == {"config": NAME1, "running": NAME2}  # kept
    assert ok(run.task("info fed back", lab_host), changed=False)["writes"] == 0
    assert host_names(lab, lab_host) == (NAME1, NAME2)

    cleared = ok(runner.apply(lab_host, {"hostname": {"config": ""}}), changed=True)
    assert cleared["hostname"]["config"] == "" and host_names(lab, lab_host)[0] == ""


def test_hostname_follows_the_network_change_only_once_committed(lab, lab_host, runner, view, machine_name):
    """With a network change the host name waits for the commit: a change rolled back by a probe,
    and a group checkpoint rolled back, leave the old name; a committed group writes it and
    reports it (a confirmed change: see the never-confirmed test's last run)."""
    ok(runner.apply(lab_host, eth1(lab, lab_host)))
    rolled = runner.apply(lab_host, dict(eth1(lab, lab_host, dns="198.18.1.253"), hostname={"config": NAME1}),
                          module_args={"rollback_timeout": 30})
    assert rolled["status"] == "failed" and rolled["rolled_back"] is True, rolled.get("msg")
    assert "dns:198.18.1.253" in rolled["rollback_reason"] and "hostname" not in rolled
    assert host_names(lab, lab_host) == (lab_host, lab_host)
    assert view.checkpoints() == "ao 0"

    group = [{"name": "open", "hostnet.nm.checkpoint": {"state": "create", "rollback_timeout": 60}},
             apply_task("in group", dict(eth1(lab, lab_host, dns="198.18.1.1"), hostname={"config": NAME1})),
             apply_task("name only", {"hostname": {"running": NAME2}})]
    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": group + [
        {"name": "undo", "hostnet.nm.checkpoint": {"state": "rollback"}}]}])
    assert ok(run.task("in group", lab_host))["hostname_pending"] == {"config": NAME1}
    assert ok(run.task("name only", lab_host))["hostname_pending"] == {"running": NAME2}
    assert ok(run.task("undo", lab_host))["state"] == "rollback"
    assert host_names(lab, lab_host) == (lab_host, lab_host)

    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": group + [
        {"name": "keep", "hostnet.nm.checkpoint": {"state": "commit"}}]}])
    assert ok(run.task("keep", lab_host))["hostname"] == {"config": NAME1, "running": NAME2}
    assert host_names(lab, lab_host) == (NAME1, NAME2)

    assert view.checkpoints() == "ao 0"


#: rollback window of the never-confirmed change (seconds; the test waits it out)
NEVER_WINDOW = 10


def test_hostname_of_a_never_confirmed_change_is_never_set(lab, lab_host, runner, view, tmp_path, machine_name):
    """The controller dies (ansible-playbook killed) while the change waits for its confirmation:
    the host name recorded with the pending checkpoint is not written before the commit, and
    NetworkManager's own rollback at the end of the window leaves the old name and address; the
    next run goes ahead and, confirmed, writes the name."""
    from test_owned_confirm import held_args, wait_for  # the held confirmation (hold_confirm.sh)
    ok(runner.apply(lab_host, eth1(lab, lab_host)))
    desired = dict(eth1(lab, lab_host), hostname={"config": NAME1})
    desired["interfaces"][0]["ipv4"]["address"][0]["ip"] = "198.18.1.78"
    flag = tmp_path / "pending"
    proc = runner.spawn(tmp_path, [{"hosts": lab_host, "gather_facts": False, "tasks": [
        {"name": "apply", "hostnet.nm.network_state": {"desired_state": desired, "rollback_timeout": NEVER_WINDOW}}]}],
        "-e", held_args(lab, lab_host, flag))
    try:
        wait_for(flag, proc)  # the module returned: the change is on the host, its confirmation held
        ledger = json.loads(lab.run(lab_host, "cat", "/run/hostnet-nm/checkpoint.json").stdout)
        assert ledger["state"] == "pending-confirm" and ledger["hostname"] == {"config": NAME1}
        assert view.addresses("eth1") == ["198.18.1.78/24"] and host_names(lab, lab_host) == (lab_host, lab_host)
        os.kill(proc.pid, signal.SIGKILL)  # ansible-playbook, started by this test
        killed_at = time.monotonic()
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the process group this test started
    before = [lab.data_ip(lab_host, 1) + "/24"]
    deadline = killed_at + NEVER_WINDOW + 20
    while (view.checkpoints() != "ao 0" or view.addresses("eth1") != before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert view.checkpoints() == "ao 0"  # NetworkManager rolled back by itself
    assert view.addresses("eth1") == before
    assert host_names(lab, lab_host) == (lab_host, lab_host)  # never written
    again = ok(runner.apply(lab_host, desired), changed=True)
    assert again["confirmed"] is True and again["hostname"]["config"] == NAME1
    assert any("never confirmed" in w for w in again.get("warnings", []))
    assert host_names(lab, lab_host) == (NAME1, NAME1)
