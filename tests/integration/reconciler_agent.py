"""The reconciler agent on a lab host, for tests/integration/test_reconciler_lab.py and
bench/drift_heal.py: installed by the role hostnet.nm.reconciler under the host's own /run (the lab
hosts share this machine's /usr and /var; /run and /etc are theirs), configured, started, stopped and
read from the test side."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any, Dict, List, Optional

from phases import wait_for  # noqa: F401 (the tests import it from here too)

BIN = "/run/hnagent/bin/hostnet-nm-reconciler"
LOG = "/run/hnagent/log/reconciler.log"
CONFIG = "/etc/hostnet-nm/reconciler.json"
DOCUMENT = "/etc/hostnet-nm/desired-state.json"
STATUS = "/run/hostnet-nm/reconciler.json"
PID = "/run/hostnet-nm/reconciler.pid"
#: the role's variables for a lab host (the agent runs as a plain process: the lab has no systemd)
ROLE_VARS = {"hostnet_reconciler_lib_dir": "/run/hnagent/lib", "hostnet_reconciler_bin": BIN,
             "hostnet_reconciler_log_dir": os.path.dirname(LOG), "hostnet_reconciler_service": "process"}
#: settings the tests start from: quick probes, quick rollback of a killed heal
SETTINGS = {"log_file": LOG, "rollback_timeout": 8, "backoff_base": 2, "backoff_max": 8,
            "verify": {"timeout": 0.5, "attempts": 2, "interval": 0.2}}


def document(lab: Any, host: str, address: Optional[str] = None) -> Dict[str, Any]:
    """The declared state of the tests: eth1 static (its conventional address) and a route through it."""
    return {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up", "ipv4": {
        "enabled": True, "dhcp": False, "address": [{"ip": address or lab.data_ip(host, 1), "prefix-length": 24}]},
        "ipv6": {"enabled": False}}],
        "routes": {"config": [{"destination": "198.19.5.0/24", "next-hop-address": "198.18.1.1",
                               "next-hop-interface": "eth1"}]}}


def install_play(host: str, doc: Dict[str, Any], **role_vars: Any) -> List[Dict[str, Any]]:
    """A play that installs and starts the agent on ``host`` with the role, keeping ``doc``
    (``role_vars``: more of the role's variables)."""
    return [{"hosts": host, "gather_facts": False, "vars": dict(ROLE_VARS, hostnet_reconciler_state=doc, **role_vars),
             "roles": ["hostnet.nm.reconciler"]}]


class Agent:
    """The agent of ``host`` (installed with :func:`install_play`). Every agent started here is
    stopped by :meth:`stop` (SIGTERM, then SIGKILL by PID)."""

    def __init__(self, lab: Any, host: str) -> None:
        self.lab, self.host = lab, host

    def outside(self, path: str) -> Path:
        """Where the host's ``/run/...`` ``path`` is seen from this machine."""
        return self.lab.state_dir(self.host) / path.lstrip("/")

    def write(self, path: str, data: Dict[str, Any]) -> None:
        """Write JSON into the host (its own /etc overlay), root only."""
        self.lab.run(self.host, "sh", "-c", "umask 077; mkdir -p \"$(dirname $0)\"; cat > \"$0.new\" && mv \"$0.new\" \"$0\"",
                     path, input=json.dumps(data))

    def configure(self, doc: Dict[str, Any], **settings: Any) -> None:
        """The document to keep and the settings (over :data:`SETTINGS`); the log starts empty."""
        self.write(CONFIG, dict(SETTINGS, **settings))
        self.write(DOCUMENT, doc)
        self.clear_log()

    def clear_log(self) -> None:
        """Empty the log (it is kept across agents)."""
        self.lab.run(self.host, "rm", "-f", LOG)

    def command(self, *args: str) -> str:
        """``hostnet-nm-reconciler ARGS`` in the host, with a clean environment."""
        return self.lab.run(self.host, "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", BIN, *args).stdout

    def start(self, in_sync: bool = True) -> int:
        """Start it detached; with ``in_sync``, wait until its first check found the host in sync
        (a new document is applied first). Returns its PID."""
        said = self.command("start").strip()
        assert said.startswith("started (pid "), said
        pid = int(said.split()[-1].rstrip(")"))
        if in_sync:
            wait_for(lambda: self.in_sync(pid), 30, "agent %d to find %s in sync" % (pid, self.host))
        return pid

    def in_sync(self, pid: int) -> bool:
        """Whether agent ``pid`` (not an earlier one: the status file outlives them) last found the
        host in sync."""
        status = self.status()
        return status.get("pid") == pid and (status.get("last_check") or {}).get("result") == "in-sync"

    def pid(self) -> int:
        """The running agent's PID (0 when none)."""
        try:
            pid = int((self.outside(PID).read_text().split() or ["0"])[0])
        except (OSError, ValueError):
            return 0
        try:
            return pid if b"hostnet-nm-reconciler" in Path("/proc/%d/cmdline" % pid).read_bytes() else 0
        except OSError:
            return 0

    def stop(self) -> None:
        """Stop it (SIGTERM, after 10 s SIGKILL), by the PID in its pid file."""
        pid = self.pid()
        if not pid:
            return
        os.kill(pid, signal.SIGTERM)
        try:
            wait_for(lambda: not self.pid(), 10, "agent %d to stop" % pid)
        except AssertionError:
            os.kill(pid, signal.SIGKILL)

    def status(self) -> Dict[str, Any]:
        """Its status file ({} before its first write)."""
        try:
            return json.loads(self.outside(STATUS).read_text())
        except (OSError, ValueError):
            return {}

    def log(self) -> str:
        """Its log file."""
        try:
            return self.outside(LOG).read_text()
        except OSError:
            return ""

    def events(self, event: str) -> List[str]:
        """The log lines of one event (``drift``, ``heal``, ``heal-failed``, ``fight``...)."""
        return [line for line in self.log().splitlines() if "] %s: " % event in line]
