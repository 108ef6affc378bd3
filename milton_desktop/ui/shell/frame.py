"""The window's first frame: the main window's shell (title, menus, toolbar, docks,
status bar) around the calendar's chrome and an empty month, shown before the rest
of the app is imported and the database opened.

:class:`WindowFrame` is the main window's base class. At start-up the app builds a
plain frame with :func:`build_skeleton`, shows it, and a moment later
:meth:`MainWindow.adopt <milton_desktop.ui.shell.main_window.MainWindow.adopt>` makes
that same window the real one: no second window appears, and the real month paints
in the skeleton's cells (the geometry, the dock widths and the cells come from the
same code and the same saved layout).

Imports Qt, the style and the calendar's light modules only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QRectF, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPaintEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop import APP_NAME
from milton_desktop.ui import style
from milton_desktop.ui.calendar import grid
from milton_desktop.ui.calendar.chrome import VIEW_NAMES, CalendarToolbar, FilterBar, separator

UI_STATE_VERSION = 1
#: below this window width the docks fold away (toolbar buttons bring them back) and
#: the toolbar's secondary buttons show only their icons, so the calendar keeps its text
COMPACT_WIDTH = 1200
#: the widest each dock gets: enough to read a post's first line, never half the window
DOCK_WIDTHS = {"drafts-dock": 320, "upcoming-dock": 340}
#: a first start's dock widths, before the user moved anything
DEFAULT_DOCK_WIDTHS = (250, 290)
#: toolbar buttons that keep their text in a compact window
TOOLBAR_KEEPS_TEXT = ("new-post", "today", "month", "week", "day", "list", "attention")
#: the first-run guide's height when the window last closed (0: hidden), in ui-state
GUIDE_HEIGHT_KEY = "startup/first-run-height"
#: the menu bar's menus, in order
MENU_TITLES = ("&File", "&Edit", "&Post", "&View", "&Help")
#: the toolbar's buttons as the real window has them: (icon name, text); None: a
#: separator, "": the spacer that pushes the rest to the right
TOOLBAR: tuple[tuple[str, str] | str | None, ...] = (
    ("new-post", "New post…"),
    None,
    ("undo", "Undo"),
    ("redo", "Redo"),
    None,
    ("today", "Today"),
    ("month", "Month"),
    ("week", "Week"),
    ("day", "Day"),
    ("list", "List"),
    None,
    ("attention", "Needs attention"),
    "",
    ("drafts", "Drafts"),
    ("upcoming", "Upcoming"),
    None,
    ("publish", "Publish due posts now"),
    None,
    ("accounts", "Accounts…"),
    ("settings", "Settings…"),
)


class WindowFrame(QMainWindow):
    """What every main window is before its content: its name, title and docking."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("milton-main-window")
        self.setWindowTitle(APP_NAME)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        #: the skeleton's parts, removed when the real content moves in
        self.skeleton: Skeleton | None = None
        #: the width rule last applied to the skeleton (None: not yet)
        self._skeleton_compact: bool | None = None
        #: set once the geometry was restored: a window on screen is not placed again
        #: when its real content moves in (a window manager may nudge a moved window)
        self.geometry_restored = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.skeleton is not None:  # the real window applies its own rule
            compact = event.size().width() < COMPACT_WIDTH
            if compact != self._skeleton_compact:
                self._skeleton_compact = compact
                self.skeleton.fold(compact)

    def restore_layout(self, ui_state: QSettings, docks: list[QDockWidget]) -> None:
        """The saved geometry and dock layout, or a first start's."""
        geometry = ui_state.value("window/geometry")
        if self.geometry_restored:
            pass
        elif geometry is None or not self.restoreGeometry(geometry):
            # First start: roomy, but never larger than a small laptop's screen.
            avail = self.screen().availableGeometry()
            self.resize(min(1280, int(avail.width() * 0.92)), min(820, int(avail.height() * 0.9)))
        self.geometry_restored = True
        state = ui_state.value("window/state")
        if state is None or not self.restoreState(state, UI_STATE_VERSION):
            self.resizeDocks(docks, list(DEFAULT_DOCK_WIDTHS), Qt.Orientation.Horizontal)


