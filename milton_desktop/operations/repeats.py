"""Repeating posts as rows: upcoming occurrences of each active rule become ordinary
pending schedules a few weeks ahead (``domain.recurrence`` has the rule arithmetic)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.recurrence import (
    HORIZON,
    STOPPED_KIND,
    Missed,
    RecurrenceError,
    check_rule,
    missed_occurrences,
    occurrences,
)
from milton_desktop.domain.status import CANCELLABLE, AccountStatus, AttemptOutcome, Status
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.operations import approvals, members, notify_mail
from milton_desktop.operations.schedules import MISSED_MESSAGE, validate_for
from milton_desktop.storage.models import (
    Account,
    PublishingResult,
    Recurrence,
    ScheduledPost,
    database,
)
from milton_desktop.storage.queries import (
    AccountView,
    get_account,
    get_post,
    get_schedule,
    post_parts,
    post_variants,
)

log = logging.getLogger("milton.recurrence")

#: how late an occurrence may still go out, when the caller does not say (the
#: engine passes its grace window)
DEFAULT_GRACE = timedelta(hours=2)


@dataclass(frozen=True)
class Materialized:
    """The rows one pass over the repeats created."""

    #: occurrences waiting for their time
    pending: tuple[int, ...] = ()
    #: occurrences whose time passed while nothing ran (one row may stand for many):
    #: the user decides what becomes of them
    missed: tuple[int, ...] = ()
    #: failed rows saying that a repeat stopped, and why
    stopped: tuple[int, ...] = ()

    @property
    def created(self) -> tuple[int, ...]:
        return self.pending + self.missed + self.stopped


def materialize(
    now: datetime,
    horizon: timedelta = HORIZON,
    *,
    grace: timedelta = DEFAULT_GRACE,
    recurrence_id: int | None = None,
) -> Materialized:
    """Create the rows of every active rule's occurrences up to ``now + horizon``.

    Rows exist a horizon ahead, so after a longer time off (the computer, or the app)
    the occurrences since the last pass are made now: those later than ``grace``
    become missed rows, the first ``MISSED_ROWS`` of a repeat one by one and one more
    row for all the others, so that none of them vanishes. A rule that can no longer
    be expanded is stopped, and a failed row tells the user why.
    """
    pending: list[int] = []
    missed: list[int] = []
    stopped: list[int] = []
    end = now + horizon
    cutoff = now - grace
    rules = Recurrence.select().where(Recurrence.active == True)  # noqa: E712 - peewee expression
    if recurrence_id is not None:
        rules = rules.where(Recurrence.id == recurrence_id)
    for rec in rules:
        since = rec.materialized_until or now
        if since >= end - timedelta(days=1):
            continue  # materialised far enough ahead; look again tomorrow
        gap = Missed()
        late: list[tuple[datetime, str | None]] = []
        found: list[tuple[datetime, str | None]] = []
        problem: str | None = None
        try:
            dtstart = _first_time(rec)
            if since < cutoff:
                gap = missed_occurrences(rec.rrule, dtstart, rec.timezone, since, cutoff)
            start = max(since, cutoff)
            if start < now:  # due within the grace window: still goes out, late
                late = occurrences(rec.rrule, dtstart, rec.timezone, start, now)
            # The whole horizon, not only the days since the last pass, so a rule too dense
            # for the product is stopped when it becomes so, whether or not the app was off.
            ahead = occurrences(rec.rrule, dtstart, rec.timezone, now, end)
            found = [(instant, note) for instant, note in ahead if instant >= start]
        except RecurrenceError as exc:
            problem = str(exc)
        except Exception as exc:  # stored data nothing checked: never let it stop the others
            log.exception("repeat %s could not be expanded", rec.id)
            problem = f"it could not be worked out ({type(exc).__name__}: {exc})"
        with database.atomic():
            # read again under the write lock: the repeat may have been stopped, or its
            # account removed, since the list above was read
            if not _still_active(rec.id):
                continue
            for instant in gap.listed:
                sid = _add(rec, instant, now, Status.MISSED, MISSED_MESSAGE)
                if sid is not None:
                    missed.append(sid)
            if gap.more_first is not None:
                sid = _add(rec, gap.more_first, now, Status.MISSED, _more_message(rec, gap))
                if sid is not None:
                    missed.append(sid)
            for instant, note in late + found:
                sid = _add(rec, instant, now, Status.PENDING, note)
                if sid is not None:
                    pending.append(sid)
            if problem is None:
                Recurrence.update(materialized_until=end).where(Recurrence.id == rec.id).execute()
            else:
                stopped.append(_stop(rec, problem, now))
        if gap.total:
            log.warning(
                "repeat %s: %d occurrence(s) missed while nothing ran, from %s to %s",
                rec.id,
                gap.total,
                (gap.listed or (gap.more_first,))[0],
                gap.more_last or gap.listed[-1],
            )
    if pending:
        log.info("materialised %d upcoming occurrence(s)", len(pending))
    return Materialized(tuple(pending), tuple(missed), tuple(stopped))


def _first_time(rec: Recurrence) -> datetime:
    """The rule's DTSTART as the naive local time it is stored as."""
    try:
        first = datetime.fromisoformat(rec.dtstart_local)
    except (TypeError, ValueError):
        raise RecurrenceError(f"its first time {rec.dtstart_local!r} cannot be read") from None
    if first.tzinfo is not None:
        raise RecurrenceError(
            f"its first time {rec.dtstart_local!r} carries an offset instead of being a local time"
        )
    return first


