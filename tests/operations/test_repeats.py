"""Repeating posts keep their local wall time across DST, and say so when they cannot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.errors import UserError
from milton_desktop.operations import posts, repeats
from milton_desktop.operations import repeats as recurrence
from milton_desktop.storage.models import Account, ScheduledPost


@pytest.fixture
def account(db):
    return Account.create(platform="linkedin", display_name="work", username="u", remote_id="u")


def rows(rec):
    return list(rec.schedules.order_by(ScheduledPost.scheduled_time))


def test_weekly_tuesday_ten_stays_ten_across_spring_forward(account):
    clock = FakeClock(datetime(2026, 3, 16, 12, tzinfo=UTC))
    post = posts.add_post("weekly tip")
    rec = repeats.schedule_repeating(
        post.id,
        account,
        datetime(2026, 3, 17, 10, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;BYDAY=TU",
        clock=clock,
    )
    made = rows(rec)
    assert [r.scheduled_time for r in made] == [
        datetime(2026, 3, 17, 9, tzinfo=UTC),  # CET
        datetime(2026, 3, 24, 9, tzinfo=UTC),  # CET
        datetime(2026, 3, 31, 8, tzinfo=UTC),  # CEST: still 10:00 in Paris
    ]
    assert all(r.status == "pending" and r.error_message is None for r in made)


def test_materialising_is_idempotent_and_rolls_forward(account):
    clock = FakeClock(datetime(2026, 3, 16, 12, tzinfo=UTC))
    post = posts.add_post("daily")
    rec = repeats.schedule_repeating(
        post.id, account, datetime(2026, 3, 17, 9, 0), "Europe/Paris", "FREQ=DAILY", clock=clock
    )
    n = len(rows(rec))
    assert recurrence.materialize(clock.now()).created == ()
    assert len(rows(rec)) == n
    clock.advance(timedelta(days=3))
    assert len(recurrence.materialize(clock.now()).pending) == 3
    times = [r.scheduled_time for r in rows(rec)]
    assert len(times) == len(set(times))


def test_occurrence_in_the_spring_gap_goes_out_after_it_and_says_so(account):
    clock = FakeClock(datetime(2026, 3, 27, 12, tzinfo=UTC))
    post = posts.add_post("night owl")
    rec = repeats.schedule_repeating(
        post.id,
        account,
        datetime(2026, 3, 28, 2, 30),
        "Europe/Paris",
        "FREQ=DAILY;COUNT=3",
        clock=clock,
    )
    sat, sun, mon = rows(rec)
    assert sat.scheduled_time == datetime(2026, 3, 28, 1, 30, tzinfo=UTC)
    assert sun.scheduled_time == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert "does not exist" in sun.error_message and "03:30" in sun.error_message
    assert mon.scheduled_time == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST
    assert sat.error_message is None and mon.error_message is None


def test_occurrence_in_the_autumn_fold_takes_the_first_and_says_so(account):
    clock = FakeClock(datetime(2026, 10, 23, 12, tzinfo=UTC))
    post = posts.add_post("fold")
    rec = repeats.schedule_repeating(
        post.id,
        account,
        datetime(2026, 10, 24, 2, 30),
        "Europe/Paris",
        "FREQ=DAILY;COUNT=3",
        clock=clock,
    )
    _, sun, _ = rows(rec)
    assert sun.scheduled_time == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )  # 02:30 CEST, the first one
    assert "happens twice" in sun.error_message


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=SOMETIMES", "FREQ=SOMETIMES is not supported"),
        ("DTSTART:20260101T000000\nFREQ=DAILY", "one RRULE"),
        ("FREQ=MINUTELY", "FREQ=MINUTELY is not supported"),
        ("FREQ=DAILY;UNTIL=20200101T000000", "no occurrence after now"),
    ],
)
def test_bad_rules_are_refused_and_nothing_written(account, rule, message):
    clock = FakeClock(datetime(2026, 3, 16, 12, tzinfo=UTC))
    post = posts.add_post("x")
    with pytest.raises(UserError, match=message):
        repeats.schedule_repeating(
            post.id, account, datetime(2026, 3, 17, 10), "Europe/Paris", rule, clock=clock
        )
    assert ScheduledPost.select().count() == 0


def test_stop_series_cancels_pending_occurrences(account):
    clock = FakeClock(datetime(2026, 3, 16, 12, tzinfo=UTC))
    post = posts.add_post("weekly")
    rec = repeats.schedule_repeating(
        post.id, account, datetime(2026, 3, 17, 10), "Europe/Paris", "FREQ=WEEKLY", clock=clock
    )
    first = rows(rec)[0]
    assert repeats.stop_series(first.id, clock=clock) == 3
    assert {r.status for r in rows(rec)} == {"cancelled"}
    clock.advance(timedelta(days=30))
    assert recurrence.materialize(clock.now()).created == ()


@pytest.mark.sqlite_only("probes the home file's write lock with sqlite3")
def test_expanding_rules_never_holds_the_write_lock(account, monkeypatch):
    """`schedule --repeat` once held the database for 17 s while it expanded rules:
    every other process (the scheduler recording a result) waited, then failed."""
    import sqlite3

    from milton_desktop.storage.models import database

    clock = FakeClock(datetime(2026, 3, 16, 12, tzinfo=UTC))
    writable_while_expanding = []
    real = recurrence.occurrences

    def probing(*args, **kwargs):
        other = sqlite3.connect(database.database, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")  # what another process's write would need
            other.rollback()
            writable_while_expanding.append(True)
        except sqlite3.OperationalError:
            writable_while_expanding.append(False)
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(recurrence, "occurrences", probing)
    rec = repeats.schedule_repeating(
        posts.add_post("new").id,
        account,
        datetime(2026, 3, 18, 15, 0),
        "Europe/Paris",
        "FREQ=WEEKLY",
        clock=clock,
    )
    assert rows(rec)  # its occurrences exist when the command returns
    assert writable_while_expanding
    assert all(writable_while_expanding)
