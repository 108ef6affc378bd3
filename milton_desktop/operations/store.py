"""The domain operations the command line and the window share.

Each function validates first and then writes in one transaction, so bad input
never leaves anything half-written. Errors are :class:`UserError` with a message
that says what is wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Final

import peewee as pw

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.timeutil import iso_z
from milton_desktop.domain.validation import validate
from milton_desktop.publishers import PLATFORM_LABELS
from milton_desktop.publishers.base import Content, MediaItem
from milton_desktop.storage import media as media_mod
from milton_desktop.storage.models import (
    PLATFORMS,
    STATUSES,
    VOICES,
    Account,
    Media,
    Post,
    PublishingResult,
    Recurrence,
    ScheduledPost,
    database,
    utc_text,
)

#: how far in the past a schedule may be set and still count as "now"
PAST_TOLERANCE = timedelta(seconds=60)


class UserError(ValueError):
    """Bad input from the user; the message says what to do."""


# ---------------------------------------------------------------- accounts


def get_account(name_or_id: str | int) -> Account:
    query = Account.select()
    if isinstance(name_or_id, int) or (isinstance(name_or_id, str) and name_or_id.isdigit()):
        acc = query.where(
            (Account.id == int(name_or_id)) | (Account.display_name == str(name_or_id))
        ).first()
    else:
        acc = query.where(Account.display_name == name_or_id).first()
    if acc is None:
        names = ", ".join(a.display_name for a in Account.select().order_by(Account.display_name))
        hint = (
            f" (accounts: {names})"
            if names
            else " (no accounts yet: add one with `milton-desktop account add`)"
        )
        raise UserError(f"no account named {name_or_id!r}{hint}")
    return acc


def check_account_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise UserError("the account needs a name: pass --name NAME")
    if len(name) > 100 or any(ord(c) < 32 for c in name):
        raise UserError("the account name must be at most 100 printable characters")
    if Account.select().where(Account.display_name == name).exists():
        raise UserError(
            f"an account named {name!r} already exists: choose another --name or remove it first"
        )
    return name


def check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise UserError(f"unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}")
    return platform


# ---------------------------------------------------------------- posts


def check_voice(voice: str) -> str:
    if voice not in VOICES:
        raise UserError(f"unknown voice {voice!r}: choose one of {', '.join(VOICES)}")
    return voice


@dataclass(frozen=True)
class MediaInput:
    """One attachment as the user gives it: a local file or a public URL."""

    path: Path | None = None
    url: str | None = None
    alt_text: str = ""
    #: the name shown for it; empty means the file's or link's own name. A file that is
    #: already in the media folder (named by its hash) passes its first name on here.
    original_name: str = ""


def _media_rows(media: Sequence[MediaInput], media_dir: Path | None) -> list[dict]:
    """Check every attachment and copy local files into ``media_dir``; the Media row fields.

    Raises :class:`UserError` on the first unusable item, before anything is stored.
    """
    rows: list[dict] = []
    for pos, item in enumerate(media):
        if item.path is not None:
            if media_dir is None:
                raise UserError("no media folder configured")
            try:
                stored, info = media_mod.import_file(Path(item.path), media_dir)
            except media_mod.MediaError as exc:
                raise UserError(str(exc)) from None
            rows.append(
                dict(
                    position=pos,
                    kind=info.kind,
                    path=str(stored),
                    mime=info.mime,
                    bytes=info.size,
                    width=info.width,
                    height=info.height,
                    alt_text=item.alt_text,
                    original_name=item.original_name or Path(item.path).name,
                )
            )
        elif item.url:
            try:
                kind, mime = media_mod.describe_url(item.url)
            except media_mod.MediaError as exc:
                raise UserError(str(exc)) from None
            rows.append(
                dict(
                    position=pos,
                    kind=kind,
                    url=item.url,
                    mime=mime,
                    alt_text=item.alt_text,
                    original_name=item.original_name or item.url.rsplit("/", 1)[-1][:200],
                )
            )
    return rows


def add_post(
    text: str,
    voice: str = "personal",
    media: Sequence[MediaInput] = (),
    media_dir: Path | None = None,
    clock: Clock | None = None,
) -> Post:
    """Create a draft post; media files are checked and copied before anything is stored."""
    check_voice(voice)
    if "\x00" in text:
        raise UserError("the text contains a NUL character: remove it")
    if not text.strip() and not media:
        raise UserError("the post is empty: give --text or at least one --media/--media-url")
    rows = _media_rows(media, media_dir)
    now = (clock or SystemClock()).now()
    with database.atomic():
        post = Post.create(body=text, voice=voice, created_at=now, updated_at=now)
        for row in rows:
            Media.create(post=post, **row)
    return post


def update_post(post_id: int, text: str | None = None, voice: str | None = None) -> Post:
    post = get_post(post_id)
    if voice is not None:
        post.voice = check_voice(voice)
    if text is not None:
        post.body = text
    post.updated_at = SystemClock().now()
    post.save()
    return post


#: schedules that may still go out as they are: publish_now() sends a missed one unchecked
_STILL_TO_GO = ("pending", "missed")


def replace_media(
    post_id: int,
    media: Sequence[MediaInput],
    media_dir: Path,
    clock: Clock | None = None,
) -> Post:
    """Replace all of a post's media with ``media`` (in order), or change nothing.

    Every new item is checked, and local files copied into ``media_dir``, before the
    database is touched (as in :func:`add_post`). Then, in one transaction, the change
    is refused while a schedule of the post is being published (its publisher is
    reading the old media) and when any schedule still to go out would be refused by
    its platform with the new media (e.g. Instagram and a local-only file).
    """
    now = (clock or SystemClock()).now()
    get_post(post_id)  # say "no such post" before copying any file
    rows = _media_rows(media, media_dir)
    items = tuple(_media_item(Media(**row)) for row in rows)
    with database.atomic():
        # read again under the write lock: the engine cannot claim a row until we are done
        post = get_post(post_id)
        if not post.body.strip() and not rows:
            raise UserError(
                f"post {post_id} would be empty: keep at least one image or video, "
                "or give the post some text"
            )
        live = list(
            ScheduledPost.select(ScheduledPost, Account)
            .join(Account)
            .where(
                (ScheduledPost.post == post_id)
                & ScheduledPost.status.in_(("publishing", *_STILL_TO_GO))
            )
            .order_by(ScheduledPost.id)
        )
        if any(s.status == "publishing" for s in live):
            raise UserError(
                f"the media of post {post_id} cannot be changed: "
                "it is being published right now; try again in a moment"
            )
        refusals = []
        for s in live:
            text = s.text_override if s.text_override is not None else post.body
            details = _problems_for(s.account, Content(text=text, media=items))
            if details:
                label = PLATFORM_LABELS.get(s.account.platform, s.account.platform)
                refusals.append(
                    f"{label} account {s.account.display_name!r} (schedule {s.id}) "
                    f"would refuse them: {details}"
                )
        if refusals:
            raise UserError(f"cannot change the media of post {post_id}: " + "; ".join(refusals))
        Media.delete().where(Media.post == post_id).execute()
        for row in rows:
            Media.create(post=post, **row)
        post.updated_at = now
        post.save()
    return post


def get_post(post_id: int) -> Post:
    post = Post.get_or_none(Post.id == post_id)
    if post is None:
        raise UserError(f"no post with id {post_id}: see `milton-desktop post list`")
    return post


def _media_item(m: Media) -> MediaItem:
    """What publishers and validation see of a Media row (stored, or about to be)."""
    return MediaItem(
        kind=m.kind,
        mime=m.mime,
        path=Path(m.path) if m.path else None,
        url=m.url,
        alt_text=m.alt_text or "",
        size=m.bytes or 0,
        width=m.width,
        height=m.height,
    )


def media_items(post: Post) -> tuple[MediaItem, ...]:
    return tuple(_media_item(m) for m in post.media.order_by(Media.position))


def content_for(schedule: ScheduledPost) -> Content:
    text = schedule.text_override if schedule.text_override is not None else schedule.post.body
    return Content(text=text, media=media_items(schedule.post))


def drafts() -> list[Post]:
    """Posts with no live schedule (never scheduled, or only cancelled)."""
    live = ScheduledPost.select(ScheduledPost.post).where(ScheduledPost.status != "cancelled")
    return list(Post.select().where(Post.id.not_in(live)).order_by(Post.updated_at.desc()))


# ---------------------------------------------------------------- schedules


def _check_future(when: datetime, now: datetime) -> None:
    if when < now - PAST_TOLERANCE:
        raise UserError(f"{iso_z(when)} is in the past (now is {iso_z(now)}): choose a future time")


def _problems_for(account: Account, content: Content) -> str:
    """What ``account``'s platform would refuse in ``content``, as one line ("" if nothing)."""
    return "; ".join(p.message for p in validate(account.platform, content))


