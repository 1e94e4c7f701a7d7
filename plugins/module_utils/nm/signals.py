# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager's D-Bus signals, for a process that waits for changes
(the reconciler agent).

:class:`Watcher` opens its own connection to the system bus (with the same
library as :class:`~.dbus.Bus`), asks the bus daemon for every signal
NetworkManager sends (``PropertiesChanged`` of devices, IP configurations,
active connections and the manager itself, ``StateChanged``, a profile's
``Updated``, ``ConnectionAdded``/``Removed``...) and hands them over in
batches: :meth:`Watcher.wait` returns what arrived, or an empty list after
the timeout. It never sends anything to NetworkManager.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, NamedTuple, Optional, cast

from ..errors import DependencyError
from ..nmconst import NM_BUS
from .dbus import CALL_TIMEOUT, disconnect, load_library, system_bus_address, unwrap

BUS_NAME = "org.freedesktop.DBus"
BUS_PATH = "/org/freedesktop/DBus"
MATCH_RULE = "type='signal',sender='%s'" % NM_BUS


class Signal(NamedTuple):
    """One signal: ``path`` (object), ``interface``, ``member`` and
    ``changed`` (for ``PropertiesChanged``, the properties and their new
    values as plain Python; else ``{}``)."""

    path: str
    interface: str
    member: str
    changed: Dict[str, Any]


class Watcher:
    """Signals of NetworkManager on the system bus at ``address`` (default
    as :class:`~.dbus.Bus`).

    Raises:
        DependencyError: no D-Bus library, or the bus cannot be reached.
    """

    def __init__(self, address: Optional[str] = None) -> None:
        self._lib, aio, self.library = load_library()
        self.address = system_bus_address(address)
        self.loop = asyncio.new_event_loop()
        self._queue: List[Signal] = []
        self._event: Optional[asyncio.Event] = None

        async def _connect() -> Any:
            bus = await aio.MessageBus(bus_address=self.address).connect()
            bus.add_message_handler(self._on_message)
            reply = await bus.call(self._lib.Message(destination=BUS_NAME, path=BUS_PATH, interface=BUS_NAME,
                                                     member="AddMatch", signature="s", body=[MATCH_RULE]))
            if reply.message_type == self._lib.MessageType.ERROR:
                raise DependencyError("the bus refused the signal subscription: %s" % (reply.body,))
            self._event = asyncio.Event()
            return bus
        try:
            self._bus = self.loop.run_until_complete(asyncio.wait_for(_connect(), CALL_TIMEOUT))  # never a hang
        except DependencyError:
            self.loop.close()
            raise
        except Exception as exc:  # the libraries raise plain Exception subclasses here
            self.loop.close()
            raise DependencyError("cannot watch NetworkManager on the D-Bus system bus at %s: %s" % (
                self.address, exc or type(exc).__name__))

    def _on_message(self, msg: Any) -> None:
        if msg.message_type != self._lib.MessageType.SIGNAL or msg.sender == BUS_NAME:
            return
        changed: Dict[str, Any] = {}
        if msg.member == "PropertiesChanged" and len(msg.body) >= 2 and isinstance(msg.body[1], dict):
            changed = unwrap(msg.body[1])
        self._queue.append(Signal(msg.path or "", msg.interface or "", msg.member or "", changed))
        if self._event is not None:
            self._event.set()

    @property
    def connected(self) -> bool:
        """Whether the connection to the bus is still up."""
        return bool(getattr(self._bus, "connected", True))

    def wait(self, timeout: float) -> List[Signal]:
        """The signals received since the last call, waiting up to
        ``timeout`` seconds for the first one; ``[]`` when none came.

        Raises:
            DependencyError: the connection to the bus is gone (reconnect).
        """
        if not self.connected:
            raise DependencyError("the connection to the D-Bus system bus at %s closed" % self.address)
        event = cast(asyncio.Event, self._event)  # made by __init__, inside the loop

        async def _wait() -> None:
            if not self._queue and timeout > 0:
                event.clear()
                try:
                    await asyncio.wait_for(event.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
            else:
                await asyncio.sleep(0)  # let queued messages be dispatched
        self.loop.run_until_complete(_wait())
        out, self._queue = self._queue, []
        return out

    def close(self) -> None:
        """Disconnect and close the loop."""
        disconnect(self._bus, self.loop)
