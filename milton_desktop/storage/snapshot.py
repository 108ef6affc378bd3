"""Whole-database copies, with SQLite's online backup API.

A copy taken here is consistent while the scheduler writes: the backup runs in one
read transaction (WAL mode never makes a writer wait for a reader), so it holds
every commit before it and none after. Restoring runs the same API the other way,
into the live database, in one write transaction: connections other threads or
processes hold stay valid and see the restored rows on their next read, and a
crash mid-way leaves the old database as it was.

These work on plain ``sqlite3`` connections of their own, never on the app's peewee
connection, so a copy never shares a transaction with the caller.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from milton_desktop.storage.backend import SQLITE
from milton_desktop.storage.db import BUSY_TIMEOUT_S, MIGRATIONS, SCHEMA_VERSION, Both


class SnapshotError(RuntimeError):
    """A copy that cannot be made or used; the message says why."""


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def copy_database(source: Path, target: Path) -> None:
    """Write a consistent copy of the database ``source`` to the new file ``target``.

    The copy is a self-contained file (rollback journal, not WAL), ready to archive.
    """
    if target.exists():
        raise SnapshotError(f"{target} already exists")
    with _connect(source) as src, _connect(target) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = delete")


def schema_version(path: Path) -> int:
    with _connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def integrity_problems(path: Path) -> list[str]:
    """What SQLite's full ``integrity_check`` finds wrong with ``path`` (empty: sound)."""
    try:
        with _connect(path) as conn:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def migrate(path: Path) -> int:
    """Bring the copy at ``path`` to today's schema; returns the version it had.

    Raises:
        SnapshotError: it was written by a newer version, or is no Milton database.
    """
    with _connect(path) as conn:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise SnapshotError(
                f"it was written by a newer Milton Desktop (schema {version}, this one "
                f"reads up to {SCHEMA_VERSION}): update the app, then restore it"
            )
        if version < 1:
            raise SnapshotError("its database has no Milton Desktop schema")
        if version == SCHEMA_VERSION:
            return version
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(step, ()):
                    conn.execute(
                        statement.text(SQLITE) if isinstance(statement, Both) else statement
                    )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return version


def install(staged: Path, live: Path) -> None:
    """Replace every page of the database ``live`` by those of ``staged``, atomically.

    The live file keeps its journal mode (WAL) and page size; the write lock is
    taken for the copy, so no other writer commits half-way through it.
    """
    with _connect(staged) as src, _connect(live) as dst:
        (page_size,) = dst.execute("PRAGMA page_size").fetchone()
        (staged_size,) = src.execute("PRAGMA page_size").fetchone()
        if page_size != staged_size:
            # a WAL database cannot change its page size: bring the copy to the live one's
            src.execute(f"PRAGMA page_size = {int(page_size)}")
            src.execute("VACUUM")
        src.backup(dst)


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table of the database at ``path`` (its own tables, not SQLite's)."""
    with _connect(path) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {n: int(conn.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0]) for n in names}


@contextlib.contextmanager
def writable(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a staged copy, committed on success (fixes before it is installed)."""
    with _connect(path) as conn:
        conn.execute("PRAGMA foreign_keys = 1")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
