#!/usr/bin/env python3
"""hostnet.nm benchmarks, side by side with what users would pick instead (``make bench``).

    .venv/bin/python bench/run.py [--quick] [--out docs/performance.md] [--prefix hnbench]
                                  [--sizes 10,100,200,500] [--rounds 5] [--hosts 100] [--forks 50]
                                  [--floor-max 500] [--peer-profiles 50] [--no-peer] [--no-fleet]
                                  [--nm-rows 1.52]
                                  [--collections DIR --label NAME] [--baseline REV]
                                  [--keep] [--render FIGURES]

Brings up its own lab (``--prefix``, default ``hnbench``; a lab of that name
that the benchmark did not start is refused, never torn down), measures,
prints Markdown tables and writes them into ``--out`` between
``<!-- bench:NAME:begin/end -->`` markers (other sections of the file stay),
and tears the lab down, also on failure and on SIGTERM. Exit status 1 when a
run failed (the tables say which); when no run of ours succeeded, ``--out``
is left as it was. Every comparison is measured in the
same run, interleaved (the order alternates each round), as a ratio of
medians; absolute seconds are shown but are not the claim.

1. Host scale (host h1): ``hostnet.nm.network_state`` applying
   :class:`topology.Topology` of N profiles from scratch and again (no-op),
   through ansible-playbook: module time ON the host (every module process
   of the task, from ``bench/hostpython.py``), end-to-end time, phase shares
   (``timings``), D-Bus writes, peak RSS; beside each apply the same end
   state from one shell script of plain ``nmcli`` on the host (the floor).
   The 100-profile size again on a host of each ``--nm-rows`` version
   (default 1.52; a lab of its own, ``<prefix>n52``), in the same run.
2. The peer: the same end state with ``community.general.nmcli`` (one task
   per profile, from the ``ansible`` package on PyPI), end to end, apply and
   no-op, against ours.
3. Fleet: ``--hosts`` hosts, ``--forks`` forks: ``ansible -m ping``, a no-op
   ``network_state`` play and an apply play, the apply also on hosts that
   never ran the collection (their first run fills the bytecode cache).
4. Profile: cProfile of the no-op at 100 profiles and of the apply at the
   largest size, run on the host.

``--baseline REV``: the collection as it was at git revision ``REV`` is a
further contender in the host-scale and peer rounds (same lab, same rounds,
interleaved), so that this build and an earlier one are compared in one run
on a shared machine (section ``baseline``).

``--quick`` (the smoke test): 10 profiles, 3 hosts, one round, no peer, no
profile, no other NetworkManager version. Needs root (the lab) and ``bash scripts/setup.sh`` done.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests" / "lab"), str(ROOT / "tests" / "integration"),
                str(ROOT / "build" / "collections")]
import report  # noqa: E402
import tables  # noqa: E402
from ansible_run import Runner  # noqa: E402
from lab import MAX_HOSTS, NM_VERSIONS, Lab  # noqa: E402
from topology import MAX_PAIRS, NAME_RE, WAIT_CONNECTED, Topology  # noqa: E402

from ansible_collections.hostnet.nm.plugins.module_utils.nm.dbus import Bus, Call  # noqa: E402
from ansible_collections.hostnet.nm.plugins.module_utils.nm.reader import read_snapshot  # noqa: E402
from ansible_collections.hostnet.nm.plugins.module_utils.nmconst import (  # noqa: E402
    CONNECTION_IFACE, FLAG_EXTERNAL, NM_IFACE, NM_PATH)

ANSIBLE = ROOT / ".venv" / "bin" / "ansible"
PEER_PIN = "12.3.0"                    # the ansible package on PyPI that carries community.general
CACHE = HERE / ".cache"
DISCONNECTED = 30                      # NMDeviceState
OWNER = "bench.owner"                  # in the lab's root: this lab was brought up by the benchmark
LABEL_RE = re.compile(r"^[a-z0-9-]*$")
Result = Dict[str, Any]


def budget(profiles: int, noop: bool = False) -> int:
    """Seconds a task on ``profiles`` profiles may take before it counts as
    hung: an apply waits for NetworkManager, a no-op only reads."""
    return 30 + profiles // 20 if noop else 60 + profiles // 2


class Bench:
    """One lab and the ways the benchmark drives it.

    ``collections``: where ansible and the hosts find ``hostnet.nm`` (an
    ``ansible_collections`` parent); ``peer``: the same for
    ``community.general`` (or ``None``).
    """

    def __init__(self, lab: Lab, collections: Path, peer: Optional[Path], forks: int) -> None:
        self.lab, self.collections, self.forks = lab, collections, forks
        paths = [str(collections)] + ([str(peer)] if peer else [])
        self.env = {"ANSIBLE_COLLECTIONS_PATH": ":".join(paths), "ANSIBLE_FORKS": str(forks),
                    # another lab's h1 has the same address: never share its ssh master connection
                    "ANSIBLE_SSH_CONTROL_PATH_DIR": str(lab.root / "cp")}
        self.runner = Runner(lab)

    # ------------------------------------------------------------ ansible
    def play(self, hosts: List[str], tasks: List[Dict[str, Any]], timeout: int, timed: bool = True) -> Result:
        """Run ``tasks`` on ``hosts`` in one play. Returns ``{"e2e": seconds of
        ansible-playbook, "error": first failure or None, "results": [task
        results]}``; with ``timed`` the hosts run modules through
        ``bench/hostpython.py`` and ``"modules"`` lists its records (host
        ``hosts[0]``), else no wrapper adds its start-up to ``e2e``."""
        args = ["-f", str(self.forks)]
        if timed:
            args += ["-e", "ansible_python_interpreter=%s" % self.lab.copy_in(hosts[0], HERE / "hostpython.py",
                                                                             "hostpython.py")]
            self.modules(hosts[0])                       # empty the record
        play = {"hosts": "lab", "gather_facts": False, "tasks": tasks,
                "environment": {"HOSTNET_BENCH_TIMEOUT": str(timeout)}}
        for task in tasks:
            task.setdefault("timeout", timeout + 30)    # after hostpython.py's own limit
        start = time.monotonic()
        out = self.runner.play([play], *args, env=self.env, inventory=self.inventory(hosts))
        result: Result = {"e2e": time.monotonic() - start, "results": [t["result"] for t in out.tasks],
                          "error": None}
        bad = [t["result"] for t in out.tasks if t["status"] != "ok"]
        if bad:
            result["error"] = str(bad[0].get("msg") or "failed")[:300]
            result["hung"] = any(r.get("timedout") or "killed after" in str(r.get("msg")) for r in bad)
        elif out.rc:
            result["error"] = last_error(out.stdout + "\n" + out.stderr)
        if timed:
            result["modules"] = self.modules(hosts[0])
        return result

    def inventory(self, hosts: List[str]) -> str:
        """Path of an inventory with the lab's lines for ``hosts`` only (group ``lab``)."""
        path = self.lab.root / ("bench-%d.ini" % len(hosts))
        wanted = set(hosts)
        lines = [line for line in Path(self.lab.inventory).read_text().splitlines()
                 if not line.startswith("h") or line.split()[0] in wanted]
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def modules(self, host: str) -> List[Dict[str, Any]]:
        """The module runs ``hostpython.py`` recorded on ``host`` since the last call."""
        path = self.lab.state_dir(host) / "run" / "hostnet-bench" / "modules.jsonl"
        try:
            lines = path.read_text().splitlines()
            path.unlink()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines]

    def ours(self, hosts: List[str], topo: Topology, timed: bool = True, noop: bool = False) -> Result:
        """``hostnet.nm.network_state`` with ``topo`` as one task (defaults: probes,
        confirmed commit); ``noop``: the hosts have it already. Adds ``changed``
        and ``writes`` (summed over the hosts), ``timings`` (of the first host)
        and, when ``timed``, ``module`` (seconds of every module process of
        the task on the host), ``module_cpu`` (their CPU seconds), ``rss_kib``,
        ``startup`` and ``nm_cpu`` (CPU seconds NetworkManager spent meanwhile)."""
        limit = budget(topo.profiles, noop)
        # a rollback window as long as the task may take: under load, hundreds of profiles take longer to
        # write than the default 60 s, and NetworkManager would roll them back while they are written
        args = {"desired_state": topo.document(), "rollback_timeout": max(60, budget(topo.profiles))}
        cpu = self.nm_cpu(hosts[0]) if timed else 0.0
        result = self.play(hosts, [{"name": "network_state", "hostnet.nm.network_state": args}], limit, timed)
        results = result["results"]
        result.update(timings=(results[0].get("timings") or {}) if results else {},
                      writes=sum(r.get("writes") or 0 for r in results),
                      changed=sum(1 for r in results if r.get("changed")))
        if noop and result["changed"] and not result["error"]:
            result["error"] = "the no-op changed %d host(s)" % result["changed"]
        if timed:
            result["nm_cpu"] = self.nm_cpu(hosts[0]) - cpu
            mods = result["modules"]
            result["module"] = sum(m["wall"] for m in mods) if mods else None
            result["module_cpu"] = sum(m.get("cpu", 0.0) for m in mods) if mods else None
            result["rss_kib"] = max((m["rss_kib"] for m in mods), default=None)
            result["startup"] = _startup(result, mods)
        return result

    def peer(self, host: str, topo: Topology, noop: bool = False) -> Result:
        """``community.general.nmcli``, one task per profile; ``e2e`` includes
        the wait until NetworkManager has activated them all (the module
        returns before). ``changed``: how many tasks reported a change."""
        result = self.play([host], topo.peer_tasks(), budget(topo.profiles, noop), timed=False)
        start = time.monotonic()
        self.nmcli_wait(host, topo)
        result["e2e"] += time.monotonic() - start
        result["changed"] = sum(1 for r in result["results"] if r.get("changed"))
        return result

    # ------------------------------------------------------------ on the host
    def floor(self, host: str, topo: Topology) -> Result:
        """``topo`` from one shell script of plain nmcli commands on the host."""
        cpu, start = self.nm_cpu(host), time.monotonic()
        proc = self.lab.run(host, "bash", "-c", topo.nmcli_script(budget(topo.profiles)), check=False,
                            timeout=budget(topo.profiles) + 30)
        return {"module": time.monotonic() - start, "nm_cpu": self.nm_cpu(host) - cpu,
                "error": proc.stderr[-300:] if proc.returncode else None}

    def nm_cpu(self, host: str) -> float:
        """CPU seconds NetworkManager of ``host`` has used so far (user + system)."""
        fields = Path("/proc/%d/stat" % self.lab.pids(host)["nm"]).read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def nmcli_wait(self, host: str, topo: Topology) -> None:
        """Wait until every device of ``topo`` is connected (``budget`` seconds)."""
        self.lab.run(host, "bash", "-c", WAIT_CONNECTED + "wait_connected %d %d" % (topo.profiles,
                                                                                   budget(topo.profiles)))

    def profile(self, host: str, topo: Topology) -> Result:
        """cProfile of one apply of ``topo`` run on the host (``onhost.py``)."""
        proc = self.lab.run(host, "/usr/bin/python3", "-B", self.lab.copy_in(host, HERE / "onhost.py", "onhost.py"),
                            self.lab.collection_in(host, self.collections),
                            input=json.dumps(topo.document()), timeout=budget(topo.profiles) + 60)
        return json.loads(proc.stdout)

    def kernel_state(self, host: str) -> Dict[str, Any]:
        """The bench links of ``host`` as the kernel has them (see ``Topology.expected``)."""
        ns = Path(self.lab.netns(host)).name
        links = {}
        for link in json.loads(_ip(ns, "-j", "addr", "show")):
            if NAME_RE.match(link["ifname"]):
                addrs = tuple(sorted("%s/%d" % (a["local"], a["prefixlen"]) for a in link.get("addr_info", [])
                                     if a["family"] == "inet"))
                links[link["ifname"]] = (link.get("master", ""), addrs)
        static = json.loads(_ip(ns, "-j", "-4", "route", "show", "proto", "static"))
        routes = {(r["dst"], r.get("gateway", ""), r["dev"]) for r in static if NAME_RE.match(r.get("dev", ""))}
        return {"links": links, "routes": routes}

    def check(self, host: str, topo: Topology, result: Result) -> Result:
        """Mark ``result`` failed unless the kernel of ``host`` has exactly ``topo``."""
        if result.get("error") is None:
            have, want = self.kernel_state(host), topo.expected()
            if have != want:
                wrong = sorted(n for n in set(have["links"]) | set(want["links"])
                               if have["links"].get(n) != want["links"].get(n))
                result["error"] = "end state differs: links %s, %d/%d routes" % (
                    ", ".join(wrong[:5]) or "ok", len(have["routes"] & want["routes"]), len(want["routes"]))
        return result

    # ------------------------------------------------------------ from scratch
    def clean(self, hosts: List[str], topo: Optional[Topology] = None) -> None:
        """Hosts back to no profile of ours and no bench link (in parallel); with
        a ``topo`` of existing ports, its veth pairs are then created and NM
        has them as disconnected devices."""
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda h: self._clean(h, topo), hosts))

    def _clean(self, host: str, topo: Optional[Topology]) -> None:
        self._stop_hung_module(host)
        ns = Path(self.lab.netns(host)).name
        bus = Bus(self.lab.bus_address(host))
        try:
            snap = read_snapshot(bus)
            for path in snap.checkpoints:
                bus.call(Call(NM_PATH, NM_IFACE, "CheckpointDestroy", "o", [path]))
            bus.gather([Call(p.path, CONNECTION_IFACE, "Delete") for p in snap.profiles if not p.flags & FLAG_EXTERNAL],
                       return_errors=True)   # a profile may vanish meanwhile (NM's own, with its device)
            # NM removes the links it created itself, maybe while we do: errors are fine (-force)
            _ip(ns, "-force", "-batch", "-", stdin="".join("link del %s\n" % n for n in _links(ns)), check=False)
            try:
                _until(lambda: not _links(ns) and not _devices(bus), 20, "")
            except RuntimeError:   # NM keeps unrealized devices after a checkpoint rollback; a restart drops them
                self.lab.restart_nm(host)
                _until(lambda: not _devices(bus), 30, "%s: NetworkManager keeps bench devices" % host)
            if topo is not None and not topo.created:
                _ip(ns, "-batch", "-", stdin=topo.links_batch())
                want = {n: DISCONNECTED for n in topo.expected()["links"] if not n.startswith("br")}
                _until(lambda: _devices(bus) == want, 60, "%s: NM does not have the veth pairs" % host)
        finally:
            bus.close()
        (self.lab.state_dir(host) / "run" / "hostnet-nm" / "checkpoint.json").unlink(missing_ok=True)


    def _stop_hung_module(self, host: str) -> None:
        """A module that hung and outlived its task (Ansible's timeout ends the
        task, not the process) still holds the host's lock: kill it, by the
        PID the lock file names, once sure it is a process in that host."""
        path = self.lab.state_dir(host) / "run" / "hostnet-nm.lock"
        if not path.exists():
            return
        with open(path) as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return                          # nobody holds it
            except BlockingIOError:
                pid = int(lock.read().strip() or 0)
        if pid and os.stat("/proc/%d/ns/net" % pid).st_ino == os.stat(self.lab.netns(host)).st_ino:
            _say("%s: killing hung module %d" % (host, pid))
            os.kill(pid, signal.SIGKILL)
            _until(lambda: not Path("/proc/%d" % pid).exists(), 10, "%s: module %d lives on" % (host, pid))


