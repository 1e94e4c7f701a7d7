#!/bin/bash
# Run test tiers: unit | integration | kernel | nm-versions | all (what `make test` runs).
#   unit, integration, kernel   one tier, on the machine's NetworkManager 1.42
#   nm-versions                 the whole lab tier and the whole kernel tier on 1.42, 1.52 and 1.58
#   all                         every tier on 1.42, the subsets marked nm_versions on each extra
#                               version (the lab's on 1.52 and 1.58, the kernel tier's on 1.52), and
#                               lint (scripts/lint.sh); fails when any fails, with the exit status of
#                               the first failed tier in the table it prints at the end.
# The lab and the kernel guest are brought up and torn down by the tests' fixtures, also when a
# test fails. `all` runs independent tiers side by side (tests/README.md, "Time"): each lab tier
# has a lab prefix and guest name of its own, derived from $HNLAB_PREFIX and $HOSTNET_KERNEL_GUEST.
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
# NetworkManager versions beside the machine's 1.42 (root filesystems, tests/lab/nm-rootfs.sh)
EXTRA_NM=(1.52 1.58)
PFX=${HNLAB_PREFIX:-hnlab}
GUEST=${HOSTNET_KERNEL_GUEST:-kvm1}
# what runs and how far it got: a header per tier; the lab tiers name each test as it runs (-v),
# and every tier ends with its slowest tests
header() { echo "== make test: $*"; }
pytest=(.venv/bin/python -m pytest -p no:cacheprovider --durations=5)

# the lab prefix / guest name of a tier on NetworkManager V: 1.42 keeps the caller's, another
# version gets its own (e.g. hnlabn52, kvm1-n52), so that tiers of two versions can run at once
# (a prefix is [a-z][a-z0-9]{0,15}, a guest name at most 12 characters)
prefix_for() { if [ "$1" = 1.42 ]; then echo "$PFX"; else echo "${PFX:0:13}n${1#1.}"; fi; }
guest_for() { if [ "$1" = 1.42 ]; then echo "$GUEST"; else echo "${GUEST:0:8}-n${1#1.}"; fi; }

# (never exec pytest: the EXIT trap removes $TMPDIR)
rc=0
case "$tier" in
  unit)
    header "unit (tests/unit)"
    "${pytest[@]}" -q tests/unit || rc=$?
    exit "$rc" ;;
  integration|kernel)
    header "$tier (tests/$tier)"
    "${pytest[@]}" -v "tests/$tier" || rc=$?
    exit "$rc" ;;
  nm-versions)
    for v in 1.42 "${EXTRA_NM[@]}"; do
      header "the lab tier and the kernel tier on NetworkManager $v"
      HNLAB_NM=$v HNLAB_PREFIX=$(prefix_for "$v") HOSTNET_KERNEL_GUEST=$(guest_for "$v") \
        "${pytest[@]}" -v tests/integration tests/kernel || rc=$((rc ? rc : $?))
    done
    exit "$rc" ;;
  all) ;;
  *) echo "usage: test.sh unit|integration|kernel|nm-versions|all" >&2; exit 2 ;;
esac

# ---------------------------------------------------------------------------------------- all
# Three lanes side by side, each running its tiers one after another: lane a the longest tier (the
# lab tier on 1.42, after the unit tier), lane b the kernel tier and the tiers on the other
# NetworkManager versions, lane c a part of the lab tier on 1.42, then lint. The lab tiers mostly
# wait on NetworkManager, ssh and Ansible's start-up, so the lanes fill this 2-core machine better
# than one queue (tests/README.md, "Time", has the measurements). Each tier's output goes to its own
# log, printed whole when the tier ends, so that the lines of tiers running at once never mix.
# A tier: NAME|NM|LAB_PREFIX|GUEST|COMMAND ("-": not used; "pytest ARGS" runs the pytest above)
# the lab tier on 1.42 is the longest: the files of LAB_SPLIT (mostly waiting out rollback windows)
# run as a tier of their own in lane c, with a lab prefix of their own
LAB_SPLIT=(test_owned_confirm.py test_ownership.py test_fleet.py test_many_profiles.py test_bytecode_cache.py test_route_attributes.py)
LAB_REST="pytest -v tests/integration$(printf ' --ignore=tests/integration/%s' "${LAB_SPLIT[@]}")"
LAB_PART="pytest -v$(printf ' tests/integration/%s' "${LAB_SPLIT[@]}")"
LANE_A=("unit|-|-|-|pytest -q tests/unit"
        "integration|1.42|$PFX|-|$LAB_REST")
LANE_B=("kernel|1.42|-|$GUEST|pytest -v tests/kernel"
        "kernel nm_versions|1.52|-|$(guest_for 1.52)|pytest -v -m nm_versions tests/kernel")
for v in "${EXTRA_NM[@]}"; do
  LANE_B+=("integration nm_versions|$v|$(prefix_for "$v")|-|pytest -v -m nm_versions tests/integration")
