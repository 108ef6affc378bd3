"""Bluesky metrics over real HTTP: getPosts in batches of 25, deleted posts, 429."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from milton_desktop.domain.content import Content
from milton_desktop.publishers.base import RateLimited
from milton_desktop.publishers.bluesky import BlueskyPublisher
from tests.fakes.bluesky import FakeBluesky

HANDLE = "alice.test"
PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:u5cwb2mwiv2bfq53cjufe6yn"


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        server.add_account(HANDLE, PASSWORD, did=DID)
        yield server


@pytest.fixture
def signed_in(fake):
    pub = BlueskyPublisher(api_base=fake.url, sleep=lambda s: None, timeout=(2.0, 2.0))
    cred = pub.sign_in(PASSWORD, HANDLE)
    ident = pub.identify(cred)
    from milton_desktop.domain.credential import AccountRef

    yield pub, cred, AccountRef(ident.remote_id, ident.username)
    pub.session.close()


def test_a_published_post_is_read_back_with_its_counts(fake, signed_in):
    pub, cred, account = signed_in
    posted = pub.publish(Content(text="hello"), cred, account)
    fake.set_counts(posted.remote_id, likeCount=7, repostCount=2, replyCount=1, quoteCount=1)
    batch = pub.metrics([posted.remote_id], cred, account)
    assert batch.counters == {
        posted.remote_id: {"likes": 7, "reposts": 2, "replies": 1, "quotes": 1}
    }
    (call,) = fake.calls("GET /xrpc/app.bsky.feed.getPosts")
    assert call.query["uris"] == [posted.remote_id]


def test_missing_posts_are_gone_and_batches_hold_25(fake, signed_in):
    pub, cred, account = signed_in
    uris = [f"at://{DID}/app.bsky.feed.post/3kpost{n:05d}" for n in range(30)]
    for uri in uris[:-1]:
        fake.set_counts(uri, likeCount=1)
    batch = pub.metrics(uris, cred, account)
    assert len(batch.counters) == 29
    assert batch.gone == {uris[-1]}
    sizes = [len(c.query["uris"]) for c in fake.calls("GET /xrpc/app.bsky.feed.getPosts")]
    assert sizes == [25, 5]


def test_the_read_limit_is_a_rate_limit_with_the_reset(fake, signed_in):
    pub, cred, account = signed_in
    fake.read_limit = 1
    uri = f"at://{DID}/app.bsky.feed.post/3kpost00001"
    fake.set_counts(uri, likeCount=1)
    pub.metrics([uri], cred, account)
    with pytest.raises(RateLimited) as info:
        pub.metrics([uri], cred, account)
    assert info.value.retry_at > datetime.now(UTC)
