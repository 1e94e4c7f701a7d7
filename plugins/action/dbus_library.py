# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hostnet.nm.dbus_library: make sure dbus-fast or dbus-next is importable on
the host, in one task. Normally ONE shell command (no module, no package
manager): each Python the modules may use is asked whether it can find
either library. Only when none can, minimal facts are read and the first
package of ``packages[ansible_os_family]`` that installs is installed through
``ansible.builtin.package``; then the probe runs again."""

from __future__ import annotations

import shlex
from typing import Any, Dict, List, Mapping, Optional

from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.module_utils.dbus_packages import LIBRARIES, SYSTEM_PYTHONS
from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import validated_args
#: imports what the modules import (ansible_glue.ensure_dbus_library): an empty directory of that
#: name would pass a mere find_spec as a namespace package
_CHECK = ("import sys\n"
          "def usable(name):\n"
          "    try:\n"
          "        __import__(name + '.aio')\n"
          "        return True\n"
          "    except ImportError:\n"
          "        return False\n"
          "sys.exit(0 if any(usable(n) for n in %r) else 1)\n" % (LIBRARIES,))


def probe_command(interpreters: List[str]) -> str:
    """A shell command printing the first interpreter that can find a library
    (exit status 0), or exiting 1 when none can."""
    return ("for p in %s; do [ -x \"$p\" ] && \"$p\" -c %s 2>/dev/null && echo \"$p\" && exit 0; done; exit 1"
            % (" ".join(shlex.quote(i) for i in interpreters), shlex.quote(_CHECK)))


def interpreters_of(task_vars: Mapping[str, Any]) -> List[str]:
    """The interpreter Ansible uses (when it is a path), then the system Pythons
    the modules re-run themselves under (dbus_packages.SYSTEM_PYTHONS)."""
    own = str(task_vars.get("ansible_python_interpreter") or "")
    return list(dict.fromkeys(([own] if own.startswith("/") else []) + SYSTEM_PYTHONS))


class ActionModule(ActionBase):
    """Probe, and install only when missing."""

    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = validated_args(self, "dbus_library")
        interpreters = interpreters_of(task_vars)
        found = self._probe(interpreters)
        if found:
            result.update(changed=False, interpreter=found, msg="%s finds dbus-fast or dbus-next" % found)
            return result
        facts = self._execute_module(module_name="ansible.legacy.setup", module_args={"gather_subset": ["min"]},
                                     task_vars=task_vars).get("ansible_facts") or {}
        family = facts.get("ansible_os_family") or task_vars.get("ansible_os_family") or "unknown"
        packages = list(args["packages"].get(family) or [])
        advice = ("Install one yourself: 'pip install dbus-fast' for %s (on RHEL: python3-dbus-next from EPEL), "
                  "then run again; hostnet_dbus_library_packages maps ansible_os_family to package names and "
                  "hostnet_manage_dbus_library=false skips this step." % " or ".join(interpreters[:2]))
        if not packages:
            result.update(failed=True, msg="no Python on the host finds dbus-fast or dbus-next, and no package is "
                          "known for os family %s. %s" % (family, advice))
            return result
        if self._task.check_mode:
            result.update(changed=True, msg="would install %s (check mode)" % packages[0])
            return result
        tried = []
        package_vars = dict(task_vars, ansible_facts=dict(task_vars.get("ansible_facts") or {},
                                                          pkg_mgr=facts.get("ansible_pkg_mgr")))
        for name in packages:
            outcome = self._install(name, package_vars)
            tried.append("%s: %s" % (name, "installed" if not outcome.get("failed") else outcome.get("msg", "failed")))
            if not outcome.get("failed"):
                found = self._probe(interpreters)
                if found:
                    result.update(changed=True, installed=name, interpreter=found,
                                  msg="installed %s; %s finds it" % (name, found))
                    return result
        result.update(failed=True, changed=any(t.endswith(": installed") for t in tried), tried=tried,
                      msg="no Python on the host finds dbus-fast or dbus-next after trying %s. %s" % (
                          "; ".join(tried), advice))
        return result

    def _probe(self, interpreters: List[str]) -> str:
        out = self._low_level_execute_command(probe_command(interpreters))
        return out.get("stdout", "").strip().splitlines()[-1] if out.get("rc") == 0 and out.get("stdout") else ""

    def _install(self, name: str, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """``ansible.builtin.package name=<name> state=present`` (its action
        picks apt, dnf... from the facts)."""
        task = self._task.copy()
        task.args = {"name": name, "state": "present"}
        action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.package", task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        return action.run(task_vars=task_vars)
