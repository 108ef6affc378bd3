"""Opening the database: a new one gets today's schema, an older one is migrated in
place with its rows kept, and a newer one is refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from peewee import IntegrityError

from milton_desktop.storage.db import SCHEMA_VERSION, DatabaseError, close_database, open_database
from milton_desktop.storage.models import Account, ScheduledPost

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

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
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        _undo_schema_8(conn)
        _undo_schema_7(conn)
        _undo_schema_6(conn)
        _undo_schema_5(conn)
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


def _undo_schema_6(conn):
    for table, column in SCHEMA_6_COLUMNS:
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


SCHEMA_6_COLUMNS = (
    ("posts", "follow_ups"),
    ("posts", "follow_up_delay"),
    ("media", "part"),
    ("scheduled_posts", "parts"),
    ("publishing_results", "part"),
    ("publishing_results", "parts"),
    ("publishing_results", "resolution"),
)


def _undo_schema_5(conn):
    conn.execute("DROP INDEX publishing_results_journal_key")
    conn.execute("ALTER TABLE publishing_results DROP COLUMN journal_key")


def test_a_version_4_database_gets_the_journal_key_and_keeps_its_results(tmp_path):
    from milton_desktop.storage.models import Post, PublishingResult

    path = tmp_path / "v4.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    post = Post.create(body="hello")
    row = ScheduledPost.create(
        post=post, account=acc, scheduled_time=NOW, next_attempt_at=NOW, status="published"
    )
    PublishingResult.create(schedule=row, attempt=1, started_at=NOW, outcome="published")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        _undo_schema_8(conn)
        _undo_schema_7(conn)
        _undo_schema_6(conn)
        _undo_schema_5(conn)
        conn.execute("PRAGMA user_version = 4")

    open_database(path)
    try:
        (kept,) = PublishingResult.select()
        assert kept.journal_key is None
        PublishingResult.create(
            schedule=row, attempt=2, started_at=NOW, outcome="published", journal_key="k1"
        )
        with pytest.raises(IntegrityError):  # one journal entry is recorded once
            PublishingResult.create(
                schedule=row, attempt=2, started_at=NOW, outcome="published", journal_key="k1"
            )
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION


def test_a_version_5_database_gets_follow_ups_and_keeps_its_posts(tmp_path):
    from milton_desktop.storage.models import Media, Post, PublishingResult
    from milton_desktop.storage.queries import follow_up_texts, media_items

    path = tmp_path / "v5.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    post = Post.create(body="hello")
    Media.create(post=post, kind="image", mime="image/png", url="https://e.test/a.png")
    row = ScheduledPost.create(
        post=post, account=acc, scheduled_time=NOW, next_attempt_at=NOW, status="published"
    )
    PublishingResult.create(schedule=row, attempt=1, started_at=NOW, outcome="published")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        _undo_schema_8(conn)
        _undo_schema_7(conn)
        _undo_schema_6(conn)
        conn.execute("PRAGMA user_version = 5")

    open_database(path)
    try:
        kept = Post.get_by_id(post.id)
        assert follow_up_texts(kept) == ()
        assert kept.follow_up_delay == 0
        assert [m.url for m in media_items(kept)] == ["https://e.test/a.png"]
        (result,) = PublishingResult.select()
        assert (result.part, result.parts, result.resolution) == (0, None, None)
        assert ScheduledPost.get_by_id(row.id).parts is None
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION


def _undo_schema_8(conn):
    conn.execute("DROP TABLE post_metrics")  # its indexes go with it


def test_a_version_7_database_gets_post_metrics_as_a_new_one_has_them(tmp_path):
    from milton_desktop.storage.models import Post, PostMetric

    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v7.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    row = ScheduledPost.create(
        post=Post.create(body="hi"),
        account=acc,
        scheduled_time=NOW,
        next_attempt_at=NOW,
        status="published",
        remote_id="42",
    )
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        _undo_schema_8(conn)
        conn.execute("PRAGMA user_version = 7")

    open_database(path)
    try:
        PostMetric.create(
            schedule=row,
            account=acc,
            platform="x",
            remote_id="42",
            taken_at=NOW,
            age_bucket="1h",
            counters='{"likes": 2}',
            interactions=2,
        )
        assert PostMetric.get().impressions is None
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    assert _schema(path) == _schema(new)


def _undo_schema_7(conn):
    conn.execute("DROP INDEX scheduled_posts_account_id_scheduled_time")
    conn.execute("DROP TABLE queue_slots")
    conn.execute("ALTER TABLE accounts DROP COLUMN timezone")


def _undo_schema_9(conn):
    conn.execute("DROP INDEX voices_name")
    conn.execute("DROP TABLE voices")
    conn.execute("ALTER TABLE posts DROP COLUMN variants")


def _schema(path):
    with sqlite3.connect(path) as conn:
        return sorted(
            (name, " ".join(sql.split()))
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            )
        )


def test_a_version_6_database_gets_the_queue_as_a_new_one_has_it(tmp_path):
    from milton_desktop.operations import queue

    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v6.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        _undo_schema_8(conn)
        _undo_schema_7(conn)
        conn.execute("PRAGMA user_version = 6")

    open_database(path)
    try:
        assert Account.get_by_id(acc.id).timezone is None
        view = queue.set_queue(acc, ["MO 09:00"], timezone="Europe/Paris")
        assert [str(s) for s in view.slots] == ["MO 09:00"]
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    # the statements of the migration make exactly what a new database has
    assert _schema(path) == _schema(new)


def test_a_version_8_database_gets_the_voices_as_a_new_one_has_them(tmp_path):
    from milton_desktop.domain.voices import BUILTIN_GUIDES
    from milton_desktop.operations import posts, voices
    from milton_desktop.storage.models import Post

    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v8.sqlite3"
    open_database(path)
    old = Post.create(body="before voices", voice="coach")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        _undo_schema_9(conn)
        conn.execute("PRAGMA user_version = 8")
    assert "variants" not in _columns(path, "posts")

    open_database(path)
    try:
        assert Post.get_by_id(old.id).voice == "coach"
        assert posts.variants_of(old.id) == {}
        seeded = {v.name: v for v in voices.list_voices()}
        assert set(seeded) == set(BUILTIN_GUIDES)
        assert all(v.builtin for v in seeded.values())
        assert seeded["coach"].guide == BUILTIN_GUIDES["coach"].strip()
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    assert _schema(path) == _schema(new)


def test_an_edited_guide_survives_the_seeding(tmp_path):
    from milton_desktop.operations import voices

    path = tmp_path / "edited.sqlite3"
    open_database(path)
    voices.set_voice("coach", "Short and kind. Always name the effort.")
    close_database()
    with sqlite3.connect(path) as conn:  # as if the seeding ran again
        conn.execute("PRAGMA user_version = 8")
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        conn.execute("DROP INDEX voices_name")
        conn.execute('CREATE UNIQUE INDEX "voices_name" ON "voices" ("name")')
        conn.execute("ALTER TABLE posts DROP COLUMN variants")
    open_database(path)
    try:
        assert voices.get_voice("coach").guide == "Short and kind. Always name the effort."
    finally:
        close_database()


def _undo_schema_10(conn):
    conn.execute("DROP TABLE mail_outbox")  # its indexes go with it


def test_a_version_9_database_gets_the_mail_outbox_as_a_new_one_has_it(tmp_path):
    from milton_desktop.operations import notify_mail
    from milton_desktop.storage.models import MailOutbox

    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v9.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        _undo_schema_10(conn)
        conn.execute("PRAGMA user_version = 9")
    assert "mail_outbox" not in {t for (t, _sql) in _schema(path)}

    open_database(path)
    try:
        assert Account.get_by_id(acc.id).display_name == "mine"
        assert MailOutbox.select().count() == 0
        MailOutbox.create(key="published:1:1", event="published", next_attempt_at=NOW)
        with pytest.raises(IntegrityError):  # one outcome, one mail
            MailOutbox.create(key="published:1:1", event="published", next_attempt_at=NOW)
        assert notify_mail.mail_status().pending == 1
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    assert _schema(path) == _schema(new)


def _undo_schema_11(conn):
    conn.execute("DROP TABLE machines")  # its index goes with it


def _undo_schema_12(conn):
    conn.execute("ALTER TABLE scheduled_posts DROP COLUMN claimed_machine")


def _undo_schema_13(conn):
    conn.execute("ALTER TABLE accounts DROP COLUMN require_approval")
    for column in ("created_by", "updated_by", "approved_by", "approved_at"):
        conn.execute(f"ALTER TABLE scheduled_posts DROP COLUMN {column}")
    conn.execute("ALTER TABLE recurrences DROP COLUMN created_by")


def _undo_schema_15(conn):
    conn.execute("DROP TABLE media_blobs")  # its index goes with it


def test_a_version_10_database_gets_the_machines_table_as_a_new_one_has_it(tmp_path):
    from milton_desktop.storage.models import Machine

    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v10.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        _undo_schema_11(conn)
        conn.execute("PRAGMA user_version = 10")
    assert "machines" not in {t for (t, _sql) in _schema(path)}

    open_database(path)
    try:
        assert Account.get_by_id(acc.id).display_name == "mine"
        fields = dict(label="a", started_at=NOW, last_seen_at=NOW, interval_s=60, accounts="[]")
        Machine.create(install_id="abc", online=True, **fields)
        with pytest.raises(IntegrityError):  # one row per machine
            Machine.create(install_id="abc", online=False, **fields)
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    assert _schema(path) == _schema(new)


def test_a_version_14_database_gets_the_media_table_as_a_new_one_has_it(tmp_path):
    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v14.sqlite3"
    open_database(path)
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_15(conn)
        conn.execute("PRAGMA user_version = 14")
    assert "media_blobs" not in {t for (t, _sql) in _schema(path)}
    open_database(path)
    close_database()
    assert _version(path) == SCHEMA_VERSION
    assert _schema(path) == _schema(new)


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


def test_a_version_11_database_gets_members_and_approvals_as_a_new_one_has_them(tmp_path):
    new = tmp_path / "new.sqlite3"
    open_database(new)
    close_database()
    path = tmp_path / "v11.sqlite3"
    open_database(path)
    acc = Account.create(platform="x", display_name="mine", remote_id="1")
    close_database()
    with sqlite3.connect(path) as conn:
        _undo_schema_13(conn)
        _undo_schema_12(conn)
        conn.execute("PRAGMA user_version = 11")
    assert "created_by" not in _columns(path, "scheduled_posts")

    open_database(path)
    try:
        kept = Account.get_by_id(acc.id)
        assert kept.require_approval is False  # what it was: its posts go out as before
    finally:
        close_database()
    assert _version(path) == SCHEMA_VERSION
    assert _schema(path) == _schema(new)
