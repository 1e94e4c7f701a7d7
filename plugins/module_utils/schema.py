# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The desired-state schema: nmstate's YAML keys, strict.

One table of node types describes every key we accept. The same table
parses a document into its canonical form (MAC letter case, compressed IPv6,
integers for numbers), reports unknown keys with a "did you mean", refuses
known nmstate features we do not support yet as ``unsupported: <path>``, and
exports a JSON Schema for editors (:func:`json_schema`).

Parsing never raises on bad input: it appends :class:`Problem` objects to a
list, so that every error of a document is reported at once.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

from .errors import Problem, shown, type_name
from .redact import MASK, is_secret

INVALID = object()  # marks a value that failed to parse; never reaches the model
REFUSED = object()  # stands in for a value :func:`screen` refused (already reported): parsing skips it

#: Bounds checked by :func:`screen` before the schema walks a document (it recurses, and messages
#: quote values). nmstate's deepest key is 9 levels down (a trunk tag's id-range.min).
MAX_DEPTH = 20
#: values in all, counted each time they are reached (so a YAML alias counts every time it is used)
MAX_NODES = 200000
#: characters of one string (nmstate's longest value, a search domain, has 253) and of one key
MAX_TEXT, MAX_KEY = 4096, 256
#: characters of all strings together
MAX_TOTAL_TEXT = 8 * 1024 * 1024
#: bits of an integer: no value of the schema exceeds 64 bits (NetworkManager's largest are uint64)
MAX_INT_BITS = 64
#: decimal digits of a number written as text (2**64 has 20)
MAX_DIGITS = 20

#: every code the schema reports, with what it means (docs/validation.md lists them)
CODES = {
    "TYPE_MISMATCH": "a value of the wrong type (a list where a mapping belongs, text for a number...)",
    "VALUE_OUT_OF_RANGE": "a number outside the range the kernel or NetworkManager accepts",
    "EMPTY_VALUE": "an empty string where a name or value is needed",
    "BAD_FORMAT": "a string that does not have the expected form",
    "BAD_VALUE": "a value that is not one of the allowed words",
    "UNKNOWN_KEY": "a key that is neither ours nor nmstate's (typo), with a suggestion",
    "MISSING_KEY": "a required key is missing",
    "UNSUPPORTED": "a valid nmstate key or value that hostnet.nm does not support yet",
    "BRIDGE_VLAN_INVALID": "a bridge port's VLAN settings do not form an 802.1Q access or trunk port",
    "BAD_ADDRESS": "not an IP address",
    "ADDRESS_WITH_PREFIX": "an address that must stand alone carries a /prefix",
    "ADDRESS_FAMILY_MISMATCH": "an IPv6 address in the ipv4 section or the other way round",
    "ADDRESS_PREFIX_IN_IP": "an interface address written as ip/prefix (or ip\\prefix) inside ip",
    "ADDRESS_PREFIX_MISSING": "an interface address without prefix-length",
    "PREFIX_OUT_OF_RANGE": "prefix-length above 32 (IPv4) or 128 (IPv6), or negative",
    "BAD_PREFIX": "a network written with a backslash before the prefix",
    "BAD_NETWORK": "not an IP network (address/prefix)",
    "ROUTE_DESTINATION_HOST_BITS": "a route destination with host bits set",
    "MAC_INVALID": "not a MAC address",
    "MTU_OUT_OF_RANGE": "an MTU outside 68..65535",
    "VLAN_ID_OUT_OF_RANGE": "a VLAN id outside 1..4094 (IEEE 802.1Q reserves 0 and 4095)",
    "ROUTE_TABLE_INVALID": "a route table id outside the kernel's range",
    "ROUTE_RULE_PRIORITY_INVALID": "a route rule priority outside 0..4294967295",
    "DNS_SERVER_INVALID": "a name server that is not an IP address, or a bad %scope",
    "BAD_NUMBER": "a number written as text with a leading zero (YAML 1.1 reads an unquoted 0100 as octal 64)",
    "STRING_INVALID": "a string (value or key) with a NUL, a control character or a lone surrogate: D-Bus carries "
                      "only valid UTF-8 without NUL",
    "VALUE_TOO_LONG": "a string longer than 4096 characters (a key: 256)",
    "DOCUMENT_TOO_DEEP": "lists and mappings nested more than 20 levels deep",
    "DOCUMENT_TOO_LARGE": "more than 200,000 values in all (a YAML alias counts each time it is used) or more than "
                          "8 MiB of text; nothing else is checked",
}

