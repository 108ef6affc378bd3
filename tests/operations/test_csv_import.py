"""CSV import on real files and a real database: every way a spreadsheet writes CSV,
every kind of bad row, all or nothing, duplicates, queue slots, media and undo."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

from milton_desktop.domain.csv_rows import CsvError
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import Status
from milton_desktop.operations import csv_import, posts, queue, schedules
from milton_desktop.storage.models import (
    Media,
    Post,
    PublishingResult,
    Recurrence,
    ScheduledPost,
    database,
)
from tests.operations.helpers import NOW, jpeg, set_status

HEADER = ["text", "account", "at", "tz", "media", "alt_text", "voice", "follow_up_1"]


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> Path:
    """A CSV as Excel writes it: CRLF between rows, quotes only where needed."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def counts() -> dict[str, int]:
    return {
        "posts": Post.select().count(),
        "media": Media.select().count(),
        "schedules": ScheduledPost.select().count(),
        "repeats": Recurrence.select().count(),
    }


def plan(path: Path, clock, **kwargs) -> csv_import.ImportPlan:
    return csv_import.plan_import(path, clock=clock, **kwargs)


def run(path: Path, clock, media_dir: Path, *, skip_invalid=False, **kwargs):
    found = plan(path, clock, **kwargs)
    return csv_import.commit_import(
        found, media_dir=media_dir, skip_invalid=skip_invalid, clock=clock
    )


FUTURE = "2027-02-01T10:00:00Z"


# ---------------------------------------------------------------- reading the file


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_every_delimiter_with_or_without_a_bom(
    tmp_path, accounts, clock, media_dir, delimiter, bom
):
    path = write_csv(
        tmp_path / "posts.csv",
        [
            ["Launch day, finally; really", "Work LinkedIn", FUTURE, "", "", "", "", ""],
            ["a draft", "", "", "", "", "", "coach", ""],
        ],
        delimiter=delimiter,
        bom=bom,
    )
    found = plan(path, clock)
    assert found.delimiter == delimiter
    assert [r.text for r in found.rows] == ["Launch day, finally; really", "a draft"]
    assert found.problem_lines() == []
    result = csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    assert (result.count, result.scheduled, result.drafts) == (2, 1, 1)
    row = ScheduledPost.get_by_id(result.schedule_ids[0])
    assert row.scheduled_time == datetime(2027, 2, 1, 10, tzinfo=UTC)
    assert row.timezone == "UTC" and row.status == Status.PENDING
    assert Post.get_by_id(result.post_ids[1]).voice == "coach"


def test_quoted_line_breaks_are_one_row_and_rows_are_counted_as_records(tmp_path, accounts, clock):
    path = write_csv(
        tmp_path / "posts.csv",
        [
            ["first line\nsecond line\n\nfourth", "Work LinkedIn", FUTURE, "", "", "", "", ""],
            [
                'He said "ship it", then left',
                "Work LinkedIn",
                "2027-02-02T10:00Z",
                "",
                "",
                "",
                "",
                "",
            ],
            ["bad voice", "", "", "", "", "", "shouty", ""],
        ],
    )
    raw = path.read_bytes()
    assert b'"He said ""ship it"", then left"' in raw and raw.count(b"\r\n") == 4
    found = plan(path, clock)
    assert found.rows[0].text == "first line\nsecond line\n\nfourth"
    assert found.rows[1].text == 'He said "ship it", then left'
    # the third record starts on the file's sixth line: it is the spreadsheet's row 4
    assert found.problem_lines() == [
        "row 4: unknown voice 'shouty': choose one of personal, coach, pr"
    ]


def test_excel_sep_line_header_case_and_blank_rows(tmp_path, accounts, clock, media_dir):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        b"\xef\xbb\xbfsep=;\r\n"
        b"Account;TEXT;At;Follow Up 1;;\r\n"
        b'Work LinkedIn;"semi;colon";2027-02-01T10:00Z;a comment;;\r\n'
        b";;;;;\r\n"
        b";plain draft;;;;\r\n"
    )
    found = plan(path, clock)
    assert found.problem_lines() == []
    assert [(r.row, r.text, r.follow_ups) for r in found.rows] == [
        (2, "semi;colon", ("a comment",)),
        (4, "plain draft", ()),
    ]


