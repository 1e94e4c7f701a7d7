"""Plan: current snapshot + desired -> operations (plain data, no D-Bus)."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds as iface_kinds
from ansible_collections.hostnet.nm.plugins.module_utils import model
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile, Snapshot, bind_by_mac, choose_profiles
from ansible_collections.hostnet.nm.plugins.module_utils.nmversion import NmVersion
from ansible_collections.hostnet.nm.plugins.module_utils.plan import make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document


def device(name, path, managed=True, nm_type=1, active="/"):
    return {"path": path, "nm_type": nm_type, "type": "ethernet" if nm_type in (1, 20) else "linux-bridge",
            "managed": managed, "state": 100 if active != "/" else 30, "mtu": 1500, "mac": None,
            "active": active, "ip4config": "/", "ip6config": "/", "real": True}


def profile(path, iface, active="", **sections):
    settings = {"connection": {"id": iface, "uuid": "uuid-" + path[-1], "type": "802-3-ethernet",
                               "interface-name": iface}}
    settings.update(sections)
    prof = Profile(path, settings, {})
    prof.active = active
    return prof


def snapshot(profiles=(), devices=None):
    snap = Snapshot()
    snap.devices = devices or {"eth1": device("eth1", "/d/1"), "eth2": device("eth2", "/d/2"),
                               "mgmt0": device("mgmt0", "/d/0", managed=False)}
    snap.profiles = list(profiles)
    choose_profiles(snap)
    return snap


STATIC4 = {"method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}]}


def plan_for(snap, doc):
    parsed, problems = parse_document(doc)
    assert problems == []
    return make_plan(snap, reader.current_state(snap), iface_kinds.from_document(parsed))


def kinds(plan):
    return [(op.kind, op.iface) for op in plan.ops]


def active_eth1():
    return snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=STATIC4, ipv6={"method": "disabled"})])


def test_up_on_an_active_profile_is_a_no_op():
    # BC-12: no re-activation, no change
    plan = plan_for(active_eth1(), {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up"}]})
    assert plan.ops == [] and not plan.changed


def test_down_on_an_inactive_profile_is_a_no_op():
    snap = snapshot([profile("/p/2", "eth2", ipv4={"method": "manual", "address-data": [
        {"address": "198.18.12.14", "prefix": 30}]}, ipv6={"method": "disabled"},
        connection={"id": "eth2", "uuid": "u2", "type": "802-3-ethernet", "interface-name": "eth2",
                    "autoconnect": False})])
    plan = plan_for(snap, {"interfaces": [{"name": "eth2", "type": "ethernet", "state": "down", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.12.14", "prefix-length": 30}]}}]})
    assert plan.ops == []


def test_info_output_fed_back_is_a_no_op():
    snap = active_eth1()
    doc = model.to_document(reader.current_state(snap))
    assert plan_for(snap, doc).ops == []


def test_route_change_is_an_update_and_reapply_without_reactivation():
    # BC-06 / BC-08: runtime must follow the profile, without a link flap
    plan = plan_for(active_eth1(), {"routes": {"config": [
        {"destination": "198.19.60.0/24", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1"}]}})
    assert kinds(plan) == [("update", "eth1"), ("reapply", "eth1")]
    assert plan.ops[0].disruption == "reapply"
    assert plan.diff["after"]["routes"]["config"][0]["destination"] == "198.19.60.0/24"
    assert plan.diff["before"]["routes"]["config"] == []


def test_unrelated_interfaces_are_untouched():
    # BC-22: a new bridge does not rewrite eth1's profile
    plan = plan_for(active_eth1(), {"interfaces": [{"name": "br22", "type": "linux-bridge", "state": "up",
                                                    "ipv4": {"enabled": False}, "ipv6": {"enabled": False},
                                                    "bridge": {"options": {"stp": {"enabled": False}}, "port": []}}]})
    assert {op.iface for op in plan.ops} == {"br22"}
    assert kinds(plan) == [("create", "br22"), ("activate", "br22")]


def test_other_profiles_of_the_same_interface_are_blocked_not_deleted():
    # BC-40: exactly one profile can activate on eth1; the other one (not ours) is kept, autoconnect off
    snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv4={"method": "auto"}),
                     profile("/p/3", "eth1", ipv4=STATIC4)])
    plan = plan_for(snap, {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.40.2", "prefix-length": 24}]}}]})
    assert [op.kind for op in plan.ops if op.kind == "delete"] == []
    block, take = [op for op in plan.ops if op.kind == "update"]
    assert block.profile == "/p/3" and block.settings["connection"]["autoconnect"] is False
    assert take.profile == "/p/1" and take.settings["user"]["data"] == {
        "org.hostnet.nm.owner": "hostnet.nm", "org.hostnet.nm.interface": "eth1"}
    assert [p["uuid"] for p in plan.profiles["blocked"]] == ["uuid-3"]


def test_ports_of_a_bridge_created_down_stay_down_and_one_stated_up_is_refused():
    # a port's activation brings its controller up: a new bridge made down kept coming up (verification failed)
    bridge = {"name": "br4", "type": "linux-bridge", "state": "down", "bridge": {"port": [{"name": "eth1"}]}}
    for eth1 in ([], [{"name": "eth1", "type": "ethernet"}]):
        plan = plan_for(snapshot(), {"interfaces": [bridge] + eth1})
        assert plan.target["interfaces"]["eth1"]["state"] == "down"
        assert [op.kind for op in plan.ops] == ["create", "create"], kinds(plan)
    with pytest.raises(InvalidStateError) as err:
        plan_for(snapshot(), {"interfaces": [bridge, {"name": "eth1", "type": "ethernet", "state": "up"}]})
    assert [(p.code, p.path) for p in err.value.problems] == [("PORT_CONTROLLER_DOWN", "interfaces[1].state")]


def test_nic_becoming_a_bridge_port_is_reactivated_as_a_port():
    # BC-45 (bridge variant): the active NIC is re-activated, its address goes
    snap = snapshot([profile("/p/2", "eth2", active="/a/2", ipv4=STATIC4, ipv6={"method": "disabled"})])
    plan = plan_for(snap, {"interfaces": [{"name": "br45", "type": "linux-bridge", "state": "up", "bridge": {
        "port": [{"name": "eth2"}]}, "ipv4": {"enabled": True, "dhcp": False, "address": [
            {"ip": "198.18.45.1", "prefix-length": 24}]}}]})
    assert kinds(plan) == [("create", "br45"), ("update", "eth2"), ("activate", "br45"), ("activate", "eth2")]
    port_settings = plan.ops[1].settings
    assert port_settings["connection"]["master"] == "br45"
    assert "ipv4" not in port_settings
    assert plan.target["interfaces"]["eth2"]["ipv4"] == {"enabled": False}


def test_absent_deletes_every_profile_of_the_interface():
    snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=STATIC4), profile("/p/3", "eth1")])
    plan = plan_for(snap, {"interfaces": [{"name": "eth1", "state": "absent"}]})
    assert sorted(op.profile for op in plan.ops if op.kind == "delete") == ["/p/1", "/p/3"]


def test_dns_goes_to_an_up_interface_of_the_right_family():
    plan = plan_for(active_eth1(), {"dns-resolver": {"config": {"server": ["198.18.0.53"], "search": ["lab.test"]}}})
    assert kinds(plan) == [("update", "eth1"), ("reapply", "eth1")]
    assert plan.diff["after"]["dns-resolver"]["config"]["server"] == ["198.18.0.53"]


@pytest.mark.parametrize("doc, code", [
    # BC-32: no active place to store DNS -> a clear error, not a silent no-op
    ({"dns-resolver": {"config": {"search": ["corp.example"]}}}, "DNS_NO_HOLDER"),
    # BC-44: a VLAN declared as ethernet
    ({"interfaces": [{"name": "vlan20", "type": "ethernet", "state": "up"}]}, "INTERFACE_NOT_FOUND"),
    ({"interfaces": [{"name": "br9", "state": "up"}]}, "INTERFACE_TYPE_REQUIRED"),
    ({"interfaces": [{"name": "mgmt0", "type": "ethernet", "state": "up"}]}, "INTERFACE_UNMANAGED"),
    ({"routes": {"config": [{"destination": "198.19.0.0/16", "next-hop-interface": "eth9"}]}},
     "ROUTE_INTERFACE_MISSING"),
    ({"interfaces": [{"name": "br0", "type": "linux-bridge", "bridge": {"port": [{"name": "eth7"}]}}]},
     "PORT_MISSING"),
])
def test_host_side_errors(doc, code):
    with pytest.raises(InvalidStateError) as err:
        plan_for(snapshot(), doc)
    assert code in [p.code for p in err.value.problems]
    if code == "INTERFACE_NOT_FOUND":
        assert "type: vlan" in err.value.problems[0].hint


@pytest.mark.parametrize("iface, paths", [
    ({"type": "vlan"}, ["interfaces[0].vlan.base-iface", "interfaces[0].vlan.id"]),
    ({"type": "vrf", "ipv4": {"enabled": False}}, ["interfaces[0].vrf.route-table-id"]),
    ({"type": "vxlan"}, ["interfaces[0].vxlan.id"]),
    ({"type": "veth"}, ["interfaces[0].veth.peer"]),
    ({"type": "mac-vlan"}, ["interfaces[0].mac-vlan.base-iface", "interfaces[0].mac-vlan.mode"]),
])
def test_a_new_interface_without_the_keys_of_its_kind_is_refused_by_path(iface, paths):
    """A new VLAN without a parent or a new VRF without a table (the schema checks required keys
    only in a section the document writes): refused before anything is written, every key named."""
    with pytest.raises(InvalidStateError) as err:
        plan_for(snapshot(), {"interfaces": [dict(iface, name="x1", state="up")]})
    missing = [p for p in err.value.problems if p.code == "MISSING_KEY"]
    assert [p.path for p in missing] == paths
    assert all("a new %s needs it" % iface["type"] in p.message for p in missing)


def test_an_existing_vlan_needs_no_vlan_section_to_change_its_addresses():
    vlan = profile("/p/1", "v20", active="/a/1", vlan={"parent": "eth1", "id": 20},
                   ipv4={"method": "disabled"}, ipv6={"method": "disabled"})
    vlan.settings["connection"]["type"] = "vlan"
    snap = snapshot([vlan], devices={"v20": dict(device("v20", "/d/9", nm_type=11, active="/a/1"), type="vlan"),
                                     "eth1": device("eth1", "/d/1")})
    plan = plan_for(snap, {"interfaces": [{"name": "v20", "type": "vlan", "state": "up", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.20.1", "prefix-length": 24}]}}]})
    assert ("update", "v20") in kinds(plan)


def test_unmanaged_interfaces_and_their_routes_are_not_in_the_state():
    # BC-29: the exported state never names what we cannot apply
    st = reader.current_state(snapshot())
    assert "mgmt0" not in st["interfaces"] and st["routes"] == []


def test_diff_lists_only_the_added_route():
    # BC-15: exactly one route would be added
    routes = [{"dest": "198.19.80.0", "prefix": 26, "next-hop": "198.18.80.1"},
              {"dest": "198.19.80.64", "prefix": 26, "next-hop": "198.18.80.1"}]
    snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=dict(STATIC4, **{"route-data": routes}))])
    plan = plan_for(snap, {"routes": {"config": [
        {"destination": d, "next-hop-address": "198.18.80.1", "next-hop-interface": "eth1"}
        for d in ("198.19.80.0/26", "198.19.80.64/26", "198.19.80.128/26")]}})
    assert [r["destination"] for r in plan.diff["after"]["routes"]["config"]] == ["198.19.80.128/26"]
    assert plan.diff["before"]["routes"]["config"] == []


@pytest.mark.parametrize("master", ["br0", "uuid-b"])
def test_a_port_is_found_under_its_controller_named_by_interface_or_uuid(master):
    # NM's connection.master holds either; the reader looks both up in one index
    bridge = Profile("/p/b", {"connection": {"id": "br0", "uuid": "uuid-b", "type": "bridge", "interface-name": "br0"},
                              "bridge": {"stp": False}}, {})
    port = Profile("/p/1", {"connection": {"id": "eth1", "uuid": "uuid-1", "type": "802-3-ethernet",
                                           "interface-name": "eth1", "master": master, "slave-type": "bridge"}}, {})
    other = Profile("/p/2", {"connection": {"id": "eth2", "uuid": "uuid-2", "type": "802-3-ethernet",
                                            "interface-name": "eth2"}}, {})
    devices = {"eth1": device("eth1", "/d/1"), "eth2": device("eth2", "/d/2"), "br0": device("br0", "/d/9", nm_type=13)}
    state = reader.current_state(snapshot([other, bridge, port], devices))
    assert [p["name"] for p in state["interfaces"]["br0"]["bridge"]["port"]] == ["eth1"]
    assert "bridge" not in state["interfaces"]["eth2"]


# ---------------------------------------------------------------- issue 17: correct at the edges

DNS4 = dict(STATIC4, dns=[int.from_bytes(bytes([198, 18, 0, 1]), "little")], **{"dns-priority": 40})


def dns_on_eth1_dhcp_on_eth2():
    return snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=DNS4, ipv6={"method": "disabled"}),
                     profile("/p/2", "eth2", active="/a/2", ipv4={"method": "auto"}, ipv6={"method": "disabled"})])


@pytest.mark.parametrize("change", [
    {"name": "eth1", "state": "absent"},
    {"name": "eth1", "state": "down"},
    {"name": "eth1", "type": "ethernet", "ipv4": {"enabled": False}},
], ids=["absent", "down", "ipv4-off"])
def test_dns_moves_when_its_holder_goes(change):
    # the document does not mention dns-resolver: the DNS configuration survives on eth2
    plan = plan_for(dns_on_eth1_dhcp_on_eth2(), {"interfaces": [change]})
    assert plan.dns_owner == "eth2"
    eth2 = next(op for op in plan.ops if op.iface == "eth2" and op.kind == "update")
    assert eth2.settings["ipv4"]["dns"] == DNS4["dns"]


def test_dns_holder_removed_with_no_other_holder_is_refused():
    snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=DNS4, ipv6={"method": "disabled"})])
    with pytest.raises(InvalidStateError) as err:
        plan_for(snap, {"interfaces": [{"name": "eth1", "state": "absent"}]})
    problem = err.value.problems[0]
    assert (problem.code, problem.path) == ("DNS_NO_HOLDER", "dns-resolver.config")
    assert "eth1" in problem.message and "dns-resolver: {config: {}}" in problem.hint


def test_dns_holder_readdressed_keeps_it():
    plan = plan_for(dns_on_eth1_dhcp_on_eth2(), {"interfaces": [{"name": "eth1", "type": "ethernet", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.12", "prefix-length": 24}]}}]})
    assert plan.dns_owner is None and [op.iface for op in plan.ops] == ["eth1", "eth1"]


def test_another_nics_mac_is_refused():
    devices = {"eth1": dict(device("eth1", "/d/1"), mac="02:00:00:00:01:01"),
               "eth2": dict(device("eth2", "/d/2"), mac="02:00:00:00:02:01")}
    with pytest.raises(InvalidStateError) as err:
        plan_for(snapshot(devices=devices), {"interfaces": [
            {"name": "eth1", "type": "ethernet", "mac-address": "02:00:00:00:02:01"}]})
    assert [(p.code, p.path) for p in err.value.problems] == [("MAC_DUPLICATE", "interfaces[0].mac-address")]
    # moving the MAC over in the same document (eth2 gets another one) is fine
    plan_for(snapshot(devices=devices), {"interfaces": [
        {"name": "eth1", "type": "ethernet", "mac-address": "02:00:00:00:02:01"},
        {"name": "eth2", "type": "ethernet", "mac-address": "02:00:00:00:02:02"}]})


def test_a_bridge_may_take_its_ports_mac():
    devices = {"eth1": dict(device("eth1", "/d/1"), mac="02:00:00:00:01:01"), "eth2": device("eth2", "/d/2")}
    plan_for(snapshot(devices=devices), {"interfaces": [
        {"name": "br0", "type": "linux-bridge", "mac-address": "02:00:00:00:01:01",
         "bridge": {"port": [{"name": "eth1"}]}}]})


def test_next_hop_held_by_the_host_is_refused():
    snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=STATIC4, ipv6={"method": "disabled"})])
    snap.devices["eth2"]["ip4config"] = "/ip4/2"
    snap.ip_configs["/ip4/2"] = {"AddressData": [{"address": "198.18.2.150", "prefix": 24}]}  # a DHCP lease
    for nh in ("198.18.1.11", "198.18.2.150"):
        with pytest.raises(InvalidStateError) as err:
            plan_for(snap, {"routes": {"config": [{"destination": "198.19.0.0/16", "next-hop-address": nh,
                                                   "next-hop-interface": "eth1"}]}})
        assert [(p.code, p.path) for p in err.value.problems] == [
            ("ROUTE_NEXT_HOP_IS_LOCAL", "routes.config[0].next-hop-address")]


def test_slaac_only_after_the_merge_is_refused():
    snap = snapshot([profile("/p/2", "eth2", active="/a/2", ipv4={"method": "disabled"}, ipv6={"method": "auto"})])
    with pytest.raises(InvalidStateError) as err:
        plan_for(snap, {"interfaces": [{"name": "eth2", "ipv6": {"enabled": True, "dhcp": False}}]})
    assert [(p.code, p.path) for p in err.value.problems] == [("IPV6_AUTOCONF_WITHOUT_DHCP", "interfaces[0].ipv6")]


def test_mac_bound_profile_is_named_after_its_device_and_kept_bound():
    # a profile with no interface-name, bound by MAC: info names it, an update keeps the binding (reapply)
    prof = Profile("/p/1", {"connection": {"id": "wan16", "uuid": "u1", "type": "802-3-ethernet"},
                            "802-3-ethernet": {"mac-address": bytes.fromhex("020000001601")},
                            "ipv4": STATIC4, "ipv6": {"method": "disabled"}}, {})
    prof.active = "/a/1"
    devices = {"eth1": dict(device("eth1", "/d/1", active="/a/1"), mac="02:00:00:00:16:01",
                            perm_mac="02:00:00:00:16:01"), "eth2": dict(device("eth2", "/d/2"), perm_mac=None)}
    snap = Snapshot()
    snap.devices, snap.profiles = devices, [prof]
    bind_by_mac(snap)
    choose_profiles(snap)
    doc = model.to_document(reader.current_state(snap))
    assert [i["name"] for i in doc["interfaces"]] == ["eth1", "eth2"]
    assert "interface-name" not in prof.settings["connection"]  # as NM has it (compared before a write)
    assert plan_for(snap, doc).ops == []
    doc["interfaces"][0]["ipv4"]["address"].append({"ip": "198.18.1.12", "prefix-length": 24})
    plan = plan_for(snap, doc)
    assert kinds(plan) == [("update", "eth1"), ("reapply", "eth1")]
    assert "interface-name" not in plan.ops[0].settings["connection"]


def test_bridge_mtu_that_follows_its_ports_is_named_in_a_warning():
    devices = {"eth1": dict(device("eth1", "/d/1"), mtu=1500), "eth2": dict(device("eth2", "/d/2"), mtu=1500)}
    plan = plan_for(snapshot(devices=devices), {"interfaces": [
        {"name": "eth2", "type": "ethernet", "mtu": 9000},
        {"name": "br5", "type": "linux-bridge", "bridge": {"port": [{"name": "eth1"}, {"name": "eth2"}]}}]})
    assert any("br5" in w and "1500 (eth1 1500, eth2 9000)" in w for w in plan.warnings), plan.warnings
    stated = plan_for(snapshot(devices=devices), {"interfaces": [
        {"name": "eth1", "type": "ethernet", "mtu": 9000}, {"name": "eth2", "type": "ethernet", "mtu": 9000},
        {"name": "br5", "type": "linux-bridge", "mtu": 9000, "bridge": {"port": [{"name": "eth1"}, {"name": "eth2"}]}}]})
    assert not any("br5" in w for w in stated.warnings)


def test_a_rule_added_outside_networkmanager_is_seen_and_not_added_twice():
    # issue 17 item 8: the kernel's rules are read (ip -json rule), not only the profiles'
    from ansible_collections.hostnet.nm.plugins.module_utils.nm import kernel
    dump = {4: [{"priority": 0, "src": "all", "table": "local"},
                {"priority": 29995, "src": "198.18.24.0", "srclen": 24, "dst": "198.19.24.0", "dstlen": 24,
                 "table": "main"},
                {"priority": 100, "src": "all", "iif": "eth1", "table": "100"},
                {"priority": 101, "src": "all", "fwmark": "0x1", "table": "100"},
                {"priority": 32766, "src": "all", "table": "main"}],
            6: [{"priority": 32766, "src": "all", "table": "main"}]}
    snap = active_eth1()
    snap.kernel_rules = kernel.rules_from_ip_json(dump)
    assert snap.kernel_rules == [{"family": "ipv4", "priority": 29995, "route-table": 254,
                                  "ip-from": "198.18.24.0/24", "ip-to": "198.19.24.0/24"},
                                 {"family": "ipv4", "priority": 100, "route-table": 100, "iif": "eth1"},
                                 {"family": "ipv4", "priority": 101, "route-table": 100, "fwmark": 1,
                                  "fwmask": 0xFFFFFFFF}]
    rule = {"ip-from": "198.18.24.0/24", "ip-to": "198.19.24.0/24", "priority": 29995, "route-table": 254}
    plan = plan_for(snap, {"route-rules": {"config": [rule]}})
    assert plan.ops == [] and any("outside NetworkManager" in w for w in plan.warnings)


def test_absent_removes_a_kernel_rule_and_prune_the_rules_and_routes_of_our_profiles_only():
    # RC-09: rules (and routes) of our profiles go by omission with prune; absent reaches rules no profile holds
    from ansible_collections.hostnet.nm.plugins.module_utils.nm import kernel
    nm_rules = [{"family": 2, "priority": 998, "table": 2, "to": "198.19.90.1", "to-len": 32},
                {"family": 2, "priority": 999, "table": 254, "to": "198.19.90.2", "to-len": 32}]
    route = {"dest": "0.0.0.0", "prefix": 0, "next-hop": "198.18.1.1", "table": 2}
    ipv4 = dict(STATIC4, **{"routing-rules": nm_rules, "route-data": [route]})
    mark = {"data": {"org.hostnet.nm.owner": "hostnet.nm", "org.hostnet.nm.interface": "eth1"}}
    kept = {"interfaces": [{"name": "eth1", "type": "ethernet"}]}

    def snap_of(user):
        snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv4=ipv4, ipv6={"method": "disabled"}, user=user)])
        snap.kernel_rules = kernel.rules_from_ip_json({4: [{"priority": 997, "src": "all", "dst": "198.19.91.0",
                                                            "dstlen": 24, "table": "main"}], 6: []})
        return snap

    for user, gone in ((mark, [998, 999]), ({}, [])):
        snap = snap_of(user)
        plan = make_plan(snap, reader.current_state(snap), iface_kinds.from_document(parse_document(kept)[0]),
                         prune=True)
        assert sorted(r["priority"] for r in plan.target["route-rules"]) == sorted({997, 998, 999} - set(gone))
        assert bool(plan.target["routes"]) is not bool(gone)  # the table-2 route is not listed either
        assert plan.kernel_rules_removed == [] and plan.changed is bool(gone)
    plan = plan_for(snap_of(mark), {"route-rules": {"config": [{"ip-to": "198.19.91.0/24", "state": "absent"}]}})
    assert plan.ops == [] and plan.changed and plan.kernel_rules_removed == [
        {"family": "ipv4", "priority": 997, "route-table": 254, "ip-to": "198.19.91.0/24"}]
    assert kernel.rule_argv(plan.kernel_rules_removed[0]) == [
        "-4", "rule", "VERB", "priority", "997", "to", "198.19.91.0/24", "table", "254"]
    assert plan.diff["before"]["route-rules"]["config"] == plan.kernel_rules_removed


def test_a_reactivation_names_the_foreign_routes_it_flushes():
    # RC-08: a routing daemon's route through a re-activated device does not come back
    from ansible_collections.hostnet.nm.plugins.module_utils.nm import kernel
    from ansible_collections.hostnet.nm.plugins.module_utils.plan import name_flushed_routes, reactivated
    dump = {4: [{"dst": "198.19.64.0/18", "gateway": "198.18.8.66", "dev": "eth1", "table": "8", "protocol": "bgp"},
                {"dst": "198.18.1.0/24", "dev": "eth1", "protocol": "kernel", "scope": "link"},
                {"dst": "198.19.5.0/24", "gateway": "198.18.1.1", "dev": "eth1", "table": "201", "protocol": "static"},
                {"dst": "198.19.9.0/24", "gateway": "198.18.2.1", "dev": "eth2", "protocol": "boot"}], 6: []}
    routes = kernel.device_routes_from_ip_json(["eth1"], dump)
    snap = snapshot([profile("/p/1", "eth1", active="/a/1", ipv6={"method": "disabled"}, ipv4=dict(
        STATIC4, **{"route-data": [{"dest": "198.19.5.0", "prefix": 24, "next-hop": "198.18.1.1", "table": 201}]}))])
    plan = plan_for(snap, {"routes": {"config": [{"next-hop-interface": "eth1", "table-id": 201, "state": "absent"}]}})
    assert reactivated(plan) == ["eth1"]
    name_flushed_routes(plan, routes)
    assert plan.warnings == ["interfaces eth1: re-activating it removes routes NetworkManager does not manage, which "
                             "it will not put back: 198.19.64.0/18 via 198.18.8.66 table 8 (proto bgp)"]


def test_a_reapply_keeps_routes_of_others_unless_it_must_replace_foreign_addresses():
    # RC-08's kind: Reapply without PRESERVE_EXTERNAL_IP prunes main-table routes of protocol boot/static
    from ansible_collections.hostnet.nm.plugins.module_utils.nm import kernel
    from ansible_collections.hostnet.nm.plugins.module_utils.plan import keep_external, live_ops, name_flushed_routes
    dump = {4: [{"dst": "198.19.64.0/18", "gateway": "198.18.1.66", "dev": "eth1", "protocol": "boot"},
                {"dst": "198.19.128.0/18", "gateway": "198.18.1.66", "dev": "eth1", "protocol": "bgp"},
                {"dst": "198.19.0.0/18", "gateway": "198.18.1.66", "dev": "eth1", "table": "9", "protocol": "boot"}],
            6: []}
    routes = kernel.device_routes_from_ip_json(["eth1"], dump)
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.12", "prefix-length": 24}]}}]}
    everything = sorted(["198.19.0.0/18 via 198.18.1.66 table 9 (proto boot)",
                         "198.19.64.0/18 via 198.18.1.66 table 254 (proto boot)",
                         "198.19.128.0/18 via 198.18.1.66 table 254 (proto bgp)"])
    boot = {"eth1": ["198.19.64.0/18 via 198.18.1.66 table 254 (proto boot)"]}
    for release, live_addresses, flushed in (((1, 52, 0), ["198.18.1.11/24"], {}),
                                             ((1, 52, 0), ["198.18.1.11/24", "198.18.1.99/24"], boot),
                                             ((1, 42, 0), ["198.18.1.11/24"], boot)):  # 1.42: no safe flag
        snap = active_eth1()
        snap.nm = NmVersion(release)
        plan = plan_for(snap, doc)
        assert live_ops(plan) == ["eth1"]
        keep_external(plan, snap, {"eth1": {"addresses": live_addresses, "routes": [], "state": 100}})
        assert name_flushed_routes(plan, routes) == flushed
        reapply = next(op for op in plan.ops if op.kind == "reapply")
        assert reapply.keep_external == (not flushed) and sorted(reapply.collateral) == everything
        assert bool(plan.warnings) == bool(flushed)


def test_a_whole_stack_may_share_one_mac():
    # a bridge over a bond, and a bridge over a VLAN of that bond: the kernel gives them all one MAC
    mac = "02:00:00:00:29:01"
    devices = {"eth1": dict(device("eth1", "/d/1"), mac=mac), "eth2": dict(device("eth2", "/d/2"), mac=mac)}
    plan_for(snapshot(devices=devices), {"interfaces": [
        {"name": "bond0", "type": "bond", "mac-address": mac, "link-aggregation": {
            "mode": "active-backup", "port": ["eth1", "eth2"]}},
        {"name": "br0", "type": "linux-bridge", "mac-address": mac, "bridge": {"port": [{"name": "bond0"}]}},
        {"name": "vlan29", "type": "vlan", "mac-address": mac, "vlan": {"base-iface": "bond0", "id": 29}},
        {"name": "br29", "type": "linux-bridge", "mac-address": mac, "bridge": {"port": [{"name": "vlan29"}]}}]})


# ---------------------------------------------------------------- ownership and prune (issue 18, 17.2)

OURS = {"data": {"org.hostnet.nm.owner": "hostnet.nm", "org.hostnet.nm.interface": "br2"}}


def bridge_profile(path, name, active="", ours=True):
    prof = profile(path, name, active=active, ipv4=STATIC4, ipv6={"method": "disabled"},
                   **({"user": dict(OURS, data=dict(OURS["data"], **{"org.hostnet.nm.interface": name}))}
                      if ours else {}))
    prof.settings["connection"]["type"] = "bridge"
    return prof


def bridges_snapshot(ours_br2=True):
    devices = {"eth1": device("eth1", "/d/1"), "br1": device("br1", "/d/5", nm_type=13, active="/a/5"),
               "br2": device("br2", "/d/6", nm_type=13, active="/a/6")}
    profs = [bridge_profile("/p/5", "br1", "/a/5"), bridge_profile("/p/6", "br2", "/a/6", ours=ours_br2),
             profile("/p/7", "lo", connection={"id": "lo", "uuid": "uuid-lo", "type": "loopback",
                                               "interface-name": "lo"})]
    snap = snapshot(profs, devices)
    snap.profiles[2].flags, snap.profiles[2].origin, snap.profiles[2].owner = 8, "external", "generated"
    return snap


BR1_ONLY = {"interfaces": [{"name": "br1", "type": "linux-bridge", "state": "up"}]}


def prune_plan(snap, doc, prune=True):
    parsed, problems = parse_document(doc)
    assert problems == []
    return make_plan(snap, reader.current_state(snap), iface_kinds.from_document(parsed), prune=prune)


def test_prune_deletes_exactly_our_profile_the_document_dropped():
    plan = prune_plan(bridges_snapshot(), BR1_ONLY)
    assert [(op.kind, op.iface, op.profile) for op in plan.ops] == [("delete", "br2", "/p/6")]
    assert [p["uuid"] for p in plan.profiles["pruned"]] == ["uuid-6"]
    assert plan.diff["after"]["interfaces"] == [{"name": "br2", "state": "absent"}]
    assert [p["uuid"] for p in plan.profiles["foreign_kept"]] == ["uuid-lo"]  # loopback: listed, never pruned


def test_without_prune_ours_is_only_listed_as_prunable():
    plan = prune_plan(bridges_snapshot(), BR1_ONLY, prune=False)
    assert plan.ops == [] and [p["uuid"] for p in plan.profiles["prunable"]] == ["uuid-6"]


def test_prune_never_deletes_a_profile_it_did_not_make():
    plan = prune_plan(bridges_snapshot(ours_br2=False), BR1_ONLY)
    assert plan.ops == [] and plan.profiles["pruned"] == []
    assert sorted(p["uuid"] for p in plan.profiles["foreign_kept"]) == ["uuid-6", "uuid-lo"]


def test_ports_and_route_interfaces_count_as_named():
    snap = bridges_snapshot()
    snap.profiles.append(profile("/p/8", "eth1", connection={"id": "eth1", "uuid": "uuid-8", "type": "802-3-ethernet",
                                                             "interface-name": "eth1", "master": "br2",
                                                             "slave-type": "bridge"},
                                 user={"data": {"org.hostnet.nm.owner": "hostnet.nm"}}))
    choose_profiles(snap)
    plan = prune_plan(snap, {"interfaces": [{"name": "br2", "type": "linux-bridge", "state": "up"}],
                             "routes": {"config": [{"destination": "198.19.0.0/16", "next-hop-interface": "br1"}]}})
    assert plan.profiles["pruned"] == [] and [op for op in plan.ops if op.kind == "delete"] == []


def test_absent_blocks_a_mac_bound_profile_of_others_on_that_device_only():
    # issue 17.2: a profile bound by MAC address (no interface-name) would take eth2 after absent
    devices = {"eth2": dict(device("eth2", "/d/2", active="/a/2"), mac="02:00:00:00:00:02")}
    ours = profile("/p/2", "eth2", active="/a/2", ipv4=STATIC4, user={"data": {"org.hostnet.nm.owner": "hostnet.nm"}})
    mac_bound = profile("/p/9", "", connection={"id": "dhcp by mac", "uuid": "uuid-9", "type": "802-3-ethernet"},
                        **{"802-3-ethernet": {"mac-address": bytes([2, 0, 0, 0, 0, 2])}})
    unbound_elsewhere = profile("/p/10", "", connection={"id": "other", "uuid": "uuid-10", "type": "802-3-ethernet"},
                                **{"802-3-ethernet": {"mac-address": bytes([2, 0, 0, 0, 0, 9])}})
    snap = snapshot([ours, mac_bound, unbound_elsewhere], devices)
    plan = plan_for(snap, {"interfaces": [{"name": "eth2", "state": "absent"}]})
    assert [(op.kind, op.profile) for op in plan.ops] == [("update", "/p/9"), ("delete", "/p/2")]
    assert plan.ops[0].settings["match"]["interface-name"] == ["!eth2"]
    assert [p["id"] for p in plan.profiles["blocked"]] == ["dhcp by mac"]


def test_blocked_profiles_are_not_blocked_again():
    devices = {"eth2": dict(device("eth2", "/d/2"), mac="02:00:00:00:00:02")}
    mac_bound = profile("/p/9", "", connection={"id": "dhcp by mac", "uuid": "uuid-9", "type": "802-3-ethernet"},
                        match={"interface-name": ["!eth2"]},
                        **{"802-3-ethernet": {"mac-address": bytes([2, 0, 0, 0, 0, 2])}})
    plan = plan_for(snapshot([mac_bound], devices), {"interfaces": [{"name": "eth2", "state": "absent"}]})
    assert plan.ops == []


def test_two_inactive_profiles_of_others_on_one_interface_are_ambiguous():
    # RC-25's kind: which one to change cannot be told; ids are never used to find a profile
    snap = snapshot([profile("/p/1", "eth1", ipv4=STATIC4, connection={
        "id": "System eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1"}),
        profile("/p/2", "eth1", ipv4=STATIC4, connection={
            "id": "System eth1", "uuid": "u2", "type": "802-3-ethernet", "interface-name": "eth1"})])
    with pytest.raises(InvalidStateError) as err:
        plan_for(snap, {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up"}]})
    assert [p.code for p in err.value.problems] == ["PROFILE_AMBIGUOUS"]
    assert "u1" in err.value.problems[0].message and "u2" in err.value.problems[0].message


def test_prune_reaches_a_bridge_that_is_down():
    # NM keeps an unrealized placeholder device, reported unmanaged, for a bridge whose profile is down
    snap = bridges_snapshot()
    snap.devices["br2"].update(managed=False, real=False, state=10, active="/")
    snap.profiles[1].active = ""
    plan = prune_plan(snap, BR1_ONLY)
    assert [(op.kind, op.iface) for op in plan.ops] == [("delete", "br2")]


def test_kernel_rules_with_a_mark_a_suppressor_or_an_action_are_read_and_removable():
    # issue 15 item 8 with issue 17's kernel-rule removal: `ip -json rule` (iproute2 6.1, as printed
    # for these rules) spells the suppressor suppress_prefixlen and gives action rules no table
    from ansible_collections.hostnet.nm.plugins.module_utils.nm import kernel
    dump = {4: [{"priority": 0, "src": "all", "table": "local"},
                {"priority": 29990, "src": "all", "fwmark": "0x10", "fwmask": "0xff", "table": "main"},
                {"priority": 29991, "src": "198.19.32.0", "srclen": 24, "iif": "eth1", "action": "prohibit"},
                {"priority": 29992, "src": "all", "table": "main", "suppress_prefixlen": 0},
                {"priority": 29993, "src": "all", "fwmark": "0x20", "action": "blackhole"},
                {"priority": 29994, "src": "all", "action": "nop"},
                {"priority": 32766, "src": "all", "table": "main"}], 6: []}
    read = kernel.rules_from_ip_json(dump)
    assert read == [
        {"family": "ipv4", "priority": 29990, "route-table": 254, "fwmark": 16, "fwmask": 255},
        {"family": "ipv4", "priority": 29991, "route-table": 254, "ip-from": "198.19.32.0/24", "iif": "eth1",
         "action": "prohibit"},
        {"family": "ipv4", "priority": 29992, "route-table": 254, "suppress-prefix-length": 0},
        {"family": "ipv4", "priority": 29993, "route-table": 254, "fwmark": 32, "fwmask": 0xFFFFFFFF,
         "action": "blackhole"}]
    assert [kernel.rule_argv(r)[4:] for r in read] == [
        ["29990", "fwmark", "0x10/0xff", "table", "254"],
        ["29991", "from", "198.19.32.0/24", "iif", "eth1", "prohibit"],
        ["29992", "suppress_prefixlength", "0", "table", "254"],
        ["29993", "fwmark", "0x20/0xffffffff", "blackhole"]]


def dhcp_eth2(**ipv6):
    return snapshot([profile("/p/2", "eth2", active="/a/2", ipv4={"method": "auto", "route-table": 1000},
                             ipv6=dict({"method": "auto"}, **ipv6))])


def test_ip_options_named_change_the_profile_and_the_info_fed_back_is_a_no_op():
    # issue 15 item 8: only what the document names changes; the host's own options are no drift
    snap = dhcp_eth2(**{"addr-gen-mode": 0, "token": "::fac1", "dhcp-send-hostname": False})
    assert plan_for(snap, model.to_document(reader.current_state(snap))).ops == []
    current = reader.current_state(snap)["interfaces"]["eth2"]
    assert current["ipv4"]["auto-route-table-id"] == 1000 and current["ipv6"]["token"] == "::fac1"
    assert plan_for(snap, {"interfaces": [{"name": "eth2", "ipv4": {"auto-route-table-id": 1000},
                                           "ipv6": {"token": "::0.0.250.193", "dhcp-send-hostname": False}}]}).ops == []
    plan = plan_for(snap, {"interfaces": [{"name": "eth2", "ipv4": {"auto-route-metric": 150}}]})
    assert plan.changed and plan.target["interfaces"]["eth2"]["ipv4"]["auto-route-metric"] == 150
    # a value that means NetworkManager's default, the same as none
    assert plan_for(dhcp_eth2(), {"interfaces": [{"name": "eth2", "ipv4": {"dhcp-send-hostname": True},
                                                  "ipv6": {"addr-gen-mode": "default", "token": ""}}]}).ops == []


def test_a_token_brings_eui64_and_another_mode_with_the_kept_token_is_refused():
    plan = plan_for(dhcp_eth2(), {"interfaces": [{"name": "eth2", "ipv6": {"token": "::fac1"}}]})
    assert plan.target["interfaces"]["eth2"]["ipv6"]["addr-gen-mode"] == "eui64"
    with pytest.raises(InvalidStateError) as err:
        plan_for(dhcp_eth2(**{"addr-gen-mode": 0, "token": "::fac1"}),
                 {"interfaces": [{"name": "eth2", "ipv6": {"addr-gen-mode": "stable-privacy"}}]})
    assert [(p.code, p.path) for p in err.value.problems] == [("IPV6_TOKEN_NEEDS_EUI64",
                                                               "interfaces[0].ipv6.addr-gen-mode")]


def test_a_rule_to_the_lease_s_table_is_held_by_the_interface_that_fills_it():
    # issue 15 item 8: auto-route-table-id puts the lease's routes in table 1000: a rule to it needs no static route
    doc = {"interfaces": [{"name": "eth2", "ipv4": {"auto-route-table-id": 1000}}],
           "route-rules": {"config": [{"ip-to": "198.18.2.0/24", "priority": 29980, "route-table": 1000}]}}
    snap = snapshot([profile("/p/2", "eth2", active="/a/2", ipv4={"method": "auto"}, ipv6={"method": "disabled"})])
    plan = plan_for(snap, doc)
    assert [op.iface for op in plan.ops if op.iface == "eth2"] and plan.target["route-rules"][0]["route-table"] == 1000
