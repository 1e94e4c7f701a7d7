# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secrets redacted by key name (issue 20, item 8; cases RC-12, RC-13): one
layer for results, diffs, warnings, messages and logs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils import validation
from ansible_collections.hostnet.nm.plugins.module_utils.redact import MASK, is_secret, redact, scrub, secret_values

CANARY = "S3cr3t-Canary-12"


@pytest.mark.parametrize("key", ["password", "private-key-password", "private-key", "psk", "mka-cak", "mka-ckn",
                                 "wep-key0", "leap-password", "pin", "secret", "client_secret", "preshared-key",
                                 "PassPhrase", "api_token", "key", "ad_user_port_key", "privatekey", "pass"])
def test_keys_that_name_a_secret(key):
    assert is_secret(key)


@pytest.mark.parametrize("key", ["name", "mode", "miimon", "primary", "keepalive", "ping", "bypass", "mtu",
                                 "port", "peer", "options", "monkey", "passive", "spin", 3, None, "token"])
def test_keys_that_do_not(key):
    # "token" is the IPv6 token of an ipv6 section (issue 15 item 8): an interface identifier, shown in every address
    assert not is_secret(key)


def test_an_ipv6_token_is_shown_and_not_scrubbed_from_addresses():
    doc = {"interfaces": [{"name": "eth2", "ipv6": {"token": "::fac1", "address": ["2001:db8:2::fac1"]}}]}
    assert redact(doc, secret_values(doc)) == doc


def test_a_secret_is_masked_wherever_it_sits():
    doc = {"interfaces": [{"name": "bond0", "link-aggregation": {"mode": "active-backup", "options": {
        "miimon": "100", "password": CANARY}}},
        {"name": "eth1", "802.1x": {"identity": "client", "private-key-password": CANARY, "pin": 1234}}],
        "extra": [[{"psk": ["a", {"b": CANARY}]}]]}
    out = redact(doc)
    assert CANARY not in json.dumps(out)
    assert out["interfaces"][0]["link-aggregation"]["options"] == {"miimon": "100", "password": MASK}
    assert out["interfaces"][1]["802.1x"] == {"identity": "client", "private-key-password": MASK, "pin": MASK}
    assert out["extra"] == [[{"psk": MASK}]]
    assert doc["interfaces"][0]["link-aggregation"]["options"]["password"] == CANARY  # the input is untouched


def test_secret_values_are_scrubbed_from_free_text():
    params = {"desired_state": {"interfaces": [{"name": "bond0", "link-aggregation": {"options": {
        "password": CANARY, "psk": "abc", "key": 12345678}}}]}, "rollback_timeout": 60}
    values = secret_values(params)
    assert values == {CANARY, "12345678"}  # "abc" is masked by key only: too short to scrub from text
    result = {"msg": "NM refused password=%s" % CANARY, "warnings": ["x %s y" % CANARY],
              "diff": {"after": "options:\n  password: %s\n" % CANARY}}
    assert CANARY not in json.dumps(redact(result, values))
    assert scrub("a %s b" % CANARY, values) == "a %s b" % MASK


def test_a_hostile_document_does_not_make_the_walk_recurse():
    deep: object = CANARY
    for _level in range(50000):
        deep = {"password": [deep]}
    assert secret_values(deep) == {CANARY}
    assert redact(deep, ()) == {"password": MASK}


CHILD = textwrap.dedent("""
    import json, sys
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.hostnet.nm.plugins.module_utils import ansible_glue
    from ansible_collections.hostnet.nm.plugins.module_utils.errors import HostnetError

    ansible_glue.HostnetModule.log = lambda self, msg, log_args=None: sys.stderr.write("JOURNAL " + msg + "\\n")
    canary, fail = sys.argv[1], sys.argv[2] == "fail"
    doc = {"interfaces": [{"name": "bond0", "link-aggregation": {"options": {"password": canary, "pin": "12"}}}]}

    def action():
        result = {"changed": True, "diff": {"before": {}, "after": doc},
                  "warnings": ["bond0: password=%s is not a bond option" % canary]}
        if fail:
            raise HostnetError("NetworkManager refused password=%s" % canary, result)
        return result

    if sys.argv[2] == "info":  # network_state_info: no parameters, the host's state holds the secret
        with patch_module_args({}):
            ansible_glue.run(ansible_glue.HostnetModule(argument_spec={}),
                             lambda: {"changed": False, "network_state": doc})
    with patch_module_args({"desired_state": doc}):
        module = ansible_glue.HostnetModule(argument_spec={"desired_state": {"type": "dict"}})
        ansible_glue.run(module, action)
""")


@pytest.mark.parametrize("outcome", ["ok", "fail", "info"])
def test_rc12_the_module_glue_never_returns_or_logs_a_secret(outcome):
    """RC-12: the result, its diff and warnings, the failure message and the
    invocation line Ansible logs to the journal carry no secret."""
    proc = subprocess.run([sys.executable, "-c", CHILD, CANARY, outcome], capture_output=True, text=True, check=False,
                          timeout=120, env={"PYTHONPATH": ":".join(sys.path)})
    assert "JOURNAL Invoked" in proc.stderr, proc.stderr
    result = json.loads(proc.stdout)
    if outcome == "info":  # RC-13: the info module masks secrets of the current state
        assert result["network_state"]["interfaces"][0]["link-aggregation"]["options"]["password"] == MASK
        assert CANARY not in proc.stdout + proc.stderr
        return
    assert result["diff"]["after"]["interfaces"][0]["link-aggregation"]["options"] == {"password": MASK, "pin": MASK}
    assert bool(result.get("failed")) == (outcome == "fail")
    assert CANARY not in proc.stdout + proc.stderr


@pytest.mark.parametrize("secret", ["S3cretNUL\x00x", "S3cretCTRL\x07", "S3cret\ud800"])
def test_a_secret_with_a_refused_character_is_never_quoted_even_escaped(secret):
    """A secret's value refused for its characters: the message says why, never the value, neither as
    written nor escaped (repr) - scrubbing by value cannot catch an escaped form."""
    doc = {"interfaces": [{"name": "bond0", "type": "bond", "state": "up", "link-aggregation": {
        "mode": "active-backup", "options": {"password": secret}}}]}
    _doc, errors, _warnings = validation.validate(doc)
    bad = [p for p in errors if p.code == "STRING_INVALID"]
    assert [p.path for p in bad] == ["interfaces[0].link-aggregation.options.password"]
    text = " ".join(p.message + p.hint for p in errors)
    assert "S3cret" not in text and "<hidden>" in bad[0].message
