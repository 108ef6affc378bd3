"""A fake X API v2 on 127.0.0.1 that enforces the contract in CONTRACTS.md section 2.

It checks what the real service checks (and refuses what it refuses) so a client that
passes here sends well-formed requests:

- ``Authorization: Bearer`` with known user tokens; expired or unknown tokens get
  X's 401 problem, app-only tokens a 403 ``unsupported-authentication``;
- ``POST /2/tweets``: JSON only, no unknown top-level fields, string media ids that
  exist, belong to the user and have finished processing, one video/GIF alone or up
  to 4 images, the weighted length (twitter-text v3, counted by :mod:`tests.fakes.tweetlength`,
  never by the client's counter; 280, or 25,000 for a user whose ``subscription_type``
  is Premium or PremiumPlus), duplicate text -> 403;
- ``GET /2/users/me`` with ``user.fields`` checked against the OpenAPI's list, and
  ``subscription_type`` (per user) only when asked for;
- media: ``/2/media/upload/initialize|{id}/append|{id}/finalize`` and the older
  ``POST /2/media/upload`` with ``command=INIT|APPEND|FINALIZE`` (or a one-shot
  upload), chunk reassembly against ``total_bytes``, a processing state machine
  (pending -> in_progress -> succeeded/failed) advanced by STATUS polls, and
  ``POST /2/media/metadata`` for alt text, refused for video media as X does (and
  for any media when a test asks, :meth:`FakeX.refuse_next_alt_text`);
- OAuth 2: an authorize page that approves at once, the token endpoint with PKCE
  S256/plain checks and single-use rotating refresh tokens, and revoke;
- ``GET /2/tweets?ids=…&tweet.fields=public_metrics`` (``getPostsByIds``): 1 to 100
  numeric ids, ``tweet.read`` and ``users.read``, ``tweet.fields`` checked against the
  OpenAPI's list; counters a test sets (:meth:`FakeX.set_metrics`), deleted or
  unknown posts in ``errors`` as X answers them;
- ``x-rate-limit-*`` headers on every answer and ``x-user-limit-24hour-*`` on writes,
  with configurable limits that turn into 429s.

The host name is never looked at: ``api.x.com`` and ``api.twitter.com`` are the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes import tweetlength
from tests.fakes.server import FakeServer, Reply, Request, bearer

MB = 1024 * 1024
ID_RE = re.compile(r"^[0-9]{1,19}$")
PROBLEM = "application/problem+json"
INVALID_REQUEST = "https://api.x.com/2/problems/invalid-request"

#: top-level properties of CreatePostsRequest (OpenAPI 2.167, additionalProperties false)
TWEET_FIELDS = frozenset(
    {
        "card_uri",
        "community_id",
        "direct_message_deep_link",
        "edit_options",
        "for_super_followers_only",
        "geo",
        "made_with_ai",
        "media",
        "nullcast",
        "paid_partnership",
        "poll",
        "quote_tweet_id",
        "reply",
        "reply_settings",
        "share_with_followers",
        "text",
    }
)
MEDIA_TYPES = frozenset(
    {
        "video/mp4",
        "video/webm",
        "video/mp2t",
        "video/quicktime",
        "text/srt",
        "text/vtt",
        "image/jpeg",
        "image/gif",
        "image/bmp",
        "image/png",
        "image/webp",
        "image/pjpeg",
        "image/tiff",
        "model/gltf-binary",
        "model/vnd.usdz+zip",
    }
)
#: category -> (largest total_bytes, media_key prefix)
CATEGORIES: dict[str, tuple[int, str]] = {
    "tweet_image": (5 * MB, "3"),
    "tweet_gif": (15 * MB, "16"),
    "tweet_video": (512 * MB, "13"),
    "amplify_video": (512 * MB, "13"),
    "dm_image": (5 * MB, "3"),
    "dm_gif": (15 * MB, "16"),
    "dm_video": (512 * MB, "13"),
    "subtitles": (1 * MB, "21"),
}
MAX_CHUNK = 5 * MB
#: UserFieldsParameter of the OpenAPI 2.167: what ``user.fields`` may ask for
USER_FIELDS = frozenset(
    {
        "confirmed_email",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "is_identity_verified",
        "location",
        "name",
        "parody",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscribes_to_you",
        "subscription",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_followers_count",
        "verified_type",
        "withheld",
    }
)
#: PostPublicMetrics' required properties (OpenAPI 2.167)
PUBLIC_METRICS = (
    "like_count",
    "repost_count",
    "reply_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
#: PostFieldsParameter (``tweet.fields``) of the OpenAPI 2.167
TWEET_LOOKUP_FIELDS = frozenset(
    {
        "article",
        "article_title",
        "attachments",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "entities",
        "geo",
        "id",
        "lang",
        "matched_media_notes",
        "media_metadata",
        "non_public_metrics",
        "note_post",
        "note_request_suggestions",
        "organic_metrics",
        "paid_partnership",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "reply_settings",
        "scopes",
        "source",
        "suggested_source_links",
        "suggested_source_links_with_counts",
        "text",
        "withheld",
    }
)
#: the subscription types (User.subscription_type) whose posts may be long
LONG_POST_PLANS = frozenset({"Premium", "PremiumPlus"})
ALL_SCOPES = frozenset({"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"})

UNAUTHORIZED = {
    "detail": "Unauthorized",
    "status": 401,
    "title": "Unauthorized",
    "type": "about:blank",
}
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
NOT_PERMITTED = {
    "detail": "You are not permitted to perform this action.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
REPLY_TARGET_GONE = {
    "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
UNSUPPORTED_AUTH = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
    "type": "https://api.twitter.com/2/problems/unsupported-authentication",
    "status": 403,
}
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
USAGE_CAPPED = {
    "title": "UsageCapExceeded",
    "type": "https://api.twitter.com/2/problems/usage-capped",
    "period": "Monthly",
    "scope": "Product",
    "detail": "Usage cap exceeded: Monthly product cap",
}
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text "
    "length see https://github.com/twitter/twitter-text."
)


@dataclass
class XUser:
    id: str
    username: str
    name: str
    suspended: bool = False
    #: User.subscription_type: "Basic", "Premium", "PremiumPlus" or "None"
    subscription_type: str = "None"


@dataclass
class Token:
    user_id: str | None  # None: an app-only (client credentials) token
    scopes: frozenset[str] = ALL_SCOPES
    expires_at: float | None = None
    revoked: bool = False


@dataclass
class RefreshGrant:
    user_id: str
    client_id: str
    scopes: frozenset[str]


@dataclass
class Client:
    client_id: str
    secret: str | None = None
    redirect_uris: frozenset[str] = frozenset()  # empty: any redirect accepted


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    method: str
    user_id: str
    scopes: frozenset[str]
    used: bool = False


@dataclass
class Upload:
    id: str
    owner: str
    media_type: str
    category: str
    total_bytes: int
    chunks: dict[int, bytes] = field(default_factory=dict)
    state: str = "uploading"  # uploading | pending | in_progress | succeeded | failed
    polls_left: int = 0
    status_polls: int = 0
    data: bytes = b""
    alt_text: str | None = None
    fail_message: str | None = None

    @property
    def media_key(self) -> str:
        return f"{CATEGORIES[self.category][1]}_{self.id}"


class _Refuse(Exception):
    """Raised inside a handler to answer at once with ``reply``."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def invalid(message: str, parameter: str | None = None, value: Any = None) -> _Refuse:
    """X's 400 invalid-request problem with one entry in ``errors``."""
    err: dict[str, Any] = {"message": message}
    if parameter is not None:
        err["parameters"] = {parameter: [value if isinstance(value, str) else json.dumps(value)]}
    body = {
        "errors": [err],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST,
        "status": 400,
    }
    return _Refuse(Reply(400, body, content_type=PROBLEM))


