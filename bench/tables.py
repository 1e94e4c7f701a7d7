"""The sections of docs/performance.md this suite owns, from the figures of
one ``run.py`` run: ``sections(figures, quick)`` returns ``{name: Markdown}``.

All times are seconds; each cell is the median of the rounds that did not
fail; ratios are ratios of those medians, measured in the same run.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from report import median, ratio, seconds, table

PHASES = ("read", "plan", "probe", "write", "activate", "verify")
NMSTATE_S = 5.7                  # nmstate's published time: 100 bridges over 100 VLANs from scratch
GOALS = {"noop100": 0.3, "floor": 1.5, "peer_apply": 5.0, "peer_noop": 10.0, "fleet": 1.3, "growth": 1.3}
Runs = List[Dict[str, Any]]


def _med(runs: Runs, key: str, sub: Optional[str] = None) -> Optional[float]:
    """Median of ``key`` over the runs (or over their ``sub`` results) that did not fail."""
    picked = [r.get(sub) or {} for r in runs] if sub else runs
    return median(r.get(key) for r in picked if not r.get("error"))


def _count(runs: Runs, key: str, sub: Optional[str] = None) -> str:
    """A median count for a cell (``-`` when not measured)."""
    value = _med(runs, key, sub)
    return "-" if value is None else "%g" % value


def _errors(runs: Runs, sub: Optional[str] = None) -> str:
    """``"k of n rounds failed: <the distinct errors>"``, or ``""``."""
    picked = [r.get(sub) or {} for r in runs] if sub else runs
    failed = [r["error"] for r in picked if r.get("error")]
    if not failed:
        return ""
    return "%d of %d rounds failed: %s" % (len(failed), len(picked), "; ".join(sorted(set(failed))))


def _div(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def _cell(runs: Runs, key: str, sub: Optional[str] = None) -> str:
    value = _med(runs, key, sub)
    return seconds(value) if value is not None else ("failed" if _errors(runs, sub) else "-")


# ---------------------------------------------------------------- verdicts
def verdict(value: Optional[float], goal: float, higher_is_better: bool = False, unit: str = " s") -> str:
    """``met``/``missed by ...`` for a measured value against its goal."""
    if value is None:
        return "not measured"
    good = value >= goal if higher_is_better else value <= goal
    shown = ("%.2fx" % value) if unit == "x" else ("%.2f%s" % (value, unit))
    goal_shown = ("%.1fx" % goal) if unit == "x" else ("%.1f%s" % (goal, unit))
    if good:
        return "**met**: %s (goal %s %s)" % (shown, ">=" if higher_is_better else "<=", goal_shown)
    return "**missed** by %.0f%%: %s (goal %s %s)" % (abs(value / goal - 1) * 100, shown,
                                                     ">=" if higher_is_better else "<=", goal_shown)


def growth(scale: Dict[int, Dict[str, Runs]], sub: Optional[str] = None) -> Tuple[List[str], Optional[float]]:
    """Marginal module seconds per profile between consecutive sizes, and the
    last step's over the first's (<= ~1 is linear or better)."""
    points = [(n, _med(runs["ours"], "module", sub)) for n, runs in sorted(scale.items())]
    points = [(n, t) for n, t in points if t is not None]
    steps = [(n0, n1, (t1 - t0) / (n1 - n0)) for (n0, t0), (n1, t1) in zip(points, points[1:])]
    text = ["%d->%d: %.1f ms" % (n0, n1, m * 1000) for n0, n1, m in steps]
    last_over_first = steps[-1][2] / steps[0][2] if len(steps) > 1 and steps[0][2] > 0 else None
    return text, last_over_first


def targets(fig: Dict[str, Any]) -> str:
    """The goals of the benchmark issue, met or missed."""
    scale, peer, fleet = fig.get("scale", {}), fig.get("peer"), fig.get("fleet", {})
    s100 = scale.get(100, {})
    noop100 = _med(s100.get("ours", []), "module", "noop")
    floor = _div(_med(s100.get("ours", []), "module"), _med(s100.get("nmcli", []), "module"))
    empty = _med(s100.get("ping", []), "module")
    rows = [["no-op, 100 profiles: module time on the host", verdict(noop100, GOALS["noop100"]),
             _where(s100.get("ours", []), "noop") + ("; an empty module (`ansible.builtin.ping`) takes %.2f s here"
                                                     % empty if empty else "")],
            ["apply from scratch, 100 profiles: module time / plain-nmcli script", verdict(floor, GOALS["floor"],
                                                                                         unit="x"),
             _where(s100.get("ours", []), None)]]
    if peer:
        rows += [["apply: community.general.nmcli / ours (end to end, %d profiles)" % fig["peer_profiles"],
                  verdict(_div(_med(peer["peer"], "e2e"), _med(peer["ours"], "e2e")), GOALS["peer_apply"], True,
                          "x"), _errors(peer["ours"])[:160] or "one module run vs one per profile"],
                 ["no-op re-run: community.general.nmcli / ours (end to end)",
                  verdict(_div(_med(peer["peer"], "e2e", "noop"), _med(peer["ours"], "e2e", "noop")),
                          GOALS["peer_noop"], True, "x"), _errors(peer["ours"], "noop")[:160]]]
    rows.append(["fleet no-op / `ansible -m ping`, %d hosts" % fig["hosts"],
                 verdict(_div(_med(fleet.get("noop", []), "e2e"), _med(fleet.get("ping", []), "e2e")),
                         GOALS["fleet"], unit="x"), _errors(fleet.get("noop", []))[:160] or
                 "the lab's hosts share this machine's %s cores: every host's module CPU adds up" % _nproc()])
    s200 = scale.get(200, {})
    hung = "from %d profiles up not measured: the module hung there" % fig["hung"] if fig.get("hung") else ""
    rows.append(["100 bridges + 100 ports from scratch (module time) vs nmstate's published 5.7 s (not measured "
                 "here, another setup: see below)",
                 verdict(_med(s200.get("ours", []), "module"), NMSTATE_S),
                 _where(s200.get("ours", []), None) or hung])
    steps, last_over_first = growth(scale)
    cpu = "CPU per profile, the module's own: %s; NetworkManager's: %s" % (_per_profile(scale, "module_cpu"),
                                                                          _per_profile(scale, "nm_cpu"))
    rows.append(["apply cost grows linearly or better (last step's ms/profile over the first's)",
                 verdict(last_over_first, GOALS["growth"], unit="x"),
                 "; ".join(filter(None, [", ".join(steps), hung, cpu]))])
    return table(["goal", "verdict", "where the time goes / note"], rows)


def _nproc() -> int:
    return os.cpu_count() or 0


def _where(runs: Runs, sub: Optional[str]) -> str:
    """The largest shares of module time: start-up and the timed phases."""
    shares = _shares(runs, sub)
    if not shares:
        return _errors(runs, sub)[:160]
    top = sorted(shares.items(), key=lambda kv: -kv[1])[:3]
    nm_cpu = _med(runs, "nm_cpu", sub)
    return ", ".join("%s %.2f s" % kv for kv in top) + (
        "; NetworkManager busy %.2f s CPU meanwhile" % nm_cpu if nm_cpu and nm_cpu >= 0.1 else "")


def _shares(runs: Runs, sub: Optional[str]) -> Dict[str, float]:
    """Median seconds per part of the module time: ``startup``, the phases, ``confirm``."""
    picked = [r.get(sub) or {} for r in runs] if sub else runs
    good = [r for r in picked if not r.get("error") and r.get("module")]
    if not good:
        return {}
    out = {"startup": median(r.get("startup") for r in good)}
    for phase in PHASES:
        out[phase] = median(r["timings"].get(phase, 0.0) for r in good)
    out["confirm"] = median(sum(m["wall"] for m in r["modules"] if m["module"] == "checkpoint") for r in good)
    return {k: v for k, v in out.items() if v}


def _per_profile(scale: Dict[int, Dict[str, Runs]], key: str) -> str:
    """``"10: 13.0 ms, 100: ..."``: the apply's median ``key`` seconds per profile at each size."""
    values = ((n, _med(runs["ours"], key)) for n, runs in sorted(scale.items()))
    return ", ".join("%d: %.1f ms" % (n, 1000 * v / n) for n, v in values if v is not None) or "-"


