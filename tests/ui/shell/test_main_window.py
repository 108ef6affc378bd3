"""The main window with the real panes: structure, close-to-tray, About, status bar,
refreshes on outcomes and changes, missed posts, in-window notices, saved layout."""

from __future__ import annotations

import re
import sqlite3
import sys
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QPalette, QUndoStack
from PySide6.QtWidgets import QDockWidget

from milton_desktop import __version__
from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.engine.machine import Engine, Outcome
from milton_desktop.engine.runner import Runner
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import queries
from milton_desktop.ui import style
from milton_desktop.ui.calendar.drafts import DraftsPane
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.upcoming import UpcomingPanel
from milton_desktop.ui.shell.main_window import MainWindow
from milton_desktop.ui.shell.missed_dialog import MissedPostsDialog
from milton_desktop.ui.shell.tray import Notice


@pytest.fixture
def base_time():
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)


@pytest.fixture
def clock(base_time):
    return FakeClock(base_time)


@pytest.fixture
def ctx(db, creds):
    paths = resolve_paths().ensure()
    return AppContext(paths=paths, credentials=creds, log_file=paths.log_file)


@pytest.fixture
def runner(creds, clock):
    r = Runner(Engine(creds, clock=clock), clock=clock)  # never started: nothing publishes
    yield r
    r.stop(1)


@pytest.fixture
def make_window(qtbot, ctx, runner, clock):
    def _make(run=runner, tray=True):
        window = MainWindow(ctx, run, QUndoStack(), clock=clock)
        window.set_tray_available(tray)
        qtbot.addWidget(window)
        return window

    return _make


@pytest.fixture
def window(make_window):
    return make_window()


def outcome(sid, status="published"):
    return Outcome(sid, status, "Work LinkedIn", "linkedin", "text", url="https://l.example/1")


