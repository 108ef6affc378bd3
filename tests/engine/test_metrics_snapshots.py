"""Engagement snapshots: 1 h, 24 h and 7 d after a post went out under an injected
clock, batched per account, a rate limit that stops the account until its reset, and
a publish due while a fetch is held by a slow platform going out on time."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.domain.status import Status
from milton_desktop.engine.dispatch import Dispatcher
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.operations import insights
from milton_desktop.publishers import registry
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, Post, PostMetric, ScheduledPost
from tests.fakes.x import FakeX

USER_ID = "2244994945"
TOKEN = "x-snapshot-token"
WAIT = 30.0


@pytest.fixture(scope="module")
def server() -> Any:
    fake = FakeX()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeX) -> FakeX:
    server.reset()
    server.add_user(USER_ID, "XDevelopers", "X Developers", token=TOKEN)
    return server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def creds(db, memory_keyring) -> CredentialStore:
    return CredentialStore("test")


@pytest.fixture
def account(creds: CredentialStore, fake: FakeX) -> Account:
    acc = Account.create(
        platform="x", display_name="mine", username="XDevelopers", remote_id=USER_ID,
        api_base=fake.url,
    )  # fmt: skip
    creds.save("x", acc.id, Credential(TOKEN))
    return acc


def published(account: Account, clock: FakeClock, tweet_id: str, ago: timedelta) -> ScheduledPost:
    at = clock.now() - ago
    return ScheduledPost.create(
        post=Post.create(body=f"post {tweet_id}"),
        account=account,
        scheduled_time=at,
        next_attempt_at=at,
        published_at=at,
        status=Status.PUBLISHED,
        remote_id=tweet_id,
    )


def buckets(row: ScheduledPost) -> list[str]:
    return [m.age_bucket for m in PostMetric.select().where(PostMetric.schedule == row.id)]


def take(creds: CredentialStore, clock: FakeClock) -> list[insights.AccountFetch]:
    return insights.take_snapshots(creds, clock=clock)


def test_snapshots_at_one_hour_a_day_and_a_week(creds, clock, fake, account):
    row = published(account, clock, "1001", timedelta(0))
    fake.set_metrics("1001", like_count=2, impression_count=40)
    clock.advance(timedelta(minutes=30))
    assert take(creds, clock) == []
    clock.advance(timedelta(minutes=31))
    (report,) = take(creds, clock)
    assert report.taken == 1 and buckets(row) == ["1h"]
    assert take(creds, clock)[0:] == [] and buckets(row) == ["1h"]  # taken once
    fake.set_metrics("1001", like_count=9, reply_count=1, impression_count=400)
    clock.advance(timedelta(hours=23))
    take(creds, clock)
    clock.advance(timedelta(days=6))
    take(creds, clock)
    assert buckets(row) == ["1h", "24h", "7d"]
    clock.advance(timedelta(days=10))
    assert take(creds, clock) == []  # past 7 d: no more scheduled snapshots
    latest = PostMetric.select().order_by(PostMetric.taken_at.desc()).first()
    assert (latest.interactions, latest.impressions) == (10, 400)
    assert len(fake.calls("GET /2/tweets")) == 3


def test_a_missed_hour_is_not_taken_late_under_its_name(creds, clock, fake, account):
    row = published(account, clock, "1001", timedelta(hours=30))  # the computer was off
    fake.set_metrics("1001", like_count=1)
    take(creds, clock)
    assert buckets(row) == ["24h"]


def test_an_accounts_posts_go_in_one_request(creds, clock, fake, account):
    rows = [published(account, clock, str(2000 + n), timedelta(hours=2)) for n in range(3)]
    for row in rows:
        fake.set_metrics(row.remote_id, like_count=1)
    (report,) = take(creds, clock)
    assert report.taken == 3
    (call,) = fake.calls("GET /2/tweets")
    assert call.query["ids"] == ["2000,2001,2002"]


def test_a_rate_limit_stops_the_account_until_the_reset(creds, clock, fake, account):
    published(account, clock, "1001", timedelta(hours=2))
    reset = int((clock.now() + timedelta(minutes=15)).timestamp())
    fake.inject(
        "GET /2/tweets",
        status=429,
        body={"title": "Too Many Requests"},
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    (report,) = take(creds, clock)
    assert report.wait_until is not None and report.taken == 0
    clock.advance(timedelta(minutes=5))
    (report,) = take(creds, clock)
    assert report.wait_until is not None
    assert len(fake.calls("GET /2/tweets")) == 1  # not asked again before the reset
    clock.advance(timedelta(minutes=11))
    fake.set_metrics("1001", like_count=1)
    (report,) = take(creds, clock)
    assert report.taken == 1


def test_fetch_now_takes_every_published_post_even_old_ones(creds, clock, fake, account):
    old = published(account, clock, "1001", timedelta(days=60))
    fake.set_metrics("1001", like_count=3)
    assert take(creds, clock) == []
    (report,) = insights.take_snapshots(creds, clock=clock, account="mine", manual=True)
    assert report.taken == 1 and buckets(old) == ["manual"]


def test_a_deleted_post_is_counted_gone_and_stores_nothing(creds, clock, fake, account):
    published(account, clock, "1001", timedelta(hours=2))
    fake.delete_tweet("1001")
    (report,) = take(creds, clock)
    assert (report.taken, report.gone) == (0, 1)


# ---------------------------------------------------------------- never ahead of a publish


def _engine(creds: CredentialStore, clock: FakeClock) -> Engine:
    return Engine(
        creds,
        clock=clock,
        config=EngineConfig(grace=timedelta(hours=2), max_attempts=3),
        publisher_factory=registry.make_publisher,
        rng=random.Random(7),
    )


def _until(check, timeout: float = WAIT) -> bool:
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if check():
            return True
        time.sleep(0.01)
    return False


def test_no_fetch_starts_when_a_publish_is_due_within_five_minutes(creds, clock, fake, account):
    published(account, clock, "1001", timedelta(hours=2))
    at = clock.now() + timedelta(minutes=4)
    ScheduledPost.create(
        post=Post.create(body="soon"), account=account, scheduled_time=at, next_attempt_at=at
    )
    dispatcher = Dispatcher(_engine(creds, clock), lambda o: None)
    try:
        assert not dispatcher.start_snapshots(force=True)
        assert not fake.calls("GET /2/tweets")
    finally:
        dispatcher.shutdown(5)


def test_a_post_due_while_a_fetch_is_held_goes_out_on_time(creds, clock, fake, account):
    published(account, clock, "1001", timedelta(hours=2))
    fake.set_metrics("1001", like_count=1)
    at = clock.now() + timedelta(minutes=10)
    due = ScheduledPost.create(
        post=Post.create(body="on time"), account=account, scheduled_time=at, next_attempt_at=at
    )
    # the platform holds the metrics answer until the test lets it go
    fake.inject("GET /2/tweets", mode="slow", delay=WAIT)
    dispatcher = Dispatcher(_engine(creds, clock), lambda o: None)
    try:
        assert dispatcher.start_snapshots(force=True)
        assert _until(lambda: fake.calls("GET /2/tweets"))
        clock.advance(timedelta(minutes=10))  # the post is due now; the fetch still waits
        started = time.monotonic()
        assert dispatcher.dispatch_due(housekeeping_first=False) == 1
        assert _until(lambda: ScheduledPost.get_by_id(due.id).status == Status.PUBLISHED)
        took = time.monotonic() - started
        assert took < 5.0, f"the publish waited {took:.1f} s"
        assert fake.tweets_by(USER_ID)[0]["text"] == "on time"
        assert not dispatcher.metrics_idle(0)  # the fetch was still held all along
    finally:
        fake.answer_held()
        assert dispatcher.metrics_idle(WAIT)
        dispatcher.shutdown(5)
    row = ScheduledPost.get_by_id(due.id)
    assert row.published_at == at  # the fake clock did not move: no lateness at all
