#!/bin/sh
# Test helper, an ssh ProxyCommand: hold_confirm.sh LEDGER FLAG SECONDS COMMAND...
# A connection made while the host's checkpoint ledger (seen from the root namespace) says a change
# waits for its confirmation touches FLAG and waits SECONDS before it connects: the test then acts
# between the module's return and the confirmation (the action plugin's fresh connection).
ledger=$1 flag=$2 hold=$3
shift 3
if grep -q '"pending-confirm"' "$ledger" 2>/dev/null; then
  : > "$flag"
  sleep "$hold"
fi
exec "$@"
