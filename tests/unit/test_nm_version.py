"""NetworkManager version and capabilities (plain data): parsing, the
behaviours that depend on them, and the minimum supported version."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds
from ansible_collections.hostnet.nm.plugins.module_utils.errors import DependencyError
from ansible_collections.hostnet.nm.plugins.module_utils.nm.reader import current_state
from ansible_collections.hostnet.nm.plugins.module_utils.nm.version import NmVersion
from ansible_collections.hostnet.nm.plugins.module_utils.plan import make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile, Snapshot, choose_profiles

# VersionInfo as the lab's NetworkManagers report it (busctl get-property ... VersionInfo)
NM_1_42 = NmVersion.parse("1.42.4", [76292])
NM_1_52 = NmVersion.parse("1.52.1", [78849, 1])
NM_1_58 = NmVersion.parse("1.58.1", [80385, 1])


@pytest.mark.parametrize("nm, release", [(NM_1_42, (1, 42, 4)), (NM_1_52, (1, 52, 1)), (NM_1_58, (1, 58, 1))])
def test_release_comes_from_version_info(nm, release):
    assert nm.release == release


def test_without_version_info_the_text_decides():
    nm = NmVersion.parse("1.46.0-3.el9", [])
    assert nm.release == (1, 46, 0) and nm.capabilities == ()
    assert nm.caps_ip_export and nm.update_takes_version_id and not nm.checkpoint_tracks_global_dns
    assert not nm.checkpoint_keeps_memory_profiles and NM_1_52.checkpoint_keeps_memory_profiles


@pytest.mark.parametrize("nm, gdns, sync, vid, cap", [
    (NM_1_42, False, False, False, False),
    (NmVersion.parse("1.44.2", [76802]), False, False, True, False),
    (NmVersion.parse("1.48.10", [77834]), True, False, True, True),
    (NM_1_52, True, True, True, True),
    (NM_1_58, True, True, True, True),
])
def test_behaviours_by_version(nm, gdns, sync, vid, cap):
    assert (nm.checkpoint_tracks_global_dns, nm.syncs_route_tables, nm.update_takes_version_id,
            nm.caps_ip_export) == (gdns, sync, vid, cap)


def test_route_table_sync_is_the_capability_bit_not_the_version():
    # a distribution backport: 1.48 with the fix says so in VersionInfo
    assert NmVersion.parse("1.48.10", [77834, 1]).syncs_route_tables
    assert not NmVersion.parse("1.52.0", [78848, 0]).syncs_route_tables
    assert NmVersion.parse("1.60.0", [80896, 0, 1]).capability(32)


def test_below_the_minimum_is_a_clear_error():
    with pytest.raises(DependencyError) as err:
        NmVersion.parse("1.40.16", []).check_supported()
    assert "1.40.16" in err.value.message and "1.42" in err.value.message
    NM_1_42.check_supported()  # the minimum itself is fine


def _table_route_snapshot(nm):
    snap = Snapshot()
    snap.nm = nm
    snap.devices = {"eth1": {"path": "/d/1", "nm_type": 1, "type": "ethernet", "managed": True, "state": 100,
                             "mtu": 1500, "mac": None, "active": "/a/1", "ip4config": "/", "ip6config": "/",
                             "real": True}}
    settings = {"connection": {"id": "eth1", "uuid": "uuid-1", "type": "802-3-ethernet", "interface-name": "eth1"},
                "ipv4": {"method": "manual", "address-data": [{"address": "198.18.6.1", "prefix": 24}],
                         "route-data": [{"dest": "198.19.60.0", "prefix": 24, "next-hop": "198.18.6.254",
                                         "table": 100}]},
                "ipv6": {"method": "disabled"}}
    prof = Profile("/s/1", settings, {})
    prof.active = "/a/1"
    snap.profiles = [prof]
    choose_profiles(snap)
    return snap


@pytest.mark.parametrize("nm, kind, disruption", [(NM_1_42, "activate", "reactivate"),
                                                  (NM_1_52, "reapply", "reapply")])
def test_dropping_a_route_from_another_table_reapplies_only_where_nm_syncs_tables(nm, kind, disruption):
    # RC-06: before the route-table sync capability, Reapply leaves the route in table 100
    snap = _table_route_snapshot(nm)
    parsed, problems = parse_document({"routes": {"config": [
        {"destination": "198.19.60.0/24", "next-hop-interface": "eth1", "table-id": 100, "state": "absent"}]}})
    assert problems == []
    plan = make_plan(snap, current_state(snap), kinds.from_document(parsed))
    live = [op for op in plan.ops if op.kind in ("activate", "reapply")]
    assert [(op.kind, op.disruption) for op in live] == [(kind, disruption)]


def test_kernel_view_in_the_shapes_of_live_state():
    # RC-27: past NM's D-Bus export cap, verification reads ip -json (captured from a lab host)
    from ansible_collections.hostnet.nm.plugins.module_utils.nm.kernel import from_ip_json
    links = [{"ifname": "eth1", "addr_info": [
        {"family": "inet", "local": "198.18.27.1", "prefixlen": 24, "scope": "global"},
        {"family": "inet6", "local": "2001:db8:27::1", "prefixlen": 64, "scope": "global"},
        {"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"}]},
        {"ifname": "mgmt0", "addr_info": [{"family": "inet", "local": "198.18.0.11", "prefixlen": 24}]}]
    routes = {4: [{"dst": "198.19.27.1", "dev": "eth1", "table": "100", "scope": "link", "flags": []},
                  {"dst": "default", "gateway": "198.18.27.254", "dev": "eth1", "metric": 100, "flags": []},
                  {"type": "local", "dst": "198.18.27.1", "dev": "eth1", "table": "local", "flags": []},
                  {"dst": "198.19.0.0/16", "dev": "eth1", "table": "vpn", "flags": []},
                  {"dst": "198.18.0.0/24", "dev": "mgmt0", "protocol": "kernel", "flags": []}],
              6: [{"dst": "2001:db8:27::/64", "dev": "eth1", "metric": 5, "flags": []},
                  {"dst": "2001:db8:28::9", "dev": "eth1", "table": "main", "metric": 1024, "flags": []},
                  {"type": "multicast", "dst": "ff00::/8", "dev": "eth1", "table": "local", "metric": 256}]}
    assert from_ip_json(["eth1"], links, routes) == {"eth1": {
        "addresses": ["198.18.27.1/24", "2001:db8:27::1/64"],
        "routes": [("198.19.27.1/32", "", 0, 100), ("0.0.0.0/0", "198.18.27.254", 100, 254),
                   ("2001:db8:27::/64", "", 5, 254), ("2001:db8:28::9/128", "", 1024, 254)]}}


def test_global_dns_sections_in_config_files_are_found(tmp_path):
    # RC-02: [global-dns] in a file overrides profile DNS and cannot be changed over D-Bus
    from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
    from ansible_collections.hostnet.nm.plugins.module_utils.nm.config import global_dns_files
    from ansible_collections.hostnet.nm.plugins.module_utils.transaction import _check_global_dns
    confd = tmp_path / "etc" / "NetworkManager" / "conf.d"
    confd.mkdir(parents=True)
    (tmp_path / "etc" / "NetworkManager" / "NetworkManager.conf").write_text("[main]\nplugins=keyfile\n")
    (confd / "80-other.conf").write_text("[main]\n# [global-dns] in a comment line is no section\n")
    assert global_dns_files(str(tmp_path)) == []
    _check_global_dns({"dns-resolver": {"config": {"server": ["198.18.0.54"]}}}, str(tmp_path))
    (confd / "90-dns.conf").write_text("[global-dns-domain-*]\nservers=198.18.0.53\n")
    assert global_dns_files(str(tmp_path)) == [str(confd / "90-dns.conf")]
    with pytest.raises(InvalidStateError) as err:
        _check_global_dns({"dns-resolver": {"config": {"server": ["198.18.0.54"]}}}, str(tmp_path))
    problem = err.value.problems[0]
    assert (problem.code, problem.path) == ("DNS_GLOBAL_CONFIGURED", "dns-resolver")
    assert "90-dns.conf" in problem.message and "90-dns.conf" in problem.hint
    _check_global_dns({"interfaces": []}, str(tmp_path))  # without dns-resolver: nothing to refuse


@pytest.mark.parametrize("text, info", [("1.44.0", [76800]), ("1.44.1", [76801])])
def test_releases_that_crash_on_rollback_are_refused(text, info):
    # RC-21: 1.44.0/1.44.1 crash rolling back a device deleted and re-created in the checkpoint
    with pytest.raises(DependencyError) as err:
        NmVersion.parse(text, info).check_supported()
    assert text in err.value.message and "1.44.2" in err.value.message and "crash" in err.value.message
    NmVersion.parse("1.44.2", [76802]).check_supported()


def test_kernel_runs_ip_through_the_modules_runner():
    # the module's run_command runs ip (no subprocess in module_utils): its argv, output and exit status
    import shutil
    import subprocess
    from ansible_collections.hostnet.nm.plugins.module_utils.nm import kernel
    if shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin") is None:
        pytest.skip("no iproute2 on this machine")
    seen = []
    try:
        kernel.use_runner(lambda argv: (seen.append(argv) or (0, '[{"priority": 0, "table": "local"}]', "")))
        assert kernel._ip_json("-4", "rule", "show") == [{"priority": 0, "table": "local"}]
        assert seen[0][1:] == ["-json", "-4", "rule", "show"] and seen[0][0].endswith("/ip")
        kernel.use_runner(lambda argv: (2, "", "Error: invalid argument"))
        with pytest.raises(subprocess.CalledProcessError) as failed:
            kernel._ip_json("-4", "rule", "show")
        assert failed.value.returncode == 2 and failed.value.stderr == "Error: invalid argument"
        kernel.use_runner(None)
        with pytest.raises(DependencyError, match="run_command"):
            kernel._ip_json("-4", "rule", "show")
    finally:
        kernel.use_runner(None)
