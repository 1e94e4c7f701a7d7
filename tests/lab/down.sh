#!/bin/bash
# down.sh [HOST...] : tear down the given lab hosts, or, without arguments, the
# whole lab (all hosts, the switch and the state dir /run/$HNLAB_PREFIX).
# Kills only processes inside the lab's network namespaces, by PID; then
# unmounts the namespace files and deletes the namespaces.  Safe to run when
# nothing is up.  Exit 1 if anything of the lab is left afterwards.
set -uo pipefail
. "$(dirname "$0")/common.sh"
need_root
lab_lock "$@"

if [ $# -gt 0 ]; then
  for h in "$@"; do is_host "$h" || die "not a host name: $h"; done
  for h in "$@"; do log "$h: down"; host_down "$h"; done
  write_client_files
  exit 0
fi

T0=$(now_ms)
mapfile -t hosts < <(lab_hosts)
# TERM everything at once: far faster than host by host
mapfile -t pids < <(lab_pids)
[ ${#pids[@]} -gt 0 ] && log "stopping ${#pids[@]} lab processes"
kill_pids "${pids[@]}"
for h in "${hosts[@]}"; do host_down "$h" fast; done
# state dirs of hosts whose netns is already gone
for d in "$LAB"/h*; do
  [ -d "$d" ] && is_host "${d##*/}" && host_down "${d##*/}" fast
done
sw_down
if [ -d "$LAB" ]; then
  umount "$LAB/ns" 2>/dev/null
  rm -rf "${LAB:?}"
fi

# verify: no netns, no mount, no state dir of this lab
left=$(ip netns list | awk '{print $1}' | grep -E "^$PFX-(sw|h[0-9]+)\$")
mnts=$(findmnt -rn -o TARGET | grep -E "^$LAB(/|$)")
[ -z "$left" ] || log "ERROR: netns left: $left"
[ -z "$mnts" ] || log "ERROR: mounts left: $mnts"
[ ! -e "$LAB" ] || log "ERROR: $LAB left"
[ -z "$left$mnts" ] && [ ! -e "$LAB" ] || exit 1
log "lab $PFX down (${#hosts[@]} hosts) in $(( $(now_ms) - T0 )) ms"
