# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Messages of a failed run stay short, whatever the host holds (many routes on one interface)."""

from __future__ import annotations

from ansible_collections.hostnet.nm.plugins.module_utils import transaction


def test_a_verification_message_quotes_the_first_mismatches_and_counts_the_rest():
    problems = [{"what": "routes[%d]" % i, "desired": "198.18.%d.0/24" % i, "actual": None} for i in range(150)]
    text = transaction.mismatch_summary(problems)
    assert text.count("desired") == transaction.SHOWN_MISMATCHES
    assert text.endswith("and 145 more (the result's mismatches lists them)")
    assert "routes[4]: desired '198.18.4.0/24', actual None" in text and "routes[5]" not in text


def test_a_huge_value_in_a_mismatch_is_cut():
    text = transaction.mismatch_summary(
        [{"what": "interfaces[eth1].ipv4", "desired": {"address": ["x"] * 1000}, "actual": "y" * 100000}])
    assert len(text) < 400 and "100000 characters" in text