#: nmstate interface types we manage; other nmstate types are refused as unsupported.
SUPPORTED_TYPES = ("ethernet", "veth", "linux-bridge", "bond", "vlan")
#: nmstate interface types known to exist but not supported yet.
UNSUPPORTED_TYPES = ("ovs-bridge", "ovs-interface", "team", "vrf", "vxlan", "mac-vlan", "mac-vtap", "macvtap",
                     "dummy", "infiniband", "loopback", "ipvlan", "hsr", "macsec", "ipsec", "xfrm",
                     "dispatch", "unknown")


#: a key a path shows as it is; any other (empty, with '.', brackets, quotes, white space, anything
#: beyond printable ASCII) is quoted: ``interfaces[0]["ipv4.address"]``
_PLAIN_KEY = re.compile(r"[!#-\-/-Z^-~\\]+")


def join(path: str, key: Any) -> str:
    """Extend a document path: ``join("interfaces", 2) == "interfaces[2]"``,
    ``join("interfaces[2]", "ipv4") == "interfaces[2].ipv4"``; a key that
    is empty or has characters a path uses or cannot show is quoted as
    JSON, ``join("interfaces[0]", "a.b") == 'interfaces[0]["a.b"]'``."""
    if isinstance(key, int) and not isinstance(key, bool):
        return "%s[%d]" % (path, key)
    text = key if isinstance(key, str) else str(key)
    if not _PLAIN_KEY.fullmatch(text):
        return "%s[%s]" % (path, json.dumps(text[:MAX_KEY]))
    return "%s.%s" % (path, text) if path else text


#: what no string of the document may contain: NUL and other C0/C1 control characters, lone surrogates
_BAD_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(text: str, hidden: bool = False) -> Optional[str]:
    """Why a string cannot go to NetworkManager, or ``None``; ``hidden``:
    the string is a secret's value, never quoted (not even escaped).

    Source: the D-Bus specification (a string is valid UTF-8 and contains no
    NUL; a lone surrogate has no UTF-8 form, and the bus drops a connection
    that sends one), the kernel and NetworkManager (names and values are C
    strings that end at NUL); control characters are never part of a name,
    address or option, and would corrupt the keyfile's line format."""
    if len(text) > MAX_TEXT:
        return None  # reported as VALUE_TOO_LONG
    bad = _BAD_CHAR.search(text)
    if bad is None:
        return None
    char = bad.group(0)
    what = ("a NUL character" if char == "\0" else "a lone surrogate (not valid UTF-8)"
            if "\ud800" <= char <= "\udfff" else "a control character")
    return "%s contains %s, U+%04X at position %d" % (MASK if hidden else shown(text), what, ord(char), bad.start())


def under_secret(path: str) -> bool:
    """Whether a document path passes through a key that names a secret
    (:func:`~.redact.is_secret`), e.g. ``interfaces[0].link-aggregation.options.password``."""
    return any(is_secret(part) for part in _PATH_PARTS.split(path) if part)


#: what separates the keys of a document path (``.``, ``[0]``, ``["a b"]``)
_PATH_PARTS = re.compile(r'[.\[\]"]+')


def screen(doc: Any) -> Tuple[Any, list[Problem]]:
    """Bound a document before the schema walks it, without recursion.

    Returns ``(copy, problems)``: a copy of ``doc`` in which every value
    refused here is :data:`REFUSED` (a mapping key refused here is left
    out), and the problems: ``DOCUMENT_TOO_DEEP`` (nesting beyond
    :data:`MAX_DEPTH`), ``VALUE_TOO_LONG`` (a string beyond :data:`MAX_TEXT`,
    a key beyond :data:`MAX_KEY` characters), ``STRING_INVALID`` (see
    :func:`text_problem`; every string value and key), ``VALUE_OUT_OF_RANGE``
    (an integer beyond :data:`MAX_INT_BITS` bits). Beyond :data:`MAX_NODES`
    values or :data:`MAX_TOTAL_TEXT` characters the copy is ``{}`` and
    the only problem is ``DOCUMENT_TOO_LARGE``: an alias bomb or a huge
    document is refused as a whole, before anything expands it."""
    problems: list[Problem] = []
    holder: Dict[Any, Any] = {}
    stack: list[Tuple[Any, Any, Any, str, int]] = [(doc, holder, "doc", "", 0)]
    nodes = text = 0
    while stack:
        value, parent, slot, path, depth = stack.pop()
        nodes += 1
        if isinstance(value, str):
            text += len(value)
        if nodes > MAX_NODES or text > MAX_TOTAL_TEXT:
            return {}, [Problem("DOCUMENT_TOO_LARGE", "", "the document has more than %d values or %d characters "
                                "of text (YAML aliases count each time they are used); nothing else was checked"
                                % (MAX_NODES, MAX_TOTAL_TEXT), "split the state, or remove repeated aliases")]
        parent[slot] = _screened(value, path, depth, problems, stack)
    return holder["doc"], problems


