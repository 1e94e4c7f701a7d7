# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed operation that :mod:`.plan` produces and :mod:`.nm.writer` runs.

Both layers import this module and nothing of each other: the plan decides
*what* to do, the writer *how* to say it to NetworkManager over D-Bus.

Operation kinds, in the order a plan runs them:

==============  ===========================================================
``update``      rewrite a profile (NM ``Update2``), then ``reapply`` it
``create``      add a profile (NM ``AddConnection2``)
``delete``      remove a profile (NM ``Delete``); its software device goes too
``deactivate``  take a profile down (``DeactivateConnection``)
``activate``    bring a profile up (``ActivateConnection``)
``reapply``     push an updated profile to its device without a link flap
                (``Device.Reapply``; falls back to re-activation when NM
                cannot reapply that change)
==============  ===========================================================

Disruption classes, from least to most: ``none`` (the profile only),
``reapply`` (live, no link flap), ``reactivate`` (the link goes down and up),
``remove`` (the interface or its profile goes away).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional

#: what an operation does (see the module doc)
OpKind = Literal["create", "update", "delete", "activate", "deactivate", "reapply"]
#: how much an operation disturbs traffic (see the module doc)
Disruption = Literal["none", "reapply", "reactivate", "remove"]
#: a profile's settings as NetworkManager groups them: ``{setting: {property: value}}``
Settings = Dict[str, Dict[str, Any]]

OP_KINDS = ("create", "update", "delete", "activate", "deactivate", "reapply")
DISRUPTIONS = ("none", "reapply", "reactivate", "remove")


@dataclass(eq=False)  # identity, as before: an operation is one step of one plan, hashable
class Op:
    """One operation of a plan.

    ``kind``: :data:`OpKind`; ``iface``: the interface name; ``profile``: the
    D-Bus path of an existing profile, ``""`` when there is none yet;
    ``settings``: the profile's new settings (create and update only);
    ``disruption``: :data:`Disruption` (the writer raises a ``reapply`` to
    ``reactivate`` when NetworkManager refuses to reapply); ``reason``: for
    people; ``awaits_device``: an activation that must wait for its device to
    appear (the peer of a veth created by the same apply);
    ``keep_external``: a ``reapply`` that keeps the addresses and routes
    NetworkManager did not configure (``Reapply`` flag
    ``PRESERVE_EXTERNAL_IP``, where NetworkManager does that right); without
    it NetworkManager removes them, the main table's routes of protocol
    ``boot``/``static`` among them;
    ``collateral``: routes of others through the interface (``"<dst> via
    <gw> table <n> (proto <p>)"``) that a re-activation of it would remove:
    a ``reapply`` that NetworkManager refuses may fall back to one only
    when these are allowed to go.
    """

    kind: OpKind
    iface: str
    profile: str = ""
    settings: Optional[Settings] = None
    disruption: Disruption = "none"
    reason: str = ""
    awaits_device: bool = False
    keep_external: bool = False
    collateral: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, str]:
        """The operation for the task result: ``{"op", "interface", "disruption",
        "reason"}`` (no settings: they may hold secrets)."""
        return {"op": self.kind, "interface": self.iface, "disruption": self.disruption, "reason": self.reason}
