#!/bin/bash
# install.sh : install the Debian 12 packages the lab needs.  Idempotent:
# apt is used (and `apt-get update` run) only if a package is missing.  No
# package script may start a service: NetworkManager, dnsmasq or sshd in the
# machine's own (root) network namespace would take over its networking.
# Afterwards, reports (never kills) such daemons found in the root netns.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }

PKGS=(network-manager dbus dnsmasq-base openssh-server openssh-client iproute2
      util-linux netcat-openbsd iputils-ping bind9-dnsutils python3-venv
      python3-dbus-next python3-dbus-fast kmod user-mode-linux procps debootstrap)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}" >&2
  # policy-rc.d exit 101 = "do not start services" (invoke-rc.d, deb-systemd-invoke)
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, from hostnet.nm tests/lab/install.sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  trap '[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  # wait for other apt/dpkg runs on this machine instead of failing
  apt=(apt-get -o DPkg::Lock::Timeout=600 -q)
  "${apt[@]}" update
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
fi

# Report daemons of the lab's kind that run in THIS (the root) netns.
root_ns=$(stat -L -c %i /proc/self/ns/net)
bad=0
# one name per pgrep: procps warns about (and may refuse) a pattern longer than the 15-character comm
for pid in $(for name in NetworkManager dnsmasq sshd dbus-daemon nm-dispatcher; do pgrep -x "$name"; done); do
  if [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$root_ns" ]; then
    echo "WARNING: runs in the root netns: $(ps -o pid=,args= -p "$pid")" >&2
    bad=1
  fi
done
if [ "$bad" = 0 ]; then
  echo "install.sh: ok ($(NetworkManager --version 2>/dev/null || echo '?') installed; none of" \
       "NetworkManager/dnsmasq/sshd/dbus-daemon runs in the root netns)"
else
  echo "install.sh: packages ok, but see the warnings above (not stopped: they are not ours)" >&2
fi
