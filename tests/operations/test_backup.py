"""Backups and restores on real files: the archive's contents and checksums, no tokens
in it, a tampered archive refused before anything changes, an older schema migrated,
rows caught mid-publish uncertain, a home with data kept unless forced, the tokens this
keyring lacks named, and the daily backup pruned to the kept count."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.operations import backup, posts, schedules
from milton_desktop.operations.posts import MediaInput
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import settings, snapshot
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.db import SCHEMA_VERSION, close_database, open_database
from milton_desktop.storage.models import Account, Media, PublishingResult, ScheduledPost
from tests.operations.helpers import LATER, NOW, jpeg, set_status
from tests.storage.test_db import (
    _undo_schema_7,
    _undo_schema_8,
    _undo_schema_9,
    _undo_schema_10,
    _undo_schema_12,
    _undo_schema_13,
    _undo_schema_15,
)

pytestmark = pytest.mark.sqlite_only(
    "backs up the home's file; a team database refuses (tests/storage/test_portable.py)"
)

SECRET = "tok-very-secret-0123456789abcdef"


@pytest.fixture
def home(db, memory_keyring, tmp_path, monkeypatch):
    """A home with two accounts (tokens in the keyring), a post with an image scheduled
    on each, and a draft."""
    paths = resolve_paths()
    store = CredentialStore(settings.install_id())
    li = Account.create(platform="linkedin", display_name="work", remote_id="42")
    x = Account.create(platform="x", display_name="hq", remote_id="7")
    store.save("linkedin", li.id, Credential(SECRET, refresh_token=SECRET + "-refresh"))
    store.save("x", x.id, Credential("x-" + SECRET))
    clock = FakeClock(NOW)
    picture = jpeg(tmp_path / "photo.jpg", 640, 480)
    post = posts.add_post(
        "with a photo",
        media=[MediaInput(path=picture, alt_text="a photo")],
        media_dir=paths.media_dir,
        clock=clock,
    )
    first = schedules.schedule(post.id, li, LATER, timezone="Europe/Paris", clock=clock)
    second = schedules.schedule(post.id, x, LATER, clock=clock)
    posts.add_post("a draft", clock=clock)
    return {
        "paths": paths,
        "home": backup.Home.of(paths),
        "store": store,
        "clock": clock,
        "schedules": (first, second),
        "accounts": (li, x),
    }


def _fresh_home(tmp_path, monkeypatch, name="other"):
    """Switch the process to another, empty home (as another computer would be)."""
    close_database()
    other = tmp_path / name
    monkeypatch.setenv("MILTON_HOME", str(other))
    paths = resolve_paths().ensure()
    open_database(paths.db_path)
    return paths


def _member_digests(archive: Path) -> dict[str, str]:
    with zipfile.ZipFile(archive) as zf:
        return {
            n: hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist() if n != "manifest.json"
        }


def _table_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}


def test_the_archive_holds_the_database_media_and_a_manifest(home, tmp_path):
    target = tmp_path / "out" / "milton.zip"
    target.parent.mkdir()
    report = backup.create_backup(target, home["home"])
    assert report.path == target and report.media_files == 1
    with zipfile.ZipFile(target) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert "milton.sqlite3" in names and "manifest.json" in names
    (media_member,) = [n for n in names if n.startswith("media/")]
    assert manifest["format"] == "milton-desktop-backup"
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["app_version"]
    assert manifest["created_at"].endswith("Z")
    assert {n: m["sha256"] for n, m in manifest["members"].items()} == _member_digests(target)
    (stored,) = [m.path for m in Media.select() if m.path]
    assert (
        hashlib.sha256(Path(stored).read_bytes()).hexdigest()
        == (manifest["members"][media_member]["sha256"])
    )
    assert manifest["rows"]["posts"] == 2 and manifest["rows"]["scheduled_posts"] == 2
    # nothing temporary is left beside it or in the data folder
    assert sorted(p.name for p in target.parent.iterdir()) == ["milton.zip"]
    assert not list(home["paths"].data_dir.glob(".backup-*"))


def test_no_token_is_in_the_archive(home, tmp_path):
    target = tmp_path / "b.zip"
    backup.create_backup(target, home["home"])
    raw = target.read_bytes()
    with zipfile.ZipFile(target) as zf:
        inflated = b"".join(zf.read(n) for n in zf.namelist())
    for blob in (raw, inflated):
        assert SECRET.encode() not in blob
        assert b"very-secret" not in blob
    # the tokens are really in the keyring, where they stay
    li, _x = home["accounts"]
    assert home["store"].load("linkedin", li.id, cached=False).access_token == SECRET


def test_a_failed_backup_leaves_no_archive(home, tmp_path, monkeypatch):
    target = tmp_path / "b.zip"
    real = backup._add

    def fail_on_media(zf, path, member, *a, **k):
        if member.startswith("media/"):
            raise OSError(28, "No space left on device")
        return real(zf, path, member, *a, **k)

    monkeypatch.setattr(backup, "_add", fail_on_media)
    with pytest.raises(backup.BackupError, match="No space left"):
        backup.create_backup(target, home["home"])
    assert list(tmp_path.glob("*b.zip*")) == []


def test_restore_into_an_empty_home_is_identical(home, tmp_path, monkeypatch):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    with zipfile.ZipFile(archive) as zf:
        (tmp_path / "archived.sqlite3").write_bytes(zf.read("milton.sqlite3"))
    before = _table_rows(tmp_path / "archived.sqlite3")
    store = home["store"]
    install = store.install_id
    paths = _fresh_home(tmp_path, monkeypatch)
    fresh_store = CredentialStore(settings.install_id())
    report = backup.restore_backup(archive, backup.Home.of(paths), fresh_store)
    assert snapshot.integrity_problems(paths.db_path) == []
    after = _table_rows(paths.db_path)
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    for table in before:
        if table != "media":
            assert after[table] == before[table], table
    # media point at this home's copy, with the same bytes
    (path,) = [m.path for m in Media.select() if m.path]
    assert Path(path).parent == paths.media_dir
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == Path(path).stem
    # the restored home is the backed-up one: its tokens are found again
    assert fresh_store.install_id == install
    assert report.reconnect == [] and report.previous is None
    assert report.rows["posts"] == 2


def test_a_tampered_archive_is_refused_before_anything_changes(home, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    tampered = tmp_path / "t.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "milton.sqlite3":
                data = data.replace(b"with a photo", b"with a phot0")
            dst.writestr(info, data)
    db_before = home["paths"].db_path.read_bytes()
    files_before = sorted(p.name for p in home["paths"].data_dir.iterdir())
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore_backup(tampered, home["home"], home["store"], force=True)
    assert home["paths"].db_path.read_bytes() == db_before
    assert sorted(p.name for p in home["paths"].data_dir.iterdir()) == files_before


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ("extra", "not in its manifest"),
        ("missing", "is missing"),
        ("manifest", "manifest cannot be read"),
        ("traversal", "unexpected file"),
        ("newer", "newer Milton Desktop"),
        ("foreign", "not a Milton Desktop backup"),
    ],
)
def test_archives_that_do_not_match_their_manifest(home, tmp_path, change, words):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        for info in src.infolist():
            if info.filename == "manifest.json":
                continue
            if change == "missing" and info.filename.startswith("media/"):
                continue
            dst.writestr(info, src.read(info.filename))
        if change == "extra":
            dst.writestr("media/extra.jpg", b"x")
        if change == "traversal":
            dst.writestr("media/../../evil", b"x")
        if change == "newer":
            manifest["schema_version"] = SCHEMA_VERSION + 1
        if change == "foreign":
            manifest["format"] = "something-else"
        text = "{not json" if change == "manifest" else json.dumps(manifest)
        dst.writestr("manifest.json", text)
    with pytest.raises(backup.BackupError, match=words):
        backup.verify_archive(bad)


def test_a_home_with_data_is_kept_unless_forced(home, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    posts.add_post("written after the backup")
    with pytest.raises(backup.HomeNotEmpty, match="already holds 3 posts and 2 accounts"):
        backup.restore_backup(archive, home["home"], home["store"])
    report = backup.restore_backup(archive, home["home"], home["store"], force=True)
    assert report.rows["posts"] == 2
    assert report.previous is not None and report.previous.exists()
    with sqlite3.connect(report.previous) as conn:  # the replaced database is kept as it was
        assert conn.execute("SELECT COUNT(*) FROM posts").fetchone()[0] == 3
    from milton_desktop.storage.models import Post

    assert Post.select().count() == 2  # this process's connection sees the restored rows


def test_rows_being_published_come_back_uncertain(home, tmp_path, monkeypatch):
    first, second = home["schedules"]
    set_status(first, "publishing", claimed_by="host:1:abc", attempts=1)
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    paths = _fresh_home(tmp_path, monkeypatch)
    report = backup.restore_backup(archive, backup.Home.of(paths), None)
    assert report.uncertain == [first.id]
    row = ScheduledPost.get_by_id(first.id)
    assert row.status == "uncertain" and row.claimed_by is None
    assert "being published when the backup was taken" in row.error_message
    (result,) = PublishingResult.select().where(PublishingResult.schedule == first.id)
    assert (result.outcome, result.error_kind) == ("uncertain", "restored")
    assert ScheduledPost.get_by_id(second.id).status == "pending"
    assert "now uncertain" in report.summary() and str(first.id) in report.summary()


def test_an_older_schema_backup_is_migrated(home, tmp_path, monkeypatch):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    old = tmp_path / "v6.zip"
    _rewrite_database(archive, old, _to_schema_6)
    paths = _fresh_home(tmp_path, monkeypatch)
    report = backup.restore_backup(old, backup.Home.of(paths), None)
    assert report.migrated_from == 6
    assert snapshot.schema_version(paths.db_path) == SCHEMA_VERSION
    assert Account.get(Account.display_name == "work").timezone is None
    assert ScheduledPost.select().count() == 2
    assert "from schema 6" in report.summary()


def _to_schema_6(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        _undo_schema_8(conn)
        _undo_schema_7(conn)
        conn.execute("PRAGMA user_version = 6")


def _rewrite_database(archive: Path, target: Path, change) -> None:
    """A valid archive whose database ``change`` altered (an older app's backup)."""
    work = target.parent / "db-work.sqlite3"
    with zipfile.ZipFile(archive) as src:
        work.write_bytes(src.read("milton.sqlite3"))
        change(work)
        data = work.read_bytes()
        manifest = json.loads(src.read("manifest.json"))
        manifest["members"]["milton.sqlite3"] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        manifest["schema_version"] = snapshot.schema_version(work)
        with zipfile.ZipFile(target, "w") as dst:
            for info in src.infolist():
                if info.filename == "milton.sqlite3":
                    dst.writestr(info, data)
                elif info.filename != "manifest.json":
                    dst.writestr(info, src.read(info.filename))
            dst.writestr("manifest.json", json.dumps(manifest))
    work.unlink()


def test_accounts_without_a_token_here_are_named(home, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    _li, x = home["accounts"]
    home["store"].delete("x", x.id)
    report = backup.restore_backup(archive, home["home"], home["store"], force=True)
    assert report.reconnect == ["hq"]
    assert "reconnect these (this keyring has no token for them): hq" in report.summary()


def test_a_restore_waits_for_a_quiet_home(home, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, home["home"])
    db_before = home["paths"].db_path.read_bytes()
    with pytest.raises(backup.OperationFailed, match="a scheduler is publishing"):
        backup.restore_backup(
            archive,
            home["home"],
            home["store"],
            force=True,
            quiet=lambda: "a scheduler is publishing",
        )
    assert home["paths"].db_path.read_bytes() == db_before


def test_the_quiet_check_sees_other_engines_and_waiting_results(home):
    from milton_desktop.engine import liveness
    from milton_desktop.engine.journal import FOLDER
    from milton_desktop.engine.quiet import restore_blocker

    data_dir = home["paths"].data_dir
    assert restore_blocker(data_dir) is None
    journal = data_dir / FOLDER
    journal.mkdir()
    (journal / "w-abc.1.k.json").write_text(
        json.dumps(
            {"v": 1, "key": "k", "schedule_id": 1, "worker_id": "w", "result": {}, "changes": {}}
        )
    )
    assert "waiting to be recorded" in (restore_blocker(data_dir) or "")
    (journal / "w-abc.1.k.json").unlink()
    # an engine of another process holds its worker lock: simulated by a child process
    import subprocess
    import sys
    import time

    lock = liveness.lock_path(data_dir / liveness.FOLDER, "other:1:x")
    lock.parent.mkdir(exist_ok=True)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,os,sys,time\n"
            f"fd=os.open({str(lock)!r}, os.O_RDWR|os.O_CREAT, 0o600)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert "publishing from this home" in (restore_blocker(data_dir) or "")
    finally:
        child.kill()
        child.communicate()
    time.sleep(0.05)
    assert restore_blocker(data_dir) is None


# ---------------------------------------------------------------- automatic backups


def test_daily_backups_are_pruned_to_the_kept_count(home):
    settings.set_value("auto_backup_keep", 3)
    clock = FakeClock(NOW)
    folder = backup.auto_folder(home["home"])
    assert folder == home["paths"].data_dir / "backups"
    made = []
    for _ in range(5):
        assert backup.auto_backup_due(home["home"], clock.now())
        made.append(backup.back_up_now(home["home"], clock=clock).path)
        assert not backup.auto_backup_due(home["home"], clock.now() + timedelta(hours=12))
        clock.advance(timedelta(days=1))
    kept = [p for _w, p in backup.automatic_backups(folder)]
    assert kept == made[-3:]
    assert all(not p.exists() for p in made[:2])
    (folder / "my-own-notes.txt").write_text("not ours")
    settings.set_value("auto_backup_keep", 1)
    backup.back_up_now(home["home"], clock=clock)
    assert len(backup.automatic_backups(folder)) == 1
    assert (folder / "my-own-notes.txt").exists()  # only our archives are pruned


def test_the_automatic_backup_can_be_turned_off_and_moved(home, tmp_path):
    assert settings.get("auto_backup") is True  # on by default
    assert settings.get("auto_backup_keep") == 14
    backup.set_backup_settings(False, 14, "")
    assert not backup.auto_backup_due(home["home"], NOW)
    elsewhere = tmp_path / "my backups"
    backup.set_backup_settings(True, 30, str(elsewhere))
    assert backup.auto_folder(home["home"]) == elsewhere and elsewhere.is_dir()
    state = backup.backup_state(home["home"])
    assert (state.enabled, state.keep, state.count, state.custom_folder) == (True, 30, 0, True)
    with pytest.raises(backup.UserError, match="between 1 and 366"):
        backup.set_backup_settings(True, 0, "")
    with pytest.raises(backup.UserError, match="not a full path"):
        backup.set_backup_settings(True, 5, "relative/folder")


def test_the_scheduler_backs_up_only_between_publishes(home):
    from milton_desktop.engine.autobackup import AutoBackup
    from milton_desktop.engine.machine import Engine

    clock = FakeClock(NOW)
    engine = Engine(home["store"], clock=clock)
    busy = [1]
    auto = AutoBackup(engine, lambda: busy[0], clock=clock, start_delay_s=0)
    folder = backup.auto_folder(home["home"])
    assert not auto.check()  # a publish is in flight
    busy[0] = 0
    # the next post is a minute away: it comes first
    first, second = home["schedules"]
    for row in (first, second):
        ScheduledPost.update(next_attempt_at=NOW + timedelta(minutes=1)).where(
            ScheduledPost.id == row.id
        ).execute()
    assert not auto.check()
    clock.advance(timedelta(minutes=5))  # now it is late and missed by others, or gone
    for row in (first, second):
        ScheduledPost.update(next_attempt_at=NOW + timedelta(hours=3)).where(
            ScheduledPost.id == row.id
        ).execute()
    assert auto.check()
    auto._thread.join(30)
    assert auto.last_error is None and auto.last_report is not None
    assert len(backup.automatic_backups(folder)) == 1
    assert not auto.check()  # done for today
    clock.advance(timedelta(days=1))
    assert auto.check()
    auto._thread.join(30)
    auto.stop()
    assert len(backup.automatic_backups(folder)) == 2


def test_a_stopped_automatic_backup_leaves_nothing(home):
    import threading

    cancel = threading.Event()
    cancel.set()
    with pytest.raises(backup.BackupCancelled):
        backup.back_up_now(home["home"], cancel=cancel)
    folder = backup.auto_folder(home["home"])
    assert list(folder.iterdir()) == []
    assert not list(home["paths"].data_dir.glob(".backup-*"))


def test_the_scheduler_waits_after_it_starts(home):
    from milton_desktop.engine.autobackup import AutoBackup
    from milton_desktop.engine.machine import Engine

    auto = AutoBackup(Engine(home["store"]), lambda: 0)
    assert not auto.check()  # five minutes of quiet after a start
    assert backup.automatic_backups(backup.auto_folder(home["home"])) == []
