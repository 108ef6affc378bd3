"""Exports: the schedule as CSV (the importer's columns), JSON (everything) or .ics.

Rows are read in chunks from one read transaction and written as they come, so an
export of 100 000 schedules holds a chunk in memory, never the whole list, and sees
one consistent state however long it takes while the scheduler writes.

A file export is written under a temporary name and renamed when complete: a failed
export never leaves half a file under the name asked for. A CSV written to a file
takes its media along, copied into ``<stem>-media/`` beside it, and names them
relative to the CSV's folder: the CSV and that folder import unchanged elsewhere.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from milton_desktop import APP_NAME, __version__
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.domain.exporting import (
    FORMATS,
    JSON_FORMAT_VERSION,
    ExportFilter,
    MediaCell,
    csv_header,
    csv_row,
    first_words,
)
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import iso_z
from milton_desktop.publishers import catalogue
from milton_desktop.storage import backend, media_store, settings
from milton_desktop.storage.models import ScheduledPost, database, utc_text

log = logging.getLogger("milton.export")

#: schedules read (and their media and results looked up) per query
CHUNK = 500
#: how long a calendar event lasts: a post is an instant, a calendar wants a span
EVENT_MINUTES = 15

#: progress(done, total): rows written so far out of those the export holds
Progress = Callable[[int, int], None]

_parse = ScheduledPost.scheduled_time.python_value


@dataclass
class ExportReport:
    """What an export wrote."""

    format: str
    schedules: int = 0
    drafts: int = 0
    path: Path | None = None
    media_folder: Path | None = None
    media_copied: int = 0
    #: what the file leaves out or could not take, in plain words
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        what = f"{self.schedules} scheduled post{'s' if self.schedules != 1 else ''}"
        if self.format != "ics" and (self.drafts or not self.schedules):
            what += f" and {self.drafts} draft{'s' if self.drafts != 1 else ''}"
        where = f" to {self.path}" if self.path else ""
        media = (
            f", {self.media_copied} media file{'s' if self.media_copied != 1 else ''} "
            f"in {self.media_folder}"
            if self.media_folder and self.media_copied
            else ""
        )
        return f"exported {what}{where}{media}"


def export(
    fmt: str,
    flt: ExportFilter | None = None,
    *,
    out: Path | None = None,
    stream: TextIO | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> ExportReport:
    """Export the schedules (and drafts) ``flt`` selects as ``fmt`` to ``out`` or ``stream``.

    Raises:
        UserError: an unknown format, or a file that cannot be written (the message
            says which and why).
    """
    if fmt not in FORMATS:
        raise UserError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if (out is None) == (stream is None):
        raise ValueError("give either out or stream")
    flt = flt or ExportFilter()
    clock = clock or SystemClock()
    report = ExportReport(fmt)
    if out is None:
        assert stream is not None
        _write(fmt, flt, stream, report, None, progress, clock)
        return report
    out = Path(out).expanduser().absolute()
    if out.is_dir():
        raise UserError(f"{out} is a folder: give the name of the file to write")
    folder = out.parent
    if not folder.is_dir():
        raise UserError(f"cannot write {out}: the folder {folder} does not exist")
    media_folder = folder / f"{out.stem}-media" if fmt == "csv" else None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".partial")
    except OSError as exc:
        raise UserError(f"cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            _write(fmt, flt, fh, report, media_folder, progress, clock)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OperationFailed(f"could not write {out}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    report.path = out
    if report.media_copied:
        report.media_folder = media_folder
    log.info("%s", report.summary())
    return report


def _write(
    fmt: str,
    flt: ExportFilter,
    fh: TextIO,
    report: ExportReport,
    media_folder: Path | None,
    progress: Progress | None,
    clock: Clock,
) -> None:
    # one read transaction: the counts, the rows and their media all see one state
    with database.atomic("DEFERRED"):
        total = _count(flt, fmt)
        counter = _Counter(total, progress)
        if fmt == "csv":
            _csv(flt, fh, report, media_folder, counter)
        elif fmt == "json":
            _json(flt, fh, report, counter, clock)
        else:
            _ics(flt, fh, report, counter, clock)
        counter.finish()


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.done, self.progress = total, 0, progress
        self._told = -1

    def step(self, n: int = 1) -> None:
        self.done += n
        # about every 1 % is enough for a bar, and costs nothing at 100 000 rows
        if self.progress and self.done - self._told >= max(1, self.total // 100):
            self._told = self.done
            self.progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        if self.progress:
            self.progress(self.total, self.total)


# ---------------------------------------------------------------- reading


_SCHEDULE_SQL = (
    "SELECT s.id, s.post_id, a.display_name, a.platform, s.scheduled_time, s.timezone,"
    " s.status, s.attempts, s.next_attempt_at, s.published_at, s.remote_id, s.remote_url,"
    " s.error_message, s.warning, COALESCE(s.text_override, p.body), p.body, p.voice,"
    " p.follow_ups, p.follow_up_delay, s.recurrence_id, r.rrule, r.active, s.created_at,"
    " s.updated_at, s.text_override"
    " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id"
    " JOIN posts p ON p.id = s.post_id LEFT JOIN recurrences r ON r.id = s.recurrence_id"
)

_DRAFT_WHERE = (
    " WHERE NOT EXISTS (SELECT 1 FROM scheduled_posts s"
    f" WHERE s.post_id = p.id AND s.status <> '{Status.CANCELLED}')"
)


@dataclass(frozen=True)
class _Schedule:
    id: int
    post_id: int
    account: str
    platform: str
    scheduled_time: str
    timezone: str
    status: str
    attempts: int
    next_attempt_at: str | None
    published_at: str | None
    remote_id: str | None
    url: str | None
    error: str | None
    warning: str | None
    text: str
    body: str
    voice: str
    follow_ups: str
    follow_up_delay: int
    recurrence_id: int | None
    rrule: str | None
    repeat_active: bool
    created_at: str | None
    updated_at: str | None
    text_override: str | None


def _where(flt: ExportFilter) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if flt.status is not None:
        clauses.append("s.status = ?")
        params.append(flt.status.value)
    if flt.start is not None:
        clauses.append("s.scheduled_time >= ?")
        params.append(utc_text(flt.start))
    if flt.end is not None:
        clauses.append("s.scheduled_time < ?")
        params.append(utc_text(flt.end))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _count(flt: ExportFilter, fmt: str) -> int:
    total = 0
    if flt.schedules:
        where, params = _where(flt)
        total += database.execute_sql(
            "SELECT COUNT(*) FROM scheduled_posts s" + where, params
        ).fetchone()[0]
    if flt.drafts and fmt != "ics":
        total += database.execute_sql("SELECT COUNT(*) FROM posts p" + _DRAFT_WHERE).fetchone()[0]
    return int(total)


def _schedule_chunks(flt: ExportFilter) -> Iterator[list[_Schedule]]:
    if not flt.schedules:
        return
    where, params = _where(flt)
    cursor = database.execute_sql(
        _SCHEDULE_SQL + where + " ORDER BY s.scheduled_time, s.id", params
    )
    while True:
        rows = cursor.fetchmany(CHUNK)
        if not rows:
            return
        yield [_schedule(row) for row in rows]


def _schedule(row: Sequence[Any]) -> _Schedule:
    values = list(row)
    values[21] = bool(values[21])  # the repeat's ``active`` (NULL without a repeat)
    return _Schedule(*values)


@dataclass(frozen=True)
class _Draft:
    id: int
    body: str
    voice: str
    follow_ups: str
    follow_up_delay: int
    created_at: str | None
    updated_at: str | None


def _draft_chunks(flt: ExportFilter) -> Iterator[list[_Draft]]:
    if not flt.drafts:
        return
    cursor = database.execute_sql(
        "SELECT p.id, p.body, p.voice, p.follow_ups, p.follow_up_delay, p.created_at,"
        " p.updated_at FROM posts p" + _DRAFT_WHERE + " ORDER BY p.id"
    )
    while True:
        rows = cursor.fetchmany(CHUNK)
        if not rows:
            return
        yield [_Draft(*row) for row in rows]


@dataclass(frozen=True)
class _Media:
    post_id: int
    part: int
    position: int
    kind: str
    path: str | None
    url: str | None
    mime: str
    bytes: int
    width: int | None
    height: int | None
    alt_text: str
    original_name: str

    def as_json(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "position": self.position,
            "kind": self.kind,
            "path": self.path,
            "url": self.url,
            "mime": self.mime,
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
            "alt_text": self.alt_text,
            "original_name": self.original_name,
        }


def _media_of(post_ids: Sequence[int]) -> dict[int, list[_Media]]:
    found: dict[int, list[_Media]] = {}
    unique = sorted(set(post_ids))
    if not unique:
        return found
    marks = ", ".join("?" * len(unique))
    for row in database.execute_sql(
        "SELECT post_id, part, position, kind, path, url, mime, bytes, width, height,"
        f" alt_text, original_name FROM media WHERE post_id IN ({marks})"
        " ORDER BY post_id, part, position, id",
        unique,
    ):
        item = _Media(*row)
        found.setdefault(item.post_id, []).append(item)
    return found


def _results_of(schedule_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not schedule_ids:
        return found
    marks = ", ".join("?" * len(schedule_ids))
    for (
        sid,
        attempt,
        part,
        outcome,
        started,
        finished,
        http_status,
        kind,
        message,
        remote_id,
        url,
        lateness,
        warning,
        resolution,
    ) in database.execute_sql(
        "SELECT schedule_id, attempt, part, outcome, started_at, finished_at, http_status,"
        " error_kind, error_message, remote_id, remote_url, lateness_ms, warning, resolution"
        f" FROM publishing_results WHERE schedule_id IN ({marks}) ORDER BY schedule_id, id",
        list(schedule_ids),
    ):
        found.setdefault(sid, []).append(
            {
                "attempt": attempt,
                "part": part or 0,
                "outcome": outcome,
                "started_at": _z(started),
                "finished_at": _z(finished),
                "http_status": http_status,
                "error_kind": kind,
                "error": message,
                "remote_id": remote_id,
                "url": url,
                "lateness_ms": lateness,
                "warning": warning,
                "resolution": resolution,
            }
        )
    return found


def _z(stored: str | None) -> str | None:
    return iso_z(_parse(stored)) if stored else None


def _follow_ups(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


# ---------------------------------------------------------------- CSV


def _csv(
    flt: ExportFilter,
    fh: TextIO,
    report: ExportReport,
    media_folder: Path | None,
    counter: _Counter,
) -> None:
    width = _longest_thread(flt)
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow(csv_header(width))
    app_zone = settings.get("timezone") or "UTC"
    copier = _MediaCopier(media_folder)
    repeats_started: set[int] = set()
    follow_up_media = 0
    for chunk in _schedule_chunks(flt):
        media = _media_of([s.post_id for s in chunk])
        for s in chunk:
            counter.step()
            repeat = ""
            if s.recurrence_id is not None and s.repeat_active and s.status == Status.PENDING:
                if s.recurrence_id in repeats_started:
                    # its repeat, given on the series' first row, makes this one again
                    continue
                repeats_started.add(s.recurrence_id)
                repeat = s.rrule or ""
            items = media.get(s.post_id, [])
            follow_up_media += any(m.part for m in items)
            writer.writerow(
                csv_row(
                    text=s.text,
                    account=s.account,
                    at=_parse(s.scheduled_time),
                    tz=s.timezone or app_zone,
                    media=[copier.cell(m) for m in items if not m.part],
                    voice=s.voice,
                    repeat=repeat,
                    follow_ups=_follow_ups(s.follow_ups),
                    width=width,
                )
            )
            report.schedules += 1
    for drafts in _draft_chunks(flt):
        media = _media_of([d.id for d in drafts])
        for d in drafts:
            counter.step()
            items = media.get(d.id, [])
            follow_up_media += any(m.part for m in items)
            writer.writerow(
                csv_row(
                    text=d.body,
                    account="",
                    at=None,
                    tz=app_zone,
                    media=[copier.cell(m) for m in items if not m.part],
                    voice=d.voice,
                    repeat="",
                    follow_ups=_follow_ups(d.follow_ups),
                    width=width,
                )
            )
            report.drafts += 1
    report.media_copied = copier.copied
    if copier.missing:
        report.warnings.append(
            f"{copier.missing} media file(s) are no longer on this computer; "
            "their rows name the path they had"
        )
    if follow_up_media:
        report.warnings.append(
            f"{follow_up_media} post(s) have media on their follow-ups, which the CSV "
            "columns cannot hold: the JSON export keeps them"
        )


def _longest_thread(flt: ExportFilter) -> int:
    """How many follow-up columns the file needs, asked of SQLite before the first row."""
    longest = 0
    if flt.schedules:
        where, params = _where(flt)
        (n,) = database.execute_sql(
            f"SELECT MAX({backend.current().json_length('p.follow_ups')}) FROM scheduled_posts s"
            " JOIN posts p ON p.id = s.post_id" + where,
            params,
        ).fetchone()
        longest = max(longest, n or 0)
    if flt.drafts:
        (n,) = database.execute_sql(
            f"SELECT MAX({backend.current().json_length('p.follow_ups')}) FROM posts p"
            + _DRAFT_WHERE
        ).fetchone()
        longest = max(longest, n or 0)
    return int(longest)


class _MediaCopier:
    """Names a media file in the CSV: copied beside a file export (a relative path),
    or where it is (an absolute path) when the CSV goes to a stream."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.copied = 0
        self.missing = 0
        self._done: dict[str, str] = {}

    def cell(self, m: _Media) -> MediaCell:
        if not m.path:
            return MediaCell(None, m.url, m.alt_text)
        return MediaCell(self._place(m.path), None, m.alt_text)

    def _place(self, path: str) -> str:
        if path in self._done:
            return self._done[path]
        source = media_store.local_path(path)  # a team's file, fetched when not here
        named = str(source)
        if self.folder is not None:
            if source.is_file():
                target = self.folder / source.name
                self._copy(source, target)
                # relative to the CSV's folder, with / on every system
                named = f"{self.folder.name}/{source.name}"
            else:
                self.missing += 1
        elif not source.is_file():
            self.missing += 1
        self._done[path] = named
        return named

    def _copy(self, source: Path, target: Path) -> None:
        try:
            self.folder.mkdir(exist_ok=True)  # type: ignore[union-attr]
            if target.exists() and target.stat().st_size == source.stat().st_size:
                return  # named by their content: the same name holds the same bytes
            tmp = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except OSError as exc:
            raise OperationFailed(
                f"could not copy {source} into {self.folder}: {exc.strerror or exc}"
            ) from None
        self.copied += 1


