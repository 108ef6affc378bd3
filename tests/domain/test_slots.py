"""Queue slots: reading "TU,TH 13:30", and their instants across daylight saving time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.slots import (
    MAX_SLOTS,
    Slot,
    SlotError,
    free_instants,
    parse_slot,
    parse_slots,
    skipped_between,
    slot_instants,
)

MO, TU, WE, TH, FR, SA, SU = range(7)


def at(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def instants(slots, zone, start, end):
    return [t for t, _slot in slot_instants(slots, zone, start, end)]


# ---------------------------------------------------------------- reading slots


def test_a_slot_names_days_and_a_24h_time():
    assert parse_slot("MO 09:00") == [Slot(MO, 9 * 60)]
    assert parse_slot("tu, th  13:30") == [Slot(TU, 13 * 60 + 30), Slot(TH, 13 * 60 + 30)]
    assert parse_slot(" SU 0:05 ") == [Slot(SU, 5)]
    assert str(Slot(TH, 13 * 60 + 30)) == "TH 13:30"


def test_slots_are_kept_once_each_in_weekly_order():
    assert parse_slots(["FR 08:00", "MO,FR 08:00", "MO 07:59"]) == [
        Slot(MO, 7 * 60 + 59),
        Slot(MO, 8 * 60),
        Slot(FR, 8 * 60),
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("MO", "write the days, a space and a 24 h time"),
        ("09:00", "write the days"),
        ("MO 9", "write the days"),
        ("MO 9:00pm", "write the days"),
        ("MX 09:00", "names no day 'MX'"),
        ("MO,XX 09:00", "names no day 'XX'"),
        ("MON 09:00", "write the days"),
        ("MO 24:00", "no such time 24:00"),
        ("MO 12:60", "no such time 12:60"),
        ("", "cannot read the slot ''"),
    ],
)
def test_a_slot_that_cannot_be_read_says_how_to_write_it(text, words):
    with pytest.raises(SlotError, match=words) as refused:
        parse_slot(text)
    assert isinstance(refused.value, UserError)
    assert "MO 09:00" in str(refused.value) or "24 h" in str(refused.value)


def test_a_queue_holds_a_bounded_number_of_slots():
    every_ten_minutes = [
        f"MO,TU,WE,TH,FR,SA,SU {h:02d}:{m:02d}" for h in range(24) for m in (0, 10)
    ]
    assert len(parse_slots(every_ten_minutes)) == MAX_SLOTS
    with pytest.raises(SlotError, match="more than a queue holds"):
        parse_slots([*every_ten_minutes, "MO 00:05"])


# ---------------------------------------------------------------- across daylight saving time


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # Paris goes from UTC+1 to UTC+2 on 29 March 2026
        ("Europe/Paris", at(2026, 3, 23, 8), at(2026, 3, 30, 7)),
        # New York from UTC-5 to UTC-4 on 8 March 2026
        ("America/New_York", at(2026, 3, 2, 14), at(2026, 3, 9, 13)),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_the_spring_change(zone, before, after):
    monday_nine = [Slot(MO, 9 * 60)]
    got = instants(monday_nine, zone, before - timedelta(hours=1), after + timedelta(hours=1))
    assert got == [before, after]


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        # Paris back to UTC+1 on 25 October 2026, New York to UTC-5 on 1 November 2026
        ("Europe/Paris", at(2026, 10, 19, 7), at(2026, 10, 26, 8)),
        ("America/New_York", at(2026, 10, 26, 13), at(2026, 11, 2, 14)),
    ],
)
def test_nine_oclock_stays_nine_oclock_across_the_autumn_change(zone, before, after):
    got = instants(
        [Slot(MO, 9 * 60)], zone, before - timedelta(hours=1), after + timedelta(hours=1)
    )
    assert got == [before, after]


@pytest.mark.parametrize(
    ("zone", "gap_day", "week_before", "week_after", "words"),
    [
        (
            "Europe/Paris",
            date(2026, 3, 29),
            at(2026, 3, 22, 1, 30),
            at(2026, 4, 5, 0, 30),
            "jump from 02:00 to 03:00",
        ),
        (
            "America/New_York",
            date(2026, 3, 8),
            at(2026, 3, 1, 7, 30),
            at(2026, 3, 15, 6, 30),
            "jump from 02:00 to 03:00",
        ),
    ],
)
def test_a_slot_in_the_spring_gap_is_skipped_that_day_and_said(
    zone, gap_day, week_before, week_after, words
):
    sunday_0230 = [Slot(SU, 2 * 60 + 30)]
    start, end = week_before - timedelta(hours=1), week_after + timedelta(hours=1)
    assert instants(sunday_0230, zone, start, end) == [week_before, week_after]
    (skipped,) = skipped_between(sunday_0230, zone, start, end)
    assert skipped.date == gap_day
    assert skipped.slot == sunday_0230[0]
    assert f"SU 02:30 is skipped on {gap_day.isoformat()}" in skipped.reason
    assert zone in skipped.reason and words in skipped.reason
    # nothing else in the year is skipped
    assert skipped_between(sunday_0230, zone, end, end + timedelta(days=300)) == []


def test_a_half_hour_gap_is_named_as_it_is():
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 4 October 2026
    sunday = [Slot(SU, 2 * 60 + 10)]
    start = at(2026, 10, 1, 0)
    (skipped,) = skipped_between(sunday, "Australia/Lord_Howe", start, start + timedelta(days=7))
    assert "jump from 02:00 to 02:30" in skipped.reason


@pytest.mark.parametrize(
    ("zone", "fold_night", "first"),
    [
        # 02:30 happens twice in Paris on 25 October 2026: at 00:30Z and 01:30Z
        ("Europe/Paris", at(2026, 10, 24, 12), at(2026, 10, 25, 0, 30)),
        # 01:30 happens twice in New York on 1 November 2026: at 05:30Z and 06:30Z
        ("America/New_York", at(2026, 10, 31, 12), at(2026, 11, 1, 5, 30)),
    ],
)
def test_a_slot_in_the_autumn_fold_fires_once_at_the_first(zone, fold_night, first):
    minute = first.astimezone(__import__("zoneinfo").ZoneInfo(zone))
    slot = Slot(SU, minute.hour * 60 + minute.minute)
    got = instants([slot], zone, fold_night, fold_night + timedelta(days=1))
    assert got == [first]
    assert skipped_between([slot], zone, fold_night, fold_night + timedelta(days=1)) == []


def test_slot_instants_are_in_order_across_days_and_zones_of_the_day():
    slots = parse_slots(["MO,WE 09:00", "MO 08:30", "SU 23:59"])
    start = at(2026, 6, 1, 0)  # a Monday
    got = slot_instants(slots, "Asia/Tokyo", start, start + timedelta(days=7))
    times = [t for t, _ in got]
    assert times == sorted(times)
    # Tokyo is UTC+9: Monday 08:30 local is Sunday 23:30 UTC, before the window
    assert [str(s) for _, s in got] == ["MO 09:00", "WE 09:00", "SU 23:59", "MO 08:30"]


# ---------------------------------------------------------------- free and taken


def test_a_taken_slot_is_skipped_and_a_time_near_it_takes_it():
    slots = [Slot(MO, 9 * 60), Slot(TU, 9 * 60), Slot(WE, 9 * 60)]
    start = at(2026, 6, 1, 0)
    taken = [at(2026, 6, 1, 9, 0) + timedelta(seconds=30), at(2026, 6, 3, 8, 59)]
    free = free_instants(slots, "UTC", start, start + timedelta(days=7), taken)
    # Monday is held (a post 30 s into its minute); 08:59 holds nothing
    assert free == [at(2026, 6, 2, 9), at(2026, 6, 3, 9)]
    assert free_instants(slots, "UTC", start, start + timedelta(days=7), taken, limit=1) == [
        at(2026, 6, 2, 9)
    ]
