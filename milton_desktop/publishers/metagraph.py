"""What the Meta Graph publishers (Instagram and Threads) share below their containers.

Both publish through *containers*: one is made from public media URLs, polled until
it is ready, then published by the one call that makes a post exist. That life cycle
is ``containers.ContainerPublisher``. This module holds what it stands on: plain data
and parsing of Graph answers, and :class:`GraphPublisher`, one versioned Graph call
with the reading of Graph errors, the code exchange and the long-lived token refresh.
A platform says what differs (its name in messages, grants, error codes) in class
attributes and a few small methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.domain.metrics import MetricsBatch
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
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
from milton_desktop.publishers.platform import TokenUpkeep

if TYPE_CHECKING:  # requests is imported on the first call: the window starts faster
    import requests

#: a long-lived token lives 60 days; used only when Graph leaves ``expires_in`` out
LONG_LIVED_SECONDS = 60 * 24 * 3600

# Retry horizons. Graph gives no reset time for call limits; X-Business-Use-Case-Usage
# sometimes does (``estimated_time_to_regain_access``, minutes) and wins when present.
CALL_LIMIT_WAIT = timedelta(hours=1)
# The publish call refusing the quota after the quota check let the post through means
# another tool took the last slot meanwhile. Checking again after an hour costs one
# attempt, and that attempt's quota check then knows the window.
QUOTA_WAIT = timedelta(hours=1)
# Code 368 is a temporary policy block: Meta asks for a pause, not an immediate retry.
POLICY_BLOCK_WAIT = timedelta(hours=24)

_AUTH_CODES = frozenset({102, 104, 190, 2500})
_CALL_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
_DEFAULT_TOKEN_REASON = "the token is expired, revoked or invalid"

#: long-lived tokens renew only while valid and at least a day old (CONTRACTS.md 3.2)
LONG_LIVED_UPKEEP = TokenUpkeep(
    renew_before=timedelta(days=10),
    min_age=timedelta(hours=24),
    unknown_expiry_every=timedelta(days=7),
)


@dataclass
class PollBudget:
    """What is left of one publish's container polling time, counted in requested sleeps
    (so a fake sleep keeps tests exact)."""

    total: float
    left: float

    def spend(self, interval: float) -> float:
        pause = min(interval, self.left)
        self.left -= pause
        return pause


@dataclass(frozen=True)
class Container:
    """A container to publish, and when it was made (by our clock, before the request)."""

    id: str
    created_at: datetime


@dataclass(frozen=True)
class Landed:
    """What a container check after an uncertain or refused publish found."""

    #: the container's state ("PUBLISHED", "FINISHED", "EXPIRED", ...), or "" when it
    #: could not be read
    state: str
    media_id: str = ""
    permalink: str | None = None


def graph_error(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``error`` object of a Graph answer, if it has one."""
    err = data.get("error")
    return err if isinstance(err, dict) else None


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _insight_values(data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, int]:
    """``{"data": [{"name": "likes", "values": [{"value": 3}]}, ...]}`` as shared names
    (a lifetime metric has one value; a ``total_value`` form is read too)."""
    out: dict[str, int] = {}
    for entry in data.get("data") or []:
        if not isinstance(entry, dict) or entry.get("name") not in names:
            continue
        value: Any = None
        values = entry.get("values")
        if isinstance(values, list) and values and isinstance(values[-1], dict):
            value = values[-1].get("value")
        total = entry.get("total_value")
        if value is None and isinstance(total, dict):
            value = total.get("value")
        number = as_int(value)
        if number is not None:
            out[names[entry["name"]]] = number
    return out


def parse_timestamp(value: Any) -> datetime | None:
    # Graph writes "2026-03-01T12:00:00+0000"; %z reads both +0000 and +00:00
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None


def regain_access(resp: requests.Response) -> timedelta | None:
    """``estimated_time_to_regain_access`` (minutes) from X-Business-Use-Case-Usage."""
    raw = resp.headers.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = 0
    if isinstance(usage, dict):
        for entries in usage.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    minutes = max(
                        minutes, as_int(entry.get("estimated_time_to_regain_access")) or 0
                    )
    return timedelta(minutes=minutes) if minutes > 0 else None


