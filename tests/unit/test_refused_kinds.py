# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The refused kinds (kinds/refused.py): each is refused by validation with
``UNSUPPORTED``, its path, its reason and its hint; the host facts that
decide whether a host could have one (nm/support.py) from plain D-Bus
property values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import validation
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import refused
from ansible_collections.hostnet.nm.plugins.module_utils.nm import support

REPO = Path(__file__).resolve().parents[2]


def errors_of(doc):
    _canonical, errors, _warnings = validation.validate(doc)
    return errors


# ------------------------------------------------------------------ validation

@pytest.mark.parametrize("type_name", [t for r in refused.REFUSALS for t in r.types])
def test_a_refused_type_says_why_and_what_to_do(type_name):
    reason = refused.for_type(type_name)
    errors = errors_of({"interfaces": [{"name": "x0", "type": type_name, "state": "up"}]})
    assert [(p.code, p.path) for p in errors] == [("UNSUPPORTED", "interfaces[0].type")]
    assert errors[0].message == "unsupported: interfaces[0].type (%r: %s)" % (type_name, reason.why)
    assert errors[0].hint == reason.hint


@pytest.mark.parametrize("type_name", refused.NOT_YET)
def test_a_planned_type_is_refused_as_not_yet_supported(type_name):
    errors = errors_of({"interfaces": [{"name": "x0", "type": type_name}]})
    assert [(p.code, p.path) for p in errors] == [("UNSUPPORTED", "interfaces[0].type")]
    assert "does not support yet" in errors[0].message and errors[0].hint


KEY_DOCS = {
    "document": lambda key: ({key: {}}, key),
    "interface": lambda key: ({"interfaces": [{"name": "eth1", "type": "ethernet", key: {}}]},
                              'interfaces[0]["%s"]' % key if "." in key else "interfaces[0].%s" % key),
    "ethernet": lambda key: ({"interfaces": [{"name": "eth1", "type": "ethernet", "ethernet": {key: {}}}]},
                             "interfaces[0].ethernet.%s" % key),
}


@pytest.mark.parametrize("where,key", [k for r in refused.REFUSALS for k in r.keys])
def test_a_refused_key_says_why_and_what_to_do(where, key):
    reason = refused.keys(where)[key]
    doc, path = KEY_DOCS[where](key)
    errors = errors_of(doc)
    assert [(p.code, p.path) for p in errors] == [("UNSUPPORTED", path)]
    assert errors[0].message == "unsupported: %s (%s)" % (path, reason.why)
    assert errors[0].hint == reason.hint


def test_the_ovs_hint_names_the_plugin_package_and_the_way_to_ask_a_host():
    errors = errors_of({"interfaces": [{"name": "br0", "type": "ovs-bridge"}], "ovs-db": {"other_config": {}}})
    assert [p.path for p in errors] == ["interfaces[0].type", "ovs-db"]
    for problem in errors:
        assert "Open vSwitch" in problem.message
        assert "NetworkManager-ovs" in problem.hint and "networkmanager.features" in problem.hint
        assert "docs/nmstate-differences.md#open-vswitch" in problem.hint


def test_team_is_refused_as_deprecated_with_a_bond_instead():
    problem, = errors_of({"interfaces": [{"name": "team0", "type": "team", "team": {"runner": {"name": "lacp"}}}]})
    assert "deprecated" in problem.message
    assert problem.hint.startswith("use a bond") and "lacp to 802.3ad" in problem.hint


def test_a_type_is_never_both_a_kind_and_refused():
    from ansible_collections.hostnet.nm.plugins.module_utils import schema
    assert schema.SUPPORTED_TYPES and not set(schema.SUPPORTED_TYPES) & set(refused.TYPES)
    assert len(set(refused.TYPES)) == len(refused.TYPES)


def test_every_refusal_has_its_section_in_the_differences_doc():
    text = (REPO / refused.DOC).read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", text, re.M)}
    assert {r.anchor for r in refused.REFUSALS} - anchors == set()


# ------------------------------------------------------------------ host facts

def test_features_from_networkmanager_capabilities():
    assert support.features({"Capabilities": [1, 2]}, [], vpn_dirs=()) == {"team", "ovs"}
    assert support.features({"Capabilities": [1]}, [], vpn_dirs=()) == {"team"}
    # NetworkManager 1.42 without its OVS plugin: the OVS capability is missing
    assert support.features({"Capabilities": []}, [], vpn_dirs=()) == frozenset()
    assert support.features({}, [], vpn_dirs=()) == frozenset()


def test_features_from_devices():
    ethernet = {"DeviceType": 1, "Capabilities": 0x7}
    assert support.features({}, [ethernet], vpn_dirs=()) == frozenset()
    assert support.features({}, [ethernet, {"DeviceType": 9, "Capabilities": 0x3}], vpn_dirs=()) == {"infiniband"}
    assert support.features({}, [{"DeviceType": 1, "Capabilities": 0xB}], vpn_dirs=()) == {"sriov"}


def test_ipsec_from_the_libreswan_vpn_plugin_file(tmp_path):
    (tmp_path / "nm-openvpn-service.name").write_text("[VPN Connection]\nservice=org.freedesktop.NetworkManager.openvpn\n")
    assert support.features({}, [], vpn_dirs=[str(tmp_path)]) == frozenset()
    (tmp_path / "nm-libreswan-service.name").write_text(
        "[VPN Connection]\nname=libreswan\nservice = org.freedesktop.NetworkManager.libreswan\n")
    assert support.features({}, [], vpn_dirs=[str(tmp_path), str(tmp_path / "absent")]) == {"ipsec"}


def test_host_notes_name_what_is_missing_and_its_package():
    notes = refused.host_notes(frozenset({"team"}))
    assert "Open vSwitch: this host's NetworkManager has no Open vSwitch support (package NetworkManager-ovs)" in notes
    assert "Team: on this host, but not managed by hostnet.nm (see docs/nmstate-differences.md#team)" in notes
    assert len(notes) == len([r for r in refused.REFUSALS if r.feature])


def test_the_json_schema_gives_editors_the_reason_of_a_refused_key():
    from ansible_collections.hostnet.nm.plugins.module_utils import schema
    body = schema.json_schema()
    assert refused.keys("document")["ovs-db"].why in body["properties"]["ovs-db"]["description"]
    assert body["properties"]["dispatch"]["description"] == "unsupported by hostnet.nm"
