# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""From one host's ``hostnet_*`` inventory variables to one nmstate document.

Controller side only (the role ``hostnet.nm.network`` through the filter
``hostnet.nm.compose_state``, and the fleet preflight). Plain data in, plain
data out: no Ansible import, so it is unit-tested directly.

Input shapes (docs/roles.md has the worked example; every key is optional
unless marked)::

    hostnet_ethernets | hostnet_bonds | hostnet_vlans | hostnet_bridges:
      <interface name>:
        state: up | down | absent           # default up; absent ignores the other keys
        mtu: 9000
        mac_address: 02:00:00:00:00:01
        addresses: [198.18.1.5/24, 2001:db8:1::5/64]   # explicit, this host's
        subnet: 198.18.1.0/24 | [198.18.1.0/24, 2001:db8:1::/64]
                                            # one address per subnet: host index + offset
        address_offset: 10                  # default hostnet_address_offset, else 0
        dhcp: true                          # IPv4 DHCP
        autoconf: true                      # IPv6 router advertisements + DHCPv6
        gateway: 198.18.1.1 | [198.18.1.1, 2001:db8:1::1]   # default route(s) via this interface
        nmstate: {...}                      # nmstate interface keys, merged in last
        # bonds:   mode (required), options: {miimon: 100}, ports: [eth1, eth2]
        # vlans:   id (required), base (required)
        # bridges: ports: [eth2 | {name: eth2, stp-priority: 32}], stp: false (the default),
        #          options: {mac-ageing-time: 300}
    hostnet_routes:      {<label>: {destination, next-hop-address, next-hop-interface,
                                    metric, table-id, on-link, state}}      # nmstate route keys
    hostnet_route_rules: {<label>: {ip-from, ip-to, priority, route-table, family, state}}
    hostnet_dns:         {servers: [...], search: [...], options: [...]}
    hostnet_network_state: <an nmstate document, merged last>
    hostnet_host_index: 7        # else: the last number in the short host name (h7, web-07),
    hostnet_host_index_from: name | order    # or order: position (1-based) in
    hostnet_host_index_group: all            #   groups[hostnet_host_index_group]
    hostnet_address_offset: 10

Merge rules (:func:`merge_kind`), for each kind (``ethernets``, ``bonds``,
``vlans``, ``bridges``, ``routes``, ``route_rules``, ``dns``):

1. The variables ``hostnet_<kind>`` and ``hostnet_<kind>__<suffix>`` (suffix:
   letters, digits, underscores) are combined into one mapping.
2. The suffixed ones first, in the order of their names. Mappings are merged
   key by key at every depth. A key that two of them set to different values
   (scalars or lists, compared whole) is an error naming both variables. A
   ``null`` value counts as not set.
3. Then the plain ``hostnet_<kind>``, as the host's override: mappings merged
   key by key, scalars and lists replace, ``null`` removes the key (so
   ``hostnet_vlans: {bond0.200: null}`` drops a group's VLAN on one host, and
   ``{bond0.100: {subnet: null, addresses: [...]}}`` replaces a derived address).
4. One variable name is one variable: where it is defined in several places
   (group_vars/all, group_vars/storage, host_vars), Ansible's precedence picks
   one whole value before any of this happens.

The document lists interfaces by kind (ethernets, bonds, VLANs, bridges), each
kind's entries, routes and rules in the natural order of their names (eth2
before eth10), so it does not depend on where the variables were defined.

Errors carry the variable path (``hostnet_vlans__storage['bond0.100'].subnet``);
problems found by the core's :func:`validate` on the composed document carry
both paths (``hostnet_vlans['bond0.100'].id (interfaces[2].vlan.id)``).
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ..module_utils.errors import Problem, shown, type_name
from ..module_utils.validation import validate

#: interface kinds: (variable kind, nmstate type), in document order (bases before what stacks on them)
INTERFACE_KINDS = (("ethernets", "ethernet"), ("bonds", "bond"), ("vlans", "vlan"), ("bridges", "linux-bridge"))
#: every kind that takes ``hostnet_<kind>`` and ``hostnet_<kind>__<suffix>`` variables
KINDS = tuple(kind for kind, _type_name in INTERFACE_KINDS) + ("routes", "route_rules", "dns")
#: inputs other than the kinds
SCALAR_INPUTS = ("network_state", "host_index", "host_index_from", "host_index_group", "address_offset")

COMMON_FIELDS = ("state", "mtu", "mac_address", "addresses", "subnet", "address_offset", "dhcp", "autoconf",
                 "gateway", "nmstate")
