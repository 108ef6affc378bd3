"""How the window words what the core says: sentences, and its own hints.

Core messages speak neither the command line's language nor the window's; a
message that carries a :class:`~milton_desktop.domain.errors.Hint` gets the
window's words for it here (a button to press instead of a command to type).
"""

from __future__ import annotations

from milton_desktop.domain.errors import Hint

#: what to do next, in this window's controls
HINTS: dict[Hint, str] = {
    Hint.PUBLIC_URL: "use “Add link”",
    Hint.RESOLVE_UNCERTAIN: "right-click it and choose whether it went out",
    Hint.FORCE_REMOVE: "confirm to cancel them together with the account",
    Hint.SET_QUEUE: "add them on the account's Queue page under Accounts…",
    Hint.SET_UP_ASSISTANT: "set it up under Settings ▸ Writing assistant",
}


def sentence(text: str) -> str:
    """A message as a sentence: capital first letter, final full stop."""
    text = str(text).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def hinted(message: str, hint: Hint | None) -> str:
    """``message`` followed by the window's words for ``hint`` (if it has any)."""
    message = str(message).strip()
    words = HINTS.get(hint) if hint is not None else None
    return f"{message.rstrip('.')} ({words})" if words else message


def with_hint(message: str, hint: Hint | None) -> str:
    """``message`` as a sentence, followed by the window's words for ``hint``."""
    return sentence(hinted(message, hint))


def describe(exc: BaseException) -> str:
    """What to show for a refused or failed operation."""
    return with_hint(str(exc), getattr(exc, "hint", None))
