# -*- coding: utf-8 -*-
# Copyright: (c) hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the compiled code of this collection's ``module_utils`` between module runs on a host.

Ansible ships a module to the host as a zip of source files (AnsiballZ), and
Python's ``zipimport`` never stores bytecode: every run compiled every module
it imported, and CPython's ``zipimporter`` compiles each one twice (its
``find_spec`` asks ``get_filename``, which compiles; running it compiles
again). On a no-op that was most of the module's start-up.

:func:`install` puts :class:`CompiledCache` first on ``sys.meta_path``. For
this collection's ``module_utils`` inside such a zip it builds the import
spec from the zip's index (no compile), and runs the module from code kept
in ``$XDG_CACHE_HOME/hostnet.nm/bytecode/<cache tag>/`` (``~/.cache`` of the
effective user by default), one file per module in Python's hash-checked
``.pyc`` layout (PEP 552): the hash of the source shipped in this run is
compared on every load, so changed source is compiled again and stale code
never runs. The directory is used only when it belongs to the effective
user and no one else may write to it, and a file only when it is a regular
file of that user. Nothing is written when Python runs with ``-B`` or
``PYTHONDONTWRITEBYTECODE``. Any failure of the cache falls back to a plain
compile: it can only ever save time.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import marshal
import os
import pwd
import stat
import sys
import types
import zipimport
from typing import TYPE_CHECKING, Optional, Sequence

from .files import write_atomic

if TYPE_CHECKING:
    from importlib.abc import Loader as LoaderBase
else:
    LoaderBase = object  # importlib.abc costs ~15 ms of imports; a loader needs no base class at run time

#: The pyc flags word of PEP 552: hash-based (bit 0), checked against the source on load (bit 1).
CHECKED_HASH_FLAGS = (0b11).to_bytes(4, "little")
HEADER_BYTES = 16  # magic, flags, source hash (PEP 552)
#: The package this cache serves: ``...plugins.module_utils.`` (whatever namespace the collection is under).
PACKAGE_PREFIX = __name__.rpartition(".")[0] + "."


def default_directory() -> str:
    """``$XDG_CACHE_HOME/hostnet.nm/bytecode/<tag>``, else under the effective
    user's home from the password database (not ``$HOME``, which ``become``
    may leave pointing at another user's); ``<tag>`` is the interpreter's
    ``sys.implementation.cache_tag`` (``cpython-311``), as bytecode is per
    Python version."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(pwd.getpwuid(os.geteuid()).pw_dir, ".cache")
    return os.path.join(base, "hostnet.nm", "bytecode", str(sys.implementation.cache_tag))


def private_directory(path: str) -> bool:
    """Create ``path`` (mode 0700) if it is missing, and tell whether it is a
    directory (not a symlink) of the effective user that neither group nor
    others may write to. Never raises: a cache that cannot be trusted is not used."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


class CompiledCache:
    """A meta-path finder for the modules under ``prefix`` that a
    :class:`zipimport.zipimporter` on their parent's path would load; every
    other import is left to the finders after it (``find_spec`` returns None)."""

    def __init__(self, directory: str, prefix: str = PACKAGE_PREFIX) -> None:
        self.directory = directory
        self.prefix = prefix

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        """The spec of ``fullname`` when it is one of ours in a zip on ``path``
        (from the zip's index: nothing is compiled here), else None."""
        if not fullname.startswith(self.prefix) or not path:
            return None
        leaf = fullname.rpartition(".")[2]
        for entry in path:
            importer = zip_importer(entry)
            if importer is None:
                continue
            try:
                package = bool(importer.is_package(fullname))
            except zipimport.ZipImportError:
                continue  # not in this entry
            where = os.path.join(entry, leaf)
            origin = os.path.join(where, "__init__.py") if package else where + ".py"
            spec = importlib.machinery.ModuleSpec(fullname, CachedLoader(importer, origin, self.directory),
                                                  origin=origin, is_package=package)
            if package:
                spec.submodule_search_locations = [where]
            spec.has_location = True
            return spec
        return None


