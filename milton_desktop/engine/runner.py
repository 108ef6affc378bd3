"""The timer that drives the engine, shared by the tray app and ``run`` (QtCore only).

One single-shot precise timer is armed for the next due instant, so a post goes
out at its time rather than on the next poll; a slow watchdog tick catches clock
jumps, sleep and wake, and rows added by other processes (on a team database, whose
changes are notified, a change re-arms the timer at once: the watchdog is only the
safety net there). Slots only decide what
is due and hand it to the dispatcher's threads; the database writes a tick needs
(housekeeping, the heartbeat) run there too, never on the runner's own thread.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.engine.autobackup import AutoBackup
from milton_desktop.engine.dispatch import Dispatcher
from milton_desktop.engine.machine import Engine, Outcome
from milton_desktop.engine.mailer import MailWorker
from milton_desktop.storage import live, settings

log = logging.getLogger("milton.scheduler")

#: QTimer takes a 32-bit millisecond interval; anything further is the watchdog's job
_MAX_ARM_MS = 2**31 - 1
#: the engine's warm-up (publishers, ``requests``, the first keyring reads) runs this
#: long before the next due instant, not at start: a scheduler whose next post is
#: days away stays as small as it can meanwhile
WARM_UP_AHEAD_S = 300.0
#: an idle ``run`` gives start-up's freed memory back to the system after this long
TRIM_AFTER_MS = 2_000
#: seconds before a post's instant its worker starts preparing it (loading its content
#: and credential, opening a connection), so the instant costs only the claim and the
#: request; short enough that a platform keeps the connection open meanwhile
PREPARE_AHEAD_S = 2.0


class Runner(QObject):
    """Owns the timers; emits each :class:`Outcome` on the thread that created it."""

    #: an Outcome, emitted on the runner's thread after every publish attempt or state change
    outcome = Signal(object)
    #: the next due instant (or None), whenever the timer is re-armed
    rearmed = Signal(object)

    def __init__(
        self,
        engine: Engine,
        *,
        interval_s: float = 60.0,
        clock: Clock | None = None,
        max_workers: int = 16,
        lead: float | None = None,
        auto_backup: bool = True,
        listen: bool = True,
        parent: QObject | None = None,
    ) -> None:
        """``lead``: seconds a publish is prepared ahead of its instant; by default
        :data:`PREPARE_AHEAD_S` when the engine runs on the system clock (its workers
        wait for the instant on it), else none. ``auto_backup``: run the daily backup
        (when the setting is on) between dispatches. ``listen``: on a team database,
        re-arm as soon as another client changes something (LISTEN/NOTIFY)."""
        super().__init__(parent)
        self.engine = engine
        self.clock = clock or SystemClock()
        self.interval_s = interval_s
        engine.beat_interval_s = interval_s  # team mode: stale after three missed beats
        self.paused = False
        if lead is None:
            lead = PREPARE_AHEAD_S if isinstance(engine.clock, SystemClock) else 0.0
        self.lead = lead
        self.dispatcher = Dispatcher(
            engine,
            self._worker_outcome.emit,
            on_idle=self._worker_idle.emit,
            on_dispatched=self._dispatched.emit,
            max_workers=max_workers,
            lead=lead,
        )
        self.auto_backup = (
            AutoBackup(engine, self.dispatcher.in_flight, clock=self.clock) if auto_backup else None
        )
        # Emitted from worker threads; Qt queues them onto this object's thread.
        self._worker_outcome.connect(self._on_worker_outcome, Qt.ConnectionType.QueuedConnection)
        self._worker_idle.connect(self._on_worker_idle, Qt.ConnectionType.QueuedConnection)
        self._dispatched.connect(self._on_dispatched, Qt.ConnectionType.QueuedConnection)

        self._due_timer = QTimer(self)
        self._due_timer.setObjectName("milton-due-timer")
        self._due_timer.setSingleShot(True)
        self._due_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._due_timer.timeout.connect(self._on_due_timer_timeout)

        self._watchdog = QTimer(self)
        self._watchdog.setObjectName("milton-watchdog")
        self._watchdog.setInterval(int(interval_s * 1000))
        self._watchdog.setTimerType(Qt.TimerType.CoarseTimer)
        self._watchdog.timeout.connect(self._on_watchdog_timeout)

        #: sends the notification mails, on a thread of its own (started with the runner)
        self.mailer = MailWorker(engine.credentials, folder=engine.state_dir, clock=self.clock)

        # the listener calls from its own thread; the signal queues it onto this one
        self._database_changed.connect(
            self._on_database_changed, Qt.ConnectionType.QueuedConnection
        )
        self.listener = (
            live.listener_for_open_database(
                self._database_changed.emit, name="milton-scheduler-listener"
            )
            if listen
            else None
        )

        self._warmed = False
        self._warm_timer = QTimer(self)
        self._warm_timer.setObjectName("milton-warm-up-timer")
        self._warm_timer.setSingleShot(True)
        self._warm_timer.timeout.connect(self._warm_up)

    _worker_outcome = Signal(object)
    _worker_idle = Signal()
    _dispatched = Signal()
    _database_changed = Signal(object)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        log.info(
            "scheduler started (watchdog every %.0f s, worker %s)",
            self.interval_s,
            self.engine.worker_id,
        )
        # the warm-up (first keyring reads, the publishers' imports) runs on the
        # housekeeping thread shortly before the next due post: see _arm_warm_up
        self._heartbeat()  # `milton-desktop status` sees this scheduler from its first second
        self._watchdog.start()
        self.mailer.start()
        if self.listener is not None:
            self.listener.start()
        self.tick()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop claiming; wait (bounded) for in-flight publishes; True when none was cut off."""
        self._due_timer.stop()
        self._watchdog.stop()
        if self.listener is not None:
            self.listener.stop()
        done = self.dispatcher.shutdown(timeout)
        if self.auto_backup is not None:
            self.auto_backup.stop()
        if not self.mailer.stop(min(timeout, 5.0)):
            log.warning("the mail worker is still talking to the mail server; left to its timeout")
        try:
            if self.engine.team:
                self.engine.sign_off()  # the others recover what is left at once
            else:
                settings.set_internal("heartbeat", None)
        except Exception as exc:  # a busy database must not turn a clean stop into a crash
            log.warning("could not clear the scheduler's heartbeat: %s", exc)
        log.info("scheduler stopped%s", "" if done else " with publishes still in flight")
        return done

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.dispatcher.paused = paused
        self.engine.paused = paused
        log.info("publishing %s", "paused" if paused else "resumed")
        if self.engine.team:
            self._heartbeat()  # the team knows at once that nothing goes out from here
        if not paused:
            self.tick()
        else:
            self._due_timer.stop()

    # ------------------------------------------------------------ ticking
    def tick(self) -> None:
        """Dispatch what is due now and arm the timer for the next instant.

        The dispatch runs on the housekeeping thread; the timer is re-armed when it
        has started its workers (so their accounts are left out of the next instant).
        """
        if self.paused or self.dispatcher.stopping:
            self.rearm()
            return
        self.dispatcher.request_dispatch()

    def rearm(self) -> datetime | None:
        if self.dispatcher.stopping:
            return None
        nxt = self.engine.next_wakeup(self.dispatcher.busy_accounts())
        if nxt is None or self.paused:
            self._due_timer.stop()
        else:
            # the workers start ahead of the instant, prepare, and wait for it themselves
            delay_ms = (nxt - self.clock.now()) / timedelta(milliseconds=1) - self.lead * 1000
            self._due_timer.start(int(min(max(delay_ms, 0), _MAX_ARM_MS)))
        self._arm_warm_up(nxt)
        self.rearmed.emit(nxt)
        return nxt

    def _arm_warm_up(self, nxt: datetime | None) -> None:
        if self._warmed or nxt is None:
            return
        delay_ms = (nxt - self.clock.now()) / timedelta(milliseconds=1) - WARM_UP_AHEAD_S * 1000
        if delay_ms <= 0:
            self._warm_up()
        elif not self._warm_timer.isActive() or self._warm_timer.remainingTime() > delay_ms:
            self._warm_timer.start(int(min(delay_ms, _MAX_ARM_MS)))

    def _warm_up(self) -> None:
        if self._warmed:
            return
        self._warmed = True
        self._warm_timer.stop()
        # on the housekeeping thread: the imports never hold the window's thread
        self.dispatcher.run_in_house(self.engine.warm_up)

    def _heartbeat(self) -> None:
        if self.engine.team:
            # this machine's row in the shared database, with the accounts it holds
            self.dispatcher.run_in_house(self.engine.heartbeat)
            return
        beat = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "at": self.clock.now().isoformat(),
            "interval": self.interval_s,
            "paused": self.paused,
        }

        def heartbeat() -> None:
            settings.set_internal("heartbeat", beat)

        self.dispatcher.run_in_house(heartbeat)

    def _on_due_timer_timeout(self) -> None:
        self.tick()

    def _on_watchdog_timeout(self) -> None:
        self._heartbeat()
        self.tick()
        if self.auto_backup is not None:
            # queued behind the dispatch just asked for: it looks once the workers started
            self.dispatcher.run_in_house(self.auto_backup.check)

    def _on_database_changed(self, change: live.Change) -> None:
        # another client scheduled, moved or cancelled something: the next due instant
        # may have changed (a heartbeat, or a platform's learned state, cannot move it)
        if not change.only(live.is_internal_setting):
            self.rearm()

    def _on_worker_outcome(self, outcome: Outcome) -> None:
        self.mailer.wake()  # its mail, if it has one, is in the outbox already
        self.outcome.emit(outcome)
        self.rearm()  # a retry time may now be the earliest instant

    def _on_worker_idle(self) -> None:
        self.tick()  # the account is free again: its later rows are the timer's now

    def _on_dispatched(self) -> None:
        self.rearm()