def make_dock(window: QMainWindow, title: str, name: str, widget: QWidget) -> QDockWidget:
    """A dock as the main window has them (``saveState()`` finds docks by name)."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetClosable
        | QDockWidget.DockWidgetFeature.DockWidgetMovable
        | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    widget.setMaximumWidth(DOCK_WIDTHS.get(name, 360))
    toggle = dock.toggleViewAction()
    toggle.setText(title)
    toggle.setToolTip(f"Show or hide {title}")
    return dock


class SkeletonMonth(QWidget):
    """The month grid's empty cells for the month of ``today``: the real month view
    paints the same cells, then its posts, in the same place."""

    def __init__(self, today: date, parent: QWidget | None = None, *, cells: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("skeletonMonth")
        self.setAccessibleName("Month calendar (opening)")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.today = today
        self.first_day = grid.month_grid_start(today, grid.local_first_weekday())
        self.weekend = grid.weekend_days()
        #: False while another view than the month opens: only the background shows
        self.cells = cells

    def sizeHint(self) -> QSize:
        return QSize(7 * 150, 6 * 118)  # as the month view's

    def minimumSizeHint(self) -> QSize:
        return QSize(7 * 56, 6 * 44)

    def day_rect(self, day: date) -> QRectF:
        """Where ``day``'s cell is (an empty rect off this grid), as the month view's."""
        for d, rect in grid.month_cells(
            self.first_day, self.width(), self.height(), self.fontMetrics()
        ):
            if d == day:
                return rect
        return QRectF()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        theme = style.theme_for(self.palette())
        if not self.cells:
            p.fillRect(self.rect(), theme.base)
        else:
            grid.paint_month_grid(
                p,
                theme=theme,
                font=self.font(),
                width=self.width(),
                height=self.height(),
                cells=grid.month_cells(
                    self.first_day, self.width(), self.height(), self.fontMetrics()
                ),
                month=self.today.month,
                today=self.today,
                weekend=self.weekend,
                clip=QRectF(event.rect()),
            )
        p.end()


class Skeleton:
    """The parts :func:`build_skeleton` added, for the real window to take out."""

    def __init__(
        self,
        toolbar: QToolBar,
        buttons: dict[str, QAction],
        docks: list[QDockWidget],
        status: QLabel,
        month: SkeletonMonth,
        calendar_toolbar: CalendarToolbar,
    ) -> None:
        self.toolbar, self.buttons, self.docks = toolbar, buttons, docks
        self.status, self.month, self.calendar_toolbar = status, month, calendar_toolbar
        #: docks the width rule folded away (shown again when the window widens)
        self.folded: set[str] = set()

    def fold(self, compact: bool) -> None:
        """The main window's width rule: below COMPACT_WIDTH the docks fold away and
        the secondary toolbar buttons show only their icons."""
        short = Qt.ToolButtonStyle.ToolButtonIconOnly
        wide = Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        for name, action in self.buttons.items():
            button = self.toolbar.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(
                    wide if name in TOOLBAR_KEEPS_TEXT or not compact else short
                )
        for dock in self.docks:
            closed = dock.isHidden() and dock.testAttribute(
                Qt.WidgetAttribute.WA_WState_ExplicitShowHide
            )
            if compact and not closed and not dock.isFloating():
                self.folded.add(dock.objectName())
                dock.hide()
            elif not compact and dock.objectName() in self.folded:
                dock.show()
        if not compact:
            self.folded.clear()

    def remove_from(self, window: QMainWindow) -> None:
        """Take the skeleton out; the caller builds the real parts before the next paint."""
        window.menuBar().clear()
        window.removeToolBar(self.toolbar)
        self.toolbar.deleteLater()
        for dock in self.docks:
            window.removeDockWidget(dock)
            dock.deleteLater()
        window.statusBar().removeWidget(self.status)
        self.status.deleteLater()
        # the central widget goes when the real one is set


def _blank_icon(size: QSize) -> QIcon:
    # the real icons are drawn a moment later: a blank one keeps each button's size
    pixmap = QPixmap(size)
    pixmap.fill(QColor(0, 0, 0, 0))
    return QIcon(pixmap)


def build_skeleton(data_dir: Path, today: date | None = None) -> WindowFrame:
    """A frame dressed as the main window will be, with an empty month: the first
    thing on screen. Nothing in it acts yet; the real window replaces each part."""
    frame = WindowFrame()
    ui_state = QSettings(str(data_dir / "ui-state.ini"), QSettings.Format.IniFormat)
    today = today or date.today()
    view = str(ui_state.value("calendar/view", "month"))
    view = view if view in VIEW_NAMES else "month"

    for title in MENU_TITLES:
        menu = frame.menuBar().addMenu(title)
        waiting = menu.addAction("Opening your calendar…")
        waiting.setEnabled(False)

    bar = QToolBar("Main toolbar", frame)
    bar.setObjectName("main-toolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    blank = _blank_icon(bar.iconSize())
    buttons: dict[str, QAction] = {}
    for entry in TOOLBAR:
        if entry is None:
            bar.addSeparator()
        elif entry == "":
            spacer = QWidget()
            spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            bar.addWidget(spacer)
        elif isinstance(entry, tuple):
            name, text = entry
            action = QAction(blank, text, frame)
            action.setCheckable(name in VIEW_NAMES)
            action.setChecked(name == view)
            bar.addAction(action)
            buttons[name] = action
    frame.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    central = QWidget(frame)
    column = QVBoxLayout(central)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    saved_height = ui_state.value(GUIDE_HEIGHT_KEY, 0)
    guide_height = int(saved_height) if isinstance(saved_height, int | str) else 0
    if guide_height > 0:  # the guide was up last time: it will be again, at this height
        room = QWidget(central)
        room.setObjectName("skeleton-guide")
        room.setFixedHeight(guide_height)
        column.addWidget(room)
    calendar_toolbar = CalendarToolbar(central, view=view)
    if view == "month":
        calendar_toolbar.title_label.setText(f"{today:%B %Y}")
    calendar_toolbar.show_cancelled.setChecked(
        bool(ui_state.value("calendar/show-cancelled", False, type=bool))
    )
    calendar_toolbar.show_cancelled.setVisible(view != "list")
    # the window's toolbar has Today and the views: the pane's twins are hidden there
    calendar_toolbar.today_button.hide()
    for button in calendar_toolbar.view_buttons.values():
        button.hide()
    column.addWidget(calendar_toolbar)
    column.addWidget(separator(central))
    column.addWidget(FilterBar(central))
    month = SkeletonMonth(today, central, cells=view == "month")
    column.addWidget(month, 1)
    frame.setCentralWidget(central)

    docks = []
    for title, name, area in (
        ("Drafts", "drafts-dock", Qt.DockWidgetArea.LeftDockWidgetArea),
        ("Upcoming", "upcoming-dock", Qt.DockWidgetArea.RightDockWidgetArea),
    ):
        room = QWidget()
        # the real panes ask for more than their docks' widest: the docks open at it
        room.setMinimumWidth(DOCK_WIDTHS[name])
        dock = make_dock(frame, title, name, room)
        frame.addDockWidget(area, dock)
        docks.append(dock)

    status = QLabel("Opening your calendar…")
    status.setObjectName("skeleton-status")
    frame.statusBar().addWidget(status, 1)

    frame.skeleton = Skeleton(bar, buttons, docks, status, month, calendar_toolbar)
    frame.restore_layout(ui_state, docks)
    # folded before the first show, so folded docks never widen a narrow window
    frame._skeleton_compact = frame.width() < COMPACT_WIDTH
    frame.skeleton.fold(frame._skeleton_compact)
    return frame
