"""Settling a post from the window: skip a failed or missed one, say an uncertain one
went out (with a link that must be a link), and the list view's read of everything."""

from __future__ import annotations

import time as _time
from datetime import timedelta

import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import Status
from milton_desktop.operations import posts, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.models import ScheduledPost, database, utc_text
from tests.operations.helpers import LATER, NOW, schedule_later, set_status

# ---------------------------------------------------------------- skip


@pytest.mark.parametrize("status", [Status.PENDING, Status.MISSED, Status.FAILED])
def test_skip_cancels_what_has_not_gone_out_and_keeps_the_reason(accounts, clock, status):
    row = schedule_later(posts.add_post("Launch"), accounts["x"], clock)
    set_status(row, status, error_message="the platform said no")
    skipped = schedules.skip(row.id, clock=clock)
    assert skipped.status == Status.CANCELLED
    assert skipped.error_message == "the platform said no"
    assert row.post_id in [p.id for p in queries.drafts()]


@pytest.mark.parametrize("status", [Status.PUBLISHED, Status.PUBLISHING, Status.UNCERTAIN])
def test_skip_refuses_what_may_have_gone_out(accounts, clock, status):
    row = schedule_later(posts.add_post("Launch"), accounts["x"], clock)
    set_status(row, status)
    with pytest.raises(UserError) as err:
        schedules.skip(row.id, clock=clock)
    assert queries.get_schedule(row.id).status == status
    if status == Status.UNCERTAIN:
        assert "mark it published or not published" in str(err.value)


# ---------------------------------------------------------------- resolve with a link


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("  https://x.com/me/status/1  ", "https://x.com/me/status/1"),
        ("http://example.org/p", "http://example.org/p"),
        ("", None),
        (None, None),
    ],
)
def test_post_url_accepts_web_links_and_blank(text, kept):
    assert schedules.post_url(text) == kept


@pytest.mark.parametrize(
    "text", ["x.com/me/status/1", "ftp://x.com/a", "https://", "https://x.com/a b", "javascript:1"]
)
def test_post_url_refuses_anything_else_saying_what_to_paste(text):
    with pytest.raises(UserError, match="link"):
        schedules.post_url(text)


def test_marking_published_keeps_the_link_and_refuses_a_bad_one(accounts, clock):
    row = schedule_later(posts.add_post("Launch"), accounts["x"], clock)
    set_status(row, Status.UNCERTAIN)
    with pytest.raises(UserError):
        schedules.resolve_uncertain(row.id, True, "not a link", clock=clock)
    assert queries.get_schedule(row.id).status == Status.UNCERTAIN
    done = schedules.resolve_uncertain(row.id, True, "https://x.com/me/status/9", clock=clock)
    assert (done.status, done.remote_url) == (Status.PUBLISHED, "https://x.com/me/status/9")


def test_marking_not_published_after_a_late_result_landed_changes_nothing(
    accounts, clock, monkeypatch
):
    """The engine's late success lands between the user's read and their choice: the
    choice must not send a published post out again."""
    row = schedule_later(posts.add_post("Launch"), accounts["x"], clock)
    set_status(row, Status.UNCERTAIN)
    checked = schedules._check_account

    def engine_lands_meanwhile(r):
        checked(r)
        set_status(r, Status.PUBLISHED)

    monkeypatch.setattr(schedules, "_check_account", engine_lands_meanwhile)
    with pytest.raises(UserError, match="settled meanwhile"):
        schedules.resolve_uncertain(row.id, False, clock=clock)
    assert queries.get_schedule(row.id).status == Status.PUBLISHED


# ---------------------------------------------------------------- what needs attention


