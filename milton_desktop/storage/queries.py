"""Read-only views of the database for the window, the tray and the command line.

Nothing here writes, and nothing takes the write lock: a read that must see one
consistent state runs in a deferred (read) transaction, so the window never waits
behind the scheduler's writes. Lookups that the user names (a post, a schedule, an
account) raise :class:`UserError` when the thing does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import peewee as pw

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.domain.recurrence import STOPPED_KIND
from milton_desktop.domain.status import (
    LIVE,
    NEEDS_ATTENTION,
    OCCUPIES_SLOT,
    AccountStatus,
    Status,
    parse_status,
)
from milton_desktop.domain.thread import PartEntry, live_parts, load_parts, part_states
from milton_desktop.domain.timeutil import iso_z
from milton_desktop.storage import backend, media_store
from milton_desktop.storage.backend import Backend
from milton_desktop.storage.models import Account, Media, Post, ScheduledPost, database, utc_text

# ---------------------------------------------------------------- views
# What the window reads: plain snapshots, so no widget ever holds a database row.


@dataclass(frozen=True)
class AccountView:
    id: int
    platform: str
    display_name: str
    username: str
    remote_id: str
    api_base: str | None
    status: str
    token_expires_at: datetime | None
    tier: str | None = None
    token_refreshed_at: datetime | None = None
    #: the person's or page's name on the platform ("" until the account is reconnected)
    profile_name: str = ""
    #: the zone its queue slots are read in; None follows the app's zone
    timezone: str | None = None
    #: its posts wait for a member's approval
    require_approval: bool = False

    @classmethod
    def of(cls, acc: Account) -> AccountView:
        return cls(
            id=acc.id,
            platform=acc.platform,
            display_name=acc.display_name,
            username=acc.username,
            remote_id=acc.remote_id,
            api_base=acc.api_base,
            status=acc.status,
            token_expires_at=acc.token_expires_at,
            tier=acc.tier,
            token_refreshed_at=acc.token_refreshed_at,
            profile_name=acc.profile_name,
            timezone=acc.timezone,
            require_approval=bool(acc.require_approval),
        )


@dataclass(frozen=True)
class PostView:
    id: int
    body: str
    voice: str
    updated_at: datetime
    media: tuple[MediaItem, ...]
    #: the name each attachment was added under, in media order
    media_names: tuple[str, ...]
    #: the texts after the main one (a thread or first comments), in order
    follow_ups: tuple[str, ...] = ()
    #: seconds between two parts
    follow_up_delay: int = 0
    #: each follow-up's attachments and the names they were added under, in order
    follow_up_media: tuple[tuple[tuple[MediaItem, str], ...], ...] = ()
    #: the post's own text per platform, for schedules made to it from now on
    variants: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, post: Post) -> PostView:
        every = list(post.media.order_by(Media.position, Media.id))
        rows = [m for m in every if not m.part]
        texts = follow_up_texts(post)
        later = tuple(
            tuple((media_item(m), m.original_name) for m in every if m.part == k)
            for k in range(1, len(texts) + 1)
        )
        return cls(
            id=post.id,
            body=post.body,
            voice=post.voice,
            updated_at=post.updated_at,
            media=tuple(media_item(m) for m in rows),
            media_names=tuple(m.original_name for m in rows),
            follow_ups=texts,
            follow_up_delay=post.follow_up_delay or 0,
            follow_up_media=later,
            variants=tuple(sorted(post_variants(post).items())),
        )


@dataclass(frozen=True)
class ScheduleView:
    id: int
    post_id: int
    account_id: int
    account: AccountView
    #: the schedule's own text, or None when it takes the post's
    text_override: str | None
    #: the post's text
    body: str
    scheduled_time: datetime
    timezone: str
    status: str
    attempts: int
    published_at: datetime | None
    remote_url: str | None
    error_message: str | None
    warning: str | None = None
    #: made by a repeat rule
    recurring: bool = False
    #: the repeat rule that made it, if one did
    recurrence_id: int | None = None
    #: how many parts the post has (1: no follow-ups)
    part_count: int = 1
    #: what each part became (``domain/thread.py``)
    parts: tuple[PartEntry, ...] = ()
    #: the members who made it and changed it last, and who approved it when
    created_by: str | None = None
    updated_by: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None

    @property
    def live_parts(self) -> int:
        """How many of its parts are on the platform."""
        return len(live_parts(self.parts))

    @property
    def text(self) -> str:
        """What goes out: the schedule's own text, else the post's."""
        return self.text_override if self.text_override is not None else self.body

    @classmethod
    def of(cls, row: ScheduledPost) -> ScheduleView:
        return cls(
            id=row.id,
            post_id=row.post_id,
            account_id=row.account_id,
            account=AccountView.of(row.account),
            text_override=row.text_override,
            body=row.post.body,
            scheduled_time=row.scheduled_time,
            timezone=row.timezone,
            status=row.status,
            attempts=row.attempts,
            published_at=row.published_at,
            remote_url=row.remote_url,
            error_message=row.error_message,
            warning=row.warning,
            recurring=row.recurrence_id is not None,
            recurrence_id=row.recurrence_id,
            part_count=1 + len(follow_up_texts(row.post)),
            parts=tuple(load_parts(row.parts)),
            created_by=row.created_by,
            updated_by=row.updated_by,
            approved_by=row.approved_by,
            approved_at=row.approved_at,
        )


def schedule_view(schedule_id: int) -> ScheduleView:
    """A snapshot of one schedule; :class:`UserError` if there is no such schedule."""
    return ScheduleView.of(get_schedule(schedule_id))


def post_view(post_id: int) -> PostView:
    """A snapshot of one post and its media; :class:`UserError` if there is none."""
    return PostView.of(get_post(post_id))


def draft_views() -> list[PostView]:
    """Posts with no live schedule, most recently edited first."""
    return [PostView.of(p) for p in drafts()]


def upcoming_views(days: float = 7, *, clock: Clock | None = None) -> list[ScheduleView]:
    """Pending posts due within ``days``, soonest first."""
    return [ScheduleView.of(row) for row in upcoming(days, clock=clock)]


def schedule_ids(status: Status | str) -> list[int]:
    """The ids of the schedules in ``status``, oldest first."""
    query = (
        ScheduledPost.select(ScheduledPost.id)
        .where(ScheduledPost.status == parse_status(status))
        .order_by(ScheduledPost.scheduled_time, ScheduledPost.id)
        .tuples()
    )
    # peewee's stubs type a model select's rows as the model, also after .tuples()
    return [sid for (sid,) in cast("list[tuple[int]]", list(query))]


# ---------------------------------------------------------------- lookups


def _active_accounts() -> pw.ModelSelect[Account]:
    return Account.select().where(Account.status != AccountStatus.REMOVED)


def get_account(name_or_id: str | int | Account | AccountView) -> Account:
    """The account named (or numbered) ``name_or_id``, read afresh; a removed one is
    not found (so a row or snapshot held since it was removed is refused too)."""
    query = _active_accounts()
    if isinstance(name_or_id, Account | AccountView | int):
        # an id the program holds means that account, never one named like the number
        name_or_id = name_or_id if isinstance(name_or_id, int) else name_or_id.id
        acc = query.where(Account.id == name_or_id).first()
    elif name_or_id.isdigit():  # typed by a user: a number may be an id or an old name
        by_id = query.where(Account.id == int(name_or_id)).first()
        by_name = query.where(Account.display_name == name_or_id).first()
        if by_id is not None and by_name is not None and by_id.id != by_name.id:
            raise UserError(
                f"{name_or_id!r} is both the id of “{by_id.display_name}” and the name of "
                f"account {by_name.id}: give the name of the one you mean"
            )
        acc = by_id or by_name
    else:
        acc = query.where(Account.display_name == name_or_id).first()
    if acc is None:
        names = ", ".join(a.display_name for a in _active_accounts().order_by(Account.display_name))
        if names:
            raise UserError(f"no account named {name_or_id!r} (accounts: {names})")
        raise UserError(
            f"no account named {name_or_id!r}: there are no accounts yet", Hint.ADD_ACCOUNT
        )
    return acc


def get_post(post_id: int) -> Post:
    post = Post.get_or_none(Post.id == post_id)
    if post is None:
        raise UserError(f"no post with id {post_id}", Hint.LIST_POSTS)
    return post


def get_schedule(schedule_id: int) -> ScheduledPost:
    row = ScheduledPost.get_or_none(ScheduledPost.id == schedule_id)
    if row is None:
        raise UserError(f"no scheduled post with id {schedule_id}", Hint.LIST_SCHEDULES)
    return row


def media_item(m: Media) -> MediaItem:
    """What publishers and validation see of a Media row (stored, or about to be)."""
    return MediaItem(
        kind=m.kind,
        mime=m.mime,
        path=media_store.local_path(m.path) if m.path else None,
        url=m.url,
        alt_text=m.alt_text or "",
        size=m.bytes or 0,
        width=m.width,
        height=m.height,
        name=m.original_name or "",
    )


def media_items(post: Post, part: int = 0) -> tuple[MediaItem, ...]:
    """The media of one part of ``post`` (0: the main text), in order."""
    return tuple(
        media_item(m)
        for m in post.media.where(Media.part == part).order_by(Media.position, Media.id)
    )


def follow_up_texts(post: Post) -> tuple[str, ...]:
    """The post's follow-ups, in order (none for a post stored before they existed)."""
    try:
        texts = json.loads(post.follow_ups or "[]")
    except ValueError:
        return ()
    return tuple(str(t) for t in texts) if isinstance(texts, list) else ()


