# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip script ansible-test downloads to bootstrap pip.

``ansible-test ... --venv`` makes each virtualenv without pip, then runs a
get-pip script that it fetches from a host outside PyPI, which this machine
cannot reach; it keeps the script in ``~/.ansible/test/cache/get_pip_<version>.py``
and uses that copy when there is one. tests/tools/ansible-test.sh puts this
file there: it installs the interpreter's bundled pip (ensurepip), then the
pip version ansible-test asks for, from PyPI. Arguments are get-pip's: pip's
install options and requirements, plus get-pip's own ``--no-setuptools`` and
``--no-wheel`` (pip has neither, and ensurepip installs no setuptools or wheel).
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main() -> None:
    # in a child process: ensurepip clears PIP_* and pip's configuration in its own environment,
    # and the install from PyPI needs them (the machine's certificate settings, for one)
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "-q"] + args))


if __name__ == "__main__":
    main()
