# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Schema nodes: the building blocks of the desired-state schema.

A node parses one value of a document into its canonical form (MAC letter
case, compressed IPv6, integers for numbers) or reports why it cannot, and
describes itself as JSON Schema. :mod:`.schema` assembles the document's
table from these nodes; each interface kind (:mod:`.kinds`) declares its own
section with them, which is why they live below both (layers: model <- kinds
<- schema/validation).

Parsing never raises on bad input: it appends :class:`~.errors.Problem`
objects to a list, so that every error of a document is reported at once.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from .errors import Problem, shown, type_name

INVALID = object()  # marks a value that failed to parse; never reaches the model
REFUSED = object()  # stands in for a value :func:`.schema.screen` refused (already reported): parsing skips it

#: characters of one key of a document (longer keys are refused by :func:`.schema.screen`)
MAX_KEY = 256
#: decimal digits of a number written as text (2**64 has 20)
MAX_DIGITS = 20


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


def closest(word: str, choices: List[str]) -> Optional[str]:
    """The choice most like ``word`` (difflib's ratio of at least 0.6), or
    ``None``: the "did you mean" of an error. difflib is imported here, when
    a document has an error, not on every run."""
    import difflib
    close = difflib.get_close_matches(word, choices, 1)
    return close[0] if close else None


class Node:
    """A schema node: parses one value into its canonical form."""

    description = ""

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        """Return the canonical value, or :data:`INVALID` after appending
        problems (each with ``path``)."""
        raise NotImplementedError

    def json_schema(self) -> Dict[str, Any]:
        """The JSON Schema (draft 2020-12) fragment for this node."""
        raise NotImplementedError

    def _wrong_type(self, value: Any, path: str, problems: List[Problem], expected: str) -> Any:
        problems.append(Problem("TYPE_MISMATCH", path, "expected %s, got %s %s" % (expected, type_name(value), shown(value)),
                                "write %s here" % expected))
        return INVALID


class Bool(Node):
    """A YAML boolean (``true``/``false``; the strings ``yes``/``no`` are refused
    because they are ambiguous once templated)."""

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if isinstance(value, bool):
            return value
        return self._wrong_type(value, path, problems, "a boolean (true or false)")

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "boolean"}


class Int(Node):
    """An integer in ``[lo, hi]``. Numeric strings (e.g. from templates) are
    accepted and converted; ``"0x30"`` is read as hexadecimal."""

    def __init__(self, lo: int, hi: int, unit: str = "", code: str = "VALUE_OUT_OF_RANGE") -> None:
        self.lo, self.hi, self.unit, self.code = lo, hi, unit, code

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
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

    def _from_text(self, text: str, path: str, problems: List[Problem]) -> Any:
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

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "integer", "minimum": self.lo, "maximum": self.hi}


_NUMBER = re.compile(r"\s*([-+]?)(0[xX][0-9a-fA-F]+|[0-9]+)\s*")


class Str(Node):
    """A non-empty string, optionally matching ``pattern``."""

    def __init__(self, pattern: Optional[str] = None, what: str = "a string", allow_empty: bool = False) -> None:
        self.pattern, self.what, self.allow_empty = pattern, what, allow_empty

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
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

    def json_schema(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = "^(?:%s)$" % self.pattern
        if not self.allow_empty:
            out["minLength"] = 1
        return out


class Formed(Node):
    """A string with a canonical form of its own: ``form(text)`` gives it, or
    raises ``ValueError`` saying why the text is not ``what`` (reported
    with ``code`` and ``hint``)."""

    def __init__(self, form: Callable[[str], str], what: str, code: str, hint: str) -> None:
        self.form, self.what, self.code, self.hint = form, what, code, hint

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if not isinstance(value, str):
            return self._wrong_type(value, path, problems, self.what)
        try:
            return self.form(value)
        except ValueError as err:
            problems.append(Problem(self.code, path, "%s is not %s: %s" % (shown(value), self.what, err), self.hint))
            return INVALID

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "string", "description": self.what}


class Enum(Node):
    """One of a fixed set of strings. A value of ``unsupported`` is refused
    as ``UNSUPPORTED``; with ``(why, hint)`` in ``reasons`` the message gives
    that reason and the hint says what to do instead. ``aliases`` maps other
    spellings nmstate accepts to the canonical value (``{"hsr-2010": "hsr"}``)."""

    def __init__(self, *values: str, unsupported: Iterable[str] = (),
                 reasons: Optional[Mapping[str, Tuple[str, str]]] = None,
                 aliases: Optional[Mapping[str, str]] = None) -> None:
        self.values = values
        self.unsupported = tuple(unsupported)
        self.reasons = dict(reasons or {})
        self.aliases = dict(aliases or {})

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if value in self.values:
            return value
        if isinstance(value, str) and value in self.aliases:
            return self.aliases[value]
        if isinstance(value, str) and value in self.reasons:
            why, hint = self.reasons[value]
            problems.append(Problem("UNSUPPORTED", path, "unsupported: %s (%s: %s)" % (path, shown(value), why), hint))
            return INVALID
        if value in self.unsupported:
            problems.append(Problem("UNSUPPORTED", path, "unsupported: %s (%s is a valid nmstate value that hostnet.nm "
                                    "does not support yet)" % (path, shown(value)), "use one of: %s" % ", ".join(self.values)))
            return INVALID
        close = closest(str(value), list(self.values))
        problems.append(Problem("BAD_VALUE", path, "%s is not one of: %s" % (shown(value), ", ".join(self.values)),
                                ("did you mean %r?" % close) if close else ""))
        return INVALID

    def json_schema(self) -> Dict[str, Any]:
        return {"enum": list(self.values) + list(self.aliases)}


