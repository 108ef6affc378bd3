"""A fake LinkedIn on 127.0.0.1 that enforces the contract of CONTRACTS.md section 1.

It knows members and their bearer tokens, the pages (organizations) each member
administers, checks the mandatory ``/rest`` headers and
the set of active versions (recording which version each request asked for), runs the Images, Documents and Videos upload flows, validates every
``POST /rest/posts`` body, and answers with LinkedIn's documented error bodies.

Like the real service it accepts a post whose commentary has unescaped "little"
markup and answers 201; what LinkedIn would then silently do (cut the visible text
at the first stray reserved character) is recorded as ``truncated_at`` on the post,
so tests can prove the client escaped correctly (section 1.7).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from tests.fakes.server import FakeServer, Reply, Request, bearer

MiB = 1024 * 1024
#: the twelve monthly versions a LinkedIn would keep alive in mid-2026, ending at the
#: one the client pins, so a client that sends its pinned version is never refused
DEFAULT_VERSIONS = tuple(f"2025{m:02d}" for m in range(6, 13)) + tuple(
    f"2026{m:02d}" for m in range(1, 6)
)
DEFAULT_SCOPES = frozenset({"openid", "profile", "w_member_social"})
#: memberCreatorPostAnalytics' query types
ANALYTICS_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE")
#: a member who signed in to manage pages (section 1.2, Community Management)
PAGE_SCOPES = DEFAULT_SCOPES | {"w_organization_social", "rw_organization_admin"}
#: either lets a token read the roles a member holds on pages
ADMIN_READ_SCOPES = frozenset({"rw_organization_admin", "r_organization_admin"})

# ---------------------------------------------------------------- little format

RESERVED = frozenset("\\|{}@[]()<>#*_~")
#: the characters section 1.7 says make LinkedIn cut the post when left unescaped
TRUNCATING = frozenset("()[]{}<>|~*_")

_MENTION_RE = re.compile(r"@\[[^\[\]\n]+\]\(urn:li:(?:person|organization):[A-Za-z0-9_-]+\)")
_URL_RE = re.compile(r"https?://[^\s\\<>{}|^\"`]+")
_TAG_WORD_RE = re.compile(r"[^\W_]+")
_TAG_TEMPLATE_RE = re.compile(r"\{hashtag\|\\#\|([^\W_]+)\}")
_WORD_CHAR_RE = re.compile(r"\w")


@dataclass
class Little:
    """A commentary as LinkedIn reads it."""

    decoded: str  # the text with escape backslashes removed and elements kept
    truncated_at: int | None  # index in ``decoded`` where LinkedIn would cut it
    mentions: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


def decode_little(raw: str, *, strict: bool = True) -> Little:
    """Read ``raw`` the way LinkedIn does, independently of the client's escaper.

    Valid elements are mentions ``@[Name](urn:li:person|organization:id)``, hashtags
    (``#`` at a word start before letters or digits, or ``{hashtag|\\#|word}``) and
    ``http(s)://`` URLs, which LinkedIn links itself. Anything else reserved must be
    escaped. ``strict`` flags every reserved character (``@``, ``#`` and a stray
    ``\\`` included); otherwise only the characters section 1.7 lists.
    """
    flagged = RESERVED if strict else TRUNCATING
    out: list[str] = []
    length = 0
    last = ""
    truncated_at: int | None = None
    mentions: list[str] = []
    hashtags: list[str] = []

    def emit(text: str) -> None:
        nonlocal length, last
        out.append(text)
        length += len(text)
        last = text[-1]

    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "\\":
            if i + 1 < n and raw[i + 1] in RESERVED:
                emit(raw[i + 1])
                i += 2
                continue
            if "\\" in flagged and truncated_at is None:
                truncated_at = length
            emit(ch)
            i += 1
            continue
        m = _MENTION_RE.match(raw, i)
        if m:
            mentions.append(m.group())
            emit(m.group())
            i = m.end()
            continue
        m = _URL_RE.match(raw, i)
        if m:
            emit(m.group())
            i = m.end()
            continue
        if ch == "#" and not (last and _WORD_CHAR_RE.match(last)):
            m = _TAG_WORD_RE.match(raw, i + 1)
            if m:
                hashtags.append(m.group())
                emit("#" + m.group())
                i = m.end()
                continue
        m = _TAG_TEMPLATE_RE.match(raw, i)
        if m:
            hashtags.append(m.group(1))
            emit("#" + m.group(1))
            i = m.end()
            continue
        if ch in flagged and truncated_at is None:
            truncated_at = length
        emit(ch)
        i += 1
    return Little("".join(out), truncated_at, mentions, hashtags)


# ---------------------------------------------------------------- state


@dataclass
class Member:
    sub: str
    name: str
    given_name: str
    family_name: str
    locale: str | dict[str, str]
    email: str

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.sub}"


@dataclass
class Organization:
    id: int
    name: str
    vanity: str

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


@dataclass
class Token:
    sub: str
    scopes: frozenset[str]
    expires_at: float
    state: str = "active"  # active | expired | revoked


@dataclass
class RefreshToken:
    sub: str
    scopes: frozenset[str]
    client_id: str
    expires_at: float


@dataclass
class Image:
    urn: str
    owner: str
    upload_token: str
    status: str = "WAITING_UPLOAD"
    data: bytes = b""
    puts: int = 0
    pending_posts: int = 0  # create attempts that still find it PROCESSING


@dataclass
class Document:
    """A PDF for a document post; its flow is the Images one (section 1.6)."""

    urn: str
    owner: str
    upload_token: str
    status: str = "WAITING_UPLOAD"
    data: bytes = b""
    puts: int = 0


@dataclass
class VideoPart:
    first: int
    last: int
    etag: str | None = None


@dataclass
class Video:
    urn: str
    owner: str
    size: int
    upload_token: str
    url_token: str
    parts: list[VideoPart]
    status: str = "WAITING_UPLOAD"
    polls_left: int = 0
    forbidden_polls_left: int = 0
    data: dict[int, bytes] = field(default_factory=dict)


def _error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"status": status, "message": message, **extra})


def _oauth_error(status: int, error: str, description: str) -> Reply:
    return Reply(status, {"error": error, "error_description": description})


UNAUTHORIZED_EMPTY = {
    "message": "Empty oauth2_access_token",
    "serviceErrorCode": 401,
    "status": 401,
}
UNAUTHORIZED_INVALID = {"serviceErrorCode": 65600, "message": "Invalid access token", "status": 401}
UNAUTHORIZED_REVOKED = {
    "status": 401,
    "serviceErrorCode": 65601,
    "code": "REVOKED_ACCESS_TOKEN",
    "message": "The token used in the request has been revoked by the user",
}
# the v2/rest code for an expired token is [uncertain]; this is the likeliest shape
UNAUTHORIZED_EXPIRED = {
    "status": 401,
    "serviceErrorCode": 65602,
    "code": "EXPIRED_ACCESS_TOKEN",
    "message": "The token used in the request is expired.",
}
TOO_MANY_REQUESTS = {
    "status": 429,
    "serviceErrorCode": 101,
    "code": "TOO_MANY_REQUESTS",
    "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
}

POST_FIELDS = frozenset(
    {
        "author",
        "commentary",
        "visibility",
        "distribution",
        "lifecycleState",
        "isReshareDisabledByAuthor",
        "content",
        "reshareContext",
    }
)
VISIBILITIES = frozenset({"PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"})
_AUTHOR_RE = re.compile(r"urn:li:(?:person|organization):[A-Za-z0-9_-]+")


class FakeLinkedIn(FakeServer):
    """LinkedIn's OAuth host and API host in one loopback server.

    Args:
        versions: the active ``LinkedIn-Version`` values (YYYYMM); any other gets the
            426 NONEXISTENT_VERSION of a sunset version.
        daily_post_limit: posts per member per UTC day before 429 (Ayrshare's 150).
        duplicate_window: seconds within which the same author and commentary is a
            422 DUPLICATE_POST.
        video_part_size: bytes per video upload instruction (about 4 MiB on LinkedIn).
        video_polls: status GETs that still answer PROCESSING after finalizing.
        video_forbidden_polls: status GETs right after finalizing that answer 403
            "resource is forbidden", as LinkedIn may before a new video is visible to
            its owner (postiz retries that text, section 1.8 [observed]).
        image_processing_posts: create attempts that find a freshly uploaded image
            still PROCESSING and refuse the post for it, as LinkedIn may while it
            processes an image after its PUT (section 1.5 [observed]).
        strict_little: see :func:`decode_little`.
        clock: epoch seconds, for token expiry, UTC days and the duplicate window.
    """

    CLIENT_ID = "milton-test-client"
    CLIENT_SECRET = "milton-test-secret"

    def __init__(
        self,
        *,
        versions: Collection[str] = DEFAULT_VERSIONS,
        daily_post_limit: int = 150,
        duplicate_window: float = 24 * 3600,
        video_part_size: int = 4 * MiB,
        video_polls: int = 1,
        video_forbidden_polls: int = 0,
        image_processing_posts: int = 0,
        token_lifetime: int = 5_184_000,
        refresh_token_lifetime: int = 31_536_000,
        strict_little: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._config: dict[str, Any] = {
            "versions": versions,
            "daily_post_limit": daily_post_limit,
            "duplicate_window": duplicate_window,
            "video_part_size": video_part_size,
            "video_polls": video_polls,
            "video_forbidden_polls": video_forbidden_polls,
            "image_processing_posts": image_processing_posts,
            "token_lifetime": token_lifetime,
            "refresh_token_lifetime": refresh_token_lifetime,
            "strict_little": strict_little,
            "clock": clock,
        }
        self._ids = itertools.count(7012345678901234567)  # never reset: ids stay unique
        self._configure({})

    def _configure(self, overrides: dict[str, Any]) -> None:
        config = {**self._config, **overrides}
        unknown = set(overrides) - set(self._config)
        if unknown:
            raise TypeError(f"unknown FakeLinkedIn settings: {sorted(unknown)}")
        self.versions: frozenset[str] = frozenset(config["versions"])
        self.daily_post_limit: int = config["daily_post_limit"]
        self.duplicate_window: float = config["duplicate_window"]
        self.video_part_size: int = config["video_part_size"]
        self.video_polls: int = config["video_polls"]
        self.video_forbidden_polls: int = config["video_forbidden_polls"]
        self.image_processing_posts: int = config["image_processing_posts"]
        self.token_lifetime: int = config["token_lifetime"]
        self.refresh_token_lifetime: int = config["refresh_token_lifetime"]
        self.strict_little: bool = config["strict_little"]
        self.clock: Callable[[], float] = config["clock"]
        self.video_fails = False  # finalised videos end in PROCESSING_FAILED
        # where initializeUpload points the uploadUrl(s): this server when None, else
        # another origin (see UploadHost), to test that no token is sent there
        self.upload_base: str | None = None
        self.video_upload_token = ""
        self.issue_refresh_tokens = False  # only approved apps get them (section 1.2)

        self.members: dict[str, Member] = {}
        self.organizations: dict[int, Organization] = {}
        self.administrators: dict[str, set[int]] = {}  # member sub -> organization ids
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.clients: dict[str, tuple[str, frozenset[str]]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.consenting_member: str | None = None  # who approves /oauth/v2/authorization
        self.images: dict[str, Image] = {}
        self.documents: dict[str, Document] = {}
        self.videos: dict[str, Video] = {}
        self.posts: list[dict[str, Any]] = []
        #: per post URN, figures by analytics query type (:meth:`set_post_stats`)
        self.post_stats: dict[str, dict[str, int]] = {}
        self.deleted_posts: set[str] = set()
        self.comments: list[dict[str, Any]] = []
        self.register_client(self.CLIENT_ID, self.CLIENT_SECRET)

    def reset(self, **overrides: Any) -> FakeLinkedIn:
        """Forget every member, token, upload, post, request and fault.

        Lets one running server serve a whole test module (starting and stopping a
        server costs about half a second); ``overrides`` take the constructor's
        keywords for the next test.
        """
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self._configure(overrides)
        return self

    # ------------------------------------------------------------ test setup

    def add_member(
        self,
        sub: str = "782bbtaQ",
        name: str = "John Doe",
        *,
        locale: str | dict[str, str] = "en-US",
        scopes: frozenset[str] = DEFAULT_SCOPES,
    ) -> str:
        """Add a member and return a fresh access token for them."""
        given, _, family = name.partition(" ")
        with self._lock:
            self.members[sub] = Member(
                sub, name, given, family, locale, f"{sub.lower()}@example.com"
            )
            if self.consenting_member is None:
                self.consenting_member = sub
        return self.issue_token(sub, scopes)

    def add_organization(
        self, org_id: int, name: str, vanity: str = "", *, admins: Collection[str] = ()
    ) -> str:
        """Add a page, administered by the members ``admins``; return its URN."""
        with self._lock:
            org = self.organizations[org_id] = Organization(org_id, name, vanity)
            for sub in admins:
                self.administrators.setdefault(sub, set()).add(org_id)
        return org.urn

    def issue_token(self, sub: str, scopes: frozenset[str] = DEFAULT_SCOPES) -> str:
        token = "AQV" + secrets.token_urlsafe(32)
        with self._lock:
            self.tokens[token] = Token(sub, frozenset(scopes), self.clock() + self.token_lifetime)
        return token

    def expire_token(self, token: str) -> None:
        with self._lock:
            self.tokens[token].state = "expired"

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self.tokens[token].state = "revoked"

    def add_refresh_token(
        self,
        sub: str,
        token: str | None = None,
        *,
        client_id: str | None = None,
        scopes: frozenset[str] = DEFAULT_SCOPES,
    ) -> str:
        token = token or "AQX" + secrets.token_urlsafe(32)
        with self._lock:
            self.refresh_tokens[token] = RefreshToken(
                sub,
                frozenset(scopes),
                client_id or self.CLIENT_ID,
                self.clock() + self.refresh_token_lifetime,
            )
        return token

    def register_client(
        self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...] = ()
    ) -> None:
        """``redirect_uris`` empty accepts any loopback redirect (RFC 8252)."""
        with self._lock:
            self.clients[client_id] = (client_secret, frozenset(redirect_uris))

    # ------------------------------------------------------------ dispatch

    def handle(self, req: Request) -> Reply:
        path, method = req.path, req.method
        if path == "/oauth/v2/authorization" and method == "GET":
            return self._authorize(req)
        if path == "/oauth/v2/accessToken" and method == "POST":
            return self._access_token(req)
        if path == "/v2/userinfo" and method == "GET":
            return self._userinfo(req)
        if path.startswith("/dms-uploads/") and method == "PUT":
            return self._upload(req)
        if path.startswith("/rest/"):
            return self._rest(req)
        return _error(404, f"No resource found for {method} {path}")

    def _authenticate(self, req: Request) -> Token | Reply:
        token = bearer(req)
        if not token:
            return Reply(401, UNAUTHORIZED_EMPTY)
        record = self.tokens.get(token)
        if record is None:
            return Reply(401, UNAUTHORIZED_INVALID)
        if record.state == "revoked":
            return Reply(401, UNAUTHORIZED_REVOKED)
        if record.state == "expired" or self.clock() >= record.expires_at:
            return Reply(401, UNAUTHORIZED_EXPIRED)
        return record

    def _rest(self, req: Request) -> Reply:
        auth = self._authenticate(req)
        if isinstance(auth, Reply):
            return auth
        version = req.header("linkedin-version")
        if not version:
            return _error(400, "Missing required header: LinkedIn-Version")
        if not self._version_active(version):
            padded = version if len(version) != 6 else version + "01"
            return Reply(
                426,
                {
                    "status": 426,
                    "code": "NONEXISTENT_VERSION",
                    "message": f"Requested version {padded} is not active",
                },
            )
        if req.header("x-restli-protocol-version") != "2.0.0":
            return _error(400, "Missing or invalid header: X-Restli-Protocol-Version must be 2.0.0")
        body: Any = None
        if req.method == "POST":
            ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
            if ctype != "application/json":
                return _error(
                    400, f"Unsupported Content-Type {ctype or '(none)'}: use application/json"
                )
            try:
                body = req.json()
            except (ValueError, UnicodeDecodeError):
                return _error(400, "Request body is not valid JSON")
            if not isinstance(body, dict):
                return _error(400, "Request body must be a JSON object")
        action = (req.query.get("action") or [""])[0]
        member = self.members.get(auth.sub)
        if member is None:
            return Reply(401, UNAUTHORIZED_INVALID)
        writes = req.method != "GET"
        if writes and not auth.scopes & {"w_member_social", "w_organization_social"}:
            return _error(
                403,
                "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260101",
                serviceErrorCode=100,
                code="ACCESS_DENIED",
            )
        route = (req.method, req.path, action)
        if route == ("POST", "/rest/images", "initializeUpload"):
            return self._image_init(body, member, auth)
        if route == ("POST", "/rest/documents", "initializeUpload"):
            return self._document_init(body, member, auth)
        if route == ("POST", "/rest/videos", "initializeUpload"):
            return self._video_init(body, member, auth)
        if route == ("POST", "/rest/videos", "finalizeUpload"):
            return self._video_finalize(body, member, auth)
        if route == ("GET", "/rest/organizationAcls", ""):
            return self._organization_acls(req, member, auth)
        if req.method == "GET" and req.path.startswith("/rest/organizations/"):
            return self._organization(unquote(req.path[len("/rest/organizations/") :]))
        if req.method == "GET" and req.path.startswith("/rest/images/"):
            # a member token is write-only for images [observed]
            return _error(403, "Not enough permissions to access: images.GET", code="ACCESS_DENIED")
        if req.method == "GET" and req.path.startswith("/rest/documents/"):
            # as write-only for documents as for images [observed]
            return _error(
                403, "Not enough permissions to access: documents.GET", code="ACCESS_DENIED"
            )
        if req.method == "GET" and req.path.startswith("/rest/videos/"):
            return self._video_status(unquote(req.path[len("/rest/videos/") :]), member)
        if route == ("POST", "/rest/posts", ""):
            return self._create_post(body, member, auth)
        if route == ("GET", "/rest/memberCreatorPostAnalytics", ""):
            return self._post_analytics(req, member, auth)
        m = re.fullmatch(r"/rest/socialActions/([^/]+)", req.path)
        if m and req.method == "GET":
            return self._social_actions(unquote(m.group(1)), auth)
        m = re.fullmatch(r"/rest/socialActions/([^/]+)/comments", req.path)
        if m and req.method == "POST":
            return self._create_comment(unquote(m.group(1)), body, member, auth)
        return _error(404, f"No resource found for {req.method} {req.path}")

    def _create_comment(
        self, target: str, body: dict[str, Any], member: Member, auth: Token
    ) -> Reply:
        """``POST /rest/socialActions/{postUrn}/comments``: ``actor``, ``object`` (the
        same URN as the path) and ``message.text``; the answer carries the comment."""
        unknown = sorted(set(body) - {"actor", "object", "message", "parentComment", "content"})
        if unknown:
            return _error(400, f"Unpermitted fields present in REQUEST_BODY: {', '.join(unknown)}")
        actor, obj, message = body.get("actor"), body.get("object"), body.get("message")
        if not isinstance(actor, str) or not isinstance(obj, str):
            return _error(400, "actor and object are required URNs")
        if obj != target:
            return _error(400, f"object {obj} does not match the URN in the path {target}")
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            return _error(400, "message.text is required")
        if not message["text"].strip():
            return _error(422, "The comment text cannot be empty")
        if len(message["text"]) > 1250:
            return _error(422, "The comment text is longer than 1250 characters")
        problem = self._author_problem(actor, member, auth, "comment")
        if problem is not None:
            return problem
        if not any(p["urn"] == target for p in self.posts):
            return _error(404, f"No post {target} to comment on")
        comment_id = str(next(self._ids))
        activity = "urn:li:activity:" + target.rsplit(":", 1)[1]
        urn = f"urn:li:comment:({activity},{comment_id})"
        comment = {
            "id": comment_id,
            "$URN": urn,
            "actor": actor,
            "object": obj,
            "message": {"text": message["text"]},
            "created": {"actor": actor, "time": int(self.clock() * 1000)},
        }
        self.comments.append(comment)
        return Reply(201, comment, {"x-restli-id": comment_id})

    def comments_on(self, post_urn: str) -> list[dict[str, Any]]:
        """The comments on a post, oldest first."""
        return [c for c in self.comments if c["object"] == post_urn]

    # ------------------------------------------------------------ metrics

    def set_post_stats(self, urn: str, **counts: int) -> None:
        """The post ``urn``'s figures by query type (IMPRESSION, MEMBERS_REACHED,
        REACTION, COMMENT, RESHARE; the rest 0); it exists for the reads even if it
        was not made here."""
        with self._lock:
            self.post_stats[urn] = {k: int(v) for k, v in counts.items()}

    def _stats_of(self, urn: str) -> dict[str, int] | None:
        if urn in self.deleted_posts:
            return None
        if urn in self.post_stats:
            return self.post_stats[urn]
        if any(p["urn"] == urn for p in self.posts):
            return {}
        return None

    def _post_analytics(self, req: Request, member: Member, auth: Token) -> Reply:
        if "r_member_postAnalytics" not in auth.scopes:
            return _error(
                403,
                "Not enough permissions to access: memberCreatorPostAnalytics.FINDER-entity",
                code="ACCESS_DENIED",
            )
        q = {k: v[-1] for k, v in req.query.items()}
        if q.get("q") != "entity":
            return _error(400, "Invalid finder: q must be entity or me")
        entity = q.get("entity", "")
        m = re.fullmatch(r"\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)", entity)
        if not m or (m.group(1) == "ugc") != m.group(2).startswith("urn:li:ugcPost:"):
            return _error(400, f"Invalid entity {entity!r}: (share:URN) or (ugc:URN)")
        query_type = q.get("queryType")
        if query_type not in ANALYTICS_TYPES:
            return _error(400, f"Invalid queryType {query_type!r}")
        if q.get("aggregation") not in ("TOTAL", "DAILY"):
            return _error(400, "Invalid aggregation: TOTAL or DAILY")
        stats = self._stats_of(m.group(2))
        if stats is None:
            return _error(404, f"Entity {m.group(2)} not found")
        return Reply(
            200,
            {
                "paging": {"start": 0, "count": 10, "links": []},
                "elements": [
                    {
                        "count": stats.get(query_type, 0),
                        "metricType": {
                            "com.linkedin.adsexternalapi.memberanalytics.v1."
                            "CreatorPostAnalyticsMetricTypeV1": query_type
                        },
                    }
                ],
            },
        )

    def _social_actions(self, urn: str, auth: Token) -> Reply:
        if not auth.scopes & {"r_member_social", "r_organization_social"}:
            return _error(
                403,
                "Not enough permissions to access: socialActions.GET.20260101",
                code="ACCESS_DENIED",
            )
        stats = self._stats_of(urn)
        if stats is None:
            return _error(404, f"Entity {urn} not found")
        return Reply(
            200,
            {
                "target": urn,
                "likesSummary": {
                    "totalLikes": stats.get("REACTION", 0),
                    "likedByCurrentUser": False,
                },
                "commentsSummary": {
                    "aggregatedTotalComments": stats.get("COMMENT", 0),
                    "totalFirstLevelComments": stats.get("COMMENT", 0),
                },
            },
        )

    def _author_problem(self, author: str, member: Member, auth: Token, doing: str) -> Reply | None:
        """The 403 LinkedIn gives when ``member``'s token may not act as ``author``.

        A member acts as themself with ``w_member_social``, and as a page only while
        they administer it and with ``w_organization_social`` (sections 1.2, 1.8).
        """
        if author == member.urn:
            needed = "w_member_social"
        elif author.startswith("urn:li:organization:"):
            needed = "w_organization_social"
            org_id = author.rsplit(":", 1)[1]
            admin_of = self.administrators.get(member.sub, set())
            if not org_id.isdigit() or int(org_id) not in admin_of:
                return _error(
                    403,
                    f"Not enough permissions to {doing} as {author}: the member is not an "
                    "administrator of the organization",
                    serviceErrorCode=100,
                    code="ACCESS_DENIED",
                )
        else:
            return _error(
                403,
                f"Not enough permissions to {doing} as {author}",
                serviceErrorCode=100,
                code="ACCESS_DENIED",
            )
        if needed not in auth.scopes:
            return _error(
                403,
                "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260101",
                serviceErrorCode=100,
                code="ACCESS_DENIED",
            )
        return None

    def _organization_acls(self, req: Request, member: Member, auth: Token) -> Reply:
        q = {k: v[0] for k, v in req.query.items()}
        if q.get("q") != "roleAssignee":
            return _error(400, "Finder q=roleAssignee is required")
        if not auth.scopes & ADMIN_READ_SCOPES:
            return _error(
                403,
                "Not enough permissions to access: organizationAcls.FINDER-roleAssignee.20260101",
                serviceErrorCode=100,
                code="ACCESS_DENIED",
            )
        role, state = q.get("role", "ADMINISTRATOR"), q.get("state", "APPROVED")
        # every role the fake models is an approved administrator
        ids = (
            sorted(self.administrators.get(member.sub, set()))
            if (role, state) == ("ADMINISTRATOR", "APPROVED")
            else []
        )
        try:
            start, count = int(q.get("start", "0")), int(q.get("count", "10"))
        except ValueError:
            return _error(400, "start and count must be integers")
        rows = [
            {
                "roleAssignee": member.urn,
                "role": "ADMINISTRATOR",
                "state": "APPROVED",
                "organization": f"urn:li:organization:{org_id}",
            }
            for org_id in ids[start : start + count]
        ]
        return Reply(
            200,
            {
                "paging": {"start": start, "count": count, "links": [], "total": len(ids)},
                "elements": rows,
            },
        )

    def _organization(self, org_id: str) -> Reply:
        org = self.organizations.get(int(org_id)) if org_id.isdigit() else None
        if org is None:
            return _error(404, f"Organization {org_id} does not exist")
        body: dict[str, Any] = {"id": org.id, "localizedName": org.name}
        if org.vanity:
            body["vanityName"] = org.vanity
        return Reply(200, body)

    def _version_active(self, version: str) -> bool:
        m = re.fullmatch(r"(\d{6})(?:\.\d{2})?", version)
        if not m:
            return False
        return m.group(1) in self.versions

    # ------------------------------------------------------------ OAuth

    def _authorize(self, req: Request) -> Reply:
        q = {k: v[0] for k, v in req.query.items()}
        if q.get("response_type") != "code":
            return _error(400, "response_type must be code")
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return _error(400, "Invalid client_id")
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or (client[1] and redirect_uri not in client[1]):
            return _error(400, "The redirect_uri does not match the registered value")
        scopes = frozenset(q.get("scope", "").split())
        if not scopes:
            return _error(400, "scope is required")
        state = q.get("state")
        if not state:
            return _error(400, "state is required")
        sep = "&" if "?" in redirect_uri else "?"
        if self.consenting_member is None:
            params = {
                "error": "user_cancelled_authorize",
                "error_description": "The user cancelled",
                "state": state,
            }
            return Reply(302, None, {"Location": redirect_uri + sep + urlencode(params)})
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "sub": self.consenting_member,
            "client_id": q["client_id"],
            "redirect_uri": redirect_uri,
            "scopes": scopes,
            "challenge": q.get("code_challenge"),
            "used": False,
        }
        return Reply(
            302, None, {"Location": redirect_uri + sep + urlencode({"code": code, "state": state})}
        )

    def _access_token(self, req: Request) -> Reply:
        ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return _oauth_error(
                400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded"
            )
        form = {k: v[0] for k, v in req.form().items()}
        client = self.clients.get(form.get("client_id", ""))
        if client is None or form.get("client_secret") != client[0]:
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.get(form.get("code", ""))
            bad = (
                entry is None
                or entry["used"]
                or entry["client_id"] != form["client_id"]
                or entry["redirect_uri"] != form.get("redirect_uri")
                or not self._pkce_ok(entry.get("challenge"), form.get("code_verifier"))
            )
            if bad:
                return _oauth_error(
                    400,
                    "invalid_request",
                    "Unable to retrieve access token: appid/redirect uri/code verifier does not "
                    "match authorization code. Or authorization code expired.",
                )
            assert entry is not None
            entry["used"] = True  # codes are single-use
            access = self.issue_token(entry["sub"], entry["scopes"])
            reply = {
                "access_token": access,
                "expires_in": self.token_lifetime,
                "scope": ",".join(sorted(entry["scopes"])),
                "token_type": "Bearer",
                "id_token": "eyJ.fake.jwt",
            }
            if self.issue_refresh_tokens:
                reply["refresh_token"] = self.add_refresh_token(
                    entry["sub"], client_id=form["client_id"], scopes=entry["scopes"]
                )
                reply["refresh_token_expires_in"] = self.refresh_token_lifetime
            return Reply(200, reply)
        if grant == "refresh_token":
            record = self.refresh_tokens.get(form.get("refresh_token", ""))
            if record is None or record.client_id != form["client_id"]:
                return _oauth_error(400, "invalid_request", "The provided refresh token is invalid")
            remaining = int(record.expires_at - self.clock())
            if remaining <= 0:
                return _oauth_error(
                    400, "invalid_request", "The provided refresh token has expired"
                )
            access = self.issue_token(record.sub, record.scopes)
            return Reply(
                200,
                {
                    "access_token": access,
                    "expires_in": self.token_lifetime,
                    # the refresh token is not extended: same token, what is left of its life
                    "refresh_token": form["refresh_token"],
                    "refresh_token_expires_in": remaining,
                    "scope": ",".join(sorted(record.scopes)),
                },
            )
        return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}")

    @staticmethod
    def _pkce_ok(challenge: str | None, verifier: str | None) -> bool:
        if not challenge:
            return True
        if not verifier:
            return False
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") == challenge

    def _userinfo(self, req: Request) -> Reply:
        auth = self._authenticate(req)
        if isinstance(auth, Reply):
            return auth
        member = self.members.get(auth.sub)
        if member is None or "openid" not in auth.scopes:
            return _error(
                403, "Not enough permissions to access: userinfo.GET", code="ACCESS_DENIED"
            )
        info: dict[str, Any] = {"sub": member.sub, "locale": member.locale}
        if "profile" in auth.scopes:
            info.update(
                name=member.name,
                given_name=member.given_name,
                family_name=member.family_name,
                picture=f"https://media.licdn.com/dms/image/{member.sub}/profile-displayphoto",
            )
        return Reply(200, info)

    # ------------------------------------------------------------ uploads

    def _image_init(self, body: dict[str, Any], member: Member, auth: Token) -> Reply:
        request = body.get("initializeUploadRequest")
        if not isinstance(request, dict) or not isinstance(request.get("owner"), str):
            return _error(400, "initializeUploadRequest.owner is required")
        problem = self._author_problem(request["owner"], member, auth, "upload")
        if problem is not None:
            return problem
        key = f"C4E10AQ{next(self._ids)}"
        image = Image(f"urn:li:image:{key}", request["owner"], secrets.token_urlsafe(16))
        self.images[image.urn] = image
        return Reply(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": int((self.clock() + 86400) * 1000),
                    "uploadUrl": f"{self._upload_root}/dms-uploads/image/{key}?ut={image.upload_token}",
                    "image": image.urn,
                }
            },
        )

    def _document_init(self, body: dict[str, Any], member: Member, auth: Token) -> Reply:
        request = body.get("initializeUploadRequest")
        if not isinstance(request, dict) or not isinstance(request.get("owner"), str):
            return _error(400, "initializeUploadRequest.owner is required")
        problem = self._author_problem(request["owner"], member, auth, "upload")
        if problem is not None:
            return problem
        key = f"D4D10AQ{next(self._ids)}"
        doc = Document(f"urn:li:document:{key}", request["owner"], secrets.token_urlsafe(16))
        self.documents[doc.urn] = doc
        return Reply(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": int((self.clock() + 86400) * 1000),
                    "uploadUrl": f"{self._upload_root}/dms-uploads/document/{key}?ut={doc.upload_token}",
                    "document": doc.urn,
                }
            },
        )

    def _video_init(self, body: dict[str, Any], member: Member, auth: Token) -> Reply:
        request = body.get("initializeUploadRequest")
        if not isinstance(request, dict) or not isinstance(request.get("owner"), str):
            return _error(400, "initializeUploadRequest.owner is required")
        size = request.get("fileSizeBytes")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            return _error(400, "initializeUploadRequest.fileSizeBytes must be a positive integer")
        problem = self._author_problem(request["owner"], member, auth, "upload")
        if problem is not None:
            return problem
        key = f"C5F10AQ{next(self._ids)}"
        url_token = secrets.token_urlsafe(16)
        parts = [
            VideoPart(first, min(first + self.video_part_size, size) - 1)
            for first in range(0, size, self.video_part_size)
        ]
        video = Video(
            f"urn:li:video:{key}", request["owner"], size, self.video_upload_token, url_token, parts
        )
        self.videos[video.urn] = video
        return Reply(
            200,
            {
                "value": {
                    "video": video.urn,
                    "uploadToken": video.upload_token,
                    "uploadUrlsExpireAt": int((self.clock() + 86400) * 1000),
                    "uploadInstructions": [
                        {
                            "uploadUrl": f"{self._upload_root}/dms-uploads/video/{key}/part/{i}?ut={url_token}",
                            "firstByte": p.first,
                            "lastByte": p.last,
                        }
                        for i, p in enumerate(parts)
                    ],
                }
            },
        )

    @property
    def _upload_root(self) -> str:
        return (self.upload_base or self.url).rstrip("/")

    def _upload(self, req: Request) -> Reply:
        # the signed ``ut`` in the URL is what authorizes an upload; a bearer token,
        # when sent, must still be a good one
        if req.header("authorization"):
            auth = self._authenticate(req)
            if isinstance(auth, Reply):
                return auth
        ut = (req.query.get("ut") or [""])[0]
        m = re.fullmatch(r"/dms-uploads/image/([\w-]+)", req.path)
        if m:
            image = self.images.get(f"urn:li:image:{m.group(1)}")
            if image is None or ut != image.upload_token:
                return _error(404, "Upload URL not found or expired")
            if not req.body:
                return _error(400, "Empty upload body")
            image.puts += 1
            image.data = req.body
            if image.puts > 1:
                # a second PUT to one image URL corrupts the image (postiz, section 1.4)
                image.status = "PROCESSING_FAILED"
            elif self.image_processing_posts:
                image.status = "PROCESSING"
                image.pending_posts = self.image_processing_posts
            else:
                image.status = "AVAILABLE"
            return Reply(201)
        m = re.fullmatch(r"/dms-uploads/document/([\w-]+)", req.path)
        if m:
            doc = self.documents.get(f"urn:li:document:{m.group(1)}")
            if doc is None or ut != doc.upload_token:
                return _error(404, "Upload URL not found or expired")
            if not req.body:
                return _error(400, "Empty upload body")
            doc.puts += 1
            doc.data = req.body
            # like an image, a document is one PUT of the whole file
            doc.status = "AVAILABLE" if doc.puts == 1 else "PROCESSING_FAILED"
            return Reply(201)
        m = re.fullmatch(r"/dms-uploads/video/([\w-]+)/part/(\d+)", req.path)
        if m:
            video = self.videos.get(f"urn:li:video:{m.group(1)}")
            index = int(m.group(2))
            if video is None or ut != video.url_token or index >= len(video.parts):
                return _error(404, "Upload URL not found or expired")
            part = video.parts[index]
            if len(req.body) != part.last - part.first + 1:
                return _error(
                    400,
                    f"Part {index} must be {part.last - part.first + 1} bytes, got {len(req.body)}",
                )
            part.etag = (
                f"/ambry-video/{m.group(1)}-{index}-{hashlib.md5(req.body).hexdigest()[:16]}"
            )
            video.data[index] = req.body
            return Reply(201, None, {"ETag": part.etag})
        return _error(404, "Upload URL not found")

    def _video_finalize(self, body: dict[str, Any], member: Member, auth: Token) -> Reply:
        request = body.get("finalizeUploadRequest")
        if not isinstance(request, dict):
            return _error(400, "finalizeUploadRequest is required")
        video = self.videos.get(str(request.get("video")))
        if video is None:
            return _error(400, f"Video {request.get('video')} does not exist")
        if self._author_problem(video.owner, member, auth, "finalize") is not None:
            return _error(
                403, "Not enough permissions to finalize this video", code="ACCESS_DENIED"
            )
        if request.get("uploadToken") != video.upload_token:
            return _error(400, "uploadToken does not match the upload")
        expected = [p.etag for p in video.parts]
        if None in expected:
            return _error(400, "Not every part of the video was uploaded")
        if request.get("uploadedPartIds") != expected:
            return _error(400, "uploadedPartIds do not match the uploaded parts, in order")
        video.status = "PROCESSING"
        video.polls_left = self.video_polls
        video.forbidden_polls_left = self.video_forbidden_polls
        return Reply(200)

    def _video_status(self, urn: str, member: Member) -> Reply:
        video = self.videos.get(urn)
        if video is None:
            return _error(404, f"Video {urn} does not exist")
        if video.forbidden_polls_left > 0:
            video.forbidden_polls_left -= 1
            return _error(403, "resource is forbidden", serviceErrorCode=100, code="ACCESS_DENIED")
        if video.status == "PROCESSING":
            if video.polls_left > 0:
                video.polls_left -= 1
            else:
                video.status = "PROCESSING_FAILED" if self.video_fails else "AVAILABLE"
        return Reply(200, {"id": video.urn, "owner": video.owner, "status": video.status})

    # ------------------------------------------------------------ posts

    def _create_post(self, body: dict[str, Any], member: Member, auth: Token) -> Reply:
        now = self.clock()
        day = int(now // 86400)  # daily windows reset at midnight UTC
        today = [
            p
            for p in self.posts
            if p["member"] == member.sub and int(p["created_at"] // 86400) == day
        ]
        if len(today) >= self.daily_post_limit:
            return Reply(429, TOO_MANY_REQUESTS)
        # each create attempt comes a moment later: images being processed move on
        for image in self.images.values():
            if image.status == "PROCESSING":
                if image.pending_posts > 0:
                    image.pending_posts -= 1
                else:
                    image.status = "AVAILABLE"
        problem = self._post_problem(body, member, auth)
        if problem is not None:
            return problem
        little = decode_little(body["commentary"], strict=self.strict_little)
        if len(little.decoded) > 3000:
            return _error(
                400,
                f"/commentary :: length {len(little.decoded)} exceeds the maximum of 3000",
            )
        content = body.get("content")
        for earlier in reversed(self.posts):
            if now - earlier["created_at"] > self.duplicate_window:
                break
            same = (
                earlier["author"] == body["author"]
                and earlier["commentary_raw"] == body["commentary"]
            )
            if same and (body["commentary"] or earlier["content"] == content):
                return Reply(
                    422,
                    {
                        "errorDetailType": "com.linkedin.common.error.BadRequest",
                        "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
                        f"Content is a duplicate of {earlier['urn']}",
                        "errorDetails": {
                            "inputErrors": [
                                {
                                    "description": "Duplicate post is detected",
                                    "input": {},
                                    "code": "DUPLICATE_POST",
                                }
                            ]
                        },
                        "status": 422,
                    },
                )
        urn = f"urn:li:share:{next(self._ids)}"
        self.posts.append(
            {
                "urn": urn,
                "author": body["author"],
                "member": member.sub,  # who posted it, a page's admin for a page post
                "commentary_raw": body["commentary"],
                "commentary_decoded": little.decoded,
                "truncated_at": little.truncated_at,
                "mentions": little.mentions,
                "hashtags": little.hashtags,
                "content": content,
                "visibility": body["visibility"],
                "lifecycleState": body["lifecycleState"],
                "body": body,
                "created_at": now,
            }
        )
        return Reply(201, None, {"x-restli-id": urn})

    def _post_problem(self, body: dict[str, Any], member: Member, auth: Token) -> Reply | None:
        """The 400/403/422 a real LinkedIn would give this body, or None."""
        unknown = sorted(set(body) - POST_FIELDS)
        if unknown:
            return _error(400, f"Unpermitted fields present in REQUEST_BODY: {', '.join(unknown)}")
        for name in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                return _error(400, f"Field /{name} is required")
        author = body["author"]
        if not isinstance(author, str) or not _AUTHOR_RE.fullmatch(author):
            return _error(400, f"/author :: {author!r} is not a valid person or organization URN")
        problem = self._author_problem(author, member, auth, "post")
        if problem is not None:
            return problem
        if not isinstance(body["commentary"], str):
            return _error(400, "/commentary must be a string")
        if body["visibility"] not in VISIBILITIES:
            return _error(400, f"/visibility :: {body['visibility']!r} is not a valid visibility")
        dist = body["distribution"]
        if not isinstance(dist, dict) or set(dist) - {
            "feedDistribution",
            "targetEntities",
            "thirdPartyDistributionChannels",
        }:
            return _error(400, "/distribution has unpermitted or missing fields")
        if dist.get("feedDistribution") not in ("MAIN_FEED", "NONE"):
            return _error(400, "/distribution/feedDistribution must be MAIN_FEED or NONE")
        for name in ("targetEntities", "thirdPartyDistributionChannels"):
            if not isinstance(dist.get(name), list):
                return _error(400, f"/distribution/{name} must be an array")
        if body["lifecycleState"] not in ("PUBLISHED", "DRAFT"):
            return _error(400, f"/lifecycleState :: {body['lifecycleState']!r} is not valid")
        if "isReshareDisabledByAuthor" in body and not isinstance(
            body["isReshareDisabledByAuthor"], bool
        ):
            return _error(400, "/isReshareDisabledByAuthor must be a boolean")
        if "content" in body:
            return self._content_problem(body["content"], author)
        return None

    def _content_problem(self, content: Any, author: str) -> Reply | None:
        if not isinstance(content, dict) or len(content) != 1:
            return _error(400, "/content must hold exactly one of media, multiImage, article")
        ((kind, value),) = content.items()
        if kind == "media":
            if not isinstance(value, dict) or set(value) - {"id", "altText", "title"}:
                return _error(400, "/content/media has unpermitted fields")
            return self._media_problem(
                value, author, "/content/media", ("image", "video", "document")
            )
        if kind == "multiImage":
            images = value.get("images") if isinstance(value, dict) else None
            if not isinstance(images, list) or not 2 <= len(images) <= 20:
                return _error(400, "/content/multiImage/images must hold 2 to 20 images")
            for n, ref in enumerate(images):
                where = f"/content/multiImage/images/{n}"
                if not isinstance(ref, dict) or set(ref) - {"id", "altText"}:
                    return _error(400, f"{where} has unpermitted fields")
                problem = self._media_problem(ref, author, where, ("image",))
                if problem is not None:
                    return problem
            return None
        if kind == "article":
            if not isinstance(value, dict) or not str(value.get("source", "")).startswith(
                ("http://", "https://")
            ):
                return _error(400, "/content/article/source must be an http(s) URL")
            if not isinstance(value.get("title"), str):
                return _error(400, "/content/article/title is required")
            return None
        return _error(400, f"Unpermitted field /content/{kind}")

    def _media_problem(
        self, ref: dict[str, Any], author: str, where: str, kinds: tuple[str, ...]
    ) -> Reply | None:
        urn = ref.get("id")
        if "altText" in ref and not isinstance(ref["altText"], str):
            return _error(400, f"{where}/altText must be a string")
        m = re.fullmatch(r"urn:li:(\w+):[\w-]+", urn) if isinstance(urn, str) else None
        if m is None or m.group(1) not in kinds:
            return _error(400, f"{where}/id :: {urn!r} is not a valid {' or '.join(kinds)} URN")
        media: Image | Video | Document | None
        if m.group(1) == "document":
            title = ref.get("title")
            if not isinstance(title, str) or not title.strip():
                return _error(400, f"{where}/title is required for a document")
            media = self.documents.get(urn)
        else:
            media = (self.images if m.group(1) == "image" else self.videos).get(urn)
        if media is None:
            return _error(400, f"{where}/id :: {urn} does not exist")
        if media.owner != author:
            return _error(400, f"{where}/id :: the owner of {urn} is not the author {author}")
        # the wording is the fake's own: the contract only says LinkedIn refuses a post
        # whose media is not yet available (section 1.5 [observed, postiz])
        if media.status == "PROCESSING":
            return _error(422, f"Media {urn} is not ready yet: it is still being processed")
        if media.status == "PROCESSING_FAILED":
            return _error(422, f"Media {urn} could not be processed: upload it again")
        if media.status != "AVAILABLE":
            return _error(422, f"Media {urn} has no uploaded content ({media.status})")
        return None

    # ------------------------------------------------------------ inspection

    def versions_sent(self, route: str = ".*") -> list[str | None]:
        """The ``LinkedIn-Version`` of each request matching ``route``, in order (None
        where the request sent none), so tests can see every version a client tried."""
        return [r.header("linkedin-version") for r in self.calls(route)]

    def post_json(self, index: int = -1) -> str:
        """A stored post's request body as JSON, for assertions on the wire format."""
        with self._lock:
            return json.dumps(self.posts[index]["body"])


class UploadHost(FakeServer):
    """A second origin (another port on 127.0.0.1) that takes LinkedIn's upload PUTs.

    Point a :class:`FakeLinkedIn` at it with ``fake.upload_base = host.url`` and
    initializeUpload hands out upload URLs there, as if LinkedIn's uploads lived on
    a storage host of their own. The PUTs land in the LinkedIn fake's images,
    documents and videos, so a post can still use them, and ``requests`` records
    exactly what the client sent to this host.

    Like presigned-URL storage (S3 answers 400 ``InvalidArgument`` when a request
    carries both a signature and an ``Authorization`` header), it refuses any PUT
    with an ``Authorization`` header: the signed ``ut`` in the URL is the only
    credential it takes, and a bearer token sent here would be a leak.
    """

    def __init__(self, linkedin: FakeLinkedIn) -> None:
        super().__init__()
        self.linkedin = linkedin

    def reset(self) -> UploadHost:
        with self._lock:
            self.requests.clear()
            self._faults.clear()
        return self

    def handle(self, req: Request) -> Reply:
        if req.header("authorization") is not None:
            return _error(400, "Only one auth mechanism allowed: the upload URL is already signed")
        if req.method != "PUT" or not req.path.startswith("/dms-uploads/"):
            return _error(404, f"No resource found for {req.method} {req.path}")
        # this server's lock is held here; LinkedIn's state is guarded by its own
        with self.linkedin._lock:
            return self.linkedin._upload(req)
