"""Connecting, reconnecting and removing accounts: the row and its token move together.

A connected account is two things in two places: a row in ``accounts`` and a token
in the OS keyring. Each function here changes both or neither, and refuses with a
:class:`~milton_desktop.domain.errors.UserError` whose message says what to do. The
command line and the window call the same functions, so they follow the same rules.

The keyring can block on an unlock prompt, so it is never called inside a database
transaction (which would hold the write lock, and the scheduler's commits, hostage):
a new account's row is committed first and taken back if the keyring refuses.
Callers in the UI run these on a worker.
"""

from __future__ import annotations

import contextlib
import logging
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.domain.errors import Hint, OperationFailed, UserError
from milton_desktop.domain.redaction import register_secret
from milton_desktop.domain.status import CANCELLABLE, AccountStatus, Status
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import AuthExpired, PublishError
from milton_desktop.publishers.http import scrub_error, scrub_identity
from milton_desktop.storage import backend, settings
from milton_desktop.storage.credentials import (
    SERVICE,
    CredentialMissing,
    CredentialStore,
    KeyringUnavailable,
    backend_is_secure,
)
from milton_desktop.storage.models import Account, Recurrence, ScheduledPost, database
from milton_desktop.storage.queries import (
    AccountView,
    active_account,
    find_account,
    get_account,
    list_accounts,
    live_count,
)

log = logging.getLogger("milton.accounts")

#: longer than any platform's token; a longer paste is not a token
MAX_TOKEN_LENGTH = 8192
MAX_NAME_LENGTH = 100
#: Unicode categories a one-line name cannot hold: control characters (C0, DEL and
#: C1, NEL among them) and the line and paragraph separators
_NOT_IN_NAMES = frozenset({"Cc", "Zl", "Zp"})

__all__ = [
    "MAX_TOKEN_LENGTH",
    "check_api_base",
    "check_name",
    "check_new_name",
    "check_token",
    "connect_account",
    "connect_pages",
    "connect_with_token",
    "find_account",
    "get_account",
    "identify_token",
    "list_accounts",
    "list_pages",
    "live_count",
    "page_identity",
    "posts_as_page",
    "reconnect_account",
    "reconnect_with_token",
    "remove_account",
    "renew_token",
    "suggest_name",
    "upkeep_tokens",
    "who",
]


def who(identity: Identity) -> str:
    """How the platform names the user: ``@name`` where handles exist, else the name."""
    if identity.username and identity.username != identity.remote_id:
        return f"@{identity.username.lstrip('@')}"
    return identity.display_name or identity.username or identity.remote_id


def suggest_name(platform: str, identity: Identity) -> str:
    """A free account name such as ``X @milton`` or ``LinkedIn John Doe``."""
    base = f"{registry.label(platform)} {who(identity)}".strip()[:90]
    name, n = base, 2
    while Account.select().where(Account.display_name == name).exists():
        name, n = f"{base} ({n})", n + 1
    return name


def check_name(name: str, *, exclude_id: int | None = None) -> str:
    """``name`` stripped, or :class:`UserError` when it cannot name an account."""
    name = (name or "").strip()
    if not name:
        raise UserError("give the account a name, e.g. “Work LinkedIn”")
    if name.isdigit():
        raise UserError(
            f"“{name}” would read as an account id: give the account a name with a letter in it"
        )
    if len(name) > MAX_NAME_LENGTH or any(unicodedata.category(c) in _NOT_IN_NAMES for c in name):
        raise UserError(
            f"the account name must be at most {MAX_NAME_LENGTH} printable characters: shorten it"
        )
    query = Account.select().where(Account.display_name == name)
    if exclude_id is not None:
        query = query.where(Account.id != exclude_id)
    if query.exists():
        raise UserError(f"an account named “{name}” already exists: choose another name")
    return name


