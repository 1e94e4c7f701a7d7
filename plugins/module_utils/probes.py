# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connectivity probes, run on the managed host after a change is applied to
decide whether to keep it (DESIGN.md §4).

Probe kinds, all with the standard library (no subprocess, no D-Bus):

* ``gateway``: each default gateway of table 254 answers an ICMP echo, or
  (IPv4) has a complete neighbour entry; a family without a default route
  fails at once with ``no IPv4 default route in table 254``.
* ``dns``: each configured name server answers a real DNS query over UDP;
  any well-formed reply counts (REFUSED too); with ``dns_names``, each name
  must resolve (NOERROR with an answer) through each server.
* ``tcp`` / ``icmp``: user targets, a TCP connect or an ICMP echo.
* ``controller``: the SSH session's addresses still work (see
  :func:`controller_address`).

Every probe has ``attempts`` tries of at most ``timeout`` seconds,
``interval`` seconds apart; probes run concurrently, so the whole run takes
at most :meth:`ProbeSpec.budget` seconds (plus scheduling slack) however
many probes there are.
:func:`compare_with_baseline` decides which failures block the change: only
those of probes that passed before it (or are new).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import select
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from .files import read_text
from .probe_spec import Controller, ProbeSpec, encode_dns_name, parse_ssh_connection, scoped

MAIN_TABLE = 254  # RT_TABLE_MAIN
DNS_PORT = 53

# route flags (linux/route.h, linux/ipv6_route.h)
RTF_UP = 0x0001
RTF_GATEWAY = 0x0002
RTF_REJECT = 0x0200
ATF_COM = 0x02  # /proc/net/arp: the entry is complete (has a link-layer address)

ICMP_ECHO_REQUEST = {4: 8, 6: 128}
ICMP_ECHO_REPLY = {4: 0, 6: 129}

DNS_RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
DNS_TYPE_A, DNS_TYPE_NS, DNS_TYPE_AAAA = 1, 2, 28

_GRACE = 0.5  # s a probe thread may overrun its own bound (scheduling) before it is reported as stuck

#: one probe attempt: given at most ``timeout`` seconds, returns (ok, detail, latency in s or None)
Check = Callable[[float], Tuple[bool, str, Optional[float]]]


# ------------------------------------------------------------- gateway discovery
def default_gateways(routes: Sequence[Mapping[str, Any]]) -> List[Tuple[str, str]]:
    """``(next hop, interface)`` of the default routes of table 254 in
    nmstate route dicts (``routes.running``: ``destination``,
    ``next-hop-address``, ``next-hop-interface``, ``metric``, ``table-id``;
    a missing or 0 table is the main table).

    Any metric, IPv4 then IPv6, each by metric; routes ``state: absent``
    and routes without a next hop (``default dev ppp0``) are left out.
    """
    found = []
    for route in routes:
        table = route.get("table-id") or MAIN_TABLE
        nh = route.get("next-hop-address") or ""
        if table != MAIN_TABLE or route.get("state") == "absent" or not nh:
            continue
        try:
            dest = ipaddress.ip_network(str(route.get("destination", "")), strict=False)
            hop = ipaddress.ip_address(nh.split("%")[0])
        except ValueError:
            continue
        if dest.prefixlen == 0 and not hop.is_unspecified:
            found.append((str(hop), str(route.get("next-hop-interface") or ""), int(route.get("metric") or 0)))
    return _order(found)


def gateways(routes: Sequence[Mapping[str, Any]]) -> List[str]:
    """The next hops of :func:`default_gateways`, a link-local one with its
    interface (``fe80::1%eth1``, usable as is by the probes)."""
    return [scoped(nh, iface) for nh, iface in default_gateways(routes)]


def _order(found: List[Tuple[str, str, int]]) -> List[Tuple[str, str]]:
    """IPv4 before IPv6, lowest metric first, each (next hop, interface) once."""
    out: List[Tuple[str, str]] = []
    for nh, iface, _metric in sorted(found, key=lambda r: (ipaddress.ip_address(r[0]).version, r[2])):
        if (nh, iface) not in out:
            out.append((nh, iface))
    return out


