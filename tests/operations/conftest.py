"""Fixtures for the operations: a real database file and one account per platform."""

from __future__ import annotations

import pytest

from milton_desktop.storage.models import Account


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
