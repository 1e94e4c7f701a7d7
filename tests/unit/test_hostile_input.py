# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile input (issue 20, items 2, 6, 7 and 9): strings NetworkManager, the
kernel or D-Bus would refuse, numbers written as text, huge and deep
documents, option bounds, and short messages. Plain data, no host."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import options, validation
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError, shown, type_name
from ansible_collections.hostnet.nm.plugins.module_utils.schema import MAX_DEPTH, MAX_NODES, join
from ansible_collections.hostnet.nm.plugins.module_utils.change import checkpoint_action
from ansible_collections.hostnet.nm.plugins.module_utils.transaction import Options

#: every kind of string field the schema has, and every place an interface name is written
DOC = {
    "interfaces": [
        {"name": "br0", "type": "linux-bridge", "state": "up", "mac-address": "02:00:00:00:00:01",
         "bridge": {"options": {"vlan-protocol": "802.1q"}, "port": [{"name": "eth1"}]},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.5", "prefix-length": 24}]}},
        {"name": "bond0", "type": "bond", "link-aggregation": {"mode": "active-backup", "options": {"miimon": "100"},
                                                               "port": ["eth3", "eth4"]}},
        {"name": "v10", "type": "vlan", "vlan": {"base-iface": "bond0", "id": 10}},
        {"name": "ve0", "type": "veth", "veth": {"peer": "ve0p"}},
    ],
    "routes": {"config": [{"destination": "198.19.0.0/24", "next-hop-interface": "br0",
                           "next-hop-address": "198.18.1.1"}]},
    "dns-resolver": {"config": {"server": ["198.18.1.1", "fe80::53%br0"], "search": ["lab.test"],
                                "options": ["rotate"]}},
}


def strings(node: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Any, ...]]:
    """The path (as keys) of every string value in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, path + (i,))
    elif isinstance(node, str):
        yield path


def replaced(path: Tuple[Any, ...], func) -> dict:
    doc = copy.deepcopy(DOC)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = func(parent[path[-1]])
    return doc


def dotted(path: Tuple[Any, ...]) -> str:
    out = ""
    for key in path:
        out = join(out, key)
    return out


def errors(doc: Any) -> List[Tuple[str, str]]:
    return [(p.code, p.path) for p in validation.validate(doc)[1]]


def test_the_base_document_is_valid():
    assert errors(DOC) == []


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b[31m", "\x7f", "\x85", "\ud800", "\udfff"])
@pytest.mark.parametrize("path", list(strings(DOC)), ids=dotted)
def test_every_string_field_refuses_nul_controls_and_surrogates(path, bad):
    """Item 2: one rule for every string of the document (D-Bus carries valid UTF-8 without NUL)."""
    got = errors(replaced(path, lambda v: v[:1] + bad + v[1:]))
    assert ("STRING_INVALID", dotted(path)) in got
    assert all(code != "INTERNAL_RULE_ERROR" for code, _p in got)


def test_a_key_with_a_control_character_is_refused_with_an_escaped_path():
    doc = copy.deepcopy(DOC)
    doc["interfaces"][0]["ipv4\x00"] = {}
    assert ("STRING_INVALID", 'interfaces[0]["ipv4\\u0000"]') in errors(doc)


@pytest.mark.parametrize("key,path", [("", 'interfaces[0][""]'), ("a b", 'interfaces[0]["a b"]'),
                                      ("x[0]", 'interfaces[0]["x[0]"]'), ("ipv4é", 'interfaces[0]["ipv4\\u00e9"]')])
def test_a_key_a_path_cannot_show_plainly_is_quoted(key, path):
    doc = copy.deepcopy(DOC)
    doc["interfaces"][0][key] = {}
    assert ("UNKNOWN_KEY", path) in errors(doc)


NAME_PLACES = [("interfaces", 0, "name"), ("interfaces", 0, "bridge", "port", 0, "name"),
               ("interfaces", 1, "link-aggregation", "port", 0), ("interfaces", 2, "vlan", "base-iface"),
               ("interfaces", 3, "veth", "peer"), ("routes", "config", 0, "next-hop-interface")]


@pytest.mark.parametrize("name", ["ethé", "eth\u00a0", "eth 1", "eth\u2028", "e%d", "eth/1", "eth:1", "ěth",
                                  "e\N{SNOWMAN}", ".", ".."])
@pytest.mark.parametrize("path", NAME_PLACES, ids=dotted)
def test_interface_names_the_kernel_nm_or_udev_refuse(path, name):
    got = errors(replaced(path, lambda _v: name))
    assert [c for c, p in got if p == dotted(path)] in (["INTERFACE_NAME_INVALID"], ["STRING_INVALID"]), got


def test_a_dns_scope_with_a_non_ascii_name_is_refused():
    got = errors(replaced(("dns-resolver", "config", "server", 1), lambda _v: "fe80::53%brü"))
    assert ("INTERFACE_NAME_INVALID", "dns-resolver.config.server[1]") in got


@pytest.mark.parametrize("name", ["eth1", "bond0.100", "br-storage_1", "a" * 15, "e-1.2_3@x"])
def test_valid_names_pass(name):
    assert errors({"interfaces": [{"name": name}]}) == []


# ------------------------------------------------------------ numbers as text

@pytest.mark.parametrize("text,code", [("0100", "BAD_NUMBER"), ("00", "BAD_NUMBER"), ("9" * 25, "MTU_OUT_OF_RANGE"),
                                       ("-1", "MTU_OUT_OF_RANGE"), ("1.5e3", "TYPE_MISMATCH"),
                                       ("1_500", "TYPE_MISMATCH"), ("9" * 5000, "VALUE_TOO_LONG")])
def test_numbers_as_text_get_a_code_and_a_path(text, code):
    assert errors({"interfaces": [{"name": "eth1", "mtu": text}]}) == [(code, "interfaces[0].mtu")]


@pytest.mark.parametrize("text,value", [("1500", 1500), (" 1500 ", 1500), ("0x5dc", 1500), ("+1500", 1500)])
def test_numbers_as_text_that_parse(text, value):
    canonical, errs, _w = validation.validate({"interfaces": [{"name": "eth1", "mtu": text}]})
    assert errs == [] and canonical["interfaces"][0]["mtu"] == value


def test_a_bad_number_does_not_hide_the_other_errors():
    doc = {"interfaces": [{"name": "eth1", "mtu": "0100", "ipv4": {"address": [
        {"ip": "198.18.1.300", "prefix-length": "024"}]}}, {"name": "x" * 16}]}
    assert sorted(errors(doc)) == sorted([("BAD_NUMBER", "interfaces[0].mtu"),
                                          ("BAD_ADDRESS", "interfaces[0].ipv4.address[0].ip"),
                                          ("BAD_NUMBER", "interfaces[0].ipv4.address[0].prefix-length"),
                                          ("INTERFACE_NAME_INVALID", "interfaces[1].name")])


def test_a_huge_integer_is_refused_without_converting_it():
    doc = {"interfaces": [{"name": "eth1", "mtu": 10 ** 4999}],
           "routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-interface": "eth1", "metric": -(2 ** 70)}]}}
    got = validation.validate(doc)[1]
    assert [(p.code, p.path) for p in got] == [("VALUE_OUT_OF_RANGE", "interfaces[0].mtu"),
                                               ("VALUE_OUT_OF_RANGE", "routes.config[0].metric")]
    assert "5000 digits" in got[0].message and len(got[0].message) < 200


def test_a_huge_integer_in_bond_options_is_refused():
    doc = {"interfaces": [{"name": "bond0", "link-aggregation": {"options": {"miimon": 10 ** 5000}}}]}
    assert errors(doc) == [("VALUE_OUT_OF_RANGE", "interfaces[0].link-aggregation.options.miimon")]


# ------------------------------------------------------- size and depth bounds

def test_a_100000_deep_list_is_bounded():
    deep: Any = []
    for _level in range(100000):
        deep = [deep]
    got = errors({"interfaces": deep})
    assert ("DOCUMENT_TOO_DEEP", "interfaces" + "[0]" * (MAX_DEPTH - 1)) in got


def test_a_deep_mapping_is_bounded():
    deep: Any = {}
    for _level in range(50000):
        deep = {"ipv4": deep}
    got = errors({"interfaces": [{"name": "eth1", "ipv4": deep}]})
    assert any(code == "DOCUMENT_TOO_DEEP" for code, _p in got)


def test_a_yaml_alias_bomb_is_refused_before_it_expands():
    bomb = "a0: &a0 [" + ", ".join(["eth1"] * 10) + "]\n" + "".join(
        "a%d: &a%d [%s]\n" % (k, k, ", ".join(["*a%d" % (k - 1)] * 10)) for k in range(1, 9))
    bomb += "interfaces: [*a8]\n"
    assert errors(yaml.safe_load(bomb)) == [("DOCUMENT_TOO_LARGE", "")]


def test_too_many_values_is_refused_as_a_whole():
    doc = {"routes": {"config": [{"destination": "198.19.0.0/24"}] * (MAX_NODES // 2)}}
    assert errors(doc) == [("DOCUMENT_TOO_LARGE", "")]


def test_a_megabyte_value_is_not_echoed():
    big = "x" * (1 << 20)
    problems = validation.validate({"interfaces": [{"name": big, "state": big, "mtu": big}], big: 1})[1]
    assert {p.code for p in problems} == {"VALUE_TOO_LONG"}
    assert sum(len(str(p)) for p in problems) < 2000


def test_long_values_are_cut_with_their_length():
    problems = validation.validate({"interfaces": [{"name": "eth1", "state": "u" * 4000}]})[1]
    assert problems[0].code == "BAD_VALUE"
    assert "(4000 characters)" in problems[0].message and len(problems[0].message) < 200


# ------------------------------------------------------------- type names

def test_user_facing_type_names_also_for_ansible_tagged_values():
    from ansible._internal._datatag._tags import Origin
    tag = Origin(path="/play.yml", line_num=3)
    assert [type_name(tag.tag(v)) for v in ("x", 5, {"a": 1}, [1])] == ["string", "integer", "mapping", "list"]
    problem = validation.validate({"interfaces": [{"name": "eth1", "ipv4": tag.tag("yes")}]})[1][0]
    assert problem.message == "expected a mapping, got string 'yes'"
    assert "Tagged" not in str(problem) and "a a" not in str(problem)
    assert problem.hint == "write a mapping here"


def test_shown_keeps_short_values_and_cuts_long_ones():
    assert shown("eth1") == "'eth1'" and shown(24) == "24" and shown(None) == "None"
    assert shown("\ud800") == "'\\ud800'"
    assert shown("y" * 100).endswith("... (100 characters)")


# ------------------------------------------------------------ option bounds

@pytest.mark.parametrize("value", [0, -1, 4, 2 ** 32, 2 ** 32 - 1, 86401, "0", "-5", "abc", 10 ** 5000],
                         ids=shown)
def test_rollback_timeout_out_of_bounds_is_refused(value):
    problems = options.check({"rollback_timeout": value})
    assert [p.path for p in problems] == ["rollback_timeout"]
    assert problems[0].code in ("OPTION_OUT_OF_RANGE", "TYPE_MISMATCH", "VALUE_OUT_OF_RANGE")


@pytest.mark.parametrize("name,value", [("rollback_timeout", 5), ("rollback_timeout", 86400), ("rollback_timeout", "60"),
                                        ("lock_timeout", 0), ("verify_timeout", 0), ("wait_timeout", 1),
                                        ("wait", 0), ("rollback_timeout", None)])
def test_options_inside_bounds_pass(name, value):
    assert options.check({name: value}) == []


@pytest.mark.parametrize("name", ["wait_timeout", "verify_timeout", "lock_timeout"])
def test_every_timeout_of_the_module_is_bounded(name):
    assert [p.code for p in options.check({name: -1})] == ["OPTION_OUT_OF_RANGE"]
    with pytest.raises(InvalidStateError) as exc:
        Options(**{name: 2 ** 32})
    assert exc.value.problems[0].path == name


def test_the_module_and_the_checkpoint_module_refuse_a_zero_rollback_timeout():
    """Item 6: 0 would turn NetworkManager's rollback off. Refused before any D-Bus connection."""
    with pytest.raises(InvalidStateError) as exc:
        Options(rollback_timeout=0)
    assert exc.value.result.get("changed") is None and exc.value.problems[0].code == "OPTION_OUT_OF_RANGE"
    with pytest.raises(InvalidStateError):
        checkpoint_action("create", rollback_timeout=0, bus_address="unix:path=/nonexistent")
    with pytest.raises(InvalidStateError):
        checkpoint_action("commit", wait=-1, bus_address="unix:path=/nonexistent")


