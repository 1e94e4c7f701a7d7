# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The error taxonomy of hostnet.nm (after nmstate's): every failure the core
raises is a :class:`HostnetError`; modules turn it into ``fail_json`` and never
let a traceback reach the user."""

from __future__ import annotations

import reprlib
from typing import Any, Dict, List, Literal, Optional

#: characters of a value quoted in a message; a longer value is cut and its length given
SHOWN_CHARS = 60
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = SHOWN_CHARS
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict = 2, 4, 4


def type_name(value: Any) -> str:
    """The YAML name of a value's type for messages (``string``, ``integer``,
    ``list``, ``mapping``...), also for Ansible's tagged subclasses of them."""
    if value is None:
        return "null"
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                       (bytes, "binary"), (dict, "mapping"), ((list, tuple), "list")):
        if isinstance(value, kind):
            return name
    return "value of an unknown type"


def shown(value: Any) -> str:
    """A value as quoted in a message: short values as written (``'eth1'``,
    ``24``), longer ones cut, with their length (``'xxxx...' (1048576
    characters)``); never the whole of a huge value, and a number of
    thousands of digits without converting it to text."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 4 * SHOWN_CHARS:
            return "an integer of about %d digits" % int(value.bit_length() * 0.30103 + 1)  # log10(2)
        return str(int(value))
    if isinstance(value, str):
        text = str.__str__(value)
        if len(text) <= SHOWN_CHARS:
            return repr(text)
        return "%s... (%d characters)" % (repr(text[:SHOWN_CHARS])[:-1], len(text))
    if isinstance(value, (list, tuple, dict)):
        return _REPR.repr(value)
    return _REPR.repr(value)


#: how much a finding weighs: an ``error`` blocks the apply, a ``warning`` is reported
Severity = Literal["error", "warning"]
#: the error taxonomy (a failed task's ``error_kind``): see the classes below
ErrorKind = Literal["backend", "invalid", "dependency", "conflict", "verification", "timeout"]


class Problem:
    """One finding about a desired-state document.

    Attributes:
        code: stable upper-case identifier, e.g. ``ROUTE_NEXT_HOP_OFF_LINK``.
        path: where in the document, e.g. ``interfaces[2].ipv4.address[0]``
            (``""`` for the whole document).
        message: what is wrong, with the offending values.
        hint: how to fix it (may be empty).
        severity: ``"error"`` (blocks the apply) or ``"warning"``.
    """

    __slots__ = ("code", "path", "message", "hint", "severity")

    def __init__(self, code: str, path: str, message: str, hint: str = "",
                 severity: Severity = "error") -> None:
        self.code = code
        self.path = path
        self.message = _bounded(message)
        self.hint = _bounded(hint)
        self.severity = severity

    def as_dict(self) -> Dict[str, str]:
        """The problem as a plain dict (for results and JSON)."""
        return {"code": self.code, "path": self.path, "message": self.message,
                "hint": self.hint, "severity": self.severity}

    def __str__(self) -> str:
        where = self.path or "<document>"
        text = "%s: %s [%s]" % (where, self.message, self.code)
        return text + (" (hint: %s)" % self.hint if self.hint else "")

    def __repr__(self) -> str:
        return "Problem(%r, %r)" % (self.code, self.path)


def _bounded(text: str, limit: int = 8 * SHOWN_CHARS) -> str:
    """A message cut to ``limit`` characters (the last guard: a rule may
    quote a name or value in several places)."""
    return text if len(text) <= limit else "%s... (%d characters)" % (text[:limit], len(text))


class HostnetError(Exception):
    """Base of every error the core raises.

    ``result`` carries what is known so far (plan, timings, probes,
    ``rolled_back``...) so that a failed task still reports what happened.
    """

    kind: ErrorKind = "backend"

    def __init__(self, message: str, result: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.result: Dict[str, Any] = dict(result or {})


class InvalidStateError(HostnetError):
    """The desired state is invalid; found before anything was touched.

    ``problems`` lists every error (not only the first), each with a code and
    a path; ``warnings`` the non-blocking findings.
    """

    kind: ErrorKind = "invalid"

    def __init__(self, problems: List[Problem], warnings: Optional[List[Problem]] = None) -> None:
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        lines = ["%d error(s) in the desired state, nothing was changed:" % len(self.problems)]
        lines += ["  - %s" % p for p in self.problems]
        super().__init__("\n".join(lines), {
            "validation_errors": [p.as_dict() for p in self.problems],
            "warnings": [str(w) for w in self.warnings],
        })


class DependencyError(HostnetError):
    """A library or daemon the module needs is missing on the host."""

    kind: ErrorKind = "dependency"


class NmError(HostnetError):
    """NetworkManager refused or failed an operation (D-Bus error).

    ``dbus_error`` is the D-Bus error name, e.g.
    ``org.freedesktop.NetworkManager.Device.IncompatibleConnection``.
    """

    def __init__(self, message: str, dbus_error: str = "", result: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(message, result)
        self.dbus_error = dbus_error


class ConflictError(HostnetError):
    """Another run or another tool holds the host (lock or foreign checkpoint)."""

    kind: ErrorKind = "conflict"


class VerificationError(HostnetError):
    """The live state did not reach the desired state (after rollback)."""

    kind: ErrorKind = "verification"


class TimeoutError_(HostnetError):
    """An activation or a wait did not finish in time."""

    kind: ErrorKind = "timeout"
