# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The interface kinds and their registry: ``type`` -> :class:`.base.Kind`.

One module per kind (``ethernet``, ``veth``, ``linux_bridge``, ``bond``,
``vlan``, ``dummy``, ``loopback``, ``vrf``, ``vxlan``, ``mac_vlan``, ``mac_vtap``,
``ipvlan``, ``macsec``, ``hsr``), each with one ``KIND``; :data:`KINDS` lists them, and every other
part of the core asks this registry instead of comparing type strings:

- lookups: :func:`get` / :func:`find` by nmstate ``type``, :func:`of` an
  interface, :func:`by_nm_type` (``connection.type``), :func:`by_profile`
  (a profile's settings, for kinds that share a type), :func:`by_device_type`
  (``NMDeviceType``), :func:`by_section` (the key of a kind's section);
- facts as tuples: :data:`TYPES`, :data:`SECTIONS`, :data:`SOFTWARE_TYPES`,
  :data:`CONTROLLER_TYPES`;
- relations between interfaces of a state: :func:`ports_of`,
  :func:`parent_of`, :func:`controllers`, :func:`dependency_order`, and of a
  document: :func:`section_port_refs`, :func:`needs_refs`, :func:`name_refs`;
- merging a document into a state with each kind's section merge:
  :func:`merge_iface`, :func:`merge`, :func:`from_document` (the model's
  functions with the kinds' sections filled in).

Adding a kind: docs/dev/adding-a-kind.md.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from .. import model
from . import (bond, dummy, ethernet, hsr, ipvlan, linux_bridge, loopback, mac_vlan, mac_vtap, macsec, veth, vlan, vrf,
               vxlan)
from .base import Iface, KeyPath, Kind

#: every kind we manage, in the order the schema lists their types
KINDS: Tuple[Kind, ...] = (ethernet.KIND, veth.KIND, linux_bridge.KIND, bond.KIND, vlan.KIND, dummy.KIND,
                           loopback.KIND, vrf.KIND, vxlan.KIND, mac_vlan.KIND, mac_vtap.KIND, ipvlan.KIND,
                           macsec.KIND, hsr.KIND)
#: nmstate ``type`` values we manage
TYPES: Tuple[str, ...] = tuple(k.type for k in KINDS)
#: keys of the kinds' own sections in an interface (``bridge``, ``link-aggregation``...)
SECTIONS: Tuple[str, ...] = tuple(k.section for k in KINDS if k.section)
#: types NetworkManager creates (and deletes) as software devices
SOFTWARE_TYPES: Tuple[str, ...] = tuple(k.type for k in KINDS if k.software)
#: types that carry ports
CONTROLLER_TYPES: Tuple[str, ...] = tuple(k.type for k in KINDS if k.controller)

_BY_TYPE: Dict[str, Kind] = {k.type: k for k in KINDS}
_BY_NM_TYPE: Dict[str, List[Kind]] = {}
for _kind in KINDS:
    _BY_NM_TYPE.setdefault(_kind.nm_type, []).append(_kind)
_BY_DEVICE_TYPE: Dict[int, Kind] = {n: k for k in KINDS for n in k.device_types}
_BY_SECTION: Dict[str, Kind] = {k.section: k for k in KINDS if k.section}
_BUILTIN: Dict[str, Kind] = {k.builtin: k for k in KINDS if k.builtin}
#: the interface whose profile holds the routes without a next hop (``route-type``; :attr:`.base.Kind.holds_typed_routes`)
TYPED_ROUTE_HOLDER: str = next(k.builtin for k in KINDS if k.holds_typed_routes and k.builtin)


def get(type_name: str) -> Kind:
    """The kind of an nmstate ``type``.

    Raises:
        KeyError: for a type we do not manage (the schema refuses those)."""
    return _BY_TYPE[type_name]


def find(type_name: Optional[str]) -> Optional[Kind]:
    """The kind of an nmstate ``type``, or ``None`` (unknown or unset)."""
    return _BY_TYPE.get(type_name or "")


def of(iface: Iface) -> Optional[Kind]:
    """The kind of an interface (by its ``type``; without one, the kind
    whose :attr:`~.base.Kind.builtin` interface has its name: ``lo``), or ``None``."""
    type_name = iface.get("type")
    if isinstance(type_name, str):
        return find(type_name)
    return _BUILTIN.get(iface.get("name", ""))


def builtin_default(name: str, origin: str) -> bool:
    """Whether a profile of ``name`` made by ``origin`` (:func:`..profiles.origin_of`)
    is NetworkManager's own external profile of an interface the kernel
    always has (``lo``): it stands for that interface's default configuration,
    so it is never deleted, never made to autoconnect for its own sake, not
    listed by ``network_state_info`` and never given the DNS configuration."""
    return origin == "external" and name in _BUILTIN


def by_nm_type(nm_type: str) -> Optional[Kind]:
    """The kind of a NetworkManager ``connection.type`` (``"802-3-ethernet"``), or ``None``;
    the first of those that share it (``macvlan``: use :func:`by_profile`)."""
    return next(iter(_BY_NM_TYPE.get(nm_type, [])), None)


def by_profile(settings: Mapping[str, Mapping[str, Any]]) -> Optional[Kind]:
    """The kind of a profile (plain settings): by its ``connection.type``,
    and among kinds that share one (MAC-VLAN, MAC-VTAP) the one that
    :meth:`~.base.Kind.claims` it; ``None`` for a type we do not manage."""
    nm_type = settings.get("connection", {}).get("type", "")
    return next((k for k in _BY_NM_TYPE.get(nm_type, []) if k.claims(settings)), None)


def by_device_type(device_type: int) -> Optional[Kind]:
    """The kind of a NetworkManager ``NMDeviceType`` number, or ``None``."""
    return _BY_DEVICE_TYPE.get(device_type)


def by_section(key: str) -> Optional[Kind]:
    """The kind whose own section is ``key`` (``"link-aggregation"`` -> bond), or ``None``."""
    return _BY_SECTION.get(key)


# ------------------------------------------------------------------ relations

def ports_of(iface: Iface) -> List[str]:
    """Names of an interface's ports (bridge ports or bond ports), in order;
    ``[]`` for a kind without ports."""
    kind = of(iface)
    return kind.ports(iface) if kind else []


def parent_of(iface: Iface) -> Optional[str]:
    """The interface this one is stacked on (a VLAN's base), if any."""
    kind = of(iface)
    return kind.parent(iface) if kind else None


def lowers_of(iface: Iface) -> List[str]:
    """Names of the interfaces this one is stacked on (a VLAN's base, an
    HSR's two ports: :meth:`.base.Kind.lower_refs`), in order."""
    kind = of(iface)
    return [name for _keys, name in kind.lower_refs(iface)] if kind else []


def section_port_refs(iface: Iface) -> List[Tuple[KeyPath, str]]:
    """``(key path, port name)`` of the ports listed in every kind section
    the interface gives, whatever its ``type`` (a document may omit it):
    ``(("bridge", "port", 0, "name"), "eth1")``."""
    return [ref for kind in KINDS if kind.section in iface for ref in kind.port_refs(iface)]


def section_kernel_port_refs(iface: Iface) -> List[Tuple[KeyPath, str]]:
    """``(key path, port name)`` of the ports the kernel binds to the
    interface without NetworkManager's port settings
    (:meth:`.base.Kind.kernel_port_refs`: an HSR's), in every kind section
    the interface gives, whatever its ``type``."""
    return [ref for kind in KINDS if kind.section in iface for ref in kind.kernel_port_refs(iface)]


def needs_refs(iface: Iface) -> List[Tuple[KeyPath, str]]:
    """``(key path, name)`` of the interfaces the kind sections of an
    interface need to exist (ports, VLAN base), whatever its ``type``."""
    return [ref for kind in KINDS if kind.section in iface for ref in kind.needs_refs(iface)]


def name_refs(iface: Iface) -> List[Tuple[KeyPath, str]]:
    """``(key path, name)`` of every interface name the kind sections of an
    interface write (ports, VLAN base, veth peer), whatever its ``type``."""
    return [ref for kind in KINDS if kind.section in iface for ref in kind.name_refs(iface)]


def controllers(state: Mapping[str, Any]) -> Dict[str, str]:
    """``{port name: controller name}`` for every port in the state
    (interfaces that are not ``state: absent``)."""
    out: Dict[str, str] = {}
    for name, iface in state.get("interfaces", {}).items():
        if iface.get("state") != "absent":
            for port in ports_of(iface):
                out[port] = name
    return out


def dependency_order(state: Mapping[str, Any], names: Iterable[str]) -> List[str]:
    """``names`` ordered so that every interface comes after what it needs:
    a VLAN after its base, an HSR after its ports, a port after its controller (NM activates ports
    once the controller exists). Cycles are broken by name order; validation
    reports them."""
    ifaces = state.get("interfaces", {})
    ctrl = controllers(state)
    wanted = sorted(set(names))
    done: List[str] = []
    seen: Set[str] = set()

    def visit(name: str, stack: Tuple[str, ...]) -> None:
        if name in seen or name in stack:
            return
        iface = ifaces.get(name, {})
        for dep in [ctrl.get(name)] + lowers_of(iface):
            if dep and dep in ifaces:
                visit(dep, stack + (name,))
        seen.add(name)
        done.append(name)

    for name in wanted:
        visit(name, ())
    return [n for n in done if n in set(wanted)]


# ---------------------------------------------------------------------- merge

#: how each mergeable section of an interface merges (see :func:`.model.merge_iface`)
SECTION_MERGES: Dict[str, model.SectionMerge] = dict(
    {"ipv4": model.merge_flat, "ipv6": model.merge_flat}, **{k.section: k.merge_section for k in KINDS if k.section})


def merge_iface(current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
    """:func:`.model.merge_iface` with every kind's section merge."""
    return model.merge_iface(current, desired, SECTION_MERGES)


def merge(current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
    """:func:`.model.merge` (the target state) with every kind's section merge."""
    return model.merge(current, desired, SECTION_MERGES)


def from_document(doc: Dict[str, Any]) -> Dict[str, Any]:
    """:func:`.model.from_document` (the document as a partial state) with
    every kind's section merge, each interface in its kind's canonical form
    (:func:`canonical`), and each ``route-type`` route to add held by
    :data:`TYPED_ROUTE_HOLDER`."""
    out = model.from_document(doc, SECTION_MERGES)
    for iface in out.get("interfaces", {}).values():
        canonical(iface)
    if "routes" in out:
        out["routes"] = [dict(r, **{"next-hop-interface": r.get("next-hop-interface", TYPED_ROUTE_HOLDER)})
                         if r and r.get("route-type") and r.get("state") != "absent" else r for r in out["routes"]]
    return out


def canonical(iface: Dict[str, Any]) -> None:
    """An interface of the model in its kind's canonical form, in place
    (:meth:`.base.Kind.canonical`); one of no known kind stays as it is."""
    kind = of(iface)
    if kind is not None:
        kind.canonical(iface)


def implicit_addresses(iface: Iface) -> Tuple[str, ...]:
    """``"ip/prefix"`` addresses the kernel gives the interface's kind itself
    (:attr:`.base.Kind.implicit_addresses`: the loopback's); ``()`` for others."""
    kind = of(iface)
    return kind.implicit_addresses if kind is not None else ()


def keeps_ip(state: Mapping[str, Any], port: str, ctrl: Optional[Mapping[str, str]] = None) -> bool:
    """Whether ``port`` keeps its own IP configuration as a port: its
    controller in ``state`` is of a kind whose ports do (a VRF); ``True``
    for an interface that is no port.

    ``ctrl``: :func:`controllers` of ``state``, when the caller has it (it
    asks for many ports: one scan of the state, not one per port)."""
    ctrl_name = (controllers(state) if ctrl is None else ctrl).get(port)
    kind = of(state.get("interfaces", {}).get(ctrl_name, {})) if ctrl_name else None
    return ctrl_name is None or (kind is not None and kind.ports_keep_ip)
