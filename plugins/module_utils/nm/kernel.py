# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel's addresses and routes, for where NetworkManager's D-Bus view is cut short.

From NetworkManager 1.46 on, an IP4Config/IP6Config object exports at most
100 addresses and 100 routes (and updates them at most about 3 times a
second); NetworkManager's own advice is to read netlink for more. This reads
the kernel through iproute2's JSON output (``ip -json``), with fixed
arguments: nothing from the desired state reaches the command line. The
command runs through the module's ``run_command`` (Ansible's way to run a
program on the host, no shell), given once by :func:`use_runner`.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ..errors import DependencyError
from ..model import ROUTE_TYPES, TypedRoute

_SEARCH = "/usr/sbin:/sbin:/usr/bin:/bin"
# iproute2's names of the reserved tables (rt_tables); others are printed as numbers
_TABLES = {"main": 254, "local": 255, "default": 253}
Route = Tuple[str, str, int, int]
#: runs a command: its argv in, ``(exit status, stdout, stderr)`` out, as ``AnsibleModule.run_command``
Runner = Callable[[List[str]], Tuple[int, str, str]]
_RUNNER: List[Runner] = []


def use_runner(run: Optional[Runner]) -> None:
    """Run iproute2 through ``run`` from now on (the module's
    ``run_command``, which ``ansible_glue.run`` gives); ``None`` forgets it."""
    _RUNNER[:] = [run] if run else []


def _ip_json(*args: str, need: str = "verifying an interface with more than 100 addresses or routes needs "
             "iproute2's ip on the host (NetworkManager's D-Bus view stops at 100)") -> List[Dict[str, Any]]:
    """The parsed output of ``ip -json ARGS``; ``need`` says what needs it, in the error when it is missing.

    Raises:
        DependencyError: iproute2 is missing, or no runner was given (outside a module).
        subprocess.CalledProcessError: ``ip`` exited non-zero.
        ValueError: its output is not JSON.
    """
    binary = shutil.which("ip", path=_SEARCH)
    if binary is None:
        raise DependencyError("%s: install iproute2" % need)
    if not _RUNNER:
        raise DependencyError("reading the kernel's addresses, routes and rules runs iproute2's ip through a "
                              "module's run_command, and none was given (kernel.use_runner)")
    argv = [binary, "-json", *args]
    rc, out, err = _RUNNER[0](argv)
    if rc != 0:
        raise subprocess.CalledProcessError(rc, argv, out, err)
    data: List[Dict[str, Any]] = json.loads(out or "[]")
    return data


def _table_number(entry: Dict[str, Any]) -> Optional[int]:
    """The table of an ``ip -json`` route or rule as a number (main 254), or ``None`` for a table
    named in the host's rt_tables (not one hostnet.nm writes)."""
    table = str(entry.get("table", "main"))
    return _TABLES.get(table, int(table) if table.isdigit() else None)


def _prefixed(dst: str, family: int) -> str:
    if dst == "default":
        return "0.0.0.0/0" if family == 4 else "::/0"
    if "/" not in dst:  # a host route is printed without its prefix length
        dst += "/32" if family == 4 else "/128"
    return str(ipaddress.ip_network(dst, strict=False))


def addresses_and_routes(names: List[str]) -> Dict[str, Dict[str, List[Any]]]:
    """``{interface: {"addresses": ["ip/prefix", ...], "routes": [(destination,
    next hop or "", metric, table), ...]}}`` for each of ``names`` as the kernel
    has them, in :func:`~.reader.live_state`'s shapes: IPv6 link-local
    addresses and the kernel's local/broadcast/multicast routes are left out,
    tables are numbers (main = 254).

    Raises:
        DependencyError: iproute2 is missing.
    """
    return from_ip_json(names, _ip_json("address", "show"),
                        {family: _ip_json("-%d" % family, "route", "show", "table", "all") for family in (4, 6)})


def from_ip_json(names: List[str], links: List[Dict[str, Any]],
                 routes: Dict[int, List[Dict[str, Any]]]) -> Dict[str, Dict[str, List[Any]]]:
    """:func:`addresses_and_routes` from ``ip -json address show`` (``links``) and
    ``ip -json -4/-6 route show table all`` (``routes``: ``{4: [...], 6: [...]}``)."""
    out: Dict[str, Dict[str, List[Any]]] = {n: {"addresses": [], "routes": []} for n in names}
    for link in links:
        if link.get("ifname") not in out:
            continue
        for a in link.get("addr_info", []):
            ip = ipaddress.ip_address(a["local"])
            if not (ip.version == 6 and ip.is_link_local):
                out[link["ifname"]]["addresses"].append("%s/%d" % (ip, a["prefixlen"]))
    for family, r, number in _unicast_routes(routes, names):
        out[r["dev"]]["routes"].append((_prefixed(r["dst"], family), r.get("gateway", ""),
                                        int(r.get("metric", 0)), number))
    return out


