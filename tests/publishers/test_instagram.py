"""InstagramPublisher against FakeInstagram over real HTTP on 127.0.0.1.

Media come from a separate MediaHost server, because the fake fetches ``image_url``
while holding its own lock. JPEGs are built by hand (``make_jpeg``, re-exported here
for older imports) so the fake reads real SOF dimensions without an imaging library.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
from milton_desktop.publishers.instagram import (
    CONTAINER_LIFETIME,
    GRAPH_VERSION,
    PUBLISH_RETRIES,
    PUBLISH_RETRY_WAIT,
    SCOPES,
    InstagramPublisher,
    authorize_url,
)
from tests.fakes.instagram import (
    FakeInstagram,
    MediaHost,
    error_body,
    jpeg_size,
    make_jpeg,
)

TOKEN = "IGAAtestTOKENsecret0123456789"
USER_ID = "17841400008460056"
USERNAME = "milton.studio"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = AccountRef(remote_id=USER_ID, username=USERNAME)

V = re.escape(GRAPH_VERSION)
CREATE = rf"POST /{V}/\d+/media"
PUBLISH = rf"POST /{V}/\d+/media_publish"
STATUS = rf"GET /{V}/1788\d+"  # the fake's container ids start 1788...
MEDIA_GET = rf"GET /{V}/1792\d+"  # ...and its media ids 1792...
LISTING = rf"GET /{V}/\d+/media"
QUOTA = rf"GET /{V}/\d+/content_publishing_limit"


# ---------------------------------------------------------------- media files


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32  # not a JPEG: refused
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 256


# ---------------------------------------------------------------- fixtures


class Sleeps:
    """A no-op ``sleep`` that remembers what it was asked to wait (in ``waits``)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def host():
    server = MediaHost().start()
    server.add("/square.jpg", make_jpeg(1080, 1080))
    server.add("/portrait.jpg", make_jpeg(1080, 1350))
    server.add("/tall.jpg", make_jpeg(1080, 2000))
    server.add("/photo.png", PNG, "image/png")
    server.add("/clip.mp4", MP4, "video/mp4")
    server.add("/notavideo.mp4", b"<html>a player page</html>", "text/html")
    yield server
    server.stop()


@pytest.fixture
def fake():
    server = FakeInstagram().start()
    server.add_token(TOKEN, user_id=USER_ID, username=USERNAME)
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_pub(fake, sleeps):
    made: list[InstagramPublisher] = []

    def make(**kwargs) -> InstagramPublisher:
        kwargs.setdefault("timeout", (2, 1))
        kwargs.setdefault("now", lambda: NOW)
        pub = InstagramPublisher(api_base=fake.url, sleep=sleeps, **kwargs)
        made.append(pub)
        return pub

    yield make
    for pub in made:
        pub.session.close()


@pytest.fixture
def pub(make_pub) -> InstagramPublisher:
    return make_pub()


def cred() -> Credential:
    return Credential(access_token=TOKEN)


def image(url: str, alt: str = "") -> MediaItem:
    return MediaItem(kind="image", mime="image/jpeg", url=url, alt_text=alt)


def video(url: str) -> MediaItem:
    return MediaItem(kind="video", mime="video/mp4", url=url)


def post(*media: MediaItem, text: str = "Spring light at the studio #milton") -> Content:
    return Content(text=text, media=media)


def fails(cls: type[PublishError], call: Callable[..., object], *args: object) -> PublishError:
    """Run ``call``, expect ``cls``, and check the message never carries the token."""
    with pytest.raises(cls) as info:
        call(*args)
    assert TOKEN not in str(info.value)
    return info.value


def publish_json(fake: FakeInstagram) -> list[dict]:
    return [r.json() for r in fake.calls(CREATE)]


# ---------------------------------------------------------------- identity and setup


def test_registry_builds_the_instagram_publisher(fake):
    pub = registry.make_publisher("instagram", api_base=fake.url)
    try:
        assert isinstance(pub, InstagramPublisher)
        assert pub.base("api") == pub.base("oauth") == fake.url
    finally:
        pub.session.close()
    assert InstagramPublisher.default_bases["api"] == "https://graph.instagram.com"


def test_identify_uses_user_id_and_bearer_token(fake, pub):
    who = pub.identify(cred())
    assert (who.remote_id, who.username, who.display_name) == (USER_ID, USERNAME, USERNAME)
    [req] = fake.calls(rf"GET /{V}/me")
    assert req.header("authorization") == f"Bearer {TOKEN}"
    assert req.query["fields"] == ["user_id,username"]
    assert "access_token" not in req.query


def test_identify_with_expired_token_needs_reconnect(fake, pub):
    fake.expire(TOKEN)
    err = fails(AuthExpired, pub.identify, cred())
    assert err.refreshable is False
    assert "463" in str(err) and "reconnect" in str(err)
    assert err.http_status == 400


def test_graph_version_can_be_overridden(fake, make_pub, monkeypatch):
    monkeypatch.setenv("MILTON_INSTAGRAM_GRAPH_VERSION", "v24.0")
    make_pub().identify(cred())
    assert fake.calls(r"GET /v24\.0/me")


def test_validate_requires_a_public_url(pub, fake):
    local = MediaItem(kind="image", mime="image/jpeg", path=None, url=None)
    problems = pub.validate(Content("hello", (local,)))
    assert any("public" in p.message for p in problems)
    err = fails(Rejected, pub.publish, Content("hello", (local,)), cred(), ACCOUNT)
    assert "public" in str(err)
    assert fake.requests == []  # refused before any request


