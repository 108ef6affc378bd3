"""Importing posts from a CSV file, all or nothing: the window and the command line
both call :func:`plan_import`, show what it found, then :func:`commit_import`.

A plan reads the file and checks every row with the rules of scheduling one post: the
post itself (voice, text, follow-ups, media files and links), its account, its time
(past times and the hour the clocks skip refused, the hour they repeat taken the first
time, as ``schedule --at --tz`` does), the platform's limits, the repeat rule, and a
queue slot for a row with an account and no time. Nothing is written and no file is
copied while planning.

Committing copies the media of the rows to import into the media folder (outside any
transaction: a video takes seconds), then writes every post and schedule in one
transaction, after checking again, under the write lock, what may have changed since
the plan (accounts, slots, duplicates). A failure at any point, a full disk included,
rolls the database back and removes the copies nothing refers to.

A row identical to what the database holds (the same text, account and time as a
schedule; the same text and media as a draft) or to an earlier row of the file is a
duplicate: it is left out, and said so, unless duplicates are allowed, so importing
one file twice creates nothing twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import peewee as pw

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import VOICES, Content, MediaItem
from milton_desktop.domain.csv_rows import RowInput, read_rows
from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.domain.recurrence import check_rule
from milton_desktop.domain.status import AccountStatus, Status
from milton_desktop.domain.timeutil import get_zone, is_ambiguous, iso_z, parse_when
from milton_desktop.operations import approvals, members, posts, queue, repeats, schedules
from milton_desktop.publishers import registry
from milton_desktop.storage import backend
from milton_desktop.storage import media as media_mod
from milton_desktop.storage.models import (
    Account,
    Media,
    Post,
    Recurrence,
    ScheduledPost,
    database,
    utc_text,
)

log = logging.getLogger("milton.import")

#: how many rows are checked between two progress reports
PROGRESS_EVERY = 200
#: values per ``IN (...)`` list (SQLite takes 32 766 since 3.32; older builds 999)
_CHUNK = 900

#: progress(done, total): rows checked so far
Progress = Callable[[int, int], None]

_STATUSES_THAT_COUNT = [s.value for s in Status if s != Status.CANCELLED]
_QUEUED_LIVE = [Status.PENDING.value, Status.PUBLISHING.value, Status.AWAITING_APPROVAL.value]


#: what an import's undo may delete: nothing of these was tried
_REMOVABLE = [
    Status.PENDING.value,
    Status.MISSED.value,
    Status.CANCELLED.value,
    Status.AWAITING_APPROVAL.value,
]


class ImportRefused(UserError):
    """Rows that cannot be imported; nothing was. ``lines`` holds one ``row N: why`` each."""

    def __init__(self, lines: Sequence[str]) -> None:
        count = len(lines)
        super().__init__(
            f"{count} row{'s' if count != 1 else ''} cannot be imported, so nothing was: "
            + "; ".join(lines[:3])
            + ("; …" if count > 3 else "")
        )
        self.lines = tuple(lines)


@dataclass(frozen=True)
class PlannedMedia:
    """One attachment of a row: a checked local file or a public link."""

    alt_text: str
    #: the file as the row names it, resolved against the CSV's folder
    source: Path | None = None
    info: media_mod.MediaInfo | None = None
    url: str | None = None
    kind: str = ""
    mime: str = ""

    @property
    def name(self) -> str:
        if self.source is not None:
            return self.source.name
        return (self.url or "").rsplit("/", 1)[-1][:200]

    @property
    def key(self) -> str:
        """What makes two attachments the same: the file's content, or the link."""
        return self.info.sha256 if self.info is not None else f"url:{self.url}"

    def item(self) -> MediaItem:
        """What validation sees of it (a file is checked where it is, before its copy)."""
        info = self.info
        return MediaItem(
            kind=info.kind if info else self.kind,
            mime=info.mime if info else self.mime,
            path=self.source,
            url=self.url,
            alt_text=self.alt_text,
            size=info.size if info else 0,
            width=info.width if info else None,
            height=info.height if info else None,
            name=self.name,
        )


