"""Ownership of profiles on the lab's real NetworkManager (issue 18; issue 17
item 2; CASES-2 RC-24, RC-25): the mark, prune, profiles of others on
managed interfaces, absent that stays absent, all across a NetworkManager
restart."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.lab

KEYFILES = "/etc/NetworkManager/system-connections"


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result
    return result


def bridge(name, ip):
    return {"name": name, "type": "linux-bridge", "state": "up", "bridge": {"options": {"stp": {"enabled": False}},
                                                                            "port": []},
            "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": ip, "prefix-length": 24}]}}


def static(name, ip):
    return {"name": name, "type": "ethernet", "state": "up",
            "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": ip, "prefix-length": 24}]}}


def keyfile(view, uuid):
    """The keyfile text of the profile ``uuid`` (from any keyfile directory)."""
    return view.run("sh", "-c", "grep -l -r -x 'uuid=%s' %s /run/NetworkManager/system-connections | head -1 | "
                    "while read -r f; do cat \"$f\"; done" % (uuid, KEYFILES))


def write_keyfile(lab, host, name, text):
    lab.run(host, "sh", "-c", "umask 077 && cat > %s/%s.nmconnection" % (KEYFILES, name), input=text)
    lab.nmcli(host, "connection", "reload")


def by_name(view, name):
    return [p for p in view.profiles() if p["name"] == name]


def wait_for(what, check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.3)


def active_profile(view, dev):
    """The uuid of the profile active on ``dev`` once NM has settled it ("" when none)."""
    def settled():
        state = view.device_state(dev)
        return state if not state.startswith(("40", "50", "60", "70", "80", "90")) else ""
    wait_for("%s to settle" % dev, settled)
    out = view.run("nmcli", "-t", "-f", "GENERAL.CONNECTION", "device", "show", dev).strip().split(":", 1)[1]
    return {p["name"]: p["uuid"] for p in view.profiles()}.get(out, "")


def test_prune_removes_exactly_the_dropped_bridge(lab, lab_host, runner, view):
    # issue 18: two bridges applied, one dropped from the document; a profile made with nmcli survives
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "office eth1",
             "ipv4.method", "manual", "ipv4.addresses", lab.data_ip(lab_host, 1) + "/24")
    foreign = by_name(view, "office eth1")[0]["uuid"]
    foreign_text = keyfile(view, foreign)
    both = {"interfaces": [bridge("hnbr1", "198.18.61.1"), bridge("hnbr2", "198.18.62.1")]}
    ok(runner.apply(lab_host, both), changed=True)
    info = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": [
        {"name": "info", "hostnet.nm.network_state_info": {}}]}]).task("info", lab_host)
    owners = {p["id"]: (p["owner"], p["origin"]) for p in info["profiles"]}
    assert owners["hnbr1"] == owners["hnbr2"] == ("ours", "hostnet.nm")
    assert owners["office eth1"] == ("foreign", "user")
    before = {p["uuid"]: p for p in view.profiles()}
    one = {"interfaces": [bridge("hnbr1", "198.18.61.1")]}
    snap = view.snapshot()
    check = ok(runner.apply(lab_host, one, "--check", "--diff", module_args={"prune": True}), changed=True)
    assert [(p["op"], p["interface"]) for p in check["plan"]] == [("delete", "hnbr2")]
    assert [p["id"] for p in check["profiles"]["pruned"]] == ["hnbr2"]
    assert "hnbr2" in check["diff"]["after"] and "absent" in check["diff"]["after"]
    assert view.snapshot() == snap  # check mode changed nothing
    ok(runner.apply(lab_host, one), changed=False)  # without prune, nothing is removed
    pruned = ok(runner.apply(lab_host, one, module_args={"prune": True}), changed=True)
    assert "office eth1" in [p["id"] for p in pruned["profiles"]["foreign_kept"]]
    after = {p["uuid"]: p for p in view.profiles()}
    assert sorted(p["name"] for u, p in before.items() if u not in after) == ["hnbr2"]
    assert set(after) <= set(before)
    assert "hnbr2" not in view.links() and "hnbr1" in view.links()
    assert keyfile(view, foreign) == foreign_text  # byte-identical
    again = ok(runner.apply(lab_host, one, module_args={"prune": True}), changed=False)
    assert again["writes"] == 0
    lab.restart_nm(lab_host)
    wait_for("hnbr1 up again", lambda: active_profile(view, "hnbr1"))
    assert "hnbr2" not in view.links() and set(p["uuid"] for p in view.profiles()) == set(after)
    assert keyfile(view, foreign) == foreign_text
    ok(runner.apply(lab_host, one, module_args={"prune": True}), changed=False)


def test_profiles_of_others_on_a_managed_nic_are_blocked_and_ours_wins_every_start(lab, lab_host, runner, view):
    # RC-24 / issue 18 item 3: the active "Wired connection 1" is taken over (marked ours); a second DHCP profile
    # with a higher priority and a boot-time (nm-initrd-generator) profile bound by MAC could both take eth2:
    # they are kept, blocked on eth2, and the document's profile is the one NM activates after every start
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth2", "con-name", "Wired connection 1",
             "ipv4.method", "auto")
    wait_for("DHCP on eth2", lambda: view.addresses("eth2"))
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth2", "con-name", "backup eth2",
             "ipv4.method", "auto", "connection.autoconnect-priority", "50")
    taken = by_name(view, "Wired connection 1")[0]["uuid"]
    mac = view.link("eth2")["address"]
    write_keyfile(lab, lab_host, "initrd-eth2", "[connection]\nid=eth2 (initrd)\nuuid=5f0e3c1a-6c1d-4e57-9a38-"
                  "24a4c0ffee24\ntype=ethernet\nautoconnect-priority=100\n\n[ethernet]\nmac-address=%s\n\n[ipv4]\n"
                  "method=auto\n\n[user]\norg.freedesktop.NetworkManager.origin=nm-initrd-generator\n" % mac)
    doc = {"interfaces": [static("eth2", lab.data_ip(lab_host, 2))]}
    # the DHCP default route goes on purpose: say so, or the gateway probe rolls it back
    first = ok(runner.apply(lab_host, doc, module_args={"verify": {"gateway": False}}), changed=True)
    blocked = {p["id"]: p["origin"] for p in first["profiles"]["blocked"]}
    assert blocked == {"backup eth2": "user", "eth2 (initrd)": "initrd"}
    assert view.profile_fields("backup eth2", "connection.autoconnect")["connection.autoconnect"] == "no"
    assert "!eth2" in view.profile_fields("eth2 (initrd)", "match.interface-name")["match.interface-name"]
    assert "org.hostnet.nm.owner=hostnet.nm" in keyfile(view, taken)
    ours = active_profile(view, "eth2")
    assert ours == taken
    ok(runner.apply(lab_host, doc), changed=False)
    lab.restart_nm(lab_host)
    assert active_profile(view, "eth2") == ours
    view.run("nmcli", "networking", "off")
    wait_for("eth2 down", lambda: view.device_state("eth2").startswith(("10", "20", "30")))
    view.run("nmcli", "networking", "on")
    wait_for("eth2 up with the document's profile", lambda: active_profile(view, "eth2") == ours)
    assert view.addresses("eth2") == [lab.data_ip(lab_host, 2) + "/24"]
    ok(runner.apply(lab_host, doc), changed=False)


def test_absent_stays_absent(lab, lab_host, runner, view):
    # issue 17 item 2: after state: absent no profile can take the NIC, also after NetworkManager restarts
    ok(runner.apply(lab_host, {"interfaces": [static("eth2", lab.data_ip(lab_host, 2))]}), changed=True)
    mac = view.link("eth2")["address"]
    write_keyfile(lab, lab_host, "by-mac", "[connection]\nid=dhcp by mac\nuuid=0c4d2e55-1b7e-4a0b-8c2f-"
                  "3d1e5a6b7c8d\ntype=ethernet\n\n[ethernet]\nmac-address=%s\n\n[ipv4]\nmethod=auto\n" % mac)
    absent = {"interfaces": [{"name": "eth2", "state": "absent"}]}
    gone = ok(runner.apply(lab_host, absent), changed=True)
    assert [p["id"] for p in gone["profiles"]["blocked"]] == ["dhcp by mac"]
    assert [p["origin"] for p in gone["profiles"]["deleted"]] == ["hostnet.nm"]
    assert active_profile(view, "eth2") == "" and view.addresses("eth2") == []
    lab.restart_nm(lab_host)
    assert active_profile(view, "eth2") == "" and view.addresses("eth2") == []
    assert by_name(view, "dhcp by mac")  # reported and blocked, not deleted
    ok(runner.apply(lab_host, absent), changed=False)


def test_duplicate_ids_only_the_named_interfaces_profile_changes(lab, lab_host, runner, view):
    # RC-25: two profiles named "Ethernet connection 1", one per NIC; addressed by UUID, never by id
    for dev in ("eth1", "eth2"):
        view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", dev, "con-name", "Ethernet connection 1",
                 "ipv4.method", "manual", "ipv4.addresses", lab.data_ip(lab_host, int(dev[-1])) + "/24")
    uuids = {p["device"]: p["uuid"] for p in by_name(view, "Ethernet connection 1")}
    eth1_text = keyfile(view, uuids["eth1"])
    ok(runner.apply(lab_host, {"interfaces": [static("eth2", "198.18.2.222")]}), changed=True)
    assert keyfile(view, uuids["eth1"]) == eth1_text
    assert {p["device"]: p["uuid"] for p in by_name(view, "Ethernet connection 1")} == uuids
    assert "org.hostnet.nm.owner=hostnet.nm" in keyfile(view, uuids["eth2"])
    assert view.addresses("eth2") == ["198.18.2.222/24"] and view.addresses("eth1") == [lab.data_ip(lab_host, 1)
                                                                                        + "/24"]


def test_a_rolled_back_prune_and_block_leave_every_profile_as_it_was(lab, lab_host, runner, view):
    # NM's checkpoint restores the profiles of its devices; an inactive profile we pruned or blocked must
    # come back as it was too when the change rolls back (here: a name server that does not answer)
    ok(runner.apply(lab_host, {"interfaces": [bridge("hnbr1", "198.18.61.1"), bridge("hnbr2", "198.18.62.1")]}),
       changed=True)
    ok(runner.apply(lab_host, {"interfaces": [{"name": "hnbr2", "state": "down"}]}), changed=True)
    view.run("nmcli", "connection", "add", "type", "bridge", "ifname", "hnbr1", "con-name", "spare hnbr1",
             "ipv4.method", "auto")
    texts = {p["uuid"]: keyfile(view, p["uuid"]) for p in view.profiles()}
    bad = {"interfaces": [bridge("hnbr1", "198.18.61.1")], "dns-resolver": {"config": {"server": ["198.18.1.253"]}}}
    failed = runner.apply(lab_host, bad, module_args={"prune": True})
    assert failed["status"] == "failed" and failed["rolled_back"] is True, failed
    assert [p["id"] for p in failed["profiles"]["pruned"]] == ["hnbr2"], failed.get("msg")
    assert [p["id"] for p in failed["profiles"]["blocked"]] == ["spare hnbr1"]
    now = {p["uuid"]: keyfile(view, p["uuid"]) for p in view.profiles()}
    assert sorted(now) == sorted(texts)
    for uuid, text in texts.items():  # NM's own bookkeeping (when it was last used) aside
        assert [ln for ln in now[uuid].splitlines() if not ln.startswith("timestamp=")] == \
            [ln for ln in text.splitlines() if not ln.startswith("timestamp=")], uuid
