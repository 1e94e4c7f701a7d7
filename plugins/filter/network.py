# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the roles: ``compose_state`` (a host's ``hostnet_*`` variables
-> one nmstate document), ``host_address`` (subnet + host index ->
``ip/prefix``) and ``option_problems`` (timeouts outside their safe bounds).
The work is done in plugin_utils/compose.py and module_utils/options.py;
these are the Ansible faces of it."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.hostnet.nm.plugins.module_utils import options as bounds
from ansible_collections.hostnet.nm.plugins.module_utils.errors import type_name
from ansible_collections.hostnet.nm.plugins.plugin_utils.compose import AddressError, compose, host_address


def compose_state(variables: Mapping[str, Any], host: str,
                  groups: Optional[Mapping[str, Sequence[str]]] = None) -> Dict[str, Any]:
    """The nmstate document of ``host``; every problem at once, each with its
    variable path, as one AnsibleFilterError."""
    if not isinstance(variables, Mapping):
        raise AnsibleFilterError("compose_state expects a mapping of hostnet_ variables, got a %s"
                                 % type_name(variables))
    result = compose(dict(variables), str(host), groups)
    if result.errors:
        raise AnsibleFilterError(result.message())
    return result.document


def host_address_filter(subnet: str, index: Any, offset: Any = 0) -> str:
    """``"198.18.1.0/24" | hostnet.nm.host_address(1, 10) == "198.18.1.11/24"``."""
    try:
        return host_address(subnet, index, offset)
    except AddressError as exc:
        raise AnsibleFilterError("host_address: %s" % exc)


def option_problems(options: Mapping[str, Any], prefix: str = "") -> List[str]:
    """The problems of the timeouts in ``options`` (``rollback_timeout``...,
    named ``<prefix><name>``) outside their safe bounds, as text; ``[]`` when
    every one is inside them (module_utils/options.py)."""
    if not isinstance(options, Mapping):
        raise AnsibleFilterError("option_problems expects a mapping of options, got a %s" % type_name(options))
    return [str(p) for p in bounds.check(options, prefix)]


class FilterModule:
    """hostnet.nm filters."""

    def filters(self) -> Dict[str, Any]:
        return {"compose_state": compose_state, "host_address": host_address_filter,
                "option_problems": option_problems}
