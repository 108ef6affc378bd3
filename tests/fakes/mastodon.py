"""A fake Mastodon instance enforcing the contract of NEXT_PLATFORMS.md section 1.

- ``GET /api/v2/instance`` (no auth) with configurable limits;
  ``GET /api/v1/accounts/verify_credentials``.
- ``POST /api/v2/media`` (multipart ``file`` + ``description``): 200 with ``url`` for
  an image, 202 with ``url: null`` for a video, then ``GET /api/v1/media/:id`` answers
  206 for ``processing_polls`` polls, then 200; 404 once attached to a status.
- ``POST /api/v1/statuses`` (JSON or form): the length is counted as Mastodon does
  (grapheme clusters, every link 23 characters, ``@user@domain`` as ``@user``); at
  most ``max_media`` attachments, images and a video not mixed; 422 while media are
  processing; an ``Idempotency-Key`` seen before for the same account returns the
  status it created (even for a different body) for ``key_lifetime`` seconds.
- Metrics: ``GET /api/v1/statuses/:id`` (404 once deleted) with ``favourites_count``,
  ``reblogs_count``, ``replies_count`` and, where :attr:`FakeMastodon.has_quotes`,
  ``quotes_count``; ``GET /api/v1/statuses?id[]=…`` (4.3+, at most
  :data:`MAX_IDS`, the missing ones left out), 404 when
  :attr:`FakeMastodon.batch_lookup` is off, as an older server answers it.
- Errors as Mastodon sends them: ``{"error": "..."}``; 429 carries
  ``X-RateLimit-Reset`` as an ISO 8601 instant (:meth:`FakeMastodon.rate_limit`).
- Signing in (NEXT_PLATFORMS.md 1.2-1.3): ``POST /api/v1/apps`` registers an app
  (only confidential clients: a secret always comes back; scopes the server does not
  know are refused); ``GET /.well-known/oauth-authorization-server`` (4.3+, 404 with
  ``oauth_metadata = False``, which also drops the ``profile`` scope, as before 4.3);
  ``GET /oauth/authorize`` approves at once as :attr:`FakeMastodon.authorizing_user`
  and redirects with ``code`` and ``state``, refusing an unknown client (an error
  page, no redirect), a redirect URI not registered for the app (compared exactly,
  port included), a scope the app was not registered with, and a missing or non-S256
  PKCE challenge; ``POST /oauth/token`` with ``authorization_code`` checks the client
  secret (401 ``invalid_client``), the code (once only), the same redirect URI and the
  PKCE verifier (400 ``invalid_grant``); ``client_credentials`` gives an app token.
  Tokens never expire. :meth:`FakeMastodon.forget_apps` is an instance that vacuumed
  or lost its registrations.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.server import FakeServer, Reply, Request, bearer


def _error(status: int, message: str) -> Reply:
    return Reply(status, {"error": message})


@dataclass
class _User:
    id: str
    username: str
    display_name: str


@dataclass
class _App:
    client_id: str
    secret: str
    name: str
    redirect_uris: list[str]
    scopes: frozenset[str]
    app_tokens: list[str] = field(default_factory=list)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    user: _User
    scopes: frozenset[str]
    used: bool = False


#: what Mastodon's Doorkeeper configuration accepts (a selection), ``profile`` from 4.3
KNOWN_SCOPES = frozenset(
    {"read", "write", "follow", "push", "read:accounts", "read:statuses", "write:statuses",
     "write:media", "write:accounts", "write:favourites"}
)  # fmt: skip
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication "
    "included, or unsupported authentication method."
)


@dataclass
class _Media:
    id: str
    owner: str
    kind: str
    description: str
    size: int
    polls_left: int
    attached: bool = False


_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_MENTION = re.compile(r"(@[a-z0-9_][a-z0-9_.-]*)@[a-z0-9.-]+\.[a-z]+", re.IGNORECASE)


def fake_length(text: str, url_chars: int = 23) -> int:
    """Mastodon's count, written apart from the client's: links and remote mentions
    replaced, then grapheme clusters (extend marks, ZWJ sequences and flags join)."""

    def url(m: re.Match[str]) -> str:
        link = m.group(0).rstrip(".,:;!?'\")]}")
        return "x" * url_chars + m.group(0)[len(link) :]

    text = _MENTION.sub(lambda m: m.group(1), _URL.sub(url, text)).replace("\r\n", "\n")
    clusters = 0
    after_zwj = False
    flags = 0
    for ch in text:
        cp = ord(ch)
        if after_zwj:
            after_zwj = False
            continue
        if ch == "\u200d":
            after_zwj = True
            continue
        extend = (
            unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0xFE00 <= cp <= 0xFE0F
            or 0x1F3FB <= cp <= 0x1F3FF
            or 0xE0020 <= cp <= 0xE007F
        )
        if extend and clusters:
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:
            flags += 1
            if flags % 2 == 0:
                continue
        else:
            flags = 0
        clusters += 1
    return clusters


#: the most ids one ``GET /api/v1/statuses?id[]=`` takes here
MAX_IDS = 20


class FakeMastodon(FakeServer):
    def __init__(self, domain: str = "fake.social", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.domain = domain
        self.max_characters = 500
        self.max_media = 4
        self.url_chars = 23
        self.image_size_limit = 16 * 1024 * 1024
        self.video_size_limit = 99 * 1024 * 1024
        self.description_limit = 1500
        #: polls of a video answered 206 before it is ready
        self.processing_polls = 2
        #: seconds an Idempotency-Key is remembered
        self.key_lifetime = 3600.0
        self.tokens: dict[str, _User] = {}
        self.media: dict[str, _Media] = {}
        self.statuses: list[dict[str, Any]] = []
        self._keys: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._ids = itertools.count(110_000_000_000_000_001)
        #: signing in: the registered apps by client id, the codes handed out
        self.apps: dict[str, _App] = {}
        self.codes: dict[str, _Code] = {}
        #: who approves on the consent page (default: the first user added)
        self.authorizing_user: _User | None = None
        #: the 4.3+ OAuth metadata document and the ``profile`` scope
        self.oauth_metadata = True
        #: the ``force_login`` of each consent page opened
        self.force_logins: list[bool] = []
        #: forget every app once a code is handed out (lost between check and exchange)
        self.forget_apps_after_authorize = False
        #: the server has ``GET /api/v1/statuses?id[]=`` (Mastodon 4.3+)
        self.batch_lookup = True
        #: statuses carry ``quotes_count`` (servers with quote posts)
        self.has_quotes = False
        #: counters per status id (:meth:`set_counts`)
        self.counts: dict[str, dict[str, int]] = {}
        self.deleted: set[str] = set()

    # ------------------------------------------------------------ set-up
    def add_user(self, user_id: str, username: str, display_name: str, *, token: str) -> None:
        user = self.tokens[token] = _User(user_id, username, display_name)
        if self.authorizing_user is None:
            self.authorizing_user = user

    def user(self, username: str) -> _User:
        return next(u for u in self.tokens.values() if u.username == username)

    def forget_apps(self) -> None:
        """The instance no longer knows any registered app (vacuumed, or revoked)."""
        self.apps.clear()

    def rate_limit(self, route: str, reset: datetime) -> str:
        """The next request to ``route`` gets 429 with an ISO ``X-RateLimit-Reset``."""
        value = reset.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.inject(
            route,
            status=429,
            body={"error": "Too many requests"},
            headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                     "X-RateLimit-Reset": value},
        )  # fmt: skip
        return value

    def set_counts(self, status_id: str, owner: str = "1", **counts: int) -> None:
        """A status of user ``owner`` with these ``*_count`` values (the rest 0)."""
        if not any(st["id"] == status_id for st in self.statuses):
            self.statuses.append(
                {
                    "id": status_id,
                    "account_id": owner,
                    "text": "",
                    "content": "",
                    "url": f"https://{self.domain}/@u/{status_id}",
                    "visibility": "public",
                }
            )
        self.counts[status_id] = {k: int(v) for k, v in counts.items()}

    def _status_view(self, status: dict[str, Any]) -> dict[str, Any]:
        counts = self.counts.get(status["id"], {})
        view = {k: v for k, v in status.items() if k not in ("text", "idempotency_key")}
        for name in ("replies_count", "reblogs_count", "favourites_count"):
            view[name] = counts.get(name, 0)
        if self.has_quotes:
            view["quotes_count"] = counts.get("quotes_count", 0)
        return view

    def _lookup_one(self, status_id: str) -> Reply:
        for st in self.statuses:
            if st["id"] == status_id and status_id not in self.deleted:
                return Reply(200, self._status_view(st))
        return _error(404, "Record not found")

    def _lookup_many(self, req: Request) -> Reply:
        if not self.batch_lookup:
            return _error(404, "Record not found")  # no such route before 4.3
        ids = req.query.get("id[]", [])
        if not ids:
            return _error(422, "Validation failed: id is missing")
        if len(ids) > MAX_IDS:
            return _error(422, f"Too many ids: at most {MAX_IDS}")
        found = [
            self._status_view(st)
            for st in self.statuses
            if st["id"] in ids and st["id"] not in self.deleted
        ]
        return Reply(200, found)

    def status_url(self, status: dict[str, Any]) -> str:
        return status["url"]

    # ------------------------------------------------------------ serving
    def handle(self, req: Request) -> Reply:
        if req.route == "GET /api/v2/instance":
            return Reply(200, self._instance())
        if req.route == "GET /.well-known/oauth-authorization-server":
            if not self.oauth_metadata:
                return _error(404, "Record not found")
            return Reply(200, self._oauth_metadata())
        if req.route == "POST /api/v1/apps":
            return self._register(req)
        if req.route == "GET /oauth/authorize":
            return self._authorize(req)
        if req.route == "POST /oauth/token":
            return self._token(req)
        user = self.tokens.get(bearer(req) or "")
        if user is None:
            return _error(401, "The access token is invalid")
        if req.route == "GET /api/v1/accounts/verify_credentials":
            return Reply(200, self._account(user))
        if req.route == "POST /api/v2/media":
            return self._upload(req, user)
        m = re.fullmatch(r"GET /api/v1/media/(\w+)", req.route)
        if m:
            return self._poll(m.group(1), user)
        if req.route == "POST /api/v1/statuses":
            return self._create(req, user)
        if req.route == "GET /api/v1/statuses":
            return self._lookup_many(req)
        m = re.fullmatch(r"GET /api/v1/statuses/(\d+)", req.route)
        if m:
            return self._lookup_one(m.group(1))
        return _error(404, "Record not found")

    def _instance(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "version": "4.5.0",
            "api_versions": {"mastodon": 7},
            "configuration": {
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": self.max_media,
                    "characters_reserved_per_url": self.url_chars,
                },
                "media_attachments": {
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "video/mp4"],
                    "description_limit": self.description_limit,
                    "image_size_limit": self.image_size_limit,
                    "video_size_limit": self.video_size_limit,
                },
            },
        }

    def _account(self, user: _User) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.username,
            "acct": user.username,
            "display_name": user.display_name,
            "url": f"https://{self.domain}/@{user.username}",
        }

    def _upload(self, req: Request, user: _User) -> Reply:
        fields = _multipart(req)
        if fields is None or "file" not in fields:
            return _error(422, "Validation failed: File can't be blank")
        data, ctype = fields["file"]
        description = fields.get("description", (b"", ""))[0].decode("utf-8")
        if len(description) > self.description_limit:
            return _error(
                422, f"Validation failed: Description is too long "
                f"(maximum is {self.description_limit} characters)"
            )  # fmt: skip
        if ctype.startswith("image/"):
            kind, limit = "image", self.image_size_limit
        elif ctype.startswith("video/"):
            kind, limit = "video", self.video_size_limit
        else:
            return _error(422, "Validation failed: File content type is invalid, File is invalid")
        if not data or len(data) > limit:
            return _error(422, "Validation failed: File file size must be less than the limit")
        media = _Media(
            str(next(self._ids)), user.id, kind, description, len(data),
            polls_left=self.processing_polls if kind == "video" else 0,
        )  # fmt: skip
        self.media[media.id] = media
        return Reply(202 if media.polls_left else 200, self._media_body(media))

    def _media_body(self, media: _Media) -> dict[str, Any]:
        ready = media.polls_left <= 0
        return {
            "id": media.id,
            "type": media.kind,
            "url": f"https://files.{self.domain}/{media.id}.bin" if ready else None,
            "preview_url": f"https://files.{self.domain}/{media.id}-small.jpg",
            "description": media.description or None,
        }

    def _poll(self, media_id: str, user: _User) -> Reply:
        media = self.media.get(media_id)
        if media is None or media.owner != user.id or media.attached:
            return _error(404, "Record not found")
        if media.polls_left > 0:
            media.polls_left -= 1
            return Reply(206, self._media_body(media) | {"url": None})
        return Reply(200, self._media_body(media))

    def _create(self, req: Request, user: _User) -> Reply:
        key = req.header("idempotency-key")
        now = time.time()
        if key:
            seen = self._keys.get((user.id, key))
            if seen is not None and now - seen[0] < self.key_lifetime:
                return Reply(200, seen[1])  # the original status, whatever was sent now
        params = _params(req)
        if params is None:
            return _error(422, "Validation failed: unreadable parameters")
        text = params.get("status") or ""
        media_ids = params.get("media_ids") or []
        if not isinstance(text, str) or not isinstance(media_ids, list):
            return _error(422, "Validation failed: bad parameters")
        if not text.strip() and not media_ids:
            return _error(422, "Validation failed: Text can't be blank")
        if fake_length(text, self.url_chars) > self.max_characters:
            return _error(
                422,
                f"Validation failed: Text character limit of {self.max_characters} exceeded",
            )
        if len(media_ids) > self.max_media:
            return _error(422, "Validation failed: Media attachments too many")
        attached: list[_Media] = []
        for media_id in media_ids:
            media = self.media.get(str(media_id))
            if media is None or media.owner != user.id or media.attached:
                return _error(422, "Validation failed: Media attachments are invalid")
            attached.append(media)
        kinds = {m.kind for m in attached}
        if "video" in kinds and len(attached) > 1:
            return _error(
                422,
                "Validation failed: Cannot attach a video to a post that already contains images",
            )
        if any(m.polls_left > 0 for m in attached):
            return _error(
                422, "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        reply_to = params.get("in_reply_to_id")
        if reply_to is not None and not any(st["id"] == str(reply_to) for st in self.statuses):
            return _error(404, "Record not found")  # the status replied to is gone
        visibility = params.get("visibility") or "public"
        status_id = str(next(self._ids))
        for media in attached:
            media.attached = True
        status = {
            "id": status_id,
            "created_at": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "url": f"https://{self.domain}/@{user.username}/{status_id}",
            "uri": f"https://{self.domain}/users/{user.username}/statuses/{status_id}",
            "visibility": visibility,
            "in_reply_to_id": str(reply_to) if reply_to is not None else None,
            "account_id": user.id,
            "content": f"<p>{text}</p>",
            "text": text,
            "idempotency_key": key,
            "media_attachments": [
                {
                    "id": m.id,
                    "type": m.kind,
                    "url": self._media_body(m)["url"],
                    "description": m.description or None,
                }
                for m in attached
            ],
        }
        self.statuses.append(status)
        if key:
            self._keys[(user.id, key)] = (now, status)
        return Reply(200, status)

    def statuses_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's statuses, oldest first, with ``status`` (the text sent)."""
        return [st | {"status": st["text"]} for st in self.statuses if st["account_id"] == user_id]

    # ------------------------------------------------------------ signing in
    def _scopes(self) -> frozenset[str]:
        return KNOWN_SCOPES | {"profile"} if self.oauth_metadata else KNOWN_SCOPES

    def _oauth_metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.url + "/",
            "authorization_endpoint": self.url + "/oauth/authorize",
            "token_endpoint": self.url + "/oauth/token",
            "revocation_endpoint": self.url + "/oauth/revoke",
            "app_registration_endpoint": self.url + "/api/v1/apps",
            "scopes_supported": sorted(self._scopes()),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def _register(self, req: Request) -> Reply:
        params = _params(req) or {}
        name = params.get("client_name")
        if not isinstance(name, str) or not name.strip():
            return _error(422, "Validation failed: Application name can't be blank")
        uris = params.get("redirect_uris")
        if isinstance(uris, str):
            uris = uris.split()
        if not isinstance(uris, list) or not uris:
            return _error(422, "Validation failed: Redirect URI can't be blank")
        for uri in uris:
            parts = urlsplit(str(uri))
            oob = uri == "urn:ietf:wg:oauth:2.0:oob"
            if not oob and (not parts.scheme or not parts.netloc or parts.fragment):
                return _error(422, "Validation failed: Redirect URI must be an absolute URI.")
        scopes = frozenset(str(params.get("scopes") or "read").split())
        if not scopes <= self._scopes():
            return _error(422, "Validation failed: Scopes doesn't match configured on the server.")
        app = _App(
            client_id=secrets.token_urlsafe(32),
            secret=secrets.token_urlsafe(32),
            name=name,
            redirect_uris=[str(u) for u in uris],
            scopes=scopes,
        )
        self.apps[app.client_id] = app
        return Reply(
            200,
            {
                "id": str(len(self.apps)),
                "name": app.name,
                "website": params.get("website"),
                "scopes": sorted(app.scopes),
                "redirect_uris": app.redirect_uris,
                "redirect_uri": "\n".join(app.redirect_uris),
                "client_id": app.client_id,
                "client_secret": app.secret,
                "client_secret_expires_at": 0,
            },
        )

    def _authorize(self, req: Request) -> Reply:
        q = {k: v[-1] for k, v in req.query.items()}
        app = self.apps.get(q.get("client_id", ""))
        if app is None:
            return Reply(401, f"<p>An error has occurred: {INVALID_CLIENT}</p>")
        redirect = q.get("redirect_uri", "")
        if redirect not in app.redirect_uris:
            return Reply(
                400,
                "<p>The redirect uri included is not valid.</p>",
            )
        self.force_logins.append(q.get("force_login") == "true")

        def back(**params: str) -> Reply:
            target = redirect + ("&" if urlsplit(redirect).query else "?")
            return Reply(
                302, b"", {"Location": target + urlencode({**params, "state": q.get("state", "")})}
            )

        scopes = frozenset(q.get("scope", "read").split())
        if q.get("response_type") != "code":
            return back(error="unsupported_response_type")
        if not scopes <= app.scopes:
            return back(error="invalid_scope", error_description="The requested scope is invalid.")
        if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            return back(error="invalid_request", error_description="Code challenge is required.")
        if self.authorizing_user is None:
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(
            app.client_id, redirect, q["code_challenge"], self.authorizing_user, scopes
        )
        if self.forget_apps_after_authorize:
            self.forget_apps()
        return back(code=code)

    def _client(self, req: Request, form: dict[str, str]) -> _App | None:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = req.header("authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                return None
        app = self.apps.get(client_id)
        if app is None or not secret or not secrets.compare_digest(app.secret, secret):
            return None
        return app

    def _token(self, req: Request) -> Reply:
        form = {k: v[-1] for k, v in req.form().items()}
        app = self._client(req, form)
        if app is None:
            return Reply(401, {"error": "invalid_client", "error_description": INVALID_CLIENT})
        grant = form.get("grant_type")
        if grant == "client_credentials":
            scopes = frozenset(form.get("scope", "read").split())
            if not scopes <= app.scopes:
                return Reply(400, {"error": "invalid_scope",
                                   "error_description": "The requested scope is invalid."})  # fmt: skip
            token = secrets.token_urlsafe(32)
            app.app_tokens.append(token)
            return Reply(200, {"access_token": token, "token_type": "Bearer",
                               "scope": " ".join(sorted(scopes)), "created_at": int(time.time())})  # fmt: skip
        if grant != "authorization_code":
            return Reply(400, {"error": "unsupported_grant_type"})
        invalid = Reply(400, {"error": "invalid_grant", "error_description": (
            "The provided authorization grant is invalid, expired, revoked, does not match "
            "the redirection URI used in the authorization request, or was issued to another "
            "client."
        )})  # fmt: skip
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or code.client_id != app.client_id:
            return invalid
        if form.get("redirect_uri") != code.redirect_uri:
            return invalid
        digest = hashlib.sha256(form.get("code_verifier", "").encode("ascii", "replace")).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if not form.get("code_verifier") or not secrets.compare_digest(expected, code.challenge):
            return invalid
        code.used = True
        token = secrets.token_urlsafe(32)
        self.tokens[token] = code.user
        # no expires_in and no refresh_token: a Mastodon token lives until revoked
        return Reply(200, {"access_token": token, "token_type": "Bearer",
                           "scope": " ".join(sorted(code.scopes)), "created_at": int(time.time())})  # fmt: skip

    def forget_keys_older_than(self, seconds: float) -> None:
        """Age every stored key by ``seconds`` (the server forgets them after an hour)."""
        self._keys = {k: (t - seconds, s) for k, (t, s) in self._keys.items()}


def _params(req: Request) -> dict[str, Any] | None:
    ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None
    if ctype == "application/x-www-form-urlencoded":
        form = parse_qs(req.body.decode("utf-8"), keep_blank_values=True)
        out: dict[str, Any] = {k: v[-1] for k, v in form.items() if not k.endswith("[]")}
        out["media_ids"] = form.get("media_ids[]", [])
        return out
    return None


def _multipart(req: Request) -> dict[str, tuple[bytes, str]] | None:
    """The parts of a multipart/form-data body: (bytes, the part's Content-Type)."""
    ctype = req.header("content-type") or ""
    if not ctype.lower().startswith("multipart/form-data"):
        return None
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    if not match:
        return None
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, tuple[bytes, str]] = {}
    for part in req.body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, sep, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        if not sep or not name:
            return None
        kind = re.search(rb"content-type:\s*([^\r\n;]+)", head, re.IGNORECASE)
        fields[name.group(1).decode("utf-8")] = (
            data.removesuffix(b"\r\n"),
            kind.group(1).decode("latin-1").strip().lower() if kind else "",
        )
    return fields
