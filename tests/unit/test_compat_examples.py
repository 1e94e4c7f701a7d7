# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nmstate compatibility: an nmstate desired state either validates or is
refused with errors that are all ``UNSUPPORTED`` (``unsupported: <path>``):
never a crash, never ``UNKNOWN_KEY`` for a real nmstate key.

Runs on nmstate's own examples in ``<repo>/../shared/compat/nmstate-examples``
when that folder is there (skipped otherwise), and always on the project's own
fixtures below, written in the same spirit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import validation

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "compat" / "nmstate-examples"

# the project's own nmstate-style fixtures: (name, document, expected UNSUPPORTED paths)
FIXTURES = [
    ("untyped interface, absent routes", """
interfaces:
  - name: eth1
routes:
  config:
    - next-hop-interface: eth1
      state: absent
""", []),
    ("dns cleared", "dns-resolver: {config: {}}\ninterfaces: []\n", []),
    ("documentation addresses", """
interfaces:
  - name: eth1
    type: ethernet
    state: up
    ipv4: {enabled: true, dhcp: false, address: [{ip: 192.0.2.10, prefix-length: 24}]}
    ipv6: {enabled: true, dhcp: false, autoconf: false, address: [{ip: "2001:db8:1::a", prefix-length: 64}]}
routes:
  config:
    - {destination: 0.0.0.0/0, next-hop-address: 192.0.2.1, next-hop-interface: eth1}
    - {destination: "::/0", next-hop-address: "2001:db8:1::1", next-hop-interface: eth1}
dns-resolver:
  config: {search: [example.com], server: ["2001:db8:1::53", 192.0.2.53], options: [rotate, debug]}
""", []),
    ("ovs bridge with ovs options", """
interfaces:
  - {name: eth1, type: ethernet, state: up}
  - name: ovs-br0
    type: ovs-bridge
    state: up
    bridge:
      allow-extra-patch-ports: true
      options: {fail-mode: '', mcast-snooping-enable: false, rstp: false, stp: true}
      port: [{name: eth1, vlan: {mode: access, tag: 2}}]
""", ["interfaces[1].type"]),
    ("bond ports-config and route extras", """
interfaces:
  - name: bond0
    type: bond
    link-aggregation:
      mode: active-backup
      port: [eth1]
      ports-config: [{name: eth1, queue-id: 0, priority: -1}]
routes:
  config:
    - {destination: 198.51.100.0/24, next-hop-interface: eth1, source: 192.0.2.251, cwnd: 20, lock-cwnd: false}
route-rules:
  config:
    - {ip-to: 192.0.2.0/24, priority: 100, route-table: 254, fwmark: 0x30, fwmask: 0x10}
hostname: {config: host.example.org}
""", ["interfaces[0].link-aggregation.ports-config", "routes.config[0].source", "routes.config[0].cwnd",
      "routes.config[0].lock-cwnd", "route-rules.config[0].fwmark", "route-rules.config[0].fwmask", "hostname"]),
]


def assert_compatible(doc):
    """Validates, or every error is UNSUPPORTED with its path in the message."""
    _canonical, errors, _warnings = validation.validate(doc)
    for problem in errors:
        assert problem.code == "UNSUPPORTED", str(problem)
        assert problem.message.startswith("unsupported: %s" % problem.path), str(problem)
    return errors


@pytest.mark.parametrize("name,text,unsupported", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_own_fixtures(name, text, unsupported):
    errors = assert_compatible(yaml.safe_load(text))
    assert sorted(p.path for p in errors) == sorted(unsupported)


def example_files():
    return sorted(EXAMPLES.glob("*.yml")) + sorted(EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", example_files() or [None], ids=lambda p: p.name if p else "absent")
def test_nmstate_example(path):
    if path is None:
        pytest.skip("no nmstate examples at %s" % EXAMPLES)
    for doc in yaml.safe_load_all(path.read_text()):
        assert_compatible(doc)
