#!/bin/bash
# restart-nm.sh HOST... : restart only NetworkManager in lab hosts (what
# "systemctl restart NetworkManager" would do); profiles and interfaces stay.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ $# -ge 1 ] || die "usage: restart-nm.sh HOST..."
for h in "$@"; do
  is_host "$h" && pid_alive "$h" dbus || die "$h: not up"
  if pid=$(pid_of "$h" nm); then kill_pids "$pid"; fi
  t0=$(now_ms)
  nm_start "$h"
  log "$h: NetworkManager restarted in $(( $(now_ms) - t0 )) ms (pid $(pid_of "$h" nm))"
done
