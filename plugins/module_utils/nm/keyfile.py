# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkManager connection settings -> the text of a keyfile, without NetworkManager.

The settings are those :func:`.settings.build_settings` makes for D-Bus
(``{"ipv4": {"method": Variant("s", "manual"), ...}}``, or the same as plain
values). The text follows NetworkManager's keyfile format
(nm-settings-keyfile(5), a GLib key file): one ``[section]`` per setting
(``802-3-ethernet`` under its alias ``ethernet``), ``key=value`` lines,
booleans ``true``/``false``, lists separated and ended by ``;``, MACs in
colon notation, and the forms the keyfile plugin writes instead of the
D-Bus ones: ``addressN=ip/prefix``, ``gateway=``, ``routeN=dest/prefix,next
hop,metric`` with ``routeN_options=`` (``onlink``, ``table``),
``routing-ruleN=`` in ``ip rule`` syntax, IPv4/IPv6 ``dns=`` as address
lists, bridge-port ``vlans=`` as ``vid[-end][ pvid][ untagged]`` items
separated by ``,``, bond options as keys of ``[bond]``, ``user.data`` as keys
of ``[user]``. ``assigned-mac-address`` (D-Bus only) is written as
``cloned-mac-address``, as NetworkManager does.

Secrets (keys that name one, by the collection's one rule,
:func:`..redact.is_secret`: ``mka-cak``, ``psk``, ``password``, a bond
option called ``password``...) are written to the file; :func:`render` with
``mask=True`` shows them as ``<hidden>`` for diffs and results.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Callable, Dict, List, Tuple

from .. import kinds
from ..model import ADDR_GEN_MODES, RULE_ACTIONS
from ..profiles import ipv4_dns_from_nm, mac_text
from ..redact import MASK, is_secret
from .dbus import unwrap

#: keyfile section aliases NetworkManager writes (nm-settings-keyfile(5), "Name aliases")
ALIASES = {"802-11-wireless": "wifi", "802-11-wireless-security": "wifi-security",
           **{k.nm_type: k.keyfile_type for k in kinds.KINDS if k.keyfile_type}}
#: sections after [connection] and the kind's own section, in NetworkManager's order
TAIL_SECTIONS = ("bridge-port", "ipv4", "ipv6", "user")
HIDDEN = MASK
#: D-Bus-only properties and the keyfile key NetworkManager stores them under
RENAMED = {("802-3-ethernet", "assigned-mac-address"): "cloned-mac-address"}
MAC_KEYS = {"mac-address", "cloned-mac-address", "assigned-mac-address", "permanent-mac-address"}
#: dictionary keys written as they are (NetworkManager hex-escapes others, nm_keyfile_key_encode)
PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")

Lines = List[Tuple[str, str]]


class KeyfileError(ValueError):
    """A settings value this writer cannot express (a bug in the caller, not
    bad user input: every value built from a valid document is covered)."""


def escape(text: str, in_list: bool = False) -> str:
    """``text`` as a GLib key file value: backslash, newline, tab and CR
    escaped, a leading space as ``\\s``; ``;`` too inside a list."""
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    if in_list:
        out = out.replace(";", "\\;")
    return "\\s" + out[1:] if out.startswith(" ") else out