def zip_importer(entry: str) -> Optional[zipimport.zipimporter]:
    """The zipimporter of a path entry inside a zip (kept in
    ``sys.path_importer_cache``, as the path finder does), or None when the
    entry is not in a zip."""
    importer = sys.path_importer_cache.get(entry)
    if importer is None:
        try:
            importer = sys.path_importer_cache[entry] = zipimport.zipimporter(entry)
        except zipimport.ZipImportError:
            return None
    return importer if isinstance(importer, zipimport.zipimporter) else None


class CachedLoader(LoaderBase):
    """Runs one module of a zip from the cache, compiling (and storing) it
    only when the cache has no code for its current source."""

    def __init__(self, importer: zipimport.zipimporter, origin: str, directory: str) -> None:
        self.importer = importer
        self.path = origin
        self.directory = directory

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        """None: the default module object."""
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        """Run the module's code in its namespace."""
        exec(self.get_code(module.__spec__.name if module.__spec__ else module.__name__), module.__dict__)

    def get_code(self, fullname: str) -> types.CodeType:
        """The module's code: from the cache when its source hash matches,
        else compiled from the zip's source (and stored).

        :raises SyntaxError: the shipped source does not compile (as a plain import would)."""
        source = self.importer.get_data(self.path)
        digest = importlib.util.source_hash(source)
        cached = os.path.join(self.directory, fullname + ".pyc")
        code = self._load(cached, digest)
        if code is None:
            # a stable name (the path inside the zip, not its temporary directory): same code every run
            code = compile(source, self.path[len(self.importer.archive) + 1:], "exec", dont_inherit=True)
            if not sys.dont_write_bytecode:
                self._store(cached, digest, code)
        return code

    def get_source(self, fullname: str) -> Optional[str]:
        """The shipped source (for tracebacks' lines)."""
        return self.importer.get_source(fullname)

    def is_package(self, fullname: str) -> bool:
        """Whether ``fullname`` is a package in the zip."""
        return bool(self.importer.is_package(fullname))

    def get_filename(self, fullname: str) -> str:
        """The module's path inside the zip (its ``__file__``)."""
        return self.path

    def get_data(self, path: str) -> bytes:
        """The bytes of a file in the zip (``pkgutil.get_data`` asks the loader).

        :raises OSError: no such file in the zip."""
        return bytes(self.importer.get_data(path))

    @staticmethod
    def _load(path: str, digest: bytes) -> Optional[types.CodeType]:
        """The code stored at ``path`` if it is our regular file and was
        compiled by this interpreter from source with ``digest``; else None."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
                return None
            with os.fdopen(os.dup(fd), "rb") as stream:
                data = stream.read()
        except OSError:
            return None
        finally:
            os.close(fd)
        if data[:HEADER_BYTES] != importlib.util.MAGIC_NUMBER + CHECKED_HASH_FLAGS + digest:
            return None
        try:
            code = marshal.loads(data[HEADER_BYTES:])
        except (EOFError, ValueError, TypeError):
            return None   # a truncated or foreign file: compile again
        return code if isinstance(code, types.CodeType) else None

    @staticmethod
    def _store(path: str, digest: bytes, code: types.CodeType) -> None:
        """Write ``code`` to ``path`` (:func:`.files.write_atomic`, without
        the fsync a cache needs not), so a concurrent run reads the old file
        or the new one; a failure (full disk, read-only home) only means no cache."""
        try:
            write_atomic(path, importlib.util.MAGIC_NUMBER + CHECKED_HASH_FLAGS + digest + marshal.dumps(code),
                         sync=False)
        except OSError:
            pass


def install(directory: Optional[str] = None) -> bool:
    """Put a :class:`CompiledCache` first on ``sys.meta_path`` when this
    module itself was loaded from a zip (a module run on a host), its
    directory (default :func:`default_directory`) is private, and none is
    there yet. Returns whether one is in place. Never raises."""
    if any(isinstance(finder, CompiledCache) for finder in sys.meta_path):
        return True
    if not isinstance(getattr(__spec__, "loader", None), zipimport.zipimporter):
        return False   # on disk (the controller, unit tests): Python caches bytecode itself
    try:
        directory = directory or default_directory()
    except (KeyError, OSError):
        return False   # no home for the effective user
    if not private_directory(directory):
        return False
    sys.meta_path.insert(0, CompiledCache(directory))
    return True
