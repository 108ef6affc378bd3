"""Mastodon through the real command line, against the fake instance over HTTP: add the
account with its instance and a pasted token, post an image with alt text, schedule,
`run --once`, published once with the status's URL; and a create whose answer is lost
still ends published exactly once, with nobody doing anything."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.mastodon import FakeMastodon

pytestmark = pytest.mark.slow

TOKEN = "mast-e2e-token-0001"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def fake_mastodon():
    with FakeMastodon() as fake:
        fake.add_user("109876", "milton", "Milton HQ", token=TOKEN)
        yield fake


def _add(cli, fake, *extra: str):
    return cli(
        "account", "add", "mastodon", "--name", "toot", *extra, "--token-stdin",
        stdin=TOKEN + "\n",
    )  # fmt: skip


def _post_and_run(cli, tmp_path) -> dict:
    from tests.publishers.test_instagram import make_jpeg  # a real baseline JPEG

    picture = tmp_path / "poster.jpg"
    picture.write_bytes(make_jpeg(640, 480))
    r = cli(
        "post", "add", "--text", "Launch day https://example.com/launch #milton",
        "--media", str(picture), "--alt", "The launch poster",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    post_id = r.stdout.strip()
    soon = _iso(datetime.now(UTC) + timedelta(seconds=1))
    r = cli("schedule", post_id, "--account", "toot", "--at", soon)
    assert r.returncode == 0, r.stderr
    time.sleep(1.2)
    r = cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    (row,) = json.loads(cli("list", "--json").stdout)
    return row


def test_account_add_needs_the_instance(cli, fake_mastodon):
    r = _add(cli, fake_mastodon)
    assert r.returncode != 0
    assert "--api-base" in r.stderr
    assert json.loads(cli("account", "list", "--json").stdout) == []


def test_post_with_an_image_is_published_once_with_its_url(cli, fake_mastodon, tmp_path):
    fake_mastodon.max_characters = 1000
    r = _add(cli, fake_mastodon, "--api-base", fake_mastodon.url)
    assert r.returncode == 0, r.stderr
    assert "milton@fake.social" in r.stdout
    row = _post_and_run(cli, tmp_path)
    (status,) = fake_mastodon.statuses
    assert row["status"] == "published"
    assert row["url"] == status["url"] == f"https://fake.social/@milton/{status['id']}"
    assert row["remote_id"] == status["id"]
    assert status["text"] == "Launch day https://example.com/launch #milton"
    (media,) = status["media_attachments"]
    assert media["description"] == "The launch poster"
    assert fake_mastodon.calls("POST /api/v1/statuses")[0].header("idempotency-key")
    # running again publishes nothing more
    assert cli("run", "--once").returncode == 0
    assert len(fake_mastodon.statuses) == 1


def test_a_dropped_create_ends_published_exactly_once(cli, fake_mastodon, tmp_path):
    assert _add(cli, fake_mastodon, "--api-base", fake_mastodon.url).returncode == 0
    fake_mastodon.inject("POST /api/v1/statuses", mode="drop", when="after")
    row = _post_and_run(cli, tmp_path)
    assert len(fake_mastodon.statuses) == 1
    assert row["status"] == "published"
    assert row["url"] == fake_mastodon.statuses[0]["url"]
    creates = fake_mastodon.calls("POST /api/v1/statuses")
    assert len(creates) == 2
    assert len({c.header("idempotency-key") for c in creates}) == 1
