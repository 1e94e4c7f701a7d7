"""hostnet.nm.network_state against real NetworkManager lab hosts, through
ansible-playbook over SSH (issue: the main job, and the CASES.md cases about
idempotence, routes, DNS, check mode and profiles)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.lab


def static_eth1(lab, host, *extra, prefix=24, v6=False):
    iface = {"name": "eth1", "type": "ethernet", "state": "up",
             "ipv4": {"enabled": True, "dhcp": False,
                      "address": [{"ip": lab.data_ip(host, 1), "prefix-length": prefix}] + list(extra)}}
    if v6:
        iface["ipv6"] = {"enabled": True, "dhcp": False, "autoconf": False,
                         "address": [{"ip": lab.data_ip6(host, 1), "prefix-length": 64}]}
    return iface


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result
    return result


@pytest.mark.nm_versions
def test_apply_then_rerun_is_a_no_op_with_zero_writes(lab, lab_host, runner, view):
    doc = {"interfaces": [static_eth1(lab, lab_host, v6=True)],
           "routes": {"config": [{"destination": "198.19.0.0/16", "next-hop-address": "198.18.1.1",
                                  "next-hop-interface": "eth1", "metric": 150}]},
           "dns-resolver": {"config": {"server": ["198.18.1.1"], "search": ["lab.test"]}}}
    first = ok(runner.apply(lab_host, doc), changed=True)
    assert first["writes"] > 0 and not first["rolled_back"]
    assert set(first["timings"]) >= {"read", "plan", "write", "activate", "verify", "commit"}
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]
    assert view.addresses("eth1", 6) == [lab.data_ip6(lab_host, 1) + "/64"]
    assert view.routes("198.19.0.0/16")[0]["gateway"] == "198.18.1.1"
    assert view.routes("198.19.0.0/16")[0]["metric"] == 150
    assert view.nameservers() == ["198.18.1.1"] and view.search() == ["lab.test"]
    assert view.checkpoints() == "ao 0"  # committed, nothing left pending
    before = view.snapshot()
    second = ok(runner.apply(lab_host, doc), changed=False)
    assert second["writes"] == 0 and second["plan"] == []
    assert view.snapshot() == before


@pytest.mark.nm_versions
def test_check_mode_changes_nothing_and_the_diff_names_the_change(lab, lab_host, runner, view):
    before = view.snapshot()
    result = ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}, "--check", "--diff"),
                changed=True)
    assert result["writes"] == 0
    assert view.snapshot() == before  # no profile, no address, no checkpoint
    diff = result["diff"]
    assert "198.18.1.11" not in diff["before"] and lab.data_ip(lab_host, 1) in diff["after"]
    assert "eth1" in diff["after"] and "prefix-length: 24" in diff["after"]


def test_check_mode_predicts_exactly_the_added_route(lab, lab_host, runner, view):
    # BC-15
    eth1 = static_eth1(lab, lab_host, prefix=24)
    routes = [{"destination": d, "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1"}
              for d in ("198.19.80.0/26", "198.19.80.64/26", "198.19.80.128/26")]
    ok(runner.apply(lab_host, {"interfaces": [eth1], "routes": {"config": routes[:2]}}), changed=True)
    before = view.snapshot()
    result = ok(runner.apply(lab_host, {"interfaces": [eth1], "routes": {"config": routes}}, "--check", "--diff"),
                changed=True)
    assert "198.19.80.128/26" in result["diff"]["after"]
    assert "198.19.80.0/26" not in result["diff"]["after"] and "198.19.80.64/26" not in result["diff"]["after"]
    assert view.snapshot() == before
    ok(runner.apply(lab_host, {"interfaces": [eth1], "routes": {"config": routes[:2]}}, "--check"), changed=False)


@pytest.mark.nm_versions
def test_info_round_trip_is_a_no_op(lab, lab_host, runner):
    # BC-29: apply(show()) changes nothing, and the unmanaged mgmt0 is not in it
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    state = runner.info(lab_host)
    names = [i["name"] for i in state["interfaces"]]
    assert "eth1" in names and "mgmt0" not in names and "lo" not in names
    eth1 = next(i for i in state["interfaces"] if i["name"] == "eth1")
    assert eth1["ipv4"]["address"] == [{"ip": lab.data_ip(lab_host, 1), "prefix-length": 24}]
    result = ok(runner.apply(lab_host, state), changed=False)
    assert result["writes"] == 0


def test_absent_removes_the_profile_and_nothing_reactivates(lab, lab_host, runner, view):
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    ok(runner.apply(lab_host, {"interfaces": [{"name": "eth1", "state": "absent"}]}), changed=True)
    assert [p for p in view.profiles() if p["name"] == "eth1" or p["device"] == "eth1"] == []
    time.sleep(2)  # NM's autoconnect would have struck by now
    assert view.device_state("eth1").startswith("30")  # disconnected
    assert view.addresses("eth1") == []


@pytest.mark.nm_versions
def test_dns_only_state_and_its_order(lab, lab_host, runner, view):
    # BC-10 and BC-30: a DNS-only document is idempotent, and order is significant
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    # two resolvers that answer (the lab's dnsmasq listens on .1 of every lab network)
    first = {"dns-resolver": {"config": {"server": ["198.18.0.1", "198.18.1.1"],
                                         "search": ["site-b.example", "site-a.example"]}}}
    ok(runner.apply(lab_host, first), changed=True)
    assert view.nameservers() == ["198.18.0.1", "198.18.1.1"]
    swapped = {"dns-resolver": {"config": {"server": ["198.18.1.1", "198.18.0.1"],
                                           "search": ["site-a.example", "site-b.example"]}}}
    ok(runner.apply(lab_host, swapped), changed=True)
    assert view.nameservers() == ["198.18.1.1", "198.18.0.1"]
    assert view.search() == ["site-a.example", "site-b.example"]
    again = ok(runner.apply(lab_host, swapped), changed=False)
    assert again["writes"] == 0


@pytest.mark.nm_versions
def test_route_only_state_in_another_table_without_a_link_flap(lab, lab_host, runner, view):
    # BC-05, BC-06, BC-08: structured comparison, runtime = profile, reapply not down/up
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host, v6=True)]}), changed=True)
    active = view.active_path("eth1")
    routes = {"routes": {"config": [
        {"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1", "table-id": 201},
        {"destination": "198.19.40.0/24", "next-hop-interface": "eth1"},
        {"destination": "2001:db8:41::/64", "next-hop-address": "2001:db8:1::1", "next-hop-interface": "eth1",
         "metric": 0}]}}
    result = ok(runner.apply(lab_host, routes), changed=True)
    assert [op["op"] for op in result["plan"]] == ["update", "reapply"]
    assert view.active_path("eth1") == active  # not re-activated
    assert view.routes("table", "201")[0]["gateway"] == "198.18.1.1"
    assert view.routes("198.19.40.0/24")[0]["dev"] == "eth1"  # landed in the main table
    assert view.routes("2001:db8:41::/64", family=6)[0]["metric"] == 1024
    again = ok(runner.apply(lab_host, routes), changed=False)
    assert again["writes"] == 0 and view.active_path("eth1") == active
    gone = {"routes": {"config": [{"next-hop-interface": "eth1", "table-id": 201, "state": "absent"}]}}
    ok(runner.apply(lab_host, gone), changed=True)
    assert view.routes("table", "201") == [] and view.routes("198.19.40.0/24")


def test_removing_one_address_keeps_the_others_live(lab, lab_host, runner, view):
    # BC-09: the device holds exactly the profile's addresses afterwards
    extra = {"ip": "198.18.1.200", "prefix-length": 24}
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host, extra)]}), changed=True)
    active = view.active_path("eth1")
    assert view.addresses("eth1") == sorted([lab.data_ip(lab_host, 1) + "/24", "198.18.1.200/24"])
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]
    assert view.active_path("eth1") == active
    moved = static_eth1(lab, lab_host)
    moved["ipv4"]["address"] = [{"ip": "198.18.70.1", "prefix-length": 16}]
    ok(runner.apply(lab_host, {"interfaces": [moved]}), changed=True)
    assert view.addresses("eth1") == ["198.18.70.1/16"]
    assert len([r for r in view.routes("dev", "eth1") if r.get("protocol") == "kernel"]) == 1
    ok(runner.apply(lab_host, {"interfaces": [moved]}), changed=False)


def test_up_and_down_on_a_host_already_so(lab, lab_host, runner, view):
    # BC-12
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    active = view.active_path("eth1")
    down_eth2 = {"name": "eth2", "type": "ethernet", "state": "down",
                 "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.12.14", "prefix-length": 30}]}}
    ok(runner.apply(lab_host, {"interfaces": [down_eth2]}), changed=True)
    again = ok(runner.apply(lab_host, {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up"},
                                                      down_eth2]}), changed=False)
    # nothing written and nothing waited for (was a bound of 10 s, which a loaded machine broke)
    assert again["writes"] == 0 and again["plan"] == [] and "activate" not in again["timings"], again["timings"]
    assert view.active_path("eth1") == active and view.active_path("eth2") == "/"


def test_unrelated_uplink_is_untouched(lab, lab_host, runner, view):
    # BC-22: creating and removing a bridge leaves eth1's profile and activation alone
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    keyfile = view.keyfiles()
    active = view.active_path("eth1")
    bridge = {"name": "br22", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
              "ipv6": {"enabled": False}, "bridge": {"options": {"stp": {"enabled": False}}, "port": []}}
    result = ok(runner.apply(lab_host, {"interfaces": [bridge]}), changed=True)
    assert {op["interface"] for op in result["plan"]} == {"br22"}
    ok(runner.apply(lab_host, {"interfaces": [{"name": "br22", "state": "absent"}]}), changed=True)
    after = view.keyfiles()
    assert {k: v for k, v in after.items() if "eth1" in k} == {k: v for k, v in keyfile.items() if "eth1" in k}
    assert view.active_path("eth1") == active
    assert "br22" not in view.links()


def test_bridge_with_stp_off_is_idempotent(lab, lab_host, runner, view):
    # BC-02 and BC-01 (no mtu key on a bridge)
    doc = {"interfaces": [{"name": "br0", "type": "linux-bridge", "state": "up",
                           "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "eth1"}]},
                           "ipv4": {"enabled": True, "dhcp": False,
                                    "address": [{"ip": "198.18.20.2", "prefix-length": 24}]}}]}
    ok(runner.apply(lab_host, doc), changed=True)
    assert view.link("eth1").get("master") == "br0"
    assert view.run("cat", "/sys/class/net/br0/bridge/stp_state").strip() == "0"
    assert view.addresses("br0") == ["198.18.20.2/24"]
    assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0
    # network_state_info's output fed back is a silent no-op: no STP timers that would have no effect
    state = runner.info(lab_host)
    assert next(i for i in state["interfaces"] if i["name"] == "br0")["bridge"]["options"]["stp"] == {"enabled": False}
    again = ok(runner.apply(lab_host, state), changed=False)
    assert again["writes"] == 0 and not again.get("warnings"), again.get("warnings")
    ok(runner.apply(lab_host, {"interfaces": [{"name": "br0", "state": "absent"}]}), changed=True)
    assert "br0" not in view.links()
    # a new bridge created down: a profile, no device, verified as such (it failed with "missing")
    down = {"interfaces": [dict(doc["interfaces"][0], name="br1", state="down", bridge={
        "options": {"stp": {"enabled": False}}, "port": []})]}
    ok(runner.apply(lab_host, down), changed=True)
    assert "br1" in [p["name"] for p in view.profiles()] and "br1" not in view.links()
    assert ok(runner.apply(lab_host, down), changed=False)["writes"] == 0


def test_ipv6_section_not_mentioned_stays_as_it_is(lab, lab_host, runner, view):
    # BC-35: the profile's IPv6 method is unchanged and the diff lists no IPv6 property
    ok(runner.apply(lab_host, {"interfaces": [dict(static_eth1(lab, lab_host), ipv6={"enabled": False})]}),
       changed=True)
    result = ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host, prefix=25)]}, "--diff"),
                changed=True)
    assert "ipv6" not in result["diff"]["after"].split("ipv4")[0] or "ipv6:\n    enabled: false" in result["diff"]["after"]
    assert view.profile_fields("eth1", "ipv6.method")["ipv6.method"] == "disabled"


def test_gateway_set_outside_survives_and_ipv4_can_be_disabled(lab, lab_host, runner, view):
    # BC-27 A and B
    host_ip = lab.data_ip(lab_host, 1)
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "eth1",
             "ipv4.method", "manual", "ipv4.addresses", host_ip + "/24", "ipv4.gateway", "198.18.1.1",
             "ipv6.method", "disabled")
    view.run("nmcli", "connection", "up", "eth1")
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host, {"ip": "198.18.1.201",
                                                                          "prefix-length": 24})]}), changed=True)
    assert view.routes("default")[0]["gateway"] == "198.18.1.1"
    # the user takes the gateway away on purpose: say so, or the gateway probe rolls it back
    ok(runner.apply(lab_host, {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up",
                                               "ipv4": {"enabled": False}}]},
                    module_args={"verify": {"gateway": False}}), changed=True)
    assert view.addresses("eth1") == [] and view.routes("default") == []
    assert view.profile_fields("eth1", "ipv4.gateway")["ipv4.gateway"] in ("", "--")


def test_one_profile_per_interface(lab, lab_host, runner, view):
    # BC-40: exactly one profile can activate on eth1 (the other, not ours, is kept with autoconnect off);
    # the address survives a reload + reconnect
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "Wired connection 1",
             "ipv4.method", "auto")
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "eth1-static",
             "ipv4.method", "manual", "ipv4.addresses", "198.18.1.99/24", "connection.autoconnect", "no")
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host)]}), changed=True)
    bound = [p["name"] for p in view.profiles() if p["type"] == "802-3-ethernet"]
    assert sorted(bound) == ["Wired connection 1", "eth1-static"], bound
    autoconnect = [n for n in bound if view.profile_fields(n, "connection.autoconnect")["connection.autoconnect"]
                   == "yes"]
    assert autoconnect == ["Wired connection 1"], autoconnect  # taken over: now the document's profile
    view.run("nmcli", "connection", "reload")
    view.run("nmcli", "device", "reapply", "eth1")
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]


def test_auto_options_without_dhcp_warn_and_stay_idempotent(lab, lab_host, runner):
    # BC-04's kind: options that have no effect for the method are dropped with a warning
    eth1 = static_eth1(lab, lab_host)
    eth1["ipv4"]["auto-dns"] = False
    first = ok(runner.apply(lab_host, {"interfaces": [eth1]}), changed=True)
    assert any("auto-dns" in w for w in first.get("warnings", [])), first.get("warnings")
    ok(runner.apply(lab_host, {"interfaces": [eth1]}), changed=False)


def test_dhcp_and_slaac_on_the_dhcp_network(lab, lab_host, runner, view):
    doc = {"interfaces": [{"name": "eth2", "type": "ethernet", "state": "up",
                           "ipv4": {"enabled": True, "dhcp": True},
                           "ipv6": {"enabled": True, "dhcp": True, "autoconf": True}}]}
    ok(runner.apply(lab_host, doc), changed=True)
    assert view.addresses("eth2")[0].startswith("198.18.2.")
    assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0


def test_dbus_next_fallback_works_the_same(lab, lab_host, runner, view):
    env = {"HOSTNET_NM_DBUS_LIBRARY": "dbus_next"}
    doc = {"interfaces": [static_eth1(lab, lab_host)]}
    ok(runner.apply(lab_host, doc, env=env), changed=True)
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]
    assert ok(runner.apply(lab_host, doc, env=env), changed=False)["writes"] == 0


def test_invalid_document_fails_on_the_controller_with_paths(lab, lab_host, runner, view):
    before = view.snapshot()
    bad = {"interfaces": [{"name": "eth1", "type": "ethernet", "ipv4": {"enabled": True, "address": [
        {"ip": "198.18.1.5\\24"}]}, "mtuu": 1500}]}
    result = runner.apply(lab_host, bad)
    assert result["status"] == "failed"
    paths = {e["path"] for e in result["validation_errors"]}
    assert "interfaces[0].ipv4.address[0].ip" in paths and "interfaces[0].mtuu" in paths
    assert "Traceback" not in result["msg"]
    assert view.snapshot() == before


def test_link_local_name_server_with_its_scope(lab, lab_host, runner, view):
    # BC-34: a fe80:: server carries %iface and reaches resolv.conf scoped
    router_ll = lab.run("sw", "ip", "-6", "-o", "addr", "show", "dev", "br-data1", "scope", "link").stdout.split()[3]
    router_ll = router_ll.split("/")[0]
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host, v6=True)]}), changed=True)
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up",
                           "ipv6": {"enabled": True, "dhcp": False, "autoconf": False,
                                    "address": [{"ip": lab.data_ip6(lab_host, 1), "prefix-length": 64}]}}],
           "dns-resolver": {"config": {"server": [router_ll + "%eth1", "2001:db8:1::1", "198.18.1.1"]}}}
    result = ok(runner.apply(lab_host, doc), changed=True)
    assert view.nameservers() == [router_ll + "%eth1", "2001:db8:1::1", "198.18.1.1"]
    assert all(p["ok"] for p in result["probes"] if p["kind"] == "dns")
    ok(runner.apply(lab_host, doc), changed=False)


@pytest.mark.nm_versions
def test_route_rules_to_main_and_another_table(lab, lab_host, runner, view):
    # BC-24: both rules applied (stored on a profile that is up), never a partial apply
    eth1 = static_eth1(lab, lab_host)
    eth1["ipv4"]["address"] = [{"ip": "198.18.24.2", "prefix-length": 24}]
    doc = {"interfaces": [eth1],
           "routes": {"config": [{"destination": "198.19.25.0/24", "next-hop-address": "198.18.24.1",
                                  "next-hop-interface": "eth1", "table-id": 200}]},
           "route-rules": {"config": [
               {"ip-from": "198.18.24.0/24", "ip-to": "198.19.24.0/24", "priority": 29995, "route-table": 254},
               {"ip-from": "198.18.25.0/24", "ip-to": "198.19.25.0/24", "priority": 29996, "route-table": 200}]}}
    ok(runner.apply(lab_host, doc, module_args={"verify": {"gateway": False}}), changed=True)
    rules = view.run("ip", "rule", "show")
    assert "29995:\tfrom 198.18.24.0/24 to 198.19.24.0/24 lookup main" in rules
    assert "29996:\tfrom 198.18.25.0/24 to 198.19.25.0/24 lookup 200" in rules
    ok(runner.apply(lab_host, doc), changed=False)
    ok(runner.apply(lab_host, {"route-rules": {"config": [{"priority": 29996, "state": "absent"}]}}), changed=True)
    rules = view.run("ip", "rule", "show")
    assert "29996:" not in rules and "29995:" in rules


def test_rule_to_a_table_nobody_holds_is_refused_whole(lab, lab_host, runner, view):
    # BC-24's other branch: a clear error naming the rule, and nothing applied
    before = view.snapshot()
    result = runner.apply(lab_host, {"route-rules": {"config": [
        {"ip-from": "198.18.24.0/24", "priority": 29995, "route-table": 254},
        {"ip-from": "198.18.25.0/24", "priority": 29996, "route-table": 200}]}})
    assert result["status"] == "failed"
    assert "route-rules.config[1].route-table" in [e["path"] for e in result["validation_errors"]]
    assert view.snapshot() == before


# ------------------------------------------------ issue 17: correct at the edges (CASES-2.md)

def refused(result, *codes):
    """The run failed before anything changed, with exactly these codes."""
    assert result["status"] == "failed", result
    assert sorted(e["code"] for e in result["validation_errors"]) == sorted(codes), result["validation_errors"]
    return result


def veth(view, name, mac=None):
    """A veth pair ``name``/``name``p in the host, the peer up (as the cases' pre-state)."""
    view.run("ip", "link", "add", name, *(("address", mac) if mac else ()), "type", "veth", "peer", "name", name + "p")
    view.run("ip", "link", "set", name + "p", "up")


def test_dns_moves_off_a_removed_holder_and_a_change_no_one_can_hold_is_refused(lab, lab_host, runner, view):
    # issue 17 item 3: the document does not mention dns-resolver; item 8: a next hop the host holds (a lease)
    eth2 = {"name": "eth2", "type": "ethernet", "state": "up", "ipv4": {"enabled": True, "dhcp": True}}
    ok(runner.apply(lab_host, {"interfaces": [static_eth1(lab, lab_host), eth2],
                               "dns-resolver": {"config": {"server": ["198.18.0.1"], "search": ["lab.test"]}}}),
       changed=True)
    result = ok(runner.apply(lab_host, {"interfaces": [{"name": "eth1", "state": "absent"}]}), changed=True)
    assert ("update", "eth2") in [(op["op"], op["interface"]) for op in result["plan"]]
    assert view.nameservers()[0] == "198.18.0.1" and view.search() == ["lab.test"]
    assert view.profile_fields("eth2", "ipv4.dns")["ipv4.dns"] == "198.18.0.1"
    before = view.snapshot()
    lease = view.addresses("eth2")[0].split("/")[0]
    refused(runner.apply(lab_host, {"routes": {"config": [{"destination": "198.19.0.0/16", "next-hop-address": lease,
                                                           "next-hop-interface": "eth2"}]}}), "ROUTE_NEXT_HOP_IS_LOCAL")
    result = refused(runner.apply(lab_host, {"interfaces": [{"name": "eth2", "state": "absent"}]}), "DNS_NO_HOLDER")
    assert "eth2" in result["validation_errors"][0]["message"]
    assert view.snapshot() == before


def test_what_networkmanager_cannot_write_is_refused_on_the_controller(lab, lab_host, runner, view):
    # issue 17 item 7 (interleaved DNS, SLAAC only); RC-07 and RC-18: keys whose changes we cannot apply safely
    before = view.snapshot()
    result = refused(runner.apply(lab_host, {
        "interfaces": [{"name": "eth2", "type": "ethernet", "state": "up",
                        "ipv4": {"enabled": True, "dhcp": False, "address": []},
                        "ipv6": {"enabled": True, "dhcp": False, "autoconf": True}},
                       {"name": "eth1", "type": "ethernet", "ipv6": {"enabled": True, "addr-gen-mode": "stable-privacy",
                                                                     "token": "::fac1"}}],
        "dns-resolver": {"config": {"server": ["198.18.1.1", "2001:db8:1::1", "198.18.0.1"]}}}),
        "IPV6_AUTOCONF_WITHOUT_DHCP", "IPV4_STATIC_WITHOUT_ADDRESS", "DNS_FAMILY_INTERLEAVED",
        "IPV6_TOKEN_NEEDS_EUI64")
    assert {e["path"] for e in result["validation_errors"]} == {
        "interfaces[0].ipv6.dhcp", "interfaces[0].ipv4.address", "interfaces[1].ipv6.addr-gen-mode",
        "dns-resolver.config.server[2]"}
    # the same kind once merged on the host: a new profile would get ipv4.method manual with no address
    refused(runner.apply(lab_host, {"interfaces": [{"name": "eth2", "type": "ethernet", "state": "up",
                                                    "ipv4": {"enabled": True, "dhcp": False}}]}),
            "IPV4_STATIC_WITHOUT_ADDRESS")
    assert view.snapshot() == before


def test_mac_bound_profile_round_trips_and_is_reapplied_and_a_captured_state_touches_one_profile(
        lab, lab_host, runner, view):
    # RC-16, RC-33, issue 17 item 8 (info names a MAC-bound NIC; another NIC's MAC is refused)
    veth(view, "veth16", "02:00:00:00:16:01")
    view.run("nmcli", "connection", "add", "type", "ethernet", "con-name", "wan16", "ethernet.mac-address",
             "02:00:00:00:16:01", "ipv4.method", "manual", "ipv4.addresses", "198.18.16.1/24", "ipv6.method", "disabled")
    view.run("nmcli", "connection", "up", "wan16")
    active, keyfiles = view.active_path("veth16"), view.keyfiles()
    state = runner.info(lab_host)
    assert "" not in [i["name"] for i in state["interfaces"]] and "veth16" in [i["name"] for i in state["interfaces"]]
    assert ok(runner.apply(lab_host, state), changed=False)["writes"] == 0
    wan = next(i for i in state["interfaces"] if i["name"] == "veth16")
    wan["ipv4"]["address"].append({"ip": "198.18.16.2", "prefix-length": 24})
    result = ok(runner.apply(lab_host, state), changed=True)
    assert [(op["op"], op["interface"]) for op in result["plan"]] == [("update", "veth16"), ("reapply", "veth16")]
    assert view.active_path("veth16") == active  # reapplied, not re-activated
    assert view.addresses("veth16") == ["198.18.16.1/24", "198.18.16.2/24"]
    assert view.profile_fields("wan16", "connection.interface-name")["connection.interface-name"] == ""
    assert set(view.keyfiles()) == set(keyfiles)  # no profile written for any other interface
    mac2 = view.run("cat", "/sys/class/net/eth2/address").strip()
    refused(runner.apply(lab_host, {"interfaces": [dict(static_eth1(lab, lab_host), **{"mac-address": mac2})]}),
            "MAC_DUPLICATE")


def test_a_profile_made_by_nmcli_loses_its_dns_and_old_address(lab, lab_host, runner, view):
    # RC-03: settings sent back must not carry NM's duplicate forms (dns-data next to dns, addresses...)
    veth(view, "veth3")
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "veth3", "con-name", "veth3", "ipv4.method",
             "manual", "ipv4.addresses", "198.18.3.1/24", "ipv4.dns", "198.18.0.53", "ipv6.method", "disabled")
    view.run("nmcli", "connection", "up", "veth3")
    doc = {"interfaces": [{"name": "veth3", "type": "ethernet", "state": "up",
                           "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.3.2", "prefix-length": 24}]}}],
           "dns-resolver": {"config": {"server": []}}}
    ok(runner.apply(lab_host, doc), changed=True)
    fields = view.profile_fields("veth3", "ipv4.dns", "ipv4.addresses")
    assert fields == {"ipv4.dns": "", "ipv4.addresses": "198.18.3.2/24"}
    assert view.addresses("veth3") == ["198.18.3.2/24"] and view.nameservers() == []
    assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0