def _plain(value: Any) -> str:
    """A scalar or a list of scalars in key file form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, (bytes, bytearray)):
        return "".join("%d;" % b for b in value)
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return "".join((escape(v, in_list=True) if isinstance(v, str) else str(v)) + ";" for v in value)
    raise KeyfileError("no keyfile form for %r" % (value,))


def _addresses(_key: str, items: List[Dict[str, Any]]) -> Lines:
    return [("address%d" % n, "%s/%d" % (a["address"], int(a["prefix"]))) for n, a in enumerate(items, 1)]


def _routes(_key: str, items: List[Dict[str, Any]]) -> Lines:
    out: Lines = []
    for n, r in enumerate(items, 1):
        zero = "0.0.0.0" if ipaddress.ip_address(r["dest"]).version == 4 else "::"
        value = "%s/%d" % (r["dest"], int(r["prefix"]))
        if r.get("next-hop") or r.get("metric") is not None:
            value += "," + (r.get("next-hop") or zero)
        if r.get("metric") is not None:
            value += ",%d" % int(r["metric"])
        out.append(("route%d" % n, value))
        options = {k: v for k, v in r.items() if k not in ("dest", "prefix", "next-hop", "metric")}
        if options:
            out.append(("route%d_options" % n, ",".join("%s=%s" % (k, _plain(options[k])) for k in sorted(options))))
    return out


def _rules(_key: str, items: List[Dict[str, Any]]) -> Lines:
    out: Lines = []
    for n, r in enumerate(items, 1):
        words = ["priority %d" % int(r["priority"])] if r.get("priority") is not None else []
        for side in ("from", "to"):
            if r.get(side):
                words.append("%s %s/%d" % (side, r[side], int(r.get(side + "-len", 0))))
        if r.get("iifname"):
            words.append("iif %s" % r["iifname"])
        if r.get("fwmark") or r.get("fwmask"):
            words.append("fwmark 0x%x/0x%x" % (int(r.get("fwmark", 0)), int(r.get("fwmask", 0))))
        if r.get("suppress-prefixlength", -1) >= 0:
            words.append("suppress_prefixlength %d" % int(r["suppress-prefixlength"]))
        action = {v: k for k, v in RULE_ACTIONS.items()}.get(int(r.get("action", 1)))
        words.append("type %s" % action if action else "table %d" % int(r.get("table", 254)))
        out.append(("routing-rule%d" % n, " ".join(words)))
    return out


def _bridge_vlans(key: str, items: List[Dict[str, Any]]) -> Lines:
    text = []
    for v in sorted(items, key=lambda v: (v["vid-start"], v["vid-end"])):  # NetworkManager's order
        vid = "%d" % v["vid-start"] if v["vid-start"] == v["vid-end"] else "%d-%d" % (v["vid-start"], v["vid-end"])
        text.append(vid + (" pvid" if v.get("pvid") else "") + (" untagged" if v.get("untagged") else ""))
    return [(key, ",".join(text))] if text else []


def _dns4(key: str, items: List[int]) -> Lines:
    return [(key, "".join(s + ";" for s in ipv4_dns_from_nm(items)))] if items else []


def _dns6(key: str, items: List[Any]) -> Lines:
    return [(key, "".join("%s;" % ipaddress.IPv6Address(bytes(a)) for a in items))] if items else []


def _addr_gen_mode(key: str, value: int) -> Lines:
    # the keyfile plugin writes the mode's word (and reads a missing key as default-or-eui64, not D-Bus's default)
    return [(key, {v: k for k, v in ADDR_GEN_MODES.items()}[int(value)])]


#: (section, property) -> how the keyfile plugin writes it, where it differs from the plain form
SPECIAL: Dict[Tuple[str, str], Callable[[str, Any], Lines]] = {
    ("ipv4", "address-data"): _addresses, ("ipv6", "address-data"): _addresses,
    ("ipv4", "route-data"): _routes, ("ipv6", "route-data"): _routes,
    ("ipv4", "routing-rules"): _rules, ("ipv6", "routing-rules"): _rules,
    ("ipv4", "dns"): _dns4, ("ipv6", "dns"): _dns6,
    ("bridge-port", "vlans"): _bridge_vlans, ("ipv6", "addr-gen-mode"): _addr_gen_mode,
}
#: dictionaries written as the keys of their own section: (section, property) -> keyfile section
DICT_SECTIONS = {("user", "data"): "user", ("vpn", "data"): "vpn", ("vpn", "secrets"): "vpn-secrets",
                 **{key: sec for k in kinds.KINDS for key, sec in k.keyfile_dicts.items()}}


def _property(section: str, key: str, value: Any) -> Lines:
    if (section, key) in SPECIAL:
        return SPECIAL[(section, key)](key, value)
    key = RENAMED.get((section, key), key)
    if key in MAC_KEYS and mac_text(value):
        return [(key, str(mac_text(value)))]
    if section == "connection" and key == "type":
        return [(key, ALIASES.get(value, value))]
    if isinstance(value, list) and not value:
        return []  # an empty list is NetworkManager's default: it writes no key
    return [(key, _plain(value))]


def _dict_lines(section: str, key: str, value: Dict[str, Any], mask: bool) -> Lines:
    """The lines of a dictionary property written as its own section (:data:`DICT_SECTIONS`).

    Raises:
        KeyfileError: a key needs NetworkManager's key escaping, which this writer does not do."""
    odd = [k for k in value if not PLAIN_KEY.match(k)]
    if odd:
        raise KeyfileError("%s.%s: keys %s need NetworkManager's key escaping" % (section, key, odd))
    return [(k, HIDDEN if mask and (is_secret(k) or is_secret(key)) else escape(str(value[k]))) for k in sorted(value)]


