# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager's configuration files, where they decide what D-Bus cannot change.

A ``[global-dns]`` or ``[global-dns-domain-*]`` section in NetworkManager's
configuration overrides the name servers of every profile (from 1.56 also
their search domains and options), and NetworkManager refuses to change it
over D-Bus. A DNS configuration written into profiles would then never reach
resolv.conf.
"""

from __future__ import annotations

import glob
import os
import re
from typing import List

# NetworkManager.conf(5): the main file, then conf.d of /usr/lib, /run and /etc
CONFIG_FILES = ("/etc/NetworkManager/NetworkManager.conf", "/usr/lib/NetworkManager/conf.d/*.conf",
                "/run/NetworkManager/conf.d/*.conf", "/etc/NetworkManager/conf.d/*.conf")
_GLOBAL_DNS = re.compile(r"^\s*\[global-dns(-domain-[^\]]*)?\]\s*$", re.MULTILINE)


def global_dns_files(root: str = "/") -> List[str]:
    """Paths of NetworkManager configuration files under ``root`` with a global
    DNS section, in the order NetworkManager reads them (``[]`` when none)."""
    found = []
    for pattern in CONFIG_FILES:
        for path in sorted(glob.glob(os.path.join(root, pattern.lstrip("/")))):
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    if _GLOBAL_DNS.search(handle.read()):
                        found.append(path)
            except OSError:
                continue  # unreadable or gone: NetworkManager cannot read it either
    return found
