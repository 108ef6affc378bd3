"""Start-up shared by every front end: folders, logging, database, keyring store."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from milton_desktop.logsetup import setup_logging
from milton_desktop.operations import members
from milton_desktop.paths import Paths, resolve_paths
from milton_desktop.storage import backend, settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.db import DatabaseError, explain_error, open_database

log = logging.getLogger("milton.app")

#: where a team database's URL may come from when ``--database`` is not given
DATABASE_ENV = "MILTON_DATABASE_URL"


def database_target(paths: Paths, url: str | None = None) -> Path | str:
    """The database to open: ``url`` (``--database``), else ``MILTON_DATABASE_URL``,
    else the home's SQLite file.

    Raises:
        DatabaseError: the URL given is not one of a PostgreSQL database.
    """
    chosen = url or os.environ.get(DATABASE_ENV) or None
    if chosen is None:
        return paths.db_path
    if not backend.is_url(chosen):
        raise DatabaseError(
            f"{chosen!r} is not a team database's address: give a URL like "
            "postgresql://user@host/dbname (or leave --database out to use this computer's file)"
        )
    return chosen


@dataclass
class AppContext:
    paths: Paths
    credentials: CredentialStore
    log_file: Path
    #: the member this client acts as (``--member``, the home's saved name, the OS user)
    member: str = ""


def open_context(
    home: str | None = None,
    *,
    verbose: bool = False,
    stderr_logging: bool | None = None,
    allow_memory_tokens: bool = False,
    check_integrity: bool = True,
    database: str | None = None,
    member: str | None = None,
    log_file: Path | None = None,
) -> AppContext:
    """Resolve folders, start logging, open and migrate the database.

    ``database``: a team database's URL (see :func:`database_target`); the home still
    keeps the logs, media and this machine's install id.
    ``check_integrity=False``: see :func:`milton_desktop.storage.db.open_database`.
    ``member``: the name this client acts as (``--member``); None takes the home's.
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
    target = database_target(paths, database)
    open_database(target, check_integrity=check_integrity, local_dir=paths.data_dir)
    try:
        # the home's own id: in its SQLite file, or in its data folder on a team database
        install = settings.install_id()
    except pw.DatabaseError as exc:  # busy, full disk: a message, not a traceback
        raise DatabaseError(explain_error(paths.db_path, exc)) from None
    if backend.current().is_postgres:
        log.info("team database %s, this machine %s", backend.current().label, install)
    store = CredentialStore(install, allow_memory_fallback=allow_memory_tokens)
    name = members.resolve(paths.data_dir, member)
    members.use(name)
    log.debug("data in %s, logs in %s, acting as %s", paths.data_dir, paths.log_dir, name)
    return AppContext(paths=paths, credentials=store, log_file=log_file, member=name)