done
# lint's ansible-test cache (~/.ansible/test) is one per machine: two lints at once take turns
LANE_C=("integration (part)|1.42|${PFX:0:14}p|-|$LAB_PART"
        "lint|-|-|-|flock ${HOSTNET_LINT_LOCK:-/run/lock/hostnet-lint.lock} bash scripts/lint.sh")
T=$TMPDIR/tiers
mkdir -p "$T"
start=$SECONDS
lanes=()
stop_all() {
  # a tier's pytest turns SIGTERM into a clean teardown of its lab or guest (the conftest.py files);
  # only processes this run started are signalled, by their PID
  local f
  for f in "$T"/*.pid; do [ -e "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; done
  for f in "${lanes[@]}"; do kill -TERM "$f" 2>/dev/null; done
  wait "${lanes[@]}" 2>/dev/null
  rm -rf "$TMPDIR"
}
# under set -e a failing command in the trap would become the exit status: || true
trap 'stop_all || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# run_tier ID SPEC : one tier; its log, exit status, start and seconds land in $T/ID.*
run_tier() {
  local id=$1 name nm lab guest cmd t0 rc=0 env=() words=()
  IFS='|' read -r name nm lab guest cmd <<< "$2"
  read -ra words <<< "$cmd"
  [ "${words[0]}" = pytest ] && words=("${pytest[@]}" "${words[@]:1}")
  [ "$nm" = - ] || env+=("HNLAB_NM=$nm")
  [ "$lab" = - ] || env+=("HNLAB_PREFIX=$lab")
  [ "$guest" = - ] || env+=("HOSTNET_KERNEL_GUEST=$guest")
  t0=$SECONDS
  echo "$name|$nm|$((t0 - start))" > "$T/$id.spec"
  {
    header "$name${env[*]:+ (${env[*]})}: started at $((t0 - start)) s"
    env "${env[@]}" "${words[@]}" > "$T/$id.out" 2>&1 &
    echo $! > "$T/$id.pid"
    wait "$(cat "$T/$id.pid")" || rc=$?
    rm -f "$T/$id.pid"
    cat "$T/$id.out"
    header "$name: $( ((rc)) && echo "FAILED (exit status $rc)" || echo passed) in $((SECONDS - t0)) s"
  } > "$T/$id.log" 2>&1
  echo "$rc $((SECONDS - t0))" > "$T/$id.rc"
  flock "$T/print.lock" cat "$T/$id.log"     # one finished tier's log at a time
}

# lane LETTER SPEC... : the tiers one after another
lane() {
  local letter=$1 n=0 spec
  shift
  for spec in "$@"; do
    n=$((n + 1))
    run_tier "$letter$n" "$spec"
  done
}

# the other NetworkManager versions' root filesystems: built now, in the background, if this machine
# has none yet (minutes each); the tiers that need them wait on nm-rootfs.sh's lock
for v in "${EXTRA_NM[@]}"; do
  bash tests/lab/nm-rootfs.sh "$v" > "$T/rootfs-$v.log" 2>&1 &
done
header "$(( ${#LANE_A[@]} + ${#LANE_B[@]} + ${#LANE_C[@]} )) tiers in three lanes side by side; each tier's output follows when it ends"
lane a "${LANE_A[@]}" & lanes+=($!)
lane b "${LANE_B[@]}" & lanes+=($!)
lane c "${LANE_C[@]}" & lanes+=($!)
wait "${lanes[@]}" || true

# the table: each tier's start (seconds after make test's first tier), wall time and result; the
# exit status is that of the first failed tier in this order
rc=0 passed=0 failed=0 sum=0
row() { printf '%-4s %-24s %-5s %6s %8s  %s\n' "$@"; }
header "timing (wall seconds; the lanes ran side by side, the tiers of a lane one after another)"
row lane tier NM start seconds result
for f in $(ls "$T"/*.spec | sort); do
  id=$(basename "$f" .spec)
  IFS='|' read -r name nm began < "$f"
  trc=1 secs=0
  [ -e "$T/$id.rc" ] && read -r trc secs < "$T/$id.rc"
  sum=$((sum + secs))
  if [ "$trc" -eq 0 ]; then passed=$((passed + 1)); result=passed
  else failed=$((failed + 1)); result="FAILED (exit status $trc)"; rc=$((rc ? rc : trc)); fi
  row "${id:0:1}" "$name" "$nm" "$began" "$secs" "$result"
done
expected=$(( ${#LANE_A[@]} + ${#LANE_B[@]} + ${#LANE_C[@]} ))
if [ $((passed + failed)) -lt "$expected" ]; then   # a lane ended before it started every tier
  failed=$((expected - passed)); rc=$((rc ? rc : 1))
fi
echo "total: $((SECONDS - start)) s wall for $sum s of tiers"
echo "tiers: $passed passed, $failed failed"
exit "$rc"
