#!/bin/sh
# Test helper, an ssh ProxyCommand: hold_confirm.sh LEDGER FLAG RELEASE SECONDS COMMAND...
# A connection made while the host's checkpoint ledger (seen from the root namespace) says a change
# waits for its confirmation touches FLAG and waits until the file RELEASE exists, at most SECONDS,
# before it connects: the test then acts between the module's return and the confirmation (the
# action plugin's fresh connection), for as long as it needs.
ledger=$1 flag=$2 release=$3 hold=$4
shift 4
if grep -q '"pending-confirm"' "$ledger" 2>/dev/null; then
  : > "$flag"
  end=$(($(date +%s) + hold))
  while [ ! -e "$release" ] && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.1
  done
fi
exec "$@"
