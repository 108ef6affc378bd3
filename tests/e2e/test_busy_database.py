"""Another program holds the database's write lock for longer than Milton waits
(10 s): the result of a publish still lands, with its URL, once the lock is released,
even if the publishing process is killed meanwhile; commands that only read answer at
once; a command that must write says in one line that the database is busy."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Lines, wait_for
from tests.fakes.x import FakeX
from tests.storage.test_db import SCHEMA_6_COLUMNS

pytestmark = pytest.mark.slow

CREATE = r"POST /2/tweets"

HOLD = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
con.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.readline()
con.rollback()
"""


def hold_write_lock(db: Path) -> subprocess.Popen:
    """Another process that holds the write lock until :func:`release`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


@contextlib.contextmanager
def write_lock(db: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the write lock until the block ends."""
    holder = hold_write_lock(db)
    try:
        yield holder
    finally:
        release(holder)


def release(holder: subprocess.Popen) -> None:
    if holder.poll() is None:
        with contextlib.suppress(BrokenPipeError, OSError):
            holder.communicate("\n", timeout=30)


@pytest.fixture
def fake():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-busy-token-1")
        yield fake


def _due_post(cli, fake, text="a post that must not be lost") -> int:
    r = cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake.url,
        "--token-stdin",
        stdin="x-busy-token-1\n",
    )
    assert r.returncode == 0, r.stderr
    post = cli("post", "add", "--text", text).stdout.strip()
    when = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    r = cli("schedule", post, "--account", "hq", "--at", when)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def _row(cli, sid: int) -> dict:
    return next(r for r in json.loads(cli("list", "--json").stdout) if r["id"] == sid)


def _publishing_with_the_lock_held(cli, fake):
    """A `run --once` whose publish got its answer while another process holds the
    write lock, past the 10 s Milton waits for it: it says it keeps trying."""
    fake.inject(CREATE, mode="slow", delay=120)  # held until the test answers it
    runner = cli.spawn("run", "--once")
    err = Lines(runner)
    wait_for(lambda: fake.calls(CREATE), timeout=60)  # claimed, and sent
    holder = hold_write_lock(cli.home / "milton.sqlite3")
    try:
        fake.answer_held()
        wait_for(lambda: err.saying("cannot be recorded yet"), timeout=90)
    except BaseException:
        release(holder)
        runner.kill()
        err.finish()
        raise
    return runner, err, holder


def test_a_result_waits_out_a_long_write_lock_and_lands_with_its_url(cli, fake):
    sid = _due_post(cli, fake)
    runner, err, holder = _publishing_with_the_lock_held(cli, fake)
    try:
        assert runner.poll() is None  # still trying, not given up
        assert _row(cli, sid)["status"] == "publishing"  # a reader is not blocked meanwhile
    finally:
        release(holder)
    out = err.finish()
    assert runner.returncode == 0, err.text
    (tweet,) = fake.tweets
    row = _row(cli, sid)
    assert row["status"] == "published"
    assert row["url"] == f"https://x.com/miltonhq/status/{tweet['id']}"
    assert f"{sid}\tpublished" in out
    assert "result is recorded, after" in err.text
    assert "Traceback" not in err.text
    assert list((cli.home / "journal").glob("*")) == []


def test_a_result_kept_while_waiting_survives_a_kill_and_lands_at_the_next_run(cli, fake):
    sid = _due_post(cli, fake)
    runner, err, holder = _publishing_with_the_lock_held(cli, fake)
    try:
        assert list((cli.home / "journal").glob("*.json"))  # the answer is on disk
        runner.send_signal(signal.SIGKILL)
        err.finish()
    finally:
        release(holder)
    assert _row(cli, sid)["status"] == "publishing"

    r = cli("run", "--once")
    assert r.returncode == 0, r.stderr
    (tweet,) = fake.tweets  # recorded, not posted again
    row = _row(cli, sid)
    assert row["status"] == "published"
    assert row["url"] == f"https://x.com/miltonhq/status/{tweet['id']}"
    assert row["attempts"] == 1
    assert f"{sid}\tpublished" in r.stdout
    assert list((cli.home / "journal").glob("*")) == []
    assert len(fake.calls(CREATE)) == 1
    # and again: nothing changes, nothing is recorded twice
    assert cli("run", "--once").returncode == 0
    with sqlite3.connect(cli.home / "milton.sqlite3") as con:
        outcomes = [o for (o,) in con.execute("SELECT outcome FROM publishing_results")]
    assert outcomes == ["published"]