@dataclass(frozen=True)
class PlannedRow:
    """One row of the file, checked: what it would create, or why it cannot."""

    row: int
    text: str
    voice: str = "personal"
    follow_ups: tuple[str, ...] = ()
    media: tuple[PlannedMedia, ...] = ()
    #: the account as the row names it ("" for a draft)
    account: str = ""
    account_id: int | None = None
    platform: str | None = None
    #: the UTC instant it goes out at; None for a draft (and, until the plan finds
    #: its slot, for a row that takes the account's next queue slot)
    at: datetime | None = None
    #: the zone it is scheduled in (and shown in)
    zone: str = "UTC"
    #: its time is the account's next free queue slot
    queued: bool = False
    repeat: str = ""
    #: the time as the row wrote it, kept for the checks made with the account
    at_text: str = ""
    problems: tuple[str, ...] = ()
    #: what the user should know that does not stop the row (a time that happens twice)
    notes: tuple[str, ...] = ()
    #: what it repeats, when it is a duplicate
    duplicate_of: str | None = None
    #: the platform's count and limit of the main text: "212/3000"
    counter: str = ""
    #: the account (id, platform, tier) the platform's limits were checked for
    checked_for: tuple[int, str, str | None] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.duplicate_of is None

    @property
    def is_draft(self) -> bool:
        return not self.account

    def problem_line(self) -> str:
        return f"row {self.row}: " + "; ".join(self.problems)

    def local_time(self) -> datetime | None:
        return self.at.astimezone(get_zone(self.zone)) if self.at is not None else None

    def _first_local(self) -> datetime:
        assert self.at is not None
        return self.at.astimezone(get_zone(self.zone)).replace(tzinfo=None)


@dataclass(frozen=True)
class ImportPlan:
    """Every row of a file, checked; what :func:`commit_import` will write."""

    path: Path
    rows: tuple[PlannedRow, ...]
    delimiter: str
    tz: str | None = None
    allow_duplicates: bool = False

    @property
    def ready(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.ok]

    @property
    def invalid(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.problems]

    @property
    def duplicates(self) -> list[PlannedRow]:
        return [r for r in self.rows if not r.problems and r.duplicate_of is not None]

    def problem_lines(self) -> list[str]:
        return [r.problem_line() for r in self.invalid]

    def duplicate_lines(self) -> list[str]:
        return [f"row {r.row}: left out, a duplicate of {r.duplicate_of}" for r in self.duplicates]


@dataclass(frozen=True)
class ImportResult:
    """What an import created."""

    post_ids: tuple[int, ...] = ()
    schedule_ids: tuple[int, ...] = ()
    scheduled: int = 0
    drafts: int = 0
    #: rows left out as duplicates, and invalid rows skipped (``row N: why`` each)
    duplicates: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    #: files copied into the media folder by this import (none already there)
    copied: tuple[Path, ...] = ()

    @property
    def count(self) -> int:
        return len(self.post_ids)


# ---------------------------------------------------------------- planning


