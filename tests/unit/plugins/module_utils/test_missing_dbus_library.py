# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host whose Python has neither dbus-fast nor dbus-next gets Ansible's
standard missing-library message naming the packages -- never a traceback.

``ensure_dbus_library`` runs unpatched in a child Python, as on a host: it
tries both imports, probes the system interpreters (/usr/bin/python3, ...)
and would re-run the module under one that has a library. Both libraries are
hidden from every interpreter by stand-in packages ``dbus_fast`` and
``dbus_next`` that raise ImportError, first on ``PYTHONPATH``. The probes
(``probe_interpreters_for_module``) and a respawned module inherit
``PYTHONPATH``, so no system Python can take over: the failure path is
reached whatever this machine has installed, and nothing in the code under
test is patched. Should a respawn happen anyway, it fails outside AnsiballZ
and the test sees the traceback.

Under tests/unit/plugins/module_utils, ``ansible-test units`` runs this on
every Python the managed host may have (tests/config.yml: 3.9+).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ansible
from ansible_collections.hostnet.nm.plugins.module_utils import ansible_glue

CHILD = """
import json
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible_collections.hostnet.nm.plugins.module_utils.ansible_glue import ensure_dbus_library

with patch_module_args({}):
    module = AnsibleModule(argument_spec={})
    ensure_dbus_library(module)  # fail_json: prints the result and exits 1
print(json.dumps({"library_found": True}))
"""


def hide_dbus_libraries(where: Path) -> Path:
    """A directory whose ``dbus_fast`` and ``dbus_next`` fail to import."""
    for name in ("dbus_fast", "dbus_next"):
        package = where / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('%s is hidden by the test')\n" % name)
    return where


def ansible_alone(where: Path) -> Path:
    """A directory holding only the ``ansible`` package, as AnsiballZ's payload
    does on a host. (The respawn probes put ansible's parent directory first on
    their ``PYTHONPATH``: a virtualenv's site-packages would bring its own D-Bus
    library along.)"""
    where.mkdir()
    (where / "ansible").symlink_to(Path(ansible.__file__).parent)
    return where


def run_child(tmp_path: Path) -> subprocess.CompletedProcess:
    # not resolved: build/collections/... is a symlink to the checkout
    collections_root = Path(ansible_glue.__file__).parents[5]
    path = [str(hide_dbus_libraries(tmp_path / "hidden")), str(ansible_alone(tmp_path / "ansible")),
            str(collections_root)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    env.pop("HOSTNET_NM_DBUS_LIBRARY", None)
    return subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_missing_library_gives_the_standard_message_without_traceback(tmp_path: Path) -> None:
    proc = run_child(tmp_path)
    # stdout is what Ansible shows: the module's result and nothing else. (stderr has the probed
    # system interpreters' ImportErrors, which Ansible does not show; a respawn would fail there.)
    assert "Traceback" not in proc.stdout, proc.stdout
    assert "respawn" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    result = json.loads(proc.stdout)
    assert result["failed"] is True
    msg = result["msg"]
    # missing_required_lib()'s wording, then the packages to install
    assert msg.startswith("Failed to import the required Python library (dbus-fast or dbus-next)"), msg
    assert "to talk to NetworkManager" in msg
    assert result["error_kind"] == "dependency"   # the role installs the library on this fact
    for package in ("dbus-fast", "python3-dbus-fast", "python3-dbus-next"):
        assert package in msg, msg
