# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What to probe: the ``verify`` option parsed into a :class:`ProbeSpec`, and
the controller's SSH session (:func:`parse_ssh_connection`). Pure: no socket
is opened here, so that checking the options and planning a run that changes
nothing never loads the probes themselves (:mod:`.probes`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, TypedDict

from .errors import shown

# bounds on the verify option: a typo (timeout: 600) must not hold a checkpoint open for an hour
MAX_TIMEOUT = 60.0
MAX_ATTEMPTS = 20


class Target(TypedDict):
    """A user target of the ``verify`` option: ``host`` (canonical address),
    ``port`` (TCP; ``None``: an ICMP echo), ``timeout`` (seconds)."""

    host: str
    port: Optional[int]
    timeout: float


# ------------------------------------------------------------------ the option
@dataclass
class ProbeSpec:
    """Which probes to run and how long each may take (the module option ``verify``).

    Attributes:
        gateway: probe the default gateway(s) of each address family.
        dns: probe every configured name server.
        dns_names: names (ASCII, e.g. ``"www.lab.test"``) that must resolve
            through each server; empty = only "the server answers".
        targets: :class:`Target` entries; hosts canonical (``2001:db8::1``), a
            link-local IPv6 host with its ``%iface``.
        controller: probe that the controller of the SSH session can still
            reach the host (see :func:`.probes.controller_address`). A change that
            moves the session's address on purpose (allow_management_change) turns it
            off: the controller's confirmed commit over the new address is
            then the proof.
        timeout: seconds per attempt; interval: seconds between attempts;
            attempts: tries per probe.
    """

    gateway: bool = True
    dns: bool = True
    dns_names: List[str] = field(default_factory=list)
    targets: List[Target] = field(default_factory=list)
    controller: bool = True
    timeout: float = 2.0
    interval: float = 0.5
    attempts: int = 3

    @classmethod
    def from_option(cls, value: Optional[Mapping[str, Any]]) -> "ProbeSpec":
        """Parse the ``verify`` option (``None`` = every default).

        Booleans may be Ansible's strings (``yes``, ``false``...), numbers may
        be numeric strings (templated values).

        Raises:
            ValueError: the first invalid key, named with its path
                (``verify.targets[1].port: ...``).
        """
        if value is None:
            return cls()
        if not isinstance(value, Mapping):
            raise ValueError("verify: expected a mapping of probe settings, got %s" % shown(value))
        keys = [f.name for f in fields(cls)]
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise ValueError("verify.%s: unknown key; expected one of %s" % (unknown[0], ", ".join(keys)))
        spec = cls()
        for key in ("gateway", "dns", "controller"):
            if key in value:
                setattr(spec, key, _bool("verify." + key, value[key]))
        if "timeout" in value:
            spec.timeout = _number("verify.timeout", value["timeout"], 0.0, MAX_TIMEOUT, open_low=True)
        if "interval" in value:
            spec.interval = _number("verify.interval", value["interval"], 0.0, MAX_TIMEOUT)
        if "attempts" in value:
            spec.attempts = int(_number("verify.attempts", value["attempts"], 1, MAX_ATTEMPTS, integer=True))
        spec.dns_names = [_dns_name("verify.dns_names[%d]" % i, n)
                          for i, n in enumerate(_list("verify.dns_names", value.get("dns_names")))]
        spec.targets = [_target("verify.targets[%d]" % i, t, spec.timeout)
                        for i, t in enumerate(_list("verify.targets", value.get("targets")))]
        return spec

    def budget(self) -> float:
        """The most seconds :func:`.probes.run_probes` can take: every probe runs
        concurrently, ``attempts`` tries of its timeout with ``interval``
        between them."""
        longest = max([self.timeout] + [t["timeout"] for t in self.targets])
        return self.attempts * longest + (self.attempts - 1) * self.interval

    def as_dict(self) -> Dict[str, Any]:
        """The spec as the ``verify`` option it came from, with every default filled in."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


_TRUE = ("yes", "on", "true", "1", "y", "t")
_FALSE = ("no", "off", "false", "0", "n", "f")


def _bool(path: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("%s: expected a boolean, got %s" % (path, shown(value)))


def _number(path: str, value: Any, low: float, high: float, open_low: bool = False,
            integer: bool = False) -> float:
    what = "a whole number" if integer else "a number of seconds"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError("%s: expected %s, got %s" % (path, what, shown(value)))
    if integer and number != int(number):
        raise ValueError("%s: expected %s, got %s" % (path, what, shown(value)))
    if number < low or (open_low and number == low) or number > high:
        raise ValueError("%s: %s is out of range, expected %s%s to %s" % (
            path, shown(value), "more than " if open_low else "", _fmt(low), _fmt(high)))
    return number


def _fmt(number: float) -> str:
    return "%g" % number


def _list(path: str, value: Any) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError("%s: expected a list, got %s" % (path, shown(value)))
    return list(value)


def _dns_name(path: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("%s: expected a host name, got %s" % (path, shown(value)))
    try:
        encode_dns_name(value.strip())
    except ValueError as exc:
        raise ValueError("%s: %s" % (path, exc))
    return value.strip()


def _target(path: str, value: Any, default_timeout: float) -> Target:
    if not isinstance(value, Mapping):
        raise ValueError("%s: expected a mapping with host, port and timeout, got %s" % (path, shown(value)))
    unknown = sorted(set(value) - {"host", "port", "timeout"})
    if unknown:
        raise ValueError("%s.%s: unknown key; expected host, port, timeout" % (path, unknown[0]))
    if "host" not in value:
        raise ValueError("%s.host: required (an IPv4 or IPv6 address)" % path)
    host = ip_literal("%s.host" % path, value["host"])
    port = value.get("port")
    if port is not None:
        port = int(_number("%s.port" % path, port, 1, 65535, integer=True))
    timeout = default_timeout
    if value.get("timeout") is not None:
        timeout = _number("%s.timeout" % path, value["timeout"], 0.0, MAX_TIMEOUT, open_low=True)
    return {"host": host, "port": port, "timeout": timeout}


def ip_literal(path: str, value: Any) -> str:
    """``value`` as a canonical address (``2001:db8::1``, ``fe80::1%eth1``).

    Raises:
        ValueError: not an address, a link-local IPv6 address without
            its ``%iface`` (it is ambiguous without one), or an
            ``%iface`` on any other address.
    """
    text = value.strip() if isinstance(value, str) else ""
    addr, _sep, scope = text.partition("%")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise ValueError("%s: expected an IPv4 or IPv6 address (host names are not resolved), got %s"
                         % (path, shown(value)))
    link_local = ip.version == 6 and ip.is_link_local
    if link_local and not scope:
        raise ValueError("%s: link-local address %s needs its interface, e.g. %s%%eth1" % (path, ip, ip))
    if scope and not link_local:
        raise ValueError("%s: %s: an %%interface goes only with an IPv6 link-local address" % (path, shown(value)))
    return "%s%%%s" % (ip, scope) if scope else str(ip)


def scoped(address: str, iface: str) -> str:
    """``address%iface`` for a link-local IPv6 address with an interface, else ``address``."""
    ip = ipaddress.ip_address(address)
    return "%s%%%s" % (ip, iface) if ip.version == 6 and ip.is_link_local and iface else str(ip)


class Controller(NamedTuple):
    """Where the controller's SSH session comes from and lands.

    ``client``: the controller's address as this host sees it (a jump host
    or NAT when there is one); ``server``: the local address sshd accepted
    the session on, the one the controller connects to again to confirm;
    ``port``: sshd's port (reported, not probed).
    """

    client: str
    server: str
    port: int


def parse_ssh_connection(value: str) -> Optional[Controller]:
    """``Controller`` from an ``SSH_CONNECTION`` value, or ``None``. An
    IPv4-mapped address (``::ffff:198.18.0.1``) becomes plain IPv4."""
    f = value.split()
    if len(f) != 4:
        return None
    try:
        client, server = (_unmapped(a) for a in (f[0], f[2]))
        port = int(f[3])
    except ValueError:
        return None
    return Controller(client, server, port) if 0 < port < 65536 else None


def _unmapped(text: str) -> str:
    addr, _sep, scope = text.partition("%")
    ip = ipaddress.ip_address(addr)
    if ip.version == 6 and ip.ipv4_mapped:
        return str(ip.ipv4_mapped)
    return scoped(str(ip), scope)


def encode_dns_name(name: str) -> bytes:
    """``name`` in DNS wire format (length-prefixed labels, then 0);
    ``"."`` is the root.

    Raises:
        ValueError: an empty or over-long label, or not ASCII.
    """
    text = name.rstrip(".")
    out = b""
    for label in text.split(".") if text else []:
        raw = label.encode("ascii", "strict") if label.isascii() else b""
        if not raw or len(raw) > 63:
            raise ValueError("%s is not a valid DNS name (label %s)" % (shown(name), shown(label)))
        out += bytes([len(raw)]) + raw
    if len(out) + 1 > 255:
        raise ValueError("%s is not a valid DNS name (longer than 255 bytes)" % shown(name))
    return out + b"\0"
