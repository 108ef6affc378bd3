"""Scheduling a post to an account, and every later change to that schedule.

Each change is one conditional UPDATE (``WHERE status = <what we read>``), so a row
the scheduler claimed in the meantime is never changed under it: the call refuses
and says why instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Final
from urllib.parse import urlsplit

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content
from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.domain.status import (
    CANCELLABLE,
    MOVABLE,
    PUBLISHABLE_NOW,
    SKIPPABLE,
    AccountStatus,
    Status,
)
from milton_desktop.domain.thread import (
    LIVE,
    PartEntry,
    dump_parts,
    live_parts,
    load_parts,
    next_part,
    part_label,
)
from milton_desktop.domain.timeutil import iso_z
from milton_desktop.operations import approvals, members
from milton_desktop.publishers import registry
from milton_desktop.storage.models import Account, ScheduledPost, database
from milton_desktop.storage.queries import (
    AccountView,
    follow_up_texts,
    get_account,
    get_post,
    get_schedule,
    parts_for,
    post_parts,
    post_variants,
)

#: how far in the past a schedule may be set and still count as "now"
PAST_TOLERANCE = timedelta(seconds=60)
#: why a post is missed, when nothing more particular is known
MISSED_MESSAGE = (
    "not published in time: the computer was off or asleep, or the app was not running. "
    "Publish it now, reschedule it, or skip it"
)


def check_future(when: datetime, now: datetime) -> None:
    """:class:`UserError` when ``when`` is further in the past than ``PAST_TOLERANCE``."""
    if when < now - PAST_TOLERANCE:
        raise UserError(f"{iso_z(when)} is in the past (now is {iso_z(now)}): choose a future time")


def _check_account(row: ScheduledPost) -> None:
    """A post can only go out again through an account that still exists."""
    if row.account.status == AccountStatus.REMOVED:
        raise UserError(
            f"schedule {row.id} belongs to “{row.account.display_name}”, which was removed: "
            "schedule the post to another account instead"
        )


def _check_not_started(row: ScheduledPost, doing: str) -> None:
    """A thread whose first parts are live keeps its time and text: the rest of it
    answers those parts, so only "publish now" or "skip" make sense for it."""
    live = len(live_parts(load_parts(row.parts)))
    if live:
        count = 1 + len(follow_up_texts(row.post))
        raise UserError(
            f"schedule {row.id} cannot be {doing}: {live} of its {count} parts are live "
            "already; publish the rest now, or skip it"
        )


def validate_for(account: Account, content: Content | Sequence[Content]) -> None:
    """:class:`UserError` listing what ``account``'s platform would refuse in ``content``
    (one post, or a post's parts: the main one and its follow-ups)."""
    parts = [content] if isinstance(content, Content) else list(content)
    problems = registry.validate_parts(account.platform, parts, tier=account.tier)
    if problems:
        label = registry.label(account.platform)
        details = "; ".join(p.message for p in problems)
        hint = next((p.hint for p in problems if p.hint), None)
        raise UserError(
            f"cannot schedule to {label} account {account.display_name!r}: {details}", hint
        )


def schedule(
    post_id: int,
    account: str | int | Account | AccountView,
    when: datetime,
    *,
    timezone: str = "UTC",
    text: str | None = None,
    clock: Clock | None = None,
) -> ScheduledPost:
    """Schedule a post to an account at the UTC instant ``when``; with no ``text``, the
    post's own text for the account's platform (a rewrite for it), if it has one."""
    now = (clock or SystemClock()).now()
    # one transaction: the account cannot be removed between the check and the write
    with database.atomic():
        post = get_post(post_id)
        acc = get_account(account)
        check_future(when, now)
        if text is None:
            text = post_variants(post).get(acc.platform)
        body = text if text is not None else post.body
        validate_for(acc, post_parts(post, body))
        when = max(when, now)
        who = members.current()
        return ScheduledPost.create(
            post=post,
            account=acc,
            text_override=text,
            scheduled_time=when,
            timezone=timezone,
            status=approvals.status_for(acc),
            next_attempt_at=when,
            created_at=now,
            updated_at=now,
            created_by=who,
            updated_by=who,
        )


def reschedule(schedule_id: int, when: datetime, *, clock: Clock | None = None) -> ScheduledPost:
    """Move a schedule to ``when``. Published, uncertain or in-flight posts cannot move."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    check_future(when, now)
    if row.status not in MOVABLE:
        raise _why_not_movable(row)
    _check_account(row)
    _check_not_started(row, "moved")
    if row.status not in (Status.PENDING, Status.AWAITING_APPROVAL):
        validate_for(row.account, parts_for(row))
    waiting = (Status.PENDING, Status.AWAITING_APPROVAL)
    n = (
        ScheduledPost.update(
            scheduled_time=when,
            next_attempt_at=when,
            status=approvals.revived_status(row),
            updated_at=now,
            updated_by=members.current(),
            error_message=None,
            attempts=0 if row.status not in waiting else ScheduledPost.attempts,
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
        if row.status not in MOVABLE:
            raise _why_not_movable(row)
        _check_account(row)
        _check_not_started(row, "changed")
        new_text = row.text_override if isinstance(text, _Unset) else text
        revive = row.status not in (Status.PENDING, Status.AWAITING_APPROVAL)
        if when is not None or revive:
            check_future(when if when is not None else row.scheduled_time, now)
        body = new_text if new_text is not None else row.post.body
        validate_for(row.account, post_parts(row.post, body))
        updates: dict[str, object] = {
            "text_override": new_text,
            "updated_at": now,
            "updated_by": members.current(),
        }
        if revive or (when is not None and when != row.scheduled_time):
            at = when if when is not None else row.scheduled_time
            # a note about the old time (a DST shift, a past error) no longer applies
            updates.update(scheduled_time=at, next_attempt_at=at, error_message=None)
        if revive:
            updates.update(status=approvals.revived_status(row), attempts=0)
        if new_text != row.text_override and row.account.require_approval:
            # the approval was given to other words: it waits for one again
            updates.update(status=Status.AWAITING_APPROVAL, approved_by=None, approved_at=None)
        n = (
            ScheduledPost.update(**updates)
            .where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status))
            .execute()
        )
        if n != 1:
            # the scheduler claimed it (or someone changed it) after it was read
            current = get_schedule(schedule_id)
            if current.status == Status.PUBLISHING:
                raise UserError(
                    f"schedule {schedule_id} was not changed: it is being published right now"
                )
            raise UserError(
                f"schedule {schedule_id} was not changed: it became {current.status} "
                "while it was being edited; try again"
            )
    return get_schedule(schedule_id)


def _why_not_movable(row: ScheduledPost) -> UserError:
    prefix = f"schedule {row.id} cannot be moved: "
    if row.status == Status.UNCERTAIN:
        return UserError(
            prefix + "its last publish may have gone through: check the account, then mark "
            "it published or not published",
            Hint.RESOLVE_UNCERTAIN,
        )
    # keyed by the stored word: a status this version does not know is shown as it is
    reasons: dict[str, str] = {
        Status.PUBLISHED: "it is already published",
        Status.PUBLISHING: "it is being published right now",
        Status.CANCELLED: "it was cancelled: schedule the post again instead",
    }
    return UserError(prefix + reasons.get(row.status, row.status))


def cancel(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """Cancel a pending (or missed) schedule. Atomic, so a row being published stays put."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    n = (
        ScheduledPost.update(status=Status.CANCELLED, updated_at=now, updated_by=members.current())
        .where((ScheduledPost.id == schedule_id) & (ScheduledPost.status.in_(CANCELLABLE)))
        .execute()
    )
    if n != 1:
        row = get_schedule(schedule_id)
        raise UserError(
            f"schedule {schedule_id} is {row.status}, not pending: only pending posts can be "
            "cancelled (and missed ones, or ones awaiting approval)"
        )
    return get_schedule(schedule_id)


