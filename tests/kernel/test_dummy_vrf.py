"""dummy and VRF applied with hostnet.nm.network_state to the user-mode-linux
guest (this machine's kernel has neither driver): a VRF with a NIC that keeps
its address and a route in the VRF's table, a dummy with an address; the
re-run with zero writes, the info round trip, the NIC moving out of the VRF,
``state: down`` and ``state: absent`` with its re-run (issue 15, items 1 and
2). Few plays and runs: each module run costs seconds under UML."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from ansible_run import Runner  # noqa: E402

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("leave_the_guest_clean")]

TABLE = 1001
ROUTE = {"destination": "198.19.5.0/24", "next-hop-interface": "eth1", "next-hop-address": "198.18.1.254",
         "table-id": TABLE}


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result.get("plan")
    return result


def task(name, desired_state, **keywords):
    return dict({"name": name, "hostnet.nm.network_state": {"desired_state": desired_state}}, **keywords)


def links(guest):
    """``{name: ip -d link record}`` of the guest."""
    out = guest.ssh(["ip", "-j", "-d", "address", "show"], check=True).stdout
    return {d["ifname"]: d for d in json.loads(out or "[]")}


def v4(record):
    return sorted("%s/%d" % (a["local"], a["prefixlen"]) for a in record.get("addr_info", []) if a["family"] == "inet")


def table(guest, number):
    out = guest.ssh(["ip", "-j", "-4", "route", "show", "table", str(number)], check=True).stdout
    return json.loads(out or "[]")


def stack(vrf_ports, vrf_state="up", dummy_state="up"):
    eth1 = {"name": "eth1", "type": "ethernet", "state": "up",
            "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.11", "prefix-length": 24}]},
            "ipv6": {"enabled": False}}
    return [
        {"name": "vrf-blue", "type": "vrf", "state": vrf_state, "vrf": {"route-table-id": TABLE, "port": vrf_ports}},
        eth1,
        {"name": "dummy0", "type": "dummy", "state": dummy_state, "mtu": 9000,
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.97.1", "prefix-length": 32}]},
         "ipv6": {"enabled": False}},
    ]


def test_vrf_and_dummy_apply_rerun_round_trip_move_out_down_absent(clean_guest):
    guest, runner = clean_guest, Runner(clean_guest)
    host = guest.name
    doc = {"interfaces": stack(["eth1"]), "routes": {"config": [ROUTE]}}
    run = runner.play([{"hosts": host, "gather_facts": False, "tasks": [
        task("check", doc, check_mode=True, diff=True),
        task("apply", doc),
        task("rerun", doc),
        {"name": "info", "hostnet.nm.network_state_info": {}, "register": "info"},
        task("info fed back", "{{ info.network_state }}"),
    ]}])
    check = ok(run.task("check", host), changed=True)
    assert check["writes"] == 0 and "vrf-blue" in str(check["diff"])
    first = ok(run.task("apply", host), changed=True)
    assert first["writes"] > 0 and not first["rolled_back"]
    assert ok(run.task("rerun", host), changed=False)["writes"] == 0
    info = {i["name"]: i for i in run.task("info", host)["network_state"]["interfaces"]}
    assert info["vrf-blue"]["vrf"] == {"route-table-id": TABLE, "port": ["eth1"]}
    assert info["dummy0"]["type"] == "dummy" and info["dummy0"]["mtu"] == 9000
    assert ok(run.task("info fed back", host), changed=False)["writes"] == 0
    live = links(guest)
    assert live["vrf-blue"]["linkinfo"]["info_kind"] == "vrf"
    assert live["vrf-blue"]["linkinfo"]["info_data"]["table"] == TABLE
    assert live["eth1"].get("master") == "vrf-blue" and v4(live["eth1"]) == ["198.18.1.11/24"]
    assert live["dummy0"]["linkinfo"]["info_kind"] == "dummy" and live["dummy0"]["mtu"] == 9000
    assert v4(live["dummy0"]) == ["198.18.97.1/32"]
    routes = table(guest, TABLE)
    assert any(r["dst"] == "198.19.5.0/24" and r.get("gateway") == "198.18.1.254" for r in routes), routes
    assert not table(guest, "main") or all(r.get("dev") != "eth1" for r in table(guest, "main"))

    out_doc = {"interfaces": stack([]), "routes": {"config": [dict(ROUTE, state="absent")]}}
    down_doc = {"interfaces": stack([], vrf_state="down", dummy_state="down")}
    gone_doc = {"interfaces": [{"name": "vrf-blue", "type": "vrf", "state": "absent"},
                               {"name": "dummy0", "type": "dummy", "state": "absent"}]}
    run = runner.play([{"hosts": host, "gather_facts": False, "tasks": [task("move out", out_doc)]}])
    assert not ok(run.task("move out", host), changed=True)["rolled_back"]
    live = links(guest)
    assert "master" not in live["eth1"] and v4(live["eth1"]) == ["198.18.1.11/24"]
    assert not any(r["dst"] == "198.19.5.0/24" for r in table(guest, TABLE))

    run = runner.play([{"hosts": host, "gather_facts": False, "tasks": [
        task("down", down_doc), {"name": "down info", "hostnet.nm.network_state_info": {}},
        task("absent", gone_doc), task("absent again", gone_doc)]}])
    assert not ok(run.task("down", host), changed=True)["rolled_back"]
    info = {i["name"]: i for i in run.task("down info", host)["network_state"]["interfaces"]}
    assert info["dummy0"]["state"] == "down" and info["vrf-blue"]["state"] == "down"
    assert not ok(run.task("absent", host), changed=True)["rolled_back"]
    assert ok(run.task("absent again", host), changed=False)["writes"] == 0
    live = links(guest)
    assert "vrf-blue" not in live and "dummy0" not in live
    profiles = guest.ssh(["nmcli", "-t", "-f", "NAME", "connection"], check=True).stdout.split()
    assert "vrf-blue" not in profiles and "dummy0" not in profiles
