"""The host name (issue 15 item 7): its syntax, the plan's change and diff, what the host
refuses, the ledger that holds a pending name until the commit, and offline keyfiles (plain
data; the lab tests in tests/integration/test_loopback_hostname.py write names for real)."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import hostname, keyfiles
from ansible_collections.hostnet.nm.plugins.module_utils.errors import InvalidStateError
from ansible_collections.hostnet.nm.plugins.module_utils.nm import ledger
from ansible_collections.hostnet.nm.plugins.module_utils.nm.checkpoint import Checkpoint
from ansible_collections.hostnet.nm.plugins.module_utils.plan import Plan, plan_hostname
from ansible_collections.hostnet.nm.plugins.module_utils.schema import parse_document
from ansible_collections.hostnet.nm.plugins.module_utils.validation import validate

HOST = {"config": "h1", "running": "h1"}


@pytest.mark.parametrize("name", ["h1", "web-01", "web-01.example.org", "A1-b2.C3", "1host", "x" * 63,
                                  "%s.%s" % ("a" * 31, "b" * 32)])
def test_rfc_1123_names_are_valid(name):
    assert hostname.syntax_problem(name) is None


@pytest.mark.parametrize("name,code,says", [
    ("web_01", "HOSTNAME_INVALID", "label 'web_01'"),
    ("web-01.", "HOSTNAME_INVALID", "empty label"),
    (".web", "HOSTNAME_INVALID", "empty label"),
    ("a..b", "HOSTNAME_INVALID", "empty label"),
    ("-web", "HOSTNAME_INVALID", "label '-web'"),
    ("web-", "HOSTNAME_INVALID", "label 'web-'"),
    ("web 01", "HOSTNAME_INVALID", "label 'web 01'"),
    ("wéb", "HOSTNAME_INVALID", "label"),
    ("a" * 64, "HOSTNAME_INVALID", "label"),           # one label of 64: RFC 1123 allows 63
    ("%s.%s" % ("a" * 32, "b" * 32), "HOSTNAME_TOO_LONG", "65 bytes"),  # the kernel keeps 64
])
def test_names_outside_rfc_1123_or_64_bytes_are_refused_with_a_hint(name, code, says):
    found = hostname.syntax_problem(name)
    assert found is not None and found[0] == code and says in found[1] and found[2]


def test_the_section_parses_and_reports_every_error_by_path():
    assert parse_document({"hostname": {"config": "", "running": "web-01"}}) == (
        {"hostname": {"config": "", "running": "web-01"}}, [])
    _doc, problems = parse_document({"hostname": {"config": "web_01", "running": ""}})
    assert [(p.code, p.path) for p in problems] == [("HOSTNAME_INVALID", "hostname.config"),
                                                    ("EMPTY_VALUE", "hostname.running")]
    _doc, errors, _warnings = validate({"hostname": {"config": "a..b"}, "interfaces": [{"name": "e" * 16}]})
    assert {p.code for p in errors} == {"HOSTNAME_INVALID", "INTERFACE_NAME_INVALID"}  # all at once


def change_of(current, desired):
    plan = Plan()
    plan.desired = {"hostname": desired}
    plan_hostname(plan, current)
    return plan


def test_the_plan_changes_only_the_keys_that_differ_and_shows_them_in_the_diff():
    plan = change_of(HOST, {"config": "web-01", "running": "h1"})
    assert plan.changed and not plan.network_changed
    assert plan.hostname == hostname.HostNameChange({"config": "h1"}, {"config": "web-01"})
    assert plan.diff == {"before": {"hostname": {"config": "h1"}}, "after": {"hostname": {"config": "web-01"}}}
    assert plan.hostname.as_op() == {"op": "hostname", "interface": "", "disruption": "none", "reason":
                                     "config 'h1' -> 'web-01'; written once the network change is committed"}


@pytest.mark.parametrize("desired", [{}, {"config": "h1"}, {"running": "h1"}, dict(HOST)])
def test_what_the_host_has_already_is_no_change(desired):
    plan = change_of(HOST, desired)
    assert plan.hostname is None and not plan.changed and plan.diff == {"before": {}, "after": {}}


def test_an_empty_config_removes_the_static_name():
    plan = change_of(HOST, {"config": ""})
    assert plan.hostname is not None and plan.hostname.after == {"config": ""}
    assert change_of({"config": "", "running": "h1"}, {"config": ""}).hostname is None


def test_the_host_refuses_a_static_name_in_memory_only_or_without_a_writable_plugin():
    assert hostname.problems_on_host({"running": "web-01"}, persistent=False, writable=False) == []
    assert hostname.problems_on_host({"config": "web-01"}, persistent=True, writable=True) == []
    (memory,) = hostname.problems_on_host({"config": "web-01"}, persistent=False, writable=True)
    assert (memory.code, memory.path) == ("HOSTNAME_NOT_PERSISTENT", "hostname.config") and memory.hint
    (locked,) = hostname.problems_on_host({"config": "web-01"}, persistent=True, writable=False)
    assert (locked.code, locked.path) == ("HOSTNAME_NOT_WRITABLE", "hostname.config") and locked.hint


def test_the_ledger_holds_the_name_until_the_commit_and_a_group_gathers_its_tasks(tmp_path):
    path = str(tmp_path / "checkpoint.json")
    cp = Checkpoint(None, "/org/freedesktop/NetworkManager/Checkpoint/7")
    ledger.ledger_write(cp, ledger.PENDING, 30, "id1", path=path, hostname={"config": "web-01"})
    assert ledger.ledger_read(path)["hostname"] == {"config": "web-01"}
    ledger.ledger_write(cp, ledger.GROUP, 30, path=path)
    assert ledger.ledger_read(path)["hostname"] == {}
    ledger.ledger_defer_hostname({"config": "web-01", "running": "a"}, path=path)
    ledger.ledger_defer_hostname({"running": "b"}, path=path)  # a later task's keys win
    record = ledger.ledger_read(path)
    assert record["hostname"] == {"config": "web-01", "running": "b"} and record["state"] == ledger.GROUP
    ledger.ledger_clear(path)
    ledger.ledger_defer_hostname({"running": "c"}, path=path)  # nothing recorded: nothing written
    assert ledger.ledger_read(path) is None


def test_offline_keyfiles_refuse_a_host_name():
    with pytest.raises(InvalidStateError) as err:
        keyfiles.generate({"hostname": {"config": "web-01"},
                           "interfaces": [{"name": "eth0", "type": "ethernet", "state": "up"}]})
    (problem,) = err.value.problems
    assert (problem.code, problem.path) == ("OFFLINE_HOSTNAME", "hostname") and "/etc/hostname" in problem.hint
