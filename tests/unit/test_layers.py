# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The import graph points one way (docs/dev/architecture.md, DESIGN.md section 3).

Read from the source with ``ast`` (nothing is imported, except in the no-op start-up test, which
imports the module in a fresh interpreter): every import between the collection's own files, at
the top of a file or inside a function.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
PACKAGE = "ansible_collections.hostnet.nm.plugins"

#: the layers, lowest first: a module may import from its own layer and the layers before it, never
#: from a later one (names are module paths below plugins/; a name ending in "." is a package)
LAYERS: List[Tuple[str, Tuple[str, ...]]] = [
    ("base", ("module_utils.errors", "module_utils.ops", "module_utils.files", "module_utils.redact", "module_utils.nmconst",
              "module_utils.nmversion",
              "module_utils.dbus_packages", "module_utils.reconciler_status", "module_utils.bytecode_cache")),
    ("model", ("module_utils.model",)),
    ("nodes", ("module_utils.nodes", "module_utils.rulebook")),
    ("kinds", ("module_utils.kinds.", "module_utils.kinds")),
    ("validation", ("module_utils.schema", "module_utils.validation", "module_utils.options",
                    "module_utils.probe_spec", "module_utils.hostname")),
    ("profiles", ("module_utils.profiles", "module_utils.snapshot")),
    ("plan", ("module_utils.plan", "module_utils.verify", "module_utils.probes")),
    ("nm", ("module_utils.nm.", "module_utils.nm")),
    ("transaction", ("module_utils.transaction", "module_utils.change", "module_utils.info",
                     "module_utils.keyfiles")),
    ("glue", ("module_utils.reconciler", "module_utils.ansible_glue")),
    ("plugins", ("modules.", "action.", "filter.", "plugin_utils.", "doc_fragments.")),
]

#: controller code: runs in the controller's Ansible, never on a host
CONTROLLER = ("action.", "filter.", "plugin_utils.")
#: the host agent: what changes a host or runs there on its own; controller code reaches none of it,
#: not even through another module
HOST_AGENT = {"module_utils.transaction", "module_utils.change", "module_utils.reconciler", "module_utils.probes",
              "module_utils.ansible_glue", "module_utils.nm.writer", "module_utils.nm.checkpoint",
              "module_utils.nm.restore", "module_utils.nm.signals"}
#: what the read-only info module must not reach: it only reads
NOT_FOR_READING = {"module_utils.transaction", "module_utils.change", "module_utils.reconciler", "module_utils.plan", "module_utils.probes",
                   "module_utils.nm.writer", "module_utils.nm.checkpoint", "module_utils.nm.restore",
                   "module_utils.schema", "module_utils.validation", "module_utils.keyfiles"}

#: imports that break a rule today and are being fixed, (importer, imported) -> who fixes it.
#: Empty is the goal: a new entry needs a reason and an owner.
KNOWN_VIOLATIONS: Dict[Tuple[str, str], str] = {
}


