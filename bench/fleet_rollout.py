#!/usr/bin/env python3
"""Fleet benchmark: the rollout over N lab hosts, then the no-op re-run of the
role hostnet.nm.network against ``ansible -m ping`` over the same hosts with
the same forks. Goal: the re-run within 1.5x of ping.

    bench/fleet_rollout.py [--hosts 100] [--forks 50] [--rounds 3] [--prefix hnbench] [--keep]
                           [--no-record]

Brings up its own lab (prefix ``hnbench``: never another lab), resets the
hosts, runs ``hostnet.nm.rollout`` (apply), the rollout again (converge: every
host unchanged), then ``rounds`` alternating timings of ``ansible -m ping``
and of a play with the role (after one untimed warm-up of each, so that both
find ssh's master connections open). Prints the medians and the ratio and
appends them to docs/performance.md ("Fleet rollout"), unless --no-record.
The lab is torn down at the end unless --keep. Needs root (the lab)."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "lab"))
sys.path.insert(0, str(ROOT / "build" / "collections"))
from lab import Lab  # noqa: E402
from ansible_collections.hostnet.nm.plugins.plugin_utils.compose import compose  # noqa: E402

VENV = ROOT / ".venv" / "bin"
GROUP_VARS = ROOT / "tests" / "integration" / "fleet_vars.yml"   # shared with tests/integration/test_fleet.py
ROLE_PLAY = [{"name": "The role, no-op", "hosts": "lab", "gather_facts": False,
              "roles": [{"role": "hostnet.nm.network"}]}]
# the module alone, with each host's document composed beforehand (host_vars bench_state): what the
# role costs on top of hostnet.nm.network_state
MODULE_PLAY = [{"name": "The module alone, no-op", "hosts": "lab", "gather_facts": False,
                "tasks": [{"name": "network_state", "hostnet.nm.network_state": {
                    "desired_state": "{{ bench_state }}", "rollback_timeout": 30}}]}]
GOAL = 1.5


def run(argv: List[str], env: Dict[str, str], check: bool = True) -> Tuple[float, subprocess.CompletedProcess]:
    start = time.monotonic()
    proc = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3600)
    seconds = time.monotonic() - start
    if check and proc.returncode != 0:
        sys.exit("bench: %s failed (rc %d):\n%s" % (" ".join(argv[:4]), proc.returncode, proc.stdout[-4000:]))
    return seconds, proc


def machine() -> Dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    nm = subprocess.run(["NetworkManager", "--version"], capture_output=True, text=True).stdout.strip()
    core = subprocess.run([str(VENV / "ansible"), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"cpu": "%s, %d cores, %d GiB" % (cpu, os.cpu_count() or 0, mem),
            "os": "%s, kernel %s" % (_os_release(), platform.release()),
            "versions": "%s, Python %s, NetworkManager %s" % (core.replace("ansible [core ", "ansible-core ")
                                                              .rstrip("]"), platform.python_version(), nm)}


def _os_release() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.platform()


def record(figures: Dict[str, object]) -> None:
    """Append the figures to docs/performance.md, section "Fleet rollout"."""
    path = ROOT / "docs" / "performance.md"
    text = path.read_text() if path.exists() else "# Performance\n\nMeasured figures, newest last.\n"
    if "\n## Fleet rollout\n" not in text:
        text = text.rstrip("\n") + "\n\n## Fleet rollout\n\n" + (
            "`bench/fleet_rollout.py`: the rollout (`hostnet.nm.rollout`) over lab hosts, then the no-op re-run of\n"
            "the role `hostnet.nm.network` against `ansible -m ping` over the same hosts with the same forks\n"
            "(medians of alternating runs, ssh masters warm for all). Goal: the re-run within %.1fx of ping.\n"
            "\"The module alone\" is one `hostnet.nm.network_state` task with each host's document composed\n"
            "beforehand: the role's own cost is the difference.\n" % GOAL)
    m = figures["machine"]
    entry = [
        "", "### %s: %d hosts, forks %d" % (figures["date"], figures["hosts"], figures["forks"]), "",
        "- machine: %s; %s; load average at start %s" % (m["cpu"], m["os"], figures["load"]),
        "- versions: %s" % m["versions"],
        "- lab up (%d hosts): %.1f s" % (figures["hosts"], figures["lab_up"]),
        "- rollout, apply (canary + batches of %s): %.1f s, %d hosts changed" % (
            figures["batch"], figures["rollout_apply"], figures["changed"]),
        "- rollout, converge (re-run, every host unchanged): %.1f s" % figures["rollout_converge"],
        "- `ansible -m ping`: %s s (median %.2f s)" % (", ".join("%.2f" % t for t in figures["ping"]),
                                                       figures["ping_median"]),
        "- the module alone (`network_state`, no-op): %s s (median %.2f s, %.2fx ping)" % (
            ", ".join("%.2f" % t for t in figures["module"]), figures["module_median"],
            figures["module_median"] / figures["ping_median"]),
        "- the role, no-op re-run: %s s (median %.2f s)" % (", ".join("%.2f" % t for t in figures["role"]),
                                                            figures["role_median"]),
        "- **ratio role / ping: %.2f** (goal <= %.1f: %s)" % (figures["ratio"], GOAL,
                                                              "met" if figures["ratio"] <= GOAL else "NOT met"),
    ]
    # at the end of this section: other benches keep sections of their own after it
    start = text.index("\n## Fleet rollout\n") + 1
    ends = [i for i in (text.find("\n## ", start + 1), text.find("\n<!-- ", start + 1)) if i != -1]
    end = min(ends) if ends else len(text)
    section = text[start:end].rstrip("\n") + "\n" + "\n".join(entry) + "\n"
    path.write_text(text[:start] + section + ("\n" + text[end:].lstrip("\n") if end < len(text) else ""))
    print("bench: appended to %s" % path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", default="25%", help="hostnet_rollout_batch for the rollout")
    parser.add_argument("--prefix", default="hnbench")
    parser.add_argument("--keep", action="store_true", help="leave the lab up")
    parser.add_argument("--no-record", action="store_true", help="do not write docs/performance.md")
    args = parser.parse_args()

    lab = Lab(prefix=args.prefix, jobs=int(os.environ.get("HNLAB_JOBS", "8")))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    figures: Dict[str, object] = {"date": datetime.date.today().isoformat(), "hosts": args.hosts,
                                  "forks": args.forks, "batch": args.batch, "load": load, "machine": machine()}
    start = time.monotonic()
    lab.up(args.hosts)
    hosts = ["h%d" % i for i in range(1, args.hosts + 1)]
    lab.reset(*hosts)
    figures["lab_up"] = time.monotonic() - start
    print("bench: lab %s up with %d hosts in %.1f s (load %s)" % (args.prefix, args.hosts, figures["lab_up"], load))
    try:
        with tempfile.TemporaryDirectory(prefix="hostnet-bench-") as tmp:
            inventory = Path(tmp) / "inventory"
            (inventory / "group_vars").mkdir(parents=True)
            lines = [line for line in Path(lab.inventory).read_text().splitlines()
                     if not line.startswith("h") or line.split()[0] in set(hosts)]
            (inventory / "hosts.ini").write_text("\n".join(lines) + "\n")
            (inventory / "group_vars" / "lab.yml").write_text(GROUP_VARS.read_text())
            (Path(tmp) / "role.yml").write_text(yaml.safe_dump(ROLE_PLAY, sort_keys=False))
            (Path(tmp) / "module.yml").write_text(yaml.safe_dump(MODULE_PLAY, sort_keys=False))
            (inventory / "host_vars").mkdir()
            variables = yaml.safe_load(GROUP_VARS.read_text())
            for host in hosts:
                state = compose(variables, host).document
                (inventory / "host_vars" / ("%s.yml" % host)).write_text(yaml.safe_dump({"bench_state": state}))
            env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORKS=str(args.forks),
                       ANSIBLE_SSH_CONTROL_PATH_DIR=str(lab.root / "cp"), ANSIBLE_NOCOLOR="1")
            playbook = [str(VENV / "ansible-playbook"), "-i", str(inventory)]
            rollout = playbook + ["hostnet.nm.rollout", "-e", "hostnet_rollout_batch=%s" % args.batch,
                                  "-e", "hostnet_rollout_report_dir=%s" % tmp]
            figures["rollout_apply"], _ = run(rollout, env)
            counts = json.loads((Path(tmp) / "hostnet-rollout-summary.json").read_text())["counts"]
            figures["changed"] = counts["changed"]
            print("bench: rollout (apply) %.1f s: %s" % (figures["rollout_apply"], counts))
            figures["rollout_converge"], _ = run(rollout, env)
            counts = json.loads((Path(tmp) / "hostnet-rollout-summary.json").read_text())["counts"]
            if counts["unchanged"] != args.hosts:
                sys.exit("bench: the converge run changed something: %s" % counts)
            print("bench: rollout (converge) %.1f s: %s" % (figures["rollout_converge"], counts))
            ping = [str(VENV / "ansible"), "-i", str(inventory), "lab", "-m", "ansible.builtin.ping"]
            role = playbook + [str(Path(tmp) / "role.yml")]
            module = playbook + [str(Path(tmp) / "module.yml")]
            for argv in (ping, module, role):                    # warm-up, untimed
                run(argv, env)
            times: Dict[str, List[float]] = {"ping": [], "module": [], "role": []}
            for i in range(args.rounds):
                for name, argv in (("ping", ping), ("module", module), ("role", role)):
                    seconds, proc = run(argv, env)
                    if name != "ping" and re.search(r"changed=[1-9]", proc.stdout):
                        sys.exit("bench: the role's re-run changed something:\n%s" % proc.stdout[-3000:])
                    times[name].append(seconds)
                    print("bench: round %d %s %.2f s" % (i + 1, name, seconds))
            for name, values in times.items():
                figures[name], figures[name + "_median"] = values, statistics.median(values)
            figures["ratio"] = figures["role_median"] / figures["ping_median"]
    finally:
        if not args.keep:
            lab.down()
    print("bench: %d hosts, forks %d: ping %.2f s, module alone %.2f s, role no-op %.2f s, ratio %.2f (goal <= %.1f)"
          % (args.hosts, args.forks, figures["ping_median"], figures["module_median"], figures["role_median"],
             figures["ratio"], GOAL))
    if not args.no_record:
        record(figures)


if __name__ == "__main__":
    main()