def _validate_for(account: Account, content: Content) -> None:
    details = _problems_for(account, content)
    if details:
        label = PLATFORM_LABELS.get(account.platform, account.platform)
        raise UserError(f"cannot schedule to {label} account {account.display_name!r}: {details}")


def schedule(
    post_id: int,
    account: str | int | Account,
    when: datetime,
    *,
    timezone: str = "UTC",
    text: str | None = None,
    clock: Clock | None = None,
) -> ScheduledPost:
    """Schedule a post to an account at the UTC instant ``when``."""
    now = (clock or SystemClock()).now()
    post = get_post(post_id)
    acc = account if isinstance(account, Account) else get_account(account)
    _check_future(when, now)
    body = text if text is not None else post.body
    _validate_for(acc, Content(text=body, media=media_items(post)))
    when = max(when, now)
    return ScheduledPost.create(
        post=post,
        account=acc,
        text_override=text,
        scheduled_time=when,
        timezone=timezone,
        status="pending",
        next_attempt_at=when,
        created_at=now,
        updated_at=now,
    )


def schedule_repeating(
    post_id: int,
    account: str | int | Account,
    first_local: datetime,
    timezone: str,
    rule: str,
    *,
    text: str | None = None,
    clock: Clock | None = None,
) -> Recurrence:
    """Repeat a post by an RRULE from the naive local time ``first_local`` in ``timezone``.

    Upcoming occurrences become ordinary pending schedules right away.
    """
    from milton_desktop.operations import repeats as rec_mod

    now = (clock or SystemClock()).now()
    post = get_post(post_id)
    acc = account if isinstance(account, Account) else get_account(account)
    body = text if text is not None else post.body
    _validate_for(acc, Content(text=body, media=media_items(post)))
    try:
        rec_mod.check_rule(rule, first_local, timezone, now)
    except rec_mod.RecurrenceError as exc:
        raise UserError(str(exc)) from None
    with database.atomic():
        rec = Recurrence.create(
            post=post,
            account=acc,
            rrule=rule.strip().removeprefix("RRULE:"),
            dtstart_local=first_local.isoformat(),
            timezone=timezone,
            text_override=text,
            created_at=now,
        )
        rec_mod.materialize(now)
    return rec


