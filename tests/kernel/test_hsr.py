"""HSR and PRP applied with hostnet.nm.network_state to the user-mode-linux guest (this machine's
kernel has no hsr driver; the guest's 6.1 kernel has). NetworkManager has an ``hsr`` setting only
since 1.46: on a 1.42 guest (the kernel tier) the apply is refused before anything changes, naming
the version; on a 1.52 guest (the tier's ``nm_versions`` subset) a PRP interface over eth1 and eth2
is shown in check mode (diff, no write), created with its supervision address, reaches the switch,
re-runs with zero writes, feeds ``network_state_info`` back as a no-op, is re-created as HSR with another multicast-spec (and as
``hsr-2012`` where NetworkManager has ``protocol-version``, 1.56), goes down and is removed, its
ports left in place."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_bonds_vlans import apply, link, ok, ping, profiles, sh, v4  # noqa: E402

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("leave_the_guest_clean")]

#: eth1's MAC in the guest (tests/kernel/README.md): a PRP node uses one MAC address on both LANs
MAC = "02:6B:00:00:00:01"


def hsr_doc(state="up", **section):
    ports = [{"name": port, "type": "ethernet", "state": "up", "mac-address": MAC, "ipv4": {"enabled": False},
              "ipv6": {"enabled": False}} for port in ("eth1", "eth2")]
    return {"interfaces": ports + [
        {"name": "hsr0", "type": "hsr", "state": state,
         "hsr": dict({"port1": "eth1", "port2": "eth2", "multicast-spec": 40, "protocol": "prp"}, **section),
         "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.51", "prefix-length": 24}]},
         "ipv6": {"enabled": False}}]}


def info_data(guest, dev="hsr0"):
    return link(guest, dev).get("linkinfo", {}).get("info_data", {})


def version(guest):
    return tuple(int(n) for n in guest.nm.split("."))


@pytest.mark.nm_versions  # 1.42: refused before anything changes; 1.52: the whole life of a PRP/HSR interface
def test_hsr(guest, runner):
    doc = hsr_doc()
    if version(guest) < (1, 46):
        result = apply(runner, doc)
        assert result["status"] == "failed" and not result.get("writes"), result
        assert "KIND_NEEDS_NEWER_NM" in result["msg"] and "interfaces[2].type" in result["msg"], result["msg"]
        assert "since 1.46" in result["msg"] and guest.nm in result["msg"], result["msg"]
        assert profiles(guest) == [] and "hsr0" not in sh(guest, "ip -br link")
        return
    name = runner.lab.name
    run = runner.round_trip(name, doc)  # check mode with diff, apply, re-run, info, info fed back: one play
    check = ok(run.task("check", name), changed=True)
    assert check["writes"] == 0 and "hsr0" in str(check["diff"]) and "hsr0" in [op["interface"] for op in check["plan"]]
    assert ok(run.task("apply", name), changed=True)["writes"] > 0
    assert ok(run.task("rerun", name), changed=False)["writes"] == 0
    got = {i["name"]: i for i in run.task("info", name)["network_state"]["interfaces"]}
    assert got["hsr0"]["type"] == "hsr"
    assert got["hsr0"]["hsr"] == {"port1": "eth1", "port2": "eth2", "multicast-spec": 40, "protocol": "prp"}
    assert ok(run.task("info fed back", name), changed=False)["writes"] == 0
    live = link(guest, "hsr0")
    assert live["linkinfo"]["info_kind"] == "hsr", live
    data = info_data(guest)
    # the kernel's supervision address ends in multicast-spec (40 = 0x28); proto 1 is PRP
    assert (data["slave1"], data["slave2"], data["supervision_addr"], data["proto"]) == (
        "eth1", "eth2", "01:15:4e:00:01:28", 1), data
    assert live["mtu"] == 1494  # the ports' 1500 minus the 6 bytes of the HSR tag (hsr_get_max_mtu)
    assert v4(guest, "hsr0") == ["198.18.1.51/24"] and ping(guest, "198.18.1.254")

    # another protocol and multicast-spec: the kernel changes neither on a live device, so it is re-created
    ok(apply(runner, hsr_doc(protocol="hsr", **{"multicast-spec": 41})), changed=True)
    data = info_data(guest)
    assert (data["supervision_addr"], data["proto"], data["slave1"]) == ("01:15:4e:00:01:29", 0, "eth1"), data
    assert v4(guest, "hsr0") == ["198.18.1.51/24"]
    if version(guest) >= (1, 56):
        ok(apply(runner, hsr_doc(protocol="hsr-2012")), changed=True)
        assert ok(apply(runner, hsr_doc(protocol="hsr-2012")), changed=False)["writes"] == 0
        assert "protocol-version=1" in sh(guest, "cat /etc/NetworkManager/system-connections/hsr0*.nmconnection")

    ok(apply(runner, hsr_doc("down")), changed=True)
    assert "hsr0" not in sh(guest, "ip -br link") and any(p.startswith("hsr0:") for p in profiles(guest))
    ok(apply(runner, {"interfaces": [{"name": "hsr0", "state": "absent"}]}), changed=True)
    assert not any(p.startswith("hsr0:") for p in profiles(guest))
    assert {"eth1", "eth2"} <= {line.split()[0].split("@")[0] for line in sh(guest, "ip -br link").splitlines()}