# ---------------------------------------------------------------- sections
def summary(fig: Dict[str, Any], quick: bool) -> str:
    m = fig["machine"]
    return "\n".join([
        "## Benchmarks (`make bench`)", "",
        "Measured %s%s in %.0f minutes on %s." % (m["date"], " (quick smoke run)" if quick else "", fig["minutes"],
                                                  m["machine"]),
        "Versions: %s. Load average (1/5/15 min) at the start %s, at the end %s: the machine is shared, so every "
        "comparison below is interleaved in one run and given as a ratio of medians (sizes above 100 profiles: "
        "the plain-nmcli floor in the first round only)." % (
            m["versions"], fig["load_start"], fig["load_end"]), "",
        "The end state (`bench/topology.py`): N profiles = N/2 Linux bridges `br<i>` (STP off, IPv6 off, one IPv4 "
        "address, one static route each), each with one veth port `ve<i>`; its peer `vp<i>` stays out of the "
        "bridge. Every tool's result is checked against the kernel (links, masters, addresses, routes); a run "
        "that does not reach it counts as failed.", "",
        targets(fig)])


def _scale_rows(label: str, n: int, runs: Dict[str, Runs]) -> Tuple[List[str], List[List[str]]]:
    """The host-scale table's row of one size (first cell ``label``) and its two phase rows."""
    ours, floor = runs["ours"], runs["nmcli"]
    apply_s, floor_s = _med(ours, "module"), _med(floor, "module")
    rss = max((r["rss_kib"] for r in ours + [r.get("noop") or {} for r in ours]
               if not r.get("error") and r.get("rss_kib")), default=None)   # the peak of every run
    row = [label, str(len(ours)), _cell(ours, "module"), _cell(ours, "e2e"), _cell(ours, "module", "noop"),
           _cell(ours, "e2e", "noop"), "%s / %s" % (_count(ours, "writes"), _count(ours, "writes", "noop")),
           "-" if rss is None else "%.0f" % (rss / 1024),
           "-" if apply_s is None else "%.1f" % (apply_s / n * 1000),
           "%s / %s / %s" % (_cell(ours, "module_cpu"), _cell(ours, "nm_cpu"), _cell(floor, "nm_cpu")),
           _cell(floor, "module"), ratio(_div(apply_s, floor_s)), _cell(runs.get("ping", []), "module")]
    phase_rows = []
    for kind, sub in (("apply", None), ("no-op", "noop")):
        shares = _shares(ours, sub)
        total = sum(shares.values())
        phase_rows.append(["%s %s" % (label, kind)] + [
            "%.2f (%.0f%%)" % (shares[p], 100 * shares[p] / total) if shares.get(p) else "-"
            for p in ("startup",) + PHASES + ("confirm",)])
    return row, phase_rows


