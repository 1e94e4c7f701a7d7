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
  - Also returns the last results of the reconciler agent (role C(hostnet.nm.reconciler)), when one ran on
    the host since boot.
  - The value of every key that names a secret (C(password), C(psk), C(secret), C(key)...) is returned as
    C(<hidden>).
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
reconciler:
  description:
    - The last results of the reconciler agent (role C(hostnet.nm.reconciler)), from
      C(/run/hostnet-nm/reconciler.json); C(null) when no agent ran on the host since boot.
    - C(running), C(state) (C(watching), C(healing), C(paused), C(backing-off), C(held), C(deferred), C(invalid),
      C(stopped)...), C(message), C(counts) (checks, drifts, heals, failures), C(last_check),
      C(last_drift) (with the plan and the diff), C(last_heal) (C(outcome) C(healed) or C(rolled-back),
      C(seconds), C(reason), C(plan), C(probes)) and C(next_attempt).
  returned: always
  type: dict
  sample:
    running: true
    state: watching
    counts: {checks: 12, drifts: 1, heals: 1, failures: 0}
    last_heal: {at: "2026-01-01T00:00:00Z", outcome: healed, seconds: 0.21, reason: ""}
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_glue import HostnetModule, ensure_dbus_library, run
from ..module_utils.reconciler import status as reconciler_status
from ..module_utils.transaction import show


def main() -> None:
    module: AnsibleModule = HostnetModule(argument_spec={}, supports_check_mode=True)
    ensure_dbus_library(module)
    run(module, lambda: {"changed": False, "network_state": show(), "reconciler": reconciler_status()})


if __name__ == "__main__":
    main()
