"""The Bluesky publisher against the fake PDS: sessions, facets, blobs and the
idempotent create (a fixed record key, settled by getRecord)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers import bluesky, registry
from milton_desktop.publishers.base import AuthExpired, OutcomeUnknown, RateLimited, Rejected
from milton_desktop.publishers.bluesky import BlueskyPublisher, facets, graphemes, is_tid, new_tid
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.instagram import MediaHost, make_jpeg
from tests.fakes.pictures import animated_gif, animated_webp, noisy_jpeg, noisy_png, read

HANDLE = "alice.test"
PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        server.add_account(HANDLE, PASSWORD, did="did:plc:u5cwb2mwiv2bfq53cjufe6yn")
        server.add_account("atproto.com", "x", did="did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        yield server


def _publisher(fake: FakeBluesky) -> BlueskyPublisher:
    return BlueskyPublisher(api_base=fake.url, sleep=lambda s: None, timeout=(2.0, 2.0))


def _signed_in(fake: FakeBluesky) -> tuple[BlueskyPublisher, Credential, AccountRef]:
    pub = _publisher(fake)
    cred = pub.sign_in(PASSWORD, HANDLE)
    ident = pub.identify(cred)
    return pub, cred, AccountRef(ident.remote_id, ident.username)


def _image(tmp_path, name="photo.jpg", width=1200, height=800, padding=0, **kw) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(make_jpeg(width, height, padding=padding))
    return MediaItem("image", "image/jpeg", path=path, size=path.stat().st_size, **kw)


# ------------------------------------------------------------------ counting


def test_graphemes_count_what_people_see():
    assert graphemes("abc") == 3
    assert graphemes("👨‍❤️‍👨") == 1  # a ZWJ sequence
    assert graphemes("👍🏽") == 1  # with a skin-tone modifier
    assert graphemes("🇫🇷🇩🇪") == 2  # two flags
    assert graphemes("e\u0301") == 1  # combining accent
    assert graphemes("日本語テキスト") == 7
    assert graphemes("한국어") == 3 and graphemes("\u1100\u1161\u11a8") == 1  # jamo
    assert graphemes("a\r\nb") == 3


def test_rules_count_graphemes_and_bytes():
    rules = bluesky.RULES
    assert rules.length("👨‍❤️‍👨" * 300) == (300, 300)
    ok = Content("👍🏽" * 300)
    assert registry.validate("bluesky", ok) == []  # 300 graphemes, 2400 bytes
    assert registry.validate("bluesky", Content("a" * 301))[0].message.startswith(
        "the text is 301 characters, over the limit of 300"
    )
    # 250 ZWJ families are 250 graphemes but 5000 bytes: the byte cap is the one that bites
    problems = registry.validate("bluesky", Content("👨‍❤️‍👨" * 250))
    assert [p.message for p in problems] == [
        "the text is 5000 bytes in UTF-8, over Bluesky's limit of 3000: shorten it"
    ]


def test_images_over_the_blob_limit_are_accepted_to_be_reduced_gifs_are_not(tmp_path):
    def item(mime: str, size: int, **kw) -> MediaItem:
        return MediaItem("image", mime, path=tmp_path / "x", size=size, **kw)

    for mime in ("image/jpeg", "image/png", "image/webp"):
        assert registry.validate("bluesky", Content("x", (item(mime, 3_400_000),))) == []
    (gif,) = registry.validate("bluesky", Content("x", (item("image/gif", 1_000_001),)))
    assert "over the 977 kB limit" in gif.message
    (huge,) = registry.validate("bluesky", Content("x", (item("image/jpeg", 60_000_000),)))
    assert "too large to be scaled down" in huge.message
    pixels = item("image/jpeg", 3_000_000, width=20_000, height=10_000)
    (many,) = registry.validate("bluesky", Content("x", (pixels,)))
    assert "20000x10000 is too many pixels" in many.message and "120 megapixels" in many.message


def test_more_than_four_images_or_a_video_are_refused(tmp_path):
    small = MediaItem("image", "image/jpeg", path=tmp_path / "x.jpg", size=10)
    problems = registry.validate("bluesky", Content("x", (small,) * 5))
    assert problems[0].message == "5 media: Bluesky takes at most 4"
    video = MediaItem("video", "video/mp4", path=tmp_path / "v.mp4", size=10)
    assert "does not take video" in registry.validate("bluesky", Content("x", (video,)))[0].message


# ------------------------------------------------------------------ facets


def _covered(text: str, facet: dict) -> str:
    i = facet["index"]
    return text.encode()[i["byteStart"] : i["byteEnd"]].decode()


def test_facets_use_utf8_byte_offsets_with_emoji_and_cjk():
    text = "✨ 日本語 @atproto.com 👨‍❤️‍👨 https://en.wikipedia.org/wiki/CBOR. #ブルスカ #release!"
    found = facets(text, lambda h: "did:plc:ewvi" if h == "atproto.com" else None)
    assert [_covered(text, f) for f in found] == [
        "@atproto.com",
        "https://en.wikipedia.org/wiki/CBOR",
        "#ブルスカ",
        "#release",
    ]
    assert found[0]["index"] == {"byteStart": 14, "byteEnd": 26}  # ✨ is 3 bytes, 日本語 9
    assert found[1]["features"][0]["uri"] == "https://en.wikipedia.org/wiki/CBOR"
    assert found[2]["features"][0] == {"$type": "app.bsky.richtext.facet#tag", "tag": "ブルスカ"}


def test_facets_link_bare_domains_conservatively_and_leave_unknown_handles():
    text = "read example.com/blog (or e.g. notes.txt), mail me@example.org, ping @nobody.test #42"
    found = facets(text, lambda h: None)
    assert [_covered(text, f) for f in found] == ["example.com/blog"]
    assert found[0]["features"][0]["uri"] == "https://example.com/blog"


def test_the_contract_example_offsets():
    text = "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 https://en.wikipedia.org/wiki/CBOR."
    found = facets(text, lambda h: "did:plc:ewvi7nxzyoun6zhxrhs64oiz")
    assert [f["index"] for f in found] == [
        {"byteStart": 23, "byteEnd": 35},
        {"byteStart": 74, "byteEnd": 108},
    ]


def test_tids_are_13_sortable_characters():
    a = new_tid(datetime(2026, 12, 4, 9, 0, tzinfo=UTC), clock_id=0)
    b = new_tid(datetime(2026, 12, 4, 9, 0, 1, tzinfo=UTC), clock_id=0)
    assert is_tid(a) and is_tid(b) and a < b and len(a) == 13


# ------------------------------------------------------------------ sessions


def test_sign_in_keeps_the_session_and_the_app_password(fake):
    _pub, cred, ref = _signed_in(fake)
    assert ref == AccountRef("did:plc:u5cwb2mwiv2bfq53cjufe6yn", HANDLE)
    assert cred.refresh_token and cred.expires_at is not None
    assert cred.expires_at > datetime.now(UTC) + timedelta(hours=1)
    assert cred.extra["app_password"] == PASSWORD and cred.extra["did"] == ref.remote_id
    assert cred.extra["pds"] == "https://pds.example.test"  # from the DID document
    assert PASSWORD in cred.secrets() and cred.refresh_token in cred.secrets()
    assert PASSWORD not in repr(cred)
    assert len(fake.calls("POST /xrpc/com.atproto.server.createSession")) == 1


def test_a_wrong_app_password_is_refused_for_good(fake):
    with pytest.raises(AuthExpired) as err:
        _publisher(fake).sign_in("wrong-pass-word-xxxx", HANDLE)
    assert not err.value.refreshable
    assert "wrong-pass-word-xxxx" not in str(err.value)
    assert "app password" in str(err.value)


def test_an_expired_access_token_is_400_and_refreshable_then_refresh_rotates(fake, tmp_path):
    pub, cred, ref = _signed_in(fake)
    fake.expire_access_tokens()
    with pytest.raises(AuthExpired) as err:
        pub.publish(Content("hello"), cred, ref)
    assert err.value.refreshable and err.value.http_status == 400
    fresh = pub.refresh(cred)
    assert fresh.access_token != cred.access_token and fresh.refresh_token != cred.refresh_token
    assert fresh.extra["app_password"] == PASSWORD
    refresh = fake.calls("POST /xrpc/com.atproto.server.refreshSession")
    assert len(refresh) == 1 and refresh[0].body == b""
    # the refresh JWT rotated: the spent one is dead
    assert fake.tokens[cred.refresh_token].spent
    # the same post goes out with the same key after the refresh
    published = pub.publish(Content("hello"), fresh, ref)
    assert published.url.startswith(f"https://bsky.app/profile/{HANDLE}/post/")
    assert len(fake.posts()) == 1
    assert len(fake.calls("POST /xrpc/com.atproto.server.createSession")) == 1


def test_a_dead_refresh_token_logs_in_again_with_the_app_password(fake):
    pub, cred, _ref = _signed_in(fake)
    fake.expire_refresh_tokens()
    fresh = pub.refresh(cred)
    assert fresh.access_token != cred.access_token
    assert len(fake.calls("POST /xrpc/com.atproto.server.createSession")) == 2
    # and a revoked app password ends it: reconnect
    fake.accounts[fresh.extra["did"]].password = "revoked"
    fake.expire_refresh_tokens()
    with pytest.raises(AuthExpired) as err:
        pub.refresh(fresh)
    assert not err.value.refreshable


# ------------------------------------------------------------------ publishing


def test_publish_text_with_facets_the_fake_checks(fake):
    pub, cred, ref = _signed_in(fake)
    with MediaHost() as site:
        page = site.add("/about", b"<title>About</title>", "text/html")
        text = f"新しい投稿 ✨ hi @atproto.com and @nobody.test see {page} #atproto 🎉"
        published = pub.publish(Content(text), cred, ref)
    (post,) = fake.posts()
    assert post["text"] == text
    assert [_covered(text, f) for f in post["facets"]] == ["@atproto.com", page, "#atproto"]
    assert post["facets"][0]["features"][0]["did"] == "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    rkey = pub.checkpoint["rkey"]
    assert published.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    assert published.remote_id == f"at://{ref.remote_id}/app.bsky.feed.post/{rkey}"
    assert post["createdAt"].endswith("Z")
    assert len(fake.calls("GET /xrpc/com.atproto.identity.resolveHandle")) == 2


# ------------------------------------------------------------------ link cards

CARD_PAGE = """<html><head><title>ignored</title>
<meta property="og:title" content="Milton v2">
<meta property="og:description" content="Local-first publishing, now with cards.">
<meta property="og:image" content="/card.jpg"></head><body>...</body></html>"""


@pytest.fixture
def site():
    with MediaHost() as server:
        yield server


def test_a_link_without_images_gets_a_card_with_the_page_picture(fake, site):
    pub, cred, ref = _signed_in(fake)
    page = site.add("/v2", CARD_PAGE.encode(), "text/html; charset=utf-8")
    site.add("/card.jpg", noisy_jpeg(1600, 1200), "image/jpeg")  # over the blob limit
    other = site.add("/other", b"<title>Other</title>", "text/html")
    published = pub.publish(Content(f"Out now: {page} (and {other})"), cred, ref)
    (post,) = fake.posts()  # the fake checked the embed against the lexicon
    embed = post["embed"]
    assert embed["$type"] == "app.bsky.embed.external"
    external = embed["external"]
    assert (external["uri"], external["title"], external["description"]) == (
        page,
        "Milton v2",
        "Local-first publishing, now with cards.",
    )
    (upload,) = fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")
    assert len(upload.body) <= 1_000_000 and read(upload.body).format == "JPEG"
    assert external["thumb"]["ref"] == _blob_ref(upload.body, fake)
    assert [r.path for r in site.requests] == ["/v2", "/card.jpg"]  # the first link only
    assert published.warnings == ()  # the card's picture is not the user's image
    assert [_covered(post["text"], f) for f in post["facets"]] == [page, other]


def _blob_ref(body: bytes, fake: FakeBluesky) -> dict:
    (blob,) = [b for b in fake.blobs.values() if b.size == len(body)]
    return {"$link": blob.cid}


def test_a_card_goes_without_its_picture_when_that_cannot_be_had(fake, site):
    pub, cred, ref = _signed_in(fake)
    page = site.add("/v2", CARD_PAGE.encode(), "text/html")  # /card.jpg: 404
    pub.publish(Content(f"see {page}"), cred, ref)
    (post,) = fake.posts()
    assert "thumb" not in post["embed"]["external"]
    assert post["embed"]["external"]["title"] == "Milton v2"
    assert not fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")


@pytest.mark.parametrize(
    "setup",
    [
        lambda s: s.inject("GET /v2", status=503),
        lambda s: s.add("/v2", b"%PDF-1.7", "application/pdf"),
        lambda s: s.add("/v2", b"<p>untitled</p>", "text/html"),
        lambda s: s.inject("GET /v2", mode="drop"),
    ],
    ids=["down", "not-html", "untitled", "dropped"],
)
def test_a_page_that_gives_no_card_never_fails_the_post(fake, site, setup, caplog):
    pub, cred, ref = _signed_in(fake)
    setup(site)
    with caplog.at_level("INFO", "milton.publish.bluesky"):
        published = pub.publish(Content(f"see {site.url}/v2"), cred, ref)
    (post,) = fake.posts()
    assert "embed" not in post and published.warnings == ()
    assert any("no link card" in r.message for r in caplog.records)


def test_a_post_with_images_or_without_links_fetches_no_page(fake, site, tmp_path):
    pub, cred, ref = _signed_in(fake)
    page = site.add("/v2", CARD_PAGE.encode(), "text/html")
    pub.publish(Content(f"see {page}", (_image(tmp_path),)), cred, ref)
    _publisher(fake).publish(Content("no link, @nobody.test #tag"), cred, ref)
    assert site.requests == []
    assert [p.get("embed", {}).get("$type") for p in fake.posts()] == [
        "app.bsky.embed.images",
        None,
    ]


def test_the_fake_holds_a_card_to_the_lexicon(fake):
    pub, cred, ref = _signed_in(fake)
    did = ref.remote_id
    cases = {
        "no title": {"uri": "https://e.x", "description": ""},
        "a number": {"uri": "https://e.x", "title": 1, "description": ""},
        "no uri": {"uri": "not a uri", "title": "t", "description": ""},
        "bad thumb": {"uri": "https://e.x", "title": "t", "description": "", "thumb": {}},
    }
    for name, external in cases.items():
        record = {
            "$type": "app.bsky.feed.post",
            "text": name,
            "createdAt": "2026-12-04T09:00:00.000Z",
            "embed": {"$type": "app.bsky.embed.external", "external": external},
        }
        resp = pub.session.post(
            f"{fake.url}/xrpc/com.atproto.repo.createRecord",
            json={"repo": did, "collection": "app.bsky.feed.post", "record": record},
            headers={"Authorization": f"Bearer {cred.access_token}"},
        )
        assert resp.status_code == 400, name
    assert fake.posts() == []


def test_publish_images_with_alt_text_and_aspect_ratio(fake, tmp_path):
    pub, cred, ref = _signed_in(fake)
    one = _image(tmp_path, "a.jpg", 1200, 800, alt_text="A team photo")
    two = _image(tmp_path, "b.jpg", 640, 960)  # no alt: sent as "" (required)
    seen = []
    pub.publish(Content("", (one, two)), cred, ref, progress=lambda d, t: seen.append((d, t)))
    (post,) = fake.posts()
    images = post["embed"]["images"]
    assert [i["alt"] for i in images] == ["A team photo", ""]
    assert [i["aspectRatio"] for i in images] == [
        {"width": 1200, "height": 800},
        {"width": 640, "height": 960},
    ]
    uploads = fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")
    assert [u.header("content-type") for u in uploads] == ["image/jpeg", "image/jpeg"]
    assert uploads[0].body == one.path.read_bytes()
    assert seen[-1][0] == seen[-1][1]


def test_a_large_photo_is_reduced_to_fit_the_blob_limit(fake, tmp_path):
    pub, cred, ref = _signed_in(fake)
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(noisy_jpeg(2000, 1500, orientation=6))  # a phone held upright
    assert path.stat().st_size > 2_500_000
    small = _image(tmp_path, "small.jpg", 640, 480)
    big = MediaItem(
        "image", "image/jpeg", path=path, size=path.stat().st_size, width=2000, height=1500
    )
    published = pub.publish(Content("the view", (small, big)), cred, ref)
    (post,) = fake.posts()  # the fake refuses any blob over 1,000,000 bytes
    uploads = fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")
    assert uploads[0].body == small.path.read_bytes()  # under the limit: sent as it is
    blob = uploads[1].body
    assert len(blob) <= 1_000_000 and uploads[1].header("content-type") == "image/jpeg"
    img = read(blob)
    assert img.format == "JPEG" and img.width < img.height  # turned upright
    assert not img.getexif() and b"Milton Test Camera" not in blob  # no EXIF, no GPS
    ratio = post["embed"]["images"][1]["aspectRatio"]
    assert ratio == {"width": img.width, "height": img.height}
    assert post["embed"]["images"][1]["image"]["size"] == len(blob)
    (warning,) = published.warnings
    mb = f"{len(blob) / 1e6:.2f} MB"
    assert warning == (
        f"image 2 was reduced from {path.stat().st_size / 1e6:.1f} MB 1500x2000 to {mb} "
        f"{img.width}x{img.height} to fit Bluesky's 1 MB limit"
    )


def test_a_linked_photo_over_the_limit_is_fetched_whole_and_reduced(fake):
    pub, cred, ref = _signed_in(fake)
    with MediaHost() as host:
        url = host.add("/photo.png", noisy_png(1200, 900), "image/png")
        item = MediaItem("image", "image/png", url=url)
        published = pub.publish(Content("linked", (item,)), cred, ref)
    (upload,) = fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")
    assert len(upload.body) <= 1_000_000 and read(upload.body).format == "JPEG"
    assert upload.header("content-type") == "image/jpeg"
    assert published.warnings and "image 1 was reduced" in published.warnings[0]


@pytest.mark.parametrize(
    ("name", "mime", "data", "says"),
    [
        ("anim.gif", "image/gif", lambda: animated_gif(900, 900), "does not scale a GIF"),
        ("anim.webp", "image/webp", lambda: animated_webp(700, 700), "animated"),
        ("fake.jpg", "image/jpeg", lambda: b"\xff\xd8" + b"\0" * 1_000_100, "Milton can read"),
    ],
    ids=["gif", "animated-webp", "unreadable"],
)
def test_an_image_that_cannot_be_reduced_is_refused_with_the_limit(
    fake, tmp_path, name, mime, data, says
):
    pub, cred, ref = _signed_in(fake)
    path = tmp_path / name
    path.write_bytes(data())
    assert path.stat().st_size > 1_000_000
    item = MediaItem("image", mime, path=path)  # size not known beforehand
    with pytest.raises(Rejected) as err:
        pub.publish(Content("big", (item,)), cred, ref)
    assert "over the 1,000,000 bytes Bluesky takes" in str(err.value)
    assert says in str(err.value)
    assert not fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")


def test_rate_limit_reset_is_epoch_seconds(fake):
    pub, cred, ref = _signed_in(fake)
    reset = int(datetime.now(UTC).timestamp()) + 900
    fake.inject(
        "POST /xrpc/com.atproto.repo.createRecord",
        status=429,
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"RateLimit-Reset": str(reset), "RateLimit-Remaining": "0"},
    )
    with pytest.raises(RateLimited) as err:
        pub.publish(Content("hi"), cred, ref)
    assert err.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_a_refused_record_is_rejected(fake):
    pub, cred, ref = _signed_in(fake)
    fake.inject(
        "POST /xrpc/com.atproto.repo.createRecord",
        status=400,
        body={
            "error": "InvalidRequest",
            "message": "Record/text must not be longer than 300 graphemes",
        },
    )
    with pytest.raises(Rejected) as err:
        pub.publish(Content("hi"), cred, ref)
    assert "300 graphemes" in str(err.value)


# ------------------------------------------------------------------ the idempotent create

CREATE = "POST /xrpc/com.atproto.repo.createRecord"
GET = "GET /xrpc/com.atproto.repo.getRecord"


@pytest.mark.parametrize(
    "fault",
    [
        {"mode": "drop", "when": "after"},
        {"mode": "timeout", "when": "after", "delay": 3},
        {"status": 500, "when": "after", "body": {"error": "InternalServerError"}},
        {"status": 502, "when": "after", "body": {"error": "UpstreamFailure"}},
    ],
    ids=["drop", "timeout", "500", "502"],
)
def test_a_lost_answer_is_settled_by_get_record_as_published(fake, fault):
    pub, cred, ref = _signed_in(fake)
    fake.inject(CREATE, **fault)
    published = pub.publish(Content("exactly once"), cred, ref)
    assert len(fake.posts()) == 1
    assert len(fake.calls(CREATE)) == 1 and len(fake.calls(GET)) == 1
    assert published.url.endswith("/post/" + pub.checkpoint["rkey"])


@pytest.mark.parametrize("fault", [{"mode": "drop"}, {"status": 503}], ids=["drop", "503"])
def test_a_create_that_did_not_land_is_sent_again_with_the_same_key(fake, fault):
    pub, cred, ref = _signed_in(fake)
    fake.inject(CREATE, when="before", **fault)
    pub.publish(Content("exactly once"), cred, ref)
    creates = fake.calls(CREATE)
    assert len(creates) == 2 and len(fake.posts()) == 1
    assert creates[0].json()["rkey"] == creates[1].json()["rkey"] == pub.checkpoint["rkey"]
    assert creates[0].json()["record"] == creates[1].json()["record"]


@pytest.mark.parametrize("collision", ["explicit", "internal"])
def test_a_taken_key_is_confirmed_by_get_record(fake, collision):
    """The answer was lost and a lagging read said "not there": the resend collides
    with the post that did land, and getRecord then finds it."""
    fake.collision = collision
    pub, cred, ref = _signed_in(fake)
    fake.inject(CREATE, mode="drop", when="after")
    fake.inject(GET, status=400, body={"error": "RecordNotFound", "message": "Could not locate"})
    pub.publish(Content("exactly once"), cred, ref)
    assert len(fake.posts()) == 1
    assert len(fake.calls(CREATE)) == 2 and len(fake.calls(GET)) == 2


def test_tries_are_bounded_then_the_outcome_is_unknown(fake):
    pub, cred, ref = _signed_in(fake)
    fake.inject(CREATE, mode="drop", when="before", times=3)
    with pytest.raises(OutcomeUnknown):
        pub.publish(Content("never"), cred, ref)
    assert len(fake.calls(CREATE)) == 3 and fake.posts() == []


def test_a_retry_of_the_post_reuses_its_key_and_finds_it_published(fake):
    pub, cred, ref = _signed_in(fake)
    fake.inject(CREATE, mode="drop", when="after")
    fake.inject(GET, status=503)  # and the check fails too: nothing can be told yet
    with pytest.raises(OutcomeUnknown):
        pub.publish(Content("exactly once"), cred, ref)
    kept = dict(pub.checkpoint)
    assert is_tid(kept["rkey"]) and kept["created_at"]
    again = _publisher(fake)
    again.resume = kept
    published = again.publish(Content("exactly once"), cred, ref)
    assert published.url.endswith("/post/" + kept["rkey"])
    assert len(fake.calls(CREATE)) == 1 and len(fake.posts()) == 1


def test_the_descriptor_builds_bsky_app_urls():
    assert registry.platform("bluesky").post_url("3lzq4kbf6w22a", "alice.bsky.social") == (
        "https://bsky.app/profile/alice.bsky.social/post/3lzq4kbf6w22a"
    )
    assert registry.platform("bluesky").login_name == "handle"


def test_sign_ins_are_limited_and_the_limit_is_honoured(fake):
    fake.session_limit = 1
    _publisher(fake).sign_in(PASSWORD, HANDLE)
    with pytest.raises(RateLimited) as err:
        _publisher(fake).sign_in(PASSWORD, HANDLE)
    assert err.value.retry_at > datetime.now(UTC) + timedelta(minutes=4)


def test_an_old_unused_blob_is_gone_at_create_time(fake, tmp_path):
    pub, cred, ref = _signed_in(fake)
    fake.blob_ttl = -1.0  # every upload is already garbage when the record comes
    with pytest.raises(Rejected) as err:
        pub.publish(Content("x", (_image(tmp_path),)), cred, ref)
    assert "Could not find blob" in str(err.value)


# ------------------------------------------------------------------ the account's PDS


@pytest.fixture
def split():
    """An entryway (sessions only) whose DID documents name a second fake as the PDS."""
    with FakeBluesky() as entryway, FakeBluesky.pds_of(entryway) as pds:
        entryway.role = "entryway"
        entryway.pds_endpoint = pds.url
        entryway.add_account(HANDLE, PASSWORD, did="did:plc:u5cwb2mwiv2bfq53cjufe6yn")
        entryway.add_account("atproto.com", "x", did="did:plc:ewvi7nxzyoun6zhxrhs64oiz")
        yield entryway, pds


def _at(entryway: FakeBluesky) -> BlueskyPublisher:
    """A publisher with no ``api_base``, whose entryway (bsky.social) is the fake."""

    class AtTheFakeEntryway(BlueskyPublisher):
        default_bases = {"entryway": entryway.url}

    return AtTheFakeEntryway(sleep=lambda s: None, timeout=(2.0, 2.0))


def _routes(server: FakeBluesky) -> list[str]:
    return [r.route.rsplit(".", 1)[-1] for r in server.requests]


def test_after_sign_in_every_call_goes_to_the_pds_the_did_document_names(split, tmp_path):
    entryway, pds = split
    pub = _at(entryway)
    cred = pub.sign_in(PASSWORD, HANDLE)
    assert cred.extra["pds"] == pds.url
    ident = pub.identify(cred)
    ref = AccountRef(ident.remote_id, ident.username)
    pub.publish(Content("hi @atproto.com", (_image(tmp_path),)), cred, ref)
    assert len(entryway.posts()) == 1
    assert _routes(entryway) == ["createSession"]
    assert _routes(pds) == ["getSession", "resolveHandle", "uploadBlob", "createRecord"]
    # the PDS renews the session too (it forwards an entryway account's refresh)
    entryway.expire_access_tokens()
    fresh = pub.refresh(cred)
    assert fresh.extra["pds"] == pds.url
    assert _routes(pds)[-1] == "refreshSession" and _routes(entryway) == ["createSession"]


def test_the_kept_pds_serves_a_later_publish_without_another_lookup(split):
    entryway, pds = split
    kept = _at(entryway).sign_in(PASSWORD, HANDLE).to_json()  # as the keyring holds it
    ref = AccountRef("did:plc:u5cwb2mwiv2bfq53cjufe6yn", HANDLE)
    later = _at(entryway)  # another run of the scheduler
    pds.inject(CREATE, mode="drop", when="after")
    published = later.publish(Content("exactly once"), Credential.from_json(kept), ref)
    assert len(entryway.posts()) == 1
    assert _routes(entryway) == ["createSession"]
    assert _routes(pds) == ["createRecord", "getRecord"]
    assert published.url.endswith("/post/" + later.checkpoint["rkey"])


def test_a_dead_refresh_token_signs_in_again_at_the_entryway(split):
    entryway, pds = split
    pub = _at(entryway)
    cred = pub.sign_in(PASSWORD, HANDLE)
    entryway.expire_refresh_tokens()
    fresh = pub.refresh(cred)
    assert _routes(pds) == ["refreshSession"]
    assert _routes(entryway) == ["createSession", "createSession"]
    assert fresh.extra["pds"] == pds.url


def test_a_session_without_a_did_document_keeps_using_the_entryway(split):
    entryway, pds = split
    entryway.send_did_doc = False
    entryway.role = "pds"  # then the entryway is where the account's calls go
    pub = _at(entryway)
    cred = pub.sign_in(PASSWORD, HANDLE)
    assert "pds" not in cred.extra
    ref = AccountRef("did:plc:u5cwb2mwiv2bfq53cjufe6yn", HANDLE)
    pub.publish(Content("hello"), cred, ref)
    pub.refresh(cred)
    assert _routes(entryway) == ["createSession", "createRecord", "refreshSession"]
    assert pds.requests == []


def test_api_base_replaces_the_entryway_and_the_pds(split):
    entryway, pds = split
    entryway.role = "pds"
    pub = BlueskyPublisher(api_base=entryway.url, sleep=lambda s: None, timeout=(2.0, 2.0))
    cred = pub.sign_in(PASSWORD, HANDLE)
    assert cred.extra["pds"] == pds.url  # named, and kept, but api_base wins
    pub.publish(Content("hello"), cred, AccountRef("did:plc:u5cwb2mwiv2bfq53cjufe6yn", HANDLE))
    assert pds.requests == [] and len(entryway.posts()) == 1


@pytest.mark.parametrize(
    ("endpoint", "kept"),
    [
        ("https://morel.us-east.host.bsky.network/", "https://morel.us-east.host.bsky.network"),
        ("http://127.0.0.1:2583", "http://127.0.0.1:2583"),
        ("http://localhost:2583", "http://localhost:2583"),
        ("http://pds.example.com", None),  # a token would travel unencrypted
        ("ftp://pds.example.com", None),
        ("https://", None),
        ("https://pds.example.com:99999", None),
    ],
)
def test_only_a_pds_a_token_may_travel_to_is_kept(endpoint, kept):
    doc = {
        "service": [
            {"id": "#atproto_labeler", "serviceEndpoint": "https://labels.example"},
            {
                "id": "did:plc:x#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": endpoint,
            },
        ]
    }
    assert bluesky._pds_from(doc) == kept
