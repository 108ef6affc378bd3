"""Two schedulers on one database at the same moment: every post is published once."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import wait_for
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow


@pytest.fixture
def fake():
    with FakeX(posts_per_window=1000) as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-conc-token-1")
        fake.add_user("99", "second", "Second", token="x-conc-token-2")
        yield fake


def _setup(cli, fake, n=8):
    for name, token in (("a", "x-conc-token-1"), ("b", "x-conc-token-2")):
        assert (
            cli(
                "account",
                "add",
                "x",
                "--name",
                name,
                "--api-base",
                fake.url,
                "--token-stdin",
                stdin=token + "\n",
            ).returncode
            == 0
        )
    when = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    for i in range(n):
        pid = cli("post", "add", "--text", f"post number {i}").stdout.strip()
        assert cli("schedule", pid, "--account", "ab"[i % 2], "--at", when).returncode == 0
    time.sleep(1.1)


def test_two_once_runs_started_together_publish_each_post_once(cli, fake):
    _setup(cli, fake)
    procs = [cli.spawn("run", "--once") for _ in range(3)]
    for p in procs:
        p.communicate(timeout=60)
    texts = [t["text"] for t in fake.tweets]
    assert sorted(texts) == sorted(f"post number {i}" for i in range(8))
    rows = json.loads(cli("list", "--json").stdout)
    assert {r["status"] for r in rows} == {"published"}
    assert all(r["attempts"] == 1 for r in rows)


def test_a_running_scheduler_and_a_once_run_publish_each_post_once(cli, fake):
    runner = cli.spawn("run", "--interval", "0.5")
    try:
        _setup(cli, fake)
        once = cli("run", "--once")
        assert once.returncode == 0, once.stderr
        wait_for(lambda: len(fake.tweets) >= 8, timeout=30)
        time.sleep(1.0)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.communicate(timeout=30)
    assert len(fake.tweets) == 8
    assert len({t["text"] for t in fake.tweets}) == 8
