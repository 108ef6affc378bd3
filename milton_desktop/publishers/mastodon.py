"""Mastodon (any instance): ``POST /api/v2/media``, ``POST /api/v1/statuses`` with an
``Idempotency-Key``, and a pasted access token.

The contract is ``shared/api/NEXT_PLATFORMS.md`` section 1. Mastodon is many servers,
so an account always carries its instance as ``api_base``; the descriptor's
``needs_instance`` makes connecting refuse an account without one.

The instance's limits (characters, attachments, the length a link counts, file sizes,
alt-text length) are read from ``GET /api/v2/instance`` when the account is connected
and kept as the account's tier, a short string such as ``i500.4.23.16384.101376.1500``
that :data:`TIERS` turns back into :class:`Rules`: the editor's counter, validation and
the engine all take an account's tier already, so no other part needs to know.

The create is the one call that can make a post exist. It carries an
``Idempotency-Key`` made of a value chosen once per schedule (kept in the
checkpoint, so every attempt of the schedule uses it) and a hash of the content: the
server answers a replay of a key it has seen with the status it created the first
time. A lost answer (timeout, dropped connection, 5xx) is therefore retried at once
with the same key, a few times; if none comes back the attempt ends
:class:`Transient` and the next attempt replays the same key. The server forgets keys
after an hour, so a create first sent longer ago than :data:`KEY_LIFETIME` is no
longer replayed: that outcome is :class:`OutcomeUnknown`.

Browser sign-in needs no developer app from the user: Milton registers itself on the
instance (``POST /api/v1/apps``, :meth:`MastodonPublisher.register_app`) with the
loopback redirect of the sign-in, and the caller keeps that registration per instance
and redirect. Mastodon's authorization server (Doorkeeper) compares the redirect of
the consent page and of the code exchange with the registered one, so the same
redirect, port included, is used for all three. Tokens never expire; a registration
can be forgotten by the instance (revoked, or vacuumed before 4.3), which the token
endpoint reports as ``invalid_client`` (:class:`ClientUnknown`).

Metrics (``metrics``, https://docs.joinmastodon.org/methods/statuses/ and
https://docs.joinmastodon.org/entities/Status/): ``GET /api/v1/statuses?id[]=ID&id[]=ID``
(Mastodon 4.3+, missing statuses are left out of the list), falling back to
``GET /api/v1/statuses/:id`` one by one where the server answers that route 404.
Counters: ``favourites_count``, ``reblogs_count``, ``replies_count``, and
``quotes_count`` on servers with quote posts (4.5+). A deleted status is 404.
Mastodon counts no impressions. Needs ``read:statuses`` (the ``read`` scope has it).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import IO, TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, AppRegistration, Credential, Identity
from milton_desktop.domain.metrics import MetricsBatch
from milton_desktop.domain.validation import MB, MediaRule, Rules
from milton_desktop.publishers.base import (
    AuthExpired,
    ClientUnknown,
    OutcomeUnknown,
    ProgressCallback,
    PublishError,
    Rejected,
    ReplyPublisher,
    Transient,
)
from milton_desktop.publishers.http import (
    credential_secrets,
    download,
    json_body,
    retry_after_hint,
    scrub,
    send,
    server_error,
    status_error,
)
from milton_desktop.publishers.platform import (
    FollowUps,
    MetricsSpec,
    OAuthSpec,
    Platform,
    Preview,
)

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests


# ---------------------------------------------------------------- counting

#: a link counts as this many characters unless the instance says otherwise
DEFAULT_URL_CHARS = 23
DEFAULT_MAX_CHARS = 500
DEFAULT_MAX_MEDIA = 4
DEFAULT_IMAGE_BYTES = 16 * MB
DEFAULT_VIDEO_BYTES = 99 * MB
DEFAULT_DESCRIPTION = 1500

# Mastodon counts only links with a scheme; trailing punctuation is not part of one
_URL = re.compile(r"(?<![\w/@.])https?://[^\s<>\"]+", re.IGNORECASE)
_URL_TAIL = ".,:;!?'\")]}"
# @user@domain counts as @user (the domain is not counted)
_MENTION = re.compile(
    r"(?<![\w/@])(@[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)@[a-z0-9-]+(?:\.[a-z0-9-]+)+",
    re.IGNORECASE,
)


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tones
        or 0xE0020 <= cp <= 0xE007F  # emoji tag characters (flags of regions)
        or 0x1160 <= cp <= 0x11FF  # Hangul vowel and final jamo join the syllable
    )


def graphemes(text: str) -> int:
    """User-perceived characters, as Mastodon counts them (Ruby's grapheme clusters):
    a combining mark, a variation selector, a skin tone, a ZWJ sequence and a flag
    (two regional indicators) count once; CJK and other characters one each."""
    count = 0
    joined = False
    open_flag = False
    previous = ""
    for ch in text:
        cp = ord(ch)
        if joined:  # the character after a zero-width joiner is part of the cluster
            joined = False
            previous = ch
            continue
        if ch == "\u200d":
            joined = count > 0
            previous = ch
            continue
        if count and _is_extend(ch):
            previous = ch
            continue
        if ch == "\n" and previous == "\r":
            previous = ch
            continue
        if 0x1F1E6 <= cp <= 0x1F1FF:
            if open_flag:
                open_flag = False
                previous = ch
                continue
            open_flag = True
        else:
            open_flag = False
        count += 1
        previous = ch
    return count


def _placeholders(text: str, url_chars: int) -> str:
    def url(match: re.Match[str]) -> str:
        found = match.group(0)
        link = found.rstrip(_URL_TAIL)
        return "x" * url_chars + found[len(link) :]

    return _MENTION.sub(lambda m: m.group(1), _URL.sub(url, text))


def count(text: str, url_chars: int = DEFAULT_URL_CHARS) -> int:
    """The length of ``text`` as Mastodon's StatusLengthValidator counts it."""
    return graphemes(_placeholders(text, url_chars))


# ---------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limits:
    """What one instance accepts (``GET /api/v2/instance``)."""

    max_chars: int = DEFAULT_MAX_CHARS
    max_media: int = DEFAULT_MAX_MEDIA
    url_chars: int = DEFAULT_URL_CHARS
    image_bytes: int = DEFAULT_IMAGE_BYTES
    video_bytes: int = DEFAULT_VIDEO_BYTES
    description: int = DEFAULT_DESCRIPTION

    #: how a tier string begins
    PREFIX: ClassVar[str] = "i"

    def tier(self) -> str:
        """The limits as a tier (at most 32 characters: sizes in whole KiB)."""
        values = (
            self.max_chars,
            self.max_media,
            self.url_chars,
            self.image_bytes // 1024,
            self.video_bytes // 1024,
            self.description,
        )
        return self.PREFIX + ".".join(str(v) for v in values)

    @classmethod
    def from_tier(cls, tier: str) -> Limits | None:
        if not tier.startswith(cls.PREFIX):
            return None
        parts = tier[len(cls.PREFIX) :].split(".")
        if len(parts) != 6 or not all(p.isdigit() and len(p) <= 9 for p in parts):
            return None
        chars, media, url, image, video, description = (int(p) for p in parts)
        if not chars or not media:
            return None
        return cls(chars, media, url, image * 1024, video * 1024, description)

    @classmethod
    def from_instance(cls, body: Mapping[str, Any]) -> Limits:
        """The limits an instance document gives, the defaults for what it leaves out."""

        def section(parent: Mapping[str, Any], key: str) -> Mapping[str, Any]:
            value = parent.get(key)
            return value if isinstance(value, dict) else {}

        config = section(body, "configuration")
        statuses = section(config, "statuses")
        media = section(config, "media_attachments")

        def number(section: Mapping[str, Any], key: str, default: int) -> int:
            value = section.get(key)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                return default
            return min(value, 10**9 - 1)

        return cls(
            max_chars=number(statuses, "max_characters", DEFAULT_MAX_CHARS),
            max_media=number(statuses, "max_media_attachments", DEFAULT_MAX_MEDIA),
            url_chars=number(statuses, "characters_reserved_per_url", DEFAULT_URL_CHARS),
            image_bytes=number(media, "image_size_limit", DEFAULT_IMAGE_BYTES),
            video_bytes=number(media, "video_size_limit", DEFAULT_VIDEO_BYTES),
            description=number(media, "description_limit", DEFAULT_DESCRIPTION),
        )


_IMAGES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"}
)
_VIDEOS = frozenset({"video/mp4", "video/quicktime", "video/webm"})


