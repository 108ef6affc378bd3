"""Small pieces shared by the Meta Graph publishers (Instagram and Threads).

Both publish through *containers*: one is made from public media URLs, polled until
it is ready, then published by the one call that makes a post exist. What is here is
plain data and parsing, with no HTTP; the life cycle built on it, with every request,
is ``containers.ContainerPublisher``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests


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
