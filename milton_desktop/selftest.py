"""``milton-desktop --self-test``: check the installation, one line per check.

Each line reads ``ok   <check>: detail`` or ``FAIL <check>: reason``, so a person
and a script read the same output; the exit code is 0 only when every check passed.
This module is core and imports no Qt: the Qt and icon checks live in
``milton_desktop.ui.qt_checks``, and the app layer passes them in
(``milton_desktop.app.run_self_test``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

Check = Callable[[], str]


class CheckFailed(Exception):
    """A check that did not pass; the message says why and what to do."""


def check_database(home: str | os.PathLike[str] | None) -> str:
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage.db import DatabaseError, close_database, open_database

    paths = resolve_paths(home)
    try:
        db = open_database(paths.db_path)
        version = db.execute_sql("PRAGMA user_version").fetchone()[0]
        mode = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
    except DatabaseError as exc:
        raise CheckFailed(str(exc)) from None
    finally:
        close_database()
    return f"{paths.db_path} (schema {version}, journal {mode})"


def check_keyring() -> str:
    from milton_desktop.storage.credentials import KEYRING_HELP, backend_is_secure

    try:
        secure, name = backend_is_secure()
    except Exception as exc:  # a broken backend raises anything at all while loading
        raise CheckFailed(
            f"the keyring could not be loaded ({type(exc).__name__}: {exc})"
        ) from None
    if not secure:
        raise CheckFailed(f"{KEYRING_HELP} (backend in use: {name})")
    return name


def check_publishers() -> str:
    from milton_desktop.publishers import registry
    from milton_desktop.publishers.base import Publisher

    try:
        found = registry.platforms()
    except Exception as exc:
        raise CheckFailed(f"the platform modules do not import ({exc})") from None
    if not found:
        raise CheckFailed(
            "no platform module found: the bundle is missing milton_desktop.publishers"
        )
    for platform in found:
        if not issubclass(platform.publisher, Publisher):
            raise CheckFailed(f"{platform.name}: its publisher is not a Publisher class")
    return ", ".join(p.name for p in found)


def check_tls() -> str:
    import certifi
    import requests.utils

    bundle = Path(certifi.where())
    if not bundle.is_file():
        raise CheckFailed(f"the CA bundle {bundle} is missing: reinstall the certifi package")
    requests_bundle = Path(requests.utils.DEFAULT_CA_BUNDLE_PATH)
    if not requests_bundle.is_file():
        raise CheckFailed(f"requests' CA bundle {requests_bundle} is missing")
    override = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    if override and not Path(override).is_file():
        raise CheckFailed(
            f"REQUESTS_CA_BUNDLE/SSL_CERT_FILE names {override}, which does not exist"
        )
    return str(override or bundle)


def _run(name: str, check: Check, out: Callable[[str], None]) -> bool:
    try:
        detail = check()
    except CheckFailed as exc:
        out(f"FAIL {name}: {exc}")
        return False
    except Exception as exc:  # a check must report, never crash the others
        out(f"FAIL {name}: unexpected {type(exc).__name__}: {exc}")
        return False
    out(f"ok   {name}: {detail}")
    return True


def run_self_test(
    home: str | os.PathLike[str] | None = None,
    out: Callable[[str], None] = print,
    qt_checks: Sequence[tuple[str, Check]] = (),
) -> int:
    """Run every check; 0 when all pass, 1 otherwise.

    Without ``home`` (and without ``MILTON_HOME``) the database check runs in a
    temporary folder, so a self-test never creates or migrates a user's real data.
    """
    temp: tempfile.TemporaryDirectory[str] | None = None
    if home is None and not os.environ.get("MILTON_HOME"):
        temp = tempfile.TemporaryDirectory(prefix="milton-selftest-")
        home = temp.name
    checks: list[tuple[str, Check]] = [
        ("database", lambda: check_database(home)),
        ("keyring", check_keyring),
        *qt_checks,
        ("publishers", check_publishers),
        ("tls", check_tls),
    ]
    try:
        results = [_run(name, check, out) for name, check in checks]
    finally:
        if temp is not None:
            temp.cleanup()
    return 0 if all(results) else 1