def _nm_label(n: int, other: Dict[str, Any]) -> str:
    """``"100 on NM 1.52.1"``: a size measured on a host of another NetworkManager version."""
    return "%d on NM %s" % (n, other.get("nm", "?"))


def host_scale(fig: Dict[str, Any]) -> str:
    scale = fig.get("scale", {})
    others = fig.get("nm_rows", {})
    sized = [(str(n), n, runs) for n, runs in sorted(scale.items())] + [
        (_nm_label(int(n), other), int(n), runs) for other in others.values()
        for n, runs in sorted(other.get("scale", {}).items())]
    rows, phase_rows = [], []
    for label, n, runs in sized:
        row, phases = _scale_rows(label, n, runs)
        rows.append(row)
        phase_rows += phases
    errors = ["- %s profiles, %s: %s" % (label, kind, e) for label, _n, runs in sized
              for kind, e in (("apply", _errors(runs["ours"])), ("no-op", _errors(runs["ours"], "noop")),
                              ("nmcli", _errors(runs["nmcli"]))) if e]
    versions = "; ".join("*%s*: the same size on a lab host running NetworkManager %s and Python %s (a root "
                         "filesystem of `tests/lab/nm-rootfs.sh`), its own lab, in the same run"
                         % (_nm_label(100, o), o.get("nm", "?"), o.get("python", "?")) for o in others.values())
    if fig.get("hung"):
        errors.append("- from %d profiles up: not measured further, the module hung at %d profiles (killed at its "
                      "time budget, see bench/run.py `budget`)" % (fig["hung"], fig["hung"]))
    steps, last = growth(scale)
    noop_steps, noop_last = growth(scale, "noop")
    return "\n".join([
        "### Host scale: one host, N profiles", "",
        "`hostnet.nm.network_state` through ansible-playbook on lab host h1, defaults (probes on, confirmed "
        "commit). *module* = every module process of the task, timed on the host from spawn to exit "
        "(`bench/hostpython.py`: interpreter, Ansible's module wrapper, imports, the transaction; for an apply "
        "also the `checkpoint` module that confirms); *e2e* = the whole ansible-playbook run (it includes the "
        "timing wrapper's own start, ~0.02-0.05 s per module). *nmcli floor* = the same end state from one "
        "shell script of `nmcli connection add` commands on the host (autoconnect activates them), until all "
        "devices are connected. *CPU*: CPU seconds of the module processes during the apply, and of the "
        "host's NetworkManager during the apply and during the floor script. *empty module*: `ansible.builtin.ping`'s module time on the same host, the "
        "least any Ansible module costs here. Rounds: medians of that many interleaved rounds (above 100 "
        "profiles the nmcli floor runs in the first round only).%s" % (" " + versions + "." if versions else ""), "",
        table(["profiles", "rounds", "apply module", "apply e2e", "no-op module", "no-op e2e",
               "D-Bus writes apply / no-op", "peak RSS MiB", "apply ms/profile", "CPU: module / NM, NM in floor",
               "nmcli floor", "apply / floor", "empty module"],
              rows), "",
        "Apply cost per added profile (module time, marginal): %s%s. CPU per profile during the apply, "
        "the module's own: %s; NetworkManager's: %s." % (
            ", ".join(steps) or "-", "; last step over first %.2fx" % last if last else "",
            _per_profile(scale, "module_cpu"), _per_profile(scale, "nm_cpu")),
        "No-op: %s%s." % (", ".join(noop_steps) or "-", "; last step over first %.2fx" % noop_last if noop_last
                          else ""), "",
        "Where the module time goes (seconds and share; *startup* = module process time outside the timed "
        "phases; *confirm* = the `checkpoint` module's process):", "",
        table(["run", "startup"] + list(PHASES) + ["confirm"], phase_rows), "",
        "nmstate's 5.7 s is its published figure for 100 Linux bridges over 100 VLANs from scratch "
        "(nmstate's own benchmark, another machine). Here: 100 bridges with 100 veth ports that NetworkManager "
        "creates (a veth is a pair: 300 kernel links), addresses and routes, on this lab's NetworkManager 1.42 "
        "in a network namespace; the lab kernel has no 802.1Q, so VLANs cannot be used. Not the same setup: "
        "the comparison is indicative."] + (["", "Failures:"] + errors if errors else []))


