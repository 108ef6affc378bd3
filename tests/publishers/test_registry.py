"""The registry of platforms: each platform module describes itself once, and what a
new platform needs besides its module (a fake server and tests) is checked here."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from milton_desktop.domain.content import Content
from milton_desktop.domain.errors import UserError
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import Publisher
from milton_desktop.publishers.platform import Platform

TESTS = Path(__file__).resolve().parents[1]
PLATFORMS = registry.platforms()


def test_the_platforms_are_found_in_display_order():
    assert registry.names() == ("linkedin", "x", "instagram")
    assert [p.order for p in PLATFORMS] == sorted(p.order for p in PLATFORMS)
    assert registry.labels() == "LinkedIn, X and Instagram"
    assert registry.labels("or") == "LinkedIn, X or Instagram"


@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.name)
def test_each_descriptor_is_consistent(platform: Platform):
    module = importlib.import_module(f"milton_desktop.publishers.{platform.name}")
    assert module.PLATFORM is platform
    assert issubclass(platform.publisher, Publisher)
    assert platform.publisher.platform == platform.name
    # one set of rules: what the editor checks is what the publisher checks
    assert platform.publisher.rules is platform.rules
    assert platform.rules.platform == platform.name and platform.rules.label == platform.label
    assert platform.colour.startswith("#") and len(platform.colour) == 7
    assert 1 <= len(platform.short) <= 3
    assert platform.token_help
    assert platform.post_url("123", "someone").startswith("https://")
    if platform.oauth is not None:
        assert platform.oauth.developer_portal.startswith("https://")


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