def plan_import(
    path: Path | str,
    *,
    tz: str | None = None,
    allow_duplicates: bool = False,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check every row of the CSV file at ``path``; writes nothing.

    ``tz`` is the zone of times written without an offset and without a ``tz`` cell
    (the app's zone when None).

    Raises:
        UserError: the file cannot be read, is not UTF-8, or its header is wrong (the
            rows themselves never raise: each carries its problems).
    """
    source = Path(path)
    now = (clock or SystemClock()).now()
    if tz is not None:
        get_zone(tz)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{source} is a folder: give the CSV file in it") from None
    except OSError as exc:
        raise UserError(f"cannot read {source}: {exc.strerror}") from None
    table, inputs = read_rows(data)
    if not inputs:
        raise UserError(f"{source} has a header row but no posts under it: nothing to import")
    base = source.resolve().parent
    app_zone = queue.app_zone()
    inspected: dict[Path, media_mod.MediaInfo | str] = {}
    total = len(inputs)
    parsed: list[PlannedRow] = []
    for done, row in enumerate(inputs, 1):
        parsed.append(_parse(row, base, now, tz, app_zone, inspected))
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    with database.atomic("DEFERRED"):  # one consistent read; no write lock
        checked = _check_with_database(parsed, now, allow_duplicates)
    return ImportPlan(source, tuple(checked), table.delimiter, tz, allow_duplicates)


def _parse(
    row: RowInput,
    base: Path,
    now: datetime,
    tz: str | None,
    app_zone: str,
    inspected: dict[Path, media_mod.MediaInfo | str],
) -> PlannedRow:
    """What can be told of a row without the database."""
    problems = list(row.problems)
    notes: list[str] = []
    voice = row.voice or "personal"
    if voice not in VOICES:
        problems.append(f"unknown voice {row.voice!r}: choose one of {', '.join(VOICES)}")
    if "\x00" in row.text:
        problems.append("the text contains a NUL character: remove it")
    try:
        posts.check_follow_ups(row.follow_ups)
    except UserError as exc:
        problems.append(str(exc))
    media = _media(row, base, inspected, problems)
    if not row.text.strip() and not row.media and not row.media_url:
        problems.append("the post is empty: give it some text or at least one image or video")

    zone = row.tz or tz or app_zone
    at: datetime | None = None
    zone_known = True
    if row.tz:
        try:
            get_zone(row.tz)
        except UserError as exc:
            problems.append(str(exc))
            zone_known = False
    if row.at and not row.account:
        problems.append(
            "it has a time but no account: name the account to post to, or leave “at” "
            "empty to import it as a draft"
        )
    elif row.repeat and not row.account:
        problems.append("it repeats but has no account: name the account to post to")
    elif row.at and zone_known:
        at, zone = _when(row, tz, app_zone, now, problems, notes)
    return PlannedRow(
        row=row.row,
        text=row.text,
        voice=voice,
        follow_ups=row.follow_ups,
        media=tuple(media),
        account=row.account,
        at=at,
        zone=zone,
        queued=bool(row.account) and not row.at,
        repeat=row.repeat,
        at_text=row.at,
        problems=tuple(problems),
        notes=tuple(notes),
    )


def _when(
    row: RowInput,
    tz: str | None,
    app_zone: str,
    now: datetime,
    problems: list[str],
    notes: list[str],
) -> tuple[datetime | None, str]:
    """The row's instant and the zone it is scheduled in, read as ``schedule --at
    --tz`` reads them: a time with an offset or Z is that instant; one without is a
    wall-clock time in the row's zone, else ``tz``, else the app's."""
    named = row.tz or tz
    offset = _has_offset(row.at)
    zone = named or ("UTC" if offset and row.at[-1:] in "Zz" else app_zone)
    try:
        at = parse_when(row.at, None if offset else zone)
        if not offset:
            naive = datetime.fromisoformat(row.at)
            if is_ambiguous(naive, get_zone(zone)):
                notes.append(
                    f"{naive:%H:%M} happens twice on {naive:%Y-%m-%d} in {zone} (the clocks go "
                    "back); the first one is used"
                )
        schedules.check_future(at, now)
    except UserError as exc:
        problems.append(str(exc).replace("with --tz", "with a tz column"))
        return None, zone
    return at, zone


def _has_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _media(
    row: RowInput,
    base: Path,
    inspected: dict[Path, media_mod.MediaInfo | str],
    problems: list[str],
) -> list[PlannedMedia]:
    """The row's attachments in order (files first, then links), each checked."""
    count = len(row.media) + len(row.media_url)
    if len(row.alt_text) > count:
        problems.append(
            f"{len(row.alt_text)} alt texts for {count} media: give at most one per media, "
            "in order (the files in “media” first, then the links in “media_url”)"
        )
    alts = list(row.alt_text) + [""] * count
    out: list[PlannedMedia] = []
    for n, name in enumerate(row.media):
        path = base / Path(name).expanduser()
        found = inspected.get(path)
        if found is None:
            try:
                found = media_mod.inspect(path)
            except media_mod.MediaError as exc:
                # the message names the resolved path; the row wrote the name
                said = str(exc).removeprefix(f"{path}: ")
                found = f"media file {name!r}: {said}"
            inspected[path] = found
        if isinstance(found, str):
            problems.append(found)
            continue
        out.append(PlannedMedia(alts[n], source=path, info=found))
    for n, url in enumerate(row.media_url, len(row.media)):
        try:
            kind, mime = media_mod.describe_url(url)
        except media_mod.MediaError as exc:
            problems.append(str(exc))
            continue
        out.append(PlannedMedia(alts[n], url=url, kind=kind, mime=mime))
    return out


# ---------------------------------------------------------------- checks with the database


@dataclass
class _Known:
    """What the database holds that the rows are checked against, read once."""

    accounts: dict[str, Account]
    #: (text, account id, UTC text) -> the schedule that has them
    scheduled: dict[tuple[str, int, str], int] = field(default_factory=dict)
    #: (text, account id) -> a waiting or publishing schedule with them
    waiting: dict[tuple[str, int], int] = field(default_factory=dict)
    #: (text, account id, first local time, zone) -> the post an active repeat has them for
    repeating: dict[tuple[str, int, str, str], int] = field(default_factory=dict)
    #: (text, media keys) -> a draft with them
    drafts: dict[tuple[str, tuple[str, ...]], int] = field(default_factory=dict)


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _load_accounts() -> dict[str, Account]:
    rows = Account.select().where(Account.status != AccountStatus.REMOVED)
    return {a.display_name: a for a in rows}


def _load_known(rows: Sequence[PlannedRow], accounts: dict[str, Account]) -> _Known:
    known = _Known(accounts)
    instants = sorted({utc_text(r.at) for r in rows if r.at is not None and r.account_id})
    for chunk in _chunks(instants):
        marks = ", ".join("?" * len(chunk))
        cursor = database.execute_sql(
            "SELECT s.id, s.account_id, s.scheduled_time, COALESCE(s.text_override, p.body)"
            " FROM scheduled_posts s JOIN posts p ON p.id = s.post_id"
            f" WHERE s.scheduled_time IN ({marks}) AND s.status <> ?",
            [*chunk, Status.CANCELLED.value],
        )
        for sid, aid, when, text in cursor:
            known.scheduled.setdefault((text, aid, when), sid)
    queued_accounts = sorted({r.account_id for r in rows if r.queued and r.account_id})
    if queued_accounts:
        marks = ", ".join("?" * len(queued_accounts))
        cursor = database.execute_sql(
            "SELECT s.id, s.account_id, COALESCE(s.text_override, p.body)"
            " FROM scheduled_posts s JOIN posts p ON p.id = s.post_id"
            f" WHERE s.status IN ({', '.join('?' * len(_QUEUED_LIVE))})"
            f" AND s.account_id IN ({marks})",
            [*_QUEUED_LIVE, *queued_accounts],
        )
        for sid, aid, text in cursor:
            known.waiting.setdefault((text, aid), sid)
    if any(r.repeat for r in rows):
        cursor = database.execute_sql(
            "SELECT r.post_id, r.account_id, r.dtstart_local, r.timezone,"
            " COALESCE(r.text_override, p.body) FROM recurrences r"
            " JOIN posts p ON p.id = r.post_id WHERE r.active"
        )
        for pid, aid, start, zone, text in cursor:
            known.repeating.setdefault((text, aid, start, zone), pid)
    texts = sorted({r.text for r in rows if r.is_draft})
    for chunk in _chunks(texts):
        marks = ", ".join("?" * len(chunk))
        cursor = database.execute_sql(
            "SELECT p.id, p.body, m.path, m.url FROM posts p"
            " LEFT JOIN media m ON m.post_id = p.id AND m.part = 0"
            f" WHERE p.body IN ({marks}) AND NOT EXISTS (SELECT 1 FROM scheduled_posts s"
            " WHERE s.post_id = p.id AND s.status <> ?) ORDER BY p.id, m.position, m.id",
            [*chunk, Status.CANCELLED.value],
        )
        bodies: dict[int, str] = {}
        media: dict[int, list[str]] = {}
        for pid, body, path, url in cursor:
            bodies[pid] = body
            keys = media.setdefault(pid, [])
            if path:
                keys.append(Path(path).stem)
            elif url:
                keys.append(f"url:{url}")
        for pid, body in bodies.items():
            known.drafts.setdefault((body, tuple(media[pid])), pid)
    return known


def _check_with_database(
    rows: Sequence[PlannedRow], now: datetime, allow_duplicates: bool
) -> list[PlannedRow]:
    """The rows with their accounts, queue slots, platform checks and duplicates; the
    caller holds a transaction (a read for a plan, the write lock for a commit)."""
    accounts = _load_accounts()
    resolved = [_with_account(_still_ahead(r, now), accounts) for r in rows]
    resolved = _with_slots(resolved, accounts, now)
    resolved = [_with_platform(r, accounts, now) for r in resolved]
    if allow_duplicates:
        return resolved
    known = _load_known([r for r in resolved if not r.problems], accounts)
    seen: dict[tuple[Any, ...], int] = {}
    out: list[PlannedRow] = []
    for r in resolved:
        if r.problems:
            out.append(r)
            continue
        key, existing = _duplicate_key(r, known)
        if existing is None and key in seen:
            existing = f"row {seen[key]} of this file"
        seen.setdefault(key, r.row)
        out.append(replace(r, duplicate_of=existing) if existing else r)
    return out


def _still_ahead(row: PlannedRow, now: datetime) -> PlannedRow:
    """A row whose time has passed since it was planned (an undone import redone an
    hour later) is refused as a past time would have been."""
    if row.at is None or row.queued or row.problems:
        return row
    try:
        schedules.check_future(row.at, now)
    except UserError as exc:
        return replace(row, problems=(str(exc),))
    return row


def _no_account(name: str, accounts: dict[str, Account]) -> str:
    names = ", ".join(sorted(accounts))
    if names:
        return f"no account named {name!r} (accounts: {names})"
    return f"no account named {name!r}: there are no accounts yet; connect one first"


def _with_account(row: PlannedRow, accounts: dict[str, Account]) -> PlannedRow:
    if not row.account:
        return replace(row, account_id=None, platform=None)
    acc = accounts.get(row.account)
    if acc is None:
        return replace(
            row,
            account_id=None,
            platform=None,
            problems=(*row.problems, _no_account(row.account, accounts)),
        )
    return replace(row, account_id=acc.id, platform=acc.platform)


def _with_slots(
    rows: list[PlannedRow], accounts: dict[str, Account], now: datetime
) -> list[PlannedRow]:
    """Each row with an account and no time gets that account's next free queue slot;
    the file's own times and the slots given to earlier rows count as taken."""
    by_id = {a.id: a for a in accounts.values()}
    taken: dict[int, list[datetime]] = {}
    for r in rows:
        if r.at is not None and r.account_id is not None and not r.queued:
            taken.setdefault(r.account_id, []).append(r.at)
    slots: dict[int, tuple[Any, ...]] = {}
    after: dict[int, datetime] = {}
    out: list[PlannedRow] = []
    for r in rows:
        if not r.queued or r.account_id is None or r.problems:
            out.append(r)
            continue
        acc = by_id[r.account_id]
        if acc.id not in slots:
            slots[acc.id] = queue.slots_of(acc.id)
        if not slots[acc.id]:
            out.append(
                replace(
                    r,
                    problems=(
                        *r.problems,
                        f"it has no time and account “{acc.display_name}” has no queue slots to "
                        "take the next one from: give it an “at” time, or give the account "
                        "queue slots",
                    ),
                )
            )
            continue
        # slots are handed out in order: the next one is after the last one given
        start = after.get(acc.id, now + queue.LEAD)
        found = queue.next_free_slot(acc, slots[acc.id], start, taken.get(acc.id, ()))
        if found is None:
            out.append(
                replace(
                    r,
                    problems=(
                        *r.problems,
                        f"every queue slot of “{acc.display_name}” in the next two years is "
                        "taken: give it an “at” time, or add slots",
                    ),
                )
            )
            continue
        taken.setdefault(acc.id, []).append(found)
        after[acc.id] = found
        out.append(replace(r, at=found, zone=queue.account_zone(acc)))
    return out


def _with_platform(row: PlannedRow, accounts: dict[str, Account], now: datetime) -> PlannedRow:
    """The platform's limits (main text, media, follow-ups) and the repeat rule."""
    if row.account_id is None:
        return row
    acc = accounts[row.account]
    if row.checked_for == (acc.id, acc.platform, acc.tier) and not row.repeat:
        return row  # checked when planned, for the account as it still is
    platform = registry.find(acc.platform)
    if platform is None:
        return replace(
            row,
            problems=(
                *row.problems,
                f"account “{acc.display_name}” is on {acc.platform}, which this version of "
                "Milton does not know",
            ),
        )
    problems = list(row.problems)
    count, limit = platform.length(row.text, acc.tier)
    parts = [Content(row.text, tuple(m.item() for m in row.media))]
    parts += [Content(text) for text in row.follow_ups]
    found = platform.validate_parts(parts, acc.tier)
    if found:
        hint = (
            " (give it as a public link in “media_url”)"
            if any(p.hint == Hint.PUBLIC_URL for p in found)
            else ""
        )
        problems.append(
            f"{platform.label} account “{acc.display_name}” would refuse it: "
            + "; ".join(p.message for p in found)
            + hint
        )
    if row.repeat and row.at is not None and not problems:
        try:
            check_rule(row.repeat, row._first_local(), row.zone, now)
        except UserError as exc:
            problems.append(str(exc).replace("--at", "“at”"))
    return replace(
        row,
        problems=tuple(problems),
        counter=f"{count}/{limit}",
        checked_for=(acc.id, acc.platform, acc.tier),
    )


def _duplicate_key(row: PlannedRow, known: _Known) -> tuple[tuple[Any, ...], str | None]:
    """The row's identity, and what in the database it duplicates (None: nothing)."""
    if row.account_id is None:
        media = tuple(m.key for m in row.media)
        pid = known.drafts.get((row.text, media))
        found = f"draft post {pid} (the same text and media)" if pid is not None else None
        return ("draft", row.text, media), found
    if row.repeat:
        assert row.at is not None
        start = row._first_local().isoformat()
        pid = known.repeating.get((row.text, row.account_id, start, row.zone))
        found = (
            f"the repeat of post {pid} (the same text, account, first time and rule)"
            if pid is not None
            else None
        )
        return ("repeat", row.text, row.account_id, start, row.zone), found
    if row.queued:
        sid = known.waiting.get((row.text, row.account_id))
        found = (
            f"schedule {sid}, waiting on “{row.account}” with the same text"
            if sid is not None
            else None
        )
        return ("queued", row.text, row.account_id), found
    assert row.at is not None
    sid = known.scheduled.get((row.text, row.account_id, utc_text(row.at)))
    found = f"schedule {sid} (the same text, account and time)" if sid is not None else None
    return ("at", row.text, row.account_id, utc_text(row.at)), found


# ---------------------------------------------------------------- committing


def commit_import(
    plan: ImportPlan,
    *,
    media_dir: Path,
    skip_invalid: bool = False,
    clock: Clock | None = None,
) -> ImportResult:
    """Create every post and schedule the plan found ready, in one transaction.

    Raises:
        ImportRefused: a row is invalid (and ``skip_invalid`` is not set), now or once
            checked again under the write lock; nothing was written or copied.
        UserError: a media file changed or vanished since the plan.
    """
    now = (clock or SystemClock()).now()
    if plan.invalid and not skip_invalid:
        raise ImportRefused(plan.problem_lines())
    ready = plan.ready
    skipped = plan.problem_lines()
    if not ready:
        return ImportResult(duplicates=tuple(plan.duplicate_lines()), skipped=tuple(skipped))
    copied: list[Path] = []
    try:
        stored = _copy_media(ready, media_dir, copied)
        with _all_or_nothing():
            checked = _check_with_database(ready, now, plan.allow_duplicates)
            fresh = [r for r in checked if r.problems]
            if fresh and not skip_invalid:
                raise ImportRefused([r.problem_line() for r in fresh])
            skipped += [r.problem_line() for r in fresh]
            duplicates = plan.duplicate_lines() + [
                f"row {r.row}: left out, a duplicate of {r.duplicate_of}"
                for r in checked
                if not r.problems and r.duplicate_of is not None
            ]
            result = _write([r for r in checked if r.ok], stored, now)
    except BaseException:
        _remove_unused(copied)
        raise
    _remove_unused(copied)
    log.info(
        "imported %d post(s) from %s (%d scheduled, %d drafts)",
        result.count,
        plan.path,
        result.scheduled,
        result.drafts,
    )
    return replace(
        result,
        duplicates=tuple(duplicates),
        skipped=tuple(sorted(skipped, key=_row_number)),
        copied=tuple(p for p in copied if p.exists()),
    )


@contextlib.contextmanager
def _all_or_nothing() -> Iterator[None]:
    """One write transaction, whose failure is reported as what caused it.

    On a full disk or an I/O error SQLite may roll the transaction back by itself;
    the rollback that follows then fails with "no transaction is active", which would
    hide the cause (and its "disk is full" message) behind a puzzle.
    """
    try:
        with database.atomic():
            yield
    except pw.OperationalError as exc:
        cause: BaseException | None = exc
        while cause is not None and "no transaction is active" in str(cause):
            cause = cause.__cause__ or cause.__context__
        if cause is not None and cause is not exc:
            raise cause from None
        raise


def _row_number(line: str) -> int:
    return int(line.split(":", 1)[0].removeprefix("row "))


def _copy_media(
    rows: Sequence[PlannedRow], media_dir: Path, copied: list[Path]
) -> dict[Path, Path]:
    """Copy each file the rows name once; the source -> stored path. ``copied`` gets
    every file this made (not those already in the folder), as it goes."""
    stored: dict[Path, Path] = {}
    for row in rows:
        for m in row.media:
            if m.source is None or m.source in stored:
                continue
            assert m.info is not None
            target = media_mod.stored_path(m.info, media_dir)
            existed = target.exists()
            try:
                path, info = media_mod.import_file(m.source, media_dir)
            except media_mod.MediaError as exc:
                raise UserError(f"row {row.row}: {exc}; nothing was imported") from None
            if not existed and path.exists():
                copied.append(path)
            if info.sha256 != m.info.sha256:
                raise UserError(
                    f"row {row.row}: {m.source} changed since the file was checked: check "
                    "the import again; nothing was imported"
                )
            stored[m.source] = path
    return stored


def _remove_unused(paths: Iterable[Path]) -> None:
    """Delete copies no media row refers to (an import rolled back, a row left out)."""
    for path in paths:
        if not Media.select().where(Media.path == str(path)).exists():
            path.unlink(missing_ok=True)


def _prepared(row: PlannedRow, stored: dict[Path, Path]) -> posts.PreparedMedia:
    items: list[dict[str, Any]] = []
    for pos, m in enumerate(row.media):
        if m.source is not None:
            assert m.info is not None
            items.append(
                dict(
                    position=pos,
                    kind=m.info.kind,
                    path=str(stored[m.source]),
                    mime=m.info.mime,
                    bytes=m.info.size,
                    width=m.info.width,
                    height=m.info.height,
                    alt_text=m.alt_text,
                    original_name=m.name,
                )
            )
        else:
            items.append(
                dict(
                    position=pos,
                    kind=m.kind,
                    url=m.url,
                    mime=m.mime,
                    alt_text=m.alt_text,
                    original_name=m.name,
                )
            )
    return posts.PreparedMedia(tuple(items))


def _insert_sql(model: type[pw.Model], names: Sequence[str]) -> tuple[str, list[pw.Field]]:
    """A plain INSERT of ``names`` into ``model``'s table, and the fields that convert
    each value as peewee would."""
    fields = [model._meta.fields[n] for n in names]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join("?" * len(fields))
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})', fields