def check_new_name(platform: str, name: str, credentials: CredentialStore | None = None) -> str:
    """``name`` for an account about to be connected: free, or the name of an account of
    the same platform that is waiting for a new token (connecting it again reconnects it),
    or in team mode one another machine connected and this one (``credentials``) holds
    no token for (connecting it here adds this machine to those that can publish it)."""
    stripped = (name or "").strip()
    waiting = Account.get_or_none(
        (Account.display_name == stripped)
        & (Account.platform == platform)
        & (Account.status == AccountStatus.NEEDS_RECONNECT)
    )
    if waiting is None and credentials is not None and backend.current().is_postgres:
        elsewhere = Account.get_or_none(
            (Account.display_name == stripped)
            & (Account.platform == platform)
            & (Account.status == AccountStatus.CONNECTED)
        )
        if elsewhere is not None and _held_elsewhere_only(credentials, elsewhere):
            waiting = elsewhere
    return check_name(name, exclude_id=waiting.id if waiting is not None else None)


def instance_base(platform: str, api_base: str | None) -> str | None:
    """``api_base`` checked (see :func:`check_api_base`); a platform of many servers
    (``Platform.needs_instance``, e.g. Mastodon) refuses to connect without one."""
    if api_base is not None:
        return check_api_base(api_base)
    found = registry.platform(platform)
    if found.needs_instance:
        env = registry.env_api_base(platform)
        if env:
            return check_api_base(env)
        raise UserError(
            f"{found.label} is many independent servers: give the address of yours, "
            "e.g. --api-base https://mastodon.social"
        )
    return None


def check_api_base(url: str) -> str:
    """``url`` without its trailing slash, if a token may be sent there: https anywhere,
    plain http only to this computer (tests, a local relay); else :class:`UserError`."""
    import ipaddress
    from urllib.parse import urlsplit

    url = (url or "").strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        raise UserError(
            f"{url!r} is not a server address: give one like https://api.example.com"
        ) from None
    if parts.scheme == "https" and host:
        return url
    loopback = host == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if parts.scheme == "http" and loopback:
        return url
    raise UserError(
        f"the server address must start with https:// (plain http:// only for this "
        f"computer: 127.0.0.1, ::1 or localhost), not {url!r}: the token would travel unencrypted"
    )


def check_token(platform: str, token: str) -> str:
    """``token`` stripped, or :class:`UserError` when it cannot be an access token."""
    token = (token or "").strip()
    if not token:
        raise UserError(f"give the {registry.label(platform)} access token")
    if any(c.isspace() for c in token) or len(token) > MAX_TOKEN_LENGTH:
        raise UserError(
            "that does not look like an access token (it has spaces or is too long): "
            "copy only the token itself"
        )
    return token


def _expiry(credential: Credential) -> datetime | None:
    exp = credential.expires_at
    if exp is not None and exp.tzinfo is None:
        exp = exp.replace(tzinfo=UTC)  # a platform's naive expiry is UTC
    return exp


def _held_elsewhere_only(credentials: CredentialStore, account: Account) -> bool:
    """Team mode: the account is connected, by another machine, and this one holds no
    token for it: connecting it here adds this machine to those that can publish it."""
    if not backend.current().is_postgres:
        return False
    return account.id not in credentials.holds([(account.platform, account.id)])


