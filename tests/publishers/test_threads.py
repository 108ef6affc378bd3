"""ThreadsPublisher against FakeThreads over real HTTP on 127.0.0.1.

Media come from a separate MediaHost server, because the fake fetches ``image_url``
while holding its own lock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.threads import (
    PLATFORM,
    ThreadsPublisher,
    authorize_url,
    links,
    threads_length,
)
from tests.fakes.instagram import make_jpeg
from tests.fakes.server import Reply
from tests.fakes.threads import FakeThreads, MediaHost, link_count, threads_count

TOKEN = "THQVtestTOKENsecret0123456789"
USER_ID = "25811240958523117"
USERNAME = "milton.studio"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = AccountRef(remote_id=USER_ID, username=USERNAME)

CREATE = r"POST /v1\.0/\d+/threads"
PUBLISH = r"POST /v1\.0/\d+/threads_publish"
STATUS = r"GET /v1\.0/1788\d+"
QUOTA = r"GET /v1\.0/\d+/threads_publishing_limit"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 256


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def host():
    server = MediaHost().start()
    server.add("/square.jpg", make_jpeg(1080, 1080))
    server.add("/photo.png", PNG, "image/png")
    server.add("/clip.mp4", MP4, "video/mp4")
    yield server
    server.stop()


@pytest.fixture
def fake():
    server = FakeThreads().start()
    server.add_token(TOKEN, user_id=USER_ID, username=USERNAME)
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_pub(fake, sleeps):
    def make(**kwargs) -> ThreadsPublisher:
        kwargs.setdefault("timeout", (2, 1))
        kwargs.setdefault("now", lambda: NOW)
        return ThreadsPublisher(api_base=fake.url, sleep=sleeps, **kwargs)

    return make


@pytest.fixture
def pub(make_pub) -> ThreadsPublisher:
    return make_pub()


CRED = Credential(TOKEN)


def image(host, path="/square.jpg", alt="", mime="image/jpeg") -> MediaItem:
    return MediaItem(kind="image", mime=mime, url=f"{host.url}{path}", alt_text=alt)


def video(host, alt="") -> MediaItem:
    return MediaItem(kind="video", mime="video/mp4", url=f"{host.url}/clip.mp4", alt_text=alt)


# ---------------------------------------------------------------- registry, identity


def test_registry_builds_the_threads_publisher(fake):
    made = registry.make_publisher("threads", api_base=fake.url)
    assert isinstance(made, ThreadsPublisher)
    assert registry.platform("threads") is PLATFORM


def test_identify_reads_id_username_and_name(fake, pub):
    who = pub.identify(CRED)
    assert (who.remote_id, who.username, who.display_name) == (USER_ID, USERNAME, "Milton Studio")
    (call,) = fake.calls(r"GET /v1\.0/me")
    assert call.header("authorization") == f"Bearer {TOKEN}"
    assert "access_token" not in call.query
    assert call.query["fields"] == ["id,username,name"]


def test_identify_with_expired_token_needs_reconnect(fake, pub):
    fake.expire(TOKEN)
    with pytest.raises(AuthExpired) as err:
        pub.identify(CRED)
    assert not err.value.refreshable and "reconnect" in str(err.value)


# ---------------------------------------------------------------- counting and validation


@pytest.mark.parametrize(
    "text,expected",
    [
        ("hello", 5),
        ("日本語のテキスト", 8),  # CJK: one each
        ("🎉", 4),  # an emoji: its UTF-8 bytes
        ("ok 👍🏽", 3 + 4 + 4),  # with a skin tone modifier
        ("❤️", 3 + 3),  # heart and variation selector 16
        ("e\u0301", 1),  # NFC: é
    ],
)
def test_length_counts_emoji_by_utf8_bytes(text, expected):
    assert threads_length(text) == expected
    assert threads_count(text) == expected  # the fake counts the same
    assert PLATFORM.length(text) == (expected, 500)


def test_text_over_500_is_refused_before_sending(fake, pub):
    problems = PLATFORM.validate(Content(text="🎉" * 126))  # 504
    assert problems and "504" in problems[0].message
    with pytest.raises(Rejected):
        pub.publish(Content(text="a" * 501), CRED, ACCOUNT)
    assert fake.calls(CREATE) == []


def test_at_most_five_links():
    five = " ".join(f"https://example.com/{n}" for n in range(5))
    assert len(links(five)) == 5 and not PLATFORM.validate(Content(text=five))
    six = five + " example.org"
    assert link_count(six) == 6
    (problem,) = PLATFORM.validate(Content(text=six))
    assert "at most 5" in problem.message
    # the same link twice counts once
    assert not PLATFORM.validate(Content(text=five + " https://example.com/0"))


def test_local_files_are_refused_clearly():
    local = MediaItem(
        kind="image", mime="image/jpeg", path=__import__("pathlib").Path("/tmp/a.jpg")
    )
    (problem,) = PLATFORM.validate(Content(text="hi", media=(local,)))
    assert "public URL" in problem.message


def test_carousel_limit_is_20():
    item = MediaItem(kind="image", mime="image/jpeg", url="https://cdn.example/a.jpg")
    assert not PLATFORM.validate(Content(text="", media=(item,) * 20))
    assert PLATFORM.validate(Content(text="", media=(item,) * 21))


# ---------------------------------------------------------------- publishing


def test_text_post(fake, pub):
    result = pub.publish(Content(text="Hello Threads 🎉"), CRED, ACCOUNT)
    (post,) = fake.published
    assert post["media_type"] == "TEXT" and post["text"] == "Hello Threads 🎉"
    assert result.remote_id == post["id"]
    assert result.url.startswith(f"https://www.threads.com/@{USERNAME}/post/")
    (create,) = fake.calls(CREATE)
    assert create.json() == {"media_type": "TEXT", "text": "Hello Threads 🎉"}
    assert fake.calls(QUOTA)
    (status,) = fake.calls(STATUS)
    assert status.query["fields"] == ["status,error_message"]
    assert pub.checkpoint["container"] == fake.published[0]["container"]


def test_image_with_alt_text(fake, pub, host):
    pub.publish(Content(text="Launch", media=(image(host, alt="Team photo"),)), CRED, ACCOUNT)
    (post,) = fake.published
    assert post["media_type"] == "IMAGE" and post["alt_texts"] == ["Team photo"]
    body = fake.calls(CREATE)[0].json()
    assert body["image_url"].endswith("/square.jpg") and body["text"] == "Launch"


def test_png_image_and_video(fake, pub, host, sleeps):
    pub.publish(
        Content(text="", media=(image(host, "/photo.png", mime="image/png"),)), CRED, ACCOUNT
    )
    pub.publish(Content(text="clip", media=(video(host, alt="A clip"),)), CRED, ACCOUNT)
    assert [p["media_type"] for p in fake.published] == ["IMAGE", "VIDEO"]
    assert fake.published[1]["alt_texts"] == ["A clip"]
    assert 60.0 in sleeps.waits  # video polls once a minute


def test_carousel(fake, pub, host):
    media = (image(host, alt="one"), video(host), image(host, "/photo.png", "three", "image/png"))
    pub.publish(Content(text="A carousel", media=media), CRED, ACCOUNT)
    (post,) = fake.published
    assert post["media_type"] == "CAROUSEL" and len(post["children"]) == 3
    assert post["alt_texts"] == ["one", "", "three"] and post["text"] == "A carousel"
    items = [c.json() for c in fake.calls(CREATE)[:3]]
    assert all(i["is_carousel_item"] is True and "text" not in i for i in items)


def test_container_error_is_rejected_and_download_failure_transient(fake, pub, host):
    url = f"{host.url}/clip.mp4"
    fake.processing_errors[url] = "INVALID_DURATION"
    with pytest.raises(Rejected, match="INVALID_DURATION"):
        pub.publish(Content(text="x", media=(video(host),)), CRED, ACCOUNT)
    fake.processing_errors[url] = "FAILED_DOWNLOADING_VIDEO"
    with pytest.raises(Transient):
        pub.publish(Content(text="x", media=(video(host),)), CRED, ACCOUNT)
    assert fake.published == []


def test_polling_is_bounded(fake, make_pub, host, sleeps):
    fake.video_polls = 1000
    with pytest.raises(Transient, match="still processing"):
        make_pub().publish(Content(text="x", media=(video(host),)), CRED, ACCOUNT)
    assert sum(sleeps.waits) == 300


def test_used_up_quota_waits_without_a_container(fake, pub):
    fake.quota_usage = 250
    with pytest.raises(RateLimited) as err:
        pub.publish(Content(text="x"), CRED, ACCOUNT)
    assert err.value.retry_at == NOW + timedelta(days=1)
    assert fake.calls(CREATE) == []


def test_quota_refused_at_publish_is_rate_limited(fake, pub):
    fake.inject(r"GET /v1\.0/\d+/threads_publishing_limit", status=500)
    fake.quota_usage = 250
    with pytest.raises(RateLimited):
        pub.publish(Content(text="x"), CRED, ACCOUNT)
    assert fake.published == []


def test_link_limit_from_the_server_is_rejected(fake, pub):
    fake.inject(
        CREATE,
        status=400,
        body={"error": {"message": "THREADS_API__LINK_LIMIT_EXCEEDED", "code": 100}},
    )
    with pytest.raises(Rejected, match="links"):
        pub.publish(Content(text="x"), CRED, ACCOUNT)


def test_call_limit_is_rate_limited(fake, pub):
    fake.inject(CREATE, status=400, body={"error": {"message": "limit", "code": 4}})
    with pytest.raises(RateLimited):
        pub.publish(Content(text="x"), CRED, ACCOUNT)


@pytest.mark.parametrize("mode", ["drop", "timeout"])
def test_lost_container_answer_is_transient(fake, pub, mode):
    fake.inject(CREATE, mode=mode, when="after", delay=2)
    with pytest.raises(Transient):
        pub.publish(Content(text="x"), CRED, ACCOUNT)
    assert fake.published == []


# ---------------------------------------------------------------- unknown outcomes


@pytest.mark.parametrize("mode", ["drop", "timeout"])
def test_publish_landed_but_answer_lost_resolves_to_published(fake, pub, mode):
    fake.inject(PUBLISH, mode=mode, when="after", delay=2)
    result = pub.publish(Content(text="dropped"), CRED, ACCOUNT)
    (post,) = fake.published
    assert result.remote_id == post["id"] and "/post/" in result.url
    assert len(fake.calls(PUBLISH)) == 1


def test_publish_lost_before_landing_is_retried_once_on_the_same_container(fake, pub):
    fake.inject(PUBLISH, mode="drop", when="before")
    pub.publish(Content(text="again"), CRED, ACCOUNT)
    assert len(fake.published) == 1 and len(fake.calls(CREATE)) == 1
    calls = fake.calls(PUBLISH)
    assert len(calls) == 2 and calls[0].json() == calls[1].json()


def test_refused_publish_that_went_live_is_a_success(fake, pub):
    fake.publish_then_fail(code=1, status=500)
    result = pub.publish(Content(text="live anyway"), CRED, ACCOUNT)
    assert len(fake.published) == 1 and result.remote_id == fake.published[0]["id"]


def test_landed_post_missing_from_the_list_stays_unknown(fake, pub):
    fake.listing_delay = 3600
    fake.inject(PUBLISH, mode="drop", when="after")
    with pytest.raises(OutcomeUnknown, match="recent threads"):
        pub.publish(Content(text="hidden"), CRED, ACCOUNT)
    assert len(fake.published) == 1


def test_unreadable_container_after_a_lost_publish_stays_unknown(fake, pub, monkeypatch):
    def lost(_tok, _params):  # the request goes astray and the container cannot be read
        fake.inject(STATUS, status=500, times=10)
        return Reply(200, {})

    monkeypatch.setattr(fake, "_media_publish", lost)
    fake.inject(PUBLISH, mode="drop", when="after")
    with pytest.raises(OutcomeUnknown):
        pub.publish(Content(text="x"), CRED, ACCOUNT)
    assert fake.published == [] and len(fake.calls(PUBLISH)) == 1


def test_the_resolution_picks_our_post_among_recent_ones(fake, pub):
    fake.add_thread("someone else's", at=fake.clock)
    fake.add_thread("dropped", at=fake.clock - 7 * 86400)  # same text, long ago
    fake.inject(PUBLISH, mode="drop", when="after")
    result = pub.publish(Content(text="dropped"), CRED, ACCOUNT)
    assert result.remote_id == fake.published[0]["id"]


def test_a_retry_reuses_the_earlier_container(fake, make_pub):
    first = make_pub()
    fake.inject(PUBLISH, status=400, body={"error": {"message": "x", "code": 4}})
    with pytest.raises(RateLimited):
        first.publish(Content(text="later"), CRED, ACCOUNT)
    second = make_pub()
    second.resume = dict(first.checkpoint)
    second.publish(Content(text="later"), CRED, ACCOUNT)
    assert len(fake.calls(CREATE)) == 1 and len(fake.published) == 1


def test_a_retry_finds_the_earlier_attempt_landed(fake, make_pub):
    fake.listing_delay = 3600  # the first attempt cannot see its post yet
    fake.inject(PUBLISH, mode="drop", when="after")
    first = make_pub()
    with pytest.raises(OutcomeUnknown):
        first.publish(Content(text="landed"), CRED, ACCOUNT)
    fake.advance(3601)
    second = make_pub()
    second.resume = dict(first.checkpoint)
    result = second.publish(Content(text="landed"), CRED, ACCOUNT)
    assert len(fake.published) == 1 and result.remote_id == fake.published[0]["id"]
    assert len(fake.calls(PUBLISH)) == 1 and len(fake.calls(CREATE)) == 1


def test_an_expired_earlier_container_makes_way_for_a_new_one(fake, make_pub):
    first = make_pub()
    fake.inject(PUBLISH, status=400, body={"error": {"message": "x", "code": 4}})
    with pytest.raises(RateLimited):
        first.publish(Content(text="old"), CRED, ACCOUNT)
    fake.advance(86400 + 5)
    fake.add_token(TOKEN, user_id=USER_ID, username=USERNAME)  # the token stays valid
    second = make_pub(now=lambda: NOW + timedelta(days=1, seconds=5))
    second.resume = dict(first.checkpoint)
    second.publish(Content(text="old"), CRED, ACCOUNT)
    assert len(fake.calls(CREATE)) == 2 and len(fake.published) == 1


def test_permalink_failure_falls_back_to_the_profile(fake, pub):
    fake.inject(r"GET /v1\.0/1792\d+", status=500, times=5)
    result = pub.publish(Content(text="x"), CRED, ACCOUNT)
    assert result.url == f"https://www.threads.com/@{USERNAME}"


# ---------------------------------------------------------------- tokens


def test_refresh_returns_a_new_long_lived_token(fake, pub):
    fresh = pub.refresh(CRED)
    assert fresh.access_token.startswith("THQVlong")
    assert fresh.expires_at == NOW + timedelta(seconds=5184000)
    (call,) = fake.calls(r"GET /refresh_access_token")
    assert call.query["grant_type"] == ["th_refresh_token"]


def test_refresh_of_an_expired_or_new_token_needs_reconnect(fake, pub):
    fake.add_token("THQVnew", user_id=USER_ID, age=60)
    with pytest.raises(AuthExpired):
        pub.refresh(Credential("THQVnew"))
    fake.expire(TOKEN)
    with pytest.raises(AuthExpired):
        pub.refresh(CRED)


def test_token_upkeep_renews_ahead_of_expiry():
    upkeep = PLATFORM.token_upkeep
    assert upkeep is not None
    renewed = NOW - timedelta(days=51)
    assert upkeep.due(NOW, expires_at=renewed + timedelta(days=60), renewed_at=renewed)
    assert not upkeep.due(
        NOW, expires_at=NOW + timedelta(days=59), renewed_at=NOW - timedelta(hours=2)
    )


def test_authorize_url():
    url = authorize_url("123", "http://127.0.0.1:8765/callback", "st4te")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "threads.net", "/oauth/authorize")
    q = parse_qs(parts.query)
    assert q["scope"] == ["threads_basic,threads_content_publish"]
    assert q["response_type"] == ["code"] and q["state"] == ["st4te"]


def test_exchange_code_gets_a_long_lived_token(fake, pub):
    fake.add_app("app-1", "s3cret")
    code = fake.issue_code("app-1", "http://127.0.0.1:8765/callback", user_id=USER_ID)
    cred = pub.exchange_code(code, "http://127.0.0.1:8765/callback", "app-1", "s3cret")
    assert cred.access_token.startswith("THQVlong") and cred.extra["user_id"] == USER_ID
    assert pub.identify(cred).remote_id == USER_ID


def test_exchange_code_refused_says_connect_again(fake, pub):
    fake.add_app("app-1", "s3cret")
    with pytest.raises(AuthExpired, match="connect the account again"):
        pub.exchange_code("bogus", "http://127.0.0.1:8765/callback", "app-1", "s3cret")


# ---------------------------------------------------------------- the fake itself


def test_fake_enforces_the_contract(fake, host):
    import requests

    def create(**params):
        return requests.post(
            f"{fake.url}/v1.0/{USER_ID}/threads",
            params=params,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )

    assert create(text="no type").status_code == 400
    assert create(media_type="TEXT").status_code == 400
    assert create(media_type="TEXT", text="a" * 501).status_code == 400
    assert create(media_type="TEXT", text="x", alt_text="no").status_code == 400
    assert create(media_type="CAROUSEL", children="1").status_code == 400
    assert create(media_type="IMAGE", image_url="http://127.0.0.1:1/x.jpg").status_code == 400
    ok = create(media_type="TEXT", text="fine", access_token=TOKEN)
    assert ok.status_code == 200
    node = requests.get(
        f"{fake.url}/v1.0/{ok.json()['id']}",
        params={"fields": "status_code", "access_token": TOKEN},
        timeout=5,
    )
    assert node.status_code == 400  # Threads has no status_code field
