"""Repeat rules are checked when they are made, and every check ends quickly: no rule
can make the scheduler (or the command that creates it) spin."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.recurrence import RecurrenceError, check_rule, missed_occurrences

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


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=HOURLY;INTERVAL=6;BYMONTH=4;BYMONTHDAY=31",
        "FREQ=HOURLY;INTERVAL=5;BYMONTH=2;BYMONTHDAY=31",
        "FREQ=WEEKLY;INTERVAL=3;BYMONTH=11;BYMONTHDAY=31",
        "FREQ=DAILY;INTERVAL=7;BYDAY=WE",  # every seventh day from a Tuesday is a Tuesday
        "FREQ=MONTHLY;INTERVAL=12;BYMONTH=2",  # every December
        "FREQ=HOURLY;BYHOUR=9;BYSETPOS=3",
        "FREQ=DAILY;COUNT=3;BYMONTH=6;BYMONTHDAY=31",
        "FREQ=HOURLY;INTERVAL=168;BYDAY=WE",  # a week of hours from a Tuesday
    ],
)
def test_a_rule_no_date_ever_matches_is_refused_without_a_search_to_the_year_9999(rule):
    # dateutil alone takes from seconds to minutes on these, looking until 9999
    assert "no occurrence after now, or ever" in _verdict(rule)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29",  # leap days: the next one is in 2028
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
        "FREQ=MONTHLY;BYMONTHDAY=31",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR",
        "FREQ=HOURLY;INTERVAL=48;BYDAY=WE",  # Tuesday, Thursday, Saturday, Monday, Wednesday
    ],
)
def test_rare_but_possible_rules_pass(rule):
    assert _verdict(rule) == "ok"


def test_missed_occurrences_lists_the_first_and_counts_the_rest_across_dst():
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    end = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    missed = missed_occurrences(
        "FREQ=DAILY", datetime(2026, 2, 20, 10, 0), "Europe/Paris", start, end, listed=10
    )
    assert missed.total == 92  # March, April and May
    assert len(missed.listed) == 10 and missed.more == 82 and not missed.more_at_least
    assert missed.listed[0] == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # 10:00 CET
    assert missed.more_first == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)
    assert missed.more_last == datetime(2026, 5, 31, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert {t.astimezone(paris).hour for t in missed.listed} == {10}


def test_one_more_is_simply_listed():
    start = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    missed = missed_occurrences(
        "FREQ=DAILY", datetime(2026, 3, 1, 10, 0), "UTC", start, start + timedelta(days=4), listed=3
    )
    assert (len(missed.listed), missed.more, missed.more_first) == (4, 0, None)


def test_counting_a_very_long_time_off_is_bounded(monkeypatch):
    from milton_desktop.domain import recurrence

    monkeypatch.setattr(recurrence, "MAX_GAP_SCAN", 500)
    start = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    missed = missed_occurrences(
        "FREQ=HOURLY;INTERVAL=2",
        datetime(2026, 1, 1, 0, 0),
        "UTC",
        start,
        start + timedelta(days=3650),
    )
    assert missed.more_at_least and missed.total <= 500