# ---------------------------------------------------------------- helpers
def _ip(ns: str, *args: str, stdin: Optional[str] = None, check: bool = True) -> str:
    """Output of ``ip -n ns ARGS`` (run from here: only the netns is entered)."""
    return subprocess.run(["ip", "-n", ns, *args], input=stdin, capture_output=True, text=True, check=check,
                          timeout=60).stdout


def _links(ns: str) -> List[str]:
    """Bench links in the kernel of netns ``ns``."""
    names = (line.split(": ")[1].split("@")[0] for line in _ip(ns, "-o", "link", "show").splitlines())
    return [n for n in names if NAME_RE.match(n)]


def _devices(bus: Bus) -> Dict[str, int]:
    """Bench devices NetworkManager has, unrealized ones too: ``{name: NMDeviceState}``."""
    return {name: dev["state"] for name, dev in read_snapshot(bus).devices.items() if NAME_RE.match(name)}


def last_error(text: str) -> str:
    """The last line of ``text`` that says ERROR or fatal (else its last
    line), on one line, at most 300 characters: for a table cell."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    picked = next((line for line in reversed(lines) if "ERROR" in line or "fatal" in line),
                  lines[-1] if lines else "failed")
    return " ".join(picked.split())[:300]


def _until(test: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise RuntimeError(what)
        time.sleep(0.1)


def _startup(result: Result, modules: List[Dict[str, Any]]) -> Optional[float]:
    """Seconds of the network_state module process outside its timed phases
    (interpreter, Ansible's wrapper, imports, argument parsing, result)."""
    own = [m["wall"] for m in modules if m["module"] == "network_state"]
    phases = sum(v for k, v in result["timings"].items() if k != "commit")
    return own[0] - phases if own and result["timings"] else None


def interleave(rounds: int, contenders: Dict[str, Callable[[], Result]],
               once: Tuple[str, ...] = ()) -> Dict[str, List[Result]]:
    """Run each contender once per round, the order rotating each round, so
    that load changes hit them alike; those named in ``once`` run in the
    first round only. Returns ``{name: [result per round]}``."""
    names = list(contenders)
    out: Dict[str, List[Result]] = {n: [] for n in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            if r and name in once:
                continue
            out[name].append(contenders[name]())
            _say("%s round %d: %s" % (name, r + 1, _brief(out[name][-1])))
        if any(results[-1].get("hung") for results in out.values()):
            break                              # a hung module hangs again: no more rounds
    return out


def _brief(result: Result) -> str:
    parts = ["%s %.2f s" % (k, result[k]) for k in ("module", "e2e") if result.get(k) is not None]
    return ", ".join(parts) + ("; ERROR %s" % result["error"] if result.get("error") else "")


def _say(text: str) -> None:
    print("bench: %s (load %s)" % (text, report.load()), file=sys.stderr, flush=True)


def ok(results: List[Result], key: str) -> List[float]:
    """The ``key`` values of the results that did not fail."""
    return [r[key] for r in results if not r.get("error") and r.get(key) is not None]


# ---------------------------------------------------------------- the peer collection
def peer_collection() -> Path:
    """community.general from the pinned ``ansible`` package (PyPI, cached in
    bench/.cache): the parent of its ``ansible_collections``."""
    dest = CACHE / ("peer-%s" % PEER_PIN)
    if not (dest / "ansible_collections" / "community" / "general" / "MANIFEST.json").exists():
        wheels = CACHE / "dl"
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "ansible==%s" % PEER_PIN, "-d", str(wheels)], check=True)
        wheel = next(wheels.glob("ansible-%s-*.whl" % PEER_PIN))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(dest, [n for n in archive.namelist()
                                      if n.startswith("ansible_collections/community/general/")])
    return dest


