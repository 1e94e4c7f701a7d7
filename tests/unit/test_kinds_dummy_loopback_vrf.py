"""dummy, loopback and vrf: schema, canonical forms, NetworkManager settings
and plans, from plain data (no D-Bus)."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds, model
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import refused
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.nm import settings as dbus_settings
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import unwrap
from ansible_collections.hostnet.nm.plugins.module_utils.plan import make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.nmconst import FLAG_EXTERNAL
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile, Snapshot, choose_profiles
from ansible_collections.hostnet.nm.plugins.module_utils.validation import validate

LO4 = {"method": "manual", "address-data": [{"address": "127.0.0.1", "prefix": 8}]}
LO6 = {"method": "manual", "address-data": [{"address": "::1", "prefix": 128}]}
EXTRA4 = {"ip": "198.18.99.1", "prefix-length": 32}


def device_type(nm_type):
    kind = kinds.by_device_type(nm_type)
    return kind.type if kind else None


def device(path, nm_type, state=100, mtu=1500):
    return {"path": path, "nm_type": nm_type, "type": device_type(nm_type), "managed": True,
            "state": state, "mtu": mtu, "mac": None, "active": "/a" + path if state == 100 else "/",
            "ip4config": "/", "ip6config": "/", "real": True, "perm_mac": None}


def profile(path, iface, nm_type, active=True, flags=0, **sections):
    settings = {"connection": {"id": iface, "uuid": "uuid" + path, "type": nm_type, "interface-name": iface}}
    for key, value in sections.items():
        settings[key.replace("_", "-")] = value
    prof = Profile(path, settings, {"Flags": flags})
    prof.active = "/a" + path if active else ""
    return prof


def snapshot(profiles, devices):
    snap = Snapshot()
    snap.devices = devices
    snap.profiles = list(profiles)
    choose_profiles(snap)
    return snap


def plan_for(snap, doc):
    parsed, problems = parse_document(doc)
    assert problems == []
    return make_plan(snap, reader.current_state(snap), kinds.from_document(parsed))


def ops(plan):
    return sorted((op.kind, op.iface) for op in plan.ops)


def test_the_new_kinds_are_managed_not_refused():
    for name in ("dummy", "loopback", "vrf"):
        assert kinds.find(name) is not None and name not in refused.TYPES


@pytest.mark.parametrize("iface", [
    {"name": "dummy0", "type": "dummy", "mtu": 9000, "ipv4": {"enabled": True, "address": [EXTRA4]}},
    {"name": "vrf-blue", "type": "vrf", "vrf": {"route-table-id": 1001, "port": ["eth1"]}},
    {"name": "lo", "type": "loopback", "ipv4": {"enabled": True, "address": [
        {"ip": "127.0.0.1", "prefix-length": 8}, EXTRA4]}},
])
def test_documents_of_the_new_kinds_validate(iface):
    _doc, errors, _warnings = validate({"interfaces": [iface]})
    assert errors == []


def test_a_vrf_needs_its_table_and_not_table_zero():
    _doc, errors, _w = validate({"interfaces": [{"name": "vrf0", "type": "vrf", "vrf": {"port": ["eth1"]}}]})
    assert [(p.code, p.path) for p in errors] == [("MISSING_KEY", "interfaces[0].vrf.route-table-id")]
    _doc, errors, _w = validate({"interfaces": [{"name": "vrf0", "type": "vrf", "vrf": {"route-table-id": 0}}]})
    assert [(p.code, p.path) for p in errors] == [("ROUTE_TABLE_INVALID", "interfaces[0].vrf.route-table-id")]


def test_a_port_in_a_vrf_and_a_bridge_is_refused():
    _doc, errors, _w = validate({"interfaces": [
        {"name": "vrf0", "type": "vrf", "vrf": {"route-table-id": 100, "port": ["eth1"]}},
        {"name": "br0", "type": "linux-bridge", "bridge": {"port": [{"name": "eth1"}]}}]})
    assert [(p.code, p.path) for p in errors] == [("PORT_MULTIPLE_CONTROLLERS", "interfaces[1].bridge.port[0].name")]


def test_a_vrf_port_keeps_its_addresses_and_routes_in_the_vrf_table():
    _doc, errors, _w = validate({
        "interfaces": [{"name": "vrf0", "type": "vrf", "vrf": {"route-table-id": 100, "port": ["eth1"]}},
                       {"name": "eth1", "ipv4": {"enabled": True, "address": [
                           {"ip": "198.18.1.11", "prefix-length": 24}]}}],
        "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-interface": "eth1",
                               "next-hop-address": "198.18.1.1", "table-id": 100}]}})
    assert errors == []


def test_the_loopback_implicit_addresses_leave_the_model_on_both_sides():
    parsed, _p = parse_document({"interfaces": [{"name": "lo", "ipv4": {"enabled": True, "address": [
        {"ip": "127.0.0.1", "prefix-length": 8}, EXTRA4]}, "ipv6": {"enabled": True, "address": [
            {"ip": "::1", "prefix-length": 128}]}}]})
    lo = kinds.from_document(parsed)["interfaces"]["lo"]
    assert lo["ipv4"]["address"] == [EXTRA4] and lo["ipv6"]["address"] == []


def lo_external():
    """NetworkManager's own profile of lo (external, in memory), as on a fresh host."""
    return profile("/p/lo", "lo", "loopback", flags=FLAG_EXTERNAL, ipv4=LO4, ipv6=LO6,
                   connection={"id": "lo", "uuid": "u-lo", "type": "loopback", "interface-name": "lo",
                               "autoconnect": False})


