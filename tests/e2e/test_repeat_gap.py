"""Repeats through real processes: a daily repeat made with `schedule --repeat`, then
`run --once` thirty days later (libfaketime moves that process's clock) accounts for
every occurrence; a rule that cannot go on is stopped, and `run`, `status` and `list`
say so."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_clock_jump import LIBFAKETIME
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

PARIS = ZoneInfo("Europe/Paris")
TOKEN = "x-repeat-token-0001"


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token=TOKEN)
        yield fake


@pytest.fixture
def hq(cli, fake_x):
    r = cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake_x.url,
        "--token-stdin",
        stdin=f"{TOKEN}\n",
    )
    assert r.returncode == 0, r.stderr
    return "hq"


def _rows(cli, post_id: int) -> list[dict]:
    r = cli("list", "--json")
    assert r.returncode == 0, r.stderr
    return [row for row in json.loads(r.stdout) if row["post_id"] == post_id]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.skipif(
    LIBFAKETIME is None, reason="libfaketime is not installed (scripts/setup.sh --dev installs it)"
)
def test_a_daily_repeat_and_thirty_days_off_every_occurrence_is_accounted_for(cli, hq, fake_x):
    post_id = int(cli("post", "add", "--text", "Tip of the day").stdout)
    # three hours from now, on the minute, in Paris: every day at that wall-clock time
    first = (
        (datetime.now(UTC) + timedelta(hours=3))
        .astimezone(PARIS)
        .replace(second=0, microsecond=0, tzinfo=None)
    )
    r = cli(
        "schedule",
        str(post_id),
        "--account",
        hq,
        "--at",
        f"{first:%Y-%m-%dT%H:%M}",
        "--tz",
        "Europe/Paris",
        "--repeat",
        "FREQ=DAILY",
    )
    assert r.returncode == 0, r.stderr
    assert len(_rows(cli, post_id)) == 21  # three weeks ahead exist as rows

    saved = dict(cli.env)
    cli.env.update(
        {
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME": "+30d",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }
    )
    try:
        r = cli("run", "--once", timeout=120)
    finally:
        cli.env.clear()
        cli.env.update(saved)
    assert r.returncode == 0, r.stderr

    def at(day: int) -> datetime:
        return (first + timedelta(days=day)).replace(tzinfo=PARIS).astimezone(UTC)

    rows = sorted(_rows(cli, post_id), key=lambda row: row["scheduled_time"])
    missed = [row for row in rows if row["status"] == "missed"]
    assert [_utc(row["scheduled_time"]) for row in missed] == [at(d) for d in range(30)]
    assert all("Publish it now, reschedule it, or skip it" in row["error"] for row in missed)
    reported = {int(line.split("\t")[0]) for line in r.stdout.splitlines() if "\tmissed\t" in line}
    assert reported == {row["id"] for row in missed}  # run --once told of each one
    pending = [row for row in rows if row["status"] == "pending"]
    assert _utc(pending[0]["scheduled_time"]) == at(30)  # the next one, at the same local time
    assert _utc(pending[0]["scheduled_time"]).astimezone(PARIS).strftime("%H:%M") == (
        f"{first:%H:%M}"
    )
    assert {row["status"] for row in rows} == {"missed", "pending"}
    assert fake_x.tweets == []  # nothing went out weeks late


def _store_rule(home: Path, post_id: int, account: str, rrule: str) -> None:
    """Write a repeat straight into the database, as an older version (or a hand) did."""
    from milton_desktop.storage.db import close_database, open_database
    from milton_desktop.storage.models import Account, Recurrence

    open_database(home / "milton.sqlite3")
    try:
        Recurrence.create(
            post=post_id,
            account=Account.get(Account.display_name == account),
            rrule=rrule,
            dtstart_local=(datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT10:00:00"),
            timezone="Europe/Paris",
        )
    finally:
        close_database()


def test_a_stored_rule_that_cannot_go_on_is_stopped_and_said_everywhere(cli, hq, fake_x):
    post_id = int(cli("post", "add", "--text", "Weekly digest").stdout)
    _store_rule(cli.home, post_id, hq, "FREQ=DAILY;INTERVAL=0")

    r = cli("run", "--once")
    assert r.returncode == 1, r.stderr  # like a failed post: something needs the user
    (line,) = [line for line in r.stdout.splitlines() if "\tfailed\t" in line]
    assert f"the repeat of post {post_id} (FREQ=DAILY;INTERVAL=0) stopped" in line
    assert "INTERVAL must be a whole number of at least 1" in line

    r = cli("status")
    assert r.returncode == 0, r.stderr
    (stopped,) = [line for line in r.stdout.splitlines() if line.startswith("stopped:")]
    assert "INTERVAL must be a whole number of at least 1" in stopped
    assert f"milton-desktop schedule {post_id} --account hq --at TIME --repeat RULE" in stopped

    data = json.loads(cli("status", "--json").stdout)
    (entry,) = data["stopped_repeats"]
    assert entry["post_id"] == post_id and entry["account"] == "hq"
    assert "INTERVAL must be" in entry["reason"]
    (row,) = _rows(cli, post_id)
    assert (row["id"], row["status"], row["error"]) == (
        entry["schedule_id"],
        "failed",
        entry["reason"],
    )

    # told once, not on every run
    r = cli("run", "--once")
    assert r.returncode == 0 and "\tfailed\t" not in r.stdout

    # a new repeat of the post is what the message asks for; then the stop is settled
    when = (datetime.now(UTC) + timedelta(days=1)).astimezone(PARIS)
    r = cli(
        "schedule",
        str(post_id),
        "--account",
        hq,
        "--at",
        f"{when:%Y-%m-%dT10:00}",
        "--tz",
        "Europe/Paris",
        "--repeat",
        "FREQ=DAILY",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(cli("status", "--json").stdout)["stopped_repeats"] == []
    assert not [line for line in cli("status").stdout.splitlines() if line.startswith("stopped:")]
    assert fake_x.tweets == []
