"""What the tray and the window say about repeats: one that stopped is announced (the
real engine and runner over a real database, a fake tray icon since none exists
offscreen), and the one row standing for many missed occurrences says how many."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.engine.machine import Engine, Outcome
from milton_desktop.engine.runner import Runner
from milton_desktop.operations import posts, repeats
from milton_desktop.storage import queries
from milton_desktop.storage.models import Account, Recurrence, ScheduledPost
from milton_desktop.ui.shell.missed_dialog import MissedPostsDialog
from milton_desktop.ui.shell.tray import TrayController, notice_for_outcome
from tests.ui.shell.test_tray import FakeTray, FakeWindow, IconRecorder

MUTED = dict.fromkeys(
    ("notify_published", "notify_failed", "notify_uncertain", "notify_reconnect"), False
)


def _outcome(status, message, *, stopped=False):
    return Outcome(
        schedule_id=7,
        status=status,
        account="Work LinkedIn",
        platform="linkedin",
        text="Tip of the day",
        message=message,
        repeat_stopped=stopped,
    )


def test_a_stopped_repeat_is_always_told_with_its_reason():
    why = (
        "the repeat of post 3 (FREQ=DAILY;INTERVAL=0) stopped: INTERVAL must be a whole number "
        "of at least 1, not '0'. Schedule the post again with a corrected repeat rule to "
        "start it again"
    )
    notice = notice_for_outcome(_outcome("failed", why, stopped=True), MUTED)
    assert notice is not None  # even with failures muted: nothing else would say it
    assert notice.title == "A repeating post to LinkedIn stopped repeating"
    assert "The repeat of post 3 (FREQ=DAILY;INTERVAL=0) stopped: INTERVAL must be" in notice.body
    assert "Schedule the post again with a corrected repeat rule" in notice.body
    assert notice.level == "warning" and notice.schedule_ids == (7,)


def test_the_entry_for_many_missed_occurrences_says_how_many():
    many = (
        "329 more occurrences of this repeat were missed, from Fri 26 Jun 2026 10:00 "
        "(Europe/Paris) to Thu 20 May 2027 10:00 (Europe/Paris), while the computer was off"
    )
    notice = notice_for_outcome(_outcome("missed", many), MUTED)
    assert "329 more occurrences of this repeat were missed" in notice.body
    plain = notice_for_outcome(
        _outcome(
            "missed",
            "not published in time: the computer was off or asleep, or the app was not "
            "running. Publish it now, reschedule it, or skip it",
        ),
        MUTED,
    )
    assert "was due while the computer was off or asleep" in plain.body


def test_the_tray_announces_a_repeat_the_running_scheduler_stops(qtbot, db, memory_keyring):
    from milton_desktop.storage.credentials import CredentialStore

    creds = CredentialStore("test")
    account = Account.create(platform="linkedin", display_name="Work LinkedIn", remote_id="1")
    creds.save("linkedin", account.id, Credential("tok"))
    post = posts.add_post("Tip of the day")
    # written by an older version: today's checks refuse it when a repeat is made
    Recurrence.create(
        post=post,
        account=account,
        rrule="FREQ=SECONDLY",
        dtstart_local="2026-01-07T10:00:00",
        timezone="Europe/Paris",
    )
    clock = FakeClock(datetime.now(UTC))
    runner = Runner(Engine(creds, clock=clock), clock=clock, interval_s=3600)
    window = FakeWindow()
    trays: list[FakeTray] = []

    def factory(icon, parent):
        trays.append(FakeTray(icon, parent))
        return trays[-1]

    ctl = TrayController(
        runner,
        window,
        IconRecorder(),
        tray_factory=factory,
        available=True,
        clock=clock,
        prefs=lambda: MUTED,
    )
    try:
        runner.start()
        qtbot.waitUntil(lambda: bool(trays[0].messages), timeout=20_000)
    finally:
        runner.stop(10)
        ctl.deleteLater()
    title, body, _icon, _ms = trays[0].messages[-1]
    assert title == "A repeating post to LinkedIn stopped repeating"
    assert f"The repeat of post {post.id} stopped: repeat FREQ=SECONDLY is not supported" in body
    assert ctl.attention  # the tray icon asks for a look until the window is opened
    marker = ScheduledPost.get(ScheduledPost.post == post.id)
    assert marker.status == "failed" and marker.error_message[1:] in body  # capitalised
    # and the calendar shows the post where the repeat stopped, with the reason
    _names, rows = queries.calendar_rows(
        clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)
    )
    assert [(r[0], r[4], r[7]) for r in rows] == [(marker.id, "failed", marker.error_message)]


def test_the_missed_dialog_shows_what_the_entry_for_many_stands_for(qtbot, db):
    account = Account.create(platform="linkedin", display_name="Work LinkedIn", remote_id="1")
    clock = FakeClock(datetime(2026, 3, 10, 12, tzinfo=UTC))
    post = posts.add_post("Tip of the day")
    rec = repeats.schedule_repeating(
        post.id, account, datetime(2026, 3, 11, 10), "Europe/Paris", "FREQ=DAILY", clock=clock
    )
    clock.advance(timedelta(days=120))
    made = repeats.materialize(clock.now())
    rows = list(
        ScheduledPost.select()
        .where((ScheduledPost.recurrence == rec.id) & (ScheduledPost.status == "missed"))
        .order_by(ScheduledPost.scheduled_time)
    )
    assert [r.id for r in rows] == list(made.missed)
    one, many = rows[0], rows[-1]
    dialog = MissedPostsDialog([one.id, many.id], clock=clock)
    qtbot.addWidget(dialog)
    assert dialog.rows[one.id].note_label.isHidden()  # the dialog's own words say it all
    note = dialog.rows[many.id].note_label
    assert not note.isHidden()
    assert "more occurrences of this repeat were missed" in note.text()
    assert "skip them all" in note.text()
