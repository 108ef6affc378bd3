"""Members and approvals on both backends: who made, changed and approved a schedule,
posts that wait for approval, and the engine that never publishes one unapproved."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.content import Published
from milton_desktop.domain.credential import Credential
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import Status
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.operations import approvals, members, posts, repeats, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, ScheduledPost
from tests.engine.conftest import ScriptedPublisher
from tests.operations.helpers import LATER, NOW


@pytest.fixture(autouse=True)
def alice():
    members.use("alice")
    yield "alice"
    members._current = None


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def creds(any_db, memory_keyring):
    return CredentialStore("test")


@pytest.fixture
def brand(any_db, creds):
    """An account whose posts need approval."""
    acc = Account.create(platform="linkedin", display_name="brand", username="b", remote_id="1")
    creds.save("linkedin", acc.id, Credential("tok-brand"))
    approvals.set_require_approval(acc.id, True)
    return Account.get_by_id(acc.id)


@pytest.fixture
def scripted():
    ScriptedPublisher.script = []
    ScriptedPublisher.calls = []
    ScriptedPublisher.refreshes = []
    return ScriptedPublisher


@pytest.fixture
def engine(any_db, creds, clock, scripted):
    return Engine(
        creds,
        clock=clock,
        config=EngineConfig(grace=timedelta(hours=2), max_attempts=3),
        publisher_factory=lambda platform, api_base=None: scripted(),
        rng=random.Random(7),
    )


def _row(sid: int) -> ScheduledPost:
    return ScheduledPost.get_by_id(sid)


def test_a_schedule_records_who_made_it_and_who_changed_it(any_db, clock, brand):
    acc = Account.create(platform="linkedin", display_name="free", username="f", remote_id="2")
    post = posts.add_post("hello")
    row = schedules.schedule(post.id, acc, LATER, clock=clock)
    assert (row.status, row.created_by, row.updated_by) == ("pending", "alice", "alice")
    members.use("bob")
    schedules.reschedule(row.id, LATER + timedelta(hours=1), clock=clock)
    moved = _row(row.id)
    assert (moved.created_by, moved.updated_by) == ("alice", "bob")
    members.use("carol")
    schedules.cancel(row.id, clock=clock)
    assert _row(row.id).updated_by == "carol"
    (listed,) = queries.schedule_rows()
    assert (listed["created_by"], listed["updated_by"]) == ("alice", "carol")
    view = queries.schedule_view(row.id)
    assert (view.created_by, view.updated_by, view.approved_by) == ("alice", "carol", None)


def test_a_post_to_an_account_that_requires_approval_waits_until_a_member_approves_it(
    any_db, clock, brand
):
    post = posts.add_post("for the brand")
    row = schedules.schedule(post.id, brand, LATER, clock=clock)
    assert row.status == Status.AWAITING_APPROVAL
    assert [r["id"] for r in queries.schedule_rows(Status.AWAITING_APPROVAL)] == [row.id]
    assert queries.status_count(Status.AWAITING_APPROVAL) == 1
    with pytest.raises(UserError, match="awaits approval"):
        schedules.publish_now(row.id, clock=clock)

    members.use("bob")
    approved = approvals.approve(row.id, clock=clock)
    assert (approved.status, approved.approved_by, approved.approved_at) == (
        "pending",
        "bob",
        NOW,
    )
    assert approved.created_by == "alice"
    (listed,) = queries.schedule_rows()
    assert (listed["approved_by"], listed["approved_at"]) == ("bob", "2027-01-10T09:00:00Z")
    with pytest.raises(UserError, match="bob approved it already"):
        approvals.approve(row.id, clock=clock)


def test_approving_what_does_not_wait_says_why(any_db, clock, brand):
    free = Account.create(platform="linkedin", display_name="free", username="f", remote_id="2")
    post = posts.add_post("hello")
    row = schedules.schedule(post.id, free, LATER, clock=clock)
    with pytest.raises(UserError, match="does not require approval"):
        approvals.approve(row.id, clock=clock)
    with pytest.raises(UserError, match="no scheduled post with id 999"):
        approvals.approve(999, clock=clock)


def test_changing_an_approved_posts_words_sends_it_back_to_wait(any_db, clock, brand):
    post = posts.add_post("first words")
    row = schedules.schedule(post.id, brand, LATER, clock=clock)
    approvals.approve(row.id, clock=clock)
    # its time moves: the words are what was approved, so it stays approved
    schedules.update_schedule(row.id, when=LATER + timedelta(hours=1), clock=clock)
    assert _row(row.id).status == Status.PENDING
    schedules.update_schedule(row.id, text="other words", clock=clock)
    back = _row(row.id)
    assert (back.status, back.approved_by, back.approved_at) == ("awaiting_approval", None, None)

    approvals.approve(row.id, clock=clock)
    schedules.update_schedule(row.id, text=None, clock=clock)  # the post's own text again
    assert _row(row.id).status == Status.AWAITING_APPROVAL
    approvals.approve(row.id, clock=clock)
    posts.update_post(post.id, text="the post's text, edited")
    assert _row(row.id).status == Status.AWAITING_APPROVAL


def test_editing_the_post_leaves_a_schedule_with_its_own_text_approved(any_db, clock, brand):
    post = posts.add_post("the post")
    row = schedules.schedule(post.id, brand, LATER, text="its own text", clock=clock)
    approvals.approve(row.id, clock=clock)
    posts.update_post(post.id, text="the post, edited")
    assert _row(row.id).status == Status.PENDING  # what it publishes did not change
    posts.set_follow_ups(post.id, ["and a reply"])
    assert _row(row.id).status == Status.AWAITING_APPROVAL  # its thread did


def test_switching_the_requirement_on_and_off(any_db, clock, creds):
    acc = Account.create(platform="linkedin", display_name="team", username="t", remote_id="3")
    post = posts.add_post("scheduled before the rule")
    row = schedules.schedule(post.id, acc, LATER, clock=clock)
    change = approvals.set_require_approval(acc.id, True, clock=clock)
    assert (change.require_approval, change.moved) == (True, 1)
    assert _row(row.id).status == Status.AWAITING_APPROVAL
    assert approvals.set_require_approval("team", True).moved == 0  # already so

    # off: the waiting posts are released, to go out at their times
    change = approvals.set_require_approval("team", False, clock=clock)
    assert (change.require_approval, change.moved) == (False, 1)
    released = _row(row.id)
    assert (released.status, released.approved_by) == ("pending", None)
    assert Account.get_by_id(acc.id).require_approval is False


def test_a_repeat_on_an_approval_account_makes_occurrences_that_wait(any_db, clock, brand):
    post = posts.add_post("weekly")
    first = (NOW + timedelta(days=1)).replace(tzinfo=None)
    repeats.schedule_repeating(post.id, brand, first, "UTC", "FREQ=WEEKLY;COUNT=2", clock=clock)
    rows = list(ScheduledPost.select().order_by(ScheduledPost.scheduled_time))
    assert [(r.status, r.created_by) for r in rows] == [("awaiting_approval", "alice")] * 2


def test_the_engine_never_publishes_an_unapproved_post_and_misses_it_at_its_time(
    engine, clock, brand, scripted
):
    post = posts.add_post("waits")
    row = schedules.schedule(post.id, brand, NOW + timedelta(minutes=5), clock=clock)
    assert engine.due() == [] and engine.next_wakeup() is None
    assert engine.publish_due() == []
    clock.advance(timedelta(minutes=5))  # its time: nobody approved it
    assert engine.claim(row.id) is False
    (outcome,) = engine.publish_due()
    assert outcome.status == Status.MISSED
    missed = _row(row.id)
    assert missed.status == Status.MISSED
    assert missed.error_message.startswith("not approved in time")
    assert scripted.calls == []
    # going out now needs an approval first
    with pytest.raises(UserError, match="nobody approved it"):
        schedules.publish_now(row.id, clock=clock)
    with pytest.raises(UserError, match="reschedule it, then approve it"):
        approvals.approve(row.id, clock=clock)
    moved = schedules.reschedule(row.id, NOW + timedelta(hours=1), clock=clock)
    assert moved.status == Status.AWAITING_APPROVAL


def test_a_pending_row_nobody_approved_is_never_claimed(engine, clock, brand, scripted):
    """The claim's own guard: even a row some other path left pending without an
    approval (an older client, a hand edit) does not go out."""
    post = posts.add_post("slipped through")
    row = schedules.schedule(post.id, brand, NOW + timedelta(minutes=1), clock=clock)
    ScheduledPost.update(status=Status.PENDING).where(ScheduledPost.id == row.id).execute()
    clock.advance(timedelta(minutes=1))
    assert engine.due() == []
    assert engine.claim(row.id) is False
    assert scripted.calls == []


def test_after_approval_the_post_goes_out_once(engine, clock, brand, scripted):
    post = posts.add_post("approved words")
    row = schedules.schedule(post.id, brand, NOW + timedelta(minutes=5), clock=clock)
    members.use("bob")
    approvals.approve(row.id, clock=clock)
    assert engine.next_wakeup() == NOW + timedelta(minutes=5)
    clock.advance(timedelta(minutes=5))
    scripted.script = [Published("42", "https://www.linkedin.com/feed/update/42")]
    (outcome,) = engine.publish_due()
    assert outcome.status == Status.PUBLISHED
    assert engine.publish_due() == []
    assert [text for text, _token in scripted.calls] == ["approved words"]
    done = _row(row.id)
    assert (done.status, done.approved_by, done.created_by) == ("published", "bob", "alice")


def test_switching_on_holds_a_retry_too_but_lets_a_started_thread_finish(any_db, clock, creds):
    acc = Account.create(platform="linkedin", display_name="team", username="t", remote_id="3")
    retry = schedules.schedule(posts.add_post("tried once").id, acc, LATER, clock=clock)
    ScheduledPost.update(attempts=1).where(ScheduledPost.id == retry.id).execute()
    thread = schedules.schedule(posts.add_post("1/ a thread").id, acc, LATER, clock=clock)
    started = '[{"index": 0, "status": "published", "remote_id": "1", "url": null}]'
    ScheduledPost.update(parts=started).where(ScheduledPost.id == thread.id).execute()
    change = approvals.set_require_approval(acc.id, True, clock=clock)
    assert change.moved == 1
    assert _row(retry.id).status == Status.AWAITING_APPROVAL
    going_on = _row(thread.id)
    assert (going_on.status, going_on.approved_by) == ("pending", "alice")
