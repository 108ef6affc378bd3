"""Tokens stay alive without the user: Instagram's 60-day tokens are renewed ahead of
their expiry (only while valid and a day old, at most one try a day), and X's 2-hour
tokens just before a publish, over real HTTP to the fake platforms."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.content import Content
from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.domain.errors import OperationFailed, UserError
from milton_desktop.engine.machine import Engine
from milton_desktop.operations import accounts, posts, schedules
from milton_desktop.publishers import registry
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account, PublishingResult
from tests.fakes.instagram import FakeInstagram
from tests.fakes.x import FakeX

DAY = 86400.0


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore("test")


@pytest.fixture
def instagram():
    with FakeInstagram() as fake:
        yield fake


def _connect_instagram(creds, fake, clock, *, age_days=0.0, expires=True):
    token = "IGAA-upkeep-0001"
    fake.add_token(token, age=age_days * DAY, expires_in=60 * DAY if expires else None)
    identity = Identity("17841400008460056", "milton.studio")
    credential = Credential(token, expires_at=None)  # a pasted token: expiry unknown
    acc = accounts.connect_account(creds, "instagram", "Studio", credential, identity, fake.url)
    Account.update(created_at=clock.now() - timedelta(days=age_days)).where(
        Account.id == acc.id
    ).execute()
    return acc


def _days(clock, fake, n=1):
    for _ in range(n):
        clock.advance(timedelta(days=1))
        fake.advance(DAY)


def _refreshes(fake):
    return [r for r in fake.requests if r.path.endswith("/refresh_access_token")]


def test_instagram_stays_connected_for_half_a_year_without_the_user(creds, instagram):
    clock = FakeClock(datetime.fromtimestamp(instagram.clock, UTC))
    acc = _connect_instagram(creds, instagram, clock)
    for _ in range(180):
        _days(clock, instagram)
        accounts.upkeep_tokens(creds, clock=clock)
    row = Account.get_by_id(acc.id)
    assert row.status == "connected"
    # the token in the keyring still works at the platform, half a year on
    token = creds.load("instagram", acc.id)
    identity = registry.make_publisher("instagram", api_base=instagram.url).identify(token)
    assert identity.remote_id == "17841400008460056"
    # an unknown expiry is renewed after a week; once known, only when ten days remain
    assert 3 <= len(_refreshes(instagram)) <= 5
    assert row.token_expires_at - clock.now() > timedelta(days=10)


def test_a_token_younger_than_a_day_is_not_renewed_and_says_when(creds, instagram):
    clock = FakeClock(datetime.fromtimestamp(instagram.clock, UTC))
    acc = _connect_instagram(creds, instagram, clock, age_days=0)
    with pytest.raises(UserError, match="only once it is 24 hours old: try again in 24 hours"):
        accounts.renew_token(creds, acc, clock=clock)
    assert _refreshes(instagram) == []
    _days(clock, instagram)
    renewed = accounts.renew_token(creds, acc, clock=clock)
    assert renewed.token_expires_at == clock.now() + timedelta(days=60)
    assert creds.load("instagram", acc.id).access_token != "IGAA-upkeep-0001"


def test_a_refused_renewal_asks_for_a_reconnect(creds, instagram):
    clock = FakeClock(datetime.fromtimestamp(instagram.clock, UTC))
    acc = _connect_instagram(creds, instagram, clock, age_days=3)
    instagram.expire("IGAA-upkeep-0001")
    with pytest.raises(OperationFailed, match="refused to renew the token of “Studio”"):
        accounts.renew_token(creds, acc, clock=clock)
    assert Account.get_by_id(acc.id).status == "needs_reconnect"


def test_at_most_one_try_a_day_whatever_happens(creds, instagram):
    clock = FakeClock(datetime.fromtimestamp(instagram.clock, UTC))
    _connect_instagram(creds, instagram, clock, age_days=8)  # unknown expiry, a week old
    instagram.inject("GET /refresh_access_token", status=500, times=5)
    assert accounts.upkeep_tokens(creds, clock=clock) == []
    later = FakeClock(clock.now() + timedelta(hours=20))
    assert accounts.upkeep_tokens(creds, clock=later) == []
    assert len(_refreshes(instagram)) == 1
    clock.advance(timedelta(days=1, minutes=1))
    instagram.advance(DAY)
    instagram.clear_faults()
    assert accounts.upkeep_tokens(creds, clock=clock) == ["Studio"]


def test_platforms_without_renewal_say_how_to_keep_access(creds):
    identity = Identity("782bbtaQ", "jo")
    acc = accounts.connect_account(creds, "linkedin", "Work", Credential("li-tok"), identity)
    with pytest.raises(UserError, match="LinkedIn tokens cannot be renewed from here: reconnect"):
        accounts.renew_token(creds, acc)


def test_an_x_token_about_to_expire_is_renewed_before_the_publish(creds):
    with FakeX() as x:
        x.add_user("2244994945", "miltonhq", "Milton HQ")
        x.add_token("x-old-token", "2244994945")
        x.add_refresh_token("x-refresh-1", "2244994945", "desktop-app")
        clock = FakeClock(datetime.now(UTC))
        acc = Account.create(
            platform="x",
            display_name="X",
            username="miltonhq",
            remote_id="2244994945",
            api_base=x.url,
        )
        soon = clock.now() + timedelta(minutes=3)
        creds.save(
            "x",
            acc.id,
            Credential(
                "x-old-token", refresh_token="x-refresh-1", expires_at=soon, client_id="desktop-app"
            ),
        )
        post = posts.add_post("after a quiet day", clock=clock)
        row = schedules.schedule(post.id, acc.id, clock.now(), clock=clock)
        engine = Engine(creds, clock=clock, rng=random.Random(1))
        assert engine.claim(row.id)
        outcome = engine.execute(row.id)
        assert outcome.status == "published"
        paths = [r.path for r in x.requests]
        assert paths.index("/2/oauth2/token") < paths.index("/2/tweets")
        assert len(x.tweets) == 1
        assert creds.load("x", acc.id).access_token != "x-old-token"
        outcomes = [r.outcome for r in PublishingResult.select().order_by(PublishingResult.id)]
        assert outcomes == ["auth_refreshed", "published"]
        assert registry.validate("x", Content("ok")) == []
