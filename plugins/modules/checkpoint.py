#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: checkpoint
short_description: Create, commit or roll back a NetworkManager checkpoint around several tasks
version_added: "0.1.0"
description:
  - C(state=create) makes a NetworkManager checkpoint covering all devices, with a rollback timeout
    enforced by NetworkManager itself. Later M(hostnet.nm.network_state) tasks on the host join it
    instead of making their own, so several tasks form one transaction.
  - C(state=commit) keeps the changes; C(state=rollback) restores the state at creation.
  - Only checkpoints hostnet.nm recorded on the host are committed or rolled back; another tool's
    checkpoint is reported and never touched.
  - The action plugin of M(hostnet.nm.network_state) uses C(state=commit) to confirm a change over a
    fresh connection.
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - hostnet.nm.networkmanager
options:
  state:
    description: What to do.
    type: str
    choices: [create, commit, rollback]
    required: true
  checkpoint:
    description:
      - The checkpoint's D-Bus path, or C(auto) for the one hostnet.nm recorded on the host.
    type: str
    default: auto
  rollback_timeout:
    description:
      - With C(state=create), seconds until NetworkManager rolls back by itself.
      - From 5 to 86400. NetworkManager takes 0 as "never roll back", so 0 is refused like any value
        outside these bounds (C(OPTION_OUT_OF_RANGE)), before anything is touched.
    type: int
    default: 300
  apply_id:
    description: Commit or roll back only the checkpoint of this apply (from a network_state result).
    type: str
    default: ""
  wait:
    description: Seconds to wait for a detached apply to be ready for its confirmation (0 to 86400).
    type: int
    default: 0
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: hostnet.nm.network_state
"""

EXAMPLES = r"""
- name: Start one transaction for the next tasks
  hostnet.nm.checkpoint:
    state: create
    rollback_timeout: 120

- name: Uplink
  hostnet.nm.network_state:
    desired_state: "{{ uplink_state }}"

- name: Storage network
  hostnet.nm.network_state:
    desired_state: "{{ storage_state }}"

- name: Keep both changes
  hostnet.nm.checkpoint:
    state: commit
"""

RETURN = r"""
changed:
  description: Whether a checkpoint was created, committed or rolled back (C(false) when joining an existing group).
  returned: always
  type: bool
  sample: true
checkpoint:
  description: The checkpoint's D-Bus path.
  returned: always
  type: str
  sample: /org/freedesktop/NetworkManager/Checkpoint/4
state:
  description: C(group) after O(state=create), else the action taken (C(commit) or C(rollback)).
  returned: always
  type: str
  sample: group
apply_result:
  description:
    - The result of the M(hostnet.nm.network_state) apply that this call confirmed or found rolled back, with
      the same keys as that module's result (C(probes), C(timings), C(rolled_back)...).
  returned: when there is one
  type: dict
  sample: {"changed": true, "rolled_back": false, "writes": 3, "timings": {"activate": 0.4, "verify": 0.05}}
"""

from ansible.module_utils.basic import AnsibleModule

from ..module_utils import bytecode_cache

bytecode_cache.install()  # first: the imports below compile only when their source changed

from ..module_utils.ansible_glue import HostnetModule, ensure_dbus_library, run  # noqa: E402
from ..module_utils.change import checkpoint_action  # noqa: E402


def main() -> None:
    module: AnsibleModule = HostnetModule(argument_spec=dict(
        state=dict(type="str", choices=["create", "commit", "rollback"], required=True),
        checkpoint=dict(type="str", default="auto"),
        rollback_timeout=dict(type="int", default=300),
        apply_id=dict(type="str", default=""),
        wait=dict(type="int", default=0),
    ), supports_check_mode=False)
    ensure_dbus_library(module)
    p = module.params
    run(module, lambda: checkpoint_action(p["state"], p["checkpoint"], p["rollback_timeout"], p["wait"],
                                          p["apply_id"]))


if __name__ == "__main__":
    main()
