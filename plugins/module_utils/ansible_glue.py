# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the modules share: finding a Python with a D-Bus library, keeping
secrets out of results and logs, and turning core errors into
``fail_json``. The only module_utils file that imports Ansible."""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.respawn import has_respawned, probe_interpreters_for_module, respawn_module

from .dbus_packages import LIBRARIES, PACKAGES, SYSTEM_PYTHONS
from .errors import DependencyError, HostnetError
from .nm import kernel
from .redact import redact, scrub, secret_values


def ensure_dbus_library(module: AnsibleModule) -> None:
    """Make sure dbus-fast or dbus-next is importable, re-running the module
    under a system Python that has one (as ansible.posix's firewalld does);
    otherwise fail with Ansible's standard missing-library message and
    ``error_kind: dependency`` (the role hostnet.nm.network installs the
    library on that fact)."""
    for name in LIBRARIES:
        try:
            __import__(name + ".aio")
            return
        except ImportError:
            continue
    if not has_respawned():
        for name in LIBRARIES:
            interpreter = probe_interpreters_for_module(SYSTEM_PYTHONS, name)
            if interpreter:
                respawn_module(interpreter)  # does not return
    module.fail_json(msg=missing_required_lib("dbus-fast or dbus-next", reason="to talk to NetworkManager",
                                              url="https://pypi.org/project/dbus-fast/") + ". Packages: " + PACKAGES,
                     error_kind=DependencyError.kind)


class HostnetModule(AnsibleModule):
    """``AnsibleModule`` that never logs or returns a secret of its
    parameters: the values under keys that name a secret (``password``,
    ``psk``... anywhere in ``desired_state``, see :mod:`.redact`) join
    ``no_log_values`` before Ansible logs the invocation to the journal, so
    Ansible masks them in the log line, in ``invocation`` and in every
    result."""

    def _log_invocation(self) -> None:
        self.no_log_values.update(secret_values(self.params))
        super()._log_invocation()


def run(module: AnsibleModule, action: Callable[[], Dict[str, Any]]) -> None:
    """Call the core and exit: ``exit_json`` with its result, or
    ``fail_json`` with the error's message and partial result. No traceback
    ever reaches the user for an error the core knows. Secrets are masked
    in both (:func:`~.redact.redact`: by key, and their values in text).
    Commands on the host (iproute2's ``ip``) run through the module's
    ``run_command``."""
    kernel.use_runner(lambda argv: module.run_command(argv, check_rc=False))
    secrets = secret_values(module.params)
    module.no_log_values.update(secrets)
    try:
        result = redact(action(), secrets)
    except HostnetError as exc:
        result = redact(dict(exc.result), secrets)
        result.setdefault("changed", bool(result.get("writes")))
        _warn(module, result)
        module.fail_json(msg=scrub(exc.message, secrets), error_kind=exc.kind, **result)
    _warn(module, result)
    module.exit_json(**result)


def _warn(module: AnsibleModule, result: Dict[str, Any]) -> None:
    # Ansible shows warnings through module.warn(); a "warnings" result key is deprecated
    for text in result.pop("warnings", []):
        module.warn(text)