def connect_account(
    credentials: CredentialStore,
    platform: str,
    name: str,
    credential: Credential,
    identity: Identity,
    api_base: str | None = None,
) -> AccountView:
    """Create the account row and store its token; on any refusal, neither remains.

    Raises:
        UserError: bad name, unknown platform, or the same platform account is
            already connected.
        OperationFailed: the token cannot be stored (no keyring and no session fallback).
    """
    if api_base is None:
        instance_base(platform, None)  # a platform of many servers needs its server
    # the platform named the user: a name that echoes the token must not be stored
    identity = scrub_identity(identity, credential.secrets())
    same_server = Account.api_base.is_null() if api_base is None else Account.api_base == api_base
    twins = Account.select().where(
        (Account.platform == platform)
        & (Account.remote_id == identity.remote_id)
        & (Account.status != AccountStatus.REMOVED)
        & same_server
    )
    # the keyring is read before the transaction, never inside it
    seen = twins.first()
    joining = seen is not None and _held_elsewhere_only(credentials, seen)
    with database.atomic():
        twin = twins.first()
        if (
            twin is not None
            and twin.status != AccountStatus.NEEDS_RECONNECT
            and not (joining and seen is not None and twin.id == seen.id)
        ):
            raise UserError(
                f"this {registry.label(platform)} account ({who(identity)}) is already "
                f"connected as “{twin.display_name}”: reconnect that one instead"
            )
        if twin is None:
            name = check_name(name) if (name or "").strip() else suggest_name(platform, identity)
            # not connected until its token is stored: a crash in between leaves an
            # account that asks to be reconnected, never one that fails at publish time
            acc = Account.create(
                platform=platform,
                display_name=name,
                username=identity.username,
                remote_id=identity.remote_id,
                api_base=api_base,
                status=AccountStatus.NEEDS_RECONNECT,
                token_expires_at=_expiry(credential),
                tier=identity.tier,
                profile_name=identity.display_name[:200],
            )
    if twin is not None:
        # the same platform account, waiting for a new token (or, in team mode, for
        # this machine's own token): this is its reconnect
        return reconnect_account(credentials, twin.id, credential, identity)
    try:
        credentials.save(platform, acc.id, credential)
    except BaseException as exc:
        # the row has no token: take it back (it has no schedules yet)
        with database.atomic():
            Account.delete().where(Account.id == acc.id).execute()
        if isinstance(exc, KeyringUnavailable):
            raise OperationFailed(f"the account was not added: {exc}") from None
        raise
    with database.atomic():
        Account.update(status=AccountStatus.CONNECTED).where(Account.id == acc.id).execute()
    log.info("connected %s account %s (id %s)", platform, acc.remote_id, acc.id)
    return AccountView.of(_get(acc.id))


def reconnect_account(
    credentials: CredentialStore, account_id: int, credential: Credential, identity: Identity
) -> AccountView:
    """Replace an account's token and mark it connected again.

    For a page account, ``identity`` is the member who signed in: the token is taken
    when that member administers the page (asking the platform, so call from a worker).

    Raises:
        UserError: no such account, the token belongs to another platform user, or
            the member does not administer the account's page.
        OperationFailed: the token cannot be stored, or the page list cannot be read.
    """
    acc = _get(account_id)
    identity = scrub_identity(identity, credential.secrets())
    if (
        acc.remote_id
        and identity.remote_id != acc.remote_id
        and registry.platform(acc.platform).is_page(acc.remote_id)
    ):
        # a page account is reconnected by one of the page's admins signing in
        identity = page_identity(acc.platform, credential, acc.remote_id, acc.api_base)
    if acc.remote_id and identity.remote_id != acc.remote_id:
        raise UserError(
            f"you signed in as {who(identity)}, but “{acc.display_name}” is "
            f"{_known_as(acc)} on {registry.label(acc.platform)}: sign in as that user (sign "
            f"out of {who(identity)} in the browser first), or connect {who(identity)} "
            "as a new account"
        )
    # The token first: if the keyring refuses, the account is left as it was.
    try:
        credentials.save(acc.platform, acc.id, credential)
    except KeyringUnavailable as exc:
        raise OperationFailed(f"the account was not reconnected: {exc}") from None
    with database.atomic():
        changed = (
            Account.update(
                status=AccountStatus.CONNECTED,
                username=identity.username or acc.username,
                remote_id=identity.remote_id,
                profile_name=identity.display_name[:200] or acc.profile_name,
                token_expires_at=_expiry(credential),
                # the plan may have changed (or lapsed) since the account was connected
                tier=identity.tier,
                # a new token: its age for renewal counts from now
                token_refreshed_at=datetime.now(UTC),
            )
            .where((Account.id == acc.id) & (Account.status != AccountStatus.REMOVED))
            .execute()
        )
    if not changed:
        # removed while the keyring was asked: the token must not outlive it
        with contextlib.suppress(KeyringUnavailable):
            credentials.delete(acc.platform, acc.id)
        raise UserError("that account was removed meanwhile: connect it as a new account")
    log.info("reconnected %s account id %s", acc.platform, acc.id)
    return AccountView.of(_get(account_id))