def peer_section(fig: Dict[str, Any]) -> str:
    peer = fig.get("peer")
    if not peer:
        return "### Against community.general.nmcli\n\nNot run (`--no-peer` or `--quick`)."
    rows = []
    for label, key, sub in (("apply from scratch", "e2e", None), ("no-op re-run", "e2e", "noop")):
        ours, theirs = _med(peer["ours"], key, sub), _med(peer["peer"], key, sub)
        rows.append([label, _cell(peer["ours"], key, sub), _cell(peer["peer"], key, sub),
                     ratio(_div(theirs, ours)),
                     "%s / %s" % (_count(peer["ours"], "changed", sub), _count(peer["peer"], "changed", sub))])
    errors = ["%s: %s" % (label, e) for label, e in (
        ("ours, apply", _errors(peer["ours"])), ("ours, no-op", _errors(peer["ours"], "noop")),
        ("peer, apply", _errors(peer["peer"])), ("peer, no-op", _errors(peer["peer"], "noop"))) if e]
    return "\n".join([
        "### Against community.general.nmcli: %d profiles, one host" % fig["peer_profiles"], "",
        "The same end state, end to end through ansible-playbook (no timing wrapper): ours is one "
        "`network_state` task; the peer is one `community.general.nmcli` task per profile, as its "
        "documentation shows (`type: bridge`, `type: bridge-slave`), plus the wait until NetworkManager has "
        "activated every profile (the module returns before). It has no veth type, so here the veth pairs "
        "exist before each apply, for both. %d interleaved rounds." % len(peer["ours"]), "",
        table(["run", "hostnet.nm", "community.general.nmcli", "peer / ours", "changed (ours / peer tasks)"],
              rows)] + (["", "Failures: " + "; ".join(errors)] if errors else []))


def fleet_section(fig: Dict[str, Any]) -> str:
    if "fleet" not in fig:
        return "### Fleet\n\nNot run (`--no-fleet`)."
    fleet = fig["fleet"]
    ping = _med(fleet.get("ping", []), "e2e")
    rows = [[label, _cell(fleet.get(key, []), "e2e"), ratio(_div(_med(fleet.get(key, []), "e2e"), ping))]
            for label, key in (("`ansible -m ping`", "ping"), ("no-op `network_state` play", "noop"),
                               ("apply play, from scratch", "apply"),
                               ("apply play, from scratch, the hosts' first run of hostnet.nm", "apply_first"))
            if key in fleet]
    errors = ["%s: %s" % (k, e) for k, e in ((k, _errors(v)) for k, v in fleet.items()) if e]
    return "\n".join([
        "### Fleet: %d hosts, forks %d" % (fig["hosts"], fig["forks"]), "",
        "Each host gets the 10-profile state (5 bridges with a veth port each). ansible-playbook / ansible "
        "wall time, ssh master connections warm for all (one untimed ping first); ping and the no-op in %d "
        "interleaved rounds. The apply (from scratch) runs twice, once each: first on hosts that (all but h1) "
        "have never run a module of the collection, where each host compiles the collection's `module_utils` "
        "and fills its bytecode cache (as after an install or an upgrade), then again, as every later run "
        "finds the hosts." % len(fleet.get("ping", [])), "",
        table(["run", "seconds", "/ ping"], rows)] + (["", "Failures: " + "; ".join(errors)] if errors else []))