@dataclass(frozen=True)
class QuotaUsed:
    """A publishing quota with no room left, read from a ``*_publishing_limit`` answer."""

    usage: int
    total: int
    window: timedelta


def quota_used(data: Mapping[str, Any], default_window: timedelta) -> QuotaUsed | None:
    """The quota when ``data`` says it is used up, else None (room left, or unreadable)."""
    entries = data.get("data")
    entry = entries[0] if isinstance(entries, list) and entries else {}
    entry = entry if isinstance(entry, dict) else {}
    config = entry.get("config")
    config = config if isinstance(config, dict) else {}
    usage = as_int(entry.get("quota_usage"))
    total = as_int(config.get("quota_total"))
    if usage is None or total is None or usage < total:
        return None
    seconds = as_int(config.get("quota_duration"))
    window = timedelta(seconds=seconds) if seconds and seconds > 0 else default_window
    return QuotaUsed(usage, total, window)


def connect_refusal(data: Mapping[str, Any], status: int) -> str:
    """What a Graph or login host said when it refused a token at connect time: Graph
    answers ``{"error": {...}}``, the login hosts ``{"error_type", "error_message"}``."""
    err = graph_error(data) or {}
    return str(err.get("message") or data.get("error_message") or f"HTTP {status}")


def expires_at(now: datetime, expires_in: Any, default_seconds: int) -> datetime:
    """When a token given ``expires_in`` seconds (or none said) expires."""
    seconds = as_int(expires_in)
    return now + timedelta(seconds=seconds if seconds else default_seconds)


class MediaNotReady(Transient):
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


