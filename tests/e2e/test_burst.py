"""A burst: many posts due at once over several accounts, published by `run --once`
over real HTTP, through the prepared connections and the results writer: each post
once, each row published with its link, nothing left in the journal."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

ACCOUNTS, POSTS = 4, 48


def test_a_burst_over_several_accounts_publishes_each_post_once(cli):
    with FakeX(posts_per_window=1000) as fake:
        for n in range(ACCOUNTS):
            token = f"x-burst-token-{n:02d}"
            fake.add_user(str(5000 + n), f"burst{n}", f"Burst {n}", token=token)
            added = cli(
                "account",
                "add",
                "x",
                "--name",
                f"acct{n}",
                "--api-base",
                fake.url,
                "--token-stdin",
                stdin=token + "\n",
            )
            assert added.returncode == 0, added.stderr
        # every row due at one instant, a moment ago
        posts = [
            cli("post", "add", "--text", f"burst post {i}").stdout.strip() for i in range(POSTS)
        ]
        later = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
        for i, pid in enumerate(posts):
            scheduled = cli("schedule", pid, "--account", f"acct{i % ACCOUNTS}", "--at", later)
            assert scheduled.returncode == 0, scheduled.stderr
        con = sqlite3.connect(cli.home / "milton.sqlite3")
        with con:
            instant = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
            con.execute("UPDATE scheduled_posts SET next_attempt_at = ?", (instant,))
        con.close()
        fake.inject(r"POST /2/tweets", mode="slow", delay=0.02, times=-1)

        r = cli("run", "--once")
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.strip().splitlines()) == POSTS  # each outcome told once
        texts = [t["text"] for t in fake.tweets]
        assert sorted(texts) == sorted(f"burst post {i}" for i in range(POSTS))
        by_user = {}
        for tweet in fake.tweets:
            by_user.setdefault(tweet["user"], []).append(tweet["text"])
        assert len(by_user) == ACCOUNTS
        rows = json.loads(cli("list", "--json").stdout)
        assert {(row["status"], row["attempts"]) for row in rows} == {("published", 1)}
        assert all(row["url"] and row["url"].startswith("https://") for row in rows)
        assert list((cli.home / "journal").glob("*.json")) == []
        # a second run finds nothing to do and sends nothing
        assert cli("run", "--once").returncode == 0
        assert len(fake.tweets) == POSTS
