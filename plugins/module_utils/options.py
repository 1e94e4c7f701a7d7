# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe bounds of the numeric options of the modules, the roles and the
reconciler (all in seconds): one table, checked on the controller by the
action plugin before any host is contacted and again on the host.

NetworkManager takes a checkpoint's rollback timeout as a uint32 in which
0 means "never roll back" (CheckpointCreate, CheckpointAdjustRollbackTimeout),
so 0 must never reach it: the smallest window is :data:`MIN_ROLLBACK_TIMEOUT`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from .errors import Problem
from .nodes import Int

#: the shortest rollback window: the controller keeps 3 s in hand before NetworkManager's own
#: rollback, so below 5 s no change could be confirmed (and 0 would turn the rollback off)
MIN_ROLLBACK_TIMEOUT = 5
#: the longest wait of any option: a change left unconfirmed for a day is rolled back
MAX_SECONDS = 86400

#: option name -> (smallest, largest) value, in seconds
BOUNDS: Dict[str, Tuple[int, int]] = {
    "rollback_timeout": (MIN_ROLLBACK_TIMEOUT, MAX_SECONDS),
    "wait_timeout": (1, MAX_SECONDS),
    "verify_timeout": (0, MAX_SECONDS),
    "lock_timeout": (0, MAX_SECONDS),
    "wait": (0, MAX_SECONDS),
}
_NODES = {name: Int(lo, hi, "seconds", code="OPTION_OUT_OF_RANGE") for name, (lo, hi) in BOUNDS.items()}

#: the code's summary (docs/validation.md)
CODES = {"OPTION_OUT_OF_RANGE": "a module or role option outside its safe bounds (rollback_timeout 5..86400 "
                                "seconds; the other timeouts 0..86400, wait_timeout from 1)"}


def parse(options: Mapping[str, Any], prefix: str = "") -> Tuple[Dict[str, Any], List[Problem]]:
    """The bounded options present in ``options`` as integers, and their
    problems (other keys and ``None`` values are not judged). Numbers may be
    numeric text (templated values), as in the document. Each problem's path
    is the option's name (after ``prefix``, e.g. ``hostnet_``): code
    ``OPTION_OUT_OF_RANGE``, or ``TYPE_MISMATCH``/``BAD_NUMBER`` for a value
    that is not a number."""
    values: Dict[str, Any] = {}
    problems: List[Problem] = []
    for name, node in _NODES.items():
        if options.get(name) is not None:
            values[name] = node.parse(options[name], prefix + name, problems)
    return values, problems


def check(options: Mapping[str, Any], prefix: str = "") -> List[Problem]:
    """The problems of :func:`parse`."""
    return parse(options, prefix)[1]
