"""Running due work: one publish at a time per account, accounts in parallel.

A tick asks for a dispatch and returns at once: the database work it needs
(housekeeping, which writes, and finding the accounts with due rows) runs on one
housekeeping thread, which hands each account with due work to a worker thread;
the worker claims and publishes that account's due rows one by one. So the thread
that ticks (the GUI thread in the tray app) never writes to the database. No Qt
here: the tray and ``run`` wrap this in a QtCore timer (``runner.py``).

With a ``lead``, a worker starts that many seconds before its account's next instant:
it prepares the publish (content, credential, an open connection), waits for the
instant on its own, then claims and sends, so the instant costs one UPDATE and the
request. Housekeeping comes after the workers have started, except at the first
dispatch of a process, which settles what a stopped process left before anything else.

Engagement snapshots (``insights``) run on a thread of their own, never on the
housekeeping thread that starts the workers: they start only when no publish is due
within :data:`METRICS_QUIET_S` and none is in flight, and ask before every request,
so a slow platform answer delays nothing but the figures.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from milton_desktop.engine.machine import Engine, Outcome
from milton_desktop.storage.db import is_busy
from milton_desktop.storage.models import database

log = logging.getLogger("milton.scheduler")

#: no engagement fetch starts, or goes on, this close to a due publish: the runner's
#: warm-up (``runner.WARM_UP_AHEAD_S``) begins then, and the publish's preparation after
METRICS_QUIET_S = 300.0
#: the longest a metrics pass waits for the next (a pass with nothing due is one query)
METRICS_EVERY_S = 300.0


class Dispatcher:
    """Hands due rows to a thread pool with at most one in-flight publish per account."""

    def __init__(
        self,
        engine: Engine,
        on_outcome: Callable[[Outcome], None],
        *,
        on_idle: Callable[[], None] | None = None,
        on_dispatched: Callable[[], None] | None = None,
        max_workers: int = 16,
        lead: float = 0.0,
    ) -> None:
        """``lead``: seconds before a row's instant its worker starts preparing it (0:
        at the instant). Needs a clock that moves by itself: the worker waits on it."""
        self.engine = engine
        self.lead = lead
        self.on_outcome = on_outcome
        self.on_idle = on_idle
        #: called (on the housekeeping thread) after each dispatch has started its workers
        self.on_dispatched = on_dispatched
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="publish")
        # one thread for housekeeping writes, so they never run on the caller's thread
        self._house = ThreadPoolExecutor(max_workers=1, thread_name_prefix="housekeeping")
        # and one for engagement snapshots, which wait on platforms
        self._metrics = ThreadPoolExecutor(max_workers=1, thread_name_prefix="insights")
        self._metrics_running = False
        self._metrics_last = float("-inf")
        #: take engagement snapshots at all (``run --once`` publishes only)
        self.snapshots = True
        self._dispatch_queued = False
        self._busy: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._futures: set[Future[None]] = set()
        #: whether housekeeping ran once: until then it runs before a dispatch
        self._housekept = False
        #: publishing paused by the user: workers claim nothing more (one waiting for
        #: an instant lets it pass); a publish under way finishes
        self.paused = False
        #: the last time another process held the database too long for a claim or a
        #: dispatch (``run --once`` reports it); None when all went through
        self.busy_error: Exception | None = None

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
        """Make the rows of repeats, recover rows abandoned by dead processes and mark
        posts that are too late; the user hears of each."""
        told = self.engine.materialize_recurrences()
        self.engine.keep_tokens_alive()
        self.engine.recheck_tiers()
        for outcome in told + self.engine.recover_interrupted() + self.engine.mark_missed():
            self._emit(outcome)
        self.start_snapshots()

    def publish_near(self) -> bool:
        """A publish is in flight, or due within :data:`METRICS_QUIET_S`."""
        if self.stopping:
            return True
        if self.in_flight():
            return True
        nxt = self.engine.next_wakeup()
        if nxt is None:
            return False
        return (nxt - self.engine.clock.now()).total_seconds() < METRICS_QUIET_S

    def start_snapshots(self, *, force: bool = False) -> bool:
        """Start a metrics pass on its own thread unless one runs, one ran lately, or
        a publish is near; returns whether one started."""
        if not self.snapshots or self.stopping or self.publish_near():
            return False
        with self._lock:
            if self._metrics_running:
                return False
            if not force and time.monotonic() - self._metrics_last < METRICS_EVERY_S:
                return False
            self._metrics_running = True
            self._metrics_last = time.monotonic()
        self._metrics.submit(self._snapshot_pass)
        return True

    def metrics_idle(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a metrics pass to end; True when none runs."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            with self._lock:
                if not self._metrics_running:
                    return True
            time.sleep(0.01)
        return False

    def _snapshot_pass(self) -> None:
        try:
            with database.connection_context():
                self.engine.snapshot_metrics(self.publish_near)
        except Exception as exc:
            self._failed("could not take engagement snapshots", exc)
        finally:
            with self._lock:
                self._metrics_running = False

    def request_dispatch(self) -> bool:
        """Ask for a dispatch on the housekeeping thread; False if one is already queued.

        Returns at once. ``on_dispatched`` is called when the workers have started.
        """
        with self._lock:
            if self._dispatch_queued or self.stopping:
                return False
            self._dispatch_queued = True
        self._house.submit(self._dispatch_in_house)
        return True

    def run_in_house(self, fn: Callable[[], object]) -> None:
        """Run a small database write (a heartbeat) on the housekeeping thread."""
        if not self.stopping:
            self._house.submit(self._guarded, fn)

    def _guarded(self, fn: Callable[[], object]) -> None:
        try:
            with database.connection_context():
                fn()
        except Exception as exc:
            self._failed(f"housekeeping step {getattr(fn, '__name__', fn)} failed", exc)

    def _failed(self, what: str, exc: Exception) -> None:
        """One line when the database is only busy (the next tick tries again), the
        traceback for anything else."""
        if is_busy(exc):
            self.busy_error = exc
            log.warning("%s: the database is busy (%s); trying again later", what, exc)
        else:
            log.exception("%s", what)

    def _dispatch_in_house(self) -> None:
        with self._lock:
            self._dispatch_queued = False
        try:
            with database.connection_context():
                self.dispatch_due(housekeeping_first=not self._housekept)
        except Exception as exc:
            self._failed("could not dispatch due posts", exc)
        if self.on_dispatched is not None and not self.stopping:
            self.on_dispatched()

    def dispatch_due(self, *, housekeeping_first: bool = True) -> int:
        """Start a worker for every idle account with due work; returns how many started.

        Runs on the calling thread (``run --once`` and the housekeeping thread). The
        rows too late to publish are left out of the due ones (they are missed), so
        housekeeping may come after the workers have started.
        """
        if self.stopping:
            return 0
        if housekeeping_first:
            self.housekeeping()
            self._housekept = True
        started = self._start_workers()
        if not housekeeping_first:
            try:
                self.housekeeping()
            finally:
                self._housekept = True
        return started

    def _start_workers(self) -> int:
        started = 0
        for account_id in self.engine.due_accounts(self.busy_accounts(), ahead=self.lead):
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
            idle = not self._futures
        if idle and self.stopping:
            self.engine.release()  # a publish cut off by shutdown has ended after all

    def _drain_account(self, account_id: int) -> None:
        waited: set[int] = set()
        try:
            with database.connection_context(), self.engine.batch():
                while not self.stopping and not self.paused:
                    due = self.engine.due_at(limit=1, account_id=account_id, ahead=self.lead)
                    if not due:
                        break
                    sid, _account, at = due[0]
                    if at > self.engine.clock.now():
                        if sid in waited:
                            break  # waited for once already: the timer brings it back
                        waited.add(sid)
                        self._prepare(sid)
                        if not self._wait_until(at):
                            break  # stopping
                    if self.paused:
                        break
                    if self.engine.team:
                        # the account's oldest due row, whichever machine prepared
                        # what: none means another machine has the account's turn
                        claimed = self.engine.claim_next(account_id)
                        if claimed is None:
                            break
                        sid = claimed
                    elif not self.engine.claim(sid):
                        continue  # another process or a user took it; look again
                    self.engine.execute_queued(sid, self._emit)
        except Exception as exc:
            self._failed(f"worker for account {account_id} stopped", exc)
        finally:
            with self._lock:
                self._busy.discard(account_id)
            if self.on_idle is not None and not self.stopping:
                self.on_idle()

    def _prepare(self, schedule_id: int) -> None:
        try:
            self.engine.prepare(schedule_id)
        except Exception as exc:  # only a head start: the publish loads what it needs
            self._failed(f"could not prepare schedule {schedule_id} ahead of its time", exc)

    def _wait_until(self, at: datetime) -> bool:
        """Sleep until the engine's clock reaches ``at`` (at most the lead and a
        little more, whatever the clock does); False if the dispatcher is stopping."""
        limit = time.monotonic() + self.lead + 1.0
        while True:
            left = min((at - self.engine.clock.now()).total_seconds(), limit - time.monotonic())
            if left <= 0:
                return not self.stopping
            if self._stopping.wait(left):
                return False

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
        self.busy_error = None
        self.snapshots = False  # a run that ends at once takes no figures half-way
        try:
            try:
                with database.connection_context():
                    self.engine.warm_credentials(due_only=True)
            except Exception as exc:  # each publish reads its own then
                self._failed("could not read the tokens ahead", exc)
            while True:
                started = self.dispatch_due()
                with self._lock:
                    futures = list(self._futures)
                if not started and not futures:
                    break
                wait(futures)
                self.engine.flush_results()
                if self.busy_error is not None:
                    break  # the database stayed busy: report it rather than wait on
        finally:
            self.on_outcome = user_callback
            self.shutdown(timeout=0)
        return collected

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop claiming, wait up to ``timeout`` s for in-flight publishes and their
        results to be recorded; True if all ended."""
        began = time.monotonic()
        self._stopping.set()
        # first the housekeeping thread, so no worker starts after the snapshot below
        self._house.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            futures = list(self._futures)
        done = True
        if futures:
            from concurrent.futures import wait

            _, not_done = wait(futures, timeout=timeout)
            done = not not_done
            if not_done:
                log.warning("%d publish(es) still running at shutdown", len(not_done))
        if done:
            left = max(0.0, timeout - (time.monotonic() - began))
            done = self.engine.flush_results(left)
            if not done:
                log.warning("results still being recorded at shutdown")
        self._pool.shutdown(wait=False, cancel_futures=True)
        # a fetch in flight finishes on its own (its requests time out); nothing waits for it
        self._metrics.shutdown(wait=False, cancel_futures=True)
        if done:
            self.engine.release()
        else:
            # a publish still waiting for the database to take its result: its
            # journal entry is recorded at the next start
            self.engine.abandon()
        return done
