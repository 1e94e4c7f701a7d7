"""The action plugins' arguments (plugins/plugin_utils/arguments.py): the spec is each module's
documented options, checked by Ansible's ArgumentSpecValidator as a module's are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.hostnet.nm.plugins.modules.network_state import ARGUMENT_SPEC
from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import module_spec, spec_of, validated_args

REPO = Path(__file__).resolve().parents[2]
ACTIONS = sorted(p.stem for p in (REPO / "plugins" / "action").glob("*.py") if p.stem != "__init__")
needs_ansible_cli = pytest.mark.skipif(not (REPO / ".venv" / "bin" / "ansible-playbook").exists(),
                                       reason="needs the controller venv's ansible CLI (make test has it)")


def test_suboptions_become_options_and_doc_only_keys_are_dropped():
    assert spec_of({"verify": {"description": "x", "type": "dict", "version_added": "0.1.0",
                               "suboptions": {"timeout": {"description": "s", "type": "float", "default": 2.0}}}}) \
        == {"verify": {"type": "dict", "options": {"timeout": {"type": "float", "default": 2.0}}}}


@pytest.mark.parametrize("name", ACTIONS)
def test_every_action_plugin_has_a_documented_spec(name):
    spec = module_spec(name)
    assert spec and all("type" in entry for entry in spec.values()), spec


def test_the_spec_is_read_without_running_the_module():
    # every per-host worker of ansible-playbook reads it: running the module would compile the host's core there
    script = ("import json, sys\n"
              "from ansible_collections.hostnet.nm.plugins.plugin_utils.arguments import module_spec\n"
              "assert module_spec('network_state')['desired_state']['required'] is True\n"
              "print(json.dumps([m for m in sys.modules if '.modules.' in m or m.endswith('.transaction')]))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                         env=env).stdout
    assert json.loads(out) == []


def test_a_module_without_documentation_is_a_clear_failure():
    with pytest.raises(AnsibleActionFail, match="hostnet.nm.no_such_module: the module's DOCUMENTATION was not found"):
        module_spec("no_such_module")


def test_network_states_documented_spec_is_its_module_spec():
    def shape(spec):
        return {k: (v.get("type"), v.get("default"), bool(v.get("required")), shape(v.get("options") or {}))
                for k, v in spec.items()}
    assert shape(module_spec("network_state")) == shape(ARGUMENT_SPEC)


@pytest.mark.parametrize("value, expected", [("no", False), ("yes", True), ("false", False), (1, True)])
def test_a_boolean_option_is_converted(value, expected):
    result = ArgumentSpecValidator(module_spec("fleet_preflight")).validate({"rollout": value})
    assert not result.error_messages and result.validated_parameters["rollout"] is expected


def test_unknown_keys_and_bad_types_are_all_refused():
    result = ArgumentSpecValidator(module_spec("rollout_report")).validate(
        {"stage": "later", "max_fail_percentage": "many", "colour": "red"})
    text = " ".join(result.error_messages)
    assert "colour" in text and "max_fail_percentage" in text and "stage" in text, text


def run_playbook(tmp_path, tasks):
    (tmp_path / "play.yml").write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                                    "tasks": tasks}]))
    return subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "play.yml"],
                          capture_output=True, text=True, timeout=120, check=False, cwd=str(tmp_path),
                          env=dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                                   ANSIBLE_LOCALHOST_WARNING="false"))


@needs_ansible_cli
def test_fleet_preflight_with_rollout_no_takes_no_rollout_path(tmp_path):
    """``rollout: "no"`` is false: no rollout state is set and no summary file written."""
    proc = run_playbook(tmp_path, [
        {"hostnet.nm.fleet_preflight": {"hosts": [], "rollout": "no", "report_dir": str(tmp_path)},
         "register": "result"},
        {"ansible.builtin.assert": {"that": ["result is not failed", "result.ansible_facts is not defined",
                                             "hostnet_rollout_state is not defined"]}}])
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert not list(tmp_path.glob("hostnet-rollout-summary.*"))


@needs_ansible_cli
def test_an_unknown_argument_fails_the_task_naming_it(tmp_path):
    proc = run_playbook(tmp_path, [{"hostnet.nm.drift_report": {"hosts": [], "report_dri": str(tmp_path)}}])
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert "hostnet.nm.drift_report: 1 invalid argument(s), nothing was done" in proc.stdout
    assert "report_dri" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    assert not list(tmp_path.glob("hostnet-drift-report*"))


class _Task:
    def __init__(self, args):
        self.args = args


class _Action:
    def __init__(self, args):
        self._task = _Task(args)


def test_a_dict_option_is_passed_on_as_given_not_copied():
    # Ansible's validator deep-copies values; a whole document is checked for its type only
    doc = {"interfaces": [{"name": "eth1", "type": "ethernet", "state": "up"}]}
    args = validated_args(_Action({"desired_state": doc, "confirm": "no"}), "network_state")
    assert args["desired_state"] is doc
    assert args["confirm"] is False and args["rollback_timeout"] == module_spec("network_state")[
        "rollback_timeout"]["default"]


@pytest.mark.parametrize("value", [["eth1"], "interfaces: []", 3])
def test_a_dict_option_that_is_no_mapping_is_still_refused(value):
    with pytest.raises(AnsibleActionFail) as failure:
        validated_args(_Action({"desired_state": value, "colour": "red"}), "network_state")
    errors = failure.value.result["argument_errors"]
    assert len(errors) == 2 and any("colour" in e for e in errors) and any("desired_state" in e for e in errors), errors


def test_a_dict_option_with_suboptions_is_validated_in_full():
    spec = module_spec("network_state")
    nested = [k for k, v in spec.items() if v.get("type") == "dict" and "options" in v]
    assert nested, "network_state has a dict option with suboptions"
    with pytest.raises(AnsibleActionFail) as failure:
        validated_args(_Action({"desired_state": {}, nested[0]: {"no_such_suboption": 1}}), "network_state")
    assert "no_such_suboption" in " ".join(failure.value.result["argument_errors"])