# ---------------------------------------------------------------- JSON


def _json(
    flt: ExportFilter, fh: TextIO, report: ExportReport, counter: _Counter, clock: Clock
) -> None:
    head = {
        "format": "milton-desktop-export",
        "format_version": JSON_FORMAT_VERSION,
        "app": APP_NAME,
        "app_version": __version__,
        "exported_at": iso_z(clock.now()),
        "timezone": settings.get("timezone") or "UTC",
        "filter": {
            "status": "draft"
            if flt.drafts_only
            else (flt.status.value if flt.status is not None else None),
            "from": iso_z(flt.start),
            "to": iso_z(flt.end),
        },
    }
    # the header's fields, then the two arrays written item by item
    fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "schedules": [')
    first = True
    for chunk in _schedule_chunks(flt):
        media = _media_of([s.post_id for s in chunk])
        results = _results_of([s.id for s in chunk])
        for s in chunk:
            counter.step()
            item = {
                "id": s.id,
                "post_id": s.post_id,
                "account": s.account,
                "platform": s.platform,
                "scheduled_time": _z(s.scheduled_time),
                "timezone": s.timezone,
                "status": s.status,
                "attempts": s.attempts,
                "next_attempt_at": _z(s.next_attempt_at) if s.status == Status.PENDING else None,
                "published_at": _z(s.published_at),
                "remote_id": s.remote_id,
                "url": s.url,
                "error": s.error,
                "warning": s.warning,
                "text": s.text,
                "text_override": s.text_override,
                "created_at": _z(s.created_at),
                "updated_at": _z(s.updated_at),
                "repeat": (
                    {"id": s.recurrence_id, "rrule": s.rrule, "active": s.repeat_active}
                    if s.recurrence_id is not None
                    else None
                ),
                "post": _post_json(
                    s.post_id,
                    s.body,
                    s.voice,
                    s.follow_ups,
                    s.follow_up_delay,
                    media.get(s.post_id, []),
                ),
                "results": results.get(s.id, []),
            }
            fh.write(("" if first else ",\n") + json.dumps(item, ensure_ascii=False))
            first = False
            report.schedules += 1
    fh.write('], "drafts": [')
    first = True
    for drafts in _draft_chunks(flt):
        media = _media_of([d.id for d in drafts])
        for d in drafts:
            counter.step()
            item = _post_json(
                d.id, d.body, d.voice, d.follow_ups, d.follow_up_delay, media.get(d.id, [])
            )
            item["created_at"] = _z(d.created_at)
            item["updated_at"] = _z(d.updated_at)
            fh.write(("" if first else ",\n") + json.dumps(item, ensure_ascii=False))
            first = False
            report.drafts += 1
    fh.write("]}\n")


def _post_json(
    post_id: int,
    body: str,
    voice: str,
    follow_ups: str,
    delay: int,
    media: list[_Media],
) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": body,
        "voice": voice,
        "follow_ups": _follow_ups(follow_ups),
        "follow_up_delay": delay or 0,
        "media": [m.as_json() for m in media],
    }


