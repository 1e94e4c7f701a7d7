# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostnet.nm.rollout_report: the rollout's gate after each batch
(``stage: batch``) and its summary at the end (``stage: final``), from the
hosts' variables (plugin_utils/rollout.py says which). Controller only.

The rollout's state between plays is the fact ``hostnet_rollout_state`` of
localhost (:func:`rollout.new_state`), set by ``hostnet.nm.fleet_preflight``
and updated here: run the task with ``run_once``, ``delegate_to: localhost``
and ``delegate_facts: true``."""

from __future__ import annotations

import os
import time
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.plugin_utils import rollout
from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import validated_args

#: the per-host variables an outcome is made of
OUTCOME_VARS = ("hostnet_rollout_in_batch", "hostnet_rollout_failure", "hostnet_network_result")


class ActionModule(ActionBase):
    """Gate a batch, or write the summary."""

    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = validated_args(self, "rollout_report")  # stage is batch or final
        hostvars = task_vars["hostvars"]
        local = hostvars["localhost"]
        facts = local.get("ansible_facts") or {}  # read as a fact: top-level fact variables are deprecated
        state = dict(facts["hostnet_rollout_state"]) if "hostnet_rollout_state" in facts else rollout.new_state(
            list(args.get("hosts") or []), os.getcwd(), bool(self._task.check_mode), {}, time.time())
        stage = args["stage"]

        def outcome(host: str) -> Dict[str, Any]:
            view = hostvars[host]
            return rollout.outcome({k: view[k] for k in OUTCOME_VARS if k in view})

        if stage == "batch":
            threshold = args["max_fail_percentage"]   # a float: the argument spec converted it
            if not 0 <= threshold <= 100:
                result.update(failed=True, msg="hostnet_rollout_max_fail_percentage must be a number from 0 to "
                              "100, got %r" % (args.get("max_fail_percentage"),))
                return result
            hosts = list(args.get("hosts") or [])
            decision = rollout.gate(len(state["batches"]) + 1, hosts, {h: outcome(h) for h in hosts}, threshold)
            done = {h for b in state["batches"] for h in b["hosts"]} | set(hosts)
            not_reached = [h for h in state["targets"] if h not in done]
            message = decision["message"]
            if decision["stop"] and not_reached:
                message += "; %d host(s) not reached: %s" % (len(not_reached), ", ".join(not_reached))
            state["batches"] = list(state["batches"]) + [decision]
            state["stopped"] = message if decision["stop"] else ""
            result.update(changed=False, msg=message, batch=decision, ansible_facts={"hostnet_rollout_state": state})
            return result

        targets = list(args.get("hosts") or state["targets"])
        report_dir = os.path.abspath(args.get("report_dir") or state["report_dir"])
        summary = rollout.summarize(targets, {h: outcome(h) for h in targets}, state["batches"], state["check_mode"],
                                    state["stopped"], state["preflight"], state["started"])
        files = rollout.write(summary, report_dir)
        lines = rollout.text_lines(summary)
        result.update(changed=False, summary=summary, lines=lines + ["report: %s, %s" % files], files=list(files),
                      msg="\n".join(lines))
        return result
