"""A device that NetworkManager can only change by re-creating it (a veth's new peer; CASES-2.md
RC-21): the plan takes it down first, the old peer goes with the old pair, and a rollback puts back
the route metrics NetworkManager moved."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.nm.kernel import ifindexes
from ansible_collections.hostnet.nm.plugins.module_utils.nm.restore import bumped_metrics, recreated
from ansible_collections.hostnet.nm.tests.unit.test_plan import device, plan_for, profile, snapshot

V4 = {"method": "manual", "address-data": [{"address": "198.18.21.1", "prefix": 24}]}


def veth_pair():
    """veth21 (a veth profile, peer veth21p) and veth21p (an ethernet profile), both active."""
    veth = profile("/p/5", "veth21", active="/a/5", ipv4=V4, ipv6={"method": "disabled"}, veth={"peer": "veth21p"})
    veth.settings["connection"]["type"] = "veth"
    peer = profile("/p/6", "veth21p", active="/a/6", ipv4={"method": "disabled"}, ipv6={"method": "disabled"})
    devices = {"eth1": device("eth1", "/d/1"), "veth21": device("veth21", "/d/5", nm_type=20, active="/a/5"),
               "veth21p": device("veth21p", "/d/6", nm_type=20, active="/a/6")}
    snap = snapshot([veth, peer], devices)
    snap.active = {"/a/5": {"devices": ["/d/5"]}, "/a/6": {"devices": ["/d/6"]}}
    return snap


def new_peer(*extra):
    return {"interfaces": [{"name": "veth21", "type": "veth", "state": "up", "veth": {"peer": "veth21q"}},
                           {"name": "veth21q", "type": "ethernet", "state": "up", "ipv4": {"enabled": False},
                            "ipv6": {"enabled": False}}, *extra]}


def test_only_a_new_peer_re_creates_a_veth():
    veth = kinds.get("veth")
    old = {"name": "v", "type": "veth", "veth": {"peer": "p"}}
    assert veth.recreates(old, {"name": "v", "type": "veth", "veth": {"peer": "q"}})
    assert not veth.recreates(old, dict(old, mtu=9000))
    assert not veth.recreates({"name": "v", "type": "veth"}, old)  # no pair yet: created, not re-created


def test_rc21_a_new_peer_takes_the_pair_down_first_and_the_old_peer_goes_down_with_it():
    plan = plan_for(veth_pair(), new_peer())
    ops = [(op.kind, op.iface) for op in plan.ops]
    assert ops.index(("deactivate", "veth21")) < ops.index(("activate", "veth21")) < ops.index(
        ("activate", "veth21q"))
    assert ("deactivate", "veth21p") in ops and ("activate", "veth21p") not in ops
    assert plan.target["interfaces"]["veth21p"]["state"] == "down"
    assert any("veth21p" in w and "deletes with the old pair" in w for w in plan.warnings), plan.warnings


def test_rc21_the_old_peer_stated_up_is_refused_and_down_or_absent_is_not():
    with pytest.raises(InvalidStateError) as err:
        plan_for(veth_pair(), new_peer({"name": "veth21p", "type": "ethernet", "state": "up"}))
    [problem] = err.value.problems
    assert (problem.code, problem.path) == ("PEER_GOES_WITH_PAIR", "interfaces[2].state")
    assert "veth21p" in problem.message and "state: down or absent" in problem.hint
    for state in ("down", "absent"):
        plan_for(veth_pair(), new_peer({"name": "veth21p", "state": state}))


def test_metrics_a_rollback_moved_are_found_per_family():
    before = [("0.0.0.0/0", "198.18.1.1", 100, 254), ("198.18.1.0/24", "", 100, 254),
              ("198.19.1.0/24", "198.18.1.9", 50, 254), ("2001:db8:1::/64", "", 100, 254),
              ("fe80::/64", "", 1024, 254)]
    now = [("0.0.0.0/0", "198.18.1.1", 103, 254), ("198.18.1.0/24", "", 103, 254),
           ("198.19.1.0/24", "198.18.1.9", 50, 254), ("2001:db8:1::/64", "", 103, 254),
           ("fe80::/64", "", 1024, 254)]
    assert bumped_metrics(before, now) == {"ipv4": 100, "ipv6": 100}
    assert bumped_metrics(before, before) == {}
    # not one old metric: nothing to say which the device had
    assert bumped_metrics(before, [("0.0.0.0/0", "198.18.1.1", 103, 254), ("198.19.1.0/24", "198.18.1.9", 51, 254)]) == {}


def test_a_software_device_back_under_another_interface_index_was_re_created():
    before = veth_pair()
    for index, name in enumerate(("eth1", "veth21", "veth21p"), start=2):
        before.devices[name]["ifindex"] = index
    now = veth_pair()
    for name, index in (("eth1", 2), ("veth21", 9), ("veth21p", 10)):
        now.devices[name]["ifindex"] = index
    # veth21p's profile is an ethernet one: NetworkManager does not create it, its veth does
    assert recreated(before, now) == ["veth21"]
    assert recreated(before, before) == []
    del now.devices["veth21"]["ifindex"]  # not known (a snapshot kept by an older release): not judged
    assert recreated(before, now) == []


def test_the_kernels_interface_indexes_are_read_in_one_dump():
    indexes = ifindexes()
    assert indexes["lo"] == 1
    assert all(isinstance(i, int) and i > 0 for i in indexes.values()) and len(set(indexes.values())) == len(indexes)
