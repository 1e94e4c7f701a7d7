"""The changelog describes what ships (`make lint`'s changelog check, after antsibull-changelog lint).

Fails, listing every finding, when
  - an entry of a fragment in changelogs/fragments/ is not in changelogs/changelog.yaml's releases
    (a fragment not folded in, or changed after it was);
  - a module, filter, role or playbook of the collection is never named in CHANGELOG.md (by its
    FQCN, as the "New Modules / Plugins / Roles / Playbooks" sections name them).
The fix is `make changelog` (scripts/changelog.sh), or a fragment with an ``add object.role`` /
``add object.playbook`` / ``add plugin.filter`` section for what is new.

usage: python3 tests/tools/check_changelog.py [collection root]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set

import yaml

FIX = "run `make changelog` (scripts/changelog.sh) and commit changelogs/changelog.yaml and CHANGELOG.md"


def words(text: str) -> str:
    """Text with its whitespace folded, for comparing entries."""
    return " ".join(str(text).split())


def released(changes: Dict[str, Any]) -> Set[str]:
    """Every entry of every release (``changelog.yaml``), whitespace folded."""
    out: Set[str] = set()
    for release in (changes.get("releases") or {}).values():
        for section, entries in (release.get("changes") or {}).items():
            for entry in entries if isinstance(entries, list) else [entries]:
                out.add(words(entry))
        for kind in ("objects", "plugins"):
            for entries in (release.get(kind) or {}).values():
                out.update(words(e["name"]) for e in entries)
        out.update(words(e["name"]) for e in release.get("modules") or [])
    return out


def fragment_entries(fragment: Dict[str, Any]) -> Iterator[str]:
    """The entries of one fragment: texts, and names of added objects."""
    for section, entries in (fragment or {}).items():
        if section.startswith("add "):
            for entry in entries:
                yield words(entry["name"])
        else:
            for entry in entries if isinstance(entries, list) else [entries]:
                yield words(entry)


def shipped(root: Path) -> List[str]:
    """FQCNs of every module, filter, role and playbook in the collection."""
    names = ["hostnet.nm.%s" % p.stem for p in (root / "plugins" / "modules").glob("*.py") if p.stem != "__init__"]
    names += ["hostnet.nm.%s" % p.stem for p in (root / "plugins" / "filter").glob("*.yml")]
    names += ["hostnet.nm.%s" % p.name for p in (root / "roles").iterdir() if p.is_dir()]
    names += ["hostnet.nm.%s" % p.stem for p in (root / "playbooks").glob("*.yml")]
    return sorted(names)


def problems(root: Path) -> List[str]:
    """Every finding, as text."""
    found: List[str] = []
    changes = yaml.safe_load((root / "changelogs" / "changelog.yaml").read_text()) or {}
    have = released(changes)
    for path in sorted((root / "changelogs" / "fragments").glob("*.y*ml")):
        try:
            fragment = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            found.append("%s is not valid YAML (quote an entry holding ': '): %s" % (path.name, str(exc).splitlines()[0]))
            continue
        missing = [e for e in fragment_entries(fragment) if e not in have]
        if missing:
            found.append("%s: %d entr%s not in changelogs/changelog.yaml, e.g. %r" % (
                path.name, len(missing), "y" if len(missing) == 1 else "ies", missing[0][:100]))
    text = re.sub(r"\\(.)", r"\1", (root / "CHANGELOG.md").read_text())   # markdown escapes
    for name in shipped(root):
        if not re.search(r"(?<![\w.])%s(?![\w])" % re.escape(name), text):
            found.append("%s is in the collection, but CHANGELOG.md never names it" % name)
    return found


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    found = problems(root)
    for line in found:
        print("check_changelog: %s" % line, file=sys.stderr)
    if found:
        print("check_changelog: %d problem(s); %s" % (len(found), FIX), file=sys.stderr)
        return 1
    print("check_changelog: every fragment is in the release; %d modules, filters, roles and playbooks named"
          % len(shipped(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
