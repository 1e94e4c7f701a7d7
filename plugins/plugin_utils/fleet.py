# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet preflight: every host's desired state composed and checked on the
controller, before any host is contacted for a change.

:func:`preflight` composes each host's document (:func:`.compose.compose`,
which also runs the core's ``validate()``), then checks across hosts:

- ``ADDRESS_ON_TWO_HOSTS``: one static address on two hosts (link-local
  addresses and ``shared_addresses`` — VIPs, anycast — are left out);
- ``VLAN_SUBNET_MISMATCH``: within one inventory group, one VLAN id with
  different subnets (per address family) on different hosts. A VLAN without
  addresses of its own takes those of the bridge it is a port of.

Each problem names its hosts; :meth:`PreflightReport.lines` lists them host by
host. No Ansible import: the action plugin ``hostnet.nm.fleet_preflight`` is
the thin Ansible face of this.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from ..module_utils import validation
from ..module_utils.rulebook import present
from .compose import CODES as COMPOSE_CODES
from .compose import Composition, compose

#: the cross-host codes (the composition's and the core's validation codes come on top)
CODES = {
    "ADDRESS_ON_TWO_HOSTS": "one static address is configured on two or more hosts",
    "VLAN_SUBNET_MISMATCH": "one VLAN id has different subnets on hosts of one inventory group",
    "VARS_UNREADABLE": "a host's hostnet_ variables could not be templated",
}
CODES.update(COMPOSE_CODES)
#: groups never used for the VLAN check (every host is in them)
IMPLICIT_GROUPS = ("all", "ungrouped")


class FleetProblem:
    """One preflight finding: ``hosts`` (one or more), ``code``, ``path``
    (variable path, and document path where there is one), ``message``,
    ``hint``, ``group`` (for group-wide findings)."""

    __slots__ = ("hosts", "code", "path", "message", "hint", "group")

    def __init__(self, hosts: Sequence[str], code: str, path: str, message: str, hint: str = "",
                 group: str = "") -> None:
        self.hosts, self.code, self.path, self.message, self.hint, self.group = (
            list(hosts), code, path, message, hint, group)

    def as_dict(self) -> Dict[str, Any]:
        return {"hosts": self.hosts, "code": self.code, "path": self.path, "message": self.message,
                "hint": self.hint, "group": self.group}

    def __str__(self) -> str:
        text = "%s%s [%s]" % ((self.path + ": ") if self.path else "", self.message, self.code)
        return text + (" (hint: %s)" % self.hint if self.hint else "")


class PreflightReport:
    """What :func:`preflight` found.

    Attributes:
        hosts: the hosts checked, in order.
        compositions: ``{host: Composition}`` (absent for a host whose variables could not be read).
        problems: every :class:`FleetProblem` (errors: any one stops the rollout).
        warnings: ``{host: [text]}`` non-blocking validation findings.
    """

    def __init__(self, hosts: Sequence[str]) -> None:
        self.hosts = list(hosts)
        self.compositions: Dict[str, Composition] = {}
        self.problems: List[FleetProblem] = []
        self.warnings: Dict[str, List[str]] = {}

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem_hosts(self) -> List[str]:
        """Hosts named by a problem, in host order."""
        named = {h for p in self.problems for h in p.hosts}
        return [h for h in self.hosts if h in named]

    def lines(self) -> List[str]:
        """Every problem, host by host (problems naming several hosts under
        all of them, once), with a first line that says what happened."""
        if self.ok:
            return ["preflight: the desired state of %d host(s) composed and validated; no conflict between hosts"
                    % len(self.hosts)]
        out = ["preflight: %d problem(s) on %d of %d host(s); no host was contacted and nothing changed:" % (
            len(self.problems), len(self.problem_hosts()), len(self.hosts))]
        order = {h: i for i, h in enumerate(self.hosts)}
        heads: Dict[Tuple[str, ...], List[FleetProblem]] = {}
        for problem in self.problems:
            heads.setdefault(tuple(sorted(problem.hosts, key=lambda h: order.get(h, 0))), []).append(problem)
        for hosts in sorted(heads, key=lambda hs: (order.get(hs[0], 0), len(hs))):
            out.append("  %s:" % ", ".join(hosts))
            out += ["    - %s" % p for p in heads[hosts]]
        return out

    def as_dict(self) -> Dict[str, Any]:
        return {"ok": self.ok, "hosts": self.hosts, "problems": [p.as_dict() for p in self.problems],
                "warnings": self.warnings}


