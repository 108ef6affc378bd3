"""The daily automatic backup, run by the scheduler between dispatches.

Its check runs on the housekeeping thread, after a dispatch, so it never competes
with one: it goes ahead only when no publish is in flight, no result is waiting to
be committed, and the next due post is minutes away. The database snapshot is then
taken with the engine's writes held (a fraction of a second), and the archive (the
media, which may be large) is written on a thread of its own, so nothing a due post
needs ever waits for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.engine.machine import Engine
from milton_desktop.operations import backup
from milton_desktop.storage import backend
from milton_desktop.storage.models import database

log = logging.getLogger("milton.backup")

#: a scheduler that just started does nothing heavy for this long (start-up, and the
#: first posts after a night off, come first)
START_DELAY_S = 300.0
#: the snapshot is taken only when the next due post is at least this far away
MARGIN = timedelta(minutes=2)


class AutoBackup:
    """Decides when the daily backup runs, and runs it off the publishing path."""

    def __init__(
        self,
        engine: Engine,
        in_flight: Callable[[], int],
        *,
        clock: Clock | None = None,
        start_delay_s: float = START_DELAY_S,
        margin: timedelta = MARGIN,
    ) -> None:
        self.engine = engine
        self.in_flight = in_flight
        self.clock = clock or SystemClock()
        self.start_delay_s = start_delay_s
        self.margin = margin
        self._started = time.monotonic()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        #: the last backup this scheduler wrote, or the error that stopped it
        self.last_report: backup.BackupReport | None = None
        self.last_error: str | None = None

    def home(self) -> backup.Home | None:
        if backend.current().is_postgres:  # a team database is its server's to back up
            return None
        name = database.database
        if not name or name == ":memory:" or str(name).startswith("file:"):
            return None
        db_path = Path(name).resolve()
        return backup.Home(db_path, db_path.parent / "media")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def check(self) -> bool:
        """Start the backup if it is due and the scheduler is idle; True if started.

        Runs on the housekeeping thread, with its database connection.
        """
        if self._cancel.is_set() or self.running:
            return False
        if time.monotonic() - self._started < self.start_delay_s:
            return False
        home = self.home()
        now = self.clock.now()
        if home is None or not backup.auto_backup_due(home, now):
            return False
        if self.in_flight():
            return False
        nxt = self.engine.next_wakeup()
        if nxt is not None and nxt - now < self.margin:
            return False
        if not self.engine.flush_results(0):
            return False  # a result is being committed: the next check
        try:
            with self.engine.writes_held():
                snap = backup.take_snapshot(home, clock=self.clock)
        except Exception as exc:
            self.last_error = str(exc)
            log.warning("the daily backup could not copy the database: %s", exc)
            return False
        self._thread = threading.Thread(
            target=self._finish, args=(snap,), name="milton-backup", daemon=True
        )
        self._thread.start()
        return True

    def _finish(self, snap: backup.Snapshot) -> None:
        try:
            with database.connection_context():
                report = backup.finish_automatic(snap, cancel=self._cancel)
        except backup.BackupCancelled:
            log.info("the daily backup was stopped before it was complete; none was kept")
            return
        except Exception as exc:
            self.last_error = str(exc)
            log.warning("the daily backup failed: %s", exc)
            return
        self.last_report, self.last_error = report, None
        log.info(
            "daily backup written: %s%s",
            report.path,
            f" ({len(report.pruned)} older one(s) removed)" if report.pruned else "",
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop a backup under way (its temporary file is removed) and wait for it."""
        self._cancel.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
