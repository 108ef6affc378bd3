"""Instagram: the Graph API with Instagram Login (graph.instagram.com).

Publishing is three steps (CONTRACTS.md section 3): create a media *container* that
Instagram fills by fetching the media from a public URL, poll the container until it
is ``FINISHED``, then ``media_publish`` it. Only the last step makes a post exist, so
only it is a *create* call in the sense of ``http.send``: a lost answer there is
resolved by reading the container, whose ``status_code`` turns ``PUBLISHED`` once the
post landed (CONTRACTS.md 0.2). Meta's *answers* to media_publish are not to be trusted
either: it has sent errors (4/2207051 among them) for posts that went live, so every
refusal is checked against the container before it is believed. A container can be
published once only, which is why retrying media_publish on the same container, while
it is still ``FINISHED``, cannot post twice; a new container could.

Graph answers most errors with HTTP 400; errors are classified on ``error.code`` and
``error.error_subcode`` (CONTRACTS.md 3.8), never on the HTTP status alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
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
from milton_desktop.publishers.metagraph import Container as _Container
from milton_desktop.publishers.metagraph import Landed as _Landed
from milton_desktop.publishers.metagraph import PollBudget as _PollBudget
from milton_desktop.publishers.metagraph import as_int as _as_int
from milton_desktop.publishers.metagraph import connect_refusal, expires_at, quota_used
from milton_desktop.publishers.metagraph import graph_error as _graph_error
from milton_desktop.publishers.metagraph import parse_timestamp as _parse_timestamp
from milton_desktop.publishers.metagraph import regain_access as _regain_access
from milton_desktop.publishers.platform import OAuthSpec, Platform, Preview, TokenUpkeep

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests

RULES = Rules(
    platform="instagram",
    label="Instagram",
    max_chars=2200,
    media={
        "image": MediaRule(frozenset({"image/jpeg"}), 8 * MB),
        "video": MediaRule(frozenset({"video/mp4", "video/quicktime"}), 300 * MB),
    },
    max_media=10,
    # a carousel mixes images and videos freely
    alone=frozenset(),
    requires_media=True,
    requires_url=True,
    image_aspect=(0.8, 1.91),
    max_hashtags=30,
    max_mentions=20,
)

#: the Graph API version pinned in every path; Meta keeps a version about two years
GRAPH_VERSION = "v25.0"
GRAPH_VERSION_ENV = "MILTON_INSTAGRAM_GRAPH_VERSION"

#: Instagram Login scopes (the old ``business_*`` names were retired in January 2025)
SCOPES = ("instagram_business_basic", "instagram_business_content_publish")
AUTHORIZE_BASE = "https://www.instagram.com"
PROFILE_URL = "https://www.instagram.com/{username}/"

#: a long-lived token lives 60 days; used only when Graph leaves ``expires_in`` out
LONG_LIVED_SECONDS = 60 * 24 * 3600

# Container polling as Meta advises (CONTRACTS.md 3.4): images are usually ready at
# once, so a short interval; video is always processed asynchronously, and Meta asks
# for one status read a minute, for no more than five minutes in all.
IMAGE_POLL_INTERVAL = 3.0
VIDEO_POLL_INTERVAL = 60.0
MAX_POLL_WAIT = 300.0

# Retry horizons. Graph gives no reset time for call limits; X-Business-Use-Case-Usage
# sometimes does (``estimated_time_to_regain_access``, minutes) and wins when present.
CALL_LIMIT_WAIT = timedelta(hours=1)
# media_publish refusing the quota (9/2207042) after the quota check let the post
# through means another tool took the last slot meanwhile. Checking again after an
# hour costs one attempt, and that attempt's quota check then knows the window.
QUOTA_WAIT = timedelta(hours=1)
#: the quota's window when ``content_publishing_limit`` leaves ``quota_duration`` out
QUOTA_DURATION = timedelta(hours=24)
# Code 368 is a temporary policy block: Meta asks for a pause, not an immediate retry.
POLICY_BLOCK_WAIT = timedelta(hours=24)
#: containers expire this long after they were made; an older one is never reused
CONTAINER_LIFETIME = timedelta(hours=24)
# A temporary refusal of media_publish is retried on the same container, which cannot
# become a second post; Meta asks for one or two retries within 30 s to 2 min (2207008).
PUBLISH_RETRIES = 2
PUBLISH_RETRY_WAIT = 30.0
# Graph has no link from a container to its media: a landed post is found in the
# account's media by its caption and its time, between the first media_publish request
# and the look (widened by this much, as Instagram's clock and ours may differ)...
CLOCK_SKEW = timedelta(minutes=2)
# ...among this many of the newest media, as other tools may have posted meanwhile.
MEDIA_LOOKUP_LIMIT = 25

_AUTH_CODES = frozenset({102, 104, 190, 2500})
_CALL_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
_TRANSIENT_CODES = frozenset({-2, -1, 1, 2, 24})
# Subcodes that settle the matter whatever the code says (4/2207051 is a spam
# restriction, not a call limit; 1/2207057 is a bad thumbnail offset, not a hiccup).
_PERMANENT_SUBCODES = frozenset(
    {
        2207004,  # image too large
        2207005,  # image format not supported
        2207009,  # aspect ratio
        2207010,  # caption too long
        2207023,  # unknown media type
        2207026,  # video format
        2207028,  # carousel needs 2-10 items
        2207035,  # product tags
        2207036,
        2207037,
        2207040,  # too many @ tags / hashtags
        2207050,  # account restricted
        2207051,  # activity restricted (spam)
        2207057,  # thumbnail offset out of range
    }
)
# Subcodes whose remedy is a fresh container: nothing was published, a new attempt
# (which creates new containers) may well succeed.
_TRANSIENT_SUBCODES = frozenset(
    {2207001, 2207003, 2207006, 2207008, 2207020, 2207032, 2207053, 2207082}
)
_PERMANENT_CODES = frozenset({25, 100, 352, 506, 36000, 36001, 36003, 36004})
_TOKEN_SUBCODES = {
    458: "the app was removed from the account",
    459: "Instagram wants the user to log in on instagram.com first",
    460: "the password was changed",
    463: "the token has expired",
    464: "the Instagram user is not confirmed",
    467: "the token is invalid",
}
_SUBCODE_IN_TEXT = re.compile(r"\b(22070\d\d)\b")


def graph_version() -> str:
    """The pinned Graph version, or the one named by ``MILTON_INSTAGRAM_GRAPH_VERSION``."""
    value = (os.environ.get(GRAPH_VERSION_ENV) or GRAPH_VERSION).strip().strip("/")
    return value if value.startswith("v") else f"v{value}"


def authorize_url(client_id: str, redirect_uri: str, state: str, base: str | None = None) -> str:
    """The Instagram Login page to open in the system browser (Business Login)."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(SCOPES),
            "state": state,
        },
        quote_via=quote,
        safe=",",
    )
    return f"{(base or AUTHORIZE_BASE).rstrip('/')}/oauth/authorize?{query}"


