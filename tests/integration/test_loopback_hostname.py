"""The loopback (``type: loopback``) against a real NetworkManager lab host:
extra addresses on ``lo`` with check mode and diff, apply, the re-run with
zero writes, the ``network_state_info`` round trip, and ``state: absent``
back to the default (issue 15, item 1)."""

from __future__ import annotations

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
