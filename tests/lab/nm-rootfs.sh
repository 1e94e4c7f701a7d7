#!/bin/bash
# nm-rootfs.sh VERSION : print the path of a root filesystem whose NetworkManager
# is VERSION (1.52: Debian 13 "trixie", 1.58: Debian testing "forky"), building
# it first if it is not cached.  Lab hosts of up.sh with HNLAB_NM=VERSION run
# NetworkManager, D-Bus, sshd and Python from it.
#
# Cache (machine-wide, outside any checkout, so a fresh clone reuses it):
#   $HOSTNET_NM_CACHE (default /var/cache/hostnet-nm)/VERSION-KEY/rootfs
#   .../VERSION-KEY/stamp   written last: a tree without it is never used
#   .../VERSION-KEY.lock    flock: two builds of one tree never race
# KEY is a hash of the package list and suite: a changed list builds a new tree
# beside the old one, which labs and guests that still run on it keep using
# (remove a tree nothing runs on by hand).
# The Debian archive is the one this machine's apt already uses (read from
# /etc/apt/sources.list*, never written into the project).
# A build takes 2-3 minutes on a 2-core machine (debootstrap --variant=minbase, ~300 MB).
set -euo pipefail
log() { printf 'nm-rootfs: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

VERSION=${1:-}
case "$VERSION" in
  1.52) SUITE=trixie ;;
  1.58) SUITE=forky ;;
  *) die "usage: nm-rootfs.sh 1.52|1.58 (1.42 is the machine's own NetworkManager)" ;;
esac
# Only what a lab host runs: NM, its bus, sshd for Ansible, the host Python with
# the D-Bus binding, and the tools the tests call inside a host; udev and kmod
# for the kernel tier's guest (tests/kernel: NetworkManager manages its veth
# NICs once udev has seen them; bonding and 8021q are modules).
PKGS=network-manager,dbus,openssh-server,python3,python3-dbus-fast,iproute2,iputils-ping,procps,udev,kmod
CACHE=${HOSTNET_NM_CACHE:-/var/cache/hostnet-nm}
STAMP="$PKGS $SUITE"
DIR=$CACHE/$VERSION-$(printf '%s' "$STAMP" | sha1sum | cut -c1-8)

ready() { [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] && [ -x "$DIR/rootfs/usr/sbin/NetworkManager" ]; }

# archive_url : the URI of the Debian archive in this machine's apt sources
# (deb822 .sources and one-line .list files): the one that serves the
# machine's own release as a plain suite (not -security or -updates).
archive_url() {
  local codename f
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$codename" '
      function flush() { if (uris != "" && (" " suites " ") ~ (" " want " ") && types ~ /(^| )deb( |$)/) { split(uris, u, " "); print u[1]; found = 1; exit } uris = suites = types = "" }
      /^[[:space:]]*#/ { next }
      /^deb[[:space:]]/ { sub(/\[[^]]*\]/, ""); if ($3 == want) { print $2; found = 1; exit } next }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/  { types = $0; sub(/^Types:[[:space:]]*/, "", types) }
      /^URIs:/   { uris = $0; sub(/^URIs:[[:space:]]*/, "", uris) }
      /^Suites:/ { suites = $0; sub(/^Suites:[[:space:]]*/, "", suites) }
      END { if (!found) flush() }' "$f"
  done | head -n1
}

build() {
  local url tmp t0 script got
  command -v debootstrap >/dev/null || die "debootstrap is missing: run tests/lab/install.sh"
  url=$(archive_url)
  [ -n "$url" ] || die "no Debian archive found in /etc/apt/sources.list*"
  tmp="$DIR/rootfs.tmp"
  # a build killed midway may leave debootstrap's /proc and /sys mounted in the tree
  findmnt -rn -o TARGET | { grep "^$DIR/rootfs" || true; } | sort -r | xargs -r -n1 umount -l
  rm -rf --one-file-system "$tmp" "$DIR/rootfs" "$DIR/stamp"
  mkdir -p "$tmp"
  # debootstrap of an older release may not know the newest codename: sid's script serves it
  script=/usr/share/debootstrap/scripts/$SUITE
  [ -e "$script" ] || script=/usr/share/debootstrap/scripts/sid
  log "building NetworkManager $VERSION ($SUITE from $url) in $DIR: a few minutes, once per machine"
  t0=$(date +%s)
  debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$tmp" "$url" "$script" > "$DIR/build.log" 2>&1 ||
    die "debootstrap failed, see $DIR/build.log"
  # no daemon in the tree may start by itself; the lab starts them
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/etc/ssh/ssh_host_*
  got=$(chroot "$tmp" /usr/sbin/NetworkManager --version)
  [[ $got == "$VERSION".* ]] ||
    die "$SUITE now carries NetworkManager $got, not $VERSION: map $VERSION to another suite in $0"
  mv "$tmp" "$DIR/rootfs"
  echo "$STAMP" > "$DIR/stamp"
  log "NetworkManager $got ready in $(( $(date +%s) - t0 )) s"
}

[ "$(id -u)" = 0 ] || die "run as root"
mkdir -p "$DIR"
if ! ready; then
  exec 9>"$DIR.lock"
  flock -w 1800 9 || die "another build of $VERSION holds $DIR.lock for more than 30 min"
  ready || build
  exec 9>&-
fi
echo "$DIR/rootfs"
