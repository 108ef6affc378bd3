"""One vocabulary of statuses, and the sets that share a rule."""

from __future__ import annotations

import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import (
    CANCELLABLE,
    FINAL,
    LIVE,
    MOVABLE,
    NEEDS_ATTENTION,
    Status,
    parse_status,
)


def test_statuses_are_the_words_stored_and_printed():
    assert [s.value for s in Status] == [
        "pending",
        "publishing",
        "published",
        "failed",
        "uncertain",
        "missed",
        "cancelled",
        "awaiting_approval",
    ]
    assert Status.PENDING == "pending" and f"{Status.MISSED}" == "missed"


def test_the_sets_follow_the_state_machine():
    # nothing can be cancelled or moved once it started going out or is history
    assert not (CANCELLABLE | MOVABLE) & ({Status.PUBLISHING} | FINAL | {Status.UNCERTAIN})
    # what blocks removing an account is what may still reach the platform
    # (a post awaiting approval still may, once a member approves it)
    assert {
        Status.PENDING,
        Status.PUBLISHING,
        Status.MISSED,
        Status.UNCERTAIN,
        Status.AWAITING_APPROVAL,
    } == LIVE
    assert NEEDS_ATTENTION.isdisjoint(FINAL)
    assert set(Status) == LIVE | FINAL | {Status.FAILED}


def test_parse_status_names_the_choices():
    assert parse_status("missed") is Status.MISSED
    with pytest.raises(UserError, match="unknown status 'done': choose one of pending, publishing"):
        parse_status("done")
