"""Offline keyfiles: NM settings -> keyfile text, and desired state -> files (plain data, a temporary directory)."""

from __future__ import annotations

import configparser
import os
import re
import stat
from pathlib import Path

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import keyfiles
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.nm import keyfile
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import Variant

LINE = re.compile(r"^(\[[^\]\n]+\]|[A-Za-z0-9._-]+=.*|)$")

#: every kind, with routes, a rule and DNS (also read by tests/integration/test_keyfiles_offline.py)
FULL = yaml.safe_load((Path(__file__).parent / "keyfiles_every_kind.yml").read_text())


def parsed(text):
    """The keyfile as {section: {key: value}} (a GLib key file reads like an ini file without interpolation)."""
    cp = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=",))
    cp.optionxform = str
    cp.read_string(text)
    return {s: dict(cp[s]) for s in cp.sections()}


def files_of(doc):
    return {f.interface: f for f in keyfiles.generate(doc).files}


def test_dhcp_keyfile_has_only_sections_and_key_value_lines_rc34():
    # RC-34: nothing but [section] and key=value lines can end up in a generated keyfile
    doc = {"interfaces": [{"name": "eth0", "type": "ethernet", "state": "up", "ipv4": {"enabled": True, "dhcp": True}}]}
    (f,) = keyfiles.generate(doc).files
    assert all(LINE.match(line) for line in f.text.splitlines()), f.text
    kf = parsed(f.text)
    assert kf["connection"] == {"id": "eth0", "uuid": keyfiles.profile_uuid("eth0"), "type": "ethernet",
                                "autoconnect": "true", "interface-name": "eth0"}
    assert kf["ipv4"]["method"] == "auto" and kf["ipv6"] == {"method": "disabled"}
    assert f.filename == "eth0.nmconnection" and not f.secrets


def test_uuids_are_stable_and_distinct_per_interface():
    first, second = files_of(FULL), files_of(FULL)
    assert {n: f.text for n, f in first.items()} == {n: f.text for n, f in second.items()}
    assert len({f.uuid for f in first.values()}) == len(first) == 6
    assert parsed(first["eth1"].text)["connection"]["uuid"] == keyfiles.profile_uuid("eth1")


def test_keyfile_forms_follow_networkmanager():
    kf = {n: parsed(f.text) for n, f in files_of(FULL).items()}
    eth1 = kf["eth1"]
    assert eth1["ethernet"] == {"cloned-mac-address": "02:00:00:00:00:AA", "mtu": "1400"}
    assert eth1["ipv4"]["address1"] == "198.18.1.11/24"
    assert eth1["ipv4"]["route1"] == "0.0.0.0/0,198.18.1.1"
    assert eth1["ipv4"]["route2"] == "198.19.0.0/16,0.0.0.0,150"      # a metric without next hop: NM's zero hop
    assert eth1["ipv4"]["route2_options"] == "table=100"
    assert eth1["ipv4"]["routing-rule1"] == "priority 30000 from 198.18.1.0/24 table 100"
    assert eth1["ipv4"]["dns"] == "198.18.1.1;" and eth1["ipv6"]["dns"] == "2001:db8:1::1;"
    assert eth1["ipv4"]["dns-search"] == "lab.test;"
    assert "dns-options" not in eth1["ipv4"]  # an empty list is NM's default: no key
    assert kf["eth2"]["connection"]["master"] == "br0" and kf["eth2"]["connection"]["slave-type"] == "bridge"
    assert kf["eth2"]["bridge-port"]["vlans"] == "5 pvid untagged,10,20-30"
    assert "ipv4" not in kf["eth2"]
    assert kf["br0"]["bridge"]["stp"] == "false" and kf["br0"]["ipv4"]["ignore-auto-dns"] == "true"
    assert kf["bond0"]["bond"] == {"miimon": "100", "mode": "active-backup"}
    assert kf["bond0"]["connection"]["autoconnect"] == "false"   # state: down
    assert kf["eth1.10"]["vlan"] == {"id": "10", "parent": "eth1"}


def test_files_come_in_dependency_order():
    names = [f.interface for f in keyfiles.generate(FULL).files]
    assert names.index("br0") < names.index("eth2") and names.index("eth1") < names.index("eth1.10")


