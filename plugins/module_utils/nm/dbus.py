# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one seam between the core and D-Bus.

Code against the dbus-next API; use its maintained fork dbus-fast when it is
installed (same API), else dbus-next. ``HOSTNET_NM_DBUS_LIBRARY=dbus_next``
(or ``dbus_fast``) forces one, for tests of both.

Everything above this module sees plain Python values: :func:`unwrap` turns
D-Bus variants into ints, strings, lists and dicts; writes are wrapped with
explicit signatures by the caller (:class:`Variant`). Calls run on one asyncio
loop owned by :class:`Bus`; :meth:`Bus.gather` sends many calls at once so a
read costs one round trip of latency, not one per object.

Every call is bounded: a reply that does not come within its timeout, or a
connection the bus closed (dbus-daemon drops a client that sends a message
it refuses, such as a string that is not valid UTF-8; or dbus-daemon or
NetworkManager went away) ends the call with an :class:`NmError` at once,
never a hang. A new :class:`Bus` first waits, within a bound, until
NetworkManager owns its name and has finished starting up.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import time
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

from ..dbus_packages import LIBRARIES, PACKAGES
from ..errors import DependencyError, NmError
from ..nmconst import NM_BUS, NM_PATH

PROPS = "org.freedesktop.DBus.Properties"
#: calls in flight at once on one connection: dbus-daemon allows 128 pending replies per
#: connection (max_replies_per_connection); beyond that it falls behind, the socket fills and the
#: library's send fails (dbus-fast 5.x: BlockingIOError) or stalls for good (Debian 12's 1.84)
MAX_IN_FLIGHT = 64
#: seconds a call waits for its reply (libdbus's own default: 25 s)
CALL_TIMEOUT = 25.0
#: seconds a new Bus waits for NetworkManager to own its name and finish starting up (at boot, after a restart)
READY_TIMEOUT = 30.0
DBUS_BUS, DBUS_PATH = "org.freedesktop.DBus", "/org/freedesktop/DBus"
#: errors NM's D-Bus interface gives while it is (re)starting: worth another try within READY_TIMEOUT
NOT_READY_ERRORS = frozenset({"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.UnknownMethod",
                              "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownInterface",
                              "org.freedesktop.DBus.Error.UnknownProperty", "org.freedesktop.DBus.Error.NoReply",
                              "org.freedesktop.DBus.Error.NameHasNoOwner"})


def load_library() -> Tuple[Any, Any, str]:
    """Import the D-Bus library: returns ``(base module, aio module, name)``.

    Raises:
        DependencyError: neither dbus-fast nor dbus-next is importable.
    """
    forced = os.environ.get("HOSTNET_NM_DBUS_LIBRARY", "")
    names = [forced] if forced else list(LIBRARIES)
    errors = []
    for name in names:
        try:
            return importlib.import_module(name), importlib.import_module(name + ".aio"), name
        except ImportError as exc:
            errors.append("%s: %s" % (name, exc))
    raise DependencyError("Failed to import the required Python library (dbus-fast or dbus-next) on this host's "
                          "Python. Install %s. (%s)" % (PACKAGES, "; ".join(errors)))


def library_name() -> str:
    """Name of the D-Bus library in use (``dbus_fast`` or ``dbus_next``)."""
    return load_library()[2]


def system_bus_address(address: Optional[str] = None) -> str:
    """``address``, else ``$DBUS_SYSTEM_BUS_ADDRESS``, else the standard
    system bus socket."""
    return address or os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or "unix:path=/run/dbus/system_bus_socket"


def unwrap(value: Any) -> Any:
    """A D-Bus value as plain Python: variants unwrapped, recursively;
    byte arrays (``ay``) stay ``bytes``."""
    if hasattr(value, "signature") and hasattr(value, "value") and not isinstance(value, (bytes, str)):
        return unwrap(value.value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


class Variant:
    """A value to send with an explicit D-Bus signature, e.g.
    ``Variant("aa{sv}", [{"address": Variant("s", "198.18.1.1"), ...}])``.
    Converted to the library's own Variant by :meth:`Bus.wrap`."""

    __slots__ = ("signature", "value")

    def __init__(self, signature: str, value: Any) -> None:
        self.signature = signature
        self.value = value

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, Variant) and (self.signature, self.value) == (other.signature, other.value)

    def __repr__(self) -> str:
        return "Variant(%r, %r)" % (self.signature, self.value)