def test_caption_over_limit_is_refused_before_sending(pub, fake, host):
    content = post(image(f"{host.url}/square.jpg"), text="x" * 2201)
    err = fails(Rejected, pub.publish, content, cred(), ACCOUNT)
    assert "2200" in str(err)
    assert fake.requests == []


# ---------------------------------------------------------------- happy paths


def test_image_post(fake, pub, host):
    steps: list[tuple[int, int]] = []
    url = f"{host.url}/square.jpg"
    result = pub.publish(
        post(image(url)), cred(), ACCOUNT, progress=lambda d, t: steps.append((d, t))
    )

    [published] = fake.published
    assert result.remote_id == published["id"]
    assert result.url == fake.media[published["id"]].permalink
    assert result.url.startswith("https://www.instagram.com/p/")
    assert published["media_urls"] == [url]
    assert published["caption"] == "Spring light at the studio #milton"
    [body] = publish_json(fake)
    assert body == {"image_url": url, "caption": "Spring light at the studio #milton"}
    [pub_req] = fake.calls(PUBLISH)
    assert pub_req.json() == {"creation_id": published["container"]}
    assert steps == [(1, 2), (2, 2)]
    for req in fake.requests:  # the token travels only in the header
        assert "access_token" not in req.query
        assert req.header("authorization") == f"Bearer {TOKEN}"
    assert host.calls(r"GET /square\.jpg")  # the fake really fetched it


def test_alt_text_goes_on_the_image_container(fake, pub, host):
    pub.publish(post(image(f"{host.url}/portrait.jpg", alt="A red bicycle")), cred(), ACCOUNT)
    [body] = publish_json(fake)
    assert body["alt_text"] == "A red bicycle"
    assert fake.published[0]["alt_texts"] == ["A red bicycle"]


def test_image_polling_uses_the_image_interval(fake, pub, host, sleeps):
    fake.image_polls = 2
    pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert sleeps.waits == [3.0, 3.0]
    assert len(fake.published) == 1


def test_reel_polls_until_finished(fake, pub, host, sleeps):
    fake.video_polls = 3
    result = pub.publish(post(video(f"{host.url}/clip.mp4")), cred(), ACCOUNT)
    assert sleeps.waits == [60.0, 60.0, 60.0]  # once a minute, as Meta asks
    [body] = publish_json(fake)
    assert body["media_type"] == "REELS"
    assert body["video_url"] == f"{host.url}/clip.mp4"
    assert "alt_text" not in body
    assert "/reel/" in result.url
    assert fake.published[0]["media_type"] == "REELS"


def test_poll_intervals_are_configurable(fake, make_pub, host, sleeps):
    fake.video_polls = 2
    make_pub(video_poll_interval=7.5).publish(post(video(f"{host.url}/clip.mp4")), cred(), ACCOUNT)
    assert sleeps.waits == [7.5, 7.5]


def test_carousel_with_images_and_a_video(fake, pub, host, sleeps):
    fake.video_polls = 1
    items = (
        image(f"{host.url}/square.jpg", alt="first"),
        image(f"{host.url}/portrait.jpg"),
        video(f"{host.url}/clip.mp4"),
    )
    steps: list[tuple[int, int]] = []
    result = pub.publish(post(*items), cred(), ACCOUNT, progress=lambda d, t: steps.append((d, t)))

    bodies = publish_json(fake)
    assert len(bodies) == 4
    assert bodies[0] == {
        "image_url": f"{host.url}/square.jpg",
        "is_carousel_item": True,
        "alt_text": "first",
    }
    assert bodies[1] == {"image_url": f"{host.url}/portrait.jpg", "is_carousel_item": True}
    assert bodies[2] == {
        "media_type": "VIDEO",
        "video_url": f"{host.url}/clip.mp4",
        "is_carousel_item": True,
    }
    parent = bodies[3]
    assert parent["media_type"] == "CAROUSEL"
    assert parent["caption"] == "Spring light at the studio #milton"
    [published] = fake.published
    assert parent["children"] == ",".join(published["children"])
    assert published["media_urls"] == [i.url for i in items]
    assert result.remote_id == published["id"]
    assert sleeps.waits == [60.0]  # the video item needed one more poll
    assert steps[-1] == (5, 5)


# ---------------------------------------------------------------- media the fake refuses


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/photo.png", "JPEG"),
        ("/tall.jpg", "aspect ratio"),
        ("/missing.jpg", "public"),
    ],
)
def test_media_the_fake_refuses(fake, pub, host, path, expected):
    err = fails(Rejected, pub.publish, post(image(f"{host.url}{path}")), cred(), ACCOUNT)
    assert expected in str(err)
    assert fake.published == []


def test_image_over_8_mib_is_refused(fake, pub, host):
    host.add("/huge.jpg", make_jpeg(1080, 1080, padding=8 * 1024 * 1024))
    err = fails(Rejected, pub.publish, post(image(f"{host.url}/huge.jpg")), cred(), ACCOUNT)
    assert "8 MiB" in str(err)
    assert "36000/2207004" in str(err)


def test_video_in_a_wrong_format_is_refused(fake, pub, host):
    err = fails(Rejected, pub.publish, post(video(f"{host.url}/notavideo.mp4")), cred(), ACCOUNT)
    assert "2207026" in str(err)


def test_unreachable_host_says_the_url_must_be_public(fake, pub):
    dead = "http://127.0.0.1:9/nothing.jpg"  # discard port: nobody listens
    err = fails(Rejected, pub.publish, post(image(dead)), cred(), ACCOUNT)
    assert "public" in str(err) and "9004/2207052" in str(err)


