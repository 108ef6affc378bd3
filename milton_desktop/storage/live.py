"""Live updates on a team database: what changed, told by the server (LISTEN/NOTIFY).

SQLite tells a window cheaply that another process wrote (``PRAGMA data_version``);
PostgreSQL has no such counter, but it can say so itself. Every table of the schema
carries a trigger that sends ``pg_notify('milton_changes', <table>)`` once per
statement (``settings:<key>`` per row for the settings, so a scheduler's heartbeat is
told apart from a change of time zone). Triggers, not calls in the operations: every
write reaches them (the operations, the engine, ``migrate-to``, an administrator's
``psql``), and a table added later gets one from the migration that creates it
(:func:`install_change_triggers` runs after every schema change).

A :class:`ChangeListener` holds a connection of its own (autocommit, ``LISTEN``) on
a thread of its own and hands over what changed, coalesced: a burst of changes is one
call. It waits with a timeout so it stops promptly, and when the server goes away it
says so and reconnects with backoff; after a reconnect it reports that anything may
have changed (``"*"``), since what was notified meanwhile is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("milton.live")

#: the channel every change is notified on
CHANNEL = "milton_changes"
#: what a listener reports after a reconnect: anything may have changed meanwhile
EVERYTHING = "*"
#: the table whose rows are told apart by key (its statement would say too little)
SETTINGS_TABLE = "settings"
#: the trigger's name, the same on every table
TRIGGER = "milton_changes"

#: one notification per statement: the table's name
NOTIFY_TABLE_FUNCTION = f"""CREATE OR REPLACE FUNCTION milton_notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
  RETURN NULL;
END
$$"""

#: one notification per settings row: ``settings:<key>``
NOTIFY_SETTING_FUNCTION = f"""CREATE OR REPLACE FUNCTION milton_notify_setting() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    changed := OLD.key;
  ELSE
    changed := NEW.key;
  END IF;
  PERFORM pg_notify('{CHANNEL}', '{SETTINGS_TABLE}:' || changed);
  RETURN NULL;
