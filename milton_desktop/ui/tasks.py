"""Background work for the UI: run a function on a worker thread, get the result
back on the GUI thread through a signal (the shape of Anki's ``Op(...).success(...)``).

    run_in_background(lambda: slow_call(x), on_success=self._on_done, on_failure=self._on_error)

Workers never touch widgets; callbacks run on the GUI thread. Database work in a
worker gets its own connection for the duration of the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from milton_desktop.storage.models import database

log = logging.getLogger("milton.ui")


class _Relay(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn = fn
        self.relay = relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            with database.connection_context():
                result = self.fn()
        except Exception as exc:  # handed to the GUI thread, which decides what to show
            self._emit(self.relay.failed, exc)
        else:
            self._emit(self.relay.succeeded, result)

    @staticmethod
    def _emit(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The app is quitting and its objects are gone: nobody is left to tell.
            log.debug("background result dropped: the application is shutting down")


_live: set[_Relay] = set()


def run_in_background(
    fn: Callable[[], Any],
    *,
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[Exception], None] | None = None,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn`` on a worker thread; call back on the GUI thread with its result or error."""
    relay = _Relay()  # created on the calling (GUI) thread, so its slots run there
    _live.add(relay)

    def done_ok(result: Any) -> None:
        _live.discard(relay)
        if on_success is not None:
            on_success(result)

    def done_err(exc: Exception) -> None:
        _live.discard(relay)
        if on_failure is not None:
            on_failure(exc)
        else:
            log.error("background task failed: %s", exc)

    relay.succeeded.connect(done_ok)
    relay.failed.connect(done_err)
    (pool or QThreadPool.globalInstance()).start(_Task(fn, relay))