def _screened(value: Any, path: str, depth: int, problems: list[Problem],
              stack: list[Tuple[Any, Any, Any, str, int]]) -> Any:
    """One value of :func:`screen`: its copy (children pushed on ``stack``) or :data:`REFUSED`."""
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        problems.append(Problem("DOCUMENT_TOO_DEEP", path, "lists and mappings are nested more than %d levels deep "
                                "here" % MAX_DEPTH, "no key of the schema is that deep: check the indentation"))
        return REFUSED
    if isinstance(value, dict):
        out: Dict[Any, Any] = {}
        children = []
        for key, item in value.items():
            why = _string_problem(key, path, problems, MAX_KEY, "a key") if isinstance(key, str) else False
            if not why:
                out[key] = None  # keeps the document's order; filled when the item is popped
                children.append((item, out, key, join(path, key), depth + 1))
        stack.extend(reversed(children))  # popped in the document's order, so are the problems
        return out
    if isinstance(value, list):
        items: list[Any] = [None] * len(value)
        stack.extend((value[i], items, i, join(path, i), depth + 1) for i in reversed(range(len(value))))
        return items
    if isinstance(value, str) and _string_problem(value, path, problems, MAX_TEXT, "a string"):
        return REFUSED
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        problems.append(Problem("VALUE_OUT_OF_RANGE", path, "%s is out of range (no value here exceeds %d bits)"
                                % (shown(value), MAX_INT_BITS), "write a number the option takes"))
        return REFUSED
    return value


def _string_problem(text: str, path: str, problems: list[Problem], limit: int, what: str) -> bool:
    """Report a string (value or key) that is too long or has characters no
    string may carry; ``True`` when it did."""
    if len(text) > limit:
        problems.append(Problem("VALUE_TOO_LONG", path, "%s of %d characters; at most %d are accepted"
                                % (what, len(text), limit), "shorten it (no valid value is that long)"))
        return True
    why = text_problem(text, what == "a string" and under_secret(path))
    if why:
        problems.append(Problem("STRING_INVALID", path if what == "a string" else join(path, text),
                                why, "remove the character (names, addresses and options are printable text)"))
    return bool(why)


class Node:
    """A schema node: parses one value into its canonical form."""

    description = ""

    def parse(self, value: Any, path: str, problems: list[Problem]) -> Any:
        """Return the canonical value, or :data:`INVALID` after appending
        problems (each with ``path``)."""
        raise NotImplementedError

    def json_schema(self) -> Dict[str, Any]:
        """The JSON Schema (draft 2020-12) fragment for this node."""
        raise NotImplementedError

    def _wrong_type(self, value: Any, path: str, problems: list[Problem], expected: str) -> Any:
        problems.append(Problem("TYPE_MISMATCH", path, "expected %s, got %s %s" % (expected, type_name(value), shown(value)),
                                "write %s here" % expected))
        return INVALID


class Bool(Node):
    """A YAML boolean (``true``/``false``; the strings ``yes``/``no`` are refused
    because they are ambiguous once templated)."""

    def parse(self, value, path, problems):
        if isinstance(value, bool):
            return value
        return self._wrong_type(value, path, problems, "a boolean (true or false)")

    def json_schema(self):
        return {"type": "boolean"}


class Int(Node):
    """An integer in ``[lo, hi]``. Numeric strings (e.g. from templates) are
    accepted and converted; ``"0x30"`` is read as hexadecimal."""

    def __init__(self, lo: int, hi: int, unit: str = "", code: str = "VALUE_OUT_OF_RANGE") -> None:
        self.lo, self.hi, self.unit, self.code = lo, hi, unit, code

    def parse(self, value, path, problems):
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            value = self._from_text(value, path, problems)
            if value is INVALID:
                return INVALID
        if isinstance(value, bool) or not isinstance(value, int):
            return self._wrong_type(value, path, problems, "an integer")
        if not self.lo <= value <= self.hi:
            problems.append(Problem(self.code, path, "%s is out of range %d..%d%s" % (
                shown(value), self.lo, self.hi, (" " + self.unit) if self.unit else ""),
                "use a value from %d to %d" % (self.lo, self.hi)))
            return INVALID
        return value

    def _from_text(self, text: str, path: str, problems: list[Problem]) -> Any:
        """A number written as text (templated values are text): decimal, or
        hexadecimal with ``0x``; at most :data:`MAX_DIGITS` digits, so that a
        5,000-digit string is refused without converting it."""
        sign, digits = _NUMBER.fullmatch(text).groups()  # type: ignore[union-attr]
        if len(digits.lstrip("0")) > MAX_DIGITS:
            problems.append(Problem(self.code, path, "a number of %d digits is out of range %d..%d" % (
                len(digits), self.lo, self.hi), "use a value from %d to %d" % (self.lo, self.hi)))
            return INVALID
        if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xX":
            problems.append(Problem("BAD_NUMBER", path, "%s has a leading zero: YAML 1.1 reads an unquoted %s as an "
                                    "octal number" % (shown(text), digits), "write %d (no leading zero)"
                                    % int(digits, 10)))
            return INVALID
        return int(sign + digits, 0)

    def json_schema(self):
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}