def parse_proc_route(text: str, byteorder: str = sys.byteorder) -> List[Tuple[str, str, int]]:
    """Default routes with a gateway in ``/proc/net/route`` as
    ``(next hop, interface, metric)``.

    The file lists the main table only (the kernel's fib_route_seq_show),
    which is what we want. Addresses are 32-bit words printed in host byte
    order (``0101A8C0`` is 192.168.1.1 on a little-endian host); unreachable
    and prohibit routes (RTF_REJECT) are left out.
    """
    out = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 8:
            continue
        try:
            dest, gw, flags, metric, mask = (int(f[1], 16), int(f[2], 16), int(f[3], 16), int(f[6]),
                                             int(f[7], 16))
        except ValueError:
            continue
        if dest or mask or not gw or flags & RTF_REJECT or flags & (RTF_UP | RTF_GATEWAY) != RTF_UP | RTF_GATEWAY:
            continue
        out.append((socket.inet_ntoa(gw.to_bytes(4, byteorder)), f[0], metric))  # type: ignore[arg-type]
    return out


def parse_proc_ipv6_route(text: str) -> List[Tuple[str, str, int]]:
    """Default routes with a next hop in ``/proc/net/ipv6_route`` as
    ``(next hop, interface, metric)``.

    Columns: destination, prefix length, source, source prefix, next hop,
    metric, refcount, use, flags, device; addresses are 32 hex digits in
    network order. Caveat: unlike the IPv4 file this one lists every table
    and has no table column, so a ``::/0`` of a policy table shows up too.
    """
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 10 or len(f[0]) != 32 or len(f[4]) != 32:
            continue
        try:
            plen, metric, flags = int(f[1], 16), int(f[5], 16), int(f[8], 16)
            nh = ipaddress.IPv6Address(bytes.fromhex(f[4]))
        except ValueError:
            continue
        if int(f[0], 16) or plen or nh.is_unspecified or flags & RTF_REJECT or not flags & RTF_UP:
            continue
        out.append((str(nh), f[9], metric))
    return out


def read_default_gateways(proc: str = "/proc") -> List[Tuple[str, str]]:
    """``(next hop, interface)`` of the default routes in the main table,
    from ``/proc/net/route`` and ``/proc/net/ipv6_route``; IPv4 first, then
    by metric. ``[]`` when there is none, at once: no netlink query (whose
    behaviour changed with strict checking), no retry loop.

    An IPv4 multipath default route shows its first next hop only (the
    file's format); see :func:`parse_proc_ipv6_route` for the IPv6 caveat.
    Prefer :func:`default_gateways` on route data with table ids when the
    caller has it.
    """
    found = parse_proc_route(read_text(os.path.join(proc, "net", "route")))
    found += parse_proc_ipv6_route(read_text(os.path.join(proc, "net", "ipv6_route")))
    return _order(found)


def parse_proc_arp(text: str) -> Dict[Tuple[str, str], str]:
    """Complete IPv4 neighbour entries of ``/proc/net/arp``:
    ``{(address, interface): link-layer address}``."""
    out = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        try:
            if len(f) >= 6 and int(f[2], 16) & ATF_COM and f[3] != "00:00:00:00:00:00":
                out[(f[0], f[5])] = f[3]
        except ValueError:
            continue
    return out


# ------------------------------------------------------------------ controller
def controller_address(environ: Optional[Mapping[str, str]] = None, proc: str = "/proc",
                       pid: Optional[int] = None) -> Optional[Controller]:
    """The SSH session that runs us, from ``SSH_CONNECTION`` (``client_ip
    client_port server_ip server_port``), or ``None`` (a local run, or a
    value that does not parse).

    With ``become`` sudo drops ``SSH_CONNECTION`` from the environment, so
    when ``environ`` (default ``os.environ``) lacks it the parent processes
    (``proc``/PID/environ, from ``pid``'s parent up) are searched: the
    login shell under sshd has it.

    What proves the controller can still reach us, since the host cannot
    connect back to it (the controller runs no server): the ``server``
    address is still configured and usable here (:func:`address_usable`:
    not removed, not tentative, not DAD-failed), a route from it to
    ``client`` exists (``connect()`` of a UDP socket, so policy rules on the
    source count), and ``client`` answers an ICMP echo sent from ``server``
    or, on-link IPv4, has a complete neighbour entry. These are three
    probes (``controller-address:``, ``-route:``, ``-echo:``), baselined
    one by one: a controller that drops ICMP (a laptop's firewall) does not
    hide a removed address. Once ``server`` is gone, the route and echo
    probes use any source, so that only the address probe reports it.
    """
    value = (os.environ if environ is None else environ).get("SSH_CONNECTION")
    if value is None:
        value = _ancestor_env("SSH_CONNECTION", proc, os.getpid() if pid is None else pid)
    return parse_ssh_connection(value or "")


