"""The read side: snapshots the window shows, and reads that never wait for a writer."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.operations import posts, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.models import Account, ScheduledPost, database

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def account(db):
    return Account.create(platform="linkedin", display_name="Work", username="jo", remote_id="7")


def _scheduled(account, clock, text="hello", hours=2):
    post = posts.add_post(text, clock=clock)
    return schedules.schedule(post.id, account, NOW + timedelta(hours=hours), clock=clock)


@pytest.mark.sqlite_only("holds the home file's write lock; see test_portable")
def test_the_calendar_read_does_not_wait_for_a_writer(account, clock, milton_home):
    row = _scheduled(account, clock)
    writer = sqlite3.connect(str(milton_home / "milton.sqlite3"), timeout=1)
    writer.execute("BEGIN IMMEDIATE")  # another process is in the middle of a write
    writer.execute("UPDATE settings SET value = value")
    try:
        database.execute_sql("PRAGMA busy_timeout = 200")  # a wait would fail fast, not hang
        accounts, rows = queries.calendar_rows(NOW, NOW + timedelta(days=1))
    finally:
        database.execute_sql("PRAGMA busy_timeout = 10000")
        writer.rollback()
        writer.close()
    assert [r[0] for r in rows] == [row.id]
    assert accounts[account.id] == ("Work", "linkedin")


def test_a_schedule_snapshot_carries_what_the_window_shows(account, clock):
    row = _scheduled(account, clock, text="Launch day")
    view = queries.schedule_view(row.id)
    assert (view.id, view.post_id, view.account.display_name, view.status) == (
        row.id,
        row.post_id,
        "Work",
        "pending",
    )
    assert view.text == "Launch day" and view.text_override is None
    assert view.scheduled_time == NOW + timedelta(hours=2)


def test_a_post_snapshot_keeps_media_names_in_order(db, clock):
    post = posts.add_post(
        "two links",
        media=[
            posts.MediaInput(url="https://cdn.example.com/a.jpg", original_name="first.jpg"),
            posts.MediaInput(url="https://cdn.example.com/b.mp4"),
        ],
        clock=clock,
    )
    view = queries.post_view(post.id)
    assert view.media_names == ("first.jpg", "b.mp4")
    assert [m.kind for m in view.media] == ["image", "video"]
    assert [d.id for d in queries.draft_views()] == [post.id]


def test_missing_things_are_named_with_a_hint(db):
    with pytest.raises(UserError, match="no post with id 41") as post:
        queries.post_view(41)
    assert post.value.hint == Hint.LIST_POSTS
    with pytest.raises(UserError, match="no scheduled post with id 42") as schedule:
        queries.schedule_view(42)
    assert schedule.value.hint == Hint.LIST_SCHEDULES
    with pytest.raises(UserError, match="there are no accounts yet") as account:
        queries.get_account("work")
    assert account.value.hint == Hint.ADD_ACCOUNT


def test_removed_accounts_are_gone_from_lookups_but_not_from_history(account, clock):
    row = _scheduled(account, clock)
    Account.update(status="removed", display_name="Work (removed)").execute()
    assert queries.list_accounts() == []
    assert queries.find_account(account.id) is None
    with pytest.raises(UserError, match="no account named 'Work'"):
        queries.get_account("Work")
    with pytest.raises(UserError):
        queries.get_account(account)  # a row held since then is read afresh
    accounts, rows = queries.calendar_rows(NOW, NOW + timedelta(days=1))
    assert [r[0] for r in rows] == [row.id] and accounts[account.id][0] == "Work (removed)"


@pytest.mark.both_backends
def test_ids_and_counts_by_status(account, clock):
    first, second = _scheduled(account, clock, hours=1), _scheduled(account, clock, hours=3)
    ScheduledPost.update(status="missed").where(ScheduledPost.id == second.id).execute()
    assert queries.schedule_ids("missed") == [second.id]
    assert queries.schedule_ids("pending") == [first.id]
    counts = queries.counts_by_status()
    assert (counts["pending"], counts["missed"], counts["published"]) == (1, 1, 0)
    with pytest.raises(UserError, match="unknown status 'done': choose one of pending"):
        queries.schedule_ids("done")


@pytest.mark.both_backends
def test_post_rows_are_the_stable_json_shape(account, clock):
    row = _scheduled(account, clock, text="hi")
    assert queries.post_rows() == [
        {
            "id": row.post_id,
            "text": "hi",
            "voice": "personal",
            "created_at": "2027-03-01T09:00:00Z",
            "media": [],
            "follow_ups": [],
            "follow_up_delay": 0,
            "schedules": [row.id],
        }
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
    )
)
def test_listing_times_are_written_as_iso_z_would(value):
    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.storage.models import utc_text

    assert queries._z(utc_text(value)) == iso_z(value)
    assert queries._z(None) is None


@pytest.mark.both_backends
def test_the_json_listing_says_what_the_row_listing_says(account, clock):
    """``list --json`` writes rows SQLite encoded; they must be the dicts, exactly."""
    single = _scheduled(account, clock, text='plain «unicode» "quoted"\n\ttab\x01')
    thread_post = posts.add_post("1/ first", follow_ups=["2/ second", "3/ third"], clock=clock)
    thread = schedules.schedule(thread_post.id, account, NOW + timedelta(hours=3), clock=clock)
    published = _scheduled(account, clock, text="went out", hours=4)
    failed = _scheduled(account, clock, text="refused", hours=5)
    whole = ScheduledPost.update(
        status="published",
        published_at=NOW + timedelta(hours=4, microseconds=120_000),
        remote_id="urn:li:share:1",
        remote_url="https://example.test/1",
    )
    whole.where(ScheduledPost.id == published.id).execute()
    ScheduledPost.update(status="failed", error_message="too long: ≤ 3000").where(
        ScheduledPost.id == failed.id
    ).execute()
    ScheduledPost.update(status="published", remote_id="urn:li:share:2").where(
        ScheduledPost.id == thread.id
    ).execute()
    assert {single.id, thread.id} <= {r["id"] for r in queries.schedule_rows()}
    for filters in ({}, {"status": "published"}, {"pending_before": NOW + timedelta(days=1)}):
        rows = queries.schedule_rows(**filters)
        encoded = list(queries.schedule_rows_json(**filters))
        assert [json.loads(text) for text in encoded] == rows
    assert len(queries.schedule_rows()) == 4


def test_the_calendar_counts_a_threads_parts_on_both_backends(any_db):
    """The part counts are computed in SQL, in each engine's own JSON functions."""
    clock = FakeClock(NOW)
    acc = Account.create(platform="x", display_name="Thread", username="t", remote_id="8")
    single = schedules.schedule(
        posts.add_post("one part", clock=clock).id, acc, NOW + timedelta(hours=1), clock=clock
    )
    thread = schedules.schedule(
        posts.add_post("first", follow_ups=["second", "third"], clock=clock).id,
        acc,
        NOW + timedelta(hours=2),
        clock=clock,
    )
    parts = [{"index": 0, "status": "published"}, {"index": 1, "status": "pending"}]
    ScheduledPost.update(parts=json.dumps(parts)).where(ScheduledPost.id == thread.id).execute()
    _accounts, rows = queries.calendar_rows(NOW, NOW + timedelta(days=1))
    counts = {row[0]: (row[9], row[10]) for row in rows}
    assert counts == {single.id: (1, 0), thread.id: (3, 1)}
