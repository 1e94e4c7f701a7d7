"""MACsec applied with hostnet.nm.network_state to the user-mode-linux guest (this machine's
kernel has no macsec driver; the guest's 6.1 kernel has): a MACsec with MKA from a pre-shared key
(mka-cak/mka-ckn) on a guest NIC is created, re-runs with zero writes, is reported by
``network_state_info`` with its CAK only as set (never its value), fed back as a no-op, and
removed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_bonds_vlans import apply, link, ok, profiles, sh  # noqa: E402

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("leave_the_guest_clean")]

CAK = "5a1e2b3c4d5e6f708192a3b4c5d6e7f8"
CKN = "0123456789abcdef0123456789abcdef"
MACSEC = {"base-iface": "eth1", "encrypt": True, "port": 5, "validation": "check", "send-sci": True,
          "mka-cak": CAK, "mka-ckn": CKN}


DOC = {"interfaces": [
    {"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {"enabled": False}, "ipv6": {"enabled": False}},
    {"name": "ms0", "type": "macsec", "state": "up", "macsec": MACSEC,
     "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": "198.18.1.41", "prefix-length": 24}]},
     "ipv6": {"enabled": False}}]}


def test_macsec_psk_create_rerun_round_trip_absent(clean_guest, runner):
    guest = clean_guest
    created = ok(apply(runner, DOC), changed=True)
    assert CAK not in json.dumps(created)
    live = link(guest, "ms0")
    assert live["linkinfo"]["info_kind"] == "macsec" and live.get("link") == "eth1", live
    data = live["linkinfo"]["info_data"]
    # the port is the last 16 bits of the secure channel identifier (IEEE 802.1AE)
    assert (data["sci"][-4:], data["encrypt"], data["validation"], data["inc_sci"]) == ("0005", True, "check", True), data
    assert "198.18.1.41/24" in sh(guest, "ip -br -4 address show dev ms0")
    # NetworkManager stored the CAK itself (it hands it out only as a secret)
    assert CAK in sh(guest, "cat /etc/NetworkManager/system-connections/*.nmconnection")

    again = ok(apply(runner, DOC), changed=False)
    assert again["writes"] == 0

    name = runner.lab.name
    info = runner.play([{"hosts": name, "gather_facts": False,
                         "tasks": [{"name": "info", "hostnet.nm.network_state_info": {}}]}]).task("info", name)
    assert CAK not in json.dumps(info)
    got = {i["name"]: i for i in info["network_state"]["interfaces"]}
    assert got["ms0"]["type"] == "macsec"
    assert got["ms0"]["macsec"] == dict(MACSEC, **{"mka-cak": "<hidden>", "mka-ckn": "<hidden>"})
    assert ok(apply(runner, info["network_state"]), changed=False)["writes"] == 0

    ok(apply(runner, {"interfaces": [{"name": "ms0", "state": "absent"}]}), changed=True)
    assert not any(p.startswith("ms0:") for p in profiles(guest))
    assert "ms0" not in sh(guest, "ip -br link")