def problem(status: int, body: dict[str, Any]) -> _Refuse:
    return _Refuse(Reply(status, dict(body), content_type=PROBLEM))


def _multipart(req: Request) -> dict[str, bytes] | None:
    """The fields of a multipart/form-data body, or None if the body is not multipart.

    Parsed by hand so binary chunks come back byte-for-byte (no line-ending rewriting).
    """
    ctype = req.header("content-type") or ""
    if not ctype.lower().startswith("multipart/form-data"):
        return None
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    if not match:
        raise invalid("multipart body without a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, bytes] = {}
    for part in req.body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            raise invalid("malformed multipart part")
        name = re.search(rb'name="([^"]*)"', head)
        if not name:
            raise invalid("multipart part without a name")
        fields[name.group(1).decode("utf-8")] = data.removesuffix(b"\r\n")
    return fields


def _form(req: Request) -> dict[str, str]:
    """An x-www-form-urlencoded body as single values."""
    ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise invalid("Content-Type must be application/x-www-form-urlencoded")
    return {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8"), keep_blank_values=True).items()}


def _json_object(req: Request) -> dict[str, Any]:
    ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise invalid(f"Content-Type must be application/json, not {ctype or 'missing'}")
    try:
        body = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    return body


def _int_field(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise invalid(f"The `{name}` field must be an integer", name, value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(f"The `{name}` field must be an integer", name, value) from None
    if not low <= number <= high:
        raise invalid(f"The `{name}` field must be between {low} and {high}", name, value)
    return number


class FakeX(FakeServer):
    """X API v2 as CONTRACTS.md section 2 describes it. See the module docstring."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        posts_per_window: int = 100,
        posts_per_day: int = 2400,
        window_secs: int = 900,
        check_after_secs: int = 1,
        processing_polls: dict[str, int] | None = None,
        duplicate_window_secs: int = 24 * 3600,
        max_weighted_length: int = 280,
        premium_max_weighted_length: int = 25_000,
        token_lifetime: int = 7200,
    ) -> None:
        super().__init__()
        self._config: dict[str, Any] = {
            "clock": clock,
            "posts_per_window": posts_per_window,
            "posts_per_day": posts_per_day,
            "window_secs": window_secs,
            "check_after_secs": check_after_secs,
            "processing_polls": dict(processing_polls or {}),
            "duplicate_window_secs": duplicate_window_secs,
            "max_weighted_length": max_weighted_length,
            "premium_max_weighted_length": premium_max_weighted_length,
            "token_lifetime": token_lifetime,
        }
        # ids keep counting across resets so a stale id from an earlier test never matches
        self._next_media = 1880028106020515840
        self._next_tweet = 1445880548472328192
        self.reset()

    def reset(self) -> None:
        """Back to the state right after construction: no users, posts, media or faults.

        Lets one running server serve many tests (starting and stopping a server costs
        about half a second, the base server's shutdown poll).
        """
        cfg = self._config
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self.clock: Callable[[], float] = cfg["clock"]
            #: per-user limits on POST /2/tweets (15-minute window and 24 hours)
            self.posts_per_window: int = cfg["posts_per_window"]
            self.posts_per_day: int = cfg["posts_per_day"]
            self.window_secs: int = cfg["window_secs"]
            #: limits of the other endpoint families, per user and window
            self.endpoint_limits = {
                "users": 75,
                "media": 500,
                "media_status": 900,
                "oauth": 1000,
                "lookup": 900,
            }
            #: public_metrics per post id (:meth:`set_metrics`)
            self.metrics: dict[str, dict[str, int]] = {}
            #: post ids that were deleted: a lookup names them in ``errors``
            self.deleted: set[str] = set()
            self.check_after_secs: int = cfg["check_after_secs"]
            #: STATUS polls before processing ends, per media category (0: ready at FINALIZE)
            self.processing_polls = {"tweet_image": 0, "tweet_gif": 1, "tweet_video": 2}
            self.processing_polls.update(cfg["processing_polls"])
            self.duplicate_window_secs: int = cfg["duplicate_window_secs"]
            self.max_weighted_length: int = cfg["max_weighted_length"]
            #: the limit for users whose subscription_type is in ``long_post_plans``
            self.premium_max_weighted_length: int = cfg["premium_max_weighted_length"]
            self.long_post_plans: frozenset[str] = LONG_POST_PLANS
            self.token_lifetime: int = cfg["token_lifetime"]
            #: the app's monthly cap is used up: every POST /2/tweets gets 429 usage-capped
            self.usage_capped = False

            self.users: dict[str, XUser] = {}
            self.tokens: dict[str, Token] = {}
            self.refresh_tokens: dict[str, RefreshGrant] = {}
            self.clients: dict[str, Client] = {}
            self.codes: dict[str, AuthCode] = {}
            self.uploads: dict[str, Upload] = {}
            #: every created post: {"id", "user", "text", "media_ids", "created_at", "body"}
            self.tweets: list[dict[str, Any]] = []
            #: who approves on the authorize page (default: the first user added)
            self.authorizing_user: str | None = None
            self._fail_next_processing: str | None = None
            self._refuse_next_alt_text: Reply | None = None
            self._alt_text_skip = 0
            self._windows: dict[tuple[str, str], list[float]] = {}

    # ------------------------------------------------------------ set-up for tests

    def add_user(
        self,
        user_id: str = "2244994945",
        username: str = "XDevelopers",
        name: str = "X Developers",
        token: str | None = None,
        subscription_type: str = "None",
    ) -> XUser:
        with self._lock:
            user = self.users[user_id] = XUser(
                user_id, username, name, subscription_type=subscription_type
            )
            if self.authorizing_user is None:
                self.authorizing_user = user_id
            if token:
                self.tokens[token] = Token(user_id)
            return user

    def add_token(self, token: str, user_id: str, scopes: frozenset[str] = ALL_SCOPES) -> None:
        with self._lock:
            self.tokens[token] = Token(user_id, frozenset(scopes))

    def add_app_token(self, token: str) -> None:
        """An app-only Bearer token: valid, but refused on user endpoints (403)."""
        with self._lock:
            self.tokens[token] = Token(None)

    def expire_token(self, token: str) -> None:
        with self._lock:
            self.tokens[token].expires_at = self.clock() - 1

    def add_client(
        self, client_id: str, secret: str | None = None, redirect_uris: tuple[str, ...] = ()
    ) -> Client:
        with self._lock:
            client = self.clients[client_id] = Client(client_id, secret, frozenset(redirect_uris))
            return client

    def add_refresh_token(self, refresh_token: str, user_id: str, client_id: str) -> None:
        """A live refresh token; single use: refreshing with it invalidates it (rotation)."""
        with self._lock:
            self.clients.setdefault(client_id, Client(client_id))
            self.refresh_tokens[refresh_token] = RefreshGrant(user_id, client_id, ALL_SCOPES)

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        code_challenge: str,
        user_id: str,
        method: str = "S256",
        scopes: frozenset[str] = ALL_SCOPES,
    ) -> str:
        """An authorization code as if the user had approved in the browser."""
        with self._lock:
            self.clients.setdefault(client_id, Client(client_id))
            code = secrets.token_urlsafe(24)
            self.codes[code] = AuthCode(
                client_id, redirect_uri, code_challenge, method, user_id, frozenset(scopes)
            )
            return code

    def subscribe(self, user_id: str, subscription_type: str) -> None:
        """Change a user's plan: "Basic", "Premium", "PremiumPlus" or "None"."""
        with self._lock:
            self.users[user_id].subscription_type = subscription_type

    def suspend(self, user_id: str) -> None:
        with self._lock:
            self.users[user_id].suspended = True

    def fail_next_processing(self, message: str = "Unsupported video format") -> None:
        """The next media finalized ends its processing in ``failed`` with ``message``."""
        with self._lock:
            self._fail_next_processing = message

    def refuse_next_alt_text(
        self, status: int = 400, detail: str = "Media metadata could not be saved.", skip: int = 0
    ) -> None:
        """After ``skip`` accepted ones, the next ``POST /2/media/metadata`` is checked
        as usual, then refused with ``status`` and X's problem body carrying ``detail``;
        nothing is stored for it."""
        invalid_request = status == 400
        with self._lock:
            self._alt_text_skip = skip
            self._refuse_next_alt_text = Reply(
                status,
                {
                    "title": "Invalid Request" if invalid_request else "Error",
                    "detail": detail,
                    "type": INVALID_REQUEST if invalid_request else "about:blank",
                    "status": status,
                },
                content_type=PROBLEM,
            )

    def set_metrics(self, tweet_id: str, **counts: int) -> None:
        """The post's ``public_metrics`` (every counter PostPublicMetrics requires; the
        ones not given are 0)."""
        with self._lock:
            self.metrics[tweet_id] = {name: int(counts.get(name, 0)) for name in PUBLIC_METRICS}

    def delete_tweet(self, tweet_id: str) -> None:
        with self._lock:
            self.deleted.add(tweet_id)
            self.metrics.pop(tweet_id, None)

    def reply_chain(self, user_id: str) -> list[tuple[str, str | None]]:
        """(tweet id, the id it replies to) of the user's tweets, oldest first."""
        return [
            (t["id"], (t["body"].get("reply") or {}).get("in_reply_to_tweet_id"))
            for t in self.tweets_by(user_id)
        ]

    def tweets_by(self, user_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [t for t in self.tweets if t["user"] == user_id]

    # ------------------------------------------------------------ dispatch

    def handle(self, req: Request) -> Reply:
        path = req.path.rstrip("/") or "/"
        headers: dict[str, str] = {}
        try:
            reply = self._route(req, path, headers)
        except _Refuse as refusal:
            reply = refusal.reply
        reply.headers = {**headers, **reply.headers}
        return reply

    def _route(self, req: Request, path: str, headers: dict[str, str]) -> Reply:
        m, p = req.method, path
        if m == "GET" and p == "/i/oauth2/authorize":
            return self._authorize(req)
        if m == "POST" and p == "/2/oauth2/token":
            self._limit("oauth", "app", headers)
            return self._token(req)
        if m == "POST" and p == "/2/oauth2/revoke":
            self._limit("oauth", "app", headers)
            return self._revoke(req)
        if m == "GET" and p == "/2/users/me":
            user = self._user(req, "users", headers, scope="users.read")
            return self._me(req, user)
        if m == "GET" and p == "/2/tweets":
            self._user(req, "lookup", headers, scope="tweet.read")
            self._user_scope(req, "users.read")
            return self._lookup(req)
        if m == "POST" and p == "/2/tweets":
            user = self._user(req, "tweets", headers, scope="tweet.write", write=True)
            return self._create_tweet(req, user)
        if p == "/2/media/upload" and m == "GET":
            user = self._user(req, "media_status", headers, scope="media.write")
            return self._status(req, user)
        if p.startswith("/2/media/") and m == "POST":
            user = self._user(req, "media", headers, scope="media.write", write=True)
            return self._media_post(req, user, p)
        return Reply(
            404,
            {
                "title": "Not Found Error",
                "detail": f"no route {m} {p}",
                "type": "about:blank",
                "status": 404,
            },
            content_type=PROBLEM,
        )

    # ------------------------------------------------------------ auth and limits

    def _user(
        self, req: Request, family: str, headers: dict[str, str], *, scope: str, write: bool = False
    ) -> XUser:
        token = self.tokens.get(bearer(req) or "")
        if (
            token is None
            or token.revoked
            or (token.expires_at is not None and token.expires_at <= self.clock())
        ):
            self._limit(family, "anonymous", headers)
            raise problem(401, UNAUTHORIZED)
        if token.user_id is None:
            self._limit(family, "app", headers)
            raise problem(403, UNSUPPORTED_AUTH)
        user = self.users[token.user_id]
        self._limit(family, user.id, headers, write=write)
        if scope not in token.scopes:
            raise problem(
                403,
                {
                    "title": "Forbidden",
                    "type": "about:blank",
                    "status": 403,
                    "detail": f"Missing required OAuth 2.0 scope: {scope}",
                },
            )
        return user

    def _window(self, key: tuple[str, str], length: float) -> list[float]:
        """[start, count] of the current window for ``key``, restarted when it has passed."""
        now = self.clock()
        win = self._windows.get(key)
        if win is None or now >= win[0] + length:
            win = self._windows[key] = [now, 0]
        return win

    def _limit(
        self, family: str, who: str, headers: dict[str, str], *, write: bool = False
    ) -> None:
        """Count one request against ``who``'s windows, set the headers, 429 when over."""
        limit = self.posts_per_window if family == "tweets" else self.endpoint_limits[family]
        win = self._window((family, who), self.window_secs)
        win[1] += 1
        headers["x-rate-limit-limit"] = str(limit)
        headers["x-rate-limit-remaining"] = str(max(0, limit - int(win[1])))
        headers["x-rate-limit-reset"] = str(int(win[0] + self.window_secs))
        over = win[1] > limit
        if write:
            day_limit = (
                self.posts_per_day if family == "tweets" else 10 * self.endpoint_limits[family]
            )
            day = self._window((family + "/24h", who), 24 * 3600)
            day[1] += 1
            headers["x-user-limit-24hour-limit"] = str(day_limit)
            headers["x-user-limit-24hour-remaining"] = str(max(0, day_limit - int(day[1])))
            headers["x-user-limit-24hour-reset"] = str(int(day[0] + 24 * 3600))
            over = over or day[1] > day_limit
        if over:
            raise problem(429, TOO_MANY)

    def _user_scope(self, req: Request, scope: str) -> None:
        token = self.tokens[bearer(req) or ""]
        if scope not in token.scopes:
            raise problem(
                403,
                {
                    "title": "Forbidden",
                    "type": "about:blank",
                    "status": 403,
                    "detail": f"Missing required OAuth 2.0 scope: {scope}",
                },
            )

    # ------------------------------------------------------------ GET /2/tweets

    def _lookup(self, req: Request) -> Reply:
        ids_value = req.query.get("ids", [])
        if len(ids_value) != 1 or not ids_value[0]:
            raise invalid("The `ids` query parameter can not be empty", "ids", "")
        ids = ids_value[0].split(",")
        if len(ids) > 100:
            raise invalid(
                f"The `ids` query parameter value [{len(ids)} ids] is not between 1 and 100",
                "ids",
                ids_value[0],
            )
        for tid in ids:
            if not ID_RE.match(tid):
                raise invalid(
                    f"The `ids` query parameter value [{tid}] does not match ^[0-9]{{1,19}}$",
                    "ids",
                    tid,
                )
        fields: set[str] = set()
        # X's reference documents ``tweet.fields``; the OpenAPI 2.167 names the same
        # parameter ``post.fields``: both are read
        for value in req.query.get("tweet.fields", []) + req.query.get("post.fields", []):
            for name in value.split(","):
                if name not in TWEET_LOOKUP_FIELDS:
                    raise invalid(
                        f"The `tweet.fields` query parameter value [{name}] is not one of "
                        f"[{','.join(sorted(TWEET_LOOKUP_FIELDS))}]",
                        "tweet.fields",
                        name,
                    )
                fields.add(name)
        known = {t["id"]: t for t in self.tweets}
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for tid in ids:
            if tid in self.deleted or (tid not in known and tid not in self.metrics):
                errors.append(
                    {
                        "value": tid,
                        "detail": f"Could not find post with ids: [{tid}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": tid,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )
                continue
            item: dict[str, Any] = {
                "id": tid,
                "text": known[tid]["text"] if tid in known else "",
                "edit_history_tweet_ids": [tid],
            }
            if "public_metrics" in fields:
                item["public_metrics"] = dict(
                    self.metrics.get(tid) or dict.fromkeys(PUBLIC_METRICS, 0)
                )
            data.append(item)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return Reply(200, body)

    # ------------------------------------------------------------ GET /2/users/me

    def _me(self, req: Request, user: XUser) -> Reply:
        asked: set[str] = set()
        for value in req.query.get("user.fields", []):
            for name in value.split(","):
                if name not in USER_FIELDS:
                    raise invalid(
                        f"The `user.fields` query parameter value [{name}] is not one of "
                        f"[{','.join(sorted(USER_FIELDS))}]",
                        "user.fields",
                        name,
                    )
                asked.add(name)
        # id, name and username always come; other fields only when asked for
        data: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "subscription_type" in asked:
            data["subscription_type"] = user.subscription_type
        return Reply(200, {"data": data})

    # ------------------------------------------------------------ POST /2/tweets

    def _create_tweet(self, req: Request, user: XUser) -> Reply:
        if self.usage_capped:
            raise problem(429, USAGE_CAPPED)
        body = _json_object(req)
        unknown = sorted(set(body) - TWEET_FIELDS)
        if unknown:
            raise invalid(
                f"The `{unknown[0]}` field is not allowed in this request",
                unknown[0],
                body[unknown[0]],
            )
        text = body.get("text", "")
        if not isinstance(text, str):
            raise invalid("The `text` field must be a string", "text", text)
        for name in ("quote_tweet_id", "community_id"):
            if name in body:
                self._check_id(body[name], name)
        reply = body.get("reply")
        if reply is not None:
            if not isinstance(reply, dict):
                raise invalid("The `reply` field must be an object", "reply", reply)
            parent = self._check_id(reply.get("in_reply_to_tweet_id"), "reply.in_reply_to_tweet_id")
            if not any(t["id"] == parent for t in self.tweets):
                raise problem(403, REPLY_TARGET_GONE)
        media_ids = self._check_media(body, user)
        if not text and not media_ids:
            raise invalid("Post text is required unless media is provided", "text", text)
        if text:
            # counted apart from the client's counter, so a bug there cannot hide here
            limit = (
                self.premium_max_weighted_length
                if user.subscription_type in self.long_post_plans
                else self.max_weighted_length
            )
            if tweetlength.weighted_length(text) > limit:
                raise invalid(TOO_LONG, "text", text)
            if tweetlength.has_invalid_characters(text):
                raise invalid("Your Tweet text contains invalid characters.", "text", text)
        if user.suspended:
            raise problem(403, NOT_PERMITTED)
        now = self.clock()
        if text and any(
            t["user"] == user.id
            and t["text"] == text
            and now - t["created_at"] < self.duplicate_window_secs
            for t in self.tweets
        ):
            raise problem(403, DUPLICATE)
        tweet_id = str(self._next_tweet)
        self._next_tweet += 7919
        self.tweets.append(
            {
                "id": tweet_id,
                "user": user.id,
                "text": text,
                "media_ids": media_ids,
                "created_at": now,
                "body": body,
            }
        )
        data = {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}
        return Reply(201, {"data": data}, content_type="application/json; charset=utf-8")

    @staticmethod
    def _check_id(value: Any, name: str) -> str:
        if not isinstance(value, str) or not ID_RE.match(value):
            raise invalid(
                f"The {name} query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
                name,
                value,
            )
        return value

    def _check_media(self, body: dict[str, Any], user: XUser) -> list[str]:
        media = body.get("media")
        if media is None:
            return []
        if not isinstance(media, dict):
            raise invalid("The `media` field must be an object", "media", media)
        extra = sorted(set(media) - {"media_ids", "tagged_user_ids"})
        if extra:
            raise invalid(
                f"The `media.{extra[0]}` field is not allowed", f"media.{extra[0]}", media[extra[0]]
            )
        for other in ("poll", "quote_tweet_id", "card_uri"):
            if other in body:
                raise invalid(f"`media` and `{other}` cannot be used together", other, body[other])
        ids = media.get("media_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 4:
            raise invalid("`media.media_ids` must hold 1 to 4 ids", "media.media_ids", ids)
        for value in ids:
            self._check_id(value, "media.media_ids")
        categories = []
        for media_id in ids:
            upload = self.uploads.get(media_id)
            if upload is None or upload.owner != user.id:
                raise invalid("Your media IDs are invalid.", "media.media_ids", media_id)
            if upload.state != "succeeded":
                raise invalid(
                    f"Media {media_id} is not ready: processing is {upload.state}",
                    "media.media_ids",
                    media_id,
                )
            categories.append(upload.category)
        if len(ids) > 1 and any(c != "tweet_image" for c in categories):
            raise invalid(
                "A post takes one video or one GIF alone, or up to 4 images", "media.media_ids", ids
            )
        return list(ids)

    # ------------------------------------------------------------ media

    def _media_post(self, req: Request, user: XUser, path: str) -> Reply:
        if path == "/2/media/upload/initialize":
            body = _json_object(req)
            extra = sorted(
                set(body)
                - {"media_type", "total_bytes", "media_category", "shared", "additional_owners"}
            )
            if extra:
                raise invalid(
                    f"The `{extra[0]}` field is not allowed in this request",
                    extra[0],
                    body[extra[0]],
                )
            return self._init(
                user, body.get("media_type"), body.get("total_bytes"), body.get("media_category")
            )
        if m := re.fullmatch(r"/2/media/upload/([0-9]{1,19})/append", path):
            upload = self._own_upload(m.group(1), user)
            fields = _multipart(req)
            if fields is None:  # the JSON form carries the chunk base64-encoded
                body = _json_object(req)
                fields = {
                    k: (v if isinstance(v, str) else json.dumps(v)).encode()
                    for k, v in body.items()
                }
                if "media" in fields:
                    try:
                        fields["media"] = base64.b64decode(fields["media"], validate=True)
                    except ValueError:
                        raise invalid("`media` is not valid base64", "media", "…") from None
            extra = sorted(set(fields) - {"media", "segment_index"})
            if extra:
                raise invalid(
                    f"The `{extra[0]}` field is not allowed in this request", extra[0], "…"
                )
            return self._append(upload, fields)
        if m := re.fullmatch(r"/2/media/upload/([0-9]{1,19})/finalize", path):
            return self._finalize(self._own_upload(m.group(1), user))
        if path == "/2/media/upload":
            return self._command_upload(req, user)
        if path == "/2/media/metadata":
            return self._metadata(req, user)
        raise problem(
            404,
            {"title": "Not Found Error", "detail": f"no route POST {path}", "type": "about:blank"},
        )

    def _init(self, user: XUser, media_type: Any, total_bytes: Any, category: Any) -> Reply:
        if media_type not in MEDIA_TYPES:
            raise invalid(f"media_type [{media_type}] is not supported", "media_type", media_type)
        category = category or "tweet_image"
        if category not in CATEGORIES:
            raise invalid(
                f"media_category [{category}] is not supported", "media_category", category
            )
        if total_bytes is None:
            raise invalid("total_bytes is required", "total_bytes", total_bytes)
        size = _int_field(total_bytes, "total_bytes", 1, 17179869184)
        cap = CATEGORIES[category][0]
        if size > cap:
            raise invalid(f"File size exceeds {cap} bytes for {category}", "total_bytes", str(size))
        if category in ("tweet_image", "dm_image") and not media_type.startswith("image/"):
            raise invalid(
                f"media_type {media_type} does not fit {category}", "media_type", media_type
            )
        if category.endswith("_video") and not media_type.startswith("video/"):
            raise invalid(
                f"media_type {media_type} does not fit {category}", "media_type", media_type
            )
        if category.endswith("_gif") and media_type != "image/gif":
            raise invalid(
                f"media_type {media_type} does not fit {category}", "media_type", media_type
            )
        media_id = str(self._next_media)
        self._next_media += 104729
        upload = self.uploads[media_id] = Upload(media_id, user.id, media_type, category, size)
        data = {"id": media_id, "media_key": upload.media_key, "expires_after_secs": 86400}
        return Reply(200, {"data": data})

    def _own_upload(self, media_id: str, user: XUser) -> Upload:
        upload = self.uploads.get(media_id)
        if upload is None or upload.owner != user.id:
            raise problem(
                404,
                {
                    "title": "Not Found Error",
                    "type": "https://api.x.com/2/problems/resource-not-found",
                    "detail": f"Could not find media with id: [{media_id}].",
                    "resource_type": "media",
                    "status": 404,
                },
            )
        return upload

    def _append(self, upload: Upload, fields: dict[str, bytes]) -> Reply:
        if upload.state != "uploading":
            raise invalid(f"Media {upload.id} is already finalized", "media_id", upload.id)
        if "media" not in fields or "segment_index" not in fields:
            raise invalid("APPEND needs `media` and `segment_index`")
        index = _int_field(
            fields["segment_index"].decode("ascii", "replace"), "segment_index", 0, 999
        )
        chunk = fields["media"]
        if not chunk or len(chunk) > MAX_CHUNK:
            raise invalid(f"A segment must hold 1 to {MAX_CHUNK} bytes", "media", str(len(chunk)))
        upload.chunks[index] = chunk
        if sum(len(c) for c in upload.chunks.values()) > upload.total_bytes:
            raise invalid("Segments exceed total_bytes", "segment_index", str(index))
        return Reply(200, {"data": {"expires_at": int(self.clock()) + 86400}})

    def _finalize(self, upload: Upload) -> Reply:
        if upload.state != "uploading":
            raise invalid(f"Media {upload.id} is already finalized", "media_id", upload.id)
        if sorted(upload.chunks) != list(range(len(upload.chunks))):
            raise invalid("Segments are missing: segment indexes must run from 0 without gaps")
        data = b"".join(upload.chunks[i] for i in range(len(upload.chunks)))
        if len(data) != upload.total_bytes:
            raise invalid(
                f"File size mismatch: received {len(data)} bytes, total_bytes was {upload.total_bytes}",
                "total_bytes",
                str(upload.total_bytes),
            )
        upload.data = data
        upload.chunks.clear()
        upload.fail_message, self._fail_next_processing = self._fail_next_processing, None
        upload.polls_left = self.processing_polls.get(upload.category, 0)
        if upload.polls_left == 0:
            upload.state = "failed" if upload.fail_message else "succeeded"
        else:
            upload.state = "pending"
        out: dict[str, Any] = {
            "id": upload.id,
            "media_key": upload.media_key,
            "size": len(data),
            "expires_after_secs": 86400,
        }
        if upload.state != "succeeded":  # no processing_info means ready to use
            out["processing_info"] = self._processing_info(upload)
        return Reply(200, {"data": out})

    def _processing_info(self, upload: Upload) -> dict[str, Any]:
        info: dict[str, Any] = {"state": upload.state}
        if upload.state in ("pending", "in_progress"):
            info["check_after_secs"] = self.check_after_secs
            total = max(1, self.processing_polls.get(upload.category, 1))
            info["progress_percent"] = int(100 * (total - upload.polls_left) / total)
        elif upload.state == "succeeded":
            info["progress_percent"] = 100
        elif upload.state == "failed":
            info["progress_percent"] = 100
            info["error"] = {"code": 1, "name": "InvalidMedia", "message": upload.fail_message}
        return info

    def _status(self, req: Request, user: XUser) -> Reply:
        command = (req.query.get("command") or ["STATUS"])[-1]
        if command != "STATUS":
            raise invalid(f"command [{command}] is not allowed here", "command", command)
        media_id = self._check_id((req.query.get("media_id") or [""])[-1], "media_id")
        upload = self._own_upload(media_id, user)
        if upload.state == "uploading":
            raise invalid(f"Media {media_id} has not been finalized", "media_id", media_id)
        upload.status_polls += 1
        if upload.state in ("pending", "in_progress"):
            upload.polls_left -= 1
            if upload.polls_left <= 0:
                upload.state = "failed" if upload.fail_message else "succeeded"
            else:
                upload.state = "in_progress"
        data = {
            "id": upload.id,
            "media_key": upload.media_key,
            "expires_after_secs": 86400,
            "processing_info": self._processing_info(upload),
        }
        return Reply(200, {"data": data})

    def _command_upload(self, req: Request, user: XUser) -> Reply:
        """The pre-May-2025 style: ``command=INIT|APPEND|FINALIZE`` on one URL, or one-shot."""
        fields = _multipart(req)
        if fields is None:
            fields = {k: v.encode() for k, v in _form(req).items()}
        text = {k: v.decode("utf-8", "replace") for k, v in fields.items() if k != "media"}
        command = text.get("command")
        if command == "INIT":
            return self._init(
                user, text.get("media_type"), text.get("total_bytes"), text.get("media_category")
            )
        if command in ("APPEND", "FINALIZE"):
            upload = self._own_upload(self._check_id(text.get("media_id"), "media_id"), user)
            if command == "FINALIZE":
                return self._finalize(upload)
            return self._append(
                upload, {k: fields[k] for k in ("media", "segment_index") if k in fields}
            )
        if command is not None:
            raise invalid(f"command [{command}] is not supported", "command", command)
        # one-shot upload: the whole file in `media`
        if "media" not in fields or "media_category" not in text:
            raise invalid("`media` and `media_category` are required")
        media = fields["media"]
        mime = (
            "image/gif"
            if media[:4] == b"GIF8"
            else "video/mp4"
            if b"ftyp" in media[:12]
            else ("image/png" if media[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg")
        )
        reply = self._init(user, mime, len(media), text["media_category"])
        upload = self.uploads[reply.body["data"]["id"]]
        upload.chunks[0] = media
        return self._finalize(upload)

    def _metadata(self, req: Request, user: XUser) -> Reply:
        body = _json_object(req)
        media_id = self._check_id(body.get("id"), "id")
        upload = self._own_upload(media_id, user)
        metadata = body.get("metadata")
        if not isinstance(metadata, dict):
            raise invalid("The `metadata` field must be an object", "metadata", metadata)
        alt = metadata.get("alt_text")
        if alt is not None:
            if not isinstance(alt, dict) or not isinstance(alt.get("text"), str):
                raise invalid(
                    '`metadata.alt_text` must be {"text": string}', "metadata.alt_text", alt
                )
            if len(alt["text"]) > 1000:
                raise invalid(
                    "Alt text is over 1000 characters", "metadata.alt_text.text", alt["text"]
                )
            # X takes alt text on images and GIFs only (the wording is illustrative)
            if not upload.category.endswith(("_image", "_gif")):
                raise invalid(
                    f"Alt text is not supported for media of category {upload.category}",
                    "id",
                    media_id,
                )
        if self._refuse_next_alt_text is not None:
            if self._alt_text_skip > 0:
                self._alt_text_skip -= 1
            else:
                refusal, self._refuse_next_alt_text = self._refuse_next_alt_text, None
                raise _Refuse(refusal)
        if alt is not None:
            upload.alt_text = alt["text"]
        return Reply(200, {"data": {"id": media_id, "associated_metadata": metadata}})

    # ------------------------------------------------------------ OAuth 2

    def _authorize(self, req: Request) -> Reply:
        q = {k: v[-1] for k, v in req.query.items()}
        client = self.clients.get(q.get("client_id", ""))
        problems = []
        if q.get("response_type") != "code":
            problems.append("response_type must be code")
        if client is None:
            problems.append("unknown client_id")
        elif client.redirect_uris and q.get("redirect_uri") not in client.redirect_uris:
            problems.append("redirect_uri is not registered for this app")
        if not q.get("redirect_uri"):
            problems.append("redirect_uri is missing")
        if not q.get("state") or len(q["state"]) > 500:
            problems.append("state must hold 1 to 500 characters")
        if not q.get("code_challenge") or q.get("code_challenge_method") not in ("S256", "plain"):
            problems.append("code_challenge with method S256 or plain is required")
        scopes = frozenset(q.get("scope", "").split())
        if not scopes or not scopes <= ALL_SCOPES | {"tweet.moderate.write"}:
            problems.append("scope is missing or unknown")
        if problems or self.authorizing_user is None:
            return Reply(400, "Something went wrong: " + "; ".join(problems or ["no user"]))
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthCode(
            q["client_id"],
            q["redirect_uri"],
            q["code_challenge"],
            q["code_challenge_method"],
            self.authorizing_user,
            scopes & ALL_SCOPES,
        )
        target = q["redirect_uri"] + ("&" if urlsplit(q["redirect_uri"]).query else "?")
        return Reply(
            302, b"", {"Location": target + urlencode({"state": q["state"], "code": code})}
        )

    def _client_auth(self, req: Request, form: dict[str, str]) -> Client:
        """The calling client: Basic auth for confidential clients, form client_id otherwise."""
        auth = req.header("authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
            except ValueError:
                raise self._oauth_error(
                    401, "unauthorized_client", "Missing valid authorization header"
                ) from None
            client = self.clients.get(client_id)
            if (
                client is None
                or client.secret is None
                or not secrets.compare_digest(client.secret, secret)
            ):
                raise self._oauth_error(
                    401, "unauthorized_client", "Missing valid authorization header"
                )
            return client
        client = self.clients.get(form.get("client_id", ""))
        if client is None:
            raise self._oauth_error(
                400, "invalid_request", "Missing required parameter [client_id]."
            )
        if client.secret is not None:
            raise self._oauth_error(
                401, "unauthorized_client", "Missing valid authorization header"
            )
        return client

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> _Refuse:
        return _Refuse(Reply(status, {"error": error, "error_description": description}))

    def _issue(self, user_id: str, client_id: str, scopes: frozenset[str]) -> Reply:
        access = secrets.token_urlsafe(32)
        self.tokens[access] = Token(user_id, scopes, self.clock() + self.token_lifetime)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "access_token": access,
            "scope": " ".join(sorted(scopes)),
        }
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = RefreshGrant(user_id, client_id, scopes)
            body["refresh_token"] = refresh
        return Reply(200, body)

    def _token(self, req: Request) -> Reply:
        form = _form(req)
        grant = form.get("grant_type")
        client = self._client_auth(req, form)
        if grant == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            bad = self._oauth_error(
                400, "invalid_request", "Value passed for the authorization code was invalid."
            )
            if code is None or code.used or code.client_id != client.client_id:
                raise bad
            if form.get("redirect_uri") != code.redirect_uri:
                raise bad
            verifier = form.get("code_verifier", "")
            if code.method == "S256":
                digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
                expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            else:
                expected = verifier
            if not verifier or not secrets.compare_digest(expected, code.challenge):
                raise bad
            code.used = True
            return self._issue(code.user_id, client.client_id, code.scopes)
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            rt = self.refresh_tokens.get(old)
            if rt is None or rt.client_id != client.client_id:
                raise self._oauth_error(
                    400, "invalid_request", "Value passed for the token was invalid."
                )
            del self.refresh_tokens[old]  # single use: the answer carries its successor
            return self._issue(rt.user_id, rt.client_id, rt.scopes)
        raise self._oauth_error(
            400, "unsupported_grant_type", f"grant_type [{grant}] is not supported"
        )

    def _revoke(self, req: Request) -> Reply:
        form = _form(req)
        self._client_auth(req, form)
        token = form.get("token", "")
        if token in self.tokens:
            self.tokens[token].revoked = True
        self.refresh_tokens.pop(token, None)
        return Reply(200, {"revoked": True})
