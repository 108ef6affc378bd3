"""The publishing engine: claim due work, publish it, record the truth.

No Qt here; time comes from an injected clock. The state machine is DESIGN.md §3::

    pending ──claim──▶ publishing ──ok──────────────▶ published
       │                   ├──transient, before send──▶ pending (backoff)
       │                   ├──rate limited───────────▶ pending (reset time)
       │                   ├──auth expired──▶ refresh once, else failed (needs_reconnect)
       │                   ├──rejected──────────────▶ failed
       │                   └──outcome unknown────────▶ uncertain
       ├──cancel──▶ cancelled
       └──later than grace window──▶ missed

The claim is one UPDATE committed before any network call, so two engines (two
processes, or a crash and a restart) never publish one row twice.

The result of a publish is the truth about the platform: it is written to the outcome
journal (``journal.py``) before it is committed, the commit is retried for as long as
another process holds the database, and an engine that starts replays what a dead one
left there before it calls anything interrupted. Whether the engine that claimed a row
is alive is asked of the operating system (``liveness.py``), never of a clock.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import secrets
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import peewee as pw

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.content import Content, Problem, Published
from milton_desktop.domain.credential import AccountRef, Credential
from milton_desktop.domain.recurrence import STOPPED_KIND
from milton_desktop.domain.status import AccountStatus, AttemptOutcome, Status
from milton_desktop.domain.thread import (
    LIVE,
    SENDING,
    PartEntry,
    dump_parts,
    live_parts,
    load_parts,
    part_label,
    part_states,
)
from milton_desktop.engine import liveness
from milton_desktop.engine.faults import crash_point
from milton_desktop.engine.journal import Journal, Settlement
from milton_desktop.operations import notify_mail
from milton_desktop.operations.approvals import NOT_APPROVED_MESSAGE
from milton_desktop.operations.schedules import MISSED_MESSAGE
from milton_desktop.publishers import registry
from milton_desktop.publishers.base import (
    AuthExpired,
    OutcomeUnknown,
    Publisher,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from milton_desktop.publishers.http import (
    credential_secrets,
    scrub,
    scrub_error,
    scrub_published,
)
from milton_desktop.storage import backend, queries, settings
from milton_desktop.storage.credentials import (
    CredentialMissing,
    CredentialStore,
    KeyringUnavailable,
)
from milton_desktop.storage.db import is_busy
from milton_desktop.storage.models import (
    Account,
    PublishingResult,
    ScheduledPost,
    database,
    utc_text,
)

log = logging.getLogger("milton.scheduler")

E = TypeVar("E", bound=PublishError)

#: while the database stays busy, say so this often (the first time at once)
TELL_BUSY_EVERY_S = 60.0
#: the longest pause between two tries at recording a result
RETRY_CAP_S = 5.0
#: how long a clean stop waits for the results writer before it lets go of the lock
RELEASE_WAIT_S = 30.0
#: ``publishing_results.error_kind`` of a result that came after its row was settled
#: otherwise: kept as history, never news
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class EngineConfig:
    grace: timedelta = timedelta(hours=2)
    max_attempts: int = 5
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(minutes=15)
    #: a platform's reset further away than this fails the post, naming the time
    max_rate_wait: timedelta = timedelta(hours=24)
    #: rate-limited tries of one post before it fails
    max_rate_limited: int = 10


@dataclass(frozen=True)
class Outcome:
    """What happened to one schedule; the tray turns these into notifications."""

    schedule_id: int
    status: str  # the row's new status
    account: str
    platform: str
    text: str
    message: str | None = None
    url: str | None = None
    retry_at: datetime | None = None
    needs_reconnect: bool = False
    #: published, with something the user should know
    warning: str | None = None
    #: the failed row that says a repeat stopped (``message`` says why)
    repeat_stopped: bool = False
    #: the status the row had been given meanwhile (by another process or the user)
    #: when this result came: a publish corrects it (``warning`` says so), anything
    #: else leaves it as it was
    earlier: str | None = None

    @property
    def label(self) -> str:
        return registry.label(self.platform)


@dataclass(frozen=True)
class _Landing:
    """How a result reached the database."""

    #: recorded | corrected | filled | duplicate | superseded | already | gone | kept
    how: str
    earlier: str | None = None
    #: for a row that is gone: the status the result would have given it
    status: str | None = None


class _Record:
    """One attempt's result rows. ``result()`` builds the row that settles the attempt
    (it goes through the journal); calling it writes a step along the way (a token
    refreshed), as bookkeeping that must never fail the publish."""

    def __init__(
        self, schedule_id: int, attempt: int, started: datetime, lateness_ms: int, clock: Clock
    ) -> None:
        self.schedule_id = schedule_id
        self.attempt = attempt
        self.started = started
        self.lateness_ms = lateness_ms
        self.clock = clock
        #: the part being published (0: the main post)
        self.part = 0

    def result(
        self,
        outcome: str,
        *,
        error: PublishError | None = None,
        published: Published | None = None,
        kind: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "started_at": self.started,
            "finished_at": self.clock.now(),
            "outcome": str(outcome),
            "http_status": error.http_status if error else None,
            "error_kind": kind or (error.kind if error else None),
            "error_message": message or (str(error) if error else None),
            "remote_id": published.remote_id if published else None,
            "remote_url": published.url if published else None,
            "lateness_ms": self.lateness_ms,
            "warning": "; ".join(published.warnings) if published and published.warnings else None,
            "part": self.part,
            "resolution": published.resolution if published else None,
        }

    def __call__(self, outcome: str, **details: Any) -> None:
        try:
            PublishingResult.create(schedule=self.schedule_id, **self.result(outcome, **details))
        except (pw.OperationalError, sqlite3.OperationalError) as exc:
            log.warning(
                "schedule %s: the %s step was not noted (%s); publishing goes on",
                self.schedule_id,
                outcome,
                exc,
            )


def _join(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def _failed_step(what: str, exc: BaseException) -> None:
    """Log a housekeeping step that failed: one line when the database is only busy
    (it is tried again at the next look), the whole traceback for anything else."""
    if is_busy(exc):
        log.warning("%s: the database is busy (%s); trying again later", what, exc)
    else:
        log.exception("%s", what)


_scratch: Path | None = None


def _data_folder() -> Path:
    """The folder beside the database, where every engine of it keeps its locks and journal."""
    global _scratch
    local = backend.current().local_dir
    if backend.current().is_postgres and local is not None:
        return local  # this machine's home, never a folder named after the shared URL
    name = database.database
    if name and name != ":memory:" and not str(name).startswith("file:"):
        return Path(name).resolve().parent
    if _scratch is None:  # a database in memory: only this process can see it anyway
        _scratch = Path(tempfile.mkdtemp(prefix="milton-engine-"))
    return _scratch


class Engine:
    """Owns the state machine. Thread-safe: each call uses the calling thread's connection."""

    def __init__(
        self,
        credentials: CredentialStore,
        *,
        clock: Clock | None = None,
        config: EngineConfig | None = None,
        publisher_factory: Callable[..., Publisher] = registry.make_publisher,
        rng: random.Random | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """``state_dir`` holds the worker locks and the outcome journal: by default the
        database's folder, which every engine of that database shares."""
        self.credentials = credentials
        self.clock = clock or SystemClock()
        self.config = config or EngineConfig()
        self.publisher_factory = publisher_factory
        #: makes the publishers that read engagement: new ones each pass, with their
        #: own sessions, never a publish's pooled connection
        self.metrics_factory: Callable[..., Publisher] = publisher_factory
        self.rng = rng or random.Random()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        #: this machine (its home's install id): team mode records it with each claim
        self.machine_id: str = credentials.install_id
        #: team mode: the accounts whose token this machine's keyring holds, and the
        #: credential change counter they were read at (see :meth:`held_accounts`)
        self._held: frozenset[int] | None = None
        self._held_stamp: tuple[int, int] | None = None
        self._last_beat = float("-inf")
        #: the user paused publishing here (the runner says so): the heartbeat tells the
        #: team, whose warnings then do not count on this machine
        self.paused = False
        #: the heartbeat interval this engine promises (the runner's watchdog sets it)
        self.beat_interval_s = 60.0
        self._started_at = datetime.now(UTC)
        self._local = threading.local()
        self._state_dir = state_dir
        self._lifeline: liveness.Lifeline | None = None
        self._abandon = threading.Event()
        # The workers' writes (claims, results) take turns here rather than in SQLite:
        # its busy handler sleeps 1, 2, 5, 10... ms between looks, which in a burst of
        # ten accounts cost more than the writes themselves. Other processes still
        # wait in SQLite, as before.
        self._writes = threading.Lock()
        self._writer: _ResultsWriter | None = None
        self._writer_lock = threading.Lock()

    # ------------------------------------------------------------ life and journal
    @property
    def state_dir(self) -> Path:
        if self._state_dir is None:
            self._state_dir = _data_folder()
        return self._state_dir

    @property
    def journal(self) -> Journal:
        return Journal(self.state_dir / "journal")

    @property
    def _workers(self) -> Path:
        return self.state_dir / liveness.FOLDER

    def _alive(self) -> liveness.Lifeline:
        if self._lifeline is None:
            self._lifeline = liveness.Lifeline(self._workers, self.worker_id)
        return self._lifeline

    def release(self) -> None:
        """This engine claims nothing any more (a clean stop): its lock file goes, once
        the results writer has committed what it holds (else the lock stays until the
        process ends, and the next start records what is left from the journal)."""
        if not self.flush_results(RELEASE_WAIT_S):
            log.warning("results are still being recorded; the worker lock is kept")
            return
        if self._lifeline is not None:
            self._lifeline.release()

    def abandon(self) -> None:
        """Stop waiting for a busy database to take this engine's results (a stop that
        cannot wait longer): those kept in the journal are recorded at the next start."""
        self._abandon.set()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Back-to-back publishes of one worker reuse each account's publisher and its
        HTTP connection instead of opening a connection every time."""
        self._local.cache = {}
        self._local.prepared = None
        try:
            yield
        finally:
            for _stored, _credential, publisher in self._local.cache.values():
                publisher.session.close()
            self._local.cache = None
            self._local.prepared = None

    def _tools(self, account: Account) -> tuple[Credential, Publisher]:
        """The account's credential and a publisher for it.

        The credential comes from the store each time (held in memory there, checked
        against other processes' changes by one small query); a token this batch
        refreshed itself is used until the store has another one.
        """
        stored = self.credentials.load(account.platform, account.id)
        cache = getattr(self._local, "cache", None)
        if cache is not None and account.id in cache:
            was, credential, publisher = cache[account.id]
            if stored != was:  # another process stored a new token: it wins
                credential = stored
                cache[account.id] = (stored, stored, publisher)
            return credential, publisher
        publisher = self.publisher_factory(account.platform, api_base=account.api_base)
        publisher.state = settings.platform_state(account.platform)
        publisher.tier = account.tier
        if cache is not None:
            cache[account.id] = (stored, stored, publisher)
        return stored, publisher

    def _remember(self, account: Account, credential: Credential, publisher: Publisher) -> None:
        cache = getattr(self._local, "cache", None)
        if cache is not None:
            try:
                stored = self.credentials.load(account.platform, account.id)
            except (CredentialMissing, KeyringUnavailable):
                stored = credential
            cache[account.id] = (stored, credential, publisher)

    def warm_up(self) -> None:
        """Pay at start what the first publish would pay: the publishers' imports, the
        worker lock and the journal's folder, the first keyring read of each account
        with posts waiting (held in memory from then on)."""
        from milton_desktop.domain.content import Content
        from milton_desktop.publishers import registry

        query = Account.select(Account.platform).distinct().tuples()
        # peewee's stubs type a model select's rows as the model, also after .tuples()
        platforms = {p for (p,) in cast("list[tuple[str]]", list(query))}
        for platform in platforms:
            try:
                registry.platform(platform)
                self.publisher_factory(platform).validate(Content(text="warm up"))
            except Exception:  # a broken platform must not stop the others from publishing
                log.exception("could not prepare the %s publisher", platform)
        try:
            self._alive().hold()
            self.journal.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:  # the first claim tries again, and says so if it fails
            log.warning("could not prepare the worker lock or the journal: %s", exc)
        self.warm_credentials()

    def warm_credentials(self, *, due_only: bool = False) -> None:
        """Read into memory, all at once, the credentials of the accounts with posts
        waiting (``due_only``: due now), so no publish waits for the keyring."""
        sql = (
            "SELECT DISTINCT a.platform, a.id FROM accounts a JOIN scheduled_posts s"
            f" ON s.account_id = a.id WHERE a.status = '{AccountStatus.CONNECTED}'"
            f" AND s.status = '{Status.PENDING}'"
        )
        params: list[object] = []
        if due_only:
            sql += " AND s.next_attempt_at <= ?"
            params.append(utc_text(self.clock.now()))
        waiting = database.execute_sql(sql, params).fetchall()
        if waiting:
            self.credentials.load_many([(p, a) for p, a in waiting])

    # ------------------------------------------------------------ queries
    # The hot path (every tick and every publish) uses plain SQL: peewee's query
    # building cost more than the queries themselves at 1 000 publishes a minute.
    _READY = (
        f"s.status = '{Status.PENDING}' AND s.account_id IN"
        f" (SELECT id FROM accounts WHERE status = '{AccountStatus.CONNECTED}')"
        # a post on an account that requires approval goes out only once approved
        # (pending means approved there: this is the safety net, never the rule)
        " AND (s.approved_at IS NOT NULL OR s.account_id IN"
        " (SELECT id FROM accounts WHERE NOT require_approval))"
    )

    @property
    def team(self) -> bool:
        """Whether this engine shares a team database with other machines."""
        return backend.current().is_postgres

    def _ready(self) -> tuple[str, list[object]]:
        """What makes a row claimable here, as SQL on ``s`` and its parameters.

        In team mode, also: its account's token is in this machine's keyring, and no
        other machine has a publish of that account in flight (so one account's posts
        go out one at a time across machines, as they do within one).
        """
        if not self.team:
            return self._READY, []
        held = self.held_accounts(refresh=False)
        mine = ",".join(str(int(a)) for a in sorted(held)) or "NULL"
        return (
            f"{self._READY} AND s.account_id IN ({mine}) AND NOT EXISTS (SELECT 1 FROM"
            f" scheduled_posts b WHERE b.status = '{Status.PUBLISHING}'"
            " AND b.account_id = s.account_id AND b.claimed_machine <> ?)",
            [self.machine_id],
        )

    # ------------------------------------------------------------ team mode
    def held_accounts(self, *, refresh: bool = True, force: bool = False) -> frozenset[int]:
        """The connected accounts whose token this machine's keyring holds.

        Read again when a token was stored or deleted since (the credential change
        counter moved), or always with ``force`` (each heartbeat); ``refresh=False``
        gives the set read last (the keyring is never read on the runner's thread).
        """
        from milton_desktop.storage.credentials import _read_stamp

        if self._held is not None and not refresh:
            return self._held
        read = _read_stamp()
        # the counter every process moves, and what this process itself changed (which
        # it knows even when the counter could not be moved)
        stamp = None if read is None else (read, self.credentials.changes)
        if not force and self._held is not None and stamp is not None and stamp == self._held_stamp:
            return self._held
        query = Account.select(Account.id, Account.platform).where(
            Account.status == AccountStatus.CONNECTED
        )
        # peewee's stubs type a model select's rows as the model, also after .tuples()
        accounts = cast("list[tuple[int, str]]", list(query.tuples()))
        held = self.credentials.holds([(p, a) for a, p in accounts])
        changed = self._held is not None and frozenset(held) != self._held
        self._held, self._held_stamp = frozenset(held), stamp
        if changed:
            log.info("this machine now holds the tokens of accounts %s", sorted(held))
        return self._held

    def heartbeat(self, *, refresh: bool = True) -> None:
        """Team mode: this machine's row in ``machines``, with the accounts it holds
        (read again from the keyring unless ``refresh`` is False)."""
        if not self.team:
            return
        from milton_desktop.operations import team

        held = self.held_accounts(refresh=refresh, force=refresh)
        team.beat(
            self.machine_id,
            interval_s=self.beat_interval_s,
            accounts=held,
            started_at=self._started_at,
            paused=self.paused,
        )
        self._last_beat = time.monotonic()

    def _beat_if_due(self) -> None:
        """Before a claim: a machine that claims has a fresh heartbeat (``run --once``
        has no watchdog), or the others would take its claims for abandoned."""
        if time.monotonic() - self._last_beat >= self.beat_interval_s:
            self.heartbeat(refresh=False)

    def sign_off(self) -> None:
        """Team mode, a clean stop of the scheduler: this machine is offline at once."""
        if not self.team:
            return
        from milton_desktop.operations import team

        team.sign_off(self.machine_id)

    def _cutoff(self) -> str:
        """Rows due before this are missed, not published (``mark_missed`` says so):
        the queries leave them out, so housekeeping may run after a dispatch."""
        return utc_text(self.clock.now() - self.config.grace)

    def next_wakeup(
        self, exclude_accounts: frozenset[int] | set[int] = frozenset()
    ) -> datetime | None:
        """The earliest instant a pending row becomes due (for the timer).

        Accounts already being worked on are left out: their worker picks up their
        next due row itself, and counting them would spin the timer on a past instant.
        """
        ready, params = self._ready()
        sql = f"FROM scheduled_posts s WHERE {ready} AND s.next_attempt_at >= ?"
        params.append(self._cutoff())
        if exclude_accounts:
            sql += f" AND s.account_id NOT IN ({','.join('?' * len(exclude_accounts))})"
            params += list(exclude_accounts)
        if self.team:
            # PostgreSQL turns MIN() over the joined conditions into a scan of every
            # row; the first row in index order is the same answer (0.3 ms, not 11,
            # at 100 000 rows)
            found = database.execute_sql(
                f"SELECT s.next_attempt_at {sql} ORDER BY s.next_attempt_at LIMIT 1", params
            ).fetchone()
            value = found[0] if found else None
        else:
            (value,) = database.execute_sql(
                f"SELECT MIN(s.next_attempt_at) {sql}", params
            ).fetchone()
        return ScheduledPost.next_attempt_at.python_value(value)

    def due_accounts(
        self, exclude: frozenset[int] | set[int] = frozenset(), *, ahead: float = 0.0
    ) -> list[int]:
        """The accounts with a pending row due now (or within ``ahead`` seconds),
        leaving out those being worked on (their worker takes their next row itself),
        so a long backlog on one account never hides another's due post. Those due
        now come first."""
        now = self.clock.now()
        if self.team:
            self.held_accounts()  # on the housekeeping thread: a token added counts now
        ready, params = self._ready()
        sql = (
            "SELECT s.account_id, MIN(s.next_attempt_at) AS first FROM scheduled_posts s"
            f" WHERE {ready} AND s.next_attempt_at <= ? AND s.next_attempt_at >= ?"
        )
        params += [utc_text(now + timedelta(seconds=ahead)), self._cutoff()]
        if exclude:
            sql += f" AND s.account_id NOT IN ({','.join('?' * len(exclude))})"
            params += list(exclude)
        sql += " GROUP BY s.account_id ORDER BY first"
        return [acc for acc, _first in database.execute_sql(sql, params).fetchall()]

    def due(
        self, limit: int = 200, account_id: int | None = None, *, ahead: float = 0.0
    ) -> list[tuple[int, int]]:
        """(schedule id, account id) of pending rows due now (or within ``ahead``
        seconds), oldest first."""
        return [(sid, acc) for sid, acc, _at in self.due_at(limit, account_id, ahead=ahead)]

    def due_at(
        self, limit: int = 200, account_id: int | None = None, *, ahead: float = 0.0
    ) -> list[tuple[int, int, datetime]]:
        """Like :meth:`due`, with each row's instant."""
        now = self.clock.now()
        ready, params = self._ready()
        sql = (
            f"SELECT s.id, s.account_id, s.next_attempt_at FROM scheduled_posts s"
            f" WHERE {ready} AND s.next_attempt_at <= ? AND s.next_attempt_at >= ?"
        )
        params += [utc_text(now + timedelta(seconds=ahead)), self._cutoff()]
        if account_id is not None:
            sql += " AND s.account_id = ?"
            params.append(account_id)
        sql += " ORDER BY s.next_attempt_at, s.id LIMIT ?"
        params.append(limit)
        rows = database.execute_sql(sql, params).fetchall()
        instant = ScheduledPost.next_attempt_at.python_value
        return [(sid, acc, cast("datetime", instant(at))) for sid, acc, at in rows]

    # ------------------------------------------------------------ housekeeping
    def materialize_recurrences(self) -> list[Outcome]:
        """Create rows for the coming occurrences of repeating posts (cheap when up to date).

        Returns what the user must hear of: occurrences that passed while nothing ran
        (they are missed, as ``mark_missed`` would have made them), and repeats that
        stopped.
        """
        from milton_desktop.operations import repeats as recurrence

        try:
            made = recurrence.materialize(self.clock.now(), grace=self.config.grace)
        except Exception as exc:  # a bad rule must never stop publishing
            _failed_step("could not prepare repeating posts", exc)
            return []
        return [self._outcome(sid) for sid in made.missed] + [
            self._outcome(sid, repeat_stopped=True) for sid in made.stopped
        ]

    def keep_tokens_alive(self) -> None:
        """Renew the long-lived tokens that are due (at most one try a day per account)."""
        from milton_desktop.operations import accounts

        try:
            accounts.upkeep_tokens(self.credentials, clock=self.clock)
        except Exception as exc:  # token upkeep must never stop publishing
            _failed_step("could not renew the tokens that are due", exc)

    def recheck_tiers(self) -> None:
        """Read again the limits of accounts whose platform changes them (a Mastodon
        instance's), about once a day per account."""
        from milton_desktop.operations import tier_recheck

        try:
            tier_recheck.recheck_tiers(self.credentials, clock=self.clock)
        except Exception as exc:  # reading limits must never stop publishing
            _failed_step("could not read the accounts' limits again", exc)

    def snapshot_metrics(self, should_stop: Callable[[], bool]) -> None:
        """Take the engagement snapshots that are due (1 h, 24 h, 7 d after each post),
        stopping as soon as ``should_stop()`` says a publish is near."""
        from milton_desktop.operations import insights

        try:
            insights.take_snapshots(
                self.credentials,
                clock=self.clock,
                should_stop=should_stop,
                publisher_factory=self.metrics_factory,
            )
        except Exception as exc:  # figures must never stop publishing
            _failed_step("could not read the posts' engagement", exc)

    def mark_missed(self) -> list[Outcome]:
        """Pending rows later than the grace window become missed (the user decides)."""
        now = self.clock.now()
        cutoff = now - self.config.grace
        query = (
            ScheduledPost.select(
                ScheduledPost.id, ScheduledPost.parts, ScheduledPost.next_attempt_at
            )
            .where(
                (ScheduledPost.status == Status.PENDING) & (ScheduledPost.next_attempt_at < cutoff)
            )
            .tuples()
        )
        # peewee's stubs type a model select's rows as the model, also after .tuples()
        rows = cast("list[tuple[int, str | None, datetime]]", list(query))
        outcomes = []
        for sid, parts, due in rows:
            live = len(live_parts(load_parts(parts)))
            with database.atomic():  # the row and its mail, together
                n = (
                    ScheduledPost.update(
                        status=Status.MISSED,
                        updated_at=now,
                        error_message=_missed_rest(live) if live else MISSED_MESSAGE,
                    )
                    .where((ScheduledPost.id == sid) & (ScheduledPost.status == Status.PENDING))
                    .execute()
                )
                if n:
                    notify_mail.queue_mail(sid, None, Status.MISSED, now, due=due)
            if n:
                log.warning("schedule %s missed its time by more than the grace window", sid)
                outcomes.append(self._outcome(sid))
        return outcomes + self._mark_unapproved(now)

    def _mark_unapproved(self, now: datetime) -> list[Outcome]:
        """Posts still awaiting approval at their time become missed: nobody approved
        them, and going out late would surprise the member who approves them later."""
        query = (
            ScheduledPost.select(ScheduledPost.id, ScheduledPost.next_attempt_at)
            .where(
                (ScheduledPost.status == Status.AWAITING_APPROVAL)
                & (ScheduledPost.next_attempt_at <= now)
            )
            .tuples()
        )
        # peewee's stubs type a model select's rows as the model, also after .tuples()
        rows = cast("list[tuple[int, datetime]]", list(query))
        outcomes = []
        for sid, due in rows:
            with database.atomic():  # the row and its mail, together
                n = (
                    ScheduledPost.update(
                        status=Status.MISSED, updated_at=now, error_message=NOT_APPROVED_MESSAGE
                    )
                    .where(
                        (ScheduledPost.id == sid)
                        & (ScheduledPost.status == Status.AWAITING_APPROVAL)
                    )
                    .execute()
                )
                if n:
                    notify_mail.queue_mail(sid, None, Status.MISSED, now, due=due)
            if n:
                log.warning("schedule %s was not approved in time", sid)
                outcomes.append(self._outcome(sid))
        return outcomes

    def recover_interrupted(self) -> list[Outcome]:
        """Settle what engines that are no longer alive left behind.

        First the results such an engine kept in the journal but could not record (the
        platform's answer wins over any guess), then its rows still in ``publishing``
        become ``uncertain``. Alive means holding its worker lock: no clock is compared,
        so a scheduler whose clock runs ahead leaves a live publish alone, and a killed
        one's rows are recovered at once whatever the clocks say.
        """
        now = self.clock.now()
        query = (
            ScheduledPost.select(
                ScheduledPost.id,
                ScheduledPost.claimed_by,
                ScheduledPost.updated_at,
                ScheduledPost.attempts,
                ScheduledPost.claimed_machine,
            )
            .where(ScheduledPost.status == Status.PUBLISHING)
            .tuples()
        )
        # peewee's stubs type a model select's rows as the model, also after .tuples()
        rows = cast("list[tuple[int, str | None, datetime | None, int, str | None]]", list(query))
        claims: dict[str | None, list[tuple[int, datetime | None, int]]] = {}
        elsewhere: dict[str, dict[str | None, list[tuple[int, datetime | None, int]]]] = {}
        for sid, claimed_by, claimed_at, attempts, machine in rows:
            if self.team and machine is not None and machine != self.machine_id:
                # another machine's claim: its lock files are in its own home, so
                # whether it lives is asked of its heartbeat
                by_worker = elsewhere.setdefault(machine, {})
                by_worker.setdefault(claimed_by, []).append((sid, claimed_at, attempts))
                continue
            claims.setdefault(claimed_by, []).append((sid, claimed_at, attempts))
        outcomes = self._recover_elsewhere(elsewhere, now) if elsewhere else []
        owners: set[str | None] = {*claims, *self.journal.workers()}
        owners.discard(self.worker_id)
        for owner in sorted(owners, key=lambda w: w or ""):
            with liveness.if_dead(self._workers, owner) as dead:
                if not dead:
                    continue
                if owner is not None:
                    outcomes += self._replay(owner)
                outcomes += self._interrupted(owner, claims.get(owner, []), now)
        liveness.sweep(self._workers)
        return outcomes

    def _recover_elsewhere(
        self,
        claims: dict[str, dict[str | None, list[tuple[int, datetime | None, int]]]],
        now: datetime,
    ) -> list[Outcome]:
        """Team mode: the claims of machines that are offline or missed three
        heartbeats become uncertain (never published again); a live machine's stay."""
        from milton_desktop.operations import team

        stale = team.stale_machines()
        known = {m.install_id for m in team.machines()}
        outcomes = []
        for machine, by_worker in sorted(claims.items()):
            if machine in known and machine not in stale:
                continue
            seen = stale.get(machine)
            log.warning(
                "machine %s (%s) %s; its %d claim(s) are settled as interrupted",
                machine,
                seen.label if seen else "unknown",
                "went offline" if seen and not seen.online else "stopped sending heartbeats",
                sum(len(r) for r in by_worker.values()),
            )
            for owner, rows in sorted(by_worker.items(), key=lambda kv: kv[0] or ""):
                outcomes += self._interrupted(owner, rows, now)
        return outcomes

    def _replay(self, owner: str) -> list[Outcome]:
        """Record the results a dead engine kept in the journal (its lock is held)."""
        journal = self.journal
        journal.discard_partial(owner)
        outcomes = []
        for path, settlement in journal.entries(owner):
            # busy: this raises and the entry stays, and so do the rows: the next look
            # tries again, and nothing of this owner is called interrupted before then
            landing = self._apply(settlement)
            journal.remove(path)
            if landing.how in ("already", "gone"):
                continue
            log.info(
                "schedule %s: recorded the %s result that a stopped process (%s) had kept",
                settlement.schedule_id,
                settlement.outcome,
                owner,
            )
            outcomes.append(self._outcome(settlement.schedule_id, earlier=landing.earlier))
        return outcomes

    def _interrupted(
        self, owner: str | None, rows: list[tuple[int, datetime | None, int]], now: datetime
    ) -> list[Outcome]:
        """A dead engine's rows still in ``publishing`` become ``uncertain``, unless
        they are threads stopped between two parts: nothing was in flight, so the rest
        goes out as it would have."""
        mine = (
            ScheduledPost.claimed_by.is_null()
            if owner is None
            else ScheduledPost.claimed_by == owner
        )
        outcomes = []
        for sid, claimed_at, attempts in rows:
            with database.atomic():
                found = (
                    ScheduledPost.select(ScheduledPost.parts)
                    .where(
                        (ScheduledPost.id == sid)
                        & (ScheduledPost.status == Status.PUBLISHING)
                        & mine
                    )
                    .tuples()
                    .first()
                )
                if found is None:
                    continue
                entries = load_parts(found[0])
                live = live_parts(entries)
                carry_on = bool(live) and not any(e.status == SENDING for e in entries)
                message = _interruption(sid, live, carry_on)
                if carry_on:
                    update: dict[str, Any] = {
                        "status": Status.PENDING,
                        "next_attempt_at": now,
                        "error_message": None,
                    }
                    outcome = AttemptOutcome.RETRY
                else:
                    update = {"status": Status.UNCERTAIN, "error_message": message}
                    outcome = AttemptOutcome.UNCERTAIN
                ScheduledPost.update(
                    claimed_by=None, updated_at=now, parts=dump_parts(live), **update
                ).where(ScheduledPost.id == sid).execute()
                made = PublishingResult.create(
                    schedule=sid,
                    attempt=attempts,
                    started_at=claimed_at or now,
                    finished_at=now,
                    outcome=outcome,
                    error_kind="interrupted",
                    error_message=message,
                    part=len(live),
                )
                if not carry_on:
                    notify_mail.queue_mail(sid, made.id, Status.UNCERTAIN, now)
            log.warning(
                "schedule %s was left publishing by %s; %s",
                sid,
                owner,
                "its thread carries on" if carry_on else "marked uncertain",
            )
            outcomes.append(self._outcome(sid))
        return outcomes

    # ------------------------------------------------------------ claim and publish
    def claim(self, schedule_id: int) -> bool:
        """Atomically take a due pending row; False if another engine (or a user) got there first."""
        # the lock first: a claim whose owner holds no lock is taken for abandoned
        self._alive().hold()
        if self.team:
            return self.claim_due(schedule_id=schedule_id) == [schedule_id]
        now = utc_text(self.clock.now())
        with self._writes:
            cursor = database.execute_sql(
                f"UPDATE scheduled_posts SET status = '{Status.PUBLISHING}',"
                " attempts = attempts + 1, claimed_by = ?, claimed_machine = ?, updated_at = ?"
                f" WHERE id = ? AND status = '{Status.PENDING}' AND next_attempt_at <= ?"
                " AND next_attempt_at >= ?"
                # never an unapproved post (see _READY)
                " AND (approved_at IS NOT NULL OR account_id IN"
                " (SELECT id FROM accounts WHERE NOT require_approval))",
                (self.worker_id, self.machine_id, now, schedule_id, now, self._cutoff()),
            )
        return cursor.rowcount == 1

    def claim_due(
        self, account_id: int | None = None, *, limit: int = 1, schedule_id: int | None = None
    ) -> list[int]:
        """Team mode: claim up to ``limit`` due rows (of one account, or one row) in one
        statement, oldest first; the ids claimed.

        ``FOR UPDATE SKIP LOCKED`` passes over rows another scheduler is claiming at
        the same instant instead of waiting for it, and the statement commits on its
        own (autocommit, no transaction, so no advisory write lock) before any request.
        The rows are picked once, in an ``ARRAY(...)``: written as ``id IN (SELECT ...)``
        the planner may run the subquery again per row, each run skipping the rows the
        last one locked, and claim more than ``limit``.
        """
        assert self.team, "claim_due() is the team database's claim"
        self._alive().hold()
        self._beat_if_due()
        now = utc_text(self.clock.now())
        ready, params = self._ready()
        sql = f"{ready} AND s.next_attempt_at <= ? AND s.next_attempt_at >= ?"
        params += [now, self._cutoff()]
        if account_id is not None:
            sql += " AND s.account_id = ?"
            params.append(account_id)
        if schedule_id is not None:
            sql += " AND s.id = ?"
            params.append(schedule_id)
        rows = database.execute_sql(
            f"UPDATE scheduled_posts SET status = '{Status.PUBLISHING}',"
            " attempts = attempts + 1, claimed_by = ?, claimed_machine = ?, updated_at = ?"
            f" WHERE status = '{Status.PENDING}' AND id = ANY(ARRAY(SELECT s.id"
            f" FROM scheduled_posts s WHERE {sql} ORDER BY s.next_attempt_at, s.id LIMIT ?"
            " FOR UPDATE OF s SKIP LOCKED)) RETURNING id",
            [self.worker_id, self.machine_id, now, *params, limit],
        ).fetchall()
        return sorted(sid for (sid,) in rows)

    def claim_next(self, account_id: int) -> int | None:
        """Take the account's oldest due row: its id, or None when nothing of it can
        be claimed here now (none due, or another engine took it)."""
        if self.team:
            claimed = self.claim_due(account_id)
            return claimed[0] if claimed else None
        for sid, _account in self.due(limit=5, account_id=account_id):
            if self.claim(sid):
                return sid
        return None

    def publish_due(self) -> list[Outcome]:
        """Serially publish everything due now (``run --once`` and tests)."""
        outcomes = self.materialize_recurrences()
        outcomes += self.recover_interrupted() + self.mark_missed()
        for sid, _account in self.due():
            if self.claim(sid):
                outcomes.append(self.execute(sid))
        return outcomes

    # ------------------------------------------------------------ prepared ahead
    #: what a publish is made of; a row whose answer to this differs from the one read
    #: when it was prepared is published as it is now, not as it was then
    @staticmethod
    def _content_sql() -> str:
        media = backend.current().group_concat(
            "m.id || '|' || m.position || '|' || m.part || '|' || m.kind || '|'"
            " || COALESCE(m.path, '') || '|' || COALESCE(m.url, '') || '|' || m.mime || '|'"
            " || m.bytes || '|' || m.alt_text",
            f"'{chr(31)}'",  # the unit separator: in no text a person writes
        )
        return (
            "SELECT s.text_override, p.body, p.follow_ups, p.follow_up_delay, p.updated_at,"
            f" (SELECT {media} FROM media m WHERE m.post_id = p.id)"
            " FROM scheduled_posts s JOIN posts p ON p.id = s.post_id WHERE s.id = ?"
        )

    def _content_stamp(self, schedule_id: int) -> tuple[object, ...] | None:
        found = database.execute_sql(self._content_sql(), (schedule_id,)).fetchone()
        return tuple(found) if found is not None else None

    def prepare(self, schedule_id: int) -> bool:
        """Shortly before a pending row's instant, load what its publish needs (its
        parts and media, the credential, a publisher with a connection open to the
        platform), so that at the instant only the claim and the request remain.

        Reads only: nothing is claimed, nothing is sent. A row cancelled or moved
        meanwhile fails its claim; one edited meanwhile is published as edited (the
        claim is followed by one query that compares the content). Returns whether
        something was prepared.
        """
        self._local.prepared = None
        row = queries.schedule_with_account(schedule_id)
        if row is None or row.status != Status.PENDING:
            return False
        stamp = self._content_stamp(schedule_id)
        loaded = queries.schedule_parts(schedule_id)
        if loaded is None:
            return False
        try:
            _credential, publisher = self._tools(row.account)
        except (CredentialMissing, KeyringUnavailable):
            return False  # the publish itself says so, with what to do
        publisher.preconnect()
        self._local.prepared = _Prepared(schedule_id, stamp, *loaded)
        return True

    def _prepared_parts(self, schedule_id: int) -> tuple[list[Content], int] | None:
        """The parts prepared for ``schedule_id``, if its content is still the same."""
        prepared: _Prepared | None = getattr(self._local, "prepared", None)
        self._local.prepared = None
        if prepared is None or prepared.schedule_id != schedule_id:
            return None
        if self._content_stamp(schedule_id) != prepared.stamp:
            log.info(
                "schedule %s was edited after it was prepared: publishing it as it is now",
                schedule_id,
            )
            return None
        return prepared.parts, prepared.delay

    def execute(self, schedule_id: int) -> Outcome:
        """Publish a row this engine has claimed and record the result."""
        ready = self._prepared_parts(schedule_id)
        row = queries.schedule_with_account(schedule_id)
        if row is None:
            raise pw.DoesNotExist(f"schedule {schedule_id} is gone")
        assert row.status == Status.PUBLISHING and row.claimed_by == self.worker_id, (
            "execute() needs a claim"
        )
        crash_point("after_claim")
        # a retry keeps where the earlier attempt stood unless this one gets further
        self._local.resume_out = row.resume
        self._local.parts = None
        account: Account = row.account
        started = self.clock.now()
        planned = row.next_attempt_at
        lateness_ms = int((started - planned).total_seconds() * 1000)
        # DEBUG: the result's line is the one INFO line a publish writes
        log.debug(
            "publishing schedule %s to %s %r (attempt %s, %d ms after its time)",
            schedule_id,
            account.platform,
            account.display_name,
            row.attempts,
            lateness_ms,
        )

        record = _Record(schedule_id, row.attempts, started, lateness_ms, self.clock)
        try:
            credential, publisher = self._tools(account)
        except CredentialMissing as exc:
            return self._finish_failed(row, record, Rejected(str(exc)), reconnect=True)
        except KeyringUnavailable as exc:
            return self._finish_retry(
                row, record, Transient(f"the keyring could not be read: {exc}")
            )

        # every credential this attempt uses (a refresh adds the new one): their secrets
        # are scrubbed from whatever the platform said before it is kept or shown
        used = [credential]
        try:
            return self._attempt(row, account, credential, publisher, record, used, ready)
        finally:
            self._keep_learned(account.platform, publisher, used)

    def _keep_learned(self, platform: str, publisher: Publisher, used: list[Credential]) -> None:
        """Store what the publisher learned (a working API version) for later runs."""
        if not publisher.learned:
            return
        publisher.learned = _scrub_values(publisher.learned, _secrets(used))
        try:
            settings.remember_platform_state(platform, publisher.learned)
        except Exception:  # never let bookkeeping turn a publish into a failure
            log.exception("could not keep what the %s publisher learned", platform)
        else:
            publisher.state.update(publisher.learned)
            log.info("%s: now using %s", platform, publisher.learned)
        publisher.learned = {}

    def _attempt(
        self,
        row: ScheduledPost,
        account: Account,
        credential: Credential,
        publisher: Publisher,
        record: _Record,
        used: list[Credential],
        ready: tuple[list[Content], int] | None = None,
    ) -> Outcome:
        if ready is None:
            ready = queries.schedule_parts(row.id) or (queries.parts_for(row), 0)
        parts, delay = ready
        entries = live_parts(load_parts(row.parts))
        start = len(entries)
        self._local.parts = _Parts(count=len(parts), entries=list(entries))
        problems = self._problems(publisher, account, parts, start)
        if problems:
            return self._finish_failed(
                row, record, Rejected("; ".join(p.message for p in problems))
            )
        ref = AccountRef(remote_id=account.remote_id, username=account.username)
        publisher.resume = json.loads(row.resume) if row.resume else {}
        publisher.checkpoint = {}
        warnings: list[str] = []
        renewed = False
        index = start
        try:
            credential = self._fresh_for_use(publisher, account, credential, record)
            used.append(credential)
            while True:
                record.part = index
                try:
                    published = self._publish(publisher, parts, index, credential, ref, used)
                except AuthExpired as exc:
                    if renewed:
                        raise
                    renewed = True
                    credential = self._renewed(publisher, account, credential, exc, record)
                    used.append(credential)
                    self._remember(account, credential, publisher)
                    published = self._publish(publisher, parts, index, credential, ref, used)
                published = scrub_published(published, _secrets(used))
                warnings += [_part_note(index, len(parts), w) for w in published.warnings]
                if index == len(parts) - 1:
                    break
                crash_point(f"part_{index}_sent")
                landed = self._part_landed(row, record, published, delay)
                if landed is not None:
                    return landed
                crash_point(f"after_part_{index}")
                index += 1
                publisher.resume, publisher.checkpoint = {}, {}
                self._local.resume_out = None
                record = _Record(row.id, row.attempts, self.clock.now(), 0, self.clock)
                self._mark_sending(row.id, index)
        # What a platform says may echo a token (in a message, a name, a URL): each
        # error is scrubbed here, before anything records, logs or shows it.
        except AuthExpired as exc:
            return self._finish_failed(
                row, record, _in_part(_scrubbed(exc, used), index, len(parts)), reconnect=True
            )
        except RateLimited as exc:
            return self._finish_rate_limited(row, record, _scrubbed(exc, used))
        except Transient as exc:
            return self._finish_retry(row, record, _scrubbed(exc, used))
        except Rejected as exc:
            return self._finish_failed(
                row, record, _in_part(_scrubbed(exc, used), index, len(parts))
            )
        except OutcomeUnknown as exc:
            return self._finish_uncertain(
                row, record, _in_part(_scrubbed(exc, used), index, len(parts), maybe=True)
            )
        except Exception as exc:  # a bug: the request may have been sent, so never retry blindly
            log.exception("unexpected error publishing schedule %s", row.id)
            return self._finish_uncertain(
                row,
                record,
                _in_part(
                    OutcomeUnknown(
                        f"unexpected error ({type(exc).__name__}); check the account before "
                        "publishing again"
                    ),
                    index,
                    len(parts),
                    maybe=True,
                ),
            )
        crash_point("before_commit")
        return self._finish_published(row, record, published, tuple(warnings))

    def _problems(
        self, publisher: Publisher, account: Account, parts: list[Content], start: int
    ) -> list[Problem]:
        """What the platform would refuse in the parts still to go out."""
        problems = publisher.validate(parts[0]) if start == 0 else []
        if len(parts) > 1:
            found = registry.find(account.platform)
            if found is None:
                return problems
            later = found.validate_parts(parts, account.tier)
            problems += [p for p in later if p.field == "follow_ups"]
            if start > 1:  # the live ones are what they are
                live = tuple(f"part {k + 1}:" for k in range(start))
                problems = [p for p in problems if not p.message.startswith(live)]
        return problems

    def _part_landed(
        self, row: ScheduledPost, record: _Record, published: Published, delay: int
    ) -> Outcome | None:
        """Record a part that went out before the next one is sent.

        Without a delay the claim is kept and publishing goes on (None); with one the
        row waits, pending, for the next part's time, which is stored, not slept on.
        """
        state: _Parts = self._local.parts
        index = record.part
        state.entries.append(
            PartEntry(index, LIVE, published.remote_id, published.url, published.ref)
        )
        now = self.clock.now()
        changes: dict[str, Any] = {"parts": dump_parts(state.entries), "error_message": None}
        if index == 0:
            changes.update(
                remote_id=published.remote_id, remote_url=published.url, published_at=now
            )
        result = record.result(AttemptOutcome.PART_PUBLISHED, published=published)
        label = part_label(index, state.count)
        if delay <= 0:
            changes.update(status=Status.PUBLISHING, claimed_by=self.worker_id, resume=None)
            landing = self._settle(row, result, **changes)
            log.info("schedule %s: %s published: %s", row.id, label, published.url)
            if landing.how == "recorded":
                return None
            return self._told(row, landing)  # settled otherwise meanwhile: stop here
        at = now + timedelta(seconds=delay)
        changes.update(status=Status.PENDING, next_attempt_at=at, resume=None)
        landing = self._settle(row, result, **changes)
        log.info(
            "schedule %s: %s published (%s); the next part goes out at %s",
            row.id,
            label,
            published.url,
            at.isoformat(),
        )
        return self._told(row, landing, retry_at=at)

    def _mark_sending(self, schedule_id: int, index: int) -> None:
        """Say that part ``index`` is about to be sent, before it is: a stop before this
        leaves a thread that simply carries on; a stop after it, one whose part may be
        on the platform. Not noted, nothing is sent (it is tried again later)."""
        state: _Parts = self._local.parts
        marked = dump_parts([*state.entries, PartEntry(index, SENDING)])
        try:
            with self._writes:
                cursor = database.execute_sql(
                    "UPDATE scheduled_posts SET parts = ? WHERE id = ? AND claimed_by = ?"
                    f" AND status = '{Status.PUBLISHING}'",
                    (marked, schedule_id, self.worker_id),
                )
        except (pw.OperationalError, sqlite3.OperationalError) as exc:
            raise Transient(
                f"the database could not note that {part_label(index, state.count)} is being "
                f"sent ({exc}); it is sent later"
            ) from None
        if cursor.rowcount != 1:
            raise Rejected(
                f"{part_label(index, state.count)} was not sent: the post was changed while "
                "its thread was going out"
            )

    # ------------------------------------------------------------ transitions
    def _publish(
        self,
        publisher: Publisher,
        parts: list[Content],
        index: int,
        credential: Credential,
        ref: AccountRef,
        used: list[Credential],
    ) -> Published:
        try:
            if index == 0:
                return publisher.publish(parts[0], credential, ref)
            state: _Parts = self._local.parts
            root, parent = state.entries[0], state.entries[index - 1]
            return publisher.follow_up(
                parts[index],
                credential,
                ref,
                root=Published(root.remote_id or "", root.url or "", ref=root.ref),
                parent=Published(parent.remote_id or "", parent.url or "", ref=parent.ref),
            )
        finally:
            kept = _scrub_values({**publisher.resume, **publisher.checkpoint}, _secrets(used))
            self._local.resume_out = json.dumps(kept) if kept else None

    def _fresh_for_use(
        self,
        publisher: Publisher,
        account: Account,
        credential: Credential,
        record: _Record,
    ) -> Credential:
        """A short-lived token (X's 2 hours) about to expire is renewed before the
        publish, so the attempt is not spent on a 401 after a quiet day."""
        found = registry.find(account.platform)
        upkeep = found.token_upkeep if found else None
        if upkeep is None or not upkeep.before_use or not credential.refresh_token:
            return credential
        expires = credential.expires_at
        if expires is None:
            return credential
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires - self.clock.now() > upkeep.renew_before:
            return credential
        fresh = self._refresh(
            publisher,
            account,
            credential,
            AuthExpired("the token is about to expire", http_status=None),
            record,
        )
        self._remember(account, fresh, publisher)
        return fresh

    def _renewed(
        self,
        publisher: Publisher,
        account: Account,
        credential: Credential,
        exc: AuthExpired,
        record: _Record,
    ) -> Credential:
        """A token to replay with after a 401: the keyring's, if another process (the
        window, a reconnect) replaced it meanwhile; else a refreshed one."""
        try:
            stored = self.credentials.load(account.platform, account.id, cached=False)
        except (CredentialMissing, KeyringUnavailable):
            stored = credential
        if stored.access_token != credential.access_token:
            log.info(
                "token for %s %r changed in the keyring; using it",
                account.platform,
                account.display_name,
            )
            return stored
        return self._refresh(publisher, account, credential, exc, record)

    def _refresh(
        self,
        publisher: Publisher,
        account: Account,
        credential: Credential,
        exc: AuthExpired,
        record: _Record,
    ) -> Credential:
        if not exc.refreshable or not credential.refresh_token:
            raise AuthExpired(str(exc), refreshable=False, http_status=exc.http_status)
        log.info("token for %s %r expired; refreshing once", account.platform, account.display_name)
        fresh = publisher.refresh(credential)
        try:
            self.credentials.save(account.platform, account.id, fresh)
        except KeyringUnavailable:
            log.warning(
                "refreshed token could not be saved to the keyring; using it for this attempt only"
            )
        try:
            Account.update(
                token_expires_at=fresh.expires_at or account.token_expires_at,
                token_refreshed_at=self.clock.now(),
            ).where(Account.id == account.id).execute()
        except (pw.OperationalError, sqlite3.OperationalError) as failure:
            # the token is in the keyring; only its expiry is not noted: publish on
            log.warning("the renewed token's expiry was not noted (%s)", failure)
        record(AttemptOutcome.AUTH_REFRESHED, error=exc, kind="auth", message="token refreshed")
        return fresh

    # ------------------------------------------------------------ recording results
    def _settle(
        self,
        row: ScheduledPost,
        result: dict[str, Any],
        *,
        reconnect: bool = False,
        **changes: Any,
    ) -> _Landing:
        """Record how an attempt ended: the result row and the schedule's new state."""
        changes.setdefault("updated_at", self.clock.now())
        # a post that will be tried again keeps where its publish stood, and so does an
        # uncertain one: if the user sends it again, the platform's record key or
        # container lets the retry find what the lost attempt made instead of doubling it
        retrying = changes.get("status") in (Status.PENDING, Status.UNCERTAIN)
        changes.setdefault("resume", getattr(self._local, "resume_out", None) if retrying else None)
        state: _Parts | None = getattr(self._local, "parts", None)
        if state is not None:
            # only what is live: a part noted as being sent is settled by this result
            changes.setdefault("parts", dump_parts(state.entries))
            result = {
                **result,
                "parts": json.dumps(
                    part_states(
                        str(changes.get("status") or Status.PUBLISHING),
                        state.count,
                        state.entries,
                        remote_id=changes.get("remote_id"),
                        url=changes.get("remote_url"),
                    )
                ),
            }
        changes = {k: str(v) if isinstance(v, Status) else v for k, v in changes.items()}
        settlement = Settlement(
            schedule_id=row.id,
            worker_id=self.worker_id,
            result=result,
            changes=changes,
            reconnect_account=row.account_id if reconnect else None,
        )
        return self._land(settlement)

    def _land(self, settlement: Settlement) -> _Landing:
        """Journal a result, then commit it, however long the database stays busy.

        The result is what the platform did, so it is never dropped: while another
        process holds the write lock the commit is tried again with a growing pause,
        saying so now and then. Only a stop that cannot wait (:meth:`abandon`) ends the
        tries, and then the journal keeps the result for the next start.
        """
        sid = settlement.schedule_id
        journal = self.journal
        path: Path | None
        try:
            path = journal.write(settlement)
        except Exception as exc:  # a full disk must not cost the result: record it all the same
            path = None
            log.warning(
                "schedule %s: the result could not be kept in the journal (%s); recording it now",
                sid,
                exc,
            )
        crash_point("after_journal")
        if (
            path is not None
            and getattr(self._local, "deliver", None) is not None
            and settlement.changes.get("status") != Status.PUBLISHING
        ):
            # kept on disk already: the results writer commits it while this worker
            # goes on to its next post (a part that lets the thread go on is committed
            # here: the next part waits for it)
            self._local.pending = (settlement, path)
            return _Landing("queued")
        return self._commit_retrying([settlement], [path])[0]

    def _commit_retrying(
        self, settlements: list[Settlement], paths: list[Path | None]
    ) -> list[_Landing]:
        """Commit results (in one transaction), trying again for as long as another
        process holds the database; remove their journal entries once committed."""
        sid = settlements[0].schedule_id
        outcome = settlements[0].outcome
        kept = all(p is not None for p in paths)
        pause, waiting_since, told = 0.1, 0.0, 0.0
        while True:
            try:
                landings = self._apply_all(settlements)
                break
            except (pw.OperationalError, sqlite3.OperationalError) as exc:
                now = time.monotonic()
                if not waiting_since:
                    waiting_since = now
                if not told or now - told >= TELL_BUSY_EVERY_S:
                    told = now
                    log.warning(
                        "schedule %s: the %s result cannot be recorded yet (%s%s); still trying",
                        sid,
                        outcome,
                        exc,
                        ": another program holds the database" if is_busy(exc) else "",
                    )
                if kept and self._abandon.is_set():
                    log.warning(
                        "schedule %s: stopping with the %s result not recorded; it is kept "
                        "in %s and recorded when Milton next starts",
                        sid,
                        outcome,
                        paths[0],
                    )
                    return [_Landing("kept") for _ in settlements]
                if self._abandon.is_set():
                    time.sleep(pause)  # nowhere else to keep it: wait for the database
                else:
                    self._abandon.wait(pause)
                pause = min(pause * 2, RETRY_CAP_S)
        if waiting_since:  # at the level of the warning it ends
            log.warning(
                "schedule %s: the %s result is recorded, after %.0f s waiting for the database",
                sid,
                outcome,
                time.monotonic() - waiting_since,
            )
        journal = self.journal
        for path in paths:
            if path is not None:
                journal.remove(path)
        return landings

    def _apply_all(self, settlements: list[Settlement]) -> list[_Landing]:
        if len(settlements) == 1:
            return [self._apply(settlements[0])]
        with self._writes, database.atomic():  # each result is a savepoint inside
            return [self._apply_now(s) for s in settlements]

    # ------------------------------------------------------------ the results writer
    def execute_queued(self, schedule_id: int, deliver: Callable[[Outcome], None]) -> None:
        """Publish a claimed row like :meth:`execute`, handing its final result to the
        results writer once it is in the journal: the worker goes on to its next post
        while one thread commits the results of every worker, several to a transaction.
        ``deliver`` gets the outcome once the database has it (on that thread)."""
        self._local.deliver = deliver
        self._local.queued = False
        try:
            outcome = self.execute(schedule_id)
        finally:
            self._local.deliver = None
        if not self._local.queued:
            deliver(outcome)
        self._local.queued = False

    @contextlib.contextmanager
    def writes_held(self) -> Iterator[None]:
        """Hold this engine's claims and results back meanwhile (a backup's snapshot)."""
        with self._writes:
            yield

    def flush_results(self, timeout: float | None = None) -> bool:
        """Wait until the results writer has committed what it was given; False if
        ``timeout`` s passed first."""
        writer = self._writer
        return True if writer is None else writer.flush(timeout)

    def _queue_result(self, row: ScheduledPost, extra: dict[str, Any]) -> Outcome:
        settlement, path = self._local.pending
        self._local.pending = None
        self._local.queued = True
        with self._writer_lock:
            if self._writer is None:
                self._writer = _ResultsWriter(self)
        self._writer.put(_Queued(settlement, path, row, extra, self._local.deliver))
        account: Account = row.account
        # nobody sees this one: execute_queued delivers the real outcome later
        return Outcome(row.id, Status.PUBLISHING, account.display_name, account.platform, "")

    def _record_queued(self, batch: list[_Queued]) -> None:
        """On the writer's thread: commit a batch, then tell each worker's caller."""
        landings = self._commit_retrying(
            [item.settlement for item in batch], [item.path for item in batch]
        )
        for item, landing in zip(batch, landings, strict=True):
            try:
                outcome = self._told(item.row, landing, **item.extra)
            except Exception:  # one odd row must not keep the others' news back
                log.exception("schedule %s: its outcome could not be read", item.row.id)
                continue
            item.deliver(outcome)

    def _apply(self, settlement: Settlement) -> _Landing:
        """Commit a result in one short transaction; recording it again changes nothing.

        Normally the row is still this claim's. If it was settled otherwise meanwhile
        (marked uncertain by another process, resolved by the user), the truth is kept:
        a published result wins, with its URL and a warning saying what it corrects;
        any other result is only recorded as history.
        """
        with self._writes:
            return self._apply_now(settlement)

    def _apply_now(self, settlement: Settlement) -> _Landing:
        sid = settlement.schedule_id
        result = dict(settlement.result)
        with database.atomic():
            if database.execute_sql(
                "SELECT 1 FROM publishing_results WHERE journal_key = ?", (settlement.key,)
            ).fetchone():
                return _Landing("already")
            found = database.execute_sql(
                "SELECT status, claimed_by, attempts, remote_url, published_at, warning"
                " FROM scheduled_posts WHERE id = ?",
                (sid,),
            ).fetchone()
            if found is None:
                log.warning(
                    "schedule %s was deleted before its %s result could be recorded",
                    sid,
                    settlement.outcome,
                )
                return _Landing("gone", status=settlement.changes.get("status"))
            status, claimed_by, attempts, url, published_at, warning = found

            def record(mail: bool = True) -> None:
                rid = _insert(PublishingResult, schedule=sid, journal_key=settlement.key, **result)
                final = _RESULT_STATUS.get(settlement.outcome)  # type: ignore[call-overload]
                if mail and final is not None:  # the mail about it, in this transaction
                    notify_mail.queue_mail(sid, rid, str(final), self.clock.now())

            def change(**fields: Any) -> None:
                _update(ScheduledPost, sid, fields)

            # still this claim: the same engine, and not a later attempt of the row
            if (
                status == Status.PUBLISHING
                and claimed_by == settlement.worker_id
                and attempts == result.get("attempt")
            ):
                record()
                change(**{"claimed_by": None, **settlement.changes})
                if settlement.reconnect_account is not None:
                    _update(
                        Account,
                        settlement.reconnect_account,
                        {"status": AccountStatus.NEEDS_RECONNECT},
                    )
                return _Landing("recorded")

            earlier = str(status)
            if settlement.outcome != AttemptOutcome.PUBLISHED:
                result["error_kind"] = SUPERSEDED
                result["error_message"] = (
                    f"{result.get('error_message') or settlement.outcome} (this result came "
                    f"after the post had been settled as {earlier}; it changed nothing)"
                )
                record(mail=False)
                log.warning(
                    "schedule %s was settled as %s before this attempt's %s result came; "
                    "the result is recorded, the post left as it is",
                    sid,
                    earlier,
                    settlement.outcome,
                )
                return _Landing("superseded", earlier)

            new_url = settlement.changes.get("remote_url")
            if status == Status.PUBLISHED:
                # already settled as published (the user said so): add what they could
                # not know, and say so if the platform holds a second copy
                fields: dict[str, Any] = {}
                if not url and new_url:
                    fields.update(remote_url=new_url, remote_id=settlement.changes.get("remote_id"))
                if published_at is None:
                    fields["published_at"] = settlement.changes.get("published_at")
                how = "filled"
                if url and new_url and url != new_url:
                    how = "duplicate"
                    note = f"published again at {new_url}: check the account for a duplicate"
                    fields["warning"] = _join(warning, note)
                    result["warning"] = _join(note, result.get("warning"))
                    log.warning("schedule %s was published twice: %s and %s", sid, url, new_url)
                # the user settled it as published already: news only if it went out twice
                record(mail=how == "duplicate")
                if fields:
                    change(**fields)
                return _Landing(how, earlier)

            if status == Status.PUBLISHING:
                note = "it went out while another attempt was publishing it: check for a duplicate"
            else:
                note = f"marked {earlier} earlier, but it did publish"
            changes = {
                **settlement.changes,
                "claimed_by": None,
                "warning": _join(note, settlement.changes.get("warning")),
            }
            result["warning"] = _join(note, result.get("warning"))
            record()
            change(**changes)
            log.warning(
                "schedule %s had been marked %s meanwhile, but it did publish (%s): "
                "recorded as published",
                sid,
                earlier,
                new_url,
            )
            return _Landing("corrected", earlier)

    def _told(self, row: ScheduledPost, landing: _Landing, **extra: Any) -> Outcome:
        """The outcome to report, as the database now has it."""
        account: Account = row.account
        if landing.how == "queued":
            return self._queue_result(row, extra)
        if landing.how == "kept":
            return Outcome(
                schedule_id=row.id,
                status=Status.PUBLISHING,
                account=account.display_name,
                platform=account.platform,
                text=row.text_override if row.text_override is not None else row.post.body,
                message="the result is not recorded yet (the database is busy); it is kept and "
                "recorded when Milton next starts",
            )
        if landing.how == "gone":
            return Outcome(
                schedule_id=row.id,
                status=str(landing.status),
                account=account.display_name,
                platform=account.platform,
                text=row.text_override or "",
                message="the post was deleted while it was being published",
            )
        return self._outcome(row.id, earlier=landing.earlier, **extra)

    def _finish_published(
        self,
        row,
        record: _Record,
        published: Published,
        warnings: tuple[str, ...] | None = None,
    ) -> Outcome:
        """The post (or a thread's last part) is out; the row keeps its main post's link."""
        now = self.clock.now()
        warnings = published.warnings if warnings is None else warnings
        changes: dict[str, Any] = {
            "status": Status.PUBLISHED,
            "published_at": now,
            "remote_id": published.remote_id,
            "remote_url": published.url,
        }
        state: _Parts | None = getattr(self._local, "parts", None)
        if state is not None and state.count > 1:
            state.entries.append(
                PartEntry(record.part, LIVE, published.remote_id, published.url, published.ref)
            )
            main = state.entries[0]
            changes.update(remote_id=main.remote_id, remote_url=main.url)
            if record.part > 0:
                changes.pop("published_at")  # the main post's time, kept from its landing
        landing = self._settle(
            row,
            record.result(AttemptOutcome.PUBLISHED, published=published),
            error_message=None,
            warning="; ".join(warnings) or None,
            **changes,
        )
        log.info("schedule %s published: %s", row.id, changes["remote_url"])
        for warning in warnings:
            log.warning("schedule %s published with a warning: %s", row.id, warning)
        return self._told(row, landing)

    def _finish_failed(
        self, row, record: _Record, exc: PublishError, *, reconnect: bool = False
    ) -> Outcome:
        landing = self._settle(
            row,
            record.result(AttemptOutcome.FAILED, error=exc),
            reconnect=reconnect,
            status=Status.FAILED,
            error_message=str(exc),
        )
        log.warning("schedule %s failed: %s", row.id, exc)
        return self._told(row, landing, needs_reconnect=reconnect)

    def _finish_uncertain(self, row, record: _Record, exc: PublishError) -> Outcome:
        landing = self._settle(
            row,
            record.result(AttemptOutcome.UNCERTAIN, error=exc),
            status=Status.UNCERTAIN,
            error_message=str(exc),
        )
        log.warning("schedule %s outcome unknown: %s", row.id, exc)
        return self._told(row, landing)

    def _finish_rate_limited(self, row, record: _Record, exc: RateLimited) -> Outcome:
        """Wait for the platform's reset, within reason: a reset already past (or
        nonsense) waits like any retry, one beyond a day fails with the time named, and
        a post limited again and again stops after ``max_rate_limited`` tries."""
        now = self.clock.now()
        limited = _attempts(row.id, AttemptOutcome.RATE_LIMITED) + 1
        if limited > self.config.max_rate_limited:
            return self._finish_failed(
                row,
                record,
                Rejected(
                    f"still rate limited after {limited} tries: {exc}", http_status=exc.http_status
                ),
            )
        wait = exc.retry_at - now
        if wait > self.config.max_rate_wait:
            return self._finish_failed(
                row,
                record,
                Rejected(
                    f"{exc}; the platform says to wait until {exc.retry_at:%Y-%m-%d %H:%M} UTC, "
                    "more than a day: nothing was published; reschedule the post for after then",
                    http_status=exc.http_status,
                ),
            )
        if wait <= timedelta(0):
            wait = self.backoff(limited)  # a reset in the past tells us nothing: back off
        retry_at = now + wait + timedelta(seconds=self.rng.uniform(0, 3))
        landing = self._settle(
            row,
            record.result(AttemptOutcome.RATE_LIMITED, error=exc),
            status=Status.PENDING,
            next_attempt_at=retry_at,
            error_message=f"rate limited; retrying at {retry_at:%Y-%m-%d %H:%M:%S} UTC",
        )
        log.info("schedule %s rate limited until %s", row.id, retry_at.isoformat())
        return self._told(row, landing, retry_at=retry_at)

    def _finish_retry(self, row, record: _Record, exc: PublishError) -> Outcome:
        transient_attempts = _attempts(row.id, AttemptOutcome.RETRY, record.part) + 1
        sent = getattr(exc, "may_have_posted", False)
        if transient_attempts >= self.config.max_attempts and (
            sent or _maybe_posted(row.id, record.part)
        ):
            # a resend was safe, but one of the sends may have landed: the user checks
            return self._finish_uncertain(
                row,
                record,
                OutcomeUnknown(
                    f"gave up after {transient_attempts} attempts: {exc}; an earlier send got "
                    "no answer and may have been published: check the account before "
                    "publishing again",
                    http_status=exc.http_status,
                ),
            )
        if transient_attempts >= self.config.max_attempts:
            return self._finish_failed(
                row,
                record,
                Transient(
                    f"gave up after {transient_attempts} attempts: {exc}",
                    http_status=exc.http_status,
                ),
            )
        delay = self.backoff(transient_attempts)
        retry_at = self.clock.now() + delay
        landing = self._settle(
            row,
            record.result(AttemptOutcome.RETRY, error=exc, kind=MAYBE_POSTED if sent else None),
            status=Status.PENDING,
            next_attempt_at=retry_at,
            error_message=str(exc),
        )
        log.info(
            "schedule %s: %s; retry %s in %.0f s",
            row.id,
            exc,
            transient_attempts + 1,
            delay.total_seconds(),
        )
        return self._told(row, landing, retry_at=retry_at)

    def backoff(self, attempt: int) -> timedelta:
        """Capped exponential backoff with equal jitter: [d/2, d] where d = base·2^(n-1) ≤ cap."""
        cap = self.config.backoff_cap.total_seconds()
        d = min(cap, self.config.backoff_base.total_seconds() * (2 ** (attempt - 1)))
        return timedelta(seconds=d / 2 + self.rng.uniform(0, d / 2))

    def _outcome(self, schedule_id: int, **extra) -> Outcome:
        status, message, url, override, body, name, platform, warning = database.execute_sql(
            "SELECT s.status, s.error_message, s.remote_url, s.text_override, p.body,"
            " a.display_name, a.platform, s.warning FROM scheduled_posts s"
            " JOIN posts p ON p.id = s.post_id JOIN accounts a ON a.id = s.account_id WHERE s.id = ?",
            (schedule_id,),
        ).fetchone()
        return Outcome(
            schedule_id=schedule_id,
            status=status,
            account=name,
            platform=platform,
            text=override if override is not None else body,
            message=message,
            url=url,
            warning=warning,
            **extra,
        )


# Writing a result row and a schedule's changes in plain SQL: peewee's query building
# was most of the cost of recording a result in a burst. Values go through each
# field's own conversion, as peewee would do.
_SQL_CACHE: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[pw.Field, ...]]] = {}


def _statement(
    model: type[pw.Model], kind: str, names: tuple[str, ...]
) -> tuple[str, tuple[pw.Field, ...]]:
    key = (f"{model._meta.table_name}:{kind}", names)
    found = _SQL_CACHE.get(key)
    if found is None:
        fields = tuple(model._meta.fields[n] for n in names)
        columns = [f'"{f.column_name}"' for f in fields]
        table = f'"{model._meta.table_name}"'
        if kind == "insert":
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        else:
            sql = f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?"
        found = _SQL_CACHE[key] = (sql, fields)
    return found


def _db_values(fields: tuple[pw.Field, ...], values: list[Any]) -> list[Any]:
    return [
        None if v is None else f.db_value(str(v) if isinstance(v, Status | AccountStatus) else v)
        for f, v in zip(fields, values, strict=True)
    ]


def _insert(model: type[pw.Model], **values: Any) -> int:
    """Insert one row; its id."""
    for name, field in model._meta.fields.items():  # the defaults peewee would fill in
        if name not in values and field.default is not None and not isinstance(field, pw.AutoField):
            values[name] = field.default() if callable(field.default) else field.default
    names = tuple(values)
    sql, fields = _statement(model, "insert", names)
    return backend.current().insert_id(database, sql, _db_values(fields, list(values.values())))


def _update(model: type[pw.Model], row_id: int, values: dict[str, Any]) -> None:
    if not values:
        return
    names = tuple(values)
    sql, fields = _statement(model, "update", names)
    database.execute_sql(sql, [*_db_values(fields, list(values.values())), row_id])


def _secrets(used: list[Credential]) -> tuple[str, ...]:
    """The secrets of every credential an attempt used, old and refreshed alike."""
    return tuple(dict.fromkeys(v for credential in used for v in credential_secrets(credential)))


def _scrubbed(exc: E, used: list[Credential]) -> E:
    return scrub_error(exc, _secrets(used))


def _scrub_values(values: dict[str, str], secrets: tuple[str, ...]) -> dict[str, str]:
    """A publisher's checkpoint or learned state, fit to be stored: a platform's id
    (a container id, an upload URL) could echo a token too."""
    return {k: scrub(v, secrets) if isinstance(v, str) else v for k, v in values.items()}


#: the error kind of a retry whose create got no answer (a resend is safe, yet it may
#: have landed)
MAYBE_POSTED = "maybe_posted"


def _maybe_posted(schedule_id: int, part: int = 0) -> bool:
    """Whether an earlier attempt of the schedule's ``part`` sent a create that got no
    answer."""
    return (
        PublishingResult.select()
        .where(
            (PublishingResult.schedule == schedule_id)
            & (PublishingResult.part == part)
            & (PublishingResult.error_kind == MAYBE_POSTED)
        )
        .exists()
    )


def _attempts(schedule_id: int, outcome: AttemptOutcome, part: int | None = None) -> int:
    """How many attempts of a schedule (of one of its parts, if given) ended in
    ``outcome`` so far."""
    where = (PublishingResult.schedule == schedule_id) & (PublishingResult.outcome == outcome)
    if part is not None:
        where &= PublishingResult.part == part
    return PublishingResult.select().where(where).count()


def _missed_rest(live: int) -> str:
    """Why a thread begun on time waits: the rest of it missed its time. It cannot be
    moved (its next part answers the live ones), only published now or skipped."""
    return (
        f"the rest of the thread, from part {live + 1} on, was not published in time "
        f"({'the first part is' if live == 1 else f'the first {live} parts are'} live): the "
        "computer was off or asleep, or the app was not running. Publish the rest now, or "
        "skip it"
    )


def _interruption(schedule_id: int, live: list[PartEntry], carry_on: bool) -> str:
    """Why a row left publishing by a stopped engine is what it now is."""
    if not live:
        return (
            "publishing was interrupted (the app stopped mid-publish); the post may or may "
            "not have gone out: check the account before publishing again"
        )
    (count,) = database.execute_sql(
        "SELECT p.follow_ups FROM scheduled_posts s JOIN posts p ON p.id = s.post_id"
        " WHERE s.id = ?",
        (schedule_id,),
    ).fetchone()
    total = 1 + len(json.loads(count or "[]"))
    label = part_label(len(live), total)
    if carry_on:
        return f"publishing stopped between two parts; it carries on from {label}"
    return (
        f"publishing was interrupted (the app stopped mid-publish): {label} may have been "
        "posted; check the account, then settle it (the parts before it are live)"
    )


@dataclass(frozen=True)
class _Queued:
    """A result in the journal, waiting for the results writer."""

    settlement: Settlement
    path: Path
    row: ScheduledPost
    extra: dict[str, Any]
    deliver: Callable[[Outcome], None]


class _ResultsWriter:
    """One thread that commits the results the workers journaled, as many as are
    waiting in one transaction. A result is on disk before it is queued here: if the
    process dies with results queued, the next start records them from the journal."""

    #: the most results one transaction takes
    BATCH = 64

    def __init__(self, engine: Engine) -> None:
        import queue

        self.engine = engine
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._empty = queue.Empty
        self._count = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="milton-results", daemon=True)
        self._thread.start()

    def put(self, item: _Queued) -> None:
        with self._idle:
            self._count += 1
        self._queue.put(item)

    def flush(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)

    def _run(self) -> None:
        with database.connection_context():
            while True:
                batch = [self._queue.get()]
                while len(batch) < self.BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except self._empty:
                        break
                crash_point("results_queued")
                try:
                    self.engine._record_queued(batch)
                except Exception:  # they stay in the journal: the next start records them
                    log.exception("the results writer could not record %d result(s)", len(batch))
                with self._idle:
                    self._count -= len(batch)
                    self._idle.notify_all()


