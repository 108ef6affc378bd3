"""A publish's result is the truth about the platform and lands in the database: when
its row was settled otherwise meanwhile (another process called it interrupted, the
user resolved it), and when it could only be kept in the journal (the database was
busy and the engine stopped). The e2e suites do the same with real processes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import timedelta

import pytest

from milton_desktop.domain.content import Published
from milton_desktop.engine.machine import Engine, last_result_id, outcomes_since
from milton_desktop.operations import posts, schedules
from milton_desktop.publishers.base import Rejected
from milton_desktop.storage.models import PublishingResult, ScheduledPost, database

URL = "https://x.com/s/77"


def _due(clock, account, text="the truth"):
    post = posts.add_post(text)
    row = schedules.schedule(post.id, account, clock.now() + timedelta(minutes=1), clock=clock)
    clock.advance(timedelta(minutes=1))
    return row.id


def _row(sid):
    return ScheduledPost.get_by_id(sid)


def _results(sid):
    return list(
        PublishingResult.select()
        .where(PublishingResult.schedule == sid)
        .order_by(PublishingResult.id)
    )


def _elsewhere(sql, *params):
    """Another process writing to the database (its own connection, its own commit)."""

    def run():
        con = sqlite3.connect(database.database, isolation_level=None)
        try:
            con.execute(sql, params)
        finally:
            con.close()

    return run


def _marked_uncertain(sid):
    return _elsewhere(
        "UPDATE scheduled_posts SET status = 'uncertain', error_message ="
        " 'publishing was interrupted (the app stopped mid-publish)' WHERE id = ?",
        sid,
    )


def test_a_success_for_a_row_marked_uncertain_meanwhile_is_recorded_as_published(
    engine, clock, account, scripted
):
    sid = _due(clock, account)
    seen = last_result_id()
    scripted.script = [_marked_uncertain(sid), Published("77", URL)]
    (o,) = engine.publish_due()
    assert (o.status, o.url, o.earlier) == ("published", URL, "uncertain")
    assert "marked uncertain earlier, but it did publish" in o.warning
    row = _row(sid)
    assert (row.status, row.remote_url, row.remote_id) == ("published", URL, "77")
    assert row.published_at == clock.now()
    assert row.error_message is None and row.claimed_by is None
    (result,) = _results(sid)
    assert (result.outcome, result.remote_url) == ("published", URL)
    assert "marked uncertain earlier" in result.warning
    # a window following another process's scheduler is told the same
    _, told = outcomes_since(seen)
    assert [(t.status, t.url) for t in told] == [("published", URL)]
    assert "it did publish" in told[0].warning


def test_a_success_wins_over_a_row_the_user_sent_back_to_pending(engine, clock, account, scripted):
    sid = _due(clock, account)

    def user_says_it_did_not_go_out():
        _marked_uncertain(sid)()
        schedules.resolve_uncertain(sid, published=False, clock=clock)

    scripted.script = [user_says_it_did_not_go_out, Published("77", URL)]
    (o,) = engine.publish_due()
    assert (o.status, o.earlier) == ("published", "pending")
    assert _row(sid).status == "published"
    # so it is not posted a second time
    assert engine.publish_due() == []
    assert len(scripted.calls) == 1


def test_a_success_wins_over_a_row_the_user_cancelled_meanwhile(
    engine, clock, account, creds, scripted
):
    sid = _due(clock, account)

    def user_retries_then_cancels_it():
        _marked_uncertain(sid)()
        schedules.resolve_uncertain(sid, published=False, clock=clock)
        schedules.cancel(sid, clock=clock)

    scripted.script = [user_retries_then_cancels_it, Published("77", URL)]
    (o,) = engine.publish_due()
    assert (o.status, o.earlier, o.url) == ("published", "cancelled", URL)
    assert _row(sid).status == "published"


def test_a_success_after_the_user_resolved_it_as_published_fills_in_the_url(
    engine, clock, account, scripted
):
    sid = _due(clock, account)

    def user_says_it_went_out():
        _marked_uncertain(sid)()
        schedules.resolve_uncertain(sid, published=True, clock=clock)

    scripted.script = [user_says_it_went_out, Published("77", URL)]
    (o,) = engine.publish_due()
    assert (o.status, o.url, o.warning) == ("published", URL, None)
    assert (_row(sid).remote_url, _row(sid).remote_id) == (URL, "77")


def test_a_second_copy_on_the_platform_is_named(engine, clock, account, scripted):
    sid = _due(clock, account)

    def user_says_it_went_out_at_another_url():
        _marked_uncertain(sid)()
        schedules.resolve_uncertain(sid, published=True, url="https://x.com/s/1", clock=clock)

    scripted.script = [user_says_it_went_out_at_another_url, Published("77", URL)]
    (o,) = engine.publish_due()
    assert (o.status, o.url) == ("published", "https://x.com/s/1")
    assert f"published again at {URL}" in o.warning
    assert "duplicate" in _row(sid).warning


def test_a_failure_for_a_row_settled_otherwise_changes_nothing_but_is_recorded(
    engine, clock, account, scripted
):
    sid = _due(clock, account)
    seen = last_result_id()
    scripted.script = [_marked_uncertain(sid), Rejected("duplicate content")]
    (o,) = engine.publish_due()
    assert (o.status, o.earlier) == ("uncertain", "uncertain")
    row = _row(sid)
    assert row.status == "uncertain"
    assert row.error_message == "publishing was interrupted (the app stopped mid-publish)"
    assert row.claimed_by is not None  # left exactly as the other process wrote it
    (result,) = _results(sid)
    assert result.outcome == "failed" and result.error_kind == "superseded"
    assert "duplicate content" in result.error_message
    assert "it changed nothing" in result.error_message
    assert outcomes_since(seen)[1] == []  # history, not news


# ------------------------------------------------------------ the journal


class Busy:
    """Another process's connection, holding the write lock while it writes."""

    def __init__(self) -> None:
        self.con = sqlite3.connect(database.database, isolation_level=None)

    def take(self) -> None:
        self.con.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.con.in_transaction:
            self.con.rollback()


