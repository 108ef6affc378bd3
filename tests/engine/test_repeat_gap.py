"""Repeats after a long time off, and repeats that stop, over a real SQLite file with the
real engine and a fake clock: every occurrence that passed is accounted for, the next
one is planned at its local time, and a rule that cannot go on says so."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from milton_desktop.domain.recurrence import MISSED_ROWS
from milton_desktop.engine.machine import last_result_id, outcomes_since
from milton_desktop.operations import posts, repeats
from milton_desktop.storage import queries
from milton_desktop.storage.models import Recurrence, ScheduledPost

PARIS = ZoneInfo("Europe/Paris")
#: two weeks before the clocks go forward in Paris (29 March 2026)
MID_MARCH = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _daily(clock, account, text="daily tip"):
    """A daily repeat at 10:00 Paris from tomorrow; returns (recurrence, first local time)."""
    post = posts.add_post(text)
    first = datetime.combine(
        clock.now().astimezone(PARIS).date() + timedelta(days=1), datetime.min.time()
    )
    first = first.replace(hour=10)
    rec = repeats.schedule_repeating(
        post.id, account, first, "Europe/Paris", "FREQ=DAILY", clock=clock
    )
    return rec, first


def _tens(first_local: datetime, before: datetime) -> list[datetime]:
    """Every 10:00 Paris from ``first_local`` on, as UTC instants before ``before``,
    worked out day by day without the product's code."""
    out, day = [], first_local
    while (instant := day.replace(tzinfo=PARIS).astimezone(UTC)) < before:
        out.append(instant)
        day += timedelta(days=1)
    return out


def _rows(rec, status=None):
    query = ScheduledPost.select().where(ScheduledPost.recurrence == rec.id)
    if status is not None:
        query = query.where(ScheduledPost.status == status)
    return list(query.order_by(ScheduledPost.scheduled_time))


