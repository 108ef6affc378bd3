"""The publishing state machine over a real SQLite file, with a fake clock and a
scripted publisher (the HTTP publishers have their own tests against fake servers)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.domain.errors import UserError
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.operations import posts, schedules
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.storage.models import Account, PublishingResult, ScheduledPost
from tests.backends import both_backends


def _schedule(clock, account, minutes=10, text="hello"):
    post = posts.add_post(text)
    return schedules.schedule(
        post.id, account, clock.now() + timedelta(minutes=minutes), clock=clock
    )


def _row(sid):
    return ScheduledPost.get_by_id(sid)


def test_nothing_is_due_before_its_time(engine, clock, account):
    sched = _schedule(clock, account)
    assert engine.due() == []
    assert engine.next_wakeup() == sched.scheduled_time
    assert engine.publish_due() == []


@both_backends
def test_due_post_is_published_once_with_a_result_row(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10, milliseconds=40))
    outcomes = engine.publish_due()
    assert [o.status for o in outcomes] == ["published"]
    row = _row(sched.id)
    assert row.status == "published"
    assert row.remote_url == "https://x.com/s/99"
    assert row.published_at == clock.now()
    results = list(PublishingResult.select().where(PublishingResult.schedule == sched.id))
    assert [(r.outcome, r.lateness_ms) for r in results] == [("published", 40)]
    assert scripted.calls == [("hello", "tok-123")]
    assert engine.publish_due() == []  # never twice
    assert len(scripted.calls) == 1


@both_backends
def test_claim_is_atomic_between_two_engines(engine, creds, clock, account, scripted):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=11))
    other = Engine(creds, clock=clock, publisher_factory=lambda p, api_base=None: scripted())
    assert engine.claim(sched.id) is True
    assert other.claim(sched.id) is False
    assert engine.claim(sched.id) is False
    assert _row(sched.id).attempts == 1


@both_backends
def test_many_threads_racing_claim_exactly_one_wins(engine, creds, clock, account, db):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=11))
    engines = [Engine(creds, clock=clock) for _ in range(8)]
    wins = []
    barrier = threading.Barrier(len(engines))

    def go(e):
        with db.connection_context():
            barrier.wait()
            if e.claim(sched.id):
                wins.append(e)

    threads = [threading.Thread(target=go, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


@pytest.mark.parametrize(
    "script",
    [
        [Transient("no answer to the create", may_have_posted=True)] * 3,
        # only the first send went unanswered; the later tries never reached the platform
        [Transient("no answer to the create", may_have_posted=True)]
        + [Transient("could not connect")] * 2,
    ],
)
def test_retries_of_a_create_that_may_have_landed_end_uncertain_not_failed(
    engine, clock, account, scripted, script
):
    """A platform that makes resending safe (an idempotency key) is retried, but when
    the tries run out the post may be on the platform: the user is asked to check."""
    sched = _schedule(clock, account)
    scripted.script = list(script)
    clock.advance(timedelta(minutes=10))
    for _ in range(3):
        outcomes = engine.publish_due()
        clock.set(_row(sched.id).next_attempt_at)
    assert [o.status for o in outcomes] == ["uncertain"]
    row = _row(sched.id)
    assert row.status == "uncertain"
    assert "may have been published" in row.error_message
    assert len(scripted.calls) == 3


@both_backends
def test_transient_error_retries_with_capped_backoff_then_fails(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    scripted.script = [Transient("503 on upload")] * 3
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "pending"
    row = _row(sched.id)
    first_delay = row.next_attempt_at - clock.now()
    assert timedelta(seconds=15) <= first_delay <= timedelta(seconds=30)
    assert engine.publish_due() == []  # not before the backoff
    clock.set(row.next_attempt_at)
    (o,) = engine.publish_due()
    assert o.status == "pending"
    row = _row(sched.id)
    assert timedelta(seconds=30) <= row.next_attempt_at - clock.now() <= timedelta(seconds=60)
    clock.set(row.next_attempt_at)
    (o,) = engine.publish_due()
    assert o.status == "failed"
    assert "gave up after 3 attempts" in _row(sched.id).error_message
    outcomes = [
        r.outcome for r in PublishingResult.select().where(PublishingResult.schedule == sched.id)
    ]
    assert outcomes == ["retry", "retry", "failed"]


def test_backoff_is_capped(engine):
    for attempt in range(1, 30):
        assert engine.backoff(attempt) <= engine.config.backoff_cap


def test_rate_limit_waits_for_the_reset(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    reset = clock.now() + timedelta(minutes=15)
    scripted.script = [RateLimited("429", reset)]
    (o,) = engine.publish_due()
    assert o.status == "pending"
    row = _row(sched.id)
    assert reset <= row.next_attempt_at <= reset + timedelta(seconds=3)
    clock.advance(timedelta(minutes=14))
    assert engine.publish_due() == []
    clock.set(row.next_attempt_at)
    (o,) = engine.publish_due()
    assert o.status == "published"


def test_rejected_fails_without_retry(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    scripted.script = [Rejected("duplicate content", http_status=403)]
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "failed"
    assert _row(sched.id).error_message == "duplicate content"
    clock.advance(timedelta(days=1))
    assert engine.publish_due() == []
    assert len(scripted.calls) == 1


@both_backends
def test_outcome_unknown_is_uncertain_and_never_retried(engine, clock, account, scripted):
    _schedule(clock, account)
    scripted.script = [OutcomeUnknown("read timeout on create")]
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "uncertain"
    clock.advance(timedelta(days=1))
    assert engine.publish_due() == []
    assert len(scripted.calls) == 1


def test_unexpected_exception_is_treated_as_uncertain(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    scripted.script = [KeyError("bug")]
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "uncertain"
    assert _row(sched.id).status == "uncertain"


def test_expired_auth_refreshes_once_and_replays(engine, clock, account, scripted, creds):
    _schedule(clock, account)
    scripted.script = [AuthExpired("401")]
    scripted.refresh_result = Credential(
        "tok-new", refresh_token="rt-2", expires_at=clock.now() + timedelta(hours=2)
    )
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "published"
    assert scripted.refreshes == ["rt-1"]
    assert scripted.calls == [("hello", "tok-123"), ("hello", "tok-new")]
    assert creds.load("linkedin", account.id).refresh_token == "rt-2"  # rotated token kept
    assert Account.get_by_id(account.id).token_expires_at is not None


def test_failed_refresh_fails_and_account_needs_reconnect(engine, clock, account, scripted):
    s1 = _schedule(clock, account)
    s2 = _schedule(clock, account, minutes=20, text="second")
    scripted.script = [AuthExpired("401")]
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "failed" and o.needs_reconnect
    assert Account.get_by_id(account.id).status == "needs_reconnect"
    # The account's other posts wait (not failed, not published) until it is reconnected.
    clock.advance(timedelta(minutes=15))
    assert engine.publish_due() == []
    assert _row(s2.id).status == "pending"
    assert engine.next_wakeup() is None
    assert _row(s1.id).status == "failed"


def test_auth_expired_twice_does_not_loop(engine, clock, account, scripted):
    _schedule(clock, account)
    scripted.script = [AuthExpired("401"), AuthExpired("401 again")]
    scripted.refresh_result = Credential("tok-new", refresh_token="rt-2")
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "failed"
    assert len(scripted.calls) == 2 and len(scripted.refreshes) == 1


@pytest.mark.parametrize(
    "stored", ["not json at all", '["a", "list"]', '{"no_access_token": 1}', '"a string"', "{"]
)
def test_an_unreadable_keyring_entry_fails_with_reconnect_and_never_leaks(
    engine, clock, account, creds, scripted, memory_keyring, stored
):
    """A keyring entry changed by hand or by another program: the post fails with
    "reconnect" (never stuck in publishing), and the entry's text is not repeated."""
    sched = _schedule(clock, account)
    memory_keyring.set_password("milton-desktop", creds.key("linkedin", account.id), stored)
    creds._memory.clear()
    creds.forget()  # a hand edit is what the next process to start reads
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "failed" and o.needs_reconnect
    row = _row(sched.id)
    assert row.status == "failed" and "cannot be read" in row.error_message
    assert stored not in row.error_message
    assert Account.get_by_id(account.id).status == "needs_reconnect"
    assert scripted.calls == []