@pytest.mark.parametrize("value, expected", [
    ("plain", "plain"), (" lead", "\\slead"), ("a\\b", "a\\\\b"), ("two\nlines", "two\\nlines"), ("t\tab", "t\\tab"),
])
def test_strings_are_escaped_as_glib_key_file_values(value, expected):
    assert keyfile.escape(value) == expected


def test_list_items_escape_the_separator():
    assert keyfile.render({"ipv4": {"dns-search": Variant("as", ["a;b", "c"])}}) == "[ipv4]\ndns-search=a\\;b;c;\n"


def test_secrets_are_hidden_when_masked_and_written_otherwise():
    settings = {"connection": {"id": Variant("s", "m0"), "type": Variant("s", "macsec")},
                "macsec": {"mka-cak": Variant("s", "0123456789abcdef0123456789abcdef"), "mode": Variant("i", 0)}}
    assert keyfile.has_secrets(settings)
    assert "mka-cak=0123456789abcdef0123456789abcdef" in keyfile.render(settings)
    shown = keyfile.render(settings, mask=True)
    assert "mka-cak=<hidden>" in shown and "0123456789abcdef" not in shown


def test_a_value_without_keyfile_form_is_an_error_not_a_guess():
    with pytest.raises(keyfile.KeyfileError):
        keyfile.render({"tc": {"qdiscs": Variant("aa{sv}", [{"kind": Variant("s", "fq")}])}})


def test_what_offline_cannot_know_is_refused_all_at_once():
    doc = {"interfaces": [
        {"name": "br0", "type": "linux-bridge", "bridge": {"port": [{"name": "eth5"}]}},
        {"name": "eth0.7", "type": "vlan", "vlan": {"base-iface": "eth0", "id": 7}},
        {"name": "eth3", "state": "up"}]}
    with pytest.raises(InvalidStateError) as err:
        keyfiles.generate(doc)
    found = {(p.code, p.path) for p in err.value.problems}
    assert found == {("OFFLINE_INTERFACE_UNDECLARED", "interfaces[0].bridge.port[0].name"),
                     ("OFFLINE_INTERFACE_UNDECLARED", "interfaces[1].vlan.base-iface"),
                     ("OFFLINE_TYPE_REQUIRED", "interfaces[2].type")}
    assert all(p.hint for p in err.value.problems)


def test_an_invalid_document_gets_the_same_validation_as_network_state():
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet",
                           "ipv4": {"enabled": True, "address": [{"ip": "198.18.1.0", "prefix-length": 24}]}}]}
    with pytest.raises(InvalidStateError) as err:
        keyfiles.generate(doc)
    assert [p.code for p in err.value.problems] == ["ADDRESS_IS_NETWORK"]


def test_write_is_idempotent_with_mode_0600_and_check_mode_writes_nothing(tmp_path):
    dest = str(tmp_path)
    check = keyfiles.run(FULL, dest, check_mode=True)
    assert check["changed"] and os.listdir(dest) == []
    assert {d["after_header"] for d in check["diff"]} == {str(tmp_path / n) for n in
                                                          ("eth1.nmconnection", "eth2.nmconnection", "br0.nmconnection",
                                                           "bond0.nmconnection", "eth1.10.nmconnection",
                                                           "lo.nmconnection")}
    first = keyfiles.run(FULL, dest)
    assert first["changed"] and all(k["changed"] for k in first["keyfiles"])
    for entry in first["keyfiles"]:
        assert stat.S_IMODE(os.stat(entry["path"]).st_mode) == 0o600
        assert open(entry["path"]).read() == entry["content"]
    again = keyfiles.run(FULL, dest)
    assert not again["changed"] and again["diff"] == [] and not any(k["changed"] for k in again["keyfiles"])
    assert sorted(os.listdir(dest)) == sorted(k["filename"] for k in first["keyfiles"])  # no temporary left


