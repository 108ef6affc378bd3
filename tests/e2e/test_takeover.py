"""Whether a publish was interrupted is decided by whether its process is alive, not
by clocks: a second scheduler whose clock runs 45 minutes ahead (libfaketime) leaves a
live publish alone, a killed one's row is recovered at once whatever the clocks, and a
success that lands after its row was marked uncertain anyway is kept: published, with
its URL, and the user is told."""

from __future__ import annotations

import json
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import Lines, wait_for
from tests.e2e.test_clock_jump import LIBFAKETIME
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

CREATE = r"POST /2/tweets"


@pytest.fixture
def fake():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-takeover-token-1")
        yield fake


def _due_post(cli, fake) -> int:
    r = cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake.url,
        "--token-stdin",
        stdin="x-takeover-token-1\n",
    )
    assert r.returncode == 0, r.stderr
    post = cli("post", "add", "--text", "published by the first scheduler").stdout.strip()
    when = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    r = cli("schedule", post, "--account", "hq", "--at", when)
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def _mid_publish(cli, fake) -> Lines:
    """A `run --once` that has claimed the post and sent it; the platform holds the answer."""
    fake.inject(CREATE, mode="slow", delay=120)
    runner = Lines(cli.spawn("run", "--once"))
    wait_for(lambda: fake.calls(CREATE), timeout=60)
    return runner


def _shifted(cli, offset: str, *args: str):
    """Run the CLI with its wall clock shifted by ``offset`` (``+45m``, ``-2h``)."""
    saved = dict(cli.env)
    cli.env.update(LD_PRELOAD=str(LIBFAKETIME), FAKETIME=offset, FAKETIME_DONT_FAKE_MONOTONIC="1")
    try:
        return cli(*args)
    finally:
        cli.env.clear()
        cli.env.update(saved)


def _row(cli, sid: int) -> dict:
    return next(r for r in json.loads(cli("list", "--json").stdout) if r["id"] == sid)


def _results(home: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(home / "milton.sqlite3") as con:
        return con.execute(
            "SELECT outcome, error_kind FROM publishing_results ORDER BY id"
        ).fetchall()


needs_faketime = pytest.mark.skipif(
    LIBFAKETIME is None, reason="libfaketime is not installed (scripts/setup.sh --dev installs it)"
)


@needs_faketime
def test_a_scheduler_whose_clock_runs_ahead_leaves_a_live_publish_alone(cli, fake):
    sid = _due_post(cli, fake)
    first = _mid_publish(cli, fake)
    try:
        second = _shifted(cli, "+45m", "run", "--once")
        assert second.returncode == 0, second.stderr
        assert str(sid) not in second.stdout
        assert _row(cli, sid)["status"] == "publishing"
        assert _results(cli.home) == []
    finally:
        fake.answer_held()
        out = first.finish()
    assert first.proc.returncode == 0, first.text
    (tweet,) = fake.tweets
    row = _row(cli, sid)
    assert row["status"] == "published"
    assert row["url"] == f"https://x.com/miltonhq/status/{tweet['id']}"
    assert row["warning"] is None
    assert f"{sid}\tpublished" in out
    assert _results(cli.home) == [("published", None)]


@needs_faketime
@pytest.mark.parametrize("offset", ["-45m", "+45m"])
def test_a_killed_claimers_row_is_recovered_at_once_whatever_the_clocks(cli, fake, offset):
    sid = _due_post(cli, fake)
    first = _mid_publish(cli, fake)
    first.proc.send_signal(signal.SIGKILL)
    first.finish()
    r = _shifted(cli, offset, "run", "--once")
    assert r.returncode == 1  # a post the user must check
    assert f"{sid}\tuncertain" in r.stdout
    row = _row(cli, sid)
    assert row["status"] == "uncertain"
    assert "may or may not" in row["error"]
    assert len(fake.calls(CREATE)) == 1  # never sent again
    # the dead process's lock file went with its recovery
    assert list((cli.home / "workers").glob("*.lock")) == []


def test_a_success_that_lands_after_its_row_was_marked_uncertain_is_kept(cli, fake):
    sid = _due_post(cli, fake)
    first = _mid_publish(cli, fake)
    try:
        # what another machine's scheduler, or an older version, would do meanwhile
        with sqlite3.connect(cli.home / "milton.sqlite3") as con:
            con.execute(
                "UPDATE scheduled_posts SET status = 'uncertain', error_message ="
                " 'publishing was interrupted (the app stopped mid-publish)' WHERE id = ?",
                (sid,),
            )
        assert _row(cli, sid)["status"] == "uncertain"
    finally:
        fake.answer_held()
        out = first.finish()
    assert first.proc.returncode == 0, first.text
    (tweet,) = fake.tweets
    row = _row(cli, sid)
    assert row["status"] == "published"
    assert row["url"] == f"https://x.com/miltonhq/status/{tweet['id']}"
    assert row["published_at"]
    assert "marked uncertain earlier, but it did publish" in row["warning"]
    assert row["error"] is None
    assert f"{sid}\tpublished" in out
    assert "had been marked uncertain meanwhile, but it did publish" in first.text
    # nothing is left for the user to resolve
    r = cli("resolve", str(sid), "--published")
    assert r.returncode == 2
    assert "uncertain" in r.stderr
