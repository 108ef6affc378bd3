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

:class:`ContainerPublisher` holds all of that and the quota check, on top of
``metagraph.GraphPublisher`` (the Graph call, its errors, the tokens). A platform module
says what differs: field and edge names, wording, the parameters of its containers,
and the errors only it has.

:meth:`ContainerPublisher.post_container` is the seam for other kinds of post made the
same way (a Threads reply is a container with ``reply_to_id``): it takes extra
container fields. What is not a container (an Instagram comment) is one
``GraphPublisher._graph`` call with ``create=True``, whose errors are read the same
way; it has no container to settle a lost answer with.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from milton_desktop.domain.content import Content, MediaItem, Published
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    ProgressCallback,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.metagraph import (
    Container,
    GraphPublisher,
    Landed,
    MediaNotReady,
    PollBudget,
    parse_timestamp,
    quota_used,
)

# Container polling as Meta advises (CONTRACTS.md 3.4): text and images are usually
# ready at once, so a short interval; video is always processed asynchronously, and
# Meta asks for one status read a minute, for no more than five minutes in all.
IMAGE_POLL_INTERVAL = 3.0
VIDEO_POLL_INTERVAL = 60.0
MAX_POLL_WAIT = 300.0
#: the quota's window when the ``*_publishing_limit`` answer leaves ``quota_duration`` out
QUOTA_DURATION = timedelta(hours=24)
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


class ContainerPublisher(GraphPublisher):
    """A Graph publisher whose posts are containers (see the module docstring).

    Subclasses set the class attributes below and those of :class:`GraphPublisher`,
    and give the parameters of their containers (:meth:`_single_params`,
    :meth:`_item_params`), the reading of a processing error
    (:meth:`_processing_error`) and the fallback post URL (:meth:`_profile_url`).
    """

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
        self.image_poll_interval = image_poll_interval
        self.video_poll_interval = video_poll_interval
        self.max_poll_wait = max_poll_wait
        self.max_not_ready = max_not_ready
        #: where a landed post is looked for, when not among the account's posts
        #: (``container_edge``): Threads lists replies on an edge of their own
        self.lookup_edge: str | None = None

    # ------------------------------------------------------------ what a platform says

    @abstractmethod
    def _single_params(self, item: MediaItem, text: str) -> dict[str, Any]:
        """The fields of a post's one container for ``item`` with ``text``."""

    @abstractmethod
    def _item_params(self, item: MediaItem) -> dict[str, Any]:
        """The fields of a carousel item's container (the text goes on the parent)."""

    def _text_params(self, text: str) -> dict[str, Any]:
        """The fields of a container of text alone, where the platform has them."""
        raise Rejected(f"{self.brand} cannot publish text alone: add an image or a video")

    @abstractmethod
    def _processing_error(self, state: str, detail: str, label: str) -> PublishError:
        """The error for a container that reads ERROR or EXPIRED (``detail`` says why)."""

    @abstractmethod
    def _profile_url(self, media_id: str, username: str) -> str:
        """The post's address when the platform gives no permalink."""

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
        self._settled: str | None = None
        earlier = self._resumed(user, credential, text, video=video, budget=budget)
        if isinstance(earlier, tuple):  # (media id, permalink): it landed last time
            media_id, permalink = earlier
            return Published(
                media_id,
                permalink or self._permalink(media_id, credential, account),
                resolution=f"an earlier attempt got no answer; its {self.status_noun} reads "
                "PUBLISHED, so that attempt had landed",
            )
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
        return Published(remote_id=media_id, url=url, resolution=self._settled)

    # ------------------------------------------------------------ publishing steps

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
            except MediaNotReady:
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
                    self._settled = (
                        f"{self.brand} said the {self.noun} was not ready, yet its "
                        f"{self.status_noun} reads PUBLISHED: the publish had landed"
                    )
                    return self._find_landed(user, credential, text, started)
            except OutcomeUnknown as unknown:
                landed = self._check_landed(user, creation_id, credential, text, started)
                if landed.state == "PUBLISHED":
                    self._settled = (
                        f"the answer to the publish was lost ({unknown.message}); the "
                        f"{self.status_noun} reads PUBLISHED, so it had landed"
                    )
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
                    self._settled = (
                        f"the publish was refused ({refusal.message}), yet the "
                        f"{self.status_noun} reads PUBLISHED: the post went live"
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
                f"{user}/{self.lookup_edge or self.container_edge}",
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
