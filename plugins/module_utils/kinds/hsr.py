# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HSR and PRP (IEC 62439-3): a redundant link over two ports that carries
every frame on both (``hsr: {port1, port2, multicast-spec, protocol}``).

HSR (High-availability Seamless Redundancy) joins the nodes of a ring; PRP
(Parallel Redundancy Protocol) attaches a node to two separate LANs. Both are
the kernel's ``hsr`` driver (net/hsr). The kernel makes the HSR device the
master of its two ports, but NetworkManager gives their profiles no
controller: the ports are :meth:`~.base.Kind.kernel_port_refs` (validation
holds them to the rules of ports) and :meth:`~.base.Kind.lower_refs` (they
exist before the HSR device and stay while it does).

NetworkManager: ``connection.type: hsr`` with the ``hsr`` setting (since
1.46: ``port1``, ``port2``, ``multicast-spec``, ``prp``; since 1.56
``protocol-version``, which the protocol ``hsr-2012`` needs); devices of
NMDeviceType 33 with ``org.freedesktop.NetworkManager.Device.Hsr``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..nodes import Enum, Int, Mac, Obj, Str
from ..rulebook import Doc, Rule, ipath, present, register, report
from .base import Iface, KeyPath, Settings, Stacked, changed_props, live_diff

TYPE = "hsr"
#: nmstate's protocols: HSR (version 0, IEC 62439-3:2010), PRP, HSR version 1 (IEC 62439-3:2012)
PROTOCOLS = ("hsr", "prp", "hsr-2012")
#: the kernel's default protocol, and nmstate's (``hsr-2010`` is nmstate's other name for it)
DEFAULT_PROTOCOL = "hsr"
#: NetworkManager's ``hsr.protocol-version``: -1 the protocol's default, 1 HSR version 1 (hsr-2012)
VERSION_DEFAULT, VERSION_2012 = -1, 1
#: the NetworkManager release whose ``hsr.protocol-version`` the protocol hsr-2012 needs
NM_PROTOCOL_VERSION = (1, 56)
#: bytes of the HSR tag the kernel takes from the ports' MTU (net/hsr/hsr_main.h, HSR_HLEN)
HSR_HLEN = 6
DEFAULT_MTU = 1500  # a port without ``mtu`` in the document

SCHEMA = Obj({
    "port1": Str(what="an interface name"),
    "port2": Str(what="an interface name"),
    "multicast-spec": Int(0, 255, "(the last byte of the supervision address 01:15:4E:00:01:XX)",
                          code="HSR_MULTICAST_SPEC_OUT_OF_RANGE"),
    "protocol": Enum(*PROTOCOLS, aliases={"hsr-2010": "hsr"}),
    "supervision-address": Mac(),
}, required=("port1", "port2"), unsupported=["interlink"])

RULES: List[Rule] = []


def _hsrs(doc: Doc) -> Dict[str, Tuple[int, Dict[str, Any]]]:
    """``{name: (index, interface)}`` of the HSR interfaces the document keeps or creates."""
    return {name: (i, iface) for name, (i, iface) in present(doc).items()
            if iface.get("type") in (None, TYPE) and isinstance(iface.get(TYPE), dict)}


@register(RULES, "HSR_MTU_ABOVE_PORTS")
def _mtus(doc: Doc, problems: List[Problem]) -> None:
    """HSR MTUs.

    HSR_MTU_ABOVE_PORTS: an HSR's MTU above the smallest MTU of its ports minus the 6 bytes of the HSR tag

    Source: the kernel's hsr driver refuses such an MTU (hsr_dev_change_mtu)
    and gives a new HSR device the smallest MTU of its ports minus HSR_HLEN;
    a port in the document without ``mtu`` counts as 1500."""
    by_name = present(doc)
    for name, (i, iface) in _hsrs(doc).items():
        if "mtu" not in iface:
            continue
        sec = iface[TYPE]
        mtus = {p: by_name[p][1].get("mtu", DEFAULT_MTU) for p in (sec["port1"], sec["port2"]) if p in by_name}
        if mtus and iface["mtu"] > min(mtus.values()) - HSR_HLEN:
            port = min(mtus, key=lambda p: mtus[p])
            report(problems, "HSR_MTU_ABOVE_PORTS", ipath(i, "mtu"), "%s asks for MTU %d, above the MTU %d of its "
                   "port %s minus the %d bytes of the HSR tag" % (name, iface["mtu"], mtus[port], port, HSR_HLEN),
                   "set mtu: %d (or less) on %s, or mtu: %d (or more) on its ports"
                   % (mtus[port] - HSR_HLEN, name, iface["mtu"] + HSR_HLEN))


@register(RULES, "HSR_PRP_MAC_MISMATCH")
def _prp_macs(doc: Doc, problems: List[Problem]) -> None:
    """PRP MAC addresses.

    HSR_PRP_MAC_MISMATCH: a PRP interface and its ports given different MAC addresses

    Source: IEC 62439-3 (PRP): a doubly attached node sends the same frame
    with the same source MAC address into both LANs, so both ports and the
    PRP device share one MAC address; the kernel does not make them equal
    itself. Judged where the document gives the MAC addresses."""
    by_name = present(doc)
    for name, (_i, iface) in _hsrs(doc).items():
        sec = iface[TYPE]
        if sec.get("protocol") != "prp":
            continue
        stated = [n for n in (name, sec["port1"], sec["port2"]) if "mac-address" in by_name.get(n, (0, {}))[1]]
        for other in stated[1:]:
            mac, first = by_name[other][1]["mac-address"], by_name[stated[0]][1]["mac-address"]
            if mac != first:
                report(problems, "HSR_PRP_MAC_MISMATCH", ipath(by_name[other][0], "mac-address"), "%s has MAC address "
                       "%s, but %s has %s: the PRP interface %s and its ports share one MAC address" % (
                           other, mac, stated[0], first, name),
                       "give %s, %s and %s the same mac-address (or leave it out of all but one)"
                       % (name, sec["port1"], sec["port2"]))