# Built from the models once: at 10 000 rows, building each INSERT through peewee
# took three quarters of the import.
_POST_SQL = _insert_sql(
    Post, ("body", "voice", "created_at", "updated_at", "follow_ups", "follow_up_delay")
)
_MEDIA_NAMES = (
    "post", "position", "part", "kind", "path", "url", "mime", "bytes", "width", "height",
    "alt_text", "original_name",
)  # fmt: skip
_MEDIA_SQL = _insert_sql(Media, _MEDIA_NAMES)
_MEDIA_DEFAULTS = {n: Media._meta.fields[n].default for n in _MEDIA_NAMES}
_SCHEDULE_SQL = _insert_sql(
    ScheduledPost,
    (
        "post", "account", "scheduled_time", "timezone", "status", "attempts",
        "next_attempt_at", "created_at", "updated_at", "created_by", "updated_by",
    ),
)  # fmt: skip


def _insert(statement: tuple[str, list[pw.Field]], *values: Any) -> int:
    sql, fields = statement
    converted = [f.db_value(v) for f, v in zip(fields, values, strict=True)]
    return backend.current().insert_id(database, sql, converted)


def _write(rows: Sequence[PlannedRow], stored: dict[Path, Path], now: datetime) -> ImportResult:
    """Every row's post, media and schedule (or repeat), as ``posts.create_post`` and
    ``schedules.schedule`` store them (the rows were checked with their rules); the
    caller holds the transaction."""
    post_ids: list[int] = []
    schedule_ids: list[int] = []
    drafts = 0
    who = members.current()
    starts = {
        a.id: approvals.status_for(a).value
        for a in Account.select(Account.id, Account.require_approval)
    }
    for row in rows:
        follow_ups = json.dumps(list(row.follow_ups), ensure_ascii=False)
        post_id = _insert(_POST_SQL, row.text, row.voice, now, now, follow_ups, 0)
        post_ids.append(post_id)
        for media in _prepared(row, stored).rows:
            values = {**_MEDIA_DEFAULTS, "post": post_id, "part": 0, **media}
            _insert(_MEDIA_SQL, *(values[n] for n in _MEDIA_NAMES))
        if row.account_id is None:
            drafts += 1
            continue
        assert row.at is not None
        if row.repeat:
            rec = Recurrence.create(
                post=post_id,
                account=row.account_id,
                rrule=row.repeat.strip().removeprefix("RRULE:"),
                dtstart_local=row._first_local().isoformat(),
                timezone=row.zone,
                created_at=now,
                created_by=who,
            )
            made = repeats.materialize(now, recurrence_id=rec.id)
            schedule_ids += made.created
            continue
        when = max(row.at, now)
        schedule_ids.append(
            _insert(
                _SCHEDULE_SQL,
                post_id,
                row.account_id,
                when,
                row.zone,
                starts[row.account_id],
                0,
                when,
                now,
                now,
                who,
                who,
            )
        )
    return ImportResult(
        post_ids=tuple(post_ids),
        schedule_ids=tuple(schedule_ids),
        scheduled=len(post_ids) - drafts,
        drafts=drafts,
    )