def test_bridge_mtu_and_multicast_snooping_live_in_the_profile(lab, lab_host, runner, view):
    # RC-04 (bridge MTU in 802-3-ethernet.mtu), RC-32 (snooping survives re-activations), RC-05 (MTU follows ports)
    veth(view, "veth4")
    veth(view, "veth5a")
    veth(view, "veth5b")
    doc = {"interfaces": [{"name": "veth4", "type": "ethernet", "state": "up", "mtu": 9000},
                          {"name": "br4", "type": "linux-bridge", "state": "up", "mtu": 9000,
                           "bridge": {"options": {"multicast-snooping": False, "stp": {"enabled": False}},
                                      "port": [{"name": "veth4"}]}},
                          {"name": "br5", "type": "linux-bridge", "state": "up",
                           "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "veth5a"}]}}]}
    ok(runner.apply(lab_host, doc), changed=True)
    assert view.link("br4")["mtu"] == 9000 and view.link("veth4")["mtu"] == 9000
    assert "[ethernet]\nmtu=9000" in next(v for k, v in view.keyfiles().items() if k.startswith("br4"))
    snooping = "/sys/class/net/br4/bridge/multicast_snooping"
    assert view.run("cat", snooping).strip() == "0"
    view.run("nmcli", "connection", "up", "veth4")
    assert view.run("cat", snooping).strip() == "0"
    view.run("nmcli", "connection", "up", "br4")
    assert view.run("cat", snooping).strip() == "0"
    grow = {"interfaces": [{"name": "veth5b", "type": "ethernet", "state": "up", "mtu": 9000},
                           {"name": "br5", "type": "linux-bridge", "state": "up",
                            "bridge": {"port": [{"name": "veth5a"}, {"name": "veth5b"}]}}]}
    result = ok(runner.apply(lab_host, grow), changed=True)
    assert any("br5" in w and "1500 (veth5a 1500, veth5b 9000)" in w for w in result["warnings"]), result["warnings"]
    assert view.link("br5")["mtu"] == 1500 and view.link("veth5b")["mtu"] == 9000
    assert ok(runner.apply(lab_host, grow), changed=False)["writes"] == 0


def test_a_veth_and_its_peer_in_one_run(lab, lab_host, runner, view):
    # RC-23: the peer appears with the veth (unmanaged for a moment); its activation waits for it
    doc = {"interfaces": [{"name": "veth23", "type": "veth", "state": "up", "veth": {"peer": "veth23p"}},
                          {"name": "veth23p", "type": "ethernet", "state": "up", "ipv4": {
                              "enabled": True, "dhcp": False, "address": [{"ip": "198.18.23.2", "prefix-length": 24}]},
                           # a static link-local address verifies too (issue 17 item 7: it used to roll back)
                           "ipv6": {"enabled": True, "dhcp": False, "autoconf": False, "address": [
                               {"ip": "fe80::23", "prefix-length": 64}, {"ip": "2001:db8:23::2", "prefix-length": 64}]}}]}
    start = time.monotonic()
    ok(runner.apply(lab_host, doc, module_args={"verify": {"gateway": False}}), changed=True)
    assert time.monotonic() - start < 60
    assert view.device_state("veth23").startswith("100") and view.device_state("veth23p").startswith("100")
    assert view.addresses("veth23p") == ["198.18.23.2/24"]
    assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0


def test_a_foreign_route_survives_an_unrelated_change_and_an_ipv6_route_leaves_its_old_table(
        lab, lab_host, runner, view, nm_version):
    # RC-08 (a routing daemon's route in table 8 survives an IPv6 change), RC-07's kind (a route moved to
    # another table leaves nothing in the old one)
    veth(view, "veth8")
    veth(view, "veth7")
    no_gw = {"verify": {"gateway": False}}
    eight = {"name": "veth8", "type": "ethernet", "state": "up",
             "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.8.6", "prefix-length": 24}]},
             "ipv6": {"enabled": True, "dhcp": False, "autoconf": False,
                      "address": [{"ip": "2001:db8:8::15", "prefix-length": 64}]}}
    seven = {"name": "veth7", "type": "ethernet", "state": "up", "ipv6": {
        "enabled": True, "dhcp": False, "autoconf": False, "address": [{"ip": "2001:db8:7::1", "prefix-length": 64}]}}
    route = {"destination": "2001:db8:70::/64", "next-hop-address": "2001:db8:7::fe", "next-hop-interface": "veth7"}
    own = {"destination": "198.19.100.0/24", "next-hop-address": "198.18.8.1", "next-hop-interface": "veth8",
           "table-id": 1000}
    ok(runner.apply(lab_host, {"interfaces": [eight, seven],
                               "routes": {"config": [dict(route, **{"table-id": 1000}), own]}},
                    module_args=no_gw), changed=True)
    view.run("ip", "route", "add", "198.19.64.0/18", "via", "198.18.8.66", "dev", "veth8", "proto", "bgp", "table", "8")
    result = ok(runner.apply(lab_host, {
        "interfaces": [dict(eight, ipv6={"enabled": False})],
        "routes": {"config": [{"next-hop-interface": "veth7", "table-id": 1000, "state": "absent"},
                              dict(route, **{"table-id": 2000})]}}, module_args=no_gw), changed=True)
    assert {op["disruption"] for op in result["plan"] if op["interface"] == "veth8"} == {"reapply"}
    assert [r["dst"] for r in view.routes("table", "8")] == ["198.19.64.0/18"]
    assert view.routes("table", "1000", family=6) == []
    assert [r["dst"] for r in view.routes("table", "2000", family=6)] == ["2001:db8:70::/64"]
    # a route of ip route in the main table (proto boot): from NetworkManager 1.52 a change of veth8's addresses
    # keeps it (Reapply with PRESERVE_EXTERNAL_IP), but an address of ip addr that the document's list drops
    # cannot go without it; on 1.42 every reapply removes it. Either is refused before anything changes,
    # naming the route, and allowed with allow_route_flush
    view.run("ip", "route", "add", "198.19.128.0/18", "via", "198.18.8.66", "dev", "veth8")
    grown = dict(eight, ipv4=dict(eight["ipv4"], address=eight["ipv4"]["address"] + [
        {"ip": "198.18.8.7", "prefix-length": 24}]))
    target, addresses = grown, ["198.18.8.6/24", "198.18.8.7/24"]
    if nm_version >= (1, 52):
        ok(runner.apply(lab_host, {"interfaces": [grown]}, module_args=no_gw), changed=True)
        assert [r["dst"] for r in view.routes("198.19.128.0/18")] == ["198.19.128.0/18"]
        view.run("ip", "address", "add", "198.18.8.99/24", "dev", "veth8")
        target, addresses = eight, ["198.18.8.6/24"]
    live = view.addresses("veth8")
    refused = runner.apply(lab_host, {"interfaces": [target]}, module_args=no_gw)
    assert refused["status"] == "failed" and refused["changed"] is False, refused
    assert [e["code"] for e in refused["validation_errors"]] == ["FOREIGN_ROUTES_FLUSHED"], refused
    assert "198.19.128.0/18 via 198.18.8.66 table 254 (proto boot)" in refused["msg"], refused["msg"]
    assert view.addresses("veth8") == live and view.routes("198.19.128.0/18")
    allowed = {"verify": {"gateway": False}, "allow_route_flush": True}
    ok(runner.apply(lab_host, {"interfaces": [target]}, module_args=allowed), changed=True)
    assert view.addresses("veth8") == addresses and view.routes("198.19.128.0/18") == []
    assert [r["dst"] for r in view.routes("table", "8")] == ["198.19.64.0/18"]
    # dropping veth8's own route from table 1000 needs a re-activation on NM < 1.52, which would flush the
    # bgp route: refused, naming it; allowed with allow_route_flush, the plan names the collateral
    absent_own = {"routes": {"config": [dict(own, state="absent")]}}
    if not nm_version >= (1, 52):
        refused = runner.apply(lab_host, absent_own, module_args=no_gw)
        assert [e["code"] for e in refused["validation_errors"]] == ["FOREIGN_ROUTES_FLUSHED"], refused
        assert "198.19.64.0/18 via 198.18.8.66 table 8 (proto bgp)" in refused["msg"], refused["msg"]
        assert [r["dst"] for r in view.routes("table", "1000")] == ["198.19.100.0/24"]
        result = ok(runner.apply(lab_host, absent_own, module_args=allowed), changed=True)
        assert ("activate", "reactivate") in [(op["op"], op["disruption"]) for op in result["plan"]]
        assert any("198.19.64.0/18 via 198.18.8.66 table 8 (proto bgp)" in w for w in result["warnings"]), \
            result["warnings"]


