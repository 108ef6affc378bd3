"""A team database tells its clients what changed (LISTEN/NOTIFY), on a real server."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from milton_desktop.storage import live
from milton_desktop.storage.db import SCHEMA_VERSION, close_database, open_database
from milton_desktop.storage.live import Change, ChangeListener
from milton_desktop.storage.models import ALL_MODELS, Account, Post


class Received:
    """What a listener handed over, waited for from the test's thread."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.states: list[tuple[bool, str]] = []
        self._cond = threading.Condition()

    def on_change(self, change: Change) -> None:
        with self._cond:
            self.changes.append(change)
            self._cond.notify_all()

    def on_state(self, connected: bool, message: str) -> None:
        with self._cond:
            self.states.append((connected, message))
            self._cond.notify_all()

    def seen(self) -> set[str]:
        with self._cond:
            return set().union(*(c.what for c in self.changes))

    def wait_for(self, test, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not test():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not in {timeout} s: {self.changes} {self.states}")
                self._cond.wait(left)


@pytest.fixture
def team(postgres_url):
    open_database(postgres_url)
    yield postgres_url
    close_database()


@pytest.fixture
def listening(team):
    got = Received()
    listener = live.listener_for_open_database(got.on_change, got.on_state, backoff_s=(0.1, 0.5))
    assert listener is not None
    listener.start()
    assert listener.wait_connected(5)
    yield listener, got
    listener.stop()


def _triggers(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE t.tgname = %s AND NOT t.tgisinternal",
            (live.TRIGGER,),
        ).fetchall()
    return {name for (name,) in rows}


def test_every_table_of_a_new_team_database_notifies_its_changes(team):
    assert _triggers(team) == {m._meta.table_name for m in ALL_MODELS}


def test_a_team_database_at_schema_13_gets_the_triggers_when_upgraded(postgres_url):
    open_database(postgres_url)
    close_database()
    with psycopg.connect(postgres_url) as conn:  # what schema 13 made: no triggers
        for model in ALL_MODELS:
            conn.execute(f'DROP TRIGGER {live.TRIGGER} ON "{model._meta.table_name}"')
        conn.execute("DROP FUNCTION milton_notify_change(), milton_notify_setting()")
        conn.execute("UPDATE milton_schema SET version = 13")
    assert _triggers(postgres_url) == set()

    open_database(postgres_url)
    close_database()
    assert _triggers(postgres_url) == {m._meta.table_name for m in ALL_MODELS}
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM milton_schema").fetchone() == (SCHEMA_VERSION,)


def test_a_sqlite_database_has_no_listener(db):
    assert live.listener_for_open_database(lambda change: None) is None


def test_a_change_on_another_connection_reaches_the_listener(listening, team):
    _listener, got = listening
    with psycopg.connect(team, autocommit=True) as other:  # another client
        other.execute(
            "INSERT INTO accounts (platform, display_name, username, remote_id, api_base,"
            " status, created_at, profile_name)"
            " VALUES ('x', 'brand-x', '', '1', '', 'connected', '', '')"
        )
    got.wait_for(lambda: "accounts" in got.seen())


def _set(url: str, key: str, value: str) -> None:
    with psycopg.connect(url, autocommit=True) as other:
        other.execute(
            "INSERT INTO settings (key, value) VALUES (%s, %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (key, value),
        )


def test_writes_name_their_tables_and_setting_keys(listening, team):
    _listener, got = listening
    Post.create(body="hello")
    _set(team, "timezone", '"Europe/Paris"')
    _set(team, "_heartbeat", '{"at": "now"}')
    got.wait_for(lambda: {"posts", "settings:timezone", "settings:_heartbeat"} <= got.seen())
    assert live.is_internal_setting("settings:_heartbeat")
    assert not live.is_internal_setting("settings:timezone")
    assert Change(frozenset({"settings:_heartbeat"}), 1).only(live.is_internal_setting)


def test_a_burst_of_1000_changes_is_handed_over_in_a_few_calls(listening, team):
    _listener, got = listening
    started = time.monotonic()
    with psycopg.connect(team, autocommit=True) as other:
        for i in range(1000):  # one transaction each: 1 000 notifications
            other.execute(
                "INSERT INTO posts (body, voice, created_at, updated_at,"
                " follow_ups, follow_up_delay) VALUES (%s, '', '', '', '[]', 0)",
                (f"post {i}",),
            )
    took = time.monotonic() - started
    got.wait_for(lambda: sum(c.count for c in got.changes) >= 1000, timeout=5)
    calls = len(got.changes)
    # one call per max-delay period at most while the burst lasts, plus the last one
    assert calls <= int(took / live.MAX_DELAY_S) + 2, (calls, took)
    assert got.seen() == {"posts"}


def test_a_single_change_is_handed_over_within_the_settle_time(listening):
    _listener, got = listening
    started = time.monotonic()
    Account.create(platform="x", display_name="brand-x", remote_id="1")
    got.wait_for(lambda: "accounts" in got.seen())
    assert time.monotonic() - started < live.SETTLE_S + 0.5


def test_the_listener_says_when_its_connection_is_lost_and_resumes(listening, team):
    listener, got = listening
    pid = listener.backend_pid
    assert pid is not None
    with psycopg.connect(team, autocommit=True) as admin:  # the server ends the session
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    got.wait_for(lambda: bool(got.states) and got.states[0][0] is False, timeout=5)
    assert "terminat" in got.states[0][1] or "closed" in got.states[0][1]
    got.wait_for(lambda: got.states[-1:] == [(True, "")], timeout=5)
    # the changes lost meanwhile: the receiver is told to read everything again
    got.wait_for(lambda: any(c.everything for c in got.changes), timeout=2)
    assert listener.connects == 2 and listener.backend_pid != pid
    Post.create(body="after the reconnect")
    got.wait_for(lambda: "posts" in got.seen())


def test_the_listener_retries_while_the_server_is_unreachable(team):
    got = Received()
    # a port nothing listens on: the listener keeps trying, says so once, never blocks
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    listener = ChangeListener(
        f"postgresql://nobody@127.0.0.1:{port}/none",
        got.on_change,
        got.on_state,
        connect_params={"connect_timeout": 1},
        backoff_s=(0.05, 0.2),
    )
    listener.start()
    got.wait_for(lambda: bool(got.states), timeout=5)
    time.sleep(0.5)
    started = time.monotonic()
    listener.stop()
    assert time.monotonic() - started < 1.5
    assert got.states[0][0] is False and len(got.states) == 1  # said once, not per retry
    assert not listener.connected


def test_stop_returns_promptly_while_listening(listening):
    listener, _got = listening
    started = time.monotonic()
    listener.stop()
    assert time.monotonic() - started < live.POLL_S + 0.5
    assert not listener.connected


def _pg_ctl() -> str | None:
    import glob
    import shutil

    found = shutil.which("pg_ctl")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return candidates[-1] if candidates else None


def test_the_listener_survives_a_server_restart(listening, team):
    """The whole server goes down and comes back (``pg_ctl restart``, as an upgrade or
    a crash would): the listener says so, reconnects and hears the next change."""
    import os
    import pwd
    import subprocess
    from pathlib import Path

    folder = os.environ.get("MILTON_TEST_POSTGRES_DIR")
    pg_ctl = _pg_ctl()
    if not folder or pg_ctl is None:
        pytest.skip("needs the test server started by scripts/test-postgres.sh")
    data = Path(folder) / "data"
    command = [pg_ctl, "-D", str(data), "-l", f"{folder}/server.log", "-w", "-t", "60"]
    command += ["-m", "fast", "restart"]
    if os.geteuid() == 0:  # the server runs as its data folder's owner, never as root
        command = ["runuser", "-u", pwd.getpwuid(data.stat().st_uid).pw_name, "--", *command]
    listener, got = listening
    subprocess.run(command, check=True, capture_output=True, timeout=90)
    got.wait_for(lambda: bool(got.states) and got.states[0][0] is False, timeout=10)
    got.wait_for(lambda: got.states[-1:] == [(True, "")], timeout=30)
    assert listener.connects >= 2
    with psycopg.connect(team, autocommit=True) as other:  # the app's own connection died
        other.execute(
            "INSERT INTO posts (body, voice, created_at, updated_at, follow_ups,"
            " follow_up_delay) VALUES ('after the restart', '', '', '', '[]', 0)"
        )
    got.wait_for(lambda: "posts" in got.seen())
