# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the reconciler agent (:mod:`.reconciler`) reports, readable without
the agent: the outcome of one check or heal (:func:`classify`, also used by
the controller's drift report) and the agent's status file (:func:`status`,
returned by ``hostnet.nm.network_state_info``). Pure: no D-Bus, no Ansible.
"""

from __future__ import annotations

from typing import Any, Dict, Literal, Optional

from .files import process_alive, read_json

#: where the agent keeps its last status (the reconciler's ``status_file`` setting)
STATUS_FILE = "/run/hostnet-nm/reconciler.json"

#: the outcome of one check or heal (see :func:`classify`)
Outcome = Literal["in-sync", "drifted", "healed", "rolled-back", "busy", "invalid", "error"]
IN_SYNC: Outcome = "in-sync"
DRIFTED: Outcome = "drifted"
HEALED: Outcome = "healed"
ROLLED_BACK: Outcome = "rolled-back"
BUSY: Outcome = "busy"
INVALID: Outcome = "invalid"
ERROR: Outcome = "error"


def classify(result: Dict[str, Any]) -> Outcome:
    """The outcome of one ``apply`` result (a task result or the core's,
    failures as ``{"failed": True, "error_kind": ..., ...}``):

    ``in-sync`` (nothing to change), ``drifted`` (check mode: something would
    change), ``healed`` (it was changed), ``rolled-back`` (the change failed
    verification or a probe and was rolled back), ``busy`` (another run or
    tool holds the host), ``invalid`` (the document), ``error`` (anything
    else: NetworkManager, the D-Bus library...)."""
    if result.get("failed"):
        if result.get("error_kind") == "invalid" or result.get("validation_errors"):
            return INVALID
        if result.get("error_kind") == "conflict":
            return BUSY
        return ROLLED_BACK if result.get("rolled_back") else ERROR
    if not result.get("changed"):
        return IN_SYNC
    return DRIFTED if result.get("check_mode") else HEALED


def status(path: str = STATUS_FILE) -> Optional[Dict[str, Any]]:
    """The agent's last status (what it wrote to ``path``) with ``running``
    (its process is alive), or ``None`` when no agent ran since boot."""
    data = read_json(path)
    if not isinstance(data, dict):
        return None
    pid = int(data.get("pid") or 0)
    data["running"] = pid > 0 and process_alive(pid) and data.get("state") != "stopped"
    return data