def test_a_file_in_an_old_excel_code_page_is_refused_with_what_to_do(tmp_path, accounts, clock):
    path = write_csv(
        tmp_path / "old.csv", [["Café à 10 h", "", "", "", "", "", "", ""]], encoding="cp1252"
    )
    with pytest.raises(CsvError) as caught:
        plan(path, clock)
    message = str(caught.value)
    assert "not UTF-8" in message and "CSV UTF-8" in message and "line 2" in message
    assert counts()["posts"] == 0


def test_excel_unicode_text_utf16_with_tabs(tmp_path, accounts, clock):
    text = "text\taccount\r\nBonjour 🌍\t\r\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(text.encode("utf-16"))  # a BOM first, as Excel writes it
    found = plan(path, clock)
    assert [r.text for r in found.rows] == ["Bonjour 🌍"]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "the file is empty"),
        (b"account,at\r\nwork,2027-02-01T10:00Z\r\n", "one of them must be “text”"),
        (b"text,acount\r\nhello,work\r\n", "unknown column 'acount'"),
        (b"text,Text\r\nhello,again\r\n", "names the column 'text' twice"),
        (b"text,account\r\n", "no posts under it"),
    ],
)
def test_a_file_that_is_no_table_of_posts_is_refused(tmp_path, accounts, clock, content, said):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=said):
        plan(path, clock)


def test_a_missing_file_and_a_folder_are_refused(tmp_path, accounts, clock):
    with pytest.raises(UserError, match="no such file"):
        plan(tmp_path / "nope.csv", clock)
    with pytest.raises(UserError, match="is a folder"):
        plan(tmp_path, clock)


# ---------------------------------------------------------------- every bad row


