"""Presentation of benchmark results: the machine and versions, Markdown
tables, and the sections of ``docs/performance.md`` this suite owns.

Each owned section sits between ``<!-- bench:NAME:begin -->`` and
``<!-- bench:NAME:end -->``; :func:`update_doc` replaces only what is between
the markers and leaves every other part of the file (other people's
sections) as it is.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

HOST_PYTHON = "/usr/bin/python3"


def load() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``"3.1 4.0 4.2"``."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _out(argv: Sequence[str]) -> str:
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return "?"


def machine(peer_version: Optional[str], peer_pin: str = "") -> Dict[str, str]:
    """What the numbers were measured on: ``{"date", "machine", "versions"}``;
    ``peer_version``: community.general's, from the ``ansible`` package ``peer_pin``."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    import ansible.release  # the controller's, in .venv
    dbus = _out([HOST_PYTHON, "-c", "from importlib.metadata import version as v\nfor n in ('dbus-fast', 'dbus-next'):"
                 "\n    try: print(n, v(n)); break\n    except Exception: pass"])
    versions = ["NetworkManager %s" % _out(["NetworkManager", "--version"]),
                "ansible-core %s" % ansible.release.__version__,
                "Python %s (controller), %s (hosts)" % (platform.python_version(),
                                                       _out([HOST_PYTHON, "--version"]).split()[-1]),
                "%s on the hosts" % (dbus or "no D-Bus library")]
    if peer_version:
        versions.append("community.general %s (from the `ansible` package %s on PyPI)" % (peer_version, peer_pin))
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": "%s, nproc %d, %.1f GiB memory, %s, kernel %s" % (
                cpu, os.cpu_count() or 0, mem_kib / 2 ** 20, _os_name(), platform.release()),
            "versions": ", ".join(versions)}


def _os_name() -> str:
    """``PRETTY_NAME`` of /etc/os-release, e.g. ``Debian GNU/Linux 12 (bookworm)``."""
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return "?"
    return next((line.split("=", 1)[1].strip('"') for line in text.splitlines() if line.startswith("PRETTY_NAME=")),
                "?")


def seconds(value: Optional[float], digits: int = 2) -> str:
    """A duration for a table cell (``-`` when not measured)."""
    return "-" if value is None else "%.*f" % (digits, value)


def ratio(value: Optional[float]) -> str:
    """A ratio for a table cell, e.g. ``3.2x``."""
    return "-" if value is None else "%.2fx" % value


def median(values: Iterable[Optional[float]]) -> Optional[float]:
    """The median of the measured values (``None`` if none was measured)."""
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


def table(headers: List[str], rows: List[List[str]]) -> str:
    """A Markdown table; every row must have as many cells as ``headers``."""
    for row in rows:
        if len(row) != len(headers):
            raise ValueError("row %r does not match headers %r" % (row, headers))
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(" ".join(str(c).replace("|", "/").split()) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _markers(name: str) -> List[str]:
    return ["<!-- bench:%s:begin -->" % name, "<!-- bench:%s:end -->" % name]


def update_doc(path: Path, sections: Dict[str, str]) -> None:
    """Write ``sections`` (``{name: Markdown}``) into ``path`` between their
    markers. A section not yet in the file goes after the last section of
    ours, or else before the first ``## `` heading of someone else (or at the
    end); the rest of the file is kept byte for byte."""
    text = path.read_text() if path.exists() else "# Performance\n"
    for name, body in sections.items():
        begin, end = _markers(name)
        block = "%s\n%s\n%s" % (begin, body.strip("\n"), end)
        if begin in text and end in text:
            head, _sep, rest = text.partition(begin)
            text = head + block + rest.partition(end)[2]
            continue
        ours = [m.end() for m in re.finditer(r"<!-- bench:[a-z0-9-]+:end -->", text)]
        other = re.search(r"^## ", text, re.M)
        if ours:
            at = ours[-1]
            text = text[:at] + "\n\n" + block + text[at:]
        elif other:
            text = text[:other.start()] + block + "\n\n" + text[other.start():]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
