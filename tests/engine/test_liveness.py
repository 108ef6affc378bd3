"""Worker locks: alive while a process holds one, dead as soon as it ends however it
ends; no clock and no pid is consulted."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from milton_desktop.engine import liveness

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys
from pathlib import Path
from milton_desktop.engine.liveness import Lifeline
Lifeline(Path(sys.argv[1]), sys.argv[2]).hold()
print("holding", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of worker ``host:123:abc``."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "workers"), "host:123:abc"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)


def _dead(folder, worker):
    with liveness.if_dead(folder, worker) as dead:
        return dead


def test_a_worker_is_alive_while_its_process_lives_and_dead_once_killed(tmp_path, holder):
    folder = tmp_path / "workers"
    assert _dead(folder, "host:123:abc") is False
    assert _dead(folder, "host:123:abc") is False  # looking changes nothing
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert _dead(folder, "host:123:abc") is True
    # the dead worker's file went with the look
    assert list(folder.iterdir()) == []


def test_a_worker_that_left_no_lock_file_is_dead(tmp_path):
    assert _dead(tmp_path / "workers", "host:1:from-before-the-upgrade") is True
    assert _dead(tmp_path / "workers", None) is True


def test_two_lifelines_in_one_process_are_told_apart(tmp_path):
    folder = tmp_path / "workers"
    mine = liveness.Lifeline(folder, "host:5:one")
    mine.hold()
    mine.hold()  # idempotent
    assert _dead(folder, "host:5:one") is False
    if os.name == "posix":
        assert stat.S_IMODE(mine.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    mine.release()
    assert not mine.path.exists()
    assert _dead(folder, "host:5:one") is True


def test_sweep_removes_only_the_files_nobody_holds(tmp_path, holder):
    folder = tmp_path / "workers"
    left = liveness.lock_path(folder, "host:9:crashed")
    left.write_text("")
    mine = liveness.Lifeline(folder, "host:5:mine")
    mine.hold()
    assert liveness.sweep(folder) == 1
    assert not left.exists()
    assert mine.path.exists()
    assert liveness.lock_path(folder, "host:123:abc").exists()  # the other process's
    mine.release()


def test_worker_ids_become_safe_distinct_file_names():
    names = {
        liveness.worker_key(w)
        for w in ("host:1:a", "host_1_a", "hôst/..\\:1:a", "a" * 300 + ":1:a", "h:1:b")
    }
    assert len(names) == 5
    for name in names:
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
        assert len(name) <= 64
