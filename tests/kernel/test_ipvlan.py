"""IPVLAN applied with hostnet.nm.network_state to the user-mode-linux guest
(this machine's kernel has no ipvlan driver; the guest's 6.1 kernel has). NetworkManager has an
``ipvlan`` setting only since 1.52: on a 1.42 guest (the kernel tier) the apply is refused before
anything changes, naming the version; on a 1.52 guest (the tier's ``nm_versions`` subset) an IPVLAN
is created, reaches the switch, re-runs with zero writes, feeds ``network_state_info`` back as a
no-op, is re-created for a new mode, goes down and is removed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_bonds_vlans import apply, link, ok, ping, profiles, sh, v4  # noqa: E402

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("leave_the_guest_clean")]


def ipvlan_doc(mode="l2", **flags):
    return {"interfaces": [
        {"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False}},
        {"name": "ipv0", "type": "ipvlan", "state": "up", "ipvlan": dict({"base-iface": "eth1", "mode": mode}, **flags),
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.31", "prefix-length": 24}]},
         "ipv6": {"enabled": False}}]}


def info_data(guest, dev):
    return link(guest, dev).get("linkinfo", {}).get("info_data", {})


@pytest.mark.nm_versions  # 1.42: refused before anything changes; 1.52: the whole life of an IPVLAN
def test_ipvlan(guest, runner):
    doc = ipvlan_doc()
    if tuple(int(n) for n in guest.nm.split(".")) < (1, 52):
        result = apply(runner, doc)
        assert result["status"] == "failed" and not result.get("writes"), result
        assert "KIND_NEEDS_NEWER_NM" in result["msg"] and "interfaces[1].type" in result["msg"], result["msg"]
        assert "since 1.52" in result["msg"] and "1.42" in result["msg"], result["msg"]
        assert profiles(guest) == [] and "ipv0" not in sh(guest, "ip -br link")
        return
    ok(apply(runner, doc), changed=True)
    assert link(guest, "ipv0")["linkinfo"]["info_kind"] == "ipvlan"
    assert info_data(guest, "ipv0")["mode"] == "l2"
    assert v4(guest, "ipv0") == ["198.18.1.31/24"] and ping(guest, "198.18.1.254")
    again = ok(apply(runner, doc), changed=False)
    assert again["writes"] == 0
    name = runner.lab.name
    info = runner.play([{"hosts": name, "gather_facts": False,
                         "tasks": [{"name": "info", "hostnet.nm.network_state_info": {}}]}]).task("info", name)
    got = {i["name"]: i for i in info["network_state"]["interfaces"]}
    assert got["ipv0"]["type"] == "ipvlan"
    assert got["ipv0"]["ipvlan"] == {"base-iface": "eth1", "mode": "l2", "private": False, "vepa": False}
    assert ok(apply(runner, info["network_state"]), changed=False)["writes"] == 0

    # a new mode and flag: NetworkManager re-creates the device
    private = ipvlan_doc("l3", private=True)
    ok(apply(runner, private), changed=True)
    assert (info_data(guest, "ipv0")["mode"], info_data(guest, "ipv0").get("private")) == ("l3", True)
    assert v4(guest, "ipv0") == ["198.18.1.31/24"]

    down = ipvlan_doc("l3", private=True)
    down["interfaces"][1]["state"] = "down"
    ok(apply(runner, down), changed=True)
    assert "ipv0" not in sh(guest, "ip -br link") and any(p.startswith("ipv0:") for p in profiles(guest))
    ok(apply(runner, {"interfaces": [{"name": "ipv0", "state": "absent"}]}), changed=True)
    assert not any(p.startswith("ipv0:") for p in profiles(guest))
