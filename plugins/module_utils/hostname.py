# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host name (nmstate's ``hostname: {config, running}``): its schema,
its rules, and the change a plan makes of it.

``config`` is the static host name, which NetworkManager saves
(``Settings.SaveHostname``: ``/etc/hostname``, or systemd-hostnamed's static
name); ``""`` removes it, so that the name comes from DHCP or reverse DNS
again (nmstate's "dynamic hostname"). ``running`` is the kernel's host name
of the host's UTS namespace (``sethostname(2)``), until NetworkManager or a
reboot sets another.

NetworkManager's checkpoint does not cover the host name, so hostnet.nm never
writes it inside a checkpoint's window: it is written once the network change
is committed (at once when there is no network change; by the
``hostnet.nm.checkpoint`` commit when the change waits for the controller's
confirmation or belongs to a group). A change that is rolled back, or never
confirmed, never sets it (see :mod:`.nm.hostname` and docs/safety.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, List, Literal, Optional, Tuple

from .errors import Problem, shown
from .nodes import INVALID, Obj, Str

#: the two keys of the section: the static name NetworkManager saves, the kernel's running name
Key = Literal["config", "running"]
KEYS: Tuple[Key, ...] = ("config", "running")
#: ``{"config": ..., "running": ...}``, either key optional (the document names what it manages)
HostName = Dict[str, str]

#: bytes of a host name: the kernel's __NEW_UTS_LEN (sethostname(2) refuses more) and
#: NetworkManager's HOST_NAME_MAX for the static name
MAX_LENGTH = 64
#: one label of RFC 1123 section 2.1 (RFC 952 as amended): letters, digits and hyphens, at most 63, no hyphen
#: at either end
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

CODES = {
    "HOSTNAME_INVALID": "a host name that is not RFC 1123 syntax (letters, digits and hyphens in dot-separated "
                        "labels of 1..63, no hyphen at a label's ends, no trailing dot)",
    "HOSTNAME_TOO_LONG": "a host name longer than 64 bytes (the kernel's and NetworkManager's limit)",
}


def syntax_problem(name: str) -> Optional[Tuple[str, str, str]]:
    """Why ``name`` is no host name, as ``(code, message, hint)``, or ``None``.

    Source: RFC 1123 section 2.1 (labels of letters, digits and hyphens, 1..63
    characters, not starting or ending with a hyphen); the length bound is
    the kernel's (``__NEW_UTS_LEN``, 64 bytes) and NetworkManager's
    (``HOST_NAME_MAX``), which also refuses a trailing dot."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_LENGTH:
        return ("HOSTNAME_TOO_LONG", "host name %s has %d bytes; the kernel and NetworkManager take at most %d"
                % (shown(name), size, MAX_LENGTH), "use a shorter name (the first label is often enough)")
    bad = [label for label in name.split(".") if not _LABEL.fullmatch(label)]
    if not bad:
        return None
    why = ("has an empty label (a dot at the start or end, or two dots)" if "" in bad else
           "has label %s: a label is letters, digits and hyphens, without a hyphen at either end" % shown(bad[0]))
    return ("HOSTNAME_INVALID", "host name %s %s (RFC 1123)" % (shown(name), why),
            "write a name like web-01 or web-01.example.org (no underscore, no trailing dot)")


class _HostNameNode(Str):
    """A host name (:func:`syntax_problem`); ``allow_empty`` for ``config``
    (``""``: no static name)."""

    def __init__(self, allow_empty: bool) -> None:
        super().__init__(what="a host name (RFC 1123)", allow_empty=allow_empty)

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        out = super().parse(value, path, problems)
        if out is INVALID or out == "":
            return out
        why = syntax_problem(out)
        if why is None:
            return out
        problems.append(Problem(why[0], path, why[1], why[2]))
        return INVALID


#: the document's ``hostname`` section
SCHEMA = Obj({"config": _HostNameNode(allow_empty=True), "running": _HostNameNode(allow_empty=False)})


@dataclass(frozen=True)
class HostNameChange:
    """What a plan changes of the host name: ``before`` (the host's value
    of each key the document names) and ``after`` (the document's), only
    the keys that differ."""

    before: HostName
    after: HostName

    @classmethod
    def of(cls, current: HostName, desired: HostName) -> Optional["HostNameChange"]:
        """The change from ``current`` (the host's, both keys) to ``desired``
        (the document's section), or ``None`` when the host has it already."""
        keys = [k for k in KEYS if k in desired and desired[k] != current.get(k)]
        if not keys:
            return None
        return cls({k: current.get(k, "") for k in keys}, {k: desired[k] for k in keys})

    def as_op(self) -> Dict[str, str]:
        """The change as an entry of a run's ``plan`` (the shape of :meth:`.ops.Op.as_dict`)."""
        return {"op": "hostname", "interface": "", "disruption": "none",
                "reason": "; ".join("%s %s -> %s" % (k, shown(self.before.get(k, "")), shown(v))
                                    for k, v in self.after.items()) +
                "; written once the network change is committed"}


def problems_on_host(desired: HostName, persistent: bool, writable: bool) -> List[Problem]:
    """What the host's options and NetworkManager refuse of ``desired``
    (checked before anything changes):

    HOSTNAME_NOT_PERSISTENT: ``config`` with ``persistent: false`` (the static
    name lives on disk; nmstate refuses it in memory-only mode too);
    HOSTNAME_NOT_WRITABLE: ``config`` while NetworkManager's settings cannot
    save a host name (its ``Settings.CanModify`` is false)."""
    if "config" not in desired:
        return []
    if not persistent:
        return [Problem("HOSTNAME_NOT_PERSISTENT", "hostname.config", "the static host name is saved on disk, "
                        "and this run keeps its changes in memory only (persistent: false)",
                        "leave hostname.config out of this run (hostname.running changes only the running name), "
                        "or set persistent: true")]
    if not writable:
        return [Problem("HOSTNAME_NOT_WRITABLE", "hostname.config", "NetworkManager's settings plugins cannot save "
                        "a host name on this host (Settings.CanModify is false)",
                        "enable a settings plugin that can (keyfile) in NetworkManager.conf, or leave "
                        "hostname.config out")]
    return []
