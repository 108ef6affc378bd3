"""The two database engines the app runs on, and the few places where they differ.

SQLite (a file in the home) is the default for one person; PostgreSQL (a URL) is the
team database several machines share. Everything else (models, queries, operations,
the engine) is written once: raw statements use ``?`` placeholders, which the
PostgreSQL database rewrites, and what cannot be written once lives here:

- opening: SQLite's pragmas and WAL mode; PostgreSQL's login (the password from the
  URL, libpq's ``PGPASSWORD`` / ``.pgpass``, or the keyring) and its redacted label;
- where the schema version is kept (SQLite's ``user_version``; a one-row table);
- the write lock a write transaction takes up front (``BEGIN IMMEDIATE``; a
  transaction-scoped advisory lock), so read-then-write steps stay serialised;
- the integrity check, and inserting a row to learn its id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import peewee as pw

#: what a URL of a team database starts with
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

#: the key of the advisory lock every write transaction takes (any fixed number: it
#: only has to be the same for every client of one database)
WRITE_LOCK_KEY = 0x6D696C74  # "milt"

#: the table that holds the schema version on PostgreSQL (SQLite keeps it in the file)
SCHEMA_TABLE = "milton_schema"


def is_url(target: str | Path) -> bool:
    """Whether ``target`` names a team database (a URL) rather than a file."""
    return isinstance(target, str) and target.lower().startswith(POSTGRES_SCHEMES)


def redacted_url(url: str) -> str:
    """``url`` without its password: what may be shown, logged and remembered."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address goes back in brackets
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def url_password(url: str) -> str | None:
    """The password written in ``url``, if any (to register it with the log filter)."""
    return urlsplit(url).password


class SqliteDatabase(pw.SqliteDatabase):
    """Write transactions start IMMEDIATE: in WAL mode a transaction that reads first
    and writes later fails at once (SQLITE_BUSY, no waiting) when another process
    committed in between; taking the write lock up front makes it wait its turn."""

    def atomic(self, lock_type: str | None = "IMMEDIATE") -> pw._atomic:
        return super().atomic(lock_type=lock_type)


# a ``?`` placeholder outside quoted text and identifiers; quoted parts are matched
# first so the ``?`` or ``%`` inside them is kept as it is
_QMARK_OR_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|%")


def _pyformat(sql: str) -> str:
    """A statement written with ``?`` placeholders, as psycopg wants it (``%s``, and a
    literal ``%`` doubled, inside quotes too: psycopg reads every ``%``)."""

    def swap(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "?":
            return "%s"
        if text == "%":
            return "%%"
        return text.replace("%", "%%")

    return _QMARK_OR_QUOTED.sub(swap, sql)


def load_driver() -> None:
    """Hand psycopg 3 to peewee, as peewee's own import would have.

    ``milton_desktop.storage`` imports peewee with the server drivers reading as absent
    (their probing costs a one-person app ~0.1 s of start-up), so peewee holds None for
    psycopg until a team database is opened here.

    Raises:
        peewee.ImproperlyConfigured: psycopg is not installed.
    """
    if getattr(pw, "psycopg", None) is not None:
        return
    try:
        import psycopg
        from psycopg.pq import TransactionStatus
        from psycopg.types.json import Json, Jsonb
    except ImportError as exc:
        raise pw.ImproperlyConfigured(f"psycopg postgres driver not found ({exc})") from None
    # the names peewee's module binds when it finds the driver at import (peewee 4.5)
    pw.psycopg = psycopg  # type: ignore[attr-defined]
    pw.TransactionStatus = TransactionStatus  # type: ignore[attr-defined]
    pw.Json_pg3 = Json  # type: ignore[attr-defined]
    pw.Jsonb_pg3 = Jsonb  # type: ignore[attr-defined]
    adapter: Any = pw.Psycopg3Adapter
    adapter.txn_idle = TransactionStatus.IDLE
    adapter.txn_inerror = TransactionStatus.INERROR
    adapter.txn_unknown = TransactionStatus.UNKNOWN


class PostgresDatabase(pw.PostgresqlDatabase):
    """PostgreSQL through psycopg 3, speaking the dialect the rest of the code writes.

    Raw statements (``execute_sql``) are written with SQLite's ``?`` placeholders and
    rewritten here; statements peewee builds (``execute``) already use ``%s`` and pass
    through. Every transaction takes one advisory lock first, as SQLite's IMMEDIATE
    does, so two clients never interleave a read-then-write.
    """

    def execute(self, query: Any, **context_options: Any) -> Any:
        ctx = self.get_sql_context(**context_options)
        sql, params = ctx.sql(query).query()
        return self._execute_cursor(  # type: ignore[attr-defined]
            sql, params
        )

    def execute_sql(self, sql: str, params: Any = None) -> Any:
        if "%s" in sql or "%(" in sql:  # peewee's own introspection, already pyformat
            return self._execute_cursor(  # type: ignore[attr-defined]
                sql, params
            )
        return self._execute_cursor(  # type: ignore[attr-defined]
            _pyformat(sql), tuple(params or ())
        )

    #: what SQLite's DEFERRED (read) transactions are here: one snapshot for every
    #: statement, and no write lock, so a read never waits behind a publish
    READ_SNAPSHOT = "REPEATABLE READ READ ONLY"

    def atomic(self, lock_type: str | None = None) -> pw._atomic:
        # lock_type is SQLite's: DEFERRED reads, anything else takes the advisory lock
        if lock_type == "DEFERRED":
            return super().atomic(isolation_level=self.READ_SNAPSHOT)
        return super().atomic()

    def begin(self, isolation_level: Any = None) -> None:
        super().begin(isolation_level)
        if isolation_level == self.READ_SNAPSHOT:
            return
        with pw.__exception_wrapper__:  # type: ignore[attr-defined]  # peewee's error mapping
            self.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))


