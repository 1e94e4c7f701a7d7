# -*- coding: utf-8 -*-
# Copyright: hostnet.nm contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host lock and a change waiting for its confirmation (issue 20 item 3): plain files, no D-Bus."""

from __future__ import annotations

import pytest

from ansible_collections.hostnet.nm.plugins.module_utils.errors import ConflictError
from ansible_collections.hostnet.nm.plugins.module_utils.nm.ledger import (DEFAULT_WINDOW, EXPIRY_GRACE,
                                                                           PendingConfirmation, pending_until)
from ansible_collections.hostnet.nm.plugins.module_utils.transaction import HostLock

RECORD = {"path": "/org/freedesktop/NetworkManager/Checkpoint/7", "state": "pending-confirm", "pid": 1,
          "created": 1000.0, "timeout": 60, "apply_id": "abc"}


@pytest.mark.parametrize("timeout, until", [(60, 1000 + 60 + EXPIRY_GRACE), (0, 1000 + DEFAULT_WINDOW + EXPIRY_GRACE)])
def test_pending_change_holds_the_host_until_its_window_ends(timeout, until):
    assert pending_until(dict(RECORD, timeout=timeout)) == until


def test_pending_confirmation_names_the_change_and_the_way_out():
    exc = PendingConfirmation(RECORD, 0)
    assert isinstance(exc, ConflictError) and exc.kind == "conflict"
    assert RECORD["path"] in exc.message and "apply abc" in exc.message
    assert "waiting for its confirmation" in exc.message and "set lock_timeout" in exc.message
    assert exc.result == {"pending_checkpoint": RECORD["path"]}


def test_acquire_returns_what_the_check_found_under_the_lock(tmp_path):
    lock = HostLock(0, str(tmp_path / "lock"))
    assert lock.acquire(lambda: ("group", ["note"])) == ("group", ["note"])
    with pytest.raises(ConflictError, match="another hostnet.nm run is applying"):
        HostLock(0, str(tmp_path / "lock")).acquire()
    lock.release()
    HostLock(0, str(tmp_path / "lock")).acquire()


def test_a_pending_change_refuses_without_lock_timeout_and_leaves_the_lock_free(tmp_path):
    def pending():
        raise PendingConfirmation(RECORD, 0)

    with pytest.raises(PendingConfirmation):
        HostLock(0, str(tmp_path / "lock")).acquire(pending)
    HostLock(0, str(tmp_path / "lock")).acquire()   # never kept while refusing


def test_with_lock_timeout_the_run_waits_until_the_change_is_confirmed(tmp_path):
    answers = [PendingConfirmation(RECORD, 0), PendingConfirmation(RECORD, 0), "free"]

    def check():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert HostLock(30, str(tmp_path / "lock")).acquire(check) == "free"
    assert answers == []
