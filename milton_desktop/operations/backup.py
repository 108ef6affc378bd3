"""Backups and restores: one zip archive holding the database, the media and a manifest.

What an archive holds:

- ``milton.sqlite3``: a consistent copy of the database, taken with SQLite's online
  backup API (safe while the scheduler publishes; see :mod:`storage.snapshot`);
- ``media/…``: every media file the copy's posts use;
- ``manifest.json``: the app and schema versions, when it was made, and the SHA-256
  and size of every other member.

No token is in it: tokens live in the keyring, never in the database. An archive is
written under a temporary name and renamed once complete, so a failed backup never
leaves half an archive under the name asked for.

A restore checks the whole archive against its manifest before it touches anything,
stages the database beside the live one, verifies it (``integrity_check``), migrates
an older schema, turns rows that were being published when the backup was taken into
``uncertain``, and only then replaces the live database in one transaction. The old
database is kept beside it, and the accounts whose tokens this keyring lacks are named.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO, Any

from milton_desktop import APP_NAME, __version__
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.domain.status import AccountStatus, AttemptOutcome, Status
from milton_desktop.domain.timeutil import iso_z
from milton_desktop.storage import backend, settings, snapshot
from milton_desktop.storage.db import SCHEMA_VERSION
from milton_desktop.storage.models import database, utc_text

log = logging.getLogger("milton.backup")

FORMAT = "milton-desktop-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBER = "milton.sqlite3"
MEDIA_PREFIX = "media/"

#: automatic backups are named ``milton-backup-20260310T093000Z.zip``
AUTO_PREFIX = "milton-backup-"
AUTO_SUFFIX = ".zip"
_AUTO_NAME = re.compile(r"^milton-backup-(\d{8}T\d{6}Z)\.zip$")
_AUTO_STAMP = "%Y%m%dT%H%M%SZ"
#: how often the automatic backup runs; a few minutes early still counts as a day
AUTO_EVERY = timedelta(days=1)
_AUTO_SLACK = timedelta(minutes=10)
#: a temporary archive this old was left by a process that stopped mid-way
_STALE_PARTIAL = timedelta(hours=6)

_CHUNK = 1 << 20
#: media formats that are compressed already: stored as they are, not deflated again
_STORED_EXT = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".mov", ".pdf"}

#: progress(done, total, what): bytes handled so far, of how many, and the step
Progress = Callable[[int, int, str], None]
#: why a restore must wait (a scheduler publishing on this home), or None when it may go
QuietCheck = Callable[[], "str | None"]


class BackupError(UserError):
    """An archive that cannot be used, or a backup that cannot be written."""


def refuse_team_database(what: str = "backed up") -> None:
    """Backups copy a home's own SQLite file; a team database is its server's to keep.

    Raises:
        BackupError: the open database is a team database.
    """
    on = backend.current()
    if on.is_postgres:
        raise BackupError(
            f"a team database is {what} by its server, not by Milton Desktop: use "
            f"pg_dump (e.g. `pg_dump -Fc -f milton.dump '{on.label}'`) and pg_restore, or "
            "ask its administrator; the media are in the database too"
        )


class HomeNotEmpty(UserError):
    """The home already holds posts or accounts, which a restore would replace."""


class BackupCancelled(RuntimeError):
    """The backup was asked to stop (the app is quitting); nothing was left behind."""


@dataclass(frozen=True)
class Home:
    """Where a data folder keeps its database and its media."""

    db_path: Path
    media_dir: Path

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    @classmethod
    def of(cls, paths: Any) -> Home:
        """The home of a :class:`milton_desktop.paths.Paths`."""
        return cls(Path(paths.db_path), Path(paths.media_dir))


# ---------------------------------------------------------------- backing up


@dataclass
class Snapshot:
    """A copy of the database taken at one instant, and the media it refers to."""

    home: Home
    work_dir: Path
    db_copy: Path
    created_at: datetime
    schema_version: int
    #: (file on disk, member name) of every media file to archive
    media: list[tuple[Path, str]]
    #: stored path in the database -> member name, so a restore can point at the new place
    media_paths: dict[str, str]
    missing_media: list[str]
    rows: dict[str, int]

    def discard(self) -> None:
        shutil.rmtree(self.work_dir, ignore_errors=True)


@dataclass
class BackupReport:
    path: Path
    created_at: datetime
    bytes: int
    media_files: int
    rows: dict[str, int]
    missing_media: list[str] = field(default_factory=list)
    pruned: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        posts = self.rows.get("posts", 0)
        schedules = self.rows.get("scheduled_posts", 0)
        text = (
            f"backed up {posts} post{'s' if posts != 1 else ''}, {schedules} "
            f"schedule{'s' if schedules != 1 else ''} and {self.media_files} media "
            f"file{'s' if self.media_files != 1 else ''} to {self.path} "
            f"({_size(self.bytes)})"
        )
        if self.missing_media:
            text += (
                f"; {len(self.missing_media)} media file(s) were already missing from "
                "the media folder and are not in it"
            )
        return text


def take_snapshot(
    home: Home, *, clock: Clock | None = None, work_dir: Path | None = None
) -> Snapshot:
    """Copy the database now (a fraction of a second even at 100 000 posts) and list
    the media its posts use. The archive is written later by :func:`write_archive`.

    Raises:
        OperationFailed: the copy could not be made (disk full, database busy).
    """
    refuse_team_database()
    clock = clock or SystemClock()
    base = work_dir or home.data_dir
    try:
        work = Path(tempfile.mkdtemp(prefix=".backup-", dir=base))
    except OSError as exc:
        raise OperationFailed(f"cannot prepare the backup in {base}: {exc.strerror}") from None
    copy = work / DB_MEMBER
    try:
        created = clock.now()
        snapshot.copy_database(home.db_path, copy)
        version = snapshot.schema_version(copy)
        rows = snapshot.row_counts(copy)
        with contextlib.closing(sqlite3.connect(str(copy))) as conn:
            stored = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT path FROM media WHERE path IS NOT NULL AND path <> ''"
                    " ORDER BY path"
                )
            ]
    except (OSError, sqlite3.Error) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise OperationFailed(f"could not copy the database {home.db_path}: {exc}") from None
    media: list[tuple[Path, str]] = []
    paths: dict[str, str] = {}
    missing: list[str] = []
    used: set[str] = set()
    for text in stored:
        source = Path(text)
        if not source.is_file():
            missing.append(text)
            continue
        name = source.name
        if name in used:  # two folders holding files of one name: keep both
            name = f"{len(used)}-{name}"
        used.add(name)
        member = MEDIA_PREFIX + name
        media.append((source, member))
        paths[text] = member
    return Snapshot(home, work, copy, created, version, media, paths, missing, rows)


def write_archive(
    snap: Snapshot,
    target: Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BackupReport:
    """Write the archive of ``snap`` to ``target`` (temporary name, then rename).

    Raises:
        BackupError: ``target`` cannot be written (the message says why).
        BackupCancelled: ``cancel`` was set; nothing is left under any name.
    """
    target = Path(target).expanduser().absolute()
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the name of the archive to write")
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".partial")
    except OSError as exc:
        raise BackupError(f"cannot write in {folder}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    members: dict[str, dict[str, Any]] = {}
    sources = [(snap.db_copy, DB_MEMBER), *snap.media]
    total = sum(_size_of(path) for path, _member in sources)
    done = 0

    def step(n: int, what: str) -> None:
        nonlocal done
        if cancel is not None and cancel.is_set():
            raise BackupCancelled("the backup was stopped")
        done += n
        if progress is not None:
            progress(min(done, total), total, what)

    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", allowZip64=True) as zf:
                for path, member in sources:
                    what = "the database" if member == DB_MEMBER else Path(member).name
                    try:
                        members[member] = _add(zf, path, member, snap.created_at, step, what)
                    except FileNotFoundError:
                        # removed since the snapshot (the post was deleted): not needed
                        snap.missing_media.append(str(path))
                        snap.media_paths = {
                            k: v for k, v in snap.media_paths.items() if v != member
                        }
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "app": APP_NAME,
                    "app_version": __version__,
                    "schema_version": snap.schema_version,
                    "created_at": iso_z(snap.created_at),
                    "media_folder": str(snap.home.media_dir),
                    "media_paths": snap.media_paths,
                    "missing_media": snap.missing_media,
                    "rows": snap.rows,
                    "members": members,
                }
                info = zipfile.ZipInfo(MANIFEST, date_time=_zip_time(snap.created_at))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, json.dumps(manifest, ensure_ascii=False, indent=1))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"could not write the backup {target}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    size = target.stat().st_size
    report = BackupReport(
        target,
        snap.created_at,
        size,
        len([m for m in members if m.startswith(MEDIA_PREFIX)]),
        snap.rows,
        list(snap.missing_media),
    )
    log.info("%s", report.summary())
    return report


def create_backup(
    target: Path,
    home: Home,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
    cancel: threading.Event | None = None,
) -> BackupReport:
    """Write one archive of the whole home to ``target``."""
    snap = take_snapshot(home, clock=clock)
    try:
        return write_archive(snap, target, progress=progress, cancel=cancel)
    finally:
        snap.discard()


def _add(
    zf: zipfile.ZipFile,
    path: Path,
    member: str,
    when: datetime,
    step: Callable[[int, str], None],
    what: str,
) -> dict[str, Any]:
    """Copy one file into the archive, hashing what is written (it is read once)."""
    info = zipfile.ZipInfo(member, date_time=_zip_time(when))
    stored = Path(member).suffix.lower() in _STORED_EXT
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as src, zf.open(info, "w", force_zip64=True) as dst:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
            step(len(chunk), what)
    return {"sha256": digest.hexdigest(), "bytes": size}


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    t = when.astimezone(UTC)
    return (max(t.year, 1980), t.month, t.day, t.hour, t.minute, t.second)


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    if n < 1024**3:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024**3:.2f} GB"


# ---------------------------------------------------------------- checking an archive


@dataclass(frozen=True)
class ArchiveInfo:
    """An archive whose every member matched its manifest."""

    path: Path
    app_version: str
    schema_version: int
    created_at: datetime | None
    members: dict[str, dict[str, Any]]
    media_paths: dict[str, str]
    rows: dict[str, int]

    @property
    def media_members(self) -> list[str]:
        return sorted(m for m in self.members if m.startswith(MEDIA_PREFIX))


def verify_archive(path: Path, *, progress: Progress | None = None) -> ArchiveInfo:
    """Check ``path`` against its manifest: every member present, none extra, every
    checksum and size right, a schema this version can read. Reads the whole file.

    Raises:
        BackupError: what is wrong with it; nothing has been touched.
    """
    path = Path(path).expanduser().absolute()
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    damaged = f"the backup {path} is damaged or was changed"
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = _manifest(zf, path)
            members: dict[str, dict[str, Any]] = manifest["members"]
            names = [i.filename for i in zf.infolist()]
            if len(names) != len(set(names)):
                raise BackupError(f"{damaged}: it names a member twice")
            for name in names:
                if not _safe_member(name):
                    raise BackupError(f"{damaged}: it holds an unexpected file {name!r}")
            present = set(names) - {MANIFEST}
            if present != set(members):
                extra = sorted(present - set(members))
                lost = sorted(set(members) - present)
                which = (
                    f"{extra[0]!r} is not in its manifest" if extra else f"{lost[0]!r} is missing"
                )
                raise BackupError(f"{damaged}: {which}")
            if DB_MEMBER not in members:
                raise BackupError(f"{damaged}: it holds no database")
            total = sum(int(m.get("bytes", 0)) for m in members.values())
            done = 0
            for name in sorted(members, key=lambda n: n != DB_MEMBER):
                digest = hashlib.sha256()
                size = 0
                with zf.open(name) as fh:
                    for chunk in _chunks(fh):
                        digest.update(chunk)
                        size += len(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(min(done, total), total, "checking the backup")
                want = members[name]
                if digest.hexdigest() != want.get("sha256") or size != want.get("bytes"):
                    raise BackupError(f"{damaged}: {name} does not match its checksum")
    except zipfile.BadZipFile as exc:
        raise BackupError(f"{damaged}: {exc}") from None
    except OSError as exc:
        raise BackupError(f"cannot read the backup {path}: {exc.strerror or exc}") from None
    created = manifest.get("created_at")
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
    except (AttributeError, ValueError):
        when = None
    return ArchiveInfo(
        path,
        str(manifest.get("app_version", "?")),
        int(manifest["schema_version"]),
        when,
        members,
        {str(k): str(v) for k, v in (manifest.get("media_paths") or {}).items()},
        {str(k): int(v) for k, v in (manifest.get("rows") or {}).items()},
    )


def _manifest(zf: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    not_ours = f"{path} is not a {APP_NAME} backup"
    try:
        raw = zf.read(MANIFEST)
    except KeyError:
        raise BackupError(f"{not_ours} (it has no {MANIFEST})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BackupError(
            f"the backup {path} is damaged or was changed: its manifest cannot be read"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(not_ours)
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"{path} was written by a newer {APP_NAME} (backup format {version!r}): "
            "update the app to restore it"
        )
    members = data.get("members")
    schema = data.get("schema_version")
    if (
        not isinstance(members, dict)
        or not all(isinstance(v, dict) for v in members.values())
        or not isinstance(schema, int)
    ):
        raise BackupError(
            f"the backup {path} is damaged or was changed: its manifest is incomplete"
        )
    if schema > SCHEMA_VERSION:
        raise BackupError(
            f"{path} was made by a newer {APP_NAME} ({data.get('app_version', '?')}, schema "
            f"{schema}; this one reads up to {SCHEMA_VERSION}): update the app to restore it"
        )
    return data


def _safe_member(name: str) -> bool:
    """A member name that stays inside the archive's own layout (no ``..``, no root)."""
    if name in (MANIFEST, DB_MEMBER):
        return True
    if not name.startswith(MEDIA_PREFIX) or "\\" in name or "\x00" in name:
        return False
    rest = PurePosixPath(name[len(MEDIA_PREFIX) :])
    return (
        len(rest.parts) == 1 and rest.name not in ("", ".", "..") and not rest.name.startswith(".")
    )


