"""Hundreds of D-Bus calls at once, on a lab host's real system bus, with the
host's own Python and D-Bus library (what a module runs with).

The fault's kind: a batched read or write of N objects sends N calls at
once, and dbus-daemon keeps at most 128 pending replies per connection
(``max_replies_per_connection``). Beyond that, Debian 12's dbus-fast stalled
for good (a module reading 100 bridges with their ports hung until Ansible's
timeout) and newer dbus-fast raised ``BlockingIOError``. ``Bus.gather`` keeps
at most ``MAX_IN_FLIGHT`` calls unanswered.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import Lab

pytestmark = pytest.mark.lab

COLLECTIONS = Path(__file__).resolve().parents[2] / "build" / "collections"

# runs on the host: N concurrent Properties.Get calls, then the replies as JSON
GATHER = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import MAX_IN_FLIGHT, NM_PATH, PROPS, Bus, Call
from ansible_collections.hostnet.nm.plugins.module_utils.nm.reader import NM_IFACE
n = int(sys.argv[2]) * MAX_IN_FLIGHT
bus = Bus()
replies = bus.gather([Call(NM_PATH, PROPS, "Get", "ss", [NM_IFACE, "Version"])] * n)
print(json.dumps({"n": n, "library": bus.library, "replies": replies,
                  "version": bus.get(NM_PATH, NM_IFACE, "Version")}))
'''


@pytest.mark.parametrize("library", ["dbus_fast", "dbus_next"])
def test_gather_of_many_calls_answers_each_in_order(lab: Lab, lab_host: str, library: str) -> None:
    proc = lab.run(lab_host, "env", "HOSTNET_NM_DBUS_LIBRARY=%s" % library, "/usr/bin/python3", "-B", "-c", GATHER,
                   lab.collection_in(lab_host, COLLECTIONS), "12", timeout=120, check=False)   # a stall fails at the timeout
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["library"] == library
    assert out["n"] > 128                                  # more than dbus-daemon's pending-reply limit
    assert out["version"].startswith("1.")
    assert out["replies"] == [[out["version"]]] * out["n"]