def test_rules_in_other_tables_for_both_families_and_one_added_outside_networkmanager(lab, lab_host, runner, view):
    # RC-09 (rules removed), RC-10 (IPv6 rules), issue 17 item 8 (a rule added with ip rule is seen: no second one)
    eth1 = static_eth1(lab, lab_host, v6=True)
    doc = {"interfaces": [eth1],
           "routes": {"config": [
               {"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1",
                "table-id": 2},
               {"destination": "2001:db8:10::/64", "next-hop-interface": "eth1", "table-id": 100}]},
           "route-rules": {"config": [
               {"ip-to": "198.19.90.1/32", "priority": 998, "route-table": 2},
               {"ip-to": "198.19.90.2/32", "priority": 999, "route-table": 254},
               {"ip-from": "2001:db8::/48", "priority": 100, "route-table": 100},
               {"ip-from": "2001:db8:10::/64", "iif": "eth1", "priority": 5, "route-table": 100}]}}
    ok(runner.apply(lab_host, doc), changed=True)
    rules, rules6 = view.run("ip", "rule", "show"), view.run("ip", "-6", "rule", "show")
    assert "998:\tfrom all to 198.19.90.1 lookup 2" in rules and "999:\tfrom all to 198.19.90.2 lookup main" in rules
    assert "100:\tfrom 2001:db8::/48 lookup 100" in rules6 and "5:\tfrom 2001:db8:10::/64 iif eth1 lookup 100" in rules6
    assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0
    view.run("ip", "rule", "add", "to", "198.19.91.0/24", "priority", "997", "table", "main")
    try:  # (the lab's reset leaves kernel rules alone)
        outside = {"route-rules": {"config": [{"ip-to": "198.19.91.0/24", "priority": 997, "route-table": 254}]}}
        result = ok(runner.apply(lab_host, outside), changed=False)
        assert any("outside NetworkManager" in w for w in result["warnings"]), result["warnings"]
        assert view.run("ip", "rule", "show").count("997:") == 1
        gone = {"route-rules": {"config": [{"priority": 998, "state": "absent"},
                                           {"priority": 999, "state": "absent"}]}}
        ok(runner.apply(lab_host, gone), changed=True)
        rules = view.run("ip", "rule", "show")
        assert "998:" not in rules and "999:" not in rules and "997:" in rules
    finally:
        view.run("ip", "rule", "del", "priority", "997")


