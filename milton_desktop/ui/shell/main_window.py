"""The main window: the calendar in the middle, drafts on the left, what is next on
the right, and the scheduler's state along the bottom.

The window never publishes by itself: it shows the database, asks the runner to
re-check after a change, and lets the user pause or publish what is due. It
refreshes from the database when the runner reports an outcome, when a pane
changes something, and when another process (``milton-desktop schedule`` in a
terminal, a background scheduler) writes to it, which SQLite's ``data_version``
tells cheaply; a team database (PostgreSQL) tells it itself (LISTEN/NOTIFY, see
``storage/live.py``), so another member's change shows within a second.

UI state (geometry, dock layout, one-time hints) lives in ``ui-state.ini`` in the
data folder, apart from the preferences, which are in the database.
"""

from __future__ import annotations

import logging
import platform
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, cast

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QIcon,
    QKeySequence,
    QPalette,
    QResizeEvent,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from milton_desktop import APP_NAME, __version__
from milton_desktop.context import AppContext
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import NEEDS_ATTENTION, Status
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.publishers import registry
from milton_desktop.storage import live, queries, settings
from milton_desktop.ui import icons, style, tones
from milton_desktop.ui.calendar.drafts import DraftsPane
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.undo import moves_only
from milton_desktop.ui.calendar.upcoming import UpcomingPanel
from milton_desktop.ui.shell.first_run import FirstRunGuide
from milton_desktop.ui.shell.frame import (
    COMPACT_WIDTH,
    DOCK_WIDTHS,
    GUIDE_HEIGHT_KEY,
    TOOLBAR_KEEPS_TEXT,
    UI_STATE_VERSION,
    WindowFrame,
    make_dock,
)
from milton_desktop.ui.shell.missed_dialog import MissedPostsDialog
from milton_desktop.ui.shell.post_actions import PostActions, shortcut_of
from milton_desktop.ui.shell.tray import (
    NextPost,
    Notice,
    external_scheduler_text,
    follow_runner,
    next_post,
)
from milton_desktop.ui.tasks import LatestRead
from milton_desktop.ui.wording import with_hint

if TYPE_CHECKING:  # the dialogs are imported when first opened: the window shows sooner
    # and the engine when the scheduler starts, after the first paint
    from milton_desktop.engine.machine import Outcome
    from milton_desktop.engine.runner import Runner
    from milton_desktop.ui.accounts.dialog import AccountsDialog
    from milton_desktop.ui.calendar.ranges import RangeKey, RangeView
    from milton_desktop.ui.editor.dialog import PostEditorDialog
    from milton_desktop.ui.shell.import_dialog import ImportDialog
    from milton_desktop.ui.shell.settings_dialog import SettingsDialog
    from milton_desktop.ui.shell.warmup import IdleImports

    #: waits for the month read ahead at start-up: its key and rows, or None
    FirstRead = Callable[[], tuple[RangeKey, RangeView] | None]

log = logging.getLogger("milton.ui")

VIEWS = (
    ("month", "&Month", "Ctrl+1"),
    ("week", "&Week", "Ctrl+2"),
    ("day", "&Day", "Ctrl+3"),
    ("list", "&List", "Ctrl+4"),
)

#: how often "in 12 min" in the status bar is brought up to date
STATUS_REFRESH_MS = 30_000
#: how often the database is asked whether another connection wrote to it
DB_WATCH_MS = 3_000
#: a team database's changes that only the status bar shows (heartbeats, a machine
#: coming and going, mail waiting to be sent)
STATUS_ONLY_TABLES = frozenset({"machines", "mail_outbox"})
#: what the status bar says while the team database cannot be reached
UNREACHABLE_TEXT = "Team database unreachable, retrying…"
#: changes arriving together (a burst of outcomes) cause one refresh
REFRESH_DEBOUNCE_MS = 150
#: missed posts arriving together (a wake-up) open one dialog
MISSED_BATCH_MS = 600
#: what a refresh may reload (the status bar and the first-run guide always follow)
PANES = ("calendar", "drafts", "upcoming")
#: at most this many notices are shown at once in the window
MAX_VISIBLE_NOTICES = 3


@dataclass(frozen=True)
class StatusRead:
    """What the status bar, the Post menu and the first-run guide show of the store."""

    next_post: NextPost | None
    zone: str
    attention: int
    missed: int
    has_accounts: bool
    has_posts: bool
    #: mail that is waiting, failed or unknown, in a few words ("" when all went out)
    mail: str
    #: team mode: (account, message) for each account with a post due that no live
    #: machine can publish
    team_warnings: tuple[tuple[str, str], ...] = ()


def read_status() -> StatusRead:
    """Read on a worker after every refresh: a handful of small indexed queries."""
    from milton_desktop.operations import notify_mail, team

    return StatusRead(
        next_post(),
        settings.get("timezone") or "UTC",
        queries.status_count(*NEEDS_ATTENTION),
        queries.status_count(Status.MISSED),
        bool(queries.list_accounts()),
        queries.has_posts(),
        notify_mail.mail_status().summary(),
        tuple((w.account, w.message) for w in team.warnings()),
    )


#: notice level -> the meaning whose colour edges its card (info takes the accent)
_LEVEL_TONES = {"warning": "warning", "critical": "error"}


def _level_color(level: str, palette: QPalette) -> QColor:
    """The edge colour of a notice of ``level``, chosen to show on ``palette``'s base."""
    meaning = _LEVEL_TONES.get(level)
    if meaning is None:
        return style.theme_for(palette).focus
    return tones.tone(palette, meaning, QPalette.ColorRole.Base)


def _theme_icon(name: str) -> QIcon:
    """A themed icon where the desktop has one; toolbar buttons fall back to their text."""
    return QIcon.fromTheme(name)


# ---------------------------------------------------------------- in-window notices


class NoticeCard(QFrame):
    """One notice: a coloured edge for its level, title, text, actions, a close button."""

    def __init__(self, notice: Notice, area: NotificationArea) -> None:
        super().__init__(area)
        self.notice = notice
        self.setObjectName("notice-card")
        color = _level_color(notice.level, self.palette()).name()
        self.setStyleSheet(
            f"#notice-card {{ border: 1px solid palette(mid); border-left: 4px solid {color};"
            " border-radius: 4px; background: palette(base); }"
            " #notice-card QLabel { background: transparent; }"
        )
        title = QLabel(f"<b>{escape(notice.title)}</b>")
        title.setTextFormat(Qt.TextFormat.RichText)
        body = QLabel(notice.body)
        body.setWordWrap(True)
        body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(title)
        text.addWidget(body)

        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addLayout(text, 1)
        for label, action in self._actions():
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, a=action: area.actionRequested.emit(notice, a))
            row.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setAutoRaise(True)
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(lambda: area.dismiss(self))
        row.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

    def _actions(self) -> list[tuple[str, str]]:
        kind = self.notice.kind
        if kind == Status.PUBLISHED and self.notice.url:
            return [("Open post", "open_url")]
        if kind == Status.MISSED:
            return [("Review…", Status.MISSED)]
        if kind == "reconnect":
            return [("Accounts…", "accounts")]
        if kind in (Status.FAILED, Status.UNCERTAIN) and self.notice.schedule_ids:
            return [("Show", "show")]
        return []


