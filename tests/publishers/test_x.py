"""XPublisher against FakeX over real HTTP on 127.0.0.1.

Every error the publisher raises is checked for the access token: ``str(err)`` is
shown to the user and written to logs, so it must never carry a secret.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.oauth import make_pkce, pkce_challenge
from milton_desktop.publishers.x import (
    CHUNK_SIZE,
    PREMIUM,
    XPublisher,
    authorize_url,
)
from tests.fakes.server import FakeServer, Reply, Request
from tests.fakes.x import DUPLICATE, USAGE_CAPPED, FakeX

USER_ID = "2244994945"
USERNAME = "XDevelopers"
TOKEN = "at-alice-5f1c0ffee0ddba11"
REFRESH = "rt-alice-7e57ab1e5ca1ab1e"
CLIENT_ID = "milton-desktop-client"
ACCOUNT = AccountRef(USER_ID, USERNAME)
SECRETS = (TOKEN, REFRESH, f"Bearer {TOKEN}")


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def x_server() -> Any:
    # One server for the module, reset per test: stopping one costs half a second.
    server = FakeX()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(x_server: FakeX) -> FakeX:
    x_server.reset()
    x_server.add_user(USER_ID, USERNAME, "X Developers", token=TOKEN)
    x_server.add_refresh_token(REFRESH, USER_ID, CLIENT_ID)
    return x_server


@pytest.fixture(scope="module")
def media_server() -> Any:
    server = MediaHost()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def host(media_server: MediaHost) -> MediaHost:
    with media_server._lock:
        media_server.files.clear()
        media_server.requests.clear()
    media_server.clear_faults()
    return media_server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def pub(fake: FakeX, sleeps: list[float], clock: datetime) -> Any:
    publisher = XPublisher(
        api_base=fake.url, timeout=(2, 1), sleep=sleeps.append, now=lambda: clock
    )
    yield publisher
    publisher.session.close()


def cred(**changes: Any) -> Credential:
    base = Credential(access_token=TOKEN, refresh_token=REFRESH, client_id=CLIENT_ID)
    return base.with_token(**changes) if changes else base


def expect(kind: type[PublishError], call: Callable[[], Any]) -> PublishError:
    """Run ``call``, require it to raise ``kind``, and check no secret leaks from the error."""
    with pytest.raises(kind) as info:
        call()
    err = info.value
    shown = f"{err} {err!r} {err.args!r} {err.message}"
    for secret in SECRETS:
        assert secret not in shown
    return err


def png_bytes(width: int, height: int, seed: int = 1) -> bytes:
    """A real PNG of random pixels (so it barely compresses and spans several chunks)."""
    rnd = random.Random(seed)
    raw = b"".join(b"\x00" + rnd.randbytes(width * 3) for _ in range(height))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def mp4_bytes(size: int) -> bytes:
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + random.Random(7).randbytes(size - len(head))


def image_item(tmp_path: Path, data: bytes, name: str = "photo.png", **kw: Any) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(data)
    return MediaItem(kind="image", mime="image/png", path=path, size=len(data), **kw)


def routes(fake: FakeServer) -> list[str]:
    """The requests the fake saw, with media ids folded to {id} so sequences compare."""
    out = []
    for r in fake.requests:
        path = "/".join(
            "{id}" if part.isdigit() and len(part) > 3 else part for part in r.path.split("/")
        )
        out.append(f"{r.method} {path}")
    return out


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MediaHost(FakeServer):
    """A public web server holding media files, with a redirect like a CDN link."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}

    def handle(self, req: Request) -> Reply:
        # "Connection: close": the publisher hangs up mid-body on oversized files, and a
        # kept-alive handler would then fail reading the next request line.
        close = {"Connection": "close"}
        if req.path == "/short":
            return Reply(302, b"", {"Location": "/media/photo.jpg", **close})
        if req.path in self.files:
            data, ctype = self.files[req.path]
            return Reply(200, data, close, content_type=ctype)
        return Reply(404, "not found", close, content_type="text/plain")


# ---------------------------------------------------------------- registry and identity


def test_registry_finds_the_x_publisher(fake: FakeX) -> None:
    assert registry.platform("x").publisher is XPublisher
    publisher = registry.make_publisher("x", api_base=fake.url)
    assert publisher.base("api") == fake.url
    assert publisher.base("oauth") == fake.url
    assert XPublisher().base("api") == "https://api.x.com"
    publisher.session.close()


def test_identify(pub: XPublisher, fake: FakeX) -> None:
    who = pub.identify(cred())
    assert (who.remote_id, who.username, who.display_name) == (USER_ID, USERNAME, "X Developers")
    assert fake.requests[-1].header("authorization") == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("subscription_type", "tier"),
    [("Premium", PREMIUM), ("PremiumPlus", PREMIUM), ("Basic", None), ("None", None)],
)
def test_identify_reports_the_tier(
    pub: XPublisher, fake: FakeX, subscription_type: str, tier: str | None
) -> None:
    fake.subscribe(USER_ID, subscription_type)
    who = pub.identify(cred())
    assert who.tier == tier
    assert who.remote_id == USER_ID
    (call,) = fake.calls("GET /2/users/me")
    assert call.query == {"user.fields": ["subscription_type"]}  # X sends it only when asked


def test_identify_without_a_subscription_type_is_standard(pub: XPublisher, fake: FakeX) -> None:
    # X leaves out fields it will not disclose; no word on the plan means no long posts
    fake.inject(
        "GET /2/users/me",
        status=200,
        body={"data": {"id": USER_ID, "name": "X Developers", "username": USERNAME}},
    )
    assert pub.identify(cred()).tier is None


def test_fake_checks_user_fields_and_sends_the_plan_only_when_asked(fake: FakeX) -> None:
    fake.subscribe(USER_ID, "Premium")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    plain = requests.get(f"{fake.url}/2/users/me", headers=auth, timeout=2)
    assert "subscription_type" not in plain.json()["data"]
    asked = requests.get(
        f"{fake.url}/2/users/me",
        params={"user.fields": "subscription_type,created_at"},
        headers=auth,
        timeout=2,
    )
    assert asked.json()["data"]["subscription_type"] == "Premium"
    bad = requests.get(
        f"{fake.url}/2/users/me",
        params={"user.fields": "subscription_type,shoe_size"},
        headers=auth,
        timeout=2,
    )
    assert bad.status_code == 400
    assert "[shoe_size]" in bad.json()["errors"][0]["message"]


