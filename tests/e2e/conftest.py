"""End-to-end fixtures: the real `milton-desktop` in subprocesses, a real keyring."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _keyring_works() -> str | None:
    probe = (
        "import keyring,sys\n"
        "kr=keyring.get_keyring()\n"
        "n=type(kr).__module__+'.'+type(kr).__name__\n"
        "kr.set_password('milton-desktop-probe','p','v'); kr.delete_password('milton-desktop-probe','p')\n"
        "print(n)\n"
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        return None
    name = out.stdout.strip()
    if out.returncode != 0 or (
        "SecretService" not in name and "macOS" not in name and "Windows" not in name
    ):
        return None
    return name


@pytest.fixture(scope="session")
def real_keyring_backend():
    name = _keyring_works()
    if name is None:
        pytest.skip(
            "no real keyring in this session: scripts/test.sh runs these tests with GNOME Keyring"
        )
    return name


class Cli:
    """Runs `python -m milton_desktop` with MILTON_HOME set, like a user's shell would."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "MILTON_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.env.pop("QT_QPA_PLATFORM", None)
        self.env["QT_QPA_PLATFORM"] = "offscreen"

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "milton_desktop", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=REPO,
            timeout=timeout,
        )

    def spawn(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "milton_desktop", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=REPO,
        )


@pytest.fixture
def cli(milton_home, real_keyring_backend):
    return Cli(milton_home)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class Lines:
    """A spawned process's stderr, read as it comes, so a test can wait for what the
    process says instead of sleeping."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.lines.append(line)

    def saying(self, words: str) -> list[str]:
        return [line for line in list(self.lines) if words in line]

    @property
    def text(self) -> str:
        """All read so far (all of it after :meth:`finish`)."""
        return "".join(list(self.lines))

    def finish(self, timeout: float = 90) -> str:
        """Wait for the process to end; returns its stdout."""
        self.proc.wait(timeout=timeout)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        self._thread.join(timeout=30)
        self.proc.stderr.close()
        return out
