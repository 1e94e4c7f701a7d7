"""Live drift: the profile is right, the kernel is not (verify.live_drift, plan.add_live_repairs)."""

from __future__ import annotations

from ansible_collections.hostnet.nm.plugins.module_utils import kinds, model
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile, Snapshot, choose_profiles
from ansible_collections.hostnet.nm.plugins.module_utils.plan import add_live_repairs, make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.plugins.module_utils.verify import live_drift

ROUTE = {"destination": "198.19.5.0/24", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1"}
DOC = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {
    "enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.11", "prefix-length": 24}]}}],
    "routes": {"config": [ROUTE]}}


def host(*ifaces):
    """A snapshot where each name in ``ifaces`` has an active static profile (eth1: 198.18.1.11/24
    with ROUTE; eth2: 198.18.2.11/24)."""
    snap = Snapshot()
    for n, name in enumerate(ifaces, 1):
        snap.devices[name] = {"path": "/d/%d" % n, "nm_type": 1, "type": "ethernet", "managed": True, "state": 100,
                              "mtu": 1500, "mac": None, "active": "/a/%d" % n, "ip4config": "/", "ip6config": "/",
                              "real": True}
        ipv4 = {"method": "manual", "address-data": [{"address": "198.18.%d.11" % n, "prefix": 24}]}
        if name == "eth1":
            ipv4["route-data"] = [{"dest": "198.19.5.0", "prefix": 24, "next-hop": "198.18.1.1"}]
        prof = Profile("/p/%d" % n, {"connection": {"id": name, "uuid": "u%d" % n, "type": "802-3-ethernet",
                                                    "interface-name": name}, "ipv4": ipv4,
                                     "ipv6": {"method": "disabled"}}, {})
        prof.active = "/a/%d" % n
        snap.profiles.append(prof)
    choose_profiles(snap)
    return snap


def live(addresses=("198.18.1.11/24",), routes=(("198.19.5.0/24", "198.18.1.1", 100, 254),), state=100):
    return {"state": state, "addresses": list(addresses), "routes": list(routes), "active": "/a/1"}


def plan(snap, kernel, doc=None):
    parsed, problems = parse_document(doc or DOC)
    assert problems == []
    out = make_plan(snap, reader.current_state(snap), kinds.from_document(parsed))
    add_live_repairs(out, snap, kernel)
    return out


def test_kernel_as_the_profile_is_no_drift():
    assert plan(host("eth1"), {"eth1": live()}).ops == []


def test_deleted_address_is_a_reapply_with_the_live_values_in_the_diff():
    out = plan(host("eth1"), {"eth1": live(addresses=(), routes=())})
    assert [(op.kind, op.iface, op.disruption) for op in out.ops] == [("reapply", "eth1", "reapply")]
    assert "198.18.1.11/24" in out.ops[0].reason and "198.19.5.0/24" in out.ops[0].reason
    assert out.diff["before"]["interfaces"][0]["ipv4"]["address"] == []
    assert out.diff["after"]["interfaces"][0]["ipv4"]["address"] == [{"ip": "198.18.1.11", "prefix-length": 24}]
    assert out.diff["after"]["routes"]["config"][0]["destination"] == "198.19.5.0/24"


def test_extra_address_on_a_static_interface_is_drift():
    drift = plan(host("eth1"), {"eth1": live(addresses=("198.18.1.11/24", "198.18.1.99/24"))})
    assert [op.kind for op in drift.ops] == ["reapply"]
    assert drift.diff["before"]["interfaces"][0]["ipv4"]["address"][1]["ip"] == "198.18.1.99"


def test_a_device_still_activating_is_not_drift():
    assert plan(host("eth1"), {"eth1": live(addresses=(), routes=(), state=70)}).ops == []


def test_what_the_document_does_not_name_is_never_drift():
    # eth2 lost its address by hand, but the document names only eth1
    kernel = {"eth1": live(), "eth2": dict(live(addresses=(), routes=()), active="/a/2")}
    assert plan(host("eth1", "eth2"), kernel).ops == []


def test_a_family_the_document_does_not_state_is_not_compared():
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "ipv4": DOC["interfaces"][0]["ipv4"]}]}
    kernel = {"eth1": live(addresses=("198.18.1.11/24", "2001:db8:1::99/64"))}
    assert plan(host("eth1"), kernel, doc).ops == []


