"""Kernel test tier: one user-mode-linux (UML) guest kept running for a whole test session.

This machine's kernel has no bonding and no 802.1q, so bond/VLAN behaviour of NetworkManager is
tested inside a guest that runs a real Linux kernel: Debian's ``user-mode-linux`` package
(kernel 6.1 as an ordinary host process, with bonding/8021q/bridge/veth/dummy modules).

How the guest is built (see also tests/kernel/README.md):

* Root file system: the host's ``/`` through hostfs, mounted READ-ONLY, with a tmpfs overlay on
  top (guest/stage1.sh). Every host binary (NetworkManager, nmcli, python3, the checkout) is
  usable inside; nothing the guest writes reaches the host, except the session's exchange dir
  (``<state>/xchg``, mounted at ``/run/kguest`` in the guest: scripts, logs, ready/stop flags).
  With ``nm="1.52"`` or ``"1.58"`` (default ``$HNLAB_NM``, else the machine's ``"1.42"``) the
  overlay's lower layer is instead the cached root filesystem of that NetworkManager release
  (tests/lab/nm-rootfs.sh, built first if missing): NetworkManager, udev, sshd and python3 are
  that release's, on the same guest kernel.
* Guest services (guest/stage2.sh): udevd, dbus, NetworkManager (keyfile plugin,
  ``no-auto-default=*``, ``auth-polkit=false``, ``rc-manager=file``, management NIC unmanaged),
  sshd. Data NICs eth1..eth4 are veth devices whose peers sit in a guest netns "switch" that acts
  as switch / LACP partner (guest/kguest.sh).
* Management network: a dedicated host netns ``hnk-<name>`` holds a tap ``vmtap0``
  (198.18.254.1/30); the UML process runs inside that netns and its vector NIC becomes
  ``vmmgmt0`` (198.18.254.2/30) in the guest. The host's root netns is never touched: ssh reaches
  the guest through a ProxyCommand that connects from inside the netns and hands the socket back
  to ssh (ProxyUseFdpass), and one ssh ControlMaster per session makes round trips cheap.

Python API::

    from vm import KernelGuest
    with KernelGuest("kvm1") as g:            # start(timeout=60) ... stop()
        g.ssh("nmcli -t device").stdout        # -> subprocess.CompletedProcess
        g.ssh(["ip", "-br", "link"], check=True)
        g.reset()                              # clean lab: no profiles, no bonds/VLANs/bridges
        g.inventory, g.ssh_config              # for ansible / ssh from the host

Command line (for shells and other tiers; state lives in the state dir, so start/stop may be
called from different processes)::

    python3 tests/kernel/vm.py start [--name kvm1]      # boots and returns, guest keeps running
    python3 tests/kernel/vm.py ssh [--name kvm1] -- nmcli device
    python3 tests/kernel/vm.py reset [--partner lacp]
    python3 tests/kernel/vm.py stop [--name kvm1]
    python3 tests/kernel/vm.py bench [--ssh-runs 20]    # timings for the README

Only the Python standard library is used. Must run as root (netns, tap).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GUEST_SCRIPTS = HERE / "guest"

# Management link of every guest (each guest has its own host netns, so they never clash).
MGMT_HOST_ADDR = "198.18.254.1/30"
MGMT_GUEST_IP = "198.18.254.2"
MGMT_PREFIX = 30
TAP = "vmtap0"
GUEST_PYTHON = "/usr/bin/python3"
# NetworkManager versions a guest can run: the machine's own, then the root filesystems of
# tests/lab/nm-rootfs.sh (the lab's versions, tests/lab/lab.py NM_VERSIONS)
NM_VERSIONS = ("1.42", "1.52", "1.58")
NM_ROOTFS = HERE.parent / "lab" / "nm-rootfs.sh"

# ProxyCommand helper, written to <state>/nsconnect.py. ssh runs it through
# `ip netns exec <netns>`, so it connects from inside the session netns; with ProxyUseFdpass it
# then passes the connected socket to ssh over its stdout (a unix socketpair) and exits. No relay
# process lingers, and ssh's own stdio pipes are not held open by a helper.
NSCONNECT = '''\
# ssh ProxyCommand helper of tests/kernel/vm.py (ProxyUseFdpass): connect, pass the fd, exit.
import socket
import sys

sock = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
sock.setblocking(True)          # the timeout above made the fd non-blocking; ssh wants blocking
out = socket.socket(fileno=1)   # stdout is one end of a unix socketpair created by ssh
socket.send_fds(out, [b"\\0"], [sock.fileno()])
'''


class GuestError(RuntimeError):
    """The guest could not be started, or a harness step inside it failed."""


class GuestCommandError(subprocess.CalledProcessError):
    """A command run with ``ssh(..., check=True)`` failed; str() includes its output."""

    def __str__(self) -> str:
        return (f"guest command {self.cmd!r} exited {self.returncode}\n"
                f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}")


def uml_binary() -> str | None:
    """Path of the UML kernel binary, or None when user-mode-linux is not installed."""
    return shutil.which("linux.uml") or (
        "/usr/bin/linux.uml" if os.access("/usr/bin/linux.uml", os.X_OK) else None)


def unavailable_reason() -> str | None:
    """Why the kernel tier cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "kernel tier needs root (network namespaces, tap device)"
    if not uml_binary():
        return "user-mode-linux is not installed (run: bash tests/kernel/setup.sh)"
    for tool, pkg in (("/usr/sbin/sshd", "openssh-server"), ("/usr/sbin/NetworkManager", "network-manager"),
                      ("/usr/sbin/modprobe", "kmod")):
        if not os.access(tool, os.X_OK):
            return f"{tool} missing (package {pkg}; run: bash tests/kernel/setup.sh)"
    for tool in ("ip", "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            return f"{tool} missing (run: bash tests/kernel/setup.sh)"
    return None


def _run(argv, check=True, **kw) -> subprocess.CompletedProcess:
    """Run a host command quietly, capturing its output (stdin from /dev/null)."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    res = subprocess.run(argv, **kw)
    if check and res.returncode != 0:
        raise GuestError(f"{shlex.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")
    return res


def _netns_exists(name: str) -> bool:
    return os.path.exists(f"/run/netns/{name}")


def _group_members(pgid: int) -> list[int]:
    """PIDs whose process group AND session are `pgid` (the setsid'ed guest tree)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # comm (field 2) may contain spaces: parse after the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and int(fields[3]) == pgid:
            pids.append(int(entry))
    return pids


class KernelGuest:
    """One UML guest with NetworkManager, reachable over ssh; see the module docstring."""

    def __init__(self, name: str = "kvm1", *, nics: int = 4, mem: str = "1024M",
                 state_dir: str | os.PathLike | None = None, maxlife: int = 7200,
                 nm_log: str = "INFO", nm: str | None = None):
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,12}", name):
            raise ValueError(f"bad guest name {name!r}")
        if not 1 <= nics <= 9:
            raise ValueError("nics must be 1..9")
        self.nm = nm or os.environ.get("HNLAB_NM") or NM_VERSIONS[0]
        if self.nm not in NM_VERSIONS:
            raise ValueError(f"NetworkManager version must be one of {', '.join(NM_VERSIONS)}, not {self.nm!r}")
        self.name = name
        self.nics = nics
        self.mem = mem
        self.maxlife = maxlife
        self.nm_log = nm_log
        self.state_dir = Path(state_dir or os.environ.get("HOSTNET_KERNEL_STATE_DIR")
                              or f"/run/hostnet-kernel-{name}")   # /run, not /tmp: make test leaves nothing in /tmp
        if not re.fullmatch(r"[A-Za-z0-9_./-]+", str(self.state_dir)):
            # the path ends up on the UML command line and in ssh_config: keep it plain
            raise ValueError(f"state dir {self.state_dir} must not contain spaces or odd characters")
        self.netns = f"hnk-{name}"
        self.xchg = self.state_dir / "xchg"      # mounted read-write in the guest at /run/kguest
        self.out = self.xchg / "out"             # guest logs: times guest.log nm.log sshd.log
        self.ssh_config = self.state_dir / "ssh_config"
        self.inventory = self.state_dir / "inventory.ini"
        self.ansible_cfg = self.state_dir / "ansible.cfg"
        self.console_log = self.state_dir / "console.log"
        self.pid_file = self.state_dir / "pid"
        self.timings: dict[str, float] = {}
        self._proc: subprocess.Popen | None = None
        self._rootfs: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "KernelGuest":
        if not self.running():
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"KernelGuest({self.name!r}, nm={self.nm!r}, running={self.running()})"

    def rootfs(self) -> str | None:
        """Host path of the guest's lower root layer for ``self.nm``: None for the machine's own
        NetworkManager (the host's ``/``), else the cached root filesystem of tests/lab/nm-rootfs.sh,
        built first when missing (minutes, once per machine). Raises GuestError."""
        if self.nm == NM_VERSIONS[0]:
            return None
        if self._rootfs is None:
            res = _run(["bash", str(NM_ROOTFS), self.nm], check=False, timeout=1900)
            path = res.stdout.strip()
            if res.returncode != 0 or not re.fullmatch(r"/[A-Za-z0-9_./-]+", path):
                raise GuestError(f"no root filesystem of NetworkManager {self.nm}: {res.stderr.strip()}")
            self._rootfs = path
        return self._rootfs

    @property
    def pid(self) -> int | None:
        """PID (= process group) of the UML main process, from the state dir."""
        try:
            return int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None

    def _pid_is_guest(self, pid: int) -> bool:
        """True if `pid` is still this session's UML process (guards against PID reuse)."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return f"kg_xchg={self.xchg}".encode() in cmdline

    def running(self) -> bool:
        pid = self.pid
        return bool(pid) and self._pid_is_guest(pid)

    @contextlib.contextmanager
    def _locked(self):
        """Serialize start/stop of this guest name across processes (flock on <state>.lock)."""
        with open(f"{self.state_dir}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def start(self, timeout: float = 60) -> "KernelGuest":
        """Boot the guest and wait until NM is ready and ssh works. Cleans up on failure."""
        reason = unavailable_reason()
        if reason:
            raise GuestError(reason)
        self.rootfs()   # before the boot's clock starts: a first build takes minutes
        with self._locked():
            return self._start(timeout)

    def _start(self, timeout: float) -> "KernelGuest":
        if self.running():
            raise GuestError(f"guest {self.name} is already running (state {self.state_dir}); "
                             f"stop it first: python3 {Path(__file__)} stop --name {self.name}")
        if self.state_dir.exists():
            # Left over by a session of ours whose harness died: clean it up.
            self._stop(keep_logs=False)
        if _netns_exists(self.netns):
            raise GuestError(f"netns {self.netns} exists but has no state dir here: not ours, not touching it")
        t0 = time.monotonic()
        deadline = t0 + timeout
        try:
            self._write_files()
            self._create_netns()
            self._launch()
            self._wait_ready(deadline)
            self.timings["boot_to_ready"] = time.monotonic() - t0
            self._connect(deadline)
        except BaseException as exc:
            diag = self.diagnostics()
            self._stop(None)
            if isinstance(exc, GuestError):
                raise GuestError(f"{exc}\n{diag}") from None
            raise
        self.timings["start"] = time.monotonic() - t0
        return self

    def stop(self, keep_logs: bool | None = None) -> None:
        """Power the guest off and remove netns and state. Safe to call at any time, repeatedly.

        Only kills this session's own processes: the UML process group recorded in the state dir
        (checked against /proc to avoid PID reuse) and this session's ssh ControlMaster.
        With keep_logs (default: $HOSTNET_KERNEL_KEEP=1) the state dir, logs included
        (console.log, xchg/out/{guest,nm,sshd}.log, xchg/out/times), is moved to
        <state>.logs-<timestamp> and its path printed, instead of being deleted.
        """
        with self._locked():
            self._stop(keep_logs)

    def _stop(self, keep_logs: bool | None) -> None:
        if keep_logs is None:
            keep_logs = os.environ.get("HOSTNET_KERNEL_KEEP") == "1"
        t0 = time.monotonic()
        # 1. our ssh ControlMaster (ansible shares it: same ControlPath)
        if self.ssh_config.exists():
            _run(["ssh", "-F", str(self.ssh_config), "-O", "exit", self.name], check=False, timeout=10)
        # 2. the guest: ask politely (stop flag -> poweroff), then signal its process group
        pid = self.pid
        if pid and self._pid_is_guest(pid):
            try:
                (self.xchg / "stop").touch()
            except OSError:
                pass
            if not self._wait_exit(pid, 15):
                for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 3)):
                    try:
                        os.killpg(pid, sig)
                    except ProcessLookupError:
                        break
                    if self._wait_exit(pid, wait):
                        break
        if pid:
            # UML helper processes that outlived the main one (same setsid group and session)
            for p in _group_members(pid):
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._proc = None
        # 3. the management netns (with it the tap)
        if _netns_exists(self.netns) and self.state_dir.exists():
            _run(["ip", "-n", self.netns, "link", "del", TAP], check=False)
            _run(["ip", "netns", "del", self.netns], check=False)
        # 4. state
        if self.state_dir.exists():
            if keep_logs:
                # moved aside, so that the next start() does not take it for a stale session
                kept = Path(f"{self.state_dir}.logs-{time.strftime('%Y%m%d-%H%M%S')}")
                self.state_dir.rename(kept)
                print(f"kernel guest {self.name}: logs kept in {kept}", file=sys.stderr)
            else:
                shutil.rmtree(self.state_dir, ignore_errors=True)
        self.timings["stop"] = time.monotonic() - t0

    def _wait_exit(self, pid: int, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return True
            elif not self._pid_is_guest(pid):
                return True
            time.sleep(0.1)
        return False

    # ------------------------------------------------------------------ start steps
    def _write_files(self) -> None:
        st = self.state_dir
        for d in (st, self.xchg, self.out, st / "cp", st / "uml"):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        # per-session keys: a client key for root@guest and a host key for the guest's sshd
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"kguest-{self.name}",
              "-f", str(st / "id_ed25519")])
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"kguest-{self.name}-host",
              "-f", str(self.xchg / "ssh_host_ed25519_key")])
        shutil.copy(st / "id_ed25519.pub", self.xchg / "authorized_keys")
        host_pub = (self.xchg / "ssh_host_ed25519_key.pub").read_text().split()
        (st / "known_hosts").write_text(f"{self.name} {host_pub[0]} {host_pub[1]}\n")
        for script in ("stage1.sh", "stage2.sh", "kguest.sh"):
            shutil.copy(GUEST_SCRIPTS / script, self.xchg / script)
            os.chmod(self.xchg / script, 0o755)
        (self.xchg / "guest.env").write_text(
            f"KG_NAME={self.name}\nKG_NICS={self.nics}\nKG_MAXLIFE={int(self.maxlife)}\n"
            f"KG_NMLOG={self.nm_log}\nKG_MGMT_ADDR={MGMT_GUEST_IP}/{MGMT_PREFIX}\n")
        (st / "nsconnect.py").write_text(NSCONNECT)
        ip = shutil.which("ip") or "/usr/sbin/ip"
        py = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        self.ssh_config.write_text(f"""\
# Written by tests/kernel/vm.py for the kernel-tier guest "{self.name}"; removed at stop.
# The guest is only reachable from inside the host netns {self.netns}: the ProxyCommand connects
# from there and passes the socket to ssh (ProxyUseFdpass). One ControlMaster per session.
Host {self.name}
  HostName {MGMT_GUEST_IP}
  HostKeyAlias {self.name}
  User root
  IdentityFile {st}/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile {st}/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  CheckHostIP no
  BatchMode yes
  ProxyCommand {ip} netns exec {self.netns} {py} -I -S {st}/nsconnect.py %h %p
  ProxyUseFdpass yes
  ControlMaster auto
  ControlPath {st}/cp/%C
  ControlPersist 600
  ServerAliveInterval 5
  ServerAliveCountMax 3
  ConnectTimeout 10
  LogLevel ERROR
""")
        # ansible_ssh_args names the same ControlPath, so ansible reuses our master instead of
        # starting its own (which would linger for ControlPersist after ansible exits).
        ssh_args = f"-o ControlMaster=auto -o ControlPersist=600 -o ControlPath={st}/cp/%C"
        self.inventory.write_text(
            f"# Written by tests/kernel/vm.py for the kernel-tier guest \"{self.name}\".\n"
            "[kernel]\n"
            f"{self.name} ansible_user=root ansible_python_interpreter={GUEST_PYTHON}"
            f" ansible_ssh_common_args='-F {self.ssh_config}'"
            f" ansible_ssh_args='{ssh_args}' ansible_ssh_pipelining=true\n")
        self.ansible_cfg.write_text(
            f"# Written by tests/kernel/vm.py: ANSIBLE_CONFIG={self.ansible_cfg}\n"
            f"[defaults]\ninventory = {self.inventory}\ninterpreter_python = {GUEST_PYTHON}\n"
            "[ssh_connection]\npipelining = True\n")

    def _create_netns(self) -> None:
        ns = self.netns
        _run(["ip", "netns", "add", ns])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(["ip", "-n", ns, "tuntap", "add", TAP, "mode", "tap"])
        _run(["ip", "-n", ns, "addr", "add", MGMT_HOST_ADDR, "dev", TAP])
        _run(["ip", "-n", ns, "link", "set", TAP, "up"])

    def _launch(self) -> None:
        argv = [
            "ip", "netns", "exec", self.netns, uml_binary(),
            f"mem={self.mem}",
            # host / read-only; stage1 puts the tmpfs overlay on top
            "rootfstype=hostfs", "rootflags=/", "ro",
            f"init={self.xchg}/stage1.sh",
            "quiet",
            # console to our stdout (console.log); the real output travels via the exchange dir
            "con=null", "con0=null,fd:1", "ssl=null",
            f"umid=kguest-{self.name}", f"uml_dir={self.state_dir}/uml",
            # gro=1: without it the tap's GSO frames are dropped and host->guest TCP crawls
            f"vec0:transport=tap,ifname={TAP},depth=128,gro=1",
            # unknown key=value words become init's environment
            f"kg_xchg={self.xchg}",
        ]
        if self.rootfs():
            argv.append(f"kg_rootfs={self.rootfs()}")   # stage1: the overlay's lower layer
        with open(self.console_log, "wb") as console:
            # start_new_session: the guest gets its own process group, so stop() can signal
            # exactly it; `ip netns exec` execs linux.uml, so the PID is UML's main process
            self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console,
                                          stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(f"{self._proc.pid}\n")

    def _wait_ready(self, deadline: float) -> None:
        while not (self.out / "ready").exists():
            if (self.out / "failed").exists():
                raise GuestError(f"guest init failed: {(self.out / 'failed').read_text().strip()}")
            if self._proc.poll() is not None:
                raise GuestError(f"guest exited early (status {self._proc.returncode})")
            if time.monotonic() > deadline:
                raise GuestError("guest not ready before the start timeout")
            time.sleep(0.05)

    def _connect(self, deadline: float) -> None:
        # The first ssh becomes the ControlMaster (ControlPersist detaches it with its stdio on
        # /dev/null, so capturing this call's output does not hang).
        while True:
            t = time.monotonic()
            res = self.ssh("true", timeout=30)
            if res.returncode == 0:
                self.timings["first_ssh"] = time.monotonic() - t
                return
            if time.monotonic() > deadline:
                raise GuestError(f"ssh to the guest failed: {res.stderr.strip()}")
            time.sleep(0.2)

    # ------------------------------------------------------------------ using the guest
    def ssh(self, cmd, *, check: bool = False, timeout: float = 300, input: str | None = None,
            text: bool = True) -> subprocess.CompletedProcess:
        """Run `cmd` in the guest as root; returns the CompletedProcess (rc 255 = ssh failure).

        `cmd` is a shell string (run by root's shell in the guest) or an argv list, which is
        quoted with shlex.join. With check=True a non-zero exit raises GuestCommandError.
        """
        remote = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
        argv = ["ssh", "-F", str(self.ssh_config), "--", self.name, remote]
        kw = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        res = subprocess.run(argv, capture_output=True, text=text, timeout=timeout, **kw)
        if check and res.returncode != 0:
            raise GuestCommandError(res.returncode, remote, res.stdout, res.stderr)
        return res

    def reset(self, partner: str = "bridge", timeout: float = 90) -> None:
        """Clean lab: delete all NM profiles (and stray keyfiles), delete every bond/VLAN/bridge/
        dummy/... link and extra guest netns, restore eth1..ethN (MAC, MTU, no addresses), put the
        switch side in `partner` mode ("bridge" or "lacp") and wait until NM shows all data NICs
        disconnected."""
        self.ssh(["sh", "/run/kguest/kguest.sh", "reset", partner], check=True, timeout=timeout)

    def set_partner(self, mode: str) -> None:
        """Rewire the switch side of eth1/eth2: "bridge" (plain bridge ports) or "lacp"
        (an 802.3ad bond, lacp_rate fast, as partner of a guest 802.3ad bond)."""
        self.ssh(["sh", "/run/kguest/kguest.sh", "partner", mode], check=True)

    def status(self) -> str:
        return self.ssh(["sh", "/run/kguest/kguest.sh", "status"]).stdout

    def in_netns(self, argv, **kw) -> subprocess.CompletedProcess:
        """Run a HOST command inside the management netns (direct access to 198.18.254.2)."""
        return _run(["ip", "netns", "exec", self.netns, *argv], check=False, **kw)

    def ansible_env(self) -> dict[str, str]:
        """Environment for ansible/ansible-playbook runs against this guest."""
        env = dict(os.environ)
        env["ANSIBLE_CONFIG"] = str(self.ansible_cfg)
        return env

    def diagnostics(self, lines: int = 25) -> str:
        """Tails of the guest's logs, for failure messages."""
        parts = []
        for f in (self.console_log, self.out / "guest.log", self.out / "times", self.out / "nm.log",
                  self.out / "sshd.log"):
            try:
                tail = f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            parts.append(f"--- {f.name}\n" + "\n".join(tail))
        return "\n".join(parts)

    def boot_marks(self) -> dict[str, float]:
        """Guest uptime at each init step (boot udev nics nm sshd), from out/times."""
        marks = {}
        try:
            for line in (self.out / "times").read_text().splitlines():
                k, v = line.split()
                marks[k] = float(v)
        except (OSError, ValueError):
            pass
        return marks


# ---------------------------------------------------------------------- command line
def _bench(args) -> int:
    g = KernelGuest(args.name, nm=args.nm)
    t0 = time.monotonic()
    g.start(timeout=args.timeout)
    print(f"start: {g.timings['start']:.2f}s (ready {g.timings['boot_to_ready']:.2f}s, "
          f"first ssh {g.timings['first_ssh']:.2f}s); guest uptime marks {g.boot_marks()}")
    try:
        ts = []
        for _ in range(args.ssh_runs):
            t = time.monotonic()
            g.ssh("true", check=True)
            ts.append(time.monotonic() - t)
        print(f"ssh 'true' x{len(ts)}: min {min(ts):.3f} avg {sum(ts) / len(ts):.3f} max {max(ts):.3f}s")
        for cmd in ("nmcli -t device", f"{GUEST_PYTHON} -c pass"):
            t = time.monotonic()
            g.ssh(cmd, check=True)
            print(f"ssh {cmd!r}: {time.monotonic() - t:.3f}s")
        t = time.monotonic()
        g.reset()
        print(f"reset: {time.monotonic() - t:.2f}s")
    finally:
        g.stop()
    print(f"stop: {g.timings['stop']:.2f}s; total {time.monotonic() - t0:.2f}s")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["start", "stop", "ssh", "reset", "status", "bench"])
    p.add_argument("args", nargs="*", help="for ssh: the command (put it after --)")
    p.add_argument("--name", default="kvm1")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--partner", default="bridge", choices=["bridge", "lacp"])
    p.add_argument("--nm", choices=NM_VERSIONS, help="the guest's NetworkManager (default $HNLAB_NM, else 1.42)")
    p.add_argument("--ssh-runs", type=int, default=20)
    a = p.parse_args(argv)
    g = KernelGuest(a.name, nm=a.nm)
    if a.command == "start":
        g.start(timeout=a.timeout)
        print(f"kernel guest {a.name} up in {g.timings['start']:.2f}s\n"
              f"  ssh -F {g.ssh_config} {a.name}\n  inventory {g.inventory}\n"
              f"  stop: python3 {Path(__file__)} stop --name {a.name}")
        return 0
    if a.command == "stop":
        g.stop()
        return 0
    if a.command == "bench":
        return _bench(a)
    if not g.running():
        print(f"kernel guest {a.name} is not running", file=sys.stderr)
        return 1
    if a.command == "ssh":
        res = g.ssh(" ".join(a.args))
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        return res.returncode
    if a.command == "reset":
        g.reset(partner=a.partner)
        return 0
    print(g.status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
