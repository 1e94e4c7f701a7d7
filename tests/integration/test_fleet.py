"""The playbook hostnet.nm.rollout and the role hostnet.nm.network over 20 lab
hosts: apply to all, a re-run that changes nothing, a failing host that stops
the rollout (the hosts after it untouched), and a preflight that stops it
before any host is contacted.

The lab hosts carry eth1, eth2, a bridge, a route and DNS (this machine's
kernel has no bonding or 802.1Q: bonds and VLANs are covered by the unit and
kernel tiers). Each test reports its wall time (``-s`` shows it)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from ansible_run import Runner
from hostview import HostView

pytestmark = pytest.mark.lab(hosts=20)

FLEET = 20
APPLY = "Apply the desired network state (one transaction)"
GROUP_VARS = yaml.safe_load((Path(__file__).parent / "fleet_vars.yml").read_text())


class Fleet:
    """An inventory directory for the lab's first hosts (the lab's own
    inventory lines, plus group_vars/host_vars), and runs of the rollout."""

    def __init__(self, lab, hosts: List[str], tmp: Path) -> None:
        self.lab, self.hosts, self.dir = lab, hosts, tmp / "inventory"
        (self.dir / "group_vars").mkdir(parents=True)
        (self.dir / "host_vars").mkdir()
        lines, wanted = [], set(hosts)
        for line in Path(lab.inventory).read_text().splitlines():
            name = line.split(" ", 1)[0]
            if not (name.startswith("h") and name[1:].isdigit()) or name in wanted:
                lines.append(line)
        (self.dir / "hosts.ini").write_text("\n".join(lines) + "\n")
        self.group_vars(GROUP_VARS)
        self.reports = tmp / "reports"
        # a control path of this lab's own: another lab's h1 has the same address, and ssh would
        # otherwise reuse that lab's master connection
        self.env = {"ANSIBLE_SSH_CONTROL_PATH_DIR": str(lab.root / "cp")}

    def group_vars(self, data: Dict) -> None:
        (self.dir / "group_vars" / "lab.yml").write_text(yaml.safe_dump(data))

    def host_vars(self, host: str, data: Dict) -> None:
        (self.dir / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump(data))

    def rollout(self, *args: str, env: Dict[str, str] = None):
        """Run ``hostnet.nm.rollout``; returns ``(play result, summary, seconds)``."""
        start = time.monotonic()
        result = Runner(self.lab).play([{"import_playbook": "hostnet.nm.rollout"}], "-e",
                                       "hostnet_rollout_report_dir=%s" % self.reports, *args,
                                       inventory=str(self.dir), env=dict(self.env, **(env or {})))
        seconds = time.monotonic() - start
        path = self.reports / "hostnet-rollout-summary.json"
        summary = json.loads(path.read_text()) if path.exists() else None
        if path.exists():
            path.rename(self.reports / ("summary-%d.json" % time.monotonic_ns()))
        print("\nrollout %s: %.1f s, rc %d" % (" ".join(args) or "(apply)", seconds, result.rc))
        return result, summary, seconds

    def statuses(self, summary) -> Dict[str, str]:
        return {h["host"]: h["status"] for h in summary["hosts"]}

    def snapshots(self, hosts: List[str]) -> Dict[str, Dict]:
        return {h: HostView(self.lab, h).snapshot() for h in hosts}

    def applies(self, result) -> Dict[str, Dict]:
        """The role's apply task results, by host."""
        return {t["host"]: t["result"] for t in result.tasks if t["task"].endswith(APPLY)}


@pytest.fixture
def fleet(lab, lab_hosts, tmp_path):
    assert len(lab_hosts) == FLEET
    return Fleet(lab, lab_hosts, tmp_path)


