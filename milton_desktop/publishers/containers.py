"""The container life cycle that Instagram and Threads share (Meta's Graph publishing).

A post is made in three steps: a *container* is created from the text and public media
URLs (Meta fetches the media itself), polled until it is ``FINISHED``, then published
by the one call that makes a post exist (``media_publish``, ``threads_publish``). Only
that last call is a *create* in the sense of ``http.send``. There is no idempotency
key, so a lost or doubtful answer is resolved by reading the container, whose state
turns ``PUBLISHED`` once the post landed. Meta's refusals are not believed without that
look either: it has answered errors for posts that went live. A container publishes at
most once, which is why retrying the publish on a ``FINISHED`` container cannot post
twice; a new container could. A made container is kept in the checkpoint, so a later
attempt of the same post publishes it (or finds it published) instead of making another.

:class:`ContainerPublisher` holds all of that, the quota check, the token exchange and
refresh, and the reading of Graph errors. A platform module says what differs: field
and edge names, wording, the parameters of its containers, and the errors only it has.
``post_container`` is the seam for other kinds of post made the same way (a Threads
reply is a container with ``reply_to_id``): it takes extra container fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential
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

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests

#: a long-lived token lives 60 days; used only when Graph leaves ``expires_in`` out
LONG_LIVED_SECONDS = 60 * 24 * 3600

# Container polling as Meta advises (CONTRACTS.md 3.4): text and images are usually
# ready at once, so a short interval; video is always processed asynchronously, and
# Meta asks for one status read a minute, for no more than five minutes in all.
IMAGE_POLL_INTERVAL = 3.0
VIDEO_POLL_INTERVAL = 60.0
MAX_POLL_WAIT = 300.0

# Retry horizons. Graph gives no reset time for call limits; X-Business-Use-Case-Usage
# sometimes does (``estimated_time_to_regain_access``, minutes) and wins when present.
CALL_LIMIT_WAIT = timedelta(hours=1)
# The publish call refusing the quota after the quota check let the post through means
# another tool took the last slot meanwhile. Checking again after an hour costs one
# attempt, and that attempt's quota check then knows the window.
QUOTA_WAIT = timedelta(hours=1)
#: the quota's window when the ``*_publishing_limit`` answer leaves ``quota_duration`` out
QUOTA_DURATION = timedelta(hours=24)
# Code 368 is a temporary policy block: Meta asks for a pause, not an immediate retry.
POLICY_BLOCK_WAIT = timedelta(hours=24)
#: containers expire this long after they were made; an older one is never reused
CONTAINER_LIFETIME = timedelta(hours=24)
# A temporary refusal of the publish call is retried on the same container, which
# cannot become a second post; Meta asks for one or two retries within 30 s to 2 min
# (Instagram's 2207008).
PUBLISH_RETRIES = 2
PUBLISH_RETRY_WAIT = 30.0
# Graph has no link from a container to its post: a landed post is found among the
# account's newest by its text and its time, between the first publish request and the
# look (widened by this much, as Meta's clock and ours may differ)...
CLOCK_SKEW = timedelta(minutes=2)
# ...among this many of the newest, as other tools may have posted meanwhile.
LOOKUP_LIMIT = 25

_AUTH_CODES = frozenset({102, 104, 190, 2500})
_CALL_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
_DEFAULT_TOKEN_REASON = "the token is expired, revoked or invalid"


class _MediaNotReady(Transient):
    """The publish call refused a container still processing: poll, then publish again."""


@dataclass(frozen=True)
class Fault:
    """A Graph ``error`` object, read once for the platform's own classification."""

    #: the HTTP status of the answer
    status: int
    code: int
    subcode: int | None
    #: ``code 190/463``, for messages
    ref: str
    #: the platform's words for "had a temporary problem" and "lacks a permission"
    said: str
    #: its words for "refused the post" and a policy block
    told: str
    #: the moment the answer was read, for retry times
    now: datetime


