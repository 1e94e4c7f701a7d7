"""VXLAN, MAC-VLAN, MAC-VTAP and IPVLAN with plain data: the schema's
canonical forms, NetworkManager settings both ways, live checks, the
registry's choice between kinds that share a ``connection.type``, and the
plan's host checks (a base nowhere, an IPVLAN on NetworkManager before 1.52,
a change that re-creates the device)."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds, model, profiles
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import ipvlan, mac_vlan, mac_vtap, vxlan
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.nm import settings as nms
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile
from ansible_collections.hostnet.nm.plugins.module_utils.nmversion import NmVersion
from ansible_collections.hostnet.nm.plugins.module_utils.plan import make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.tests.unit.test_plan import snapshot

VX = {"id": 10, "base-iface": "eth1", "remote": "2001:db8:0:0::12", "local": "2001:db8::11",
      "destination-port": 4789, "learning": False}


def parsed(iface):
    doc, problems = parse_document({"interfaces": [iface]})
    assert problems == []
    return doc["interfaces"][0]


def test_vxlan_addresses_are_canonical_and_its_id_a_number():
    iface = parsed({"name": "vx10", "type": "vxlan", "vxlan": dict(VX, id="10")})
    assert iface["vxlan"] == dict(VX, id=10, remote="2001:db8::12")


def test_vxlan_settings_both_ways_with_nm_defaults_filled_in():
    target = {"name": "vx10", "type": "vxlan", "vxlan": dict(VX, remote="2001:db8::12")}
    written = vxlan.KIND.to_nm({}, target, new=True)
    assert written == {"vxlan": {"id": 10, "parent": "eth1", "remote": "2001:db8::12", "local": "2001:db8::11",
                                 "destination-port": 4789, "learning": False}}
    # NetworkManager leaves properties at their defaults out of GetSettings
    assert vxlan.KIND.from_nm({"vxlan": {"id": 7, "remote": "198.18.1.12"}}) == {
        "vxlan": {"id": 7, "remote": "198.18.1.12", "destination-port": 8472, "learning": True}}
    current = {"name": "vx10", "type": "vxlan", "vxlan": vxlan.KIND.from_nm(written)["vxlan"]}
    assert vxlan.KIND.to_nm(current, target, new=False) == {}
    assert vxlan.KIND.to_nm(current, dict(target, vxlan=dict(target["vxlan"], id=11)), new=False) == {
        "vxlan": {"id": 11}}


def test_vxlan_live_check_compares_what_the_target_states():
    target = {"name": "vx10", "type": "vxlan", "vxlan": {"id": 10, "remote": "2001:db8::12", "learning": False}}
    live = {"kind": {"Id": 10, "Group": "2001:db8:0::12", "Learning": True, "DstPort": 8472, "Parent": "eth1"}}
    assert vxlan.KIND.live_mismatches(target, live) == [("vxlan.learning", False, True)]
    assert vxlan.KIND.live_mismatches(target, {}) == []


def test_mac_vlan_and_mac_vtap_share_a_type_and_are_told_apart_by_tap():
    vlan_settings = {"connection": {"type": "macvlan"}, "macvlan": {"parent": "eth1", "mode": 2}}
    vtap_settings = {"connection": {"type": "macvlan"}, "macvlan": {"parent": "eth1", "mode": 1, "tap": True}}
    assert kinds.by_profile(vlan_settings) is mac_vlan.KIND
    assert kinds.by_profile(vtap_settings) is mac_vtap.KIND
    assert kinds.by_profile({"connection": {"type": "vpn"}}) is None
    assert mac_vtap.KIND.from_nm(vtap_settings) == {
        "mac-vtap": {"base-iface": "eth1", "mode": "vepa", "promiscuous": True}}
    named = dict(vtap_settings, connection={"type": "macvlan", "interface-name": "mvt0"})
    iface = profiles.iface_from_profile(named, None, True)
    assert iface["type"] == "mac-vtap" and iface["mac-vtap"]["mode"] == "vepa"


def test_mac_vlan_settings_and_live_promiscuous_flag():
    target = {"name": "mv0", "type": "mac-vlan", "mac-vlan": {"base-iface": "eth1", "mode": "passthru",
                                                              "promiscuous": False}}
    assert mac_vlan.KIND.to_nm({}, target, new=True) == {
        "macvlan": {"tap": False, "parent": "eth1", "mode": 4, "promiscuous": False}}
    assert mac_vtap.KIND.to_nm({}, {"mac-vtap": {"base-iface": "eth1", "mode": "bridge"}}, new=True) == {
        "macvlan": {"tap": True, "parent": "eth1", "mode": 2}}
    live = {"kind": {"Mode": "passthru", "NoPromisc": False, "Tap": False, "Parent": "eth1"}}
    assert mac_vlan.KIND.live_mismatches(target, live) == [("mac-vlan.promiscuous", False, True)]


def test_ipvlan_gets_the_kernels_default_mode_when_new_and_round_trips():
    target = {"name": "ipv0", "type": "ipvlan", "ipvlan": {"base-iface": "eth1"}}
    written = ipvlan.KIND.to_nm({}, target, new=True)
    assert written == {"ipvlan": {"parent": "eth1", "mode": 2}}
    read = ipvlan.KIND.from_nm(written)
    assert read == {"ipvlan": {"base-iface": "eth1", "mode": "l3", "private": False, "vepa": False}}
    merged = kinds.merge_iface({"name": "ipv0", "type": "ipvlan", **read}, target)
    assert ipvlan.KIND.to_nm({"name": "ipv0", **read}, merged, new=False) == {}
    assert ipvlan.KIND.live_mismatches(merged, {"kind": {"Mode": "l2", "Private": False, "Vepa": False}}) == [
        ("ipvlan.mode", "l3", "l2")]


def test_every_written_property_has_a_dbus_type():
    every = {"ipvlan": {"base-iface": "e", "mode": "l2", "private": True, "vepa": False}}
    for kind, iface in ((vxlan.KIND, {"vxlan": VX}), (ipvlan.KIND, every),
                        (mac_vlan.KIND, {"mac-vlan": {"base-iface": "e", "mode": "source", "promiscuous": True}})):
        for setting, props in kind.to_nm({}, iface, new=True).items():
            assert set(props) <= set(nms.SIGNATURES[setting]), kind.type


# ------------------------------------------------------------------ plan (host checks)

def overlay_profile(path, name, nm_type, section, active="", **extra):
    settings = {"connection": {"id": name, "uuid": "uuid-" + name, "type": nm_type, "interface-name": name},
                nm_type: section, "ipv4": {"method": "disabled"}, "ipv6": {"method": "disabled"}}
    settings.update(extra)
    prof = Profile(path, settings, {})
    prof.active = active
    return prof


def plan(snap, doc):
    doc, problems = parse_document(doc)
    assert problems == []
    return make_plan(snap, reader.current_state(snap), kinds.from_document(doc))


def codes(snap, doc):
    with pytest.raises(InvalidStateError) as info:
        plan(snap, doc)
    return [(p.code, p.path) for p in info.value.problems]


def test_a_base_that_is_nowhere_or_removed_is_refused():
    doc = {"interfaces": [{"name": "mv0", "type": "mac-vlan", "mac-vlan": {"base-iface": "eth9", "mode": "bridge"}},
                          {"name": "eth1", "state": "absent"},
                          {"name": "eth1.5", "type": "vlan", "vlan": {"base-iface": "eth1", "id": 5}}]}
    assert codes(snapshot(), doc) == [("BASE_IFACE_MISSING", "interfaces[0].mac-vlan.base-iface"),
                                      ("BASE_IFACE_MISSING", "interfaces[2].vlan.base-iface")]
    # a base the document creates, or one of the host's devices, is fine
    ok = {"interfaces": [{"name": "vx0", "type": "vxlan", "vxlan": {"id": 1, "base-iface": "br0"}},
                         {"name": "br0", "type": "linux-bridge"},
                         {"name": "mvt0", "type": "mac-vtap", "mac-vtap": {"base-iface": "eth2", "mode": "vepa"}}]}
    assert sorted(op.iface for op in plan(snapshot(), ok).ops if op.kind == "create") == ["br0", "mvt0", "vx0"]


def test_ipvlan_needs_networkmanager_1_52():
    doc = {"interfaces": [{"name": "ipv0", "type": "ipvlan", "ipvlan": {"base-iface": "eth1"}}]}
    old = snapshot()
    old.nm, old.version = NmVersion((1, 42, 4)), "1.42.4"
    with pytest.raises(InvalidStateError) as info:
        plan(old, doc)
    [problem] = info.value.problems
    assert (problem.code, problem.path) == ("KIND_NEEDS_NEWER_NM", "interfaces[0].type")
    assert "since 1.52" in problem.message and "1.42.4" in problem.message and "1.52 or newer" in problem.hint
    assert plan(old, {"interfaces": [{"name": "ipv0", "type": "ipvlan", "state": "absent"}]}).ops == []
    new = snapshot()
    new.nm = NmVersion((1, 52, 0))
    assert [(op.kind, op.iface) for op in plan(new, doc).ops] == [("create", "ipv0"), ("activate", "ipv0")]


def test_a_changed_id_re_creates_the_device_and_a_re_run_writes_nothing():
    section = {"id": 10, "parent": "eth1", "remote": "198.18.1.12"}
    snap = snapshot([overlay_profile("/p/9", "vx10", "vxlan", section, active="/a/9")])
    snap.devices["vx10"] = dict(snap.devices["eth1"], path="/d/9", nm_type=19, type="vxlan", active="/a/9",
                                state=100)
    current = model.to_document(reader.current_state(snap), ["vx10"])
    assert plan(snap, current).ops == []
    doc = {"interfaces": [{"name": "vx10", "type": "vxlan", "vxlan": {"id": 11}}]}
    ops = plan(snap, doc).ops
    assert [(op.kind, op.iface, op.disruption) for op in ops] == [
        ("update", "vx10", "none"), ("deactivate", "vx10", "reactivate"), ("activate", "vx10", "reactivate")]
    assert ops[0].settings["vxlan"]["id"] == 11
    # an address change on the same VXLAN is reapplied, without re-creating it
    addr = {"interfaces": [{"name": "vx10", "ipv4": {"enabled": True, "dhcp": False,
                                                     "address": [{"ip": "198.19.10.11", "prefix-length": 24}]}}]}
    assert [op.kind for op in plan(snap, addr).ops] == ["update", "reapply"]