def test_a_profile_change_and_live_drift_make_one_update_not_two():
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.12", "prefix-length": 24}]}}]}
    out = plan(host("eth1"), {"eth1": live(addresses=())}, doc)
    assert [(op.kind, op.iface) for op in out.ops] == [("update", "eth1"), ("reapply", "eth1")]


def test_live_drift_of_a_document_route_through_an_activated_interface():
    desired = kinds.from_document(parse_document(DOC)[0])
    target = kinds.merge(reader.current_state(host("eth1")), desired)
    found = live_drift(desired, target, {"eth1": live(routes=())})
    assert [m["what"] for m in found["eth1"]] == ["routes[198.19.5.0/24 via eth1] (live)"]
    assert live_drift(desired, target, {"eth1": live(routes=())}, skip=["eth1"]) == {}


def test_live_state_comes_from_the_snapshots_ip_configurations():
    snap = host("eth1", "eth2")
    snap.devices["eth1"].update(ip4config="/ip4/1", ip6config="/ip6/1")
    snap.ip_configs = {
        "/ip4/1": {"AddressData": [{"address": "198.18.1.11", "prefix": 24}],
                   "RouteData": [{"dest": "198.19.5.0", "prefix": 24, "next-hop": "198.18.1.1", "metric": 100,
                                  "table": 254}]},
        "/ip6/1": {"AddressData": [{"address": "fe80::1", "prefix": 64}, {"address": "2001:db8:1::11", "prefix": 64}],
                   "RouteData": [{"dest": "2001:db8:5::", "prefix": 48, "metric": 1024}]}}
    out = reader.live_state(snap, ["eth1", "eth2"])
    assert out["eth1"] == {"state": 100, "active": "/a/1", "addresses": ["198.18.1.11/24", "2001:db8:1::11/64"],
                           "routes": [("198.19.5.0/24", "198.18.1.1", 100, 254), ("2001:db8:5::/48", "", 1024, 254)]}
    assert out["eth2"]["addresses"] == [] and out["eth2"]["routes"] == []   # no IP configuration object: nothing
    assert list(reader.live_state(snap, ["eth2"])) == ["eth2"]


# issue 17 item 6: NetworkManager's connectivity penalty on default routes is not a mismatch
def test_connectivity_penalty_on_a_default_route_is_accepted_and_a_miss_says_what_was_seen():
    from ansible_collections.hostnet.nm.plugins.module_utils.verify import CONNECTIVITY_PENALTY, mismatches
    gw = model.canonical_route({"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1",
                                "next-hop-interface": "eth1", "metric": 150})
    target = {"interfaces": {"eth1": {"name": "eth1", "state": "up"}}, "routes": [gw], "route-rules": []}
    saved = {"interfaces": {"eth1": {"name": "eth1", "state": "up"}}, "route-rules": []}

    def check(metric):
        live = {"eth1": {"state": 100, "addresses": [], "routes": [("0.0.0.0/0", "198.18.1.1", metric, 254)]}}
        return mismatches(target, saved, live, ["eth1"], ["eth1"], True, None, False)

    assert check(150) == [] and check(150 + CONNECTIVITY_PENALTY) == []
    miss = check(300)
    assert miss[0]["actual"] == "not in the kernel; the device has: 0.0.0.0/0 via 198.18.1.1 metric 300 table 254"


# issue 15 item 8: NetworkManager shows blackhole/unreachable/prohibit routes on no device: the kernel's are read
IP_JSON = {4: [{"type": "prohibit", "dst": "198.19.78.0/24", "table": "100", "protocol": "static", "metric": 500},
               {"dst": "127.0.0.0/8", "dev": "lo", "protocol": "kernel", "metric": 30},
               {"type": "blackhole", "dst": "198.19.77.0/24", "protocol": "static", "metric": 30},
               {"type": "local", "dst": "127.0.0.1", "dev": "lo", "table": "local"}],
           6: [{"type": "unreachable", "dst": "2001:db8:77::/48", "dev": "lo", "metric": 30},
               {"type": "blackhole", "dst": "2001:db8:78::1", "dev": "lo", "table": "vrf-x", "metric": 1024}]}


