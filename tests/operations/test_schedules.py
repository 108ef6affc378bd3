"""Changing a schedule in place: same row, same repeat, never under the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.operations import posts, repeats, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.models import Recurrence, ScheduledPost, database
from tests.operations.helpers import LATER, NOW, schedule_later, set_status

# ---------------------------------------------------------------- update_schedule


def test_text_is_changed_in_place(accounts, clock):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock)
    clock.advance(60)
    edited = schedules.update_schedule(row.id, text="X words", clock=clock)
    assert edited.id == row.id
    assert edited.text_override == "X words"
    assert (edited.scheduled_time, edited.next_attempt_at) == (LATER, LATER)
    assert edited.updated_at == NOW + timedelta(seconds=60)
    assert ScheduledPost.select().count() == 1
    # None drops the own text again; the post's text is what goes out
    assert schedules.update_schedule(row.id, text=None, clock=clock).text_override is None
    assert queries.content_for(queries.get_schedule(row.id)).text == "Common words"


def test_time_is_changed_in_place_and_the_own_text_kept(accounts, clock):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock, text="X words")
    edited = schedules.update_schedule(row.id, when=LATER + timedelta(hours=2), clock=clock)
    assert edited.id == row.id
    assert edited.scheduled_time == edited.next_attempt_at == LATER + timedelta(hours=2)
    assert edited.text_override == "X words"
    assert edited.timezone == "Europe/Paris"
    assert ScheduledPost.select().count() == 1


def test_an_occurrence_of_a_repeat_stays_in_its_series(accounts, clock):
    post = posts.add_post("Weekly tip")
    rec = repeats.schedule_repeating(
        post.id,
        accounts["linkedin"],
        datetime(2027, 1, 12, 10, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;COUNT=3",
        clock=clock,
    )
    first = ScheduledPost.select().where(ScheduledPost.recurrence == rec.id).first()
    edited = schedules.update_schedule(
        first.id, when=first.scheduled_time + timedelta(hours=1), text="This week's tip"
    )
    assert edited.id == first.id
    assert edited.recurrence_id == rec.id
    assert Recurrence.get_by_id(rec.id).active
    # the series can still be stopped from the edited occurrence
    assert repeats.stop_series(edited.id, clock=clock) == 3


@pytest.mark.parametrize("status", ["published", "publishing", "uncertain", "cancelled"])
def test_history_and_in_flight_rows_are_refused_like_reschedule(accounts, clock, status):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock)
    set_status(row, status)
    with pytest.raises(UserError) as moved:
        schedules.reschedule(row.id, LATER, clock=clock)
    with pytest.raises(UserError) as edited:
        schedules.update_schedule(row.id, text="New words", clock=clock)
    assert str(edited.value) == str(moved.value)
    assert str(edited.value).startswith(f"schedule {row.id} cannot be moved: ")
    unchanged = queries.get_schedule(row.id)
    assert (unchanged.status, unchanged.text_override) == (status, None)


def test_a_past_time_is_refused(accounts, clock):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock)
    with pytest.raises(UserError, match=r"is in the past .* choose a future time"):
        schedules.update_schedule(row.id, when=NOW - timedelta(hours=1), text="New", clock=clock)
    unchanged = queries.get_schedule(row.id)
    assert (unchanged.scheduled_time, unchanged.text_override) == (LATER, None)


def test_a_missed_row_needs_a_new_time_to_go_back_to_pending(accounts, clock):
    post = posts.add_post("Common words")
    row = schedules.schedule(post.id, accounts["x"], NOW, clock=clock)
    clock.advance(timedelta(hours=3))
    set_status(row, "missed")
    # keeping its old time would send it at once, hours late: that is publish_now's job
    with pytest.raises(UserError, match="is in the past"):
        schedules.update_schedule(row.id, text="New words", clock=clock)
    assert queries.get_schedule(row.id).status == "missed"


def test_a_failed_row_goes_back_to_pending_with_attempts_reset(accounts, clock):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock)
    set_status(row, "failed", attempts=3, error_message="X said no")
    edited = schedules.update_schedule(row.id, when=LATER, text="Fixed words", clock=clock)
    assert edited.id == row.id
    assert (edited.status, edited.attempts, edited.error_message) == ("pending", 0, None)
    assert edited.text_override == "Fixed words"
    assert edited.next_attempt_at == LATER


def test_a_pending_row_keeps_its_attempts_and_back_off_on_a_text_edit(accounts, clock):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock)
    retry_at = LATER + timedelta(minutes=5)
    set_status(row, "pending", attempts=1, next_attempt_at=retry_at)
    edited = schedules.update_schedule(row.id, when=LATER, text="New words", clock=clock)
    assert (edited.attempts, edited.next_attempt_at) == (1, retry_at)


def test_a_row_claimed_meanwhile_is_never_changed(accounts, clock, monkeypatch):
    post = posts.add_post("Common words")
    row = schedule_later(post, accounts["x"], clock)
    real_validate = schedules.validate_for

    def claim_then_validate(account, content):
        # the engine's claim, landing between the read and the write
        database.execute_sql(
            "UPDATE scheduled_posts SET status = 'publishing', claimed_by = 'engine' WHERE id = ?",
            (row.id,),
        )
        real_validate(account, content)

    monkeypatch.setattr(schedules, "validate_for", claim_then_validate)
    with pytest.raises(UserError, match="not changed: it is being published right now"):
        schedules.update_schedule(
            row.id, when=LATER + timedelta(hours=1), text="Too late", clock=clock
        )
    unchanged = ScheduledPost.get_by_id(row.id)
    assert unchanged.text_override is None
    assert unchanged.scheduled_time == LATER


def test_content_the_platform_refuses_writes_nothing(accounts, clock):
    post = posts.add_post("Short")
    row = schedule_later(post, accounts["x"], clock)
    before = queries.get_schedule(row.id)
    with pytest.raises(UserError, match=r"cannot schedule to X account 'My X': .*280"):
        schedules.update_schedule(
            row.id, when=LATER + timedelta(hours=1), text="x" * 300, clock=clock
        )
    after = queries.get_schedule(row.id)
    assert after.text_override is None
    assert (after.scheduled_time, after.updated_at) == (before.scheduled_time, before.updated_at)


def test_an_x_premium_account_takes_long_posts_and_a_standard_one_refuses_them(
    db, memory_keyring, clock
):
    from milton_desktop.domain.credential import Credential, Identity
    from milton_desktop.operations import accounts as account_ops
    from milton_desktop.storage.credentials import CredentialStore

    creds = CredentialStore("test")
    premium = account_ops.connect_account(
        creds, "x", "Long", Credential("t1"), Identity("1", "long", tier="premium")
    )
    standard = account_ops.connect_account(
        creds, "x", "Short", Credential("t2"), Identity("2", "short")
    )
    assert (premium.tier, standard.tier) == ("premium", None)
    post = posts.add_post("word " * 200)  # 1 000 weighted characters
    row = schedules.schedule(post.id, premium, LATER, clock=clock)
    assert row.status == "pending"
    with pytest.raises(UserError, match="over the limit of 280"):
        schedules.schedule(post.id, standard, LATER, clock=clock)
    # the plan lapsed: a reconnect brings the account back to the standard limit
    account_ops.reconnect_account(creds, premium.id, Credential("t3"), Identity("1", "long"))
    with pytest.raises(UserError, match="over the limit of 280"):
        schedules.schedule(post.id, premium, LATER, clock=clock)