def _unicast_routes(routes: Dict[int, List[Dict[str, Any]]], names: List[str]) -> Iterator[Tuple[int, Dict[str, Any], int]]:
    """``(family, route, table number)`` for the unicast routes of ``ip -json route`` dumps through ``names``."""
    for family in (4, 6):
        for r in routes.get(family, []):
            if r.get("dev") not in names or r.get("type", "unicast") != "unicast":
                continue
            number = _table_number(r)
            if number is not None:
                yield family, r, number


def typed_routes() -> List[TypedRoute]:
    """The kernel's ``route-type`` routes (blackhole, unreachable, prohibit)
    of both families in every table, as :data:`TypedRoute`: NetworkManager's
    D-Bus view lists them on no device (an IPv4 one has none).

    Raises:
        DependencyError: iproute2 is missing.
    """
    need = "verifying blackhole, unreachable and prohibit routes reads them with iproute2's ip"
    return typed_routes_from_ip_json({family: _ip_json("-%d" % family, "route", "show", "table", "all", need=need)
                                      for family in (4, 6)})


def typed_routes_from_ip_json(routes: Dict[int, List[Dict[str, Any]]]) -> List[TypedRoute]:
    """:func:`typed_routes` from ``ip -json -4/-6 route show table all`` (``{4: [...], 6: [...]}``)."""
    out: List[TypedRoute] = []
    for family in (4, 6):
        for r in routes.get(family, []):
            number = _table_number(r)
            if r.get("type") in ROUTE_TYPES and number is not None:
                out.append((_prefixed(r["dst"], family), str(r["type"]), int(r.get("metric", 0)), number))
    return out


def device_routes(names: List[str]) -> Dict[str, List[Dict[str, Any]]]:
    """``{interface: [{"destination", "next-hop-address", "table-id",
    "protocol"}]}``: every unicast route through each of ``names`` in any
    table, with the protocol that put it there (``kernel``, ``static``,
    ``dhcp``, ``ra``, ``boot`` for ``ip route add``, ``bgp``...): NetworkManager's
    D-Bus view shows the main table only.

    Raises:
        DependencyError: iproute2 is missing.
    """
    return device_routes_from_ip_json(names, {family: _ip_json("-%d" % family, "route", "show", "table", "all")
                                              for family in (4, 6)})


def device_routes_from_ip_json(names: List[str], routes: Dict[int, List[Dict[str, Any]]]) -> Dict[str, List[Dict[str, Any]]]:
    """:func:`device_routes` from ``ip -json -4/-6 route show table all`` (``{4: [...], 6: [...]}``)."""
    out: Dict[str, List[Dict[str, Any]]] = {n: [] for n in names}
    for family, r, number in _unicast_routes(routes, names):
        route = {"destination": _prefixed(r["dst"], family), "table-id": number,
                 "protocol": str(r.get("protocol", "boot"))}
        if r.get("gateway"):
            route["next-hop-address"] = str(ipaddress.ip_address(r["gateway"]))
        out[r["dev"]].append(route)
    return out


#: rule keys of ``ip -json rule`` that select or act beyond what the model holds (from, to, priority, table)
_RULE_UNMODELLED = ("oif", "tos", "dport", "sport", "ipproto", "uidrange", "l3mdev", "suppress_ifgroup", "goto",
                    "nat")
#: rule actions the model holds (``action``); a rule with another (``nop``...) is left out
_RULE_ACTIONS = ("blackhole", "unreachable", "prohibit")
#: the mask the kernel gives a fwmark stated without one (fib_rules.c)
_FULL_MASK = 0xFFFFFFFF
#: the kernel's own rules (fib_default_rules_init): (priority, table)
_KERNEL_DEFAULT_RULES = {(0, 255), (32766, 254), (32767, 253)}


def rules() -> List[Dict[str, Any]]:
    """The kernel's routing rules of both families as canonical-shaped model
    rules (``family``, ``priority``, ``route-table``, ``ip-from``,
    ``ip-to``, ``iif``), without the kernel's three default rules and without rules
    whose selectors or action the model does not hold (``oif``, ``fwmark``,
    ``unreachable``...): NetworkManager's D-Bus API shows only the rules of
    its profiles, not those added with ``ip rule`` or by another daemon.

    Raises:
        DependencyError: iproute2 is missing.
    """
    return rules_from_ip_json({family: _ip_json("-%d" % family, "rule", "show") for family in (4, 6)})


