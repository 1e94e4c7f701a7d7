# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the running NetworkManager's version over D-Bus; what a version
can do is plain data in :mod:`..nmversion`."""

from __future__ import annotations

from ..nmconst import NM_IFACE, NM_PATH
from ..nmversion import NmVersion
from .dbus import PROPS, Bus, Call


def read_version(bus: Bus) -> NmVersion:
    """The manager's ``Version`` and ``VersionInfo`` in one wave (for a run that
    reads no snapshot; :func:`~.reader.read_snapshot` has them already)."""
    text, info = bus.gather([Call(NM_PATH, PROPS, "Get", "ss", [NM_IFACE, prop])
                             for prop in ("Version", "VersionInfo")], return_errors=True)
    return NmVersion.parse(text[0] if isinstance(text, list) else "", info[0] if isinstance(info, list) else [])
