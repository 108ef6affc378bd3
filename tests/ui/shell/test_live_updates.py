"""Live updates on a team database (PostgreSQL, a real server): a change made by another
client appears in an open window within two seconds, the window says when the database
cannot be reached and catches up when it can, and a running scheduler publishes a post
another client scheduled a moment ago at its time, re-armed by the notification (its
watchdog is an hour away)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from PySide6.QtGui import QUndoStack

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.engine.machine import Engine
from milton_desktop.engine.runner import Runner
from milton_desktop.operations import schedules
from milton_desktop.paths import resolve_paths
from milton_desktop.storage.db import close_database, open_database, worker_connection
from milton_desktop.storage.models import Account
from milton_desktop.ui.calendar.model import display_zone
from milton_desktop.ui.shell.main_window import UNREACHABLE_TEXT, MainWindow
from tests.fakes.x import FakeX

REPO = Path(__file__).resolve().parents[3]
#: how long a change may take to reach another window (the issue says within a second;
#: the test leaves room for a loaded CI machine)
REACH_MS = 2000


@pytest.fixture
def db(milton_home, postgres_url):
    """The team database (the ui fixtures' accounts and schedules are made in it)."""
    database = open_database(postgres_url)
    yield database
    close_database()


@pytest.fixture
def now():
    return datetime(2031, 5, 14, 8, 0, tzinfo=UTC)


@pytest.fixture
def window(qtbot, db, creds, accounts, now):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    win = MainWindow(ctx, None, QUndoStack(), clock=FakeClock(now))
    qtbot.addWidget(win)
    win.show()
    assert win.live is not None and win.live.wait_connected(5)
    qtbot.waitUntil(lambda: not win.calendar.loading(), timeout=5000)
    yield win
    win.stop_live()


def other_client(url: str, home: Path, *args: str) -> str:
    """`milton-desktop` in a process of its own, with a home of its own (another
    machine), on the same team database; its standard output."""
    env = {**os.environ, "MILTON_HOME": str(home), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "milton_desktop", "--database", url, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def local_day(when: datetime):
    return when.astimezone(display_zone()).date()


def test_a_post_scheduled_by_another_client_appears_on_the_calendar(
    qtbot, window, postgres_url, tmp_path, now
):
    home = tmp_path / "other-machine"
    post_id = json.loads(
        other_client(postgres_url, home, "post", "add", "--text", "From Bob", "--json")
    )["id"]
    when = (now + timedelta(days=2, hours=3)).isoformat()
    shown = other_client(
        postgres_url,
        home,
        "schedule",
        str(post_id),
        "--account",
        "Work LinkedIn",
        "--at",
        when,
        "--json",
    )
    sid = json.loads(shown)["id"]
    started = time.monotonic()
    cal = window.calendar
    qtbot.waitUntil(lambda: cal.model.item(sid) is not None, timeout=REACH_MS)
    assert cal.model.item(sid).day == local_day(now + timedelta(days=2, hours=3))
    print(f"reached the window in {time.monotonic() - started:.3f} s")


def test_a_reschedule_on_another_connection_moves_the_chip(qtbot, window, make_schedule, now):
    when = now + timedelta(days=1, hours=2)
    sched = make_schedule("Moved by a colleague", when)
    cal = window.calendar
    qtbot.waitUntil(lambda: cal.model.item(sched.id) is not None, timeout=REACH_MS)
    new_when = when + timedelta(days=3)

    def colleague() -> None:  # the operations, on a connection of their own
        with worker_connection():
            schedules.reschedule(sched.id, new_when, clock=FakeClock(now))

    thread = threading.Thread(target=colleague)
    thread.start()
    thread.join(10)
    qtbot.waitUntil(
        lambda: (it := cal.model.item(sched.id)) is not None and it.day == local_day(new_when),
        timeout=REACH_MS,
    )
    assert sched.id in cal.month_view.shown_ids(local_day(new_when))


def test_the_window_says_when_the_team_database_is_unreachable_and_catches_up(
    qtbot, window, postgres_url, make_schedule, now
):
    listener = window.live
    name = postgres_url.rsplit("/", 1)[1]
    base = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(base, autocommit=True) as admin:
        # nobody may connect for a while, and the listener's session is ended
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            admin.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
            qtbot.waitUntil(lambda: window.reach_label.isVisible(), timeout=REACH_MS)
            assert UNREACHABLE_TEXT in window.reach_label.text()
            assert window.reach_label.toolTip()
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    # back: the label goes, and what changed meanwhile shows
    sched = make_schedule("While it was away", now + timedelta(days=1))
    qtbot.waitUntil(lambda: not window.reach_label.isVisible(), timeout=15_000)
    qtbot.waitUntil(lambda: window.calendar.model.item(sched.id) is not None, timeout=REACH_MS)
    assert listener.connects >= 2


def test_a_window_destroyed_without_quitting_stops_listening(qtbot, db, creds, accounts, now):
    from shiboken6 import delete

    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    win = MainWindow(ctx, None, QUndoStack(), clock=FakeClock(now))
    listener = win.live
    assert listener is not None and listener.wait_connected(5)
    delete(win)
    qtbot.waitUntil(lambda: not listener.connected, timeout=REACH_MS)


def test_a_heartbeat_refreshes_only_the_status_bar(qtbot, window, monkeypatch):
    from milton_desktop.storage import settings

    calls = []
    monkeypatch.setattr(window.calendar, "refresh", lambda: calls.append("calendar"))
    monkeypatch.setattr(window, "refresh_status", lambda: calls.append("status"))
    settings.set_internal("heartbeat", {"at": "now"})
    qtbot.waitUntil(lambda: "status" in calls, timeout=REACH_MS)
    qtbot.wait(300)  # longer than the refresh debounce
    assert "calendar" not in calls


def test_a_running_scheduler_publishes_at_its_time_what_another_client_scheduled(
    qtbot, db, creds, postgres_url, tmp_path
):
    with FakeX() as fake:
        token = "x-live-token"
        fake.add_user("5000", "brand", "Brand", token=token)
        account = Account.create(
            platform="x",
            display_name="brand-x",
            username="brand",
            remote_id="5000",
            api_base=fake.url,
        )
        creds.save("x", account.id, Credential(token))
        # the watchdog is an hour away: only the notification can re-arm the timer
        runner = Runner(Engine(creds), interval_s=3600, auto_backup=False)
        try:
            runner.start()
            assert runner.listener is not None and runner.listener.wait_connected(5)
            qtbot.waitUntil(lambda: not runner.dispatcher.in_flight(), timeout=5000)
            home = tmp_path / "other-machine"
            at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
            pid = json.loads(
                other_client(postgres_url, home, "post", "add", "--text", "On time", "--json")
            )["id"]
            other_client(
                postgres_url,
                home,
                "schedule",
                str(pid),
                "--account",
                "brand-x",
                "--at",
                at.isoformat(),
            )
            qtbot.waitUntil(lambda: len(fake.tweets) == 1, timeout=10_000)
            published = datetime.now(UTC)
        finally:
            runner.stop(5)
    assert not runner.listener.connected  # stopped with the scheduler
    assert fake.tweets[0]["text"] == "On time"
    lateness = (published - at).total_seconds()
    assert -0.5 < lateness < 1.5, lateness
