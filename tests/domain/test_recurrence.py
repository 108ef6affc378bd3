"""Repeat rules are checked when they are made, and every check ends quickly: no rule
can make the scheduler (or the command that creates it) spin."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from milton_desktop.domain.recurrence import RecurrenceError, check_rule

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SOON = datetime(2026, 12, 8, 10, 0)  # naive local time, Europe/Paris


def _verdict(rule: str, start: datetime = SOON) -> str:
    """check_rule's answer, from a thread it must leave within seconds."""
    result: list[str] = []

    def run() -> None:
        try:
            check_rule(rule, start, "Europe/Paris", NOW)
            result.append("ok")
        except RecurrenceError as exc:
            result.append(str(exc))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    assert result, f"checking {rule!r} from {start} did not finish"
    return result[0]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=WEEKLY;INTERVAL=-2", "INTERVAL must be a whole number of at least 1"),
        ("FREQ=DAILY;COUNT=0", "COUNT must be a whole number of at least 1"),
        ("FREQ=SECONDLY", "FREQ=SECONDLY is not supported"),
        ("FREQ=MINUTELY;INTERVAL=30", "FREQ=MINUTELY is not supported"),
        ("BYDAY=TU", "FREQ=? is not supported"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "no occurrence after now"),
        ("FREQ=YEARLY;COUNT=3;BYMONTH=2;BYMONTHDAY=31", "no occurrence after now"),
        ("FREQ=HOURLY", "repeats more than 200 times"),
    ],
)
def test_rules_that_could_never_work_are_refused_at_once(rule, expected):
    assert expected in _verdict(rule)


def test_a_start_absurdly_far_away_is_refused_before_any_expansion():
    assert "more than a year ago" in _verdict("FREQ=HOURLY", datetime(1, 1, 1, 0, 0))
    assert "more than a hundred years away" in _verdict("FREQ=DAILY", datetime(9999, 1, 1, 0, 0))


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=TU",
        "FREQ=DAILY;INTERVAL=2",
        "FREQ=HOURLY;INTERVAL=6",
        "FREQ=MONTHLY;COUNT=3",
    ],
)
def test_ordinary_rules_pass(rule):
    assert _verdict(rule) == "ok"
