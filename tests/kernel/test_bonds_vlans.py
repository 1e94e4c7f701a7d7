"""Bonds, VLANs and bridges over them, applied with hostnet.nm.network_state over
SSH to a user-mode-linux guest with a real kernel and a real NetworkManager
(issue: bonds/VLANs, and the needs-bond/vlan cases BC-01, BC-43, BC-44, BC-45,
BC-47, BC-48). Guest lab: eth1..eth4 on a switch bridge with 198.18.1.254/24 and
VLANs 100/200 answering on 198.18.100.254 / 198.18.200.254."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("leave_the_guest_clean")]


def apply(runner, doc, *args, **kw):
    return runner.apply(runner.lab.name, doc, *args, **kw)  # the guest's name ($HOSTNET_KERNEL_GUEST)


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result.get("plan")
    return result


def sh(guest, cmd):
    return guest.ssh(cmd, check=True).stdout


def link(guest, dev):
    data = json.loads(sh(guest, ["ip", "-j", "-d", "address", "show", "dev", dev]) or "[]")
    return data[0] if data else {}


def v4(guest, dev):
    return sorted("%s/%d" % (a["local"], a["prefixlen"]) for a in link(guest, dev).get("addr_info", [])
                  if a["family"] == "inet")


def profiles(guest):
    """NM profiles, without the external one NM keeps for lo."""
    return [line for line in sh(guest, "nmcli -t -f NAME,TYPE connection show").splitlines()
            if line and not line.endswith(":loopback")]


def ping(guest, addr, seconds=15):
    script = ("end=$(( $(cut -d. -f1 /proc/uptime) + %d )); until ping -c 1 -W 1 %s >/dev/null 2>&1; do "
              "[ $(cut -d. -f1 /proc/uptime) -ge $end ] && exit 1; sleep 0.3; done" % (seconds, addr))
    return guest.ssh(script).returncode == 0


def bond(mode="active-backup", options=None, ports=("eth1", "eth2"), **extra):
    iface = {"name": "bond0", "type": "bond", "state": "up",
             "link-aggregation": {"mode": mode, "options": options or {"miimon": 100}, "port": list(ports)},
             "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.10", "prefix-length": 24}]}}
    iface.update(extra)
    return iface


PORTS = [{"name": "eth1", "type": "ethernet", "state": "up"}, {"name": "eth2", "type": "ethernet", "state": "up"}]


@pytest.mark.nm_versions  # on 1.52 too: bond modes and options as NetworkManager reads them back, a live change
def test_active_backup_bond_then_802_3ad_with_options(guest, runner):
    doc = {"interfaces": [bond()] + PORTS}
    first = ok(apply(runner, doc), changed=True)
    assert first["confirmed"] is True
    assert link(guest, "eth1").get("master") == "bond0" and link(guest, "eth2").get("master") == "bond0"
    assert sh(guest, "cat /sys/class/net/bond0/bonding/mode").split()[0] == "active-backup"
    assert v4(guest, "bond0") == ["198.18.1.10/24"] and ping(guest, "198.18.1.254")
    again = ok(apply(runner, doc), changed=False)  # BC-01: no mtu key, no perpetual change
    assert again["writes"] == 0
    guest.set_partner("lacp")
    lacp = {"interfaces": [bond("802.3ad", {"miimon": 100, "lacp_rate": "fast", "xmit_hash_policy": "layer3+4"})]}
    ok(apply(runner, lacp), changed=True)
    assert sh(guest, "cat /sys/class/net/bond0/bonding/mode").split()[0] == "802.3ad"
    assert sh(guest, "cat /sys/class/net/bond0/bonding/lacp_rate").split()[0] == "fast"
    assert ping(guest, "198.18.1.254", 30)
    # numbers as the kernel reports them compare equal to names: still a no-op
    ok(apply(runner, {"interfaces": [bond("802.3ad", {"miimon": "100", "lacp_rate": 1,
                                                      "xmit_hash_policy": "layer3+4"})]}), changed=False)
    live = ok(apply(runner, {"interfaces": [{"name": "bond0", "link-aggregation": {"options": {"miimon": 200}}}]}),
              changed=True)
    assert sh(guest, "cat /sys/class/net/bond0/bonding/miimon").strip() == "200"
    assert v4(guest, "bond0") == ["198.18.1.10/24"]  # the bond kept its address
    assert [op["op"] for op in live["plan"]] in (["update", "reapply"], ["update", "activate"])


@pytest.mark.nm_versions  # on 1.52 too: VLANs over a bond, their MTUs
def test_vlans_on_the_bond_with_mtu(guest, runner):
    vlans = [{"name": "bond0.%d" % vid, "type": "vlan", "state": "up", "mtu": 1500,
              "vlan": {"base-iface": "bond0", "id": vid},
              "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.%d.10" % vid, "prefix-length": 24}]}}
             for vid in (100, 200)]
    doc = {"interfaces": [bond(mtu=9000)] + PORTS + vlans}
    ok(apply(runner, doc), changed=True)
    assert link(guest, "bond0")["mtu"] == 9000 and link(guest, "bond0.100")["mtu"] == 1500
    assert link(guest, "bond0.200")["linkinfo"]["info_data"]["id"] == 200
    assert v4(guest, "bond0.100") == ["198.18.100.10/24"] and ping(guest, "198.18.100.254")
    assert ping(guest, "198.18.200.254")
    ok(apply(runner, doc), changed=False)
    # a VLAN MTU above its bond's is refused before any change (BC-43 negative)
    before = profiles(guest)
    bad = {"interfaces": [bond(mtu=1500), dict(vlans[0], mtu=9000)]}
    result = apply(runner, bad)
    assert result["status"] == "failed"
    assert "VLAN_MTU_ABOVE_BASE" in [e["code"] for e in result["validation_errors"]]
    assert profiles(guest) == before and link(guest, "bond0")["mtu"] == 9000


def test_jumbo_frames_across_the_stack(guest, runner):
    # BC-43: 9000 on eth1, eth2, bond0 and bond0.100
    doc = {"interfaces": [
        {"name": "bond0", "type": "bond", "state": "up", "mtu": 9000,
         "link-aggregation": {"mode": "active-backup", "options": {"miimon": 100}, "port": ["eth1", "eth2"]}},
        {"name": "eth1", "type": "ethernet", "state": "up", "mtu": 9000},
        {"name": "eth2", "type": "ethernet", "state": "up", "mtu": 9000},
        {"name": "bond0.100", "type": "vlan", "state": "up", "mtu": 9000, "vlan": {"base-iface": "bond0", "id": 100},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.43.51", "prefix-length": 24}]}}]}
    ok(apply(runner, doc), changed=True)
    assert [link(guest, d)["mtu"] for d in ("eth1", "eth2", "bond0", "bond0.100")] == [9000] * 4
    ok(apply(runner, doc), changed=False)


@pytest.mark.nm_versions  # on 1.52 too: the info round trip of a bond/VLAN/bridge stack, and its removal
def test_classic_stack_then_absent_leaves_nothing(guest, runner):
    # nmstate's bond + bridge + VLAN + bridge example, in one document
    stack = {"interfaces": [
        {"name": "vlan29", "type": "vlan", "state": "up", "vlan": {"base-iface": "bond0", "id": 29}},
        {"name": "br29", "type": "linux-bridge", "state": "up", "bridge": {"port": [{"name": "vlan29"}]}},
        {"name": "br0", "type": "linux-bridge", "state": "up", "bridge": {"port": [{"name": "bond0"}]},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.20", "prefix-length": 24}]}},
        {"name": "bond0", "type": "bond", "state": "up",
         "link-aggregation": {"mode": "active-backup", "port": ["eth1", "eth2"]}}] + PORTS}
    ok(apply(runner, stack), changed=True)
    assert link(guest, "bond0").get("master") == "br0" and link(guest, "vlan29").get("master") == "br29"
    assert ping(guest, "198.18.1.254", 45)  # STP is on (NM's default): listening + learning take 2 x 15 s
    ok(apply(runner, stack), changed=False)
    state = runner.info(guest.name)
    assert ok(apply(runner, state), changed=False)["writes"] == 0  # info round trip
    gone = {"interfaces": [{"name": n, "state": "absent"} for n in ("br29", "vlan29", "br0", "bond0", "eth1", "eth2")]}
    ok(apply(runner, gone), changed=True)
    assert profiles(guest) == []
    links = sh(guest, "ip -o link show").split()
    assert not any(n.rstrip(":").split("@")[0] in ("bond0", "br0", "br29", "vlan29") for n in links)


def test_reverse_order_document_with_vlans_under_a_bridge(guest, runner):
    # BC-44: dependencies, not list order
    doc = {"interfaces": [
        {"name": "vmbr0", "type": "linux-bridge", "state": "up",
         "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "bond0.20"}]}},
        {"name": "bond0.10", "type": "vlan", "state": "up", "vlan": {"base-iface": "bond0", "id": 10},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.44.10", "prefix-length": 24}]}},
        {"name": "bond0.20", "type": "vlan", "state": "up", "vlan": {"base-iface": "bond0", "id": 20}},
        {"name": "bond0", "type": "bond", "state": "up",
         "link-aggregation": {"mode": "active-backup", "options": {"miimon": 100}, "port": ["eth1", "eth2"]}}]}
    result = ok(apply(runner, doc), changed=True)
    assert "failed" not in json.dumps(result.get("warnings", []))
    assert link(guest, "bond0.20").get("master") == "vmbr0"
    assert v4(guest, "bond0.10") == ["198.18.44.10/24"]
    ok(apply(runner, doc), changed=False)


def test_nic_with_an_address_becomes_a_bond_port(guest, runner):
    # BC-45
    ok(apply(runner, {"interfaces": [{"name": "eth2", "type": "ethernet", "state": "up", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": "198.18.45.9", "prefix-length": 24}]}}]}), changed=True)
    assert v4(guest, "eth2") == ["198.18.45.9/24"]
    doc = {"interfaces": [
        {"name": "bond0", "type": "bond", "state": "up",
         "link-aggregation": {"mode": "active-backup", "options": {"miimon": 100}, "port": ["eth2"]},
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.45.1", "prefix-length": 24}]}},
        {"name": "eth2", "type": "ethernet", "state": "up"}]}
    ok(apply(runner, doc), changed=True)
    assert link(guest, "eth2").get("master") == "bond0"
    assert v4(guest, "eth2") == [] and v4(guest, "bond0") == ["198.18.45.1/24"]
    ok(apply(runner, doc), changed=False)


@pytest.mark.nm_versions  # on 1.52 too: a bond option set outside the document
def test_option_only_the_kernel_knows_does_not_block(guest, runner):
    # BC-47: an option set outside (not in the document) is kept, and the apply succeeds
    sh(guest, "nmcli connection add type bond ifname bond0 con-name bond0 bond.options "
              "mode=active-backup,miimon=100,updelay=200 ipv4.method disabled ipv6.method disabled")
    ok(apply(runner, {"interfaces": [bond()] + PORTS}), changed=True)
    assert sh(guest, "cat /sys/class/net/bond0/bonding/updelay").strip() == "200"
    ok(apply(runner, {"interfaces": [bond()] + PORTS}), changed=False)


def test_bridge_with_a_vlan_on_top_keeps_vlan_filtering_off(guest, runner):
    # BC-48
    doc = {"interfaces": [
        {"name": "br-user", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
         "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "eth1"}]}},
        {"name": "br-user.1193", "type": "vlan", "state": "up", "vlan": {"base-iface": "br-user", "id": 1193}},
        {"name": "br-user-1193", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
         "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": "br-user.1193"}]}}]}
    ok(apply(runner, doc), changed=True)
    assert sh(guest, "cat /sys/class/net/br-user/bridge/vlan_filtering").strip() == "0"
    ok(apply(runner, doc), changed=False)
    assert sh(guest, "cat /sys/class/net/br-user/bridge/vlan_filtering").strip() == "0"


def test_check_mode_and_diff_for_a_bond(guest, runner):
    before = profiles(guest)
    result = ok(apply(runner, {"interfaces": [bond()] + PORTS}, "--check", "--diff"), changed=True)
    assert result["writes"] == 0 and profiles(guest) == before
    assert "bond0" in result["diff"]["after"] and "active-backup" in result["diff"]["after"]


def test_bridge_port_access_vlan_is_live_at_once(guest, runner):
    # BC-42: right after apply, the port carries only VLAN 867 as PVID/untagged
    doc = {"interfaces": [
        {"name": "br42", "type": "linux-bridge", "state": "up", "ipv4": {"enabled": False},
         "bridge": {"options": {"stp": {"enabled": False}},
                    "port": [{"name": "eth1", "vlan": {"mode": "access", "tag": 867}}]}},
        {"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {"enabled": False}}]}
    ok(apply(runner, doc), changed=True)
    vlans = json.loads(sh(guest, "bridge -j vlan show dev eth1"))
    entries = [v for port in vlans for v in port["vlans"]]
    assert [(v["vlan"], sorted(v.get("flags", []))) for v in entries] == [(867, ["Egress Untagged", "PVID"])]
    assert sh(guest, "cat /sys/class/net/br42/bridge/vlan_filtering").strip() == "1"
    ok(apply(runner, doc), changed=False)


def test_port_removed_from_a_bond_is_released(guest, runner):
    ok(apply(runner, {"interfaces": [bond()] + PORTS}), changed=True)
    ok(apply(runner, {"interfaces": [bond(ports=("eth1",)),
                                     {"name": "eth2", "type": "ethernet", "state": "up", "ipv4": {
                                         "enabled": True, "dhcp": False,
                                         "address": [{"ip": "198.18.2.12", "prefix-length": 24}]}}]}), changed=True)
    assert link(guest, "eth1").get("master") == "bond0" and "master" not in link(guest, "eth2")
    assert v4(guest, "eth2") == ["198.18.2.12/24"] and v4(guest, "bond0") == ["198.18.1.10/24"]


@pytest.mark.nm_versions  # on 1.52 too: NetworkManager's check of bond options
def test_bond_moves_between_arp_and_mii_monitoring_in_both_directions(guest, runner):
    # issue 17 item 5: the plan drops the options the new link monitor excludes; NetworkManager refused the
    # profile that kept arp_ip_target next to miimon, and only deleting the bond helped
    arp = {"arp_interval": 1000, "arp_ip_target": "198.18.1.254", "arp_validate": "none"}
    ok(apply(runner, {"interfaces": [bond(options=arp)] + PORTS}), changed=True)
    assert sh(guest, "cat /sys/class/net/bond0/bonding/arp_interval").strip() == "1000"
    mii = {"interfaces": [{"name": "bond0", "type": "bond", "link-aggregation": {"options": {"miimon": 100}}}]}
    ok(apply(runner, mii), changed=True)
    assert sh(guest, "cat /sys/class/net/bond0/bonding/miimon").strip() == "100"
    assert sh(guest, "cat /sys/class/net/bond0/bonding/arp_interval").strip() == "0"
    assert sh(guest, "cat /sys/class/net/bond0/bonding/arp_ip_target").strip() == ""
    assert "arp" not in sh(guest, "nmcli -g bond.options connection show bond0")
    assert ok(apply(runner, mii), changed=False)["writes"] == 0
    back = {"interfaces": [{"name": "bond0", "type": "bond", "link-aggregation": {"options": arp}}]}
    ok(apply(runner, back), changed=True)
    assert sh(guest, "cat /sys/class/net/bond0/bonding/arp_interval").strip() == "1000"
    assert sh(guest, "cat /sys/class/net/bond0/bonding/miimon").strip() == "0"
    assert v4(guest, "bond0") == ["198.18.1.10/24"] and ping(guest, "198.18.1.254")