def stop_series(schedule_id: int, *, clock: Clock | None = None) -> int:
    """Stop the repeat a schedule belongs to and cancel its pending occurrences."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.recurrence_id is None:
        raise UserError(f"schedule {schedule_id} does not repeat; use `cancel {schedule_id}` alone")
    with database.atomic():
        Recurrence.update(active=False).where(Recurrence.id == row.recurrence_id).execute()
        return (
            ScheduledPost.update(status="cancelled", updated_at=now)
            .where(
                (ScheduledPost.recurrence == row.recurrence_id)
                & (ScheduledPost.status.in_(("pending", "missed")))
            )
            .execute()
        )


def get_schedule(schedule_id: int) -> ScheduledPost:
    row = ScheduledPost.get_or_none(ScheduledPost.id == schedule_id)
    if row is None:
        raise UserError(f"no scheduled post with id {schedule_id}: see `milton-desktop list`")
    return row


RESCHEDULABLE = ("pending", "missed", "failed")


def reschedule(schedule_id: int, when: datetime, *, clock: Clock | None = None) -> ScheduledPost:
    """Move a schedule to ``when``. Published, uncertain or in-flight posts cannot move."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    _check_future(when, now)
    if row.status not in RESCHEDULABLE:
        raise UserError(_why_not_movable(row))
    if row.status != "pending":
        _validate_for(row.account, content_for(row))
    n = (
        ScheduledPost.update(
            scheduled_time=when,
            next_attempt_at=when,
            status="pending",
            updated_at=now,
            error_message=None,
            attempts=0 if row.status != "pending" else ScheduledPost.attempts,
        )
        .where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status))
        .execute()
    )
    if n != 1:
        raise UserError(
            f"schedule {schedule_id} changed while moving it (it may be publishing now); try again"
        )
    return get_schedule(schedule_id)


