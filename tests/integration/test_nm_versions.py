"""Behaviour that differs between NetworkManager versions, on the lab's version
(``HNLAB_NM=1.42`` by default, ``1.52`` and ``1.58`` in the nm_versions subset of
scripts/test.sh): each test says which versions behave how and asserts the right
value there (CASES-2.md RC-01, RC-06, RC-17, RC-27 and Update2's version-id)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.nm_versions]

COLLECTIONS = Path(__file__).resolve().parents[2] / "build" / "collections"
NM = ("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager")


def ok(result, changed=None):
    assert result["status"] == "ok", result.get("msg", result)
    if changed is not None:
        assert result["changed"] is changed, result
    return result


def eth1(lab, host, address=None, v6=False):
    iface = {"name": "eth1", "type": "ethernet", "state": "up",
             "ipv4": {"enabled": True, "dhcp": False,
                      "address": [{"ip": address or lab.data_ip(host, 1), "prefix-length": 24}]}}
    if v6:
        iface["ipv6"] = {"enabled": True, "dhcp": False, "autoconf": False,
                         "address": [{"ip": lab.data_ip6(host, 1), "prefix-length": 64}]}
    return iface


def wait_for(predicate, timeout=20.0):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_the_lab_runs_the_version_asked_for(lab, nm_version):
    assert "%d.%d" % nm_version[:2] == lab.nm
    for host in lab.hosts():
        assert lab.nm_version(host) == nm_version


def test_route_removed_from_another_table_leaves_the_kernel_table_empty(lab, lab_host, runner, view, nm_version):
    # RC-06: NM >= 1.52 (route-table sync capability) drops it on Reapply, without a link flap;
    # 1.42 keeps it on Reapply, so the interface is re-activated
    route = {"destination": "198.19.60.0/24", "next-hop-address": "198.18.1.254", "next-hop-interface": "eth1",
             "table-id": 100}
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)], "routes": {"config": [route]}}), changed=True)
    assert view.routes("table", "100")[0]["dst"] == "198.19.60.0/24"
    active = view.active_path("eth1")
    gone = dict(route, state="absent")
    del gone["next-hop-address"]
    result = ok(runner.apply(lab_host, {"routes": {"config": [gone]}}), changed=True)
    live = [(op["op"], op["disruption"]) for op in result["plan"] if op["op"] in ("activate", "reapply")]
    if nm_version >= (1, 52):
        assert live == [("reapply", "reapply")]
        assert view.active_path("eth1") == active  # no link flap
    else:
        assert live == [("activate", "reactivate")]
        assert view.active_path("eth1") != active
    assert view.routes("table", "100") == []
    ok(runner.apply(lab_host, {"routes": {"config": [gone]}}), changed=False)


def _global_dns(lab, host):
    return lab.busctl(host, "get-property", *NM, "GlobalDnsConfiguration").strip()


def test_global_dns_set_inside_a_checkpoint_is_rolled_back(lab, lab_host, runner, view, nm_version):
    # RC-01: NM >= 1.48 covers D-Bus global DNS with checkpoint flag 0x20; on 1.42 hostnet.nm
    # restores GlobalDnsConfiguration itself: the same outcome on every version
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)],
                               "dns-resolver": {"config": {"server": ["198.18.1.1"], "search": ["lab.test"]}}}))
    before, resolv = _global_dns(lab, lab_host), view.resolv_conf()
    assert before == "a{sv} 0"
    play = [{"hosts": lab_host, "gather_facts": False,
             "tasks": [{"name": "cp", "hostnet.nm.checkpoint": {"state": "create", "rollback_timeout": 120}}]}]
    assert runner.play(play).task("cp")["status"] == "ok"
    lab.busctl(lab_host, "set-property", *NM, "GlobalDnsConfiguration", "a{sv}", "2",
               "searches", "as", "1", "other.test",
               "domains", "a{sv}", "1", "*", "a{sv}", "1", "servers", "as", "1", "198.18.1.253")
    assert "198.18.1.253" in _global_dns(lab, lab_host)
    assert wait_for(lambda: "198.18.1.253" in view.resolv_conf())
    play[0]["tasks"] = [{"name": "rb", "hostnet.nm.checkpoint": {"state": "rollback"}}]
    assert runner.play(play).task("rb")["status"] == "ok"
    assert _global_dns(lab, lab_host) == before
    assert wait_for(lambda: view.resolv_conf() == resolv), view.resolv_conf()
    assert view.checkpoints() == "ao 0"


# runs on the host with its own Python: read, (someone edits the profile,) write it back through the Writer
UPDATE = r'''
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.hostnet.nm.plugins.module_utils.errors import ConflictError
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import Bus
from ansible_collections.hostnet.nm.plugins.module_utils.nm.writer import Writer
from ansible_collections.hostnet.nm.plugins.module_utils.ops import Op
bus = Bus()
out = {}
for edit in (False, True):
    snap = reader.read_snapshot(bus)
    prof = snap.chosen["eth1"]
    if edit:
        subprocess.run(["nmcli", "connection", "modify", prof.uuid, "+ipv4.addresses", "198.18.1.77/24"], check=True)
    try:
        Writer(bus, snap).run([Op("update", "eth1", prof.path, prof.settings)])
        out[str(edit)] = "written"
    except ConflictError as exc:
        out[str(edit)] = exc.message
print(json.dumps(out))
'''


def test_profile_changed_by_someone_else_meanwhile_is_not_overwritten(lab, lab_host, runner, view, nm_version):
    # NM >= 1.44 refuses the Update2 by the version-id read with the profile; on 1.42 the profile is
    # read again just before the write: a profile edited between read and write is never overwritten
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]}))
    proc = lab.run(lab_host, "/usr/bin/python3", "-B", "-c", UPDATE, lab.collection_in(lab_host, COLLECTIONS),
                   check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["False"] == "written"  # nobody edited it: the write goes through
    assert "changed by someone else" in out["True"]
    uuid = next(p["uuid"] for p in view.profiles() if p["device"] == "eth1")
    assert "198.18.1.77" in view.profile_fields(uuid, "ipv4.addresses")["ipv4.addresses"]  # the edit stays


def _route_data_count(lab, host, dev):
    """How many routes NM's D-Bus IP4Config of ``dev`` exports."""
    device = lab.busctl(host, "call", *NM, "GetDeviceByIpIface", "s", dev).split()[-1].strip('"')
    config = lab.busctl(host, "get-property", NM[0], device, NM[0] + ".Device", "Ip4Config").split()[-1].strip('"')
    out = lab.busctl(host, "get-property", NM[0], config, NM[0] + ".IP4Config", "RouteData")
    return int(re.match(r"aa\{sv\} (\d+)", out).group(1))


