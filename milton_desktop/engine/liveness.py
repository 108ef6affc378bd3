"""Which engines are alive, asked of the operating system instead of a clock.

Each engine that claims work holds an exclusive OS lock on a small file named after
its worker id, beside the database, for as long as it lives. The OS drops the lock
when the process ends, however it ends (SIGKILL, power cut of a remote share aside),
so "nobody holds this worker's lock" means "this worker can no longer be publishing":
no clock is read, so a second scheduler whose clock runs ahead cannot take over a
live publish, and a reused pid cannot pass for the dead process.

``flock`` on Linux and macOS (per open file, so two engines in one process are told
apart too), ``msvcrt.locking`` on Windows.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("milton.scheduler")

#: the folder (inside the data folder) holding one lock file per live engine
FOLDER = "workers"
_SUFFIX = ".lock"

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

    def _same_file(fd: int, path: Path) -> bool:
        return True  # Windows refuses to delete a file another handle has open

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)

    def _same_file(fd: int, path: Path) -> bool:
        """Whether ``path`` still names the file ``fd`` locked (a sweeper may have
        removed it between our open and our lock)."""
        try:
            named = os.stat(path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def hold(path: Path) -> int | None:
    """Take the lock on ``path`` (made when missing) without waiting: its descriptor,
    to give to :func:`let_go`, or None while another holder has it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if _try_lock(fd):
        return fd
    os.close(fd)
    return None


def let_go(fd: int) -> None:
    _unlock(fd)
    os.close(fd)


def worker_key(worker_id: str) -> str:
    """A file-name-safe, collision-free stand-in for a worker id (``host:pid:random``)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", worker_id)[:48]
    digest = hashlib.sha256(worker_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{safe}-{digest}"


def lock_path(folder: Path, worker_id: str) -> Path:
    return folder / f"{worker_key(worker_id)}{_SUFFIX}"


#: every lifeline this process holds, so a clean exit tidies their files
_held: weakref.WeakSet[Lifeline] = weakref.WeakSet()
_held_lock = threading.Lock()


def _holding() -> list[Lifeline]:
    with _held_lock:
        return list(_held)


class Lifeline:
    """This process's proof that one worker id is alive: held from the first claim on.

    Thread-safe; :meth:`hold` is idempotent and cheap once held.
    """

    def __init__(self, folder: Path, worker_id: str) -> None:
        self.folder = folder
        self.worker_id = worker_id
        self.path = lock_path(folder, worker_id)
        self._fd: int | None = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def hold(self) -> None:
        """Take the lock (creating its file) unless already held.

        Raises:
            OSError: the folder or file cannot be created or locked.
        """
        with self._mutex:
            if self._fd is not None:
                return
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for _ in range(1000):
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                # a sweeper may hold it for an instant, or have removed the file
                # between the open and the lock: then start again with a fresh file
                if _try_lock(fd):
                    if _same_file(fd, self.path):
                        self._fd = fd
                        with _held_lock:
                            _held.add(self)
                        return
                    _unlock(fd)
                os.close(fd)
                time.sleep(0.001)
            raise OSError(f"could not lock {self.path}: another process keeps taking it")

    def release(self) -> None:
        """Give the lock up and remove its file (the engine claims nothing any more)."""
        with self._mutex:
            fd, self._fd = self._fd, None
            if fd is None:
                return
            with _held_lock:
                _held.discard(self)
            _remove_locked(fd, self.path)


def _remove_locked(fd: int, path: Path) -> None:
    """Remove the lock file ``fd`` holds, then let it go. On POSIX the name goes first,
    so nobody ever finds the file unlocked; Windows cannot remove an open file."""
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            if _same_file(fd, path):
                path.unlink()
    _unlock(fd)
    os.close(fd)
    if sys.platform == "win32":
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def if_dead(folder: Path, worker_id: str | None) -> Iterator[bool]:
    """Yield whether ``worker_id`` is dead; while True, hold its lock, so its rows and
    its journal can be settled, and remove its lock file afterwards.

    A worker that left no lock file is dead: it ended and was tidied, or it ran a
    version from before these locks (its claims cannot be told alive from dead, and
    are treated as abandoned, as they were then after a restart).
    """
    if not worker_id:
        yield True
        return
    path = lock_path(folder, worker_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        yield True
        return
    except OSError as exc:  # cannot look: never take over what may be alive
        log.warning("cannot check whether worker %s is alive (%s); leaving it be", worker_id, exc)
        yield False
        return
    if not _try_lock(fd):
        os.close(fd)
        yield False
        return
    try:
        yield True
    finally:
        _remove_locked(fd, path)


def _others_opened(folder: Path) -> Iterator[tuple[Path, int]]:
    """Each lock file in ``folder`` but this process's own, opened (its path and
    descriptor; the caller closes or removes it)."""
    mine = {lifeline.path.name for lifeline in _holding()}
    try:
        names = [p for p in folder.iterdir() if p.name.endswith(_SUFFIX)]
    except FileNotFoundError:
        return
    for path in names:
        if path.name in mine:
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            continue
        yield path, fd


def sweep(folder: Path) -> int:
    """Remove the lock files of workers that ended without tidying (killed, crashed);
    returns how many. Those of workers alive, in any process, stay."""
    removed = 0
    for path, fd in _others_opened(folder):
        if not _try_lock(fd):
            os.close(fd)
            continue
        _remove_locked(fd, path)
        removed += 1
    return removed


def others_alive(folder: Path) -> int:
    """How many workers other than this process's own hold their lock: engines of
    other processes that may be publishing right now."""
    alive = 0
    for _path, fd in _others_opened(folder):
        try:
            if _try_lock(fd):
                _unlock(fd)
            else:
                alive += 1
        finally:
            os.close(fd)
    return alive


def _release_all() -> None:
    # at exit the worker threads have been joined: nothing of ours is publishing any more
    for lifeline in _holding():
        lifeline.release()


atexit.register(_release_all)
