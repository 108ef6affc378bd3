"""A fake Instagram Graph API (Instagram Login) enforcing CONTRACTS.md section 3.

It serves both roles (``graph.instagram.com`` and ``api.instagram.com``) on one port,
with or without a ``/vNN.0`` prefix, and takes parameters and tokens in every place
Graph does. Container creation really fetches ``image_url``/``video_url`` over HTTP,
so tests serve media from a *different* server (:class:`MediaHost`): ``handle`` runs
under this server's lock and must never call back into it.

Time is a fake clock (``clock``, epoch seconds; ``advance``) for token and container
expiry and the 24-hour publishing window. ``published`` lists every post that exists,
for "published exactly once" assertions.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import re
import socket
import struct
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from tests.fakes.server import FakeServer, Reply, Request

MIB = 1024 * 1024
DAY = 86400.0
LONG_LIVED = 5184000  # 60 days, as Graph reports it
SHORT_LIVED = 3600

_VERSION_PREFIX = re.compile(r"^/v\d+\.0(?=/|$)")
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
_MENTION = re.compile(r"(?<![\w.])@[A-Za-z0-9_.]+")
# SOFn markers that carry frame dimensions (C4 DHT, C8 JPG, CC DAC are not frames)
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    status: int = 400,
    user_title: str | None = None,
    user_msg: str | None = None,
    is_transient: bool = False,
    type_: str = "OAuthException",
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error in the exact Graph shape (``{"error": {...}}``), HTTP 400 by default."""
    return Reply(
        status,
        error_body(
            code,
            message,
            subcode=subcode,
            user_title=user_title,
            user_msg=user_msg,
            is_transient=is_transient,
            type_=type_,
        ),
        dict(headers or {}),
    )


