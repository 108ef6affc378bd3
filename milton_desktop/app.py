"""The desktop app, wired in one straight, logged start-up (qutebrowser's ``run()`` shape):

1. folders and logging;
2. the QApplication (name, organisation, icon) and Qt's messages routed into logging;
3. single instance: if this data folder's app already runs, hand it "show" and exit;
4. the first frame: the window's shell with an empty month (``ui/shell/frame.py``),
   shown and painted before the rest of the app is imported (not when starting in
   the tray); everything after it runs on the next turn of the loop;
5. database and keyring store;
6. the window (the first frame becomes it, in place) and tray; closing the window
   hides it while a tray exists; after the month's first paint, the database check,
   then the scheduler, unless a background scheduler (``milton-desktop run``) holds
   the database's lock: then this window only shows, and says who publishes;
7. the event loop; on Quit, stop claiming work, let in-flight publishes finish
   (bounded), release the lock and close the database.

``QT_QPA_PLATFORM`` is left alone: the user's desktop chooses the platform.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from milton_desktop import APP_ID, APP_NAME, __version__
from milton_desktop.domain.status import Status

if TYPE_CHECKING:
    import argparse
    from types import SimpleNamespace

log = logging.getLogger("milton.app")

#: the scheduler's watchdog interval in the window app (the precise timer does the rest)
WATCHDOG_S = 60.0
#: how long Quit waits for publishes already sent to finish
STOP_TIMEOUT_S = 20.0
#: set by bench/bench_startup.py: report the moment the window is shown, then quit
STARTUP_PROBE_ENV = "MILTON_STARTUP_PROBE"
#: how often a window without the scheduler checks whether it may take it over
LOCK_RETRY_MS = 30_000


@dataclass
class Session:
    """Everything the running app owns, so shutdown can undo it in order."""

    app: Any
    ctx: Any
    instance: Any
    lock: Any
    owns_lock: bool
    undo_stack: Any
    window: Any = None
    tray: Any = None
    runner: Any = None
    cleanups: list[Callable[[], None]] = field(default_factory=list)


class _Opening:
    """The data folder opened and this month read on a worker thread, started once the
    first frame is shown: the main thread meanwhile paints the frame and imports and builds
    the window, and SQLite's reading (a tenth of a second at 100 000 posts) leaves
    Python's lock to it. The worker's own database connection closes when it is done;
    the main thread's opens on its first query."""

    def __init__(
        self,
        home: str | None,
        verbose: bool,
        log_file: Any,
        *,
        database: str | None = None,
        member: str | None = None,
    ) -> None:
        self._home, self._verbose, self._log_file = home, verbose, log_file
        self._database, self._member = database, member
        self._opened = threading.Event()
        self._read = threading.Event()
        self._ctx: Any = None
        self._error: BaseException | None = None
        self._month: Any = None
        threading.Thread(target=self._run, name="milton-opening", daemon=True).start()

    def _run(self) -> None:
        try:
            from milton_desktop.context import open_context

            self._ctx = open_context(
                self._home,
                verbose=self._verbose,
                allow_memory_tokens=True,
                check_integrity=False,
                log_file=self._log_file,
                database=self._database,
                member=self._member,
            )
        except BaseException as exc:  # given to the main thread, which says it
            self._error = exc
            self._opened.set()
            self._read.set()
            return
        self._opened.set()
        from milton_desktop.storage.db import close_database

        try:
            from milton_desktop.ui.calendar.ranges import read_first_month

            self._month = read_first_month()
        except Exception as exc:  # the pane reads it again itself, and says what failed
            log.warning("could not read the month ahead: %s", exc)
        finally:
            close_database()  # this thread's connection only
            self._read.set()

    def context(self) -> Any:
        """The opened context (on the main thread); raises what opening raised."""
        self._opened.wait()
        if self._error is not None:
            raise self._error
        from milton_desktop.storage.db import close_database

        # connections are per thread: one this thread had open before (a test's, an
        # earlier window's in the same process) would still be on the old file
        close_database()
        return self._ctx

    def first_month(self) -> Any:
        """The month read ahead (its key and rows), or None if the read failed."""
        self._read.wait()
        return self._month


