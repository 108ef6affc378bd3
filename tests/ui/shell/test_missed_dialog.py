"""The missed-posts dialog: each choice is one store call, and the row says what happened."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.engine.machine import Engine
from milton_desktop.operations import schedules
from milton_desktop.storage import queries
from milton_desktop.ui import style
from milton_desktop.ui.shell.missed_dialog import MissedPostsDialog, MissedRow


@pytest.fixture
def clock(later):
    # Three hours after the posts' time: past the two-hour grace window.
    return FakeClock(later + timedelta(hours=3))


@pytest.fixture
def missed(make_schedule, later, creds, clock):
    """Three posts the engine marked missed (the computer was asleep at their time)."""
    rows = [
        make_schedule("Monday thoughts on local-first software", later, "linkedin"),
        make_schedule("A short one for X", later + timedelta(minutes=15), "x"),
        make_schedule("Team photo from the offsite", later + timedelta(minutes=30), "linkedin"),
    ]
    outcomes = Engine(creds, clock=clock).mark_missed()
    assert sorted(o.schedule_id for o in outcomes) == [r.id for r in rows]
    return [r.id for r in rows]


@pytest.fixture
def dialog(qtbot, missed, clock):
    dlg = MissedPostsDialog(missed, clock=clock)
    qtbot.addWidget(dlg)
    return dlg


def test_lists_each_missed_post(dialog, missed, later):
    assert dialog.windowTitle() == "Missed posts"
    assert dialog.title_label.text() == "3 posts missed their time"
    row = dialog.rows[missed[0]]
    local = later.astimezone(get_zone("Europe/Paris"))
    assert f"{local:%H:%M}" in row.when_label.text()
    assert "3 h ago" in row.when_label.text()
    assert "local-first software" in row.text_label.text()
    labels = [w.text() for w in row.findChildren(type(row.when_label))]
    assert "LinkedIn" in labels and "Work LinkedIn" in labels


def test_publish_now_makes_it_due_at_once(qtbot, dialog, missed, clock):
    row = dialog.rows[missed[0]]
    with qtbot.waitSignal(dialog.changed):
        row.publish_button.click()
    sp = queries.get_schedule(missed[0])
    assert sp.status == "pending" and sp.next_attempt_at == clock.now()
    assert row.resolved and row.status_label.text() == "Publishing now."
    assert dialog.title_label.text() == "2 posts missed their time"


def test_reschedule_to_the_chosen_time(qtbot, dialog, missed, clock):
    row = dialog.rows[missed[1]]
    zone = get_zone("Europe/Paris")
    target = (
        (clock.now() + timedelta(days=2))
        .astimezone(zone)
        .replace(hour=8, minute=30, second=0, microsecond=0)
    )
    row.when_edit.setDateTime(
        QDateTime(QDate(target.year, target.month, target.day), QTime(target.hour, target.minute))
    )
    with qtbot.waitSignal(dialog.changed):
        row.reschedule_button.click()
    sp = queries.get_schedule(missed[1])
    assert sp.status == "pending" and sp.scheduled_time == target
    assert row.status_label.text().startswith("Rescheduled to ")


def test_default_new_time_keeps_the_planned_hour(dialog, missed, later, clock):
    row = dialog.rows[missed[0]]
    chosen = row.chosen_time()
    zone = get_zone("Europe/Paris")
    assert chosen > clock.now()
    assert chosen.astimezone(zone).time() == later.astimezone(zone).time()
    assert chosen - clock.now() < timedelta(days=1)


def test_reschedule_into_the_past_is_refused_in_the_row(dialog, missed, clock):
    row = dialog.rows[missed[0]]
    row.reschedule(clock.now() - timedelta(days=1))
    assert not row.resolved and row.action_row.isVisibleTo(dialog)  # the choices stay offered
    assert "in the past" in row.status_label.text()
    assert queries.get_schedule(missed[0]).status == "missed"


def test_skip_cancels(qtbot, dialog, missed):
    row = dialog.rows[missed[2]]
    with qtbot.waitSignal(dialog.changed):
        row.skip_button.click()
    assert queries.get_schedule(missed[2]).status == "cancelled"
    assert row.status_label.text().startswith("Skipped")


def test_all_at_once_then_close(qtbot, dialog, missed):
    assert dialog.publish_all_button.isVisibleTo(dialog)
    dialog.skip_all_button.click()
    assert {queries.get_schedule(i).status for i in missed} == {"cancelled"}
    assert dialog.title_label.text() == "All missed posts are taken care of"
    assert dialog.close_button.text() == "Close"
    assert not dialog.publish_all_button.isVisibleTo(dialog)


def test_publish_all(dialog, missed):
    dialog.publish_all_button.click()
    assert {queries.get_schedule(i).status for i in missed} == {"pending"}


def test_posts_handled_elsewhere_show_as_done(qtbot, missed, clock):
    schedules.cancel(missed[0], clock=clock)
    dlg = MissedPostsDialog(missed, clock=clock)
    qtbot.addWidget(dlg)
    assert dlg.rows[missed[0]].resolved
    assert "Already cancelled" in dlg.rows[missed[0]].status_label.text()
    assert dlg.title_label.text() == "2 posts missed their time"


def test_more_missed_posts_join_an_open_dialog(qtbot, missed, clock):
    dlg = MissedPostsDialog(missed[:1], clock=clock)
    qtbot.addWidget(dlg)
    assert dlg.title_label.text() == "1 post missed its time"
    assert not dlg.publish_all_button.isVisibleTo(dlg)
    dlg.add_schedule_ids(missed)  # a second wake-up: duplicates are ignored
    assert list(dlg.rows) == missed
    dlg.add_schedule_ids([999_999])  # deleted meanwhile: nothing to show
    assert len(dlg.rows) == 3


def test_default_time_skips_a_dst_gap():
    from datetime import datetime

    from milton_desktop.domain.timeutil import localize

    zone = get_zone("Europe/Paris")
    planned = localize(datetime(2026, 3, 20, 2, 30), zone)  # 02:30 exists on the 20th...
    now = localize(datetime(2026, 3, 28, 23, 0), zone)  # ...but not on the 29th (spring forward)
    chosen = MissedRow.default_new_time(planned, now, "Europe/Paris")
    assert chosen.astimezone(zone).replace(tzinfo=None) == datetime(2026, 3, 30, 2, 30)


def test_publish_all_publishes_a_repeat_once_at_its_latest_time(qtbot, make_schedule, later, clock):
    """Three missed days of a daily repeat and one missed one-off post: followers get
    the repeat once (its latest time), not three times the same words."""
    from milton_desktop.storage.models import Recurrence, ScheduledPost

    single = make_schedule("A one-off announcement", later, "x")
    days = [make_schedule("Daily tip", later + timedelta(minutes=m), "linkedin") for m in (1, 2, 3)]
    series = Recurrence.create(
        post=days[0].post_id,
        account=days[0].account_id,
        rrule="FREQ=DAILY",
        dtstart_local="2030-01-01T10:00:00",
        timezone="Europe/Paris",
    )
    ScheduledPost.update(recurrence=series.id).where(
        ScheduledPost.id.in_([d.id for d in days])
    ).execute()
    ids = [single.id, *(d.id for d in days)]
    ScheduledPost.update(status=Status.MISSED).where(ScheduledPost.id.in_(ids)).execute()
    dlg = MissedPostsDialog(ids, clock=clock)
    qtbot.addWidget(dlg)
    assert dlg.publish_all_button.text() == "Publish each once now"
    assert "only its latest time" in dlg.publish_all_button.toolTip()
    dlg.publish_all_button.click()
    status = {sid: queries.get_schedule(sid).status for sid in ids}
    assert status == {
        single.id: Status.PENDING,
        days[0].id: Status.CANCELLED,
        days[1].id: Status.CANCELLED,
        days[2].id: Status.PENDING,
    }
    assert "later time of the same repeat" in dlg.rows[days[0].id].status_label.text()


def test_the_platform_badges_show_on_a_dark_palette(qapp, qtbot, missed, clock):
    previous = QPalette(qapp.palette())
    qapp.setPalette(style.dark_palette())
    try:
        dlg = MissedPostsDialog(missed, clock=clock)
        qtbot.addWidget(dlg)
        base = dlg.palette().color(QPalette.ColorRole.Base)
        badges = {b.text(): b for b in dlg.findChildren(QLabel, "missed-platform")}
        assert set(badges) == {"LinkedIn", "X"}
        for name, badge in badges.items():
            found = re.search(r"background: (#\w+); color: (#\w+)", badge.styleSheet())
            assert found, badge.styleSheet()
            fill, text = QColor(found[1]), QColor(found[2])
            # X's brand colour is black: on a dark card it must lighten to be seen
            assert style.contrast(fill, base) >= style.MIN_SHAPE_CONTRAST, name
            assert style.contrast(text, fill) >= style.MIN_TEXT_CONTRAST, name
    finally:
        qapp.setPalette(previous)