def test_rollout_applies_to_all_and_a_rerun_changes_nothing(fleet, lab):
    hosts = fleet.hosts
    before = fleet.snapshots(hosts)

    # --check --diff: every host's diff, nothing changes anywhere
    result, summary, _ = fleet.rollout("--check", "--diff")
    assert result.rc == 0, result.stdout[-3000:]
    assert summary["check_mode"] is True and summary["result"] == "completed"
    assert set(fleet.statuses(summary).values()) == {"changed"}            # "would change"
    applies = fleet.applies(result)
    assert sorted(applies) == sorted(hosts)
    for host in hosts:
        assert applies[host]["changed"] and applies[host]["writes"] == 0
        assert lab.data_ip(host, 1) in applies[host]["diff"]["after"]
    assert "would change" in result.stdout and "check mode: nothing was changed" in result.stdout
    assert fleet.snapshots(hosts) == before

    # apply: canary, then batches of 25 %; every host changed
    result, summary, seconds = fleet.rollout()
    assert result.rc == 0, result.stdout[-3000:]
    assert summary["result"] == "completed" and summary["counts"]["changed"] == FLEET
    assert [len(b["hosts"]) for b in summary["batches"]] == [1, 5, 5, 5, 4]
    assert summary["hosts"][0] == {"host": "h1", "status": "changed", "reason": "", "batch": 1,
                                   "operations": summary["hosts"][0]["operations"]}
    for host in hosts:
        view = HostView(lab, host)
        assert view.addresses("eth1") == [lab.data_ip(host, 1) + "/24"]
        assert view.addresses("br0") == [lab.data_ip(host, 2) + "/24"]
        assert view.nameservers() == ["198.18.1.1"] and view.checkpoints() == "ao 0"
    assert (fleet.reports / "hostnet-rollout-summary.md").read_text().startswith("# hostnet.nm rollout: completed")

    # re-run: every host unchanged, zero writes
    result, summary, rerun = fleet.rollout()
    assert result.rc == 0, result.stdout[-3000:]
    assert summary["counts"]["unchanged"] == FLEET
    applies = fleet.applies(result)
    assert sorted(applies) == sorted(hosts)
    assert all(r["changed"] is False and r["writes"] == 0 for r in applies.values())
    print("fleet of %d: apply %.1f s, re-run %.1f s" % (FLEET, seconds, rerun))


def test_a_failing_host_stops_the_rollout_and_the_rest_is_untouched(fleet, lab):
    # h3 is in the first batch after the canary (h2..h6): its DNS server does not exist
    fleet.host_vars("h3", {"hostnet_dns": {"servers": ["198.18.1.253"]}})
    not_reached = fleet.hosts[6:]
    before = fleet.snapshots(not_reached + ["h3"])

    result, summary, _ = fleet.rollout()
    assert result.rc != 0
    assert summary["result"] == "stopped"
    statuses = fleet.statuses(summary)
    assert statuses["h1"] == "changed"                                   # the canary
    assert {statuses[h] for h in ("h2", "h4", "h5", "h6")} == {"changed"}  # the rest of its batch
    assert statuses["h3"] == "rolled back"
    reason = next(h["reason"] for h in summary["hosts"] if h["host"] == "h3")
    assert "dns:198.18.1.253" in reason
    assert "h3 rolled back" in summary["stopped_reason"] and "14 host(s) not reached" in summary["stopped_reason"]
    assert [h for h, s in statuses.items() if s == "not reached"] == not_reached
    assert "h3    rolled back" in result.stdout                            # printed too
    # the hosts never reached are exactly as they were, and h3 is back where it started
    after = fleet.snapshots(not_reached + ["h3"])
    assert {h: after[h] for h in not_reached} == {h: before[h] for h in not_reached}
    for key in ("profiles", "keyfiles", "addr", "routes", "routes6", "checkpoints"):
        assert after["h3"][key] == before["h3"][key], key
    assert HostView(lab, "h3").nameservers() == []                       # (NM rewrote the file's comment)
    assert not any(t["host"] in not_reached for t in result.tasks)


