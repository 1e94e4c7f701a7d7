# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline: NetworkManager keyfiles from a desired state, without NetworkManager.

For images and first boot: the document goes through the same validation and
the same plan as :func:`.transaction.apply`, against a host that has nothing
yet, and every profile the plan would create is rendered as a keyfile
(:mod:`.nm.keyfile`) instead of being sent over D-Bus. So the files hold
exactly the settings ``network_state`` would write (from
:func:`.nm.settings.build_settings`, which also writes its ownership mark:
nothing here adds or drops a setting), and a later ``network_state`` run
with the same document on the booted host is a no-op.

What only a host can tell (which NICs exist) is taken from the document: an
``ethernet`` interface it lists is assumed to exist; one it only names (a
port, a VLAN's base) is refused (:data:`UNDECLARED`).
"""

from __future__ import annotations

import configparser
import os
import stat
import uuid as uuidlib
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from . import kinds, model, validation
from .errors import HostnetError, InvalidStateError, Problem
from .files import write_atomic
from .nm import keyfile
from .nm.dbus import Variant
from .snapshot import Snapshot
from .plan import make_plan
from .rulebook import interfaces, ipath

#: namespace of the profiles' UUIDs: uuid5(NAMESPACE, interface name), the same for every run and host
NAMESPACE = uuidlib.uuid5(uuidlib.NAMESPACE_DNS, "keyfiles.hostnet.nm")
SUFFIX = ".nmconnection"
MODE = 0o600   # NetworkManager ignores a keyfile others can read or write (nm-settings-keyfile(5))
UNDECLARED = "OFFLINE_INTERFACE_UNDECLARED"
TYPE_REQUIRED = "OFFLINE_TYPE_REQUIRED"
SECRETS_NEED_DEST = "KEYFILE_SECRETS_NEED_DEST"
HOSTNAME_OFFLINE = "OFFLINE_HOSTNAME"


@dataclass
class Keyfile:
    """One generated profile: ``interface``, ``filename`` (``<interface>.nmconnection``),
    ``uuid``, ``text`` (the file, secrets included), ``shown`` (the same with
    secrets hidden, for results and diffs), ``secrets`` (whether it holds any)."""

    interface: str
    filename: str
    uuid: str
    text: str
    shown: str
    secrets: bool


@dataclass
class Generated:
    """What :func:`generate` returns: ``files`` (in dependency order),
    ``absent`` (interfaces with ``state: absent``: their files go),
    ``warnings`` (text)."""

    files: List[Keyfile]
    absent: List[str]
    warnings: List[str]


def profile_uuid(name: str) -> str:
    """The UUID of interface ``name``'s profile: uuid5 of :data:`NAMESPACE`
    and the name, so re-runs (and every image) give the same one."""
    return str(uuidlib.uuid5(NAMESPACE, name))


def _offline_problems(doc: Dict[str, Any]) -> List[Problem]:
    """What an offline run cannot look up on a host: interfaces the document
    names (ports, VLAN bases) but does not list, and listed ones without a
    type; and what no keyfile holds: the host name (nmstate refuses it too)."""
    listed = {iface["name"] for _i, iface in interfaces(doc)}
    problems = []
    if "hostname" in doc:
        problems.append(Problem(HOSTNAME_OFFLINE, "hostname", "a host name is not part of any NetworkManager "
                                "keyfile (the static name is /etc/hostname)",
                                "write /etc/hostname into the image (ansible.builtin.copy), or leave hostname out"))
    for i, iface in interfaces(doc):
        if "type" not in iface and iface.get("state") != "absent":
            problems.append(Problem(TYPE_REQUIRED, ipath(i, "type"), "%s has no type, and offline "
                                    "generation cannot look at the host's devices" % iface["name"],
                                    "add type (%s)" % ", ".join(kinds.TYPES)))
        refs = [(ipath(i, *keys), name) for keys, name in kinds.needs_refs(iface)]
        for path, name in refs:
            if name not in listed:
                problems.append(Problem(UNDECLARED, path, "%s is not in interfaces; offline generation cannot "
                                        "see which NICs the host has" % name,
                                        "add {name: %s, type: ethernet, state: up} (or its own type) to "
                                        "interfaces" % name))
    return problems


def _with_typed_route_holder(desired: Dict[str, Any]) -> Dict[str, Any]:
    """``desired`` with ``lo`` (:data:`.kinds.TYPED_ROUTE_HOLDER`, up, as the
    kernel has it) among its interfaces when it adds ``route-type`` routes
    and does not list ``lo``: its profile holds them, and every host has it
    (nmstate's offline generation writes ``lo``'s profile too)."""
    holder = kinds.TYPED_ROUTE_HOLDER
    ifaces = desired.get("interfaces", {})
    if holder not in ifaces and any(r.get("route-type") for r in desired.get("routes", [])):
        kind = kinds.of({"name": holder})
        desired = dict(desired, interfaces=dict(ifaces, **{holder: {
            "name": holder, "type": kind.type if kind else "", "state": "up"}}))
    return desired


def _offline_snapshot(desired: Dict[str, Any]) -> Snapshot:
    """A host with no profile whose devices are the interfaces of hardware kinds (not created by
    NetworkManager: ethernet) the document lists."""
    snap = Snapshot()
    for name, iface in desired.get("interfaces", {}).items():
        kind = kinds.of(iface)
        if kind is not None and not kind.software and iface.get("state") != "absent":
            # not realized: no D-Bus object, no live values (NMDeviceState 0, unknown)
            snap.devices[name] = {"path": "", "nm_type": kind.device_types[0] if kind.device_types else 0,
                                  "type": kind.type, "managed": True, "state": 0, "mtu": 0, "mac": None,
                                  "active": "/", "ip4config": "/", "ip6config": "/", "real": False}
    return snap


def generate(document: Any) -> Generated:
    """The keyfiles of ``document`` (an nmstate document, as ``network_state``
    takes it).

    Raises:
        InvalidStateError: the document is invalid, or names something
            offline generation cannot know (every problem at once, with
            codes, paths and hints).
    """
    doc, errors, warnings = validation.validate(document)
    errors += _offline_problems(doc) if not errors else []
    if errors:
        raise InvalidStateError(errors, warnings)
    desired = _with_typed_route_holder(kinds.from_document(doc))
    plan = make_plan(_offline_snapshot(desired), model.empty_state(), desired)
    files = []
    for op in plan.ops:
        if op.kind != "create" or op.settings is None:
            continue  # activations: NetworkManager's autoconnect does them at boot
        op.settings["connection"]["uuid"] = Variant("s", profile_uuid(op.iface))
        files.append(Keyfile(op.iface, op.iface + SUFFIX, profile_uuid(op.iface), keyfile.render(op.settings),
                             keyfile.render(op.settings, mask=True), keyfile.has_secrets(op.settings)))
    absent = sorted(n for n, i in desired.get("interfaces", {}).items() if i.get("state") == "absent")
    return Generated(files, absent, [str(w) for w in warnings] + plan.warnings)


@dataclass
class OnDisk:
    """An existing file: ``text`` (``None`` when there is no file, ``""`` when
    it is not UTF-8), ``mode`` (permission bits), ``uid`` (owner)."""

    text: Optional[str] = None
    mode: int = 0
    uid: int = 0

    def stale(self, text: str) -> bool:
        """Whether the file must be (re)written to hold ``text`` as NetworkManager
        wants it: mode 0600, and owned by root when we can make it so."""
        return self.text != text or self.mode != MODE or (os.geteuid() == 0 and self.uid != 0)


def on_disk(path: str) -> OnDisk:
    """What ``path`` holds now."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            raw = handle.read()
    except FileNotFoundError:
        return OnDisk()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    return OnDisk(text, stat.S_IMODE(info.st_mode), info.st_uid)


def _before(disk: OnDisk, secret_file: bool) -> str:
    """An existing file for a diff: its text (``<hidden>`` when it may hold
    secrets), then its mode and owner when they are wrong."""
    if disk.text is None:
        return ""
    out = keyfile.HIDDEN + "\n" if secret_file else disk.text
    if disk.mode != MODE:
        out += "# mode %04o\n" % disk.mode
    if os.geteuid() == 0 and disk.uid != 0:
        out += "# owner uid %d\n" % disk.uid
    return out


def rivals(dest: str, files: List[Keyfile]) -> List[str]:
    """Warnings for other keyfiles in ``dest`` bound to one of our interfaces
    (``interface-name``): NetworkManager may activate either at boot."""
    ours = {f.filename: f.interface for f in files}
    out = []
    for name in sorted(os.listdir(dest)):
        if not name.endswith(SUFFIX) or name in ours:
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(on_disk(os.path.join(dest, name)).text or "")
        except configparser.Error:
            continue  # not ours to judge: NetworkManager will say
        iface = parser.get("connection", "interface-name", fallback="")
        if iface in ours.values():
            out.append("%s in %s also configures %s and may win at boot: remove it, or set autoconnect=false in "
                       "it" % (name, dest, iface))
    return out


def run(document: Any, dest: Optional[str] = None, check_mode: bool = False) -> Dict[str, Any]:
    """The module's work: generate, then (with ``dest``) write the files that
    differ and remove those of ``state: absent`` interfaces.

    Returns the task result: ``changed``, ``keyfiles`` (per profile:
    ``interface``, ``filename``, ``uuid``, ``content`` with secrets hidden,
    and with ``dest`` its ``path`` and ``changed``), ``removed`` (paths),
    ``diff`` (one before/after per file that changes), ``warnings``.
    Check mode writes nothing and returns the same.

    Raises:
        InvalidStateError: see :func:`generate`; or secrets without ``dest``
            (returned data would have to carry them).
        HostnetError: ``dest`` is not a directory, or a write failed.
    """
    gen = generate(document)
    result: Dict[str, Any] = {"changed": False, "keyfiles": [], "removed": [], "diff": [], "warnings": gen.warnings}
    if dest is None:
        secret = [i for i, f in enumerate(gen.files) if f.secrets]
        if secret:
            raise InvalidStateError([Problem(SECRETS_NEED_DEST, "interfaces", "%s hold secrets, which are written "
                                             "to keyfiles only, never returned as data" % ", ".join(
                                                 gen.files[i].interface for i in secret),
                                             "give dest: the directory to write the keyfiles to")])
        result["keyfiles"] = [_entry(f) for f in gen.files]
        return result
    if not os.path.isdir(dest):
        raise HostnetError("dest %s is not a directory: create it first (for an image, its "
                           "/etc/NetworkManager/system-connections)" % dest)
    _write_files(gen, dest, check_mode, result)
    _remove_absent(gen, dest, check_mode, result)
    result["warnings"] += rivals(dest, gen.files)
    if os.geteuid() != 0 and result["diff"]:
        result["warnings"].append("the keyfiles belong to uid %d: NetworkManager ignores a keyfile that a user "
                                  "other than root can read; make them root's (become: true, or chown in the "
                                  "image recipe)" % os.geteuid())
    result["changed"] = bool(result["diff"])
    return result


def _write_files(gen: Generated, dest: str, check_mode: bool, result: Dict[str, Any]) -> None:
    """Write the generated files that differ from those in ``dest`` (not in
    check mode); add each to ``result["keyfiles"]`` and its diff."""
    for f in gen.files:
        path = os.path.join(dest, f.filename)
        disk = on_disk(path)
        changed = disk.stale(f.text)
        result["keyfiles"].append(dict(_entry(f), path=path, changed=changed))
        if changed:
            result["diff"].append({"before_header": path if disk.text is not None else "/dev/null",
                                   "after_header": path, "before": _before(disk, f.secrets), "after": f.shown})
            if not check_mode:
                _write(path, f.text)


def _remove_absent(gen: Generated, dest: str, check_mode: bool, result: Dict[str, Any]) -> None:
    """Remove the files of ``state: absent`` interfaces from ``dest`` (not in
    check mode); add each to ``result["removed"]`` and its diff."""
    for name in gen.absent:
        path = os.path.join(dest, name + SUFFIX)
        if os.path.lexists(path):
            result["removed"].append(path)
            result["diff"].append({"before_header": path, "after_header": "/dev/null",
                                   "before": _before(on_disk(path), True), "after": ""})
            if not check_mode:
                os.unlink(path)


def _entry(f: Keyfile) -> Dict[str, Any]:
    return {"interface": f.interface, "filename": f.filename, "uuid": f.uuid, "content": f.shown}


def _write(path: str, text: str) -> None:
    try:
        write_atomic(path, text, MODE)  # atomic, mode 0600, never through a symlink
    except OSError as exc:
        raise HostnetError("cannot write %s: %s" % (path, exc.strerror or exc))
