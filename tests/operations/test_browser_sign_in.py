"""Browser sign-in where Milton registers itself (Mastodon), over real HTTP: the fake
instance, the loopback receiver, a "browser" that follows the consent page, a real
SQLite file and the keyring the registration is kept in."""

from __future__ import annotations

import json
import logging
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from milton_desktop.domain.errors import UserError
from milton_desktop.operations import accounts, browser_sign_in
from milton_desktop.paths import resolve_paths
from milton_desktop.publishers import mastodon
from milton_desktop.publishers.oauth import OAuthError
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import SERVICE, CredentialStore
from milton_desktop.storage.models import Account
from tests.fakes.mastodon import FakeMastodon


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore(settings.install_id())


@pytest.fixture
def fake():
    with FakeMastodon() as server:
        server.add_user("109876", "milton", "Milton HQ", token="pasted-token")
        yield server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """Follows the consent page (the fake approves at once) to the loopback redirect."""

    def __init__(self) -> None:
        self.opened: list[str] = []

    def __call__(self, url: str) -> None:
        self.opened.append(url)

        def follow() -> None:
            with requests.Session() as session:
                session.trust_env = False
                session.get(url, timeout=10)

        threading.Thread(target=follow, daemon=True).start()

    def query(self, n: int = -1) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.opened[n]).query).items()}


def _sign_in(creds, fake, port, **kwargs):
    return browser_sign_in.sign_in(
        creds, "mastodon", kwargs.pop("browser", Browser()), server=fake.url, port=port,
        timeout=10, **kwargs,
    )  # fmt: skip


def _kept(memory_keyring) -> dict[str, dict]:
    return {
        user: json.loads(value)
        for (service, user), value in memory_keyring.store.items()
        if service == SERVICE and user.startswith("mastodon-app:")
    }


@pytest.mark.sqlite_only("reads the home's database file for the secret")
def test_first_sign_in_registers_milton_and_connects(creds, fake, memory_keyring, caplog):
    caplog.set_level(logging.DEBUG)
    fake.max_characters = 1000
    port = _free_port()
    browser = Browser()
    credential, identity = _sign_in(creds, fake, port, browser=browser)

    (register,) = fake.calls("POST /api/v1/apps")
    sent = register.json()
    redirect = f"http://127.0.0.1:{port}/callback"
    assert sent == {
        "client_name": "Milton Desktop",
        "redirect_uris": redirect,
        "scopes": "write:statuses write:media profile",
    }
    (app,) = fake.apps.values()
    # the consent page: this app, this redirect, its scopes, PKCE S256, a fresh login
    page = browser.query()
    assert browser.opened[0].startswith(fake.url + "/oauth/authorize?")
    assert page["client_id"] == app.client_id and page["redirect_uri"] == redirect
    assert page["scope"] == "write:statuses write:media profile"
    assert page["code_challenge_method"] == "S256" and page["state"]
    assert fake.force_logins == [True]
    token_form = next(
        r.form() for r in fake.calls("POST /oauth/token") if "code" in r.form()
    )  # fmt: skip
    assert token_form["grant_type"] == ["authorization_code"]
    assert token_form["redirect_uri"] == [redirect] and token_form["code_verifier"]
    # identified exactly as a pasted token is: who, and the instance's limits
    assert (identity.remote_id, identity.username) == ("109876", "milton@fake.social")
    assert identity.tier and identity.tier.startswith("i1000.")
    assert credential.expires_at is None and credential.refresh_token is None
    view = accounts.connect_account(creds, "mastodon", "", credential, identity, fake.url)
    acc = Account.get_by_id(view.id)
    assert (acc.api_base, acc.tier) == (fake.url, identity.tier)
    # the registration is kept in the keyring, for this instance and redirect only...
    (kept,) = _kept(memory_keyring).values()
    assert kept["client_id"] == app.client_id and kept["client_secret"] == app.secret
    assert (kept["server"], kept["redirect_uri"]) == (fake.url, redirect)
    # ...and its secret is nowhere else: not in the database, not in the log
    database = resolve_paths().db_path.read_bytes()
    assert app.secret.encode() not in database and app.client_id.encode() not in database
    assert app.secret not in caplog.text and credential.access_token not in caplog.text


def test_the_next_sign_in_reuses_the_registration(creds, fake, memory_keyring):
    port = _free_port()
    _sign_in(creds, fake, port)
    checks = len(fake.calls("POST /oauth/token"))
    browser = Browser()
    _, identity = _sign_in(creds, fake, port, browser=browser, new_account=False)
    assert len(fake.calls("POST /api/v1/apps")) == 1  # registered once
    assert len(fake.apps) == 1 and browser.query()["client_id"] in fake.apps
    # checked with the instance first (an app token), then the code exchanged
    grants = [r.form()["grant_type"] for r in fake.calls("POST /oauth/token")[checks:]]
    assert grants == [["client_credentials"], ["authorization_code"]]
    assert fake.force_logins == [True, False]  # a reconnect takes the signed-in user
    assert identity.remote_id == "109876"


def test_a_registration_the_instance_forgot_is_made_again(creds, fake, memory_keyring):
    port = _free_port()
    _sign_in(creds, fake, port)
    (old,) = _kept(memory_keyring).values()
    fake.forget_apps()
    _, identity = _sign_in(creds, fake, port)
    assert len(fake.calls("POST /api/v1/apps")) == 2
    (new,) = _kept(memory_keyring).values()
    assert new["client_id"] != old["client_id"] and new["client_id"] in fake.apps
    assert identity.remote_id == "109876"


def test_forgotten_during_the_sign_in_asks_to_start_again(creds, fake, memory_keyring):
    port = _free_port()
    fake.forget_apps_after_authorize = True
    with pytest.raises(OAuthError, match="start it again"):
        _sign_in(creds, fake, port)
    assert _kept(memory_keyring) == {}  # the next sign-in registers anew
    fake.forget_apps_after_authorize = False
    _, identity = _sign_in(creds, fake, port)
    assert identity.remote_id == "109876" and len(fake.calls("POST /api/v1/apps")) == 2


def test_another_port_is_another_registration(creds, fake, memory_keyring):
    first, second = _free_port(), _free_port()
    _sign_in(creds, fake, first)
    _sign_in(creds, fake, second)
    redirects = sorted(r.json()["redirect_uris"] for r in fake.calls("POST /api/v1/apps"))
    assert redirects == sorted(f"http://127.0.0.1:{p}/callback" for p in (first, second))
    assert len(_kept(memory_keyring)) == 2


def test_a_server_before_4_3_is_asked_for_read_accounts(creds, fake):
    fake.oauth_metadata = False  # no metadata document, no profile scope
    browser = Browser()
    _, identity = _sign_in(creds, fake, _free_port(), browser=browser)
    assert fake.calls("POST /api/v1/apps")[0].json()["scopes"] == mastodon.LEGACY_SCOPES
    assert browser.query()["scope"] == "write:statuses write:media read:accounts"
    assert identity.remote_id == "109876"


def test_a_server_address_is_needed_and_must_be_safe(creds):
    with pytest.raises(UserError, match="many independent servers"):
        browser_sign_in.sign_in(creds, "mastodon", Browser(), timeout=1)
    with pytest.raises(UserError, match="https://"):
        browser_sign_in.sign_in(creds, "mastodon", Browser(), server="http://example.org")


def test_threads_has_no_browser_sign_in_and_says_why(creds):
    with pytest.raises(UserError, match="https"):
        browser_sign_in.sign_in(creds, "threads", Browser(), client_id="1", client_secret="s")