def lo_snapshot(*profiles):
    return snapshot(profiles or [lo_external()], {"lo": device("/d/lo", 32, mtu=65536)})


def test_the_loopback_reads_without_implicit_addresses_mtu_or_mac():
    state = reader.current_state(lo_snapshot())
    assert state["interfaces"]["lo"] == {"name": "lo", "type": "loopback", "state": "up",
                                         "ipv4": {"enabled": True, "dhcp": False, "address": []},
                                         "ipv6": {"enabled": True, "dhcp": False, "autoconf": False, "address": []}}


def test_the_loopback_round_trip_and_absent_on_the_default_are_no_ops():
    snap = lo_snapshot()
    assert plan_for(snap, model.to_document(reader.current_state(snap))).ops == []
    assert plan_for(snap, {"interfaces": [{"name": "lo", "type": "loopback", "state": "absent"}]}).ops == []


def test_an_extra_loopback_address_updates_lo_with_the_implicit_ones_first():
    plan = plan_for(lo_snapshot(), {"interfaces": [{"name": "lo", "type": "loopback", "ipv4": {
        "enabled": True, "address": [EXTRA4]}}]})
    assert ops(plan) == [("reapply", "lo"), ("update", "lo")]
    new = unwrap(next(op for op in plan.ops if op.kind == "update").settings)
    assert new["ipv4"]["method"] == "manual"
    assert new["ipv4"]["address-data"] == [{"address": "127.0.0.1", "prefix": 8},
                                           {"address": "198.18.99.1", "prefix": 32}]
    assert new["ipv6"]["address-data"] == [{"address": "::1", "prefix": 128}]


def vrf_snapshot(port_active=True):
    eth1 = profile("/p/1", "eth1", "802-3-ethernet", active=port_active, ipv4={
        "method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}],
        "route-data": [{"dest": "0.0.0.0", "prefix": 0, "next-hop": "198.18.1.1", "table": 1001}]},
        ipv6={"method": "disabled"},
        connection={"id": "eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1",
                    "master": "vrf-blue", "slave-type": "vrf"})
    vrf = profile("/p/2", "vrf-blue", "vrf", vrf={"table": 1001}, ipv4={"method": "disabled"},
                  ipv6={"method": "disabled"})
    return snapshot([eth1, vrf], {"eth1": device("/d/1", 1), "vrf-blue": device("/d/2", 31, mtu=65575)})


def test_a_vrf_and_its_port_read_back_with_the_port_s_addresses_and_routes():
    state = reader.current_state(vrf_snapshot())
    assert state["interfaces"]["vrf-blue"]["vrf"] == {"route-table-id": 1001, "port": ["eth1"]}
    assert "mtu" not in state["interfaces"]["vrf-blue"]  # the kernel's 65575: above any MTU a document can give
    assert state["interfaces"]["eth1"]["ipv4"]["address"] == [{"ip": "198.18.1.11", "prefix-length": 24}]
    assert [(r["destination"], r["table-id"]) for r in state["routes"]] == [("0.0.0.0/0", 1001)]


def test_a_vrf_round_trip_is_a_no_op():
    snap = vrf_snapshot()
    assert plan_for(snap, model.to_document(reader.current_state(snap))).ops == []


