"""Connecting, listing pages, renewing and signing in, against fake platforms that echo
the token they were sent: in an identity's name, in an error, percent-encoded or
JSON-escaped. No token reaches an account row, a message or the log."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential, basic_auth
from milton_desktop.domain.errors import OperationFailed
from milton_desktop.logsetup import setup_logging
from milton_desktop.operations import accounts
from milton_desktop.publishers import oauth
from milton_desktop.publishers.base import AuthExpired
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, database
from tests.fakes.instagram import FakeInstagram
from tests.fakes.linkedin import PAGE_SCOPES, FakeLinkedIn, Token
from tests.fakes.server import ECHO_ENCODINGS
from tests.fakes.x import FakeX

X_TOKEN = "x-ECHO/access+tok=1234567890"
IG_TOKEN = "IGAA-ECHO/ig+token=0987654321"
LI_TOKEN = "AQV-ECHO/li+token=1122334455"
ALL = (X_TOKEN, IG_TOKEN, LI_TOKEN)


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore("test")


@pytest.fixture
def log_file(tmp_path):
    milton = logging.getLogger("milton")
    before = (milton.level, milton.propagate)
    path = setup_logging(tmp_path / "logs", verbose=True, stderr=False)
    yield path
    for handler in list(milton.handlers):
        milton.removeHandler(handler)
        handler.close()
    milton.setLevel(before[0])
    milton.propagate = before[1]


def _logged(path) -> str:
    for handler in logging.getLogger("milton").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def _kept() -> str:
    rows = database.execute_sql("SELECT * FROM accounts").fetchall()
    return "\n".join(str(v) for row in rows for v in row if v is not None)


def masked(text: str) -> bool:
    """Whether a secret was masked in ``text`` (X's publisher masks with ``***``)."""
    return "[redacted]" in text or "***" in text


def assert_clean(*texts: str, secrets=ALL) -> None:
    for text in texts:
        for secret in secrets:
            for name, encode in ECHO_ENCODINGS.items():
                assert encode(secret) not in text, f"the {name} form of a secret in {text!r}"


@pytest.fixture
def x():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token=X_TOKEN)
        yield fake


@pytest.fixture
def instagram():
    with FakeInstagram() as fake:
        fake.add_token(IG_TOKEN, username="milton.studio")
        yield fake


@pytest.fixture
def linkedin():
    with FakeLinkedIn() as fake:
        fake.add_member("782bbtaQ", "John Doe")
        fake.tokens[LI_TOKEN] = Token("782bbtaQ", PAGE_SCOPES, fake.clock() + 86400)
        fake.add_organization(2414183, "Milton Labs", "milton-labs", admins=["782bbtaQ"])
        yield fake


# ---------------------------------------------------------------- pasted tokens


@pytest.mark.parametrize("encoding", ["raw", "json-escaped", "percent"])
def test_an_x_identity_that_echoes_the_token_is_stored_without_it(creds, x, log_file, encoding):
    x.inject_echo(
        "GET /2/users/me",
        {"data": {"id": "2244994945", "username": "{secret}", "name": "Milton {secret}"}},
        status=200,
        encoding=encoding,
    )
    view = accounts.connect_with_token(creds, "x", "", X_TOKEN, api_base=x.url)
    assert view.username == "[redacted]" and view.display_name == "X @[redacted]"
    assert creds.load("x", view.id).access_token == X_TOKEN  # the token itself is kept
    assert_clean(_kept(), view.display_name, _logged(log_file))


@pytest.mark.parametrize("encoding", sorted(ECHO_ENCODINGS))
def test_an_x_refusal_that_echoes_the_token_is_reported_without_it(creds, x, log_file, encoding):
    x.inject_echo(
        "GET /2/users/me",
        {"title": "Invalid Request", "detail": "header {authorization} is malformed"},
        encoding=encoding,
    )
    with pytest.raises(OperationFailed) as err:
        accounts.connect_with_token(creds, "x", "hq", X_TOKEN, api_base=x.url)
    assert "is malformed" in str(err.value) and masked(str(err.value))
    assert_clean(str(err.value), _kept(), _logged(log_file))
    assert Account.select().count() == 0


@pytest.mark.parametrize("encoding", ["raw", "percent", "percent-lower"])
def test_instagram_identity_and_errors_that_echo_the_token(creds, instagram, encoding):
    instagram.inject_echo(
        r"GET /v[\d.]+/me",
        {"error": {"message": "Invalid parameter near {secret}", "type": "x", "code": 100}},
        encoding=encoding,
    )
    with pytest.raises(OperationFailed) as err:
        accounts.connect_with_token(creds, "instagram", "studio", IG_TOKEN, api_base=instagram.url)
    assert "Invalid parameter near [redacted]" in str(err.value)
    assert_clean(str(err.value))

    instagram.inject_echo(
        r"GET /v[\d.]+/me",
        {"user_id": "17841400008460056", "username": "{secret}"},
        status=200,
        encoding=encoding,
    )
    view = accounts.connect_with_token(creds, "instagram", "", IG_TOKEN, api_base=instagram.url)
    assert view.username == "[redacted]"
    assert_clean(_kept(), view.display_name)


