#!/bin/sh
# kguest.sh - in-guest helper of the kernel tier (runs inside the UML guest, as root).
#
#   sh /run/kguest/kguest.sh nics                   create what is missing of the lab (idempotent)
#   sh /run/kguest/kguest.sh partner bridge|lacp    rewire the switch side of eth1/eth2
#   sh /run/kguest/kguest.sh reset [bridge|lacp]    back to a clean lab (see reset() below)
#   sh /run/kguest/kguest.sh wait [SECONDS]         until NM shows eth1..ethN disconnected
#   sh /run/kguest/kguest.sh status                 print the lab state (for debugging)
#
# The lab: data NICs eth1..ethN (N = KG_NICS) are veth devices in the guest's root netns, so
# NetworkManager manages them as plain "ethernet" devices. Their peers sw1..swN sit in the guest
# netns "switch", which plays the switch / LACP partner:
#
#   guest root netns (NM)          netns "switch"
#   eth1 02:6b:00:00:00:01  ---  sw1 -+                     swbr       198.18.1.254/24    2001:db8:1::fe/64
#   eth2 02:6b:00:00:00:02  ---  sw2 -+- (swbond) -- swbr   swbr.100   198.18.100.254/24  2001:db8:100::fe/64
#   eth3 02:6b:00:00:00:03  ---  sw3 ---------------- swbr  swbr.200   198.18.200.254/24  2001:db8:200::fe/64
#   eth4 02:6b:00:00:00:04  ---  sw4 ---------------- swbr
#
# swbr is a plain bridge (no STP, no VLAN filtering: tagged frames pass, and swbr.100/swbr.200
# answer on VLANs 100/200). Partner mode "bridge" (default) puts sw1/sw2 straight into swbr, which
# suits active-backup and other non-LACP bonds. Mode "lacp" puts them into an 802.3ad bond
# "swbond" (lacp_rate fast) that is itself a port of swbr, so a guest 802.3ad bond of eth1+eth2
# negotiates LACP and passes traffic.
set -u
X=/run/kguest
# shellcheck source=/dev/null
. "$X/guest.env"
N=$KG_NICS
SW=switch
MODE_FILE=/run/kguest-partner
# Every process start costs 50-200 ms under UML, so the ip commands are grouped into
# `ip -batch` runs (-force: go on after an error, e.g. deleting a VLAN whose parent is gone).
B=/run/kguest-batch

ensure_switch() {
  [ -e "/run/netns/$SW" ] && return 0
  ip netns add "$SW" || return 1
  {
    echo "link set lo up"
    echo "link add swbr type bridge stp_state 0 vlan_filtering 0"
    echo "link set swbr up"
    echo "address add 198.18.1.254/24 dev swbr"
    echo "address add 2001:db8:1::fe/64 dev swbr nodad"
    for v in 100 200; do
      echo "link add link swbr name swbr.$v type vlan id $v"
      echo "address add 198.18.$v.254/24 dev swbr.$v"
      echo "address add 2001:db8:$v::fe/64 dev swbr.$v nodad"
      echo "link set swbr.$v up"
    done
  } > "$B"
  ip -n "$SW" -batch "$B"
}

nics() {
  ensure_switch || return 1
  : > "$B"
  i=1
  while [ "$i" -le "$N" ]; do
    # Created with the peer directly in the switch netns: NM never sees the sw* side. Fixed
    # MACs (NET_ADDR_SET) also keep udev's MACAddressPolicy=persistent from rewriting them.
    [ -e "/sys/class/net/eth$i" ] || printf \
      'link add eth%d address 02:6b:00:00:00:%02x type veth peer name sw%d address 02:6b:00:00:01:%02x netns %s\n' \
      "$i" "$i" "$i" "$i" "$SW" >> "$B"
    i=$((i + 1))
  done
  [ -s "$B" ] && { ip -batch "$B" || return 1; }
  # (sh has no local variables: names here must not clash with reset()'s)
  nics_mode=bridge
  [ -e "$MODE_FILE" ] && read -r nics_mode < "$MODE_FILE"
  partner "$nics_mode" force
}

