# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files written whole and safely: the one atomic-write helper of the
collection, used on the host (checkpoint ledger, the state kept for a
restore, the detached apply's result, the reconciler's status, keyfiles)
and on the controller (drift and rollout reports). No Ansible import.
"""

from __future__ import annotations

import json
import os
from typing import Any, Union

#: what we write holds diffs, host names or a host's state: readable by its owner only, unless asked otherwise
REPORT_MODE = 0o600
#: names tried for the temporary file before giving up
ATTEMPTS = 100


def _token() -> str:
    """The random part of a temporary file's name (a test replaces it):
    what ``secrets.token_hex(8)`` gives, without the import of ``secrets``
    (hashlib, hmac, random) on every module run."""
    return os.urandom(8).hex()


def write_atomic(path: str, text: Union[str, bytes], mode: int = REPORT_MODE, sync: bool = True) -> str:
    """Write ``text`` (UTF-8; bytes as they are) to ``path`` atomically, never through a symlink.

    The text goes to a new temporary file next to ``path``, created with
    ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a random name (a file or a
    symlink planted at that name is never opened: another name is tried),
    with permissions ``mode`` (default 0600, whatever the umask), flushed
    to disk (unless ``sync`` is false: a cache that may be lost), then
    renamed over ``path``; the rename replaces a symlink at ``path`` itself
    rather than writing where it points. The directory is
    created (0700) when missing. Returns ``path``.

    Raises:
        OSError: the directory cannot be created or written, or no free
            temporary name was found in :data:`ATTEMPTS` tries.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    for _attempt in range(ATTEMPTS):
        tmp = os.path.join(directory, ".%s.%s.tmp" % (os.path.basename(path), _token()))
        try:
            fd = os.open(tmp, flags, mode)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)  # the umask may have narrowed it
                handle.write(text.encode("utf-8") if isinstance(text, str) else text)
                handle.flush()
                if sync:
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise
        return path
    raise FileExistsError("no free temporary name next to %s after %d tries" % (path, ATTEMPTS))


def read_text(path: str) -> str:
    """A file's text, or ``""`` when it cannot be read."""
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def write_json(path: str, data: Any, mode: int = REPORT_MODE) -> str:
    """Write ``data`` as JSON to ``path`` through :func:`write_atomic`
    (values JSON cannot hold are written as their ``str``). Returns ``path``.

    Raises:
        OSError: as :func:`write_atomic`.
    """
    return write_atomic(path, json.dumps(data, default=str), mode)


def read_json(path: str) -> Any:
    """The JSON value in ``path`` (any JSON type: the caller checks its
    shape); ``None`` when the file is missing, unreadable or not JSON."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` (as recorded in a ledger or status file) still
    runs. A process of another user counts as alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
