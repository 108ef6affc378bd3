"""Running due work: one publish at a time per account, accounts in parallel.

A tick only decides what is due and hands each account with due work to a worker
thread; the worker claims and publishes that account's due rows one by one. No
Qt here: the tray and ``run`` wrap this in a QtCore timer (``runner.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from milton_desktop.engine.machine import Engine, Outcome
from milton_desktop.storage.models import database

log = logging.getLogger("milton.scheduler")


class Dispatcher:
    """Hands due rows to a thread pool with at most one in-flight publish per account."""

    def __init__(
        self,
        engine: Engine,
        on_outcome: Callable[[Outcome], None],
        *,
        on_idle: Callable[[], None] | None = None,
        max_workers: int = 16,
    ) -> None:
        self.engine = engine
        self.on_outcome = on_outcome
        self.on_idle = on_idle
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="publish")
        self._busy: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._futures: set[Future[None]] = set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def in_flight(self) -> int:
        with self._lock:
            return len(self._busy)

    def busy_accounts(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._busy)

    def housekeeping(self) -> None:
        """Recover rows abandoned by dead processes and mark posts that are too late."""
        self.engine.materialize_recurrences()
        for outcome in self.engine.recover_interrupted() + self.engine.mark_missed():
            self._emit(outcome)

    def dispatch_due(self) -> int:
        """Start a worker for every idle account with due work; returns how many started."""
        if self.stopping:
            return 0
        self.housekeeping()
        started = 0
        accounts = {account for _sid, account in self.engine.due()}
        for account_id in accounts:
            with self._lock:
                if account_id in self._busy or self.stopping:
                    continue
                self._busy.add(account_id)
            future = self._pool.submit(self._drain_account, account_id)
            with self._lock:
                self._futures.add(future)
            future.add_done_callback(self._forget)
            started += 1
        return started

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _drain_account(self, account_id: int) -> None:
        try:
            with database.connection_context(), self.engine.batch():
                while not self.stopping:
                    due = self.engine.due(limit=1, account_id=account_id)
                    if not due:
                        break
                    sid = due[0][0]
                    if not self.engine.claim(sid):
                        continue  # another process or a user took it; look again
                    self._emit(self.engine.execute(sid))
        except Exception:
            log.exception("worker for account %s stopped on an unexpected error", account_id)
        finally:
            with self._lock:
                self._busy.discard(account_id)
            if self.on_idle is not None and not self.stopping:
                self.on_idle()

    def _emit(self, outcome: Outcome) -> None:
        try:
            self.on_outcome(outcome)
        except Exception:
            log.exception("outcome handler failed for schedule %s", outcome.schedule_id)

    def run_once(self) -> list[Outcome]:
        """Publish everything due now, accounts in parallel, and return the outcomes."""
        from concurrent.futures import wait

        collected: list[Outcome] = []
        user_callback = self.on_outcome
        lock = threading.Lock()

        def collect(outcome: Outcome) -> None:
            with lock:
                collected.append(outcome)
            user_callback(outcome)

        self.on_outcome = collect
        try:
            while True:
                started = self.dispatch_due()
                with self._lock:
                    futures = list(self._futures)
                if not started and not futures:
                    break
                wait(futures)
        finally:
            self.on_outcome = user_callback
            self.shutdown(timeout=0)
        return collected

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop claiming, wait up to ``timeout`` s for in-flight publishes; True if all ended."""
        self._stopping.set()
        with self._lock:
            futures = list(self._futures)
        done = True
        if futures:
            from concurrent.futures import wait

            _, not_done = wait(futures, timeout=timeout)
            done = not not_done
            if not_done:
                log.warning("%d publish(es) still running at shutdown", len(not_done))
        self._pool.shutdown(wait=False, cancel_futures=True)
        return done
