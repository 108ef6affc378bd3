"""Tokens and identities: what an account is on its platform.

A :class:`Credential` lives only in memory and in the OS keyring; its repr never
shows a token, so it can travel through logs and tracebacks safely.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

#: names of ``extra`` values that are secrets, whatever platform put them there
#: (``page_token``, ``app_password``; not ``refresh_token_expires_at``)
_SECRET_KEY = re.compile(r"(?i)(?:token|secret|password|verifier)$")


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

    def secrets(self) -> tuple[str, ...]:
        """Every value here that must never be shown back to the user: the tokens, the
        client secret, the ``Authorization: Basic`` value made of it, and any value in
        ``extra`` whose name says it is a secret (a platform's app password)."""
        found = [self.access_token, self.refresh_token, self.client_secret]
        found.append(basic_auth(self.client_id, self.client_secret))
        for key, value in self.extra.items():
            if isinstance(value, str) and _SECRET_KEY.search(str(key)):
                found.append(value)
        return tuple(v for v in found if v)

    def __repr__(self) -> str:  # never let a token reach a log or a traceback
        return f"Credential(expires_at={self.expires_at!r}, refresh={'yes' if self.refresh_token else 'no'})"

    __str__ = __repr__


def basic_auth(client_id: str | None, client_secret: str | None) -> str | None:
    """The ``Authorization: Basic`` value a confidential client sends (RFC 6749 section
    2.3.1), a secret as much as the client secret it encodes; None without a secret."""
    if not client_id or not client_secret:
        return None
    return base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")


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


@dataclass(frozen=True)
class AppRegistration:
    """Milton's own OAuth app on one server of a platform that registers apps on the
    fly (``OAuthSpec.registers_itself``: Mastodon's ``POST /api/v1/apps``).

    Kept per server and redirect URI, because the server checks the redirect exactly;
    the secret lives only in the keyring, like a token.
    """

    server: str
    redirect_uri: str
    client_id: str
    client_secret: str
    #: the permissions the app was registered with, space-separated: the consent page
    #: and the token request may ask for these and no more
    scopes: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "server": self.server,
                "redirect_uri": self.redirect_uri,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scopes": self.scopes,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AppRegistration:
        data = json.loads(text)
        return cls(
            server=str(data["server"]),
            redirect_uri=str(data["redirect_uri"]),
            client_id=str(data["client_id"]),
            client_secret=str(data["client_secret"]),
            scopes=str(data["scopes"]),
        )

    def secrets(self) -> tuple[str, ...]:
        """What must never be shown: the secret and the Basic value made of it."""
        found = (self.client_secret, basic_auth(self.client_id, self.client_secret))
        return tuple(v for v in found if v)

    def __repr__(self) -> str:  # the secret never reaches a log or a traceback
        return f"AppRegistration(server={self.server!r}, redirect_uri={self.redirect_uri!r})"

    __str__ = __repr__
