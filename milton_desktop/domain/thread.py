"""A post in parts: its main text and follow-ups (a thread, or first comments).

The main post is part 0; follow-up k is part k. What each part became is kept with
the schedule as a list of entries (``scheduled_posts.parts``), one per part that went
out or is going out, so a retry carries on from the first part that is not live and
never sends a live part again. This module turns that list and the schedule's status
into what the user sees of every part, and cuts a long text into parts that fit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from milton_desktop.domain.status import Status

#: the most follow-ups a post may have (a thread of 25 parts)
MAX_FOLLOW_UPS = 24
#: the longest wait between two parts
MAX_FOLLOW_UP_DELAY_S = 2 * 3600

#: a part that is on the platform
LIVE = Status.PUBLISHED.value
#: a part whose create was sent and whose answer has not been recorded yet
SENDING = "sending"


@dataclass(frozen=True)
class PartEntry:
    """What one part became (stored as JSON with the schedule)."""

    index: int
    status: str  # LIVE | SENDING
    remote_id: str | None = None
    url: str | None = None
    #: what a reply to this part must name besides its id (see ``Published.ref``)
    ref: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.remote_id is not None:
            out["remote_id"] = self.remote_id
        if self.url is not None:
            out["url"] = self.url
        if self.ref:
            out["ref"] = dict(self.ref)
        return out


def load_parts(text: str | None) -> list[PartEntry]:
    """The stored entries, in part order; anything unreadable is left out."""
    if not text:
        return []
    try:
        raw = json.loads(text)
    except ValueError:
        return []
    entries = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("index"), int):
            continue
        ref = item.get("ref")
        if not isinstance(ref, dict):
            ref = {}
        entries.append(
            PartEntry(
                index=item["index"],
                status=str(item.get("status") or ""),
                remote_id=item.get("remote_id"),
                url=item.get("url"),
                ref={str(k): str(v) for k, v in ref.items()},
            )
        )
    return sorted(entries, key=lambda e: e.index)


def dump_parts(entries: Sequence[PartEntry]) -> str | None:
    return json.dumps([e.to_dict() for e in entries], ensure_ascii=False) if entries else None


def live_parts(entries: Sequence[PartEntry]) -> list[PartEntry]:
    """The parts that are on the platform: always the first ones, in order."""
    live = []
    for expected, entry in enumerate(entries):
        if entry.index != expected or entry.status != LIVE:
            break
        live.append(entry)
    return live


def next_part(entries: Sequence[PartEntry]) -> int:
    """The index of the first part that is not live: where publishing carries on."""
    return len(live_parts(entries))


def in_flight(entries: Sequence[PartEntry]) -> PartEntry | None:
    """A part whose create was sent with no answer recorded (a stop mid-send)."""
    return next((e for e in entries if e.status == SENDING), None)


def part_label(index: int, count: int) -> str:
    """How the user is told which part: "part 2 of 3" (parts count from 1 for people)."""
    return f"part {index + 1} of {count}"


#: statuses of a schedule whose remaining parts may still go out
_RESUMABLE = frozenset(
    {Status.PENDING, Status.PUBLISHING, Status.MISSED, Status.FAILED, Status.UNCERTAIN}
)


def part_states(
    status: str,
    count: int,
    entries: Sequence[PartEntry],
    *,
    remote_id: str | None = None,
    url: str | None = None,
) -> list[dict[str, Any]]:
    """One ``{index, remote_id, url, status}`` per part, the main post first.

    A part before the first one not live is published; that one has the schedule's
    status; the ones after it wait (``pending``) while the schedule can still go on,
    else they are ``cancelled`` (a skipped post, or one the user settled as published
    without the rest). A single post recorded before parts were kept gets its entry
    from the schedule's own id and link.
    """
    live = live_parts(entries)
    if not live and status == Status.PUBLISHED:  # the main post is out, ids known or not
        live = [PartEntry(0, LIVE, remote_id, url)]
    states = []
    for index in range(max(count, len(live))):
        if index < len(live):
            entry = live[index]
            state, rid, link = LIVE, entry.remote_id, entry.url
        elif index == len(live):
            state = Status.CANCELLED if status == Status.PUBLISHED else str(status)
            rid = link = None
        else:
            state = Status.PENDING if status in _RESUMABLE else Status.CANCELLED
            rid = link = None
        states.append({"index": index, "remote_id": rid, "url": link, "status": str(state)})
    return states


# ---------------------------------------------------------------- splitting

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?…。！？])\s+")


def split_thread(
    text: str,
    fits: Callable[[str], bool],
    *,
    numbered: bool = False,
) -> list[str]:
    """Cut ``text`` into parts that each satisfy ``fits`` (the platform's counter).

    Paragraphs are kept whole where they fit, else cut between sentences, else
    between words, and only a word longer than a whole part is cut inside. With
    ``numbered`` each part ends with " k/n"; its room is kept for the widest number.
    """
    text = text.strip()
    if not text:
        return []
    if fits(text) and not numbered:
        return [text]
    guess = 1
    for _ in range(4):  # the count's digits change the room at most a few times
        width = len(str(guess))
        suffix = f" {'9' * width}/{'9' * width}" if numbered else ""
        parts = _pack(text, _with_suffix(fits, suffix))
        if not numbered or len(str(len(parts))) <= width:
            break
        guess = len(parts)
    if numbered and len(parts) > 1:
        return [f"{p} {k}/{len(parts)}" for k, p in enumerate(parts, 1)]
    return parts


def _with_suffix(fits: Callable[[str], bool], suffix: str) -> Callable[[str], bool]:
    return lambda part: fits(part + suffix)


def _pack(text: str, fits: Callable[[str], bool]) -> list[str]:
    parts: list[str] = []
    current = ""

    def add(piece: str, joiner: str) -> None:
        nonlocal current
        candidate = f"{current}{joiner}{piece}" if current else piece
        if fits(candidate):
            current = candidate
            return
        if current:
            parts.append(current)
            current = ""
        if fits(piece):
            current = piece
            return
        # too long for a part of its own: cut it finer
        finer = _finer(piece)
        if finer is None:
            for chunk in _hard_cut(piece, fits):
                if current:
                    parts.append(current)
                current = chunk
            return
        pieces, inner = finer
        for sub in pieces:
            add(sub, inner if current else "")

    for paragraph in _PARAGRAPHS.split(text):
        paragraph = paragraph.strip()
        if paragraph:
            add(paragraph, "\n\n")
    if current:
        parts.append(current)
    return parts


def _finer(piece: str) -> tuple[list[str], str] | None:
    """The piece cut into sentences, else words; None for a single word."""
    sentences = [s for s in _SENTENCES.split(piece) if s]
    if len(sentences) > 1:
        return sentences, " "
    words = piece.split()
    if len(words) > 1:
        return words, " "
    return None


def _hard_cut(word: str, fits: Callable[[str], bool]) -> list[str]:
    """A word too long for any part, cut at the longest prefix that fits each time."""
    chunks = []
    rest = word
    while rest:
        low, high = 1, len(rest)
        while low < high:  # the longest prefix that fits
            mid = (low + high + 1) // 2
            if fits(rest[:mid]):
                low = mid
            else:
                high = mid - 1
        chunks.append(rest[:low])
        rest = rest[low:]
    return chunks
