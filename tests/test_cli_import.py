"""`milton-desktop import` in-process: exit codes, the `row N: …` lines, the summary,
--json, --dry-run, --skip-invalid, --allow-duplicates and --tz, on real files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from milton_desktop.operations import queue
from milton_desktop.storage.models import Account, ScheduledPost
from tests.operations.helpers import jpeg
from tests.test_cli import db_counts, run

SOON = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
AT = SOON.isoformat().replace("+00:00", "Z")


@pytest.fixture
def account(milton_home, memory_keyring):
    from milton_desktop.context import open_context

    open_context(None, stderr_logging=False)
    return Account.create(platform="linkedin", display_name="work", remote_id="abc")


def csv_file(folder: Path, text: str, name: str = "posts.csv") -> Path:
    path = folder / name
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return path


@pytest.mark.both_backends
def test_a_good_file_imports_and_says_how_many(capsys, account, milton_home, tmp_path):
    jpeg(tmp_path / "launch.jpg")
    path = csv_file(
        tmp_path,
        "text,account,at,media,alt_text\n"
        f'"Launch, at last",work,{AT},launch.jpg,The team\n'
        "A draft,,,,\n",
    )
    code, out, err = run(capsys, "import", str(path))
    assert (code, out, err) == (0, "imported 2 posts (1 scheduled, 1 drafts)\n", "")
    assert db_counts(milton_home) == {"posts": 2, "media": 1, "scheduled_posts": 1}


def test_bad_rows_exit_2_list_each_and_write_nothing(capsys, account, milton_home, tmp_path):
    path = csv_file(
        tmp_path,
        "text;account;at;voice\n"
        f"fine;work;{AT};\n"
        '"two\nlines";nobody;2030-01-01T10:00Z;\n'
        "old;work;2020-01-01T10:00Z;\n"
        "loud;;;shouty\n",
    )
    code, out, err = run(capsys, "import", str(path))
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "row 3: no account named 'nobody' (accounts: work)"
    assert lines[1].startswith("row 4: 2020-01-01T10:00:00Z is in the past")
    assert lines[2] == "row 5: unknown voice 'shouty': choose one of personal, coach, pr"
    assert lines[3] == (
        "milton-desktop: nothing imported: 3 of 4 rows cannot be imported (fix them, or "
        "pass --skip-invalid to import the others)"
    )
    assert db_counts(milton_home) == {"posts": 0, "media": 0, "scheduled_posts": 0}

    code, out, err = run(capsys, "import", str(path), "--skip-invalid", "--json")
    assert code == 0
    assert json.loads(out) == {"posts": [1], "schedules": [1]}
    assert [line[:6] for line in err.splitlines()] == ["row 3:", "row 4:", "row 5:"]


def test_the_same_file_twice_creates_nothing_twice_and_exits_0(
    capsys, account, milton_home, tmp_path
):
    path = csv_file(tmp_path, f"text,account,at\none,work,{AT}\ntwo,,\n")
    assert run(capsys, "import", str(path))[0] == 0
    code, out, err = run(capsys, "import", str(path))
    assert code == 0
    assert out == (
        "nothing imported: 2 row(s) are already there (pass --allow-duplicates to import "
        "them again)\n"
    )
    assert err.splitlines() == [
        "row 2: left out, a duplicate of schedule 1 (the same text, account and time)",
        "row 3: left out, a duplicate of draft post 2 (the same text and media)",
    ]
    assert db_counts(milton_home) == {"posts": 2, "media": 0, "scheduled_posts": 1}
    code, out, _ = run(capsys, "import", str(path), "--allow-duplicates")
    assert (code, out) == (0, "imported 2 posts (1 scheduled, 1 drafts)\n")


def test_dry_run_prints_what_would_be_created_and_writes_nothing(
    capsys, account, milton_home, tmp_path
):
    queue.set_queue("work", ["MO,TU,WE,TH,FR 09:00"], timezone="Europe/Paris")
    path = csv_file(
        tmp_path, f"text,account,at,follow_up_1\none,work,{AT},a comment\nqueued,work,,\ndraft,,,\n"
    )
    code, out, err = run(capsys, "import", str(path), "--dry-run")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("row 2: LinkedIn “work” at ") and "(1 follow-up)" in lines[0]
    assert "(next queue slot, " in lines[1] and lines[1].endswith("“queued”")
    assert lines[2] == "row 4: draft “draft”"
    assert lines[3] == "dry run: would import 3 posts (2 scheduled, 1 drafts); nothing was written"
    assert db_counts(milton_home) == {"posts": 0, "media": 0, "scheduled_posts": 0}
    code, out, _ = run(capsys, "import", str(path), "--dry-run", "--json")
    shown = json.loads(out)["would_create"]
    assert [r["row"] for r in shown] == [2, 3, 4]
    assert shown[1]["queued"] is True and shown[1]["timezone"] == "Europe/Paris"
    slot = datetime.fromisoformat(shown[1]["scheduled_time"].replace("Z", "+00:00"))
    assert f"{slot.astimezone(ZoneInfo('Europe/Paris')):%H:%M}" == "09:00"
    assert db_counts(milton_home) == {"posts": 0, "media": 0, "scheduled_posts": 0}


def test_tz_reads_local_times_and_a_bad_zone_is_refused(capsys, account, milton_home, tmp_path):
    local = (SOON.replace(month=1, day=15) + timedelta(days=366)).strftime("%Y-01-15T10:00")
    path = csv_file(tmp_path, f"text,account,at\nlocal,work,{local}\n")
    code, _, err = run(capsys, "import", str(path), "--tz", "America/New_York")
    assert (code, err) == (0, "")
    row = ScheduledPost.get()
    assert (row.scheduled_time.hour, row.timezone) == (15, "America/New_York")
    code, _, err = run(capsys, "import", str(path), "--tz", "Mars/Base")
    assert code == 2 and "unknown time zone 'Mars/Base'" in err


def test_a_file_that_is_not_utf8_is_refused_with_what_to_do(capsys, account, tmp_path):
    path = tmp_path / "old.csv"
    path.write_bytes("text\nCafé crème\n".encode("cp1252"))
    code, out, err = run(capsys, "import", str(path))
    assert code == 2 and out == ""
    assert err.startswith("milton-desktop: the file is not UTF-8 text")
    assert "CSV UTF-8" in err and len(err.splitlines()) == 1


def test_a_missing_file_is_one_line_exit_2(capsys, account, tmp_path):
    code, _, err = run(capsys, "import", str(tmp_path / "nope.csv"))
    assert code == 2 and err == f"milton-desktop: {tmp_path / 'nope.csv'}: no such file\n"


def test_a_hundred_rows_become_a_hundred_scheduled_posts(capsys, account, milton_home, tmp_path):
    rows = "".join(f"post {n},work,{(SOON + timedelta(hours=n)).isoformat()}\n" for n in range(100))
    path = csv_file(tmp_path, "text,account,at\n" + rows)
    code, out, _ = run(capsys, "import", str(path), "--json")
    assert code == 0
    made = json.loads(out)
    assert len(made["posts"]) == 100 and len(made["schedules"]) == 100
    assert db_counts(milton_home)["scheduled_posts"] == 100
    code, out, _ = run(capsys, "import", str(path))
    assert code == 0 and out.startswith("nothing imported: 100 row(s) are already there")
