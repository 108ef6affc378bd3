"""Accounts whose posts need a member's approval, and approving them.

A post scheduled to such an account is ``awaiting_approval``: the engine never claims
it. A member approves it (:func:`approve`) and it becomes ``pending``, with who
approved it and when; one still unapproved at its time becomes ``missed`` ("not
approved in time"). Changing what an approved post says sends it back to wait for
approval (:func:`content_changed`): the approval was given to other words.

Switching the requirement on sends the account's pending posts that nobody approved
to wait for approval; switching it off releases the waiting ones to ``pending``, to go
out at their times (the member who switched it off decided they need no approval).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import APPROVABLE, Status
from milton_desktop.operations import members
from milton_desktop.storage.models import Account, ScheduledPost, database
from milton_desktop.storage.queries import AccountView, get_account, get_schedule

#: why a post awaiting approval became missed
NOT_APPROVED_MESSAGE = (
    "not approved in time: nobody approved it before its time. Reschedule it, and a "
    "member approves it, or skip it"
)


def status_for(account: Account | AccountView) -> Status:
    """What a post scheduled (or revived) on ``account`` starts as."""
    return Status.AWAITING_APPROVAL if account.require_approval else Status.PENDING


def revived_status(row: ScheduledPost) -> Status:
    """What a missed, failed or moved post goes back to: pending if it needs no
    approval or was approved, else awaiting approval."""
    if row.account.require_approval and row.approved_at is None:
        return Status.AWAITING_APPROVAL
    return Status.PENDING


def approve(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """A member approves a post awaiting approval: it becomes pending, to go out at its
    time, and records who approved it and when.

    Raises:
        UserError: there is no such schedule, or it is not awaiting approval.
    """
    now = (clock or SystemClock()).now()
    who = members.current()
    with database.atomic():
        row = get_schedule(schedule_id)
        if row.status not in APPROVABLE:
            raise _why_not_approvable(row)
        n = (
            ScheduledPost.update(
                status=Status.PENDING,
                approved_by=who,
                approved_at=now,
                updated_at=now,
            )
            .where((ScheduledPost.id == schedule_id) & ScheduledPost.status.in_(APPROVABLE))
            .execute()
        )
        if n != 1:  # pragma: no cover - the write lock is held since the read
            raise UserError(f"schedule {schedule_id} changed while approving it; try again")
    return get_schedule(schedule_id)


def _why_not_approvable(row: ScheduledPost) -> UserError:
    prefix = f"schedule {row.id} cannot be approved: "
    if row.status == Status.PENDING and row.approved_at is not None:
        return UserError(prefix + f"{row.approved_by} approved it already")
    if row.status == Status.PENDING:
        return UserError(
            prefix + f"“{row.account.display_name}” does not require approval, so it will "
            "go out at its time as it is"
        )
    if row.status == Status.MISSED and row.approved_at is None and row.account.require_approval:
        return UserError(
            prefix + "its time passed before anyone approved it: reschedule it, then approve it"
        )
    return UserError(prefix + f"it is {row.status}, not awaiting approval")


@dataclass(frozen=True)
class ApprovalChange:
    """What switching an account's approval requirement did."""

    account: AccountView
    require_approval: bool
    #: the posts it moved: to wait for approval (switched on) or released to pending
    moved: int


def set_require_approval(
    account: str | int | Account | AccountView, required: bool, *, clock: Clock | None = None
) -> ApprovalChange:
    """Switch whether ``account``'s posts need a member's approval (see the module)."""
    now = (clock or SystemClock()).now()
    who = members.current()
    with database.atomic():
        acc = get_account(account)
        if bool(acc.require_approval) == required:
            return ApprovalChange(AccountView.of(acc), required, 0)
        Account.update(require_approval=required).where(Account.id == acc.id).execute()
        mine = ScheduledPost.account == acc.id
        if required:
            unapproved = (
                mine
                & (ScheduledPost.status == Status.PENDING)
                & ScheduledPost.approved_at.is_null()
            )
            # nothing goes out unapproved from now on, also what was scheduled before
            moved = (
                ScheduledPost.update(
                    status=Status.AWAITING_APPROVAL, updated_at=now, updated_by=who
                )
                .where(unapproved & ScheduledPost.parts.is_null())
                .execute()
            )
            # a thread already under way finishes: its first parts are live, and the
            # member who made the rule is recorded as letting the rest follow them
            ScheduledPost.update(approved_by=who, approved_at=now).where(
                unapproved & ScheduledPost.parts.is_null(False)
            ).execute()
        else:
            moved = (
                ScheduledPost.update(status=Status.PENDING, updated_at=now, updated_by=who)
                .where(mine & ScheduledPost.status.in_(APPROVABLE))
                .execute()
            )
    return ApprovalChange(AccountView.of(get_account(acc.id)), required, moved)


def content_changed(post_id: int, now: datetime, *, body_only: bool = False) -> int:
    """What ``post_id`` says changed: its approved posts on accounts that require
    approval wait for approval again (``body_only``: only the main text changed, so a
    schedule with its own text is unchanged). The caller holds the transaction.
    Returns how many went back."""
    needs = ScheduledPost.account.in_(Account.select(Account.id).where(Account.require_approval))
    which = ScheduledPost.post == post_id
    if body_only:
        which &= ScheduledPost.text_override.is_null()
    return (
        ScheduledPost.update(
            status=Status.AWAITING_APPROVAL,
            approved_by=None,
            approved_at=None,
            updated_at=now,
            updated_by=members.current(),
        )
        .where(
            which
            & needs
            & (ScheduledPost.status == Status.PENDING)
            # a thread that started keeps going: its live parts were approved as they are
            & ScheduledPost.parts.is_null()
        )
        .execute()
    )
