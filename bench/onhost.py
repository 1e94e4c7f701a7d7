"""Profile one apply ON a lab host: ``python3 -B onhost.py COLLECTIONS_DIR [TOP]``
with the desired-state document as JSON on stdin.

Imports the collection from ``COLLECTIONS_DIR`` (no bytecode cache, like an
Ansible module), applies the document with the core's defaults (probes on,
committed here: no controller), all under cProfile, and prints JSON:
``{"import": seconds, "apply": seconds, "timings": {phase: seconds},
"writes": n, "changed": bool, "top": [{"function", "calls", "tottime",
"cumtime"}]}`` with the ``TOP`` (default 12) entries of largest cumulative
time that are the collection's own code, the D-Bus library or the event
loop's wait (seconds).
"""

import cProfile
import json
import pstats
import sys
import time

WATCHED = ("hostnet/nm/plugins", "dbus_fast", "dbus_next", "select.epoll", "socket")


def top(profile: cProfile.Profile, limit: int):
    """The ``limit`` watched entries of ``profile`` with the largest cumulative time."""
    stats = pstats.Stats(profile).stats  # {(file, line, name): (cc, nc, tottime, cumtime, callers)}
    rows = []
    for (path, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.items():
        short = path.split("/plugins/")[-1].split("-packages/")[-1]
        where = "%s:%d(%s)" % (short, line, name) if line else name
        if any(w in path or w in name for w in WATCHED):
            rows.append({"function": where, "calls": calls, "tottime": round(tottime, 3),
                         "cumtime": round(cumtime, 3)})
    return sorted(rows, key=lambda r: -r["cumtime"])[:limit]


def main() -> None:
    sys.path.insert(0, sys.argv[1])
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    doc = json.load(sys.stdin)
    profile = cProfile.Profile()
    start = time.monotonic()
    profile.enable()
    from ansible_collections.hostnet.nm.plugins.module_utils import transaction
    imported = time.monotonic()
    result = transaction.apply(doc, transaction.Options())
    profile.disable()
    done = time.monotonic()
    print(json.dumps({"import": round(imported - start, 3), "apply": round(done - imported, 3),
                      "timings": result["timings"], "writes": result["writes"], "changed": result["changed"],
                      "top": top(profile, limit)}))


if __name__ == "__main__":
    main()
