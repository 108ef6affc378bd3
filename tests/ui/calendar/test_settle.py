"""Settling a post in the window: what each status offers, doing it from the chip menu,
and the banner that says why a drop was refused or what became of a post sent out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QUndoStack

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.engine.machine import Outcome
from milton_desktop.operations import posts
from milton_desktop.storage import queries, settings
from milton_desktop.storage.models import Media, ScheduledPost
from milton_desktop.ui.calendar.model import POST_MIME, ScheduleItem, account_choices, make_mime
from milton_desktop.ui.calendar.pane import CalendarPane, next_sensible_time, split_choices
from milton_desktop.ui.calendar.settle import choices_for, heading_for
from milton_desktop.ui.calendar.settle_dialogs import MarkPublishedDialog, RescheduleDialog
from tests.ui.calendar.test_view import chip_mime, send_drop

PARIS = ZoneInfo("Europe/Paris")


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS).astimezone(UTC)


def set_status(schedule_id: int, status: str, **fields) -> None:
    ScheduledPost.update(status=status, **fields).where(ScheduledPost.id == schedule_id).execute()


def row(schedule_id: int) -> ScheduledPost:
    return queries.get_schedule(schedule_id)


@pytest.fixture
def clock():
    year = datetime.now(UTC).year + 1
    return FakeClock(datetime(year, 3, 2, 8, 0, tzinfo=UTC))  # 09:00 in Paris


@pytest.fixture
def day(clock):
    return clock.now().astimezone(PARIS).date() + timedelta(days=2)


@pytest.fixture
def pane(qtbot, accounts, clock, day):
    p = CalendarPane(QUndoStack(), clock=clock)
    qtbot.addWidget(p)
    p.resize(1200, 760)
    p.show()
    qtbot.waitExposed(p)
    p.go_to(day)
    p.choose_account = lambda post_id, choices: [choices[0].id]
    return p


def labels(item: ScheduleItem) -> list[str]:
    return [c.label for c in choices_for(item) if c is not None]


def item_of(pane: CalendarPane, schedule_id: int) -> ScheduleItem:
    return ScheduleItem.from_row(queries.schedule_view(schedule_id), pane.zone)


# ---------------------------------------------------------------- what each status offers


def test_each_status_offers_only_what_makes_sense(pane, make_schedule, day):
    sched = make_schedule("Launch day", utc(day, 10))
    offered = {}
    for status in Status:
        set_status(sched.id, status, error_message="token expired")
        offered[status] = labels(item_of(pane, sched.id))
    for status in Status:  # any post can start a new one
        assert "Duplicate as draft" in offered[status]
    assert offered[Status.UNCERTAIN] == [
        "Mark as published…",
        "Mark as not published",
        "Duplicate as draft",
    ]
    assert offered[Status.MISSED][:3] == ["Publish now", "Reschedule…", "Skip"]
    assert offered[Status.FAILED][:3] == ["Publish now", "Reschedule…", "Skip"]
    assert "Edit schedule…" in offered[Status.PENDING] and "Cancel post" in offered[Status.PENDING]
    for settled in (Status.UNCERTAIN, Status.PUBLISHED, Status.PUBLISHING, Status.CANCELLED):
        # an editor of a post that may be out would send it twice (or open blank)
        assert "Edit schedule…" not in offered[settled]
        assert "Publish now" not in offered[settled]
    assert offered[Status.PUBLISHING] == ["Duplicate as draft"]
    set_status(sched.id, Status.FAILED, error_message="token expired")
    assert heading_for(item_of(pane, sched.id)) == "Failed: token expired"


def test_chip_menu_of_an_uncertain_post_marks_it_published_with_its_link(
    pane, make_schedule, day, qtbot
):
    sched = make_schedule("Maybe out", utc(day, 10))
    set_status(sched.id, Status.UNCERTAIN)
    pane.refresh()
    asked = []
    pane.settler.ask_url = lambda it: asked.append(it.id) or "https://l.example/p/1"
    menu = pane.settler.menu_for(item_of(pane, sched.id), pane)
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[0] == "May have gone out: check Work LinkedIn first"
    (mark,) = [a for a in menu.actions() if a.text() == "Mark as published…"]
    with qtbot.waitSignal(pane.changed, timeout=5000):
        mark.trigger()
    assert asked == [sched.id]
    assert (row(sched.id).status, row(sched.id).remote_url) == (
        Status.PUBLISHED,
        "https://l.example/p/1",
    )
    assert "Marked “Maybe out” as published" in pane.banner.text()


def test_mark_as_not_published_sends_it_again_and_follows_it(pane, make_schedule, day, qtbot):
    sched = make_schedule("Not there", utc(day, 10))
    set_status(sched.id, Status.UNCERTAIN)
    with qtbot.waitSignal(pane.changed, timeout=5000):
        assert pane.settler.run("mark_not_published", sched.id)
    assert row(sched.id).status == Status.PENDING
    assert "Publishing “Not there” on Work LinkedIn again now" in pane.banner.text()


def test_mark_published_dialog_refuses_a_link_that_is_not_one(qtbot, pane, make_schedule, day):
    sched = make_schedule("Out", utc(day, 10))
    dialog = MarkPublishedDialog(item_of(pane, sched.id), pane)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url_edit.setText("l.example/p/1")
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
    assert dialog.error_label.isVisible() and "https://" in dialog.error_label.text()
    qtbot.keyClicks(dialog.url_edit, "x")  # typing hides the complaint
    assert not dialog.error_label.isVisible()
    dialog.url_edit.setText("")
    dialog.accept()  # no link at all is fine
    assert dialog.result() == dialog.DialogCode.Accepted and dialog.url is None


def test_publish_now_on_a_missed_post_shows_it_going_out_then_published(
    pane, make_schedule, day, clock, qtbot
):
    sched = make_schedule("Overslept", utc(day, 10))
    set_status(sched.id, Status.MISSED)
    with qtbot.waitSignal(pane.changed, timeout=5000):
        assert pane.settler.run("publish_now", sched.id)
    assert row(sched.id).status == Status.PENDING
    assert row(sched.id).next_attempt_at == clock.now()
    assert pane.banner.text() == "Publishing “Overslept” on Work LinkedIn now…"
    pane.settler.note_outcome(
        Outcome(
            sched.id, Status.PUBLISHED, "Work LinkedIn", "linkedin", "Overslept", url="https://l/1"
        )
    )
    assert pane.banner.text() == "Published “Overslept” on Work LinkedIn."
    assert pane.banner.action_button.isVisible() and pane.banner.action_button.text() == "Open post"
    assert pane.banner.level == "success"


def test_a_failed_publish_says_why_and_paused_publishing_says_when(pane, make_schedule, day, qtbot):
    sched = make_schedule("Refused", utc(day, 10))
    set_status(sched.id, Status.FAILED, error_message="duplicate post")
    pane.settler.paused = lambda: True
    with qtbot.waitSignal(pane.changed, timeout=5000):
        pane.settler.run("publish_now", sched.id)
    assert "as soon as you resume publishing" in pane.banner.text()
    pane.settler.note_outcome(
        Outcome(sched.id, Status.FAILED, "Work LinkedIn", "linkedin", "Refused", message="too long")
    )
    assert pane.banner.text() == "“Refused” on Work LinkedIn could not be published: Too long."
    assert pane.banner.level == "error"
    # an outcome of a post nobody sent from here says nothing
    pane.banner.clear()
    pane.settler.note_outcome(Outcome(999, Status.FAILED, "a", "linkedin", "b"))
    assert pane.banner.text() == ""


def test_skip_a_failed_post_removes_it_and_undo_brings_it_back(pane, make_schedule, day):
    sched = make_schedule("Give up", utc(day, 10))
    set_status(sched.id, Status.FAILED, error_message="bad token")
    pane.refresh()
    assert sched.id in pane.month_view.shown_ids(day)
    assert pane.settler.run("skip", sched.id)
    assert row(sched.id).status == Status.CANCELLED
    assert sched.id not in pane.month_view.shown_ids(day)
    pane.undo_stack.undo()
    assert (row(sched.id).status, row(sched.id).error_message) == (Status.FAILED, "bad token")
    assert sched.id in pane.month_view.shown_ids(day)


def test_reschedule_asks_for_a_time_and_is_undoable(pane, make_schedule, day):
    sched = make_schedule("Later", utc(day, 10))
    set_status(sched.id, Status.MISSED)
    new = utc(day + timedelta(days=1), 15, 30)
    pane.settler.ask_time = lambda it: new
    assert pane.settler.run("reschedule", sched.id)
    assert (row(sched.id).status, row(sched.id).scheduled_time) == (Status.PENDING, new)
    assert pane.undo_stack.undoText().startswith("Move “Later” to")
    pane.undo_stack.undo()
    assert row(sched.id).scheduled_time == utc(day, 10)


def test_reschedule_dialog_starts_ahead_and_refuses_the_past(
    qtbot, pane, make_schedule, clock, day
):
    sched = make_schedule("Missed it", utc(day, 10))
    set_status(sched.id, Status.MISSED, scheduled_time=clock.now() - timedelta(days=1))
    it = item_of(pane, sched.id)
    dialog = RescheduleDialog(it, clock.now(), PARIS, pane)
    qtbot.addWidget(dialog)
    assert dialog.chosen() > clock.now()  # the same hour, on a day still ahead
    assert dialog.chosen().astimezone(PARIS).time() == it.local.time()
    dialog.set_when(clock.now() - timedelta(hours=1))
    dialog.show()
    dialog.accept()
    assert dialog.error_label.isVisible() and "passed" in dialog.error_label.text()


def test_double_click_on_an_uncertain_chip_offers_choices_instead_of_an_editor(
    pane, make_schedule, day, qtbot, monkeypatch
):
    sched = make_schedule("Unsure", utc(day, 10))
    set_status(sched.id, Status.UNCERTAIN)
    pane.refresh()
    shown = []
    monkeypatch.setattr(pane, "show_menu", lambda sid, pos: shown.append(sid))
    with qtbot.assertNotEmitted(pane.editScheduleRequested):
        pane.month_view.chipDoubleClicked.emit(sched.id)
    assert shown == [sched.id]
    pending = make_schedule("Sure", utc(day, 12))
    pane.refresh()
    with qtbot.waitSignal(pane.editScheduleRequested) as blocker:
        pane.month_view.chipDoubleClicked.emit(pending.id)
    assert blocker.args == [pending.id]


def test_a_choice_the_post_no_longer_offers_is_refused_with_why(pane, make_schedule, day):
    sched = make_schedule("Raced", utc(day, 10))
    set_status(sched.id, Status.PUBLISHED)  # the scheduler got there first
    assert not pane.settler.run("publish_now", sched.id)
    assert "is published now" in pane.banner.text()


# ---------------------------------------------------------------- refusals, where they happen


def _image_post(text: str, name: str = "square.jpg") -> int:
    post = posts.add_post(text)
    Media.create(
        post=post.id,
        kind="image",
        mime="image/tiff",
        path="/media/4be0c3d1f2a9e8.tif",
        original_name=name,
        bytes=1000,
        width=800,
        height=800,
        position=0,
    )
    return post.id


def test_a_refused_drop_says_why_in_a_banner_with_the_files_name_until_dismissed(
    pane, accounts, day, qtbot
):
    post_id = _image_post("A photo")
    month = pane.month_view
    assert not send_drop(
        month, QPointF(month.day_rect(day).center()), make_mime(POST_MIME, [post_id])
    )
    text = pane.banner.text()
    assert text.startswith("No account can take “A photo”:")
    assert "square.jpg" in text and "4be0c3d1f2a9e8" not in text
    assert not pane.banner.isHidden() and pane.banner.level == "error"
    qtbot.mouseClick(pane.banner.dismiss_button, Qt.MouseButton.LeftButton)
    assert pane.banner.isHidden()


def test_the_next_drop_clears_an_old_refusal(pane, make_schedule, day, clock):
    sched = make_schedule("Fine", utc(day, 10))
    pane.refresh()
    pane._refuse("Something went wrong before.")
    assert pane.banner.text()
    month = pane.month_view
    assert send_drop(
        month, QPointF(month.day_rect(day + timedelta(days=1)).center()), chip_mime(pane, sched.id)
    )
    assert pane.banner.text() == ""


def test_a_thread_whose_follow_up_x_refuses_is_not_offered_to_x(pane, accounts):
    from milton_desktop.domain.content import Content

    parts = [Content(text="Short main"), Content(text="y" * 300)]
    ok, refused = split_choices(account_choices(), parts)
    assert [c.name for c in ok] == ["Work LinkedIn"]
    why = dict((c.name, reason) for c, reason in refused)
    assert "part 2: the text is 300 weighted characters" in why["My X"]


def test_the_account_picker_offers_only_accounts_that_take_the_post(pane, accounts):
    from milton_desktop.domain.content import Content

    ok, refused = split_choices(account_choices(), Content(text="Text only"))
    assert [c.name for c in ok] == ["My X", "Work LinkedIn"]
    assert [c.name for c, _why in refused] == ["Studio IG"]
    menu = pane.account_menu(ok, refused)
    enabled = [a.text() for a in menu.actions() if a.isEnabled() and not a.isSeparator()]
    assert enabled == ["My X", "Work LinkedIn", "All 2 accounts"]
    (ig,) = [a for a in menu.actions() if a.text().startswith("Studio IG")]
    assert not ig.isEnabled() and ig.toolTip()
    offered = []
    pane.choose_account = lambda post_id, choices: offered.append([c.name for c in choices]) or []
    post = posts.add_post("Words")
    month = pane.month_view
    d = pane.anchor()
    send_drop(month, QPointF(month.day_rect(d).center()), make_mime(POST_MIME, [post.id]))
    assert offered == [["My X", "Work LinkedIn"]]


# ---------------------------------------------------------------- drops on today


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("09:00", "09:30"),
        ("09:24", "09:30"),
        ("09:25", "09:30"),
        ("09:26", "10:00"),
        ("23:50", "00:00"),
    ],
)
def test_next_sensible_time_is_the_next_half_hour_five_minutes_ahead(now, expected):
    hh, mm = map(int, now.split(":"))
    got = next_sensible_time(datetime(2027, 5, 4, hh, mm, tzinfo=PARIS))
    assert f"{got:%H:%M}" == expected


def test_a_draft_dropped_on_today_after_the_default_time_takes_the_next_half_hour(
    pane, accounts, clock, qtbot
):
    settings.set_value("default_post_time", "08:00")
    clock.set(clock.now().replace(hour=11, minute=7))  # 12:07 in Paris
    today = clock.now().astimezone(PARIS).date()
    pane.go_to(today)
    post = posts.add_post("Today still")
    month = pane.month_view
    assert send_drop(
        month, QPointF(month.day_rect(today).center()), make_mime(POST_MIME, [post.id])
    )
    (sched,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    assert sched.scheduled_time == utc(today, 12, 30)
    assert pane.banner.level == "info"
    assert pane.banner.text().startswith(
        "08:00 has already passed today, so it is scheduled for 12:30"
    )


def test_too_late_today_is_still_refused(pane, accounts, clock):
    clock.set(clock.now().replace(hour=22, minute=40))  # 23:40 in Paris: 00:00 is tomorrow
    today = clock.now().astimezone(PARIS).date()
    pane.go_to(today)
    post = posts.add_post("Too late")
    month = pane.month_view
    assert not send_drop(
        month, QPointF(month.day_rect(today).center()), make_mime(POST_MIME, [post.id])
    )
    assert "already passed" in pane.banner.text()


# ---------------------------------------------------------------- undo leaves no clutter


def test_undoing_a_drop_removes_the_chip_and_show_cancelled_starts_off(pane, accounts, day):
    assert not pane.show_cancelled.isChecked()
    post = posts.add_post("Oops")
    month = pane.month_view
    assert send_drop(month, QPointF(month.day_rect(day).center()), make_mime(POST_MIME, [post.id]))
    (sched,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    assert month.shown_ids(day) == [sched.id]
    pane.undo_stack.undo()
    assert month.shown_ids(day) == []
    pane.show_cancelled.setChecked(True)
    assert month.shown_ids(day) == [sched.id]
