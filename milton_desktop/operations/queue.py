"""The posting queue: each account's weekly slots, and putting a post in the next free one.

A slot is free when no pending, publishing or published schedule of its account sits
on it. Finding the free slot and writing the schedule happen in one write transaction
(``BEGIN IMMEDIATE``: the write lock is taken before the search), so two processes
queueing at the same moment each see the other's post and never take one slot twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import Hint, UserError
from milton_desktop.domain.slots import (
    OCCUPANCY,
    Skipped,
    Slot,
    check_count,
    free_instants,
    parse_slot,
    skipped_between,
    slot_instants,
)
from milton_desktop.domain.status import OCCUPIES_SLOT, AccountStatus
from milton_desktop.domain.timeutil import get_zone, iso_z, local_zone_name
from milton_desktop.operations.schedules import schedule
from milton_desktop.storage import settings
from milton_desktop.storage.models import Account, QueueSlot, ScheduledPost, database, utc_text
from milton_desktop.storage.queries import AccountView, get_account

#: a queued post goes out at least this long from now, so it is never due at once
LEAD = timedelta(minutes=1)
#: how many free slots ``queue show`` lists
SHOWN = 10
#: how far ahead a slot is looked for, in steps of a few weeks
SEARCH_STEP = timedelta(days=28)
SEARCH_REACH = timedelta(days=2 * 366)
#: how far ahead ``queue show`` reports the slots the clocks skip
SKIP_REACH = timedelta(days=366)

AccountRef = str | int | Account | AccountView


@dataclass(frozen=True)
class QueueView:
    """An account's queue as the window and the command line show it."""

    account_id: int
    account: str
    #: the zone its slots are read in
    timezone: str
    #: whether that zone is the account's own (False: it follows the app's)
    own_zone: bool
    slots: tuple[Slot, ...]
    #: the next free slot instants (UTC), soonest first
    next: tuple[datetime, ...]
    #: slots the clocks jump over within the coming year
    skipped: tuple[Skipped, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account,
            "timezone": self.timezone,
            "slots": [{"day": s.day, "time": s.time_text} for s in self.slots],
            "next": [iso_z(t) for t in self.next],
            "skipped": [
                {"day": k.slot.day, "time": k.slot.time_text, "date": k.date.isoformat()}
                | {"reason": k.reason}
                for k in self.skipped
            ],
        }


def app_zone() -> str:
    """The app's zone: what an account without a zone of its own follows."""
    return settings.get("timezone") or local_zone_name()


def account_zone(account: Account | AccountView) -> str:
    """The zone ``account``'s slots are read in."""
    return account.timezone or app_zone()


def slots_of(account_id: int) -> tuple[Slot, ...]:
    rows = database.execute_sql(
        "SELECT weekday, minute FROM queue_slots WHERE account_id = ?", (account_id,)
    ).fetchall()
    return tuple(sorted(Slot(int(w), int(m)) for w, m in rows))


def _check_slots(slots: Iterable[str | Slot]) -> list[Slot]:
    out: set[Slot] = set()
    for item in slots:
        out.update(parse_slot(item) if isinstance(item, str) else [item])
    result = sorted(out)
    check_count(result)
    return result


def _taken(account_id: int, start: datetime, end: datetime) -> list[datetime]:
    """The times of the account's schedules that hold a slot in ``[start, end)``."""
    wanted = sorted(s.value for s in OCCUPIES_SLOT)
    # (account_id, scheduled_time) is indexed: a range scan, however many rows there are
    rows = database.execute_sql(
        "SELECT scheduled_time FROM scheduled_posts WHERE account_id = ?"
        " AND scheduled_time >= ? AND scheduled_time < ?"
        f" AND status IN ({', '.join('?' * len(wanted))}) ORDER BY scheduled_time",
        [account_id, utc_text(start), utc_text(end + OCCUPANCY), *wanted],
    ).fetchall()
    parse = ScheduledPost.scheduled_time.python_value
    return [t for (text,) in rows if (t := parse(text)) is not None]


def _free(
    account_id: int,
    slots: Sequence[Slot],
    zone: str,
    start: datetime,
    end: datetime,
    limit: int,
    also_taken: Sequence[datetime] = (),
) -> list[datetime]:
    taken = _taken(account_id, start, end)
    if also_taken:
        taken += [t for t in also_taken if start <= t < end + OCCUPANCY]
    return free_instants(slots, zone, start, end, taken, limit=limit)


