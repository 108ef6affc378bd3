"""Fixtures shared by the publisher tests."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def away_from_utc() -> Iterator[None]:
    """Run with the process's local zone five hours from UTC.

    A date read as local time when it is GMT (the zone-less asctime HTTP-date, say)
    is then five hours off, instead of silently right on a machine kept in UTC.
    """
    if not hasattr(time, "tzset"):
        pytest.skip("the local zone can only be switched where time.tzset exists")
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "EST+05"  # POSIX form: needs no tz database
    time.tzset()
    try:
        yield
    finally:
        # restored by hand: monkeypatch would undo it only after tzset had run
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
