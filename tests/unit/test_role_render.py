"""The role hostnet.nm.network's rendering: inventory variables -> one nmstate
document (plugins/plugin_utils/compose.py, filter hostnet.nm.compose_state).

Group plus host merges, ``__suffix`` merges, derived addresses, error paths,
and the worked example of docs/roles.md (docs/examples/fleet), rendered
through Ansible's own inventory and variable precedence."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.plugin_utils.compose import (
    AddressError, compose, host_address, merge_kind, plain, vpath)

REPO = Path(__file__).resolve().parents[2]
# these tests drive the real ansible CLI of the controller venv; ansible-test units runs a copy without it
needs_ansible_cli = pytest.mark.skipif(not (REPO / ".venv" / "bin" / "ansible-playbook").exists(),
                                       reason="needs the controller venv's ansible CLI (make test has it)")
EXAMPLE = REPO / "docs" / "examples" / "fleet"


def render(variables, host="h1", groups=None):
    return compose(variables, host, groups)


def ok(variables, host="h1", groups=None):
    result = render(variables, host, groups)
    assert result.ok, [str(p) for p in result.errors]
    return result.document


def errors(variables, host="h1", groups=None):
    result = render(variables, host, groups)
    assert not result.ok, result.document
    return [(p.code, p.path) for p in result.errors], result


def iface(doc, name):
    return next(i for i in doc["interfaces"] if i["name"] == name)


def addrs(doc, name, family=4):
    return ["%s/%d" % (a["ip"], a["prefix-length"]) for a in iface(doc, name)["ipv%d" % family]["address"]]


# ------------------------------------------------------------------ shapes

def test_each_kind_becomes_one_interface_of_its_type_in_dependency_order():
    doc = ok({
        "hostnet_bridges": {"br0": {"ports": ["bond0.100"]}},
        "hostnet_vlans": {"bond0.100": {"id": 100, "base": "bond0"}},
        "hostnet_bonds": {"bond0": {"mode": "active-backup", "ports": ["eth1", "eth2"], "options": {"miimon": 100}}},
        "hostnet_ethernets": {"eth1": {}, "eth2": {"mtu": 9000}},
    })
    assert [(i["name"], i["type"]) for i in doc["interfaces"]] == [
        ("eth1", "ethernet"), ("eth2", "ethernet"), ("bond0", "bond"), ("bond0.100", "vlan"), ("br0", "linux-bridge")]
    assert iface(doc, "eth1") == {"name": "eth1", "type": "ethernet", "state": "up"}
    assert iface(doc, "eth2")["mtu"] == 9000
    assert iface(doc, "bond0")["link-aggregation"] == {"mode": "active-backup", "options": {"miimon": 100},
                                                       "port": ["eth1", "eth2"]}
    assert iface(doc, "bond0.100")["vlan"] == {"base-iface": "bond0", "id": 100}
    assert iface(doc, "br0")["bridge"] == {"options": {"stp": {"enabled": False}}, "port": [{"name": "bond0.100"}]}
    assert "routes" not in doc and "dns-resolver" not in doc


def test_addresses_dhcp_autoconf_and_gateways():
    doc = ok({"hostnet_ethernets": {
        "eth1": {"addresses": ["198.18.1.5/24", "2001:db8:1::5/64"], "gateway": ["198.18.1.1", "2001:db8:1::1"]},
        "eth2": {"dhcp": True, "autoconf": True},
        "eth3": {"addresses": "198.18.3.5/24", "mac_address": "02:00:00:00:00:03"},
    }})
    assert iface(doc, "eth1")["ipv4"] == {"enabled": True, "dhcp": False,
                                          "address": [{"ip": "198.18.1.5", "prefix-length": 24}]}
    assert iface(doc, "eth1")["ipv6"] == {"enabled": True, "dhcp": False, "autoconf": False,
                                          "address": [{"ip": "2001:db8:1::5", "prefix-length": 64}]}
    assert iface(doc, "eth2")["ipv4"] == {"enabled": True, "dhcp": True, "address": []}
    assert iface(doc, "eth2")["ipv6"] == {"enabled": True, "dhcp": True, "autoconf": True, "address": []}
    assert addrs(doc, "eth3") == ["198.18.3.5/24"] and "ipv6" not in iface(doc, "eth3")
    assert iface(doc, "eth3")["mac-address"] == "02:00:00:00:00:03"
    assert doc["routes"]["config"] == [
        {"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1"},
        {"destination": "::/0", "next-hop-address": "2001:db8:1::1", "next-hop-interface": "eth1"}]


def test_routes_rules_and_dns():
    doc = ok({
        "hostnet_ethernets": {"eth1": {"addresses": ["198.18.1.5/24"]}},
        "hostnet_routes": {"lab19": {"destination": "198.19.0.0/16", "next-hop-address": "198.18.1.1",
                                     "next-hop-interface": "eth1", "metric": 150}},
        "hostnet_route_rules": {"from-lab": {"ip-from": "198.18.1.0/24", "route-table": 100, "priority": 500}},
        "hostnet_network_state": {"routes": {"config": [{"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1",
                                                         "next-hop-interface": "eth1", "table-id": 100}]}},
        "hostnet_dns": {"servers": ["198.18.1.1"], "search": ["lab.test"], "options": ["rotate"]},
    })
    assert [r["destination"] for r in doc["routes"]["config"]] == ["198.19.0.0/16", "0.0.0.0/0"]
    assert doc["route-rules"]["config"] == [{"ip-from": "198.18.1.0/24", "route-table": 100, "priority": 500}]
    assert doc["dns-resolver"] == {"config": {"server": ["198.18.1.1"], "search": ["lab.test"], "options": ["rotate"]}}


def test_state_absent_keeps_only_name_type_and_state():
    doc = ok({"hostnet_vlans__site": {"bond0.100": {"id": 100, "base": "bond0", "subnet": "198.18.100.0/24"}},
              "hostnet_vlans": {"bond0.100": {"state": "absent"}}})
    assert doc["interfaces"] == [{"name": "bond0.100", "type": "vlan", "state": "absent"}]


def test_bridge_ports_as_names_or_mappings_and_options_over_the_stp_default():
    doc = ok({"hostnet_bridges": {"br0": {"ports": ["eth1", {"name": "eth2", "stp-priority": 32}], "stp": True,
                                          "options": {"mac-ageing-time": 300}}}})
    assert iface(doc, "br0")["bridge"] == {"options": {"stp": {"enabled": True}, "mac-ageing-time": 300},
                                           "port": [{"name": "eth1"}, {"name": "eth2", "stp-priority": 32}]}


def test_nmstate_keys_of_an_entry_are_merged_into_its_interface_last():
    doc = ok({"hostnet_ethernets": {"eth1": {"addresses": ["198.18.1.5/24"],
                                             "nmstate": {"ipv6": {"enabled": False}, "ipv4": {"auto-dns": False}}}}})
    assert iface(doc, "eth1")["ipv6"] == {"enabled": False}
    assert iface(doc, "eth1")["ipv4"]["auto-dns"] is False and addrs(doc, "eth1") == ["198.18.1.5/24"]


def test_the_raw_document_is_merged_last_by_interface_name():
    doc = ok({"hostnet_ethernets": {"eth1": {"addresses": ["198.18.1.5/24"]}},
              "hostnet_dns": {"servers": ["198.18.1.1"], "search": ["lab.test"]},
              "hostnet_network_state": {
                  "interfaces": [{"name": "eth1", "mtu": 1400},
                                 {"name": "veth0", "type": "veth", "veth": {"peer": "veth0p"}}],
                  "dns-resolver": {"config": {"search": ["example.test"]}}}})
    assert iface(doc, "eth1")["mtu"] == 1400 and addrs(doc, "eth1") == ["198.18.1.5/24"]
    assert [i["name"] for i in doc["interfaces"]] == ["eth1", "veth0"]
    assert doc["dns-resolver"]["config"] == {"server": ["198.18.1.1"], "search": ["example.test"]}


def test_values_come_out_as_plain_python_types():
    class Tagged(str):
        pass

    doc = ok({"hostnet_dns": {"servers": [Tagged("198.18.1.1")]}})
    assert doc["dns-resolver"]["config"]["server"][0].__class__ is str  # not the tagged subclass
    assert plain({"a": (1, Tagged("x"))}) == {"a": [1, "x"]}


# ------------------------------------------------------------------ merges

def test_suffixed_variables_from_several_groups_merge_by_key():
    doc = ok({"hostnet_vlans__storage": {"bond0.100": {"id": 100, "base": "bond0", "subnet": "198.18.100.0/24"}},
              "hostnet_vlans__site": {"bond0.10": {"id": 10, "base": "bond0", "subnet": "198.18.10.0/24"}}},
             host="st3")
    # suffixed variables in name order: __site before __storage
    assert [i["name"] for i in doc["interfaces"]] == ["bond0.10", "bond0.100"]
    assert addrs(doc, "bond0.10") == ["198.18.10.3/24"] and addrs(doc, "bond0.100") == ["198.18.100.3/24"]


def test_suffixed_variables_merge_fields_of_one_entry_and_agreeing_values_are_no_conflict():
    doc = ok({"hostnet_vlans__a": {"bond0.100": {"id": 100, "base": "bond0", "nmstate": {"ipv6": {"enabled": False}}}},
              "hostnet_vlans__b": {"bond0.100": {"id": 100, "mtu": 9000, "nmstate": {"ipv4": {"enabled": False}}}}})
    vlan = iface(doc, "bond0.100")
    assert vlan["mtu"] == 9000 and vlan["vlan"] == {"base-iface": "bond0", "id": 100}
    assert vlan["ipv6"] == {"enabled": False} and vlan["ipv4"] == {"enabled": False}


def test_two_suffixed_variables_setting_one_key_differently_is_an_error_naming_both():
    found, result = errors({"hostnet_vlans__storage": {"bond0.100": {"id": 100, "base": "bond0"}},
                            "hostnet_vlans__site": {"bond0.100": {"id": 200, "base": "bond0"}}})
    assert found == [("VAR_CONFLICT", "hostnet_vlans__storage['bond0.100'].id")]
    problem = result.errors[0]
    assert "hostnet_vlans__site['bond0.100'].id is 200" in problem.message
    assert "hostnet_vlans__storage['bond0.100'].id is 100" in problem.message
    assert "override it per host in hostnet_vlans" in problem.hint


def test_lists_in_suffixed_variables_are_compared_whole():
    found, _result = errors({"hostnet_dns__all": {"servers": ["198.18.1.1"]},
                             "hostnet_dns__site": {"servers": ["198.18.1.1", "198.18.0.1"]}})
    assert found == [("VAR_CONFLICT", "hostnet_dns__site.servers")]


def test_null_in_a_suffixed_variable_counts_as_not_set():
    doc = ok({"hostnet_vlans__a": {"bond0.100": {"id": 100, "base": "bond0", "mtu": None}},
              "hostnet_vlans__b": {"bond0.100": {"mtu": 9000}, "bond0.200": None}})
    assert iface(doc, "bond0.100")["mtu"] == 9000 and len(doc["interfaces"]) == 1


def test_the_plain_variable_overrides_one_key_of_a_group_entry():
    # group_vars/storage: hostnet_vlans__storage; host_vars/st2: hostnet_vlans
    doc = ok({"hostnet_vlans__storage": {"bond0.100": {"id": 100, "base": "bond0", "subnet": "198.18.100.0/24",
                                                       "mtu": 9000},
                                         "bond0.200": {"id": 200, "base": "bond0", "mtu": 9000}},
              "hostnet_vlans": {"bond0.200": {"mtu": 1500}}}, host="st2")
    assert iface(doc, "bond0.200")["mtu"] == 1500 and iface(doc, "bond0.100")["mtu"] == 9000
    assert iface(doc, "bond0.200")["vlan"] == {"base-iface": "bond0", "id": 200}
    assert addrs(doc, "bond0.100") == ["198.18.100.2/24"]


def test_null_in_the_plain_variable_removes_an_entry_or_a_field():
    base = {"hostnet_vlans__storage": {"bond0.100": {"id": 100, "base": "bond0", "subnet": "198.18.100.0/24"},
                                       "bond0.200": {"id": 200, "base": "bond0"}}}
    doc = ok(dict(base, hostnet_vlans={"bond0.200": None,
                                       "bond0.100": {"subnet": None, "addresses": ["198.18.100.99/24"]}}))
    assert [i["name"] for i in doc["interfaces"]] == ["bond0.100"]
    assert addrs(doc, "bond0.100") == ["198.18.100.99/24"]


def test_the_plain_variable_replaces_lists_and_adds_entries():
    doc = ok({"hostnet_bonds__all": {"bond0": {"mode": "802.3ad", "ports": ["eth1", "eth2"]}},
              "hostnet_bonds": {"bond0": {"ports": ["eth1"]}, "bond1": {"mode": "active-backup", "ports": ["eth3"]}}})
    assert iface(doc, "bond0")["link-aggregation"] == {"mode": "802.3ad", "port": ["eth1"]}
    assert [i["name"] for i in doc["interfaces"]] == ["bond0", "bond1"]


def test_merge_kind_records_where_each_key_came_from():
    merged, problems = merge_kind({"hostnet_vlans__a": {"v": {"id": 1, "base": "b"}},
                                   "hostnet_vlans": {"v": {"mtu": 1400}}, "unrelated": 1}, "vlans")
    assert problems == [] and merged.variables == ["hostnet_vlans__a", "hostnet_vlans"]
    assert merged.path("v", "id") == "hostnet_vlans__a.v.id"
    assert merged.path("v", "mtu") == "hostnet_vlans.v.mtu"


def test_vpath_writes_valid_jinja():
    assert vpath("hostnet_vlans", "bond0.100", "subnet", 0) == "hostnet_vlans['bond0.100'].subnet[0]"
    assert vpath("hostnet_routes", "r", "next-hop-address") == "hostnet_routes.r['next-hop-address']"


@needs_ansible_cli
def test_group_and_host_variables_through_ansible_precedence(tmp_path):
    """A real inventory: the same name in group_vars/all, group_vars/storage
    and host_vars is ONE variable (Ansible's precedence picks the host's);
    different suffixes merge."""
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "hosts.yml").write_text("all:\n  children:\n    storage:\n      hosts:\n        st1:\n        st2:\n")
    (tmp_path / "group_vars" / "all.yml").write_text(
        "hostnet_dns__all: {servers: [198.18.1.1]}\n"
        "hostnet_ethernets__base: {eth1: {mtu: 1500}}\n")
    (tmp_path / "group_vars" / "storage.yml").write_text(
        "hostnet_ethernets__base: {eth1: {mtu: 9000}}\n"          # same name: hides all's
        "hostnet_ethernets__storage: {eth2: {subnet: 198.18.2.0/24}}\n")
    (tmp_path / "host_vars" / "st2.yml").write_text("hostnet_ethernets: {eth2: {subnet: null, dhcp: true}}\n")
    docs = inventory_documents(tmp_path / "hosts.yml")
    assert iface(docs["st1"], "eth1")["mtu"] == 9000 and addrs(docs["st1"], "eth2") == ["198.18.2.1/24"]
    assert iface(docs["st2"], "eth2")["ipv4"] == {"enabled": True, "dhcp": True, "address": []}
    assert docs["st2"]["dns-resolver"]["config"]["server"] == ["198.18.1.1"]


# ------------------------------------------------------------------ derived addresses

@pytest.mark.parametrize("host, variables, expected", [
    ("h7", {}, "198.18.1.7/24"),
    ("web-07.example.test", {}, "198.18.1.7/24"),            # the short name's last number
    ("rack2-node13", {}, "198.18.1.13/24"),
    ("h7", {"hostnet_host_index": 42}, "198.18.1.42/24"),
    ("h7", {"hostnet_host_index": "42"}, "198.18.1.42/24"),  # INI inventories give text
    ("h7", {"hostnet_address_offset": 10}, "198.18.1.17/24"),
])
def test_the_host_index_comes_from_the_name_or_hostnet_host_index(host, variables, expected):
    doc = ok(dict(variables, hostnet_ethernets={"eth1": {"subnet": "198.18.1.0/24"}}), host=host)
    assert addrs(doc, "eth1") == [expected]


def test_the_host_index_from_inventory_order():
    groups = {"all": ["a", "b", "c"], "storage": ["c", "a"]}
    variables = {"hostnet_host_index_from": "order", "hostnet_ethernets": {"eth1": {"subnet": "198.18.1.0/24"}}}
    assert addrs(ok(variables, "c", groups), "eth1") == ["198.18.1.3/24"]
    variables["hostnet_host_index_group"] = "storage"
    assert addrs(ok(variables, "c", groups), "eth1") == ["198.18.1.1/24"]


def test_entry_offset_wins_over_the_global_one_and_ipv6_is_derived_too():
    doc = ok({"hostnet_address_offset": 100,
              "hostnet_ethernets": {"eth1": {"subnet": ["198.18.1.0/24", "2001:db8:1::/64"], "address_offset": 10}}},
             host="h5")
    assert addrs(doc, "eth1") == ["198.18.1.15/24"]
    assert addrs(doc, "eth1", 6) == ["2001:db8:1::f/64"]    # host number 15, added to the network


@pytest.mark.parametrize("subnet, index, offset, expected", [
    ("198.18.1.0/24", 1, 0, "198.18.1.1/24"),
    ("198.18.1.0/24", 254, 0, "198.18.1.254/24"),
    ("198.18.1.0/31", 0, 0, "198.18.1.0/31"),
    ("198.18.1.7/32", 0, 0, "198.18.1.7/32"),
    ("2001:db8::/64", 255, 0, "2001:db8::ff/64"),
    ("2001:db8::/126", 3, 0, "2001:db8::3/126"),
])
def test_host_address(subnet, index, offset, expected):
    assert host_address(subnet, index, offset) == expected


@pytest.mark.parametrize("subnet, index, code, text", [
    ("198.18.1.0/24", 255, "SUBNET_EXHAUSTED", "198.18.1.0/24 has host numbers 1..254; host index 255"),
    ("198.18.1.0/24", 0, "SUBNET_EXHAUSTED", "host numbers 1..254"),
    ("198.18.1.0/30", 3, "SUBNET_EXHAUSTED", "host numbers 1..2"),
    ("198.18.1.5/24", 1, "SUBNET_INVALID", "host bits set"),
    ("198.18.1.0", 1, "SUBNET_INVALID", "no prefix"),
    ("not-a-net/24", 1, "SUBNET_INVALID", "not an IP network"),
    ("198.18.1.0/24", "x", "SUBNET_INVALID", "must be integers"),
])
def test_host_address_errors_say_what_to_fix(subnet, index, code, text):
    with pytest.raises(AddressError) as info:
        host_address(subnet, index)
    assert info.value.code == code and text in str(info.value) and info.value.hint


def test_an_exhausted_subnet_is_reported_with_its_variable_path():
    found, result = errors({"hostnet_vlans__storage": {"bond0.100": {"id": 100, "base": "bond0",
                                                                     "subnet": "198.18.100.0/25"}}}, host="st200")
    assert found == [("SUBNET_EXHAUSTED", "hostnet_vlans__storage['bond0.100'].subnet")]
    assert "198.18.100.0/25 has host numbers 1..126; host index 200 + offset 0 = 200" in result.errors[0].message
    assert "larger subnet" in result.errors[0].hint


def test_a_host_without_a_number_needs_hostnet_host_index():
    found, result = errors({"hostnet_ethernets": {"eth1": {"subnet": "198.18.1.0/24"},
                                                  "eth2": {"subnet": "198.18.2.0/24"}}}, host="db")
    assert found == [("HOST_INDEX_UNKNOWN", "hostnet_ethernets.eth1.subnet")]    # once, not per subnet
    assert "set hostnet_host_index in host_vars/db" in result.errors[0].hint


def test_a_host_without_a_number_is_fine_when_nothing_is_derived():
    assert ok({"hostnet_ethernets": {"eth1": {"addresses": ["198.18.1.5/24"]}}}, host="db")


@pytest.mark.parametrize("variables, code, path", [
    ({"hostnet_host_index": -1}, "HOST_INDEX_UNKNOWN", "hostnet_ethernets.eth1.subnet"),
    ({"hostnet_host_index_from": "random"}, "HOST_INDEX_UNKNOWN", "hostnet_ethernets.eth1.subnet"),
    ({"hostnet_host_index_from": "order", "hostnet_host_index_group": "nope"}, "HOST_INDEX_UNKNOWN",
     "hostnet_ethernets.eth1.subnet"),
    ({"hostnet_address_offset": "ten"}, "VAR_TYPE", "hostnet_address_offset"),
])
def test_bad_host_index_settings(variables, code, path):
    found, _result = errors(dict(variables, hostnet_ethernets={"eth1": {"subnet": "198.18.1.0/24"}}), host="h1",
                            groups={"all": ["h1"]})
    assert (code, path) in found


# ------------------------------------------------------------------ error paths

def test_every_error_at_once_each_with_its_variable_path():
    found, result = errors({
        "hostnet_vlans__storage": {"bond0.100": {"id": 100, "subent": "198.18.100.0/24"}},   # typo, no base
        "hostnet_ethernets": {"eth1": {"addresses": ["198.18.1.5"], "gateway": "router"}},
        "hostnet_bonds": [{"name": "bond0"}],                                               # a list
        "hostnet_vlan__site": {},                                                           # misspelt kind
    })
    assert sorted(found) == sorted([
        ("VAR_UNKNOWN", "hostnet_vlan__site"),
        ("VAR_TYPE", "hostnet_bonds"),
        ("ADDRESS_INVALID", "hostnet_ethernets.eth1.addresses[0]"),
        ("GATEWAY_INVALID", "hostnet_ethernets.eth1.gateway"),
        ("VAR_UNKNOWN_FIELD", "hostnet_vlans__storage['bond0.100'].subent"),
        ("VAR_REQUIRED", "hostnet_vlans__storage['bond0.100'].base"),
    ])
    hints = {p.code: p.hint for p in result.errors}
    assert hints["VAR_UNKNOWN"] == "did you mean hostnet_vlans__site?"
    assert hints["VAR_UNKNOWN_FIELD"] == "did you mean 'subnet'?"
    assert "not a list" in hints["VAR_TYPE"]
    assert "198.18.1.5/24" in hints["ADDRESS_INVALID"]
    message = result.message()
    assert message.startswith("6 problem(s) in the hostnet_ variables of h1; nothing was applied:")


def test_validation_problems_carry_the_variable_path_and_the_document_path():
    found, result = errors({
        "hostnet_vlans": {"bond0.100": {"id": 5000, "base": "bond0", "mtu": 70000}},
        "hostnet_routes": {"r1": {"destination": "198.19.0.0/16", "nexthop": "198.18.1.1"}},
        "hostnet_dns": {"servers": ["ns.example"]},
    })
    assert ("VLAN_ID_OUT_OF_RANGE", "hostnet_vlans['bond0.100'].id (interfaces[0].vlan.id)") in found
    assert ("MTU_OUT_OF_RANGE", "hostnet_vlans['bond0.100'].mtu (interfaces[0].mtu)") in found
    assert ("UNKNOWN_KEY", "hostnet_routes.r1 (routes.config[0].nexthop)") in found
    assert ("DNS_SERVER_INVALID", "hostnet_dns.servers (dns-resolver.config.server[0])") in found
    assert result.canonical is not None


def test_validation_of_derived_addresses_points_at_the_subnet():
    found, _result = errors({"hostnet_ethernets": {"eth1": {"subnet": "198.18.1.0/24", "gateway": "198.18.9.1"}}})
    assert ("ROUTE_NEXT_HOP_OFF_LINK", "hostnet_ethernets.eth1.gateway (routes.config[0].next-hop-address)") in found


def test_role_options_and_results_are_not_inputs():
    assert ok({"hostnet_rollback_timeout": 30, "hostnet_verify": {"dns": False}, "hostnet_network_result": {},
               "hostnet_desired_state": {"interfaces": "junk"}, "hostnet_manage_dbus_library": True,
               "hostnet_rollout_in_batch": {}, "hostnet_preflight": False}) == {}


def test_the_filter_raises_every_problem_and_returns_the_document():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.hostnet.nm.plugins.filter.network import FilterModule
    filters = FilterModule().filters()
    good = filters["compose_state"]({"hostnet_ethernets": {"eth1": {"subnet": "198.18.1.0/24"}}}, "h3")
    assert good["interfaces"][0]["ipv4"]["address"] == [{"ip": "198.18.1.3", "prefix-length": 24}]
    with pytest.raises(AnsibleFilterError, match=r"(?s)2 problem\(s\).*subnet.*VAR_TYPE"):
        filters["compose_state"]({"hostnet_ethernets": {"eth1": {"subnet": "198.18.1.0/30"}},
                                  "hostnet_dns": ["x"]}, "h9")
    assert filters["host_address"]("198.18.1.0/24", 1, 10) == "198.18.1.11/24"
    with pytest.raises(AnsibleFilterError, match="host numbers 1..254"):
        filters["host_address"]("198.18.1.0/24", 300)


def test_the_role_applies_with_exactly_one_network_state_call():
    tasks = REPO / "roles" / "network" / "tasks"
    calls = [(f.name, t) for f in sorted(tasks.glob("*.yml")) for t in yaml.safe_load(f.read_text())
             if "hostnet.nm.network_state" in t]
    assert [name for name, _task in calls] == ["apply.yml"]
    assert calls[0][1]["hostnet.nm.network_state"]["desired_state"] == "{{ hostnet_desired_state }}"
    assert "hostnet.nm.compose_state" in calls[0][1]["vars"]["hostnet_desired_state"]
    main = yaml.safe_load((tasks / "main.yml").read_text())
    assert main[1]["block"][0]["ansible.builtin.import_tasks"] == "apply.yml"       # once; again only after
    assert main[1]["rescue"][0]["ansible.builtin.include_tasks"] == "dbus_library.yml"   # installing the library


def test_the_role_installs_the_library_on_the_modules_error_kind_not_its_message():
    """The rescue installs the library when the module reports ``error_kind: dependency``, the kind
    ansible_glue.ensure_dbus_library fails with; no message text is matched."""
    from ansible_collections.hostnet.nm.plugins.module_utils.errors import DependencyError
    main = yaml.safe_load((REPO / "roles" / "network" / "tasks" / "main.yml").read_text())
    condition = main[1]["vars"]["_hostnet_dbus_missing"]
    assert "error_kind" in condition and "'%s'" % DependencyError.kind in condition
    assert " is search(" not in condition and "msg" not in condition


# ------------------------------------------------------------------ the worked example

def inventory_documents(source):
    """``{host: document}`` for every host of an inventory, with Ansible's own
    variable precedence (group_vars, host_vars), read by ansible-inventory."""
    listed = json.loads(subprocess.run([str(REPO / ".venv" / "bin" / "ansible-inventory"), "-i", str(source), "--list"],
                                       check=True, capture_output=True, text=True).stdout)
    hostvars = listed.pop("_meta")["hostvars"]
    groups = {name: group.get("hosts", []) for name, group in listed.items()}
    out = {}
    for host, variables in hostvars.items():
        result = compose(variables, host, groups)
        assert result.ok, [str(p) for p in result.errors]
        out[host] = result.document
    return out


def docs_block(heading):
    """The YAML block that follows ``heading`` in docs/roles.md."""
    text = (REPO / "docs" / "roles.md").read_text()
    match = re.search(re.escape(heading) + r".*?```yaml\n(.*?)```", text, re.S)
    assert match, "docs/roles.md lost the block after %r" % heading
    return yaml.safe_load(match.group(1))


@needs_ansible_cli
def test_the_worked_example_renders_and_matches_docs_roles_md():
    docs = inventory_documents(EXAMPLE / "inventory.yml")
    assert sorted(docs) == ["cn1", "cn2", "cn3", "st1", "st2"]
    assert docs_block("<!-- rendered: st1 -->") == docs["st1"]
    # host overrides: st2's replication VLAN, cn3's explicit index and raw rules
    assert iface(docs["st2"], "bond0.200")["mtu"] == 1500 and iface(docs["st1"], "bond0.200")["mtu"] == 9000
    assert addrs(docs["cn3"], "bond0.100") == ["198.18.100.107/24"]
    assert docs["cn3"]["route-rules"]["config"][0]["route-table"] == 300
    # storage .11/.12 and compute .101.. never meet on the shared VLAN 100
    v100 = sorted(a for d in docs.values() for a in addrs(d, "bond0.100"))
    assert v100 == ["198.18.100.101/24", "198.18.100.102/24", "198.18.100.107/24", "198.18.100.11/24",
                    "198.18.100.12/24"]


@needs_ansible_cli
def test_the_worked_example_passes_the_fleet_preflight():
    from ansible_collections.hostnet.nm.plugins.plugin_utils.fleet import preflight

    docs = inventory_documents(EXAMPLE / "inventory.yml")
    report = preflight(sorted(docs), lambda h: {"hostnet_network_state": docs[h]})
    assert report.ok, report.lines()