def _ancestor_env(name: str, proc: str, pid: int) -> Optional[str]:
    for _level in range(32):  # a bounded walk: sudo, sh and the login shell are a few levels up
        ppid = _ppid(proc, pid)
        if ppid <= 1:
            return None
        pid = ppid
        try:
            with open(os.path.join(proc, str(pid), "environ"), "rb") as handle:
                entries = handle.read().split(b"\0")
        except OSError:
            continue
        for entry in entries:
            key, _sep, val = entry.partition(b"=")
            if key.decode("ascii", "replace") == name:
                return val.decode("ascii", "replace")
    return None


def _ppid(proc: str, pid: int) -> int:
    for line in read_text(os.path.join(proc, str(pid), "status")).splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- ICMP packets
def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's
    complement sum of 16-bit big-endian words, an odd byte padded with 0."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def echo_request(family: int, ident: int, seq: int, payload: bytes) -> bytes:
    """An ICMP (``family`` 4) or ICMPv6 (6) echo request.

    IPv4 carries its checksum; for ICMPv6 the checksum covers a pseudo
    header with the source address, which the kernel picks, so it is left
    0 and the kernel fills it in (it always does on ICMPv6 sockets).
    """
    header = struct.pack("!BBHHH", ICMP_ECHO_REQUEST[family], 0, 0, ident, seq)
    if family == 6:
        return header + payload
    return struct.pack("!BBHHH", ICMP_ECHO_REQUEST[family], 0, inet_checksum(header + payload), ident, seq) + payload


def parse_echo_reply(data: bytes, family: int, ip_header: bool = False) -> Optional[Tuple[int, int, bytes]]:
    """``(ident, seq, payload)`` of an echo reply, or ``None`` for anything
    else (another ICMP type, too short, bad IPv4 checksum).

    ``ip_header``: the data starts with an IPv4 header (raw IPv4 sockets).
    """
    if ip_header:
        if len(data) < 20:
            return None
        data = data[(data[0] & 0x0F) * 4:]
    if len(data) < 8 or data[0] != ICMP_ECHO_REPLY[family] or data[1] != 0:
        return None
    if family == 4 and inet_checksum(data) != 0:
        return None
    ident, seq = struct.unpack("!HH", data[4:8])
    return ident, seq, data[8:]


_seq_lock = threading.Lock()
_seq = [int.from_bytes(os.urandom(2), "big")]


def _next_seq() -> int:
    with _seq_lock:
        _seq[0] = (_seq[0] + 1) & 0xFFFF
        return _seq[0]


