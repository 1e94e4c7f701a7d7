"""Smoke tests of the NetworkManager lab itself (tests/lab): if these fail, no
other integration test can be trusted."""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from lab import Lab, root_netns_processes, root_netns_state

pytestmark = pytest.mark.lab

NM = ("org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager",
      "org.freedesktop.NetworkManager")


def parse_inventory(path: str) -> Tuple[Dict[str, Dict[str, str]], Dict[str, str]]:
    """Minimal reader for the lab's INI inventory: ({host: hostvars}, group vars of [lab])."""
    hosts: Dict[str, Dict[str, str]] = {}
    group_vars: Dict[str, str] = {}
    section = None
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "lab":
            name, *assignments = shlex.split(line)
            hosts[name] = dict(a.split("=", 1) for a in assignments)
        elif section == "lab:vars":
            key, _, value = line.partition("=")
            group_vars[key.strip()] = " ".join(shlex.split(value))
    return hosts, group_vars


def profiles(lab: Lab, host: str) -> List[str]:
    """``TYPE:DEVICE`` of every NM connection profile in ``host``."""
    return lab.nmcli(host, "-f", "TYPE,DEVICE", "connection", "show").splitlines()


# ---------------------------------------------------------------- the hosts
def test_networkmanager_runs_in_every_host(lab: Lab, lab_hosts: List[str]) -> None:
    assert len(lab_hosts) >= int(os.environ.get("HNLAB_HOSTS", "3") or 3)
    root_net = os.stat("/proc/self/ns/net").st_ino
    for h in lab_hosts:
        assert lab.nmcli(h, "-f", "RUNNING", "general").strip() == "running"
        states = lab.device_states(h)
        for k in range(1, lab.nics + 1):
            assert states.get(f"eth{k}") == "disconnected", (h, states)   # managed, idle
        assert states.get("mgmt0") == "unmanaged", (h, states)
        assert "eth0" not in states                                         # the VM's NIC is invisible
        # the daemons really live in the host's netns, not in the root netns
        pids = lab.pids(h)
        assert set(pids) == {"dbus", "nm", "sshd"}, (h, pids)
        for pid in pids.values():
            assert os.stat(f"/proc/{pid}/ns/net").st_ino != root_net
        assert lab.run(h, "hostname").stdout.strip() == h
        # mgmt0 carries the lab's address
        assert f"inet {lab.mgmt_ip(h)}/24" in lab.run(h, "ip", "-4", "addr", "show", "mgmt0").stdout
        # outside access: the host's bus is reachable from the root namespaces
        proc = subprocess.run(["busctl", f"--address={lab.bus_address(h)}", "get-property", *NM, "Startup"],
                              capture_output=True, text=True, check=True)
        assert proc.stdout.strip() == "b false"


