"""What a run that changes nothing does not import (issue 14 item 7): the
standard library modules only an error or a change needs. Every module
run compiles what it imports (Ansible runs modules from a zip, without
bytecode), and Ansible's own ``basic`` does not load these."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PACKAGE = "ansible_collections.hostnet.nm.plugins"
#: ``uuid`` (a new profile's UUID), ``secrets`` (os.urandom does), ``difflib`` (the "did you mean" of an error)
LATE = ("uuid", "secrets", "difflib")


def loaded_by(code: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter after running ``code``."""
    script = "import json, sys\n%s\nprint(json.dumps(sorted(sys.modules)))\n" % code
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, env=env).stdout
    return set(json.loads(out))


def test_the_no_op_path_leaves_what_only_errors_and_changes_need() -> None:
    loaded = loaded_by("import %s.modules.network_state, %s.module_utils.transaction" % (PACKAGE, PACKAGE))
    assert [m for m in LATE if m in loaded] == []


def test_they_are_loaded_when_needed() -> None:
    loaded = loaded_by("from %s.module_utils import nodes, profiles\n"
                       "assert nodes.closest('adress', ['address', 'dhcp']) == 'address'\n"
                       "assert len(profiles.new_profile('eth1', 'ethernet')['connection']['uuid']) == 36" % PACKAGE)
    assert {"uuid", "difflib"} <= loaded
