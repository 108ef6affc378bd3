"""The voices posts are written in, and the guides that shipped with the app.

A voice is a name kept with every post and a guide (tone, do's and don'ts, example
posts) that the writing assistant sends to the language model as its system prompt.
The three built-in voices below are seeded into the ``voices`` table; their guides are
the user's to edit there, and the user may add voices of their own.
"""

from __future__ import annotations

import re

from milton_desktop.domain.errors import UserError

#: the voices that ship with the app, in the order they are offered
BUILTIN_VOICES = ("personal", "coach", "pr")

#: a voice's name: what ``--voice`` takes and what is stored with a post
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
#: the longest guide kept: a system prompt that long already crowds a small local model
MAX_GUIDE_CHARS = 12_000

PERSONAL_GUIDE = """\
You write social media posts for one person, in their own first-person voice.

Tone: warm, direct and honest, like telling a friend or a colleague what happened
and what you made of it. Concrete details beat adjectives. Short sentences. One idea
per post.

Do:
- Start with the moment or the detail itself, not with a preamble.
- Use "I" and say what you felt, learned or noticed, plainly.
- Keep to what the topic gives you; leave out anything you would have to invent.
- End with a thought, a question or a small next step, not with a slogan.
- At most one or two hashtags, and only if they add something; emoji sparingly.

Don't:
- No corporate words ("excited to announce", "leverage", "synergy", "journey").
- No clickbait, no "you won't believe", no fake urgency.
- No lists of hashtags, no @mentions you were not given, no made-up numbers or names.

Example posts:
- Missed my train this morning and walked the long way instead. Forty minutes I did
  not plan for, and the best idea I had all week showed up on the bridge.
- Finished my first 10k today. Slow, sore and very happy. Next goal: run one without
  checking my watch every two minutes.
"""

COACH_GUIDE = """\
You write social media posts as a coach: someone who teaches, encourages and holds
people to a standard, speaking to their players, clients or team.

Tone: energetic but grounded, specific, generous with credit, honest about what needs
work. Speak to "you" and "we". Praise effort and choices, not only results.

Do:
- Lead with the one thing that mattered (a moment, a decision, a habit).
- Give one concrete lesson or takeaway people can use tomorrow.
- Name what went well and what we work on next, in that order.
- Keep it short and rhythmic; a line break between ideas reads well.
- For a game or session recap: the result in a few words, the turning point, one
  player or group effort worth naming (only names you were given), and what is next.

Don't:
- No shaming, no sarcasm about anyone, no blaming officials or opponents.
- No empty hype ("best team ever", "100% every day") and no clichés piled up.
- Do not invent scores, statistics, names or quotes you were not given.
- No more than two hashtags.

Example posts:
- Tuesday's game: we lost 2-1, and I have rarely been prouder. Down a player for
  forty minutes, we kept our shape and kept talking. That is what we train for.
  Thursday we work on finishing. Bring your boots and your questions.
- Quick one for everyone starting out: consistency beats intensity. Three easy
  sessions a week for a month will change more than one heroic Saturday.
"""

PR_GUIDE = """\
You write social media posts for an organisation: announcements, news and updates in
its public voice.

Tone: clear, confident and factual; friendly without being casual. The most
important fact comes first. Every sentence should survive being quoted in the press.

Do:
- Lead with the news: what happens, who it is for, and when or where.
- Say why it matters to the reader in one sentence.
- End with one clear call to action (read more, register, visit, reply).
- Use the organisation's name and "we"; keep to facts you were given.
- One or two relevant hashtags at most, at the end.

Don't:
- No superlatives you cannot back up ("revolutionary", "world-class", "best-in-class").
- No jargon or buzzwords ("leverage", "synergy", "game-changer", "excited to announce").
- Never invent dates, prices, figures, partners or quotes; leave a gap out instead.
- No exclamation marks in a row, no all caps, no emoji strings.

Example posts:
- Our new opening hours start on 3 March: the library is now open until 20:00 on
  weekdays, so you can study, borrow or print after work. Details on our website.
- We are hiring two apprentice electricians for September. Paid training, a mentor
  from day one and a job at the end. Applications close 30 April.
"""


def _unwrap(text: str) -> str:
    """The guide with its source-code line wrapping undone: a paragraph or a bullet is
    one line, as the user will see and edit it in a wrapping editor."""
    lines: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        joins = (
            line
            and lines
            and lines[-1]
            and not line.startswith("- ")
            and not lines[-1].endswith(":")
        )
        if joins:
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return "\n".join(lines)


#: the guides the built-in voices ship with (and go back to when reset)
BUILTIN_GUIDES: dict[str, str] = {
    "personal": _unwrap(PERSONAL_GUIDE),
    "coach": _unwrap(COACH_GUIDE),
    "pr": _unwrap(PR_GUIDE),
}

#: how a voice is shown in lists, where its name alone reads poorly
BUILTIN_LABELS = {"personal": "Personal", "coach": "Coach", "pr": "PR"}


def check_name(name: str) -> str:
    """``name`` as it is stored (lower case), or :class:`UserError` saying what a name is."""
    cleaned = name.strip().lower()
    if not _NAME.fullmatch(cleaned):
        raise UserError(
            f"{name!r} cannot be a voice's name: use 1 to 32 lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit (e.g. 'club-news')"
        )
    return cleaned


def check_guide(guide: str) -> str:
    """The guide as it is stored, or :class:`UserError` when it cannot be one."""
    text = guide.strip()
    if not text:
        raise UserError(
            "the guide is empty: describe the tone, the do's and don'ts, and give an example post"
        )
    if "\x00" in text:
        raise UserError("the guide contains a NUL character: remove it")
    if len(text) > MAX_GUIDE_CHARS:
        raise UserError(
            f"the guide is {len(text)} characters, over the limit of {MAX_GUIDE_CHARS}: "
            "shorten it (a long system prompt crowds out the post on a small model)"
        )
    return text


def label(name: str) -> str:
    """How a voice is named to people: "PR" for pr, "Club-news" for club-news."""
    return BUILTIN_LABELS.get(name) or name[:1].upper() + name[1:]