def test_the_reconciler_refuses_settings_out_of_bounds(tmp_path):
    from ansible_collections.hostnet.nm.plugins.module_utils import reconciler
    with pytest.raises(ValueError, match="rollback_timeout"):
        reconciler.load_config(str(tmp_path / "none.json"), {"rollback_timeout": 0})
    assert reconciler.load_config(str(tmp_path / "none.json"), {"rollback_timeout": 8})["rollback_timeout"] == 8


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not (REPO / ".venv" / "bin" / "ansible-playbook").exists(),
                    reason="needs the controller venv's ansible CLI (make test has it)")
@pytest.mark.parametrize("value,refused", [(0, True), (30, False)])
def test_the_reconciler_role_checks_its_rollback_timeout_before_touching_the_host(tmp_path, value, refused):
    """The role's argument spec cannot bound a number: its first task does, on the controller. The
    host is 127.0.0.1 on the discard port, so a task that got past the check finds it unreachable."""
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"ghost": {
        "ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_user": "nobody",
        "ansible_ssh_common_args": "-o ConnectTimeout=3 -o ControlMaster=no"}}}}))
    role_vars = {"hostnet_reconciler_rollback_timeout": value, "hostnet_reconciler_state": {"interfaces": []}}
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{"hosts": "ghost", "gather_facts": False, "roles": [
        {"role": "hostnet.nm.reconciler", "vars": role_vars}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(REPO / "build" / "collections"), ANSIBLE_RETRY_FILES_ENABLED="0")
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                           str(tmp_path / "play.yml")], capture_output=True, text=True, env=env, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    if refused:
        assert "OPTION_OUT_OF_RANGE" in out and "hostnet_reconciler_rollback_timeout" in out
        assert "unreachable=0" in out and "UNREACHABLE" not in out, out[-2000:]
    else:
        assert "OPTION_OUT_OF_RANGE" not in out and "unreachable=1" in out, out[-2000:]
