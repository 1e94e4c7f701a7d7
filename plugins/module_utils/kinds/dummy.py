# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dummy: the kernel's dummy device, a software interface with no link
underneath (``type: dummy``; no section of its own).

Routed (BGP) designs put a host's service or router-id addresses on one: it
is always up and never loses carrier. NetworkManager creates and deletes the
device with its profile (``connection.type: dummy``, NMDeviceType 22).
"""

from __future__ import annotations

from .base import Kind


class Dummy(Kind):
    """nmstate ``type: dummy``: addresses, MTU and MAC address like any
    interface, nothing of its own."""

    type = "dummy"
    nm_type = "dummy"
    device_types = (22,)  # NM_DEVICE_TYPE_DUMMY
    software = True


KIND = Dummy()
