"""ADDRESS_SUBNET_OVERLAP finds the same clash as comparing every pair, with
work that grows with the addresses, not with their square (plain data, no clock)."""

from __future__ import annotations

import ipaddress
from typing import Any, List, Optional, Tuple

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hostnet.nm.plugins.module_utils import validation

NAMES = ("eth1", "eth2", "br0")


def pairwise(nets: List[Tuple[Any, str, str]], net: Any, name: str) -> Optional[Tuple[Any, str, str]]:
    """The rule as it was written first: the first earlier subnet of another interface that overlaps."""
    return next((n for n in nets if n[2] != name and n[0].version == net.version and n[0].overlaps(net)), None)


def network(version: int, value: int, prefix: int) -> Any:
    bits = 32 if version == 4 else 128
    return ipaddress.ip_network((value % (1 << bits), prefix), strict=False)


SUBNETS = st.lists(st.tuples(st.sampled_from([4, 6]), st.integers(0, 1 << 40), st.integers(0, 40),
                             st.sampled_from(NAMES)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(SUBNETS)
def test_the_first_overlap_is_the_one_every_pair_finds(entries: List[Tuple[int, int, int, str]]) -> None:
    index, seen = validation._Subnets(), []
    for i, (version, value, prefix, name) in enumerate(entries):
        # clustered values and short prefixes: many overlaps, nested both ways
        net = network(version, value << (0 if version == 4 else 88), prefix if version == 4 else prefix + 24)
        assert index.first_overlap(net, name) == pairwise(seen, net, name)
        index.add(net, "interfaces[%d]" % i, name)
        seen.append((net, "interfaces[%d]" % i, name))


def test_disjoint_subnets_are_not_compared_pairwise(monkeypatch: Any) -> None:
    calls = []
    monkeypatch.setattr(ipaddress.IPv4Network, "overlaps", lambda self, other: calls.append(1) or False)
    doc = {"interfaces": [{"name": "br%d" % i, "type": "linux-bridge", "state": "up",
                           "ipv4": {"enabled": True, "address": [{"ip": "198.19.%d.1" % i, "prefix-length": 24}]}}
                          for i in range(200)]}
    problems: List[Any] = []
    validation._address_conflicts(doc, problems)
    assert problems == [] and calls == []
    doc["interfaces"][199]["ipv4"]["address"].append({"ip": "198.19.0.0", "prefix-length": 16})
    validation._address_conflicts(doc, problems)
    assert [(p.code, p.path) for p in problems] == [("ADDRESS_SUBNET_OVERLAP", "interfaces[199].ipv4.address[1]")]
    assert "overlaps 198.19.0.0/24 on br0" in problems[0].message
