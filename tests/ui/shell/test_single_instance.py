"""One window per data folder: the hand-off over QLocalSocket, and a server that
shrugs off whatever else writes to its socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from milton_desktop.ui.shell.single_instance import (
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    SingleInstance,
    decode,
    encode,
    server_name,
)

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def name(tmp_path):
    return server_name(tmp_path / "milton.sqlite3")


@pytest.fixture
def server(qtbot, name):
    instance = SingleInstance(name)
    assert instance.listen()
    yield instance
    instance.close()


def _hand_off_in_child(name: str, message: dict) -> subprocess.Popen:
    """A second start, in its own process, as a user would make it."""
    code = (
        "import sys, json\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from milton_desktop.ui.shell.single_instance import SingleInstance\n"
        "app = QCoreApplication([])\n"
        f"print(SingleInstance({name!r}, timeout_ms=5000).try_hand_off(json.loads(sys.argv[1])))\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(message)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _raw_client(name: str, data: bytes) -> QLocalSocket:
    client = QLocalSocket()
    client.connectToServer(name)
    assert client.waitForConnected(2000)
    client.write(data)
    client.flush()
    return client


def test_server_name_is_per_database_and_stable(tmp_path):
    a = server_name(tmp_path / "a" / "milton.sqlite3")
    assert a == server_name(tmp_path / "a" / "milton.sqlite3")
    assert a != server_name(tmp_path / "b" / "milton.sqlite3")
    assert a.startswith("milton-desktop-") and len(a) <= 40  # short: Unix socket paths are limited


def test_protocol_lines_carry_the_version():
    line = encode({"cmd": "show"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"cmd": "show", "v": PROTOCOL_VERSION}
    assert decode(line.rstrip()) == {"cmd": "show", "v": PROTOCOL_VERSION}
    assert decode(b'{"v": 999, "cmd": "show"}') is None
    assert decode(b"[1, 2]") is None
    assert decode(b"\xff\xfe") is None


def test_nobody_listening_means_no_hand_off(qtbot, name):
    started = time.monotonic()
    assert SingleInstance(name, timeout_ms=500).try_hand_off({"cmd": "show"}) is False
    assert time.monotonic() - started < 2


def test_hand_off_round_trip_from_another_process(qtbot, server, name):
    with qtbot.waitSignal(server.messageReceived, timeout=10_000) as blocker:
        child = _hand_off_in_child(name, {"cmd": "show"})
    assert blocker.args[0] == {"v": PROTOCOL_VERSION, "cmd": "show"}
    qtbot.waitUntil(lambda: child.poll() is not None, timeout=10_000)
    out, err = child.communicate()
    assert child.returncode == 0, err
    assert out.strip() == "True"  # the second start knows it was taken and may exit


@pytest.mark.parametrize(
    "garbage",
    [
        b"hello there\n",
        b'{"cmd": "show"}\n',  # no protocol version
        b'{"v": 2, "cmd": "show"}\n',  # a future protocol
        b'{"v": 1, "cmd": 42}\n',
        b'["v", 1]\n',
        b"\xff\xfe\x00garbage\n",
    ],
)
def test_garbage_is_dropped_and_the_server_keeps_working(qtbot, server, name, garbage):
    with qtbot.assertNotEmitted(server.messageReceived, wait=200):
        client = _raw_client(name, garbage)
        qtbot.waitUntil(
            lambda: client.state() == QLocalSocket.LocalSocketState.UnconnectedState, timeout=3000
        )
    # The next, well-formed request is still answered.
    with qtbot.waitSignal(server.messageReceived, timeout=3000) as blocker:
        good = _raw_client(name, encode({"cmd": "show"}))
    assert blocker.args[0]["cmd"] == "show"
    qtbot.waitUntil(
        lambda: good.bytesAvailable() > 0 or good.state() != good.LocalSocketState.ConnectedState
    )
    good.abort()


def test_an_endless_line_is_cut_off(qtbot, server, name):
    with qtbot.assertNotEmitted(server.messageReceived, wait=200):
        client = _raw_client(name, b"x" * (MAX_LINE_BYTES + 10))
        qtbot.waitUntil(
            lambda: client.state() == QLocalSocket.LocalSocketState.UnconnectedState, timeout=3000
        )


def test_listen_takes_over_a_stale_socket_from_a_crashed_instance(qtbot, name):
    # Make the socket file a crashed instance leaves behind: bound, never unlinked.
    probe = QLocalServer()
    assert probe.listen(name)
    path = probe.fullServerName()
    probe.close()
    if sys.platform.startswith("linux") or sys.platform == "darwin":
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)
        stale.close()  # the file stays: exactly what a crash leaves
        assert os.path.exists(path)
    instance = SingleInstance(name)
    try:
        assert instance.listen()
        assert instance.listening
    finally:
        instance.close()


@pytest.mark.slow
def test_a_second_app_start_hands_off_to_the_first_and_exits(qtbot, tmp_path):
    """Two real app processes on one data folder: the second shows the first and leaves."""
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "MILTON_HOME": str(tmp_path / "app-home"),
    }
    env.pop("DISPLAY", None)
    stderr_path = tmp_path / "first.stderr"
    with stderr_path.open("w") as stderr:
        first = subprocess.Popen(
            [sys.executable, "-m", "milton_desktop"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        log = tmp_path / "app-home" / "logs" / "milton.log"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if log.exists() and "start-up complete" in log.read_text():
                break
            assert first.poll() is None, stderr_path.read_text()
            time.sleep(0.1)
        else:
            pytest.fail("the first instance did not finish starting")
        second = subprocess.run(
            [sys.executable, "-m", "milton_desktop"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stderr
        assert first.poll() is None  # the first one is still there
        text = log.read_text()
        assert "request from another start: show" in text
    finally:
        first.terminate()  # SIGTERM: the app quits like its Quit menu
        try:
            first.wait(timeout=30)
        except subprocess.TimeoutExpired:
            first.kill()
            raise
    assert first.returncode == 0, stderr_path.read_text()
    assert "Milton Desktop exited" in log.read_text()