def test_linkedin_page_names_that_echo_the_token_name_no_account_after_it(creds, linkedin):
    linkedin.inject_echo(
        r"GET /rest/organizations/2414183",
        {"id": 2414183, "localizedName": "Labs {secret}", "vanityName": "{secret}"},
        status=200,
        encoding="json-escaped",
        times=2,
    )
    credential = Credential(LI_TOKEN, extra={"scope": " ".join(sorted(PAGE_SCOPES))})
    (page,) = accounts.list_pages("linkedin", credential, linkedin.url)
    assert page.display_name == "Labs [redacted]" and page.username == "[redacted]"
    (view,) = accounts.connect_pages(creds, "linkedin", credential, [page], linkedin.url)
    assert_clean(_kept(), view.display_name, page.display_name)

    linkedin.inject_echo(
        r"GET /rest/organizationAcls",
        {"status": 400, "message": "bad request for {authorization}"},
        encoding="percent",
    )
    with pytest.raises(OperationFailed) as err:
        accounts.list_pages("linkedin", credential, linkedin.url)
    assert_clean(str(err.value))


def test_a_linkedin_page_given_with_page_that_echoes_the_token(creds, linkedin):
    linkedin.inject_echo(
        r"GET /v2/userinfo",
        {"sub": "782bbtaQ", "name": "John {secret}"},
        status=200,
    )
    linkedin.inject_echo(
        r"GET /rest/organizations/2414183",
        {"id": 2414183, "localizedName": "Labs {secret}", "vanityName": "{secret}"},
        status=200,
        encoding="percent",
    )
    view = accounts.connect_with_token(
        creds, "linkedin", "Labs", LI_TOKEN, api_base=linkedin.url, page="2414183"
    )
    assert view.remote_id == "urn:li:organization:2414183"
    assert view.username == "[redacted]"
    assert_clean(_kept())


# ---------------------------------------------------------------- renewal


def test_a_renewal_refused_with_the_token_echoed_says_so_without_it(creds, instagram, log_file):
    clock = FakeClock()
    instagram.inject_echo(
        r"GET /refresh_access_token",
        {"error": {"message": "Token {secret} cannot be refreshed", "type": "x", "code": 190}},
        encoding="percent",
        times=2,
    )
    view = accounts.connect_with_token(
        creds, "instagram", "studio", IG_TOKEN, api_base=instagram.url
    )
    Account.update(created_at=clock.now() - timedelta(days=8)).where(
        Account.id == view.id
    ).execute()

    with pytest.raises(OperationFailed) as err:
        accounts.renew_token(creds, "studio", clock=clock)
    assert "Token [redacted] cannot be refreshed" in str(err.value)
    assert Account.get_by_id(view.id).status == "needs_reconnect"

    Account.update(status="connected").where(Account.id == view.id).execute()
    assert accounts.upkeep_tokens(creds, clock=clock) == []  # the scheduler's daily pass
    logged = _logged(log_file)
    assert "not renewed" in logged and "[redacted]" in logged
    assert_clean(str(err.value), logged, _kept())


# ---------------------------------------------------------------- browser sign-in


def _consent_x(fake: FakeX):
    """Approve as the user would, and send the browser back with the code."""
    import threading

    import requests

    def browser(url: str) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        code = fake.issue_code(q["client_id"], q["redirect_uri"], q["code_challenge"], "2244994945")
        back = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        threading.Thread(target=lambda: requests.get(back, timeout=10), daemon=True).start()

    return browser


@pytest.mark.parametrize("encoding", ["raw", "percent", "json-escaped"])
def test_a_sign_in_refused_with_what_was_sent_echoed(x, log_file, encoding):
    secret = "conf-ECHO/client+secret=42"
    x.add_client("conf-app", secret=secret)
    x.inject_echo(
        "POST /2/oauth2/token",
        {
            "error": "invalid_request",
            "error_description": "code {secret} refused for {authorization}",
        },
        secret="code",
        encoding=encoding,
    )
    with pytest.raises(AuthExpired) as err:
        oauth.connect_flow("x", "conf-app", secret, _consent_x(x), timeout=10, api_base=x.url)
    (call,) = x.calls("POST /2/oauth2/token")
    code = call.form()["code"][0]
    sent = (code, secret, basic_auth("conf-app", secret))
    assert "refused for" in str(err.value) and masked(str(err.value))
    assert_clean(str(err.value), _logged(log_file), secrets=sent)


def test_a_signed_in_identity_that_echoes_the_new_token(x):
    x.add_client("native-app")
    x.inject_echo(
        "GET /2/users/me",
        {"data": {"id": "2244994945", "username": "{secret}", "name": "{secret}"}},
        status=200,
        encoding="percent",
    )
    credential, identity = oauth.connect_flow(
        "x", "native-app", None, _consent_x(x), timeout=10, api_base=x.url
    )
    assert identity.username == "[redacted]" and identity.display_name == "[redacted]"
    assert credential.access_token in x.tokens