# ---------------------------------------------------------------- restoring


@dataclass
class RestoreReport:
    archive: ArchiveInfo
    rows: dict[str, int]
    migrated_from: int
    #: schedules that were being published when the backup was taken: now uncertain
    uncertain: list[int]
    media_files: int
    #: the database this restore replaced, kept beside the new one (None: it was empty)
    previous: Path | None
    #: accounts whose token this keyring does not have: "reconnect these"
    reconnect: list[str]
    #: the keyring could not be read, so the tokens could not be checked
    keyring_problem: str | None = None

    def summary(self) -> str:
        posts = self.rows.get("posts", 0)
        schedules = self.rows.get("scheduled_posts", 0)
        accounts = self.rows.get("accounts", 0)
        made = self.archive.created_at
        when = f" of {iso_z(made)}" if made else ""
        lines = [
            f"restored the backup{when}: {posts} post{'s' if posts != 1 else ''}, "
            f"{schedules} schedule{'s' if schedules != 1 else ''}, {accounts} "
            f"account{'s' if accounts != 1 else ''} and {self.media_files} media "
            f"file{'s' if self.media_files != 1 else ''}"
        ]
        if self.migrated_from != SCHEMA_VERSION:
            lines.append(
                f"its database was brought from schema {self.migrated_from} to {SCHEMA_VERSION}"
            )
        if self.previous is not None:
            lines.append(f"the database it replaced is kept as {self.previous}")
        if self.uncertain:
            ids = ", ".join(str(i) for i in self.uncertain)
            lines.append(
                f"being published when the backup was taken, so now uncertain (check them "
                f"on the platform): schedule {ids}"
            )
        if self.keyring_problem:
            lines.append(f"could not check the tokens: {self.keyring_problem}")
        elif self.reconnect:
            lines.append(
                f"reconnect these (this keyring has no token for them): {', '.join(self.reconnect)}"
            )
        return "\n".join(lines)