def install_quit_signals(
    on_signal: Callable[[int], None], parent: QObject | None = None
) -> Callable[[], None]:
    """Call ``on_signal(signum)`` on the Qt thread for SIGINT and SIGTERM; returns a restore.

    Python runs signal handlers only between bytecodes and Qt's loop sits in C, so a
    wakeup fd turns the signal into a socket event that the loop notices at once.
    """
    import signal

    from PySide6.QtCore import QSocketNotifier

    rfd, wfd = socket.socketpair()
    rfd.setblocking(False)
    wfd.setblocking(False)
    old_fd = signal.set_wakeup_fd(wfd.fileno())
    notifier = QSocketNotifier(rfd.fileno(), QSocketNotifier.Type.Read, parent)
    notifier.setObjectName("milton-signal-notifier")
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signum)

    def on_notifier_activated() -> None:
        try:
            rfd.recv(64)
        except OSError:
            pass
        if received:
            on_signal(received[0])

    notifier.activated.connect(on_notifier_activated)
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
        signal.set_wakeup_fd(old_fd)
        notifier.setEnabled(False)
        rfd.close()
        wfd.close()

    return restore


class SchedulerLock:
    """One scheduler per database: an OS-checked lock file beside it (stale locks of
    dead processes are taken over)."""

    def __init__(self, data_dir: Path) -> None:
        from PySide6.QtCore import QLockFile

        self.path = data_dir / "scheduler.lock"
        self._lock = QLockFile(str(self.path))
        self._lock.setStaleLockTime(0)  # only a dead owner makes the lock stale

    def acquire(self) -> bool:
        return self._lock.tryLock(100)

    def owner(self) -> str:
        info = self._lock.getLockInfo()  # (pid, host, app), or with a leading ok flag
        if isinstance(info, tuple) and len(info) >= 3 and info[-3]:
            return f"pid {info[-3]} on {info[-2]}"
        return "another process"

    def release(self) -> None:
        self._lock.unlock()