def test_attention_and_missed_ids(accounts, clock):
    rows = {}
    for status in (Status.PENDING, Status.FAILED, Status.UNCERTAIN, Status.MISSED):
        rows[status] = schedule_later(posts.add_post(str(status)), accounts["x"], clock)
        set_status(rows[status], status)
    late = schedule_later(posts.add_post("overdue"), accounts["x"], clock)
    set_status(late, Status.PENDING, next_attempt_at=NOW - timedelta(hours=3))
    assert set(queries.attention_ids()) == {
        rows[Status.FAILED].id,
        rows[Status.UNCERTAIN].id,
        rows[Status.MISSED].id,
    }
    # one still pending past the grace window counts: the scheduler marks it at once
    assert set(queries.missed_ids(NOW - timedelta(hours=2))) == {rows[Status.MISSED].id, late.id}


# ---------------------------------------------------------------- the list view's read


@pytest.mark.both_backends
def test_table_rows_filter_by_text_status_platform_and_account(accounts, clock):
    a = schedule_later(posts.add_post("Spring sale 50% off"), accounts["x"], clock)
    b = schedule_later(posts.add_post("Team offsite photos"), accounts["linkedin"], clock)
    c = schedule_later(posts.add_post("Spring hiring"), accounts["linkedin"], clock)
    set_status(b, Status.FAILED, error_message="token expired")

    def ids(**kw) -> list[int]:
        flt = queries.ScheduleFilter(**kw)
        _accounts, rows = queries.schedule_table_rows(flt, limit=50, sort="time", descending=False)
        assert queries.schedule_table_count(flt) == len(rows)
        return [r[0] for r in rows]

    assert ids() == [a.id, b.id, c.id]
    assert ids(text="spring") == [a.id, c.id]
    assert ids(text="SPRING hiring") == [c.id]
    assert ids(text="50%") == [a.id]  # % is a character, not a wildcard
    assert ids(text="0%") == [a.id]
    assert ids(text="linkedin") == [b.id, c.id]  # the account's name matches too
    assert ids(statuses=frozenset({Status.FAILED})) == [b.id]
    assert ids(platform="x") == [a.id]
    assert ids(account_id=accounts["linkedin"].id, text="team") == [b.id]
    _acc, rows = queries.schedule_table_rows(
        queries.ScheduleFilter(statuses=frozenset({Status.FAILED})), limit=5
    )
    assert rows[0][-1] == "token expired"  # the reason comes with the row


@pytest.mark.sqlite_only("a timing of the home file")
def test_table_pages_are_stable_and_fast_at_ten_thousand_rows(accounts, clock):
    post = posts.add_post("Bulk")
    base = LATER
    with database.atomic():
        database.execute_sql("DELETE FROM scheduled_posts")
        cur = database.cursor()
        cur.executemany(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status,"
            " attempts, next_attempt_at, created_at, updated_at)"
            " VALUES (?, ?, ?, 'UTC', ?, 0, ?, ?, ?)",
            [
                (
                    post.id,
                    accounts["x"].id,
                    utc_text(base + timedelta(minutes=n // 3)),  # three share each minute
                    (Status.FAILED if n % 10 == 0 else Status.PENDING).value,
                    utc_text(base + timedelta(minutes=n // 3)),
                    utc_text(NOW),
                    utc_text(NOW),
                )
                for n in range(10_000)
            ],
        )
    flt = queries.ScheduleFilter()
    assert queries.schedule_table_count(flt) == 10_000
    seen: list[int] = []
    started = _time.perf_counter()
    for page in range(0, 10_000, 500):
        _acc, rows = queries.schedule_table_rows(flt, limit=500, offset=page)
        seen += [r[0] for r in rows]
    elapsed = _time.perf_counter() - started
    assert len(seen) == len(set(seen)) == 10_000  # no row twice, none left out
    assert elapsed < 5, f"reading 10,000 rows in pages took {elapsed:.1f} s"
    failed = queries.ScheduleFilter(statuses=frozenset({Status.FAILED}), text="bulk")
    assert queries.schedule_table_count(failed) == 1_000
    assert ScheduledPost.select().count() == 10_000