def test_missing_token_fails_with_reconnect(engine, clock, account, creds, scripted):
    sched = _schedule(clock, account)
    creds.delete("linkedin", account.id)
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "failed" and o.needs_reconnect
    assert "reconnect" in _row(sched.id).error_message
    assert scripted.calls == []


@both_backends
def test_late_within_grace_is_published_beyond_is_missed(engine, clock, account, scripted):
    early = _schedule(clock, account, minutes=10, text="a")
    late = _schedule(clock, account, minutes=200, text="b")
    clock.advance(timedelta(minutes=10) + timedelta(hours=1, minutes=59))  # laptop slept
    outcomes = {o.schedule_id: o.status for o in engine.publish_due()}
    assert outcomes == {early.id: "published"}
    clock.advance(timedelta(hours=5))  # wakes long after `late`
    outcomes = {o.schedule_id: o.status for o in engine.publish_due()}
    assert outcomes == {late.id: "missed"}
    assert "Publish it now, reschedule it, or skip it" in _row(late.id).error_message
    assert [c[0] for c in scripted.calls] == ["a"]


@both_backends
def test_clock_jumping_back_publishes_nothing_twice(engine, clock, account, scripted):
    sched = _schedule(clock, account, minutes=10)
    clock.advance(timedelta(minutes=10))
    engine.publish_due()
    clock.advance(timedelta(hours=-1))
    clock.advance(timedelta(hours=3))
    assert engine.publish_due() == []
    assert _row(sched.id).status == "published"
    assert len(scripted.calls) == 1


