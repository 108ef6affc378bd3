"""Per-platform limits, checked before anything is stored and again before sending.

Every problem says what is wrong and what to do about it, in the user's words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from milton_desktop.publishers.base import Content, MediaItem, Problem

MB = 1024 * 1024

LINKEDIN_MAX_CHARS = 3000
INSTAGRAM_MAX_CHARS = 2200
INSTAGRAM_MAX_HASHTAGS = 30
INSTAGRAM_MAX_MENTIONS = 20
X_MAX_WEIGHTED = 280

#: platform -> kind -> (accepted mime types, max bytes)
MEDIA_RULES: dict[str, dict[str, tuple[frozenset[str], int]]] = {
    "x": {
        "image": (frozenset({"image/jpeg", "image/png", "image/webp"}), 5 * MB),
        "gif": (frozenset({"image/gif"}), 15 * MB),
        "video": (frozenset({"video/mp4", "video/quicktime"}), 512 * MB),
    },
    "linkedin": {
        "image": (frozenset({"image/jpeg", "image/png", "image/gif"}), 36 * MB),
        "video": (frozenset({"video/mp4"}), 500 * MB),
    },
    "instagram": {
        "image": (frozenset({"image/jpeg"}), 8 * MB),
        "video": (frozenset({"video/mp4", "video/quicktime"}), 300 * MB),
    },
}

_HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)", re.UNICODE)
_MENTION_RE = re.compile(r"(?<![\w.])@([A-Za-z0-9_.]+)")


def count_hashtags(text: str) -> int:
    return len(_HASHTAG_RE.findall(text))


def count_mentions(text: str) -> int:
    return len(_MENTION_RE.findall(text))


def x_weighted_length(text: str) -> int:
    from milton_desktop.domain.twittertext import parse_tweet

    return parse_tweet(text).weighted_length


def text_length(platform: str, text: str) -> tuple[int, int]:
    """(length as the platform counts it, the platform's limit)."""
    if platform == "x":
        return x_weighted_length(text), X_MAX_WEIGHTED
    if platform == "linkedin":
        return len(text), LINKEDIN_MAX_CHARS
    if platform == "instagram":
        return len(text), INSTAGRAM_MAX_CHARS
    raise ValueError(f"unknown platform {platform!r}")


def _media_kind(platform: str, item: MediaItem) -> str:
    if platform == "x" and item.mime == "image/gif":
        return "gif"
    return item.kind


def _fmt_size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n / 1024:.0f} kB"


def validate_text(platform: str, text: str) -> list[Problem]:
    problems: list[Problem] = []
    if "\x00" in text:
        problems.append(Problem(platform, "text", "the text contains a NUL character: remove it"))
    length, limit = text_length(platform, text)
    if length > limit:
        unit = "weighted characters" if platform == "x" else "characters"
        problems.append(
            Problem(
                platform,
                "text",
                f"the text is {length} {unit}, over the limit of {limit}: "
                f"shorten it by {length - limit}",
            )
        )
    if platform == "x":
        from milton_desktop.domain.twittertext import parse_tweet

        if parse_tweet(text).has_invalid_characters:
            problems.append(
                Problem(
                    platform,
                    "text",
                    "the text contains characters X refuses (U+FFFE, U+FEFF or U+FFFF): remove them",
                )
            )
    if platform == "instagram":
        tags = count_hashtags(text)
        if tags > INSTAGRAM_MAX_HASHTAGS:
            problems.append(
                Problem(
                    platform,
                    "text",
                    f"{tags} hashtags: Instagram allows at most {INSTAGRAM_MAX_HASHTAGS}; remove {tags - INSTAGRAM_MAX_HASHTAGS}",
                )
            )
        mentions = count_mentions(text)
        if mentions > INSTAGRAM_MAX_MENTIONS:
            problems.append(
                Problem(
                    platform,
                    "text",
                    f"{mentions} @mentions: Instagram allows at most {INSTAGRAM_MAX_MENTIONS}; remove {mentions - INSTAGRAM_MAX_MENTIONS}",
                )
            )
    return problems


def validate_media(platform: str, media: Sequence[MediaItem]) -> list[Problem]:
    problems: list[Problem] = []
    rules = MEDIA_RULES[platform]
    for n, item in enumerate(media, 1):
        label = f"media {n} ({item.path.name if item.path else item.url or item.kind})"
        kind = _media_kind(platform, item)
        if kind not in rules:
            problems.append(
                Problem(platform, "media", f"{label}: {platform} does not take {item.kind} files")
            )
            continue
        mimes, max_bytes = rules[kind]
        if item.mime not in mimes:
            accepted = ", ".join(sorted(m.split("/")[1].upper() for m in mimes))
            problems.append(
                Problem(
                    platform,
                    "media",
                    f"{label}: {item.mime or 'unknown type'} is not accepted; use {accepted}",
                )
            )
        if item.size and item.size > max_bytes:
            problems.append(
                Problem(
                    platform,
                    "media",
                    f"{label}: {_fmt_size(item.size)} is over the {_fmt_size(max_bytes)} limit; use a smaller file",
                )
            )
        if platform == "instagram" and kind == "image" and item.width and item.height:
            ratio = item.width / item.height
            if not 0.8 <= ratio <= 1.91:
                problems.append(
                    Problem(
                        platform,
                        "media",
                        f"{label}: aspect ratio {ratio:.2f} is outside Instagram's 4:5 to 1.91:1; crop the image",
                    )
                )
        if platform == "instagram" and not item.url:
            problems.append(
                Problem(
                    platform,
                    "media",
                    f"{label}: Instagram fetches media from a public URL and this one is only a local "
                    "file; add it as a public https link (--media-url) instead",
                )
            )
        if item.alt_text and len(item.alt_text) > 1000:
            problems.append(
                Problem(platform, "media", f"{label}: alt text is over 1000 characters; shorten it")
            )
    kinds = [_media_kind(platform, m) for m in media]
    videos = kinds.count("video") + kinds.count("gif")
    if platform == "x":
        if len(media) > 4:
            problems.append(
                Problem(platform, "media", f"{len(media)} media: X takes at most 4 images")
            )
        elif videos and len(media) > 1:
            problems.append(
                Problem(platform, "media", "X takes one video or one GIF alone, or up to 4 images")
            )
    elif platform == "linkedin":
        if len(media) > 20:
            problems.append(
                Problem(platform, "media", f"{len(media)} images: LinkedIn takes at most 20")
            )
        elif videos and len(media) > 1:
            problems.append(
                Problem(platform, "media", "LinkedIn takes one video alone, or up to 20 images")
            )
    elif platform == "instagram":
        if not media:
            problems.append(
                Problem(
                    platform,
                    "media",
                    "Instagram needs at least one image or video: add one with --media-url",
                )
            )
        elif len(media) > 10:
            problems.append(
                Problem(
                    platform, "media", f"{len(media)} media: an Instagram carousel takes at most 10"
                )
            )
    return problems


def validate(platform: str, content: Content) -> list[Problem]:
    """Everything that would make ``platform`` refuse ``content``."""
    problems = validate_text(platform, content.text)
    problems += validate_media(platform, content.media)
    if not content.text.strip() and not content.media:
        problems.append(
            Problem(platform, "text", "the post is empty: write some text or add media")
        )
    return problems
