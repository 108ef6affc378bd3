"""Bluesky (AT Protocol): app-password sessions, facets, blobs, idempotent ``createRecord``.

The contract is ``shared/api/NEXT_PLATFORMS.md`` section 2. An account is connected
with its handle and an app password: ``createSession`` runs once, at connect, at the
entryway (bsky.social), and the session (access and refresh JWTs, DID, handle, and
the PDS its DID document names) is kept in the credential with the app password.
Every later call, ``refreshSession`` included, goes to that PDS (the entryway when
the session came without a DID document; ``api_base`` replaces both). An expired
access token answers HTTP 400 ``ExpiredToken`` (not 401); :meth:`BlueskyPublisher.refresh`
then calls ``refreshSession``, and logs in again with the app password only when the
refresh token is dead too (``createSession`` is limited to 30 per 5 minutes and 300
per day).

Only ``com.atproto.repo.createRecord`` can make a post exist. Its record key (a TID)
is chosen once per scheduled post and kept in the publisher's checkpoint, so every
attempt asks for the same key and the PDS can never store the post twice. After an
answer that was lost (timeout, dropped connection, 5xx) or a "that key exists"
refusal, ``getRecord`` says whether the post is there: found, it was published; not
found, the create is sent again with the same key, a few times within the attempt.

Images are uploaded as raw bytes (``uploadBlob``) right before the create. A blob
holds at most 1,000,000 bytes: a larger JPEG, PNG or WebP is re-encoded and scaled
down to fit (:mod:`.imaging`), and the result says so; a larger GIF is refused. A
post with a link and no images gets a link card (``app.bsky.embed.external``) made
from the first link's page (:mod:`.linkcard`); a page that gives none costs the
post nothing but its card.

Metrics (``metrics``): ``GET /xrpc/app.bsky.feed.getPosts?uris=AT-URI&uris=…``, at
most 25 URIs a call (lexicon ``app.bsky.feed.getPosts``,
https://docs.bsky.app/docs/api/app-bsky-feed-get-posts), answered by the AppView
through the account's PDS; each ``postView`` carries ``likeCount``, ``repostCount``,
``replyCount`` and ``quoteCount``. A post that no longer exists is left out of
``posts``. Bluesky counts no impressions.
"""

from __future__ import annotations

import base64
import contextlib
import json
import mimetypes
import random
import re
import struct
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.metrics import MetricsBatch
from milton_desktop.domain.validation import MediaRule, Reducible, Rules
from milton_desktop.publishers import imaging, linkcard
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    ProgressCallback,
    PublishError,
    RateLimited,
    Rejected,
    ReplyPublisher,
    Transient,
)
from milton_desktop.publishers.http import (
    credential_secrets,
    download,
    epoch_to_datetime,
    json_body,
    retry_after_hint,
    safe_url,
    scrub,
    send,
    server_error,
    status_error,
)
from milton_desktop.publishers.platform import (
    FollowUps,
    MetricsSpec,
    Platform,
    Preview,
    TokenUpkeep,
)

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests

#: the limits of ``app.bsky.feed.post#text`` (maxGraphemes, maxLength in UTF-8 bytes)
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
#: ``app.bsky.embed.images``: at most 4, each blob at most this many bytes
MAX_IMAGE_BYTES = 1_000_000
MAX_IMAGES = 4
MAX_ALT_GRAPHEMES = 1000  # alt text is not capped by the lexicon; the app stops at 1000
#: ``app.bsky.richtext.facet#tag``
MAX_TAG_GRAPHEMES = 64
MAX_TAG_BYTES = 640

DEFAULT_RATE_WAIT = timedelta(minutes=5)
POST_COLLECTION = "app.bsky.feed.post"
_MASK = "***"

# ---------------------------------------------------------------- graphemes
#
# The ``regex`` module's ``\X`` is not a dependency; this is UAX #29's extended
# grapheme clusters for what posts contain: combining marks, variation selectors,
# emoji modifiers, ZWJ sequences, flags (regional-indicator pairs), tag sequences,
# Hangul syllables and CR LF. Prepend characters (rare Indic/Arabic signs) are not
# joined to what follows, which can only count one grapheme too many.


def _is_extend(cp: int, cat: str) -> bool:
    return (
        cat in ("Mn", "Me", "Mc")
        or cp == 0x200D  # ZWJ
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences (subdivision flags)
        or cp == 0x200C  # ZWNJ
    )


def _is_pictographic(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2190 <= cp <= 0x21FF
        or 0x2300 <= cp <= 0x23FF
        or 0x25A0 <= cp <= 0x25FF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D, 0x3297, 0x3299)
    )


def _hangul(cp: int) -> str:
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return ""


