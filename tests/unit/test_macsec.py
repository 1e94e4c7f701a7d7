"""MACsec with plain data: the schema, NetworkManager settings both ways,
the CAK compared only as set or not (a re-run and the fed-back current
state write nothing), and the CAK masked in problems, diffs and results."""

from __future__ import annotations

import json

from ansible_collections.hostnet.nm.plugins.module_utils import kinds
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import macsec
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.plan import make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.redact import MASK, redact, secret_values
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.tests.unit.test_plan import device, profile, snapshot

CAK = "c0ffee00112233445566778899aabbcc"
CKN = "0a1b2c3d"
SECTION = {"base-iface": "eth1", "encrypt": True, "port": 7, "validation": "check", "send-sci": False,
           "mka-cak": CAK, "mka-ckn": CKN}
DOC = {"interfaces": [{"name": "ms0", "type": "macsec", "state": "up", "macsec": SECTION}]}


def plan(snap, doc):
    parsed, problems = parse_document(doc)
    assert problems == []
    return make_plan(snap, reader.current_state(snap), kinds.from_document(parsed))


def written(doc=None):
    """The new profile's macsec setting (of ``doc``, default DOC), as NetworkManager returns it from
    GetSettings: without the CAK."""
    doc = doc or DOC
    settings = macsec.KIND.to_nm({}, doc["interfaces"][0], new=True)["macsec"]
    return {k: v for k, v in settings.items() if k != "mka-cak"}


def host(doc=None):
    """A snapshot with the profile ``doc`` (default DOC) created, and its device."""
    doc = doc or DOC
    prof = profile("/p/5", "ms0", active="/a/5", macsec=written(doc), ipv4={"method": "disabled"},
                   ipv6={"method": "disabled"})
    prof.settings["connection"]["type"] = "macsec"
    devices = {"eth1": device("eth1", "/d/1"), "ms0": dict(device("ms0", "/d/5", nm_type=21, active="/a/5"))}
    return snapshot([prof], devices)


def test_a_new_macsec_gets_psk_mode_and_every_key():
    settings = macsec.KIND.to_nm({}, DOC["interfaces"][0], new=True)
    assert settings == {"macsec": {"parent": "eth1", "encrypt": True, "port": 7, "validation": 1, "send-sci": False,
                                   "mka-ckn": CKN, "mka-cak": CAK, "mode": 0}}


def test_the_cak_is_read_back_only_as_set_and_a_rerun_writes_nothing():
    read = macsec.KIND.from_nm({"macsec": written()})
    assert read == {"macsec": dict(SECTION, **{"mka-cak": macsec.SET})}
    current = {"name": "ms0", "type": "macsec", **read}
    for desired in (DOC["interfaces"][0], {"name": "ms0", "type": "macsec", **redact(read)}):
        target = kinds.merge_iface(current, desired)
        assert target["macsec"]["mka-cak"] == macsec.SET
        assert macsec.KIND.to_nm(current, target, new=False) == {}
        assert not macsec.KIND.recreates(current, target)


def test_a_new_ckn_writes_the_new_cak():
    current = {"name": "ms0", "type": "macsec", **macsec.KIND.from_nm({"macsec": written()})}
    other = "ffeeddccbbaa99887766554433221100"
    target = kinds.merge_iface(current, {"name": "ms0", "type": "macsec",
                                         "macsec": dict(SECTION, **{"mka-cak": other, "mka-ckn": "99"})})
    assert macsec.KIND.to_nm(current, target, new=False) == {"macsec": {"mka-ckn": "99", "mka-cak": other}}


def test_a_profile_without_keys_reads_none():
    assert macsec.KIND.from_nm({"macsec": {"parent": "eth1"}}) == {"macsec": {
        "base-iface": "eth1", "encrypt": True, "port": 1, "send-sci": True, "validation": "strict"}}


def test_nmstates_example_and_the_fed_back_mask_are_valid():
    for cak in (CAK, CAK * 2, MASK):
        doc = {"interfaces": [{"name": "ms0", "type": "macsec", "macsec": dict(SECTION, **{"mka-cak": cak})}]}
        assert parse_document(doc)[1] == []
    problems = parse_document({"interfaces": [{"name": "ms0", "type": "macsec",
                                               "macsec": {"base-iface": "eth1", "offload": "off"}}]})[1]
    assert [(p.code, p.path) for p in problems] == [("UNSUPPORTED", "interfaces[0].macsec.offload")]


def test_a_bad_cak_is_reported_without_its_value():
    bad = CAK + "zz"
    problems = parse_document({"interfaces": [{"name": "ms0", "type": "macsec",
                                               "macsec": dict(SECTION, **{"mka-cak": bad})}]})[1]
    assert [(p.code, p.path) for p in problems] == [("MACSEC_CAK_FORMAT", "interfaces[0].macsec.mka-cak")]
    assert bad not in repr(problems) and "34 characters" in problems[0].message


def test_the_plan_writes_the_cak_and_its_redacted_diff_and_result_never_show_it():
    created = plan(snapshot(), DOC)
    assert [(op.kind, op.iface) for op in created.ops] == [("create", "ms0"), ("activate", "ms0")]
    assert CAK in repr(created.ops)  # NetworkManager needs it
    shown = redact({"diff": created.diff, "ops": repr(created.ops), "warnings": ["key %s" % CAK]},
                   secret_values(DOC))
    assert CAK not in json.dumps(shown) and MASK in json.dumps(shown)
    assert created.diff["after"]["interfaces"][0]["macsec"]["port"] == 7


def test_a_rerun_and_the_fed_back_state_plan_nothing():
    snap = host()
    assert plan(snap, DOC).ops == []
    state = redact(reader.current_state(snap))
    [iface] = [i for i in state["interfaces"] if i["name"] == "ms0"] if isinstance(state["interfaces"], list) \
        else [state["interfaces"]["ms0"]]
    assert iface["macsec"]["mka-cak"] == MASK
    assert plan(snap, {"interfaces": [iface]}).ops == []