def content_for(schedule: ScheduledPost) -> Content:
    """What the schedule's main post publishes."""
    text = schedule.text_override if schedule.text_override is not None else schedule.post.body
    return Content(text=text, media=media_items(schedule.post))


def post_variants(post: Post) -> dict[str, str]:
    """The post's own text per platform (platform name -> text); unreadable JSON is none."""
    try:
        raw = json.loads(post.variants or "{}")
    except ValueError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, str)}


def post_parts(post: Post, text: str | None = None) -> list[Content]:
    """Every part of ``post``: the main one (with ``text`` instead of its own, if
    given), then each follow-up with its media."""
    parts = [Content(text=post.body if text is None else text, media=media_items(post))]
    for index, follow_up in enumerate(follow_up_texts(post), 1):
        parts.append(Content(text=follow_up, media=media_items(post, index)))
    return parts


def parts_for(schedule: ScheduledPost) -> list[Content]:
    """Every part the schedule publishes, the main post first."""
    return post_parts(schedule.post, schedule.text_override)


# The engine's hot path reads these at every publish: plain SQL, since building the
# same queries through peewee cost more than running them in a burst of posts.
_SCHEDULE_FIELDS = tuple(ScheduledPost._meta.sorted_fields)
_ACCOUNT_FIELDS = tuple(Account._meta.sorted_fields)
_SCHEDULE_WITH_ACCOUNT = (
    "SELECT "
    + ", ".join(
        [f"s.{f.column_name}" for f in _SCHEDULE_FIELDS]
        + [f"a.{f.column_name}" for f in _ACCOUNT_FIELDS]
    )
    + " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id WHERE s.id = ?"
)