def peer_version(path: Path) -> str:
    manifest = path / "ansible_collections" / "community" / "general" / "MANIFEST.json"
    return json.loads(manifest.read_text())["collection_info"]["version"]


# ---------------------------------------------------------------- the sections
def host_scale(bench: Bench, host: str, sizes: List[int], rounds: int, floor_max: int,
               baseline: Optional[Bench] = None) -> Tuple[Dict[int, Dict[str, List[Result]]], Optional[int]]:
    """Per size: ``rounds`` interleaved rounds of
    [from scratch: ours, then ours again (no-op)], [``ansible.builtin.ping``:
    an empty module] and, up to ``floor_max`` profiles, [from scratch: plain
    nmcli] (in the first round only above 100 profiles: it takes minutes
    there), and with a ``baseline`` [the same as ours with that build].
    After a hung module (killed at its budget) the other rounds and the
    larger sizes are skipped: they would hang as well. Returns ``({size: {"ours": [...], "ping": [...], "nmcli":
    [...]}}, the size that hung or None)``."""
    out: Dict[int, Dict[str, List[Result]]] = {}

    def empty() -> Result:                     # the least any Ansible module costs on this host
        result = bench.play([host], [{"name": "ping", "ansible.builtin.ping": {}}], 60)
        return dict(result, module=sum(m["wall"] for m in result["modules"]) or None)

    for n in sizes:
        topo = Topology(n)

        def ours(build: Bench = bench) -> Result:
            build.clean([host])
            applied = build.check(host, topo, build.ours([host], topo))
            applied["noop"] = build.ours([host], topo, noop=True) if not applied["error"] else {"error": "no apply"}
            applied["hung"] = applied.get("hung") or applied["noop"].get("hung")
            return applied

        def floor() -> Result:
            bench.clean([host])
            return bench.check(host, topo, bench.floor(host, topo))

        _say("host scale: %d profiles" % n)
        contenders = {"ours": ours, "ping": empty}
        if n <= floor_max:
            contenders["nmcli"] = floor
        if baseline is not None:
            contenders["baseline"] = lambda: ours(baseline)
        out[n] = interleave(rounds, contenders, once=() if n <= 100 else ("nmcli",))
        out[n].setdefault("nmcli", [])
        if any(r.get("hung") for r in out[n]["ours"]):
            bench.clean([host])
            return out, n
    bench.clean([host])
    return out, None


