"""Schema 13 (members and approvals) upgrades a team database as it upgrades the
home's file: the PostgreSQL form of each statement, and nothing lost on the way."""

from __future__ import annotations

import psycopg

from milton_desktop.storage.db import SCHEMA_VERSION, close_database, open_database
from milton_desktop.storage.models import Account, ScheduledPost

#: what schema 13 adds (table, column)
ADDED = (
    ("accounts", "require_approval"),
    ("scheduled_posts", "created_by"),
    ("scheduled_posts", "updated_by"),
    ("scheduled_posts", "approved_by"),
    ("scheduled_posts", "approved_at"),
    ("recurrences", "created_by"),
)


def _columns(conn) -> dict[tuple[str, str], tuple[str, str | None]]:
    rows = conn.execute(
        "SELECT table_name, column_name, data_type, column_default"
        " FROM information_schema.columns WHERE table_schema = 'public'"
    ).fetchall()
    return {(t, c): (kind, default) for t, c, kind, default in rows}


def test_a_team_database_at_schema_12_gets_members_and_approvals(postgres_url):
    open_database(postgres_url)
    Account.create(platform="x", display_name="brand-x", remote_id="1")
    close_database()
    with psycopg.connect(postgres_url) as conn:
        made = _columns(conn)  # as a new database has them
        for table, column in ADDED:
            conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
        conn.execute("UPDATE milton_schema SET version = 12")

    open_database(postgres_url)
    try:
        acc = Account.get(Account.display_name == "brand-x")
        assert acc.require_approval is False  # its posts go out as before
        assert ScheduledPost.select().count() == 0
    finally:
        close_database()
    with psycopg.connect(postgres_url) as conn:
        migrated = _columns(conn)
        assert conn.execute("SELECT version FROM milton_schema").fetchall() == [(SCHEMA_VERSION,)]
    assert {k: migrated[k] for k in ADDED} == {k: made[k] for k in ADDED}
    assert migrated[("accounts", "require_approval")][0] == "boolean"