def test_builds_with_the_real_panes(window):
    assert window.windowTitle() == "Milton Desktop"
    assert isinstance(window.calendar, CalendarPane)
    assert isinstance(window.drafts, DraftsPane) and isinstance(window.upcoming, UpcomingPanel)
    assert window.dockWidgetArea(window.drafts_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(window.upcoming_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert all(d.objectName() for d in window.findChildren(QDockWidget))  # saveState needs names

    tools = [a.text() for a in window.toolbar.actions() if a.text()]
    for text in (
        "&New post…",
        "Undo",
        "Redo",
        "&Today",
        "&Month",
        "&Week",
        "&Day",
        "&List",
        "Publish &due posts now",
        "&Accounts…",
        "&Settings…",
    ):
        assert text in tools, text

    menus = {
        m.title(): [a.text() for a in m.actions() if not a.isSeparator()]
        for m in (a.menu() for a in window.menuBar().actions())
    }
    assert list(menus) == ["&File", "&Edit", "&Post", "&View", "&Help"]
    for text in ("&New post…", "&Accounts…", "&Settings…", "Open &log folder", "&Quit"):
        assert text in menus["&File"]
    assert window.undo_action in window.menuBar().actions()[1].menu().actions()
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z")
    assert window.redo_action.shortcut() == QKeySequence("Ctrl+Shift+Z")
    assert menus["&Help"] == ["&About Milton Desktop"]


def test_one_set_of_view_controls(qtbot, window):
    window.show()
    assert not window.calendar.today_button.isVisible()
    assert not any(b.isVisible() for b in window.calendar.view_buttons.values())
    window.view_actions["week"].trigger()
    assert window.calendar.current_view() == "week"
    window.calendar.set_view("day")  # the pane switches by itself (a click on a day)
    assert window.view_actions["day"].isChecked()


def test_undo_and_redo_come_from_the_stack(window):
    stack = window.undo_stack
    assert not window.undo_action.isEnabled() and not window.undo_tool_action.isEnabled()
    from PySide6.QtGui import QUndoCommand

    stack.push(QUndoCommand("Move post"))
    assert window.undo_action.isEnabled() and window.undo_tool_action.isEnabled()
    assert window.undo_action.text() == "&Undo Move post"
    assert window.undo_tool_action.text() == "Undo"  # the toolbar keeps a short label
    window.undo_tool_action.trigger()
    assert stack.index() == 0 and window.redo_tool_action.isEnabled()


def test_closing_hides_into_the_tray_with_a_one_time_hint(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    with qtbot.assertNotEmitted(window.quitRequested), qtbot.waitSignal(window.trayHintRequested):
        window.close()
    assert not window.isVisible()
    window.show()
    with (
        qtbot.assertNotEmitted(window.trayHintRequested),
        qtbot.assertNotEmitted(window.quitRequested),
    ):
        window.close()
    assert not window.isVisible()


def test_closing_without_a_tray_quits(qtbot, make_window):
    window = make_window(tray=False)
    window.show()
    with qtbot.waitSignal(window.quitRequested):
        window.close()


def test_quit_action_asks_the_app_to_quit(qtbot, window):
    with qtbot.waitSignal(window.quitRequested):
        window.quit_action.trigger()


def test_about_shows_version_and_paths(qtbot, window, ctx):
    box = window.show_about()
    try:
        text = box.text()
        assert __version__ in text
        for path in (ctx.paths.data_dir, ctx.paths.log_dir, ctx.paths.db_path):
            assert str(path) in text
    finally:
        box.close()


def test_status_bar_names_the_scheduler_and_the_next_post(qtbot, window, make_schedule, base_time):
    make_schedule("Soon", base_time + timedelta(minutes=12), "linkedin")
    window.refresh_status()
    assert "Publishing on" in window.scheduler_label.text()
    # the next post is read on a worker
    qtbot.waitUntil(lambda: window.next_label.text() == "Next: LinkedIn in 12 min", timeout=5000)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_status_dot_and_about_labels_follow_the_palette(qapp, make_window, theme):
    """The scheduler's dot reads as a shape (3:1) and the About box's labels as text
    (4.5:1) on the window, light or dark: no colour is fixed for a light window."""
    previous = QPalette(qapp.palette())
    qapp.setPalette(style.dark_palette() if theme == "dark" else style.light_palette())
    try:
        window = make_window()
        bg = window.statusBar().palette().color(QPalette.ColorRole.Window)
        for paused in (False, True):
            window.runner.set_paused(paused)
            window.refresh_status()
            dot = re.search(r"color:\s*(#[0-9a-f]{6})", window.scheduler_label.text())
            assert dot, window.scheduler_label.text()
            assert style.contrast(QColor(dot[1]), bg) >= style.MIN_SHAPE_CONTRAST
        labels = re.findall(r"<td style='[^']*color:\s*(#[0-9a-f]{6})", window.about_text())
        assert labels
        for label in labels:
            assert style.contrast(QColor(label), bg) >= style.MIN_TEXT_CONTRAST
    finally:
        qapp.setPalette(previous)


def test_background_scheduler_is_named(make_window):
    window = make_window(run=None)
    window.set_runner(None, "pid 4242 on laptop")
    assert (
        "Publishing is handled by the background scheduler (pid 4242)"
        in window.scheduler_label.text()
    )
    assert not window.publish_now_action.isEnabled() and not window.pause_action.isEnabled()


def test_pause_from_the_window_and_from_the_tray(qtbot, window, runner):
    with qtbot.waitSignal(window.pausedChanged) as sig:
        window.pause_action.trigger()
    assert sig.args == [True] and runner.paused
    assert "paused" in window.scheduler_label.text()
    assert not window.publish_now_action.isEnabled()
    runner.set_paused(False)  # as the tray menu does
    window.sync_paused()
    assert not window.pause_action.isChecked() and window.publish_now_action.isEnabled()


def test_publish_due_now_ticks_the_runner(qtbot, window, runner, monkeypatch):
    ticks = []
    monkeypatch.setattr(runner, "tick", lambda: ticks.append(1))
    window.publish_now_action.trigger()
    assert ticks == [1]
    # said over the calendar, where a post's own "Publish now" is followed
    assert window.calendar.banner.text().startswith("Nothing is due right now")


def test_outcomes_and_changes_refresh_the_panes(qtbot, window, runner, monkeypatch):
    calls = []
    monkeypatch.setattr(window.upcoming, "refresh", lambda: calls.append("upcoming"))
    monkeypatch.setattr(window.drafts, "refresh", lambda: calls.append("drafts"))
    for sid in (1, 2, 3):  # a burst refreshes once
        runner.outcome.emit(outcome(sid))
    # a publish changes a schedule's status, never whether its post is a draft
    qtbot.waitUntil(lambda: calls == ["upcoming"], timeout=2000)
    rearmed = []
    monkeypatch.setattr(runner, "rearm", lambda: rearmed.append(1))
    window.calendar.changed.emit()
    qtbot.waitUntil(lambda: calls == ["upcoming", "drafts", "upcoming"], timeout=2000)
    assert rearmed == [1]  # a change may move the next due instant


def test_a_move_and_its_undo_leave_the_drafts_alone(qtbot, window, make_schedule, later):
    from datetime import timedelta

    from milton_desktop.ui.calendar.undo import RescheduleCommand, push_command

    sp = make_schedule("Moved", later)
    window.refresh_all()
    calls = []
    window.drafts.refresh = lambda: calls.append("drafts")  # type: ignore[method-assign]
    window.upcoming.refresh = lambda: calls.append("upcoming")  # type: ignore[method-assign]
    move = RescheduleCommand(sp.id, later, later + timedelta(hours=1), "Move", clock=window.clock)
    assert push_command(window.undo_stack, move)
    qtbot.waitUntil(lambda: calls == ["upcoming"], timeout=2000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: calls == ["upcoming", "upcoming"], timeout=2000)
    window.calendar.cancel_schedule(sp.id)  # a cancelled post may be a draft again
    qtbot.waitUntil(
        lambda: calls[2:] == ["upcoming", "drafts"] or calls[2:] == ["drafts", "upcoming"],
        timeout=2000,
    )


def test_writes_by_another_process_are_noticed(
    qtbot, window, ctx, make_schedule, later, monkeypatch
):
    calls = []
    monkeypatch.setattr(window.upcoming, "refresh", lambda: calls.append("upcoming"))
    window._on_db_watch_timer_timeout()
    assert not window._refresh_timer.isActive()  # nothing changed yet
    sp = make_schedule("From the command line", later)
    other = sqlite3.connect(ctx.paths.db_path)
    other.execute("UPDATE scheduled_posts SET text_override = 'edited' WHERE id = ?", (sp.id,))
    other.commit()
    other.close()
    window._on_db_watch_timer_timeout()
    qtbot.waitUntil(lambda: calls == ["upcoming"], timeout=2000)


def test_missed_outcomes_open_one_dialog_when_visible(
    qtbot, window, runner, make_schedule, later, creds
):
    window.show()
    rows = [make_schedule(f"Missed {i}", later + timedelta(minutes=i)) for i in range(2)]
    from milton_desktop.storage.models import ScheduledPost

    ScheduledPost.update(status="missed").execute()
    for row in rows:
        runner.outcome.emit(outcome(row.id, "missed"))
    qtbot.waitUntil(lambda: window._missed_dialog is not None, timeout=3000)
    dialog = window._missed_dialog
    assert isinstance(dialog, MissedPostsDialog)
    assert sorted(dialog.rows) == [r.id for r in rows]
    dialog.skip_all_button.click()
    assert {queries.get_schedule(r.id).status for r in rows} == {"cancelled"}
    dialog.close()


def test_missed_posts_wait_for_the_window_to_open(qtbot, window, make_schedule, later):
    row = make_schedule("Missed while off", later)
    from milton_desktop.storage.models import ScheduledPost

    ScheduledPost.update(status="missed").execute()
    assert window.check_missed_on_start() == [row.id]
    qtbot.wait(50)
    assert window._missed_dialog is None  # hidden in the tray: nothing pops up
    window.show()
    qtbot.waitUntil(lambda: window._missed_dialog is not None, timeout=3000)
    window._missed_dialog.close()


def test_in_window_notices_are_dismissible(qtbot, window):
    window.show()
    assert not window.notices.isVisible()
    window.notify(Notice("failed", "Could not publish to X", "Rejected.", level="critical"))
    window.notify(Notice("published", "Published on LinkedIn", "ok", url="https://l.example/1"))
    assert window.notices.isVisible() and window.notices.count() == 2
    assert window.notices.notices()[0].title == "Published on LinkedIn"  # newest first
    window.notices.clear()
    assert window.notices.count() == 0 and not window.notices.isVisible()


def test_editor_opens_for_a_schedule(qtbot, window, make_schedule, later):
    sp = make_schedule("Edit me", later)
    window.upcoming.editScheduleRequested.emit(sp.id)
    assert window.editor is not None
    window.editor.close()


def test_layout_is_restored_from_ui_state(qtbot, make_window, ctx):
    first = make_window()
    first.resize(700, 500)  # inside the offscreen screen (800x600), which clamps geometry
    first.set_view("week")
    first.show()
    qtbot.waitExposed(first)
    first.request_quit()  # saves the layout
    assert (ctx.paths.data_dir / "ui-state.ini").is_file()
    second = make_window()
    assert second.size().width() == 700 and second.size().height() == 500
    assert second.calendar.current_view() == "week" and second.view_actions["week"].isChecked()


def test_outcomes_of_a_background_scheduler_are_reported(
    qtbot, make_window, ctx, make_schedule, later
):
    """Another process (`milton-desktop run`) publishes and fails posts: this window,
    which does not publish itself, tells the user about each final result once."""
    window = make_window(run=None)
    window.set_runner(None, "pid 4242 on laptop")
    ok = make_schedule("Published in the background", later)
    bad = make_schedule("Refused in the background", later + timedelta(hours=1))
    seen = []
    window.backgroundOutcome.connect(seen.append)

    other = sqlite3.connect(ctx.paths.db_path)
    now = "2030-01-01 10:00:00.000000"
    rows = [
        (ok.id, "retry", None, None, None),
        (ok.id, "published", None, None, "https://www.linkedin.com/feed/update/urn:li:share:1"),
        (
            bad.id,
            "failed",
            "rejected",
            "LinkedIn refused this as a duplicate of a recent post",
            None,
        ),
    ]
    for sid, outcome, kind, message, url in rows:
        other.execute(
            "INSERT INTO publishing_results (schedule_id, attempt, started_at, finished_at, outcome,"
            " error_kind, error_message, remote_url, lateness_ms) VALUES (?, 1, ?, ?, ?, ?, ?, ?, 0)",
            (sid, now, now, outcome, kind, message, url),
        )
    other.commit()
    other.close()
    window._on_db_watch_timer_timeout()
    assert [(o.schedule_id, o.status) for o in seen] == [(ok.id, "published"), (bad.id, "failed")]
    assert seen[0].url.startswith("https://www.linkedin.com/")
    assert "duplicate" in seen[1].message
    window._on_db_watch_timer_timeout()  # nothing new: nothing reported twice
    assert len(seen) == 2


def test_the_editor_keeps_media_in_the_home_the_app_was_started_with(
    qtbot, milton_home, memory_keyring, clock, tmp_path
):
    """`milton-desktop --home DIR`: a file attached in the editor is copied into DIR's
    media folder, and the default home (MILTON_HOME here) is not touched."""
    from contextlib import closing
    from pathlib import Path

    from PySide6.QtGui import QColor, QImage

    from milton_desktop.context import open_context
    from milton_desktop.storage.db import close_database
    from milton_desktop.storage.models import Post

    default = resolve_paths().ensure()  # the usual folders exist, as on a used computer
    elsewhere = tmp_path / "elsewhere"
    ctx = open_context(home=str(elsewhere), stderr_logging=False)
    run = Runner(Engine(ctx.credentials, clock=clock), clock=clock)  # never started
    try:
        window = MainWindow(ctx, run, QUndoStack(), clock=clock)
        qtbot.addWidget(window)
        photo = tmp_path / "photo.jpg"
        image = QImage(320, 240, QImage.Format.Format_RGB32)
        image.fill(QColor("#3366aa"))
        assert image.save(str(photo), "JPEG")

        editor = window.open_editor()
        editor.confirm = lambda *a: True
        editor.text_edit.setPlainText("Written with --home")
        editor.add_media_files([photo])
        qtbot.waitUntil(lambda: all(e.state == "ready" for e in editor._media), timeout=10000)
        with qtbot.waitSignal(editor.saved, timeout=10000) as saved:
            editor.draft_button.click()

        stored = Path(Post.get_by_id(saved.args[0]).media.get().path)
        assert stored.parent == elsewhere / "media"
        assert stored.read_bytes() == photo.read_bytes()
        assert list(default.media_dir.iterdir()) == []
        # the draft itself went to that home's database too
        with closing(sqlite3.connect(elsewhere / "milton.sqlite3")) as con:
            assert con.execute("SELECT body FROM posts").fetchall() == [("Written with --home",)]
        assert not default.db_path.exists()
    finally:
        run.stop(1)
        close_database()


def test_the_editor_modules_are_imported_once_the_window_is_idle(qtbot, window):
    assert window.idle_imports is None  # nothing before the window shows
    window.show()
    assert window.idle_imports is not None
    qtbot.waitUntil(lambda: window.idle_imports.done, timeout=10_000)
    assert "milton_desktop.ui.editor.dialog" in sys.modules
    first = window.idle_imports
    window.hide()
    window.show()
    assert window.idle_imports is first  # once per window