def versus_peer(bench: Bench, host: str, profiles: int, rounds: int,
                baseline: Optional[Bench] = None) -> Dict[str, List[Result]]:
    """Interleaved rounds of [ours: apply, no-op], [community.general.nmcli:
    apply, no-op] and with a ``baseline`` [the same as ours with that build],
    each apply from scratch over existing veth pairs."""
    topo = Topology(profiles, created=False)

    def run(apply: Callable[[bool], Result]) -> Result:
        bench.clean([host], topo)
        result = bench.check(host, topo, apply(False))
        result["noop"] = apply(True) if not result["error"] else {"error": "no apply"}
        return result

    _say("peer: %d profiles" % profiles)
    contenders = {"ours": lambda: run(lambda noop: bench.ours([host], topo, False, noop)),
                  "peer": lambda: run(lambda noop: bench.peer(host, topo, noop))}
    if baseline is not None:
        contenders["baseline"] = lambda: run(lambda noop: baseline.ours([host], topo, False, noop))
    out = interleave(rounds, contenders)
    bench.clean([host])
    return out


def fleet(bench: Bench, hosts: List[str], rounds: int) -> Dict[str, List[Result]]:
    """Over ``hosts``: an apply play from scratch on hosts that never ran the
    collection (``apply_first``: each host compiles its ``module_utils`` and
    fills its bytecode cache), the same again (``apply``: as every later run
    finds them), then interleaved rounds of ``ansible -m ping`` and a no-op
    play."""
    topo = Topology(10)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), **bench.env)
    ping_argv = [str(ANSIBLE), "-i", bench.inventory(hosts), "lab", "-m", "ansible.builtin.ping", "-f",
                 str(bench.forks)]

    def ping() -> Result:
        start = time.monotonic()
        proc = subprocess.run(ping_argv, env=env, capture_output=True, text=True, timeout=600)
        return {"e2e": time.monotonic() - start, "error": proc.stdout[-300:] if proc.returncode else None}

    def apply() -> Result:
        bench.clean(hosts)
        return bench.ours(hosts, topo, timed=False)

    _say("fleet: %d hosts, forks %d" % (len(hosts), bench.forks))
    ping()                                     # untimed: every host's ssh master connection is open
    # in this order, once each: h2... have never run a module of ours, then every host has
    applied = interleave(1, {"apply_first": apply, "apply": apply})
    out = interleave(rounds, {"ping": ping, "noop": lambda: bench.ours(hosts, topo, timed=False, noop=True)})
    return dict(out, **applied)


