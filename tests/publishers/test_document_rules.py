"""A PDF document is LinkedIn's alone: the other platforms refuse it by name, before
anything is sent, instead of failing at the platform."""

from __future__ import annotations

from pathlib import Path

import pytest

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.validation import validate
from milton_desktop.publishers import instagram, linkedin, x

DECK_URL = "https://cdn.example.com/deck.pdf"


def deck(**kw: object) -> MediaItem:
    base: dict[str, object] = dict(
        kind="document", mime="application/pdf", path=Path("deck.pdf"), size=5000
    )
    return MediaItem(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rules", "item"),
    [
        (x.RULES, deck()),
        (instagram.RULES, deck(path=None, url=DECK_URL)),
    ],
    ids=["x", "instagram"],
)
def test_other_platforms_refuse_a_pdf_by_name(rules, item: MediaItem) -> None:
    messages = [p.message for p in validate(rules, Content("slides", (item,)))]

    name = "deck.pdf" if item.path else DECK_URL
    assert messages == [f"media 1 ({name}): {rules.label} does not take document files"]


def test_linkedin_takes_one_pdf_with_or_without_a_title() -> None:
    assert validate(linkedin.RULES, Content("slides", (deck(),))) == []
    assert validate(linkedin.RULES, Content("", (deck(alt_text="Q3 results"),))) == []


def test_linkedin_refuses_a_pdf_beside_an_image_or_of_another_type() -> None:
    photo = MediaItem(kind="image", mime="image/png", path=Path("p.png"), size=10)
    mixed = [p.message for p in validate(linkedin.RULES, Content("x", (deck(), photo)))]
    assert mixed == ["LinkedIn takes one document or video alone, or up to 20 images"]
    odd = [p.message for p in validate(linkedin.RULES, Content("x", (deck(mime="text/plain"),)))]
    assert odd == ["media 1 (deck.pdf): text/plain is not accepted; use PDF"]