class _Unset(Enum):
    """The type of :data:`UNSET`."""

    UNSET = "UNSET"


#: "leave it as it is", for arguments where None already means something
UNSET: Final = _Unset.UNSET


def update_schedule(
    schedule_id: int,
    *,
    when: datetime | None = None,
    text: str | _Unset | None = UNSET,
    clock: Clock | None = None,
) -> ScheduledPost:
    """Change a schedule's time and/or its own text in place: same row, same repeat.

    ``text=None`` drops the schedule's own text (it gets the post's); :data:`UNSET`
    keeps it. A missed or failed schedule goes back to pending with its attempts
    reset, as with :func:`reschedule`, so it needs a time that has not passed.
    """
    now = (clock or SystemClock()).now()
    with database.atomic():
        row = get_schedule(schedule_id)
        if row.status not in RESCHEDULABLE:
            raise UserError(_why_not_movable(row))
        new_text = row.text_override if isinstance(text, _Unset) else text
        revive = row.status != "pending"
        if when is not None or revive:
            _check_future(when if when is not None else row.scheduled_time, now)
        body = new_text if new_text is not None else row.post.body
        _validate_for(row.account, Content(text=body, media=media_items(row.post)))
        updates: dict[str, object] = {"text_override": new_text, "updated_at": now}
        if revive or (when is not None and when != row.scheduled_time):
            at = when if when is not None else row.scheduled_time
            # a note about the old time (a DST shift, a past error) no longer applies
            updates.update(scheduled_time=at, next_attempt_at=at, error_message=None)
        if revive:
            updates.update(status="pending", attempts=0)
        n = (
            ScheduledPost.update(**updates)
            .where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status))
            .execute()
        )
        if n != 1:
            # the scheduler claimed it (or someone changed it) after it was read
            current = get_schedule(schedule_id)
            if current.status == "publishing":
                raise UserError(
                    f"schedule {schedule_id} was not changed: it is being published right now"
                )
            raise UserError(
                f"schedule {schedule_id} was not changed: it became {current.status} "
                "while it was being edited; try again"
            )
    return get_schedule(schedule_id)


def _why_not_movable(row: ScheduledPost) -> str:
    reasons = {
        "published": "it is already published",
        "publishing": "it is being published right now",
        "uncertain": "its last publish may have gone through: check the account, then use "
        "`milton-desktop resolve` to mark it published or publish it again",
        "cancelled": "it was cancelled: schedule the post again instead",
    }
    return f"schedule {row.id} cannot be moved: {reasons.get(row.status, row.status)}"


