"""The bytecode cache of module_utils on a host (bytecode_cache.py): modules
imported from a zip, as Ansible ships them, run from cached code only while
the source is the same, and the cache is used only where it is private."""

from __future__ import annotations

import importlib
import importlib.util
import marshal
import os
import sys
import traceback
import zipfile
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import bytecode_cache
from ansible_collections.hostnet.nm.plugins.module_utils.bytecode_cache import (
    CHECKED_HASH_FLAGS, CachedLoader, CompiledCache, private_directory)

PACKAGE = "hnbc_pkg"
SOURCES = {
    PACKAGE + "/__init__.py": "",
    PACKAGE + "/sub/__init__.py": "WHERE = 'sub'\n",
    PACKAGE + "/sub/mod.py": "VALUE = 1\n",
    PACKAGE + "/sub/bad.py": "def fail():\n    raise RuntimeError('shipped line')\n",
    PACKAGE + "/sub/data.json": "{}\n",
}


def write_zip(path: Path, sources: Dict[str, str]) -> str:
    """A zip of ``sources`` (name -> text), like AnsiballZ's payload."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in sources.items():
            archive.writestr(name, text)
    return str(path)


@pytest.fixture
def zipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, object]]:
    """The package zipped on sys.path and a cache finder first on sys.meta_path;
    every trace of both removed afterwards. Bytecode may be written (whatever
    PYTHONDONTWRITEBYTECODE this run has)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    archive = write_zip(tmp_path / "payload.zip", SOURCES)
    directory = str(tmp_path / "cache")
    assert private_directory(directory)
    finder = CompiledCache(directory, prefix=PACKAGE + ".")
    sys.path.insert(0, archive)
    sys.meta_path.insert(0, finder)
    state: Dict[str, object] = {"archive": archive, "directory": directory, "tmp": tmp_path}
    try:
        yield state
    finally:
        sys.meta_path.remove(finder)
        sys.path[:] = [p for p in sys.path if not p.startswith(str(tmp_path))]
        forget()
        for entry in [e for e in sys.path_importer_cache if e.startswith(str(tmp_path))]:
            del sys.path_importer_cache[entry]


def forget() -> None:
    """A fresh interpreter's view of the package: not imported yet."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def cached_file(state: Dict[str, object], name: str) -> Path:
    return Path(str(state["directory"])) / (name + ".pyc")


def replace_code(path: Path, text: str) -> None:
    """Keep the file's header (its source hash), put other code after it."""
    header = path.read_bytes()[:16]
    path.write_bytes(header + marshal.dumps(compile(text, "x", "exec")))


def test_a_module_of_the_zip_is_served_and_its_code_stored(zipped: Dict[str, object]) -> None:
    mod = importlib.import_module(PACKAGE + ".sub.mod")
    assert mod.VALUE == 1
    assert isinstance(mod.__spec__.loader, CachedLoader)
    assert mod.__file__ == os.path.join(str(zipped["archive"]), PACKAGE, "sub", "mod.py")
    sub = sys.modules[PACKAGE + ".sub"]
    assert sub.WHERE == "sub" and sub.__path__ == [os.path.join(str(zipped["archive"]), PACKAGE, "sub")]
    data = cached_file(zipped, PACKAGE + ".sub.mod").read_bytes()
    assert data[:16] == (importlib.util.MAGIC_NUMBER + CHECKED_HASH_FLAGS
                         + importlib.util.source_hash(SOURCES[PACKAGE + "/sub/mod.py"].encode()))
    assert oct(os.stat(str(zipped["directory"])).st_mode & 0o777) == "0o700"


def test_the_loader_answers_as_a_zip_loader_would(zipped: Dict[str, object]) -> None:
    import pkgutil
    importlib.import_module(PACKAGE + ".sub.mod")
    assert pkgutil.get_data(PACKAGE + ".sub", "data.json") == b"{}\n"
    loader = sys.modules[PACKAGE + ".sub.mod"].__spec__.loader
    assert loader.get_source(PACKAGE + ".sub.mod") == "VALUE = 1\n"
    assert not loader.is_package(PACKAGE + ".sub.mod")
    assert sys.modules[PACKAGE + ".sub"].__spec__.loader.is_package(PACKAGE + ".sub")


def test_the_stored_code_is_what_runs_while_the_source_is_the_same(zipped: Dict[str, object]) -> None:
    importlib.import_module(PACKAGE + ".sub.mod")
    replace_code(cached_file(zipped, PACKAGE + ".sub.mod"), "VALUE = 2\n")
    forget()
    assert importlib.import_module(PACKAGE + ".sub.mod").VALUE == 2


def test_changed_source_is_compiled_again_and_stored(zipped: Dict[str, object]) -> None:
    importlib.import_module(PACKAGE + ".sub.mod")
    stored = cached_file(zipped, PACKAGE + ".sub.mod")
    replace_code(stored, "VALUE = 2\n")
    forget()
    newer = dict(SOURCES, **{PACKAGE + "/sub/mod.py": "VALUE = 3\n"})
    archive = write_zip(Path(str(zipped["tmp"])) / "next.zip", newer)
    sys.path[sys.path.index(str(zipped["archive"]))] = archive
    assert importlib.import_module(PACKAGE + ".sub.mod").VALUE == 3
    assert stored.read_bytes()[8:16] == importlib.util.source_hash(b"VALUE = 3\n")


@pytest.mark.parametrize("damage", ["truncated", "symlink", "foreign magic"])
def test_a_damaged_or_planted_file_is_not_run(zipped: Dict[str, object], damage: str) -> None:
    importlib.import_module(PACKAGE + ".sub.mod")
    stored = cached_file(zipped, PACKAGE + ".sub.mod")
    replace_code(stored, "VALUE = 2\n")
    if damage == "truncated":
        stored.write_bytes(stored.read_bytes()[:20])
    elif damage == "symlink":
        planted = Path(str(zipped["tmp"])) / "planted.pyc"
        stored.rename(planted)
        stored.symlink_to(planted)
    else:
        data = stored.read_bytes()
        stored.write_bytes(b"\x00\x00\r\n" + data[4:])
    forget()
    assert importlib.import_module(PACKAGE + ".sub.mod").VALUE == 1


def test_nothing_is_written_under_python_minus_b(zipped: Dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert importlib.import_module(PACKAGE + ".sub.mod").VALUE == 1
    assert os.listdir(str(zipped["directory"])) == []


def test_a_traceback_shows_the_shipped_line(zipped: Dict[str, object]) -> None:
    bad = importlib.import_module(PACKAGE + ".sub.bad")
    with pytest.raises(RuntimeError) as caught:
        bad.fail()
    lines: List[str] = traceback.format_exception(caught.type, caught.value, caught.tb)
    assert any('%s/sub/bad.py", line 2' % PACKAGE in line for line in lines)
    assert any("raise RuntimeError('shipped line')" in line for line in lines)


def test_only_a_private_directory_is_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(str(shared), 0o777)
    assert not private_directory(str(shared))
    (tmp_path / "link").symlink_to(tmp_path / "private")
    assert private_directory(str(tmp_path / "private"))
    assert not private_directory(str(tmp_path / "link"))
    (tmp_path / "file").write_text("")
    assert not private_directory(str(tmp_path / "file"))


def test_install_leaves_modules_on_disk_to_python(tmp_path: Path) -> None:
    # loaded from a checkout here, not from a zip: Python's own __pycache__ serves it
    assert bytecode_cache.install(str(tmp_path / "cache")) is False
    assert not any(isinstance(finder, CompiledCache) for finder in sys.meta_path)
    assert not (tmp_path / "cache").exists()