def test_every_kind_of_bad_row_is_named_with_its_spreadsheet_row(tmp_path, accounts, clock):
    (tmp_path / "notes.txt").write_text("not a picture")
    jpeg(tmp_path / "ok.jpg")
    header = [*HEADER, "media_url", "repeat", "follow_up_2"]
    rows = {
        "unknown account": ["a", "Nobody", FUTURE, "", "", "", "", "", "", "", ""],
        "unknown voice": ["a", "", "", "", "", "", "loud", "", "", "", ""],
        "past": ["a", "Work LinkedIn", "2026-12-01T10:00Z", "", "", "", "", "", "", "", ""],
        "dst gap": [
            "a",
            "Work LinkedIn",
            "2027-03-28T02:30",
            "Europe/Paris",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        "bad zone": [
            "a",
            "Work LinkedIn",
            "2027-02-01T10:00",
            "Mars/Olympus",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        "no zone needed": ["a", "Work LinkedIn", "tomorrow", "", "", "", "", "", "", "", ""],
        "too long": ["x" * 281, "My X", FUTURE, "", "", "", "", "", "", "", ""],
        "missing file": ["a", "", "", "", "gone.jpg", "", "", "", "", "", ""],
        "not media": ["a", "", "", "", "notes.txt", "", "", "", "", "", ""],
        "bad link": ["a", "", "", "", "", "", "", "", "ftp://x/y.jpg", "", ""],
        "alt count": ["a", "", "", "", "ok.jpg", "one|two", "", "", "", "", ""],
        "bad rule": ["a", "Work LinkedIn", FUTURE, "", "", "", "", "", "", "FREQ=SECONDLY", ""],
        "time no account": ["a", "", FUTURE, "", "", "", "", "", "", "", ""],
        "repeat no account": ["a", "", "", "", "", "", "", "", "", "FREQ=DAILY", ""],
        "follow-up gap": ["a", "", "", "", "", "", "", "", "", "", "second"],
        "local file on instagram": ["a", "Studio IG", FUTURE, "", "ok.jpg", "", "", "", "", "", ""],
        "no slots": ["a", "Work LinkedIn", "", "", "", "", "", "", "", "", ""],
        "empty": ["", "", "", "", "", "", "", "", "", "", ""],
    }
    rows["empty"][6] = "coach"  # a row with only a voice is a row, and an empty post
    path = write_csv(tmp_path / "bad.csv", list(rows.values()), header=header)
    found = plan(path, clock)
    by_row = {r.row: "; ".join(r.problems) for r in found.rows}
    said = dict(zip(rows, (by_row[n] for n in range(2, 2 + len(rows))), strict=True))
    assert said["unknown account"] == (
        "no account named 'Nobody' (accounts: My X, Studio IG, Work LinkedIn)"
    )
    assert "unknown voice 'loud'" in said["unknown voice"]
    assert "is in the past" in said["past"]
    assert "does not exist in Europe/Paris" in said["dst gap"]
    assert "unknown time zone 'Mars/Olympus'" in said["bad zone"]
    assert "cannot read 'tomorrow'" in said["no zone needed"]
    assert "over the limit of 280" in said["too long"] and "X account “My X”" in said["too long"]
    assert said["missing file"] == "media file 'gone.jpg': no such file"
    assert "media file 'notes.txt': not an image, video or PDF" in said["not media"]
    assert "not a public http(s) link" in said["bad link"]
    assert "2 alt texts for 1 media" in said["alt count"]
    assert "FREQ=SECONDLY is not supported" in said["bad rule"]
    assert "a time but no account" in said["time no account"]
    assert "repeats but has no account" in said["repeat no account"]
    assert "follow_up_2 has text but follow_up_1 is empty" in said["follow-up gap"]
    assert "public URL" in said["local file on instagram"]
    assert "media_url" in said["local file on instagram"]
    assert "has no queue slots" in said["no slots"]
    assert "the post is empty" in said["empty"]
    assert len(found.invalid) == len(rows)
    with pytest.raises(csv_import.ImportRefused) as caught:
        csv_import.commit_import(found, media_dir=tmp_path / "media", clock=clock)
    assert len(caught.value.lines) == len(rows)
    assert caught.value.lines[0].startswith("row 2: no account named 'Nobody'")
    assert counts() == {"posts": 0, "media": 0, "schedules": 0, "repeats": 0}
    assert not (tmp_path / "media").exists()


def test_too_many_follow_ups_and_cells_under_no_column(tmp_path, accounts, clock):
    header = ["text", "account"] + [f"follow_up_{n}" for n in range(1, 26)]
    path = write_csv(
        tmp_path / "long.csv",
        [["1/", ""] + [f"{n + 1}/" for n in range(1, 26)], ["a", "", *[""] * 25, "stray, cell"]],
        header=header,
    )
    found = plan(path, clock)
    assert "25 follow-ups: a post takes at most 24" in found.rows[0].problem_line()
    assert "1 cell under no column" in found.rows[1].problem_line()


def test_a_time_that_happens_twice_takes_the_first_as_schedule_does(tmp_path, accounts, clock):
    path = write_csv(
        tmp_path / "fold.csv",
        [["fold", "Work LinkedIn", "2027-10-31T02:30", "Europe/Paris", "", "", "", ""]],
    )
    (row,) = plan(path, clock).rows
    assert row.ok and row.at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # CEST, +02:00
    assert "happens twice" in row.notes[0]
    assert row.zone == "Europe/Paris"


def test_local_times_read_in_the_tz_cell_then_the_option_then_the_app_zone(
    tmp_path, accounts, clock, media_dir
):
    from milton_desktop.storage import settings

    settings.set_value("timezone", "Asia/Tokyo")
    path = write_csv(
        tmp_path / "zones.csv",
        [
            ["cell", "Work LinkedIn", "2027-02-01T10:00", "America/New_York", "", "", "", ""],
            ["option", "Work LinkedIn", "2027-02-01T10:00", "", "", "", "", ""],
            ["offset", "Work LinkedIn", "2027-02-01T10:00+01:00", "", "", "", "", ""],
        ],
    )
    rows = plan(path, clock, tz="Europe/Paris").rows
    assert [(r.at, r.zone) for r in rows] == [
        (datetime(2027, 2, 1, 15, tzinfo=UTC), "America/New_York"),
        (datetime(2027, 2, 1, 9, tzinfo=UTC), "Europe/Paris"),
        (datetime(2027, 2, 1, 9, tzinfo=UTC), "Europe/Paris"),
    ]
    rows = plan(path, clock).rows
    assert (rows[1].at, rows[1].zone) == (datetime(2027, 2, 1, 1, tzinfo=UTC), "Asia/Tokyo")
    with pytest.raises(UserError, match="unknown time zone"):
        plan(path, clock, tz="Nowhere/Land")


# ---------------------------------------------------------------- all or nothing


def test_one_bad_row_writes_nothing_and_skip_invalid_imports_the_others(
    tmp_path, accounts, clock, media_dir
):
    jpeg(tmp_path / "pic.jpg")
    path = write_csv(
        tmp_path / "mixed.csv",
        [
            ["good", "Work LinkedIn", FUTURE, "", "pic.jpg", "alt", "", ""],
            ["bad", "Nobody", FUTURE, "", "", "", "", ""],
            ["also good", "", "", "", "", "", "", ""],
        ],
    )
    with pytest.raises(csv_import.ImportRefused) as caught:
        run(path, clock, media_dir)
    assert caught.value.lines == (
        "row 3: no account named 'Nobody' (accounts: My X, Studio IG, Work LinkedIn)",
    )
    assert counts()["posts"] == 0
    assert not media_dir.exists() or not any(media_dir.iterdir())

    result = run(path, clock, media_dir, skip_invalid=True)
    assert (result.count, result.scheduled, result.drafts) == (2, 1, 1)
    assert result.skipped == (caught.value.lines[0],)
    assert counts() == {"posts": 2, "media": 1, "schedules": 1, "repeats": 0}


def _fail_on_body(body: str, message: str = "disk I/O error") -> None:
    database.execute_sql(
        "CREATE TRIGGER fail_import BEFORE INSERT ON posts WHEN NEW.body = ?"
        f" BEGIN SELECT RAISE(ABORT, '{message}'); END",
        (body,),
    )


@pytest.mark.sqlite_only("an SQLite trigger injects the failure")
def test_a_write_failing_mid_import_leaves_the_database_and_media_as_they_were(
    tmp_path, accounts, clock, media_dir
):
    existing = posts.add_post("already here")
    jpeg(tmp_path / "pic.jpg")
    rows = [[f"post {n}", "Work LinkedIn", FUTURE, "", "pic.jpg", "", "", ""] for n in range(100)]
    path = write_csv(tmp_path / "many.csv", rows)
    found = plan(path, clock)
    assert len(found.ready) == 100
    # SQLite refuses the 60th post's insert, after 59 posts, media and schedules were written
    database.execute_sql(
        "CREATE TRIGGER fail_import BEFORE INSERT ON posts WHEN NEW.body = 'post 59'"
        " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
    )
    before = counts()
    with pytest.raises(peewee.DatabaseError, match="disk I/O error"):
        csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    assert counts() == before == {"posts": 1, "media": 0, "schedules": 0, "repeats": 0}
    assert Post.get_by_id(existing.id).body == "already here"
    assert list(media_dir.iterdir()) == []  # the copy made for the import is gone
    database.execute_sql("DROP TRIGGER fail_import")
    result = csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    assert result.count == 100 and len(list(media_dir.iterdir())) == 1


@pytest.mark.sqlite_only("SQLite's page limit fills the disk")
def test_a_full_disk_mid_import_rolls_everything_back(db, tmp_path, accounts, clock, media_dir):
    rows = [
        ["long text " * 200 + str(n), "Work LinkedIn", FUTURE, "", "", "", "", ""]
        for n in range(300)
    ]
    path = write_csv(tmp_path / "big.csv", rows)
    found = plan(path, clock)
    assert len(found.ready) == 300
    (pages,) = database.execute_sql("PRAGMA page_count").fetchone()
    # the database may grow a little, not by the 600 kB of text the import writes
    database.execute_sql(f"PRAGMA max_page_count = {pages + 20}")
    with pytest.raises(peewee.OperationalError, match="full"):
        csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    database.execute_sql("PRAGMA max_page_count = 1073741823")
    assert counts() == {"posts": 0, "media": 0, "schedules": 0, "repeats": 0}
    con = sqlite3.connect(database.database)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_a_row_that_became_invalid_after_the_plan_refuses_the_import(
    tmp_path, accounts, clock, media_dir
):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["one", "Work LinkedIn", FUTURE, "", "", "", "", ""],
            ["two", "My X", FUTURE, "", "", "", "", ""],
        ],
    )
    found = plan(path, clock)
    assert found.problem_lines() == []
    from milton_desktop.domain.status import AccountStatus
    from milton_desktop.storage.models import Account

    Account.update(status=AccountStatus.REMOVED).where(Account.display_name == "My X").execute()
    with pytest.raises(csv_import.ImportRefused, match="row 3: no account named 'My X'"):
        csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    assert counts()["posts"] == 0


