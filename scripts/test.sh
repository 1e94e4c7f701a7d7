#!/bin/bash
# Run test tiers: unit | integration | kernel | nm-versions | all (what `make test` runs: the
# three, the lab subset marked nm_versions on each extra NetworkManager version, then lint).
# nm-versions: the whole lab tier on every NetworkManager version of the lab.
# The lab and the kernel guest are brought up and torn down by the tests'
# fixtures, also when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONDONTWRITEBYTECODE=1
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
tier=${1:-all}
# NetworkManager versions beside the machine's 1.42 (root filesystems, tests/lab/nm-rootfs.sh)
EXTRA_NM=(1.52 1.58)
pytest=(.venv/bin/python -m pytest -q -p no:cacheprovider)
case "$tier" in
  unit)        paths=(tests/unit) ;;
  integration) paths=(tests/integration) ;;
  kernel)      paths=(tests/kernel) ;;
  nm-versions) paths=(tests/integration) ;;
  all)         paths=(tests/unit tests/integration tests/kernel) ;;
  *) echo "usage: test.sh unit|integration|kernel|nm-versions|all" >&2; exit 2 ;;
esac
rc=0
case "$tier" in
  unit|integration|kernel) exec "${pytest[@]}" "${paths[@]}" ;;
  nm-versions)
    for v in 1.42 "${EXTRA_NM[@]}"; do
      echo "== the lab tier on NetworkManager $v" >&2
      HNLAB_NM=$v "${pytest[@]}" "${paths[@]}" || rc=$?
    done
    exit "$rc" ;;
esac
# all: every tier on 1.42, the nm_versions subset on each extra version, then the packaging,
# docs and sanity checks (scripts/lint.sh); fails when any fails
"${pytest[@]}" "${paths[@]}" || rc=$?
for v in "${EXTRA_NM[@]}"; do
  echo "== the nm_versions subset on NetworkManager $v" >&2
  HNLAB_NM=$v "${pytest[@]}" -m nm_versions tests/integration || rc=$((rc ? rc : 1))
done
bash scripts/lint.sh || rc=$((rc ? rc : 1))
exit "$rc"