def test_rules_go_by_omission_with_prune_and_a_kernel_rule_by_absent_also_after_a_rollback(
        lab, lab_host, runner, view):
    # RC-09: a rule the document no longer lists stays (nmstate), unless prune asks to remove what hostnet.nm
    # wrote; state: absent removes a rule NetworkManager does not hold too, and a rollback puts it back
    table2 = {"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1",
              "table-id": 2}
    doc = {"interfaces": [static_eth1(lab, lab_host)], "routes": {"config": [table2]},
           "route-rules": {"config": [{"ip-to": "198.19.90.1/32", "priority": 998, "route-table": 2},
                                      {"ip-to": "198.19.90.2/32", "priority": 999, "route-table": 254}]}}
    ok(runner.apply(lab_host, doc), changed=True)
    view.run("ip", "rule", "add", "to", "198.19.91.0/24", "priority", "997", "table", "main")
    omitted = {"interfaces": doc["interfaces"], "routes": doc["routes"]}
    assert ok(runner.apply(lab_host, omitted), changed=False)["writes"] == 0
    check = ok(runner.apply(lab_host, omitted, "--check", "--diff", module_args={"prune": True}), changed=True)
    assert "priority: 998" in check["diff"]["before"] and "priority: 999" in check["diff"]["before"]
    assert "998:" in view.run("ip", "rule", "show")
    ok(runner.apply(lab_host, omitted, module_args={"prune": True}), changed=True)
    rules = view.run("ip", "rule", "show")
    assert "998:" not in rules and "999:" not in rules and "997:" in rules  # the kernel's own rule is not ours
    assert [r["dst"] for r in view.routes("table", "2")] == ["default"]  # still listed: kept
    assert ok(runner.apply(lab_host, omitted, module_args={"prune": True}), changed=False)["writes"] == 0
    gone = {"route-rules": {"config": [{"priority": 997, "state": "absent"}]}}
    failed = runner.apply(lab_host, dict(gone, **{"dns-resolver": {"config": {"server": ["198.18.1.253"]}}}))
    assert failed["status"] == "failed" and failed["rolled_back"] is True, failed.get("msg")
    assert failed["restored"] is True, failed.get("differences")
    assert view.run("ip", "rule", "show").count("997:\tfrom all to 198.19.91.0/24 lookup main") == 1
    result = ok(runner.apply(lab_host, gone), changed=True)
    assert "priority: 997" in result["diff"]["before"] and "priority: 99" not in result["diff"]["after"]
    assert "997:" not in view.run("ip", "rule", "show")
    assert ok(runner.apply(lab_host, gone), changed=False)["writes"] == 0


