"""A total deadline for one HTTP request, from the first connect to the last byte.

``requests`` only bounds each socket read: a server that sends its headers and then
one byte every 20 seconds never trips a 30-second read timeout, and holds the
publish (and the account's worker) forever. Here a watchdog thread cuts the
request's socket once its time is up, which makes the blocked read fail at once.
One watchdog thread serves every request of the process: starting a thread for
each request cost more than a request to a nearby server.

To reach the socket, a session's adapters make their connections through
:class:`_Connection`, which tells the calling thread's :class:`Watch` which
connection it is using. :func:`guard` mounts those adapters on any session.

The time a request gets (:func:`budget`) is :data:`DEADLINE` seconds plus what its
bytes need at :data:`MIN_RATE`: an API call has a minute, a 100 MB upload over a
slow line gets the time it needs, a trickle gets nothing extra.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

log = logging.getLogger("milton.publish")

#: seconds one request may take in all, before its bytes earn it more
DEADLINE = 60.0
#: overrides :data:`DEADLINE` (seconds); for slow links, and for tests of the deadline
DEADLINE_ENV = "MILTON_REQUEST_DEADLINE"
#: the slowest transfer still worth waiting for, in bytes per second (256 kbit/s)
MIN_RATE = 32 * 1024
# how often the watchdog looks again when the socket is not open yet, or the
# allowance grew while it slept
_RECHECK = 0.25

_active = threading.local()


def deadline() -> float:
    """:data:`DEADLINE`, or the number of seconds in ``MILTON_REQUEST_DEADLINE``."""
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    try:
        value = float(raw) if raw else DEADLINE
    except ValueError:
        return DEADLINE
    return value if 0 < value <= 24 * 3600 else DEADLINE


def budget(nbytes: int) -> float:
    """Seconds a request moving ``nbytes`` (sent or received) may take in all."""
    return deadline() + max(0, nbytes) / MIN_RATE


class Watch:
    """The clock of one request: cuts its connection once its allowance is spent.

    ``sent`` becomes True once the whole request has gone out, which is what
    decides whether a cut create may have posted. ``progress`` counts received
    bytes for a download, whose allowance grows with them (``grows_with_bytes``).
    """

    def __init__(self, allowance: float, *, grows_with_bytes: bool = False) -> None:
        self._allowance = allowance
        self._grows = grows_with_bytes
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._connection: Any = None
        self._done = False
        self._received = 0
        self.sent = False
        #: True once the watchdog cut the request: the error that follows is its doing
        self.expired = False
        self._outer: Watch | None = None

    # ------------------------------------------------------------ used by the request
    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection

    def progress(self, nbytes: int) -> None:
        with self._lock:
            self._received += nbytes

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    # ------------------------------------------------------------ the watchdog
    def _limit(self) -> float:
        return self._allowance + (self._received / MIN_RATE if self._grows else 0.0)

    def _arm(self, delay: float) -> None:
        _alarms.add(time.monotonic() + max(0.0, delay), self)

    @property
    def done(self) -> bool:
        return self._done

    def _check(self) -> None:
        with self._lock:
            if self._done:
                return
            left = self._limit() - self.elapsed()
            if left > 0:
                self._arm(max(left, 0.05))
                return
            sock = getattr(self._connection, "sock", None)
            if sock is None:  # still connecting (bounded by the connect timeout): look again
                self._arm(_RECHECK)
                return
            self.expired = True
        _cut(sock)

    def __enter__(self) -> Watch:
        self._outer = getattr(_active, "watch", None)
        _active.watch = self
        self._arm(self._allowance)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
            self._connection = None  # the watchdog may hold this watch a while yet
        _active.watch = self._outer


class _Alarms:
    """The watchdog thread: calls each watch's check at its time. A watch that ended
    stays queued until its time and is then dropped unchecked."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, when: float, watch: Watch) -> None:
        with self._cond:
            heapq.heappush(self._queue, (when, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="milton-request-deadline", daemon=True
                )
                self._thread.start()
            elif self._queue[0][2] is watch:
                self._cond.notify()  # earlier than what the thread sleeps for

    def _next(self) -> Watch:
        with self._cond:
            while True:
                while self._queue and self._queue[0][2].done:
                    heapq.heappop(self._queue)
                now = time.monotonic()
                if self._queue and self._queue[0][0] <= now:
                    return heapq.heappop(self._queue)[2]
                self._cond.wait(self._queue[0][0] - now if self._queue else None)

    def _run(self) -> None:
        while True:
            watch = self._next()
            try:
                watch._check()
            except Exception:  # one odd connection must not end every request's deadline
                log.exception("the request deadline check failed")


_alarms = _Alarms()


def _cut(sock: Any) -> None:
    """Shut the socket down both ways: a read blocked on it returns at once.

    The plain socket's ``shutdown`` is used even for TLS sockets: the TLS one would
    unwrap the session under the reading thread's feet.
    """
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        log.info("a request ran out of time; its connection was cut")


def body_size(kwargs: Mapping[str, Any]) -> int:
    """Roughly how many bytes ``requests`` will send for these keyword arguments."""
    total = 0
    data = kwargs.get("data")
    if data is not None:
        total += _size(data)
    if kwargs.get("json") is not None:
        total += 4096  # API payloads are small; the exact size does not matter here
    files = kwargs.get("files")
    if files:
        items = files.values() if isinstance(files, Mapping) else (v for _, v in files)
        for value in items:
            part = value[1] if isinstance(value, tuple) and len(value) > 1 else value
            total += _size(part)
    return total


def _size(value: Any) -> int:
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, str):
        return len(value.encode("utf-8", "surrogatepass"))
    if isinstance(value, Mapping):
        return sum(len(str(k)) + len(str(v)) + 2 for k, v in value.items())
    if isinstance(value, io.IOBase) or hasattr(value, "read"):
        with contextlib.suppress(OSError, AttributeError, ValueError):
            here = value.tell()
            end = value.seek(0, io.SEEK_END)
            value.seek(here)
            return max(0, end - here)
        with contextlib.suppress(OSError, AttributeError, ValueError, TypeError):
            return os.fstat(value.fileno()).st_size
    return 0