def cancel(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """Cancel a pending (or missed) schedule. Atomic, so a row being published stays put."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    n = (
        ScheduledPost.update(status="cancelled", updated_at=now)
        .where(
            (ScheduledPost.id == schedule_id) & (ScheduledPost.status.in_(("pending", "missed")))
        )
        .execute()
    )
    if n != 1:
        row = get_schedule(schedule_id)
        raise UserError(
            f"schedule {schedule_id} is {row.status}, not pending: only pending posts can be cancelled"
        )
    return get_schedule(schedule_id)


def restore(schedule_id: int, status: str, when: datetime | None = None) -> ScheduledPost:
    """Undo support: put a cancelled row back to ``status`` (pending/missed)."""
    row = get_schedule(schedule_id)
    if row.status != "cancelled":
        raise UserError(
            f"schedule {schedule_id} is {row.status}; it can only be restored from cancelled"
        )
    updates = {"status": status, "updated_at": SystemClock().now()}
    if when is not None:
        updates.update(scheduled_time=when, next_attempt_at=when)
    ScheduledPost.update(**updates).where(ScheduledPost.id == schedule_id).execute()
    return get_schedule(schedule_id)


def publish_now(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """A missed or failed post goes out at once (the user chose it)."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.status not in ("missed", "failed", "pending"):
        raise UserError(_why_not_movable(row))
    ScheduledPost.update(
        status="pending", next_attempt_at=now, updated_at=now, error_message=None
    ).where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status)).execute()
    return get_schedule(schedule_id)


