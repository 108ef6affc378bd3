"""The editor's thread and first comments: parts in a column, each counted for the
chosen platforms, split from a long text, and saved with the post."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts
from milton_desktop.storage import queries
from milton_desktop.storage.models import Post, ScheduledPost
from milton_desktop.ui.editor.dialog import PostEditorDialog

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)

LONG = (
    "We moved our whole build to a single machine last spring. It was slower at first. "
    "Then we learned where the time went.\n\n"
    "Most of it was waiting: on locks, on the network, on each other. Fixing the waits "
    "took a week; fixing the code would have taken a year.\n\n"
    "The lesson: measure before you rewrite. A profile is cheaper than a plan, and it "
    "is never wrong about where the time goes. Ours surprised everyone on the team."
)


@pytest.fixture
def editor(qtbot, accounts, milton_home):
    def make(**kwargs) -> PostEditorDialog:
        kwargs.setdefault("media_dir", milton_home / "media")
        dlg = PostEditorDialog(clock=FakeClock(NOW), **kwargs)
        dlg.confirm = lambda *a: True
        qtbot.addWidget(dlg)
        dlg.show()
        return dlg

    return make


def test_parts_are_added_counted_per_platform_and_saved(qtbot, editor):
    dlg = editor()
    panel = dlg.thread_panel
    assert panel.body.isHidden()
    dlg.text_edit.setPlainText("A thread about builds")
    dlg.set_account_checked("My X")
    dlg.set_account_checked("Work LinkedIn")
    panel.add_button.click()
    assert not panel.body.isHidden()
    (part,) = panel.editors()
    qtbot.keyClicks(part.edit, "The second part")
    counter = part.counter.text()
    assert "X reply 15/280" in counter
    assert "LinkedIn comment 15/1250" in counter
    assert "Instagram" not in counter  # not chosen

    part.edit.setPlainText("x" * 281)
    assert "Part 2: the text is 281 weighted characters" in dlg.problems_label.text()
    assert not dlg.schedule_button.isEnabled()
    part.edit.setPlainText("The second part")
    panel.delay_spin.setValue(10)
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()

    post = Post.get()
    assert queries.follow_up_texts(post) == ("The second part",)
    assert post.follow_up_delay == 600
    assert ScheduledPost.select().count() == 2


def test_an_empty_part_is_refused_and_nothing_saved(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Main")
    dlg.thread_panel.add_button.click()
    with qtbot.assertNotEmitted(dlg.saved, wait=200):
        assert dlg.save("draft") is False
    assert "Part 2 is empty" in dlg.status_label.text()
    assert Post.select().count() == 0


def test_split_into_a_thread_cuts_at_paragraphs_to_fit_the_chosen_platform(qtbot, editor):
    dlg = editor()
    dlg.set_account_checked("My X")
    dlg.text_edit.setPlainText(LONG)
    assert dlg.counters["x"].property("over")
    dlg.thread_panel.number_check.setChecked(True)
    dlg.thread_panel.split_button.click()

    parts = [dlg.text_edit.toPlainText(), *dlg.thread_panel.texts()]
    n = len(parts)
    assert n >= 2
    assert [p.rsplit(" ", 1)[1] for p in parts] == [f"{k}/{n}" for k in range(1, n + 1)]
    assert all(len(p) <= 280 for p in parts)
    # nothing lost, nothing reordered, and no paragraph cut where a whole one fits
    words = [w for p in parts for w in p.rsplit(" ", 1)[0].split()]
    assert words == LONG.split()
    assert all(p.rstrip("0123456789/ ").endswith((".", "year.", "team.")) for p in parts)
    assert not dlg.counters["x"].property("over")
    assert dlg.problems_label.isHidden()
    assert dlg.schedule_button.isEnabled()


def test_a_short_text_is_not_split(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Short and sweet")
    dlg.thread_panel.split_button.click()
    assert dlg.thread_panel.texts() == []
    assert "nothing to split" in dlg.status_label.text()


def test_a_saved_thread_opens_with_its_parts(qtbot, editor):
    post = posts.add_post("Main", follow_ups=["two", "three"], follow_up_delay=90)
    dlg = editor(post_id=post.id)
    assert dlg.thread_panel.texts() == ["two", "three"]
    assert not dlg.thread_panel.body.isHidden()
    assert dlg.thread_panel.delay() == 90  # not whole minutes: kept as it was
    assert not dlg.is_dirty()
    (first, _second) = dlg.thread_panel.editors()
    first.remove_button.click()
    assert dlg.thread_panel.texts() == ["three"]
    assert dlg.thread_panel.editors()[0].title.text() == "<b>Part 2</b>"
    assert dlg.is_dirty()
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.draft_button.click()
    assert queries.follow_up_texts(Post.get_by_id(post.id)) == ("three",)


def _png(path, w=320, h=200):
    from PySide6.QtGui import QColor, QImage

    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("#2a6"))
    assert image.save(str(path), "PNG")
    return path


def test_a_part_takes_its_own_media_with_alt_text_and_keeps_it(qtbot, editor, tmp_path):
    from milton_desktop.storage.models import Media

    dlg = editor()
    dlg.text_edit.setPlainText("A chart, explained")
    dlg.set_account_checked("My X")
    dlg.thread_panel.add_button.click()
    (part,) = dlg.thread_panel.editors()
    part.edit.setPlainText("The chart itself")
    part.add_files([_png(tmp_path / "chart.png")])
    assert not dlg.schedule_button.isEnabled()  # still being read
    qtbot.waitUntil(lambda: not dlg.thread_panel.loading(), timeout=10000)
    (row,) = part._media
    qtbot.keyClicks(row.alt_edit, "Bars rising from left to right")
    assert dlg.schedule_button.isEnabled()
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()

    (media,) = Media.select()
    assert (media.part, media.alt_text, media.original_name) == (
        1,
        "Bars rising from left to right",
        "chart.png",
    )
    # opened again, the part shows its picture; the main post has none
    post = Post.get()
    again = editor(post_id=post.id)
    assert again.media_items() == ()
    (kept,) = again.thread_panel.editors()[0].entries()
    assert kept.alt_text == "Bars rising from left to right"
    assert not again.is_dirty()


def test_media_on_a_linkedin_comment_is_refused_before_saving(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Main")
    dlg.set_account_checked("Work LinkedIn")
    dlg.thread_panel.add_button.click()
    (part,) = dlg.thread_panel.editors()
    part.edit.setPlainText("comment")
    assert part.add_url("https://cdn.example.com/p.jpg")
    assert "a LinkedIn comment cannot carry media" in dlg.problems_label.text()
    assert not dlg.schedule_button.isEnabled()
