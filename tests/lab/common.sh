# common.sh - settings and helpers shared by the lab scripts.  Sourced, never run.
#
# The lab: N simulated Linux hosts on this machine.  Host hN is
#   netns  /run/netns/$PFX-hN            (ip netns)
#   mntns  $LAB/ns/hN.mnt, utsns $LAB/ns/hN.uts  (unshare --mount=FILE --uts=FILE)
# running its own dbus-daemon (system bus), NetworkManager and sshd.  The
# netns $PFX-sw is the switch/router: one bridge per network plus dnsmasq.
# Only 198.18.0.0/15 and 2001:db8::/32 are used; the root netns is never touched.
#
#   net 0  br-mgmt   198.18.0.0/24  2001:db8::/64    mgmt0 of hN = .(10+N), NOT managed by NM (ssh)
#   net K  br-dataK  198.18.K.0/24  2001:db8:K::/64  ethK of hN, managed by NM, no address at start
# The router is .1 / ::1 on every net; dnsmasq serves DHCPv4 + RA on the last data net.

PFX=${HNLAB_PREFIX:-hnlab}
NICS=${HNLAB_NICS:-2}               # data NICs per host
JOBS=${HNLAB_JOBS:-4}               # hosts set up in parallel by up.sh
NM_VERSION=${HNLAB_NM:-1.42}        # 1.42: the machine's NetworkManager; 1.52, 1.58: a root filesystem (nm-rootfs.sh)
ZONE=lab.test                       # DNS zone served by dnsmasq
MAX_HOSTS=240                       # mgmt address .(10+N) must stay <= .250

log() { printf '%s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

# The prefix ends up in paths and netns names: keep it to a safe alphabet.
[[ $PFX =~ ^[a-z][a-z0-9]{0,15}$ ]] || die "HNLAB_PREFIX must match [a-z][a-z0-9]{0,15}, got '$PFX'"
# /run/$PFX is the state dir that down.sh deletes: never one the system (or every lab's lock) uses
RESERVED_PREFIXES="lock netns user shm systemd dbus udev mount log sshd sudo initramfs network credentials"
case " $RESERVED_PREFIXES " in *" $PFX "*) die "HNLAB_PREFIX=$PFX would make /run/$PFX, a system directory, the lab's state dir: choose another prefix";; esac
[[ $NICS =~ ^[0-9]+$ ]] && [ "$NICS" -ge 1 ] && [ "$NICS" -le 16 ] || die "HNLAB_NICS must be 1..16"
[[ $JOBS =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] || die "HNLAB_JOBS must be >= 1"
case "$NM_VERSION" in 1.42|1.52|1.58) ;; *) die "HNLAB_NM must be 1.42, 1.52 or 1.58, got '$NM_VERSION'" ;; esac

LAB=/run/$PFX                       # state dir: same lifetime as /run/netns
SW=$PFX-sw                          # switch/router netns
LOCK=/run/lock/$PFX.lock            # serialises up.sh/down.sh of one lab
LAB_LOCK_WAIT=${HNLAB_LOCK_WAIT:-900}

# ------------------------------------------------------------ addressing
net4()  { echo "198.18.$1"; }               # net K -> 198.18.K.0/24
net6()  { echo "2001:db8:$1"; }             # net K -> 2001:db8:K::/64
mgmt4() { echo "198.18.0.$((10 + $1))"; }   # host index N -> 198.18.0.(10+N)
mgmt6() { echo "2001:db8::$((10 + $1))"; }  # host index N -> 2001:db8::(10+N)

# ------------------------------------------------------------ names, paths
is_host() { [[ $1 =~ ^h[1-9][0-9]{0,2}$ ]] && [ "${1#h}" -le "$MAX_HOSTS" ]; }
hdir()    { echo "$LAB/$1"; }               # per-host state (logs, pids, overlay upper, ...)
hnet()    { echo "/run/netns/$PFX-$1"; }    # HOST may also be "sw"
hmnt()    { echo "$LAB/ns/$1.mnt"; }
huts()    { echo "$LAB/ns/$1.uts"; }

# enter_argv HOST : set array ENTER to the nsenter prefix that enters HOST.
# "sw" is only a netns (no private mount/uts ns).
enter_argv() {
  if [ "$1" = sw ]; then
    ENTER=(nsenter --net="$(hnet sw)" --)
  else
    ENTER=(nsenter --net="$(hnet "$1")" --mount="$(hmnt "$1")" --uts="$(huts "$1")" --)
  fi
}

# hx HOST CMD... : run CMD inside HOST
hx() { local ENTER; enter_argv "$1"; shift; "${ENTER[@]}" "$@"; }

