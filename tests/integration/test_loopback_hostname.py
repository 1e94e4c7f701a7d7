"""The loopback (``type: loopback``) against a real NetworkManager lab host:
extra addresses on ``lo`` with check mode and diff, apply, the re-run with
zero writes, the ``network_state_info`` round trip, and ``state: absent``
back to the default (issue 15, item 1)."""

from __future__ import annotations

import json

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


def test_route_types_apply_rerun_round_trip_and_absent(lab, lab_host, runner, view):
    """Blackhole, prohibit (table 100, metric 500) and IPv6 unreachable routes
    on a fresh host: check mode and diff, apply, re-run with zero writes, the
    info round trip (written as nmstate writes them), the kernel's route
    types; then one removed with ``state: absent`` (and again: no change),
    lo's own addresses untouched throughout."""
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

    gone = {"routes": {"config": [{"destination": "198.19.77.0/24", "route-type": "blackhole", "state": "absent"}]}}
    run = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        apply_task("absent", gone), apply_task("absent again", gone)]}])
    assert not ok(run.task("absent", lab_host), changed=True)["rolled_back"]
    assert ok(run.task("absent again", lab_host), changed=False)["writes"] == 0
    assert kernel_typed(view) == {("198.19.78.0/24", "prohibit", "100"), ("2001:db8:77::/48", "unreachable", "main")}
    assert "127.0.0.1/8" in view.run("ip", "-4", "-o", "addr", "show", "dev", "lo")