def test_thirty_days_off_every_daily_occurrence_is_missed_and_the_next_is_at_ten(
    engine, clock, account, scripted
):
    clock.set(MID_MARCH)
    rec, first = _daily(clock, account)
    clock.advance(timedelta(days=30))  # 9 April, 14:00 in Paris: the clocks went forward
    outcomes = engine.publish_due()

    expected = _tens(first, clock.now())
    assert len(expected) == 30
    missed = _rows(rec, "missed")
    assert [r.scheduled_time for r in missed] == expected
    assert all("Publish it now, reschedule it, or skip it" in r.error_message for r in missed)
    told = {o.schedule_id for o in outcomes if o.status == "missed"}
    assert told == {r.id for r in missed}  # the tray hears of every one
    assert scripted.calls == []  # nothing went out weeks late

    upcoming = _rows(rec, "pending")
    assert upcoming[0].scheduled_time == datetime(2026, 4, 10, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert all(r.scheduled_time.astimezone(PARIS).hour == 10 for r in upcoming)
    assert len(upcoming) == 21  # a horizon ahead again
    # nothing in between was lost or made twice
    assert [r.scheduled_time for r in _rows(rec)] == _tens(
        first, upcoming[-1].scheduled_time + timedelta(seconds=1)
    )

    # the calendar reads the same rows
    _accounts, cal = queries.calendar_rows(MID_MARCH, clock.now() + timedelta(days=1))
    assert sum(1 for row in cal if row[4] == "missed") == 30


def test_an_occurrence_within_the_grace_window_still_goes_out_after_a_long_time_off(
    engine, clock, account, scripted
):
    clock.set(MID_MARCH)
    rec, _first = _daily(clock, account)
    # 9 April 11:00 in Paris: that morning's 10:00 is an hour late, within the grace window
    clock.set(datetime(2026, 4, 9, 9, 0, tzinfo=UTC))
    engine.publish_due()
    published = _rows(rec, "published")
    assert [r.scheduled_time for r in published] == [datetime(2026, 4, 9, 8, 0, tzinfo=UTC)]
    assert len(scripted.calls) == 1
    assert len(_rows(rec, "missed")) == 29
    assert _rows(rec, "pending")[0].scheduled_time == datetime(2026, 4, 10, 8, 0, tzinfo=UTC)


def test_months_off_lists_the_first_occurrences_and_one_entry_counts_the_rest(
    engine, clock, account, scripted
):
    clock.set(MID_MARCH)
    rec, first = _daily(clock, account)
    clock.advance(timedelta(days=200))
    outcomes = engine.publish_due()

    expected = _tens(first, clock.now() - timedelta(hours=2))
    missed = _rows(rec, "missed")
    # the 21 rows that existed when the computer went off, then MISSED_ROWS more, then one
    listed = 21 + MISSED_ROWS
    assert [r.scheduled_time for r in missed] == expected[: listed + 1]
    summary = missed[-1]
    rest = len(expected) - listed
    assert rest > 100
    assert re.search(
        rf"\b{rest} more occurrences of this repeat were missed", summary.error_message
    )
    first_local, last_local = expected[listed].astimezone(PARIS), expected[-1].astimezone(PARIS)
    assert f"from {first_local:%a %d %b %Y} 10:00" in summary.error_message
    assert f"to {last_local:%a %d %b %Y} 10:00" in summary.error_message
    assert "skip them all" in summary.error_message
    assert summary.id in {o.schedule_id for o in outcomes}
    assert len(missed) - 1 + rest == len(expected)  # every occurrence accounted for
    assert _rows(rec, "pending")[0].scheduled_time.astimezone(PARIS).hour == 10
    assert scripted.calls == []

    # the one entry is a missed post like the others: skipping it skips them all
    from milton_desktop.operations import schedules

    assert schedules.cancel(summary.id, clock=clock).status == "cancelled"


def test_coming_back_twice_makes_nothing_twice(engine, clock, account):
    clock.set(MID_MARCH)
    rec, _first = _daily(clock, account)
    clock.advance(timedelta(days=40))
    engine.publish_due()
    before = [(r.scheduled_time, r.status) for r in _rows(rec)]
    engine.publish_due()
    clock.advance(timedelta(minutes=5))
    engine.publish_due()
    assert [(r.scheduled_time, r.status) for r in _rows(rec)] == before


# ---------------------------------------------------------------- rules that stop


def _stored(account, rrule, *, dtstart="2026-01-07T10:00:00", zone="Europe/Paris", text="stored"):
    """A rule written straight into the database, as an older version (or a hand) did:
    the checks made when a repeat is created never saw it."""
    post = posts.add_post(text)
    return Recurrence.create(
        post=post, account=account, rrule=rrule, dtstart_local=dtstart, timezone=zone
    )


@pytest.mark.parametrize(
    ("rrule", "dtstart", "zone", "why"),
    [
        ("FREQ=DAILY;INTERVAL=0", "2026-01-07T10:00:00", "Europe/Paris", "INTERVAL must be"),
        ("FREQ=SECONDLY", "2026-01-07T10:00:00", "Europe/Paris", "FREQ=SECONDLY is not supported"),
        (
            "FREQ=MINUTELY;INTERVAL=5",
            "2026-01-07T10:00:00",
            "UTC",
            "FREQ=MINUTELY is not supported",
        ),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "2026-01-07T10:00:00", "UTC", "no occurrence"),
        (
            "FREQ=HOURLY;INTERVAL=5;BYMONTH=2;BYMONTHDAY=31",
            "2026-01-07T10:00:00",
            "UTC",
            "no occurrence",
        ),
        ("FREQ=HOURLY", "2026-01-07T10:00:00", "UTC", "more than 200 times"),
        ("FREQ=DAILY", "2026-01-07T10:00:00", "Mars/Olympus_Mons", "unknown time zone"),
        ("FREQ=DAILY", "next tuesday", "UTC", "cannot be read"),
        ("FREQ=DAILY", "2026-01-07T10:00:00+02:00", "UTC", "carries an offset"),
    ],
)
def test_a_stored_rule_that_cannot_go_on_stops_and_says_why(
    engine, clock, account, scripted, rrule, dtstart, zone, why
):
    healthy = posts.add_post("healthy repeat")
    good = repeats.schedule_repeating(
        healthy.id, account, datetime(2026, 1, 6, 10, 30), "UTC", "FREQ=DAILY", clock=clock
    )
    bad = _stored(account, rrule, dtstart=dtstart, zone=zone)
    clock.advance(timedelta(hours=2))  # the healthy one's first occurrence is due

    outcomes = engine.publish_due()

    stops = [o for o in outcomes if o.repeat_stopped]
    assert len(stops) == 1
    stop = stops[0]
    assert stop.status == "failed"
    assert stop.message.startswith(f"the repeat of post {bad.post_id}")
    assert why in stop.message
    assert "Schedule the post again with a corrected repeat rule" in stop.message
    assert not Recurrence.get_by_id(bad.id).active
    (marker,) = _rows(bad)
    assert (marker.id, marker.status, marker.error_message) == (
        stop.schedule_id,
        "failed",
        stop.message,
    )
    listed = queries.stopped_repeats()
    assert [(s["schedule_id"], s["post_id"], s["reason"]) for s in listed] == [
        (marker.id, bad.post_id, stop.message)
    ]
    # one bad rule never holds the others back
    assert _rows(good)[0].status == "published"
    assert scripted.calls[0][0] == "healthy repeat"

    # told once: the next passes leave the stopped rule alone
    clock.advance(timedelta(days=2))
    assert not [o for o in engine.publish_due() if o.repeat_stopped]
    assert len(_rows(bad)) == 1


