"""After a rollback the live state is back, and nothing the tool did locks it out (issue 17 items 1
and 4, issue 20 item 4; CASES-2.md RC-19, RC-20)."""

from __future__ import annotations

import pytest
from test_safe_apply import base_state, eth1, ok, stable

pytestmark = pytest.mark.lab

BAD_DNS = {"config": {"server": ["198.18.1.253"], "search": ["lab.test"]}}  # nobody answers there


def with_ipv6(lab, host, v4, v6):
    """The base state with eth1 at ``v4``/24 and ``v6``/64."""
    state = base_state(lab, host)
    iface = eth1(lab, host, v4)
    iface["ipv6"] = {"enabled": True, "dhcp": False, "autoconf": False, "address": [{"ip": v6, "prefix-length": 64}]}
    state["interfaces"] = [iface]
    return state


def test_rc19_a_rollback_returns_when_the_devices_are_back_past_dad(lab, lab_host, runner, view):
    # RC-19: CheckpointRollback returns while devices re-activate; IPv6 addresses are tentative then
    ok(runner.apply(lab_host, with_ipv6(lab, lab_host, lab.data_ip(lab_host, 1), "2001:db8:1::11")))
    before = stable(view)
    bad = with_ipv6(lab, lab_host, "198.18.1.77", "2001:db8:1::77")
    bad["dns-resolver"] = BAD_DNS
    result = runner.apply(lab_host, bad)
    assert result["status"] == "failed" and "dns:198.18.1.253" in result["rollback_reason"]
    assert result["rolled_back"] is True and result["restored"] is True, result.get("differences")
    # right at return, without waiting: activated, the old addresses, none of them tentative
    assert view.device_state("eth1").startswith("100")
    assert view.addresses("eth1", 6) == ["2001:db8:1::11/64"]
    assert view.run("ip", "-6", "addr", "show", "dev", "eth1", "tentative").strip() == ""
    assert stable(view) == before


def test_rc20_a_profile_kept_in_memory_stays_in_memory_after_a_rollback(lab, lab_host, runner, view):
    # RC-20: before NetworkManager 1.48 a rollback keeps on disk a memory-only profile the change wrote to disk
    ok(runner.apply(lab_host, base_state(lab, lab_host), module_args={"persistent": False}))
    assert view.keyfiles() == {}
    before = stable(view)
    filename = view.profile_fields("eth1", "connection.uuid")
    bad = base_state(lab, lab_host)
    bad["interfaces"] = [eth1(lab, lab_host, "198.18.1.78")]
    bad["dns-resolver"] = BAD_DNS
    result = runner.apply(lab_host, bad)  # persistent: the change writes eth1's profile to disk
    assert result["status"] == "failed" and result["rolled_back"] is True, result.get("msg")
    assert result["restored"] is True, result.get("differences")
    assert view.keyfiles() == {}  # back in memory only
    assert view.profile_fields("eth1", "connection.uuid") == filename
    assert stable(view) == before


def test_a_bridge_taken_down_can_be_brought_up_removed_and_created_again(lab, lab_host, runner, view):
    # issues 17 and 20: after "down" NetworkManager keeps an unrealized placeholder device for the bridge;
    # it is no unmanaged interface: up, absent and check mode work on it
    bridge = {"name": "br7", "type": "linux-bridge", "ipv4": {"enabled": False}, "ipv6": {"enabled": False},
              "bridge": {"options": {"stp": {"enabled": False}}}}
    previous = "absent"
    for state in ("up", "down", "up", "absent", "up"):
        doc = {"interfaces": [dict(bridge, state=state)]}
        if previous == "down":
            check = runner.apply(lab_host, doc, "--check")
            assert check["status"] == "ok" and check["changed"] is True, (state, check.get("msg"))
        result = runner.apply(lab_host, doc)
        assert result["status"] == "ok" and result["changed"] is True, (previous, state, result.get("msg"))
        assert ("br7" in view.links()) is (state == "up"), state
        assert ("br7" in [p["name"] for p in view.profiles()]) is (state != "absent"), state
        previous = state