def test_reading_commands_answer_and_writing_ones_say_busy_in_one_line(cli, fake):
    sid = _due_post(cli, fake)
    with write_lock(cli.home / "milton.sqlite3"):
        for command in (
            ("list", "--json"),
            ("upcoming", "--json"),
            ("status", "--json"),
            ("post", "list", "--json"),
            ("account", "list", "--json"),
        ):
            r = cli(*command)
            assert r.returncode == 0, (command, r.stderr)
            json.loads(r.stdout)
            assert "Traceback" not in r.stderr
        for command in (("post", "add", "--text", "later"), ("cancel", str(sid))):
            r = cli(*command)
            assert r.returncode == 1, (command, r.stdout, r.stderr)
            (line,) = r.stderr.strip().splitlines()
            assert "is busy" in line and "try again in a moment" in line
        r = cli("run", "--once")
        assert r.returncode == 1
        assert "Traceback" not in r.stderr
        assert "is busy" in r.stderr
        assert "wait for the next run" in r.stderr
    assert fake.calls(CREATE) == []
    assert _row(cli, sid)["status"] == "pending"  # nothing was claimed: still to go
    assert cli("run", "--once").returncode == 0
    assert _row(cli, sid)["status"] == "published"


def test_a_database_that_needs_migrating_while_busy_says_so_in_one_line(cli, fake):
    _due_post(cli, fake)
    db = cli.home / "milton.sqlite3"
    with sqlite3.connect(db) as con:  # as the previous version left it
        con.execute("ALTER TABLE accounts DROP COLUMN require_approval")  # schema 13
        for column in ("created_by", "updated_by", "approved_by", "approved_at"):
            con.execute(f"ALTER TABLE scheduled_posts DROP COLUMN {column}")
        con.execute("ALTER TABLE recurrences DROP COLUMN created_by")
        con.execute("ALTER TABLE scheduled_posts DROP COLUMN claimed_machine")  # schema 12
        con.execute("DROP TABLE mail_outbox")  # schema 10
        con.execute("DROP INDEX voices_name")  # schema 9
        con.execute("DROP TABLE voices")
        con.execute("ALTER TABLE posts DROP COLUMN variants")
        con.execute("DROP INDEX scheduled_posts_account_id_scheduled_time")  # schema 7
        con.execute("DROP TABLE queue_slots")
        con.execute("ALTER TABLE accounts DROP COLUMN timezone")
        for table, column in SCHEMA_6_COLUMNS:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        con.execute("PRAGMA user_version = 5")
    with write_lock(db):
        r = cli("list")
        assert r.returncode == 1
        (line,) = r.stderr.strip().splitlines()
        assert "is busy" in line
    r = cli("list", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)[0]["status"] == "pending"


def test_a_scheduler_stopped_while_the_database_is_busy_keeps_the_result(cli, fake):
    sid = _due_post(cli, fake)
    fake.inject(CREATE, mode="slow", delay=120)
    runner = Lines(cli.spawn("run", "--interval", "0.5"))
    wait_for(lambda: fake.calls(CREATE), timeout=60)
    holder = hold_write_lock(cli.home / "milton.sqlite3")
    try:
        fake.answer_held()
        wait_for(lambda: runner.saying("cannot be recorded yet"), timeout=90)
        runner.proc.send_signal(signal.SIGTERM)  # a logout, a `systemctl stop`
        runner.finish(timeout=180)  # waits for in-flight publishes, but not for ever
        assert runner.proc.returncode == 0, runner.text
        assert runner.saying("recorded when Milton next starts")
        assert "Traceback" not in runner.text
        assert list((cli.home / "journal").glob("*.json"))
    finally:
        release(holder)
    r = cli("run", "--once")
    assert r.returncode == 0, r.stderr
    (tweet,) = fake.tweets
    row = _row(cli, sid)
    assert (row["status"], row["url"]) == (
        "published",
        f"https://x.com/miltonhq/status/{tweet['id']}",
    )
    assert list((cli.home / "journal").glob("*")) == []
