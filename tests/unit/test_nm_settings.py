"""NM settings <-> model conversion (plain data, :mod:`profiles`) and their D-Bus types (:mod:`nm.settings`)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import model
from ansible_collections.hostnet.nm.plugins.module_utils import profiles as nms
from ansible_collections.hostnet.nm.plugins.module_utils.kinds import linux_bridge
from ansible_collections.hostnet.nm.plugins.module_utils.nm import settings as dbus_settings
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import Variant, unwrap
from ansible_collections.hostnet.nm.plugins.module_utils.verify import is_subset

STATIC = {"name": "eth1", "type": "ethernet", "state": "up",
          "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.11", "prefix-length": 24}]},
          "ipv6": {"enabled": True, "dhcp": False, "autoconf": False,
                   "address": [{"ip": "2001:db8:1::11", "prefix-length": 64}]}}


def roundtrip(target, old=None, cur=None, **kw):
    raw = dbus_settings.build_settings(old, nms.ProfileChange(cur or {"name": target["name"]}, target, **kw))
    return unwrap(raw)


@pytest.mark.parametrize("target", [
    STATIC,
    {"name": "eth2", "type": "ethernet", "state": "up", "ipv4": {"enabled": True, "dhcp": True, "address": [],
                                                                 "auto-dns": False, "auto-gateway": True,
                                                                 "auto-routes": True},
     "ipv6": {"enabled": True, "dhcp": True, "autoconf": True, "address": [], "auto-dns": True,
              "auto-gateway": True, "auto-routes": True}},
    {"name": "eth1", "type": "ethernet", "state": "down", "mtu": 9000, "mac-address": "02:00:00:00:09:01",
     "ipv4": {"enabled": False}, "ipv6": {"enabled": True, "dhcp": False, "autoconf": False, "address": []}},
    {"name": "br0", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False},
     "bridge": {"options": {"stp": {"enabled": False, "priority": 4096}, "mac-ageing-time": 100}, "port": []}},
    {"name": "bond0", "type": "bond", "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False},
     "link-aggregation": {"mode": "802.3ad", "options": {"miimon": "100", "lacp_rate": "fast"}, "port": []}},
    {"name": "bond0.100", "type": "vlan", "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False},
     "vlan": {"base-iface": "bond0", "id": 100}},
])
def test_written_settings_read_back_as_the_target(target):
    settings = roundtrip(target)
    assert settings["connection"]["interface-name"] == target["name"]
    assert settings["connection"]["autoconnect"] is (target["state"] == "up")
    back = nms.iface_from_profile(settings, None, target["state"] == "up")
    assert is_subset(target, back), (target, back)


def test_mtu_and_mac_fall_back_to_the_live_device():
    # BC-01: a profile without mtu reports the live value, so restating it is a no-op
    settings = roundtrip({"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {"enabled": False},
                          "ipv6": {"enabled": False}})
    assert "mtu" not in settings.get("802-3-ethernet", {})
    iface = nms.iface_from_profile(settings, {"mtu": 1500, "mac": "02:00:00:00:00:01"}, True)
    assert iface["mtu"] == 1500 and iface["mac-address"] == "02:00:00:00:00:01"


def test_update_keeps_unmodelled_properties_and_drops_deprecated_forms():
    old = {"connection": {"id": "eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1",
                          "zone": "trusted"},
           "ipv4": {"method": "manual", "addresses": [[1, 24, 0]],
                    "address-data": [{"address": "198.18.1.11", "prefix": 24}], "gateway": "198.18.1.1",
                    "may-fail": False}}
    cur = nms.iface_from_profile(old, None, True)
    tgt = dict(cur, ipv4=dict(cur["ipv4"], address=[{"ip": "198.18.1.12", "prefix-length": 24}]))
    new = unwrap(dbus_settings.build_settings(old, nms.ProfileChange(cur, tgt)))
    assert new["connection"]["zone"] == "trusted"
    assert new["ipv4"]["may-fail"] is False
    assert "addresses" not in new["ipv4"]  # else NM ignores address-data
    assert new["ipv4"]["address-data"] == [{"address": "198.18.1.12", "prefix": 24}]
    assert new["ipv4"]["gateway"] == "198.18.1.1"  # BC-27 A: a gateway set outside survives


def test_disabling_ipv4_drops_gateway_and_dns():
    # BC-27 B: NM refuses a gateway without addresses
    old = {"connection": {"id": "eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1"},
           "ipv4": {"method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}],
                    "gateway": "198.18.1.1", "dns": [0x0101A8C0]}}
    cur = nms.iface_from_profile(old, None, True)
    new = unwrap(dbus_settings.build_settings(old, nms.ProfileChange(cur, dict(cur, ipv4={"enabled": False}))))
    assert new["ipv4"]["method"] == "disabled"
    assert "gateway" not in new["ipv4"] and "dns" not in new["ipv4"]


def test_port_profile_has_no_ip_and_carries_port_options():
    tgt = {"name": "eth2", "type": "ethernet", "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False}}
    port = nms.PortOf("br0", "linux-bridge", {"name": "eth2", "stp-priority": 20, "stp-path-cost": 50})
    new = roundtrip(tgt, port=port)
    assert new["connection"]["master"] == "br0" and new["connection"]["slave-type"] == "bridge"
    assert "ipv4" not in new and "ipv6" not in new
    assert new["bridge-port"] == {"priority": 20, "path-cost": 50, "vlans": []}
    assert linux_bridge.port_entry(new) == {"name": "eth2", "stp-priority": 20, "stp-path-cost": 50,
                                            "stp-hairpin-mode": False}


def test_routes_written_with_explicit_table_and_read_back():
    routes4 = [{"destination": "0.0.0.0/0", "next-hop-address": "198.18.30.1", "next-hop-interface": "eth1",
                "table-id": 201}]
    routes6 = [{"destination": "2001:db8:41::/64", "next-hop-address": "2001:db8:40::1", "metric": 1024,
                "next-hop-interface": "eth1", "table-id": 254}]
    new = roundtrip(STATIC, routes=nms.ProfileRoutes(routes4 + routes6))
    assert new["ipv4"]["route-data"] == [{"dest": "0.0.0.0", "prefix": 0, "table": 201, "next-hop": "198.18.30.1"}]
    routes, gateways = nms.routes_from_profile(new)
    assert routes == routes4 + routes6 and gateways == []  # BC-05: compared as structured records


def test_route_attributes_and_ecmp_weights_round_trip_with_their_dbus_types():
    # issue 15 item 8: NetworkManager's route-data attributes (src, mtu, cwnd..., weight), typed for D-Bus
    hops = [{"destination": "198.19.30.0/24", "next-hop-address": nh, "next-hop-interface": "eth1", "metric": 50,
             "table-id": 254, "weight": w} for nh, w in (("198.18.1.1", 1), ("198.18.1.2", 3))]
    tuned = {"destination": "198.19.31.0/24", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1",
             "table-id": 254, "source": "198.18.1.11", "mtu": 1400, "cwnd": 10, "lock-cwnd": True, "initcwnd": 20,
             "initrwnd": 30}
    raw = dbus_settings.build_settings(None, nms.ProfileChange({"name": "eth1"}, STATIC,
                                                               routes=nms.ProfileRoutes(hops + [tuned])))
    item = raw["ipv4"]["route-data"].value[2]
    assert {k: v.signature for k, v in item.items()} == {
        "dest": "s", "prefix": "u", "table": "u", "next-hop": "s", "src": "s", "mtu": "u", "cwnd": "u",
        "lock-cwnd": "b", "initcwnd": "u", "initrwnd": "u"}
    routes = nms.routes_from_profile(unwrap(raw))[0]
    assert routes == hops + [tuned]


def test_routing_rules_on_marks_actions_and_suppressors_round_trip():
    # issue 15 item 8: fwmark/fwmask, the blackhole/unreachable/prohibit actions (FR_ACT_*), suppress_prefixlength
    rules = [model.canonical_rule({"fwmark": 16, "fwmask": 255, "priority": 29990}),
             model.canonical_rule({"ip-from": "198.19.32.0/24", "iif": "eth1", "priority": 29991, "action": "prohibit"}),
             model.canonical_rule({"family": "ipv6", "priority": 29992, "suppress-prefix-length": 0})]
    out = unwrap(dbus_settings.build_settings(None, nms.ProfileChange({"name": "eth1"}, STATIC, rules=rules)))
    assert out["ipv4"]["routing-rules"][1]["action"] == 8
    assert sorted(nms.rules_from_profile(out), key=model.rule_key) == sorted(rules, key=model.rule_key)


def test_gateway_route_is_kept_in_the_gateway_field():
    gw = {"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1",
          "table-id": 254}
    new = roundtrip(STATIC, routes=nms.ProfileRoutes([gw], gateways={model.route_key(gw)}))
    assert new["ipv4"]["gateway"] == "198.18.1.1" and new["ipv4"]["route-data"] == []
    routes, gateways = nms.routes_from_profile(new)
    assert len(routes) == 1 and len(gateways) == 1


@pytest.mark.parametrize("servers, first_prio", [
    (["198.18.0.53", "2001:db8::53"], ("ipv4", 40)),
    (["2001:db8::53", "198.18.0.53"], ("ipv6", 40)),  # IPv6 first: IPv6 gets the stronger priority
])
def test_dns_order_survives_the_round_trip(servers, first_prio):
    dns = {"server": servers, "search": ["corp.example"], "options": ["rotate"]}
    new = roundtrip(STATIC, dns=dns)
    assert new[first_prio[0]]["dns-priority"] == first_prio[1]
    back = nms.dns_from_profile(new)
    assert back["server"] == servers  # BC-30: order is significant
    assert back["search"] == ["corp.example"] and back["options"] == ["rotate"]


def test_ipv4_dns_byte_order():
    assert nms.ipv4_dns_from_nm(nms.ipv4_dns_to_nm(["198.18.0.53"])) == ["198.18.0.53"]


def test_link_local_dns_gets_the_profile_interface_as_scope():
    settings = {"connection": {"interface-name": "eth1"},
                "ipv6": {"method": "manual", "dns": [bytes.fromhex("fe800000000000000000000000000053")]}}
    assert nms.dns_from_profile(settings)["server"] == ["fe80::53%eth1"]


def test_variant_compares_by_signature_and_value():
    assert Variant("u", 1) == Variant("u", 1) and Variant("u", 1) != Variant("i", 1)


@pytest.mark.parametrize("vlan, nm", [
    # BC-42: an access port is one PVID + untagged VLAN
    ({"mode": "access", "tag": 867}, [{"vid-start": 867, "vid-end": 867, "pvid": True, "untagged": True}]),
    ({"mode": "trunk", "trunk-tags": [{"id": 101}, {"id-range": {"min": 500, "max": 599}}], "tag": 100,
      "enable-native": True},
     [{"vid-start": 101, "vid-end": 101, "pvid": False, "untagged": False},
      {"vid-start": 500, "vid-end": 599, "pvid": False, "untagged": False},
      {"vid-start": 100, "vid-end": 100, "pvid": True, "untagged": True}]),
])
def test_bridge_port_vlans_round_trip(vlan, nm):
    assert unwrap(linux_bridge.port_vlan_to_nm(vlan)) == nm
    assert linux_bridge.port_vlan_from_nm(nm) == vlan


def test_vlan_filtering_follows_the_ports():
    br = {"name": "br42", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
          "ipv6": {"enabled": False}, "bridge": {"options": {}, "port": [{"name": "eth1", "vlan": {
              "mode": "access", "tag": 867}}]}}
    assert roundtrip(br)["bridge"]["vlan-filtering"] is True
    plain = dict(br, bridge={"options": {}, "port": [{"name": "eth1"}]})
    assert "vlan-filtering" not in roundtrip(plain).get("bridge", {})  # BC-48: never switched on by itself


def test_routing_rules_with_iif_round_trip_for_both_families():
    # RC-10: one type-driven serialisation for IPv4 and IPv6 rules, iif included
    rules = [model.canonical_rule({"ip-from": "2001:db8:10::/64", "iif": "veth10", "priority": 5, "route-table": 100}),
             model.canonical_rule({"ip-from": "2001:db8::/48", "priority": 100, "route-table": 100}),
             model.canonical_rule({"ip-to": "198.19.90.1/32", "iif": "eth1", "priority": 998, "route-table": 2})]
    tgt = {"name": "veth10", "type": "ethernet", "state": "up", "ipv4": {"enabled": True, "dhcp": True},
           "ipv6": {"enabled": True, "dhcp": True, "autoconf": True}}
    out = unwrap(dbus_settings.build_settings(None, nms.ProfileChange({"name": "veth10"}, tgt, rules=rules)))
    assert sorted(nms.rules_from_profile(out), key=model.rule_key) == sorted(rules, key=model.rule_key)
    assert out["ipv6"]["routing-rules"][0]["iifname"] == "veth10"


def test_origin_from_flags_and_user_data_never_from_the_name():
    wired = {"connection": {"id": "Wired connection 1"}}
    assert nms.origin_of(wired, 0) == "user"
    assert nms.origin_of({"connection": {"id": "eth1"}}, nms.FLAG_NM_GENERATED) == "auto-default"
    assert nms.origin_of({"user": {"data": {nms.ORIGIN_KEY: "nm-initrd-generator"}}}, 0) == "initrd"
    assert nms.origin_of({}, nms.FLAG_EXTERNAL | nms.FLAG_NM_GENERATED) == "external"
    assert nms.origin_of({"user": {"data": {nms.OWNER_KEY: "hostnet.nm"}}}, 0) == "hostnet.nm"
    assert [nms.owner_class(o) for o in ("hostnet.nm", "user", "initrd")] == ["ours", "foreign", "generated"]


def test_build_settings_marks_the_profile_and_keeps_other_user_data():
    old = {"connection": {"id": "x", "uuid": "u", "type": "802-3-ethernet", "interface-name": "eth1"},
           "user": {"data": {"com.example.team": "net"}}}
    cur = {"name": "eth1", "type": "ethernet", "state": "up"}
    out = dbus_settings.build_settings(old, nms.ProfileChange(cur, dict(cur)))
    assert out["user"]["data"].value == {"com.example.team": "net", nms.OWNER_KEY: "hostnet.nm",
                                         nms.OWNER_IFACE_KEY: "eth1"}


@pytest.mark.parametrize("patterns, name, allowed", [
    ([], "eth1", True), (["eth*"], "eth1", True), (["eth*"], "br0", False), (["!eth1"], "eth1", False),
    (["!eth1"], "eth2", True), (["eth*", "!eth1"], "eth1", False), (["&eth*", "|br0"], "eth1", False),
    (["br0", "eth1"], "eth1", True)])
def test_match_interface_name(patterns, name, allowed):
    assert nms.match_allows(patterns, name) is allowed


def test_blocked_on_touches_only_that_device():
    bound = {"connection": {"id": "a", "interface-name": "eth1", "autoconnect": True}}
    assert dbus_settings.blocked_on(bound, "eth1")["connection"]["autoconnect"].value is False
    unbound = {"connection": {"id": "b"}, "match": {"interface-name": ["eth*"]}}
    out = dbus_settings.blocked_on(unbound, "eth2")
    assert out["match"]["interface-name"].value == ["eth*", "!eth2"] and "autoconnect" not in out["connection"]


DHCP_OPTIONS = {"name": "eth2", "type": "ethernet", "state": "up",
                "ipv4": {"enabled": True, "dhcp": True, "address": [], "auto-dns": True, "auto-gateway": True,
                         "auto-routes": True, "auto-route-table-id": 1000, "auto-route-metric": 150,
                         "dhcp-client-id": "iaid+duid", "dhcp-custom-hostname": "h1.lab.test"},
                "ipv6": {"enabled": True, "dhcp": True, "autoconf": True, "address": [], "auto-dns": True,
                         "auto-gateway": True, "auto-routes": True, "auto-route-table-id": 1000,
                         "dhcp-duid": "stable-uuid", "dhcp-send-hostname": False, "addr-gen-mode": "eui64",
                         "token": "::fac1"}}


def test_ip_options_written_as_networkmanager_names_them_and_read_back():
    # issue 15 item 8: nmstate's IP options <-> ipv4/ipv6 route-table, route-metric, dhcp-* (nm-settings-dbus(5))
    raw = dbus_settings.build_settings(None, nms.ProfileChange({"name": "eth2"}, DHCP_OPTIONS))
    v4, v6 = raw["ipv4"], raw["ipv6"]
    assert (v4["route-table"], v4["route-metric"], v4["dhcp-client-id"], v4["dhcp-fqdn"]) == (
        Variant("u", 1000), Variant("x", 150), Variant("s", "duid"), Variant("s", "h1.lab.test"))
    assert "dhcp-hostname" not in v4 and "route-metric" not in v6
    assert (v6["addr-gen-mode"], v6["token"], v6["dhcp-duid"], v6["dhcp-send-hostname"]) == (
        Variant("i", 0), Variant("s", "::fac1"), Variant("s", "stable-uuid"), Variant("b", False))
    assert nms.iface_from_profile(unwrap(raw), None, True) == DHCP_OPTIONS


def test_ip_options_at_networkmanagers_defaults_are_left_out_both_ways():
    # a profile at NM's defaults reads back without the options, and a target without them writes none
    plain = {"connection": {"id": "eth2", "type": "802-3-ethernet", "interface-name": "eth2"},
             "ipv4": {"method": "auto", "route-table": 0, "route-metric": -1, "dhcp-send-hostname": True},
             "ipv6": {"method": "auto", "addr-gen-mode": 3}}
    iface = nms.iface_from_profile(plain, None, True)
    assert set(iface["ipv4"]) == {"enabled", "dhcp", "address", "auto-dns", "auto-gateway", "auto-routes"}
    assert "addr-gen-mode" not in iface["ipv6"] and "token" not in iface["ipv6"]
    plain["ipv6"]["addr-gen-mode"] = 2  # a keyfile without the key
    assert nms.iface_from_profile(plain, None, True)["ipv6"]["addr-gen-mode"] == "default-or-eui64"


def test_ip_options_change_only_what_differs_and_a_removed_option_goes_back_to_the_default():
    old = unwrap(dbus_settings.build_settings(None, nms.ProfileChange({"name": "eth2"}, DHCP_OPTIONS)))
    cur = nms.iface_from_profile(old, None, True)
    old_dbus = dbus_settings.to_dbus(old)
    old_dbus["ipv4"]["dhcp-vendor-class-identifier"] = Variant("s", "kept")
    target = copy.deepcopy(cur)
    del target["ipv4"]["auto-route-table-id"], target["ipv6"]["token"]
    target["ipv6"]["addr-gen-mode"] = "stable-privacy"
    target["ipv4"]["dhcp-custom-hostname"] = "h1"
    new = roundtrip(target, old=old_dbus, cur=cur)
    assert "route-table" not in new["ipv4"] and "token" not in new["ipv6"]
    assert new["ipv4"]["dhcp-hostname"] == "h1" and "dhcp-fqdn" not in new["ipv4"]
    assert new["ipv6"]["addr-gen-mode"] == 1 and new["ipv4"]["dhcp-vendor-class-identifier"] == "kept"
    assert new["ipv6"]["route-table"] == 1000 and new["ipv4"]["route-metric"] == 150
    assert nms.iface_from_profile(new, None, True) == target


def test_static_profile_keeps_a_route_table_the_model_does_not_show():
    # a route-table set outside hostnet.nm on a static profile: not ours to show, not ours to reset
    old = {"connection": {"id": "eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1"},
           "ipv4": {"method": "manual", "route-table": 100,
                    "address-data": [{"address": "198.18.1.11", "prefix": 24}]}}
    cur = nms.iface_from_profile(old, None, True)
    assert "auto-route-table-id" not in cur["ipv4"]
    target = copy.deepcopy(cur)
    target["ipv4"]["address"].append({"ip": "198.18.1.12", "prefix-length": 24})
    assert roundtrip(target, old=dbus_settings.to_dbus(old), cur=cur)["ipv4"]["route-table"] == 100


def test_a_route_of_a_type_nmstate_has_not_stays_in_its_profile_as_it_is():
    # issue 15 item 8: a throw route set outside hostnet.nm (NetworkManager has local and throw, nmstate neither)
    # is not in the model, and a rewrite of the profile's routes keeps it as it was
    throw = {"dest": "198.19.40.0", "prefix": 24, "type": "throw", "table": 100}
    settings = {"connection": {"id": "eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1"},
                "ipv4": {"method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}],
                         "route-data": [throw]}}
    assert nms.routes_from_profile(settings)[0] == []
    added = {"destination": "198.19.41.0/24", "next-hop-interface": "eth1", "next-hop-address": "198.18.1.1",
             "table-id": 254}
    new = nms.build_settings(settings, nms.ProfileChange(STATIC, STATIC, routes=nms.ProfileRoutes([added])))
    assert new["ipv4"]["route-data"] == [{"dest": "198.19.41.0", "prefix": 24, "table": 254,
                                          "next-hop": "198.18.1.1"}, throw]


def test_a_route_attribute_the_model_lacks_survives_a_rewrite_of_the_routes():
    # a route's tos, scope and quickack (set with nmcli or another tool) are not in the model: when another
    # route of the profile changes, the route that stays keeps them, typed as NetworkManager gave them
    tuned = {"dest": "198.19.40.0", "prefix": 24, "next-hop": "198.18.1.1", "table": 254, "tos": 16, "scope": 0,
             "quickack": True, "mtu": 1400}
    old = {"connection": {"id": "eth1", "uuid": "u1", "type": "802-3-ethernet", "interface-name": "eth1"},
           "ipv4": {"method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}],
                    "route-data": [tuned]}}
    old_dbus = dbus_settings.to_dbus({"connection": old["connection"], "ipv4": {
        "method": "manual", "address-data": old["ipv4"]["address-data"]}})
    old_dbus["ipv4"]["route-data"] = Variant("aa{sv}", [{
        "dest": Variant("s", "198.19.40.0"), "prefix": Variant("u", 24), "next-hop": Variant("s", "198.18.1.1"),
        "table": Variant("u", 254), "tos": Variant("y", 16), "scope": Variant("y", 0),
        "quickack": Variant("b", True), "mtu": Variant("u", 1400)}])
    (stays,), _gateways = nms.routes_from_profile(old)
    stays = dict(stays)
    del stays["mtu"]                                   # the document drops the mtu: a modelled attribute goes
    added = {"destination": "198.19.41.0/24", "next-hop-interface": "eth1", "next-hop-address": "198.18.1.1",
             "table-id": 254}
    change = nms.ProfileChange(STATIC, STATIC, routes=nms.ProfileRoutes([stays, added]))
    raw = dbus_settings.build_settings(old_dbus, change)
    items = raw["ipv4"]["route-data"].value
    assert [{k: (v.signature, v.value) for k, v in item.items()} for item in items] == [
        {"dest": ("s", "198.19.40.0"), "prefix": ("u", 24), "table": ("u", 254), "next-hop": ("s", "198.18.1.1"),
         "tos": ("y", 16), "scope": ("y", 0), "quickack": ("b", True)},
        {"dest": ("s", "198.19.41.0"), "prefix": ("u", 24), "table": ("u", 254), "next-hop": ("s", "198.18.1.1")}]


def test_a_field_no_signature_types_is_left_out():
    value = dbus_settings.variant("ipv4", "route-data", [{"dest": "198.19.40.0", "prefix": 24, "odd": 1}])
    assert sorted(value.value[0]) == ["dest", "prefix"]


def test_the_route_fields_the_model_writes_are_the_ones_with_a_signature():
    # one list of modelled route-data fields (profiles), one of their D-Bus types (nm/settings): the same names
    assert set(dbus_settings.ITEM_SIGNATURES["route-data"]) == nms.MODELLED_ROUTE_DATA
