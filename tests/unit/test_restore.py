"""After a rollback: the host's view compared with the one before the apply, devices settled, DAD
(verify.restore_differences, verify.tentative_addresses, verify.default_winners, nm.restore)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils.nm import restore
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import Variant, unwrap
from ansible_collections.hostnet.nm.plugins.module_utils.nm.reader import Profile, Snapshot
from ansible_collections.hostnet.nm.plugins.module_utils.nm.restore import FLAG_UNSAVED, host_view, settled
from ansible_collections.hostnet.nm.plugins.module_utils.nm.settings import sendable
from ansible_collections.hostnet.nm.plugins.module_utils.verify import (default_winners, restore_differences,
                                                                        tentative_addresses)

RESOLV = "search lab.test\nnameserver 198.18.1.1\n"


def host(metric1=100, metric2=101, flags=0, state2=100):
    """eth1 and eth2, each with an active profile, an address and a default route."""
    snap = Snapshot()
    for n, (metric, state) in enumerate(((metric1, 100), (metric2, state2)), 1):
        name = "eth%d" % n
        snap.devices[name] = {"path": "/d/%d" % n, "nm_type": 1, "type": "ethernet", "managed": True,
                              "state": state, "mtu": 1500, "mac": None, "active": "/a/%d" % n,
                              "ip4config": "/ip4/%d" % n, "ip6config": "/", "real": True}
        snap.ip_configs["/ip4/%d" % n] = {
            "AddressData": [{"address": "198.18.%d.11" % n, "prefix": 24}],
            "RouteData": [{"dest": "0.0.0.0", "prefix": 0, "next-hop": "198.18.%d.1" % n, "metric": metric,
                           "table": 254}]}
        prof = Profile("/p/%d" % n, {"connection": {"id": name, "uuid": "u%d" % n, "type": "802-3-ethernet",
                                                    "interface-name": name, "timestamp": 1000 + n},
                                     "ipv4": {"method": "manual"}}, {"Flags": flags if n == 1 else 0})
        prof.active = "/a/%d" % n
        snap.profiles.append(prof)
        snap.active["/a/%d" % n] = {"connection": "/p/%d" % n, "state": 2, "devices": ["/d/%d" % n]}
        snap.chosen[name] = prof
    return snap


def test_the_same_host_has_no_differences_and_the_activation_timestamp_is_not_one():
    later = host()
    later.profiles[0].settings["connection"]["timestamp"] = 9999
    assert restore_differences(host_view(host(), RESOLV), host_view(later, RESOLV)) == []


@pytest.mark.parametrize("change, what", [
    # RC-issue 17: the routes came back with another metric, so the other NIC's default route wins
    (lambda s: s.ip_configs["/ip4/1"]["RouteData"][0].update(metric=200),
     ["interfaces[eth1].routes (live)", "default route ipv4 (winner)"]),
    (lambda s: s.ip_configs["/ip4/2"]["AddressData"].append({"address": "198.18.2.99", "prefix": 24}),
     ["interfaces[eth2].addresses (live)"]),
    # a profile kept in memory is on disk now (NM before 1.48 does that on rollback)
    (lambda s: setattr(s.profiles[0], "flags", FLAG_UNSAVED), ["profile eth1 (u1).storage"]),
    (lambda s: s.profiles[1].settings["ipv4"].update(method="auto"), ["profile eth2 (u2).ipv4"]),
    (lambda s: s.profiles.pop(), ["profile eth2 (u2)", "interfaces[eth2].active (live)"]),
])
def test_each_difference_is_named(change, what):
    later = host()
    change(later)
    diffs = restore_differences(host_view(host(), RESOLV), host_view(later, RESOLV))
    assert [d["what"] for d in diffs] == what
    assert all(d["before"] != d["now"] for d in diffs)


def test_resolv_conf_is_compared():
    diffs = restore_differences(host_view(host(), RESOLV), host_view(host(), "nameserver 198.18.1.253\n"))
    assert diffs == [{"what": "dns-resolver (resolv.conf)", "before": {"server": ["198.18.1.1"], "search": ["lab.test"]},
                      "now": {"server": ["198.18.1.253"], "search": []}}]


def test_the_default_route_with_the_lowest_metric_wins():
    live = {"eth1": {"routes": [("0.0.0.0/0", "198.18.1.1", 100, 254), ("::/0", "fe80::1", 1024, 254)]},
            "eth2": {"routes": [("0.0.0.0/0", "198.18.2.1", 50, 254), ("0.0.0.0/0", "198.18.2.2", 10, 100)]}}
    assert default_winners(live) == {4: ("eth2", "198.18.2.1", 50), 6: ("eth1", "fe80::1", 1024)}
    assert default_winners({}) == {4: None, 6: None}


def test_tentative_addresses_from_proc_net_if_inet6():
    text = ("20010db8000100000000000000000011 06 40 00 40     eth1\n"   # tentative (0x40)
            "fe80000000000000084bcefffeff562b 05 40 20 80    mgmt0\n"   # permanent
            "20010db8000200000000000000000011 07 40 00 c8     eth2\n")  # 0xc8: tentative + dad failed + permanent
    assert tentative_addresses(text) == {"eth1": ["2001:db8:1::11"], "eth2": ["2001:db8:2::11"]}
    assert tentative_addresses("") == {}


def test_settled_waits_for_activation_and_dad():
    before = host()
    assert settled(before, host(), {}) is True
    assert settled(before, host(state2=70), {}) is False       # eth2 still activating (ip-config)
    assert settled(before, host(state2=30), {}) is False       # active before, disconnected now
    assert settled(before, host(), {"eth1": ["2001:db8:1::11"]}) is False  # DAD not done
    assert settled(host(state2=30), host(state2=30), {"eth2": ["2001:db8:2::11"]}) is True


def test_sendable_drops_deprecated_forms_and_the_timestamp():
    raw = {"connection": {"id": "eth1", "timestamp": 5}, "ipv4": {"addresses": [[1, 24, 0]], "routes": [],
                                                                  "address-data": [], "route-data": []}}
    out = sendable(raw)
    assert out == {"connection": {"id": "eth1"}, "ipv4": {"address-data": [], "route-data": []}}
    assert raw["connection"]["timestamp"] == 5 and "routes" in raw["ipv4"]  # the input stays as it was
    assert copy.deepcopy(out) == out


def test_the_state_kept_for_a_pending_change_reads_back_with_its_signatures(tmp_path):
    snap = host()
    snap.profiles[0].raw = {"connection": {"id": Variant("s", "eth1"), "uuid": Variant("s", "u1"),
                                           "type": Variant("s", "802-3-ethernet")},
                            "802-3-ethernet": {"mac-address": Variant("ay", b"\x02\x00\x00\x00\x00\x01")},
                            "ipv4": {"address-data": Variant("aa{sv}", [{"address": Variant("s", "198.18.1.11"),
                                                                         "prefix": Variant("u", 24)}])}}
    snap.profiles[0].settings = unwrap(snap.profiles[0].raw)
    view = host_view(snap, RESOLV)
    path = str(tmp_path / "before.json")
    restore.save(path, snap, view)
    again, kept = restore.load(path)
    assert again.profiles[0].raw == snap.profiles[0].raw  # the same values with the same signatures
    assert restore_differences(restore.as_json(kept), restore.as_json(host_view(again, RESOLV))) == []
    restore.forget(path)
    assert restore.load(path) is None
