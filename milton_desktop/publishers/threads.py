"""Threads: Meta's Threads API (graph.threads.net).

Publishing works like Instagram's (NEXT_PLATFORMS.md section 3): a *container* is made
with ``POST /{user-id}/threads`` (text alone, an image or video Meta fetches from a
public URL, or a carousel of 2 to 20 such items), polled on its ``status`` (Instagram
calls the field ``status_code``) until ``FINISHED``, then published with
``threads_publish``. Only that last call makes a post exist, so only it is a *create*
for ``http.send``. There is no idempotency key: a lost or doubtful answer is resolved by
reading the container, which reads ``PUBLISHED`` once the post landed, and a container
publishes at most once, so retrying the publish on a ``FINISHED`` container cannot post
twice. A made container is kept in the checkpoint so a later attempt reuses it.

Graph answers most errors with HTTP 400; they are classified on ``error.code`` (and
the message for the Threads-only errors), never on the HTTP status alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.twittertext import url_spans
from milton_desktop.domain.validation import MB, MediaRule, Rules
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    ProgressCallback,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.http import (
    credential_secrets,
    json_body,
    retry_after,
    retry_after_hint,
    scrub,
    send,
    server_error,
)
from milton_desktop.publishers.metagraph import (
    Container,
    Landed,
    PollBudget,
    as_int,
    connect_refusal,
    expires_at,
    graph_error,
    parse_timestamp,
    quota_used,
    regain_access,
)
from milton_desktop.publishers.platform import Platform, Preview, TokenUpkeep

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests

MAX_CHARS = 500
MAX_LINKS = 5

# Emoji count as their UTF-8 byte length [doc: threads/posts]. Which characters Meta
# calls emoji is not documented; these are the Unicode blocks of pictographs and the
# characters that join or modify them (ZWJ, variation selector 16, keycap, tags).
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols, skin tones
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats
    "\u2300-\u23ff"  # technical (watch, hourglass, ...)
    "\u2b00-\u2bff"  # arrows and stars
    "\u200d\ufe0f\u20e3"  # joiner, emoji presentation, keycap
    "\U000e0020-\U000e007f"  # tag characters (flags of subdivisions)
    "]"
)


def threads_length(text: str) -> int:
    """The text's length as Threads counts it: characters, emoji by UTF-8 bytes."""
    text = unicodedata.normalize("NFC", text)
    return len(text) + sum(len(ch.encode("utf-8")) - 1 for ch in _EMOJI.findall(text))


def links(text: str) -> list[str]:
    """The distinct links in ``text``, in order (what Threads' 5-link rule counts)."""
    seen: dict[str, None] = {}
    for start, end in url_spans(text):
        seen.setdefault(text[start:end].lower().rstrip("/"), None)
    return list(seen)


def _too_many_links(text: str) -> list[str]:
    found = links(text)
    if len(found) <= MAX_LINKS:
        return []
    return [
        f"{len(found)} different links: Threads allows at most {MAX_LINKS} in a post; "
        f"remove {len(found) - MAX_LINKS}"
    ]


RULES = Rules(
    platform="threads",
    label="Threads",
    max_chars=MAX_CHARS,
    count=threads_length,
    media={
        "image": MediaRule(frozenset({"image/jpeg", "image/png"}), 8 * MB),
        "video": MediaRule(frozenset({"video/mp4", "video/quicktime"}), 1024 * MB),
    },
    # a carousel holds 2 to 20 images and videos, mixed
    max_media=20,
    alone=frozenset(),
    requires_url=True,
    image_aspect=(0.1, 10.0),
    text_checks=(_too_many_links,),
)

#: the Threads API's only version so far; token endpoints have no version
GRAPH_VERSION = "v1.0"
SCOPES = ("threads_basic", "threads_content_publish")
AUTHORIZE_BASE = "https://threads.net"
PROFILE_URL = "https://www.threads.com/@{username}"

#: a long-lived token lives 60 days; used only when Graph leaves ``expires_in`` out
LONG_LIVED_SECONDS = 60 * 24 * 3600

