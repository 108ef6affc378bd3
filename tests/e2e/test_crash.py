"""Kill -9 the headless scheduler at each point of a publish, on each platform, then
restart it. At the fake: the post exists at most once. In the database: every post is
published, pending or uncertain (with a message for the user), none stuck publishing;
an answer already kept in the outcome journal is recorded as it was."""

from __future__ import annotations

import json
import signal
import sqlite3
import struct
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import wait_for
from tests.fakes.instagram import FakeInstagram, MediaHost
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow


def _png(w=64, h=48) -> bytes:
    raw = b"".join(b"\x00" + b"\x20\x60\xc0" * w for _ in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Platform:
    """One fake platform with an account added through the CLI and a due post."""

    create_route: str
    upload_route: str

    def __init__(self, name: str) -> None:
        self.name = name
        self.servers = []

    def posts(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


class XPlatform(Platform):
    create_route = r"POST /2/tweets"
    upload_route = r"POST /2/media/upload/\d+/append"

    def start(self, cli, tmp_path):
        self.fake = FakeX().start()
        self.servers = [self.fake]
        self.fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-crash-token-1")
        assert (
            cli(
                "account",
                "add",
                "x",
                "--name",
                "acct",
                "--api-base",
                self.fake.url,
                "--token-stdin",
                stdin="x-crash-token-1\n",
            ).returncode
            == 0
        )
        img = tmp_path / "pic.png"
        img.write_bytes(_png())
        return ["--media", str(img)]

    def posts(self) -> int:
        return len(self.fake.tweets)


class LinkedInPlatform(Platform):
    create_route = r"POST /rest/posts"
    upload_route = r"PUT /dms-uploads/image/.*"

    def start(self, cli, tmp_path):
        self.fake = FakeLinkedIn().start()
        self.servers = [self.fake]
        token = self.fake.add_member("782bbtaQ", "Jo Writer")
        assert (
            cli(
                "account",
                "add",
                "linkedin",
                "--name",
                "acct",
                "--api-base",
                self.fake.url,
                "--token-stdin",
                stdin=token + "\n",
            ).returncode
            == 0
        )
        img = tmp_path / "pic.png"
        img.write_bytes(_png())
        return ["--media", str(img)]

    def posts(self) -> int:
        return len(self.fake.posts)


class InstagramPlatform(Platform):
    create_route = r"POST /v\d+\.0/\d+/media_publish"
    upload_route = r"POST /v\d+\.0/\d+/media"  # container creation: Meta fetches the media

    def start(self, cli, tmp_path):
        from tests.publishers.test_instagram import make_jpeg

        self.fake = FakeInstagram().start()
        self.cdn = MediaHost().start()
        self.servers = [self.fake, self.cdn]
        self.fake.add_token(
            "IGAA-crash-token-1", user_id="17841400008460056", username="milton.studio"
        )
        assert (
            cli(
                "account",
                "add",
                "instagram",
                "--name",
                "acct",
                "--api-base",
                self.fake.url,
                "--token-stdin",
                stdin="IGAA-crash-token-1\n",
            ).returncode
            == 0
        )
        return ["--media-url", self.cdn.add("/p.jpg", make_jpeg(1080, 1080))]

    def posts(self) -> int:
        return len(self.fake.published)


PLATFORMS = {"x": XPlatform, "linkedin": LinkedInPlatform, "instagram": InstagramPlatform}


@pytest.fixture(params=sorted(PLATFORMS))
def platform(request, cli, tmp_path):
    p = PLATFORMS[request.param](request.param)
    media_args = p.start(cli, tmp_path)
    r = cli("post", "add", "--text", f"crash test on {request.param}", *media_args)
    assert r.returncode == 0, r.stderr
    when = (datetime.now(UTC) + timedelta(milliseconds=300)).isoformat().replace("+00:00", "Z")
    assert cli("schedule", r.stdout.strip(), "--account", "acct", "--at", when).returncode == 0
    time.sleep(0.4)
    yield p
    p.stop()


def _rows(home):
    con = sqlite3.connect(home / "milton.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute("SELECT id, status, error_message FROM scheduled_posts").fetchall()
    finally:
        con.close()


def _restart_and_check(cli, platform, *, expect_posts: int, expect_status: str):
    r = cli("run", "--once")
    assert r.returncode in (0, 1), r.stderr
    rows = _rows(cli.home)
    assert [s for _, s, _ in rows] == [expect_status]
    if expect_status == "uncertain":
        assert "may or may not" in rows[0][2]
    assert platform.posts() == expect_posts
    # A second restart changes nothing: no retry of an uncertain post, no duplicate.
    cli("run", "--once")
    assert [s for _, s, _ in _rows(cli.home)] == [expect_status]
    assert platform.posts() == expect_posts
    listed = json.loads(cli("list", "--json").stdout)
    assert listed[0]["status"] == expect_status


def _kill_when(proc, predicate):
    try:
        wait_for(predicate, timeout=30, interval=0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)


def test_kill_after_claim_before_request(cli, platform):
    cli.env["MILTON_CRASH_AT"] = "after_claim"
    r = cli("run", "--once")
    assert r.returncode == -signal.SIGKILL
    del cli.env["MILTON_CRASH_AT"]
    assert [s for _, s, _ in _rows(cli.home)] == ["publishing"]
    assert platform.posts() == 0
    _restart_and_check(cli, platform, expect_posts=0, expect_status="uncertain")


def test_kill_while_the_platform_holds_the_request(cli, platform):
    platform.fake.inject(platform.create_route, mode="slow", delay=3)
    proc = cli.spawn("run", "--once")
    _kill_when(proc, lambda: platform.fake.calls(platform.create_route))
    wait_for(lambda: platform.posts() == 1, timeout=10)  # the platform did create it
    _restart_and_check(cli, platform, expect_posts=1, expect_status="uncertain")


def test_kill_after_the_answer_before_the_commit(cli, platform):
    cli.env["MILTON_CRASH_AT"] = "before_commit"
    r = cli("run", "--once")
    assert r.returncode == -signal.SIGKILL
    del cli.env["MILTON_CRASH_AT"]
    assert platform.posts() == 1
    _restart_and_check(cli, platform, expect_posts=1, expect_status="uncertain")


def test_kill_after_the_answer_was_journaled_before_the_commit(cli, platform):
    cli.env["MILTON_CRASH_AT"] = "after_journal"
    r = cli("run", "--once")
    assert r.returncode == -signal.SIGKILL
    del cli.env["MILTON_CRASH_AT"]
    assert platform.posts() == 1
    assert [s for _, s, _ in _rows(cli.home)] == ["publishing"]
    # the platform's answer was kept: the restart records it instead of guessing
    _restart_and_check(cli, platform, expect_posts=1, expect_status="published")
    (row,) = json.loads(cli("list", "--json").stdout)
    assert row["url"] and row["url"].startswith("https://")
    assert row["attempts"] == 1
    assert list((cli.home / "journal").glob("*.json")) == []


def test_kill_during_media_upload(cli, platform):
    platform.fake.inject(platform.upload_route, mode="slow", delay=3)
    proc = cli.spawn("run", "--once")
    _kill_when(proc, lambda: platform.fake.calls(platform.upload_route))
    time.sleep(0.2)
    _restart_and_check(cli, platform, expect_posts=0, expect_status="uncertain")


def test_kill_with_results_queued_in_the_results_writer(cli):
    """Killed while the results writer holds journaled results of several accounts,
    none committed: the restart records each from the journal, and every post is on
    the platform once."""
    with FakeX() as fake:
        for name, uid in (("a", "2244994945"), ("b", "99")):
            token = f"x-writer-token-{name}"
            fake.add_user(uid, f"user{name}", f"User {name}", token=token)
            added = cli(
                "account",
                "add",
                "x",
                "--name",
                name,
                "--api-base",
                fake.url,
                "--token-stdin",
                stdin=token + "\n",
            )
            assert added.returncode == 0, added.stderr
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        for i in range(6):
            pid = cli("post", "add", "--text", f"queued result {i}").stdout.strip()
            assert cli("schedule", pid, "--account", "ab"[i % 2], "--at", later).returncode == 0
        con = sqlite3.connect(cli.home / "milton.sqlite3")
        with con:  # all due now, however long the set-up took
            now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            con.execute("UPDATE scheduled_posts SET next_attempt_at = ?", (now,))
        con.close()
        cli.env["MILTON_CRASH_AT"] = "results_queued"
        r = cli("run", "--once")
        assert r.returncode == -signal.SIGKILL
        del cli.env["MILTON_CRASH_AT"]
        kept = {int(p.name.split(".")[-3]) for p in (cli.home / "journal").glob("*.json")}
        assert kept  # results journaled, none committed
        rows = {sid: status for sid, status, _ in _rows(cli.home)}
        assert all(rows[sid] == "publishing" for sid in kept)

        r = cli("run", "--once")
        assert r.returncode in (0, 1), r.stderr
        texts = [t["text"] for t in fake.tweets]
        assert len(texts) == len(set(texts))  # nothing on the platform twice
        listed = {row["id"]: row for row in json.loads(cli("list", "--json").stdout)}
        for sid in kept:  # the platform's answers, recorded from the journal
            assert listed[sid]["status"] == "published" and listed[sid]["url"]
            assert listed[sid]["attempts"] == 1
        # the others went out after the restart, except those in flight when it was
        # killed: those are uncertain, never sent again
        statuses = {row["status"] for row in listed.values()}
        assert statuses <= {"published", "uncertain"}
        for row in listed.values():
            if row["status"] == "published":
                assert texts.count(f"queued result {row['post_id'] - 1}") == 1
        assert list((cli.home / "journal").glob("*.json")) == []