_NUMBER = re.compile(r"\s*([-+]?)(0[xX][0-9a-fA-F]+|[0-9]+)\s*")


class Str(Node):
    """A non-empty string, optionally matching ``pattern``."""

    def __init__(self, pattern: Optional[str] = None, what: str = "a string", allow_empty: bool = False) -> None:
        self.pattern, self.what, self.allow_empty = pattern, what, allow_empty

    def parse(self, value, path, problems):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # e.g. an interface named 10 in YAML
        if not isinstance(value, str):
            return self._wrong_type(value, path, problems, self.what)
        if not value and not self.allow_empty:
            problems.append(Problem("EMPTY_VALUE", path, "must not be empty", "write %s" % self.what))
            return INVALID
        if self.pattern and not re.fullmatch(self.pattern, value):
            problems.append(Problem("BAD_FORMAT", path, "%s is not %s" % (shown(value), self.what), "write %s" % self.what))
            return INVALID
        return value

    def json_schema(self):
        out: Dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = "^(?:%s)$" % self.pattern
        if not self.allow_empty:
            out["minLength"] = 1
        return out


class Enum(Node):
    """One of a fixed set of strings."""

    def __init__(self, *values: str, unsupported: Iterable[str] = ()) -> None:
        self.values = values
        self.unsupported = tuple(unsupported)

    def parse(self, value, path, problems):
        if value in self.values:
            return value
        if value in self.unsupported:
            problems.append(Problem("UNSUPPORTED", path, "unsupported: %s (%s is a valid nmstate value that hostnet.nm "
                                    "does not support yet)" % (path, shown(value)), "use one of: %s" % ", ".join(self.values)))
            return INVALID
        close = difflib.get_close_matches(str(value), self.values, 1)
        problems.append(Problem("BAD_VALUE", path, "%s is not one of: %s" % (shown(value), ", ".join(self.values)),
                                ("did you mean %r?" % close[0]) if close else ""))
        return INVALID

    def json_schema(self):
        return {"enum": list(self.values)}


class IpAddress(Node):
    """An IP address literal without a prefix; canonical form from the
    standard library (compressed IPv6, RFC 5952)."""

    def __init__(self, family: Optional[int] = None) -> None:
        self.family = family

    def parse(self, value, path, problems):
        if not isinstance(value, str):
            return self._wrong_type(value, path, problems, "an IP address")
        if "/" in value or "\\" in value:
            problems.append(Problem("ADDRESS_WITH_PREFIX", path, "%s carries a prefix here" % shown(value),
                                    "write the address alone and the prefix in prefix-length"))
            return INVALID
        try:
            addr = ipaddress.ip_address(value.strip())
        except ValueError:
            problems.append(Problem("BAD_ADDRESS", path, "%s is not an IP address" % shown(value),
                                    "write an IPv4 (198.18.1.10) or IPv6 (2001:db8::10) address"))
            return INVALID
        if self.family and addr.version != self.family:
            problems.append(Problem("ADDRESS_FAMILY_MISMATCH", path, "%s is not an IPv%d address" % (addr, self.family),
                                    "move it to the ipv%d section" % addr.version))
            return INVALID
        return str(addr)

    def json_schema(self):
        if self.family:
            return {"type": "string", "format": "ipv%d" % self.family}
        return {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}


class IpNetwork(Node):
    """A destination ``address/prefix``; a bare address means a host route
    (/32 or /128). Host bits set are an error (the kernel would mask them)."""

    def parse(self, value, path, problems):
        if not isinstance(value, str):
            return self._wrong_type(value, path, problems, "an IP network such as 198.18.5.0/24")
        text = value.strip()
        if "\\" in text:
            problems.append(Problem("BAD_PREFIX", path, "%s uses a backslash before the prefix" % shown(value),
                                    "write %s" % text.replace("\\", "/")))
            return INVALID
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            problems.append(Problem("BAD_NETWORK", path, "%s is not an IP network" % shown(value),
                                    "write address/prefix, e.g. 198.18.5.0/24 or 2001:db8:5::/64"))
            return INVALID
        if "/" in text and str(net.network_address) != str(ipaddress.ip_address(text.split("/")[0])):
            problems.append(Problem("ROUTE_DESTINATION_HOST_BITS", path,
                                    "%s has host bits set; the network is %s" % (value, net),
                                    "write %s" % net))
            return INVALID
        return str(net)

    def json_schema(self):
        return {"type": "string", "description": "IP network, e.g. 198.18.5.0/24"}


