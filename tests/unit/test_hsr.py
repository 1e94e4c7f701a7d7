"""HSR and PRP with plain data: the schema's canonical forms (nmstate's
``hsr-2010``, the read-only supervision address), NetworkManager settings
both ways (a new HSR, a change, the protocol as ``prp`` and
``protocol-version``), live checks, and the plan's host checks: the
NetworkManager release the kind and ``hsr-2012`` need, ports nowhere, ports
created first, a change that re-creates the device, a re-run that writes
nothing."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import keyfiles, kinds, model
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import hsr
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.nm import settings as nms
from ansible_collections.hostnet.nm.plugins.module_utils.nmversion import NmVersion
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.plugins.module_utils.validation import validate
from ansible_collections.hostnet.nm.tests.unit.test_keyfiles import parsed as keyfile_parsed
from ansible_collections.hostnet.nm.tests.unit.test_overlay_kinds import plan
from ansible_collections.hostnet.nm.tests.unit.test_plan import device, profile, snapshot

PRP = {"port1": "eth1", "port2": "eth2", "multicast-spec": 40, "protocol": "prp"}


def hsr_doc(section, **extra):
    return {"interfaces": [dict({"name": "hsr0", "type": "hsr", "state": "up", "hsr": section}, **extra)]}


def parsed(section):
    doc, problems = parse_document(hsr_doc(section))
    assert problems == []
    return doc["interfaces"][0]


def test_hsr_2010_is_hsr_and_the_supervision_address_is_read_only():
    assert parsed(dict(PRP, protocol="hsr-2010"))["hsr"]["protocol"] == "hsr"
    doc = hsr_doc(dict(PRP, **{"supervision-address": "01:15:4e:00:01:28"}))
    _doc, errors, warnings = validate(doc)
    assert errors == [] and [(w.code, w.path) for w in warnings] == [
        ("OPTION_NO_EFFECT", "interfaces[0].hsr.supervision-address")]
    # never part of the model: neither compared nor written
    assert kinds.from_document(_doc)["interfaces"]["hsr0"]["hsr"] == PRP


def test_a_new_hsr_gets_the_kernels_defaults_and_round_trips():
    written = hsr.KIND.to_nm({}, {"name": "hsr0", "type": "hsr", "hsr": {"port1": "eth1", "port2": "eth2"}}, new=True)
    # no protocol-version: NetworkManager's default, a property NetworkManager before 1.56 does not have
    assert written == {"hsr": {"port1": "eth1", "port2": "eth2", "prp": False}}
    # GetSettings leaves properties at their defaults out
    read = hsr.KIND.from_nm(written)
    assert read == {"hsr": {"port1": "eth1", "port2": "eth2", "multicast-spec": 0, "protocol": "hsr"}}
    current = {"name": "hsr0", "type": "hsr", **read}
    for section in ({"port1": "eth1", "port2": "eth2"}, dict(read["hsr"], protocol="hsr-2010")):
        target = kinds.merge_iface(current, parsed(section))
        assert hsr.KIND.to_nm(current, target, new=False) == {}
        assert not hsr.KIND.recreates(current, target)


@pytest.mark.parametrize("protocol, props", [
    ("prp", {"prp": True}),
    ("hsr", {"prp": False}),
    ("hsr-2012", {"prp": False, "protocol-version": 1}),
])
def test_each_protocol_in_networkmanagers_terms(protocol, props):
    written = hsr.KIND.to_nm({}, {"hsr": dict(PRP, protocol=protocol)}, new=True)
    assert written == {"hsr": dict({"port1": "eth1", "port2": "eth2", "multicast-spec": 40}, **props)}
    assert hsr.KIND.from_nm(written)["hsr"]["protocol"] == protocol


def test_a_change_writes_what_changes_and_back_to_hsr_resets_the_version():
    current = {"name": "hsr0", "type": "hsr", "hsr": dict(PRP, protocol="hsr-2012")}
    assert hsr.KIND.to_nm(current, {"hsr": dict(PRP, protocol="hsr")}, new=False) == {
        "hsr": {"protocol-version": -1}}
    assert hsr.KIND.to_nm(current, {"hsr": dict(PRP, protocol="prp")}, new=False) == {
        "hsr": {"prp": True, "protocol-version": -1}}
    assert hsr.KIND.to_nm(current, {"hsr": dict(PRP, protocol="hsr-2012", port2="eth3")}, new=False) == {
        "hsr": {"port2": "eth3"}}
    assert hsr.KIND.recreates(current, {"hsr": dict(PRP, protocol="hsr-2012", port2="eth3")})


def test_every_written_property_has_a_dbus_type():
    for protocol in hsr.PROTOCOLS:
        for setting, props in hsr.KIND.to_nm({}, {"hsr": dict(PRP, protocol=protocol)}, new=True).items():
            assert set(props) <= set(nms.SIGNATURES[setting])


def test_live_check_compares_ports_by_name_and_the_protocol():
    target = {"name": "hsr0", "type": "hsr", "hsr": PRP}
    live = {"kind": {"Port1": "eth1", "Port2": "eth3", "Prp": False, "MulticastSpec": 0}}
    assert hsr.KIND.live_mismatches(target, live) == [("hsr.port2", "eth2", "eth3"), ("hsr.protocol", "prp", "hsr")]
    assert hsr.KIND.live_mismatches(target, {"kind": {"Port1": "eth1", "Port2": "eth2", "Prp": True}}) == []
    assert hsr.KIND.live_mismatches(target, {}) == []


# ------------------------------------------------------------------ plan (host checks)

def problems_of(snap, doc):
    with pytest.raises(InvalidStateError) as info:
        plan(snap, doc)
    return info.value.problems


def on(version):
    snap = snapshot()
    snap.nm, snap.version = NmVersion(version), "%d.%d.%d" % version
    return snap


def test_networkmanager_1_46_for_hsr_and_1_56_for_hsr_2012():
    [problem] = problems_of(on((1, 42, 4)), hsr_doc(PRP))
    assert (problem.code, problem.path) == ("KIND_NEEDS_NEWER_NM", "interfaces[0].type")
    assert "since 1.46" in problem.message and "1.42.4" in problem.message and "1.46 or newer" in problem.hint
    assert plan(on((1, 42, 4)), {"interfaces": [{"name": "hsr0", "type": "hsr", "state": "absent"}]}).ops == []
    [problem] = problems_of(on((1, 52, 0)), hsr_doc(dict(PRP, protocol="hsr-2012")))
    assert (problem.code, problem.path) == ("KIND_NEEDS_NEWER_NM", "interfaces[0].hsr.protocol")
    assert "hsr-2012" in problem.message and "since 1.56" in problem.message
    assert [(op.kind, op.iface) for op in plan(on((1, 52, 0)), hsr_doc(PRP)).ops] == [
        ("create", "hsr0"), ("activate", "hsr0")]
    assert [op.kind for op in plan(on((1, 58, 0)), hsr_doc(dict(PRP, protocol="hsr-2012"))).ops] == [
        "create", "activate"]


def test_a_port_that_is_nowhere_or_removed_is_refused():
    doc = hsr_doc(dict(PRP, port2="eth9"))
    assert [(p.code, p.path) for p in problems_of(on((1, 52, 0)), doc)] == [
        ("BASE_IFACE_MISSING", "interfaces[0].hsr.port2")]
    doc = hsr_doc(PRP)
    doc["interfaces"].append({"name": "eth1", "state": "absent"})
    assert [(p.code, p.path) for p in problems_of(on((1, 52, 0)), doc)] == [
        ("BASE_IFACE_MISSING", "interfaces[0].hsr.port1")]


def test_ports_the_document_creates_come_first():
    doc = hsr_doc(dict(PRP, port1="vp1", port2="vp2"))
    for port in ("vp2", "vp1"):
        doc["interfaces"].append({"name": port, "type": "veth", "veth": {"peer": port + "-sw"},
                                  "ipv4": {"enabled": False}, "ipv6": {"enabled": False}})
    creates = [op.iface for op in plan(on((1, 52, 0)), doc).ops if op.kind == "create"]
    assert creates.index("hsr0") > max(creates.index("vp1"), creates.index("vp2")), creates


def host():
    """A 1.52 host with hsr0 (PRP over eth1 and eth2) active."""
    written = hsr.KIND.to_nm({}, {"hsr": PRP}, new=True)["hsr"]
    prof = profile("/p/5", "hsr0", active="/a/5", hsr=written, ipv4={"method": "disabled"},
                   ipv6={"method": "disabled"})
    prof.settings["connection"]["type"] = "hsr"
    devices = {"eth1": device("eth1", "/d/1"), "eth2": device("eth2", "/d/2"),
               "hsr0": dict(device("hsr0", "/d/5", nm_type=33, active="/a/5"), type="hsr")}
    snap = snapshot([prof], devices)
    snap.nm, snap.version = NmVersion((1, 52, 0)), "1.52.0"
    return snap


def test_the_current_state_fed_back_writes_nothing_and_a_change_re_creates():
    snap = host()
    current = model.to_document(reader.current_state(snap), ["hsr0"])
    assert current["interfaces"][0]["hsr"] == PRP
    assert plan(snap, current).ops == []
    assert plan(snap, hsr_doc(PRP)).ops == []
    ops = plan(snap, hsr_doc({"port1": "eth1", "port2": "eth2", "multicast-spec": 41})).ops
    assert [(op.kind, op.iface, op.disruption) for op in ops] == [
        ("update", "hsr0", "none"), ("deactivate", "hsr0", "reactivate"), ("activate", "hsr0", "reactivate")]
    assert ops[0].settings["hsr"]["multicast-spec"] == 41 and ops[0].settings["hsr"]["prp"] is True


def test_offline_keyfiles_write_the_hsr_setting_after_its_ports():
    doc = hsr_doc(PRP, ipv4={"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.51", "prefix-length": 24}]})
    doc["interfaces"] += [{"name": port, "type": "ethernet", "state": "up", "ipv4": {"enabled": False},
                           "ipv6": {"enabled": False}} for port in ("eth2", "eth1")]
    files = keyfiles.generate(doc).files
    assert [f.interface for f in files][-1] == "hsr0"
    kf = keyfile_parsed([f for f in files if f.interface == "hsr0"][0].text)
    assert kf["connection"]["type"] == "hsr"
    assert kf["hsr"] == {"port1": "eth1", "port2": "eth2", "multicast-spec": "40", "prp": "true"}


def test_a_port_the_host_gives_another_controller_is_refused():
    snap = host()
    bridge = profile("/p/7", "br0", active="/a/7")
    bridge.settings["connection"]["type"] = "bridge"
    port = profile("/p/8", "eth3", active="/a/8")
    port.settings["connection"].update({"master": "br0", "slave-type": "bridge"})
    devices = dict(snap.devices, eth3=device("eth3", "/d/3", active="/a/8"),
                   br0=device("br0", "/d/7", nm_type=13, active="/a/7"))
    snap = snapshot(snap.profiles + [bridge, port], devices)
    snap.nm, snap.version = NmVersion((1, 52, 0)), "1.52.0"
    doc = {"interfaces": [{"name": "hsr1", "type": "hsr", "hsr": {"port1": "eth3", "port2": "eth2"}}]}
    assert [(p.code, p.path, p.message) for p in problems_of(snap, doc)] == [
        ("PORT_MULTIPLE_CONTROLLERS", "interfaces[0].hsr.port1", "eth3 is already a port of br0 on this host"),
        ("PORT_MULTIPLE_CONTROLLERS", "interfaces[0].hsr.port2", "eth2 is already a port of hsr0 on this host")]
    # the host's own HSR keeps its ports
    assert plan(snap, hsr_doc(PRP)).ops == []
