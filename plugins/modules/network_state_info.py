#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: network_state_info
short_description: Read a host's network state from NetworkManager
version_added: "0.1.0"
description:
  - Returns the host's current network state in the same nmstate schema that
    M(hostnet.nm.network_state) takes, read from NetworkManager over D-Bus.
  - Feeding the result back to M(hostnet.nm.network_state) is a no-op.
  - Interfaces NetworkManager does not manage, loopback, and routes through them are left out.
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - hostnet.nm.networkmanager
options: {}
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: N/A
    details: The module only reads.
  platform:
    platforms: posix
  action_group:
    support: full
    membership: [hostnet.nm.network]
seealso:
  - module: hostnet.nm.network_state
"""

EXAMPLES = r"""
- name: Read the network state
  hostnet.nm.network_state_info:
  register: net

- name: Show the interfaces
  ansible.builtin.debug:
    var: net.network_state.interfaces
"""

RETURN = r"""
changed:
  description: Always C(false); the module only reads.
  returned: always
  type: bool
  sample: false
network_state:
  description: The current state as an nmstate document.
  returned: always
  type: dict
  sample:
    interfaces:
      - name: eth1
        type: ethernet
        state: up
        ipv4: {enabled: true, dhcp: false, address: [{ip: 198.18.1.11, prefix-length: 24}]}
        ipv6: {enabled: false}
    routes: {config: []}
    dns-resolver: {config: {server: [198.18.1.1], search: [lab.test], options: []}}
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_glue import ensure_dbus_library, run
from ..module_utils.transaction import show


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    ensure_dbus_library(module)
    run(module, lambda: {"changed": False, "network_state": show()})


if __name__ == "__main__":
    main()
