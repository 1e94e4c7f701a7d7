# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of hostnet.nm.network_state: validate the document before
any connection to the host, run the module, render the diff as YAML."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from typing import Any, Dict, Optional

import yaml
from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.module_utils import options as bounds
from ansible_collections.hostnet.nm.plugins.module_utils.errors import type_name
from ansible_collections.hostnet.nm.plugins.module_utils.redact import redact, secret_values
from ansible_collections.hostnet.nm.plugins.module_utils.validation import validate
from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import validated_args
from ansible_collections.hostnet.nm.plugins.plugin_utils.payload import Prebuild, collector_paused


#: seconds kept in hand before NM's rollback: a confirmation must not race it
CONFIRM_MARGIN = 3
#: the module this action runs, and the one that confirms its change
MODULE, CONFIRM_MODULE = "hostnet.nm.network_state", "hostnet.nm.checkpoint"
#: what the commit module reports of a change it found undone or had to put back itself
HOST_ACCOUNT = ("rolled_back", "restored", "rollback_reason", "differences", "repairs")
#: prctl(2) option: the signal this process gets when its parent ends (Linux)
PR_SET_PDEATHSIG = 1


def tie_to_playbook() -> int:
    """Make this task's process end with the ansible-playbook process that
    started it, and return that parent's PID.

    Ansible runs a task in a worker process in its own session, so a killed
    ansible-playbook (SIGKILL) would leave the worker running, and it would
    confirm a change nobody is watching any more. On Linux the worker asks
    the kernel (``prctl(PR_SET_PDEATHSIG)``) for a SIGTERM when its parent
    ends; Ansible's worker answers SIGTERM by ending its process group (its
    ssh connections too). Elsewhere :meth:`ActionModule._confirm` still
    checks the parent before each attempt."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no prctl: the parent check in _confirm remains
    return parent


def yaml_text(doc: Any) -> str:
    """A document as block YAML, keys in schema order (for diffs); libyaml's
    dumper when PyYAML has it (the same text, a fraction of the CPU per host)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, default_flow_style=False, sort_keys=False, width=120) if doc else ""


