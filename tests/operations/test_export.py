"""Exports on a real database file: CSV read back with csv, JSON loaded, .ics parsed by
icalendar; the CSV's columns are the importer's; filters; streaming at many rows."""

from __future__ import annotations

import csv
import io
import json
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.exporting import CSV_COLUMNS, parse_filter
from milton_desktop.operations import export, posts, repeats, schedules
from milton_desktop.operations.posts import MediaInput
from milton_desktop.storage import settings
from milton_desktop.storage.models import Account, Post, PublishingResult, ScheduledPost, database
from tests.operations.helpers import LATER, NOW, jpeg, set_status


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _stream(fmt: str, flt=None, **kw) -> tuple[str, export.ExportReport]:
    out = io.StringIO(newline="")
    report = export.export(fmt, flt, stream=out, **kw)
    return out.getvalue(), report


@pytest.fixture
def home(accounts, clock, tmp_path):
    """A thread with an image on LinkedIn, a plain post on X, a draft with a link, a
    published post with its attempt, and a weekly repeat."""
    settings.set_value("timezone", "Europe/Paris")
    media_dir = tmp_path / "media"
    picture = jpeg(tmp_path / "launch.jpg")
    thread = posts.add_post(
        'Launch day,\n"finally"',
        media=[
            MediaInput(path=picture, alt_text="the team"),
            MediaInput(url="https://cdn.test/b.png", alt_text="a chart"),
        ],
        media_dir=media_dir,
        follow_ups=["2/ what we learned", "3/ thanks"],
        clock=clock,
    )
    li = schedules.schedule(
        thread.id, accounts["linkedin"], LATER, timezone="Europe/Paris", clock=clock
    )
    plain = posts.add_post("short one", voice="coach", clock=clock)
    x = schedules.schedule(plain.id, accounts["x"], LATER + timedelta(hours=1), clock=clock)
    draft = posts.add_post("an idea", media=[MediaInput(url="https://cdn.test/d.jpg")], clock=clock)
    done_post = posts.add_post("already out", clock=clock)
    done = schedules.schedule(done_post.id, accounts["x"], LATER - timedelta(days=5), clock=clock)
    set_status(
        done,
        "published",
        remote_id="190",
        remote_url="https://x.com/me/status/190",
        published_at=LATER - timedelta(days=5),
    )
    PublishingResult.create(
        schedule=done.id,
        attempt=1,
        started_at=LATER - timedelta(days=5),
        finished_at=LATER - timedelta(days=5),
        outcome="published",
        remote_id="190",
        remote_url="https://x.com/me/status/190",
    )
    weekly = posts.add_post("weekly tip", clock=clock)
    rec = repeats.schedule_repeating(
        weekly.id,
        accounts["x"],
        datetime(2027, 1, 12, 10, 0),
        "Europe/Paris",
        "FREQ=WEEKLY;BYDAY=TU",
        clock=clock,
    )
    return {
        "thread": li,
        "plain": x,
        "draft": draft,
        "done": done,
        "repeat": rec,
        "picture": picture,
        "media_dir": media_dir,
    }


@pytest.mark.both_backends
def test_csv_has_the_import_columns_and_reads_back(home):
    text, report = _stream("csv")
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert header == [*CSV_COLUMNS, "follow_up_1", "follow_up_2"]
    rows = _csv(text)
    by_text = {r["text"]: r for r in rows}
    thread = by_text['Launch day,\n"finally"']  # quoted newline and quotes survive
    assert thread["account"] == "Work LinkedIn"
    assert thread["at"] == "2027-02-01T09:00:00Z"
    assert thread["tz"] == "Europe/Paris"
    (path,) = thread["media"].split("|")
    assert Path(path).is_absolute() and Path(path).parent == home["media_dir"]
    assert thread["media_url"] == "https://cdn.test/b.png"
    assert thread["alt_text"] == "the team|a chart"  # files, then links
    assert thread["voice"] == "personal"
    assert (thread["follow_up_1"], thread["follow_up_2"]) == ("2/ what we learned", "3/ thanks")
    plain = by_text["short one"]
    assert (plain["account"], plain["tz"], plain["voice"]) == ("My X", "UTC", "coach")
    assert plain["follow_up_1"] == plain["follow_up_2"] == ""
    draft = by_text["an idea"]
    assert (draft["account"], draft["at"]) == ("", "")
    assert draft["tz"] == "Europe/Paris"  # the app's zone
    assert draft["media_url"] == "https://cdn.test/d.jpg"
    # a repeat is one row with its rule: importing it makes the other occurrences again
    weekly = [r for r in rows if r["text"] == "weekly tip"]
    assert len(weekly) == 1
    assert weekly[0]["repeat"] == "FREQ=WEEKLY;BYDAY=TU"
    assert weekly[0]["at"] == "2027-01-12T09:00:00Z"
    assert ScheduledPost.select().where(ScheduledPost.recurrence.is_null(False)).count() > 1
    assert report.drafts == 1
    assert report.warnings == []