def remove_account(
    credentials: CredentialStore,
    account: int | str | AccountView,
    *,
    force: bool = False,
    clock: Clock | None = None,
) -> int:
    """Retire the account, then delete its token; returns how many posts were cancelled.

    The account's row stays, marked removed and renamed "NAME (removed)", so its
    history (and the posts cancelled here, with their reason) stays in the calendar
    and the name is free for a new account. While posts are still live on the account
    (waiting, missed, uncertain or being published) the removal is refused, unless
    ``force``: then the waiting and missed ones are cancelled, each with a note saying
    why, and an uncertain one stays uncertain for the user to settle (it may be on the
    platform). A post being published right now blocks the removal for the moment it
    takes. All of that is decided in one transaction; the keyring is asked afterwards.

    Raises:
        UserError: no such account, or posts are live and ``force`` is False.
        OperationFailed: a post is being published right now, or the keyring holds the
            token and refused to delete it (the account is removed all the same).
    """
    now = (clock or SystemClock()).now()
    acc = get_account(account)
    with database.atomic():
        acc = get_account(acc.id)  # read again under the write lock
        waiting = live_count(acc.id)
        if waiting and not force:
            posts = "post is" if waiting == 1 else "posts are"
            raise UserError(
                f"{waiting} scheduled {posts} still live on “{acc.display_name}” (waiting, "
                "missed, uncertain or being published): cancel them first, or remove the "
                "account together with them",
                Hint.FORCE_REMOVE,
            )
        mine = ScheduledPost.account == acc.id
        if (
            ScheduledPost.select()
            .where(mine & (ScheduledPost.status == Status.PUBLISHING))
            .exists()
        ):
            raise OperationFailed(
                f"“{acc.display_name}” was not removed: one of its posts is being published "
                "right now; try again in a moment"
            )
        note = f"cancelled: the account “{acc.display_name}” was removed"
        cancelled = (
            ScheduledPost.update(status=Status.CANCELLED, error_message=note, updated_at=now)
            .where(mine & ScheduledPost.status.in_(CANCELLABLE))
            .execute()
        )
        Recurrence.update(active=False).where(Recurrence.account == acc.id).execute()
        Account.update(
            status=AccountStatus.REMOVED, display_name=_retired_name(acc.display_name)
        ).where(Account.id == acc.id).execute()
    log.info("removed %s account id %s (%d post(s) cancelled)", acc.platform, acc.id, cancelled)
    try:
        credentials.delete(acc.platform, acc.id)
    except KeyringUnavailable as exc:
        # With no secure keyring the token only ever lived in memory, and delete()
        # already dropped it; a working keyring that refuses is a real problem.
        if backend_is_secure()[0]:
            raise OperationFailed(
                f"“{acc.display_name}” was removed, but its token could not be deleted from "
                f"the keyring ({exc}): delete the entry “{credentials.key(acc.platform, acc.id)}” "
                f"of the service “{SERVICE}” with your keyring's tool"
            ) from None
    return cancelled


def _retired_name(name: str) -> str:
    base = f"{name} (removed)"
    candidate, n = base, 2
    while Account.select().where(Account.display_name == candidate).exists():
        candidate, n = f"{base} {n}", n + 1
    return candidate


def identify_token(
    platform: str, token: str, api_base: str | None = None, *, login: str | None = None
) -> Identity:
    """Ask the platform whose ``token`` this is (network: call from a worker).

    Raises:
        UserError: the token is malformed.
        OperationFailed: the platform refused the token or cannot be reached.
    """
    return _signed_in(platform, token, api_base, login)[1]


def check_login(platform: str, login: str | None) -> str | None:
    """The login name a platform needs with its pasted secret (``Platform.login_name``),
    stripped; :class:`UserError` when it is missing, or given where none is taken."""
    wanted = registry.platform(platform).login_name
    login = (login or "").strip() or None
    if wanted and not login:
        raise UserError(f"give the {registry.label(platform)} {wanted} with the secret (--handle)")
    if login and not wanted:
        raise UserError(f"{registry.label(platform)} takes the token alone, without a login name")
    return login


def _signed_in(
    platform: str, token: str, api_base: str | None, login: str | None
) -> tuple[Credential, Identity]:
    """The credential to keep for a pasted token and whose it is (network)."""
    token = check_token(platform, token)
    login = check_login(platform, login)
    register_secret(token)
    label = registry.label(platform)
    credential = Credential(token)
    try:
        publisher = registry.make_publisher(platform, api_base=api_base)
        credential = publisher.sign_in(token, login)
        for secret in credential.secrets():
            register_secret(secret)
        identity = publisher.identify(credential)
    except AuthExpired as exc:
        raise OperationFailed(
            f"{label} refused the token (expired, revoked or mistyped): "
            f"copy a fresh one and try again ({scrub_error(exc, (token,))})"
        ) from None
    except PublishError as exc:
        raise OperationFailed(
            f"could not check the token with {label}: {scrub_error(exc, (token,))}"
        ) from None
    return credential, scrub_identity(identity, (token, *credential.secrets()))