@dataclass(frozen=True)
class _Prepared:
    """A publish loaded ahead of its instant (:meth:`Engine.prepare`)."""

    schedule_id: int
    #: the row's content as it was read (``Engine._content_sql``)
    stamp: tuple[object, ...] | None
    parts: list[Content]
    #: seconds between two parts of a thread
    delay: int


@dataclass
class _Parts:
    """Where the attempt of a post in parts stands."""

    count: int
    #: the live parts, in order
    entries: list[PartEntry]


def _part_note(index: int, count: int, note: str) -> str:
    return f"{part_label(index, count)}: {note}" if count > 1 else note


def _in_part(exc: E, index: int, count: int, *, maybe: bool = False) -> E:
    """The error of a thread's part, saying which part and what is live already."""
    if count <= 1:
        return exc
    label = part_label(index, count)
    if maybe:
        head = f"{label} may have been posted: {exc.message}"
    else:
        head = f"{label} was not published: {exc.message}"
    if index:
        live = "the first part is live" if index == 1 else f"the first {index} parts are live"
        head += f" ({live}; publishing again carries on from {label})"
    exc.message = head
    exc.args = (head,)
    return exc


#: the attempts that end a post's story, and the status they leave it in
_RESULT_STATUS = {
    AttemptOutcome.PUBLISHED: Status.PUBLISHED,
    AttemptOutcome.FAILED: Status.FAILED,
    AttemptOutcome.UNCERTAIN: Status.UNCERTAIN,
}


