#!/bin/sh
# Stage-1 init of the user-mode-linux guest (PID 1, run straight from the kernel).
#
# The kernel mounted the HOST's / through hostfs, read-only (`rootfstype=hostfs rootflags=/ ro`).
# Read-only matters: hostfs has no permission barrier, so a writable hostfs root would let the
# guest (root) write straight into the host's /etc and /var/lib/NetworkManager.
#
# This stage builds the real root: an overlay whose lower layer is that read-only view and whose
# upper layer is a tmpfs, so the guest can change anything and nothing reaches the host. The one
# host directory the guest may write is the session's exchange dir, mounted at /run/kguest.
#
# Input (environment, from `key=value` words on the kernel command line):
#   kg_xchg   host path of the exchange dir (holds stage2.sh, kguest.sh, guest.env, out/)
#   kg_rootfs host path of another root filesystem (a NetworkManager release of
#             tests/lab/nm-rootfs.sh) to be the overlay's lower layer instead of the host's /
#   kg_tmpfs  size of the overlay's tmpfs (default 768m)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

die() {
  # The console is a file on the host (console.log in the session dir): say why, then stop.
  echo "kguest stage1: $*"
  poweroff -f 2>/dev/null || halt -f
}

kver=$(uname -r)
mods=/usr/lib/uml/modules/$kver   # the UML package's modules, on the host
new=/mnt/.kguest-root             # /mnt exists on every Debian host; the tmpfs below hides it

mount -t proc proc /proc || die "cannot mount /proc"
[ -n "${kg_xchg:-}" ] || die "kg_xchg= missing on the kernel command line"
lower=/
if [ -n "${kg_rootfs:-}" ]; then
  [ -x "$kg_rootfs/usr/sbin/NetworkManager" ] || die "no NetworkManager in the root filesystem $kg_rootfs"
  lower=$kg_rootfs
fi

# The UML kernel builds overlayfs as a module, and modprobe needs /lib/modules, which does not
# exist yet: load it by path.
insmod "$mods/kernel/fs/overlayfs/overlay.ko" || die "insmod overlay failed"

# tmpfs over /mnt (only in the guest's mount table) holds the upper and work dirs.
mount -t tmpfs -o "size=${kg_tmpfs:-768m},mode=0755" tmpfs /mnt || die "tmpfs on /mnt failed"
mkdir -p /mnt/.upper /mnt/.work "$new"
mount -t overlay overlay -o "lowerdir=$lower,upperdir=/mnt/.upper,workdir=/mnt/.work" "$new" ||
  die "overlay mount failed"

# Fresh kernel file systems for the new root; /run and /tmp are guest-private tmpfs.
mount -t proc proc "$new/proc"
mount -t sysfs sysfs "$new/sys"
mount -t devtmpfs devtmpfs "$new/dev"
mkdir -p "$new/dev/pts" "$new/dev/shm"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$new/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$new/dev/shm"
mount -t tmpfs -o mode=0755 tmpfs "$new/run"
mount -t tmpfs -o mode=1777 tmpfs "$new/tmp"

# Kernel modules: a hostfs mount at /lib/modules is impossible (the mountpoint does not exist on
# the read-only host root), but inside the overlay the directory can be created and bound.
mkdir -p "$new/usr/lib/modules"
mount --bind "$mods/.." "$new/usr/lib/modules" || die "cannot bind the UML modules"

# The exchange dir, read-write: commands, logs, readiness and the stop flag travel through it.
mkdir -p "$new/run/kguest"
mount -t hostfs -o "$kg_xchg" hostfs "$new/run/kguest" || die "cannot mount exchange dir $kg_xchg"

exec chroot "$new" /bin/sh /run/kguest/stage2.sh