def resolve_uncertain(
    schedule_id: int, published: bool, url: str | None = None, *, clock: Clock | None = None
) -> ScheduledPost:
    """The user checked the platform: it did go out (published) or did not (back to pending now)."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.status != "uncertain":
        raise UserError(f"schedule {schedule_id} is {row.status}, not uncertain")
    if published:
        ScheduledPost.update(
            status="published", published_at=now, remote_url=url or row.remote_url, updated_at=now
        ).where(ScheduledPost.id == schedule_id).execute()
    else:
        ScheduledPost.update(status="pending", next_attempt_at=now, updated_at=now).where(
            ScheduledPost.id == schedule_id
        ).execute()
    return get_schedule(schedule_id)


def list_schedules(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> list[ScheduledPost]:
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
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


def upcoming(days: float = 7, *, clock: Clock | None = None) -> list[ScheduledPost]:
    now = (clock or SystemClock()).now()
    q = (
        ScheduledPost.select(ScheduledPost, Post, Account)
        .join(Post)
        .switch(ScheduledPost)
        .join(Account)
        .where(
            (ScheduledPost.status == "pending")
            & (ScheduledPost.scheduled_time <= now + timedelta(days=days))
        )
        .order_by(ScheduledPost.next_attempt_at)
    )
    return list(q)


def counts_by_status() -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for status, n in (
        ScheduledPost.select(ScheduledPost.status, pw.fn.COUNT(ScheduledPost.id))
        .group_by(ScheduledPost.status)
        .tuples()
    ):
        counts[status] = n
    return counts


def schedule_json(row: ScheduledPost) -> dict:
    """The stable JSON shape of a schedule, as scripts see it."""
    return {
        "id": row.id,
        "post_id": row.post_id,
        "account": row.account.display_name,
        "platform": row.account.platform,
        "scheduled_time": iso_z(row.scheduled_time),
        "timezone": row.timezone,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso_z(row.next_attempt_at) if row.status == "pending" else None,
        "published_at": iso_z(row.published_at),
        "remote_id": row.remote_id,
        "url": row.remote_url,
        "error": row.error_message,
        "text": row.text_override if row.text_override is not None else row.post.body,
    }


_ROW_SQL = (
    "SELECT s.id, s.post_id, a.display_name, a.platform, s.scheduled_time, s.timezone, s.status,"
    " s.attempts, s.next_attempt_at, s.published_at, s.remote_id, s.remote_url, s.error_message,"
    " COALESCE(s.text_override, p.body)"
    " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id JOIN posts p ON p.id = s.post_id"
)


def schedule_rows(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    pending_before: datetime | None = None,
) -> list[dict]:
    """Schedules as :func:`schedule_json` dicts, read with one plain query.

    Listing tens of thousands of rows through model instances costs seconds; this is
    what ``list`` and ``upcoming`` use.
    """
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    clauses, params = [], []
    if status:
        clauses.append("s.status = ?")
        params.append(status)
    if start is not None:
        clauses.append("s.scheduled_time >= ?")
        params.append(utc_text(start))
    if end is not None:
        clauses.append("s.scheduled_time < ?")
        params.append(utc_text(end))
    if pending_before is not None:
        clauses.append("s.status = 'pending' AND s.scheduled_time <= ?")
        params.append(utc_text(pending_before))
    sql = _ROW_SQL + (" WHERE " + " AND ".join(clauses) if clauses else "")
    sql += (
        " ORDER BY s.next_attempt_at, s.id"
        if pending_before
        else " ORDER BY s.scheduled_time, s.id"
    )
    parse = ScheduledPost.scheduled_time.python_value
    out = []
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
    ) in database.execute_sql(sql, params):
        out.append(
            {
                "id": sid,
                "post_id": post_id,
                "account": account,
                "platform": platform,
                "scheduled_time": iso_z(parse(when)),
                "timezone": zone,
                "status": st,
                "attempts": attempts,
                "next_attempt_at": iso_z(parse(nxt)) if st == "pending" else None,
                "published_at": iso_z(parse(published)),
                "remote_id": remote_id,
                "url": url,
                "error": error,
                "text": text,
            }
        )
    return out


def attempts_of(schedule_id: int) -> Iterable[PublishingResult]:
    return (
        PublishingResult.select()
        .where(PublishingResult.schedule == schedule_id)
        .order_by(PublishingResult.id)
    )


def next_pending() -> tuple[datetime, str, str] | None:
    """(instant, platform, account name) of the pending post that goes out first, on an
    account that can publish; None when nothing is waiting."""
    row = database.execute_sql(
        "SELECT s.next_attempt_at, a.platform, a.display_name FROM scheduled_posts s"
        " JOIN accounts a ON a.id = s.account_id"
        " WHERE s.status = 'pending' AND a.status = 'connected'"
        " ORDER BY s.next_attempt_at, s.id LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    when, platform, account = row
    return ScheduledPost.next_attempt_at.python_value(when), platform, account


def data_version() -> int:
    """A number that changes whenever another connection (another process) commits:
    the window polls it to notice edits made from the command line."""
    return int(database.execute_sql("PRAGMA data_version").fetchone()[0])


def list_accounts() -> list[Account]:
    """Every account, by name."""
    return list(Account.select().order_by(Account.display_name))


def calendar_rows(
    start: datetime,
    end: datetime,
    status: str | None = None,
    *,
    include_cancelled: bool = True,
) -> tuple[dict[int, tuple[str, str]], list[tuple]]:
    """What the calendar shows of the schedules in ``[start, end)``: ``(accounts, rows)``.

    ``accounts`` maps each account id to its ``(display name, platform)``. Each row is
    ``(id, post_id, account_id, scheduled_time, status, text, remote_url, error_message)``,
    ordered by time then id; ``scheduled_time`` is the stored UTC text, fixed-width
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (so it sorts as the instants do), and ``text`` is the
    schedule's own text or else its post's body.

    A dense month is ten thousand rows: parsing every time and repeating account names
    on every row cost more than the read itself, so times stay text (the caller parses
    the few it shows) and names come once per account.
    """
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    clauses = ["s.scheduled_time >= ?", "s.scheduled_time < ?"]
    params: list[object] = [utc_text(start), utc_text(end)]
    if status:
        clauses.append("s.status = ?")
        params.append(status)
    if not include_cancelled:
        clauses.append("s.status <> 'cancelled'")
    sql = (
        "SELECT s.id, s.post_id, s.account_id, s.scheduled_time, s.status,"
        " COALESCE(s.text_override, p.body), s.remote_url, s.error_message"
        " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id"
        " JOIN posts p ON p.id = s.post_id"
        " WHERE " + " AND ".join(clauses) + " ORDER BY s.scheduled_time, s.id"
    )
    # One transaction, so every row's account is in the accounts read with it.
    with database.atomic():
        rows = database.execute_sql(sql, params).fetchall()
        accounts = {
            aid: (name, platform)
            for aid, name, platform in database.execute_sql(
                "SELECT id, display_name, platform FROM accounts"
            )
        }
    return accounts, rows
