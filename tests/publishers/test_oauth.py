"""Browser sign-in (RFC 8252 + RFC 7636) end to end against the fake platforms."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import threading
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from milton_desktop.publishers import linkedin, oauth
from milton_desktop.publishers.base import AuthExpired
from milton_desktop.publishers.oauth import LoopbackReceiver, OAuthCancelled, OAuthError
from tests.fakes.instagram import FakeInstagram
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.x import FakeX


def _fetch(url: str, timeout: float = 5) -> requests.Response:
    with requests.Session() as s:
        s.trust_env = False  # a proxy from the environment must not see loopback traffic
        return s.get(url, timeout=timeout)


class Browser:
    """Plays the user's browser: opens the URL on another thread, follows redirects."""

    def __init__(self, transform=None) -> None:
        self.transform = transform
        self.opened: list[str] = []
        self.responses: list[requests.Response] = []
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)

        def visit() -> None:
            try:
                target = self.transform(url) if self.transform else url
                self.responses.append(_fetch(target, timeout=10))
            except BaseException as exc:  # surfaced by the test, not lost in a thread
                self.errors.append(exc)

        t = threading.Thread(target=visit, daemon=True)
        t.start()
        self.threads.append(t)

    def join(self) -> requests.Response:
        for t in self.threads:
            t.join(10)
        assert not self.errors, self.errors
        return self.responses[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> requests.Response:
    return _fetch(url)


# ---------------------------------------------------------------- PKCE and state


def test_pkce_pair_is_s256():
    verifier, challenge = oauth.make_pkce()
    assert 43 <= len(verifier) <= 128
    assert re.fullmatch(r"[A-Za-z0-9\-._~]+", verifier)
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge == expected.rstrip(b"=").decode()
    assert oauth.make_pkce()[0] != verifier


def test_state_is_random():
    states = {oauth.random_state() for _ in range(50)}
    assert len(states) == 50
    assert all(len(s) >= 32 for s in states)


# ---------------------------------------------------------------- the receiver


def test_receiver_returns_code_and_thanks_the_user():
    with LoopbackReceiver() as rx:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", rx.redirect_uri)
        rx.expect("s1")
        answer: list[requests.Response] = []
        t = threading.Thread(
            target=lambda: answer.append(_get(rx.redirect_uri + "?state=s1&code=abc"))
        )
        t.start()
        assert rx.wait("s1", timeout=5) == "abc"
        t.join(5)
    assert answer[0].status_code == 200
    assert "close this tab and return to Milton Desktop" in answer[0].text
    assert answer[0].headers["Cache-Control"] == "no-store"


def test_receiver_ignores_stray_requests_and_keeps_one_answer():
    with LoopbackReceiver() as rx:
        rx.expect("s1")
        base = rx.redirect_uri
        root = base.rsplit("/", 1)[0]
        assert _get(root + "/favicon.ico").status_code == 404
        assert _get(base).status_code == 400  # no code, no error: not an answer
        assert _get(base + "?state=s1&code=first").status_code == 200
        again = _get(base + "?state=s1&code=second")
        assert again.status_code == 409
        assert rx.wait("s1", timeout=1) == "first"


def test_wrong_state_is_refused():
    with LoopbackReceiver() as rx:
        rx.expect("right")
        reply = _get(rx.redirect_uri + "?state=wrong&code=stolen")
        assert reply.status_code == 400
        assert "refused" in reply.text
        with pytest.raises(OAuthError, match="does not belong to this sign-in"):
            rx.wait("right", timeout=2)


def test_denied_consent_says_what_to_do():
    with LoopbackReceiver() as rx:
        rx.expect("s")
        query = urlencode({"state": "s", "error": "access_denied", "error_description": "no"})
        assert _get(f"{rx.redirect_uri}?{query}").status_code == 200
        with pytest.raises(OAuthError, match="choose Allow"):
            rx.wait("s", timeout=2)


def test_timeout_is_clean_and_frees_the_port():
    port = _free_port()
    started = time.monotonic()
    with (
        LoopbackReceiver(port) as rx,
        pytest.raises(OAuthError, match="no answer from the browser"),
    ):
        rx.wait("s", timeout=0.3)
    assert time.monotonic() - started < 3
    with socket.socket() as s:  # closed: the port can be bound again
        s.bind(("127.0.0.1", port))


def test_cancel_stops_waiting():
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with LoopbackReceiver() as rx, pytest.raises(OAuthCancelled):
        rx.wait("s", timeout=30, cancel=cancel)


def test_fixed_port_in_use_is_explained():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OAuthError, match=f"port {port} .* in use"):
            LoopbackReceiver(port).start()


