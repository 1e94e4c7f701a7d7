"""Python API of the hostnet.nm test lab (standard library only, Python 3.9+).

The lab (see README.md beside this file) is a set of simulated Linux hosts
``h1``..``hN`` on this machine, each a network + mount + UTS namespace with
its own dbus-daemon, NetworkManager and sshd, plus a switch/router namespace
``sw`` running dnsmasq.  The shell scripts beside this file do the work; this
module drives them and gives tests a convenient handle::

    from lab import Lab
    lab = Lab()                      # prefix from $HNLAB_PREFIX, default "hnlab"
    lab.up(3)                        # idempotent
    lab.run("h1", "nmcli", "device").stdout
    lab.reset("h1")                  # pristine NM state, without restarting NM
    lab.down()

Everything needs root.  Host names are ``"h<N>"`` (1 <= N <= 240); ``run``
also accepts ``"sw"``.  Invalid names raise ``ValueError``; failing lab
scripts raise ``LabError``; failing commands raise ``LabCommandError`` (a
``subprocess.CalledProcessError`` whose message includes stdout/stderr).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

__all__ = ["Lab", "LabError", "LabCommandError", "HERE", "NM_VERSIONS", "root_netns_processes", "root_netns_state"]

HERE = Path(__file__).resolve().parent          # tests/lab: the scripts live here
MAX_HOSTS = 240                                 # mgmt address .(10+N) must stay <= .250
_HOST_RE = re.compile(r"^h([1-9][0-9]{0,2})$")
_PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
NM_VERSIONS = ("1.42", "1.52", "1.58")           # the lab's NetworkManagers (up.sh, nm-rootfs.sh)
#: prefixes whose state dir /run/<prefix> is a system directory (down deletes the state dir); as in common.sh
RESERVED_PREFIXES = frozenset("lock netns user shm systemd dbus udev mount log sshd sudo initramfs network "
                              "credentials".split())
_DAEMONS = ("dbus", "nm", "sshd")               # pid files written by up.sh per host
_SBIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Arg = Union[str, "os.PathLike[str]"]


class LabError(RuntimeError):
    """A lab script (up.sh, down.sh, reset.sh, ...) failed; the message has its output tail."""


class LabCommandError(subprocess.CalledProcessError):
    """A command run in a lab host exited non-zero (``check=True``)."""

    def __str__(self) -> str:
        text = super().__str__()
        for name, data in (("stdout", self.stdout), ("stderr", self.stderr)):
            if data:
                text += f"\n--- {name} (tail) ---\n{_tail(data)}"
        return text


def _tail(text: Union[str, bytes, None], lines: int = 40) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


class Lab:
    """Handle on one lab, identified by its prefix.

    Args:
        prefix: name prefix of the lab; netns ``<prefix>-sw``, ``<prefix>-h1``...,
            state dir ``/run/<prefix>``.  Default: ``$HNLAB_PREFIX`` or ``"hnlab"``.
        nics: data NICs per host (eth1..ethN).  Default ``$HNLAB_NICS`` or 2.
            Must match what the lab was brought up with.
        jobs: hosts set up in parallel by ``up``.  Default ``$HNLAB_JOBS`` or 4.
        nm: NetworkManager of the hosts: ``"1.42"`` (this machine's), ``"1.52"`` or
            ``"1.58"`` (a cached root filesystem, ``nm-rootfs.sh``).  Default
            ``$HNLAB_NM`` or ``"1.42"``.

    Raises:
        ValueError: on a malformed prefix, NIC count or NetworkManager version.
    """

    def __init__(self, prefix: Optional[str] = None, nics: Optional[int] = None,
                 jobs: Optional[int] = None, nm: Optional[str] = None) -> None:
        self.prefix = prefix if prefix is not None else os.environ.get("HNLAB_PREFIX", "hnlab")
        if not _PREFIX_RE.match(self.prefix):
            raise ValueError(f"lab prefix must match {_PREFIX_RE.pattern}: {self.prefix!r}")
        if self.prefix in RESERVED_PREFIXES:
            raise ValueError(f"lab prefix {self.prefix!r} would make /run/{self.prefix}, a system directory, "
                             "the lab's state dir: choose another prefix")
        self.nics = nics if nics is not None else _env_int("HNLAB_NICS", 2)
        if not 1 <= self.nics <= 16:
            raise ValueError(f"nics must be 1..16, got {self.nics}")
        self.jobs = jobs if jobs is not None else _env_int("HNLAB_JOBS", 4)
        self.nm = nm if nm is not None else (os.environ.get("HNLAB_NM") or "1.42")
        if self.nm not in NM_VERSIONS:
            raise ValueError(f"nm must be one of {', '.join(NM_VERSIONS)}, got {self.nm!r}")
        self.root = Path("/run") / self.prefix          #: state dir of the lab

    def __repr__(self) -> str:
        return f"Lab(prefix={self.prefix!r}, nics={self.nics}, nm={self.nm!r})"

    # ------------------------------------------------------------ paths, names
    @property
    def inventory(self) -> str:
        """Path of the Ansible inventory (group ``lab``), written by ``up``."""
        return str(self.root / "inventory.ini")

    @property
    def ssh_config(self) -> str:
        """Path of the ssh client config (``ssh -F <it> h1``), written by ``up``."""
        return str(self.root / "ssh" / "config")

    @staticmethod
    def index(host: str) -> int:
        """Number N of host ``"hN"``.  Raises ValueError for anything else."""
        m = _HOST_RE.match(host) if isinstance(host, str) else None
        if not m or int(m.group(1)) > MAX_HOSTS:
            raise ValueError(f"not a lab host name (h1..h{MAX_HOSTS}): {host!r}")
        return int(m.group(1))

    def netns(self, host: str) -> str:
        """Path of the network namespace file of ``host`` (``"hN"`` or ``"sw"``)."""
        if host != "sw":
            self.index(host)
        return f"/run/netns/{self.prefix}-{host}"

    def copy_in(self, host: str, src: Arg, name: str) -> str:
        """Copy the file or folder ``src`` (``__pycache__`` left out) into the
        host as ``/run/hostnet-lab/<name>`` and return that path as the host
        sees it. A host has its own /run, /tmp, /root and /etc, so a path of
        this machine (a checkout anywhere) is not always visible inside it."""
        dest = self.state_dir(host) / "run" / "hostnet-lab" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if Path(src).is_dir():
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest)
        return "/run/hostnet-lab/" + name

    def collection_in(self, host: str, collections: Arg) -> str:
        """Copy hostnet.nm's ``module_utils`` from ``collections`` (the parent
        of an ``ansible_collections`` folder) into the host; returns the folder
        to put on the host's ``sys.path`` to import it."""
        self.copy_in(host, Path(collections) / "ansible_collections" / "hostnet" / "nm" / "plugins" / "module_utils",
                     "collections/ansible_collections/hostnet/nm/plugins/module_utils")
        return "/run/hostnet-lab/collections"

    def state_dir(self, host: str) -> Path:
        """Per-host state dir (logs in ``log/``, daemon PIDs in ``pids/``)."""
        if host != "sw":
            self.index(host)
        return self.root / host

    def log_path(self, host: str, daemon: str = "nm") -> Path:
        """Log file of a host daemon: ``"nm"``, ``"dbus"``, ``"sshd"`` (``"dnsmasq"`` for sw)."""
        return self.state_dir(host) / "log" / f"{daemon}.log"

    def bus_address(self, host: str) -> str:
        """D-Bus address of the host's system bus, usable from the root namespaces,
        e.g. ``"unix:path=/run/hnlab/h1/run/dbus/system_bus_socket"``."""
        return f"unix:path={self.state_dir(host)}/run/dbus/system_bus_socket"

    def mgmt_ip(self, host: str) -> str:
        """IPv4 of mgmt0 (NM-unmanaged, carries ssh): ``198.18.0.(10+N)``."""
        return f"198.18.0.{10 + self.index(host)}"

    def mgmt_ip6(self, host: str) -> str:
        """IPv6 of mgmt0: ``2001:db8::(10+N)``."""
        return f"2001:db8::{10 + self.index(host)}"

    def data_ip(self, host: str, net: int) -> str:
        """Conventional IPv4 of ``eth<net>`` (not configured by the lab): ``198.18.<net>.(10+N)``.
        The router is ``198.18.<net>.1``.  Raises ValueError if net is not 1..nics."""
        self._check_net(net)
        return f"198.18.{net}.{10 + self.index(host)}"

    def data_ip6(self, host: str, net: int) -> str:
        """Conventional IPv6 of ``eth<net>``: ``2001:db8:<net>::(10+N)``."""
        self._check_net(net)
        return f"2001:db8:{net}::{10 + self.index(host)}"

    def _check_net(self, net: int) -> None:
        if not isinstance(net, int) or not 1 <= net <= self.nics:
            raise ValueError(f"data net must be 1..{self.nics}, got {net!r}")

    # ------------------------------------------------------------ state
    def hosts(self) -> List[str]:
        """Names of the hosts that exist (by netns), sorted numerically: ``["h1", "h2", ...]``."""
        try:
            entries = os.listdir("/run/netns")
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            if entry.startswith(self.prefix + "-"):
                name = entry[len(self.prefix) + 1:]
                m = _HOST_RE.match(name)
                if m and int(m.group(1)) <= MAX_HOSTS:
                    found.append(name)
        return sorted(found, key=self.index)

    def pids(self, host: str) -> Dict[str, int]:
        """PIDs of the lab daemons of ``host`` that are alive: ``{"dbus": .., "nm": .., "sshd": ..}``
        (``{"dnsmasq": ..}`` for ``"sw"``).  Missing or dead daemons are left out."""
        names = ("dnsmasq",) if host == "sw" else _DAEMONS
        out = {}
        for name in names:
            try:
                pid = int((self.state_dir(host) / "pids" / f"{name}.pid").read_text().strip())
            except (OSError, ValueError):
                continue
            if _alive(pid) and _ns_inode(f"/proc/{pid}/ns/net") == _ns_inode(self.netns(host)):
                out[name] = pid
        return out

    def leftovers(self) -> List[str]:
        """Everything of this lab that exists, as human-readable lines: netns,
        mounts, the state dir and processes inside lab netns.  Empty after ``down``."""
        found = [f"netns {e}" for e in _listdir("/run/netns")
                 if e == f"{self.prefix}-sw"
                 or (e.startswith(self.prefix + "-") and _HOST_RE.match(e[len(self.prefix) + 1:]))]
        root = str(self.root)
        with open("/proc/self/mountinfo") as f:
            for line in f:
                target = line.split()[4]
                if target == root or target.startswith(root + "/"):
                    found.append(f"mount {target}")
        if self.root.exists():
            found.append(f"dir {self.root}")
        lab_ns = {_ns_inode(f"/run/netns/{e[len('netns '):]}") for e in found if e.startswith("netns ")}
        lab_ns.discard(None)
        marker = f"HNLAB_DAEMON={self.prefix}/".encode()   # set by spawn in common.sh
        for pid in _all_pids():
            if lab_ns and _ns_inode(f"/proc/{pid}/ns/net") in lab_ns:
                found.append(f"process {pid} {_cmdline(pid)}")
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if any(v.startswith(marker) for v in f.read().split(b"\0")) and _alive(pid):
                        found.append(f"process {pid} {_cmdline(pid)}")
            except OSError:
                continue
        return found

    # ------------------------------------------------------------ lifecycle
    def up(self, n: int, timeout: Optional[float] = None) -> subprocess.CompletedProcess:
        """Bring up the switch and hosts h1..h``n`` (idempotent: adds missing hosts,
        repairs broken ones).  ``timeout`` in seconds, default 60 + 10 s per host.
        Returns the up.sh run (its log is in ``.stderr``).  Raises LabError."""
        if not isinstance(n, int) or not 1 <= n <= MAX_HOSTS:
            raise ValueError(f"n must be 1..{MAX_HOSTS}, got {n!r}")
        self.rootfs()
        return self._script("up.sh", str(n), timeout=timeout or 60 + 10 * n)

    def rootfs(self) -> Optional[str]:
        """The root filesystem of the hosts' NetworkManager (``None`` for the machine's
        own 1.42), built first if it is not cached: a few minutes once per machine,
        then instant (``nm-rootfs.sh``).  Raises LabError."""
        if self.nm == NM_VERSIONS[0]:
            return None
        return self._script("nm-rootfs.sh", self.nm, timeout=1800).stdout.strip()

    def down(self, *hosts: str, timeout: float = 600) -> subprocess.CompletedProcess:
        """Tear down the given hosts, or the whole lab if none are given (all
        namespaces, mounts, processes and the state dir).  Raises LabError."""
        for h in hosts:
            self.index(h)
        return self._script("down.sh", *hosts, timeout=timeout)

    def reset(self, *hosts: str, timeout: float = 90) -> None:
        """Return hosts to their pristine state without restarting NetworkManager:
        destroy all checkpoints, delete all connection profiles (NM's own external
        ``lo`` profile comes back by itself), delete interfaces added since ``up``,
        flush addresses/routes of eth1..ethN, delete routing rules but the kernel's
        own, restore /etc/resolv.conf and the
        hostname, and wait until eth1..ethN are ``disconnected``.  Several hosts
        are reset in parallel.  Typically 0.2-0.5 s.  Raises LabError."""
        if not hosts:
            raise ValueError("reset() needs at least one host")
        for h in hosts:
            self.index(h)
        self._script("reset.sh", *hosts, timeout=timeout)

    def restart_nm(self, host: str, timeout: float = 150) -> None:
        """Restart only NetworkManager in ``host`` (profiles and interfaces stay);
        returns when NM has finished starting.  Raises LabError."""
        self.index(host)
        self._script("restart-nm.sh", host, timeout=timeout)

    # ------------------------------------------------------------ commands
    def enter_argv(self, host: str) -> List[str]:
        """The ``nsenter ... --`` prefix that runs a command inside ``host``."""
        if host == "sw":
            return ["nsenter", f"--net={self.netns('sw')}", "--"]
        ns = self.root / "ns"
        return ["nsenter", f"--net={self.netns(host)}", f"--mount={ns}/{host}.mnt",
                f"--uts={ns}/{host}.uts", "--"]

    def run(self, host: str, *argv: Arg, check: bool = True, input: Optional[str] = None,
            timeout: Optional[float] = 120, env: Optional[Dict[str, str]] = None,
            ) -> subprocess.CompletedProcess:
        """Run ``argv`` (a program and its arguments, no shell) inside ``host``
        (``"hN"`` or ``"sw"``) via nsenter.  Output is captured as text.

        Args:
            input: text for stdin.
            timeout: seconds (raises subprocess.TimeoutExpired).
            env: extra environment variables.
        Returns:
            CompletedProcess with ``.returncode``, ``.stdout``, ``.stderr`` (str).
        Raises:
            LabCommandError: non-zero exit and ``check`` is true.
            LabError: the host does not exist.
        """
        if not argv:
            raise ValueError("run() needs a command")
        args = [_arg(a) for a in argv]
        if not os.path.exists(self.netns(host)):
            raise LabError(f"lab host {host} of {self.prefix} does not exist")
        proc = subprocess.run(self.enter_argv(host) + args, input=input, capture_output=True,
                              text=True, timeout=timeout, env=self._env(env))
        if check and proc.returncode != 0:
            raise LabCommandError(proc.returncode, args, proc.stdout, proc.stderr)
        return proc

    def ssh(self, host: str, *argv: Arg, check: bool = True, timeout: Optional[float] = 60,
            ) -> subprocess.CompletedProcess:
        """Run ``argv`` on ``host`` over ssh (root, lab key, the way Ansible gets
        there).  Each argument is shell-quoted for the remote shell.
        Returns/raises like ``run``."""
        self.index(host)
        remote = " ".join(shlex.quote(_arg(a)) for a in argv)
        cmd = ["ssh", "-F", self.ssh_config, "-o", "BatchMode=yes", host, "--", remote]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=self._env(None), stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise LabCommandError(proc.returncode, cmd, proc.stdout, proc.stderr)
        return proc

    def nmcli(self, host: str, *args: Arg, check: bool = True) -> str:
        """``nmcli -t`` inside ``host``; returns stdout.  Raises like ``run``."""
        return self.run(host, "nmcli", "-t", *args, check=check).stdout

    def busctl(self, host: str, *args: Arg, check: bool = True) -> str:
        """``busctl --address=<host's system bus> ARGS`` from this machine (a host of
        another NetworkManager version has no busctl inside); returns stdout.
        Raises LabCommandError on a non-zero exit and ``check``."""
        argv = ["busctl", f"--address={self.bus_address(host)}", *[_arg(a) for a in args]]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=self._env(None))
        if check and proc.returncode != 0:
            raise LabCommandError(proc.returncode, argv, proc.stdout, proc.stderr)
        return proc.stdout

    def nm_version(self, host: str) -> Tuple[int, ...]:
        """The running NetworkManager's ``Version`` property of ``host`` as numbers, e.g. ``(1, 52, 1)``."""
        out = self.busctl(host, "get-property", "org.freedesktop.NetworkManager",
                          "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager", "Version")
        text = out.split(None, 1)[1].strip().strip('"')     # 's "1.52.1"'
        return tuple(int(p) for p in re.findall(r"\d+", text)[:3])

    def device_states(self, host: str) -> Dict[str, str]:
        """NM device states of ``host``: ``{"eth1": "disconnected", "mgmt0": "unmanaged", ...}``."""
        states = {}
        for line in self.nmcli(host, "-f", "DEVICE,STATE", "device").splitlines():
            dev, _, state = line.partition(":")
            states[dev] = state
        return states

    # ------------------------------------------------------------ helpers
    def _env(self, extra: Optional[Dict[str, str]]) -> Dict[str, str]:
        env = dict(os.environ)
        env.pop("HNLAB_LOCKED", None)
        env["PATH"] = env.get("PATH", "") + ":" + _SBIN_PATH
        env.update(HNLAB_PREFIX=self.prefix, HNLAB_NICS=str(self.nics), HNLAB_JOBS=str(self.jobs),
                   HNLAB_NM=self.nm)
        if extra:
            env.update(extra)
        return env

    def _script(self, name: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
        cmd = ["bash", str(HERE / name), *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  env=self._env(None), stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            raise LabError(f"{name} {' '.join(args)}: timed out after {timeout} s\n"
                           f"{_tail(exc.stderr)}") from exc
        if proc.returncode != 0:
            raise LabError(f"{name} {' '.join(args)}: exit {proc.returncode}\n"
                           f"{_tail(proc.stdout)}\n{_tail(proc.stderr)}".rstrip())
        return proc


# ---------------------------------------------------------------- /proc helpers
def _arg(a: Arg) -> str:
    if isinstance(a, (str, os.PathLike)):
        return os.fspath(a)
    raise TypeError(f"command arguments must be str or path, got {type(a).__name__}: {a!r}")


def _ns_inode(path: str) -> Optional[int]:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _listdir(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def _all_pids() -> List[int]:
    return [int(e) for e in _listdir("/proc") if e.isdigit()]


def _alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def root_netns_processes(names: Sequence[str] = ("NetworkManager", "dnsmasq", "sshd",
                                                 "dbus-daemon", "nm-dispatcher")) -> Dict[int, str]:
    """Processes named ``names`` (by comm) that run in the caller's network
    namespace: ``{pid: cmdline}``.  Call it from the root netns."""
    me = _ns_inode("/proc/self/ns/net")
    out = {}
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in names and _ns_inode(f"/proc/{pid}/ns/net") == me and _alive(pid):
            out[pid] = _cmdline(pid)
    return out


def root_netns_state() -> Dict[str, str]:
    """Addresses, routes and rules of the caller's (root) netns, as
    ``{"ip addr": <output>, "ip route": ..., "ip -6 route": ..., "ip rule": ...}``.
    Compare two snapshots to prove the lab did not touch the root netns."""
    out = {}
    for cmd in (["ip", "addr"], ["ip", "route"], ["ip", "-6", "route"], ["ip", "rule"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[" ".join(cmd)] = proc.stdout
    return out
