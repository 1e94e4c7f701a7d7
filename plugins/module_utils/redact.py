# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one redaction layer: secrets are recognised by the name of their key,
wherever they sit in a document (bond options, 802.1x, MACsec...), and are
masked in every output: results, diffs, warnings, error messages, logs,
reports and the current state (``network_state_info``).

Two steps, used together: :func:`redact` replaces the value of every key
that names a secret by :data:`MASK` (whatever its type); :func:`secret_values`
collects those values from the input, so that :func:`scrub` (and Ansible's
``no_log_values``) can remove them from free text that quotes them."""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Set, Tuple

#: a key names a secret when one of its words (split at ``-``, ``_``, ``.``) is one of these, or when it
#: contains password, passphrase, secret or privatekey anywhere (nmstate: 802.1x password,
#: private-key-password, pin; macsec mka-cak, mka-ckn; wireguard private-key, preshared-key; wifi psk,
#: wep-key0; ipsec psk)
SECRET_KEY = re.compile(r"(?:^|[-_.])(?:pass|passwd|pwd|psk|pin|secrets?|keys?\d*|cak|ckn|tokens?|credentials?)"
                        r"(?:[-_.]|$)|password|passphrase|secret|privatekey", re.I)
#: keys that look like a secret's but are not: ``token`` is an interface's IPv6 token (its SLAAC interface
#: identifier, the last 64 bits of addresses every neighbour sees), the only key of that name in the schema
NOT_SECRET = frozenset({"token"})
#: what a secret is replaced with
MASK = "<hidden>"
#: secrets shorter than this are masked by key only: scrubbing "1" out of free text would mangle it
MIN_SCRUBBED = 4
#: values visited at most (the input may be a hostile document; validation refuses larger ones)
MAX_VISITS = 200000


def is_secret(key: Any) -> bool:
    """Whether a mapping key names a secret (see :data:`SECRET_KEY`; not one of :data:`NOT_SECRET`)."""
    return isinstance(key, str) and key not in NOT_SECRET and SECRET_KEY.search(key) is not None


def _walk(value: Any) -> Iterable[Tuple[bool, Any]]:
    """``(under a secret key, scalar)`` for the scalars of ``value``, without recursion."""
    stack: List[Tuple[Any, bool]] = [(value, False)]
    visits = 0
    while stack and visits < MAX_VISITS:
        item, hidden = stack.pop()
        visits += 1
        if isinstance(item, dict):
            stack.extend((v, hidden or is_secret(k)) for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, hidden) for v in item)
        else:
            yield hidden, item


def secret_values(value: Any) -> Set[str]:
    """The text of every scalar under a key that names a secret, anywhere
    in ``value`` (e.g. a module's parameters), at least :data:`MIN_SCRUBBED`
    characters long: what :func:`scrub` removes from free text."""
    out: Set[str] = set()
    for hidden, item in _walk(value):
        if hidden and item is not None and not isinstance(item, bool):
            text = str(item) if not isinstance(item, str) else item
            if len(text) >= MIN_SCRUBBED:
                out.add(text)
    return out


def scrub(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret value replaced by :data:`MASK`
    (longest first, so that a secret containing another is masked whole)."""
    for secret in sorted(values, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(value: Any, values: Iterable[str] = (), depth: int = 0) -> Any:
    """A copy of ``value`` (a result, a document, a diff) in which every key
    that names a secret has the value :data:`MASK`, and every string is
    scrubbed of ``values`` (:func:`scrub`). Other values are shared, not
    copied; nesting beyond 64 levels is masked whole."""
    values = values if isinstance(values, (set, frozenset, list, tuple)) else list(values)
    if depth > 64:
        return MASK
    if isinstance(value, dict):
        return {k: MASK if is_secret(k) and v not in (None, "") else redact(v, values, depth + 1)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v, values, depth + 1) for v in value]
    if isinstance(value, str) and values:
        return scrub(value, values)
    return value