def posts_as_page(account: AccountView) -> bool:
    """Whether ``account`` posts as a page (reconnecting it needs the page permissions)."""
    found = registry.find(account.platform)
    return found is not None and found.is_page(account.remote_id or "")


def list_pages(
    platform: str, credential: Credential, api_base: str | None = None
) -> list[Identity]:
    """The pages the credential's user administers, each ready to be an account
    (network: call from a worker).

    Raises:
        UserError: the platform has no pages.
        OperationFailed: the platform refused the request or could not be reached.
    """
    found = registry.platform(platform)
    if not found.has_pages:
        raise UserError(f"{found.label} accounts cannot post as a page")
    secrets = credential.secrets()
    try:
        pages: list[Identity] = registry.make_publisher(platform, api_base=api_base).pages(
            credential
        )
    except PublishError as exc:
        raise OperationFailed(
            f"could not list your {found.label} pages: {scrub_error(exc, secrets)}"
        ) from None
    return [scrub_identity(page, secrets) for page in pages]


def connect_pages(
    credentials: CredentialStore,
    platform: str,
    credential: Credential,
    pages: Sequence[Identity],
    api_base: str | None = None,
) -> list[AccountView]:
    """Connect each page in ``pages`` as its own account, all holding the member's
    credential (the platform lets the member post as each page with it).

    All or nothing as far as it can be: a page that is refused takes back the accounts
    this call created before it, rows and tokens. A page account that was waiting for a
    new token is reconnected instead, and keeps that new token even if a later page fails
    (its old token was dead anyway).

    Raises:
        UserError: no page given, the platform has no pages, or a page is already
            connected (checked for every page before anything is stored).
        OperationFailed: a token cannot be stored.
    """
    found = registry.platform(platform)
    if not found.has_pages:
        raise UserError(f"{found.label} accounts cannot post as a page")
    if not pages:
        raise UserError("choose at least one page to connect")
    # the pages' names came from the platform: no token in the names of the new accounts
    pages = [scrub_identity(page, credential.secrets()) for page in pages]
    # refuse up front what connect_account would refuse halfway through
    for page in pages:
        _refuse_if_connected(platform, page, api_base)
    before = {a.id for a in Account.select(Account.id)}
    done: list[AccountView] = []
    try:
        for page in pages:
            # the page's name, not its vanity handle: that is how members know their pages
            named = Identity(page.remote_id, "", page.display_name or page.username)
            done.append(
                connect_account(
                    credentials,
                    platform,
                    suggest_name(platform, named),
                    credential,
                    page,
                    api_base,
                )
            )
    except BaseException:
        for view in done:
            if view.id not in before:
                try:
                    _take_back(credentials, platform, view.id)
                except Exception:  # the first failure is the one the user must see
                    log.exception("account id %s not taken back", view.id)
        raise
    return done


def _refuse_if_connected(platform: str, identity: Identity, api_base: str | None) -> None:
    same_server = Account.api_base.is_null() if api_base is None else Account.api_base == api_base
    twin = (
        Account.select()
        .where(
            (Account.platform == platform)
            & (Account.remote_id == identity.remote_id)
            & (Account.status == AccountStatus.CONNECTED)
            & same_server
        )
        .first()
    )
    if twin is not None:
        raise UserError(
            f"the {registry.label(platform)} page {identity.display_name or identity.remote_id} "
            f"is already connected as “{twin.display_name}”: leave it out, or remove that "
            "account first"
        )


