"""A user's whole path through the command line, against fake platforms over real HTTP:
add an account (token in the real keyring), write a post, schedule it a couple of
seconds ahead, let `run` publish it at its instant, and read the result back."""

from __future__ import annotations

import json
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import wait_for
from tests.fakes.instagram import FakeInstagram, MediaHost
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jpeg(width=1080, height=1080) -> bytes:
    from tests.publishers.test_instagram import make_jpeg  # a real baseline JPEG

    return make_jpeg(width, height)


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-token-e2e-0001")
        yield fake


def test_schedule_and_run_publishes_once_at_its_instant(cli, fake_x):
    r = cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake_x.url,
        "--token-stdin",
        stdin="x-token-e2e-0001\n",
    )
    assert r.returncode == 0, r.stderr
    assert "miltonhq" in r.stdout
    r = cli("post", "add", "--text", "Shipping v2 today (finally) https://example.com/blog")
    assert r.returncode == 0, r.stderr
    post_id = int(r.stdout)

    runner = cli.spawn("run", "--test", "--interval", "5")
    try:
        time.sleep(0.5)
        when = datetime.now(UTC) + timedelta(seconds=2.5)
        r = cli("schedule", str(post_id), "--account", "hq", "--at", _iso(when))
        assert r.returncode == 0, r.stderr
        # `run` picks up rows written by another process on its watchdog tick, then
        # fires at the instant itself; allow for a busy machine but expect promptness.
        tweet = wait_for(lambda: fake_x.tweets, timeout=20)[0]
        arrival = datetime.fromtimestamp(fake_x.calls(r"POST /2/tweets")[0].received_at, UTC)
        time.sleep(1.0)
    finally:
        runner.send_signal(signal.SIGTERM)
        _out, err = runner.communicate(timeout=30)
    assert runner.returncode == 0, err
    assert len(fake_x.tweets) == 1
    assert tweet["text"] == "Shipping v2 today (finally) https://example.com/blog"
    assert arrival >= when - timedelta(milliseconds=5)
    assert (arrival - when) < timedelta(seconds=6)  # watchdog tick of 5 s at most, then on time

    r = cli("list", "--json")
    (row,) = json.loads(r.stdout)
    assert row["status"] == "published"
    assert row["url"] == f"https://x.com/miltonhq/status/{tweet['id']}"
    assert row["remote_id"] == tweet["id"]
    assert row["attempts"] == 1


def test_run_fires_at_the_instant_for_rows_known_at_start(cli, fake_x):
    cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake_x.url,
        "--token-stdin",
        stdin="x-token-e2e-0001\n",
    )
    cli("post", "add", "--text", "on the dot")
    when = datetime.now(UTC) + timedelta(seconds=3)
    assert cli("schedule", "1", "--account", "hq", "--at", _iso(when)).returncode == 0
    runner = cli.spawn("run", "--interval", "60")
    try:
        wait_for(lambda: fake_x.tweets, timeout=20)
        arrival = datetime.fromtimestamp(fake_x.calls(r"POST /2/tweets")[0].received_at, UTC)
    finally:
        runner.send_signal(signal.SIGINT)
        runner.communicate(timeout=30)
    assert runner.returncode == 0
    lateness = (arrival - when).total_seconds()
    assert -0.005 <= lateness < 1.5, lateness  # a fraction of a second, not the next poll


def test_once_publishes_due_posts_on_every_platform(cli, tmp_path):
    with FakeLinkedIn() as li, FakeInstagram() as ig, MediaHost() as cdn, FakeX() as x:
        li_token = li.add_member("782bbtaQ", "Jo Writer")
        ig.add_token("IGAA-e2e-token-0001", user_id="17841400008460056", username="milton.studio")
        x.add_user("2244994945", "miltonhq", "Milton HQ", token="x-token-e2e-0001")
        image_url = cdn.add("/img/launch.jpg", _jpeg())
        for platform, name, base, token in (
            ("linkedin", "li", li.url, li_token),
            ("instagram", "ig", ig.url, "IGAA-e2e-token-0001"),
            ("x", "x", x.url, "x-token-e2e-0001"),
        ):
            r = cli(
                "account",
                "add",
                platform,
                "--name",
                name,
                "--api-base",
                base,
                "--token-stdin",
                stdin=token + "\n",
            )
            assert r.returncode == 0, r.stderr
        r = cli(
            "post",
            "add",
            "--text",
            "Launch day #milton (v2) [beta]",
            "--media-url",
            image_url,
            "--alt",
            "The launch poster",
        )
        post_id = r.stdout.strip()
        soon = _iso(datetime.now(UTC) + timedelta(seconds=1))
        for name in ("li", "ig", "x"):
            r = cli("schedule", post_id, "--account", name, "--at", soon)
            assert r.returncode == 0, r.stderr
        time.sleep(1.2)
        r = cli("run", "--once")
        assert r.returncode == 0, r.stdout + r.stderr
        rows = {row["account"]: row for row in json.loads(cli("list", "--json").stdout)}
        assert {n: rows[n]["status"] for n in rows} == {
            "li": "published",
            "ig": "published",
            "x": "published",
        }
        assert (
            len(li.posts) == 1
            and li.posts[0]["commentary_decoded"] == "Launch day #milton (v2) [beta]"
        )
        assert li.posts[0]["truncated_at"] is None
        assert rows["li"]["url"].startswith("https://www.linkedin.com/feed/update/urn:li:")
        assert len(ig.published) == 1
        assert rows["ig"]["url"].startswith("https://www.instagram.com/")
        assert len(x.tweets) == 1
        # Running again publishes nothing more.
        assert cli("run", "--once").returncode == 0
        assert (len(li.posts), len(ig.published), len(x.tweets)) == (1, 1, 1)


def test_account_add_with_a_refused_token_writes_nothing(cli, fake_x):
    r = cli(
        "account",
        "add",
        "x",
        "--name",
        "hq",
        "--api-base",
        fake_x.url,
        "--token-stdin",
        stdin="wrong-token\n",
    )
    assert r.returncode == 1
    assert "refused the token" in r.stderr
    assert json.loads(cli("account", "list", "--json").stdout) == []


def _scheduler_running(cli) -> bool:
    """What `status --json` says, False while it cannot say yet (the first `run` of a
    new home may still be creating the database when it is asked)."""
    r = cli("status", "--json")
    return r.returncode == 0 and bool(json.loads(r.stdout)["scheduler"]["running"])


def test_second_run_refuses_while_one_is_running(cli, fake_x):
    first = cli.spawn("run", "--interval", "60")
    try:
        wait_for(lambda: _scheduler_running(cli), timeout=20)
        r = cli("run", "--interval", "60", timeout=30)
        assert r.returncode == 1 and "already running" in r.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert first.returncode == 0
    assert json.loads(cli("status", "--json").stdout)["scheduler"]["running"] is False
