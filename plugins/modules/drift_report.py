#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the action plugin of the same name (plugins/action/drift_report.py),
# which runs on the controller and never executes a module on a host.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: drift_report
short_description: The report of the drift check across an inventory
version_added: "0.1.0"
description:
  - Part of the playbook C(hostnet.nm.drift); runs on the controller only and never contacts a host.
  - Classifies each host from the check-mode run of the role C(hostnet.nm.network) before it
    (the registered C(hostnet_network_result), and C(hostnet_drift_failure) recorded by the
    playbook's rescue) as C(in sync), C(drifted) (with the operations and the diff), C(unreachable),
    C(invalid) (its variables or its document) or C(error) (the check could not run).
  - Writes the report as JSON and Markdown, C(<report_dir>/<report_name>.json) and C(.md).
  - Never fails; the playbook fails the hosts that are not in sync.
author:
  - hostnet.nm contributors (@hostnet)
options:
  hosts:
    description: The hosts to report on. Default the hosts of the play.
    type: list
    elements: str
  report_dir:
    description: Where to write the report. Default the current directory.
    type: path
  report_name:
    description: The report's file name, without the extension.
    type: str
    default: hostnet-drift-report
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: It only reads the hosts' results and writes the report on the controller, also in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: hostnet.nm.network_state
"""

EXAMPLES = r"""
- name: Write the drift report
  hostnet.nm.drift_report:
    hosts: "{{ ansible_play_hosts_all }}"
    report_dir: /var/tmp/drift
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
summary:
  description:
    - The report, with C(result) (C(in sync), C(drifted), or C(incomplete) when a host could not be
      checked), C(counts) per status and C(hosts), each with C(host), C(status), C(reason), C(plan)
      (the operations that would run) and C(diff) (a unified diff of the current and desired state).
  returned: always
  type: dict
by_host:
  description: Each host's C(status) and C(reason).
  returned: always
  type: dict
  sample: {"h1": {"status": "in sync", "reason": ""}, "h2": {"status": "drifted", "reason": "reapply eth1 (...)"}}
lines:
  description: The report as console lines.
  returned: always
  type: list
  elements: str
files:
  description: The JSON and Markdown files written.
  returned: always
  type: list
  elements: str
"""
