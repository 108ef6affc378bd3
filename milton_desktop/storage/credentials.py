"""Tokens in the OS keyring, and nowhere else.

Service ``milton-desktop``; user name ``<platform>:<account id>@<install id>``, where the
install id is a random id kept in the database, so two data folders (a second
``MILTON_HOME``) never read each other's tokens. The value is the credential as JSON.

When no secure keyring works, the store says so. It never falls back to a file:
command-line use refuses to store the token; the desktop app may keep it in
memory for the running session only, and says that too.
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


def backend_is_secure() -> tuple[bool, str]:
    """Whether the active backend is one we will store tokens in, and its name."""
    name = backend_name()
    kr = _keyring().get_keyring()
    try:
        priority = float(type(kr).priority)
    except Exception:
        priority = 1.0
    insecure = any(marker in name for marker in _INSECURE_BACKENDS) or priority <= 0
    return (not insecure, name)


class CredentialStore:
    """Read and write account credentials in the OS keyring."""

    def __init__(self, install_id: str, *, allow_memory_fallback: bool = False) -> None:
        self.install_id = install_id
        self.allow_memory_fallback = allow_memory_fallback
        self._memory: dict[str, str] = {}
        self._lock = threading.Lock()

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
        log.info("token for %s stored in the keyring", key.split("@")[0])
        return "keyring"

    def load(self, platform: str, account_id: int) -> Credential:
        """The account's credential; its secrets are registered with the log redaction,
        so no log record written by this process can show them."""
        key = self.key(platform, account_id)
        with self._lock:
            if key in self._memory:
                return _known(Credential.from_json(self._memory[key]))
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
            return _known(Credential.from_json(value))
        except (ValueError, TypeError, KeyError, AttributeError):
            # edited by hand or by another program: as good as no token, and its text
            # (which may hold a secret) is never repeated
            raise CredentialMissing(
                f"the keyring entry for this {platform} account cannot be read (it is not "
                "what Milton stored there): reconnect the account to store a new token"
            ) from None

    def delete(self, platform: str, account_id: int) -> None:
        key = self.key(platform, account_id)
        with self._lock:
            self._memory.pop(key, None)
        keyring = _keyring()
        try:
            keyring.delete_password(SERVICE, key)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored: already gone
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(f"{KEYRING_HELP} ({type(exc).__name__})") from None

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


def _known(credential: Credential) -> Credential:
    register_secrets(credential.secrets())
    return credential
