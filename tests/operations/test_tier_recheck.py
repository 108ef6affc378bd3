"""A Mastodon instance changes its limits: the scheduler's daily pass reads them again
(over real HTTP to the fake instance) and the account's rules follow, once a day and
not on every tick; a failure to read is retried the next day and breaks nothing."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.content import Content
from milton_desktop.engine.dispatch import Dispatcher
from milton_desktop.engine.machine import Engine
from milton_desktop.operations import accounts, tier_recheck
from milton_desktop.publishers import registry
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account
from tests.fakes.mastodon import FakeMastodon

INSTANCE = "GET /api/v2/instance"


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore("test")


@pytest.fixture
def fake():
    with FakeMastodon() as server:
        server.add_user("109876", "milton", "Milton HQ", token="toot-token")
        yield server


@pytest.fixture
def clock():
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def _connect(creds, fake, clock) -> Account:
    view = accounts.connect_with_token(creds, "mastodon", "Toots", "toot-token", fake.url)
    # connected "now" on the test's clock: the tier was read then
    Account.update(created_at=clock.now()).where(Account.id == view.id).execute()
    return Account.get_by_id(view.id)


def _allows(acc_id: int, chars: int) -> bool:
    acc = Account.get_by_id(acc_id)
    platform = registry.platform("mastodon")
    return not platform.validate(Content("x" * chars), acc.tier)


def test_new_limits_are_read_once_a_day_and_allowed(creds, fake, clock, caplog):
    caplog.set_level(logging.INFO, logger="milton.accounts")
    acc = _connect(creds, fake, clock)
    assert _allows(acc.id, 500) and not _allows(acc.id, 900)
    reads = len(fake.calls(INSTANCE))
    fake.max_characters = 1000  # the admins raise the limit

    clock.advance(timedelta(hours=3))
    assert tier_recheck.recheck_tiers(creds, clock=clock) == []  # not a day yet
    assert len(fake.calls(INSTANCE)) == reads

    clock.advance(timedelta(hours=21, minutes=1))
    assert tier_recheck.recheck_tiers(creds, clock=clock) == ["Toots"]
    assert len(fake.calls(INSTANCE)) == reads + 1
    assert _allows(acc.id, 900) and not _allows(acc.id, 1001)
    assert Account.get_by_id(acc.id).tier.startswith("i1000.")
    assert "limits of account id" in caplog.text and "i1000." in caplog.text

    # the same day again: nothing is asked
    clock.advance(timedelta(hours=12))
    assert tier_recheck.recheck_tiers(creds, clock=clock) == []
    assert len(fake.calls(INSTANCE)) == reads + 1
    # the next day, nothing changed: asked, nothing stored, nothing reported
    clock.advance(timedelta(hours=12, minutes=1))
    assert tier_recheck.recheck_tiers(creds, clock=clock) == []
    assert len(fake.calls(INSTANCE)) == reads + 2


def test_a_failed_read_is_logged_retried_next_day_and_breaks_nothing(creds, fake, clock, caplog):
    acc = _connect(creds, fake, clock)
    before = acc.tier
    fake.max_characters = 3000
    fake.inject(INSTANCE, status=503, body={"error": "Service Unavailable"})
    clock.advance(timedelta(days=1, minutes=1))
    with caplog.at_level(logging.WARNING, logger="milton.accounts"):
        assert tier_recheck.recheck_tiers(creds, clock=clock) == []
    row = Account.get_by_id(acc.id)
    assert (row.status, row.tier) == ("connected", before)
    assert "could not read the Mastodon limits" in caplog.text
    # not tried again on every tick of the same day...
    reads = len(fake.calls(INSTANCE))
    clock.advance(timedelta(hours=1))
    tier_recheck.recheck_tiers(creds, clock=clock)
    assert len(fake.calls(INSTANCE)) == reads
    # ...but the next day, and then it works
    clock.advance(timedelta(days=1))
    assert tier_recheck.recheck_tiers(creds, clock=clock) == ["Toots"]
    assert _allows(acc.id, 2500)


def test_accounts_waiting_for_a_reconnect_or_on_other_platforms_are_left_alone(creds, fake, clock):
    acc = _connect(creds, fake, clock)
    Account.update(status="needs_reconnect").where(Account.id == acc.id).execute()
    Account.create(platform="x", display_name="My X", remote_id="1", tier="premium")
    reads = len(fake.calls(INSTANCE))
    clock.advance(timedelta(days=2))
    assert tier_recheck.recheck_tiers(creds, clock=clock) == []
    assert len(fake.calls(INSTANCE)) == reads
    assert Account.get(Account.display_name == "My X").tier == "premium"


def test_the_schedulers_housekeeping_reads_them_once_a_day_not_every_loop(creds, fake, clock):
    acc = _connect(creds, fake, clock)
    fake.max_characters = 2000
    engine = Engine(creds, clock=clock, rng=random.Random(1))
    dispatcher = Dispatcher(engine, lambda outcome: None)
    try:
        reads = len(fake.calls(INSTANCE))
        clock.advance(timedelta(days=1, seconds=1))
        for _ in range(5):  # five watchdog ticks, a minute apart
            dispatcher.housekeeping()
            clock.advance(timedelta(minutes=1))
        assert len(fake.calls(INSTANCE)) == reads + 1
        assert _allows(acc.id, 1999)
    finally:
        dispatcher.shutdown(timeout=5)
