# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MACsec (IEEE 802.1AE): an encrypted link on a base interface, its keys
agreed by MKA from a pre-shared connectivity association key
(``macsec: {base-iface, encrypt, port, validation, send-sci, mka-cak, mka-ckn}``).

The CAK is a secret. It is written to NetworkManager and never read back:
NetworkManager hands secrets out only through ``GetSecrets``, which
hostnet.nm does not call. The host's state says only whether a CAK is set,
as :data:`SET` (the mask of :mod:`..redact`), and a document may give
:data:`SET` back for "keep the CAK the profile has" (what
``network_state_info`` reports)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ..errors import Problem
from ..nodes import Bool, Enum, Int, Obj, Str, join
from ..redact import MASK
from .base import Iface, Settings, Stacked, changed_props, live_diff

TYPE = "macsec"
#: a CAK that is set but not read (NetworkManager keeps it; ``GetSecrets`` is never called)
SET = MASK
#: nmstate's validation modes, in the order of NetworkManager's ``macsec.validation`` numbers (0..2)
VALIDATIONS = ("disabled", "check", "strict")
#: NetworkManager's ``macsec.mode``: the key comes from mka-cak/mka-ckn (NM_SETTING_MACSEC_MODE_PSK)
MODE_PSK = 0
#: a CAK: 16 or 32 bytes as hex (IEEE 802.1X-2010 9.3: 128 or 256 bit keys; NetworkManager takes 32 or 64 digits)
_CAK = re.compile(r"(?:[0-9a-fA-F]{2}){16}|(?:[0-9a-fA-F]{2}){32}")
#: a CKN: 1 to 32 bytes as hex (IEEE 802.1X-2010 9.3.1; NetworkManager takes 2 to 64 even digits)
_CKN = re.compile(r"(?:[0-9a-fA-F]{2}){1,32}")


def _check_keys(section: Dict[str, Any], path: str, problems: List[Problem]) -> None:
    """MACSEC_MKA_KEYS_PAIR: mka-cak without mka-ckn or mka-ckn without mka-cak (MKA needs both:
    NetworkManager's PSK mode, IEEE 802.1X-2010 9.3).
    MACSEC_CAK_FORMAT: an mka-cak that is not 32 or 64 hexadecimal digits (a 16 or 32 byte key).
    MACSEC_CKN_FORMAT: an mka-ckn that is not 2 to 64 hexadecimal digits, an even number (1 to 32 bytes).

    The CAK's value is never quoted in a message."""
    cak, ckn = section.get("mka-cak"), section.get("mka-ckn")
    for key, other, value in (("mka-cak", "mka-ckn", cak), ("mka-ckn", "mka-cak", ckn)):
        if isinstance(value, str) and section.get(other) is None:
            problems.append(Problem("MACSEC_MKA_KEYS_PAIR", join(path, other), "%s is given without %s" % (key, other),
                                    "give both mka-cak and mka-ckn (MKA with a pre-shared key needs the two)"))
    if isinstance(cak, str) and cak != SET and not _CAK.fullmatch(cak):
        problems.append(Problem("MACSEC_CAK_FORMAT", join(path, "mka-cak"), "mka-cak is not 32 or 64 hexadecimal "
                                "digits (%d characters given)" % len(cak), "write a 16 or 32 byte key as hex, e.g. "
                                "the output of: openssl rand -hex 16"))
    if isinstance(ckn, str) and ckn != SET and not _CKN.fullmatch(ckn):
        problems.append(Problem("MACSEC_CKN_FORMAT", join(path, "mka-ckn"), "mka-ckn is not 2 to 64 hexadecimal "
                                "digits in pairs (%d characters given)" % len(ckn), "write a 1 to 32 byte name as "
                                "hex, e.g. the output of: openssl rand -hex 32"))


SCHEMA = Obj({
    "base-iface": Str(what="an interface name"),
    "encrypt": Bool(),
    "port": Int(1, 65534, "(the port of the secure channel identifier; NetworkManager takes 1..65534)",
                code="MACSEC_PORT_OUT_OF_RANGE"),
    "validation": Enum(*VALIDATIONS),
    "send-sci": Bool(),
    "mka-cak": Str(what="32 or 64 hexadecimal digits"),
    "mka-ckn": Str(what="2 to 64 hexadecimal digits"),
}, required=("base-iface",), unsupported=["offload"], check=_check_keys)

