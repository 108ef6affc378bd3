"""The command line in-process: exit codes, messages, JSON shapes, nothing half-written."""

from __future__ import annotations

import json
import os
import sqlite3
import struct
import zlib

import pytest

from milton_desktop.cli import main
from milton_desktop.domain.credential import Credential
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def png_bytes(w=4, h=3):
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * w for _ in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def account(milton_home, memory_keyring):
    """An account created the way `account add` does, without the network round trip."""
    from milton_desktop.context import open_context
    from milton_desktop.storage import settings

    open_context(None, stderr_logging=False)
    acc = Account.create(platform="linkedin", display_name="work", username="abc", remote_id="abc")
    CredentialStore(settings.install_id()).save("linkedin", acc.id, Credential("tok-abc-123"))
    return acc


def db_counts(home):
    """Rows per table, read with a connection of its own (the home's file, or the team
    database the test's commands use)."""
    url = os.environ.get("MILTON_DATABASE_URL")
    if url:
        import psycopg

        with psycopg.connect(url) as con:
            return {
                t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("posts", "media", "scheduled_posts")
            }
    con = sqlite3.connect(home / "milton.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {
            t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("posts", "media", "scheduled_posts")
        }
    finally:
        con.close()


def test_post_add_prints_the_id_and_json(capsys, account):
    code, out, _ = run(capsys, "post", "add", "--text", "hello world")
    assert code == 0 and out.strip() == "1"
    code, out, _ = run(capsys, "post", "add", "--text", "again", "--json")
    assert json.loads(out) == {"id": 2}


def test_post_with_media_is_copied_by_content_hash(capsys, account, tmp_path, milton_home):
    img = tmp_path / "photo.png"
    img.write_bytes(png_bytes())
    code, out, err = run(
        capsys, "post", "add", "--text", "pic", "--media", str(img), "--alt", "a red square"
    )
    assert code == 0, err
    code, out, _ = run(capsys, "post", "list", "--json")
    (post,) = json.loads(out)
    (media,) = post["media"]
    assert media["mime"] == "image/png" and media["alt_text"] == "a red square"
    assert media["path"].startswith(str(milton_home / "media"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"just some text, not an image", "not an image, video or PDF"),
        (png_bytes()[:-12], "cut short"),
    ],
)
def test_bad_media_is_refused_and_nothing_written(
    capsys, account, tmp_path, milton_home, content, message
):
    before = db_counts(milton_home)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(content)
    code, _out, err = run(capsys, "post", "add", "--text", "x", "--media", str(bad))
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert db_counts(milton_home) == before


def test_missing_media_file(capsys, account):
    code, _, err = run(capsys, "post", "add", "--text", "x", "--media", "/nonexistent/file.png")
    assert code == 2 and "no such file" in err


def test_schedule_list_upcoming_cancel(capsys, account):
    run(capsys, "post", "add", "--text", "hello (world)")
    code, out, err = run(
        capsys,
        "schedule",
        "1",
        "--account",
        "work",
        "--at",
        "2099-03-10T10:00",
        "--tz",
        "Europe/Paris",
    )
    assert code == 0, err
    sid = int(out)
    code, out, _ = run(capsys, "list", "--json")
    (row,) = json.loads(out)
    for key in (
        "id",
        "post_id",
        "account",
        "platform",
        "scheduled_time",
        "status",
        "attempts",
        "published_at",
        "remote_id",
        "url",
        "error",
    ):
        assert key in row
    assert row["scheduled_time"] == "2099-03-10T09:00:00Z"
    assert row["status"] == "pending" and row["platform"] == "linkedin"
    code, out, _ = run(capsys, "upcoming", "--json")
    assert json.loads(out) == []  # 2099 is not within 7 days
    code, out, _ = run(capsys, "cancel", str(sid))
    assert code == 0
    code, out, err = run(capsys, "cancel", str(sid))
    assert code == 2 and "not pending" in err
    code, out, _ = run(capsys, "list", "--status", "cancelled", "--json")
    assert [r["id"] for r in json.loads(out)] == [sid]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schedule", "1", "--account", "work", "--at", "tomorrow"], "cannot read"),
        (["schedule", "1", "--account", "work", "--at", "2099-03-10T10:00"], "no time zone"),
        (
            [
                "schedule",
                "1",
                "--account",
                "work",
                "--at",
                "2099-03-29T02:30",
                "--tz",
                "Europe/Paris",
            ],
            "does not exist",
        ),
        (
            [
                "schedule",
                "1",
                "--account",
                "work",
                "--at",
                "2099-03-10T10:00",
                "--tz",
                "Nowhere/City",
            ],
            "unknown time zone",
        ),
        (["schedule", "1", "--account", "work", "--at", "2001-01-01T10:00Z"], "in the past"),
        (["schedule", "1", "--account", "nobody", "--at", "2099-01-01T10:00Z"], "no account named"),
        (["schedule", "9", "--account", "work", "--at", "2099-01-01T10:00Z"], "no post with id 9"),
    ],
)
def test_schedule_errors_exit_2_with_one_line(capsys, account, argv, message):
    run(capsys, "post", "add", "--text", "hello")
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    code, out, _ = run(capsys, "list", "--json")
    assert json.loads(out) == []