class _MediaNotReady(Transient):
    """9007/2207027 on media_publish: poll the container again, then retry the publish."""


class InstagramPublisher(Publisher):
    """Publishes images, Reels and carousels to an Instagram professional account."""

    platform: ClassVar[str] = "instagram"
    rules: ClassVar[Rules] = RULES
    default_bases: ClassVar[Mapping[str, str]] = {
        "api": "https://graph.instagram.com",
        "oauth": "https://api.instagram.com",
    }

    def __init__(
        self,
        *,
        image_poll_interval: float = IMAGE_POLL_INTERVAL,
        video_poll_interval: float = VIDEO_POLL_INTERVAL,
        max_poll_wait: float = MAX_POLL_WAIT,
        max_not_ready: int = 3,
        **kwargs: Any,
    ) -> None:
        """Besides the base arguments: how often and how long to poll containers.

        ``max_poll_wait`` is the seconds one publish may spend waiting for all of its
        containers together (Instagram processes a carousel's items in parallel).
        ``max_not_ready`` bounds the re-polls after a 9007 "media is not ready" refusal.
        """
        super().__init__(**kwargs)
        self.graph_version = graph_version()
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
            what="identifying the Instagram account",
            params={"fields": "user_id,username"},
        )
        user_id = data.get("user_id")
        if not user_id:
            # ``id`` is app-scoped and useless for publishing: only ``user_id`` will do
            raise Rejected(
                "Instagram did not return the professional account id: make sure the "
                "account is a Business or Creator account and connect it again"
            )
        username = str(data.get("username") or "")
        return Identity(remote_id=str(user_id), username=username, display_name=username)

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
            raise Rejected("the Instagram account has no user id: connect it again")
        ig_user = account.remote_id
        media = content.media
        self._check_quota(ig_user, credential)
        budget = _PollBudget(self.max_poll_wait, self.max_poll_wait)
        # Instagram fetches the media itself, so there are no bytes to count: progress
        # is reported in steps (each container ready, then the publish).
        total = len(media) + (1 if len(media) > 1 else 0) + 1
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        video = any(item.kind == "video" for item in media)
        earlier = self._resumed(ig_user, credential, content.text, video=video, budget=budget)
        if isinstance(earlier, tuple):  # (media id, permalink): it landed last time
            media_id, permalink = earlier
            return Published(media_id, permalink or self._permalink(media_id, credential, account))
        if earlier is not None:
            container = earlier  # the earlier attempt's container, ready and unpublished
        elif len(media) == 1:
            item = media[0]
            container = self._create_container(
                ig_user, self._single_params(item, content.text), credential, label="the media"
            )
            self._wait_ready(
                container.id, credential, video=video, label="the media", budget=budget
            )
            step()
        else:
            # create every item first so Instagram fetches and processes them in parallel
            children = [
                (
                    self._create_container(
                        ig_user, self._item_params(item), credential, label=f"media {n}"
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
            params: dict[str, Any] = {
                "media_type": "CAROUSEL",
                "children": ",".join(child_id for child_id, _, _ in children),
            }
            if content.text:
                params["caption"] = content.text
            container = self._create_container(ig_user, params, credential, label="the carousel")
            self._wait_ready(
                container.id, credential, video=video, label="the carousel", budget=budget
            )
            step()

        self.checkpoint.update(
            container=container.id, container_created_at=container.created_at.isoformat()
        )
        media_id, permalink = self._publish_container(
            ig_user, container, credential, video=video, caption=content.text, budget=budget
        )
        step()
        url = permalink or self._permalink(media_id, credential, account)
        self.log.info("published Instagram media %s", media_id or "(id unknown)")
        return Published(remote_id=media_id, url=url)

    def refresh(self, credential: Credential) -> Credential:
        """Extend a long-lived token by 60 days. It must be valid and at least a day old."""
        url = f"{self.base('api')}/refresh_access_token"
        what = "refreshing the Instagram token"
        # The endpoint takes the token only in the query string: the URL is never logged
        # here, and urllib3's DEBUG line is scrubbed by the redacting filter that
        # importing publishers.http puts on urllib3's loggers (logsetup).
        self.log.info("GET /refresh_access_token (%s)", what)
        resp = send(
            self.session,
            "GET",
            url,
            what=what,
            timeout=self.timeout,
            params={"grant_type": "ig_refresh_token", "access_token": credential.access_token},
        )
        data = json_body(resp)
        secrets = credential_secrets(credential)
        if resp.status_code != 200 or _graph_error(data) or not data.get("access_token"):
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

        The client secret is used here and not stored: Instagram's refresh needs only
        the token itself.
        """
        # Instagram appends "#_" to the code in the redirect; it is not part of it
        code = code.strip().removesuffix("#_")
        secrets: tuple[str, ...] = (code, client_secret)
        what = "exchanging the Instagram authorization code"
        self.log.info("POST /oauth/access_token (%s)", what)
        resp = send(
            self.session,
            "POST",
            f"{self.base('oauth')}/oauth/access_token",
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
        # current shape: {"data": [{...}]}; older: the same fields at the top level
        entries = data.get("data")
        entry = entries[0] if isinstance(entries, list) and entries else data
        entry = entry if isinstance(entry, dict) else {}
        short = entry.get("access_token")
        if resp.status_code != 200 or not short:
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        permissions = entry.get("permissions")
        if isinstance(permissions, list):
            permissions = ",".join(str(p) for p in permissions)

        what = "getting a long-lived Instagram token"
        secrets = (code, client_secret, str(short))
        self.log.info("GET /access_token (%s)", what)
        resp = send(
            self.session,
            "GET",
            f"{self.base('api')}/access_token",
            what=what,
            timeout=self.timeout,
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": client_secret,
                "access_token": short,
            },
        )
        data = json_body(resp)
        if resp.status_code != 200 or _graph_error(data) or not data.get("access_token"):
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        extra: dict[str, Any] = {}
        if entry.get("user_id") is not None:
            extra["user_id"] = str(entry["user_id"])
        if permissions:
            extra["permissions"] = str(permissions)
        return Credential(
            access_token=str(data["access_token"]),
            expires_at=self._expiry(data.get("expires_in")),
            client_id=client_id,
            extra=extra,
        )

    # ------------------------------------------------------------ publishing steps

    @staticmethod
    def _single_params(item: MediaItem, caption: str) -> dict[str, Any]:
        params: dict[str, Any]
        if item.kind == "video":
            # single feed videos are Reels since July 2023; alt text is not for Reels
            params = {"media_type": "REELS", "video_url": item.url}
        else:
            params = {"image_url": item.url}
            if item.alt_text:
                params["alt_text"] = item.alt_text
        if caption:
            params["caption"] = caption
        return params

    @staticmethod
    def _item_params(item: MediaItem) -> dict[str, Any]:
        # carousel items take no caption: the caption goes on the parent
        if item.kind == "video":
            return {"media_type": "VIDEO", "video_url": item.url, "is_carousel_item": True}
        params: dict[str, Any] = {"image_url": item.url, "is_carousel_item": True}
        if item.alt_text:
            params["alt_text"] = item.alt_text
        return params

    def _create_container(
        self, ig_user: str, params: dict[str, Any], credential: Credential, *, label: str
    ) -> _Container:
        # Not a create in the 0.2 sense: a container is invisible and expires in 24 h,
        # so a lost answer here is Transient and a retry only leaves an orphan behind.
        # Its age is counted from before the request, so it is never thought younger.
        created_at = self.now()
        data = self._graph(
            "POST",
            f"{ig_user}/media",
            credential,
            what=f"preparing {label} for Instagram",
            body=params,
        )
        container_id = data.get("id")
        if not container_id:
            raise Transient(f"Instagram did not return a container id for {label}; will retry")
        return _Container(str(container_id), created_at)

    def _container_status(self, container_id: str, credential: Credential) -> dict[str, Any]:
        return self._graph(
            "GET",
            container_id,
            credential,
            what="checking the Instagram media status",
            params={"fields": "status_code,status"},
        )

    def _check_quota(self, ig_user: str, credential: Credential) -> None:
        """Raise RateLimited, before any container is made, when the quota is used up."""
        try:
            data = self._graph(
                "GET",
                f"{ig_user}/content_publishing_limit",
                credential,
                what="reading the Instagram publishing quota",
                params={"fields": "quota_usage,config"},
            )
        except (AuthExpired, RateLimited):
            raise  # the container calls would meet the same refusal
        except PublishError as exc:
            # media_publish enforces the quota itself: a check that failed must not
            # keep a post from going out
            self.log.warning("could not read the Instagram publishing quota: %s", exc)
            return
        used = quota_used(data, QUOTA_DURATION)
        if used is None:
            return
        usage, total, window = used.usage, used.total, used.window
        # Graph does not say when the oldest post of the rolling window ages out; a
        # whole window from now is the first instant sure to have room, and waiting
        # for it spends no attempts.
        retry_at = self.now() + window
        raise RateLimited(
            f"the Instagram account has used {usage} of its {total} API-published posts "
            f"for the last {window.total_seconds() / 3600:g} hours; will publish at "
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
        budget: _PollBudget,
    ) -> str:
        """Poll until the container is FINISHED (or already PUBLISHED); return that code."""
        interval = self.video_poll_interval if video else self.image_poll_interval
        while True:
            status = self._container_status(container_id, credential)
            code = str(status.get("status_code") or "")
            if code in ("FINISHED", "PUBLISHED"):
                return code
            if code in ("ERROR", "EXPIRED"):
                raise self._processing_error(code, str(status.get("status") or ""), label)
            if budget.left <= 0:
                raise Transient(
                    f"Instagram was still processing {label} after {budget.total:.0f} s; "
                    "nothing was published, will retry"
                )
            self.sleep(budget.spend(interval))

    def _processing_error(self, code: str, detail: str, label: str) -> PublishError:
        detail = detail or code.lower()
        found = _SUBCODE_IN_TEXT.search(detail)
        if found and int(found.group(1)) in _TRANSIENT_SUBCODES:
            # e.g. a download that took too long: a new container may succeed
            return Transient(
                f"Instagram could not process {label} ({detail}); nothing was published, will retry"
            )
        if code == "EXPIRED":
            return Transient(
                f"the Instagram container for {label} expired before publishing; will retry"
            )
        return Rejected(f"Instagram could not process {label}: {detail}")

    def _publish_container(
        self,
        ig_user: str,
        container: _Container,
        credential: Credential,
        *,
        video: bool,
        caption: str,
        budget: _PollBudget,
    ) -> tuple[str, str | None]:
        """media_publish, never twice for one post. Returns (media id, permalink or None).

        Every retry here goes to the same container, which publishes at most once;
        only a later attempt makes a new one.
        """
        creation_id = container.id
        started = self.now()  # the earliest a post of ours can carry
        # a retry of this post looks for its media from the first try on
        self.checkpoint.setdefault(
            "publish_started", self.resume.get("publish_started", started.isoformat())
        )
        started = datetime.fromisoformat(self.checkpoint["publish_started"])
        not_ready = 0
        retries = 0  # of temporary refusals, on this same container
        first_unknown: OutcomeUnknown | None = None  # set once we have retried
        while True:
            try:
                data = self._graph(
                    "POST",
                    f"{ig_user}/media_publish",
                    credential,
                    what="publishing the Instagram post",
                    body={"creation_id": creation_id},
                    create=True,
                )
                media_id = str(data.get("id") or "")
                if media_id:
                    return media_id, None
                # a 2xx without an id: it most likely landed; let the container tell
                raise OutcomeUnknown(
                    "Instagram answered the publish request without a media id; the post "
                    "may or may not have been published: check the account"
                )
            except _MediaNotReady:
                not_ready += 1
                if not_ready > self.max_not_ready:
                    raise Transient(
                        "Instagram kept saying the media is not ready for publishing; "
                        "nothing was published, will retry"
                    ) from None
                state = self._wait_ready(
                    creation_id, credential, video=video, label="the media", budget=budget
                )
                if state == "PUBLISHED":
                    # a "not ready" answer can come from a request that landed: publishing
                    # again would be refused and read as a failure
                    return self._find_landed_media(ig_user, credential, caption, started)
            except OutcomeUnknown as unknown:
                landed = self._check_landed(ig_user, creation_id, credential, caption, started)
                if landed.state == "PUBLISHED":
                    return landed.media_id, landed.permalink
                if landed.state == "FINISHED" and first_unknown is None:
                    # The container is unpublished, so the request did not land, and a
                    # container publishes at most once: one retry cannot post twice.
                    self.log.warning(
                        "media_publish outcome unknown; container %s not published, retrying once",
                        creation_id,
                    )
                    first_unknown = unknown
                    continue
                raise
            except PublishError as refusal:
                # Graph answered with an error, but Meta has said no to posts that went
                # live: the container, not the answer, tells whether there is a post.
                landed = self._check_landed(ig_user, creation_id, credential, caption, started)
                if landed.state == "PUBLISHED":
                    self.log.warning(
                        "media_publish was refused (%s) but container %s is PUBLISHED: "
                        "the post went live",
                        refusal,
                        creation_id,
                    )
                    return landed.media_id, landed.permalink
                if first_unknown is not None and landed.state != "FINISHED":
                    # the retry after a lost answer was refused and the container no
                    # longer says whether the first request landed
                    raise first_unknown from None
                if not landed.state:
                    # Unseen, any refusal could hide a live post (Meta has answered 4 /
                    # 2207051 for posts that went out), and a retry would post it twice.
                    raise OutcomeUnknown(
                        f"Instagram refused the publish request ({refusal}) and the media "
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
                    self.log.info(
                        "media_publish refused for now (%s); retrying container %s",
                        refusal,
                        creation_id,
                    )
                    self.sleep(PUBLISH_RETRY_WAIT)
                    continue
                raise

    def _resumed(
        self,
        ig_user: str,
        credential: Credential,
        caption: str,
        *,
        video: bool,
        budget: _PollBudget,
    ) -> _Container | tuple[str, str | None] | None:
        """The container an earlier attempt of this post made, when it can still serve.

        PUBLISHED: that attempt landed after all, and this one is its success. FINISHED
        (or still processing) and younger than a day: publish it rather than make a new
        one, so retries never pile up containers. Anything else: start afresh.
        """
        previous = self.resume.get("container")
        made = self.resume.get("container_created_at")
        if not previous or not made:
            return None
        created = datetime.fromisoformat(made)
        try:
            code = str(self._container_status(previous, credential).get("status_code") or "")
        except Rejected as exc:  # gone (expired, deleted): a new container is the way on
            self.log.info(
                "earlier container %s cannot be read (%s); making a new one", previous, exc
            )
            return None
        if code == "PUBLISHED":
            self.log.warning("earlier container %s is PUBLISHED: that attempt landed", previous)
            started = datetime.fromisoformat(self.resume.get("publish_started", made))
            return self._find_landed_media(ig_user, credential, caption, started)
        if code in ("FINISHED", "IN_PROGRESS") and self.now() - created < CONTAINER_LIFETIME:
            self.log.info("reusing container %s from an earlier attempt", previous)
            self._wait_ready(previous, credential, video=video, label="the media", budget=budget)
            return _Container(previous, created)
        return None

    def _check_landed(
        self,
        ig_user: str,
        creation_id: str,
        credential: Credential,
        caption: str,
        started: datetime,
    ) -> _Landed:
        try:
            status = self._container_status(creation_id, credential)
        except PublishError as exc:
            self.log.warning("could not read container %s after publishing: %s", creation_id, exc)
            return _Landed("")
        code = str(status.get("status_code") or "")
        if code != "PUBLISHED":
            return _Landed(code)
        self.log.info("container %s is PUBLISHED: the publish landed", creation_id)
        media_id, permalink = self._find_landed_media(ig_user, credential, caption, started)
        return _Landed("PUBLISHED", media_id, permalink)

    def _find_landed_media(
        self, ig_user: str, credential: Credential, caption: str, started: datetime
    ) -> tuple[str, str | None]:
        """The media a landed publish made: (media id, permalink or None).

        Never simply the newest post, which another tool may have made a second later:
        ours carries our caption and a timestamp from ``started`` (the first
        media_publish request) to now. Of several such posts, the earliest. When none
        is listed the container's word stands against the account's, and the outcome
        is OutcomeUnknown rather than a success with someone else's link. When the
        listing itself fails the post still counts as published (with an empty id and
        the profile URL): the container said so, and the link is cosmetic.
        """
        try:
            data = self._graph(
                "GET",
                f"{ig_user}/media",
                credential,
                what="finding the published Instagram post",
                params={"fields": "id,caption,timestamp,permalink", "limit": MEDIA_LOOKUP_LIMIT},
            )
        except PublishError as exc:
            self.log.warning("could not list recent Instagram media: %s", exc)
            return "", None
        earliest = started - CLOCK_SKEW
        latest = self.now() + CLOCK_SKEW
        wanted = caption.strip()
        found: list[tuple[datetime, dict[str, Any]]] = []
        for item in data.get("data") or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            when = _parse_timestamp(item.get("timestamp"))
            if when is None:
                continue
            if when.tzinfo is None:  # Graph writes UTC
                when = when.replace(tzinfo=UTC)
            if earliest <= when <= latest and str(item.get("caption") or "").strip() == wanted:
                found.append((when, item))
        if not found:
            since = started.astimezone(UTC)
            raise OutcomeUnknown(
                "Instagram marks the post as published, but no post with its caption from "
                f"{since:%Y-%m-%d %H:%M} UTC is among the account's recent media; it may or "
                "may not be on the account: check it before publishing again"
            )
        found.sort(key=lambda entry: entry[0])
        if len(found) > 1:
            self.log.warning(
                "%d recent Instagram posts carry this caption; taking the earliest", len(found)
            )
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
                what="reading the Instagram post link",
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
        route = f"/{self.graph_version}/{path}"
        kwargs: dict[str, Any] = {
            "headers": {"Authorization": f"Bearer {credential.access_token}"},
        }
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
        if 200 <= resp.status_code < 300 and not _graph_error(data):
            return data
        raise self._classify(
            resp,
            data,
            what=what,
            create=create,
            secrets=credential_secrets(credential),
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
            # a 5xx on media_publish may come after the post was made: resolve, not retry
            return server_error(resp, what=what, create=True)
        err = _graph_error(data)
        code = _as_int(err.get("code")) if err else None
        if err is None or code is None:
            return self._classify_status(resp, what=what, create=create)
        subcode = _as_int(err.get("error_subcode"))
        said = scrub(str(err.get("message") or "no details"), secrets)
        user_msg = scrub(str(err.get("error_user_msg") or err.get("message") or ""), secrets)
        ref = f"code {code}" + (f"/{subcode}" if subcode else "")
        now = self.now()

        if code in _AUTH_CODES:
            reason = _TOKEN_SUBCODES.get(subcode or 0, "the token is expired, revoked or invalid")
            return AuthExpired(
                f"Instagram no longer accepts this account's access ({reason}, {ref}): "
                "reconnect the Instagram account",
                http_status=status,
                refreshable=False,
            )
        if code == 9 or subcode == 2207042:
            return RateLimited(
                "the Instagram account reached its limit of API-published posts for the "
                f"last 24 hours ({ref}); will check again in an hour",
                retry_at=now + QUOTA_WAIT,
                http_status=status,
            )
        if code == 9007 or subcode == 2207027:
            return _MediaNotReady(
                f"Instagram says the media is not ready for publishing yet ({ref}); will retry",
                http_status=status,
            )
        if code == 9004 or subcode == 2207052:
            return Rejected(
                "Instagram could not fetch the media from its URL: the link must be a public "
                "https address that opens without logging in (no localhost, no private "
                f"share pages). Instagram said: {user_msg} ({ref})",
                http_status=status,
            )
        if subcode in _PERMANENT_SUBCODES:
            return Rejected(f"Instagram refused the post: {user_msg} ({ref})", http_status=status)
        # Call limits come before is_transient: Graph marks them transient too, but
        # retrying them on a short backoff would only extend the block.
        if code in _CALL_LIMIT_CODES:
            # the later of the server's own hints (BUC usage, Retry-After); the
            # one-hour guess only when it gave none
            regain = _regain_access(resp)
            hints = [now + regain] if regain is not None else []
            header = retry_after_hint(resp, now)
            if header is not None:
                hints.append(header)
            retry_at = max(hints) if hints else now + CALL_LIMIT_WAIT
            return RateLimited(
                f"Instagram's API call limit was reached while {what} ({ref}); will try "
                f"again after {retry_at:%H:%M} UTC",
                retry_at=retry_at,
                http_status=status,
            )
        if code == 368:
            return RateLimited(
                f"Instagram temporarily blocked this action for policy reasons: {user_msg} "
                f"({ref}); will try again in a day",
                retry_at=now + POLICY_BLOCK_WAIT,
                http_status=status,
            )
        if (
            err.get("is_transient") is True
            or subcode in _TRANSIENT_SUBCODES
            or code in _TRANSIENT_CODES
        ):
            # Graph answered, so it refused the request: nothing was made, even on
            # media_publish, and a new attempt is safe.
            return Transient(
                f"Instagram had a temporary problem while {what}: {said} ({ref}); will retry",
                http_status=status,
            )
        if code == 10 or 200 <= code <= 299:
            return Rejected(
                f"the Instagram connection lacks a permission needed for publishing ({said}, "
                f"{ref}): reconnect the account and grant content publishing",
                http_status=status,
            )
        if code in _PERMANENT_CODES or status < 500:
            return Rejected(f"Instagram refused the post: {user_msg} ({ref})", http_status=status)
        return server_error(resp, what=what, create=create)

    def _classify_status(self, resp: requests.Response, *, what: str, create: bool) -> PublishError:
        """No Graph error body (a proxy, an HTML page): fall back on the HTTP status."""
        status = resp.status_code
        if status >= 500:
            return server_error(resp, what=what, create=create)
        if status in (401, 403):
            return AuthExpired(
                f"Instagram refused the access token while {what} (HTTP {status}): "
                "reconnect the Instagram account",
                http_status=status,
                refreshable=False,
            )
        if status == 429:
            retry_at = retry_after(resp, self.now(), CALL_LIMIT_WAIT)
            return RateLimited(
                f"Instagram is rate limiting requests (HTTP 429) while {what}",
                retry_at=retry_at,
            )
        if status >= 400:
            return Rejected(f"Instagram refused the request while {what} (HTTP {status})")
        # a 2xx/3xx we cannot read
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
        err = _graph_error(data)
        if err is None and 200 <= resp.status_code < 300:
            return Transient(f"Instagram sent no token while {what}; will retry")
        error = self._classify(resp, data, what=what, create=False, secrets=secrets)
        if isinstance(error, Transient | RateLimited):
            return error
        # Expired tokens cannot be refreshed, nor can revoked ones: only a new login helps.
        detail = scrub(str((err or {}).get("message") or f"HTTP {resp.status_code}"), secrets)
        return AuthExpired(
            f"Instagram could not refresh the access token ({detail}): reconnect the "
            "Instagram account",
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
            f"Instagram refused the connection while {what}: {scrub(str(detail), secrets)}; "
            "connect the account again",
            http_status=resp.status_code,
            refreshable=False,
        )

    def _expiry(self, expires_in: Any) -> datetime:
        return expires_at(self.now(), expires_in, LONG_LIVED_SECONDS)


def post_url(_media_id: str, username: str) -> str:
    """Without a permalink from the platform, the profile is the best address there is."""
    return PROFILE_URL.format(username=username) if username else "https://www.instagram.com/"


PLATFORM = Platform(
    name="instagram",
    label=RULES.label,
    short="IG",
    colour="#c13584",
    order=30,
    rules=RULES,
    publisher=InstagramPublisher,
    token_help=(
        "In Meta's app dashboard, open your app's Instagram API setup (Instagram login), "
        "generate a token for your professional account and paste it here. It lasts 60 "
        "days, and Milton renews it while it is still valid."
    ),
    post_url=post_url,
    oauth=OAuthSpec(
        needs_client_secret=True,
        # Instagram Login documents no PKCE
        uses_pkce=False,
        developer_portal="https://developers.facebook.com/apps",
        authorize_url=authorize_url,
    ),
    # long-lived tokens renew only while valid and at least a day old (CONTRACTS.md 3.2)
    token_upkeep=TokenUpkeep(
        renew_before=timedelta(days=10),
        min_age=timedelta(hours=24),
        unknown_expiry_every=timedelta(days=7),
    ),
    preview=Preview(
        fold_chars=125,
        fold_lines=2,
        more_label="… more",
        links_clickable=False,
        image_ratio=(0.8, 1.91),
        image_note="Images show from 4:5 (portrait) through 1:1 (square) to 1.91:1 "
        "(landscape); a carousel takes the first image's shape.",
        note="Links in a caption cannot be clicked on Instagram.",
    ),
)