def protocol_of(sec: Mapping[str, Any]) -> str:
    """The nmstate protocol of an ``hsr`` setting (plain values as read):
    ``prp`` when ``prp`` is true, ``hsr-2012`` for ``protocol-version`` 1, else ``hsr``."""
    if sec.get("prp"):
        return "prp"
    return "hsr-2012" if int(sec.get("protocol-version", VERSION_DEFAULT)) == VERSION_2012 else DEFAULT_PROTOCOL


#: model key -> (property of org.freedesktop.NetworkManager.Device.Hsr, its canonical form); the reader gives the
#: ports by name. MulticastSpec is not judged: the kernel reports 0 for it (nmstate reads the supervision address)
_LIVE = {"port1": ("Port1", str), "port2": ("Port2", str)}


class Hsr(Stacked):
    """nmstate ``type: hsr`` (HSR and PRP); NetworkManager's ``hsr`` setting
    exists since 1.46 (:attr:`min_nm`), ``hsr-2012`` needs 1.56
    (:meth:`nm_needs`). A new HSR without ``multicast-spec`` or ``protocol``
    gets 0 and ``hsr`` (the kernel's defaults, and nmstate's). Stacked on
    its two ports; any change of the section re-creates the device (the
    kernel's hsr driver changes none of it on a live device: no changelink).
    ``supervision-address`` is read-only (the kernel derives it from
    ``multicast-spec``): accepted, never written nor compared."""

    type = TYPE
    section = TYPE
    schema = SCHEMA
    schema_codes = {"HSR_MULTICAST_SPEC_OUT_OF_RANGE": "an HSR multicast-spec outside 0..255 (one byte)"}
    rules = tuple(RULES)
    nm_type = TYPE
    nm_properties = {TYPE: {"port1": "string", "port2": "string", "multicast-spec": "uint32", "prp": "boolean",
                            "protocol-version": "int32"}}
    device_types = (33,)  # NM_DEVICE_TYPE_HSR
    device_iface = "org.freedesktop.NetworkManager.Device.Hsr"
    min_nm = (1, 46)

    def kernel_port_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        sec = self.section_of(iface)
        return [((TYPE, key), sec[key]) for key in ("port1", "port2") if isinstance(sec.get(key), str) and sec[key]]

    def lower_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        return self.kernel_port_refs(iface)

    def nm_needs(self, iface: Iface) -> Optional[Tuple[Tuple[int, int], KeyPath, str]]:
        if self.section_of(iface).get("protocol") == "hsr-2012":
            return NM_PROTOCOL_VERSION, (TYPE, "protocol"), "uses protocol hsr-2012 (hsr.protocol-version)"
        return super().nm_needs(iface)

    def no_effect(self, iface: Iface) -> List[Tuple[KeyPath, str, str]]:
        if "supervision-address" not in self.section_of(iface):
            return []
        return [((TYPE, "supervision-address"), "hsr.supervision-address is read-only (the kernel makes it "
                 "01:15:4E:00:01:<multicast-spec>)", "remove it; set multicast-spec to choose its last byte")]

    def canonical(self, iface: Dict[str, Any]) -> None:
        """Without the read-only ``supervision-address``."""
        self.section_of(iface).pop("supervision-address", None)

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        sec = settings.get(TYPE, {})
        return {TYPE: {"port1": str(sec.get("port1", "")), "port2": str(sec.get("port2", "")),
                       "multicast-spec": int(sec.get("multicast-spec", 0)), "protocol": protocol_of(sec)}}

    def _props(self, iface: Iface, new: bool) -> Dict[str, Any]:
        sec = dict(self.section_of(iface))
        if new:
            sec.setdefault("protocol", DEFAULT_PROTOCOL)
        protocol = sec.get("protocol")
        props = {"port1": sec.get("port1"), "port2": sec.get("port2"), "multicast-spec": sec.get("multicast-spec"),
                 "prp": protocol == "prp" if protocol else None,
                 "protocol-version": (VERSION_2012 if protocol == "hsr-2012" else VERSION_DEFAULT) if protocol
                 else None}
        return {k: v for k, v in props.items() if v is not None}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        props = changed_props(self._props(current, False), self._props(target, new), new)
        if new and props.get("protocol-version") == VERSION_DEFAULT:
            del props["protocol-version"]  # NetworkManager's default; before 1.56 it has no such property
        return {TYPE: props} if props else {}

    def live_mismatches(self, target: Iface, device: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        live = device.get("kind") or {}
        out = live_diff(TYPE, self.section_of(target), live, _LIVE)
        protocol = self.section_of(target).get("protocol")
        if protocol and "Prp" in live and bool(live["Prp"]) != (protocol == "prp"):
            out.append(("%s.protocol" % TYPE, protocol, "prp" if live["Prp"] else "hsr"))
        return out


KIND = Hsr()
