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
forks for one task on one host and that ends with it.

Ansible keeps each payload it built in a cache of the playbook run
(``ansiballz_cache`` in the controller's local temporary folder), keyed by the
module's name and not by its arguments: :class:`Prebuild` fills it for a module
that a task runs later, while the controller waits for the host."""

from __future__ import annotations

import contextvars
import gc
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional


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


class Prebuild:
    """A payload build (``build``: a call of the action's
    ``_configure_module`` for one module, its result dropped) in a
    background thread, so that it overlaps the wait for an earlier module's
    run on the host and the later ``_execute_module`` of that module finds
    the payload in Ansible's cache of the run instead of building it then
    (about 0.2 s of controller CPU for ``hostnet.nm.checkpoint``).

    The thread runs in a copy of the caller's :mod:`contextvars` context
    (Ansible keeps its task and templating context there). A build that
    fails is dropped (:attr:`error` keeps it): the later run builds again
    and reports the error itself. Call :meth:`wait` before that run, so
    that two builds never run at once. When the module is not run after
    all (a no-op needs no confirmation), nobody waits: the thread is a
    daemon and ends with the worker process at the latest, and Ansible's
    lock on its cache entry, released then, lets another worker build it."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self.error: Optional[BaseException] = None
        self._build = build
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name="hostnet-prebuild",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._build()
        except Exception as exc:  # the later run builds again and reports it
            self.error = exc

    def wait(self) -> None:
        """Return once the build has ended (at once when it has)."""
        self._thread.join()
