"""The one error the user sees: what is wrong and what to do, in plain words.

Every layer below the front ends raises :class:`UserError` (or a subclass) for bad
input or a refused change. Its message speaks neither the command line's language
(no ``--flags``) nor the window's (no button names), so both can show it as it is.
"""

from __future__ import annotations

from enum import StrEnum


class Hint(StrEnum):
    """What would help next, named without a front end's words: the command line and
    the window each add their own phrasing (a command to run, a button to press)."""

    LIST_POSTS = "list_posts"
    LIST_SCHEDULES = "list_schedules"
    ADD_ACCOUNT = "add_account"
    RESOLVE_UNCERTAIN = "resolve_uncertain"
    PUBLIC_URL = "public_url"
    FORCE_REMOVE = "force_remove"
    SET_QUEUE = "set_queue"
    SET_UP_ASSISTANT = "set_up_assistant"


class UserError(ValueError):
    """Bad input or a refused change; the message says what to do.

    ``hint``, when set, names what would help next; a front end may add its own
    words for it (see :class:`Hint`).
    """

    def __init__(self, message: str, hint: Hint | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class OperationFailed(UserError):
    """The request was fine, but something outside failed: the network, the platform,
    the keyring. Trying again later (or fixing that thing) may help."""
