"""Background work for the UI: run a function on a worker thread, get the result
back on the GUI thread through a signal (the shape of Anki's ``Op(...).success(...)``).

    run_in_background(lambda: slow_call(x), parent=self, on_success=..., on_failure=...)

Workers never touch widgets; callbacks run on the GUI thread. Database work in a
worker gets its own connection for the duration of the call, and work that writes
(``writes=True``) queues on one writer thread, so the window's writes never race
each other for the database lock (Anki's ``taskman`` pattern).

Every task belongs to a ``parent`` widget: when the parent is deleted, or (for a
dialog) finished, its pending results are dropped, so a closed dialog is never
touched by a late answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QDialog

from milton_desktop.storage.db import worker_connection

log = logging.getLogger("milton.ui")


class _Pending:
    """One task's way back: the widget it is for and its callbacks."""

    __slots__ = ("dropped", "on_failure", "on_success", "parent", "until_finished")

    def __init__(
        self,
        parent: QObject,
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[Exception], None] | None,
        *,
        until_finished: bool,
    ) -> None:
        self.parent = parent
        self.on_success = on_success
        self.on_failure = on_failure
        self.until_finished = until_finished
        self.dropped = False

    def wanted(self) -> bool:
        """Whether the result may still be delivered (parent alive, dialog not closed)."""
        return not self.dropped and shiboken6.isValid(self.parent)


class _Dispatcher(QObject):
    """Carries every task's result to the GUI thread.

    One object for the life of the process, not one per task: the window reads in the
    background all day, and an object per read would pile up under its widget (deleting
    each one after delivery races with the worker still returning from ``emit``).
    """

    delivered = Signal(int, bool, object)

    def __init__(self) -> None:
        super().__init__()
        self.pending: dict[int, _Pending] = {}
        self.next_id = 0
        self.watched_dialogs: set[int] = set()
        self.delivered.connect(self._deliver)

    def add(self, entry: _Pending) -> int:
        self.next_id += 1
        self.pending[self.next_id] = entry
        parent = entry.parent
        if (
            entry.until_finished
            and isinstance(parent, QDialog)
            and id(parent) not in self.watched_dialogs
        ):
            # one connection per dialog: closing it drops what its tasks still owe it. The
            # slots hold the dialog's id, not the dialog, which they would keep alive.
            key = id(parent)
            self.watched_dialogs.add(key)
            parent.finished.connect(lambda _result, k=key: self._drop_for(k))
            parent.destroyed.connect(lambda _obj=None, k=key: self.watched_dialogs.discard(k))
        return self.next_id

    def _drop_for(self, key: int) -> None:
        # an entry holds its parent, so no other live object has this id meanwhile
        for entry in self.pending.values():
            if id(entry.parent) == key and entry.until_finished:
                entry.dropped = True

    def _deliver(self, task_id: int, ok: bool, value: Any) -> None:
        entry = self.pending.pop(task_id, None)
        if entry is None:
            return
        if not entry.wanted():
            log.debug("background result dropped: its widget is gone or closed")
        elif ok:
            if entry.on_success is not None:
                entry.on_success(value)
        elif entry.on_failure is not None:
            entry.on_failure(value)
        else:
            log.error("background task failed: %s", value)


_dispatcher: _Dispatcher | None = None


def _the_dispatcher() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:  # made on the GUI thread (tasks are started there), so slots run there
        _dispatcher = _Dispatcher()
    return _dispatcher


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], dispatcher: _Dispatcher, task_id: int) -> None:
        super().__init__()
        self.fn = fn
        self.dispatcher = dispatcher
        self.task_id = task_id
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            with worker_connection():
                result = self.fn()
        except Exception as exc:  # handed to the GUI thread, which decides what to show
            self._emit(False, exc)
        else:
            self._emit(True, result)

    def _emit(self, ok: bool, value: Any) -> None:
        try:
            self.dispatcher.delivered.emit(self.task_id, ok, value)
        except RuntimeError:
            # The whole app is gone: nobody is left to tell.
            log.debug("background result dropped: the application is gone")


_writer: QThreadPool | None = None


def _writer_pool() -> QThreadPool:
    """One thread for every write the window makes: they run in the order asked."""
    global _writer
    if _writer is None:
        _writer = QThreadPool()
        _writer.setObjectName("miltonDatabaseWriter")
        _writer.setMaxThreadCount(1)
    return _writer


def run_in_background(
    fn: Callable[[], Any],
    *,
    parent: QObject,
    on_success: Callable[[Any], None] | None = None,
    on_failure: Callable[[Exception], None] | None = None,
    writes: bool = False,
    until_finished: bool = True,
    pool: QThreadPool | None = None,
) -> None:
    """Run ``fn`` on a worker thread; call back on the GUI thread with its result or error.

    Args:
        parent: the widget the result is for; nothing is delivered once it is gone.
        writes: ``fn`` changes the database: run it on the one writer thread.
        until_finished: a dialog parent that is closed gets no result (False keeps
            delivering until it is deleted, for a result the caller must see).
    """
    dispatcher = _the_dispatcher()
    task_id = dispatcher.add(
        _Pending(parent, on_success, on_failure, until_finished=until_finished)
    )
    chosen = pool or (_writer_pool() if writes else QThreadPool.globalInstance())
    chosen.start(_Task(fn, dispatcher, task_id))


_reader: QThreadPool | None = None


def reader_pool() -> QThreadPool:
    """The threads the window reads the database on (two: a visible range and a
    prefetch may run side by side), apart from the writer and from Qt's global pool."""
    global _reader
    if _reader is None:
        _reader = QThreadPool()
        _reader.setObjectName("miltonDatabaseReader")
        _reader.setMaxThreadCount(2)
    return _reader


class LatestRead(QObject):
    """Reads for one purpose (the calendar's range, the upcoming list): a new request
    supersedes the ones before it, whose results are dropped when they arrive.

    With ``background=False`` a request runs at once on the calling thread and calls
    back before it returns (a pane used on its own, outside the window).
    """

    def __init__(self, parent: QObject, *, background: bool = True) -> None:
        super().__init__(parent)
        self.background = background
        #: the number of the newest request; a result carrying an older one is stale
        self.generation = 0
        self._in_flight = False
        #: how many requests have answered, superseded ones included
        self.answered = 0

    def busy(self) -> bool:
        """Whether the newest request has not answered yet."""
        return self._in_flight

    def supersede(self) -> None:
        """Whatever was asked is no longer wanted (what it is for was shown otherwise)."""
        self.generation += 1
        self._in_flight = False

    def request(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[Exception], None],
    ) -> int:
        """Run ``fn``; ``on_success`` gets its result unless a newer request came since."""
        self.generation += 1
        generation = self.generation
        if not self.background:
            try:
                result = fn()
            except Exception as exc:  # shown by the caller, like a worker's failure
                on_failure(exc)
            else:
                on_success(result)
            return generation
        self._in_flight = True

        def done_ok(result: Any) -> None:
            self.answered += 1
            if generation != self.generation:
                log.debug("a superseded read's result was dropped")
                return
            self._in_flight = False
            on_success(result)

        def done_err(exc: Exception) -> None:
            self.answered += 1
            if generation != self.generation:
                return
            self._in_flight = False
            on_failure(exc)

        run_in_background(
            fn, parent=self, on_success=done_ok, on_failure=done_err, pool=reader_pool()
        )
        return generation
