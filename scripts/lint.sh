#!/usr/bin/env bash
# `make lint`: the checks that the collection is one people can install and trust. Every check runs,
# each is reported with its time, and the script exits non-zero when any failed.
#   install       the release tarball: no junk, installs with ansible-galaxy, ansible-doc renders
#                 every module and role from the installed copy, playbooks run from it (an invalid
#                 desired_state is refused on the controller; a host Python without a D-Bus library
#                 gets the missing-library message), ansible-builder introspect accepts it
#                 (tests/tools/check_install.sh)
#   sanity        ansible-test sanity on the release, no containers (tests/tools/ansible-test.sh,
#                 tests/sanity/README.md)
#   units         ansible-test units: tests/unit on the controller's Python, tests/unit/plugins/module_utils
#                 on every host Python 3.9+ (with the missing-library test)
#   ansible-lint  production profile (.ansible-lint)
#   docs          antsibull-docs lint-collection-docs --plugin-docs
#   changelog     antsibull-changelog lint; every fragment folded into the release and every module,
#                 filter, role and playbook named in CHANGELOG.md (tests/tools/check_changelog.py)
# The tools are those of .venv-lint (requirements-lint.txt; `make lint` installs them).
# HOSTNET_LINT_ONLY="sanity units" runs only the named checks.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv-lint/bin:$PATH PYTHONDONTWRITEBYTECODE=1
export ANSIBLE_CONFIG=$ROOT/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
[ -x .venv-lint/bin/ansible-test ] || { echo "lint: no .venv-lint; run scripts/setup.sh (make lint does)" >&2; exit 2; }
[ -e build/collections/ansible_collections/hostnet/nm ] || { echo "lint: run scripts/setup.sh first" >&2; exit 2; }

passed=() failed=()
check() {
  local name=$1 start=$SECONDS
  shift
  if [ -n "${HOSTNET_LINT_ONLY:-}" ] && [[ " $HOSTNET_LINT_ONLY " != *" $name "* ]]; then return; fi
  echo "== lint: $name"
  if "$@"; then
    passed+=("$name")
    echo "== lint: $name ok ($((SECONDS - start)) s)"
  else
    failed+=("$name")
    echo "== lint: $name FAILED ($((SECONDS - start)) s)"
  fi
}

collection() {  # run a command in the collection as ansible sees it (ansible_collections/hostnet/nm)
  (cd build/collections/ansible_collections/hostnet/nm && "$@")
}

check install    bash tests/tools/check_install.sh
check sanity     bash tests/tools/ansible-test.sh sanity --venv --color no
check units      bash tests/tools/ansible-test.sh units --venv --color no
check ansible-lint ansible-lint --nocolor --strict -q
check docs       collection antsibull-docs lint-collection-docs --plugin-docs .
check changelog  bash -c 'antsibull-changelog lint && python3 tests/tools/check_changelog.py'

echo "== lint: ${#passed[@]} of $((${#passed[@]} + ${#failed[@]})) checks passed in ${SECONDS} s${failed[*]:+; failed: ${failed[*]}}"
echo "lint: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