def _rule_kind(item: MediaItem) -> str:
    return item.kind if item.kind in ("video", "document") else "image"


def rules_for(limits: Limits) -> Rules:
    return Rules(
        platform="mastodon",
        label="Mastodon",
        max_chars=limits.max_chars,
        count=partial(count, url_chars=limits.url_chars),
        media={
            "image": MediaRule(_IMAGES, limits.image_bytes),
            "video": MediaRule(_VIDEOS, limits.video_bytes),
        },
        max_media=limits.max_media,
        kind_of=_rule_kind,
        # images and a video cannot be mixed, and a post takes one video
        alone=frozenset({"video"}),
        max_alt_text=limits.description,
    )


RULES = rules_for(Limits())


class InstanceTiers(Mapping[str, Rules]):
    """Every instance's rules by tier string (see :meth:`Limits.tier`), made on demand.

    It lists no tier (there is one per instance configuration), but ``get`` and
    ``[]`` answer for any tier written by :meth:`Limits.tier`; anything else is
    unknown, so :meth:`Platform.rules_for` falls back to the default rules.
    """

    def __getitem__(self, tier: str) -> Rules:
        limits = Limits.from_tier(tier) if isinstance(tier, str) else None
        if limits is None:
            raise KeyError(tier)
        return _cached_rules(limits)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@lru_cache(maxsize=64)