def _qt_message_handler(mode: Any, context: Any, message: str) -> None:
    # Qt's own warnings (fonts, platform plugins) belong in the log file, not on a lost stderr.
    from PySide6.QtCore import QtMsgType

    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(mode, logging.WARNING)
    logging.getLogger("milton.qt").log(level, "%s", message)


def _engine_config() -> Any:
    from milton_desktop.engine.machine import EngineConfig
    from milton_desktop.storage import settings

    return EngineConfig(
        grace=timedelta(minutes=float(settings.get("grace_minutes"))),
        max_attempts=int(settings.get("max_attempts")),
    )


def _start_runner(session: Session) -> None:
    from milton_desktop.engine.machine import Engine
    from milton_desktop.engine.runner import Runner

    engine = Engine(session.ctx.credentials, config=_engine_config())
    session.runner = Runner(engine, interval_s=WATCHDOG_S, parent=session.app)
    if session.window is not None:
        session.window.set_runner(session.runner)
    if session.tray is not None:
        session.tray.set_runner(session.runner)
    session.runner.start()


def _start_scheduler(session: Session) -> None:
    """Take the database's scheduler lock and publish from here, or follow the
    background scheduler that holds it (and take over when it stops)."""
    from PySide6.QtCore import QTimer

    from milton_desktop.engine.runner import SchedulerLock

    window, tray, app = session.window, session.tray, session.app
    lock = SchedulerLock(session.ctx.paths.data_dir)
    session.lock = lock
    session.owns_lock = lock.acquire()
    window.scheduler_starting = False
    if session.owns_lock:
        _start_runner(session)
        return
    owner = lock.owner()
    log.info("a background scheduler holds the lock (%s): this window will not publish", owner)
    window.set_runner(None, owner)
    tray.set_runner(None, owner)
    # When the background scheduler stops, this window takes over publishing.
    retry = QTimer(app)
    retry.setObjectName("milton-lock-retry")
    retry.setInterval(LOCK_RETRY_MS)

    def on_lock_retry_timeout() -> None:
        if lock.acquire():
            retry.stop()
            session.owns_lock = True
            log.info("the background scheduler stopped: this window publishes now")
            _start_runner(session)
            window.statusBar().showMessage(
                "The background scheduler stopped: this window publishes your posts now",
                10_000,
            )

    retry.timeout.connect(on_lock_retry_timeout)
    retry.start()


def _install_signal_handlers(session: Session) -> None:
    """SIGINT/SIGTERM quit like the Quit menu (in-flight publishes still finish)."""
    if threading.current_thread() is not threading.main_thread():
        return
    from milton_desktop.engine.runner import install_quit_signals

    def on_signal(signum: int) -> None:
        log.info("signal %s received: quitting", signum)
        session.window.request_quit()

    restore = install_quit_signals(on_signal, session.app)
    session.cleanups.append(restore)


