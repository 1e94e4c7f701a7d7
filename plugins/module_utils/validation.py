# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semantic validation of a desired-state document: rules with stable codes.

Runs on the controller (action plugin, before any host is contacted) and
again on the host. Every rule sees the whole canonical document and appends
:class:`~.errors.Problem` objects; :func:`validate` runs the schema and every
rule and returns all findings at once. Each rule is registered with
:func:`rule` under its codes; docs/validation.md lists them.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Dict, Iterator, List, Tuple

from .errors import InvalidStateError, Problem
from .schema import parse_document

Rule = Callable[[Dict[str, Any], List[Problem]], None]
RULES: List[Tuple[Tuple[str, ...], Rule]] = []


def rule(*codes: str) -> Callable[[Rule], Rule]:
    """Register a rule function under the codes it may report."""
    def register(func: Rule) -> Rule:
        RULES.append((codes, func))
        return func
    return register


def interfaces(doc: Dict[str, Any]) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """``(index, interface)`` for every interface that parsed (index in the document)."""
    for i, iface in enumerate(doc.get("interfaces") or []):
        if iface is not None:
            yield i, iface


def validate(document: Any) -> Tuple[Dict[str, Any], List[Problem], List[Problem]]:
    """Schema plus every semantic rule.

    Returns ``(canonical document, errors, warnings)``; never raises on bad
    input (a rule that crashes is reported as ``INTERNAL_RULE_ERROR``)."""
    doc, problems = parse_document(document)
    for codes, func in RULES:
        try:
            func(doc, problems)
        except Exception as exc:  # a rule must never turn bad input into a traceback
            problems.append(Problem("INTERNAL_RULE_ERROR", "", "rule %s failed on this document: %s: %s" % (
                codes[0], type(exc).__name__, exc), "please report this; the other checks still ran"))
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    return doc, errors, warnings


def check(document: Any) -> Tuple[Dict[str, Any], List[Problem]]:
    """:func:`validate`, raising on errors.

    Returns ``(canonical document, warnings)``.

    Raises:
        InvalidStateError: with every error found.
    """
    doc, errors, warnings = validate(document)
    if errors:
        raise InvalidStateError(errors, warnings)
    return doc, warnings


# ---------------------------------------------------------------- the rules

IFNAMSIZ = 16  # kernel: names are at most IFNAMSIZ - 1 = 15 bytes


@rule("INTERFACE_NAME_INVALID")
def _interface_names(doc: Dict[str, Any], problems: List[Problem]) -> None:
    """Kernel rule (dev_valid_name): 1..15 bytes, no ``/``, ``:`` or
    whitespace, not ``.`` or ``..``."""
    for i, iface in interfaces(doc):
        name = iface["name"]
        path = "interfaces[%d].name" % i
        if len(name.encode()) > IFNAMSIZ - 1:
            problems.append(Problem("INTERFACE_NAME_INVALID", path, "%r is %d bytes; the kernel allows at most 15"
                                    % (name, len(name.encode())), "use a shorter name"))
        elif name in (".", "..") or any(c in name for c in "/:") or any(c.isspace() for c in name):
            problems.append(Problem("INTERFACE_NAME_INVALID", path, "%r is not a valid interface name" % name,
                                    "no '/', ':' or white space, and not '.' or '..'"))


@rule("INTERFACE_DUPLICATE")
def _duplicates(doc: Dict[str, Any], problems: List[Problem]) -> None:
    seen: Dict[str, int] = {}
    for i, iface in interfaces(doc):
        if iface["name"] in seen:
            problems.append(Problem("INTERFACE_DUPLICATE", "interfaces[%d].name" % i, "%s is already defined at "
                                    "interfaces[%d]" % (iface["name"], seen[iface["name"]]),
                                    "merge the two entries into one"))
        seen.setdefault(iface["name"], i)


@rule("ADDRESS_IS_NETWORK", "ADDRESS_IS_BROADCAST")
def _address_values(doc: Dict[str, Any], problems: List[Problem]) -> None:
    for i, iface in interfaces(doc):
        for fam in ("ipv4", "ipv6"):
            for j, addr in enumerate((iface.get(fam) or {}).get("address", [])):
                net = ipaddress.ip_interface("%s/%d" % (addr["ip"], addr["prefix-length"])).network
                ip = ipaddress.ip_address(addr["ip"])
                path = "interfaces[%d].%s.address[%d]" % (i, fam, j)
                if net.version == 4 and net.prefixlen < 31 and ip == net.network_address:
                    problems.append(Problem("ADDRESS_IS_NETWORK", path, "%s is the network address of %s" % (ip, net),
                                            "use a host address inside %s" % net))
                elif net.version == 4 and net.prefixlen < 31 and ip == net.broadcast_address:
                    problems.append(Problem("ADDRESS_IS_BROADCAST", path, "%s is the broadcast address of %s"
                                            % (ip, net), "use a host address inside %s" % net))
