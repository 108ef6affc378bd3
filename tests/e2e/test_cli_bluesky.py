"""Bluesky through the real command line against the fake PDS: connect with a handle
and an app password, post an image with alt text, `run --once`, published once with
its bsky.app URL; a dropped create and an expired session end published once too;
a large photo goes out reduced, and a link with its card."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.bluesky import FakeBluesky
from tests.fakes.instagram import MediaHost, make_jpeg
from tests.fakes.pictures import animated_gif, noisy_jpeg, read

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


def _schedule_and_run(cli, post_id: str) -> dict:
    soon = _iso(datetime.now(UTC) + timedelta(seconds=1))
    r = cli("schedule", post_id, "--account", "sky", "--at", soon)
    assert r.returncode == 0, r.stderr  # validation no longer refuses a large photo
    time.sleep(1.2)
    r = cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    (row,) = json.loads(cli("list", "--json").stdout)
    return row


def test_a_large_photo_is_scheduled_reduced_and_the_result_says_so(cli, fake, tmp_path):
    _connect(cli, fake)
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(noisy_jpeg(2000, 1500))
    assert photo.stat().st_size > 2_500_000
    r = cli("post", "add", "--text", "the view", "--media", str(photo))
    assert r.returncode == 0, r.stderr
    row = _schedule_and_run(cli, r.stdout.strip())
    assert row["status"] == "published", row
    (upload,) = fake.calls("POST /xrpc/com.atproto.repo.uploadBlob")
    img = read(upload.body)
    assert len(upload.body) <= 1_000_000 and img.format == "JPEG"
    (post,) = fake.posts()
    assert post["embed"]["images"][0]["aspectRatio"] == {"width": img.width, "height": img.height}
    assert row["warning"].startswith("image 1 was reduced from 3.")
    assert "to fit Bluesky's 1 MB limit" in row["warning"]
    # the stored original is untouched: a later post of it starts from the full picture
    assert photo.read_bytes() != upload.body


def test_a_gif_over_the_limit_is_refused_when_scheduled(cli, fake, tmp_path):
    _connect(cli, fake)
    gif = tmp_path / "loop.gif"
    gif.write_bytes(animated_gif(900, 900))
    r = cli("post", "add", "--text", "loop", "--media", str(gif))
    assert r.returncode == 0, r.stderr
    soon = _iso(datetime.now(UTC) + timedelta(minutes=5))
    r = cli("schedule", r.stdout.strip(), "--account", "sky", "--at", soon)
    assert r.returncode == 2 and "limit" in r.stderr, r.stderr


def test_a_link_gets_its_card(cli, fake):
    _connect(cli, fake)
    with MediaHost() as site:
        page = site.add(
            "/v2",
            b'<title>x</title><meta property="og:title" content="Milton v2">',
            "text/html",
        )
        r = cli("post", "add", "--text", f"Out now: {page}")
        assert r.returncode == 0, r.stderr
        row = _schedule_and_run(cli, r.stdout.strip())
    assert row["status"] == "published", row
    (post,) = fake.posts()
    assert post["embed"]["external"] == {"uri": page, "title": "Milton v2", "description": ""}