def run_headless(
    engine: Engine, data_dir: Path, *, interval_s: float = 60.0, stop_timeout: float = 30.0
) -> int:
    """``milton-desktop run``: the scheduler in a bare QtCore event loop until SIGINT/SIGTERM."""
    from PySide6.QtCore import QCoreApplication

    # one scheduler per home: on a team database each home (machine) runs its own
    lock = SchedulerLock(data_dir)
    if not lock.acquire():
        where = "this machine (its home)" if engine.team else "this database"
        print(
            f"milton-desktop: a scheduler is already running for {where} ({lock.owner()}); "
            "stop it first, or use `milton-desktop run --once` to publish what is due",
            file=sys.stderr,
        )
        return 1
    app = QCoreApplication.instance() or QCoreApplication(["milton-desktop"])
    runner = Runner(engine, interval_s=interval_s)
    runner.outcome.connect(_log_outcome)

    def on_signal(signum: int) -> None:
        log.info("signal %s received: finishing in-flight publishes and stopping", signum)
        runner.stop(stop_timeout)
        app.quit()

    restore_signals = install_quit_signals(on_signal, app)
    from milton_desktop.memory import release_free_memory

    QTimer.singleShot(TRIM_AFTER_MS, release_free_memory)
    try:
        runner.start()
        app.exec()
    finally:
        restore_signals()
        if not runner.dispatcher.stopping:
            runner.stop(stop_timeout)
        lock.release()
    log.info("scheduler exited")
    return 0


def _log_outcome(outcome: Outcome) -> None:
    line = f"{outcome.schedule_id}\t{outcome.status}\t{outcome.label}\t{outcome.url or outcome.message or ''}"
    print(line, flush=True)
