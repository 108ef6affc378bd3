"""The post editor: live counters, inline validation, time zones and what Schedule writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QDate, Qt, QTime
from PySide6.QtGui import QColor, QImage, QPalette

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts, repeats, schedules
from milton_desktop.storage.models import Media, Post, ScheduledPost
from milton_desktop.ui.editor.dialog import ERROR_COLOUR, PostEditorDialog
from milton_desktop.ui.wording import describe

#: 10:00 in Paris on a winter Sunday; the next DST changes are 28 Mar and 31 Oct 2027
NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FakeClock(NOW)


@pytest.fixture
def editor(qtbot, accounts, clock, milton_home):
    def make(**kwargs) -> PostEditorDialog:
        kwargs.setdefault("media_dir", milton_home / "media")
        dlg = PostEditorDialog(clock=clock, **kwargs)
        dlg.confirm = lambda *a: True
        qtbot.addWidget(dlg)
        dlg.show()
        return dlg

    return make


def _colour(label) -> QColor:
    return label.palette().color(QPalette.ColorRole.WindowText)


def _jpeg(path, w=800, h=800):
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366aa"))
    assert image.save(str(path), "JPEG")
    return path


def _wait_media(qtbot, dlg):
    qtbot.waitUntil(lambda: all(e.state == "ready" for e in dlg._media), timeout=10000)


def _set_when(dlg, y, m, d, hh, mm):
    dlg.date_edit.setDate(QDate(y, m, d))
    dlg.time_edit.setTime(QTime(hh, mm))


# ---------------------------------------------------------------- counters


def test_counters_update_live_as_you_type(qtbot, editor):
    dlg = editor()
    assert dlg.counters["x"].text() == "X 0/280"
    qtbot.keyClicks(dlg.text_edit, "Hello")
    assert dlg.counters["x"].text() == "X 5/280"
    assert dlg.counters["linkedin"].text() == "LinkedIn 5/3000"
    assert dlg.counters["instagram"].text() == "Instagram 5/2200"
    assert dlg.hashtag_counter.isHidden()
    qtbot.keyClicks(dlg.text_edit, " #news #today")
    assert dlg.counters["instagram"].text() == "Instagram 18/2200"
    assert not dlg.hashtag_counter.isHidden()
    assert dlg.hashtag_counter.text() == "Instagram hashtags 2/30"


def test_a_url_counts_23_on_x(qtbot, editor):
    dlg = editor()
    qtbot.keyClicks(dlg.text_edit, "see https://example.com/a/very/long/path/that/is/long")
    assert dlg.counters["x"].text() == "X 27/280"  # "see " + 23
    assert dlg.counters["linkedin"].text() == "LinkedIn 53/3000"


def test_over_long_x_text_turns_red_and_blocks_schedule(qtbot, editor):
    dlg = editor()
    dlg.set_account_checked("My X")
    dlg.text_edit.setPlainText("a" * 280)
    assert not dlg.counters["x"].property("over")
    assert dlg.schedule_button.isEnabled()
    qtbot.keyClicks(dlg.text_edit, "b")
    assert dlg.counters["x"].text() == "X 281/280"
    assert dlg.counters["x"].property("over")
    assert _colour(dlg.counters["x"]) == QColor(ERROR_COLOUR)
    assert _colour(dlg.counters["linkedin"]) != QColor(ERROR_COLOUR)
    assert not dlg.schedule_button.isEnabled()
    assert not dlg.publish_button.isEnabled()
    assert dlg.draft_button.isEnabled()  # a draft may be too long for X
    assert "over the limit of 280: shorten it by 1" in dlg.problems_label.text()
    assert "My X" in dlg.problems_label.text()
    assert "X refuses" in dlg.schedule_button.toolTip()
    # LinkedIn takes it
    dlg.set_account_checked("My X", False)
    dlg.set_account_checked("Work LinkedIn")
    assert dlg.schedule_button.isEnabled()
    assert dlg.problems_label.isHidden()


def test_validation_messages_for_each_chosen_platform(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Hello")
    assert dlg.problems_label.isHidden()
    dlg.set_account_checked("Studio IG")
    text = dlg.problems_label.text()
    assert "Instagram" in text and "Studio IG" in text
    assert "needs at least one image or video" in text
    assert "--media-url" not in text  # the command line's words are not this window's
    assert "“Add link”" in text
    assert not dlg.schedule_button.isEnabled()


def test_account_needing_reconnect_blocks_schedule(qtbot, editor, accounts):
    accounts["linkedin"].status = "needs_reconnect"
    accounts["linkedin"].save()
    dlg = editor()
    dlg.text_edit.setPlainText("Hello")
    dlg.set_account_checked("Work LinkedIn")
    assert "needs reconnecting" in dlg.problems_label.text()
    assert not dlg.schedule_button.isEnabled()


# ---------------------------------------------------------------- schedule


def test_schedule_to_two_accounts_creates_two_rows(qtbot, editor):
    dlg = editor()
    qtbot.keyClicks(dlg.text_edit, "Launch day")
    dlg.voice_combo.setCurrentIndex(dlg.voice_combo.findData("coach"))
    dlg.set_account_checked("My X")
    dlg.set_account_checked("Work LinkedIn")
    # the default is the next 10:00 in the settings zone: tomorrow, since it is 10:00 now
    assert dlg.date_edit.date() == QDate(2027, 1, 11)
    assert dlg.zone_label.text() == "Europe/Paris (CET)"
    with qtbot.waitSignal(dlg.saved, timeout=10000) as blocker:
        dlg.schedule_button.click()
    post = Post.get_by_id(blocker.args[0])
    assert (post.body, post.voice) == ("Launch day", "coach")
    rows = list(ScheduledPost.select().order_by(ScheduledPost.id))
    assert {r.account.display_name for r in rows} == {"My X", "Work LinkedIn"}
    for r in rows:
        assert r.scheduled_time == datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
        assert r.timezone == "Europe/Paris"
        assert r.status == "pending"
        assert r.text_override is None
    assert not dlg.isVisible()


def test_nothing_written_when_one_account_fails_validation(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Fine for LinkedIn, but Instagram needs media")
    dlg.set_account_checked("Work LinkedIn")
    dlg.set_account_checked("Studio IG")
    assert not dlg.schedule_button.isEnabled()
    with qtbot.assertNotEmitted(dlg.saved, wait=200):
        assert dlg.save("schedule") is False
    assert "Nothing was saved" in dlg.status_label.text()
    assert Post.select().count() == 0
    assert ScheduledPost.select().count() == 0


def test_instagram_refuses_local_only_media_clearly(qtbot, editor, tmp_path):
    dlg = editor()
    dlg.text_edit.setPlainText("A square photo")
    dlg.set_account_checked("Studio IG")
    dlg.add_media_files([_jpeg(tmp_path / "square.jpg")])
    assert not dlg.schedule_button.isEnabled()  # still being read
    _wait_media(qtbot, dlg)
    text = dlg.problems_label.text()
    assert "square.jpg" in text
    assert "Instagram fetches media from a public URL" in text
    assert "only a local file" in text and "“Add link”" in text
    assert not dlg.schedule_button.isEnabled()
    assert dlg.media_list.item(0).text() == "square.jpg"

    dlg.media_list.item(0).setSelected(True)
    dlg.remove_media_button.click()
    dlg.url_edit.setText("https://cdn.example.com/square.jpg")
    dlg.add_link_button.click()
    assert dlg.url_edit.text() == ""
    assert dlg.problems_label.isHidden()
    dlg.media_list.item(0).setSelected(True)
    qtbot.keyClicks(dlg.alt_edit, "A blue square")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    media = Media.get()
    assert (media.url, media.alt_text, media.kind) == (
        "https://cdn.example.com/square.jpg",
        "A blue square",
        "image",
    )
    assert ScheduledPost.get().account.platform == "instagram"


def test_bad_link_and_bad_file_are_explained(qtbot, editor, tmp_path):
    dlg = editor()
    dlg.url_edit.setText("ftp://example.com/a.jpg")
    dlg.add_link_button.click()
    assert "not a public http(s) link" in dlg.media_note.text()
    assert dlg.media_list.count() == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    dlg.add_media_files([notes])
    qtbot.waitUntil(lambda: dlg.media_list.count() == 0, timeout=10000)
    assert "not an image, video or PDF" in dlg.media_note.text()


def test_local_media_is_copied_when_the_draft_is_saved(qtbot, editor, tmp_path, milton_home):
    dlg = editor()
    dlg.add_media_files([_jpeg(tmp_path / "photo.jpg", 640, 480)])
    _wait_media(qtbot, dlg)
    icon = dlg.media_list.item(0).icon()
    assert not icon.isNull()
    with qtbot.waitSignal(dlg.saved, timeout=10000) as blocker:
        dlg.draft_button.click()
    post = Post.get_by_id(blocker.args[0])
    media = post.media.get()
    assert (media.width, media.height, media.mime) == (640, 480, "image/jpeg")
    assert media.path.startswith(str(milton_home / "media"))
    assert ScheduledPost.select().count() == 0


def test_variant_is_stored_as_text_override(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("The long story, told properly for LinkedIn readers.")
    dlg.set_account_checked("My X")
    dlg.set_account_checked("Work LinkedIn")
    dlg.variant_checks["x"].setChecked(True)
    assert dlg.variant_edits["x"].toPlainText() == dlg.text_edit.toPlainText()
    dlg.variant_edits["x"].setPlainText("Short take for X")
    assert dlg.counters["x"].text() == "X (own text) 16/280"
    assert dlg.tabs.tabText(2).endswith("✎")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    rows = {r.account.platform: r for r in ScheduledPost.select()}
    assert rows["x"].text_override == "Short take for X"
    assert rows["linkedin"].text_override is None
    assert rows["linkedin"].post.body.startswith("The long story")


def test_variant_is_what_gets_checked(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("x" * 400)  # too long for X ...
    dlg.set_account_checked("My X")
    assert not dlg.schedule_button.isEnabled()
    dlg.variant_checks["x"].setChecked(True)
    dlg.variant_edits["x"].setPlainText("... but X gets its own short text")
    assert dlg.schedule_button.isEnabled()


# ---------------------------------------------------------------- time


def test_dst_gap_time_is_refused(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Spring forward")
    dlg.set_account_checked("Work LinkedIn")
    _set_when(dlg, 2027, 3, 28, 2, 30)
    note = dlg.time_note.text()
    assert "2027-03-28 02:30 does not exist in Europe/Paris" in note
    assert "choose a time outside the gap" in note
    assert _colour(dlg.time_note) == QColor(ERROR_COLOUR)
    assert not dlg.schedule_button.isEnabled()
    assert dlg.publish_button.isEnabled()  # publishing now needs no time
    assert dlg.save("schedule") is False
    assert "does not exist" in dlg.status_label.text()
    assert ScheduledPost.select().count() == 0
    _set_when(dlg, 2027, 3, 28, 3, 30)
    assert dlg.zone_label.text() == "Europe/Paris (CEST)"
    assert dlg.schedule_button.isEnabled()


def test_ambiguous_time_says_which_occurrence(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Fall back")
    dlg.set_account_checked("Work LinkedIn")
    _set_when(dlg, 2027, 10, 31, 2, 30)
    assert "02:30 happens twice on 31 Oct" in dlg.time_note.text()
    assert "Milton uses the first one (CEST, UTC+02:00)" in dlg.time_note.text()
    assert not dlg.second_check.isHidden()
    dlg.second_check.setChecked(True)
    assert "second one (CET, UTC+01:00)" in dlg.time_note.text()
    assert dlg.zone_label.text() == "Europe/Paris (CET)"
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    assert ScheduledPost.get().scheduled_time == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_past_time_is_refused(qtbot, editor):
    dlg = editor()
    dlg.text_edit.setPlainText("Too late")
    dlg.set_account_checked("Work LinkedIn")
    _set_when(dlg, 2027, 1, 10, 9, 0)
    assert "That time has passed" in dlg.time_note.text()
    assert not dlg.schedule_button.isEnabled()


def test_publish_now_schedules_at_now(qtbot, editor, clock):
    dlg = editor()
    dlg.text_edit.setPlainText("Right now")
    dlg.set_account_checked("My X")
    _set_when(dlg, 2027, 1, 9, 9, 0)  # a past time does not matter here
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.publish_button.click()
    row = ScheduledPost.get()
    assert row.scheduled_time == NOW
    assert row.next_attempt_at == NOW
    assert row.status == "pending"


# ---------------------------------------------------------------- keyboard and closing


def test_ctrl_enter_schedules(qtbot, editor):
    dlg = editor()
    dlg.set_account_checked("Work LinkedIn")
    qtbot.keyClicks(dlg.text_edit, "Keyboard person")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert ScheduledPost.select().count() == 1
    assert Post.get().body == "Keyboard person"  # the shortcut did not type a newline


def test_ctrl_enter_says_why_it_cannot_schedule(qtbot, editor):
    dlg = editor()
    qtbot.keyClicks(dlg.text_edit, "No account chosen")
    qtbot.keyClick(dlg.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "Choose at least one account" in dlg.status_label.text()
    assert ScheduledPost.select().count() == 0


def test_escape_asks_before_discarding_text(qtbot, editor):
    dlg = editor()
    asked: list[str] = []
    dlg.confirm = lambda title, text, ok: asked.append(title) or False
    qtbot.keyClicks(dlg.text_edit, "Half a thought")
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert asked == ["Discard changes?"]
    assert dlg.isVisible()
    dlg.confirm = lambda *a: True
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()
    assert Post.select().count() == 0


def test_escape_closes_an_untouched_editor_at_once(qtbot, editor):
    dlg = editor()
    dlg.confirm = lambda *a: pytest.fail("nothing to discard: no question")
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()


# ---------------------------------------------------------------- editing what exists


def test_edit_a_draft(qtbot, editor):
    post = posts.add_post("First words", voice="pr")
    dlg = editor(post_id=post.id)
    assert dlg.text_edit.toPlainText() == "First words"
    assert dlg.voice_combo.currentData() == "pr"
    dlg.text_edit.setPlainText("Better words")
    with qtbot.waitSignal(dlg.saved, timeout=10000) as blocker:
        dlg.draft_button.click()
    assert blocker.args == [post.id]
    assert Post.get_by_id(post.id).body == "Better words"
    assert Post.select().count() == 1


def test_edit_a_schedule_moves_it(qtbot, editor, accounts, clock):
    post = posts.add_post("Scheduled words")
    row = schedules.schedule(
        post.id,
        accounts["x"],
        datetime(2027, 2, 1, 9, tzinfo=UTC),
        timezone="Europe/Paris",
        clock=clock,
    )
    dlg = editor(schedule_id=row.id)
    assert [a.display_name for a in dlg.selected_accounts()] == ["My X"]
    assert dlg.date_edit.date() == QDate(2027, 2, 1)
    assert dlg.time_edit.time() == QTime(10, 0)
    dlg.time_edit.setTime(QTime(11, 15))
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    moved = ScheduledPost.get_by_id(row.id)
    assert moved.scheduled_time == datetime(2027, 2, 1, 10, 15, tzinfo=UTC)
    assert ScheduledPost.select().count() == 1


def test_edit_a_schedules_own_text(qtbot, editor, accounts, clock):
    post = posts.add_post("Common words")
    row = schedules.schedule(
        post.id, accounts["x"], datetime(2027, 2, 1, 9, tzinfo=UTC), text="X words", clock=clock
    )
    dlg = editor(schedule_id=row.id)
    assert dlg.variant_checks["x"].isChecked()
    assert dlg.variant_edits["x"].toPlainText() == "X words"
    dlg.variant_edits["x"].setPlainText("Better X words")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    # the same row is changed: no cancelled copy is left behind
    assert ScheduledPost.select().count() == 1
    live = ScheduledPost.get_by_id(row.id)
    assert (live.status, live.text_override) == ("pending", "Better X words")
    assert live.account_id == accounts["x"].id
    assert live.scheduled_time == datetime(2027, 2, 1, 9, tzinfo=UTC)


def test_editing_an_occurrence_keeps_it_in_its_repeat(qtbot, editor, accounts, clock):
    post = posts.add_post("Weekly tip")
    rec = repeats.schedule_repeating(
        post.id,
        accounts["linkedin"],
        datetime(2027, 1, 12, 10, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;COUNT=2",
        clock=clock,
    )
    first = ScheduledPost.select().where(ScheduledPost.recurrence == rec.id).first()
    dlg = editor(schedule_id=first.id)
    dlg.variant_checks["linkedin"].setChecked(True)
    dlg.variant_edits["linkedin"].setPlainText("This week's tip")
    dlg.time_edit.setTime(QTime(11, 30))
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    edited = ScheduledPost.get_by_id(first.id)
    assert edited.recurrence_id == rec.id
    assert edited.text_override == "This week's tip"
    assert edited.scheduled_time == datetime(2027, 1, 12, 10, 30, tzinfo=UTC)
    assert ScheduledPost.select().count() == 2  # the other occurrence, untouched


def test_a_published_schedule_is_history(qtbot, editor, accounts, clock):
    post = posts.add_post("Already out")
    row = schedules.schedule(
        post.id, accounts["x"], datetime(2027, 1, 10, 9, tzinfo=UTC), clock=clock
    )
    ScheduledPost.update(status="published").where(ScheduledPost.id == row.id).execute()
    dlg = editor(schedule_id=row.id)
    assert "This post was published on My X" in dlg.history_label.text()
    assert dlg.selected_accounts() == []
    assert dlg.add_files_button.isEnabled()  # the post's media can change; the row stays
    dlg.set_account_checked("Work LinkedIn")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    assert ScheduledPost.get_by_id(row.id).status == "published"
    assert ScheduledPost.select().where(ScheduledPost.status == "pending").count() == 1


def test_a_failed_schedule_with_new_text_is_edited_in_place(qtbot, editor, accounts, clock):
    post = posts.add_post("Common words")
    row = schedules.schedule(
        post.id,
        accounts["x"],
        datetime(2027, 1, 9, 9, tzinfo=UTC),
        clock=FakeClock(datetime(2027, 1, 9, 8, tzinfo=UTC)),
    )
    ScheduledPost.update(status="failed", error_message="X said no").where(
        ScheduledPost.id == row.id
    ).execute()
    dlg = editor(schedule_id=row.id)
    dlg.variant_checks["x"].setChecked(True)
    dlg.variant_edits["x"].setPlainText("Fixed words")
    _set_when(dlg, 2027, 1, 12, 10, 0)
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    assert ScheduledPost.select().count() == 1
    live = ScheduledPost.get_by_id(row.id)
    assert (live.status, live.attempts, live.error_message) == ("pending", 0, None)
    assert live.text_override == "Fixed words"
    assert live.scheduled_time == datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def test_unticking_the_schedules_account_cancels_it(qtbot, editor, accounts, clock):
    post = posts.add_post("Moving house")
    row = schedules.schedule(
        post.id, accounts["x"], datetime(2027, 2, 1, 9, tzinfo=UTC), clock=clock
    )
    dlg = editor(schedule_id=row.id)
    dlg.set_account_checked("My X", False)
    dlg.set_account_checked("Work LinkedIn")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    assert ScheduledPost.get_by_id(row.id).status == "cancelled"
    live = ScheduledPost.get(ScheduledPost.status == "pending")
    assert live.account_id == accounts["linkedin"].id


# ---------------------------------------------------------------- a saved post's media


def test_media_of_a_saved_draft_are_editable(qtbot, editor, tmp_path, milton_home):
    photo = _jpeg(tmp_path / "holiday.jpg", 640, 480)
    post = posts.add_post(
        "Holiday", media=[posts.MediaInput(path=photo)], media_dir=milton_home / "media"
    )
    dlg = editor(post_id=post.id)
    assert dlg.media_list.item(0).text() == "holiday.jpg"  # its name, not its hash
    assert "cannot be changed" not in dlg.media_note.text()
    for widget in (dlg.add_files_button, dlg.add_link_button, dlg.url_edit):
        assert widget.isEnabled()
    dlg.media_list.item(0).setSelected(True)
    assert dlg.remove_media_button.isEnabled() and dlg.alt_edit.isEnabled()
    qtbot.keyClicks(dlg.alt_edit, "A beach")
    dlg.url_edit.setText("https://cdn.example.com/map.png")
    dlg.add_link_button.click()
    dlg.add_media_files([_jpeg(tmp_path / "sunset.jpg", 1000, 800)])
    _wait_media(qtbot, dlg)
    with qtbot.waitSignal(dlg.saved, timeout=10000) as blocker:
        dlg.draft_button.click()
    assert blocker.args == [post.id]
    rows = list(Media.select().where(Media.post == post.id).order_by(Media.position))
    assert [(m.original_name, m.alt_text) for m in rows] == [
        ("holiday.jpg", "A beach"),
        ("map.png", ""),
        ("sunset.jpg", ""),
    ]
    assert rows[1].url == "https://cdn.example.com/map.png"
    assert (rows[2].width, rows[2].height) == (1000, 800)


def test_removing_a_saved_posts_media_while_editing_its_schedule(qtbot, editor, accounts, clock):
    link = posts.MediaInput(url="https://cdn.example.com/old.jpg")
    post = posts.add_post("Words and a picture", media=[link])
    row = schedules.schedule(
        post.id, accounts["x"], datetime(2027, 2, 1, 9, tzinfo=UTC), clock=clock
    )
    dlg = editor(schedule_id=row.id)
    dlg.media_list.item(0).setSelected(True)
    dlg.remove_media_button.click()
    dlg.time_edit.setTime(QTime(12, 0))
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    assert Media.select().where(Media.post == post.id).count() == 0
    assert ScheduledPost.select().count() == 1
    assert ScheduledPost.get_by_id(row.id).scheduled_time == datetime(2027, 2, 1, 11, 0, tzinfo=UTC)


def test_new_media_another_schedule_refuses_are_explained(qtbot, editor, accounts, clock, tmp_path):
    link = posts.MediaInput(url="https://cdn.example.com/square.jpg")
    post = posts.add_post("A square", media=[link])
    when = datetime(2027, 2, 1, 9, tzinfo=UTC)
    schedules.schedule(post.id, accounts["instagram"], when, clock=clock)
    row = schedules.schedule(post.id, accounts["linkedin"], when, clock=clock)
    dlg = editor(schedule_id=row.id)
    dlg.media_list.item(0).setSelected(True)
    dlg.remove_media_button.click()
    dlg.add_media_files([_jpeg(tmp_path / "square.jpg")])
    _wait_media(qtbot, dlg)
    assert dlg.schedule_button.isEnabled()  # LinkedIn, the account edited here, takes it
    with qtbot.assertNotEmitted(dlg.saved, wait=200):
        dlg.schedule_button.click()
    qtbot.waitUntil(lambda: not dlg._busy, timeout=10000)
    status = dlg.status_label.text()
    assert status.startswith("Nothing was saved: cannot change the media of post")
    assert "Instagram account 'Studio IG'" in status
    assert "“Add link”" in status and "--media-url" not in status
    assert Media.get(Media.post == post.id).url == "https://cdn.example.com/square.jpg"
    assert dlg.isVisible()


def test_untouched_media_do_not_wait_for_a_publish_in_progress(qtbot, editor, accounts, clock):
    link = posts.MediaInput(url="https://cdn.example.com/a.jpg")
    post = posts.add_post("Words", media=[link])
    when = datetime(2027, 2, 1, 9, tzinfo=UTC)
    busy = schedules.schedule(post.id, accounts["linkedin"], when, clock=clock)
    ScheduledPost.update(status="publishing").where(ScheduledPost.id == busy.id).execute()
    row = schedules.schedule(post.id, accounts["x"], when, clock=clock)
    dlg = editor(schedule_id=row.id)
    dlg.variant_checks["x"].setChecked(True)
    dlg.variant_edits["x"].setPlainText("Words for X")
    with qtbot.waitSignal(dlg.saved, timeout=10000):
        dlg.schedule_button.click()
    assert ScheduledPost.get_by_id(row.id).text_override == "Words for X"

    # changing the media then is refused, with the reason, until the publish is over
    dlg = editor(schedule_id=row.id)
    dlg.media_list.item(0).setSelected(True)
    qtbot.keyClicks(dlg.alt_edit, "A picture")
    with qtbot.assertNotEmitted(dlg.saved, wait=200):
        dlg.schedule_button.click()
    qtbot.waitUntil(lambda: not dlg._busy, timeout=10000)
    assert "it is being published right now; try again in a moment" in dlg.status_label.text()
    assert Media.get(Media.post == post.id).alt_text == ""


def test_a_schedule_that_became_uncertain_meanwhile_is_explained_in_window_words(
    qtbot, editor, accounts, clock
):
    post = posts.add_post("Words")
    row = schedules.schedule(
        post.id, accounts["x"], datetime(2027, 2, 1, 9, tzinfo=UTC), clock=clock
    )
    dlg = editor(schedule_id=row.id)
    dlg.variant_checks["x"].setChecked(True)
    dlg.variant_edits["x"].setPlainText("Words for X")
    # the scheduler got there while the dialog was open
    ScheduledPost.update(status="uncertain").where(ScheduledPost.id == row.id).execute()
    with qtbot.assertNotEmitted(dlg.saved, wait=200):
        dlg.schedule_button.click()
    qtbot.waitUntil(lambda: not dlg._busy, timeout=10000)
    status = dlg.status_label.text()
    assert "may have gone through: check the account, then mark it published" in status
    assert "milton-desktop" not in status
    assert ScheduledPost.get_by_id(row.id).text_override is None
    assert describe(schedules._why_not_movable(ScheduledPost.get_by_id(row.id))) == (
        f"Schedule {row.id} cannot be moved: its last publish may have gone through: "
        "check the account, then mark it published or not published "
        "(right-click it and choose whether it went out)."
    )


def test_a_linked_image_shows_its_picture_and_a_dead_link_says_why(qtbot, editor, monkeypatch):
    from milton_desktop.publishers import deadline
    from milton_desktop.ui.editor.dialog import _HAS_THUMB
    from tests.operations.test_link_previews import Cdn

    monkeypatch.setenv(deadline.DEADLINE_ENV, "2")
    with Cdn() as cdn:
        dlg = editor()
        assert dlg.add_media_url(f"{cdn.url}/photo.jpg")
        assert dlg.add_media_url(f"{cdn.url}/missing.jpg")
        shown, dead = (dlg.media_list.item(i) for i in range(2))
        qtbot.waitUntil(lambda: shown.data(_HAS_THUMB) is True, timeout=15000)
        qtbot.waitUntil(lambda: "answered 404" in dead.toolTip(), timeout=15000)
        assert dead.data(_HAS_THUMB) is False
