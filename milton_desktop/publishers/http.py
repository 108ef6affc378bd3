"""HTTP plumbing shared by the publishers: one place decides what a network failure means.

The line that matters is whether the platform may have received a *create* request.
A refused connection or a connect timeout never reached it (``Transient``: retry).
A read timeout or a connection dropped after the body was sent on a create call
may have posted (``OutcomeUnknown``: never retried blindly). The same failures on
an upload, status poll or lookup are ``Transient``: nothing was published.

It also holds what every publisher needs around those requests: fetching a media
link (:func:`download`), URLs fit for logs (:func:`safe_url`) and scrubbing
credentials out of text a platform echoes back (:func:`scrub`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from milton_desktop.domain import redaction
from milton_desktop.domain.content import Published
from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.publishers import deadline
from milton_desktop.publishers.base import (
    OutcomeUnknown,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)

if TYPE_CHECKING:  # imported on the first call: the window starts faster
    import requests

#: redirect answers a media download follows by hand (``send`` never follows any)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: media hosts and CDNs redirect, but a longer chain than this is a loop or a trap
MAX_REDIRECTS = 5

_DOWNLOAD_CHUNK = 64 * 1024
# a downloaded image stays in memory; a video beyond this spills to a temporary file
_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_DRAIN_LIMIT = 64 * 1024
_MB = 1024 * 1024
#: the most bytes read from an API answer (after decompression): real ones are a few KB
MAX_ANSWER = 8 * _MB
_ANSWER_CHUNK = 64 * 1024
# requests drops a header whose value is None after merging the session's headers, so
# this keeps an Authorization header set on a shared session away from media hosts
_NO_AUTH_HEADER: dict[str, str | None] = {"Authorization": None}

E = TypeVar("E", bound=PublishError)

# Credentials some endpoints take in the query string (Instagram's token calls), and
# that a platform may therefore echo back inside a URL in its error text.
_QUERY_SECRET = re.compile(
    r"((?:access|refresh|fb_exchange)_token=|client_secret=|code_verifier=|code=)[^&\s\"']+"
)

# urllib3 logs every request line, query string included, at DEBUG. Publishers are
# used without ``setup_logging`` too (tests, scripts), so the redaction is installed
# as soon as any publisher can make a request, not only when logging is set up.
redaction.redact_urllib3_logs()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    import requests  # already loaded: the caller holds a session

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        name = type(cur).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectionRefusedError"):
            return True
        if isinstance(cur, ConnectionRefusedError):
            return True
        nxt = cur.args[0] if cur.args and isinstance(cur.args[0], BaseException) else None
        reason = getattr(cur, "reason", None)  # an exception, or (SSLError) a plain string
        reason = reason if isinstance(reason, BaseException) else None
        cur = reason or nxt or cur.__cause__ or cur.__context__
    return False


def tls_reason(exc: BaseException) -> str:
    """The certificate or handshake problem in a TLS failure, in a few words."""
    text = str(exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "hostname mismatch"):
        if marker.lower() in text.lower():
            return {
                "CERTIFICATE_VERIFY_FAILED": "the server's certificate is not trusted",
                "WRONG_VERSION_NUMBER": "the server did not answer in TLS",
                "hostname mismatch": "the certificate is for another host",
            }[marker]
    return "the handshake failed"


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    create: bool = False,
    timeout: float | tuple[float, float],
    limit: int = MAX_ANSWER,
    **kwargs: Any,
) -> requests.Response:
    """Send one request and read its answer, turning network failures into typed errors.

    The whole exchange runs under a total deadline (:mod:`.deadline`), and at most
    ``limit`` bytes of the answer are read, after decompression: a server that
    trickles, or sends without end, costs a minute and a few megabytes, never the
    publish.

    Args:
        what: a short phrase for messages, e.g. ``"creating the LinkedIn post"``.
        create: True for the call that makes the post exist; failures after the
            request may have been sent then mean the outcome is unknown.
    """
    deadline.guard(session)
    allowance = deadline.budget(deadline.body_size(kwargs))
    with deadline.watching(allowance) as watch:
        resp = _request(
            session, method, url, what=what, create=create, timeout=timeout, watch=watch, **kwargs
        )
        try:
            _read_answer(resp, limit=limit, what=what, create=create, watch=watch)
        except PublishError:
            resp.close()
            raise
    return resp


def preconnect(session: requests.Session, url: str, *, timeout: float = 2.0) -> bool:
    """Open (and keep in ``session``'s pool) a connection to ``url``'s host, TLS
    handshake included, without sending anything: a publish due in a moment then
    starts with its request. Returns whether a connection is ready.

    Harmless by design: nothing reaches the platform but a connection, and any
    failure only means the publish opens its own connection, as it would have. Not
    done through a proxy (the pool it would warm is not the one the request uses).
    """
    import requests  # already loaded: the caller holds a session
    from urllib3.connectionpool import HTTPConnectionPool

    deadline.guard(session)
    try:
        env = session.merge_environment_settings(url, {}, None, None, None)
        if env.get("proxies"):
            return False
        adapter = session.get_adapter(url)
        if not isinstance(adapter, requests.adapters.HTTPAdapter):
            return False
        request = requests.Request("GET", url).prepare()
        pool = adapter.get_connection_with_tls_context(
            request, env.get("verify", True), proxies=None, cert=env.get("cert")
        )
        if not isinstance(pool, HTTPConnectionPool):
            return False
        conn = pool._get_conn()
        try:
            if getattr(conn, "sock", None) is None:
                conn.timeout = timeout
                conn.connect()
        finally:
            pool._put_conn(conn)
    except Exception as exc:
        logging.getLogger("milton.publish").debug(
            "no connection opened ahead to %s (%s)", safe_url(url), type(exc).__name__
        )
        return False
    return True


def _request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    create: bool,
    timeout: float | tuple[float, float],
    watch: deadline.Watch,
    **kwargs: Any,
) -> requests.Response:
    """The answer's status and headers; its body is left unread (``stream=True``)."""
    import requests  # already loaded: the caller holds a session

    try:
        resp = session.request(
            method, url, timeout=timeout, allow_redirects=False, stream=True, **kwargs
        )
    except requests.exceptions.RequestException as exc:
        raise _network_error(exc, what=what, create=create, watch=watch) from None
    if watch.expired:  # cut mid-headers: what was parsed is not the platform's answer
        resp.close()
        raise _network_error(TimeoutError(), what=what, create=create, watch=watch)
    return resp


def _read_answer(
    resp: requests.Response, *, limit: int, what: str, create: bool, watch: deadline.Watch
) -> None:
    """Read the body into ``resp`` (``resp.content``, ``.json()`` work as usual)."""
    import requests  # already loaded: the caller holds a session

    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(resp, limit=limit, what=what, create=create)
    chunks: list[bytes] = []
    size = 0
    try:
        # urllib3 decompresses at most one chunk's worth per read, so a gzip bomb
        # is stopped at the limit like any other long answer
        for chunk in resp.iter_content(_ANSWER_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(resp, limit=limit, what=what, create=create)
            chunks.append(chunk)
    except requests.exceptions.RequestException as exc:
        raise _network_error(exc, what=what, create=create, watch=watch) from None
    except (OSError, ValueError) as exc:  # a socket cut under a TLS read
        if not watch.expired:
            raise
        raise _network_error(exc, what=what, create=create, watch=watch) from None
    if watch.expired:  # a cut can look like the end of a body that has no length
        raise _network_error(TimeoutError(), what=what, create=create, watch=watch)
    resp._content = b"".join(chunks)
    resp._content_consumed = True  # type: ignore[attr-defined]


def _too_large(resp: requests.Response, *, limit: int, what: str, create: bool) -> PublishError:
    message = (
        f"the platform's answer was over {_amount(limit)}, larger than any real answer, "
        f"while {what}"
    )
    if create:
        return OutcomeUnknown(
            f"{message}; the post may or may not have been published: check the account "
            "before publishing again",
            http_status=resp.status_code,
        )
    return Transient(f"{message}; will retry", http_status=resp.status_code)


def _network_error(
    exc: BaseException, *, what: str, create: bool, watch: deadline.Watch
) -> PublishError:
    """What a failed exchange means: may the platform have acted on the request?"""
    import requests  # already loaded: the caller holds a session

    if watch.expired:
        took = f"no complete answer within {watch.elapsed():.0f} s while {what}"
        if create and watch.sent:
            return OutcomeUnknown(
                f"{took}; the post may or may not have been published: check the account "
                "before publishing again"
            )
        return Transient(f"{took}; will retry")
    if isinstance(exc, requests.exceptions.SSLError):
        # the handshake failed, so no request was sent: safe to retry, even a create
        return Transient(
            f"the secure connection (TLS) could not be set up while {what}: "
            f"{tls_reason(exc)}; check the certificate and the address; will retry"
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        if _never_connected(exc):
            return Transient(f"could not connect while {what}; will retry")
        if create:
            return OutcomeUnknown(
                f"the connection was dropped while {what}; the post may or may not have "
                "been published: check the account before publishing again"
            )
        return Transient(f"the connection was dropped while {what}; will retry")
    if isinstance(exc, requests.exceptions.Timeout):
        if create:
            return OutcomeUnknown(
                f"no answer in time while {what}; the post may or may not have been "
                "published: check the account before publishing again"
            )
        return Transient(f"timed out while {what}; will retry")
    if create:
        return OutcomeUnknown(
            f"network error while {what} ({type(exc).__name__}); the post may or may "
            "not have been published: check the account before publishing again"
        )
    return Transient(f"network error while {what} ({type(exc).__name__}); will retry")


def server_error(resp: requests.Response, *, what: str, create: bool) -> PublishError:
    """The error for a 5xx answer: unknown outcome on a create, transient elsewhere."""
    if create:
        return OutcomeUnknown(
            f"{resp.status_code} from the platform while {what}; the post may or may not "
            "have been published: check the account before publishing again",
            http_status=resp.status_code,
        )
    return Transient(
        f"{resp.status_code} from the platform while {what}; will retry",
        http_status=resp.status_code,
    )


def status_error(
    resp: requests.Response,
    *,
    brand: str,
    what: str,
    create: bool,
    text: str,
    retry_at: Callable[[], datetime],
    refused: type[PublishError] = Rejected,
) -> PublishError:
    """How an error answer reads once a platform has taken what is its own (a 401, a
    quota): 429 waits for ``retry_at()``, another 4xx is ``refused`` with the platform's
    words, anything else is :func:`server_error`."""
    status = resp.status_code
    if status == 429:
        at = retry_at()
        return RateLimited(
            f"{brand}'s rate limit was reached while {what}; retrying after "
            f"{at.isoformat(timespec='seconds')}",
            at,
        )
    if 400 <= status < 500:
        return refused(
            f"{brand} refused the request while {what}: {text or f'HTTP {status}'}",
            http_status=status,
        )
    # 5xx, and 1xx/3xx (not an answer a platform gives here): on a create, it may have posted
    return server_error(resp, what=what, create=create)


def json_body(resp: requests.Response) -> dict[str, Any]:
    """The JSON object in ``resp``, or ``{}`` when the body is empty, HTML or not an object."""
    try:
        data = resp.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def epoch_to_datetime(value: str | float | None, default: datetime) -> datetime:
    """An epoch-seconds header value as a UTC instant, or ``default`` when unreadable."""
    if value is None:
        return default
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default


def retry_after_hint(resp: requests.Response, now: datetime) -> datetime | None:
    """The instant a ``Retry-After`` header asks to wait until, or None without a usable one.

    RFC 9110 section 10.2.3 allows delta-seconds or an HTTP-date, and a recipient must
    read all three date formats; every one of them is GMT, including the asctime form
    that carries no zone (so it must not be read as local time). A value that cannot
    be read, or that points past what a datetime holds, counts as no header rather
    than an error: it must not turn a plain rate limit into a crash.
    """
    value = (resp.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds):
            return None
        try:
            return now + timedelta(seconds=max(0.0, seconds))
        except OverflowError:
            return None
    from email.utils import parsedate_to_datetime  # here: slow to import, rarely needed

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # a date already past means "now", never a retry time before the answer came
    return max(when.astimezone(UTC), now)


def retry_after(resp: requests.Response, now: datetime, default: timedelta) -> datetime:
    """When to retry from a ``Retry-After`` header (seconds or HTTP date), else ``now+default``."""
    hint = retry_after_hint(resp, now)
    return hint if hint is not None else now + default


def next_utc_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# ---------------------------------------------------------------- secrets and logs


def credential_secrets(credential: Credential) -> tuple[str, ...]:
    """Every value in ``credential`` that must never be shown back to the user."""
    return credential.secrets()


def scrub(text: str, secrets: Iterable[str | None], *, mask: str = "[redacted]") -> str:
    """``text`` without any of ``secrets`` and without ``access_token=...``-style values.

    Platforms echo request details in their error messages, and those messages are
    shown to the user and logged; ``mask`` replaces each secret found, whether it
    comes back as sent, percent-encoded or JSON-escaped.
    """
    if not text:
        return text
    text = redaction.scrub(text, secrets, mask=mask)
    return _QUERY_SECRET.sub(lambda m: m.group(1) + mask, text)


def scrub_error(exc: E, secrets: Iterable[str | None]) -> E:
    """``exc`` with ``secrets`` scrubbed from its message, changed in place (so its type
    and fields, a retry time or whether a refresh may help, stay as they are)."""
    text = str(exc)
    clean = scrub(text, tuple(secrets))
    if clean != text:
        exc.args = (clean,)
        exc.message = clean
    return exc


def scrub_identity(identity: Identity, secrets: Iterable[str | None]) -> Identity:
    """``identity`` with ``secrets`` scrubbed from every field the platform filled in
    (a name that echoes the token must not become an account name)."""
    secrets = tuple(secrets)
    clean = replace(
        identity,
        remote_id=scrub(identity.remote_id, secrets),
        username=scrub(identity.username, secrets),
        display_name=scrub(identity.display_name, secrets),
        tier=scrub(identity.tier, secrets) if identity.tier is not None else None,
    )
    return identity if clean == identity else clean


def scrub_published(published: Published, secrets: Iterable[str | None]) -> Published:
    """``published`` with ``secrets`` scrubbed from its id, URL and warnings."""
    secrets = tuple(secrets)
    clean = replace(
        published,
        remote_id=scrub(published.remote_id, secrets),
        url=scrub(published.url, secrets),
        warnings=tuple(scrub(w, secrets) for w in published.warnings),
    )
    return published if clean == published else clean


def safe_url(url: str) -> str:
    """``url`` fit for logs and messages: no query string or fragment, where signed
    links carry their signatures, and no ``user:password@``."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"


# ---------------------------------------------------------------- media downloads


@dataclass
class Downloaded:
    """A fetched media file, rewound to its start; the ``ExitStack`` given closes it."""

    file: IO[bytes]
    size: int
    #: the type the host served, lower case and without parameters; "" when it sent none
    content_type: str
    #: the ``charset`` parameter of that type, lower case; "" when it sent none
    charset: str = ""
    #: the link the bytes came from, after the redirects
    url: str = ""


def download(
    session: requests.Session,
    url: str,
    *,
    what: str,
    label: str,
    cap: int,
    timeout: float | tuple[float, float],
    stack: contextlib.ExitStack,
    platform: str,
    log: logging.Logger | None = None,
    allowance: float | None = None,
    truncate: bool = False,
) -> Downloaded:
    """Fetch a media link into a temporary file, following redirects by hand.

    ``send`` never follows redirects (a create must not be replayed elsewhere), but
    media links often go through a CDN redirect, so up to :data:`MAX_REDIRECTS` hops
    are followed here. No platform header reaches the media host: none is sent, and
    an ``Authorization`` header set on the session is dropped.

    Args:
        what: a phrase for network messages, e.g. ``"downloading media 1 from cdn.example"``.
        label: what the user knows the file as, e.g. ``"image 1 (photo.jpg)"``.
        cap: the most bytes the platform takes; 0 for no limit.
        stack: closes the temporary file once the caller is done with it.
        platform: the platform's name in messages, e.g. ``"LinkedIn"``.
        log: where to write one line per request (the URL without its query).
        allowance: seconds the whole download may take before its bytes earn it
            more; the request deadline when None. Never more than that deadline.
        truncate: keep the first ``cap`` bytes of a larger answer instead of
            refusing it (a web page's head is all a link card needs).

    Raises:
        Rejected: the link cannot work as it is (not http(s), a redirect loop, a 4xx,
            over ``cap``, no bytes).
        Transient: the host answered 429 or 5xx, or the network failed.
    """
    import tempfile

    import requests  # already loaded: the caller holds a session

    deadline.guard(session)
    # a download earns its time by its bytes: a slow big video is fine, a trickle is not
    limit = deadline.deadline() if allowance is None else min(allowance, deadline.deadline())
    with deadline.watching(limit, grows_with_bytes=True) as watch:
        first = url
        for _ in range(MAX_REDIRECTS + 1):
            if urlsplit(url).scheme not in ("http", "https"):
                raise Rejected(
                    f"{label}: only http and https links can be downloaded; check the link"
                )
            resp = _request(
                session,
                "GET",
                url,
                what=what,
                create=False,
                timeout=timeout,
                watch=watch,
                headers=_NO_AUTH_HEADER,
            )
            if log is not None:
                log.info("GET %s -> %s", safe_url(url), resp.status_code)
            location = resp.headers.get("Location")
            if resp.status_code not in REDIRECTS or not location:
                break
            _drain(resp)
            resp.close()
            url = urljoin(url, location)
        else:
            raise Rejected(
                f"{label}: the link redirects too many times ({safe_url(first)}); check the link"
            )
        with contextlib.closing(resp):
            status = resp.status_code
            if not 200 <= status < 300:
                _drain(resp)
                if status == 429 or status >= 500:
                    raise Transient(
                        f"the media host answered {status} while {what}; will retry",
                        http_status=status,
                    )
                raise Rejected(
                    f"could not download {label}: the link answered {status} ({safe_url(first)}); "
                    "check that it is public and still there",
                    http_status=status,
                )
            declared = resp.headers.get("Content-Length", "")
            if cap and not truncate and declared.isdigit() and int(declared) > cap:
                raise Rejected(
                    f"{label} is {_amount(int(declared))}, over {platform}'s {_amount(cap)} limit: "
                    "use a smaller file"
                )
            file = stack.enter_context(
                tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - the stack closes it
            )
            size = 0
            try:
                for chunk in resp.iter_content(_DOWNLOAD_CHUNK):
                    if truncate and cap and size + len(chunk) >= cap:
                        file.write(chunk[: cap - size])
                        size = cap
                        break
                    size += len(chunk)
                    if cap and size > cap:
                        # the host sent no (or a false) Content-Length: stop at the cap
                        raise Rejected(
                            f"{label} is over {platform}'s {_amount(cap)} limit: use a smaller file"
                        )
                    file.write(chunk)
                    watch.progress(len(chunk))
            except requests.exceptions.RequestException as exc:
                if watch.expired:
                    raise _network_error(exc, what=what, create=False, watch=watch) from None
                raise Transient(
                    f"the download broke off while {what} ({type(exc).__name__}); will retry"
                ) from None
            except (OSError, ValueError) as exc:  # a socket cut under a TLS read
                if not watch.expired:
                    raise
                raise _network_error(exc, what=what, create=False, watch=watch) from None
            if watch.expired:  # a cut can look like the end of a body that has no length
                raise _network_error(TimeoutError(), what=what, create=False, watch=watch)
            content_type, charset = _media_type(resp.headers.get("Content-Type") or "")
    if size == 0:
        raise Rejected(f"{label}: its link returned no bytes; check the link")
    file.seek(0)
    return Downloaded(file, size, content_type, charset, url)


def _media_type(header: str) -> tuple[str, str]:
    """(type, charset) of a ``Content-Type`` value, lower case, "" where absent."""
    kind, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    return kind.strip().lower(), charset


def _drain(resp: requests.Response) -> None:
    """Read a small unwanted body, so closing the response releases the connection
    instead of resetting it (closing a socket with unread data sends a TCP RST)."""
    import requests  # already loaded: the caller holds a session

    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) <= _DRAIN_LIMIT:
        with contextlib.suppress(requests.exceptions.RequestException):
            _ = resp.content


def _amount(n: int) -> str:
    if n < _MB:
        return f"{n} bytes"
    return f"{n / _MB:.1f}".removesuffix(".0") + " MB"
