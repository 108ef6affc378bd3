"""What a post is made of, as every layer sees it: text, media, and what a platform
says back (its problems with the content, or where the post now lives)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from milton_desktop.domain.errors import Hint
from milton_desktop.domain.voices import BUILTIN_VOICES

#: the built-in voices a post can be written in; the user's own voices (the ``voices``
#: table, see ``operations/voices.py``) extend them
VOICES = BUILTIN_VOICES


@dataclass(frozen=True)
class MediaItem:
    """One image, video or PDF document attached to a post: a local file, a public
    URL, or both."""

    kind: str  # "image" | "video" | "document"
    mime: str
    path: Path | None = None
    url: str | None = None
    #: an image's or video's description for screen readers; for a document, its
    #: title, which LinkedIn shows on the carousel (the file's name when empty)
    alt_text: str = ""
    size: int = 0
    width: int | None = None
    height: int | None = None
    #: the file's name as the user knew it: a stored copy is named by its content hash
    name: str = ""


@dataclass(frozen=True)
class Content:
    """What to publish: the text for this platform and its media, in order."""

    text: str
    media: tuple[MediaItem, ...] = ()


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str
    #: what the user should know about a post that did go out (e.g. its alt text was refused)
    warnings: tuple[str, ...] = ()
    #: what a reply to this post must name besides its id (Bluesky's ``cid``), kept with
    #: the part so the next part of a thread can answer it after a restart
    ref: Mapping[str, str] = field(default_factory=dict)
    #: how an unknown outcome was settled on the platform (an answer that was lost, then
    #: the post found by its record key), for the attempt's history; None: it was not
    resolution: str | None = None


@dataclass(frozen=True)
class Problem:
    """A validation finding; ``message`` says what is wrong and what to do."""

    platform: str
    field: str
    message: str
    #: what would help, for a front end to phrase in its own words
    hint: Hint | None = None

    def __str__(self) -> str:
        return f"{self.platform}: {self.message}"
