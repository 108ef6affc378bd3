"""The registry of platforms: each platform module describes itself once, and what a
new platform needs besides its module (a fake server and tests) is checked here."""

from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path

import pytest

from milton_desktop.domain.content import Content
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.validation import Rules
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import Publisher
from milton_desktop.publishers.platform import Platform

TESTS = Path(__file__).resolve().parents[1]
PLATFORMS = registry.platforms()


def test_the_platforms_are_found_in_display_order():
    names = registry.names()
    assert {"linkedin", "x", "instagram"} <= set(names) and len(set(names)) == len(names)
    assert [p.order for p in PLATFORMS] == sorted(p.order for p in PLATFORMS)
    assert names[:3] == ("linkedin", "x", "instagram")
    assert registry.labels().startswith("LinkedIn, X") and " and " in registry.labels()
    assert " or " in registry.labels("or")


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_each_descriptor_is_consistent(platform: Platform):
    module = importlib.import_module(f"milton_desktop.publishers.{platform.name}")
    assert module.PLATFORM is platform
    assert issubclass(platform.publisher, Publisher)
    assert platform.publisher.platform == platform.name
    # one set of rules: what the editor checks is what the publisher checks
    assert platform.publisher.rules is platform.rules
    assert platform.rules.platform == platform.name and platform.rules.label == platform.label
    # and one set per tier: the publisher knows them without the registry
    assert set(platform.publisher.tiers) == set(platform.tiers)
    for tier, rules in platform.tiers.items():
        assert platform.publisher.tiers[tier] is rules
        assert (rules.platform, rules.label) == (platform.name, platform.label)
    assert platform.colour.startswith("#") and len(platform.colour) == 7
    assert 1 <= len(platform.short) <= 3
    assert platform.token_help
    assert platform.post_url("123", "someone").startswith("https://")
    if platform.oauth is not None and not platform.oauth.registers_itself:
        assert platform.oauth.developer_portal.startswith("https://")
    if platform.oauth is not None and platform.oauth.registers_itself:
        # nothing to paste: the publisher registers Milton and trades the code itself
        assert callable(getattr(platform.publisher, "register_app", None))
        assert callable(getattr(platform.publisher, "app_is_known", None))
        assert callable(getattr(platform.publisher, "exchange_code", None))
    # a platform says why it has no browser sign-in, or has one
    assert not (platform.oauth is not None and platform.no_browser_note)


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_each_platform_has_a_fake_server_and_tests(platform: Platform):
    assert (TESTS / "fakes" / f"{platform.name}.py").exists(), (
        "a fake server enforcing its contract"
    )
    assert (TESTS / "publishers" / f"test_{platform.name}.py").exists(), "its publisher tests"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_validation_goes_through_the_descriptor(platform: Platform):
    too_long = "a" * (platform.rules.max_chars + 1)
    problems = registry.validate(platform.name, Content(text=too_long))
    assert any("over the limit" in p.message for p in problems)
    publisher = registry.make_publisher(platform.name, api_base="http://127.0.0.1:9")
    assert publisher.validate(Content(text=too_long)) == problems


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_validation_for_each_tier_goes_through_the_descriptor(platform: Platform):
    publisher = registry.make_publisher(platform.name, api_base="http://127.0.0.1:9")
    assert publisher.tier is None  # standard until the caller says otherwise
    for tier, rules in platform.tiers.items():
        too_long = "a" * (rules.max_chars + 1)
        problems = registry.validate(platform.name, Content(text=too_long), tier=tier)
        assert any(f"over the limit of {rules.max_chars}" in p.message for p in problems)
        publisher.tier = tier
        assert publisher.validate(Content(text=too_long)) == problems


TOOT = Rules(platform="toot", label="Toot", max_chars=10, media={}, max_media=0)
TOOT_GOLD = replace(TOOT, max_chars=100)


class TootPublisher(Publisher):
    platform = "toot"
    rules = TOOT
    tiers = {"gold": TOOT_GOLD}
    default_bases = {"api": "http://127.0.0.1:9"}

    def identify(self, credential):  # pragma: no cover - never called
        raise NotImplementedError

    def publish(self, content, credential, account, progress=None):  # pragma: no cover
        raise NotImplementedError


TOOT_PLATFORM = Platform(
    name="toot",
    label="Toot",
    short="T",
    colour="#123456",
    order=99,
    rules=TOOT,
    publisher=TootPublisher,
    token_help="paste a token",
    post_url=lambda post_id, user: f"https://toot.example/{user}/{post_id}",
    tiers=TootPublisher.tiers,
)


def test_a_tier_picks_its_rules_and_anything_else_the_standard_ones():
    assert TOOT_PLATFORM.rules_for(None) is TOOT
    assert TOOT_PLATFORM.rules_for("gold") is TOOT_GOLD
    # a tier this version does not know (stored by a newer one) allows no more
    assert TOOT_PLATFORM.rules_for("platinum") is TOOT
    assert TOOT_PLATFORM.rules_for("") is TOOT
    assert TOOT_PLATFORM.length("a" * 50) == (50, 10)
    assert TOOT_PLATFORM.length("a" * 50, "gold") == (50, 100)
    assert [p.field for p in TOOT_PLATFORM.validate(Content("a" * 50))] == ["text"]
    assert TOOT_PLATFORM.validate(Content("a" * 50), "gold") == []
    assert [p.field for p in TOOT_PLATFORM.validate(Content("a" * 101), "gold")] == ["text"]


def test_a_publisher_validates_for_the_tier_its_caller_sets():
    publisher = TootPublisher()
    long = Content("a" * 50)
    assert publisher.validate(long) == TOOT_PLATFORM.validate(long)
    assert publisher.validate(long) != []
    publisher.tier = "gold"
    assert publisher.validate(long) == []
    publisher.tier = "platinum"
    assert publisher.validate(long) == TOOT_PLATFORM.validate(long)
    publisher.session.close()


def test_a_platform_without_tiers_has_the_same_rules_for_every_tier():
    linkedin = registry.platform("linkedin")
    assert linkedin.tiers == {}
    assert linkedin.rules_for("premium") is linkedin.rules
    assert registry.validate("linkedin", Content("hi"), tier="premium") == []


def test_an_unknown_platform_is_refused_with_the_choices():
    with pytest.raises(
        UserError, match="unknown platform 'myspace': choose one of linkedin, x, instagram"
    ):
        registry.platform("myspace")
    assert registry.find("myspace") is None
    assert registry.label("myspace") == "myspace"  # a newer database's platform still shows


def test_an_api_base_from_the_environment_applies_to_every_account(monkeypatch):
    monkeypatch.setenv("MILTON_X_API_BASE", "http://127.0.0.1:9/x")
    assert registry.make_publisher("x").base("api") == "http://127.0.0.1:9/x"
    assert registry.make_publisher("x", api_base="http://127.0.0.1:8").base("api") == (
        "http://127.0.0.1:8"
    )
