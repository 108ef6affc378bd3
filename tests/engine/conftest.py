"""Fixtures for the engine: a real SQLite file, a fake clock, a scripted publisher."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.content import Published
from milton_desktop.domain.credential import Credential, Identity
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.publishers.base import AuthExpired, Publisher
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import Account


class ScriptedPublisher(Publisher):
    """Answers each publish with the next scripted result (a Published or an exception).

    A function in the script is what happens elsewhere while the request is out: it is
    called, and the item after it answers.
    """

    platform = "linkedin"
    default_bases = {"api": "http://127.0.0.1:9"}
    script: list = []
    calls: list = []
    refreshes: list = []
    refresh_result: object = None

    def validate(self, content):
        from milton_desktop.publishers import registry

        return registry.validate("linkedin", content)

    def identify(self, credential):
        return Identity("1", "someone")

    def publish(self, content, credential, account, progress=None):
        type(self).calls.append((content.text, credential.access_token))
        while type(self).script and callable(type(self).script[0]):
            type(self).script.pop(0)()
        result = (
            type(self).script.pop(0) if type(self).script else Published("99", "https://x.com/s/99")
        )
        if isinstance(result, BaseException):
            raise result
        return result

    def refresh(self, credential):
        type(self).refreshes.append(credential.refresh_token)
        result = type(self).refresh_result
        if isinstance(result, BaseException):
            raise result
        return result


@pytest.fixture
def scripted():
    ScriptedPublisher.script = []
    ScriptedPublisher.calls = []
    ScriptedPublisher.refreshes = []
    ScriptedPublisher.refresh_result = AuthExpired("cannot refresh", refreshable=False)
    return ScriptedPublisher


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def creds(db, memory_keyring):
    return CredentialStore("test")


@pytest.fixture
def engine(db, creds, clock, scripted):
    return Engine(
        creds,
        clock=clock,
        config=EngineConfig(grace=timedelta(hours=2), max_attempts=3),
        publisher_factory=lambda platform, api_base=None: scripted(),
        rng=random.Random(7),
    )


@pytest.fixture
def account(db, creds):
    acc = Account.create(platform="linkedin", display_name="me", username="me", remote_id="1")
    creds.save("linkedin", acc.id, Credential("tok-123", refresh_token="rt-1"))
    return acc
