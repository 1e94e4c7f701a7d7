#!/usr/bin/env bash
# `make changelog`: changelogs/changelog.yaml and CHANGELOG.md for the version in galaxy.yml, made
# afresh from every fragment in changelogs/fragments/ and the collection's modules and plugins (with
# antsibull-changelog from .venv-lint), keeping that release's date. While the version is not
# published, run it after adding or changing a fragment; `make lint` (tests/tools/check_changelog.py)
# fails when a fragment, module, filter, role or playbook is missing from the changelog.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv-lint/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$PWD/build/collections ANSIBLE_CONFIG=$PWD/ansible.cfg
version=$(sed -n 's/^version: *//p' galaxy.yml)
# the release's entry is rebuilt from scratch (antsibull-changelog's --update-existing keeps a fragment
# it folded in before as it was then)
date=$(python3 - "$version" <<'PY'
import datetime, sys, yaml
path = "changelogs/changelog.yaml"
changes = yaml.safe_load(open(path)) or {}
release = (changes.get("releases") or {}).pop(sys.argv[1], None) or {}
print(release.get("release_date") or datetime.date.today().isoformat())
with open(path, "w") as out:
    yaml.safe_dump(changes, out, sort_keys=False)
PY
)
rm -f changelogs/.plugin-cache.yaml   # antsibull-changelog's list of plugins: read afresh
antsibull-changelog release --version "$version" --date "$date" 2>&1 | grep -v "no release_summary section" || true
python3 tests/tools/check_changelog.py
