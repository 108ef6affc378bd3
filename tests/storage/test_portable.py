"""What differs between the two backends, checked on both: upserts, the change counter
the window polls, reads that never wait for a writer, and what a team database refuses
(file backups: its server keeps those)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest

from milton_desktop.operations import backup
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import backend, queries, settings
from milton_desktop.storage.backend import WRITE_LOCK_KEY

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_settings_are_replaced_in_place(any_db):
    settings.set_value("grace_minutes", 30)
    settings.set_value("grace_minutes", 45)
    settings.set_internal("probe", {"a": 1})
    settings.set_internal("probe", {"a": 2})
    assert settings.get("grace_minutes") == 45
    assert settings.get_internal("probe") == {"a": 2}


def test_the_change_counter_moves_when_another_client_writes(any_db):
    from milton_desktop.operations import posts

    before = queries.data_version()
    done = threading.Event()

    def other_client():  # another connection, as another process would have
        with any_db.connection_context():
            posts.add_post("from elsewhere")
        done.set()

    threading.Thread(target=other_client).start()
    assert done.wait(10)
    assert queries.data_version() != before


def test_a_read_does_not_wait_for_a_team_writer(postgres_url):
    from milton_desktop.storage.db import open_database

    open_database(postgres_url)
    with psycopg.connect(postgres_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))  # mid-write
        started = time.monotonic()
        _accounts, rows = queries.calendar_rows(NOW, NOW.replace(day=11))
        assert rows == [] and time.monotonic() - started < 2
        other.rollback()


def test_file_backups_of_a_team_database_are_refused_with_what_to_do(postgres_url, tmp_path):
    from milton_desktop.storage.db import open_database

    open_database(postgres_url, local_dir=tmp_path)
    assert backend.current().is_postgres
    home = backup.Home.of(resolve_paths().ensure())
    for attempt in (
        lambda: backup.create_backup(tmp_path / "b.zip", home),
        lambda: backup.restore_backup(tmp_path / "b.zip", home, None),
        lambda: backup.set_backup_settings(True, 7, ""),
    ):
        with pytest.raises(backup.BackupError) as err:
            attempt()
        assert "pg_dump" in str(err.value) and "by its server" in str(err.value)
        assert "milton-test" not in str(err.value)  # no password in the message
    assert not (tmp_path / "b.zip").exists()
    backup.set_backup_settings(False, 7, "")  # turning them off is fine