def icmp_socket(family: int) -> Tuple[socket.socket, bool]:
    """An ICMP socket and whether it is raw: the unprivileged "ping" datagram
    socket when ``net.ipv4.ping_group_range`` allows it, else a raw one
    (we run as root; the default range ``1 0`` allows nobody)."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    proto = socket.IPPROTO_ICMP if family == 4 else socket.IPPROTO_ICMPV6
    try:
        return socket.socket(af, socket.SOCK_DGRAM, proto), False
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EPROTONOSUPPORT, errno.ESOCKTNOSUPPORT):
            raise
    return socket.socket(af, socket.SOCK_RAW, proto), True


def ping(host: str, timeout: float, source: Optional[str] = None) -> Tuple[bool, str, Optional[float]]:
    """One ICMP echo to ``host`` (``fe80::1%eth1`` allowed), from ``source``
    if given; returns (answered, detail, round trip in s or None).

    Raises:
        OSError: the socket could not be made, bound or sent from (no
            route, address not local...): callers turn it into a detail.
    """
    family, addr = _sockaddr(host, 0)
    sock, raw = icmp_socket(family)
    try:
        if source:
            sock.bind(_sockaddr(source, 0)[1])
        ident, seq, token = int.from_bytes(os.urandom(2), "big"), _next_seq(), os.urandom(16)
        start = time.monotonic()
        sock.sendto(echo_request(family, ident, seq, token), addr)
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                return False, "no echo reply from %s within %gs" % (host, timeout), None
            data, peer = sock.recvfrom(65535)
            reply = parse_echo_reply(data, family, ip_header=raw and family == 4)
            # a ping socket's id is the kernel's, so match the sequence and our random payload;
            # a raw socket sees every reply on the host, hence also the id and the peer
            if reply is None or reply[1] != seq or reply[2] != token or (raw and reply[0] != ident):
                continue
            if raw and ipaddress.ip_address(peer[0].split("%")[0]) != ipaddress.ip_address(addr[0]):
                continue
            rtt = time.monotonic() - start
            return True, "echo reply from %s in %.1f ms" % (host, rtt * 1000), rtt
    finally:
        sock.close()


def _sockaddr(host: str, port: int) -> Tuple[int, Any]:
    """(4 or 6, socket address) of an address literal, with its scope id
    (the socket type only matters to getaddrinfo, not to the address)."""
    info = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_DGRAM, 0, socket.AI_NUMERICHOST)[0]
    return (4 if info[0] == socket.AF_INET else 6), info[4]


# ----------------------------------------------------------------- DNS packets
def dns_query(ident: int, name: str, qtype: int) -> bytes:
    """A standard query (recursion desired) for ``name``/``qtype``, class IN."""
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + encode_dns_name(name) + struct.pack("!HH", qtype, 1)


def parse_dns_reply(data: bytes) -> Dict[str, Any]:
    """Header and question of a DNS reply: ``{"id": int, "rcode": int,
    "rcode_name": "NOERROR"..., "question": (name, qtype) or None,
    "answers": [rr type, ...], "truncated": bool}`` (the question's name
    lower case, without the final dot; ``""`` for the root).

    Raises:
        ValueError: not a well-formed reply (too short, not a response,
            a section that runs past the end).
    """
    if len(data) < 12:
        raise ValueError("%d bytes, shorter than a DNS header" % len(data))
    ident, flags, qdcount, ancount = struct.unpack("!HHHH", data[:8])
    if not flags & 0x8000:
        raise ValueError("not a response (QR bit clear)")
    pos, question = 12, None
    for _question in range(qdcount):
        name, pos = _read_name(data, pos)
        if pos + 4 > len(data):
            raise ValueError("question runs past the end")
        question = question or (name, struct.unpack("!H", data[pos:pos + 2])[0])
        pos += 4
    answers = []
    truncated = bool(flags & 0x0200)
    for _answer in range(ancount):
        try:
            _name, pos = _read_name(data, pos)
            if pos + 10 > len(data):
                raise ValueError("answer runs past the end")
            rtype, _class, _ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
            pos += 10 + rdlen
            if pos > len(data):
                raise ValueError("answer data runs past the end")
        except ValueError:
            if truncated:
                break  # a truncated reply may stop mid-record
            raise
        answers.append(rtype)
    rcode = flags & 0x000F
    return {"id": ident, "rcode": rcode, "rcode_name": DNS_RCODES.get(rcode, "RCODE%d" % rcode),
            "question": question, "answers": answers, "truncated": truncated}


def _read_name(data: bytes, pos: int) -> Tuple[str, int]:
    """A (possibly compressed) name at ``pos``: (name, position after it)."""
    labels: List[str] = []
    end, hops = -1, 0
    while True:
        if pos >= len(data):
            raise ValueError("name runs past the end")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data) or hops > 32:
                raise ValueError("bad compression pointer")
            end = pos + 2 if end < 0 else end
            pos, hops = ((length & 0x3F) << 8) | data[pos + 1], hops + 1
            continue
        if length & 0xC0:
            raise ValueError("bad label length %#x" % length)
        if length == 0:
            return ".".join(labels).lower(), (pos + 1 if end < 0 else end)
        labels.append(data[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length


def dns_check(server: str, timeout: float, name: Optional[str] = None) -> Tuple[bool, str, Optional[float]]:
    """One DNS probe of ``server`` (``fe80::53%eth1`` allowed), port 53/UDP.

    Without ``name``: a query for the root's NS; any well-formed reply with
    our id is proof of life, whatever its rcode (a resolver without upstream
    answers REFUSED). With ``name``: queries for its A and AAAA; it resolves
    when one reply is NOERROR with at least one answer record.
    Returns (ok, detail, latency in s or None).
    """
    family, addr = _sockaddr(server, DNS_PORT)
    sock = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        return _dns_exchange(sock, addr, server, timeout, name)
    except OSError as exc:  # ICMP port unreachable (ECONNREFUSED), no route...
        return False, "%s port %d: %s" % (server, DNS_PORT, _os_detail(exc)), None
    finally:
        sock.close()


def _dns_exchange(sock: socket.socket, addr: Any, server: str, timeout: float,
                  name: Optional[str]) -> Tuple[bool, str, Optional[float]]:
    # connected: the kernel drops datagrams from other peers and reports ICMP port unreachable
    sock.connect(addr)
    queries = {}
    for qtype in ((DNS_TYPE_A, DNS_TYPE_AAAA) if name else (DNS_TYPE_NS,)):
        ident = int.from_bytes(os.urandom(2), "big")
        queries[ident] = qtype
        sock.send(dns_query(ident, name or ".", qtype))
    start = time.monotonic()
    deadline, seen = start + timeout, []
    while queries:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            break
        try:
            reply = parse_dns_reply(sock.recv(65535))
        except ValueError:
            continue  # not well-formed: not an answer to us
        if reply["id"] not in queries or reply["question"] not in (None, (_qname(name), queries[reply["id"]])):
            continue
        del queries[reply["id"]]
        rtt = time.monotonic() - start
        if not name:
            return True, "%s answered (%s) in %.1f ms" % (server, reply["rcode_name"], rtt * 1000), rtt
        if reply["rcode"] == 0 and reply["answers"]:
            return True, "%s resolved %s (%d answer(s)) in %.1f ms" % (
                server, name, len(reply["answers"]), rtt * 1000), rtt
        seen.append(reply["rcode_name"] if reply["rcode"] else "NOERROR without answers")
    if seen:
        return False, "%s did not resolve %s: %s" % (server, name, ", ".join(sorted(set(seen)))), None
    return False, "no reply from %s within %gs" % (server, timeout), None


def _qname(name: Optional[str]) -> str:
    return (name or "").rstrip(".").lower()


# ------------------------------------------------------------- other checks
def tcp_check(host: str, port: int, timeout: float) -> Tuple[bool, str, Optional[float]]:
    """One TCP connect to ``host``:``port``; (ok, detail, connect time or None).
    The connection is closed at once, without sending anything."""
    where = _hostport(host, port)
    family, addr = _sockaddr(host, port)
    sock = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    start = time.monotonic()
    try:
        sock.connect(addr)
    except socket.timeout:
        return False, "no answer from %s within %gs" % (where, timeout), None
    except OSError as exc:
        return False, "connect to %s: %s" % (where, _os_detail(exc)), None
    finally:
        sock.close()
    rtt = time.monotonic() - start
    return True, "connected to %s in %.1f ms" % (where, rtt * 1000), rtt


def _hostport(host: str, port: int) -> str:
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def neighbour_check(host: str, iface: str = "", proc: str = "/proc") -> Optional[str]:
    """The link-layer address of a complete IPv4 neighbour entry for
    ``host`` (on ``iface``, if given), or ``None``. Note that the kernel
    keeps a STALE entry complete for a while after its owner went away."""
    for (ip, dev), lladdr in parse_proc_arp(read_text(os.path.join(proc, "net", "arp"))).items():
        if ip == host and (not iface or dev == iface):
            return "%s on %s" % (lladdr, dev)
    return None


def _gateway_check(nh: str, iface: str) -> Check:
    target = scoped(nh, iface)

    def check(timeout: float) -> Tuple[bool, str, Optional[float]]:
        try:
            ok, detail, rtt = ping(target, timeout)
        except OSError as exc:
            ok, detail, rtt = False, "echo to %s: %s" % (target, _os_detail(exc)), None
        if ok or ipaddress.ip_address(nh).version == 6:
            return ok, detail, rtt
        lladdr = neighbour_check(nh, iface)
        if lladdr:
            return True, "%s; neighbour entry complete (%s)" % (detail, lladdr), None
        return False, detail + "; no complete neighbour entry", None
    return check


def address_usable(address: str) -> Tuple[bool, str]:
    """Whether ``address`` is configured here and usable as a source:
    (usable, what was found). A ``bind()`` tells (it fails for an address
    that is missing, tentative or DAD-failed), unless ``ip_nonlocal_bind``
    lets it succeed for any address: then :func:`local_address` reads /proc."""
    family, addr = _sockaddr(address, 0)
    if _nonlocal_bind(family):
        ok = local_address(address)
        return ok, "%s is %sconfigured on this host (ip_nonlocal_bind is on: checked /proc)" % (
            address, "" if ok else "not ")
    sock = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        sock.bind(addr)
    except OSError as exc:
        why = "not configured on this host (or still tentative)" if exc.errno == errno.EADDRNOTAVAIL \
            else _os_detail(exc)
        return False, "the SSH session's address %s is %s" % (address, why)
    finally:
        sock.close()
    return True, "the SSH session's address %s is configured and usable" % address


def _address_check(address: str) -> Check:
    return lambda timeout: address_usable(address) + (None,)


# The route and echo checks use the session's address as their source while it is there, and
# any source once it is gone: the address probe reports that, the other two stay about the path.
def _route_check(client: str, server: str) -> Check:
    def check(timeout: float) -> Tuple[bool, str, Optional[float]]:
        family, addr = _sockaddr(client, 9)
        sock = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            if address_usable(server)[0]:
                sock.bind(_sockaddr(server, 0)[1])  # so that policy rules on the source count
            sock.connect(addr)  # a route lookup, nothing is sent
            source = sock.getsockname()[0]
        except OSError as exc:
            return False, "no usable route to the controller %s: %s" % (client, _os_detail(exc)), None
        finally:
            sock.close()
        return True, "route to the controller %s from %s" % (client, source), None
    return check


def _controller_echo(client: str, server: str) -> Check:
    def check(timeout: float) -> Tuple[bool, str, Optional[float]]:
        source = server if address_usable(server)[0] else None
        try:
            ok, detail, rtt = ping(client, timeout, source=source)
        except OSError as exc:
            ok, detail, rtt = False, "echo to %s: %s" % (client, _os_detail(exc)), None
        if not ok and ipaddress.ip_address(client.split("%")[0]).version == 4:
            lladdr = neighbour_check(client)
            if lladdr:
                return True, "%s; neighbour entry complete (%s)" % (detail, lladdr), None
        return ok, detail, rtt
    return check


def _nonlocal_bind(family: int) -> bool:
    name = "ipv4/ip_nonlocal_bind" if family == 4 else "ipv6/ip_nonlocal_bind"
    return read_text("/proc/sys/net/" + name).strip() not in ("", "0")


def local_address(address: str, proc: str = "/proc") -> bool:
    """Whether ``address`` is configured on this host and usable, from
    ``proc`` (IPv4: the LOCAL host entries of net/fib_trie; IPv6:
    net/if_inet6 without the tentative or DAD-failed flag). For when
    ``bind()`` cannot tell (``ip_nonlocal_bind`` on)."""
    want = ipaddress.ip_address(address.split("%")[0])
    if want.version == 4:
        last = ""
        for line in read_text(os.path.join(proc, "net", "fib_trie")).splitlines():
            words = line.split()
            if "|--" in words:
                last = words[-1]
            elif words[1:3] == ["host", "LOCAL"] and last and want in ipaddress.ip_network(last + words[0]):
                return True  # "/32 host LOCAL" under an address; "/8" under 127.0.0.0
        return False
    for line in read_text(os.path.join(proc, "net", "if_inet6")).splitlines():
        f = line.split()
        if len(f) >= 6 and ipaddress.IPv6Address(bytes.fromhex(f[0])) == want and not int(f[4], 16) & 0x48:
            return True  # 0x40 IFA_F_TENTATIVE, 0x08 IFA_F_DADFAILED
    return False


def _os_detail(exc: OSError) -> str:
    return (exc.strerror or str(exc)) if exc.errno else str(exc)


# ------------------------------------------------------------------- running
@dataclass
class Probe:
    """One planned probe: ``name`` (unique in a run), ``kind`` (gateway, dns,
    icmp, tcp, controller), ``target``; ``check`` is one attempt, or ``None``
    for a probe that fails at once with ``fail_detail`` (nothing to probe);
    ``timeout``: seconds per attempt."""

    name: str
    kind: str
    target: str
    check: Optional[Check]
    timeout: float
    fail_detail: str = ""


def plan_probes(spec: ProbeSpec, servers: Sequence[str], gateways: Sequence[Tuple[str, str]],
                controller: Optional[Sequence[Any]]) -> List[Probe]:
    """The probes :func:`run_probes` runs, each with a unique name (the first
    of a name wins). ``servers``: name servers; ``gateways``: ``(next hop,
    interface)`` of the default routes; ``controller``: ``(client, server)``
    of the SSH session, or ``None``."""
    out = _gateway_probes(spec, gateways) if spec.gateway else []
    if spec.dns:
        out += _dns_probes(spec, servers)
    out += _target_probes(spec)
    if spec.controller and controller:
        out += _controller_probes(spec, controller[0], controller[1])
    unique: Dict[str, Probe] = {}
    for probe in out:
        unique.setdefault(probe.name, probe)
    return list(unique.values())


def _gateway_probes(spec: ProbeSpec, gateways: Sequence[Tuple[str, str]]) -> List[Probe]:
    """One probe per default gateway; a family without one fails at once."""
    out: List[Probe] = []
    for family in (4, 6):
        mine = [(nh, i) for nh, i in gateways if ipaddress.ip_address(nh.split("%")[0]).version == family]
        if not mine:
            out.append(Probe("gateway:ipv%d" % family, "gateway", "", None, spec.timeout,
                             "no IPv%d default route in table %d" % (family, MAIN_TABLE)))
        for nh, iface in mine:
            addr, _sep, scope = nh.partition("%")
            target = scoped(addr, iface or scope)
            out.append(Probe("gateway:" + target, "gateway", target, _gateway_check(addr, iface or scope),
                             spec.timeout))
    return out


def _dns_probes(spec: ProbeSpec, servers: Sequence[str]) -> List[Probe]:
    """One probe per name server (and per name of ``dns_names``); none
    configured fails at once."""
    if not servers:
        return [Probe("dns", "dns", "", None, spec.timeout, "no name server configured")]
    names: List[Optional[str]] = list(spec.dns_names) or [None]
    return [Probe("dns:%s@%s" % (name, server) if name else "dns:" + server, "dns", server,
                  _bind_dns(server, name), spec.timeout) for server in servers for name in names]


def _target_probes(spec: ProbeSpec) -> List[Probe]:
    """The user's targets: an ICMP echo, or a TCP connect with a port."""
    out: List[Probe] = []
    for target in spec.targets:
        host, port = target["host"], target["port"]
        if port is None:
            out.append(Probe("icmp:" + host, "icmp", host, _bind_ping(host), target["timeout"]))
        else:
            out.append(Probe("tcp:" + _hostport(host, port), "tcp", _hostport(host, port),
                             _bind_tcp(host, port), target["timeout"]))
    return out


