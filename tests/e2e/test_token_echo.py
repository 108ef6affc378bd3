"""Platforms that echo the token back (in an error, in the name of the account, in a
post id, percent-encoded or JSON-escaped), met by the real command line in
subprocesses, with the real keyring: afterwards no token, refresh token or client
secret, in any of those forms, is in the database file or its WAL, the log, any
``--json`` output, or anything printed."""

from __future__ import annotations

import base64
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.instagram import FakeInstagram, MediaHost
from tests.fakes.linkedin import PAGE_SCOPES, FakeLinkedIn, Token
from tests.fakes.server import ECHO_ENCODINGS
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

# tokens with the characters encoders change, so each echoed form differs from the raw one
X_ACCESS = "x-ECHO/access+token=0a1b2c3d4e"
X_REFRESH = "x-ECHO/refresh+token=5f6a7b8c9d"
X_CLIENT_SECRET = "x-ECHO/client+secret=e1f2a3b4"
IG_TOKEN = "IGAA-ECHO/ig+token=0123456789abcdef"
LI_ACCESS = "AQV-ECHO/li+access=fedcba9876543210"
LI_REFRESH = "AQX-ECHO/li+refresh=0011223344556677"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Witness:
    """Runs the command line and keeps everything a user or a script could read."""

    def __init__(self, cli, home: Path) -> None:
        self.cli = cli
        self.home = home
        self.printed: list[str] = []

    def __call__(self, *args: str, stdin: str | None = None):
        r = self.cli(*args, stdin=stdin)
        self.printed.append(f"$ {' '.join(args)}\n{r.stdout}\n{r.stderr}")
        return r

    def add_account(self, platform: str, name: str, base: str, token: str, *extra: str):
        return self(
            "account",
            "add",
            platform,
            "--name",
            name,
            "--api-base",
            base,
            *extra,
            "--token-stdin",
            stdin=token + "\n",
        )

    def publish_once(self, text: str, account: str, **media: str):
        """Write a post, schedule it for now, and let `run --once` publish it."""
        args = ["post", "add", "--text", text]
        if media.get("url"):
            args += ["--media-url", media["url"]]
        post_id = self(*args).stdout.strip()
        r = self("schedule", post_id, "--account", account, "--at", _now())
        assert r.returncode == 0, r.stderr
        return self("-v", "run", "--once")

    def set_credential(self, platform: str, account_id: int, credential) -> None:
        """What the browser sign-in would have stored: a refresh token and the app's
        secret as well as the access token (a pasted token has neither)."""
        from milton_desktop.context import open_context

        ctx = open_context(None, stderr_logging=False)
        ctx.credentials.save(platform, account_id, credential)

    def age_accounts(self, age: timedelta) -> None:
        """Make every account as old as ``age`` (its token is that old too)."""
        from milton_desktop.context import open_context
        from milton_desktop.storage.models import Account

        open_context(None, stderr_logging=False)
        Account.update(created_at=datetime.now(UTC) - age).execute()

    def rows(self) -> list[dict]:
        r = self("list", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def assert_nothing_leaked(self, secrets: list[str]) -> None:
        # every listing a script could read, once more, after everything happened
        for args in (
            ("list", "--json"),
            ("upcoming", "--json"),
            ("status", "--json"),
            ("account", "list", "--json"),
            ("account", "list"),
            ("list",),
        ):
            self(*args)
        blobs: dict[str, bytes] = {"printed": "\n".join(self.printed).encode()}
        for path in self.home.rglob("*"):
            if path.is_file() and "media" not in path.parts:
                # the database file, its -wal and -shm (whatever is left once the
                # processes ended), the log and its rotations, the lock file
                blobs[str(path.relative_to(self.home))] = path.read_bytes()
        assert any(name.endswith("milton.log") for name in blobs), sorted(blobs)
        assert "milton.sqlite3" in blobs
        con = sqlite3.connect(self.home / "milton.sqlite3")
        blobs["database, row by row"] = "\n".join(con.iterdump()).encode()
        con.close()
        forms = {
            f"{name} form of {secret!r}": encode(secret).encode()
            for secret in secrets
            for name, encode in ECHO_ENCODINGS.items()
        }
        for where, blob in blobs.items():
            for form, value in forms.items():
                assert value not in blob, f"the {form} leaked into {where}"


@pytest.fixture
def witness(cli, milton_home):
    return Witness(cli, milton_home)


def _basic(client_id: str, secret: str) -> str:
    return base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# ---------------------------------------------------------------- X


def test_x_echoing_its_tokens_leaks_none(witness):
    from milton_desktop.domain.credential import Credential

    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token=X_ACCESS)
        fake.add_client("client-1", X_CLIENT_SECRET)
        fake.add_refresh_token(X_REFRESH, "2244994945", "client-1")

        # account add: refused, with the bearer header echoed percent-encoded
        fake.inject_echo(
            "GET /2/users/me",
            {"title": "Invalid Request", "detail": "bad header {authorization}"},
            encoding="percent",
        )
        r = witness.add_account("x", "hq", fake.url, X_ACCESS)
        assert r.returncode == 1 and "X refused the request" in r.stderr

        # account add: accepted, but the identity echoes the token as the user's name
        fake.inject_echo(
            "GET /2/users/me",
            {"data": {"id": "2244994945", "username": "{secret}", "name": "Milton {secret}"}},
            status=200,
        )
        r = witness.add_account("x", "hq", fake.url, X_ACCESS)
        assert r.returncode == 0, r.stderr
        assert "as [redacted]" in r.stdout
        witness.set_credential(
            "x",
            1,
            Credential(
                X_ACCESS,
                refresh_token=X_REFRESH,
                client_id="client-1",
                client_secret=X_CLIENT_SECRET,
            ),
        )

        # run --once: refusals that echo the token, each in another form and field
        forbidden = "https://api.twitter.com/2/problems/client-forbidden"
        for encoding, status, template in (
            ("raw", 400, {"title": "Invalid Request", "detail": "token {secret} not valid"}),
            ("json-escaped", 403, {"title": "Forbidden", "detail": "for {authorization}"}),
            ("percent-lower", 400, {"title": "Invalid Request", "detail": "?token={secret}"}),
            ("html", 400, {"title": "Invalid Request", "detail": "<b>{secret}</b>"}),
            # the reason of a client-forbidden answer, a field no publisher scrubs
            ("percent", 403, {"type": forbidden, "reason": "{secret}"}),
        ):
            fake.inject_echo("POST /2/tweets", template, status=status, encoding=encoding)
            r = witness.publish_once(f"refused ({encoding})", "hq")
            assert r.returncode == 1 and "\tfailed\t" in r.stdout, r.stdout + r.stderr

        # a success whose answer puts the token in the post's id
        fake.inject_echo(
            "POST /2/tweets",
            {"data": {"id": "{secret}", "text": "posted"}},
            status=201,
            when="after",
            encoding="percent-twice",
        )
        r = witness.publish_once("posted", "hq")
        assert r.returncode == 0 and "\tpublished\t" in r.stdout, r.stdout + r.stderr
        assert len(fake.tweets) == 1

        # an expired token, refreshed mid-attempt; the replay's refusal echoes the old
        # token and the new one
        fake.inject("POST /2/tweets", status=401, body={"title": "Unauthorized", "status": 401})
        fake.inject_echo(
            "POST /2/tweets",
            {"title": "Invalid Request", "detail": f"was {X_ACCESS}, now {{secret}}"},
            encoding="form",
        )
        r = witness.publish_once("refreshed, then refused", "hq")
        assert "\tfailed\t" in r.stdout, r.stdout + r.stderr
        assert len(fake.calls("POST /2/oauth2/token")) == 1

        # a refresh refused, echoing the refresh token and the client's Basic header
        fake.inject("POST /2/tweets", status=401, body={"title": "Unauthorized", "status": 401})
        fake.inject_echo(
            "POST /2/oauth2/token",
            {
                "error": "invalid_request",
                "error_description": "refresh_token {secret} of {authorization}",
            },
            encoding="json-escaped",
        )
        r = witness.publish_once("refresh refused", "hq")
        assert "\tfailed\t" in r.stdout, r.stdout + r.stderr

        rows = {row["text"]: row for row in witness.rows()}
        assert rows["posted"]["status"] == "published"
        assert "[redacted]" in rows["posted"]["remote_id"]
        assert "token *** not valid" in rows["refused (raw)"]["error"]  # X masks with ***
        assert "[redacted]" in rows["refused (percent)"]["error"]
        accounts = json.loads(witness("account", "list", "--json").stdout)
        assert [a["username"] for a in accounts] == ["[redacted]"]
        assert accounts[0]["status"] == "needs_reconnect"

    secrets = [X_ACCESS, X_REFRESH, X_CLIENT_SECRET, _basic("client-1", X_CLIENT_SECRET)]
    secrets += list(fake.tokens) + list(fake.refresh_tokens)  # what the refresh issued
    witness.assert_nothing_leaked(secrets)


