"""The controller's payload build (plugins/plugin_utils/payload.py): the cyclic garbage collector is
paused for the build alone, what it left alive is frozen, and the collector's state is always put back;
the confirming module's payload is built in the background while the host applies."""

from __future__ import annotations

import contextvars
import gc
import threading

import pytest
from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.action.network_state import CONFIRM_MODULE, MODULE, ActionModule
from ansible_collections.hostnet.nm.plugins.plugin_utils.payload import Prebuild, collector_paused

AMBIENT = contextvars.ContextVar("AMBIENT")


@pytest.fixture(autouse=True)
def collector_enabled():
    gc.enable()
    yield
    gc.unfreeze()   # back to the collector's generations: this test process lives on
    gc.enable()


def test_the_collector_is_paused_inside_and_running_after():
    with collector_paused():
        assert not gc.isenabled()
        survivor = [[]]
    assert gc.isenabled()
    # what the block left alive is frozen: later collections do not walk it again
    assert gc.get_freeze_count() > 0 and gc.is_tracked(survivor)


def test_the_collector_runs_again_after_an_error():
    with pytest.raises(KeyError):
        with collector_paused():
            raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_network_states_payload_build_runs_with_the_collector_paused(monkeypatch):
    seen = []

    def build(self, module_name, module_args, task_vars):
        seen.append((module_name, gc.isenabled()))
        return "payload", "path"

    monkeypatch.setattr(ActionBase, "_configure_module", build)
    action = ActionModule.__new__(ActionModule)   # the build needs no task or connection here
    assert action._configure_module(module_name="hostnet.nm.checkpoint", module_args={}, task_vars={}) \
        == ("payload", "path")
    assert seen == [("hostnet.nm.checkpoint", False)] and gc.isenabled()


def test_a_prebuild_runs_in_another_thread_with_the_callers_context():
    seen = []
    AMBIENT.set("task context")
    prebuild = Prebuild(lambda: seen.append((threading.current_thread() is threading.main_thread(), AMBIENT.get())))
    prebuild.wait()
    assert seen == [(False, "task context")] and prebuild.error is None


def test_a_failed_prebuild_is_kept_not_raised():
    prebuild = Prebuild(lambda: {}["missing"])
    prebuild.wait()   # the later run builds again and reports the error itself
    assert isinstance(prebuild.error, KeyError)


def _recording(monkeypatch):
    seen = []

    def build(self, module_name, module_args, task_vars):
        seen.append((module_name, task_vars))
        return "payload of " + module_name, "path"

    monkeypatch.setattr(ActionBase, "_configure_module", build)
    return seen


def test_a_change_to_confirm_gets_the_confirming_payload_built_once_in_the_background(monkeypatch):
    seen = _recording(monkeypatch)
    action = ActionModule.__new__(ActionModule)
    action._prebuild_confirm = True
    task_vars = {"ansible_facts": {}}
    assert action._configure_module(module_name=MODULE, module_args={}, task_vars=task_vars)[0] \
        == "payload of " + MODULE
    action._prebuilt()
    action._configure_module(module_name=MODULE, module_args={}, task_vars=task_vars)   # a second build: no more
    action._prebuilt()
    assert [name for name, _vars in seen] == [MODULE, CONFIRM_MODULE, MODULE]
    assert seen[1][1] is task_vars   # the same host's variables: its interpreter is known by then
    assert action._prebuild is None and gc.isenabled()


def test_no_background_build_without_a_confirmation(monkeypatch):
    seen = _recording(monkeypatch)
    action = ActionModule.__new__(ActionModule)   # _prebuild_confirm stays False: check mode, or confirm: false
    action._configure_module(module_name=MODULE, module_args={}, task_vars={})
    action._prebuilt()
    assert [name for name, _vars in seen] == [MODULE]
