"""Reading a link card from a page: the tags, their fallbacks, and pages that fail."""

from __future__ import annotations

import logging

import pytest
import requests

from milton_desktop.publishers import linkcard
from milton_desktop.publishers.linkcard import Card, decode, fetch_card, parse_card
from tests.fakes.instagram import MediaHost

LOG = logging.getLogger("milton.publish.test")

PAGE = """<!doctype html><html><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Shipping v2 &amp; more">
<meta property="og:description" content="  What changed,
   and why.  ">
<meta name="description" content="the plain description">
<meta property="og:image" content="/img/card.jpg">
</head><body><svg><title>an icon</title></svg></body></html>"""


def test_open_graph_tags_come_first_and_a_relative_picture_is_resolved():
    card = parse_card(PAGE, "https://example.com/blog/v2", "https://www.example.com/blog/v2")
    assert card == Card(
        uri="https://example.com/blog/v2",
        title="Shipping v2 & more",
        description="What changed, and why.",
        image="https://www.example.com/img/card.jpg",
    )


def test_without_open_graph_the_title_and_meta_description_serve():
    page = (
        "<html><head><TITLE>\n  Plain  page\n</TITLE>"
        "<META NAME='Description' CONTENT='Says what it is'></head><body>x</body></html>"
    )
    assert parse_card(page, "https://example.com/") == Card(
        "https://example.com/", "Plain page", "Says what it is", None
    )
    # twitter's tags stand in for missing Open Graph ones
    page = (
        '<meta name="twitter:title" content="T"><meta name="twitter:image" '
        'content="https://cdn.example/t.png">'
    )
    assert parse_card(page, "https://example.com/") == Card(
        "https://example.com/", "T", "", "https://cdn.example/t.png"
    )


def test_a_page_without_any_title_has_no_card_and_odd_pictures_are_dropped():
    assert parse_card("<html><body><p>hello</p></body></html>", "https://example.com/") is None
    assert parse_card("not html at all <<<", "https://example.com/") is None
    page = '<title>x</title><meta property="og:image" content="javascript:alert(1)">'
    assert parse_card(page, "https://example.com/").image is None


def test_long_words_are_cut():
    page = f'<meta property="og:title" content="{"word " * 200}"><meta name="description" content="{"d" * 5000}">'
    card = parse_card(page, "https://example.com/")
    assert len(card.title) == linkcard.MAX_TITLE and card.title.endswith("…")
    assert len(card.description) == linkcard.MAX_DESCRIPTION


def test_the_charset_comes_from_the_server_then_the_page_then_utf8():
    latin = "<meta charset='iso-8859-1'><title>Café</title>".encode("latin-1")
    assert parse_card(decode(latin), "https://e.x/").title == "Café"
    assert decode("Café".encode("cp1252"), "windows-1252") == "Café"
    assert decode("Café".encode()) == "Café"
    assert decode(b"caf\xe9", "no-such-charset") == "caf\ufffd"


@pytest.fixture
def host():
    with MediaHost() as server:
        yield server


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def test_a_page_is_fetched_through_its_redirects(host, session):
    host.add("/final", PAGE.encode(), "text/html; charset=utf-8")
    host.inject("GET /short", status=301, headers={"Location": "/final"})
    card = fetch_card(session, f"{host.url}/short", log=LOG)
    assert card is not None and card.title == "Shipping v2 & more"
    assert card.uri == f"{host.url}/short"  # the link as written
    assert card.image == f"{host.url}/img/card.jpg"  # relative to where the page was


def test_only_the_head_of_a_huge_page_is_read(host, session, monkeypatch):
    monkeypatch.setattr(linkcard, "PAGE_CAP", 4096)
    host.add("/huge", PAGE.encode() + b"<p>" + b"x" * 5_000_000, "text/html")
    card = fetch_card(session, f"{host.url}/huge", log=LOG)
    assert card is not None and card.title == "Shipping v2 & more"


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        (lambda h: h.add("/p", b"%PDF-1.7", "application/pdf"), "application/pdf"),
        (lambda h: h.add("/p", b"<p>no title</p>", "text/html"), "no title"),
        (lambda h: None, "404"),
        (lambda h: h.inject("GET /p", status=503), "503"),
        (lambda h: h.inject("GET /p", mode="drop"), "dropped"),
    ],
    ids=["pdf", "untitled", "missing", "down", "dropped"],
)
def test_a_page_that_gives_no_card_is_logged_not_raised(host, session, caplog, setup, says):
    setup(host)
    with caplog.at_level(logging.INFO, LOG.name):
        assert fetch_card(session, f"{host.url}/p", log=LOG) is None
    assert any(
        "no link card" in r.message and says in r.message and "retry" not in r.message
        for r in caplog.records
    ), [r.message for r in caplog.records]


def test_a_page_that_trickles_is_given_up_on_time(host, session, monkeypatch):
    monkeypatch.setattr(linkcard, "CARD_SECONDS", 1.0)
    host.inject("GET /slow", mode="trickle", delay=0.3)
    assert fetch_card(session, f"{host.url}/slow", log=LOG) is None


def test_a_closed_port_gives_no_card(session):
    assert fetch_card(session, "http://127.0.0.1:9/nothing", log=LOG) is None
