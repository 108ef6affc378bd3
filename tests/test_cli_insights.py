"""`insights`, `insights fetch` and `best-times` in-process: real HTTP against the fake
X, JSON shapes, the "too little history" answer, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from milton_desktop.domain.credential import Credential
from milton_desktop.domain.status import Status
from milton_desktop.storage.models import Account, Post, PostMetric, ScheduledPost
from tests.fakes.x import FakeX
from tests.test_cli import run

USER_ID = "2244994945"
TOKEN = "x-cli-insights"
# a Tuesday, 10:00 in Paris (09:00 UTC in winter)
TUESDAY_10 = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Any:
    server = FakeX()
    server.start()
    server.add_user(USER_ID, "XDevelopers", "X Developers", token=TOKEN)
    yield server
    server.stop()


@pytest.fixture
def account(milton_home, memory_keyring, fake):
    from milton_desktop.context import open_context

    ctx = open_context(None, stderr_logging=False)
    acc = Account.create(
        platform="x", display_name="mine", username="XDevelopers", remote_id=USER_ID,
        api_base=fake.url, timezone="Europe/Paris",
    )  # fmt: skip
    ctx.credentials.save("x", acc.id, Credential(TOKEN))
    return acc


def published(account: Account, tweet_id: str, at: datetime) -> ScheduledPost:
    return ScheduledPost.create(
        post=Post.create(body=f"post {tweet_id}"),
        account=account,
        scheduled_time=at,
        next_attempt_at=at,
        published_at=at,
        status=Status.PUBLISHED,
        remote_id=tweet_id,
        remote_url=f"https://x.com/XDevelopers/status/{tweet_id}",
    )


def measured(account: Account, row: ScheduledPost, interactions: int) -> None:
    PostMetric.create(
        schedule=row,
        account=account,
        platform="x",
        remote_id=row.remote_id,
        taken_at=row.published_at + timedelta(days=7),
        age_bucket="7d",
        counters=json.dumps({"likes": interactions}),
        interactions=interactions,
    )


@pytest.mark.both_backends
def test_fetch_then_list_the_latest_figures(capsys, account, fake):
    published(account, "1001", datetime.now(UTC) - timedelta(days=40))
    fake.set_metrics("1001", like_count=7, reply_count=2, impression_count=500)
    code, out, err = run(capsys, "insights", "fetch", "--account", "mine")
    assert (code, err) == (0, "")
    assert "“mine”: 1 snapshot(s) taken" in out
    code, out, err = run(capsys, "insights", "--json")
    assert code == 0
    (row,) = json.loads(out)
    assert row["account"] == "mine" and row["age"] == "manual"
    assert row["counters"]["likes"] == 7
    assert (row["interactions"], row["impressions"]) == (9, 500)
    assert row["published_at"].endswith("Z") and row["taken_at"].endswith("Z")
    code, out, _ = run(capsys, "insights")
    assert "likes 7" in out and "mine" in out


def test_fetch_says_when_the_platform_limits_it(capsys, account, fake):
    published(account, "1001", datetime.now(UTC) - timedelta(days=2))
    fake.inject("GET /2/tweets", status=429, body={"title": "Too Many Requests"})
    code, out, _ = run(capsys, "insights", "fetch", "--json")
    assert code == 0
    (report,) = json.loads(out)
    assert report["taken"] == 0 and report["wait_until"].endswith("Z")


def test_best_times_with_a_month_of_history(capsys, account):
    for week in range(4):
        base = TUESDAY_10 + timedelta(weeks=week)
        measured(account, published(account, f"{week}1", base), 30)
        measured(account, published(account, f"{week}2", base + timedelta(days=2, hours=5)), 10)
        measured(account, published(account, f"{week}3", base + timedelta(days=3, hours=-1)), 9)
    code, out, err = run(capsys, "best-times", "--account", "mine", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert set(data) == {"account", "timezone", "posts", "basis", "slots"}
    assert (data["account"], data["timezone"], data["posts"]) == ("mine", "Europe/Paris", 12)
    assert data["basis"] == "history"
    assert data["slots"][0] == {"day": "TU", "hour": 10, "score": data["slots"][0]["score"],
                                "posts": 4}  # fmt: skip
    assert data["slots"][0]["score"] > 1.5
    code, out, _ = run(capsys, "best-times", "--account", "mine")
    assert "TU" in out and "10:00" in out and "12 measured posts" in out


def test_best_times_with_too_little_history_suggests_nothing(capsys, account):
    for n in range(3):
        measured(account, published(account, str(n), TUESDAY_10 + timedelta(days=n)), 5)
    # a post measured only an hour in does not count as measured
    young = published(account, "9", TUESDAY_10)
    PostMetric.create(
        schedule=young, account=account, platform="x", remote_id="9",
        taken_at=TUESDAY_10 + timedelta(hours=1), age_bucket="1h", counters="{}",
    )  # fmt: skip
    code, out, _ = run(capsys, "best-times", "--account", "mine", "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["basis"], data["slots"], data["posts"]) == ("too little history", [], 3)
    code, out, _ = run(capsys, "best-times", "--account", "mine")
    assert "nothing is suggested" in out


def test_best_times_for_an_unknown_account_is_a_usage_error(capsys, account):
    code, _, err = run(capsys, "best-times", "--account", "nobody")
    assert code == 2 and "no account named 'nobody'" in err