FIELDS: Dict[str, Tuple[str, ...]] = {
    "ethernets": COMMON_FIELDS,
    "bonds": COMMON_FIELDS + ("mode", "options", "ports"),
    "vlans": COMMON_FIELDS + ("id", "base"),
    "bridges": COMMON_FIELDS + ("ports", "stp", "options"),
    "dns": ("servers", "search", "options"),
}
REQUIRED: Dict[str, Tuple[str, ...]] = {"bonds": ("mode",), "vlans": ("id", "base")}
#: (document key under the interface, field) pairs, for the variable path of a document path
DOC_KEYS: Dict[str, Tuple[Tuple[str, str], ...]] = {
    "common": (("state", "state"), ("mtu", "mtu"), ("mac-address", "mac_address")),
    "bonds": (("link-aggregation.mode", "mode"), ("link-aggregation.options", "options"),
              ("link-aggregation.port", "ports")),
    "vlans": (("vlan.id", "id"), ("vlan.base-iface", "base")),
    "bridges": (("bridge.port", "ports"), ("bridge.options.stp", "stp"), ("bridge.options", "options")),
}

#: problem codes of the composition (the core's validation codes come on top), with what they mean
CODES = {
    "VAR_TYPE": "a variable or field of the wrong type (a list where a mapping keyed by name belongs...)",
    "VAR_UNKNOWN_FIELD": "a field the role does not know, with a suggestion",
    "VAR_UNKNOWN": "a hostnet_ variable that looks like a misspelt input",
    "VAR_REQUIRED": "a required field is missing (vlans: id and base; bonds: mode)",
    "VAR_CONFLICT": "two suffixed variables set the same key to different values",
    "ADDRESS_INVALID": "an explicit address that is not ip/prefix",
    "GATEWAY_INVALID": "a gateway that is not an IP address",
    "SUBNET_INVALID": "a subnet that is not a network address/prefix",
    "SUBNET_EXHAUSTED": "host index + offset falls outside the subnet's host numbers",
    "HOST_INDEX_UNKNOWN": "a derived address is needed but the host index cannot be found",
}

#: hostnet_ names of the role's options and results and of the rollout: never inputs of the composition
OTHER_NAMES = re.compile(r"^hostnet_(rollout_|rollback_timeout$|wait_timeout$|verify|lock_timeout$|persistent$|"
                         r"confirm$|allow_management_change$|allow_route_flush$|prune$|manage_dbus_library$|dbus_|network_result$|"
                         r"desired_state$|preflight)")