class IpAddress(Node):
    """An IP address literal without a prefix; canonical form from the
    standard library (compressed IPv6, RFC 5952)."""

    def __init__(self, family: Optional[int] = None) -> None:
        self.family = family

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
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

    def json_schema(self) -> Dict[str, Any]:
        if self.family:
            return {"type": "string", "format": "ipv%d" % self.family}
        return {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}


class IpNetwork(Node):
    """A destination ``address/prefix``; a bare address means a host route
    (/32 or /128). Host bits set are an error (the kernel would mask them)."""

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
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

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "string", "description": "IP network, e.g. 198.18.5.0/24"}


class DnsServer(Node):
    """A name server literal; IPv6 link-local ones carry ``%iface``."""

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
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

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "string", "description": "IP address, IPv6 link-local as fe80::1%eth1"}


_MAC_RE = r"[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}"


class Mac(Node):
    """An Ethernet MAC address; canonical form upper case with colons (as
    NetworkManager reports it), so either letter case compares equal."""

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if not isinstance(value, str) or not re.fullmatch(_MAC_RE, value.strip()):
            problems.append(Problem("MAC_INVALID", path, "%s is not a MAC address" % shown(value),
                                    "quote it: YAML 1.1 reads an unquoted 10:20:30:40:50:59 as a number"
                                    if isinstance(value, int) else "write six hex pairs, e.g. 02:00:00:00:09:01"))
            return INVALID
        return value.strip().replace("-", ":").upper()

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "string", "pattern": "^%s$" % _MAC_RE}


class ListOf(Node):
    """A list of ``item`` nodes (a scalar where a list is expected is refused)."""

    def __init__(self, item: Node) -> None:
        self.item = item

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if not isinstance(value, list):
            return self._wrong_type(value, path, problems, "a list")
        out = [INVALID if v is REFUSED else self.item.parse(v, join(path, i), problems) for i, v in enumerate(value)]
        return INVALID if any(v is INVALID for v in out) else out

    def json_schema(self) -> Dict[str, Any]:
        return {"type": "array", "items": self.item.json_schema()}


class Unsupported(Node):
    """A key nmstate knows that we do not support: always refused with
    ``unsupported: <path> (<why>)`` and ``hint``, so that it is never
    silently ignored. The JSON Schema's description gives a ``why`` other
    than :attr:`NOT_YET` and the hint (what editors show)."""

    NOT_YET = "a valid nmstate key that hostnet.nm does not support yet"

    def __init__(self, why: str = NOT_YET, hint: str = "remove it, or configure it outside hostnet.nm") -> None:
        self.why, self.hint = why, hint

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        problems.append(Problem("UNSUPPORTED", path, "unsupported: %s (%s)" % (path, self.why), self.hint))
        return INVALID

    def json_schema(self) -> Dict[str, Any]:
        reason = "" if self.why == self.NOT_YET else ": %s (%s)" % (self.why, self.hint)
        return {"not": {}, "description": "unsupported by hostnet.nm" + reason}


class Obj(Node):
    """A mapping with known keys. Unknown keys are errors with a suggestion;
    keys listed in ``unsupported`` are refused as unsupported; ``required``
    keys must be present. ``check`` may add cross-key problems."""

    def __init__(self, fields: Dict[str, Node], required: Tuple[str, ...] = (), unsupported: Iterable[str] = (),
                 check: Optional[Callable[[Dict[str, Any], str, List[Problem]], None]] = None,
                 free_keys: Optional[Node] = None) -> None:
        self.fields = dict(fields)
        for key in unsupported:
            self.fields[key] = Unsupported()
        self.required = required
        self.check = check
        self.free_keys = free_keys  # value node for mappings with free-form keys (bond options)

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return self._wrong_type(value, path, problems, "a mapping")
        out: Dict[str, Any] = {}
        bad = False
        for key, item in value.items():
            parsed = self._item(key, item, join(path, key), problems)
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

    def _item(self, key: Any, item: Any, path: str, problems: List[Problem]) -> Any:
        """One key's value parsed by its node, or :data:`INVALID` (refused
        before, or an unknown key: reported with a "did you mean")."""
        if item is REFUSED:
            return INVALID
        node = self.fields.get(key, self.free_keys)
        if node is None:
            close = closest(str(key), [k for k, n in self.fields.items() if not isinstance(n, Unsupported)])
            problems.append(Problem("UNKNOWN_KEY", path, "unknown key %s" % shown(key),
                                    ("did you mean %r?" % close) if close else
                                    "known keys here: %s" % ", ".join(sorted(self.fields))))
            return INVALID
        return node.parse(item, path, problems)

    def json_schema(self) -> Dict[str, Any]:
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

    def parse(self, value: Any, path: str, problems: List[Problem]) -> Any:
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (int, str)):
            return str(value)
        return self._wrong_type(value, path, problems, "a string or number")

    def json_schema(self) -> Dict[str, Any]:
        return {"type": ["string", "integer", "boolean"]}
