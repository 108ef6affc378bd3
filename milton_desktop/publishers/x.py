"""X (Twitter API v2): chunked media upload, alt text, ``POST /2/tweets``, OAuth 2 PKCE.

The contract is ``shared/api/CONTRACTS.md`` section 2 and the published OpenAPI 2.167.
Uploads use the dedicated ``/2/media/upload/initialize|{id}/append|{id}/finalize``
endpoints (the ``command=INIT|APPEND|FINALIZE`` style is deprecated); only STATUS
still goes through ``GET /2/media/upload?command=STATUS``.

Only ``POST /2/tweets`` can make a post exist, so only it is sent with
``create=True``: a lost answer there is :class:`OutcomeUnknown`, while any failure
during the upload steps is :class:`Transient` (nothing was published yet). Alt text
is the exception: once the media are uploaded, a refused alt text becomes a warning
on the :class:`Published` result rather than a failure of the whole post.

Metrics (``metrics``): ``GET /2/tweets?ids=ID,ID&tweet.fields=public_metrics``, up to
100 ids a request (OpenAPI 2.167 ``getPostsByIds``, schema ``PostPublicMetrics``:
``like_count``, ``repost_count``, ``reply_count``, ``quote_count``,
``impression_count``, ``bookmark_count``; https://docs.x.com/x-api/posts/get-posts-by-ids).
Posts deleted or hidden from the token come back in ``errors`` (with their
``resource_id``), not in ``data``. Needs ``tweet.read`` and ``users.read``.
"""

from __future__ import annotations

import contextlib
import logging
import mimetypes
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import IO, TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.metrics import MetricsBatch
from milton_desktop.domain.validation import MB, MediaRule, Rules
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
    TokenUpkeep,
)

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests


def _weighted_length(text: str) -> int:
    from milton_desktop.domain.twittertext import parse_tweet

    return parse_tweet(text).weighted_length


def _refused_characters(text: str) -> list[str]:
    from milton_desktop.domain.twittertext import parse_tweet

    if parse_tweet(text).has_invalid_characters:
        return ["the text contains characters X refuses (U+FFFE, U+FEFF or U+FFFF): remove them"]
    return []


def _rule_kind(item: MediaItem) -> str:
    if item.mime == "image/gif":
        return "gif"
    # a document stays a document, so X's rules refuse it by name
    return item.kind if item.kind in ("video", "document") else "image"


RULES = Rules(
    platform="x",
    label="X",
    max_chars=280,
    count=_weighted_length,
    unit="weighted characters",
    media={
        "image": MediaRule(frozenset({"image/jpeg", "image/png", "image/webp"}), 5 * MB),
        "gif": MediaRule(frozenset({"image/gif"}), 15 * MB),
        "video": MediaRule(frozenset({"video/mp4", "video/quicktime"}), 512 * MB),
    },
    max_media=4,
    kind_of=_rule_kind,
    alone=frozenset({"video", "gif"}),
    text_checks=(_refused_characters,),
)

#: the tier of accounts whose plan lets them post long text
PREMIUM = "premium"
#: X Premium accounts may post up to 25,000 weighted characters (CONTRACTS.md 2.4)
PREMIUM_RULES = replace(RULES, max_chars=25_000)
TIERS: Mapping[str, Rules] = {PREMIUM: PREMIUM_RULES}
#: values of ``subscription_type`` (OpenAPI: Basic, Premium, PremiumPlus or None) that
#: come with long posts; Basic is left out, so it is treated as standard
_LONG_POST_PLANS = frozenset({"premium", "premiumplus"})


def _tier(subscription_type: object) -> str | None:
    if isinstance(subscription_type, str) and subscription_type.lower() in _LONG_POST_PLANS:
        return PREMIUM
    return None


AUTHORIZE_BASE = "https://x.com"
#: offline.access is what makes X hand out a refresh token; media.write is needed
#: for every /2/media/upload* call
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")

CHUNK_SIZE = 1024 * 1024  # 1 MiB, as postiz does; X caps APPEND at 5 MB
DEFAULT_RATE_WAIT = timedelta(minutes=15)  # X's standard window when no header says more
#: what stands in for a secret a server echoed back in its message
_MASK = "***"


