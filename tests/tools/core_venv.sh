#!/usr/bin/env bash
# A virtualenv holding ONLY ansible-core (and what it pulls in): prints its path.
#   usage: tests/tools/core_venv.sh VERSION|newest
# "newest" is the newest ansible-core 2.x that PyPI serves for the newest Python here; an explicit
# version gets the oldest Python here that installs it. Used by the clean-install test
# (tests/tools/clean_install.sh) and by `make lint`'s ansible-test runs on the newest ansible-core.
# Kept between runs in ~/.cache/hostnet-nm/clean-install/ansible-core-VERSION-pythonX.Y and used only
# while it holds exactly ansible-core and its dependencies; else made afresh
# (HOSTNET_CLEAN_INSTALL_FRESH=1 always makes it afresh). Messages go to stderr.
set -euo pipefail
version=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "core_venv($version): $*" >&2; exit 1; }

# the controller Pythons here, newest first (pyenv's real interpreters: its shims fail for a version
# that is not pyenv's global one)
pythons=()
for v in 3.14 3.13 3.12 3.11; do
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" /usr/bin/python"$v" /usr/local/bin/python"$v"; do
    if [ -x "$p" ]; then pythons+=("$p"); break; fi
  done
done
[ "${#pythons[@]}" -gt 0 ] || fail "no Python 3.11+ found"

pip=(-m pip -q --disable-pip-version-check --no-input)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hostnet-nm/clean-install
if [ "$version" = newest ]; then
  candidates=("${pythons[0]}")
  version=$("${pythons[0]}" -m pip index versions ansible-core 2>/dev/null \
            | sed -n 's/^Available versions: //p' | tr ',' '\n' | tr -d ' ' | grep -m1 '^2\.') \
    || fail "pip index versions ansible-core: no answer from the package index"
else
  candidates=()   # oldest first: the first that can install it
  for ((i = ${#pythons[@]} - 1; i >= 0; i--)); do candidates+=("${pythons[$i]}"); done
fi

# a virtualenv is kept between runs (in $cache) and used only while it holds exactly ansible-core
# and its dependencies: else it is made afresh (HOSTNET_CLEAN_INSTALL_FRESH=1 always makes it afresh)
pristine() {
  local venv=$1 runs
  runs=$("$venv/bin/ansible" --version 2>/dev/null) || return 1
  [ "${runs%%$'\n'*}" = "ansible [core $version]" ] || return 1
  ! "$venv/bin/python" "${pip[@]}" freeze --all 2>/dev/null \
    | grep -viE '^(ansible-core|jinja2|markupsafe|pyyaml|cryptography|cffi|pycparser|packaging|resolvelib|pip|setuptools)=='
}
venv=
for python in "${candidates[@]}"; do
  candidate=$cache/ansible-core-$version-$(basename "$python")
  if [ -z "${HOSTNET_CLEAN_INSTALL_FRESH:-}" ] && pristine "$candidate"; then venv=$candidate; break; fi
  rm -rf "$candidate"
  "$python" -m venv "$candidate"
  if "$candidate/bin/python" "${pip[@]}" install "ansible-core==$version" > "$work/pip.log" 2>&1; then
    pristine "$candidate" || fail "the new virtualenv $candidate holds more than ansible-core (above)"
    venv=$candidate; break
  fi
  rm -rf "$candidate"
done
[ -n "$venv" ] || { cat "$work/pip.log" >&2; fail "no Python here installs ansible-core==$version"; }
echo "core_venv: ansible-core==$version ($("$venv/bin/python" --version)): $venv" >&2
echo "$venv"
