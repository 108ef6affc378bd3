"""LinkedInPublisher over real HTTP against FakeLinkedIn (CONTRACTS.md section 1)."""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.validation import MediaRule
from milton_desktop.publishers import linkedin, registry
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.linkedin import (
    LINKEDIN_VERSION,
    MEDIA_NOT_READY,
    PAGE_SCOPES,
    RULES,
    LinkedInPublisher,
    author_urn,
    authorize_url,
    escape_commentary,
    version_candidates,
)
from tests.fakes.linkedin import DEFAULT_SCOPES, FakeLinkedIn, UploadHost, decode_little
from tests.fakes.linkedin import PAGE_SCOPES as FAKE_PAGE_SCOPES
from tests.fakes.linkedin import TOO_MANY_REQUESTS as TOO_MANY
from tests.fakes.server import FakeServer, Reply, Request, http_date

SUB = "782bbtaQ"
AUTHOR = f"urn:li:person:{SUB}"
ACCOUNT = AccountRef(remote_id=SUB)
NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


# ---------------------------------------------------------------- fixtures


class MediaHost(FakeServer):
    """A public web server holding media files, for ``MediaItem.url``."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files

    def handle(self, req: Request) -> Reply:
        if req.path in self.files:
            return Reply(200, self.files[req.path], content_type="image/jpeg")
        if req.path == "/moved":
            return Reply(302, None, {"Location": "/photo.jpg"})
        return Reply(404, "<html>not here</html>")


@pytest.fixture(scope="module")
def linkedin_server() -> Iterator[FakeLinkedIn]:
    # one server per module: stopping one takes up to half a second
    server = FakeLinkedIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake(linkedin_server: FakeLinkedIn) -> FakeLinkedIn:
    # small video parts keep the multi-part flow fast; the real size is about 4 MiB
    return linkedin_server.reset(video_part_size=1000, video_polls=2)


@pytest.fixture
def token(fake: FakeLinkedIn) -> str:
    return fake.add_member(SUB, "John Doe")


@pytest.fixture
def cred(token: str) -> Credential:
    return Credential(access_token=token)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def pub(fake: FakeLinkedIn, sleeps: list[float]) -> Iterator[LinkedInPublisher]:
    publisher = LinkedInPublisher(
        api_base=fake.url, timeout=(2, 1), sleep=sleeps.append, now=lambda: NOW
    )
    yield publisher
    publisher.session.close()


@pytest.fixture(scope="module")
def upload_server(linkedin_server: FakeLinkedIn) -> Iterator[UploadHost]:
    host = UploadHost(linkedin_server)
    host.start()
    yield host
    host.stop()


@pytest.fixture(scope="module")
def media_server() -> Iterator[MediaHost]:
    host = MediaHost({"/photo.jpg": PNG})
    host.start()
    yield host
    host.stop()


@pytest.fixture
def media_host(media_server: MediaHost) -> MediaHost:
    media_server.requests.clear()
    media_server.clear_faults()
    return media_server


def image_file(tmp_path: Path, name: str, data: bytes = PNG) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def image(path: Path, alt: str = "") -> MediaItem:
    return MediaItem(
        kind="image", mime="image/png", path=path, alt_text=alt, size=path.stat().st_size
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rest_headers(token: str, version: str = LINKEDIN_VERSION) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": version,
        "X-Restli-Protocol-Version": "2.0.0",
        "Content-Type": "application/json",
    }


def post_body(commentary: str, author: str = AUTHOR, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    body.update(extra)
    return body


# ---------------------------------------------------------------- text posts


def test_text_post_sends_documented_body_and_headers(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, token: str
) -> None:
    result = pub.publish(Content("Hello LinkedIn"), cred, ACCOUNT)

    assert len(fake.posts) == 1
    urn = fake.posts[0]["urn"]
    assert urn.startswith("urn:li:share:")
    assert result.remote_id == urn
    assert result.url == f"https://www.linkedin.com/feed/update/{urn}"
    (call,) = fake.calls("POST /rest/posts")
    assert call.header("authorization") == f"Bearer {token}"
    assert call.header("linkedin-version") == LINKEDIN_VERSION
    assert call.header("x-restli-protocol-version") == "2.0.0"
    assert call.header("content-type") == "application/json"
    assert call.json() == post_body("Hello LinkedIn")
    assert fake.posts[0]["truncated_at"] is None


def test_registry_finds_the_publisher(fake: FakeLinkedIn) -> None:
    publisher = registry.make_publisher("linkedin", api_base=fake.url)
    try:
        assert isinstance(publisher, LinkedInPublisher)
        assert publisher.base("api") == publisher.base("oauth") == fake.url
    finally:
        publisher.session.close()
    assert LinkedInPublisher.default_bases["api"] == "https://api.linkedin.com"
    assert LinkedInPublisher.default_bases["oauth"] == "https://www.linkedin.com"


def test_version_can_be_overridden_by_environment(
    fake: FakeLinkedIn, cred: Credential, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MILTON_LINKEDIN_VERSION", "202512")
    publisher = LinkedInPublisher(api_base=fake.url, timeout=(2, 1))
    try:
        publisher.publish(Content("versioned"), cred, ACCOUNT)
    finally:
        publisher.session.close()
    assert fake.calls("POST /rest/posts")[0].header("linkedin-version") == "202512"


# ---------------------------------------------------------------- escaping

TRICKY = (
    "Shipping v2 (finally) [beta] with snake_case *stars* ~tilde~ <angle> {a|b} "
    "and C# back\\slash \\( mail me@example.com, "
    "see https://en.wikipedia.org/wiki/Foo_(bar) and (https://example.com/a_b?x=1&y=(2)). "
    "Thanks @[Jane Doe](urn:li:person:abc-123_X) and @[Acme](urn:li:organization:42) "
    "#launch #2026 # lone ## done_"
)


def test_escaped_text_reaches_linkedin_exactly_as_written(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    pub.publish(Content(TRICKY), cred, ACCOUNT)

    post = fake.posts[0]
    assert post["commentary_decoded"] == TRICKY
    assert post["truncated_at"] is None
    assert post["mentions"] == [
        "@[Jane Doe](urn:li:person:abc-123_X)",
        "@[Acme](urn:li:organization:42)",
    ]
    assert post["hashtags"] == ["launch", "2026"]
    raw = post["commentary_raw"]
    assert "v2 \\(finally\\) \\[beta\\]" in raw
    assert "https://en.wikipedia.org/wiki/Foo_(bar)" in raw  # URLs untouched
    assert "\\(https://example.com/a_b?x=1&y=(2)\\)." in raw
    assert "back\\\\slash \\\\\\(" in raw
    assert raw.endswith("#launch #2026 \\# lone \\#\\# done\\_")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(finally)", "\\(finally\\)"),
        ("a\\b", "a\\\\b"),  # the backslash is escaped first, once
        ("\\(", "\\\\\\("),
        ("snake_case", "snake\\_case"),
        ("#tag and #", "#tag and \\#"),
        ("C#", "C\\#"),
        ("#my_tag", "#my\\_tag"),
        ("x@y.z", "x\\@y.z"),
        ("@[Jane](urn:li:person:abc)", "@[Jane](urn:li:person:abc)"),
        ("@[Jane](https://evil)", "\\@\\[Jane\\]\\(https://evil\\)"),
        ("https://a.b/c_(d)", "https://a.b/c_(d)"),
        ("(https://a.b/c)", "\\(https://a.b/c\\)"),
        ("<https://a.b>", "\\<https://a.b\\>"),
        ("plain words", "plain words"),
        ("", ""),
    ],
)
def test_escape_commentary(text: str, expected: str) -> None:
    assert escape_commentary(text) == expected


FRAGMENTS = st.sampled_from(
    [
        "https://",
        "http://x.y/",
        "@[Jane](urn:li:person:a1)",
        "@[",
        "](urn:li:person:b)",
        "#tag",
        "#",
        "\\",
        "{hashtag|\\#|x}",
        "_",
        "(",
        ")",
        " ",
        "\n",
        "é",
    ]
)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.one_of(FRAGMENTS, st.text(max_size=6)), max_size=12).map("".join))
def test_escaping_round_trips_through_linkedins_reading(text: str) -> None:
    little = decode_little(escape_commentary(text), strict=True)
    assert little.decoded == text
    assert little.truncated_at is None


def test_fake_flags_unescaped_markup(fake: FakeLinkedIn, token: str) -> None:
    with requests.Session() as s:
        resp = s.post(
            f"{fake.url}/rest/posts",
            json=post_body("Big news (really)"),
            headers=rest_headers(token),
        )
    assert resp.status_code == 201  # LinkedIn accepts it...
    assert fake.posts[0]["truncated_at"] == 9  # ...and would cut it at the "("


# ---------------------------------------------------------------- images and video


def test_single_image_with_alt_text(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, token: str, tmp_path: Path
) -> None:
    progress: list[tuple[int, int]] = []
    path = image_file(tmp_path, "chart.png")

    pub.publish(
        Content("Q1 chart", (image(path, "A bar chart"),)),
        cred,
        ACCOUNT,
        lambda done, total: progress.append((done, total)),
    )

    (init,) = fake.calls("POST /rest/images")
    assert init.query == {"action": ["initializeUpload"]}
    assert init.json() == {"initializeUploadRequest": {"owner": AUTHOR}}
    (put,) = fake.calls("PUT /dms-uploads/.*")
    assert put.body == PNG  # one PUT of the whole file
    assert put.header("authorization") == f"Bearer {token}"
    (img,) = fake.images.values()
    assert img.puts == 1 and img.status == "AVAILABLE" and img.owner == AUTHOR
    assert fake.posts[0]["content"] == {"media": {"id": img.urn, "altText": "A bar chart"}}
    assert progress == [(len(PNG), len(PNG))]


def test_multi_image_keeps_order_and_only_non_empty_alt_text(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    files = [image_file(tmp_path, f"{n}.png", PNG + bytes([n])) for n in range(3)]
    progress: list[tuple[int, int]] = []
    items = (image(files[0], "first"), image(files[1]), image(files[2], "third"))

    pub.publish(
        Content("Three pictures", items), cred, ACCOUNT, lambda d, t: progress.append((d, t))
    )

    urns = list(fake.images)
    assert [fake.images[u].data for u in urns] == [f.read_bytes() for f in files]
    assert fake.posts[0]["content"] == {
        "multiImage": {
            "images": [
                {"id": urns[0], "altText": "first"},
                {"id": urns[1]},
                {"id": urns[2], "altText": "third"},
            ]
        }
    }
    total = sum(f.stat().st_size for f in files)
    assert progress[-1] == (total, total) and len(progress) == 3


def test_video_parts_etags_finalize_and_polling(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    data = bytes(i % 251 for i in range(2500))
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    video = MediaItem(kind="video", mime="video/mp4", path=path, size=len(data))
    progress: list[tuple[int, int]] = []

    pub.publish(Content("Watch", (video,)), cred, ACCOUNT, lambda d, t: progress.append((d, t)))

    init, finalize = fake.calls("POST /rest/videos")
    assert init.query == {"action": ["initializeUpload"]}
    assert init.json()["initializeUploadRequest"] == {
        "owner": AUTHOR,
        "fileSizeBytes": 2500,
        "uploadCaptions": False,
        "uploadThumbnail": False,
    }
    parts = fake.calls("PUT /dms-uploads/video/.*")
    assert [len(p.body) for p in parts] == [1000, 1000, 500]
    assert all(p.header("content-type") == "application/octet-stream" for p in parts)
    (vid,) = fake.videos.values()
    assert b"".join(vid.data[i] for i in range(3)) == data
    # the ETag of each part, in order, is what finalizes the upload
    assert finalize.query == {"action": ["finalizeUpload"]}
    assert finalize.json()["finalizeUploadRequest"] == {
        "video": vid.urn,
        "uploadToken": "",
        "uploadedPartIds": [p.etag for p in vid.parts],
    }
    assert len(fake.calls("GET /rest/videos/.*")) == 3  # PROCESSING, PROCESSING, AVAILABLE
    assert sleeps == [pub.video_poll_interval] * 2
    assert fake.posts[0]["content"] == {"media": {"id": vid.urn}}
    assert progress == [(1000, 2500), (2000, 2500), (2500, 2500)]


# ---------------------------------------------------------------- where the token goes


def media_item(kind: str, tmp_path: Path) -> tuple[MediaItem, bytes]:
    if kind == "image":
        return image(image_file(tmp_path, "photo.png")), PNG
    data = bytes(i % 251 for i in range(2500))  # three parts of 1000, 1000, 500 bytes
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    return MediaItem(kind="video", mime="video/mp4", path=path, size=len(data)), data


def uploaded(fake: FakeLinkedIn, kind: str) -> bytes:
    """The bytes LinkedIn holds for the one image or video of the test."""
    if kind == "image":
        (img,) = fake.images.values()
        return img.data
    (vid,) = fake.videos.values()
    return b"".join(vid.data[i] for i in sorted(vid.data))


def carries_token(req: Request, token: str) -> bool:
    where = [req.path, str(req.query), *req.headers.values()]
    return any(token in text for text in where) or token.encode() in req.body


@pytest.mark.parametrize("kind", ["image", "video"])
@pytest.mark.parametrize("origin", ["another port", "another host name"])
def test_uploads_to_a_foreign_origin_get_the_bytes_and_never_the_token(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    upload_server: UploadHost,
    cred: Credential,
    token: str,
    tmp_path: Path,
    kind: str,
    origin: str,
) -> None:
    if origin == "another port":
        receiver: FakeServer = upload_server.reset()
        fake.upload_base = upload_server.url
    else:
        # the same server under a name that is not the API's: still another origin
        receiver = fake
        fake.upload_base = fake.url.replace("127.0.0.1", "localhost")
    item, data = media_item(kind, tmp_path)

    pub.publish(Content(f"a {kind} stored elsewhere", (item,)), cred, ACCOUNT)

    puts = receiver.calls("PUT /dms-uploads/.*")
    assert puts and all(urlsplit(fake.upload_base).netloc == p.header("host") for p in puts)
    assert b"".join(p.body for p in puts) == data == uploaded(fake, kind)
    assert all("authorization" not in p.headers for p in puts)
    assert not any(carries_token(p, token) for p in puts)
    if origin == "another port":
        assert len(receiver.requests) == len(puts)  # nothing else was sent there
        assert fake.calls("PUT .*") == []
    # the post went through with the media uploaded elsewhere
    (post,) = fake.posts
    assert post["content"]["media"]["id"] in (*fake.images, *fake.videos)


@pytest.mark.parametrize("kind", ["image", "video"])
def test_uploads_to_linkedins_own_host_carry_the_bearer_token(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    token: str,
    tmp_path: Path,
    kind: str,
) -> None:
    item, data = media_item(kind, tmp_path)

    pub.publish(Content(f"a {kind} on LinkedIn", (item,)), cred, ACCOUNT)

    puts = fake.calls("PUT /dms-uploads/.*")
    assert puts and b"".join(p.body for p in puts) == data == uploaded(fake, kind)
    for put in puts:
        # section 1.4: the PUT to LinkedIn's upload URL carries the member's bearer token
        assert put.header("authorization") == f"Bearer {token}"
        assert put.header("content-type") == "application/octet-stream"


def test_foreign_upload_host_refuses_a_bearer_token(
    fake: FakeLinkedIn, upload_server: UploadHost, token: str
) -> None:
    # what a leak would look like to the user: the upload fails and nothing is posted
    upload_server.reset()
    fake.upload_base = upload_server.url
    init = requests.post(
        f"{fake.url}/rest/images?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": AUTHOR}},
        headers=rest_headers(token),
        timeout=2,
    )
    url = init.json()["value"]["uploadUrl"]
    assert url.startswith(upload_server.url + "/dms-uploads/")
    leaked = requests.put(url, data=PNG, headers={"Authorization": f"Bearer {token}"}, timeout=2)
    assert leaked.status_code == 400
    assert requests.put(url, data=PNG, timeout=2).status_code == 201
    (img,) = fake.images.values()
    assert img.data == PNG and img.status == "AVAILABLE"


def test_video_processing_failure_is_rejected(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    fake.video_fails = True
    path = tmp_path / "bad.mp4"
    path.write_bytes(b"x" * 10)
    with pytest.raises(Rejected, match="could not process"):
        pub.publish(Content("v", (MediaItem("video", "video/mp4", path=path),)), cred, ACCOUNT)
    assert fake.posts == []


def test_video_that_never_finishes_is_transient_and_bounded(
    fake: FakeLinkedIn, cred: Credential, sleeps: list[float], tmp_path: Path
) -> None:
    fake.video_polls = 10**6
    path = tmp_path / "slow.mp4"
    path.write_bytes(b"x" * 10)
    publisher = LinkedInPublisher(
        api_base=fake.url,
        timeout=(2, 1),
        sleep=sleeps.append,
        video_poll_interval=5,
        video_max_wait=20,
    )
    try:
        with pytest.raises(Transient, match="still processing"):
            publisher.publish(
                Content("v", (MediaItem("video", "video/mp4", path=path),)), cred, ACCOUNT
            )
    finally:
        publisher.session.close()
    assert sum(sleeps) == 20
    assert fake.posts == []


def test_image_still_processing_is_posted_after_a_short_wait(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    fake.image_processing_posts = 1  # the first create finds the image PROCESSING

    pub.publish(Content("fresh picture", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)

    first, second = fake.calls("POST /rest/posts")
    assert first.json() == second.json()  # the same create, sent again
    (img,) = fake.images.values()  # uploaded once, not again
    assert len(fake.calls("PUT /dms-uploads/.*")) == 1
    (post,) = fake.posts
    assert post["content"] == {"media": {"id": img.urn}}
    assert sleeps == [pub.media_ready_waits[0]]


def test_image_that_stays_unprocessed_is_transient_and_bounded(
    fake: FakeLinkedIn, cred: Credential, sleeps: list[float], tmp_path: Path
) -> None:
    fake.image_processing_posts = 100
    publisher = LinkedInPublisher(
        api_base=fake.url, timeout=(2, 1), sleep=sleeps.append, media_ready_waits=(1.0, 2.0)
    )
    try:
        with pytest.raises(Transient, match="still processing the media") as err:
            publisher.publish(
                Content("slow picture", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT
            )
    finally:
        publisher.session.close()
    assert err.value.http_status == 422
    assert len(fake.calls("POST /rest/posts")) == 3
    assert sleeps == [1.0, 2.0]
    assert fake.posts == []


@pytest.mark.parametrize(
    ("message", "not_ready"),
    [
        ("Media urn:li:image:C4E10AQ1 is not ready yet: it is still being processed", True),
        ("The image urn:li:image:C4E10AQ1 is not yet processed", True),
        ("Asset urn:li:digitalmediaAsset:C5 is not available", True),
        ("Images have not been processed", True),
        ("Media urn:li:image:C4E10AQ1 could not be processed: upload it again", False),
        ("Media processing failed: the image is not available", False),
        ("Media urn:li:image:C4E10AQ1 has no uploaded content (WAITING_UPLOAD)", False),
        ("Content is a duplicate of urn:li:share:7141138937766391808", False),
        ("/content/media/id :: urn:li:image:x does not exist", False),
    ],
)
def test_what_counts_as_media_not_ready(message: str, not_ready: bool) -> None:
    assert bool(MEDIA_NOT_READY.search(message)) is not_ready


def test_media_not_ready_outside_the_create_is_not_waited_for(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    fake.inject(
        "POST /rest/images",
        status=400,
        body={"status": 400, "message": "The image is not ready"},
    )
    with pytest.raises(Rejected, match="not ready"):
        pub.publish(Content("x", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)
    assert sleeps == [] and fake.calls("POST /rest/posts") == []


def test_image_from_url_follows_redirect_and_sends_no_token(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    token: str,
    media_host: MediaHost,
) -> None:
    item = MediaItem("image", "image/jpeg", url=f"{media_host.url}/moved", alt_text="from the web")

    pub.publish(Content("Remote picture", (item,)), cred, ACCOUNT)

    (img,) = fake.images.values()
    assert img.data == PNG
    assert [r.path for r in media_host.requests] == ["/moved", "/photo.jpg"]
    assert all(token not in str(r.headers) for r in media_host.requests)
    assert all("linkedin-version" not in r.headers for r in media_host.requests)


@pytest.mark.parametrize(("path", "error"), [("/missing.jpg", Rejected), ("/fail.jpg", Transient)])
def test_media_url_failures_stop_before_linkedin(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    media_host: MediaHost,
    path: str,
    error: type[PublishError],
) -> None:
    media_host.inject("GET /fail.jpg", status=503)
    item = MediaItem("image", "image/jpeg", url=f"{media_host.url}{path}")
    with pytest.raises(error):
        pub.publish(Content("x", (item,)), cred, ACCOUNT)
    assert fake.requests == []


def test_media_url_over_the_size_cap_is_rejected(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    media_host: MediaHost,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small = replace(
        RULES, media={**RULES.media, "image": MediaRule(RULES.media["image"].mimes, 100)}
    )
    monkeypatch.setattr(pub, "rules", small)
    item = MediaItem("image", "image/jpeg", url=f"{media_host.url}/photo.jpg")
    with pytest.raises(Rejected, match="smaller file"):
        pub.publish(Content("x", (item,)), cred, ACCOUNT)
    assert fake.requests == []


def test_missing_local_copy_falls_back_to_the_url(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    media_host: MediaHost,
    tmp_path: Path,
) -> None:
    item = MediaItem(
        "image", "image/jpeg", path=tmp_path / "gone.jpg", url=f"{media_host.url}/photo.jpg"
    )
    pub.publish(Content("fallback", (item,)), cred, ACCOUNT)
    (img,) = fake.images.values()
    assert img.data == PNG


def test_missing_local_file_is_rejected(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    item = MediaItem("image", "image/png", path=tmp_path / "gone.png")
    with pytest.raises(Rejected, match="cannot read image 1"):
        pub.publish(Content("x", (item,)), cred, ACCOUNT)
    assert fake.requests == []


# ---------------------------------------------------------------- create faults (section 0.2)


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.parametrize("when", ["before", "after"])
def test_5xx_on_create_is_outcome_unknown(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, status: int, when: str
) -> None:
    body = (
        "<html><body>Bad Gateway</body></html>"
        if status == 502
        else {"message": "Internal Server Error", "status": status}
    )
    fake.inject("POST /rest/posts", status=status, body=body, when=when)
    with pytest.raises(OutcomeUnknown) as err:
        pub.publish(Content(f"status {status}"), cred, ACCOUNT)
    assert err.value.http_status == status
    assert len(fake.posts) == (1 if when == "after" else 0)


def test_read_timeout_on_create_is_outcome_unknown_and_posted_once(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.inject("POST /rest/posts", mode="timeout", when="after", delay=1.5)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown, match="may or may not"):
        pub.publish(Content("slow answer"), cred, ACCOUNT)
    assert time.monotonic() - started < 2
    assert len(fake.posts) == 1
    assert len(fake.calls("POST /rest/posts")) == 1  # never replayed


def test_accept_then_drop_on_create_is_outcome_unknown(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.inject("POST /rest/posts", mode="drop", when="after")
    with pytest.raises(OutcomeUnknown):
        pub.publish(Content("dropped"), cred, ACCOUNT)
    assert len(fake.posts) == 1
    assert len(fake.calls("POST /rest/posts")) == 1


def test_2xx_without_restli_id_is_outcome_unknown(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.inject("POST /rest/posts", status=201, when="after")
    with pytest.raises(OutcomeUnknown, match="probably published"):
        pub.publish(Content("no id"), cred, ACCOUNT)
    assert len(fake.posts) == 1


def test_connection_refused_is_transient(cred: Credential) -> None:
    publisher = LinkedInPublisher(api_base=f"http://127.0.0.1:{closed_port()}", timeout=(2, 1))
    try:
        with pytest.raises(Transient, match="could not connect"):
            publisher.publish(Content("nobody home"), cred, ACCOUNT)
    finally:
        publisher.session.close()


# ---------------------------------------------------------------- upload faults


def test_503_on_image_put_is_transient(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    fake.inject("PUT /dms-uploads/.*", status=503, body="Service Unavailable")
    with pytest.raises(Transient, match="will retry"):
        pub.publish(Content("pic", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)
    assert fake.calls("POST /rest/posts") == []


FORBIDDEN = {
    "status": 403,
    "serviceErrorCode": 100,
    "code": "ACCESS_DENIED",
    "message": "resource is forbidden",
}


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "Unable to obtain activity"), (503, "Service Unavailable")],
)
def test_postiz_retry_text_on_upload_step_is_transient(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    tmp_path: Path,
    status: int,
    message: str,
) -> None:
    fake.inject("POST /rest/images", status=status, body={"status": status, "message": message})
    with pytest.raises(Transient):
        pub.publish(Content("pic", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)
    assert fake.posts == []


@pytest.mark.parametrize("route", ["POST /rest/posts", "POST /rest/images"])
def test_forbidden_is_a_permission_failure_that_needs_a_reconnect(
    pub: LinkedInPublisher, fake: FakeLinkedIn, token: str, tmp_path: Path, route: str
) -> None:
    fake.inject(route, status=403, body=FORBIDDEN)
    # a refresh token changes nothing: a refreshed token keeps the scopes it had
    cred = Credential(access_token=token, refresh_token="AQXrt")
    with pytest.raises(AuthExpired, match=r"w_member_social") as err:
        pub.publish(Content("pic", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)
    assert not err.value.refreshable
    assert err.value.http_status == 403
    assert "resource is forbidden" in str(err.value)
    assert len(fake.calls(route)) == 1  # never retried
    assert fake.posts == []


def test_forbidden_video_status_right_after_upload_is_retried_once(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    fake.video_forbidden_polls = 1
    item, _ = media_item("video", tmp_path)

    pub.publish(Content("new video", (item,)), cred, ACCOUNT)

    # 403, then PROCESSING twice, then AVAILABLE
    assert len(fake.calls("GET /rest/videos/.*")) == 4
    assert sleeps == [pub.video_poll_interval] * 3
    assert len(fake.posts) == 1


def test_forbidden_video_status_twice_is_a_permission_failure(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    cred: Credential,
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    fake.video_forbidden_polls = 2
    item, _ = media_item("video", tmp_path)

    with pytest.raises(AuthExpired, match="w_member_social") as err:
        pub.publish(Content("new video", (item,)), cred, ACCOUNT)

    assert not err.value.refreshable and err.value.http_status == 403
    assert len(fake.calls("GET /rest/videos/.*")) == 2
    assert sleeps == [pub.video_poll_interval]
    assert fake.calls("POST /rest/posts") == [] and fake.posts == []


def test_dropped_image_put_is_transient(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    fake.inject("PUT /dms-uploads/.*", mode="drop", when="after")
    with pytest.raises(Transient):
        pub.publish(Content("pic", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)
    assert fake.posts == []


# ---------------------------------------------------------------- platform refusals


def test_daily_limit_is_rate_limited_until_utc_midnight(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.daily_post_limit = 1
    pub.publish(Content("first"), cred, ACCOUNT)
    with pytest.raises(RateLimited) as err:
        pub.publish(Content("second"), cred, ACCOUNT)
    assert err.value.retry_at == datetime(2026, 3, 11, tzinfo=UTC)
    assert err.value.http_status == 429
    assert len(fake.posts) == 1


def test_429_on_upload_is_rate_limited(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    fake.inject("POST /rest/images", status=429, body={"status": 429, "code": "TOO_MANY_REQUESTS"})
    with pytest.raises(RateLimited) as err:
        pub.publish(Content("pic", (image(image_file(tmp_path, "a.png")),)), cred, ACCOUNT)
    assert err.value.retry_at == datetime(2026, 3, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("after", "form"),
    [
        pytest.param(120, "", id="seconds"),
        pytest.param(NOW + timedelta(hours=2, seconds=7), "imf", id="imf-fixdate"),
        pytest.param(NOW + timedelta(hours=2, seconds=7), "rfc850", id="rfc850-date"),
        pytest.param(NOW + timedelta(hours=2, seconds=7), "asctime", id="asctime-date"),
    ],
)
@pytest.mark.usefixtures("away_from_utc")
def test_retry_after_on_429_sets_the_retry_time(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, after: object, form: str
) -> None:
    # LinkedIn documents no reset header; when a 429 does carry Retry-After, it beats
    # the midnight-UTC guess, in any of the forms HTTP allows
    fake.inject_retry_after("POST /rest/posts", after, form=form or "imf", body=TOO_MANY)
    with pytest.raises(RateLimited) as err:
        pub.publish(Content("later"), cred, ACCOUNT)
    expected = NOW + timedelta(seconds=120) if form == "" else after
    assert err.value.retry_at == expected
    assert fake.posts == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("soon", datetime(2026, 3, 11, tzinfo=UTC), id="not-a-time"),
        pytest.param("1e400", datetime(2026, 3, 11, tzinfo=UTC), id="infinite"),
        pytest.param("9" * 20, datetime(2026, 3, 11, tzinfo=UTC), id="past-year-9999"),
        pytest.param(http_date(NOW - timedelta(hours=1)), NOW, id="date-already-past"),
    ],
)
def test_unusable_retry_after_falls_back_without_crashing(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, value: str, expected: datetime
) -> None:
    # a header that cannot be used is no header: the post waits for midnight UTC, as
    # it would without one, instead of failing as an unexpected error
    fake.inject_retry_after("POST /rest/posts", value, body=TOO_MANY)
    with pytest.raises(RateLimited) as err:
        pub.publish(Content("later"), cred, ACCOUNT)
    assert err.value.retry_at == expected


def test_duplicate_is_rejected(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    pub.publish(Content("Same words"), cred, ACCOUNT)
    with pytest.raises(Rejected, match="duplicate of a recent post") as err:
        pub.publish(Content("Same words"), cred, ACCOUNT)
    assert err.value.http_status == 422
    assert len(fake.posts) == 1


# ---------------------------------------------------------------- API versions (section 1.1)

#: the day these tests run in: last month is 202611, twelve months back is 202512
TODAY = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACTIVE_TODAY = ["202512", *(f"2026{m:02d}" for m in range(1, 12))]


def month(version: str, delta: int) -> str:
    """``version`` moved by ``delta`` months."""
    year, index = divmod(int(version[:4]) * 12 + int(version[4:]) - 1 + delta, 12)
    return f"{year:04d}{index + 1:02d}"


@pytest.fixture
def today_pub(fake: FakeLinkedIn, sleeps: list[float]) -> Iterator[LinkedInPublisher]:
    publisher = LinkedInPublisher(
        api_base=fake.url, timeout=(2, 1), sleep=sleeps.append, now=lambda: TODAY
    )
    yield publisher
    publisher.session.close()


def test_pinned_version_is_real_past_and_accepted_by_default(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    assert "202501" <= LINKEDIN_VERSION < f"{TODAY:%Y%m}"
    pub.publish(Content("pinned"), cred, ACCOUNT)
    assert fake.versions_sent() == [LINKEDIN_VERSION]
    assert pub.learned == {}


def test_sunset_pinned_version_moves_to_the_nearest_newer_one(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    accepted = month(LINKEDIN_VERSION, 2)
    fake.versions = frozenset({accepted, month(LINKEDIN_VERSION, 3)})

    result = today_pub.publish(Content("still posting"), cred, ACCOUNT)

    (post,) = fake.posts  # created once, by the request LinkedIn took
    assert result.remote_id == post["urn"]
    assert fake.versions_sent("POST /rest/posts") == [
        LINKEDIN_VERSION,
        month(LINKEDIN_VERSION, 1),
        accepted,
    ]
    assert today_pub.learned == {"version": accepted}
    assert today_pub.version == accepted
    today_pub.publish(Content("and again"), cred, ACCOUNT)
    assert fake.versions_sent("POST /rest/posts")[3:] == [accepted]


def test_version_is_negotiated_on_the_first_refused_request_and_kept(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    accepted = month(LINKEDIN_VERSION, 1)
    fake.versions = frozenset({accepted})
    pic = image(image_file(tmp_path, "a.png"))

    today_pub.publish(Content("with a picture", (pic,)), cred, ACCOUNT)

    # the upload's first step met the 426; only it was sent again, and every later
    # request of the publish went straight out with the version that worked
    assert fake.versions_sent("POST /rest/images") == [LINKEDIN_VERSION, accepted]
    assert fake.versions_sent("POST /rest/posts") == [accepted]
    assert len(fake.images) == 1 and len(fake.posts) == 1
    assert today_pub.learned == {"version": accepted}


def test_a_later_publisher_starts_with_the_learned_version(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    accepted = month(LINKEDIN_VERSION, 1)
    fake.versions = frozenset({accepted})
    today_pub.publish(Content("first run"), cred, ACCOUNT)
    fake.requests.clear()

    later = LinkedInPublisher(api_base=fake.url, timeout=(2, 1), now=lambda: TODAY)
    later.state = dict(today_pub.learned)  # what the engine keeps between runs
    try:
        later.publish(Content("next run"), cred, ACCOUNT)
    finally:
        later.session.close()

    assert fake.versions_sent() == [accepted]  # one request: no 426 first
    assert later.learned == {}
    assert len(fake.posts) == 2


@pytest.mark.parametrize(
    ("argument", "environment", "expected"),
    [
        pytest.param(None, None, "202511", id="learned-over-pinned"),
        pytest.param(None, "202512", "202512", id="environment-over-learned"),
        pytest.param("202601", "202512", "202601", id="argument-over-all"),
    ],
)
def test_version_precedence(
    fake: FakeLinkedIn,
    cred: Credential,
    monkeypatch: pytest.MonkeyPatch,
    argument: str | None,
    environment: str | None,
    expected: str,
) -> None:
    if environment:
        monkeypatch.setenv("MILTON_LINKEDIN_VERSION", environment)
    publisher = LinkedInPublisher(api_base=fake.url, timeout=(2, 1), version=argument)
    publisher.state = {"version": "202511"}
    try:
        publisher.publish(Content("which version"), cred, ACCOUNT)
    finally:
        publisher.session.close()
    assert fake.versions_sent() == [expected]


def test_no_accepted_version_is_a_clear_permanent_failure(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    fake.versions = frozenset({"202401"})
    pic = image(image_file(tmp_path, "a.png"))

    with pytest.raises(Rejected, match=f"no longer accepts API version {LINKEDIN_VERSION}") as err:
        today_pub.publish(Content("nobody listens", (pic,)), cred, ACCOUNT)

    assert err.value.http_status == 426
    assert "202512 to 202611" in str(err.value) and "MILTON_LINKEDIN_VERSION" in str(err.value)
    sent = fake.versions_sent()
    assert len(sent) == len(set(sent))  # one request per version
    assert set(sent) == {LINKEDIN_VERSION, *ACTIVE_TODAY}
    assert fake.calls("PUT .*") == [] and fake.calls("POST /rest/posts") == []
    assert fake.images == {} and fake.posts == []
    assert today_pub.learned == {}


def test_versions_from_this_month_on_are_never_tried(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.versions = frozenset({"202612", "202701"})  # what a LinkedIn from the future runs
    with pytest.raises(Rejected, match="no longer accepts"):
        today_pub.publish(Content("too early"), cred, ACCOUNT)
    sent = [v for v in fake.versions_sent() if v is not None]
    assert max(sent) == "202611"
    assert fake.posts == []


def test_version_candidates_order() -> None:
    assert version_candidates("202605", TODAY) == [
        *(f"2026{m:02d}" for m in range(6, 12)),
        *(f"2026{m:02d}" for m in range(4, 0, -1)),
        "202512",
    ]
    # an unreadable or future version has nothing newer: last month down
    assert version_candidates("latest", TODAY) == ACTIVE_TODAY[::-1]
    assert version_candidates("202705", TODAY) == ACTIVE_TODAY[::-1]
    # a version already retired only has newer ones within the window
    assert version_candidates("202401", TODAY) == ACTIVE_TODAY
    january = datetime(2027, 1, 31, 23, 59, tzinfo=UTC)
    assert version_candidates("202612", january)[0] == "202611"
    assert "202701" not in version_candidates("202612", january)


def test_identify_needs_no_version(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, token: str
) -> None:
    # /v2/userinfo is unversioned (section 1.3): connecting works even on a day no
    # version this client knows is active, and learns nothing
    fake.versions = frozenset()
    assert today_pub.identify(Credential(access_token=token)).remote_id == SUB
    assert fake.versions_sent() == [None]
    assert today_pub.learned == {}


def test_bare_426_is_rejected_without_negotiating(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.inject("POST /rest/posts", status=426, body="<html>Upgrade Required</html>")
    with pytest.raises(Rejected, match="426 Upgrade Required") as err:
        today_pub.publish(Content("not a sunset"), cred, ACCOUNT)
    assert err.value.http_status == 426
    assert len(fake.calls("POST /rest/posts")) == 1
    assert today_pub.learned == {}


def test_missing_posting_permission_marks_the_account_for_reconnect(
    pub: LinkedInPublisher, fake: FakeLinkedIn, token: str
) -> None:
    # the fake enforces the scope itself: a token without w_member_social cannot write
    read_only = fake.issue_token(SUB, frozenset({"openid", "profile"}))
    with pytest.raises(AuthExpired, match="reconnect the account and grant") as err:
        pub.publish(Content("x"), Credential(access_token=read_only), ACCOUNT)
    assert "w_member_social" in str(err.value)
    assert not err.value.refreshable and err.value.http_status == 403
    assert len(fake.calls("POST /rest/posts")) == 1
    assert fake.posts == []


def test_identify_without_sign_in_permissions_names_them(
    pub: LinkedInPublisher, fake: FakeLinkedIn
) -> None:
    fake.add_member(SUB, "John Doe")
    posting_only = fake.issue_token(SUB, frozenset({"w_member_social"}))
    with pytest.raises(Rejected, match="openid and profile permissions") as err:
        pub.identify(Credential(access_token=posting_only))
    assert err.value.http_status == 403
    assert len(fake.calls("GET /v2/userinfo")) == 1


def test_400_carries_linkedins_message(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    fake.inject(
        "POST /rest/posts",
        status=400,
        body={"status": 400, "message": "Unpermitted fields present in REQUEST_BODY: [/foo]"},
    )
    with pytest.raises(Rejected, match="Unpermitted fields"):
        pub.publish(Content("x"), cred, ACCOUNT)


def test_text_over_3000_is_a_problem_and_never_sent(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential
) -> None:
    content = Content("a" * 3001)
    (problem,) = pub.validate(content)
    assert problem.platform == "linkedin" and problem.field == "text"
    assert "3001" in problem.message and "3000" in problem.message
    assert pub.validate(Content("a" * 3000)) == []
    with pytest.raises(Rejected, match="limit of 3000"):
        pub.publish(content, cred, ACCOUNT)
    assert fake.requests == []


def test_image_over_the_pixel_limit_is_a_problem_and_never_sent(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    path = image_file(tmp_path, "huge.png")  # a few bytes: the pixels are the limit
    huge = replace(image(path), width=6100, height=6000)
    (problem,) = pub.validate(Content("big", (huge,)))
    assert problem.platform == "linkedin" and problem.field == "media"
    assert "36,600,000 pixels" in problem.message and "36,152,320" in problem.message
    assert pub.validate(Content("big", (replace(huge, width=6000),))) == []
    assert pub.validate(Content("big", (replace(huge, width=None, height=None),))) == []
    with pytest.raises(Rejected, match="scale the image down"):
        pub.publish(Content("big", (huge,)), cred, ACCOUNT)
    assert fake.requests == []


# ---------------------------------------------------------------- auth


def test_expired_token_is_auth_expired_refreshable_only_with_refresh_token(
    pub: LinkedInPublisher, fake: FakeLinkedIn, token: str
) -> None:
    fake.expire_token(token)
    with pytest.raises(AuthExpired) as err:
        pub.publish(Content("x"), Credential(access_token=token), ACCOUNT)
    assert not err.value.refreshable and "reconnect" in str(err.value)
    with pytest.raises(AuthExpired) as err:
        pub.publish(Content("x"), Credential(access_token=token, refresh_token="AQXrt"), ACCOUNT)
    assert err.value.refreshable


def test_revoked_token_is_not_refreshable(
    pub: LinkedInPublisher, fake: FakeLinkedIn, token: str
) -> None:
    fake.revoke_token(token)
    with pytest.raises(AuthExpired, match="revoked") as err:
        pub.publish(Content("x"), Credential(access_token=token, refresh_token="AQXrt"), ACCOUNT)
    assert not err.value.refreshable


def test_garbage_token_is_auth_expired(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    with pytest.raises(AuthExpired):
        pub.publish(Content("x"), Credential(access_token="not-a-token"), ACCOUNT)


def test_refresh_success_gives_a_working_credential(
    pub: LinkedInPublisher, fake: FakeLinkedIn, token: str
) -> None:
    rt = fake.add_refresh_token(SUB)
    old = Credential(
        access_token=token,
        refresh_token=rt,
        client_id=FakeLinkedIn.CLIENT_ID,
        client_secret=FakeLinkedIn.CLIENT_SECRET,
    )
    fake.expire_token(token)
    with pytest.raises(AuthExpired) as err:
        pub.publish(Content("after refresh"), old, ACCOUNT)
    assert err.value.refreshable

    new = pub.refresh(old)

    (call,) = fake.calls("POST /oauth/v2/accessToken")
    assert call.header("content-type") == "application/x-www-form-urlencoded"
    assert call.form() == {
        "grant_type": ["refresh_token"],
        "refresh_token": [rt],
        "client_id": [FakeLinkedIn.CLIENT_ID],
        "client_secret": [FakeLinkedIn.CLIENT_SECRET],
    }
    assert new.access_token != token
    assert new.refresh_token == rt
    assert new.expires_at == NOW + timedelta(seconds=5_184_000)
    assert new.client_id == FakeLinkedIn.CLIENT_ID
    assert "refresh_token_expires_at" in new.extra
    pub.publish(Content("after refresh"), new, ACCOUNT)
    assert len(fake.posts) == 1


def test_refresh_failure_means_reconnect(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    bad = Credential(
        access_token="AQVold",
        refresh_token="AQXunknown",
        client_id=FakeLinkedIn.CLIENT_ID,
        client_secret=FakeLinkedIn.CLIENT_SECRET,
    )
    with pytest.raises(AuthExpired, match="reconnect") as err:
        pub.refresh(bad)
    assert not err.value.refreshable
    assert err.value.http_status == 400


def test_refresh_without_refresh_token_explains_60_days(pub: LinkedInPublisher) -> None:
    with pytest.raises(AuthExpired, match="60 days; reconnect") as err:
        pub.refresh(Credential(access_token="AQV"))
    assert not err.value.refreshable


@pytest.mark.parametrize("locale", ["en-US", {"country": "US", "language": "en"}])
def test_identify(pub: LinkedInPublisher, fake: FakeLinkedIn, locale: object) -> None:
    token = fake.add_member("Ab3-xY_9", "Ada Lovelace", locale=locale)  # type: ignore[arg-type]
    identity = pub.identify(Credential(access_token=token))
    assert identity.remote_id == identity.username == "Ab3-xY_9"
    assert identity.display_name == "Ada Lovelace"
    (call,) = fake.calls("GET /v2/userinfo")
    assert call.header("authorization") == f"Bearer {token}"


def test_identify_with_bad_token(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    with pytest.raises(AuthExpired):
        pub.identify(Credential(access_token="nope"))


def test_oauth_connect_flow_with_pkce(pub: LinkedInPublisher, fake: FakeLinkedIn) -> None:
    fake.add_member(SUB, "John Doe")
    fake.issue_refresh_tokens = True
    verifier = "v" * 64
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    redirect = "http://127.0.0.1:51234/callback"
    url = authorize_url(FakeLinkedIn.CLIENT_ID, redirect, "st4te", challenge, base=fake.url)
    assert "scope=openid%20profile%20w_member_social" in url
    assert authorize_url("id", redirect, "s").startswith(
        "https://www.linkedin.com/oauth/v2/authorization?response_type=code&"
    )

    with requests.Session() as browser:
        resp = browser.get(url, allow_redirects=False)
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    query = parse_qs(location.query)
    assert query["state"] == ["st4te"]

    cred = pub.exchange_code(
        query["code"][0], redirect, FakeLinkedIn.CLIENT_ID, FakeLinkedIn.CLIENT_SECRET, verifier
    )
    assert cred.refresh_token and cred.expires_at == NOW + timedelta(seconds=5_184_000)
    assert cred.client_secret == FakeLinkedIn.CLIENT_SECRET
    assert "w_member_social" in cred.extra["scope"]
    assert pub.identify(cred).remote_id == SUB

    with pytest.raises(AuthExpired, match="connect the account again") as err:
        pub.exchange_code(
            query["code"][0], redirect, FakeLinkedIn.CLIENT_ID, FakeLinkedIn.CLIENT_SECRET, verifier
        )  # codes are single-use
    assert not err.value.refreshable


# ---------------------------------------------------------------- secrets stay secret


def test_no_token_in_any_error_or_log(
    fake: FakeLinkedIn,
    token: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="milton.publish.linkedin")
    rt = fake.add_refresh_token(SUB)
    cred = Credential(
        access_token=token,
        refresh_token=rt,
        client_id=FakeLinkedIn.CLIENT_ID,
        client_secret=FakeLinkedIn.CLIENT_SECRET,
    )
    pic = (image(image_file(tmp_path, "a.png")),)
    scenarios = [
        ("POST /rest/posts", {"status": 400, "body": {"status": 400, "message": f"bad {token}"}}),
        ("POST /rest/posts", {"status": 500}),
        ("POST /rest/posts", {"mode": "drop", "when": "after"}),
        ("POST /rest/posts", {"status": 401, "body": {"status": 401, "message": f"no {token}"}}),
        ("POST /rest/posts", {"status": 403, "body": {"status": 403, "message": f"x {token}"}}),
        ("POST /rest/posts", {"status": 429}),
        ("POST /rest/posts", {"status": 426}),
        ("PUT /dms-uploads/.*", {"status": 503, "body": f"Service Unavailable {token}"}),
        ("POST /rest/images", {"status": 422, "body": {"status": 422, "message": f"{token}"}}),
    ]
    errors: list[PublishError] = []
    publisher = LinkedInPublisher(api_base=fake.url, timeout=(2, 1), sleep=lambda s: None)
    try:
        for n, (route, fault) in enumerate(scenarios):
            fake.clear_faults()
            fake.inject(route, **fault)  # type: ignore[arg-type]
            with pytest.raises(PublishError) as err:
                publisher.publish(Content(f"attempt {n}", pic), cred, ACCOUNT)
            errors.append(err.value)
        fake.clear_faults()
        fake.inject(
            "POST /oauth/v2/accessToken",
            status=400,
            body={"error": "invalid_request", "error_description": f"bad {rt} {token}"},
        )
        with pytest.raises(AuthExpired) as err:
            publisher.refresh(cred)
        errors.append(err.value)
    finally:
        publisher.session.close()
    assert len(errors) == len(scenarios) + 1
    for error in errors:
        for secret in (token, rt, FakeLinkedIn.CLIENT_SECRET):
            assert secret not in str(error)
            assert secret not in repr(error.args)
    for secret in (token, rt, FakeLinkedIn.CLIENT_SECRET):
        assert secret not in caplog.text
    assert "POST" in caplog.text  # request summaries are logged


# ---------------------------------------------------------------- the fake itself


def test_fake_enforces_headers_version_and_fields(fake: FakeLinkedIn, token: str) -> None:
    url = f"{fake.url}/rest/posts"
    with requests.Session() as s:
        no_version = {k: v for k, v in rest_headers(token).items() if k != "LinkedIn-Version"}
        assert s.post(url, json=post_body("a"), headers=no_version).status_code == 400
        no_restli = {
            k: v for k, v in rest_headers(token).items() if k != "X-Restli-Protocol-Version"
        }
        assert s.post(url, json=post_body("a"), headers=no_restli).status_code == 400
        old = s.post(url, json=post_body("a"), headers=rest_headers(token, "202401"))
        assert old.status_code == 426
        assert old.json() == {
            "status": 426,
            "code": "NONEXISTENT_VERSION",
            "message": "Requested version 20240101 is not active",
        }
        missing = post_body("a")
        del missing["distribution"]
        assert s.post(url, json=missing, headers=rest_headers(token)).status_code == 400
        extra = post_body("a", foo=1)
        assert (
            "Unpermitted" in s.post(url, json=extra, headers=rest_headers(token)).json()["message"]
        )
        other = post_body("a", author="urn:li:person:someoneElse")
        assert s.post(url, json=other, headers=rest_headers(token)).status_code == 403
        ghost = post_body("a", content={"media": {"id": "urn:li:image:C4E10AQnope"}})
        assert s.post(url, json=ghost, headers=rest_headers(token)).status_code == 400
        too_long = post_body("\\(" * 3001)
        assert s.post(url, json=too_long, headers=rest_headers(token)).status_code == 400
        ok = s.post(url, json=post_body("\\(" * 3000), headers=rest_headers(token))
        assert ok.status_code == 201 and ok.headers["x-restli-id"].startswith("urn:li:share:")
    assert len(fake.posts) == 1


def test_fake_requires_image_owner_to_be_author_and_uploaded(
    fake: FakeLinkedIn, token: str
) -> None:
    other_token = fake.add_member("other1", "Other Person")
    with requests.Session() as s:
        init = s.post(
            f"{fake.url}/rest/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": "urn:li:person:other1"}},
            headers=rest_headers(other_token),
        ).json()["value"]
        theirs = post_body("mine", content={"media": {"id": init["image"]}})
        assert (
            s.post(f"{fake.url}/rest/posts", json=theirs, headers=rest_headers(token)).status_code
            == 400
        )
        mine = s.post(
            f"{fake.url}/rest/images?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": AUTHOR}},
            headers=rest_headers(token),
        ).json()["value"]
        not_uploaded = post_body("pending", content={"media": {"id": mine["image"]}})
        resp = s.post(f"{fake.url}/rest/posts", json=not_uploaded, headers=rest_headers(token))
        assert resp.status_code == 422
    assert fake.posts == []


# ---------------------------------------------------------------- pages

PAGE = "urn:li:organization:123"
PAGE_ACCOUNT = AccountRef(remote_id=PAGE)


@pytest.fixture
def page_token(fake: FakeLinkedIn) -> str:
    """A member who administers two pages, signed in with the page permissions."""
    token = fake.add_member(SUB, "John Doe", scopes=FAKE_PAGE_SCOPES)
    fake.add_organization(123, "Acme Corp", "acme", admins=[SUB])
    fake.add_organization(456, "Beta Labs", admins=[SUB])
    fake.add_member("other1", "Other Person")
    fake.add_organization(789, "Someone Else's", "else", admins=["other1"])
    return token


def test_pages_lists_exactly_the_administered_pages_with_names(
    pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str
) -> None:
    pages = pub.pages(Credential(access_token=page_token))

    assert pages == [
        Identity(remote_id=PAGE, username="acme", display_name="Acme Corp"),
        Identity(remote_id="urn:li:organization:456", username="", display_name="Beta Labs"),
    ]
    (acl,) = fake.calls("GET /rest/organizationAcls")
    assert acl.query["q"] == ["roleAssignee"]
    assert acl.query["role"] == ["ADMINISTRATOR"] and acl.query["state"] == ["APPROVED"]
    assert [r.path for r in fake.calls("GET /rest/organizations/.*")] == [
        "/rest/organizations/123",
        "/rest/organizations/456",
    ]
    assert set(fake.versions_sent()) == {LINKEDIN_VERSION}


def test_pages_follow_linkedins_paging(
    pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkedin, "ACL_PAGE_SIZE", 1)

    pages = pub.pages(Credential(access_token=page_token))

    assert [p.remote_id for p in pages] == [PAGE, "urn:li:organization:456"]
    starts = [r.query["start"] for r in fake.calls("GET /rest/organizationAcls")]
    assert starts == [["0"], ["1"], ["2"]]  # the last, empty page ends the listing


def test_pages_negotiate_a_sunset_version(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str
) -> None:
    accepted = month(LINKEDIN_VERSION, 1)
    fake.versions = frozenset({accepted})

    assert len(today_pub.pages(Credential(access_token=page_token))) == 2

    assert fake.versions_sent("GET /rest/organizationAcls") == [LINKEDIN_VERSION, accepted]
    assert set(fake.versions_sent("GET /rest/organizations/.*")) == {accepted}
    assert today_pub.learned == {"version": accepted}


def test_pages_without_the_admin_permission_names_it(
    pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str
) -> None:
    no_admin = fake.issue_token(SUB, DEFAULT_SCOPES | {"w_organization_social"})
    with pytest.raises(Rejected, match="rw_organization_admin") as err:
        pub.pages(Credential(access_token=no_admin))
    assert err.value.http_status == 403
    assert fake.calls("GET /rest/organizations/.*") == []


def test_pages_for_a_token_granted_no_page_posting_names_the_permission(
    pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str
) -> None:
    # LinkedIn said at sign-in what it granted: without w_organization_social every
    # post as a page would fail, so the listing is refused before asking
    cred = Credential(
        access_token=page_token, extra={"scope": "openid,profile,rw_organization_admin"}
    )
    with pytest.raises(Rejected, match="w_organization_social"):
        pub.pages(cred)
    assert fake.requests == []


@pytest.mark.parametrize("kind", ["text", "image", "video"])
def test_page_account_publishes_once_as_the_page(
    pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str, tmp_path: Path, kind: str
) -> None:
    media = () if kind == "text" else (media_item(kind, tmp_path)[0],)

    result = pub.publish(
        Content(f"{kind} from the page", media), Credential(page_token), PAGE_ACCOUNT
    )

    (post,) = fake.posts
    assert result.remote_id == post["urn"]
    assert post["author"] == PAGE and post["member"] == SUB
    if kind != "text":
        calls = fake.calls(f"POST /rest/{kind}s")
        (init,) = [c for c in calls if c.query == {"action": ["initializeUpload"]}]
        assert init.json()["initializeUploadRequest"]["owner"] == PAGE
        (upload,) = (fake.images if kind == "image" else fake.videos).values()
        assert upload.owner == PAGE
        assert post["content"] == {"media": {"id": upload.urn}}


@pytest.mark.parametrize("kind", ["text", "image"])
@pytest.mark.parametrize("why", ["not an administrator", "no w_organization_social"])
def test_page_post_is_refused_naming_the_permission_and_creates_nothing(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    page_token: str,
    tmp_path: Path,
    why: str,
    kind: str,
) -> None:
    if why == "not an administrator":
        token = page_token
        account = AccountRef(remote_id="urn:li:organization:789")
    else:
        token = fake.issue_token(SUB, DEFAULT_SCOPES | {"rw_organization_admin"})
        account = PAGE_ACCOUNT
    media = () if kind == "text" else (media_item(kind, tmp_path)[0],)
    cred = Credential(access_token=token, refresh_token="AQXrt")

    with pytest.raises(AuthExpired, match="w_organization_social") as err:
        pub.publish(Content("as the page", media), cred, account)

    assert "administrator" in str(err.value) and account.remote_id in str(err.value)
    assert not err.value.refreshable and err.value.http_status == 403
    assert fake.posts == [] and fake.images == {}
    # refused at its first step, never retried
    assert len(fake.calls("POST /rest/.*")) == 1


@pytest.mark.parametrize("remote_id", [SUB, AUTHOR])
def test_member_account_still_posts_as_the_member(
    pub: LinkedInPublisher, fake: FakeLinkedIn, page_token: str, tmp_path: Path, remote_id: str
) -> None:
    # a token with page permissions changes nothing for the member's own account
    pic = image(image_file(tmp_path, "a.png"))
    pub.publish(Content("as myself", (pic,)), Credential(page_token), AccountRef(remote_id))

    (post,) = fake.posts
    assert post["author"] == AUTHOR
    (img,) = fake.images.values()
    assert img.owner == AUTHOR


@pytest.mark.parametrize(
    ("remote_id", "author"),
    [
        (SUB, AUTHOR),
        (AUTHOR, AUTHOR),
        (PAGE, PAGE),
        ("123", "urn:li:person:123"),  # a bare id is a member's, as it always was
    ],
)
def test_author_urn(remote_id: str, author: str) -> None:
    assert author_urn(remote_id) == author


def test_page_sign_in_asks_for_the_page_permissions() -> None:
    url = authorize_url("cid", "http://127.0.0.1:5000/cb", "st", scope=PAGE_SCOPES)
    scopes = parse_qs(urlsplit(url).query)["scope"][0].split(" ")
    assert {"w_member_social", "w_organization_social", "rw_organization_admin"} <= set(scopes)
    assert "scope=openid%20profile%20w_member_social%20w_organization_social" in url


# ---------------------------------------------------------------- documents (PDF carousels)

PDF = b"%PDF-1.7\n" + bytes(i % 251 for i in range(3000)) + b"\n%%EOF\n"


def document(path: Path, title: str = "") -> MediaItem:
    return MediaItem(
        kind="document",
        mime="application/pdf",
        path=path,
        alt_text=title,
        size=path.stat().st_size,
    )


def test_document_post_goes_out_once_with_its_title_and_never_sends_the_token_abroad(
    pub: LinkedInPublisher,
    fake: FakeLinkedIn,
    upload_server: UploadHost,
    cred: Credential,
    token: str,
    tmp_path: Path,
) -> None:
    upload_server.reset()
    fake.upload_base = upload_server.url
    progress: list[tuple[int, int]] = []
    deck = document(image_file(tmp_path, "deck.pdf", PDF), "Q3 results")

    result = pub.publish(
        Content("Our quarter in ten slides", (deck,)),
        cred,
        ACCOUNT,
        lambda done, total: progress.append((done, total)),
    )

    (init,) = fake.calls("POST /rest/documents")
    assert init.query == {"action": ["initializeUpload"]}
    assert init.json() == {"initializeUploadRequest": {"owner": AUTHOR}}
    assert init.header("authorization") == f"Bearer {token}"
    (put,) = upload_server.calls("PUT /dms-uploads/document/.*")  # one PUT of the file
    assert put.body == PDF
    assert "authorization" not in put.headers and not carries_token(put, token)
    assert len(upload_server.requests) == 1 and fake.calls("PUT .*") == []
    (doc,) = fake.documents.values()
    assert doc.urn.startswith("urn:li:document:") and doc.owner == AUTHOR
    assert doc.data == PDF and doc.puts == 1
    (post,) = fake.posts
    assert post["content"] == {"media": {"id": doc.urn, "title": "Q3 results"}}
    assert result.remote_id == post["urn"]
    assert fake.images == {} and fake.videos == {}
    assert progress == [(len(PDF), len(PDF))]


@pytest.mark.parametrize("title", ["", "   "])
def test_untitled_document_is_titled_by_its_file_name(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path, title: str
) -> None:
    deck = document(image_file(tmp_path, "Quarterly deck.v2.pdf", PDF), title)

    pub.publish(Content("slides", (deck,)), cred, ACCOUNT)

    (post,) = fake.posts
    assert post["content"]["media"]["title"] == "Quarterly deck.v2"


def test_document_title_of_a_link_and_of_nothing_at_all() -> None:
    pdf = "application/pdf"
    linked = MediaItem("document", pdf, url="https://cdn.example.com/files/Annual%20report.pdf")
    assert linkedin.document_title(linked) == "Annual report"
    assert linkedin.document_title(MediaItem("document", pdf, url="https://x.example/")) == (
        "Document"
    )
    assert linkedin.document_title(replace(linked, alt_text=" The report ")) == "The report"


def test_stored_document_is_titled_by_the_name_it_was_added_with(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    # the stored copy is named by its hash; the user knows the file by its own name
    stored = image_file(tmp_path, hashlib.sha256(PDF).hexdigest() + ".pdf", PDF)
    deck = replace(document(stored), name="Board pack.pdf")

    pub.publish(Content("slides", (deck,)), cred, ACCOUNT)

    assert fake.posts[0]["content"]["media"]["title"] == "Board pack"


@pytest.mark.parametrize("other", ["image", "document"])
def test_document_with_other_media_is_refused_before_any_request(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path, other: str
) -> None:
    deck = document(image_file(tmp_path, "deck.pdf", PDF), "Deck")
    extra = (
        image(image_file(tmp_path, "photo.png"))
        if other == "image"
        else document(image_file(tmp_path, "more.pdf", PDF), "More")
    )

    with pytest.raises(Rejected, match="LinkedIn takes one document or video alone"):
        pub.publish(Content("both", (deck, extra)), cred, ACCOUNT)

    assert fake.requests == [] and fake.posts == []


def test_linkedin_takes_a_pdf_up_to_100_mb() -> None:
    assert RULES.media["document"] == MediaRule(frozenset({"application/pdf"}), 100 * 1024**2)
    assert {"video", "document"} <= RULES.alone


def test_oversized_document_is_refused_before_any_request(
    pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    deck = replace(document(image_file(tmp_path, "deck.pdf", PDF)), size=101 * 1024**2)

    with pytest.raises(Rejected, match=r"over the 100\.0 MB limit"):
        pub.publish(Content("huge", (deck,)), cred, ACCOUNT)

    assert fake.requests == []


def test_document_upload_negotiates_a_sunset_version(
    today_pub: LinkedInPublisher, fake: FakeLinkedIn, cred: Credential, tmp_path: Path
) -> None:
    accepted = month(LINKEDIN_VERSION, 1)
    fake.versions = frozenset({accepted})
    deck = document(image_file(tmp_path, "deck.pdf", PDF), "Deck")

    today_pub.publish(Content("slides", (deck,)), cred, ACCOUNT)

    assert fake.versions_sent("POST /rest/documents") == [LINKEDIN_VERSION, accepted]
    assert fake.versions_sent("POST /rest/posts") == [accepted]
    assert len(fake.documents) == 1 and len(fake.posts) == 1


def test_fake_requires_a_titled_uploaded_document_of_the_author(
    fake: FakeLinkedIn, token: str
) -> None:
    other_token = fake.add_member("other1", "Other Person")

    def init(s: requests.Session, owner: str, tok: str) -> dict[str, str]:
        resp = s.post(
            f"{fake.url}/rest/documents?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": owner}},
            headers=rest_headers(tok),
        )
        assert resp.status_code == 200
        value: dict[str, str] = resp.json()["value"]
        return value

    def post(s: requests.Session, media: dict[str, str]) -> int:
        body = post_body("a deck", content={"media": media})
        return s.post(f"{fake.url}/rest/posts", json=body, headers=rest_headers(token)).status_code

    with requests.Session() as s:
        theirs = init(s, "urn:li:person:other1", other_token)
        assert s.put(theirs["uploadUrl"], data=PDF).status_code == 201
        assert post(s, {"id": theirs["document"], "title": "Theirs"}) == 400
        mine = init(s, AUTHOR, token)
        assert post(s, {"id": mine["document"], "title": "Not uploaded yet"}) == 422
        assert s.put(mine["uploadUrl"], data=PDF).status_code == 201
        assert post(s, {"id": mine["document"]}) == 400  # LinkedIn requires the title
        assert post(s, {"id": mine["document"], "title": " "}) == 400
        assert fake.posts == []
        assert post(s, {"id": mine["document"], "title": "Mine"}) == 201
    assert len(fake.posts) == 1
