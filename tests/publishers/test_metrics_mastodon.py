"""Mastodon metrics over real HTTP: the 4.3 batch, the one-by-one fallback, 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import AuthExpired, RateLimited
from milton_desktop.publishers.mastodon import MastodonPublisher
from tests.fakes.mastodon import FakeMastodon

TOKEN = "masto-metrics"
ACCOUNT = AccountRef("1", "alice")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Any:
    server = FakeMastodon()
    server.add_user("1", "alice", "Alice", token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pub(fake: FakeMastodon) -> Any:
    publisher = MastodonPublisher(api_base=fake.url, timeout=(2, 2), now=lambda: NOW)
    yield publisher
    publisher.session.close()


def test_one_request_reads_a_batch_on_4_3(pub: MastodonPublisher, fake: FakeMastodon) -> None:
    fake.set_counts("11", favourites_count=4, reblogs_count=2, replies_count=1)
    fake.set_counts("12", favourites_count=1)
    fake.deleted.add("12")
    batch = pub.metrics(["11", "12"], Credential(TOKEN), ACCOUNT)
    assert batch.counters == {"11": {"likes": 4, "reposts": 2, "replies": 1}}
    assert batch.gone == {"12"}
    (call,) = fake.calls("GET /api/v1/statuses")
    assert call.query["id[]"] == ["11", "12"]


def test_quotes_are_read_where_the_server_counts_them(
    pub: MastodonPublisher, fake: FakeMastodon
) -> None:
    fake.has_quotes = True
    fake.set_counts("11", quotes_count=3)
    assert pub.metrics(["11"], Credential(TOKEN), ACCOUNT).counters["11"]["quotes"] == 3


def test_an_older_server_is_read_one_status_at_a_time(
    pub: MastodonPublisher, fake: FakeMastodon
) -> None:
    fake.batch_lookup = False
    fake.set_counts("11", favourites_count=4)
    fake.set_counts("13", reblogs_count=5)
    fake.deleted.add("13")
    batch = pub.metrics(["11", "13"], Credential(TOKEN), ACCOUNT)
    assert batch.counters == {"11": {"likes": 4, "reposts": 0, "replies": 0}}
    assert batch.gone == {"13"}
    assert len(fake.calls(r"GET /api/v1/statuses/\d+")) == 2


def test_batches_are_at_most_20_ids(pub: MastodonPublisher, fake: FakeMastodon) -> None:
    ids = [str(100 + n) for n in range(45)]
    for status_id in ids:
        fake.set_counts(status_id, favourites_count=1)
    assert len(pub.metrics(ids, Credential(TOKEN), ACCOUNT).counters) == 45
    assert [len(c.query["id[]"]) for c in fake.calls("GET /api/v1/statuses")] == [20, 20, 5]


def test_429_carries_the_reset(pub: MastodonPublisher, fake: FakeMastodon) -> None:
    fake.rate_limit("GET /api/v1/statuses", NOW + timedelta(minutes=5))
    with pytest.raises(RateLimited) as info:
        pub.metrics(["11"], Credential(TOKEN), ACCOUNT)
    assert info.value.retry_at == NOW + timedelta(minutes=5)


def test_a_revoked_token_is_auth_expired(pub: MastodonPublisher) -> None:
    with pytest.raises(AuthExpired):
        pub.metrics(["11"], Credential("revoked"), ACCOUNT)
