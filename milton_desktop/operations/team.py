"""Team mode: the machines that share one database, which of them can publish for
which account, and the warnings when a post is due that no live machine can publish.

A machine is one home (its data folder, install id and keyring), not a computer. Each
running scheduler upserts its ``machines`` row at every watchdog tick (its heartbeat)
with the ids of the accounts whose token its keyring holds; it is stale after
:data:`STALE_AFTER_BEATS` missed beats, and offline at once after a clean exit.

Every instant compared here comes from the database server's clock (``now()``), so
machines whose clocks disagree still agree on who is stale.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from milton_desktop.domain.status import AccountStatus, Status
from milton_desktop.domain.timeutil import iso_z
from milton_desktop.storage import backend
from milton_desktop.storage.models import Account, Machine, database, utc_text

#: a machine that missed this many heartbeats is taken for gone
STALE_AFTER_BEATS = 3
#: a warning is raised for a post due within this long (or overdue, within the grace
#: window: later than that it is missed anyway)
WARN_AHEAD = timedelta(hours=24)


def is_team() -> bool:
    """Whether the open database is a team database (PostgreSQL)."""
    return backend.current().is_postgres


#: how often a window and a tray look again at who can publish (a machine goes stale
#: without anything in the database changing)
CHECK_EVERY_MS = 30_000


def server_now() -> datetime:
    """The database server's time (UTC) in team mode; this computer's otherwise."""
    if backend.current().is_postgres:
        (value,) = database.execute_sql("SELECT now()").fetchone()
        return value.astimezone(UTC)
    return datetime.now(UTC)


#: a name for this machine that people recognise ("Alice's computer"), when the
#: default (the user and the host name) says too little, as with two homes on one computer
LABEL_ENV = "MILTON_MACHINE_NAME"


def machine_label() -> str:
    """How others see this machine: ``MILTON_MACHINE_NAME``, else "alice on alice-laptop"."""
    named = os.environ.get(LABEL_ENV, "").strip()
    if named:
        return named[:120]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no such user in the password database (a container)
        user = "someone"
    return f"{user} on {socket.gethostname()}"


@dataclass(frozen=True)
class MachineView:
    install_id: str
    label: str
    last_seen_at: datetime
    interval_s: int
    online: bool
    accounts: frozenset[int] = field(default_factory=frozenset)
    paused: bool = False

    def live(self, now: datetime) -> bool:
        """Online, and heard of within three heartbeats (paused or not: its claims
        are its own)."""
        limit = timedelta(seconds=STALE_AFTER_BEATS * max(1, self.interval_s))
        return self.online and now - self.last_seen_at <= limit

    def can_publish(self, now: datetime) -> bool:
        """Live and not paused: a post due now would go out from here."""
        return self.live(now) and not self.paused

    def holds(self, account_id: int) -> bool:
        return account_id in self.accounts


def _account_ids(text: str) -> frozenset[int]:
    try:
        return frozenset(int(a) for a in json.loads(text or "[]"))
    except (ValueError, TypeError):
        return frozenset()


def machines() -> list[MachineView]:
    """Every machine that ever ran a scheduler on this database, by label."""
    rows = Machine.select().order_by(Machine.label, Machine.install_id)
    return [
        MachineView(
            install_id=m.install_id,
            label=m.label,
            last_seen_at=m.last_seen_at,
            interval_s=m.interval_s,
            online=bool(m.online),
            accounts=_account_ids(m.accounts),
            paused=bool(m.paused),
        )
        for m in rows
    ]


def beat(
    install_id: str,
    *,
    interval_s: float,
    accounts: frozenset[int] | set[int],
    started_at: datetime,
    paused: bool = False,
    label: str | None = None,
    now: datetime | None = None,
) -> None:
    """This machine's heartbeat: one upsert of its row (one statement, so it never
    waits for another client's write transaction)."""
    now = now or server_now()
    values = {
        "label": label or machine_label(),
        "started_at": started_at,
        "last_seen_at": now,
        "interval_s": max(1, round(interval_s)),
        "online": True,
        "paused": paused,
        "accounts": json.dumps(sorted(accounts)),
    }
    (
        Machine.insert(install_id=install_id, **values)
        .on_conflict(
            conflict_target=[Machine.install_id],
            update={getattr(Machine, k): v for k, v in values.items()},
        )
        .execute()
    )