def baseline_section(fig: Dict[str, Any]) -> str:
    """This build against ``--baseline``'s, from the same interleaved rounds:
    module time on the host and end to end, per size and in the peer's setup."""
    base = fig.get("baseline")
    if not base:
        return "### Against an earlier build\n\nNot run (`--baseline REV`)."
    # (label, rounds with "ours" and "baseline", what was timed there)
    setups = [("%d profiles" % n, runs, ("module", "e2e")) for n, runs in sorted(fig.get("scale", {}).items())]
    if fig.get("peer"):
        setups.append(("%d profiles, veths there (the peer's setup)" % fig["peer_profiles"], fig["peer"], ("e2e",)))
    kinds = (("apply", None), ("no-op", "noop"))
    rows: List[List[str]] = []
    errors: List[str] = []
    for label, runs, keys in setups:
        ours, theirs = runs.get("ours", []), runs.get("baseline", [])
        rows += [["%s, %s, %s" % (label, run, "module" if key == "module" else "end to end"),
                  _cell(ours, key, sub), _cell(theirs, key, sub),
                  ratio(_div(_med(ours, key, sub), _med(theirs, key, sub)))] for key in keys for run, sub in kinds]
        errors += ["%s, %s: %s" % (label, run, _errors(theirs, sub)) for run, sub in kinds if _errors(theirs, sub)]
    return "\n".join([
        "### Against an earlier build: %s" % base["revision"], "",
        "The collection at that revision ran as one more contender in the same interleaved rounds as this "
        "build, on the same host (host scale and the peer's setup above), so both met the same load. Medians "
        "in seconds; *this / earlier* below 1.00x is faster.", "",
        table(["run", "this build", "earlier build", "this / earlier"], rows)] +
        (["", "Failures of the earlier build: " + "; ".join(errors)] if errors else []))


def profile_section(fig: Dict[str, Any]) -> str:
    prof = fig.get("profile")
    if not prof:
        return "### Profiles\n\nNot run (`--quick`)."
    parts = ["### Profiles (cProfile on the host, `bench/onhost.py`)", "",
             "The collection imported from source without bytecode (as on a module's first run on a host; later "
             "runs load the bytecode cache), the document applied with the core's defaults; the entries of largest "
             "cumulative time among the collection, the D-Bus library and the event loop's wait (`poll` = waiting for NetworkManager)."]
    for label, key in (("no-op", "noop"), ("apply from scratch", "apply")):
        p = prof[key]
        parts += ["", "**%s, %d profiles**: %s" % (label, p["profiles"], p["error"] if p.get("error") else
                                                  "import %.2f s, apply %.2f s, phases %s" % (
                                                      p["import"], p["apply"], ", ".join(
                                                          "%s %.2f" % kv for kv in p["timings"].items())))]
        if not p.get("error"):
            parts += ["", table(["function", "calls", "own s", "cumulative s"],
                                [["`%s`" % r["function"], str(r["calls"]), "%.3f" % r["tottime"], "%.3f" % r["cumtime"]]
                                 for r in p["top"]])]
    return "\n".join(parts)


def sections(fig: Dict[str, Any], quick: bool, label: str = "") -> Dict[str, str]:
    """``{marker name: Markdown}`` for docs/performance.md; with a ``label``
    (another build, ``--collections``) the names and the title carry it."""
    out = {"summary": summary(fig, quick), "host-scale": host_scale(fig), "peer": peer_section(fig),
           "fleet": fleet_section(fig), "baseline": baseline_section(fig), "profile": profile_section(fig)}
    if not label:
        return out
    out["summary"] = out["summary"].replace("## Benchmarks (`make bench`)", "## Benchmarks of the build `%s` "
                                            "(`bench/run.py --label %s --collections ...`)" % (label, label), 1)
    return {"%s-%s" % (label, name): body for name, body in out.items()}
