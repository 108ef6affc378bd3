"""Repeating posts as rows: upcoming occurrences of each active rule become ordinary
pending schedules a few weeks ahead (``domain.recurrence`` has the rule arithmetic)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.recurrence import HORIZON, RecurrenceError, check_rule, occurrences
from milton_desktop.domain.status import CANCELLABLE, AccountStatus, Status
from milton_desktop.operations.schedules import validate_for
from milton_desktop.storage.models import Account, Recurrence, ScheduledPost, database
from milton_desktop.storage.queries import (
    AccountView,
    get_account,
    get_post,
    get_schedule,
    media_items,
)

log = logging.getLogger("milton.recurrence")


def materialize(now: datetime, horizon: timedelta = HORIZON) -> list[int]:
    """Create the rows of upcoming occurrences of every active rule; returns new schedule ids."""
    created: list[int] = []
    end = now + horizon
    for rec in Recurrence.select().where(Recurrence.active == True):  # noqa: E712 - peewee expression
        start = max(rec.materialized_until or now, now)
        if start >= end - timedelta(days=1):
            continue  # materialised far enough ahead; look again tomorrow
        try:
            found = occurrences(
                rec.rrule, datetime.fromisoformat(rec.dtstart_local), rec.timezone, start, end
            )
        except RecurrenceError as exc:
            log.warning("recurrence %s stopped: %s", rec.id, exc)
            Recurrence.update(active=False).where(Recurrence.id == rec.id).execute()
            continue
        with database.atomic():
            # read again under the write lock: the repeat may have been stopped, or its
            # account removed, since the list above was read
            still = (
                Recurrence.select(Recurrence.id)
                .join(Account)
                .where(
                    (Recurrence.id == rec.id)
                    & (Recurrence.active == True)  # noqa: E712 - peewee expression
                    & (Account.status != AccountStatus.REMOVED)
                )
                .exists()
            )
            if not still:
                continue
            for instant, note in found:
                exists = (
                    ScheduledPost.select()
                    .where(
                        (ScheduledPost.recurrence == rec.id)
                        & (ScheduledPost.scheduled_time == instant)
                    )
                    .exists()
                )
                if exists:
                    continue
                row = ScheduledPost.create(
                    post=rec.post_id,
                    account=rec.account_id,
                    text_override=rec.text_override,
                    scheduled_time=instant,
                    timezone=rec.timezone,
                    status=Status.PENDING,
                    next_attempt_at=instant,
                    created_at=now,
                    updated_at=now,
                    recurrence=rec.id,
                    error_message=note,
                )
                created.append(row.id)
            Recurrence.update(materialized_until=end).where(Recurrence.id == rec.id).execute()
    if created:
        log.info("materialised %d upcoming occurrence(s)", len(created))
    return created


def schedule_repeating(
    post_id: int,
    account: str | int | Account | AccountView,
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
    now = (clock or SystemClock()).now()
    post = get_post(post_id)
    acc = get_account(account)
    body = text if text is not None else post.body
    validate_for(acc, Content(text=body, media=media_items(post)))
    check_rule(rule, first_local, timezone, now)
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
        materialize(now)
    return rec


def stop_series(schedule_id: int, *, clock: Clock | None = None) -> int:
    """Stop the repeat a schedule belongs to and cancel its pending occurrences."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.recurrence_id is None:
        raise UserError(f"schedule {schedule_id} does not repeat: cancel it on its own")
    with database.atomic():
        Recurrence.update(active=False).where(Recurrence.id == row.recurrence_id).execute()
        return (
            ScheduledPost.update(status=Status.CANCELLED, updated_at=now)
            .where(
                (ScheduledPost.recurrence == row.recurrence_id)
                & ScheduledPost.status.in_(CANCELLABLE)
            )
            .execute()
        )