class ActionModule(ActionBase):
    """Validate on the controller, then run the module on the host."""

    TRANSFERS_FILES = False
    #: set by ``_run``: the module's change will wait for a confirmation (whose payload to build meanwhile)
    _prebuild_confirm = False
    _prebuild: Optional[Prebuild] = None

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The task's result, with every secret of the task's arguments masked
        (by key name, and its value in any text: diff, messages, warnings)."""
        return redact(self._run(tmp, task_vars), secret_values(self._task.args))

    def _run(self, tmp: Optional[str], task_vars: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        doc = args.get("desired_state")
        if not isinstance(doc, dict):
            result.update(failed=True, changed=False,
                          msg="desired_state must be a mapping (an nmstate document), got a %s" % type_name(doc))
            return result
        self._playbook_pid = tie_to_playbook()
        # the connection to the host is opened lazily by _execute_module: nothing has touched it yet
        _canonical, errors, warnings = validate(doc)
        wrong_options = bounds.check(args)
        errors = wrong_options + errors
        if errors:
            lines = ["%d error(s) in %s, no host was contacted and nothing changed:" % (
                len(errors), "the options and desired_state" if wrong_options else "desired_state")]
            lines += ["  - %s" % p for p in errors]
            result.update(failed=True, changed=False, msg="\n".join(lines),
                          validation_errors=[p.as_dict() for p in errors],
                          warnings=[str(w) for w in warnings])
            return result
        args = validated_args(self, "network_state")   # types converted, defaults, no unknown key
        # a change waits for its confirmation: build that module's payload while the host applies
        # (a no-op or a failure leaves that build to finish, or to end with this worker process)
        self._prebuild_confirm = bool(args["confirm"]) and not self._task.check_mode
        module_result = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        result.update(module_result)
        diff = module_result.get("diff")
        if isinstance(diff, dict) and "before" in diff:
            result["diff"] = {"before": yaml_text(diff["before"]), "after": yaml_text(diff["after"]),
                              "before_header": "current state", "after_header": "desired state"}
        if module_result.get("confirm_pending") and not module_result.get("failed"):
            result.update(self._confirm(module_result, args["rollback_timeout"], task_vars))
        return result

    def _configure_module(self, *args: Any, **kwargs: Any) -> Any:
        """Ansible's payload build for a module, with the garbage collector
        paused (see :mod:`plugin_utils.payload`); the module then runs as usual.
        Once ``network_state``'s payload is built, and when its change will
        wait for a confirmation, ``checkpoint``'s is built in the background
        (:class:`~plugin_utils.payload.Prebuild`) while the host applies."""
        with collector_paused():
            bits = super()._configure_module(*args, **kwargs)
        if kwargs.get("module_name") == MODULE and self._prebuild_confirm:
            self._prebuild_confirm = False
            task_vars = kwargs.get("task_vars")
            self._prebuild = Prebuild(lambda: self._configure_module(module_name=CONFIRM_MODULE, module_args={},
                                                                     task_vars=task_vars))
        return bits

    def _prebuilt(self) -> None:
        """Wait for the background build of the confirming module's payload, if
        one was started: called before the confirmation runs that module."""
        if self._prebuild is not None:
            self._prebuild.wait()
            self._prebuild = None

    def _commit_until(self, target: str, args: Dict[str, Any], deadline: float,
                      task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """Run ``hostnet.nm.checkpoint`` with ``args`` at ``target`` over a fresh connection
        each time, until it answers or ``deadline`` (monotonic seconds) passes; returns its
        last result (``unreachable`` when it never answered)."""
        last: Dict[str, Any] = {}
        self._prebuilt()
        self._keepalive()
        while time.monotonic() < deadline:
            if os.getppid() != self._playbook_pid:  # the playbook is gone: leave NetworkManager to revert
                return {"msg": "ansible-playbook (pid %d) ended before the confirmation" % self._playbook_pid}
            self._connection.set_option("host", target)
            self._connection.reset()  # a fresh connection, never the multiplexed one the change may have cut
            try:
                last = self._execute_module(module_name=CONFIRM_MODULE, module_args=args,
                                            task_vars=task_vars)
            except AnsibleError as exc:  # the host is not reachable (yet) at the target address
                last = {"unreachable": True, "msg": str(exc)}
            if not last.get("unreachable"):
                break
            time.sleep(1)
        return last

    def _keepalive(self) -> None:
        """A session cut by a rollback must fail within seconds, not hang:
        ask ssh to probe the server (only for the ssh connection plugin)."""
        try:
            extra = self._connection.get_option("ssh_extra_args") or ""
        except KeyError:
            return
        if "ServerAliveInterval" not in extra:
            self._connection.set_option("ssh_extra_args",
                                        (extra + " -o ServerAliveInterval=2 -o ServerAliveCountMax=3").strip())

    def _confirm(self, module_result: Dict[str, Any], window: int, task_vars: Dict[str, Any]) -> Dict[str, Any]:
        """Commit the pending checkpoint over a fresh connection (to the new
        address when the change moved the controller's), retrying until the
        rollback window closes. Returns the keys to add to the task result."""
        move = module_result.get("management_move") or {}
        old_host = self._connection.get_option("host") or self._play_context.remote_addr
        target = move.get("new") or old_host
        start = time.monotonic()
        deadline = start + max(window - CONFIRM_MARGIN, 1)
        args = {"state": "commit", "checkpoint": module_result.get("checkpoint") or "auto",
                "apply_id": module_result.get("apply_id", ""),
                "wait": int(max(window - CONFIRM_MARGIN, 1)) if module_result.get("detached") else 0}
        last = self._commit_until(target, args, deadline, task_vars)
        out: Dict[str, Any] = {"confirm_pending": False}
        applied = last.get("apply_result") or {}
        for key in ("probes", "timings", "writes", "rolled_back", "rollback_reason", "restored", "mismatches"):
            if key in applied:
                out[key] = applied[key]
        if "hostname" in last:
            out["hostname"] = last["hostname"]
        if last.get("failed") and last.get("state") == "commit":  # committed; the host name after it failed
            return dict(out, failed=True, confirmed=True, msg=last.get("msg", "the host name was not set"))
        if last.get("unreachable") or last.get("failed") or not last.get("changed"):
            self._connection.set_option("host", old_host)
            self._connection.reset()
            return dict(out, **_not_confirmed(last, target, old_host, window))
        out["confirmed"] = True
        out["timings"] = dict(out.get("timings") or module_result.get("timings") or {},
                              commit=round(time.monotonic() - start, 4))
        if move.get("new"):
            out["warnings"] = ["the host's management address moved from %s to %s: update ansible_host in the "
                               "inventory" % (move["old"], move["new"])]
        return out


def _not_confirmed(last: Dict[str, Any], target: str, old_host: str, window: int) -> Dict[str, Any]:
    """The task result's keys when the confirmation failed (``last``: the checkpoint module's
    result): the host's own account when it has one (NetworkManager lost the checkpoint:
    restored by us, or not), else what NetworkManager does by itself."""
    reason = last.get("msg", "no answer")
    told = {k: last[k] for k in HOST_ACCOUNT if k in last}
    if last.get("unreachable"):
        tail = ("The controller could not reach the host at %s within %d s; NetworkManager rolls the "
                "change back by itself and the host is back at %s." % (target, window, old_host))
    else:
        tail = "" if "rolled_back" in told else "NetworkManager rolled it back."
    out: Dict[str, Any] = {"failed": True, "confirmed": False, "rolled_back": True}
    out.update(told, msg=("the change was not confirmed: %s. %s" % (reason, tail)).strip())
    return out