# Container polling as Meta advises: text and images are usually ready at once; for
# video one status read a minute, for no more than five minutes in all.
IMAGE_POLL_INTERVAL = 3.0
VIDEO_POLL_INTERVAL = 60.0
MAX_POLL_WAIT = 300.0

CALL_LIMIT_WAIT = timedelta(hours=1)
#: threads_publish refusing the quota after our check let the post through
QUOTA_WAIT = timedelta(hours=1)
#: the quota's window when ``threads_publishing_limit`` leaves ``quota_duration`` out
QUOTA_DURATION = timedelta(hours=24)
POLICY_BLOCK_WAIT = timedelta(hours=24)
#: containers expire this long after they were made; an older one is never reused
CONTAINER_LIFETIME = timedelta(hours=24)
PUBLISH_RETRIES = 2
PUBLISH_RETRY_WAIT = 30.0
# A landed post is found among the account's threads by its text and time, between the
# first threads_publish request and the look (widened for clock differences)...
CLOCK_SKEW = timedelta(minutes=2)
# ...among this many of the newest threads.
THREADS_LOOKUP_LIMIT = 25

_AUTH_CODES = frozenset({102, 104, 190, 2500})
_CALL_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
_TRANSIENT_CODES = frozenset({-2, -1, 1, 2})
_NOT_READY = "not ready"
# a container ERROR whose remedy is a new container (nothing was published)
_RETRYABLE_PROCESSING = frozenset({"FAILED_DOWNLOADING_VIDEO"})