# ---------------------------------------------------------------- Instagram


def test_instagram_echoing_its_token_leaks_none(witness, milton_home):
    from tests.publishers.test_instagram import make_jpeg

    with FakeInstagram() as fake, MediaHost() as cdn:
        fake.add_token(IG_TOKEN, user_id="17841400008460056", username="milton.studio")
        image = cdn.add("/square.jpg", make_jpeg(1080, 1080))

        # account add: the Graph identity echoes the token as the username
        fake.inject_echo(
            r"GET /v[\d.]+/me",
            {"user_id": "17841400008460056", "username": "{secret}"},
            status=200,
            encoding="percent-lower",
        )
        r = witness.add_account("instagram", "studio", fake.url, IG_TOKEN)
        assert r.returncode == 0, r.stderr

        # run --once: the container is refused with the token in Graph's message
        for encoding in ("raw", "percent", "json-escaped"):
            fake.inject_echo(
                r"POST /v[\d.]+/\d+/media",
                {
                    "error": {
                        "message": "Invalid parameter: access_token {secret}",
                        "type": "OAuthException",
                        "code": 100,
                        "error_user_msg": "token {secret} was sent",
                    }
                },
                encoding=encoding,
            )
            r = witness.publish_once(f"refused ({encoding})", "studio", url=image)
            assert "\tfailed\t" in r.stdout, r.stdout + r.stderr

        # token renewal, refused with the token echoed: by the scheduler's daily pass
        # (a token of unknown expiry is renewed weekly), then by `account refresh`
        witness.age_accounts(timedelta(days=8))
        fake.inject_echo(
            r"GET /refresh_access_token",
            {
                "error": {
                    "message": "Cannot refresh {secret}",
                    "type": "OAuthException",
                    "code": 190,
                }
            },
            encoding="percent",
            times=2,
        )
        r = witness("-v", "run", "--once")
        assert r.returncode == 0, r.stderr
        assert len(fake.calls(r"GET /refresh_access_token")) == 1
        r = witness("account", "refresh", "studio")
        assert r.returncode == 1 and "Cannot refresh [redacted]" in r.stderr, r.stderr
        log = (milton_home / "logs" / "milton.log").read_text()
        assert "not renewed" in log

    witness.assert_nothing_leaked([IG_TOKEN] + [t for t in fake.tokens if t != IG_TOKEN])


