# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation shared by the modules that talk to NetworkManager."""

from __future__ import annotations


class ModuleDocFragment:
    """What every hostnet.nm module needs on the managed host."""

    DOCUMENTATION = r"""
options: {}
requirements:
  - NetworkManager 1.42 or later running on the managed host, on the D-Bus system bus.
  - The Python library C(dbus-fast) (preferred) or C(dbus-next) for the Python interpreter Ansible uses
    on the managed host, or for a system Python there (see the notes). Packages C(python3-dbus-fast) or
    C(python3-dbus-next) on Debian and Ubuntu, C(python3-dbus-next) on Fedora and EPEL, or
    C(pip install dbus-fast).
notes:
  - The module speaks to NetworkManager over its D-Bus API; it runs no C(nmcli) and parses no text.
  - When the Python interpreter that Ansible uses on the host has neither D-Bus library, the module runs
    itself again under a system Python (C(/usr/bin/python3), C(/usr/libexec/platform-python),
    C(/usr/bin/python)) that has one. When none has, it fails with Ansible's standard missing-library
    message naming the packages above; nothing is changed.
"""
