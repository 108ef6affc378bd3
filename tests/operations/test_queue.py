"""The queue: an account's weekly slots and the next free one, on a real database file."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.domain.status import Status
from milton_desktop.operations import posts, queue, schedules
from milton_desktop.storage import settings
from milton_desktop.storage.models import Account, QueueSlot, ScheduledPost, database
from tests.operations.helpers import NOW, set_status

# NOW is Sunday 10 January 2027, 09:00 UTC
MONDAY = datetime(2027, 1, 11, tzinfo=UTC)


def at(day_offset: int, hh: int, mm: int = 0) -> datetime:
    return MONDAY + timedelta(days=day_offset, hours=hh, minutes=mm)


@pytest.fixture
def work(accounts) -> Account:
    acc = accounts["linkedin"]
    queue.set_queue(acc, ["MO,WE,FR 09:00", "TU,TH 13:30"], timezone="UTC")
    return acc


def test_the_queue_is_shown_with_its_next_free_slots(work, clock):
    view = queue.show_queue(work.display_name, clock=clock)
    assert view.as_json() == {
        "account": "Work LinkedIn",
        "timezone": "UTC",
        "slots": [
            {"day": "MO", "time": "09:00"},
            {"day": "TU", "time": "13:30"},
            {"day": "WE", "time": "09:00"},
            {"day": "TH", "time": "13:30"},
            {"day": "FR", "time": "09:00"},
        ],
        "next": [
            "2027-01-11T09:00:00Z",
            "2027-01-12T13:30:00Z",
            "2027-01-13T09:00:00Z",
            "2027-01-14T13:30:00Z",
            "2027-01-15T09:00:00Z",
            "2027-01-18T09:00:00Z",
            "2027-01-19T13:30:00Z",
            "2027-01-20T09:00:00Z",
            "2027-01-21T13:30:00Z",
            "2027-01-22T09:00:00Z",
        ],
        "skipped": [],
    }
    assert view.own_zone


def test_next_slot_fills_a_week_of_slots_in_order(work, clock):
    post = posts.add_post("queued")
    rows = [queue.schedule_next_slot(post.id, work, clock=clock) for _ in range(6)]
    assert [r.scheduled_time for r in rows] == [
        at(0, 9),
        at(1, 13, 30),
        at(2, 9),
        at(3, 13, 30),
        at(4, 9),
        at(7, 9),
    ]
    assert len({r.id for r in rows}) == 6
    assert all(r.status == Status.PENDING and r.timezone == "UTC" for r in rows)
    assert all(r.next_attempt_at == r.scheduled_time for r in rows)
    # what is left free starts after them
    assert queue.show_queue(work, clock=clock).next[0] == at(8, 13, 30)


def test_a_slot_taken_by_a_post_on_its_way_or_gone_out_is_skipped(work, accounts, clock):
    post = posts.add_post("taken")
    for when, status in ((at(0, 9), Status.PENDING), (at(1, 13, 30), Status.PUBLISHED)):
        row = schedules.schedule(post.id, work, when, clock=clock)
        set_status(row, status)
    publishing = schedules.schedule(post.id, work, at(2, 9, 0) + timedelta(seconds=20), clock=clock)
    set_status(publishing, Status.PUBLISHING)
    # another account's post, and posts that went nowhere, hold no slot of this one
    schedules.schedule(post.id, accounts["x"], at(3, 13, 30), clock=clock)
    for status in (Status.CANCELLED, Status.FAILED, Status.MISSED):
        set_status(schedules.schedule(post.id, work, at(3, 13, 30), clock=clock), status)
    row = queue.schedule_next_slot(post.id, work, clock=clock)
    assert row.scheduled_time == at(3, 13, 30)


def test_the_next_slot_is_at_least_a_minute_away(work, clock):
    post = posts.add_post("soon")
    clock.set(
        at(
            0,
            8,
            59,
        )
        + timedelta(seconds=30)
    )  # 30 s before Monday 09:00
    assert queue.schedule_next_slot(post.id, work, clock=clock).scheduled_time == at(1, 13, 30)
    clock.set(
        at(
            2,
            8,
            58,
        )
        + timedelta(seconds=59)
    )  # 61 s before
    assert queue.schedule_next_slot(post.id, work, clock=clock).scheduled_time == at(2, 9)


def test_no_slots_says_how_to_add_them(accounts, clock):
    post = posts.add_post("nowhere")
    with pytest.raises(UserError, match="has no queue slots") as refused:
        queue.schedule_next_slot(post.id, accounts["x"], clock=clock)
    assert refused.value.hint == Hint.SET_QUEUE
    assert ScheduledPost.select().count() == 0


def test_a_post_the_platform_would_refuse_is_not_queued(work, clock):
    post = posts.add_post("x" * 4000)  # longer than LinkedIn takes
    with pytest.raises(UserError, match="cannot schedule to LinkedIn"):
        queue.schedule_next_slot(post.id, work, clock=clock)
    assert ScheduledPost.select().count() == 0


def test_set_replaces_the_slots_and_clear_removes_them(work, clock):
    view = queue.set_queue(work, ["SA 10:00"], clock=clock)
    assert [str(s) for s in view.slots] == ["SA 10:00"]
    assert view.timezone == "UTC"  # the zone given before stays
    assert queue.clear_queue(work) == 1
    assert queue.show_queue(work, clock=clock).slots == ()
    assert queue.show_queue(work, clock=clock).next == ()


def test_bad_slots_and_zones_change_nothing(work, clock):
    before = list(QueueSlot.select().where(QueueSlot.account == work.id))
    with pytest.raises(UserError, match="names no day"):
        queue.set_queue(work, ["MO 09:00", "XY 10:00"])
    with pytest.raises(UserError, match="unknown time zone 'Nowhere/City'"):
        queue.set_queue(work, ["MO 09:00"], timezone="Nowhere/City")
    with pytest.raises(UserError, match="unknown time zone"):
        queue.set_account_zone(work, "Nowhere/City")
    assert list(QueueSlot.select().where(QueueSlot.account == work.id)) == before
    assert Account.get_by_id(work.id).timezone == "UTC"


def test_an_account_without_a_zone_follows_the_apps(accounts, clock):
    acc = accounts["x"]
    settings.set_value("timezone", "Asia/Tokyo")
    view = queue.set_queue(acc, ["MO 09:00"], clock=clock)
    assert (view.timezone, view.own_zone) == ("Asia/Tokyo", False)
    assert view.next[0] == at(0, 0)  # 09:00 in Tokyo is midnight UTC
    queue.set_account_zone(acc, "America/New_York")
    assert queue.show_queue(acc, clock=clock).next[0] == at(0, 14)
    queue.set_account_zone(acc, None)
    assert queue.show_queue(acc, clock=clock).timezone == "Asia/Tokyo"


def test_next_slot_in_two_zones_across_the_spring_change(accounts):
    """Queued week after week, 09:00 stays 09:00 local in each zone while UTC moves,
    and a slot inside the gap is skipped that Sunday."""
    from milton_desktop.domain.clock import FakeClock

    clock = FakeClock(datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    paris, new_york = accounts["linkedin"], accounts["x"]
    queue.set_queue(paris, ["MO 09:00", "SU 02:30"], timezone="Europe/Paris")
    queue.set_queue(new_york, ["MO 09:00", "SU 02:30"], timezone="America/New_York")
    post = posts.add_post("weekly")

    def fill(acc, n):
        return [
            queue.schedule_next_slot(post.id, acc, clock=clock).scheduled_time for _ in range(n)
        ]

    assert fill(paris, 10) == [
        datetime(2026, 3, 1, 1, 30, tzinfo=UTC),  # SU 02:30 CET
        datetime(2026, 3, 2, 8, tzinfo=UTC),
        datetime(2026, 3, 8, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 9, 8, tzinfo=UTC),
        datetime(2026, 3, 15, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 16, 8, tzinfo=UTC),
        datetime(2026, 3, 22, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 23, 8, tzinfo=UTC),
        # 29 March: 02:30 does not exist in Paris; Monday 09:00 is now 07:00 UTC
        datetime(2026, 3, 30, 7, tzinfo=UTC),
        datetime(2026, 4, 5, 0, 30, tzinfo=UTC),  # SU 02:30 CEST
    ]
    assert fill(new_york, 5) == [
        datetime(2026, 3, 1, 7, 30, tzinfo=UTC),  # SU 02:30 EST
        datetime(2026, 3, 2, 14, tzinfo=UTC),
        # 8 March: 02:30 does not exist in New York; Monday 09:00 is now 13:00 UTC
        datetime(2026, 3, 9, 13, tzinfo=UTC),
        datetime(2026, 3, 15, 6, 30, tzinfo=UTC),  # SU 02:30 EDT
        datetime(2026, 3, 16, 13, tzinfo=UTC),
    ]
    shown = queue.show_queue(paris, clock=clock)
    assert [(k.date.isoformat(), str(k.slot)) for k in shown.skipped] == [
        ("2026-03-29", "SU 02:30")
    ]
    assert "the clocks in Europe/Paris jump from 02:00 to 03:00" in shown.skipped[0].reason


def test_a_slot_in_the_autumn_fold_takes_one_post(accounts):
    from milton_desktop.domain.clock import FakeClock

    clock = FakeClock(datetime(2026, 10, 24, 12, tzinfo=UTC))
    acc = accounts["linkedin"]
    queue.set_queue(acc, ["SU 02:30"], timezone="Europe/Paris")
    post = posts.add_post("fold")
    first = queue.schedule_next_slot(post.id, acc, clock=clock)
    second = queue.schedule_next_slot(post.id, acc, clock=clock)
    # 02:30 happens twice that night; the slot is the first, and the next post goes a week on
    assert first.scheduled_time == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second.scheduled_time == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_a_drop_on_a_free_slot_schedules_there_and_a_taken_one_is_refused(work, clock):
    post = posts.add_post("dropped")
    row = queue.schedule_in_slot(post.id, work, at(2, 9), clock=clock)
    assert row.scheduled_time == at(2, 9)
    with pytest.raises(UserError, match="was just taken"):
        queue.schedule_in_slot(post.id, work, at(2, 9), clock=clock)
    with pytest.raises(UserError, match="is not a queue slot"):
        queue.schedule_in_slot(post.id, work, at(2, 10), clock=clock)
    assert ScheduledPost.select().count() == 1


def test_free_slots_for_the_calendar_leave_out_taken_and_past_ones(work, accounts, clock):
    queue.set_queue(accounts["x"], ["MO 10:00"], timezone="Europe/Paris")
    post = posts.add_post("taken")
    schedules.schedule(post.id, work, at(1, 13, 30), clock=clock)
    clock.set(at(0, 9, 30))
    free = queue.free_slots_between(MONDAY, MONDAY + timedelta(days=3), clock=clock)
    assert [(f.account_id, f.at) for f in free] == [
        (work.id, at(2, 9)),
    ]
    free = queue.free_slots_between(
        MONDAY + timedelta(days=7), MONDAY + timedelta(days=8), clock=clock
    )
    assert [(f.account_id, f.at) for f in free] == [
        (work.id, at(7, 9)),
        (accounts["x"].id, at(7, 9)),  # 10:00 in Paris
    ]


@pytest.mark.sqlite_only("SQLite's deferred foreign keys; a timing of the home file")
def test_next_slot_stays_fast_with_a_hundred_thousand_schedules(work, accounts, clock):
    post = posts.add_post("busy")
    # a year and more of this account's slots taken, and many other rows around them
    base = queue.show_queue(work, count=1, clock=clock).next[0]
    rows = []
    times = queue._search(work.id, queue.slots_of(work.id), "UTC", base, 200)
    for k, when in enumerate(times):
        rows.append((post.id, work.id, when, Status.PUBLISHED if k % 2 else Status.PENDING))
    other = accounts["x"].id
    for k in range(100_000 - len(rows)):
        rows.append((post.id, other, NOW + timedelta(minutes=7 * k), Status.PENDING))
    with database.atomic():
        database.execute_sql("PRAGMA defer_foreign_keys = ON")
        database.cursor().executemany(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status,"
            " attempts, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, 'UTC', ?, 0,"
            " ?, ?, ?)",
            [
                (p, a, ScheduledPost.scheduled_time.db_value(w), s)
                + (ScheduledPost.scheduled_time.db_value(w),)
                + (ScheduledPost.created_at.db_value(NOW),) * 2
                for p, a, w, s in rows
            ],
        )
    plan = " ".join(
        str(r[-1])
        for r in database.execute_sql(
            "EXPLAIN QUERY PLAN SELECT scheduled_time FROM scheduled_posts WHERE account_id = ?"
            " AND scheduled_time >= ? AND scheduled_time < ? AND status IN ('pending')",
            (work.id, "a", "b"),
        )
    )
    assert "scheduled_posts_account_id_scheduled_time" in plan
    started = time.perf_counter()
    row = queue.schedule_next_slot(post.id, work, clock=clock)
    took = time.perf_counter() - started
    assert row.scheduled_time > times[-1]
    assert took < 0.5, f"--next-slot took {took:.3f} s at 100 000 schedules"