def test_fixed_port_gives_exact_redirect_uri():
    port = _free_port()
    with LoopbackReceiver(port) as rx:
        assert rx.redirect_uri == f"http://127.0.0.1:{port}/callback"


# ---------------------------------------------------------------- connect_flow: X


@pytest.fixture
def fake_x():
    fake = FakeX()
    fake.add_user("2244994945", "XDevelopers", "X Developers")
    with fake:
        yield fake


def test_x_flow_end_to_end_with_pkce(fake_x):
    fake_x.add_client("native-app")  # public client: no secret, PKCE only
    browser = Browser()
    cred, ident = oauth.connect_flow(
        "x", "native-app", None, browser, timeout=10, api_base=fake_x.url
    )
    assert browser.join().status_code == 200
    assert ident.remote_id == "2244994945"
    assert ident.username == "XDevelopers"
    assert cred.access_token in fake_x.tokens
    assert cred.refresh_token  # offline.access was asked for
    assert cred.client_id == "native-app"
    assert cred.expires_at is not None
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    token_call = fake_x.calls("POST /2/oauth2/token")[0]
    verifier = token_call.form()["code_verifier"][0]
    digest = hashlib.sha256(verifier.encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]


def test_x_flow_on_a_registered_port(fake_x):
    port = _free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    fake_x.add_client("conf-app", secret="s3cret", redirect_uris=(redirect,))
    browser = Browser()
    listening: list[str] = []
    cred, ident = oauth.connect_flow(
        "x",
        "conf-app",
        "s3cret",
        browser,
        port=port,
        timeout=10,
        api_base=fake_x.url,
        on_listening=listening.append,
    )
    browser.join()
    assert listening == [redirect]
    assert ident.username == "XDevelopers"
    assert cred.client_secret == "s3cret"


def test_x_flow_refuses_a_tampered_verifier(fake_x, monkeypatch):
    fake_x.add_client("native-app")
    real = oauth.make_pkce
    monkeypatch.setattr(oauth, "make_pkce", lambda: (real()[0], real()[1]))  # pair mismatch
    browser = Browser()
    with pytest.raises(AuthExpired, match="X refused the sign-in"):
        oauth.connect_flow("x", "native-app", None, browser, timeout=10, api_base=fake_x.url)
    browser.join()


def test_flow_with_forged_state_is_refused(fake_x):
    fake_x.add_client("native-app")

    def forge(url: str) -> str:
        # the authorize page answers, but the redirect comes back with another state
        q = parse_qs(urlsplit(url).query)
        return f"{q['redirect_uri'][0]}?{urlencode({'state': 'forged', 'code': 'x'})}"

    browser = Browser(forge)
    with pytest.raises(OAuthError, match="state did not match"):
        oauth.connect_flow("x", "native-app", None, browser, timeout=10, api_base=fake_x.url)
    assert browser.join().status_code == 400
    assert fake_x.calls("POST /2/oauth2/token") == []


def test_flow_timeout_is_clean(fake_x):
    fake_x.add_client("native-app")
    opened: list[str] = []
    with pytest.raises(OAuthError, match="no answer from the browser"):
        oauth.connect_flow("x", "native-app", None, opened.append, timeout=0.3, api_base=fake_x.url)
    assert len(opened) == 1
    assert fake_x.calls("POST /2/oauth2/token") == []


def test_flow_uses_the_environment_api_base(fake_x, monkeypatch):
    fake_x.add_client("native-app")
    monkeypatch.setenv("MILTON_X_API_BASE", fake_x.url)
    browser = Browser()
    _, ident = oauth.connect_flow("x", "native-app", "", browser, timeout=10)
    browser.join()
    assert browser.opened[0].startswith(fake_x.url + "/i/oauth2/authorize?")
    assert ident.username == "XDevelopers"


