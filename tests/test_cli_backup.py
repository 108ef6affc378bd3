"""`export`, `backup` and `restore` on the command line: in-process for the exit codes
and messages, and a backup taken while a real `milton-desktop run` publishes to a fake
X, restored into another home to an identical database."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import signal
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from milton_desktop.storage.models import Account
from tests.operations.helpers import jpeg
from tests.test_cli import run


@pytest.fixture
def filled(milton_home, memory_keyring, tmp_path):
    from milton_desktop.context import open_context

    open_context(None, stderr_logging=False)
    Account.create(platform="x", display_name="hq", remote_id="7")
    return jpeg(tmp_path / "p.jpg")


def _add(capsys, *args):
    code, out, err = run(capsys, *args)
    assert code == 0, err
    return out.strip()


def test_export_each_format_to_stdout_and_a_file(capsys, filled, tmp_path):
    post = _add(capsys, "post", "add", "--text", "hello, csv", "--media", str(filled))
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _add(capsys, "schedule", post, "--account", "hq", "--at", when)
    _add(capsys, "post", "add", "--text", "a draft")

    code, out, err = run(capsys, "export", "--format", "csv")
    assert (code, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["text"] for r in rows] == ["hello, csv", "a draft"]
    assert rows[0]["at"] == when and Path(rows[0]["media"]).is_absolute()

    code, out, _ = run(capsys, "export", "--format", "json", "--status", "pending")
    data = json.loads(out)
    assert [s["text"] for s in data["schedules"]] == ["hello, csv"] and data["drafts"] == []

    code, out, _ = run(capsys, "export", "--format", "ics")
    (event,) = icalendar.Calendar.from_ical(out).walk("VEVENT")
    assert str(event["SUMMARY"]) == "X: hello, csv"

    target = tmp_path / "share" / "posts.csv"
    target.parent.mkdir()
    code, out, err = run(capsys, "export", "--format", "csv", "--out", str(target))
    assert code == 0, err
    assert "exported 1 scheduled post and 1 draft" in out and str(target) in out
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows[0]["media"].startswith("posts-media/")
    assert (target.parent / rows[0]["media"]).read_bytes() == filled.read_bytes()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--from", "next week"), "use a date (YYYY-MM-DD"),
        (("--from", "2026-02-30"), "is not a date"),
        (("--out", "/no/such/folder/x.csv"), "does not exist"),
    ],
)
def test_export_bad_input_is_one_line_and_exit_2(capsys, filled, args, words):
    code, out, err = run(capsys, "export", "--format", "csv", *args)
    assert code == 2 and out == ""
    assert words in err and err.count("\n") == 1


@pytest.mark.sqlite_only("backs up the home's file; see test_cli_team")
def test_backup_then_restore_needs_force_on_a_home_with_data(capsys, filled, tmp_path):
    _add(capsys, "post", "add", "--text", "keep me")
    archive = tmp_path / "b.zip"
    code, out, err = run(capsys, "backup", str(archive))
    assert code == 0, err
    assert f"to {archive}" in out and zipfile.is_zipfile(archive)
    code, out, err = run(capsys, "restore", str(archive))
    assert code == 2
    assert "already holds 1 post and 1 account" in err and "--force" in err
    code, out, err = run(capsys, "restore", str(archive), "--force")
    assert code == 0, err
    assert "restored the backup" in out and "kept as" in out


@pytest.mark.sqlite_only("backs up the home's file; see test_cli_team")
def test_a_tampered_archive_is_refused_with_exit_2(capsys, filled, tmp_path):
    archive = tmp_path / "b.zip"
    run(capsys, "backup", str(archive))
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data + b"x" if info.filename == "milton.sqlite3" else data)
    code, _out, err = run(capsys, "restore", str(bad), "--force")
    assert code == 2 and "does not match its checksum" in err
    code, _out, err = run(capsys, "restore", str(tmp_path / "none.zip"))
    assert code == 2 and "no such backup file" in err


# ---------------------------------------------------------------- with a real scheduler


@pytest.fixture
def real_cli(milton_home):
    from tests.e2e.conftest import Cli, _keyring_works

    if _keyring_works() is None:
        pytest.skip("no real keyring in this session: scripts/test.sh runs this with GNOME Keyring")
    return Cli(milton_home)


def _rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: conn.execute(f'SELECT * FROM "{n}" ORDER BY 1').fetchall() for n in names}


def _columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


@pytest.mark.slow
@pytest.mark.sqlite_only("backs up the home's file; see test_cli_team")
def test_a_backup_during_a_running_scheduler_restores_to_an_identical_database(real_cli, tmp_path):
    from tests.e2e.conftest import Cli, wait_for
    from tests.fakes.x import FakeX

    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token="x-token-backup-0001")
        r = real_cli(
            "account", "add", "x", "--name", "hq", "--api-base", fake.url, "--token-stdin",
            stdin="x-token-backup-0001\n",
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        picture = jpeg(tmp_path / "pic.jpg", 320, 200)
        start = datetime.now(UTC) + timedelta(seconds=3)
        for n in range(6):
            media = ["--media", str(picture)] if n % 2 == 0 else []
            r = real_cli("post", "add", "--text", f"post {n} of the burst", *media)
            assert r.returncode == 0, r.stderr
            when = (start + timedelta(milliseconds=300 * n)).isoformat().replace("+00:00", "Z")
            r = real_cli("schedule", r.stdout.strip(), "--account", "hq", "--at", when)
            assert r.returncode == 0, r.stderr
        # the fourth create is held: its row is "publishing" while the backup is taken
        fake.inject("POST /2/tweets", mode="slow", delay=60, skip=3)
        scheduler = real_cli.spawn("run", "--interval", "1")
        try:
            wait_for(lambda: len(fake.calls(r"POST /2/tweets")) >= 4, timeout=40)
            archive = tmp_path / "during.zip"
            r = real_cli("backup", str(archive))
            assert r.returncode == 0, r.stderr
            # a running scheduler keeps a restore away from its home
            r = real_cli("restore", str(archive), "--force")
            assert r.returncode == 1 and "a scheduler is running on this home" in r.stderr
            fake.answer_held()
            wait_for(lambda: len(fake.tweets) == 6, timeout=40)
            wait_for(
                lambda: (
                    json.loads(real_cli("list", "--json").stdout)
                    and all(
                        row["status"] == "published"
                        for row in json.loads(real_cli("list", "--json").stdout)
                    )
                ),
                timeout=30,
            )
        finally:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.communicate(timeout=30)
        assert len(fake.tweets) == 6  # the backup disturbed nothing: each went out once

    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        (tmp_path / "archived.sqlite3").write_bytes(zf.read("milton.sqlite3"))
    archived = _rows(tmp_path / "archived.sqlite3")
    statuses = {row[0]: row for row in archived["scheduled_posts"]}
    status_at = _columns(tmp_path / "archived.sqlite3", "scheduled_posts").index("status")
    caught = [sid for sid, row in statuses.items() if row[status_at] == "publishing"]
    assert caught, "the held publish was in the backup as publishing"

    other = Cli(tmp_path / "other-home")
    r = other("restore", str(archive))
    assert r.returncode == 0, r.stderr
    assert "now uncertain" in r.stdout and "reconnect" not in r.stdout  # the token is here
    restored_db = tmp_path / "other-home" / "milton.sqlite3"
    with sqlite3.connect(restored_db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    restored = _rows(restored_db)
    counts = {t: len(rows) for t, rows in restored.items()}
    expected = dict(manifest["rows"])
    expected["publishing_results"] += len(caught)  # each uncertain row says why
    expected["settings"] -= any(r[0] == "_heartbeat" for r in archived["settings"])
    assert counts == expected
    for table in archived:
        if table in ("scheduled_posts", "publishing_results", "media", "settings"):
            continue
        assert restored[table] == archived[table], table
    cols = _columns(restored_db, "scheduled_posts")
    changed = {cols.index(c) for c in ("status", "claimed_by", "error_message", "updated_at")}
    for sid, row in statuses.items():
        again = next(r for r in restored["scheduled_posts"] if r[0] == sid)
        if sid in caught:
            assert again[cols.index("status")] == "uncertain"
        else:
            assert again == row
        assert [v for i, v in enumerate(again) if i not in changed] == [
            v for i, v in enumerate(row) if i not in changed
        ]
    assert (
        restored["publishing_results"][: len(archived["publishing_results"])]
        == (archived["publishing_results"])
    )
    # media: the same bytes, in the other home's folder, named as before
    path_at = _columns(restored_db, "media").index("path")
    paths = [row[path_at] for row in restored["media"] if row[path_at]]
    assert len(paths) == 3
    for text in paths:
        p = Path(text)
        assert p.parent == tmp_path / "other-home" / "media"
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        assert digest == manifest["members"][f"media/{p.name}"]["sha256"] == p.stem