def _search(
    account_id: int,
    slots: Sequence[Slot],
    zone: str,
    after: datetime,
    count: int,
    also_taken: Sequence[datetime] = (),
) -> list[datetime]:
    """The first ``count`` free slot instants from ``after``, looked for a few weeks at a
    time (so a full queue far ahead costs no more than it must)."""
    found: list[datetime] = []
    start = after
    while len(found) < count and start < after + SEARCH_REACH:
        end = min(start + SEARCH_STEP, after + SEARCH_REACH)
        found += _free(account_id, slots, zone, start, end, count - len(found), also_taken)
        start = end
    return found


def next_free_slot(
    account: Account | AccountView,
    slots: Sequence[Slot],
    after: datetime,
    also_taken: Sequence[datetime] = (),
) -> datetime | None:
    """The account's first free slot from ``after``, counting ``also_taken`` (posts about
    to be written, such as the earlier rows of an import) as taken; None when every slot
    of the next two years is. The caller holds the transaction and reads ``slots`` with
    :func:`slots_of`."""
    found = _search(account.id, slots, account_zone(account), after, 1, also_taken)
    return found[0] if found else None


def show_queue(account: AccountRef, *, count: int = SHOWN, clock: Clock | None = None) -> QueueView:
    """The account's zone, slots, next ``count`` free slots and the slots skipped ahead."""
    now = (clock or SystemClock()).now()
    with database.atomic("DEFERRED"):  # one consistent read; no write lock
        acc = get_account(account)
        slots = slots_of(acc.id)
        zone = account_zone(acc)
        after = now + LEAD
        upcoming = _search(acc.id, slots, zone, after, count) if slots else []
    return QueueView(
        account_id=acc.id,
        account=acc.display_name,
        timezone=zone,
        own_zone=acc.timezone is not None,
        slots=slots,
        next=tuple(upcoming),
        skipped=tuple(skipped_between(slots, zone, after, after + SKIP_REACH)),
    )


def set_queue(
    account: AccountRef,
    slots: Iterable[str | Slot],
    *,
    timezone: str | None = None,
    clock: Clock | None = None,
) -> QueueView:
    """Replace the account's slots (and set its zone, when ``timezone`` is given)."""
    wanted = _check_slots(slots)
    if timezone is not None:
        get_zone(timezone)
    with database.atomic():
        acc = get_account(account)
        if timezone is not None:
            Account.update(timezone=timezone).where(Account.id == acc.id).execute()
        QueueSlot.delete().where(QueueSlot.account == acc.id).execute()
        if wanted:
            QueueSlot.insert_many(
                [{"account": acc.id, "weekday": s.weekday, "minute": s.minute} for s in wanted]
            ).execute()
    return show_queue(acc.id, clock=clock)


def clear_queue(account: AccountRef) -> int:
    """Remove every slot of the account; how many there were. Queued posts stay as they are."""
    with database.atomic():
        acc = get_account(account)
        return QueueSlot.delete().where(QueueSlot.account == acc.id).execute()


def set_account_zone(account: AccountRef, zone: str | None) -> AccountView:
    """Give the account a zone of its own (None: follow the app's zone again).

    Its slots keep their wall-clock times and move with the zone; posts already
    scheduled keep their instants.
    """
    if zone is not None:
        get_zone(zone)
    with database.atomic():
        acc = get_account(account)
        Account.update(timezone=zone).where(Account.id == acc.id).execute()
        return AccountView.of(get_account(acc.id))


def _no_slots(acc: Account) -> UserError:
    return UserError(
        f"account “{acc.display_name}” has no queue slots, so there is no next slot to schedule in",
        Hint.SET_QUEUE,
    )


def schedule_next_slot(
    post_id: int, account: AccountRef, *, text: str | None = None, clock: Clock | None = None
) -> ScheduledPost:
    """Schedule the post in the account's earliest free slot at least a minute from now.

    Raises:
        UserError: the account has no slots, or every slot of the next two years is taken.
    """
    now = (clock or SystemClock()).now()
    # the write lock first: the slot found is still free when the row is written
    with database.atomic():
        acc = get_account(account)
        slots = slots_of(acc.id)
        if not slots:
            raise _no_slots(acc)
        zone = account_zone(acc)
        found = _search(acc.id, slots, zone, now + LEAD, 1)
        if not found:
            raise UserError(
                f"every queue slot of “{acc.display_name}” in the next "
                f"{SEARCH_REACH.days // 366} years is taken: add slots or schedule at a time"
            )
        return schedule(post_id, acc, found[0], timezone=zone, text=text, clock=clock)