# ---------------------------------------------------------------- LinkedIn and Instagram


@pytest.fixture
def fake_linkedin():
    fake = FakeLinkedIn()
    fake.add_member("782bbtaQ", "John Doe")
    with fake:
        yield fake


def test_linkedin_flow_end_to_end(fake_linkedin):
    browser = Browser()
    cred, ident = oauth.connect_flow(
        "linkedin",
        FakeLinkedIn.CLIENT_ID,
        FakeLinkedIn.CLIENT_SECRET,
        browser,
        timeout=10,
        api_base=fake_linkedin.url,
    )
    browser.join()
    assert ident.remote_id == "782bbtaQ"
    assert ident.display_name == "John Doe"
    assert cred.access_token in fake_linkedin.tokens
    form = fake_linkedin.calls("POST /oauth/v2/accessToken")[0].form()
    assert form["code_verifier"]  # PKCE sent and checked by the fake


def _consent_scopes(url: str) -> set[str]:
    return set(parse_qs(urlsplit(url).query)["scope"][0].split())


@pytest.mark.parametrize("pages", [False, True])
def test_linkedin_asks_for_page_scopes_only_when_told(fake_linkedin, pages):
    browser = Browser()
    cred, _ = oauth.connect_flow(
        "linkedin",
        FakeLinkedIn.CLIENT_ID,
        FakeLinkedIn.CLIENT_SECRET,
        browser,
        timeout=10,
        api_base=fake_linkedin.url,
        scope=linkedin.PAGE_SCOPES if pages else None,
    )
    browser.join()
    asked = _consent_scopes(browser.opened[0])
    member = set(linkedin.SCOPES.split())
    assert asked == (set(linkedin.PAGE_SCOPES.split()) if pages else member)
    assert ("w_organization_social" in asked) is pages
    # the token the fake issued carries exactly what the consent page asked for
    assert fake_linkedin.tokens[cred.access_token].scopes == asked


def test_authorize_url_keeps_the_default_scope_without_one():
    url = oauth.authorize_url("linkedin", "id", "http://127.0.0.1:1/callback", "s", None)
    assert _consent_scopes(url) == set(linkedin.SCOPES.split())
    url = oauth.authorize_url(
        "linkedin", "id", "http://127.0.0.1:1/callback", "s", None, scope=linkedin.PAGE_SCOPES
    )
    assert "rw_organization_admin" in _consent_scopes(url)


def test_linkedin_needs_the_client_secret_before_anything_opens(fake_linkedin):
    opened: list[str] = []
    with pytest.raises(OAuthError, match="client secret"):
        oauth.connect_flow("linkedin", "id", "  ", opened.append, api_base=fake_linkedin.url)
    assert opened == []


def test_linkedin_cancelled_consent(fake_linkedin):
    fake_linkedin.consenting_member = None  # the member clicks Cancel
    browser = Browser()
    with pytest.raises(OAuthError, match="not granted"):
        oauth.connect_flow(
            "linkedin",
            FakeLinkedIn.CLIENT_ID,
            FakeLinkedIn.CLIENT_SECRET,
            browser,
            timeout=10,
            api_base=fake_linkedin.url,
        )
    assert "Access not granted" in browser.join().text


def test_instagram_flow_end_to_end():
    fake = FakeInstagram()
    fake.add_app("ig-app", "ig-secret")
    with fake:

        def consent(url: str) -> str:
            # the fake has no consent page: approve as Instagram would, then redirect
            q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
            assert "code_challenge" not in q
            code = fake.issue_code(q["client_id"], q["redirect_uri"]).removesuffix("#_")
            return f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"

        browser = Browser(consent)
        cred, ident = oauth.connect_flow(
            "instagram", "ig-app", "ig-secret", browser, timeout=10, api_base=fake.url
        )
        browser.join()
    assert ident.remote_id == "17841400008460056"
    assert ident.username == "milton.studio"
    assert cred.access_token.startswith("IGAAlong")
    assert cred.client_secret is None  # Instagram's refresh needs only the token
