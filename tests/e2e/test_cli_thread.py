"""A thread through the command line, against a fake X over real HTTP: three parts
in a correct reply chain, and a scheduler killed between two parts or just after one
went out, then restarted: never a part twice, never a broken chain."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

TOKEN = "x-token-thread-0001"
USER = "2244994945"


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        fake.add_user(USER, "miltonhq", "Milton HQ", token=TOKEN)
        yield fake


@pytest.fixture
def thread(cli, fake_x):
    """A three-part thread scheduled a moment ago, on an X account added through the CLI."""
    r = cli(
        "account", "add", "x", "--name", "hq", "--api-base", fake_x.url, "--token-stdin",
        stdin=TOKEN + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = cli(
        "post", "add", "--text", "1/ What we learned shipping v2",
        "--follow-up", "2/ Small releases beat big ones",
        "--follow-up", "3/ Write the changelog first",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    post_id = r.stdout.strip()
    when = (datetime.now(UTC) + timedelta(milliseconds=200)).isoformat().replace("+00:00", "Z")
    r = cli("schedule", post_id, "--account", "hq", "--at", when)
    assert r.returncode == 0, r.stderr
    return int(r.stdout.strip()), post_id


def _chain(fake):
    return fake.reply_chain(USER)


def _assert_whole_chain(fake):
    chain = _chain(fake)
    assert [t["text"] for t in fake.tweets] == [
        "1/ What we learned shipping v2",
        "2/ Small releases beat big ones",
        "3/ Write the changelog first",
    ]
    assert chain[0][1] is None
    assert chain[1][1] == chain[0][0]
    assert chain[2][1] == chain[1][0]


def test_a_thread_goes_out_in_order_and_list_shows_every_part(cli, fake_x, thread):

    (post,) = json.loads(cli("post", "list", "--json").stdout)
    assert post["follow_ups"] == [
        "2/ Small releases beat big ones",
        "3/ Write the changelog first",
    ]

    r = cli("run", "--once")
    assert r.returncode == 0, r.stderr

    _assert_whole_chain(fake_x)
    (row,) = json.loads(cli("list", "--json").stdout)
    assert row["status"] == "published"
    ids = [t["id"] for t in fake_x.tweets]
    assert row["url"] == f"https://x.com/miltonhq/status/{ids[0]}"
    assert row["parts"] == [
        {
            "index": k,
            "remote_id": ids[k],
            "url": f"https://x.com/miltonhq/status/{ids[k]}",
            "status": "published",
        }
        for k in range(3)
    ]
    (schedule_id,) = [row["id"]]
    history = json.loads(cli("history", str(schedule_id), "--json").stdout)
    assert [(h["part"], h["outcome"], h["remote_id"]) for h in history] == [
        (0, "part_published", ids[0]),
        (1, "part_published", ids[1]),
        (2, "published", ids[2]),
    ]
    text = cli("history", str(schedule_id)).stdout
    assert "part_published" in text and f"status/{ids[2]}" in text
    r = cli("history", "999")
    assert r.returncode == 2 and "no scheduled post with id 999" in r.stderr


def test_killed_between_parts_it_carries_on_from_the_next_part(cli, fake_x, thread):
    cli.env["MILTON_CRASH_AT"] = "after_part_0"
    r = cli("run", "--once")
    assert r.returncode == -9
    del cli.env["MILTON_CRASH_AT"]
    assert len(fake_x.tweets) == 1

    r = cli("run", "--once")
    assert r.returncode == 0, r.stderr

    _assert_whole_chain(fake_x)
    (row,) = json.loads(cli("list", "--json").stdout)
    assert row["status"] == "published"
    assert [p["status"] for p in row["parts"]] == ["published"] * 3


def test_killed_after_a_part_went_out_unrecorded_it_is_uncertain_naming_the_part(
    cli, fake_x, thread
):
    cli.env["MILTON_CRASH_AT"] = "part_1_sent"
    r = cli("run", "--once")
    assert r.returncode == -9
    del cli.env["MILTON_CRASH_AT"]
    assert len(fake_x.tweets) == 2  # part 2 is on X; nobody recorded it

    for _ in range(2):  # restarting again changes nothing: no part is sent blindly
        r = cli("run", "--once")
        assert r.returncode in (0, 1), r.stderr
        (row,) = json.loads(cli("list", "--json").stdout)
        assert row["status"] == "uncertain"
        assert "part 2 of 3 may have been posted" in row["error"]
        assert [p["status"] for p in row["parts"]] == ["published", "uncertain", "pending"]
        assert len(fake_x.tweets) == 2

    con = sqlite3.connect(cli.home / "milton.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_bad_follow_ups_are_refused_with_what_to_do(cli):
    r = cli("post", "add", "--text", "main", "--follow-up", "  ")
    assert r.returncode == 2
    assert "part 2 is empty" in r.stderr
    r = cli("post", "add", "--text", "main", "--follow-up", "b", "--follow-up-delay", "9000")
    assert r.returncode == 2
    assert "over the limit of 7200 s" in r.stderr
    r = cli("post", "add", "--text", "main", "--follow-up-delay", "soon")
    assert r.returncode == 2
    assert "not a number of seconds" in r.stderr
    assert json.loads(cli("post", "list", "--json").stdout) == []
