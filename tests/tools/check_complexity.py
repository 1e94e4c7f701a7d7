"""`make lint`'s complexity check: no function in plugins/module_utils above cyclomatic complexity
15 (radon, as `radon cc -s` counts it). Prints each offender, worst first; exit status 1 if any.

Usage: python3 tests/tools/check_complexity.py [PATH...] [--max N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Tuple

from radon.complexity import cc_visit
from radon.visitors import Function

ROOT = Path(__file__).resolve().parents[2]
MAX = 15


def offenders(paths: List[Path], limit: int) -> List[Tuple[int, str]]:
    """``(complexity, "file:line name")`` of every function or method above ``limit``."""
    found = []
    for path in paths:
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            for item in cc_visit(file.read_text()):  # functions and methods (a class's own figure aside)
                if isinstance(item, Function) and item.complexity > limit:
                    found.append((item.complexity, "%s:%d %s" % (file.relative_to(ROOT), item.lineno, item.fullname)))
    return sorted(found, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(ROOT / "plugins" / "module_utils")])
    parser.add_argument("--max", type=int, default=MAX)
    args = parser.parse_args()
    found = offenders([Path(p).resolve() for p in args.paths], args.max)
    for complexity, where in found:
        print("%s: complexity %d (at most %d)" % (where, complexity, args.max))
    print("complexity: %d function(s) above %d" % (len(found), args.max))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
