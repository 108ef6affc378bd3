"""Every status a schedule, an account and a publish attempt can have, named once.

The values are the words stored in the database and printed by ``--json``, so they
never change; the sets say which statuses share a rule, so a rule is written once
(DESIGN.md section 3 draws the state machine they belong to).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a scheduled post is in the publishing state machine."""

    PENDING = "pending"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    MISSED = "missed"
    CANCELLED = "cancelled"
    #: on an account that requires approval: waits for a member to approve it, and is
    #: never claimed before; approved it becomes pending, unapproved at its time missed
    AWAITING_APPROVAL = "awaiting_approval"


class MailState(StrEnum):
    """Where one notification mail stands (``mail_outbox.status``)."""

    PENDING = "pending"
    #: its message is on its way to the server: a stop now leaves it unknown
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: the server may have accepted it; it is never sent again on its own
    UNKNOWN = "unknown"


#: the outcomes a notification mail can be about (``mail_outbox.event``, ``--on``)
MAILED_OUTCOMES = (Status.PUBLISHED, Status.FAILED, Status.UNCERTAIN, Status.MISSED)


#: still waiting to go out as they are (a missed post goes out when the user says so,
#: one awaiting approval when a member approves it)
WAITING = frozenset({Status.PENDING, Status.MISSED, Status.AWAITING_APPROVAL})
#: what a user may cancel: whatever has not started to go out
CANCELLABLE = WAITING
#: what can be moved to another time (a failed post is tried again from scratch; one
#: awaiting approval keeps waiting for it at its new time)
MOVABLE = frozenset({Status.PENDING, Status.MISSED, Status.FAILED, Status.AWAITING_APPROVAL})
#: what "publish now" accepts (not a post awaiting approval: approving it is the way)
PUBLISHABLE_NOW = frozenset({Status.PENDING, Status.MISSED, Status.FAILED})
#: what a member may approve
APPROVABLE = frozenset({Status.AWAITING_APPROVAL})
#: what the user may skip (not publish after all): a failed post too, so it stops asking
SKIPPABLE = frozenset({Status.PENDING, Status.MISSED, Status.FAILED, Status.AWAITING_APPROVAL})
#: what only the user can settle, by saying whether it went out
RESOLVABLE = frozenset({Status.UNCERTAIN})
#: what still ties a post to its account: removing the account must deal with these
LIVE = frozenset(
    {
        Status.PENDING,
        Status.PUBLISHING,
        Status.MISSED,
        Status.UNCERTAIN,
        Status.AWAITING_APPROVAL,
    }
)
#: what holds a queue slot: a post on its way or gone out there (a failed, missed or
#: cancelled one leaves its slot free for the next post queued)
OCCUPIES_SLOT = frozenset(
    {Status.PENDING, Status.PUBLISHING, Status.PUBLISHED, Status.AWAITING_APPROVAL}
)
#: what the user has to look at: it went wrong, or nobody knows whether it went out
NEEDS_ATTENTION = frozenset({Status.FAILED, Status.UNCERTAIN, Status.MISSED})
#: history: nothing will happen to these any more
FINAL = frozenset({Status.PUBLISHED, Status.CANCELLED})


class AccountStatus(StrEnum):
    """Whether an account can publish."""

    CONNECTED = "connected"
    NEEDS_RECONNECT = "needs_reconnect"
    #: removed by the user: no token, never publishes; kept for its posts' history
    REMOVED = "removed"


class AttemptOutcome(StrEnum):
    """How one publish attempt ended (a ``publishing_results`` row)."""

    PUBLISHED = "published"
    #: one part of a thread went out and more follow (not news: the whole is)
    PART_PUBLISHED = "part_published"
    RETRY = "retry"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    AUTH_REFRESHED = "auth_refreshed"


def parse_status(text: str) -> Status:
    """The :class:`Status` named ``text``; :class:`UserError` names the choices."""
    from milton_desktop.domain.errors import UserError

    try:
        return Status(text)
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise UserError(f"unknown status {text!r}: choose one of {choices}") from None
