"""Smoke test of the benchmark suite: ``bench/run.py --quick`` (10 profiles,
3 hosts, one round, no peer, no profile) on a lab of its own (prefix
``hnbenchq``), writing into a temporary copy of a performance page. It must
work and produce well-formed tables; no time is asserted (the machine is
shared). About 30-60 s on a quiet machine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("summary", "host-scale", "peer", "fleet", "profile")
OTHERS = "## Fleet rollout\n\nAnother developer's section, kept as it is.\n"


def tables(text: str) -> List[List[List[str]]]:
    """Every Markdown table in ``text``: a list of rows, each a list of cells."""
    found, current = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            current.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif current:
            found.append(current)
            current = []
    return found


def test_bench_quick_writes_well_formed_tables(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\n<!-- bench:fleet:begin -->\nstale figures\n<!-- bench:fleet:end -->\n\n" + OTHERS)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--prefix", "hnbenchq",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.terminate()                      # SIGTERM: the run tears its lab down before it exits
        stdout, stderr = proc.communicate(timeout=300)
        pytest.fail("bench/run.py --quick took over 600 s: %s" % stderr[-4000:])
    assert proc.returncode == 0, stderr[-4000:]
    text = out.read_text()

    assert text.endswith(OTHERS) and "stale figures" not in text
    for name in SECTIONS:
        assert text.count("<!-- bench:%s:begin -->" % name) == 1, name
        assert text.count("<!-- bench:%s:end -->" % name) == 1, name

    found = tables(text)
    assert len(found) >= 4, text
    for rows in found:
        assert len(rows) >= 3 and set("".join(rows[1])) == {"-"}, rows   # header, separator, a row at least
        assert {len(r) for r in rows} == {len(rows[0])}, rows

    scale = next(rows for rows in found if rows[0][:3] == ["profiles", "rounds", "apply module"])
    row = dict(zip(scale[0], scale[2]))
    assert row["profiles"] == "10"
    for cell in ("apply module", "apply e2e", "no-op module", "nmcli floor"):
        assert re.fullmatch(r"\d+\.\d\d", row[cell]), (cell, row)
    assert row["D-Bus writes apply / no-op"].endswith("/ 0"), row   # the re-run writes nothing
    fleet = next(rows for rows in found if rows[0][:2] == ["run", "seconds"])
    assert all(re.fullmatch(r"\d+\.\d\d", r[1]) for r in fleet[2:]), fleet
    assert "lab hnbenchq up" in stderr and stdout.strip()
