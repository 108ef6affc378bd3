"""A link card's words and picture, read from the linked page itself.

Some platforms (Bluesky) show a card under a post only when the client sends it: the
page's title, description and picture. :func:`fetch_card` fetches the page through
the publishers' download (redirects by hand, no platform header sent, a total
deadline shorter than a publish's, the first :data:`PAGE_CAP` bytes only) and
:func:`parse_card` reads its Open Graph tags (``og:title``, ``og:description``,
``og:image``), then Twitter's, then the plain ``<title>`` and meta description.

A card is a nicety: every failure here is logged and answered with None, so the
post goes out without one rather than not at all.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from milton_desktop.publishers.base import PublishError
from milton_desktop.publishers.http import download, safe_url

if TYPE_CHECKING:
    import requests

#: the part of a page read for its card: the tags are in its head, near the start
PAGE_CAP = 1024 * 1024
#: seconds the page (and, apart, its picture) may take: a card must not hold a post long
CARD_SECONDS = 15.0
CARD_TIMEOUT = (5.0, 10.0)
#: what is kept of the words (the platforms cut them shorter when they show them)
MAX_TITLE = 300
MAX_DESCRIPTION = 1000
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

_SPACE = re.compile(r"\s+")
# a charset declared in the page itself: <meta charset="..."> or the http-equiv form
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


@dataclass(frozen=True)
class Card:
    """What a link card shows."""

    uri: str
    title: str
    description: str
    #: the page's picture, an absolute http(s) link; None when it names none
    image: str | None = None


class _HeadReader(HTMLParser):
    """The first value of each ``<meta property|name=... content=...>``, and the
    first ``<title>``'s text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: str | None = None
        self._title: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            values = {name.lower(): value or "" for name, value in attrs}
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])
        elif tag == "title" and self.title is None and self._title is None:
            self._title = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self.title = "".join(self._title)
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)


def _clean(text: str | None, limit: int) -> str:
    text = _SPACE.sub(" ", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def parse_card(page: str, uri: str, base: str | None = None) -> Card | None:
    """The card of ``page`` (HTML text) for the link ``uri``; None when the page has
    no title at all. ``base`` is where the page was read from (after redirects),
    for a picture given by a relative link."""
    reader = _HeadReader()
    with contextlib.suppress(AssertionError, ValueError):  # broken markup ends the reading
        reader.feed(page)
        reader.close()
    meta = reader.meta

    def first(*keys: str) -> str:
        return next((meta[k] for k in keys if meta.get(k, "").strip()), "")

    title = _clean(first("og:title", "twitter:title") or reader.title, MAX_TITLE)
    if not title:
        return None
    description = _clean(
        first("og:description", "twitter:description", "description"), MAX_DESCRIPTION
    )
    image = first(
        "og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"
    )
    picture = urljoin(base or uri, image.strip()) if image else None
    if picture and urlsplit(picture).scheme not in ("http", "https"):
        picture = None
    return Card(uri=uri, title=title, description=description, image=picture)


def decode(data: bytes, charset: str = "") -> str:
    """A page's bytes as text: the charset its server named, else the one it declares
    itself, else UTF-8; bytes that do not decode become U+FFFD."""
    for name in (charset, *_declared(data), "utf-8"):
        if not name:
            continue
        try:
            codec = codecs.lookup(name)
        except LookupError:
            continue
        return data.decode(codec.name, errors="replace")
    return data.decode("utf-8", errors="replace")  # pragma: no cover - utf-8 always exists


def _declared(data: bytes) -> list[str]:
    found = _META_CHARSET.search(data[:4096])
    return [found.group(1).decode("ascii", "replace")] if found else []


def fetch_card(
    session: requests.Session,
    uri: str,
    *,
    log: logging.Logger,
    timeout: float | tuple[float, float] = CARD_TIMEOUT,
) -> Card | None:
    """The card of the page ``uri`` links to, or None (logged) when there is none:
    the page is down, is not HTML, has no title, or takes too long."""
    host = urlsplit(uri).hostname or "the linked site"
    try:
        with contextlib.ExitStack() as stack:
            got = download(
                session,
                uri,
                what=f"reading the linked page on {host} for its card",
                label="the linked page",
                cap=PAGE_CAP,
                timeout=timeout,
                stack=stack,
                platform="the link card",
                log=log,
                allowance=CARD_SECONDS,
                truncate=True,
            )
            if got.content_type and got.content_type not in HTML_TYPES:
                log.info("no link card for %s: it serves %s", safe_url(uri), got.content_type)
                return None
            page = decode(got.file.read(), got.charset)
    except (PublishError, OSError) as exc:
        # the post goes out without a card: nothing of it is tried again
        log.info("no link card for %s: %s", safe_url(uri), str(exc).removesuffix("; will retry"))
        return None
    card = parse_card(page, uri, got.url or uri)
    if card is None:
        log.info("no link card for %s: the page has no title", safe_url(uri))
    return card
