"""`migrate-to URL`: a home's SQLite database and media, moved to an empty team database
in one transaction; the local file stays as it was; a second migrate or a failure
midway leaves the target as it was."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from milton_desktop.cli import main
from milton_desktop.domain.status import Status
from milton_desktop.storage.db import close_database
from tests.operations.helpers import jpeg

WHEN = datetime(2099, 3, 10, 9, 0, tzinfo=UTC)


def run(capsys, *argv):
    code = main(list(argv))
    close_database()
    out, err = capsys.readouterr()
    return code, out, err


def _home_with_everything(capsys, tmp_path, milton_home):
    """Posts of every status with attempts and metrics, an edited voice, settings, a
    queued mail and an image, all written the way the app writes them."""
    from milton_desktop.context import open_context
    from milton_desktop.storage import settings
    from milton_desktop.storage.models import (
        Account,
        MailOutbox,
        PostMetric,
        PublishingResult,
        ScheduledPost,
        Voice,
    )

    img = jpeg(tmp_path / "pic.jpg")
    code, _out, err = run(capsys, "post", "add", "--text", "with a picture", "--media", str(img))
    assert code == 0, err
    open_context(None, stderr_logging=False)
    acc = Account.create(platform="x", display_name="brand", username="b", remote_id="1")
    for k, status in enumerate(Status):
        row = ScheduledPost.create(
            post=1, account=acc, scheduled_time=WHEN + timedelta(hours=k),
            next_attempt_at=WHEN + timedelta(hours=k), status=status,
            remote_id=f"r{k}" if status == Status.PUBLISHED else None,
        )  # fmt: skip
        PublishingResult.create(schedule=row, attempt=1, started_at=WHEN, outcome="ok")
        if status == Status.PUBLISHED:
            PostMetric.create(
                schedule=row, account=acc, platform="x", remote_id=f"r{k}", taken_at=WHEN,
                age_bucket="1h", counters='{"likes": 3}', interactions=3,
            )  # fmt: skip
    Voice.update(guide="our own words").where(Voice.name == "coach").execute()
    settings.set_value("grace_minutes", 30)
    MailOutbox.create(key="failed:1:1", event="failed", next_attempt_at=WHEN, status="pending")
    install = settings.install_id()
    close_database()
    return img, install


@pytest.mark.sqlite_only("the home's own file is the source; the target is a team database")
def test_a_migrated_home_lists_the_same_on_the_team_database(
    capsys, tmp_path, milton_home, postgres_url
):
    img, install = _home_with_everything(capsys, tmp_path, milton_home)
    code, local, err = run(capsys, "list", "--json")
    assert code == 0, err
    before = (milton_home / "milton.sqlite3").read_bytes()

    code, out, err = run(capsys, "migrate-to", postgres_url, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["rows"]["scheduled_posts"] == len(Status)
    assert report["rows"]["media_blobs"] == 1 and report["media_files"] == 1
    assert "MILTON_DATABASE_URL" in report["next"] and "keyring" in report["next"]
    assert (milton_home / "milton.sqlite3").read_bytes() == before  # left as it was

    code, team, err = run(capsys, "--database", postgres_url, "list", "--json")
    assert code == 0, err
    assert json.loads(team) == json.loads(local)
    # this machine keeps its install id, so its keyring entries still match
    assert (milton_home / "install-id").read_text().strip() == install
    with psycopg.connect(postgres_url) as con:
        (data,) = con.execute("SELECT data FROM media_blobs").fetchone()
        assert hashlib.sha256(data).hexdigest() == hashlib.sha256(img.read_bytes()).hexdigest()
        assert con.execute("SELECT guide FROM voices WHERE name = 'coach'").fetchone()[0] == (
            "our own words"
        )
        assert con.execute("SELECT COUNT(*) FROM mail_outbox").fetchone()[0] == 1
        assert (
            con.execute("SELECT COUNT(*) FROM settings WHERE key = '_install_id'").fetchone()[0]
            == 0
        )
    # ids go on after the copied ones
    code, out, err = run(capsys, "--database", postgres_url, "post", "add", "--text", "next")
    assert code == 0, err
    assert "2" in out

    code, out, err = run(capsys, "migrate-to", postgres_url)
    assert code == 2 and "is not empty" in err


@pytest.mark.sqlite_only("the home's own file is the source; the target is a team database")
def test_a_failure_midway_leaves_the_target_empty(capsys, tmp_path, milton_home, postgres_url):
    from milton_desktop.operations import migrate
    from milton_desktop.paths import resolve_paths

    _home_with_everything(capsys, tmp_path, milton_home)
    paths = resolve_paths()

    def fail(table):
        if table == "scheduled_posts":
            raise RuntimeError("the network went away")

    with pytest.raises(RuntimeError):
        migrate.migrate_to(postgres_url, paths.db_path, paths.data_dir, after_table=fail)
    with psycopg.connect(postgres_url) as con:
        tables = con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert tables == []
    code, out, err = run(capsys, "migrate-to", postgres_url)  # and it can be tried again
    assert code == 0, err
    assert "next: run with --database URL" in out


def test_migrate_to_refuses_a_team_database_as_its_source(capsys, postgres_url):
    code, _out, err = run(capsys, "--database", postgres_url, "migrate-to", postgres_url)
    assert code == 1 and "this home's own database" in err