def test_a_changed_file_or_mode_is_rewritten_and_the_diff_says_how(tmp_path):
    keyfiles.run(FULL, str(tmp_path))
    os.chmod(tmp_path / "eth2.nmconnection", 0o644)
    doc = yaml.safe_load(yaml.safe_dump(FULL))
    doc["interfaces"][0]["mtu"] = 9000
    result = keyfiles.run(doc, str(tmp_path), check_mode=True)
    by_file = {d["after_header"].rsplit("/", 1)[1]: d for d in result["diff"]}
    assert set(by_file) == {"eth1.nmconnection", "eth2.nmconnection"}
    assert "mtu=1400" in by_file["eth1.nmconnection"]["before"] and "mtu=9000" in by_file["eth1.nmconnection"]["after"]
    assert "# mode 0644" in by_file["eth2.nmconnection"]["before"]
    keyfiles.run(doc, str(tmp_path))
    assert stat.S_IMODE(os.stat(tmp_path / "eth2.nmconnection").st_mode) == 0o600
    assert not keyfiles.run(doc, str(tmp_path))["changed"]


def test_state_absent_removes_the_file_and_leaves_others(tmp_path):
    keyfiles.run(FULL, str(tmp_path))
    (tmp_path / "foreign.nmconnection").write_text("[connection]\nid=foreign\n")
    doc = {"interfaces": [{"name": "bond0", "state": "absent"}]}
    result = keyfiles.run(doc, str(tmp_path))
    assert result["changed"] and result["removed"] == [str(tmp_path / "bond0.nmconnection")]
    assert not (tmp_path / "bond0.nmconnection").exists() and (tmp_path / "foreign.nmconnection").exists()
    assert not keyfiles.run(doc, str(tmp_path))["changed"]


def test_without_dest_the_keyfiles_are_data(tmp_path):
    result = keyfiles.run(FULL)
    assert not result["changed"] and result["diff"] == []
    assert sorted(k["filename"] for k in result["keyfiles"]) == [
        "bond0.nmconnection", "br0.nmconnection", "eth1.10.nmconnection", "eth1.nmconnection", "eth2.nmconnection",
        "lo.nmconnection"]
    assert all("path" not in k and k["content"].startswith("[connection]\n") for k in result["keyfiles"])


def test_dest_must_be_a_directory(tmp_path):
    with pytest.raises(keyfiles.HostnetError, match="not a directory"):
        keyfiles.run(FULL, str(tmp_path / "missing"))


def test_dictionaries_become_sections_of_their_own():
    settings = {"connection": {"id": Variant("s", "b"), "type": Variant("s", "bond")},
                "bond": {"options": Variant("a{ss}", {"mode": "802.3ad", "miimon": "100"})},
                "user": {"data": Variant("a{ss}", {"org.example.owner": "me"})}}
    assert parsed(keyfile.render(settings)) == {"connection": {"id": "b", "type": "bond"},
                                                "bond": {"miimon": "100", "mode": "802.3ad"},
                                                "user": {"org.example.owner": "me"}}
    with pytest.raises(keyfile.KeyfileError):
        keyfile.render({"user": {"data": Variant("a{ss}", {"a=b": "c"})}})


def test_the_filter_is_the_same_core():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.hostnet.nm.plugins.filter.keyfiles import FilterModule

    fltr = FilterModule().filters()["keyfiles"]
    assert fltr(FULL) == {f.filename: f.text for f in keyfiles.generate(FULL).files}
    with pytest.raises(AnsibleFilterError, match="OFFLINE_TYPE_REQUIRED"):
        fltr({"interfaces": [{"name": "eth9"}]})


def test_the_worked_example_of_the_docs_generates_what_the_docs_show():
    text = (Path(__file__).parents[2] / "docs" / "keyfiles.md").read_text()
    state = yaml.safe_load(re.search(r"```yaml\n# group_vars/storage.yml\n(.*?)```", text, re.S).group(1))
    files = {f.filename: f for f in keyfiles.generate(state["storage_network"]).files}
    listing = re.search(r"\$ ls .*\n(.*)\n", text).group(1).split()
    assert sorted(files) == sorted(listing)
    shown = parsed(re.search(r"```ini\n(.*?)```", text, re.S).group(1))
    ens3 = parsed(files["ens3.nmconnection"].text)
    shown["connection"]["uuid"] = keyfiles.profile_uuid("ens3")
    assert {s: ens3.get(s) for s in shown} == shown


