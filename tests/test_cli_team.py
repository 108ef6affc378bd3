"""The command line on a team database: ``--database URL`` or ``MILTON_DATABASE_URL``
points every command at PostgreSQL; the home keeps this machine's own install id, and
the password is used to log in but never written anywhere."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from milton_desktop.cli import main
from milton_desktop.storage.db import close_database


def run(capsys, *argv):
    code = main(list(argv))
    close_database()
    out, err = capsys.readouterr()
    return code, out, err


def _every_file_text(folder):
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def test_commands_share_one_team_database_and_never_store_its_password(
    postgres_url, milton_home, capsys, monkeypatch
):
    password = urlsplit(postgres_url).password
    code, out, err = run(capsys, "--database", postgres_url, "post", "add", "--text", "hello team")
    assert code == 0, err
    monkeypatch.setenv("MILTON_DATABASE_URL", postgres_url)  # the same database, by env
    code, out, err = run(capsys, "post", "list", "--json")
    assert code == 0, err
    assert [p["text"] for p in json.loads(out)] == ["hello team"]

    code, out, err = run(capsys, "status", "--json")
    assert code == 0, err
    shown = json.loads(out)["database"]
    assert shown.startswith("postgresql://milton@") and password not in shown

    install = (milton_home / "install-id").read_text().strip()
    assert len(install) == 16  # this home's own id, not one shared through the database
    assert not (milton_home / "milton.sqlite3").exists()
    assert password not in _every_file_text(milton_home)


def test_two_homes_on_one_team_database_are_two_machines(
    postgres_url, tmp_path, capsys, monkeypatch
):
    ids = []
    for name in ("alice", "bob"):
        home = tmp_path / name
        code, _out, err = run(capsys, "--home", str(home), "--database", postgres_url, "status")
        assert code == 0, err
        ids.append((home / "install-id").read_text().strip())
    assert ids[0] != ids[1]


@pytest.mark.parametrize("bad", ["mysql://x/y", "/tmp/some.sqlite3"])
def test_a_database_that_is_not_a_postgresql_url_is_refused_clearly(bad, capsys):
    code, _out, err = run(capsys, "--database", bad, "status")
    assert code != 0
    assert "not a team database's address" in err and "postgresql://" in err


def test_a_wrong_password_is_explained_without_showing_it(postgres_url, capsys):
    parts = urlsplit(postgres_url)
    wrong = postgres_url.replace(f":{parts.password}@", ":not-the-password@")
    code, _out, err = run(capsys, "--database", wrong, "status")
    assert code != 0
    assert "cannot log in to the team database" in err and "not-the-password" not in err


def test_status_says_who_can_publish_and_warns_when_nobody_can(postgres_url, milton_home, capsys):
    from datetime import timedelta

    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.operations import posts, schedules, team
    from milton_desktop.storage import backend
    from milton_desktop.storage.db import open_database
    from milton_desktop.storage.models import Account

    open_database(postgres_url)
    acc = Account.create(platform="x", display_name="brand-x", remote_id="1")
    now = team.server_now()
    post = posts.add_post("for the brand")
    schedules.schedule(post.id, acc, now + timedelta(hours=5), clock=FakeClock(now))
    close_database()
    backend.use(backend.SQLITE)

    code, out, err = run(capsys, "--database", postgres_url, "status", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["publishers"] == [
        {
            "account": "brand-x",
            "platform": "x",
            "live_machines": [],
            "paused_machines": [],
            "other_machines": [],
        }
    ]
    (warning,) = shown["warnings"]
    assert warning["account"] == "brand-x"
    assert warning["message"].startswith("nobody can publish for 'brand-x' right now")
    code, out, err = run(capsys, "--database", postgres_url, "status")
    assert code == 0, err
    assert "warning:   nobody can publish for 'brand-x' right now" in out


def _without_password(url):
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", "@"), parts.password


def test_a_password_saved_in_the_keyring_logs_in_and_stays_out_of_every_file(
    postgres_url, milton_home, memory_keyring, capsys, monkeypatch
):
    import io

    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(milton_home / "no-pgpass"))
    bare, password = _without_password(postgres_url)
    code, _out, err = run(capsys, "--database", bare, "status")
    assert code != 0 and "cannot log in" in err  # nothing to log in with yet

    monkeypatch.setattr("sys.stdin", io.StringIO("not-the-password\n"))
    code, _out, err = run(capsys, "database-password", bare, "--stdin")
    assert code != 0 and "was not saved" in err and "not-the-password" not in err
    assert not memory_keyring.store  # a wrong one is never kept

    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    code, out, err = run(capsys, "database-password", bare, "--stdin")
    assert code == 0, err
    assert "saved the password" in out and password not in out
    code, out, err = run(capsys, "--database", bare, "post", "add", "--text", "from the keyring")
    assert code == 0, err
    assert password not in _every_file_text(milton_home)

    code, out, err = run(capsys, "database-password", bare, "--forget")
    assert code == 0 and "removed the saved password" in out
    code, _out, err = run(capsys, "--database", bare, "status")
    assert code != 0 and "cannot log in" in err