# spawn HOST NAME CMD... : start a daemon inside HOST, detached from us
# (setsid, stdio to $LAB/HOST/log/NAME.log).  The PID in pids/NAME.pid is the
# daemon's own: sh writes $$, then execs nsenter, which execs CMD (nsenter
# does not fork without --pid).  $! of a backgrounded function would be a
# subshell.  HNLAB_DAEMON=<prefix>/<host> in its environment marks it as ours
# (lab_pids), even if its namespace files are gone.
spawn() {
  local h=$1 name=$2 d ENTER; shift 2
  d=$(hdir "$h"); mkdir -p "$d/log" "$d/pids"
  rm -f "$d/pids/$name.pid"
  enter_argv "$h"
  # shellcheck disable=SC2016
  setsid env -u HNLAB_LOCKED "HNLAB_DAEMON=$PFX/$h" sh -c 'echo $$ > "$0"; exec "$@"' \
    "$d/pids/$name.pid" "${ENTER[@]}" "$@" </dev/null >>"$d/log/$name.log" 2>&1 &
}

# ns_inode FILE : inode of a namespace (file or /proc/PID/ns/X), empty if none
ns_inode() { stat -L -c %i "$1" 2>/dev/null || true; }

# pid_of HOST NAME : print the PID of daemon NAME if it is alive inside HOST
# (same netns and, for hosts, the same mount ns as the namespace files).
# Builtins and one stat: up.sh runs this 3x per host on every call.
pid_of() {
  local h=$1 f pid inodes
  f="$(hdir "$h")/pids/$2.pid"
  [ -s "$f" ] && read -r pid < "$f" && [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  if [ "$h" = sw ]; then
    inodes=$(stat -L -c %i "/proc/$pid/ns/net" "$(hnet sw)" 2>/dev/null) || return 1
  else
    inodes=$(stat -L -c %i "/proc/$pid/ns/net" "$(hnet "$h")" "/proc/$pid/ns/mnt" "$(hmnt "$h")" 2>/dev/null) || return 1
  fi
  # lines pairwise equal: process ns == lab ns
  awk 'NR % 2 { v = $0; next } $0 != v { bad = 1 } END { exit bad }' <<< "$inodes" || return 1
  echo "$pid"
}
pid_alive() { pid_of "$@" >/dev/null; }

# wait_until TIMEOUT_S CMD... : poll CMD every 50 ms until it succeeds
wait_until() {
  local end=$(( $(now_ms) + $1 * 1000 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$end" ] || return 1
    sleep 0.05
  done
}

# ------------------------------------------------------------ NetworkManager
# A host's system bus as seen from the root mount ns: no nsenter needed for D-Bus.
bus_of() { echo "unix:path=$(hdir "$1")/run/dbus/system_bus_socket"; }
nmcli_in() { local h=$1; shift; DBUS_SYSTEM_BUS_ADDRESS=$(bus_of "$h") nmcli "$@"; }
NM_DBUS=(org.freedesktop.NetworkManager /org/freedesktop/NetworkManager org.freedesktop.NetworkManager)
nm_prop() { busctl --address="$(bus_of "$1")" get-property "${NM_DBUS[@]}" "$2" 2>/dev/null; }
# Startup=false: NM has finished its startup (all devices settled).
nm_started() { [ "$(nm_prop "$1" Startup)" = "b false" ]; }

# nm_start HOST : spawn NetworkManager in HOST and wait for startup complete.
# --debug sends the log to stderr (there is no journal/syslog); it does not
# raise the log level.
# The bound is generous: on a loaded 2-core machine (make test's lanes) a start can take long; when
# it fails, the error carries what the lab is torn down with (the end of nm.log), for CI's output.
nm_start() {
  local h=$1 state
  spawn "$h" nm NetworkManager --no-daemon --debug
  wait_until 120 nm_started "$h" && return 0
  state=$(pid_alive "$h" nm && echo "running, Startup $(nm_prop "$h" Startup || echo unknown)" || echo "not running")
  die "$h: NetworkManager did not finish its startup within 120 s ($state); the end of $(hdir "$h")/log/nm.log:
$(tail -n 40 "$(hdir "$h")/log/nm.log" 2>&1)"
}

# ------------------------------------------------------------ inventory of the lab
# All hosts that exist (by netns), sorted h1 h2 ... h10.
lab_hosts() {
  local f
  for f in /run/netns/"$PFX"-h*; do
    [ -e "$f" ] || continue
    f=${f##*/}; f=${f#"$PFX"-}
    is_host "$f" && echo "$f"
  done | sort -V
}

# lab_pids [HOST...] : PIDs of our processes in the given hosts (default: the
# whole lab, hosts and switch): every process inside their netns or mount ns,
# plus daemons carrying spawn's HNLAB_DAEMON marker (finds them even when a
# namespace file was removed by hand).  One scan of /proc, not one per host.
lab_pids() {
  local hs=("$@") h want="" re
  if [ ${#hs[@]} -eq 0 ]; then
    mapfile -t hs < <(lab_hosts; echo sw)
    re="^HNLAB_DAEMON=$PFX/"
  else
    re="^HNLAB_DAEMON=$PFX/($(IFS='|'; echo "${hs[*]}"))\$"
  fi
  for h in "${hs[@]}"; do
    want+=" $(ns_inode "$(hnet "$h")")"
    [ "$h" = sw ] || want+=" $(ns_inode "$(hmnt "$h")")"
  done
  # (processes come and go during the scan: stat and grep complain, never mind)
  {
    stat -L -c '%i %n' /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null || true
    grep -lzE "$re" /proc/[0-9]*/environ 2>/dev/null | sed 's|^|env |' || true
  } | awk -v want="$want" -v self=$$ '
        BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
        ($1 == "env" || ok[$1]) { split($2, p, "/"); if (p[3] != self) print p[3] }' | sort -un
}

# alive PID : the process exists and is not a zombie (builtins only: called
# for hundreds of PIDs in a loop by kill_pids)
alive() {
  local stat
  read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
  stat=${stat##*) }; [ "${stat%% *}" != Z ]
}

# kill_pids PID... : TERM, wait up to 5 s, then KILL what is left (by PID only)
kill_pids() {
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  local i p left=("$@")
  for i in $(seq 50); do
    set -- "${left[@]}"; left=()
    for p in "$@"; do alive "$p" && left+=("$p"); done
    [ ${#left[@]} -eq 0 ] && return 0
    sleep 0.1
  done
  log "  still alive after 5 s, SIGKILL: ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
}

# ------------------------------------------------------------ teardown
# host_down HOST : kill every process inside HOST's netns (by PID), then drop
# its namespaces, its switch ports and its state dir.  (down.sh without
# arguments does the same for all hosts at once, faster.)
host_down() {
  local h=$1 pids l
  mapfile -t pids < <(lab_pids "$h")
  [ ${#pids[@]} -gt 0 ] && log "  $h: stopping PIDs ${pids[*]}"
  kill_pids "${pids[@]}"
  # the mount ns holds the host's sysfs, which pins the netns: unmount first
  umount -l "$(hmnt "$h")" 2>/dev/null || true
  umount -l "$(huts "$h")" 2>/dev/null || true
  if [ -e "$(hnet sw)" ]; then
    for l in $(ip -n "$SW" -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep "^$h-"); do
      ip -n "$SW" link del "$l" 2>/dev/null || true
    done
  fi
  [ -e "$(hnet "$h")" ] && ip netns del "$PFX-$h"
  rm -rf "${LAB:?}/$h" "$(hmnt "$h")" "$(huts "$h")"
  return 0
}

# ------------------------------------------------------------ client files
# write_atomic FILE : stdin -> FILE via rename, so readers never see half a file
write_atomic() { cat > "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"; }

# write_client_files : regenerate, from the hosts that exist, the ssh config,
# the Ansible inventory and dnsmasq's host list (and make dnsmasq re-read it).
write_client_files() {
  local hosts h i pid
  mapfile -t hosts < <(lab_hosts)
  [ -d "$LAB/ssh" ] || return 0
  {
    for h in "${hosts[@]}"; do printf 'Host %s\n  HostName %s\n' "$h" "$(mgmt4 "${h#h}")"; done
    cat <<EOF
Host h* 198.18.* 2001:db8:*
  User root
  IdentityFile $LAB/ssh/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  LogLevel ERROR
  ConnectTimeout 10
  # nc runs in the switch netns: the root netns needs no interface or route
  ProxyCommand nsenter --net=$(hnet sw) nc %h %p
EOF
  } | write_atomic "$LAB/ssh/config"
  {
    echo "[lab]"
    for h in "${hosts[@]}"; do echo "$h ansible_host=$(mgmt4 "${h#h}")"; done
    cat <<EOF

[lab:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-F $LAB/ssh/config'
EOF
  } | write_atomic "$LAB/inventory.ini"
  for h in "${hosts[@]}"; do
    i=${h#h}
    printf '%s %s.%s %s\n%s %s.%s %s\n' "$(mgmt4 "$i")" "$h" "$ZONE" "$h" "$(mgmt6 "$i")" "$h" "$ZONE" "$h"
  done | write_atomic "$LAB/dns.hosts"
  chmod 644 "$LAB/dns.hosts" "$LAB/inventory.ini" "$LAB/ssh/config"
  if pid=$(pid_of sw dnsmasq); then kill -HUP "$pid"; fi   # HUP: re-read addn-hosts
  return 0
}

# ------------------------------------------------------------ locking
# lab_lock "$@" : re-run the calling script under an exclusive lock, so two
# up.sh/down.sh of the same lab never interleave.  flock -o: the lock fd is not
# inherited by the daemons we start (they would hold the lock forever).
lab_lock() {
  [ "${HNLAB_LOCKED:-}" = "$PFX" ] && return 0
  mkdir -p /run/lock
  local rc=0
  HNLAB_LOCKED=$PFX flock -o -E 75 -w "$LAB_LOCK_WAIT" "$LOCK" bash "$0" "$@" || rc=$?
  [ $rc = 75 ] && die "another up.sh/down.sh holds $LOCK for more than ${LAB_LOCK_WAIT}s"
  exit $rc
}

need_root() { [ "$(id -u)" = 0 ] || die "run as root"; }
