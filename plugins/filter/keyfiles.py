# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter ``keyfiles``: a desired state -> ``{file name: keyfile text}``, for templating.
The same core as the module hostnet.nm.keyfiles (module_utils/keyfiles.py)."""

from __future__ import annotations

from typing import Any, Dict

from ansible.errors import AnsibleFilterError

from ansible_collections.hostnet.nm.plugins.module_utils.errors import HostnetError
from ansible_collections.hostnet.nm.plugins.module_utils.keyfiles import generate


def keyfiles(desired_state: Any) -> Dict[str, str]:
    """``{"eth0.nmconnection": "[connection]\\n..."}``; every problem of the
    document at once as one AnsibleFilterError. A document whose profiles
    hold secrets is refused: use the module with ``dest``."""
    try:
        files = generate(desired_state).files
    except HostnetError as exc:
        raise AnsibleFilterError("hostnet.nm.keyfiles: %s" % exc.message)
    secret = [f.interface for f in files if f.secrets]
    if secret:
        raise AnsibleFilterError("hostnet.nm.keyfiles: %s hold secrets, which a filter would put into variables "
                                 "and logs; use the module hostnet.nm.keyfiles with dest" % ", ".join(secret))
    return {f.filename: f.text for f in files}


class FilterModule:
    """hostnet.nm filters."""

    def filters(self) -> Dict[str, Any]:
        return {"keyfiles": keyfiles}