class DnsServer(Node):
    """A name server literal; IPv6 link-local ones carry ``%iface``."""

    def parse(self, value, path, problems):
        if not isinstance(value, str):
            return self._wrong_type(value, path, problems, "a name server address")
        addr_text, percent, scope = value.strip().partition("%")
        try:
            addr = ipaddress.ip_address(addr_text)
        except ValueError:
            problems.append(Problem("DNS_SERVER_INVALID", path, "%s is not an IP address" % shown(value),
                                    "name servers are IP addresses, not host names"))
            return INVALID
        if percent and (addr.version == 4 or not scope or re.search(r"[\s/:%]", scope)):
            problems.append(Problem("DNS_SERVER_INVALID", path, "%s has a bad scope: only an IPv6 address takes "
                                    "%%<interface name>" % shown(value), "write e.g. fe80::53%eth1, or drop the %"))
            return INVALID
        return "%s%%%s" % (addr, scope) if scope else str(addr)

    def json_schema(self):
        return {"type": "string", "description": "IP address, IPv6 link-local as fe80::1%eth1"}


_MAC_RE = r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}"


class Mac(Node):
    """An Ethernet MAC address; canonical form upper case with colons (as
    NetworkManager reports it), so either letter case compares equal."""

    def parse(self, value, path, problems):
        if not isinstance(value, str) or not re.fullmatch(_MAC_RE, value.strip()):
            problems.append(Problem("MAC_INVALID", path, "%s is not a MAC address" % shown(value),
                                    "quote it: YAML 1.1 reads an unquoted 10:20:30:40:50:59 as a number"
                                    if isinstance(value, int) else "write six hex pairs, e.g. 02:00:00:00:09:01"))
            return INVALID
        return value.strip().replace("-", ":").upper()

    def json_schema(self):
        return {"type": "string", "pattern": "^%s$" % _MAC_RE}


class List(Node):
    """A list of ``item`` nodes (a scalar where a list is expected is refused)."""

    def __init__(self, item: Node) -> None:
        self.item = item

    def parse(self, value, path, problems):
        if not isinstance(value, list):
            return self._wrong_type(value, path, problems, "a list")
        out = [INVALID if v is REFUSED else self.item.parse(v, join(path, i), problems) for i, v in enumerate(value)]
        return INVALID if any(v is INVALID for v in out) else out

    def json_schema(self):
        return {"type": "array", "items": self.item.json_schema()}


class Unsupported(Node):
    """A key nmstate knows that we do not support yet: always refused with
    ``unsupported: <path>`` so that it is never silently ignored."""

    def parse(self, value, path, problems):
        problems.append(Problem("UNSUPPORTED", path, "unsupported: %s (a valid nmstate key that hostnet.nm does "
                                "not support yet)" % path, "remove it, or configure it outside hostnet.nm"))
        return INVALID

    def json_schema(self):
        return {"not": {}, "description": "unsupported by hostnet.nm"}


class Obj(Node):
    """A mapping with known keys. Unknown keys are errors with a suggestion;
    keys listed in ``unsupported`` are refused as unsupported; ``required``
    keys must be present. ``check`` may add cross-key problems."""

    def __init__(self, fields: Dict[str, Node], required: Tuple[str, ...] = (), unsupported: Iterable[str] = (),
                 check: Optional[Callable[[Dict[str, Any], str, list[Problem]], None]] = None,
                 free_keys: Optional[Node] = None) -> None:
        self.fields = dict(fields)
        for key in unsupported:
            self.fields[key] = Unsupported()
        self.required = required
        self.check = check
        self.free_keys = free_keys  # value node for mappings with free-form keys (bond options)

    def parse(self, value, path, problems):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return self._wrong_type(value, path, problems, "a mapping")
        out: Dict[str, Any] = {}
        bad = False
        for key, item in value.items():
            if item is REFUSED:
                bad = True
                continue
            sub = join(path, key)
            node = self.fields.get(key)
            if node is None and self.free_keys is not None:
                node = self.free_keys
            if node is None:
                close = difflib.get_close_matches(str(key), [k for k, n in self.fields.items()
                                                             if not isinstance(n, Unsupported)], 1, 0.6)
                problems.append(Problem("UNKNOWN_KEY", sub, "unknown key %s" % shown(key),
                                        ("did you mean %r?" % close[0]) if close else
                                        "known keys here: %s" % ", ".join(sorted(self.fields))))
                bad = True
                continue
            parsed = node.parse(item, sub, problems)
            if parsed is INVALID:
                bad = True
            else:
                out[key] = parsed
        for key in self.required:
            if key not in value:
                problems.append(Problem("MISSING_KEY", join(path, key), "%s is required" % key,
                                        "add %s" % key))
                bad = True
        if not bad and self.check:
            before = len(problems)
            self.check(out, path, problems)
            bad = len(problems) > before and any(p.severity == "error" for p in problems[before:])
        return INVALID if bad else out

    def json_schema(self):
        props = {k: n.json_schema() for k, n in self.fields.items()}
        out: Dict[str, Any] = {"type": "object", "properties": props}
        if self.free_keys is None:
            out["additionalProperties"] = False
        else:
            out["additionalProperties"] = self.free_keys.json_schema()
        if self.required:
            out["required"] = list(self.required)
        return out