def _joins(prev: int, cp: int, ri_run: int) -> bool:
    """Whether ``cp`` continues the grapheme that ``prev`` ends (no break between)."""
    if prev == 0x0D and cp == 0x0A:
        return True
    if prev in (0x0A, 0x0D) or cp in (0x0A, 0x0D):
        return False
    cat = unicodedata.category(chr(cp))
    if cat == "Cc":
        return False
    if _is_extend(cp, cat):
        return True
    if prev == 0x200D and _is_pictographic(cp):
        return True
    if 0x1F1E6 <= cp <= 0x1F1FF and 0x1F1E6 <= prev <= 0x1F1FF:
        return ri_run % 2 == 1
    a, b = _hangul(prev), _hangul(cp)
    if a == "L" and b in ("L", "V", "LV", "LVT"):
        return True
    if a in ("LV", "V") and b in ("V", "T"):
        return True
    return a in ("LVT", "T") and b == "T"


def _regex_graphemes() -> Callable[[str], int] | None:
    try:
        import regex  # type: ignore[import-not-found, import-untyped, unused-ignore]
    except ImportError:
        return None
    pattern = regex.compile(r"\X")
    return lambda text: len(pattern.findall(text))


def _fallback_graphemes(text: str) -> int:
    count = 0
    prev = -1
    ri_run = 0  # regional indicators in a row so far (flags are pairs)
    for ch in text:
        cp = ord(ch)
        if prev < 0 or not _joins(prev, cp, ri_run):
            count += 1
        ri_run = ri_run + 1 if 0x1F1E6 <= cp <= 0x1F1FF else 0
        prev = cp
    return count


_REGEX_COUNT = _regex_graphemes()


def graphemes(text: str) -> int:
    """How many user-perceived characters (extended grapheme clusters) ``text`` has."""
    return _REGEX_COUNT(text) if _REGEX_COUNT else _fallback_graphemes(text)


def _byte_limit(text: str) -> list[str]:
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        return [
            f"the text is {size} bytes in UTF-8, over Bluesky's limit of {MAX_TEXT_BYTES}: "
            "shorten it"
        ]
    return []


IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

RULES = Rules(
    platform="bluesky",
    label="Bluesky",
    max_chars=MAX_GRAPHEMES,
    count=graphemes,
    unit="characters",
    media={
        "image": MediaRule(
            IMAGE_TYPES,
            MAX_IMAGE_BYTES,
            # a larger JPEG, PNG or WebP is reduced when it goes out (``_read``)
            reducible=Reducible(
                imaging.REDUCIBLE, imaging.MAX_SOURCE_BYTES, imaging.MAX_SOURCE_PIXELS
            ),
        )
    },
    max_media=MAX_IMAGES,
    max_alt_text=MAX_ALT_GRAPHEMES,
    text_checks=(_byte_limit,),
)

# ---------------------------------------------------------------- facets