def test_identify_with_a_bad_token_is_auth_expired(pub: XPublisher) -> None:
    err = expect(AuthExpired, lambda: pub.identify(cred(access_token="nope")))
    assert err.refreshable


# ---------------------------------------------------------------- text posts


def test_text_post_body_and_url(pub: XPublisher, fake: FakeX) -> None:
    result = pub.publish(Content("Hello from Milton"), cred(), ACCOUNT)

    assert len(fake.tweets) == 1
    tweet = fake.tweets[0]
    assert result.remote_id == tweet["id"]
    assert result.url == f"https://x.com/{USERNAME}/status/{tweet['id']}"
    (call,) = fake.calls("POST /2/tweets")
    assert call.header("content-type") == "application/json"
    assert call.header("authorization") == f"Bearer {TOKEN}"
    assert call.json() == {"text": "Hello from Milton"}  # no media key when there is none
    assert routes(fake) == ["POST /2/tweets"]


def test_url_without_username_uses_the_web_status_link(pub: XPublisher, fake: FakeX) -> None:
    result = pub.publish(Content("no handle known"), cred(), AccountRef(USER_ID, ""))
    assert result.url == f"https://x.com/i/web/status/{result.remote_id}"


def test_fake_sends_rate_limit_headers_on_every_answer(fake: FakeX) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    me = requests.get(f"{fake.url}/2/users/me", headers=auth, timeout=2)
    post = requests.post(f"{fake.url}/2/tweets", json={"text": "hdrs"}, headers=auth, timeout=2)
    bad = requests.get(f"{fake.url}/2/users/me", timeout=2)
    for resp in (me, post, bad):
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
            k.lower() for k in resp.headers
        )
    assert post.status_code == 201
    assert post.headers["x-user-limit-24hour-remaining"] == str(fake.posts_per_day - 1)
    assert "x-user-limit-24hour-limit" not in me.headers  # reads carry only the window


# ---------------------------------------------------------------- media


