"""A team database on a real PostgreSQL server: created and upgraded by the same models
and migrations, logged in to without the password ever reaching a message, and
written to one transaction at a time, as the SQLite file is."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from milton_desktop.storage import backend
from milton_desktop.storage.db import SCHEMA_VERSION, DatabaseError, close_database, open_database
from milton_desktop.storage.models import Account, Machine, Voice, database

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _without_password(url):
    parts = urlsplit(url)
    netloc = f"{parts.username}@{parts.hostname}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), parts.password


def _tables(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {name for (name,) in rows}


def test_a_new_team_database_gets_the_current_schema_and_the_built_in_voices(postgres_url):
    open_database(postgres_url)
    try:
        assert backend.current().is_postgres
        assert Voice.select().where(Voice.builtin == True).count() == 3  # noqa: E712
        acc = Account.create(platform="x", display_name="brand-x", remote_id="1")
    finally:
        close_database()
    assert {"accounts", "scheduled_posts", "machines", "voices"} <= _tables(postgres_url)
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM milton_schema").fetchall() == [(SCHEMA_VERSION,)]

    open_database(postgres_url)  # opened again: nothing is created or seeded twice
    try:
        assert Account.get_by_id(acc.id).display_name == "brand-x"
        assert Voice.select().count() == 3
    finally:
        close_database()


def test_a_team_database_from_a_newer_version_is_refused(postgres_url):
    open_database(postgres_url)
    close_database()
    with psycopg.connect(postgres_url) as conn:
        conn.execute("UPDATE milton_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(DatabaseError, match="newer Milton Desktop"):
        open_database(postgres_url)


def test_raw_statements_keep_their_placeholders_and_percent_signs(any_db):
    Account.create(platform="x", display_name="50% off", remote_id="1")
    Account.create(platform="x", display_name="what? why", remote_id="2")
    found = database.execute_sql(
        "SELECT display_name FROM accounts WHERE display_name LIKE '%off' OR remote_id = ?"
        " ORDER BY id",
        ("2",),
    ).fetchall()
    assert found == [("50% off",), ("what? why",)]
    (text,) = database.execute_sql("SELECT 'a ? stays' || ?", ("!",)).fetchone()
    assert text == "a ? stays!"


def test_a_new_row_id_comes_back_on_both_backends(any_db):
    new_id = backend.current().insert_id(
        database,
        "INSERT INTO accounts (platform, display_name, username, remote_id, status,"
        " created_at, profile_name) VALUES (?, ?, '', '', 'connected', ?, '')",
        ("x", "one", "2026-03-01 09:00:00.000000"),
    )
    assert Account.get_by_id(new_id).display_name == "one"


def test_the_machines_table_keeps_one_row_per_machine(any_db):
    from peewee import IntegrityError

    fields = dict(label="a", started_at=NOW, last_seen_at=NOW, interval_s=60, accounts="[1]")
    Machine.create(install_id="abc", online=True, **fields)
    with pytest.raises(IntegrityError), database.atomic():
        Machine.create(install_id="abc", online=False, **fields)
    row = Machine.get(Machine.install_id == "abc")
    assert row.online is True and row.last_seen_at == NOW


def test_write_transactions_take_turns_as_on_sqlite(postgres_url):
    """A read-then-write on one client waits for another's to commit, so neither
    decides on what the other is about to change (SQLite's BEGIN IMMEDIATE)."""
    open_database(postgres_url)
    Account.create(platform="x", display_name="counter", remote_id="0")
    order: list[str] = []

    def other() -> None:
        with database.connection_context(), database.atomic():
            order.append("other in")
            acc = Account.get(Account.display_name == "counter")
            acc.remote_id = str(int(acc.remote_id) + 1)
            acc.save()

    with database.atomic():
        acc = Account.get(Account.display_name == "counter")
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.3)  # the other transaction is waiting for the write lock by now
        order.append("first commits")
        acc.remote_id = str(int(acc.remote_id) + 1)
        acc.save()
    thread.join(10)
    assert order == ["first commits", "other in"]
    assert Account.get(Account.display_name == "counter").remote_id == "2"


def test_the_password_is_used_but_never_shown(postgres_url, monkeypatch):
    bare, password = _without_password(postgres_url)
    wrong = urlunsplit(
        urlsplit(postgres_url)._replace(
            netloc=urlsplit(postgres_url).netloc.replace(password, "nope-not-it")
        )
    )
    with pytest.raises(DatabaseError) as failure:
        open_database(wrong)
    message = str(failure.value)
    assert "cannot log in" in message and "nope-not-it" not in message
    assert bare in message

    monkeypatch.setenv("PGPASSWORD", password)  # libpq's own source, when the URL has none
    open_database(bare)
    assert backend.current().label == bare
    close_database()


def test_an_unreachable_server_is_explained(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(DatabaseError, match="cannot reach the team database") as failure:
        open_database("postgresql://milton:s3cret-word@127.0.0.1:9/milton")
    assert "s3cret-word" not in str(failure.value)


def test_the_url_is_shown_without_its_password():
    assert (
        backend.redacted_url("postgresql://alice:pa55word@db.example:5433/team?sslmode=require")
        == "postgresql://alice@db.example:5433/team?sslmode=require"
    )
    assert backend.redacted_url("postgresql://db.example/team") == "postgresql://db.example/team"
    assert backend.is_url("postgres://x/y") and not backend.is_url("/home/a/milton.sqlite3")


def test_the_engine_keeps_its_own_state_in_the_home_not_under_the_url(postgres_url, tmp_path):
    from milton_desktop.engine import machine

    open_database(postgres_url, local_dir=tmp_path)
    try:
        assert machine._data_folder() == tmp_path
        assert "127.0.0.1" not in str(machine._data_folder())
    finally:
        close_database()
