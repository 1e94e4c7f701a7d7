#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: network_state
short_description: Apply a declarative network state through NetworkManager
version_added: "0.1.0"
description:
  - Applies a desired network state, written in nmstate's YAML schema, to a host through
    NetworkManager's D-Bus API.
  - The document is validated on the controller before the host is contacted, then on the host
    against what only the host knows. Invalid input changes nothing.
  - What the document does not mention stays as it is; C(state=absent) removes.
  - Every apply runs inside a NetworkManager checkpoint. NetworkManager itself rolls the change
    back after O(rollback_timeout) seconds unless it is committed, so a killed module or a cut
    SSH session still reverts. After applying, the live state (addresses, routes, resolv.conf)
    is verified; a mismatch rolls back and fails the task with every difference listed.
  - A second run with the same document reports C(changed=false) and makes no D-Bus write.
  - Supports check mode (the same plan and diff, zero writes) and diff mode (a YAML before/after
    of exactly what changes).
author:
  - hostnet.nm contributors
requirements:
  - NetworkManager 1.30 or later on the managed host.
  - The dbus-fast or dbus-next Python library on the managed host (C(python3-dbus-fast) or
    C(python3-dbus-next) on Debian and Ubuntu).
options:
  desired_state:
    description:
      - The desired state, as an nmstate document with C(interfaces), C(routes),
        C(route-rules) and C(dns-resolver).
      - Supported interface types are C(ethernet), C(veth), C(linux-bridge), C(bond) and
        C(vlan). Other nmstate features are refused with C(unsupported: <path>).
    type: dict
    required: true
  rollback_timeout:
    description:
      - Seconds NetworkManager waits for the commit before it rolls the change back by itself.
      - The window restarts once activation is done, so it covers verification too.
    type: int
    default: 60
  wait_timeout:
    description: Seconds to wait for activations to finish.
    type: int
    default: 30
  verify_timeout:
    description:
      - Seconds verification retries for the live state to match (carrier, DHCP, autoconf).
    type: int
    default: 10
  lock_timeout:
    description:
      - Seconds to wait when another hostnet.nm run holds the host; C(0) fails at once.
    type: int
    default: 0
  persistent:
    description:
      - Write profiles to disk (C(true)) or keep them in memory only, lost at reboot (C(false)).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Runs the host's interface changes through NetworkManager only; interfaces NetworkManager
    does not manage are left alone and refused when named.
seealso:
  - module: hostnet.nm.network_state_info
"""

EXAMPLES = r"""
- name: Static address, a route and DNS on eth1
  hostnet.nm.network_state:
    desired_state:
      interfaces:
        - name: eth1
          type: ethernet
          state: up
          ipv4:
            enabled: true
            dhcp: false
            address:
              - ip: 198.18.1.11
                prefix-length: 24
      routes:
        config:
          - destination: 198.19.0.0/16
            next-hop-address: 198.18.1.1
            next-hop-interface: eth1
      dns-resolver:
        config:
          server: [198.18.1.1]
          search: [lab.test]

- name: A bridge with one port
  hostnet.nm.network_state:
    desired_state:
      interfaces:
        - name: br0
          type: linux-bridge
          state: up
          bridge:
            options:
              stp:
                enabled: false
            port:
              - name: eth2
          ipv4:
            enabled: true
            dhcp: false
            address:
              - ip: 198.18.2.11
                prefix-length: 24

- name: Remove the bridge again
  hostnet.nm.network_state:
    desired_state:
      interfaces:
        - name: br0
          state: absent
"""

RETURN = r"""
changed:
  description: Whether the host's network configuration changed (or would, in check mode).
  returned: always
  type: bool
diff:
  description: The part of the state that changes, before and after, as nmstate documents.
  returned: always
  type: dict
  sample: {"before": {"interfaces": []}, "after": {"interfaces": [{"name": "eth1", "state": "up"}]}}
plan:
  description: The operations, in order, each with its disruption class.
  returned: always
  type: list
  elements: dict
  sample: [{"op": "update", "interface": "eth1", "disruption": "reapply", "reason": "changes: ipv4"}]
timings:
  description: Seconds spent per phase (read, plan, write, activate, verify, commit).
  returned: always
  type: dict
  sample: {"read": 0.01, "plan": 0.001, "write": 0.02, "activate": 0.3, "verify": 0.05, "commit": 0.001}
writes:
  description: Number of D-Bus calls that changed something on the host (0 for a no-op or check mode).
  returned: always
  type: int
  sample: 0
rolled_back:
  description: Whether the change was rolled back.
  returned: always
  type: bool
rollback_reason:
  description: Why the change was rolled back, with the values that did not match.
  returned: when rolled back
  type: str
mismatches:
  description: Every difference found by verification, with desired and actual values.
  returned: when verification failed
  type: list
  elements: dict
validation_errors:
  description: Every problem in the document, each with code, path, message and hint.
  returned: when the document is invalid
  type: list
  elements: dict
warnings:
  description: Non-blocking findings (options without effect, more than three DNS servers...).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils.ansible_glue import ensure_dbus_library, run
from ..module_utils.transaction import Options, apply

ARGUMENT_SPEC = dict(
    desired_state=dict(type="dict", required=True),
    rollback_timeout=dict(type="int", default=60),
    wait_timeout=dict(type="int", default=30),
    verify_timeout=dict(type="int", default=10),
    lock_timeout=dict(type="int", default=0),
    persistent=dict(type="bool", default=True),
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    ensure_dbus_library(module)
    params = module.params
    options = Options(check_mode=module.check_mode, rollback_timeout=params["rollback_timeout"],
                      wait_timeout=params["wait_timeout"], verify_timeout=params["verify_timeout"],
                      lock_timeout=params["lock_timeout"], persistent=params["persistent"])
    run(module, lambda: apply(params["desired_state"], options))


if __name__ == "__main__":
    main()
