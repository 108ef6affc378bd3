"""Threads end to end through the real command line, against FakeThreads over HTTP:
connect with a pasted token, post an image with alt text, schedule, `run --once`,
published once with the post's permalink; and a publish whose answer is lost after it
landed ends published exactly once, with no action from the user."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.instagram import make_jpeg
from tests.fakes.threads import FakeThreads, MediaHost

pytestmark = pytest.mark.slow

TOKEN = "THQV-e2e-token-0001"
USER_ID = "25811240958523117"
PUBLISH = r"POST /v1\.0/\d+/threads_publish"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def servers():
    # the fake's clock is the real one: the landed post is looked up by its time
    with FakeThreads(clock=time.time()) as fake, MediaHost() as cdn:
        fake.add_token(TOKEN, user_id=USER_ID, username="milton.studio")
        yield fake, cdn


def _connect_and_schedule(cli, fake, cdn) -> str:
    r = cli(
        "account",
        "add",
        "threads",
        "--name",
        "th",
        "--api-base",
        fake.url,
        "--token-stdin",
        stdin=TOKEN + "\n",
    )
    assert r.returncode == 0, r.stderr
    assert "milton.studio" in r.stdout
    image_url = cdn.add("/img/launch.jpg", make_jpeg(1080, 1080))
    r = cli(
        "post",
        "add",
        "--text",
        "Launch day 🎉 #milton",
        "--media-url",
        image_url,
        "--alt",
        "The launch poster",
    )
    assert r.returncode == 0, r.stderr
    post_id = r.stdout.strip()
    soon = _iso(datetime.now(UTC) + timedelta(seconds=1))
    r = cli("schedule", post_id, "--account", "th", "--at", soon)
    assert r.returncode == 0, r.stderr
    time.sleep(1.2)
    return post_id


def _published_once(cli, fake) -> dict:
    (row,) = json.loads(cli("list", "--json").stdout)
    assert row["status"] == "published", row
    (post,) = fake.published
    assert post["text"] == "Launch day 🎉 #milton"
    assert post["media_type"] == "IMAGE" and post["alt_texts"] == ["The launch poster"]
    assert row["remote_id"] == post["id"]
    assert row["url"] == fake.media[post["id"]].permalink
    assert row["url"].startswith("https://www.threads.com/@milton.studio/post/")
    # running again publishes nothing more
    assert cli("run", "--once").returncode == 0
    assert len(fake.published) == 1
    return row


def test_threads_post_with_an_image_is_published_once(cli, servers):
    fake, cdn = servers
    _connect_and_schedule(cli, fake, cdn)
    r = cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    _published_once(cli, fake)


def test_a_dropped_publish_that_landed_ends_published_once(cli, servers):
    fake, cdn = servers
    _connect_and_schedule(cli, fake, cdn)
    fake.inject(PUBLISH, mode="drop", when="after")
    r = cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    _published_once(cli, fake)
    assert len(fake.calls(PUBLISH)) == 1


def test_a_dropped_publish_that_did_not_land_is_retried_on_its_container(cli, servers):
    fake, cdn = servers
    _connect_and_schedule(cli, fake, cdn)
    fake.inject(PUBLISH, mode="drop", when="before")
    r = cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    _published_once(cli, fake)
    assert len(fake.calls(r"POST /v1\.0/\d+/threads$")) == 1
