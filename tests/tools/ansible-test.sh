#!/usr/bin/env bash
# ansible-test on this checkout, without containers and with no download but from PyPI.
#   usage: tests/tools/ansible-test.sh sanity|units [ansible-test options]
#
# - It tests the collection as released: the tarball `ansible-galaxy collection build` makes of the
#   working tree (galaxy.yml's build_ignore leaves out the development harness and every test), with
#   the unit tests, their tools and the sanity and test settings (tests/unit, tests/tools,
#   tests/compat, tests/sanity, tests/config.yml) laid over it, unpacked at ~/.cache/hostnet-nm/ansible-test-<checkout>/ansible_collections/hostnet/nm
#   (or under $HOSTNET_ANSIBLE_TEST_ROOT): ansible-test wants that path, resolves symlinks such as
#   build/collections/..., and inside a git checkout would list files through git, which ignores build/.
#   Not in /tmp: tests/output (ansible-test's results) is kept there between runs; `make clean` removes it.
# - --venv: each test runs in a virtualenv of its own with ansible-test's pinned requirements
#   (from PyPI), kept in ~/.ansible/test/venv between runs. ansible-test bootstraps pip in them with
#   a get-pip script it downloads from outside PyPI; tests/tools/get_pip_offline.py stands in for it.
# - Python versions: pyenv's interpreters, linked as python3.X into build/pythons and put first
#   on PATH (pyenv's own shims fail for versions that are not pyenv's global one).
#   tests/config.yml says which versions modules and module_utils support (3.9+).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VENV=${HOSTNET_LINT_VENV:-$ROOT/.venv-lint}
# outside any git checkout (ansible-test would list the files through git, which ignores build/),
# one per checkout
DEST=${HOSTNET_ANSIBLE_TEST_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/hostnet-nm/ansible-test-$(echo "$ROOT" | sha1sum | cut -c1-8)}
DEST=$DEST/ansible_collections/hostnet/nm

# the interpreters
PYTHONS=$ROOT/build/pythons
rm -rf "$PYTHONS"
mkdir -p "$PYTHONS"
# every supported Python must be linked here: ansible-test finds the others through pyenv's shims,
# which fail for a version that is not pyenv's global one
for v in 3.9 3.10 3.11 3.12 3.13; do
  for real in /root/.pyenv/versions/"$v".*/bin/python"$v" /usr/bin/python"$v"; do
    if [ -x "$real" ]; then ln -sfn "$real" "$PYTHONS/python$v"; break; fi
  done
done
export PATH=$PYTHONS:$VENV/bin:$PATH

# the get-pip stand-in, under the name ansible-test looks for
pip_version=$(grep -oP "pip='\K[0-9.]+" "$VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py)
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
cp "$ROOT/tests/tools/get_pip_offline.py" "$cache/get_pip_${pip_version//./_}.py"

# the release, unpacked afresh (tests/output, ansible-test's results, is kept between runs)
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
ansible-galaxy collection build --output-path "$dist" "$ROOT" >/dev/null
mkdir -p "$DEST"
find "$DEST" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$DEST/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} + 2>/dev/null || true
tar -xzf "$dist"/*.tar.gz -C "$DEST"
# the tests ansible-test runs and judges, which the release leaves out
mkdir -p "$DEST/tests"
cp -r "$ROOT/tests/unit" "$ROOT/tests/compat" "$ROOT/tests/sanity" "$ROOT/tests/tools" "$ROOT/tests/config.yml" "$DEST/tests/"
find "$DEST/tests" -name __pycache__ -prune -exec rm -rf {} +

cd "$DEST"
ansible-test "$@"
