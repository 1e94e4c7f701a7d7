"""A device NetworkManager can only change by deleting and re-creating it (CASES-2.md RC-21: a veth
whose peer changes; the VXLAN id's case is in test_overlay_kinds): the change applies and verifies,
a re-run writes nothing, and a failure at that step rolls back to exactly the state before, route
metrics included."""

from __future__ import annotations

import pytest
from test_safe_apply import base_state, ok, stable

pytestmark = pytest.mark.lab

BAD_DNS = {"config": {"server": ["198.18.1.253"], "search": ["lab.test"]}}  # nobody answers there


def pair(lab, host, peer, vni=21):
    """The base state (eth1, its default route, DNS) and veth21 with ``peer``: veth21 with an
    address and a route through it, the peer with an IPv6 address (three devices of one default
    metric), a MAC-VLAN on veth21 (the kernel deletes it with its base) and VXLAN ``vni`` on eth1."""
    state = base_state(lab, host)
    state["interfaces"] += [
        {"name": "vx21", "type": "vxlan", "state": "up",
         "vxlan": {"id": vni, "base-iface": "eth1", "remote": "198.18.1.254", "destination-port": 4789},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.19.22.1", "prefix-length": 24}]}},
        {"name": "mv21", "type": "mac-vlan", "state": "up", "mac-vlan": {"base-iface": "veth21", "mode": "bridge"},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.19.23.1", "prefix-length": 24}]}},
        {"name": "veth21", "type": "veth", "state": "up", "veth": {"peer": peer},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.21.1", "prefix-length": 24}]}},
        {"name": peer, "type": "ethernet", "state": "up", "ipv4": {"enabled": False},
         "ipv6": {"enabled": True, "dhcp": False, "autoconf": False,
                  "address": [{"ip": "2001:db8:21::2", "prefix-length": 64}]}}]
    state["routes"]["config"].append({"destination": "198.19.21.0/24", "next-hop-address": "198.18.21.2",
                                      "next-hop-interface": "veth21"})
    return state


@pytest.mark.nm_versions  # 1.42 deletes the re-created devices on rollback, 1.52 and 1.58 re-activate them as they are
def test_rc21_a_veth_peer_change_rolls_back_exactly_then_applies(lab, lab_host, runner, view):
    ok(runner.apply(lab_host, pair(lab, lab_host, "veth21p")))
    assert view.link("veth21")["link"] == "veth21p"
    before = stable(view)

    # a failure at the step that re-creates the pair: the old pair, its addresses, the routes with their metrics
    bad = pair(lab, lab_host, "veth21q", vni=22)
    bad["dns-resolver"] = BAD_DNS
    result = runner.apply(lab_host, bad)
    assert result["status"] == "failed" and "dns:198.18.1.253" in result["rollback_reason"], result.get("msg")
    assert result["rolled_back"] is True and result["restored"] is True, result.get("differences")
    assert view.run("nmcli", "-t", "-f", "RUNNING", "general").strip() == "running"
    assert view.link("veth21")["link"] == "veth21p" and "veth21q" not in view.links()
    assert view.addresses("veth21") == ["198.18.21.1/24"] and view.addresses("veth21p", 6)[0] == "2001:db8:21::2/64"
    assert view.link("vx21")["linkinfo"]["info_data"]["id"] == 21 and view.addresses("vx21") == ["198.19.22.1/24"]
    assert view.link("mv21")["link"] == "veth21" and view.addresses("mv21") == ["198.19.23.1/24"]
    assert stable(view) == before  # routes compared with their metrics

    # an old peer stated up cannot be: the kernel deletes it with the old pair
    stays = pair(lab, lab_host, "veth21q", vni=22)
    stays["interfaces"].append({"name": "veth21p", "type": "ethernet", "state": "up"})
    refused = runner.apply(lab_host, stays)
    assert refused["status"] == "failed" and "PEER_GOES_WITH_PAIR" in refused["msg"], refused.get("msg")
    assert "interfaces[5].state" in refused["msg"] and stable(view) == before

    good = pair(lab, lab_host, "veth21q", vni=22)
    result = ok(runner.apply(lab_host, good))
    assert result["changed"] is True and not result["rolled_back"]
    assert any("veth21p" in w for w in result["warnings"]), result["warnings"]
    assert view.link("veth21")["link"] == "veth21q" and "veth21p" not in view.links()
    assert view.device_state("veth21").startswith("100") and view.device_state("veth21q").startswith("100")
    assert view.addresses("veth21q", 6)[0] == "2001:db8:21::2/64"
    assert [r["dst"] for r in view.routes("198.19.21.0/24")] == ["198.19.21.0/24"]
    assert view.link("vx21")["linkinfo"]["info_data"]["id"] == 22
    assert view.link("mv21")["link"] == "veth21" and view.addresses("mv21") == ["198.19.23.1/24"]
    again = ok(runner.apply(lab_host, good))
    assert again["changed"] is False and again["writes"] == 0 and again["plan"] == []