def authorize_url(
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    base: str | None = None,
) -> str:
    """The page to open in the system browser to let the user grant this app access.

    ``base`` replaces ``https://x.com`` (tests point it at the fake server).
    """
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    # quote_via=quote writes spaces in the scope list as %20, the form X documents
    query = urlencode(params, quote_via=quote, safe="")
    return f"{(base or AUTHORIZE_BASE).rstrip('/')}/i/oauth2/authorize?{query}"


# ---------------------------------------------------------------- helpers


@dataclass
class _Source:
    """One media item opened for upload: its bytes, size and type."""

    number: int
    item: MediaItem
    file: IO[bytes]
    size: int
    mime: str

    @property
    def category(self) -> str:
        if self.mime == "image/gif":
            return "tweet_gif"
        if self.mime.startswith("video/") or self.item.kind == "video":
            return "tweet_video"
        return "tweet_image"

    @property
    def takes_alt_text(self) -> bool:
        # X's metadata endpoint refuses alt text on a video, so it is not asked at all
        return self.category in ("tweet_image", "tweet_gif")


def _problem_text(body: dict[str, Any]) -> str:
    """The most specific human text in an X error body (problem or v1.1 ``errors``)."""
    texts: list[str] = []
    for err in body.get("errors") or []:
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            texts.append(err["message"])
    for key in ("detail", "title", "error_description", "error"):
        value = body.get(key)
        if isinstance(value, str) and value and not texts:
            texts.append(value)
    return "; ".join(texts)