def last_result_id() -> int:
    """The newest attempt's id (0 when none): where :func:`outcomes_since` starts."""
    (value,) = database.execute_sql(
        "SELECT COALESCE(MAX(id), 0) FROM publishing_results"
    ).fetchone()
    return int(value)


def outcomes_since(result_id: int) -> tuple[int, list[Outcome]]:
    """Outcomes recorded by any process after attempt ``result_id``, and the new high mark.

    A window that does not run the scheduler itself (a background ``milton-desktop run``
    does) reads these to tell the user what happened. Retries are not news; a final
    result is.
    """
    rows = database.execute_sql(
        "SELECT r.id, r.schedule_id, r.outcome, r.error_kind, r.error_message, r.remote_url,"
        " COALESCE(s.text_override, p.body), a.display_name, a.platform, a.status, r.warning"
        " FROM publishing_results r JOIN scheduled_posts s ON s.id = r.schedule_id"
        " JOIN posts p ON p.id = s.post_id JOIN accounts a ON a.id = s.account_id"
        " WHERE r.id > ? ORDER BY r.id",
        (result_id,),
    ).fetchall()
    outcomes = []
    high = result_id
    for (
        rid,
        sid,
        outcome,
        kind,
        message,
        url,
        text,
        account,
        platform,
        account_status,
        warning,
    ) in rows:
        high = max(high, rid)
        status = _RESULT_STATUS.get(outcome)
        if status is None or kind == SUPERSEDED:
            continue
        outcomes.append(
            Outcome(
                schedule_id=sid,
                status=status,
                account=account,
                platform=platform,
                text=text,
                message=message,
                url=url,
                needs_reconnect=status == Status.FAILED
                and account_status == AccountStatus.NEEDS_RECONNECT
                and kind in ("auth", "rejected"),
                warning=warning,
                repeat_stopped=kind == STOPPED_KIND,
            )
        )
    return high, outcomes