@contextlib.contextmanager
def watching(allowance: float, *, grows_with_bytes: bool = False) -> Iterator[Watch]:
    """Run the block under a :class:`Watch` the calling thread's requests report to."""
    with Watch(allowance, grows_with_bytes=grows_with_bytes) as watch:
        yield watch


# ---------------------------------------------------------------- the adapters

_adapter_class: type | None = None


def guard(session: requests.Session) -> None:
    """Make ``session``'s http and https requests reachable by a :class:`Watch`.

    Idempotent; a session given by a caller (tests, scripts) is guarded on first use.
    """
    cls = _adapter()
    for prefix in ("https://", "http://"):
        if not isinstance(session.adapters.get(prefix), cls):
            session.mount(prefix, cls())


def _adapter() -> type:
    """The adapter class, built on first use: requests and urllib3 load lazily."""
    global _adapter_class
    if _adapter_class is not None:
        return _adapter_class

    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class _Reporting:
        """Tells the thread's watch which connection carries its request."""

        def connect(self) -> None:
            _report(self)
            super().connect()  # type: ignore[misc]

        def request(self, *args: Any, **kwargs: Any) -> None:
            _report(self)
            super().request(*args, **kwargs)  # type: ignore[misc]
            watch = getattr(_active, "watch", None)
            if watch is not None:
                watch.sent = True

    class _Connection(_Reporting, HTTPConnection):
        pass

    class _TLSConnection(_Reporting, HTTPSConnection):
        pass

    class _Pool(HTTPConnectionPool):
        ConnectionCls = _Connection

    class _TLSPool(HTTPSConnectionPool):
        ConnectionCls = _TLSConnection

    pools = {"http": _Pool, "https": _TLSPool}

    class DeadlineAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):  # SOCKS pools are their own classes
                manager.pool_classes_by_scheme = pools
            return manager

    _adapter_class = DeadlineAdapter
    return DeadlineAdapter


def _report(connection: object) -> None:
    watch = getattr(_active, "watch", None)
    if watch is not None:
        watch.attach(connection)
