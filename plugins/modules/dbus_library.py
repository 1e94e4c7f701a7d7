#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# This file only documents the action plugin of the same name (plugins/action/dbus_library.py).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dbus_library
short_description: Make sure the D-Bus library the hostnet.nm modules need is on the host
version_added: "0.1.0"
description:
  - Asks each Python the modules may use (the interpreter Ansible uses, then C(/usr/bin/python3),
    C(/usr/libexec/platform-python), C(/usr/bin/python)) whether it can find C(dbus_fast) or
    C(dbus_next). That is one shell command and nothing else when one can.
  - Only when none can, reads minimal facts and installs the first package of
    O(packages)[C(ansible_os_family)] that installs (through C(ansible.builtin.package)), then asks
    again. Fails saying what to do when there is still no library (for example C(pip install dbus-fast)).
  - Used by the role C(hostnet.nm.network) (C(hostnet_manage_dbus_library)).
author:
  - hostnet.nm contributors (@hostnet)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  packages:
    description: Packages to try, in order, per C(ansible_os_family).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: "In check mode a missing library is reported as changed (would install); nothing is installed."
  diff_mode:
    support: none
  platform:
    platforms: posix
  action:
    support: full
    details: "An action plugin: one shell command on the host, modules only when the library is missing."
  async:
    support: none
  bypass_host_loop:
    support: none
"""

EXAMPLES = r"""
- name: D-Bus library for hostnet.nm
  hostnet.nm.dbus_library:
    packages:
      Debian: [python3-dbus-fast, python3-dbus-next]
      RedHat: [python3-dbus-next]
"""

RETURN = r"""
interpreter:
  description: The Python that finds a library.
  returned: when one does
  type: str
  sample: /usr/bin/python3
installed:
  description: The package installed.
  returned: when one was
  type: str
tried:
  description: Each package tried, with the outcome.
  returned: when no package helped
  type: list
  elements: str
"""