class ContainerPublisher(Publisher):
    """A publisher whose posts are Graph containers (see the module docstring).

    Subclasses set the class attributes below and give the parameters of their
    containers (:meth:`_single_params`, :meth:`_item_params`), the reading of a
    processing error (:meth:`_processing_error`), the fallback post URL
    (:meth:`_profile_url`) and, where they have any, their own errors
    (:meth:`_platform_refusal`).
    """

    #: the platform's name in messages ("Instagram")
    brand: ClassVar[str]
    #: ... and its possessive ("Instagram's", "Threads'")
    brand_possessive: ClassVar[str]
    #: what a container becomes, in messages: "the media is not ready", "a media id"
    noun: ClassVar[str]
    #: what a container's state is called in messages ("media status")
    status_noun: ClassVar[str]
    #: the edge of the user that makes containers and lists the posts ("media")
    container_edge: ClassVar[str]
    #: the edge of the user that publishes a container ("media_publish")
    publish_edge: ClassVar[str]
    #: the edge of the user that reads the publishing quota
    quota_edge: ClassVar[str]
    #: the container field holding its state ("status_code") ...
    state_field: ClassVar[str]
    #: ... and the one that says why it failed
    detail_field: ClassVar[str]
    #: the field of a container and a post holding its text ("caption")
    text_field: ClassVar[str]
    #: the token grants' prefix: ``ig`` makes ``ig_exchange_token``, ``ig_refresh_token``
    grant_prefix: ClassVar[str]
    #: the base (``default_bases`` role) of the code exchange
    code_exchange_role: ClassVar[str] = "api"
    #: the permission to grant, in the message of a missing one
    publish_permission: ClassVar[str]
    #: the Graph version in every path, unless :meth:`pinned_version` says otherwise
    version: ClassVar[str]
    #: error codes and subcodes Graph answers for a refusal worth trying again
    transient_codes: ClassVar[frozenset[int]] = frozenset({-2, -1, 1, 2})
    transient_subcodes: ClassVar[frozenset[int]] = frozenset()
    #: error codes refused for good even when the HTTP status is a 5xx
    permanent_codes: ClassVar[frozenset[int]] = frozenset()
    #: why a token was refused, by ``error_subcode`` of an auth error
    token_reasons: ClassVar[Mapping[int, str]] = {}

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
        containers together (Meta processes a carousel's items in parallel).
        ``max_not_ready`` bounds the re-polls after a "not ready" refusal.
        """
        super().__init__(**kwargs)
        self.graph_version = self.pinned_version()
        self.image_poll_interval = image_poll_interval
        self.video_poll_interval = video_poll_interval
        self.max_poll_wait = max_poll_wait
        self.max_not_ready = max_not_ready

    def pinned_version(self) -> str:
        """The Graph version to put in every path."""
        return self.version

    # ------------------------------------------------------------ what a platform says

    def _single_params(self, item: MediaItem, text: str) -> dict[str, Any]:
        """The fields of a post's one container for ``item`` with ``text``."""
        raise NotImplementedError

    def _item_params(self, item: MediaItem) -> dict[str, Any]:
        """The fields of a carousel item's container (the text goes on the parent)."""
        raise NotImplementedError

    def _text_params(self, text: str) -> dict[str, Any]:
        """The fields of a container of text alone, where the platform has them."""
        raise Rejected(f"{self.brand} cannot publish text alone: add an image or a video")

    def _processing_error(self, state: str, detail: str, label: str) -> PublishError:
        """The error for a container that reads ERROR or EXPIRED (``detail`` says why)."""
        raise NotImplementedError

    def _profile_url(self, media_id: str, username: str) -> str:
        """The post's address when the platform gives no permalink."""
        raise NotImplementedError

    def _platform_refusal(self, fault: Fault) -> PublishError | None:
        """The error for a Graph error only this platform has, else None. It is asked
        after the auth codes and before the call limits; it answers for the quota and
        for "not ready" too (see :meth:`_quota_refusal`, :meth:`_not_ready`)."""
        return None

    def _texts(self, err: Mapping[str, Any], secrets: Iterable[str | None]) -> tuple[str, str]:
        """(``Fault.said``, ``Fault.told``): what the user reads of a Graph error."""
        said = scrub(str(err.get("error_user_msg") or err.get("message") or "no details"), secrets)
        return said, said

    def _code_answer(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Where the code exchange's answer holds the short-lived token; {} if refused."""
        return {} if graph_error(data) else data

    def _code_extra(self, answer: Mapping[str, Any]) -> dict[str, str]:
        """What of the code exchange's answer to keep with the credential."""
        extra: dict[str, str] = {}
        if answer.get("user_id") is not None:
            extra["user_id"] = str(answer["user_id"])
        return extra

    # ------------------------------------------------------------ contract

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
        self._check_account(account)
        self._check_quota(account.remote_id, credential)
        return self.post_container(content, credential, account, progress=progress)

    def post_container(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        *,
        fields: Mapping[str, Any] | None = None,
        progress: ProgressCallback | None = None,
    ) -> Published:
        """Make the container(s) for ``content``, publish once and return the post.

        ``fields`` are added to the container that is published (a carousel's parent),
        e.g. ``{"reply_to_id": ...}``. A container an earlier attempt of this post made
        (:attr:`resume`) is published or found landed instead of a new one, and the
        one made now is kept in :attr:`checkpoint`. Neither ``content`` nor the quota
        is checked here: :meth:`publish` does both, a caller of its own does its own.
        """
        self._check_account(account)
        user = account.remote_id
        media = content.media
        text = content.text
        budget = PollBudget(self.max_poll_wait, self.max_poll_wait)
        # Meta fetches the media itself, so there are no bytes to count: progress is
        # reported in steps (each container ready, the carousel, then the publish).
        total = len(media) + (1 if len(media) > 1 else 0) + 1 + (0 if media else 1)
        done = 0

        def step() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        video = any(item.kind == "video" for item in media)
        label = f"the {self.noun}"
        earlier = self._resumed(user, credential, text, video=video, budget=budget)
        if isinstance(earlier, tuple):  # (media id, permalink): it landed last time
            media_id, permalink = earlier
            return Published(media_id, permalink or self._permalink(media_id, credential, account))
        if earlier is not None:
            container = earlier  # the earlier attempt's container, ready and unpublished
        elif len(media) <= 1:
            params = self._single_params(media[0], text) if media else self._text_params(text)
            params.update(fields or {})
            container = self._create_container(user, params, credential, label=label)
            self._wait_ready(container.id, credential, video=video, label=label, budget=budget)
            step()
        else:
            container = self._carousel(user, media, text, fields or {}, credential, budget, step)

        self.checkpoint.update(
            container=container.id, container_created_at=container.created_at.isoformat()
        )
        media_id, permalink = self._publish_container(
            user, container, credential, video=video, text=text, budget=budget
        )
        step()
        url = permalink or self._permalink(media_id, credential, account)
        self.log.info("published %s %s %s", self.brand, self.noun, media_id or "(id unknown)")
        return Published(remote_id=media_id, url=url)

    def refresh(self, credential: Credential) -> Credential:
        """Extend a long-lived token by 60 days. It must be valid and at least a day old."""
        what = f"refreshing the {self.brand} token"
        # The endpoint takes the token only in the query string: the URL is never logged
        # here, and urllib3's DEBUG line is scrubbed by the redacting filter that
        # importing publishers.http puts on urllib3's loggers (logsetup).
        self.log.info("GET /refresh_access_token (%s)", what)
        resp = send(
            self.session,
            "GET",
            f"{self.base('api')}/refresh_access_token",
            what=what,
            timeout=self.timeout,
            params={
                "grant_type": f"{self.grant_prefix}_refresh_token",
                "access_token": credential.access_token,
            },
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
        # Meta appends "#_" to the code in the redirect; it is not part of it
        code = code.strip().removesuffix("#_")
        secrets: tuple[str, ...] = (code, client_secret)
        what = f"exchanging the {self.brand} authorization code"
        self.log.info("POST /oauth/access_token (%s)", what)
        resp = send(
            self.session,
            "POST",
            f"{self.base(self.code_exchange_role)}/oauth/access_token",
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
        answer = self._code_answer(data)
        short = answer.get("access_token")
        if resp.status_code != 200 or not short:
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        extra = self._code_extra(answer)

        what = f"getting a long-lived {self.brand} token"
        secrets = (code, client_secret, str(short))
        self.log.info("GET /access_token (%s)", what)
        resp = send(
            self.session,
            "GET",
            f"{self.base('api')}/access_token",
            what=what,
            timeout=self.timeout,
            params={
                "grant_type": f"{self.grant_prefix}_exchange_token",
                "client_secret": client_secret,
                "access_token": short,
            },
        )
        data = json_body(resp)
        if resp.status_code != 200 or graph_error(data) or not data.get("access_token"):
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        return Credential(
            access_token=str(data["access_token"]),
            expires_at=self._expiry(data.get("expires_in")),
            client_id=client_id,
            extra=extra,
        )

    # ------------------------------------------------------------ publishing steps

    def _check_account(self, account: AccountRef) -> None:
        if not account.remote_id:
            raise Rejected(f"the {self.brand} account has no user id: connect it again")

    def _carousel(
        self,
        user: str,
        media: Iterable[MediaItem],
        text: str,
        fields: Mapping[str, Any],
        credential: Credential,
        budget: PollBudget,
        step: Callable[[], None],
    ) -> Container:
        """Every item's container, then the carousel's, all ready to publish."""
        # create every item first so Meta fetches and processes them in parallel
        children = [
            (
                self._create_container(
                    user, self._item_params(item), credential, label=f"media {n}"
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
        if text:
            params[self.text_field] = text
        params.update(fields)
        video = any(item.kind == "video" for _, item, _ in children)
        container = self._create_container(user, params, credential, label="the carousel")
        self._wait_ready(container.id, credential, video=video, label="the carousel", budget=budget)
        step()
        return container

    def _create_container(
        self, user: str, params: dict[str, Any], credential: Credential, *, label: str
    ) -> Container:
        # Not a create in the 0.2 sense: a container is invisible and expires in 24 h,
        # so a lost answer here is Transient and a retry only leaves an orphan behind.
        # Its age is counted from before the request, so it is never thought younger.
        created_at = self.now()
        data = self._graph(
            "POST",
            f"{user}/{self.container_edge}",
            credential,
            what=f"preparing {label} for {self.brand}",
            body=params,
        )
        container_id = data.get("id")
        if not container_id:
            raise Transient(f"{self.brand} did not return a container id for {label}; will retry")
        return Container(str(container_id), created_at)

    def _container_status(self, container_id: str, credential: Credential) -> dict[str, Any]:
        return self._graph(
            "GET",
            container_id,
            credential,
            what=f"checking the {self.brand} {self.status_noun}",
            params={"fields": f"{self.state_field},{self.detail_field}"},
        )

    def _container_state(self, container_id: str, credential: Credential) -> str:
        status = self._container_status(container_id, credential)
        return str(status.get(self.state_field) or "")

    def _check_quota(self, user: str, credential: Credential) -> None:
        """Raise RateLimited, before any container is made, when the quota is used up."""
        try:
            data = self._graph(
                "GET",
                f"{user}/{self.quota_edge}",
                credential,
                what=f"reading the {self.brand} publishing quota",
                params={"fields": "quota_usage,config"},
            )
        except (AuthExpired, RateLimited):
            raise  # the container calls would meet the same refusal
        except PublishError as exc:
            # the publish call enforces the quota itself: a check that failed must not
            # keep a post from going out
            self.log.warning("could not read the %s publishing quota: %s", self.brand, exc)
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
            f"the {self.brand} account has used {usage} of its {total} API-published posts "
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
        budget: PollBudget,
    ) -> str:
        """Poll until the container is FINISHED (or already PUBLISHED); return that state."""
        interval = self.video_poll_interval if video else self.image_poll_interval
        while True:
            status = self._container_status(container_id, credential)
            state = str(status.get(self.state_field) or "")
            if state in ("FINISHED", "PUBLISHED"):
                return state
            if state in ("ERROR", "EXPIRED"):
                detail = str(status.get(self.detail_field) or "")
                raise self._processing_error(state, detail, label)
            if budget.left <= 0:
                raise Transient(
                    f"{self.brand} was still processing {label} after {budget.total:.0f} s; "
                    "nothing was published, will retry"
                )
            self.sleep(budget.spend(interval))

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
        """The publish call, never twice for one post. Returns (media id, permalink or None).

        Every retry here goes to the same container, which publishes at most once;
        only a later attempt makes a new one.
        """
        creation_id = container.id
        edge = self.publish_edge
        # the earliest a post of ours can carry; a retry of this post looks for it
        # from the first try on
        self.checkpoint.setdefault(
            "publish_started", self.resume.get("publish_started", self.now().isoformat())
        )
        started = datetime.fromisoformat(self.checkpoint["publish_started"])
        not_ready = 0
        retries = 0  # of temporary refusals, on this same container
        first_unknown: OutcomeUnknown | None = None  # set once we have retried
        while True:
            try:
                data = self._graph(
                    "POST",
                    f"{user}/{edge}",
                    credential,
                    what=f"publishing the {self.brand} post",
                    body={"creation_id": creation_id},
                    create=True,
                )
                media_id = str(data.get("id") or "")
                if media_id:
                    return media_id, None
                # a 2xx without an id: it most likely landed; let the container tell
                raise OutcomeUnknown(
                    f"{self.brand} answered the publish request without a {self.noun} id; "
                    "the post may or may not have been published: check the account"
                )
            except _MediaNotReady:
                not_ready += 1
                if not_ready > self.max_not_ready:
                    raise Transient(
                        f"{self.brand} kept saying the {self.noun} is not ready for "
                        "publishing; nothing was published, will retry"
                    ) from None
                state = self._wait_ready(
                    creation_id, credential, video=video, label=f"the {self.noun}", budget=budget
                )
                if state == "PUBLISHED":
                    # a "not ready" answer can come from a request that landed: publishing
                    # again would be refused and read as a failure
                    return self._find_landed(user, credential, text, started)
            except OutcomeUnknown as unknown:
                landed = self._check_landed(user, creation_id, credential, text, started)
                if landed.state == "PUBLISHED":
                    return landed.media_id, landed.permalink
                if landed.state == "FINISHED" and first_unknown is None:
                    # The container is unpublished, so the request did not land, and a
                    # container publishes at most once: one retry cannot post twice.
                    self.log.warning(
                        "%s outcome unknown; container %s not published, retrying once",
                        edge,
                        creation_id,
                    )
                    first_unknown = unknown
                    continue
                raise
            except PublishError as refusal:
                # Graph answered with an error, but Meta has said no to posts that went
                # live: the container, not the answer, tells whether there is a post.
                landed = self._check_landed(user, creation_id, credential, text, started)
                if landed.state == "PUBLISHED":
                    self.log.warning(
                        "%s was refused (%s) but container %s is PUBLISHED: the post went live",
                        edge,
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
                        f"{self.brand} refused the publish request ({refusal}) and the "
                        f"{self.status_noun} could not be read; the post may or may not "
                        "have been published: check the account before publishing again",
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
                        "%s refused for now (%s); retrying container %s",
                        edge,
                        refusal,
                        creation_id,
                    )
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
            state = self._container_state(previous, credential)
        except Rejected as exc:  # gone (expired, deleted): a new container is the way on
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
            self._wait_ready(
                previous, credential, video=video, label=f"the {self.noun}", budget=budget
            )
            return Container(previous, created)
        return None

    def _check_landed(
        self, user: str, creation_id: str, credential: Credential, text: str, started: datetime
    ) -> Landed:
        try:
            state = self._container_state(creation_id, credential)
        except PublishError as exc:
            self.log.warning("could not read container %s after publishing: %s", creation_id, exc)
            return Landed("")
        if state != "PUBLISHED":
            return Landed(state)
        self.log.info("container %s is PUBLISHED: the publish landed", creation_id)
        media_id, permalink = self._find_landed(user, credential, text, started)
        return Landed("PUBLISHED", media_id, permalink)

    def _find_landed(
        self, user: str, credential: Credential, text: str, started: datetime
    ) -> tuple[str, str | None]:
        """The post a landed publish made: (media id, permalink or None).

        Never simply the newest post, which another tool may have made a second later:
        ours carries our text and a timestamp from ``started`` (the first publish
        request) to now. Of several such posts, the earliest. When none is listed the
        container's word stands against the account's, and the outcome is
        OutcomeUnknown rather than a success with someone else's link. When the listing
        itself fails the post still counts as published (with an empty id and the
        profile URL): the container said so, and the link is cosmetic.
        """
        try:
            data = self._graph(
                "GET",
                f"{user}/{self.container_edge}",
                credential,
                what=f"finding the published {self.brand} post",
                params={
                    "fields": f"id,{self.text_field},timestamp,permalink",
                    "limit": LOOKUP_LIMIT,
                },
            )
        except PublishError as exc:
            self.log.warning("could not list the recent %s posts: %s", self.brand, exc)
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
            if when.tzinfo is None:  # Graph writes UTC
                when = when.replace(tzinfo=UTC)
            said = str(item.get(self.text_field) or "").strip()
            if earliest <= when <= latest and said == wanted:
                found.append((when, item))
        if not found:
            since = started.astimezone(UTC)
            raise OutcomeUnknown(
                f"{self.brand} marks the post as published, but no post with its "
                f"{self.text_field} from {since:%Y-%m-%d %H:%M} UTC is among the account's "
                f"recent {self.container_edge}; it may or may not be on the account: check "
                "it before publishing again"
            )
        found.sort(key=lambda entry: entry[0])
        if len(found) > 1:
            self.log.warning(
                "%d recent %s posts carry this text; taking the earliest", len(found), self.brand
            )
        chosen = found[0][1]
        return str(chosen["id"]), (str(chosen["permalink"]) if chosen.get("permalink") else None)

    def _permalink(self, media_id: str, credential: Credential, account: AccountRef) -> str:
        # The link is cosmetic: after a publish nothing may turn success into failure.
        fallback = self._profile_url(media_id, account.username)
        if not media_id:
            return fallback
        try:
            data = self._graph(
                "GET",
                media_id,
                credential,
                what=f"reading the {self.brand} post link",
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
        """One versioned Graph call with the token in the Authorization header.

        ``create`` marks the call that makes something public (see ``http.send``)."""
        route = f"/{self.graph_version}/{path}"
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
        """The typed error for a Graph answer that is not a success.

        Graph answers most errors with HTTP 400: they are read on ``error.code`` and
        ``error.error_subcode`` (CONTRACTS.md 3.8), never on the HTTP status alone."""
        status = resp.status_code
        if create and status >= 500:
            # a 5xx on the publish call may come after the post was made: resolve, not retry
            return server_error(resp, what=what, create=True)
        err = graph_error(data)
        code = as_int(err.get("code")) if err else None
        if err is None or code is None:
            return self._classify_status(resp, what=what, create=create)
        subcode = as_int(err.get("error_subcode"))
        said, told = self._texts(err, secrets)
        ref = f"code {code}" + (f"/{subcode}" if subcode else "")
        now = self.now()
        brand = self.brand

        if code in _AUTH_CODES:
            reason = self.token_reasons.get(subcode or 0, _DEFAULT_TOKEN_REASON)
            return AuthExpired(
                f"{brand} no longer accepts this account's access ({reason}, {ref}): "
                f"reconnect the {brand} account",
                http_status=status,
                refreshable=False,
            )
        own = self._platform_refusal(Fault(status, code, subcode, ref, said, told, now))
        if own is not None:
            return own
        # Call limits come before is_transient: Graph marks them transient too, but
        # retrying them on a short backoff would only extend the block.
        if code in _CALL_LIMIT_CODES:
            # the later of the server's own hints (BUC usage, Retry-After); the
            # one-hour guess only when it gave none
            regain = regain_access(resp)
            hints = [now + regain] if regain is not None else []
            header = retry_after_hint(resp, now)
            if header is not None:
                hints.append(header)
            retry_at = max(hints) if hints else now + CALL_LIMIT_WAIT
            return RateLimited(
                f"{self.brand_possessive} API call limit was reached while {what} ({ref}); "
                f"will try again after {retry_at:%H:%M} UTC",
                retry_at=retry_at,
                http_status=status,
            )
        if code == 368:
            return RateLimited(
                f"{brand} temporarily blocked this action for policy reasons: {told} "
                f"({ref}); will try again in a day",
                retry_at=now + POLICY_BLOCK_WAIT,
                http_status=status,
            )
        if (
            err.get("is_transient") is True
            or subcode in self.transient_subcodes
            or code in self.transient_codes
        ):
            # Graph answered, so it refused the request: nothing was made, even on the
            # publish call, and a new attempt is safe.
            return Transient(
                f"{brand} had a temporary problem while {what}: {said} ({ref}); will retry",
                http_status=status,
            )
        if code == 10 or 200 <= code <= 299:
            return Rejected(
                f"the {brand} connection lacks a permission needed for publishing ({said}, "
                f"{ref}): reconnect the account and grant {self.publish_permission}",
                http_status=status,
            )
        if code in self.permanent_codes or status < 500:
            return self._refused(Fault(status, code, subcode, ref, said, told, now))
        return server_error(resp, what=what, create=create)

    def _quota_refusal(self, fault: Fault) -> RateLimited:
        """The publish call refused the quota (a platform's :meth:`_platform_refusal`)."""
        return RateLimited(
            f"the {self.brand} account reached its limit of API-published posts for the "
            f"last 24 hours ({fault.ref}); will check again in an hour",
            retry_at=fault.now + QUOTA_WAIT,
            http_status=fault.status,
        )

    def _not_ready(self, fault: Fault) -> Transient:
        """The publish call refused a container still processing: poll it, publish again."""
        return _MediaNotReady(
            f"{self.brand} says the {self.noun} is not ready for publishing yet "
            f"({fault.ref}); will retry",
            http_status=fault.status,
        )

    def _refused(self, fault: Fault) -> Rejected:
        return Rejected(
            f"{self.brand} refused the post: {fault.told} ({fault.ref})", http_status=fault.status
        )

    def _classify_status(self, resp: requests.Response, *, what: str, create: bool) -> PublishError:
        """No Graph error body (a proxy, an HTML page): fall back on the HTTP status."""
        status = resp.status_code
        brand = self.brand
        if status >= 500:
            return server_error(resp, what=what, create=create)
        if status in (401, 403):
            return AuthExpired(
                f"{brand} refused the access token while {what} (HTTP {status}): "
                f"reconnect the {brand} account",
                http_status=status,
                refreshable=False,
            )
        if status == 429:
            return RateLimited(
                f"{brand} is rate limiting requests (HTTP 429) while {what}",
                retry_at=retry_after(resp, self.now(), CALL_LIMIT_WAIT),
            )
        if status >= 400:
            return Rejected(f"{brand} refused the request while {what} (HTTP {status})")
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
        err = graph_error(data)
        if err is None and 200 <= resp.status_code < 300:
            return Transient(f"{self.brand} sent no token while {what}; will retry")
        error = self._classify(resp, data, what=what, create=False, secrets=secrets)
        if isinstance(error, Transient | RateLimited):
            return error
        # Expired tokens cannot be refreshed, nor can revoked ones: only a new login helps.
        detail = scrub(str((err or {}).get("message") or f"HTTP {resp.status_code}"), secrets)
        return AuthExpired(
            f"{self.brand} could not refresh the access token ({detail}): reconnect the "
            f"{self.brand} account",
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
            f"{self.brand} refused the connection while {what}: {scrub(str(detail), secrets)}; "
            "connect the account again",
            http_status=resp.status_code,
            refreshable=False,
        )

    def _expiry(self, expires_in: Any) -> datetime:
        return expires_at(self.now(), expires_in, LONG_LIVED_SECONDS)