class GraphPublisher(Publisher):
    """A publisher that speaks Meta's Graph API with a long-lived user token.

    Subclasses set the class attributes below and, where they have any, tell their
    own errors apart (:meth:`_platform_refusal`).
    """

    #: the platform's name in messages ("Instagram")
    brand: ClassVar[str]
    #: ... and its possessive ("Instagram's", "Threads'")
    brand_possessive: ClassVar[str]
    #: what a post is called in messages: "the media is not ready", "a media id"
    noun: ClassVar[str]
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graph_version = self.pinned_version()

    def pinned_version(self) -> str:
        """The Graph version to put in every path."""
        return self.version

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

    # ------------------------------------------------------------ tokens

    def refresh(self, credential: Credential) -> Credential:
        """Extend a long-lived token by 60 days. It must be valid and at least a day old."""
        what = f"refreshing the {self.brand} token"
        resp, data = self._token_call(
            "GET",
            "api",
            "/refresh_access_token",
            what=what,
            params={
                "grant_type": f"{self.grant_prefix}_refresh_token",
                "access_token": credential.access_token,
            },
        )
        secrets = credential_secrets(credential)
        if resp.status_code != 200 or graph_error(data) or not data.get("access_token"):
            raise self._refresh_error(resp, data, what=what, secrets=secrets)
        return credential.with_token(
            access_token=str(data["access_token"]),
            expires_at=self._expiry(data.get("expires_in")),
        )

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
        resp, data = self._token_call(
            "POST",
            self.code_exchange_role,
            "/oauth/access_token",
            what=what,
            data={
                "client_id": client_id,
                "client_secret": client_secret,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        answer = self._code_answer(data)
        short = answer.get("access_token")
        if resp.status_code != 200 or not short:
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        extra = self._code_extra(answer)

        what = f"getting a long-lived {self.brand} token"
        secrets = (code, client_secret, str(short))
        resp, data = self._token_call(
            "GET",
            "api",
            "/access_token",
            what=what,
            params={
                "grant_type": f"{self.grant_prefix}_exchange_token",
                "client_secret": client_secret,
                "access_token": short,
            },
        )
        if resp.status_code != 200 or graph_error(data) or not data.get("access_token"):
            raise self._connect_error(resp, data, what=what, secrets=secrets)
        return Credential(
            access_token=str(data["access_token"]),
            expires_at=self._expiry(data.get("expires_in")),
            client_id=client_id,
            extra=extra,
        )

    def _token_call(
        self, method: str, role: str, path: str, *, what: str, **kwargs: Any
    ) -> tuple[requests.Response, dict[str, Any]]:
        """A call of a token endpoint, which takes the secrets in the query string or
        the form: the URL is never logged here, and urllib3's DEBUG line is scrubbed by
        the redacting filter that importing publishers.http puts on urllib3's loggers."""
        self.log.info("%s %s (%s)", method, path, what)
        resp = send(
            self.session,
            method,
            f"{self.base(role)}{path}",
            what=what,
            timeout=self.timeout,
            **kwargs,
        )
        return resp, json_body(resp)

    # ------------------------------------------------------------ HTTP and errors

    def _check_account(self, account: AccountRef) -> None:
        if not account.remote_id:
            raise Rejected(f"the {self.brand} account has no user id: connect it again")

    #: insights metric asked for -> the shared counter name (``metrics``)
    insight_metrics: ClassVar[Mapping[str, str]] = {}
    #: the permission the insights edge needs, named in the note when it is missing
    insights_permission: ClassVar[str] = ""
    #: the media's own counter fields read when insights are out of reach
    fallback_fields: ClassVar[Mapping[str, str]] = {}

    def metrics(self, refs: list[str], credential: Credential, account: AccountRef) -> MetricsBatch:
        """``GET /{media-id}/insights?metric=…`` for each post (Graph has no batch of
        insights). A missing permission is said once and, where the platform has them,
        the media's own counters are read instead; Graph's "not enough viewers" (code
        10 on a young post) means no figures yet."""
        found: dict[str, dict[str, int]] = {}
        gone: set[str] = set()
        pending: set[str] = set()
        notes: list[str] = []
        insights = True
        what = f"reading the engagement of {self.brand} posts"
        for media_id in refs:
            if insights:
                resp, data = self._graph_answer(
                    "GET",
                    f"{media_id}/insights",
                    credential,
                    what=what,
                    params={"metric": ",".join(self.insight_metrics)},
                )
                err = graph_error(data)
                if 200 <= resp.status_code < 300 and not err:
                    found[media_id] = _insight_values(data, self.insight_metrics)
                    continue
                code = as_int(err.get("code")) if err else None
                message = str(err.get("message") or "") if err else ""
                if code == 10 and "viewer" in message.lower():
                    pending.add(media_id)
                    continue
                if code == 100 and as_int(err.get("error_subcode") if err else None) == 33:
                    gone.add(media_id)  # deleted, or not this account's
                    continue
                if code == 10 or (code is not None and 200 <= code <= 299):
                    insights = False
                    notes.append(
                        f"reconnect the {self.brand} account with the "
                        f"{self.insights_permission} permission to see "
                        f"{', '.join(self._scoped_counters())}"
                    )
                else:
                    raise self._classify(
                        resp, data, what=what, create=False, secrets=credential_secrets(credential)
                    )
            if not self.fallback_fields:
                continue
            resp, data = self._graph_answer(
                "GET",
                media_id,
                credential,
                what=what,
                params={"fields": ",".join(self.fallback_fields)},
            )
            err = graph_error(data)
            if 200 <= resp.status_code < 300 and not err:
                found[media_id] = {
                    ours: int(data[theirs])
                    for theirs, ours in self.fallback_fields.items()
                    if isinstance(data.get(theirs), int)
                }
            elif err and as_int(err.get("code")) == 100:
                gone.add(media_id)
            else:
                raise self._classify(
                    resp, data, what=what, create=False, secrets=credential_secrets(credential)
                )
        return MetricsBatch(
            counters=found, gone=frozenset(gone), pending=frozenset(pending), notes=tuple(notes)
        )

    def _scoped_counters(self) -> list[str]:
        fallback = set(self.fallback_fields.values())
        return [name for name in self.insight_metrics.values() if name not in fallback]

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
        resp, data = self._graph_answer(
            method, path, credential, what=what, params=params, body=body, create=create
        )
        if 200 <= resp.status_code < 300 and not graph_error(data):
            return data
        raise self._classify(
            resp, data, what=what, create=create, secrets=credential_secrets(credential)
        )

    def _graph_answer(
        self,
        method: str,
        path: str,
        credential: Credential,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        create: bool = False,
    ) -> tuple[requests.Response, dict[str, Any]]:
        """One versioned Graph call and its JSON, whatever the answer."""
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
        return resp, json_body(resp)

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
        fault = Fault(status, code, subcode, ref, said, told, now)
        own = self._platform_refusal(fault)
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
            return self._refused(fault)
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
        return MediaNotReady(
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