def test_the_kernel_s_route_type_routes_from_ip_json():
    from ansible_collections.hostnet.nm.plugins.module_utils.nm.kernel import typed_routes_from_ip_json
    assert typed_routes_from_ip_json(IP_JSON) == [("198.19.78.0/24", "prohibit", 500, 100),
                                                  ("198.19.77.0/24", "blackhole", 30, 254),
                                                  ("2001:db8:77::/48", "unreachable", 30, 254)]


def test_route_types_are_verified_against_the_kernel_s_routes_and_their_drift_repaired():
    from ansible_collections.hostnet.nm.plugins.module_utils.nm.kernel import typed_routes_from_ip_json
    from ansible_collections.hostnet.nm.plugins.module_utils.verify import mismatches
    lo = {"name": "lo", "type": "loopback", "state": "up"}
    doc = {"routes": {"config": [{"destination": "198.19.77.0/24", "route-type": "blackhole"},
                                 {"destination": "198.19.79.0/24", "route-type": "unreachable", "metric": 7}]}}
    desired = kinds.from_document(parse_document(doc)[0])
    target = kinds.merge(dict(model.empty_state(), interfaces={"lo": lo}), desired)
    saved = {"interfaces": {"lo": lo}, "route-rules": []}
    dev = {"lo": {"state": 100, "addresses": [], "routes": [], "active": "/a/lo"}}
    typed = typed_routes_from_ip_json(IP_JSON)
    found = mismatches(target, saved, dev, ["lo"], ["lo"], True, None, False, typed=typed)
    assert [(m["what"], m["actual"]) for m in found] == [(
        "routes[198.19.79.0/24 unreachable] (live)",
        "not in the kernel (no blackhole, unreachable or prohibit route to 198.19.79.0/24)")]
    assert mismatches(target, saved, dev, ["lo"], ["lo"], True, None, False) == []  # not read: not judged
    gone = [model.canonical_route({"destination": "198.19.78.0/24", "route-type": "prohibit", "table-id": 100,
                                   "next-hop-interface": "lo"})]
    assert [m["what"] for m in mismatches(target, saved, dev, ["lo"], [], False, None, False, gone, typed=typed)] == [
        "routes[198.19.78.0/24 prohibit] (live)"]
    drift = live_drift(desired, target, dev, typed=typed)
    assert [m["what"] for m in drift["lo"]] == ["routes[198.19.79.0/24 unreachable] (live)"]


# issue 15 item 8: the IP options the kernel shows (as NetworkManager 1.42 exported them in the lab)
def test_auto_route_table_metric_and_token_are_verified_once_there_is_a_lease():
    from ansible_collections.hostnet.nm.plugins.module_utils.verify import mismatches
    eth2 = {"name": "eth2", "type": "ethernet", "state": "up",
            "ipv4": {"enabled": True, "dhcp": True, "address": [], "auto-route-table-id": 1000,
                     "auto-route-metric": 150},
            "ipv6": {"enabled": True, "dhcp": True, "autoconf": True, "address": [], "token": "::fac1",
                     "addr-gen-mode": "eui64", "auto-route-table-id": 1000}}
    target = {"interfaces": {"eth2": eth2}, "routes": [], "route-rules": []}
    saved = {"interfaces": {"eth2": eth2}, "route-rules": []}

    def check(addresses, routes):
        live = {"eth2": {"state": 100, "addresses": addresses, "routes": routes, "active": "/a/2"}}
        found = mismatches(target, saved, live, ["eth2"], ["eth2"], False, None, False)
        return [(m["what"], m["desired"]) for m in found]

    lab = [("198.18.2.0/24", "", 150, 1000), ("0.0.0.0/0", "198.18.2.1", 150, 1000),
           ("2001:db8:2::/64", "", 256, 254), ("2001:db8:2::/64", "", 150, 1000)]
    assert check(["198.18.2.213/24", "2001:db8:2::fac1/64"], lab) == []
    assert check([], []) == []  # no lease, no SLAAC address yet: nothing to see
    assert check(["198.18.2.213/24", "2001:db8:2::a8be:42ff:fe74:a37c/64"],
                 [("198.18.2.0/24", "", 100, 254), ("2001:db8:2::/64", "", 150, 1000)]) == [
        ("interfaces[eth2].ipv4.auto-route-table-id (live)", {"table": 1000, "metric": 150}),
        ("interfaces[eth2].ipv6.token (live)", "::fac1")]
