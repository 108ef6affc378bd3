"""Start-up shared by every front end: folders, logging, database, keyring store."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from milton_desktop.logsetup import setup_logging
from milton_desktop.paths import Paths, resolve_paths
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.db import DatabaseError, explain_error, open_database

log = logging.getLogger("milton.app")


@dataclass
class AppContext:
    paths: Paths
    credentials: CredentialStore
    log_file: Path


def open_context(
    home: str | None = None,
    *,
    verbose: bool = False,
    stderr_logging: bool | None = None,
    allow_memory_tokens: bool = False,
    check_integrity: bool = True,
    log_file: Path | None = None,
) -> AppContext:
    """Resolve folders, start logging, open and migrate the database.

    ``check_integrity=False``: see :func:`milton_desktop.storage.db.open_database`.
    ``log_file``: logging is set up already (by the caller, writing there); it is
    left alone, so this can run on a worker thread while other threads log.

    Raises:
        milton_desktop.storage.db.DatabaseError: the database cannot be opened (message says why).
        OSError: a folder cannot be created.
    """
    paths = resolve_paths(home).ensure()
    import peewee as pw  # here, after storage: it imports peewee without the server drivers

    if log_file is None:
        log_file = setup_logging(paths.log_dir, verbose=verbose, stderr=stderr_logging)
    open_database(paths.db_path, check_integrity=check_integrity)
    try:
        install = settings.install_id()
    except pw.DatabaseError as exc:  # busy, full disk: a message, not a traceback
        raise DatabaseError(explain_error(paths.db_path, exc)) from None
    store = CredentialStore(install, allow_memory_fallback=allow_memory_tokens)
    log.debug("data in %s, logs in %s", paths.data_dir, paths.log_dir)
    return AppContext(paths=paths, credentials=store, log_file=log_file)