@both_backends
def test_crash_recovery_marks_dead_claims_uncertain(engine, creds, clock, account, scripted):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    assert engine.claim(sched.id)
    # Simulate the claiming process having died: its pid no longer exists.
    ScheduledPost.update(claimed_by=f"{engine.worker_id.split(':')[0]}:999999999:dead").where(
        ScheduledPost.id == sched.id
    ).execute()
    fresh = Engine(creds, clock=clock, publisher_factory=lambda p, api_base=None: scripted())
    (o,) = fresh.recover_interrupted()
    assert o.status == "uncertain"
    assert "interrupted" in _row(sched.id).error_message
    assert fresh.publish_due() == []
    assert scripted.calls == []


@both_backends
def test_live_claim_of_another_engine_is_left_alone_whatever_the_clocks(
    engine, creds, clock, account
):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    assert engine.claim(sched.id)  # this engine is alive: it holds its worker lock
    ahead = FakeClock(clock.now() + timedelta(minutes=45))  # a second scheduler, clock ahead
    other = Engine(creds, clock=ahead)
    assert other.recover_interrupted() == []
    clock.advance(timedelta(days=3))
    ahead.advance(timedelta(days=3))
    assert other.recover_interrupted() == []
    assert _row(sched.id).status == "publishing"
    engine.release()  # the claimer is gone (as when its process dies)
    (o,) = other.recover_interrupted()
    assert o.status == "uncertain"