def test_a_new_vrf_and_a_port_moving_in():
    snap = snapshot([profile("/p/1", "eth1", "802-3-ethernet", ipv4={
        "method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}]}, ipv6={"method": "disabled"})],
        {"eth1": device("/d/1", 1)})
    plan = plan_for(snap, {"interfaces": [
        {"name": "vrf-blue", "type": "vrf", "state": "up", "vrf": {"route-table-id": 1001, "port": ["eth1"]}}]})
    assert ops(plan) == [("activate", "eth1"), ("activate", "vrf-blue"), ("create", "vrf-blue"), ("update", "eth1")]
    by_kind = {(op.kind, op.iface): unwrap(op.settings) for op in plan.ops if op.settings}
    assert by_kind[("create", "vrf-blue")]["vrf"] == {"table": 1001}
    assert by_kind[("create", "vrf-blue")]["connection"]["type"] == "vrf"
    port = by_kind[("update", "eth1")]
    assert port["connection"]["master"] == "vrf-blue" and port["connection"]["slave-type"] == "vrf"
    assert port["ipv4"]["address-data"] == [{"address": "198.18.1.11", "prefix": 24}]


def test_a_port_moving_out_of_a_vrf_is_re_activated_with_its_addresses():
    plan = plan_for(vrf_snapshot(), {"interfaces": [
        {"name": "vrf-blue", "type": "vrf", "vrf": {"route-table-id": 1001, "port": []}}]})
    update = next(op for op in plan.ops if op.kind == "update" and op.iface == "eth1")
    assert "master" not in unwrap(update.settings)["connection"]
    assert ("activate", "eth1") in ops(plan)


def test_a_new_dummy_is_a_software_device_with_its_mtu():
    plan = plan_for(snapshot([], {}), {"interfaces": [
        {"name": "dummy0", "type": "dummy", "mtu": 9000, "ipv4": {"enabled": True, "address": [EXTRA4]}}]})
    assert ops(plan) == [("activate", "dummy0"), ("create", "dummy0")]
    new = unwrap(next(op for op in plan.ops if op.kind == "create").settings)
    assert new["connection"]["type"] == "dummy" and new["802-3-ethernet"]["mtu"] == 9000
    assert not next(op for op in plan.ops if op.kind == "activate").awaits_device


# issue 15 item 8: blackhole, unreachable and prohibit routes, held by lo's profile as nmstate keeps them
BLACKHOLE = {"destination": "198.19.77.0/24", "route-type": "blackhole"}
PROHIBIT = {"destination": "198.19.78.0/24", "route-type": "prohibit", "metric": 500, "table-id": 100}
UNREACHABLE6 = {"destination": "2001:db8:77::/48", "route-type": "unreachable"}
LO_ROUTES4 = [{"dest": "198.19.77.0", "prefix": 24, "table": 254, "type": "blackhole"},
              {"dest": "198.19.78.0", "prefix": 24, "table": 100, "metric": 500, "type": "prohibit"}]
LO_ROUTES6 = [{"dest": "2001:db8:77::", "prefix": 48, "table": 254, "type": "unreachable"}]


def lo_with_routes():
    """lo's profile of ours holding the three routes, active."""
    return lo_snapshot(profile("/p/lo2", "lo", "loopback", ipv4=dict(LO4, **{"route-data": LO_ROUTES4}),
                               ipv6=dict(LO6, **{"route-data": LO_ROUTES6}), user={"data": {
                                   "org.hostnet.nm.owner": "hostnet.nm", "org.hostnet.nm.interface": "lo"}}))


def test_route_types_go_into_lo_s_profile_with_its_addresses_as_they_were():
    plan = plan_for(lo_snapshot(), {"routes": {"config": [BLACKHOLE, PROHIBIT, UNREACHABLE6]}})
    assert ops(plan) == [("reapply", "lo"), ("update", "lo")]
    new = unwrap(next(op for op in plan.ops if op.kind == "update").settings)
    assert new["ipv4"]["route-data"] == LO_ROUTES4 and new["ipv6"]["route-data"] == LO_ROUTES6
    assert new["ipv4"]["address-data"] == [{"address": "127.0.0.1", "prefix": 8}]
    assert new["ipv6"]["address-data"] == [{"address": "::1", "prefix": 128}]
    item = dbus_settings.variant("ipv4", "route-data", new["ipv4"]["route-data"]).value[0]
    assert item["type"].signature == "s"  # NetworkManager's route attribute "type" (nm-settings-dbus(5))
    after = plan.diff["after"]["routes"]["config"]
    assert BLACKHOLE in [{k: v for k, v in r.items() if k != "table-id"} for r in after]  # IPv4: no interface


def test_route_types_read_back_as_nmstate_writes_them_and_fed_back_are_no_ops():
    snap = lo_with_routes()
    doc = model.to_document(reader.current_state(snap))
    assert doc["routes"]["config"] == [
        dict(BLACKHOLE, **{"table-id": 254}), PROHIBIT,
        dict(UNREACHABLE6, **{"next-hop-interface": "lo", "table-id": 254})]
    assert plan_for(snap, doc).ops == []
    assert plan_for(snap, {"routes": {"config": [BLACKHOLE, PROHIBIT, UNREACHABLE6]}}).ops == []


def test_an_absent_route_type_leaves_lo_s_other_routes():
    plan = plan_for(lo_with_routes(), {"routes": {"config": [dict(BLACKHOLE, state="absent")]}})
    assert ops(plan) == [("reapply", "lo"), ("update", "lo")]
    new = unwrap(next(op for op in plan.ops if op.kind == "update").settings)
    assert new["ipv4"]["route-data"] == LO_ROUTES4[1:] and new["ipv6"]["route-data"] == LO_ROUTES6


def test_a_route_type_held_by_another_profile_is_the_same_route():
    # a route-type route belongs to no device: the one an ethernet profile holds is the document's
    held = model.canonical_route(dict(BLACKHOLE, **{"next-hop-interface": "eth1"}))
    assert model.route_key(held) == model.route_key(model.canonical_route(dict(BLACKHOLE, **{
        "next-hop-interface": "lo"})))
    assert "next-hop-interface" not in model.document_route(held)
    six = model.canonical_route(dict(UNREACHABLE6, **{"next-hop-interface": "lo"}))
    assert model.document_route(six)["next-hop-interface"] == "lo"


def test_a_route_type_route_may_end_a_vrf_s_lookup_in_its_table():
    # the kernel's VRF documentation: an unreachable default with the highest metric in the VRF's table
    vrf = {"name": "vrf-blue", "type": "vrf", "state": "up", "vrf": {"route-table-id": 100, "port": []}}
    ending = {"destination": "0.0.0.0/0", "route-type": "unreachable", "table-id": 100, "metric": 4278198272}
    _doc, errors, _warnings = validate({"interfaces": [vrf], "routes": {"config": [ending]}})
    assert errors == []
    leak = {"destination": "0.0.0.0/0", "next-hop-interface": "lo", "table-id": 100}
    _doc, errors, _warnings = validate({"interfaces": [vrf], "routes": {"config": [leak]}})
    assert [p.code for p in errors] == ["VRF_TABLE_IN_USE"]


def test_a_reapply_of_lo_with_route_types_does_not_preserve_external_ip():
    # NetworkManager 1.52 drops lo's IPv6 route-type routes on a Reapply with PRESERVE_EXTERNAL_IP that
    # changes its IPv4 routes (lab, test_route_types_apply_rerun_round_trip_and_absent)
    from ansible_collections.hostnet.nm.plugins.module_utils.nmversion import NmVersion
    from ansible_collections.hostnet.nm.plugins.module_utils.plan import keep_external
    snap = lo_with_routes()
    snap.nm = NmVersion((1, 52, 1))
    plan = plan_for(snap, {"routes": {"config": [dict(BLACKHOLE, state="absent")]}})
    keep_external(plan, snap, {"lo": {"addresses": [], "routes": [], "state": 100}})
    assert [op.keep_external for op in plan.ops if op.kind == "reapply"] == [False]
    plan = plan_for(lo_snapshot(), {"interfaces": [{"name": "lo", "type": "loopback", "ipv4": {
        "enabled": True, "address": [EXTRA4]}}]})
    snap = lo_snapshot()
    snap.nm = NmVersion((1, 52, 1))
    keep_external(plan, snap, {"lo": {"addresses": [], "routes": [], "state": 100}})
    assert [op.keep_external for op in plan.ops if op.kind == "reapply"] == [True]


def test_a_route_type_on_a_host_whose_networkmanager_does_not_manage_lo_is_refused_at_its_path():
    from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
    with pytest.raises(InvalidStateError) as err:
        plan_for(snapshot([], {}), {"routes": {"config": [BLACKHOLE]}})
    assert [(p.code, p.path) for p in err.value.problems] == [("ROUTE_INTERFACE_MISSING", "routes.config[0].route-type")]
    assert "profile of lo" in err.value.problems[0].hint
