# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostnet.nm.fleet_preflight: compose and check every host's desired state on
the controller (plugin_utils/fleet.py), before any host is contacted.

Run it once (``run_once: true``); it never opens a connection."""

from __future__ import annotations

import os
import time
from typing import Any, Dict, Mapping, Optional

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hostnet.nm.plugins.plugin_utils import rollout
from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import validated_args
from ansible_collections.hostnet.nm.plugins.plugin_utils.compose import is_input
from ansible_collections.hostnet.nm.plugins.plugin_utils.fleet import preflight

display = Display()


def host_variables(task_vars: Mapping[str, Any], host: str) -> Dict[str, Any]:
    """The templated ``hostnet_*`` inputs of ``host`` (inventory, facts and
    extra vars: what ``hostvars[host]`` holds)."""
    view = task_vars["hostvars"][host]
    return {name: view[name] for name in view if is_input(name)}


class ActionModule(ActionBase):
    """Render every host, check them, and fail listing every problem host by host."""

    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = validated_args(self, "fleet_preflight")
        hosts = list(args.get("hosts") or task_vars.get("ansible_play_hosts_all") or [])
        started = time.time()
        report = preflight(hosts, lambda h: host_variables(task_vars, h), task_vars.get("groups") or {},
                           args.get("vlan_groups"), args.get("shared_addresses") or ())
        for host, texts in report.warnings.items():
            for text in texts:
                display.warning("%s: %s" % (host, text))
        result.update(changed=False, msg="\n".join(report.lines()))
        if report.ok:
            result["preflight"] = report.as_dict()
        else:  # every problem is in msg (and in the report files): keep the failure output readable
            result["problem_hosts"] = report.problem_hosts()
        if args.get("rollout"):
            report_dir = os.path.abspath(args.get("report_dir") or os.getcwd())
            if report.ok:
                result["ansible_facts"] = {"hostnet_rollout_state": rollout.new_state(
                    hosts, report_dir, bool(self._task.check_mode), report.as_dict(), started)}
            else:
                summary = rollout.summarize(hosts, {}, [], self._task.check_mode,
                                            "the preflight found %d problem(s); no host was contacted"
                                            % len(report.problems), report.as_dict(), started)
                result["files"] = list(rollout.write(summary, report_dir))
        if not report.ok:
            result["failed"] = True
        return result