def test_validation_problem_at_publish_time_fails_clearly(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    # The text was edited after scheduling to something X refuses.
    ScheduledPost.update(text_override="x" * 3001).where(ScheduledPost.id == sched.id).execute()
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "failed"
    assert "over the limit of 3000" in o.message
    assert scripted.calls == []


def test_cancel_only_from_pending(engine, clock, account):
    sched = _schedule(clock, account)
    schedules.cancel(sched.id, clock=clock)
    assert _row(sched.id).status == "cancelled"
    with pytest.raises(UserError, match="only pending"):
        schedules.cancel(sched.id, clock=clock)
    clock.advance(timedelta(minutes=10))
    assert engine.publish_due() == []


@both_backends
def test_cancel_loses_to_a_claim(engine, clock, account):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    assert engine.claim(sched.id)
    with pytest.raises(UserError, match="publishing"):
        schedules.cancel(sched.id, clock=clock)


def test_schedule_in_the_past_is_refused(db, clock, account):
    post = posts.add_post("hi")
    with pytest.raises(UserError, match="in the past"):
        schedules.schedule(post.id, account, clock.now() - timedelta(hours=1), clock=clock)
    assert ScheduledPost.select().count() == 0


def test_reschedule_and_publish_now(engine, clock, account, scripted):
    sched = _schedule(clock, account, minutes=10)
    moved = schedules.reschedule(sched.id, clock.now() + timedelta(hours=1), clock=clock)
    assert moved.scheduled_time == clock.now() + timedelta(hours=1)
    assert engine.next_wakeup() == moved.scheduled_time
    clock.advance(timedelta(hours=4))
    (o,) = engine.publish_due()
    assert o.status == "missed"
    schedules.publish_now(sched.id, clock=clock)
    (o,) = engine.publish_due()
    assert o.status == "published"
    with pytest.raises(UserError, match="already published"):
        schedules.reschedule(sched.id, clock.now() + timedelta(hours=1), clock=clock)


@both_backends
def test_a_long_backlog_on_one_account_never_hides_another_accounts_due_post(
    engine, clock, account, creds
):
    other = Account.create(platform="linkedin", display_name="other", remote_id="2")
    creds.save("linkedin", other.id, Credential("tok-2"))
    for n in range(250):  # more than one due() page
        _schedule(clock, account, minutes=1, text=f"backlog {n}")
    _schedule(clock, other, minutes=1, text="not to be starved")
    clock.advance(timedelta(minutes=2))
    assert sorted(engine.due_accounts()) == sorted([account.id, other.id])
    # the busy account's worker takes its own rows; the timer must see the other one
    assert engine.due_accounts({account.id}) == [other.id]


def test_a_sunset_linkedin_version_is_replaced_once_and_remembered(creds, clock):
    """The engine keeps what the LinkedIn publisher learned: the next publish, and
    `status`, use the version that worked, and the post goes out exactly once."""
    from milton_desktop.publishers.linkedin import LINKEDIN_VERSION, version_candidates
    from milton_desktop.storage import settings
    from tests.fakes.linkedin import FakeLinkedIn

    clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC))
    newer = version_candidates(LINKEDIN_VERSION, clock.now())[0]
    with FakeLinkedIn(versions=(newer,)) as li:
        token = li.add_member("782bbtaQ", "Jo Writer")
        acc = Account.create(
            platform="linkedin", display_name="work", remote_id="782bbtaQ", api_base=li.url
        )
        creds.save("linkedin", acc.id, Credential(token))
        engine = Engine(creds, clock=clock, rng=random.Random(3))
        first = _schedule(clock, acc, minutes=0, text="first after the sunset")
        assert engine.claim(first.id)
        assert engine.execute(first.id).status == "published"
        assert settings.platform_state("linkedin") == {"version": newer}
        second = _schedule(clock, acc, minutes=0, text="and the next one")
        assert engine.claim(second.id)
        assert engine.execute(second.id).status == "published"
        assert len(li.posts) == 2
        sent = li.versions_sent("POST /rest/posts")
        assert sent.count(LINKEDIN_VERSION) == 1 and sent[-1] == newer


