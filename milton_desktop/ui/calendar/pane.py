"""The calendar pane: the view switcher, the navigation bar and the four views, and
what happens when posts are dropped, moved or cancelled on them.

Drops never edit rows directly: they build an undo command (``ui.undo``) that makes
one operations call, push it on the shared ``QUndoStack``, and the views refresh
when the stack's index changes (so undo/redo from anywhere shows up here).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QCursor,
    QFontMetrics,
    QKeyEvent,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import TimeInputError, localize
from milton_desktop.publishers import registry
from milton_desktop.storage import queries, settings
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import (
    POST_MIME,
    SCHEDULE_MIME,
    AccountChoice,
    ScheduleItem,
    ScheduleModel,
    account_choices,
    decode_ids,
    display_zone,
    format_day,
    parse_hhmm,
    short_text,
    zone_name,
)
from milton_desktop.ui.calendar.table import ListView
from milton_desktop.ui.calendar.undo import (
    CancelCommand,
    CommandGroup,
    RescheduleCommand,
    ScheduleDraftCommand,
    StoreCommand,
    push_command,
)
from milton_desktop.ui.calendar.view import (
    VIEW_NAMES,
    WHY_NOT_MOVABLE,
    CalendarSurface,
    ChipPainter,
    ChooseAccount,
    DayView,
    MonthView,
    TimeGridView,
    WeekView,
    add_months,
    local_first_weekday,
    month_grid_start,
    range_title,
    week_start,
)

log = logging.getLogger("milton.ui.calendar")


class CalendarPane(QWidget):
    """Month / Week / Day / List views of scheduled posts, with undoable drag and drop.

    Args:
        undo_stack: the application's shared stack; every change made here is pushed on it.
        clock: time source for "today", "now" and past-time checks (tests pass a FakeClock).
    """

    #: a message for the user (a refused drop, a failed undo): show it in the status bar
    message = Signal(str)
    #: the user wants to edit a schedule (its id)
    editScheduleRequested = Signal(int)
    #: the user wants to edit a post (its id)
    editPostRequested = Signal(int)
    #: schedules changed (a drop, a cancel, an undo or redo): other panes should refresh
    changed = Signal()

    def __init__(
        self,
        undo_stack: QUndoStack,
        clock: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("calendarPane")
        self.undo_stack = undo_stack
        self.clock: Clock = clock or SystemClock()
        #: asks which account(s) a dropped draft goes to: (post_id, choices) -> account ids;
        #: tests replace it to bypass the popup menu
        self.choose_account: ChooseAccount = self._ask_accounts
        self.zone: tzinfo = display_zone()
        self._view = "month"
        self._anchor = self._now_local().date()
        self._selected_id: int | None = None

        self.model = ScheduleModel(self)
        self.list_model = ScheduleModel(self)
        self.stack = QStackedWidget(self)
        self.month_view = MonthView(self.model, self.stack)
        self.week_view = WeekView(self.model, self.stack)
        self.day_view = DayView(self.model, self.stack)
        self.list_view = ListView(self.list_model, self.stack)

        self._build_toolbar()
        self.stack.setObjectName("calendarStack")
        for w in (self.month_view, self.week_view, self.day_view, self.list_view):
            self.stack.addWidget(w)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {style.GRID_LINE};")
        layout.addWidget(line)
        layout.addWidget(self.stack, 1)

        for surface in self.surfaces():
            surface.drop_handler = self.drop_mime
            surface.chipClicked.connect(self._on_surface_chip_clicked)
            surface.chipDoubleClicked.connect(self._on_surface_chip_double_clicked)
            surface.chipMenuRequested.connect(self._on_surface_chip_menu_requested)
            surface.dayRequested.connect(self._on_surface_day_requested)
            surface.chipDragRefused.connect(self._on_surface_chip_drag_refused)
            surface.dateRequested.connect(self.go_to)  # the keyboard left the visible dates
            surface.installEventFilter(self)
        self.week_view.header.dayRequested.connect(self._on_surface_day_requested)
        table = self.list_view.table
        table.installEventFilter(self)
        table.doubleClicked.connect(self._on_list_table_double_clicked)
        table.selectionModel().currentRowChanged.connect(self._on_list_table_current_changed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_list_table_menu_requested)
        self.list_view.statusChanged.connect(self._on_list_view_status_changed)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)

        # The now-line and "today" move with time; a tick only repaints (no database),
        # unless the day changed, when the view reloads.
        self._now_timer = QTimer(self)
        self._now_timer.setObjectName("calendarNowTimer")
        self._now_timer.setInterval(60_000)
        self._now_timer.timeout.connect(self._on_now_timer_timeout)
        self._now_timer.start()

        self.refresh()

    # -- construction

    def _build_toolbar(self) -> None:
        self.toolbar = QWidget(self)
        self.toolbar.setObjectName("calendarToolbar")
        row = QHBoxLayout(self.toolbar)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(4)
        self.today_button = QToolButton(self.toolbar)
        self.today_button.setText("Today")
        self.today_button.setToolTip("Go to today")
        self.prev_button = QToolButton(self.toolbar)
        self.prev_button.setText("‹")
        self.next_button = QToolButton(self.toolbar)
        self.next_button.setText("›")
        for b in (self.prev_button, self.next_button):
            b.setAutoRaise(True)
            f = b.font()
            f.setPointSizeF(f.pointSizeF() * 1.5)
            b.setFont(f)
            b.setFixedWidth(self.fontMetrics().height() * 2)
        self.title_label = QLabel(self.toolbar)
        self.title_label.setObjectName("calendarTitle")
        tf = self.title_label.font()
        tf.setPointSizeF(tf.pointSizeF() * 1.35)
        tf.setBold(True)
        self.title_label.setFont(tf)
        self.title_label.setMinimumWidth(QFontMetrics(tf).horizontalAdvance("30 September –"))
        self.show_cancelled = QCheckBox("Show cancelled", self.toolbar)
        self.show_cancelled.setObjectName("calendarShowCancelled")
        self.show_cancelled.setChecked(True)
        self.show_cancelled.setToolTip("Show posts you cancelled, struck through")
        row.addWidget(self.today_button)
        row.addSpacing(4)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addSpacing(8)
        row.addWidget(self.title_label, 1)
        row.addWidget(self.show_cancelled)
        row.addSpacing(12)
        self.view_buttons: dict[str, QToolButton] = {}
        self._view_group = QButtonGroup(self)
        self._view_group.setExclusive(True)
        for name in VIEW_NAMES:
            b = QToolButton(self.toolbar)
            b.setText(name.capitalize())
            b.setCheckable(True)
            b.setObjectName(f"calendarView{name.capitalize()}Button")
            b.setToolTip(f"Show {'a' if name != 'list' else 'the'} {name}")
            b.setMinimumWidth(self.fontMetrics().horizontalAdvance("Month") + 20)
            self._view_group.addButton(b)
            self.view_buttons[name] = b
            row.addWidget(b)
            b.clicked.connect(self._on_view_button_clicked)
        self.view_buttons[self._view].setChecked(True)
        self.today_button.clicked.connect(self._on_today_button_clicked)
        self.prev_button.clicked.connect(self._on_prev_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.show_cancelled.toggled.connect(self._on_show_cancelled_toggled)

    def surfaces(self) -> list[CalendarSurface]:
        return [self.month_view, self.week_view.grid, self.day_view.grid]

    # -- public API

    def current_view(self) -> str:
        return self._view

    def anchor(self) -> date:
        """The date the current view is built around."""
        return self._anchor

    def set_view(self, name: str) -> None:
        """Show ``month``, ``week``, ``day`` or ``list``."""
        if name not in VIEW_NAMES:
            raise ValueError(
                f"unknown calendar view {name!r}: choose one of {', '.join(VIEW_NAMES)}"
            )
        self._view = name
        self.view_buttons[name].setChecked(True)
        self.stack.setCurrentWidget(self._view_widget(name))
        self.show_cancelled.setVisible(name != "list")
        self.refresh()

    def go_to(self, day: date) -> None:
        """Show the period containing ``day``."""
        self._anchor = day
        self.refresh()

    def refresh(self) -> None:
        """Reload the visible range from the store and repaint."""
        self.zone = display_zone()
        now_local = self._now_local()
        today = self._today = now_local.date()
        first_weekday = local_first_weekday()
        view = self._view
        if view == "list":
            start = self._anchor.replace(day=1)
            end = add_months(start, 1)
            status = self.list_view.status()
            self.list_model.load(start, end, self.zone, status)
            self.title_label.setText(f"{start:%B %Y}")
            n = self.list_model.rowCount()
            what = style.status_label(status).lower() + " " if status else ""
            self.list_view.count_label.setText(f"{n} {what}post{'s' if n != 1 else ''}")
            self.list_view.table.empty_text = f"No {what}posts in {start:%B %Y}."
            self._select_in_table()
            return
        if view == "month":
            start = month_grid_start(self._anchor, first_weekday)
            end = start + timedelta(days=42)
            self.title_label.setText(f"{self._anchor:%B %Y}")
        elif view == "week":
            start = week_start(self._anchor, first_weekday)
            end = start + timedelta(days=7)
            self.title_label.setText(range_title(start, end - timedelta(days=1)))
        else:
            start, end = self._anchor, self._anchor + timedelta(days=1)
            self.title_label.setText(f"{start:%A} {start.day} {start:%B %Y}")
        self.model.load(start, end, self.zone, hide_cancelled=not self.show_cancelled.isChecked())
        if self._selected_id is not None and self.model.item(self._selected_id) is None:
            self._selected_id = None
        if view == "month":
            self.month_view.set_range(start, self._anchor.month, today, self.zone)
        elif view == "week":
            self.week_view.set_range(start, today, now_local, self.zone)
        else:
            self.day_view.set_range(start, today, now_local, self.zone)
        self._apply_selection()

    def select(self, schedule_id: int | None) -> None:
        """Select the chip (and list row) of ``schedule_id``; None clears the selection."""
        self._selected_id = schedule_id or None
        self._apply_selection()
        self._select_in_table()

    def selected_id(self) -> int | None:
        return self._selected_id

    def cancel_selected(self) -> bool:
        """Cancel the selected pending post (undoable). False when nothing was cancelled."""
        sid = self._selected_id
        if sid is None:
            return False
        return self.cancel_schedule(sid)

    def cancel_schedule(self, schedule_id: int) -> bool:
        """Cancel one pending (or missed) schedule as an undoable command."""
        it = self._item(schedule_id, fresh=True)
        if it is None:
            return False
        if not it.cancellable:
            state = style.status_label(it.status).lower()
            self.message.emit(
                f"“{it.short_text}” is {state}: only pending or missed posts can be cancelled."
            )
            return False
        cmd = CancelCommand(
            it.id,
            f"Cancel “{short_text(it.text, 30)}”",
            previous_status=it.status,
            clock=self.clock,
            report=self.message.emit,
        )
        return push_command(self.undo_stack, cmd)

    def drop_mime(self, mime: QMimeData, day: date, at: time | None) -> bool:
        """Handle a drop of chips or drafts on local ``day`` (at ``at``, or the default time).

        Returns True when the change was made (and pushed on the undo stack).
        """
        if mime.hasFormat(SCHEDULE_MIME):
            return self._move_schedules(decode_ids(mime, SCHEDULE_MIME), day, at)
        if mime.hasFormat(POST_MIME):
            return self._schedule_posts(decode_ids(mime, POST_MIME), day, at)
        return False

    # -- drops

    def _move_schedules(self, ids: list[int], day: date, at: time | None) -> bool:
        commands: list[StoreCommand] = []
        for sid in ids:
            it = self._item(sid, fresh=True)
            if it is None:
                self.message.emit(
                    f"Scheduled post {sid} no longer exists; the calendar is reloaded."
                )
                self.refresh()
                return False
            if not it.movable:
                self._explain_not_movable(it)
                return False
            wall = at or it.local.time().replace(tzinfo=None)
            when = self._checked_instant(day, wall)
            if when is None:
                return False
            if when == it.when_utc:
                continue  # dropped where it already is
            label = f"Move “{short_text(it.text, 30)}” to {format_day(day)} {wall:%H:%M}"
            commands.append(
                RescheduleCommand(
                    it.id, it.when_utc, when, label, clock=self.clock, report=self.message.emit
                )
            )
        return self._push(commands, f"Move {len(commands)} posts")

    def _schedule_posts(self, post_ids: list[int], day: date, at: time | None) -> bool:
        if not post_ids:
            return False
        wall = at or parse_hhmm(settings.get("default_post_time"))
        when = self._checked_instant(day, wall)
        if when is None:
            return False
        choices = account_choices()
        if not choices:
            self.message.emit("Add an account first: a post needs somewhere to be published.")
            return False
        commands: list[StoreCommand] = []
        for post_id in post_ids:
            try:
                post = queries.post_view(post_id)
            except UserError as exc:
                self.message.emit(f"{exc}.")
                return False
            chosen = (
                [choices[0].id]
                if len(choices) == 1
                else list(self.choose_account(post_id, choices))
            )
            if not chosen:
                return False  # the user closed the account menu: nothing to say
            by_id = {c.id: c for c in choices}
            content = Content(text=post.body, media=post.media)
            for account_id in chosen:
                acc = by_id.get(account_id)
                if acc is None:
                    self.message.emit(f"Account {account_id} no longer exists; choose another.")
                    return False
                # Checked before any write, so a refusal on the second account does not
                # leave the first one scheduled and cancelled behind.
                problems = registry.validate(acc.platform, content, tier=acc.tier)
                if problems:
                    label = style.platform_style(acc.platform).label
                    details = "; ".join(pr.message for pr in problems)
                    self.message.emit(f"Cannot schedule on {label} ({acc.name}): {details}.")
                    return False
                label = (
                    f"Schedule “{short_text(post.body, 30)}” on {acc.name} "
                    f"for {format_day(day)} {wall:%H:%M}"
                )
                commands.append(
                    ScheduleDraftCommand(
                        post_id,
                        account_id,
                        when,
                        zone_name(self.zone),
                        label,
                        clock=self.clock,
                        report=self.message.emit,
                    )
                )
        return self._push(commands, f"Schedule {len(post_ids)} post(s) on {len(commands)} accounts")

    def _push(self, commands: list[StoreCommand], group_text: str) -> bool:
        if not commands:
            return False
        if len(commands) == 1:
            return push_command(self.undo_stack, commands[0])
        for cmd in commands:
            cmd.report = None  # the group reports once, for all of them
        group = CommandGroup(commands, group_text, clock=self.clock, report=self.message.emit)
        return push_command(self.undo_stack, group)

    def _explain_not_movable(self, it: ScheduleItem) -> None:
        reason = WHY_NOT_MOVABLE.get(it.status, f"it is {it.status}")
        self.message.emit(f"“{it.short_text}” cannot be moved: {reason}.")

    def _checked_instant(self, day: date, wall: time) -> datetime | None:
        """The UTC instant of local ``day`` ``wall``, or None (and a message) if refused."""
        try:
            when = localize(datetime.combine(day, wall), self.zone).astimezone(UTC)
        except TimeInputError as exc:
            self.message.emit(f"{exc}.")
            return None
        if when < self.clock.now():
            self.message.emit(
                f"{format_day(day)} {wall:%H:%M} has already passed: "
                "drop it on a later day or time."
            )
            return None
        return when

    def _ask_accounts(self, post_id: int, choices: Sequence[AccountChoice]) -> list[int]:
        """The default account chooser: a small menu at the pointer, one entry per account."""
        menu = QMenu(self)
        menu.setObjectName("calendarAccountMenu")
        title = menu.addAction("Schedule on…")
        title.setEnabled(False)
        for c in choices:
            suffix = " (needs reconnecting)" if c.needs_reconnect else ""
            action = menu.addAction(style.platform_icon(c.platform), f"{c.name}{suffix}")
            action.setData([c.id])
        menu.addSeparator()
        every = menu.addAction(f"All {len(choices)} accounts")
        every.setData([c.id for c in choices])
        picked = menu.exec(QCursor.pos())
        return list(picked.data()) if picked is not None and picked.data() else []

    # -- helpers

    def _now_local(self) -> datetime:
        return self.clock.now().astimezone(self.zone)

    def _view_widget(self, name: str) -> QWidget:
        return {
            "month": self.month_view,
            "week": self.week_view,
            "day": self.day_view,
            "list": self.list_view,
        }[name]

    def _item(self, schedule_id: int, *, fresh: bool = False) -> ScheduleItem | None:
        """A schedule as shown (from the loaded range), or ``fresh`` from the store.

        Changes use the fresh row: the scheduler may have published or moved it since
        the view was loaded, and undo must return it to where it really was.
        """
        if not fresh:
            it = self.model.item(schedule_id) or self.list_model.item(schedule_id)
            if it is not None:
                return it
        try:
            return ScheduleItem.from_row(queries.schedule_view(schedule_id), self.zone)
        except UserError:
            return None

    def _apply_selection(self) -> None:
        for s in self.surfaces():
            if s.selected_id != self._selected_id:
                s.selected_id = self._selected_id
                s.update()

    def _select_in_table(self) -> None:
        table = self.list_view.table
        index = self.list_model.index_of(self._selected_id) if self._selected_id else None
        if index is not None and index.isValid():
            table.selectRow(index.row())
        else:
            table.clearSelection()

    def _shift(self, step: int) -> None:
        if self._view in ("month", "list"):
            self._anchor = add_months(self._anchor, step)
        elif self._view == "week":
            self._anchor += timedelta(days=7 * step)
        else:
            self._anchor += timedelta(days=step)
        self.refresh()

    def _show_menu(self, schedule_id: int, global_pos: QPoint) -> None:
        it = self._item(schedule_id)
        if it is None:
            return
        menu = QMenu(self)
        edit = menu.addAction("Edit schedule…")
        edit_post = menu.addAction("Edit post…")
        menu.addSeparator()
        cancel = menu.addAction("Cancel post")
        cancel.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        cancel.setEnabled(it.cancellable)
        picked = menu.exec(global_pos)
        if picked is edit:
            self.editScheduleRequested.emit(it.id)
        elif picked is edit_post:
            self.editPostRequested.emit(it.post_id)
        elif picked is cancel:
            self.cancel_schedule(it.id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Keys on the views: Delete cancels; undo/redo reach the shared stack even when
        # no window-level action holds those shortcuts (a window action wins if present).
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.cancel_selected()
                return True
            if event.matches(QKeySequence.StandardKey.Undo):
                self.undo_stack.undo()
                return True
            if event.matches(QKeySequence.StandardKey.Redo):
                self.undo_stack.redo()
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._selected_id:
                self.editScheduleRequested.emit(self._selected_id)
                return True
        return super().eventFilter(watched, event)

    # -- slots

    def _on_view_button_clicked(self) -> None:
        for name, b in self.view_buttons.items():
            if b.isChecked() and name != self._view:
                self.set_view(name)
                return

    def _on_today_button_clicked(self) -> None:
        self.go_to(self._now_local().date())

    def _on_prev_button_clicked(self) -> None:
        self._shift(-1)

    def _on_next_button_clicked(self) -> None:
        self._shift(1)

    def _on_show_cancelled_toggled(self, _checked: bool) -> None:
        self.refresh()

    def _on_surface_chip_clicked(self, schedule_id: int) -> None:
        self.select(schedule_id or None)

    def _on_surface_chip_double_clicked(self, schedule_id: int) -> None:
        self.editScheduleRequested.emit(schedule_id)

    def _on_surface_chip_menu_requested(self, schedule_id: int, global_pos: QPoint) -> None:
        self._show_menu(schedule_id, global_pos)

    def _on_surface_chip_drag_refused(self, schedule_id: int) -> None:
        it = self._item(schedule_id, fresh=True)
        if it is not None:
            self._explain_not_movable(it)

    def _on_surface_day_requested(self, day: date) -> None:
        self._anchor = day
        self.set_view("day")

    def _on_list_table_double_clicked(self, index: QModelIndex) -> None:
        sid = self.list_model.data(index, ScheduleModel.IdRole)
        if sid:
            self.editScheduleRequested.emit(sid)

    def _on_list_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        sid = self.list_model.data(current, ScheduleModel.IdRole)
        self._selected_id = sid or None
        self._apply_selection()

    def _on_list_table_menu_requested(self, pos: QPoint) -> None:
        table = self.list_view.table
        index = table.indexAt(pos)
        sid = self.list_model.data(index, ScheduleModel.IdRole)
        if sid:
            self._show_menu(sid, table.viewport().mapToGlobal(pos))

    def _on_list_view_status_changed(self, _status: object) -> None:
        self.refresh()

    # A decorated slot makes a real Qt connection, which Qt drops when this pane is
    # destroyed; the stack usually outlives the pane and emits while it is cleared.
    @Slot(int)
    def _on_undo_stack_index_changed(self, _index: int) -> None:
        self.refresh()
        self.changed.emit()

    def _on_now_timer_timeout(self) -> None:
        now_local = self._now_local()
        if now_local.date() != self._today:
            self.refresh()
            return
        self.week_view.grid.set_now(now_local)
        self.day_view.grid.set_now(now_local)


__all__ = [
    "VIEW_NAMES",
    "CalendarPane",
    "CalendarSurface",
    "ChipPainter",
    "DayView",
    "ListView",
    "MonthView",
    "TimeGridView",
    "WeekView",
]