# ---------------------------------------------------------------- duplicates


@pytest.mark.both_backends
def test_importing_a_file_twice_creates_nothing_twice(tmp_path, accounts, clock, media_dir):
    jpeg(tmp_path / "pic.jpg")
    queue.set_queue(accounts["x"], ["MO,WE,FR 09:00"], timezone="UTC")
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["scheduled", "Work LinkedIn", FUTURE, "", "", "", "", ""],
            ["a draft with a picture", "", "", "", "pic.jpg", "", "", ""],
            ["queued", "My X", "", "", "", "", "", ""],
        ],
        header=HEADER,
    )
    first = run(path, clock, media_dir)
    assert first.count == 3 and first.duplicates == ()
    before = counts()
    again = plan(path, clock)
    assert again.problem_lines() == [] and again.ready == []
    assert [r.duplicate_of for r in again.rows] == [
        f"schedule {first.schedule_ids[0]} (the same text, account and time)",
        f"draft post {first.post_ids[1]} (the same text and media)",
        f"schedule {first.schedule_ids[1]}, waiting on “My X” with the same text",
    ]
    second = csv_import.commit_import(again, media_dir=media_dir, clock=clock)
    assert second.count == 0 and len(second.duplicates) == 3
    assert second.duplicates[0].startswith("row 2: left out, a duplicate of schedule")
    assert counts() == before
    # allowed, they are imported again
    third = run(path, clock, media_dir, allow_duplicates=True)
    assert third.count == 3
    # a cancelled schedule is no longer there to be duplicated
    schedules.cancel(first.schedule_ids[0], clock=clock)
    schedules.cancel(third.schedule_ids[0], clock=clock)
    assert [r.row for r in plan(path, clock).ready] == [2]