@pytest.mark.skipif(os.geteuid() != 0, reason="making a file root's needs root")
def test_a_keyfile_not_owned_by_root_is_rewritten_as_roots(tmp_path):
    keyfiles.run(FULL, str(tmp_path))
    os.chown(tmp_path / "eth1.nmconnection", 1000, 1000)
    result = keyfiles.run(FULL, str(tmp_path))
    assert [d["after_header"] for d in result["diff"]] == [str(tmp_path / "eth1.nmconnection")]
    assert "# owner uid 1000" in result["diff"][0]["before"]
    assert os.stat(tmp_path / "eth1.nmconnection").st_uid == 0


def test_another_keyfile_for_the_same_interface_is_warned_about(tmp_path):
    (tmp_path / "Wired connection 1.nmconnection").write_text("[connection]\nid=Wired connection 1\n"
                                                              "type=ethernet\ninterface-name=eth2\n")
    (tmp_path / "other.nmconnection").write_text("[connection]\ninterface-name=eth7\n")
    (tmp_path / "broken.nmconnection").write_text("no section\n")
    warnings = keyfiles.run(FULL, str(tmp_path))["warnings"]
    assert [w for w in warnings if "may win at boot" in w] == [
        "Wired connection 1.nmconnection in %s also configures eth2 and may win at boot: remove it, or set "
        "autoconnect=false in it" % tmp_path]


def test_a_secret_in_the_document_is_in_the_file_only(tmp_path):
    # the collection's one secret rule (by key name): here a bond option called password
    doc = {"interfaces": [{"name": "bond9", "type": "bond", "state": "up", "link-aggregation": {
        "mode": "active-backup", "options": {"miimon": "100", "password": "canary-7f3a9"}}}]}
    with pytest.raises(InvalidStateError, match="KEYFILE_SECRETS_NEED_DEST"):
        keyfiles.run(doc)
    result = keyfiles.run(doc, str(tmp_path), check_mode=True)
    assert "canary-7f3a9" not in repr(result) and "password=<hidden>" in result["diff"][0]["after"]
    result = keyfiles.run(doc, str(tmp_path))
    assert "canary-7f3a9" not in repr(result)
    assert "password=canary-7f3a9" in (tmp_path / "bond9.nmconnection").read_text()
    os.chmod(tmp_path / "bond9.nmconnection", 0o640)
    again = keyfiles.run(doc, str(tmp_path), check_mode=True)
    assert "canary-7f3a9" not in repr(again) and again["diff"][0]["before"].startswith("<hidden>\n")


def test_keyfiles_carry_network_states_ownership_mark():
    # the seam: keyfiles take their settings from profiles.build_settings, where network_state's mark is written
    from ansible_collections.hostnet.nm.plugins.module_utils import profiles as nms
    if not hasattr(nms, "OWNER_KEY"):
        pytest.skip("this tree writes no ownership mark yet")
    for name, f in files_of(FULL).items():
        user = parsed(f.text)["user"]
        assert user[nms.OWNER_KEY] == nms.OWNER and user[nms.OWNER_IFACE_KEY] == name


def test_route_types_go_into_lo_s_keyfile_listed_or_not():
    # issue 15 item 8: lo's profile holds blackhole/unreachable/prohibit routes, NetworkManager's option "type"
    lo = parsed(files_of(FULL)["lo"].text)
    assert lo["ipv4"]["route1"] == "198.19.77.0/24" and lo["ipv4"]["route1_options"] == "table=254,type=blackhole"
    assert lo["ipv6"]["route1"] == "2001:db8:77::/48,::,500"
    assert lo["ipv6"]["route1_options"] == "table=100,type=unreachable"
    # without lo in the document, as nmstate's offline generation: lo's profile, up, with the implicit addresses
    alone = files_of({"routes": {"config": [{"destination": "198.19.77.0/24", "route-type": "prohibit"}]}})
    assert list(alone) == ["lo"]
    lo = parsed(alone["lo"].text)
    assert lo["connection"]["type"] == "loopback" and lo["ipv4"]["address1"] == "127.0.0.1/8"
    assert lo["ipv4"]["route1_options"] == "table=254,type=prohibit" and lo["ipv6"]["address1"] == "::1/128"