_SUFFIX_RE = re.compile(r"^hostnet_(%s)(?:__([A-Za-z0-9_]+))?$" % "|".join(KINDS))
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ComposeError(ValueError):
    """A problem found while composing, with a code, variable path and hint."""

    def __init__(self, code: str, path: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(code, path, message, hint)


def vpath(var: str, *keys: Any) -> str:
    """A variable path: ``vpath("hostnet_vlans", "bond0.100", "subnet", 0)
    == "hostnet_vlans['bond0.100'].subnet[0]"`` (valid Jinja)."""
    out = var
    for key in keys:
        if isinstance(key, int):
            out += "[%d]" % key
        elif _IDENT_RE.match(str(key)):
            out += ".%s" % key
        else:
            out += "[%r]" % str(key)
    return out


def _type(value: Any) -> str:
    """A YAML-ish name of a value's type, for messages."""
    for kind, name in ((bool, "a boolean"), (dict, "a mapping"), (list, "a list"), (str, "a string"),
                       (int, "an integer"), (float, "a number")):
        if isinstance(value, kind):
            return name
    return type_name(value)


# ------------------------------------------------------------------ addresses

class AddressError(ValueError):
    """A subnet, index or offset that gives no host address: ``code``
    (``SUBNET_INVALID`` or ``SUBNET_EXHAUSTED``), ``message`` and ``hint``."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__("%s: %s" % (message, hint))
        self.code, self.message, self.hint = code, message, hint


def host_address(subnet: str, index: Any, offset: Any = 0) -> str:
    """The address of host number ``index + offset`` in ``subnet``, as
    ``ip/prefix`` (the standard library's ``ipaddress``):
    ``host_address("198.18.1.0/24", 1, 10) == "198.18.1.11/24"``.

    Host numbers run from 1 to the last address before the broadcast (IPv4)
    or to the last address (IPv6); /31, /32, /127 and /128 use every address
    (RFC 3021 for /31 and RFC 6164 for /127 point-to-point links).

    Raises:
        AddressError: a subnet that is not a network (bad text, no prefix,
            host bits set), an index or offset that is not an integer
            (``SUBNET_INVALID``), or a number outside the subnet
            (``SUBNET_EXHAUSTED``, saying which numbers exist).
    """
    text = str(subnet).strip()
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise AddressError("SUBNET_INVALID", "%s is not an IP network" % shown(subnet),
                           "write address/prefix, e.g. 198.18.1.0/24 or 2001:db8:1::/64")
    if "/" not in text:
        raise AddressError("SUBNET_INVALID", "%s has no prefix" % shown(subnet),
                           "write the network with its prefix, e.g. %s/24" % text)
    net = iface.network
    if iface.ip != net.network_address:
        raise AddressError("SUBNET_INVALID", "%s has host bits set" % text, "write the network, %s" % net)
    try:
        number = int(str(index).strip()) + int(str(offset).strip())
    except (TypeError, ValueError):
        raise AddressError("SUBNET_INVALID", "host index %s and offset %s must be integers" % (shown(index), shown(offset)),
                           "set hostnet_host_index and address_offset to whole numbers")
    whole = net.prefixlen >= net.max_prefixlen - 1   # point-to-point, single address
    first = 0 if whole else 1
    last = net.num_addresses - 1 - (0 if whole or net.version == 6 else 1)
    if not first <= number <= last:
        raise AddressError("SUBNET_EXHAUSTED", "%s has host numbers %d..%d; host index %s + offset %s = %d is "
                           "outside it" % (net, first, last, index, offset, number),
                           "use a larger subnet, a smaller address_offset, or give this host its address "
                           "in addresses")
    return "%s/%d" % (net.network_address + number, net.prefixlen)


# ------------------------------------------------------------------ merging

class Merged:
    """A kind's merged value and, for every key path, the variable it came from."""

    def __init__(self) -> None:
        self.value: Dict[str, Any] = {}
        self.origins: Dict[Tuple[Any, ...], str] = {}
        self.variables: List[str] = []

    def origin(self, *path: Any) -> str:
        """The variable that set ``path`` (or its closest set ancestor)."""
        for n in range(len(path), 0, -1):
            if path[:n] in self.origins:
                return self.origins[path[:n]]
        return self.variables[-1] if self.variables else ""

    def path(self, *keys: Any) -> str:
        """Variable path of ``keys``, through the variable that set them."""
        return vpath(self.origin(*keys), *keys)

    def _set(self, path: Tuple[Any, ...], var: str) -> None:
        for key in [k for k in self.origins if k[:len(path)] == path]:
            del self.origins[key]
        self.origins[path] = var


def merge_kind(variables: Mapping[str, Any], kind: str) -> Tuple[Merged, List[Problem]]:
    """Combine ``hostnet_<kind>`` and every ``hostnet_<kind>__<suffix>`` by the
    rules in the module docstring. Returns ``(merged, problems)``."""
    merged, problems = Merged(), []
    base = "hostnet_" + kind
    names = sorted(n for n in variables if n.startswith(base + "__") and _SUFFIX_RE.match(n))
    if base in variables:
        names.append(base)
    for name in names:
        value = variables[name]
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(Problem("VAR_TYPE", name, "%s must be a mapping, got %s" % (name, _type(value)),
                                    _shape_hint(kind)))
            continue
        merged.variables.append(name)
        if name == base:
            deep_override(merged.value, value, _marker(merged, name))
        else:
            _strict(merged, merged.value, value, name, (), problems)
    return merged, problems


def _marker(merged: Merged, var: str) -> Callable[[Tuple[Any, ...]], None]:
    """Records ``var`` as the origin of each key path :func:`deep_override` sets."""
    def mark(path: Tuple[Any, ...]) -> None:
        merged._set(path, var)
    return mark


def _shape_hint(kind: str) -> str:
    return {
        "dns": "write servers, search and options keys, e.g. {servers: [198.18.1.1], search: [lab.test]}",
        "routes": "write a mapping keyed by a label, e.g. {storage: {destination: 198.19.0.0/16, "
                  "next-hop-address: 198.18.1.1}}",
        "route_rules": "write a mapping keyed by a label, e.g. {storage: {ip-from: 198.18.100.0/24, "
                       "route-table: 100}}",
    }.get(kind, "write a mapping keyed by interface name, e.g. {bond0.100: {id: 100, base: bond0}}, "
                "not a list")


def _strict(merged: Merged, dst: Dict[str, Any], src: Mapping[str, Any], var: str, prefix: Tuple[Any, ...],
            problems: List[Problem]) -> None:
    for key, value in src.items():
        path = prefix + (key,)
        if value is None:
            continue
        if key not in dst:
            dst[key] = _without_nulls(value)
            merged._set(path, var)
        elif isinstance(dst[key], dict) and isinstance(value, dict):
            _strict(merged, dst[key], value, var, path, problems)
        elif dst[key] != value:
            other = merged.origin(*path)
            problems.append(Problem("VAR_CONFLICT", vpath(var, *path), "%s is %s but %s is %s" % (
                vpath(var, *path), shown(value), vpath(other, *path), shown(dst[key])),
                "set it in one of %s and %s, or override it per host in %s" % (
                    other, var, _kind_var(var))))


def _in_name_order(mapping: Mapping[Any, Any]) -> List[Tuple[Any, Any]]:
    """Items by key in natural order (eth2 before eth10), so that the document
    does not depend on where the variables were defined."""
    def key(item: Tuple[Any, Any]) -> List[Any]:
        return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", str(item[0]))]
    return sorted(mapping.items(), key=key)


def _without_nulls(value: Any) -> Any:
    """A deep copy of ``value`` without the mapping keys whose value is null."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return copy.deepcopy(value)


def _kind_var(var: str) -> str:
    """``hostnet_vlans`` for ``hostnet_vlans__storage`` (the variable that overrides it per host)."""
    match = _SUFFIX_RE.match(var)
    return "hostnet_" + match.group(1) if match else var


def deep_override(dst: Dict[str, Any], src: Mapping[str, Any], mark: Optional[Callable[[Tuple[Any, ...]], None]] = None,
                  prefix: Tuple[Any, ...] = ()) -> Dict[str, Any]:
    """Merge ``src`` into ``dst``: mappings key by key, the rest replaced,
    ``null`` removes the key. ``mark(path)`` is called for every key path set
    or removed. Returns ``dst``."""
    for key, value in src.items():
        path = prefix + (key,)
        if isinstance(dst.get(key), dict) and isinstance(value, dict):
            deep_override(dst[key], value, mark, path)
            continue
        if value is None:
            dst.pop(key, None)
        else:
            dst[key] = copy.deepcopy(value)
        if mark:
            mark(path)
    return dst


# ------------------------------------------------------------------ composition

class Composition:
    """The result of :func:`compose` for one host.

    Attributes:
        host: the inventory host name.
        document: the nmstate document (always a mapping; partial when there are errors).
        canonical: the core's canonical form of it (``None`` when composition failed).
        errors: :class:`Problem` list: composition errors (variable paths), then
            validation errors (variable path and document path).
        warnings: validation warnings, annotated the same way.
        sources: ``{document path: variable path}`` of what each part came from.
    """

    def __init__(self, host: str) -> None:
        self.host = host
        self.document: Dict[str, Any] = {}
        self.canonical: Optional[Dict[str, Any]] = None
        self.errors: List[Problem] = []
        self.warnings: List[Problem] = []
        self.sources: Dict[str, str] = {}

    @property
    def ok(self) -> bool:
        return not self.errors

    def source_of(self, doc_path: str) -> str:
        """The variable path a document path came from (``""`` if unknown)."""
        best = ""
        for prefix in self.sources:
            if (doc_path == prefix or doc_path.startswith(prefix + ".") or doc_path.startswith(prefix + "[")) \
                    and len(prefix) > len(best):
                best = prefix
        return self.sources.get(best, "")

    def where(self, doc_path: str) -> str:
        """``"<variable path> (<document path>)"``, or the document path alone."""
        source = self.source_of(doc_path)
        return "%s (%s)" % (source, doc_path) if source and doc_path else (doc_path or source)

    def message(self) -> str:
        """Every error as one text, for a task failure."""
        lines = ["%d problem(s) in the hostnet_ variables of %s; nothing was applied:" % (
            len(self.errors), self.host)]
        lines += ["  - %s" % p for p in self.errors]
        return "\n".join(lines)


class _Composer:
    def __init__(self, variables: Mapping[str, Any], host: str,
                 groups: Optional[Mapping[str, Sequence[str]]]) -> None:
        self.vars, self.host, self.groups = variables, host, groups or {}
        self.result = Composition(host)
        self.doc = self.result.document
        self.iface_index: Dict[str, int] = {}
        self._index: Optional[Tuple[Optional[int], Optional[Tuple[str, str]]]] = None
        self._address_sources: List[Tuple[str, Any, str]] = []

    # -------------------------------------------------------------- helpers
    def problem(self, code: str, path: str, message: str, hint: str = "") -> None:
        self.result.errors.append(Problem(code, path, message, hint))

    def source(self, doc_path: str, var_path: str) -> None:
        self.result.sources[doc_path] = var_path

    def sources_of_leaves(self, doc_path: str, value: Any, var_path: str) -> None:
        self.source(doc_path, var_path)
        if isinstance(value, dict):
            for key, sub in value.items():
                self.sources_of_leaves("%s.%s" % (doc_path, key) if doc_path else str(key), sub,
                                       "%s%s" % (var_path, vpath("", key)))

    def integer(self, value: Any, path: str, minimum: int = 0) -> Optional[int]:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = int(str(value).strip())
            if number < minimum:
                raise ValueError
            return number
        except ValueError:
            self.problem("VAR_TYPE", path, "%s must be an integer >= %d, got %s" % (path, minimum, shown(value)),
                         "write a whole number")
            return None

    def listed(self, value: Any, path: str, what: str) -> List[Any]:
        """A scalar or a list, as a list (strings and numbers only)."""
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if not isinstance(item, (str, int)) or isinstance(item, bool):
                self.problem("VAR_TYPE", vpath(path, i) if isinstance(value, list) else path,
                             "expected %s, got %s" % (what, _type(item)), "write %s" % what)
                return []
        return [str(i) for i in items]

    # -------------------------------------------------------------- host index
    def host_index(self, needed_by: str) -> Optional[int]:
        """This host's index (cached); reports HOST_INDEX_UNKNOWN once."""
        if self._index is None:
            self._index = self._find_index()
            if self._index[1]:
                message, hint = self._index[1]
                self.problem("HOST_INDEX_UNKNOWN", needed_by, message + " (needed by %s)" % needed_by, hint)
        return self._index[0]

    def _find_index(self) -> Tuple[Optional[int], Optional[Tuple[str, str]]]:
        explicit = self.vars.get("hostnet_host_index")
        if explicit is not None:
            if isinstance(explicit, bool) or not re.fullmatch(r"\s*\d+\s*", str(explicit)):
                return None, ("hostnet_host_index must be an integer >= 0, got %s" % shown(explicit),
                              "set hostnet_host_index: <number> in host_vars/%s" % self.host)
            return int(str(explicit)), None
        mode = self.vars.get("hostnet_host_index_from") or "name"
        if mode == "name":
            numbers = re.findall(r"\d+", self.host.split(".")[0])
            if numbers:
                return int(numbers[-1]), None
            return None, ("no host index for %s: hostnet_host_index is not set and the host name has no number"
                          % self.host, "set hostnet_host_index in host_vars/%s, or hostnet_host_index_from: order"
                          % self.host)
        if mode == "order":
            group = self.vars.get("hostnet_host_index_group") or "all"
            members = list(self.groups.get(group) or [])
            if self.host in members:
                return members.index(self.host) + 1, None
            return None, ("no host index for %s: it is not in group %r (hostnet_host_index_group)" % (
                self.host, group), "set hostnet_host_index_group to a group of this host, or hostnet_host_index")
        return None, ("hostnet_host_index_from must be name or order, got %s" % shown(mode),
                      "write hostnet_host_index_from: name (the number in the host name) or order")

    # -------------------------------------------------------------- names
    def check_names(self) -> None:
        known = ["hostnet_" + k for k in KINDS + SCALAR_INPUTS]
        for name in self.vars:
            if not is_input(name) or name in known or _SUFFIX_RE.match(name):
                continue
            stem = name.split("__", 1)[0]
            close = difflib.get_close_matches(stem, known, 1, 0.85)
            if close or "__" in name:
                self.problem("VAR_UNKNOWN", name, "%s is not an input of hostnet.nm.network" % name,
                             ("did you mean %s%s?" % (close[0], name[len(stem):])) if close else
                             "suffixed variables are hostnet_<kind>__<suffix> with kind one of: %s" % ", ".join(KINDS))

    # -------------------------------------------------------------- interfaces
    def interfaces(self) -> None:
        offset_default = self.vars.get("hostnet_address_offset")
        if offset_default is not None:
            offset_default = self.integer(offset_default, "hostnet_address_offset")
        for kind, nm_type in INTERFACE_KINDS:
            merged = self.merge(kind)
            for name, entry in _in_name_order(merged.value):
                if not isinstance(entry, dict):
                    self.problem("VAR_TYPE", merged.path(name), "%s must be a mapping of settings, got %s" % (
                        merged.path(name), _type(entry)), "write e.g. %s: {state: up}" % name)
                    continue
                if not self.fields_known(kind, merged, name, entry):
                    continue
                iface = self.interface(kind, nm_type, merged, str(name), entry, offset_default or 0)
                i = len(self.doc.setdefault("interfaces", []))
                self.doc["interfaces"].append(iface)
                self.iface_index[str(name)] = i
                self.source("interfaces[%d]" % i, merged.path(name))
                self.interface_sources(i, kind, merged, name, entry)

    def merge(self, kind: str) -> Merged:
        merged, problems = merge_kind(self.vars, kind)
        self.result.errors.extend(problems)
        return merged

    def fields_known(self, kind: str, merged: Merged, name: Any, entry: Mapping[str, Any]) -> bool:
        good = True
        for field in entry:
            if field not in FIELDS[kind]:
                close = difflib.get_close_matches(str(field), FIELDS[kind], 1, 0.6)
                self.problem("VAR_UNKNOWN_FIELD", merged.path(name, field), "unknown field %s in %s" % (
                    shown(field), kind), ("did you mean %r?" % close[0]) if close else
                    "fields of %s: %s; nmstate keys go under nmstate:" % (kind, ", ".join(FIELDS[kind])))
                good = False
        if entry.get("state") != "absent":
            for field in REQUIRED.get(kind, ()):
                if field not in entry:
                    self.problem("VAR_REQUIRED", merged.path(name, field), "%s needs %s" % (
                        merged.path(name), field), "add %s to %s" % (field, merged.path(name)))
                    good = False
        return good

    def interface(self, kind: str, nm_type: str, merged: Merged, name: str, entry: Mapping[str, Any],
                  offset_default: int) -> Dict[str, Any]:
        iface: Dict[str, Any] = {"name": name, "type": nm_type, "state": entry.get("state", "up")}
        if iface["state"] == "absent":
            return iface
        if "mtu" in entry:
            iface["mtu"] = entry["mtu"]
        if "mac_address" in entry:
            iface["mac-address"] = entry["mac_address"]
        if kind == "bonds":
            bond = iface["link-aggregation"] = {"mode": entry["mode"]}
            if "options" in entry:
                bond["options"] = copy.deepcopy(entry["options"])
            if "ports" in entry:
                bond["port"] = self.listed(entry["ports"], merged.path(name, "ports"), "an interface name")
        elif kind == "vlans":
            iface["vlan"] = {"base-iface": entry["base"], "id": entry["id"]}
        elif kind == "bridges":
            options = {"stp": {"enabled": entry.get("stp", False)}}
            if isinstance(entry.get("options"), dict):
                deep_override(options, entry["options"])
            elif "options" in entry:
                self.problem("VAR_TYPE", merged.path(name, "options"), "options must be a mapping of nmstate "
                             "bridge options, got %s" % _type(entry["options"]), "e.g. {mac-ageing-time: 300}")
            bridge = iface["bridge"] = {"options": options}
            if "ports" in entry:
                bridge["port"] = self.bridge_ports(entry["ports"], merged.path(name, "ports"))
        self.ip_sections(iface, merged, name, entry, offset_default)
        self.gateways(merged, name, entry)
        extra = entry.get("nmstate")
        if isinstance(extra, dict):
            deep_override(iface, extra)
        elif extra is not None:
            self.problem("VAR_TYPE", merged.path(name, "nmstate"), "nmstate must be a mapping of nmstate "
                         "interface keys, got %s" % _type(extra), "e.g. nmstate: {ipv6: {enabled: false}}")
        return iface

    def bridge_ports(self, ports: Any, path: str) -> List[Any]:
        if not isinstance(ports, list):
            ports = [ports]
        out = []
        for i, port in enumerate(ports):
            if isinstance(port, dict):
                out.append(copy.deepcopy(port))
            elif isinstance(port, (str, int)) and not isinstance(port, bool):
                out.append({"name": str(port)})
            else:
                self.problem("VAR_TYPE", vpath(path, i), "a bridge port is a name or a mapping with name, got %s"
                             % _type(port), "write e.g. eth2 or {name: eth2, stp-priority: 32}")
        return out

    def ip_sections(self, iface: Dict[str, Any], merged: Merged, name: str, entry: Mapping[str, Any],
                    offset_default: int) -> None:
        addrs: Dict[int, List[Tuple[Dict[str, Any], str]]] = {4: [], 6: []}
        for field in ("addresses", "subnet"):
            if field not in entry:
                continue
            path, value = merged.path(name, field), entry[field]
            offset: Optional[int] = offset_default
            if field == "subnet" and "address_offset" in entry:
                offset = self.integer(entry["address_offset"], merged.path(name, "address_offset"))
            what = "an address ip/prefix" if field == "addresses" else "a subnet such as 198.18.1.0/24"
            for i, text in enumerate(self.listed(value, path, what)):
                where = vpath(path, i) if isinstance(value, list) else path
                if field == "subnet":
                    text = self.derived(text, where, offset)
                addr = self.address(text, where) if text else None
                if addr:
                    addrs[addr[0]].append((addr[1], where))
        for family, switch in ((4, "dhcp"), (6, "autoconf")):
            if not addrs[family] and switch not in entry:
                continue
            dynamic = entry.get(switch, False)
            section: Dict[str, Any] = {"enabled": True, "dhcp": dynamic}
            if family == 6:
                section["autoconf"] = dynamic
            section["address"] = [address for address, _where in addrs[family]]
            iface["ipv%d" % family] = section
            self._address_sources.extend(("ipv%d" % family, k, where)
                                         for k, (_address, where) in enumerate(addrs[family]))
            if switch in entry:
                self._address_sources.append(("ipv%d" % family, switch, merged.path(name, switch)))

    def address(self, text: str, where: str) -> Optional[Tuple[int, Dict[str, Any]]]:
        if "/" not in text:
            self.problem("ADDRESS_INVALID", where, "%s has no prefix" % shown(text),
                         "write ip/prefix, e.g. %s/24 (or use subnet: to derive it)" % text)
            return None
        try:
            addr = ipaddress.ip_interface(text.strip())
        except ValueError:
            self.problem("ADDRESS_INVALID", where, "%s is not an address ip/prefix" % shown(text),
                         "write e.g. 198.18.1.5/24 or 2001:db8:1::5/64")
            return None
        return addr.version, {"ip": str(addr.ip), "prefix-length": addr.network.prefixlen}

    def derived(self, net: str, where: str, offset: Optional[int]) -> Optional[str]:
        index = self.host_index(where)
        if index is None or offset is None:
            return None
        try:
            return host_address(net, index, offset)
        except AddressError as exc:
            self.problem(exc.code, where, "%s: %s" % (where, exc.message), exc.hint)
            return None

    def gateways(self, merged: Merged, name: str, entry: Mapping[str, Any]) -> None:
        if "gateway" not in entry:
            return
        path = merged.path(name, "gateway")
        for i, text in enumerate(self.listed(entry["gateway"], path, "a gateway address")):
            where = vpath(path, i) if isinstance(entry["gateway"], list) else path
            try:
                gw = ipaddress.ip_address(text.strip())
            except ValueError:
                self.problem("GATEWAY_INVALID", where, "%s is not an IP address" % shown(text),
                             "write the router's address, e.g. 198.18.1.1")
                continue
            self._gateways.append(({"destination": "0.0.0.0/0" if gw.version == 4 else "::/0",
                                    "next-hop-address": str(gw), "next-hop-interface": name}, where))

    def interface_sources(self, i: int, kind: str, merged: Merged, name: Any, entry: Mapping[str, Any]) -> None:
        base = "interfaces[%d]" % i
        for doc_key, field in DOC_KEYS["common"] + DOC_KEYS.get(kind, ()):
            if field in entry:
                self.source("%s.%s" % (base, doc_key), merged.path(name, field))
        for section, key, where in self._address_sources:
            self.source("%s.%s.%s" % (base, section, ("address[%d]" % key) if isinstance(key, int) else key), where)
        self._address_sources = []
        if isinstance(entry.get("nmstate"), dict):
            for key, sub in entry["nmstate"].items():
                self.sources_of_leaves("%s.%s" % (base, key), sub, merged.path(name, "nmstate", key))

    # -------------------------------------------------------------- routes, rules, dns
    def routes(self) -> None:
        for section, kind in (("routes", "routes"), ("route-rules", "route_rules")):
            merged = self.merge(kind)
            items = list(self._gateways) if kind == "routes" else []
            for label, entry in _in_name_order(merged.value):
                if not isinstance(entry, dict):
                    self.problem("VAR_TYPE", merged.path(label), "%s must be a mapping of nmstate keys, got %s" % (
                        merged.path(label), _type(entry)), _shape_hint(kind))
                    continue
                items.append((copy.deepcopy(entry), merged.path(label)))
            if items:
                config = self.doc.setdefault(section, {}).setdefault("config", [])
                for entry, where in items:
                    self.source("%s.config[%d]" % (section, len(config)), where)
                    config.append(entry)

    def dns(self) -> None:
        merged = self.merge("dns")
        if not merged.variables:
            return
        config = {}
        for field, value in merged.value.items():
            if field not in FIELDS["dns"]:
                close = difflib.get_close_matches(str(field), FIELDS["dns"], 1, 0.6)
                self.problem("VAR_UNKNOWN_FIELD", merged.path(field), "unknown field %s in dns" % shown(field),
                             ("did you mean %r?" % close[0]) if close else "fields of dns: servers, search, options")
                continue
            key = "server" if field == "servers" else field
            config[key] = copy.deepcopy(value)
            self.source("dns-resolver.config.%s" % key, merged.path(field))
        self.doc["dns-resolver"] = {"config": config}

    # -------------------------------------------------------------- raw document
    def raw(self) -> None:
        raw = self.vars.get("hostnet_network_state")
        if raw is None:
            return
        if not isinstance(raw, dict):
            self.problem("VAR_TYPE", "hostnet_network_state", "hostnet_network_state must be an nmstate document "
                         "(a mapping), got %s" % _type(raw), "write e.g. {interfaces: [...], routes: {config: [...]}}")
            return
        for key, value in raw.items():
            var = vpath("hostnet_network_state", key)
            if key == "interfaces" and isinstance(value, list):
                for j, iface in enumerate(value):
                    self.raw_interface(iface, vpath(var, j))
            elif key in ("routes", "route-rules") and isinstance(value, dict) and isinstance(
                    value.get("config"), list):
                config = self.doc.setdefault(key, {}).setdefault("config", [])
                for j, entry in enumerate(value["config"]):
                    self.source("%s.config[%d]" % (key, len(config)), vpath(var, "config", j))
                    config.append(copy.deepcopy(entry))
                for other, sub in value.items():
                    if other != "config":
                        self.doc[key][other] = copy.deepcopy(sub)
                        self.source("%s.%s" % (key, other), vpath(var, other))
            elif isinstance(value, dict) and isinstance(self.doc.get(key), dict):
                deep_override(self.doc[key], value)
                self.sources_of_leaves(key, value, var)
            else:
                self.doc[key] = copy.deepcopy(value)
                self.source(key, var)

    def raw_interface(self, iface: Any, var: str) -> None:
        name = iface.get("name") if isinstance(iface, dict) else None
        if isinstance(name, (str, int)) and str(name) in self.iface_index:
            i = self.iface_index[str(name)]
            deep_override(self.doc["interfaces"][i], iface)
            for key, sub in iface.items():
                if key != "name":
                    self.sources_of_leaves("interfaces[%d].%s" % (i, key), sub, vpath(var, key))
            return
        interfaces = self.doc.setdefault("interfaces", [])
        self.source("interfaces[%d]" % len(interfaces), var)
        if isinstance(name, (str, int)):
            self.iface_index[str(name)] = len(interfaces)
        interfaces.append(copy.deepcopy(iface))

    # -------------------------------------------------------------- all
    def run(self) -> Composition:
        self._address_sources = []
        self._gateways: List[Tuple[Dict[str, Any], str]] = []
        self.check_names()
        self.interfaces()
        self.routes()
        self.dns()
        self.raw()
        if self.result.errors:
            return self.result
        canonical, errors, warnings = validate(self.doc)
        self.result.canonical = canonical
        self.result.errors = [self.annotate(p) for p in errors]
        self.result.warnings = [self.annotate(p) for p in warnings]
        return self.result

    def annotate(self, problem: Problem) -> Problem:
        return Problem(problem.code, self.result.where(problem.path), problem.message, problem.hint,
                       problem.severity)


def compose(variables: Mapping[str, Any], host: str,
            groups: Optional[Mapping[str, Sequence[str]]] = None) -> Composition:
    """Compose the nmstate document of ``host`` from its variables.

    Args:
        variables: ``{name: value}``; only ``hostnet_*`` names are read (others
            are ignored), values already templated.
        host: the inventory host name (for the host index from its name).
        groups: ``{group: [hosts in inventory order]}`` (Ansible's ``groups``),
            needed only for ``hostnet_host_index_from: order``.

    Returns:
        a :class:`Composition`; never raises on bad input.
    """
    inputs = {name: plain(value) for name, value in variables.items() if is_input(str(name))}
    return _Composer(inputs, str(host), groups).run()


def plain(value: Any) -> Any:
    """A deep copy with plain Python types (Ansible 2.19 hands over tagged
    subclasses of str, int, dict...; the document must dump as plain YAML/JSON)."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def is_input(name: str) -> bool:
    """Whether a variable name is (or may be a misspelling of) an input of
    :func:`compose`: ``hostnet_*`` but not a role option, result or rollout
    variable (:data:`OTHER_NAMES`)."""
    return name.startswith("hostnet_") and not OTHER_NAMES.match(name)