def test_duplicates_within_the_file(tmp_path, accounts, clock, media_dir):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["same", "Work LinkedIn", FUTURE, "", "", "", "", ""],
            ["same", "Work LinkedIn", "2027-02-01T11:00+01:00", "", "", "", "", ""],
            ["same", "My X", FUTURE, "", "", "", "", ""],
            ["draft", "", "", "", "", "", "", ""],
            ["draft", "", "", "", "", "", "", ""],
        ],
    )
    found = plan(path, clock)
    assert [(r.row, r.duplicate_of) for r in found.duplicates] == [
        (3, "row 2 of this file"),
        (6, "row 5 of this file"),
    ]
    assert run(path, clock, media_dir).count == 3


# ---------------------------------------------------------------- queue, follow-ups, media, repeats


def test_rows_without_a_time_take_the_next_free_slots_in_order(
    tmp_path, accounts, clock, media_dir
):
    work = accounts["linkedin"]
    queue.set_queue(work, ["MO,WE,FR 09:00"], timezone="Europe/Paris")
    # NOW is Sunday 10 January 2027: the slots are Mon 11, Wed 13, Fri 15, Mon 18 at 08:00 UTC
    taken = posts.add_post("already queued")
    queue.schedule_next_slot(taken.id, work, clock=clock)  # Mon 11
    path = write_csv(
        tmp_path / "q.csv",
        [
            ["first", "Work LinkedIn", "", "", "", "", "", ""],
            ["fixed", "Work LinkedIn", "2027-01-15T09:00", "Europe/Paris", "", "", "", ""],
            ["second", "Work LinkedIn", "", "", "", "", "", ""],
            ["third", "Work LinkedIn", "", "", "", "", "", ""],
        ],
    )
    found = plan(path, clock)
    slot = lambda d: datetime(2027, 1, d, 8, tzinfo=UTC)  # noqa: E731
    assert [(r.text, r.at, r.queued) for r in found.rows] == [
        ("first", slot(13), True),
        ("fixed", slot(15), False),  # a time of the file holds its slot too
        ("second", slot(18), True),
        ("third", slot(20), True),
    ]
    result = csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    times = [ScheduledPost.get_by_id(s).scheduled_time for s in result.schedule_ids]
    assert times == [slot(13), slot(15), slot(18), slot(20)]
    assert {ScheduledPost.get_by_id(s).timezone for s in result.schedule_ids} == {"Europe/Paris"}


