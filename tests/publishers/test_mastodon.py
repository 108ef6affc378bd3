"""MastodonPublisher against FakeMastodon over real HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.domain.errors import UserError
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.mastodon import (
    PLATFORM,
    Limits,
    MastodonPublisher,
    count,
    graphemes,
)
from tests.fakes.mastodon import FakeMastodon, fake_length

TOKEN = "mast-token-3f9a1c0ffee0ddba11"
ACCOUNT = AccountRef("109876", "milton@fake.social")


@pytest.fixture
def fake() -> Any:
    with FakeMastodon() as server:
        server.add_user("109876", "milton", "Milton HQ", token=TOKEN)
        yield server


def publisher(fake: FakeMastodon, **kwargs: Any) -> MastodonPublisher:
    pub = MastodonPublisher(api_base=fake.url, timeout=(2.0, 2.0), sleep=lambda s: None, **kwargs)
    return pub


def cred() -> Credential:
    return Credential(TOKEN)


def image(tmp_path: Path, name: str = "p.png", size: int = 2048) -> MediaItem:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * size)
    return MediaItem("image", "image/png", path=path, alt_text="A poster", size=size + 8)


# ---------------------------------------------------------------- counting and limits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", 5),
        ("see https://example.com/a/very/long/path?with=query", 4 + 23),
        ("link https://example.com/x.", 5 + 23 + 1),
        ("hi @alice@mastodon.social!", len("hi @alice!")),
        ("@bob local", len("@bob local")),
        ("👍🏽", 1),  # a skin tone joins its emoji
        ("👨‍👩‍👧", 1),  # a ZWJ family
        ("🇫🇷🇩🇪", 2),  # two flags
        ("e\u0301", 1),  # a combining accent
        ("日本語のテキスト", 8),
        ("a\r\nb", 3),
    ],
)
def test_counting_follows_mastodon(text: str, expected: int) -> None:
    assert count(text) == expected
    assert fake_length(text) == expected  # the fake, written apart, agrees


def test_graphemes_of_plain_text_is_its_length() -> None:
    assert graphemes("abc def") == 7


def test_limits_round_trip_through_the_tier() -> None:
    limits = Limits(1000, 6, 30, 8 * 1024 * 1024, 40 * 1024 * 1024, 900)
    tier = limits.tier()
    assert len(tier) <= 32
    assert Limits.from_tier(tier) == limits
    rules = PLATFORM.rules_for(tier)
    assert rules.max_chars == 1000 and rules.max_media == 6 and rules.max_alt_text == 900
    assert PLATFORM.length("x https://e.com", tier) == (2 + 30, 1000)


def test_an_unknown_tier_gets_the_default_rules() -> None:
    assert PLATFORM.rules_for("premium") is PLATFORM.rules
    assert PLATFORM.rules_for("i1.2") is PLATFORM.rules
    assert PLATFORM.rules_for(None).max_chars == 500
    assert PLATFORM.rules.max_media == 4


def test_validation_uses_the_instance_limits() -> None:
    tier = Limits(max_chars=20, max_media=1).tier()
    assert registry.validate("mastodon", Content("x" * 21), tier)
    assert not registry.validate("mastodon", Content("x" * 21), Limits(max_chars=30).tier())
    assert not registry.validate("mastodon", Content("x" * 400))


def test_the_instance_document_gives_the_limits() -> None:
    limits = Limits.from_instance(
        {"configuration": {"statuses": {"max_characters": 3000, "max_media_attachments": 8},
                           "media_attachments": {"image_size_limit": 1024 * 1024}}}
    )  # fmt: skip
    assert (limits.max_chars, limits.max_media, limits.image_bytes) == (3000, 8, 1024 * 1024)
    assert limits.url_chars == 23 and limits.description == 1500  # absent: the defaults
    assert Limits.from_instance({}) == Limits()


def test_mastodon_needs_its_instance() -> None:
    from milton_desktop.operations.accounts import instance_base

    assert PLATFORM.needs_instance
    with pytest.raises(UserError, match="--api-base"):
        instance_base("mastodon", None)
    assert instance_base("mastodon", "https://fosstodon.org/") == "https://fosstodon.org"
    with pytest.raises(Rejected, match="instance"):
        MastodonPublisher().identify(cred())


# ---------------------------------------------------------------- connecting


def test_identify_reads_the_account_and_the_instance_limits(fake: FakeMastodon) -> None:
    fake.max_characters = 1000
    fake.url_chars = 30
    identity = publisher(fake).identify(cred())
    assert identity.remote_id == "109876"
    assert identity.username == "milton@fake.social"
    assert identity.display_name == "Milton HQ"
    rules = PLATFORM.rules_for(identity.tier)
    assert rules.max_chars == 1000
    assert rules.length("https://example.com")[0] == 30
    assert fake.calls("GET /api/v2/instance")[0].header("authorization") is None


def test_a_bad_token_is_not_refreshable(fake: FakeMastodon) -> None:
    with pytest.raises(AuthExpired) as err:
        publisher(fake).identify(Credential("wrong"))
    assert not err.value.refreshable


# ---------------------------------------------------------------- publishing


def test_publishes_text_with_an_idempotency_key(fake: FakeMastodon) -> None:
    pub = publisher(fake)
    done = pub.publish(Content("Hello fediverse https://example.com"), cred(), ACCOUNT)
    (status,) = fake.statuses
    assert done.remote_id == status["id"]
    assert done.url == f"https://fake.social/@milton/{status['id']}"
    assert status["visibility"] == "public"
    key = fake.calls("POST /api/v1/statuses")[0].header("idempotency-key")
    assert key and key.startswith("milton-")
    assert pub.checkpoint["idempotency_nonce"] in key


def test_publishes_an_image_with_its_alt_text(fake: FakeMastodon, tmp_path: Path) -> None:
    done = publisher(fake).publish(Content("pic", (image(tmp_path),)), cred(), ACCOUNT)
    (status,) = fake.statuses
    assert done.remote_id == status["id"]
    (media,) = status["media_attachments"]
    assert media["description"] == "A poster"
    assert fake.calls(r"GET /api/v1/media/\w+") == []  # an image is ready at once


def test_waits_for_a_video_to_be_processed(fake: FakeMastodon, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 4096)
    video = MediaItem("video", "video/mp4", path=path, alt_text="A clip")
    fake.processing_polls = 2
    publisher(fake).publish(Content("clip", (video,)), cred(), ACCOUNT)
    assert len(fake.calls(r"GET /api/v1/media/\w+")) == 3  # 206, 206, 200
    assert len(fake.statuses) == 1


def test_a_video_that_never_finishes_is_transient(fake: FakeMastodon, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\0" * 4096)
    fake.processing_polls = 10_000
    pub = publisher(fake)
    pub.processing_timeout = 5.0
    with pytest.raises(Transient, match="still processing"):
        pub.publish(Content("clip", (MediaItem("video", "video/mp4", path=path),)), cred(), ACCOUNT)
    assert fake.statuses == []


def test_a_dropped_create_is_resent_with_the_same_key(fake: FakeMastodon) -> None:
    fake.inject("POST /api/v1/statuses", mode="drop", when="after")
    done = publisher(fake).publish(Content("once only"), cred(), ACCOUNT)
    assert len(fake.statuses) == 1
    assert done.remote_id == fake.statuses[0]["id"]
    assert "sent again with the same Idempotency-Key" in done.resolution
    keys = {r.header("idempotency-key") for r in fake.calls("POST /api/v1/statuses")}
    assert len(fake.calls("POST /api/v1/statuses")) == 2 and len(keys) == 1


@pytest.mark.parametrize("fault", [{"status": 503}, {"mode": "timeout", "delay": 3}])
def test_a_lost_answer_after_the_create_ends_published_once(
    fake: FakeMastodon, fault: dict[str, Any]
) -> None:
    fake.inject("POST /api/v1/statuses", when="after", **fault)
    done = publisher(fake).publish(Content("once only"), cred(), ACCOUNT)
    assert len(fake.statuses) == 1
    assert done.resolution


def test_an_answered_create_records_no_resolution(fake: FakeMastodon) -> None:
    assert publisher(fake).publish(Content("plain"), cred(), ACCOUNT).resolution is None


def test_no_answer_at_all_is_transient_and_the_next_attempt_replays_the_key(
    fake: FakeMastodon,
) -> None:
    fake.inject("POST /api/v1/statuses", mode="drop", when="after", times=3)
    first = publisher(fake)
    with pytest.raises(Transient, match="Idempotency-Key"):
        first.publish(Content("once only"), cred(), ACCOUNT)
    assert len(fake.statuses) == 1  # landed, but no answer came back
    second = publisher(fake)
    second.resume = dict(first.checkpoint)  # what the engine keeps between attempts
    done = second.publish(Content("once only"), cred(), ACCOUNT)
    assert len(fake.statuses) == 1
    assert done.remote_id == fake.statuses[0]["id"]
    assert done.resolution  # the history says how the lost answer was settled


def test_a_create_lost_over_an_hour_ago_is_not_replayed(fake: FakeMastodon) -> None:
    pub = publisher(fake)
    pub.resume = {
        "idempotency_nonce": "abc",
        "create_sent_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
    }
    with pytest.raises(OutcomeUnknown, match="hour"):
        pub.publish(Content("late"), cred(), ACCOUNT)
    assert fake.calls("POST /api/v1/statuses") == []


def test_an_edited_post_gets_a_new_key(fake: FakeMastodon) -> None:
    first = publisher(fake)
    first.publish(Content("one"), cred(), ACCOUNT)
    second = publisher(fake)
    second.resume = dict(first.checkpoint)
    second.publish(Content("one, edited"), cred(), ACCOUNT)
    assert len(fake.statuses) == 2


def test_the_fake_replays_a_key_even_with_another_body(fake: FakeMastodon) -> None:
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": "k1"}
    a = requests.post(fake.url + "/api/v1/statuses", json={"status": "a"}, headers=headers)
    b = requests.post(fake.url + "/api/v1/statuses", json={"status": "b"}, headers=headers)
    assert a.json()["id"] == b.json()["id"] and len(fake.statuses) == 1
    fake.forget_keys_older_than(4000)
    requests.post(fake.url + "/api/v1/statuses", json={"status": "b"}, headers=headers)
    assert len(fake.statuses) == 2


def test_a_500_before_the_create_is_retried_once_and_published(fake: FakeMastodon) -> None:
    fake.inject("POST /api/v1/statuses", status=500)
    publisher(fake).publish(Content("hello"), cred(), ACCOUNT)
    assert len(fake.statuses) == 1


def test_rate_limit_reset_is_an_iso_instant(fake: FakeMastodon) -> None:
    reset = datetime.now(UTC).replace(microsecond=19685) + timedelta(minutes=7)
    fake.rate_limit("POST /api/v1/statuses", reset)
    with pytest.raises(RateLimited) as err:
        publisher(fake).publish(Content("hello"), cred(), ACCOUNT)
    assert err.value.retry_at == reset
    assert fake.statuses == []


def test_the_media_rate_limit_is_honoured(fake: FakeMastodon, tmp_path: Path) -> None:
    reset = datetime.now(UTC) + timedelta(minutes=30)
    fake.rate_limit("POST /api/v2/media", reset)
    with pytest.raises(RateLimited) as err:
        publisher(fake).publish(Content("pic", (image(tmp_path),)), cred(), ACCOUNT)
    assert abs((err.value.retry_at - reset).total_seconds()) < 0.001


def test_a_revoked_token_while_publishing_means_reconnect(fake: FakeMastodon) -> None:
    with pytest.raises(AuthExpired) as err:
        publisher(fake).publish(Content("hello"), Credential("tok-gone-77aa99"), ACCOUNT)
    assert not err.value.refreshable
    assert "tok-gone-77aa99" not in str(err.value)


def test_text_over_the_instance_limit_is_rejected_by_the_server(fake: FakeMastodon) -> None:
    fake.max_characters = 10
    with pytest.raises(Rejected, match="character limit"):
        publisher(fake).publish(Content("x" * 11), cred(), ACCOUNT)


def test_a_link_counts_23_on_the_server_too(fake: FakeMastodon) -> None:
    fake.max_characters = 30
    text = "ok https://example.com/" + "a" * 200
    assert count(text) == 26
    publisher(fake).publish(Content(text), cred(), ACCOUNT)
    assert len(fake.statuses) == 1


def test_images_and_a_video_are_not_mixed(tmp_path: Path) -> None:
    clip = MediaItem("video", "video/mp4", path=tmp_path / "c.mp4", size=10)
    problems = registry.validate("mastodon", Content("x", (image(tmp_path), clip)))
    assert problems


def test_the_token_never_shows_in_an_error(fake: FakeMastodon) -> None:
    fake.inject_echo("POST /api/v1/statuses", {"error": "bad token {secret}"}, status=422)
    with pytest.raises(Rejected) as err:
        publisher(fake).publish(Content("hello"), cred(), ACCOUNT)
    assert TOKEN not in str(err.value)


# ---------------------------------------------------------------- signing in


def test_authorize_url_asks_for_the_registered_scopes_with_pkce() -> None:
    from milton_desktop.publishers.mastodon import SCOPES, authorize_url

    url = authorize_url(
        "cid", "http://127.0.0.1:8765/callback", "st4te", base="https://toot.example/",
        code_challenge="chal", force_login=True,
    )  # fmt: skip
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "toot.example", "/oauth/authorize")
    q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    assert q == {
        "response_type": "code",
        "client_id": "cid",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "scope": SCOPES,
        "state": "st4te",
        "code_challenge": "chal",
        "code_challenge_method": "S256",
        "force_login": "true",
    }
    with pytest.raises(Rejected, match="address of your Mastodon server"):
        authorize_url("cid", "http://127.0.0.1:1/callback", "s")


def test_registration_and_its_check(fake) -> None:
    from milton_desktop.publishers.mastodon import LEGACY_SCOPES, SCOPES

    pub = publisher(fake)
    reg = pub.register_app("http://127.0.0.1:8765/callback")
    assert (reg.server, reg.scopes) == (fake.url, SCOPES)
    assert reg.client_secret not in repr(reg)
    assert pub.app_is_known(reg)
    fake.forget_apps()
    assert not pub.app_is_known(reg)
    fake.oauth_metadata = False  # before 4.3
    assert pub.register_app("http://127.0.0.1:8765/callback").scopes == LEGACY_SCOPES


def test_the_fake_enforces_redirect_pkce_and_secret(fake) -> None:
    """The code exchange refuses another redirect, a wrong verifier and a wrong secret."""
    import requests

    from milton_desktop.publishers.base import ClientUnknown
    from milton_desktop.publishers.oauth import make_pkce

    pub = publisher(fake)
    redirect = "http://127.0.0.1:8765/callback"
    reg = pub.register_app(redirect)
    verifier, challenge = make_pkce()

    def code(redirect_uri: str = redirect, **extra: str) -> requests.Response:
        params = {"response_type": "code", "client_id": reg.client_id, "state": "s",
                  "redirect_uri": redirect_uri, "scope": reg.scopes, "code_challenge": challenge,
                  "code_challenge_method": "S256", **extra}  # fmt: skip
        with requests.Session() as session:
            session.trust_env = False  # no proxy from the environment for loopback traffic
            return session.get(
                fake.url + "/oauth/authorize", params=params, allow_redirects=False, timeout=5
            )

    # the consent page refuses a redirect not registered (another port) and no PKCE
    assert code("http://127.0.0.1:9999/callback").status_code == 400
    no_pkce = code(code_challenge="")
    assert "error=invalid_request" in no_pkce.headers["Location"]

    def fresh() -> str:
        location = code().headers["Location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    with pytest.raises(Rejected, match="start the sign-in again"):
        pub.exchange_code(fresh(), "http://127.0.0.1:9999/callback", reg.client_id,
                          reg.client_secret, verifier)  # fmt: skip
    with pytest.raises(Rejected, match="start the sign-in again"):
        pub.exchange_code(fresh(), redirect, reg.client_id, reg.client_secret, "x" * 50)
    with pytest.raises(ClientUnknown):
        pub.exchange_code(fresh(), redirect, reg.client_id, "wrong-secret", verifier)
    one = fresh()
    cred = pub.exchange_code(one, redirect, reg.client_id, reg.client_secret, verifier)
    assert cred.expires_at is None and pub.identify(cred).remote_id == "109876"
    with pytest.raises(Rejected):  # a code works once
        pub.exchange_code(one, redirect, reg.client_id, reg.client_secret, verifier)


def test_current_tier_reads_the_instance_without_the_token(fake) -> None:
    fake.max_characters = 777
    assert publisher(fake).current_tier(Credential("not-even-a-token")).startswith("i777.")