#: a handle: two or more labels of letters, digits and hyphens (atproto handle syntax)
_HANDLE = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
_MENTION_RE = re.compile(rf"(?:^|(?<=[\s(]))@({_HANDLE})")
_URL_RE = re.compile(r"(?:^|(?<=[\s(\[\"'<]))(https?://[^\s<>\"]+)", re.IGNORECASE)
#: bare domains are linked only with one of these endings, as the Bluesky app does
#: for common ones: "e.g." or "file.txt" must stay plain text
_TLDS = (
    "com|org|net|edu|gov|io|dev|app|social|co|uk|de|fr|eu|nl|it|es|ca|au|jp|me|info|"
    "blog|tech|xyz|ai|be|ch|se|no|fi|dk|at|pl|pt|us|tv|gg|page|site|online|news"
)
_DOMAIN_RE = re.compile(
    r"(?:^|(?<=[\s(\[\"'<]))((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    rf"(?:{_TLDS})(?![a-z0-9-])(?:/[^\s<>\"]*)?)",
    re.IGNORECASE,
)
_TAG_RE = re.compile(r"(?:^|(?<=\s))[#＃]([^\s#＃]+)")
_TRAILING = ".,;:!?\"'…"


def _trim_url(url: str) -> str:
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def _span(text: str, start: int, end: int) -> dict[str, int]:
    """A facet index: UTF-8 byte offsets of ``text[start:end]``, end exclusive."""
    byte_start = len(text[:start].encode("utf-8"))
    return {"byteStart": byte_start, "byteEnd": byte_start + len(text[start:end].encode("utf-8"))}


def _overlaps(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < b and a < end for a, b in taken)


def facets(text: str, resolve: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """The link, mention and hashtag facets of ``text``, in text order.

    ``resolve`` turns a handle into its DID, or None when it is not a known account
    (that mention then stays plain text).
    """
    found: list[tuple[int, int, dict[str, Any]]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, feature: dict[str, Any]) -> None:
        taken.append((start, end))
        found.append((start, end, feature))

    for m in _URL_RE.finditer(text):
        url = _trim_url(m.group(1))
        if len(url) > len("https://") and urlsplit(url).hostname:
            add(
                m.start(1),
                m.start(1) + len(url),
                {"$type": "app.bsky.richtext.facet#link", "uri": url},
            )
    for m in _DOMAIN_RE.finditer(text):
        bare = _trim_url(m.group(1))
        start = m.start(1)
        if "@" in text[max(0, start - 1) : start] or _overlaps(taken, start, start + len(bare)):
            continue
        add(
            start,
            start + len(bare),
            {"$type": "app.bsky.richtext.facet#link", "uri": f"https://{bare}"},
        )
    for m in _MENTION_RE.finditer(text):
        handle = m.group(1).rstrip(".-")
        start, end = m.start(), m.start(1) + len(handle)
        if _overlaps(taken, start, end):
            continue
        did = resolve(handle.lower())
        if did:
            add(start, end, {"$type": "app.bsky.richtext.facet#mention", "did": did})
    for m in _TAG_RE.finditer(text):
        tag = m.group(1)
        while tag and unicodedata.category(tag[-1])[0] == "P":
            tag = tag[:-1]
        start, end = m.start(), m.start(1) + len(tag)
        if (
            not tag
            or tag.isdigit()
            or graphemes(tag) > MAX_TAG_GRAPHEMES
            or len(tag.encode("utf-8")) > MAX_TAG_BYTES
            or _overlaps(taken, start, end)
        ):
            continue
        add(start, end, {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
    found.sort(key=lambda f: f[0])
    return [
        {"index": _span(text, start, end), "features": [feature]} for start, end, feature in found
    ]


# ---------------------------------------------------------------- record keys

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def new_tid(now: datetime, clock_id: int | None = None) -> str:
    """A record key in the atproto TID format: 53 bits of microseconds since the epoch
    and a 10-bit clock id, base32-sortable, 13 characters."""
    micros = int(now.timestamp() * 1_000_000) & ((1 << 53) - 1)
    clock = random.getrandbits(10) if clock_id is None else clock_id & 0x3FF
    value = (micros << 10) | clock
    return "".join(_TID_ALPHABET[(value >> (60 - 5 * i)) & 31] for i in range(13))


def is_tid(text: str) -> bool:
    return bool(_TID_RE.match(text))


# ---------------------------------------------------------------- images


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, WebP or JPEG from its bytes, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        w, h = struct.unpack("<HH", data[6:10])
        return int(w), int(h)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        chunk = data[12:16]
        if chunk == b"VP8X" and len(data) >= 30:
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(
                data[27:30], "little"
            )
        if chunk == b"VP8 " and len(data) >= 30:
            w, h = struct.unpack("<HH", data[26:30])
            return int(w) & 0x3FFF, int(h) & 0x3FFF
        if chunk == b"VP8L" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        code = data[i + 1]
        if code in (0xD8, 0x01, 0xFF) or 0xD0 <= code <= 0xD7:
            i += 1 if code == 0xFF else 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if code in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            if i + 9 > len(data):
                return None
            h, w = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(w), int(h)
        i += 2 + length
    return None


@dataclass
class _Image:
    number: int
    item: MediaItem
    data: bytes
    mime: str
    #: the size of what is uploaded, when it was reduced (else read from the item)
    size: tuple[int, int] | None = None
    #: what the user is told when it was reduced
    note: str = ""


# ---------------------------------------------------------------- helpers


def _jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` of a JWT (read, not verified: it only says when to refresh)."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        exp = json.loads(base64.urlsafe_b64decode(payload)).get("exp")
        return datetime.fromtimestamp(float(exp), UTC)
    except (IndexError, ValueError, TypeError, OverflowError, OSError, AttributeError):
        return None


def _pds_from(did_doc: object) -> str | None:
    """The account's PDS from its DID document (the ``#atproto_pds`` service), if it
    is an address a session token may travel to."""
    if not isinstance(did_doc, dict):
        return None
    for service in did_doc.get("service") or []:
        if not isinstance(service, dict):
            continue
        if str(service.get("id") or "").endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and _token_safe(endpoint):
                return endpoint.rstrip("/")
    return None


def _token_safe(url: str) -> bool:
    """https anywhere; plain http only to this computer (a local or test PDS)."""
    import ipaddress

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    if parts.scheme == "https" and host:
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _problem(body: dict[str, Any]) -> tuple[str, str]:
    return str(body.get("error") or ""), str(body.get("message") or "")


def _collision(error: str, message: str) -> bool:
    """Whether a refused create says the record key is taken (a retry that landed)."""
    said = f"{error} {message}".lower()
    return "alreadyexists" in said or "already exists" in said


class _KeyTaken(Rejected):
    """The PDS refused a create because its record key exists: ``getRecord`` decides."""


#: a post's ``at://`` address: its repository (the author's DID) and record key
_AT_URI = re.compile(r"at://(?P<did>[^/]+)/app\.bsky\.feed\.post/(?P<rkey>[^/]+)")


def post_url(rkey: str, handle: str) -> str:
    """The public address of a post from its record key and its author's handle (or DID)."""
    who = handle.lstrip("@")
    return f"https://bsky.app/profile/{who}/post/{rkey}"


class BlueskyPublisher(ReplyPublisher):
    """Publishes to Bluesky through the account's PDS with an app-password session."""

    platform: ClassVar[str] = "bluesky"
    rules: ClassVar[Rules] = RULES
    #: where sessions are made; every other call goes to the account's PDS, named by
    #: the DID document the session came with (the entryway, without one)
    default_bases: ClassVar[Mapping[str, str]] = {"entryway": "https://bsky.social"}
    #: how many times one attempt sends the create when the outcome of the last one is
    #: unknown and ``getRecord`` says it did not land
    create_tries: int = 3

    # ------------------------------------------------------------ session

    def sign_in(self, token: str, login: str | None = None) -> Credential:
        """Log in with the handle and app password (``createSession``): the session
        is what is kept, with the password for when the refresh token dies."""
        if not login:
            raise Rejected("Bluesky needs the account's handle with its app password")
        return self._create_session(login.strip().lstrip("@"), token.strip())

    def _create_session(self, handle: str, password: str) -> Credential:
        what = "signing in to Bluesky"
        resp = send(
            self.session,
            "POST",
            self.base("entryway") + "/xrpc/com.atproto.server.createSession",
            what=what,
            timeout=self.timeout,
            json={"identifier": handle, "password": password},
        )
        self.log.info("POST createSession -> %d", resp.status_code)
        body = json_body(resp)
        error, message = _problem(body)
        message = scrub(message, (password,), mask=_MASK)
        if resp.status_code in (400, 401) and error not in ("RateLimitExceeded",):
            if error == "AuthFactorTokenRequired":
                reason = (
                    "the account asks for an e-mail code: sign-in with an app password skips it"
                )
            elif error == "AccountTakedown":
                reason = "the account was taken down"
            else:
                reason = message or error or "the handle or app password is wrong"
            raise AuthExpired(
                f"Bluesky refused the sign-in ({reason}): check the handle and create a new "
                "app password in Settings > Privacy and security > App passwords",
                http_status=resp.status_code,
                refreshable=False,
            )
        if resp.status_code == 429:
            raise RateLimited(
                "Bluesky is limiting sign-ins (30 per 5 minutes, 300 a day); will retry",
                self._retry_at(resp),
            )
        if resp.status_code >= 500:
            raise server_error(resp, what=what, create=False)
        if not 200 <= resp.status_code < 300 or not body.get("accessJwt"):
            raise Transient(
                f"unexpected answer {resp.status_code} from Bluesky while {what}; will retry",
                http_status=resp.status_code,
            )
        return self._session_credential(body, password=password, fallback=None)

    def _session_credential(
        self, body: dict[str, Any], *, password: str | None, fallback: Credential | None
    ) -> Credential:
        extra = dict(fallback.extra) if fallback else {}
        if password is not None:
            extra["app_password"] = password
        for key in ("did", "handle"):
            if body.get(key):
                extra[key] = str(body[key])
        pds = _pds_from(body.get("didDoc"))
        if pds:
            extra["pds"] = pds
        access = str(body["accessJwt"])
        return Credential(
            access_token=access,
            refresh_token=str(body.get("refreshJwt") or "")
            or (fallback.refresh_token if fallback else None),
            expires_at=_jwt_expiry(access),
            extra=extra,
        )

    def refresh(self, credential: Credential) -> Credential:
        """``refreshSession`` with the refresh JWT; when that is dead too, log in
        again with the app password (``createSession`` is rate-limited: last resort)."""
        what = "renewing the Bluesky session"
        if credential.refresh_token:
            # the PDS serves it (for an entryway account, it forwards it there)
            resp = send(
                self.session,
                "POST",
                self._pds(credential) + "/xrpc/com.atproto.server.refreshSession",
                what=what,
                timeout=self.timeout,
                headers={"Authorization": f"Bearer {credential.refresh_token}"},
            )
            self.log.info("POST refreshSession -> %d", resp.status_code)
            body = json_body(resp)
            error, _message = _problem(body)
            if 200 <= resp.status_code < 300 and body.get("accessJwt"):
                return self._session_credential(body, password=None, fallback=credential)
            if resp.status_code == 429:
                raise RateLimited(
                    f"Bluesky is limiting requests while {what}; will retry", self._retry_at(resp)
                )
            if resp.status_code >= 500:
                raise server_error(resp, what=what, create=False)
            if error == "AccountTakedown":
                raise AuthExpired(
                    "Bluesky says the account was taken down",
                    http_status=resp.status_code,
                    refreshable=False,
                )
            if resp.status_code not in (400, 401):
                raise Transient(
                    f"unexpected answer {resp.status_code} from Bluesky while {what}; will retry",
                    http_status=resp.status_code,
                )
        password = credential.extra.get("app_password")
        handle = credential.extra.get("handle") or credential.extra.get("did")
        if not password or not handle:
            raise AuthExpired(
                "the Bluesky session has ended and no app password is kept: reconnect the account",
                refreshable=False,
            )
        self.log.info("Bluesky refresh token is dead; signing in again with the app password")
        fresh = self._create_session(str(handle), str(password))
        return fresh.with_token(extra={**credential.extra, **fresh.extra})

    # ------------------------------------------------------------ contract

    def identify(self, credential: Credential) -> Identity:
        resp = self._call(
            "GET",
            "com.atproto.server.getSession",
            credential,
            what="asking Bluesky whose session this is",
        )
        body = json_body(resp)
        did = str(body.get("did") or credential.extra.get("did") or "")
        if not did.startswith("did:"):
            raise Transient("Bluesky answered getSession without a DID; will retry")
        handle = str(body.get("handle") or credential.extra.get("handle") or "")
        if body.get("active") is False:
            state = str(body.get("status") or "inactive")
            raise Rejected(f"this Bluesky account cannot post: it is {state}")
        return Identity(remote_id=did, username=handle, display_name=handle)

    def reply_to(
        self, root: Published, parent: Published, credential: Credential
    ) -> dict[str, dict[str, str]]:
        """``reply.root`` the first post, ``reply.parent`` the part before, each a
        strong ref (uri and cid)."""
        return {
            "root": self._strong_ref(root, credential),
            "parent": self._strong_ref(parent, credential),
        }

    def _strong_ref(self, part: Published, credential: Credential) -> dict[str, str]:
        """``{uri, cid}`` of a live part: its cid was kept when it went out, else it is
        read back with ``getRecord``."""
        uri = part.remote_id
        if part.ref.get("cid"):
            return {"uri": uri, "cid": part.ref["cid"]}
        found = _AT_URI.fullmatch(uri)
        if not found:
            raise Rejected(
                f"the part to reply to has no Bluesky address ({uri or 'none'}): nothing can "
                "answer it; post the rest yourself"
            )
        ref = self._get_record(found["rkey"], found["did"], credential)
        if ref is None:
            raise Rejected(f"the post to reply to is gone from Bluesky ({uri}): it was deleted")
        return {"uri": ref[0], "cid": ref[1]}

    def _post(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None,
        reply: Any,
    ) -> Published:
        did = str(credential.extra.get("did") or account.remote_id)
        handle = account.username or str(credential.extra.get("handle") or "") or did
        # the key and the time are this post's for good: every attempt sends the same
        known = self.checkpoint.get("rkey") or self.resume.get("rkey")
        rkey = known if known and is_tid(known) else new_tid(self.now())
        created_at = (
            self.checkpoint.get("created_at")
            or self.resume.get("created_at")
            or self.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        )
        self.checkpoint.update({"rkey": rkey, "created_at": created_at})
        if known:
            # an earlier attempt sent this key: it may be there already
            try:
                found = self._get_record(rkey, did, credential)
            except Rejected as exc:  # not "not found": whether it landed stays unknown
                raise OutcomeUnknown(
                    f"Bluesky could not say whether an earlier attempt published the post "
                    f"({exc}): check the account before publishing again",
                    http_status=exc.http_status,
                ) from None
            if found is not None:
                self.log.info("Bluesky post %s was already published by an earlier attempt", rkey)
                return Published(
                    remote_id=found[0],
                    url=post_url(rkey, handle),
                    ref={"cid": found[1]},
                    resolution="an earlier attempt got no answer; getRecord found the post "
                    "under its record key, so that attempt had landed",
                )

        with contextlib.ExitStack() as stack:
            images = [self._read(n, item, stack) for n, item in enumerate(content.media, 1)]
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": content.text,
            "createdAt": created_at,
        }
        if reply is not None:
            record["reply"] = reply
        cache: dict[str, str | None] = {}
        found_facets = facets(content.text, lambda h: self._resolve(h, credential, cache))
        if found_facets:
            record["facets"] = found_facets
        if images:
            total = sum(len(i.data) for i in images)
            done = 0
            embedded = []
            for img in images:
                blob = self._upload(img, credential)
                done += len(img.data)
                if progress is not None:
                    progress(done, total)
                entry: dict[str, Any] = {"alt": img.item.alt_text or "", "image": blob}
                size: tuple[int | None, int | None] = img.size or (img.item.width, img.item.height)
                if not (size[0] and size[1]):
                    size = image_size(img.data) or (None, None)
                if size[0] and size[1]:
                    entry["aspectRatio"] = {"width": size[0], "height": size[1]}
                embedded.append(entry)
            record["embed"] = {"$type": "app.bsky.embed.images", "images": embedded}
        else:
            card = self._link_card(found_facets, credential)
            if card is not None:
                record["embed"] = card

        (uri, cid), settled = self._create(record, rkey, did, credential)
        self.log.info("published Bluesky post %s with %d images", rkey, len(images))
        notes = tuple(img.note for img in images if img.note)
        return Published(
            remote_id=uri,
            url=post_url(rkey, handle),
            warnings=notes,
            ref={"cid": cid} if cid else {},
            resolution=settled,
        )

    # ------------------------------------------------------------ the create

    def _create(
        self, record: dict[str, Any], rkey: str, did: str, credential: Credential
    ) -> tuple[tuple[str, str], str | None]:
        """``createRecord`` with the fixed key; an unknown outcome is settled by
        ``getRecord``: found is published, not found is sent again (bounded).

        Returns the post's (uri, cid) and, when an answer was lost on the way, how
        that was settled."""
        body = {"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        what = "creating the Bluesky post"
        last: PublishError | None = None
        for attempt in range(self.create_tries):
            if attempt:
                self.sleep(min(2.0 * attempt, 5.0))
            try:
                resp = self._call(
                    "POST",
                    "com.atproto.repo.createRecord",
                    credential,
                    what=what,
                    create=True,
                    json=body,
                )
            except OutcomeUnknown as exc:
                last = exc
            except _KeyTaken as exc:  # an earlier send of this very create landed
                last = exc
            else:
                answer = json_body(resp)
                uri = str(answer.get("uri") or "") or f"at://{did}/{POST_COLLECTION}/{rkey}"
                settled = None
                if last is not None:
                    settled = (
                        f"an earlier send got no answer ({last.message}); getRecord found no "
                        "post under its record key, so it was sent again with the same key"
                    )
                return (uri, str(answer.get("cid") or "")), settled
            self.log.info("Bluesky create of %s: %s; checking whether it landed", rkey, last)
            try:
                found = self._get_record(rkey, did, credential)
            except (Transient, RateLimited, Rejected) as exc:
                raise OutcomeUnknown(
                    f"{last}; and Bluesky could not be asked whether it landed ({exc}): check the "
                    "account before publishing again",
                    http_status=last.http_status,
                ) from None
            if found is not None:
                return found, (
                    f"the answer to createRecord was lost ({last.message}); getRecord found "
                    "the post under its record key, so it had landed"
                )
        assert last is not None
        raise OutcomeUnknown(
            f"{last}; Bluesky still shows no post under its key after {self.create_tries} tries: "
            "check the account before publishing again",
            http_status=last.http_status,
        )

    def metrics(self, refs: list[str], credential: Credential, account: AccountRef) -> MetricsBatch:
        found: dict[str, dict[str, int]] = {}
        asked: set[str] = set()
        for start in range(0, len(refs), METRICS.batch):
            uris = [u for u in refs[start : start + METRICS.batch] if u.startswith("at://")]
            if not uris:
                continue
            asked.update(uris)
            resp = self._call(
                "GET",
                "app.bsky.feed.getPosts",
                credential,
                what="reading the engagement of Bluesky posts",
                params={"uris": uris},
            )
            for view in json_body(resp).get("posts") or []:
                uri = str(view.get("uri") or "") if isinstance(view, dict) else ""
                if uri in uris:
                    found[uri] = {
                        ours: int(view[theirs])
                        for theirs, ours in _COUNTERS.items()
                        if isinstance(view.get(theirs), int)
                    }
        return MetricsBatch(counters=found, gone=frozenset(asked - set(found)))

    def _get_record(self, rkey: str, did: str, credential: Credential) -> tuple[str, str] | None:
        """The post's ``at://`` URI and cid if the record is there, None if it is not."""
        resp = self._request(
            "GET",
            "com.atproto.repo.getRecord",
            credential,
            what="checking whether the Bluesky post exists",
            params={"repo": did, "collection": POST_COLLECTION, "rkey": rkey},
        )
        if 200 <= resp.status_code < 300:
            answer = json_body(resp)
            uri = str(answer.get("uri") or f"at://{did}/{POST_COLLECTION}/{rkey}")
            return uri, str(answer.get("cid") or "")
        error, _message = _problem(json_body(resp))
        if resp.status_code in (400, 404) and error == "RecordNotFound":
            return None
        raise self._error(
            resp, credential, what="checking whether the Bluesky post exists", create=False
        )

    # ------------------------------------------------------------ media and mentions

    def _read(self, number: int, item: MediaItem, stack: contextlib.ExitStack) -> _Image:
        if item.kind != "image":
            raise Rejected(f"media {number}: Milton posts only images to Bluesky")
        if item.path is not None:
            try:
                data = item.path.read_bytes()
            except OSError as exc:
                raise Rejected(
                    f"media {number} ({item.path.name}) cannot be read ({exc.strerror}): attach the file again"
                ) from None
            mime = item.mime or mimetypes.guess_type(item.path.name)[0] or ""
        elif item.url:
            host = urlsplit(item.url).hostname or "its host"
            # a JPEG, PNG or WebP over the blob limit is reduced, so fetch it whole
            reducible = not item.mime or item.mime in imaging.REDUCIBLE
            got = download(
                self.session,
                item.url,
                what=f"downloading media {number} from {host}",
                label=f"media {number}",
                cap=imaging.MAX_SOURCE_BYTES if reducible else MAX_IMAGE_BYTES,
                timeout=self.timeout,
                stack=stack,
                platform=self.rules.label,
                log=self.log,
            )
            data = got.file.read()
            mime = item.mime or got.content_type
        else:
            raise Rejected(f"media {number} has neither a file nor a link: attach it again")
        if not data:
            raise Rejected(f"media {number} is an empty file: attach it again")
        if mime not in IMAGE_TYPES:
            raise Rejected(
                f"media {number}: {mime or 'unknown type'} is not accepted; use JPEG, PNG, WebP or GIF"
            )
        if len(data) > MAX_IMAGE_BYTES:
            return self._reduced(number, item, data, mime)
        return _Image(number, item, data, mime)

    def _reduced(self, number: int, item: MediaItem, data: bytes, mime: str) -> _Image:
        """Image ``number`` re-encoded or scaled down to the blob limit, or refused."""
        over = (
            f"media {number} is {len(data):,} bytes, over the {MAX_IMAGE_BYTES:,} bytes "
            "Bluesky takes"
        )
        if mime not in imaging.REDUCIBLE:
            raise Rejected(
                f"{over}, and Milton does not scale a {mime.split('/')[-1].upper()} down (it "
                "would stop its animation): make it smaller, or save it as a JPEG or PNG"
            )
        try:
            reduced = imaging.fit(data, MAX_IMAGE_BYTES)
        except imaging.CannotReduce as exc:
            raise Rejected(
                f"{over}, and Milton cannot scale it down: {exc}; save a smaller JPEG"
            ) from None
        note = reduced.describe(f"image {number}", self.rules.label, MAX_IMAGE_BYTES)
        self.log.info("Bluesky %s", note)
        return _Image(
            number, item, reduced.data, reduced.mime, (reduced.width, reduced.height), note
        )

    # ------------------------------------------------------------ link cards

    def _link_card(
        self, found_facets: list[dict[str, Any]], credential: Credential
    ) -> dict[str, Any] | None:
        """The ``app.bsky.embed.external`` card of the text's first link, or None:
        a card that cannot be made never holds the post back."""
        links = [
            feature["uri"]
            for facet in found_facets
            for feature in facet["features"]
            if feature["$type"] == "app.bsky.richtext.facet#link"
        ]
        if not links:
            return None
        card = linkcard.fetch_card(self.session, links[0], log=self.log)
        if card is None:
            return None
        external: dict[str, Any] = {
            "uri": card.uri,
            "title": card.title,
            "description": card.description,
        }
        thumb = self._card_thumb(card.image, credential) if card.image else None
        if thumb is not None:
            external["thumb"] = thumb
        return {"$type": "app.bsky.embed.external", "external": external}

    def _card_thumb(self, url: str, credential: Credential) -> dict[str, Any] | None:
        """The card picture's blob, reduced like a post's image if need be; None when
        it cannot be had (the card then goes without it)."""
        host = urlsplit(url).hostname or "its host"
        try:
            with contextlib.ExitStack() as stack:
                got = download(
                    self.session,
                    url,
                    what=f"downloading the link card's picture from {host}",
                    label="the link card's picture",
                    cap=imaging.MAX_SOURCE_BYTES,
                    timeout=linkcard.CARD_TIMEOUT,
                    stack=stack,
                    platform=self.rules.label,
                    log=self.log,
                    allowance=linkcard.CARD_SECONDS,
                )
                data = got.file.read()
            mime = got.content_type or mimetypes.guess_type(urlsplit(url).path)[0] or ""
            if mime not in IMAGE_TYPES:
                self.log.info("link card without its picture: %s is %s", safe_url(url), mime)
                return None
            if len(data) > MAX_IMAGE_BYTES:
                if mime not in imaging.REDUCIBLE:
                    self.log.info("link card without its picture: a large %s", mime)
                    return None
                reduced = imaging.fit(data, MAX_IMAGE_BYTES)
                data, mime = reduced.data, reduced.mime
            card_image = _Image(0, MediaItem("image", mime), data, mime)
            return self._upload(card_image, credential, what="uploading the link card's picture")
        except (PublishError, imaging.CannotReduce, OSError) as exc:
            self.log.info("link card without its picture (%s): %s", safe_url(url), exc)
            return None

    def _upload(
        self, img: _Image, credential: Credential, *, what: str | None = None
    ) -> dict[str, Any]:
        resp = self._call(
            "POST",
            "com.atproto.repo.uploadBlob",
            credential,
            what=what or f"uploading image {img.number} to Bluesky",
            data=img.data,
            headers={"Content-Type": img.mime},
        )
        blob = json_body(resp).get("blob")
        if not isinstance(blob, dict) or not isinstance(blob.get("ref"), dict):
            raise Transient(
                f"Bluesky took {'the picture' if what else f'image {img.number}'} without "
                "giving a blob reference; will retry"
            )
        return blob

    def _resolve(
        self, handle: str, credential: Credential, cache: dict[str, str | None]
    ) -> str | None:
        if handle in cache:
            return cache[handle]
        resp = self._request(
            "GET",
            "com.atproto.identity.resolveHandle",
            credential,
            what=f"looking up @{handle} on Bluesky",
            params={"handle": handle},
        )
        did: str | None = None
        if 200 <= resp.status_code < 300:
            value = json_body(resp).get("did")
            did = value if isinstance(value, str) and value.startswith("did:") else None
        elif resp.status_code in (400, 404):
            did = None  # not an account: the mention stays plain text
        else:
            raise self._error(
                resp, credential, what=f"looking up @{handle} on Bluesky", create=False
            )
        cache[handle] = did
        return did

    # ------------------------------------------------------------ plumbing

    def _pds(self, credential: Credential) -> str:
        """The account's PDS: ``api_base`` when set (it replaces every host), else the
        one its session's DID document named, else the entryway."""
        return self.api_base or str(credential.extra.get("pds") or "") or self.base("entryway")

    def _call(
        self,
        method: str,
        nsid: str,
        credential: Credential,
        *,
        what: str,
        create: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        resp = self._request(method, nsid, credential, what=what, create=create, **kwargs)
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, credential, what=what, create=create)
        return resp

    def _request(
        self,
        method: str,
        nsid: str,
        credential: Credential,
        *,
        what: str,
        create: bool = False,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        sent = {"Authorization": f"Bearer {credential.access_token}", **(headers or {})}
        resp = send(
            self.session,
            method,
            f"{self._pds(credential)}/xrpc/{nsid}",
            what=what,
            create=create,
            timeout=self.timeout,
            headers=sent,
            **kwargs,
        )
        self.log.info("%s %s -> %d", method, nsid, resp.status_code)
        return resp

    def _error(
        self, resp: requests.Response, credential: Credential, *, what: str, create: bool
    ) -> PublishError:
        status = resp.status_code
        error, message = _problem(json_body(resp))
        text = scrub(message or error, credential_secrets(credential), mask=_MASK)
        if error in ("ExpiredToken", "InvalidToken") or status == 401:
            return AuthExpired(
                f"Bluesky did not accept the session while {what} ({error or 'HTTP ' + str(status)})",
                http_status=status,
                refreshable=bool(credential.refresh_token or credential.extra.get("app_password")),
            )
        return status_error(
            resp,
            brand="Bluesky",
            what=what,
            create=create,
            text=text,
            retry_at=partial(self._retry_at, resp),
            refused=_KeyTaken if create and _collision(error, message) else Rejected,
        )

    def _retry_at(self, resp: requests.Response) -> datetime:
        """``RateLimit-Reset`` (epoch seconds) or ``Retry-After``, the later; else 5 minutes."""
        now = self.now()
        known = []
        reset = resp.headers.get("RateLimit-Reset")
        if reset:
            known.append(epoch_to_datetime(reset, now + DEFAULT_RATE_WAIT))
        hint = retry_after_hint(resp, now)
        if hint is not None:
            known.append(hint)
        return max([*known, now]) if known else now + DEFAULT_RATE_WAIT


#: postView's counters -> the shared names
_COUNTERS = {
    "likeCount": "likes",
    "repostCount": "reposts",
    "replyCount": "replies",
    "quoteCount": "quotes",
}
METRICS = MetricsSpec(
    batch=25,
    counters=tuple(_COUNTERS.values()),
    interactions=tuple(_COUNTERS.values()),
)


PLATFORM = Platform(
    name="bluesky",
    label=RULES.label,
    short="BS",
    colour="#1185fe",
    order=40,
    rules=RULES,
    publisher=BlueskyPublisher,
    login_name="handle",
    token_help=(
        "Give the account's handle (e.g. alice.bsky.social) and paste an app password "
        "(Settings > Privacy and security > App passwords; never the main password). Milton "
        "signs in once and keeps the session renewed; a revoked app password means reconnecting."
    ),
    post_url=post_url,
    # 2-hour access JWTs with a refresh JWT: renewed just before use
    token_upkeep=TokenUpkeep(renew_before=timedelta(minutes=5), before_use=True),
    preview=Preview(
        link_card=True,
        note="Links, @mentions of known accounts and #hashtags become clickable. Images over "
        "1 MB are scaled down to fit when the post goes out.",
    ),
    # a thread: each part replies to the one before, under the first (reply.root/parent)
    follow_ups=FollowUps(style="reply"),
    metrics=METRICS,
)