def restore(schedule_id: int, status: str, when: datetime | None = None) -> ScheduledPost:
    """Undo support: put a cancelled row back to ``status`` (pending/missed)."""
    row = get_schedule(schedule_id)
    if row.status != Status.CANCELLED:
        raise UserError(
            f"schedule {schedule_id} is {row.status}; it can only be restored from cancelled"
        )
    _check_account(row)
    if status == Status.PENDING:
        status = approvals.revived_status(row)
    updates = {"status": status, "updated_at": SystemClock().now(), "updated_by": members.current()}
    if when is not None:
        updates.update(scheduled_time=when, next_attempt_at=when)
    ScheduledPost.update(**updates).where(ScheduledPost.id == schedule_id).execute()
    return get_schedule(schedule_id)


def publish_now(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """A missed or failed post goes out at once (the user chose it)."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.status == Status.AWAITING_APPROVAL:
        raise UserError(
            f"schedule {row.id} cannot be published now: it awaits approval; approve it "
            "(milton-desktop approve), then publish it"
        )
    if row.status not in PUBLISHABLE_NOW:
        raise _why_not_movable(row)
    _check_account(row)
    if approvals.revived_status(row) == Status.AWAITING_APPROVAL:
        raise UserError(
            f"schedule {row.id} cannot be published now: nobody approved it, and "
            f"“{row.account.display_name}” requires approval; reschedule it, then approve it"
        )
    ScheduledPost.update(
        status=Status.PENDING,
        next_attempt_at=now,
        updated_at=now,
        updated_by=members.current(),
        error_message=None,
    ).where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status)).execute()
    return get_schedule(schedule_id)


def resolve_uncertain(
    schedule_id: int, published: bool, url: str | None = None, *, clock: Clock | None = None
) -> ScheduledPost:
    """The user checked the platform: it did go out (published) or did not (back to pending now)."""
    now = (clock or SystemClock()).now()
    url = post_url(url)
    row = get_schedule(schedule_id)
    if row.status != Status.UNCERTAIN:
        raise UserError(f"schedule {schedule_id} is {row.status}, not uncertain")
    if not published:
        _check_account(row)
    # only while it is still uncertain: the engine (a late result) or another window
    # may have settled it since it was read
    still_uncertain = (ScheduledPost.id == schedule_id) & (ScheduledPost.status == Status.UNCERTAIN)
    if published:
        # the part whose outcome was unknown is live (its id unknown); any after it
        # were never sent and stay so
        entries = live_parts(load_parts(row.parts))
        if entries:
            entries.append(PartEntry(len(entries), LIVE))
        n = (
            ScheduledPost.update(
                parts=dump_parts(entries) if entries else row.parts,
                status=Status.PUBLISHED,
                published_at=row.published_at or now,
                # a thread's link is its main post's, which is live already
                remote_url=(
                    row.remote_url if live_parts(load_parts(row.parts)) else url or row.remote_url
                ),
                updated_at=now,
                updated_by=members.current(),
                warning=_unsent_note(row) or row.warning,
            )
            .where(still_uncertain)
            .execute()
        )
    else:
        n = (
            ScheduledPost.update(
                status=Status.PENDING,
                next_attempt_at=now,
                updated_at=now,
                updated_by=members.current(),
            )
            .where(still_uncertain)
            .execute()
        )
    if n != 1:
        now_status = get_schedule(schedule_id).status
        raise UserError(
            f"schedule {schedule_id} was settled meanwhile (it is {now_status} now): "
            "nothing was changed; look at it again"
        )
    return get_schedule(schedule_id)


def _unsent_note(row: ScheduledPost) -> str | None:
    """What a thread settled as published leaves out: the parts after the one whose
    outcome was unknown (nothing can answer a part whose id nobody knows)."""
    count = 1 + len(follow_up_texts(row.post))
    settled = next_part(load_parts(row.parts)) + 1  # the part the user says went out
    if settled >= count:
        return None
    rest = count - settled
    return (
        f"{part_label(settled - 1, count)} was settled as published; the {rest} "
        f"part{'s' if rest > 1 else ''} after it {'were' if rest > 1 else 'was'} not sent"
    )


def post_url(text: str | None) -> str | None:
    """The address a user gave for a post that went out: None when blank.

    Raises:
        UserError: it is not an http(s) link to a host (a typo would otherwise become
            the "Open post" link of that post for good).
    """
    url = (text or "").strip()
    if not url:
        return None
    if any(c.isspace() for c in url):
        raise UserError(f"{url!r} is not a link: it contains a space; paste the post's address")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UserError(
            f"{url!r} is not a web address: paste the post's link (it starts with https://)"
        )
    return url


def skip(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """Do not publish this schedule after all: a pending, missed or failed one is cancelled.

    A failed schedule keeps its error message, so its history still says what went
    wrong; its post becomes a draft again unless another schedule holds it.
    """
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    n = (
        ScheduledPost.update(status=Status.CANCELLED, updated_at=now, updated_by=members.current())
        .where((ScheduledPost.id == schedule_id) & (ScheduledPost.status.in_(SKIPPABLE)))
        .execute()
    )
    if n != 1:
        row = get_schedule(schedule_id)
        if row.status == Status.UNCERTAIN:
            raise _why_not_movable(row)
        raise UserError(
            f"schedule {schedule_id} is {row.status}: only a waiting, missed or failed post "
            "can be skipped (or one awaiting approval)"
        )
    return get_schedule(schedule_id)