def test_instagram_refuses_local_only_media_at_scheduling(capsys, account, tmp_path):
    Account.create(platform="instagram", display_name="ig", username="studio", remote_id="17841")
    img = tmp_path / "p.png"
    img.write_bytes(png_bytes())
    run(capsys, "post", "add", "--text", "look", "--media", str(img))
    code, _, err = run(capsys, "schedule", "1", "--account", "ig", "--at", "2099-01-01T10:00Z")
    assert code == 2
    assert "Instagram fetches media from a public URL" in err


def test_over_long_text_is_refused_for_the_platform(capsys, account):
    run(capsys, "post", "add", "--text", "a" * 3001)
    code, _, err = run(capsys, "schedule", "1", "--account", "work", "--at", "2099-01-01T10:00Z")
    assert code == 2 and "3001 characters, over the limit of 3000" in err
    code, _out, err = run(
        capsys, "schedule", "1", "--account", "work", "--at", "2099-01-01T10:00Z", "--text", "short"
    )
    assert code == 0, err


def test_bad_usage_exits_2(capsys, milton_home):
    with pytest.raises(SystemExit) as exc:
        main(["list", "--status", "bogus"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["schedule"])
    assert exc.value.code == 2


def test_status_json(capsys, account):
    _code, out, _ = run(capsys, "status", "--json")
    data = json.loads(out)
    assert data["scheduler"]["running"] is False
    assert data["next_due"] is None
    assert data["counts"]["pending"] == 0


def test_account_add_refuses_empty_token(capsys, milton_home, monkeypatch, memory_keyring):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, _, err = run(capsys, "account", "add", "x", "--name", "me", "--token-stdin")
    assert code == 2 and "no token on stdin" in err


@pytest.mark.sqlite_only("damages the home's database file")
def test_corrupt_database_is_reported_not_crashed(capsys, milton_home):
    (milton_home / "milton.sqlite3").write_bytes(b"this is not a database" * 100)
    code, _, err = run(capsys, "list")
    assert code == 1
    assert "damaged" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        (dict(status=500, body="<html>oops</html>"), "500"),
        (dict(status=503), "503"),
        (dict(mode="timeout", delay=3), "timed out"),
        (dict(mode="drop"), "dropped"),
        (
            dict(
                status=401,
                body={
                    "title": "Unauthorized",
                    "status": 401,
                    "detail": "Unauthorized",
                    "type": "about:blank",
                },
            ),
            "refused the token",
        ),
    ],
)
def test_identity_lookup_faults_add_nothing(
    capsys, milton_home, memory_keyring, monkeypatch, fault, expect
):
    import io

    from milton_desktop.publishers import x as x_module
    from tests.fakes.x import FakeX

    monkeypatch.setattr(
        x_module.XPublisher, "__init__", _short_timeout(x_module.XPublisher.__init__)
    )
    with FakeX() as fake:
        fake.add_user("1", "me", "Me", token="tok-identity-1")
        fake.inject(r"GET /2/users/me", **fault)
        monkeypatch.setattr("sys.stdin", io.StringIO("tok-identity-1\n"))
        code, _, err = run(
            capsys, "account", "add", "x", "--name", "me", "--api-base", fake.url, "--token-stdin"
        )
    assert code == 1
    assert expect in err and "tok-identity-1" not in err
    assert json.loads(run(capsys, "account", "list", "--json")[1]) == []
    assert memory_keyring.store == {}