def test_more_than_100_routes_on_one_interface_verify(lab, lab_host, runner, view, nm_version):
    # RC-27: NM >= 1.46 exports at most 100 routes per IP configuration on D-Bus; verification
    # reads the kernel past that (1.42 exports them all)
    routes = [{"destination": "198.19.27.%d/32" % n, "next-hop-interface": "eth1"} for n in range(150)]
    doc = {"interfaces": [eth1(lab, lab_host)], "routes": {"config": routes}}
    first = ok(runner.apply(lab_host, doc, module_args={"verify_timeout": 60}), changed=True)
    assert not first["rolled_back"]
    assert len([r for r in view.routes("dev", "eth1") if r["dst"].startswith("198.19.27.")]) == 150
    exported = _route_data_count(lab, lab_host, "eth1")
    assert exported == (100 if nm_version >= (1, 46) else 151)  # + the subnet's prefix route
    again = ok(runner.apply(lab_host, doc), changed=False)
    assert again["writes"] == 0


def test_ipv4_address_change_keeps_ipv6_on_a_dual_stack_interface(lab, lab_host, runner, view, nm_version):
    # RC-17: before 1.54 a Reapply that re-runs stage 3 could wipe IPv6 (link-local included);
    # after each IPv4-only change the IPv6 addresses must be there on every version
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host, v6=True)]}), changed=True)
    for address in ("198.18.1.95", lab.data_ip(lab_host, 1)):
        ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host, address, v6=True)]}), changed=True)
        assert view.addresses("eth1") == [address + "/24"]
        assert view.addresses("eth1", 6) == [lab.data_ip6(lab_host, 1) + "/64"]
        link_local = [a for d in json.loads(view.run("ip", "-j", "-6", "addr", "show", "dev", "eth1"))
                      for a in d.get("addr_info", []) if a.get("scope") == "link"]
        assert link_local and link_local[0]["local"].startswith("fe80:")


