# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nmstate compatibility: an nmstate desired state either validates or is
refused with errors that are all ``UNSUPPORTED`` (``unsupported: <path>``),
each with a hint: never a crash, never ``UNKNOWN_KEY`` for a real nmstate key.

The compat corpus (``tests/compat/corpus.yml``) holds one document per example
file of nmstate's ``examples/`` folder, written for this project, with the
outcome hostnet.nm gives it (accepted, or refused with each error's code and
path); the test holds the code to that table, and docs/nmstate-differences.md
to its counts. nmstate's own example files are checked against the same table
when a folder of them is there: ``$HOSTNET_NMSTATE_EXAMPLES``, else
``<repo>/../shared/compat/nmstate-examples`` (skipped when neither is)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from ansible_collections.hostnet.nm.plugins.module_utils import validation

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = Path(os.environ.get("HOSTNET_NMSTATE_EXAMPLES") or REPO.parent / "shared" / "compat" / "nmstate-examples")
CORPUS_FILE = REPO / "tests" / "compat" / "corpus.yml"
CORPUS = yaml.safe_load(CORPUS_FILE.read_text())
DIFFERENCES = REPO / "docs" / "nmstate-differences.md"

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
""", ["interfaces[0].link-aggregation.ports-config"]),
]


def assert_compatible(doc):
    """Validates, or every error is UNSUPPORTED with its path in the message and a hint."""
    _canonical, errors, _warnings = validation.validate(doc)
    for problem in errors:
        assert problem.code == "UNSUPPORTED", str(problem)
        assert problem.message.startswith("unsupported: %s" % problem.path), str(problem)
        assert problem.hint, str(problem)
    return errors


@pytest.mark.parametrize("name,text,unsupported", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_own_fixtures(name, text, unsupported):
    errors = assert_compatible(yaml.safe_load(text))
    assert sorted(p.path for p in errors) == sorted(unsupported)


# ------------------------------------------------------------ the compat corpus

def assert_outcome(name, doc):
    """``doc`` gets the outcome the corpus table gives example ``name``: no
    error, or exactly the listed ``[code, path]`` refusals, each with a hint
    (containing the entry's ``hint`` text when it has one)."""
    entry = CORPUS[name]
    errors = assert_compatible(doc)
    if entry["outcome"] == "accepted":
        assert errors == [], "%s: the corpus says accepted" % name
        return
    assert errors, "%s: the corpus says refused" % name
    assert sorted((p.code, p.path) for p in errors) == sorted(tuple(r) for r in entry["refused"]), name
    for problem in errors:
        assert entry.get("hint", "") in problem.hint, str(problem)


def test_corpus_table_is_well_formed():
    for name, entry in CORPUS.items():
        assert set(entry) <= {"outcome", "planned", "refused", "hint", "document", "min_nm"}, name
        assert entry["outcome"] in ("accepted", "refused"), name
        assert ("refused" in entry) == (entry["outcome"] == "refused"), name
        assert ("planned" in entry) == (entry["outcome"] == "accepted"), "%s: accepted needs planned" % name
        assert isinstance(entry["document"], dict), name


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_outcome(name):
    assert_outcome(name, CORPUS[name]["document"])


def test_counts_in_the_differences_doc_are_current(gen_schema_tool):
    text = DIFFERENCES.read_text()
    assert gen_schema_tool.CORPUS_BEGIN in text and gen_schema_tool.CORPUS_END in text
    assert gen_schema_tool.with_corpus(text) == text, "run: python tests/tools/gen_schema.py"
    assert "%d are accepted and %d refused" % (
        sum(e["outcome"] == "accepted" for e in CORPUS.values()), sum(e["outcome"] == "refused" for e in CORPUS.values())
    ) in text


# ------------------------------------------------------------ nmstate's own files

def example_files():
    return sorted(EXAMPLES.glob("*.yml")) + sorted(EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", example_files() or [None], ids=lambda p: p.name if p else "absent")
def test_nmstate_example(path):
    """An nmstate example file gets its corpus entry's outcome (the corpus
    mirrors its structure, so paths match); a file the corpus does not name
    is at least validated or refused cleanly."""
    if path is None:
        pytest.skip("no nmstate examples at %s" % EXAMPLES)
    for doc in yaml.safe_load_all(path.read_text()):
        if path.stem in CORPUS:
            assert_outcome(path.stem, doc)
        else:
            assert_compatible(doc)
