# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the host name, once the network change is committed, and
verifying that the host reports it (see :mod:`..hostname` for why never
inside a checkpoint's window).

The static name goes through NetworkManager (``Settings.SaveHostname``: it
writes ``/etc/hostname`` or asks systemd-hostnamed), which then sets the
running name to it as well; a ``running`` name of the document is set after
that, with ``sethostname(2)`` in the host's UTS namespace (the kernel's call;
nmstate does the same). Imported only when there is a host name to write.
"""

from __future__ import annotations

import socket
import time
from typing import Dict, List

from ..errors import HostnetError, NmError, VerificationError, shown
from ..hostname import KEYS, HostName
from ..nmconst import SETTINGS_IFACE, SETTINGS_PATH
from .dbus import Bus, Call


def read(bus: Bus) -> Dict[str, str]:
    """``{"config", "running"}`` as the host reports them now: NetworkManager's
    ``Settings.Hostname`` (``""`` when there is no static name) and the
    kernel's (``gethostname(2)``)."""
    return {"config": str(bus.get(SETTINGS_PATH, SETTINGS_IFACE, "Hostname") or ""), "running": socket.gethostname()}


def write(bus: Bus, after: HostName, timeout: float) -> Dict[str, str]:
    """Set the keys of ``after`` and wait up to ``timeout`` seconds until the
    host reports each of them (:func:`read`); returns what it reports.

    Raises:
        NmError: NetworkManager refused the static name, or the kernel the running one.
        VerificationError: the host still reports another name after ``timeout`` seconds.
    """
    if "config" in after:
        try:
            bus.call(Call(SETTINGS_PATH, SETTINGS_IFACE, "SaveHostname", "s", [after["config"]], write=True))
        except HostnetError as exc:
            raise NmError("NetworkManager did not save the static host name %s: %s"
                          % (shown(after["config"]), exc.message))
        # NetworkManager sets the running name from the static one as it takes it: wait, so that it does not
        # overwrite the document's running name afterwards
        _wait(bus, {"config": after["config"]}, timeout)
    if "running" in after:
        try:
            socket.sethostname(after["running"])
        except OSError as exc:
            raise NmError("the kernel did not take the running host name %s: %s" % (shown(after["running"]), exc))
    wrong = _wait(bus, after, timeout)
    if wrong:
        raise VerificationError("the host does not report the host name it was given: %s" % "; ".join(wrong))
    return read(bus)


def _wait(bus: Bus, want: HostName, timeout: float) -> List[str]:
    """Poll :func:`read` until it reports ``want`` or ``timeout`` seconds
    pass; returns the mismatches left (``"config: desired 'a', actual 'b'"``)."""
    deadline = time.monotonic() + timeout
    while True:
        have = read(bus)
        wrong = ["%s: desired %s, actual %s" % (k, shown(want[k]), shown(have[k]))
                 for k in KEYS if k in want and want[k] != have[k]]
        if not wrong or time.monotonic() >= deadline:
            return wrong
        time.sleep(0.1)
