"""Members and approvals from the command line: ``--member``, ``account set
--require-approval``, ``approve``, and who made, changed and approved a schedule in
``list --json``, ``show`` and ``upcoming``."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.operations import members
from milton_desktop.storage.models import Account
from tests.test_cli import run


@pytest.fixture(autouse=True)
def _forget_member():
    yield
    members._current = None


def _ok(capsys, *args) -> str:
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return out


@pytest.fixture
def home(tmp_path, memory_keyring, milton_home):
    from milton_desktop.context import open_context

    open_context(str(milton_home), stderr_logging=False)
    Account.create(platform="linkedin", display_name="brand", remote_id="urn:li:person:1")
    return milton_home


def _at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_approval_round_trip(capsys, home):
    out = _ok(capsys, "account", "set", "brand", "--require-approval", "--json")
    assert json.loads(out)["require_approval"] is True
    assert json.loads(_ok(capsys, "account", "list", "--json"))[0]["require_approval"] is True

    post = _ok(capsys, "--member", "alice", "post", "add", "--text", "for the brand").strip()
    sid = _ok(capsys, "--member", "alice", "schedule", post, "--account", "brand", "--at", _at(3))
    sid = sid.strip()
    (row,) = json.loads(_ok(capsys, "list", "--status", "awaiting_approval", "--json"))
    assert (row["id"], row["status"], row["created_by"]) == (int(sid), "awaiting_approval", "alice")
    assert row["approved_by"] is None
    assert "needs approval" in _ok(capsys, "upcoming")
    assert "awaiting approval" in _ok(capsys, "show", sid)

    code, _out, err = run(capsys, "publish-now", sid)
    assert code == 2 and "awaits approval" in err

    out = _ok(capsys, "--member", "bob", "approve", sid, "--json")
    approved = json.loads(out)
    assert (approved["status"], approved["approved_by"]) == ("pending", "bob")
    shown = json.loads(_ok(capsys, "show", sid, "--json"))
    assert (shown["created_by"], shown["approved_by"], shown["status"]) == (
        "alice",
        "bob",
        "pending",
    )
    assert shown["approved_at"].endswith("Z")
    text = _ok(capsys, "show", sid)
    assert "created by   alice" in text and "approved by  bob at" in text

    code, _out, err = run(capsys, "approve", sid)
    assert code == 2 and "bob approved it already" in err
    code, _out, err = run(capsys, "approve", "12345")
    assert code == 2 and "no scheduled post with id 12345" in err

    _ok(capsys, "--member", "carol", "reschedule", sid, "--at", _at(5))
    assert json.loads(_ok(capsys, "show", sid, "--json"))["updated_by"] == "carol"


def test_switching_approval_off_releases_the_waiting_posts(capsys, home):
    _ok(capsys, "account", "set", "brand", "--require-approval")
    post = _ok(capsys, "post", "add", "--text", "waits").strip()
    sid = _ok(capsys, "schedule", post, "--account", "brand", "--at", _at(2)).strip()
    out = _ok(capsys, "account", "set", "brand", "--no-require-approval")
    assert "1 waiting post(s) go out at their times" in out
    assert json.loads(_ok(capsys, "show", sid, "--json"))["status"] == "pending"


def test_account_set_needs_something_to_change(capsys, home):
    code, _out, err = run(capsys, "account", "set", "brand")
    assert code == 2
    assert "--require-approval" in err
    with pytest.raises(SystemExit) as stopped:
        run(capsys, "account", "set", "brand", "--require-approval", "--no-require-approval")
    assert stopped.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_the_member_defaults_to_the_user_then_to_the_saved_name(capsys, home):
    post = _ok(capsys, "post", "add", "--text", "mine").strip()
    sid = _ok(capsys, "schedule", post, "--account", "brand", "--at", _at(2)).strip()
    assert json.loads(_ok(capsys, "show", sid, "--json"))["created_by"] == getpass.getuser()
    members.save_name(home, "Dana Scully")
    _ok(capsys, "reschedule", sid, "--at", _at(4))
    assert json.loads(_ok(capsys, "show", sid, "--json"))["updated_by"] == "Dana Scully"
    assert json.loads(_ok(capsys, "status", "--json"))["member"] == "Dana Scully"
    assert json.loads(_ok(capsys, "--member", "Fox", "status", "--json"))["member"] == "Fox"


def test_a_bad_member_name_is_refused_before_anything_runs(capsys, home):
    with pytest.raises(SystemExit) as stopped:
        run(capsys, "--member", "   ", "list")
    assert stopped.value.code == 2
    assert "member name is empty" in capsys.readouterr().err


def test_approving_on_a_team_database(capsys, postgres_url, memory_keyring, milton_home):
    db = ["--database", postgres_url]
    from milton_desktop.context import open_context

    open_context(str(milton_home), stderr_logging=False, database=postgres_url)
    Account.create(platform="linkedin", display_name="brand", remote_id="urn:li:person:1")
    _ok(capsys, *db, "account", "set", "brand", "--require-approval")
    alice = [*db, "--member", "alice"]
    post = _ok(capsys, *alice, "post", "add", "--text", "team post").strip()
    sid = _ok(capsys, *alice, "schedule", post, "--account", "brand", "--at", _at(3)).strip()
    assert json.loads(_ok(capsys, *db, "show", sid, "--json"))["status"] == "awaiting_approval"
    out = json.loads(_ok(capsys, *db, "--member", "bob", "approve", sid, "--json"))
    assert (out["status"], out["approved_by"]) == ("pending", "bob")
    shown = json.loads(_ok(capsys, *db, "show", sid, "--json"))
    assert (shown["created_by"], shown["approved_by"]) == ("alice", "bob")