def _model_values(fields: tuple[pw.Field, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return {
        f.name: (f.python_value(v) if v is not None else None)
        for f, v in zip(fields, values, strict=True)
    }


def schedule_with_account(schedule_id: int) -> ScheduledPost | None:
    """The schedule and its account (``row.account`` loaded), as one query."""
    found = database.execute_sql(_SCHEDULE_WITH_ACCOUNT, (schedule_id,)).fetchone()
    if found is None:
        return None
    n = len(_SCHEDULE_FIELDS)
    row = ScheduledPost(**_model_values(_SCHEDULE_FIELDS, found[:n]))
    row.account = Account(**_model_values(_ACCOUNT_FIELDS, found[n:]))
    return row


_PARTS_POST = (
    "SELECT p.id, p.body, p.follow_ups, p.follow_up_delay, s.text_override"
    " FROM scheduled_posts s JOIN posts p ON p.id = s.post_id WHERE s.id = ?"
)
_PARTS_MEDIA = (
    "SELECT part, kind, mime, path, url, alt_text, bytes, width, height, original_name"
    " FROM media WHERE post_id = ? ORDER BY part, position, id"
)


def schedule_parts(schedule_id: int) -> tuple[list[Content], int] | None:
    """What :func:`parts_for` gives for the schedule, and the seconds between two
    parts, in two plain queries; None when the schedule is gone."""
    found = database.execute_sql(_PARTS_POST, (schedule_id,)).fetchone()
    if found is None:
        return None
    post_id, body, follow_ups, delay, override = found
    media: dict[int, list[MediaItem]] = {}
    for part, kind, mime, path, url, alt, size, width, height, name in database.execute_sql(
        _PARTS_MEDIA, (post_id,)
    ):
        media.setdefault(part, []).append(
            MediaItem(
                kind=kind,
                mime=mime,
                path=media_store.local_path(path) if path else None,
                url=url,
                alt_text=alt or "",
                size=size or 0,
                width=width,
                height=height,
                name=name or "",
            )
        )
    post = Post(follow_ups=follow_ups)
    parts = [Content(text=body if override is None else override, media=tuple(media.get(0, ())))]
    for index, text in enumerate(follow_up_texts(post), 1):
        parts.append(Content(text=text, media=tuple(media.get(index, ()))))
    return parts, delay or 0


def drafts() -> list[Post]:
    """Posts with no live schedule (never scheduled, or only cancelled)."""
    live = ScheduledPost.select(ScheduledPost.post).where(ScheduledPost.status != Status.CANCELLED)
    return list(Post.select().where(Post.id.not_in(live)).order_by(Post.updated_at.desc()))


def list_schedules(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> list[ScheduledPost]:
    if status is not None:
        status = parse_status(status)
    q = (
        ScheduledPost.select(ScheduledPost, Post, Account)
        .join(Post)
        .switch(ScheduledPost)
        .join(Account)
    )
    if status:
        q = q.where(ScheduledPost.status == status)
    if start is not None:
        q = q.where(ScheduledPost.scheduled_time >= start)
    if end is not None:
        q = q.where(ScheduledPost.scheduled_time < end)
    q = q.order_by(ScheduledPost.scheduled_time, ScheduledPost.id)
    if limit:
        q = q.limit(limit)
    return list(q)


#: what ``upcoming`` lists: posts that will go out, and those waiting for approval to
UPCOMING = frozenset({Status.PENDING, Status.AWAITING_APPROVAL})


def upcoming(days: float = 7, *, clock: Clock | None = None) -> list[ScheduledPost]:
    now = (clock or SystemClock()).now()
    q = (
        ScheduledPost.select(ScheduledPost, Post, Account)
        .join(Post)
        .switch(ScheduledPost)
        .join(Account)
        .where(
            ScheduledPost.status.in_(UPCOMING)
            & (ScheduledPost.scheduled_time <= now + timedelta(days=days))
        )
        .order_by(ScheduledPost.next_attempt_at)
    )
    return list(q)


def counts_by_status() -> dict[str, int]:
    counts = {s.value: 0 for s in Status}
    query = (
        ScheduledPost.select(ScheduledPost.status, pw.fn.COUNT(ScheduledPost.id))
        .group_by(ScheduledPost.status)
        .tuples()
    )
    # peewee's stubs type a model select's rows as the model, also after .tuples()
    for status, n in cast("list[tuple[str, int]]", list(query)):
        counts[status] = n
    return counts


_ROW_SQL = (
    "SELECT s.id, s.post_id, a.display_name, a.platform, s.scheduled_time, s.timezone, s.status,"
    " s.attempts, s.next_attempt_at, s.published_at, s.remote_id, s.remote_url, s.error_message,"
    " COALESCE(s.text_override, p.body), s.warning, p.follow_ups, s.parts,"
    " s.created_by, s.updated_by, s.approved_by, s.approved_at"
    " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id JOIN posts p ON p.id = s.post_id"
)


def schedule_rows(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    pending_before: datetime | None = None,
    schedule_id: int | None = None,
) -> list[dict[str, Any]]:
    """Schedules as the stable dicts scripts see (``--json``), read with one plain query.

    Listing tens of thousands of rows through model instances costs seconds; this is
    what ``list`` and ``upcoming`` use.
    """
    sql, params = _row_filter(status, start, end, pending_before, schedule_id)
    out = []
    pending = Status.PENDING.value
    for (
        sid,
        post_id,
        account,
        platform,
        when,
        zone,
        st,
        attempts,
        nxt,
        published,
        remote_id,
        url,
        error,
        text,
        warning,
        follow_ups,
        parts,
        created_by,
        updated_by,
        approved_by,
        approved_at,
    ) in database.execute_sql(_ROW_SQL + sql, params):
        if parts is None and follow_ups in ("[]", "", None):
            # a single post, as nearly all are: its one part, without parsing anything
            done = st == Status.PUBLISHED
            states = [
                {
                    "index": 0,
                    "remote_id": remote_id if done else None,
                    "url": url if done else None,
                    "status": st,
                }
            ]
        else:
            count = 1 + len(json.loads(follow_ups or "[]"))
            states = part_states(st, count, load_parts(parts), remote_id=remote_id, url=url)
        out.append(
            {
                "id": sid,
                "post_id": post_id,
                "account": account,
                "platform": platform,
                "scheduled_time": _z(when),
                "timezone": zone,
                "status": st,
                "attempts": attempts,
                "next_attempt_at": _z(nxt) if st == pending else None,
                "published_at": _z(published),
                "remote_id": remote_id,
                "url": url,
                "error": error,
                "warning": warning,
                "text": text,
                "parts": states,
                "created_by": created_by,
                "updated_by": updated_by,
                "approved_by": approved_by,
                "approved_at": _z(approved_at),
            }
        )
    return out


def _row_filter(
    status: str | None,
    start: datetime | None,
    end: datetime | None,
    pending_before: datetime | None,
    schedule_id: int | None = None,
) -> tuple[str, list[Any]]:
    """The WHERE and ORDER BY of a schedule listing, and its parameters."""
    if status is not None:
        status = parse_status(status)
    clauses: list[str] = []
    params: list[Any] = []
    if status:
        clauses.append("s.status = ?")
        params.append(status)
    if schedule_id is not None:
        clauses.append("s.id = ?")
        params.append(schedule_id)
    if start is not None:
        clauses.append("s.scheduled_time >= ?")
        params.append(utc_text(start))
    if end is not None:
        clauses.append("s.scheduled_time < ?")
        params.append(utc_text(end))
    if pending_before is not None:
        clauses.append("s.status IN (?, ?) AND s.scheduled_time <= ?")
        params += [*sorted(s.value for s in UPCOMING), utc_text(pending_before)]
    sql = " WHERE " + " AND ".join(clauses) if clauses else ""
    sql += (
        " ORDER BY s.next_attempt_at, s.id"
        if pending_before
        else " ORDER BY s.scheduled_time, s.id"
    )
    return sql, params


def schedule_row(schedule_id: int) -> dict[str, Any]:
    """One schedule as :func:`schedule_rows` words it (``show``); :class:`UserError` if
    there is no such schedule."""
    found = schedule_rows(schedule_id=schedule_id)
    if not found:
        raise UserError(f"no scheduled post with id {schedule_id}", Hint.LIST_SCHEDULES)
    return found[0]


def _sql_z(column: str) -> str:
    """SQL for what :func:`_z` makes of ``column`` (stored times are fixed-width)."""
    whole = f"substr({column}, 1, 10) || 'T' || substr({column}, 12, 8)"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL"
        f" WHEN rtrim(substr({column}, 21), '0') <> ''"
        f" THEN {whole} || '.' || substr({column}, 21, 3) || 'Z'"
        f" ELSE {whole} || 'Z' END"
    )


#: a schedule as schedule_rows() words it, written by the database itself: listing 40 000
#: rows as JSON then costs what the database takes to read them, not a Python loop over
#: every column. A single post's one part is written here too; a thread's parts need
#: part_states(), so those few rows (``simple`` = 0) are completed in Python.
_SIMPLE = "(s.parts IS NULL AND (p.follow_ups IS NULL OR p.follow_ups IN ('[]', '')))"


def _json_row_sql(on: Backend) -> str:
    obj, arr, nested = on.json_object, on.json_array, on.json_nested_object
    published = f"s.status = '{Status.PUBLISHED}'"
    one_part = nested(
        "'index', 0",
        f"'remote_id', CASE WHEN {published} THEN s.remote_id END",
        f"'url', CASE WHEN {published} THEN s.remote_url END",
        "'status', s.status",
    )
    row = obj(
        "'id', s.id, 'post_id', s.post_id, 'account', a.display_name, 'platform', a.platform",
        f"'scheduled_time', {_sql_z('s.scheduled_time')}, 'timezone', s.timezone",
        "'status', s.status, 'attempts', s.attempts",
        f"'next_attempt_at', CASE WHEN s.status = '{Status.PENDING}'"
        f" THEN {_sql_z('s.next_attempt_at')} END",
        f"'published_at', {_sql_z('s.published_at')}, 'remote_id', s.remote_id",
        "'url', s.remote_url, 'error', s.error_message, 'warning', s.warning",
        "'text', COALESCE(s.text_override, p.body)",
        f"'parts', CASE WHEN {_SIMPLE} THEN {arr(one_part)} END",
        "'created_by', s.created_by, 'updated_by', s.updated_by, 'approved_by', s.approved_by",
        f"'approved_at', {_sql_z('s.approved_at')}",
    )
    return (
        f"SELECT {row}, {_SIMPLE}, s.status, s.remote_id, s.remote_url, p.follow_ups, s.parts"
        " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id"
        " JOIN posts p ON p.id = s.post_id"
    )


def schedule_rows_json(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    pending_before: datetime | None = None,
) -> Iterator[str]:
    """The rows of :func:`schedule_rows` (same filters), each as a JSON object's text,
    in order: ``list --json`` writes them as they come instead of building one list."""
    sql, params = _row_filter(status, start, end, pending_before)
    for text, simple, st, remote_id, url, follow_ups, parts in database.execute_sql(
        _json_row_sql(backend.current()) + sql, params
    ):
        if simple:
            yield text
            continue
        row = json.loads(text)
        count = 1 + len(json.loads(follow_ups or "[]"))
        row["parts"] = part_states(st, count, load_parts(parts), remote_id=remote_id, url=url)
        yield json.dumps(row, ensure_ascii=False)


def _z(text: str | None) -> str | None:
    """A stored UTC time (``YYYY-MM-DD HH:MM:SS.ffffff``) as ``iso_z`` writes it, by
    rearranging the text: parsing and formatting 100 000 datetimes costs a second."""
    if text is None:
        return None
    day, _, clock = text.partition(" ")
    hms, _, fraction = clock.partition(".")
    if fraction.strip("0"):
        return f"{day}T{hms}.{fraction[:3]}Z"
    return f"{day}T{hms}Z"


def attempt_rows(schedule_id: int) -> list[dict[str, Any]]:
    """Every recorded attempt of a schedule, oldest first, as ``history --json`` shows
    them: one per part published, retry, failure or settling."""
    get_schedule(schedule_id)
    parse = ScheduledPost.scheduled_time.python_value
    rows = database.execute_sql(
        "SELECT attempt, part, outcome, started_at, finished_at, http_status, error_kind,"
        " error_message, remote_id, remote_url, lateness_ms, warning, resolution, parts"
        " FROM publishing_results WHERE schedule_id = ? ORDER BY id",
        (schedule_id,),
    ).fetchall()
    out = []
    for (
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
        parts,
    ) in rows:
        out.append(
            {
                "attempt": attempt,
                "part": part or 0,
                "outcome": outcome,
                "started_at": iso_z(parse(started)),
                "finished_at": iso_z(parse(finished)),
                "http_status": http_status,
                "error_kind": kind,
                "error": message,
                "remote_id": remote_id,
                "url": url,
                "lateness_ms": lateness,
                "warning": warning,
                "resolution": resolution,
                "parts": json.loads(parts) if parts else None,
            }
        )
    return out


def next_pending() -> tuple[datetime, str, str] | None:
    """(instant, platform, account name) of the pending post that goes out first, on an
    account that can publish; None when nothing is waiting."""
    row = database.execute_sql(
        "SELECT s.next_attempt_at, a.platform, a.display_name FROM scheduled_posts s"
        " JOIN accounts a ON a.id = s.account_id"
        " WHERE s.status = ? AND a.status = ?"
        " ORDER BY s.next_attempt_at, s.id LIMIT 1",
        (Status.PENDING.value, AccountStatus.CONNECTED.value),
    ).fetchone()
    if row is None:
        return None
    when, platform, account = row
    instant = ScheduledPost.next_attempt_at.python_value(when)
    assert instant is not None  # the column is NOT NULL
    return instant, platform, account


def database_label() -> str:
    """The open database as people are shown it: the file, or the team database's URL
    without its password (empty before one is opened)."""
    return backend.current().label


def data_version() -> int:
    """A number that changes whenever another connection (another process) commits:
    the window polls it to notice edits made from the command line."""
    return backend.current().data_version(database)


def list_accounts() -> list[AccountView]:
    """Every account that has not been removed, by name."""
    return [AccountView.of(a) for a in _active_accounts().order_by(Account.display_name)]


def active_account(account_id: int) -> Account | None:
    """The account with this id, or None when it has been removed."""
    return _active_accounts().where(Account.id == account_id).first()


def find_account(account_id: int) -> AccountView | None:
    """A snapshot of the account with this id, or None when it has been removed."""
    acc = active_account(account_id)
    return None if acc is None else AccountView.of(acc)


def account_timezone(name: str) -> str | None:
    """The zone of its own the account named ``name`` has (None: it follows the app's)."""
    row = database.execute_sql(
        "SELECT timezone FROM accounts WHERE display_name = ?", (name,)
    ).fetchone()
    return None if row is None else row[0]


def live_count(account_id: int) -> int:
    """Posts still live on the account: waiting, missed, uncertain or being published."""
    return (
        ScheduledPost.select()
        .where((ScheduledPost.account == account_id) & ScheduledPost.status.in_(LIVE))
        .count()
    )


#: who made a calendar row, changed it last and approved it (after its part counts)
_MEMBERS = ", s.created_by, s.updated_by, s.approved_by"


#: a row's parts (1 + its post's follow-ups) and how many of them are live, in SQL:
#: nothing is parsed for the posts that are not threads, nearly all of them
def _part_counts() -> str:
    on = backend.current()
    return (
        f" CASE WHEN p.follow_ups IN ('', '[]') THEN 1 ELSE 1 + {on.json_length('p.follow_ups')} END,"
        f" CASE WHEN s.parts IS NULL THEN 0 ELSE {on.json_count('s.parts', 'status', Status.PUBLISHED.value)} END"
    )


def calendar_rows(
    start: datetime,
    end: datetime,
    status: str | None = None,
    *,
    include_cancelled: bool = True,
    flt: ScheduleFilter | None = None,
) -> tuple[dict[int, tuple[str, str]], list[tuple]]:
    """What the calendar shows of the schedules in ``[start, end)``: ``(accounts, rows)``.

    ``flt`` narrows them as it narrows the list view (search, statuses, platform,
    account), so a filtered day's count is what it shows, never painted chips hidden.

    ``accounts`` maps each account id to its ``(display name, platform)``. Each row is
    ``(id, post_id, account_id, scheduled_time, status, text, remote_url, error_message,
    recurring, parts, live_parts, created_by, updated_by, approved_by)`` (a thread's parts,
    how many are on the platform, and the members who made, changed and approved it),
    ordered by time then id; ``scheduled_time`` is the stored UTC text, fixed-width
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (so it sorts as the instants do), and ``text`` is the
    schedule's own text or else its post's body.

    A dense month is ten thousand rows: parsing every time and repeating account names
    on every row cost more than the read itself, so times stay text (the caller parses
    the few it shows) and names come once per account.
    """
    if status is not None:
        status = parse_status(status)
    clauses = ["s.scheduled_time >= ?", "s.scheduled_time < ?"]
    params: list[object] = [utc_text(start), utc_text(end)]
    if status:
        clauses.append("s.status = ?")
        params.append(status)
    if not include_cancelled and not (flt and flt.statuses):
        clauses.append("s.status <> ?")
        params.append(Status.CANCELLED.value)
    if flt is not None:
        more, more_params = _filter_clauses(flt)
        clauses += more
        params += more_params
    sql = (
        "SELECT s.id, s.post_id, s.account_id, s.scheduled_time, s.status,"
        # a published post's warning (alt text left out) shows where an error would
        " COALESCE(s.text_override, p.body), s.remote_url, COALESCE(s.error_message, s.warning),"
        " s.recurrence_id IS NOT NULL," + _part_counts() + _MEMBERS + " FROM scheduled_posts s"
        " JOIN accounts a ON a.id = s.account_id JOIN posts p ON p.id = s.post_id"
        " WHERE " + " AND ".join(clauses) + " ORDER BY s.scheduled_time, s.id"
    )
    # One read transaction, so every row's account is in the accounts read with it;
    # DEFERRED takes no write lock, so the window never waits behind a publish.
    with database.atomic("DEFERRED"):
        rows = database.execute_sql(sql, params).fetchall()
        accounts = {
            aid: (name, platform)
            for aid, name, platform in database.execute_sql(
                "SELECT id, display_name, platform FROM accounts"
            )
        }
    return accounts, rows


def _calendar_shaped_rows(
    where: str, params: list[object], order: str, limit: int | None = None
) -> tuple[dict[int, tuple[str, str]], list[tuple]]:
    """:func:`calendar_rows`' ``(accounts, rows)`` for any ``where``: one query, plain rows."""
    sql = (
        "SELECT s.id, s.post_id, s.account_id, s.scheduled_time, s.status,"
        " COALESCE(s.text_override, p.body), s.remote_url, s.error_message,"
        " s.recurrence_id IS NOT NULL," + _part_counts() + _MEMBERS + " FROM scheduled_posts s"
        " JOIN posts p ON p.id = s.post_id"
        f" WHERE {where} ORDER BY {order}" + (f" LIMIT {int(limit)}" if limit is not None else "")
    )
    with database.atomic("DEFERRED"):
        rows = database.execute_sql(sql, params).fetchall()
        accounts = {
            aid: (name, platform)
            for aid, name, platform in database.execute_sql(
                "SELECT id, display_name, platform FROM accounts"
            )
        }
    return accounts, rows


def upcoming_rows(
    days: float = 7, *, clock: Clock | None = None, limit: int | None = None
) -> tuple[int, dict[int, tuple[str, str]], list[tuple]]:
    """``(total, accounts, rows)``: how many posts :func:`upcoming_views` lists, and
    the first ``limit`` of them (all with None) as :func:`calendar_rows` shapes rows."""
    now = (clock or SystemClock()).now()
    where = "s.status IN (?, ?) AND s.scheduled_time <= ?"
    params: list[object] = [
        *sorted(s.value for s in UPCOMING),
        utc_text(now + timedelta(days=days)),
    ]
    accounts, rows = _calendar_shaped_rows(where, params, "s.next_attempt_at, s.id", limit)
    if limit is None or len(rows) < limit:
        return len(rows), accounts, rows
    (total,) = database.execute_sql(
        f"SELECT COUNT(*) FROM scheduled_posts s WHERE {where}", params
    ).fetchone()
    return int(total), accounts, rows


def status_count(*statuses: Status) -> int:
    """How many schedules are in any of ``statuses``."""
    wanted = [s.value for s in statuses]
    (total,) = database.execute_sql(
        f"SELECT COUNT(*) FROM scheduled_posts WHERE status IN ({', '.join('?' * len(wanted))})",
        wanted,
    ).fetchone()
    return int(total)


def awaiting_approval_count(account_id: int | None = None) -> int:
    """How many posts wait for a member's approval (of one account, if given)."""
    sql = "SELECT COUNT(*) FROM scheduled_posts WHERE status = ?"
    params: list[object] = [Status.AWAITING_APPROVAL.value]
    if account_id is not None:
        sql += " AND account_id = ?"
        params.append(account_id)
    (total,) = database.execute_sql(sql, params).fetchone()
    return int(total)


def attention_rows(limit: int) -> tuple[int, dict[int, tuple[str, str]], list[tuple]]:
    """``(total, accounts, rows)``: how many schedules need attention, and the ``limit``
    most recent of them (as :func:`calendar_rows` shapes rows), most recent first."""
    wanted = sorted(s.value for s in NEEDS_ATTENTION)
    marks = ", ".join("?" * len(wanted))
    (total,) = database.execute_sql(
        f"SELECT COUNT(*) FROM scheduled_posts WHERE status IN ({marks})", wanted
    ).fetchone()
    # the newest few of each status through the (status, scheduled_time) index, rather
    # than sorting every row needing attention (thousands at 100 000 posts)
    newest = " UNION ALL ".join(
        "SELECT * FROM (SELECT id FROM scheduled_posts WHERE status = ?"
        " ORDER BY scheduled_time DESC, id DESC LIMIT ?)"
        for _ in wanted
    )
    params: list[object] = []
    for status in wanted:
        params += [status, int(limit)]
    accounts, rows = _calendar_shaped_rows(
        f"s.id IN ({newest})", params, "s.scheduled_time DESC, s.id DESC", limit
    )
    return int(total), accounts, rows


def draft_rows() -> list[tuple[int, str, str, int]]:
    """What the drafts pane shows of :func:`drafts`, in one query: ``(post id, body,
    updated_at as stored UTC text, media count)``, most recently edited first."""
    return database.execute_sql(
        "SELECT p.id, p.body, p.updated_at,"
        " (SELECT COUNT(*) FROM media m WHERE m.post_id = p.id) FROM posts p"
        " WHERE NOT EXISTS (SELECT 1 FROM scheduled_posts s"
        " WHERE s.post_id = p.id AND s.status <> ?)"
        " ORDER BY p.updated_at DESC",
        (Status.CANCELLED.value,),
    ).fetchall()


def post_rows() -> list[dict[str, Any]]:
    """Every post as the stable dicts scripts see (``post list --json``), oldest first."""
    out = []
    for post in Post.select().order_by(Post.id):
        out.append(
            {
                "id": post.id,
                "text": post.body,
                "voice": post.voice,
                "created_at": iso_z(post.created_at),
                "media": [
                    {
                        "kind": m.kind,
                        "mime": m.mime,
                        "path": m.path,
                        "url": m.url,
                        "alt_text": m.alt_text,
                    }
                    for m in post.media.order_by(Media.position)
                    if not m.part
                ],
                "follow_ups": list(follow_up_texts(post)),
                "follow_up_delay": post.follow_up_delay or 0,
                "schedules": [s.id for s in post.schedules.order_by(ScheduledPost.id)],
            }
        )
    return out


def first_schedule_of(recurrence_id: int) -> ScheduledPost | None:
    """The earliest materialised occurrence of a repeat (None if none is near yet)."""
    return (
        ScheduledPost.select()
        .where(ScheduledPost.recurrence == recurrence_id)
        .order_by(ScheduledPost.scheduled_time)
        .first()
    )


def stopped_repeats() -> list[dict[str, Any]]:
    """Repeats that stopped on their own (a rule that can no longer be expanded), each
    with the failed row that says why, until the user deals with it: moves or publishes
    that row, stops the repeat on purpose, or gives the post a new repeat on that
    account. Oldest first."""
    rows = database.execute_sql(
        "SELECT s.id, s.post_id, s.recurrence_id, a.display_name, a.platform, s.created_at,"
        " s.error_message FROM scheduled_posts s"
        " JOIN accounts a ON a.id = s.account_id"
        " WHERE s.status = ? AND a.status <> ?"
        " AND EXISTS (SELECT 1 FROM publishing_results r"
        "  WHERE r.schedule_id = s.id AND r.error_kind = ?)"
        " AND NOT EXISTS (SELECT 1 FROM recurrences n WHERE n.post_id = s.post_id"
        "  AND n.account_id = s.account_id AND n.active AND n.created_at > s.created_at)"
        " ORDER BY s.created_at, s.id",
        (Status.FAILED.value, AccountStatus.REMOVED.value, STOPPED_KIND),
    ).fetchall()
    parse = ScheduledPost.created_at.python_value
    return [
        {
            "schedule_id": sid,
            "post_id": post_id,
            "recurrence_id": recurrence_id,
            "account": account,
            "platform": platform,
            "stopped_at": iso_z(parse(stopped)),
            "reason": reason,
        }
        for sid, post_id, recurrence_id, account, platform, stopped, reason in rows
    ]


def has_posts() -> bool:
    """Whether any post was ever written (a draft or scheduled), for the first-run guide."""
    return Post.select().exists()


# ---------------------------------------------------------------- the list view: every schedule


@dataclass(frozen=True)
class ScheduleFilter:
    """Which schedules the list view shows; the empty filter shows every one, all time."""

    #: words the post's text or its account's name contains (case-insensitive)
    text: str = ""
    #: only these statuses (empty: any)
    statuses: frozenset[str] = field(default_factory=frozenset)
    platform: str | None = None
    account_id: int | None = None

    def narrows(self) -> bool:
        """Whether it lets fewer than every schedule through."""
        return bool(self.text.strip() or self.statuses or self.platform) or (
            self.account_id is not None
        )


#: what the list view can sort by, each with a tie-breaker so pages never overlap
TABLE_SORTS = {
    "time": "s.scheduled_time {dir}, s.id {dir}",
    "status": "s.status {dir}, s.scheduled_time DESC, s.id DESC",
    "platform": "a.platform {dir}, s.scheduled_time DESC, s.id DESC",
    "account": "a.display_name {dir}, s.scheduled_time DESC, s.id DESC",
    "text": "COALESCE(s.text_override, p.body) {dir}, s.id DESC",
    "problem": "COALESCE(s.error_message, s.warning) {dir}, s.scheduled_time DESC, s.id DESC",
}

_TABLE_FROM = (
    " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id"
    " JOIN posts p ON p.id = s.post_id"
)


def _like(text: str) -> str:
    """``text`` as a LIKE pattern that matches it anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filter_clauses(flt: ScheduleFilter) -> tuple[list[str], list[object]]:
    """The SQL conditions of ``flt`` over ``s`` (schedules), ``a`` (accounts), ``p`` (posts)."""
    clauses: list[str] = []
    params: list[object] = []
    if flt.statuses:
        wanted = sorted(parse_status(s).value for s in flt.statuses)
        clauses.append(f"s.status IN ({', '.join('?' * len(wanted))})")
        params += wanted
    if flt.platform:
        clauses.append("a.platform = ?")
        params.append(flt.platform)
    if flt.account_id is not None:
        clauses.append("s.account_id = ?")
        params.append(flt.account_id)
    like = backend.current().like
    for word in flt.text.split():
        clauses.append(
            f"(COALESCE(s.text_override, p.body) {like} ? ESCAPE '\\'"
            f" OR a.display_name {like} ? ESCAPE '\\')"
        )
        params += [_like(word), _like(word)]
    return clauses, params


def _table_where(flt: ScheduleFilter) -> tuple[str, list[object]]:
    clauses, params = _filter_clauses(flt)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def calendar_count(start: datetime, end: datetime, *, include_cancelled: bool = True) -> int:
    """How many schedules ``[start, end)`` holds, unfiltered: the "of M" a filter hides from."""
    sql = "SELECT COUNT(*) FROM scheduled_posts s WHERE s.scheduled_time >= ? AND s.scheduled_time < ?"
    params: list[object] = [utc_text(start), utc_text(end)]
    if not include_cancelled:
        sql += " AND s.status <> ?"
        params.append(Status.CANCELLED.value)
    return int(database.execute_sql(sql, params).fetchone()[0])


def schedule_table_count(flt: ScheduleFilter) -> int:
    """How many schedules ``flt`` lets through (the list view's count and scroll size)."""
    where, params = _table_where(flt)
    sql = "SELECT COUNT(*)" + _TABLE_FROM + where
    return int(database.execute_sql(sql, params).fetchone()[0])


def schedule_table_rows(
    flt: ScheduleFilter,
    *,
    limit: int,
    offset: int = 0,
    sort: str = "time",
    descending: bool = True,
) -> tuple[dict[int, tuple[str, str]], list[tuple]]:
    """One page of the list view: ``(accounts, rows)`` shaped as :func:`calendar_rows`'.

    Every row carries the reason it failed (or the warning of a post that went out)
    in its last field. Pages are cut with LIMIT/OFFSET in a stable order, so the
    table reads only what is scrolled to, however many schedules there are.
    """
    if sort not in TABLE_SORTS:
        raise ValueError(
            f"cannot sort the list by {sort!r}: choose one of {', '.join(TABLE_SORTS)}"
        )
    where, params = _table_where(flt)
    order = TABLE_SORTS[sort].format(dir="DESC" if descending else "ASC")
    sql = (
        "SELECT s.id, s.post_id, s.account_id, s.scheduled_time, s.status,"
        " COALESCE(s.text_override, p.body), s.remote_url, COALESCE(s.error_message, s.warning)"
        + _TABLE_FROM
        + where
        + f" ORDER BY {order} LIMIT ? OFFSET ?"
    )
    with database.atomic("DEFERRED"):
        rows = database.execute_sql(sql, [*params, int(limit), int(offset)]).fetchall()
        accounts = {
            aid: (name, platform)
            for aid, name, platform in database.execute_sql(
                "SELECT id, display_name, platform FROM accounts"
            )
        }
    return accounts, rows


def attention_ids() -> list[int]:
    """Schedules the user has to settle (failed, uncertain, missed), oldest first."""
    wanted = sorted(s.value for s in NEEDS_ATTENTION)
    rows = database.execute_sql(
        f"SELECT id FROM scheduled_posts WHERE status IN ({', '.join('?' * len(wanted))})"
        " ORDER BY scheduled_time, id",
        wanted,
    ).fetchall()
    return [sid for (sid,) in rows]


def missed_ids(cutoff: datetime) -> list[int]:
    """Posts that missed their time: marked missed, or still waiting with their time
    before ``cutoff`` (now minus the grace window), which the scheduler marks missed at
    its first check. Oldest first.

    The start-up summary and the missed-posts dialog both count with this, so they
    agree even when the scheduler's first check lands between them.
    """
    rows = database.execute_sql(
        "SELECT id FROM scheduled_posts WHERE status = ? OR (status = ? AND next_attempt_at < ?)"
        " ORDER BY scheduled_time, id",
        (Status.MISSED.value, Status.PENDING.value, utc_text(cutoff)),
    ).fetchall()
    return [sid for (sid,) in rows]


def due_schedule_ids(post_id: int, before: datetime) -> list[int]:
    """The post's schedules waiting to go out before ``before`` (what "Publish now" in
    the editor just made due), by id."""
    rows = database.execute_sql(
        "SELECT id FROM scheduled_posts WHERE post_id = ? AND status = ? AND next_attempt_at <= ?"
        " ORDER BY id",
        (post_id, Status.PENDING.value, utc_text(before)),
    ).fetchall()
    return [sid for (sid,) in rows]


def last_result_id() -> int:
    """The newest publish attempt's id (0 when none): where the window starts
    reporting a background scheduler's outcomes."""
    (value,) = database.execute_sql(
        "SELECT COALESCE(MAX(id), 0) FROM publishing_results"
    ).fetchone()
    return int(value)


# ---------------------------------------------------------------- insights


def snapshot_candidates(
    since: datetime | None, account_id: int | None = None
) -> list[tuple[int, int, str, str, datetime, frozenset[str]]]:
    """(schedule id, account id, platform, remote id, published at, buckets taken) of
    the published posts of connected accounts, published since ``since`` (all when
    None), oldest first."""
    sql = (
        "SELECT s.id, s.account_id, a.platform, s.remote_id, s.published_at,"
        f" (SELECT {backend.current().group_concat('m.age_bucket', distinct=True)}"
        " FROM post_metrics m"
        "  WHERE m.schedule_id = s.id)"
        " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id"
        f" WHERE s.status = '{Status.PUBLISHED}' AND a.status = '{AccountStatus.CONNECTED}'"
        " AND s.remote_id IS NOT NULL AND s.remote_id != '' AND s.published_at IS NOT NULL"
    )
    params: list[object] = []
    if since is not None:
        sql += " AND s.published_at >= ?"
        params.append(utc_text(since))
    if account_id is not None:
        sql += " AND s.account_id = ?"
        params.append(account_id)
    sql += " ORDER BY s.published_at, s.id"
    instant = ScheduledPost.published_at.python_value
    return [
        (
            sid,
            acc,
            platform,
            remote,
            cast("datetime", instant(at)),
            frozenset((taken or "").split(",")) - {""},
        )
        for sid, acc, platform, remote, at, taken in database.execute_sql(sql, params).fetchall()
    ]


def latest_metrics(account_id: int | None = None) -> list[dict[str, Any]]:
    """Each published post's latest snapshot, newest post first: what ``insights``
    lists and the insights view's table shows."""
    sql = (
        "SELECT s.id, s.post_id, a.display_name, a.platform, s.published_at, s.remote_url,"
        " COALESCE(s.text_override, p.body), m.taken_at, m.age_bucket, m.counters,"
        " m.interactions, m.impressions"
        " FROM post_metrics m JOIN scheduled_posts s ON s.id = m.schedule_id"
        " JOIN accounts a ON a.id = m.account_id JOIN posts p ON p.id = s.post_id"
        " WHERE m.id = (SELECT m2.id FROM post_metrics m2 WHERE m2.schedule_id = m.schedule_id"
        "  ORDER BY m2.taken_at DESC, m2.id DESC LIMIT 1)"
        f" AND a.status != '{AccountStatus.REMOVED}'"
    )
    params: list[object] = []
    if account_id is not None:
        sql += " AND m.account_id = ?"
        params.append(account_id)
    sql += " ORDER BY s.published_at DESC, s.id DESC"
    instant = ScheduledPost.published_at.python_value
    rows = []
    for (sid, post_id, account, platform, published, url, text, taken, bucket, counters,
         interacted, impressions) in database.execute_sql(sql, params).fetchall():  # fmt: skip
        rows.append(
            {
                "schedule_id": sid,
                "post_id": post_id,
                "account": account,
                "platform": platform,
                "published_at": instant(published),
                "url": url,
                "text": text or "",
                "taken_at": instant(taken),
                "age": bucket,
                "counters": json.loads(counters or "{}"),
                "interactions": interacted,
                "impressions": impressions,
            }
        )
    return rows


def metric_history(schedule_id: int) -> list[tuple[datetime, int, int | None]]:
    """(taken at, interactions, impressions) of one post's snapshots, oldest first."""
    rows = database.execute_sql(
        "SELECT taken_at, interactions, impressions FROM post_metrics WHERE schedule_id = ?"
        " ORDER BY taken_at, id",
        (schedule_id,),
    ).fetchall()
    instant = ScheduledPost.published_at.python_value
    return [(cast("datetime", instant(t)), i, m) for t, i, m in rows]


def measured_posts(
    account_id: int, *, settled_after: float = 24 * 3600
) -> list[tuple[datetime, int, int | None]]:
    """(published at, interactions, impressions) of the account's posts, each from its
    latest snapshot taken at least ``settled_after`` seconds after it went out: a post
    measured only an hour in has not had its day yet, and is left out."""
    rows = database.execute_sql(
        "SELECT s.id, s.published_at, m.taken_at, m.interactions, m.impressions"
        " FROM post_metrics m JOIN scheduled_posts s ON s.id = m.schedule_id"
        " WHERE m.account_id = ? AND s.published_at IS NOT NULL ORDER BY m.taken_at, m.id",
        (account_id,),
    ).fetchall()
    instant = ScheduledPost.published_at.python_value
    latest: dict[int, tuple[datetime, int, int | None]] = {}
    for sid, published, taken, interacted, impressions in rows:
        at, when = cast("datetime", instant(published)), cast("datetime", instant(taken))
        if (when - at).total_seconds() >= settled_after:
            latest[sid] = (at, interacted, impressions)
    return list(latest.values())


def metric_histories(account_id: int) -> dict[int, list[tuple[datetime, int]]]:
    """Per schedule id of the account, its snapshots' (taken at, interactions), oldest
    first: the insights view's curves, in one read rather than one per post."""
    rows = database.execute_sql(
        "SELECT schedule_id, taken_at, interactions FROM post_metrics WHERE account_id = ?"
        " ORDER BY schedule_id, taken_at, id",
        (account_id,),
    ).fetchall()
    instant = ScheduledPost.published_at.python_value
    out: dict[int, list[tuple[datetime, int]]] = {}
    for sid, taken, interacted in rows:
        out.setdefault(sid, []).append((cast("datetime", instant(taken)), int(interacted or 0)))
    return out


def account_post_times(account_id: int, start: datetime, end: datetime) -> list[datetime]:
    """The times of the account's pending, publishing and published posts in
    ``[start, end)``, soonest first (what a suggested time must keep clear of)."""
    wanted = sorted(s.value for s in OCCUPIES_SLOT)
    rows = database.execute_sql(
        "SELECT scheduled_time FROM scheduled_posts WHERE account_id = ?"
        " AND scheduled_time >= ? AND scheduled_time < ?"
        f" AND status IN ({', '.join('?' * len(wanted))}) ORDER BY scheduled_time",
        [account_id, utc_text(start), utc_text(end), *wanted],
    ).fetchall()
    parse = ScheduledPost.scheduled_time.python_value
    return [t for (text,) in rows if (t := parse(text)) is not None]
