"""Smoke tests of the kernel test tier: the UML guest, its NetworkManager and its lab work.

They use NetworkManager (nmcli) and iproute2 directly, not the collection: they prove the tier
itself is sound (real bonding/802.1q kernel, NM managing the veth data NICs, traffic to the
switch netns, an LACP partner, D-Bus access, Ansible over ssh, host left untouched).
Addresses: 198.18.0.0/15 and 2001:db8::/32 only (lab layout in guest/kguest.sh).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

REPO = Path(__file__).resolve().parents[2]
DATA_NICS = ["eth1", "eth2", "eth3", "eth4"]


# ---------------------------------------------------------------------------- helpers
def out(guest, cmd, **kw) -> str:
    """stdout of a guest command that must succeed."""
    return guest.ssh(cmd, check=True, **kw).stdout


def nm_devices(guest) -> dict[str, tuple[str, str]]:
    """{device: (type, state)} as NetworkManager in the guest sees them."""
    devs = {}
    for line in out(guest, "nmcli -t -f DEVICE,TYPE,STATE device").splitlines():
        name, typ, state = line.split(":", 2)
        devs[name] = (typ, state)
    return devs


def link_json(guest, dev) -> dict:
    return json.loads(out(guest, ["ip", "-j", "-d", "address", "show", "dev", dev]))[0]


def ipv4_addrs(link: dict) -> list[str]:
    return [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet"]


def ping_ok(guest, addr, seconds=10) -> bool:
    """True once one ping to `addr` (from the guest's root netns) gets an answer."""
    script = (f"end=$(( $(cut -d. -f1 /proc/uptime) + {seconds} )); "
              f"until ping -c 1 -W 1 {addr} >/dev/null 2>&1; do "
              f"[ $(cut -d. -f1 /proc/uptime) -ge $end ] && exit 1; sleep 0.2; done")
    return guest.ssh(script).returncode == 0


def con_state(guest, name) -> str:
    return out(guest, ["nmcli", "-g", "GENERAL.STATE", "connection", "show", name]).strip()


def bond_with_ports(guest, options, ipv4="disabled"):
    """bond0 over eth1+eth2 via NM profiles, activated. ipv4: 'disabled' or an address/prefix."""
    ip = (["ipv4.method", "disabled"] if ipv4 == "disabled"
          else ["ipv4.method", "manual", "ipv4.addresses", ipv4])
    out(guest, ["nmcli", "connection", "add", "type", "bond", "con-name", "bond0", "ifname", "bond0",
                "bond.options", options, *ip, "ipv6.method", "disabled"])
    for port in ("eth1", "eth2"):
        out(guest, ["nmcli", "connection", "add", "type", "ethernet", "con-name", f"bond0-{port}",
                    "ifname", port, "master", "bond0", "slave-type", "bond"])
    for con in ("bond0", "bond0-eth1", "bond0-eth2"):
        out(guest, ["nmcli", "-w", "30", "connection", "up", con])


def vlan100_on_bond0(guest, ipv4):
    out(guest, ["nmcli", "connection", "add", "type", "vlan", "con-name", "bond0.100",
                "ifname", "bond0.100", "dev", "bond0", "id", "100",
                "ipv4.method", "manual", "ipv4.addresses", ipv4, "ipv6.method", "disabled"])
    out(guest, ["nmcli", "-w", "30", "connection", "up", "bond0.100"])


def bond_ports(bonding_text: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in bonding_text.splitlines()
            if line.startswith("Slave Interface: ")]


# ---------------------------------------------------------------------------- tests
@pytest.mark.nm_versions  # on 1.52 too: the guest's own kernel and modules under another root filesystem
def test_guest_runs_its_own_kernel_with_the_modules(kernel_guest):
    release = out(kernel_guest, "uname -r").strip()
    assert release != os.uname().release, "commands must run in the guest kernel, not the host's"
    res = kernel_guest.ssh("modprobe bonding && modprobe 8021q")
    assert res.returncode == 0, res.stderr
    loaded = out(kernel_guest, "for m in bonding 8021q bridge veth dummy; do "
                               "[ -d /sys/module/$m ] && echo $m; done").split()
    assert loaded == ["bonding", "8021q", "bridge", "veth", "dummy"]
    assert kernel_guest.ssh("test -d /sys/module/vrf").returncode == 0, "vrf.ko is loaded (VRF tests)"
    # bonding was loaded with max_bonds=0: no stray bond0 for NM to adopt
    assert kernel_guest.ssh("test -e /sys/class/net/bond0").returncode != 0


@pytest.mark.nm_versions  # on 1.52 too: that release's NetworkManager manages the data NICs
def test_nm_manages_data_nics_not_management_nic(kernel_guest):
    assert out(kernel_guest, "nmcli -t -f RUNNING general").strip() == "running"
    devs = nm_devices(kernel_guest)
    for nic in DATA_NICS:
        assert devs.get(nic) == ("ethernet", "disconnected"), f"{nic}: {devs.get(nic)}"
    assert devs["vmmgmt0"][1] == "unmanaged"
    # the management link is what ssh uses; NM must leave its address alone
    assert "198.18.254.2/30" in ipv4_addrs(link_json(kernel_guest, "vmmgmt0"))
    conf = out(kernel_guest, "NetworkManager --print-config")
    for needle in ("plugins=keyfile", "no-auto-default=*", "auth-polkit=false", "rc-manager=file",
                   "unmanaged-devices=interface-name:vmmgmt0"):
        assert needle in conf


def test_active_backup_bond_with_vlan_passes_traffic(clean_guest):
    g = clean_guest
    bond_with_ports(g, "mode=active-backup,miimon=100", ipv4="198.18.1.1/24")

    bonding = out(g, "cat /proc/net/bonding/bond0")
    assert "Bonding Mode: fault-tolerance (active-backup)" in bonding
    assert bond_ports(bonding) == ["eth1", "eth2"]
    assert con_state(g, "bond0") == "activated"
    assert "198.18.1.1/24" in ipv4_addrs(link_json(g, "bond0"))
    assert nm_devices(g)["bond0"] == ("bond", "connected")
    assert ping_ok(g, "198.18.1.254"), "no traffic through the bond to the switch"

    vlan100_on_bond0(g, "198.18.100.1/24")
    vlan = link_json(g, "bond0.100")
    assert vlan["link"] == "bond0"
    assert vlan["linkinfo"]["info_kind"] == "vlan"
    assert vlan["linkinfo"]["info_data"]["id"] == 100
    assert "198.18.100.1/24" in ipv4_addrs(vlan)
    assert con_state(g, "bond0.100") == "activated"
    assert ping_ok(g, "198.18.100.254"), "no traffic over VLAN 100 on the bond"

    # failover: the switch port of the active NIC loses link, eth2 takes over, traffic goes on
    active = out(g, "cat /sys/class/net/bond0/bonding/active_slave").strip()
    assert active == "eth1"
    out(g, "ip -n switch link set sw1 down")
    deadline = time.monotonic() + 10
    while out(g, "cat /sys/class/net/bond0/bonding/active_slave").strip() != "eth2":
        assert time.monotonic() < deadline, "active slave did not move to eth2"
        time.sleep(0.3)
    assert ping_ok(g, "198.18.100.254"), "no traffic over the VLAN after failover"


def test_lacp_bond_negotiates_with_partner(kernel_guest):
    g = kernel_guest
    g.reset(partner="lacp")
    bond_with_ports(g, "mode=802.3ad,miimon=100,lacp_rate=fast")
    vlan100_on_bond0(g, "198.18.100.1/24")
    # Both ports reach collecting+distributing (state 63 on actor and partner side) some
    # seconds after activation; traffic sent earlier may be dropped.
    wait = ("for i in $(seq 1 100); do "
            "n=$(ip -d link show master bond0 | grep -c 'ad_actor_oper_port_state 63 .*ad_partner_oper_port_state 63 '); "
            "[ \"$n\" = 2 ] && exit 0; sleep 0.2; done; exit 1")
    assert g.ssh(wait, timeout=120).returncode == 0, out(g, "cat /proc/net/bonding/bond0")
    bonding = out(g, "cat /proc/net/bonding/bond0")
    assert "Bonding Mode: IEEE 802.3ad Dynamic link aggregation" in bonding
    assert "LACP rate: fast" in bonding
    assert "Partner Mac Address: 00:00:00:00:00:00" not in bonding
    assert bond_ports(bonding) == ["eth1", "eth2"]
    assert ping_ok(g, "198.18.100.254"), "no traffic over VLAN 100 on the LACP bond"
    g.reset()   # back to the default partner for whoever comes next


def test_dbus_next_talks_to_guest_networkmanager(kernel_guest):
    # The collection talks to NM over D-Bus (python3-dbus-next, or dbus-fast with the same API, which
    # the newer releases' root filesystems carry): that path must work in the guest.
    script = """
import asyncio, json
try:
    from dbus_next import BusType, Variant
    from dbus_next.aio import MessageBus
except ImportError:
    from dbus_fast import BusType, Variant
    from dbus_fast.aio import MessageBus

NM = "org.freedesktop.NetworkManager"

async def prop(bus, path, iface, name):
    intro = await bus.introspect(NM, path)
    props = bus.get_proxy_object(NM, path, intro).get_interface("org.freedesktop.DBus.Properties")
    return (await props.call_get(iface, name)).value

async def main():
    bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
    version = await prop(bus, "/org/freedesktop/NetworkManager", NM, "Version")
    devices = await prop(bus, "/org/freedesktop/NetworkManager", NM, "Devices")
    names = [await prop(bus, d, NM + ".Device", "Interface") for d in devices]
    print(json.dumps({"version": version, "devices": sorted(names)}))

asyncio.run(main())
"""
    res = kernel_guest.ssh(["python3", "-"], input=script, check=True)
    data = json.loads(res.stdout)
    assert data["version"] == out(kernel_guest, "NetworkManager --version").strip()
    assert set(DATA_NICS + ["vmmgmt0", "lo"]) <= set(data["devices"])


def test_reset_returns_to_a_clean_lab(kernel_guest):
    g = kernel_guest
    # leave a mess: NM profiles, kernel-only bond/VLAN/bridge/dummy, addresses, a netns,
    # a NIC set unmanaged, a NIC enslaved, and a keyfile NM never loaded
    g.ssh("""set -e
nmcli connection add type bond con-name messy-bond ifname bond7 bond.options mode=balance-rr >/dev/null
nmcli connection add type dummy con-name messy-dummy ifname dummy7 ipv4.method manual ipv4.addresses 198.18.7.1/24 >/dev/null
nmcli -w 20 connection up messy-dummy >/dev/null
ip link add bond9 type bond mode active-backup
ip link set eth3 down; ip link set eth3 master bond9
ip link add link eth4 name eth4.300 type vlan id 300
ip link add brx type bridge
ip address add 198.18.8.1/24 dev eth4
ip netns add messy
nmcli device set eth2 managed no
printf '[connection]\\nid=stray\\ntype=dummy\\ninterface-name=dummy8\\n' > /etc/NetworkManager/system-connections/stray.nmconnection
chmod 600 /etc/NetworkManager/system-connections/stray.nmconnection
""", check=True)
    t = time.monotonic()
    g.reset()
    took = time.monotonic() - t
    links = sorted(out(g, "ls /sys/class/net").split())
    assert links == sorted(["bonding_masters", "lo", "vmmgmt0", *DATA_NICS])
    assert out(g, "nmcli -t -f TYPE connection show").split() == ["loopback"]
    assert out(g, "ls /etc/NetworkManager/system-connections") == ""
    assert [line.split()[0] for line in out(g, "ip netns list").splitlines()] == ["switch"]
    assert all(nm_devices(g)[n] == ("ethernet", "disconnected") for n in DATA_NICS)
    assert ipv4_addrs(link_json(g, "eth4")) == []
    assert "master" not in link_json(g, "eth3")
    assert took < 30, f"reset took {took:.1f}s"


def _ansible() -> str | None:
    for cand in (Path(sys.executable).parent / "ansible", REPO / ".venv" / "bin" / "ansible"):
        if os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("ansible")


def test_ansible_ping_from_host(kernel_guest):
    ansible = _ansible()
    if not ansible:
        pytest.skip("ansible-core not installed (bash tests/kernel/run.sh installs it in .venv)")
    inv = kernel_guest.inventory.read_text()
    assert "[kernel]" in inv and "ansible_python_interpreter=/usr/bin/python3" in inv
    assert f"ansible_ssh_common_args='-F {kernel_guest.ssh_config}'" in inv
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    res = subprocess.run([ansible, "-i", str(kernel_guest.inventory), "kernel", "-m", "ping"],
                         capture_output=True, text=True, timeout=180, env=env,
                         stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stdout + res.stderr
    # the output format depends on the ansible.cfg in effect (json or yaml results)
    assert f"{kernel_guest.name} | SUCCESS" in res.stdout, res.stdout
    assert re.search(r'"?ping"?: "?pong', res.stdout), res.stdout
    # and a module that really runs in the guest
    res = subprocess.run([ansible, "-i", str(kernel_guest.inventory), "kernel", "-m", "command",
                          "-a", "cat /etc/hostname"], capture_output=True, text=True, timeout=180,
                         env=env, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().splitlines()[-1] == kernel_guest.name


@pytest.mark.nm_versions  # on 1.52 too: nothing reaches the host or the cached root filesystem
def test_guest_writes_nothing_to_host(clean_guest, host_state_before, host_state):
    g = clean_guest
    canary = f"kguest-canary-{uuid.uuid4().hex[:8]}"
    # NM writes a keyfile and resolv.conf, the test writes /etc directly: all inside the guest
    g.ssh(f"""set -e
nmcli connection add type dummy con-name {canary} ifname dummy9 ipv4.method manual ipv4.addresses 198.18.9.1/24 ipv4.dns 198.18.9.53 >/dev/null
nmcli -w 20 connection up {canary} >/dev/null
touch /etc/{canary}
echo '# written in the guest' >> /etc/resolv.conf
""", check=True)
    assert f"{canary}.nmconnection" in out(g, "ls /etc/NetworkManager/system-connections")
    assert g.ssh(f"test -e /etc/{canary}").returncode == 0
    guest_resolv = out(g, "cat /etc/resolv.conf")
    assert "198.18.9.53" in guest_resolv and "# written in the guest" in guest_resolv

    assert not Path(f"/etc/{canary}").exists()
    assert "198.18.9.53" not in Path("/etc/resolv.conf").read_text()
    assert host_state() == host_state_before