# ---------------------------------------------------------------- LinkedIn


def test_linkedin_echoing_its_tokens_leaks_none(witness):
    from milton_desktop.domain.credential import Credential

    with FakeLinkedIn() as fake:
        fake.add_member("782bbtaQ", "Jo Writer")
        fake.tokens[LI_ACCESS] = Token("782bbtaQ", PAGE_SCOPES, fake.clock() + 86400)
        fake.add_organization(2414183, "Milton Labs", "milton-labs", admins=["782bbtaQ"])

        # account add: who the token is for, refused with the bearer header echoed
        fake.inject_echo(
            r"GET /v2/userinfo",
            {"status": 400, "message": "cannot read {authorization}"},
            encoding="json-escaped",
        )
        r = witness.add_account("linkedin", "labs", fake.url, LI_ACCESS)
        assert r.returncode == 1, r.stdout

        # account add as a page: the page's names echo the token
        fake.inject_echo(
            r"GET /rest/organizations/2414183",
            {"id": 2414183, "localizedName": "Labs {secret}", "vanityName": "{secret}"},
            status=200,
            encoding="percent",
        )
        r = witness.add_account("linkedin", "labs", fake.url, LI_ACCESS, "--page", "2414183")
        assert r.returncode == 0, r.stderr
        witness.set_credential(
            "linkedin",
            1,
            Credential(
                LI_ACCESS,
                refresh_token=LI_REFRESH,
                client_id=FakeLinkedIn.CLIENT_ID,
                client_secret=FakeLinkedIn.CLIENT_SECRET,
                extra={"scope": " ".join(sorted(PAGE_SCOPES))},
            ),
        )

        # run --once: the post refused, the token in LinkedIn's message
        fake.inject_echo(
            r"POST /rest/posts",
            {"status": 422, "message": "invalid author for {authorization}"},
            status=422,
            encoding="percent-lower",
        )
        r = witness.publish_once("refused", "labs")
        assert "\tfailed\t" in r.stdout, r.stdout + r.stderr

        # an expired token whose refresh is refused, echoing what the refresh sent
        fake.inject(r"POST /rest/posts", status=401, body={"status": 401, "message": "expired"})
        fake.inject_echo(
            r"POST /oauth/v2/accessToken",
            {
                "error": "invalid_grant",
                "error_description": f"{LI_REFRESH} with client_secret={{secret}}",
            },
            status=400,
            secret="client_secret",
            encoding="percent",
        )
        r = witness.publish_once("refresh refused", "labs")
        assert "\tfailed\t" in r.stdout, r.stdout + r.stderr
        accounts = json.loads(witness("account", "list", "--json").stdout)
        assert accounts[0]["username"] == "[redacted]"

    witness.assert_nothing_leaked(
        [LI_ACCESS, LI_REFRESH, FakeLinkedIn.CLIENT_SECRET]
        + [t for t in fake.tokens if t != LI_ACCESS]
    )
