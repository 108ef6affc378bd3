"""LinkedIn metrics over real HTTP: member post analytics where the token has the
permission, social actions' counts where it has that, else one note."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import RateLimited
from milton_desktop.publishers.linkedin import LinkedInPublisher
from tests.fakes.linkedin import DEFAULT_SCOPES, FakeLinkedIn

SUB = "782bbtaQ"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SHARE = "urn:li:share:7100000000000000001"
UGC = "urn:li:ugcPost:7100000000000000002"
ACCOUNT = AccountRef(SUB)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLinkedIn]:
    fake = FakeLinkedIn()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server: FakeLinkedIn) -> FakeLinkedIn:
    server.reset()
    server.set_post_stats(
        SHARE, IMPRESSION=1200, MEMBERS_REACHED=800, REACTION=30, COMMENT=5, RESHARE=2
    )
    server.set_post_stats(UGC, IMPRESSION=50, REACTION=1)
    return server


@pytest.fixture
def pub(fake: FakeLinkedIn) -> Iterator[LinkedInPublisher]:
    publisher = LinkedInPublisher(api_base=fake.url, timeout=(2, 2), now=lambda: NOW)
    yield publisher
    publisher.session.close()


def token(fake: FakeLinkedIn, *extra: str) -> Credential:
    scopes = DEFAULT_SCOPES | set(extra)
    return Credential(fake.add_member(SUB, scopes=frozenset(scopes)), extra={
        "scope": ",".join(sorted(scopes))
    })  # fmt: skip


def test_analytics_for_a_share_and_a_ugc_post(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    batch = pub.metrics([SHARE, UGC], token(fake, "r_member_postAnalytics"), ACCOUNT)
    assert batch.counters[SHARE] == {
        "impressions": 1200,
        "reach": 800,
        "likes": 30,
        "comments": 5,
        "reposts": 2,
    }
    assert batch.counters[UGC]["impressions"] == 50
    assert not batch.notes
    calls = fake.calls("GET /rest/memberCreatorPostAnalytics")
    assert len(calls) == 10  # one per post and query type
    first = calls[0]
    assert first.query["entity"] == [f"(share:{SHARE})"]
    assert first.query["aggregation"] == ["TOTAL"]
    assert first.header("LinkedIn-Version") and first.header("X-Restli-Protocol-Version") == "2.0.0"
    assert calls[5].query["entity"] == [f"(ugc:{UGC})"]


def test_without_analytics_the_social_actions_counts_are_read_with_a_note(
    pub: LinkedInPublisher, fake: FakeLinkedIn
) -> None:
    batch = pub.metrics([SHARE], token(fake, "r_member_social"), ACCOUNT)
    assert batch.counters == {SHARE: {"likes": 30, "comments": 5}}
    (note,) = batch.notes
    assert "r_member_postAnalytics" in note and "reach" in note
    assert not fake.calls("GET /rest/memberCreatorPostAnalytics")


def test_a_pasted_token_learns_its_permissions_from_the_403(
    pub: LinkedInPublisher, fake: FakeLinkedIn
) -> None:
    pasted = Credential(fake.add_member(SUB))  # no scope recorded, none of the read ones
    batch = pub.metrics([SHARE, UGC], pasted, ACCOUNT)
    assert batch.counters == {}
    (note,) = batch.notes
    assert "likes and comments" in note
    # one refusal of each kind, not one per post
    assert len(fake.calls("GET /rest/memberCreatorPostAnalytics")) == 1
    assert len(fake.calls("GET /rest/socialActions/.*")) == 1


def test_a_deleted_post_is_gone(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    fake.deleted_posts.add(UGC)
    batch = pub.metrics([SHARE, UGC], token(fake, "r_member_postAnalytics"), ACCOUNT)
    assert batch.gone == {UGC}
    assert SHARE in batch.counters


def test_429_is_a_rate_limit(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    fake.inject("GET /rest/memberCreatorPostAnalytics", status=429, body={"status": 429})
    with pytest.raises(RateLimited):
        pub.metrics([SHARE], token(fake, "r_member_postAnalytics"), ACCOUNT)
