"""The editor without a mouse, dropped files, Duplicate, and the words on its controls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAccessible, QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QScrollArea,
    QWidget,
)

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts, schedules
from milton_desktop.storage.models import Media, Post, ScheduledPost
from milton_desktop.ui.editor.dialog import PostEditorDialog

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def editor(qtbot, accounts, milton_home):
    def make(**kwargs) -> PostEditorDialog:
        dlg = PostEditorDialog(clock=FakeClock(NOW), media_dir=milton_home / "media", **kwargs)
        dlg.confirm = lambda *a: True
        qtbot.addWidget(dlg)
        dlg.show()
        return dlg

    return make


def _jpeg(path, w=400, h=300):
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366aa"))
    assert image.save(str(path), "JPEG")
    return path


# ---------------------------------------------------------------- keyboard


def test_tab_moves_on_instead_of_typing_a_tab(qtbot, editor):
    dlg = editor()
    qtbot.keyClicks(dlg.text_edit, "Hi")
    for _ in range(14):
        qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Tab)
    assert dlg.text_edit.toPlainText() == "Hi"
    assert dlg.counters["x"].text() == "X 2/280"


def test_focus_goes_from_the_text_through_media_to_who_when_and_the_buttons(editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Something to save")
    dlg.set_account_checked("Work LinkedIn")
    order = []
    widget: QWidget = dlg.text_edit
    for _ in range(400):  # every widget of the dialog at most, whatever the platforms
        widget = widget.nextInFocusChain()
        if (
            widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        ):
            order.append(widget)
        if widget is dlg.schedule_button:
            break
    wanted = [
        dlg.media_list,
        dlg.add_files_button,
        dlg.url_edit,
        dlg.add_link_button,
        dlg.voice_combo,
        dlg.account_list,
        dlg.date_edit,
        dlg.time_edit,
        dlg.cancel_button,
        dlg.draft_button,
    ]
    positions = [order.index(w) for w in wanted]
    assert positions == sorted(positions)
    assert order[-1] is dlg.schedule_button


def test_every_control_has_a_name_for_screen_readers(editor):
    dlg = editor()
    nameless = []
    for widget in dlg.findChildren(QWidget):
        if (
            not widget.isVisible()
            or isinstance(widget, QLabel | QScrollArea)
            or widget.objectName().startswith("qt_")  # a part of a named control
            or not widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        ):
            continue
        iface = QAccessible.queryAccessibleInterface(widget)
        name = iface.text(QAccessible.Text.Name) if iface is not None else ""
        if not name and not (isinstance(widget, QAbstractButton) and widget.text()):
            nameless.append(widget.objectName() or type(widget).__name__)
    assert nameless == []


def test_escape_closes_and_asks_first_when_there_are_changes(qtbot, editor):
    dlg = editor()
    asked = []
    dlg.confirm = lambda *a: asked.append(a) or False  # "Keep editing"
    qtbot.keyClicks(dlg.text_edit, "Unsaved words")
    qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Escape)
    assert asked and asked[0][0] == "Discard changes?"
    assert dlg.isVisible()
    dlg.confirm = lambda *a: True
    qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Escape)
    assert not dlg.isVisible()


def test_escape_on_an_unchanged_post_closes_without_asking(qtbot, editor):
    dlg = editor()
    dlg.confirm = lambda *a: pytest.fail("nothing to discard: no question")
    qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Escape)
    assert not dlg.isVisible()


def test_editing_a_schedule_saves_changes_with_ctrl_enter(qtbot, editor, accounts):
    post = posts.add_post("Before")
    when = NOW + timedelta(days=2)
    row = schedules.schedule(post.id, accounts["linkedin"], when, timezone="Europe/Paris")
    dlg = editor(schedule_id=row.id)
    assert dlg.schedule_button.text() == "Save changes"
    assert dlg.schedule_button.toolTip() == "Save changes (Ctrl+Enter)"
    dlg.text_edit.setPlainText("After")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert Post.get_by_id(post.id).body == "After"
    assert ScheduledPost.select().count() == 1  # the same schedule, changed in place


def test_a_new_post_is_scheduled_with_the_schedule_button(editor):
    assert editor().schedule_button.text() == "Schedule"


def test_voice_says_what_it_is(editor):
    dlg = editor()
    assert "never changes the text" in dlg.voice_combo.toolTip()
    assert "does not change the text" in dlg.voice_help.text()


# ---------------------------------------------------------------- dropped files


def _drop(widget: QWidget, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    at = QPointF(widget.rect().center())
    enter = QDragEnterEvent(
        at.toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        at,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def test_image_files_dropped_on_the_media_area_are_attached(qtbot, editor, tmp_path):
    dlg = editor()
    dlg.text_edit.setPlainText("Dropped in")
    _drop(dlg.media_list.viewport(), [_jpeg(tmp_path / "square.jpg"), _jpeg(tmp_path / "b.jpg")])
    qtbot.waitUntil(lambda: all(e.state == "ready" for e in dlg._media), timeout=10000)
    assert [dlg.media_list.item(n).text() for n in range(2)] == ["square.jpg", "b.jpg"]
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.draft_button.click()
    stored = list(Media.select().order_by(Media.position))
    assert [m.original_name for m in stored] == ["square.jpg", "b.jpg"]


def test_a_file_dropped_on_the_text_is_attached_not_typed(qtbot, editor, tmp_path):
    dlg = editor()
    _drop(dlg.text_edit.viewport(), [_jpeg(tmp_path / "photo.jpg")])
    qtbot.waitUntil(lambda: all(e.state == "ready" for e in dlg._media), timeout=10000)
    assert dlg.text_edit.toPlainText() == ""
    assert dlg.media_list.item(0).text() == "photo.jpg"


# ---------------------------------------------------------------- duplicate


def test_duplicate_makes_a_new_draft_with_the_same_text_and_media(qtbot, editor, tmp_path):
    original = posts.add_post(
        "Worth saying twice",
        voice="coach",
        media=[posts.MediaInput(path=_jpeg(tmp_path / "p.jpg"), alt_text="A blue square")],
        media_dir=tmp_path / "media",
    )
    dlg = editor(post_id=original.id)
    assert dlg.duplicate_button.isVisible()
    with qtbot.waitSignal(dlg.saved, timeout=10000) as blocker:
        dlg.duplicate_button.click()
    copy = Post.get_by_id(blocker.args[0])
    assert copy.id != original.id
    assert (copy.body, copy.voice) == ("Worth saying twice", "coach")
    assert [(m.alt_text, m.original_name) for m in copy.media] == [("A blue square", "p.jpg")]
    assert not copy.schedules.exists()
    assert "now a draft" in dlg.status_label.text()
    assert dlg.isVisible()  # the original stays open


def test_a_new_post_has_nothing_to_duplicate(editor):
    dlg = editor()
    assert not dlg.duplicate_button.isVisible()
    assert not dlg.duplicate()
