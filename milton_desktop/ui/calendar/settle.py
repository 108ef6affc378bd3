"""What the user can do with one scheduled post, by its status, and doing it.

The chip menu, the list view, the upcoming panel and the window's Post menu all ask
:func:`choices_for` what a post offers, so an uncertain post is settled the same way
wherever it appears, and "Publish now" behaves the same from everywhere: the post
goes out at once and the banner over the calendar follows it to published or failed
(the tray says so too). Changes a user may want back (reschedule, skip, cancel) are
undoable commands; the others (publish, say whether it went out) run in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDialog, QMenu, QWidget

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.status import (
    APPROVABLE,
    CANCELLABLE,
    MOVABLE,
    PUBLISHABLE_NOW,
    RESOLVABLE,
    SKIPPABLE,
    Status,
)
from milton_desktop.operations import approvals, posts, schedules
from milton_desktop.publishers import registry
from milton_desktop.storage import queries
from milton_desktop.ui import style, tones
from milton_desktop.ui.calendar.model import ScheduleItem, format_day, short_text
from milton_desktop.ui.calendar.settle_dialogs import MarkPublishedDialog, RescheduleDialog
from milton_desktop.ui.calendar.undo import (
    CancelCommand,
    RescheduleCommand,
    SkipCommand,
    push_command,
)
from milton_desktop.ui.tasks import run_in_background
from milton_desktop.ui.wording import describe, sentence

if TYPE_CHECKING:  # the engine is imported when the scheduler starts
    from milton_desktop.engine.machine import Outcome

log = logging.getLogger("milton.ui.calendar")

# What a post offers (the words of the menus are in choices_for).
EDIT = "edit"
EDIT_POST = "edit_post"
PUBLISH_NOW = "publish_now"
RESCHEDULE = "reschedule"
SKIP = "skip"
CANCEL = "cancel"
MARK_PUBLISHED = "mark_published"
MARK_NOT_PUBLISHED = "mark_not_published"
OPEN_POST = "open_post"
DUPLICATE = "duplicate"
APPROVE = "approve"


@dataclass(frozen=True)
class Choice:
    """One thing the user can do with a post: what it does, its label, its tooltip."""

    act: str
    label: str
    tip: str


def choices_for(item: ScheduleItem) -> list[Choice | None]:
    """What ``item`` offers, in menu order (None: a separator), by its status.

    An uncertain post offers only to say whether it went out; a post that is out (or
    going out) offers nothing that would send it again.
    """
    status = item.status
    out: list[Choice | None] = []
    if status in RESOLVABLE:
        out += [
            Choice(
                MARK_PUBLISHED,
                "Mark as published…",
                f"It is on {item.account}: show it as published (with its link) and never send it again",
            ),
            Choice(
                MARK_NOT_PUBLISHED,
                "Mark as not published",
                f"It is not on {item.account}: publish it again now",
            ),
        ]
    elif status in APPROVABLE:
        out += [
            Choice(
                APPROVE,
                "Approve",
                f"It goes out on {item.account} at its time, with your name as approver",
            ),
            None,
            Choice(
                EDIT,
                "Edit schedule…",
                "Change its text or time (it still waits for approval)",
            ),
            Choice(RESCHEDULE, "Reschedule…", "Choose another time for it"),
            Choice(EDIT_POST, "Edit post…", "Change the post itself"),
        ]
    elif status == Status.PENDING:
        out += [
            Choice(EDIT, "Edit schedule…", "Change its text, accounts or time"),
            Choice(RESCHEDULE, "Reschedule…", "Choose another time for it"),
            Choice(PUBLISH_NOW, "Publish now", "Publish it at once instead of at its time"),
            None,
            Choice(EDIT_POST, "Edit post…", "Change the post itself"),
        ]
    elif status in PUBLISHABLE_NOW:  # missed or failed: the user decides
        out += [
            Choice(PUBLISH_NOW, "Publish now", "Publish it at once"),
            Choice(RESCHEDULE, "Reschedule…", "Publish it at another time"),
            Choice(SKIP, "Skip", "Do not publish it; the post stays in your drafts"),
            None,
            Choice(EDIT, "Edit schedule…", "Change its text, accounts or time first"),
            Choice(EDIT_POST, "Edit post…", "Change the post itself"),
        ]
    elif status == Status.PUBLISHED:
        if item.url:
            out.append(Choice(OPEN_POST, "Open post", f"Open it on {item.account}"))
        out.append(Choice(EDIT_POST, "Edit post…", "Change the post, to schedule it again"))
    elif status == Status.CANCELLED:
        out.append(Choice(EDIT_POST, "Edit post…", "Change the post, to schedule it again"))
    # any post, whatever became of it, can be the start of a new one
    out += [
        None,
        Choice(
            DUPLICATE,
            "Duplicate as draft",
            "A new draft with the same text and media, in your drafts to change and schedule",
        ),
    ]
    if status in (Status.PENDING, Status.AWAITING_APPROVAL):
        out += [
            None,
            Choice(CANCEL, "Cancel post", "Do not publish it (Delete; undo brings it back)"),
        ]
    return out


def heading_for(item: ScheduleItem) -> str | None:
    """A line above the choices saying what state the post is in, where that matters."""
    if item.status == Status.FAILED:
        return f"Failed: {short_text(item.error or 'no reason was given', 60)}"
    if item.status in RESOLVABLE:
        return f"May have gone out: check {item.account} first"
    if item.status == Status.MISSED:
        return "Missed its time"
    if item.status == Status.PUBLISHING:
        return "Being published right now"
    if item.status in APPROVABLE:
        return "Waits for a member's approval"
    return None


def default_act(item: ScheduleItem) -> str | None:
    """What Enter or a double-click does: edit what can change; else nothing directly."""
    return EDIT if item.status in MOVABLE else None


class Settler(QObject):
    """Carries out a post's choices, for every place that offers them.

    Args:
        undo_stack: the shared stack the undoable choices are pushed on.
        clock: "now" for new times and for publishing.
        host: the widget dialogs and background work belong to.
        zone: returns the display zone (it follows the settings).
    """

    #: (level, text, link): what the user should read, shown by the pane's banner, with
    #: the address of a post that went out ("" when there is none)
    said = Signal(str, str, str)
    #: a post was opened for reading or editing: (act, schedule id, post id)
    editRequested = Signal(str, int, int)
    #: a schedule changed: the window refreshes and the runner re-arms
    changed = Signal()
    #: the user chose something: an earlier message no longer applies
    acting = Signal()
    #: a post was copied into a new draft (the new post's id): the drafts show it
    duplicated = Signal(int)

    def __init__(
        self,
        undo_stack: QUndoStack,
        clock: Clock | None,
        host: QWidget,
        zone: Callable[[], tzinfo],
    ) -> None:
        super().__init__(host)
        self.setObjectName("calendarSettler")
        self.undo_stack = undo_stack
        self.clock: Clock = clock or SystemClock()
        self.host = host
        self.zone = zone
        #: whether publishing is paused (the window tells; a paused post waits)
        self.paused: Callable[[], bool] = lambda: False
        #: asks for a new time; tests replace it (None: the user cancelled)
        self.ask_time: Callable[[ScheduleItem], datetime | None] = self._ask_time
        #: asks for the link of a post found on its platform; tests replace it
        #: (None: the user cancelled; "" or a URL: go ahead)
        self.ask_url: Callable[[ScheduleItem], str | None] = self._ask_url
        #: schedules sent out from here whose outcome the banner is waiting for
        self.watching: dict[int, str] = {}

    # ------------------------------------------------------------ menus

    def fill_menu(self, menu: QMenu, item: ScheduleItem) -> list[QAction]:
        """Add ``item``'s heading and choices to ``menu``; returns the actions added."""
        added: list[QAction] = []
        # the heading says what went wrong: it must read, though it is not a choice
        menu.setPalette(tones.legible_disabled(menu.palette()))
        heading = heading_for(item)
        if heading:
            head = menu.addAction(heading)
            head.setEnabled(False)
            added.append(head)
            menu.addSeparator()
        for choice in choices_for(item):
            if choice is None:
                if added and not added[-1].isSeparator():
                    added.append(menu.addSeparator())
                continue
            action = menu.addAction(choice.label)
            action.setToolTip(choice.tip)
            action.setStatusTip(choice.tip)
            action.setObjectName(f"settle-{choice.act}")
            if choice.act == CANCEL:
                action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
            # a bound method and a plain value: the menu outlives nothing it refers to
            action.setData((choice.act, item.id))
            action.triggered.connect(self._on_menu_action_triggered)
            added.append(action)
        if not any(not a.isSeparator() and a.isEnabled() for a in added):
            none = menu.addAction("Nothing to do with this post")
            none.setEnabled(False)
            added.append(none)
        menu.setToolTipsVisible(True)
        return added

    def menu_for(self, item: ScheduleItem, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.setObjectName("settleMenu")
        self.fill_menu(menu, item)
        return menu

    def _on_menu_action_triggered(self) -> None:
        action = self.sender()
        if not isinstance(action, QAction):
            return
        act, sid = action.data()
        self.run(str(act), int(sid))

    # ------------------------------------------------------------ doing

    def _say(self, level: str, text: str, link: str = "") -> None:
        self.said.emit(level, text, link)

    def item(self, schedule_id: int) -> ScheduleItem | None:
        """The schedule as it is now in the store (the view may be a moment old)."""
        try:
            return ScheduleItem.from_row(queries.schedule_view(schedule_id), self.zone())
        except Exception as exc:  # gone meanwhile: say so rather than fail
            self._say("error", describe(exc))
            return None

    def run(self, act: str, schedule_id: int) -> bool:
        """Do ``act`` to the schedule; False when it was refused or cancelled."""
        self.acting.emit()
        it = self.item(schedule_id)
        if it is None:
            return False
        offered = {c.act for c in choices_for(it) if c is not None}
        if act not in offered:
            # the post changed since the menu was built (it was published meanwhile)
            self._say(
                "error",
                f"“{it.short_text or '(no text)'}” is {style.status_label(it.status).lower()} "
                "now, so that cannot be done any more.",
            )
            return False
        if act in (EDIT, EDIT_POST):
            self.editRequested.emit(act, it.id, it.post_id)
            return True
        if act == OPEN_POST and it.url:
            return QDesktopServices.openUrl(QUrl(it.url))
        handlers: dict[str, Callable[[ScheduleItem], bool]] = {
            PUBLISH_NOW: self.publish_now,
            RESCHEDULE: self.reschedule,
            SKIP: self.skip,
            CANCEL: self.skip,
            MARK_PUBLISHED: self.mark_published,
            MARK_NOT_PUBLISHED: self.mark_not_published,
            DUPLICATE: self.duplicate,
            APPROVE: self.approve,
        }
        return handlers[act](it)

    def duplicate(self, it: ScheduleItem) -> bool:
        """Copy the post into a new draft (text and media), in the background."""
        post_id, clock = it.post_id, self.clock
        what = f"“{it.short_text or '(no text)'}”"
        run_in_background(
            lambda: posts.duplicate_post(post_id, clock=clock).id,
            parent=self.host,
            on_success=lambda new_id: self._on_duplicated(int(new_id), what),
            on_failure=self._on_write_failed,
            writes=True,
        )
        return True

    def _on_duplicated(self, post_id: int, what: str) -> None:
        self._say("info", f"{what} is copied to a new draft: find it at the top of Drafts.")
        self.duplicated.emit(post_id)

    def approve(self, it: ScheduleItem) -> bool:
        """Approve a post that waits for it, in the background: it goes out at its time."""
        sid, clock = it.id, self.clock
        what = f"“{it.short_text or '(no text)'}” on {it.account}"
        run_in_background(
            lambda: approvals.approve(sid, clock=clock),
            parent=self.host,
            on_success=lambda _row: self._on_approved(it, what),
            on_failure=self._on_write_failed,
            writes=True,
        )
        return True

    def _on_approved(self, it: ScheduleItem, what: str) -> None:
        local = it.local.astimezone(self.zone())
        self._say(
            "success",
            f"Approved {what}: it goes out {format_day(local.date())} at {local:%H:%M}.",
        )
        self.changed.emit()

    def publish_now(self, it: ScheduleItem) -> bool:
        sid, clock = it.id, self.clock
        self._send(it, lambda: schedules.publish_now(sid, clock=clock), again=False)
        return True

    def mark_not_published(self, it: ScheduleItem) -> bool:
        sid, clock = it.id, self.clock
        self._send(it, lambda: schedules.resolve_uncertain(sid, False, clock=clock), again=True)
        return True

    def _send(self, it: ScheduleItem, write: Callable[[], object], *, again: bool) -> None:
        what = f"“{it.short_text or '(no text)'}” on {it.account}"
        run_in_background(
            write,
            parent=self.host,
            on_success=lambda _row: self._on_sent(it.id, what, again),
            on_failure=self._on_write_failed,
            writes=True,
        )

    def _on_sent(self, schedule_id: int, what: str, again: bool) -> None:
        self.watching[schedule_id] = what
        if self.paused():
            self._say(
                "warning",
                f"{what} goes out as soon as you resume publishing (File ▸ Pause publishing).",
            )
        else:
            self._say("info", f"Publishing {what}{' again' if again else ''} now…")
        self.changed.emit()

    def watch_post(self, post_id: int) -> None:
        """Follow what the editor's "Publish now" made due, as if it had been chosen here."""
        ids = queries.due_schedule_ids(post_id, self.clock.now() + timedelta(minutes=1))
        items = [it for it in (self._quiet_item(sid) for sid in ids) if it is not None]
        if not items:
            return
        where = ", ".join(dict.fromkeys(it.account for it in items))
        what = f"“{items[0].short_text or '(no text)'}” on {where}"
        for it in items:
            self.watching[it.id] = f"“{it.short_text or '(no text)'}” on {it.account}"
        if self.paused():
            self._say("warning", f"{what} goes out as soon as you resume publishing.")
        else:
            self._say("info", f"Publishing {what} now…")

    def _quiet_item(self, schedule_id: int) -> ScheduleItem | None:
        try:
            return ScheduleItem.from_row(queries.schedule_view(schedule_id), self.zone())
        except Exception:
            return None

    def note_outcome(self, outcome: Outcome) -> None:
        """A publish ended: if it was sent from here, say how it went."""
        what = self.watching.get(outcome.schedule_id)
        if what is None:
            return
        status = outcome.status
        if status == Status.PUBLISHED:
            del self.watching[outcome.schedule_id]
            note = f" {sentence(outcome.warning)}" if outcome.warning else ""
            self._say("success", f"Published {what}.{note}", outcome.url or "")
        elif status == Status.FAILED:
            del self.watching[outcome.schedule_id]
            reason = sentence(outcome.message or "the platform gave no reason")
            self._say("error", f"{what[0].upper()}{what[1:]} could not be published: {reason}")
        elif status == Status.UNCERTAIN:
            del self.watching[outcome.schedule_id]
            self._say(
                "warning",
                f"{what[0].upper()}{what[1:]} may or may not have gone out: check "
                f"{registry.label(outcome.platform)}, then right-click it and say whether it did.",
            )
        elif status == Status.PENDING and outcome.retry_at is not None:
            local = outcome.retry_at.astimezone(self.zone())
            self._say(
                "warning",
                f"{what[0].upper()}{what[1:]} did not go out yet "
                f"({sentence(outcome.message or 'a temporary problem').rstrip('.')}); "
                f"it is tried again at {local:%H:%M}.",
            )

    def reschedule(self, it: ScheduleItem, when: datetime | None = None) -> bool:
        when = when or self.ask_time(it)
        if when is None:
            return False
        local = when.astimezone(self.zone())
        label = f"Move “{short_text(it.text, 30)}” to {format_day(local.date())} {local:%H:%M}"
        cmd = RescheduleCommand(
            it.id, it.when_utc, when, label, clock=self.clock, report=self._report
        )
        return push_command(self.undo_stack, cmd)

    def skip(self, it: ScheduleItem) -> bool:
        if it.status not in SKIPPABLE:
            self._say("error", f"“{it.short_text}” cannot be skipped now.")
            return False
        if it.status in CANCELLABLE:
            cmd: CancelCommand | SkipCommand = CancelCommand(
                it.id,
                f"{'Skip' if it.status == Status.MISSED else 'Cancel'} “{short_text(it.text, 30)}”",
                previous_status=it.status,
                clock=self.clock,
                report=self._report,
            )
        else:
            cmd = SkipCommand(
                it.id,
                f"Skip “{short_text(it.text, 30)}”",
                previous_status=it.status,
                clock=self.clock,
                report=self._report,
            )
        return push_command(self.undo_stack, cmd)

    def mark_published(self, it: ScheduleItem, url: str | None = None) -> bool:
        given = url if url is not None else self.ask_url(it)
        if given is None:
            return False
        sid, clock = it.id, self.clock
        what = f"“{it.short_text or '(no text)'}”"
        run_in_background(
            lambda: schedules.resolve_uncertain(sid, True, given or None, clock=clock),
            parent=self.host,
            on_success=lambda _row: self._on_marked(what),
            on_failure=self._on_write_failed,
            writes=True,
        )
        return True

    def _on_marked(self, what: str) -> None:
        self._say("success", f"Marked {what} as published: it will not be sent again.")
        self.changed.emit()

    def _on_write_failed(self, exc: Exception) -> None:
        self._say("error", describe(exc))
        self.changed.emit()  # the row may have changed under the view: show it as it is

    def _report(self, message: str) -> None:
        self._say("error", sentence(message))

    # ------------------------------------------------------------ the questions

    def _ask_time(self, it: ScheduleItem) -> datetime | None:
        dialog = RescheduleDialog(it, self.clock.now(), self.zone(), self.host)
        ok = dialog.exec() == QDialog.DialogCode.Accepted
        when = dialog.chosen() if ok else None
        dialog.deleteLater()
        return when

    def _ask_url(self, it: ScheduleItem) -> str | None:
        dialog = MarkPublishedDialog(it, self.host)
        ok = dialog.exec() == QDialog.DialogCode.Accepted
        url = (dialog.url or "") if ok else None
        dialog.deleteLater()
        return url


def attention_title(count: int) -> str:
    """The words of the "needs attention" action for ``count`` posts."""
    if count == 0:
        return "Nothing needs attention"
    return f"Review {count} post{'s' if count != 1 else ''} needing attention"


__all__: Sequence[str] = (
    "Choice",
    "Settler",
    "attention_title",
    "choices_for",
    "default_act",
    "heading_for",
)
