# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report files on the controller (issue 20, item 10): atomic, never through
a planted symlink, mode 0600."""

from __future__ import annotations

import itertools
import json
import os
import stat

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import files
from ansible_collections.hostnet.nm.plugins.plugin_utils import drift, rollout


@pytest.fixture
def predictable(monkeypatch):
    """Temporary names an attacker can guess: "fixed" first, then "n1", "n2"..."""
    names = itertools.chain(["fixed"], ("n%d" % i for i in itertools.count(1)))
    monkeypatch.setattr(files, "_token", lambda: next(names))


def test_a_symlink_planted_at_the_temporary_name_is_not_followed(tmp_path, predictable):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    report = tmp_path / "reports" / "summary.json"
    report.parent.mkdir()
    planted = report.parent / ".summary.json.fixed.tmp"
    planted.symlink_to(victim)
    files.write_atomic(str(report), "report\n")
    assert victim.read_text() == "precious\n"
    assert planted.is_symlink() and os.readlink(planted) == str(victim)
    assert report.read_text() == "report\n" and not report.is_symlink()


def test_a_symlink_at_the_report_name_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    report = tmp_path / "summary.md"
    report.symlink_to(victim)
    files.write_atomic(str(report), "report\n")
    assert victim.read_text() == "precious\n"
    assert not report.is_symlink() and report.read_text() == "report\n"


def test_reports_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        path = files.write_atomic(str(tmp_path / "new" / "r.json"), "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert files.write_atomic(str(tmp_path / "shared.md"), "x", mode=0o644) and \
        stat.S_IMODE(os.stat(tmp_path / "shared.md").st_mode) == 0o644


def test_no_temporary_file_is_left_behind(tmp_path):
    files.write_atomic(str(tmp_path / "a.json"), "1")
    files.write_atomic(str(tmp_path / "a.json"), "2")
    assert os.listdir(tmp_path) == ["a.json"] and (tmp_path / "a.json").read_text() == "2"


def test_drift_and_rollout_reports_use_it(tmp_path, predictable):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / ".hostnet-drift-report.json.fixed.tmp").symlink_to(victim)
    summary = drift.summarize(["h1"], {"h1": {"status": "in sync", "reason": "", "plan": [], "diff": ""}})
    paths = drift.write(summary, str(tmp_path))
    roll = rollout.summarize(["h1"], {}, [])
    paths += rollout.write(roll, str(tmp_path))
    assert victim.read_text() == "precious\n"
    assert json.loads(open(paths[0]).read())["result"] == "in sync"
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in paths)