partner() { # bridge|lacp [force]
  cur=none
  [ -e "$MODE_FILE" ] && read -r cur < "$MODE_FILE"
  [ "$cur" = "$1" ] && [ "${2:-}" != force ] && return 0
  i=1
  case "$1" in
  bridge)
    : > "$B"
    [ "$cur" = lacp ] && echo "link del swbond" > "$B"   # releases sw1/sw2
    while [ "$i" -le "$N" ]; do
      echo "link set sw$i master swbr" >> "$B"
      echo "link set sw$i up" >> "$B"
      i=$((i + 1))
    done
    ;;
  lacp)
    [ "$N" -ge 2 ] || { echo "lacp partner needs 2 NICs" >&2; return 1; }
    {
      [ "$cur" = lacp ] || echo "link add swbond type bond mode 802.3ad miimon 100 lacp_rate fast"
      # a port must be down to be enslaved to a bond
      echo "link set sw1 down"; echo "link set sw1 nomaster"; echo "link set sw1 master swbond"
      echo "link set sw2 down"; echo "link set sw2 nomaster"; echo "link set sw2 master swbond"
      echo "link set swbond master swbr"
      echo "link set swbond up"
      while [ "$i" -le "$N" ]; do
        [ "$i" -le 2 ] || echo "link set sw$i master swbr"
        echo "link set sw$i up"
        i=$((i + 1))
      done
    } > "$B"
    ;;
  *) echo "partner: bridge or lacp, not '$1'" >&2; return 2;;
  esac
  ip -n "$SW" -batch "$B" || return 1
  echo "$1" > "$MODE_FILE"
}

ready_count() { # how many ethN NM shows as disconnected; also re-manage ethN set unmanaged
  nmcli -t -f DEVICE,STATE device 2>/dev/null > "$B.nm"
  n=0
  while IFS=: read -r dev state; do
    case "$dev:$state" in
      eth[0-9]*:disconnected) n=$((n + 1));;
      eth[0-9]*:unmanaged) [ "${1:-}" = fix ] && nmcli device set "$dev" managed yes;;
    esac
  done < "$B.nm"
}

wait_disconnected() { # seconds: until NM shows every ethN as disconnected
  read -r up _ < /proc/uptime
  deadline=$(( ${up%.*} + $1 ))
  ready_count fix
  while [ "$n" -lt "$N" ]; do
    read -r up _ < /proc/uptime
    if [ "${up%.*}" -ge "$deadline" ]; then
      echo "data NICs not all disconnected after $1 s:" >&2
      nmcli device >&2
      return 1
    fi
    sleep 0.25
    ready_count
  done
}

reset() {
  reset_mode=${1:-bridge}
  # 1. every NM profile except the loopback one NM 1.42 generates for lo
  nmcli -t -f UUID,TYPE connection show > "$B.nm"
  set --
  while IFS=: read -r uuid type; do
    [ "$type" = loopback ] || set -- "$@" "$uuid"
  done < "$B.nm"
  [ $# -gt 0 ] && nmcli -w 30 connection delete "$@" >/dev/null
  # 2. profile files NM did not load (a test may have written keyfiles itself). Not those in
  #    /run/NetworkManager/system-connections: that is where NM keeps its own lo profile.
  stray=0
  for f in /etc/NetworkManager/system-connections/*; do
    [ -e "$f" ] && { rm -f "$f"; stray=1; }
  done
  [ "$stray" = 1 ] && nmcli connection reload
  # 3. every other link of the guest's root netns (bonds, VLANs, bridges, dummies, ...)
  : > "$B"
  for d in /sys/class/net/*; do
    n=${d##*/}
    [ -e "$d/ifindex" ] || continue          # e.g. bonding_masters is a file, not a device
    case "$n" in lo|vmmgmt0) continue;; esac
    case "$n" in eth[0-9]*) [ "${n#eth}" -le "$N" ] 2>/dev/null && continue;; esac
    echo "link del dev $n" >> "$B"
  done
  [ -s "$B" ] && ip -force -batch "$B" 2>/dev/null
  # 4. guest netns created by tests (the switch stays)
  for f in /run/netns/*; do
    [ -e "$f" ] && [ "${f##*/}" != "$SW" ] && ip netns del "${f##*/}"
  done
  # 5. data NICs back to baseline: recreate missing ones, release, MTU, MAC, up, no addresses
  #    (NM leaves a NIC that a test set down "unavailable" instead of bringing it up)
  nics || return 1
  : > "$B"
  i=1
  while [ "$i" -le "$N" ]; do
    printf 'link set dev eth%d nomaster\nlink set dev eth%d mtu 1500 address 02:6b:00:00:00:%02x up\naddress flush dev eth%d scope global\n' \
      "$i" "$i" "$i" "$i" >> "$B"
    i=$((i + 1))
  done
  ip -force -batch "$B" >/dev/null 2>&1
  partner "$reset_mode" || return 1
  wait_disconnected 30
}

status() {
  echo "== partner mode: $(cat "$MODE_FILE" 2>/dev/null)"
  nmcli device
  nmcli connection
  ip -br link
  echo "== netns $SW"
  ip -n "$SW" -br link
  ip -n "$SW" -br addr
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  nics) nics;;
  partner) partner "${1:?bridge or lacp}";;
  reset) reset "${1:-bridge}";;
  wait) wait_disconnected "${1:-30}";;
  status) status;;
  *) sed -n '2,9p' "$0" >&2; exit 2;;
esac
