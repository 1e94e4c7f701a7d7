"""pytest fixtures for integration tests against the NetworkManager lab (tests/lab).

Fixtures:
    lab        (session)  a ``lab.Lab`` with ``$HNLAB_HOSTS`` hosts (default 3), brought
                          up once and ALWAYS torn down at session end (also on failure,
                          Ctrl-C or SIGTERM), unless ``HNLAB_KEEP=1``: then a running
                          lab is reused and left up.
    lab_host   (function) ``"h1"``, freshly ``reset()``.
    lab_hosts  (function) all host names, freshly reset.  ``@pytest.mark.lab(hosts=K)``
                          asks for the first K hosts (the lab grows if it has fewer).
    root_netns_before (session) snapshot of the root netns taken before the lab starts.
    nm_version (session)  the lab's running NetworkManager ``Version`` as numbers, e.g. ``(1, 52, 1)``.

NetworkManager version: ``HNLAB_NM=1.52`` (or ``1.58``; default ``1.42``, this machine's)
brings the lab up with hosts of that version (tests/lab/nm-rootfs.sh).  Tests marked
``nm_versions`` form the subset that ``scripts/test.sh`` runs on every extra version
(``pytest -m nm_versions``); ``make test-nm-versions`` runs the whole lab tier on each.

Tests that use these fixtures get the ``lab`` marker automatically; lab tests are
skipped, with the reason, when not running as root or when the lab's packages
are missing (``tests/lab/install.sh``).  Run ``pytest -m "not lab"`` to skip them.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
from lab import Lab, LabError, root_netns_processes, root_netns_state  # noqa: E402

LAB_FIXTURES = {"lab", "lab_host", "lab_hosts"}
# programs the lab needs (all from tests/lab/install.sh)
LAB_TOOLS = ("NetworkManager", "nmcli", "dbus-daemon", "dnsmasq", "sshd", "ssh", "nc",
             "nsenter", "unshare", "busctl", "dig", "ip", "flock")
SBIN_PATH = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"


def lab_unavailable() -> Optional[str]:
    """Why the lab cannot run here (a skip reason), or None if it can."""
    if os.geteuid() != 0:
        return "the NetworkManager lab needs root (network/mount namespaces)"
    if not shutil.which("NetworkManager", path=SBIN_PATH):
        return "NetworkManager is not installed: run tests/lab/install.sh"
    missing = [t for t in LAB_TOOLS if not shutil.which(t, path=SBIN_PATH)]
    if missing:
        return f"lab tools missing ({', '.join(missing)}): run tests/lab/install.sh"
    return None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "lab(hosts=K): needs the NetworkManager lab (root + tests/lab/install.sh); "
        "hosts=K asks the lab_hosts fixture for K hosts",
    )
    config.addinivalue_line(
        "markers",
        "nm_versions: in the subset run on every NetworkManager version of the lab "
        "(HNLAB_NM=1.52, 1.58), chosen for what differs between versions",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    reason = lab_unavailable()
    for item in items:
        if LAB_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("lab"):
            item.add_marker(pytest.mark.lab)
        if reason and item.get_closest_marker("lab"):
            item.add_marker(pytest.mark.skip(reason=reason))


# ---------------------------------------------------------------- root netns
@pytest.fixture(scope="session")
def root_netns_before() -> Dict[str, object]:
    """Root netns before the lab: ``{"state": root_netns_state(), "daemons": {pid: cmdline}}``."""
    if lab_unavailable():
        pytest.skip(lab_unavailable())
    return {"state": root_netns_state(), "daemons": root_netns_processes()}


# ---------------------------------------------------------------- session lab
class _SessionLock:
    """Exclusive flock on /run/lock/<prefix>.session.lock: two pytest sessions
    on one machine must not share (and tear down) the same lab."""

    def __init__(self, prefix: str, wait_s: float) -> None:
        os.makedirs("/run/lock", exist_ok=True)
        self.fd = os.open(f"/run/lock/{prefix}.session.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise LabError(f"another test session uses lab {prefix!r} for more than {wait_s:.0f} s")
                if not told:
                    sys.__stderr__.write(f"\nwaiting for another test session that uses lab {prefix!r}...\n")
                    told = True
                time.sleep(1)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)   # closing drops the flock
            self.fd = -1


def _raise_interrupt(signum, frame):  # noqa: ANN001
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def lab(root_netns_before: Dict[str, object]):
    """The session's lab: ``$HNLAB_HOSTS`` hosts (default 3), torn down at the end."""
    keep = os.environ.get("HNLAB_KEEP") == "1"
    n = int(os.environ.get("HNLAB_HOSTS", "3") or 3)
    the_lab = Lab()
    lock = _SessionLock(the_lab.prefix, float(os.environ.get("HNLAB_LOCK_WAIT", "1800")))
    # SIGTERM/SIGHUP become KeyboardInterrupt, so pytest runs this teardown
    old_handlers = {s: signal.signal(s, _raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    state = {"down": keep}

    def teardown() -> None:
        if not state["down"]:
            state["down"] = True
            the_lab.down()

    atexit.register(teardown)   # last resort, e.g. if pytest dies between tests
    try:
        if not keep:
            the_lab.down()      # leftovers of a crashed run: start clean
        the_lab.up(n)
        yield the_lab
    finally:
        try:
            teardown()
        finally:
            atexit.unregister(teardown)
            for s, h in old_handlers.items():
                signal.signal(s, h)
            lock.release()
        if not keep:
            left = the_lab.leftovers()
            assert not left, f"lab teardown left: {left}"
            after = root_netns_state()
            assert after == root_netns_before["state"], "the root netns changed during the lab session"


@pytest.fixture(scope="session")
def nm_version(lab: Lab) -> tuple:
    """The lab's NetworkManager version as numbers, read from h1's ``Version`` property."""
    return lab.nm_version("h1")


@pytest.fixture
def lab_host(lab: Lab) -> str:
    """``"h1"``, reset to its pristine state."""
    lab.reset("h1")
    return "h1"


@pytest.fixture
def lab_hosts(lab: Lab, request: pytest.FixtureRequest) -> List[str]:
    """All lab hosts (or the first K with ``@pytest.mark.lab(hosts=K)``), each reset."""
    marker = request.node.get_closest_marker("lab")
    want = marker.kwargs.get("hosts") if marker else None
    if want is not None and len(lab.hosts()) < want:
        lab.up(want)
    hosts = lab.hosts()[:want] if want is not None else lab.hosts()
    lab.reset(*hosts)
    return hosts


# ------------------------------------------------------- ansible + host view
@pytest.fixture
def runner(lab):
    """An ``ansible_run.Runner`` on the lab's inventory (real ansible-playbook over SSH)."""
    from ansible_run import Runner
    return Runner(lab)


@pytest.fixture
def view(lab, lab_host):
    """A ``hostview.HostView`` of ``lab_host`` (its live state, for assertions)."""
    from hostview import HostView
    return HostView(lab, lab_host)
