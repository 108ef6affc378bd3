"""The mail worker: one thread beside the scheduler that sends the outbox's mails.

It never runs on the publishing path. A publish only writes its mail's row (in the
transaction that records its result); this thread reads it later and talks to the
SMTP server outside any transaction, so a slow, dead or hostile mail server costs the
publishes nothing. It holds none of the engine's locks, and its own writes are a few
small transactions per mail.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from milton_desktop.domain import mail
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.engine import liveness
from milton_desktop.operations import notify_mail
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.db import worker_connection

log = logging.getLogger("milton.mail")

#: the longest the worker sleeps between two looks at the outbox (mails queued by
#: another process, settings changed in the window, the weekly summary's time)
POLL_S = 30.0
#: the shortest pause between two passes, so a failing database is not hammered
MIN_PAUSE_S = 0.2
#: held by whichever process sends the mails (beside the database): one sender at a
#: time, so a mail is never handed to the server by two processes, and a mail left
#: ``sending`` while nobody holds it was cut off for certain
SENDER_LOCK = "mail-sender.lock"


class SenderLock:
    """The right to send the outbox's mails, held by one process at a time."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / SENDER_LOCK
        self._fd: int | None = None

    def take(self) -> bool:
        """Take it without waiting; True when this process holds it (now or already)."""
        if self._fd is None:
            self._fd = liveness.hold(self.path)
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            liveness.let_go(self._fd)
            self._fd = None


def send_once(credentials: CredentialStore, folder: Path, *, clock: Clock | None = None) -> int:
    """One pass over the outbox for a process without a mail thread (``run --once``
    from cron): the mails its outcomes queued go now. Returns how many were handed to
    the server; nothing is done while another process is the sender (it sends them)."""
    lock = SenderLock(folder)
    if not lock.take():
        return 0
    try:
        notify_mail.recover_interrupted()
        done = notify_mail.deliver_due(credentials, clock=clock)
        return sum(1 for d in done if d.status == notify_mail.SENT)
    finally:
        lock.release()


class MailWorker:
    """Sends queued mails on its own thread until :meth:`stop`."""

    def __init__(
        self,
        credentials: CredentialStore,
        *,
        folder: Path,
        clock: Clock | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.credentials = credentials
        self.clock = clock or SystemClock()
        self.poll_s = poll_s
        self.lock = SenderLock(folder)
        self._recovered = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: passes run so far (tests wait on it)
        self.passes = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="milton-mail", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (an outcome was just recorded)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop after the current SMTP step; True when the thread ended in time. A mail
        in the middle of its message is left to its timeout: a stop that cuts it off
        leaves it unknown, never resent."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self) -> None:
        try:
            with worker_connection():
                while not self._stop.is_set():
                    # another process may be sending for a moment (a `run --once`)
                    wait = self._pass() if self.lock.take() else MIN_PAUSE_S * 25
                    self.passes += 1
                    self._wake.wait(max(wait, MIN_PAUSE_S))
                    self._wake.clear()
        except Exception:  # the thread must never take the scheduler with it
            log.exception("the mail worker stopped")
        finally:
            self.lock.release()

    def _recover(self) -> None:
        try:
            notify_mail.recover_interrupted()
        except Exception as exc:
            log.warning("could not look for mails cut off by a stop: %s", exc)

    def _pass(self) -> float:
        """One pass; the seconds until the next is worth running."""
        if not self._recovered:  # once this process is the sender
            self._recover()
            self._recovered = True
        try:
            notify_mail.deliver_due(self.credentials, clock=self.clock)
            return self._until_next()
        except Exception as exc:  # busy database, keyring trouble: said, and tried again
            log.warning("the mail worker could not send (%s); trying again shortly", exc)
            return min(self.poll_s, 5.0)

    def _until_next(self) -> float:
        now = self.clock.now()
        candidates: list[datetime] = []
        due = notify_mail.next_due()
        if due is not None:
            candidates.append(due)
        if "weekly" in notify_mail.events_on():
            zone = str(settings.get("timezone") or "UTC")
            candidates.append(mail.next_week_start(now, zone))
        wait = self.poll_s
        for when in candidates:
            wait = min(wait, max((when - now) / timedelta(seconds=1), 0.0))
        return wait