def test_the_preflight_stops_a_duplicated_address_before_any_host_is_contacted(fleet, lab):
    fleet.host_vars("h5", {"hostnet_host_index": 12})                   # h12's addresses
    before = fleet.snapshots(fleet.hosts)
    logins = {h: lab.log_path(h, "sshd").read_text().count("Accepted") for h in fleet.hosts}

    # a fresh control path: any contact would be a new ssh login, logged by the host's sshd
    result, summary, _seconds = fleet.rollout(env={"ANSIBLE_SSH_CONTROL_PATH_DIR": tempfile.mkdtemp(prefix="cp", dir=str(lab.root))})
    assert result.rc != 0
    assert "ADDRESS_ON_TWO_HOSTS" in result.stdout and "198.18.1.22 is on 2 hosts" in result.stdout
    assert "no host was contacted and nothing changed" in result.stdout
    assert [t["task"] for t in result.tasks] == ["Compose and check the desired state of every host"]
    assert summary["result"] == "stopped" and summary["counts"]["not reached"] == FLEET
    problems = summary["preflight"]["problems"]
    assert {tuple(p["hosts"]) for p in problems} == {("h5", "h12")}
    assert fleet.snapshots(fleet.hosts) == before
    assert {h: lab.log_path(h, "sshd").read_text().count("Accepted") for h in fleet.hosts} == logins


def test_a_host_without_the_dbus_library_is_told_what_to_do(fleet, lab):
    """dbus-fast and dbus-next hidden from every Python of h1 (bind mounts in h1's own mount
    namespace: the machine's /usr is untouched) and no package to install: the apply finds the
    library missing before touching anything, the role's rescue looks for a package, and the host
    fails saying what to do. No package manager runs."""
    hidden = [p for p in ("/usr/lib/python3/dist-packages/dbus_fast", "/usr/lib/python3/dist-packages/dbus_next")
              if lab.run("h1", "test", "-d", p, check=False).returncode == 0]
    assert hidden, "the lab's Python has neither D-Bus library?"
    fleet.host_vars("h1", {"hostnet_dbus_library_packages": {"Debian": []}})
    before = HostView(lab, "h1").snapshot()
    lab.run("h1", "mkdir", "-p", "/tmp/hostnet-empty")
    try:
        for path in hidden:
            lab.run("h1", "mount", "--bind", "/tmp/hostnet-empty", path)
        play = [{"hosts": "h1", "gather_facts": False, "roles": ["hostnet.nm.network"]}]
        result = Runner(lab).play(play, inventory=str(fleet.dir), env=fleet.env)
    finally:
        for path in hidden:
            lab.run("h1", "umount", path, check=False)
    assert result.rc != 0
    first = result.task(host="h1", name="hostnet.nm.network : " + APPLY)
    assert first["status"] == "failed" and "required Python library (dbus-fast or dbus-next)" in first["msg"]
    install = result.task(host="h1", name="hostnet.nm.network : Install the D-Bus library (dbus-fast or dbus-next)")
    assert install["status"] == "failed"
    assert "no package is known for os family Debian" in install["msg"] and "pip install dbus-fast" in install["msg"]
    assert HostView(lab, "h1").snapshot() == before


def test_an_unreachable_host_is_recorded_and_stops_the_rollout(fleet, lab):
    # h2 (first batch after the canary) at an address where nothing answers
    fleet.host_vars("h2", {"ansible_host": "198.18.0.5"})
    result, summary, _ = fleet.rollout()
    assert result.rc != 0
    statuses = fleet.statuses(summary)
    assert statuses["h2"] == "failed" and statuses["h1"] == "changed"
    reason = next(h["reason"] for h in summary["hosts"] if h["host"] == "h2")
    assert reason.startswith("unreachable:")
    assert {statuses[h] for h in ("h3", "h4", "h5", "h6")} == {"changed"}
    assert [h for h, s in statuses.items() if s == "not reached"] == fleet.hosts[6:]
    assert summary["result"] == "stopped" and "h2 failed: unreachable" in summary["stopped_reason"]
