#!/bin/sh
# Stage-2 init of the user-mode-linux guest: PID 1 inside the overlay root (see stage1.sh).
#
# Brings up, in this order:
#   kernel modules (bonding 8021q bridge veth dummy vrf macvlan ipvlan vxlan macsec hsr), the management NIC vmmgmt0, systemd-udevd,
#   dbus + NetworkManager (guest-only config), the data NICs eth1..ethN + the "switch" netns
#   (kguest.sh nics), sshd on vmmgmt0,
# waits until NM shows every data NIC as a managed, disconnected ethernet device, writes
# out/ready, then idles until the host creates the file "stop" in the exchange dir (or
# KG_MAXLIFE seconds pass, so a guest whose harness died cannot live for ever) and powers off.
#
# Settings come from /run/kguest/guest.env, written by tests/kernel/vm.py:
#   KG_NAME KG_NICS KG_MAXLIFE KG_NMLOG KG_MGMT_ADDR
# Everything written here lands in the overlay's tmpfs, except /run/kguest/out/*.
# Process starts cost 50-200 ms each under UML: shell builtins are preferred where it is easy.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8
X=/run/kguest
OUT=$X/out
# shellcheck source=/dev/null
. "$X/guest.env"

mark() { read -r up _ < /proc/uptime; echo "$1 $up" >> "$OUT/times"; }
log() { echo "$*" >> "$OUT/guest.log"; }
fail() {
  # Tell the host why (it polls for out/failed) and stop right away.
  log "FAILED: $*"
  echo "$*" > "$OUT/failed"
  sync
  poweroff -f
}

mark boot

# --- identity and host-config hygiene (overlay only) ----------------------------------------
hostname "$KG_NAME"
echo "$KG_NAME" > /etc/hostname   # NM reads /etc/hostname and would set the host's name
# The guest's /root is the host's /root: its shell rc files (pyenv init, ...) would run for every
# ssh command and cost seconds each under UML. Move them aside, in the overlay only.
for f in .bashrc .profile .bash_profile .bash_login .bash_logout; do
  [ -e "/root/$f" ] && mv "/root/$f" "/root/$f.host-hidden"
done

# --- kernel modules --------------------------------------------------------------------------
# max_bonds=0: no automatic "bond0" device; tests create their bonds themselves.
modprobe bonding max_bonds=0 2>>"$OUT/guest.log" || fail "modprobe bonding"
modprobe -a 8021q bridge veth dummy vrf 2>>"$OUT/guest.log" || fail "modprobe 8021q bridge veth dummy vrf"
modprobe -a macvlan ipvlan vxlan macsec hsr 2>>"$OUT/guest.log" || fail "modprobe macvlan ipvlan vxlan macsec hsr"

# --- management NIC --------------------------------------------------------------------------
# The UML vector NIC (tap vmtap0 in the host's session netns) shows up as vec0.
[ -e /sys/class/net/vec0 ] || fail "no vec0 management NIC"
ip -batch - <<EOF || fail "management NIC setup"
link set lo up
link set vec0 name vmmgmt0
address add $KG_MGMT_ADDR dev vmmgmt0
link set vmmgmt0 up
EOF

# --- udev ------------------------------------------------------------------------------------
# Needed so that NM manages veth devices: Debian's 85-nm-unmanaged.rules marks veth unmanaged
# unless the name is eth*, and NM only manages devices udev has processed.
/usr/lib/systemd/systemd-udevd --daemon >>"$OUT/guest.log" 2>&1 || fail "systemd-udevd"
udevadm trigger --action=add --subsystem-match=net >>"$OUT/guest.log" 2>&1
mark udev

# --- NetworkManager (guest-only config in the overlay) ---------------------------------------
rm -rf /etc/NetworkManager/conf.d/* /etc/NetworkManager/system-connections/* \
  /etc/NetworkManager/dispatcher.d/01-ifupdown /var/lib/NetworkManager/* /etc/resolv.conf
: > /etc/resolv.conf        # a plain guest-only file; NM writes it (rc-manager=file)
cat > /etc/NetworkManager/NetworkManager.conf <<EOF
# Written by tests/kernel/guest/stage2.sh, guest overlay only.
[main]
plugins=keyfile
no-auto-default=*
auth-polkit=false
dns=default
rc-manager=file

[keyfile]
unmanaged-devices=interface-name:vmmgmt0

[connectivity]
enabled=false

[logging]
level=$KG_NMLOG
EOF
mkdir -p /run/dbus
dbus-daemon --system --fork --nopidfile >>"$OUT/guest.log" 2>&1 || fail "dbus-daemon"
# --debug: stay in the foreground, log to stderr (out/nm.log); the level comes from [logging]
NetworkManager --debug > "$OUT/nm.log" 2>&1 &
mark nm-started

# --- data NICs + switch netns (NM picks them up as they appear) -------------------------------
sh "$X/kguest.sh" nics >>"$OUT/guest.log" 2>&1 || fail "kguest.sh nics"
mark nics

# --- sshd --------------------------------------------------------------------------------------
# Own config (not the host's /etc/ssh/sshd_config); the per-session host key and authorized key
# come from the host via the exchange dir and are copied to tmpfs for sshd's permission checks.
mkdir -p /run/sshd /run/kguest-ssh
cp "$X/ssh_host_ed25519_key" "$X/authorized_keys" /run/kguest-ssh/
chmod 600 /run/kguest-ssh/ssh_host_ed25519_key /run/kguest-ssh/authorized_keys
cat > /run/kguest-ssh/sshd_config <<EOF
ListenAddress ${KG_MGMT_ADDR%/*}
HostKey /run/kguest-ssh/ssh_host_ed25519_key
AuthorizedKeysFile /run/kguest-ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PidFile /run/sshd.pid
MaxSessions 50
MaxStartups 50:30:100
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
/usr/sbin/sshd -f /run/kguest-ssh/sshd_config -E "$OUT/sshd.log" || fail "sshd"
mark sshd

# --- ready: NM runs and manages every data NIC -------------------------------------------------
sh "$X/kguest.sh" wait 30 >>"$OUT/guest.log" 2>&1 || fail "NetworkManager not ready (see nm.log)"
mark ready
touch "$OUT/ready"

# --- idle until the host says stop -------------------------------------------------------------
# (dash reaps every exited child while it waits for sleep, so no zombies pile up under PID 1)
read -r up _ < /proc/uptime
end=$(( ${up%.*} + KG_MAXLIFE ))
while [ ! -e "$X/stop" ]; do
  read -r up _ < /proc/uptime
  if [ "${up%.*}" -ge "$end" ]; then
    log "KG_MAXLIFE ${KG_MAXLIFE}s reached, powering off"
    break
  fi
  sleep 0.5
done
mark stop
sync            # flush what is still cached for the hostfs exchange dir
poweroff -f