def _short_timeout(init):
    def patched(self, *args, **kwargs):
        kwargs["timeout"] = (2, 1)
        init(self, *args, **kwargs)

    return patched


def test_refused_connection_on_identity_lookup(capsys, milton_home, memory_keyring, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("tok-identity-2\n"))
    code, _, err = run(
        capsys,
        "account",
        "add",
        "linkedin",
        "--name",
        "me",
        "--api-base",
        "http://127.0.0.1:9",
        "--token-stdin",
    )
    assert code == 1 and "could not connect" in err


def test_schedule_repeat_and_cancel_series(capsys, account):
    run(capsys, "post", "add", "--text", "weekly tip")
    code, out, err = run(
        capsys,
        "schedule",
        "1",
        "--account",
        "work",
        "--at",
        "2099-03-10T10:00",
        "--tz",
        "Europe/Paris",
        "--repeat",
        "FREQ=WEEKLY;BYDAY=TU",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert (
        data["recurrence_id"] == 1 and data["id"] is None
    )  # 2099 is beyond the three-week horizon
    code, _, err = run(
        capsys,
        "schedule",
        "1",
        "--account",
        "work",
        "--at",
        "2099-03-10T10:00",
        "--tz",
        "Europe/Paris",
        "--repeat",
        "FREQ=NEVER",
    )
    assert code == 2 and "FREQ=NEVER is not supported" in err
    code, _, err = run(capsys, "cancel", "1", "--series")
    assert code == 2 and "no scheduled post with id 1" in err


def test_headless_is_run_with_its_options(milton_home, monkeypatch):
    """`--headless [options]` is the original daemon's spelling of `run [options]`."""
    import milton_desktop.cli as cli_module

    seen = []
    monkeypatch.setattr(
        cli_module, "cmd_run", lambda ctx, args: seen.append((args.once, args.interval)) or 0
    )
    monkeypatch.setitem(cli_module.COMMANDS, "run", cli_module.cmd_run)
    assert main(["--headless", "--interval", "5"]) == 0
    assert main(["--headless", "--once"]) == 0
    assert seen == [(False, 5.0), (True, None)]


@pytest.mark.both_backends
def test_account_remove_with_a_waiting_post_needs_force(capsys, account, memory_keyring):
    """The same end state as the window's Remove… after its confirmation (see
    tests/ui/accounts/test_dialog.py): the post cancelled with its reason, history kept,
    the account retired under "NAME (removed)", its token deleted."""
    from milton_desktop.storage.models import ScheduledPost

    run(capsys, "post", "add", "--text", "waiting")
    run(capsys, "post", "add", "--text", "already out")
    code, out, err = run(capsys, "schedule", "1", "--account", "work", "--at", "2099-03-10T09:00Z")
    assert code == 0, err
    waiting = int(out)
    code, out, err = run(capsys, "schedule", "2", "--account", "work", "--at", "2099-03-11T09:00Z")
    assert code == 0, err
    done = int(out)
    ScheduledPost.update(status="published", remote_url="https://l.example/1").where(
        ScheduledPost.id == done
    ).execute()

    code, out, err = run(capsys, "account", "remove", "work")
    assert code == 2 and out == ""
    assert "1 scheduled post is still live on “work”" in err
    assert "--force" in err and err.count("\n") == 1
    # refused: nothing changed
    assert [a["name"] for a in json.loads(run(capsys, "account", "list", "--json")[1])] == ["work"]
    assert len(memory_keyring.store) == 1

    code, out, err = run(capsys, "account", "remove", "work", "--force")
    assert code == 0, err
    assert "removed account 'work'; 1 of its post(s) cancelled" in out

    rows = {r["id"]: r for r in json.loads(run(capsys, "list", "--json")[1])}
    assert (rows[waiting]["status"], rows[waiting]["error"]) == (
        "cancelled",
        "cancelled: the account “work” was removed",
    )
    assert (rows[done]["status"], rows[done]["url"]) == ("published", "https://l.example/1")
    assert {r["account"] for r in rows.values()} == {"work (removed)"}
    assert json.loads(run(capsys, "account", "list", "--json")[1]) == []
    assert memory_keyring.store == {}
    code, _, err = run(capsys, "schedule", "1", "--account", "work", "--at", "2099-03-12T09:00Z")
    assert code == 2 and "no account named 'work'" in err


def test_account_refresh_renews_an_instagram_token_and_refuses_linkedin(
    capsys, milton_home, monkeypatch, memory_keyring
):
    import io

    from tests.fakes.instagram import FakeInstagram

    with FakeInstagram() as ig:
        ig.add_token("IGAA-cli-refresh-1", age=3 * 86400)  # valid, three days old
        monkeypatch.setattr("sys.stdin", io.StringIO("IGAA-cli-refresh-1\n"))
        code, _, err = run(
            capsys,
            "account",
            "add",
            "instagram",
            "--name",
            "studio",
            "--api-base",
            ig.url,
            "--token-stdin",
        )
        assert code == 0, err
        from datetime import UTC, datetime, timedelta

        Account.update(created_at=datetime.now(UTC) - timedelta(days=3)).execute()
        code, out, err = run(capsys, "account", "refresh", "studio", "--json")
        assert code == 0, err
        row = json.loads(out)
        assert row["name"] == "studio" and row["token_expires_at"].endswith("Z")
        assert len(ig.calls(r"GET /refresh_access_token")) == 1

    Account.create(platform="linkedin", display_name="work", remote_id="7")
    code, _, err = run(capsys, "account", "refresh", "work")
    assert code == 2
    assert "LinkedIn tokens cannot be renewed from here: reconnect “work”" in err


def test_a_linkedin_page_is_connected_by_id_and_posts_as_the_page(
    capsys, milton_home, monkeypatch, memory_keyring
):
    import io
    from datetime import UTC, datetime

    from tests.fakes.linkedin import PAGE_SCOPES, FakeLinkedIn

    with FakeLinkedIn() as li:
        token = li.add_member("782bbtaQ", "Jo Writer", scopes=PAGE_SCOPES)
        li.add_organization(123, "Milton Studio", "milton-studio", admins=["782bbtaQ"])
        li.add_organization(456, "Other Co", admins=["someone-else"])

        def add(*extra):
            monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
            return run(
                capsys, "account", "add", "linkedin", "--api-base", li.url, "--token-stdin", *extra
            )

        code, _, err = add("--name", "nope", "--page", "456")
        assert code == 2
        assert "you do not administer the page '456': your pages are Milton Studio (123)" in err
        assert Account.select().count() == 0  # nothing stored for a refused page

        code, out, err = add("--name", "studio page", "--page", "123", "--json")
        assert code == 0, err
        assert json.loads(out)["remote_id"] == "urn:li:organization:123"

        code, out, _ = run(capsys, "post", "add", "--text", "Hello from the studio")
        post_id = out.strip()
        now = datetime.now(UTC).isoformat()  # due at once: run --once publishes it
        code, _, err = run(capsys, "schedule", post_id, "--account", "studio page", "--at", now)
        assert code == 0, err
        code, out, err = run(capsys, "run", "--once")
        assert code == 0, err
        assert [p["author"] for p in li.posts] == ["urn:li:organization:123"]


def test_a_plain_http_api_base_to_another_host_is_refused(
    capsys, milton_home, monkeypatch, memory_keyring
):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a-real-looking-token\n"))
    code, _, err = run(
        capsys,
        "account",
        "add",
        "x",
        "--name",
        "me",
        "--api-base",
        "http://api.example.com",
        "--token-stdin",
    )
    assert code == 2
    assert "must start with https://" in err and "a-real-looking-token" not in err
    assert Account.select().count() == 0


@pytest.mark.parametrize("bad", ["9223372036854775808", "0", "-3", "1e3", "١٢"])
def test_an_id_out_of_range_or_malformed_is_bad_usage(capsys, milton_home, bad):
    with pytest.raises(SystemExit) as exited:
        main(["cancel", bad])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "is not an id" in err and "Traceback" not in err
