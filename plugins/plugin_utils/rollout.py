# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's bookkeeping: each host's outcome, the gate after each batch,
and the summary (text, JSON, Markdown). No Ansible import; the action plugin
``hostnet.nm.rollout_report`` reads the host variables and calls these.

Per-host variables read (set by playbooks/rollout.yml and the role):

- ``hostnet_rollout_in_batch``: ``{"number": n, "hosts": [...]}`` set when the
  host's batch starts (the host was reached);
- ``hostnet_network_result``: the role's registered ``network_state`` result
  (registered also when it failed, was unreachable or could not be templated);
- ``hostnet_rollout_failure``: ``{"task": name, "result": {...}}`` from the
  rollout's rescue, when a task of the role failed.

Statuses: ``changed``, ``unchanged``, ``rolled back``, ``failed``, ``not reached``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ..module_utils.files import write_atomic

STATUSES = ("changed", "unchanged", "rolled back", "failed", "not reached")
#: statuses that count against the batch threshold
BAD = ("rolled back", "failed")
REPORT_NAME = "hostnet-rollout-summary"


def _first_line(text: Any, limit: int = 400) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[:limit - 3] + "..."


def new_state(targets: Sequence[str], report_dir: str, check_mode: bool, preflight: Mapping[str, Any],
              started: Optional[float] = None) -> Dict[str, Any]:
    """The rollout's state, kept as the fact ``hostnet_rollout_state`` of
    localhost between its plays: ``{"targets", "report_dir", "check_mode",
    "preflight", "started", "batches": [gate decisions], "stopped": reason or ""}``."""
    return {"targets": list(targets), "report_dir": report_dir, "check_mode": bool(check_mode),
            "preflight": dict(preflight), "started": started or time.time(), "batches": [], "stopped": ""}


def outcome(variables: Mapping[str, Any]) -> Dict[str, Any]:
    """One host's outcome from its variables: ``{"status", "reason", "batch",
    "operations"}`` (``operations``: number of planned operations)."""
    batch = variables.get("hostnet_rollout_in_batch") or {}
    out: Dict[str, Any] = {"status": "not reached", "reason": "", "batch": batch.get("number"), "operations": 0}
    if not batch:
        return out
    applied = variables.get("hostnet_network_result") or {}
    failure = variables.get("hostnet_rollout_failure") or {}
    out["operations"] = len(applied.get("plan") or [])
    if applied.get("unreachable"):
        out.update(status="failed", reason=_first_line("unreachable: %s" % applied.get("msg", "")))
    elif applied.get("failed") and applied.get("rolled_back"):
        out.update(status="rolled back", reason=_first_line(applied.get("rollback_reason") or applied.get("msg")))
    elif applied.get("failed"):
        out.update(status="failed", reason=_first_line(applied.get("msg") or "the apply failed"))
    elif failure:
        result = failure.get("result") or {}
        out.update(status="failed", reason=_first_line("%s: %s" % (failure.get("task") or "task",
                                                                   result.get("msg") or "failed")))
    elif applied and not applied.get("skipped"):
        out["status"] = "changed" if applied.get("changed") else "unchanged"
    else:
        out.update(status="failed", reason="no result recorded for the apply (was the role's apply task skipped?)")
    return out


def gate(number: int, hosts: Sequence[str], outcomes: Mapping[str, Mapping[str, Any]],
         max_fail_percentage: float) -> Dict[str, Any]:
    """The decision after batch ``number``: stop when the hosts of the batch
    that failed or were rolled back are MORE than ``max_fail_percentage``
    percent of the batch (Ansible's ``max_fail_percentage`` rule; 0 stops at
    the first failure).

    Returns ``{"number", "hosts", "bad", "percentage", "stop", "message"}``.
    """
    bad = [h for h in hosts if outcomes.get(h, {}).get("status") in BAD]
    percentage = 100.0 * len(bad) / len(hosts) if hosts else 0.0
    stop = percentage > float(max_fail_percentage)
    message = "batch %d (%d host(s)): %d failed or rolled back (%.0f%%, threshold %s%%)" % (
        number, len(hosts), len(bad), percentage, _num(max_fail_percentage))
    if bad:
        message += ": " + "; ".join("%s %s: %s" % (h, outcomes[h]["status"], outcomes[h]["reason"]) for h in bad)
    message += " -> stopping the rollout" if stop else " -> continuing"
    return {"number": number, "hosts": list(hosts), "bad": bad, "percentage": round(percentage, 1), "stop": stop,
            "message": message}


def _num(value: Any) -> str:
    return ("%g" % float(value)) if isinstance(value, (int, float, str)) else str(value)


