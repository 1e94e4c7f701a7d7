# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transaction parts that need no host: short messages of a failed run (many routes on one
interface), and the upkeep of the checkpoint's window during a long apply."""

from __future__ import annotations

from ansible_collections.hostnet.nm.plugins.module_utils import change


def test_a_verification_message_quotes_the_first_mismatches_and_counts_the_rest():
    problems = [{"what": "routes[%d]" % i, "desired": "198.18.%d.0/24" % i, "actual": None} for i in range(150)]
    text = change.mismatch_summary(problems)
    assert text.count("desired") == change.SHOWN_MISMATCHES
    assert text.endswith("and 145 more (the result's mismatches lists them)")
    assert "routes[4]: desired '198.18.4.0/24', actual None" in text and "routes[5]" not in text


def test_a_huge_value_in_a_mismatch_is_cut():
    text = change.mismatch_summary(
        [{"what": "interfaces[eth1].ipv4", "desired": {"address": ["x"] * 1000}, "actual": "y" * 100000}])
    assert len(text) < 400 and "100000 characters" in text


class _Checkpoint:
    """Plain stand-in for the checkpoint's window arithmetic (no D-Bus): records each restart."""

    def __init__(self, there=True):
        self.adjusted, self.there = [], there

    def exists(self):
        return self.there

    def adjust(self, timeout):
        self.adjusted.append(timeout)


def test_a_long_apply_moves_the_window_on_before_it_ends_and_only_then():
    cp = _Checkpoint()
    undo = change.Undo(cp, None, {}, 60)
    assert undo.keep_window(60) is True and cp.adjusted == []   # most of the window is left: no D-Bus call
    undo.window_end -= 45                                         # 15 s left of 60
    assert undo.keep_window(60) is True
    assert cp.adjusted == [60] and undo.window_end > change.time.monotonic() + 59


def test_no_write_once_the_checkpoint_is_gone():
    cp = _Checkpoint(there=False)
    undo = change.Undo(cp, None, {}, 60)
    undo.window_end -= 59                         # its window ran out while the run could not write
    assert undo.keep_window(60) is False and cp.adjusted == []


def test_a_group_checkpoints_window_is_its_owners():
    cp = _Checkpoint()
    undo = change.Undo(cp, None, {}, 0)
    undo.window_end = float("inf")
    assert undo.keep_window(60) is True and cp.adjusted == []
