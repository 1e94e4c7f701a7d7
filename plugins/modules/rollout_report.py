#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the action plugin of the same name (plugins/action/rollout_report.py),
# which runs on the controller and never executes a module on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rollout_report
short_description: The gate after each batch of the rollout, and its summary
version_added: "0.1.0"
description:
  - Part of the playbook C(hostnet.nm.rollout); runs on the controller only.
  - With O(stage=batch), classifies each host of the batch (C(changed), C(unchanged), C(rolled back),
    C(failed)) and decides whether the rollout stops. It stops when the failed and rolled-back hosts
    are more than O(max_fail_percentage) percent of the batch.
  - With O(stage=final), lists every target host with its outcome (C(not reached) for the hosts the
    rollout never got to) and writes C(hostnet-rollout-summary.json) and C(hostnet-rollout-summary.md).
  - Its state lives in facts of C(localhost); run it with C(run_once=true), C(delegate_to=localhost)
    and C(delegate_facts=true).
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  stage:
    description: C(batch) after each batch, C(final) once at the end.
    type: str
    required: true
    choices: [batch, final]
  hosts:
    description: The hosts of the batch (O(stage=batch)), or the target hosts (O(stage=final); default
      the hosts the preflight checked).
    type: list
    elements: str
  max_fail_percentage:
    description: The share of a batch that may fail or roll back before the rollout stops (O(stage=batch)).
    type: float
    default: 0
  report_dir:
    description: Where to write the summary files (O(stage=final)). Default the directory the preflight
      recorded, else the current directory.
    type: path
attributes:
  check_mode:
    support: full
    details: "The summary files are written in check mode too (they are the controller's)."
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
seealso:
  - module: hostnet.nm.fleet_preflight
"""

EXAMPLES = r"""
- name: Gate the batch
  hostnet.nm.rollout_report:
    stage: batch
    hosts: "{{ hostnet_rollout_in_batch.hosts }}"
    max_fail_percentage: 10
  run_once: true
  delegate_to: localhost
  delegate_facts: true
"""

RETURN = r"""
batch:
  description: The decision (O(stage=batch)) with C(number), C(hosts), C(bad), C(percentage) and C(stop).
  returned: with O(stage=batch)
  type: dict
summary:
  description: The summary (O(stage=final)) with C(result), C(counts) and C(hosts).
  returned: with O(stage=final)
  type: dict
lines:
  description: The summary as console lines.
  returned: with O(stage=final)
  type: list
  elements: str
files:
  description: The summary files written.
  returned: with O(stage=final)
  type: list
  elements: str
"""