class Scalar(Node):
    """Any scalar (string, integer or boolean): bond options, whose values the
    kernel reports as text. Canonical form: the string the kernel reports."""

    def parse(self, value, path, problems):
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (int, str)):
            return str(value)
        return self._wrong_type(value, path, problems, "a string or number")

    def json_schema(self):
        return {"type": ["string", "integer", "boolean"]}


# --------------------------------------------------------------------- checks

def _check_address(addr: Dict[str, Any], path: str, problems: list[Problem]) -> None:
    ip = ipaddress.ip_address(addr["ip"])
    limit = 32 if ip.version == 4 else 128
    if addr["prefix-length"] > limit:
        problems.append(Problem("PREFIX_OUT_OF_RANGE", join(path, "prefix-length"),
                                "prefix-length %d is above %d for IPv%d address %s" % (
                                    addr["prefix-length"], limit, ip.version, ip),
                                "use 0..%d" % limit))


def _prefix_node() -> Node:
    return Int(0, 128, code="PREFIX_OUT_OF_RANGE")


class _AddressNode(Obj):
    """``{ip, prefix-length}``; a prefix written inside ``ip`` (``198.18.1.5/24``
    or ``198.18.1.5\\24``) gets a hint, and a missing prefix is an error
    rather than a silent /32."""

    def __init__(self, family: int) -> None:
        super().__init__({"ip": IpAddress(family), "prefix-length": _prefix_node()},
                         required=("ip", "prefix-length"), check=_check_address,
                         unsupported=["valid-life-time", "preferred-life-time", "mptcp-flags"])

    def parse(self, value, path, problems):
        if isinstance(value, dict) and isinstance(value.get("ip"), str) and "prefix-length" not in value:
            m = re.fullmatch(r"\s*([^/\\]+)[/\\](\d+)\s*", value["ip"])
            if m:
                problems.append(Problem("ADDRESS_PREFIX_IN_IP", join(path, "ip"),
                                        "%s puts the prefix inside ip" % shown(value["ip"]),
                                        "write ip: %s and prefix-length: %s" % (m.group(1), m.group(2))))
                return INVALID
            problems.append(Problem("ADDRESS_PREFIX_MISSING", join(path, "prefix-length"),
                                    "address %s has no prefix-length (it would silently become a host address)"
                                    % shown(value["ip"]), "add prefix-length, e.g. 24 for IPv4 or 64 for IPv6"))
            return INVALID
        return super().parse(value, path, problems)


def _ip_section(family: int) -> Obj:
    fields: Dict[str, Node] = {
        "enabled": Bool(),
        "dhcp": Bool(),
        "address": List(_AddressNode(family)),
        "auto-dns": Bool(),
        "auto-gateway": Bool(),
        "auto-routes": Bool(),
    }
    unsupported = ["auto-route-table-id", "auto-route-metric", "dhcp-client-id", "dhcp-duid", "dhcp-send-hostname",
                   "dhcp-custom-hostname", "allow-extra-address", "dhcp-timeout", "map-to-dns", "dns",
                   "token", "addr-gen-mode", "dhcp-send-hostname-v2"]
    if family == 6:
        fields["autoconf"] = Bool()
    else:
        unsupported.append("autoconf")
    return Obj(fields, unsupported=unsupported)


_STP = Obj({
    "enabled": Bool(),
    "forward-delay": Int(2, 30, "seconds"),
    "hello-time": Int(1, 10, "seconds"),
    "max-age": Int(6, 40, "seconds"),
    "priority": Int(0, 65535),
})

_BRIDGE_OPTIONS = Obj({
    "stp": _STP,
    "mac-ageing-time": Int(0, 1000000, "seconds"),
    "multicast-snooping": Bool(),
    "group-forward-mask": Int(0, 65535),
    "vlan-protocol": Enum("802.1q", "802.1ad"),
}, unsupported=["group-addr", "hash-max", "multicast-router", "multicast-last-member-count",
                "multicast-last-member-interval", "multicast-membership-interval", "multicast-querier",
                "multicast-querier-interval", "multicast-query-interval", "multicast-query-response-interval",
                "multicast-query-use-ifaddr", "multicast-startup-query-count", "multicast-startup-query-interval",
                "vlan-default-pvid", "gc-timer", "hello-timer", "group-fwd-mask", "hash-elasticity"])


