"""The compat corpus (tests/compat/corpus.yml) on a real host: every document
the corpus accepts runs through hostnet.nm.network_state in check mode on a
pristine lab host, all in one playbook. The corpus names its NICs eth1 and
eth2, as nmstate's examples do and as the lab's hosts have them.

Each accepted entry's ``planned`` lists the interfaces check mode must plan to
change (``[]``: ``changed=false``; ``hostname``: the host name); each of them is in the diff's "after". An
entry with ``min_nm`` above the host's NetworkManager is refused on the host
instead (``KIND_NEEDS_NEWER_NM``, naming the version it needs)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.lab

CORPUS = yaml.safe_load((Path(__file__).resolve().parents[1] / "compat" / "corpus.yml").read_text())
ACCEPTED = sorted(name for name, entry in CORPUS.items() if entry["outcome"] == "accepted")


def test_accepted_examples_plan_in_check_mode(lab, lab_host, runner, view):
    if lab.nics < 2:
        pytest.skip("the corpus names eth1 and eth2; this lab has %d data NIC(s)" % lab.nics)
    before = view.profiles()
    tasks = [{"name": name, "hostnet.nm.network_state": {"desired_state": CORPUS[name]["document"]},
              "ignore_errors": True} for name in ACCEPTED]
    play = runner.play([{"hosts": lab_host, "gather_facts": False, "tasks": tasks}], "--check", "--diff")
    host_nm = lab.nm_version(lab_host)[:2]
    for name in ACCEPTED:
        result = play.task(name, lab_host)
        needs = tuple(int(n) for n in CORPUS[name].get("min_nm", "0.0").split("."))
        if host_nm < needs:
            assert result["status"] == "failed" and "KIND_NEEDS_NEWER_NM" in str(result.get("msg")), (name, result)
            assert "since %d.%d" % needs in str(result.get("msg")), (name, result.get("msg"))
            continue
        assert result["status"] == "ok", (name, result.get("msg"))
        planned = sorted({op["interface"] or op["op"] for op in result["plan"]})  # the host name's op: "hostname"
        assert planned == sorted(CORPUS[name]["planned"]), (name, result["plan"])
        assert result["changed"] is bool(planned), name
        for iface in planned:
            shown = "hostname:\n" if iface == "hostname" else "name: %s\n" % iface
            assert shown in result["diff"]["after"], (name, iface, result["diff"])
    assert view.profiles() == before, "check mode changed the host's profiles"


def test_info_tells_which_refused_kinds_the_hosts_networkmanager_has(lab, lab_host, runner):
    """The OVS and team plugins, as NetworkManager reports them (its Capabilities property), against
    the plugin files the host's NetworkManager loads them from. No lab NetworkManager has the OVS
    plugin, so the OVS line names the package to install; Debian 12's and 13's have the team plugin,
    testing's (1.58) not."""
    play = runner.play([{"hosts": lab_host, "gather_facts": False,
                         "tasks": [{"name": "info", "hostnet.nm.network_state_info": {}}]}])
    result = play.task("info", lab_host)
    assert result["status"] == "ok", result.get("msg")
    nm = result["networkmanager"]
    plugins = lab.run(lab_host, "sh", "-c", "ls /usr/lib*/NetworkManager/*/ /usr/lib/*/NetworkManager/*/ "
                      "2>/dev/null || true").stdout.split()
    has = {name: "libnm-device-plugin-%s.so" % name in plugins for name in ("ovs", "team")}
    assert not has["ovs"] and any("libnm-device-plugin" in p for p in plugins), plugins
    assert {f for f in nm["features"] if f in has} == {f for f, present in has.items() if present}
    assert ("Open vSwitch: this host's NetworkManager has no Open vSwitch support (package NetworkManager-ovs)"
            in nm["refused_kinds"]), nm
    team = ("Team: on this host, but not managed by hostnet.nm (see docs/nmstate-differences.md#team)" if has["team"]
            else "Team: this host's NetworkManager has no team support (package NetworkManager-team)")
    assert team in nm["refused_kinds"], nm
    assert nm["version"].startswith("%d.%d." % lab.nm_version(lab_host)[:2])