def rules_from_ip_json(dumps: Dict[int, List[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """:func:`rules` from ``ip -json -4/-6 rule show`` (``{4: [...], 6: [...]}``)."""
    out = []
    for family, items in sorted(dumps.items()):
        for r in items:
            number = _table_number(r)
            if number is None or any(k in r for k in _RULE_UNMODELLED) or r.get("action", _RULE_ACTIONS[0]) \
                    not in _RULE_ACTIONS:
                continue
            rule: Dict[str, Any] = {"family": "ipv%d" % family, "priority": int(r.get("priority", 0)),
                                    "route-table": number}
            for key, src, length in (("ip-from", "src", "srclen"), ("ip-to", "dst", "dstlen")):
                if r.get(src, "all") != "all":
                    prefix = r.get(length, 32 if family == 4 else 128)
                    rule[key] = str(ipaddress.ip_network("%s/%s" % (r[src], prefix), strict=False))
            if r.get("iif"):
                rule["iif"] = r["iif"]
            _selectors(r, rule)
            if len(rule) > 3 or (rule["priority"], number) not in _KERNEL_DEFAULT_RULES:
                out.append(rule)
    return out


def _selectors(raw: Dict[str, Any], rule: Dict[str, Any]) -> None:
    """The mark, suppressor and action of an ``ip -json rule`` entry into
    ``rule``, in the model's canonical form (a mark without a mask has the
    kernel's full mask; the JSON key of ``suppress_prefixlength`` is
    ``suppress_prefixlen``)."""
    if "fwmark" in raw:
        rule["fwmark"] = int(str(raw["fwmark"]), 0)
        rule["fwmask"] = int(str(raw.get("fwmask", _FULL_MASK)), 0)
    if "suppress_prefixlen" in raw:
        rule["suppress-prefix-length"] = int(raw["suppress_prefixlen"])
    if raw.get("action") in _RULE_ACTIONS:
        rule["action"] = raw["action"]


def rule_argv(rule: Dict[str, Any]) -> List[str]:
    """``ip rule`` selectors of a canonical model rule (:func:`rules`'
    shape): family, priority, from, to, iif, fwmark/mask, suppressor, then
    the action or the table. Every value is
    re-typed (numbers, :mod:`ipaddress` networks; ``iif`` is an interface name
    the kernel listed), never handed to a shell."""
    argv = ["-%s" % rule["family"][-1], "rule", "VERB", "priority", str(int(rule["priority"]))]
    for key, word in (("ip-from", "from"), ("ip-to", "to")):
        if key in rule:
            argv += [word, str(ipaddress.ip_network(rule[key]))]
    if rule.get("iif"):
        argv += ["iif", str(rule["iif"])]
    if "fwmark" in rule:
        argv += ["fwmark", "0x%x/0x%x" % (int(rule["fwmark"]), int(rule.get("fwmask", _FULL_MASK)))]
    if "suppress-prefix-length" in rule:
        argv += ["suppress_prefixlength", str(int(rule["suppress-prefix-length"]))]
    if rule.get("action") in _RULE_ACTIONS:
        return argv + [str(rule["action"])]
    return argv + ["table", str(int(rule["route-table"]))]


def change_rule(verb: str, rule: Dict[str, Any]) -> None:
    """``ip rule add`` or ``del`` (``verb``) of one rule that no
    NetworkManager profile holds (NetworkManager has no call for it).

    Raises:
        DependencyError: iproute2 is missing.
        subprocess.CalledProcessError: the kernel refused it.
    """
    argv = [verb if a == "VERB" else a for a in rule_argv(rule)]
    binary = shutil.which("ip", path=_SEARCH)
    if binary is None or not _RUNNER:
        raise DependencyError("removing a routing rule that NetworkManager does not hold runs iproute2's ip on the "
                              "host: install iproute2")
    rc, out, err = _RUNNER[0]([binary] + argv)
    if rc != 0:
        raise subprocess.CalledProcessError(rc, [binary] + argv, out, err)


def ifindexes() -> Dict[str, int]:
    """The kernel's interface index of every link in this network namespace,
    by name (``if_nameindex(3)``: one netlink dump, where NetworkManager
    does not export the index on D-Bus); ``{}`` when it cannot be read. A
    device deleted and created again under its name gets a new index."""
    try:
        return {name: index for index, name in socket.if_nameindex()}
    except OSError:
        return {}
