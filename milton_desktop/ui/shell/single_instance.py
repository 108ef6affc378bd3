"""One window per data folder: a second start hands its request to the first and exits.

The protocol (qutebrowser's ``misc/ipc.py`` shape) is one JSON object per line, UTF-8,
carrying a protocol version::

    client → server   {"v": 1, "cmd": "show"}\\n
    server → client   {"v": 1, "ok": true}\\n

The server answers only after it has accepted the message, so ``try_hand_off`` can
tell a living instance from a stale socket or a hung one. Anything that is not a
well-formed line of the current version is logged and dropped, and the connection
closed: a stray program writing to the socket cannot crash the app.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("milton.ipc")

PROTOCOL_VERSION = 1

#: a request line longer than this is not ours; drop it rather than buffer it
MAX_LINE_BYTES = 64 * 1024

#: how long a connected client may take to send its line
_CLIENT_TIMEOUT_MS = 5000


def server_name(db_path: Path | str) -> str:
    """The local socket name for one database, and one user.

    The user is part of the hash because on Unix the socket lives in a shared temp
    folder, and two users' instances must never find each other.
    """
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or passwd
        user = "unknown"
    resolved = str(Path(db_path).expanduser().resolve())
    digest = hashlib.sha256(f"{user}\0{resolved}".encode()).hexdigest()[:12]
    return f"milton-desktop-{digest}"


def encode(message: dict[str, Any]) -> bytes:
    """One protocol line for ``message`` (the version is added)."""
    return json.dumps({**message, "v": PROTOCOL_VERSION}, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any] | None:
    """The message in one line, or None when it is not a valid line of our protocol."""
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != PROTOCOL_VERSION:
        return None
    return data


class SingleInstance(QObject):
    """The local server of the running instance, and the client of a second start."""

    #: a request from another start of the app, e.g. ``{"v": 1, "cmd": "show"}``
    messageReceived = Signal(dict)

    def __init__(self, name: str, parent: QObject | None = None, *, timeout_ms: int = 2000) -> None:
        super().__init__(parent)
        self.name = name
        self.timeout_ms = timeout_ms
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    # ------------------------------------------------------------ client side
    def try_hand_off(self, message: dict[str, Any]) -> bool:
        """Send ``message`` to a running instance; True when it acknowledged it.

        Blocking, with a bounded wait: it runs before this process has an event loop.
        """
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(self.timeout_ms):
            # The usual case: nobody is listening (or a stale socket file is left).
            log.debug("no running instance on %s (%s)", self.name, socket.errorString())
            return False
        try:
            socket.write(encode(message))
            if not socket.waitForBytesWritten(self.timeout_ms):
                log.warning("a running instance did not take the request: %s", socket.errorString())
                return False
            reply = b""
            while b"\n" not in reply and len(reply) < MAX_LINE_BYTES:
                if not socket.bytesAvailable() and not socket.waitForReadyRead(self.timeout_ms):
                    break
                reply += bytes(socket.readAll().data())
            answer = decode(reply.split(b"\n", 1)[0])
            if answer is None or not answer.get("ok"):
                log.warning("the running instance on %s did not acknowledge the request", self.name)
                return False
            log.info("handed %s to the running instance", message.get("cmd"))
            return True
        finally:
            socket.disconnectFromServer()
            socket.close()

    # ------------------------------------------------------------ server side
    def listen(self) -> bool:
        """Start answering later starts; False (and logged) when the name cannot be taken."""
        # A crashed instance leaves its socket file behind, which would block listen().
        QLocalServer.removeServer(self.name)
        server = QLocalServer(self)
        server.setObjectName("milton-ipc-server")
        # Only this user may connect (the socket is in a shared temp folder on Unix).
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning(
                "cannot listen on %s (%s): a second start will open a second window",
                self.name,
                server.errorString(),
            )
            return False
        server.newConnection.connect(self._on_server_new_connection)
        self._server = server
        log.debug("listening for other starts on %s", server.fullServerName())
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def _on_server_new_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            # A client that connects and says nothing must not hold a socket forever.
            timer = QTimer(socket)
            timer.setObjectName("milton-ipc-client-timeout")
            timer.setSingleShot(True)
            timer.timeout.connect(lambda s=socket: self._drop(s))
            timer.start(_CLIENT_TIMEOUT_MS)
            socket.readyRead.connect(lambda s=socket: self._on_socket_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._on_socket_disconnected(s))
            if socket.bytesAvailable():
                self._on_socket_ready_read(socket)

    def _on_socket_ready_read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        data = self._buffers[socket] + bytes(socket.readAll().data())
        if b"\n" not in data:
            if len(data) > MAX_LINE_BYTES:
                log.warning("dropping an over-long request on the instance socket")
                self._drop(socket)
            else:
                self._buffers[socket] = data
            return
        line = data.split(b"\n", 1)[0]
        message = decode(line)
        if message is None or not isinstance(message.get("cmd"), str):
            log.warning("ignoring a malformed request on the instance socket: %r", line[:80])
            self._drop(socket)
            return
        log.info("request from another start: %s", message["cmd"])
        socket.write(json.dumps({"v": PROTOCOL_VERSION, "ok": True}).encode() + b"\n")
        socket.flush()
        self._buffers.pop(socket, None)
        socket.disconnectFromServer()
        self.messageReceived.emit(message)

    def _on_socket_disconnected(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _drop(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.abort()