def _still_active(recurrence_id: int) -> bool:
    return (
        Recurrence.select(Recurrence.id)
        .join(Account)
        .where(
            (Recurrence.id == recurrence_id)
            & (Recurrence.active == True)  # noqa: E712 - peewee expression
            & (Account.status != AccountStatus.REMOVED)
        )
        .exists()
    )


def _add(
    rec: Recurrence, instant: datetime, now: datetime, status: Status, note: str | None
) -> int | None:
    """A row for one occurrence (None when it exists already)."""
    exists = (
        ScheduledPost.select()
        .where((ScheduledPost.recurrence == rec.id) & (ScheduledPost.scheduled_time == instant))
        .exists()
    )
    if exists:
        return None
    if status == Status.PENDING:  # on an account that requires approval, it waits for one
        status = approvals.status_for(rec.account)
    row = ScheduledPost.create(
        created_by=rec.created_by,
        updated_by=rec.created_by,
        post=rec.post_id,
        account=rec.account_id,
        text_override=rec.text_override,
        scheduled_time=instant,
        timezone=rec.timezone,
        status=status,
        next_attempt_at=instant,
        created_at=now,
        updated_at=now,
        recurrence=rec.id,
        error_message=note,
    )
    return row.id


def _local(instant: datetime, zone_name: str) -> str:
    try:
        zone = get_zone(zone_name)
    except UserError:
        return f"{instant:%a %d %b %Y %H:%M} UTC"
    return f"{instant.astimezone(zone):%a %d %b %Y %H:%M} ({zone_name})"


def _more_message(rec: Recurrence, gap: Missed) -> str:
    """What the one row standing for many missed occurrences says."""
    assert gap.more_first is not None
    count = f"at least {gap.more}" if gap.more_at_least else str(gap.more)
    span = (
        f"from {_local(gap.more_first, rec.timezone)} on"
        if gap.more_at_least or gap.more_last is None
        else f"from {_local(gap.more_first, rec.timezone)} to {_local(gap.more_last, rec.timezone)}"
    )
    return (
        f"{count} more occurrences of this repeat were missed, {span}, while the computer "
        "was off or the app was not running. This one entry stands for all of them: publish "
        "the post now (once), reschedule it, or skip them all"
    )


def _stop(rec: Recurrence, reason: str, now: datetime) -> int:
    """Stop a rule that cannot go on, with a failed row that says why: the tray, the
    calendar, ``list`` and ``status`` all show it. Runs inside the caller's transaction."""
    Recurrence.update(active=False).where(Recurrence.id == rec.id).execute()
    last = (
        ScheduledPost.select(ScheduledPost.scheduled_time)
        .where(
            (ScheduledPost.recurrence == rec.id)
            & (ScheduledPost.status == Status.PENDING)
            & (ScheduledPost.scheduled_time >= now)
        )
        .order_by(ScheduledPost.scheduled_time.desc())
        .first()
    )
    still = (
        f" Its occurrences already scheduled, up to {_local(last.scheduled_time, rec.timezone)}, "
        "still go out; none after."
        if last is not None
        else ""
    )
    rule = "" if rec.rrule in reason else f" ({rec.rrule})"
    message = (
        f"the repeat of post {rec.post_id}{rule} stopped: {reason}.{still} "
        "Schedule the post again with a corrected repeat rule to start it again"
    )
    row = ScheduledPost.create(
        post=rec.post_id,
        account=rec.account_id,
        text_override=rec.text_override,
        scheduled_time=now,
        timezone=rec.timezone,
        status=Status.FAILED,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        recurrence=rec.id,
        error_message=message,
    )
    # The attempt row carries the reason to a window that follows another process's
    # scheduler (engine.machine.outcomes_since), as it does for a failed publish.
    result = PublishingResult.create(
        schedule=row.id,
        attempt=0,
        started_at=now,
        finished_at=now,
        outcome=AttemptOutcome.FAILED,
        error_kind=STOPPED_KIND,
        error_message=message,
    )
    notify_mail.queue_mail(row.id, result.id, Status.FAILED, now)
    log.warning("repeat %s stopped: %s", rec.id, reason)
    return row.id


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
    if text is None:  # the post's own text for this platform, as a one-off schedule takes
        text = post_variants(post).get(acc.platform)
    body = text if text is not None else post.body
    validate_for(acc, post_parts(post, body))
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
            created_by=members.current(),
        )
    # Outside that transaction: expanding rules takes time, and materialize holds the
    # write lock only to insert each rule's rows (the scheduler would do it anyway).
    materialize(now, recurrence_id=rec.id)
    return rec


def stop_series(schedule_id: int, *, clock: Clock | None = None) -> int:
    """Stop the repeat a schedule belongs to and cancel its pending occurrences; returns
    how many. A repeat that had stopped on its own is thereby left stopped on purpose:
    the row that said so is settled (cancelled), so ``status`` no longer asks."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.recurrence_id is None:
        raise UserError(f"schedule {schedule_id} does not repeat: cancel it on its own")
    with database.atomic():
        Recurrence.update(active=False).where(Recurrence.id == row.recurrence_id).execute()
        stops = PublishingResult.select(PublishingResult.schedule).where(
            PublishingResult.error_kind == STOPPED_KIND
        )
        who = members.current()
        ScheduledPost.update(status=Status.CANCELLED, updated_at=now, updated_by=who).where(
            (ScheduledPost.recurrence == row.recurrence_id)
            & (ScheduledPost.status == Status.FAILED)
            & ScheduledPost.id.in_(stops)
        ).execute()
        return (
            ScheduledPost.update(status=Status.CANCELLED, updated_at=now, updated_by=who)
            .where(
                (ScheduledPost.recurrence == row.recurrence_id)
                & ScheduledPost.status.in_(CANCELLABLE)
            )
            .execute()
        )