# ---------------------------------------------------------------- entry point
def profile_counts(text: str) -> List[int]:
    """argparse type: comma-separated even numbers of profiles, 2..2*MAX_PAIRS."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected numbers of profiles separated by commas, e.g. 10,100,500; got %r"
                                         % text) from None
    bad = [n for n in counts if n % 2 or not 2 <= n <= 2 * MAX_PAIRS]
    if bad:
        raise argparse.ArgumentTypeError("a number of profiles is a bridge + port pair count times 2: an even "
                                         "number from 2 to %d; got %s" % (2 * MAX_PAIRS, ", ".join(map(str, bad))))
    return counts


def nm_versions(text: str) -> List[str]:
    """argparse type: comma-separated NetworkManager versions of the lab other than the machine's, or 'none'."""
    if text == "none":
        return []
    versions = text.split(",")
    bad = [v for v in versions if v not in NM_VERSIONS[1:]]
    if bad:
        raise argparse.ArgumentTypeError("expected versions among %s (or none), got %s"
                                         % (", ".join(NM_VERSIONS[1:]), ", ".join(bad)))
    return versions


def in_range(low: int, high: int) -> Callable[[str], int]:
    """argparse type: an integer from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("expected a whole number, got %r" % text) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError("expected %d to %d, got %d" % (low, high, value))
        return value
    return parse


def arguments(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """The command line, every value checked before a lab is touched
    (``parser.error``: a message and exit status 2)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: sets --sizes 10 --hosts 3 --rounds 1 --no-peer, and no profiles")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--prefix", default="hnbench", help="the lab's name; never one that tests or make lab-up use")
    parser.add_argument("--sizes", type=profile_counts, default=profile_counts("10,100,200,500"),
                        help="profiles per host (even, 2..%d)" % (2 * MAX_PAIRS))
    parser.add_argument("--rounds", type=in_range(1, 20), default=5)
    parser.add_argument("--hosts", type=in_range(1, MAX_HOSTS), default=100, help="fleet size")
    parser.add_argument("--forks", type=in_range(1, 500), default=50)
    parser.add_argument("--floor-max", type=int, default=500, help="largest size also applied with plain nmcli")
    parser.add_argument("--peer-profiles", type=lambda t: profile_counts(t)[0], default=50)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-fleet", action="store_true", help="skip the fleet section")
    parser.add_argument("--nm-rows", type=nm_versions,
                        help="NetworkManager versions (comma-separated, of %s; 'none') whose host also gets the "
                             "100-profile row (default 1.52; none with --quick)" % ", ".join(NM_VERSIONS[1:]))
    parser.add_argument("--collections", type=Path, default=ROOT / "build" / "collections",
                        help="where hostnet.nm is (ansible_collections/hostnet/nm below it), to compare builds")
    parser.add_argument("--label", default="", help="[a-z0-9-] name of the --collections build: its own sections")
    parser.add_argument("--baseline", metavar="REV",
                        help="a git revision of this repository whose collection also runs in the host-scale and "
                             "peer rounds, interleaved with this build (section baseline)")
    parser.add_argument("--keep", action="store_true", help="leave the lab up")
    parser.add_argument("--render", type=Path, help="no run: the tables from a saved figures-*.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.rounds, args.hosts, args.no_peer = [10], 1, 3, True
    if args.nm_rows is None:
        args.nm_rows = [] if args.quick else ["1.52"]
    if not LABEL_RE.match(args.label):
        parser.error("--label: only a-z, 0-9 and -, got %r" % args.label)
    if args.render and not args.render.is_file():
        parser.error("--render: no such file: %s" % args.render)
    if args.out.is_dir() or not args.out.parent.is_dir():
        parser.error("--out: must be a file in an existing folder: %s" % args.out)
    if not (args.collections / "ansible_collections" / "hostnet" / "nm" / "galaxy.yml").is_file():
        parser.error("--collections: no ansible_collections/hostnet/nm/galaxy.yml below %s (run `make setup` "
                     "for the default)" % args.collections)
    args.baseline_build = baseline_build(parser, args.baseline) if args.baseline and not args.render else None
    if args.hosts < 3 and not args.no_fleet:
        parser.error("--hosts: the fleet section needs at least 3 hosts (or --no-fleet)")
    return args


def main() -> int:
    args = arguments()
    # a terminated run still tears its lab down (the finally in run())
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda num, _frame: sys.exit(128 + num))
    if args.render:
        figures = json.loads(args.render.read_text())
        figures["scale"] = {int(n): runs for n, runs in figures["scale"].items()}
    else:
        figures = run(args, args.sizes)
        CACHE.mkdir(exist_ok=True)
        (CACHE / ("figures-%s%s.json" % (args.prefix, "-" + args.label if args.label else ""))).write_text(
            json.dumps(figures, indent=1, default=str))
    failures = failed_runs(figures)
    if not any(not r.get("error") for runs in figures.get("scale", {}).values() for r in runs.get("ours", [])):
        print("bench: no run of hostnet.nm succeeded, %s left as it was: %s" % (args.out, "; ".join(failures[:3])),
              file=sys.stderr)
        return 1
    sections = tables.sections(figures, args.quick, args.label)
    for body in sections.values():
        print(body + "\n")
    report.update_doc(args.out, sections)
    print("bench: wrote %s" % args.out, file=sys.stderr)
    if failures:
        print("bench: %d run(s) failed (see the Failures lines of the tables): %s" % (
            len(failures), "; ".join(failures[:3])), file=sys.stderr)
        return 1
    return 0