END
$$"""


def change_trigger_statements(tables: Iterable[str]) -> list[str]:
    """The statements that make every table in ``tables`` notify its changes (safe to
    run again: each trigger is dropped and created anew)."""
    statements = [NOTIFY_TABLE_FUNCTION, NOTIFY_SETTING_FUNCTION]
    for table in tables:
        statements.append(f'DROP TRIGGER IF EXISTS {TRIGGER} ON "{table}"')
        if table == SETTINGS_TABLE:
            statements.append(
                f'CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON "{table}"'
                " FOR EACH ROW EXECUTE FUNCTION milton_notify_setting()"
            )
        else:
            statements.append(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
                f' ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION milton_notify_change()'
            )
    return statements


def install_change_triggers(db: Any, tables: Iterable[str]) -> None:
    """Create the notifying triggers on a team database (inside the caller's migration
    transaction, so a schema and its triggers appear together)."""
    for statement in change_trigger_statements(tables):
        db.execute_sql(statement)


@dataclass(frozen=True)
class Change:
    """What one or more notifications said, coalesced."""

    #: the payloads: table names, ``settings:<key>``, or :data:`EVERYTHING`
    what: frozenset[str]
    #: how many notifications it stands for
    count: int

    @property
    def everything(self) -> bool:
        return EVERYTHING in self.what

    def only(self, ignored: Callable[[str], bool]) -> bool:
        """Whether every part of the change is one ``ignored`` says does not matter."""
        return all(ignored(item) for item in self.what)


def is_internal_setting(item: str) -> bool:
    """A settings row the app keeps for itself (heartbeats, learned platform state),
    not a preference: its key starts with ``_``."""
    return item.startswith(f"{SETTINGS_TABLE}:_")


#: a quiet moment this long ends a batch of notifications
SETTLE_S = 0.1
#: a batch is handed over at the latest this long after its first notification, so a
#: steady stream of changes still shows about once a second
MAX_DELAY_S = 0.8
#: how long one wait for notifications lasts (how quickly :meth:`stop` is noticed)
POLL_S = 0.5
#: the connection is checked (``SELECT 1``) after this long without a notification, so a
#: server that vanished without closing the socket is noticed
PING_AFTER_S = 15.0
#: reconnect backoff: first wait, and the longest
BACKOFF_S = (0.5, 10.0)
#: TCP keepalives on the listening connection (a dead peer is noticed within a minute)
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 20,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


class ChangeListener:
    """Listens for the team database's changes on a thread of its own.

    ``on_change(Change)`` and ``on_state(connected, message)`` are called on the
    listener's thread: a Qt caller hands them to its own thread with a queued signal.
    ``on_state`` is called when the connection is lost (``False``, with what went
    wrong) and when it is back (``True``).
    """

    def __init__(
        self,
        conninfo: str,
        on_change: Callable[[Change], None],
        on_state: Callable[[bool, str], None] | None = None,
        *,
        name: str = "milton-listener",
        connect_params: dict[str, Any] | None = None,
        settle_s: float = SETTLE_S,
        max_delay_s: float = MAX_DELAY_S,
        poll_s: float = POLL_S,
        backoff_s: tuple[float, float] = BACKOFF_S,
    ) -> None:
        self.conninfo = conninfo
        self.connect_params = dict(connect_params or {})
        self.on_change = on_change
        self.on_state = on_state
        self.name = name
        self.settle_s = settle_s
        self.max_delay_s = max_delay_s
        self.poll_s = poll_s
        self.backoff_s = backoff_s
        #: whether the listening connection is up (read from any thread)
        self.connected = False
        #: how many times it connected (the first time included)
        self.connects = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float) -> bool:
        """Wait until the first ``LISTEN`` is in place (tests, benchmarks)."""
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop listening: at once while it waits for notifications (within one wait's
        length); a connection attempt to a server that does not answer is left to its
        own timeout after ``timeout`` (the thread is a daemon: it never holds a quit)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():  # pragma: no cover - a connect stuck past its timeout
                log.warning("the change listener %s did not stop in %.0f s", self.name, timeout)
        # Let go of the receivers: a window holding its listener and the listener holding
        # the window's signal would be a cycle, left to the garbage collector, which may
        # run on any thread, and a Qt object must be destroyed on its own.
        self.on_change = _nobody
        self.on_state = None

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (tests end it on purpose)."""
        with self._lock:
            conn = self._conn
        if conn is None or conn.closed:
            return None
        return int(conn.info.backend_pid)

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        delay = self.backoff_s[0]
        lost = False
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception as exc:
                if not lost:
                    lost = True
                    log.warning("team database unreachable (%s): retrying", _first_line(exc))
                    self._report_state(False, _first_line(exc))
                log.debug("team database unreachable (%s); retrying in %.1f s", exc, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff_s[1])
                continue
            delay = self.backoff_s[0]
            self.connects += 1
            self.connected = True
            self._ready.set()
            if self.connects == 1:
                log.info("listening for the team database's changes (%s)", self.name)
            if lost:
                lost = False
                log.info("team database reachable again: listening for changes")
                self._report_state(True, "")
                # what was notified while the connection was down is lost: re-read all
                self._deliver(Change(frozenset({EVERYTHING}), 0))
            try:
                self._listen(conn)
            except Exception as exc:
                if self._stop.is_set():
                    break
                lost = True
                self.connected = False
                log.warning("lost the team database's change notifications: %s", exc)
                self._report_state(False, _first_line(exc))
            finally:
                self.connected = False
                with self._lock:
                    self._conn = None
                try:
                    conn.close()
                except Exception:  # pragma: no cover - already broken
                    pass

    def _connect(self) -> Any:
        import psycopg

        params = {**KEEPALIVES, **self.connect_params}
        conn = psycopg.connect(self.conninfo, autocommit=True, **params)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
        except Exception:
            conn.close()
            raise
        with self._lock:
            self._conn = conn
        return conn

    def _listen(self, conn: Any) -> None:
        pending: set[str] = set()
        count = 0
        first = last = 0.0
        idle_since = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if pending:
                due = min(last + self.settle_s, first + self.max_delay_s)
                if now >= due:
                    self._deliver(Change(frozenset(pending), count))
                    pending, count = set(), 0
                    idle_since = now
                    continue
                wait = due - now
            else:
                if now - idle_since >= PING_AFTER_S:
                    conn.execute("SELECT 1")
                    idle_since = now
                wait = self.poll_s
            # Idle, the wait ends with the first packet of notifications, so the batch's
            # settle time starts then (never break out of the loop: the rest of a
            # packet would be lost); within a batch, it ends when the batch is due.
            for notify in conn.notifies(timeout=wait, stop_after=None if pending else 1):
                last = time.monotonic()
                if not pending:
                    first = last
                pending.add(notify.payload)
                count += 1

    def _deliver(self, change: Change) -> None:
        try:
            self.on_change(change)
        except Exception:  # a bug in a receiver must not end the listening
            log.exception("a change receiver failed")

    def _report_state(self, connected: bool, message: str) -> None:
        if self.on_state is None:
            return
        try:
            self.on_state(connected, message)
        except Exception:
            log.exception("a listener state receiver failed")


def _nobody(change: Change) -> None:
    """The receiver of a stopped listener."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def listener_for_open_database(
    on_change: Callable[[Change], None],
    on_state: Callable[[bool, str], None] | None = None,
    *,
    name: str = "milton-listener",
    **options: Any,
) -> ChangeListener | None:
    """A listener for the open team database (not started), or None on SQLite, whose
    window watches ``data_version`` instead."""
    from milton_desktop.storage import backend
    from milton_desktop.storage.models import database

    if not backend.current().is_postgres or database.obj is None:
        return None
    db = database.obj
    # the same address and login as the database's own connections (libpq finds a
    # password the URL leaves out in PGPASSWORD or ~/.pgpass, as it does for them)
    params = {k: v for k, v in db.connect_params.items() if k != "prefer_psycopg3"}
    return ChangeListener(
        db.database, on_change, on_state, name=name, connect_params=params, **options
    )
