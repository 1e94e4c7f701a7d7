#!/bin/bash
# tests/kernel/run.sh [pytest args] - run the kernel test tier without make:
#   1. tests/kernel/setup.sh (Debian packages, idempotent, starts nothing),
#   2. a Python venv with pytest + ansible-core (default: <repo>/.venv; $HOSTNET_VENV overrides),
#   3. pytest on tests/kernel (one UML guest for the whole run, always stopped at the end).
# Example: bash tests/kernel/run.sh -k lacp -v
# Environment: HOSTNET_KERNEL_KEEP=1 keeps the guest's logs (path printed at stop).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${HOSTNET_VENV:-$ROOT/.venv}
NAME=${HOSTNET_KERNEL_GUEST:-kvm1}

bash "$HERE/setup.sh"

if ! "$VENV/bin/python" -c 'import pytest, ansible' >/dev/null 2>&1; then
  [ -x "$VENV/bin/python" ] || /usr/bin/python3 -m venv "$VENV"
  echo "kernel tier: installing pytest + ansible-core into $VENV"
  "$VENV/bin/pip" install -q 'ansible-core>=2.19,<2.20' pytest
fi

# The pytest fixture stops the guest itself (also on Ctrl-C / SIGTERM). Should pytest die
# harder than that, stop the guest it started -- but never one that was running before us.
if "$VENV/bin/python" - "$HERE" "$NAME" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
from vm import KernelGuest
sys.exit(0 if KernelGuest(sys.argv[2]).running() else 1)
EOF
then
  echo "kernel tier: guest $NAME is already running; stop it first: python3 $HERE/vm.py stop --name $NAME" >&2
  exit 2
fi
trap '"$VENV/bin/python" "$HERE/vm.py" stop --name "$NAME" >/dev/null 2>&1 || true' EXIT

cd "$ROOT"
# the venv first on PATH: the tests run `ansible` from there
PATH="$VENV/bin:$PATH" "$VENV/bin/python" -m pytest -p no:cacheprovider tests/kernel "$@"
