"""Connecting, reconnecting and removing accounts: the row and its token move together.

A connected account is two things in two places: a row in ``accounts`` and a token
in the OS keyring. Each function here changes both or neither, and refuses with a
:class:`~milton_desktop.operations.store.UserError` whose message says what to do. Keyring
calls can block on an unlock prompt, so callers in the UI run these on a worker.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from milton_desktop.operations.store import UserError
from milton_desktop.publishers import PLATFORM_LABELS, make_publisher
from milton_desktop.publishers.base import AuthExpired, Credential, Identity, PublishError
from milton_desktop.storage.credentials import (
    CredentialStore,
    KeyringUnavailable,
    backend_is_secure,
)
from milton_desktop.storage.models import PLATFORMS, Account, ScheduledPost, database

log = logging.getLogger("milton.accounts")

#: schedules that would still try to publish through an account
LIVE_STATUSES = ("pending", "publishing", "missed")


def list_accounts() -> list[Account]:
    """Every account, by platform and then name."""
    return list(Account.select().order_by(Account.platform, Account.display_name))


def find_account(account_id: int) -> Account | None:
    """The account with this id, or None when it has been removed."""
    return Account.get_or_none(Account.id == account_id)


def label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform)


def who(identity: Identity) -> str:
    """How the platform names the user: ``@name`` where handles exist, else the name."""
    if identity.username and identity.username != identity.remote_id:
        return f"@{identity.username.lstrip('@')}"
    return identity.display_name or identity.username or identity.remote_id


def suggest_name(platform: str, identity: Identity) -> str:
    """A free account name such as ``X @milton`` or ``LinkedIn John Doe``."""
    base = f"{label(platform)} {who(identity)}".strip()[:90]
    name, n = base, 2
    while Account.select().where(Account.display_name == name).exists():
        name, n = f"{base} ({n})", n + 1
    return name


def check_name(name: str, *, exclude_id: int | None = None) -> str:
    """``name`` stripped, or :class:`UserError` when it cannot name an account."""
    name = (name or "").strip()
    if not name:
        raise UserError("give the account a name, e.g. “Work LinkedIn”")
    if len(name) > 100 or any(ord(c) < 32 for c in name):
        raise UserError("the account name must be at most 100 printable characters: shorten it")
    query = Account.select().where(Account.display_name == name)
    if exclude_id is not None:
        query = query.where(Account.id != exclude_id)
    if query.exists():
        raise UserError(f"an account named “{name}” already exists: choose another name")
    return name


def _expiry(credential: Credential) -> datetime | None:
    exp = credential.expires_at
    if exp is not None and exp.tzinfo is None:
        exp = exp.replace(tzinfo=UTC)  # a platform's naive expiry is UTC
    return exp


def connect_account(
    credentials: CredentialStore,
    platform: str,
    name: str,
    credential: Credential,
    identity: Identity,
    api_base: str | None = None,
) -> Account:
    """Create the account row and store its token, in one transaction.

    Raises:
        UserError: bad name, unknown platform, the same platform account is already
            connected, or the token cannot be stored (no keyring and no session fallback).
    """
    if platform not in PLATFORMS:
        raise UserError(f"unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}")
    name = check_name(name) if (name or "").strip() else suggest_name(platform, identity)
    same_server = Account.api_base.is_null() if api_base is None else Account.api_base == api_base
    twin = (
        Account.select()
        .where(
            (Account.platform == platform) & (Account.remote_id == identity.remote_id) & same_server
        )
        .first()
    )
    if twin is not None:
        raise UserError(
            f"this {label(platform)} account ({who(identity)}) is already connected as "
            f"“{twin.display_name}”: use Reconnect on it instead"
        )
    try:
        with database.atomic():
            acc = Account.create(
                platform=platform,
                display_name=name,
                username=identity.username,
                remote_id=identity.remote_id,
                api_base=api_base,
                status="connected",
                token_expires_at=_expiry(credential),
            )
            # inside the transaction: if the keyring refuses, the row is rolled back
            credentials.save(platform, acc.id, credential)
    except KeyringUnavailable as exc:
        raise UserError(f"the account was not added: {exc}") from None
    log.info("connected %s account %s (id %s)", platform, acc.remote_id, acc.id)
    return acc


def reconnect_account(
    credentials: CredentialStore, account_id: int, credential: Credential, identity: Identity
) -> Account:
    """Replace an account's token and mark it connected again.

    Raises:
        UserError: no such account, the token belongs to another platform user, or
            the token cannot be stored.
    """
    acc = _get(account_id)
    if acc.remote_id and identity.remote_id != acc.remote_id:
        raise UserError(
            f"you signed in as {who(identity)}, but “{acc.display_name}” is "
            f"{_known_as(acc)} on {label(acc.platform)}: sign in as that user (sign out "
            f"of {who(identity)} in the browser first), or connect {who(identity)} "
            "as a new account"
        )
    try:
        with database.atomic():
            Account.update(
                status="connected",
                username=identity.username or acc.username,
                remote_id=identity.remote_id,
                token_expires_at=_expiry(credential),
            ).where(Account.id == acc.id).execute()
            credentials.save(acc.platform, acc.id, credential)
    except KeyringUnavailable as exc:
        raise UserError(f"the account was not reconnected: {exc}") from None
    log.info("reconnected %s account id %s", acc.platform, acc.id)
    return _get(account_id)


def pending_count(account_id: int) -> int:
    """Posts still waiting to go out through the account."""
    return (
        ScheduledPost.select()
        .where((ScheduledPost.account == account_id) & ScheduledPost.status.in_(LIVE_STATUSES))
        .count()
    )


def remove_account(credentials: CredentialStore, account_id: int, force: bool = False) -> None:
    """Delete the account's token, then the account (and, with ``force``, its schedules).

    Raises:
        UserError: no such account, posts are still waiting and ``force`` is False,
            or the keyring holds the token and refused to delete it.
    """
    acc = _get(account_id)
    waiting = pending_count(acc.id)
    if waiting and not force:
        posts = "post is" if waiting == 1 else "posts are"
        raise UserError(
            f"{waiting} scheduled {posts} waiting to go out through “{acc.display_name}”: "
            "cancel them first, or remove the account together with them"
        )
    try:
        credentials.delete(acc.platform, acc.id)
    except KeyringUnavailable as exc:
        # With no secure keyring the token only ever lived in memory, and delete()
        # already dropped it; a working keyring that refuses is a real problem.
        if backend_is_secure()[0]:
            raise UserError(
                f"“{acc.display_name}” was not removed: its token could not be deleted ({exc})"
            ) from None
    with database.atomic():
        # schedules and recurrences go with it (ON DELETE CASCADE)
        acc.delete_instance(recursive=False)
    log.info("removed %s account id %s", acc.platform, account_id)


def identify_token(platform: str, token: str, api_base: str | None = None) -> Identity:
    """Ask the platform whose ``token`` this is (network: call from a worker).

    Raises:
        UserError: the token is refused or the platform cannot be reached.
    """
    token = (token or "").strip()
    if not token:
        raise UserError(f"paste the {label(platform)} access token first")
    if any(c.isspace() for c in token) or len(token) > 8192:
        raise UserError(
            "that does not look like an access token (it has spaces or is too long): "
            "copy only the token itself"
        )
    from milton_desktop.logsetup import register_secret

    register_secret(token)
    try:
        return make_publisher(platform, api_base=api_base).identify(Credential(token))
    except AuthExpired:
        raise UserError(
            f"{label(platform)} did not accept this token (expired, revoked or mistyped): "
            "copy a fresh one and try again"
        ) from None
    except PublishError as exc:
        raise UserError(f"could not check the token with {label(platform)}: {exc}") from None


def connect_with_token(
    credentials: CredentialStore,
    platform: str,
    name: str,
    token: str,
    api_base: str | None = None,
) -> Account:
    """Check a pasted token with the platform, then connect the account it belongs to."""
    if (name or "").strip():
        check_name(name)  # before any network call: a taken name fails fast
    identity = identify_token(platform, token, api_base)
    return connect_account(
        credentials, platform, name, Credential(token.strip()), identity, api_base
    )


def reconnect_with_token(credentials: CredentialStore, account_id: int, token: str) -> Account:
    """Check a pasted token and make it the account's new token."""
    acc = _get(account_id)
    identity = identify_token(acc.platform, token, acc.api_base)
    return reconnect_account(credentials, account_id, Credential(token.strip()), identity)


def _get(account_id: int) -> Account:
    acc = Account.get_or_none(Account.id == account_id)
    if acc is None:
        raise UserError("that account no longer exists: it may have been removed meanwhile")
    return acc


def _known_as(acc: Account) -> str:
    if acc.username and acc.username != acc.remote_id:
        return f"@{acc.username.lstrip('@')}"
    return f"user {acc.remote_id}"