def test_image_upload_in_chunks_with_progress_polls_and_alt_text(
    pub: XPublisher, fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    fake.processing_polls["tweet_image"] = 2
    data = png_bytes(1000, 800)
    assert 2 * CHUNK_SIZE < len(data) <= 3 * CHUNK_SIZE
    item = image_item(tmp_path, data, alt_text="A tabby cat asleep on a keyboard")
    seen: list[tuple[int, int]] = []

    result = pub.publish(
        Content("Photo of the day", (item,)),
        cred(),
        ACCOUNT,
        progress=lambda d, t: seen.append((d, t)),
    )

    assert routes(fake) == [
        "POST /2/media/upload/initialize",
        "POST /2/media/upload/{id}/append",
        "POST /2/media/upload/{id}/append",
        "POST /2/media/upload/{id}/append",
        "POST /2/media/upload/{id}/finalize",
        "GET /2/media/upload",
        "GET /2/media/upload",
        "POST /2/media/metadata",
        "POST /2/tweets",
    ]
    (init,) = fake.calls("POST /2/media/upload/initialize")
    assert init.json() == {
        "media_type": "image/png",
        "total_bytes": len(data),
        "media_category": "tweet_image",
    }
    appends = fake.calls(r"POST /2/media/upload/\d+/append")
    assert all(r.header("content-type", "").startswith("multipart/form-data") for r in appends)
    for status in fake.calls("GET /2/media/upload"):
        assert status.query["command"] == ["STATUS"]

    (tweet,) = fake.tweets
    (media_id,) = tweet["media_ids"]
    assert fake.calls("POST /2/tweets")[0].json() == {
        "text": "Photo of the day",
        "media": {"media_ids": [media_id]},
    }
    upload = fake.uploads[media_id]
    assert upload.data == data  # the chunks reassemble to the file, in order
    assert upload.status_polls == 2
    assert upload.alt_text == "A tabby cat asleep on a keyboard"
    assert sleeps == [1, 1]  # check_after_secs honoured through the injected sleep
    assert seen == [(CHUNK_SIZE, len(data)), (2 * CHUNK_SIZE, len(data)), (len(data), len(data))]
    assert result.remote_id == tweet["id"]


def test_image_ready_at_finalize_needs_no_status_poll(
    pub: XPublisher, fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    item = image_item(tmp_path, png_bytes(40, 30))
    pub.publish(Content("", (item,)), cred(), ACCOUNT)  # media-only post: text "" is still sent
    assert fake.calls("GET /2/media/upload") == []
    assert "POST /2/media/metadata" not in routes(fake)  # no alt text, no metadata call
    assert sleeps == []
    assert fake.calls("POST /2/tweets")[0].json()["text"] == ""


def test_four_images_keep_their_order(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    items = tuple(
        image_item(tmp_path, png_bytes(20, 20, seed=n), name=f"p{n}.png") for n in range(4)
    )
    pub.publish(Content("four", items), cred(), ACCOUNT)
    ids = fake.tweets[0]["media_ids"]
    assert [fake.uploads[i].data for i in ids] == [
        (tmp_path / f"p{n}.png").read_bytes() for n in range(4)
    ]


def test_video_upload_waits_for_processing(
    pub: XPublisher, fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    fake.check_after_secs = 3
    data = mp4_bytes(CHUNK_SIZE + 12345)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    item = MediaItem(kind="video", mime="video/mp4", path=path, size=len(data))

    pub.publish(Content("watch this", (item,)), cred(), ACCOUNT)

    init = fake.calls("POST /2/media/upload/initialize")[0].json()
    assert init["media_category"] == "tweet_video"
    assert init["media_type"] == "video/mp4"
    (media_id,) = fake.tweets[0]["media_ids"]
    assert fake.uploads[media_id].data == data
    assert fake.uploads[media_id].status_polls == 2
    assert sleeps == [3, 3]


def test_gif_is_uploaded_as_tweet_gif(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    path = tmp_path / "loop.gif"
    path.write_bytes(b"GIF89a" + bytes(500))
    item = MediaItem(kind="image", mime="image/gif", path=path)
    pub.publish(Content("loop", (item,)), cred(), ACCOUNT)
    assert fake.calls("POST /2/media/upload/initialize")[0].json()["media_category"] == "tweet_gif"
    assert len(fake.tweets) == 1


def test_failed_processing_is_rejected_with_xs_message(
    pub: XPublisher, fake: FakeX, tmp_path: Path
) -> None:
    fake.fail_next_processing("Unsupported video codec")
    path = tmp_path / "bad.mp4"
    path.write_bytes(mp4_bytes(4000))
    item = MediaItem(kind="video", mime="video/mp4", path=path)
    err = expect(Rejected, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert "Unsupported video codec" in str(err)
    assert fake.tweets == []


def test_processing_that_never_ends_is_transient(
    pub: XPublisher, fake: FakeX, sleeps: list[float], tmp_path: Path
) -> None:
    fake.processing_polls["tweet_video"] = 10_000
    pub.processing_timeout = 5
    path = tmp_path / "slow.mp4"
    path.write_bytes(mp4_bytes(4000))
    item = MediaItem(kind="video", mime="video/mp4", path=path)
    expect(Transient, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert sum(sleeps) <= 5
    assert fake.tweets == []


def test_media_from_a_url_is_downloaded_then_uploaded(
    pub: XPublisher, fake: FakeX, host: MediaHost
) -> None:
    data = png_bytes(64, 48)
    host.files["/media/photo.jpg"] = (data, "image/jpeg")
    item = MediaItem(kind="image", mime="", url=f"{host.url}/short?sig=s3cr3t")
    pub.publish(Content("from the web", (item,)), cred(), ACCOUNT)
    host_requests = list(host.requests)
    assert [r.path for r in host_requests] == [
        "/short",
        "/media/photo.jpg",
    ]  # followed the redirect
    assert all(r.header("authorization") is None for r in host_requests)  # the X token stays home
    init = fake.calls("POST /2/media/upload/initialize")[0].json()
    assert init["media_type"] == "image/jpeg"  # the server's Content-Type, since the item had none
    (media_id,) = fake.tweets[0]["media_ids"]
    assert fake.uploads[media_id].data == data


def test_media_url_that_is_gone_is_rejected(pub: XPublisher, fake: FakeX, host: MediaHost) -> None:
    item = MediaItem(kind="image", mime="image/jpeg", url=f"{host.url}/missing.jpg?token=abc")
    err = expect(Rejected, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert "404" in str(err)
    assert "token=abc" not in str(err)  # signed-link queries are secrets too
    assert fake.requests == []


def test_media_url_over_the_size_cap_is_rejected_before_upload(
    pub: XPublisher, fake: FakeX, host: MediaHost
) -> None:
    host.files["/big.jpg"] = (bytes(5 * 1024 * 1024 + 1), "image/jpeg")
    item = MediaItem(kind="image", mime="image/jpeg", url=f"{host.url}/big.jpg")
    err = expect(Rejected, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert "limit" in str(err)
    assert fake.requests == []


def test_media_url_host_down_is_transient(pub: XPublisher, fake: FakeX) -> None:
    item = MediaItem(kind="image", mime="image/jpeg", url=f"http://127.0.0.1:{closed_port()}/a.jpg")
    expect(Transient, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert fake.requests == []


def test_missing_local_file_is_rejected(pub: XPublisher, tmp_path: Path) -> None:
    item = MediaItem(kind="image", mime="image/png", path=tmp_path / "gone.png")
    err = expect(Rejected, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert "gone.png" in str(err)


# ---------------------------------------------------------------- alt text


def video_item(tmp_path: Path, size: int = 4000, **kw: Any) -> MediaItem:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4_bytes(size))
    return MediaItem(kind="video", mime="video/mp4", path=path, size=size, **kw)


def test_video_alt_text_is_not_sent_and_the_post_goes_out(
    pub: XPublisher, fake: FakeX, tmp_path: Path
) -> None:
    item = video_item(tmp_path, alt_text="A cat chasing a laser dot")

    result = pub.publish(Content("watch", (item,)), cred(), ACCOUNT)

    assert fake.calls("POST /2/media/metadata") == []  # X refuses alt text on video
    assert result.warnings == ()
    (tweet,) = fake.tweets
    assert result.remote_id == tweet["id"]


def test_the_fake_refuses_alt_text_on_a_video(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    pub.publish(Content("clip", (video_item(tmp_path),)), cred(), ACCOUNT)
    (media_id,) = fake.tweets[0]["media_ids"]
    resp = _post(
        fake, "/2/media/metadata", json={"id": media_id, "metadata": {"alt_text": {"text": "a"}}}
    )
    assert resp.status_code == 400
    assert fake.uploads[media_id].alt_text is None


def test_gif_alt_text_is_set(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    path = tmp_path / "loop.gif"
    path.write_bytes(b"GIF89a" + bytes(500))
    item = MediaItem(kind="image", mime="image/gif", path=path, alt_text="A spinning globe")
    result = pub.publish(Content("loop", (item,)), cred(), ACCOUNT)
    (media_id,) = fake.tweets[0]["media_ids"]
    assert fake.uploads[media_id].alt_text == "A spinning globe"
    assert result.warnings == ()


def test_refused_alt_text_publishes_once_with_a_warning(
    pub: XPublisher, fake: FakeX, tmp_path: Path
) -> None:
    fake.refuse_next_alt_text(400, "Media metadata could not be saved.")
    item = image_item(tmp_path, png_bytes(30, 30), alt_text="A tabby cat")

    result = pub.publish(Content("cat", (item,)), cred(), ACCOUNT)

    assert result.warnings == (
        "alt text of media 1 was not accepted by X: Media metadata could not be saved. "
        "(HTTP 400); the post went out without it",
    )
    assert routes(fake)[-2:] == ["POST /2/media/metadata", "POST /2/tweets"]
    assert len(fake.calls("POST /2/tweets")) == 1
    (tweet,) = fake.tweets
    assert result.remote_id == tweet["id"]
    (media_id,) = tweet["media_ids"]
    assert fake.uploads[media_id].alt_text is None  # X kept nothing


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        pytest.param({"status": 403, "body": {"detail": "Forbidden"}}, "Forbidden (HTTP 403)"),
        pytest.param({"status": 429, "body": {"title": "Too Many Requests"}}, "Too Many Requests"),
        pytest.param({"status": 503, "body": "<html>down</html>"}, "HTTP 503"),
        pytest.param({"mode": "drop"}, "no answer from X (the connection failed or timed out)"),
        pytest.param({"mode": "drop", "when": "after"}, "no answer from X"),
    ],
    ids=["403", "429", "503-html", "drop-before", "drop-after"],
)
def test_any_failed_alt_text_call_is_a_warning_not_a_failure(
    pub: XPublisher, fake: FakeX, tmp_path: Path, fault: dict[str, Any], reason: str
) -> None:
    fake.inject("POST /2/media/metadata", **fault)
    item = image_item(tmp_path, png_bytes(30, 30), alt_text="alt")

    result = pub.publish(Content("still goes out", (item,)), cred(), ACCOUNT)

    (warning,) = result.warnings
    assert warning.startswith("alt text of media 1 was not accepted by X: ")
    assert reason in warning and warning.endswith("; the post went out without it")
    assert len(fake.tweets) == 1 and len(fake.calls("POST /2/tweets")) == 1


def test_only_the_refused_alt_text_is_named(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    first = image_item(tmp_path, png_bytes(20, 20, seed=1), name="a.png", alt_text="first")
    second = image_item(tmp_path, png_bytes(20, 20, seed=2), name="b.png", alt_text="second")
    fake.refuse_next_alt_text(400, "nope", skip=1)
    result = pub.publish(Content("two", (first, second)), cred(), ACCOUNT)
    (warning,) = result.warnings
    assert warning.startswith("alt text of media 2 was not accepted by X: nope")
    ids = fake.tweets[0]["media_ids"]
    assert [fake.uploads[i].alt_text for i in ids] == ["first", None]


def test_an_echoed_token_is_scrubbed_from_an_alt_text_warning(
    pub: XPublisher, fake: FakeX, tmp_path: Path
) -> None:
    fake.inject("POST /2/media/metadata", status=400, body={"detail": f"bad Bearer {TOKEN}"})
    item = image_item(tmp_path, png_bytes(30, 30), alt_text="alt")
    (warning,) = pub.publish(Content("scrubbed", (item,)), cred(), ACCOUNT).warnings
    assert TOKEN not in warning and "***" in warning


def test_an_expired_sign_in_on_alt_text_is_auth_expired(
    pub: XPublisher, fake: FakeX, tmp_path: Path
) -> None:
    # not the alt text's fault: the post would fail the same way, and a refresh helps
    fake.inject("POST /2/media/metadata", status=401, body={"title": "Unauthorized"})
    item = image_item(tmp_path, png_bytes(30, 30), alt_text="alt")
    err = expect(AuthExpired, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert err.refreshable
    assert fake.calls("POST /2/tweets") == []


# ---------------------------------------------------------------- faults on create


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize("when", ["before", "after"])
def test_5xx_on_create_is_outcome_unknown(
    pub: XPublisher, fake: FakeX, status: int, when: str
) -> None:
    fake.inject(
        "POST /2/tweets",
        status=status,
        when=when,
        body={"title": "Service Unavailable", "status": status},
    )
    err = expect(
        OutcomeUnknown, lambda: pub.publish(Content(f"5xx {status} {when}"), cred(), ACCOUNT)
    )
    assert err.http_status == status
    # the fake tells the two cases apart: only "after" processed the request
    assert len(fake.tweets) == (1 if when == "after" else 0)
    assert len(fake.calls("POST /2/tweets")) == 1  # never retried by the publisher


def test_read_timeout_on_create_is_outcome_unknown_and_posted_once(
    pub: XPublisher, fake: FakeX
) -> None:
    fake.inject("POST /2/tweets", mode="timeout", when="after", delay=1.5)
    expect(OutcomeUnknown, lambda: pub.publish(Content("slow answer"), cred(), ACCOUNT))
    assert [t["text"] for t in fake.tweets] == ["slow answer"]
    assert len(fake.calls("POST /2/tweets")) == 1


def test_accept_then_drop_on_create_is_outcome_unknown(pub: XPublisher, fake: FakeX) -> None:
    pub.identify(cred())  # a kept-alive connection must not make the client resend the post
    fake.inject("POST /2/tweets", mode="drop", when="after")
    expect(OutcomeUnknown, lambda: pub.publish(Content("dropped answer"), cred(), ACCOUNT))
    assert len(fake.tweets) == 1
    assert len(fake.calls("POST /2/tweets")) == 1


def test_created_without_an_id_in_the_answer_is_outcome_unknown(
    pub: XPublisher, fake: FakeX
) -> None:
    fake.inject("POST /2/tweets", status=201, when="after", body={})
    expect(OutcomeUnknown, lambda: pub.publish(Content("mute 201"), cred(), ACCOUNT))
    assert len(fake.tweets) == 1


def test_duplicate_after_an_uncertain_attempt_is_rejected(pub: XPublisher, fake: FakeX) -> None:
    fake.inject("POST /2/tweets", mode="drop", when="after")
    expect(OutcomeUnknown, lambda: pub.publish(Content("same words"), cred(), ACCOUNT))
    err = expect(Rejected, lambda: pub.publish(Content("same words"), cred(), ACCOUNT))
    assert str(err) == "X refused this as duplicate content of a recent post"
    assert err.http_status == 403
    assert len(fake.tweets) == 1  # the 403 proves the first attempt landed, and only once


def test_connection_refused_is_transient() -> None:
    pub = XPublisher(
        api_base=f"http://127.0.0.1:{closed_port()}", timeout=(2, 1), sleep=lambda s: None
    )
    try:
        expect(Transient, lambda: pub.publish(Content("nobody home"), cred(), ACCOUNT))
        expect(Transient, lambda: pub.identify(cred()))
        expect(Transient, lambda: pub.refresh(cred()))
    finally:
        pub.session.close()


# ---------------------------------------------------------------- faults on media steps


def test_503_on_append_is_transient(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    fake.inject(
        r"POST /2/media/upload/\d+/append", status=503, body={"title": "Service Unavailable"}
    )
    item = image_item(tmp_path, png_bytes(30, 30))
    err = expect(Transient, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert err.http_status == 503
    assert fake.tweets == []
    assert fake.calls("POST /2/tweets") == []


@pytest.mark.parametrize(
    "route",
    [
        "POST /2/media/upload/initialize",
        r"POST /2/media/upload/\d+/append",
        r"POST /2/media/upload/\d+/finalize",
    ],
)
def test_drop_on_an_upload_step_is_transient(
    pub: XPublisher, fake: FakeX, tmp_path: Path, route: str
) -> None:
    fake.inject(route, mode="drop", when="before")
    item = image_item(tmp_path, png_bytes(30, 30))
    expect(Transient, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert fake.calls("POST /2/tweets") == []


def test_timeout_on_status_poll_is_transient(pub: XPublisher, fake: FakeX, tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    path.write_bytes(mp4_bytes(3000))
    fake.inject("GET /2/media/upload", mode="timeout", delay=1.5)
    item = MediaItem(kind="video", mime="video/mp4", path=path)
    expect(Transient, lambda: pub.publish(Content("x", (item,)), cred(), ACCOUNT))
    assert fake.tweets == []


# ---------------------------------------------------------------- rate limits


def test_429_with_reset_header_is_rate_limited_until_then(
    pub: XPublisher, fake: FakeX, clock: datetime
) -> None:
    reset = int((clock + timedelta(minutes=7)).timestamp())
    fake.inject(
        "POST /2/tweets",
        status=429,
        body={"title": "Too Many Requests", "status": 429},
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    err = expect(RateLimited, lambda: pub.publish(Content("later"), cred(), ACCOUNT))
    assert err.retry_at == datetime.fromtimestamp(reset, UTC)
    assert fake.tweets == []


def test_429_from_an_exhausted_24_hour_bucket_waits_for_that_reset(
    pub: XPublisher, fake: FakeX, clock: datetime
) -> None:
    window = int((clock + timedelta(minutes=3)).timestamp())
    day = int((clock + timedelta(hours=20)).timestamp())
    fake.inject(
        "POST /2/tweets",
        status=429,
        headers={
            "x-rate-limit-remaining": "42",
            "x-rate-limit-reset": str(window),
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(day),
        },
    )
    err = expect(RateLimited, lambda: pub.publish(Content("tomorrow"), cred(), ACCOUNT))
    assert err.retry_at == datetime.fromtimestamp(day, UTC)


def test_429_without_headers_waits_fifteen_minutes(
    pub: XPublisher, fake: FakeX, clock: datetime
) -> None:
    fake.inject(
        "POST /2/tweets",
        status=429,
        body={"errors": [{"code": 88, "message": "Rate limit exceeded"}]},
    )
    err = expect(RateLimited, lambda: pub.publish(Content("x"), cred(), ACCOUNT))
    assert err.retry_at == clock + timedelta(minutes=15)


@pytest.mark.parametrize("form", ["seconds", "imf", "rfc850", "asctime"])
@pytest.mark.usefixtures("away_from_utc")
def test_429_with_only_retry_after_waits_that_long(
    pub: XPublisher, fake: FakeX, clock: datetime, form: str
) -> None:
    # X documents x-rate-limit-reset, not Retry-After; a 429 with only the latter (from
    # a proxy, say) must still not be retried sooner than it asks, nor 15 minutes late
    when = clock + timedelta(seconds=90)
    after = 90 if form == "seconds" else when
    fake.inject_retry_after("POST /2/tweets", after, form="imf" if form == "seconds" else form)
    err = expect(RateLimited, lambda: pub.publish(Content("soon"), cred(), ACCOUNT))
    assert err.retry_at == when
    assert fake.tweets == []


@pytest.mark.parametrize(
    ("reset_in", "retry_after", "waits"),
    [
        pytest.param(7 * 60, 20 * 60, 20 * 60, id="retry-after-later"),
        pytest.param(7 * 60, 60, 7 * 60, id="reset-later"),
    ],
)
def test_429_with_reset_and_retry_after_waits_for_the_later(
    pub: XPublisher, fake: FakeX, clock: datetime, reset_in: int, retry_after: int, waits: int
) -> None:
    reset = int((clock + timedelta(seconds=reset_in)).timestamp())
    fake.inject_retry_after(
        "POST /2/tweets",
        retry_after,
        body={"title": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    err = expect(RateLimited, lambda: pub.publish(Content("x"), cred(), ACCOUNT))
    assert err.retry_at == clock + timedelta(seconds=waits)


def test_fake_post_limit_per_window(pub: XPublisher, fake: FakeX) -> None:
    fake.posts_per_window = 1
    pub.publish(Content("first"), cred(), ACCOUNT)
    err = expect(RateLimited, lambda: pub.publish(Content("second"), cred(), ACCOUNT))
    last = fake.calls("POST /2/tweets")[0]
    window_start = int(last.received_at)
    assert abs(err.retry_at.timestamp() - (window_start + fake.window_secs)) <= 1
    assert len(fake.tweets) == 1


def test_fake_post_limit_per_day(pub: XPublisher, fake: FakeX) -> None:
    fake.posts_per_day = 1
    pub.publish(Content("first"), cred(), ACCOUNT)
    err = expect(RateLimited, lambda: pub.publish(Content("second"), cred(), ACCOUNT))
    assert err.retry_at > datetime.now(UTC) + timedelta(hours=23)
    assert len(fake.tweets) == 1


def test_usage_capped_is_rejected(pub: XPublisher, fake: FakeX) -> None:
    fake.usage_capped = True
    err = expect(Rejected, lambda: pub.publish(Content("capped"), cred(), ACCOUNT))
    assert "monthly usage cap" in str(err)
    assert err.http_status == 429
    assert fake.tweets == []


def test_injected_usage_capped_body_is_rejected(pub: XPublisher, fake: FakeX) -> None:
    fake.inject(
        "POST /2/tweets", status=429, body=USAGE_CAPPED, content_type="application/problem+json"
    )
    assert not isinstance(
        expect(Rejected, lambda: pub.publish(Content("c"), cred(), ACCOUNT)), RateLimited
    )


# ---------------------------------------------------------------- auth and refresh


def test_401_is_auth_expired_refreshable_only_with_a_refresh_token(
    pub: XPublisher, fake: FakeX
) -> None:
    fake.expire_token(TOKEN)
    assert expect(AuthExpired, lambda: pub.publish(Content("x"), cred(), ACCOUNT)).refreshable
    err = expect(AuthExpired, lambda: pub.publish(Content("x"), cred(refresh_token=None), ACCOUNT))
    assert not err.refreshable
    assert fake.tweets == []


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(
    pub: XPublisher, fake: FakeX, clock: datetime
) -> None:
    fake.expire_token(TOKEN)
    old = cred()
    expect(AuthExpired, lambda: pub.publish(Content("after refresh"), old, ACCOUNT))

    new = pub.refresh(old)

    assert new.access_token != TOKEN
    assert new.refresh_token and new.refresh_token != REFRESH  # the rotated one is kept
    assert new.expires_at == clock + timedelta(seconds=fake.token_lifetime)
    assert new.client_id == CLIENT_ID
    assert "offline.access" in new.extra["scope"]
    (call,) = fake.calls("POST /2/oauth2/token")
    assert call.form() == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH],
        "client_id": [CLIENT_ID],
    }
    assert call.header("authorization") is None  # public client: no Basic auth

    pub.publish(Content("after refresh"), new, ACCOUNT)
    assert len(fake.tweets) == 1

    err = expect(AuthExpired, lambda: pub.refresh(old))  # single use: the old token is spent
    assert not err.refreshable
    assert "reconnect the X account" in str(err)
    assert pub.refresh(new).refresh_token not in (new.refresh_token, REFRESH)


def test_refresh_for_a_confidential_client_uses_basic_auth(pub: XPublisher, fake: FakeX) -> None:
    fake.add_client("conf-app", secret="conf-secret")
    fake.add_refresh_token("rt-conf", USER_ID, "conf-app")
    new = pub.refresh(
        cred(refresh_token="rt-conf", client_id="conf-app", client_secret="conf-secret")
    )
    assert new.client_secret == "conf-secret"
    assert fake.calls("POST /2/oauth2/token")[0].header("authorization", "").startswith("Basic ")


def test_refresh_failure_means_reconnect(pub: XPublisher, fake: FakeX) -> None:
    err = expect(AuthExpired, lambda: pub.refresh(cred(refresh_token="rt-unknown")))
    assert not err.refreshable
    assert err.http_status == 400
    assert "reconnect the X account" in str(err)


def test_refresh_without_a_refresh_token_asks_to_reconnect(pub: XPublisher, fake: FakeX) -> None:
    err = expect(AuthExpired, lambda: pub.refresh(cred(refresh_token=None)))
    assert not err.refreshable
    assert fake.requests == []


def test_refresh_during_an_x_outage_is_transient(pub: XPublisher, fake: FakeX) -> None:
    fake.inject("POST /2/oauth2/token", status=503)
    expect(Transient, lambda: pub.refresh(cred()))


def test_pkce_connect_flow(pub: XPublisher, fake: FakeX) -> None:
    fake.add_client("desktop-app", redirect_uris=("http://127.0.0.1:53682/callback",))
    verifier, challenge = make_pkce()
    assert 43 <= len(verifier) <= 128
    url = authorize_url(
        "desktop-app",
        "http://127.0.0.1:53682/callback",
        "st4te",
        challenge,
        base=fake.url,
    )
    query = parse_qs(urlsplit(url).query)
    assert query["scope"] == ["tweet.read tweet.write users.read offline.access media.write"]
    assert query["code_challenge_method"] == ["S256"]
    assert "%20" in url and "+" not in url

    answer = requests.get(url, allow_redirects=False, timeout=2)  # what the browser does
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == ["st4te"]

    wrong, _ = make_pkce()
    code = back["code"][0]
    credential = pub.exchange_code(code, "http://127.0.0.1:53682/callback", verifier, "desktop-app")
    assert credential.refresh_token
    assert pub.identify(credential).remote_id == USER_ID
    # a code is single use, and the verifier must match the challenge
    expect(
        AuthExpired,
        lambda: pub.exchange_code(code, "http://127.0.0.1:53682/callback", verifier, "desktop-app"),
    )
    other = fake.issue_code("desktop-app", "http://127.0.0.1:53682/callback", challenge, USER_ID)
    err = expect(
        AuthExpired,
        lambda: pub.exchange_code(other, "http://127.0.0.1:53682/callback", wrong, "desktop-app"),
    )
    assert not err.refreshable


def test_authorize_url_defaults_to_x_com() -> None:
    url = authorize_url("cid", "http://127.0.0.1:1/cb", "s", "chal")
    assert url.startswith("https://x.com/i/oauth2/authorize?response_type=code&client_id=cid&")
    # RFC 7636 appendix B's example
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


# ---------------------------------------------------------------- 4xx refusals


def test_duplicate_content_is_rejected(pub: XPublisher, fake: FakeX) -> None:
    pub.publish(Content("once only"), cred(), ACCOUNT)
    err = expect(Rejected, lambda: pub.publish(Content("once only"), cred(), ACCOUNT))
    assert str(err) == "X refused this as duplicate content of a recent post"
    assert len(fake.tweets) == 1


def test_injected_duplicate_body_is_rejected(pub: XPublisher, fake: FakeX) -> None:
    fake.inject("POST /2/tweets", status=403, body=DUPLICATE)
    err = expect(Rejected, lambda: pub.publish(Content("dup"), cred(), ACCOUNT))
    assert "duplicate" in str(err)


def test_suspended_account_is_not_permitted(pub: XPublisher, fake: FakeX) -> None:
    fake.suspend(USER_ID)
    err = expect(Rejected, lambda: pub.publish(Content("hi"), cred(), ACCOUNT))
    assert "not permitted" in str(err)


def test_app_only_token_is_rejected_as_unsupported_authentication(
    pub: XPublisher, fake: FakeX
) -> None:
    fake.add_app_token("app-only-token")
    err = expect(
        Rejected, lambda: pub.publish(Content("hi"), cred(access_token="app-only-token"), ACCOUNT)
    )
    assert "app-only" in str(err) and "app-only-token" not in str(err)


def test_client_forbidden_is_rejected(pub: XPublisher, fake: FakeX) -> None:
    fake.inject(
        "POST /2/tweets",
        status=403,
        body={
            "title": "Client Forbidden",
            "type": "https://api.twitter.com/2/problems/client-forbidden",
            "reason": "client-not-enrolled",
            "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys...",
        },
    )
    err = expect(Rejected, lambda: pub.publish(Content("hi"), cred(), ACCOUNT))
    assert "client-not-enrolled" in str(err) and "Project" in str(err)


def test_too_long_text_is_rejected_by_x_with_its_message(pub: XPublisher, fake: FakeX) -> None:
    err = expect(Rejected, lambda: pub.publish(Content("a" * 281), cred(), ACCOUNT))
    assert "Your Tweet text is too long" in str(err)
    assert err.http_status == 400
    assert fake.tweets == []


# Texts at X's limit and one step past it, where a naive count goes wrong: the fake
# weighs them with its own counter (tests/fakes/tweetlength.py), not the client's.
LIMIT_CASES = {
    # CJK weighs 2: 140 fit, 141 characters already weigh 282
    "cjk": ("字" * 140, "字" * 141),
    # the ellipsis is general punctuation outside X's light ranges: it weighs 2
    "ellipsis": ("…" * 140, "…" * 141),
    # the em dash is inside them (U+2010-U+201F): it weighs 1
    "em dash": ("—" * 280, "—" * 281),
    # a family of four is seven code points and one emoji: it weighs 2
    "zwj emoji": ("👨‍👩‍👧‍👦" * 140, "👨‍👩‍👧‍👦" * 141),
    # "e" + combining acute is one character once NFC-normalised
    "combining accent": ("e\u0301" * 280, "e\u0301" * 281),
    # any URL weighs 23, however long
    "long url": (
        "x" * 256 + " https://example.com/" + "a" * 300,
        "x" * 257 + " https://example.com/" + "a" * 300,
    ),
}


@pytest.mark.parametrize("case", LIMIT_CASES.values(), ids=list(LIMIT_CASES))
def test_text_at_the_limit_is_published_and_one_past_it_refused(
    pub: XPublisher, fake: FakeX, case: tuple[str, str]
) -> None:
    fits, too_long = case
    # the editor (the client's own counter) and X (the fake's) must agree on both
    assert pub.validate(Content(fits)) == []
    assert [p.field for p in pub.validate(Content(too_long))] == ["text"]

    pub.publish(Content(fits), cred(), ACCOUNT)
    err = expect(Rejected, lambda: pub.publish(Content(too_long), cred(), ACCOUNT))

    assert "Your Tweet text is too long" in str(err) and err.http_status == 400
    # the refusal came from X, not from a check before sending
    assert [c.json()["text"] for c in fake.calls("POST /2/tweets")] == [fits, too_long]
    assert [t["text"] for t in fake.tweets] == [fits]


def test_an_echoed_token_is_scrubbed_from_messages(pub: XPublisher, fake: FakeX) -> None:
    fake.inject("POST /2/tweets", status=400, body={"detail": f"bad header Bearer {TOKEN}"})
    err = expect(Rejected, lambda: pub.publish(Content("x"), cred(), ACCOUNT))
    assert "***" in str(err)


# ---------------------------------------------------------------- Premium: long posts

#: 1,000 weighted characters: over the standard 280, well within Premium's 25,000
LONG = ("A long read for subscribers, written in plain words. " * 20)[:1000]


def test_long_text_is_valid_for_premium_only() -> None:
    assert registry.validate("x", Content(LONG), tier=PREMIUM) == []
    (problem,) = registry.validate("x", Content(LONG), tier=None)
    assert problem.field == "text"
    assert "1000 weighted characters, over the limit of 280" in problem.message
    x = registry.platform("x")
    assert x.length(LONG) == (1000, 280)
    assert x.length(LONG, PREMIUM) == (1000, 25_000)
    (past,) = registry.validate("x", Content("a" * 25_001), tier=PREMIUM)
    assert "over the limit of 25000" in past.message


def test_a_premium_publisher_publishes_a_long_post_once(pub: XPublisher, fake: FakeX) -> None:
    fake.subscribe(USER_ID, "Premium")
    pub.tier = pub.identify(cred()).tier  # what the caller keeps for the account
    assert pub.validate(Content(LONG)) == []

    result = pub.publish(Content(LONG), cred(), ACCOUNT)

    (tweet,) = fake.tweets
    assert tweet["text"] == LONG and result.remote_id == tweet["id"]
    assert len(fake.calls("POST /2/tweets")) == 1


def test_a_standard_publisher_refuses_a_long_post_before_any_request(
    pub: XPublisher, fake: FakeX
) -> None:
    assert pub.tier is None
    # the engine checks with the publisher's validate before it publishes
    (problem,) = pub.validate(Content(LONG))
    assert problem.field == "text" and "over the limit of 280" in problem.message
    assert fake.requests == []


@pytest.mark.parametrize("subscription_type", ["None", "Basic"])
def test_x_refuses_a_long_post_from_an_account_that_is_not_premium(
    pub: XPublisher, fake: FakeX, subscription_type: str
) -> None:
    # a tier kept from an earlier connect while the plan has lapsed since: X has the say
    fake.subscribe(USER_ID, subscription_type)
    pub.tier = PREMIUM
    err = expect(Rejected, lambda: pub.publish(Content(LONG), cred(), ACCOUNT))
    assert "Your Tweet text is too long" in str(err) and err.http_status == 400
    assert fake.tweets == []


def test_premium_limit_is_25000_weighted_characters(pub: XPublisher, fake: FakeX) -> None:
    fake.subscribe(USER_ID, "PremiumPlus")
    pub.tier = PREMIUM
    fits, too_long = "字" * 12_500, "字" * 12_501  # CJK weighs 2
    assert pub.validate(Content(fits)) == []
    assert [p.field for p in pub.validate(Content(too_long))] == ["text"]

    pub.publish(Content(fits), cred(), ACCOUNT)
    err = expect(Rejected, lambda: pub.publish(Content(too_long), cred(), ACCOUNT))

    assert "Your Tweet text is too long" in str(err)  # X's own count agrees
    assert [t["text"] for t in fake.tweets] == [fits]


# ---------------------------------------------------------------- validation (no network)


def test_validate_over_long_text_returns_a_problem(pub: XPublisher, fake: FakeX) -> None:
    problems = pub.validate(Content("a" * 281))
    assert len(problems) == 1
    assert problems[0].platform == "x" and problems[0].field == "text"
    assert "281" in problems[0].message
    assert pub.validate(Content("fine")) == []
    assert fake.requests == []


# ---------------------------------------------------------------- the fake enforces the contract


def _post(
    fake: FakeX, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
    return requests.post(f"{fake.url}{path}", headers=headers, timeout=2, **kw)


def test_fake_refuses_malformed_tweets(fake: FakeX) -> None:
    assert _post(fake, "/2/tweets", json={"text": "hi", "unknown": 1}).status_code == 400
    assert (
        _post(
            fake,
            "/2/tweets",
            data="text=hi",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).status_code
        == 400
    )
    numeric = _post(
        fake, "/2/tweets", json={"text": "hi", "media": {"media_ids": [1880028106020515840]}}
    )
    assert numeric.status_code == 400
    assert "does not match ^[0-9]{1,19}$" in numeric.json()["errors"][0]["message"]
    unknown = _post(fake, "/2/tweets", json={"text": "hi", "media": {"media_ids": ["123"]}})
    assert unknown.status_code == 400
    assert _post(fake, "/2/tweets", json={}).status_code == 400
    assert fake.tweets == []


def test_fake_refuses_media_of_another_user_or_still_processing(fake: FakeX) -> None:
    fake.add_user("99", "other", "Other", token="other-token")
    init = _post(
        fake,
        "/2/media/upload/initialize",
        json={"media_type": "video/mp4", "total_bytes": 3, "media_category": "tweet_video"},
    )
    media_id = init.json()["data"]["id"]
    _post(
        fake,
        f"/2/media/upload/{media_id}/append",
        files={"media": ("m", b"abc")},
        data={"segment_index": "0"},
    )
    assert (
        _post(fake, f"/2/media/upload/{media_id}/finalize").json()["data"]["processing_info"][
            "state"
        ]
        == "pending"
    )
    processing = _post(
        fake, "/2/tweets", json={"text": "early", "media": {"media_ids": [media_id]}}
    )
    assert processing.status_code == 400
    theirs = requests.post(
        f"{fake.url}/2/tweets",
        json={"text": "theft", "media": {"media_ids": [media_id]}},
        headers={"Authorization": "Bearer other-token"},
        timeout=2,
    )
    assert theirs.status_code == 400
    assert fake.tweets == []


def test_fake_checks_total_bytes_on_finalize(fake: FakeX) -> None:
    init = _post(
        fake,
        "/2/media/upload/initialize",
        json={"media_type": "image/png", "total_bytes": 10, "media_category": "tweet_image"},
    )
    media_id = init.json()["data"]["id"]
    _post(
        fake,
        f"/2/media/upload/{media_id}/append",
        files={"media": ("m", b"12345")},
        data={"segment_index": "0"},
    )
    short = _post(fake, f"/2/media/upload/{media_id}/finalize")
    assert short.status_code == 400
    assert "mismatch" in short.json()["errors"][0]["message"]


def test_fake_accepts_the_older_command_style_upload(fake: FakeX) -> None:
    data = png_bytes(10, 10)
    init = _post(
        fake,
        "/2/media/upload",
        data={
            "command": "INIT",
            "media_type": "image/png",
            "total_bytes": str(len(data)),
            "media_category": "tweet_image",
        },
    )
    media_id = init.json()["data"]["id"]
    append = _post(
        fake,
        "/2/media/upload",
        data={"command": "APPEND", "media_id": media_id, "segment_index": "0"},
        files={"media": ("m", data)},
    )
    assert append.status_code == 200
    final = _post(fake, "/2/media/upload", data={"command": "FINALIZE", "media_id": media_id})
    assert final.status_code == 200 and "processing_info" not in final.json()["data"]
    created = _post(fake, "/2/tweets", json={"text": "legacy", "media": {"media_ids": [media_id]}})
    assert created.status_code == 201
    assert fake.uploads[media_id].data == data


def test_fake_ignores_the_host_header(fake: FakeX) -> None:
    for host in ("api.x.com", "api.twitter.com"):
        resp = requests.get(
            f"{fake.url}/2/users/me",
            headers={"Authorization": f"Bearer {TOKEN}", "Host": host},
            timeout=2,
        )
        assert json.loads(resp.content)["data"]["username"] == USERNAME


def test_logs_never_carry_tokens(
    pub: XPublisher, fake: FakeX, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    item = image_item(tmp_path, png_bytes(30, 30), alt_text="alt")
    pub.publish(Content("logged", (item,)), cred(), ACCOUNT)
    new = pub.refresh(cred())
    assert "POST /2/tweets -> 201" in caplog.text  # request summaries are logged
    for secret in (*SECRETS, new.access_token, new.refresh_token or "-"):
        assert secret not in caplog.text
