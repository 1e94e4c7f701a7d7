#!/bin/bash
# tests/kernel/setup.sh - install what the kernel test tier needs (Debian packages only).
#
# Idempotent and non-interactive: packages that are already installed are skipped, and
# `apt-get update` only runs when apt has no candidate for a missing package.
#
# Nothing is started on this machine: every daemon (udevd, dbus, NetworkManager, sshd) runs
# only INSIDE the user-mode-linux guest, whose root is this machine's / (read-only + overlay),
# so the guest's tools simply are this machine's packages. To make sure no package
# post-install script starts a service here, a temporary /usr/sbin/policy-rc.d that exits
# 101 is put in place when there is none, and removed again afterwards.
set -euo pipefail

# user-mode-linux : the guest kernel (6.1, with bonding/8021q/bridge/veth/dummy as modules)
# kmod            : modprobe inside the guest (this machine's kernel has no module tooling)
# network-manager : NM under test inside the guest (pulls in udev, libnm)
# dbus            : system bus for NM inside the guest
# openssh-server  : sshd inside the guest (the host talks to it through a tap netns)
# openssh-client  : ssh / ssh-keygen on the host side
# iproute2        : ip netns / tuntap on the host, ip link inside the guest
# iputils-ping    : traffic checks inside the guest
# wpasupplicant   : MKA for MACsec with a pre-shared key (NetworkManager starts it through D-Bus)
PKGS=(user-mode-linux kmod network-manager dbus openssh-server openssh-client iproute2 iputils-ping wpasupplicant)

if [ "$(id -u)" != 0 ]; then
  echo "kernel-tier setup: must run as root (apt-get)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when needed (a fresh machine may have none yet).
  if ! apt-cache policy "${missing[0]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -q
  fi
  prc=/usr/sbin/policy-rc.d
  if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\n# temporary, from tests/kernel/setup.sh: never start services here\nexit 101\n' > "$prc"
    chmod 755 "$prc"
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  echo "kernel-tier setup: apt-get install ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
fi

# Sanity: the UML kernel must ship the modules the tier relies on.
kver=$(find /usr/lib/uml/modules -mindepth 1 -maxdepth 1 -printf "%f\n" 2>/dev/null | head -1)
for m in bonding 8021q bridge veth dummy overlay; do
  if ! find "/usr/lib/uml/modules/$kver" -name "$m.ko*" | grep -q .; then
    echo "kernel-tier setup: UML kernel $kver lacks module $m" >&2
    exit 1
  fi
done
echo "kernel-tier setup: ready (UML kernel $kver)"