def _section_lines(section: str, props: Dict[str, Any], mask: bool) -> Dict[str, Lines]:
    """``{keyfile section: lines}`` for one setting (a dict property may open its own section)."""
    own: List[Tuple[str, Lines]] = []
    extra: Dict[str, Lines] = {}
    for key, value in props.items():
        if (section, key) in DICT_SECTIONS:
            extra[DICT_SECTIONS[(section, key)]] = _dict_lines(section, key, value, mask)
            continue
        lines = _property(section, key, value)
        if lines and mask and is_secret(key):
            lines = [(k, HIDDEN) for k, _v in lines]
        if lines:
            own.append((lines[0][0], lines))
    if section == "connection":
        first = {"id": 0, "uuid": 1, "type": 2}
        own.sort(key=lambda item: (first.get(item[0], 3), item[0]))
    else:
        own.sort(key=lambda item: item[0].rstrip("0123456789"))  # address1.. stay in list order
    out = {ALIASES.get(section, section): [line for _k, lines in own for line in lines]}
    for name, lines in extra.items():
        out.setdefault(name, []).extend(lines)
    return out


def render(settings: Dict[str, Any], mask: bool = False) -> str:
    """The keyfile text of one profile.

    ``settings``: ``{setting name: {property: value}}`` as sent over D-Bus
    (our ``Variant`` or plain values, e.g. from
    :func:`.settings.build_settings`). ``mask``: show secret values as
    ``<hidden>`` (for a diff), instead of writing them.

    Sections: ``[connection]`` first (``id``, ``uuid``, ``type``, then the
    other keys by name), the kind's own setting, then ``bridge-port``,
    ``ipv4``, ``ipv6``, ``user``; keys sorted by name within a section, list
    items in their order. Empty sections are left out. Every line is a
    ``[section]``, a ``key=value`` or blank: no other text can end up in the
    file.

    Raises:
        KeyfileError: a value with no keyfile form (a caller's bug).
    """
    plain = unwrap(settings)
    sections: Dict[str, Lines] = {}
    for name, props in plain.items():
        for section, lines in _section_lines(name, props or {}, mask).items():
            sections.setdefault(section, []).extend(lines)
    kind = ALIASES.get(plain.get("connection", {}).get("type", ""), plain.get("connection", {}).get("type", ""))
    order = ["connection", kind] + [s for s in TAIL_SECTIONS if s != kind]
    names = [s for s in order if s in sections] + sorted(s for s in sections if s not in order)
    blocks = ["[%s]\n%s" % (s, "".join("%s=%s\n" % line for line in sections[s])) for s in names if sections[s]]
    return "\n".join(blocks)


def has_secrets(settings: Dict[str, Any]) -> bool:
    """Whether the settings hold a non-empty value under a key that names a
    secret (a property, or a key of a dictionary such as bond options)."""
    plain = unwrap(settings)
    for props in plain.values():
        for key, value in (props or {}).items():
            if value and is_secret(key):
                return True
            if isinstance(value, dict) and any(v and is_secret(k) for k, v in value.items()):
                return True
    return False
