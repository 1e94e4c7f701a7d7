#!/usr/bin/env python3
"""Drift healing benchmark: how long from a manual change on a host to the host back in its declared
state, with the reconciler agent (role hostnet.nm.reconciler) running. Goal: under 5 s.

    bench/drift_heal.py [--rounds 7] [--prefix hndbench] [--keep] [--no-record]

Brings up its own lab of one host (prefix ``hndbench``: never another lab), installs the agent with
the role (its default settings; the lab has no systemd, so a plain process), lets it apply the
declared state (eth1 static with a route), then ``rounds`` times each (the fight-loop guard is
raised: each round is a drift):

- ``ip addr del`` of the managed address: timed until the address is on eth1 again;
- ``nmcli connection modify`` of the managed profile (another address) + ``nmcli connection up``:
  timed from the first command until the profile and the live address are the declared ones.

The state is polled every 20 ms from outside (one ``ip``/``nmcli`` run per poll, some 10-40 ms: the
figures are upper bounds). Prints the medians and writes the "Drift healing" section of
docs/performance.md (between ``<!-- bench:drift:begin -->`` and ``<!-- bench:drift:end -->``; the
other sections stay), unless --no-record. The lab is torn down at the end unless --keep. Needs root.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from lab import Lab  # noqa: E402
from ansible_run import Runner  # noqa: E402
from reconciler_agent import LOG, Agent, document, install_play, wait_for  # noqa: E402

HOST = "h1"
GOAL = 5.0
PERFORMANCE = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:drift:begin -->", "<!-- bench:drift:end -->"


def timed(change: Callable[[], None], healed: Callable[[], bool]) -> float:
    """Seconds from the start of ``change`` until ``healed()`` holds (at most 30 s)."""
    start = time.monotonic()
    change()
    wait_for(healed, 30, "the declared state", step=0.02)
    return time.monotonic() - start


def measure(lab: Lab, agent: Agent, rounds: int) -> Dict[str, List[float]]:
    """``{kind: [seconds per round]}`` for the two kinds of manual change."""
    declared = "%s/24" % lab.data_ip(HOST, 1)

    def live() -> str:
        return lab.run(HOST, "ip", "-4", "-o", "addr", "show", "dev", "eth1").stdout

    def profile() -> str:
        return lab.run(HOST, "nmcli", "-g", "ipv4.addresses", "connection", "show", "eth1").stdout.strip()

    def edit() -> None:
        lab.run(HOST, "nmcli", "connection", "modify", "eth1", "ipv4.addresses", "198.18.1.99/24")
        lab.run(HOST, "nmcli", "connection", "up", "eth1")

    out: Dict[str, List[float]] = {"address": [], "profile": []}
    for n in range(rounds):
        out["address"].append(timed(lambda: lab.run(HOST, "ip", "addr", "del", declared, "dev", "eth1"),
                                    lambda: declared in live()))
        wait_for(lambda: agent.status().get("state") == "watching", 10, "the agent to settle")
        time.sleep(1)
        out["profile"].append(timed(edit, lambda: profile() == declared and declared in live()
                                    and "198.18.1.99" not in live()))
        wait_for(lambda: agent.status().get("state") == "watching", 10, "the agent to settle")
        time.sleep(1)
        print("round %d: address %.2f s, profile %.2f s" % (n + 1, out["address"][-1], out["profile"][-1]))
    return out


def section(results: Dict[str, List[float]], heals: int, failures: int) -> str:
    """The Markdown section for docs/performance.md."""
    rows = [("`ip addr del` of the managed address", results["address"]),
            ("`nmcli connection modify` (another address) + `nmcli connection up`", results["profile"])]
    load = os.getloadavg()[0]
    lines = [BEGIN, "## Drift healing", "",
             "`bench/drift_heal.py`, %s, %s, %d CPUs, load average %.1f at the end: the reconciler agent "
             "(role `hostnet.nm.reconciler`, default settings but `max_heals`, a plain process) on one lab host; time from "
             "the start of a manual change to the host back in its declared state (eth1 static with a route), "
             "polled every 20 ms from outside. Goal: under %.0f s." % (
                 datetime.date.today().isoformat(), platform.machine(), os.cpu_count() or 0, load, GOAL), "",
             "| manual change | median | min | max | rounds |", "|---|---|---|---|---|"]
    for name, values in rows:
        lines.append("| %s | %.2f s | %.2f s | %.2f s | %d |" % (name, statistics.median(values), min(values),
                                                             max(values), len(values)))
    lines += ["", "Every heal is a full transaction: check (read, plan), checkpoint, write, activate or reapply, "
              "verification of the live state, probes, commit (%d heals, %d failed)." % (heals, failures), END]
    return "\n".join(lines)


def record(text: str, path: Path = PERFORMANCE) -> None:
    """Put ``text`` between the markers of ``path`` (appended when they are not there yet; the rest of
    the file, other benchmarks' sections, is kept)."""
    old = path.read_text() if path.exists() else "# Performance\n"
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + text + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--prefix", default="hndbench")
    parser.add_argument("--keep", action="store_true", help="leave the lab up")
    parser.add_argument("--no-record", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()
    lab = Lab(args.prefix, nics=2)
    lab.up(1)
    agent = Agent(lab, HOST)
    try:
        agent.stop()
        lab.reset(HOST)
        # every round is a new drift: more heals than the fight-loop guard allows by default
        result = Runner(lab).play(install_play(HOST, document(lab, HOST), hostnet_reconciler_max_heals=1000))
        if result.rc != 0:
            sys.exit("bench: the role failed:\n%s" % result.stdout[-3000:])
        lab.run(HOST, "sh", "-c", "true > %s" % LOG)
        pid = wait_for(agent.pid, 30, "the agent")
        wait_for(lambda: agent.in_sync(pid), 30, "the declared state")
        results = measure(lab, agent, args.rounds)
        failures = len(agent.events("heal-failed"))
        heals = len(agent.events("heal"))
    finally:
        agent.stop()
        if not args.keep:
            lab.down()
    for name, values in results.items():
        print("%s: median %.2f s (min %.2f, max %.2f) over %d rounds" % (
            name, statistics.median(values), min(values), max(values), len(values)))
    if failures:
        print("bench: %d heal(s) failed; see the log" % failures)
    if not args.no_record:
        record(section(results, heals, failures))
        print("recorded in %s" % PERFORMANCE)
    return 0 if max(statistics.median(v) for v in results.values()) < GOAL and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
