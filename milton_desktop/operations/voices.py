"""The voices posts are written in: list, read, add, edit and remove them.

Each voice has a guide the writing assistant sends as its system prompt. The
built-in voices (personal, coach, pr) can have their guides edited or put back to
the shipped ones, never be removed; a voice of the user's own can be removed while
no post is written in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.voices import (
    BUILTIN_GUIDES,
    BUILTIN_VOICES,
    check_guide,
    check_name,
    label,
)
from milton_desktop.storage.models import Post, Voice, database


@dataclass(frozen=True)
class VoiceView:
    name: str
    guide: str
    builtin: bool
    updated_at: datetime

    @property
    def label(self) -> str:
        return label(self.name)

    @property
    def shipped(self) -> bool:
        """A built-in voice whose guide is still the one that shipped."""
        return self.builtin and self.guide == BUILTIN_GUIDES[self.name].strip()

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "builtin": self.builtin, "guide": self.guide}

    @classmethod
    def of(cls, row: Voice) -> VoiceView:
        return cls(row.name, row.guide, bool(row.builtin), row.updated_at)


def _order(view: VoiceView) -> tuple[int, str]:
    builtin = BUILTIN_VOICES.index(view.name) if view.name in BUILTIN_VOICES else 99
    return builtin, view.name


def list_voices() -> list[VoiceView]:
    """Every voice: the built-in ones first, in their order, then the user's by name."""
    return sorted((VoiceView.of(v) for v in Voice.select()), key=_order)


def voice_names() -> tuple[str, ...]:
    """Every voice's name, in the order :func:`list_voices` gives."""
    names = [v.name for v in list_voices()]
    # a database that lost a built-in row still accepts the posts written in it
    return tuple(dict.fromkeys([*names, *BUILTIN_VOICES]))


def get_voice(name: str) -> VoiceView:
    """The voice called ``name``; :class:`UserError` names the voices there are."""
    key = name.strip().lower()
    row = Voice.get_or_none(Voice.name == key)
    if row is None:
        if key in BUILTIN_GUIDES:  # its row was removed by hand: the shipped guide stands
            return VoiceView(
                key, BUILTIN_GUIDES[key].strip(), True, datetime(2026, 1, 1, tzinfo=UTC)
            )
        raise UserError(f"there is no voice {name!r}: choose one of {', '.join(voice_names())}")
    return VoiceView.of(row)


def check_voice(voice: str) -> str:
    """``voice`` if it names a voice (built-in or the user's), else :class:`UserError`."""
    if voice in BUILTIN_VOICES or Voice.get_or_none(Voice.name == voice) is not None:
        return voice
    raise UserError(f"unknown voice {voice!r}: choose one of {', '.join(voice_names())}")


def set_voice(name: str, guide: str, *, clock: Clock | None = None) -> VoiceView:
    """Add the voice ``name`` with ``guide``, or give an existing one this guide."""
    key = check_name(name)
    text = check_guide(guide)
    now = (clock or SystemClock()).now()
    with database.atomic():
        row = Voice.get_or_none(Voice.name == key)
        if row is None:
            row = Voice.create(name=key, guide=text, builtin=key in BUILTIN_VOICES, updated_at=now)
        else:
            row.guide = text
            row.updated_at = now
            row.save()
    return VoiceView.of(row)


def reset_voice(name: str, *, clock: Clock | None = None) -> VoiceView:
    """Put a built-in voice's guide back to the one that shipped."""
    key = name.strip().lower()
    if key not in BUILTIN_GUIDES:
        raise UserError(
            f"{name!r} is not a built-in voice, so it has no shipped guide to go back to "
            f"(the built-in voices are {', '.join(BUILTIN_VOICES)})"
        )
    return set_voice(key, BUILTIN_GUIDES[key], clock=clock)


def remove_voice(name: str) -> None:
    """Remove a voice of the user's own that no post is written in."""
    key = name.strip().lower()
    if key in BUILTIN_VOICES:
        raise UserError(
            f"{key!r} is a built-in voice and cannot be removed; its guide can be edited, "
            "or put back to the shipped one"
        )
    with database.atomic():
        row = Voice.get_or_none(Voice.name == key)
        if row is None:
            raise UserError(f"there is no voice {name!r}: choose one of {', '.join(voice_names())}")
        used = Post.select().where(Post.voice == key).count()
        if used:
            raise UserError(
                f"{used} post(s) are written in the voice {key!r}: give them another voice "
                "first, or keep the voice"
            )
        row.delete_instance()
