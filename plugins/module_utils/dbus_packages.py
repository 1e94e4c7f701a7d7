# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a host's D-Bus library comes from: the import names, the
distribution packages, the system Pythons that may have them. One
definition for the host side (:mod:`.nm.dbus`, :mod:`.ansible_glue`) and the
controller's ``hostnet.nm.dbus_library`` action. Pure data.
"""

from __future__ import annotations

from typing import List, Tuple

#: the libraries, in the order the modules prefer them (dbus-fast is the maintained fork of dbus-next)
LIBRARIES: Tuple[str, ...] = ("dbus_fast", "dbus_next")

#: Debian/Ubuntu and Fedora/RHEL package names, for the missing-library message
PACKAGES = "python3-dbus-fast or python3-dbus-next (Debian/Ubuntu), python3-dbus-next (Fedora/EPEL), " \
           "or 'pip install dbus-fast'"

#: system interpreters that may have the distribution's D-Bus bindings (the modules re-run themselves under one)
SYSTEM_PYTHONS: List[str] = ["/usr/bin/python3", "/usr/libexec/platform-python", "/usr/bin/python"]
