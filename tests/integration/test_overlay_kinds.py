"""VXLAN, MAC-VLAN and MAC-VTAP against a real NetworkManager lab host (this
machine's kernel has their drivers; IPVLAN's live test is in the kernel tier,
tests/kernel/test_ipvlan.py): create, re-run with zero writes, the
``network_state_info`` round trip, check mode and diff, a change that
NetworkManager can only apply by re-creating the device, ``state: down`` and
``state: absent``, and a base that does not exist, all on one host in as few
runs as possible."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result
    return result


def overlays(lab, host, vni=10, mode="bridge"):
    """eth1 with its lab address, a VXLAN on it with an address of its own, a
    MAC-VLAN and a MAC-VTAP on it."""
    return {"interfaces": [
        {"name": "eth1", "type": "ethernet", "state": "up",
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": lab.data_ip(host, 1), "prefix-length": 24}]}},
        {"name": "vx10", "type": "vxlan", "state": "up",
         "vxlan": {"id": vni, "base-iface": "eth1", "remote": "198.18.1.12", "local": lab.data_ip(host, 1),
                   "destination-port": 4789, "learning": False},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.19.10.11", "prefix-length": 24}]}},
        {"name": "mv0", "type": "mac-vlan", "state": "up", "mac-vlan": {"base-iface": "eth1", "mode": mode},
         "ipv4": {"enabled": False}, "ipv6": {"enabled": False}},
        {"name": "mvt0", "type": "mac-vtap", "state": "up",
         "mac-vtap": {"base-iface": "eth1", "mode": "vepa", "promiscuous": True},
         "ipv4": {"enabled": False}, "ipv6": {"enabled": False}},
    ]}


def test_vxlan_macvlan_macvtap_lifecycle(lab, lab_host, runner, view):
    doc = overlays(lab, lab_host)
    first = ok(runner.apply(lab_host, doc), changed=True)
    assert not first["rolled_back"]
    vx = view.link("vx10")["linkinfo"]["info_data"]
    assert (vx["id"], vx["port"], vx["learning"], vx["remote"], vx["local"], vx["link"]) == (
        10, 4789, False, "198.18.1.12", lab.data_ip(lab_host, 1), "eth1")
    assert view.addresses("vx10") == ["198.19.10.11/24"]
    assert view.link("mv0")["linkinfo"]["info_kind"] == "macvlan"
    assert view.link("mv0")["linkinfo"]["info_data"]["mode"] == "bridge"
    assert view.link("mvt0")["linkinfo"]["info_kind"] == "macvtap"
    assert view.link("mvt0")["linkinfo"]["info_data"]["mode"] == "vepa"
    assert {view.device_state(d) for d in ("vx10", "mv0", "mvt0")} == {"100 (connected)"}

    again = ok(runner.apply(lab_host, doc), changed=False)
    assert again["writes"] == 0 and again["plan"] == []

    state = runner.info(lab_host)
    got = {i["name"]: i for i in state["interfaces"]}
    assert got["vx10"]["vxlan"] == {"id": 10, "base-iface": "eth1", "remote": "198.18.1.12",
                                    "local": lab.data_ip(lab_host, 1), "destination-port": 4789, "learning": False}
    assert got["mv0"]["type"] == "mac-vlan" and got["mv0"]["mac-vlan"] == {
        "base-iface": "eth1", "mode": "bridge", "promiscuous": True}
    assert got["mvt0"]["type"] == "mac-vtap" and got["mvt0"]["mac-vtap"]["mode"] == "vepa"
    fed_back = ok(runner.apply(lab_host, state), changed=False)
    assert fed_back["writes"] == 0

    # check mode: a new VNI and mode are planned and shown, nothing changes
    changed = overlays(lab, lab_host, vni=11, mode="private")
    changed["interfaces"][3]["state"] = "down"
    before = view.snapshot()
    check = ok(runner.apply(lab_host, changed, "--check", "--diff"), changed=True)
    assert sorted({op["interface"] for op in check["plan"]}) == ["mv0", "mvt0", "vx10"], check["plan"]
    assert "id: 11" in check["diff"]["after"] and "mode: private" in check["diff"]["after"]
    assert view.snapshot() == before and check["writes"] == 0

    # NetworkManager cannot reapply a VNI or a mode: the device is re-created; mvt0 goes down
    ok(runner.apply(lab_host, changed), changed=True)
    assert view.link("vx10")["linkinfo"]["info_data"]["id"] == 11
    assert view.link("mv0")["linkinfo"]["info_data"]["mode"] == "private"
    assert "mvt0" not in view.links() and any(p["name"] == "mvt0" for p in view.profiles())
    ok(runner.apply(lab_host, changed), changed=False)

    gone = {"interfaces": [{"name": n, "state": "absent"} for n in ("vx10", "mv0", "mvt0")]}
    ok(runner.apply(lab_host, gone), changed=True)
    assert not {"vx10", "mv0", "mvt0"} & set(view.links())
    assert not {"vx10", "mv0", "mvt0"} & {p["name"] for p in view.profiles()}


def test_a_base_that_is_nowhere_is_refused_before_anything_changes(lab, lab_host, runner, view):
    before = view.snapshot()
    doc = {"interfaces": [{"name": "mv9", "type": "mac-vlan", "mac-vlan": {"base-iface": "eth9", "mode": "bridge"}},
                          {"name": "vx9", "type": "vxlan", "vxlan": {"id": 9, "base-iface": "eth9"}}]}
    result = runner.apply(lab_host, doc)
    assert result["status"] == "failed"
    for path in ("interfaces[0].mac-vlan.base-iface", "interfaces[1].vxlan.base-iface"):
        assert "BASE_IFACE_MISSING" in result["msg"] and path in result["msg"], result["msg"]
    assert view.snapshot() == before
