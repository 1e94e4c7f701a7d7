# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report of the playbook ``hostnet.nm.drift``: each host's
outcome of the check-mode run, the summary, and its JSON and Markdown files.
No Ansible import; the action plugin ``hostnet.nm.drift_report`` reads the
host variables and calls these.

Per-host variables read (set by playbooks/drift.yml and the role
``hostnet.nm.network`` it runs in check mode):

- ``hostnet_network_result``: the role's registered ``network_state`` result
  (also when it failed: the role then fails again with its message);
- ``hostnet_drift_failure``: ``{"task", "action", "result"}`` from the
  rescue, when a task of the role failed (the composition of the host's
  variables, or the module).

Statuses: ``in sync``, ``drifted`` (with the plan and the diff), ``unreachable``,
``invalid`` (the host's variables or document), ``error`` (the check could not
run: another run holds the host, NetworkManager or the D-Bus library is missing...).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..module_utils.files import write_atomic
from ..module_utils.reconciler_status import BUSY, DRIFTED, IN_SYNC, INVALID, classify

STATUSES = ("in sync", "drifted", "unreachable", "invalid", "error")
#: statuses of hosts that could not be checked
UNCHECKED = ("unreachable", "invalid", "error")
REPORT_NAME = "hostnet-drift-report"
COMPOSE_ACTIONS = ("ansible.builtin.set_fact", "set_fact")
#: how the composition's failure reads when the templating is lazy (ansible-core 2.19 renders the
#: composed fact only where the apply task uses it): the filter's own words
COMPOSE_FAILURE = re.compile(r"\d+ problem\(s\) in the hostnet_ variables.*", re.S)


def _text(value: Any, limit: int = 600) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def unified_diff(diff: Optional[Mapping[str, Any]]) -> str:
    """The task's ``diff`` (``before``/``after`` YAML texts) as a unified diff."""
    if not diff:
        return ""
    lines = difflib.unified_diff(str(diff.get("before") or "").splitlines(), str(diff.get("after") or "").splitlines(),
                                 "current state", "desired state", lineterm="")
    return "\n".join(lines)


def outcome(variables: Mapping[str, Any]) -> Dict[str, Any]:
    """One host's outcome: ``{"status", "reason", "plan", "diff", "prunable",
    "foreign"}`` (``plan``: the operations that would run; ``diff``: unified
    diff text; ``prunable``: profiles of ours the state no longer names;
    ``foreign``: profiles of others that could activate on an interface the
    state manages; both as "id (uuid) on interface")."""
    out: Dict[str, Any] = {"status": "error", "reason": "", "plan": [], "diff": "", "prunable": [], "foreign": []}
    failure = variables.get("hostnet_drift_failure") or {}
    applied = variables.get("hostnet_network_result") or {}
    # the apply's own result has the details (error_kind, validation_errors) when the role re-raised its failure
    result = applied if applied.get("failed") or not failure else failure.get("result") or {}
    composition = COMPOSE_FAILURE.search(str(result.get("msg") or "")) if failure else None
    if composition or failure.get("action") in COMPOSE_ACTIONS:
        out.update(status="invalid", reason=_text(composition.group(0) if composition else result.get("msg")))
        return out
    if result.get("unreachable"):
        out.update(status="unreachable", reason=_text(result.get("msg")))
        return out
    if not result or result.get("skipped"):
        out["reason"] = "no result recorded for the check (was the role's apply task skipped?)"
        return out
    found = result.get("profiles") or {}
    out["prunable"] = [_profile(p) for p in (found.get("prunable") or []) + (found.get("pruned") or [])]
    out["foreign"] = [_profile(p) for p in found.get("blocked") or []]
    kind = classify(dict(result, check_mode=True))
    if kind == IN_SYNC:
        out["status"] = "in sync"
    elif kind == DRIFTED:
        plan = list(result.get("plan") or [])
        out.update(status="drifted", plan=plan, diff=unified_diff(result.get("diff")),
                   reason="; ".join("%s %s (%s)" % (op.get("op"), op.get("interface"), op.get("reason"))
                                    for op in plan))
    else:
        out.update(status="invalid" if kind == INVALID else "error", reason=_text(
            ("another run or tool holds the host: " if kind == BUSY else "") + str(result.get("msg") or "")))
    return out


