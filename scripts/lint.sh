#!/usr/bin/env bash
# `make lint`: the checks that the collection is one people can install and trust. Every check runs,
# each is reported with its time, and the script exits non-zero when any failed.
#   install       the release tarball: the product only, installs with ansible-galaxy, ansible-doc renders
#                 every module and role from the installed copy, playbooks run from it (an invalid
#                 desired_state is refused on the controller; a host Python without a D-Bus library
#                 gets the missing-library message), ansible-builder introspect accepts it; then a
#                 clean install into virtualenvs holding only ansible-core, the lowest version
#                 requires_ansible allows and the newest 2.x on PyPI (tests/tools/check_install.sh)
#   sanity        ansible-test sanity on the release, no containers (tests/tools/ansible-test.sh,
#                 tests/sanity/README.md)
#   units         ansible-test units: tests/unit on the controller's Python, tests/unit/plugins/module_utils
#                 on every host Python 3.9+ (with the missing-library test)
#   sanity-newest, units-newest   the same with the newest ansible-core 2.x on PyPI (tests/tools/core_venv.sh):
#                 what differs between versions runs twice -- every sanity test and the unit tests, on
#                 that virtualenv's Python only (the other Pythons' compile, import and unit runs test
#                 the code against Python, not against ansible-core)
#   ansible-lint  production profile (.ansible-lint)
#   docs          the HTML docsite as scripts/docs.sh (`make docs`) builds it from the release: the guides
#                 of docs/ as collection docs, antsibull-docs lint-collection-docs --plugin-docs, Sphinx
#                 with warnings as errors; then the landing page in headless Chromium, its title and a
#                 screenshot (tests/tools/check_docsite.py, build/docs/landing.png)
#   changelog     antsibull-changelog lint; every fragment folded into the release and every module,
#                 filter, role and playbook named in CHANGELOG.md (tests/tools/check_changelog.py)
#   types         mypy --strict on plugins/module_utils and plugins/plugin_utils (its settings: mypy.ini)
#   complexity    radon: no function in plugins/module_utils above cyclomatic complexity 15
#                 (tests/tools/check_complexity.py); docs/dev/architecture.md
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

newest() {  # ansible-test of the newest ansible-core 2.x, on its virtualenv's Python only
  local venv
  venv=$(bash tests/tools/core_venv.sh newest) || return 1
  HOSTNET_LINT_VENV=$venv bash tests/tools/ansible-test.sh "$1" --venv --color no \
    --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
}
check sanity-newest newest sanity
check units-newest  newest units
check ansible-lint ansible-lint --nocolor --strict -q
docsite() {  # the build's log in build/docs.log, its end shown when it fails
  bash scripts/docs.sh > build/docs.log 2>&1 || { tail -40 build/docs.log; return 1; }
  python3 tests/tools/check_docsite.py
}
check docs       docsite
check changelog  bash -c 'antsibull-changelog lint && python3 tests/tools/check_changelog.py'
check types      mypy --config-file mypy.ini
check complexity python3 tests/tools/check_complexity.py plugins/module_utils

echo "== lint: ${#passed[@]} of $((${#passed[@]} + ${#failed[@]})) checks passed in ${SECONDS} s${failed[*]:+; failed: ${failed[*]}}"
echo "lint: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
