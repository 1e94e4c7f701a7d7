"""pytest wiring of the kernel test tier (tests/kernel, see README.md there).

* marker ``kernel``: the test needs the user-mode-linux guest. Every test collected from this
  directory gets it automatically. Such tests are skipped, with the reason, when this machine
  cannot run the guest (not root, user-mode-linux or sshd/NM/kmod not installed).
* fixture ``kernel_guest`` (session): ONE guest for the whole session, started at first use and
  always stopped at session end (also on failures, Ctrl-C and SIGTERM).
* fixture ``clean_guest`` (function): the same guest after ``reset()`` (no NM profiles, no
  bonds/VLANs/bridges, eth1..eth4 disconnected, switch side in "bridge" mode).
* fixtures ``host_state_before`` (session) and ``host_state``: fingerprint of the host's
  NM-relevant files taken before the guest starts, and the function that takes one now, for
  tests that prove the guest wrote nothing to the host (nor to the root filesystem it runs on).
* NetworkManager version: ``HNLAB_NM=1.52`` (or ``1.58``; default the machine's ``1.42``) boots
  the guest on the cached root filesystem of that release (tests/lab/nm-rootfs.sh). Tests marked
  ``nm_versions`` form the subset ``scripts/test.sh`` runs on 1.52 as well.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent / "integration"))
from ansible_run import Runner  # noqa: E402  (tests/integration: ansible-playbook against a lab host)

# Load vm.py under a distinctive module name: tests/kernel is no package, and a bare "vm" could
# clash with another directory's module of the same name.
_spec = importlib.util.spec_from_file_location("hostnet_kernel_vm", _HERE / "vm.py")
kvm = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = kvm
_spec.loader.exec_module(kvm)

KernelGuest = kvm.KernelGuest
GUEST_NAME = os.environ.get("HOSTNET_KERNEL_GUEST", "kvm1")
START_TIMEOUT = float(os.environ.get("HOSTNET_KERNEL_START_TIMEOUT", "90"))

# Host files a misbehaving guest would most likely write (NM in the guest writes all of them).
WATCHED_FILES = ["/etc/resolv.conf", "/etc/hostname"]
WATCHED_DIRS = ["/etc/NetworkManager/system-connections", "/var/lib/NetworkManager",
                "/etc/NetworkManager/conf.d"]

_session_timings: dict[str, float] = {}


def _watched_roots() -> list[str]:
    """The host's / and, for a guest of another NetworkManager, the root filesystem it runs on."""
    rootfs = KernelGuest(GUEST_NAME).rootfs() if not kvm.unavailable_reason() else None
    return ["/"] + ([rootfs] if rootfs else [])


def host_state() -> dict[str, str]:
    """md5 of WATCHED_FILES and a listing (name + md5) of WATCHED_DIRS on the host, under each of
    _watched_roots()."""
    state = {}
    roots = _watched_roots()
    for f in (os.path.join(r, w.lstrip("/")) for r in roots for w in WATCHED_FILES):
        try:
            state[f] = hashlib.md5(Path(f).read_bytes()).hexdigest()
        except OSError as exc:
            state[f] = f"<{exc.__class__.__name__}>"
    for d in (os.path.join(r, w.lstrip("/")) for r in roots for w in WATCHED_DIRS):
        p = Path(d)
        if not p.is_dir():
            state[d] = "<missing>"
            continue
        entries = []
        for e in sorted(p.iterdir()):
            digest = hashlib.md5(e.read_bytes()).hexdigest() if e.is_file() else "-"
            entries.append(f"{e.name}:{digest}")
        state[d] = " ".join(entries)
    return state


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "kernel: needs the user-mode-linux guest of tests/kernel (root, user-mode-linux installed)")
    config.addinivalue_line(
        "markers",
        "nm_versions: in the subset run on every NetworkManager version (HNLAB_NM=1.52), chosen for "
        "what differs between versions")


def pytest_collection_modifyitems(config, items):
    reason = None   # looked up once, and only if a kernel test was collected
    for item in items:
        if _HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.kernel)
        if item.get_closest_marker("kernel"):
            if reason is None:
                reason = kvm.unavailable_reason() or ""
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"kernel tier unavailable: {reason}"))


@pytest.fixture(scope="session")
def host_state_before() -> dict[str, str]:
    return host_state()


@pytest.fixture(name="host_state")
def host_state_fixture():
    """The host_state() function itself, to take a fingerprint after the guest did things."""
    return host_state


@pytest.fixture(scope="session")
def kernel_guest(host_state_before):
    """The session's UML guest (started once, stopped at session end)."""
    reason = kvm.unavailable_reason()
    if reason:
        pytest.skip(f"kernel tier unavailable: {reason}")

    # pytest runs fixture teardown on Ctrl-C, but SIGTERM would kill it outright and leave the
    # guest running: turn SIGTERM into KeyboardInterrupt while the guest is up.
    def _on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old_term = signal.signal(signal.SIGTERM, _on_term)
    guest = KernelGuest(GUEST_NAME)
    try:
        guest.start(timeout=START_TIMEOUT)
        _session_timings.update({f"guest {k}": v for k, v in guest.timings.items()})
        yield guest
    finally:
        guest.stop()
        _session_timings["guest stop"] = guest.timings.get("stop", 0.0)
        signal.signal(signal.SIGTERM, old_term)


@pytest.fixture
def clean_guest(kernel_guest):
    """The session guest, reset to a clean lab before the test."""
    kernel_guest.reset()
    return kernel_guest


@pytest.fixture(scope="module")
def leave_the_guest_clean(kernel_guest):
    """For a module whose tests change the guest (``usefixtures`` in its ``pytestmark``): the guest
    is reset after the module's last test, since other kernel tests expect a pristine guest (no
    bond, VLAN, VRF, MACsec or profile left)."""
    yield
    kernel_guest.reset()


@pytest.fixture
def guest(clean_guest):
    """The session guest, reset before the test (``clean_guest``)."""
    return clean_guest


@pytest.fixture
def runner(clean_guest):
    """An ansible-playbook runner (tests/integration/ansible_run.py) against the clean guest."""
    return Runner(clean_guest)


def pytest_terminal_summary(terminalreporter):
    if _session_timings:
        parts = ", ".join(f"{k} {v:.2f}s" for k, v in _session_timings.items())
        terminalreporter.write_line(f"kernel tier (NetworkManager {KernelGuest(GUEST_NAME).nm}): {parts}")