# ---------------------------------------------------------------- iCalendar


def _ics(
    flt: ExportFilter, fh: TextIO, report: ExportReport, counter: _Counter, clock: Clock
) -> None:
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{APP_NAME}//{__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", APP_NAME)
    # the calendar's own lines, then each event as it is read, then its end
    head = calendar.to_ical().decode("utf-8")
    end = "END:VCALENDAR\r\n"
    fh.write(head[: -len(end)])
    install = settings.install_id()
    stamp = clock.now()
    for chunk in _schedule_chunks(flt):
        for s in chunk:
            counter.step()
            fh.write(_event(s, install, stamp).to_ical().decode("utf-8"))
            report.schedules += 1
    fh.write(end)


_ICS_STATUS = {Status.CANCELLED.value: "CANCELLED"}


def _event(s: _Schedule, install: str, stamp: datetime) -> Any:
    import icalendar

    label = catalogue.label(s.platform)
    start = _parse(s.scheduled_time)
    event = icalendar.Event()
    # the same schedule keeps its UID in every export: a subscribed calendar updates it
    event.add("uid", f"schedule-{s.id}@{install}")
    # when this schedule last changed (RFC 5545 3.8.7.2): calendars notice edits by it
    changed = _parse(s.updated_at) if s.updated_at else None
    event.add("dtstamp", changed or stamp)
    if changed is not None:
        event.add("last-modified", changed)
    event.add("dtstart", start)
    event.add("duration", timedelta(minutes=EVENT_MINUTES))
    event.add("summary", f"{label}: {first_words(s.text)}")
    lines = [s.text, "", f"{label} · {s.account} · {s.status}"]
    if s.url:
        lines.append(s.url)
    if s.error and s.status != Status.PUBLISHED:
        lines.append(s.error)
    event.add("description", "\n".join(lines))
    if s.url:
        event.add("url", s.url)
    event.add("status", _ICS_STATUS.get(s.status, "CONFIRMED"))
    event.add("categories", [label, s.status])
    return event
