"""Model: canonical forms, merge semantics, dependency order (plain data)."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds, model
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import bond
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document


def state(**kw):
    out = model.empty_state()
    out.update(kw)
    return out


@pytest.mark.parametrize("route, canonical", [
    # BC-06: no table means main (254), no next hop means on-link, IPv6 metric 0 is the kernel's 1024
    ({"destination": "198.19.40.0/24", "next-hop-interface": "eth1"},
     {"destination": "198.19.40.0/24", "next-hop-interface": "eth1", "table-id": 254}),
    ({"destination": "198.19.40.0/24", "next-hop-interface": "eth1", "next-hop-address": "0.0.0.0"},
     {"destination": "198.19.40.0/24", "next-hop-interface": "eth1", "table-id": 254}),
    ({"destination": "2001:db8:41::/64", "next-hop-interface": "eth1", "next-hop-address": "2001:db8:40::1",
      "metric": 0},
     {"destination": "2001:db8:41::/64", "next-hop-interface": "eth1", "next-hop-address": "2001:db8:40::1",
      "metric": 1024, "table-id": 254}),
    ({"destination": "198.19.0.0/16", "next-hop-interface": "eth1", "table-id": 0, "state": "absent"},
     {"destination": "198.19.0.0/16", "next-hop-interface": "eth1", "table-id": 254}),
])
def test_canonical_route(route, canonical):
    assert model.canonical_route(route) == canonical


def test_absent_route_matches_as_wildcard():
    r = model.canonical_route({"destination": "198.19.1.0/24", "next-hop-interface": "eth1",
                               "next-hop-address": "198.18.1.1", "metric": 50})
    assert model.route_matches({"next-hop-interface": "eth1", "state": "absent"}, r)
    assert model.route_matches({"destination": "198.19.1.0/24", "table-id": 254}, r)
    assert not model.route_matches({"next-hop-interface": "eth2"}, r)
    assert not model.route_matches({"metric": 51}, r)


def test_parse_canonicalises_mac_and_ipv6():
    doc, problems = parse_document({"interfaces": [{"name": "eth1", "mac-address": "02:00:00:aa:bb:cc",
                                                    "ipv6": {"enabled": True, "address": [
                                                        {"ip": "2001:0db8:0000::0010", "prefix-length": 64}]}}]})
    assert problems == []
    iface = doc["interfaces"][0]
    assert iface["mac-address"] == "02:00:00:AA:BB:CC"
    assert iface["ipv6"]["address"][0]["ip"] == "2001:db8::10"


def test_merge_keeps_what_the_document_does_not_mention():
    current = state(interfaces={"eth1": {"name": "eth1", "type": "ethernet", "state": "up", "mtu": 1500,
                                         "ipv4": {"enabled": True, "dhcp": False, "address": [
                                             {"ip": "198.18.1.11", "prefix-length": 24}]},
                                         "ipv6": {"enabled": False}}})
    target = kinds.merge(current, {"interfaces": {"eth1": {"name": "eth1", "mtu": 1400}}})
    eth1 = target["interfaces"]["eth1"]
    assert eth1["mtu"] == 1400
    assert eth1["ipv4"]["address"] == [{"ip": "198.18.1.11", "prefix-length": 24}]  # BC-40: not removed
    assert eth1["ipv6"] == {"enabled": False}  # BC-35: untouched


def test_merge_bridge_options_and_ports_keep_unstated_values():
    current = state(interfaces={"br0": {"name": "br0", "type": "linux-bridge", "state": "up", "bridge": {
        "options": {"stp": {"enabled": True, "priority": 32768, "forward-delay": 15}, "mac-ageing-time": 300},
        "port": [{"name": "eth1", "stp-priority": 32, "stp-path-cost": 100}]}}})
    desired = {"interfaces": {"br0": {"name": "br0", "bridge": {"options": {"stp": {"enabled": False}},
                                                                "port": [{"name": "eth1"}, {"name": "eth2"}]}}}}
    br = kinds.merge(current, desired)["interfaces"]["br0"]["bridge"]
    assert br["options"] == {"stp": {"enabled": False, "priority": 32768, "forward-delay": 15},
                             "mac-ageing-time": 300}
    assert br["port"] == [{"name": "eth1", "stp-priority": 32, "stp-path-cost": 100}, {"name": "eth2"}]


def test_merge_routes_add_and_remove():
    keep = model.canonical_route({"destination": "198.19.1.0/24", "next-hop-interface": "eth1",
                                  "next-hop-address": "198.18.1.1"})
    drop = model.canonical_route({"destination": "198.19.2.0/24", "next-hop-interface": "eth1",
                                  "next-hop-address": "198.18.1.1"})
    current = state(routes=[keep, drop])
    desired = {"routes": [{"destination": "198.19.2.0/24", "state": "absent"},
                          {"destination": "198.19.1.0/24", "next-hop-interface": "eth1",
                           "next-hop-address": "198.18.1.1", "table-id": 254},
                          {"destination": "198.19.3.0/24", "next-hop-interface": "eth1"}]}
    routes = kinds.merge(current, desired)["routes"]
    assert [r["destination"] for r in routes] == ["198.19.1.0/24", "198.19.3.0/24"]


def test_merge_routes_of_an_absent_interface_go_too():
    route = model.canonical_route({"destination": "198.19.1.0/24", "next-hop-interface": "br0"})
    current = state(interfaces={"br0": {"name": "br0", "type": "linux-bridge", "state": "up"}}, routes=[route])
    target = kinds.merge(current, {"interfaces": {"br0": {"name": "br0", "state": "absent"}}})
    assert target["routes"] == []


@pytest.mark.parametrize("dns, expected", [
    # BC-30: order is significant, lists replace
    ({"server": ["198.18.0.53", "198.19.0.53"]}, {"server": ["198.18.0.53", "198.19.0.53"],
                                                  "search": ["site-b.example"], "options": []}),
    ({}, {"server": [], "search": [], "options": []}),  # nmstate: config {} removes all
])
def test_merge_dns(dns, expected):
    current = state()
    current["dns-resolver"] = {"server": ["198.19.0.53", "198.18.0.53"], "search": ["site-b.example"],
                               "options": []}
    assert kinds.merge(current, {"dns-resolver": dns})["dns-resolver"] == expected


def test_bond_options_canonical_and_merged():
    current = state(interfaces={"bond0": {"name": "bond0", "type": "bond", "link-aggregation": {
        "mode": "802.3ad", "options": {"miimon": "100", "vendor_extra": "7"}, "port": []}}})
    desired = {"interfaces": {"bond0": {"name": "bond0", "link-aggregation": {"options": {"lacp_rate": "1"}}}}}
    agg = kinds.merge(current, desired)["interfaces"]["bond0"]["link-aggregation"]
    # BC-47: an option only the kernel knows is kept; numbers become the kernel's names
    assert agg["options"] == {"miimon": "100", "vendor_extra": "7", "lacp_rate": "fast"}


def test_dependency_order_puts_bases_and_controllers_first():
    st = state(interfaces={
        "vmbr0": {"name": "vmbr0", "type": "linux-bridge", "state": "up",
                  "bridge": {"port": [{"name": "bond0.20"}]}},
        "bond0.20": {"name": "bond0.20", "type": "vlan", "state": "up", "vlan": {"base-iface": "bond0", "id": 20}},
        "bond0": {"name": "bond0", "type": "bond", "state": "up",
                  "link-aggregation": {"mode": "active-backup", "port": ["eth1", "eth2"]}},
        "eth1": {"name": "eth1", "type": "ethernet"}, "eth2": {"name": "eth2", "type": "ethernet"},
    })
    order = kinds.dependency_order(st, st["interfaces"])
    # BC-44: dependencies, not list order
    assert order.index("bond0") < order.index("bond0.20")
    assert order.index("bond0") < order.index("eth1") and order.index("bond0") < order.index("eth2")
    assert order.index("vmbr0") < order.index("bond0.20")  # the controller exists before its port


def test_document_round_trip():
    st = state(interfaces={"eth1": {"name": "eth1", "type": "ethernet", "state": "up"}})
    assert kinds.from_document(model.to_document(st))["interfaces"] == st["interfaces"]


# issue 17 item 5: option families that exclude each other are cleared, in both directions
ARP = {"arp_interval": "1000", "arp_ip_target": "198.18.1.1", "arp_validate": "all"}


@pytest.mark.parametrize("current,desired,mode,expected", [
    (ARP, {"miimon": "100"}, "active-backup", {"miimon": "100"}),
    ({"miimon": "100", "updelay": "200", "downdelay": "200"}, ARP, "active-backup", ARP),
    (dict(ARP, primary="eth1"), {"arp_interval": "0", "miimon": "100"}, "active-backup",
     {"arp_interval": "0", "miimon": "100", "primary": "eth1"}),
    ({"miimon": "100", "lacp_rate": "fast", "xmit_hash_policy": "layer3+4"}, {}, "active-backup",
     {"miimon": "100", "xmit_hash_policy": "layer3+4"}),
    ({"miimon": "100", "primary": "eth1", "vendor_extra": "1"}, {"lacp_rate": "1"}, "802.3ad",
     {"miimon": "100", "lacp_rate": "fast", "vendor_extra": "1"}),
], ids=["arp-to-mii", "mii-to-arp", "arp-off", "mode-drops-lacp", "mode-drops-primary"])
def test_bond_options_clear_what_the_new_choice_excludes(current, desired, mode, expected):
    assert bond.bond_options(current, desired, mode) == expected


def test_bond_mode_change_alone_drops_the_old_modes_options():
    cur = {"name": "bond0", "type": "bond", "link-aggregation": {
        "mode": "802.3ad", "options": {"miimon": "100", "lacp_rate": "fast"}, "port": ["eth1"]}}
    out = kinds.merge_iface(cur, {"name": "bond0", "link-aggregation": {"mode": "active-backup"}})
    assert out["link-aggregation"] == {"mode": "active-backup", "options": {"miimon": "100"}, "port": ["eth1"]}


@pytest.mark.parametrize("rule, canonical", [
    # issue 15 item 8: a mark without a mask is matched whole (the kernel's default mask), no prefix means IPv4,
    # nmstate's alias suppress_prefixlength is written as the key it serialises
    ({"fwmark": 16, "priority": 5},
     {"fwmark": 16, "fwmask": 0xFFFFFFFF, "priority": 5, "family": "ipv4", "route-table": 254}),
    ({"fwmark": 0, "fwmask": 0, "priority": 5, "family": "ipv6"},
     {"priority": 5, "family": "ipv6", "route-table": 254}),
    ({"suppress_prefixlength": 0, "priority": 7, "state": "absent"},
     {"suppress-prefix-length": 0, "priority": 7, "family": "ipv4", "route-table": 254}),
])
def test_canonical_rule(rule, canonical):
    assert model.canonical_rule(rule) == canonical


def test_rules_differing_in_mark_or_action_are_distinct():
    base = model.canonical_rule({"ip-from": "198.18.1.0/24", "priority": 5})
    keys = {model.rule_key(base), model.rule_key(dict(base, fwmark=1, fwmask=255)),
            model.rule_key(dict(base, action="blackhole")), model.rule_key(dict(base, **{"suppress-prefix-length": 0}))}
    assert len(keys) == 4


def test_lock_cwnd_false_is_dropped_like_on_link():
    route = {"destination": "198.19.1.0/24", "next-hop-interface": "eth1", "lock-cwnd": False, "mtu": 1400}
    assert model.canonical_route(route) == {"destination": "198.19.1.0/24", "next-hop-interface": "eth1",
                                            "mtu": 1400, "table-id": 254}