def run_app(args: argparse.Namespace | SimpleNamespace) -> int:
    """Open the window (or hand over to the one already open); returns the exit code."""
    from PySide6.QtCore import QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from milton_desktop.logsetup import setup_logging
    from milton_desktop.paths import resolve_paths

    home = getattr(args, "home", None)
    verbose = bool(getattr(args, "verbose", False))
    minimized = bool(getattr(args, "minimized", False))
    database = getattr(args, "database", None)
    member = getattr(args, "member", None)

    # 1. Folders and logging, first, so every later step can be logged.
    paths = resolve_paths(home).ensure()
    log_file = setup_logging(paths.log_dir, verbose=verbose)
    log.info("starting %s %s (data in %s)", APP_NAME, __version__, paths.data_dir)

    # 2. The application object.
    previous_handler = qInstallMessageHandler(_qt_message_handler)
    existing = QApplication.instance()
    if existing is None:
        app = QApplication(sys.argv[:1])
    elif isinstance(existing, QApplication):
        app = existing
    else:
        raise RuntimeError(f"{APP_NAME} needs a QApplication, not a {type(existing).__name__}")
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("Milton")
    app.setOrganizationDomain("milton-desktop.app")
    app.setDesktopFileName(APP_ID)  # Wayland and task bars match the .desktop entry by it
    app.setWindowIcon(_app_icon())
    from milton_desktop.ui import indicators

    indicators.install(app)  # check boxes that stay visible on a dark desktop
    log.info("Qt platform: %s", app.platformName())

    # 3. Single instance: hand over to a running window of the same data folder.
    from milton_desktop.ui.shell.single_instance import SingleInstance, server_name

    instance = SingleInstance(server_name(paths.db_path), app)
    if instance.try_hand_off({"cmd": "noop" if minimized else "show"}):
        log.info("%s is already running for this data folder; it was asked to show", APP_NAME)
        print(f"{APP_ID}: already running; its window was brought to the front", file=sys.stderr)
        qInstallMessageHandler(previous_handler)
        return 0
    # Answering from now on, before the first frame: a second start while this one is
    # still opening hands over to it instead of opening the same data folder twice.
    instance.listen()
    early: list[dict] = []

    def remember_early(message: dict) -> None:  # the window answers them once it exists
        early.append(message)

    instance.messageReceived.connect(remember_early)

    # 4. The first frame: the window's shell and an empty month, painted before the rest
    # of the app is imported (a window started in the tray has nothing to show early).
    from PySide6.QtWidgets import QSystemTrayIcon

    in_tray = minimized and QSystemTrayIcon.isSystemTrayAvailable()
    frame: Any = None
    opening: _Opening | None = None
    if not in_tray:
        from milton_desktop.ui.shell.frame import build_skeleton

        frame = build_skeleton(paths.data_dir)
        frame.show()
        log.info("window shown (opening the calendar)")
        if os.environ.get(STARTUP_PROBE_ENV):
            _report_shown()
        # started once the frame is shown: before, it would take Python's lock from it
        opening = _Opening(home, verbose, log_file, database=database, member=member)

    def open_window() -> Session | None:
        """Steps 5 to 7; None when the data folder cannot be opened (said already)."""
        from PySide6.QtGui import QUndoStack
        from PySide6.QtWidgets import QMessageBox

        # 5. Database and keyring store: opened on the first frame's worker while the
        # window's modules are imported here (without a frame, here). SQLite's quick check
        # reads every page (a tenth of a second at 100 000 posts): it runs on a worker after
        # the first paint, and the scheduler starts only once it passed.
        from milton_desktop.context import open_context
        from milton_desktop.storage.db import DatabaseError
        from milton_desktop.ui import icons
        from milton_desktop.ui.shell.main_window import MainWindow
        from milton_desktop.ui.shell.tray import Notice, TrayController

        try:
            if opening is not None:
                ctx = opening.context()
            else:
                ctx = open_context(
                    home,
                    verbose=verbose,
                    allow_memory_tokens=True,
                    check_integrity=False,
                    log_file=log_file,
                    database=database,
                    member=member,
                )
        except (DatabaseError, OSError) as exc:
            log.error("cannot open the data folder: %s", exc)
            QMessageBox.critical(frame, APP_NAME, f"{APP_NAME} cannot start.\n\n{exc}")
            return None
        session = Session(app, ctx, instance, None, False, QUndoStack(app))

        # 6. Window and tray.
        # the calendar first: the side panes fill right after its first paint; a skeleton
        # frame on screen becomes this window in place
        if frame is not None:
            window = MainWindow.adopt(
                frame,
                ctx,
                None,
                session.undo_stack,
                fill_panes=False,
                first_read=opening.first_month if opening is not None else None,
            )
        else:
            window = MainWindow(ctx, None, session.undo_stack, fill_panes=False)
        tray = TrayController(None, window, icons.tray_icon, app)
        session.window, session.tray = window, tray
        window.set_tray_available(tray.available)
        window.scheduler_starting = True
        window.refresh_status()
        app.setQuitOnLastWindowClosed(not tray.available)

        window.quitRequested.connect(app.quit)
        window.backgroundOutcome.connect(tray.show_outcome)
        window.teamWarnings.connect(tray.show_team_warnings)
        window.activated.connect(tray.clear_attention)
        window.pausedChanged.connect(lambda _paused: tray.refresh())
        tray.pausedChanged.connect(lambda _paused: window.sync_paused())
        window.trayHintRequested.connect(
            lambda: tray.show_hint(
                f"{APP_NAME} is still running",
                "It keeps publishing your scheduled posts from here. "
                "To stop it, choose Quit in this icon's menu.",
            )
        )

        def on_instance_message_received(message: dict) -> None:
            if message.get("cmd") == "show":
                window.bring_to_front()

        instance.messageReceived.disconnect(remember_early)
        instance.messageReceived.connect(on_instance_message_received)
        for message in early:
            on_instance_message_received(message)

        def on_keyring_checked(result: tuple[bool, str]) -> None:
            keyring_ok, keyring_backend = result
            log.info(
                "keyring backend: %s (%s)",
                keyring_backend,
                "secure" if keyring_ok else "NOT secure",
            )
            if keyring_ok:
                return
            fix = (
                "install and unlock a Secret Service keyring (GNOME Keyring or KWallet, "
                "for example with: apt install gnome-keyring) in your desktop session"
                if sys.platform.startswith("linux")
                else "make sure the system keychain is available to this user"
            )
            window.notify(
                Notice(
                    "info",
                    "No secure keyring: account tokens last only until you quit",
                    f"Accounts you connect now must be reconnected after a restart. To keep them, "
                    f"{fix}, then restart {APP_NAME}. (Keyring in use: {keyring_backend})",
                    level="warning",
                )
            )

        if not tray.available and not window.ui_state.value("hints/no-tray", False, type=bool):
            window.ui_state.setValue("hints/no-tray", True)
            window.notify(
                Notice(
                    "info",
                    "No system tray on this desktop",
                    f"{APP_NAME} publishes only while this window is open: closing it quits. "
                    "To publish with the window closed, run `milton-desktop run` in the background.",
                )
            )

        def after_first_paint() -> None:
            if not window.isVisible():
                window.fill_panes()  # started in the tray: no paint to wait for
            else:  # filled on the calendar's first paint; this only bounds the wait
                QTimer.singleShot(1000, window.fill_panes)
            from milton_desktop.storage.credentials import backend_is_secure
            from milton_desktop.storage.db import check_integrity
            from milton_desktop.ui.tasks import run_in_background

            def on_checked(_result: object) -> None:
                # with the engine, which the scheduler imports now anyway: importing it for
                # the signal hook before the first paint cost ~40 ms (a signal before this
                # ends the process as it would any Qt app)
                _install_signal_handlers(session)
                _start_scheduler(session)
                # Loading the keyring backends takes a while and may block on D-Bus.
                run_in_background(backend_is_secure, parent=window, on_success=on_keyring_checked)
                if not (minimized and tray.available):
                    window.check_missed_on_start()
                from milton_desktop.domain import twittertext

                # the editor's first keystroke should not compile the counting patterns
                run_in_background(twittertext.warm_up, parent=window)

            def on_damaged(exc: Exception) -> None:
                log.error("the database failed its check: %s", exc)
                QMessageBox.critical(window, APP_NAME, f"{APP_NAME} cannot go on.\n\n{exc}")
                app.exit(1)

            run_in_background(
                lambda: check_integrity(ctx.paths.db_path),
                parent=window,
                on_success=on_checked,
                on_failure=on_damaged,
            )

        # 7. Show, or stay in the tray; the rest of start-up follows the first paint.
        tray.show()
        missed = window.check_missed_on_start() if minimized and tray.available else []
        QTimer.singleShot(0, after_first_paint)
        if minimized and tray.available:
            log.info("started minimized to the tray")
            if missed:
                tray.set_attention(True)
                tray.notify(
                    Notice(
                        Status.MISSED,
                        f"{len(missed)} posts missed their time"
                        if len(missed) > 1
                        else "A post missed its time",
                        "Open Milton Desktop to publish, reschedule or skip them.",
                        level="warning",
                        schedule_ids=tuple(missed),
                    )
                )
        else:
            if minimized:
                log.warning("--minimized ignored: there is no system tray to start in")
            window.show()
            log.info("window shown" if frame is None else "window filled in")
            if os.environ.get(STARTUP_PROBE_ENV):
                if frame is None:
                    _report_shown()
                _report_month_painted_and_quit(app, window.calendar.month_view)
        return session

    sessions: list[Session] = []

    def on_frame_painted() -> None:
        session = open_window()
        if session is None:
            app.exit(1)
        else:
            sessions.append(session)

    if frame is None:
        session = open_window()
        if session is None:
            qInstallMessageHandler(previous_handler)
            return 1
        sessions.append(session)
    else:
        # the rest comes on the next turns of the loop, once the frame is painted
        _after_paint(frame.skeleton.month, on_frame_painted)
    log.info("start-up complete")
    try:
        return app.exec()
    finally:
        if sessions:
            _shutdown(sessions[0])
        else:
            instance.close()
        qInstallMessageHandler(previous_handler)