def _cached_rules(limits: Limits) -> Rules:
    return rules_for(limits)


TIERS: Mapping[str, Rules] = InstanceTiers()


# ---------------------------------------------------------------- signing in

APP_NAME = "Milton Desktop"
#: the narrowest permissions that post with media and say whose the token is: the
#: ``profile`` scope (4.3+) grants only verify_credentials...
SCOPES = "write:statuses write:media profile"
#: ...and older servers, which refuse an unknown scope, take read:accounts instead
LEGACY_SCOPES = "write:statuses write:media read:accounts"


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    *,
    base: str | None = None,
    scope: str = SCOPES,
    code_challenge: str | None = None,
    force_login: bool = False,
) -> str:
    """The instance's consent page (``GET /oauth/authorize``), with PKCE (S256).

    ``force_login`` asks the instance to show its login form even to a signed-in
    browser, so a second account of the same instance can be connected.
    """
    if not base:
        raise Rejected("give the address of your Mastodon server, e.g. https://mastodon.social")
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if code_challenge:
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    if force_login:
        params["force_login"] = "true"
    return f"{base.rstrip('/')}/oauth/authorize?{urlencode(params, quote_via=quote)}"


# ---------------------------------------------------------------- the publisher

#: the server keeps an Idempotency-Key for an hour; past this a lost create is not replayed
KEY_LIFETIME = timedelta(minutes=50)
DEFAULT_RATE_WAIT = timedelta(minutes=5)  # Mastodon's windows are 5 minutes
_NOT_READY = "not finished processing"
_MASK = "***"


@dataclass
class _Source:
    number: int
    item: MediaItem
    file: IO[bytes]
    size: int
    mime: str
    name: str


