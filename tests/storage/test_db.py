"""Opening the database: a new one gets today's schema, an older one is migrated in
place with its rows kept, and a newer one is refused."""

from __future__ import annotations

import sqlite3

import pytest

from milton_desktop.storage.db import SCHEMA_VERSION, DatabaseError, close_database, open_database
from milton_desktop.storage.models import Account, ScheduledPost

#: what schema 2 added, and where
V2_COLUMNS = {
    "scheduled_posts": "warning",
    "publishing_results": "warning",
    "accounts": "token_refreshed_at",
}


def _columns(path, table):
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def _version(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_a_new_database_has_the_current_schema(tmp_path):
    path = tmp_path / "new.sqlite3"
    open_database(path)
    close_database()
    assert _version(path) == SCHEMA_VERSION
    for table, column in V2_COLUMNS.items():
        assert column in _columns(path, table)
    assert "tier" in _columns(path, "accounts")


def test_a_version_1_database_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    close_database()
    with sqlite3.connect(path) as conn:  # turn it back into what version 1 wrote
        for table, column in V2_COLUMNS.items():
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("ALTER TABLE accounts DROP COLUMN tier")
        conn.execute("ALTER TABLE scheduled_posts DROP COLUMN resume")  # schema 3
        conn.execute("ALTER TABLE accounts DROP COLUMN profile_name")  # schema 4
        conn.execute("PRAGMA user_version = 1")
    assert "warning" not in _columns(path, "scheduled_posts")

    open_database(path)
    try:
        assert Account.get_by_id(acc.id).display_name == "mine"
        assert ScheduledPost.select().count() == 0
        assert Account.get_by_id(acc.id).tier is None
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    for table, column in V2_COLUMNS.items():
        assert column in _columns(path, table)
    assert "resume" in _columns(path, "scheduled_posts")
    assert "profile_name" in _columns(path, "accounts")


def test_opening_an_up_to_date_database_needs_no_write_lock(tmp_path):
    from milton_desktop.storage import settings

    path = tmp_path / "busy.sqlite3"
    open_database(path)
    made = settings.install_id()
    close_database()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing, for longer than we wait
    try:
        open_database(path)
        # what every command reads at start-up, without waiting for the writer
        assert settings.install_id() == made
        assert Account.select().count() == 0
        close_database()
    finally:
        holder.rollback()
        holder.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "future.sqlite3"
    open_database(path)
    close_database()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseError, match="written by a newer Milton Desktop"):
        open_database(path)
