"""A connection opened ahead of a publish (``Publisher.preconnect``): nothing is sent
on it, and the publish then goes out on it instead of opening its own."""

from __future__ import annotations

import socket

import pytest
import urllib3.util.connection

from milton_desktop.domain.content import Content
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.publishers.base import Transient
from milton_desktop.publishers.x import XPublisher
from tests.fakes.x import FakeX

TOKEN = "x-preconnect-token-1"


@pytest.fixture
def fake():
    with FakeX() as fake:
        fake.add_user("2244994945", "miltonhq", "Milton HQ", token=TOKEN)
        yield fake


@pytest.fixture
def connects(monkeypatch):
    made: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return made


def test_the_publish_goes_out_on_the_connection_opened_ahead(fake, connects):
    pub = XPublisher(api_base=fake.url)
    assert pub.preconnect() is True
    assert len(connects) == 1
    assert fake.requests == []  # a connection, nothing sent on it
    published = pub.publish(
        Content(text="on a warm line"), Credential(TOKEN), AccountRef("2244994945", "miltonhq")
    )
    assert published.remote_id
    assert len(connects) == 1  # no second connection for the publish
    assert [t["text"] for t in fake.tweets] == ["on a warm line"]


def test_a_server_that_cannot_be_reached_ahead_only_costs_the_head_start():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    pub = XPublisher(api_base=f"http://127.0.0.1:{port}")
    assert pub.preconnect() is False
    with pytest.raises(Transient):  # the publish finds out for itself, as before
        pub.publish(Content(text="x"), Credential(TOKEN), AccountRef("1", "u"))