def _profile(prof: Mapping[str, Any]) -> str:
    return "%s (%s) on %s" % (prof.get("id"), prof.get("uuid"), prof.get("interface") or "-")


def summarize(hosts: Sequence[str], outcomes: Mapping[str, Mapping[str, Any]],
              started: Optional[float] = None) -> Dict[str, Any]:
    """The report: ``{"playbook", "result", "counts", "hosts": [{"host",
    "status", "reason", "plan", "diff"}], "started", "finished"}``.

    ``result`` is ``drifted`` when a host drifted, else ``incomplete`` when a
    host could not be checked, else ``in sync``."""
    rows = [dict(outcomes.get(h) or {"status": "error", "reason": "no outcome", "plan": [], "diff": ""}, host=h)
            for h in hosts]
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    result = "drifted" if counts["drifted"] else "incomplete" if any(counts[s] for s in UNCHECKED) else "in sync"
    now = time.time()
    return {"playbook": "hostnet.nm.drift", "result": result, "counts": counts, "hosts": rows,
            "started": _iso(started or now), "finished": _iso(now)}


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def headline(summary: Mapping[str, Any]) -> str:
    """``hostnet.nm.drift: drifted: 2 in sync, 1 drifted (nothing was changed)``."""
    counts = summary["counts"]
    return "hostnet.nm.drift: %s: %s (nothing was changed)" % (
        summary["result"], ", ".join("%d %s" % (counts[s], s) for s in STATUSES if counts[s]) or "no hosts")


def text_lines(summary: Mapping[str, Any]) -> List[str]:
    """The report for the console: the headline, then one line per host."""
    width = max([len(r["host"]) for r in summary["hosts"]] + [4])
    return [headline(summary)] + [("%-*s  %-11s  %s" % (width, r["host"], r["status"], r["reason"])).rstrip()
                                  for r in summary["hosts"]]


def markdown(summary: Mapping[str, Any]) -> str:
    """The report as Markdown: counts, a table of hosts, then each drifted
    host's operations and diff."""
    out = ["# hostnet.nm drift report: %s" % summary["result"], "",
           "Checked %s in check mode; nothing was changed on any host." % summary["finished"], "",
           "| status | hosts |", "|---|---|"]
    out += ["| %s | %d |" % (s, summary["counts"][s]) for s in STATUSES]
    out += ["", "| host | status | reason |", "|---|---|---|"]
    out += ["| %s | %s | %s |" % (r["host"], r["status"], _cell(r["reason"])) for r in summary["hosts"]]
    for row in summary["hosts"]:
        owned = [("prunable (made by hostnet.nm, no longer in the state)", row.get("prunable") or []),
                 ("not made by hostnet.nm, could activate on a managed interface", row.get("foreign") or [])]
        if row["status"] != "drifted" and not any(items for _title, items in owned):
            continue
        out += ["", "## %s" % row["host"], ""]
        out += ["- `%s %s` (%s): %s" % (op.get("op"), op.get("interface"), op.get("disruption"), op.get("reason"))
                for op in row["plan"]]
        for title, items in owned:
            out += ["- %s: %s" % (title, _cell(", ".join(items)))] if items else []
        if row["diff"]:
            out += ["", "```diff", row["diff"], "```"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write(summary: Mapping[str, Any], directory: str, name: str = REPORT_NAME) -> Tuple[str, str]:
    """Write ``<directory>/<name>.json`` and ``.md`` (mode 0600, atomically,
    never through a symlink: :func:`~..module_utils.files.write_atomic`; the directory is
    created when missing). Returns their paths."""
    return (write_atomic(os.path.join(directory, name + ".json"), json.dumps(summary, indent=2) + "\n"),
            write_atomic(os.path.join(directory, name + ".md"), markdown(summary)))
