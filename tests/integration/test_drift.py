"""The playbook hostnet.nm.drift over lab hosts: a deleted address on one host and a hand-edited
profile on another are reported (exactly those two, with their diffs), an unreachable and an invalid
host are reported as such, the exit status says so, and nothing changes on any host. Then the role
hostnet.nm.reconciler, from the same inventory variables, heals the first host."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from ansible_run import Runner
from hostview import HostView
from reconciler_agent import DOCUMENT, ROLE_VARS, Agent, wait_for

pytestmark = pytest.mark.lab(hosts=3)

FLEET_VARS = {
    "hostnet_ethernets__lab": {"eth1": {"subnet": "198.18.1.0/24", "address_offset": 10,
                                        "nmstate": {"ipv6": {"enabled": False}}}},
    "hostnet_routes__lab": {"far": {"destination": "198.19.5.0/24", "next-hop-address": "198.18.1.1",
                                    "next-hop-interface": "eth1"}},
}


def inventory(lab, hosts, path: Path) -> str:
    """A YAML inventory: the lab hosts in group ``lab`` with FLEET_VARS, plus ``ghost`` (nobody
    answers at its address) and ``broken`` (h3's address, variables that do not validate)."""
    conn = {"ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_common_args": "-F %s" % lab.ssh_config}
    data = {"all": {"vars": conn, "children": {"lab": {
        "hosts": {h: {"ansible_host": lab.mgmt_ip(h)} for h in hosts}, "vars": FLEET_VARS}},
        "hosts": {"ghost": {"ansible_host": "198.18.0.250"},
                  "broken": {"ansible_host": lab.mgmt_ip(hosts[-1]), "hostnet_host_index": 99,
                             "hostnet_ethernets": {"eth1": {"mtu": 70000}}}}}}
    path.write_text(yaml.safe_dump(data))
    return str(path)


def drift(runner, inv, report_dir: Path, *args):
    """Run hostnet.nm.drift; returns (play result, report, seconds)."""
    start = time.monotonic()
    result = runner.play([{"import_playbook": "hostnet.nm.drift"}], "-e", "hostnet_drift_report_dir=%s" % report_dir,
                         *args, inventory=inv)
    seconds = time.monotonic() - start
    print("\nhostnet.nm.drift %s: rc %d in %.1f s" % (" ".join(args), result.rc, seconds))
    return result, json.loads((report_dir / "hostnet-drift-report.json").read_text()), seconds


def test_drift_report_names_exactly_the_drifted_hosts_and_changes_nothing(lab, lab_hosts, tmp_path):
    runner = Runner(lab)
    inv = inventory(lab, lab_hosts, tmp_path / "inventory.yml")
    converge = runner.play([{"hosts": "lab", "gather_facts": False, "roles": ["hostnet.nm.network"]}], inventory=inv)
    assert converge.rc == 0, converge.stdout[-3000:]
    h1, h2, h3 = lab_hosts
    result, report, _ = drift(runner, inv, tmp_path / "clean", "--limit", "lab")
    assert result.rc == 0, result.stdout[-3000:]
    assert report["result"] == "in sync" and report["counts"]["in sync"] == 3

    lab.run(h1, "ip", "addr", "del", "%s/24" % lab.data_ip(h1, 1), "dev", "eth1")
    profile = lab.run(h2, "nmcli", "-g", "GENERAL.CONNECTION", "device", "show", "eth1").stdout.strip()
    lab.run(h2, "nmcli", "connection", "modify", profile, "ipv4.addresses", "198.18.1.99/24")
    lab.run(h2, "nmcli", "connection", "up", profile)
    views = [HostView(lab, h) for h in lab_hosts]
    before = [v.snapshot() for v in views]

    result, report, seconds = drift(runner, inv, tmp_path / "drift")

    assert [v.snapshot() for v in views] == before, "the drift check changed a host"
    assert result.rc == 2, result.stdout[-3000:]
    status = {row["host"]: row["status"] for row in report["hosts"]}
    assert status == {h1: "drifted", h2: "drifted", h3: "in sync", "ghost": "unreachable", "broken": "invalid"}
    assert report["result"] == "drifted"
    rows = {row["host"]: row for row in report["hosts"]}
    # h1: the kernel lost the address and the route through it; the profile is as declared
    assert [(op["op"], op["interface"]) for op in rows[h1]["plan"]] == [("reapply", "eth1")]
    assert "-    address: []" in rows[h1]["diff"]
    assert "+    - ip: %s" % lab.data_ip(h1, 1) in rows[h1]["diff"]
    assert "+  - destination: 198.19.5.0/24" in rows[h1]["diff"]
    # h2: the profile was edited
    assert [(op["op"], op["interface"]) for op in rows[h2]["plan"]] == [("update", "eth1"), ("reapply", "eth1")]
    assert "-    - ip: 198.18.1.99" in rows[h2]["diff"] and "+    - ip: %s" % lab.data_ip(h2, 1) in rows[h2]["diff"]
    assert "hostnet_ethernets" in rows["broken"]["reason"] and "MTU_OUT_OF_RANGE" in rows["broken"]["reason"]
    markdown = (tmp_path / "drift" / "hostnet-drift-report.md").read_text()
    assert "## %s" % h1 in markdown and "## %s" % h2 in markdown and "## %s" % h3 not in markdown
    # the failed hosts of the recap are exactly those not in sync
    assert {t["host"] for t in result.tasks if t["status"] == "failed"} == {h1, h2, "ghost", "broken"}
    print("drift check of 5 hosts: %.1f s" % seconds)

    result, report, _ = drift(runner, inv, tmp_path / "report-only", "-e", "hostnet_drift_fail=false")
    assert result.rc == 0 and report["result"] == "drifted"

    # then the reconciler role on h1, from the same variables: it keeps the state the rollout applies
    # and puts the deleted address back
    agent = Agent(lab, h1)
    try:
        installed = runner.play([{"hosts": h1, "gather_facts": False, "vars": ROLE_VARS,
                                  "roles": ["hostnet.nm.reconciler"]}], inventory=inv)
        assert installed.rc == 0, installed.stdout[-3000:]
        kept = json.loads(lab.run(h1, "cat", DOCUMENT).stdout)
        assert kept["interfaces"][0]["ipv4"]["address"] == [{"ip": lab.data_ip(h1, 1), "prefix-length": 24}]
        assert kept["routes"]["config"][0]["destination"] == "198.19.5.0/24"
        wait_for(lambda: HostView(lab, h1).addresses("eth1") == ["%s/24" % lab.data_ip(h1, 1)], 30, "the heal")
    finally:
        agent.stop()
