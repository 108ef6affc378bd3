"""The window at a laptop's size and at a desktop's: docks that make room for the
calendar, a toolbar of icons with words, and a week title that keeps its year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QToolButton

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.engine.machine import Engine
from milton_desktop.engine.runner import Runner
from milton_desktop.paths import resolve_paths
from milton_desktop.ui.shell.main_window import COMPACT_WIDTH, DOCK_WIDTHS, MainWindow


@pytest.fixture
def clock():
    return FakeClock(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5))


@pytest.fixture
def window(qtbot, db, creds, clock):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    runner = Runner(Engine(creds, clock=clock), clock=clock)  # never started
    win = MainWindow(ctx, runner, QUndoStack(), clock=clock)
    win.set_tray_available(True)
    qtbot.addWidget(win)
    yield win
    runner.stop(1)


def _show(window, qtbot, width: int, height: int) -> None:
    window.resize(width, height)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.width() == width)


def test_a_small_window_folds_its_docks_and_the_toolbar_brings_them_back(window, qtbot):
    _show(window, qtbot, 1440, 900)
    assert window.drafts_dock.isVisible() and window.upcoming_dock.isVisible()
    assert not window.is_compact()
    # Docks never take half the window.
    assert window.drafts_dock.width() <= DOCK_WIDTHS["drafts-dock"] + 12
    assert window.upcoming_dock.width() <= DOCK_WIDTHS["upcoming-dock"] + 12
    assert window.calendar.width() > window.width() / 2

    window.resize(1024, 640)
    qtbot.waitUntil(lambda: not window.drafts_dock.isVisible())
    assert window.is_compact() and not window.upcoming_dock.isVisible()
    drafts_toggle = window.drafts_dock.toggleViewAction()
    assert drafts_toggle in window.toolbar.actions() and not drafts_toggle.isChecked()
    drafts_toggle.trigger()  # the toolbar button
    assert window.drafts_dock.isVisible()

    window.resize(1440, 900)
    qtbot.waitUntil(lambda: window.upcoming_dock.isVisible())
    assert window.drafts_dock.isVisible() and not window.is_compact()


def test_the_toolbar_shows_icons_and_keeps_the_main_words_when_narrow(window, qtbot):
    _show(window, qtbot, 1440, 900)
    for name, action in window.toolbar_icons.items():
        assert not action.icon().isNull(), name
        button = window.toolbar.widgetForAction(action)
        assert isinstance(button, QToolButton)
        assert button.toolButtonStyle().name == "ToolButtonTextBesideIcon", name
    window.resize(COMPACT_WIDTH - 200, 640)
    qtbot.waitUntil(window.is_compact)
    month = window.toolbar.widgetForAction(window.view_actions["month"])
    settings = window.toolbar.widgetForAction(window.settings_action)
    attention = window.toolbar.widgetForAction(window.post_actions.attention_action)
    assert month.toolButtonStyle().name == "ToolButtonTextBesideIcon"
    assert attention.toolButtonStyle().name == "ToolButtonTextBesideIcon"  # keeps its count
    assert settings.toolButtonStyle().name == "ToolButtonIconOnly"
    assert settings.toolTip()  # its words are still there, on hover


def test_the_week_title_keeps_its_year_in_a_small_window(window, qtbot, clock):
    _show(window, qtbot, 1024, 640)
    window.set_view("week")
    title = window.calendar.title_label
    year = str(clock.now().year)
    assert year in title.text() or str(clock.now().year + 1) in title.text()
    assert title.width() >= title.sizeHint().width()  # not cut off


def test_folded_docks_come_back_at_the_next_wide_start(window, qtbot, db, creds, clock):
    _show(window, qtbot, 1024, 640)
    qtbot.waitUntil(window.is_compact)
    window.request_quit()  # saves the layout
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    again = MainWindow(ctx, None, QUndoStack(), clock=clock)
    qtbot.addWidget(again)
    _show(again, qtbot, 1440, 900)
    qtbot.waitUntil(lambda: again.drafts_dock.isVisible())
    assert again.upcoming_dock.isVisible()


def test_the_list_keeps_the_status_filter_readable_in_a_small_window(window, qtbot):
    _show(window, qtbot, 1024, 640)
    window.calendar.show_attention()
    combo = window.calendar.list_view.status_combo
    assert combo.currentText() == "Needs attention"
    # the list comes on screen when its rows are in
    qtbot.waitUntil(lambda: window.calendar.stack.currentWidget() is window.calendar.list_view)
    qtbot.waitUntil(lambda: combo.isVisible())
    # the words the list is filtered by are shown whole, not "Needs attent"
    words = combo.fontMetrics().horizontalAdvance(combo.currentText())
    qtbot.waitUntil(lambda: combo.width() > words + combo.iconSize().width(), timeout=2000)
