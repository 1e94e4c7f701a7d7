# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostnet.nm.drift_report: the report of the playbook hostnet.nm.drift, from
the hosts' variables (plugin_utils/drift.py says which). Controller only; it
never contacts a host and never fails: the playbook decides the exit status."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.plugin_utils import drift
from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import validated_args

#: the per-host variables an outcome is made of
OUTCOME_VARS = ("hostnet_network_result", "hostnet_drift_failure")


class ActionModule(ActionBase):
    """Classify every host, write the JSON and Markdown report."""

    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = validated_args(self, "drift_report")
        hostvars = task_vars["hostvars"]
        hosts = list(args.get("hosts") or task_vars.get("ansible_play_hosts_all") or [])
        outcomes = {}
        for host in hosts:
            view = hostvars[host]
            outcomes[host] = drift.outcome({k: view[k] for k in OUTCOME_VARS if k in view})
        summary = drift.summarize(hosts, outcomes)
        report_dir = os.path.abspath(args.get("report_dir") or os.getcwd())
        files = drift.write(summary, report_dir, args["report_name"])
        lines = drift.text_lines(summary)
        result.update(changed=False, summary=summary, files=list(files), lines=lines + ["report: %s, %s" % files],
                      by_host={r["host"]: {"status": r["status"], "reason": r["reason"]} for r in summary["hosts"]},
                      msg=lines[0])
        return result