def test_pending_filter_is_the_round_trip_set(home):
    rows = _csv(_stream("csv", parse_filter("pending", None, None, "Europe/Paris"))[0])
    assert {r["text"] for r in rows} == {'Launch day,\n"finally"', "short one", "weekly tip"}
    drafts = _csv(_stream("csv", parse_filter("draft", None, None, "UTC"))[0])
    assert [r["text"] for r in drafts] == ["an idea"]


@pytest.mark.both_backends
def test_csv_to_a_file_takes_its_media_along(home, tmp_path):
    out = tmp_path / "elsewhere" / "march.csv"
    out.parent.mkdir()
    report = export.export("csv", out=out)
    assert report.path == out and report.media_copied == 1
    rows = _csv(out.read_text(encoding="utf-8"))
    thread = next(r for r in rows if r["account"] == "Work LinkedIn")
    assert thread["media"] == f"march-media/{Path(thread['media']).name}"
    copied = out.parent / thread["media"]
    assert copied.read_bytes() == home["picture"].read_bytes()
    assert not list(out.parent.glob(".*partial"))


def test_a_failed_file_export_leaves_no_file(home, tmp_path, monkeypatch):
    out = tmp_path / "x.json"

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export, "_json", boom)
    with pytest.raises(UserError, match="No space left"):
        export.export("json", out=out)
    assert list(tmp_path.glob("*x.json*")) == []


@pytest.mark.both_backends
def test_json_has_posts_media_and_results(home):
    text, report = _stream("json")
    data = json.loads(text)
    assert data["format"] == "milton-desktop-export"
    assert data["format_version"] == 1
    assert len(data["schedules"]) == ScheduledPost.select().count() == report.schedules
    done = next(s for s in data["schedules"] if s["id"] == home["done"].id)
    assert done["status"] == "published"
    assert done["url"] == "https://x.com/me/status/190"
    assert [r["outcome"] for r in done["results"]] == ["published"]
    thread = next(s for s in data["schedules"] if s["id"] == home["thread"].id)
    assert thread["post"]["follow_ups"] == ["2/ what we learned", "3/ thanks"]
    assert [m["alt_text"] for m in thread["post"]["media"]] == ["the team", "a chart"]
    weekly = [s for s in data["schedules"] if s["repeat"]]
    assert weekly and all(s["repeat"]["rrule"] == "FREQ=WEEKLY;BYDAY=TU" for s in weekly)
    assert [d["text"] for d in data["drafts"]] == ["an idea"]


@pytest.mark.both_backends
def test_ics_parses_with_icalendar(home):
    text, report = _stream("ics")
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["VERSION"]) == "2.0"
    assert "Milton Desktop" in str(cal["PRODID"])
    events = list(cal.walk("VEVENT"))
    assert len(events) == ScheduledPost.select().count() == report.schedules
    install = settings.install_id()
    by_uid = {str(e["UID"]): e for e in events}
    done = by_uid[f"schedule-{home['done'].id}@{install}"]
    assert done["DTSTART"].dt == LATER - timedelta(days=5)
    assert done["DTSTART"].dt.tzinfo is not None and done["DTSTART"].dt.utcoffset() == timedelta(0)
    assert str(done["SUMMARY"]) == "X: already out"
    assert "https://x.com/me/status/190" in str(done["DESCRIPTION"])
    assert "already out" in str(done["DESCRIPTION"])
    assert "DTSTAMP" in done
    assert done["DTSTART"].dt < (done.get("DTEND") or done["DTSTART"]).dt + done["DURATION"].dt
    thread = by_uid[f"schedule-{home['thread'].id}@{install}"]
    assert str(thread["SUMMARY"]).startswith("LinkedIn: Launch day,")
    # the UID of a schedule is the same in the next export
    again = icalendar.Calendar.from_ical(_stream("ics")[0])
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(by_uid)


def test_cancelled_schedules_are_events_too(home):
    schedules.cancel(home["plain"].id, clock=None)
    cal = icalendar.Calendar.from_ical(_stream("ics")[0])
    install = settings.install_id()
    (event,) = [
        e for e in cal.walk("VEVENT") if str(e["UID"]) == f"schedule-{home['plain'].id}@{install}"
    ]
    assert str(event["STATUS"]) == "CANCELLED"