#: model key -> (property of org.freedesktop.NetworkManager.Device.Macsec, its canonical form)
_LIVE = {"base-iface": ("Parent", str), "encrypt": ("Encrypt", bool), "send-sci": ("IncludeSci", bool)}


class Macsec(Stacked):
    """nmstate ``type: macsec`` with MKA from a pre-shared key (NetworkManager's
    ``macsec`` setting in PSK mode; 802.1X EAP mode is not offered, as nmstate
    does not). A new MACsec without a key gets NetworkManager's defaults:
    encrypt true, port 1, validation strict, send-sci true."""

    type = TYPE
    section = TYPE
    schema = SCHEMA
    schema_codes = {
        "MACSEC_PORT_OUT_OF_RANGE": "a MACsec port outside 1..65534 (NetworkManager's macsec.port)",
        "MACSEC_MKA_KEYS_PAIR": "mka-cak without mka-ckn, or mka-ckn without mka-cak",
        "MACSEC_CAK_FORMAT": "an mka-cak that is not 32 or 64 hexadecimal digits (IEEE 802.1X-2010: 16 or 32 bytes)",
        "MACSEC_CKN_FORMAT": "an mka-ckn that is not 2 to 64 hexadecimal digits in pairs (1 to 32 bytes)",
    }
    nm_type = TYPE
    device_types = (21,)  # NM_DEVICE_TYPE_MACSEC
    device_iface = "org.freedesktop.NetworkManager.Device.Macsec"
    nm_properties = {TYPE: {"parent": "string", "mode": "int32", "encrypt": "boolean", "port": "int32",
                            "validation": "int32", "send-sci": "boolean", "mka-ckn": "string", "mka-cak": "string"}}

    def merge_section(self, current: Dict[str, Any], desired: Dict[str, Any]) -> Dict[str, Any]:
        """nmstate's merge, and the CAK compared only as set or not: a CAK the
        host has set stays :data:`SET` (nothing written) while the CKN stays the
        same; a document's :data:`SET` keeps the host's key and name."""
        out = super().merge_section(current, desired)
        for key in ("mka-cak", "mka-ckn"):
            if out.get(key) == SET and key in current:
                out[key] = current[key]
        if current.get("mka-cak") == SET and out.get("mka-ckn") == current.get("mka-ckn"):
            out["mka-cak"] = SET
        return out

    def from_nm(self, settings: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
        sec = settings.get(TYPE, {})
        validation = int(sec.get("validation", 2))
        out: Dict[str, Any] = {"base-iface": str(sec.get("parent", "")), "encrypt": bool(sec.get("encrypt", True)),
                               "port": int(sec.get("port", 1)), "send-sci": bool(sec.get("send-sci", True))}
        if 0 <= validation < len(VALIDATIONS):
            out["validation"] = VALIDATIONS[validation]
        if sec.get("mka-ckn") and int(sec.get("mode", MODE_PSK)) == MODE_PSK:
            # a PSK profile cannot be saved without its CAK's name; the CAK itself is not read
            out.update({"mka-ckn": str(sec["mka-ckn"]), "mka-cak": SET})
        return {TYPE: out}

    def _props(self, iface: Iface) -> Dict[str, Any]:
        sec = self.section_of(iface)
        props = {"parent": sec.get("base-iface"), "encrypt": sec.get("encrypt"), "port": sec.get("port"),
                 "validation": VALIDATIONS.index(sec["validation"]) if "validation" in sec else None,
                 "send-sci": sec.get("send-sci"), "mka-ckn": sec.get("mka-ckn"), "mka-cak": sec.get("mka-cak")}
        return {k: v for k, v in props.items() if v is not None}

    def to_nm(self, current: Iface, target: Iface, new: bool, old: Optional[Settings] = None) -> Settings:
        props = changed_props(self._props(current), self._props(target), new)
        if props.get("mka-cak") == SET:
            del props["mka-cak"]  # kept by NetworkManager: an update without secrets keeps the stored ones
        if new:
            props["mode"] = MODE_PSK
        return {TYPE: props} if props else {}

    def live_mismatches(self, target: Iface, device: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        return live_diff(TYPE, self.section_of(target), device.get("kind") or {}, _LIVE)


KIND = Macsec()
