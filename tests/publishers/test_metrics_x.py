"""X metrics over real HTTP against the fake: batching, deleted posts, scopes, 429."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import RateLimited, Rejected
from milton_desktop.publishers.x import METRICS, XPublisher
from tests.fakes.x import FakeX

USER_ID = "2244994945"
TOKEN = "x-metrics-token"
ACCOUNT = AccountRef(USER_ID, "XDevelopers")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


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
def pub(fake: FakeX) -> Any:
    publisher = XPublisher(api_base=fake.url, timeout=(2, 2), now=lambda: NOW)
    yield publisher
    publisher.session.close()


def test_counters_come_back_in_the_shared_names(pub: XPublisher, fake: FakeX) -> None:
    fake.set_metrics("1001", like_count=5, repost_count=2, reply_count=1, impression_count=300)
    fake.set_metrics("1002", quote_count=4, bookmark_count=3)
    batch = pub.metrics(["1001", "1002"], Credential(TOKEN), ACCOUNT)
    assert batch.counters["1001"] == {
        "likes": 5,
        "reposts": 2,
        "replies": 1,
        "quotes": 0,
        "bookmarks": 0,
        "impressions": 300,
    }
    assert batch.counters["1002"]["quotes"] == 4
    (call,) = fake.calls("GET /2/tweets")
    assert call.query["ids"] == ["1001,1002"]
    assert call.query["tweet.fields"] == ["public_metrics"]


def test_a_deleted_post_is_gone_not_an_error(pub: XPublisher, fake: FakeX) -> None:
    fake.set_metrics("1001", like_count=1)
    fake.set_metrics("1003", like_count=1)
    fake.delete_tweet("1003")
    batch = pub.metrics(["1001", "1003"], Credential(TOKEN), ACCOUNT)
    assert set(batch.counters) == {"1001"}
    assert batch.gone == {"1003"}


def test_more_than_a_batch_is_split_at_100_ids(pub: XPublisher, fake: FakeX) -> None:
    ids = [str(5000 + n) for n in range(150)]
    for tid in ids:
        fake.set_metrics(tid, like_count=1)
    batch = pub.metrics(ids, Credential(TOKEN), ACCOUNT)
    assert len(batch.counters) == 150
    sizes = [len(c.query["ids"][0].split(",")) for c in fake.calls("GET /2/tweets")]
    assert sizes == [METRICS.batch, 50]


def test_the_fake_refuses_more_than_100_ids(fake: FakeX) -> None:
    import requests

    ids = ",".join(str(7000 + n) for n in range(101))
    resp = requests.get(
        f"{fake.url}/2/tweets",
        params={"ids": ids, "tweet.fields": "public_metrics"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=5,
    )
    assert resp.status_code == 400


def test_a_token_without_tweet_read_is_refused(pub: XPublisher, fake: FakeX) -> None:
    fake.add_token("narrow", USER_ID, scopes=frozenset({"tweet.write", "users.read"}))
    with pytest.raises(Rejected, match=r"tweet\.read"):
        pub.metrics(["1001"], Credential("narrow"), ACCOUNT)


def test_429_waits_for_the_reset(pub: XPublisher, fake: FakeX) -> None:
    reset = int(NOW.timestamp()) + 600
    fake.inject(
        "GET /2/tweets",
        status=429,
        body={"title": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    with pytest.raises(RateLimited) as info:
        pub.metrics(["1001"], Credential(TOKEN), ACCOUNT)
    assert info.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert len(fake.calls("GET /2/tweets")) == 1  # never retried in a loop


def test_the_fake_counts_lookups_against_a_window(pub: XPublisher, fake: FakeX) -> None:
    fake.endpoint_limits["lookup"] = 1
    fake.set_metrics("1001", like_count=1)
    pub.metrics(["1001"], Credential(TOKEN), ACCOUNT)
    with pytest.raises(RateLimited):
        pub.metrics(["1001"], Credential(TOKEN), ACCOUNT)