class Call:
    """One method call: ``Call(path, interface, member, signature, body)``,
    to NetworkManager unless ``destination`` names another bus name;
    ``timeout`` (seconds) overrides the bus's :data:`CALL_TIMEOUT`."""

    __slots__ = ("path", "interface", "member", "signature", "body", "write", "destination", "timeout")

    def __init__(self, path: str, interface: str, member: str, signature: str = "",
                 body: Sequence[Any] = (), write: bool = False, destination: str = NM_BUS,
                 timeout: Optional[float] = None) -> None:
        self.path, self.interface, self.member = path, interface, member
        self.signature, self.body, self.write = signature, list(body), write
        self.destination, self.timeout = destination, timeout

    def __str__(self) -> str:
        return "%s.%s on %s" % (self.interface.rsplit(".", 1)[-1], self.member, self.path)


class Bus:
    """A connection to the system bus (or ``address``), speaking to
    NetworkManager.

    ``writes`` counts the mutating calls made (those built with
    ``write=True``): a no-op run must end with ``writes == 0``.
    ``timeout`` bounds each call (seconds); ``ready_timeout`` bounds the
    wait for NetworkManager to be ready (seconds, 0: do not wait).
    ``lost`` tells whether the bus closed the connection (then every call
    fails at once; :meth:`reopen` makes a new connection).
    ``plain`` turns the library's replies into plain values, as
    :func:`unwrap` does: dbus-fast's own ``unpack_variants`` (compiled,
    several times faster on the read of a host) where the library has it.

    Raises:
        DependencyError: no D-Bus library, no system bus, or NetworkManager
            not ready within ``ready_timeout``.
    """

    def __init__(self, address: Optional[str] = None, timeout: float = CALL_TIMEOUT,
                 ready_timeout: float = READY_TIMEOUT) -> None:
        self._lib, self._aio, self.library = load_library()
        self.address = system_bus_address(address)
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.writes = 0
        self.plain: Callable[[Any], Any] = getattr(self._lib, "unpack_variants", unwrap)
        self.write_log: List[str] = []

        async def _connect() -> Tuple[Any, Any]:
            # the bus object (and the future of its end) must be made inside the loop it runs on
            bus = await self._aio.MessageBus(bus_address=self.address).connect()
            return bus, asyncio.ensure_future(bus.wait_for_disconnect())
        try:
            self._bus, self._closed = self.loop.run_until_complete(
                asyncio.wait_for(_connect(), timeout))
        except (OSError, Exception) as exc:  # the libraries raise plain Exception subclasses here
            self.loop.close()
            raise DependencyError("cannot connect to the D-Bus system bus at %s: %s" % (
                self.address, exc or type(exc).__name__))
        if ready_timeout > 0:
            try:
                self.wait_ready(ready_timeout)
            except DependencyError:
                self.close()
                raise

    @property
    def lost(self) -> bool:
        """Whether the connection has ended (the bus closed it, or we did)."""
        return bool(self._closed.done())

    def reopen(self) -> "Bus":
        """A new connection to the same bus (e.g. to roll back after the bus
        dropped this one), with the same timeout; this one is closed."""
        self.close()
        return Bus(self.address, self.timeout, ready_timeout=self.timeout)

    def wait_ready(self, bound: float) -> None:
        """Wait until NetworkManager owns its bus name and its ``Startup``
        property is false (it has populated its D-Bus tree and finished
        activating at startup), retrying NM's not-ready errors
        (:data:`NOT_READY_ERRORS`) with a growing pause, for at most
        ``bound`` seconds.

        Raises:
            DependencyError: not ready within ``bound``, with the last reason.
        """
        deadline = time.monotonic() + bound
        pause = 0.1
        while True:
            why = self._not_ready()
            if not why:
                return
            if time.monotonic() + pause > deadline:
                raise DependencyError("NetworkManager is not ready on the system bus at %s after %g s: %s. Start "
                                      "NetworkManager (systemctl start NetworkManager) or run again once it has "
                                      "finished starting" % (self.address, bound, why))
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _not_ready(self) -> str:
        """Why NM cannot take calls yet ("" when it can)."""
        try:
            if not self.call(Call(DBUS_PATH, DBUS_BUS, "NameHasOwner", "s", [NM_BUS], destination=DBUS_BUS))[0]:
                return "no process owns %s (NetworkManager is not running)" % NM_BUS
            if self.get(NM_PATH, NM_BUS, "Startup"):
                return "NetworkManager is still starting up (its Startup property is true)"
            return ""
        except NmError as exc:
            if exc.dbus_error in NOT_READY_ERRORS:
                return exc.message
            raise DependencyError(exc.message)

    # -- plumbing
    def wrap(self, value: Any) -> Any:
        """Our :class:`Variant` (nested in dicts/lists) as the library's."""
        if isinstance(value, Variant):
            return self._lib.Variant(value.signature, self.wrap(value.value))
        if isinstance(value, dict):
            return {k: self.wrap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.wrap(v) for v in value]
        return value

    async def _call(self, call: Call) -> List[Any]:
        if call.write:
            self.writes += 1
            self.write_log.append("%s.%s %s" % (call.interface.rsplit(".", 1)[-1], call.member, call.path))
        if self.lost:
            raise self._lost_error(call)
        try:
            msg = self._lib.Message(destination=call.destination, path=call.path, interface=call.interface,
                                    member=call.member, signature=call.signature, body=self.wrap(call.body))
            pending = asyncio.ensure_future(self._bus.call(msg))
        except Exception as exc:  # the library refused to build the message (bad string, signature...)
            raise NmError("cannot send %s over D-Bus: %s: %s" % (call, type(exc).__name__, exc))
        timeout = self.timeout if call.timeout is None else call.timeout
        await asyncio.wait({pending, self._closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if not pending.done():
            pending.cancel()
            raise self._lost_error(call) if self.lost else NmError(
                "NetworkManager did not answer %s within %g s (D-Bus call timeout)" % (call, timeout))
        try:
            reply = pending.result()
        except (OSError, EOFError) as exc:   # the connection broke: no reply will come
            raise self._lost_error(call, exc)
        except Exception as exc:  # the library failed to marshal the message while sending it
            raise NmError("cannot send %s over D-Bus: %s: %s" % (call, type(exc).__name__, exc))
        if reply.message_type == self._lib.MessageType.ERROR:
            text = reply.body[0] if reply.body else ""
            raise NmError("NetworkManager: %s failed: %s (%s)" % (call, text, reply.error_name),
                          dbus_error=reply.error_name or "")
        return list(reply.body)

    def _lost_error(self, call: Call, exc: Optional[BaseException] = None) -> NmError:
        if exc is None and self._closed.done() and not self._closed.cancelled():
            exc = self._closed.exception()
        detail = "%s: %s" % (type(exc).__name__, exc) if exc else "no reply will come"
        return NmError("the D-Bus connection to the system bus was closed during %s (%s): the bus drops a client "
                       "that sends a message it refuses (a string with a NUL or that is not valid UTF-8), or "
                       "dbus-daemon stopped" % (call, detail))

    def run(self, coro: Any) -> Any:
        """Run a coroutine on this bus's loop."""
        return self.loop.run_until_complete(coro)

    def call(self, call: Call) -> List[Any]:
        """Make one call; returns the reply body (plain values).

        Raises:
            NmError: NetworkManager answered with a D-Bus error.
        """
        reply: List[Any] = self.plain(self.run(self._call(call)))
        return reply

    def gather(self, calls: Iterable[Call], return_errors: bool = False, raw: bool = False) -> List[Any]:
        """Send many calls at once (at most :data:`MAX_IN_FLIGHT` unanswered at a
        time) and wait for all replies (in order).

        With ``return_errors`` a failed call yields its :class:`NmError`
        instead of raising; with ``raw`` the replies keep the library's
        variants (to send settings back with their own signatures)."""
        async def _all() -> List[Any]:
            slots = asyncio.Semaphore(MAX_IN_FLIGHT)   # made inside the loop (Python 3.9)

            async def bounded(call: Call) -> List[Any]:
                async with slots:
                    return await self._call(call)
            replies: List[Any] = await asyncio.gather(*(bounded(c) for c in calls), return_exceptions=return_errors)
            return replies
        out = []
        for item in self.run(_all()):
            if isinstance(item, BaseException):
                if not (return_errors and isinstance(item, NmError)):
                    raise item
                out.append(item)
            else:
                out.append(item if raw else self.plain(item))
        return out

    def get(self, path: str, interface: str, prop: str) -> Any:
        """One property's value."""
        return self.call(Call(path, PROPS, "Get", "ss", [interface, prop]))[0]

    def close(self) -> None:
        """Disconnect and close the loop (no-op when already closed)."""
        if not self.loop.is_closed():
            disconnect(self._bus, self.loop)


def disconnect(bus: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Disconnect the library's message bus ``bus`` and close its ``loop``."""
    try:
        bus.disconnect()
        loop.run_until_complete(asyncio.sleep(0))
        for task in asyncio.all_tasks(loop):   # the end-of-connection future: collect it, no warning at exit
            task.cancel()
        loop.run_until_complete(asyncio.sleep(0))
    except Exception:  # noqa: BLE001 - a connection the bus already dropped may fail to disconnect; close anyway
        pass
    finally:
        loop.close()
