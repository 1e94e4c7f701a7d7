"""Hundreds of profiles in one transaction on a lab host's real NetworkManager (CASES-2 RC-29).

The fault's kind: with many profiles at once, per-call D-Bus timeouts fire while NetworkManager is
busy, completions never arrive, or profiles go missing, and a tool that trusts its callbacks
reports success anyway; one that removes them one call after another takes minutes per hundred.
Here Linux bridges, each with one port (a veth made beforehand), are applied in one task, then
removed in one task. The case has 500 bridges (1000 profiles: about 8 minutes here on a loaded
machine, measured with ``RC29_BRIDGES=500``); make test runs 150 (300 profiles), which already
spans several waves of calls.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List

import pytest

pytestmark = pytest.mark.lab

BRIDGES = int(os.environ.get("RC29_BRIDGES", "150"))


def names(i: int) -> Dict[str, str]:
    return {"bridge": "br29-%d" % i, "port": "v29-%d" % i, "peer": "p29-%d" % i}


def document(state: str = "up") -> Dict[str, Any]:
    """The repro's end state: bridges without IP, STP off, one port each."""
    if state == "absent":
        return {"interfaces": [{"name": names(i)["bridge"], "type": "linux-bridge", "state": "absent"}
                               for i in range(BRIDGES)]}
    return {"interfaces": [{"name": names(i)["bridge"], "type": "linux-bridge", "state": "up",
                            "ipv4": {"enabled": False}, "ipv6": {"enabled": False},
                            "bridge": {"options": {"stp": {"enabled": False}}, "port": [{"name": names(i)["port"]}]}}
                           for i in range(BRIDGES)]}


def ok(result: Dict[str, Any], changed: bool) -> Dict[str, Any]:
    assert result["status"] == "ok", result.get("msg", result)
    assert result["changed"] is changed, result.get("diff")
    assert result.get("rolled_back") in (None, False), result
    assert not [w for w in result.get("warnings", []) if "time" in w.lower()], result["warnings"]
    return result


def masters(view) -> Dict[str, str]:
    """``{port: its master}`` of the test's veth ends, from the kernel."""
    links = json.loads(view.run("ip", "-j", "link", "show", "type", "veth") or "[]")
    return {link["ifname"]: link.get("master", "") for link in links if link["ifname"].startswith("v29-")}


def ours(view, prefix: str) -> List[Dict[str, str]]:
    return [p for p in view.profiles() if p["name"].startswith(prefix)]


def test_hundreds_of_bridges_with_a_port_each_apply_rerun_and_go(lab, lab_host, runner, view):
    """RC-29: every profile is there and active, the kernel agrees, the re-run writes nothing, and
    ``state: absent`` removes every bridge, its ports left as standalone profiles without IP (as
    nmstate leaves the ports of a removed controller)."""
    pairs = "".join("link add %(port)s type veth peer name %(peer)s\nlink set %(peer)s up\n" % names(i)
                    for i in range(BRIDGES))
    lab.run(lab_host, "ip", "-batch", "-", input=pairs)
    bridges = sorted(names(i)["bridge"] for i in range(BRIDGES))
    ports = sorted(names(i)["port"] for i in range(BRIDGES))
    try:
        ok(runner.apply(lab_host, document()), changed=True)
        assert sorted(p["name"] for p in ours(view, "br29-") if p["type"] == "bridge" and p["device"]) == bridges
        assert sorted(p["name"] for p in ours(view, "v29-") if p["device"]) == ports
        assert masters(view) == {names(i)["port"]: names(i)["bridge"] for i in range(BRIDGES)}

        again = ok(runner.apply(lab_host, document()), changed=False)
        assert again["writes"] == 0, again["writes"]

        ok(runner.apply(lab_host, document("absent")), changed=True)
        assert ours(view, "br29-") == []
        assert sorted(p["name"] for p in ours(view, "v29-") if p["device"]) == ports
        assert masters(view) == dict.fromkeys(ports, "")
        assert ok(runner.apply(lab_host, document("absent")), changed=False)["writes"] == 0
    finally:
        lab.run(lab_host, "ip", "-batch", "-", check=False,
                input="".join("link del %s\n" % names(i)["port"] for i in range(BRIDGES)))
