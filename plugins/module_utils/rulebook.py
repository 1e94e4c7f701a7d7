# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a validation rule is, and the walkers of a parsed document rules share.

A rule is a function ``check(doc, problems)`` over the whole canonical
document (:func:`.schema.parse_document`; invalid list items are ``None``)
that appends :class:`~.errors.Problem` objects, registered with the codes it
may report. :mod:`.validation` holds the cross-kind rules, each interface
kind (:mod:`.kinds`) its own; both register them with :func:`register`. This
module sits below both (layers: model <- kinds <- schema/validation), so it
knows no interface kind.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Set, Tuple

from .errors import Problem, Severity
from .nodes import join

#: a parsed document (see :func:`.schema.parse_document`)
Doc = Dict[str, Any]
#: a rule's function: appends its findings to the list
RuleCheck = Callable[[Doc, List[Problem]], None]
#: a registered rule: the codes it may report, and its function
Rule = Tuple[Tuple[str, ...], RuleCheck]

#: codes reported as warnings (they never block an apply); every other code is an error
WARNING_CODES: Set[str] = set()


def register(rules: List[Rule], *codes: str, warnings: Iterable[str] = ()) -> Callable[[RuleCheck], RuleCheck]:
    """A decorator appending a rule function to ``rules`` under the codes it
    may report; those in ``warnings`` are reported with severity
    ``warning``. The function's docstring has one ``CODE: summary`` line per
    code (:func:`.validation.codes` reads them for docs/validation.md)."""
    WARNING_CODES.update(warnings)

    def add(func: RuleCheck) -> RuleCheck:
        rules.append((codes, func))
        return func
    return add


def report(problems: List[Problem], code: str, path: str, message: str, hint: str) -> None:
    """Append a problem; its severity comes from the code (:data:`WARNING_CODES`)."""
    problems.append(Problem(code, path, message, hint, severity(code)))


def severity(code: str) -> Severity:
    """How a problem with ``code`` counts (:data:`WARNING_CODES` are warnings)."""
    return "warning" if code in WARNING_CODES else "error"


def interfaces(doc: Doc) -> Iterator[Tuple[int, Dict[str, Any]]]:
    """``(index, interface)`` for every interface that parsed (index in the document)."""
    for i, iface in enumerate(doc.get("interfaces") or []):
        if iface is not None:
            yield i, iface


def present(doc: Doc) -> Dict[str, Tuple[int, Dict[str, Any]]]:
    """``{name: (index, interface)}`` of the interfaces the document keeps or
    creates (not ``state: absent``); the first entry of a name wins."""
    out: Dict[str, Tuple[int, Dict[str, Any]]] = {}
    for i, iface in interfaces(doc):
        if iface.get("state") != "absent":
            out.setdefault(iface["name"], (i, iface))
    return out


def ipath(i: int, *keys: Any) -> str:
    """``ipath(2, "ipv4", "address", 0) == "interfaces[2].ipv4.address[0]"``."""
    path = "interfaces[%d]" % i
    for key in keys:
        path = join(path, key)
    return path
