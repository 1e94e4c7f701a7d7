# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host's current state, read-only (``hostnet.nm.network_state_info``).

Imports only what reading needs (the reader, the model and the kinds): no plan, no
writer, no checkpoint, no transaction.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from . import kinds, model
from .kinds import refused
from .nm import reader
from .nm.dbus import Bus


def describe(bus_address: Optional[str] = None) -> Dict[str, Any]:
    """``{"network_state": document (with ``hostname``: the static and the
    running host name), "profiles": [profile, ...],
    "networkmanager": {"version", "features", "refused_kinds"}}``: the
    current state as a desired-state document, every profile with who made
    it (:meth:`.nm.reader.Profile.as_dict`), and NetworkManager's version
    with what the host has of the refused kinds
    (:func:`.kinds.refused.host_notes`).

    Raises:
        NmError, DependencyError: NetworkManager or the D-Bus library failed.
    """
    bus = Bus(bus_address)
    try:
        snap = reader.read_snapshot(bus)
        state = reader.current_state(snap)
        for name, prof in snap.chosen.items():
            if kinds.builtin_default(name, prof.origin):
                del state["interfaces"][name]  # lo as the kernel made it: nothing to declare
        doc = model.to_document(model.without_no_effect(state))
        doc["hostname"] = reader.host_name(snap)
        return {"network_state": doc,
                "profiles": [p.as_dict() for p in snap.profiles],
                "networkmanager": {"version": snap.version, "features": sorted(snap.features),
                                   "refused_kinds": refused.host_notes(snap.features)}}
    finally:
        bus.close()