def _controller_probes(spec: ProbeSpec, client: str, server: str) -> List[Probe]:
    """The three probes of the controller's reach (see :func:`controller_address`)."""
    t = spec.timeout
    return [Probe("controller-address:" + server, "controller", server, _address_check(server), t),
            Probe("controller-route:" + client, "controller", client, _route_check(client, server), t),
            Probe("controller-echo:" + client, "controller", client, _controller_echo(client, server), t)]


def _bind_dns(server: str, name: Optional[str]) -> Check:
    return lambda timeout: dns_check(server, timeout, name)


def _bind_ping(host: str) -> Check:
    return lambda timeout: ping(host, timeout)


def _bind_tcp(host: str, port: int) -> Check:
    return lambda timeout: tcp_check(host, port, timeout)


def run_probes(spec: ProbeSpec, servers: Sequence[str], gateways: Sequence[Tuple[str, str]],
               controller: Optional[Sequence[Any]]) -> List[Dict[str, Any]]:
    """Run every probe of ``spec`` concurrently; one result per probe:
    ``{"name": "gateway:198.18.1.1", "kind": "gateway"|"dns"|"tcp"|"icmp"|"controller",
    "target": str, "ok": bool, "latency": s or None, "detail": str, "attempts": int}``.

    ``servers``: name servers (:func:`.verify.resolv_conf_servers`); ``gateways``:
    ``(next hop, interface)`` (:func:`read_default_gateways`); ``controller``:
    :class:`Controller` (or ``(client, server)``), ``None`` = not over SSH.

    A probe stops at its first success; it tries ``attempts`` times, each
    try bounded by its timeout, ``interval`` apart; the call returns within
    :meth:`ProbeSpec.budget` (+ a little scheduling slack). Network errors
    (no route, refused...) are failed attempts with the reason in
    ``detail``, never exceptions.
    """
    probes = plan_probes(spec, servers, gateways, controller)
    results: List[Optional[Dict[str, Any]]] = [None] * len(probes)
    start = time.monotonic()
    threads = []
    for i, probe in enumerate(probes):
        if probe.check is None:
            results[i] = _result(probe, False, probe.fail_detail, None, 0)
            continue
        thread = threading.Thread(target=_run_one, args=(probe, spec, results, i), daemon=True,
                                  name="probe " + probe.name)
        thread.start()
        threads.append((i, thread))
    for i, thread in threads:
        thread.join(max(0.0, start + spec.budget() + _GRACE - time.monotonic()))
        if results[i] is None:  # still running (a daemon thread, it cannot hold the module up)
            results[i] = _result(probes[i], False, "did not finish within %gs" % spec.budget(), None,
                                 spec.attempts)
    return [r for r in results if r is not None]


