"""A team database's password kept in this machine's keyring.

libpq finds a password in the URL, ``PGPASSWORD`` or ``~/.pgpass``; a member who would
rather not keep it in a plain file saves it here once (``milton-desktop
database-password URL --stdin``). It is looked up only when neither the URL nor
``PGPASSWORD`` has one, and only ever given to the driver: never written to the home,
the settings or the logs.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from milton_desktop.storage.backend import redacted_url

log = logging.getLogger("milton.db")

#: the keyring service every Milton secret is kept under (as the account tokens)
SERVICE = "milton-desktop"


def _key(url: str) -> str:
    """One entry per user, server and database; the URL's options and password do not
    count (``?sslmode=require`` is still the same login)."""
    parts = urlsplit(redacted_url(url))
    return "database-password:" + urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def stored(url: str) -> str | None:
    """The password saved for ``url``'s login, or None (also when no keyring answers:
    libpq's own sources then still apply)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, _key(url))
    except (KeyringError, RuntimeError, OSError) as exc:
        log.warning("could not read the team database's password from the keyring: %s", exc)
        return None


def save(url: str, password: str) -> None:
    """Keep ``password`` for ``url``'s login.

    Raises:
        keyring.errors.KeyringError: no keyring could store it.
    """
    import keyring

    keyring.set_password(SERVICE, _key(url), password)


def forget(url: str) -> bool:
    """Drop the saved password; whether there was one."""
    import keyring
    from keyring.errors import PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, _key(url))
    except PasswordDeleteError:
        return False
    return True