def error_body(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
    is_transient: bool = False,
    type_: str = "OAuthException",
) -> dict[str, Any]:
    """The body of a Graph error, for ``fake.inject(..., body=error_body(...))``."""
    err: dict[str, Any] = {"message": message, "type": type_, "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    err["is_transient"] = is_transient
    if user_title:
        err["error_user_title"] = user_title
    if user_msg:
        err["error_user_msg"] = user_msg
    err["fbtrace_id"] = base64.urlsafe_b64encode(
        hashlib.sha1(f"{code}/{subcode}/{message}".encode()).digest()
    ).decode()[:23]
    return {"error": err}


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's SOF marker, or None when it is not a readable JPEG."""
    if not data.startswith(b"\xff\xd8"):
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # standalone markers, no length
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame
            return None
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF_MARKERS:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    """One length-prefixed JPEG marker segment."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def make_jpeg(width: int, height: int, *, padding: int = 0) -> bytes:
    """A valid baseline greyscale JPEG of ``width`` x ``height``, flat mid-grey.

    One quantisation table, and Huffman tables holding a single 1-bit code each: DC
    category 0 (no change) and AC end-of-block. Every 8x8 block is then the two bits
    "00"; the scan is padded with 1-bits. ``padding`` adds comment segments to make
    the file larger while keeping it a well-formed JPEG.
    """
    parts = [
        b"\xff\xd8",
        jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        jpeg_segment(0xDB, b"\x00" + bytes([1] * 64)),
        jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
        jpeg_segment(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00"),
        jpeg_segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00"),
    ]
    while padding > 0:
        chunk = min(padding, 65533)
        parts.append(jpeg_segment(0xFE, b"\x00" * chunk))
        padding -= chunk
    parts.append(jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"))
    bits = 2 * math.ceil(width / 8) * math.ceil(height / 8)
    scan = bytearray(math.ceil(bits / 8))
    spare = len(scan) * 8 - bits
    if spare:
        scan[-1] = (1 << spare) - 1
    return b"".join(parts) + bytes(scan) + b"\xff\xd9"


@dataclass
class Token:
    token: str
    user_id: str
    username: str
    expires_at: float | None  # fake-clock seconds; None = never
    issued_at: float
    long_lived: bool = True


@dataclass
class Container:
    id: str
    user: str
    media_type: str  # IMAGE | REELS | VIDEO | CAROUSEL
    media_url: str | None
    caption: str
    alt_text: str
    is_carousel_item: bool
    children: list[str]
    created_at: float
    polls_needed: int
    error_status: str | None = None
    polls: int = 0
    status_code: str = "IN_PROGRESS"
    media_id: str | None = None


@dataclass
class Media:
    id: str
    user: str
    media_type: str
    caption: str
    permalink: str
    timestamp: float
    container: str
    extra: dict[str, Any] = field(default_factory=dict)


class QuickStop(FakeServer):
    """``stop()`` without the up-to-half-a-second wait of ``serve_forever``'s poll loop.

    ``shutdown()`` is only noticed between polls; a throwaway connection wakes the loop
    at once, which keeps a suite that starts two servers per test fast.
    """

    def stop(self) -> None:
        try:
            parts = urlsplit(self.url)
        except AssertionError:  # never started, or already stopped
            return
        stopper = threading.Thread(target=super().stop, daemon=True)
        stopper.start()
        while stopper.is_alive():
            try:
                socket.create_connection((parts.hostname, parts.port), timeout=0.1).close()
            except OSError:
                pass
            stopper.join(0.01)


class MediaHost(QuickStop):
    """A tiny static file server standing in for a public CDN."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, tuple[bytes, str]] = {}

    def add(self, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` at ``path``; returns its full URL (the server must be started)."""
        with self._lock:
            self.files[path] = (data, content_type)
        return f"{self.url}{path}"

    def handle(self, req: Request) -> Reply:
        if req.method != "GET" or req.path not in self.files:
            return Reply(404, "<html><body>Not found</body></html>")
        data, ctype = self.files[req.path]
        return Reply(200, data, content_type=ctype)


class FakeInstagram(QuickStop):
    """Graph API for Instagram Login: /me, containers, media_publish, tokens, OAuth.

    Knobs (plain attributes, set before or during a test):

    - ``image_polls`` / ``video_polls`` / ``carousel_polls``: status reads answered
      ``IN_PROGRESS`` before a container turns ``FINISHED``;
    - ``processing_errors``: media URL -> ``status`` text; such a container ends in
      ``ERROR`` instead of ``FINISHED``;
    - ``quota_total``: posts per account per rolling window (sources say 25/50/100);
    - ``quota_usage``: the window's post count to report and enforce; None counts the
      media published in the window;
    - ``quota_duration``: the window, in seconds (Graph reports 86400);
    - ``min_refresh_age``: a token must be this old before it can be refreshed;
    - ``fetch_timeout``: how long the "crawler" waits for a media URL;
    - ``oauth_shape``: ``"data"`` (current) or ``"flat"`` (older) code-exchange answers;
    - ``listing_delay``: seconds before a post made through media_publish shows in the
      account's media list (the list lags behind publishing); ``add_media`` posts show
      at once, whatever their time.

    ``publish_then_fail`` makes media_publish post and then answer an error, as Meta
    has done, so the container reads ``PUBLISHED`` behind a refusal. ``add_media`` puts
    a post there as another tool (or the app) would have.
    """

    def __init__(
        self,
        *,
        image_polls: int = 0,
        video_polls: int = 3,
        carousel_polls: int = 0,
        quota_total: int = 100,
        clock: float = 1_772_366_400.0,  # 2026-03-01T12:00:00Z
    ) -> None:
        super().__init__()
        self.image_polls = image_polls
        self.video_polls = video_polls
        self.carousel_polls = carousel_polls
        self.quota_total = quota_total
        self.quota_usage: int | None = None
        self.quota_duration = int(DAY)
        self.clock = clock
        self.min_refresh_age = DAY
        self.fetch_timeout = 2.0
        self.oauth_shape = "data"
        self.listing_delay = 0.0
        self.processing_errors: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.apps: dict[str, str] = {}  # client_id -> client_secret
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (client_id, redirect, user)
        self.users: dict[str, str] = {}  # user_id -> username
        self.containers: dict[str, Container] = {}
        self.media: dict[str, Media] = {}
        self.published: list[dict[str, Any]] = []
        #: comments made with POST /{media-id}/comments, oldest first
        self.comments: list[dict[str, Any]] = []
        #: tokens granted before comments were asked for
        self.tokens_without_comments: set[str] = set()
        #: tokens granted without the insights permission (code 10 on /insights)
        self.tokens_without_insights: set[str] = set()
        #: insight values per media id (:meth:`set_insights`)
        self.insights: dict[str, dict[str, int]] = {}
        #: media too young for figures: code 10 "Not enough viewers"
        self.too_few_viewers: set[str] = set()
        self._container_ids = itertools.count(17889455560000001)
        self._media_ids = itertools.count(17920238420000001)
        self._token_ids = itertools.count(1)

    # ------------------------------------------------------------ test setup

    def add_token(
        self,
        token: str,
        *,
        user_id: str = "17841400008460056",
        username: str = "milton.studio",
        expires_in: float | None = LONG_LIVED - DAY,
        age: float = 2 * DAY,
        long_lived: bool = True,
    ) -> Token:
        """Register ``token`` for an account; by default a long-lived token two days old."""
        with self._lock:
            self.users[user_id] = username
            tok = Token(
                token,
                user_id,
                username,
                None if expires_in is None else self.clock + expires_in,
                self.clock - age,
                long_lived,
            )
            self.tokens[token] = tok
            return tok

    def expire(self, token: str) -> None:
        with self._lock:
            self.tokens[token].expires_at = self.clock - 1

    def add_app(self, client_id: str, client_secret: str) -> None:
        with self._lock:
            self.apps[client_id] = client_secret

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        *,
        user_id: str = "17841400008460056",
        username: str = "milton.studio",
    ) -> str:
        """An authorization code as the redirect delivers it (with Instagram's ``#_``)."""
        with self._lock:
            code = f"AQB{next(self._token_ids):06d}code"
            self.codes[code] = (client_id, redirect_uri, user_id)
            self.users[user_id] = username
            return code + "#_"

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.clock += seconds

    def add_media(
        self,
        caption: str,
        *,
        at: float | None = None,
        user_id: str = "17841400008460056",
        media_type: str = "IMAGE",
    ) -> Media:
        """A post made elsewhere, at fake-clock instant ``at`` (now by default).

        ``media_type`` is a container type: IMAGE, REELS or CAROUSEL.
        """
        with self._lock:
            return self._new_media(
                user_id, media_type, caption, self.clock if at is None else at, container=""
            )

    #: the metrics the insights edge knows (Instagram Login media insights)
    insight_metrics = frozenset(
        {"reach", "likes", "comments", "saved", "shares", "views", "total_interactions"}
    )
    #: what the media node itself counts, read without the insights permission
    counter_fields = ("like_count", "comments_count")

    def set_insights(self, media_id: str, **values: int) -> None:
        """The media's lifetime insight values (and ``like_count``/``comments_count``
        on its node, from ``likes``/``comments``)."""
        with self._lock:
            self.insights[media_id] = {k: int(v) for k, v in values.items()}
            media = self.media.get(media_id)
            if media is not None and self.counter_fields:
                media.extra["like_count"] = int(values.get("likes", 0))
                media.extra["comments_count"] = int(values.get("comments", 0))

    def _insights(self, tok: Token, media_id: str, params: dict[str, str]) -> Reply:
        media = self.media.get(media_id)
        if media is None or media.user != tok.user_id:
            return self._no_object(media_id, "GET")
        if tok.token in self.tokens_without_insights:
            return graph_error(10, "(#10) Application does not have permission for this action")
        asked = [m.strip() for m in (params.get("metric") or "").split(",") if m.strip()]
        if not asked:
            return graph_error(100, "(#100) The parameter metric is required")
        for name in asked:
            if name not in self.insight_metrics:
                return graph_error(
                    100,
                    f"(#100) metric[0] must be one of the following values: "
                    f"{', '.join(sorted(self.insight_metrics))}",
                )
        if media_id in self.too_few_viewers:
            return graph_error(10, "(#10) Not enough viewers for the media to show insights")
        values = self.insights.get(media_id, {})
        data = [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values.get(name, 0)}],
                "title": name.title(),
                "description": f"The {name} of the media.",
                "id": f"{media_id}/insights/{name}/lifetime",
            }
            for name in asked
        ]
        return Reply(200, {"data": data})

    def publish_then_fail(
        self,
        code: int | None = 4,
        message: str = "We restrict certain activity to protect our community.",
        *,
        subcode: int | None = 2207051,
        status: int = 400,
        body: Any = None,
        times: int = 1,
        **error: Any,
    ) -> None:
        """Make the next ``times`` media_publish calls post for real, then answer an error.

        Meta has answered 4/2207051 (and other errors) for posts that did go live; the
        container then reads ``PUBLISHED``. ``body`` replaces the Graph error (e.g. an
        HTML page); ``code=None`` with no ``body`` sends an empty one.
        """
        if body is None and code is not None:
            body = error_body(code, message, subcode=subcode, **error)
        self.inject(
            r"POST (/v\d+\.0)?/[^/]+/media_publish",
            status=status,
            body=body,
            when="after",
            times=times,
        )

    # ------------------------------------------------------------ dispatch

    def handle(self, req: Request) -> Reply:
        path = _VERSION_PREFIX.sub("", req.path, count=1)
        segs = [s for s in path.split("/") if s]
        try:
            params = self._params(req)
        except ValueError:
            return graph_error(100, "Invalid parameter: the request body could not be parsed")
        method = req.method

        if method == "POST" and segs == ["oauth", "access_token"]:
            return self._oauth_access_token(params)
        if method == "GET" and segs == ["access_token"]:
            return self._exchange_token(params, self._token_of(req, params))
        if method == "GET" and segs == ["refresh_access_token"]:
            return self._refresh_token(params, self._token_of(req, params))

        tok = self._authenticate(req, params)
        if isinstance(tok, Reply):
            return tok
        if method == "GET" and segs == ["me"]:
            return self._me(tok, params)
        if len(segs) == 2 and segs[1] in ("media", "media_publish", "content_publishing_limit"):
            if segs[0] not in (tok.user_id, "me"):
                return self._no_object(segs[0], method)
            if method == "POST" and segs[1] == "media":
                return self._create_container(tok, params)
            if method == "POST" and segs[1] == "media_publish":
                return self._media_publish(tok, params)
            if method == "GET" and segs[1] == "media":
                return self._list_media(tok, params)
            if method == "GET" and segs[1] == "content_publishing_limit":
                return self._publishing_limit(tok, params)
        if method == "POST" and len(segs) == 2 and segs[1] == "comments":
            return self._comment(tok, segs[0], params)
        if method == "GET" and len(segs) == 2 and segs[1] == "insights":
            return self._insights(tok, segs[0], params)
        if method == "GET" and len(segs) == 1:
            return self._node(tok, segs[0], params)
        return graph_error(
            100,
            f"Unsupported {method.lower()} request. Please read the Graph API documentation",
            subcode=33,
        )

    def _comment(self, tok: Token, media_id: str, params: dict[str, str]) -> Reply:
        """``POST /{ig-media-id}/comments`` with ``message``: needs the comments
        permission, a published media of the account, and a message."""
        if tok.token in self.tokens_without_comments:
            return graph_error(10, "(#10) Application does not have permission for this action")
        media = self.media.get(media_id)
        if media is None:
            return self._no_object(media_id, "POST")
        message = params.get("message", "")
        if not message.strip():
            return graph_error(100, "The parameter message is required")
        if len(message) > 2200:
            return graph_error(100, "Invalid parameter: the message is too long")
        comment_id = str(next(self._media_ids))
        self.comments.append(
            {"id": comment_id, "media_id": media_id, "user": tok.user_id, "message": message}
        )
        return Reply(200, {"id": comment_id})

    # ------------------------------------------------------------ parameters and tokens

    @staticmethod
    def _params(req: Request) -> dict[str, str]:
        """Query, form, multipart or JSON parameters merged, values as strings."""
        params = {k: v[-1] for k, v in req.query.items()}
        if not req.body:
            return params
        ctype = (req.header("content-type") or "").lower()
        if ctype.startswith("application/json"):
            data = req.json()
            if not isinstance(data, dict):
                raise ValueError("JSON body is not an object")
            for key, value in data.items():
                if isinstance(value, bool):
                    params[key] = "true" if value else "false"
                elif isinstance(value, list):
                    params[key] = ",".join(str(v) for v in value)
                elif isinstance(value, dict):
                    params[key] = json.dumps(value)
                else:
                    params[key] = str(value)
        elif ctype.startswith("multipart/form-data"):
            head = f"Content-Type: {req.header('content-type')}\r\n\r\n".encode()
            msg = BytesParser(policy=email_policy).parsebytes(head + req.body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name:
                    value = part.get_content()
                    params[str(name)] = value.decode() if isinstance(value, bytes) else value
        else:
            for key, values in parse_qs(req.body.decode("utf-8"), keep_blank_values=True).items():
                params[key] = values[-1]
        return params

    @staticmethod
    def _token_of(req: Request, params: dict[str, str]) -> str | None:
        if params.get("access_token"):
            return params["access_token"]
        auth = req.header("authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value.strip():
            return value.strip()
        return None

    def _authenticate(self, req: Request, params: dict[str, str]) -> Token | Reply:
        token = self._token_of(req, params)
        if not token:
            return graph_error(104, "An access token is required to request this resource.")
        return self._check_token(token)

    def _check_token(self, token: str | None) -> Token | Reply:
        tok = self.tokens.get(token or "")
        if tok is None:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        if tok.expires_at is not None and self.clock >= tok.expires_at:
            when = datetime.fromtimestamp(tok.expires_at, UTC).strftime("%A, %d-%b-%y %H:%M:%S")
            return graph_error(
                190,
                f"Error validating access token: Session has expired on {when} UTC.",
                subcode=463,
            )
        return tok

    # ------------------------------------------------------------ OAuth and tokens

    def _oauth_access_token(self, params: dict[str, str]) -> Reply:
        def refuse(message: str) -> Reply:
            # api.instagram.com keeps the old Instagram error shape
            return Reply(
                400, {"error_type": "OAuthException", "code": 400, "error_message": message}
            )

        client_id = params.get("client_id", "")
        if client_id not in self.apps or params.get("client_secret") != self.apps[client_id]:
            return refuse("Invalid platform app")
        if params.get("grant_type") != "authorization_code":
            return refuse("Invalid grant_type")
        found = self.codes.get(params.get("code", ""))
        if found is None or found[0] != client_id:
            return refuse("Invalid authorization code")
        if found[1] != params.get("redirect_uri"):
            return refuse(
                "Error validating verification code. Please make sure your "
                "redirect_uri is identical to the one you used in the OAuth dialog request"
            )
        del self.codes[params["code"]]  # codes are single use
        user_id = found[2]
        token = f"IGAAshort{next(self._token_ids):08d}"
        self.tokens[token] = Token(
            token,
            user_id,
            self.users.get(user_id, ""),
            self.clock + SHORT_LIVED,
            self.clock,
            long_lived=False,
        )
        entry = {
            "access_token": token,
            "user_id": int(user_id),
            "permissions": "instagram_business_basic,instagram_business_content_publish",
        }
        return Reply(200, {"data": [entry]} if self.oauth_shape == "data" else entry)

    def _exchange_token(self, params: dict[str, str], token: str | None) -> Reply:
        if params.get("grant_type") != "ig_exchange_token":
            return graph_error(100, "Invalid parameter: grant_type must be ig_exchange_token")
        if params.get("client_secret") not in self.apps.values():
            return graph_error(101, "Error validating client secret.")
        tok = self._check_token(token)
        if isinstance(tok, Reply):
            return tok
        if tok.long_lived:
            return graph_error(100, "Invalid parameter: the token is already long-lived")
        new = self._new_long_lived(tok)
        return Reply(
            200, {"access_token": new.token, "token_type": "bearer", "expires_in": LONG_LIVED}
        )

    def _refresh_token(self, params: dict[str, str], token: str | None) -> Reply:
        if params.get("grant_type") != "ig_refresh_token":
            return graph_error(100, "Invalid parameter: grant_type must be ig_refresh_token")
        tok = self._check_token(token)
        if isinstance(tok, Reply):
            return tok  # an expired token cannot be refreshed (190/463)
        if not tok.long_lived:
            return graph_error(100, "Invalid parameter: only long-lived tokens can be refreshed")
        if self.clock - tok.issued_at < self.min_refresh_age:
            # [uncertain] the real code for "too new to refresh" is not documented
            return graph_error(100, "Invalid parameter: the token must be at least 24 hours old")
        new = self._new_long_lived(tok)
        return Reply(
            200, {"access_token": new.token, "token_type": "bearer", "expires_in": LONG_LIVED}
        )

    def _new_long_lived(self, tok: Token) -> Token:
        token = f"IGAAlong{next(self._token_ids):08d}"
        new = Token(token, tok.user_id, tok.username, self.clock + LONG_LIVED, self.clock)
        self.tokens[token] = new
        return new

    # ------------------------------------------------------------ reading

    def _me(self, tok: Token, params: dict[str, str]) -> Reply:
        node = {
            "id": f"app-scoped-{tok.user_id[-6:]}",  # not the id to publish with
            "user_id": tok.user_id,
            "username": tok.username,
            "name": tok.username.replace(".", " ").title(),
        }
        return Reply(200, _select(node, params.get("fields") or "id"))

    def _node(self, tok: Token, node_id: str, params: dict[str, str]) -> Reply:
        fields = params.get("fields") or "id"
        if node_id in self.containers:
            cont = self.containers[node_id]
            if cont.user != tok.user_id:
                return self._no_object(node_id, "GET")
            wanted = {f.strip() for f in fields.split(",")}
            unknown = wanted - {"id", "status_code", "status"}
            if unknown:
                return graph_error(
                    100,
                    f"(#100) Tried accessing nonexisting field ({sorted(unknown)[0]}) on node "
                    "type (ShadowIGMediaBuilder)",
                )
            self._advance_container(cont, count_poll="status_code" in wanted)
            node = {
                "id": cont.id,
                "status_code": cont.status_code,
                "status": self._status_text(cont),
            }
            return Reply(200, _select(node, fields))
        if node_id in self.media:
            m = self.media[node_id]
            if m.user != tok.user_id:
                return self._no_object(node_id, "GET")
            return Reply(200, _select(self._media_node(m), fields))
        return self._no_object(node_id, "GET")

    def _list_media(self, tok: Token, params: dict[str, str]) -> Reply:
        try:
            limit = max(1, min(100, int(params.get("limit") or 25)))
        except ValueError:
            return graph_error(100, "Invalid parameter: limit")
        fields = params.get("fields") or "id"
        mine = [
            m
            for m in self.media.values()
            if m.user == tok.user_id
            and not (m.container and self.clock - m.timestamp < self.listing_delay)
        ]
        mine.sort(key=lambda m: (m.timestamp, m.id), reverse=True)
        data = [_select(self._media_node(m), fields) for m in mine[:limit]]
        return Reply(
            200, {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}}
        )

    def _publishing_limit(self, tok: Token, params: dict[str, str]) -> Reply:
        entry = {
            "quota_usage": self._quota_usage(tok.user_id),
            "config": {"quota_total": self.quota_total, "quota_duration": self.quota_duration},
        }
        # Graph sends only the fields asked for; quota_usage when none are
        wanted = [f.strip() for f in (params.get("fields") or "quota_usage").split(",")]
        return Reply(200, {"data": [{k: v for k, v in entry.items() if k in wanted}]})

    @staticmethod
    def _media_node(m: Media) -> dict[str, Any]:
        return {
            "id": m.id,
            "caption": m.caption,
            "media_type": m.media_type,
            "permalink": m.permalink,
            "timestamp": datetime.fromtimestamp(m.timestamp, UTC).strftime(
                "%Y-%m-%dT%H:%M:%S+0000"
            ),
            **m.extra,
        }

    @staticmethod
    def _no_object(node_id: str, method: str) -> Reply:
        return graph_error(
            100,
            f"Unsupported {method.lower()} request. Object with ID '{node_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
            subcode=33,
        )

    # ------------------------------------------------------------ containers

    def _create_container(self, tok: Token, params: dict[str, str]) -> Reply:
        media_type = (params.get("media_type") or "IMAGE").upper()
        is_item = params.get("is_carousel_item", "false").lower() == "true"
        caption = params.get("caption", "")
        alt_text = params.get("alt_text", "")
        if len(self._recent_containers(tok.user_id)) >= 400:
            return graph_error(
                4,
                "Application request limit reached: 400 containers in 24 hours",
                is_transient=True,
            )

        if media_type == "CAROUSEL":
            return self._create_carousel(tok, params, caption, alt_text)
        if is_item and caption:
            return graph_error(
                100, "Invalid parameter: captions are not supported on carousel items"
            )
        if caption and (problem := self._caption_problem(caption)):
            return problem
        if media_type == "IMAGE":
            url = params.get("image_url")
            if not url:
                return graph_error(100, "The parameter image_url is required")
            if len(alt_text) > 1000:
                return graph_error(
                    100, "Invalid parameter: alt_text is longer than 1000 characters"
                )
            problem = self._check_image(url)
            polls = self.image_polls
        elif media_type == "REELS" or (media_type == "VIDEO" and is_item):
            if is_item and media_type == "REELS":
                return graph_error(
                    100,
                    "Invalid parameter: carousel video items use media_type VIDEO",
                    subcode=2207023,
                )
            if alt_text:
                return graph_error(100, "Invalid parameter: alt_text is not supported for video")
            url = params.get("video_url")
            if not url:
                return graph_error(100, "The parameter video_url is required")
            problem = self._check_video(url)
            polls = self.video_polls
        else:
            # standalone VIDEO has been Reels since July 2023
            return graph_error(
                100,
                f"The media type {media_type} is unknown.",
                subcode=2207023,
                user_title="Unknown media type",
                user_msg=f"The media type {media_type} is unknown.",
            )
        if problem is not None:
            return problem
        cont = Container(
            id=str(next(self._container_ids)),
            user=tok.user_id,
            media_type=media_type,
            media_url=url,
            caption=caption,
            alt_text=alt_text,
            is_carousel_item=is_item,
            children=[],
            created_at=self.clock,
            polls_needed=polls,
            error_status=self.processing_errors.get(url),
        )
        self.containers[cont.id] = cont
        return Reply(200, {"id": cont.id})

    def _create_carousel(
        self, tok: Token, params: dict[str, str], caption: str, alt_text: str
    ) -> Reply:
        if alt_text:
            return graph_error(100, "Invalid parameter: alt_text is not supported on a carousel")
        if caption and (problem := self._caption_problem(caption)):
            return problem
        children = [c.strip() for c in params.get("children", "").split(",") if c.strip()]
        if not 2 <= len(children) <= 10:
            return graph_error(
                100,
                "Invalid parameter",
                subcode=2207028,
                user_title="Carousel validation failed",
                user_msg="Carousels need at least 2 photos/videos and no more than 10 photos/videos.",
            )
        for child_id in children:
            child = self.containers.get(child_id)
            if child is None or child.user != tok.user_id:
                return graph_error(
                    24, f"The media with id {child_id} cannot be found", subcode=2207006
                )
            if not child.is_carousel_item:
                return graph_error(100, f"Invalid parameter: {child_id} is not a carousel item")
            self._advance_container(child, count_poll=False)
            if child.status_code != "FINISHED":
                # [observed] children still processing make the parent fail
                return graph_error(
                    9007,
                    "Media ID is not available",
                    subcode=2207027,
                    user_title="Media is not ready for publishing",
                    user_msg="The media is not ready for publishing, please wait for a moment",
                )
        cont = Container(
            id=str(next(self._container_ids)),
            user=tok.user_id,
            media_type="CAROUSEL",
            media_url=None,
            caption=caption,
            alt_text="",
            is_carousel_item=False,
            children=children,
            created_at=self.clock,
            polls_needed=self.carousel_polls,
        )
        self.containers[cont.id] = cont
        return Reply(200, {"id": cont.id})

    @staticmethod
    def _caption_problem(caption: str) -> Reply | None:
        if len(caption) > 2200:
            return graph_error(
                36004,
                "The caption is too long.",
                subcode=2207010,
                user_title="Caption too long",
                user_msg=f"The submitted image's caption was {len(caption)} characters long, "
                "but the maximum allowed is 2200. Please shorten the caption.",
            )
        if len(_HASHTAG.findall(caption)) > 30:
            return graph_error(
                100,
                "Invalid parameter",
                subcode=2207040,
                user_title="Too many hashtags",
                user_msg="Cannot use more than 30 hashtags in a caption.",
            )
        if len(_MENTION.findall(caption)) > 20:
            return graph_error(
                100,
                "Invalid parameter",
                subcode=2207040,
                user_title="Too many tags",
                user_msg="Cannot use more than 20 tags in a caption.",
            )
        return None

    def _fetch(self, url: str, limit: int) -> bytes | Reply:
        """GET ``url`` like Meta's crawler does, reading at most ``limit + 1`` bytes."""
        unreachable = graph_error(
            9004,
            "Only photo or video can be accepted as media type.",
            subcode=2207052,
            user_title="Media download has failed.",
            user_msg=f"The media could not be fetched from this uri: {url}",
        )
        if not url.lower().startswith(("http://", "https://")):
            return unreachable
        try:
            with (
                requests.Session() as s,
                s.get(url, timeout=self.fetch_timeout, stream=True, allow_redirects=True) as resp,
            ):
                if resp.status_code != 200:
                    return unreachable
                data = bytearray()
                for chunk in resp.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > limit:
                        break
                return bytes(data)
        except requests.Timeout:
            return graph_error(
                -2,
                "Timeout",
                subcode=2207003,
                is_transient=True,
                user_title="Timeout",
                user_msg="It takes too long to download the media.",
            )
        except requests.RequestException:
            return unreachable

    def _check_image(self, url: str) -> Reply | None:
        data = self._fetch(url, 8 * MIB)
        if isinstance(data, Reply):
            return data
        if len(data) > 8 * MIB:
            return graph_error(
                36000,
                "The image size is too large.",
                subcode=2207004,
                user_title="Image size too large",
                user_msg="The image is too large to download. It should be less than 8 MiB.",
            )
        size = jpeg_size(data)
        if size is None:
            return graph_error(
                36001,
                "The image format is not supported.",
                subcode=2207005,
                user_title="Unsupported format",
                user_msg="The image format is not supported. Supported formats are: JPEG",
            )
        width, height = size
        if not height or not 0.8 <= width / height <= 1.91:
            return graph_error(
                36003,
                "The aspect ratio is not supported.",
                subcode=2207009,
                user_title="Unsupported aspect ratio",
                user_msg=f"The submitted image with aspect ratio ('{width}', '{height}') cannot "
                "be published. Please submit an image with a valid aspect ratio.",
            )
        return None

    def _check_video(self, url: str) -> Reply | None:
        data = self._fetch(url, 300 * MIB)
        if isinstance(data, Reply):
            return data
        if len(data) > 300 * MIB or data[4:8] != b"ftyp":
            return graph_error(
                352,
                "The video file you selected is in a format that we don't support.",
                subcode=2207026,
                user_title="Unsupported video format",
                user_msg="The video format is not supported. Please check spec for supported "
                "video format",
            )
        return None

    def _recent_containers(self, user: str) -> list[Container]:
        return [
            c
            for c in self.containers.values()
            if c.user == user and self.clock - c.created_at < DAY
        ]

    def _advance_container(self, cont: Container, *, count_poll: bool) -> None:
        """Move the state machine: polls finish processing, fake time expires it."""
        if cont.status_code == "PUBLISHED":
            return
        if self.clock - cont.created_at >= DAY:
            cont.status_code = "EXPIRED"
            return
        if cont.status_code != "IN_PROGRESS":
            return
        if cont.polls >= cont.polls_needed:
            cont.status_code = "ERROR" if cont.error_status else "FINISHED"
        elif count_poll:
            cont.polls += 1

    @staticmethod
    def _status_text(cont: Container) -> str:
        return {
            "IN_PROGRESS": "In Progress: Media is still being processed.",
            "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
            "PUBLISHED": "Published: Media has been successfully published.",
            "EXPIRED": "Expired: Media was not published within 24 hours.",
        }.get(cont.status_code, cont.error_status or "Error: Media upload has failed.")

    # ------------------------------------------------------------ publishing

    def _quota_usage(self, user: str) -> int:
        if self.quota_usage is not None:
            return self.quota_usage
        return sum(
            1
            for m in self.media.values()
            if m.user == user and self.clock - m.timestamp < self.quota_duration
        )

    def _media_publish(self, tok: Token, params: dict[str, str]) -> Reply:
        creation_id = params.get("creation_id", "")
        cont = self.containers.get(creation_id)
        if cont is None or cont.user != tok.user_id:
            return graph_error(
                24,
                f"The media builder with creation id = {creation_id} does not "
                "exist or has been expired.",
                subcode=2207008,
            )
        if cont.is_carousel_item:
            return graph_error(
                100,
                "Invalid parameter: a carousel item cannot be published on "
                "its own; publish its CAROUSEL container",
            )
        self._advance_container(cont, count_poll=False)
        if cont.status_code == "PUBLISHED":
            # [uncertain] the real answer is undocumented; what matters is that a container
            # never becomes a second post
            return graph_error(
                24,
                f"The media builder with creation id = {creation_id} does not "
                "exist or has been expired.",
                subcode=2207008,
            )
        if cont.status_code == "EXPIRED":
            return graph_error(
                -2, "The media you are trying to access has expired.", subcode=2207020
            )
        if cont.status_code == "ERROR":
            return graph_error(
                -1, "Create media fail, please try to re-create media", subcode=2207032
            )
        if cont.status_code != "FINISHED":
            return graph_error(
                9007,
                "Media ID is not available",
                subcode=2207027,
                user_title="Media is not ready for publishing",
                user_msg="The media is not ready for publishing, please wait for a moment",
            )
        if self._quota_usage(tok.user_id) >= self.quota_total:
            return graph_error(
                9,
                "Application request limit reached",
                subcode=2207042,
                user_title="Max posts reached",
                user_msg="You reached maximum number of posts that is allowed to be published "
                "by Content Publishing API.",
            )
        self.clock += 1  # one second per post keeps "newest" well defined
        media_id = self._new_media(
            tok.user_id, cont.media_type, cont.caption, self.clock, container=cont.id
        ).id
        cont.status_code = "PUBLISHED"
        cont.media_id = media_id
        parts = [self.containers[c] for c in cont.children] or [cont]
        for child in parts:
            child.status_code = "PUBLISHED"
        self.published.append(
            {
                "id": media_id,
                "user": tok.user_id,
                "caption": cont.caption,
                "media_type": cont.media_type,
                "container": cont.id,
                "children": list(cont.children),
                "media_urls": [c.media_url for c in parts],
                "alt_texts": [c.alt_text for c in parts],
            }
        )
        return Reply(200, {"id": media_id})

    def _new_media(
        self, user: str, container_type: str, caption: str, timestamp: float, *, container: str
    ) -> Media:
        media_id = str(next(self._media_ids))
        shortcode = base64.urlsafe_b64encode(hashlib.sha1(media_id.encode()).digest()).decode()[:11]
        kind = "reel" if container_type == "REELS" else "p"
        media_type = {"IMAGE": "IMAGE", "REELS": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}[
            container_type
        ]
        media = Media(
            media_id,
            user,
            media_type,
            caption,
            f"https://www.instagram.com/{kind}/{shortcode}/",
            timestamp,
            container,
        )
        self.media[media_id] = media
        return media


def _select(node: dict[str, Any], fields: str) -> dict[str, Any]:
    """Graph returns the requested fields (and always ``id`` when the node has one)."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    out = {k: node[k] for k in wanted if k in node}
    if "id" in node:
        out.setdefault("id", node["id"])
    return out