def test_follow_ups_are_stored_and_checked_per_platform(tmp_path, accounts, clock, media_dir):
    header = ["text", "account", "at", "follow_up_1", "follow_up_2"]
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["1/ thread", "My X", FUTURE, "2/ more", "3/ end"],
            ["post", "My X", FUTURE, "x" * 281, ""],
            ["draft thread", "", "", "a comment", ""],
        ],
        header=header,
    )
    found = plan(path, clock)
    assert [r.row for r in found.invalid] == [3]
    assert (
        "part 2: the text is 281 weighted characters, over the limit of 280"
        in found.invalid[0].problems[0]
    )
    result = csv_import.commit_import(found, media_dir=media_dir, clock=clock, skip_invalid=True)
    assert json.loads(Post.get_by_id(result.post_ids[0]).follow_ups) == ["2/ more", "3/ end"]
    assert json.loads(Post.get_by_id(result.post_ids[1]).follow_ups) == ["a comment"]


def test_media_paths_relative_to_the_csv_folder_are_copied_with_alt_text(
    tmp_path, accounts, clock, media_dir
):
    folder = tmp_path / "campaign"
    (folder / "pics").mkdir(parents=True)
    jpeg(folder / "pics" / "one.jpg", 800, 600)
    jpeg(folder / "pics" / "two.jpg", 600, 800)
    header = ["text", "account", "at", "media", "media_url", "alt_text"]
    path = write_csv(
        folder / "posts.csv",
        [
            ["two pictures and a link", "Work LinkedIn", FUTURE, "pics/one.jpg|pics/two.jpg",
             "https://cdn.example.com/three.png", "first | |third"],
            ["the same picture again", "", "", "pics/one.jpg", "", ""],
        ],
        header=header,
    )  # fmt: skip
    result = run(path, clock, media_dir)
    assert result.count == 2
    rows = list(Media.select().where(Media.post == result.post_ids[0]).order_by(Media.position))
    assert [(m.original_name, m.alt_text, m.kind, m.width) for m in rows] == [
        ("one.jpg", "first", "image", 800),
        ("two.jpg", "", "image", 600),
        ("three.png", "third", "image", None),
    ]
    assert Path(rows[0].path).parent == media_dir and rows[2].url.endswith("three.png")
    assert len(list(media_dir.iterdir())) == 2  # one copy per file, shared by both posts
    assert set(result.copied) == {Path(rows[0].path), Path(rows[1].path)}


@pytest.mark.both_backends
def test_a_repeating_row_creates_its_repeat_and_first_occurrences(
    tmp_path, accounts, clock, media_dir
):
    header = ["text", "account", "at", "tz", "repeat"]
    path = write_csv(
        tmp_path / "r.csv",
        [["weekly", "Work LinkedIn", "2027-01-12T10:00", "Europe/Paris", "FREQ=WEEKLY;BYDAY=TU"]],
        header=header,
    )
    result = run(path, clock, media_dir)
    (rec,) = Recurrence.select()
    assert (rec.rrule, rec.dtstart_local, rec.timezone) == (
        "FREQ=WEEKLY;BYDAY=TU",
        "2027-01-12T10:00:00",
        "Europe/Paris",
    )
    times = [ScheduledPost.get_by_id(s).scheduled_time for s in result.schedule_ids]
    assert times[:2] == [datetime(2027, 1, 12, 9, tzinfo=UTC), datetime(2027, 1, 19, 9, tzinfo=UTC)]
    assert (
        plan(path, clock).duplicates[0].duplicate_of.startswith(f"the repeat of post {rec.post_id}")
    )


def test_a_file_as_the_export_writes_it_imports_unchanged(tmp_path, accounts, clock, media_dir):
    (tmp_path / "media").mkdir()
    jpeg(tmp_path / "media" / "a1b2.jpg")
    header = ["text", "account", "at", "tz", "media", "media_url", "alt_text", "voice", "repeat",
              "follow_up_1", "follow_up_2"]  # fmt: skip
    path = write_csv(
        tmp_path / "export.csv",
        [
            ["Bonjour", "Work LinkedIn", "2027-03-10T09:00:00Z", "Europe/Paris", "media/a1b2.jpg",
             "", "Une photo", "pr", "", "premier commentaire", ""],
            ["draft", "", "", "", "", "https://cdn.example.com/x.mp4", "", "personal", "", "", ""],
        ],
        header=header,
    )  # fmt: skip
    result = run(path, clock, media_dir)
    row = ScheduledPost.get_by_id(result.schedule_ids[0])
    assert (row.scheduled_time, row.timezone) == (
        datetime(2027, 3, 10, 9, tzinfo=UTC),
        "Europe/Paris",
    )
    post = Post.get_by_id(result.post_ids[0])
    assert (post.voice, json.loads(post.follow_ups)) == ("pr", ["premier commentaire"])
    assert Media.get(Media.post == post.id).alt_text == "Une photo"


