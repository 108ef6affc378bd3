from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milton_desktop.domain.timeutil import TimeInputError, is_ambiguous, iso_z, localize, parse_when

PARIS = ZoneInfo("Europe/Paris")


def test_z_and_offsets_are_instants():
    assert parse_when("2026-03-10T09:00:00Z") == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert parse_when("2026-03-10T10:00+01:00") == datetime(2026, 3, 10, 9, tzinfo=UTC)


def test_local_time_needs_a_zone():
    with pytest.raises(TimeInputError, match="no time zone"):
        parse_when("2026-03-10T10:00")
    assert parse_when("2026-03-10T10:00", "Europe/Paris") == datetime(2026, 3, 10, 9, tzinfo=UTC)


def test_ten_oclock_stays_ten_oclock_across_dst():
    winter = parse_when("2026-03-27T10:00", "Europe/Paris")
    summer = parse_when("2026-03-30T10:00", "Europe/Paris")
    assert winter.hour == 9 and summer.hour == 8


def test_time_in_the_spring_gap_is_refused():
    with pytest.raises(TimeInputError, match="does not exist"):
        parse_when("2026-03-29T02:30", "Europe/Paris")


def test_time_in_the_autumn_fold_takes_the_first_occurrence():
    naive = datetime(2026, 10, 25, 2, 30)
    assert is_ambiguous(naive, PARIS)
    first = localize(naive, PARIS)
    second = localize(naive, PARIS, fold=1)
    assert (second - first).total_seconds() == 0  # same wall clock...
    assert second.astimezone(UTC).hour - first.astimezone(UTC).hour == 1  # ...an hour apart


def test_bad_zone_and_garbage_are_clear():
    with pytest.raises(TimeInputError, match="unknown time zone"):
        parse_when("2026-03-10T10:00", "Mars/Olympus")
    with pytest.raises(TimeInputError, match="cannot read"):
        parse_when("next tuesday")


def test_iso_z():
    assert iso_z(datetime(2026, 3, 10, 9, tzinfo=UTC)) == "2026-03-10T09:00:00Z"


@given(st.text(max_size=40), st.one_of(st.none(), st.text(max_size=30)))
def test_any_input_parses_or_says_why(text, tz):
    try:
        value = parse_when(text, tz)
    except TimeInputError as exc:
        assert str(exc)
    else:
        assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0
