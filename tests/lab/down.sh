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
T1=$(now_ms)
# Each host's mount ns holds a sysfs that pins the host's netns.  One lazy
# unmount of $LAB/ns detaches the namespace files of all hosts at once (one
# unmount per file costs ~25 ms each, serialised in the kernel).
while mountpoint -q "$LAB/ns" 2>/dev/null; do umount -l "$LAB/ns"; done
for f in "$LAB"/ns/*; do [ -e "$f" ] && umount -l "$f" 2>/dev/null; done   # if $LAB/ns was no mount
# all netns in one ip run; -force: go on after an error
{ for h in "${hosts[@]}"; do echo "netns delete $PFX-$h"; done
  [ -e "$(hnet sw)" ] && echo "netns delete $SW"; } | ip -force -batch - || true
T2=$(now_ms)
# undo up.sh's inotify_room, unless someone changed the limit since
if [ -f "$LAB/inotify.orig" ] && [ "$(cat /proc/sys/fs/inotify/max_user_instances)" = "$(cat "$LAB/inotify.set" 2>/dev/null)" ]; then
  cat "$LAB/inotify.orig" > /proc/sys/fs/inotify/max_user_instances
  log "fs.inotify.max_user_instances restored to $(cat "$LAB/inotify.orig")"
fi
rm -rf "${LAB:?}"
T3=$(now_ms)

# verify: no netns, no mount, no state dir of this lab
stale_ns=$(ip netns list | awk '{print $1}' | grep -E "^$PFX-(sw|h[0-9]+)\$")
mnts=$(findmnt -rn -o TARGET | grep -E "^$LAB(/|$)")
[ -z "$stale_ns" ] || log "ERROR: netns left: $stale_ns"
[ -z "$mnts" ] || log "ERROR: mounts left: $mnts"
[ ! -e "$LAB" ] || log "ERROR: $LAB left"
[ -z "$stale_ns$mnts" ] && [ ! -e "$LAB" ] || exit 1
log "lab $PFX down (${#hosts[@]} hosts) in $(( $(now_ms) - T0 )) ms" \
    "(processes $((T1 - T0)), namespaces $((T2 - T1)), state dir $((T3 - T2)))"
