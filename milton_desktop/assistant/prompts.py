"""What the model is asked, and how its answers are read back.

The voice's guide is always the system message; the user message says what to write
and how long it may be, as our own counters measure it (X's weighting included), so
the model and the check that follows agree. Answers are cleaned of what small local
models like to add around a post (a reasoning block, quotes, a code fence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from milton_desktop.assistant.client import Message

#: how the parts of a thread are told apart in the model's answer
PART_BREAK = "---"

#: each of several drafts about one topic starts from another angle
ANGLES = (
    "Open with the most concrete detail of the topic.",
    "Open with why it matters, or the lesson in it.",
    "Open with a short, striking line or a question.",
    "Tell it as a tiny story: what happened, then what it means.",
    "Keep it as short as the idea allows.",
)


@dataclass(frozen=True)
class Limit:
    """How long a text may be on a platform, as our counter measures it."""

    platform: str  # the label, e.g. "X"
    max_length: int
    unit: str = "characters"
    #: how the platform counts, when it is not plain characters
    note: str = ""

    def words(self) -> str:
        said = f"at most {self.max_length} {self.unit} as {self.platform} counts them"
        return f"{said} ({self.note})" if self.note else said


def _system(guide: str) -> Message:
    return {"role": "system", "content": guide}


def _user(text: str) -> Message:
    return {"role": "user", "content": text}


_ONLY_TEXT = (
    "Reply with the post's text only: no title, no preface, no quotes around it, "
    "no explanation after it."
)


def draft(
    guide: str, topic: str, limit: Limit | None, *, option: int = 0, of: int = 1
) -> list[Message]:
    """Write one post about ``topic`` (option ``option`` of ``of``)."""
    lines = [f"Write one social media post about: {topic.strip()}"]
    if limit is not None:
        lines.append(f"It is for {limit.platform}: {limit.words()}.")
    if of > 1:
        lines.append(f"This is version {option + 1} of {of}. {ANGLES[option % len(ANGLES)]}")
    lines.append(_ONLY_TEXT)
    return [_system(guide), _user("\n".join(lines))]


def too_long(
    messages: Sequence[Message], answer: str, measured: int, limit: Limit
) -> list[Message]:
    """Ask again after ``answer`` measured ``measured``, over ``limit``."""
    target = max(1, int(limit.max_length * 0.85))
    return [
        *messages,
        {"role": "assistant", "content": answer},
        _user(
            f"That is {measured} {limit.unit} as {limit.platform} counts them, over the "
            f"limit of {limit.max_length}. Write it again, shorter: aim for about {target} "
            f"{limit.unit}, keeping the voice and the main point. {_ONLY_TEXT}"
        ),
    ]


def rewrite(guide: str, text: str, limit: Limit | None) -> list[Message]:
    """The same post, rewritten for a platform."""
    where = f" for {limit.platform}: {limit.words()}" if limit else ""
    return [
        _system(guide),
        _user(
            f"Rewrite this post{where}. Keep its facts and its point; fit the platform's "
            f"habits and the voice.\n\nThe post:\n{text.strip()}\n\n{_ONLY_TEXT}"
        ),
    ]


def shorter(guide: str, text: str, limit: Limit | None) -> list[Message]:
    """The same post, noticeably shorter."""
    if limit is not None:
        goal = f"It must fit {limit.words()}; shorter is better."
    else:
        goal = "Make it about half as long."
    return [
        _system(guide),
        _user(
            f"Make this post shorter without losing its point. {goal}\n\nThe post:\n"
            f"{text.strip()}\n\n{_ONLY_TEXT}"
        ),
    ]


def split(guide: str, text: str, limit: Limit, max_parts: int) -> list[Message]:
    """The text as a thread whose every part fits ``limit``."""
    return [
        _system(guide),
        _user(
            f"Turn this text into a thread for {limit.platform}: between 2 and {max_parts} "
            f"parts, each one {limit.words()}. Each part must read well on its own and lead "
            "to the next; keep every fact, add none, and do not number the parts. Put a "
            f"line with only {PART_BREAK} between two parts. Reply with the parts only."
            f"\n\nThe text:\n{text.strip()}"
        ),
    ]


def split_again(
    messages: Sequence[Message], answer: str, problems: Sequence[str], limit: Limit
) -> list[Message]:
    """Ask again after some parts of ``answer`` did not fit."""
    return [
        *messages,
        {"role": "assistant", "content": answer},
        _user(
            "Some parts do not fit: "
            + "; ".join(problems)
            + f". Split it again so that every part is {limit.words()}, with {PART_BREAK} "
            "between parts. Reply with the parts only."
        ),
    ]


def hashtags(guide: str, text: str, platform: str | None) -> list[Message]:
    where = f" on {platform}" if platform else ""
    return [
        _system(guide),
        _user(
            f"Suggest 3 to 5 hashtags for this post{where}: specific ones people really "
            "follow, none the post already has. Reply with the hashtags only, on one line, "
            f"separated by spaces.\n\nThe post:\n{text.strip()}"
        ),
    ]


def alt_text(image_url: str, text: str) -> list[Message]:
    """A description of an image for people who cannot see it (``image_url`` may be a
    ``data:`` URL)."""
    return [
        {
            "role": "system",
            "content": "You write alt text: short, factual descriptions of images for "
            "people who use screen readers.",
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "text",
                    "text": "Write alt text for this image, in one or two sentences "
                    "(at most 250 characters). Describe what matters for the post; do not "
                    "start with 'Image of'. Reply with the alt text only."
                    + (f"\n\nThe post it goes with:\n{text.strip()}" if text.strip() else ""),
                },
                {"type": "image_url", "image_url": {"url": image_url}},
            ],
        },
    ]


# ---------------------------------------------------------------- reading answers

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^```[\w-]*\n(.*)\n```$", re.DOTALL)
_QUOTES = (('"', '"'), ("“", "”"), ("«", "»"), ("'", "'"))
_HASHTAG = re.compile(r"#\w+", re.UNICODE)
_BREAK = re.compile(rf"^\s*{re.escape(PART_BREAK)}+\s*$", re.MULTILINE)


def clean(answer: str) -> str:
    """The post in ``answer``, without what models wrap around one."""
    text = _THINK.sub("", answer)
    if "<think>" in text.lower():  # a reasoning block that never closed: no post in it
        text = text[: text.lower().index("<think>")]
    text = text.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    for left, right in _QUOTES:
        inner = text[len(left) : -len(right)]
        if (
            len(text) > 2
            and text.startswith(left)
            and text.endswith(right)
            and left not in inner
            and right not in inner
        ):
            text = inner.strip()
            break
    return text


def parts(answer: str) -> list[str]:
    """The parts of a thread in ``answer`` (split on the ``---`` lines)."""
    return [p.strip() for p in _BREAK.split(clean(answer)) if p.strip()]


def tags(answer: str) -> list[str]:
    """The hashtags in ``answer``, each once, in order."""
    return list(dict.fromkeys(_HASHTAG.findall(clean(answer))))
