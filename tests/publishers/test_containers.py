"""The shared container base's seam, ``post_container``, over real HTTP.

Instagram's and Threads' publishing is covered by their own test files; here only what
the base offers to other kinds of post made the same way: extra fields on the
container that is published, and no text-only container where the platform has none.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import Rejected
from milton_desktop.publishers.instagram import InstagramPublisher
from milton_desktop.publishers.threads import ThreadsPublisher
from tests.fakes.instagram import FakeInstagram, MediaHost, make_jpeg
from tests.fakes.threads import FakeThreads

TOKEN = "THQVtestTOKENsecret0123456789"
USER_ID = "25811240958523117"
ACCOUNT = AccountRef(remote_id=USER_ID, username="milton.studio")
CRED = Credential(TOKEN)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATE = r"POST /v1\.0/\d+/threads"


@pytest.fixture
def host():
    server = MediaHost().start()
    server.add("/square.jpg", make_jpeg(1080, 1080))
    yield server
    server.stop()


@pytest.fixture
def fake():
    server = FakeThreads().start()
    server.add_token(TOKEN, user_id=USER_ID, username="milton.studio")
    yield server
    server.stop()


@pytest.fixture
def pub(fake) -> ThreadsPublisher:
    return ThreadsPublisher(
        api_base=fake.url, timeout=(2, 1), now=lambda: NOW, sleep=lambda s: None
    )


def image(host) -> MediaItem:
    return MediaItem(kind="image", mime="image/jpeg", url=f"{host.url}/square.jpg")


def test_extra_fields_go_on_the_one_container(fake, pub):
    parent = pub.post_container(Content(text="the first"), CRED, ACCOUNT).remote_id
    pub.checkpoint = {}
    result = pub.post_container(
        Content(text="a follow-up"), CRED, ACCOUNT, fields={"reply_to_id": parent}
    )
    create = fake.calls(CREATE)[-1]
    assert create.json() == {"media_type": "TEXT", "text": "a follow-up", "reply_to_id": parent}
    post = fake.published[-1]
    assert post["reply_to"] == parent
    assert result.remote_id == post["id"]
    assert pub.checkpoint["container"] == post["container"]


def test_extra_fields_go_on_the_carousel_not_its_items(fake, pub, host):
    parent = pub.post_container(Content(text="the first"), CRED, ACCOUNT).remote_id
    pub.checkpoint = {}
    content = Content(text="two", media=(image(host), image(host)))
    pub.post_container(content, CRED, ACCOUNT, fields={"reply_to_id": parent})
    bodies = [c.json() for c in fake.calls(CREATE)][1:]
    assert [("reply_to_id" in b) for b in bodies] == [False, False, True]
    assert bodies[-1]["media_type"] == "CAROUSEL"


def test_a_resumed_container_is_published_without_a_new_one(fake, pub):
    pub.post_container(Content(text="once"), CRED, ACCOUNT)
    again = ThreadsPublisher(
        api_base=fake.url, timeout=(2, 1), now=lambda: NOW, sleep=lambda s: None
    )
    again.resume = dict(pub.checkpoint)
    result = again.post_container(Content(text="once"), CRED, ACCOUNT)
    assert len(fake.calls(CREATE)) == 1  # no second container
    assert len(fake.published) == 1  # and no second post
    assert result.remote_id == fake.published[0]["id"]


def test_instagram_has_no_text_only_container():
    with FakeInstagram() as ig:
        pub = InstagramPublisher(api_base=ig.url, timeout=(2, 1))
        with pytest.raises(Rejected, match="cannot publish text alone: add an image or a video"):
            pub.post_container(Content(text="words only"), CRED, ACCOUNT)
        assert not ig.calls(r"POST .*")
