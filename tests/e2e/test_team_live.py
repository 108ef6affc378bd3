"""Two machines on a team database, as real processes: a `run` scheduler on one publishes
at its time a post the other scheduled three seconds ahead, re-armed by the change's
notification (its watchdog is an hour away, so no poll could have found it in time)."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Cli, Lines, wait_for
from tests.fakes.x import FakeX


def _log(cli: Cli) -> str:
    return "".join(p.read_text("utf-8", "replace") for p in cli.home.rglob("milton.log"))


def test_run_publishes_on_time_what_another_machine_scheduled(cli, postgres_url, tmp_path):
    team = ("--database", postgres_url)
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-token-live-0001")
        added = cli(
            *team,
            "account",
            "add",
            "x",
            "--name",
            "hq",
            "--api-base",
            fake.url,
            "--token-stdin",
            stdin="x-token-live-0001\n",
        )
        assert added.returncode == 0, added.stderr
        runner = Lines(cli.spawn(*team, "run", "--interval", "3600"))
        try:
            wait_for(lambda: "listening for the team database" in _log(cli), timeout=30)
            other = Cli(tmp_path / "bob")  # another machine: its own home, no token
            made = other(*team, "post", "add", "--text", "Bob's post", "--json")
            assert made.returncode == 0, made.stderr
            when = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
            scheduled = other(
                *team,
                "schedule",
                str(json.loads(made.stdout)["id"]),
                "--account",
                "hq",
                "--at",
                when.isoformat(),
            )
            assert scheduled.returncode == 0, scheduled.stderr
            wait_for(lambda: fake.tweets, timeout=20)
            arrival = datetime.fromtimestamp(fake.calls(r"POST /2/tweets")[0].received_at, UTC)
        finally:
            runner.proc.send_signal(signal.SIGINT)
            runner.finish(timeout=30)
    assert runner.proc.returncode == 0, runner.text
    assert [t["text"] for t in fake.tweets] == ["Bob's post"]
    lateness = (arrival - when).total_seconds()
    assert -0.005 <= lateness < 1.5, lateness