def _take_back(credentials: CredentialStore, platform: str, account_id: int) -> None:
    """Undo a connect made moments ago: the token, then the row (it has no posts yet)."""
    try:
        credentials.delete(platform, account_id)
    except KeyringUnavailable as exc:
        log.warning("token of account id %s not taken back: %s", account_id, exc)
    with database.atomic():
        if not ScheduledPost.select().where(ScheduledPost.account == account_id).exists():
            Account.delete().where(Account.id == account_id).execute()
        else:
            # scheduled on in the meantime: retire it as remove_account would
            acc = Account.get_by_id(account_id)
            Account.update(
                status=AccountStatus.REMOVED, display_name=_retired_name(acc.display_name)
            ).where(Account.id == account_id).execute()


def page_identity(
    platform: str, credential: Credential, page: str, api_base: str | None = None
) -> Identity:
    """The page ``page`` (an id or a full URN) the credential's user administers.

    Raises:
        UserError: the platform has no pages, or the user administers no such page
            (the message lists the ones they do).
        OperationFailed: the platform refused the request or could not be reached.
    """
    found = registry.platform(platform)
    pages = list_pages(platform, credential, api_base)
    wanted = page.strip()
    for candidate in pages:
        if candidate.remote_id == wanted or candidate.remote_id.rsplit(":", 1)[-1] == wanted:
            return candidate
    if not pages:
        raise UserError(f"you administer no {found.label} page: post as yourself instead")
    listed = ", ".join(f"{p.display_name} ({p.remote_id.rsplit(':', 1)[-1]})" for p in pages)
    raise UserError(f"you do not administer the page {wanted!r}: your pages are {listed}")


def connect_with_token(
    credentials: CredentialStore,
    platform: str,
    name: str,
    token: str,
    api_base: str | None = None,
    *,
    page: str | None = None,
    login: str | None = None,
) -> AccountView:
    """Check a pasted token with the platform, then connect the account it belongs to
    (or, with ``page``, the page of that id its user administers). ``login`` is the
    login name of platforms that take one with the secret (``Platform.login_name``)."""
    registry.platform(platform)
    if (name or "").strip():
        # before any network call: a taken name fails fast
        check_new_name(platform, name, credentials)
    api_base = instance_base(platform, api_base)
    check_login(platform, login)
    credential, identity = _signed_in(platform, token, api_base, login)
    if page is not None:
        identity = page_identity(platform, credential, page, api_base)
    return connect_account(credentials, platform, name, credential, identity, api_base)


def reconnect_with_token(
    credentials: CredentialStore, account_id: int, token: str, *, login: str | None = None
) -> AccountView:
    """Check a pasted token and make it the account's new token."""
    acc = _get(account_id)
    credential, identity = _signed_in(acc.platform, token, acc.api_base, login)
    return reconnect_account(credentials, account_id, credential, identity)


def _get(account_id: int) -> Account:
    acc = active_account(account_id)
    if acc is None:
        raise UserError("that account no longer exists: it may have been removed meanwhile")
    return acc


def _known_as(acc: Account) -> str:
    if acc.username and acc.username != acc.remote_id:
        return f"@{acc.username.lstrip('@')}"
    return acc.profile_name or f"user {acc.remote_id}"


# ---------------------------------------------------------------- token upkeep

#: a token that cannot be renewed from here is flagged this long before it expires
EXPIRY_WARNING = timedelta(days=7)


def renewed_by_milton(account: AccountView) -> bool:
    """Whether the scheduler keeps this account's token alive (else the user reconnects)."""
    found = registry.find(account.platform)
    return found is not None and found.token_upkeep is not None


def must_reconnect_soon(account: AccountView, now: datetime) -> bool:
    """A token Milton cannot renew that expires within :data:`EXPIRY_WARNING`."""
    expires = account.token_expires_at
    return (
        expires is not None
        and not renewed_by_milton(account)
        and now < expires <= now + EXPIRY_WARNING
    )


#: a renewal is tried at most this often per account, whatever the outcome
UPKEEP_EVERY = timedelta(days=1)