def module_name(path: Path) -> str:
    """``plugins/module_utils/nm/dbus.py`` -> ``module_utils.nm.dbus``."""
    parts = list(path.relative_to(PLUGINS).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> Dict[str, Path]:
    """Every Python file of the collection's plugins, by module name (the top packages'
    empty ``__init__.py`` aside)."""
    return {module_name(p): p for p in sorted(PLUGINS.rglob("*.py")) if "." in module_name(p)}


def imports(name: str, path: Path, known: Set[str]) -> Iterator[Tuple[str, str, int]]:
    """``(imported module, imported name or "", line)`` for each import of one of the
    collection's modules in ``path`` (``name`` is its module name)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
            elif node.module and node.module.startswith(PACKAGE + "."):
                base = node.module[len(PACKAGE) + 1:]
            else:
                continue
            for alias in node.names:
                submodule = base + "." + alias.name
                if submodule in known:  # "from . import model": the module itself
                    yield submodule, "", node.lineno
                else:
                    yield base, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    yield alias.name[len(PACKAGE) + 1:], "", node.lineno


def graph() -> Dict[str, List[Tuple[str, str, int]]]:
    """Module name -> its imports of the collection's modules."""
    files = sources()
    return {name: list(imports(name, path, set(files))) for name, path in files.items()}


def layer_of(name: str) -> int:
    """The index of ``name``'s layer in :data:`LAYERS`."""
    for index, (_layer, members) in enumerate(LAYERS):
        if any(name == m or (m.endswith(".") and name.startswith(m)) for m in members):
            return index
    raise AssertionError("%s is in no layer: add it to LAYERS in %s and to docs/dev/architecture.md" % (name, __file__))


def reached(start: str, edges: Dict[str, List[Tuple[str, str, int]]]) -> Dict[str, str]:
    """Every module ``start`` imports, directly or not: ``{module: the module that imports it}``."""
    seen: Dict[str, str] = {}
    todo = [start]
    while todo:
        here = todo.pop()
        for target, _name, _line in edges.get(here, []):
            if target not in seen and target != start:
                seen[target] = here
                todo.append(target)
    return seen


def test_every_module_has_a_layer():
    for name in sources():
        layer_of(name)


def test_imports_point_one_way():
    wrong = []
    for name, edges in graph().items():
        for target, _imported, line in edges:
            if layer_of(target) > layer_of(name) and (name, target) not in KNOWN_VIOLATIONS:
                wrong.append("%s:%d imports %s (layer %s above %s)" % (
                    name, line, target, LAYERS[layer_of(target)][0], LAYERS[layer_of(name)][0]))
    assert wrong == []


def test_the_known_violations_are_still_there():
    """An entry that was fixed leaves the list (so that it cannot come back unnoticed)."""
    edges = graph()
    assert [pair for pair in KNOWN_VIOLATIONS if pair[1] not in {t for t, _n, _l in edges.get(pair[0], [])}] == []


def test_no_private_name_crosses_a_module():
    wrong = []
    files = sources()
    for name, edges in graph().items():
        wrong += ["%s:%d imports %s from %s" % (name, line, imported, target)
                  for target, imported, line in edges if imported.startswith("_")]
        aliases = {}
        tree = ast.parse(files[name].read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                aliases.update({a.asname or a.name: a.name for a in node.names})
        modules = {alias for alias, real in aliases.items()
                   if any(t.endswith("." + real) or t == real for t, imp, _l in edges if imp == "")}
        wrong += ["%s:%d uses %s.%s" % (name, node.lineno, node.value.id, node.attr) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert wrong == []


def test_controller_code_reaches_no_host_agent():
    edges = graph()
    wrong = []
    for name in edges:
        if name.startswith(CONTROLLER):
            via = reached(name, edges)
            wrong += ["%s reaches %s (through %s)" % (name, agent, via[agent]) for agent in sorted(HOST_AGENT & set(via))]
    assert wrong == []


def test_the_info_module_imports_only_what_reading_needs():
    via = reached("modules.network_state_info", graph())
    assert sorted("%s (through %s)" % (m, via[m]) for m in NOT_FOR_READING & set(via)) == []


def test_the_layer_rules_catch_a_wrong_import(tmp_path, monkeypatch):
    """The checks above can fail: a model that imports the transaction is found."""
    fake = tmp_path / "plugins" / "module_utils"
    fake.mkdir(parents=True)
    (fake / "model.py").write_text("from .transaction import apply\nfrom .nm.dbus import _private\n")
    (fake / "transaction.py").write_text("")
    monkeypatch.setattr(sys.modules[__name__], "PLUGINS", tmp_path / "plugins")
    with pytest.raises(AssertionError, match="module_utils.model:1 imports module_utils.transaction"):
        test_imports_point_one_way()
    with pytest.raises(AssertionError, match="imports _private from module_utils.nm.dbus"):
        test_no_private_name_crosses_a_module()


#: what a run that changes nothing must not import (the writer, checkpoints, probes, the restore)
APPLY_ONLY = ["module_utils.change", "module_utils.nm.writer", "module_utils.nm.checkpoint",
              "module_utils.nm.restore", "module_utils.probes"]


def test_the_no_op_path_imports_no_apply_code():
    """Item 7: the modules load what a no-op needs (reader, plan, model); the rest when there is
    something to apply. Checked in a fresh interpreter."""
    code = ("import json, sys\n"
            "import %s.modules.network_state, %s.module_utils.transaction\n"
            "print(json.dumps(sorted(sys.modules)))\n" % (PACKAGE, PACKAGE))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env).stdout
    loaded = set(json.loads(out))
    assert [m for m in APPLY_ONLY if "%s.%s" % (PACKAGE, m) in loaded] == []


def test_the_reconciler_agent_gets_every_module_it_imports():
    """The reconciler role ships module_utils as a bundle of files matched by globs (the core's
    files, and those of each package by name): every package the agent reaches is listed, and no
    module lies deeper than a package."""
    role_vars = (PLUGINS.parent / "roles" / "reconciler" / "vars" / "main.yml").read_text()
    reach = [m.split(".") for m in reached("module_utils.reconciler", graph())]
    assert "reconciler_module_utils_src ~ '/*.py'" in role_vars
    assert sorted({p[1] for p in reach if len(p) == 3 and "reconciler_module_utils_src ~ '/%s/*.py'" % p[1]
                   not in role_vars}) == []
    assert [".".join(p) for p in reach if len(p) > 3] == []