def _error_text(body: Mapping[str, Any]) -> str:
    for key in ("error", "error_description", "message"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _iso_instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


class MastodonPublisher(ReplyPublisher):
    """Publishes to one Mastodon instance with a user access token."""

    platform: ClassVar[str] = "mastodon"
    rules: ClassVar[Rules] = RULES
    tiers: ClassVar[Mapping[str, Rules]] = TIERS
    #: there is no one Mastodon: the account's instance is its api_base
    default_bases: ClassVar[dict[str, str]] = {}

    #: longest total wait (seconds slept) for one attachment to be processed
    processing_timeout: float = 120.0
    #: how many times one attempt sends the create when its answer is lost
    create_tries: int = 3
    #: seconds between those sends (then doubled)
    create_pause: float = 1.0

    def base(self, role: str) -> str:
        if not self.api_base:
            raise Rejected(
                "this Mastodon account has no instance address: reconnect it with "
                "--api-base https://your.instance"
            )
        return self.api_base

    # ------------------------------------------------------------ contract

    def identify(self, credential: Credential) -> Identity:
        resp = self._call(
            "GET",
            "/api/v1/accounts/verify_credentials",
            credential,
            what="asking Mastodon who the token is for",
        )
        data = json_body(resp)
        if not data.get("id"):
            raise Transient(
                "Mastodon answered verify_credentials without an account id; will retry"
            )
        acct = str(data.get("acct") or data.get("username") or "")
        host = urlsplit(str(data.get("url") or "")).hostname or urlsplit(self.base("api")).hostname
        # the full address, so the author (and post_url) are known on every instance
        username = acct if "@" in acct or not host else f"{acct}@{host}"
        return Identity(
            remote_id=str(data["id"]),
            username=username,
            display_name=str(data.get("display_name") or acct),
            tier=self.instance_limits().tier(),
        )

    def instance_limits(self) -> Limits:
        """The instance's limits; the defaults if it does not say (an old server)."""
        what = "reading the Mastodon instance's limits"
        resp = send(
            self.session, "GET", self.base("api") + "/api/v2/instance", what=what,
            timeout=self.timeout,
        )  # fmt: skip
        self.log.info("GET /api/v2/instance -> %d", resp.status_code)
        if resp.status_code == 404:  # before 4.0: no v2 document, the defaults hold
            return Limits()
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, None, what=what, create=False)
        return Limits.from_instance(json_body(resp))

    def current_tier(self, credential: Credential) -> str | None:
        """The instance's limits now: they are the instance's, not the account's, so
        the token is not needed to read them."""
        return self.instance_limits().tier()

    # ------------------------------------------------------------ signing in

    def supported_scopes(self) -> str:
        """:data:`SCOPES` where the instance knows the ``profile`` scope (its OAuth
        metadata, 4.3+, says so), else :data:`LEGACY_SCOPES`."""
        what = "reading the Mastodon server's sign-in settings"
        resp = send(
            self.session, "GET", self.base("api") + "/.well-known/oauth-authorization-server",
            what=what, timeout=self.timeout,
        )  # fmt: skip
        self.log.info("GET /.well-known/oauth-authorization-server -> %d", resp.status_code)
        if resp.status_code == 404:  # before 4.3: no metadata, and no profile scope
            return LEGACY_SCOPES
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, None, what=what, create=False)
        known = json_body(resp).get("scopes_supported")
        return SCOPES if isinstance(known, list) and "profile" in known else LEGACY_SCOPES

    def metrics(self, refs: list[str], credential: Credential, account: AccountRef) -> MetricsBatch:
        found: dict[str, dict[str, int]] = {}
        gone: set[str] = set()
        what = "reading the engagement of Mastodon posts"
        batched = True
        for start in range(0, len(refs), METRICS.batch):
            ids = refs[start : start + METRICS.batch]
            if batched:
                resp = self._request(
                    "GET", "/api/v1/statuses", credential, what=what, params={"id[]": ids}
                )
                if resp.status_code == 404:  # before 4.3: one status a request
                    batched = False
                elif not 200 <= resp.status_code < 300:
                    raise self._error(resp, credential, what=what, create=False)
                else:
                    data = resp.json() if resp.content else []
                    for status in data if isinstance(data, list) else []:
                        if isinstance(status, dict) and str(status.get("id")) in ids:
                            found[str(status["id"])] = _counts(status)
                    gone.update(i for i in ids if i not in found)
                    continue
            for status_id in ids:
                resp = self._request("GET", f"/api/v1/statuses/{status_id}", credential, what=what)
                if resp.status_code == 404:
                    gone.add(status_id)
                    continue
                if not 200 <= resp.status_code < 300:
                    raise self._error(resp, credential, what=what, create=False)
                found[status_id] = _counts(json_body(resp))
        return MetricsBatch(counters=found, gone=frozenset(gone))

    def register_app(self, redirect_uri: str) -> AppRegistration:
        """Register Milton on the instance for ``redirect_uri`` (``POST /api/v1/apps``)."""
        scopes = self.supported_scopes()
        what = "registering Milton Desktop on the Mastodon server"
        resp = send(
            self.session,
            "POST",
            self.base("api") + "/api/v1/apps",
            what=what,
            timeout=self.timeout,
            # one redirect as a string: servers before 4.3 take no list
            json={"client_name": APP_NAME, "redirect_uris": redirect_uri, "scopes": scopes},
        )
        self.log.info("POST /api/v1/apps -> %d", resp.status_code)
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, None, what=what, create=False)
        data = json_body(resp)
        client_id, secret = data.get("client_id"), data.get("client_secret")
        if (
            not isinstance(client_id, str)
            or not isinstance(secret, str)
            or not (client_id and secret)
        ):
            raise Transient(
                "the Mastodon server registered Milton without giving its client id and "
                "secret; try again"
            )
        self.log.info("registered %s on %s", APP_NAME, urlsplit(self.base("api")).hostname)
        return AppRegistration(self.base("api"), redirect_uri, client_id, secret, scopes)

    def app_is_known(self, registration: AppRegistration) -> bool:
        """Whether the instance still knows ``registration``, by asking for an app token
        (client credentials). The token is not kept; having one is what keeps an
        unused app from being vacuumed on servers before 4.3."""
        what = "checking Milton's registration on the Mastodon server"
        resp = send(
            self.session,
            "POST",
            self.base("api") + "/oauth/token",
            what=what,
            timeout=self.timeout,
            data={
                "grant_type": "client_credentials",
                "client_id": registration.client_id,
                "client_secret": registration.client_secret,
                "scope": registration.scopes,
            },
        )
        self.log.info("POST /oauth/token (client credentials) -> %d", resp.status_code)
        if 200 <= resp.status_code < 300:
            return True
        if _oauth_error(resp) == "invalid_client" or resp.status_code == 401:
            return False
        raise self._error(resp, None, what=what, create=False)

    def exchange_code(
        self,
        code: str,
        redirect_uri: str,
        client_id: str,
        client_secret: str | None,
        code_verifier: str | None,
    ) -> Credential:
        """Trade the authorization code for a token (which never expires).

        Raises:
            ClientUnknown: the instance no longer knows the registration.
            Rejected: the code, its redirect or its PKCE verifier was refused.
        """
        what = "exchanging the Mastodon sign-in code"
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret or "",
            "redirect_uri": redirect_uri,
        }
        if code_verifier:
            form["code_verifier"] = code_verifier
        resp = send(
            self.session, "POST", self.base("api") + "/oauth/token", what=what,
            timeout=self.timeout, data=form,
        )  # fmt: skip
        self.log.info("POST /oauth/token (authorization code) -> %d", resp.status_code)
        data = json_body(resp)
        hidden = (code, client_secret, code_verifier)
        if resp.status_code == 401 or _oauth_error(resp) == "invalid_client":
            raise ClientUnknown(
                "the Mastodon server no longer knows Milton's registration (invalid_client)",
                http_status=resp.status_code,
            )
        if resp.status_code >= 500 or resp.status_code == 429:
            raise self._error(resp, None, what=what, create=False)
        token = data.get("access_token")
        if resp.status_code != 200 or not isinstance(token, str) or not token:
            reason = scrub(
                str(
                    data.get("error_description") or data.get("error") or f"HTTP {resp.status_code}"
                ),
                hidden,
                mask=_MASK,
            )
            raise Rejected(
                f"the Mastodon server refused the sign-in ({reason}): start the sign-in again",
                http_status=resp.status_code,
            )
        # no expiry and no refresh token: a Mastodon token lives until it is revoked
        return Credential(access_token=token, client_id=client_id)

    def _post(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None,
        reply: Any,
    ) -> Published:
        """A status, or a reply to the one ``reply`` names (``in_reply_to_id``): either
        way idempotent."""
        key = self._idempotency_key(content)
        with contextlib.ExitStack() as stack:
            sources = [self._open(n, item, stack) for n, item in enumerate(content.media, 1)]
            total = sum(s.size for s in sources)
            done = 0
            media_ids: list[str] = []
            for src in sources:
                media_ids.append(self._upload(src, credential))
                done += src.size
                if progress is not None:
                    progress(done, total)

        body: dict[str, Any] = {"status": content.text, "visibility": "public"}
        if media_ids:
            body["media_ids"] = media_ids
        if reply:
            body["in_reply_to_id"] = reply
        replayed = bool(self.resume.get("create_sent_at"))
        status = self._create(body, key, credential, media_ids)
        status_id = str(status.get("id") or "")
        url = str(status.get("url") or "") or post_url(status_id, account.username)
        self.log.info("published Mastodon status %s with %d media", status_id, len(media_ids))
        resolution = None
        if replayed or self.checkpoint.get("create_sent_at"):
            # a send got no answer; the same key made the resend return that one status
            resolution = (
                "an earlier send got no answer; sent again with the same Idempotency-Key, "
                "Mastodon answered with the one status it holds for it"
            )
        return Published(remote_id=status_id, url=url, resolution=resolution)

    # ------------------------------------------------------------ the create

    def _idempotency_key(self, content: Content) -> str:
        """One value per schedule (kept across attempts) and a hash of what is posted:
        a replay of the same post gets the same key, an edited post a new one."""
        nonce = self.resume.get("idempotency_nonce") or secrets.token_hex(8)
        self.checkpoint["idempotency_nonce"] = nonce
        digest = hashlib.sha256(content.text.encode("utf-8"))
        for item in content.media:
            ident = str(item.path.name if item.path else item.url or "")
            digest.update(f"\0{item.kind}\0{ident}\0{item.alt_text}".encode())
        return f"milton-{nonce}-{digest.hexdigest()[:16]}"

    def _create(
        self, body: dict[str, Any], key: str, credential: Credential, media_ids: list[str]
    ) -> dict[str, Any]:
        what = "creating the Mastodon status"
        sent_at = self.resume.get("create_sent_at")
        if sent_at:
            first = _iso_instant(sent_at)
            if first is None or self.now() - first > KEY_LIFETIME:
                raise OutcomeUnknown(
                    "an earlier attempt sent this status over an hour ago and got no answer; "
                    "Mastodon no longer recognises its Idempotency-Key, so it is not sent "
                    "again: check the account before publishing again"
                )
        lost: OutcomeUnknown | None = None
        pause = self.create_pause
        not_ready = 0
        tries = 0
        while tries < self.create_tries:
            tries += 1
            try:
                resp = self._request(
                    "POST",
                    "/api/v1/statuses",
                    credential,
                    what=what,
                    create=True,
                    json=body,
                    headers={"Idempotency-Key": key},
                )
            except OutcomeUnknown as exc:
                lost = exc
            else:
                if 200 <= resp.status_code < 300:
                    status = json_body(resp)
                    if status.get("id"):
                        return status
                    lost = OutcomeUnknown(
                        f"Mastodon answered {resp.status_code} to the status without its id",
                        http_status=resp.status_code,
                    )
                elif resp.status_code >= 500:
                    lost = OutcomeUnknown(str(server_error(resp, what=what, create=True)))
                elif resp.status_code == 422 and _NOT_READY in _error_text(json_body(resp)):
                    # an attachment is still processing: wait for it, then send again
                    not_ready += 1
                    if not_ready > 3:
                        raise Transient(
                            "Mastodon was still processing the media; will retry later",
                            http_status=422,
                        )
                    for media_id in media_ids:
                        self._await_processing(media_id, 0, credential)
                    tries -= 1
                    continue
                else:
                    raise self._error(resp, credential, what=what, create=True)
            # no answer: the status may exist. The same key makes a resend safe.
            self.checkpoint.setdefault(
                "create_sent_at", sent_at or self.now().isoformat(timespec="seconds")
            )
            self.log.warning("no answer to the Mastodon create (%s); sending it again", lost)
            if tries < self.create_tries:
                self.sleep(pause)
                pause *= 2
        raise Transient(
            f"Mastodon gave no answer to the status {self.create_tries} times ({lost}); it "
            "is sent again with the same Idempotency-Key, so it cannot be posted twice",
            may_have_posted=True,
        )

    # ------------------------------------------------------------ media

    def _open(self, number: int, item: MediaItem, stack: contextlib.ExitStack) -> _Source:
        fh: IO[bytes]
        if item.path is not None:
            try:
                fh = stack.enter_context(open(item.path, "rb"))  # noqa: SIM115 - closed by the stack
            except OSError as exc:
                raise Rejected(
                    f"media {number} ({item.path.name}) cannot be read ({exc.strerror}): "
                    "attach the file again"
                ) from None
            size = os.fstat(fh.fileno()).st_size
            mime = item.mime or mimetypes.guess_type(item.path.name)[0] or ""
            name = item.name or item.path.name
        elif item.url:
            host = urlsplit(item.url).hostname or "its host"
            rule = self.rules.media.get(_rule_kind(item)) or self.rules.media["image"]
            got = download(
                self.session,
                item.url,
                what=f"downloading media {number} from {host}",
                label=f"media {number}",
                cap=rule.max_bytes,
                timeout=self.timeout,
                stack=stack,
                platform=self.rules.label,
                log=self.log,
            )
            fh, size = got.file, got.size
            mime = item.mime or got.content_type
            name = item.name or os.path.basename(urlsplit(item.url).path) or f"media{number}"
        else:
            raise Rejected(f"media {number} has neither a file nor a link: attach it again")
        if not mime:
            raise Rejected(f"media {number}: its file type is unknown; use JPEG, PNG or MP4")
        if size == 0:
            raise Rejected(f"media {number} is an empty file: attach it again")
        return _Source(number, item, fh, size, mime, name)

    def _upload(self, src: _Source, credential: Credential) -> str:
        data = {"description": src.item.alt_text} if src.item.alt_text else {}
        resp = self._call(
            "POST",
            "/api/v2/media",
            credential,
            what=f"uploading media {src.number} to Mastodon",
            files={"file": (src.name, src.file, src.mime)},
            data=data,
        )
        media = json_body(resp)
        media_id = str(media.get("id") or "")
        if not media_id:
            raise Transient(f"Mastodon took media {src.number} without giving its id; will retry")
        if resp.status_code == 202 or not media.get("url"):
            self._await_processing(media_id, src.number, credential)
        return media_id

    def _await_processing(self, media_id: str, n: int, credential: Credential) -> None:
        """Poll ``GET /api/v1/media/:id`` until its ``url`` is set (200), within a budget."""
        label = f"media {n}" if n else "the media"
        waited = 0.0
        delay = 1.0
        while True:
            resp = self._request(
                "GET",
                f"/api/v1/media/{media_id}",
                credential,
                what=f"checking Mastodon's processing of {label}",
            )
            if resp.status_code == 200 and json_body(resp).get("url"):
                return
            if resp.status_code == 404:  # attached already: it was processed
                return
            if resp.status_code not in (200, 206):
                raise self._error(
                    resp, credential, what=f"processing {label} on Mastodon", create=False
                )
            if waited >= self.processing_timeout:
                raise Transient(
                    f"Mastodon was still processing {label} after {waited:.0f} s; will retry later"
                )
            step = min(delay, self.processing_timeout - waited)
            self.sleep(step)
            waited += step
            delay = min(delay * 2, 10.0)

    # ------------------------------------------------------------ plumbing

    def _call(
        self, method: str, path: str, credential: Credential, *, what: str, **kwargs: Any
    ) -> requests.Response:
        resp = self._request(method, path, credential, what=what, **kwargs)
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, credential, what=what, create=False)
        return resp

    def _request(
        self,
        method: str,
        path: str,
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
            self.base("api") + path,
            what=what,
            create=create,
            timeout=self.timeout,
            headers=sent,
            **kwargs,
        )
        self.log.log(logging.INFO, "%s %s -> %d", method, path, resp.status_code)
        return resp

    def _error(
        self, resp: requests.Response, credential: Credential | None, *, what: str, create: bool
    ) -> PublishError:
        status = resp.status_code
        hidden = credential_secrets(credential) if credential else ()
        text = scrub(_error_text(json_body(resp)), hidden, mask=_MASK)
        if status == 401:
            return AuthExpired(
                f"Mastodon did not accept the token while {what} (revoked or invalid): "
                "reconnect the account with a new token",
                refreshable=False,
            )
        return status_error(
            resp,
            brand="Mastodon",
            what=what,
            create=create,
            text=text,
            retry_at=partial(self._retry_at, resp),
        )

    def _retry_at(self, resp: requests.Response) -> datetime:
        """``X-RateLimit-Reset`` is an ISO 8601 instant; ``Retry-After`` counts too."""
        now = self.now()
        known = [
            t
            for t in (
                _iso_instant(resp.headers.get("X-RateLimit-Reset")),
                retry_after_hint(resp, now),
            )
            if t is not None
        ]
        return max([*known, now]) if known else now + DEFAULT_RATE_WAIT


