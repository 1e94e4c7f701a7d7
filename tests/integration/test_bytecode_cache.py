"""The host keeps the compiled code of module_utils between module runs
(module_utils/bytecode_cache.py), through Ansible on a lab host: the first run
stores it, the next run reads it without writing, and a damaged file is
compiled again, not run."""

from __future__ import annotations

import json
from typing import Dict, List

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.nm_versions]   # the hosts of 1.52 and 1.58 run Python 3.13

#: on the host: {module name: [mtime_ns, header matches the module's shipped source]} of the cache
LIST = r"""
import glob, importlib.util, json, os, sys
out = {}
for path in glob.glob(os.path.expanduser("~/.cache/hostnet.nm/bytecode/*/*.pyc")):
    with open(path, "rb") as f:
        head = f.read(16)
    out[os.path.basename(path)[:-4]] = [os.stat(path).st_mode & 0o777, os.stat(path).st_mtime_ns,
                                        head[:4] == importlib.util.MAGIC_NUMBER]
print(json.dumps(out))
"""
INFO = "ansible_collections.hostnet.nm.plugins.module_utils.info"


def cache(lab, host: str) -> Dict[str, List[int]]:
    return json.loads(lab.run(host, "python3", "-c", LIST).stdout)


def test_runs_store_then_reuse_the_compiled_code(lab, lab_host, runner) -> None:
    lab.run(lab_host, "rm", "-rf", "/root/.cache/hostnet.nm")
    runner.info(lab_host)
    first = cache(lab, lab_host)
    assert INFO in first and first[INFO][2], sorted(first)
    assert all(mode == 0o600 for mode, _mtime, _magic in first.values())
    directory = lab.run(lab_host, "sh", "-c", "stat -c %a /root/.cache/hostnet.nm/bytecode/*").stdout.split()
    assert directory == ["700"]   # one Python on the host: one directory, the user's alone

    runner.info(lab_host)
    assert cache(lab, lab_host) == first            # read, not written again

    lab.run(lab_host, "sh", "-c", "truncate -s 20 /root/.cache/hostnet.nm/bytecode/*/%s.pyc" % INFO)
    assert runner.info(lab_host)["interfaces"]      # the damaged file is not run...
    again = cache(lab, lab_host)
    assert again[INFO][1] != first[INFO][1] and again[INFO][2]   # ...it is compiled and stored anew