def test_a_default_route_metric_with_the_connectivity_penalty_verifies(lab, lab_host, runner, view):
    # issue 17 item 6: NetworkManager adds 20000 to a default route's metric while its connectivity check fails
    conf = "/etc/NetworkManager/conf.d/95-hostnet-test-connectivity.conf"
    view.run("sh", "-c", "printf '[connectivity]\\nenabled=true\\nuri=http://198.18.1.1:9/\\ninterval=5\\n' > " + conf)
    lab.restart_nm(lab_host)
    try:
        gw = {"destination": "0.0.0.0/0", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1", "metric": 150}
        doc = {"interfaces": [static_eth1(lab, lab_host)], "routes": {"config": [gw]}}
        ok(runner.apply(lab_host, doc), changed=True)
        deadline = time.monotonic() + 60
        while [r.get("metric") for r in view.routes("default")] != [20150] and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [r.get("metric") for r in view.routes("default")] == [20150]  # the penalty is on
        assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0  # not taken for drift
        doc["interfaces"][0]["ipv4"]["address"].append({"ip": "198.18.1.200", "prefix-length": 24})
        result = ok(runner.apply(lab_host, doc), changed=True)  # verified with the penalty on
        assert not result["rolled_back"]
    finally:
        view.run("rm", "-f", conf)
        lab.restart_nm(lab_host)


def test_addr_gen_mode_set_outside_is_never_rewritten(lab, lab_host, runner, view):
    # RC-18: a profile made by nmcli with addr-gen-mode eui64 keeps it (and its EUI-64 link-local address)
    veth(view, "veth18", "02:00:00:00:18:01")
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "veth18", "con-name", "veth18",
             "ipv4.method", "disabled", "ipv6.method", "manual", "ipv6.addresses", "2001:db8:18::1/64",
             "ipv6.addr-gen-mode", "eui64")
    view.run("nmcli", "connection", "up", "veth18")
    eui64 = "fe80::ff:fe00:1801/64"

    def link_local():
        data = json.loads(view.run("ip", "-j", "-6", "addr", "show", "dev", "veth18", "scope", "link") or "[]")
        return ["%s/%d" % (a["local"], a["prefixlen"]) for d in data for a in d.get("addr_info", []) if "local" in a]

    assert link_local() == [eui64]
    doc = {"interfaces": [{"name": "veth18", "type": "ethernet", "state": "up", "ipv6": {
        "enabled": True, "dhcp": False, "autoconf": False,
        "address": [{"ip": "2001:db8:18::1", "prefix-length": 64}, {"ip": "2001:db8:18::2", "prefix-length": 64}]}}]}
    ok(runner.apply(lab_host, doc, module_args={"verify": {"gateway": False}}), changed=True)
    assert view.profile_fields("veth18", "ipv6.addr-gen-mode")["ipv6.addr-gen-mode"] == "eui64"
    assert link_local() == [eui64]
    assert ok(runner.apply(lab_host, doc), changed=False)["writes"] == 0


