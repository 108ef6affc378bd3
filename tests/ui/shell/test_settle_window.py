"""The window's side of settling posts: the Post menu, "Needs attention (N)", Find,
shortcuts shown in menus, one count of missed posts, and Publish now from the editor."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtGui import QKeySequence

from milton_desktop.engine.machine import Outcome
from milton_desktop.storage import queries
from milton_desktop.storage.models import ScheduledPost
from tests.ui.shell import test_main_window as _main

# the main window's fixtures, shared
base_time, clock, ctx, runner = _main.base_time, _main.clock, _main.ctx, _main.runner
make_window, window = _main.make_window, _main.window


def set_status(schedule_id: int, status: str, **fields) -> None:
    ScheduledPost.update(status=status, **fields).where(ScheduledPost.id == schedule_id).execute()


def menu_texts(window, title: str) -> list[str]:
    (menu,) = [a.menu() for a in window.menuBar().actions() if a.text() == title]
    menu.aboutToShow.emit()
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_shortcuts_follow_the_platform_and_are_on_the_actions(window):
    assert window.settings_action.shortcut() == QKeySequence("Ctrl+,")
    assert window.new_post_action.shortcut() == QKeySequence("Ctrl+N")
    assert window.today_action.shortcut() == QKeySequence("Ctrl+T")
    assert [
        window.view_actions[v].shortcut().toString() for v in ("month", "week", "day", "list")
    ] == [
        "Ctrl+1",
        "Ctrl+2",
        "Ctrl+3",
        "Ctrl+4",
    ]
    assert window.post_actions.find_action.shortcut() == QKeySequence("Ctrl+F")
    assert window.undo_action.shortcut() == QKeySequence("Ctrl+Z")
    assert window.redo_action.shortcut() == QKeySequence("Ctrl+Shift+Z")
    assert "&Find…" in menu_texts(window, "&Edit")


def test_find_focuses_the_search_in_the_view_that_is_shown(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.post_actions.find_action.trigger()
    # the month view stays: the search and filters are over every view
    assert window.calendar.current_view() == "month" and window.view_actions["month"].isChecked()
    qtbot.waitUntil(lambda: window.calendar.list_view.search_edit.hasFocus())
    window.set_view("list")
    window.post_actions.find_action.trigger()
    qtbot.waitUntil(lambda: window.calendar.list_view.search_edit.hasFocus())


def test_needs_attention_counts_and_opens_the_filtered_list(
    qtbot, window, make_schedule, base_time
):
    assert window.post_actions.attention_action.text() == "Needs attention"
    a = make_schedule("Failed one", base_time + timedelta(days=1))
    b = make_schedule("Unsure one", base_time + timedelta(days=2))
    make_schedule("Fine one", base_time + timedelta(days=3))
    set_status(a.id, "failed", error_message="Token expired")
    set_status(b.id, "uncertain")
    window.refresh_all()  # the counts and the list are read on workers
    action = window.post_actions.attention_action
    qtbot.waitUntil(lambda: action.text() == "Needs attention (2)", timeout=5000)
    assert window.post_actions.attention_action in window.toolbar.actions()
    window.post_actions.attention_action.trigger()
    cal = window.calendar
    assert cal.current_view() == "list"
    qtbot.waitUntil(lambda: cal.list_view.count_label.text() == "2 posts need attention")
    window.show_attention([a.id])
    qtbot.waitUntil(lambda: cal.selected_id() == a.id, timeout=5000)


def test_the_post_menu_offers_the_selected_posts_choices(window, make_schedule, base_time):
    assert menu_texts(window, "&Post")[0] == "Select a post in the calendar or the list first"
    sched = make_schedule("Unsure", base_time + timedelta(days=1))
    set_status(sched.id, "uncertain")
    window.calendar.select(sched.id)
    texts = menu_texts(window, "&Post")
    assert texts[:3] == [
        "May have gone out: check Work LinkedIn first",
        "Mark as published…",
        "Mark as not published",
    ]
    assert "Edit schedule…" not in texts
    assert texts[-2:] == ["Needs attention (1)", "Review &missed posts…"]


def test_the_start_up_count_and_the_dialog_agree(qtbot, window, make_schedule, base_time, clock):
    # two marked missed while the app was off, a third still pending past the grace window:
    # the scheduler's first check marks it a moment after the count is taken
    rows = [make_schedule(f"Missed {n}", base_time + timedelta(days=1)) for n in range(3)]
    past = clock.now() - timedelta(hours=5)
    for row in rows[:2]:
        set_status(row.id, "missed", scheduled_time=past, next_attempt_at=past)
    set_status(rows[2].id, "pending", scheduled_time=past, next_attempt_at=past)
    told = window.check_missed_on_start()
    assert sorted(told) == [r.id for r in rows]
    dialog = window.show_missed()
    assert sorted(dialog.open_ids()) == sorted(told)  # three in the balloon, three here
    dialog.close()


def test_publish_now_in_the_editor_closes_it_and_the_banner_follows_the_post(
    qtbot, window, make_schedule, base_time, clock
):
    sched = make_schedule("From the editor", base_time + timedelta(days=1))
    editor = window.open_editor(schedule_id=sched.id)
    with qtbot.waitSignal(editor.publishedNow, timeout=5000):
        editor.save("now")
    banner = window.calendar.banner
    assert banner.text() == "Publishing “From the editor” on Work LinkedIn now…"
    assert queries.get_schedule(sched.id).next_attempt_at <= clock.now()
    window._on_runner_outcome(
        Outcome(sched.id, "published", "Work LinkedIn", "linkedin", "x", url="https://l/9")
    )
    assert banner.text() == "Published “From the editor” on Work LinkedIn."
    qtbot.waitUntil(lambda: window.editor is None)  # the editor closed itself


def test_duplicate_as_draft_shows_the_copy_selected_in_the_drafts(
    qtbot, window, make_schedule, base_time
):
    sched = make_schedule("Weekly digest", base_time + timedelta(days=1))
    window.refresh_all()
    window.drafts_dock.hide()
    with qtbot.waitSignal(window.calendar.draftDuplicated, timeout=5000) as made:
        assert window.calendar.settler.run("duplicate", sched.id)
    (new_id,) = made.args
    assert window.drafts_dock.isVisibleTo(window)
    # the drafts are read on a worker: the copy is selected once they are in
    qtbot.waitUntil(lambda: window.drafts.selected_post_id() == new_id, timeout=5000)
    assert new_id in window.drafts.post_ids()