@pytest.fixture
def busy(db):
    """The other process; this thread waits only 50 ms for its lock (not 10 s)."""
    other = Busy()
    database.execute_sql("PRAGMA busy_timeout = 50")
    yield other
    other.release()
    other.con.close()
    database.execute_sql("PRAGMA busy_timeout = 10000")


def _engine(creds, clock, scripted):
    return Engine(creds, clock=clock, publisher_factory=lambda p, api_base=None: scripted())


def _kept(engine, clock, account, scripted, busy):
    """A success the engine could only keep in the journal: the database stayed busy
    and the engine was told to stop waiting for it."""
    sid = _due(clock, account)
    engine.abandon()
    scripted.script = [busy.take, Published("77", URL)]
    (o,) = engine.publish_due()
    assert o.status == "publishing"
    assert "recorded when Milton next starts" in o.message
    (entry,) = engine.journal.entries()
    return sid, entry


def test_a_kept_result_is_private_and_complete(engine, clock, account, scripted, busy):
    sid, (path, settlement) = _kept(engine, clock, account, scripted, busy)
    assert settlement.schedule_id == sid
    assert settlement.worker_id == engine.worker_id
    assert settlement.changes["remote_url"] == URL
    assert settlement.changes["published_at"] == clock.now()
    assert settlement.result["outcome"] == "published"
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_dead_engines_kept_result_lands_before_anything_is_called_interrupted(
    engine, creds, clock, account, scripted, busy, tmp_path
):
    sid, (path, _) = _kept(engine, clock, account, scripted, busy)
    copy = tmp_path / "entry-copy"
    shutil.copy(path, copy)
    busy.release()
    later = _engine(creds, clock, scripted)
    assert later.recover_interrupted() == []  # its engine is alive: it is its own to record
    assert _row(sid).status == "publishing"

    engine.release()  # the claimer's process ends
    busy.take()  # and the database is busy again when the next engine looks
    with pytest.raises(Exception, match="locked"):
        later.recover_interrupted()
    assert _row(sid).status == "publishing"  # not guessed "uncertain" meanwhile
    busy.release()

    (o,) = later.recover_interrupted()
    assert (o.status, o.url) == ("published", URL)
    assert _row(sid).remote_url == URL
    assert [r.outcome for r in _results(sid)] == ["published"]  # never "interrupted"
    assert later.journal.entries() == []
    # the same entry found again (its removal lost in a power cut) changes nothing
    shutil.copy(copy, path)
    assert _engine(creds, clock, scripted).recover_interrupted() == []
    assert [r.outcome for r in _results(sid)] == ["published"]
    assert later.journal.entries() == []
    assert len(scripted.calls) == 1


def test_a_kept_result_for_a_row_settled_otherwise_meanwhile_still_wins(
    engine, creds, clock, account, scripted, busy
):
    sid, _ = _kept(engine, clock, account, scripted, busy)
    busy.release()
    engine.release()
    _marked_uncertain(sid)()  # an older version's scheduler got there first
    (o,) = _engine(creds, clock, scripted).recover_interrupted()
    assert (o.status, o.url, o.earlier) == ("published", URL, "uncertain")
    assert "it did publish" in _row(sid).warning