@dataclass(frozen=True)
class Backend:
    """Which engine a database runs on, and the statements that differ between them."""

    name: str  # "sqlite" | "postgresql"
    #: what messages show: the file, or the URL without its password
    label: str
    #: where this machine keeps what is its own (the engine's locks and journal): the
    #: SQLite file's folder, or the home's data folder in team mode (never a folder
    #: named after the URL)
    local_dir: Path | None = None

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgresql"

    def schema_version(self, db: Any) -> int:
        if not self.is_postgres:
            return int(db.execute_sql("PRAGMA user_version").fetchone()[0])
        (exists,) = db.execute_sql(f"SELECT to_regclass('{SCHEMA_TABLE}') IS NOT NULL").fetchone()
        if not exists:
            return 0
        row = db.execute_sql(f"SELECT version FROM {SCHEMA_TABLE}").fetchone()
        return int(row[0]) if row else 0

    def set_schema_version(self, db: Any, version: int) -> None:
        if not self.is_postgres:
            db.execute_sql(f"PRAGMA user_version = {int(version)}")
            return
        db.execute_sql(f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} (version INTEGER NOT NULL)")
        db.execute_sql(f"DELETE FROM {SCHEMA_TABLE}")
        db.execute_sql(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES (?)", (int(version),))

    def check_integrity(self, db: Any) -> None:
        """SQLite's quick check; PostgreSQL checks its own pages as it reads them."""
        if self.is_postgres:
            return
        row = db.execute_sql("PRAGMA quick_check(1)").fetchone()
        if row and row[0] != "ok":
            raise pw.DatabaseError(f"database disk image is malformed: {row[0]}")

    def insert_id(self, db: Any, sql: str, params: Any) -> int:
        """Run an ``INSERT`` into a table with an ``id`` column; the new row's id."""
        if self.is_postgres:
            return int(db.execute_sql(sql + " RETURNING id", params).fetchone()[0])
        return int(db.execute_sql(sql, params).lastrowid)

    def data_version(self, db: Any) -> int:
        """A number that changes when another connection commits a change.

        SQLite's ``data_version``; on PostgreSQL the next transaction id to be handed
        out, which moves whenever any client writes (a change of another database on
        the same server moves it too: the window then reloads once for nothing).
        """
        if self.is_postgres:
            return int(
                db.execute_sql("SELECT txid_snapshot_xmax(txid_current_snapshot())").fetchone()[0]
            )
        return int(db.execute_sql("PRAGMA data_version").fetchone()[0])

    def group_concat(self, expr: str, separator: str = "','", *, distinct: bool = False) -> str:
        """SQL joining ``expr`` over a group's rows with ``separator`` (an SQL expression)."""
        d = "DISTINCT " if distinct else ""
        if self.is_postgres:
            return f"string_agg({d}({expr})::text, {separator})"
        if distinct:  # SQLite takes no separator with DISTINCT: its own is a comma
            return f"group_concat(DISTINCT {expr})"
        return f"group_concat({expr}, {separator})"

    @property
    def like(self) -> str:
        """The operator matching a pattern regardless of case (SQLite's LIKE does)."""
        return "ILIKE" if self.is_postgres else "LIKE"

    # JSON kept as text: SQLite's JSON1 functions read it as it is, PostgreSQL's need
    # it cast (an empty text is no JSON there: it reads as NULL)

    def json_object(self, *items: str) -> str:
        """SQL building a JSON object from ``'key', value`` items, as text."""
        if self.is_postgres:
            return f"json_build_object({', '.join(items)})::text"
        return f"json_object({', '.join(items)})"

    def json_array(self, *items: str) -> str:
        """SQL building a JSON array, to nest in :meth:`json_object` (not as text)."""
        if self.is_postgres:
            return f"json_build_array({', '.join(items)})"
        return f"json_array({', '.join(items)})"

    def json_nested_object(self, *items: str) -> str:
        """SQL building a JSON object to nest in another (not as text)."""
        if self.is_postgres:
            return f"json_build_object({', '.join(items)})"
        return f"json_object({', '.join(items)})"

    def json_length(self, column: str) -> str:
        """SQL for the length of the JSON array held as text in ``column``."""
        if self.is_postgres:
            return f"json_array_length(NULLIF({column}, '')::json)"
        return f"json_array_length({column})"

    def json_count(self, column: str, key: str, value: str) -> str:
        """SQL counting the objects of the JSON array in ``column`` whose ``key`` is
        ``value`` (both plain words, written into the statement)."""
        if self.is_postgres:
            return (
                f"(SELECT COUNT(*) FROM json_array_elements(NULLIF({column}, '')::json) AS e"
                f" WHERE e ->> '{key}' = '{value}')"
            )
        return (
            f"(SELECT COUNT(*) FROM json_each({column})"
            f" WHERE json_extract(value, '$.{key}') = '{value}')"
        )


SQLITE = Backend("sqlite", "")

_current = SQLITE


def current() -> Backend:
    """The backend of the open database (SQLite before any is opened)."""
    return _current


def use(backend: Backend) -> None:
    global _current
    _current = backend


def dialect(sqlite: str, postgres: str) -> str:
    """One statement in the open database's dialect."""
    return postgres if _current.is_postgres else sqlite