class NotificationArea(QWidget):
    """A dismissible list of notices above the calendar, used when there is no tray."""

    #: (notice, action) for a notice's button: open_url, missed, accounts or show
    actionRequested = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notification-area")
        self._notices: list[Notice] = []
        #: the cards of the first MAX_VISIBLE_NOTICES notices
        self._cards: list[NoticeCard] = []
        self._cards_timer = QTimer(self)
        self._cards_timer.setObjectName("milton-notice-cards")
        self._cards_timer.setSingleShot(True)
        self._cards_timer.setInterval(0)
        self._cards_timer.timeout.connect(self._sync_cards)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 8, 8, 0)
        self._layout.setSpacing(6)
        self._more = QWidget()
        more_row = QHBoxLayout(self._more)
        more_row.setContentsMargins(4, 0, 4, 0)
        self._more_label = QLabel()
        dismiss_all = QPushButton("Dismiss all")
        dismiss_all.setFlat(True)
        dismiss_all.clicked.connect(self.clear)
        more_row.addWidget(self._more_label, 1)
        more_row.addWidget(dismiss_all)
        self._layout.addWidget(self._more)
        self._update()

    def add(self, notice: Notice) -> None:
        # Only the cards shown are built, once for a burst of outcomes (many at once).
        self._notices.insert(0, notice)  # newest first
        self._update()
        if not self._cards_timer.isActive():
            self._cards_timer.start()

    def _sync_cards(self) -> None:
        """One card for each of the first MAX_VISIBLE_NOTICES notices, newest on top."""
        wanted = self._notices[:MAX_VISIBLE_NOTICES]
        for card in [c for c in self._cards if c.notice not in wanted]:
            self._drop_card(card)
        have = {id(c.notice): c for c in self._cards}
        cards: list[NoticeCard] = []
        for n, notice in enumerate(wanted):
            card = have.get(id(notice)) or NoticeCard(notice, self)
            self._layout.insertWidget(n, card)
            cards.append(card)
        self._cards = cards
        self._update()

    def notices(self) -> list[Notice]:
        return list(self._notices)

    def count(self) -> int:
        return len(self._notices)

    def dismiss(self, card: NoticeCard) -> None:
        if card in self._cards:
            self._notices.remove(card.notice)
            self._sync_cards()  # the next one comes into view
        self._update()

    def clear(self) -> None:
        self._notices.clear()
        for card in list(self._cards):
            self._drop_card(card)
        self._update()

    def _drop_card(self, card: NoticeCard) -> None:
        self._cards.remove(card)
        card.hide()
        card.deleteLater()

    def _update(self) -> None:
        hidden = len(self._notices) - min(len(self._notices), MAX_VISIBLE_NOTICES)
        self._more_label.setText(f"and {hidden} more" if hidden > 0 else "")
        self._more.setVisible(len(self._notices) > 1)
        self.setVisible(bool(self._notices))


# ---------------------------------------------------------------- the window


