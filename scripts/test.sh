#!/bin/bash
# Run test tiers: unit | integration | kernel | all (what `make test` runs: the three, then lint).
# The lab and the kernel guest are brought up and torn down by the tests'
# fixtures, also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
tier=${1:-all}
case "$tier" in
  unit)        paths=(tests/unit) ;;
  integration) paths=(tests/integration) ;;
  kernel)      paths=(tests/kernel) ;;
  all)         paths=(tests/unit tests/integration tests/kernel) ;;
  *) echo "usage: test.sh unit|integration|kernel|all" >&2; exit 2 ;;
esac
if [ "$tier" != all ]; then
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "${paths[@]}"
fi
# all: then the packaging, docs and sanity checks (scripts/lint.sh); fails when either fails
rc=0
.venv/bin/python -m pytest -q -p no:cacheprovider "${paths[@]}" || rc=$?
bash scripts/lint.sh || rc=$((rc ? rc : 1))
exit "$rc"
