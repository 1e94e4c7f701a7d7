# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's share of running a module: building its payload.

Ansible builds a module's payload (AnsiballZ) once per playbook run, in the
per-host worker process of the first host: it compiles every ``module_utils``
file the module reaches to an abstract syntax tree to find their imports. The
trees come to hundreds of thousands of objects, and allocating them sets off
Python's cyclic garbage collector again and again; each full collection walks the
worker's whole heap, which holds the task's document with a data tag on every
node (ansible-core 2.19). Measured on ``hostnet.nm.network_state`` (60 files,
about 660 KB of source): about half the build's CPU time, and more the larger
the document. Action plugins run in a worker process that ansible-playbook
forks for one task on one host and that ends with it."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block, then move what
    is alive at its end to the collector's permanent generation
    (``gc.freeze``) and let the collector run again (also after an error).

    The build leaves about 200,000 objects alive (Ansible's caches); without
    the freeze the first collection after the block walks them all, which
    costs half of what the pause saved. Frozen objects are still freed by
    reference counting, and the worker process that holds them ends with its
    task. Meant for a short, allocation-heavy block (a payload build), never
    for waiting on a host.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