def summarize(targets: Sequence[str], outcomes: Mapping[str, Mapping[str, Any]], batches: Sequence[Mapping[str, Any]],
              check_mode: bool = False, stopped: str = "", preflight: Optional[Mapping[str, Any]] = None,
              started: Optional[float] = None) -> Dict[str, Any]:
    """The rollout summary: every target host with its outcome.

    Returns ``{"result": "completed" | "stopped" | "failed", "stopped_reason",
    "check_mode", "counts": {status: n}, "hosts": [{"host", "status", "reason",
    "batch", "operations"}], "batches", "preflight", "started", "finished",
    "seconds"}``. ``failed`` means the rollout ran through but some hosts
    failed (below the threshold); ``stopped`` that it stopped early.
    """
    hosts = []
    for host in targets:
        item = dict(outcomes.get(host) or {"status": "not reached", "reason": "", "batch": None, "operations": 0})
        hosts.append(dict(item, host=host))
    counts = {s: sum(1 for h in hosts if h["status"] == s) for s in STATUSES}
    if stopped:
        result = "stopped"
    elif counts["failed"] or counts["rolled back"]:
        result = "failed"
    else:
        result = "completed"
    now = time.time()
    return {"playbook": "hostnet.nm.rollout", "result": result, "stopped_reason": stopped,
            "check_mode": bool(check_mode), "counts": counts, "hosts": hosts, "batches": list(batches),
            "preflight": dict(preflight or {}), "started": _iso(started) if started else None,
            "finished": _iso(now), "seconds": round(now - started, 1) if started else None}


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _label(status: str, check_mode: Any) -> str:
    """How ``status`` reads: in check mode (truthy ``check_mode``) nothing changed, it would."""
    return {"changed": "would change", "unchanged": "unchanged"}.get(status, status) if check_mode else status


def text_lines(summary: Mapping[str, Any]) -> List[str]:
    """The summary for the console: a headline, the counts, then one line per host."""
    check = summary.get("check_mode")
    counts = summary["counts"]
    tally = ", ".join("%d %s" % (counts[s], _label(s, check)) for s in STATUSES if counts[s]) or "no hosts"
    mode = " (check mode: nothing was changed)" if check else ""
    head = "hostnet.nm.rollout %s%s: %s" % (summary["result"], mode, tally)
    lines = [head]
    if summary.get("stopped_reason"):
        lines.append("stopped: " + summary["stopped_reason"])
    width = max([len(h["host"]) for h in summary["hosts"]] + [4])
    for item in summary["hosts"]:
        batch = "batch %s" % item["batch"] if item.get("batch") else "-"
        lines.append("%-*s  %-12s  %-8s  %s" % (width, item["host"], _label(item["status"], check), batch,
                                                item.get("reason") or ""))
    return [line.rstrip() for line in lines]


def markdown(summary: Mapping[str, Any]) -> str:
    """The summary as a Markdown document (for CI job summaries)."""
    check = summary.get("check_mode")
    counts = summary["counts"]
    out = ["# hostnet.nm rollout: %s%s" % (summary["result"], " (check mode)" if check else ""), ""]
    if summary.get("finished"):
        out += ["Finished %s%s." % (summary["finished"], (", %s s" % summary["seconds"])
                                    if summary.get("seconds") is not None else ""), ""]
    if check:
        out += ["Check mode: nothing was changed on any host.", ""]
    if summary.get("stopped_reason"):
        out += ["**Stopped:** %s" % _md(summary["stopped_reason"]), ""]
    out += ["| status | hosts |", "|---|---|"]
    out += ["| %s | %d |" % (_label(s, check), counts[s]) for s in STATUSES]
    out += ["", "| host | status | batch | reason |", "|---|---|---|---|"]
    for item in summary["hosts"]:
        out.append("| %s | %s | %s | %s |" % (item["host"], _label(item["status"], check), item.get("batch") or "",
                                              _md(item.get("reason") or "")))
    problems = (summary.get("preflight") or {}).get("problems") or []
    if problems:
        out += ["", "## Preflight problems", ""]
        out += ["- **%s** `%s` %s%s" % (", ".join(p["hosts"]), p["code"], (_md(p["path"]) + ": ") if p.get("path")
                                        else "", _md(p["message"])) for p in problems]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write(summary: Mapping[str, Any], directory: str) -> Tuple[str, str]:
    """Write ``<directory>/hostnet-rollout-summary.json`` and ``.md`` (mode
    0600, atomically, never through a symlink: :func:`~..module_utils.files.write_atomic`;
    the directory is created when missing). Returns their paths."""
    return (write_atomic(os.path.join(directory, REPORT_NAME + ".json"), json.dumps(summary, indent=2) + "\n"),
            write_atomic(os.path.join(directory, REPORT_NAME + ".md"), markdown(summary)))