@pytest.mark.parametrize(
    ("detail", "cls"),
    [
        ("Error: The video format is not supported (2207026)", Rejected),
        ("Error: It takes too long to download the media (2207003)", Transient),
    ],
)
def test_container_error_status(fake, pub, host, detail, cls):
    url = f"{host.url}/clip.mp4"
    fake.processing_errors[url] = detail
    err = fails(cls, pub.publish, post(video(url)), cred(), ACCOUNT)
    assert detail in str(err)
    assert fake.published == []


@pytest.mark.parametrize(
    ("media", "interval"),
    [(video("/clip.mp4"), 60.0), (image("/square.jpg"), 3.0)],
    ids=["video", "image"],
)
def test_poll_timeout_is_transient_after_five_minutes(fake, pub, host, sleeps, media, interval):
    fake.video_polls = fake.image_polls = 10_000
    item = MediaItem(kind=media.kind, mime=media.mime, url=f"{host.url}{media.url}")
    err = fails(Transient, pub.publish, post(item), cred(), ACCOUNT)
    assert "nothing was published" in str(err) and "300 s" in str(err)
    assert sleeps.waits == [interval] * int(300 / interval)
    assert fake.published == [] and fake.calls(PUBLISH) == []


def test_five_minutes_of_polling_cover_all_of_a_carousel(fake, pub, host, sleeps):
    fake.video_polls = 4  # each item alone would be ready within five minutes...
    items = (video(f"{host.url}/clip.mp4"), video(f"{host.url}/clip.mp4"))
    fails(Transient, pub.publish, post(*items), cred(), ACCOUNT)
    # ...but not both one after the other: the first took four minutes, the second one
    assert sleeps.waits == [60.0] * 5
    assert fake.calls(PUBLISH) == []


def test_a_short_last_wait_keeps_polling_within_the_limit(fake, make_pub, host, sleeps):
    fake.video_polls = 10_000
    pub = make_pub(max_poll_wait=150.0)
    fails(Transient, pub.publish, post(video(f"{host.url}/clip.mp4")), cred(), ACCOUNT)
    assert sleeps.waits == [60.0, 60.0, 30.0]


# ---------------------------------------------------------------- Graph error codes


def _err(code: int, subcode: int | None = None, **kw) -> dict:
    return error_body(code, kw.pop("message", f"error {code}"), subcode=subcode, **kw)