def failed_runs(figures: Any) -> List[str]:
    """The ``error`` of every result in ``figures`` (nested), in order."""
    if isinstance(figures, dict):
        own = [str(figures["error"])] if figures.get("error") else []
        return own + [e for key, v in figures.items() if key != "error" for e in failed_runs(v)]
    if isinstance(figures, list):
        return [e for v in figures for e in failed_runs(v)]
    return []


def baseline_build(parser: argparse.ArgumentParser, rev: str) -> Tuple[str, Path]:
    """``(REV and its commit, the parent of its ansible_collections)``: the
    collection at git revision ``rev``, unpacked with ``git archive`` into
    bench/.cache once per commit (``parser.error`` when ``rev`` is no commit)."""
    proc = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", rev + "^{commit}"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        parser.error("--baseline: not a commit of this repository: %r" % rev)
    commit = proc.stdout.strip()
    dest = CACHE / ("baseline-%s" % commit[:12])
    tree = dest / "ansible_collections" / "hostnet" / "nm"
    if not (tree / "galaxy.yml").is_file():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return "%s (%s)" % (rev, commit[:12]), dest


def take_lab(lab: Lab) -> Any:
    """Lock the lab's name (the convention of tests/integration) and remove
    what a killed benchmark run left of it. Returns the lock (keep it open).

    Raises:
        SystemExit: a lab of that name is up and the benchmark did not start it.
    """
    lock = open("/run/lock/%s.session.lock" % lab.prefix, "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        _say("lab %s is in use by another run: waiting for it" % lab.prefix)
        fcntl.flock(lock, fcntl.LOCK_EX)
    if lab.root.exists() and not (lab.root / OWNER).exists():
        lock.close()
        raise SystemExit("bench: a lab named %s is up and the benchmark did not start it: use another --prefix, "
                         "or tear it down with HNLAB_PREFIX=%s bash tests/lab/down.sh" % (lab.prefix, lab.prefix))
    lab.down()                                   # leftovers of a killed run of ours
    return lock


def run(args: argparse.Namespace, sizes: List[int]) -> Dict[str, Any]:
    """Bring up the lab, measure every section, tear the lab down. Returns the figures."""
    peer = None if args.no_peer else peer_collection()
    figures: Dict[str, Any] = {"machine": report.machine(peer_version(peer) if peer else None, PEER_PIN),
                               "load_start": report.load(), "sizes": sizes, "hosts": args.hosts,
                               "forks": args.forks, "peer_profiles": args.peer_profiles}
    lab = Lab(prefix=args.prefix, jobs=8)
    lock = take_lab(lab)
    start = time.monotonic()
    try:
        lab.up(args.hosts)
        (lab.root / OWNER).write_text("bench/run.py pid %d\n" % os.getpid())
        _say("lab %s up with %d hosts in %.0f s" % (lab.prefix, args.hosts, time.monotonic() - start))
        bench = Bench(lab, args.collections.resolve(), peer, args.forks)
        base = None
        if args.baseline_build:
            base = Bench(lab, args.baseline_build[1], None, args.forks)
            figures["baseline"] = {"revision": args.baseline_build[0]}
        figures["scale"], figures["hung"] = host_scale(bench, "h1", sizes, args.rounds, args.floor_max, base)
        figures["nm_rows"] = {v: other_version(args, v, bench.collections) for v in args.nm_rows}
        if peer:
            figures["peer"] = versus_peer(bench, "h1", args.peer_profiles, args.rounds, base)
        if not args.no_fleet:
            figures["fleet"] = fleet(bench, ["h%d" % i for i in range(1, args.hosts + 1)], args.rounds)
        bench.clean(["h1"])
        if not args.quick:
            _say("profiles")
            largest = max((n for n in figures["scale"] if n != figures["hung"]), default=sizes[0])
            figures["profile"] = {"noop": _profiled(bench, Topology(min(100, largest)), noop=True),
                                  "apply": _profiled(bench, Topology(largest), noop=False)}
    finally:
        if not args.keep:
            lab.down()
        lock.close()
    figures["load_end"] = report.load()
    figures["minutes"] = (time.monotonic() - start) / 60
    return figures


def other_version(args: argparse.Namespace, version: str, collections: Path) -> Dict[str, Any]:
    """The 100-profile host-scale size on a host of NetworkManager ``version``
    (a lab of its own, one host, torn down after). Returns ``{"nm": its
    Version, "python": the host's Python, "scale": {100: runs}}``."""
    lab = Lab(prefix="%sn%s" % (args.prefix[:12], version.split(".")[1]), jobs=2, nm=version)
    lock = take_lab(lab)
    try:
        lab.up(1)
        (lab.root / OWNER).write_text("bench/run.py pid %d\n" % os.getpid())
        _say("NetworkManager %s: lab %s up" % (version, lab.prefix))
        bench = Bench(lab, collections, None, args.forks)
        scale, _hung = host_scale(bench, "h1", [100], args.rounds, args.floor_max)
        return {"nm": ".".join(map(str, lab.nm_version("h1"))), "scale": scale,
                "python": lab.run("h1", "python3", "--version").stdout.split()[-1]}
    finally:
        if not args.keep:
            lab.down()
        lock.close()


def _profiled(bench: Bench, topo: Topology, noop: bool) -> Result:
    bench.clean(["h1"])
    if noop:
        bench.ours(["h1"], topo, timed=False)     # then the profiled run changes nothing
    try:
        return dict(bench.profile("h1", topo), profiles=topo.profiles)
    except subprocess.CalledProcessError as exc:
        return {"profiles": topo.profiles, "error": "the profiled run failed: " + last_error(exc.stderr or "")}
    except (subprocess.SubprocessError, ValueError) as exc:
        return {"profiles": topo.profiles, "error": last_error(str(exc))}


if __name__ == "__main__":
    sys.exit(main())
