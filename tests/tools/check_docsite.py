"""The built docsite (scripts/docs.sh, `make docs`) as a browser shows it: headless Chromium loads the
landing page, takes a screenshot (build/docs/landing.png) and dumps the DOM; the page's title must
be the landing page's, the screenshot a real image of the window's size, and every guide and
every module, filter and role must have its page. Run by `make lint` after scripts/docs.sh.

usage: python3 tests/tools/check_docsite.py [html dir]   (default build/docs/build/html)
"""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[2]
TITLE = "hostnet.nm: declarative Linux host networking through NetworkManager"
WINDOW = (1280, 900)
#: a quiet, offline browser with a profile of its own (removed afterwards)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=%d,%d" % WINDOW]


def chromium(args: List[str]) -> subprocess.CompletedProcess:
    """Run headless Chromium with a fresh profile directory."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        raise SystemExit("check_docsite: chromium is missing (scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory(prefix="hostnet-chromium-") as profile:
        return subprocess.run([browser, *FLAGS, "--user-data-dir=" + profile, *args], capture_output=True,
                              text=True, timeout=180, check=False)


def png_size(path: Path) -> tuple:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    return struct.unpack(">II", data[16:24])


def problems(site: Path) -> List[str]:
    """Every finding, as text."""
    found: List[str] = []
    index = site / "index.html"
    if not index.is_file():
        return ["%s does not exist: run scripts/docs.sh (make docs)" % index]
    shot = ROOT / "build" / "docs" / "landing.png"
    shot.unlink(missing_ok=True)
    chromium(["--screenshot=%s" % shot, index.as_uri()])
    if not shot.is_file():
        found.append("chromium wrote no screenshot")
    elif png_size(shot) != WINDOW or shot.stat().st_size < 20000:
        found.append("the screenshot is %dx%d, %d bytes: not the page" % (*png_size(shot), shot.stat().st_size))
    dom = chromium(["--dump-dom", index.as_uri()]).stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    if not title or not html.unescape(title.group(1)).startswith(TITLE):
        found.append("the landing page's title is %r, not %r" % (title and html.unescape(title.group(1)), TITLE))
    pages = site / "collections" / "hostnet" / "nm"
    wanted = ["docsite/%s.html" % p.stem for p in (ROOT / "docs").glob("*.md") if p.stem != "README"]
    wanted += ["%s_module.html" % p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__"]
    wanted += ["%s_filter.html" % p.stem for p in (ROOT / "plugins" / "filter").glob("*.yml")]
    wanted += ["%s_role.html" % p.name for p in (ROOT / "roles").iterdir() if p.is_dir()]
    found += ["no page %s" % name for name in sorted(wanted) if not (pages / name).is_file()]
    return found


def main() -> int:
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "docs" / "build" / "html"
    found = problems(site)
    for line in found:
        print("check_docsite: %s" % line, file=sys.stderr)
    if found:
        return 1
    print("check_docsite: the landing page renders (%s, title %r) and every guide, module, filter and "
          "role has its page" % (ROOT / "build" / "docs" / "landing.png", TITLE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
