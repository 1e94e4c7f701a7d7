# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The running NetworkManager's version and what it can do, as plain data.

Read once per run with the rest of the snapshot (the manager's ``Version``
and ``VersionInfo`` properties). Where NetworkManager advertises a behaviour
as a capability bit of ``VersionInfo``, that bit decides (distributions
backport fixes without the version number moving); elsewhere the version
does, from the release that introduced the behaviour (NetworkManager's NEWS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence, Tuple

from .errors import DependencyError

#: The oldest NetworkManager this collection supports (Debian 12's 1.42, RHEL 9.2's 1.42).
MINIMUM: Tuple[int, int] = (1, 42)
#: Releases whose checkpoint rollback is unsafe (NetworkManager's fixes in 1.44.2 and 1.46.0).
_ROLLBACK_CRASH = "can crash when it rolls back a checkpoint with a device deleted and re-created inside it"
REFUSED = {(1, 44, 0): _ROLLBACK_CRASH, (1, 44, 1): _ROLLBACK_CRASH}
#: NM_VERSION_INFO_CAPABILITY_SYNC_ROUTE_WITH_TABLE: Reapply and deactivation remove the routes
#: NetworkManager added in tables other than main (NetworkManager 1.52, and backports).
CAP_SYNC_ROUTE_WITH_TABLE = 0
#: IP4Config/IP6Config ``AddressData``/``RouteData`` hold at most this many entries from 1.46 on.
DBUS_EXPORT_CAP = 100


@dataclass(frozen=True)
class NmVersion:
    """``release``: (major, minor, micro), e.g. ``(1, 52, 1)``; ``text``: the
    ``Version`` property as NM gives it; ``capabilities``: the ``VersionInfo``
    words after the first (a bit field, bit N in word N // 32)."""

    release: Tuple[int, int, int]
    text: str = ""
    capabilities: Tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str, info: Sequence[Any] = ()) -> "NmVersion":
        """From ``Version`` (``"1.52.1"``, ``"1.46.0-3.el9"``) and ``VersionInfo``
        (``[major << 16 | minor << 8 | micro, capability words...]``, NM >= 1.42;
        empty before). ``VersionInfo``'s first word wins when present."""
        words = [int(w) for w in info]
        if words:
            release = (words[0] >> 16, (words[0] >> 8) & 0xFF, words[0] & 0xFF)
        else:
            numbers = [int(n) for n in re.findall(r"\d+", text.split("-")[0])[:3]]
            release = tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[assignment]
        return cls(release, text or "%d.%d.%d" % release, tuple(words[1:]))

    def at_least(self, major: int, minor: int, micro: int = 0) -> bool:
        """Whether this release is ``major.minor.micro`` or newer."""
        return self.release >= (major, minor, micro)

    def capability(self, bit: int) -> bool:
        """Whether ``VersionInfo`` sets capability ``bit`` (NMVersionInfoCapability)."""
        word = bit // 32
        return word < len(self.capabilities) and bool(self.capabilities[word] >> (bit % 32) & 1)

    @property
    def checkpoint_tracks_global_dns(self) -> bool:
        """A checkpoint can cover global DNS set over D-Bus (create flag 0x20, NM 1.48)."""
        return self.at_least(1, 48)

    @property
    def checkpoint_keeps_memory_profiles(self) -> bool:
        """A rollback leaves in-memory profiles in memory (NM 1.48; before, it wrote them to disk)."""
        return self.at_least(1, 48)

    @property
    def syncs_route_tables(self) -> bool:
        """Reapply removes the routes NM added in tables other than main
        (capability bit 0); before it, only a re-activation does."""
        return self.capability(CAP_SYNC_ROUTE_WITH_TABLE)

    @property
    def reapply_keeps_external(self) -> bool:
        """Reapply's ``PRESERVE_EXTERNAL_IP`` flag keeps the addresses and
        routes of others and nothing else (NM 1.52 in the lab; on 1.42 it
        also drops the profile's own static IPv6 addresses)."""
        return self.at_least(1, 52)

    @property
    def update_takes_version_id(self) -> bool:
        """``Update2`` accepts ``version-id`` and refuses a profile changed since it was read (NM 1.44)."""
        return self.at_least(1, 44)

    @property
    def caps_ip_export(self) -> bool:
        """IP4Config/IP6Config export at most :data:`DBUS_EXPORT_CAP` addresses and routes (NM 1.46)."""
        return self.at_least(1, 46)

    def check_supported(self) -> None:
        """Raises :class:`~.errors.DependencyError` when older than :data:`MINIMUM`,
        or a release in :data:`REFUSED`."""
        if self.release in REFUSED:
            raise DependencyError(
                "NetworkManager %s on this host %s; nothing was changed. Upgrade NetworkManager to %s or later"
                % (self.text, REFUSED[self.release], "1.44.2"))
        if self.release[:2] < MINIMUM:
            raise DependencyError(
                "NetworkManager %s on this host is older than %d.%d, the oldest hostnet.nm supports; "
                "nothing was changed. Upgrade NetworkManager (Debian 12, Ubuntu 24.04 and RHEL 9.2 or later "
                "ship a supported one)" % ((self.text,) + MINIMUM))