def test_route_attributes_ecmp_weights_and_rules_on_marks_and_actions(lab, lab_host, runner, view):
    # issue 15 item 8: route source/mtu/cwnd..., an ECMP route with weights, rules on fwmark, iif with an
    # action, suppress-prefix-length; a re-run writes nothing, the info fed back is a no-op, all removed again
    me = lab.data_ip(lab_host, 1)
    hops = [{"destination": "198.19.30.0/24", "next-hop-interface": "eth1", "next-hop-address": nh,
             "metric": 50, "weight": w} for nh, w in (("198.18.1.1", 1), ("198.18.1.254", 3))]
    tuned = {"destination": "198.19.31.0/24", "next-hop-interface": "eth1", "next-hop-address": "198.18.1.1",
             "source": me, "mtu": 1400, "cwnd": 10, "lock-cwnd": True, "initcwnd": 20, "initrwnd": 30}
    rules = [{"fwmark": "0x10", "fwmask": "0xff", "priority": 29990, "route-table": 254},
             {"ip-from": "198.19.32.0/24", "iif": "eth1", "priority": 29991, "action": "prohibit"},
             {"family": "ipv4", "priority": 29992, "route-table": 254, "suppress-prefix-length": 0}]
    doc = {"interfaces": [static_eth1(lab, lab_host)], "routes": {"config": hops + [tuned]},
           "route-rules": {"config": rules}}
    no_gw = {"verify": {"gateway": False}}
    ok(runner.apply(lab_host, doc, module_args=no_gw), changed=True)
    ecmp = view.run("ip", "route", "show", "198.19.30.0/24")
    assert "nexthop via 198.18.1.1 dev eth1 weight 1" in ecmp and "nexthop via 198.18.1.254 dev eth1 weight 3" in ecmp
    route = view.run("ip", "route", "show", "198.19.31.0/24")
    for word in ("src %s" % me, "mtu 1400", "cwnd lock 10", "initcwnd 20", "initrwnd 30"):
        assert word in route, route
    shown = view.run("ip", "rule", "show")
    assert "29990:\tfrom all fwmark 0x10/0xff lookup main" in shown, shown
    line = next(x for x in shown.splitlines() if x.startswith("29991:"))
    assert "from 198.19.32.0/24 iif eth1" in line and "prohibit" in line, line
    assert "29992:\tfrom all lookup main suppress_prefixlength 0" in shown, shown
    assert ok(runner.apply(lab_host, doc, module_args=no_gw), changed=False)["writes"] == 0
    state = runner.info(lab_host)
    assert ok(runner.apply(lab_host, state, module_args=no_gw), changed=False)["writes"] == 0
    gone = {"routes": {"config": [{"destination": d, "state": "absent"} for d in ("198.19.30.0/24", "198.19.31.0/24")]},
            "route-rules": {"config": [{"priority": p, "state": "absent"} for p in (29990, 29991, 29992)]}}
    ok(runner.apply(lab_host, gone, module_args=no_gw), changed=True)
    assert view.run("ip", "route", "show", "198.19.30.0/24").strip() == ""
    assert not any("%d:" % p in view.run("ip", "rule", "show") for p in (29990, 29991, 29992))


