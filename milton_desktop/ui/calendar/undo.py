"""Undoable calendar edits: each command is one ``store`` call per do and per undo.

A store call can be refused at any time (the scheduler published the post in the
meantime, a time has passed, another process changed the row). A refused call never
corrupts the undo stack: the command marks itself obsolete, which makes
``QUndoStack`` drop it instead of moving its index, and reports the message.

Push a new command with :func:`push_command`, which performs it first and pushes it
only if the store accepted it, so a refused drop leaves the stack untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtGui import QUndoCommand, QUndoStack

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import TimeInputError, iso_z
from milton_desktop.operations import queue, schedules
from milton_desktop.ui.calendar.model import Change

log = logging.getLogger("milton.ui.undo")

Report = Callable[[str], None]


class StoreCommand(QUndoCommand):
    """Base class: subclasses implement :meth:`apply` and :meth:`revert`, which may raise.

    Args:
        text: what the Edit menu shows (``Undo <text>``).
        clock: the time source handed to the store.
        report: called with a plain-words message when the store refuses a step.
    """

    def __init__(
        self,
        text: str,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
        parent: QUndoCommand | None = None,
    ) -> None:
        super().__init__(text, parent)
        self.clock: Clock = clock or SystemClock()
        self.report = report
        self.error: str | None = None
        self._skip_next_redo = False

    # Subclasses: exactly one store call each; raise UserError to refuse.
    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def redo(self) -> None:
        if self._skip_next_redo:  # push_command already did it
            self._skip_next_redo = False
            return
        self._guarded(self.apply, "redo")

    def undo(self) -> None:
        self._guarded(self.revert, "undo")

    def _guarded(self, step: Callable[[], None], verb: str) -> None:
        try:
            step()
        except (UserError, TimeInputError) as exc:
            what = self.text()
            # "Cannot undo move “Launch” to Fri 27 March 10:00: <why>"
            self.fail(f"Cannot {verb} {what[:1].lower()}{what[1:]}: {exc}")

    def fail(self, message: str) -> None:
        """Record a refusal: the stack discards this command and the user is told why."""
        self.error = message
        self.setObsolete(True)
        log.info("%s", message)
        if self.report is not None:
            self.report(message)


class ScheduleDraftCommand(StoreCommand):
    """Schedule a draft on one account at a UTC instant; undo cancels that schedule.

    Redo after undo restores the same row (``schedules.restore``) so its id, and anything
    that refers to it, survives an undo/redo round trip.
    """

    def __init__(
        self,
        post_id: int,
        account_id: int,
        when: datetime,
        timezone: str,
        text: str,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        super().__init__(text, clock=clock, report=report)
        self.post_id = post_id
        self.account_id = account_id
        self.when = when
        self.timezone = timezone
        self.schedule_id: int | None = None

    def apply(self) -> None:
        if self.schedule_id is None:
            row = schedules.schedule(
                self.post_id, self.account_id, self.when, timezone=self.timezone, clock=self.clock
            )
            self.schedule_id = row.id
            return
        # schedules.restore does not look at the clock; putting back a time that has
        # passed would make the scheduler publish it late, so refuse that here.
        now = self.clock.now()
        if self.when < now - schedules.PAST_TOLERANCE:
            raise UserError(
                f"{iso_z(self.when)} has passed since it was undone: drag the post from "
                "Drafts onto a new time instead"
            )
        schedules.restore(self.schedule_id, Status.PENDING)

    def revert(self) -> None:
        assert self.schedule_id is not None, "undo before the first redo"
        schedules.cancel(self.schedule_id, clock=self.clock)


class QueueCommand(ScheduleDraftCommand):
    """Put a draft in an account's queue: in one free slot (``when``), or in the next free
    one (``when`` None, known once done). Undo cancels it; redo puts it back in its slot
    only while no other post has taken the slot."""

    def __init__(
        self,
        post_id: int,
        account_id: int,
        when: datetime | None,
        text: str,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        super().__init__(post_id, account_id, when or datetime.min, "UTC", text, clock=clock)
        self.report = report
        self.in_slot = when

    def apply(self) -> None:
        if self.schedule_id is None:
            if self.in_slot is not None:
                row = queue.schedule_in_slot(
                    self.post_id, self.account_id, self.in_slot, clock=self.clock
                )
            else:
                row = queue.schedule_next_slot(self.post_id, self.account_id, clock=self.clock)
            self.schedule_id, self.when, self.timezone = row.id, row.scheduled_time, row.timezone
            return
        queue.restore_in_slot(self.schedule_id, clock=self.clock)


class RescheduleCommand(StoreCommand):
    """Move a schedule between two UTC instants (``schedules.reschedule`` both ways)."""

    def __init__(
        self,
        schedule_id: int,
        old: datetime,
        new: datetime,
        text: str,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        super().__init__(text, clock=clock, report=report)
        self.schedule_id = schedule_id
        self.old = old
        self.new = new

    def apply(self) -> None:
        schedules.reschedule(self.schedule_id, self.new, clock=self.clock)

    def revert(self) -> None:
        schedules.reschedule(self.schedule_id, self.old, clock=self.clock)


class CancelCommand(StoreCommand):
    """Cancel a pending (or missed) schedule; undo restores its previous status."""

    def __init__(
        self,
        schedule_id: int,
        text: str,
        previous_status: str = Status.PENDING,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        super().__init__(text, clock=clock, report=report)
        self.schedule_id = schedule_id
        self.previous_status = previous_status

    def apply(self) -> None:
        schedules.cancel(self.schedule_id, clock=self.clock)

    def revert(self) -> None:
        schedules.restore(self.schedule_id, self.previous_status)


class SkipCommand(StoreCommand):
    """Skip a pending, missed or failed schedule (``schedules.skip``); undo puts its
    previous status back, a failed one with its reason."""

    def __init__(
        self,
        schedule_id: int,
        text: str,
        previous_status: str,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        super().__init__(text, clock=clock, report=report)
        self.schedule_id = schedule_id
        self.previous_status = previous_status

    def apply(self) -> None:
        schedules.skip(self.schedule_id, clock=self.clock)

    def revert(self) -> None:
        schedules.restore(self.schedule_id, self.previous_status)


class CommandGroup(StoreCommand):
    """Several store commands as one undo step, all or nothing (a draft dropped on N accounts)."""

    def __init__(
        self,
        commands: Sequence[StoreCommand],
        text: str,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        super().__init__(text, clock=clock, report=report)
        if not commands:
            raise ValueError("a command group needs at least one command")
        self.commands = list(commands)

    def apply(self) -> None:
        done: list[StoreCommand] = []
        try:
            for cmd in self.commands:
                cmd.apply()
                done.append(cmd)
        except (UserError, TimeInputError):
            self._roll_back(done, forward=False)
            raise

    def revert(self) -> None:
        done: list[StoreCommand] = []
        try:
            for cmd in reversed(self.commands):
                cmd.revert()
                done.append(cmd)
        except (UserError, TimeInputError):
            self._roll_back(done, forward=True)
            raise

    @staticmethod
    def _roll_back(done: list[StoreCommand], *, forward: bool) -> None:
        for cmd in reversed(done):
            try:
                cmd.apply() if forward else cmd.revert()
            except (UserError, TimeInputError) as exc:
                # Nothing more can be done from here; the log keeps the trail.
                log.warning("could not roll back %r: %s", cmd.text(), exc)


def push_command(stack: QUndoStack, command: StoreCommand) -> bool:
    """Perform ``command`` now and push it on ``stack`` only if the store accepted it.

    Returns:
        True when the change was made and is undoable; False when it was refused
        (the command's ``report`` callback has the message, and so does ``command.error``).
    """
    command.redo()
    if command.isObsolete():
        return False
    command._skip_next_redo = True
    stack.push(command)
    if command._skip_next_redo:  # a stack in a macro or a merge may not call redo()
        command._skip_next_redo = False
    return True


def moves_only(command: QUndoCommand | None) -> bool:
    """Whether ``command`` only moves schedules in time (no post becomes or stops
    being a draft), so the drafts pane need not reload after it is done or undone."""
    if isinstance(command, RescheduleCommand):
        return True
    if isinstance(command, CommandGroup):
        return all(moves_only(c) for c in command.commands)
    return False


#: what a step did, as the calendar shows it at once: schedule id -> its change, and
#: the instants a schedule appeared at (its row is read with the range)
Effects = tuple[dict[int, Change], list[datetime]]


def effects(command: QUndoCommand | None, *, done: bool) -> Effects | None:
    """What doing (``done``) or undoing ``command`` changed; None when it cannot say,
    and everything shown must be read again."""
    changes: dict[int, Change] = {}
    instants: list[datetime] = []
    if isinstance(command, CommandGroup):
        for cmd in command.commands if done else reversed(command.commands):
            part = effects(cmd, done=done)
            if part is None:
                return None
            changes.update(part[0])
            instants += part[1]
    elif isinstance(command, RescheduleCommand):
        changes[command.schedule_id] = Change(when=command.new if done else command.old)
    elif isinstance(command, CancelCommand | SkipCommand):
        status = Status.CANCELLED if done else command.previous_status
        changes[command.schedule_id] = Change(status=status)
    elif isinstance(command, ScheduleDraftCommand):
        if command.schedule_id is None:
            return None
        if done:
            instants.append(command.when)  # new: its row comes with its range's read
            changes[command.schedule_id] = Change(status=Status.PENDING)  # put back
        else:
            changes[command.schedule_id] = Change(status=Status.CANCELLED)
    else:
        return None
    return changes, instants