def sign_off(install_id: str, *, now: datetime | None = None) -> None:
    """A clean exit: the machine is offline at once, so nobody waits three beats to
    recover what it left (it leaves nothing in flight when it could wait for it)."""
    now = now or server_now()
    Machine.update(online=False, last_seen_at=now).where(Machine.install_id == install_id).execute()


def stale_machines(now: datetime | None = None) -> dict[str, MachineView]:
    """The machines that are offline or missed their beats, by install id."""
    now = now or server_now()
    return {m.install_id: m for m in machines() if not m.live(now)}


def ago(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return "a minute ago" if seconds >= 45 else "just now"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min ago"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} d ago"


@dataclass(frozen=True)
class AccountPublishers:
    """Who can publish for one account."""

    account_id: int
    account: str
    platform: str
    #: live machines that hold its token (any of them may publish, each post once)
    live: tuple[str, ...]
    #: machines that hold its token but are offline or stale: (label, last seen)
    gone: tuple[tuple[str, datetime], ...]
    #: live machines that hold its token whose user paused publishing
    paused: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "account": self.account,
            "platform": self.platform,
            "live_machines": list(self.live),
            "paused_machines": list(self.paused),
            "other_machines": [
                {"machine": label, "last_seen": iso_z(seen)} for label, seen in self.gone
            ],
        }


@dataclass(frozen=True)
class Warning:
    account: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"account": self.account, "message": self.message}


def publishers(now: datetime | None = None) -> list[AccountPublishers]:
    """For each connected account, the machines that can publish it now (team mode;
    empty on a one-person database, where this computer's scheduler is the one)."""
    if not backend.current().is_postgres:
        return []
    now = now or server_now()
    known = machines()
    query = (
        Account.select(Account.id, Account.display_name, Account.platform)
        .where(Account.status == AccountStatus.CONNECTED)
        .order_by(Account.display_name, Account.id)
        .tuples()
    )
    # peewee's stubs type a model select's rows as the model, also after .tuples()
    rows = cast("list[tuple[int, str, str]]", list(query))
    views = []
    for account_id, name, platform in rows:
        holders = [m for m in known if m.holds(account_id)]
        views.append(
            AccountPublishers(
                account_id=account_id,
                account=name,
                platform=platform,
                live=tuple(m.label for m in holders if m.can_publish(now)),
                gone=tuple((m.label, m.last_seen_at) for m in holders if not m.live(now)),
                paused=tuple(m.label for m in holders if m.live(now) and m.paused),
            )
        )
    return views


def _due_accounts(now: datetime, grace: timedelta) -> set[int]:
    """Accounts with a pending post overdue (within the grace window) or due within
    :data:`WARN_AHEAD`."""
    sql = (
        "SELECT DISTINCT account_id FROM scheduled_posts WHERE status = ?"
        " AND next_attempt_at <= ? AND next_attempt_at >= ?"
    )
    params = (str(Status.PENDING), utc_text(now + WARN_AHEAD), utc_text(now - grace))
    return {a for (a,) in database.execute_sql(sql, params).fetchall()}


def warnings(now: datetime | None = None, *, grace: timedelta | None = None) -> list[Warning]:
    """One warning per account with a post due (overdue within the grace window, by
    default the setting's, or within the next 24 h) that no live machine can publish:
    every client shows them."""
    if not backend.current().is_postgres:
        return []
    now = now or server_now()
    if grace is None:
        from milton_desktop.storage import settings

        grace = timedelta(minutes=float(settings.get("grace_minutes")))
    due = _due_accounts(now, grace)
    told = []
    for view in publishers(now):
        if view.account_id not in due or view.live:
            continue
        if view.paused:
            names = " and ".join(view.paused)
            why = (
                f"publishing is paused on {names}, which holds its token"
                if len(view.paused) == 1
                else f"publishing is paused on {names}, which hold its token"
            )
            why += ": resume publishing there (File ▸ Pause publishing, or the tray menu)"
        elif not view.gone:
            why = (
                "no machine holds its token: connect the account on a computer that "
                "runs the scheduler"
            )
        elif len(view.gone) == 1:
            label, seen = view.gone[0]
            why = f"{label}, which holds its token, was last seen {ago(now - seen)}"
        else:
            seen_all = ", ".join(f"{label} ({ago(now - seen)})" for label, seen in view.gone)
            why = f"the machines that hold its token were last seen: {seen_all}"
        told.append(
            Warning(view.account, f"nobody can publish for '{view.account}' right now: {why}")
        )
    return told
