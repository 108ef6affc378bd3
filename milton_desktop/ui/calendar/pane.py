"""The calendar pane: the view switcher, the navigation bar and the four views, and
what happens when posts are dropped, moved or cancelled on them.

Drops never edit rows directly: they build an undo command (``ui.undo``) that makes
one operations call, push it on the shared ``QUndoStack``, and the views refresh
when the stack's index changes (so undo/redo from anywhere shows up here).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import (
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QCursor,
    QDesktopServices,
    QKeyEvent,
    QKeySequence,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import TimeInputError, localize
from milton_desktop.operations import queue
from milton_desktop.publishers import registry
from milton_desktop.storage import queries, settings
from milton_desktop.ui import style, tones
from milton_desktop.ui.calendar.banner import Banner
from milton_desktop.ui.calendar.chrome import CalendarToolbar, separator
from milton_desktop.ui.calendar.model import (
    POST_MIME,
    SCHEDULE_MIME,
    AccountChoice,
    Change,
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
from milton_desktop.ui.calendar.ranges import RangeKey, RangeView, range_key, read_rows
from milton_desktop.ui.calendar.settle import EDIT, Settler, default_act
from milton_desktop.ui.calendar.table import ListView, ScheduleTableModel, TableRead
from milton_desktop.ui.calendar.undo import (
    CancelCommand,
    CommandGroup,
    QueueCommand,
    RescheduleCommand,
    ScheduleDraftCommand,
    StoreCommand,
    effects,
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
    SlotMark,
    TimeGridView,
    WeekView,
    add_months,
    range_title,
)
from milton_desktop.ui.tasks import LatestRead, reader_pool, run_in_background
from milton_desktop.ui.wording import sentence

log = logging.getLogger("milton.ui.calendar")

#: how many ranges read are kept (the one shown, those around it, a few visited)
CACHED_RANGES = 8
#: a drop on today whose time has passed goes out at the next half hour at least this far ahead
DROP_LEAD = timedelta(minutes=5)


def next_sensible_time(now_local: datetime) -> datetime:
    """The next full half hour at least :data:`DROP_LEAD` after ``now_local`` (same zone).

    Aware arithmetic in one zone is wall-clock arithmetic: 09:58 gives 10:30.
    """
    earliest = now_local + DROP_LEAD
    floor = earliest.replace(minute=earliest.minute // 30 * 30, second=0, microsecond=0)
    return floor if floor == earliest else floor + timedelta(minutes=30)


def split_choices(
    choices: Sequence[AccountChoice], content: Content | Sequence[Content]
) -> tuple[list[AccountChoice], list[tuple[AccountChoice, str]]]:
    """The accounts ``content`` (one post, or a post and its follow-ups) can go to, and
    the others with the first reason why not."""
    parts = [content] if isinstance(content, Content) else list(content)
    ok: list[AccountChoice] = []
    refused: list[tuple[AccountChoice, str]] = []
    for c in choices:
        problems = registry.validate_parts(c.platform, parts, tier=c.tier)
        if problems:
            refused.append((c, "; ".join(p.message for p in problems)))
        else:
            ok.append(c)
    return ok, refused


def _parts_of(post: queries.PostView) -> list[Content]:
    """A draft's main post and its follow-ups, as the platforms check them."""
    later = [
        Content(t, tuple(item for item, _name in media))
        for t, media in zip(post.follow_ups, post.follow_up_media, strict=False)
    ]
    return [Content(text=post.body, media=post.media), *later]


def slot_marks(
    start: date, end: date, zone: tzinfo, flt: queries.ScheduleFilter, clock: Clock
) -> list[SlotMark]:
    """The free queue slots of the accounts ``flt`` lets through, in local time (safe on
    a worker thread)."""
    if flt.statuses or flt.text.strip():
        return []  # a filtered view shows posts, not room for more
    lo = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
    hi = datetime.combine(end, time(0), tzinfo=zone).astimezone(UTC)
    names = {a.id: a for a in queries.list_accounts()}
    marks = []
    for free in queue.free_slots_between(lo, hi, clock=clock):
        acc = names.get(free.account_id)
        if acc is None or (flt.account_id is not None and acc.id != flt.account_id):
            continue
        if flt.platform and acc.platform != flt.platform:
            continue
        local = free.at.astimezone(zone)
        marks.append(
            SlotMark(
                local.date(),
                local.time().replace(tzinfo=None),
                free.at,
                acc.id,
                acc.display_name,
                acc.platform,
            )
        )
    return marks