# ---------------------------------------------------------------- undo


@pytest.mark.both_backends
def test_remove_imported_takes_the_whole_import_away(tmp_path, accounts, clock, media_dir):
    jpeg(tmp_path / "pic.jpg")
    kept = posts.add_post("not imported")
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["one", "Work LinkedIn", FUTURE, "", "pic.jpg", "", "", ""],
            ["two", "", "", "", "", "", "", ""],
        ],
    )
    result = run(path, clock, media_dir)
    assert csv_import.remove_imported(result.post_ids, clock=clock) == 2
    assert counts() == {"posts": 1, "media": 0, "schedules": 0, "repeats": 0}
    assert Post.get_by_id(kept.id).body == "not imported"
    assert list(media_dir.iterdir()) == []  # the copy the import made went with it


def test_remove_imported_refuses_once_a_post_went_out_or_was_tried(
    tmp_path, accounts, clock, media_dir
):
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["one", "Work LinkedIn", FUTURE, "", "", "", "", ""],
            ["two", "Work LinkedIn", "2027-02-02T10:00Z", "", "", "", "", ""],
        ],
    )
    result = run(path, clock, media_dir)
    first, second = (ScheduledPost.get_by_id(s) for s in result.schedule_ids)
    set_status(first, Status.PUBLISHED)
    with pytest.raises(UserError, match=r"cannot be removed: 1 of its posts .*is published"):
        csv_import.remove_imported(result.post_ids, clock=clock)
    assert counts()["posts"] == 2
    set_status(first, Status.PENDING)
    PublishingResult.create(
        schedule=second.id, attempt=1, started_at=NOW, outcome="retry", finished_at=NOW
    )
    with pytest.raises(UserError, match="went out or were tried"):
        csv_import.remove_imported(result.post_ids, clock=clock)
    assert counts()["posts"] == 2


def test_dry_run_planning_writes_nothing(tmp_path, accounts, clock):
    jpeg(tmp_path / "pic.jpg")
    path = write_csv(
        tmp_path / "p.csv", [["one", "Work LinkedIn", FUTURE, "", "pic.jpg", "", "", ""]]
    )
    found = plan(path, clock)
    assert found.ready and counts()["posts"] == 0
    assert csv_import.describe(found.rows[0]) == (
        "row 2: LinkedIn “Work LinkedIn” at Mon 2027-02-01 10:00 UTC (2027-02-01T10:00:00Z): "
        "“one” (1 media)"
    )
    assert not (tmp_path / "home" / "media").exists() or not any(
        (tmp_path / "home" / "media").iterdir()
    )


def test_ten_thousand_rows_are_checked_quickly(tmp_path, accounts, clock, media_dir):
    import time

    start = NOW + timedelta(days=1)
    rows = [
        [f"post number {n}", "My X" if n % 2 else "Work LinkedIn",
         (start + timedelta(minutes=n)).isoformat(), "", "", "", "", ""]
        for n in range(10_000)
    ]  # fmt: skip
    path = write_csv(tmp_path / "big.csv", rows)
    began = time.perf_counter()
    result = run(path, clock, media_dir)
    assert result.count == 10_000 and counts()["schedules"] == 10_000
    assert time.perf_counter() - began < 30  # generous on a loaded machine; the bench measures


def test_a_time_that_passed_after_the_plan_is_refused_at_commit(
    tmp_path, accounts, clock, media_dir
):
    path = write_csv(
        tmp_path / "p.csv", [["soon", "Work LinkedIn", "2027-01-10T10:00Z", "", "", "", "", ""]]
    )
    found = plan(path, clock)
    assert found.ready
    clock.advance(timedelta(hours=2))
    with pytest.raises(
        csv_import.ImportRefused, match="row 2: 2027-01-10T10:00:00Z is in the past"
    ):
        csv_import.commit_import(found, media_dir=media_dir, clock=clock)
    assert counts()["posts"] == 0