def renew_token(
    credentials: CredentialStore,
    account: int | str | AccountView,
    *,
    clock: Clock | None = None,
) -> AccountView:
    """Renew an account's token now (``account refresh``), and store the new expiry.

    Raises:
        UserError: no such account, its platform renews no tokens, or the token is
            too young to be renewed yet.
        OperationFailed: the platform refused (the account then needs reconnecting) or
            could not be reached, or the keyring failed.
    """
    clock = clock or SystemClock()
    now = clock.now()
    acc = get_account(account)
    upkeep = registry.platform(acc.platform).token_upkeep
    label = registry.label(acc.platform)
    if upkeep is None:
        raise UserError(
            f"{label} tokens cannot be renewed from here: reconnect “{acc.display_name}” "
            "before its token expires"
        )
    renewed_at = acc.token_refreshed_at or acc.created_at
    if now - renewed_at < upkeep.min_age:
        wait = upkeep.min_age - (now - renewed_at)
        raise UserError(
            f"{label} renews a token only once it is {_hours(upkeep.min_age)} old: try again "
            f"in {_hours(wait)}"
        )
    _renew(credentials, acc, clock)
    return AccountView.of(_get(acc.id))


def upkeep_tokens(credentials: CredentialStore, *, clock: Clock | None = None) -> list[str]:
    """The scheduler's daily pass: renew every token its platform's policy says is due.

    At most one try a day per account, whatever happens; a platform that refuses
    marks the account for reconnecting. Returns the names of the accounts renewed.
    """
    clock = clock or SystemClock()
    now = clock.now()
    tried: dict[str, str] = dict(settings.get_internal("token_upkeep_tried", {}) or {})
    renewed = []
    for acc in _active_accounts_with_upkeep():
        upkeep = registry.platform(acc.platform).token_upkeep
        assert upkeep is not None
        if upkeep.before_use or acc.status != AccountStatus.CONNECTED:
            continue
        last = tried.get(str(acc.id))
        if last and now - datetime.fromisoformat(last) < UPKEEP_EVERY:
            continue
        if not upkeep.due(
            now,
            expires_at=acc.token_expires_at,
            renewed_at=acc.token_refreshed_at or acc.created_at,
        ):
            continue
        tried[str(acc.id)] = now.isoformat()
        settings.set_internal("token_upkeep_tried", tried)
        try:
            _renew(credentials, acc, clock)
        except UserError as exc:
            log.warning("token of %s account %s not renewed: %s", acc.platform, acc.id, exc)
            continue
        renewed.append(acc.display_name)
    return renewed


def _active_accounts_with_upkeep() -> list[Account]:
    # only the platforms accounts use: an idle scheduler need not import the others
    used = Account.select(Account.platform).where(Account.status != AccountStatus.REMOVED)
    in_use = registry.find_all([a.platform for a in used.distinct()])
    names = [p.name for p in in_use if p.token_upkeep is not None]
    return list(
        Account.select().where(
            Account.platform.in_(names) & (Account.status != AccountStatus.REMOVED)
        )
    )


def _renew(credentials: CredentialStore, acc: Account, clock: Clock) -> None:
    """Refresh through the publisher, keep the new token, record when (no transaction
    is held while the platform or the keyring is asked)."""
    label = registry.label(acc.platform)
    try:
        credential = credentials.load(acc.platform, acc.id)
    except (KeyringUnavailable, CredentialMissing) as exc:
        raise OperationFailed(f"the {label} token could not be read: {exc}") from None
    publisher = registry.make_publisher(acc.platform, api_base=acc.api_base, now=clock.now)
    try:
        fresh = publisher.refresh(credential)
    except AuthExpired as exc:
        with database.atomic():
            Account.update(status=AccountStatus.NEEDS_RECONNECT).where(
                Account.id == acc.id
            ).execute()
        raise OperationFailed(
            f"{label} refused to renew the token of “{acc.display_name}” "
            f"({scrub_error(exc, credential.secrets())}): reconnect it"
        ) from None
    except PublishError as exc:
        raise OperationFailed(
            f"could not renew the {label} token now: {scrub_error(exc, credential.secrets())}"
        ) from None
    try:
        credentials.save(acc.platform, acc.id, fresh)
    except KeyringUnavailable as exc:
        raise OperationFailed(f"the renewed {label} token could not be stored: {exc}") from None
    with database.atomic():
        Account.update(token_expires_at=_expiry(fresh), token_refreshed_at=clock.now()).where(
            Account.id == acc.id
        ).execute()
    log.info("renewed the token of %s account id %s", acc.platform, acc.id)


def _hours(delta: timedelta) -> str:
    hours = max(1, round(delta.total_seconds() / 3600))
    return "1 hour" if hours == 1 else f"{hours} hours"
