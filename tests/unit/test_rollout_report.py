"""The rollout's bookkeeping (plugins/plugin_utils/rollout.py): outcomes, the
gate after each batch, the summary files; and the ansible-core 2.19 behaviour
of serial + max_fail_percentage + meta: end_play that playbooks/rollout.yml
is built on (run with local connections, no lab)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.plugin_utils import rollout

REPO = Path(__file__).resolve().parents[2]
# these tests drive the real ansible CLI of the controller venv; ansible-test units runs a copy without it
needs_ansible_cli = pytest.mark.skipif(not (REPO / ".venv" / "bin" / "ansible-playbook").exists(),
                                       reason="needs the controller venv's ansible CLI (make test has it)")
BATCH = {"hostnet_rollout_in_batch": {"number": 2, "hosts": ["h2", "h3"]}}


@pytest.mark.parametrize("variables, status, reason", [
    ({}, "not reached", ""),
    (dict(BATCH, hostnet_network_result={"changed": True, "plan": [{"op": "create"}]}), "changed", ""),
    (dict(BATCH, hostnet_network_result={"changed": False, "plan": []}), "unchanged", ""),
    (dict(BATCH, hostnet_network_result={"failed": True, "rolled_back": True, "msg": "rolled back",
                                         "rollback_reason": "probe failed: dns:198.18.1.253 (no reply)"},
          hostnet_rollout_failure={"task": "Fail as the apply did", "result": {"msg": "rolled back"}}),
     "rolled back", "probe failed: dns:198.18.1.253 (no reply)"),
    (dict(BATCH, hostnet_network_result={"failed": True,
                                         "msg": "Task failed: Finalization of task args: 2 problem(s)\n x"}),
     "failed", "Task failed: Finalization of task args: 2 problem(s) x"),
    (dict(BATCH, hostnet_rollout_failure={"task": "Install the D-Bus library", "result": {"msg": "no package"}}),
     "failed", "Install the D-Bus library: no package"),
    (dict(BATCH, hostnet_network_result={"unreachable": True, "msg": "ssh: timed out"}),
     "failed", "unreachable: ssh: timed out"),
    (dict(BATCH, hostnet_network_result={"skipped": True}), "failed", "no result recorded"),
])
def test_outcome(variables, status, reason):
    out = rollout.outcome(variables)
    assert out["status"] == status and out["reason"].startswith(reason)
    assert out["batch"] == (2 if variables else None)


def test_reasons_are_one_short_line():
    long = {"failed": True, "msg": "x\n" * 500}
    assert len(rollout.outcome(dict(BATCH, hostnet_network_result=long))["reason"]) <= 400


def outcomes(**status):
    return {h: {"status": s.replace("_", " "), "reason": "why-%s" % h, "batch": 1} for h, s in status.items()}


@pytest.mark.parametrize("threshold, bad, size, stop", [
    (0, 0, 5, False), (0, 1, 5, True), (20, 1, 5, False), (20, 2, 5, True), (50, 1, 2, False),
    (100, 1, 1, False), (0, 1, 1, True),
])
def test_gate_stops_when_more_than_the_threshold_failed(threshold, bad, size, stop):
    hosts = ["h%d" % i for i in range(size)]
    table = outcomes(**{h: ("failed" if i < bad else "changed") for i, h in enumerate(hosts)})
    decision = rollout.gate(3, hosts, table, threshold)
    assert decision["stop"] is stop and decision["bad"] == hosts[:bad] and decision["number"] == 3


def test_gate_counts_rollbacks_and_names_them_with_the_reason():
    decision = rollout.gate(1, ["h1"], outcomes(h1="rolled_back"), 0)
    assert decision["stop"] and decision["percentage"] == 100.0
    assert decision["message"] == ("batch 1 (1 host(s)): 1 failed or rolled back (100%, threshold 0%): "
                                   "h1 rolled back: why-h1 -> stopping the rollout")


def summary_of(stopped="", check=False):
    table = outcomes(h1="changed", h2="unchanged", h3="rolled_back")
    table["h3"]["reason"] = "probe failed: dns | x"
    return rollout.summarize(["h1", "h2", "h3", "h4"], table, [{"number": 1}], check, stopped,
                             {"problems": []}, started=1000.0)


def test_summary_lists_every_target_and_not_reached_hosts():
    summary = summary_of(stopped="batch 2: ...")
    assert summary["result"] == "stopped" and summary["stopped_reason"] == "batch 2: ..."
    assert [(h["host"], h["status"]) for h in summary["hosts"]] == [
        ("h1", "changed"), ("h2", "unchanged"), ("h3", "rolled back"), ("h4", "not reached")]
    assert summary["counts"] == {"changed": 1, "unchanged": 1, "rolled back": 1, "failed": 0, "not reached": 1}
    assert summary_of()["result"] == "failed"
    ok = rollout.summarize(["h1"], outcomes(h1="unchanged"), [], False, "")
    assert ok["result"] == "completed" and ok["seconds"] is None


def test_text_and_markdown():
    summary = summary_of(stopped="batch 2 stopped")
    lines = rollout.text_lines(summary)
    assert lines[0] == "hostnet.nm.rollout stopped: 1 changed, 1 unchanged, 1 rolled back, 1 not reached"
    assert lines[1] == "stopped: batch 2 stopped"
    assert re.match(r"h3\s+rolled back\s+batch 1\s+probe failed", lines[4])
    assert lines[5].split() == ["h4", "not", "reached", "-"]
    md = rollout.markdown(summary)
    assert md.startswith("# hostnet.nm rollout: stopped\n")
    assert "| h3 | rolled back | 1 | probe failed: dns \\| x |" in md
    assert "| not reached | 1 |" in md and "**Stopped:** batch 2 stopped" in md
    check = rollout.text_lines(summary_of(check=True))
    assert "check mode: nothing was changed" in check[0] and "1 would change" in check[0]


def test_write_creates_json_and_markdown(tmp_path):
    summary = summary_of()
    paths = rollout.write(summary, str(tmp_path / "reports"))
    assert [os.path.basename(p) for p in paths] == ["hostnet-rollout-summary.json", "hostnet-rollout-summary.md"]
    assert json.loads(Path(paths[0]).read_text()) == json.loads(json.dumps(summary))
    assert Path(paths[1]).read_text() == rollout.markdown(summary)
    assert sorted(os.listdir(tmp_path / "reports")) == ["hostnet-rollout-summary.json", "hostnet-rollout-summary.md"]


def test_new_state_is_plain_data():
    state = rollout.new_state(["h1"], "/tmp", True, {"ok": True}, 5.0)
    assert state == {"targets": ["h1"], "report_dir": "/tmp", "check_mode": True, "preflight": {"ok": True},
                     "started": 5.0, "batches": [], "stopped": ""}


# ------------------------------------------------------------------ ansible-core's own semantics

SEMANTICS_PLAYBOOK = """
- hosts: fleet
  gather_facts: false
  serial: 2
  max_fail_percentage: "{{ threshold }}"
  tasks:
    - ansible.builtin.fail: {msg: boom}
      when: inventory_hostname in fail_hosts
    - ansible.builtin.debug: {msg: "first-{{ inventory_hostname }}"}
