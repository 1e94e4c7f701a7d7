"""The drift report (plugin_utils/drift.py): each host's status from its task results, the summary,
the files."""

from __future__ import annotations

import json

from ansible_collections.hostnet.nm.plugins.plugin_utils import drift

PLAN = [{"op": "reapply", "interface": "eth1", "disruption": "reapply",
         "reason": "live state differs from the profile: interfaces[eth1].ipv4.address (live)"}]
DIFF = {"before": "interfaces:\n- name: eth1\n  ipv4:\n    address: []\n",
        "after": "interfaces:\n- name: eth1\n  ipv4:\n    address:\n    - ip: 198.18.1.11\n"}
OUTCOMES = {
    "in sync": {"hostnet_network_result": {"changed": False, "plan": []}},
    "drifted": {"hostnet_network_result": {"changed": True, "plan": PLAN, "diff": DIFF}},
    "unreachable": {"hostnet_network_result": {"unreachable": True, "msg": "ssh: connect to host h9: No route"}},
    "invalid vars": {"hostnet_drift_failure": {"task": "Compose", "action": "ansible.builtin.set_fact", "result": {
        "failed": True, "msg": "1 problem(s) in the hostnet_ variables of h4"}}},
    "invalid lazy": {"hostnet_drift_failure": {"task": "Apply", "action": "hostnet.nm.network_state", "result": {
        "failed": True, "msg": "Task failed: Finalization of task args for 'hostnet.nm.network_state' failed: The "
                               "filter plugin 'hostnet.nm.compose_state' failed: 1 problem(s) in the hostnet_ "
                               "variables of h4; nothing was applied: - hostnet_ethernets.eth1.mtu: 70000"}}},
    "invalid doc": {"hostnet_drift_failure": {"task": "Apply", "action": "hostnet.nm.network_state", "result": {
        "failed": True, "msg": "1 error(s) in desired_state", "validation_errors": [{"code": "MTU_OUT_OF_RANGE"}]}}},
    "busy": {"hostnet_drift_failure": {"task": "Apply", "action": "hostnet.nm.network_state", "result": {
        "failed": True, "error_kind": "conflict", "msg": "lock held by pid 7"}}},
    "no library": {"hostnet_drift_failure": {"task": "Apply", "action": "hostnet.nm.network_state", "result": {
        "failed": True, "error_kind": "dependency", "msg": "Failed to import dbus-fast"}}},
    "skipped": {"hostnet_network_result": {"skipped": True}},
    # the role re-raises the apply's failure with its message only: the registered result has the rest
    "re-raised": {"hostnet_drift_failure": {"task": "Fail as the apply did", "action": "ansible.builtin.fail",
                                            "result": {"failed": True, "msg": "2 error(s) in desired_state"}},
                  "hostnet_network_result": {"failed": True, "msg": "2 error(s) in desired_state",
                                             "validation_errors": [{"code": "BAD_ADDRESS"}]}},
}


def test_each_kind_of_host():
    got = {name: drift.outcome(variables)["status"] for name, variables in OUTCOMES.items()}
    assert got == {"in sync": "in sync", "drifted": "drifted", "unreachable": "unreachable",
                   "invalid vars": "invalid", "invalid lazy": "invalid", "invalid doc": "invalid", "busy": "error", "no library": "error",
                   "skipped": "error", "re-raised": "invalid"}
    assert "another run or tool holds the host: lock held" in drift.outcome(OUTCOMES["busy"])["reason"]
    assert drift.outcome(OUTCOMES["invalid lazy"])["reason"].startswith("1 problem(s) in the hostnet_ variables of h4")


def test_a_drifted_host_has_its_operations_and_a_unified_diff():
    out = drift.outcome(OUTCOMES["drifted"])
    assert out["plan"] == PLAN and out["reason"].startswith("reapply eth1 (live state differs")
    assert "-    address: []" in out["diff"] and "+    - ip: 198.18.1.11" in out["diff"]
    assert out["diff"].startswith("--- current state\n+++ desired state")


def test_summary_result_and_counts():
    outcomes = {h: drift.outcome(OUTCOMES[h]) for h in ("in sync", "unreachable")}
    assert drift.summarize(["in sync"], outcomes)["result"] == "in sync"
    assert drift.summarize(["in sync", "unreachable"], outcomes)["result"] == "incomplete"
    outcomes["drifted"] = drift.outcome(OUTCOMES["drifted"])
    summary = drift.summarize(["in sync", "unreachable", "drifted", "never seen"], outcomes)
    assert summary["result"] == "drifted"
    assert summary["counts"] == {"in sync": 1, "drifted": 1, "unreachable": 1, "invalid": 0, "error": 1}
    assert drift.headline(summary) == ("hostnet.nm.drift: drifted: 1 in sync, 1 drifted, 1 unreachable, 1 error "
                                       "(nothing was changed)")


def test_report_files(tmp_path):
    outcomes = {h: drift.outcome(OUTCOMES[h]) for h in ("in sync", "drifted")}
    summary = drift.summarize(["in sync", "drifted"], outcomes)
    json_path, md_path = drift.write(summary, str(tmp_path / "out"), "report")
    assert json_path.endswith("out/report.json") and md_path.endswith("out/report.md")
    assert json.loads(open(json_path).read())["hosts"][1]["status"] == "drifted"
    text = open(md_path).read()
    assert "| drifted | drifted | reapply eth1" in text
    assert "## drifted" in text and "```diff\n--- current state" in text
    assert "## in sync" not in text


def test_ownership_is_in_the_report():
    # issue 18 item 5: prunable profiles and profiles of others on managed interfaces are listed
    mine = {"uuid": "u-br2", "id": "br2", "interface": "br2", "owner": "ours"}
    theirs = {"uuid": "u-w1", "id": "Wired connection 1", "interface": "eth2", "owner": "generated"}
    variables = {"hostnet_network_result": {"changed": False, "plan": [], "diff": {"before": {}, "after": {}},
                                            "profiles": {"prunable": [mine], "blocked": [theirs]}}}
    out = drift.outcome(variables)
    assert out["status"] == "in sync"
    assert out["prunable"] == ["br2 (u-br2) on br2"] and out["foreign"] == ["Wired connection 1 (u-w1) on eth2"]
    text = drift.markdown(drift.summarize(["h1"], {"h1": out}))
    assert "prunable (made by hostnet.nm, no longer in the state): br2 (u-br2) on br2" in text
