"""HTTP plumbing shared by the publishers: one place decides what a network failure means.

The line that matters is whether the platform may have received a *create* request.
A refused connection or a connect timeout never reached it (``Transient``: retry).
A read timeout or a connection dropped after the body was sent on a create call
may have posted (``OutcomeUnknown``: never retried blindly). The same failures on
an upload, status poll or lookup are ``Transient``: nothing was published.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from milton_desktop.publishers.base import OutcomeUnknown, Transient


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
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
        cur = getattr(cur, "reason", None) or nxt or cur.__cause__ or cur.__context__
    return False


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    what: str,
    create: bool = False,
    timeout: float | tuple[float, float],
    **kwargs: Any,
) -> requests.Response:
    """Send one request, turning network failures into typed errors.

    Args:
        what: a short phrase for messages, e.g. ``"creating the LinkedIn post"``.
        create: True for the call that makes the post exist; failures after the
            request may have been sent then mean the outcome is unknown.
    """
    try:
        return session.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.exceptions.ConnectionError as exc:
        if _never_connected(exc):
            raise Transient(f"could not connect while {what}; will retry") from None
        if create:
            raise OutcomeUnknown(
                f"the connection was dropped while {what}; the post may or may not have "
                "been published: check the account before publishing again"
            ) from None
        raise Transient(f"the connection was dropped while {what}; will retry") from None
    except requests.exceptions.Timeout:
        if create:
            raise OutcomeUnknown(
                f"no answer in time while {what}; the post may or may not have been "
                "published: check the account before publishing again"
            ) from None
        raise Transient(f"timed out while {what}; will retry") from None
    except requests.exceptions.RequestException as exc:
        if create:
            raise OutcomeUnknown(
                f"network error while {what} ({type(exc).__name__}); the post may or may "
                "not have been published: check the account before publishing again"
            ) from None
        raise Transient(f"network error while {what} ({type(exc).__name__}); will retry") from None


def server_error(resp: requests.Response, *, what: str, create: bool) -> Exception:
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


def json_body(resp: requests.Response) -> dict[str, Any]:
    """The JSON object in ``resp``, or ``{}`` when the body is empty, HTML or not an object."""
    try:
        data = resp.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def epoch_to_datetime(value: str | float | None, default: datetime) -> datetime:
    """An epoch-seconds header value as a UTC instant, or ``default`` when unreadable."""
    try:
        return datetime.fromtimestamp(float(value), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return default


def retry_after(resp: requests.Response, now: datetime, default: timedelta) -> datetime:
    """When to retry from a ``Retry-After`` header (seconds or HTTP date), else ``now+default``."""
    value = resp.headers.get("Retry-After")
    if value:
        try:
            return now + timedelta(seconds=max(0.0, float(value)))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return parsedate_to_datetime(value).astimezone(UTC)
            except (TypeError, ValueError):
                pass
    return now + default


def next_utc_midnight(now: datetime) -> datetime:
    day = now.astimezone(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
