"""Bluesky through the real command line against the fake PDS: connect with a handle
and an app password, post an image with alt text, `run --once`, published once with
its bsky.app URL; a dropped create and an expired session end published once too."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.instagram import make_jpeg

pytestmark = pytest.mark.slow

HANDLE = "alice.test"
PASSWORD = "abcd-efgh-ijkl-mnop"
CREATE = "POST /xrpc/com.atproto.repo.createRecord"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        server.add_account(HANDLE, PASSWORD, did="did:plc:u5cwb2mwiv2bfq53cjufe6yn")
        yield server


def _connect(cli, fake) -> None:
    r = cli(
        "account",
        "add",
        "bluesky",
        "--name",
        "sky",
        "--handle",
        HANDLE,
        "--api-base",
        fake.url,
        "--token-stdin",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    assert HANDLE in r.stdout


def _post_and_run(cli, tmp_path, text: str) -> dict:
    image = tmp_path / "launch.jpg"
    image.write_bytes(make_jpeg(1200, 800))
    r = cli("post", "add", "--text", text, "--media", str(image), "--alt", "The launch poster")
    assert r.returncode == 0, r.stderr
    soon = _iso(datetime.now(UTC) + timedelta(seconds=1))
    r = cli("schedule", r.stdout.strip(), "--account", "sky", "--at", soon)
    assert r.returncode == 0, r.stderr
    time.sleep(1.2)
    r = cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    (row,) = json.loads(cli("list", "--json").stdout)
    return row


def test_connect_post_an_image_and_publish_once(cli, fake, tmp_path):
    _connect(cli, fake)
    row = _post_and_run(cli, tmp_path, "Launch day ✨ #milton https://example.com/blog")
    assert row["status"] == "published", row
    (post,) = fake.posts()
    rkey = next(iter(fake.records))[1]
    assert row["url"] == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    assert post["text"] == "Launch day ✨ #milton https://example.com/blog"
    (image,) = post["embed"]["images"]
    assert image["alt"] == "The launch poster"
    assert image["aspectRatio"] == {"width": 1200, "height": 800}
    assert [f["features"][0]["$type"].rsplit("#")[1] for f in post["facets"]] == ["tag", "link"]
    # one sign-in, at connect; the run used the kept session
    assert len(fake.calls("POST /xrpc/com.atproto.server.createSession")) == 1
    assert cli("run", "--once").returncode == 0
    assert len(fake.posts()) == 1
    # the app password and the session stay in the keyring, never in the database
    con = sqlite3.connect(cli.home / "milton.sqlite3")
    dump = "\n".join(con.iterdump())
    con.close()
    secrets = [PASSWORD, *fake.tokens]
    assert not [s for s in secrets if s in dump]
    log = "\n".join(p.read_text("utf-8", "replace") for p in cli.home.rglob("*.log"))
    assert not [s for s in secrets if s in log]


def test_a_dropped_create_ends_published_exactly_once(cli, fake, tmp_path):
    _connect(cli, fake)
    fake.inject(CREATE, mode="drop", when="after")
    row = _post_and_run(cli, tmp_path, "exactly once")
    assert row["status"] == "published", row
    assert len(fake.posts()) == 1 and len(fake.calls(CREATE)) == 1
    rkey = next(iter(fake.records))[1]
    assert row["url"] == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    assert row["attempts"] == 1


def test_an_expired_session_is_refreshed_not_logged_in_again(cli, fake, tmp_path):
    _connect(cli, fake)
    fake.expire_access_tokens()
    row = _post_and_run(cli, tmp_path, "after a quiet day")
    assert row["status"] == "published", row
    assert len(fake.calls("POST /xrpc/com.atproto.server.refreshSession")) == 1
    assert len(fake.calls("POST /xrpc/com.atproto.server.createSession")) == 1
    assert len(fake.posts()) == 1


def test_account_add_needs_the_handle_and_a_right_password(cli, fake):
    r = cli(
        "account",
        "add",
        "bluesky",
        "--name",
        "sky",
        "--api-base",
        fake.url,
        "--token-stdin",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode != 0 and "handle" in r.stderr
    r = cli(
        "account",
        "add",
        "bluesky",
        "--name",
        "sky",
        "--handle",
        HANDLE,
        "--api-base",
        fake.url,
        "--token-stdin",
        stdin="wrong-pass-word-xxxx\n",
    )
    assert r.returncode == 1 and "wrong-pass-word-xxxx" not in r.stderr + r.stdout
    assert json.loads(cli("account", "list", "--json").stdout) == []
