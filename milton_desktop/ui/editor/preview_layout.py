"""What a platform's feed would show of a post: the text up to its fold, links as the
platform shows them, the part over the limit, and how an image is cropped.

Plain Python (no Qt), read from each platform's :class:`~milton_desktop.publishers.
platform.Preview`, so the preview widget only paints what this module decides and a
new platform needs no code here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from milton_desktop.domain.twittertext import url_spans
from milton_desktop.publishers.platform import Platform

TEXT, LINK, OVER, MORE = "text", "link", "over", "more"


@dataclass(frozen=True)
class Segment:
    """A run of the preview's text: plain, a link, over the limit, or the fold's label."""

    text: str
    kind: str = TEXT


@dataclass(frozen=True)
class TextLayout:
    segments: tuple[Segment, ...]
    #: characters hidden behind the fold ("…see more")
    hidden: int = 0
    #: how far over the platform's limit the text is, in its own unit (0: within it)
    over: int = 0
    #: the first link, for a link card: ``host/path`` without the scheme
    first_link: str = ""

    @property
    def plain(self) -> str:
        """The preview's text as a screen reader would read it."""
        return "".join(s.text for s in self.segments)


def shown_link(url: str, chars: int | None) -> str:
    """A link as the feed shows it: without ``https://`` and ``www.``, shortened to
    ``chars`` with an ellipsis where the platform shortens links."""
    shown = url
    for prefix in ("https://", "http://"):
        if shown.lower().startswith(prefix):
            shown = shown[len(prefix) :]
    if shown.lower().startswith("www."):
        shown = shown[4:]
    if chars is not None and len(shown) > chars:
        shown = shown[: chars - 1] + "…"
    return shown


def link_host(url: str) -> str:
    """The host of a link as written in a post (with or without its scheme)."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = parts.hostname or url
    return host[4:] if host.startswith("www.") else host


def _within_limit(platform: Platform, text: str, tier: str | None) -> int:
    """How many characters of ``text`` fit the platform's limit (its own counting)."""
    n, limit = platform.length(text, tier)
    if n <= limit:
        return len(text)
    lo, hi = 0, len(text)  # the longest prefix that fits: counting is monotonic
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if platform.length(text[:mid], tier)[0] <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def fold_point(text: str, chars: int | None, lines: int | None) -> int | None:
    """Where the feed cuts ``text`` behind its "more" label; None: it shows all of it."""
    cut = len(text)
    if lines is not None:
        end = -1
        for _ in range(lines):
            end = text.find("\n", end + 1)
            if end < 0:
                break
        else:
            cut = min(cut, end)
    if chars is not None and len(text) > chars:
        cut = min(cut, chars)
    if cut >= len(text.rstrip()):
        return None
    # feeds cut between words: back up to the last space, unless that loses a lot
    space = text.rfind(" ", 0, cut + 1)
    if space > cut * 0.6:
        cut = space
    return cut


def layout_text(platform: Platform, text: str, tier: str | None = None) -> TextLayout:
    """What ``platform``'s feed shows of ``text`` (from an account of ``tier``)."""
    preview = platform.preview
    n, limit = platform.length(text, tier)
    over = max(0, n - limit)
    spans = url_spans(text)
    first_link = shown_link(text[spans[0][0] : spans[0][1]], None) if spans else ""

    fits = _within_limit(platform, text, tier) if over else len(text)
    fold = fold_point(text, preview.fold_chars, preview.fold_lines)
    if fold is not None:
        # never cut a link in two: the feed keeps it whole or moves it behind the fold
        for start, end in spans:
            if start < fold < end:
                fold = start
        shown_end = min(fold, fits)
    else:
        shown_end = fits

    segments: list[Segment] = []
    pos = 0
    for start, end in spans:
        if start >= shown_end:
            break
        end = min(end, shown_end)
        if start > pos:
            segments.append(Segment(text[pos:start]))
        url = text[start:end]
        segments.append(Segment(shown_link(url, preview.link_chars), LINK))
        pos = end
    if pos < shown_end:
        segments.append(Segment(text[pos:shown_end]))
    hidden = 0
    if fold is not None:
        hidden = len(text) - shown_end
        segments.append(Segment(preview.more_label, MORE))
    elif over:
        # no fold: the feed would show it all, so show what the platform refuses
        segments.append(Segment(text[shown_end:], OVER))
    return TextLayout(tuple(segments), hidden=hidden, over=over, first_link=first_link)


def shown_ratio(width: int, height: int, ratios: tuple[float, float]) -> float:
    """The width/height an image is shown at: its own, within the platform's range."""
    if width <= 0 or height <= 0:
        return ratios[1]
    lo, hi = ratios
    return min(max(width / height, lo), hi)


def crop_box(width: int, height: int, ratios: tuple[float, float]) -> tuple[int, int, int, int]:
    """The centred part ``(x, y, w, h)`` of a ``width`` x ``height`` image the feed shows."""
    ratio = shown_ratio(width, height, ratios)
    if width / height > ratio:  # too wide: the sides go
        w = round(height * ratio)
        return ((width - w) // 2, 0, w, height)
    h = round(width / ratio)
    return (0, (height - h) // 2, width, h)


def ratio_name(ratio: float) -> str:
    """A ratio in the words platforms use: ``1:1``, ``4:5``, ``16:9``, ``1.91:1``."""
    known = {1.0: "1:1 square", 0.8: "4:5 portrait", 16 / 9: "16:9", 1.91: "1.91:1"}
    for value, name in known.items():
        if abs(ratio - value) < 0.01:
            return name
    return f"{ratio:.2f}:1"
