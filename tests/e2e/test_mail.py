"""Email notifications from a real `milton-desktop run`: a dead mail server costs the
publishes nothing and shows in `status`; a live one gets exactly one mail per outcome."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import wait_for
from tests.fakes.smtp import FakeSmtp, dead_port
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

X_TOKEN = "x-token-e2e-mail-0001"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token=X_TOKEN)
        yield fake


def _add_account(cli, fake_x):
    r = cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake_x.url,
        "--token-stdin",
        stdin=X_TOKEN + "\n",
    )
    assert r.returncode == 0, r.stderr


def _mail_on(cli, port):
    r = cli(
        "notify",
        "email",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        "none",
        "--from",
        "milton@example.com",
        "--to",
        "me@example.com",
    )
    assert r.returncode == 0, r.stderr


def _post_at(cli, text, when):
    r = cli("post", "add", "--text", text)
    assert r.returncode == 0, r.stderr
    r = cli("schedule", r.stdout.strip(), "--account", "hq", "--at", _iso(when))
    assert r.returncode == 0, r.stderr
    return int(r.stdout)


def _status(cli):
    r = cli("status", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_dead_mail_server_leaves_publishing_on_time(cli, fake_x):
    _add_account(cli, fake_x)
    _mail_on(cli, dead_port())
    when = datetime.now(UTC) + timedelta(seconds=3)
    _post_at(cli, "Out on time whatever the mail server does", when)
    runner = cli.spawn("run", "--interval", "60")
    try:
        tweet = wait_for(lambda: fake_x.tweets, timeout=30)[0]
        arrival = datetime.fromtimestamp(fake_x.calls(r"POST /2/tweets")[0].received_at, UTC)
        mail = wait_for(lambda: _status(cli)["mail"]["last_error"] and _status(cli)["mail"])
    finally:
        runner.send_signal(signal.SIGTERM)
        _out, err = runner.communicate(timeout=30)
    assert runner.returncode == 0, err
    assert tweet["text"] == "Out on time whatever the mail server does"
    assert (arrival - when) < timedelta(seconds=1.5), arrival - when
    assert mail["pending"] == 1 and "connection was refused" in mail["last_error"]
    r = cli("list", "--json")
    assert [row["status"] for row in json.loads(r.stdout)] == ["published"]
    r = cli("status")
    assert "mail:      1 waiting for a retry (last error: cannot connect to 127.0.0.1" in r.stdout


def test_one_publish_and_one_failure_make_one_mail_each(cli, fake_x):
    with FakeSmtp() as smtp:
        _add_account(cli, fake_x)
        _mail_on(cli, smtp.port)
        fake_x.inject("POST /2/tweets", status=403, skip=1)  # the second create is refused
        now = datetime.now(UTC)
        good = _post_at(cli, "The one that goes out", now + timedelta(seconds=2))
        bad = _post_at(cli, "The one that is refused", now + timedelta(seconds=3))
        runner = cli.spawn("run", "--interval", "60")
        try:
            wait_for(lambda: len(smtp.messages) >= 2, timeout=40)
            time.sleep(1.5)  # nothing more arrives
        finally:
            runner.send_signal(signal.SIGTERM)
            _out, err = runner.communicate(timeout=30)
        assert runner.returncode == 0, err
        subjects = sorted(m["Subject"] for m in smtp.messages)
        assert subjects == [
            "Could not publish on X: The one that is refused",
            "Published on X: The one that goes out",
        ]
        assert len(smtp.received) == 2
        published = next(m for m in smtp.messages if m["Subject"].startswith("Published"))
        assert f"Schedule {good}." in published.get_content()
        failed = next(m for m in smtp.messages if m["Subject"].startswith("Could not"))
        assert f"milton-desktop publish-now {bad}" in failed.get_content()
        mail = _status(cli)["mail"]
        assert (mail["sent"], mail["pending"], mail["failed"], mail["unknown"]) == (2, 0, 0, 0)