def _run_one(probe: Probe, spec: ProbeSpec, results: List[Optional[Dict[str, Any]]], index: int) -> None:
    detail = ""
    for attempt in range(1, spec.attempts + 1):
        began = time.monotonic()
        try:
            ok, detail, latency = probe.check(probe.timeout)  # type: ignore[misc]
        except OSError as exc:
            ok, detail, latency = False, _os_detail(exc), None
        except Exception as exc:  # a bug must fail the probe, not hang the run
            ok, detail, latency = False, "internal error: %r" % (exc,), None
        if ok:
            results[index] = _result(probe, True, detail, latency, attempt)
            return
        if attempt < spec.attempts:
            # a fast failure (an IPv6 address still in DAD, a route not there yet) may clear within the
            # attempt's time: wait it out rather than spend every attempt in the first milliseconds
            time.sleep(max(spec.interval, began + probe.timeout - time.monotonic()))
    results[index] = _result(probe, False, detail, None, spec.attempts)


def _result(probe: Probe, ok: bool, detail: str, latency: Optional[float], attempts: int) -> Dict[str, Any]:
    return {"name": probe.name, "kind": probe.kind, "target": probe.target, "ok": ok,
            "latency": None if latency is None else round(latency, 6), "detail": detail, "attempts": attempts}


def compare_with_baseline(before: Sequence[Mapping[str, Any]],
                          after: Sequence[Mapping[str, Any]]) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Judge the results after a change against those before it.

    Returns ``(results, blocking)``: every ``after`` result with
    ``"baseline"`` added (``"ok"``: passed before, ``"failed"``: failed
    before, ``"new"``: not probed before), and the failures that block the
    change: those of probes that passed before, or are new. A probe that
    failed before the change is reported, never blocking (DESIGN.md §4).
    Probes run before but not after (a gateway the change removed) are
    dropped: a family left without a default route has its own failing
    ``gateway:ipvN`` result.
    """
    was = {r["name"]: bool(r["ok"]) for r in before}
    results, blocking = [], []
    for r in after:
        out = dict(r)
        out["baseline"] = "new" if r["name"] not in was else ("ok" if was[r["name"]] else "failed")
        results.append(out)
        if not out["ok"] and out["baseline"] != "failed":
            blocking.append(out)
    return results, blocking
