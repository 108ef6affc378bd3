"""Publishes prepared ahead of their instant, tokens held in memory, the results writer.

Preparation only reads: the claim still happens at the instant, so a row cancelled,
moved or edited meanwhile is treated as it is then. Tokens are read from the keyring
once and held; another process's change reaches the engine through the change
counter in the database. Results queued in the writer are each recorded once.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from milton_desktop.domain.credential import Credential
from milton_desktop.engine.dispatch import Dispatcher
from milton_desktop.operations import posts, schedules
from milton_desktop.publishers.base import AuthExpired
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, PublishingResult, ScheduledPost
from tests.engine.test_machine import _row, _schedule


class CountingKeyring:
    """Counts the reads that reach the keyring backend."""

    def __init__(self, backend, monkeypatch) -> None:
        self.reads = 0
        real = backend.get_password

        def get_password(service, username):
            self.reads += 1
            return real(service, username)

        monkeypatch.setattr(backend, "get_password", get_password)


def test_preparing_claims_nothing_and_sends_nothing(engine, clock, account, scripted):
    sched = _schedule(clock, account, minutes=1)
    assert engine.prepare(sched.id) is True
    row = _row(sched.id)
    assert (row.status, row.claimed_by, row.attempts) == ("pending", None, 0)
    assert scripted.calls == []
    assert not engine.claim(sched.id)  # not due yet: preparing did not make it due


def test_a_row_edited_after_it_was_prepared_goes_out_as_edited(engine, clock, account, scripted):
    sched = _schedule(clock, account, minutes=1, text="first words")
    with engine.batch():
        assert engine.prepare(sched.id)
        posts.update_post(sched.post_id, "second thoughts", clock=clock)
        clock.advance(timedelta(minutes=1))
        assert engine.claim(sched.id)
        outcome = engine.execute(sched.id)
    assert outcome.status == "published"
    assert [text for text, _token in scripted.calls] == ["second thoughts"]


def test_a_row_cancelled_after_it_was_prepared_is_not_published(engine, clock, account, scripted):
    sched = _schedule(clock, account, minutes=1)
    with engine.batch():
        assert engine.prepare(sched.id)
        schedules.cancel(sched.id, clock=clock)
        clock.advance(timedelta(minutes=1))
        assert not engine.claim(sched.id)
    assert _row(sched.id).status == "cancelled"
    assert scripted.calls == []


def test_a_row_moved_after_it_was_prepared_waits_for_its_new_time(engine, clock, account, scripted):
    sched = _schedule(clock, account, minutes=1)
    with engine.batch():
        assert engine.prepare(sched.id)
        schedules.reschedule(sched.id, clock.now() + timedelta(hours=1), clock=clock)
        clock.advance(timedelta(minutes=1))
        assert not engine.claim(sched.id)
    assert _row(sched.id).status == "pending"
    assert scripted.calls == []


def test_a_waiting_worker_claims_only_at_the_instant(engine, clock, account, scripted):
    """The dispatcher starts the account's worker ahead of time; until the engine's
    clock reaches the instant the row stays pending and nothing is sent."""
    sched = _schedule(clock, account, minutes=0, text="on the second")
    ScheduledPost.update(next_attempt_at=clock.now() + timedelta(seconds=1)).where(
        ScheduledPost.id == sched.id
    ).execute()
    done = threading.Event()
    outcomes = []

    def on_outcome(outcome):
        outcomes.append(outcome)
        done.set()

    dispatcher = Dispatcher(engine, on_outcome, lead=2.0)
    try:
        assert dispatcher.dispatch_due() == 1  # started ahead of the instant
        assert dispatcher.busy_accounts() == {account.id}
        row = _row(sched.id)
        assert (row.status, row.attempts) == ("pending", 0)
        assert scripted.calls == []
        clock.advance(timedelta(seconds=1))  # the instant: the worker claims and sends
        assert done.wait(30)
    finally:
        assert dispatcher.shutdown(timeout=30)
    assert [o.status for o in outcomes] == ["published"]
    assert [text for text, _token in scripted.calls] == ["on the second"]
    assert _row(sched.id).attempts == 1


def test_tokens_are_read_once_and_again_when_another_process_changes_them(
    engine, clock, account, creds, scripted, memory_keyring, monkeypatch
):
    counting = CountingKeyring(memory_keyring, monkeypatch)
    creds.forget()  # a scheduler that starts: the token was stored by another process
    for minutes in (1, 2):
        _schedule(clock, account, minutes=minutes, text=f"post {minutes}")
    clock.advance(timedelta(minutes=1))
    engine.publish_due()
    clock.advance(timedelta(minutes=1))
    engine.publish_due()
    assert [token for _text, token in scripted.calls] == ["tok-123", "tok-123"]
    assert counting.reads == 1  # the second publish used the token held in memory

    # the window (another process, with a store of its own) reconnects the account
    CredentialStore("test").save("linkedin", account.id, Credential("tok-new"))
    _schedule(clock, account, minutes=1, text="post 3")
    clock.advance(timedelta(minutes=1))
    engine.publish_due()
    assert scripted.calls[-1] == ("post 3", "tok-new")
    assert counting.reads == 2


def test_a_refused_token_is_read_again_from_the_keyring(
    engine, clock, account, creds, scripted, memory_keyring
):
    """Changed in the keyring behind the counter's back (an older version, a hand
    edit): the 401 makes the engine read the keyring itself, and replay with it."""
    _schedule(clock, account, minutes=1)
    clock.advance(timedelta(minutes=1))
    engine.publish_due()
    memory_keyring.set_password(
        "milton-desktop", creds.key("linkedin", account.id), Credential("tok-behind").to_json()
    )
    scripted.script = [AuthExpired("token revoked")]
    _schedule(clock, account, minutes=1, text="after the change")
    clock.advance(timedelta(minutes=1))
    (outcome,) = engine.publish_due()
    assert outcome.status == "published"
    assert scripted.calls[-2:] == [
        ("after the change", "tok-123"),
        ("after the change", "tok-behind"),
    ]


def test_a_burst_over_several_accounts_is_published_once_each_through_the_writer(
    engine, clock, creds, scripted
):
    accounts = []
    for n in range(4):
        acc = Account.create(
            platform="linkedin", display_name=f"acct {n}", username=f"a{n}", remote_id=str(n)
        )
        creds.save("linkedin", acc.id, Credential(f"tok-{n}-abcdefgh"))
        accounts.append(acc)
    made = [_schedule(clock, accounts[i % 4], minutes=1, text=f"burst {i}").id for i in range(40)]
    clock.advance(timedelta(minutes=1))
    seen = []
    lock = threading.Lock()

    def on_outcome(outcome):
        with lock:
            seen.append(outcome.schedule_id)

    dispatcher = Dispatcher(engine, on_outcome)
    returned = dispatcher.run_once()
    assert sorted(o.schedule_id for o in returned) == sorted(made)
    assert sorted(seen) == sorted(made)  # each outcome told once
    assert {o.status for o in returned} == {"published"}
    texts = [text for text, _token in scripted.calls]
    assert sorted(texts) == sorted(f"burst {i}" for i in range(40))  # none sent twice
    rows = list(ScheduledPost.select().where(ScheduledPost.id.in_(made)))
    assert {(r.status, r.attempts) for r in rows} == {("published", 1)}
    assert PublishingResult.select().where(PublishingResult.schedule.in_(made)).count() == 40
    assert list((engine.state_dir / "journal").glob("*.json")) == []


def test_a_stop_waits_for_the_results_writer(engine, clock, account, scripted, monkeypatch):
    """A clean stop lets go of the worker lock only once every queued result is
    committed."""
    _schedule(clock, account, minutes=1)
    clock.advance(timedelta(minutes=1))
    real = engine._record_queued
    release = threading.Event()

    def slow_record(batch):
        release.wait(30)
        real(batch)

    monkeypatch.setattr(engine, "_record_queued", slow_record)
    outcomes = []
    dispatcher = Dispatcher(engine, outcomes.append)
    dispatcher.dispatch_due()
    deadline = time.monotonic() + 30
    while engine._writer is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _row(ScheduledPost.select().get().id).status == "publishing"
    threading.Timer(0.2, release.set).start()
    assert dispatcher.shutdown(timeout=30)
    assert [o.status for o in outcomes] == ["published"]
    assert ScheduledPost.select().get().status == "published"


def test_a_pause_while_a_worker_waits_for_the_instant_lets_it_pass(
    engine, clock, account, scripted
):
    sched = _schedule(clock, account, minutes=0)
    ScheduledPost.update(next_attempt_at=clock.now() + timedelta(seconds=1)).where(
        ScheduledPost.id == sched.id
    ).execute()
    idle = threading.Event()
    dispatcher = Dispatcher(engine, lambda o: None, on_idle=idle.set, lead=2.0)
    try:
        assert dispatcher.dispatch_due() == 1
        dispatcher.paused = True  # what Runner.set_paused(True) does
        clock.advance(timedelta(seconds=1))
        assert idle.wait(30)  # the worker gave the account up without claiming
    finally:
        assert dispatcher.shutdown(timeout=30)
    row = _row(sched.id)
    assert (row.status, row.attempts) == ("pending", 0)
    assert scripted.calls == []
