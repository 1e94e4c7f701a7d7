#!/bin/bash
# Set-up for `make demo` and `make test` on Debian 12 as root: Debian packages
# (without starting any service), the controller virtualenv .venv with pinned
# versions, and the collection made importable as hostnet.nm.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "setup: run as root (the lab needs network namespaces)" >&2; exit 1; }

bash tests/lab/install.sh
bash tests/kernel/setup.sh   # user-mode-linux for the kernel tier (bonds, VLANs)
# the docs tools (`make docs`, lint's docs check): pandoc turns the guides into the docsite's pages,
# headless chromium takes the landing page's screenshot (tests/tools/check_docsite.py)
missing=()
for p in pandoc chromium; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 -q update
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q install -y --no-install-recommends "${missing[@]}"
fi

# a virtualenv, (re)installed when its requirements file changes
venv() {
  local dir=$1 requirements=$2 stamp want
  if [ ! -x "$dir/bin/python" ]; then
    /usr/bin/python3 -m venv "$dir"
  fi
  stamp=$dir/.requirements.sha
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$requirements"
    echo "$want" > "$stamp"
  fi
}
venv .venv requirements-dev.txt
# the lint, docs and packaging tools (`make lint`, `make docs`): their own virtualenv, as
# ansible-lint's dependencies must not move .venv's
venv .venv-lint requirements-lint.txt

# ansible finds the collection as ansible_collections/hostnet/nm: link the checkout there
mkdir -p build/collections/ansible_collections/hostnet
ln -sfn "$PWD" build/collections/ansible_collections/hostnet/nm
echo "setup: ok ($(.venv/bin/ansible --version | sed -n 1p))"  # sed reads it all: no broken pipe
