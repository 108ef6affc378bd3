"""An account that requires approval publishes nothing until a member approves: the
real command line in subprocesses, the scheduler's `run --once`, a fake X server that
counts every post it receives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.x import FakeX

pytestmark = pytest.mark.slow

CREATE = r"POST /2/tweets"


@pytest.fixture
def fake():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-approval-token-1")
        yield fake


def _ok(cli, *args, stdin=None) -> str:
    r = cli(*args, stdin=stdin)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _due(cli, text: str) -> int:
    post = _ok(cli, "--member", "alice", "post", "add", "--text", text).strip()
    when = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    return int(_ok(cli, "--member", "alice", "schedule", post, "--account", "hq", "--at", when))


def _row(cli, sid: int) -> dict:
    return json.loads(_ok(cli, "show", str(sid), "--json"))


def test_an_approval_account_publishes_nothing_until_approved_then_once(cli, fake):
    _ok(
        cli,
        *("account", "add", "x", "--name", "hq", "--api-base", fake.url, "--token-stdin"),
        stdin="x-approval-token-1\n",
    )
    _ok(cli, "account", "set", "hq", "--require-approval")
    nobody = _due(cli, "nobody approves this one")
    approved = _due(cli, "bob approves this one")
    assert _row(cli, approved)["status"] == "awaiting_approval"
    _ok(cli, "--member", "bob", "approve", str(approved))

    _ok(cli, "run", "--once")
    assert [c.json()["text"] for c in fake.calls(CREATE)] == ["bob approves this one"]
    missed = _row(cli, nobody)
    assert missed["status"] == "missed"
    assert missed["error"].startswith("not approved in time")
    out = _row(cli, approved)
    assert (out["status"], out["created_by"], out["approved_by"]) == ("published", "alice", "bob")

    _ok(cli, "run", "--once")  # nothing more goes out: each post once, the missed one never
    assert len(fake.calls(CREATE)) == 1
