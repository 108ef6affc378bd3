"""Fixtures for the operations: a real database file, one account per platform, a
fixed clock and a media folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.storage.models import Account
from tests.operations.helpers import NOW


@pytest.fixture
def accounts(db, memory_keyring) -> dict[str, Account]:
    return {
        platform: Account.create(platform=platform, display_name=name, remote_id="42")
        for platform, name in (
            ("linkedin", "Work LinkedIn"),
            ("x", "My X"),
            ("instagram", "Studio IG"),
        )
    }


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def media_dir(tmp_path) -> Path:
    return tmp_path / "media"
