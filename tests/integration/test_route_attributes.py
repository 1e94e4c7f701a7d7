"""A route attribute hostnet.nm does not model survives when the profile's
routes are rewritten (the kind of BC-27: what was set outside the tool stays).

``tos`` and ``quickack`` are set on a route with nmcli, as another tool or an
administrator would; a document that keeps that route and adds another one
rewrites the profile's ``route-data``, and the route keeps both, in the
profile and in the kernel."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.nm_versions]

TUNED = "198.19.40.0/24"


def test_attributes_set_outside_stay_when_another_route_is_added(lab, lab_host, runner, view) -> None:
    host_ip = lab.data_ip(lab_host, 1)
    view.run("nmcli", "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "eth1",
             "ipv4.method", "manual", "ipv4.addresses", host_ip + "/24", "ipv6.method", "disabled",
             "ipv4.routes", TUNED + " 198.18.1.1 100 tos=16 quickack=1")
    view.run("nmcli", "connection", "up", "eth1")
    eth1 = {"name": "eth1", "type": "ethernet", "state": "up",
            "ipv4": {"enabled": True, "dhcp": False, "address": [{"ip": host_ip, "prefix-length": 24}]}}
    routes = [{"destination": TUNED, "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1", "metric": 100},
              {"destination": "198.19.41.0/24", "next-hop-address": "198.18.1.1", "next-hop-interface": "eth1"}]
    result = runner.apply(lab_host, {"interfaces": [eth1], "routes": {"config": routes}})
    assert result["status"] == "ok" and result["changed"], result.get("msg", result)

    saved = view.run("nmcli", "-g", "ipv4.routes", "connection", "show", "eth1")
    assert "198.19.41.0/24" in saved and "tos=16" in saved and "quickack=" in saved, saved
    kernel = view.run("ip", "route", "show", TUNED)
    assert "tos 0x10" in kernel and "quickack 1" in kernel, kernel

    again = runner.apply(lab_host, {"interfaces": [eth1], "routes": {"config": routes}})
    assert again["status"] == "ok" and not again["changed"] and again["writes"] == 0, again