def test_global_dns_in_a_config_file_is_refused_before_any_change(lab, lab_host, runner, view, nm_version):
    # RC-02: NM refuses D-Bus DNS changes under [global-dns] (from 1.56 it also overrides the
    # profiles' search domains): hostnet.nm names the file and changes nothing, on every version
    ok(runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host)]}))
    conf = "/etc/NetworkManager/conf.d/90-dns.conf"
    lab.run(lab_host, "sh", "-c", 'printf "[global-dns-domain-*]\\nservers=198.18.1.1\\n" > "$1"', "sh", conf)
    try:
        lab.run(lab_host, "nmcli", "general", "reload")
        assert wait_for(lambda: "198.18.1.1" in _global_dns(lab, lab_host))
        before = view.snapshot()
        result = runner.apply(lab_host, {"dns-resolver": {"config": {"server": ["198.18.1.2"]}}})
        assert result["status"] == "failed"
        assert "DNS_GLOBAL_CONFIGURED" in str(result.get("validation_errors")) and "90-dns.conf" in result["msg"]
        assert view.checkpoints() == "ao 0" and view.snapshot() == before
    finally:
        lab.run(lab_host, "rm", "-f", conf)
        lab.run(lab_host, "nmcli", "general", "reload")


def test_rollback_keeps_an_in_memory_profile_in_memory(lab, lab_host, runner, view, nm_version):
    # RC-20: before 1.48 NM's rollback writes an in-memory profile to disk (seen on 1.42 here: the
    # keyfile stays); hostnet.nm puts it back in memory, so on every version no keyfile is left
    # and the profile is still unsaved
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "mem-eth1",
             "ipv4.method", "manual", "ipv4.addresses", lab.data_ip(lab_host, 1) + "/24", "ipv6.method", "disabled",
             "save", "no")
    view.run("nmcli", "-w", "30", "connection", "up", "mem-eth1")
    uuid = view.run("nmcli", "-g", "connection.uuid", "connection", "show", "mem-eth1").strip()
    path = lab.busctl(lab_host, "call", NM[0], NM[1] + "/Settings", NM[0] + ".Settings", "GetConnectionByUuid",
                      "s", uuid).split()[-1].strip('"')
    unsaved = ("org.freedesktop.NetworkManager", path, "org.freedesktop.NetworkManager.Settings.Connection",
               "Unsaved")
    assert lab.busctl(lab_host, "get-property", *unsaved).strip() == "b true"
    assert view.keyfiles() == {}
    result = runner.apply(lab_host, {"interfaces": [eth1(lab, lab_host, "198.18.1.96")],
                                     "dns-resolver": {"config": {"server": ["198.18.1.253"]}}},
                          module_args={"rollback_timeout": 30})
    assert result["status"] == "failed" and result["rolled_back"] is True
    assert view.addresses("eth1") == [lab.data_ip(lab_host, 1) + "/24"]
    assert view.keyfiles() == {}
    assert lab.busctl(lab_host, "get-property", *unsaved).strip() == "b true"
