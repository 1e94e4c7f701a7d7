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
# a temporary directory of this run's own (pytest's tmp_path, the tools' temporary files), removed at
# the end: make test leaves nothing in /tmp
TMPDIR=$(mktemp -d -t hostnet-test.XXXXXX)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# what runs and how far it got: a header per tier; the lab tiers name each test as it runs (-v),
# and every tier ends with its slowest tests
header() { echo "== make test: $*"; }
# NetworkManager versions beside the machine's 1.42 (root filesystems, tests/lab/nm-rootfs.sh)
EXTRA_NM=(1.52 1.58)
pytest=(.venv/bin/python -m pytest -p no:cacheprovider --durations=5)
verbosity() { if [ "$1" = tests/unit ]; then echo -q; else echo -v; fi; }
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
  unit|integration|kernel)
    header "$tier (${paths[*]})"
    "${pytest[@]}" "$(verbosity "${paths[0]}")" "${paths[@]}" || rc=$?
    exit "$rc" ;;
  nm-versions)
    for v in 1.42 "${EXTRA_NM[@]}"; do
      header "the lab tier on NetworkManager $v"
      HNLAB_NM=$v "${pytest[@]}" -v "${paths[@]}" || rc=$?
    done
    exit "$rc" ;;
esac
# all: every tier on 1.42, the nm_versions subset on each extra version, and the packaging, docs
# and sanity checks (scripts/lint.sh); fails when any fails. Lint needs no lab: it runs beside the
# test tiers (the lab tiers mostly wait on NetworkManager), its report shown when they end.
total=$((${#paths[@]} + ${#EXTRA_NM[@]} + 1))
header "tier $total of $total: lint (packaging, clean install, sanity, docs; scripts/lint.sh), in the background: its report follows the other tiers"
bash scripts/lint.sh > "$TMPDIR/lint.log" 2>&1 &
lint_pid=$!
# under set -e a failing command in the trap would become the exit status: lint has ended by then
trap 'kill "$lint_pid" 2>/dev/null || true; wait "$lint_pid" 2>/dev/null || true; rm -rf "$TMPDIR"' EXIT
n=0
for path in "${paths[@]}"; do
  n=$((n + 1))
  header "tier $n of $total: ${path#tests/} ($path)"
  "${pytest[@]}" "$(verbosity "$path")" "$path" || rc=$((rc ? rc : $?))
done
for v in "${EXTRA_NM[@]}"; do
  n=$((n + 1))
  header "tier $n of $total: the nm_versions subset on NetworkManager $v"
  HNLAB_NM=$v "${pytest[@]}" -v -m nm_versions tests/integration || rc=$((rc ? rc : 1))
done
header "tier $total of $total: lint (scripts/lint.sh), started with the first tier"
lint_rc=0
wait "$lint_pid" || lint_rc=$?
cat "$TMPDIR/lint.log"
[ "$lint_rc" -eq 0 ] || rc=$((rc ? rc : 1))
exit "$rc"