- hosts: fleet
  gather_facts: false
  serial: 2
  tasks:
    - ansible.builtin.debug: {msg: "second-{{ inventory_hostname }}"}
    - ansible.builtin.meta: end_play
      when: "'a4' in ansible_play_batch"
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.debug: {msg: "summary-ran"}
"""


def run_semantics(tmp_path, threshold, fail_hosts):
    (tmp_path / "inv.ini").write_text("[fleet]\na[1:6]\n[fleet:vars]\nansible_connection=local\n"
                                      "ansible_python_interpreter=%s\n" % (REPO / ".venv" / "bin" / "python"))
    (tmp_path / "play.yml").write_text(SEMANTICS_PLAYBOOK)
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(tmp_path / "inv.ini"),
                           str(tmp_path / "play.yml"), "-e", json.dumps({"threshold": threshold,
                                                                         "fail_hosts": fail_hosts})],
                          capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1"))
    # hosts of one batch answer in any order: sort within each play
    ran = re.findall(r"(first|second|summary)-([a-z0-9]+)", proc.stdout)
    return proc.returncode, sorted("%s-%s" % m for m in ran)


@needs_ansible_cli
def test_ansible_max_fail_percentage_counts_per_batch_and_ends_the_whole_playbook(tmp_path):
    """What the rollout does NOT rely on: with serial and max_fail_percentage,
    a failure above the threshold in batch 2 stops everything, the later plays
    included (so a summary play could never run)."""
    rc, ran = run_semantics(tmp_path, 0, ["a3"])
    assert rc == 2 and ran == ["first-a1", "first-a2"]          # a4 (same batch as a3) stopped too


@needs_ansible_cli
def test_ansible_end_play_ends_every_remaining_batch_and_later_plays_still_run(tmp_path):
    """What the rollout relies on: failures are counted per batch (not
    cumulatively), and meta: end_play in a serial play skips the remaining
    batches while the next play (the summary) still runs."""
    rc, ran = run_semantics(tmp_path, 50, ["a1", "a3"])           # 50% of each batch: not MORE than 50
    assert ran == ["first-a2", "first-a4", "first-a5", "first-a6",
                   "second-a2", "second-a4",                      # end_play after batch [a2, a4]: a5, a6 skipped
                   "summary-ran"]                                 # (sorted)
    assert rc == 2                                                # a1 and a3 failed


def test_the_rollout_playbook_is_shipped_and_wires_its_parts():
    plays = yaml.safe_load((REPO / "playbooks" / "rollout.yml").read_text())
    names = [p["name"].split("| ")[1] for p in plays]
    assert names == ["preflight (controller only, no host is contacted)", "canary, then batches", "summary"]
    preflight = plays[0]["tasks"][0]
    assert preflight["run_once"] and preflight["hostnet.nm.fleet_preflight"]["rollout"] is True
    batch = plays[1]
    assert "hostnet_rollout_canary" in batch["serial"] and "hostnet_rollout_batch" in batch["serial"]
    assert "max_fail_percentage" not in batch                      # see the tests above
    block = batch["tasks"][1]
    assert block["ignore_unreachable"] is True and block["block"][0]["ansible.builtin.import_role"]["name"] == \
        "hostnet.nm.network"
    assert batch["tasks"][3]["ansible.builtin.meta"] == "end_play"
    assert plays[2]["hosts"] == "localhost"


@needs_ansible_cli
def test_the_rollout_playbook_end_to_end_without_a_lab(tmp_path):
    """The shipped playbook on docs/examples/fleet in check mode, every host at an address with no
    route from here (198.18.1.253, a lab address: nothing leaves this machine): the preflight
    passes, the canary is unreachable and recorded as failed, the rollout stops, every other host is
    not reached, and the summary files are written."""
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i",
                           str(REPO / "docs" / "examples" / "fleet" / "inventory.yml"), "hostnet.nm.rollout",
                           "--check", "-e", "ansible_host=198.18.1.253",
                           "-e", "hostnet_rollout_report_dir=%s" % tmp_path],
                          capture_output=True, text=True, timeout=300, check=False, cwd=str(tmp_path),
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                                   ANSIBLE_SSH_CONTROL_PATH_DIR=str(tmp_path / "cp")))
    assert proc.returncode == 2, proc.stdout[-3000:]
    summary = json.loads((tmp_path / "hostnet-rollout-summary.json").read_text())
    assert summary["check_mode"] is True and summary["result"] == "stopped"
    assert [(h["host"], h["status"]) for h in summary["hosts"]] == [
        ("st1", "failed"), ("st2", "not reached"), ("cn1", "not reached"), ("cn2", "not reached"),
        ("cn3", "not reached")]
    assert summary["hosts"][0]["reason"].startswith("unreachable:")
    assert summary["preflight"]["ok"] is True and len(summary["batches"]) == 1
    assert "| st1 | failed | 1 | unreachable:" in (tmp_path / "hostnet-rollout-summary.md").read_text()
    assert "hostnet.nm.rollout stopped (check mode: nothing was changed): 1 failed, 4 not reached" in proc.stdout
