# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What one interface kind is: the :class:`Kind` base class.

Every interface kind (nmstate ``type``) is one module of this package with
one subclass of :class:`Kind` and one instance of it, ``KIND``, listed in the
registry (:mod:`.kinds`). The class attributes are the kind's facts; the
methods are its behaviour, with defaults that suit a kind without a section
of its own (ethernet). The rest of the core asks the registry, never
compares type strings (DESIGN.md section 3).

A kind imports only model-level modules (:mod:`..model`, :mod:`..nodes`,
:mod:`..errors`, :mod:`..rulebook`), never schema, validation, plan or nm,
nor another kind. D-Bus types stay in ``nm/``: the NetworkManager mapping
here is in plain Python values (``{"vlan": {"id": 10, "parent": "eth1"}}``),
``nm/settings.py`` wraps them in variants. See docs/dev/adding-a-kind.md.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from ..nodes import Node, Obj
from ..rulebook import Rule

#: where a name sits inside an interface entry, as keys below it: ``("vlan", "base-iface")``,
#: ``("bridge", "port", 0, "name")``
KeyPath = Tuple[Any, ...]
#: an interface of the model or of the parsed document (see :mod:`..model`)
Iface = Mapping[str, Any]
#: NetworkManager settings as plain values: ``{setting name: {property: value}}``
Settings = Dict[str, Dict[str, Any]]


