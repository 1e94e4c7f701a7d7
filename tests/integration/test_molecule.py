"""The molecule scenario extensions/molecule/default: create (a lab of its own),
converge, idempotence, verify, destroy — as ``molecule test`` runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MOLECULE = ROOT / ".venv" / "bin" / "molecule"

pytestmark = pytest.mark.lab


@pytest.mark.skipif(not MOLECULE.exists(), reason="molecule is not installed in .venv (scripts/setup.sh)")
def test_molecule_scenario_passes():
    # a lab prefix of its own, unique per test session (two sessions on one machine never meet)
    prefix = "hnmol%d" % (os.getpid() % 100000)
    env = dict(os.environ, HNMOL_PREFIX=prefix, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", NO_COLOR="1",
               PATH="%s:%s" % (ROOT / ".venv" / "bin", os.environ.get("PATH", "")))
    env.pop("ANSIBLE_CONFIG", None)            # molecule writes its own
    start = time.monotonic()
    try:
        proc = subprocess.run([str(MOLECULE), "test"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=900)
    finally:
        seconds = time.monotonic() - start
        subprocess.run(["bash", str(ROOT / "tests" / "lab" / "down.sh")], env=dict(env, HNLAB_PREFIX=prefix),
                       capture_output=True, timeout=300)   # also when molecule died half-way
    print("\nmolecule test: %.1f s" % seconds)
    tail = proc.stdout[-6000:]
    assert proc.returncode == 0, tail
    assert re.search(r"idempotence\W+Executed: Successful", proc.stdout), tail
    assert re.search(r"verify\W+Executed: Successful", proc.stdout), tail
    assert not Path("/run/%s" % prefix).exists(), "the scenario's lab was not torn down"
    assert shutil.which("molecule", path=str(ROOT / ".venv" / "bin"))