class MainWindow(WindowFrame):
    """Calendar, drafts and upcoming posts, with the scheduler's state in the status bar."""

    #: the user chose Quit (File menu or tray): the app shuts down
    quitRequested = Signal()
    #: the user paused (True) or resumed (False) publishing from the window
    pausedChanged = Signal(bool)
    #: the window was opened or focused: anything flagged for attention has been seen
    activated = Signal()
    #: the window was closed into the tray for the first time: explain where it went
    trayHintRequested = Signal()
    #: an Outcome recorded by a background scheduler (another process publishes)
    backgroundOutcome = Signal(object)
    #: team mode: the (account, message) warnings of posts nobody can publish, after
    #: every status read (the tray tells each once)
    teamWarnings = Signal(object)
    # from the team database's listener thread, queued onto the window's
    _databaseChanged = Signal(object)
    _databaseReachable = Signal(bool, str)

    def __init__(
        self,
        ctx: AppContext,
        runner: Runner | None,
        undo_stack: QUndoStack,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
        fill_panes: bool = True,
    ) -> None:
        """``fill_panes=False`` (the app's start-up) shows the drafts and upcoming panes
        blank and fills them once the calendar has painted (:meth:`fill_panes`)."""
        super().__init__(parent)
        self._build(ctx, runner, undo_stack, clock=clock, fill_panes=fill_panes, first_read=None)

    @classmethod
    def adopt(
        cls,
        frame: WindowFrame,
        ctx: AppContext,
        runner: Runner | None,
        undo_stack: QUndoStack,
        *,
        fill_panes: bool = True,
        first_read: FirstRead | None = None,
    ) -> MainWindow:
        """Make the start-up ``frame`` (already on screen) this window, in place: its
        skeleton goes and the real parts take its geometry, so no second window appears
        and the month paints in the skeleton's cells. Python lets an instance change to
        a subclass that adds no slots; the Qt object stays the same.

        ``first_read``: the month read ahead on a worker (see :class:`CalendarPane`)."""
        frame.__class__ = cls
        window = cast("MainWindow", frame)
        if frame.skeleton is not None:
            frame.skeleton.remove_from(frame)
            frame.skeleton = None
        window._build(
            ctx, runner, undo_stack, clock=None, fill_panes=fill_panes, first_read=first_read
        )
        if window.isVisible():  # no show or resize event comes: do what they would
            for dock in (window.drafts_dock, window.upcoming_dock):
                if not dock.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide):
                    dock.show()  # as the layout would on the next turn: the width rule sees it
            window._compact = None
            window._apply_width(window.width())
            window._await_first_paint()
        return window

    def _build(
        self,
        ctx: AppContext,
        runner: Runner | None,
        undo_stack: QUndoStack,
        *,
        clock: Clock | None,
        fill_panes: bool,
        first_read: FirstRead | None,
    ) -> None:
        self.ctx = ctx
        self.panes_filled = fill_panes
        self.runner: Runner | None = None
        self.external_owner: str | None = None
        #: the app starts its scheduler a moment after the first paint; until then the
        #: status bar says so instead of "not running"
        self.scheduler_starting = False
        self.undo_stack = undo_stack
        self.clock = clock or (runner.clock if runner is not None else SystemClock())
        self.tray_available = False
        self._quitting = False
        self._pending_missed: set[int] = set()
        self._missed_dialog: MissedPostsDialog | None = None
        self._data_version: int | None = None
        self.about_box: QMessageBox | None = None
        self.editor: PostEditorDialog | None = None
        self.idle_imports: IdleImports | None = None
        self.accounts_dialog: AccountsDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.import_dialog: ImportDialog | None = None
        self.ui_state = QSettings(
            str(ctx.paths.data_dir / "ui-state.ini"), QSettings.Format.IniFormat
        )

        self.calendar = CalendarPane(
            undo_stack, clock=clock, parent=self, background_reads=True, first_read=first_read
        )
        self.notices = NotificationArea(self)
        self.notices.actionRequested.connect(self._on_notices_action_requested)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.notices)
        self.first_run = FirstRunGuide(self.ui_state, central)
        column.addWidget(self.first_run)
        column.addWidget(self.calendar, 1)
        self.setCentralWidget(central)

        self.drafts = DraftsPane(self, load=fill_panes, background_reads=True)
        self.upcoming = UpcomingPanel(self, clock=clock, load=fill_panes, background_reads=True)
        #: the status bar's next post, the attention counts and the first-run guide's
        #: state: read together on a worker after every refresh
        self._status_reads = LatestRead(self)
        self.drafts_dock = self._dock("Drafts", "drafts-dock", self.drafts)
        self.upcoming_dock = self._dock("Upcoming", "upcoming-dock", self.upcoming)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.drafts_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.upcoming_dock)

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect_panes()

        self._refresh_timer = self._timer("milton-ui-refresh", REFRESH_DEBOUNCE_MS, single=True)
        self._dirty: set[str] = set()
        self._changed_ids: set[int] = set()
        self._undo_index = undo_stack.index()
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._status_timer = self._timer("milton-ui-status-clock", STATUS_REFRESH_MS)
        self._status_timer.timeout.connect(self._on_status_timer_timeout)
        self._status_timer.start()
        self._db_watch_timer = self._timer("milton-ui-db-watch", DB_WATCH_MS)
        self._db_watch_timer.timeout.connect(self._on_db_watch_timer_timeout)
        #: a team database's listener (None on SQLite, whose data_version is polled)
        self.live = live.listener_for_open_database(
            self._databaseChanged.emit, self._databaseReachable.emit, name="milton-ui-listener"
        )
        if self.live is None:
            self._db_watch_timer.start()
        else:
            self._databaseChanged.connect(self._on_database_changed)
            self._databaseReachable.connect(self._on_database_reachable)
            listener = self.live  # not self: the slot runs while the window is destroyed
            self.destroyed.connect(lambda *_: listener.stop())  # dropped without quitting
            self.live.start()
        self._missed_timer = self._timer("milton-ui-missed-batch", MISSED_BATCH_MS, single=True)
        self._missed_timer.timeout.connect(self._on_missed_timer_timeout)

        self._restore_ui_state()
        self.calendar.show_first()  # with a month read ahead, the wait for it ends here
        self._data_version = self._read_data_version()
        self._seen_result_id = queries.last_result_id()  # only what happens from now on is news
        self.set_runner(runner)
        self.first_run.connect_requested.connect(self._on_accounts_action_triggered)
        self.first_run.write_requested.connect(self._on_new_post_action_triggered)
        self._refresh_first_run()

    # ------------------------------------------------------------ construction
    def _timer(self, name: str, interval_ms: int, *, single: bool = False) -> QTimer:
        timer = QTimer(self)
        timer.setObjectName(name)
        timer.setInterval(interval_ms)
        timer.setSingleShot(single)
        return timer

    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        return make_dock(self, title, name, widget)

    def _action(
        self,
        text: str,
        slot: object,
        *,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        tip: str | None = None,
        icon: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if icon:
            action.setIcon(_theme_icon(icon))
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.new_post_action = self._action(
            "&New post…",
            self._on_new_post_action_triggered,
            shortcut=QKeySequence.StandardKey.New,
            tip="Write a new post",
            icon="document-new",
        )
        self.import_action = self._action(
            "&Import CSV…",
            self._on_import_action_triggered,
            tip="Create many posts at once from a spreadsheet (CSV)",
            icon="document-import",
        )
        self.accounts_action = self._action(
            "&Accounts…",
            self._on_accounts_action_triggered,
            tip=f"Connect, reconnect or remove {registry.labels()} accounts",
            icon="system-users",
        )
        self.settings_action = self._action(
            "&Settings…",
            self._on_settings_action_triggered,
            tip="Time zone, posting time, notifications, start at login",
            icon="preferences-system",
        )
        self.settings_action.setShortcuts(
            shortcut_of(QKeySequence.StandardKey.Preferences, "Ctrl+,")
        )
        self.pause_action = self._action(
            "&Pause publishing",
            self._on_pause_action_triggered,
            tip="Hold every scheduled post until you resume",
        )
        self.pause_action.setCheckable(True)
        self.publish_now_action = self._action(
            "Publish &due posts now",
            self._on_publish_now_action_triggered,
            tip="Publish every post whose time has come, without waiting for the next check",
            icon="mail-send",
        )
        from milton_desktop.ui.shell.data_actions import DataActions

        self.data_actions = DataActions(self)  # Back up…, Restore…, Export…
        self.log_folder_action = self._action(
            "Open &log folder",
            self._on_log_folder_action_triggered,
            tip=str(self.ctx.paths.log_dir),
        )
        self.quit_action = self._action(
            "&Quit",
            self.request_quit,
            shortcut=QKeySequence.StandardKey.Quit,
            icon="application-exit",
        )
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        # The menu's undo/redo come from the stack so their text names the command.
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts(shortcut_of(QKeySequence.StandardKey.Undo, "Ctrl+Z"))
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts(
            [QKeySequence("Ctrl+Shift+Z")]
            + [
                k
                for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
                if k != QKeySequence("Ctrl+Shift+Z")
            ]
        )
        # Toolbar twins keep a short fixed label (the stack's text would make the bar jump)
        # and have no shortcut, so Ctrl+Z stays unambiguous.
        self.undo_tool_action = self._action("Undo", self.undo_stack.undo, icon="edit-undo")
        self.redo_tool_action = self._action("Redo", self.undo_stack.redo, icon="edit-redo")
        self.undo_stack.canUndoChanged.connect(self.undo_tool_action.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_tool_action.setEnabled)
        # Bound slots, not lambdas: the stack outlives the window, and Qt disconnects a
        # destroyed receiver's slots but not a lambda that still refers to it.
        self.undo_stack.undoTextChanged.connect(self._on_undo_stack_undo_text_changed)
        self.undo_stack.redoTextChanged.connect(self._on_undo_stack_redo_text_changed)
        self.undo_tool_action.setEnabled(self.undo_stack.canUndo())
        self.redo_tool_action.setEnabled(self.undo_stack.canRedo())

        self.today_action = self._action(
            "&Today",
            self._on_today_action_triggered,
            shortcut="Ctrl+T",
            tip="Go to today",
            icon="go-jump-today",
        )
        self.view_group = QActionGroup(self)
        self.view_group.setExclusive(True)
        self.view_actions: dict[str, QAction] = {}
        for name, text, shortcut in VIEWS:
            action = QAction(text, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{text.replace('&', '')} view ({shortcut})")
            action.triggered.connect(lambda _=False, n=name: self.set_view(n))
            self.view_group.addAction(action)
            self.view_actions[name] = action
        self.view_actions["month"].setChecked(True)

        from milton_desktop.ui.insights.entry import insights_action

        self.insights_action = insights_action(self, self.ctx.credentials, self.clock)
        self.about_action = self._action(f"&About {APP_NAME}", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        # the Post menu, "Needs attention (N)" and Find
        self.post_actions = PostActions(self)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_post_action)
        file_menu.addAction(self.import_action)
        file_menu.addSeparator()
        file_menu.addAction(self.accounts_action)
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.pause_action)
        file_menu.addAction(self.publish_now_action)
        file_menu.addSeparator()
        file_menu.addActions(self.data_actions.actions)
        file_menu.addSeparator()
        file_menu.addAction(self.log_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.post_actions.find_action)
        bar.addMenu(self.post_actions.menu)

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.today_action)
        view_menu.addSeparator()
        for action in self.view_actions.values():
            view_menu.addAction(action)
        view_menu.addAction(self.post_actions.attention_action)
        view_menu.addAction(self.insights_action)
        view_menu.addSeparator()
        view_menu.addAction(self.drafts_dock.toggleViewAction())
        view_menu.addAction(self.upcoming_dock.toggleViewAction())

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main toolbar", self)
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addAction(self.new_post_action)
        bar.addSeparator()
        bar.addAction(self.undo_tool_action)
        bar.addAction(self.redo_tool_action)
        bar.addSeparator()
        bar.addAction(self.today_action)
        for action in self.view_actions.values():
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.post_actions.attention_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.drafts_dock.toggleViewAction())
        bar.addAction(self.upcoming_dock.toggleViewAction())
        bar.addSeparator()
        bar.addAction(self.publish_now_action)
        bar.addSeparator()
        bar.addAction(self.accounts_action)
        bar.addAction(self.settings_action)
        self.toolbar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        #: icon name of each toolbar action (drawn by ui.icons in the palette's colours)
        self.toolbar_icons: dict[str, QAction] = {
            "new-post": self.new_post_action,
            "undo": self.undo_tool_action,
            "redo": self.redo_tool_action,
            "today": self.today_action,
            **{name: self.view_actions[name] for name in ("month", "week", "day", "list")},
            "attention": self.post_actions.attention_action,
            "drafts": self.drafts_dock.toggleViewAction(),
            "upcoming": self.upcoming_dock.toggleViewAction(),
            "publish": self.publish_now_action,
            "accounts": self.accounts_action,
            "settings": self.settings_action,
        }
        self._paint_toolbar_icons()
        self._compact: bool | None = None
        #: docks folded away by a narrow window, shown again when it widens
        self._auto_hidden: set[str] = set()

    def _paint_toolbar_icons(self) -> None:
        palette = self.toolbar.palette()
        for name, action in self.toolbar_icons.items():
            action.setIcon(icons.action_icon(name, palette))
        self.quit_action.setIcon(icons.action_icon("quit", palette))

    def is_compact(self) -> bool:
        """Whether the window is narrow enough to have folded its docks away."""
        return bool(self._compact)

    def _apply_width(self, width: int) -> None:
        """Fold the docks and shorten the toolbar below COMPACT_WIDTH; undo it above."""
        compact = width < COMPACT_WIDTH
        if compact == self._compact:
            return
        self._compact = compact
        style = (
            Qt.ToolButtonStyle.ToolButtonIconOnly
            if compact
            else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )
        for name, action in self.toolbar_icons.items():
            button = self.toolbar.widgetForAction(action)
            if isinstance(button, QToolButton):
                keep = name in TOOLBAR_KEEPS_TEXT
                button.setToolButtonStyle(
                    Qt.ToolButtonStyle.ToolButtonTextBesideIcon if keep else style
                )
        docks = (self.drafts_dock, self.upcoming_dock)
        if compact:
            for dock in docks:
                if dock.isVisibleTo(self) and not dock.isFloating():
                    self._auto_hidden.add(dock.objectName())
                    dock.hide()
        else:
            for dock in docks:
                if dock.objectName() in self._auto_hidden:
                    dock.show()
            self._auto_hidden.clear()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_width(event.size().width())

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.scheduler_label = QLabel()
        self.scheduler_label.setObjectName("scheduler-state")
        self.scheduler_label.setTextFormat(Qt.TextFormat.RichText)
        self.next_label = QLabel()
        self.next_label.setObjectName("next-post")
        # mail that did not go out (or may not have arrived): never lost silently
        self.mail_label = QLabel()
        self.mail_label.setObjectName("mail-state")
        self.mail_label.hide()
        # team mode: posts due that no live machine can publish (never silently)
        self.team_label = QLabel()
        self.team_label.setObjectName("team-warnings")
        # a team database that cannot be reached: said, never a silent stale calendar
        self.reach_label = QLabel()
        self.reach_label.setObjectName("team-database-state")
        for label in (self.team_label, self.reach_label):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.hide()
        status.addWidget(self.scheduler_label, 1)
        status.addPermanentWidget(self.reach_label)
        status.addPermanentWidget(self.team_label)
        status.addPermanentWidget(self.mail_label)
        status.addPermanentWidget(self.next_label)
        from milton_desktop.operations import team

        if team.is_team():
            # a machine goes stale without any change in the database: look again
            self._team_timer = QTimer(self)
            self._team_timer.setObjectName("milton-team-warnings")
            self._team_timer.setInterval(team.CHECK_EVERY_MS)
            self._team_timer.timeout.connect(self.refresh_status)
            self._team_timer.start()

    def _connect_panes(self) -> None:
        # One set of view controls, the window's toolbar: the pane's own Today and view
        # buttons would repeat it a few pixels lower. Its arrows and title stay.
        for twin in (
            getattr(self.calendar, "today_button", None),
            *getattr(self.calendar, "view_buttons", {}).values(),
        ):
            if twin is not None:
                twin.hide()
        stack = getattr(self.calendar, "stack", None)
        if stack is not None:
            # The pane switches views itself too (a click on a day opens the day view).
            stack.currentChanged.connect(self._on_calendar_stack_current_changed)
            self.calendar.viewChanged.connect(self._on_calendar_view_changed)
        # the pane says why a drop or an action was refused in its own banner
        self.calendar.settler.paused = self._publishing_paused
        self.calendar.show_cancelled.toggled.connect(self._on_calendar_show_cancelled_toggled)
        self.upcoming.menuRequested.connect(self.calendar.show_menu)
        self.upcoming.attentionRequested.connect(self.show_attention)
        self.calendar.editScheduleRequested.connect(self._on_calendar_edit_schedule_requested)
        self.calendar.editPostRequested.connect(self._on_pane_edit_post_requested)
        self.calendar.changed.connect(self._on_pane_changed)
        self.calendar.draftDuplicated.connect(self._on_calendar_draft_duplicated)
        self.drafts.editPostRequested.connect(self._on_pane_edit_post_requested)
        self.drafts.newPostRequested.connect(self._on_new_post_action_triggered)
        self.drafts.queueRequested.connect(self.calendar.queue_post)
        # Enter on a post that cannot be edited (uncertain) offers its choices instead
        self.upcoming.editScheduleRequested.connect(self.calendar.activate)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)

    # ------------------------------------------------------------ public
    def set_runner(self, runner: Runner | None, external_owner: str | None = None) -> None:
        """Follow ``runner``; with None, ``external_owner`` names who publishes instead."""
        follow_runner(self.runner, runner, self._on_runner_outcome, self._on_runner_rearmed)
        self.runner = runner
        self.external_owner = external_owner if runner is None else None
        self.sync_paused()

    def data_replaced(self) -> None:
        """The whole database was replaced (a restore): forget what spoke of the old
        one (undo history, results seen) and reload every pane."""
        self.undo_stack.clear()
        self._seen_result_id = queries.last_result_id()
        self._data_version = self._read_data_version()
        self._changed()
        self.refresh_all()

    def stop_live(self) -> None:
        """Stop following the team database's changes (quitting)."""
        if self.live is not None:
            self.live.stop()

    def set_tray_available(self, available: bool) -> None:
        """With a tray, closing the window hides it; without, closing quits."""
        self.tray_available = available

    def set_view(self, name: str) -> None:
        """Show the calendar's ``month``, ``week``, ``day`` or ``list`` view."""
        self.calendar.set_view(name)
        self._sync_view_actions()

    def refresh_all(self) -> None:
        """Reload every pane from the database."""
        self._dirty.update(PANES)
        self._refresh_dirty()

    def _refresh_dirty(self) -> None:
        """Reload the panes a change since the last refresh may have touched; at
        100 000 posts a pane is a tenth of a second or more, so only those."""
        self._refresh_timer.stop()
        dirty, self._dirty = self._dirty, set()
        changed, self._changed_ids = self._changed_ids, set()
        if "calendar" in dirty:
            self.calendar.refresh()
        elif changed:
            self.calendar.reload(changed)
        if "drafts" in dirty:
            self.drafts.refresh()
        if "upcoming" in dirty:
            self.upcoming.refresh()
        self.refresh_status()

    def _refresh_first_run(self) -> None:
        self.first_run.refresh(
            has_accounts=bool(queries.list_accounts()), has_posts=queries.has_posts()
        )

    def schedule_refresh(self, panes: Iterable[str] = PANES, *, schedule_id: int = 0) -> None:
        """Refresh ``panes`` (all by default) soon, once, however many changes arrive
        meanwhile; the status bar always follows. A change to one known schedule
        (``schedule_id``, a publish outcome) has the calendar read again only the
        ranges that hold it."""
        panes = set(panes)
        if schedule_id and "calendar" in panes:
            panes.discard("calendar")
            self._changed_ids.add(schedule_id)
        self._dirty.update(panes)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh_status(self) -> None:
        """The scheduler's state and the next post, in the status bar."""
        runner = self.runner
        if runner is None:
            if self.external_owner:
                state = external_scheduler_text(self.external_owner)
                dot = "ok"
            elif self.scheduler_starting:
                state = "Starting the scheduler…"
                dot = "info"
            else:
                state = "Not publishing: the scheduler is not running"
                dot = "error"
        elif runner.paused:
            state = (
                "Publishing paused: scheduled posts wait until you resume (File ▸ Pause publishing)"
            )
            dot = "warning"
        elif runner.dispatcher.in_flight():
            n = runner.dispatcher.in_flight()
            state = f"Publishing {n} post{'s' if n != 1 else ''}…"
            dot = "info"
        else:
            state = "Publishing on: posts go out at their time while Milton Desktop runs"
            dot = "ok"
        palette = self.statusBar().palette()
        colour = style.theme_for(palette).focus if dot == "info" else tones.tone(palette, dot)
        self.scheduler_label.setText(
            f"<span style='color:{colour.name()}'>●</span>&nbsp;{escape(state)}"
        )
        self.publish_now_action.setEnabled(runner is not None and not runner.paused)
        if runner is None:
            self.publish_now_action.setToolTip(state)
        self._status_reads.request(read_status, self._on_status_read, self._on_status_read_failed)

    def _on_status_read(self, read: StatusRead) -> None:
        nxt = read.next_post
        self.next_label.setText(
            f"Next: {nxt.describe(self.clock.now())}" if nxt else "Nothing scheduled"
        )
        if nxt is not None:
            local = nxt.when.astimezone(get_zone(read.zone))
            self.next_label.setToolTip(f"{nxt.account}, {local:%a %d %b %H:%M %Z}")
        else:
            self.next_label.setToolTip("")
        self.post_actions.show_counts(read.attention, read.missed)
        self.first_run.refresh(has_accounts=read.has_accounts, has_posts=read.has_posts)
        self._show_mail_state(read.mail)
        self._show_team_warnings(read.team_warnings)

    def _show_team_warnings(self, warnings: tuple[tuple[str, str], ...]) -> None:
        self.team_label.setVisible(bool(warnings))
        if warnings:
            colour = tones.tone(self.statusBar().palette(), "warning")
            first = warnings[0][1]
            more = f" (and {len(warnings) - 1} more)" if len(warnings) > 1 else ""
            self.team_label.setText(
                f"<span style='color:{colour.name()}'>⚠</span>&nbsp;{escape(first)}{more}"
            )
            self.team_label.setToolTip("\n".join(message for _account, message in warnings))
        self.teamWarnings.emit(warnings)

    def _on_status_read_failed(self, exc: Exception) -> None:
        log.error("could not read the scheduler's next post: %s", exc)
        self.next_label.setText("Next post: not known (the database could not be read)")
        self.next_label.setToolTip(str(exc))

    def _show_mail_state(self, summary: str) -> None:
        self.mail_label.setVisible(bool(summary))
        if summary:
            colour = tones.tone(self.statusBar().palette(), "warning")
            self.mail_label.setText(
                f"<span style='color:{colour.name()}'>✉</span>&nbsp;Mail: "
                f"{escape(summary.split(' (last error')[0])}"
            )
            self.mail_label.setToolTip(
                f"Email notifications: {summary}. Settings ▸ Email has the mail server."
            )

    def sync_paused(self) -> None:
        """Follow the runner's paused state (it may have been changed from the tray)."""
        runner = self.runner
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(runner is not None and runner.paused)
        self.pause_action.blockSignals(False)
        self.pause_action.setEnabled(runner is not None)
        self.refresh_status()

    def notify(self, notice: Notice) -> None:
        """Show a notice in the window (the tray routes here when there is no tray)."""
        self.notices.add(notice)

    def bring_to_front(self) -> None:
        """Show the window from the tray, restored and focused."""
        if self.isMinimized():
            self.showNormal()
        else:
            self.show()
        self.raise_()
        self.activateWindow()
        self.activated.emit()

    def request_quit(self) -> None:
        """Quit the app (not just close the window): save the layout, then tell the app."""
        if self._quitting:
            return
        self._quitting = True
        self._save_ui_state()
        self.stop_live()
        log.info("quit requested from the window")
        self.quitRequested.emit()

    def check_missed_on_start(self) -> list[int]:
        """Posts that became missed before this start (the app or computer was off).

        They are shown as soon as the window is visible; the ids are returned so the
        app can tell the user from the tray when it starts minimized.
        """
        # One query for the start-up summary and the dialog: the missed posts, and those
        # past the grace window that the scheduler's first check is about to mark missed.
        grace = timedelta(minutes=float(settings.get("grace_minutes")))
        ids = queries.missed_ids(self.clock.now() - grace)
        if ids:
            log.info("%d missed post(s) waiting for a decision", len(ids))
            self.queue_missed(ids)
        return ids

    def show_attention(self, schedule_ids: list[int] | None = None) -> None:
        """Open the list of posts needing attention, at the first of ``schedule_ids``."""
        first = next(iter(schedule_ids or ()), None)
        self.calendar.show_attention(first)
        self._sync_view_actions()

    def queue_missed(self, schedule_ids: list[int]) -> None:
        """Missed posts to decide on: shown now if the window is open, else when it opens."""
        self._pending_missed.update(schedule_ids)
        if self.isVisible():
            self._missed_timer.start()

    def show_missed(self, schedule_ids: list[int] | None = None) -> MissedPostsDialog | None:
        """Open (or extend) the missed-posts dialog; with no ids, every missed post."""
        ids = set(schedule_ids or ()) | self._pending_missed
        if not ids:
            ids = set(queries.schedule_ids(Status.MISSED))
        self._pending_missed.clear()
        if not ids:
            return None
        ordered = sorted(ids)
        if self._missed_dialog is not None:
            self._missed_dialog.add_schedule_ids(ordered)
            self._missed_dialog.raise_()
            self._missed_dialog.activateWindow()
            return self._missed_dialog
        dialog = MissedPostsDialog(ordered, self, clock=self.clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.changed.connect(self._on_missed_dialog_changed)
        dialog.finished.connect(self._on_missed_dialog_finished)
        self._missed_dialog = dialog
        dialog.open()
        return dialog

    def about_text(self) -> str:
        """The About box's text: version, where the data and logs are, what runs it."""
        paths = self.ctx.paths

        def link(path: object) -> str:
            url = QUrl.fromLocalFile(str(path)).toString()
            return f"<a href='{escape(url)}'>{escape(str(path))}</a>"

        qt_platform = QApplication.platformName() or "?"
        dim = tones.dim(self.palette()).name()
        rows = [
            ("Data folder", link(paths.data_dir)),
            ("Database", escape(queries.database_label() or str(paths.db_path))),
            ("Log folder", link(paths.log_dir)),
            ("Media", escape(str(paths.media_dir))),
            ("Qt", escape(f"PySide6 {pyside_version}, platform {qt_platform}")),
            ("Python", escape(f"{platform.python_version()} on {sys.platform}")),
        ]
        table = "".join(
            f"<tr><td style='padding-right:12px; color:{dim}; white-space:nowrap'>{k}</td>"
            f"<td style='white-space:nowrap'>{v}</td></tr>"
            for k, v in rows
        )
        return (
            f"<h3>{APP_NAME} {escape(__version__)}</h3>"
            f"<p>Write, schedule and publish posts to {escape(registry.labels())} "
            "from your own computer.</p>"
            f"<table>{table}</table>"
        )

    def show_about(self) -> QMessageBox:
        box = QMessageBox(self)
        box.setObjectName("about-box")
        box.setWindowTitle(f"About {APP_NAME}")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(self.about_text())
        box.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._on_about_box_destroyed)
        self.about_box = box
        box.open()
        return box

    def open_editor(
        self, post_id: int | None = None, schedule_id: int | None = None
    ) -> PostEditorDialog:
        from milton_desktop.ui.editor.dialog import PostEditorDialog

        editor = PostEditorDialog(
            post_id=post_id,
            schedule_id=schedule_id,
            parent=self,
            clock=self.clock,
            media_dir=self.ctx.paths.media_dir,
        )
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.saved.connect(self._on_editor_saved)
        # the editor closes; the banner follows the post out, as a chip's "Publish now" does
        editor.publishedNow.connect(self.calendar.settler.watch_post)
        editor.destroyed.connect(self._on_editor_destroyed)
        self.editor = editor
        editor.open()
        return editor

    def fill_panes(self) -> None:
        """Load the drafts and upcoming panes a window built with ``fill_panes=False``
        left blank (nothing when they are loaded already)."""
        if self.panes_filled:
            return
        self.panes_filled = True
        self.drafts.refresh()
        self.upcoming.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.panes_filled:
            watched.removeEventFilter(self)
            # queued: the paint this event starts completes first
            QTimer.singleShot(0, self.fill_panes)
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------ events
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._await_first_paint()
        self.activated.emit()
        if self._pending_missed:
            self._missed_timer.start()

    def _await_first_paint(self) -> None:
        if self.idle_imports is None:
            from milton_desktop.ui.shell.warmup import IdleImports

            # the editor's modules, imported while idle: its first opening is not slower
            self.idle_imports = IdleImports(parent=self)
        if not self.panes_filled:
            # the calendar paints first; the panes fill right after its first frame
            surface = self.calendar.stack.currentWidget() or self.calendar
            surface.installEventFilter(self)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.activated.emit()
        elif event.type() == QEvent.Type.PaletteChange and hasattr(self, "toolbar_icons"):
            self._paint_toolbar_icons()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_ui_state()
        if self.tray_available and not self._quitting:
            # Closing hides: the scheduler keeps publishing from the tray.
            event.ignore()
            self.hide()
            if not self.ui_state.value("hints/closed-to-tray", False, type=bool):
                self.ui_state.setValue("hints/closed-to-tray", True)
                self.trayHintRequested.emit()
            return
        event.accept()
        self.request_quit()

    # ------------------------------------------------------------ state
    def _restore_ui_state(self) -> None:
        self.restore_layout(self.ui_state, [self.drafts_dock, self.upcoming_dock])
        # Docks a narrow window folded away last time come back when it is wide again.
        folded = self.ui_state.value("window/auto-hidden-docks", [])
        # QSettings gives one value back as a string, several as a list
        names = [folded] if isinstance(folded, str) else folded if isinstance(folded, list) else []
        self._auto_hidden = {str(n) for n in names if n in DOCK_WIDTHS}
        view = self.ui_state.value("calendar/view", "month")
        if view in self.view_actions and view != self.calendar.current_view():
            self.set_view(str(view))
        else:  # the pane opened on it and read its rows already: no second query
            self._sync_view_actions()
        shown = self.ui_state.value("calendar/show-cancelled", False, type=bool)
        self.calendar.show_cancelled.setChecked(bool(shown))

    def _save_ui_state(self) -> None:
        self.ui_state.setValue("window/geometry", self.saveGeometry())
        self.ui_state.setValue("window/state", self.saveState(UI_STATE_VERSION))
        self.ui_state.setValue("window/auto-hidden-docks", sorted(self._auto_hidden))
        # the next start's first frame keeps the guide's room, so the month does not move
        self.ui_state.setValue(
            GUIDE_HEIGHT_KEY, self.first_run.height() if self.first_run.isVisible() else 0
        )
        if self.calendar.current_view() in self.view_actions:
            self.ui_state.setValue("calendar/view", self.calendar.current_view())
        self.ui_state.sync()

    def _read_data_version(self) -> int | None:
        if self.live is not None:  # PostgreSQL has no data_version: it notifies instead
            return None
        try:
            return queries.data_version()
        except Exception:  # a closed database while shutting down: nothing to watch
            return None

    # ------------------------------------------------------------ slots
    def _sync_view_actions(self) -> None:
        name = self.calendar.current_view()
        if name in self.view_actions:
            # remembered when the layout is saved (close, quit), not on every switch:
            # QSettings writes the whole file each time it syncs
            self.view_actions[name].setChecked(True)

    def _on_calendar_stack_current_changed(self, _index: int) -> None:
        self._sync_view_actions()

    def _on_calendar_view_changed(self, _name: str) -> None:
        self._sync_view_actions()

    def _on_refresh_timer_timeout(self) -> None:
        self._refresh_dirty()

    def _on_status_timer_timeout(self) -> None:
        self.refresh_status()

    def _on_db_watch_timer_timeout(self) -> None:
        version = self._read_data_version()
        if version is not None and version != self._data_version:
            self._data_version = version
            # Another connection wrote (a worker thread, the command line, another process).
            self.schedule_refresh()
            if self.runner is not None:
                self.runner.rearm()
            else:
                self._report_background_outcomes()

    def _on_database_changed(self, change: live.Change) -> None:
        # another member, machine or process changed the team database
        if change.only(lambda item: item in STATUS_ONLY_TABLES or live.is_internal_setting(item)):
            self.refresh_status()
            return
        # at once: the listener has gathered the burst already, the debounce would
        # only add its wait to every change's way to the screen
        self._dirty.update(PANES)
        self._refresh_dirty()
        if self.runner is None:  # a scheduler here re-arms from its own listener
            self._report_background_outcomes()

    def _on_database_reachable(self, reachable: bool, message: str) -> None:
        if reachable:
            log.info("team database reachable again")
            self.reach_label.hide()
            return
        log.warning("team database unreachable (%s): retrying", message)
        colour = tones.tone(self.statusBar().palette(), "warning")
        self.reach_label.setText(
            f"<span style='color:{colour.name()}'>●</span>&nbsp;{escape(UNREACHABLE_TEXT)}"
        )
        self.reach_label.setToolTip(
            f"{message}. The calendar shows what was read last; it catches up as soon "
            "as the database answers again."
        )
        self.reach_label.show()

    def _report_background_outcomes(self) -> None:
        """When a background scheduler publishes, tell the user as if this window had."""
        from milton_desktop.engine.machine import outcomes_since

        try:
            self._seen_result_id, outcomes = outcomes_since(self._seen_result_id)
        except Exception:  # the database is closing: nothing to report
            return
        for outcome in outcomes:
            self._on_runner_outcome(outcome)
            self.backgroundOutcome.emit(outcome)

    def _on_missed_timer_timeout(self) -> None:
        if self.isVisible() and self._pending_missed:
            self.show_missed()

    def _on_runner_outcome(self, outcome: Outcome) -> None:
        self.calendar.settler.note_outcome(outcome)
        if outcome.status == Status.MISSED:
            self.queue_missed([outcome.schedule_id])
        # a publish changes a schedule's status, never whether its post is a draft
        self.schedule_refresh(("calendar", "upcoming"), schedule_id=outcome.schedule_id)

    def _on_runner_rearmed(self, _next: datetime | None) -> None:
        self.refresh_status()

    def _changed(self, panes: Iterable[str] = PANES) -> None:
        """Something was edited here: refresh, and let the runner re-arm its timer."""
        self.schedule_refresh(panes)
        if self.runner is not None:
            self.runner.rearm()

    def _on_pane_changed(self) -> None:
        if not isValid(self.undo_stack):
            return  # being taken down
        if self.undo_stack.index() != self._undo_index:
            return  # an undo step the pane just reloaded for: the stack's handler follows
        self._changed()

    def _on_calendar_draft_duplicated(self, post_id: int) -> None:
        # the copy is where the user looks next: the drafts, shown, with it selected
        self.drafts.refresh(then=lambda: self.drafts.select_post(post_id))
        self.drafts_dock.show()
        self.drafts_dock.raise_()
        self.refresh_status()  # and the first-run guide

    def _on_undo_stack_index_changed(self, index: int) -> None:
        if not isValid(self.undo_stack):
            return  # the stack empties itself as it is deleted
        low, high = sorted((self._undo_index, index))
        self._undo_index = index
        steps = [self.undo_stack.command(i) for i in range(low, high)]
        # The calendar reloads itself for each step; a move changes no draft.
        panes = ["upcoming"]
        if not steps or not all(moves_only(cmd) for cmd in steps):
            panes.append("drafts")
        self._changed(panes)

    def _on_undo_stack_undo_text_changed(self, text: str) -> None:
        self.undo_tool_action.setToolTip(f"Undo {text}" if text else "Nothing to undo")

    def _on_undo_stack_redo_text_changed(self, text: str) -> None:
        self.redo_tool_action.setToolTip(f"Redo {text}" if text else "Nothing to redo")

    def _on_missed_dialog_changed(self) -> None:
        self._changed()

    def _on_missed_dialog_finished(self, _result: int) -> None:
        self._missed_dialog = None

    def _on_editor_saved(self, _id: int) -> None:
        self._changed()

    def _on_editor_destroyed(self) -> None:
        self.editor = None

    def _on_about_box_destroyed(self) -> None:
        self.about_box = None

    def _publishing_paused(self) -> bool:
        return self.runner is not None and self.runner.paused

    def _on_calendar_show_cancelled_toggled(self, checked: bool) -> None:
        self.ui_state.setValue("calendar/show-cancelled", checked)

    def _on_calendar_edit_schedule_requested(self, schedule_id: int) -> None:
        try:
            row = queries.schedule_view(schedule_id)
        except UserError as exc:
            self.calendar.say(with_hint(str(exc), exc.hint), "error")
            return
        self.open_editor(post_id=row.post_id, schedule_id=schedule_id)

    def _on_pane_edit_post_requested(self, post_id: int) -> None:
        self.open_editor(post_id=post_id)

    def _on_new_post_action_triggered(self) -> None:
        self.open_editor()

    def _on_import_action_triggered(self) -> None:
        from milton_desktop.ui.shell.import_dialog import ImportDialog

        dialog = ImportDialog(
            self.undo_stack,
            self.ctx.paths.media_dir,
            self,
            clock=self.clock,
            report=lambda text: self.calendar.say(text, "error"),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self._on_import_dialog_imported)
        self.import_dialog = dialog
        dialog.open()

    def _on_import_dialog_imported(self, count: int, first_day: date | None) -> None:
        if first_day is not None:
            self.calendar.go_to(first_day)
        self.calendar.say(f"Imported {count} post{'s' if count != 1 else ''}.", "info")
        self._changed()

    def _on_accounts_action_triggered(self) -> None:
        from milton_desktop.ui.accounts.dialog import AccountsDialog

        dialog = AccountsDialog(self.ctx.credentials, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accounts_changed.connect(self._on_accounts_dialog_accounts_changed)
        dialog.finished.connect(self._on_accounts_dialog_finished)
        self.accounts_dialog = dialog
        dialog.open()

    def _on_accounts_dialog_accounts_changed(self) -> None:
        self._changed()

    def _on_accounts_dialog_finished(self, _result: int) -> None:
        self.accounts_dialog = None
        self._changed()  # a reconnected account makes its held posts due again

    def _on_settings_action_triggered(self) -> None:
        from milton_desktop.ui.shell.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self, self.ctx.credentials, home=self.data_actions.home)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(self._on_settings_dialog_saved)
        dialog.finished.connect(self._on_settings_dialog_finished)
        self.settings_dialog = dialog
        dialog.open()

    def _on_settings_dialog_saved(self) -> None:
        if self.runner is not None:
            from milton_desktop.engine.machine import EngineConfig

            # The engine reads its limits from its config: give it the new preferences.
            old = self.runner.engine.config
            self.runner.engine.config = EngineConfig(
                grace=timedelta(minutes=float(settings.get("grace_minutes"))),
                max_attempts=int(settings.get("max_attempts")),
                backoff_base=old.backoff_base,
                backoff_cap=old.backoff_cap,
            )
        self._changed()  # a new time zone redraws every time shown

    def _on_settings_dialog_finished(self, _result: int) -> None:
        self.settings_dialog = None

    def _on_pause_action_triggered(self, checked: bool) -> None:
        if self.runner is None:
            return
        self.runner.set_paused(checked)
        self.pausedChanged.emit(checked)
        self.refresh_status()

    def _on_publish_now_action_triggered(self) -> None:
        if self.runner is None or self.runner.paused:
            return
        nothing_due = not self.runner.engine.due(limit=1)
        self.runner.tick()
        # said where a post's own "Publish now" is said: over the calendar, until dismissed
        if nothing_due:
            nxt = next_post()
            after = f" Next: {nxt.describe(self.clock.now())}." if nxt else ""
            self.calendar.say(f"Nothing is due right now.{after}", "info")
        else:
            self.calendar.say(
                "Publishing the posts that are due… Each one shows published or failed "
                "in the calendar as it goes.",
                "info",
            )
        self.schedule_refresh()

    def _on_today_action_triggered(self) -> None:
        zone = get_zone(settings.get("timezone") or "UTC")
        self.calendar.go_to(self.clock.now().astimezone(zone).date())

    def _on_log_folder_action_triggered(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.ctx.paths.log_dir)))

    def _on_notices_action_requested(self, notice: Notice, action: str) -> None:
        if action == "open_url" and notice.url:
            QDesktopServices.openUrl(QUrl(notice.url))
        elif action == Status.MISSED:
            self.show_missed(list(notice.schedule_ids))
        elif action == "accounts":
            self._on_accounts_action_triggered()
        elif action == "show" and notice.schedule_ids:
            self._on_calendar_edit_schedule_requested(notice.schedule_ids[0])
