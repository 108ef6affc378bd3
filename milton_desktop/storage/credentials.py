"""Tokens in the OS keyring, and nowhere else.

Service ``milton-desktop``; user name ``<platform>:<account id>@<install id>``, where the
install id is a random id kept in the database, so two data folders (a second
``MILTON_HOME``) never read each other's tokens. The value is the credential as JSON.

When no secure keyring works, the store says so. It never falls back to a file:
command-line use refuses to store the token; the desktop app may keep it in
memory for the running session only, and says that too.

A read from the keyring costs tens of milliseconds (two key exchanges and a dozen D-Bus
round trips), too much at a post's instant, so the store keeps what it read for the
life of the process. Another process that stores or deletes a token bumps a counter in
the ``settings`` table, and every read compares it (one small query), so a reconnect
in the window reaches a running scheduler at its next publish. Callers that know the
token failed read the keyring itself (``load(..., cached=False)``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from milton_desktop.domain.credential import Credential
from milton_desktop.domain.redaction import register_secrets

log = logging.getLogger("milton.credentials")

SERVICE = "milton-desktop"

_INSECURE_BACKENDS = ("PlaintextKeyring", "EncryptedKeyring", "fail.Keyring", "null.Keyring")

KEYRING_HELP = (
    "no working system keyring was found, so the token cannot be stored safely. "
    "On Linux install and unlock a Secret Service keyring (GNOME Keyring or KWallet, "
    "for example with: apt install gnome-keyring) in your desktop session; on macOS and Windows "
    "the system keychain is used"
)


def _keyring() -> Any:
    """keyring, imported on first use: loading it (and its backends) is slow, and the
    window should not wait for it before it shows."""
    import keyring
    import keyring.errors

    return keyring


class KeyringUnavailable(RuntimeError):
    """No secure keyring backend: the message says what to do."""


class CredentialMissing(LookupError):
    """No token is stored for an account."""


def backend_name() -> str:
    kr = _keyring().get_keyring()
    return f"{type(kr).__module__}.{type(kr).__name__}"


#: the backend last checked and what the check said: asking a Secret Service backend
#: its priority opens a D-Bus connection, so it is asked once per backend and process
_checked: tuple[object, tuple[bool, str]] | None = None
_checked_lock = threading.Lock()


def backend_is_secure() -> tuple[bool, str]:
    """Whether the active backend is one we will store tokens in, and its name."""
    global _checked
    kr = _keyring().get_keyring()
    # held while asking: the workers of a burst all start with a keyring read, and
    # one of them asking is enough
    with _checked_lock:
        if _checked is not None and _checked[0] is kr:
            return _checked[1]
        name = f"{type(kr).__module__}.{type(kr).__name__}"
        try:
            priority = float(type(kr).priority)
        except Exception:
            priority = 1.0
        insecure = any(marker in name for marker in _INSECURE_BACKENDS) or priority <= 0
        _checked = (kr, (not insecure, name))
        return _checked[1]


#: the ``settings`` row every process bumps when it stores or deletes a token
STAMP_KEY = "_credentials_stamp"


def _read_stamp() -> int | None:
    """The change counter as the database has it now; None when it cannot be read
    (then nothing cached is trusted)."""
    from milton_desktop.storage import backend
    from milton_desktop.storage.models import database

    try:
        # the connection itself: read at every publish, peewee's wrapping showed (its
        # placeholder is the driver's own: psycopg's on a team database)
        mark = backend.dialect("?", "%s")
        row = (
            database.connection()
            .execute(f"SELECT value FROM settings WHERE key = {mark}", (STAMP_KEY,))
            .fetchone()
        )
    except Exception:  # no database open here, or busy: read the keyring instead
        return None
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return None


def _bump_stamp() -> tuple[int, int] | None:
    """Tell every process a token changed: (counter before, after), or None if the
    database could not take it (others then notice at their next auth error)."""
    from milton_desktop.storage.models import database

    try:
        with database.atomic():
            row = database.execute_sql(
                "SELECT value FROM settings WHERE key = ?", (STAMP_KEY,)
            ).fetchone()
            try:
                before = int(row[0]) if row else 0
            except (TypeError, ValueError):
                before = 0
            database.execute_sql(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (STAMP_KEY, str(before + 1)),
            )
    except Exception as exc:  # busy, or no database open here
        log.warning("could not tell other processes that a token changed (%s)", exc)
        return None
    return before, before + 1


class CredentialStore:
    """Read and write account credentials in the OS keyring."""

    def __init__(self, install_id: str, *, allow_memory_fallback: bool = False) -> None:
        self.install_id = install_id
        self.allow_memory_fallback = allow_memory_fallback
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()
        #: credentials read from the keyring, valid while the change counter is ``_seen``
        self._cache: dict[str, Credential] = {}
        self._seen: int | None = None
        #: tokens this process stored or deleted (what it knows changed, whether or not
        #: the counter in the database could be moved)
        self.changes = 0

    def key(self, platform: str, account_id: int) -> str:
        return f"{platform}:{account_id}@{self.install_id}"

    @property
    def memory_only(self) -> bool:
        """True once a token had to be kept in memory because the keyring failed."""
        return bool(self._memory)

    def _check_backend(self) -> None:
        secure, name = backend_is_secure()
        if not secure:
            raise KeyringUnavailable(f"{KEYRING_HELP} (backend in use: {name})")

    # ------------------------------------------------------------ the cache
    def _cached(self, key: str) -> Credential | None:
        stamp = _read_stamp()
        with self._lock:
            if stamp is None or stamp != self._seen:
                self._cache.clear()
                self._seen = stamp
                return None
            return self._cache.get(key)

    def _keep(self, key: str, credential: Credential | None, stamp: int | None) -> None:
        """Remember ``credential`` as read (or written) while the counter was ``stamp``."""
        with self._lock:
            if stamp is None or stamp != self._seen:
                return  # the counter moved meanwhile: what we hold may be stale already
            if credential is None:
                self._cache.pop(key, None)
            else:
                self._cache[key] = credential

    def _changed(self, key: str, credential: Credential | None) -> None:
        """This process stored or deleted ``key``: tell the others, keep our copy."""
        self.changes += 1
        bumped = _bump_stamp()
        with self._lock:
            if bumped is None:
                self._cache.clear()
                self._seen = None
                return
            before, after = bumped
            if before != self._seen:  # someone else changed a token too: start afresh
                self._cache.clear()
            self._seen = after
            if credential is None:
                self._cache.pop(key, None)
            else:
                self._cache[key] = credential

    def forget(self) -> None:
        """Drop every credential held in memory (the next reads go to the keyring)."""
        with self._lock:
            self._cache.clear()
            self._seen = None

    def save(self, platform: str, account_id: int, credential: Credential) -> str:
        """Store ``credential``; returns ``"keyring"`` or ``"memory"`` (session only)."""
        # whatever happens to it next, this process knows it now: no log line may show it
        register_secrets(credential.secrets())
        key = self.key(platform, account_id)
        keyring = _keyring()
        try:
            self._check_backend()
            keyring.set_password(SERVICE, key, credential.to_json())
        except (keyring.errors.KeyringError, KeyringUnavailable) as exc:
            if not self.allow_memory_fallback:
                if isinstance(exc, KeyringUnavailable):
                    raise
                raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None
            log.warning(
                "keyring unavailable (%s); keeping the token in memory for this session",
                type(exc).__name__,
            )
            with self._lock:
                self._memory[key] = credential.to_json()
            return "memory"
        with self._lock:
            self._memory.pop(key, None)
        self._changed(key, credential)
        log.info("token for %s stored in the keyring", key.split("@")[0])
        return "keyring"

    def load(self, platform: str, account_id: int, *, cached: bool = True) -> Credential:
        """The account's credential; its secrets are registered with the log redaction,
        so no log record written by this process can show them.

        ``cached=False`` reads the keyring even when this process holds the credential
        (a token the platform just refused may have been replaced behind our back)."""
        key = self.key(platform, account_id)
        with self._lock:
            if key in self._memory:
                return _known(Credential.from_json(self._memory[key]))
        if cached:
            held = self._cached(key)
            if held is not None:
                return held
        stamp = _read_stamp()  # before the read: a change during it is seen next time
        keyring = _keyring()
        try:
            self._check_backend()
            value = keyring.get_password(SERVICE, key)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None
        if value is None:
            raise CredentialMissing(
                f"no token is stored for this {platform} account: reconnect it "
                f"(milton-desktop account add {platform} ... --token-stdin)"
            )
        try:
            credential = _known(Credential.from_json(value))
        except (ValueError, TypeError, KeyError, AttributeError):
            # edited by hand or by another program: as good as no token, and its text
            # (which may hold a secret) is never repeated
            raise CredentialMissing(
                f"the keyring entry for this {platform} account cannot be read (it is not "
                "what Milton stored there): reconnect the account to store a new token"
            ) from None
        self._keep(key, credential, stamp)
        return credential

    def load_many(self, accounts: list[tuple[str, int]]) -> int:
        """Read several accounts' credentials into memory at once, ahead of their
        publishes (a scheduler's start, a burst); returns how many were read.

        On the Secret Service (GNOME Keyring, KWallet) one connection and one
        encrypted session serve them all: each read of its own opens both, key
        exchange included. A credential that cannot be read here is left for
        :meth:`load`, which says what is wrong.
        """
        wanted = []
        for platform, account_id in accounts:
            key = self.key(platform, account_id)
            with self._lock:
                if key in self._memory:
                    continue
            if self._cached(key) is None:
                wanted.append(key)
        if not wanted:
            return 0
        stamp = _read_stamp()
        try:
            self._check_backend()
            values = _read_many(wanted)
        except Exception as exc:  # the reads one by one say what is wrong, if anything is
            log.debug("reading the tokens together failed (%s)", type(exc).__name__)
            return 0
        read = 0
        for key, value in values.items():
            try:
                credential = _known(Credential.from_json(value))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue
            self._keep(key, credential, stamp)
            read += 1
        return read

    def holds(self, accounts: list[tuple[str, int]]) -> set[int]:
        """The ids of those ``accounts`` (platform, id) that have a keyring entry here
        (readable or not: one that cannot be read is this machine's to report), read
        together where the keyring allows it."""
        self.load_many(accounts)
        held = set()
        keyring = _keyring()
        for platform, account_id in accounts:
            key = self.key(platform, account_id)
            with self._lock:
                if key in self._memory or key in self._cache:
                    held.add(account_id)
                    continue
            try:
                if keyring.get_password(SERVICE, key) is not None:
                    held.add(account_id)
            except Exception as exc:  # a keyring that cannot be read holds nothing now
                log.debug("cannot read the keyring (%s)", type(exc).__name__)
        return held

    def delete(self, platform: str, account_id: int) -> None:
        key = self.key(platform, account_id)
        with self._lock:
            self._memory.pop(key, None)
            self._cache.pop(key, None)
        keyring = _keyring()
        try:
            keyring.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored: already gone
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None
        self._changed(key, None)

    # ------------------------------------------------------------ other secrets

    def secret_key(self, name: str) -> str:
        return f"{name}@{self.install_id}"

    def save_secret(self, name: str, value: str, *, secrets: tuple[str, ...] = ()) -> str:
        """Store a secret that belongs to no account (an app registration's, as JSON)
        under ``name``; ``secrets`` are the values in it that no log may show. Returns
        ``"keyring"`` or ``"memory"``, with the same fallback rules as :meth:`save`."""
        register_secrets(secrets)
        key = self.secret_key(name)
        keyring = _keyring()
        try:
            self._check_backend()
            keyring.set_password(SERVICE, key, value)
        except (keyring.errors.KeyringError, KeyringUnavailable) as exc:
            if not self.allow_memory_fallback:
                if isinstance(exc, KeyringUnavailable):
                    raise
                raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None
            with self._lock:
                self._memory[key] = value
            return "memory"
        with self._lock:
            self._memory.pop(key, None)
        return "keyring"

    def load_secret(self, name: str) -> str | None:
        """The secret stored under ``name``, or None when there is none."""
        key = self.secret_key(name)
        with self._lock:
            if key in self._memory:
                return self._memory[key]
        keyring = _keyring()
        try:
            self._check_backend()
            value: str | None = keyring.get_password(SERVICE, key)
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None
        return value

    def delete_secret(self, name: str) -> None:
        key = self.secret_key(name)
        with self._lock:
            self._memory.pop(key, None)
        keyring = _keyring()
        try:
            keyring.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None


def _read_many(keys: list[str]) -> dict[str, str]:
    """The stored values of ``keys`` (those found)."""
    from contextlib import closing

    keyring = _keyring()
    backend = keyring.get_keyring()
    kind = type(backend)
    found: dict[str, str] = {}
    if kind.__module__ != "keyring.backends.SecretService" or not hasattr(backend, "_query"):
        for key in keys:
            value = keyring.get_password(SERVICE, key)
            if value is not None:
                found[key] = value
        return found
    collection = backend.get_preferred_collection()
    session = None
    with closing(collection.connection):
        for key in keys:
            for item in collection.search_items(backend._query(SERVICE, key)):
                backend.unlock(item)
                if session is not None:
                    item.session = session  # one key exchange for every item
                found[key] = item.get_secret().decode("utf-8")
                session = item.session
                break
    return found


def _known(credential: Credential) -> Credential:
    register_secrets(credential.secrets())
    return credential
