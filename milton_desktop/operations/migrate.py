"""``migrate-to URL``: move a home's SQLite database and its media to an empty team
database (PostgreSQL), in one transaction, verified before it commits.

Every table is copied in dependency order with its ids kept, each id sequence is set
past the largest id after, and the media files the posts use go into the media table
(by content hash). Then, still inside the transaction, the row counts of every table
and the hash of every stored file are checked against the source; anything wrong rolls
it all back, so the target is either a complete copy or as empty as it was. The local
file is only read: it stays as it was, and this machine keeps its install id (written
to the home's data folder), so the tokens in its keyring still match their accounts.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import peewee as pw

from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.storage import backend, media_store, settings
from milton_desktop.storage.backend import Backend, PostgresDatabase, redacted_url
from milton_desktop.storage.db import BUSY_TIMEOUT_S, SCHEMA_VERSION, explain_error
from milton_desktop.storage.models import ALL_MODELS, MediaBlob

log = logging.getLogger("milton.migrate")

#: rows written per statement batch
_BATCH = 500

#: settings that belong to one machine, not to the team
_LOCAL_SETTINGS = ("_install_id",)


@dataclass
class MigrateReport:
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    media_files: int = 0
    media_bytes: int = 0
    missing_media: list[str] = field(default_factory=list)
    install_id: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "rows": self.rows,
            "media_files": self.media_files,
            "media_bytes": self.media_bytes,
            "missing_media": self.missing_media,
            "next": NEXT_STEP,
        }

    def summary(self) -> str:
        total = sum(self.rows.values())
        text = (
            f"copied {total} rows in {len(self.rows)} tables and {self.media_files} media "
            f"file(s) to {self.target}; checked: every count and hash matches"
        )
        if self.missing_media:
            text += (
                f"; {len(self.missing_media)} media file(s) were already missing from this "
                "home and are not in it"
            )
        return f"{text}\n{NEXT_STEP}"


NEXT_STEP = (
    "next: run with --database URL or set MILTON_DATABASE_URL; reconnect nothing: tokens "
    "stay in this machine's keyring (the local file is unchanged)"
)


def migrate_to(
    url: str,
    source: Path,
    data_dir: Path,
    *,
    after_table: Callable[[str], None] | None = None,
) -> MigrateReport:
    """Copy the SQLite database ``source`` (this home's, at the current schema) and its
    media into the empty team database at ``url``. ``data_dir``: the home's data
    folder, where its install id is kept for team mode. ``after_table`` is called with
    each table's name once it is copied (a test's way to fail midway).

    Raises:
        UserError: the URL is not a team database's, or the target is not empty.
        OperationFailed: the target cannot be reached, or a copy or check failed
            (nothing was written to it).
    """
    if not backend.is_url(url):
        raise UserError(f"{url!r} is not a team database's address: give postgresql://…")
    label = redacted_url(url)
    report = MigrateReport(target=label)
    with contextlib.closing(
        sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    ) as src:
        (version,) = src.execute("PRAGMA user_version").fetchone()
        if version != SCHEMA_VERSION:
            raise OperationFailed(
                f"{source} is at schema {version}, not {SCHEMA_VERSION}: open it once with "
                "this version of Milton Desktop, then migrate"
            )
        # one snapshot of the source for the whole copy
        src.execute("BEGIN")
        install = _source_install_id(src)
        target = PostgresDatabase(url, connect_timeout=BUSY_TIMEOUT_S, prefer_psycopg3=True)
        previous = backend.current()
        backend.use(Backend("postgresql", label, data_dir))
        try:
            with target.bind_ctx(ALL_MODELS):
                _copy(src, target, source, report, after_table)
        except pw.DatabaseError as exc:
            raise OperationFailed(f"nothing was migrated: {explain_error(label, exc)}") from None
        except pw.ImproperlyConfigured as exc:
            raise OperationFailed(
                f"cannot use the team database {label}: {exc} (install psycopg: pip install "
                "'psycopg[binary]')"
            ) from None
        finally:
            backend.use(previous)
            if not target.is_closed():
                target.close()
    if install:
        report.install_id = _keep_install_id(data_dir, install)
    log.info("migrated %s to %s", source, label)
    return report


def _copy(
    src: sqlite3.Connection,
    target: PostgresDatabase,
    source: Path,
    report: MigrateReport,
    after_table: Callable[[str], None] | None,
) -> None:
    on = backend.current()
    target.connect()
    with target.atomic():
        _refuse_non_empty(target, on.label)
        target.create_tables(ALL_MODELS)
        on.set_schema_version(target, SCHEMA_VERSION)
        for model in ALL_MODELS:
            if model is MediaBlob:
                continue  # made from the media files below
            name = model._meta.table_name
            report.rows[name] = _copy_table(src, target, model)
            if after_table is not None:
                after_table(name)
        _copy_media(src, report)
        report.rows[MediaBlob._meta.table_name] = MediaBlob.select().count()
        if after_table is not None:
            after_table(MediaBlob._meta.table_name)
        _set_sequences(target)
        _verify(src, target, report)


def _refuse_non_empty(target: PostgresDatabase, label: str) -> None:
    tables = target.get_tables()
    if tables:
        raise UserError(
            f"the team database {label} is not empty (it has {len(tables)} table(s), e.g. "
            f"{sorted(tables)[0]!r}): migrate into a new, empty database (createdb), or use "
            "this one as it is with --database"
        )


def _copy_table(src: sqlite3.Connection, target: PostgresDatabase, model: type) -> int:
    meta = model._meta  # type: ignore[attr-defined]
    fields = list(meta.sorted_fields)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    flags = [isinstance(f, pw.BooleanField) for f in fields]
    where = ""
    if meta.table_name == "settings":
        where = f" WHERE key NOT IN ({', '.join(repr(k) for k in _LOCAL_SETTINGS)})"
    rows = src.execute(f'SELECT {columns} FROM "{meta.table_name}"{where} ORDER BY 1')
    marks = ", ".join(["%s"] * len(fields))
    sql = f'INSERT INTO "{meta.table_name}" ({columns}) VALUES ({marks})'
    count = 0
    cursor = target.cursor()
    while True:
        batch = rows.fetchmany(_BATCH)
        if not batch:
            break
        cursor.executemany(
            sql,
            [
                tuple(
                    bool(v) if flag and v is not None else v
                    for v, flag in zip(row, flags, strict=True)
                )
                for row in batch
            ],
        )
        count += len(batch)
    return count


def _copy_media(src: sqlite3.Connection, report: MigrateReport) -> None:
    stored = [
        (path, mime)
        for path, mime in src.execute(
            "SELECT path, MIN(mime) FROM media WHERE path IS NOT NULL AND path <> ''"
            " GROUP BY path ORDER BY path"
        )
    ]
    for text, mime in stored:
        path = Path(text)
        sha256 = media_store.sha256_of(path)
        if not path.is_file():
            report.missing_media.append(text)
            continue
        if sha256 is None:  # not a file this app named: its content names it in the table
            sha256 = _file_sha256(path)
        if media_store.put(path, sha256, mime or ""):
            report.media_files += 1
            report.media_bytes += path.stat().st_size


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(media_store.CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _set_sequences(target: PostgresDatabase) -> None:
    for model in ALL_MODELS:
        meta = model._meta
        if not isinstance(meta.primary_key, pw.AutoField):
            continue
        table = meta.table_name
        target.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'),"
            f' COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table}"'
        )


def _verify(src: sqlite3.Connection, target: PostgresDatabase, report: MigrateReport) -> None:
    for name, copied in report.rows.items():
        if name == MediaBlob._meta.table_name:
            continue
        where = ""
        if name == "settings":
            where = f" WHERE key NOT IN ({', '.join(repr(k) for k in _LOCAL_SETTINGS)})"
        (expected,) = src.execute(f'SELECT COUNT(*) FROM "{name}"{where}').fetchone()
        (found,) = target.execute_sql(f'SELECT COUNT(*) FROM "{name}"').fetchone()
        if not expected == copied == found:
            raise OperationFailed(
                f"nothing was migrated: table {name} has {expected} rows here but {found} there"
            )
    hashes = [str(h) for (h,) in target.execute_sql('SELECT DISTINCT sha256 FROM "media_blobs"')]
    for sha256 in hashes:
        digest = hashlib.sha256()
        for (data,) in (
            MediaBlob.select(MediaBlob.data)
            .where(MediaBlob.sha256 == sha256)
            .order_by(MediaBlob.seq)
            .tuples()
            .iterator()
        ):
            digest.update(bytes(data))
        if digest.hexdigest() != sha256:
            raise OperationFailed(
                f"nothing was migrated: the media {sha256[:12]}… read back does not match its hash"
            )


def _source_install_id(src: sqlite3.Connection) -> str | None:
    row = src.execute("SELECT value FROM settings WHERE key = '_install_id'").fetchone()
    if row is None:
        return None
    import json

    value = json.loads(row[0])
    return str(value) if value else None


def _keep_install_id(data_dir: Path, install: str) -> str:
    """This home's install id in team mode: the one its SQLite database had, so its
    keyring entries still match (an id already chosen for team mode is kept)."""
    path = data_dir / settings.INSTALL_ID_FILE
    if not path.exists():
        path.write_text(install + "\n", encoding="ascii")
    return settings.machine_install_id(data_dir)
