"""What a platform accepts, as data, and one checker that reads it.

Each platform's :class:`Rules` live in its Platform descriptor (``publishers/``);
this module knows no platform by name. Every problem says what is wrong and what to
do about it, in words that fit the command line and the window alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from milton_desktop.domain.content import Content, MediaItem, Problem
from milton_desktop.domain.errors import Hint

MB = 1024 * 1024

#: alt text longer than this is refused by every platform we publish to
DEFAULT_MAX_ALT_TEXT = 1000

_HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
_MENTION_RE = re.compile(r"(?<![\w.])@([A-Za-z0-9_.]+)")


def count_hashtags(text: str) -> int:
    return len(_HASHTAG_RE.findall(text))


def count_mentions(text: str) -> int:
    return len(_MENTION_RE.findall(text))


@dataclass(frozen=True)
class Reducible:
    """Files a publisher makes fit on its own: one of these types over the rule's
    ``max_bytes`` is re-encoded or scaled down when it goes out, not refused here."""

    mimes: frozenset[str]
    #: the largest file it takes to reduce
    max_bytes: int
    #: the most pixels (width x height) it takes to reduce, where they are known
    max_pixels: int


@dataclass(frozen=True)
class MediaRule:
    """One kind of attachment a platform takes: its types and its size cap."""

    mimes: frozenset[str]
    max_bytes: int
    #: what the publisher reduces to fit ``max_bytes`` instead of refusing it
    reducible: Reducible | None = None


def _own_kind(item: MediaItem) -> str:
    return item.kind


@dataclass(frozen=True)
class Rules:
    """Everything that makes a platform refuse a post before it is sent."""

    platform: str
    label: str
    max_chars: int
    media: Mapping[str, MediaRule]
    max_media: int
    #: how the platform counts the text (X weighs characters and links)
    count: Callable[[str], int] = len
    unit: str = "characters"
    #: the rule kind of an item ("gif" is its own kind on X)
    kind_of: Callable[[MediaItem], str] = _own_kind
    #: kinds that must be the only attachment of a post
    alone: frozenset[str] = frozenset({"video"})
    requires_media: bool = False
    #: the platform fetches media itself, so each needs a public URL
    requires_url: bool = False
    #: allowed width/height ratio of images, inclusive
    image_aspect: tuple[float, float] | None = None
    #: most pixels (width x height) in an image, where the platform limits those and
    #: not only the bytes; checked when the item's dimensions are known
    max_image_pixels: int | None = None
    max_alt_text: int = DEFAULT_MAX_ALT_TEXT
    max_hashtags: int | None = None
    max_mentions: int | None = None
    #: further checks of the text, each returning the problems' messages
    text_checks: tuple[Callable[[str], list[str]], ...] = field(default=())

    def length(self, text: str) -> tuple[int, int]:
        """(length as the platform counts it, the platform's limit)."""
        return self.count(text), self.max_chars


def _fmt_size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} kB"


def validate_text(rules: Rules, text: str) -> list[Problem]:
    found: list[str] = []
    if "\x00" in text:
        found.append("the text contains a NUL character: remove it")
    length, limit = rules.length(text)
    if length > limit:
        found.append(
            f"the text is {length} {rules.unit}, over the limit of {limit}: "
            f"shorten it by {length - limit}"
        )
    if rules.max_hashtags is not None:
        tags = count_hashtags(text)
        if tags > rules.max_hashtags:
            found.append(
                f"{tags} hashtags: {rules.label} allows at most {rules.max_hashtags}; "
                f"remove {tags - rules.max_hashtags}"
            )
    if rules.max_mentions is not None:
        mentions = count_mentions(text)
        if mentions > rules.max_mentions:
            found.append(
                f"{mentions} @mentions: {rules.label} allows at most {rules.max_mentions}; "
                f"remove {mentions - rules.max_mentions}"
            )
    for check in rules.text_checks:
        found += check(text)
    return [Problem(rules.platform, "text", message) for message in found]