def _check_port_vlan(vlan: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """IEEE 802.1Q port modes as nmstate writes them: an access port has one
    untagged VLAN (``tag``); a trunk port carries ``trunk-tags`` and, with
    ``enable-native``, ``tag`` untagged as its native VLAN."""
    mode = vlan.get("mode", "trunk" if vlan.get("trunk-tags") else "access")
    if mode == "access" and ("trunk-tags" in vlan or "tag" not in vlan):
        problems.append(Problem("BRIDGE_VLAN_INVALID", path, "an access port takes exactly one tag and no trunk-tags",
                                "write mode: access with tag: <vlan id>, or mode: trunk"))
    if mode == "trunk" and not vlan.get("trunk-tags"):
        problems.append(Problem("BRIDGE_VLAN_INVALID", path, "a trunk port needs trunk-tags",
                                "list the VLANs the port carries under trunk-tags"))
    if vlan.get("enable-native") and "tag" not in vlan:
        problems.append(Problem("BRIDGE_VLAN_INVALID", path, "enable-native needs tag (the native VLAN)",
                                "add tag: <native vlan id>"))
    for i, entry in enumerate(vlan.get("trunk-tags", [])):
        rng = entry.get("id-range")
        if ("id" in entry) == (rng is not None):
            problems.append(Problem("BRIDGE_VLAN_INVALID", "%s.trunk-tags[%d]" % (path, i),
                                    "give either id or id-range", "write id: 101 or id-range: {min: 500, max: 599}"))
        elif rng is not None and rng["min"] > rng["max"]:
            problems.append(Problem("BRIDGE_VLAN_INVALID", "%s.trunk-tags[%d].id-range" % (path, i),
                                    "min %d is above max %d" % (rng["min"], rng["max"]), "swap them"))


_VLAN_RANGE = Obj({"min": Int(1, 4094), "max": Int(1, 4094)}, required=("min", "max"))
_PORT_VLAN = Obj({
    "mode": Enum("access", "trunk"),
    "tag": Int(1, 4094),
    "trunk-tags": List(Obj({"id": Int(1, 4094), "id-range": _VLAN_RANGE})),
    "enable-native": Bool(),
}, check=_check_port_vlan)

_BRIDGE_PORT = Obj({
    "name": Str(what="an interface name"),
    "stp-priority": Int(0, 63),
    "stp-path-cost": Int(1, 65535),
    "stp-hairpin-mode": Bool(),
    "vlan": _PORT_VLAN,
}, required=("name",))

_BRIDGE = Obj({"options": _BRIDGE_OPTIONS, "port": List(_BRIDGE_PORT)})

BOND_MODES = ("balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb")

_BOND = Obj({
    "mode": Enum(*BOND_MODES),
    "options": Obj({}, free_keys=Scalar()),
    "port": List(Str(what="an interface name")),
}, unsupported=["ports-config", "slaves", "ports"])

_VLAN = Obj({"base-iface": Str(what="an interface name"),
             "id": Int(1, 4094, "(IEEE 802.1Q reserves 0 and 4095)", code="VLAN_ID_OUT_OF_RANGE")},
            required=("base-iface", "id"), unsupported=["protocol", "registration-protocol", "reorder-headers",
                                                        "loose-binding"])

_VETH = Obj({"peer": Str(what="an interface name")}, required=("peer",))


class _TypeNode(Enum):
    def __init__(self) -> None:
        super().__init__(*SUPPORTED_TYPES, unsupported=UNSUPPORTED_TYPES)


class _InterfaceNode(Obj):
    """An interface. One of a type we do not support yet is refused at its
    ``type`` alone: its type-specific keys (an OVS bridge's ``fail-mode``...)
    are not ours to judge, so they are neither parsed nor reported."""

    def parse(self, value, path, problems):
        if isinstance(value, dict) and isinstance(value.get("type"), str) and value["type"] in UNSUPPORTED_TYPES:
            return self.fields["type"].parse(value["type"], join(path, "type"), problems)
        return super().parse(value, path, problems)


INTERFACE = _InterfaceNode({
    "name": Str(what="an interface name"),
    "type": _TypeNode(),
    "state": Enum("up", "down", "absent", unsupported=("ignore",)),
    "mtu": Int(68, 65535, "bytes", code="MTU_OUT_OF_RANGE"),
    "mac-address": Mac(),
    "ipv4": _ip_section(4),
    "ipv6": _ip_section(6),
    "bridge": _BRIDGE,
    "link-aggregation": _BOND,
    "vlan": _VLAN,
    "veth": _VETH,
}, required=("name",), unsupported=[
    "ovs-db", "lldp", "ethtool", "802.1x", "dispatch", "wait-ip", "accept-all-mac-addresses", "copy-mac-from",
    "controller", "profile-name", "identifier", "permanent-mac-address", "min-mtu", "max-mtu", "ethernet",
    "sr-iov", "mptcp", "ipsec", "vrf", "vxlan", "mac-vlan", "macvtap", "team", "infiniband", "hsr", "ipvlan",
    "macsec", "xfrm", "loopback", "ovs-bridge", "patch", "dpdk", "bond-port", "alt-names", "match",
    "description", "mac-vtap", "libreswan",
])

ROUTE = Obj({
    "destination": IpNetwork(),
    "next-hop-interface": Str(what="an interface name"),
    "next-hop-address": IpAddress(),
    "metric": Int(0, 4294967295),
    "table-id": Int(0, 4294967295, code="ROUTE_TABLE_INVALID"),
    "state": Enum("absent"),
    "on-link": Bool(),
}, unsupported=["source", "cwnd", "lock-cwnd", "route-type", "weight", "initcwnd", "initrwnd", "mtu",
                "quickack", "advmss", "vrf-name"])

ROUTE_RULE = Obj({
    "ip-from": IpNetwork(),
    "ip-to": IpNetwork(),
    "priority": Int(0, 4294967295, code="ROUTE_RULE_PRIORITY_INVALID"),
    "route-table": Int(1, 4294967295, code="ROUTE_TABLE_INVALID"),
    "family": Enum("ipv4", "ipv6"),
    "iif": Str(what="an interface name"),
    "state": Enum("absent"),
}, unsupported=["fwmark", "fwmask", "action", "suppress-prefix-length", "suppress_prefixlength",
                "ipproto", "source-port", "destination-port"])

_DNS_CONFIG = Obj({
    "server": List(DnsServer()),
    "search": List(Str(what="a domain name")),
    "options": List(Str(what="a resolver option")),
})

DOCUMENT = Obj({
    "interfaces": List(INTERFACE),
    "routes": Obj({"config": List(ROUTE)}, unsupported=["running"]),
    "route-rules": Obj({"config": List(ROUTE_RULE)}, unsupported=["running"]),
    "dns-resolver": Obj({"config": _DNS_CONFIG}, unsupported=["running"]),
}, unsupported=["ovs-db", "ovn", "hostname", "hostname-config", "dispatch"])


def parse_document(doc: Any) -> Tuple[Dict[str, Any], list[Problem]]:
    """Parse a desired-state document (a mapping as loaded from YAML), after
    :func:`screen` bounded it.

    Returns ``(canonical, problems)``: ``canonical`` holds every key that
    parsed (bad ones are left out), ``problems`` every schema error, each
    with its path. The caller decides to stop when ``problems`` has errors.
    """
    doc, problems = screen({} if doc is None else doc)
    if doc is REFUSED or any(p.code == "DOCUMENT_TOO_LARGE" for p in problems):
        return {}, problems
    out = DOCUMENT.parse(doc, "", problems)
    if out is INVALID:
        # keep what parsed, for the semantic rules that can still run
        out = _salvage(doc, problems)
    return out, problems


def _salvage(doc: Any, problems: list[Problem]) -> Dict[str, Any]:
    """Best-effort canonical form of the valid parts of an invalid document,
    so semantic rules still run and all errors come at once. Invalid list
    items become ``None`` so that indexes keep matching the document."""
    if not isinstance(doc, dict):
        return {}
    scratch: list[Problem] = []
    out: Dict[str, Any] = {}
    ifaces = doc.get("interfaces")
    if isinstance(ifaces, list):
        out["interfaces"] = [_or_none(INTERFACE.parse(i, "", scratch)) for i in ifaces]
    for key, node in (("routes", ROUTE), ("route-rules", ROUTE_RULE)):
        sec = doc.get(key)
        if isinstance(sec, dict) and isinstance(sec.get("config"), list):
            out[key] = {"config": [_or_none(node.parse(r, "", scratch)) for r in sec["config"]]}
    dns = DOCUMENT.fields["dns-resolver"].parse(doc.get("dns-resolver"), "", scratch) if "dns-resolver" in doc else None
    if isinstance(dns, dict):
        out["dns-resolver"] = dns
    return out


def _or_none(value: Any) -> Any:
    # invalid list items stay as None so that indexes (and paths) keep their meaning
    return None if value is INVALID else value


def json_schema() -> Dict[str, Any]:
    """The JSON Schema of the desired-state document, generated from the same
    table the parser uses (published as docs/desired-state.schema.json)."""
    out = DOCUMENT.json_schema()
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "hostnet.nm desired state (nmstate-compatible subset)"
    return out
