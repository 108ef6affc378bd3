"""Opening the database (the home's SQLite file, or a team's PostgreSQL database):
pragmas or login, schema creation and migrations."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee as pw

from milton_desktop.domain.redaction import register_secret
from milton_desktop.domain.voices import BUILTIN_GUIDES
from milton_desktop.storage import backend, live
from milton_desktop.storage.backend import (
    Backend,
    PostgresDatabase,
    SqliteDatabase,
    is_url,
    redacted_url,
    url_password,
)
from milton_desktop.storage.models import ALL_MODELS, database, utc_text

log = logging.getLogger("milton.db")

SCHEMA_VERSION = 15

#: the first schema a team database (PostgreSQL) can have: one is always created at the
#: current schema, so only the steps after this one ever run there
FIRST_POSTGRES_SCHEMA = 11


#: when the shipped guides are recorded as written
_SEEDED_AT = datetime(2026, 1, 1, tzinfo=UTC)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Both:
    """One migration statement where SQLite's and PostgreSQL's forms differ."""

    sqlite: str
    postgres: str

    def text(self, on: Backend) -> str:
        return self.postgres if on.is_postgres else self.sqlite


#: a migration step's statement: the same text for both engines, or one form each
Statement = str | Both


def _seed(name: str, guide: str) -> Both:
    columns = '"voices" ("name", "guide", "builtin", "updated_at")'
    values = f"{_quoted(name)}, {_quoted(guide.strip())}, {{}}, {_quoted(utc_text(_SEEDED_AT))}"
    return Both(
        f"INSERT OR IGNORE INTO {columns} VALUES ({values.format(1)})",
        f"INSERT INTO {columns} VALUES ({values.format('TRUE')}) ON CONFLICT DO NOTHING",
    )


#: the built-in voices and their shipped guides, for a database that has none yet
#: (OR IGNORE: a guide the user edited is theirs, and stays)
SEED_VOICES: tuple[Both, ...] = tuple(_seed(name, guide) for name, guide in BUILTIN_GUIDES.items())

#: one step per schema version: the statements that bring version N-1 to N. A new
#: database gets every table as the models are today and skips them. Where SQLite's
#: form of a statement is not PostgreSQL's, the step gives both (:class:`Both`); steps
#: before FIRST_POSTGRES_SCHEMA only ever run on SQLite files.
MIGRATIONS: dict[int, tuple[Statement, ...]] = {
    2: (
        # what a publish that went out wanted the user to know (alt text dropped, ...)
        "ALTER TABLE scheduled_posts ADD COLUMN warning TEXT",
        "ALTER TABLE publishing_results ADD COLUMN warning TEXT",
        # token upkeep: when the token was last renewed, and the account's tier (X Premium)
        "ALTER TABLE accounts ADD COLUMN token_refreshed_at TEXT",
        "ALTER TABLE accounts ADD COLUMN tier VARCHAR(32)",
    ),
    3: (
        # where an interrupted publish stands (e.g. Instagram's container), for its retry
        "ALTER TABLE scheduled_posts ADD COLUMN resume TEXT",
    ),
    4: (
        # the name the platform gives the account's person or page, shown instead of
        # a member id (filled in on the next connect or reconnect)
        "ALTER TABLE accounts ADD COLUMN profile_name VARCHAR(255) NOT NULL DEFAULT ''",
    ),
    5: (
        # the journal entry an attempt's result came from, so a result replayed after a
        # crash is never recorded twice (the index name is the one peewee gives it)
        "ALTER TABLE publishing_results ADD COLUMN journal_key VARCHAR(255)",
        'CREATE UNIQUE INDEX IF NOT EXISTS "publishing_results_journal_key"'
        ' ON "publishing_results" ("journal_key")',
    ),
    6: (
        # follow-ups: a thread or first comments after the main text, each part's media,
        # what each part became, and how an unknown outcome was settled
        "ALTER TABLE posts ADD COLUMN follow_ups TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE posts ADD COLUMN follow_up_delay INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE media ADD COLUMN part INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE scheduled_posts ADD COLUMN parts TEXT",
        "ALTER TABLE publishing_results ADD COLUMN part INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE publishing_results ADD COLUMN parts TEXT",
        "ALTER TABLE publishing_results ADD COLUMN resolution TEXT",
    ),
    7: (
        # the queue: an account's zone (NULL follows the app's) and its weekly slots,
        # and the index that finds an account's taken times (names as peewee gives them)
        'ALTER TABLE "accounts" ADD COLUMN "timezone" VARCHAR(255)',
        'CREATE TABLE IF NOT EXISTS "queue_slots" ("id" INTEGER NOT NULL PRIMARY KEY,'
        ' "account_id" INTEGER NOT NULL, "weekday" INTEGER NOT NULL, "minute" INTEGER NOT NULL,'
        ' FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "queue_slots_account_id" ON "queue_slots" ("account_id")',
        'CREATE UNIQUE INDEX IF NOT EXISTS "queue_slots_account_id_weekday_minute"'
        ' ON "queue_slots" ("account_id", "weekday", "minute")',
        'CREATE INDEX IF NOT EXISTS "scheduled_posts_account_id_scheduled_time"'
        ' ON "scheduled_posts" ("account_id", "scheduled_time")',
    ),
    8: (
        # insights: snapshots of published posts' engagement (names as peewee gives them)
        'CREATE TABLE IF NOT EXISTS "post_metrics" ("id" INTEGER NOT NULL PRIMARY KEY,'
        ' "schedule_id" INTEGER NOT NULL, "account_id" INTEGER NOT NULL,'
        ' "platform" VARCHAR(16) NOT NULL, "remote_id" VARCHAR(255) NOT NULL,'
        ' "taken_at" TEXT NOT NULL, "age_bucket" VARCHAR(8) NOT NULL, "counters" TEXT NOT NULL,'
        ' "interactions" INTEGER NOT NULL, "impressions" INTEGER,'
        ' FOREIGN KEY ("schedule_id") REFERENCES "scheduled_posts" ("id") ON DELETE CASCADE,'
        ' FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON DELETE CASCADE)',
        'CREATE INDEX IF NOT EXISTS "post_metrics_schedule_id" ON "post_metrics" ("schedule_id")',
        'CREATE INDEX IF NOT EXISTS "post_metrics_account_id" ON "post_metrics" ("account_id")',
        'CREATE INDEX IF NOT EXISTS "post_metrics_schedule_id_taken_at"'
        ' ON "post_metrics" ("schedule_id", "taken_at")',
        'CREATE INDEX IF NOT EXISTS "post_metrics_account_id_taken_at"'
        ' ON "post_metrics" ("account_id", "taken_at")',
    ),
    9: (
        # the writing assistant: each voice's guide (its system prompt), the built-in
        # ones seeded; and a post's own text per platform (a rewrite for X, ...)
        'CREATE TABLE IF NOT EXISTS "voices" ("id" INTEGER NOT NULL PRIMARY KEY,'
        ' "name" VARCHAR(32) NOT NULL, "guide" TEXT NOT NULL,'
        ' "builtin" INTEGER NOT NULL DEFAULT 0, "updated_at" TEXT NOT NULL)',
        'CREATE UNIQUE INDEX IF NOT EXISTS "voices_name" ON "voices" ("name")',
        'ALTER TABLE "posts" ADD COLUMN "variants" TEXT NOT NULL DEFAULT \'{}\'',
        *SEED_VOICES,
    ),
    10: (
        # email notifications: one row per mail, keyed by the outcome it is about so
        # one outcome never queues two (names as peewee gives them)
        'CREATE TABLE IF NOT EXISTS "mail_outbox" ("id" INTEGER NOT NULL PRIMARY KEY,'
        ' "key" VARCHAR(255) NOT NULL, "event" VARCHAR(16) NOT NULL, "schedule_id" INTEGER,'
        ' "result_id" INTEGER, "status" VARCHAR(16) NOT NULL, "attempts" INTEGER NOT NULL,'
        ' "next_attempt_at" TEXT NOT NULL, "created_at" TEXT NOT NULL, "sent_at" TEXT,'
        ' "message_id" VARCHAR(255), "subject" TEXT, "body" TEXT, "last_error" TEXT,'
        ' "reply" TEXT)',
        'CREATE UNIQUE INDEX IF NOT EXISTS "mail_outbox_key" ON "mail_outbox" ("key")',
        'CREATE INDEX IF NOT EXISTS "mail_outbox_status_next_attempt_at"'
        ' ON "mail_outbox" ("status", "next_attempt_at")',
    ),
    11: (
        # team mode: each machine's heartbeat and the accounts whose token it holds
        # (names as peewee gives them)
        Both(
            'CREATE TABLE IF NOT EXISTS "machines" ("id" INTEGER NOT NULL PRIMARY KEY,'
            ' "install_id" VARCHAR(255) NOT NULL, "label" VARCHAR(255) NOT NULL,'
            ' "started_at" TEXT NOT NULL, "last_seen_at" TEXT NOT NULL,'
            ' "interval_s" INTEGER NOT NULL, "online" INTEGER NOT NULL, "paused" INTEGER NOT NULL,'
            ' "accounts" TEXT NOT NULL)',
            'CREATE TABLE IF NOT EXISTS "machines" ("id" SERIAL NOT NULL PRIMARY KEY,'
            ' "install_id" VARCHAR(255) NOT NULL, "label" VARCHAR(255) NOT NULL,'
            ' "started_at" TEXT NOT NULL, "last_seen_at" TEXT NOT NULL,'
            ' "interval_s" INTEGER NOT NULL, "online" BOOLEAN NOT NULL, "paused" BOOLEAN NOT NULL,'
            ' "accounts" TEXT NOT NULL)',
        ),
        'CREATE UNIQUE INDEX IF NOT EXISTS "machines_install_id" ON "machines" ("install_id")',
    ),
    12: (
        # team mode: which machine (install id) holds a claim, so a live one can tell a
        # stale machine's rows from its own
        'ALTER TABLE "scheduled_posts" ADD COLUMN "claimed_machine" VARCHAR(255)',
    ),
    13: (
        # members and approvals: who made and last changed a schedule, who approved it
        # and when, and the accounts whose posts wait for approval
        Both(
            'ALTER TABLE "accounts" ADD COLUMN "require_approval" INTEGER NOT NULL DEFAULT 0',
            'ALTER TABLE "accounts" ADD COLUMN "require_approval" BOOLEAN NOT NULL DEFAULT FALSE',
        ),
        'ALTER TABLE "scheduled_posts" ADD COLUMN "created_by" VARCHAR(255)',
        'ALTER TABLE "scheduled_posts" ADD COLUMN "updated_by" VARCHAR(255)',
        'ALTER TABLE "scheduled_posts" ADD COLUMN "approved_by" VARCHAR(255)',
        'ALTER TABLE "scheduled_posts" ADD COLUMN "approved_at" TEXT',
        'ALTER TABLE "recurrences" ADD COLUMN "created_by" VARCHAR(255)',
    ),
    14: (
        # team mode: every table notifies its changes (LISTEN/NOTIFY, storage/live.py).
        # No statement of its own: on PostgreSQL the triggers are (re)made after every
        # schema change (_migrate), so a table a later step adds gets one too; the
        # step is here so a team database made at 13 is upgraded and gets them.
    ),
    15: (
        # team mode: media bytes in the database, in chunks, by the file's SHA-256
        # (names as peewee gives them)
        Both(
            'CREATE TABLE IF NOT EXISTS "media_blobs" ("id" INTEGER NOT NULL PRIMARY KEY,'
            ' "sha256" VARCHAR(64) NOT NULL, "seq" INTEGER NOT NULL, "size" INTEGER NOT NULL,'
            ' "mime" VARCHAR(255) NOT NULL, "data" BLOB NOT NULL)',
            'CREATE TABLE IF NOT EXISTS "media_blobs" ("id" SERIAL NOT NULL PRIMARY KEY,'
            ' "sha256" VARCHAR(64) NOT NULL, "seq" INTEGER NOT NULL, "size" BIGINT NOT NULL,'
            ' "mime" VARCHAR(255) NOT NULL, "data" BYTEA NOT NULL)',
        ),
        'CREATE UNIQUE INDEX IF NOT EXISTS "media_blobs_sha256_seq"'
        ' ON "media_blobs" ("sha256", "seq")',
    ),
}

#: how long one statement waits for another process's write lock before it gives up
BUSY_TIMEOUT_S = 10

# Only connection-local settings here: none of them needs the write lock, so opening
# the database never waits for another writer (journal_mode is set once, see below).
PRAGMAS = {
    "busy_timeout": BUSY_TIMEOUT_S * 1000,
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -16000,
    "temp_store": "memory",
}


class DatabaseError(RuntimeError):
    """The database cannot be opened or used; the message says why and what to do."""


#: where a database is: the home's SQLite file, or a team database's URL
Target = Path | str


def open_database(
    target: Target, *, check_integrity: bool = True, local_dir: Path | None = None
) -> pw.DatabaseProxy:
    """Open (creating if needed) and migrate the database at ``target``.

    ``target`` is a file (SQLite) or a ``postgresql://`` URL (a team database; its
    password, if written in it, is only used to log in and registered with the log
    filter, never stored; ``local_dir`` is the home's data folder, where this machine
    keeps its engine's locks and journal). ``check_integrity=False`` skips SQLite's quick check (a read
    of every page: about 0.1 s at 100 000 posts) for a caller that runs
    :func:`check_integrity` later, or only reads: a damaged page it reaches still fails
    as "malformed", which :func:`explain_error` words like the check would.
    """
    if database.obj is not None and not database.is_closed():
        database.close()
    if is_url(target):
        return _open_postgres(str(target), local_dir)
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the data folder {path.parent}: {exc.strerror}"
        ) from None
    on = Backend("sqlite", str(path), path.resolve().parent)
    database.initialize(
        SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    )
    backend.use(on)
    try:
        database.connect(reuse_if_open=True)
        _use_wal()
        if check_integrity:
            on.check_integrity(database)
        _migrate(on)
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        database.close()
        raise DatabaseError(explain_error(path, exc)) from None
    except pw.OperationalError as exc:  # pragma: no cover - subclass of DatabaseError
        database.close()
        raise DatabaseError(explain_error(path, exc)) from None
    return database


def _open_postgres(url: str, local_dir: Path | None) -> pw.DatabaseProxy:
    password = url_password(url)
    if password:
        register_secret(password)
    label = redacted_url(url)
    if local_dir is None:  # a caller with no home (a test, a tool): state of its own
        local_dir = Path(tempfile.mkdtemp(prefix="milton-team-"))
    on = Backend("postgresql", label, Path(local_dir))
    # the password: the URL's, else PGPASSWORD, else one saved in the keyring, else
    # ~/.pgpass (libpq reads PGPASSWORD and .pgpass itself)
    try:
        backend.load_driver()
    except pw.ImproperlyConfigured as exc:
        raise DatabaseError(
            f"cannot use the team database {label}: {exc} (install psycopg: pip install "
            "'psycopg[binary]')"
        ) from None
    login: dict[str, Any] = {}
    if password is None and not os.environ.get("PGPASSWORD"):
        from milton_desktop.storage import db_password

        saved = db_password.stored(url)
        if saved:
            register_secret(saved)
            login["password"] = saved
    database.initialize(
        PostgresDatabase(url, connect_timeout=BUSY_TIMEOUT_S, prefer_psycopg3=True, **login)
    )
    backend.use(on)
    try:
        database.connect(reuse_if_open=True)
        _migrate(on)
    except pw.DatabaseError as exc:
        if not database.is_closed():
            database.close()
        raise DatabaseError(explain_error(label, exc)) from None
    except pw.ImproperlyConfigured as exc:
        raise DatabaseError(
            f"cannot use the team database {label}: {exc} (install psycopg: pip install "
            "'psycopg[binary]')"
        ) from None
    return database


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` says another process held the write lock longer than we waited."""
    if not isinstance(exc, pw.OperationalError | sqlite3.OperationalError):
        return False
    low = str(exc).lower()
    return "locked" in low or "busy" in low


