"""Tokens and identities: what an account is on its platform.

A :class:`Credential` lives only in memory and in the OS keyring; its repr never
shows a token, so it can travel through logs and tracebacks safely.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AccountRef:
    """What a publisher needs to know of the account it posts as."""

    # LinkedIn member id (``sub``) or author URN (``urn:li:organization:{id}`` for a
    # page), X user id, IG user id
    remote_id: str
    username: str = ""  # X username, IG username (for URLs)


@dataclass
class Credential:
    """A token and what comes with it. Lives only in memory and in the OS keyring."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    client_id: str | None = None
    client_secret: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "extra": self.extra,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Credential:
        data = json.loads(text)
        exp = data.get("expires_at")
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(exp) if exp else None,
            client_id=data.get("client_id"),
            client_secret=data.get("client_secret"),
            extra=dict(data.get("extra") or {}),
        )

    def with_token(self, **changes: Any) -> Credential:
        return replace(self, **changes)

    def __repr__(self) -> str:  # never let a token reach a log or a traceback
        return f"Credential(expires_at={self.expires_at!r}, refresh={'yes' if self.refresh_token else 'no'})"

    __str__ = __repr__


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to, as the platform tells it."""

    remote_id: str
    username: str
    display_name: str = ""
    #: the account's plan where it changes what the platform accepts (X "premium"
    #: takes long posts), as a key of the platform's ``tiers``; None when the
    #: platform does not say or the plan changes nothing
    tier: str | None = None