def preflight(hosts: Sequence[str], variables_of: Callable[[str], Mapping[str, Any]],
              groups: Optional[Mapping[str, Sequence[str]]] = None, vlan_groups: Optional[Iterable[str]] = None,
              shared_addresses: Iterable[str] = ()) -> PreflightReport:
    """Compose and check the desired state of every host.

    Args:
        hosts: the hosts of the rollout, in order.
        variables_of: ``host -> {name: value}`` of its ``hostnet_*`` variables
            (templated); may raise, which is reported as ``VARS_UNREADABLE``.
        groups: Ansible's ``groups`` (``{group: [hosts]}``).
        vlan_groups: the groups in which one VLAN id must have one subnet;
            default every group except ``all`` and ``ungrouped``.
        shared_addresses: addresses allowed on several hosts (VIPs, anycast).

    Returns:
        a :class:`PreflightReport`.
    """
    groups = groups or {}
    report = PreflightReport(hosts)
    for host in hosts:
        try:
            variables = variables_of(host)
        except Exception as exc:  # a template error in one host's variables must not hide the others
            report.problems.append(FleetProblem([host], "VARS_UNREADABLE", "", "its hostnet_ variables could "
                                                "not be read: %s" % exc, "fix the template in its variables"))
            continue
        result = compose(variables, host, groups)
        report.compositions[host] = result
        report.problems += [FleetProblem([host], p.code, p.path, p.message, p.hint) for p in result.errors]
        if result.warnings:
            report.warnings[host] = [str(w) for w in result.warnings]
    valid = {h: c for h, c in report.compositions.items() if c.ok and c.canonical is not None}
    report.problems += duplicate_addresses(valid, shared_addresses)
    chosen = list(vlan_groups) if vlan_groups is not None else [g for g in groups if g not in IMPLICIT_GROUPS]
    report.problems += vlan_subnet_mismatches(valid, {g: groups.get(g) or [] for g in chosen})
    return report


def duplicate_addresses(compositions: Mapping[str, Composition],
                        shared_addresses: Iterable[str] = ()) -> List[FleetProblem]:
    """``ADDRESS_ON_TWO_HOSTS`` for every static address on more than one host."""
    shared = {str(ipaddress.ip_address(a)) for a in shared_addresses}
    owners: Dict[str, List[Tuple[str, str, str]]] = {}
    for host, result in compositions.items():
        for path, ifname, iface in validation.addresses(result.canonical or {}):
            ip = iface.ip
            if ip.is_link_local or ip.is_loopback or str(ip) in shared:
                continue
            owners.setdefault(str(ip), []).append((host, ifname, result.source_of(path) or path))
    problems = []
    for ip, found in owners.items():
        hosts = sorted({place[0] for place in found}, key=list(compositions).index)
        if len(hosts) < 2:
            continue
        places = "; ".join("%s %s from %s" % (h, ifname, where) for h, ifname, where in found)
        derived = all(".subnet" in place[2] for place in found)
        hint = ("the addresses are derived from a subnet and the host index: these hosts have the same index "
                "(set hostnet_host_index in their host_vars, or check the numbers in their names)" if derived else
                "give each host its own address, or list it in shared_addresses if it is a VIP")
        problems.append(FleetProblem(hosts, "ADDRESS_ON_TWO_HOSTS", "", "address %s is on %d hosts: %s" % (
            ip, len(hosts), places), hint))
    return problems


def vlan_subnets(result: Composition) -> List[Tuple[int, str, str]]:
    """``(vlan id, subnet, interface)`` for every VLAN the host keeps, with the
    subnets of its own addresses or, if it has none, of its bridge."""
    doc = result.canonical or {}
    here = present(doc)
    owner = validation.controllers(doc)
    nets: Dict[str, Set[str]] = {}
    for path, ifname, iface in validation.addresses(doc):
        nets.setdefault(ifname, set()).add(str(iface.network))
    out = []
    for name, (_i, iface) in here.items():
        vlan = iface.get("vlan") or {}
        if "id" not in vlan:
            continue
        mine = nets.get(name) or nets.get(owner.get(name, ("",))[0]) or set()
        out += [(vlan["id"], net, name) for net in sorted(mine)]
    return out


def vlan_subnet_mismatches(compositions: Mapping[str, Composition],
                           groups: Mapping[str, Sequence[str]]) -> List[FleetProblem]:
    """``VLAN_SUBNET_MISMATCH`` for each group and VLAN id with more than one
    subnet of one address family among the group's hosts."""
    per_host = {h: vlan_subnets(c) for h, c in compositions.items()}
    problems, seen = [], set()
    for group, members in groups.items():
        table: Dict[Tuple[int, int], Dict[str, List[str]]] = {}
        for host in members:
            for vid, net, _ifname in per_host.get(host, []):
                family = ipaddress.ip_network(net).version
                table.setdefault((vid, family), {}).setdefault(net, []).append(host)
        for (vid, _family), subnets in sorted(table.items()):
            key = (vid, tuple(sorted((n, tuple(hs)) for n, hs in subnets.items())))
            if len(subnets) < 2 or key in seen:
                continue
            seen.add(key)
            # the hosts of the less common subnets are the likely mistakes: list them first
            ranked = sorted(subnets.items(), key=lambda item: (-len(item[1]), item[0]))
            hosts = [h for _net, hs in ranked for h in hs]
            problems.append(FleetProblem(
                hosts, "VLAN_SUBNET_MISMATCH", "", "group %s: VLAN %d has %d different subnets: %s" % (
                    group, vid, len(subnets), "; ".join("%s on %s" % (n, ", ".join(hs)) for n, hs in ranked)),
                "a VLAN is one layer-2 segment: give it one subnet across the group (check the hostnet_vlans "
                "variables of %s)" % ", ".join(h for _net, hs in ranked[1:] for h in hs), group=group))
    return problems
