#!/usr/bin/python3
"""Python interpreter wrapper for the benchmarks (``ansible_python_interpreter``).

Runs ``/usr/bin/python3`` with the same arguments and stdin (Ansible pipes the
module in), and appends one JSON line per module run to
``/run/hostnet-bench/modules.jsonl`` on the host (the host's own /run):
``{"module": name, "wall": seconds from spawn to exit, "cpu": CPU seconds
(user + system) of the module process and its children, "rss_kib": peak
resident set size of the module process and its children in KiB, "rc": exit
status}``. That is the module time ON the host, without ssh and the
controller.

A module running longer than ``$HOSTNET_BENCH_TIMEOUT`` seconds (default 600)
is killed, logged with ``"timeout": true`` and reported to Ansible as failed,
so a hung module cannot stall the benchmark or keep the host's lock.
"""

import json
import os
import re
import resource
import subprocess
import sys
import time

PYTHON = "/usr/bin/python3"
LOG = "/run/hostnet-bench/modules.jsonl"
NAME_RE = re.compile(rb"\nansible_module='([^']+)'")  # in the AnsiballZ wrapper: hostnet.nm.network_state


def main() -> int:
    data = sys.stdin.buffer.read()
    source = data
    if len(sys.argv) > 1 and os.path.isfile(sys.argv[1]):   # without pipelining: a script file
        with open(sys.argv[1], "rb") as handle:
            source = handle.read()
    match = NAME_RE.search(source)
    timeout = float(os.environ.get("HOSTNET_BENCH_TIMEOUT", "600"))
    entry = {"module": match.group(1).decode().rsplit(".", 1)[-1] if match else "?"}
    start = time.monotonic()
    try:
        entry["rc"] = subprocess.run([PYTHON] + sys.argv[1:], input=data, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        entry.update(rc=-9, timeout=True)
        print(json.dumps({"failed": True, "msg": "benchmark: module killed after %.0f s" % timeout}))
    entry["wall"] = round(time.monotonic() - start, 4)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    entry.update(cpu=round(usage.ru_utime + usage.ru_stime, 4), rss_kib=usage.ru_maxrss)
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    with open(LOG, "a") as handle:
        handle.write(json.dumps(entry) + "\n")
    return entry["rc"] if entry["rc"] >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
