"""Fixtures for widget tests: a real database file, an in-memory keyring, sample data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from milton_desktop.domain.credential import Credential
from milton_desktop.operations import posts, schedules
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore(settings.install_id())


@pytest.fixture
def accounts(db, creds):
    """One connected account per platform, each with a token in the keyring."""
    made = {}
    for platform, name in (
        ("linkedin", "Work LinkedIn"),
        ("x", "My X"),
        ("instagram", "Studio IG"),
    ):
        acc = Account.create(
            platform=platform, display_name=name, username=name.split()[-1].lower(), remote_id="42"
        )
        creds.save(platform, acc.id, Credential(f"token-{platform}"))
        made[platform] = acc
    settings.set_value("timezone", "Europe/Paris")
    return made


@pytest.fixture
def make_schedule(accounts):
    """make_schedule(text, when_utc, platform="linkedin") -> ScheduledPost."""

    def _make(text, when, platform="linkedin"):
        post = posts.add_post(text)
        return schedules.schedule(post.id, accounts[platform], when, timezone="Europe/Paris")

    return _make


@pytest.fixture
def later():
    """An instant safely in the future, on a fixed local time, for stable layouts."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return (now + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
