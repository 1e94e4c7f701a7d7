# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.hostnet.nm`` importable in a fresh clone.

The collection is imported under its FQCN through
``<repo>/build/collections/ansible_collections/hostnet/nm``, a symlink to the
repository root (created here, relative, when missing), with
``<repo>/build/collections`` put on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / "build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "hostnet" / "nm"


def _ensure_importable() -> None:
    if not LINK.exists():
        LINK.parent.mkdir(parents=True, exist_ok=True)
        if LINK.is_symlink():  # dangling (the clone moved): point it here again
            LINK.unlink()
        os.symlink(os.path.relpath(REPO, LINK.parent), LINK)
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))


_ensure_importable()


@pytest.fixture(scope="session")
def gen_schema_tool():
    """The module tests/tools/gen_schema.py (writes the generated docs)."""
    spec = importlib.util.spec_from_file_location("gen_schema", REPO / "tests" / "tools" / "gen_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