# ---------------------------------------------------------------- undoing


def remove_imported(post_ids: Sequence[int], *, clock: Clock | None = None) -> int:
    """Delete the posts an import created, with their schedules, repeats and media,
    all or none; returns how many posts were removed.

    Raises:
        UserError: one of them has been published, is being published, or was tried
            (a publish attempt is history that stays): nothing is removed.
    """
    ids = sorted(set(post_ids))
    if not ids:
        return 0
    with database.atomic():
        # under the write lock: the scheduler cannot claim one of them meanwhile
        blocked: list[str] = []
        paths: set[str] = set()
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            cursor = database.execute_sql(
                "SELECT s.post_id, s.status FROM scheduled_posts s"
                f" WHERE s.post_id IN ({marks}) AND (s.status NOT IN (?, ?, ?, ?) OR s.attempts > 0"
                " OR EXISTS (SELECT 1 FROM publishing_results r WHERE r.schedule_id = s.id))",
                [*chunk, *_REMOVABLE],
            )
            blocked += [f"post {pid} is {status}" for pid, status in cursor]
            cursor = database.execute_sql(
                f"SELECT path FROM media WHERE post_id IN ({marks}) AND path IS NOT NULL", chunk
            )
            paths.update(path for (path,) in cursor)
        if blocked:
            raise UserError(
                f"the import cannot be removed: {len(blocked)} of its posts went out or were "
                f"tried since ({', '.join(blocked[:3])}{', …' if len(blocked) > 3 else ''}); "
                "remove the others one by one"
            )
        removed = 0
        for chunk in _chunks(ids):
            Recurrence.delete().where(Recurrence.post.in_(chunk)).execute()
            ScheduledPost.delete().where(ScheduledPost.post.in_(chunk)).execute()
            Media.delete().where(Media.post.in_(chunk)).execute()
            removed += Post.delete().where(Post.id.in_(chunk)).execute()
    _remove_unused(Path(p) for p in paths)
    log.info("removed %d imported post(s)", removed)
    return removed


def describe(row: PlannedRow) -> str:
    """One line saying what the row creates, for a dry run."""
    text = " ".join(row.text.split())
    text = text if len(text) <= 50 else text[:49] + "…"
    extra = []
    if row.media:
        extra.append(f"{len(row.media)} media")
    if row.follow_ups:
        extra.append(f"{len(row.follow_ups)} follow-up{'s' if len(row.follow_ups) > 1 else ''}")
    tail = f" ({', '.join(extra)})" if extra else ""
    if row.account_id is None:
        return f"row {row.row}: draft “{text}”{tail}"
    local = row.local_time()
    assert local is not None
    how = "next queue slot, " if row.queued else ""
    again = f", repeating {row.repeat}" if row.repeat else ""
    label = registry.label(row.platform or "")
    return (
        f"row {row.row}: {label} “{row.account}” at {local:%a %Y-%m-%d %H:%M %Z} "
        f"({how}{iso_z(row.at)}{again}): “{text}”{tail}"
    )
