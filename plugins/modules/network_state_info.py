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
  - Also returns every NetworkManager profile with who made it (RV(profiles)). C(ours) means it carries the
    C(org.hostnet.nm.owner) mark in its C(user) setting, C(generated) means made by NetworkManager (auto-default
    "Wired connection N", boot-time profiles of nm-initrd-generator, external), C(foreign) anything else. Told from the
    profile's flags and user data, never from its name.
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
  description:
    - The current state as an nmstate document.
    - C(hostname) holds the static host name NetworkManager reports (C(config), C("") when none) and the
      kernel's running one (C(running)).
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
    hostname: {config: web-01, running: web-01}
profiles:
  description:
    - Every NetworkManager profile, addressed by its UUID (ids are not unique).
    - C(owner) is C(ours), C(foreign) or C(generated); C(origin) is C(hostnet.nm), C(user), C(auto-default),
      C(initrd), C(external) or C(volatile); C(interface) is the interface it is bound to or active on (for
      ours, the one the mark records).
  returned: always
  type: list
  elements: dict
  sample:
    - {uuid: 5b3c0d9e-4d6a-4f8e-9a43-0a1f2b3c4d5e, id: eth1, interface: eth1, owner: ours, origin: hostnet.nm,
       active: true, autoconnect: true}
    - {uuid: 0e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8, id: Wired connection 1, interface: eth2, owner: generated,
       origin: auto-default, active: false, autoconnect: true}
networkmanager:
  description:
    - The host's NetworkManager (C(version)) and what it has of the interface kinds hostnet.nm refuses.
    - C(features) lists what the host has of C(ovs) (NetworkManager's Open vSwitch plugin is loaded, from its
      C(Capabilities) property), C(team) (its team plugin is loaded), C(infiniband) (an InfiniBand device),
      C(sriov) (a device with SR-IOV) and C(ipsec) (NetworkManager's libreswan VPN plugin is installed).
    - C(refused_kinds) says it in words, one line per kind, naming the package a missing plugin comes in.
  returned: always
  type: dict
  sample:
    version: 1.42.4
    features: []
    refused_kinds:
      - "Open vSwitch: this host's NetworkManager has no Open vSwitch support (package NetworkManager-ovs)"
      - "Team: this host's NetworkManager has no team support (package NetworkManager-team)"
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

from ..module_utils import bytecode_cache

bytecode_cache.install()  # first: the imports below compile only when their source changed

from ..module_utils.ansible_glue import HostnetModule, ensure_dbus_library, run  # noqa: E402
from ..module_utils.info import describe  # noqa: E402
from ..module_utils.reconciler_status import status as reconciler_status  # noqa: E402


def main() -> None:
    module: AnsibleModule = HostnetModule(argument_spec={}, supports_check_mode=True)
    ensure_dbus_library(module)
    run(module, lambda: dict(describe(), changed=False, reconciler=reconciler_status()))


if __name__ == "__main__":
    main()