def explain_error(path: Path | str, exc: Exception) -> str:
    """``exc`` in words for the database at ``path`` (a file, or a URL without password)."""
    text = str(exc)
    if is_url(str(path)):
        return _explain_postgres(str(path), text)
    if backend.current().is_postgres:  # the caller named the home's file; the team's is open
        return _explain_postgres(backend.current().label, text)
    low = text.lower()
    if is_busy(exc):
        return (
            f"the database {path} is busy: another program has been writing to it for more "
            f"than {BUSY_TIMEOUT_S} s ({text}); try again in a moment"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return (
            f"the database {path} is damaged ({text}). Move it aside and start again, "
            "or restore it from a backup"
        )
    if "readonly" in low or "read-only" in low or "unable to open" in low:
        return f"cannot write the database {path} ({text}): check the folder's permissions"
    if "disk" in low and "full" in low:
        return f"the disk holding {path} is full; free some space and try again"
    return f"database error on {path}: {text}"


def _explain_postgres(label: str, text: str) -> str:
    low = text.lower()
    text = text.strip().splitlines()[0] if text.strip() else text
    if "password authentication failed" in low or "no password supplied" in low:
        return (
            f"cannot log in to the team database {label} ({text}): check the user name and "
            "password (in the URL, PGPASSWORD or ~/.pgpass)"
        )
    if "does not exist" in low and "database" in low:
        return (
            f"the team database {label} does not exist ({text}): ask its administrator "
            "to create it (createdb), or check the URL"
        )
    if "connection" in low or "could not" in low or "timeout" in low or "refused" in low:
        return (
            f"cannot reach the team database {label} ({text}): check the address and "
            "that the server is running, then try again"
        )
    return f"database error on {label}: {text}"


def _use_wal() -> None:
    """WAL mode, so readers never wait for a writer. It is kept in the file once set;
    setting it again would be harmless, but asking first keeps opening read-only."""
    (mode,) = database.execute_sql("PRAGMA journal_mode").fetchone()
    if str(mode).lower() != "wal":
        database.execute_sql("PRAGMA journal_mode = wal")


def check_integrity(path: Path) -> None:
    """SQLite's quick check of the open database, on this thread's connection.

    Raises:
        DatabaseError: the file is damaged (the message says what to do).
    """
    try:
        backend.current().check_integrity(database)
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        raise DatabaseError(explain_error(Path(path), exc)) from None


def _migrate(on: Backend) -> None:
    version = on.schema_version(database)
    if version > SCHEMA_VERSION:
        raise pw.DatabaseError(
            f"the database was written by a newer Milton Desktop (schema {version}); "
            "update the app to open it"
        )
    if version == SCHEMA_VERSION:
        return
    with database.atomic():
        # Another process may have migrated while this one waited for the write lock.
        version = on.schema_version(database)
        if version == SCHEMA_VERSION:
            return
        if version == 0:
            database.create_tables(ALL_MODELS, safe=True)
            for seed in SEED_VOICES:
                database.execute_sql(seed.text(on))
        else:
            if on.is_postgres and version < FIRST_POSTGRES_SCHEMA:  # pragma: no cover
                raise pw.DatabaseError(f"a team database cannot be at schema {version}")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS.get(step, ()):
                    database.execute_sql(
                        statement.text(on) if isinstance(statement, Both) else statement
                    )
                log.info("database migrated to schema %s", step)
        if on.is_postgres:
            live.install_change_triggers(database, (m._meta.table_name for m in ALL_MODELS))
        on.set_schema_version(database, SCHEMA_VERSION)
    log.info("database schema at version %s", SCHEMA_VERSION)


def close_database() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()


def worker_connection() -> contextlib.AbstractContextManager[object]:
    """A connection of its own for a worker thread, closed when the work is done."""
    return database.connection_context()
