# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based fuzzing of the entry points hostile input goes through
(issue 20, item 7).

The controller: the action plugin runs ``validation.validate`` on the
document and ``options.check`` on the task's arguments. The host: the
module builds ``transaction.Options`` and ``transaction.apply`` runs
``validation.check``, ``model.from_document``, ``plan.make_plan`` and
``plan.add_live_repairs`` (here against a plain-data snapshot of a host
instead of NetworkManager).

Documents are valid ones (from test_validation_properties) hit by hostile
mutations: strings with NUL, control characters, lone surrogates,
non-ASCII letters or 5,000 characters; numbers as text with leading
zeros, signs, hexadecimal or 30 digits; 5,000-digit integers; deep
nesting; a subtree shared a thousand times (a YAML alias bomb); hostile
keys. Whatever comes, the result is either problems, each with a stable
code, a short message and a path that can be found in the document, or a
document that plans without an exception. Bounded examples, no deadline
(no timed assertions in unit tests)."""

from __future__ import annotations

import copy
import os
import re
from typing import Any, List, Tuple

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ansible_collections.hostnet.nm.plugins.module_utils import kinds, options, validation
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError, Problem
from ansible_collections.hostnet.nm.plugins.module_utils.nm import reader
from ansible_collections.hostnet.nm.plugins.module_utils.snapshot import Profile, Snapshot, choose_profiles
from ansible_collections.hostnet.nm.plugins.module_utils.plan import add_live_repairs, make_plan
from ansible_collections.hostnet.nm.plugins.module_utils.schema import join
from ansible_collections.hostnet.nm.plugins.module_utils.transaction import Options
from ansible_collections.hostnet.nm.tests.unit.test_validation_properties import documents, places

# CI replays the same examples (a red CI must be reproducible); elsewhere every run tries new ones
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck),
                derandomize=bool(os.environ.get("CI")))
CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")

# ----------------------------------------------------------------- hostile values

hostile_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),  # surrogates, controls, anything
    st.sampled_from(["eth\x00", "eth\x1b", "ethé", "eth\u00a0", "\ud800", "e\udfff1", "e%d", "eth/1", ".", "",
                     "x" * 5000, "é" * 20, "0100", "024", "-1", "+7", "0x5dc", "0X", " 1500 ", "9" * 30,
                     "1e3", "1_000", "\u202e1", "eth1\n", "fe80::1%eth\x00"]),
)
hostile_number = st.one_of(st.integers(-(2 ** 70), 2 ** 70), st.just(10 ** 4999), st.just(-(10 ** 5000)),
                           st.floats(allow_nan=True, allow_infinity=True))
hostile_scalar = st.one_of(hostile_text, hostile_number, st.none(), st.booleans())


def nest(value: Any, depth: int) -> Any:
    for _level in range(depth):
        value = [value]
    return value


@st.composite
def hostile_value(draw) -> Any:
    kind = draw(st.sampled_from(["scalar", "scalar", "deep", "shared", "mapping"]))
    if kind == "deep":
        return nest(draw(hostile_scalar), draw(st.sampled_from([5, 19, 20, 21, 60, 3000])))
    if kind == "shared":  # what an alias bomb loads as: one object reached many times (10**3 or 10**7)
        inner = [draw(hostile_scalar)] * 10
        for _level in range(draw(st.sampled_from([2, 6]))):
            inner = [inner] * 10
        return inner
    if kind == "mapping":
        return draw(st.dictionaries(hostile_text, hostile_scalar, max_size=3))
    return draw(hostile_scalar)


@st.composite
def hostile_documents(draw) -> Any:
    """A valid document with one to three hostile mutations (a value
    replaced, a key added, a key renamed) or numbers written as text."""
    doc = copy.deepcopy(draw(documents()))
    spots = [p for p in places(doc) if p]  # of the valid document: never walk a hostile value
    for path in draw(st.lists(st.sampled_from(spots), min_size=1, max_size=3)):
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):  # an earlier mutation took it away
            continue
        if not isinstance(parent, (dict, list)):
            continue
        action = draw(st.sampled_from(["replace", "replace", "add", "rename", "as text", "as text"]))
        value = parent[path[-1]]
        if action == "as text":  # a number as a template renders it: valid, must plan like the number
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 64:  # not an earlier hostile one
                parent[path[-1]] = draw(st.sampled_from([str(value), " %d " % value, hex(value), "+%d" % value]))
        elif action == "replace" or not isinstance(parent, dict):
            parent[path[-1]] = draw(hostile_value())
        elif action == "add":
            parent[draw(hostile_text)] = draw(hostile_value())
        else:
            parent[draw(hostile_text)] = parent.pop(path[-1])
    return doc


# ----------------------------------------------------------------- path lookup

def findable(doc: Any, path: str) -> bool:
    """Whether ``path`` leads to a value of ``doc``, or names a missing key of a
    mapping (or null section) that is there (``MISSING_KEY``, a required key's path)."""
    if path == "":
        return True
    todo: List[Tuple[Any, str]] = [(doc, path)]
    while todo:
        node, rest = todo.pop()
        if rest == "":
            return True
        if rest.startswith("."):
            rest = rest[1:]
        if isinstance(node, list):
            m = re.match(r"\[(\d+)\]", rest)
            if m and int(m.group(1)) < len(node):
                todo.append((node[int(m.group(1))], rest[m.end():]))
        elif isinstance(node, dict) or node is None:  # the schema reads a null section as an empty mapping
            for key, value in (node or {}).items():
                text = join("", key)  # as the schema writes it: plain, or quoted (["a b"])
                if rest.startswith(text) and rest[len(text):][:1] in ("", ".", "["):
                    todo.append((value, rest[len(text):]))
            if re.fullmatch(r"[a-z0-9-]+", rest):  # a key the document lacks, in a mapping it has
                return True
    return False


def assert_well_formed(doc: Any, problems: List[Problem]) -> None:
    for p in problems:
        assert CODE.match(p.code) and p.code != "INTERNAL_RULE_ERROR", p
        assert p.message and len(p.message) < 600 and len(p.hint) < 600, p
        assert findable(doc, p.path), (p.code, p.path)


# ----------------------------------------------------------------- the host

def host() -> Snapshot:
    """A host with eth1 (active, static 198.18.1.11/24), eth2 and eth10/eth11 (no profile) and an
    unmanaged mgmt0, as plain data."""
    snap = Snapshot()
    for n, name in enumerate(["eth1", "eth2", "eth10", "eth11", "mgmt0"], 1):
        snap.devices[name] = {"path": "/d/%d" % n, "nm_type": 1, "type": "ethernet", "managed": name != "mgmt0",
                              "state": 100 if n == 1 else 30, "mtu": 1500, "mac": None,
                              "active": "/a/1" if n == 1 else "/", "ip4config": "/", "ip6config": "/", "real": True}
    prof = Profile("/p/1", {"connection": {"id": "eth1", "uuid": "u1", "type": "802-3-ethernet",
                                           "interface-name": "eth1"},
                            "ipv4": {"method": "manual", "address-data": [{"address": "198.18.1.11", "prefix": 24}]},
                            "ipv6": {"method": "disabled"}}, {})
    prof.active = "/a/1"
    snap.profiles.append(prof)
    choose_profiles(snap)
    return snap


def module_side(document: Any) -> None:
    """What transaction.apply does with a document before it writes (its read step replaced by
    a plain-data snapshot)."""
    desired_doc, _warnings = validation.check(document)
    desired = kinds.from_document(desired_doc)
    snap = host()
    plan = make_plan(snap, reader.current_state(snap), desired)
    add_live_repairs(plan, snap, reader.live_state(snap, set(desired.get("interfaces", {}))))


# ----------------------------------------------------------------- properties

@FUZZ
@given(hostile_documents())
def test_hostile_documents_get_coded_problems_or_plan(doc):
    _canonical, errors, warnings = validation.validate(doc)  # the action plugin, on the controller
    assert_well_formed(doc, errors + warnings)
    event("refused on the controller" if errors else "planned on the host")
    if errors:
        return  # the module's validation.check raises these same problems (test_validation_properties)
    try:
        module_side(doc)  # the module, on the host
    except InvalidStateError as exc:  # what only the host can judge (a port that does not exist...)
        assert exc.problems
        assert_well_formed(doc, exc.problems)


@FUZZ
@given(st.dictionaries(st.sampled_from(["rollback_timeout", "wait_timeout", "verify_timeout", "lock_timeout"]),
                       st.one_of(hostile_scalar, st.integers(-10, 100000)), min_size=1))
def test_hostile_timeouts_are_refused_or_accepted_the_same_on_both_sides(args):
    problems = options.check(args)  # the action plugin
    assert_well_formed(args, problems)
    try:
        Options(**{k: v for k, v in args.items() if v is not None})  # the module (a null is the default)
    except InvalidStateError as exc:
        assert [p.as_dict() for p in exc.problems] == [p.as_dict() for p in problems]
    except (TypeError, ValueError):  # Ansible's argument spec converts types before the module sees them
        assert problems
    else:
        assert problems == []
