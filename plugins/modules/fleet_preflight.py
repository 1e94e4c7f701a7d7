#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the action plugin of the same name (plugins/action/fleet_preflight.py),
# which runs on the controller and never executes a module on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fleet_preflight
short_description: Check the desired network state of every host before any host is changed
version_added: "0.1.0"
description:
  - Composes each host's desired state from its C(hostnet_*) inventory variables, exactly as the
    role C(hostnet.nm.network) does, validates it with the collection's rules, and checks the hosts
    against each other.
  - Reports every problem at once, host by host, and fails when there is any. Runs on the controller
    only and contacts no host; run it with C(run_once=true).
  - Cross-host checks are C(ADDRESS_ON_TWO_HOSTS) (one static address on two hosts; link-local addresses
    and O(shared_addresses) are left out) and C(VLAN_SUBNET_MISMATCH) (one VLAN id with different
    subnets of one address family among the hosts of an inventory group).
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  hosts:
    description: The hosts to check. Default C(ansible_play_hosts_all).
    type: list
    elements: str
  vlan_groups:
    description: The inventory groups in which one VLAN id must have one subnet. Default every group
      except C(all) and C(ungrouped).
    type: list
    elements: str
  shared_addresses:
    description: Addresses that may be on several hosts (VIPs, anycast).
    type: list
    elements: str
    default: []
  rollout:
    description:
      - Used by the playbook C(hostnet.nm.rollout). Sets the rollout's facts (run the task with
        C(delegate_to=localhost) and C(delegate_facts=true)) and, when there are problems, writes the
        summary files (every host C(not reached)) to O(report_dir).
    type: bool
    default: false
  report_dir:
    description: Where O(rollout=true) writes C(hostnet-rollout-summary.json) and C(.md). Default the
      current directory.
    type: path
attributes:
  check_mode:
    support: full
    details: "Check mode changes nothing here anyway: it only reads variables."
  diff_mode:
    support: none
  platform:
    platforms: posix
  action:
    support: full
    details: "Runs on the controller only; no module is executed on a host."
  async:
    support: none
  bypass_host_loop:
    support: none
notes:
  - Variables are read through C(hostvars), so inventory variables (group_vars, host_vars), facts and
    extra vars are seen; play variables are not.
seealso:
  - module: hostnet.nm.network_state
"""

EXAMPLES = r"""
- name: Check every host before any change
  hostnet.nm.fleet_preflight:
    hosts: "{{ ansible_play_hosts_all }}"
    shared_addresses: [198.18.1.250]
  run_once: true
"""

RETURN = r"""
preflight:
  description: C(ok), the C(hosts) checked, every problem (C(hosts), C(code), C(path), C(message),
    C(hint), C(group)) and the validation warnings per host.
  returned: always
  type: dict
msg:
  description: The problems as text, host by host.
  returned: always
  type: str
files:
  description: The summary files written (rollout mode with problems).
  returned: when O(rollout) and there are problems
  type: list
  elements: str
"""
