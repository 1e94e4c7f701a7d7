"""The plan's work grows linearly with the interfaces, not with their square.

A no-op with 500 profiles spent most of its plan in relation lookups: every
``keeps_ip`` asked ``controllers`` of the whole state again (one scan of
every interface per port), and every interface of the document scanned
every profile for rivals. These tests count the lookups (plain data, no
D-Bus, no clock) for a host of N bridges, each with one port, at N and 2N:
doubling the interfaces may at most double the calls.
"""

from __future__ import annotations

import collections
from typing import Any, Callable, Dict

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import kinds, model, snapshot
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.plan import make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile, Snapshot, choose_profiles

BRIDGE, ETHERNET = 13, 1  # NMDeviceType


def _device(path: str, nm_type: int, active: str) -> Dict[str, Any]:
    return {"path": path, "nm_type": nm_type, "type": "linux-bridge" if nm_type == BRIDGE else "ethernet",
            "managed": True, "state": 100, "mtu": 1500, "mac": None, "active": active, "ip4config": "/",
            "ip6config": "/", "real": True}


def _profile(path: str, settings: Dict[str, Any]) -> Profile:
    prof = Profile(path, settings, {})
    prof.active = "/a" + path
    return prof


def bridges(n: int) -> Snapshot:
    """A host of ``n`` active bridges ``br<i>`` (a static address, a route),
    each with one active ethernet port ``ve<i>``, and one unbound profile
    of another tool (a rival on every interface it may fit)."""
    snap = Snapshot()
    for i in range(n):
        snap.devices["br%d" % i] = _device("/d/b%d" % i, BRIDGE, "/a/p/b%d" % i)
        snap.devices["ve%d" % i] = _device("/d/v%d" % i, ETHERNET, "/a/p/v%d" % i)
        snap.profiles.append(_profile("/p/b%d" % i, {
            "connection": {"id": "br%d" % i, "uuid": "ub%d" % i, "type": "bridge", "interface-name": "br%d" % i},
            "bridge": {"stp": False}, "ipv6": {"method": "disabled"},
            "ipv4": {"method": "manual", "address-data": [{"address": "198.19.%d.1" % i, "prefix": 24}],
                     "route-data": [{"dest": "198.18.%d.0" % (64 + i), "prefix": 26, "next-hop": "198.19.%d.254" % i}]}}))
        snap.profiles.append(_profile("/p/v%d" % i, {
            "connection": {"id": "ve%d" % i, "uuid": "uv%d" % i, "type": "802-3-ethernet", "interface-name": "ve%d" % i,
                           "master": "br%d" % i, "slave-type": "bridge"}}))
    other = Profile("/p/other", {"connection": {"id": "Wired", "uuid": "u-other", "type": "802-3-ethernet",
                                                "autoconnect": True}}, {})
    snap.profiles.append(other)
    choose_profiles(snap)
    return snap


def plan_counts(n: int, monkeypatch: pytest.MonkeyPatch) -> Dict[str, int]:
    """The calls of the relation lookups in one plan of the host's own state
    fed back (every interface named) on :func:`bridges` ``(n)``."""
    snap = bridges(n)
    current = reader.current_state(snap)
    parsed, problems = parse_document(model.to_document(current))
    assert problems == []
    desired = kinds.from_document(parsed)
    calls: Dict[str, int] = collections.Counter()

    def counted(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return func(*args, **kwargs)
        return wrapper

    with monkeypatch.context() as patch:
        for module, name in ((kinds, "controllers"), (kinds, "ports_of")):
            patch.setattr(module, name, counted(name, getattr(module, name)))
        patch.setattr(snapshot.Profile, "fits", counted("fits", snapshot.Profile.fits))
        result = make_plan(snap, current, desired)
        result_ops = list(result.ops)
    # the unbound ethernet profile of another tool fits every port: blocked on each (behaviour, not speed)
    assert sorted((op.kind, op.iface, op.profile) for op in result_ops) == sorted(
        ("update", "ve%d" % i, "/p/other") for i in range(n))
    return dict(calls)


def test_relation_lookups_grow_linearly_with_the_interfaces(monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = plan_counts(20, monkeypatch), plan_counts(40, monkeypatch)
    assert small["controllers"] == large["controllers"]  # once per check, never once per port
    for name in ("ports_of", "fits"):
        assert 0 < large[name] <= 2 * small[name] + 2, (name, small[name], large[name])


def test_a_profile_is_a_rival_candidate_only_where_it_may_fit() -> None:
    snap = bridges(3)
    index = snapshot.ProfileIndex(snap.profiles)
    assert [p.path for p in index.may_fit("br1")] == ["/p/b1", "/p/other"]  # the snapshot's order
    assert [p.path for p in index.on("ve2")] == ["/p/v2"]
    assert index.on("nothing") == [] and [p.path for p in index.may_fit("nothing")] == ["/p/other"]


class _Entry(dict):  # type: ignore[type-arg]
    """A desired route that counts how often its ``state`` is asked."""

    asked = 0

    def get(self, key: Any, default: Any = None) -> Any:
        if key == "state":
            _Entry.asked += 1
        return super().get(key, default)


def test_absent_entries_are_found_once_not_once_per_route() -> None:
    routes = [model.canonical_route({"destination": "198.18.%d.0/24" % i, "next-hop-interface": "br0",
                                     "next-hop-address": "198.19.0.9"}) for i in range(30)]
    desired = [_Entry(r, destination="198.19.%d.0/24" % i) for i, r in enumerate(routes)]
    desired.append(_Entry({"destination": "198.18.3.0/24", "state": "absent"}))
    _Entry.asked = 0
    target = model.merge({"interfaces": {}, "routes": routes, "route-rules": [],
                          "dns-resolver": {"server": [], "search": [], "options": []}},
                         {"routes": desired}, kinds.SECTION_MERGES)
    assert _Entry.asked <= 3 * len(desired)  # a scan per current route asked 30 * 31 times
    assert "198.18.3.0/24" not in {r["destination"] for r in target["routes"]}
    assert len(target["routes"]) == 2 * len(routes) - 1