def test_a_retried_instagram_post_publishes_its_first_container(creds, clock):
    """The engine keeps where the publish stood (the container made) with the retry, and
    clears it once the post is settled: retries never pile up containers."""
    from milton_desktop.publishers.instagram import PUBLISH_RETRIES, InstagramPublisher
    from tests.fakes.instagram import FakeInstagram, MediaHost
    from tests.publishers.test_instagram import make_jpeg

    with FakeInstagram() as ig, MediaHost() as cdn:
        ig.add_token("IGAA-engine-resume", user_id="17841400008460056", username="studio")
        url = cdn.add("/square.jpg", make_jpeg(1080, 1080))
        acc = Account.create(
            platform="instagram",
            display_name="studio",
            username="studio",
            remote_id="17841400008460056",
            api_base=ig.url,
        )
        creds.save("instagram", acc.id, Credential("IGAA-engine-resume"))
        engine = Engine(
            creds,
            clock=clock,
            publisher_factory=lambda platform, api_base=None: InstagramPublisher(
                api_base=api_base, sleep=lambda _s: None
            ),
            rng=random.Random(5),
        )
        post = posts.add_post("Spring light", media=[posts.MediaInput(url=url)])
        row = schedules.schedule(post.id, acc, clock.now(), clock=clock)
        ig.inject(
            r"POST /v\d+\.\d+/\d+/media_publish",
            status=400,
            body={"error": {"code": -1, "error_subcode": 2207001, "message": "try later"}},
            times=1 + PUBLISH_RETRIES,
        )
        assert engine.claim(row.id)
        assert engine.execute(row.id).status == "pending"  # a retry, later
        [container] = ig.containers
        assert container in ScheduledPost.get_by_id(row.id).resume
        clock.advance(timedelta(hours=1))
        assert engine.claim(row.id)
        assert engine.execute(row.id).status == "published"
        assert len(ig.containers) == 1 and len(ig.published) == 1
        assert ScheduledPost.get_by_id(row.id).resume is None


@pytest.mark.parametrize("offset", [timedelta(0), -timedelta(days=3), -timedelta(seconds=1)])
def test_a_reset_already_past_backs_off_instead_of_hammering(
    engine, clock, account, scripted, offset
):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    scripted.script = [RateLimited("429", clock.now() + offset)]
    (o,) = engine.publish_due()
    assert o.status == "pending"
    wait = _row(sched.id).next_attempt_at - clock.now()
    assert timedelta(seconds=15) <= wait <= engine.config.backoff_cap + timedelta(seconds=3)


def test_a_reset_beyond_a_day_fails_the_post_and_names_the_time(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    far = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    scripted.script = [RateLimited("X is rate limiting posts", far)]
    (o,) = engine.publish_due()
    assert o.status == "failed"
    row = _row(sched.id)
    assert (
        "wait until 9999-12-31 23:00 UTC, more than a day: nothing was published"
        in row.error_message
    )
    assert scripted.calls == [("hello", "tok-123")]  # tried once, never again by itself


def test_a_post_limited_again_and_again_stops(engine, clock, account, scripted):
    sched = _schedule(clock, account)
    clock.advance(timedelta(minutes=10))
    for _ in range(engine.config.max_rate_limited + 1):
        scripted.script = [RateLimited("429", clock.now() + timedelta(minutes=1))]
        (o,) = engine.publish_due()
        clock.set(_row(sched.id).next_attempt_at)
    assert o.status == "failed"
    assert "still rate limited after" in _row(sched.id).error_message
    assert len(scripted.calls) == engine.config.max_rate_limited + 1


def test_an_uncertain_post_sent_again_carries_what_its_lost_attempt_made(
    db, creds, clock, account, scripted
):
    """The lost attempt chose a record key (Bluesky's rkey, a made container); the user
    says "not published", and the next attempt gets that key, so the platform's lookup
    finds the post if it did land instead of a second one being made."""
    seen: list[dict] = []

    class KeyedPublisher(scripted):
        def publish(self, content, credential, account, progress=None):
            seen.append(dict(self.resume))
            self.checkpoint["rkey"] = self.resume.get("rkey", "3kabc")
            return super().publish(content, credential, account, progress)

    engine = Engine(
        creds,
        clock=clock,
        config=EngineConfig(max_attempts=3),
        publisher_factory=lambda platform, api_base=None: KeyedPublisher(),
        rng=random.Random(7),
    )
    sched = _schedule(clock, account)
    scripted.script = [OutcomeUnknown("no answer to the create")]
    clock.advance(timedelta(minutes=10))
    (o,) = engine.publish_due()
    assert o.status == "uncertain"
    schedules.resolve_uncertain(sched.id, published=False, clock=clock)
    (o,) = engine.publish_due()
    assert o.status == "published"
    assert seen == [{}, {"rkey": "3kabc"}]