class XPublisher(ReplyPublisher):
    """Publishes to X through API v2 with an OAuth 2 user token."""

    platform: ClassVar[str] = "x"
    rules: ClassVar[Rules] = RULES
    tiers: ClassVar[Mapping[str, Rules]] = TIERS
    default_bases: ClassVar[dict[str, str]] = {
        "api": "https://api.x.com",
        "oauth": "https://api.x.com",
    }

    #: longest total wait (seconds slept) for X to finish processing one media item;
    #: past it the attempt is Transient and the engine retries later
    processing_timeout: float = 300.0

    # ------------------------------------------------------------ contract

    def identify(self, credential: Credential) -> Identity:
        # subscription_type is only sent when asked for; it tells whether long posts work
        resp = self._call(
            "GET",
            "/2/users/me",
            credential,
            what="asking X who the token is for",
            params={"user.fields": "subscription_type"},
        )
        data = json_body(resp).get("data") or {}
        if not data.get("id"):
            raise Transient("X answered /2/users/me without a user id; will retry")
        return Identity(
            remote_id=str(data["id"]),
            username=str(data.get("username") or ""),
            display_name=str(data.get("name") or ""),
            tier=_tier(data.get("subscription_type")),
        )

    def metrics(self, refs: list[str], credential: Credential, account: AccountRef) -> MetricsBatch:
        found: dict[str, dict[str, int]] = {}
        gone: set[str] = set()
        for start in range(0, len(refs), METRICS.batch):
            ids = refs[start : start + METRICS.batch]
            resp = self._call(
                "GET",
                "/2/tweets",
                credential,
                what="reading the engagement of X posts",
                params={"ids": ",".join(ids), "tweet.fields": "public_metrics"},
            )
            body = json_body(resp)
            for tweet in body.get("data") or []:
                if not isinstance(tweet, dict) or str(tweet.get("id")) not in ids:
                    continue
                counts = tweet.get("public_metrics") or {}
                found[str(tweet["id"])] = {
                    ours: int(counts[theirs])
                    for theirs, ours in _X_COUNTERS.items()
                    if isinstance(counts.get(theirs), int)
                }
            for err in body.get("errors") or []:
                if isinstance(err, dict) and str(err.get("resource_id") or "") in ids:
                    gone.add(str(err["resource_id"]))
        return MetricsBatch(counters=found, gone=frozenset(gone - set(found)))

    def _post(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None,
        reply: Any,
    ) -> Published:
        """A post, or a reply to the tweet ``reply`` names: X's threads are chains of
        replies (``reply.in_reply_to_tweet_id``)."""
        with contextlib.ExitStack() as stack:
            # Open (and download) everything first so the progress total is known and a
            # bad link fails before any upload is spent on X.
            sources = [self._open(n, item, stack) for n, item in enumerate(content.media, 1)]
            total = sum(s.size for s in sources)
            done = 0
            media_ids: list[str] = []
            warnings: list[str] = []
            for src in sources:
                media_id, done = self._upload(src, credential, progress, done, total)
                if src.item.alt_text and src.takes_alt_text:
                    warning = self._set_alt_text(media_id, src, credential)
                    if warning:
                        warnings.append(warning)
                media_ids.append(media_id)

        # The OpenAPI says text is always sent, even empty, for media-only posts.
        body: dict[str, Any] = {"text": content.text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if reply:
            body["reply"] = {"in_reply_to_tweet_id": reply}
        resp = self._call(
            "POST", "/2/tweets", credential, what="creating the X post", create=True, json=body
        )
        payload = json_body(resp)
        tweet_id = str((payload.get("data") or {}).get("id") or "")
        if not tweet_id:
            raise OutcomeUnknown(
                f"X answered {resp.status_code} to the post but gave no post id; it was "
                "probably published: check the account before publishing again",
                http_status=resp.status_code,
            )
        if payload.get("errors"):
            self.log.warning(
                "X created post %s with partial errors: %s", tweet_id, _problem_text(payload)
            )
        url = post_url(tweet_id, account.username)
        self.log.info(
            "published X %s %s with %d media",
            "reply" if reply else "post",
            tweet_id,
            len(media_ids),
        )
        return Published(remote_id=tweet_id, url=url, warnings=tuple(warnings))

    def refresh(self, credential: Credential) -> Credential:
        if not credential.refresh_token:
            raise AuthExpired(
                "the X sign-in has expired and there is no refresh token: reconnect the X account",
                refreshable=False,
            )
        form = {"grant_type": "refresh_token", "refresh_token": credential.refresh_token}
        if credential.client_id:
            form["client_id"] = credential.client_id
        token = self._token_request(
            form, credential.client_id, credential.client_secret, what="refreshing the X sign-in"
        )
        return self._credential_from(
            token, credential.client_id, credential.client_secret, fallback=credential
        )

    def exchange_code(
        self,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        client_id: str,
        client_secret: str | None = None,
    ) -> Credential:
        """Trade the code from the browser redirect for tokens (PKCE step 2)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
            "client_id": client_id,
        }
        token = self._token_request(form, client_id, client_secret, what="connecting the X account")
        return self._credential_from(token, client_id, client_secret, fallback=None)

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
            size = _fstat_size(fh)
            mime = item.mime or mimetypes.guess_type(item.path.name)[0] or ""
        elif item.url:
            # the host alone: a link's user:password@ and query string are secrets
            host = urlsplit(item.url).hostname or "its host"
            got = download(
                self.session,
                item.url,
                what=f"downloading media {number} from {host}",
                label=f"media {number}",
                cap=self.rules.media[_rule_kind(item)].max_bytes,
                timeout=self.timeout,
                stack=stack,
                platform=self.rules.label,
                log=self.log,
            )
            fh, size = got.file, got.size
            mime = item.mime or got.content_type
        else:
            raise Rejected(f"media {number} has neither a file nor a link: attach it again")
        if not mime:
            raise Rejected(f"media {number}: its file type is unknown; use JPEG, PNG, GIF or MP4")
        if size == 0:
            raise Rejected(f"media {number} is an empty file: attach it again")
        return _Source(number, item, fh, size, mime)

    def _upload(
        self,
        src: _Source,
        credential: Credential,
        progress: ProgressCallback | None,
        done: int,
        total: int,
    ) -> tuple[str, int]:
        """INIT, APPEND in 1 MiB chunks, FINALIZE, then wait for processing."""
        n = src.number
        resp = self._call(
            "POST",
            "/2/media/upload/initialize",
            credential,
            what=f"starting the upload of media {n} to X",
            json={"media_type": src.mime, "total_bytes": src.size, "media_category": src.category},
        )
        media_id = str((json_body(resp).get("data") or {}).get("id") or "")
        if not media_id.isdigit():
            raise Transient(f"X started the upload of media {n} without a media id; will retry")

        segment = 0
        while chunk := src.file.read(CHUNK_SIZE):
            self._call(
                "POST",
                f"/2/media/upload/{media_id}/append",
                credential,
                what=f"uploading media {n} to X (part {segment + 1})",
                files={"media": ("media", chunk, "application/octet-stream")},
                data={"segment_index": str(segment)},
                log_level=logging.DEBUG,  # one line per MiB would drown the log
            )
            segment += 1
            done += len(chunk)
            if progress is not None:
                progress(done, total)

        resp = self._call(
            "POST",
            f"/2/media/upload/{media_id}/finalize",
            credential,
            what=f"finishing the upload of media {n} to X",
        )
        info = (json_body(resp).get("data") or {}).get("processing_info")
        self._await_processing(media_id, n, info, credential)
        return media_id, done

    def _await_processing(
        self, media_id: str, n: int, info: dict[str, Any] | None, credential: Credential
    ) -> None:
        waited = 0.0
        while info:  # no processing_info means the media is ready
            state = info.get("state")
            if state == "succeeded":
                return
            if state == "failed":  # not a status: X's processing state
                error = info.get("error") or {}
                reason = error.get("message") or error.get("name") or "no reason given"
                raise Rejected(f"X could not process media {n}: {reason}")
            if waited >= self.processing_timeout:
                raise Transient(
                    f"X was still processing media {n} after {waited:.0f} s; will retry later"
                )
            try:
                delay = max(1.0, float(info.get("check_after_secs") or 1))
            except (TypeError, ValueError):
                delay = 1.0
            # never sleep past the budget: one last poll at the deadline may still succeed
            delay = min(delay, self.processing_timeout - waited)
            self.sleep(delay)
            waited += delay
            resp = self._call(
                "GET",
                "/2/media/upload",
                credential,
                what=f"checking X's processing of media {n}",
                params={"command": "STATUS", "media_id": media_id},
            )
            info = (json_body(resp).get("data") or {}).get("processing_info")

    def _set_alt_text(self, media_id: str, src: _Source, credential: Credential) -> str | None:
        """Attach the alt text; a refusal is the warning to return, not an error.

        The media are uploaded by now and the post can go out without its alt text:
        failing here would throw the uploads away and, retried, fail the same way.
        An expired sign-in is still raised, as it would fail the post too.
        """
        n = src.number
        what = f"setting the alt text of media {n} on X"
        try:
            # The OpenAPI caps alt text at 1000 characters; validation says so to the user first.
            resp = self._request(
                "POST",
                "/2/media/metadata",
                credential,
                what=what,
                json={"id": media_id, "metadata": {"alt_text": {"text": src.item.alt_text[:1000]}}},
            )
        except Transient:  # send() raises it only when no answer came
            reason = "no answer from X (the connection failed or timed out)"
        else:
            if 200 <= resp.status_code < 300:
                return None
            if resp.status_code == 401:
                raise self._error(resp, credential, what=what, create=False)
            text = scrub(_problem_text(json_body(resp)), credential_secrets(credential), mask=_MASK)
            reason = f"{text} (HTTP {resp.status_code})" if text else f"HTTP {resp.status_code}"
        self.log.warning("alt text of media %d not set on X: %s", n, reason)
        return (
            f"alt text of media {n} was not accepted by X: {reason}; the post went out without it"
        )

    # ------------------------------------------------------------ tokens

    def _token_request(
        self, form: dict[str, str], client_id: str | None, client_secret: str | None, *, what: str
    ) -> dict[str, Any]:
        # Confidential clients authenticate with Basic; public (desktop) clients send
        # only client_id in the form, which is what PKCE is for.
        auth = (client_id, client_secret) if client_id and client_secret else None
        resp = send(
            self.session,
            "POST",
            self.base("oauth") + "/2/oauth2/token",
            what=what,
            timeout=self.timeout,
            data=form,
            auth=auth,
        )
        self.log.info("POST /2/oauth2/token (%s) -> %d", form["grant_type"], resp.status_code)
        body = json_body(resp)
        if resp.status_code in (400, 401):
            code = str(body.get("error") or "refused")
            reason = str(body.get("error_description") or "")
            # never echo the spent refresh token, the code, the verifier or the secret back
            sent = (
                form.get("refresh_token"),
                form.get("code"),
                form.get("code_verifier"),
                client_secret,
            )
            code, reason = scrub(code, sent, mask=_MASK), scrub(reason, sent, mask=_MASK)
            raise AuthExpired(
                f"X refused the sign-in ({code}{': ' + reason if reason else ''}): "
                "reconnect the X account",
                http_status=resp.status_code,
                refreshable=False,
            )
        if resp.status_code == 429:
            raise RateLimited(
                f"X is limiting sign-in requests while {what}; will retry",
                self._retry_at(resp),
            )
        if resp.status_code >= 500:
            raise server_error(resp, what=what, create=False)
        if not 200 <= resp.status_code < 300 or not body.get("access_token"):
            raise Transient(
                f"unexpected answer {resp.status_code} from X while {what}; will retry",
                http_status=resp.status_code,
            )
        return body

    def _credential_from(
        self,
        token: dict[str, Any],
        client_id: str | None,
        client_secret: str | None,
        *,
        fallback: Credential | None,
    ) -> Credential:
        expires_at: datetime | None = None
        with contextlib.suppress(TypeError, ValueError):
            expires_at = self.now() + timedelta(seconds=float(token["expires_in"]))
        extra = dict(fallback.extra) if fallback else {}
        if token.get("scope"):
            extra["scope"] = token["scope"]
        # X rotates refresh tokens: the answer's token replaces the spent one. Keeping the
        # old one as a fallback only matters for servers that do not rotate.
        refresh_token = token.get("refresh_token") or (fallback.refresh_token if fallback else None)
        return Credential(
            access_token=str(token["access_token"]),
            refresh_token=refresh_token,
            expires_at=expires_at,
            client_id=client_id,
            client_secret=client_secret,
            extra=extra,
        )

    # ------------------------------------------------------------ plumbing

    def _call(
        self,
        method: str,
        path: str,
        credential: Credential,
        *,
        what: str,
        create: bool = False,
        log_level: int = logging.INFO,
        **kwargs: Any,
    ) -> requests.Response:
        """One authenticated API request; any non-2xx answer becomes a typed error."""
        resp = self._request(
            method, path, credential, what=what, create=create, log_level=log_level, **kwargs
        )
        if not 200 <= resp.status_code < 300:
            raise self._error(resp, credential, what=what, create=create)
        return resp

    def _request(
        self,
        method: str,
        path: str,
        credential: Credential,
        *,
        what: str,
        create: bool = False,
        log_level: int = logging.INFO,
        **kwargs: Any,
    ) -> requests.Response:
        """One authenticated API request, whatever its answer; no answer is a typed error."""
        headers = {"Authorization": f"Bearer {credential.access_token}"}
        resp = send(
            self.session,
            method,
            self.base("api") + path,
            what=what,
            create=create,
            timeout=self.timeout,
            headers=headers,
            **kwargs,
        )
        self.log.log(log_level, "%s %s -> %d", method, path, resp.status_code)
        return resp

    def _error(
        self, resp: requests.Response, credential: Credential, *, what: str, create: bool
    ) -> PublishError:
        status = resp.status_code
        body = json_body(resp)
        text = scrub(_problem_text(body), credential_secrets(credential), mask=_MASK)
        kind = str(body.get("type") or "")
        if status == 401:
            return AuthExpired(
                f"X did not accept the sign-in while {what} (expired or revoked)",
                refreshable=bool(credential.refresh_token),
            )
        if status == 403:
            return Rejected(_forbidden_message(kind, text, body), http_status=status)
        if status == 429 and (
            kind.endswith("/usage-capped") or body.get("title") == "UsageCapExceeded"
        ):
            period = str(body.get("period") or "Monthly")
            return Rejected(
                f"X's {period.lower()} usage cap for this app is used up ({text or 'usage capped'}): "
                f"posting works again when the {period.lower()} period resets or the plan is upgraded",
                http_status=status,
            )
        return status_error(
            resp,
            brand="X",
            what=what,
            create=create,
            text=text,
            retry_at=partial(self._retry_at, resp),
        )

    def _retry_at(self, resp: requests.Response) -> datetime:
        """When the exhausted window resets, per the x-rate-limit / 24-hour headers
        (and ``Retry-After``, when sent): the latest of them, else 15 minutes."""
        h = resp.headers
        now = self.now()

        def exhausted(name: str) -> bool:
            return (h.get(name) or "").strip() == "0"

        def reset(name: str) -> datetime | None:
            value = h.get(name)
            return epoch_to_datetime(value, now) if value else None

        day_out = exhausted("x-user-limit-24hour-remaining") or exhausted(
            "x-app-limit-24hour-remaining"
        )
        window_out = exhausted("x-rate-limit-remaining") or h.get("x-rate-limit-remaining") is None
        candidates: list[datetime | None] = []
        if exhausted("x-user-limit-24hour-remaining"):
            candidates.append(reset("x-user-limit-24hour-reset"))
        if exhausted("x-app-limit-24hour-remaining"):
            candidates.append(reset("x-app-limit-24hour-reset"))
        # the 15-minute window counts when it is the one used up, or when nothing else is
        if window_out or not day_out:
            candidates.append(reset("x-rate-limit-reset"))
        # X documents no Retry-After, but a proxy or X itself may send one: it is the
        # server's own word on when to come back, so no retry goes out before it
        candidates.append(retry_after_hint(resp, now))
        known = [c for c in candidates if c is not None]
        retry_at = max(known) if known else now + DEFAULT_RATE_WAIT
        return max(retry_at, now)


def _forbidden_message(kind: str, text: str, body: dict[str, Any]) -> str:
    lowered = text.lower()
    if "duplicate" in lowered:
        return "X refused this as duplicate content of a recent post"
    if kind.endswith("/unsupported-authentication"):
        return (
            "X refused the kind of token used (an app-only token cannot post): "
            "reconnect the X account by signing in as the user"
        )
    if kind.endswith("/client-forbidden"):
        reason = body.get("reason") or "client-forbidden"
        return (
            f"X refused this app ({reason}): the developer app must be attached to a "
            "Project with the right access level in the X developer portal"
        )
    if "not permitted" in lowered:
        return (
            "X says this account is not permitted to perform this action (the account may "
            "be suspended or locked, or the post breaks X's rules)"
        )
    return f"X refused the request: {text or 'forbidden'}"


#: PostPublicMetrics' names -> the shared counter names
_X_COUNTERS = {
    "like_count": "likes",
    "repost_count": "reposts",
    "reply_count": "replies",
    "quote_count": "quotes",
    "bookmark_count": "bookmarks",
    "impression_count": "impressions",
}
METRICS = MetricsSpec(
    batch=100,
    counters=tuple(_X_COUNTERS.values()),
    interactions=("likes", "reposts", "replies", "quotes", "bookmarks"),
    impressions="impressions",
)


def _fstat_size(fh: IO[bytes]) -> int:
    return os.fstat(fh.fileno()).st_size


def post_url(tweet_id: str, username: str) -> str:
    """The public address of a post; X redirects the id-only form to the author's."""
    who = username.lstrip("@")
    return (
        f"https://x.com/{who}/status/{tweet_id}"
        if who
        else f"https://x.com/i/web/status/{tweet_id}"
    )


PLATFORM = Platform(
    name="x",
    label=RULES.label,
    short="X",
    colour="#0f1419",
    order=20,
    rules=RULES,
    publisher=XPublisher,
    token_help=(
        "Paste an OAuth 2.0 user access token (it must allow tweet.read, tweet.write, "
        "users.read and media.write). A pasted X token cannot be renewed and X user tokens "
        "last only 2 hours: for lasting access, sign in with the browser instead."
    ),
    post_url=post_url,
    tiers=TIERS,
    oauth=OAuthSpec(
        # X apps of type "Native App" are public clients: PKCE alone proves who is asking
        needs_client_secret=False,
        uses_pkce=True,
        developer_portal="https://developer.x.com/en/portal/projects-and-apps",
        authorize_url=authorize_url,
    ),
    # 2-hour access tokens with a rotating refresh token: renewed just before use
    token_upkeep=TokenUpkeep(renew_before=timedelta(minutes=5), before_use=True),
    preview=Preview(
        link_chars=23,
        link_card=True,
        image_ratio=(16 / 9, 16 / 9),
        image_note="The timeline crops a single image to 16:9; a tap shows it whole.",
        note="Every link becomes a t.co link that counts as 23 characters. Over the "
        "limit, shorten the text or split it into a thread.",
    ),
    # a thread: each part replies to the one before (reply.in_reply_to_tweet_id)
    follow_ups=FollowUps(style="reply"),
    metrics=METRICS,
)