def run_self_test(home: str | None = None) -> int:
    """``--self-test``: the core checks plus Qt's (platform, icons)."""
    from milton_desktop import selftest
    from milton_desktop.ui.qt_checks import check_icons, check_qt

    return selftest.run_self_test(home, qt_checks=[("qt", check_qt), ("icons", check_icons)])


def _app_icon() -> Any:
    """The application icon from its PNGs (cheap), or drawn by ``ui.icons`` when a
    size is missing (an unusual install)."""
    from PySide6.QtGui import QIcon, QPixmap

    from milton_desktop import resources

    icon = QIcon()
    for size in resources.APP_ICON_SIZES:
        pixmap = QPixmap(str(resources.app_icon_png(size)))
        if pixmap.isNull():
            from milton_desktop.ui import icons

            return icons.app_icon()
        icon.addPixmap(pixmap)
    return icon


def _after_paint(widget: Any, then: Callable[[], None], *, fallback_ms: int = 500) -> None:
    """Call ``then`` once, on the loop turn after ``widget``'s first paint (or after
    ``fallback_ms`` if it never paints: a hidden or unmapped window)."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    done: list[bool] = []

    def once() -> None:
        if not done:
            done.append(True)
            then()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                widget.removeEventFilter(self)
                # runs once the paint this event starts has completed
                QTimer.singleShot(0, once)
            return False

    widget.installEventFilter(FirstPaint(widget))
    QTimer.singleShot(fallback_ms, once)


def _report_shown() -> None:
    """For bench/bench_startup.py: the window is on screen (its first frame)."""
    import time

    print(f"startup-shown {time.time():.6f}", flush=True)


def _report_month_painted_and_quit(app: Any, month_view: Any) -> None:
    """For bench/bench_startup.py: print when the month view's first paint (the month
    with its posts) completed, then quit normally."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer

    def painted() -> None:
        print(f"startup-month-painted {time.time():.6f}", flush=True)
        app.quit()

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                month_view.removeEventFilter(self)
                # runs once the paint this event starts has completed
                QTimer.singleShot(0, painted)
            return False

    probe = FirstPaint(month_view)
    month_view.installEventFilter(probe)
    # a window that never paints its month still ends the probe
    QTimer.singleShot(10_000, app.quit)


def _shutdown(session: Session) -> None:
    """Undo start-up in reverse; each step is bounded so Quit never hangs."""
    from milton_desktop.storage.db import close_database

    log.info("shutting down")
    if session.tray is not None:
        session.tray.hide()
    if session.window is not None:
        session.window.hide()
        session.window.stop_live()
    if session.runner is not None:
        done = session.runner.stop(STOP_TIMEOUT_S)
        if not done:
            log.warning("quit with publishes still in flight; they will be marked uncertain")
    if session.owns_lock and session.lock is not None:
        session.lock.release()
    session.instance.close()
    for cleanup in reversed(session.cleanups):
        cleanup()
    close_database()
    log.info("%s exited", APP_NAME)
