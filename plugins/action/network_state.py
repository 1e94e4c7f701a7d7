# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of hostnet.nm.network_state: validate the document before
any connection to the host, run the module, render the diff as YAML."""

from __future__ import annotations

from typing import Any, Dict, Optional

import yaml
from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.module_utils.validation import validate


def yaml_text(doc: Any) -> str:
    """A document as block YAML, keys in schema order (for diffs)."""
    return yaml.safe_dump(doc, default_flow_style=False, sort_keys=False, width=120) if doc else ""


class ActionModule(ActionBase):
    """Validate on the controller, then run the module on the host."""

    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        doc = args.get("desired_state")
        if not isinstance(doc, dict):
            result.update(failed=True, changed=False,
                          msg="desired_state must be a mapping (an nmstate document), got %s"
                          % type(doc).__name__)
            return result
        # the connection to the host is opened lazily by _execute_module: nothing has touched it yet
        _canonical, errors, warnings = validate(doc)
        if errors:
            lines = ["%d error(s) in desired_state, no host was contacted and nothing changed:" % len(errors)]
            lines += ["  - %s" % p for p in errors]
            result.update(failed=True, changed=False, msg="\n".join(lines),
                          validation_errors=[p.as_dict() for p in errors],
                          warnings=[str(w) for w in warnings])
            return result
        module_result = self._execute_module(module_name="hostnet.nm.network_state", module_args=args,
                                             task_vars=task_vars)
        result.update(module_result)
        diff = module_result.get("diff")
        if isinstance(diff, dict) and "before" in diff:
            result["diff"] = {"before": yaml_text(diff["before"]), "after": yaml_text(diff["after"]),
                              "before_header": "current state", "after_header": "desired state"}
        return result