class CalendarPane(QWidget):
    """Month / Week / Day / List views of scheduled posts, with undoable drag and drop.

    Args:
        undo_stack: the application's shared stack; every change made here is pushed on it.
        clock: time source for "today", "now" and past-time checks (tests pass a FakeClock).
        background_reads: read ranges on a worker thread, keeping the previous picture
            until the rows arrive, and read the periods around it ahead (the window
            does; on its own the pane reads on the calling thread, at once).
        first_read: waits for a read made ahead (the app's start-up reads this month
            on a worker while the window is built) and gives it with its key, or None;
            the pane shows those rows if it would have read that same key first. The
            pane then shows nothing until :meth:`show_first` (or a view or period is
            asked for).
    """

    #: a message for the user (a refused drop, a failed undo); the pane's banner shows it
    message = Signal(str)
    #: the user wants to edit a schedule (its id)
    editScheduleRequested = Signal(int)
    #: the user wants to edit a post (its id)
    editPostRequested = Signal(int)
    #: schedules changed (a drop, a cancel, an undo or redo): other panes should refresh
    changed = Signal()
    #: a post was copied into a new draft (its post id): the drafts should show it
    draftDuplicated = Signal(int)
    #: the view asked for changed (its name); it comes on screen when its rows are in
    viewChanged = Signal(str)

    def __init__(
        self,
        undo_stack: QUndoStack,
        clock: Clock | None = None,
        parent: QWidget | None = None,
        *,
        background_reads: bool = False,
        first_read: Callable[[], tuple[RangeKey, RangeView] | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("calendarPane")
        self._first_read = first_read
        self.undo_stack = undo_stack
        self.clock: Clock = clock or SystemClock()
        #: asks which account(s) a dropped draft goes to: (post_id, choices) -> account ids;
        #: tests replace it to bypass the popup menu
        self.choose_account: ChooseAccount = self._ask_accounts
        self.zone: tzinfo = display_zone()
        self._view = "month"
        self._anchor = self._now_local().date()
        self._selected_id: int | None = None
        #: accounts the last dropped post cannot go to, with why (the picker shows them)
        self._refused_choices: list[tuple[AccountChoice, str]] = []
        #: what to tell after a drop that went through with a changed time
        self._pending_note: str | None = None
        # The newest range asked for wins; what was read stays, most recent last, until
        # a change touches it (``_forget``), so paging back and forth reads nothing.
        self._reads = LatestRead(self, background=background_reads)
        self._list_reads = LatestRead(self, background=background_reads)
        self._cache: OrderedDict[RangeKey, RangeView] = OrderedDict()
        self._prefetching: set[RangeKey] = set()
        #: counts changes: a read that began before one is not kept
        self._epoch = 0
        self._undo_index = undo_stack.index()
        #: the range, read and day on screen, to skip a read that changes nothing
        self._shown: tuple[RangeKey, RangeView, date] | None = None
        #: what to do once the list's read has arrived (select a post in it)
        self._list_then: Callable[[], None] | None = None

        self.banner = Banner(self)
        self.settler = Settler(undo_stack, self.clock, self, lambda: self.zone)
        self.settler.said.connect(self._on_settler_said)
        self.settler.acting.connect(self.banner.clear)
        self.settler.changed.connect(self._on_settler_changed)
        self.settler.editRequested.connect(self._on_settler_edit_requested)
        self.settler.duplicated.connect(self.draftDuplicated)

        self.model = ScheduleModel(self)
        self.list_model = ScheduleTableModel(self)
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
        layout.addWidget(separator(self))
        # the list view's search and filters, above every view: one filter for them all
        layout.addWidget(self.list_view.controls)
        layout.addWidget(self.banner)
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
        for grid_view in (self.week_view, self.day_view):
            grid_view.grid.slot_drop_handler = self.drop_on_slot
        table = self.list_view.table
        table.installEventFilter(self)
        table.doubleClicked.connect(self._on_list_table_double_clicked)
        table.selectionModel().currentRowChanged.connect(self._on_list_table_current_changed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._on_list_table_menu_requested)
        self.list_view.filtersChanged.connect(self._on_list_view_filters_changed)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)

        # The now-line and "today" move with time; a tick only repaints (no database),
        # unless the day changed, when the view reloads.
        self._now_timer = QTimer(self)
        self._now_timer.setObjectName("calendarNowTimer")
        self._now_timer.setInterval(60_000)
        self._now_timer.timeout.connect(self._on_now_timer_timeout)
        self._now_timer.start()

        # The first picture is read on this thread: a window opens on its month, never on
        # an empty grid that fills a moment later. With a read made ahead, the owner
        # calls show_first() once the rest of the window is built: the worker reading it
        # has that long to finish.
        self._first_pending = True
        if first_read is None:
            self.show_first()
        if background_reads:  # and the periods around it, once the loop runs
            QTimer.singleShot(0, self, self._on_first_shown)

    # -- construction

    def _build_toolbar(self) -> None:
        self.toolbar = CalendarToolbar(self, view=self._view)
        bar = self.toolbar
        self.today_button, self.prev_button, self.next_button = (
            bar.today_button,
            bar.prev_button,
            bar.next_button,
        )
        self.title_label, self.show_cancelled = bar.title_label, bar.show_cancelled
        self.view_buttons = bar.view_buttons
        self._view_group = bar.view_group
        for b in self.view_buttons.values():
            b.clicked.connect(self._on_view_button_clicked)
        self.today_button.clicked.connect(self._on_today_button_clicked)
        self.prev_button.clicked.connect(self._on_prev_button_clicked)
        self.next_button.clicked.connect(self._on_next_button_clicked)
        self.show_cancelled.toggled.connect(self._on_show_cancelled_toggled)

    def show_first(self) -> None:
        """Show the first picture, read on this thread or taken from the read made
        ahead; nothing when a picture was asked for already."""
        if not self._first_pending:
            return
        background = self._reads.background
        self._reads.background = False
        try:
            self.refresh()
        finally:
            self._reads.background = background

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
        self.show_cancelled.setVisible(name != "list")
        self.viewChanged.emit(name)
        # the view on screen changes when its rows are in (``_apply``): until then the
        # previous one stays, whole, rather than a new view drawing the old rows
        self._show()

    def go_to(self, day: date) -> None:
        """Show the period containing ``day``."""
        self._anchor = day
        self._show()

    def refresh(self) -> None:
        """Reload the visible range from the store and repaint (what was read of other
        ranges is forgotten: whatever changed is not known)."""
        self.zone = display_zone()
        self._forget()
        self._show()

    def reload(self, schedule_ids: Iterable[int]) -> None:
        """Schedules changed elsewhere (a publish outcome): read again the ranges that
        hold them, the visible one always (a row may have come into it)."""
        self._forget(schedule_ids)
        if self._view != "list":
            self._cache.pop(self._key(self._view, self._anchor), None)
        self._show()

    def loading(self) -> bool:
        """Whether the range asked for last is still being read (the previous one shows)."""
        return self._reads.busy()

    def _key(self, view: str, anchor: date) -> RangeKey:
        hide = not self.show_cancelled.isChecked()
        return range_key(view, anchor, self.zone, hide_cancelled=hide, flt=self.list_view.filter())

    def _show(self) -> None:
        """Show the current view and period: from what was read already if it is
        still true, else from a read (on a worker in the window), the previous
        picture staying until it arrives."""
        self._first_pending = False
        view = self._view
        for b in (self.prev_button, self.next_button):
            b.setVisible(view != "list")  # the list is every post, all time: no pages to turn
        if view == "list":
            self._reads.supersede()  # a range still being read is not wanted now
            self.title_label.setText("All posts")
            self._load_list(keep_loaded=True)
            return
        self._list_reads.supersede()  # nor the list, when a calendar view shows
        key = self._key(view, self._anchor)
        cached = self._cache.get(key)
        if cached is not None:
            self._reads.supersede()  # a read still under way for another range is stale
            self._cache.move_to_end(key)
            self._apply(key, cached)
            self._prefetch_around(key)
            return
        epoch = self._epoch
        ahead, self._first_read = self._first_read, None
        if ahead is not None:
            got = ahead()
            if got is not None and got[0] == key:
                self._reads.supersede()
                self._on_range_read(key, epoch, got[1])
                return
        self._reads.request(
            self._range_reader(key),
            lambda read: self._on_range_read(key, epoch, read),
            self._on_read_failed,
        )

    def _range_reader(self, key: RangeKey) -> Callable[[], RangeView]:
        """What a worker runs to read ``key``: the rows and, for week and day, the items
        (every one of them is drawn) and the free queue slots."""
        timed = key.view in ("week", "day")
        clock = self.clock

        def read() -> RangeView:
            rows = read_rows(key)
            marks = slot_marks(key.start, key.end, key.zone, key.flt, clock) if timed else []
            return RangeView(rows, marks)

        return read

    def _on_range_read(self, key: RangeKey, epoch: int, read: RangeView) -> None:
        if epoch == self._epoch:  # nothing changed since the read began
            self._remember(key, read)
        self._apply(key, read)
        self._prefetch_around(key)

    def _on_read_failed(self, exc: Exception) -> None:
        log.error("could not read the calendar: %s", exc)
        self.banner.show_message(
            f"The calendar could not be read from the database ({exc}). What is shown may "
            "be out of date: try again with Today, or restart Milton Desktop if it persists.",
            "error",
        )

    def _remember(self, key: RangeKey, read: RangeView) -> None:
        self._cache[key] = read
        self._cache.move_to_end(key)
        while len(self._cache) > CACHED_RANGES:
            self._cache.popitem(last=False)

    def _forget(self, ids: Iterable[int] | None = None, instants: Iterable[datetime] = ()) -> None:
        """Drop what was read of the ranges a change touches: those holding one of
        ``ids`` or covering one of ``instants``; everything when ``ids`` is None."""
        self._epoch += 1  # reads under way began before the change: not kept
        if ids is None:
            self._cache.clear()
            return
        wanted, moments = set(ids), list(instants)
        for key in [
            k
            for k, v in self._cache.items()
            if wanted & v.rows.ids or any(v.rows.covers(m) for m in moments)
        ]:
            del self._cache[key]

    def _prefetch_around(self, key: RangeKey) -> None:
        """Read the periods before and after ``key`` ahead, so paging is instant."""
        if not self._reads.background:
            return  # read on this thread: ahead of time would only be slower now
        for step in (1, -1):
            anchor = self._shifted(key.view, self._anchor, step)
            near = self._key(key.view, anchor)
            if near in self._cache or near in self._prefetching:
                continue
            self._prefetching.add(near)
            epoch = self._epoch

            def kept(read: RangeView, near: RangeKey = near, epoch: int = epoch) -> None:
                self._prefetching.discard(near)
                if epoch == self._epoch:
                    self._remember(near, read)

            def lost(exc: Exception, near: RangeKey = near) -> None:
                self._prefetching.discard(near)
                log.debug("reading ahead failed: %s", exc)  # read again when shown

            run_in_background(
                self._range_reader(near),
                parent=self,
                on_success=kept,
                on_failure=lost,
                pool=reader_pool(),
            )

    def _apply(self, key: RangeKey, view: RangeView) -> None:
        """Show a range read: title, chips, free slots and selection, in one go.
        A read that finds what is shown already (a change elsewhere) changes nothing."""
        now_local = self._now_local()
        today = self._today = now_local.date()
        self.stack.setCurrentWidget(self._view_widget(key.view))
        shown = (key, view, today)
        if shown == self._shown:
            return
        self._shown = shown
        start, end = key.start, key.end
        if key.view == "month":
            self.title_label.setText(f"{self._anchor:%B %Y}")
        elif key.view == "week":
            self.title_label.setText(range_title(start, end - timedelta(days=1)))
        else:
            self.title_label.setText(f"{start:%A} {start.day} {start:%B %Y}")
        self.model.show(view.rows)
        self.list_view.show_filtered(self.model.rowCount(), self.model.unfiltered)
        if self._selected_id is not None and self.model.item(self._selected_id) is None:
            self._selected_id = None
        if key.view == "month":
            self.month_view.set_range(start, key.month, today, key.zone)
        elif key.view == "week":
            self.week_view.set_range(start, today, now_local, key.zone)
            self.week_view.grid.set_slot_marks(view.marks)
        else:
            self.day_view.set_range(start, today, now_local, key.zone)
            self.day_view.grid.set_slot_marks(view.marks)
        self._apply_selection()

    def show_changes(self, changes: dict[int, Change], instants: Iterable[datetime] = ()) -> None:
        """Edits made here (a drop, an undo): shown at once, then confirmed by a read.

        Only the ranges read before that hold one of the schedules, or cover one of
        ``instants`` (where something moved to or appeared), are read again. A status
        change of a schedule no range holds (a cancelled one, hidden) may show
        anywhere: then everything is read again."""
        moments = [*instants, *(c.when for c in changes.values() if c.when is not None)]
        held: set[int] = set()
        for v in self._cache.values():
            held |= v.rows.ids & changes.keys()
        unplaced = any(c.when is None and sid not in held for sid, c in changes.items())
        self._forget(None if unplaced else changes.keys(), moments)
        if self._view != "list":
            self._cache.pop(self._key(self._view, self._anchor), None)  # confirmed by a read
            if self.model.patch(changes):
                self._shown = None  # the model is ahead of every read
                self.list_view.show_filtered(self.model.rowCount(), self.model.unfiltered)
        self._show()

    def filter(self) -> queries.ScheduleFilter:
        """What the search and filters let through, in every view."""
        return self.list_view.filter()

    def clear_filter(self) -> None:
        """Show every post again, in every view."""
        self.list_view.clear_filter()

    def focus_search(self) -> None:
        """Ctrl+F: the search box, whatever view is shown."""
        self.list_view.focus_search()

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
        self.banner.clear()
        it = self._item(schedule_id, fresh=True)
        if it is None:
            return False
        if not it.cancellable:
            state = style.status_label(it.status).lower()
            self._refuse(
                f"“{it.short_text}” is {state}: only pending or missed posts can be cancelled."
            )
            return False
        cmd = CancelCommand(
            it.id,
            f"Cancel “{short_text(it.text, 30)}”",
            previous_status=it.status,
            clock=self.clock,
            report=self._refuse,
        )
        return push_command(self.undo_stack, cmd)

    def drop_mime(self, mime: QMimeData, day: date, at: time | None) -> bool:
        """Handle a drop of chips or drafts on local ``day`` (at ``at``, or the default time).

        Returns True when the change was made (and pushed on the undo stack).
        """
        self.banner.clear()  # whatever was said about the last drop is over
        self._pending_note = None
        done = False
        if mime.hasFormat(SCHEDULE_MIME):
            done = self._move_schedules(decode_ids(mime, SCHEDULE_MIME), day, at)
        elif mime.hasFormat(POST_MIME):
            done = self._schedule_posts(decode_ids(mime, POST_MIME), day, at)
        if done and self._pending_note:
            self.banner.show_message(self._pending_note, "info")
        self._pending_note = None
        return done

    # -- drops

    def _move_schedules(self, ids: list[int], day: date, at: time | None) -> bool:
        commands: list[StoreCommand] = []
        for sid in ids:
            it = self._item(sid, fresh=True)
            if it is None:
                self._refuse(f"Scheduled post {sid} no longer exists; the calendar is reloaded.")
                self.refresh()
                return False
            if not it.movable:
                self._explain_not_movable(it)
                return False
            wall = at or it.local.time().replace(tzinfo=None)
            wall = self._sensible_today(day, wall, at is None)
            when = self._checked_instant(day, wall)
            if when is None:
                return False
            if when == it.when_utc:
                continue  # dropped where it already is
            label = f"Move “{short_text(it.text, 30)}” to {format_day(day)} {wall:%H:%M}"
            commands.append(
                RescheduleCommand(
                    it.id, it.when_utc, when, label, clock=self.clock, report=self._refuse
                )
            )
        return self._push(commands, f"Move {len(commands)} posts")

    def _schedule_posts(self, post_ids: list[int], day: date, at: time | None) -> bool:
        if not post_ids:
            return False
        wall = at or parse_hhmm(settings.get("default_post_time"))
        wall = self._sensible_today(day, wall, at is None)
        when = self._checked_instant(day, wall)
        if when is None:
            return False
        every_account = account_choices()
        if not every_account:
            self._refuse("Add an account first: a post needs somewhere to be published.")
            return False
        commands: list[StoreCommand] = []
        for post_id in post_ids:
            try:
                post = queries.post_view(post_id)
            except UserError as exc:
                self._refuse(f"{exc}.")
                return False
            content = _parts_of(post)
            # Only the accounts whose rules the post meets are offered; the others are
            # named with their reason, so nobody picks a target that is then refused.
            choices, refused = split_choices(every_account, content)
            if not choices:
                reasons = "".join(f"\n• {c.name}: {why}." for c, why in refused)
                self._refuse(
                    f"No account can take “{short_text(post.body, 40) or '(no text)'}”:"
                    f"{reasons}\nChange the post in the editor, or connect an account that takes it."
                )
                return False
            self._refused_choices = refused
            chosen = (
                [choices[0].id]
                if len(every_account) == 1
                else list(self.choose_account(post_id, choices))
            )
            self._refused_choices = []
            if not chosen:
                return False  # the user closed the account menu: nothing to say
            by_id = {c.id: c for c in choices}
            for account_id in chosen:
                acc = by_id.get(account_id)
                if acc is None:
                    self._refuse(f"Account {account_id} no longer exists; choose another.")
                    return False
                # Checked before any write, so a refusal on the second account does not
                # leave the first one scheduled and cancelled behind.
                problems = registry.validate_parts(acc.platform, content, tier=acc.tier)
                if problems:
                    label = style.platform_style(acc.platform).label
                    details = "; ".join(pr.message for pr in problems)
                    self._refuse(f"Cannot schedule on {label} ({acc.name}): {details}.")
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
                        report=self._refuse,
                    )
                )
        return self._push(commands, f"Schedule {len(post_ids)} post(s) on {len(commands)} accounts")

    def drop_on_slot(self, mime: QMimeData, mark: SlotMark) -> bool:
        """A draft dropped on a free queue slot: scheduled on that account, in that slot."""
        self.banner.clear()
        post_ids = decode_ids(mime, POST_MIME)
        if len(post_ids) != 1:
            self._refuse("Drop one post on a queue slot: each slot holds one post.")
            return False
        try:
            post = queries.post_view(post_ids[0])
        except UserError as exc:
            self._refuse(f"{exc}.")
            return False
        label = (
            f"Queue “{short_text(post.body, 30)}” on {mark.account} "
            f"for {format_day(mark.day)} {mark.at:%H:%M}"
        )
        return push_command(
            self.undo_stack,
            QueueCommand(
                post.id,
                mark.account_id,
                mark.when_utc,
                label,
                clock=self.clock,
                report=self._refuse,
            ),
        )

    def queue_post(self, post_id: int) -> bool:
        """ "Add to queue": the post goes in the next free slot of an account with a queue
        (the user picks the account when several have one)."""
        self.banner.clear()
        try:
            post = queries.post_view(post_id)
        except UserError as exc:
            self._refuse(f"{exc}.")
            return False
        queued = set(queue.accounts_with_slots())
        every_account = [c for c in account_choices() if c.id in queued]
        if not every_account:
            self._refuse(
                "No account has a queue yet: set its posting times on its Queue page under "
                "Accounts…, then add the post to the queue."
            )
            return False
        choices, refused = split_choices(every_account, _parts_of(post))
        if not choices:
            reasons = "".join(f"\n• {c.name}: {why}." for c, why in refused)
            self._refuse(f"No account with a queue can take this post:{reasons}")
            return False
        self._refused_choices = refused
        chosen = (
            [choices[0].id]
            if len(every_account) == 1
            else list(self.choose_account(post_id, choices))
        )
        self._refused_choices = []
        commands: list[StoreCommand] = [
            QueueCommand(
                post_id,
                account_id,
                None,
                f"Add “{short_text(post.body, 30)}” to the queue of "
                + next(c.name for c in choices if c.id == account_id),
                clock=self.clock,
                report=self._refuse,
            )
            for account_id in chosen
            if any(c.id == account_id for c in choices)
        ]
        done = self._push(commands, f"Add a post to {len(commands)} queues")
        if done:
            when = [c.when for c in commands if isinstance(c, QueueCommand)]
            first = min(when).astimezone(self.zone)
            self.banner.show_message(
                f"Added to the queue: {format_day(first.date())} {first:%H:%M}"
                + ("" if len(when) == 1 else f" (the earliest of {len(when)})")
                + ".",
                "info",
            )
        return done

    def _push(self, commands: list[StoreCommand], group_text: str) -> bool:
        if not commands:
            return False
        if len(commands) == 1:
            return push_command(self.undo_stack, commands[0])
        for cmd in commands:
            cmd.report = None  # the group reports once, for all of them
        group = CommandGroup(commands, group_text, clock=self.clock, report=self._refuse)
        return push_command(self.undo_stack, group)

    def _explain_not_movable(self, it: ScheduleItem) -> None:
        reason = WHY_NOT_MOVABLE.get(it.status, f"it is {it.status}")
        self._refuse(f"“{it.short_text}” cannot be moved: {reason}.")

    def _checked_instant(self, day: date, wall: time) -> datetime | None:
        """The UTC instant of local ``day`` ``wall``, or None (and a message) if refused."""
        try:
            when = localize(datetime.combine(day, wall), self.zone).astimezone(UTC)
        except TimeInputError as exc:
            self._refuse(f"{exc}.")
            return None
        if when < self.clock.now():
            self._refuse(
                f"{format_day(day)} {wall:%H:%M} has already passed: "
                "drop it on a later day or time."
            )
            return None
        return when

    def _sensible_today(self, day: date, wall: time, chosen_for_user: bool) -> time:
        """``wall``, or the next sensible time when it has passed on today's date.

        A month-view drop on today has no time of its own: refusing it because 10:00
        is over would be pedantic, so it takes the next half hour at least
        :data:`DROP_LEAD` ahead, and the banner says so. A time the user pointed at
        (a slot in week or day view) is never changed.
        """
        if not chosen_for_user:
            return wall
        now_local = self._now_local()
        if day != now_local.date():
            return wall
        try:
            when = localize(datetime.combine(day, wall), self.zone)
        except TimeInputError:
            return wall
        if when >= now_local.astimezone(UTC):
            return wall
        later = next_sensible_time(now_local)
        if later.date() != day:
            return wall  # too late today: the refusal says so
        self._pending_note = (
            f"{wall:%H:%M} has already passed today, so it is scheduled for "
            f"{later:%H:%M} instead. Drag it in the day view to choose another time."
        )
        return later.time().replace(tzinfo=None)

    def _ask_accounts(self, post_id: int, choices: Sequence[AccountChoice]) -> list[int]:
        """The default account chooser: a small menu at the pointer, one entry per account."""
        menu = self.account_menu(choices, self._refused_choices)
        picked = menu.exec(QCursor.pos())
        menu.deleteLater()
        return list(picked.data()) if picked is not None and picked.data() else []

    def account_menu(
        self, choices: Sequence[AccountChoice], refused: Sequence[tuple[AccountChoice, str]] = ()
    ) -> QMenu:
        """The menu of accounts a post can go to; those it cannot are shown disabled, with why."""
        menu = QMenu(self)
        menu.setObjectName("calendarAccountMenu")
        # why an account cannot take the post is shown disabled, and must still read
        menu.setPalette(tones.legible_disabled(menu.palette()))
        menu.setToolTipsVisible(True)
        title = menu.addAction("Schedule on…")
        title.setEnabled(False)
        for c in choices:
            suffix = " (needs reconnecting)" if c.needs_reconnect else ""
            action = menu.addAction(style.platform_icon(c.platform), f"{c.name}{suffix}")
            action.setData([c.id])
        if len(choices) > 1:
            menu.addSeparator()
            every = menu.addAction(f"All {len(choices)} accounts")
            every.setData([c.id for c in choices])
        if refused:
            menu.addSeparator()
            head = menu.addAction("Cannot take this post:")
            head.setEnabled(False)
            for c, why in refused:
                action = menu.addAction(
                    style.platform_icon(c.platform), f"{c.name}: {short_text(why, 48)}"
                )
                action.setToolTip(why)
                action.setEnabled(False)
        return menu

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

    def _load_list(self, *, keep_loaded: bool) -> None:
        """Reload the list; a refresh keeps what was scrolled to and the selection."""
        bar = self.list_view.table.verticalScrollBar()
        position = bar.value() if keep_loaded else 0
        flt, zone = self.list_view.filter(), self.zone

        def show(read: TableRead) -> None:
            self.list_model.show(flt, zone, read)
            self.stack.setCurrentWidget(self.list_view)
            self.list_view.show_count(self.list_model.total())
            bar.setValue(position)
            self._select_in_table()
            then, self._list_then = self._list_then, None
            if then is not None:
                then()

        self._list_reads.request(
            self.list_model.reader(flt, keep_loaded=keep_loaded), show, self._on_read_failed
        )

    def show_attention(self, schedule_id: int | None = None) -> None:
        """The list of every failed, uncertain and missed post, with ``schedule_id`` selected."""
        self.list_view.search_edit.clear()
        self.list_view.platform_combo.setCurrentIndex(0)
        self.list_view.account_combo.setCurrentIndex(0)
        self.list_view.show_attention()

        def at_the_post() -> None:  # once the list is read
            if schedule_id:
                self.select(schedule_id)
                index = self.list_model.index_of(schedule_id)
                if index.isValid():
                    self.list_view.table.scrollTo(index)
            self.list_view.table.setFocus(Qt.FocusReason.OtherFocusReason)

        self._list_then = at_the_post
        self.set_view("list")

    @staticmethod
    def _shifted(view: str, anchor: date, step: int) -> date:
        if view == "month":
            return add_months(anchor, step)
        if view == "week":
            return anchor + timedelta(days=7 * step)
        return anchor + timedelta(days=step)

    def _shift(self, step: int) -> None:
        if self._view == "list":
            return
        self._anchor = self._shifted(self._view, self._anchor, step)
        self._show()

    def show_menu(self, schedule_id: int, global_pos: QPoint) -> None:
        """The post's menu at ``global_pos``: what its status lets the user do."""
        it = self._item(schedule_id, fresh=True)
        if it is None:
            self._refuse(
                f"Scheduled post {schedule_id} no longer exists; the calendar is reloaded."
            )
            self.refresh()
            return
        self.select(it.id)
        menu = self.settler.menu_for(it, self)
        menu.exec(global_pos)
        menu.deleteLater()

    def activate(self, schedule_id: int) -> None:
        """Enter or a double-click: edit what can change; otherwise offer what can be done."""
        it = self._item(schedule_id, fresh=True)
        if it is None:
            return
        if default_act(it) == EDIT:
            self.editScheduleRequested.emit(it.id)
            return
        self.show_menu(it.id, self._menu_anchor(it.id))

    def _menu_anchor(self, schedule_id: int) -> QPoint:
        """Where a menu opened from the keyboard appears: at the post's chip or row."""
        if self._view == "list":
            table = self.list_view.table
            index = self.list_model.index_of(schedule_id)
            if index.isValid():
                rect = table.visualRect(index)
                return table.viewport().mapToGlobal(rect.bottomLeft())
            return table.mapToGlobal(table.rect().center())
        surface = {"month": self.month_view, "week": self.week_view.grid}.get(
            self._view, self.day_view.grid
        )
        chip = surface.chip_rect(schedule_id)
        if chip is not None:
            return surface.mapToGlobal(chip.bottomLeft())
        return surface.mapToGlobal(surface.rect().center())

    def say(self, text: str, level: str = "info", link: str = "") -> None:
        """Show ``text`` in the banner over the calendar until dismissed or the next action."""
        action = ("Open post", lambda: QDesktopServices.openUrl(QUrl(link))) if link else None
        self.banner.show_message(text, level, action=action)

    def _refuse(self, text: str) -> None:
        """Say why something the user did was refused, next to where it was done."""
        self.banner.show_message(sentence(text), "error")
        self.message.emit(text)

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
                self.activate(self._selected_id)
                return True
            if event.key() == Qt.Key.Key_Menu and self._selected_id:
                self.show_menu(self._selected_id, self._menu_anchor(self._selected_id))
                return True
            if event.key() == Qt.Key.Key_Escape and not self.banner.isHidden():
                self.banner.clear()
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
        self.activate(schedule_id)

    def _on_surface_chip_menu_requested(self, schedule_id: int, global_pos: QPoint) -> None:
        self.show_menu(schedule_id, global_pos)

    def _on_settler_said(self, level: str, text: str, link: str) -> None:
        self.say(text, level, link)

    def _on_settler_changed(self) -> None:
        self.refresh()
        self.changed.emit()

    def _on_settler_edit_requested(self, act: str, schedule_id: int, post_id: int) -> None:
        if act == EDIT:
            self.editScheduleRequested.emit(schedule_id)
        else:
            self.editPostRequested.emit(post_id)

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
            self.activate(sid)

    def _on_list_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        sid = self.list_model.data(current, ScheduleModel.IdRole)
        self._selected_id = sid or None
        self._apply_selection()

    def _on_list_table_menu_requested(self, pos: QPoint) -> None:
        table = self.list_view.table
        index = table.indexAt(pos)
        sid = self.list_model.data(index, ScheduleModel.IdRole)
        if sid:
            self.show_menu(sid, table.viewport().mapToGlobal(pos))

    def _on_list_view_filters_changed(self) -> None:
        self.banner.clear()
        if self._view == "list":
            self._load_list(keep_loaded=False)
        else:
            self.refresh()

    # A decorated slot makes a real Qt connection, which Qt drops when this pane is
    # destroyed; the stack usually outlives the pane and emits while it is cleared.
    @Slot(int)
    def _on_undo_stack_index_changed(self, index: int) -> None:
        if not isValid(self.undo_stack):
            return  # the stack empties itself as it is deleted
        low, high = sorted((self._undo_index, index))
        done = index > self._undo_index
        self._undo_index = index
        steps = [self.undo_stack.command(i) for i in range(low, high)]
        changes: dict[int, Change] = {}
        instants: list[datetime] = []
        for cmd in steps if done else reversed(steps):
            step = effects(cmd, done=done)
            if step is None:
                changes.clear()
                break
            changes.update(step[0])
            instants += step[1]
        if changes or instants:
            self.show_changes(changes, instants)
        else:
            self.refresh()
        self.changed.emit()

    def _on_first_shown(self) -> None:
        if self._view != "list":
            self._prefetch_around(self._key(self._view, self._anchor))

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