def schedule_in_slot(
    post_id: int,
    account: AccountRef,
    instant: datetime,
    *,
    text: str | None = None,
    clock: Clock | None = None,
) -> ScheduledPost:
    """Schedule the post in one particular free slot (a drop on it in the calendar).

    Raises:
        UserError: ``instant`` is not one of the account's slots, or it was taken since
            it was shown.
    """
    now = (clock or SystemClock()).now()
    at = instant.astimezone(UTC)
    with database.atomic():
        acc = get_account(account)
        slots = slots_of(acc.id)
        if not slots:
            raise _no_slots(acc)
        zone = account_zone(acc)
        if not any(t == at for t, _slot in slot_instants(slots, zone, at, at + OCCUPANCY)):
            raise UserError(
                f"{iso_z(at)} is not a queue slot of “{acc.display_name}”: its slots may have "
                "changed; look at the calendar again"
            )
        if at < now + LEAD:
            raise UserError(f"the slot at {iso_z(at)} has passed: choose a later one")
        if not _free(acc.id, slots, zone, at, at + OCCUPANCY, 1):
            raise UserError(
                f"the slot at {iso_z(at)} of “{acc.display_name}” was just taken by another "
                "post: choose another slot"
            )
        return schedule(post_id, acc, at, timezone=zone, text=text, clock=clock)


@dataclass(frozen=True)
class FreeSlot:
    """A free slot the calendar draws: whose, and when."""

    account_id: int
    at: datetime
    slot: Slot


def free_slots_between(
    start: datetime, end: datetime, *, clock: Clock | None = None
) -> list[FreeSlot]:
    """Every account's free slots in ``[start, end)`` that have not passed, soonest first."""
    now = (clock or SystemClock()).now()
    lo = max(start, now + LEAD)
    out: list[FreeSlot] = []
    if lo >= end:
        return out
    with database.atomic("DEFERRED"):
        accounts = Account.select().where(Account.status != AccountStatus.REMOVED)
        for acc in accounts:
            slots = slots_of(acc.id)
            if not slots:
                continue
            zone = account_zone(acc)
            busy = _taken(acc.id, lo, end)
            free = set(free_instants(slots, zone, lo, end, busy))
            out += [
                FreeSlot(acc.id, at, slot)
                for at, slot in slot_instants(slots, zone, lo, end)
                if at in free
            ]
    out.sort(key=lambda f: (f.at, f.account_id))
    return out


def restore_in_slot(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """Undo support: put a cancelled queued post back in its slot, unless another post
    took the slot meanwhile (a slot never holds two) or its time has passed."""
    from milton_desktop.domain.status import Status
    from milton_desktop.operations.schedules import PAST_TOLERANCE, restore
    from milton_desktop.storage.queries import get_schedule

    now = (clock or SystemClock()).now()
    with database.atomic():
        row = get_schedule(schedule_id)
        at = row.scheduled_time
        if at < now - PAST_TOLERANCE:
            raise UserError(
                f"{iso_z(at)} has passed since it was undone: add the post to the queue again"
            )
        if _taken(row.account_id, at, at):
            raise UserError(
                f"its slot at {iso_z(at)} was taken by another post meanwhile: add the post "
                "to the queue again"
            )
        return restore(schedule_id, Status.PENDING)


def accounts_with_slots() -> list[int]:
    """The ids of the accounts (not removed) that have a queue, by id."""
    rows = database.execute_sql(
        "SELECT DISTINCT q.account_id FROM queue_slots q JOIN accounts a ON a.id = q.account_id"
        " WHERE a.status <> ? ORDER BY q.account_id",
        (AccountStatus.REMOVED.value,),
    ).fetchall()
    return [aid for (aid,) in rows]


def save_queue(
    account: AccountRef,
    slots: Iterable[str | Slot],
    zone: str | None,
    *,
    clock: Clock | None = None,
) -> QueueView:
    """The window's Save: the slots and the zone (None: follow the app's) together."""
    wanted = _check_slots(slots)
    if zone is not None:
        get_zone(zone)
    with database.atomic():
        acc = get_account(account)
        Account.update(timezone=zone).where(Account.id == acc.id).execute()
        QueueSlot.delete().where(QueueSlot.account == acc.id).execute()
        if wanted:
            QueueSlot.insert_many(
                [{"account": acc.id, "weekday": s.weekday, "minute": s.minute} for s in wanted]
            ).execute()
    return show_queue(acc.id, clock=clock)
