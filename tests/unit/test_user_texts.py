"""What a user reads (docs, README, module and role documentation, messages in product code, the
changelog) cites no internal case id: those stay in the tests' names and docstrings."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CASE_ID = re.compile(r"\b(?:BC|RC)-\d+\b")
USER_TEXTS = ["README.md", "CHANGELOG.md", "docs/**/*", "plugins/**/*", "roles/**/*", "playbooks/**/*",
              "meta/**/*", "changelogs/**/*"]


def test_no_internal_case_id_in_what_users_read():
    found = []
    for pattern in USER_TEXTS:
        for path in sorted(REPO.glob(pattern)):
            if path.is_file() and path.suffix in (".md", ".py", ".yml", ".yaml", ".j2", ".rst", ".json", ""):
                for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                    if CASE_ID.search(line):
                        found.append("%s:%d: %s" % (path.relative_to(REPO), number, line.strip()))
    assert not found, "internal case ids (keep them in tests):\n" + "\n".join(found)
