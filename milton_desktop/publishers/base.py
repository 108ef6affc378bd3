"""The publisher contract: what every platform adapter takes, returns and raises.

Publishers know HTTP and their platform; nothing of the database or Qt. The engine
maps the typed errors below onto the publishing state machine (DESIGN.md section 3):

=================  =====================================================
``Transient``      nothing reached the platform: safe to retry with backoff
``RateLimited``    retry at ``retry_at`` (the platform's reset), not before
``AuthExpired``    refresh the token once and replay, else reconnect
``Rejected``       the platform said no: never retried, message shown
``OutcomeUnknown`` a create may have landed: marked uncertain, never retried
=================  =====================================================
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from milton_desktop.domain.content import Content, Problem, Published
from milton_desktop.domain.credential import AccountRef, Credential, Identity
from milton_desktop.domain.metrics import MetricsBatch
from milton_desktop.domain.validation import Rules, validate

if TYPE_CHECKING:  # requests is imported when a publisher is made: the window starts faster
    import requests


DEFAULT_TIMEOUT = (10.0, 60.0)  # (connect, read) seconds
USER_AGENT = "MiltonDesktop/0.1 (+local-first publisher)"


ProgressCallback = Callable[[int, int], None]  # (bytes_done, bytes_total)


def _connect_timeout(timeout: float | tuple[float, float]) -> float:
    return timeout[0] if isinstance(timeout, tuple) else timeout


# ---------------------------------------------------------------- errors


class PublishError(Exception):
    """Base of the typed errors. ``str(err)`` is safe to show and to log."""

    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


class Transient(PublishError):
    """Worth trying again later.

    ``may_have_posted`` marks a create whose answer was lost on a platform that makes a
    resend safe (an idempotency key, a record key): retrying is right, but if the tries
    run out the post may be on the platform, so it ends uncertain, never failed.
    """

    kind = "transient"

    def __init__(
        self, message: str, *, http_status: int | None = None, may_have_posted: bool = False
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.may_have_posted = may_have_posted


class RateLimited(PublishError):
    kind = "rate_limited"  # not a status: an error kind

    def __init__(self, message: str, retry_at: datetime, *, http_status: int | None = 429) -> None:
        super().__init__(message, http_status=http_status)
        self.retry_at = retry_at


class AuthExpired(PublishError):
    """The token is expired, revoked or invalid. ``refreshable`` says if a refresh may help."""

    kind = "auth"

    def __init__(
        self, message: str, *, http_status: int | None = 401, refreshable: bool = True
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.refreshable = refreshable


class Rejected(PublishError):
    kind = "rejected"


class OutcomeUnknown(PublishError):
    kind = "unknown"


class ClientUnknown(PublishError):
    """The server no longer knows the OAuth app Milton registered on it (``invalid_client``):
    the registration must be made again (``OAuthSpec.registers_itself``)."""

    kind = "client_unknown"


# ---------------------------------------------------------------- the adapter


class Publisher(ABC):
    """One platform's adapter. Instances are cheap; one per account and job is fine."""

    platform: ClassVar[str]
    #: what the platform accepts; the same object as its descriptor's ``rules``
    rules: ClassVar[Rules]
    #: the rules of paid plans by tier name; the same mapping as its descriptor's ``tiers``
    tiers: ClassVar[Mapping[str, Rules]] = {}
    #: the platform's real base URLs, by role; ``api_base`` replaces every one of them
    default_bases: ClassVar[Mapping[str, str]]

    def __init__(
        self,
        *,
        api_base: str | None = None,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        import time

        self.api_base = api_base.rstrip("/") if api_base else None
        if session is None:
            import requests

            session = requests.Session()
        self.session = session
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.timeout = timeout
        self.now = now or (lambda: datetime.now(UTC))
        self.sleep = sleep or time.sleep
        self.log = logging.getLogger(f"milton.publish.{self.platform}")
        #: what this platform learned in earlier runs (e.g. the LinkedIn API version that
        #: works), given by the caller from its settings; publishers read it
        self.state: dict[str, str] = {}
        #: what the platform taught this publisher now, for the caller to keep in ``state``
        self.learned: dict[str, str] = {}
        #: where an earlier attempt of this same post stopped (its ``checkpoint``), so a
        #: retry carries on from there instead of starting over (e.g. a made container)
        self.resume: dict[str, str] = {}
        #: what this attempt did that a retry of the post should know, set as it goes
        self.checkpoint: dict[str, str] = {}
        #: the account's tier (``Identity.tier`` as stored for it), set by the caller:
        #: a Premium X account may post text the standard rules refuse
        self.tier: str | None = None

    def base(self, role: str) -> str:
        """The base URL for ``role`` (e.g. ``api``, ``oauth``), honouring ``api_base``."""
        return self.api_base or self.default_bases[role]

    def preconnect(self) -> bool:
        """Open a connection to the platform's API now, for a publish due in a moment
        (nothing is sent; see :func:`.http.preconnect`). Returns whether one is ready."""
        url = self.api_base or self.default_bases.get("api")
        if not url:
            return False
        from milton_desktop.publishers.http import preconnect

        return preconnect(self.session, url, timeout=min(2.0, _connect_timeout(self.timeout)))

    def validate(self, content: Content) -> list[Problem]:
        """Problems that would make the platform refuse ``content`` from an account of
        :attr:`tier` (no network)."""
        # the descriptor's Platform.rules_for, without the registry: same fallback
        rules = self.tiers.get(self.tier, self.rules) if self.tier else self.rules
        return validate(rules, content)

    def sign_in(self, token: str, login: str | None = None) -> Credential:
        """The credential to keep for a pasted ``token`` (network for platforms that
        trade it, with the ``login`` name of ``Platform.login_name``, for a session);
        by default the token itself."""
        return Credential(token)

    @abstractmethod
    def identify(self, credential: Credential) -> Identity:
        """Ask the platform whose token this is."""

    @abstractmethod
    def publish(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None = None,
    ) -> Published:
        """Publish ``content``; return its id and public URL or raise a typed error."""

    def follow_up(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        *,
        root: Published,
        parent: Published,
        progress: ProgressCallback | None = None,
    ) -> Published:
        """Publish one follow-up of a post: a reply to ``parent`` (the part before it)
        in a thread whose first post is ``root``, or a comment on ``root``, as the
        platform's ``Platform.follow_ups`` says. Raises like :meth:`publish`."""
        raise Rejected(f"{self.platform} takes no follow-ups: post them yourself")

    def metrics(self, refs: list[str], credential: Credential, account: AccountRef) -> MetricsBatch:
        """The engagement counters of the posts ``refs`` (remote ids this publisher
        returned), at most the descriptor's ``MetricsSpec.batch`` of them per request.

        Read-only calls: a failure raises the typed errors (``RateLimited`` with the
        platform's reset), never a create's ``OutcomeUnknown``. A permission the token
        lacks is a note on the batch, not an error per post.
        """
        raise Rejected(f"{self.platform} gives no engagement figures to Milton")

    def pages(self, credential: Credential) -> list[Identity]:
        """The pages (organisations) the token's user may post as; none by default."""
        return []

    def status(self) -> dict[str, str]:
        """What the user may want to know of this platform's set-up (``status``, the
        accounts dialog), e.g. the API version in use; nothing by default."""
        return {}

    def current_tier(self, credential: Credential) -> str | None:
        """The account's tier as the platform says it now (``Identity.tier``), for
        ``Platform.tier_recheck_every``; by default by asking who the token is for."""
        return self.identify(credential).tier

    def refresh(self, credential: Credential) -> Credential:
        """Return a fresh credential, or raise :class:`AuthExpired` (refreshable=False)."""
        raise AuthExpired(
            f"{self.platform} tokens cannot be refreshed here: reconnect the account",
            refreshable=False,
        )


class ReplyPublisher(Publisher):
    """A platform whose follow-ups are replies in a thread (X, Mastodon, Bluesky): a
    post and a reply are one create, the reply naming what it answers."""

    def publish(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None = None,
    ) -> Published:
        return self._post(content, credential, account, progress, None)

    def follow_up(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        *,
        root: Published,
        parent: Published,
        progress: ProgressCallback | None = None,
    ) -> Published:
        reply = self.reply_to(root, parent, credential)
        return self._post(content, credential, account, progress, reply)

    def reply_to(self, root: Published, parent: Published, credential: Credential) -> Any:
        """What a reply's create names of the parts it answers: the parent's id, unless
        the platform wants more (Bluesky: the root's and the parent's strong refs)."""
        return parent.remote_id

    @abstractmethod
    def _post(
        self,
        content: Content,
        credential: Credential,
        account: AccountRef,
        progress: ProgressCallback | None,
        reply: Any,
    ) -> Published:
        """Create a post, or with ``reply`` (what :meth:`reply_to` made) a reply."""