@pytest.mark.parametrize(
    ("code", "subcode", "cls", "fragment"),
    [
        (190, 463, AuthExpired, "expired"),
        (190, 460, AuthExpired, "password"),
        (102, None, AuthExpired, "reconnect"),
        (4, None, RateLimited, "call limit"),
        (17, None, RateLimited, "call limit"),
        (32, None, RateLimited, "call limit"),
        (613, None, RateLimited, "call limit"),
        (341, None, RateLimited, "call limit"),
        (4, 2207051, Rejected, "user says no"),
        (1, None, Transient, "temporary"),
        (2, None, Transient, "temporary"),
        (-1, 2207001, Transient, "temporary"),
        (-2, 2207003, Transient, "temporary"),
        (24, 2207006, Transient, "temporary"),
        (24, 2207008, Transient, "temporary"),
        (1, 2207057, Rejected, "user says no"),
        (10, None, Rejected, "permission"),
        (200, None, Rejected, "permission"),
        (299, None, Rejected, "permission"),
        (36000, 2207004, Rejected, "user says no"),
        (36001, 2207005, Rejected, "user says no"),
        (36003, 2207009, Rejected, "user says no"),
        (36004, 2207010, Rejected, "user says no"),
        (100, 2207028, Rejected, "user says no"),
        (100, 2207040, Rejected, "user says no"),
        (100, 2207023, Rejected, "user says no"),
        (352, 2207026, Rejected, "user says no"),
        (25, 2207050, Rejected, "user says no"),
        (9004, 2207052, Rejected, "public"),
        (368, None, RateLimited, "policy"),
    ],
)
def test_error_codes_on_container_create(fake, pub, host, code, subcode, cls, fragment):
    body = _err(code, subcode, user_msg="user says no")
    fake.inject(CREATE, status=400, body=body)
    err = fails(cls, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert fragment in str(err)
    assert f"code {code}" in str(err)
    if isinstance(err, AuthExpired):
        assert err.refreshable is False
    if isinstance(err, RateLimited):
        wait = timedelta(hours=24) if code == 368 else timedelta(hours=1)
        assert err.retry_at == NOW + wait
    assert fake.published == []


def test_is_transient_flag_wins_over_an_unknown_code(fake, pub, host):
    fake.inject(CREATE, status=400, body=_err(777, is_transient=True))
    fails(Transient, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)


def test_call_limit_honours_business_use_case_header(fake, pub, host):
    usage = {
        USER_ID: [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 30}]
    }
    fake.inject(
        CREATE,
        status=400,
        body=_err(4, is_transient=True),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert err.retry_at == NOW + timedelta(minutes=30)


@pytest.mark.parametrize("form", ["seconds", "imf", "rfc850", "asctime"])
@pytest.mark.usefixtures("away_from_utc")
def test_bare_429_honours_retry_after(fake, pub, host, form):
    # a 429 with no Graph error body (an edge proxy's): only the header says when
    when = NOW + timedelta(minutes=5)
    after = 300 if form == "seconds" else when
    fake.inject_retry_after(
        CREATE, after, form="imf" if form == "seconds" else form, body="<html>slow down</html>"
    )
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert err.retry_at == when
    assert fake.published == []


@pytest.mark.parametrize(
    ("regain_minutes", "retry_after", "waits"),
    [
        pytest.param(None, 600, timedelta(minutes=10), id="retry-after-alone"),
        pytest.param(30, 600, timedelta(minutes=30), id="usage-header-later"),
        pytest.param(5, 600, timedelta(minutes=10), id="retry-after-later"),
    ],
)
def test_call_limit_honours_retry_after(fake, pub, host, regain_minutes, retry_after, waits):
    headers = {}
    if regain_minutes is not None:
        usage = {
            USER_ID: [{"type": "instagram", "estimated_time_to_regain_access": regain_minutes}]
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
    fake.inject_retry_after(
        CREATE, retry_after, status=400, body=_err(4, is_transient=True), headers=headers
    )
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    # the server's own hints, the later of them, never the one-hour guess
    assert err.retry_at == NOW + waits


def test_a_token_echoed_by_graph_is_scrubbed(fake, pub, host):
    body = _err(100, message=f"Invalid parameter near access_token={TOKEN}&x=1 or {TOKEN}")
    fake.inject(CREATE, status=400, body=body)
    err = fails(Rejected, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert str(err).count("[redacted]") == 2


@pytest.mark.parametrize("route", [CREATE, STATUS])
def test_5xx_before_publishing_is_transient(fake, pub, host, route):
    fake.inject(route, status=503, body="<html>Service Unavailable</html>")
    err = fails(Transient, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert err.http_status == 503
    assert fake.published == []


@pytest.mark.parametrize("mode", ["drop", "timeout"])
def test_lost_container_answer_is_transient(fake, make_pub, host, mode):
    fake.inject(CREATE, mode=mode, when="after", delay=1.0)
    quick = make_pub(timeout=(2, 0.3))
    fails(Transient, quick.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert fake.published == [] and fake.calls(PUBLISH) == []


def test_expired_token_on_publish_needs_reconnect(fake, pub, host):
    fake.expire(TOKEN)
    err = fails(AuthExpired, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert err.refreshable is False and "463" in str(err)
    assert fake.published == []


# ---------------------------------------------------------------- media_publish


def _publish_targets(fake: FakeInstagram) -> list[str]:
    return [r.json()["creation_id"] for r in fake.calls(PUBLISH)]


def _status_read_after_publish(fake: FakeInstagram) -> bool:
    """True when the container was read after the (last) media_publish request."""
    routes = [r.route for r in fake.requests]
    last_publish = max(i for i, route in enumerate(routes) if re.fullmatch(PUBLISH, route))
    return any(re.fullmatch(STATUS, route) for route in routes[last_publish + 1 :])


MISLEADING = [
    pytest.param({"code": 4, "subcode": 2207051}, id="4-2207051-spam"),
    pytest.param({"code": 9, "subcode": 2207042}, id="9-2207042-quota"),
    pytest.param({"code": 2, "subcode": None, "is_transient": True}, id="2-transient"),
    pytest.param({"code": -1, "subcode": 2207001}, id="-1-2207001-server"),
    pytest.param({"code": 24, "subcode": 2207008}, id="24-2207008-no-builder"),
    pytest.param({"code": 100, "subcode": None}, id="100-invalid"),
    pytest.param({"code": 190, "subcode": 463}, id="190-463-token"),
    pytest.param({"code": None, "status": 403, "body": "<html>Forbidden</html>"}, id="403-html"),
    pytest.param({"code": None, "status": 429, "body": "<html>slow down</html>"}, id="429-html"),
]


@pytest.mark.parametrize("error", MISLEADING)
def test_refused_publish_that_went_live_is_a_success(fake, pub, host, error):
    fake.publish_then_fail(**error)
    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published  # exactly one post, and the error did not hide it
    assert len(fake.media) == 1
    assert len(fake.calls(PUBLISH)) == 1  # the live container was never sent again
    assert _status_read_after_publish(fake)
    assert result.remote_id == published["id"]
    assert result.url == fake.media[published["id"]].permalink


@pytest.mark.parametrize(
    ("error", "cls", "fragment"),
    [
        ({"code": 4, "subcode": 2207051}, Rejected, "user says no"),
        ({"code": 9, "subcode": 2207042}, RateLimited, "9/2207042"),
        ({"code": 100}, Rejected, "user says no"),
        ({"code": 25, "subcode": 2207050}, Rejected, "user says no"),
        ({"code": 190, "subcode": 463}, AuthExpired, "expired"),
        ({"code": 4}, RateLimited, "call limit"),
        ({"status": 403, "body": "<html>Forbidden</html>"}, AuthExpired, "HTTP 403"),
        ({"status": 400, "body": "<html>Bad Request</html>"}, Rejected, "HTTP 400"),
    ],
    ids=["spam", "quota", "invalid", "restricted", "token", "call-limit", "403", "400"],
)
def test_refused_publish_that_did_not_go_live_is_classified_as_before(
    fake, pub, host, error, cls, fragment
):
    status = error.pop("status", 400)
    body = error.pop("body", None) or _err(
        error.pop("code"), error.pop("subcode", None), user_msg="user says no"
    )
    fake.inject(PUBLISH, status=status, body=body)
    err = fails(cls, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert fragment in str(err)
    assert fake.published == [] and fake.media == {}
    assert len(fake.calls(PUBLISH)) == 1
    assert _status_read_after_publish(fake)  # believed only once the container agreed


def test_temporary_refusal_retries_the_same_container(fake, pub, host, sleeps):
    fake.inject(PUBLISH, status=400, body=_err(2, is_transient=True))
    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published
    assert result.remote_id == published["id"]
    assert len(fake.calls(CREATE)) == 1  # no second container
    assert _publish_targets(fake) == [published["container"]] * 2
    assert sleeps.waits == [PUBLISH_RETRY_WAIT]


def test_temporary_refusals_are_retried_a_bounded_number_of_times(fake, pub, host, sleeps):
    fake.inject(PUBLISH, status=400, body=_err(-1, 2207001), times=50)
    err = fails(Transient, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert "temporary" in str(err)
    assert fake.published == []
    [container] = fake.containers
    assert _publish_targets(fake) == [container] * (1 + PUBLISH_RETRIES)
    assert fake.containers[container].status_code == "FINISHED"
    assert sleeps.waits == [PUBLISH_RETRY_WAIT] * PUBLISH_RETRIES


def test_temporary_refusal_with_an_unreadable_container_stays_unknown(fake, pub, host):
    def break_status(done: int, total: int) -> None:
        if done == total - 1:  # containers are ready; the publish comes next
            fake.inject(PUBLISH, status=400, body=_err(2, is_transient=True))
            fake.inject(STATUS, status=503, body="<html>unavailable</html>")

    err = fails(
        OutcomeUnknown,
        pub.publish,
        post(image(f"{host.url}/square.jpg")),
        cred(),
        ACCOUNT,
        break_status,
    )
    assert "may or may not" in str(err) and "code 2" in str(err)
    assert len(fake.calls(PUBLISH)) == 1


def test_a_container_older_than_a_day_is_not_published_again(fake, make_pub, host):
    clock = [NOW]
    pub = make_pub(now=lambda: clock[0])

    def a_day_passes(done: int, total: int) -> None:
        if done == total - 1:  # the container is ready, then a day goes by before publishing
            clock[0] = NOW + timedelta(hours=24, seconds=1)
            fake.inject(PUBLISH, status=400, body=_err(2, is_transient=True))

    fails(
        Transient,
        pub.publish,
        post(image(f"{host.url}/square.jpg")),
        cred(),
        ACCOUNT,
        a_day_passes,
    )
    assert len(fake.calls(PUBLISH)) == 1
    assert fake.published == []


def test_an_expired_container_is_not_published_again(fake, pub, host):
    def expire(done: int, total: int) -> None:
        if done == total - 1:
            fake.advance(86400)

    err = fails(
        Transient, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT, expire
    )
    assert "2207020" in str(err)
    assert len(fake.calls(PUBLISH)) == 1
    assert fake.published == []


@pytest.mark.parametrize(
    ("usage", "total", "duration"),
    [(100, 100, 86400), (51, 50, 86400), (25, 25, 3600)],
    ids=["100-a-day", "over-50", "short-window"],
)
def test_used_up_quota_waits_for_the_window_without_a_container(
    fake, pub, host, usage, total, duration
):
    fake.quota_usage, fake.quota_total, fake.quota_duration = usage, total, duration
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert err.retry_at == NOW + timedelta(seconds=duration)
    assert f"{usage} of its {total}" in str(err)
    [check] = fake.calls(QUOTA)
    assert check.query["fields"] == ["quota_usage,config"]
    assert fake.calls(CREATE) == [] and fake.containers == {}
    assert fake.published == []


def test_under_quota_publishes(fake, pub, host):
    fake.quota_usage, fake.quota_total = 99, 100
    pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert len(fake.published) == 1
    routes = [r.route for r in fake.requests]
    assert re.fullmatch(QUOTA, routes[0])  # read before any container was made
    assert re.fullmatch(CREATE, routes[1])


def test_posts_published_earlier_use_up_the_quota(fake, pub, host):
    fake.quota_total = 1
    pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/portrait.jpg")), cred(), ACCOUNT)
    assert err.retry_at == NOW + timedelta(days=1)
    assert len(fake.published) == 1 and len(fake.containers) == 1


def test_a_quota_window_left_out_counts_as_a_day(fake, pub, host):
    fake.inject(
        QUOTA, status=200, body={"data": [{"quota_usage": 5, "config": {"quota_total": 5}}]}
    )
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert err.retry_at == NOW + timedelta(days=1)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "body": "<html>oops</html>"},
        {"status": 400, "body": _err(100, message="Unsupported request")},
        {"status": 200, "body": {"data": []}},
    ],
    ids=["500", "refused", "empty"],
)
def test_a_quota_that_cannot_be_read_does_not_stop_the_post(fake, pub, host, fault):
    fake.inject(QUOTA, **fault)
    pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert len(fake.published) == 1


def test_quota_refused_at_publish_checks_again_in_an_hour(fake, pub, host):
    # another tool took the last slot between the quota check and media_publish
    fake.inject(PUBLISH, status=400, body=_err(9, 2207042))
    err = fails(RateLimited, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert "9/2207042" in str(err)
    assert err.retry_at == NOW + timedelta(hours=1)
    assert fake.published == []


def test_not_ready_then_success(fake, pub, host):
    not_ready = _err(9007, 2207027, message="Media ID is not available")
    fake.inject(PUBLISH, status=400, body=not_ready)
    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert len(fake.calls(PUBLISH)) == 2
    assert len(fake.calls(STATUS)) == 2  # polled again before the second try
    [published] = fake.published
    assert result.remote_id == published["id"]


def test_not_ready_forever_is_bounded(fake, pub, host):
    fake.inject(PUBLISH, status=400, body=_err(9007, 2207027), times=50)
    err = fails(Transient, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert "not ready" in str(err)
    assert len(fake.calls(PUBLISH)) == 4  # the first try and max_not_ready (3) more
    assert fake.published == []


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "body": _err(1, message="An unknown error occurred", is_transient=True)},
        {"status": 502, "body": "<html>Bad Gateway</html>"},
        {"mode": "drop"},
        {"mode": "timeout", "delay": 1.0},
    ],
    ids=["500", "502-html", "drop", "timeout"],
)
def test_publish_landed_but_answer_lost_resolves_to_published(fake, make_pub, host, fault):
    fake.inject(PUBLISH, when="after", **fault)
    quick = make_pub(timeout=(2, 0.3))
    result = quick.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published  # exactly one post
    assert len(fake.calls(PUBLISH)) == 1  # never sent again
    assert result.remote_id == published["id"]
    assert result.url == fake.media[published["id"]].permalink
    assert fake.calls(LISTING)  # found through the account's recent media


@pytest.mark.parametrize(
    "fault",
    [{"status": 500}, {"status": 503, "body": "<html>oops</html>"}, {"mode": "drop"}],
    ids=["500", "503", "drop"],
)
def test_publish_lost_before_landing_is_retried_once(fake, pub, host, fault):
    fake.inject(PUBLISH, when="before", **fault)
    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published
    assert len(fake.calls(PUBLISH)) == 2
    assert result.remote_id == published["id"]


def test_unresolvable_publish_stays_unknown(fake, pub, host):
    def break_status(done: int, total: int) -> None:
        if done == total - 1:  # containers are ready; the publish comes next
            fake.inject(PUBLISH, status=500)
            fake.inject(STATUS, status=500)

    err = fails(
        OutcomeUnknown,
        pub.publish,
        post(image(f"{host.url}/square.jpg")),
        cred(),
        ACCOUNT,
        break_status,
    )
    assert "may or may not" in str(err)
    assert len(fake.calls(PUBLISH)) == 1
    assert fake.published == []


def test_unknown_container_state_after_lost_publish_stays_unknown(fake, pub, host):
    def confuse(done: int, total: int) -> None:
        if done == total - 1:
            fake.inject(PUBLISH, status=500)
            fake.inject(STATUS, status=200, body={"status_code": "IN_PROGRESS", "id": "1"})

    fails(
        OutcomeUnknown, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT, confuse
    )
    assert len(fake.calls(PUBLISH)) == 1


def test_retry_is_attempted_only_once(fake, pub, host):
    fake.inject(PUBLISH, status=500, times=5)
    fails(OutcomeUnknown, pub.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert len(fake.calls(PUBLISH)) == 2
    assert fake.published == []


def test_late_landing_seen_when_the_retry_is_refused(fake, pub, host):
    """First publish lands but answers 500; the check races it and sees FINISHED; the
    retry is refused (the container is used up); a second look finds it PUBLISHED."""

    def race(done: int, total: int) -> None:
        if done == total - 1:
            fake.inject(PUBLISH, status=500, when="after")
            fake.inject(STATUS, status=200, body={"status_code": "FINISHED", "id": "1"})

    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT, race)
    [published] = fake.published
    assert len(fake.calls(PUBLISH)) == 2
    assert result.remote_id == published["id"]


def test_listing_failure_after_landing_still_counts_as_published(fake, pub, host):
    fake.inject(PUBLISH, status=500, when="after")
    fake.inject(LISTING, status=500)
    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert len(fake.published) == 1
    assert result.url == f"https://www.instagram.com/{USERNAME}/"


def test_resolution_picks_our_post_among_recent_media(fake, pub, host):
    pub.publish(post(image(f"{host.url}/square.jpg"), text="older post"), cred(), ACCOUNT)
    fake.inject(PUBLISH, status=500, when="after")
    result = pub.publish(post(image(f"{host.url}/portrait.jpg"), text="newer"), cred(), ACCOUNT)
    assert len(fake.published) == 2
    assert result.remote_id == fake.published[1]["id"]


LANDINGS = [
    pytest.param(lambda fake: fake.inject(PUBLISH, status=500, when="after"), id="answer-lost"),
    pytest.param(lambda fake: fake.publish_then_fail(4, subcode=2207051), id="misleading-error"),
    pytest.param(
        lambda fake: fake.inject(PUBLISH, status=400, body=_err(9007, 2207027), when="after"),
        id="not-ready-but-live",
    ),
]
CAPTION = "Spring light at the studio #milton"
DAY_SECONDS = 86400


def _others_around(fake: FakeInstagram) -> None:
    """Posts by other tools: ours, days ago, and ten newer ones with other captions."""
    fake.add_media(CAPTION, at=fake.clock - 3 * DAY_SECONDS)
    for n in range(10):
        fake.add_media(f"posted by another tool #{n}", at=fake.clock + 5 + n)


@pytest.mark.parametrize("landing", LANDINGS)
def test_landed_post_is_found_by_caption_and_time(fake, pub, host, landing):
    _others_around(fake)
    landing(fake)
    result = pub.publish(post(image(f"{host.url}/square.jpg"), text=CAPTION), cred(), ACCOUNT)
    [published] = fake.published
    assert result.remote_id == published["id"]
    assert result.url == fake.media[published["id"]].permalink
    assert len(fake.calls(PUBLISH)) == 1
    [listing] = fake.calls(LISTING)
    assert listing.query["fields"] == ["id,caption,timestamp,permalink"]


def test_a_same_caption_posted_just_after_ours_is_not_taken_for_it(fake, pub, host):
    fake.add_media(CAPTION, at=fake.clock + 30)  # another tool, half a minute later
    fake.inject(PUBLISH, status=500, when="after")
    result = pub.publish(post(image(f"{host.url}/square.jpg"), text=CAPTION), cred(), ACCOUNT)
    [published] = fake.published
    assert result.remote_id == published["id"]


@pytest.mark.parametrize("landing", LANDINGS)
def test_landed_post_missing_from_the_list_stays_unknown(fake, pub, host, landing):
    _others_around(fake)
    fake.listing_delay = 600.0  # ours is not listed yet; only the others are
    landing(fake)
    err = fails(
        OutcomeUnknown,
        pub.publish,
        post(image(f"{host.url}/square.jpg"), text=CAPTION),
        cred(),
        ACCOUNT,
    )
    assert "may or may not" in str(err) and "2026-03-01 12:00 UTC" in str(err)
    assert len(fake.published) == 1
    assert len(fake.calls(PUBLISH)) == 1  # never sent again


def test_permalink_failure_falls_back_to_the_profile(fake, pub, host):
    fake.inject(MEDIA_GET, status=500)
    result = pub.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published
    assert result.remote_id == published["id"]
    assert result.url == f"https://www.instagram.com/{USERNAME}/"


# ---------------------------------------------------------------- tokens


def test_refresh_returns_a_new_long_lived_token(fake, pub, caplog):
    caplog.set_level(logging.DEBUG)
    new = pub.refresh(cred())
    assert new.access_token != TOKEN
    assert new.expires_at == NOW + timedelta(seconds=5184000)
    [req] = fake.calls(r"GET /refresh_access_token")
    assert req.query["grant_type"] == ["ig_refresh_token"]
    assert pub.identify(new).remote_id == USER_ID
    for record in caplog.records:  # not even urllib3's DEBUG line with the full URL
        assert TOKEN not in record.getMessage()
        assert new.access_token not in record.getMessage()


def test_refresh_of_an_expired_token_needs_reconnect(fake, pub):
    fake.expire(TOKEN)
    err = fails(AuthExpired, pub.refresh, cred())
    assert err.refreshable is False
    assert "reconnect the Instagram account" in str(err)


def test_refresh_of_a_token_too_new_needs_reconnect(fake, pub):
    fake.add_token("IGAAbrandnewtoken42", age=60)
    err = fails(AuthExpired, pub.refresh, Credential("IGAAbrandnewtoken42"))
    assert err.refreshable is False and "IGAAbrandnewtoken42" not in str(err)


def test_refresh_server_error_is_transient(fake, pub):
    fake.inject(r"GET /refresh_access_token", status=502, body="<html>bad gateway</html>")
    fails(Transient, pub.refresh, cred())


def test_authorize_url():
    url = authorize_url("1234", "http://127.0.0.1:8765/callback", "st4te")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.instagram.com",
        "/oauth/authorize",
    )
    query = parse_qs(parts.query)
    assert query == {
        "client_id": ["1234"],
        "redirect_uri": ["http://127.0.0.1:8765/callback"],
        "response_type": ["code"],
        "scope": [",".join(SCOPES)],
        "state": ["st4te"],
    }
    assert authorize_url("1", "x", "s", base="http://127.0.0.1:1/").startswith(
        "http://127.0.0.1:1/oauth/authorize?"
    )


@pytest.mark.parametrize("shape", ["data", "flat"])
def test_exchange_code_gets_a_long_lived_token(fake, pub, shape, caplog):
    caplog.set_level(logging.DEBUG)
    fake.oauth_shape = shape
    fake.add_app("app-1", "s3cr3t-app-secret")
    code = fake.issue_code("app-1", "http://127.0.0.1:8765/cb", user_id="17841499999999999")
    assert code.endswith("#_")
    credential = pub.exchange_code(code, "http://127.0.0.1:8765/cb", "app-1", "s3cr3t-app-secret")
    assert credential.access_token.startswith("IGAAlong")
    assert credential.expires_at == NOW + timedelta(seconds=5184000)
    assert credential.client_id == "app-1" and credential.client_secret is None
    assert credential.extra["user_id"] == "17841499999999999"
    assert "instagram_business_content_publish" in credential.extra["permissions"]
    assert pub.identify(credential).remote_id == "17841499999999999"
    [form] = [r.form() for r in fake.calls(r"POST /oauth/access_token")]
    assert form["grant_type"] == ["authorization_code"]
    for record in caplog.records:
        assert "s3cr3t-app-secret" not in record.getMessage()
        assert credential.access_token not in record.getMessage()


def test_exchange_code_refused_says_connect_again(fake, pub):
    fake.add_app("app-1", "s3cr3t-app-secret")
    code = fake.issue_code("app-1", "http://127.0.0.1:8765/cb")
    with pytest.raises(AuthExpired) as info:
        pub.exchange_code(code, "http://127.0.0.1:9999/other", "app-1", "s3cr3t-app-secret")
    assert "redirect_uri" in str(info.value) and "connect the account again" in str(info.value)
    assert "s3cr3t-app-secret" not in str(info.value)


# ---------------------------------------------------------------- the fake itself


def _graph(fake: FakeInstagram, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{fake.url}{path}", timeout=5, **kw)


def test_fake_accepts_every_token_and_parameter_placement(fake):
    assert _graph(
        fake, "GET", "/me", params={"fields": "user_id", "access_token": TOKEN}
    ).json() == {"user_id": USER_ID, "id": f"app-scoped-{USER_ID[-6:]}"}
    assert _graph(fake, "GET", "/v19.0/me", headers={"Authorization": f"OAuth {TOKEN}"}).ok
    assert _graph(fake, "POST", "/v25.0/me", data={"access_token": TOKEN}).status_code == 400
    resp = _graph(
        fake,
        "GET",
        f"/v21.0/{USER_ID}/content_publishing_limit",
        data={"access_token": TOKEN, "fields": "quota_usage,config"},
    )
    assert resp.json() == {
        "data": [{"quota_usage": 0, "config": {"quota_total": 100, "quota_duration": 86400}}]
    }
    resp = _graph(fake, "GET", "/me", files={"access_token": (None, TOKEN)})
    assert resp.ok
    missing = _graph(fake, "GET", "/me").json()["error"]
    assert missing["code"] == 104 and set(missing) >= {"message", "type", "code", "fbtrace_id"}


def test_fake_checks_captions(fake, host):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{host.url}/square.jpg"
    cases = [
        ("x" * 2201, 36004, 2207010),
        (" ".join(f"#t{i}" for i in range(31)), 100, 2207040),
        (" ".join(f"@u{i}" for i in range(21)), 100, 2207040),
    ]
    for caption, code, subcode in cases:
        resp = _graph(
            fake,
            "POST",
            f"/v25.0/{USER_ID}/media",
            headers=headers,
            json={"image_url": url, "caption": caption},
        )
        err = resp.json()["error"]
        assert resp.status_code == 400 and (err["code"], err["error_subcode"]) == (code, subcode)
        assert err["error_user_msg"]


def test_fake_container_rules(fake, host):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    media = f"/v25.0/{USER_ID}/media"
    item = _graph(
        fake,
        "POST",
        media,
        headers=headers,
        json={"image_url": f"{host.url}/square.jpg", "is_carousel_item": True},
    ).json()["id"]
    resp = _graph(
        fake, "POST", f"/v25.0/{USER_ID}/media_publish", headers=headers, json={"creation_id": item}
    )
    assert resp.json()["error"]["code"] == 100  # a carousel item alone
    one = _graph(
        fake, "POST", media, headers=headers, json={"media_type": "CAROUSEL", "children": item}
    ).json()["error"]
    assert one["error_subcode"] == 2207028
    fake.video_polls = 5
    reel = _graph(
        fake,
        "POST",
        media,
        headers=headers,
        json={"media_type": "REELS", "video_url": f"{host.url}/clip.mp4"},
    ).json()["id"]
    early = _graph(
        fake, "POST", f"/v25.0/{USER_ID}/media_publish", headers=headers, json={"creation_id": reel}
    ).json()["error"]
    assert (early["code"], early["error_subcode"]) == (9007, 2207027)
    legacy = _graph(
        fake,
        "POST",
        media,
        headers=headers,
        json={"media_type": "VIDEO", "video_url": f"{host.url}/clip.mp4"},
    ).json()
    assert legacy["error"]["error_subcode"] == 2207023
    fake.advance(86400)
    status = _graph(
        fake, "GET", f"/{reel}", headers=headers, params={"fields": "status_code,status"}
    ).json()
    assert status["status_code"] == "EXPIRED"


def test_fake_token_expiry_is_190_463(fake):
    fake.expire(TOKEN)
    resp = _graph(fake, "GET", "/v25.0/me", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert (err["code"], err["error_subcode"], err["type"]) == (190, 463, "OAuthException")


def test_jpeg_helper_matches_the_fake_reader():
    assert jpeg_size(make_jpeg(1080, 1350)) == (1080, 1350)
    assert jpeg_size(make_jpeg(13, 7, padding=70000)) == (13, 7)
    assert jpeg_size(PNG) is None


# ---------------------------------------------------------------- a retry of the same post


def test_a_retry_publishes_the_earlier_attempts_container_instead_of_a_new_one(
    fake, make_pub, host
):
    first = make_pub()
    fake.inject(PUBLISH, status=400, body=_err(-1, 2207001), times=1 + PUBLISH_RETRIES)
    fails(Transient, first.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [container] = fake.containers
    assert first.checkpoint["container"] == container  # what the engine keeps for the retry

    retry = make_pub()
    retry.resume = dict(first.checkpoint)
    result = retry.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published
    assert result.remote_id == published["id"] and published["container"] == container
    assert len(fake.calls(CREATE)) == 1  # no second container, ever


def test_a_retry_finds_the_earlier_attempt_landed_and_does_not_post_again(fake, make_pub, host):
    first = make_pub()

    def then_lose_sight(done: int, total: int) -> None:
        if done == total - 1:  # ready: the publish goes live, the answer says otherwise,
            fake.publish_then_fail(times=1)  # and the container cannot be read just then
            fake.inject(STATUS, status=503, body="<html>unavailable</html>", times=1)

    fails(
        OutcomeUnknown,
        first.publish,
        post(image(f"{host.url}/square.jpg")),
        cred(),
        ACCOUNT,
        then_lose_sight,
    )
    assert len(fake.published) == 1

    retry = make_pub()
    retry.resume = dict(first.checkpoint)
    result = retry.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    [published] = fake.published  # still one post
    assert result.remote_id == published["id"]
    assert len(fake.calls(PUBLISH)) == 1 and len(fake.calls(CREATE)) == 1


def test_an_expired_earlier_container_makes_way_for_a_new_one(fake, make_pub, host):
    clock = [NOW]
    first = make_pub(now=lambda: clock[0])
    fake.inject(PUBLISH, status=400, body=_err(-1, 2207001), times=1 + PUBLISH_RETRIES)
    fails(Transient, first.publish, post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    clock[0] = NOW + CONTAINER_LIFETIME + timedelta(minutes=1)
    fake.advance(CONTAINER_LIFETIME.total_seconds() + 60)

    retry = make_pub(now=lambda: clock[0])
    retry.resume = dict(first.checkpoint)
    retry.publish(post(image(f"{host.url}/square.jpg")), cred(), ACCOUNT)
    assert len(fake.calls(CREATE)) == 2 and len(fake.published) == 1