def authorize_url(client_id: str, redirect_uri: str, state: str, base: str | None = None) -> str:
    """The Threads consent page to open in the system browser."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": ",".join(SCOPES),
            "response_type": "code",
            "state": state,
        },
        quote_via=quote,
        safe=",",
    )
    return f"{(base or AUTHORIZE_BASE).rstrip('/')}/oauth/authorize?{query}"


class _MediaNotReady(Transient):
    """threads_publish refused a container still processing: poll, then publish again."""


class ThreadsPublisher(Publisher):
    """Publishes text, images, videos and carousels to a Threads profile."""

    platform: ClassVar[str] = "threads"
    rules: ClassVar[Rules] = RULES
    default_bases: ClassVar[Mapping[str, str]] = {"api": "https://graph.threads.net"}

    def __init__(
        self,
        *,
        image_poll_interval: float = IMAGE_POLL_INTERVAL,
        video_poll_interval: float = VIDEO_POLL_INTERVAL,
        max_poll_wait: float = MAX_POLL_WAIT,
        max_not_ready: int = 3,
        **kwargs: Any,
    ) -> None:
        """Besides the base arguments: how often and how long to poll containers
        (``max_poll_wait`` covers all of one publish's containers together)."""
        super().__init__(**kwargs)
        self.image_poll_interval = image_poll_interval
        self.video_poll_interval = video_poll_interval
        self.max_poll_wait = max_poll_wait
        self.max_not_ready = max_not_ready

    # ------------------------------------------------------------ contract

    def identify(self, credential: Credential) -> Identity:
        data = self._graph(
            "GET",
            "me",
            credential,
            what="identifying the Threads account",
            params={"fields": "id,username,name"},
        )
        user_id = data.get("id")
        if not user_id:
            raise Rejected("Threads did not return the account id: connect the account again")
        username = str(data.get("username") or "")
        return Identity(
            remote_id=str(user_id),
            username=username,
            display_name=str(data.get("name") or username),
        )

    def publish(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None = None,
    ) -> Published:
        problems = self.validate(content)
        if problems:
            raise Rejected("; ".join(p.message for p in problems))
        if not account.remote_id:
            raise Rejected("the Threads account has no user id: connect it again")
        user = account.remote_id
        media = content.media
        text = content.text
        self._check_quota(user, credential)
        budget = PollBudget(self.max_poll_wait, self.max_poll_wait)
        total = len(media) + (1 if len(media) > 1 else 0) + 1 + (0 if media else 1)
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        video = any(item.kind == "video" for item in media)
        earlier = self._resumed(user, credential, text, video=video, budget=budget)
        if isinstance(earlier, tuple):  # (media id, permalink): it landed last time
            media_id, permalink = earlier
            return Published(media_id, permalink or self._permalink(media_id, credential, account))
        if earlier is not None:
            container = earlier  # the earlier attempt's container, ready and unpublished
        elif len(media) <= 1:
            params = (
                {"media_type": "TEXT", "text": text}
                if not media
                else self._media_params(media[0], text=text)
            )
            container = self._create_container(user, params, credential, label="the post")
            self._wait_ready(container.id, credential, video=video, label="the post", budget=budget)
            step()
        else:
            # create every item first so Meta fetches and processes them in parallel
            children = [
                (
                    self._create_container(
                        user,
                        self._media_params(item, carousel=True),
                        credential,
                        label=f"media {n}",
                    ).id,
                    item,
                    n,
                )
                for n, item in enumerate(media, 1)
            ]
            for child_id, item, n in children:
                self._wait_ready(
                    child_id,
                    credential,
                    video=item.kind == "video",
                    label=f"media {n}",
                    budget=budget,
                )
                step()
            params = {
                "media_type": "CAROUSEL",
                "children": ",".join(child_id for child_id, _, _ in children),
            }
            if text:
                params["text"] = text
            container = self._create_container(user, params, credential, label="the carousel")
            self._wait_ready(
                container.id, credential, video=video, label="the carousel", budget=budget
            )
            step()

        self.checkpoint.update(
            container=container.id, container_created_at=container.created_at.isoformat()
        )
        media_id, permalink = self._publish_container(
            user, container, credential, video=video, text=text, budget=budget
        )
        step()
        url = permalink or self._permalink(media_id, credential, account)
        self.log.info("published Threads post %s", media_id or "(id unknown)")
        return Published(remote_id=media_id, url=url)

    def refresh(self, credential: Credential) -> Credential:
        """Extend a long-lived token by 60 days. It must be valid and at least a day old."""
        what = "refreshing the Threads token"
        # the token goes only in the query string here: the URL is never logged
        self.log.info("GET /refresh_access_token (%s)", what)
        resp = send(
            self.session,
            "GET",
            f"{self.base('api')}/refresh_access_token",
            what=what,
            timeout=self.timeout,
            params={"grant_type": "th_refresh_token", "access_token": credential.access_token},
        )
        data = json_body(resp)
        secrets = credential_secrets(credential)
        if resp.status_code != 200 or graph_error(data) or not data.get("access_token"):
            raise self._refresh_error(resp, data, what=what, secrets=secrets)
        return credential.with_token(
            access_token=str(data["access_token"]),
            expires_at=self._expiry(data.get("expires_in")),
        )

    # ------------------------------------------------------------ connect flow

    def exchange_code(
        self, code: str, redirect_uri: str, client_id: str, client_secret: str
    ) -> Credential:
        """Trade the authorization code for a long-lived (60-day) token.

        The client secret is used here and not stored: the refresh needs only the token.
        """
        code = code.strip().removesuffix("#_")  # Meta may append "#_" to the redirect
        secrets: tuple[str, ...] = (code, client_secret)
        what = "exchanging the Threads authorization code"
        self.log.info("POST /oauth/access_token (%s)", what)
        resp = send(
            self.session,
            "POST",
            f"{self.base('api')}/oauth/access_token",
            what=what,
            timeout=self.timeout,
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        data = json_body(resp)
        short = data.get("access_token")
        if resp.status_code != 200 or graph_error(data) or not short:
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        what = "getting a long-lived Threads token"
        secrets = (code, client_secret, str(short))
        self.log.info("GET /access_token (%s)", what)
        resp = send(
            self.session,
            "GET",
            f"{self.base('api')}/access_token",
            what=what,
            timeout=self.timeout,
            params={
                "grant_type": "th_exchange_token",
                "client_secret": client_secret,
                "access_token": short,
            },
        )
        long_data = json_body(resp)
        if resp.status_code != 200 or graph_error(long_data) or not long_data.get("access_token"):
            raise self._connect_error(resp, long_data, what=what, secrets=secrets)
        extra: dict[str, Any] = {}
        if data.get("user_id") is not None:
            extra["user_id"] = str(data["user_id"])
        return Credential(
            access_token=str(long_data["access_token"]),
            expires_at=self._expiry(long_data.get("expires_in")),
            client_id=client_id,
            extra=extra,
        )

    # ------------------------------------------------------------ publishing steps

    @staticmethod
    def _media_params(item: MediaItem, *, text: str = "", carousel: bool = False) -> dict[str, Any]:
        params: dict[str, Any]
        if item.kind == "video":
            params = {"media_type": "VIDEO", "video_url": item.url}
        else:
            params = {"media_type": "IMAGE", "image_url": item.url}
        if item.alt_text:
            params["alt_text"] = item.alt_text
        if carousel:
            params["is_carousel_item"] = True  # the text goes on the parent
        elif text:
            params["text"] = text
        return params

    def _create_container(
        self, user: str, params: dict[str, Any], credential: Credential, *, label: str
    ) -> Container:
        # Not a create: a container is invisible and expires in 24 h, so a lost answer
        # here is Transient and a retry leaves at most an orphan behind. Its age counts
        # from before the request, so it is never thought younger than it is.
        created_at = self.now()
        data = self._graph(
            "POST",
            f"{user}/threads",
            credential,
            what=f"preparing {label} for Threads",
            body=params,
        )
        container_id = data.get("id")
        if not container_id:
            raise Transient(f"Threads did not return a container id for {label}; will retry")
        return Container(str(container_id), created_at)

    def _container_status(self, container_id: str, credential: Credential) -> dict[str, Any]:
        return self._graph(
            "GET",
            container_id,
            credential,
            what="checking the Threads container status",
            params={"fields": "status,error_message"},
        )

    def _check_quota(self, user: str, credential: Credential) -> None:
        """Raise RateLimited, before any container is made, when the quota is used up."""
        try:
            data = self._graph(
                "GET",
                f"{user}/threads_publishing_limit",
                credential,
                what="reading the Threads publishing quota",
                params={"fields": "quota_usage,config"},
            )
        except (AuthExpired, RateLimited):
            raise  # the container calls would meet the same refusal
        except PublishError as exc:
            # threads_publish enforces the quota itself: a failed check must not stop a post
            self.log.warning("could not read the Threads publishing quota: %s", exc)
            return
        used = quota_used(data, QUOTA_DURATION)
        if used is None:
            return
        usage, total, window = used.usage, used.total, used.window
        # Graph does not say when the oldest post leaves the rolling window; a whole
        # window from now is the first instant sure to have room
        retry_at = self.now() + window
        raise RateLimited(
            f"the Threads account has used {usage} of its {total} API-published posts for "
            f"the last {window.total_seconds() / 3600:g} hours; will publish at "
            f"{retry_at:%Y-%m-%d %H:%M} UTC, when the window has room again",
            retry_at=retry_at,
            http_status=None,
        )

    def _wait_ready(
        self,
        container_id: str,
        credential: Credential,
        *,
        video: bool,
        label: str,
        budget: PollBudget,
    ) -> str:
        """Poll until the container is FINISHED (or already PUBLISHED); return that state."""
        interval = self.video_poll_interval if video else self.image_poll_interval
        while True:
            status = self._container_status(container_id, credential)
            state = str(status.get("status") or "")
            if state in ("FINISHED", "PUBLISHED"):
                return state
            if state in ("ERROR", "EXPIRED"):
                raise self._processing_error(state, str(status.get("error_message") or ""), label)
            if budget.left <= 0:
                raise Transient(
                    f"Threads was still processing {label} after {budget.total:.0f} s; "
                    "nothing was published, will retry"
                )
            self.sleep(budget.spend(interval))

    @staticmethod
    def _processing_error(state: str, detail: str, label: str) -> PublishError:
        if state == "EXPIRED":
            return Transient(
                f"the Threads container for {label} expired before publishing; will retry"
            )
        if detail in _RETRYABLE_PROCESSING:
            return Transient(
                f"Threads could not process {label} ({detail}); nothing was published, will retry"
            )
        return Rejected(f"Threads could not process {label}: {detail or 'ERROR'}")

    def _publish_container(
        self,
        user: str,
        container: Container,
        credential: Credential,
        *,
        video: bool,
        text: str,
        budget: PollBudget,
    ) -> tuple[str, str | None]:
        """threads_publish, never twice for one post. Returns (media id, permalink or None).

        Every retry here goes to the same container, which publishes at most once.
        """
        creation_id = container.id
        self.checkpoint.setdefault(
            "publish_started", self.resume.get("publish_started", self.now().isoformat())
        )
        started = datetime.fromisoformat(self.checkpoint["publish_started"])
        not_ready = 0
        retries = 0
        first_unknown: OutcomeUnknown | None = None
        while True:
            try:
                data = self._graph(
                    "POST",
                    f"{user}/threads_publish",
                    credential,
                    what="publishing the Threads post",
                    body={"creation_id": creation_id},
                    create=True,
                )
                media_id = str(data.get("id") or "")
                if media_id:
                    return media_id, None
                raise OutcomeUnknown(
                    "Threads answered the publish request without a post id; the post may "
                    "or may not have been published: check the account"
                )
            except _MediaNotReady:
                not_ready += 1
                if not_ready > self.max_not_ready:
                    raise Transient(
                        "Threads kept saying the post is not ready for publishing; nothing "
                        "was published, will retry"
                    ) from None
                state = self._wait_ready(
                    creation_id, credential, video=video, label="the post", budget=budget
                )
                if state == "PUBLISHED":
                    return self._find_landed(user, credential, text, started)
            except OutcomeUnknown as unknown:
                landed = self._check_landed(user, creation_id, credential, text, started)
                if landed.state == "PUBLISHED":
                    return landed.media_id, landed.permalink
                if landed.state == "FINISHED" and first_unknown is None:
                    # unpublished, so the request did not land; one retry cannot post twice
                    self.log.warning(
                        "threads_publish outcome unknown; container %s not published, "
                        "retrying once",
                        creation_id,
                    )
                    first_unknown = unknown
                    continue
                raise
            except PublishError as refusal:
                # the container, not the answer, tells whether there is a post
                landed = self._check_landed(user, creation_id, credential, text, started)
                if landed.state == "PUBLISHED":
                    self.log.warning(
                        "threads_publish was refused (%s) but container %s is PUBLISHED",
                        refusal,
                        creation_id,
                    )
                    return landed.media_id, landed.permalink
                if first_unknown is not None and landed.state != "FINISHED":
                    raise first_unknown from None
                if not landed.state:
                    raise OutcomeUnknown(
                        f"Threads refused the publish request ({refusal}) and the container "
                        "status could not be read; the post may or may not have been "
                        "published: check the account before publishing again",
                        http_status=refusal.http_status,
                    ) from None
                if not isinstance(refusal, Transient):
                    raise
                if (
                    landed.state == "FINISHED"
                    and retries < PUBLISH_RETRIES
                    and self.now() - container.created_at < CONTAINER_LIFETIME
                ):
                    retries += 1
                    self.log.info("threads_publish refused for now (%s); retrying", refusal)
                    self.sleep(PUBLISH_RETRY_WAIT)
                    continue
                raise

    def _resumed(
        self,
        user: str,
        credential: Credential,
        text: str,
        *,
        video: bool,
        budget: PollBudget,
    ) -> Container | tuple[str, str | None] | None:
        """The container an earlier attempt of this post made, when it can still serve.

        PUBLISHED: that attempt landed after all. FINISHED (or processing) and younger
        than a day: publish it rather than make a new one. Anything else: start afresh.
        """
        previous = self.resume.get("container")
        made = self.resume.get("container_created_at")
        if not previous or not made:
            return None
        created = datetime.fromisoformat(made)
        try:
            state = str(self._container_status(previous, credential).get("status") or "")
        except Rejected as exc:
            self.log.info(
                "earlier container %s cannot be read (%s); making a new one", previous, exc
            )
            return None
        if state == "PUBLISHED":
            self.log.warning("earlier container %s is PUBLISHED: that attempt landed", previous)
            started = datetime.fromisoformat(self.resume.get("publish_started", made))
            return self._find_landed(user, credential, text, started)
        if state in ("FINISHED", "IN_PROGRESS") and self.now() - created < CONTAINER_LIFETIME:
            self.log.info("reusing container %s from an earlier attempt", previous)
            self._wait_ready(previous, credential, video=video, label="the post", budget=budget)
            return Container(previous, created)
        return None

    def _check_landed(
        self, user: str, creation_id: str, credential: Credential, text: str, started: datetime
    ) -> Landed:
        try:
            status = self._container_status(creation_id, credential)
        except PublishError as exc:
            self.log.warning("could not read container %s after publishing: %s", creation_id, exc)
            return Landed("")
        state = str(status.get("status") or "")
        if state != "PUBLISHED":
            return Landed(state)
        self.log.info("container %s is PUBLISHED: the publish landed", creation_id)
        media_id, permalink = self._find_landed(user, credential, text, started)
        return Landed("PUBLISHED", media_id, permalink)

    def _find_landed(
        self, user: str, credential: Credential, text: str, started: datetime
    ) -> tuple[str, str | None]:
        """The post a landed publish made: (media id, permalink or None).

        Not simply the newest thread, which another tool may have made: ours carries our
        text and a timestamp from ``started`` (the first threads_publish) to now; of
        several, the earliest. None listed: OutcomeUnknown, rather than someone else's
        link. The listing failing: published, with no id and the profile URL (the
        container said so; the link is cosmetic).
        """
        try:
            data = self._graph(
                "GET",
                f"{user}/threads",
                credential,
                what="finding the published Threads post",
                params={"fields": "id,text,timestamp,permalink", "limit": THREADS_LOOKUP_LIMIT},
            )
        except PublishError as exc:
            self.log.warning("could not list recent Threads posts: %s", exc)
            return "", None
        earliest = started - CLOCK_SKEW
        latest = self.now() + CLOCK_SKEW
        wanted = text.strip()
        found: list[tuple[datetime, dict[str, Any]]] = []
        for item in data.get("data") or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            when = parse_timestamp(item.get("timestamp"))
            if when is None:
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if earliest <= when <= latest and str(item.get("text") or "").strip() == wanted:
                found.append((when, item))
        if not found:
            since = started.astimezone(UTC)
            raise OutcomeUnknown(
                "Threads marks the post as published, but no post with its text from "
                f"{since:%Y-%m-%d %H:%M} UTC is among the account's recent threads; it may "
                "or may not be on the account: check it before publishing again"
            )
        found.sort(key=lambda entry: entry[0])
        chosen = found[0][1]
        return str(chosen["id"]), (str(chosen["permalink"]) if chosen.get("permalink") else None)

    def _permalink(self, media_id: str, credential: Credential, account: AccountRef) -> str:
        # The link is cosmetic: after a publish nothing may turn success into failure.
        fallback = post_url(media_id, account.username)
        if not media_id:
            return fallback
        try:
            data = self._graph(
                "GET",
                media_id,
                credential,
                what="reading the Threads post link",
                params={"fields": "permalink"},
            )
        except PublishError as exc:
            self.log.warning("permalink lookup failed, using the profile URL: %s", exc)
            return fallback
        return str(data.get("permalink") or fallback)

    # ------------------------------------------------------------ HTTP and errors

    def _graph(
        self,
        method: str,
        path: str,
        credential: Credential,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        create: bool = False,
    ) -> dict[str, Any]:
        """One versioned Graph call with the token in the Authorization header."""
        route = f"/{GRAPH_VERSION}/{path}"
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {credential.access_token}"}}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["json"] = body
        resp = send(
            self.session,
            method,
            f"{self.base('api')}{route}",
            what=what,
            create=create,
            timeout=self.timeout,
            **kwargs,
        )
        self.log.info("%s %s -> %s", method, route, resp.status_code)
        data = json_body(resp)
        if 200 <= resp.status_code < 300 and not graph_error(data):
            return data
        raise self._classify(
            resp, data, what=what, create=create, secrets=credential_secrets(credential)
        )

    def _classify(
        self,
        resp: requests.Response,
        data: Mapping[str, Any],
        *,
        what: str,
        create: bool,
        secrets: Iterable[str | None] = (),
    ) -> PublishError:
        """The typed error for a Graph answer that is not a success."""
        status = resp.status_code
        if create and status >= 500:
            # a 5xx on threads_publish may come after the post was made: resolve, not retry
            return server_error(resp, what=what, create=True)
        err = graph_error(data)
        code = as_int(err.get("code")) if err else None
        if err is None or code is None:
            return self._classify_status(resp, what=what, create=create)
        subcode = as_int(err.get("error_subcode"))
        said = scrub(str(err.get("error_user_msg") or err.get("message") or "no details"), secrets)
        ref = f"code {code}" + (f"/{subcode}" if subcode else "")
        now = self.now()
        if code in _AUTH_CODES:
            return AuthExpired(
                f"Threads no longer accepts this account's access (the token is expired, "
                f"revoked or invalid, {ref}): reconnect the Threads account",
                http_status=status,
                refreshable=False,
            )
        if "LINK_LIMIT_EXCEEDED" in said:
            return Rejected(
                f"Threads refused the post: more than {MAX_LINKS} links ({ref})",
                http_status=status,
            )
        if code == 9 or "publishing limit" in said.lower():
            return RateLimited(
                "the Threads account reached its limit of API-published posts for the last "
                f"24 hours ({ref}); will check again in an hour",
                retry_at=now + QUOTA_WAIT,
                http_status=status,
            )
        if code == 9007 or _NOT_READY in said.lower():
            return _MediaNotReady(
                f"Threads says the post is not ready for publishing yet ({ref}); will retry",
                http_status=status,
            )
        if code in _CALL_LIMIT_CODES:
            regain = regain_access(resp)
            hints = [now + regain] if regain is not None else []
            header = retry_after_hint(resp, now)
            if header is not None:
                hints.append(header)
            retry_at = max(hints) if hints else now + CALL_LIMIT_WAIT
            return RateLimited(
                f"Threads' API call limit was reached while {what} ({ref}); will try again "
                f"after {retry_at:%H:%M} UTC",
                retry_at=retry_at,
                http_status=status,
            )
        if code == 368:
            return RateLimited(
                f"Threads temporarily blocked this action for policy reasons: {said} ({ref}); "
                "will try again in a day",
                retry_at=now + POLICY_BLOCK_WAIT,
                http_status=status,
            )
        if err.get("is_transient") is True or code in _TRANSIENT_CODES:
            # Graph answered, so it refused the request: nothing was made
            return Transient(
                f"Threads had a temporary problem while {what}: {said} ({ref}); will retry",
                http_status=status,
            )
        if code == 10 or 200 <= code <= 299:
            return Rejected(
                f"the Threads connection lacks a permission needed for publishing ({said}, "
                f"{ref}): reconnect the account and grant threads_content_publish",
                http_status=status,
            )
        if status < 500:
            return Rejected(f"Threads refused the post: {said} ({ref})", http_status=status)
        return server_error(resp, what=what, create=create)

    def _classify_status(self, resp: requests.Response, *, what: str, create: bool) -> PublishError:
        """No Graph error body (a proxy, an HTML page): fall back on the HTTP status."""
        status = resp.status_code
        if status >= 500:
            return server_error(resp, what=what, create=create)
        if status in (401, 403):
            return AuthExpired(
                f"Threads refused the access token while {what} (HTTP {status}): reconnect "
                "the Threads account",
                http_status=status,
                refreshable=False,
            )
        if status == 429:
            return RateLimited(
                f"Threads is rate limiting requests (HTTP 429) while {what}",
                retry_at=retry_after(resp, self.now(), CALL_LIMIT_WAIT),
            )
        if status >= 400:
            return Rejected(f"Threads refused the request while {what} (HTTP {status})")
        if create:
            return OutcomeUnknown(
                f"unexpected answer (HTTP {status}) while {what}; the post may or may not "
                "have been published: check the account",
                http_status=status,
            )
        return Transient(f"unexpected answer (HTTP {status}) while {what}; will retry")

    def _refresh_error(
        self,
        resp: requests.Response,
        data: Mapping[str, Any],
        *,
        what: str,
        secrets: Iterable[str | None],
    ) -> PublishError:
        err = graph_error(data)
        if err is None and 200 <= resp.status_code < 300:
            return Transient(f"Threads sent no token while {what}; will retry")
        error = self._classify(resp, data, what=what, create=False, secrets=secrets)
        if isinstance(error, Transient | RateLimited):
            return error
        detail = scrub(str((err or {}).get("message") or f"HTTP {resp.status_code}"), secrets)
        return AuthExpired(
            f"Threads could not refresh the access token ({detail}): reconnect the Threads account",
            http_status=resp.status_code,
            refreshable=False,
        )

    def _connect_error(
        self,
        resp: requests.Response,
        data: Mapping[str, Any],
        *,
        what: str,
        secrets: Iterable[str | None],
    ) -> PublishError:
        if resp.status_code >= 500:
            return server_error(resp, what=what, create=False)
        detail = connect_refusal(data, resp.status_code)
        return AuthExpired(
            f"Threads refused the connection while {what}: {scrub(str(detail), secrets)}; "
            "connect the account again",
            http_status=resp.status_code,
            refreshable=False,
        )

    def _expiry(self, expires_in: Any) -> datetime:
        return expires_at(self.now(), expires_in, LONG_LIVED_SECONDS)


def post_url(_media_id: str, username: str) -> str:
    """Without a permalink from the platform, the profile is the best address there is."""
    return PROFILE_URL.format(username=username) if username else "https://www.threads.com/"


PLATFORM = Platform(
    name="threads",
    label=RULES.label,
    short="@",
    colour="#101010",
    order=60,
    rules=RULES,
    publisher=ThreadsPublisher,
    token_help=(
        "In Meta's app dashboard (developers.facebook.com/apps), open your app's use case "
        "“Access the Threads API”: under Settings add your Threads profile as a Threads "
        "tester (accept the invitation in Threads → Settings → Account → Website "
        "permissions), then generate a user token with threads_basic and "
        "threads_content_publish and paste it here. Paste a long-lived token (60 days): a "
        "token that lasts one hour must first be exchanged for one with your app's secret "
        "(GET graph.threads.net/access_token?grant_type=th_exchange_token). Milton renews "
        "it while it is still valid."
    ),
    post_url=post_url,
    # No browser sign-in: Meta's app dashboard accepts only https:// Redirect Callback
    # URLs for the Threads use case, so the http://127.0.0.1 loopback redirect a
    # desktop app listens on cannot be registered (fbsamples/threads_api#32, Dec 2024:
    # "not able to add http://127.0.0.1:8080/... since all url require HTTPS"; Auth.js's
    # Threads provider notes "Facebook required you to use https even for localhost").
    # An https redirect would need a certificate for 127.0.0.1 or a relay on the web,
    # which a local-first app has neither of. ``authorize_url`` and
    # ``ThreadsPublisher.exchange_code`` stay for the day Meta allows one.
    oauth=None,
    no_browser_note=(
        "Threads has no browser sign-in in Milton: Meta accepts only https:// redirect "
        "addresses for Threads apps, never the http://127.0.0.1 address Milton listens on "
        "while you sign in. Paste a long-lived Threads token instead."
    ),
    # long-lived tokens renew only while valid and at least a day old
    token_upkeep=TokenUpkeep(
        renew_before=timedelta(days=10),
        min_age=timedelta(hours=24),
        unknown_expiry_every=timedelta(days=7),
    ),
    preview=Preview(
        fold_chars=None,
        link_card=True,
        image_ratio=(0.75, 1.91),
        note="With no media, the first link shows as a preview card. Images and videos "
        "come from public links, which Meta fetches when the post is prepared.",
    ),
)