class Kind:
    """One interface kind. Subclasses set the class attributes and override
    the methods their kind needs.

    Attributes:
        type: nmstate's ``type`` value (``"vlan"``).
        section: the key of the kind's own section in an interface
            (``"vlan"``, ``"link-aggregation"``, ``"bridge"``, ``"veth"``),
            or ``None`` (ethernet).
        schema: the schema node of that section (:mod:`..nodes`), or ``None``.
        interface_fields: ``{key: schema node}`` of interface keys the kind
            declares besides its section (nmstate's ``ethernet`` section,
            refused as ``unsupported``); the schema adds them to an interface.
        schema_codes: ``{code: summary}`` of problems the section's schema
            reports beyond the common ones of :data:`..schema.CODES`
            (docs/validation.md lists them).
        rules: the kind's semantic validation rules (:func:`..rulebook.rule`),
            run by :func:`..validation.validate` on the whole document.
        nm_type: NetworkManager's ``connection.type`` of its profiles.
        device_types: NetworkManager's ``NMDeviceType`` numbers of its
            devices (``Device.DeviceType``); empty when NetworkManager reports
            the device as another kind (a veth is an ethernet device to it).
        software: NetworkManager creates the device when it activates a
            profile and deletes it with the profile (bridge, bond, VLAN, veth);
            ``False`` for devices the hardware brings (ethernet).
        port_type: the NetworkManager ``connection.port-type``
            (``slave-type``) its ports get when it is a controller, else ``None``.
        keyfile_type: the name NetworkManager's keyfile writes for
            ``nm_type`` (its "name aliases", nm-settings-keyfile(5));
            ``None``: the same as ``nm_type``.
        port_settings: the NetworkManager settings its ports' profiles get
            from it (``bridge-port``): dropped from a profile that is no
            longer its port.
        reported_as: the ``type`` NetworkManager reports its devices as,
            when it is another kind's (a veth is an ethernet device to it;
            an existing one without the kind's section is configured as
            that), else ``None``.
        nm_properties: ``{NM setting: {property: NM type}}`` of the
            properties :meth:`to_nm` and :meth:`port_to_nm` write, in the
            type names of NetworkManager's settings reference
            (nm-settings-dbus(5)): ``boolean``, ``uint16``, ``uint32``,
            ``string``, ``dict of string to string``, ``array of vardict``
            (records, whose fields are typed in ``nm_records``);
            ``nm/settings.py`` gives them their D-Bus types.
        nm_records: ``{property: {field: NM type}}`` for the ``array of
            vardict`` properties of ``nm_properties``.
        mtu_from_ports: a device whose MTU was never set takes the smallest
            MTU of its ports (the kernel's bridge), and its MTU does not
            propagate down to them.
        keyfile_dicts: ``{(setting, property): keyfile section}`` for the
            kind's dictionary properties that the keyfile writes as the keys
            of a section of their own (a bond's ``options`` as ``[bond]``).
        ports_keep_ip: the ports of a controller of this kind keep their own
            IP configuration, routes and rules (a VRF's ports route inside
            it); ``False``: NetworkManager disables IP on ports (bridge, bond).
        builtin: the name of the one interface of this kind the kernel
            always has (``"lo"``), or ``None``: it is never created or
            deleted, an interface of that name is of this kind even without
            ``type``, and NetworkManager's external profile of it (not set to
            autoconnect) stands for its default configuration.
        implicit_addresses: ``"ip/prefix"`` addresses the kernel always
            gives an interface of this kind (the loopback's ``127.0.0.1/8``
            and ``::1/128``): never configured, never reported, accepted in
            a document and left out of the model (:meth:`canonical`).
        holds_typed_routes: the profile of this kind's :attr:`builtin`
            interface holds the routes without a next hop (``route-type``
            blackhole, unreachable, prohibit), as nmstate keeps them in
            ``lo``'s profile: the kernel ties them to no device.
        min_nm: the oldest NetworkManager release (``(major, minor)``) that
            has the kind's setting, or ``None`` when every supported release
            has it; on an older host the plan refuses the kind before
            anything changes (``KIND_NEEDS_NEWER_NM``).
        device_iface: the D-Bus interface of the kind's device objects whose
            properties the reader hands to :meth:`live_mismatches` as the
            device record's ``"kind"`` (``Parent`` as an interface name), or
            ``None``.
    """

    type: str = ""
    section: Optional[str] = None
    schema: Optional[Obj] = None
    interface_fields: Mapping[str, Node] = {}
    schema_codes: Mapping[str, str] = {}
    rules: Tuple[Rule, ...] = ()
    nm_type: str = ""
    device_types: Tuple[int, ...] = ()
    software: bool = False
    port_type: Optional[str] = None
    keyfile_type: Optional[str] = None
    keyfile_dicts: Mapping[Tuple[str, str], str] = {}
    ports_keep_ip: bool = False
    builtin: Optional[str] = None
    implicit_addresses: Tuple[str, ...] = ()
    holds_typed_routes: bool = False
    min_nm: Optional[Tuple[int, int]] = None
    device_iface: Optional[str] = None
    port_settings: Tuple[str, ...] = ()
    reported_as: Optional[str] = None
    mtu_from_ports: bool = False
    nm_properties: Mapping[str, Mapping[str, str]] = {}
    nm_records: Mapping[str, Mapping[str, str]] = {}

    @property
    def controller(self) -> bool:
        """Whether interfaces of this kind carry ports (bridge, bond)."""
        return self.port_type is not None

    def claims(self, settings: Mapping[str, Mapping[str, Any]]) -> bool:
        """Whether a profile of :attr:`nm_type` (plain settings) is of this
        kind; only kinds that share a ``connection.type`` (MAC-VLAN and
        MAC-VTAP are both ``macvlan``) look further than the type."""
        return True

    # ------------------------------------------------------------ relations

    def section_of(self, iface: Iface) -> Dict[str, Any]:
        """The interface's own section (``{}`` when absent or not a mapping)."""
        sec = iface.get(self.section) if self.section else None
        return sec if isinstance(sec, dict) else {}

    def missing_keys(self, iface: Iface) -> List[str]:
        """The keys the kind's section requires (:attr:`schema`'s
        ``required``) that ``iface`` (the document merged onto what the host
        has) lacks: the schema checks them only in a section the document
        writes, and a new interface of this kind cannot be created without
        them (NetworkManager refuses, or creates a wrong device: a VLAN on
        no parent, a VRF on table 0)."""
        required = self.schema.required if self.schema is not None else ()
        return [key for key in required if key not in self.section_of(iface)]

    def port_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        """``(key path, port name)`` of each port the interface's section
        lists, in order; ``[]`` for a kind without ports."""
        return []

    def ports(self, iface: Iface) -> List[str]:
        """Names of the interface's ports, in order (bridge or bond ports)."""
        return [name for _keys, name in self.port_refs(iface)]

    def parent(self, iface: Iface) -> Optional[str]:
        """The interface this one is stacked on and must exist after (a
        VLAN's base), or ``None``."""
        return None

    def lower_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        """``(key path, name)`` of the interfaces this one is stacked on: they
        must exist before it is created and stay while it does (a VLAN's
        base, an HSR's two ports); ``[]`` for a kind stacked on nothing."""
        return []

    def kernel_port_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        """``(key path, name)`` of the interfaces the kernel makes ports of
        this one (their master device) although NetworkManager gives their
        profiles no controller (an HSR's port1 and port2): validation holds
        them to the rules of ports (one controller, no IP, no routes), the
        plan leaves their profiles as they are."""
        return []

    def needs_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        """``(key path, name)`` of the interfaces the section says must exist
        for this one: its ports and the interface it is stacked on; not a
        veth's peer (NetworkManager creates it)."""
        return self.port_refs(iface) + self.lower_refs(iface)

    def name_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        """``(key path, name)`` for every interface name the section writes
        (ports, a VLAN's base, a veth's peer), for the name rules of
        validation; the interface's own ``name`` is not included."""
        return self.port_refs(iface)

    def peers(self, iface: Iface) -> List[str]:
        """Interfaces NetworkManager creates with this one (a veth's peer)."""
        return []

    def name_hint(self, name: str) -> str:
        """A hint for an interface called ``name`` the host does not have as
        the type the document gives (``"; for a VLAN use type: vlan..."``),
        or ``""``."""
        return ""

    def no_effect(self, iface: Iface) -> List[Tuple[KeyPath, str, str]]:
        """``(key path, message, hint)`` for each key of the section that has
        no effect as written (STP timers with STP off), reported by
        validation as the warning ``OPTION_NO_EFFECT``; the message follows
        the interface's name (``"br0: stp.hello-time has no effect..."``)."""
        return []

    def nm_needs(self, iface: Iface) -> Optional[Tuple[Tuple[int, int], KeyPath, str]]:
        """The oldest NetworkManager release the interface needs, with the
        key path that needs it and what that is, after the interface's name
        (``((1, 52), ("type",), "is of type ipvlan")``), or ``None``: the
        kind's :attr:`min_nm`; a kind with a value that needs a newer
        release than the kind itself overrides it."""
        return (self.min_nm, ("type",), "is of type %s" % self.type) if self.min_nm else None

    # ------------------------------------------------------- canonical forms

    def canonical(self, iface: Dict[str, Any]) -> None:
        """The kind's canonical form of a model interface, in place, the same
        for both sides (the document's interface after parsing, the host's
        after reading), so that equal networks compare equal: the default
        leaves out :attr:`implicit_addresses`; kinds with more override it."""
        if not self.implicit_addresses:
            return
        for key in ("ipv4", "ipv6"):
            sec = iface.get(key)
            if isinstance(sec, dict) and isinstance(sec.get("address"), list):
                sec["address"] = [a for a in sec["address"] if not self.is_implicit(a)]

    def is_implicit(self, address: Mapping[str, Any]) -> bool:
        """Whether an address entry (``{ip, prefix-length}``) is one of :attr:`implicit_addresses`."""
        return "%s/%s" % (address.get("ip"), address.get("prefix-length")) in self.implicit_addresses

    def merge_section(self, current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
        """The section after ``desired`` (from a document) is applied to
        ``current`` (the host's, possibly ``{}``): keys the document gives
        replace, others stay (nmstate's merge, one level). Kinds with nested
        options or per-entry merges override this."""
        out = dict(current)
        for key, value in desired.items():
            out[key] = copy.deepcopy(value)
        return out

    # ---------------------------------------------- NetworkManager (plain values)

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        """The kind's keys of a model interface from its profile's settings
        (plain values as read): ``{section: value}``; ``{}`` when the kind has
        no section. Ports are filled in by the reader from the ports'
        profiles."""
        return {}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        """The kind's settings of the profile for ``target`` (a model
        interface; ``current`` the host's, ``{"name": ...}`` when it has no
        profile; ``new``: a new profile; ``old`` the profile's settings as
        read, ``None`` for a new profile), as plain values ``{setting:
        {property: value}}``, merged property by property into the
        profile's; only what changes, or everything for a new profile.
        ``{}`` when the kind has none."""
        return {}

    def port_from_nm(self, name: str, settings: Mapping[str, Mapping[str, Any]]) -> Any:
        """For a controller: the entry of its port list for port ``name``,
        from the port profile's ``settings`` (plain values): the name (a
        bond's ports), or an entry with the port's options (a bridge's)."""
        return name

    def port_to_nm(self, entry: Mapping[str, Any]) -> Settings:
        """For a controller: the settings its port's profile gets from the
        port's entry (``bridge.port[]`` item, or ``{"name": ...}`` for a
        bond), as plain values; ``{}`` when ports carry nothing of the kind."""
        return {}

    def recreates(self, current: Iface, target: Iface) -> bool:
        """Whether NetworkManager can bring the change from ``current`` to
        ``target`` (model interfaces) onto a live device only by re-creating
        it: it refuses to activate a profile on a realized device whose own
        properties differ ("profile is not compatible with device"), and
        cannot reapply them. ``False`` for kinds whose devices it changes
        in place."""
        return False

    def live_mismatches(self, target: Iface, device: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        """What verification finds wrong in the live device after an apply:
        ``(what, desired, actual)`` for each of the kind's properties the
        device does not show (``device`` is the reader's device record);
        ``[]`` when the kind checks nothing live of its own."""
        return []


def changed_props(current: Mapping[str, Any], target: Mapping[str, Any], new: bool) -> Dict[str, Any]:
    """The properties of ``target`` (``{property: value}`` of one setting)
    to write: all of them for a new profile, else those whose value differs
    from ``current``'s (so that a re-run writes nothing)."""
    return {prop: value for prop, value in target.items() if new or current.get(prop) != value}


def live_diff(section_key: str, section: Mapping[str, Any], live: Mapping[str, Any],
              table: Mapping[str, Tuple[str, Callable[[Any], Any]]]) -> List[Tuple[str, Any, Any]]:
    """``(what, desired, actual)`` for each key of ``section`` (the target's
    kind section, key ``section_key``) whose live value differs: ``table``
    maps a model key to ``(device property, its canonical form)``; ``live``
    holds the device's properties (a property the device does not report is
    not judged)."""
    out = []
    for key, (prop, canonical) in table.items():
        if key in section and prop in live and canonical(live[prop]) != section[key]:
            out.append(("%s.%s" % (section_key, key), section[key], canonical(live[prop])))
    return out


class Stacked(Kind):
    """A kind stacked on a base interface named by ``base-iface`` in its
    section (VLAN, VXLAN, MAC-VLAN, MAC-VTAP, IPVLAN, MACsec), or on others
    its :meth:`lower_refs` names (an HSR's ports): they must exist first,
    and NetworkManager creates and deletes the device."""

    software = True

    def parent(self, iface: Iface) -> Optional[str]:
        base = self.section_of(iface).get("base-iface")
        return base if isinstance(base, str) and base else None

    def lower_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        base = self.parent(iface)
        return [((self.section, "base-iface"), base)] if base is not None else []

    def name_refs(self, iface: Iface) -> List[Tuple[KeyPath, str]]:
        return self.needs_refs(iface)

    def recreates(self, current: Iface, target: Iface) -> bool:
        """Any change of the section (an id, a mode, the base): NetworkManager
        checks each of these properties against the realized device."""
        return bool(self.section_of(current)) and self.section_of(current) != self.section_of(target)
