"""The fleet preflight (plugins/plugin_utils/fleet.py): every host composed and
validated, duplicate addresses across hosts, one VLAN id with different
subnets in a group; every problem listed host by host."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.plugin_utils.fleet import CODES, preflight

ETH1 = {"hostnet_ethernets__all": {"eth1": {"subnet": "198.18.1.0/24", "address_offset": 10}}}


def fleet(per_host, groups=None, **kwargs):
    """Preflight over ``per_host`` = ``{host: variables}``."""
    hosts = list(per_host)
    return preflight(hosts, lambda h: per_host[h], groups or {"all": hosts}, **kwargs)


def codes(report):
    return [(tuple(p.hosts), p.code) for p in report.problems]


def test_a_clean_fleet_passes_with_one_line():
    report = fleet({"h%d" % i: ETH1 for i in range(1, 21)})
    assert report.ok and report.problems == []
    assert report.lines() == ["preflight: the desired state of 20 host(s) composed and validated; no conflict "
                              "between hosts"]
    assert report.compositions["h20"].document["interfaces"][0]["ipv4"]["address"][0]["ip"] == "198.18.1.30"


def test_the_same_address_on_two_hosts_is_found_with_where_it_came_from():
    report = fleet({"h1": ETH1, "h2": ETH1, "web1": ETH1})        # h1 and web1: both index 1
    assert codes(report) == [(("h1", "web1"), "ADDRESS_ON_TWO_HOSTS")]
    problem = report.problems[0]
    assert "address 198.18.1.11 is on 2 hosts" in problem.message
    assert "h1 eth1 from hostnet_ethernets__all.eth1.subnet" in problem.message
    assert "same index" in problem.hint


def test_explicit_duplicates_get_a_plain_hint_and_shared_addresses_are_allowed():
    vip = {"hostnet_ethernets": {"eth1": {"addresses": ["198.18.1.250/24"]}}}
    report = fleet({"h1": vip, "h2": vip})
    assert codes(report) == [(("h1", "h2"), "ADDRESS_ON_TWO_HOSTS")]
    assert "VIP" in report.problems[0].hint
    assert fleet({"h1": vip, "h2": vip}, shared_addresses=["198.18.1.250"]).ok


def test_link_local_addresses_are_never_duplicates():
    ll = {"hostnet_ethernets": {"eth1": {"addresses": ["fe80::1/64"]}}}
    assert fleet({"h1": ll, "h2": ll}).ok


def vlan(subnet, vid=100, **extra):
    return {"hostnet_vlans": {"eth1.%d" % vid: dict({"id": vid, "base": "eth1", "subnet": subnet}, **extra)}}


def test_one_vlan_id_with_two_subnets_in_a_group():
    hosts = {"h1": vlan("198.18.100.0/24"), "h2": vlan("198.18.100.0/24"), "h3": vlan("198.18.101.0/24")}
    report = fleet(hosts, {"all": list(hosts), "storage": list(hosts)})
    assert codes(report) == [(("h1", "h2", "h3"), "VLAN_SUBNET_MISMATCH")]
    problem = report.problems[0]
    assert problem.group == "storage"
    assert problem.message == ("group storage: VLAN 100 has 2 different subnets: 198.18.100.0/24 on h1, h2; "
                               "198.18.101.0/24 on h3")
    assert "of h3" in problem.hint                                   # the odd one out


def test_vlans_are_compared_within_groups_and_per_address_family():
    hosts = {"a1": vlan("198.18.100.0/24"), "b1": vlan("198.18.200.0/24"),
             "a2": vlan(["198.18.100.0/24", "2001:db8:100::/64"])}
    groups = {"all": list(hosts), "site_a": ["a1", "a2"], "site_b": ["b1"]}
    assert fleet(hosts, groups).ok                                   # v4 + v6 on one VLAN is fine
    assert codes(fleet(hosts, groups, vlan_groups=["all"])) == [(("a1", "a2", "b1"), "VLAN_SUBNET_MISMATCH")]


def test_a_vlan_in_a_bridge_is_judged_by_the_bridges_subnet():
    def bridged(subnet):
        return {"hostnet_vlans": {"eth1.300": {"id": 300, "base": "eth1"}},
                "hostnet_bridges": {"br300": {"ports": ["eth1.300"], "subnet": subnet}}}
    hosts = {"h1": bridged("198.19.30.0/24"), "h2": bridged("198.19.31.0/24")}
    report = fleet(hosts, {"all": list(hosts), "compute": list(hosts)})
    assert codes(report) == [(("h1", "h2"), "VLAN_SUBNET_MISMATCH")]


def test_the_same_mismatch_seen_from_nested_groups_is_reported_once():
    hosts = {"h1": vlan("198.18.100.0/24"), "h2": vlan("198.18.101.0/24")}
    report = fleet(hosts, {"all": list(hosts), "site": list(hosts), "storage": list(hosts)})
    assert len(report.problems) == 1


def test_every_problem_host_by_host_and_invalid_hosts_stay_out_of_cross_checks():
    hosts = {
        "h1": ETH1,
        "h2": dict(ETH1, hostnet_vlans={"eth1.100": {"id": 5000, "base": "eth1"}}),        # invalid
        "h3": dict(ETH1, hostnet_host_index=1),                                            # = h1's address
        "h4": {"hostnet_ethernets": {"eth1": {"subnet": "198.18.1.0/30"}}},                # exhausted
    }
    report = fleet(hosts)
    assert codes(report) == [(("h2",), "VLAN_ID_OUT_OF_RANGE"), (("h4",), "SUBNET_EXHAUSTED"),
                             (("h1", "h3"), "ADDRESS_ON_TWO_HOSTS")]
    lines = report.lines()
    assert lines[0] == ("preflight: 3 problem(s) on 4 of 4 host(s); no host was contacted and nothing changed:")
    assert lines[1:] == [
        "  h1, h3:", "    - %s" % report.problems[2],
        "  h2:", "    - %s" % report.problems[0],
        "  h4:", "    - %s" % report.problems[1],
    ]
    assert "hostnet_vlans['eth1.100'].id (interfaces[1].vlan.id)" in lines[4]
    assert report.problem_hosts() == ["h1", "h2", "h3", "h4"]


def test_unreadable_variables_are_one_problem_of_that_host():
    def variables_of(host):
        if host == "h2":
            raise ValueError("'undefined_thing' is undefined")
        return ETH1
    report = preflight(["h1", "h2"], variables_of, {})
    assert codes(report) == [(("h2",), "VARS_UNREADABLE")]
    assert "undefined_thing" in report.problems[0].message


def test_warnings_are_kept_per_host_and_do_not_block():
    many = {"hostnet_dns": {"servers": ["198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4"]}}
    report = fleet({"h1": many})
    assert report.ok and "DNS_TOO_MANY_SERVERS" in report.warnings["h1"][0]


def test_as_dict_is_plain_data():
    report = fleet({"h1": ETH1, "h2": dict(ETH1, hostnet_host_index=1)})
    data = report.as_dict()
    assert data["ok"] is False and data["hosts"] == ["h1", "h2"]
    assert data["problems"][0]["code"] == "ADDRESS_ON_TWO_HOSTS" and data["problems"][0]["hosts"] == ["h1", "h2"]


@pytest.mark.parametrize("code", ["ADDRESS_ON_TWO_HOSTS", "VLAN_SUBNET_MISMATCH", "SUBNET_EXHAUSTED", "VAR_CONFLICT"])
def test_codes_are_documented(code):
    assert CODES[code]
