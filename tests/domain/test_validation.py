"""The checker reads a platform's rules as data: it knows no platform by name, so a
made-up platform's rules are checked as faithfully as the real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from milton_desktop.domain.content import Content, MediaItem
from milton_desktop.domain.errors import Hint
from milton_desktop.domain.validation import MB, MediaRule, Rules, validate

RULES = Rules(
    platform="toot",
    label="Toot",
    max_chars=10,
    media={
        "image": MediaRule(frozenset({"image/png"}), 1 * MB),
        "video": MediaRule(frozenset({"video/mp4"}), 5 * MB),
    },
    max_media=2,
    requires_url=True,
    image_aspect=(0.5, 2.0),
    max_image_pixels=1_000_000,
    max_hashtags=1,
    max_mentions=1,
    text_checks=(lambda text: ["no shouting: write it in lower case"] if text.isupper() else [],),
)


def _image(**kw) -> MediaItem:
    base = dict(kind="image", mime="image/png", url="https://cdn.example/p.png", size=1000)
    return MediaItem(**{**base, **kw})


def _messages(content: Content, rules: Rules = RULES) -> list[str]:
    return [p.message for p in validate(rules, content)]


def test_content_within_the_rules_passes():
    assert validate(RULES, Content("hello", (_image(),))) == []


def test_text_over_the_limit_says_by_how_much():
    assert _messages(Content("hello world!")) == [
        "the text is 12 characters, over the limit of 10: shorten it by 2"
    ]


def test_a_platform_counter_and_unit_are_used():
    weighted = Rules(
        platform="w",
        label="W",
        max_chars=4,
        media={},
        max_media=0,
        count=lambda t: 2 * len(t),
        unit="weighted characters",
    )
    assert _messages(Content("abc"), weighted) == [
        "the text is 6 weighted characters, over the limit of 4: shorten it by 2"
    ]


def test_hashtags_mentions_and_extra_checks():
    found = _messages(Content("#a #b @x @y"))
    assert "2 hashtags: Toot allows at most 1; remove 1" in found
    assert "2 @mentions: Toot allows at most 1; remove 1" in found
    assert _messages(Content("LOUD")) == ["no shouting: write it in lower case"]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_image(mime="image/jpeg"), "image/jpeg is not accepted; use PNG"),
        (_image(size=2 * MB), "2.0 MB is over the 1.0 MB limit; use a smaller file"),
        (_image(width=300, height=100), "aspect ratio 3.00 is outside Toot's 0.5:1 to 2:1"),
        (
            MediaItem(kind="audio", mime="audio/mp3", url="https://a/b.mp3"),
            "Toot does not take audio files",
        ),
        (_image(alt_text="x" * 1001), "alt text is over 1000 characters"),
    ],
)
def test_each_media_problem_names_the_item(item, expected):
    (message,) = _messages(Content("hi", (item,)))
    assert message.startswith("media 1 (") and expected in message


def test_image_pixels_are_checked_when_the_dimensions_are_known():
    assert _messages(Content("hi", (_image(width=1000, height=1000),))) == []
    (message,) = _messages(Content("hi", (_image(width=1001, height=1000),)))
    assert message == (
        "media 1 (https://cdn.example/p.png): 1001x1000 is 1,001,000 pixels, over Toot's "
        "limit of 1,000,000; scale the image down"
    )
    # unknown dimensions are left to the platform; videos have no pixel limit here
    assert _messages(Content("hi", (_image(width=5000),))) == []
    video = MediaItem("video", "video/mp4", url="https://a/v.mp4", width=4000, height=3000)
    assert _messages(Content("hi", (video,))) == []
    no_limit = Rules(platform="n", label="N", max_chars=10, media=RULES.media, max_media=1)
    assert _messages(Content("hi", (_image(width=9000, height=9000),)), no_limit) == []


def test_a_local_file_where_a_public_link_is_needed_carries_a_hint():
    local = _image(url=None, path=Path("/tmp/p.png"))
    (problem,) = validate(RULES, Content("hi", (local,)))
    assert "Toot fetches media from a public URL" in problem.message
    assert "--" not in problem.message  # no command-line words in the core
    assert problem.hint == Hint.PUBLIC_URL


def test_counts_and_kinds_that_must_stand_alone():
    video = MediaItem(kind="video", mime="video/mp4", url="https://a/v.mp4", size=10)
    assert _messages(Content("hi", (_image(), _image(), _image()))) == [
        "3 media: Toot takes at most 2"
    ]
    assert _messages(Content("hi", (video, _image()))) == [
        "Toot takes one video alone, or up to 2 images"
    ]


def test_an_empty_post_is_refused():
    assert _messages(Content("  ")) == ["the post is empty: write some text or add media"]


def test_a_stored_file_is_named_as_the_user_added_it_not_by_its_hash():
    stored = _image(
        url=None, path=Path("/media/3f9a0c1d2e.jpg"), mime="image/jpeg", name="square.jpg"
    )
    found = _messages(Content("hi", (stored,)))
    assert "media 1 (square.jpg): image/jpeg is not accepted; use PNG" in found
    assert not any("3f9a0c1d2e" in m for m in found)


def test_a_file_the_publisher_reduces_passes_over_the_limit_up_to_its_own_caps():
    from milton_desktop.domain.validation import Reducible

    rules = Rules(
        platform="sky",
        label="Sky",
        max_chars=10,
        media={
            "image": MediaRule(
                frozenset({"image/png", "image/gif"}),
                1 * MB,
                reducible=Reducible(frozenset({"image/png"}), 20 * MB, 4_000_000),
            )
        },
        max_media=4,
    )
    assert _messages(Content("x", (_image(size=5 * MB),)), rules) == []
    assert _messages(Content("x", (_image(size=5 * MB, width=1000, height=4000),)), rules) == []
    (gif,) = _messages(Content("x", (_image(mime="image/gif", size=2 * MB),)), rules)
    assert "is over the 1.0 MB limit" in gif
    (huge,) = _messages(Content("x", (_image(size=21 * MB),)), rules)
    assert "too large to be scaled down to Sky's 1.0 MB limit (at most 20.0 MB)" in huge
    (many,) = _messages(Content("x", (_image(size=2 * MB, width=3000, height=2000),)), rules)
    assert "3000x2000 is too many pixels" in many and "at most 4 megapixels" in many
    # a small file is never held to the reduction's pixel cap: it is sent as it is
    assert _messages(Content("x", (_image(size=MB // 2, width=3000, height=2000),)), rules) == []
