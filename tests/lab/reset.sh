#!/bin/bash
# reset.sh HOST... : return lab hosts to their state right after up.sh, fast
# and without restarting NetworkManager (tests call this between tests):
#   - destroy all NM checkpoints (destroy, never roll back: a pending rollback
#     would undo the reset later),
#   - delete every NM connection profile (except the ones NM generates itself
#     for externally configured devices, such as "lo", which it re-creates anyway),
#   - delete every interface that did not exist after up.sh (bridges, macvlans, ...),
#   - on eth1..ethN: release from any master, flush addresses and main-table
#     routes, restore MTU and MAC, link up; make them managed again,
#   - delete every routing rule but the kernel's own three (an "ip rule add" stays otherwise),
#   - restore /etc/resolv.conf and /etc/hostname (+ the UTS hostname),
#   - wait (up to 30 s) until NM reports eth1..ethN "disconnected".
# If NetworkManager is not running in the host, it is started (repair).
# Exit 1 with a message on stderr if a host cannot be reset.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ $# -ge 1 ] || die "usage: reset.sh HOST..."

NM=org.freedesktop.NetworkManager
nm_bus() { local h=$1; shift; busctl --address="$(bus_of "$h")" "$@"; }
# dbus_paths : the object paths in a busctl reply ('ao 2 "/a" "/b"' -> /a /b)
dbus_paths() { grep -o '"/[^"]*"' | tr -d '"'; }

# nics_settled HOST : eth1..ethN all "disconnected"
nics_settled() {
  local h=$1 states k
  states=" $(nmcli_in "$h" -t -f DEVICE,STATE device | tr '\n' ' ') "
  for k in $(seq 1 "$NICS"); do [[ $states == *" eth$k:disconnected "* ]] || return 1; done
}

reset_host() {
  local h=$1 d ns p flags l k name mtu mac states keep
  d=$(hdir "$h"); ns=$PFX-$h
  is_host "$h" && [ -e "$(hnet "$h")" ] || die "$h: no such lab host"
  pid_alive "$h" dbus || die "$h: dbus-daemon is not running (up.sh repairs the host)"
  if ! pid_alive "$h" nm || ! nm_started "$h"; then
    log "$h: NetworkManager is not running, starting it"
    if p=$(pid_of "$h" nm); then kill_pids "$p"; fi
    nm_start "$h"
  fi

  # 1. checkpoints
  for p in $(nm_prop "$h" Checkpoints | dbus_paths); do
    nm_bus "$h" call "${NM_DBUS[@]}" CheckpointDestroy o "$p" >/dev/null 2>&1 || true
  done

  # 2. profiles (Flags bit 0x8 = EXTERNAL: NM's own mirror of a device it did not configure)
  for p in $(nm_bus "$h" call $NM /org/freedesktop/NetworkManager/Settings $NM.Settings ListConnections | dbus_paths); do
    flags=$(nm_bus "$h" get-property $NM "$p" $NM.Settings.Connection Flags 2>/dev/null | awk '{print $2}') || continue
    [ -n "$flags" ] && (( flags & 8 )) && continue
    if ! nm_bus "$h" call $NM "$p" $NM.Settings.Connection Delete >/dev/null 2>&1; then
      # gone meanwhile (e.g. NM dropped it with its device) is fine
      ! nm_bus "$h" get-property $NM "$p" $NM.Settings.Connection Flags >/dev/null 2>&1 ||
        die "$h: cannot delete profile $p"
    fi
  done

  # 3. interfaces that did not exist after up.sh.  NM removes the software
  # devices of deleted profiles itself, maybe while we look: ignore "not found".
  # (sysfs lists the host's links reliably; lo, mgmt0 and ethK are never deleted)
  keep=" lo mgmt0 $(seq -f 'eth%g' -s ' ' 1 "$NICS") "
  for l in $(hx "$h" ls -1 /sys/class/net); do
    [[ $keep == *" $l "* ]] && continue
    grep -qxF "$l" "$d/pristine/links" || ip -n "$ns" link del "$l" 2>/dev/null || true
  done

  # 4. data NICs back to their pristine state
  while read -r name mtu mac; do
    ip -n "$ns" link set "$name" nomaster 2>/dev/null || true
    ip -n "$ns" addr flush dev "$name"
    ip -n "$ns" -4 route flush dev "$name" table main
    ip -n "$ns" -6 route flush dev "$name" table main
    ip -n "$ns" link set "$name" mtu "$mtu"
    if [ "$(hx "$h" cat "/sys/class/net/$name/address")" != "$mac" ]; then
      ip -n "$ns" link set "$name" down
      ip -n "$ns" link set "$name" address "$mac"
    fi
    ip -n "$ns" link set "$name" up
  done < "$d/pristine/nics"
  # routing rules back to the kernel's own (local 0, main 32766, default 32767): profiles' rules went with
  # the profiles, but a rule added with "ip rule" stays in the kernel until deleted
  for k in 4 6; do
    for p in $(ip -n "$ns" -$k rule show | awk -F: '$1 != 0 && $1 != 32766 && $1 != 32767 {print $1}' | sort -un); do
      while ip -n "$ns" -$k rule del priority "$p" 2>/dev/null; do :; done
    done
  done
  # a test may have unmanaged a NIC or switched networking off (runtime state)
  [ "$(nm_prop "$h" NetworkingEnabled)" = "b true" ] || nmcli_in "$h" networking on
  states=" $(nmcli_in "$h" -t -f DEVICE,STATE device | tr '\n' ' ') "
  for k in $(seq 1 "$NICS"); do
    [[ $states == *" eth$k:unmanaged "* ]] && nmcli_in "$h" device set "eth$k" managed yes
  done

  # 5. settle first: NM rewrites resolv.conf while it deactivates devices
  wait_until 30 nics_settled "$h" ||
    die "$h: eth1..eth$NICS not disconnected after 30 s: $(nmcli_in "$h" -t -f DEVICE,STATE device | tr '\n' ' ')"

  # 6. files (the pristine copies live outside the host, so pass them on stdin)
  hx "$h" sh -c 'rm -f /etc/resolv.conf && cat > /etc/resolv.conf' < "$d/pristine/resolv.conf"
  hx "$h" sh -c 'echo "$1" > /etc/hostname && echo "$1" > /proc/sys/kernel/hostname' sh "$h"
}

# hosts in parallel (each reset is mostly waiting for NM); fail if any failed
for h in "$@"; do is_host "$h" || die "not a host name: $h"; done
pids=()
for h in "$@"; do ( reset_host "$h" ) & pids+=($!); done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
