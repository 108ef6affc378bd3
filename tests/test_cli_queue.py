"""`queue set/show/clear`, `schedule --next-slot` and `account set --tz` in-process:
exit codes, one-line messages, JSON shapes, nothing written on bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.storage.models import Account, QueueSlot, ScheduledPost
from tests.test_cli import run


@pytest.fixture
def account(milton_home, memory_keyring):
    """An account as `account add` makes it; queueing needs no token."""
    from milton_desktop.context import open_context

    open_context(None, stderr_logging=False)
    return Account.create(platform="linkedin", display_name="work", remote_id="abc")


def _z(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_queue_set_then_show_as_json(capsys, account):
    code, out, err = run(
        capsys, "queue", "set", "work", "--slot", "MO 09:00", "--slot", "TU,TH 13:30",
        "--tz", "America/New_York", "--json",
    )  # fmt: skip
    assert (code, err) == (0, "")
    code, out, err = run(capsys, "queue", "show", "work", "--json")
    assert code == 0
    shown = json.loads(out)
    assert set(shown) >= {"account", "timezone", "slots", "next"}
    assert shown["account"] == "work"
    assert shown["timezone"] == "America/New_York"
    assert shown["slots"] == [
        {"day": "MO", "time": "09:00"},
        {"day": "TU", "time": "13:30"},
        {"day": "TH", "time": "13:30"},
    ]
    assert len(shown["next"]) == 10
    assert all(t.endswith("Z") for t in shown["next"])
    nexts = [_z(t) for t in shown["next"]]
    assert nexts == sorted(nexts) and nexts[0] > datetime.now(UTC) + timedelta(minutes=1)
    from zoneinfo import ZoneInfo

    local = [t.astimezone(ZoneInfo("America/New_York")) for t in nexts]
    assert {(t.strftime("%a"), t.strftime("%H:%M")) for t in local} == {
        ("Mon", "09:00"),
        ("Tue", "13:30"),
        ("Thu", "13:30"),
    }
    # the human form names the zone and the slots
    code, out, _ = run(capsys, "queue", "show", "work")
    assert "America/New_York" in out and "MO 09:00, TU 13:30, TH 13:30" in out


def test_a_slot_in_the_dst_gap_is_said_in_queue_show(capsys, account):
    run(capsys, "queue", "set", "work", "--slot", "SU 02:30", "--tz", "Europe/Paris")
    _, out, _ = run(capsys, "queue", "show", "work", "--json")
    (skipped,) = json.loads(out)["skipped"]
    assert (skipped["day"], skipped["time"]) == ("SU", "02:30")
    assert "jump from 02:00 to 03:00" in skipped["reason"]
    _, out, _ = run(capsys, "queue", "show", "work")
    assert f"SU 02:30 is skipped on {skipped['date']}" in out


def test_next_slot_prints_the_schedule_id_and_two_posts_take_two_slots(capsys, account):
    run(capsys, "queue", "set", "work", "--slot", "MO,TU,WE,TH,FR 10:00", "--tz", "UTC")
    _, post_id, _ = run(capsys, "post", "add", "--text", "queued")
    post_id = post_id.strip()
    code, first, err = run(capsys, "schedule", post_id, "--account", "work", "--next-slot")
    assert (code, err) == (0, "")
    code, second, err = run(
        capsys, "schedule", post_id, "--account", "work", "--next-slot", "--json"
    )
    assert code == 0
    second = json.loads(second)
    a = ScheduledPost.get_by_id(int(first))
    b = ScheduledPost.get_by_id(second["id"])
    assert a.scheduled_time < b.scheduled_time
    assert second["scheduled_time"].endswith("Z")
    assert {a.scheduled_time.hour, b.scheduled_time.hour} == {10}
    # listings keep working with queued posts
    code, out, _ = run(capsys, "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [a.id, b.id]
    code, out, _ = run(capsys, "upcoming", "--days", "10", "--json")
    assert len(json.loads(out)) == 2


def test_next_slot_without_slots_exits_2_saying_how_to_add_them(capsys, account):
    _, post_id, _ = run(capsys, "post", "add", "--text", "nowhere")
    code, out, err = run(capsys, "schedule", post_id.strip(), "--account", "work", "--next-slot")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "has no queue slots" in err and "milton-desktop queue set" in err
    assert ScheduledPost.select().count() == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--slot", "MO 9am"], "cannot read the slot 'MO 9am'"),
        (["--slot", "XX 09:00"], "names no day 'XX'"),
        (["--slot", "MO 09:00", "--slot", "FR 31:00"], "no such time 31:00"),
        (["--slot", "MO 09:00", "--tz", "Europe/Pariss"], "unknown time zone 'Europe/Pariss'"),
    ],
)
def test_bad_slots_and_zones_exit_2_and_change_nothing(capsys, account, argv, words):
    run(capsys, "queue", "set", "work", "--slot", "SA 11:00")
    code, _, err = run(capsys, "queue", "set", "work", *argv)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1
    assert [(s.weekday, s.minute) for s in QueueSlot.select()] == [(5, 11 * 60)]


def test_usage_mistakes_exit_2(capsys, account):
    for argv, words in (
        (["--next-slot", "--at", "2030-01-01T10:00Z"], "not allowed with"),
        ([], "one of the arguments --at --next-slot is required"),
    ):
        with pytest.raises(SystemExit) as usage:
            run(capsys, "schedule", "1", "--account", "work", *argv)
        assert usage.value.code == 2
        assert words in capsys.readouterr().err
    run(capsys, "queue", "set", "work", "--slot", "MO 09:00")
    code, _, err = run(
        capsys, "schedule", "1", "--account", "work", "--next-slot", "--repeat", "FREQ=DAILY"
    )
    assert code == 2 and "leave out --repeat" in err
    code, _, err = run(capsys, "queue", "show", "nobody")
    assert code == 2 and "no account named 'nobody'" in err


def test_account_set_tz_changes_the_zone_of_the_slots(capsys, account):
    run(capsys, "queue", "set", "work", "--slot", "MO 09:00", "--tz", "UTC")
    code, out, err = run(capsys, "account", "set", "work", "--tz", "Asia/Tokyo", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["timezone"] == "Asia/Tokyo"
    _, out, _ = run(capsys, "queue", "show", "work", "--json")
    assert all(_z(t).hour == 0 for t in json.loads(out)["next"])  # 09:00 Tokyo
    code, _, err = run(capsys, "account", "set", "work", "--tz", "Moon/Crater")
    assert code == 2 and "unknown time zone" in err
    code, out, _ = run(capsys, "account", "set", "work", "--tz", "app")
    assert code == 0 and "the app's zone" in out


def test_queue_clear_leaves_queued_posts_scheduled(capsys, account):
    run(capsys, "queue", "set", "work", "--slot", "MO 09:00")
    _, post_id, _ = run(capsys, "post", "add", "--text", "stays")
    run(capsys, "schedule", post_id.strip(), "--account", "work", "--next-slot")
    code, out, _ = run(capsys, "queue", "clear", "work")
    assert code == 0 and "removed 1 queue slot" in out
    assert QueueSlot.select().count() == 0
    assert ScheduledPost.select().count() == 1
    _, out, _ = run(capsys, "queue", "show", "work", "--json")
    assert json.loads(out)["slots"] == [] and json.loads(out)["next"] == []