def test_ip_options_dhcp_table_metric_token_hostname_duid(lab, lab_host, runner, view, nm_version):
    # issue 15 item 8: nmstate's IP options on eth2 (DHCPv4 and RA from the lab's dnsmasq): the profile says what
    # the document names, the kernel has the lease's routes in the table with the metric and the SLAAC address
    # with the token, dnsmasq got the custom host name; check mode writes nothing, a re-run and the info fed back
    # write nothing, and options set back to NetworkManager's defaults are gone from the profile
    eth2 = {"name": "eth2", "type": "ethernet", "state": "up",
            "ipv4": {"enabled": True, "dhcp": True, "auto-route-table-id": 1000, "auto-route-metric": 150,
                     "dhcp-client-id": "01:02:00:00:00:be:ef", "dhcp-custom-hostname": "%s-custom.lab.test" % lab_host},
            "ipv6": {"enabled": True, "dhcp": True, "autoconf": True, "auto-route-table-id": 1000,
                     "auto-route-metric": 150, "token": "::0.0.250.193", "dhcp-duid": "stable-ll",
                     "dhcp-send-hostname": False, "auto-dns": False}}
    # without a rule, the lease's network (its DNS server too) is reachable through table 1000 only: the DNS probe
    # would fail and the change roll back (IPv6: fe80::/64 is in table 1000 too, so no DNS from the router's
    # advertisement, whose server may be its link-local address)
    rules = [{"ip-to": "198.18.2.0/24", "priority": 29980, "route-table": 1000},
             {"ip-to": "2001:db8:2::/64", "priority": 29981, "route-table": 1000}]
    doc = {"interfaces": [eth2], "route-rules": {"config": rules}}
    no_gw = {"verify": {"gateway": False}}  # the lease's default route is in table 1000, not main
    before = view.snapshot()
    check = ok(runner.apply(lab_host, doc, "--check", "--diff", module_args=no_gw), changed=True)
    assert check["writes"] == 0 and view.snapshot() == before
    assert "auto-route-table-id: 1000" in check["diff"]["after"] and "token: ::fac1" in check["diff"]["after"]
    ok(runner.apply(lab_host, doc, module_args=no_gw), changed=True)
    # NetworkManager 1.52 calls the D-Bus boolean dhcp-send-hostname "-deprecated" in nmcli (its ternary -v2 left at
    # default uses it, and NetworkManager keeps the two in step)
    send = "ipv6.dhcp-send-hostname" + ("-deprecated" if nm_version >= (1, 52) else "")
    fields = view.profile_fields("eth2", "ipv4.route-table", "ipv4.route-metric", "ipv4.dhcp-client-id",
                                 "ipv4.dhcp-fqdn", "ipv4.dhcp-hostname", "ipv6.route-table", "ipv6.route-metric",
                                 "ipv6.addr-gen-mode", "ipv6.token", "ipv6.dhcp-duid", send)
    fields["ipv6.dhcp-send-hostname"] = fields.pop(send)
    assert fields == {"ipv4.route-table": "1000", "ipv4.route-metric": "150",
                      "ipv4.dhcp-client-id": "01:02:00:00:00:be:ef", "ipv4.dhcp-fqdn": "%s-custom.lab.test" % lab_host,
                      "ipv4.dhcp-hostname": "", "ipv6.route-table": "1000", "ipv6.route-metric": "150",
                      "ipv6.addr-gen-mode": "eui64", "ipv6.token": "::fac1", "ipv6.dhcp-duid": "stable-ll",
                      "ipv6.dhcp-send-hostname": "no"}, fields

    def kernel():
        v4 = view.run("ip", "-4", "route", "show", "table", "1000", "dev", "eth2")
        v6 = view.run("ip", "-6", "route", "show", "table", "1000", "dev", "eth2")
        return ("default via 198.18.2.1" in v4 and "metric 150" in v4 and "2001:db8:2::/64" in v6
                and "2001:db8:2::fac1/64" in view.addresses("eth2", 6))

    deadline = time.monotonic() + 60
    while not kernel() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kernel(), (view.run("ip", "route", "show", "table", "all", "dev", "eth2"), view.addresses("eth2", 6))
    assert "2001:db8:2::/64 dev eth2 proto ra metric 150" in view.run("ip", "-6", "route", "show", "table", "1000")
    assert view.run("ip", "token", "get", "dev", "eth2").split()[1] == "::fac1"
    assert "29980:\tfrom all to 198.18.2.0/24 lookup 1000" in view.run("ip", "rule", "show")
    assert "%s-custom" % lab_host in lab.log_path("sw", "dnsmasq").read_text().split("DHCPACK(br-data2)")[-1]
    assert ok(runner.apply(lab_host, doc, module_args=no_gw), changed=False)["writes"] == 0
    state = runner.info(lab_host)
    got = next(i for i in state["interfaces"] if i["name"] == "eth2")
    assert {k: got["ipv6"].get(k) for k in ("token", "addr-gen-mode", "dhcp-duid", "dhcp-send-hostname")} == {
        "token": "::fac1", "addr-gen-mode": "eui64", "dhcp-duid": "stable-ll", "dhcp-send-hostname": False}
    assert got["ipv4"]["dhcp-client-id"] == "01:02:00:00:00:be:ef" and got["ipv4"]["auto-route-metric"] == 150
    assert ok(runner.apply(lab_host, state, module_args=no_gw), changed=False)["writes"] == 0
    defaults = {"name": "eth2", "ipv4": {"auto-route-table-id": 0, "dhcp-custom-hostname": ""},
                "ipv6": {"token": "", "addr-gen-mode": "default", "dhcp-send-hostname": True, "auto-route-table-id": 0}}
    gone = {"interfaces": [defaults], "route-rules": {"config": [dict(r, state="absent") for r in rules]}}
    ok(runner.apply(lab_host, gone, module_args=no_gw), changed=True)
    fields = view.profile_fields("eth2", "ipv4.route-table", "ipv4.dhcp-fqdn", "ipv4.route-metric", "ipv6.token",
                                 "ipv6.addr-gen-mode", send, "ipv6.route-table")
    fields["ipv6.dhcp-send-hostname"] = fields.pop(send)
    assert fields == {"ipv4.route-table": "0", "ipv4.dhcp-fqdn": "", "ipv4.route-metric": "150", "ipv6.token": "",
                      "ipv6.addr-gen-mode": "default", "ipv6.dhcp-send-hostname": "yes", "ipv6.route-table": "0"}, fields
    assert ok(runner.apply(lab_host, {"interfaces": [defaults]}, module_args=no_gw), changed=False)["writes"] == 0
