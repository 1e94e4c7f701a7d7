# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument validation for the collection's action plugins, as modules have it.

The argument spec is the module's documented ``options`` (``plugins/modules/<name>.py``'s
DOCUMENTATION, which ansible-doc shows and ansible-test's validate-modules checks), so the
documentation and the validation cannot drift apart. Validation is Ansible's own
``ArgumentSpecValidator``: types are converted (``"no"`` becomes ``False`` for a ``bool``),
defaults filled in, and unknown keys refused, all errors at once."""

from __future__ import annotations

import ast
import importlib.util
from functools import lru_cache
from typing import Any, Dict, Mapping, Optional

import yaml
from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

#: the keys of a documented option that are also argument-spec keys
_SPEC_KEYS = ("type", "elements", "default", "required", "choices", "aliases", "no_log")


def spec_of(options: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """An argument spec (``{name: {type, default, ..., options}}``) from
    documented options (``{name: {description, type, ..., suboptions}}``)."""
    spec: Dict[str, Dict[str, Any]] = {}
    for name, doc in options.items():
        entry = {key: doc[key] for key in _SPEC_KEYS if key in doc}
        if "suboptions" in doc:
            entry["options"] = spec_of(doc["suboptions"])
        spec[name] = entry
    return spec


@lru_cache(maxsize=None)
def module_spec(name: str) -> Dict[str, Dict[str, Any]]:
    """The argument spec of module ``hostnet.nm.<name>``, from its documentation.

    The module file is read, not run: running it would import the whole
    host-side core into every one of ansible-playbook's per-host worker
    processes, where Ansible's collection loader compiles it anew each time.

    Raises:
        AnsibleActionFail: the module or its DOCUMENTATION is missing (a broken install).
    """
    fullname = "ansible_collections.hostnet.nm.plugins.modules." + name
    spec = importlib.util.find_spec(fullname)
    get_source = getattr(spec.loader if spec else None, "get_source", None)   # Ansible's collection loader has it
    source = get_source(fullname) if get_source else None
    documentation = _assigned_string(source or "", "DOCUMENTATION")
    if documentation is None:
        raise AnsibleActionFail("hostnet.nm.%s: the module's DOCUMENTATION was not found; reinstall the "
                                "hostnet.nm collection" % name)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml's when PyYAML has it: the same result, faster
    return spec_of(yaml.load(documentation, Loader=loader).get("options") or {})


def _assigned_string(source: str, target: str) -> Optional[str]:
    """The string literal assigned to ``target`` at the top level of the Python ``source``, or None."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == target for t in node.targets) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node.value.value
    return None


def validated_args(action: ActionBase, name: str) -> Dict[str, Any]:
    """The task's arguments checked against module ``hostnet.nm.<name>``'s
    documented options: converted to their types, with defaults.

    Raises:
        AnsibleActionFail: listing every problem (unknown key, wrong type,
            missing required option), ``argument_errors`` in the result.
    """
    spec = module_spec(name)
    args = dict(action._task.args)
    # Ansible's validator deep-copies every value, and a document loaded from YAML carries a data tag on every
    # node (ansible-core 2.19): 0.5 s for 500 interfaces. A dict option without suboptions is checked for its
    # type alone, so an empty stand-in is validated and the value itself kept.
    kept = {key: value for key, value in args.items() if isinstance(value, dict) and _plain_dict(spec.get(key))}
    result = ArgumentSpecValidator(spec).validate(dict(args, **{key: {} for key in kept}))
    if result.error_messages:
        raise AnsibleActionFail("hostnet.nm.%s: %d invalid argument(s), nothing was done: %s"
                                % (name, len(result.error_messages), "; ".join(result.error_messages)),
                                result={"argument_errors": list(result.error_messages)})
    validated: Dict[str, Any] = result.validated_parameters
    validated.update(kept)
    return validated


def _plain_dict(option: Optional[Mapping[str, Any]]) -> bool:
    """Whether an argument-spec entry is a ``dict`` option without suboptions
    (validating it checks only that the value is a mapping)."""
    return option is not None and option.get("type") == "dict" and "options" not in option