def _item_problems(rules: Rules, n: int, item: MediaItem) -> list[str | Problem]:
    # a stored copy is named by its hash: the user knows the file by the name it was added under
    shown = item.name or (item.path.name if item.path else item.url or item.kind)
    label = f"media {n} ({shown})"
    kind = rules.kind_of(item)
    rule = rules.media.get(kind)
    if rule is None:
        return [f"{label}: {rules.label} does not take {item.kind} files"]
    found: list[str | Problem] = []
    if item.mime not in rule.mimes:
        accepted = ", ".join(sorted(m.split("/")[1].upper() for m in rule.mimes))
        found.append(f"{label}: {item.mime or 'unknown type'} is not accepted; use {accepted}")
    if item.size and item.size > rule.max_bytes:
        found += _oversize(rules, rule, label, item)
    if rules.image_aspect and kind == "image" and item.width and item.height:
        low, high = rules.image_aspect
        ratio = item.width / item.height
        if not low <= ratio <= high:
            found.append(
                f"{label}: aspect ratio {ratio:.2f} is outside {rules.label}'s "
                f"{low:g}:1 to {high:g}:1; crop the image"
            )
    if rules.max_image_pixels and kind == "image" and item.width and item.height:
        pixels = item.width * item.height
        if pixels > rules.max_image_pixels:
            found.append(
                f"{label}: {item.width}x{item.height} is {pixels:,} pixels, over "
                f"{rules.label}'s limit of {rules.max_image_pixels:,}; scale the image down"
            )
    if rules.requires_url and not item.url:
        found.append(
            Problem(
                rules.platform,
                "media",
                f"{label}: {rules.label} fetches media from a public URL and this one is only "
                "a local file; add it as a public https link instead",
                Hint.PUBLIC_URL,
            )
        )
    if item.alt_text and len(item.alt_text) > rules.max_alt_text:
        found.append(f"{label}: alt text is over {rules.max_alt_text} characters; shorten it")
    return found


def _oversize(rules: Rules, rule: MediaRule, label: str, item: MediaItem) -> list[str | Problem]:
    """What is wrong with an item over its rule's ``max_bytes``: nothing when the
    publisher reduces such files itself, unless it is too large even for that."""
    reducible = rule.reducible
    if reducible is None or item.mime not in reducible.mimes:
        return [
            f"{label}: {_fmt_size(item.size)} is over the {_fmt_size(rule.max_bytes)} limit; "
            "use a smaller file"
        ]
    if item.size > reducible.max_bytes:
        return [
            f"{label}: {_fmt_size(item.size)} is too large to be scaled down to "
            f"{rules.label}'s {_fmt_size(rule.max_bytes)} limit (at most "
            f"{_fmt_size(reducible.max_bytes)}); use a smaller file"
        ]
    if item.width and item.height and item.width * item.height > reducible.max_pixels:
        return [
            f"{label}: {item.width}x{item.height} is too many pixels to be scaled down to "
            f"{rules.label}'s {_fmt_size(rule.max_bytes)} limit (at most "
            f"{reducible.max_pixels // 1_000_000} megapixels); use a smaller image"
        ]
    return []


def validate_media(rules: Rules, media: Sequence[MediaItem]) -> list[Problem]:
    found: list[str | Problem] = []
    for n, item in enumerate(media, 1):
        found += _item_problems(rules, n, item)
    kinds = [rules.kind_of(m) for m in media]
    if len(media) > rules.max_media:
        found.append(f"{len(media)} media: {rules.label} takes at most {rules.max_media}")
    elif len(media) > 1 and any(k in rules.alone for k in kinds):
        alone = " or ".join(sorted(rules.alone))
        found.append(f"{rules.label} takes one {alone} alone, or up to {rules.max_media} images")
    if rules.requires_media and not media:
        found.append(
            Problem(
                rules.platform,
                "media",
                f"{rules.label} needs at least one image or video, from a public https link",
                Hint.PUBLIC_URL,
            )
        )
    return [m if isinstance(m, Problem) else Problem(rules.platform, "media", m) for m in found]


def validate(rules: Rules, content: Content) -> list[Problem]:
    """Everything that would make the platform of ``rules`` refuse ``content``."""
    problems = validate_text(rules, content.text)
    problems += validate_media(rules, content.media)
    if not content.text.strip() and not content.media:
        problems.append(
            Problem(rules.platform, "text", "the post is empty: write some text or add media")
        )
    return problems
