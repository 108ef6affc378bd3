from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from milton_desktop.domain.timeutil import (
    TimeInputError,
    get_zone,
    is_ambiguous,
    iso_z,
    local_zone_name,
    localize,
    parse_when,
)

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


# ---------------------------------------------------------------- the computer's zone


@pytest.fixture
def system_root(monkeypatch, tmp_path):
    """Make tzlocal read the system's zone setting under ``tmp_path`` instead of ``/``.

    tzlocal's Unix reader takes the root to look under (its own tests use it), so
    these cases run its real file handling on a made-up system. ``TZ`` is unset.
    """
    if sys.platform == "win32":
        pytest.skip("tzlocal reads the registry on Windows, not files")
    import tzlocal
    import tzlocal.unix

    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(
        tzlocal, "get_localzone_name", lambda: tzlocal.unix._get_localzone_name(str(tmp_path))
    )
    (tmp_path / "etc").mkdir()
    return tmp_path


def test_tz_names_the_zone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    assert local_zone_name() == "America/New_York"
    monkeypatch.setenv("TZ", ":Asia/Tokyo")  # the leading colon POSIX allows
    assert local_zone_name() == "Asia/Tokyo"


def test_tz_may_be_the_path_of_a_zone_file(monkeypatch):
    path = Path("/usr/share/zoneinfo/Europe/Paris")
    if not path.exists():
        pytest.skip("no system zone database here")
    monkeypatch.setenv("TZ", str(path))
    assert local_zone_name() == "Europe/Paris"


def test_tz_wins_over_the_system_setting(monkeypatch, system_root):
    (system_root / "etc" / "timezone").write_text("Asia/Tokyo\n")
    monkeypatch.setenv("TZ", "Europe/Paris")
    assert local_zone_name() == "Europe/Paris"


@pytest.mark.parametrize("value", ["Mars/Olympus", "EST+05", "../../etc/passwd", "Europe/Nowhere"])
def test_a_tz_that_names_no_zone_gives_utc(monkeypatch, system_root, value):
    # the system says Tokyo, but TZ was set on purpose: neither is guessed at
    (system_root / "etc" / "timezone").write_text("Asia/Tokyo\n")
    monkeypatch.setenv("TZ", value)
    assert local_zone_name() == "UTC"


def test_system_zone_from_the_localtime_link(system_root):
    target = Path("/usr/share/zoneinfo/America/Sao_Paulo")
    if not target.exists():
        pytest.skip("no system zone database here")
    (system_root / "etc" / "localtime").symlink_to(target)
    assert local_zone_name() == "America/Sao_Paulo"


def test_system_zone_from_etc_timezone(system_root):
    (system_root / "etc" / "timezone").write_text("Australia/Adelaide\n")
    assert local_zone_name() == "Australia/Adelaide"


def test_no_system_setting_at_all_gives_utc(system_root):
    # a container or a minimal install: no /etc/localtime, no /etc/timezone
    assert local_zone_name() == "UTC"


def test_conflicting_system_settings_give_utc(system_root):
    target = Path("/usr/share/zoneinfo/Europe/Berlin")
    if not target.exists():
        pytest.skip("no system zone database here")
    (system_root / "etc" / "localtime").symlink_to(target)
    (system_root / "etc" / "sysconfig").mkdir()
    (system_root / "etc" / "sysconfig" / "clock").write_text('ZONE="Asia/Tokyo"\n')
    import tzlocal

    with pytest.raises(LookupError):  # what tzlocal itself does with them
        tzlocal.get_localzone_name()
    assert local_zone_name() == "UTC"


def test_a_system_zone_this_python_does_not_know_gives_utc(system_root):
    (system_root / "etc" / "timezone").write_text("Atlantis/Capital\n")
    assert local_zone_name() == "UTC"


def test_the_zone_found_can_be_used(monkeypatch):
    # whatever this machine says, the answer is a zone the rest of the app can load
    monkeypatch.delenv("TZ", raising=False)
    assert get_zone(local_zone_name())
