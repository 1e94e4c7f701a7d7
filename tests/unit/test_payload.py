"""The controller's payload build (plugins/plugin_utils/payload.py): the cyclic garbage collector is
paused for the build alone, what it left alive is frozen, and the collector's state is always put back."""

from __future__ import annotations

import gc

import pytest
from ansible.plugins.action import ActionBase

from ansible_collections.hostnet.nm.plugins.action.network_state import ActionModule
from ansible_collections.hostnet.nm.plugins.plugin_utils.payload import collector_paused


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