def test_date_range_in_the_app_zone(home):
    # LATER is 10:00 in Paris on 1 February; the published one is five days before
    flt = parse_filter(None, "2027-02-01", "2027-02-01", "Europe/Paris")
    rows = _csv(_stream("csv", flt)[0])
    # (the weekly tip is on Tuesdays; 1 February 2027 is a Monday)
    assert {r["text"] for r in rows} == {'Launch day,\n"finally"', "short one"}
    assert all(r["account"] for r in rows)  # a range leaves the drafts out
    flt = parse_filter(None, "2027-01-27T09:00:00Z", "2027-01-27T09:00:00Z", "UTC")
    rows = _csv(_stream("csv", flt)[0])
    assert [r["text"] for r in rows] == ["already out"]


@pytest.mark.parametrize(
    ("status", "start", "end", "words"),
    [
        ("sent", None, None, "unknown status"),
        (None, "2027-13-01", None, "not a date"),
        (None, "tomorrow", None, "ISO 8601"),
        (None, "2027-02-02", "2027-02-01", "ends before it starts"),
    ],
)
def test_bad_filters_say_what_to_fix(status, start, end, words):
    with pytest.raises(UserError, match=words):
        parse_filter(status, start, end, "Europe/Paris")


def test_unknown_format():
    with pytest.raises(UserError, match="csv, json, ics"):
        export.export("xml", stream=io.StringIO())


def _many(n: int, account: Account) -> None:
    """n scheduled posts written straight in, as a large home holds them."""
    stamp = "2027-02-01 09:00:00.000000"
    with database.atomic():
        database.execute_sql(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)"
            " INSERT INTO posts (body, voice, follow_ups, follow_up_delay, created_at, updated_at)"
            " SELECT 'post number ' || i, 'personal', '[]', 0, ?, ? FROM c",
            (n, stamp, stamp),
        )
        database.execute_sql(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status,"
            " attempts, next_attempt_at, created_at, updated_at)"
            " SELECT id, ?, ?, 'UTC', 'pending', 0, ?, ?, ? FROM posts",
            (account.id, stamp, stamp, stamp, stamp),
        )


#: seconds an export of 5 000 rows may take on a busy shared machine (icalendar builds
#: each event as an object: about 1 ms each, against a few µs per CSV or JSON row)
_LIMIT_S = {"csv": 10, "json": 10, "ics": 40}


@pytest.mark.parametrize("fmt", ["csv", "json", "ics"])
def test_many_rows_stream_quickly(accounts, fmt, tmp_path):
    n = 5000
    _many(n, accounts["x"])
    out = tmp_path / f"big.{fmt}"
    seen: list[tuple[int, int]] = []
    began = time.perf_counter()
    report = export.export(fmt, out=out, progress=lambda d, t: seen.append((d, t)))
    took = time.perf_counter() - began
    assert report.schedules == n
    assert took < _LIMIT_S[fmt], took
    assert seen[-1] == (n, n) and len(seen) > 10
    if fmt == "csv":
        assert len(_csv(out.read_text(encoding="utf-8"))) == n
    elif fmt == "json":
        assert len(json.loads(out.read_text(encoding="utf-8"))["schedules"]) == n
    else:
        assert (
            len(icalendar.Calendar.from_ical(out.read_text(encoding="utf-8")).walk("VEVENT")) == n
        )


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_many_rows_are_never_all_in_memory(accounts, fmt, tmp_path):
    """Rows are written as they are read: the peak stays far below the file's size
    (the .ics export shares the same chunked reader)."""
    _many(5000, accounts["x"])
    out = tmp_path / f"big.{fmt}"
    tracemalloc.start()
    try:
        export.export(fmt, out=out)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < max(out.stat().st_size // 2, 4 * 2**20), (peak, out.stat().st_size)


def test_export_reads_one_consistent_state(home):
    """Counts and rows come from one read transaction (the drafts' count included)."""
    text, report = _stream("json")
    data = json.loads(text)
    assert report.schedules + report.drafts == len(data["schedules"]) + len(data["drafts"])
    assert Post.select().count() >= report.drafts


def test_times_are_utc_with_z(home):
    data = json.loads(_stream("json")[0])
    for s in data["schedules"]:
        assert s["scheduled_time"].endswith("Z")
        parsed = datetime.fromisoformat(s["scheduled_time"].replace("Z", "+00:00"))
        assert parsed.tzinfo == UTC or parsed.utcoffset() == timedelta(0)
    assert data["exported_at"].endswith("Z")
    assert NOW  # the fixtures' clock