def test_a_rule_that_stops_keeps_what_was_already_scheduled_and_says_until_when(
    engine, clock, account, scripted
):
    clock.set(MID_MARCH)
    rec, _first = _daily(clock, account)
    last = _rows(rec, "pending")[-1]
    # an older version rewrites the rule to one this version refuses, and a day passes
    Recurrence.update(rrule="FREQ=SECONDLY").where(Recurrence.id == rec.id).execute()
    clock.advance(timedelta(days=2))
    (stop,) = [o for o in engine.publish_due() if o.repeat_stopped]
    local = last.scheduled_time.astimezone(PARIS)
    assert (
        f"up to {local:%a %d %b %Y %H:%M} (Europe/Paris), still go out; none after" in stop.message
    )
    assert _rows(rec, "pending")[-1].id == last.id  # kept, and still going out


def test_a_rule_too_dense_for_the_product_stops_when_it_becomes_so(engine, clock, account):
    # every two hours in June only: nothing for months, so it passed its checks in January
    post = posts.add_post("june")
    rec = repeats.schedule_repeating(
        post.id,
        account,
        datetime(2026, 1, 7, 10),
        "UTC",
        "FREQ=HOURLY;INTERVAL=2;BYMONTH=6",
        clock=clock,
    )
    for _ in range(160):  # the scheduler runs every day
        clock.advance(timedelta(days=1))
        told = [o for o in engine.publish_due() if o.repeat_stopped]
        if told:
            break
    assert told, "the rule was never stopped"
    assert "more than 200 times in 21 days" in told[0].message
    assert date(2026, 5, 10) <= clock.now().date() <= date(2026, 6, 1)
    assert not Recurrence.get_by_id(rec.id).active


def test_a_window_following_another_process_hears_of_a_stopped_repeat(engine, account):
    seen = last_result_id()
    bad = _stored(account, "FREQ=DAILY;INTERVAL=0")
    engine.publish_due()  # the other process's scheduler
    _high, outcomes = outcomes_since(seen)
    assert [(o.repeat_stopped, o.status, o.schedule_id) for o in outcomes] == [
        (True, "failed", _rows(bad)[0].id)
    ]


def test_a_new_repeat_of_the_post_settles_the_stop(engine, clock, account):
    bad = _stored(account, "FREQ=DAILY;INTERVAL=0")
    engine.publish_due()
    assert len(queries.stopped_repeats()) == 1
    clock.advance(timedelta(minutes=1))
    repeats.schedule_repeating(
        bad.post_id, account, datetime(2026, 1, 8, 10), "UTC", "FREQ=DAILY", clock=clock
    )
    assert queries.stopped_repeats() == []


def test_leaving_a_stopped_repeat_stopped_settles_it(engine, account):
    bad = _stored(account, "FREQ=DAILY;INTERVAL=0")
    engine.publish_due()
    (stop,) = queries.stopped_repeats()
    assert repeats.stop_series(stop["schedule_id"]) == 0  # nothing was pending
    assert queries.stopped_repeats() == []
    assert _rows(bad)[0].status == "cancelled"
