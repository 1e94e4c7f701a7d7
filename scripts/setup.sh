#!/bin/bash
# Set-up for `make demo` and `make test` on Debian 12 as root: Debian packages
# (without starting any service), the controller virtualenv .venv with pinned
# versions, and the collection made importable as hostnet.nm.  Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "setup: run as root (the lab needs network namespaces)" >&2; exit 1; }

bash tests/lab/install.sh

if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv .venv
fi
stamp=.venv/.requirements.sha
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# ansible finds the collection as ansible_collections/hostnet/nm: link the checkout there
mkdir -p build/collections/ansible_collections/hostnet
ln -sfn "$PWD" build/collections/ansible_collections/hostnet/nm
echo "setup: ok ($(.venv/bin/ansible --version | head -1))"