def test_ssh_through_inventory(lab: Lab) -> None:
    hosts, group_vars = parse_inventory(lab.inventory)
    assert sorted(hosts, key=Lab.index) == lab.hosts()
    assert group_vars["ansible_user"] == "root"
    assert group_vars["ansible_python_interpreter"] == "/usr/bin/python3"
    common = shlex.split(group_vars["ansible_ssh_common_args"])
    assert common == ["-F", lab.ssh_config]
    for name, hostvars in hosts.items():
        assert hostvars["ansible_host"] == lab.mgmt_ip(name)
        # as Ansible does it: common args + user@ansible_host
        proc = subprocess.run(["ssh", *common, "-o", "BatchMode=yes", f"root@{hostvars['ansible_host']}",
                               "cat", "/etc/hostname"],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == name
        # and by alias: ssh -F config hN true
        proc = subprocess.run(["ssh", "-F", lab.ssh_config, "-o", "BatchMode=yes", name, "true"],
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr
    assert Path("/usr/bin/python3").exists()   # the inventory's interpreter (hosts share /usr)


# ---------------------------------------------------------------- DNS, DHCP
def dig(lab: Lab, host: str, *args: str) -> str:
    return lab.run(host, "dig", "+time=2", "+tries=1", "@198.18.0.1", *args).stdout


def test_dnsmasq_answers_lab_zone_and_refuses_the_rest(lab: Lab, lab_host: str) -> None:
    for h in lab.hosts():
        assert dig(lab, lab_host, "+short", f"{h}.lab.test", "A").split() == [lab.mgmt_ip(h)]
        assert dig(lab, lab_host, "+short", f"{h}.lab.test", "AAAA").split() == [lab.mgmt_ip6(h)]
    assert dig(lab, lab_host, "+short", "router.lab.test").split() == ["198.18.0.1"]
    out = dig(lab, lab_host, "example.com", "A")
    assert "status: REFUSED" in out, out
    assert "ANSWER: 0" in out


def test_dhcp_on_last_data_net(lab: Lab, lab_host: str) -> None:
    nic = f"eth{lab.nics}"
    lab.nmcli(lab_host, "connection", "add", "type", "ethernet", "ifname", nic, "con-name", "smoke-dhcp",
              "ipv4.method", "auto", "ipv6.method", "auto")
    lab.run(lab_host, "nmcli", "-w", "45", "connection", "up", "smoke-dhcp", timeout=60)
    out = lab.run(lab_host, "ip", "-4", "-o", "addr", "show", "dev", nic).stdout
    addrs = [ipaddress.ip_interface(a) for a in re.findall(r"inet (\S+)", out)]
    assert len(addrs) == 1, out
    lease = addrs[0]
    assert lease.network == ipaddress.ip_network(f"198.18.{lab.nics}.0/24")
    assert 100 <= int(lease.ip) & 0xFF <= 250, lease
    # NM itself reports the DHCP lease
    dhcp4 = lab.nmcli(lab_host, "-f", "DHCP4", "device", "show", nic)
    assert f"ip_address = {lease.ip}" in dhcp4, dhcp4


# ---------------------------------------------------------------- reset, restart
def test_reset_restores_pristine_state(lab: Lab, lab_host: str) -> None:
    h = lab_host
    resolv_before = lab.run(h, "cat", "/etc/resolv.conf").stdout
    assert profiles(lab, h) == ["loopback:lo"]      # NM's own external lo profile only
    # make a mess: static profile with DNS, a bridge with a port, a stray veth, a checkpoint
    lab.nmcli(h, "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "smoke-static",
              "ipv4.method", "manual", "ipv4.addresses", f"{lab.data_ip(h, 1)}/24",
              "ipv4.dns", "198.18.1.1", "ipv4.dns-search", "lab.test", "ethernet.mtu", "1400")
    lab.run(h, "nmcli", "-w", "30", "connection", "up", "smoke-static")
    lab.nmcli(h, "connection", "add", "type", "bridge", "ifname", "br0", "con-name", "smoke-br0",
              "ipv4.method", "disabled", "ipv6.method", "disabled")
    lab.nmcli(h, "connection", "add", "type", "ethernet", "ifname", "eth2", "con-name", "smoke-port",
              "master", "br0", "slave-type", "bridge")
    lab.run(h, "nmcli", "-w", "30", "connection", "up", "smoke-port")
    lab.run(h, "ip", "link", "add", "smokev0", "type", "veth", "peer", "name", "smokev1")
    lab.busctl(h, "call", *NM, "CheckpointCreate", "aouu", "0", "300", "0")
    assert "nameserver 198.18.1.1" in lab.run(h, "cat", "/etc/resolv.conf").stdout
    assert len(profiles(lab, h)) == 4

    t0 = time.monotonic()
    lab.reset(h)
    elapsed = time.monotonic() - t0

    assert profiles(lab, h) == ["loopback:lo"]
    assert lab.run(h, "ls", "-A", "/etc/NetworkManager/system-connections").stdout == ""
    assert lab.busctl(h, "get-property", *NM, "Checkpoints").strip() == "ao 0"
    links = lab.run(h, "ip", "-o", "link", "show").stdout
    names = sorted(re.findall(r"^\d+: ([^:@]+)", links, re.M))
    assert names == sorted(["lo", "mgmt0"] + [f"eth{k}" for k in range(1, lab.nics + 1)])
    for k in range(1, lab.nics + 1):
        nic = f"eth{k}"
        assert lab.run(h, "ip", "-o", "addr", "show", "dev", nic).stdout == ""
        assert "mtu 1500" in lab.run(h, "ip", "-o", "link", "show", nic).stdout
        assert lab.device_states(h)[nic] == "disconnected"
    assert lab.run(h, "cat", "/etc/resolv.conf").stdout == resolv_before
    assert f"inet {lab.mgmt_ip(h)}/24" in lab.run(h, "ip", "-4", "addr", "show", "mgmt0").stdout
    assert elapsed < 10, f"reset took {elapsed:.1f} s"


def test_restart_nm_keeps_profiles(lab: Lab, lab_host: str) -> None:
    h = lab_host
    lab.nmcli(h, "connection", "add", "type", "ethernet", "ifname", "eth1", "con-name", "smoke-keep",
              "ipv4.method", "manual", "ipv4.addresses", f"{lab.data_ip(h, 1)}/24", "ipv6.method", "disabled")
    old = lab.pids(h)["nm"]
    lab.restart_nm(h)
    new = lab.pids(h)["nm"]
    assert new != old
    assert "smoke-keep" in lab.nmcli(h, "-f", "NAME", "connection", "show").split()
    assert lab.nmcli(h, "-f", "RUNNING", "general").strip() == "running"


# ---------------------------------------------------------------- safety
def test_root_netns_untouched(lab: Lab, root_netns_before: Dict[str, object]) -> None:
    assert root_netns_state() == root_netns_before["state"]
    new = {pid: cmd for pid, cmd in root_netns_processes().items()
           if pid not in root_netns_before["daemons"]}
    assert not new, f"daemons started in the root netns during the session: {new}"
    # nothing runs in a lab host's mount ns without being in that host's netns
    for h in lab.hosts():
        mnt = os.stat(lab.root / "ns" / f"{h}.mnt").st_ino
        net = os.stat(lab.netns(h)).st_ino
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.stat(f"/proc/{pid}/ns/mnt").st_ino == mnt:
                    assert os.stat(f"/proc/{pid}/ns/net").st_ino == net, (h, pid)
            except OSError:           # gone meanwhile, or PID 1 (not readable here)
                continue
    # the machine's own resolv.conf and hostname are not the hosts'
    assert "198.18." not in Path("/etc/resolv.conf").read_text()
    assert os.uname().nodename not in lab.hosts()


def test_teardown_leaves_nothing(lab: Lab) -> None:
    """A second, small lab (own prefix) goes up and down next to the session's:
    afterwards nothing of it is left, and the session's lab is unharmed."""
    other = Lab(prefix=lab.prefix[:14] + "td")
    other.down()
    before = root_netns_state()
    try:
        other.up(2)
        assert other.hosts() == ["h1", "h2"]
        assert other.run("h2", "nmcli", "-t", "-f", "RUNNING", "general").stdout.strip() == "running"
        # a process of ours inside the lab at teardown time must be killed too
        sleeper = subprocess.Popen(other.enter_argv("h1") + ["sleep", "600"])
        assert other.ssh("h1", "true").returncode == 0
    finally:
        other.down()
    assert sleeper.wait(timeout=10) != 0
    assert other.leftovers() == []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert not re.search(rf"^{other.prefix}-", netns, re.M), netns
    assert not other.root.exists()
    assert str(other.root) not in Path("/proc/self/mountinfo").read_text()
    assert root_netns_state() == before
    # the session's lab is unharmed
    assert lab.nmcli("h1", "-f", "RUNNING", "general").strip() == "running"
    assert lab.ssh("h1", "true").returncode == 0
