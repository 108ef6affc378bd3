"""The wall clock of a running scheduler jumps, as after sleep and wake, under
libfaketime (the monotonic clock stays real, as it does across a suspend): posts
inside the grace window go out once, those beyond become missed, and a jump back
publishes nothing twice."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

LIBFAKETIME = next(
    (
        p
        for p in (
            Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"),
            Path("/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"),
            Path("/usr/lib/faketime/libfaketime.so.1"),
        )
        if p.exists()
    ),
    None,
)


@pytest.mark.skipif(
    LIBFAKETIME is None, reason="libfaketime is not installed (scripts/setup.sh --dev installs it)"
)
def test_sleep_and_wake_forward_then_back(cli, tmp_path):
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-clock-token-1")
        assert (
            cli(
                "account",
                "add",
                "x",
                "--name",
                "hq",
                "--api-base",
                fake.url,
                "--token-stdin",
                stdin="x-clock-token-1\n",
            ).returncode
            == 0
        )
        now = datetime.now(UTC)
        ids = {}
        for name, offset in (("late-but-in-grace", 90), ("too-late", 30), ("future", 300)):
            pid = cli("post", "add", "--text", name).stdout.strip()
            at = (now + timedelta(minutes=offset)).isoformat().replace("+00:00", "Z")
            ids[name] = int(cli("schedule", pid, "--account", "hq", "--at", at).stdout)

        control = tmp_path / "faketime"
        control.write_text("+0\n")
        env = {
            "LD_PRELOAD": str(LIBFAKETIME),
            "FAKETIME_TIMESTAMP_FILE": str(control),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        }
        saved = dict(cli.env)
        cli.env.update(env)
        runner = cli.spawn("run", "--interval", "0.5")
        cli.env.clear()
        cli.env.update(saved)
        try:
            time.sleep(2.0)
            assert fake.tweets == []  # nothing is due yet
            control.write_text("+3h\n")  # the laptop wakes three hours later
            wait_for(lambda: len(fake.tweets) == 1, timeout=20)
            time.sleep(1.5)
            control.write_text("+2h\n")  # and the clock is corrected back an hour
            time.sleep(2.5)
        finally:
            runner.send_signal(signal.SIGTERM)
            _out, err = runner.communicate(timeout=30)
        assert runner.returncode == 0, err

    assert [t["text"] for t in fake.tweets] == ["late-but-in-grace"]
    rows = {r["id"]: r for r in json.loads(cli("list", "--json").stdout)}
    assert rows[ids["late-but-in-grace"]]["status"] == "published"
    assert rows[ids["late-but-in-grace"]]["attempts"] == 1
    assert rows[ids["too-late"]]["status"] == "missed"
    assert "Publish it now, reschedule it, or skip it" in rows[ids["too-late"]]["error"]
    assert rows[ids["future"]]["status"] == "pending"
