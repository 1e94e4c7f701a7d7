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

import importlib
from functools import lru_cache
from typing import Any, Dict, Mapping

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
    """The argument spec of module ``hostnet.nm.<name>``, from its documentation."""
    module = importlib.import_module("ansible_collections.hostnet.nm.plugins.modules." + name)
    return spec_of(yaml.safe_load(module.DOCUMENTATION).get("options") or {})


def validated_args(action: ActionBase, name: str) -> Dict[str, Any]:
    """The task's arguments checked against module ``hostnet.nm.<name>``'s
    documented options: converted to their types, with defaults.

    Raises:
        AnsibleActionFail: listing every problem (unknown key, wrong type,
            missing required option), ``argument_errors`` in the result.
    """
    result = ArgumentSpecValidator(module_spec(name)).validate(dict(action._task.args))
    if result.error_messages:
        raise AnsibleActionFail("hostnet.nm.%s: %d invalid argument(s), nothing was done: %s"
                                % (name, len(result.error_messages), "; ".join(result.error_messages)),
                                result={"argument_errors": list(result.error_messages)})
    validated: Dict[str, Any] = result.validated_parameters
    return validated
