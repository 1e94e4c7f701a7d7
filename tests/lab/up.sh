#!/bin/bash
# up.sh N : bring up the switch/router and lab hosts h1..hN (N <= 240), each
# with its own dbus-daemon, NetworkManager and sshd.  Idempotent: healthy hosts
# are kept, broken ones are rebuilt, missing ones are added (hosts above N are
# left alone; remove them with down.sh hK).  HNLAB_JOBS hosts (default 4) are
# set up in parallel.  Writes $LAB/inventory.ini and $LAB/ssh/config.
# Environment: HNLAB_PREFIX (hnlab), HNLAB_NICS (2), HNLAB_JOBS (4), HNLAB_NM (1.42:
# the machine's NetworkManager; 1.52 or 1.58: hosts run a cached root filesystem, nm-rootfs.sh).
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
lab_lock "$@"

N=${1:-}
[[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le "$MAX_HOSTS" ] ||
  die "usage: up.sh N   (number of hosts, 1..$MAX_HOSTS)"
for c in NetworkManager nmcli dbus-daemon dbus-uuidgen sshd ssh-keygen dnsmasq nc busctl \
         unshare nsenter findmnt setsid flock ss ip; do
  command -v "$c" >/dev/null || die "missing $c: run tests/lab/install.sh"
done
T_START=$(now_ms)

# ------------------------------------------------------------ state dir
lab_dir_up() {
  mkdir -p "$LAB/ns" "$LAB/ssh"; chmod 755 "$LAB"
  # Namespace files can only be bind-mounted onto a private mount (like /run/netns).
  if ! mountpoint -q "$LAB/ns"; then
    mount --bind "$LAB/ns" "$LAB/ns"
    mount --make-private "$LAB/ns"
  fi
  [ -f "$LAB/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "$PFX" -f "$LAB/ssh/id_ed25519"
  [ -f "$LAB/dns.hosts" ] || : > "$LAB/dns.hosts"
  chmod 644 "$LAB/dns.hosts"
}

# ------------------------------------------------------------ switch/router
dnsmasq_conf() {
  local k last=$NICS
  cat <<EOF
# dnsmasq of lab $PFX: authoritative for $ZONE only, no upstream, so no query
# ever leaves the lab (other names get REFUSED).  DHCPv4 + RA on br-data$last.
keep-in-foreground
log-facility=-
log-queries
pid-file=$LAB/sw/dnsmasq.pid
no-resolv
no-hosts
no-poll
bind-dynamic
interface=br-mgmt
$(for k in $(seq 1 "$NICS"); do echo "interface=br-data$k"; done)
local=/$ZONE/
domain=$ZONE
addn-hosts=$LAB/dns.hosts
host-record=router.$ZONE,198.18.0.1,2001:db8::1
host-record=ns.$ZONE,$(net4 1).1,$(net6 1)::1
cname=www.$ZONE,router.$ZONE
dhcp-range=$(net4 "$last").100,$(net4 "$last").250,255.255.255.0,1h
dhcp-range=::,constructor:br-data$last,ra-stateless,64,1h
enable-ra
leasefile-ro
EOF
}

sw_up() {
  local k br pid
  [ -e "$(hnet sw)" ] || ip netns add "$SW"
  ip -n "$SW" link set lo up
  hx sw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  for k in $(seq 0 "$NICS"); do
    br="br-data$k"; [ "$k" = 0 ] && br="br-mgmt"
    ip -n "$SW" link show "$br" >/dev/null 2>&1 || ip -n "$SW" link add "$br" type bridge
    ip -n "$SW" addr replace "$(net4 "$k").1/24" dev "$br"
    ip -n "$SW" addr replace "$(net6 "$k")::1/64" dev "$br" nodad
    ip -n "$SW" link set "$br" up
  done
  mkdir -p "$LAB/sw"
  dnsmasq_conf > "$LAB/sw/dnsmasq.conf.new"
  if pid=$(pid_of sw dnsmasq) && ! cmp -s "$LAB/sw/dnsmasq.conf.new" "$LAB/sw/dnsmasq.conf"; then
    log "sw: dnsmasq config changed (HNLAB_NICS?), restarting it"; kill_pids "$pid"
  fi
  mv -f "$LAB/sw/dnsmasq.conf.new" "$LAB/sw/dnsmasq.conf"
  if ! pid_alive sw dnsmasq; then
    spawn sw dnsmasq dnsmasq --conf-file="$LAB/sw/dnsmasq.conf"
    wait_until 10 sh -c "nsenter --net='$(hnet sw)' ss -Hlun 'sport = :53' | grep -q ." ||
      die "sw: dnsmasq did not start, see $LAB/sw/log/dnsmasq.log"
  fi
}

# ------------------------------------------------------------ inside a host
# host_mounts HOST STATEDIR [ROOTFS] : runs in the host's fresh mount+uts ns
# (unshare), which still shows the root mount tree.  Shipped in with declare -f.
# With ROOTFS (another NetworkManager version, nm-rootfs.sh) the host's / becomes
# a private overlay of it instead (host_rootfs).
host_mounts() {
  local h=$1 d=$2 r=${3:-} tops t i
  echo "$h" > /proc/sys/kernel/hostname
  # The new ns holds copies of every mount under /run, among them /run/netns/*
  # and the ns files of all other hosts.  These copies would pin the other
  # hosts' namespaces (leaks on teardown): detach them.  umount -l of the top
  # of a subtree detaches the whole subtree, so only the tops are unmounted.
  for i in 1 2 3 4 5; do
    tops=$(findmnt -rn -o TARGET | grep '^/run/' | sort -u |
           awk '{ for (i = 1; i <= n; i++) if (index($0, k[i] "/") == 1) next; k[++n] = $0; print }')
    [ -n "$tops" ] || break
    for t in $tops; do umount -l "$t" 2>/dev/null || true; done
  done
  if findmnt -rn -o TARGET | grep -q '^/run/'; then echo "$h: cannot detach inherited /run mounts" >&2; exit 1; fi
  if [ -n "$r" ]; then host_rootfs "$d" "$r"; return; fi
  # sysfs of THIS netns, so /sys/class/net shows the host's interfaces.  /sys
  # must be read-only: with a writable /sys, NM 1.42 uses udev and waits
  # forever for a udevd (devices stay "unmanaged", Startup never ends).
  # /sys/devices/virtual/net stays writable: NM writes bridge-port options
  # (brport/priority, path_cost, hairpin_mode) there.
  umount -l /sys
  mount -t sysfs sysfs /sys
  mount --bind /sys/devices/virtual/net /sys/devices/virtual/net
  mount -o remount,bind,ro /sys
  # Private /etc: every write (resolv.conf, NM profiles, keys) lands in etc.upper.
  mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/etc.upper,workdir=$d/etc.work" /etc
  mount --bind "$d/varlib" /var/lib/NetworkManager
  mount --bind "$d/root" /root
  mount --bind "$d/tmp" /tmp
  mount --bind "$d/run" /run          # last: hides $LAB (and $d) inside the host
}

# host_rootfs STATEDIR ROOTFS : the host's / becomes an overlay of ROOTFS
# (lower, shared read-only by all hosts of that version; writes land in
# STATEDIR/fs.upper) with the same mounts as a host of the machine's own
# NetworkManager; then pivot_root, so every nsenter into this mount ns runs
# the root filesystem's programs (NM, dbus, sshd, python3, nmcli, ip).
host_rootfs() {
  local d=$1 r=$2 n=$1/fs
  mkdir -p "$n" "$d/fs.upper" "$d/fs.work"
  mount -t overlay overlay -o "lowerdir=$r,upperdir=$d/fs.upper,workdir=$d/fs.work" "$n"
  mount -t proc proc "$n/proc"
  # read-only sysfs of this netns, /sys/devices/virtual/net writable (as below)
  mount -t sysfs sysfs "$n/sys"
  mount --bind "$n/sys/devices/virtual/net" "$n/sys/devices/virtual/net"
  mount -o remount,bind,ro "$n/sys"
  mount --rbind /dev "$n/dev"
  mount --bind "$d/varlib" "$n/var/lib/NetworkManager"
  mount --bind "$d/root" "$n/root"
  mount --bind "$d/tmp" "$n/tmp"
  mount --bind "$d/run" "$n/run"
  mkdir -p "$n/.oldroot"
  cd "$n"
  pivot_root . .oldroot
  cd /
  umount -l /.oldroot
  rmdir /.oldroot
}

# host_etc HOST MGMT4 MGMT6 ZONE PFX : runs inside the host; writes its private
# /etc.  The lab's ssh public key comes on stdin ($LAB is hidden in the host).
host_etc() {
  local h=$1 ip4=$2 ip6=$3 zone=$4 pfx=$5
  echo "$h" > /etc/hostname
  dbus-uuidgen > /etc/machine-id          # unique DHCP DUID/IAID per host
  if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
    mount --bind /etc/machine-id /var/lib/dbus/machine-id
  fi
  printf '127.0.0.1 localhost\n::1 localhost\n%s %s.%s %s\n' "$ip4" "$h" "$zone" "$h" > /etc/hosts
  echo "# $h: written by NetworkManager" > /etc/resolv.conf
  # Debian's 01-ifupdown dispatcher script fails (no ifupdown here).
  rm -rf /etc/NetworkManager/conf.d/* /etc/NetworkManager/system-connections/* \
         /etc/NetworkManager/dispatcher.d/01-ifupdown
  cat > /etc/NetworkManager/NetworkManager.conf <<EOF
# lab host $h
[main]
# keyfile only: no ifupdown plugin
plugins=keyfile
# no automatic "Wired connection N" profiles
no-auto-default=*
# no polkitd here; root (the only caller) is always allowed
auth-polkit=root-only
dns=default
# NM writes the host's private /etc/resolv.conf itself
rc-manager=file

[keyfile]
# mgmt0 carries ssh from the lab controller: keep it away from NM and tests
unmanaged-devices=interface-name:mgmt0

[connectivity]
enabled=false

[logging]
level=INFO
EOF
  mkdir -p /run/dbus /run/NetworkManager /run/sshd
  rm -f /etc/ssh/ssh_host_*
  ssh-keygen -q -t ed25519 -N '' -C "$h" -f /etc/ssh/ssh_host_ed25519_key
  cat > "/etc/ssh/sshd_config.d/00-$pfx.conf" <<EOF
ListenAddress $ip4
ListenAddress [$ip6]
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
AuthorizedKeysFile /etc/ssh/${pfx}_authorized_keys
PidFile /run/sshd.pid
UseDNS no
EOF
  # in the overlay, root-owned and 0600: sshd's StrictModes is satisfied
  (umask 077; cat > "/etc/ssh/${pfx}_authorized_keys")
  /usr/sbin/sshd -t
}

# ------------------------------------------------------------ one host
# host_healthy HOST : its three daemons run inside it and its NICs exist.
# (sysfs, not "ip link" dumps: those get interrupted while other hosts are built)
host_healthy() {
  local h=$1 k nics=(mgmt0)
  [ "$(cat "$(hdir "$h")/nm-version" 2>/dev/null)" = "$NM_VERSION" ] || return 1
  pid_alive "$h" dbus && pid_alive "$h" nm && pid_alive "$h" sshd || return 1
  for k in $(seq 1 "$NICS"); do nics+=("eth$k"); done
  hx "$h" sh -c 'for n; do [ -e "/sys/class/net/$n" ] || exit 1; done' sh "${nics[@]}"
}

sshd_listening() { [ -n "$(nsenter --net="$(hnet "$1")" ss -Hltn 'sport = :22')" ]; }

host_up() {
  local i=$1 h=h$1 d k t0 t1 t2 fn
  d=$(hdir "$h")
  if host_healthy "$h"; then return 0; fi
  if [ -e "$(hnet "$h")" ] || [ -d "$d" ]; then log "$h: broken, rebuilding"; host_down "$h"; fi
  t0=$(now_ms)
  mkdir -p "$d"/{run,varlib,root,tmp,etc.upper,etc.work,log,pids,pristine}
  chmod 1777 "$d/tmp"; chmod 700 "$d/root"

  # network: mgmt0 + eth1..ethN, each a veth to a bridge in the switch
  ip netns add "$PFX-$h"
  ip -n "$PFX-$h" link set lo up
  ip -n "$SW" link add "$h-m" type veth peer name mgmt0 netns "$PFX-$h"
  ip -n "$SW" link set "$h-m" master br-mgmt up
  for k in $(seq 1 "$NICS"); do
    ip -n "$SW" link add "$h-e$k" type veth peer name "eth$k" netns "$PFX-$h"
    ip -n "$SW" link set "$h-e$k" master "br-data$k" up
  done
  ip -n "$PFX-$h" addr add "$(mgmt4 "$i")/24" dev mgmt0
  ip -n "$PFX-$h" addr add "$(mgmt6 "$i")/64" dev mgmt0 nodad
  # A rebuilt host has a new mgmt0 MAC: announce it and drop the switch's
  # stale neighbour entry, or ssh times out ("banner exchange").
  nsenter --net="$(hnet "$h")" sysctl -qw net.ipv4.conf.mgmt0.arp_notify=1 net.ipv6.conf.mgmt0.ndisc_notify=1
  # (2>/dev/null: "Dump was interrupted" while other hosts are built is harmless here)
  ip -n "$SW" neigh flush to "$(mgmt4 "$i")" 2>/dev/null
  ip -n "$SW" -6 neigh flush to "$(mgmt6 "$i")" 2>/dev/null
  ip -n "$PFX-$h" link set mgmt0 up

  # persistent mount + uts ns (files on the private $LAB/ns mount; no holder process)
  touch "$(hmnt "$h")" "$(huts "$h")"
  fn=$(declare -f host_mounts)
  nsenter --net="$(hnet "$h")" unshare --mount="$(hmnt "$h")" --uts="$(huts "$h")" \
    --propagation private bash -ec "$fn; $(declare -f host_rootfs); host_mounts \"\$@\"" bash "$h" "$d" "$ROOTFS"
  fn=$(declare -f host_etc)
  hx "$h" bash -ec "$fn; host_etc \"\$@\"" bash "$h" "$(mgmt4 "$i")" "$(mgmt6 "$i")" "$ZONE" "$PFX" \
    < "$LAB/ssh/id_ed25519.pub"

  # daemons: dbus first (NM needs the bus), sshd meanwhile, then NM
  spawn "$h" dbus dbus-daemon --system --nofork --nopidfile
  spawn "$h" sshd /usr/sbin/sshd -D -e
  wait_until 10 test -S "$d/run/dbus/system_bus_socket" || die "$h: dbus-daemon did not start, see $d/log/dbus.log"
  t1=$(now_ms)
  nm_start "$h"
  t2=$(now_ms)
  wait_until 10 sshd_listening "$h" || die "$h: sshd not listening, see $d/log/sshd.log"

  echo "$NM_VERSION" > "$d/nm-version"
  # pristine state, for reset.sh
  hx "$h" cat /etc/resolv.conf > "$d/pristine/resolv.conf"
  # (from the host's sysfs: "ip link" dumps get interrupted while other hosts are built)
  hx "$h" ls -1 /sys/class/net > "$d/pristine/links"
  # shellcheck disable=SC2016
  hx "$h" sh -c 'for k in $(seq 1 "$1"); do n=eth$k
    echo "$n $(cat /sys/class/net/$n/mtu) $(cat /sys/class/net/$n/address)"; done' sh "$NICS" > "$d/pristine/nics"
  [ "$(wc -l < "$d/pristine/links")" -eq $((NICS + 2)) ] ||
    log "$h: note: kernel-made interfaces, kept by reset.sh: $(tr '\n' ' ' < "$d/pristine/links")"
  printf '%s setup_ms=%d nm_startup_ms=%d total_ms=%d\n' \
    "$h" $((t1 - t0)) $((t2 - t1)) $(($(now_ms) - t0)) | tee -a "$LAB/timings.log" >&2
}

# inotify_room : NetworkManager and dbus-daemon take one inotify instance each
# per host, and the default limit (fs.inotify.max_user_instances = 128, for
# all of root) runs out near 60 hosts: dbus then runs without watching its
# config and, worse, every other root process on the machine gets EMFILE.
# Raise the limit for big labs (more than 32 hosts with the default), leaving
# 64 for everybody else; down.sh puts the old value back.
inotify_room() {
  local f=/proc/sys/fs/inotify/max_user_instances cur need
  need=$(( 2 * N + 64 ))
  read -r cur < "$f"
  [ "$cur" -lt "$need" ] || return 0
  [ -f "$LAB/inotify.orig" ] || echo "$cur" > "$LAB/inotify.orig"
  log "raising fs.inotify.max_user_instances $cur -> $need (2 per host; down.sh restores it)"
  echo "$need" > "$f"
  echo "$need" > "$LAB/inotify.set"
}

# ------------------------------------------------------------ main
ROOTFS=""
if [ "$NM_VERSION" != 1.42 ]; then
  ROOTFS=$(bash "$(dirname "$0")/nm-rootfs.sh" "$NM_VERSION") || die "no root filesystem of NetworkManager $NM_VERSION"
fi
lab_dir_up
inotify_room
sw_up

# host_up in up to $JOBS background jobs; a failed host is retried once alone
declare -A running=()          # job PID -> host index
failed=()
reap_one() {
  local pid rc=0
  wait -n -p pid "${!running[@]}" || rc=$?
  [ "$rc" = 0 ] || failed+=("${running[$pid]}")
  unset "running[$pid]"
}
for i in $(seq 1 "$N"); do
  while [ ${#running[@]} -ge "$JOBS" ]; do reap_one; done
  ( host_up "$i" ) &
  running[$!]=$i
done
while [ ${#running[@]} -gt 0 ]; do reap_one; done
still=()
for i in "${failed[@]}"; do
  log "h$i: failed, retrying alone"
  ( host_up "$i" ) || still+=("h$i")
done

write_client_files
[ ${#still[@]} -eq 0 ] || die "hosts failed to come up: ${still[*]} (logs in $LAB/hN/log)"
log "lab $PFX up: $(lab_hosts | wc -l) hosts in $(( $(now_ms) - T_START )) ms;" \
    "ssh -F $LAB/ssh/config h1; inventory $LAB/inventory.ini"