#: Status' counters -> the shared names
_COUNTERS = {
    "favourites_count": "likes",
    "reblogs_count": "reposts",
    "replies_count": "replies",
    "quotes_count": "quotes",
}
METRICS = MetricsSpec(
    batch=20,
    counters=tuple(_COUNTERS.values()),
    interactions=tuple(_COUNTERS.values()),
)


def _counts(status: Mapping[str, Any]) -> dict[str, int]:
    return {
        ours: int(status[theirs])
        for theirs, ours in _COUNTERS.items()
        if isinstance(status.get(theirs), int)
    }


def _oauth_error(resp: requests.Response) -> str:
    value = json_body(resp).get("error")
    return value if isinstance(value, str) else ""


def post_url(status_id: str, username: str) -> str:
    """A status's address from its id and the author's ``user@instance``."""
    user, _, host = username.lstrip("@").partition("@")
    return f"https://{host}/@{user}/{status_id}"


PLATFORM = Platform(
    name="mastodon",
    label=RULES.label,
    short="M",
    colour="#6364ff",
    order=40,
    rules=RULES,
    publisher=MastodonPublisher,
    token_help=(
        "Give your instance's address (https://…) and paste an access token from its "
        "Preferences → Development: create an application with the write:statuses, "
        "write:media and profile (or read:accounts) scopes and copy “Your access token”. "
        "It does not expire; revoking the application ends it."
    ),
    post_url=post_url,
    oauth=OAuthSpec(
        # Mastodon provisions only confidential clients, but the secret comes from the
        # registration Milton makes itself: the user is never asked for one
        needs_client_secret=False,
        uses_pkce=True,
        authorize_url=authorize_url,
        registers_itself=True,
    ),
    tiers=TIERS,
    # an instance's admins change its limits: read them again about once a day
    tier_recheck_every=timedelta(days=1),
    needs_instance=True,
    preview=Preview(
        fold_chars=None,
        link_chars=None,
        link_card=True,
        note="Each link counts as 23 characters whatever its length, and a mention "
        "@user@instance counts without its instance. The limits are your instance's.",
    ),
    # a thread: each part replies to the one before (in_reply_to_id)
    follow_ups=FollowUps(style="reply"),
    metrics=METRICS,
)