def home_contents() -> tuple[int, int]:
    """(posts, accounts) the open database holds."""
    posts = database.execute_sql("SELECT COUNT(*) FROM posts").fetchone()[0]
    accounts = database.execute_sql("SELECT COUNT(*) FROM accounts").fetchone()[0]
    return int(posts), int(accounts)


def restore_backup(
    archive: Path,
    home: Home,
    credentials: Any,
    *,
    force: bool = False,
    quiet: QuietCheck | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> RestoreReport:
    """Replace the home's database and add its media from the archive at ``archive``.

    Args:
        credentials: the :class:`~milton_desktop.storage.credentials.CredentialStore`
            of this process; it follows the restored database's install id.
        force: replace a home that already holds posts or accounts.
        quiet: asked before anything is changed and again just before the swap; a
            reason it returns (a scheduler publishing here) refuses the restore.

    Raises:
        BackupError: the archive is damaged, changed, or from a newer version.
        HomeNotEmpty: the home holds posts or accounts and ``force`` is not set.
        OperationFailed: a scheduler is publishing here, or the disk refused a write.
    """
    refuse_team_database("restored")
    clock = clock or SystemClock()
    info = verify_archive(archive, progress=progress)
    posts, accounts = home_contents()
    if (posts or accounts) and not force:
        raise HomeNotEmpty(
            f"this home already holds {posts} post{'s' if posts != 1 else ''} and "
            f"{accounts} account{'s' if accounts != 1 else ''}: restoring would replace "
            "them (the database is kept beside the restored one)"
        )
    _check_quiet(quiet)
    try:
        work = Path(tempfile.mkdtemp(prefix=".restore-", dir=home.data_dir))
    except OSError as exc:
        raise OperationFailed(
            f"cannot prepare the restore in {home.data_dir}: {exc.strerror}"
        ) from None
    try:
        staged = work / DB_MEMBER
        _extract(info, DB_MEMBER, staged)
        problems = snapshot.integrity_problems(staged)
        if problems:
            raise BackupError(
                f"the database in {info.path} is damaged ({problems[0]}): nothing was restored"
            )
        try:
            old_version = snapshot.migrate(staged)
        except snapshot.SnapshotError as exc:
            raise BackupError(f"cannot restore {info.path}: {exc}") from None
        except sqlite3.Error as exc:
            raise BackupError(
                f"cannot bring the database in {info.path} to this version's schema: {exc}"
            ) from None
        uncertain = _settle_staged(staged, info, home, clock.now())
        problems = snapshot.integrity_problems(staged)
        if problems:  # pragma: no cover - a fault of this code, not of the archive
            raise BackupError(f"the restored database failed its check ({problems[0]})")
        media = _restore_media(info, home.media_dir, progress)
        previous = None
        if posts or accounts:
            stamp = clock.now().strftime(_AUTO_STAMP)
            previous = home.data_dir / f"{home.db_path.name}.before-restore-{stamp}"
            previous.unlink(missing_ok=True)
            snapshot.copy_database(home.db_path, previous)
        _check_quiet(quiet)
        try:
            snapshot.install(staged, home.db_path)
        except sqlite3.Error as exc:
            raise OperationFailed(
                f"could not replace the database {home.db_path} ({exc}); it is unchanged"
            ) from None
    except OSError as exc:
        raise OperationFailed(
            f"the restore stopped: {exc.strerror or exc}; the database is unchanged"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("restored %s (schema %s) into %s", info.path, old_version, home.db_path)
    rows = snapshot.row_counts(home.db_path)
    reconnect, problem = _missing_tokens(credentials)
    return RestoreReport(info, rows, old_version, uncertain, media, previous, reconnect, problem)


def _check_quiet(quiet: QuietCheck | None) -> None:
    reason = quiet() if quiet is not None else None
    if reason:
        raise OperationFailed(f"cannot restore now: {reason}")


def _extract(info: ArchiveInfo, member: str, target: Path) -> None:
    """Copy a member out, checking its checksum again: the file may have changed since."""
    digest = hashlib.sha256()
    with zipfile.ZipFile(info.path) as zf, zf.open(member) as src, target.open("xb") as dst:
        for chunk in iter(lambda: src.read(_CHUNK), b""):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if digest.hexdigest() != info.members[member]["sha256"]:
        raise BackupError(f"the backup {info.path} changed while it was being restored")


def _settle_staged(staged: Path, info: ArchiveInfo, home: Home, now: datetime) -> list[int]:
    """Make the staged copy right for this home before it goes live: rows caught
    mid-publish become uncertain, media point at this home's folder, and the copied
    scheduler's heartbeat is forgotten."""
    stamp = utc_text(now)
    with snapshot.writable(staged) as conn:
        caught = conn.execute(
            "SELECT s.id, s.attempts, s.updated_at, a.platform FROM scheduled_posts s"
            " JOIN accounts a ON a.id = s.account_id WHERE s.status = ? ORDER BY s.id",
            (Status.PUBLISHING.value,),
        ).fetchall()
        for sid, attempts, claimed_at, platform in caught:
            message = (
                "it was being published when the backup was taken, so it may be online: "
                f"check the account on {platform}, then say whether it went out"
            )
            conn.execute(
                "UPDATE scheduled_posts SET status = ?, claimed_by = NULL, error_message = ?,"
                " updated_at = ? WHERE id = ?",
                (Status.UNCERTAIN.value, message, stamp, sid),
            )
            conn.execute(
                "INSERT INTO publishing_results (schedule_id, attempt, started_at, finished_at,"
                " outcome, error_kind, error_message, lateness_ms, part)"
                " VALUES (?, ?, ?, ?, ?, 'restored', ?, 0, 0)",
                (
                    sid,
                    attempts or 0,
                    claimed_at or stamp,
                    stamp,
                    AttemptOutcome.UNCERTAIN.value,
                    message,
                ),
            )
        for stored, member in info.media_paths.items():
            if member in info.members:
                target = str(home.media_dir / PurePosixPath(member).name)
                conn.execute("UPDATE media SET path = ? WHERE path = ?", (target, stored))
        conn.execute("DELETE FROM settings WHERE key = '_heartbeat'")
    return [int(row[0]) for row in caught]


def _restore_media(info: ArchiveInfo, media_dir: Path, progress: Progress | None) -> int:
    """Copy the archive's media into the media folder; a file already there with the
    same content stays as it is (they are named by their content)."""
    names = info.media_members
    if not names:
        return 0
    media_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    total = sum(int(info.members[n]["bytes"]) for n in names)
    done = 0
    with zipfile.ZipFile(info.path) as zf:
        for member in names:
            want = info.members[member]
            target = media_dir / PurePosixPath(member).name
            if target.is_file() and _sha256(target) == want["sha256"]:
                done += int(want["bytes"])
                continue
            fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".restore-")
            try:
                digest = hashlib.sha256()
                with zf.open(member) as src, os.fdopen(fd, "wb") as dst:
                    for chunk in _chunks(src):
                        digest.update(chunk)
                        dst.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(min(done, total), total, "restoring the media")
                if digest.hexdigest() != want["sha256"]:
                    raise BackupError(f"the backup {info.path} changed while it was being restored")
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    return len(names)


def _chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _missing_tokens(credentials: Any) -> tuple[list[str], str | None]:
    """Follow the restored install id, then name the accounts this keyring has no token for."""
    from milton_desktop.storage.credentials import CredentialMissing, KeyringUnavailable

    if credentials is None:
        return [], None
    credentials.install_id = settings.install_id()
    credentials.forget()
    rows = database.execute_sql(
        "SELECT id, platform, display_name FROM accounts WHERE status <> ? ORDER BY display_name",
        (AccountStatus.REMOVED.value,),
    ).fetchall()
    missing = []
    for account_id, platform, name in rows:
        try:
            credentials.load(platform, account_id, cached=False)
        except CredentialMissing:
            missing.append(name)
        except KeyringUnavailable as exc:
            return [r[2] for r in rows], str(exc)
    return missing, None


# ---------------------------------------------------------------- automatic backups


def auto_folder(home: Home) -> Path:
    """Where the automatic backups go: the setting, or ``backups/`` in the data folder."""
    chosen = str(settings.get("auto_backup_folder") or "").strip()
    return Path(chosen).expanduser() if chosen else home.data_dir / "backups"


def auto_name(when: datetime) -> str:
    return f"{AUTO_PREFIX}{when.astimezone(UTC).strftime(_AUTO_STAMP)}{AUTO_SUFFIX}"


def automatic_backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The automatic backups in ``folder``, oldest first (other files are not ours)."""
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        m = _AUTO_NAME.match(entry.name)
        if m and entry.is_file():
            when = datetime.strptime(m.group(1), _AUTO_STAMP).replace(tzinfo=UTC)
            found.append((when, entry))
    return sorted(found)


def auto_backup_due(home: Home, now: datetime) -> bool:
    """Whether the automatic backup is on and the newest one is a day old (or none)."""
    if not settings.get("auto_backup"):
        return False
    made = automatic_backups(auto_folder(home))
    return not made or now - made[-1][0] >= AUTO_EVERY - _AUTO_SLACK


def prune(folder: Path, keep: int, *, now: datetime | None = None) -> list[Path]:
    """Remove all but the newest ``keep`` automatic backups (and stale temporary
    archives a stopped backup left); returns what was removed."""
    removed = []
    made = automatic_backups(folder)
    for _when, path in made[: max(0, len(made) - max(1, keep))]:
        try:
            path.unlink()
            removed.append(path)
        except OSError as exc:
            log.warning("could not remove the old backup %s: %s", path, exc)
    now = now or datetime.now(UTC)
    with contextlib.suppress(OSError):
        for entry in folder.glob(f".{AUTO_PREFIX}*.partial"):
            age = now - datetime.fromtimestamp(entry.stat().st_mtime, UTC)
            if age > _STALE_PARTIAL:
                entry.unlink(missing_ok=True)
    return removed


def finish_automatic(
    snap: Snapshot,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> BackupReport:
    """Write ``snap`` into the automatic backups' folder and prune it to the kept count."""
    folder = auto_folder(snap.home)
    try:
        report = write_archive(
            snap, folder / auto_name(snap.created_at), progress=progress, cancel=cancel
        )
    finally:
        snap.discard()
    report.pruned = prune(folder, int(settings.get("auto_backup_keep")), now=snap.created_at)
    return report


def back_up_now(
    home: Home,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
    cancel: threading.Event | None = None,
) -> BackupReport:
    """An automatic backup, now (Settings ▸ "Back up now")."""
    return finish_automatic(take_snapshot(home, clock=clock), progress=progress, cancel=cancel)


@dataclass(frozen=True)
class BackupState:
    """What the settings show about the automatic backups."""

    enabled: bool
    keep: int
    folder: Path
    custom_folder: bool
    count: int
    newest: datetime | None
    total_bytes: int


def backup_state(home: Home) -> BackupState:
    folder = auto_folder(home)
    made = automatic_backups(folder)
    return BackupState(
        enabled=bool(settings.get("auto_backup")),
        keep=int(settings.get("auto_backup_keep")),
        folder=folder,
        custom_folder=bool(str(settings.get("auto_backup_folder") or "").strip()),
        count=len(made),
        newest=made[-1][0] if made else None,
        total_bytes=sum(_size_of(p) for _w, p in made),
    )


#: the kept count's bounds: one day at least, about a year at most
KEEP_RANGE = (1, 366)


def set_backup_settings(enabled: bool, keep: int, folder: str) -> None:
    """Save the automatic backup's settings, checked first.

    Raises:
        UserError: a count out of range, or a folder that cannot be made or written.
    """
    if enabled:
        refuse_team_database()
    low, high = KEEP_RANGE
    if not low <= int(keep) <= high:
        raise UserError(f"keep between {low} and {high} automatic backups, not {keep}")
    text = folder.strip()
    if text:
        chosen = Path(text).expanduser()
        if not chosen.is_absolute():
            raise UserError(f"{text!r} is not a full path: choose the folder for the backups")
        try:
            chosen.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot use {chosen} for the backups: {exc.strerror}") from None
        if not os.access(chosen, os.W_OK):
            raise UserError(f"cannot write in {chosen}: choose a folder of yours for the backups")
    with database.atomic():
        settings.set_value("auto_backup", bool(enabled))
        settings.set_value("auto_backup_keep", int(keep))
        settings.set_value("auto_backup_folder", text)


def human_size(n: int) -> str:
    return _size(n)


def read_archive_info(path: Path) -> dict[str, Any]:
    """The manifest's summary of an archive without checking every byte (for a picker)."""
    with zipfile.ZipFile(path) as zf:
        manifest = _manifest(zf, Path(path))
    return {
        "created_at": manifest.get("created_at"),
        "app_version": manifest.get("app_version"),
        "schema_version": manifest.get("schema_version"),
        "rows": manifest.get("rows") or {},
    }
